/*
 * daemon/ledger/ledger_upgrade.c - convert a ledger of an older storage
 * format to this one in place (docs/storage.md, "Upgrading"): rebuild it
 * beside the old one by replaying the log through the rules, carry the
 * idempotency records over, check the result, then swap the file with one
 * rename.  The old environment is only read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger_store.h"

#define UPGRADE_DIR   "upgrade.new" /* inside the data directory */
#define UPGRADE_CHUNK 4096          /* idem rows per write transaction */

/* Format 1's idem key is pk ‖ rid, format 2's class ‖ rid ‖ pk; both
 * store the whole outcome, u16 status ‖ u64 seq ‖ i64 points ‖
 * u64 balance ‖ hash (format 3 keeps only the seq of an accepted one). */
#define IDEM_KEY_SIZE   (TB_PUBKEY_SIZE + TB_REQUEST_ID_SIZE)
#define IDEM_VALUE_SIZE (2 + 8 + 8 + 8 + TB_HASH_SIZE)

static int upgrade_path(char *out, size_t cap, const char *dir,
                        const char *name)
{
        return snprintf(out, cap, "%s/%s", dir, name) >= (int)cap ? -1 : 0;
}

/* A leftover of an interrupted upgrade (or nothing): gone, or -1. */
static int upgrade_remove_new(const char *ndir)
{
        static const char *const names[] = {"data.mdb", "lock.mdb"};
        char path[PATH_MAX];
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                if (upgrade_path(path, sizeof(path), ndir, names[i]))
                        return -1;
                if (unlink(path) != 0 && errno != ENOENT)
                        return -1;
        }
        return rmdir(ndir) != 0 && errno != ENOENT ? -1 : 0;
}

/* An accepted entry's stored outcome must be the one its logged record
 * and the replayed history give (format 3 derives it from them). */
static int upgrade_idem_agrees(struct ledger_txn *wt, const uint8_t *pk,
                               const uint8_t *rid,
                               const struct ledger_store_idem *d)
{
        struct ledger_store_idem x;

        if (d->status != TB_ST_OK)
                return 1;
        if (ledger_idem_logged(wt, pk, rid, d->seq, &x) != LEDGER_OK)
                return 0;
        if (x.points != d->points || x.balance != d->balance ||
            memcmp(x.hash, d->hash, TB_HASH_SIZE) != 0) {
                ledger_txn_fail(wt, LEDGER_TXN_E_CORRUPT);
                return 0;
        }
        return 1;
}

/* Every idem row of l (format 1: pk ‖ rid, format 2: class ‖ rid ‖ pk)
 * into r through this format's codec, after checking each accepted one
 * against the replayed log; rows the replay wrote for logged entries are
 * overwritten with the stored ones. */
static enum ledger_err upgrade_carry_idem(struct ledger *l, struct ledger *r,
                                          unsigned format, uint64_t *count)
{
        struct ledger_txn rt, wt;
        MDB_cursor *c;
        MDB_val k, v;
        struct ledger_store_idem d;
        struct tb_rbuf b;
        const uint8_t *pk, *rid;
        enum ledger_err err;
        MDB_cursor_op op = MDB_FIRST;
        size_t n = 0, ksize = IDEM_KEY_SIZE + (format == 1 ? 0 : 1);
        int rc;

        if ((err = ledger_txn_begin_read(l, &rt)))
                return err;
        c = ledger_txn_cursor_open(&rt, LEDGER_DB_IDEM);
        if ((rc = ledger_txn_begin(&wt, r, 0))) {
                ledger_txn_cursor_close(c);
                ledger_txn_end_read(&rt);
                return ledger_txn_err(rc);
        }
        while (!wt.rc && ledger_txn_cursor_get(&rt, c, &k, &v, op)) {
                op = MDB_NEXT;
                if (k.mv_size != ksize || v.mv_size != IDEM_VALUE_SIZE) {
                        ledger_txn_fail(&wt, LEDGER_TXN_E_CORRUPT);
                        break;
                }
                if (format == 1) {
                        pk = k.mv_data;
                        rid = pk + TB_PUBKEY_SIZE;
                } else {
                        rid = (const uint8_t *)k.mv_data + 1;
                        pk = rid + TB_REQUEST_ID_SIZE;
                }
                tb_rbuf_init(&b, v.mv_data, v.mv_size);
                d.status = tb_get_u16(&b);
                d.seq = tb_get_u64(&b);
                d.points = (int64_t)tb_get_u64(&b);
                d.balance = tb_get_u64(&b);
                tb_get_bytes(&b, d.hash, TB_HASH_SIZE);
                if (!ledger_txn_decoded(&wt, &b) ||
                    !upgrade_idem_agrees(&wt, pk, rid, &d))
                        break;
                ledger_store_idem_put(&wt, pk, rid, &d);
                (*count)++;
                if (++n == UPGRADE_CHUNK) {
                        if (ledger_txn_commit(&wt) == 0)
                                (void)ledger_txn_begin(&wt, r, 0);
                        n = 0;
                }
        }
        ledger_txn_cursor_close(c);
        if (rt.rc)
                ledger_txn_fail(&wt, rt.rc);
        ledger_txn_end_read(&rt);
        rc = ledger_txn_commit(&wt); /* aborts on a sticky error */
        return rc ? ledger_txn_err(rc) : LEDGER_OK;
}

