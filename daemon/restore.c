/*
 * daemon/restore.c - timebankd init --from-tiles: read a mirror written by
 * `timebank export` (client/tiles.c, the auditor's reader, linked here
 * without libcurl), check its checkpoint with the operator's log key, and
 * have the ledger replay every entry through its rules (ledger_rebuild).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exit.h"
#include "keyfile.h"
#include "note.h"
#include "restore.h"
#include "signer.h"
#include "tiles.h"
#include "tiles_http.h"

/* The mirror's checkpoint, verified with v; 0 or -1 after saying why. */
static int restore_checkpoint(const char *tiles, const char *key_path,
                              const struct tb_vkey *v, uint8_t **note,
                              size_t *len, struct tb_checkpoint *cp)
{
        char err[TILES_ERR_MAX];

        if (tiles_read_file(tiles, "checkpoint", TB_CHECKPOINT_MAX * 4, note,
                            len, err) != 0) {
                fprintf(stderr, "timebankd: cannot read the mirror %s: %s\n",
                        tiles, err);
                return -1;
        }
        if (tb_checkpoint_open(*note, *len, v->name, v, cp) != TB_OK) {
                fprintf(stderr,
                        "timebankd: %s/checkpoint does not verify with the "
                        "log key in %s (another ledger's mirror, or an "
                        "altered one): nothing rebuilt\n",
                        tiles, key_path);
                return -1;
        }
        return 0;
}

/*
 * signer.state for the rebuilt ledger: its checkpoint, as init does; but
 * one already in dir (the key's own, restored with it) is kept: it knows
 * what the key signed last, and the daemon refuses to start on a rebuilt
 * ledger behind it.  Returns 1 kept, 0 written, -1 after saying why.
 */
static int restore_signer_state(const char *dir, const struct ledger_options *o)
{
        struct ledger_options lo = *o;
        struct ledger *l = NULL;
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len;
        enum ledger_err lerr;
        char err[512], path[4096];
        struct stat st;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
                             SIGNER_STATE_FILE) >= sizeof(path)) {
                fprintf(stderr, "timebankd: data directory path too long\n");
                return -1;
        }
        if (lstat(path, &st) == 0)
                return 1;
        lo.skip_quick_check = 0;
        lo.signer = NULL;
        if ((lerr = ledger_open(dir, &lo, &l)) != LEDGER_OK ||
            (lerr = ledger_checkpoint(l, note, sizeof(note), &len, NULL)) !=
                LEDGER_OK) {
                fprintf(stderr,
                        "timebankd: cannot read the rebuilt ledger in %s: "
                        "%s\n",
                        dir, ledger_strerror(lerr));
                ledger_close(l);
                return -1;
        }
        ledger_close(l);
        if (signer_state_create(dir, note, len, err, sizeof(err))) {
                fprintf(stderr, "timebankd: %s\n", err);
                return -1;
        }
        return 0;
}

int restore_from_tiles(const char *dir, const char *tiles, const char *key_path,
                       const struct ledger_options *lo)
{
        struct tb_skey *key = NULL;
        struct tb_vkey v;
        struct tb_checkpoint cp;
        struct tiles_entries e = {0};
        struct ledger_rebuild_report rep;
        uint8_t *note = NULL;
        size_t note_len = 0;
        char err[TILES_ERR_MAX];
        enum ledger_err lerr;
        enum tb_err kerr;
        int rc = TB_EXIT_FAIL, kept;

        if (tiles_http_is_url(tiles)) {
                fprintf(stderr,
                        "timebankd: init --from-tiles reads a local tiles "
                        "directory, not %s: copy the mirror to a directory "
                        "first (timebank audit --tiles URL checks it)\n",
                        tiles);
                return TB_EXIT_USAGE;
        }
        if ((kerr = tb_keyfile_read_secret(key_path, &key)) != TB_OK) {
                fprintf(stderr, "timebankd: log key %s: %s%s%s\n", key_path,
                        tb_strerror(kerr), kerr == TB_E_IO ? ": " : "",
                        kerr == TB_E_IO ? strerror(errno) : "");
                return TB_EXIT_FAIL;
        }
        tb_skey_public(key, &v);
        if (restore_checkpoint(tiles, key_path, &v, &note, &note_len, &cp))
                goto out;
        if (tiles_read_entries(tiles, cp.size, &e, err) != 0) {
                fprintf(stderr, "timebankd: cannot read the mirror %s: %s\n",
                        tiles, err);
                goto out;
        }
        lerr = ledger_rebuild(dir, key, (const uint8_t *const *)e.data, e.len,
                              e.n, note, note_len, lo, &rep);
        switch (lerr) {
        case LEDGER_OK:
                break;
        case LEDGER_E_EXISTS:
                fprintf(stderr,
                        "timebankd: %s holds a ledger (or its files) "
                        "already: rebuild into a new directory\n",
                        dir);
                goto out;
        case LEDGER_E_CHECK:
                fprintf(stderr,
                        "timebankd: the mirror %s cannot be rebuilt: %s "
                        "(after %" PRIu64 " entries accepted); nothing "
                        "kept in %s\n",
                        tiles, rep.first, rep.entries, dir);
                goto out;
        case LEDGER_E_IO:
                fprintf(stderr, "timebankd: cannot rebuild in %s: %s\n", dir,
                        strerror(errno));
                goto out;
        default:
                fprintf(stderr, "timebankd: cannot rebuild in %s: %s\n", dir,
                        ledger_strerror(lerr));
                goto out;
        }
        if ((kept = restore_signer_state(dir, lo)) < 0)
                goto out;
        printf("rebuilt ledger %s in %s from %s: %" PRIu64 " entries "
               "replayed, root equal to the mirror's signed checkpoint\n"
               "  log key      %s/log.key (a copy of %s)\n"
               "  not rebuilt  refusals remembered for retries, earlier "
               "checkpoints (see 'Backups and restore' in "
               "docs/operations.md)\n",
               v.name, dir, tiles, rep.entries, dir, key_path);
        if (kept)
                printf("  kept         %s/%s, the key's own: the daemon "
                       "refuses to start if the rebuilt ledger is behind "
                       "it\n",
                       dir, SIGNER_STATE_FILE);
        rc = TB_EXIT_OK;
out:
        tiles_entries_free(&e);
        free(note);
        tb_skey_free(key);
        return rc;
}
