/*
 * daemon/ledger/ledger_check.c - the full self-check: balances are a pure
 * function of the log (invariant 3), so replaying the log into an empty ledger
 * with the same apply code must rebuild exactly what is stored.
 *
 * The replay is cut into batches that end where the original ledger issued
 * its checkpoints, so the replayed ledger signs a checkpoint at the same
 * sizes; Ed25519 is deterministic, so equal trees give byte-equal notes.
 * The replay ledger lives in a temporary directory without fsync: it is
 * thrown away.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger_store.h"

#define LEDGER_CHECK_CHUNK 512

/* Databases derived from the log; idem only in part (compare_idem). */
static const struct {
        enum ledger_db db;
        const char *name;
} derived[] = {
    {LEDGER_DB_ACCOUNTS, "account"},  {LEDGER_DB_KEYS, "key"},
    {LEDGER_DB_HISTORY, "history"},   {LEDGER_DB_INTERVALS, "interval"},
    {LEDGER_DB_DAILY, "daily"},       {LEDGER_DB_POLICY, "policy"},
    {LEDGER_DB_REVERSED, "reversed"}, {LEDGER_DB_HASHES, "hash"},
};

struct check {
        struct ledger *l, *r;
        struct ledger_txn t; /* snapshot of the checked ledger */
        struct ledger_check_report *rep;
        struct ledger_item items[LEDGER_CHECK_CHUNK];
        struct ledger_result results[LEDGER_CHECK_CHUNK];
        uint64_t first_seq;
        size_t n;
        uint64_t expect;   /* the seq of the next record */
        int cp_found;      /* a stored checkpoint is still ahead: */
        uint64_t cp_size;  /* its tree size */
        const uint8_t *cp; /* its note */
        size_t cp_len;
        enum ledger_err err; /* of the replay, stopping the walk */
        int same_format;     /* 0: l is an older format (the upgrade) */
};

