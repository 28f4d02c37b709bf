/*
 * daemon/ledger/ledger_txn.c - the LMDB transaction wrapper with a sticky
 * error, its cursors, the read transactions that cooperate with map
 * growth, the one mapping of LMDB codes to ours, and the row primitives
 * (keys and values over the proto/buf.h cursors) the codec is built on.
 *
 * The sticky error lets rule code be a straight list of reads and writes
 * followed by one check: after the first failure nothing more is written,
 * and the commit becomes an abort, so a half-applied batch never lands.
 * The row primitives know no database's layout: that is ledger_store.c.
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "ledger_int.h"

enum ledger_err ledger_txn_err(int rc)
{
        switch (rc) {
        case MDB_SUCCESS:
                return LEDGER_OK;
        case MDB_MAP_FULL:
        case ENOSPC: /* the file system is full: transient, like the map */
        case EDQUOT:
                return LEDGER_E_FULL;
        case MDB_PANIC:
                return LEDGER_E_PANIC;
        case MDB_READERS_FULL:
                return LEDGER_E_READERS;
        case MDB_NOTFOUND:
                return LEDGER_E_NOT_FOUND;
        case MDB_INVALID:
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case LEDGER_TXN_E_CORRUPT:
                return LEDGER_E_CORRUPT;
        case MDB_VERSION_MISMATCH:
                return LEDGER_E_VERSION;
        case LEDGER_TXN_E_CRYPTO:
                return LEDGER_E_CRYPTO;
        case LEDGER_TXN_E_RANGE:
                return LEDGER_E_RANGE;
        case ENOMEM:
                return LEDGER_E_NOMEM;
        case ENOENT:
                return LEDGER_E_NO_LEDGER;
        case EACCES:
        case EIO:
        case EROFS:
                return LEDGER_E_IO;
        default:
                return LEDGER_E_LMDB;
        }
}

int ledger_txn_begin(struct ledger_txn *t, struct ledger *l, int rdonly)
{
        t->l = l;
        t->txn = NULL;
        t->write = 0;
        t->rc = mdb_txn_begin(l->env, NULL, rdonly ? MDB_RDONLY : 0, &t->txn);
        t->write = !rdonly && t->rc == 0;
        return t->rc;
}

int ledger_txn_get(struct ledger_txn *t, enum ledger_db db, const void *k,
                   size_t kl, MDB_val *v)
{
        MDB_val key = {kl, (void *)k};
        int rc;

        if (t->rc)
                return 0;
        rc = mdb_get(t->txn, t->l->db[db], &key, v);
        if (rc && rc != MDB_NOTFOUND)
                t->rc = rc;
        return rc == 0;
}

void ledger_txn_put(struct ledger_txn *t, enum ledger_db db, const void *k,
                    size_t kl, const void *v, size_t vl, unsigned flags)
{
        MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};

        if (t->rc)
                return;
        t->rc = mdb_put(t->txn, t->l->db[db], &key, &val, flags);
}

void ledger_txn_del(struct ledger_txn *t, enum ledger_db db, const void *k,
                    size_t kl)
{
        MDB_val key = {kl, (void *)k};

        if (t->rc)
                return;
        t->rc = mdb_del(t->txn, t->l->db[db], &key, NULL);
}

void ledger_txn_fail(struct ledger_txn *t, int rc)
{
        if (!t->rc)
                t->rc = rc;
}

void ledger_txn_require(struct ledger_txn *t, int found)
{
        if (!found)
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
}

int ledger_txn_commit(struct ledger_txn *t)
{
        int rc;

        if (!t->txn)
                return t->rc;
        if (t->rc) {
                ledger_txn_abort(t);
                return t->rc;
        }
        rc = mdb_txn_commit(t->txn);
        t->txn = NULL;
        t->rc = rc;
        if (t->write)
                ledger_accounts_end(t->l, rc == 0);
        t->write = 0;
        return rc;
}

void ledger_txn_abort(struct ledger_txn *t)
{
        if (t->txn) {
                mdb_txn_abort(t->txn);
                if (t->write)
                        ledger_accounts_end(t->l, 0);
        }
        t->txn = NULL;
        t->write = 0;
}

/* Readers hold the resize lock shared: mdb_env_set_mapsize() must not run
 * while any transaction of this process is active. */
