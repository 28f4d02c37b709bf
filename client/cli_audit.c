/*
 * client/cli_audit.c - `timebank audit`: the whole log checked without
 * trusting the daemon (invariant 8), from a tlog-tiles directory or from
 * the daemon's reads.
 *
 * In order, stopping at the first problem: the checkpoint's signature
 * (--log-key); the entries, the tree recomputed from them, its root
 * against the checkpoint's, and with --tiles every hash tile against the
 * recomputed tree; with --since, the RFC 6962 consistency of an older
 * checkpoint with the recomputed tree; every entry's decoding and
 * terminal signature (on all cores); then the replay of every ledger rule
 * (client/audit_rules.c), and with --balances each account's balance
 * against the daemon's.  The summary is the same from either source.
 * The replay also feeds client/audit_report.c: the --html page (written
 * whatever the verdict, which it states) and `timebank export --csv`.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_report.h"
#include "audit_rules.h"
#include "cli.h"
#include "note.h"
#include "tiles.h"

#define AUDIT_PROBLEM_MAX 768
#define AUDIT_WORKERS_MAX 64

struct audit {
        struct cli *cli;
        const char *tiles; /* --tiles DIR, or NULL: the socket */
        struct tb_vkey v;
        struct tb_checkpoint cp;
        struct tiles_entries e;
        struct tiles_tree t;
        struct audit_rules *rules;
        struct audit_report *report; /* --html or --csv, or NULL */
        FILE *csv;                   /* --csv's temporary file, or NULL */
        const char *csv_tmp;         /* its name */
        uint8_t *bad; /* per entry: the tb_err of decoding or verifying */
        char problem[AUDIT_PROBLEM_MAX];
};

