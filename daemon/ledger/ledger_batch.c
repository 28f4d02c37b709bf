/*
 * daemon/ledger/ledger_batch.c - the write path: one LMDB write transaction
 * per batch, every entry checked for idempotency then by the rules, the
 * accepted ones appended to the log and the tree, one checkpoint per batch,
 * one durable commit.
 *
 * Two commits per batch: the entries first, then the checkpoint, signed
 * through l->signer (the log key is in another process when serving).  A
 * signer that enforces append-only remembers what it signed; if it signed
 * before the entries were durable, a crash would leave it bound to a tree
 * the ledger lost, and it would rightly refuse every tree after.  Signed
 * after, the worst a crash leaves is a tree without its checkpoint, which
 * the next open signs (the same bytes, had it been signed already).
 *
 * The batch is retried as a whole after the map grows: LMDB can only be
 * resized with no transaction active, so MDB_MAP_FULL aborts everything
 * the batch did, the map doubles, and the same items are applied again
 * from the same state (the rules are deterministic, so the results are the
 * same as if the map had been big enough from the start).
 */
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include <sodium.h>

#include "ledger_store.h"
#include "note.h"

static int remembered(unsigned st)
{
        if (st == TB_ST_OK)
                return 1;
        return tb_status_class(st) == TB_STC_REFUSED &&
               st != TB_ST_BAD_SIGNATURE && st != TB_ST_UNKNOWN_KEY &&
               st != TB_ST_REQUEST_ID_REUSED && st != TB_ST_SAME_ACCOUNT;
}

/*
 * What "the same request" means for idempotency: the body with the
 * terminal's clock zeroed.  A terminal (or a person re-running the CLI)
 * that retries a request a second later signs a new clock; that is still
 * the same request, and must get the first outcome, not REQUEST_ID_REUSED.
 */
static void idem_hash(const uint8_t *body, size_t blen,
                      uint8_t hash[TB_HASH_SIZE])
{
        static const uint8_t zero[8];
        crypto_hash_sha256_state st;

        /* the decoder guarantees blen > TB_ENTRY_CLOCK_OFF + 8 */
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, body, TB_ENTRY_CLOCK_OFF);
        crypto_hash_sha256_update(&st, zero, sizeof(zero));
        crypto_hash_sha256_update(&st, body + TB_ENTRY_CLOCK_OFF + 8,
                                  blen - TB_ENTRY_CLOCK_OFF - 8);
        crypto_hash_sha256_final(&st, hash);
}

/* The account whose change and balance an accepted entry of this kind
 * reports (ledger_result): NULL for the kinds that change no balance.  A
 * reverse reports on the account of the entry it reverses. */
static const char *primary_account(struct ledger_txn *t,
                                   const struct tb_entry *e,
                                   struct tb_record *o)
{
        struct ledger_store_record rec;

        switch (e->kind) {
        case TB_KIND_SERVICE:
                return e->u.service.account;
        case TB_KIND_REDEEM:
                return e->u.redeem.account;
        case TB_KIND_TRANSFER:
                return e->u.transfer.from;
        case TB_KIND_REVERSE:
                ledger_txn_require(
                    t, ledger_store_log_get(t, e->u.reverse.seq, &rec));
                if (t->rc)
                        return NULL;
                if (tb_record_decode(rec.bytes, rec.len, o) != TB_OK ||
                    o->entry.kind == TB_KIND_REVERSE) {
                        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                        return NULL;
                }
                return primary_account(t, &o->entry, o);
        default:
                return NULL;
        }
}