enum ledger_err ledger_txn_begin_read(struct ledger *l, struct ledger_txn *t)
{
        int rc;

        if (pthread_rwlock_rdlock(&l->resize_lock))
                return LEDGER_E_LMDB;
        rc = ledger_txn_begin(t, l, 1);
        if (rc == MDB_MAP_RESIZED) {
                /* another process grew the map; adopt its size, with the
                 * writer idle too (same lock order as the writer) */
                LEDGER_MUST(pthread_rwlock_unlock(&l->resize_lock));
                LEDGER_MUST(pthread_mutex_lock(&l->write_lock));
                LEDGER_MUST(pthread_rwlock_wrlock(&l->resize_lock));
                rc = ledger_txn_resize(l, 0);
                LEDGER_MUST(pthread_rwlock_unlock(&l->resize_lock));
                LEDGER_MUST(pthread_mutex_unlock(&l->write_lock));
                LEDGER_MUST(pthread_rwlock_rdlock(&l->resize_lock));
                if (!rc)
                        rc = ledger_txn_begin(t, l, 1);
        }
        if (rc) {
                LEDGER_MUST(pthread_rwlock_unlock(&l->resize_lock));
                return ledger_txn_err(rc);
        }
        atomic_fetch_add(&l->readers, 1);
        if (l->hooks.read_begun_cb != NULL)
                l->hooks.read_begun_cb(l->hooks.ctx);
        return LEDGER_OK;
}

void ledger_txn_end_read(struct ledger_txn *t)
{
        ledger_txn_abort(t);
        atomic_fetch_sub(&t->l->readers, 1);
        LEDGER_MUST(pthread_rwlock_unlock(&t->l->resize_lock));
}

int ledger_txn_resize(struct ledger *l, uint64_t size)
{
        if (l->hooks.resizing_cb != NULL)
                l->hooks.resizing_cb(l->hooks.ctx, atomic_load(&l->readers));
        return mdb_env_set_mapsize(l->env, size);
}

MDB_cursor *ledger_txn_cursor_open(struct ledger_txn *t, enum ledger_db db)
{
        MDB_cursor *c = NULL;

        if (t->rc)
                return NULL;
        t->rc = mdb_cursor_open(t->txn, t->l->db[db], &c);
        return t->rc ? NULL : c;
}

int ledger_txn_cursor_get(struct ledger_txn *t, MDB_cursor *c, MDB_val *k,
                          MDB_val *v, MDB_cursor_op op)
{
        int rc;

        if (t->rc || !c)
                return 0;
        rc = mdb_cursor_get(c, k, v, op);
        if (rc && rc != MDB_NOTFOUND)
                t->rc = rc;
        return rc == 0;
}

void ledger_txn_cursor_close(MDB_cursor *c)
{
        if (c)
                mdb_cursor_close(c);
}

uint64_t ledger_txn_count(struct ledger_txn *t, enum ledger_db db)
{
        MDB_stat st;

        if (t->rc)
                return 0;
        if ((t->rc = mdb_stat(t->txn, t->l->db[db], &st)))
                return 0;
        return st.ms_entries;
}

static int key_ok(struct ledger_txn *t, const struct tb_wbuf *k)
{
        if (k->err == TB_OK)
                return 1;
        ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
        return 0;
}

void ledger_txn_put_row(struct ledger_txn *t, enum ledger_db db,
                        const struct tb_wbuf *k, const void *v, size_t vl,
                        unsigned flags)
{
        if (key_ok(t, k))
                ledger_txn_put(t, db, k->p, k->len, v, vl, flags);
}

void ledger_txn_put_tail(struct ledger_txn *t, enum ledger_db db,
                         const struct tb_wbuf *k, const void *v, size_t vl)
{
        MDB_cursor *c;
        MDB_val last, val;
        unsigned flags = MDB_APPEND;
        size_t n;
        int cmp;

        if (!key_ok(t, k) || !(c = ledger_txn_cursor_open(t, db)))
                return;
        if (ledger_txn_cursor_get(t, c, &last, &val, MDB_LAST)) {
                n = last.mv_size < k->len ? last.mv_size : k->len;
                cmp = memcmp(k->p, last.mv_data, n);
                if (cmp < 0 || (cmp == 0 && k->len <= last.mv_size))
                        flags = 0;
        }
        ledger_txn_cursor_close(c);
        if (!t->rc)
                ledger_txn_put(t, db, k->p, k->len, v, vl, flags);
}

