/*
 * daemon/ledger_read.c - the read side: balances, history, records,
 * checkpoints, proofs and status, each in its own read-only transaction so
 * readers never wait for the writer (MDB_NOTLS lets any thread run them).
 *
 * Bytes are copied out before the transaction ends: LMDB's pointers are
 * only valid inside it, and a reader holding a transaction open would also
 * hold back map growth.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "ledger_int.h"

static const uint8_t *copy_out(const MDB_val *v, uint8_t *buf, size_t cap,
                               size_t *off)
{
        uint8_t *p;

        if (v->mv_size > cap - *off)
                return NULL;
        p = buf + *off;
        memcpy(p, v->mv_data, v->mv_size);
        *off += v->mv_size;
        return p;
}

const char *ledger_origin(const struct ledger *l)
{
        return l->origin;
}

const char *ledger_log_vkey(const struct ledger *l)
{
        return l->vkey_text;
}

enum ledger_err ledger_balance(struct ledger *l, const char *account,
                               struct tb_balance_info *out)
{
        struct ledger_txn t;
        enum ledger_err err;
        int found;

        if (!l || !account || !out ||
            tb_account_check(account,
                             strnlen(account, TB_ACCOUNT_ID_MAX + 1)) != TB_OK)
                return LEDGER_E_INVALID;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        found = ledger_txn_account_get(&t, account, out);
        err = t.rc    ? ledger_txn_err(t.rc)
              : found ? LEDGER_OK
                      : LEDGER_E_NOT_FOUND;
        ledger_txn_end_read(&t);
        return err;
}

static int get_record(struct ledger_txn *t, uint64_t seq, MDB_val *v)
{
        uint8_t k[8];

        tb_store_u64be(k, seq);
        return ledger_txn_get(t, LEDGER_DB_LOG, k, 8, v);
}

enum ledger_err ledger_history(struct ledger *l, const char *account,
                               uint64_t before, unsigned limit,
                               struct tb_history *out, uint8_t *buf, size_t cap)
{
        struct tb_balance_info acct;
        struct ledger_txn t;
        uint8_t k[LACCT_KEY_MAX];
        MDB_cursor *c = NULL;
        MDB_val key, val, rec;
        size_t kl, pl, off = 0;
        enum ledger_err err;
        int rc;

        if (!l || !account || !out || (!buf && cap) || limit == 0 ||
            limit > TB_HISTORY_MAX ||
            tb_account_check(account,
                             strnlen(account, TB_ACCOUNT_ID_MAX + 1)) != TB_OK)
                return LEDGER_E_INVALID;
        memset(out, 0, sizeof(*out));
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        if (!ledger_txn_account_get(&t, account, &acct)) {
                err = t.rc ? ledger_txn_err(t.rc) : LEDGER_E_NOT_FOUND;
                goto done;
        }
        kl = ledger_txn_account_key(k, account, before, 8);
        pl = kl - 8;
        if ((rc = mdb_cursor_open(t.txn, l->db[LEDGER_DB_HISTORY], &c))) {
                err = ledger_txn_err(rc);
                goto done;
        }
        key.mv_size = kl;
        key.mv_data = k;
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        if (rc == 0)
                rc = mdb_cursor_get(c, &key, &val, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
                rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
        err = LEDGER_OK;
        while (rc == 0 && key.mv_size == kl &&
               memcmp(key.mv_data, k, pl) == 0) {
                struct tb_history_item *it;
                uint64_t seq = tb_load_u64be((uint8_t *)key.mv_data + pl);

                if (out->count == limit) {
                        out->next_before = out->items[limit - 1].seq;
                        break;
                }
                if (val.mv_size != LHISTORY_VAL || get_record(&t, seq, &rec)) {
                        err = LEDGER_E_CORRUPT;
                        goto done;
                }
                it = &out->items[out->count];
                it->seq = seq;
                it->delta = (int64_t)tb_load_u64be(val.mv_data);
                it->balance_after = tb_load_u64be((uint8_t *)val.mv_data + 8);
                if (!(it->record = copy_out(&rec, buf, cap, &off))) {
                        err = LEDGER_E_OVERFLOW;
                        goto done;
                }
                it->record_len = rec.mv_size;
                out->count++;
                rc = mdb_cursor_get(c, &key, &val, MDB_PREV);
        }
        if (rc && rc != MDB_NOTFOUND)
                err = ledger_txn_err(rc);
done:
        if (c)
                mdb_cursor_close(c);
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_entry(struct ledger *l, uint64_t seq, uint8_t *buf,
                             size_t cap, size_t *len)
{
        struct ledger_txn t;
        MDB_val v;
        size_t off = 0;
        enum ledger_err err;
        int rc;

        if (!l || !len || (!buf && cap))
                return LEDGER_E_INVALID;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        rc = get_record(&t, seq, &v);
        if (rc)
                err = ledger_txn_err(rc);
        else if (!copy_out(&v, buf, cap, &off))
                err = LEDGER_E_OVERFLOW;
        else
                *len = v.mv_size;
        ledger_txn_end_read(&t);
        return err;
}

/* The checkpoint of exactly `size`, or with size == 0 the latest. */
static enum ledger_err checkpoint_get(struct ledger_txn *t, uint64_t size,
                                      MDB_val *v, uint64_t *got)
{
        MDB_cursor *c;
        uint8_t kb[8];
        MDB_val k = {8, kb};
        int rc;

        tb_store_u64be(kb, size);
        if ((rc = mdb_cursor_open(t->txn, t->l->db[LEDGER_DB_CHECKPOINTS], &c)))
                return ledger_txn_err(rc);
        rc = mdb_cursor_get(c, &k, v, size ? MDB_SET_KEY : MDB_LAST);
        if (!rc && k.mv_size != 8)
                rc = LEDGER_TXN_E_CORRUPT;
        if (!rc && got)
                *got = tb_load_u64be(k.mv_data);
        mdb_cursor_close(c);
        return ledger_txn_err(rc);
}

