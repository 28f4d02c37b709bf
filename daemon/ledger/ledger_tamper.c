/*
 * daemon/ledger/ledger_tamper.c - edit a stored value from outside the
 * ledger (tests only; see ledger_tamper.h).  A plain LMDB write
 * transaction, with none of the ledger's rules or codecs: that is the point.
 */
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "entry.h"
#include "ledger_tamper.h"
#include "merkle.h"

#define LEDGER_TAMPER_VAL_MAX 65536

int ledger_tamper_edit(const char *dir, const char *db, const void *key,
                       size_t key_len, ledger_tamper_edit_cb edit_cb, void *arg)
{
        static uint8_t copy[LEDGER_TAMPER_VAL_MAX];
        MDB_env *env = NULL;
        MDB_txn *txn = NULL;
        MDB_cursor *cur = NULL;
        MDB_dbi dbi;
        MDB_val k = {key_len, (void *)key}, v;
        size_t len;
        int rc;

        if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
            (rc = mdb_env_open(env, dir, 0, 0600)) ||
            (rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
            (rc = mdb_dbi_open(txn, db, 0, &dbi)))
                goto fail;
        if (key == NULL) {
                if ((rc = mdb_cursor_open(txn, dbi, &cur)))
                        goto fail;
                rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
                mdb_cursor_close(cur);
        } else {
                rc = mdb_get(txn, dbi, &k, &v);
        }
        if (rc)
                goto fail;
        if (v.mv_size > sizeof(copy)) {
                rc = -1;
                goto fail;
        }
        memcpy(copy, v.mv_data, v.mv_size);
        len = v.mv_size;
        if ((rc = edit_cb(copy, &len, sizeof(copy), arg)))
                goto fail;
        v.mv_data = copy;
        v.mv_size = len;
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)))
                goto fail;
        rc = mdb_txn_commit(txn);
        txn = NULL;
fail:
        if (txn != NULL)
                mdb_txn_abort(txn);
        if (env != NULL)
                mdb_env_close(env);
        return rc;
}

/* One database's rows, copied out so that it can be emptied and rewritten
 * in the same transaction. */
struct tamper_rows {
        uint8_t *buf;
        size_t len, cap, count;
};

static int tamper_rows_add(struct tamper_rows *r, const MDB_val *k,
                           const MDB_val *v)
{
        size_t need = 2 * sizeof(size_t) + k->mv_size + v->mv_size;
        uint8_t *p;

        if (r->len + need > r->cap) {
                size_t cap = r->cap ? 2 * r->cap : 65536;
                while (cap < r->len + need)
                        cap *= 2;
                if (!(p = realloc(r->buf, cap)))
                        return -1;
                r->buf = p;
                r->cap = cap;
        }
        p = r->buf + r->len;
        memcpy(p, &k->mv_size, sizeof(size_t));
        memcpy(p + sizeof(size_t), &v->mv_size, sizeof(size_t));
        memcpy(p + 2 * sizeof(size_t), k->mv_data, k->mv_size);
        memcpy(p + 2 * sizeof(size_t) + k->mv_size, v->mv_data, v->mv_size);
        r->len += need;
        r->count++;
        return 0;
}

static int tamper_rows_read(MDB_txn *txn, MDB_dbi dbi, struct tamper_rows *r)
{
        MDB_cursor *c;
        MDB_val k, v;
        int rc;

        if ((rc = mdb_cursor_open(txn, dbi, &c)))
                return rc;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
                if (tamper_rows_add(r, &k, &v)) {
                        rc = -1;
                        break;
                }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND ? 0 : rc;
}

/* history row: seq(8) ‖ len ‖ acct -> prev(8) ‖ delta(8) ‖ balance(8) into
 * len ‖ acct ‖ seq(8) -> delta(8) ‖ balance(8); idem: class(1) ‖ rid(16) ‖
 * pk(32) into pk ‖ rid, value as it is. */
