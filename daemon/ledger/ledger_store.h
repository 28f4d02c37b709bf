/*
 * daemon/ledger/ledger_store.h - the storage codec: one get/put pair per
 * LMDB database of docs/storage.md, in that page's order.  No other ledger
 * file knows a key layout, a byte offset or a value size.
 *
 * Every function takes a transaction of ledger_txn.c (ledger_int.h) and
 * follows its sticky error:
 *
 *   - a put writes (or overwrites) one row; on failure it leaves the
 *     error in t->rc, and after a failure it does nothing;
 *   - a get (a lookup) returns 1 when the row exists and its value decoded,
 *     0 otherwise: then its output is zeroed and t->rc tells why (0: there
 *     is no such row).  A stored value that does not decode exactly (wrong
 *     size, bytes left over, a length out of range) sets
 *     LEDGER_TXN_E_CORRUPT; a key that cannot be built (an account id
 *     longer than TB_ACCOUNT_ID_MAX) sets LEDGER_TXN_E_RANGE;
 *   - borrowed pointers point into the LMDB map and are valid until the
 *     transaction writes or ends.
 *
 * Integers are big-endian (docs/storage.md, "Conventions"), written and
 * read with the cursors of proto/buf.h.
 */
#ifndef TB_LEDGER_STORE_H
#define TB_LEDGER_STORE_H

#include "ledger_int.h"

/*
 * log: u64 seq -> record (u64 seq ‖ i64 received ‖ body ‖ sig), the
 * record built by tb_record_encode().
 */
struct ledger_store_record {
        uint64_t seq;                /* the record's own seq field */
        int64_t received;            /* the daemon's receive time */
        const uint8_t *signed_entry; /* body ‖ signature, borrowed */
        size_t signed_len;           /* at least 1 */
        const uint8_t *bytes;        /* the whole record, borrowed */
        size_t len;
};

/* Append record rec[len] as seq (MDB_APPEND: seq must be the next). */
void ledger_store_log_put(struct ledger_txn *t, uint64_t seq,
                          const uint8_t *rec, size_t len);

/* The record of seq.  Corrupt: a record shorter than its header. */
TB_WUR int ledger_store_log_get(struct ledger_txn *t, uint64_t seq,
                                struct ledger_store_record *r);

/* The seq of the last record. */
TB_WUR int ledger_store_log_last(struct ledger_txn *t, uint64_t *seq);

/*
 * Call cb for every record in seq order (seq is the key) until it returns
 * non-zero.  Errors (of LMDB or a corrupt row) stop the walk in t->rc.
 */
typedef int ledger_store_log_cb(void *ctx, uint64_t seq,
                                const struct ledger_store_record *r);
void ledger_store_log_walk(struct ledger_txn *t, ledger_store_log_cb *cb,
                           void *ctx);

/*
 * hashes: u64 StoredHashIndex(level, index) -> 32-byte subtree hash, for
 * level >= LEDGER_HASHES_LEVEL only (format 3); the nodes below are
 * computed from the log rows under them.
 */
#ifndef LEDGER_HASHES_LEVEL
#define LEDGER_HASHES_LEVEL 2
#endif

/* Store those of the count hashes tb_merkle_append() returned for leaf n
 * (hashes[i] is the node of level i) whose level is stored, at
 * StoredHashIndex(0, n) + i (MDB_APPEND: the keys only grow). */
void ledger_store_hashes_put(struct ledger_txn *t, uint64_t n,
                             const uint8_t (*hashes)[TB_HASH_SIZE],
                             size_t count);

/*
 * The get, as the tb_merkle_read_fn of proto/merkle.h (ctx a struct
 * ledger_txn): the hash of subtree (level, index) into out.  A missing
 * hash is corruption (LEDGER_TXN_E_CORRUPT); any failure returns TB_E_IO,
 * which the Merkle code passes back unchanged.
 */
enum tb_err ledger_store_hashes_read_cb(void *ctx, unsigned level,
                                        uint64_t index,
                                        uint8_t out[TB_HASH_SIZE]);

/*
 * checkpoints: u64 tree size -> the signed note (tb_checkpoint_sign).
 */

/* Store the note of tree size `size` (MDB_APPEND: sizes only grow). */
void ledger_store_checkpoints_put(struct ledger_txn *t, uint64_t size,
                                  const uint8_t *note, size_t len);

/* The note issued at exactly tree size `size`. */
TB_WUR int ledger_store_checkpoints_get(struct ledger_txn *t, uint64_t size,
                                        const uint8_t **note, size_t *len);

/* The first note of a tree size >= from (from 0: the first), and its size. */
TB_WUR int ledger_store_checkpoints_from(struct ledger_txn *t, uint64_t from,
                                         uint64_t *size, const uint8_t **note,
                                         size_t *len);

/* The latest note and its tree size. */
TB_WUR int ledger_store_checkpoints_last(struct ledger_txn *t, uint64_t *size,
                                         const uint8_t **note, size_t *len);

