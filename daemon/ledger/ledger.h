/*
 * daemon/ledger/ledger.h - the ledger engine: an append-only, signed log of
 * entries in one LMDB environment, with the balances, indexes, Merkle
 * tree hashes and signed checkpoints derived from it.
 *
 * This header is the manual.  docs/storage.md describes every database
 * byte by byte; docs/ledger-rules.md gives the reasoning behind each rule.
 *
 * Shape of use:
 *
 *   ledger_init(dir, origin, admin_pk, admin_name, &opts);   once
 *   ledger_open(dir, &opts, &l);
 *   ledger_apply_batch(l, items, n, results);                 writer thread
 *   ledger_balance(l, "alice", &info);                         any thread
 *   ledger_close(l);
 *
 * Threads.  Concurrent ledger_apply_batch() calls serialise on an internal
 * writer mutex (the daemon calls it from one writer thread anyway); every
 * read function may be called from any thread concurrently with the writer
 * and with each other (the environment is opened with MDB_NOTLS and each
 * read runs in its own read-only transaction).  Map growth waits for the
 * running reads to finish; ledger_check_full() reads one snapshot for its
 * whole run, so a growth that falls in it waits for its end.  No call may
 * run during ledger_close().  Never use a ledger across fork(), and open a
 * directory at most once per process (an LMDB rule: a second environment
 * on the same files would break its locks).
 *
 * Errors.  Functions return enum ledger_err.  LEDGER_E_PANIC means LMDB
 * reported MDB_PANIC (a failed meta-page write): the environment must not be
 * used again, and the process must exit and let its supervisor restart it.
 * Rule refusals are not errors: they are per-entry statuses (enum tb_status)
 * in the results of ledger_apply_batch().
 */
#ifndef TB_LEDGER_H
#define TB_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "msg.h"
#include "status.h"

#define LEDGER_FORMAT_VERSION 4 /* of the LMDB schema (docs/storage.md) */
#define LEDGER_DETAIL_MAX     128
#define LEDGER_KEY_FILE       "log.key" /* inside the data directory, 0600 */
#define LEDGER_PUB_FILE       "log.pub" /* the log's verifier key, text */

/* Defaults of struct ledger_options. */
#define LEDGER_MAP_INITIAL_DEFAULT     (16u << 20)          /* 16 MiB */
#define LEDGER_MAP_MAX_DEFAULT         ((uint64_t)64 << 30) /* 64 GiB */
#define LEDGER_SKEW_DEFAULT            300                  /* seconds */
#define LEDGER_MAX_AGE_DEFAULT         (30 * 86400)         /* 30 days */
#define LEDGER_RATE_DEFAULT            60                   /* points/hour */
#define LEDGER_ACCOUNTS_BEHIND_DEFAULT 32768 /* rows, about 5 MiB */

enum ledger_err {
        LEDGER_OK = 0,
        LEDGER_E_INVALID,   /* impossible argument (NULL, bad origin, ...) */
        LEDGER_E_NOMEM,     /* allocation failed */
        LEDGER_E_IO,        /* file system error; see errno */
        LEDGER_E_EXISTS,    /* ledger_init: a ledger is already there */
        LEDGER_E_NO_LEDGER, /* ledger_open: no ledger in the directory */
        LEDGER_E_VERSION,   /* stored schema version is not ours */
        LEDGER_E_KEY,       /* log key file missing, malformed or not ours */
        LEDGER_E_CHECK,     /* self-check failed: stored state inconsistent */
        LEDGER_E_CORRUPT,   /* a stored value has an impossible size/form */
        LEDGER_E_NOT_FOUND, /* read: no such account / entry / checkpoint */
        LEDGER_E_RANGE,     /* read: index or size out of range */
        LEDGER_E_OVERFLOW,  /* read: caller's buffer too small */
        LEDGER_E_FULL,      /* the map reached its maximum size */
        LEDGER_E_READERS,   /* too many concurrent readers (MDB_READERS_FULL) */
        LEDGER_E_PANIC,     /* MDB_PANIC: stop using the ledger, exit */
        LEDGER_E_LMDB,      /* any other LMDB failure */
        LEDGER_E_CRYPTO,    /* signing or hashing failed */
        LEDGER_E_SIGNER,    /* the signer refused a checkpoint (it would
                               not extend the last one signed) or is gone */
        LEDGER_E_UPGRADE,   /* ledger_open: an older storage format that
                               ledger_upgrade() converts */
        LEDGER_E__COUNT
};