static int audit_problem(struct audit *au, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int audit_problem(struct audit *au, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(au->problem, sizeof(au->problem), fmt, ap);
        va_end(ap);
        return -1;
}

/* "seq N (tile/entries/K)": where an entry lives in a tiles directory. */
static void audit_where(const struct audit *au, uint64_t seq, char *out,
                        size_t cap)
{
        char rel[TB_TILE_PATH_MAX];
        uint64_t k = seq / TB_TILE_WIDTH, w = TB_TILE_WIDTH;

        if (k == au->cp.size / TB_TILE_WIDTH)
                w = au->cp.size % TB_TILE_WIDTH;
        if (tb_tile_path(TB_TILE_ENTRIES, k, (unsigned)w, rel, sizeof(rel)) !=
            TB_OK)
                rel[0] = 0;
        snprintf(out, cap, "seq %" PRIu64 " (%s)", seq, rel);
}

/* The checkpoint and the entries, from DIR or the daemon. */
static int audit_load(struct audit *au)
{
        uint8_t *note = NULL, buf[TB_CHECKPOINT_MAX];
        char err[TILES_ERR_MAX];
        size_t n;
        enum tb_err e;

        if (au->tiles == NULL) {
                cli_export_fetch(au->cli, &au->v, buf, &n, &au->cp, &au->e);
                return 0;
        }
        if (tiles_read_file(au->tiles, "checkpoint", TB_CHECKPOINT_MAX * 4,
                            &note, &n, err) != 0)
                return audit_problem(au, "%s", err);
        e = tb_checkpoint_open(note, n, au->v.name, &au->v, &au->cp);
        free(note);
        if (e != TB_OK)
                return audit_problem(au,
                                     "checkpoint: does not verify with log "
                                     "key %s: %s",
                                     au->v.name, tb_strerror(e));
        if (tiles_read_entries(au->tiles, au->cp.size, &au->e, err) != 0)
                return audit_problem(au, "%s", err);
        return 0;
}

/* The tree from the entries: its root, and the tiles against it. */
static int audit_tree(struct audit *au)
{
        uint8_t root[TB_HASH_SIZE];
        char err[TILES_ERR_MAX];
        int rootok;

        if (tiles_tree_build(&au->e, &au->t) != 0)
                cli_die(TB_EXIT_OTHER, "out of memory");
        rootok = tiles_tree_root(&au->t, au->t.n, root) == TB_OK &&
                 memcmp(root, au->cp.root, TB_HASH_SIZE) == 0;
        if (au->tiles != NULL && tiles_check(au->tiles, &au->t, err) != 0)
                return audit_problem(au, "%s%s", err,
                                     rootok ? " (the entries match the "
                                              "checkpoint: the tile is "
                                              "corrupt)"
                                            : "");
        if (!rootok)
                return audit_problem(au,
                                     "checkpoint: the tree recomputed from "
                                     "the %" PRIu64 " entries does not have "
                                     "the checkpoint's root",
                                     au->t.n);
        return 0;
}

/* --since OLD: today's tree extends OLD (a proof from our own tree). */
static int audit_since(struct audit *au, const char *path)
{
        uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE], *note;
        char err[TILES_ERR_MAX];
        struct tb_checkpoint old;
        size_t n, count;
        enum tb_err e;

        if (tiles_read_file(path[0] == '/' ? "" : ".", path,
                            TB_CHECKPOINT_MAX * 4, &note, &n, err) != 0)
                cli_die(TB_EXIT_USAGE, "--since: %s", err);
        e = tb_checkpoint_open(note, n, au->v.name, &au->v, &old);
        free(note);
        if (e != TB_OK)
                return audit_problem(au,
                                     "%s: does not verify with log key "
                                     "%s: %s",
                                     path, au->v.name, tb_strerror(e));
        if (old.size > au->cp.size)
                return audit_problem(au,
                                     "%s: tree size %" PRIu64 " is larger "
                                     "than today's %" PRIu64 ": the log "
                                     "shrank",
                                     path, old.size, au->cp.size);
        if ((e = tb_merkle_prove_consistency(tiles_tree_read_cb, &au->t,
                                             old.size, au->cp.size, proof,
                                             &count)) != TB_OK ||
            (e = tb_merkle_verify_consistency(
                 old.size, old.root, au->cp.size, au->cp.root,
                 (const uint8_t(*)[TB_HASH_SIZE])proof, count)) != TB_OK)
                return audit_problem(au,
                                     "%s: today's log (tree size %" PRIu64
                                     ") is NOT consistent with it (tree "
                                     "size %" PRIu64 "): history was "
                                     "rewritten (%s)",
                                     path, au->cp.size, old.size,
                                     tb_strerror(e));
        return 0;
}

struct audit_worker {
        pthread_t thread;
        struct audit *au;
        uint64_t from, to;
};

/* Decode and verify entries [from, to): the CPU-bound part. */
static void *audit_verify_cb(void *arg)
{
        struct audit_worker *w = arg;
        struct audit *au = w->au;
        struct tb_record r;

        for (uint64_t i = w->from; i < w->to; i++) {
                enum tb_err e =
                    tb_record_decode(au->e.data[i], au->e.len[i], &r);
                if (e == TB_OK)
                        e = tb_entry_verify(au->cp.origin, r.body, r.body_len,
                                            r.entry.signer, r.sig);
                au->bad[i] = (uint8_t)e;
        }
        return NULL;
}

static void audit_verify(struct audit *au)
{
        struct audit_worker w[AUDIT_WORKERS_MAX];
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t n = au->e.n, nw;
        uint64_t started = 0;

        _Static_assert(TB_E__COUNT < 256, "an error fits a byte");
        if ((au->bad = calloc(n ? n : 1, 1)) == NULL)
                cli_die(TB_EXIT_OTHER, "out of memory");
        nw = cores < 1                   ? 1
             : cores > AUDIT_WORKERS_MAX ? AUDIT_WORKERS_MAX
                                         : (uint64_t)cores;
        for (uint64_t i = 0; i < nw; i++) {
                w[i] = (struct audit_worker){
                    .au = au, .from = n * i / nw, .to = n * (i + 1) / nw};
                if (pthread_create(&w[i].thread, NULL, audit_verify_cb,
                                   &w[i]) != 0) {
                        audit_verify_cb(&w[i]); /* do it here instead */
                        w[i].au = NULL;
                }
                started++;
        }
        for (uint64_t i = 0; i < started; i++)
                if (w[i].au != NULL && pthread_join(w[i].thread, NULL) != 0)
                        cli_die(TB_EXIT_OTHER, "pthread_join failed");
}