int ledger_txn_get_row(struct ledger_txn *t, enum ledger_db db,
                       const struct tb_wbuf *k, struct tb_rbuf *v)
{
        MDB_val val;

        tb_rbuf_init(v, NULL, 0);
        if (!key_ok(t, k) || !ledger_txn_get(t, db, k->p, k->len, &val))
                return 0;
        tb_rbuf_init(v, val.mv_data, val.mv_size);
        return 1;
}

void ledger_txn_del_row(struct ledger_txn *t, enum ledger_db db,
                        const struct tb_wbuf *k)
{
        if (key_ok(t, k))
                ledger_txn_del(t, db, k->p, k->len);
}

int ledger_txn_decoded(struct ledger_txn *t, const struct tb_rbuf *r)
{
        if (tb_rbuf_end(r) == TB_OK)
                return 1;
        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
        return 0;
}

MDB_cursor *ledger_txn_cursor_at(struct ledger_txn *t, enum ledger_db db,
                                 const struct tb_wbuf *k, MDB_val *key)
{
        key->mv_size = k->len;
        key->mv_data = k->p;
        return key_ok(t, k) ? ledger_txn_cursor_open(t, db) : NULL;
}

/* MDB_SET_RANGE lands on the first row at or after key, whose previous row
 * is the one; landing on nothing, the last row of all is. */
int ledger_txn_cursor_before(struct ledger_txn *t, MDB_cursor *c, MDB_val *key,
                             MDB_val *val)
{
        if (ledger_txn_cursor_get(t, c, key, val, MDB_SET_RANGE))
                return ledger_txn_cursor_get(t, c, key, val, MDB_PREV);
        return !t->rc && ledger_txn_cursor_get(t, c, key, val, MDB_LAST);
}

void ledger_txn_put_uint(struct ledger_txn *t, enum ledger_db db,
                         const struct tb_wbuf *k, uint64_t n, unsigned size)
{
        uint8_t b[8];
        struct tb_wbuf v;

        tb_wbuf_init(&v, b, sizeof(b));
        if (size == 4)
                tb_put_u32(&v, (uint32_t)n);
        else
                tb_put_u64(&v, n);
        ledger_txn_put_row(t, db, k, b, v.len, 0);
}

int ledger_txn_get_uint(struct ledger_txn *t, enum ledger_db db,
                        const struct tb_wbuf *k, unsigned size, uint64_t *n)
{
        struct tb_rbuf r;

        *n = 0;
        if (!ledger_txn_get_row(t, db, k, &r))
                return 0;
        *n = size == 4 ? tb_get_u32(&r) : tb_get_u64(&r);
        if (ledger_txn_decoded(t, &r))
                return 1;
        *n = 0;
        return 0;
}

int ledger_txn_get_fixed(struct ledger_txn *t, enum ledger_db db,
                         const struct tb_wbuf *k, uint8_t *out, size_t n)
{
        struct tb_rbuf r;

        memset(out, 0, n);
        if (!ledger_txn_get_row(t, db, k, &r))
                return 0;
        tb_get_bytes(&r, out, n);
        if (ledger_txn_decoded(t, &r))
                return 1;
        memset(out, 0, n);
        return 0;
}

int ledger_txn_key_u64(struct ledger_txn *t, const MDB_val *k, uint64_t *n)
{
        struct tb_rbuf r;

        tb_rbuf_init(&r, k->mv_data, k->mv_size);
        *n = tb_get_u64(&r);
        return ledger_txn_decoded(t, &r);
}

int ledger_txn_cursor_u64(struct ledger_txn *t, enum ledger_db db,
                          MDB_cursor_op op, uint64_t from, uint64_t *n,
                          MDB_val *val)
{
        uint8_t b[8];
        struct tb_wbuf k;
        MDB_val key;
        MDB_cursor *c;
        int found;

        tb_wbuf_init(&k, b, sizeof(b));
        tb_put_u64(&k, from);
        c = ledger_txn_cursor_at(t, db, &k, &key);
        found = ledger_txn_cursor_get(t, c, &key, val, op) &&
                ledger_txn_key_u64(t, &key, n);
        ledger_txn_cursor_close(c);
        return found;
}
