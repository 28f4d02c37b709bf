/*
 * daemon/ledger/ledger.c - the ledger's life cycle: init (a new environment,
 * log key and genesis), open (with the quick self-check), close, and the
 * error texts.  The write path is ledger_batch.c.
 *
 * Init is all or nothing: any failure removes the files it made, so a
 * directory holds either a complete ledger (genesis committed) or none.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: see resize_lock_init */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"
#include "ledger_store.h"
#include "note.h"

static const char *const db_names[LEDGER_DB__COUNT] = {
    [LEDGER_DB_LOG] = "log",
    [LEDGER_DB_HASHES] = "hashes",
    [LEDGER_DB_CHECKPOINTS] = "checkpoints",
    [LEDGER_DB_ACCOUNTS] = "accounts",
    [LEDGER_DB_HISTORY] = "history",
    [LEDGER_DB_IDEM] = "idem",
    [LEDGER_DB_KEYS] = "keys",
    [LEDGER_DB_INTERVALS] = "intervals",
    [LEDGER_DB_DAILY] = "daily",
    [LEDGER_DB_POLICY] = "policy",
    [LEDGER_DB_REVERSED] = "reversed",
    [LEDGER_DB_META] = "meta",
};

static const char *const err_text[LEDGER_E__COUNT] = {
    [LEDGER_OK] = "ok",
    [LEDGER_E_INVALID] = "invalid argument",
    [LEDGER_E_NOMEM] = "out of memory",
    [LEDGER_E_IO] = "file system error",
    [LEDGER_E_EXISTS] = "a ledger already exists there",
    [LEDGER_E_NO_LEDGER] = "no ledger there",
    [LEDGER_E_VERSION] = "unsupported ledger storage version",
    [LEDGER_E_KEY] = "log key missing, malformed or not this ledger's",
    /* parenthesised: clang's -Wstring-concatenation suspects a missing
     * comma in a table of mostly one-piece strings */
    [LEDGER_E_CHECK] = ("self-check failed: stored checkpoint, tree size "
                        "and root disagree"),
    [LEDGER_E_CORRUPT] = "stored data is corrupt",
    [LEDGER_E_NOT_FOUND] = "not found",
    [LEDGER_E_RANGE] = "index or size out of range",
    [LEDGER_E_OVERFLOW] = "buffer too small",
    [LEDGER_E_FULL] = "storage full: the map reached its maximum size",
    [LEDGER_E_READERS] = "too many concurrent readers",
    [LEDGER_E_PANIC] = "LMDB panic: the environment is unusable, exit",
    [LEDGER_E_LMDB] = "LMDB error",
    [LEDGER_E_UPGRADE] = ("ledger storage format 1, 2 or 3 is no longer "
                          "served: stop timebankd and run 'timebankd upgrade "
                          "-d DIR'"),
    [LEDGER_E_CRYPTO] = "signing or hashing failed",
    [LEDGER_E_SIGNER] = ("the signer refused the checkpoint or is gone "
                         "(see the signer's log line)"),
};

const char *ledger_strerror(enum ledger_err err)
{
        if ((unsigned)err >= LEDGER_E__COUNT || !err_text[err])
                return "unknown ledger error";
        return err_text[err];
}

void ledger_options_default(struct ledger_options *o)
{
        memset(o, 0, sizeof(*o));
        o->map_initial = LEDGER_MAP_INITIAL_DEFAULT;
        o->map_max = LEDGER_MAP_MAX_DEFAULT;
        o->clock_skew = LEDGER_SKEW_DEFAULT;
        o->max_age = LEDGER_MAX_AGE_DEFAULT;
        o->sync = 1;
        o->points_per_hour = LEDGER_RATE_DEFAULT;
        o->accounts_behind = LEDGER_ACCOUNTS_BEHIND_DEFAULT;
}

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
        int n = snprintf(out, cap, "%s/%s", dir, name);

        return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Make the names in dir (a rename, a new file) durable: fsync of the
 * directory.  0, or -1 with errno. */