/* One accepted record to the report, with the record a reversal undoes
 * (the rules accepted it: an earlier seq of this log). */
static void audit_report_record(struct audit *au, const struct tb_record *r,
                                const struct audit_totals *before,
                                const struct audit_totals *after)
{
        struct tb_record u, *undone = NULL;
        uint64_t s = r->entry.u.reverse.seq;

        if (r->entry.kind == TB_KIND_REVERSE && s < r->seq && s < au->e.n &&
            tb_record_decode(au->e.data[s], au->e.len[s], &u) == TB_OK)
                undone = &u;
        if (audit_report_add(au->report, r, undone, before, after) != 0) {
                int e = errno;
                if (au->csv_tmp != NULL)
                        (void)unlink(au->csv_tmp);
                cli_die(TB_EXIT_OTHER, "%s: %s",
                        au->csv != NULL ? "writing the CSV failed"
                                        : "the report",
                        strerror(e));
        }
}

/* Every entry, in order: its signature's verdict, then the rules. */
static int audit_replay(struct audit *au)
{
        char where[64], err[AUDIT_RULES_ERR_MAX];
        struct audit_totals before, after;
        struct tb_record r;

        if ((au->rules = audit_rules_new(au->cp.origin, au->v.pk)) == NULL)
                cli_die(TB_EXIT_OTHER, "out of memory");
        for (uint64_t i = 0; i < au->e.n; i++) {
                enum tb_err e = au->bad[i];
                cli_export_progress("replayed", i + 1, au->e.n);
                if (e == TB_OK)
                        e = tb_record_decode(au->e.data[i], au->e.len[i], &r);
                audit_where(au, i, where, sizeof(where));
                if (e == TB_E_BAD_SIGNATURE)
                        return audit_problem(au,
                                             "%s: BAD_SIGNATURE: the "
                                             "signature does not verify "
                                             "with its signer's key",
                                             where);
                if (e != TB_OK)
                        return audit_problem(au, "%s: not a record: %s", where,
                                             tb_strerror(e));
                audit_rules_totals(au->rules, &before);
                if (audit_rules_apply(au->rules, &r, err) != 0)
                        return audit_problem(au, "%s: %s", where, err);
                if (au->report != NULL) {
                        audit_rules_totals(au->rules, &after);
                        audit_report_record(au, &r, &before, &after);
                }
        }
        return 0;
}

/* --balances: every account as the daemon answers BALANCE. */
static int audit_balances(struct audit *au)
{
        const struct tb_balance_info *b = &au->cli->resp->u.balance;
        struct tb_request q;

        for (size_t i = 0; i < audit_rules_count(au->rules); i++) {
                const struct audit_account *a =
                    audit_rules_account(au->rules, i);
                memset(&q, 0, sizeof(q));
                q.type = TB_MSG_BALANCE;
                memcpy(q.u.balance.account, a->account,
                       sizeof(q.u.balance.account));
                cli_call(au->cli, &q);
                const uint64_t mine[] = {
                    a->balance,        a->earned,          a->redeemed,
                    a->transferred_in, a->transferred_out, a->minutes,
                    a->entries,        a->opened_seq,      a->last_seq};
                const uint64_t theirs[] = {
                    b->balance,        b->earned,          b->redeemed,
                    b->transferred_in, b->transferred_out, b->minutes,
                    b->entries,        b->opened_seq,      b->last_seq};
                static const char *const name[] = {
                    "balance",        "earned",          "redeemed",
                    "transferred_in", "transferred_out", "minutes",
                    "entries",        "opened_seq",      "last_seq"};
                for (size_t f = 0; f < sizeof(name) / sizeof(name[0]); f++)
                        if (mine[f] != theirs[f])
                                return audit_problem(
                                    au,
                                    "account %s: %s is %" PRIu64
                                    " by the daemon, %" PRIu64 " by the replay",
                                    a->account, name[f], theirs[f], mine[f]);
        }
        return 0;
}