static void mismatch(struct ledger_check_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void mismatch(struct ledger_check_report *rep, const char *fmt, ...)
{
        va_list ap;

        if (rep->mismatches++ == 0) {
                va_start(ap, fmt);
                vsnprintf(rep->first, sizeof(rep->first), fmt, ap);
                va_end(ap);
        }
}

static enum ledger_err compare_checkpoint(struct check *c, uint64_t size,
                                          const uint8_t *stored,
                                          size_t stored_len)
{
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len;
        enum ledger_err err;

        err = ledger_checkpoint_at(c->r, size, note, sizeof(note), &len);
        if (err && err != LEDGER_E_NOT_FOUND)
                return err;
        c->rep->checkpoints++;
        if (err || len != stored_len || memcmp(note, stored, len) != 0)
                mismatch(c->rep, "checkpoint %llu differs on replay",
                         (unsigned long long)size);
        return LEDGER_OK;
}

static enum ledger_err flush(struct check *c, int checkpoint)
{
        enum ledger_err err;
        size_t i;

        if (c->n == 0)
                return LEDGER_OK;
        err = ledger_batch_apply(
            c->r, c->items, c->n, c->results,
            LEDGER_BATCH_REPLAY |
                (checkpoint ? 0 : LEDGER_BATCH_NO_CHECKPOINT));
        if (err)
                return err;
        for (i = 0; i < c->n; i++) {
                const struct ledger_result *res = &c->results[i];
                uint64_t want = c->first_seq + i;

                if (res->status != TB_ST_OK || res->seq != want)
                        mismatch(c->rep, "entry %llu replays as %s (%s)",
                                 (unsigned long long)want,
                                 tb_status_name(res->status)
                                     ? tb_status_name(res->status)
                                     : "?",
                                 res->detail);
        }
        c->rep->entries += c->n;
        c->first_seq += c->n;
        c->n = 0;
        return LEDGER_OK;
}

/* The next stored checkpoint the replay must reproduce. */
static void next_checkpoint(struct check *c, uint64_t from)
{
        c->cp_found = ledger_store_checkpoints_from(&c->t, from, &c->cp_size,
                                                    &c->cp, &c->cp_len);
}

static int replay_record_cb(void *ctx, uint64_t seq,
                            const struct ledger_store_record *rec)
{
        struct check *c = ctx;
        struct ledger_item *it = &c->items[c->n];

        if (seq != c->expect || rec->seq != c->expect)
                mismatch(c->rep, "log record %llu is out of place",
                         (unsigned long long)c->expect);
        it->signed_entry = rec->signed_entry;
        it->len = rec->signed_len;
        it->received = rec->received;
        it->verified = 0;
        c->n++;
        c->expect++;
        if (c->cp_found && c->expect == c->cp_size) {
                if ((c->err = flush(c, 1)) ||
                    (c->err =
                         compare_checkpoint(c, c->cp_size, c->cp, c->cp_len)))
                        return 1;
                next_checkpoint(c, c->cp_size + 1);
        } else if (c->n == LEDGER_CHECK_CHUNK && (c->err = flush(c, 0))) {
                return 1;
        }
        return 0;
}

static enum ledger_err replay(struct check *c)
{
        next_checkpoint(c, 0);
        ledger_store_log_walk(&c->t, replay_record_cb, c);
        if (c->t.rc)
                return ledger_txn_err(c->t.rc);
        if (c->err || (c->err = flush(c, 0)))
                return c->err;
        if (c->cp_found)
                mismatch(c->rep, "checkpoint %llu is beyond the log",
                         (unsigned long long)c->cp_size);
        return LEDGER_OK;
}

/* Walk two sorted databases side by side; every difference counts. */
/* A stored value of an older format that the new one extends (accounts:
 * format 3 appends 16 bytes to format 1 and 2's 72): equal if the
 * replayed value begins with it. */
static int values_differ(const MDB_val *a, const MDB_val *b, int prefix)
{
        if (prefix)
                return a->mv_size > b->mv_size ||
                       memcmp(a->mv_data, b->mv_data, a->mv_size) != 0;
        return a->mv_size != b->mv_size ||
               memcmp(a->mv_data, b->mv_data, a->mv_size) != 0;
}

static enum ledger_err compare_db(struct check *c, struct ledger_txn *rt,
                                  enum ledger_db db, const char *name,
                                  uint64_t *count)
{
        int prefix = !c->same_format && db == LEDGER_DB_ACCOUNTS;
        MDB_cursor *a = NULL, *b = NULL;
        MDB_val ak, av, bk, bv;
        int ra, rb, rc;
        enum ledger_err err = LEDGER_OK;

        if ((rc = mdb_cursor_open(c->t.txn, c->l->db[db], &a)) ||
            (rc = mdb_cursor_open(rt->txn, c->r->db[db], &b))) {
                err = ledger_txn_err(rc);
                goto done;
        }
        ra = mdb_cursor_get(a, &ak, &av, MDB_FIRST);
        rb = mdb_cursor_get(b, &bk, &bv, MDB_FIRST);
        while (ra == 0 || rb == 0) {
                int cmp;

                if (ra)
                        cmp = 1;
                else if (rb)
                        cmp = -1;
                else
                        cmp = mdb_cmp(c->t.txn, c->l->db[db], &ak, &bk);
                if (cmp == 0 && values_differ(&av, &bv, prefix))
                        mismatch(c->rep, "%s %.*s differs from the replay",
                                 name, (int)ak.mv_size,
                                 db == LEDGER_DB_ACCOUNTS ? (char *)ak.mv_data
                                                          : "");
                else if (cmp < 0)
                        mismatch(c->rep, "stored %s %.*s not in the replay",
                                 name, (int)ak.mv_size,
                                 db == LEDGER_DB_ACCOUNTS ? (char *)ak.mv_data
                                                          : "");
                else if (cmp > 0)
                        mismatch(c->rep, "replayed %s %.*s not stored", name,
                                 (int)bk.mv_size,
                                 db == LEDGER_DB_ACCOUNTS ? (char *)bk.mv_data
                                                          : "");
                if (count)
                        (*count)++;
                if (cmp <= 0)
                        ra = mdb_cursor_get(a, &ak, &av, MDB_NEXT);
                if (cmp >= 0)
                        rb = mdb_cursor_get(b, &bk, &bv, MDB_NEXT);
        }
        if (ra != MDB_NOTFOUND || rb != MDB_NOTFOUND)
                err = ledger_txn_err(ra != MDB_NOTFOUND ? ra : rb);
done:
        if (a)
                mdb_cursor_close(a);
        if (b)
                mdb_cursor_close(b);
        return err;
}

/*
 * idem is not wholly derived from the log (refusals are not logged), but
 * the rows of logged entries are: the replay has exactly those, and each
 * must be stored as replayed.  A row lost or changed would answer a retry
 * of an accepted request as a new request (credited twice) or with another
 * entry's outcome.  Stored rows the replay lacks are the refusals.  Only
 * within a format: an older format's rows are carried over by the upgrade
 * after this check (ledger_upgrade.c).
 */
static enum ledger_err compare_idem(struct check *c, struct ledger_txn *rt)
{
        MDB_cursor *b = NULL;
        MDB_val bk, bv, av;
        int rb, ra, rc;
        enum ledger_err err = LEDGER_OK;

        if ((rc = mdb_cursor_open(rt->txn, c->r->db[LEDGER_DB_IDEM], &b)))
                return ledger_txn_err(rc);
        for (rb = mdb_cursor_get(b, &bk, &bv, MDB_FIRST); rb == 0;
             rb = mdb_cursor_get(b, &bk, &bv, MDB_NEXT)) {
                struct tb_rbuf r;
                uint64_t seq;

                /* the replay's row of a logged entry is its seq */
                tb_rbuf_init(&r, bv.mv_data, bv.mv_size);
                seq = tb_get_u64(&r);
                if (r.err != TB_OK || tb_rbuf_left(&r) != 0) {
                        err = LEDGER_E_CORRUPT;
                        break;
                }
                ra = mdb_get(c->t.txn, c->l->db[LEDGER_DB_IDEM], &bk, &av);
                if (ra == MDB_NOTFOUND)
                        mismatch(c->rep,
                                 "idem row of logged entry %llu not stored",
                                 (unsigned long long)seq);
                else if (ra) {
                        err = ledger_txn_err(ra);
                        break;
                } else if (values_differ(&av, &bv, 0))
                        mismatch(c->rep,
                                 "idem row of logged entry %llu differs "
                                 "from the replay",
                                 (unsigned long long)seq);
        }
        if (!err && rb != MDB_NOTFOUND)
                err = ledger_txn_err(rb);
        mdb_cursor_close(b);
        return err;
}

static enum ledger_err compare(struct check *c)
{
        static const char *const meta[] = {"tree_size", "root", "keys_active",
                                           "keys_revoked"};
        struct ledger_txn rt;
        enum ledger_err err;
        uint64_t *count;
        size_t i;

        if ((err = ledger_txn_begin_read(c->r, &rt)))
                return err;
        for (i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
                /* formats 2 and 3 changed history's and hashes' layouts,
                 * and format 3 keeps no intervals or daily rows
                 * (docs/storage.md) */
                if (!c->same_format && (derived[i].db == LEDGER_DB_HISTORY ||
                                        derived[i].db == LEDGER_DB_HASHES ||
                                        derived[i].db == LEDGER_DB_INTERVALS ||
                                        derived[i].db == LEDGER_DB_DAILY))
                        continue;
                count = derived[i].db == LEDGER_DB_ACCOUNTS ? &c->rep->accounts
                        : derived[i].db == LEDGER_DB_KEYS   ? &c->rep->keys
                                                            : NULL;
                if ((err = compare_db(c, &rt, derived[i].db, derived[i].name,
                                      count)))
                        goto done;
        }
        if (c->same_format && (err = compare_idem(c, &rt)))
                goto done;
        for (i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
                MDB_val a, b;
                int fa = ledger_txn_get(&c->t, LEDGER_DB_META, meta[i],
                                        strlen(meta[i]), &a);
                int fb = ledger_txn_get(&rt, LEDGER_DB_META, meta[i],
                                        strlen(meta[i]), &b);

                if (!fa || !fb || a.mv_size != b.mv_size ||
                    memcmp(a.mv_data, b.mv_data, a.mv_size))
                        mismatch(c->rep, "meta %s differs from the replay",
                                 meta[i]);
        }
        if (c->t.rc || rt.rc)
                err = ledger_txn_err(c->t.rc ? c->t.rc : rt.rc);
done:
        ledger_txn_end_read(&rt);
        return err;
}

static void remove_dir(const char *dir)
{
        static const char *const names[] = {"data.mdb", "lock.mdb"};
        char path[PATH_MAX];
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
                    (int)sizeof(path))
                        (void)unlink(path);
        (void)rmdir(dir);
}