int ledger_fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

        if (fd < 0)
                return -1;
        rc = fsync(fd);
        if (close(fd) != 0)
                rc = -1;
        return rc;
}

/* The resize lock prefers its writer.  glibc's default kind prefers
 * readers: two threads whose reads overlap without pause (a busy
 * daemon's readers, or any reader under valgrind's one-at-a-time
 * scheduler) keep it shared for ever, and the writer, waiting to grow the
 * map with the write lock held, stalls every write behind it.  Preferring
 * the writer is safe because no thread takes the lock shared twice (no read
 * transaction opens another on the same ledger). */
static int resize_lock_init(pthread_rwlock_t *lock)
{
        pthread_rwlockattr_t a;
        int rc;

        if ((rc = pthread_rwlockattr_init(&a)))
                return rc;
        rc = pthread_rwlockattr_setkind_np(
            &a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        if (!rc)
                rc = pthread_rwlock_init(lock, &a);
        (void)pthread_rwlockattr_destroy(&a);
        return rc;
}

static struct ledger *ledger_alloc(const char *dir,
                                   const struct ledger_options *o)
{
        struct ledger *l = calloc(1, sizeof(*l));

        if (!l)
                return NULL;
        if (o)
                l->opt = *o;
        else
                ledger_options_default(&l->opt);
        if (l->opt.map_max < l->opt.map_initial)
                l->opt.map_max = l->opt.map_initial;
        snprintf(l->dir, sizeof(l->dir), "%s", dir);
        if (ledger_accounts_new(l)) {
                free(l);
                return NULL;
        }
        if (pthread_mutex_init(&l->write_lock, NULL)) {
                ledger_accounts_free(l);
                free(l);
                return NULL;
        }
        if (resize_lock_init(&l->resize_lock)) {
                pthread_mutex_destroy(&l->write_lock);
                ledger_accounts_free(l);
                free(l);
                return NULL;
        }
        return l;
}

void ledger_set_test_hooks(struct ledger *l, const struct ledger_test_hooks *h)
{
        l->hooks = *h;
}

void ledger_close(struct ledger *l)
{
        if (!l)
                return;
        /* the rows behind, written (a failure here only leaves them to
         * the next open's catch-up) */
        enum ledger_err flushed =
            l->env ? ledger_accounts_flush_locked(l) : LEDGER_OK;

        (void)flushed;
        ledger_accounts_free(l);
        if (l->env)
                mdb_env_close(l->env);
        if (l->owns_key)
                tb_skey_free(l->key);
        pthread_rwlock_destroy(&l->resize_lock);
        pthread_mutex_destroy(&l->write_lock);
        sodium_memzero(l, sizeof(*l));
        free(l);
}

/* create: make the databases; rdonly: open the environment read-only
 * (MDB_RDONLY), at the map size its writer set, for a copy taken beside a
 * serving daemon. */
static int env_open(struct ledger *l, int create, int rdonly)
{
        struct ledger_txn t;
        MDB_envinfo info;
        unsigned flags = MDB_NOTLS | (l->opt.sync ? 0 : MDB_NOSYNC) |
                         (rdonly ? MDB_RDONLY : 0);
        int rc, i;

        if ((rc = mdb_env_create(&l->env)))
                return rc;
        if ((rc = mdb_env_set_maxdbs(l->env, LEDGER_DB__COUNT)))
                return rc;
        if (create && (rc = mdb_env_set_mapsize(l->env, l->opt.map_initial)))
                return rc;
        if ((rc = mdb_env_open(l->env, l->dir, flags, 0600)))
                return rc;
        if ((rc = mdb_env_info(l->env, &info)))
                return rc;
        if (!rdonly && info.me_mapsize < l->opt.map_initial &&
            (rc = mdb_env_set_mapsize(l->env, l->opt.map_initial)))
                return rc;
        if ((rc = mdb_env_info(l->env, &info)))
                return rc;
        l->map_size = info.me_mapsize;
        if ((rc = ledger_txn_begin(&t, l, rdonly)))
                return rc;
        for (i = 0; i < LEDGER_DB__COUNT; i++) {
                rc = mdb_dbi_open(t.txn, db_names[i], create ? MDB_CREATE : 0,
                                  &l->db[i]);
                if (rc) {
                        ledger_txn_abort(&t);
                        return rc;
                }
        }
        return ledger_txn_commit(&t);
}

/* The in-process signer: the key is here, and nothing is refused. */
static enum ledger_err sign_local_cb(void *ctx, const uint8_t *old_note,
                                     size_t old_len, uint64_t new_size,
                                     const uint8_t new_root[TB_HASH_SIZE],
                                     const uint8_t (*proof)[TB_HASH_SIZE],
                                     size_t count, uint8_t *note, size_t cap,
                                     size_t *len)
{
        struct ledger *l = ctx;
        struct tb_checkpoint cp;

        (void)old_note, (void)old_len, (void)proof, (void)count;
        memset(&cp, 0, sizeof(cp));
        snprintf(cp.origin, sizeof(cp.origin), "%s", l->origin);
        cp.origin_len = strlen(cp.origin);
        cp.size = new_size;
        memcpy(cp.root, new_root, TB_HASH_SIZE);
        if (tb_checkpoint_sign(&cp, l->key, note, cap, len) != TB_OK)
                return LEDGER_E_CRYPTO;
        return LEDGER_OK;
}

static enum ledger_err set_vkey(struct ledger *l, const struct tb_vkey *v)
{
        l->vkey = *v;
        if (tb_vkey_format(&l->vkey, l->vkey_text, sizeof(l->vkey_text),
                           NULL) != TB_OK)
                return LEDGER_E_KEY;
        return LEDGER_OK;
}

static enum ledger_err set_key(struct ledger *l, struct tb_skey *key,
                               int owns_key)
{
        struct tb_vkey v;

        l->key = key;
        l->owns_key = owns_key;
        if (!key)
                return LEDGER_E_KEY;
        l->signer = (struct ledger_signer){sign_local_cb, l};
        tb_skey_public(key, &v);
        return set_vkey(l, &v);
}

enum ledger_err ledger_env_create(const char *dir, const char *origin,
                                  struct tb_skey *key, int owns_key,
                                  const struct ledger_options *o,
                                  struct ledger **out)
{
        struct ledger *l;
        struct ledger_txn t;
        enum ledger_err err;
        int rc;

        *out = NULL;
        if (!(l = ledger_alloc(dir, o))) {
                if (owns_key)
                        tb_skey_free(key);
                return LEDGER_E_NOMEM;
        }
        snprintf(l->origin, sizeof(l->origin), "%s", origin);
        if ((err = set_key(l, key, owns_key)))
                goto fail;
        if ((rc = env_open(l, 1, 0))) {
                err = ledger_txn_err(rc);
                goto fail;
        }
        if ((rc = ledger_txn_begin(&t, l, 0))) {
                err = ledger_txn_err(rc);
                goto fail;
        }
        ledger_store_meta_uint_put(&t, LEDGER_STORE_VERSION,
                                   LEDGER_FORMAT_VERSION);
        ledger_store_meta_origin_put(&t, origin);
        ledger_store_meta_log_vkey_put(&t, &l->vkey);
        ledger_store_meta_uint_put(&t, LEDGER_STORE_TREE_SIZE, 0);
        ledger_store_meta_uint_put(&t, LEDGER_STORE_ACCOUNTS_THROUGH, 0);
        if ((rc = ledger_txn_commit(&t))) {
                err = ledger_txn_err(rc);
                goto fail;
        }
        *out = l;
        return LEDGER_OK;
fail:
        ledger_close(l);
        return err;
}

void ledger_remove_files(const char *dir)
{
        static const char *const names[] = {"data.mdb", "lock.mdb",
                                            LEDGER_KEY_FILE, LEDGER_PUB_FILE};
        char path[PATH_MAX];
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (path_join(path, sizeof(path), dir, names[i]) == 0)
                        (void)unlink(path);
}

static int file_exists(const char *dir, const char *name)
{
        char path[PATH_MAX];
        struct stat st;

        if (path_join(path, sizeof(path), dir, name))
                return 0;
        return lstat(path, &st) == 0;
}

enum ledger_err ledger_env_attach(const char *dir, int rdonly,
                                  struct ledger **out)
{
        struct ledger *l;
        uint64_t version;
        struct ledger_txn t;
        enum ledger_err err;
        int rc = 0, ok;

        *out = NULL;
        if (!file_exists(dir, "data.mdb"))
                return LEDGER_E_NO_LEDGER;
        if (!(l = ledger_alloc(dir, NULL)))
                return LEDGER_E_NOMEM;
        if ((rc = env_open(l, 0, rdonly))) {
                err = rc == MDB_NOTFOUND ? LEDGER_E_NO_LEDGER
                                         : ledger_txn_err(rc);
                goto fail;
        }
        if ((err = ledger_txn_begin_read(l, &t)))
                goto fail;
        ok = ledger_store_meta_uint_get(&t, LEDGER_STORE_VERSION, &version);
        err = !ok || version != LEDGER_FORMAT_VERSION ? LEDGER_E_VERSION
              : !ledger_store_meta_origin_get(&t, l->origin) ||
                      !ledger_store_meta_log_vkey_get(&t, &l->vkey)
                  ? LEDGER_E_CORRUPT
                  : LEDGER_OK;
        ledger_txn_end_read(&t);
        if (err)
                goto fail;
        *out = l;
        return LEDGER_OK;
fail:
        ledger_close(l);
        if (rc > 0)
                errno = rc; /* LEDGER_E_IO: which */
        return err;
}

static enum ledger_err genesis_build(struct ledger *l, const uint8_t *admin_pk,
                                     const char *admin_name,
                                     const struct ledger_options *o,
                                     uint8_t *out, size_t *len)
{
        struct tb_entry e;
        struct timespec now;
        uint8_t msg[TB_SIG_MESSAGE_MAX], rnd[10];
        size_t blen, mlen;

        memset(&e, 0, sizeof(e));
        e.version = TB_ENTRY_VERSION;
        e.kind = TB_KIND_GENESIS;
        memcpy(e.signer, l->vkey.pk, TB_PUBKEY_SIZE);
        /* a request id like the CLI's (time first), so that its idem row
         * sorts with theirs (docs/storage.md, idem) */
        randombytes_buf(rnd, sizeof(rnd));
        if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
            tb_request_id_make((int64_t)now.tv_sec * 1000 +
                                   now.tv_nsec / 1000000,
                               rnd, e.request_id) != TB_OK)
                return LEDGER_E_INVALID;
        e.clock = (int64_t)now.tv_sec;
        snprintf(e.u.genesis.origin, sizeof(e.u.genesis.origin), "%s",
                 l->origin);
        memcpy(e.u.genesis.admin_key, admin_pk, TB_PUBKEY_SIZE);
        snprintf(e.u.genesis.admin_name, sizeof(e.u.genesis.admin_name), "%s",
                 admin_name);
        e.u.genesis.points_per_hour = o->points_per_hour;
        e.u.genesis.daily_minutes_cap = o->daily_minutes_cap;
        e.u.genesis.max_balance = o->max_balance;
        if (tb_entry_encode(&e, out, TB_BODY_MAX, &blen) != TB_OK)
                return LEDGER_E_INVALID;
        if (tb_entry_sig_message(l->origin, out, blen, msg, sizeof(msg),
                                 &mlen) != TB_OK ||
            tb_skey_sign(l->key, msg, mlen, out + blen) != TB_OK)
                return LEDGER_E_CRYPTO;
        *len = blen + TB_SIG_SIZE;
        return LEDGER_OK;
}

