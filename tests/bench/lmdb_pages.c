/*
 * tests/bench/lmdb_pages.c - an LD_PRELOAD module for the benchmarks only:
 * which database each page LMDB writes to a ledger's data.mdb belongs to
 * (docs/performance.md, "Bytes written per entry: what the account rows
 * cost").  Never linked into a program; nothing installs it.
 *
 *   TB_PAGES_OUT=FILE LD_PRELOAD=build/tests/bench/liblmdb_pages.so \
 *       bench_ledger ...        (or timebank-bench, whose daemon inherits it)
 *
 * It wraps pwrite() and writev(), the two calls through which LMDB writes
 * pages and meta pages, and passes every call on unchanged.  A call on a
 * regular file named data.mdb is classified page by page from the page's
 * own bytes (LMDB's page header, then its nodes: key and value sizes, the
 * first bytes of the keys), against the layouts of docs/storage.md:
 *
 *   log          8-byte key, value beginning with the same 8 bytes (the
 *                record begins with its seq)
 *   hashes       8-byte key, 32-byte value
 *   checkpoints  8-byte key (the tree size), a text value with newlines
 *   accounts     printable key, 88-byte value
 *   history      u64 seq ‖ u8 len ‖ account: 9 + len bytes of key
 *   idem         49-byte key
 *   keys         32-byte key
 *   free         LMDB's free list (8-byte native transaction ids; its long
 *                values are overflow pages, counted here too)
 *   main         LMDB's main database (the names of the others)
 *   metadb       the ledger's `meta` database (a leaf with tree_size, root
 *                or version)
 *   meta         the meta page (a write shorter than a page, or P_META)
 *   other        anything else (meta, policy, reversed: rare)
 *
 * A branch page has keys only; it takes the database of its children (every
 * branch page LMDB writes has a child written in the same commit or before:
 * the database of every page number written is remembered).  A write on the
 * meta page ends a commit.  Commits are grouped up to the next one that
 * writes a checkpoint (bench_ledger: one commit per batch; timebankd: the
 * entries' commit, then the checkpoint's), and each group becomes one line
 * of FILE.PID at exit (kept in memory until then, so the writes measured
 * are not mixed with ours):
 *
 *   tree_size commits meta main free log hashes checkpoints accounts
 *       history idem keys metadb other
 *
 * in bytes per database, tree_size being the newest checkpoint's key (the
 * tree size after the group).  Summing the lines whose tree_size is above
 * a size s gives what the appends after s wrote, per database
 * (tests/bench/lmdb_pages.awk does).  It reads LMDB 0.9's page layout as
 * built for x86-64 (4 KiB pages, little-endian, 64-bit page numbers), and
 * its sums must equal the wchar the programs report (they did, to the
 * digits printed, in every run of docs/performance.md): a page it could
 * not place counts as "other".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define PG 4096u

enum cls {
        C_META,
        C_MAIN,
        C_FREE,
        C_LOG,
        C_HASHES,
        C_CHECKPOINTS,
        C_ACCOUNTS,
        C_HISTORY,
        C_IDEM,
        C_KEYS,
        C_METADB,
        C_OTHER,
        C_N,
        C_BRANCH_UNKNOWN = 100
};

static const char *cls_name[C_N] = {
    "meta",     "main",    "free", "log",  "hashes", "checkpoints",
    "accounts", "history", "idem", "keys", "metadb", "other"};

struct group {
        uint64_t tree_size;
        uint64_t commits;
        uint64_t bytes[C_N];
};

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

static pwrite_fn real_pwrite;
static writev_fn real_writev;

static struct group cur;        /* commits since the last checkpoint */
static uint64_t cur_bytes[C_N]; /* the current commit's, before grouping */
static int cur_has_ckpt;
static uint64_t cur_ckpt;
static struct group *groups;
static size_t ngroups, capgroups;

static uint8_t *pgdb; /* page number -> class + 1 (0: not seen) */
static size_t pgdb_cap;

