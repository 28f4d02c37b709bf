/*
 * daemon/ledger/ledger_int.h - shared internals of the ledger module (the
 * files of daemon/ledger/).  Only these files include this header, and so
 * <lmdb.h>.  docs/storage.md is the
 * byte-by-byte description of every database named here.
 */
#ifndef TB_LEDGER_INT_H
#define TB_LEDGER_INT_H

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>

#include "key.h"
#include "ledger.h"
#include "merkle.h"

enum ledger_db {
        LEDGER_DB_LOG,         /* u64 seq -> record */
        LEDGER_DB_HASHES,      /* u64 StoredHashIndex -> 32-byte hash */
        LEDGER_DB_CHECKPOINTS, /* u64 tree size -> signed note */
        LEDGER_DB_ACCOUNTS,    /* account -> 9 x u64 */
        LEDGER_DB_HISTORY,   /* str8 account || u64 seq -> i64 delta, u64 bal */
        LEDGER_DB_IDEM,      /* pk || request id -> outcome, body hash */
        LEDGER_DB_KEYS,      /* pk -> roles, enrolled, revoked, name */
        LEDGER_DB_INTERVALS, /* str8 account || u64 start -> u64 end, u64 seq */
        LEDGER_DB_DAILY,     /* str8 account || u32 day -> u32 minutes */
        LEDGER_DB_POLICY,    /* 'r' || activity -> u32 rate; 'c' -> caps */
        LEDGER_DB_REVERSED,  /* u64 seq -> u64 reversing seq */
        LEDGER_DB_META,      /* name -> value */
        LEDGER_DB__COUNT
};

/* Sticky-error codes of ours, outside LMDB's range and errno values. */
#define LEDGER_TXN_E_CORRUPT (-1)
#define LEDGER_TXN_E_CRYPTO  (-2)
#define LEDGER_TXN_E_RANGE   (-3)

/* Sizes of stored values. */
#define LACCOUNT_VAL    72
#define LIDEM_KEY       (TB_PUBKEY_SIZE + TB_REQUEST_ID_SIZE)
#define LIDEM_VAL       (2 + 8 + 8 + 8 + 32)
#define LHISTORY_VAL    16
#define LINTERVAL_VAL   16
#define LACCT_KEY_MAX   (1 + TB_ACCOUNT_ID_MAX + 8)
#define LPOLICY_KEY_MAX (1 + TB_CODE_MAX)

struct ledger {
        MDB_env *env;
        MDB_dbi db[LEDGER_DB__COUNT];
        struct ledger_options opt;
        char dir[PATH_MAX];
        char origin[TB_NAME_MAX + 1];
        struct tb_skey *key;
        int owns_key;
        struct tb_vkey vkey;
        char vkey_text[TB_VKEY_MAX];
        uint64_t map_size;
        pthread_mutex_t write_lock;
        pthread_rwlock_t resize_lock; /* readers share, growth excludes */
};

/* A transaction with a sticky error: after the first failure every
 * operation is a no-op and ledger_txn_commit() aborts. */
struct ledger_txn {
        MDB_txn *txn;
        struct ledger *l;
        int rc;
};

int ledger_txn_begin(struct ledger_txn *t, struct ledger *l, int rdonly);
int ledger_txn_get(struct ledger_txn *t, enum ledger_db db, const void *k,
                   size_t kl, MDB_val *v);
void ledger_txn_put(struct ledger_txn *t, enum ledger_db db, const void *k,
                    size_t kl, const void *v, size_t vl, unsigned flags);
void ledger_txn_del(struct ledger_txn *t, enum ledger_db db, const void *k,
                    size_t kl);
void ledger_txn_fail(struct ledger_txn *t, int rc);
int ledger_txn_commit(struct ledger_txn *t);
void ledger_txn_abort(struct ledger_txn *t);

/* The one place LMDB (and our LEDGER_TXN_E_*) codes become ledger errors. */
enum ledger_err ledger_txn_err(int rc);

/* Read helpers that take the resize lock around a read transaction. */
enum ledger_err ledger_txn_begin_read(struct ledger *l, struct ledger_txn *t);
void ledger_txn_end_read(struct ledger_txn *t);

/* Keys of the (account, u64/u32) indexes; returns the key length. */
size_t ledger_txn_account_key(uint8_t *out, const char *account, uint64_t n,
                              unsigned nbytes);

/* Tree. */
uint64_t ledger_txn_stored_hash_index(unsigned level, uint64_t n);
enum tb_err ledger_txn_tree_read_cb(void *ctx, unsigned level, uint64_t index,
                                    uint8_t out[TB_HASH_SIZE]);

/* Meta values. */
uint64_t ledger_txn_meta_u64(struct ledger_txn *t, const char *name);
void ledger_txn_meta_put_u64(struct ledger_txn *t, const char *name,
                             uint64_t v);

/* Accounts. */
int ledger_txn_account_get(struct ledger_txn *t, const char *account,
                           struct tb_balance_info *a);
void ledger_txn_account_put(struct ledger_txn *t,
                            const struct tb_balance_info *a);

/* What ledger_rules.c needs to know about the entry being applied. */
struct ledger_rules_ctx {
        uint64_t seq;
        int64_t now;
        int replay; /* skip the admission time window */
        const uint8_t *signed_entry;
        size_t signed_len;
};

/*
 * Check every rule for e at a->seq, and if all pass write its effects
 * (accounts, history, indexes, keys, policy) but not the log record, the
 * tree or the idempotency record.  Returns the status; on a refusal nothing
 * was written and r->detail says why.  LMDB failures go to t->rc (the
 * status is then meaningless).
 */
unsigned ledger_rules_apply(struct ledger *l, struct ledger_txn *t,
                            const struct ledger_rules_ctx *a,
                            const struct tb_entry *e, struct ledger_result *r);

/* Internal batch entry used by ledger_apply_batch and the full check. */
#define LEDGER_BATCH_REPLAY        0x01 /* no admission time window */
#define LEDGER_BATCH_NO_CHECKPOINT 0x02 /* do not sign a checkpoint */
enum ledger_err ledger_batch_apply(struct ledger *l,
                                   const struct ledger_item *items, size_t n,
                                   struct ledger_result *results,
                                   unsigned flags);

/* Create an empty environment in dir (which must exist) for origin/key. */
enum ledger_err ledger_env_create(const char *dir, const char *origin,
                                  struct tb_skey *key, int owns_key,
                                  const struct ledger_options *o,
                                  struct ledger **out);

#endif