enum ledger_err ledger_idem_logged(struct ledger_txn *t,
                                   const uint8_t pk[TB_PUBKEY_SIZE],
                                   const uint8_t rid[TB_REQUEST_ID_SIZE],
                                   uint64_t seq, struct ledger_store_idem *d)
{
        struct ledger_store_record rec;
        struct ledger_store_history h;
        struct tb_record o, orig;
        const char *account;

        memset(d, 0, sizeof(*d));
        d->seq = seq;
        ledger_txn_require(t, ledger_store_log_get(t, seq, &rec));
        if (t->rc)
                return ledger_txn_err(t->rc);
        /* the row must name its own request: a row pointing at another
         * entry is a corrupt (or tampered) idem database */
        if (tb_record_decode(rec.bytes, rec.len, &o) != TB_OK ||
            memcmp(o.entry.signer, pk, TB_PUBKEY_SIZE) != 0 ||
            memcmp(o.entry.request_id, rid, TB_REQUEST_ID_SIZE) != 0) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return LEDGER_E_CORRUPT;
        }
        idem_hash(o.body, o.body_len, d->hash);
        if ((account = primary_account(t, &o.entry, &orig)) != NULL) {
                ledger_txn_require(
                    t, ledger_store_history_get(t, account, seq, &h));
                d->points = h.delta;
                d->balance = h.balance_after;
        }
        return t->rc ? ledger_txn_err(t->rc) : LEDGER_OK;
}

/* 1 if (signer, request id) was seen: r then holds the answer. */
static int idem_lookup(struct ledger_txn *t, const struct tb_entry *e,
                       const uint8_t hash[TB_HASH_SIZE],
                       struct ledger_result *r)
{
        struct ledger_store_idem d;

        if (!ledger_store_idem_get(t, e->signer, e->request_id, &d))
                return 0;
        if (d.status == TB_ST_OK &&
            ledger_idem_logged(t, e->signer, e->request_id, d.seq, &d))
                return 1; /* t->rc says why */
        if (memcmp(d.hash, hash, TB_HASH_SIZE) != 0) {
                /* name what holds the id: if the caller meant the same
                 * request, it is there already (never send it anew) */
                r->status = TB_ST_REQUEST_ID_REUSED;
                if (d.status == TB_ST_OK)
                        snprintf(r->detail, sizeof(r->detail),
                                 "request id holds seq %llu, another entry",
                                 (unsigned long long)d.seq);
                else
                        snprintf(r->detail, sizeof(r->detail),
                                 "request id holds another request, refused "
                                 "%s",
                                 tb_status_name(d.status));
                return 1;
        }
        r->status = d.status == TB_ST_OK ? TB_ST_DUPLICATE : d.status;
        r->seq = d.seq;
        r->points = d.points;
        r->balance = d.balance;
        if (d.status != TB_ST_OK)
                snprintf(r->detail, sizeof(r->detail),
                         "retry of a refused request");
        return 1;
}

static void idem_remember(struct ledger_txn *t, const struct tb_entry *e,
                          const uint8_t hash[TB_HASH_SIZE],
                          const struct ledger_result *r)
{
        struct ledger_store_idem d;

        d.status = r->status;
        d.seq = r->seq;
        d.points = r->points;
        d.balance = r->balance;
        memcpy(d.hash, hash, TB_HASH_SIZE);
        ledger_store_idem_put(t, e->signer, e->request_id, &d);
}

/* The record goes to the log and its leaf into the tree. */
static void append_record(struct ledger_txn *t, uint64_t seq, int64_t received,
                          const uint8_t *body, size_t blen, const uint8_t *sig)
{
        uint8_t rec[TB_RECORD_MAX];
        uint8_t hashes[TB_MERKLE_APPEND_MAX][TB_HASH_SIZE];
        uint8_t leaf[TB_HASH_SIZE];
        size_t len, count;

        if (tb_record_encode(seq, received, body, blen, sig, rec, sizeof(rec),
                             &len) != TB_OK) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return;
        }
        ledger_store_log_put(t, seq, rec, len);
        tb_merkle_leaf_hash(rec, len, leaf);
        if (t->rc)
                return;
        if (tb_merkle_append(ledger_store_hashes_read_cb, t, seq, leaf, hashes,
                             &count) != TB_OK) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return;
        }
        ledger_store_hashes_put(t, seq, (const uint8_t(*)[TB_HASH_SIZE])hashes,
                                count);
}

static void apply_one(struct ledger *l, struct ledger_txn *t,
                      const struct ledger_item *it, uint64_t *size,
                      struct ledger_result *r, unsigned flags)
{
        struct tb_entry e;
        const uint8_t *body;
        uint8_t hash[TB_HASH_SIZE];
        struct ledger_rules_ctx a;
        size_t blen;