enum ledger_err ledger_check_replay(struct ledger *l, struct ledger *r,
                                    int same_format,
                                    struct ledger_check_report *rep)
{
        struct check *c;
        enum ledger_err err;

        if (!(c = calloc(1, sizeof(*c))))
                return LEDGER_E_NOMEM;
        c->l = l;
        c->r = r;
        c->rep = rep;
        c->same_format = same_format;
        /* the snapshot compared holds every account row: the rows
         * behind written first, and no batch between that and the
         * snapshot (the write lock) */
        LEDGER_MUST(pthread_mutex_lock(&l->write_lock));
        if (!(err = ledger_accounts_flush_locked(l)))
                err = ledger_txn_begin_read(l, &c->t);
        LEDGER_MUST(pthread_mutex_unlock(&l->write_lock));
        if (err == LEDGER_OK) {
                if (!(err = replay(c))) {
                        LEDGER_MUST(pthread_mutex_lock(&r->write_lock));
                        err = ledger_accounts_flush_locked(r);
                        LEDGER_MUST(pthread_mutex_unlock(&r->write_lock));
                }
                if (!err)
                        err = compare(c);
                ledger_txn_end_read(&c->t);
        }
        free(c);
        return err;
}

enum ledger_err ledger_check_full(struct ledger *l, const char *tmpdir,
                                  struct ledger_check_report *rep)
{
        struct ledger_options o;
        struct ledger *r = NULL;
        char dir[PATH_MAX];
        enum ledger_err err;
        int made = 0;

        if (!l || !rep)
                return LEDGER_E_INVALID;
        memset(rep, 0, sizeof(*rep));
        if (!tmpdir && !(tmpdir = getenv("TMPDIR")))
                tmpdir = "/tmp";
        if (snprintf(dir, sizeof(dir), "%s/timebank-check-XXXXXX", tmpdir) >=
            (int)sizeof(dir))
                return LEDGER_E_INVALID;
        if (!mkdtemp(dir))
                return LEDGER_E_IO;
        made = 1;
        o = l->opt;
        o.sync = 0;
        if ((err = ledger_env_create(dir, l->origin, l->key, 0, &o, &r)))
                goto fail;
        err = ledger_check_replay(l, r, 1, rep);
fail:
        ledger_close(r);
        if (made)
                remove_dir(dir);
        return err;
}