enum ledger_err ledger_init(const char *dir, const char *origin,
                            const uint8_t admin_pk[TB_PUBKEY_SIZE],
                            const char *admin_name,
                            const struct ledger_options *o)
{
        struct ledger_options def;
        struct ledger *l = NULL;
        struct tb_skey *key = NULL;
        struct ledger_item item;
        struct ledger_result res;
        uint8_t signed_entry[TB_SIGNED_MAX];
        char path[PATH_MAX];
        enum ledger_err err;
        int created = 0;

        if (!o) {
                ledger_options_default(&def);
                o = &def;
        }
        if (!dir || !origin || !admin_pk || !admin_name ||
            tb_key_name_check(origin, strlen(origin)) != TB_OK ||
            tb_name_check(admin_name, strlen(admin_name)) != TB_OK)
                return LEDGER_E_INVALID;
        if (sodium_init() < 0)
                return LEDGER_E_CRYPTO;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                return LEDGER_E_IO;
        if (file_exists(dir, "data.mdb") || file_exists(dir, LEDGER_KEY_FILE))
                return LEDGER_E_EXISTS;
        created = 1;
        if (tb_skey_generate(origin, strlen(origin), &key) != TB_OK) {
                err = LEDGER_E_CRYPTO;
                goto fail;
        }
        if (path_join(path, sizeof(path), dir, LEDGER_KEY_FILE) ||
            tb_keyfile_write_secret(path, key) != TB_OK) {
                err = LEDGER_E_KEY;
                goto fail;
        }
        if ((err = ledger_env_create(dir, origin, key, 1, o, &l))) {
                key = NULL;
                goto fail;
        }
        key = NULL;
        if (path_join(path, sizeof(path), dir, LEDGER_PUB_FILE) ||
            tb_keyfile_write_public(path, &l->vkey) != TB_OK) {
                err = LEDGER_E_KEY;
                goto fail;
        }
        if ((err = genesis_build(l, admin_pk, admin_name, o, signed_entry,
                                 &item.len)))
                goto fail;
        item.signed_entry = signed_entry;
        item.received = (int64_t)time(NULL);
        item.verified = 0;
        if ((err = ledger_batch_apply(l, &item, 1, &res, 0)))
                goto fail;
        if (res.status != TB_ST_OK) {
                err = LEDGER_E_INVALID;
                goto fail;
        }
        ledger_close(l);
        return LEDGER_OK;
fail:
        tb_skey_free(key);
        ledger_close(l);
        if (created)
                ledger_remove_files(dir);
        return err;
}