/*
 * accounts: account id -> 9 x u64 (struct tb_balance_info) ‖
 * u64 last_service ‖ u64 reach (format 3: the head of the account's chain
 * of service rows in history, and the latest end of all its services).
 */
struct ledger_store_services {
        uint64_t last;  /* seq of the newest service row, 0: none */
        uint64_t reach; /* max end (unix s) of every service credited to the
                           account, reversed ones included; 0: none */
};

/*
 * Format 4 writes the rows behind (ledger_accounts.c, docs/storage.md,
 * "Format 4"): in a write transaction, put stages the row in memory and
 * get finds the staged or not yet written row before the database's; a
 * read transaction's get reads the database only, and its put fails.  The
 * _row_ pair is the database's row itself (the flush, the catch-up, the
 * readers).
 */
void ledger_store_accounts_put(struct ledger_txn *t,
                               const struct tb_balance_info *a,
                               const struct ledger_store_services *sv);
void ledger_store_accounts_row_put(struct ledger_txn *t,
                                   const struct tb_balance_info *a,
                                   const struct ledger_store_services *sv);

/* An account id of a length out of 1..TB_ACCOUNT_ID_MAX is not found.  sv
 * may be NULL (the readers, which need only a). */
TB_WUR int ledger_store_accounts_get(struct ledger_txn *t, const char *account,
                                     struct tb_balance_info *a,
                                     struct ledger_store_services *sv);
TB_WUR int ledger_store_accounts_row_get(struct ledger_txn *t,
                                         const char *account,
                                         struct tb_balance_info *a,
                                         struct ledger_store_services *sv);

/* ledger_accounts.c, for the two above: stage a write transaction's row;
 * the row of account if staged or behind (1), not behind at all (-1:
 * read the database), or known missing (0, never: a missing row is
 * looked up in the database). */
void ledger_accounts_stage(struct ledger_txn *t,
                           const struct tb_balance_info *a,
                           const struct ledger_store_services *sv);
TB_WUR int ledger_accounts_behind_get(struct ledger_txn *t, const char *account,
                                      struct tb_balance_info *a,
                                      struct ledger_store_services *sv);

/*
 * history (format 3): u64 seq ‖ acct -> u64 prev ‖ i64 delta ‖
 * u64 balance_after, and for a service credited to the account also
 * [u64 prev_service ‖] u64 reach_before ‖ i64 start ‖ u16 minutes
 * (prev_service stored only when it is not prev); prev is
 * the account's previous row (its last_seq before this entry), 0 for its
 * first; prev_service and reach_before are the account's services.last
 * and .reach before this service; start and minutes are the service's (a
 * copy of its log record's, so that the overlap walk reads no record).
 */
struct ledger_store_history {
        uint64_t seq;
        uint64_t prev;
        int64_t delta;
        uint64_t balance_after;
        int service;           /* 1: a service row (the two below) */
        uint64_t prev_service; /* the account's previous service row */
        uint64_t reach_before; /* max end of the services before it */
        int64_t start;         /* the service's start (unix s) */
        uint16_t minutes;      /* and length */
};

void ledger_store_history_put(struct ledger_txn *t, const char *account,
                              const struct ledger_store_history *h);

TB_WUR int ledger_store_history_get(struct ledger_txn *t, const char *account,
                                    uint64_t seq,
                                    struct ledger_store_history *h);

/*
 * Call cb for the rows of account a (as accounts_get read it: the chain
 * starts at a->last_seq) with seq < before, newest first, until it
 * returns non-zero.  Errors stop the walk in t->rc.
 */
typedef int ledger_store_history_cb(void *ctx,
                                    const struct ledger_store_history *h);
void ledger_store_history_walk(struct ledger_txn *t,
                               const struct tb_balance_info *a, uint64_t before,
                               ledger_store_history_cb *cb, void *ctx);

/*
 * idem (format 3): u8 class ‖ rid ‖ pk -> u64 seq for an accepted entry
 * (the rest of its outcome is derived from the log and history:
 * ledger_idem_logged), u16 status ‖ SHA-256 of the body with its clock
 * zeroed for a remembered refusal.  put writes the seq alone when status
 * is OK (points, balance and hash are not stored); get fills status and
 * seq (OK) or status and hash (a refusal), the rest zeroed.
 */
struct ledger_store_idem {
        uint16_t status; /* enum tb_status: OK or a remembered refusal */
        uint64_t seq;
        int64_t points;
        uint64_t balance;
        uint8_t hash[TB_HASH_SIZE];
};

/*
 * Format 4: in a write transaction, put of an accepted entry's row stages
 * it behind (ledger_accounts.c), and get finds it there first; a refusal's
 * row is written at once (it is not in the log).  _row_put is the
 * database's accepted row itself, for the flush (key as idem_key makes
 * it: LEDGER_IDEM_KEY_SIZE bytes).
 */