static int tamper_row_format1(int history, const uint8_t *k, size_t kl,
                              const uint8_t *v, size_t vl, uint8_t *nk,
                              MDB_val *key, MDB_val *val)
{
        if (history) {
                if (kl < 10 || kl != 9 + (size_t)k[8] || vl != 24)
                        return -1;
                memcpy(nk, k + 8, kl - 8);
                memcpy(nk + kl - 8, k, 8);
                *val = (MDB_val){16, (void *)(v + 8)};
        } else {
                if (kl != 49)
                        return -1;
                memcpy(nk, k + 17, 32);
                memcpy(nk + 32, k + 1, 16);
                *val = (MDB_val){vl, (void *)v};
                kl = 48;
        }
        *key = (MDB_val){kl, nk};
        return 0;
}

static uint64_t tamper_u64(const uint8_t *p)
{
        uint64_t n = 0;
        int i;

        for (i = 0; i < 8; i++)
                n = n << 8 | p[i];
        return n;
}

static void tamper_put_u64(uint8_t *p, uint64_t n)
{
        int i;

        for (i = 7; i >= 0; i--, n >>= 8)
                p[i] = (uint8_t)n;
}

/* The decoded record at seq of the log. */
static int tamper_record(MDB_txn *txn, uint64_t seq, struct tb_record *o)
{
        MDB_dbi log;
        uint8_t key[8];
        MDB_val k = {8, key}, v;
        int rc;

        tamper_put_u64(key, seq);
        if ((rc = mdb_dbi_open(txn, "log", 0, &log)) ||
            (rc = mdb_get(txn, log, &k, &v)))
                return rc;
        return tb_record_decode(v.mv_data, v.mv_size, o) == TB_OK ? 0 : -1;
}

/*
 * Format 3 keeps only the seq of an accepted entry's idem row; formats 1
 * and 2 stored its whole outcome, u16 status 0 ‖ u64 seq ‖ i64 points ‖
 * u64 balance ‖ SHA-256 of the body with its clock zeroed, the points and
 * balance those of the history row of the account the entry reports on
 * (its account, a transfer's from, a reverse's reversed entry's), read
 * here in format 1's history layout (len ‖ acct ‖ seq -> delta ‖ balance,
 * already rewritten).
 */
static int tamper_idem_value(MDB_txn *txn, const uint8_t *v, uint8_t out[58])
{
        static const uint8_t zero[8];
        struct tb_record o, orig;
        const struct tb_entry *e;
        const char *account = NULL;
        crypto_hash_sha256_state st;
        uint8_t hk[1 + TB_ACCOUNT_ID_MAX + 8];
        MDB_dbi history;
        MDB_val k, hv;
        uint64_t seq = tamper_u64(v);
        size_t n;
        int rc;

        if ((rc = tamper_record(txn, seq, &o)))
                return rc;
        memset(out, 0, 58);
        tamper_put_u64(out + 2, seq);
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, o.body, TB_ENTRY_CLOCK_OFF);
        crypto_hash_sha256_update(&st, zero, sizeof(zero));
        crypto_hash_sha256_update(&st, o.body + TB_ENTRY_CLOCK_OFF + 8,
                                  o.body_len - TB_ENTRY_CLOCK_OFF - 8);
        crypto_hash_sha256_final(&st, out + 26);
        e = &o.entry;
        if (e->kind == TB_KIND_REVERSE) {
                if ((rc = tamper_record(txn, e->u.reverse.seq, &orig)))
                        return rc;
                e = &orig.entry;
        }
        if (e->kind == TB_KIND_SERVICE)
                account = e->u.service.account;
        else if (e->kind == TB_KIND_REDEEM)
                account = e->u.redeem.account;
        else if (e->kind == TB_KIND_TRANSFER)
                account = e->u.transfer.from;
        if (!account)
                return 0;
        n = strlen(account);
        hk[0] = (uint8_t)n;
        memcpy(hk + 1, account, n);
        tamper_put_u64(hk + 1 + n, seq);
        k = (MDB_val){n + 9, hk};
        if ((rc = mdb_dbi_open(txn, "history", 0, &history)) ||
            (rc = mdb_get(txn, history, &k, &hv)))
                return rc;
        if (hv.mv_size != 16)
                return -1;
        memcpy(out + 10, hv.mv_data, 16);
        return 0;
}

