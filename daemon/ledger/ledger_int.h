/*
 * daemon/ledger/ledger_int.h - shared internals of the ledger module (the
 * files of daemon/ledger/).  Only these files include this header, and so
 * <lmdb.h>.  ledger_store.h is the codec of every database named here;
 * docs/storage.md describes them byte by byte.
 *
 *   ledger.c        life cycle: init, open (quick check), close
 *   ledger_batch.c  the write path: idempotency, rules, append, checkpoint
 *   ledger_accounts.c the account and idem rows written behind (format 4)
 *   ledger_rules.c  what each kind of entry must satisfy and changes
 *   ledger_read.c   the read API of ledger.h
 *   ledger_check.c  the full self-check (replay and compare)
 *   ledger_backup.c the compacting hot copy, ending at a signed checkpoint
 *   ledger_rebuild.c a ledger rebuilt from a mirror's records
 *   ledger_store.c  the storage codec (docs/storage.md)
 *   ledger_txn.c    the sticky-error LMDB transaction
 */
#ifndef TB_LEDGER_INT_H
#define TB_LEDGER_INT_H

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "key.h"
#include "ledger.h"
#include "merkle.h"

/* A lock call on the ledger's own, initialised locks fails only on a bug
 * (EDEADLK, EINVAL): carrying on would break the ledger's exclusion, so
 * the process stops loudly instead. */
static inline void ledger_must(int rc, const char *what)
{
        if (rc) {
                fprintf(stderr, "timebank ledger: %s failed (error %d)\n", what,
                        rc);
                abort();
        }
}
#define LEDGER_MUST(call) ledger_must((call), #call)

/* The databases of docs/storage.md, in its order (ledger_store.h). */
enum ledger_db {
        LEDGER_DB_LOG,
        LEDGER_DB_HASHES,
        LEDGER_DB_CHECKPOINTS,
        LEDGER_DB_ACCOUNTS,
        LEDGER_DB_HISTORY,
        LEDGER_DB_IDEM,
        LEDGER_DB_KEYS,
        LEDGER_DB_INTERVALS,
        LEDGER_DB_DAILY,
        LEDGER_DB_POLICY,
        LEDGER_DB_REVERSED,
        LEDGER_DB_META,
        LEDGER_DB__COUNT
};

struct ledger {
        MDB_env *env;
        MDB_dbi db[LEDGER_DB__COUNT];
        struct ledger_options opt;
        char dir[PATH_MAX];
        char origin[TB_NAME_MAX + 1];
        struct tb_skey *key; /* NULL when a signer holds it (opt.signer) */
        int owns_key;
        struct ledger_signer signer; /* opt.signer's, or the in-process
                                        one signing with key */
        struct tb_vkey vkey;
        char vkey_text[TB_VKEY_MAX];
        uint64_t map_size;
        pthread_mutex_t write_lock;
        pthread_rwlock_t resize_lock; /* readers share, growth excludes */
        atomic_uint readers;          /* read transactions open now */
        struct ledger_acache *ac;     /* the account rows written behind
                                         (ledger_accounts.c) */
        uint64_t accounts_redone;     /* by the catch-up at open */
        struct ledger_test_hooks hooks;
};

/*
 * ledger_txn.c: a transaction with a sticky error.  t->rc is 0 or the
 * first failure: an LMDB code, an errno value or one of LEDGER_TXN_E_*.
 * After a failure every operation is a no-op (lookups answer 0) and
 * ledger_txn_commit() aborts, so a half-applied batch never lands.
 */
struct ledger_txn {
        MDB_txn *txn;
        struct ledger *l;
        int rc;
        int write; /* a write transaction: its account rows are staged
                      (ledger_accounts.c) until it commits or aborts */
};

/* Sticky-error codes of ours, outside LMDB's range and errno values. */
#define LEDGER_TXN_E_CORRUPT (-1) /* a stored value does not decode */
#define LEDGER_TXN_E_CRYPTO  (-2) /* signing or hashing failed */
#define LEDGER_TXN_E_RANGE   (-3) /* a key or value cannot be encoded */

/* The one place LMDB (and our LEDGER_TXN_E_*) codes become ledger errors;
 * MDB_NOTFOUND becomes LEDGER_E_NOT_FOUND. */
enum ledger_err ledger_txn_err(int rc);

/* Begin a transaction of l (read-only if rdonly); returns and stores in
 * t->rc the LMDB code (MDB_MAP_RESIZED: another process grew the map). */
int ledger_txn_begin(struct ledger_txn *t, struct ledger *l, int rdonly);

