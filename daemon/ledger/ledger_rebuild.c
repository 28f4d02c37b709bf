/*
 * daemon/ledger/ledger_rebuild.c - a ledger rebuilt from a log mirror
 * (timebankd init --from-tiles): the records replayed through the write
 * path, as the full check replays a stored log, into a new ledger with the
 * log key of the mirror's checkpoint; the result must end at that
 * checkpoint's root.
 *
 * Balances, keys, policy, history are a pure function of the log
 * (invariant 3), so the records alone rebuild them.  What the log does not
 * hold cannot come back: the idempotency records of refused requests and
 * the earlier checkpoints (a mirror keeps only its latest); the ledger
 * signs one checkpoint, at the mirror's size.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "keyfile.h"
#include "ledger_store.h"
#include "note.h"

#define REBUILD_CHUNK 512

static void rebuild_why(struct ledger_rebuild_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void rebuild_why(struct ledger_rebuild_report *rep, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rep->first, sizeof(rep->first), fmt, ap);
        va_end(ap);
}

static int rebuild_path(char *out, const char *dir, const char *name)
{
        int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

        return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/* Apply records [from, from + k) in one batch, without a checkpoint; each
 * must be accepted at its own seq. */
static enum ledger_err rebuild_chunk(struct ledger *l,
                                     const uint8_t *const *records,
                                     const size_t *lens, uint64_t from,
                                     size_t k, struct ledger_item *items,
                                     struct ledger_result *res,
                                     struct ledger_rebuild_report *rep)
{
        struct tb_record r;
        enum ledger_err err;
        enum tb_err e;
        size_t i;

        for (i = 0; i < k; i++) {
                uint64_t seq = from + i;

                if ((e = tb_record_decode(records[seq], lens[seq], &r)) !=
                    TB_OK) {
                        rebuild_why(rep, "entry %llu does not decode: %s",
                                    (unsigned long long)seq, tb_strerror(e));
                        return LEDGER_E_CHECK;
                }
                if (r.seq != seq) {
                        rebuild_why(rep, "entry %llu holds seq %llu",
                                    (unsigned long long)seq,
                                    (unsigned long long)r.seq);
                        return LEDGER_E_CHECK;
                }
                items[i].signed_entry = records[seq] + TB_RECORD_HEADER;
                items[i].len = lens[seq] - TB_RECORD_HEADER;
                items[i].received = r.received;
                items[i].verified = 0;
        }
        err = ledger_batch_apply(
            l, items, k, res, LEDGER_BATCH_REPLAY | LEDGER_BATCH_NO_CHECKPOINT);
        if (err)
                return err;
        for (i = 0; i < k; i++) {
                if (res[i].status == TB_ST_OK && res[i].seq == from + i)
                        continue;
                rebuild_why(rep, "entry %llu replays as %s (%s)",
                            (unsigned long long)(from + i),
                            tb_status_name(res[i].status)
                                ? tb_status_name(res[i].status)
                                : "?",
                            res[i].detail);
                return LEDGER_E_CHECK;
        }
        rep->entries += k;
        return LEDGER_OK;
}

static enum ledger_err rebuild_replay(struct ledger *l,
                                      const uint8_t *const *records,
                                      const size_t *lens, uint64_t n,
                                      const struct tb_checkpoint *cp,
                                      struct ledger_rebuild_report *rep)
{
        struct ledger_item *items = calloc(REBUILD_CHUNK, sizeof(*items));
        struct ledger_result *res = calloc(REBUILD_CHUNK, sizeof(*res));
        uint8_t root[TB_HASH_SIZE];
        enum ledger_err err = items && res ? LEDGER_OK : LEDGER_E_NOMEM;
        uint64_t from;

        for (from = 0; !err && from < n; from += REBUILD_CHUNK) {
                size_t k = n - from < REBUILD_CHUNK ? (size_t)(n - from)
                                                    : REBUILD_CHUNK;

                err = rebuild_chunk(l, records, lens, from, k, items, res, rep);
        }
        free(items);
        free(res);
        if (err)
                return err;
        if ((err = ledger_root(l, n, root)))
                return err;
        if (sodium_memcmp(root, cp->root, TB_HASH_SIZE) != 0) {
                rebuild_why(rep, "the rebuilt tree's root differs from the "
                                 "mirror's checkpoint");
                return LEDGER_E_CHECK;
        }
        /* only now, the tree known to be the mirror's, is it signed: the
         * key never signs another history, not even in a scratch file */
        return ledger_batch_checkpoint(l);
}

enum ledger_err ledger_rebuild(const char *dir, struct tb_skey *key,
                               const uint8_t *const *records,
                               const size_t *lens, uint64_t n,
                               const uint8_t *note, size_t note_len,
                               const struct ledger_options *o,
                               struct ledger_rebuild_report *rep)
{
        /* what a failure removes must not have been there before */
        static const char *const mine[] = {"data.mdb", "lock.mdb",
                                           LEDGER_KEY_FILE, LEDGER_PUB_FILE};
        struct ledger *l = NULL;
        struct tb_vkey vk;
        struct tb_checkpoint cp;
        struct stat st;
        char path[PATH_MAX];
        enum ledger_err err;

        if (!rep)
                return LEDGER_E_INVALID;
        memset(rep, 0, sizeof(*rep));
        if (!dir || !key || (n && (!records || !lens)) || !note)
                return LEDGER_E_INVALID;
        if (sodium_init() < 0)
                return LEDGER_E_CRYPTO;
        tb_skey_public(key, &vk);
        if (tb_checkpoint_open(note, note_len, vk.name, &vk, &cp) != TB_OK) {
                rebuild_why(rep, "the mirror's checkpoint does not verify "
                                 "with the log key given");
                return LEDGER_E_CHECK;
        }
        if (cp.size != n || n == 0) {
                rebuild_why(rep,
                            "the mirror's checkpoint is of size %llu, its "
                            "entries %llu",
                            (unsigned long long)cp.size, (unsigned long long)n);
                return LEDGER_E_CHECK;
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                return LEDGER_E_IO;
        for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
                if (rebuild_path(path, dir, mine[i]))
                        return LEDGER_E_INVALID;
                if (lstat(path, &st) == 0)
                        return LEDGER_E_EXISTS;
        }
        if (rebuild_path(path, dir, LEDGER_KEY_FILE))
                return LEDGER_E_INVALID;
        if (tb_keyfile_write_secret(path, key) != TB_OK) {
                err = LEDGER_E_KEY;
                goto fail;
        }
        if ((err = ledger_env_create(dir, vk.name, key, 0, o, &l)))
                goto fail;
        if (rebuild_path(path, dir, LEDGER_PUB_FILE) ||
            tb_keyfile_write_public(path, &vk) != TB_OK) {
                err = LEDGER_E_KEY;
                goto fail;
        }
        if ((err = rebuild_replay(l, records, lens, n, &cp, rep)))
                goto fail;
        ledger_close(l);
        return LEDGER_OK;
fail:
        ledger_close(l);
        ledger_remove_files(dir);
        return err;
}
