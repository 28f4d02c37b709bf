/*
 * daemon/mirror.c - the tiles_dir thread (daemon/mirror.h).
 *
 * Each round reads the ledger's latest checkpoint (an ordinary read: it
 * never takes the writer's lock); when its tree is larger than the one
 * mirrored, it reads the new records, rebuilds the tile tree in memory,
 * checks its root against the ledger's for that size, writes the tiles and
 * then the checkpoint.  The records stay in memory between rounds, so a
 * round reads only what is new from LMDB; the tree is rebuilt whole (one
 * SHA-256 per entry) and the full tiles already on disk are compared, not
 * rewritten: a round costs one hash per entry and one read of every
 * full tile, O(size), which for a time bank's log (thousands of entries a
 * year) is milliseconds; a round happens at most once a second, and only
 * when the tree grew.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ledger.h"
#include "log.h"
#include "mirror.h"
#include "tiles.h"

struct mirror {
        struct ledger *ledger;
        char *dir;
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cv; /* signalled to stop */
        int stop;
        struct tiles_entries e; /* the records mirrored so far */
        uint64_t done;          /* tree size of the checkpoint written */
        unsigned failures;      /* rounds failed in a row */
};

/*
 * Before the first write: a checkpoint already in the directory must not
 * be of a larger tree than the ledger's (a ledger restored from an older
 * backup, or another log): overwriting it would show auditors a log that
 * shrank.  0, or -1 after logging why.
 */
static int mirror_shrinks(struct mirror *m, uint64_t size)
{
        char err[TILES_ERR_MAX], line[24], *nl, *end;
        unsigned long long old;
        uint8_t *p;
        size_t n;

        if (tiles_read_file(m->dir, "checkpoint", TB_CHECKPOINT_MAX, &p, &n,
                            err) != 0) {
                if (errno == ENOENT)
                        return 0;
                log_warning("tiles_dir: %s", err);
                return -1;
        }
        /* the note's second line is the tree size (C2SP tlog-checkpoint) */
        nl = memchr(p, '\n', n);
        line[0] = 0;
        if (nl != NULL) {
                size_t off = (size_t)(nl - (char *)p) + 1, k = 0;
                while (off + k < n && k + 1 < sizeof(line) &&
                       p[off + k] != '\n') {
                        line[k] = (char)p[off + k];
                        k++;
                }
                line[k] = 0;
                if (off + k >= n || p[off + k] != '\n')
                        line[0] = 0;
        }
        free(p);
        errno = 0;
        old = strtoull(line, &end, 10);
        if (line[0] < '0' || line[0] > '9' || errno != 0 || *end != 0) {
                log_err("tiles_dir %s: the checkpoint there is not one; not "
                        "overwriting it (move the directory's content away)",
                        m->dir);
                return -1;
        }
        if (old > size) {
                log_err("tiles_dir %s: holds a checkpoint of tree size %llu, "
                        "larger than the ledger's %" PRIu64
                        "; not overwriting it (a ledger restored from an "
                        "older backup, or another log's mirror?)",
                        m->dir, old, size);
                return -1;
        }
        return 0;
}