/* docs/storage.md, "Quick check": O(log n) reads. */
static enum ledger_err quick_check(struct ledger *l)
{
        struct ledger_txn t;
        struct tb_checkpoint cp;
        uint8_t root[TB_HASH_SIZE], tree_root[TB_HASH_SIZE];
        const uint8_t *note;
        size_t len;
        uint64_t size, cp_size, last;
        enum ledger_err err;
        int ok;

        if ((err = ledger_txn_begin_read(l, &t)))
                return err;
        ok = ledger_store_meta_uint_get(&t, LEDGER_STORE_TREE_SIZE, &size) &&
             ledger_store_meta_root_get(&t, root) &&
             ledger_store_checkpoints_last(&t, &cp_size, &note, &len) &&
             cp_size == size &&
             tb_checkpoint_open(note, len, l->origin, &l->vkey, &cp) == TB_OK &&
             cp.size == size && memcmp(cp.root, root, TB_HASH_SIZE) == 0 &&
             tb_merkle_tree_hash(ledger_store_hashes_read_cb, &t, size,
                                 tree_root) == TB_OK &&
             memcmp(cp.root, tree_root, TB_HASH_SIZE) == 0 &&
             ledger_store_log_last(&t, &last) && last + 1 == size;
        ledger_txn_end_read(&t);
        return ok ? LEDGER_OK : LEDGER_E_CHECK;
}