/* This commit's branch pages, resolved from their children at its end. */
struct branch {
        uint64_t pgno;
        uint64_t *kids;
        size_t nkids;
        int cls; /* C_BRANCH_UNKNOWN until known */
};
static struct branch *br;
static size_t nbr, capbr;

static dev_t data_dev;
static ino_t data_ino;
static int data_known;

static void oom(void)
{
        static const char msg[] = "lmdb_pages: out of memory\n";

        if (write(2, msg, sizeof msg - 1) < 0)
                _exit(99);
        _exit(99);
}

static void pgdb_set(uint64_t pgno, int c)
{
        if (pgno >= pgdb_cap) {
                size_t n = pgdb_cap ? pgdb_cap : 65536;

                while (n <= pgno)
                        n *= 2;
                uint8_t *p = realloc(pgdb, n);

                if (p == NULL)
                        oom();
                memset(p + pgdb_cap, 0, n - pgdb_cap);
                pgdb = p;
                pgdb_cap = n;
        }
        pgdb[pgno] = (uint8_t)(c + 1);
}

static int pgdb_get(uint64_t pgno)
{
        if (pgno >= pgdb_cap || pgdb[pgno] == 0)
                return -1;
        return pgdb[pgno] - 1;
}

static uint16_t u16at(const uint8_t *p)
{
        uint16_t v;

        memcpy(&v, p, 2);
        return v;
}

static uint64_t u64at(const uint8_t *p)
{
        uint64_t v;

        memcpy(&v, p, 8);
        return v;
}

static uint64_t be64(const uint8_t *p)
{
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

static int printable(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i] < 0x21 || p[i] > 0x7e)
                        return 0;
        return 1;
}

/* A signed note: printable text and newlines (UTF-8 for the em dash). */
static int note_text(const uint8_t *p, size_t n)
{
        int nl = 0;

        for (size_t i = 0; i < n; i++) {
                if (p[i] == '\n')
                        nl = 1;
                else if (p[i] < 0x20 || p[i] == 0x7f)
                        return 0;
        }
        return nl;
}

/* One node of a leaf page: its class, or -1 when it says nothing. */
static int leaf_node_class(const uint8_t *pg, uint16_t off, uint64_t *ckpt)
{
        if (off < 16 || off + 8u > PG)
                return -1;
        const uint8_t *n = pg + off;
        uint32_t dsize = (uint32_t)u16at(n) | (uint32_t)u16at(n + 2) << 16;
        uint16_t flags = u16at(n + 4);
        uint16_t ksize = u16at(n + 6);
        const uint8_t *k = n + 8;
        const uint8_t *v = k + ksize;
        int big = (flags & 0x01) != 0; /* F_BIGDATA: the value elsewhere */

        if (off + 8u + ksize > PG)
                return -1;
        if (flags & 0x02) /* F_SUBDATA: a named database's record */
                return C_MAIN;
        if (!big && off + 8u + ksize + dsize > PG)
                return -1;
        if (ksize == 49)
                return C_IDEM;
        if (ksize == 32)
                return C_KEYS;
        if (ksize >= 10 && k[0] == 0 && k[8] == ksize - 9u)
                return C_HISTORY;
        if (ksize == 8) {
                if (big)
                        return C_FREE;
                if (dsize == 88 && printable(k, 8))
                        return C_ACCOUNTS;
                if (dsize >= 8 && k[0] == 0 && memcmp(k, v, 8) == 0)
                        return C_LOG;
                if (dsize == 32 && k[0] == 0)
                        return C_HASHES;
                if (dsize >= 8 && dsize % 8 == 0 && u64at(v) * 8 + 8 == dsize &&
                    k[7] == 0)
                        return C_FREE; /* an IDL: count, then pgnos */
                if (dsize > 40 && k[0] == 0 && note_text(v, dsize)) {
                        uint64_t s = be64(k);

                        if (s > *ckpt)
                                *ckpt = s;
                        return C_CHECKPOINTS;
                }
        }
        if (ksize > 0 && printable(k, ksize) && dsize == 88)
                return C_ACCOUNTS;
        if ((ksize == 9 && memcmp(k, "tree_size", 9) == 0) ||
            (ksize == 4 && memcmp(k, "root", 4) == 0) ||
            (ksize == 7 && memcmp(k, "version", 7) == 0))
                return C_METADB;
        return C_OTHER;
}