/* A short lowercase description of err; never NULL. */
const char *ledger_strerror(enum ledger_err err);

/*
 * Who signs checkpoints.  The ledger never needs the log key itself once it
 * is created: it asks sign_cb to sign the checkpoint of new_size and
 * new_root (origin: the ledger's), giving the last checkpoint it stored
 * (old_note[0..old_len), a signed note; NULL and 0 for the empty tree) and
 * the RFC 6962 consistency proof from that checkpoint's tree to the new
 * one (proof[0..count), as tb_merkle_prove_consistency() makes it).  A
 * signer that enforces append-only (daemon/signer.c) checks the proof and
 * refuses anything that does not extend the last checkpoint it signed; it
 * must sign the same size and root again when asked (Ed25519 is
 * deterministic: the same bytes), since the ledger repeats a request whose
 * checkpoint it could not store.  On success sign_cb writes the signed note
 * into note[cap] (cap is TB_CHECKPOINT_MAX) and *len.
 *
 * sign_cb runs on the thread calling ledger_apply_batch() or ledger_open(),
 * one call at a time.  It returns LEDGER_OK, LEDGER_E_SIGNER (refused, or
 * the signer is unreachable: the caller must not acknowledge the batch) or
 * LEDGER_E_CRYPTO.
 */
struct ledger_signer {
        enum ledger_err (*sign_cb)(void *ctx, const uint8_t *old_note,
                                   size_t old_len, uint64_t new_size,
                                   const uint8_t new_root[TB_HASH_SIZE],
                                   const uint8_t (*proof)[TB_HASH_SIZE],
                                   size_t count, uint8_t *note, size_t cap,
                                   size_t *len);
        void *ctx;
};

/*
 * Options for ledger_init() and ledger_open().  ledger_options_default()
 * fills every field with its default; change only what you need.
 */
struct ledger_options {
        uint64_t map_initial; /* bytes of the first map (rounded by LMDB) */
        uint64_t map_max;     /* the map doubles on MDB_MAP_FULL up to this */
        int64_t clock_skew;   /* s a service may end after "now" */
        int64_t max_age;      /* s a service start may lie before "now" */
        int sync;             /* 1: durable commits (default); 0 MDB_NOSYNC,
                                 for throw-away ledgers only */
        int skip_quick_check; /* 1: ledger_open() does not refuse a ledger
                                 that fails the quick self-check, so that
                                 ledger_check_full() can report what
                                 differs; never serve such a ledger */
        uint32_t accounts_behind; /* account rows kept in memory before
                                 they are written (docs/storage.md, "Format
                                 4"); 0 writes each batch's rows with it */
        const struct ledger_signer *signer; /* ledger_open only.  NULL (the
                                 default): read dir/log.key and sign in this
                                 process (init, check, tests); else sign
                                 through it, never reading log.key: the
                                 verifier key comes from dir/log.pub.
                                 Borrowed until ledger_close() */
        /* ledger_init only: the genesis policy */
        uint32_t points_per_hour;   /* default rate, 0..TB_RATE_MAX */
        uint16_t daily_minutes_cap; /* 0 = none, else 1..1440 */
        uint64_t max_balance;       /* 0 = none, else 1..TB_BALANCE_MAX */
};

void ledger_options_default(struct ledger_options *o);

struct ledger;