/* One round: 0 (nothing to do or done), -1 after logging why. */
static int mirror_round(struct mirror *m)
{
        uint8_t note[TB_CHECKPOINT_MAX], rec[TB_RECORD_MAX];
        uint8_t root[TB_HASH_SIZE], want[TB_HASH_SIZE];
        char err[TILES_ERR_MAX];
        struct tiles_written w = {0};
        struct tiles_tree t;
        size_t len, rlen;
        uint64_t size;
        enum ledger_err le;

        if ((le = ledger_checkpoint(m->ledger, note, sizeof(note), &len,
                                    &size)) != LEDGER_OK) {
                log_warning("tiles_dir %s: cannot read the checkpoint: %s",
                            m->dir, ledger_strerror(le));
                return -1;
        }
        if (size == m->done)
                return 0;
        if (m->done == 0 && mirror_shrinks(m, size) != 0)
                return -1;
        if (size < m->e.n) { /* cannot happen: the log only grows */
                log_err("tiles_dir %s: the checkpoint's tree size %" PRIu64
                        " is below the %" PRIu64 " entries mirrored",
                        m->dir, size, m->e.n);
                return -1;
        }
        while (m->e.n < size) {
                if ((le = ledger_entry(m->ledger, m->e.n, rec, sizeof(rec),
                                       &rlen)) != LEDGER_OK) {
                        log_warning("tiles_dir %s: cannot read entry %" PRIu64
                                    ": %s",
                                    m->dir, m->e.n, ledger_strerror(le));
                        return -1;
                }
                if (tiles_entries_add(&m->e, rec, rlen) != 0) {
                        log_warning("tiles_dir %s: out of memory", m->dir);
                        return -1;
                }
        }
        if (tiles_tree_build(&m->e, &t) != 0) {
                log_warning("tiles_dir %s: out of memory", m->dir);
                return -1;
        }
        if (tiles_tree_root(&t, size, root) != TB_OK ||
            ledger_root(m->ledger, size, want) != LEDGER_OK ||
            memcmp(root, want, TB_HASH_SIZE) != 0) {
                log_err("tiles_dir %s: the tiles of tree size %" PRIu64
                        " do not have the ledger's root; not written",
                        m->dir, size);
                tiles_tree_free(&t);
                return -1;
        }
        if (tiles_write(m->dir, &t, &m->e, 0, &w, err) != 0 ||
            tiles_write_checkpoint(m->dir, note, len, err) != 0) {
                log_warning("tiles_dir: %s", err);
                tiles_tree_free(&t);
                return -1;
        }
        tiles_tree_free(&t);
        log_debug("tiles_dir %s: tree size %" PRIu64 ", %" PRIu64
                  " files written, %" PRIu64 " full tiles kept",
                  m->dir, size, w.written + 1, w.kept);
        if (m->failures > 0)
                log_notice("tiles_dir %s: written again (tree size %" PRIu64
                           ") after %u failed rounds",
                           m->dir, size, m->failures);
        m->done = size;
        return 0;
}

static void *mirror_main(void *arg)
{
        struct mirror *m = arg;
        struct timespec until;
        unsigned wait;

        (void)pthread_mutex_lock(&m->mu);
        while (!m->stop) {
                (void)pthread_mutex_unlock(&m->mu);
                if (mirror_round(m) == 0)
                        m->failures = 0;
                else
                        m->failures++;
                wait = MIRROR_INTERVAL_S;
                for (unsigned i = 0; i < m->failures && wait < MIRROR_BACKOFF_S;
                     i++)
                        wait *= 2;
                if (wait > MIRROR_BACKOFF_S)
                        wait = MIRROR_BACKOFF_S;
                (void)clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += wait;
                (void)pthread_mutex_lock(&m->mu);
                while (!m->stop &&
                       pthread_cond_timedwait(&m->cv, &m->mu, &until) == 0)
                        ;
        }
        (void)pthread_mutex_unlock(&m->mu);
        return NULL;
}

int mirror_start(struct ledger *l, const char *dir, struct mirror **out)
{
        struct mirror *m = calloc(1, sizeof(*m));
        struct stat st;
        int rc;

        if (m == NULL)
                return -1;
        if (dir[0] != '/') {
                log_err("tiles_dir %s: must be an absolute path", dir);
                free(m);
                errno = EINVAL;
                return -1;
        }
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
                int e = errno;
                if (stat(dir, &st) == 0)
                        e = ENOTDIR;
                log_err("tiles_dir %s: %s (create the directory, writable by "
                        "timebankd)",
                        dir, strerror(e));
                free(m);
                errno = e;
                return -1;
        }
        m->ledger = l;
        if ((m->dir = strdup(dir)) == NULL) {
                free(m);
                return -1;
        }
        if ((rc = pthread_mutex_init(&m->mu, NULL)) != 0 ||
            (rc = pthread_cond_init(&m->cv, NULL)) != 0 ||
            (rc = pthread_create(&m->thread, NULL, mirror_main, m)) != 0) {
                free(m->dir);
                free(m);
                errno = rc;
                return -1;
        }
        *out = m;
        return 0;
}

void mirror_free(struct mirror *m)
{
        if (m == NULL)
                return;
        (void)pthread_mutex_lock(&m->mu);
        m->stop = 1;
        (void)pthread_cond_signal(&m->cv);
        (void)pthread_mutex_unlock(&m->mu);
        (void)pthread_join(m->thread, NULL);
        (void)pthread_cond_destroy(&m->cv);
        (void)pthread_mutex_destroy(&m->mu);
        tiles_entries_free(&m->e);
        free(m->dir);
        free(m);
}