/* Commit, or abort if t->rc is set; returns the final t->rc. */
int ledger_txn_commit(struct ledger_txn *t);

/* Abort (a no-op once committed or aborted). */
void ledger_txn_abort(struct ledger_txn *t);

/*
 * A read-only transaction for the read API: holds l's resize lock shared
 * until ledger_txn_end_read(), so the map never grows under it, and adopts
 * a map grown by another process.  Errors: those of ledger_txn_err().
 */
TB_WUR enum ledger_err ledger_txn_begin_read(struct ledger *l,
                                             struct ledger_txn *t);
void ledger_txn_end_read(struct ledger_txn *t);

/*
 * mdb_env_set_mapsize(l->env, size) (0: adopt the size another process
 * set), after telling the resizing test hook how many read transactions
 * are open.  The caller holds the resize lock exclusively (and, outside
 * the writer, the write lock): every resize goes through here.
 */
int ledger_txn_resize(struct ledger *l, uint64_t size);

/* Set t->rc to rc unless a failure is already recorded. */
void ledger_txn_fail(struct ledger_txn *t, int rc);

/* For a lookup of a row the ledger must hold: a missing row (found 0 with
 * no failure recorded) is corruption, LEDGER_TXN_E_CORRUPT. */
void ledger_txn_require(struct ledger_txn *t, int found);

/* The value of key k in db: 1 = found (*v borrows from the map until the
 * transaction writes or ends), 0 = not found or failed (see t->rc). */
TB_WUR int ledger_txn_get(struct ledger_txn *t, enum ledger_db db,
                          const void *k, size_t kl, MDB_val *v);

/* mdb_put / mdb_del; failures (MDB_NOTFOUND for del) go to t->rc. */
void ledger_txn_put(struct ledger_txn *t, enum ledger_db db, const void *k,
                    size_t kl, const void *v, size_t vl, unsigned flags);
void ledger_txn_del(struct ledger_txn *t, enum ledger_db db, const void *k,
                    size_t kl);

/* A cursor on db; NULL after a failure (t->rc). */
MDB_cursor *ledger_txn_cursor_open(struct ledger_txn *t, enum ledger_db db);

/* mdb_cursor_get: 1 = positioned, 0 = no such row or failed (t->rc); a
 * NULL cursor answers 0. */
TB_WUR int ledger_txn_cursor_get(struct ledger_txn *t, MDB_cursor *c,
                                 MDB_val *k, MDB_val *v, MDB_cursor_op op);

/* Close c (NULL is fine). */
void ledger_txn_cursor_close(MDB_cursor *c);

/*
 * Rows built and read with the proto/buf.h cursors (the codec,
 * ledger_store.c): a key whose tb_wbuf failed (overflowed) is not used and
 * sets LEDGER_TXN_E_RANGE.  get_row answers like ledger_txn_get(), with v
 * over the stored value (empty when 0).
 */
void ledger_txn_put_row(struct ledger_txn *t, enum ledger_db db,
                        const struct tb_wbuf *k, const void *v, size_t vl,
                        unsigned flags);
/* put_row for keys that mostly grow (format 2's history and idem): with
 * MDB_APPEND when k sorts after the database's last key, so that a page
 * split at the tail leaves the old page full instead of half empty. */
void ledger_txn_put_tail(struct ledger_txn *t, enum ledger_db db,
                         const struct tb_wbuf *k, const void *v, size_t vl);
TB_WUR int ledger_txn_get_row(struct ledger_txn *t, enum ledger_db db,
                              const struct tb_wbuf *k, struct tb_rbuf *v);
void ledger_txn_del_row(struct ledger_txn *t, enum ledger_db db,
                        const struct tb_wbuf *k);

/* The last call of a decode: 1 if r has no error and no byte left, else
 * 0 with LEDGER_TXN_E_CORRUPT (a stored value of the wrong shape). */
TB_WUR int ledger_txn_decoded(struct ledger_txn *t, const struct tb_rbuf *r);

/* Values that are one big-endian integer of size 4 or 8 bytes, or exactly
 * n bytes; gets zero their output when they answer 0. */
void ledger_txn_put_uint(struct ledger_txn *t, enum ledger_db db,
                         const struct tb_wbuf *k, uint64_t n, unsigned size);
TB_WUR int ledger_txn_get_uint(struct ledger_txn *t, enum ledger_db db,
                               const struct tb_wbuf *k, unsigned size,
                               uint64_t *n);
TB_WUR int ledger_txn_get_fixed(struct ledger_txn *t, enum ledger_db db,
                                const struct tb_wbuf *k, uint8_t *out,
                                size_t n);