/*
 * Create a ledger in dir (created with mode 0700 if missing; an existing
 * directory must not hold a ledger): the LMDB environment, a new Ed25519
 * log key named origin written to dir/log.key (mode 0600) and its verifier
 * key to dir/log.pub, the genesis entry (seq 0: origin, admin_pk enrolled
 * with role admin under admin_name, the policy from o) signed by the log
 * key, and the checkpoint of size 1.  o may be NULL for the defaults.
 *
 * Errors: LEDGER_E_INVALID (origin or admin_name not a valid key name,
 * policy out of range), LEDGER_E_EXISTS, LEDGER_E_IO, LEDGER_E_KEY,
 * LEDGER_E_CRYPTO, LEDGER_E_FULL, LEDGER_E_LMDB, LEDGER_E_NOMEM.
 */
TB_WUR enum ledger_err ledger_init(const char *dir, const char *origin,
                                   const uint8_t admin_pk[TB_PUBKEY_SIZE],
                                   const char *admin_name,
                                   const struct ledger_options *o);

/*
 * Open the ledger in dir: open the environment, clear stale reader slots
 * (mdb_reader_check), load dir/log.key (or, with o->signer, dir/log.pub)
 * and run the quick self-check: the latest checkpoint must verify with the
 * log key, and its size and root must equal the stored tree size and the
 * root computed from the stored hashes.  A tree ahead of its latest
 * checkpoint (a crash between a batch's two commits, see
 * ledger_apply_batch) first gets its checkpoint signed and stored, unless
 * o->skip_quick_check.  On any failure nothing is left open.  o may be
 * NULL.
 *
 * Errors: LEDGER_E_NO_LEDGER, LEDGER_E_VERSION (a format this code does not
 * know), LEDGER_E_UPGRADE (format 1 or 2: run ledger_upgrade() first),
 * LEDGER_E_KEY, LEDGER_E_SIGNER,
 * LEDGER_E_CHECK (the self-check failed: do not serve this ledger; with
 * o->skip_quick_check the ledger opens anyway, for ledger_check_full()),
 * LEDGER_E_CORRUPT, LEDGER_E_IO, LEDGER_E_LMDB, LEDGER_E_PANIC,
 * LEDGER_E_NOMEM.
 */
TB_WUR enum ledger_err ledger_open(const char *dir,
                                   const struct ledger_options *o,
                                   struct ledger **out);

/* Close l (NULL is fine) and wipe the log key.  No call may be running. */
void ledger_close(struct ledger *l);

/*
 * Test hooks: moments a test can hold, to force an interleaving of threads
 * that timing alone produces only now and then (tests/ledger/
 * test_ledger_threads.c).  Members left NULL are skipped; the daemon never
 * sets any.  Set them before other threads use l.
 *   read_begun_cb  a read transaction has just begun on the calling thread;
 *                  it stays active (holding the map) until the read call
 *                  returns.
 *   resizing_cb    the writer is about to change the map's size;
 *                  active_readers read transactions of this process are
 *                  open at that instant (0 whenever growth excludes
 *                  readers, as it must: LMDB remaps under them).
 */
struct ledger_test_hooks {
        void (*read_begun_cb)(void *ctx);
        void (*resizing_cb)(void *ctx, unsigned active_readers);
        void *ctx;
};
void ledger_set_test_hooks(struct ledger *l, const struct ledger_test_hooks *h);

/* One entry offered to ledger_apply_batch(). */
struct ledger_item {
        const uint8_t *signed_entry; /* body || signature, borrowed */
        size_t len;
        int64_t received; /* daemon receive time, unix s: the entry's "now" */
        int verified;     /* 1: the caller already checked the signature
                             with tb_entry_verify() against the body's signer
                             and the ledger origin; 0: the ledger does it */
};

/* The outcome of one entry. */
struct ledger_result {
        uint16_t status;  /* enum tb_status */
        uint64_t seq;     /* OK: the new seq; DUPLICATE: the original */
        int64_t points;   /* signed change of the primary account */
        uint64_t balance; /* primary account's balance after the entry */
        char detail[LEDGER_DETAIL_MAX]; /* "" or why it was refused */
};

