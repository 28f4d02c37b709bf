/*
 * daemon/ledger/ledger_map.c - letting go of the pages of data.mdb this
 * process holds mapped (docs/timebankd.md, map_resident_max).
 *
 * LMDB maps data.mdb read-only and shared (the ledger never sets
 * MDB_WRITEMAP): every page a reader or the writer has touched stays
 * mapped in this process until the map is unmapped.  The kernel counts
 * such a page in the process's resident and private memory (Private_Clean:
 * no other process maps it), although it is page cache, clean, and shared
 * with the file.  madvise(MADV_DONTNEED) over a shared file mapping only
 * removes this process's page table entries: the next access faults the
 * page back in from the page cache (or the file), with the file's current
 * contents, so it is safe under concurrent readers and the writer.  The
 * one hazard is the map moving under us (mdb_env_set_mapsize when the map
 * grows): the resize lock, held shared, keeps it in place, as it does for
 * read transactions.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ledger.h"
#include "ledger_int.h"

/* Which file the map is of: data.mdb's device and inode, and its path
 * (on an overlay file system /proc shows the inode of the layer below). */
struct map_file {
        struct stat st;
        char path[PATH_MAX];
};

static int map_file(struct ledger *l, struct map_file *m)
{
        char name[PATH_MAX + 16];
        mdb_filehandle_t fd;

        if (mdb_env_get_fd(l->env, &fd) != 0 || fstat(fd, &m->st) != 0)
                return -1;
        if (snprintf(name, sizeof(name), "%s/data.mdb", l->dir) >=
                (int)sizeof(name) ||
            realpath(name, m->path) == NULL)
                m->path[0] = '\0';
        return 0;
}

/* 1 if the maps line whose path starts at p (up to its newline) is m. */
static int map_is(const struct map_file *m, unsigned long long ino,
                  unsigned maj, unsigned mnr, const char *p)
{
        size_t n;

        if (ino == (unsigned long long)m->st.st_ino &&
            maj == major(m->st.st_dev) && mnr == minor(m->st.st_dev))
                return 1;
        p += strspn(p, " ");
        n = strcspn(p, "\n");
        return m->path[0] != '\0' && n == strlen(m->path) &&
               memcmp(p, m->path, n) == 0;
}

/*
 * Find the mapping of m's file in f (/proc/self/maps: LMDB maps data.mdb
 * once, its whole map_size) and its range.  0, or -1 if not found.
 */
static int map_find(FILE *f, const struct map_file *m, uintptr_t *start,
                    uintptr_t *end)
{
        char line[PATH_MAX + 256];
        while (fgets(line, sizeof(line), f) != NULL) {
                unsigned long long a, b, ino;
                unsigned maj, mnr;
                int at = 0;

                if (sscanf(line, "%llx-%llx %*s %*x %x:%x %llu%n", &a, &b, &maj,
                           &mnr, &ino, &at) == 5 &&
                    at > 0) {
                        if (map_is(m, ino, maj, mnr, line + at)) {
                                *start = (uintptr_t)a;
                                *end = (uintptr_t)b;
                                return 0;
                        }
                }
        }
        return -1;
}

enum ledger_err ledger_map_trim(struct ledger *l)
{
        struct map_file m;
        uintptr_t start, end;
        FILE *f;
        int rc;

        if (map_file(l, &m) != 0)
                return LEDGER_E_IO;
        /* shared: readers may go on (their pages fault back in); growth,
         * which moves the map, waits until the madvise is done */
        if (pthread_rwlock_rdlock(&l->resize_lock))
                return LEDGER_E_LMDB;
        if ((f = fopen("/proc/self/maps", "re")) == NULL) {
                LEDGER_MUST(pthread_rwlock_unlock(&l->resize_lock));
                return LEDGER_E_IO;
        }
        rc = map_find(f, &m, &start, &end);
        if (rc == 0 && madvise((void *)start, end - start, MADV_DONTNEED) != 0)
                rc = -1;
        LEDGER_MUST(pthread_rwlock_unlock(&l->resize_lock));
        if (fclose(f) != 0 || rc != 0)
                return LEDGER_E_IO;
        return LEDGER_OK;
}