        memset(r, 0, sizeof(*r));
        if (it->received < 0 || it->received > TB_TIME_MAX) {
                r->status = TB_ST_INTERNAL;
                snprintf(r->detail, sizeof(r->detail), "bad receive time");
                return;
        }
        r->status = (uint16_t)tb_signed_check(
            l->origin, it->signed_entry, it->len, !it->verified, &e, &body,
            &blen, r->detail, sizeof(r->detail));
        if (r->status != TB_ST_OK)
                return;
        idem_hash(body, blen, hash);
        if (idem_lookup(t, &e, hash, r) || t->rc)
                return;
        a.seq = *size;
        a.now = it->received;
        a.replay = (flags & LEDGER_BATCH_REPLAY) != 0;
        r->status = (uint16_t)ledger_rules_apply(l, t, &a, &e, r);
        if (t->rc)
                return;
        if (r->status == TB_ST_OK) {
                append_record(t, *size, it->received, body, blen,
                              body + blen); /* body || signature */
                r->seq = (*size)++;
        }
        if (remembered(r->status))
                idem_remember(t, &e, hash, r);
}

/* A write transaction, adopting a map another process grew. */
static int begin_write(struct ledger *l, struct ledger_txn *t)
{
        int rc = ledger_txn_begin(t, l, 0);

        if (rc == MDB_MAP_RESIZED) {
                LEDGER_MUST(pthread_rwlock_wrlock(&l->resize_lock));
                rc = ledger_txn_resize(l, 0);
                LEDGER_MUST(pthread_rwlock_unlock(&l->resize_lock));
                if (!rc)
                        rc = ledger_txn_begin(t, l, 0);
        }
        return rc;
}

/*
 * The checkpoint transaction that follows a batch needs a few pages (the
 * checkpoints leaf and its path, meta's, the main database's, the free
 * list's): if the batch's own transaction took the last of the map at its
 * maximum, the entries would be durable while the checkpoint failed with
 * MDB_MAP_FULL, and every entry would be answered STORAGE_FULL though
 * written (test_ledger_model found it).  So before the batch commits, a
 * map that cannot grow by CHECKPOINT_ROOM any more (below that, a
 * checkpoint that finds the map full grows it and is retried) gets a
 * nested transaction that reserves CHECKPOINT_ROOM bytes (far more than a
 * checkpoint transaction writes) and is aborted: if that does not fit,
 * the batch gets MDB_MAP_FULL like any other write (refused whole), and
 * if it fits, the pages after the batch's are free for the checkpoint.
 * (A full disk is another matter: the pipeline's, not the map's.)
 */
#define CHECKPOINT_ROOM (32 * 4096)

static void reserve_checkpoint_room(struct ledger *l, struct ledger_txn *t)
{
        static const char key[] = "checkpoint room";
        MDB_val k = {sizeof(key) - 1, (void *)key}, v = {CHECKPOINT_ROOM, NULL};
        MDB_txn *child;
        int rc;

        if (t->rc)
                return;
        if ((rc = mdb_txn_begin(l->env, t->txn, 0, &child))) {
                ledger_txn_fail(t, rc);
                return;
        }
        rc = mdb_put(child, l->db[LEDGER_DB_META], &k, &v, MDB_RESERVE);
        mdb_txn_abort(child);
        if (rc)
                ledger_txn_fail(t, rc);
}

static int batch_once(struct ledger *l, const struct ledger_item *items,
                      size_t n, struct ledger_result *results, unsigned flags)
{
        struct ledger_txn t;
        uint64_t size, start;
        size_t i;
        int rc;

        if ((rc = begin_write(l, &t)))
                return rc;
        ledger_txn_require(
            &t, ledger_store_meta_uint_get(&t, LEDGER_STORE_TREE_SIZE, &start));
        size = start;
        for (i = 0; i < n && !t.rc; i++)
                apply_one(l, &t, &items[i], &size, &results[i], flags);
        if (size != start) {
                ledger_store_meta_uint_put(&t, LEDGER_STORE_TREE_SIZE, size);
                /* below the maximum, growing the map makes that room */
                /* the account rows behind, if a flush is due: before
                 * the room is reserved, so that the room comes after */
                ledger_accounts_before_commit(&t, size, 0);
                if (!(flags & LEDGER_BATCH_NO_CHECKPOINT) &&
                    l->map_size + CHECKPOINT_ROOM > l->opt.map_max)
                        reserve_checkpoint_room(l, &t);
        }
        return ledger_txn_commit(&t);
}

