/*
 * daemon/ledger/ledger_read.c - the read side: balances, history, records,
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

#include "ledger_store.h"

static const uint8_t *copy_out(const uint8_t *src, size_t len, uint8_t *buf,
                               size_t cap, size_t *off)
{
        uint8_t *p;

        if (len > cap - *off)
                return NULL;
        p = buf + *off;
        memcpy(p, src, len);
        *off += len;
        return p;
}

/* Why a lookup answered 0: a failure, else the row is absent. */
static enum ledger_err lookup_err(const struct ledger_txn *t,
                                  enum ledger_err absent)
{
        return t->rc ? ledger_txn_err(t->rc) : absent;
}

const char *ledger_origin(const struct ledger *l)
{
        return l->origin;
}

const char *ledger_log_vkey(const struct ledger *l)
{
        return l->vkey_text;
}

/*
 * A read transaction begun for account's row, into a: the row behind
 * (ledger_accounts.c) if there is one, looked at before the snapshot is
 * taken so that the snapshot holds its history, else the snapshot's row;
 * *found 0 if neither (t->rc tells a failure from a missing account).
 */
static enum ledger_err begin_with_row(struct ledger *l, const char *account,
                                      struct ledger_txn *t,
                                      struct tb_balance_info *a, int *found)
{
        struct ledger_accounts_peek p;
        enum ledger_err err;

        for (;;) {
                ledger_accounts_peek(l, account, &p);
                if ((err = ledger_txn_begin_read(l, t)))
                        return err;
                if (ledger_accounts_peek_holds(t, &p))
                        break;
                ledger_txn_end_read(t);
        }
        if (p.found) {
                *a = p.a;
                *found = 1;
        } else {
                *found = ledger_store_accounts_get(t, account, a, NULL);
        }
        return LEDGER_OK;
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
        if ((err = begin_with_row(l, account, &t, out, &found)))
                return err;
        if (!found)
                err = lookup_err(&t, LEDGER_E_NOT_FOUND);
        ledger_txn_end_read(&t);
        return err;
}

struct history_page {
        struct ledger_txn *t;
        struct tb_history *out;
        unsigned limit;
        uint8_t *buf;
        size_t cap, off;
        enum ledger_err err;
};

/* One row more than the page holds only tells that there is a next page. */
static int history_item_cb(void *ctx, const struct ledger_store_history *h)
{
        struct history_page *pg = ctx;
        struct tb_history *out = pg->out;
        struct tb_history_item *it;
        struct ledger_store_record rec;

        if (out->count == pg->limit) {
                out->next_before = out->items[pg->limit - 1].seq;
                return 1;
        }
        if (!ledger_store_log_get(pg->t, h->seq, &rec)) {
                pg->err = LEDGER_E_CORRUPT;
                return 1;
        }
        it = &out->items[out->count];
        it->seq = h->seq;
        it->delta = h->delta;
        it->balance_after = h->balance_after;
        if (!(it->record =
                  copy_out(rec.bytes, rec.len, pg->buf, pg->cap, &pg->off))) {
                pg->err = LEDGER_E_OVERFLOW;
                return 1;
        }
        it->record_len = rec.len;
        out->count++;
        return 0;
}

enum ledger_err ledger_history(struct ledger *l, const char *account,
                               uint64_t before, unsigned limit,
                               struct tb_history *out, uint8_t *buf, size_t cap)
{
        struct tb_balance_info acct;
        struct ledger_txn t;
        struct history_page pg;
        enum ledger_err err;
        int found;