/* A cursor on db (NULL after a failure) and key set to k's bytes, to
 * position it with MDB_SET_RANGE or ledger_txn_cursor_before(). */
MDB_cursor *ledger_txn_cursor_at(struct ledger_txn *t, enum ledger_db db,
                                 const struct tb_wbuf *k, MDB_val *key);

/* Position c on the last row before *key: 1 = positioned (key and val
 * hold it), 0 = no such row or failed (t->rc). */
TB_WUR int ledger_txn_cursor_before(struct ledger_txn *t, MDB_cursor *c,
                                    MDB_val *key, MDB_val *val);

/* The u64 of a u64 key (a key of another size is corrupt). */
TB_WUR int ledger_txn_key_u64(struct ledger_txn *t, const MDB_val *k,
                              uint64_t *n);

/* In a u64-keyed db, the row a cursor op reaches (MDB_SET_RANGE from
 * `from`, MDB_LAST, ...): 1 with its key in *n and its value in *val. */
TB_WUR int ledger_txn_cursor_u64(struct ledger_txn *t, enum ledger_db db,
                                 MDB_cursor_op op, uint64_t from, uint64_t *n,
                                 MDB_val *val);

/* The number of rows of db (0 after a failure). */
uint64_t ledger_txn_count(struct ledger_txn *t, enum ledger_db db);

/* ledger_rules.c: what the rules need to know about the entry applied. */
struct ledger_rules_ctx {
        uint64_t seq; /* the seq it gets if accepted */
        int64_t now;  /* its receive time */
        int replay;   /* 1: skip the admission time window (full check) */
};

/*
 * Check every rule for e at a->seq, and if all pass write its effects
 * (accounts, history, intervals, daily, keys, policy, reversed, key
 * counts) but not the log record, the tree or the idempotency record.
 * Returns the status; on a refusal nothing was written and r->detail says
 * why; on OK r->points and r->balance are set.  LMDB failures and corrupt
 * rows go to t->rc (the status is then meaningless).
 */
unsigned ledger_rules_apply(struct ledger *l, struct ledger_txn *t,
                            const struct ledger_rules_ctx *a,
                            const struct tb_entry *e, struct ledger_result *r);

/*
 * ledger_batch.c: ledger_apply_batch() with flags, for the full check's
 * replay.  Same contract as ledger_apply_batch().
 */
#define LEDGER_BATCH_REPLAY        0x01 /* no admission time window */
#define LEDGER_BATCH_NO_CHECKPOINT 0x02 /* do not sign a checkpoint */
TB_WUR enum ledger_err
ledger_batch_apply(struct ledger *l, const struct ledger_item *items, size_t n,
                   struct ledger_result *results, unsigned flags);

/*
 * ledger_batch.c: the outcome of the accepted entry at seq that an idem row
 * (signer pk, request id rid) names, derived from the log and history as
 * the write path reported it: d gets status OK, seq, points and balance
 * (of the primary account's history row at seq; 0 for kinds that change no
 * balance) and the hash of the logged body with its clock zeroed.  A
 * record that is missing or not that signer's request is corrupt.
 */
struct ledger_store_idem;
TB_WUR enum ledger_err ledger_idem_logged(struct ledger_txn *t,
                                          const uint8_t pk[TB_PUBKEY_SIZE],
                                          const uint8_t rid[TB_REQUEST_ID_SIZE],
                                          uint64_t seq,
                                          struct ledger_store_idem *d);

/*
 * ledger_batch.c: if the stored tree is ahead of the latest checkpoint,
 * sign one for it through l->signer and store it (its own durable
 * commit).  Takes the write lock.  The second half of every batch, and
 * what ledger_open() does after a crash between the two.  Errors: those
 * of ledger_txn_err(), LEDGER_E_SIGNER, LEDGER_E_CRYPTO.
 */
TB_WUR enum ledger_err ledger_batch_checkpoint(struct ledger *l);

/* The writer, after MDB_MAP_FULL: double the map (up to its maximum);
 * returns an LMDB code (MDB_MAP_FULL at the maximum). */
int ledger_batch_grow(struct ledger *l);

/* ledger_open(), also of an older storage format when format is not NULL
 * (*format gets it): for ledger_upgrade() only, which reads such a ledger's
 * log, checkpoints and idempotency records and nothing else. */
TB_WUR enum ledger_err ledger_open_format(const char *dir,
                                          const struct ledger_options *o,
                                          unsigned *format,
                                          struct ledger **out);