#define LEDGER_IDEM_KEY_SIZE (1 + TB_REQUEST_ID_SIZE + TB_PUBKEY_SIZE)
void ledger_store_idem_row_put(struct ledger_txn *t, const uint8_t *key,
                               size_t klen, uint64_t seq);
void ledger_idem_stage(struct ledger_txn *t, const uint8_t *key, size_t klen,
                       uint64_t seq);
TB_WUR int ledger_idem_behind(struct ledger_txn *t, const uint8_t *key,
                              size_t klen, uint64_t *seq);
void ledger_store_idem_put(struct ledger_txn *t,
                           const uint8_t pk[TB_PUBKEY_SIZE],
                           const uint8_t rid[TB_REQUEST_ID_SIZE],
                           const struct ledger_store_idem *d);

TB_WUR int ledger_store_idem_get(struct ledger_txn *t,
                                 const uint8_t pk[TB_PUBKEY_SIZE],
                                 const uint8_t rid[TB_REQUEST_ID_SIZE],
                                 struct ledger_store_idem *d);

/*
 * keys: pk -> u8 roles ‖ u64 enrolled_seq ‖ u64 revoked_seq ‖ u8 n ‖ name.
 */
struct ledger_store_key {
        uint8_t roles;     /* enum tb_role bits */
        uint64_t enrolled; /* seq of the enroll (0: genesis) */
        uint64_t revoked;  /* 0 = active; seq 0 is genesis, never a revoke */
        char name[TB_NAME_MAX + 1];
};

void ledger_store_keys_put(struct ledger_txn *t,
                           const uint8_t pk[TB_PUBKEY_SIZE],
                           const struct ledger_store_key *k);

TB_WUR int ledger_store_keys_get(struct ledger_txn *t,
                                 const uint8_t pk[TB_PUBKEY_SIZE],
                                 struct ledger_store_key *k);

/*
 * intervals, daily: format 1 and 2 only (format 3 derives both from the
 * history chain; the databases stay empty).
 */

/*
 * policy: 'r' ‖ activity -> u32 points per hour; 'c' -> u16 daily minutes
 * cap ‖ u64 max balance.
 */
struct ledger_store_caps {
        uint16_t daily_minutes; /* 0 = no cap */
        uint64_t max_balance;   /* 0 = no cap */
};

/* The rate of activity; activity "" is the default rate. */
void ledger_store_policy_rate_put(struct ledger_txn *t, const char *activity,
                                  uint32_t rate);

TB_WUR int ledger_store_policy_rate_get(struct ledger_txn *t,
                                        const char *activity, uint32_t *rate);

void ledger_store_policy_caps_put(struct ledger_txn *t,
                                  const struct ledger_store_caps *c);

TB_WUR int ledger_store_policy_caps_get(struct ledger_txn *t,
                                        struct ledger_store_caps *c);

/*
 * reversed: u64 seq of the reversed entry -> u64 seq of the reverse entry.
 */

void ledger_store_reversed_put(struct ledger_txn *t, uint64_t seq, uint64_t by);

TB_WUR int ledger_store_reversed_get(struct ledger_txn *t, uint64_t seq,
                                     uint64_t *by);

/*
 * meta: ASCII name -> value.
 */

/* The integers: version (u32), tree_size, keys_active, keys_revoked (u64). */
enum ledger_store_meta_uint {
        LEDGER_STORE_VERSION,      /* of the schema, LEDGER_FORMAT_VERSION */
        LEDGER_STORE_TREE_SIZE,    /* records in log */
        LEDGER_STORE_KEYS_ACTIVE,  /* enrolled and not revoked */
        LEDGER_STORE_KEYS_REVOKED, /* revoked */
        LEDGER_STORE_ACCOUNTS_THROUGH, /* format 4: accounts holds the rows
                                          after this many entries */
};

void ledger_store_meta_uint_put(struct ledger_txn *t,
                                enum ledger_store_meta_uint which, uint64_t n);
TB_WUR int ledger_store_meta_uint_get(struct ledger_txn *t,
                                      enum ledger_store_meta_uint which,
                                      uint64_t *n);

/* origin: 1..TB_NAME_MAX bytes, NUL-terminated on get. */
void ledger_store_meta_origin_put(struct ledger_txn *t, const char *origin);
TB_WUR int ledger_store_meta_origin_get(struct ledger_txn *t,
                                        char origin[TB_NAME_MAX + 1]);

/* The log's verifier key, stored as its text (tb_vkey_format); a text
 * that does not parse is corrupt.  put: LEDGER_TXN_E_RANGE if vk does not
 * format. */
void ledger_store_meta_log_vkey_put(struct ledger_txn *t,
                                    const struct tb_vkey *vk);
TB_WUR int ledger_store_meta_log_vkey_get(struct ledger_txn *t,
                                          struct tb_vkey *vk);

void ledger_store_meta_root_put(struct ledger_txn *t,
                                const uint8_t root[TB_HASH_SIZE]);
TB_WUR int ledger_store_meta_root_get(struct ledger_txn *t,
                                      uint8_t root[TB_HASH_SIZE]);

#endif