        if (!l || !account || !out || (!buf && cap) || limit == 0 ||
            limit > TB_HISTORY_MAX ||
            tb_account_check(account,
                             strnlen(account, TB_ACCOUNT_ID_MAX + 1)) != TB_OK)
                return LEDGER_E_INVALID;
        memset(out, 0, sizeof(*out));
        if ((err = begin_with_row(l, account, &t, &acct, &found)))
                return err;
        if (!found) {
                err = lookup_err(&t, LEDGER_E_NOT_FOUND);
                goto done;
        }
        pg = (struct history_page){&t, out, limit, buf, cap, 0, LEDGER_OK};
        ledger_store_history_walk(&t, &acct, before, history_item_cb, &pg);
        err = t.rc ? ledger_txn_err(t.rc) : pg.err;
done:
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_entry(struct ledger *l, uint64_t seq, uint8_t *buf,
                             size_t cap, size_t *len)
{
        struct ledger_txn t;
        struct ledger_store_record rec;
        size_t off = 0;
        enum ledger_err err;

        if (!l || !len || (!buf && cap))
                return LEDGER_E_INVALID;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        if (!ledger_store_log_get(&t, seq, &rec))
                err = lookup_err(&t, LEDGER_E_NOT_FOUND);
        else if (!copy_out(rec.bytes, rec.len, buf, cap, &off))
                err = LEDGER_E_OVERFLOW;
        else
                *len = rec.len;
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_checkpoint(struct ledger *l, uint8_t *buf, size_t cap,
                                  size_t *len, uint64_t *size)
{
        struct ledger_txn t;
        const uint8_t *note;
        size_t n, off = 0;
        uint64_t got;
        enum ledger_err err;

        if (!l || !len || (!buf && cap))
                return LEDGER_E_INVALID;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        /* genesis signs the first: a ledger without one is corrupt */
        if (!ledger_store_checkpoints_last(&t, &got, &note, &n))
                err = lookup_err(&t, LEDGER_E_CORRUPT);
        else if (!copy_out(note, n, buf, cap, &off))
                err = LEDGER_E_OVERFLOW;
        else {
                *len = n;
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
        const uint8_t *note;
        size_t n, off = 0;
        enum ledger_err err;

        if (!l || !len || (!buf && cap))
                return LEDGER_E_INVALID;
        if (size == 0)
                return LEDGER_E_NOT_FOUND;
        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        if (!ledger_store_checkpoints_get(&t, size, &note, &n))
                err = lookup_err(&t, LEDGER_E_NOT_FOUND);
        else if (!copy_out(note, n, buf, cap, &off))
                err = LEDGER_E_OVERFLOW;
        else
                *len = n;
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
        uint64_t tree;

        ledger_txn_require(
            t, ledger_store_meta_uint_get(t, LEDGER_STORE_TREE_SIZE, &tree));
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
        const uint8_t *note;
        size_t len;

        if (!ledger_store_checkpoints_get(t, out->size, &note, &len))
                return lookup_err(t, LEDGER_OK);
        if (!(out->checkpoint = copy_out(note, len, buf, cap, off)))
                return LEDGER_E_OVERFLOW;
        out->checkpoint_len = len;
        return LEDGER_OK;
}

/* Both proofs: check the arguments, begin the read, resolve size. */
static enum ledger_err proof_begin(struct ledger *l, struct tb_proof *out,
                                   const uint8_t *buf, size_t cap,
                                   struct ledger_txn *t, uint64_t *size)
{
        enum ledger_err err;

        if (!l || !out || (!buf && cap))
                return LEDGER_E_INVALID;
        memset(out, 0, sizeof(*out));
        if ((err = ledger_txn_begin_read(l, t)))
                return err;
        if ((err = resolve_size(t, size)))
                ledger_txn_end_read(t);
        return err;
}

enum ledger_err ledger_prove_inclusion(struct ledger *l, uint64_t seq,
                                       uint64_t size, struct tb_proof *out,
                                       uint8_t *buf, size_t cap)
{
        struct ledger_txn t;
        struct ledger_store_record rec;
        size_t count = 0, off = 0;
        enum ledger_err err;

        if ((err = proof_begin(l, out, buf, cap, &t, &size)))
                return err;
        if (seq >= size) {
                err = LEDGER_E_RANGE;
                goto done;
        }
        err = tree_err(
            &t, tb_merkle_prove_inclusion(ledger_store_hashes_read_cb, &t, seq,
                                          size, out->hashes, &count));
        if (err)
                goto done;
        out->index = seq;
        out->size = size;
        out->count = (uint8_t)count;
        if (!ledger_store_log_get(&t, seq, &rec)) {
                err = LEDGER_E_CORRUPT;
                goto done;
        }
        if (!(out->record = copy_out(rec.bytes, rec.len, buf, cap, &off))) {
                err = LEDGER_E_OVERFLOW;
                goto done;
        }
        out->record_len = rec.len;
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

        if ((err = proof_begin(l, out, buf, cap, &t, &size)))
                return err;
        if (old_size == 0 || old_size > size) {
                err = LEDGER_E_RANGE;
                goto done;
        }
        err = tree_err(&t, tb_merkle_prove_consistency(
                               ledger_store_hashes_read_cb, &t, old_size, size,
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
                err = tree_err(&t,
                               tb_merkle_tree_hash(ledger_store_hashes_read_cb,
                                                   &t, size, root));
        ledger_txn_end_read(&t);
        return err;
}

enum ledger_err ledger_status(struct ledger *l, struct tb_status_info *out)
{
        struct ledger_txn t;
        MDB_envinfo info;
        struct stat fs;
        char path[PATH_MAX];
        struct ledger_accounts_peek p;
        enum ledger_err err;
        int rc;

        if (!l || !out)
                return LEDGER_E_INVALID;
        memset(out, 0, sizeof(*out));
        snprintf(out->origin, sizeof(out->origin), "%s", l->origin);
        snprintf(out->log_key, sizeof(out->log_key), "%s", l->vkey_text);
        for (;;) {
                ledger_accounts_peek_settled(l, &p);
                if ((err = ledger_txn_begin_read(l, &t)))
                        return err;
                if (ledger_accounts_peek_holds(&t, &p))
                        break;
                ledger_txn_end_read(&t);
        }
        ledger_txn_require(
            &t, ledger_store_meta_uint_get(&t, LEDGER_STORE_TREE_SIZE,
                                           &out->tree_size));
        /* a ledger whose genesis never committed has no key counts yet:
         * they read 0 */
        if (!ledger_store_meta_uint_get(&t, LEDGER_STORE_KEYS_ACTIVE,
                                        &out->keys_active) ||
            !ledger_store_meta_uint_get(&t, LEDGER_STORE_KEYS_REVOKED,
                                        &out->keys_revoked))
                out->keys_active = out->keys_revoked = 0;
        /* those registered since the last flush are behind (format 4) */
        out->accounts = ledger_txn_count(&t, LEDGER_DB_ACCOUNTS) + p.fresh;
        if (t.rc) {
                err = ledger_txn_err(t.rc);
                goto done;
        }
        if ((rc = mdb_env_info(l->env, &info))) {
                err = ledger_txn_err(rc);
                goto done;
        }
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