/*
 * The checkpoint of the stored tree, if the latest one is behind it: the
 * signer gets the latest checkpoint and the consistency proof from it.
 * Returns an LMDB code (MDB_MAP_FULL: grow and call again; the signer
 * signs the same size and root again), or 0 with *err set when the signer
 * said no or its note is not what was asked for.
 */
static int checkpoint_once(struct ledger *l, enum ledger_err *err)
{
        struct ledger_txn t;
        struct tb_checkpoint cp;
        uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE];
        uint8_t root[TB_HASH_SIZE], old[TB_CHECKPOINT_MAX];
        uint8_t note[TB_CHECKPOINT_MAX];
        const uint8_t *stored = NULL;
        size_t old_len = 0, count = 0, len;
        uint64_t size, old_size = 0;
        int rc;

        if ((rc = begin_write(l, &t)))
                return rc;
        ledger_txn_require(
            &t, ledger_store_meta_uint_get(&t, LEDGER_STORE_TREE_SIZE, &size));
        if (ledger_store_checkpoints_last(&t, &old_size, &stored, &old_len)) {
                if (old_len > sizeof(old))
                        ledger_txn_fail(&t, LEDGER_TXN_E_CORRUPT);
                else
                        memcpy(old, stored, old_len);
        }
        if (t.rc || old_size == size) {
                ledger_txn_abort(&t);
                return t.rc;
        }
        if (old_size > size ||
            tb_merkle_tree_hash(ledger_store_hashes_read_cb, &t, size, root) ||
            tb_merkle_prove_consistency(ledger_store_hashes_read_cb, &t,
                                        old_size, size, proof, &count)) {
                ledger_txn_fail(&t, LEDGER_TXN_E_CORRUPT);
                ledger_txn_abort(&t);
                return t.rc;
        }
        *err =
            l->signer.sign_cb(l->signer.ctx, old_len ? old : NULL, old_len,
                              size, root, (const uint8_t(*)[TB_HASH_SIZE])proof,
                              count, note, sizeof(note), &len);
        /* trust, but check: a confused signer must not corrupt the store */
        if (*err == LEDGER_OK &&
            (tb_checkpoint_open(note, len, l->origin, &l->vkey, &cp) ||
             cp.size != size || memcmp(cp.root, root, TB_HASH_SIZE) != 0))
                *err = LEDGER_E_SIGNER;
        if (*err) {
                ledger_txn_abort(&t);
                return 0;
        }
        ledger_store_checkpoints_put(&t, size, note, len);
        ledger_store_meta_root_put(&t, root);
        return ledger_txn_commit(&t);
}

int ledger_batch_grow(struct ledger *l)
{
        MDB_envinfo info;
        uint64_t want;
        int rc;

        if (l->map_size >= l->opt.map_max)
                return MDB_MAP_FULL;
        want =
            l->map_size > l->opt.map_max / 2 ? l->opt.map_max : l->map_size * 2;
        LEDGER_MUST(pthread_rwlock_wrlock(&l->resize_lock));
        rc = ledger_txn_resize(l, want);
        if (!rc)
                rc = mdb_env_info(l->env, &info);
        LEDGER_MUST(pthread_rwlock_unlock(&l->resize_lock));
        if (!rc)
                l->map_size = info.me_mapsize;
        return rc;
}

static enum ledger_err checkpoint_locked(struct ledger *l)
{
        enum ledger_err err = LEDGER_OK;
        int rc;

        while ((rc = checkpoint_once(l, &err)) == MDB_MAP_FULL)
                if ((rc = ledger_batch_grow(l)))
                        break;
        return rc ? ledger_txn_err(rc) : err;
}

enum ledger_err ledger_batch_checkpoint(struct ledger *l)
{
        enum ledger_err err;

