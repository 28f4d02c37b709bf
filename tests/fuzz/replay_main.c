/*
 * tests/fuzz/replay_main.c - run a libFuzzer harness over saved inputs.
 *
 *   replay_<name> DIR|FILE...
 *
 * Every regular file in each directory (in name order, not recursing) and
 * every file named directly is passed to LLVMFuzzerTestOneInput once.  This
 * is how the corpora run as ctest cases in every build, gcc included, and how
 * a crash reproducer is replayed without libFuzzer.  A harness reports a
 * violated property by aborting; replay itself fails (exit 1) when an
 * argument cannot be read or a directory holds no file, so a missing or
 * emptied corpus is never a silent pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read all of path; NULL on error (errno set).  Empty files are valid. */
static uint8_t *read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        size_t cap = 0, n = 0;

        if (f == NULL)
                return NULL;
        for (;;) {
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 4096;
                        uint8_t *nbuf = realloc(buf, ncap);
                        if (nbuf == NULL)
                                goto fail;
                        buf = nbuf;
                        cap = ncap;
                }
                n += fread(buf + n, 1, cap - n, f);
                if (ferror(f))
                        goto fail;
                if (feof(f))
                        break;
        }
        fclose(f);
        *len = n;
        return buf;
fail:
        free(buf);
        fclose(f);
        return NULL;
}

static int replay_file(const char *path)
{
        size_t len;
        uint8_t *buf = read_file(path, &len);

        if (buf == NULL) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        /* a copy of exactly len bytes, so ASan catches over-reads */
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return 0;
}

static int skip_entry(const struct dirent *de)
{
        return de->d_name[0] != '.';
}

/* Replay every regular file in dir; the number replayed, or -1. */
static long replay_dir(const char *dir)
{
        struct dirent **names;
        long count = 0;
        int n = scandir(dir, &names, skip_entry, alphasort);

        if (n < 0) {
                fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                char path[4096];
                struct stat st;

                if (count >= 0 &&
                    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
                                     names[i]->d_name) < sizeof(path) &&
                    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (replay_file(path) != 0)
                                count = -1;
                        else
                                count++;
                }
                free(names[i]);
        }
        free(names);
        if (count == 0)
                fprintf(stderr, "replay: %s: no input files\n", dir);
        return count;
}

int main(int argc, char **argv)
{
        long total = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                long n;

                if (stat(argv[i], &st) != 0) {
                        fprintf(stderr, "replay: %s: %s\n", argv[i],
                                strerror(errno));
                        return 1;
                }
                if (S_ISDIR(st.st_mode))
                        n = replay_dir(argv[i]);
                else
                        n = replay_file(argv[i]) == 0 ? 1 : -1;
                if (n <= 0)
                        return 1;
                printf("replay: %s: %ld inputs\n", argv[i], n);
                total += n;
        }
        printf("replay: %ld inputs, no property violated\n", total);
        return 0;
}
