/*
 * client/cli_export.c - `timebank export DIR`: a C2SP tlog-tiles mirror
 * of the log, made from the daemon's ordinary reads (CHECKPOINT, then
 * ENTRY for each seq), with the tree recomputed here from the records.
 * Also the fetch that `timebank audit` uses when it reads the socket.
 *
 * Trust is explicit: the checkpoint must verify with --log-key, and the
 * entries must hash to its root, before any file is written; an existing
 * DIR/checkpoint must verify too, and the new tree must extend it.  A
 * later export reads the full entry bundles it wrote before back from
 * DIR instead of asking the daemon again: the root check covers them.  The
 * tiles are written (and made durable) first, the checkpoint last, so a reader
 * never sees a checkpoint whose tiles are missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "note.h"
#include "tiles.h"
#include "tiles_http.h"

#define EXPORT_WINDOW 32 /* ENTRY requests in flight */

/* "\r...": a progress line, on a terminal only. */
void cli_export_progress(const char *what, uint64_t i, uint64_t n)
{
        if (!isatty(STDERR_FILENO) || (i % 1024 != 0 && i != n))
                return;
        fprintf(stderr, "\r%s: %s %" PRIu64 "/%" PRIu64 "%s", CLI_PROG, what, i,
                n, i == n ? "\n" : "");
}

/* Entries [from, from + k) by pipelined ENTRY reads, appended in order. */
static void export_window(struct cli *cli, uint64_t from, unsigned k,
                          struct tiles_entries *e)
{
        uint8_t *rec[EXPORT_WINDOW] = {0};
        size_t len[EXPORT_WINDOW];
        uint32_t first = 0;
        struct tb_request q;
        enum tb_err err;

        for (unsigned i = 0; i < k; i++) {
                memset(&q, 0, sizeof(q));
                q.type = TB_MSG_ENTRY;
                q.id = tb_client_next_id(cli->conn);
                q.u.entry.seq = from + i;
                if (i == 0)
                        first = q.id;
                if ((err = tb_client_send(cli->conn, &q)) != TB_OK)
                        cli_call_fail(cli, err);
        }
        for (unsigned i = 0; i < k; i++) {
                const struct tb_response *r = cli->resp;
                uint32_t slot;
                if ((err = tb_client_recv(cli->conn, cli->resp)) != TB_OK)
                        cli_call_fail(cli, err);
                cli_call_check(cli, 0);
                slot = r->id - first;
                if (r->type != TB_MSG_ENTRY || slot >= k || rec[slot] != NULL)
                        cli_die(TB_EXIT_OTHER, "the daemon answered a request "
                                               "it was not asked");
                len[slot] = r->u.entry.record_len;
                if ((rec[slot] = malloc(len[slot] ? len[slot] : 1)) == NULL)
                        cli_die(TB_EXIT_OTHER, "out of memory");
                memcpy(rec[slot], r->u.entry.record, len[slot]);
        }
        for (unsigned i = 0; i < k; i++) {
                if (tiles_entries_add(e, rec[i], len[i]) != 0)
                        cli_die(TB_EXIT_OTHER, "out of memory");
                free(rec[i]);
        }
}

/* The daemon's latest checkpoint, opened with v. */
static void export_checkpoint(struct cli *cli, const struct tb_vkey *v,
                              uint8_t *note, size_t *note_len,
                              struct tb_checkpoint *cp)
{
        enum tb_err err;

        cli_call_type(cli, TB_MSG_CHECKPOINT);
        *note_len = cli->resp->u.checkpoint.note_len;
        if (*note_len > TB_CHECKPOINT_MAX)
                cli_die(TB_EXIT_OTHER, "the daemon's checkpoint is too long");
        memcpy(note, cli->resp->u.checkpoint.note, *note_len);
        if ((err = tb_checkpoint_open(note, *note_len, v->name, v, cp)) !=
            TB_OK)
                cli_die(TB_EXIT_REFUSED,
                        "the daemon's checkpoint does not verify with log "
                        "key %s: %s",
                        v->name, tb_strerror(err));
}

/* Entries e->n .. size - 1 from the daemon. */
static void export_entries(struct cli *cli, uint64_t size,
                           struct tiles_entries *e)
{
        while (e->n < size) {
                uint64_t k = size - e->n;
                export_window(cli, e->n,
                              k < EXPORT_WINDOW ? (unsigned)k : EXPORT_WINDOW,
                              e);
                cli_export_progress("read", e->n, size);
        }
}

void cli_export_fetch(struct cli *cli, const struct tb_vkey *v, uint8_t *note,
                      size_t *note_len, struct tb_checkpoint *cp,
                      struct tiles_entries *e)
{
        export_checkpoint(cli, v, note, note_len, cp);
        export_entries(cli, cp->size, e);
}

/* The checkpoint DIR already holds, if any: it must be this log's. */
static int export_old(const char *dir, const struct tb_vkey *v,
                      struct tb_checkpoint *old)
{
        char err[TILES_ERR_MAX];
        uint8_t *p;
        size_t n;
        enum tb_err e;

