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

/* One row's conversion: the new key and value into nk, nv (backed by kb,
 * vb, or pointing into the old row); 0, or non-zero to stop. */
typedef int tamper_conv_fn(MDB_txn *txn, const MDB_val *k, const MDB_val *v,
                           uint8_t *kb, uint8_t *vb, MDB_val *nk, MDB_val *nv);

/* Format 3 accounts (9 u64 ‖ last_service ‖ reach) as format 2's (9 u64). */
static int conv_accounts2(MDB_txn *txn, const MDB_val *k, const MDB_val *v,
                          uint8_t *kb, uint8_t *vb, MDB_val *nk, MDB_val *nv)
{
        (void)txn;
        (void)kb;
        (void)vb;
        if (v->mv_size != 88)
                return -1;
        *nk = *k;
        *nv = (MDB_val){72, v->mv_data};
        return 0;
}

/* Format 3 history (a service row adds [prev_service ‖] reach_before ‖
 * start ‖ minutes) as
 * format 2's (seq ‖ acct -> prev ‖ delta ‖ balance_after). */
static int conv_history2(MDB_txn *txn, const MDB_val *k, const MDB_val *v,
                         uint8_t *kb, uint8_t *vb, MDB_val *nk, MDB_val *nv)
{
        (void)txn;
        (void)kb;
        (void)vb;
        if (v->mv_size != 24 && v->mv_size != 42 && v->mv_size != 50)
                return -1;
        *nk = *k;
        *nv = (MDB_val){24, v->mv_data};
        return 0;
}

/*
 * Format 3 keeps only the seq of an accepted entry's idem row (8 bytes) and
 * status ‖ hash of a refusal (34); formats 1 and 2 stored the whole
 * outcome, u16 status ‖ u64 seq ‖ i64 points ‖ u64 balance ‖ SHA-256 of
 * the body with its clock zeroed (58), the points and balance of an
 * accepted one those of the history row of the account it reports on (its
 * account, a transfer's from, a reverse's reversed entry's), read here in
 * format 2's history layout (already rewritten).
 */
static int conv_idem2(MDB_txn *txn, const MDB_val *k, const MDB_val *v,
                      uint8_t *kb, uint8_t *out, MDB_val *nk, MDB_val *nv)
{
        static const uint8_t zero[8];
        struct tb_record o, orig;
        const struct tb_entry *e;
        const char *account = NULL;
        crypto_hash_sha256_state st;
        uint8_t hk[8 + 1 + TB_ACCOUNT_ID_MAX];
        MDB_dbi history;
        MDB_val hkey, hv;
        uint64_t seq;
        size_t n;
        int rc;

        (void)kb;
        *nk = *k;
        *nv = (MDB_val){58, out};
        memset(out, 0, 58);
        if (v->mv_size == 34) { /* a refusal: seq, points, balance 0 */
                memcpy(out, v->mv_data, 2);
                memcpy(out + 26, (const uint8_t *)v->mv_data + 2, 32);
                return 0;
        }
        if (v->mv_size != 8)
                return -1;
        seq = tamper_u64(v->mv_data);
        if ((rc = tamper_record(txn, seq, &o)))
                return rc;
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
        tamper_put_u64(hk, seq);
        hk[8] = (uint8_t)n;
        memcpy(hk + 9, account, n);
        hkey = (MDB_val){n + 9, hk};
        if ((rc = mdb_dbi_open(txn, "history", 0, &history)) ||
            (rc = mdb_get(txn, history, &hkey, &hv)))
                return rc;
        if (hv.mv_size != 24)
                return -1;
        memcpy(out + 10, (const uint8_t *)hv.mv_data + 8, 16);
        return 0;
}

/* Format 2 history row: seq(8) ‖ len ‖ acct -> prev(8) ‖ delta(8) ‖
 * balance(8) as format 1's len ‖ acct ‖ seq(8) -> delta(8) ‖ balance(8). */
