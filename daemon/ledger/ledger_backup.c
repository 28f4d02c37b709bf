/*
 * daemon/ledger/ledger_backup.c - the compacting hot copy (ledger_backup):
 * mdb_env_copyfd2(MDB_CP_COMPACT) from a second, read-only environment
 * handle beside the serving daemon, completed so that it ends at a signed
 * checkpoint, then quick-checked with the log's public key alone.
 *
 * Why it can end between a batch's two commits: a batch commits its
 * entries first and their checkpoint in a second commit (ledger_batch.c),
 * and the copy's read transaction may fall between them.  Such a tree is a
 * batch boundary: the daemon signs a checkpoint for exactly that size next,
 * so the copy waits for that note in the live ledger, verifies it with
 * log.pub against its own root and stores it.  Every copy therefore holds
 * exactly the entries up to its latest checkpoint, a note the live log
 * issued too (Ed25519 is deterministic).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyfile.h"
#include "ledger_store.h"
#include "note.h"

#define BACKUP_TMP "data.mdb.tmp"

struct backup {
        const char *dir, *dest;
        struct ledger *src; /* the live ledger, read-only */
        int made_dest;      /* dest was created here */
        int have_data;      /* dest/data.mdb was put in place */
};

static int backup_path(char *out, const char *dir, const char *name)
{
        int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

        return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/* dest: created 0700, or an existing empty directory. */
static enum ledger_err backup_dest(struct backup *b)
{
        DIR *d;
        struct dirent *de;
        int empty = 1;

        if (mkdir(b->dest, 0700) == 0) {
                b->made_dest = 1;
                return LEDGER_OK;
        }
        if (errno != EEXIST)
                return LEDGER_E_IO;
        if (!(d = opendir(b->dest)))
                return LEDGER_E_IO;
        errno = 0;
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 &&
                    strcmp(de->d_name, "..") != 0)
                        empty = 0;
        if (errno != 0) {
                (void)closedir(d);
                return LEDGER_E_IO;
        }
        if (closedir(d) != 0)
                return LEDGER_E_IO;
        return empty ? LEDGER_OK : LEDGER_E_EXISTS;
}

/* The live ledger's log.pub must be the key its meta names; copy it. */
static enum ledger_err backup_pub(struct backup *b)
{
        char path[PATH_MAX], text[TB_VKEY_MAX + 1];
        struct tb_vkey pub;
        size_t len;
        int fd;

        if (backup_path(path, b->dir, LEDGER_PUB_FILE) ||
            tb_keyfile_read_public(path, &pub) != TB_OK ||
            !tb_vkey_equal(&pub, &b->src->vkey) ||
            tb_vkey_format(&pub, text, sizeof(text) - 1, &len) != TB_OK)
                return LEDGER_E_KEY;
        text[len++] = '\n';
        if (backup_path(path, b->dest, LEDGER_PUB_FILE))
                return LEDGER_E_INVALID;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0644);
        if (fd < 0)
                return LEDGER_E_IO;
        if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
                (void)close(fd);
                return LEDGER_E_IO;
        }
        return close(fd) == 0 ? LEDGER_OK : LEDGER_E_IO;
}

/* The copy proper: dest/data.mdb.tmp, fsynced, renamed to data.mdb. */
static enum ledger_err backup_copy(struct backup *b, uint64_t *bytes)
{
        char tmp[PATH_MAX], path[PATH_MAX];
        struct stat st;
        int fd, rc, tries;

        if (backup_path(tmp, b->dest, BACKUP_TMP) ||
            backup_path(path, b->dest, "data.mdb"))
                return LEDGER_E_INVALID;
        fd =
            open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return LEDGER_E_IO;
        for (tries = 0;; tries++) {
                rc = mdb_env_copyfd2(b->src->env, fd, MDB_CP_COMPACT);
                if (rc != MDB_MAP_RESIZED || tries == 3)
                        break;
                /* the daemon grew the map: adopt its size, start over */
                if ((rc = mdb_env_set_mapsize(b->src->env, 0)) ||
                    ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
                        break;
        }
        if (rc == 0 && (fsync(fd) != 0 || fstat(fd, &st) != 0))
                rc = errno;
        if (close(fd) != 0 && rc == 0)
                rc = errno;
        if (rc == 0 && rename(tmp, path) != 0)
                rc = errno;
        if (rc != 0) {
                (void)unlink(tmp);
                return ledger_txn_err(rc);
        }
        b->have_data = 1;
        *bytes = (uint64_t)st.st_size;
        return LEDGER_OK;
}

/* The live ledger's checkpoint of tree size `size`, waited for up to
 * wait_ms: 1 found (copied into note), 0 not (yet), -1 failed (*err). */
static int backup_live_checkpoint(struct backup *b, uint64_t size,
                                  unsigned wait_ms, uint8_t *note, size_t *len,
                                  enum ledger_err *err)
{
        const struct timespec tick = {0, 20 * 1000 * 1000};
        struct ledger_txn t;
        const uint8_t *n;
        unsigned waited = 0;
        int found;