        if (tiles_read_file(dir, "checkpoint", TB_CHECKPOINT_MAX * 4, &p, &n,
                            err) != 0) {
                if (errno == ENOENT)
                        return 0;
                cli_die(TB_EXIT_OTHER, "%s: %s", dir, err);
        }
        e = tb_checkpoint_open(p, n, v->name, v, old);
        free(p);
        if (e != TB_OK)
                cli_die(TB_EXIT_REFUSED,
                        "%s/checkpoint does not verify with log key %s (%s): "
                        "not a mirror of this log",
                        dir, v->name, tb_strerror(e));
        return 1;
}

int cli_export_run(struct cli *cli, const struct cli_args *a)
{
        const char *dir = a->argc > 0 ? a->argv[0] : NULL;
        uint8_t note[TB_CHECKPOINT_MAX], root[TB_HASH_SIZE];
        char err[TILES_ERR_MAX];
        struct tiles_entries e = {0};
        struct tiles_tree t;
        struct tiles_written w;
        struct tb_checkpoint cp, old;
        struct tb_vkey v;
        size_t note_len;
        uint64_t reused;
        int have_old;

        if (a->value[CLI_OPT_CSV] != NULL) {
                if (dir != NULL)
                        cli_die(TB_EXIT_USAGE,
                                "export writes a mirror (DIR) or a "
                                "spreadsheet (--csv FILE), one at a time");
                return cli_audit_csv(cli, a);
        }
        if (dir == NULL)
                cli_die(TB_EXIT_USAGE, "export needs DIR (a tiles mirror) or "
                                       "--csv FILE (a spreadsheet)");
        if (a->value[CLI_OPT_TILES] != NULL)
                cli_die(TB_EXIT_USAGE, "export DIR reads the daemon: --tiles "
                                       "is for --csv");
        if (tiles_http_is_url(dir))
                cli_die(TB_EXIT_USAGE,
                        "export writes a directory (%s is a "
                        "URL): serve the directory with any "
                        "web server",
                        dir);
        cli_key_public(a->value[CLI_OPT_LOG_KEY], &v);
        have_old = export_old(dir, &v, &old);
        export_checkpoint(cli, &v, note, &note_len, &cp);
        if (have_old && old.size > cp.size)
                cli_die(TB_EXIT_REFUSED,
                        "the log shrank: the daemon's checkpoint has tree "
                        "size %" PRIu64 ", %s/checkpoint %" PRIu64,
                        cp.size, dir, old.size);
        /* the full bundles already exported are read back, not fetched
         * again: the root check below covers them like the rest */
        if (have_old && old.size >= TB_TILE_WIDTH &&
            tiles_read_entries(dir, old.size / TB_TILE_WIDTH * TB_TILE_WIDTH,
                               &e, err) != 0)
                cli_die(TB_EXIT_REFUSED, "%s: %s (is the mirror damaged?)", dir,
                        err);
        reused = e.n;
        export_entries(cli, cp.size, &e);
        if (tiles_tree_build(&e, &t) != 0)
                cli_die(TB_EXIT_OTHER, "out of memory");
        if (tiles_tree_root(&t, t.n, root) != TB_OK ||
            memcmp(root, cp.root, TB_HASH_SIZE) != 0)
                cli_die(TB_EXIT_REFUSED,
                        "the entries do not hash to the daemon's checkpoint "
                        "root (tree size %" PRIu64 "; %" PRIu64
                        " of them read back from %s: is the mirror "
                        "damaged?)",
                        cp.size, reused, dir);
        if (have_old && (old.size > cp.size ||
                         tiles_tree_root(&t, old.size, root) != TB_OK ||
                         memcmp(root, old.root, TB_HASH_SIZE) != 0))
                cli_die(TB_EXIT_REFUSED,
                        "the daemon's log (tree size %" PRIu64
                        ") does not extend %s/checkpoint (tree size "
                        "%" PRIu64 "): history was rewritten",
                        cp.size, dir, old.size);
        if (tiles_write(dir, &t, &e, 0, &w, err) != 0 ||
            tiles_write_checkpoint(dir, note, note_len, err) != 0)
                cli_die(TB_EXIT_OTHER, "%s", err);
        tiles_tree_free(&t);
        tiles_entries_free(&e);

        const struct cli_out_field f[] = {
            CLI_STR("dir", dir),
            CLI_U64("size", cp.size),
            CLI_B64("root", cp.root, TB_HASH_SIZE),
            CLI_U64("previous_size", have_old ? old.size : 0),
            CLI_U64("files_written", w.written + 1),
            CLI_U64("tiles_kept", w.kept),
            CLI_U64("entries_read_back", reused),
        };
        CLI_OUT(cli, f,
                "exported tree size {size} to {dir} (root {root}): "
                "{files_written} files written with the checkpoint, "
                "{tiles_kept} tiles already there{?previous_size}, "
                "extending tree size {previous_size}{/}\n");
        return TB_EXIT_OK;
}