/*
 * Validate and apply n entries in order in ONE write transaction and commit
 * it durably, then sign ONE checkpoint for the new tree size through the
 * signer and store it in a second durable commit.  Entries are durable
 * before anything is signed, so the signer never signs a tree that a crash
 * could take back (it would then refuse the different tree that follows,
 * and rightly so); a crash between the two commits leaves a tree ahead of
 * its checkpoint, which the next ledger_open() signs.  Between the two
 * commits, readers see the new entries and tree size while the latest
 * checkpoint is still the previous one.
 * results[i] is the outcome of items[i].  Statuses:
 *
 *   OK                 appended at results[i].seq
 *   DUPLICATE          (signer, request id) seen with the same body: seq,
 *                      points and balance are the original outcome's
 *   a refusal (1xx)    a ledger rule said no; nothing of it was written to
 *                      the log or the balances; remembered under (signer,
 *                      request id) so a retry gets the same status, except
 *                      BAD_SIGNATURE, UNKNOWN_KEY, REQUEST_ID_REUSED and
 *                      SAME_ACCOUNT
 *   BAD_REQUEST        the bytes do not decode (detail: tb_strerror text)
 *   SAME_ACCOUNT       a transfer to itself
 *   STORAGE_FULL       every entry of the batch, when the map could not
 *                      grow enough: nothing at all was written
 *   INTERNAL           received time out of range (caller bug)
 *
 * The caller may pre-verify signatures (item.verified); the ledger always
 * checks that the signer is enrolled before the entry, not revoked, and
 * holds the role the kind needs.  A refused entry never disturbs the
 * others.  Primary account (points, balance): register, service, redeem:
 * the account; transfer: from (points negative); reverse: the original's
 * primary account (points are the negation of the original's); genesis,
 * enroll, revoke, policy: none (0, 0).
 *
 * The receipt of the batch is its checkpoint: ledger_checkpoint() returns
 * it until the next batch that appends commits (call it from the writer
 * thread right after this function to get exactly this batch's).
 *
 * If the function returns an error no result is meaningful except as
 * described: LEDGER_E_FULL (results all STORAGE_FULL, nothing written;
 * but if only the checkpoint's commit found the map full, the entries are
 * written and their retries answer DUPLICATE),
 * LEDGER_E_PANIC (exit), LEDGER_E_LMDB/LEDGER_E_CRYPTO/LEDGER_E_CORRUPT
 * (results all INTERNAL, nothing written, or the entries written without
 * their checkpoint), LEDGER_E_SIGNER (results all INTERNAL; the entries
 * may be written without their checkpoint: never acknowledge them, exit
 * and let an operator look, see docs/timebankd.md).  n == 0 is a no-op.
 */
TB_WUR enum ledger_err ledger_apply_batch(struct ledger *l,
                                          const struct ledger_item *items,
                                          size_t n,
                                          struct ledger_result *results);

/*
 * Reads.  Each runs in its own read-only transaction and sees the last
 * committed state.  Byte outputs are copied into the caller's buffer; the
 * pointers inside the output structs point into that buffer.
 */

/* The ledger's origin (its log key's name), NUL-terminated; valid until
 * ledger_close().  What terminals sign for (tb_entry_verify's origin). */
/*
 * How many entries' account rows ledger_open() derived again from the log
 * (format 4: rows written behind and lost in a crash; 0 after a clean
 * close).
 */
uint64_t ledger_accounts_redone(const struct ledger *l);
/* How many account rows are behind (in memory, not yet in data.mdb) between
 * batches: at most the options' accounts_behind (tests). */
uint64_t ledger_accounts_rows_behind(struct ledger *l);

const char *ledger_origin(const struct ledger *l);

/* The log's verifier key text (name+id+base64), valid until close. */
const char *ledger_log_vkey(const struct ledger *l);

/* Account info.  Errors: LEDGER_E_NOT_FOUND, LEDGER_E_INVALID (malformed
 * account id), LEDGER_E_CORRUPT, LEDGER_E_LMDB, LEDGER_E_READERS. */
TB_WUR enum ledger_err ledger_balance(struct ledger *l, const char *account,
                                      struct tb_balance_info *out);