enum ledger_err ledger_open_format(const char *dir,
                                   const struct ledger_options *o,
                                   unsigned *format, struct ledger **out)
{
        struct ledger *l = NULL;
        struct tb_skey *key = NULL;
        struct tb_vkey stored, pub;
        struct ledger_txn t;
        char path[PATH_MAX];
        uint64_t version;
        enum ledger_err err;
        int rc, dead;

        *out = NULL;
        if (!dir)
                return LEDGER_E_INVALID;
        if (sodium_init() < 0)
                return LEDGER_E_CRYPTO;
        if (!file_exists(dir, "data.mdb"))
                return LEDGER_E_NO_LEDGER;
        if (!(l = ledger_alloc(dir, o)))
                return LEDGER_E_NOMEM;
        if ((rc = env_open(l, 0, 0))) {
                err = rc == MDB_NOTFOUND ? LEDGER_E_NO_LEDGER
                                         : ledger_txn_err(rc);
                goto fail;
        }
        if ((rc = mdb_reader_check(l->env, &dead))) {
                err = ledger_txn_err(rc);
                goto fail;
        }
        if ((rc = ledger_txn_begin(&t, l, 1))) {
                err = ledger_txn_err(rc);
                goto fail;
        }
        err = LEDGER_E_VERSION;
        if (!ledger_store_meta_uint_get(&t, LEDGER_STORE_VERSION, &version) ||
            version < 1 || version > LEDGER_FORMAT_VERSION)
                goto fail_txn;
        err = LEDGER_E_UPGRADE;
        if (version != LEDGER_FORMAT_VERSION && !format)
                goto fail_txn;
        if (format)
                *format = (unsigned)version;
        err = LEDGER_E_CORRUPT;
        if (!ledger_store_meta_origin_get(&t, l->origin) ||
            !ledger_store_meta_log_vkey_get(&t, &stored))
                goto fail_txn;
        ledger_txn_abort(&t);
        err = LEDGER_E_KEY;
        if (l->opt.signer) {
                /* the secret stays with the signer: only the public half */
                if (path_join(path, sizeof(path), dir, LEDGER_PUB_FILE) ||
                    tb_keyfile_read_public(path, &pub) != TB_OK ||
                    (err = set_vkey(l, &pub)))
                        goto fail;
                l->signer = *l->opt.signer;
        } else {
                if (path_join(path, sizeof(path), dir, LEDGER_KEY_FILE) ||
                    tb_keyfile_read_secret(path, &key) != TB_OK)
                        goto fail;
                if ((err = set_key(l, key, 1)))
                        goto fail;
                key = NULL;
        }
        if (!tb_vkey_equal(&l->vkey, &stored)) {
                err = LEDGER_E_KEY;
                goto fail;
        }
        /* the rows of entries a crash left behind (format 4) */
        if (version == LEDGER_FORMAT_VERSION &&
            (err = ledger_accounts_catch_up(l, &l->accounts_redone)) &&
            !l->opt.skip_quick_check)
                goto fail; /* (the full check reports what differs) */
        /* an older format is only read (the upgrade): no checkpoint added */
        if (!l->opt.skip_quick_check && ((version == LEDGER_FORMAT_VERSION &&
                                          (err = ledger_batch_checkpoint(l))) ||
                                         (err = quick_check(l))))
                goto fail;
        *out = l;
        return LEDGER_OK;
fail_txn:
        ledger_txn_abort(&t);
fail:
        tb_skey_free(key);
        ledger_close(l);
        return err;
}

enum ledger_err ledger_open(const char *dir, const struct ledger_options *o,
                            struct ledger **out)
{
        return ledger_open_format(dir, o, NULL, out);
}