        LEDGER_MUST(pthread_mutex_lock(&l->write_lock));
        err = checkpoint_locked(l);
        LEDGER_MUST(pthread_mutex_unlock(&l->write_lock));
        return err;
}

static void fill_all(struct ledger_result *results, size_t n, unsigned st,
                     const char *detail)
{
        size_t i;

        for (i = 0; i < n; i++) {
                memset(&results[i], 0, sizeof(results[i]));
                results[i].status = (uint16_t)st;
                snprintf(results[i].detail, sizeof(results[i].detail), "%s",
                         detail);
        }
}

/*
 * A batch commits twice (entries, then checkpoint) and the signer saves
 * its state in between: on a file system with almost no room left, the
 * entries can fit in pages LMDB had free while the checkpoint or the
 * signer's state then finds none, leaving durable entries answered as
 * refused (and a signer that refuses, which stops the daemon).  So a
 * batch is refused whole, before anything is written, while the data
 * directory's file system has less than LEDGER_DISK_ROOM free for an
 * unprivileged writer (f_bavail).  A statvfs that fails proves nothing
 * and refuses nothing.
 */
#define LEDGER_DISK_ROOM (1u << 20)

static int disk_nearly_full(const struct ledger *l)
{
        struct statvfs sv;

        return statvfs(l->dir, &sv) == 0 &&
               (uint64_t)sv.f_bavail * sv.f_frsize < LEDGER_DISK_ROOM;
}

enum ledger_err ledger_batch_apply(struct ledger *l,
                                   const struct ledger_item *items, size_t n,
                                   struct ledger_result *results,
                                   unsigned flags)
{
        enum ledger_err err;
        int rc;

        if (n == 0)
                return LEDGER_OK;
        if (!(flags & LEDGER_BATCH_REPLAY) && disk_nearly_full(l)) {
                fill_all(results, n, TB_ST_STORAGE_FULL,
                         "storage full: the ledger's file system has less "
                         "than 1 MiB free");
                return LEDGER_E_FULL;
        }
        LEDGER_MUST(pthread_mutex_lock(&l->write_lock));
        /* A batch whose checkpoint failed (a full disk, say) left durable
         * entries and no checkpoint for them, and the signer may have
         * signed it already: store that checkpoint before committing
         * anything more, so that the signer is asked for the same tree
         * again (which it signs again) and never for a later one from an
         * older checkpoint (which it refuses); if there is still no room,
         * this batch is refused whole. */
        if (!(flags & LEDGER_BATCH_REPLAY) &&
            (err = checkpoint_locked(l)) != LEDGER_OK) {
                LEDGER_MUST(pthread_mutex_unlock(&l->write_lock));
                fill_all(results, n,
                         err == LEDGER_E_FULL ? TB_ST_STORAGE_FULL
                                              : TB_ST_INTERNAL,
                         err == LEDGER_E_FULL ? "storage full: the ledger "
                                                "reached its maximum size"
                                              : ledger_strerror(err));
                return err;
        }
        for (;;) {
                rc = batch_once(l, items, n, results, flags);
                if (rc != MDB_MAP_FULL)
                        break;
                if ((rc = ledger_batch_grow(l)))
                        break;
        }
        err = rc ? ledger_txn_err(rc) : LEDGER_OK;
        if (!rc && !(flags & LEDGER_BATCH_NO_CHECKPOINT))
                err = checkpoint_locked(l);
        LEDGER_MUST(pthread_mutex_unlock(&l->write_lock));
        if (!err)
                return LEDGER_OK;
        if (err == LEDGER_E_FULL)
                fill_all(results, n, TB_ST_STORAGE_FULL,
                         "storage full: the ledger reached its maximum size");
        else
                fill_all(results, n, TB_ST_INTERNAL, ledger_strerror(err));
        return err;
}

enum ledger_err ledger_apply_batch(struct ledger *l,
                                   const struct ledger_item *items, size_t n,
                                   struct ledger_result *results)
{
        if (!l || (n && (!items || !results)))
                return LEDGER_E_INVALID;
        return ledger_batch_apply(l, items, n, results, 0);
}