/*
 * History of an account, newest first: up to limit (1..TB_HISTORY_MAX)
 * entries with seq < before (TB_SEQ_LATEST for the newest).  The records
 * are copied into buf[cap]; out->next_before is the "before" of the next
 * page, 0 when there is none.  Errors: LEDGER_E_NOT_FOUND (no account),
 * LEDGER_E_INVALID, LEDGER_E_OVERFLOW (buf too small for the page;
 * TB_HISTORY_MAX * TB_RECORD_MAX always suffices), LEDGER_E_CORRUPT,
 * LEDGER_E_LMDB, LEDGER_E_READERS.
 */
TB_WUR enum ledger_err ledger_history(struct ledger *l, const char *account,
                                      uint64_t before, unsigned limit,
                                      struct tb_history *out, uint8_t *buf,
                                      size_t cap);

/* The record of seq (u64 seq || u64 received || body || sig) into
 * buf[cap] (TB_RECORD_MAX suffices).  Errors: LEDGER_E_NOT_FOUND,
 * LEDGER_E_OVERFLOW, LEDGER_E_LMDB, LEDGER_E_READERS. */
TB_WUR enum ledger_err ledger_entry(struct ledger *l, uint64_t seq,
                                    uint8_t *buf, size_t cap, size_t *len);

/* The latest checkpoint (a C2SP signed note) into buf[cap]
 * (TB_CHECKPOINT_MAX suffices); *size gets its tree size (may be
 * NULL).  Errors: LEDGER_E_OVERFLOW, LEDGER_E_CORRUPT, LEDGER_E_LMDB. */
TB_WUR enum ledger_err ledger_checkpoint(struct ledger *l, uint8_t *buf,
                                         size_t cap, size_t *len,
                                         uint64_t *size);

/* The checkpoint issued at exactly tree size `size`.  Errors:
 * LEDGER_E_NOT_FOUND (none was issued at that size), LEDGER_E_OVERFLOW,
 * LEDGER_E_LMDB. */
TB_WUR enum ledger_err ledger_checkpoint_at(struct ledger *l, uint64_t size,
                                            uint8_t *buf, size_t cap,
                                            size_t *len);

/*
 * RFC 6962 inclusion proof of leaf seq in the tree of size `size` (0 = the
 * latest checkpoint's size); O(log n) reads.  out->record and, when a
 * checkpoint was issued at that size, out->checkpoint are copied into
 * buf[cap] (TB_RECORD_MAX + TB_CHECKPOINT_MAX suffices).  Errors:
 * LEDGER_E_RANGE (seq >= size or size > tree size), LEDGER_E_OVERFLOW,
 * LEDGER_E_CORRUPT, LEDGER_E_LMDB.
 */
TB_WUR enum ledger_err ledger_prove_inclusion(struct ledger *l, uint64_t seq,
                                              uint64_t size,
                                              struct tb_proof *out,
                                              uint8_t *buf, size_t cap);

/*
 * RFC 6962 consistency proof between tree sizes old_size and size (0 = the
 * latest), 1 <= old_size <= size.  out->checkpoint is the checkpoint of
 * size if one was issued, copied into buf[cap].  Errors: LEDGER_E_RANGE,
 * LEDGER_E_OVERFLOW, LEDGER_E_CORRUPT, LEDGER_E_LMDB.
 */
TB_WUR enum ledger_err
ledger_prove_consistency(struct ledger *l, uint64_t old_size, uint64_t size,
                         struct tb_proof *out, uint8_t *buf, size_t cap);

/* The root hash of the tree of size `size` (<= tree size); O(log n).
 * Errors: LEDGER_E_RANGE, LEDGER_E_CORRUPT, LEDGER_E_LMDB. */
TB_WUR enum ledger_err ledger_root(struct ledger *l, uint64_t size,
                                   uint8_t root[TB_HASH_SIZE]);

/* Tree size, counts, origin, log verifier key, file and map sizes.  The
 * version field is left empty (the daemon fills it).  Errors:
 * LEDGER_E_CORRUPT, LEDGER_E_LMDB, LEDGER_E_IO. */