enum ledger_err ledger_checkpoint(struct ledger *l, uint8_t *buf, size_t cap,
                                  size_t *len, uint64_t *size)
{
        struct ledger_txn t;
        MDB_val v;
        size_t off = 0;
        uint64_t got = 0;
        enum ledger_err err;

        if (!l || !len || (!buf && cap))
                return LEDGER_E_INVALID;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        err = checkpoint_get(&t, 0, &v, &got);
        if (err == LEDGER_E_NOT_FOUND)
                err = LEDGER_E_CORRUPT;
        if (!err && !copy_out(&v, buf, cap, &off))
                err = LEDGER_E_OVERFLOW;
        if (!err) {
                *len = v.mv_size;
                if (size)
                        *size = got;
        }
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_checkpoint_at(struct ledger *l, uint64_t size,
                                     uint8_t *buf, size_t cap, size_t *len)
{
        struct ledger_txn t;
        MDB_val v;
        size_t off = 0;
        enum ledger_err err;

        if (!l || !len || (!buf && cap))
                return LEDGER_E_INVALID;
        if (size == 0)
                return LEDGER_E_NOT_FOUND;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        err = checkpoint_get(&t, size, &v, NULL);
        if (!err && !copy_out(&v, buf, cap, &off))
                err = LEDGER_E_OVERFLOW;
        if (!err)
                *len = v.mv_size;
        ledger_txn_end_read(&t);
        return err;
}

static enum ledger_err tree_err(struct ledger_txn *t, enum tb_err e)
{
        if (t->rc)
                return ledger_txn_err(t->rc);
        if (e == TB_E_PROOF_RANGE)
                return LEDGER_E_RANGE;
        return e ? LEDGER_E_CORRUPT : LEDGER_OK;
}

static enum ledger_err resolve_size(struct ledger_txn *t, uint64_t *size)
{
        uint64_t tree = ledger_txn_meta_u64(t, "tree_size");

        if (t->rc)
                return ledger_txn_err(t->rc);
        if (*size == 0)
                *size = tree;
        return *size > tree ? LEDGER_E_RANGE : LEDGER_OK;
}

static enum ledger_err attach_checkpoint(struct ledger_txn *t,
                                         struct tb_proof *out, uint8_t *buf,
                                         size_t cap, size_t *off)
{
        MDB_val v;
        enum ledger_err err = checkpoint_get(t, out->size, &v, NULL);

        if (err == LEDGER_E_NOT_FOUND)
                return LEDGER_OK;
        if (err)
                return err;
        if (!(out->checkpoint = copy_out(&v, buf, cap, off)))
                return LEDGER_E_OVERFLOW;
        out->checkpoint_len = v.mv_size;
        return LEDGER_OK;
}

enum ledger_err ledger_prove_inclusion(struct ledger *l, uint64_t seq,
                                       uint64_t size, struct tb_proof *out,
                                       uint8_t *buf, size_t cap)
{
        struct ledger_txn t;
        MDB_val rec;
        size_t count = 0, off = 0;
        enum ledger_err err;

        if (!l || !out || (!buf && cap))
                return LEDGER_E_INVALID;
        memset(out, 0, sizeof(*out));
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        if ((err = resolve_size(&t, &size)))
                goto done;
        if (seq >= size) {
                err = LEDGER_E_RANGE;
                goto done;
        }
        err = tree_err(&t, tb_merkle_prove_inclusion(ledger_txn_tree_read_cb,
                                                     &t, seq, size, out->hashes,
                                                     &count));
        if (err)
                goto done;
        out->index = seq;
        out->size = size;
        out->count = (uint8_t)count;
        if (get_record(&t, seq, &rec)) {
                err = LEDGER_E_CORRUPT;
                goto done;
        }
        if (!(out->record = copy_out(&rec, buf, cap, &off))) {
                err = LEDGER_E_OVERFLOW;
                goto done;
        }
        out->record_len = rec.mv_size;
        err = attach_checkpoint(&t, out, buf, cap, &off);
done:
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_prove_consistency(struct ledger *l, uint64_t old_size,
                                         uint64_t size, struct tb_proof *out,
                                         uint8_t *buf, size_t cap)
{
        struct ledger_txn t;
        size_t count = 0, off = 0;
        enum ledger_err err;

        if (!l || !out || (!buf && cap))
                return LEDGER_E_INVALID;
        memset(out, 0, sizeof(*out));
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        if ((err = resolve_size(&t, &size)))
                goto done;
        if (old_size == 0 || old_size > size) {
                err = LEDGER_E_RANGE;
                goto done;
        }
        err = tree_err(&t, tb_merkle_prove_consistency(ledger_txn_tree_read_cb,
                                                       &t, old_size, size,
                                                       out->hashes, &count));
        if (err)
                goto done;
        out->index = old_size;
        out->size = size;
        out->count = (uint8_t)count;
        err = attach_checkpoint(&t, out, buf, cap, &off);
done:
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_root(struct ledger *l, uint64_t size,
                            uint8_t root[TB_HASH_SIZE])
{
        struct ledger_txn t;
        enum ledger_err err;

        if (!l || !root)
                return LEDGER_E_INVALID;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        if (size == 0)
                tb_merkle_empty_root(root);
        else if (!(err = resolve_size(&t, &size)))
                err = tree_err(&t, tb_merkle_tree_hash(ledger_txn_tree_read_cb,
                                                       &t, size, root));
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_status(struct ledger *l, struct tb_status_info *out)
{
        struct ledger_txn t;
        MDB_stat st;
        MDB_envinfo info;
        struct stat fs;
        char path[PATH_MAX];
        enum ledger_err err;
        int rc;

        if (!l || !out)
                return LEDGER_E_INVALID;
        memset(out, 0, sizeof(*out));
        snprintf(out->origin, sizeof(out->origin), "%s", l->origin);
        snprintf(out->log_key, sizeof(out->log_key), "%s", l->vkey_text);
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        out->tree_size = ledger_txn_meta_u64(&t, "tree_size");
        out->keys_active = ledger_txn_meta_u64(&t, "keys_active");
        out->keys_revoked = ledger_txn_meta_u64(&t, "keys_revoked");
        if (t.rc) {
                err = ledger_txn_err(t.rc);
                goto done;
        }
        if ((rc = mdb_stat(t.txn, l->db[LEDGER_DB_ACCOUNTS], &st)) ||
            (rc = mdb_env_info(l->env, &info))) {
                err = ledger_txn_err(rc);
                goto done;
        }
        out->accounts = st.ms_entries;
        out->map_bytes = info.me_mapsize;
        if (snprintf(path, sizeof(path), "%s/data.mdb", l->dir) >=
                (int)sizeof(path) ||
            stat(path, &fs) != 0) {
                err = LEDGER_E_IO;
                goto done;
        }
        out->disk_bytes = (uint64_t)fs.st_blocks * 512;
done:
        ledger_txn_end_read(&t);
        return err;
}