static int conv_history1(MDB_txn *txn, const MDB_val *key, const MDB_val *val,
                         uint8_t *nk, uint8_t *vb, MDB_val *k1, MDB_val *v1)
{
        const uint8_t *k = key->mv_data, *v = val->mv_data;
        size_t kl = key->mv_size;

        (void)txn;
        (void)vb;
        if (kl < 10 || kl != 9 + (size_t)k[8] || val->mv_size != 24)
                return -1;
        memcpy(nk, k + 8, kl - 8);
        memcpy(nk + kl - 8, k, 8);
        *k1 = (MDB_val){kl, nk};
        *v1 = (MDB_val){16, (void *)(v + 8)};
        return 0;
}

/* Format 2 idem key class(1) ‖ rid(16) ‖ pk(32) as format 1's pk ‖ rid. */
static int conv_idem1(MDB_txn *txn, const MDB_val *key, const MDB_val *val,
                      uint8_t *nk, uint8_t *vb, MDB_val *k1, MDB_val *v1)
{
        const uint8_t *k = key->mv_data;

        (void)txn;
        (void)vb;
        if (key->mv_size != 49 || val->mv_size != 58)
                return -1;
        memcpy(nk, k + 17, 32);
        memcpy(nk + 32, k + 1, 16);
        *k1 = (MDB_val){48, nk};
        *v1 = *val;
        return 0;
}

/* Every row of db through conv, in one transaction. */
static int tamper_rewrite(MDB_txn *txn, const char *db, tamper_conv_fn *conv)
{
        struct tamper_rows r = {0};
        uint8_t kb[512], vb[512];
        MDB_dbi dbi;
        MDB_val k, v, key, val;
        size_t i, off = 0, kl, vl;
        int rc;

        if ((rc = mdb_dbi_open(txn, db, 0, &dbi)) ||
            (rc = tamper_rows_read(txn, dbi, &r)) ||
            (rc = mdb_drop(txn, dbi, 0)))
                goto done;
        for (i = 0; i < r.count; i++) {
                uint8_t *p = r.buf + off;
                memcpy(&kl, p, sizeof(size_t));
                memcpy(&vl, p + sizeof(size_t), sizeof(size_t));
                p += 2 * sizeof(size_t);
                k = (MDB_val){kl, p};
                v = (MDB_val){vl, p + kl};
                if (kl > sizeof(kb) ||
                    (rc = conv(txn, &k, &v, kb, vb, &key, &val)) != 0) {
                        rc = rc ? rc : -1;
                        goto done;
                }
                if ((rc = mdb_put(txn, dbi, &key, &val, 0)))
                        goto done;
                off += 2 * sizeof(size_t) + kl + vl;
        }
done:
        free(r.buf);
        return rc;
}

