/*
 * client/cli_metrics.c - what an operator watches: `timebank status` (the
 * ledger's STATUS and the daemon's STATS, as text or one JSON object) and
 * `timebank metrics` (the same numbers in the Prometheus text exposition
 * format 0.0.4, written atomically with -o for node_exporter's textfile
 * collector).  The table below gives each counter the daemon reports its
 * Prometheus type and help; docs/operations.md, "Monitoring", lists them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define METRICS_PREFIX "timebank_"

static const struct metric {
        const char *name;  /* as the daemon sends it, after the prefix */
        const char *type;  /* Prometheus: counter or gauge */
        const char *label; /* the label's name, or NULL */
        const char *help;
} metrics[] = {
    {"start_time_seconds", "gauge", NULL, "Unix time the daemon started."},
    {"entries", "gauge", NULL, "Entries in the log (its tree size)."},
    {"accounts", "gauge", NULL, "Volunteer accounts."},
    {"keys_active", "gauge", NULL, "Enrolled terminal keys not revoked."},
    {"keys_revoked", "gauge", NULL, "Revoked terminal keys."},
    {"disk_bytes", "gauge", NULL, "Bytes of the ledger file on disk."},
    {"map_bytes", "gauge", NULL,
     "Bytes of the LMDB map (grows by doubling up to map_size_max)."},
    {"queue_depth", "gauge", NULL,
     "Writes received and not yet answered (max_queue: BUSY beyond)."},
    {"connections", "gauge", NULL, "Open client connections."},
    {"connections_uid_max", "gauge", NULL,
     "Open connections of the peer uid with the most "
     "(max_connections_per_uid: BUSY beyond)."},
    {"connections_total", "counter", NULL,
     "Connections accepted since the start."},
    {"batches_total", "counter", NULL,
     "Transactions committed (group commits) since the start."},
    {"batch_writes_total", "counter", NULL,
     "Writes in the committed transactions since the start (a refused "
     "write is committed too: its refusal is remembered)."},
    {"batch_writes_last", "gauge", NULL,
     "Writes in the last committed transaction."},
    {"batch_writes_max", "gauge", NULL,
     "Writes in the largest committed transaction since the start."},
    {"last_commit_time_seconds", "gauge", NULL,
     "Unix time of the last commit; 0: none since the start."},
    {"storage_full_total", "counter", NULL,
     "Transactions refused STORAGE_FULL (map at map_size_max or file "
     "system full) since the start."},
    {"storage_full_time_seconds", "gauge", NULL,
     "Unix time the storage was last found full; 0: never since the "
     "start."},
    {"storage_errors_total", "counter", NULL,
     "Other failed commits the daemon survived since the start."},
    {"storage_error_time_seconds", "gauge", NULL,
     "Unix time of the last such failure; 0: never since the start."},
    {"requests_total", "counter", "type",
     "Requests received since the start, by type."},
    {"responses_total", "counter", "status",
     "Answers sent since the start, by status (refusals included)."},
};

#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

/* The request types, in the order of requests_total's series. */
static const unsigned metrics_types[] = {
    TB_MSG_SUBMIT,      TB_MSG_BALANCE,    TB_MSG_HISTORY,
    TB_MSG_ENTRY,       TB_MSG_CHECKPOINT, TB_MSG_INCLUSION,
    TB_MSG_CONSISTENCY, TB_MSG_STATUS,     TB_MSG_STATS};

/* The value of name{label} in s; 0 if the daemon did not send it. */
static uint64_t metrics_value(const struct tb_stats *s, const char *name,
                              const char *label)
{
        for (unsigned i = 0; i < s->count; i++)
                if (strcmp(s->items[i].name, name) == 0 &&
                    strcmp(s->items[i].label, label) == 0)
                        return s->items[i].value;
        return 0;
}

/*
 * Ask for STATS into cli->resp.  Returns 1, or 0 if the daemon is older
 * than STATS (it answers UNKNOWN_TYPE); exits on any other failure.
 */