TB_WUR enum ledger_err ledger_status(struct ledger *l,
                                     struct tb_status_info *out);

/* Result of ledger_check_full(). */
struct ledger_check_report {
        uint64_t entries;              /* records replayed */
        uint64_t checkpoints;          /* checkpoints compared */
        uint64_t accounts;             /* accounts compared */
        uint64_t keys;                 /* keys compared */
        uint64_t mismatches;           /* differences found; 0 = passed */
        char first[LEDGER_DETAIL_MAX]; /* the first difference, or "" */
};

/*
 * The full self-check: replay every record from genesis into a fresh
 * temporary ledger (under tmpdir, or $TMPDIR, or /tmp; removed afterwards)
 * with the same log key and the same apply code: every signature is
 * re-verified and every rule re-applied with the record's receive time as
 * "now".  The admission time window (clock skew, maximum age) is NOT
 * re-applied: it depended on the daemon's configuration at the time.  Every
 * record must be accepted with its own seq; then every account, every key,
 * the tree size and root, and every stored checkpoint (byte for byte:
 * Ed25519 signatures are deterministic) are compared with what is stored.
 * Returns LEDGER_OK when the check could run: look at rep->mismatches.
 *
 * Errors: LEDGER_E_IO (temporary directory), LEDGER_E_NOMEM, LEDGER_E_LMDB,
 * LEDGER_E_CORRUPT (a stored record does not decode), LEDGER_E_PANIC,
 * LEDGER_E_KEY (l was opened with a signer: the replay needs the key).
 */
TB_WUR enum ledger_err ledger_check_full(struct ledger *l, const char *tmpdir,
                                         struct ledger_check_report *rep);

/* Result of ledger_upgrade(). */
struct ledger_upgrade_report {
        unsigned from, to; /* storage formats; from == to: nothing done */
        uint64_t idem;     /* idempotency records carried over */
        struct ledger_check_report replay; /* the old ledger's derived
                                 state against the replay (every database
                                 whose layout both formats share) */
        struct ledger_check_report check;  /* the full check of the new */
};

/*
 * Convert the ledger in dir (closed: the caller holds the data directory's
 * lock) from an older storage format to LEDGER_FORMAT_VERSION, in place:
 *
 *   1. open it read-only in spirit (nothing of it is written) and rebuild
 *      a new environment in dir/upgrade.new/ by replaying its log through
 *      the rules (as ledger_check_full() does), comparing every derived
 *      database both formats share with the old one;
 *   2. carry over the idempotency records (the one database that is not a
 *      function of the log), re-keyed;
 *   3. run ledger_check_full() on the new environment and fsync it;
 *   4. rename dir/upgrade.new/data.mdb over dir/data.mdb (atomic) and fsync
 *      dir.
 *
 * A crash before step 4 leaves the old ledger as it was (and a leftover
 * dir/upgrade.new/ that the next upgrade removes); after it, the new one.
 * Any mismatch in 1 or 3 stops before step 4 with LEDGER_E_CHECK and the
 * reports saying what differs.  A ledger already at LEDGER_FORMAT_VERSION
 * is left alone (LEDGER_OK, from == to).  Options as for ledger_open()
 * (o->signer must be NULL: the replay signs checkpoints with dir/log.key).
 * Errors: those of ledger_open() and ledger_check_full(), LEDGER_E_CHECK,
 * LEDGER_E_IO.
 */
TB_WUR enum ledger_err ledger_upgrade(const char *dir,
                                      const struct ledger_options *o,
                                      struct ledger_upgrade_report *rep);

/* What ledger_backup() made. */
struct ledger_backup_info {
        uint64_t size;  /* the copy's tree size, that of its last checkpoint */
        uint64_t bytes; /* the size of the copy's data.mdb */
        int completed;  /* 1: the copy caught a batch between its two
                           commits; the live ledger's checkpoint of that
                           size was added to it */
};