/* acct(len ‖ id) ‖ u64 or u32 n: an intervals or daily key. */
static size_t tamper_acct_key(uint8_t *k, const char *account, uint64_t n,
                              int width)
{
        size_t len = strlen(account), i;

        k[0] = (uint8_t)len;
        memcpy(k + 1, account, len);
        for (i = 0; i < (size_t)width; i++)
                k[1 + len + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
        return 1 + len + (size_t)width;
}

/* One service's interval and day minutes, added (sign 1) or taken back by
 * its reversal (sign -1), as format 2's rules wrote them. */
static int tamper_service(MDB_txn *txn, MDB_dbi iv, MDB_dbi daily,
                          const struct tb_service *s, uint64_t seq, int sign)
{
        uint8_t k[1 + TB_ACCOUNT_ID_MAX + 8], v[16];
        MDB_val key, val;
        uint32_t minutes = 0;
        int rc;

        key =
            (MDB_val){tamper_acct_key(k, s->account, (uint64_t)s->start, 8), k};
        if (sign > 0) {
                tamper_put_u64(v, (uint64_t)(s->start + s->minutes * 60));
                tamper_put_u64(v + 8, seq);
                val = (MDB_val){16, v};
                if ((rc = mdb_put(txn, iv, &key, &val, 0)))
                        return rc;
        } else if ((rc = mdb_del(txn, iv, &key, NULL))) {
                return rc;
        }
        key = (MDB_val){
            tamper_acct_key(k, s->account, (uint64_t)(s->start / 86400), 4), k};
        rc = mdb_get(txn, daily, &key, &val);
        if (rc == 0 && val.mv_size == 4)
                minutes = (uint32_t)((const uint8_t *)val.mv_data)[0] << 24 |
                          (uint32_t)((const uint8_t *)val.mv_data)[1] << 16 |
                          (uint32_t)((const uint8_t *)val.mv_data)[2] << 8 |
                          ((const uint8_t *)val.mv_data)[3];
        else if (rc != MDB_NOTFOUND)
                return rc ? rc : -1;
        minutes = sign > 0 ? minutes + s->minutes : minutes - s->minutes;
        if (minutes == 0)
                return mdb_del(txn, daily, &key, NULL);
        v[0] = (uint8_t)(minutes >> 24);
        v[1] = (uint8_t)(minutes >> 16);
        v[2] = (uint8_t)(minutes >> 8);
        v[3] = (uint8_t)minutes;
        val = (MDB_val){4, v};
        return mdb_put(txn, daily, &key, &val, 0);
}

/* Format 2's intervals and daily rows, which format 3 derives from the
 * history chain instead: rebuilt from the log. */
static int tamper_intervals(MDB_txn *txn)
{
        MDB_dbi log, iv, daily;
        MDB_cursor *c;
        MDB_val k, v;
        struct tb_record o, orig;
        int rc;

        if ((rc = mdb_dbi_open(txn, "log", 0, &log)) ||
            (rc = mdb_dbi_open(txn, "intervals", 0, &iv)) ||
            (rc = mdb_dbi_open(txn, "daily", 0, &daily)) ||
            (rc = mdb_drop(txn, iv, 0)) || (rc = mdb_drop(txn, daily, 0)) ||
            (rc = mdb_cursor_open(txn, log, &c)))
                return rc;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                if (tb_record_decode(v.mv_data, v.mv_size, &o) != TB_OK) {
                        rc = -1;
                        break;
                }
                if (o.entry.kind == TB_KIND_SERVICE)
                        rc = tamper_service(txn, iv, daily, &o.entry.u.service,
                                            o.seq, 1);
                else if (o.entry.kind == TB_KIND_REVERSE &&
                         !(rc = tamper_record(txn, o.entry.u.reverse.seq,
                                              &orig)) &&
                         orig.entry.kind == TB_KIND_SERVICE)
                        rc =
                            tamper_service(txn, iv, daily,
                                           &orig.entry.u.service, orig.seq, -1);
                if (rc)
                        break;
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND ? 0 : rc;
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
        int rc;

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
                tamper_put_u64(key, tamper_leaf_index(tamper_u64(k.mv_data)));
                tb_merkle_leaf_hash(v.mv_data, v.mv_size, leaf);
                hk = (MDB_val){8, key};
                hv = (MDB_val){32, leaf};
                if ((rc = mdb_put(txn, hashes, &hk, &hv, 0)))
                        break;
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND ? 0 : rc;
}

/* StoredHashIndex(level, n) of docs/storage.md. */
static uint64_t tamper_hash_index(unsigned level, uint64_t n)
{
        unsigned l;

        for (l = level; l > 0; l--)
                n = 2 * n + 1;
        return tamper_leaf_index(n) + level;
}

struct tamper_tree {
        MDB_txn *txn;
        MDB_dbi log, hashes;
};

/* tb_merkle_read_fn over format 2's layout being written: a leaf is its
 * log row hashed, a node above is stored. */
static enum tb_err tamper_tree_read(void *ctx, unsigned level, uint64_t index,
                                    uint8_t out[TB_HASH_SIZE])
{
        struct tamper_tree *tr = ctx;
        uint8_t key[8];
        MDB_val k = {8, key}, v;

        tamper_put_u64(key, level ? tamper_hash_index(level, index) : index);
        if (mdb_get(tr->txn, level ? tr->hashes : tr->log, &k, &v))
                return TB_E_IO;
        if (level == 0)
                tb_merkle_leaf_hash(v.mv_data, v.mv_size, out);
        else if (v.mv_size == TB_HASH_SIZE)
                memcpy(out, v.mv_data, TB_HASH_SIZE);
        else
                return TB_E_IO;
        return TB_OK;
}

/* Format 2 stored every node above the leaves; format 3 only those of
 * levels >= LEDGER_HASHES_LEVEL: all rebuilt from the log. */
static int tamper_hashes(MDB_txn *txn)
{
        uint8_t out[TB_MERKLE_APPEND_MAX][TB_HASH_SIZE], leaf[TB_HASH_SIZE];
        uint8_t key[8];
        struct tamper_tree tr = {txn, 0, 0};
        MDB_cursor *c;
        MDB_val k, v, hk, hv;
        uint64_t n;
        size_t count, i;
        int rc;

        if ((rc = mdb_dbi_open(txn, "log", 0, &tr.log)) ||
            (rc = mdb_dbi_open(txn, "hashes", 0, &tr.hashes)) ||
            (rc = mdb_drop(txn, tr.hashes, 0)) ||
            (rc = mdb_cursor_open(txn, tr.log, &c)))
                return rc;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                if (k.mv_size != 8) {
                        rc = -1;
                        break;
                }
                n = tamper_u64(k.mv_data);
                tb_merkle_leaf_hash(v.mv_data, v.mv_size, leaf);
                if (tb_merkle_append(tamper_tree_read, &tr, n, leaf, out,
                                     &count) != TB_OK) {
                        rc = -1;
                        break;
                }
                for (i = 1; i < count && !rc; i++) {
                        tamper_put_u64(key, tamper_hash_index(0, n) + i);
                        hk = (MDB_val){8, key};
                        hv = (MDB_val){TB_HASH_SIZE, out[i]};
                        rc = mdb_put(txn, tr.hashes, &hk, &hv, 0);
                }
                if (rc)
                        break;
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The version, and no accounts_through before format 4 (the format-4
 * ledger was closed, so its account rows are whole). */
static int tamper_version(MDB_txn *txn, unsigned format)
{
        uint8_t one[4] = {0, 0, 0, (uint8_t)format};
        MDB_dbi meta;
        MDB_val k = {7, "version"}, v = {4, one};
        MDB_val through = {16, "accounts_through"};
        int rc;

        if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)))
                return rc;
        if ((rc = mdb_del(txn, meta, &through, NULL)) && rc != MDB_NOTFOUND)
                return rc;
        return mdb_put(txn, meta, &k, &v, 0);
}