static void audit_free(struct audit *au)
{
        audit_report_free(au->report);
        tiles_entries_free(&au->e);
        tiles_tree_free(&au->t);
        audit_rules_free(au->rules);
        free(au->bad);
}

/* The checks in order, up to the first problem: 0 or -1 (au->problem). */
static int audit_checks(struct audit *au, const char *since, int balances)
{
        int rc = audit_load(au);

        if (rc == 0)
                rc = audit_tree(au);
        if (rc == 0 && since != NULL)
                rc = audit_since(au, since);
        if (rc == 0) {
                audit_verify(au);
                rc = audit_replay(au);
        }
        if (rc == 0 && balances)
                rc = audit_balances(au);
        return rc;
}

/* "FILE.tmp.PID", created for writing (it must not exist). */
static FILE *audit_open_tmp(const char *path, char *tmp, size_t cap)
{
        FILE *f;

        if (snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid()) >= (int)cap)
                cli_die(TB_EXIT_USAGE, "%s: path too long", path);
        if ((f = fopen(tmp, "wx")) == NULL) /* never through a link */
                cli_die(TB_EXIT_OTHER, "%s: cannot write it: %s", path,
                        strerror(errno));
        return f;
}

/* Close f (fsynced) and rename tmp to path; dies on any failure. */
static void audit_commit_tmp(FILE *f, const char *tmp, const char *path)
{
        int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;

        if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
                int e = errno;
                (void)unlink(tmp);
                cli_die(TB_EXIT_OTHER, "%s: %s", path, strerror(e));
        }
}

/* --html FILE: the page, whatever the verdict. */
static void audit_html(struct audit *au, const char *path, int rc)
{
        char tmp[4096];
        FILE *f = audit_open_tmp(path, tmp, sizeof(tmp));
        const struct audit_report_verdict v = {
            .cp = &au->cp,
            .ok = rc == 0,
            .problem = au->problem,
            .generated = (int64_t)time(NULL),
        };

        if (audit_report_html(au->report, au->rules, &v, f) != 0) {
                int e = errno;
                (void)fclose(f);
                (void)unlink(tmp);
                cli_die(TB_EXIT_OTHER, "%s: %s", path, strerror(e));
        }
        audit_commit_tmp(f, tmp, path);
}

int cli_audit_csv(struct cli *cli, const struct cli_args *a)
{
        const char *path = a->value[CLI_OPT_CSV];
        struct audit au = {.cli = cli, .tiles = a->value[CLI_OPT_TILES]};
        char tmp[4096];
        uint64_t rows;
        int rc;

        cli_key_public(a->value[CLI_OPT_LOG_KEY], &au.v);
        au.csv = audit_open_tmp(path, tmp, sizeof(tmp));
        au.csv_tmp = tmp;
        if ((au.report = audit_report_new(au.v.name, au.csv)) == NULL)
                cli_die(TB_EXIT_OTHER, "%s: %s", tmp, strerror(errno));
        rc = audit_checks(&au, NULL, 0);
        rows = au.e.n;
        if (rc != 0) {
                (void)fclose(au.csv);
                (void)unlink(tmp);
                cli_die(TB_EXIT_REFUSED,
                        "export --csv: the log does not pass the audit, no "
                        "file written: %s",
                        au.problem);
        }
        audit_commit_tmp(au.csv, tmp, path);

        const struct cli_out_field f[] = {
            CLI_STR("csv", path),
            CLI_U64("rows", rows),
            CLI_U64("size", au.cp.size),
            CLI_B64("root", au.cp.root, TB_HASH_SIZE),
        };
        CLI_OUT(cli, f,
                "wrote {rows} entries to {csv} (tree size {size}, root "
                "{root}, audited)\n");
        audit_free(&au);
        return TB_EXIT_OK;
}