static int tamper_rewrite(MDB_txn *txn, const char *db, int history)
{
        struct tamper_rows r = {0};
        uint8_t nk[512], nv[58];
        MDB_dbi dbi;
        MDB_val key, val;
        size_t i, off = 0, kl, vl;
        int rc;

        if ((rc = mdb_dbi_open(txn, db, 0, &dbi)) ||
            (rc = tamper_rows_read(txn, dbi, &r)) ||
            (rc = mdb_drop(txn, dbi, 0)))
                goto done;
        for (i = 0; i < r.count; i++) {
                const uint8_t *p = r.buf + off;
                memcpy(&kl, p, sizeof(size_t));
                memcpy(&vl, p + sizeof(size_t), sizeof(size_t));
                p += 2 * sizeof(size_t);
                if (kl > sizeof(nk) ||
                    tamper_row_format1(history, p, kl, p + kl, vl, nk, &key,
                                       &val)) {
                        rc = -1;
                        goto done;
                }
                if (!history && val.mv_size == 8) {
                        if ((rc = tamper_idem_value(txn, val.mv_data, nv)))
                                goto done;
                        val = (MDB_val){sizeof(nv), nv};
                } else if (!history && val.mv_size == 34) {
                        /* a refusal: u16 status ‖ hash, seq points balance
                         * 0 */
                        memset(nv, 0, sizeof(nv));
                        memcpy(nv, val.mv_data, 2);
                        memcpy(nv + 26, (const uint8_t *)val.mv_data + 2, 32);
                        val = (MDB_val){sizeof(nv), nv};
                }
                if ((rc = mdb_put(txn, dbi, &key, &val, 0)))
                        goto done;
                off += 2 * sizeof(size_t) + kl + vl;
        }
done:
        free(r.buf);
        return rc;
}

/* StoredHashIndex(0, n) of docs/storage.md: where format 1 kept leaf n. */
static uint64_t tamper_leaf_index(uint64_t n)
{
        uint64_t i = 0;

        for (; n > 0; n >>= 1)
                i += n;
        return i;
}

/* Format 1 stored every leaf hash too: SHA-256(0x00 ‖ record). */
static int tamper_leaves(MDB_txn *txn)
{
        MDB_dbi log, hashes;
        MDB_cursor *c;
        MDB_val k, v, hk, hv;
        uint8_t key[8], leaf[32];
        uint64_t n, idx;
        int rc, i;

        if ((rc = mdb_dbi_open(txn, "log", 0, &log)) ||
            (rc = mdb_dbi_open(txn, "hashes", 0, &hashes)) ||
            (rc = mdb_cursor_open(txn, log, &c)))
                return rc;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                if (k.mv_size != 8) {
                        rc = -1;
                        break;
                }
                for (n = 0, i = 0; i < 8; i++)
                        n = n << 8 | ((const uint8_t *)k.mv_data)[i];
                idx = tamper_leaf_index(n);
                for (i = 7; i >= 0; i--, idx >>= 8)
                        key[i] = (uint8_t)idx;
                tb_merkle_leaf_hash(v.mv_data, v.mv_size, leaf);
                hk = (MDB_val){8, key};
                hv = (MDB_val){32, leaf};
                if ((rc = mdb_put(txn, hashes, &hk, &hv, 0)))
                        break;
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND ? 0 : rc;
}

int ledger_tamper_format1(const char *dir)
{
        static const uint8_t one[4] = {0, 0, 0, 1};
        MDB_env *env = NULL;
        MDB_txn *txn = NULL;
        MDB_dbi meta;
        MDB_val k = {7, "version"}, v = {4, (void *)one};
        int rc;

        if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
            (rc = mdb_env_open(env, dir, 0, 0600)) ||
            (rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
            (rc = tamper_rewrite(txn, "history", 1)) ||
            (rc = tamper_rewrite(txn, "idem", 0)) ||
            (rc = tamper_leaves(txn)) ||
            (rc = mdb_dbi_open(txn, "meta", 0, &meta)) ||
            (rc = mdb_put(txn, meta, &k, &v, 0)))
                goto fail;
        rc = mdb_txn_commit(txn);
        txn = NULL;
fail:
        if (txn != NULL)
                mdb_txn_abort(txn);
        if (env != NULL)
                mdb_env_close(env);
        return rc;
}
