/*
 * Key files: modes whatever the umask, refusal to overwrite or follow
 * symlinks, group/other-readable secret files refused, one-line content,
 * round trips, and the keys of docs/keys.md written and read back.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "docvec.h"
#include "key.h"
#include "keyfile.h"
#include "note.h"

static char dir[512];
static char paths[64][1024];
static int npaths;

/* A path inside the test directory, remembered for clean-up. */
static const char *tpath(const char *name)
{
        size_t d = strlen(dir), n = strlen(name);

        if (npaths == 64 || d + 1 + n >= sizeof(paths[0]))
                exit(2);
        memcpy(paths[npaths], dir, d);
        paths[npaths][d] = '/';
        memcpy(paths[npaths] + d + 1, name, n + 1);
        return paths[npaths++];
}

static void put_file(const char *path, const char *data, size_t len,
                     mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        if (fd < 0 || write(fd, data, len) != (ssize_t)len ||
            fchmod(fd, mode) || close(fd) != 0) {
                perror(path);
                exit(2);
        }
}

static size_t get_file(const char *path, char *buf, size_t cap)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0 || (n = read(fd, buf, cap)) < 0 || close(fd) != 0) {
                perror(path);
                exit(2);
        }
        return (size_t)n;
}

static mode_t file_mode(const char *path)
{
        struct stat st;

        if (lstat(path, &st) != 0)
                return (mode_t)-1;
        return st.st_mode & 07777;
}

