/*
 * daemon/ledger_txn.c - the LMDB transaction wrapper with a sticky error,
 * the one mapping of LMDB codes to ours, and the small typed accessors
 * (meta values, accounts, composite keys) every other ledger file uses.
 *
 * The sticky error lets rule code be a straight list of reads and writes
 * followed by one check: after the first failure nothing more is written,
 * and the commit becomes an abort, so a half-applied batch never lands.
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
        case ENOSPC:
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
        t->rc = mdb_txn_begin(l->env, NULL, rdonly ? MDB_RDONLY : 0, &t->txn);
        return t->rc;
}

int ledger_txn_get(struct ledger_txn *t, enum ledger_db db, const void *k,
                   size_t kl, MDB_val *v)
{
        MDB_val key = {kl, (void *)k};
        int rc;

        if (t->rc)
                return t->rc;
        rc = mdb_get(t->txn, t->l->db[db], &key, v);
        if (rc && rc != MDB_NOTFOUND)
                t->rc = rc;
        return rc;
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

int ledger_txn_commit(struct ledger_txn *t)
{
        int rc;

        if (!t->txn)
                return t->rc;
        if (t->rc) {
                mdb_txn_abort(t->txn);
                t->txn = NULL;
                return t->rc;
        }
        rc = mdb_txn_commit(t->txn);
        t->txn = NULL;
        t->rc = rc;
        return rc;
}

void ledger_txn_abort(struct ledger_txn *t)
{
        if (t->txn)
                mdb_txn_abort(t->txn);
        t->txn = NULL;
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
                pthread_rwlock_unlock(&l->resize_lock);
                pthread_mutex_lock(&l->write_lock);
                pthread_rwlock_wrlock(&l->resize_lock);
                rc = mdb_env_set_mapsize(l->env, 0);
                pthread_rwlock_unlock(&l->resize_lock);
                pthread_mutex_unlock(&l->write_lock);
                pthread_rwlock_rdlock(&l->resize_lock);
                if (!rc)
                        rc = ledger_txn_begin(t, l, 1);
        }
        if (rc) {
                pthread_rwlock_unlock(&l->resize_lock);
                return ledger_txn_err(rc);
        }
        return LEDGER_OK;
}

void ledger_txn_end_read(struct ledger_txn *t)
{
        ledger_txn_abort(t);
        pthread_rwlock_unlock(&t->l->resize_lock);
}

size_t ledger_txn_account_key(uint8_t *out, const char *account, uint64_t n,
                              unsigned nbytes)
{
        size_t len = strlen(account);
        unsigned i;

        out[0] = (uint8_t)len;
        memcpy(out + 1, account, len);
        for (i = 0; i < nbytes; i++)
                out[1 + len + i] = (uint8_t)(n >> (8 * (nbytes - 1 - i)));
        return 1 + len + nbytes;
}

uint64_t ledger_txn_meta_u64(struct ledger_txn *t, const char *name)
{
        MDB_val v;

        if (ledger_txn_get(t, LEDGER_DB_META, name, strlen(name), &v))
                return 0;
        if (v.mv_size != 8) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return 0;
        }
        return tb_load_u64be(v.mv_data);
}

void ledger_txn_meta_put_u64(struct ledger_txn *t, const char *name, uint64_t v)
{
        uint8_t b[8];

        tb_store_u64be(b, v);
        ledger_txn_put(t, LEDGER_DB_META, name, strlen(name), b, 8, 0);
}

/* Returns 1 if found (a filled), 0 if not (or on failure, see t->rc). */
int ledger_txn_account_get(struct ledger_txn *t, const char *account,
                           struct tb_balance_info *a)
{
        MDB_val v;
        const uint8_t *p;
        size_t len = strlen(account);

        memset(a, 0, sizeof(*a));
        if (len == 0 || len > TB_ACCOUNT_ID_MAX)
                return 0;
        if (ledger_txn_get(t, LEDGER_DB_ACCOUNTS, account, len, &v))
                return 0;
        if (v.mv_size != LACCOUNT_VAL) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return 0;
        }
        p = v.mv_data;
        memcpy(a->account, account, len + 1);
        a->balance = tb_load_u64be(p);
        a->earned = tb_load_u64be(p + 8);
        a->redeemed = tb_load_u64be(p + 16);
        a->transferred_in = tb_load_u64be(p + 24);
        a->transferred_out = tb_load_u64be(p + 32);
        a->minutes = tb_load_u64be(p + 40);
        a->entries = tb_load_u64be(p + 48);
        a->opened_seq = tb_load_u64be(p + 56);
        a->last_seq = tb_load_u64be(p + 64);
        return 1;
}

void ledger_txn_account_put(struct ledger_txn *t,
                            const struct tb_balance_info *a)
{
        uint8_t p[LACCOUNT_VAL];

        tb_store_u64be(p, a->balance);
        tb_store_u64be(p + 8, a->earned);
        tb_store_u64be(p + 16, a->redeemed);
        tb_store_u64be(p + 24, a->transferred_in);
        tb_store_u64be(p + 32, a->transferred_out);
        tb_store_u64be(p + 40, a->minutes);
        tb_store_u64be(p + 48, a->entries);
        tb_store_u64be(p + 56, a->opened_seq);
        tb_store_u64be(p + 64, a->last_seq);
        ledger_txn_put(t, LEDGER_DB_ACCOUNTS, a->account, strlen(a->account), p,
                       sizeof(p), 0);
}

uint64_t ledger_txn_stored_hash_index(unsigned level, uint64_t n)
{
        uint64_t i = 0;
        unsigned l;

        for (l = level; l > 0; l--)
                n = 2 * n + 1;
        for (; n > 0; n >>= 1)
                i += n;
        return i + level;
}

/* A missing or malformed hash is a corrupt store: the sticky error says
 * so, and the Merkle code passes TB_E_IO back to us unchanged. */
enum tb_err ledger_txn_tree_read_cb(void *ctx, unsigned level, uint64_t index,
                                    uint8_t out[TB_HASH_SIZE])
{
        struct ledger_txn *t = ctx;
        uint8_t k[8];
        MDB_val v;
        int rc;

        tb_store_u64be(k, ledger_txn_stored_hash_index(level, index));
        rc = ledger_txn_get(t, LEDGER_DB_HASHES, k, 8, &v);
        if (rc == MDB_NOTFOUND || (!rc && v.mv_size != TB_HASH_SIZE)) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return TB_E_IO;
        }
        if (rc)
                return TB_E_IO;
        memcpy(out, v.mv_data, TB_HASH_SIZE);
        return TB_OK;
}