/*
 * A compacting hot copy (docs/operations.md, "Backups and restore"): copy
 * the ledger in dir, which a daemon may be serving and writing, to dest
 * (created with mode 0700, or an existing empty directory): data.mdb
 * (mode 0600, free pages left out) and log.pub, never log.key nor
 * signer.state.  The copy is one LMDB read transaction of the live ledger
 * (it never blocks the writer) and always ends at a signed checkpoint:
 * when it caught a batch whose entries were committed but not yet its
 * checkpoint, the checkpoint the daemon signs for exactly that size is
 * waited for (up to wait_ms), verified with log.pub and added.  The copy is
 * then quick-checked with log.pub alone (as ledger_open() does).  Nothing
 * needs the log key; dir is only read.  On failure dest is left without
 * data.mdb (and removed if this call made it).
 *
 * Errors: LEDGER_E_NO_LEDGER, LEDGER_E_EXISTS (dest is not an empty
 * directory), LEDGER_E_KEY (dir/log.pub missing or not the ledger's),
 * LEDGER_E_CHECK (no checkpoint for the copy's size came within wait_ms,
 * or the copy fails the quick check), LEDGER_E_IO (errno says),
 * LEDGER_E_VERSION, LEDGER_E_CORRUPT, LEDGER_E_LMDB, LEDGER_E_NOMEM.
 */
TB_WUR enum ledger_err ledger_backup(const char *dir, const char *dest,
                                     unsigned wait_ms,
                                     struct ledger_backup_info *out);

/* What ledger_rebuild() did, or where it stopped. */
struct ledger_rebuild_report {
        uint64_t entries;              /* records replayed and accepted */
        char first[LEDGER_DETAIL_MAX]; /* LEDGER_E_CHECK: what differs */
};

/*
 * Rebuild a ledger in dir (created with mode 0700 if missing; an existing
 * directory must not hold a ledger) from the n records of a log mirror
 * (docs/audit.md: each u64 seq || u64 received || body || signature) and
 * its checkpoint note: the note must verify with key's public half (the
 * origin is key's name; key is borrowed) and be of size n; then, as
 * ledger_init() would, dir/log.key (a copy of key, 0600), dir/log.pub and the
 * environment are made, and every record is applied through the ledger's write
 * path in order, its receive time as "now" (the admission time window is not
 * re-applied, as in ledger_check_full()): each must be accepted at its own
 * seq.  Finally the tree's root must equal the note's, and the ledger signs
 * and stores its checkpoint of size n.  Refusals and idempotency records
 * of requests that were refused are not in a log and so not rebuilt
 * (docs/operations.md).  All or nothing: on any failure the files made
 * are removed.  o: map sizes (NULL for the defaults).
 *
 * Errors: LEDGER_E_INVALID, LEDGER_E_EXISTS, LEDGER_E_IO, LEDGER_E_KEY,
 * LEDGER_E_CHECK (the note does not verify or is of another size, a record
 * does not decode or is refused, or the root differs: rep->first says
 * which), LEDGER_E_FULL, LEDGER_E_LMDB, LEDGER_E_CRYPTO, LEDGER_E_NOMEM.
 */
struct tb_skey;
TB_WUR enum ledger_err ledger_rebuild(const char *dir, struct tb_skey *key,
                                      const uint8_t *const *records,
                                      const size_t *lens, uint64_t n,
                                      const uint8_t *note, size_t note_len,
                                      const struct ledger_options *o,
                                      struct ledger_rebuild_report *rep);

/*
 * ledger_map.c: drop this process's resident pages of the read-only map
 * of data.mdb (found in /proc/self/maps; madvise MADV_DONTNEED under the
 * resize lock): they stay in the page cache and fault back in when read,
 * so it is safe under concurrent readers and the writer.  The daemon calls
 * it on a timer to bound what the kernel counts as its private memory
 * (map_resident_max, docs/timebankd.md).
 * Errors: LEDGER_E_IO (/proc/self/maps unreadable, the mapping not found
 * in it, or madvise failed), LEDGER_E_LMDB.
 */
TB_WUR enum ledger_err ledger_map_trim(struct ledger *l);

#endif