static void test_write_read(void)
{
        struct tb_skey *k = NULL, *back = NULL;
        struct tb_vkey pub, vback;
        const char *sec = tpath("log.key"), *pubp = tpath("log.pub");
        char want[TB_SKEY_MAX + 1], got[512];
        size_t wlen = 0;
        uint8_t sig[64];

        CHECK_ERR(tb_skey_generate("example.com/ledger", 18, &k), TB_OK);
        if (k == NULL)
                return;
        tb_skey_public(k, &pub);

        /* umask 0 would give 0666: the modes are set explicitly. */
        umask(0);
        CHECK_ERR(tb_keyfile_write_secret(sec, k), TB_OK);
        CHECK(file_mode(sec) == 0600);
        CHECK_ERR(tb_keyfile_write_public(pubp, &pub), TB_OK);
        CHECK(file_mode(pubp) == 0644);
        umask(0777);
        {
                const char *p2 = tpath("strict.pub");
                CHECK_ERR(tb_keyfile_write_public(p2, &pub), TB_OK);
                CHECK(file_mode(p2) == 0644);
        }
        umask(022);

        /* Content: the encoding and one newline. */
        CHECK_ERR(tb_skey_format(k, want, sizeof(want), &wlen), TB_OK);
        want[wlen++] = '\n';
        CHECK(get_file(sec, got, sizeof(got)) == wlen &&
              memcmp(got, want, wlen) == 0);
        CHECK_ERR(tb_vkey_format(&pub, want, sizeof(want), &wlen), TB_OK);
        want[wlen++] = '\n';
        CHECK(get_file(pubp, got, sizeof(got)) == wlen &&
              memcmp(got, want, wlen) == 0);
        sodium_memzero(want, sizeof(want));
        sodium_memzero(got, sizeof(got));

        /* Round trip. */
        CHECK_ERR(tb_keyfile_read_secret(sec, &back), TB_OK);
        CHECK_ERR(tb_keyfile_read_public(pubp, &vback), TB_OK);
        CHECK(tb_vkey_equal(&pub, &vback));
        if (back != NULL) {
                tb_skey_public(back, &vback);
                CHECK(tb_vkey_equal(&pub, &vback));
                CHECK_ERR(tb_skey_sign(back, (const uint8_t *)"m", 1, sig),
                          TB_OK);
                CHECK_ERR(tb_vkey_verify(&pub, (const uint8_t *)"m", 1, sig),
                          TB_OK);
        }
        tb_skey_free(back);

        /* No overwrite, of either kind; the file is left as it was. */
        CHECK_ERR(tb_keyfile_write_secret(sec, k), TB_E_EXISTS);
        CHECK_ERR(tb_keyfile_write_secret(pubp, k), TB_E_EXISTS);
        CHECK_ERR(tb_keyfile_write_public(pubp, &pub), TB_E_EXISTS);
        CHECK_ERR(tb_keyfile_read_public(pubp, &vback), TB_OK);
        CHECK(file_mode(pubp) == 0644);

        /* A group- or other-accessible secret key file is refused. */
        CHECK(chmod(sec, 0644) == 0);
        back = NULL;
        CHECK_ERR(tb_keyfile_read_secret(sec, &back), TB_E_FILE_MODE);
        CHECK(back == NULL);
        CHECK(chmod(sec, 0640) == 0);
        CHECK_ERR(tb_keyfile_read_secret(sec, &back), TB_E_FILE_MODE);
        CHECK(chmod(sec, 0604) == 0);
        CHECK_ERR(tb_keyfile_read_secret(sec, &back), TB_E_FILE_MODE);
        CHECK(chmod(sec, 0601) == 0);
        CHECK_ERR(tb_keyfile_read_secret(sec, &back), TB_E_FILE_MODE);
        CHECK(chmod(sec, 0400) == 0);
        CHECK_ERR(tb_keyfile_read_secret(sec, &back), TB_OK);
        tb_skey_free(back);
        back = NULL;

        /* Symlinks: never written through, never read for a secret. */
        {
                const char *ln = tpath("link.key"), *tgt = tpath("absent.key");
                CHECK(symlink(tgt, ln) == 0);
                CHECK_ERR(tb_keyfile_write_secret(ln, k), TB_E_EXISTS);
                CHECK(file_mode(tgt) == (mode_t)-1);
                CHECK(unlink(ln) == 0);
                CHECK(symlink(sec, ln) == 0);
                errno = 0;
                CHECK_ERR(tb_keyfile_read_secret(ln, &back), TB_E_IO);
                CHECK(errno == ELOOP);
                CHECK(back == NULL);
                /* A public key may be a symlink. */
                CHECK(unlink(ln) == 0);
                CHECK(symlink(pubp, ln) == 0);
                CHECK_ERR(tb_keyfile_read_public(ln, &vback), TB_OK);
        }

        /* Missing files and directories keep errno. */
        errno = 0;
        CHECK_ERR(tb_keyfile_read_secret(tpath("none.key"), &back), TB_E_IO);
        CHECK(errno == ENOENT);
        errno = 0;
        CHECK_ERR(tb_keyfile_write_secret(tpath("no/such/dir.key"), k),
                  TB_E_IO);
        CHECK(errno == ENOENT);
        /* A directory is not a key file. */
        errno = 0;
        CHECK_ERR(tb_keyfile_read_public(dir, &vback), TB_E_IO);
        CHECK(errno == EINVAL);
        tb_skey_free(k);
}