static int metrics_fetch(struct cli *cli)
{
        struct tb_request q;
        enum tb_err err;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_STATS;
        cli_call_connect(cli);
        if ((err = tb_client_call(cli->conn, &q, cli->resp)) != TB_OK)
                cli_call_fail(cli, err);
        if (cli->resp->status == TB_ST_UNKNOWN_TYPE)
                return 0;
        cli_call_check(cli, 0);
        return 1;
}

/* ---- status ----------------------------------------------------------- */

struct status_rows {
        const struct tb_stats *s;
        const char *name;  /* requests_total or responses_total */
        const char *label; /* type or status */
        unsigned idx[TB_STATS_MAX];
        size_t n;
};

static void status_rows_init(struct status_rows *r, const struct tb_stats *s,
                             const char *name, const char *label)
{
        r->s = s;
        r->name = name;
        r->label = label;
        r->n = 0;
        for (unsigned i = 0; i < s->count; i++)
                if (strcmp(s->items[i].name, name) == 0)
                        r->idx[r->n++] = i;
}

static size_t status_row(void *ctx, size_t i, struct cli_out_field *row)
{
        const struct status_rows *r = ctx;
        const struct tb_stat *t = &r->s->items[r->idx[i]];

        row[0] = (struct cli_out_field)CLI_STR(r->label, t->label);
        row[1] = (struct cli_out_field)CLI_U64("count", t->value);
        return 2;
}

static void status_time(uint64_t t, char *out, size_t cap)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (t == 0)
                snprintf(out, cap, "never");
        else if (gmtime_r(&tt, &tm) == NULL ||
                 strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, cap, "%" PRIu64, t);
}

int cli_read_status(struct cli *cli, const struct cli_args *a)
{
        static struct tb_stats stats;
        static struct status_rows req, resp;
        struct tb_status_info s;
        char started[32], commit[32], full[32], error[32];
        int have;

        (void)a;
        cli_call_type(cli, TB_MSG_STATUS);
        s = cli->resp->u.status;
        have = metrics_fetch(cli);
        if (have)
                stats = cli->resp->u.stats;
        else
                memset(&stats, 0, sizeof(stats));
#define V(name) metrics_value(&stats, name, "")
        status_time(V("start_time_seconds"), started, sizeof(started));
        status_time(V("last_commit_time_seconds"), commit, sizeof(commit));
        status_time(V("storage_full_time_seconds"), full, sizeof(full));
        status_time(V("storage_error_time_seconds"), error, sizeof(error));
        status_rows_init(&req, &stats, "requests_total", "type");
        status_rows_init(&resp, &stats, "responses_total", "status");

        const struct cli_out_field f[] = {
            CLI_STR("origin", s.origin),
            CLI_STR("log_key", s.log_key),
            CLI_STR("version", s.version),
            CLI_U64("tree_size", s.tree_size),
            CLI_U64("accounts", s.accounts),
            CLI_U64("keys_active", s.keys_active),
            CLI_U64("keys_revoked", s.keys_revoked),
            CLI_U64("disk_bytes", s.disk_bytes),
            CLI_U64("map_bytes", s.map_bytes),
            CLI_U64("start_time_seconds", V("start_time_seconds")),
            CLI_U64("last_commit_time_seconds", V("last_commit_time_seconds")),
            CLI_U64("queue_depth", V("queue_depth")),
            CLI_U64("connections", V("connections")),
            CLI_U64("connections_uid_max", V("connections_uid_max")),
            CLI_U64("connections_total", V("connections_total")),
            CLI_U64("batches_total", V("batches_total")),
            CLI_U64("batch_writes_total", V("batch_writes_total")),
            CLI_U64("batch_writes_last", V("batch_writes_last")),
            CLI_U64("batch_writes_max", V("batch_writes_max")),
            CLI_U64("storage_full_total", V("storage_full_total")),
            CLI_U64("storage_full_time_seconds",
                    V("storage_full_time_seconds")),
            CLI_U64("storage_errors_total", V("storage_errors_total")),
            CLI_U64("storage_error_time_seconds",
                    V("storage_error_time_seconds")),
            CLI_ROWS("requests_total", req.n, status_row, &req,
                     "              {type} {count}\n"),
            CLI_ROWS("responses_total", resp.n, status_row, &resp,
                     "              {status} {count}\n"),
            CLI_TEXT_STR("started", started),
            CLI_TEXT_STR("commit", commit),
            CLI_TEXT_STR("full", full),
            CLI_TEXT_STR("error", error),
        };
#undef V
        static const char text[] =
            "origin        {origin}\nlog key       {log_key}\n"
            "daemon        {version}\nentries       {tree_size}\n"
            "accounts      {accounts}\n"
            "keys          {keys_active} active, {keys_revoked} revoked\n"
            "disk          {disk_bytes} bytes (map {map_bytes})\n";
        static const char more[] =
            "started       {started}\n"
            "last commit   {commit}\n"
            "queue         {queue_depth} writes waiting\n"
            "connections   {connections} open, at most "
            "{connections_uid_max} from one uid; {connections_total} since "
            "the start\n"
            "commits       {batches_total} transactions of "
            "{batch_writes_total} writes (last {batch_writes_last}, "
            "largest {batch_writes_max})\n"
            "storage full  {storage_full_total} transactions refused "
            "(last {full})\n"
            "storage error {storage_errors_total} failed commits (last "
            "{error})\n"
            "requests\n{requests_total}"
            "answers\n{responses_total}";
        /* an older daemon has no STATS: its status alone */
        if (!have) {
                cli_out_print(cli->json, f, 9, text);
                return TB_EXIT_OK;
        }
        if (cli->json) {
                CLI_OUT(cli, f, "");
        } else {
                char all[sizeof(text) + sizeof(more)];
                snprintf(all, sizeof(all), "%s%s", text, more);
                CLI_OUT(cli, f, all);
        }
        return TB_EXIT_OK;
}