int ledger_tamper_format(const char *dir, unsigned format)
{
        MDB_env *env = NULL;
        MDB_txn *txn = NULL;
        int rc;

        if (format < 1 || format > 3)
                return -1;
        if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
            (rc = mdb_env_open(env, dir, 0, 0600)) ||
            (rc = mdb_txn_begin(env, NULL, 0, &txn)))
                goto fail;
        /* format 4 -> 3: the rows are whole, only the meta row differs */
        if (format == 3) {
                if ((rc = tamper_version(txn, format)))
                        goto fail;
                goto commit;
        }
        if (/* format 3 -> 2 */
            (rc = tamper_rewrite(txn, "accounts", conv_accounts2)) ||
            (rc = tamper_rewrite(txn, "history", conv_history2)) ||
            (rc = tamper_rewrite(txn, "idem", conv_idem2)) ||
            (rc = tamper_intervals(txn)) || (rc = tamper_hashes(txn)) ||
            /* format 2 -> 1 */
            (format == 1 &&
             ((rc = tamper_rewrite(txn, "history", conv_history1)) ||
              (rc = tamper_rewrite(txn, "idem", conv_idem1)) ||
              (rc = tamper_leaves(txn)))) ||
            (rc = tamper_version(txn, format)))
                goto fail;
commit:
        rc = mdb_txn_commit(txn);
        txn = NULL;
fail:
        if (txn != NULL)
                mdb_txn_abort(txn);
        if (env != NULL)
                mdb_env_close(env);
        return rc;
}

int ledger_tamper_format1(const char *dir)
{
        return ledger_tamper_format(dir, 1);
}