static void test_content(void)
{
        static const char skey[] =
            "PRIVATE+KEY+PeterNeumann+c74f20a3+"
            "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        static const char vkey[] =
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
            "LDE4izWy10TW";
        /* The key between pre and post; key 0 leaves it out. */
        static const struct {
                const char *pre, *post;
                int key;
                enum tb_err err, perr; /* secret file, public file */
        } v[] = {
            {"", "\n", 1, TB_OK, TB_OK},
            {"", "", 1, TB_OK, TB_OK}, /* the final newline is optional */
            {"", "\n\n", 1, TB_E_KEY_FORMAT, TB_E_KEY_FORMAT},
            {"", "\njunk", 1, TB_E_KEY_FORMAT, TB_E_KEY_FORMAT},
            {"", "\njunk\n", 1, TB_E_KEY_FORMAT, TB_E_KEY_FORMAT},
            {"", "\r\n", 1, TB_E_BASE64, TB_E_BASE64},
            {"", " ", 1, TB_E_BASE64, TB_E_BASE64},
            {" ", "", 1, TB_E_KEY_FORMAT, TB_E_KEY_NAME},
            {"\n", "", 1, TB_E_KEY_FORMAT, TB_E_KEY_FORMAT},
            {"", "", 0, TB_E_KEY_FORMAT, TB_E_KEY_FORMAT},
            {"\n", "", 0, TB_E_KEY_FORMAT, TB_E_KEY_FORMAT},
        };
        char buf[1024];
        struct tb_skey *k;
        struct tb_vkey vk;

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                char name[32];
                const char *p;
                int n;

                snprintf(name, sizeof(name), "s%zu.key", i);
                p = tpath(name);
                n = snprintf(buf, sizeof(buf), "%s%s%s", v[i].pre,
                             v[i].key ? skey : "", v[i].post);
                put_file(p, buf, (size_t)n, 0600);
                k = NULL;
                CHECK_ERR(tb_keyfile_read_secret(p, &k), v[i].err);
                CHECK((k != NULL) == (v[i].err == TB_OK));
                tb_skey_free(k);

                snprintf(name, sizeof(name), "p%zu.pub", i);
                p = tpath(name);
                n = snprintf(buf, sizeof(buf), "%s%s%s", v[i].pre,
                             v[i].key ? vkey : "", v[i].post);
                put_file(p, buf, (size_t)n, 0644);
                CHECK_ERR(tb_keyfile_read_public(p, &vk), v[i].perr);
        }
        /* Size cap: a line longer than any encoding. */
        memset(buf, 'A', sizeof(buf));
        put_file(tpath("long.key"), buf, TB_SKEY_MAX + 1, 0600);
        CHECK_ERR(tb_keyfile_read_secret(paths[npaths - 1], &k),
                  TB_E_KEY_FORMAT);
        put_file(tpath("long.pub"), buf, sizeof(buf), 0644);
        CHECK_ERR(tb_keyfile_read_public(paths[npaths - 1], &vk),
                  TB_E_KEY_FORMAT);
        /* A public key where a secret one is expected, and vice versa. */
        put_file(tpath("swap.key"), vkey, strlen(vkey), 0600);
        CHECK_ERR(tb_keyfile_read_secret(paths[npaths - 1], &k),
                  TB_E_KEY_FORMAT);
        put_file(tpath("swap.pub"), skey, strlen(skey), 0644);
        CHECK_ERR(tb_keyfile_read_public(paths[npaths - 1], &vk),
                  TB_E_KEY_FORMAT);
}