/* ---- metrics ---------------------------------------------------------- */

/* One metric's HELP, TYPE and samples. */
static void metrics_print_one(FILE *o, const struct tb_stats *s,
                              const struct metric *m)
{
        fprintf(o, "# HELP " METRICS_PREFIX "%s %s\n", m->name, m->help);
        fprintf(o, "# TYPE " METRICS_PREFIX "%s %s\n", m->name, m->type);
        if (m->label == NULL) {
                fprintf(o, METRICS_PREFIX "%s %" PRIu64 "\n", m->name,
                        metrics_value(s, m->name, ""));
                return;
        }
        /* every known series, 0 included, so rate() sees the first one */
        if (strcmp(m->label, "type") == 0) {
                for (size_t i = 0;
                     i < sizeof(metrics_types) / sizeof(metrics_types[0]); i++)
                        fprintf(
                            o, METRICS_PREFIX "%s{type=\"%s\"} %" PRIu64 "\n",
                            m->name, tb_msg_type_name(metrics_types[i]),
                            metrics_value(s, m->name,
                                          tb_msg_type_name(metrics_types[i])));
                fprintf(o, METRICS_PREFIX "%s{type=\"unknown\"} %" PRIu64 "\n",
                        m->name, metrics_value(s, m->name, "unknown"));
                return;
        }
        for (unsigned st = 0; st < 400; st++)
                if (tb_status_name(st) != NULL)
                        fprintf(o, METRICS_PREFIX "%s{%s=\"%s\"} %" PRIu64 "\n",
                                m->name, m->label, tb_status_name(st),
                                metrics_value(s, m->name, tb_status_name(st)));
}

static const struct metric *metrics_find(const char *name)
{
        for (size_t i = 0; i < NMETRICS; i++)
                if (strcmp(metrics[i].name, name) == 0)
                        return &metrics[i];
        return NULL;
}

/* The exposition: timebank_up, every known metric, then any counter a
 * newer daemon sent that this table does not know (untyped). */