/* Classify the page (or overflow run) at pg; returns its length in bytes
 * and adds it to the current commit. */
static size_t page(const uint8_t *pg, size_t avail)
{
        uint64_t pgno;
        uint16_t flags, lower;
        size_t len = PG;
        int c = C_OTHER;

        if (avail < PG) {
                cur_bytes[C_META] += avail;
                return avail;
        }
        pgno = u64at(pg);
        flags = u16at(pg + 10);
        lower = u16at(pg + 12);
        if (flags & 0x08) { /* P_META */
                cur_bytes[C_META] += PG;
                return PG;
        }
        if (flags & 0x04) { /* P_OVERFLOW: a long value, the free list's */
                uint32_t pages;

                memcpy(&pages, pg + 12, 4);
                len = (size_t)pages * PG;
                if (len == 0 || len > avail)
                        len = avail - avail % PG;
                c = C_FREE;
        } else if (flags & 0x02) { /* P_LEAF */
                uint16_t nk = lower >= 16 ? (uint16_t)((lower - 16) / 2) : 0;
                int votes[C_N] = {0};
                int best = C_OTHER;

                for (uint16_t i = 0; i < nk && 16u + 2u * i + 2 <= PG; i++) {
                        int nc = leaf_node_class(pg, u16at(pg + 16 + 2 * i),
                                                 &cur_ckpt);

                        if (nc >= 0)
                                votes[nc]++;
                }
                for (int i = 0; i < C_N; i++)
                        if (votes[i] > votes[best])
                                best = i;
                if (votes[C_CHECKPOINTS] > 0)
                        cur_has_ckpt = 1;
                c = votes[C_METADB] > 0 ? C_METADB : best;
        } else if (flags & 0x01) { /* P_BRANCH */
                uint16_t nk = lower >= 16 ? (uint16_t)((lower - 16) / 2) : 0;

                if (nbr == capbr) {
                        size_t n = capbr ? capbr * 2 : 64;
                        struct branch *p = realloc(br, n * sizeof *p);

                        if (p == NULL)
                                oom();
                        br = p;
                        capbr = n;
                }
                struct branch *b = &br[nbr++];

                b->pgno = pgno;
                b->nkids = 0;
                b->cls = C_BRANCH_UNKNOWN;
                b->kids = malloc((nk ? nk : 1) * sizeof *b->kids);
                if (b->kids == NULL)
                        oom();
                for (uint16_t i = 0; i < nk && 16u + 2u * i + 2 <= PG; i++) {
                        uint16_t off = u16at(pg + 16 + 2 * i);

                        if (off < 16 || off + 8u > PG)
                                continue;
                        const uint8_t *n = pg + off;

                        b->kids[b->nkids++] = (uint64_t)u16at(n) |
                                              (uint64_t)u16at(n + 2) << 16 |
                                              (uint64_t)u16at(n + 4) << 32;
                }
                return PG; /* counted when resolved */
        }
        pgdb_set(pgno, c);
        cur_bytes[c] += len;
        return len;
}