int cli_audit_run(struct cli *cli, const struct cli_args *a)
{
        struct audit au = {.cli = cli, .tiles = a->value[CLI_OPT_TILES]};
        const char *html = a->value[CLI_OPT_HTML];
        struct audit_totals tot = {0};
        char link[TILES_ERR_MAX] = "";
        int rc;

        if (au.tiles != NULL && a->value[CLI_OPT_BALANCES] != NULL)
                cli_die(TB_EXIT_USAGE, "--balances asks the daemon: it "
                                       "reads the socket, not --tiles");
        cli_key_public(a->value[CLI_OPT_LOG_KEY], &au.v);
        if (html != NULL &&
            (au.report = audit_report_new(au.v.name, NULL)) == NULL)
                cli_die(TB_EXIT_OTHER, "out of memory");
        rc = audit_checks(&au, a->value[CLI_OPT_SINCE],
                          a->value[CLI_OPT_BALANCES] != NULL);
        /* a mirror may carry the link from an earlier log of this
         * district (docs/log-link.md): checked as far as this log goes */
        if (rc == 0 && au.tiles != NULL &&
            cli_link_audit(au.tiles, &au.v, &au.t, &au.e, link, sizeof(link)) ==
                1) {
                rc = audit_problem(&au, "%s", link);
                link[0] = 0;
        }
        if (au.rules != NULL)
                audit_rules_totals(au.rules, &tot);
        if (html != NULL)
                audit_html(&au, html, rc);

        const struct cli_out_field f[] = {
            CLI_STR("origin", au.cp.origin),
            CLI_U64("size", au.cp.size),
            CLI_B64("root", au.cp.root, TB_HASH_SIZE),
            CLI_U64("entries", tot.entries),
            CLI_U64("accounts", tot.accounts),
            CLI_U64("keys_active", tot.keys_active),
            CLI_U64("keys_revoked", tot.keys_revoked),
            CLI_U64("minutes_served", tot.minutes),
            CLI_U64("points_earned", tot.earned),
            CLI_U64("points_redeemed", tot.redeemed),
            CLI_U64("points_transferred", tot.transferred),
            CLI_U64("reversed", tot.reversed),
            CLI_BOOL("ok", rc == 0),
            CLI_STR("problem", au.problem),
            CLI_STR("log_link", link),
            CLI_TEXT_U64("hours", tot.minutes / 60),
            CLI_TEXT_U64("hour_minutes", tot.minutes % 60),
            CLI_TEXT_STR("result",
                         rc == 0 ? "OK: every check holds" : "FAILED"),
        };
        CLI_OUT(cli, f,
                "log        {origin}, tree size {size}, root {root}\n"
                "entries    {entries} replayed\n"
                "accounts   {accounts}\n"
                "keys       {keys_active} active, {keys_revoked} revoked\n"
                "served     {hours}h{hour_minutes:02} ({minutes_served} "
                "minutes)\n"
                "points     {points_earned} earned, {points_redeemed} "
                "redeemed, {points_transferred} transferred; {reversed} "
                "entries reversed\n"
                "{?log_link}link       {log_link}\n{/}"
                "{?problem}problem    {problem}\n{/}"
                "result     {result}\n");
        audit_free(&au);
        if (rc != 0) {
                fprintf(stderr, "%s: audit FAILED: %s\n", CLI_PROG, au.problem);
                return TB_EXIT_REFUSED;
        }
        return TB_EXIT_OK;
}