/* docs/keys.md: every key written to files and read back. */
static void test_docs(void)
{
        static struct docvec_set set;

        docvec_load(&set, "docs/keys.md");
        for (int i = 0; i < set.n; i++) {
                struct docvec *v = docvec_get(&set, set.v[i].name);
                const char *type = docvec_str(v, "type");
                char name[600], buf[512], want[512];
                size_t n;

                if (strcmp(type, "key") == 0) {
                        const char *sk = docvec_str(v, "skey");
                        const char *vk = docvec_str(v, "vkey");
                        struct tb_skey *k = NULL, *back = NULL;
                        struct tb_vkey pub, pback;
                        const char *sp, *pp;
                        snprintf(name, sizeof(name), "%s.key", v->name);
                        sp = tpath(name);
                        snprintf(name, sizeof(name), "%s.pub", v->name);
                        pp = tpath(name);
                        CHECK_ERR(tb_skey_parse(sk, strlen(sk), &k), TB_OK);
                        CHECK_ERR(tb_vkey_parse(vk, strlen(vk), &pub), TB_OK);
                        if (k == NULL)
                                continue;
                        CHECK_ERR(tb_keyfile_write_secret(sp, k), TB_OK);
                        CHECK_ERR(tb_keyfile_write_public(pp, &pub), TB_OK);
                        n = get_file(sp, buf, sizeof(buf));
                        snprintf(want, sizeof(want), "%s\n", sk);
                        CHECK(n == strlen(want) && memcmp(buf, want, n) == 0);
                        n = get_file(pp, buf, sizeof(buf));
                        snprintf(want, sizeof(want), "%s\n", vk);
                        CHECK(n == strlen(want) && memcmp(buf, want, n) == 0);
                        CHECK_ERR(tb_keyfile_read_secret(sp, &back), TB_OK);
                        CHECK_ERR(tb_keyfile_read_public(pp, &pback), TB_OK);
                        CHECK(tb_vkey_equal(&pub, &pback));
                        if (back != NULL) {
                                tb_skey_public(back, &pback);
                                CHECK(tb_vkey_equal(&pub, &pback));
                        }
                        tb_skey_free(k);
                        tb_skey_free(back);
                } else if (strcmp(type, "bad-vkey") == 0 ||
                           strcmp(type, "bad-skey") == 0) {
                        /* In a file, a bad key is just as bad. */
                        int sec = strcmp(type, "bad-skey") == 0;
                        const char *s = docvec_str(v, sec ? "skey" : "vkey");
                        struct tb_skey *k = NULL;
                        struct tb_vkey pub;
                        snprintf(name, sizeof(name), "%s", v->name);
                        const char *p = tpath(name);
                        put_file(p, s, strlen(s), sec ? 0600 : 0644);
                        if (sec)
                                CHECK(tb_keyfile_read_secret(p, &k) != TB_OK &&
                                      k == NULL);
                        else
                                CHECK(tb_keyfile_read_public(p, &pub) != TB_OK);
                } else if (strcmp(type, "note") == 0) {
                        /* The key read from a file signs the same note. */
                        struct docvec *kv =
                            docvec_get(&set, docvec_str(v, "key"));
                        struct tb_skey *k = NULL;
                        size_t tlen, nlen, len = 0;
                        uint8_t *text = docvec_hex(v, "text", &tlen);
                        uint8_t *note = docvec_hex(v, "note", &nlen);
                        uint8_t out[1024];
                        const char *sk = docvec_str(kv, "skey");
                        snprintf(name, sizeof(name), "%s.key", v->name);
                        const char *p = tpath(name);
                        put_file(p, sk, strlen(sk), 0600);
                        CHECK_ERR(tb_keyfile_read_secret(p, &k), TB_OK);
                        if (k != NULL)
                                CHECK_ERR(tb_note_sign(text, tlen, k, out,
                                                       sizeof(out), &len),
                                          TB_OK);
                        CHECK(len == nlen && memcmp(out, note, nlen) == 0);
                        tb_skey_free(k);
                        free(text);
                        free(note);
                } else {
                        fprintf(stderr, "vector %s: unknown type %s\n", v->name,
                                type);
                        CHECK(0);
                }
        }
        /* No docvec_unchecked() here: these vectors are reused to test key
         * files; test_key owns docs/keys.md and requires every field of
         * every vector to be read and compared there. */
        docvec_free(&set);
}

int main(void)
{
        const char *tmp = getenv("TMPDIR");
        int rc;

        if (sodium_init() < 0)
                return 2;
        snprintf(dir, sizeof(dir), "%s/test_keyfile.XXXXXX",
                 tmp != NULL && *tmp != 0 ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL) {
                perror(dir);
                return 2;
        }
        test_write_read();
        test_content();
        test_docs();
        rc = check_done("test_keyfile");
        for (int i = npaths - 1; i >= 0; i--)
                if (unlink(paths[i]) != 0 && errno != ENOENT)
                        perror(paths[i]);
        if (rmdir(dir) != 0) {
                perror(dir);
                rc = 1;
        }
        return rc;
}