static void metrics_print(FILE *o, const struct tb_stats *s, int up)
{
        fprintf(o,
                "# HELP " METRICS_PREFIX "up 1 if the daemon answered "
                "STATS, 0 if it could not be reached or is too old.\n"
                "# TYPE " METRICS_PREFIX "up gauge\n" METRICS_PREFIX "up %d\n",
                up);
        if (!up)
                return;
        for (size_t i = 0; i < NMETRICS; i++)
                metrics_print_one(o, s, &metrics[i]);
        for (unsigned i = 0; i < s->count; i++) {
                const struct tb_stat *t = &s->items[i];
                int first = 1;

                if (metrics_find(t->name) != NULL)
                        continue;
                for (unsigned k = 0; k < i; k++)
                        if (strcmp(s->items[k].name, t->name) == 0)
                                first = 0;
                if (first)
                        fprintf(o,
                                "# HELP " METRICS_PREFIX "%s reported by the "
                                "daemon, unknown to this client.\n"
                                "# TYPE " METRICS_PREFIX "%s untyped\n",
                                t->name, t->name);
                if (t->label[0] != 0)
                        fprintf(o,
                                METRICS_PREFIX "%s{label=\"%s\"} %" PRIu64 "\n",
                                t->name, t->label, t->value);
                else
                        fprintf(o, METRICS_PREFIX "%s %" PRIu64 "\n", t->name,
                                t->value);
        }
}

/*
 * Write the exposition to path atomically: a temporary file beside it
 * (whose name does not end in .prom, so the textfile collector skips it),
 * mode 0644, flushed, then renamed over path.  Exits on failure, leaving
 * path as it was.
 */
static void metrics_write(const char *path, const struct tb_stats *s, int up)
{
        size_t n = strlen(path);
        char *tmp = malloc(n + 8);
        FILE *o;
        int fd;

        if (tmp == NULL)
                cli_die(TB_EXIT_OTHER, "out of memory");
        snprintf(tmp, n + 8, "%s.XXXXXX", path);
        if ((fd = mkstemp(tmp)) < 0) {
                int e = errno;
                free(tmp);
                cli_die(TB_EXIT_OTHER, "cannot create a file beside %s: %s",
                        path, strerror(e));
        }
        if (fchmod(fd, 0644) != 0 || (o = fdopen(fd, "w")) == NULL) {
                int e = errno;
                (void)close(fd);
                (void)unlink(tmp);
                free(tmp);
                cli_die(TB_EXIT_OTHER, "cannot write %s: %s", path,
                        strerror(e));
        }
        metrics_print(o, s, up);
        if (fflush(o) != 0 || ferror(o) || fsync(fileno(o)) != 0 ||
            fclose(o) != 0 || rename(tmp, path) != 0) {
                int e = errno;
                (void)unlink(tmp);
                free(tmp);
                cli_die(TB_EXIT_OTHER, "cannot write %s: %s", path,
                        strerror(e));
        }
        free(tmp);
}

int cli_metrics_run(struct cli *cli, const struct cli_args *a)
{
        static const struct tb_stats none;
        const char *out = a->value[CLI_OPT_OUTPUT];
        enum tb_err err;
        int up;

        if (out != NULL && out[0] == 0)
                cli_die(TB_EXIT_USAGE, "metrics: -o needs a file name");
        /* unreachable: still say so to the collector (timebank_up 0) */
        err = tb_client_connect(cli->socket, cli->timeout_ms, &cli->conn);
        if (err != TB_OK) {
                if (out != NULL)
                        metrics_write(out, &none, 0);
                else
                        metrics_print(stdout, &none, 0);
                cli_die(TB_EXIT_UNREACHABLE, "cannot reach timebankd at %s: %s",
                        cli->socket,
                        err == TB_E_CONNECT ? strerror(errno)
                                            : tb_strerror(err));
        }
        up = metrics_fetch(cli);
        if (out != NULL)
                metrics_write(out, &cli->resp->u.stats, up);
        else
                metrics_print(stdout, &cli->resp->u.stats, up);
        if (out == NULL && (fflush(stdout) != 0 || ferror(stdout)))
                cli_die(TB_EXIT_OTHER, "writing the output: %s",
                        strerror(errno));
        if (!up)
                cli_die(TB_EXIT_OTHER,
                        "the daemon at %s does not answer "
                        "STATS (older than this client)",
                        cli->socket);
        return TB_EXIT_OK;
}