/* ledger_check.c: replay l's log into the empty ledger r and compare every
 * derived database (all but history when the formats differ) and meta;
 * differences go to rep.  For ledger_check_full() and ledger_upgrade(). */
TB_WUR enum ledger_err ledger_check_replay(struct ledger *l, struct ledger *r,
                                           int same_format,
                                           struct ledger_check_report *rep);

/*
 * ledger.c: create an empty environment (meta version, origin, log_vkey,
 * tree_size 0) in dir, which must exist, for origin and key (signing in
 * process); key is freed on failure and at close when owns_key.  Errors:
 * LEDGER_E_KEY (key is NULL: the ledger it comes from has a signer),
 * LEDGER_E_NOMEM, LEDGER_E_KEY, those of ledger_txn_err().
 */
TB_WUR enum ledger_err ledger_env_create(const char *dir, const char *origin,
                                         struct tb_skey *key, int owns_key,
                                         const struct ledger_options *o,
                                         struct ledger **out);

/*
 * ledger.c: open the environment of the ledger in dir without its key or
 * any check (rdonly: MDB_RDONLY, beside a daemon that may be serving it),
 * with l->origin and l->vkey read from meta; no signer, so nothing may be
 * written through it but rows (ledger_backup.c).  Errors:
 * LEDGER_E_NO_LEDGER, LEDGER_E_VERSION, LEDGER_E_CORRUPT, LEDGER_E_NOMEM,
 * those of ledger_txn_err().
 */
TB_WUR enum ledger_err ledger_env_attach(const char *dir, int rdonly,
                                         struct ledger **out);

/*
 * ledger_accounts.c: the account rows written behind (format 4).  A flush
 * also comes after this many entries, whatever the rows: it bounds what
 * ledger_accounts_catch_up() redoes after a crash.
 */
#define LEDGER_ACCOUNTS_ENTRIES 131072
/* Accepted entries' idem rows are written behind too, all of them at a
 * time, when this many are behind (or with any flush of account rows). */
#define LEDGER_IDEM_BEHIND 4096
int ledger_accounts_new(struct ledger *l); /* 0 or ENOMEM */
void ledger_accounts_free(struct ledger *l);
/* In the writer, before a write transaction that ends at tree size `size`
 * commits: a flush of every row behind into it, if due (force: if any
 * row is behind or accounts_through is not size). */
void ledger_accounts_before_commit(struct ledger_txn *t, uint64_t size,
                                   int force);
/* ledger_txn.c, after a write transaction: publish its rows, or drop them. */
void ledger_accounts_end(struct ledger *l, int committed);
/* The writer (write lock held): flush every row behind in a transaction
 * of its own. */
TB_WUR enum ledger_err ledger_accounts_flush_locked(struct ledger *l);
/* At open: the rows of the entries after accounts_through derived again
 * from their records and history rows, and flushed; *redone entries. */
TB_WUR enum ledger_err ledger_accounts_catch_up(struct ledger *l,
                                                uint64_t *redone);
/* For readers, before their read transaction: the row behind for account
 * (found), and what the rows behind stand on. */
struct ledger_accounts_peek {
        int found;
        struct tb_balance_info a;
        uint64_t through; /* accounts_through under the rows behind */
        uint64_t fresh;   /* rows behind that are not in the database */
        int known;
        int settled;      /* ledger_accounts_peek_settled() */
        uint64_t flushes; /* odd while a flush is being committed */
};
void ledger_accounts_peek(struct ledger *l, const char *account,
                          struct ledger_accounts_peek *p);
/* The peek for a count (status): waits while a flush is being committed,
 * and ledger_accounts_peek_holds() then also fails if one began since.
 * `fresh` plus the snapshot's rows is then exact: a run flushed between
 * the peek and the snapshot, even one that left accounts_through as it
 * was, would be counted twice (as fresh, and in the database). */
void ledger_accounts_peek_settled(struct ledger *l,
                                  struct ledger_accounts_peek *p);
/* In the reader's transaction begun after the peek: 1 if its snapshot's
 * accounts are the ones the peek stood on, 0 if a flush came between (end
 * the transaction and look again). */
TB_WUR int ledger_accounts_peek_holds(struct ledger_txn *t,
                                      const struct ledger_accounts_peek *p);

/* ledger.c: remove what ledger_init() makes in dir (data.mdb, lock.mdb,
 * log.key, log.pub), for an init that failed half-way. */
void ledger_remove_files(const char *dir);

/* fsync of the directory dir, so that a rename or a new file in it is
 * durable (ledger.c).  0, or -1 with errno. */
int ledger_fsync_dir(const char *dir);

#endif