static void end_commit(void)
{
        /* Branch pages: the class of any child; children first. */
        for (int changed = 1; changed;) {
                changed = 0;
                for (size_t i = 0; i < nbr; i++) {
                        if (br[i].cls != C_BRANCH_UNKNOWN)
                                continue;
                        for (size_t j = 0; j < br[i].nkids; j++) {
                                int c = pgdb_get(br[i].kids[j]);

                                if (c >= 0) {
                                        br[i].cls = c;
                                        pgdb_set(br[i].pgno, c);
                                        changed = 1;
                                        break;
                                }
                        }
                }
        }
        for (size_t i = 0; i < nbr; i++) {
                int c = br[i].cls == C_BRANCH_UNKNOWN ? C_OTHER : br[i].cls;

                cur_bytes[c] += PG;
                free(br[i].kids);
        }
        nbr = 0;
        for (int i = 0; i < C_N; i++) {
                cur.bytes[i] += cur_bytes[i];
                cur_bytes[i] = 0;
        }
        cur.commits++;
        if (!cur_has_ckpt)
                return;
        cur.tree_size = cur_ckpt; /* this commit's newest checkpoint */
        cur_ckpt = 0;
        if (ngroups == capgroups) {
                size_t n = capgroups ? capgroups * 2 : 4096;
                struct group *p = realloc(groups, n * sizeof *p);

                if (p == NULL)
                        oom();
                groups = p;
                capgroups = n;
        }
        groups[ngroups++] = cur;
        memset(&cur, 0, sizeof cur);
        cur_has_ckpt = 0;
}

static int is_data(int fd)
{
        struct stat st;
        char link[64], path[PATH_MAX];
        ssize_t n;

        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
                return 0;
        if (data_known && st.st_dev == data_dev && st.st_ino == data_ino)
                return 1;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof path - 1);
        if (n < 8)
                return 0;
        path[n] = '\0';
        if (strcmp(path + n - 8, "data.mdb") != 0)
                return 0;
        if (data_known && (st.st_dev != data_dev || st.st_ino != data_ino)) {
                /* another ledger (bench_ledger reopens; a new file) */
                memset(pgdb, 0, pgdb_cap);
        }
        data_dev = st.st_dev;
        data_ino = st.st_ino;
        data_known = 1;
        return 1;
}

static void account(const uint8_t *buf, size_t len, int meta_end)
{
        size_t off = 0;

        if (len % PG != 0) { /* the meta page's fields: a commit ends */
                cur_bytes[C_META] += len;
                if (meta_end)
                        end_commit();
                return;
        }
        while (off < len)
                off += page(buf + off, len - off);
}

static void init(void)
{
        if (real_pwrite == NULL)
                real_pwrite = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
        if (real_writev == NULL)
                real_writev = (writev_fn)dlsym(RTLD_NEXT, "writev");
        if (real_pwrite == NULL || real_writev == NULL)
                _exit(98);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
        ssize_t r;

        init();
        r = real_pwrite(fd, buf, len, off);
        if (r > 0 && getenv("TB_PAGES_OUT") != NULL && is_data(fd))
                account(buf, (size_t)r, off < (off_t)(2 * PG));
        return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
        return pwrite(fd, buf, len, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
        ssize_t r;

        init();
        r = real_writev(fd, iov, n);
        if (r > 0 && getenv("TB_PAGES_OUT") != NULL && is_data(fd)) {
                size_t left = (size_t)r;

                for (int i = 0; i < n && left > 0; i++) {
                        size_t l =
                            iov[i].iov_len < left ? iov[i].iov_len : left;

                        account(iov[i].iov_base, l, 0);
                        left -= l;
                }
        }
        return r;
}

__attribute__((destructor)) static void report(void)
{
        const char *out = getenv("TB_PAGES_OUT");
        char path[PATH_MAX];
        FILE *f;

        if (out == NULL || ngroups == 0)
                return;
        snprintf(path, sizeof path, "%s.%ld", out, (long)getpid());
        f = fopen(path, "w");
        if (f == NULL)
                return;
        fprintf(f, "# tree_size commits");
        for (int i = 0; i < C_N; i++)
                fprintf(f, " %s", cls_name[i]);
        fprintf(f, "\n");
        for (size_t g = 0; g < ngroups; g++) {
                fprintf(f, "%llu %llu", (unsigned long long)groups[g].tree_size,
                        (unsigned long long)groups[g].commits);
                for (int i = 0; i < C_N; i++)
                        fprintf(f, " %llu",
                                (unsigned long long)groups[g].bytes[i]);
                fprintf(f, "\n");
        }
        if (fclose(f) != 0)
                perror("lmdb_pages");
}