/* The rebuilt environment in ndir, checked and synced; l stays open. */
static enum ledger_err upgrade_build(struct ledger *l, const char *ndir,
                                     unsigned format,
                                     const struct ledger_options *o,
                                     struct ledger_upgrade_report *rep)
{
        struct ledger_options ro = *o;
        struct ledger *r = NULL;
        enum ledger_err err;
        int rc;

        ro.sync = 0; /* one fsync at the end instead of one per batch */
        ro.skip_quick_check = 0;
        if (ro.map_initial < l->map_size)
                ro.map_initial = l->map_size;
        if ((err = ledger_env_create(ndir, l->origin, l->key, 0, &ro, &r)))
                return err;
        if (!(err = ledger_check_replay(l, r, 0, &rep->replay)) &&
            rep->replay.mismatches == 0 &&
            !(err = upgrade_carry_idem(l, r, format, &rep->idem)) &&
            !(err = ledger_check_full(r, NULL, &rep->check)) &&
            rep->check.mismatches == 0 && (rc = mdb_env_sync(r->env, 1)))
                err = ledger_txn_err(rc);
        if (!err && (rep->replay.mismatches || rep->check.mismatches))
                err = LEDGER_E_CHECK;
        ledger_close(r);
        return err;
}

/*
 * Format 3 to 4 in place: format 3's account rows are whole (it wrote them
 * with every batch), so the rows are those after every entry: meta
 * accounts_through is the tree size, and the version says 4.  Then the
 * full check, as after a rebuild; if it finds anything, the version goes
 * back to 3 and the ledger is as it was.
 */
static enum ledger_err upgrade_from_3(struct ledger *l,
                                      struct ledger_upgrade_report *rep)
{
        static const char key[] = "accounts_through";
        struct ledger_txn t;
        uint64_t size;
        enum ledger_err err;
        int rc;

        if ((rc = ledger_txn_begin(&t, l, 0)))
                return ledger_txn_err(rc);
        ledger_txn_require(
            &t, ledger_store_meta_uint_get(&t, LEDGER_STORE_TREE_SIZE, &size));
        ledger_store_meta_uint_put(&t, LEDGER_STORE_ACCOUNTS_THROUGH, size);
        ledger_store_meta_uint_put(&t, LEDGER_STORE_VERSION,
                                   LEDGER_FORMAT_VERSION);
        if ((rc = ledger_txn_commit(&t)))
                return ledger_txn_err(rc);
        err = ledger_check_full(l, NULL, &rep->check);
        if (!err && rep->check.mismatches)
                err = LEDGER_E_CHECK;
        if (!err)
                return LEDGER_OK;
        if ((rc = ledger_txn_begin(&t, l, 0)))
                return ledger_txn_err(rc);
        ledger_txn_del(&t, LEDGER_DB_META, key, sizeof(key) - 1);
        ledger_store_meta_uint_put(&t, LEDGER_STORE_VERSION, 3);
        rc = ledger_txn_commit(&t);
        return rc ? ledger_txn_err(rc) : err;
}

enum ledger_err ledger_upgrade(const char *dir, const struct ledger_options *o,
                               struct ledger_upgrade_report *rep)
{
        char ndir[PATH_MAX], from[PATH_MAX], to[PATH_MAX], lock[PATH_MAX];
        struct ledger *l = NULL;
        struct stat old, new;
        enum ledger_err err;
        unsigned format = 0;

        if (!dir || !o || !rep || o->signer)
                return LEDGER_E_INVALID;
        memset(rep, 0, sizeof(*rep));
        rep->to = LEDGER_FORMAT_VERSION;
        if (upgrade_path(ndir, sizeof(ndir), dir, UPGRADE_DIR) ||
            upgrade_path(from, sizeof(from), ndir, "data.mdb") ||
            upgrade_path(to, sizeof(to), dir, "data.mdb") ||
            upgrade_path(lock, sizeof(lock), dir, "lock.mdb"))
                return LEDGER_E_INVALID;
        if ((err = ledger_open_format(dir, o, &format, &l)))
                return err;
        rep->from = format;
        if (format == LEDGER_FORMAT_VERSION) {
                /* done, but a crash may have left the last step undone */
                ledger_close(l);
                return upgrade_remove_new(ndir) == 0 ? LEDGER_OK : LEDGER_E_IO;
        }
        if (format == 3) {
                err = upgrade_from_3(l, rep);
                ledger_close(l);
                return err;
        }
        if (upgrade_remove_new(ndir) != 0 || mkdir(ndir, 0700) != 0) {
                ledger_close(l);
                return LEDGER_E_IO;
        }
        err = upgrade_build(l, ndir, format, o, rep);
        ledger_close(l);
        if (err) {
                (void)upgrade_remove_new(ndir);
                return err;
        }
        /* The new file gets the old one's owner (an upgrade run as root
         * must not leave the daemon's user a file it cannot open). */
        if (stat(to, &old) != 0 || stat(from, &new) != 0 ||
            ((old.st_uid != new.st_uid || old.st_gid != new.st_gid) &&
             chown(from, old.st_uid, old.st_gid) != 0)) {
                (void)upgrade_remove_new(ndir);
                return LEDGER_E_IO;
        }
        /* The swap: before the rename the old file is whole, after it the
         * new one.  The old lock file describes the old file's readers;
         * nothing has it open (the caller holds the directory's lock). */
        if ((unlink(lock) != 0 && errno != ENOENT) || rename(from, to) != 0 ||
            ledger_fsync_dir(dir) != 0)
                return LEDGER_E_IO;
        (void)upgrade_remove_new(ndir);
        return LEDGER_OK;
}