        for (;;) {
                if ((*err = ledger_txn_begin_read(b->src, &t)))
                        return -1;
                found = ledger_store_checkpoints_get(&t, size, &n, len);
                if (found && *len <= TB_CHECKPOINT_MAX)
                        memcpy(note, n, *len);
                else if (found)
                        ledger_txn_fail(&t, LEDGER_TXN_E_CORRUPT);
                *err = ledger_txn_err(t.rc);
                ledger_txn_end_read(&t);
                if (*err)
                        return -1;
                if (found || waited >= wait_ms)
                        return found;
                (void)nanosleep(&tick, NULL);
                waited += 20;
        }
}

/* The copy's "signer": it signs nothing, it fetches the note the live
 * ledger's signer made for exactly this size (ledger_open() then checks
 * it against log.pub, the size and the root the copy computes, and stores
 * it with the root, as after any batch). */
struct backup_fetch {
        struct backup *b;
        unsigned wait_ms;
        int called;
};

static enum ledger_err backup_fetch_cb(void *ctx, const uint8_t *old_note,
                                       size_t old_len, uint64_t new_size,
                                       const uint8_t new_root[TB_HASH_SIZE],
                                       const uint8_t (*proof)[TB_HASH_SIZE],
                                       size_t count, uint8_t *note, size_t cap,
                                       size_t *len)
{
        struct backup_fetch *f = ctx;
        enum ledger_err err = LEDGER_OK;
        int found;

        (void)old_note, (void)old_len, (void)new_root, (void)proof;
        (void)count;
        f->called = 1;
        if (cap < TB_CHECKPOINT_MAX)
                return LEDGER_E_OVERFLOW;
        found =
            backup_live_checkpoint(f->b, new_size, f->wait_ms, note, len, &err);
        return found > 0 ? LEDGER_OK : found == 0 ? LEDGER_E_SIGNER : err;
}

/*
 * Open the copy as the daemon would, with log.pub and the fetching signer:
 * a tree caught between a batch's two commits gets the live checkpoint of
 * its size, then the quick check runs (checkpoint, size and root agree).
 */
static enum ledger_err backup_finish(struct backup *b, unsigned wait_ms,
                                     struct ledger_backup_info *out)
{
        struct backup_fetch f = {b, wait_ms, 0};
        const struct ledger_signer fetch = {backup_fetch_cb, &f};
        struct ledger_options o;
        struct ledger *c;
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len;
        enum ledger_err err;

        ledger_options_default(&o);
        o.signer = &fetch;
        err = ledger_open(b->dest, &o, &c);
        if (!err)
                err =
                    ledger_checkpoint(c, note, sizeof(note), &len, &out->size);
        ledger_close(c);
        out->completed = f.called;
        return err == LEDGER_E_SIGNER ? LEDGER_E_CHECK : err;
}

static void backup_undo(struct backup *b)
{
        static const char *const names[] = {"data.mdb", "lock.mdb",
                                            LEDGER_PUB_FILE};
        char path[PATH_MAX];
        int saved = errno;

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                if (i == 0 && !b->have_data)
                        continue;
                if (backup_path(path, b->dest, names[i]) == 0)
                        (void)unlink(path);
        }
        if (b->made_dest)
                (void)rmdir(b->dest);
        errno = saved;
}

enum ledger_err ledger_backup(const char *dir, const char *dest,
                              unsigned wait_ms, struct ledger_backup_info *out)
{
        struct backup b = {dir, dest, NULL, 0, 0};
        char path[PATH_MAX];
        enum ledger_err err;
        int saved;

        memset(out, 0, sizeof(*out));
        if (!dir || !dest)
                return LEDGER_E_INVALID;
        if ((err = ledger_env_attach(dir, 1, &b.src)))
                return err;
        if ((err = backup_dest(&b)))
                goto done;
        if ((err = backup_pub(&b)) || (err = backup_copy(&b, &out->bytes)) ||
            (err = backup_finish(&b, wait_ms, out)))
                goto undo;
        /* the copy's own lock file is not part of it */
        if (backup_path(path, dest, "lock.mdb") == 0)
                (void)unlink(path);
        if (ledger_fsync_dir(dest) != 0) {
                err = LEDGER_E_IO;
                goto undo;
        }
        goto done;
undo:
        backup_undo(&b);
done:
        saved = errno; /* for LEDGER_E_IO: what failed, not the close */
        ledger_close(b.src);
        errno = saved;
        return err;
}
