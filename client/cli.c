/*
 * client/cli.c - the timebank command-line client.
 *
 * Commands are a table (name, handler, usage, help); --help and the man page
 * come from it.  Each handler parses its own options, talks to the daemon
 * through libtimebank and prints either text for people or one JSON object
 * (--json).  Exit codes (docs/cli.md): 0 done (also DUPLICATE), 1 refused
 * by a ledger rule, 2 usage, 3 daemon unreachable, 4 any other error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "keyfile.h"
#include "merkle.h"
#include "note.h"
#include "timebank.h"

#define EX_DONE        0
#define EX_REFUSED     1
#define EX_USAGE       2
#define EX_UNREACHABLE 3
#define EX_OTHER       4

struct cli {
        const char *socket;
        int json;
        int timeout_ms;
        struct tb_client *conn;
        struct tb_response *resp;                    /* large: heap */
        char request_id[2 * TB_REQUEST_ID_SIZE + 1]; /* of a write, or "" */
};

struct command {
        const char *name;
        int (*run)(struct cli *, int, char **);
        const char *usage;
        const char *help;
};

static const char *progname = "timebank";

static void die(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

static void die(int code, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", progname);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(code);
}

/* ---- small helpers ------------------------------------------------------ */

static void json_str(FILE *f, const char *s, size_t n)
{
        fputc('"', f);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

static void json_b64(FILE *f, const uint8_t *p, size_t n)
{
        char *s = malloc(TB_B64_LEN(n) + 1);

        if (s == NULL)
                die(EX_OTHER, "out of memory");
        if (tb_b64_encode(p, n, s, TB_B64_LEN(n) + 1, NULL) != TB_OK)
                die(EX_OTHER, "internal error: base64 encoding failed");
        fprintf(f, "\"%s\"", s);
        free(s);
}

static uint64_t parse_u64(const char *what, const char *s, uint64_t min,
                          uint64_t max)
{
        char *end;
        unsigned long long v;

        errno = 0;
        if (s[0] < '0' || s[0] > '9')
                die(EX_USAGE, "%s must be a whole number, not '%s'", what, s);
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0 || v < min || v > max)
                die(EX_USAGE,
                    "%s must be a whole number from %" PRIu64 " to %" PRIu64
                    ", not '%s'",
                    what, min, max, s);
        return (uint64_t)v;
}

static void copy_field(char *dst, size_t cap, const char *what, const char *s,
                       enum tb_err (*check)(const char *, size_t),
                       int may_be_empty)
{
        size_t n = strlen(s);

        if (!(n == 0 && may_be_empty) && check(s, n) != TB_OK)
                die(EX_USAGE, "%s '%s': %s", what, s, tb_strerror(check(s, n)));
        if (n >= cap)
                die(EX_USAGE, "%s is too long", what);
        memcpy(dst, s, n + 1);
}

static void format_time(int64_t t, char *out, size_t cap)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (gmtime_r(&tt, &tm) == NULL ||
            strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, cap, "%" PRId64, t);
}

/*
 * ISO 8601: YYYY-MM-DDTHH:MM[:SS] followed by Z, +HH:MM or -HH:MM; without
 * a zone the terminal's local time is meant.
 */
static int64_t parse_time(const char *s)
{
        struct tm tm;
        int y, mo, d, h, mi, sec = 0, n = 0, oh = 0, om = 0;
        char sign = 0;
        time_t t;

        memset(&tm, 0, sizeof(tm));
        if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi,
                   &n) != 5)
                goto bad;
        s += n;
        if (*s == ':') {
                if (sscanf(s, ":%2d%n", &sec, &n) != 1)
                        goto bad;
                s += n;
        }
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
            sec > 60)
                goto bad;
        if (*s == 0) {
                tm.tm_isdst = -1;
                t = mktime(&tm);
        } else if (strcmp(s, "Z") == 0) {
                t = timegm(&tm);
        } else if (sscanf(s, "%c%2d:%2d%n", &sign, &oh, &om, &n) == 3 &&
                   s[n] == 0 && (sign == '+' || sign == '-') && oh < 24 &&
                   om < 60) {
                t = timegm(&tm);
                t += (sign == '+' ? -1 : 1) * (oh * 3600 + om * 60);
        } else {
                goto bad;
        }
        if (t < 0 || (int64_t)t > TB_TIME_MAX)
                goto bad;
        return (int64_t)t;
bad:
        die(EX_USAGE,
            "--start '%s': expected ISO 8601 such as 2026-11-23T09:30Z, "
            "2026-11-23T09:30+08:00 or 2026-11-23T09:30 (local time)",
            s);
}

static void parse_request_id(const char *s, uint8_t out[TB_REQUEST_ID_SIZE])
{
        size_t n;

        if (strlen(s) != 2 * TB_REQUEST_ID_SIZE ||
            sodium_hex2bin(out, TB_REQUEST_ID_SIZE, s, strlen(s), NULL, &n,
                           NULL) != 0 ||
            n != TB_REQUEST_ID_SIZE)
                die(EX_USAGE, "--request-id must be %d hex digits",
                    2 * TB_REQUEST_ID_SIZE);
}

static struct tb_skey *load_secret(const char *path)
{
        struct tb_skey *k = NULL;
        enum tb_err err = tb_keyfile_read_secret(path, &k);

        if (err == TB_E_IO)
                die(EX_OTHER, "cannot read key file %s: %s", path,
                    strerror(errno));
        if (err != TB_OK)
                die(EX_OTHER, "key file %s: %s", path, tb_strerror(err));
        return k;
}

static void load_public(const char *path, struct tb_vkey *k)
{
        enum tb_err err = tb_keyfile_read_public(path, k);

        if (err == TB_E_IO)
                die(EX_OTHER, "cannot read public key file %s: %s", path,
                    strerror(errno));
        if (err != TB_OK)
                die(EX_OTHER, "public key file %s: %s", path, tb_strerror(err));
}

static void connect_daemon(struct cli *cli)
{
        enum tb_err err;

        if (cli->conn != NULL)
                return;
        err = tb_client_connect(cli->socket, cli->timeout_ms, &cli->conn);
        if (err == TB_E_CONNECT)
                die(EX_UNREACHABLE,
                    "cannot reach timebankd at %s: %s. Is the daemon running? "
                    "Use -s SOCKET or set TIMEBANK_SOCKET.",
                    cli->socket, strerror(errno));
        if (err != TB_OK)
                die(EX_UNREACHABLE, "cannot connect to %s: %s", cli->socket,
                    tb_strerror(err));
}

/* For a write whose fate is unknown or refused: how to retry it safely. */
static void print_retry_hint(const struct cli *cli)
{
        if (cli->request_id[0] != 0)
                fprintf(stderr,
                        "%s: the request id was %s: to retry, repeat the "
                        "command with --request-id %s (never recorded "
                        "twice)\n",
                        progname, cli->request_id, cli->request_id);
}

static void transport_error(struct cli *cli, enum tb_err err)
{
        int code = err == TB_E_CLOSED || err == TB_E_TIMEOUT ? EX_UNREACHABLE
                                                             : EX_OTHER;

        fprintf(stderr, "%s: %s timebankd at %s: %s\n", progname,
                code == EX_UNREACHABLE ? "lost" : "talking to", cli->socket,
                tb_strerror(err));
        print_retry_hint(cli);
        exit(code);
}

/* Send q, wait for the answer into cli->resp. */
static void call(struct cli *cli, struct tb_request *q)
{
        enum tb_err err;

        connect_daemon(cli);
        if ((err = tb_client_call(cli->conn, q, cli->resp)) != TB_OK)
                transport_error(cli, err);
}

/* Exit with the status's message unless it is OK (or DUPLICATE if allowed). */
static void check_status(struct cli *cli, int allow_duplicate)
{
        const struct tb_response *r = cli->resp;
        const char *name = tb_status_name(r->status);
        int code;

        if (r->status == TB_ST_OK ||
            (allow_duplicate && r->status == TB_ST_DUPLICATE))
                return;
        switch (tb_status_class(r->status)) {
        case TB_STC_REFUSED:
                code = EX_REFUSED;
                break;
        default:
                code = EX_OTHER;
                break;
        }
        if (cli->json) {
                printf("{\"status\":\"%s\",\"code\":%u,\"message\":",
                       name ? name : "UNKNOWN", r->status);
                json_str(stdout, r->message, r->message_len);
                if (cli->request_id[0] != 0)
                        printf(",\"request_id\":\"%s\"", cli->request_id);
                printf("}\n");
        }
        fprintf(stderr, "%s: %s: %s", progname, name ? name : "UNKNOWN",
                tb_status_message(r->status));
        if (r->message_len > 0)
                fprintf(stderr, " (%.*s)", (int)r->message_len, r->message);
        fputc('\n', stderr);
        /* a refusal is remembered: a retry gets the same answer, so the
         * hint matters for transient statuses only */
        if (tb_status_class(r->status) == TB_STC_TRANSIENT)
                print_retry_hint(cli);
        exit(code);
}

/* ---- keygen ------------------------------------------------------------- */

static int cmd_keygen(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"output", 1, NULL, 'o'},
                                             {NULL, 0, NULL, 0}};
        const char *out = NULL;
        struct tb_skey *k = NULL;
        struct tb_vkey v;
        char pubpath[PATH_MAX], vtext[TB_VKEY_MAX];
        enum tb_err err;
        int c;

        while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
                if (c != 'o')
                        return EX_USAGE;
                out = optarg;
        }
        if (optind + 1 != argc || out == NULL)
                return EX_USAGE;
        const char *name = argv[optind];
        if ((err = tb_skey_generate(name, strlen(name), &k)) != TB_OK)
                die(EX_USAGE, "key name '%s': %s", name, tb_strerror(err));
        if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", out) >=
            sizeof(pubpath))
                die(EX_USAGE, "output path too long");
        err = tb_keyfile_write_secret(out, k);
        if (err == TB_OK) {
                tb_skey_public(k, &v);
                err = tb_keyfile_write_public(pubpath, &v);
        }
        tb_skey_free(k);
        if (err == TB_E_EXISTS)
                die(EX_OTHER,
                    "%s or %s already exists: refusing to overwrite "
                    "a key",
                    out, pubpath);
        if (err != TB_OK)
                die(EX_OTHER, "writing %s: %s%s%s", out, tb_strerror(err),
                    err == TB_E_IO ? ": " : "",
                    err == TB_E_IO ? strerror(errno) : "");
        if (tb_vkey_format(&v, vtext, sizeof(vtext), NULL) != TB_OK)
                die(EX_OTHER, "internal error formatting the public key");
        if (cli->json) {
                printf("{\"name\":");
                json_str(stdout, name, strlen(name));
                printf(",\"public_key\":");
                json_str(stdout, vtext, strlen(vtext));
                printf(",\"secret_file\":");
                json_str(stdout, out, strlen(out));
                printf(",\"public_file\":");
                json_str(stdout, pubpath, strlen(pubpath));
                printf("}\n");
        } else {
                printf("%s\n", vtext);
        }
        return EX_DONE;
}

/* ---- writes ------------------------------------------------------------- */

struct write_opts {
        const char *key;
        const char *note;
        uint8_t request_id[TB_REQUEST_ID_SIZE];
        int have_request_id;
};

enum {
        OPT_REQUEST_ID = 1000,
        OPT_NOTE,
        OPT_ROLE,
        OPT_PPH,
        OPT_ACTIVITY,
        OPT_DAILY_CAP,
        OPT_MAX_BALANCE,
        OPT_MINUTES,
        OPT_START,
        OPT_POINTS,
        OPT_ITEM,
        OPT_LIMIT,
        OPT_SIZE,
};

#define WRITE_OPTIONS                                                          \
        {"key", 1, NULL, 'k'}, {"request-id", 1, NULL, OPT_REQUEST_ID},        \
        {                                                                      \
                "note", 1, NULL, OPT_NOTE                                      \
        }

/* Options every write takes; 1 if c was one of them. */
static int write_opt(struct write_opts *w, int c)
{
        switch (c) {
        case 'k':
                w->key = optarg;
                return 1;
        case OPT_REQUEST_ID:
                parse_request_id(optarg, w->request_id);
                w->have_request_id = 1;
                return 1;
        case OPT_NOTE:
                if (tb_note_text_check(optarg, strlen(optarg)) != TB_OK)
                        die(EX_USAGE, "--note: %s",
                            tb_strerror(TB_E_NOTE_TEXT));
                w->note = optarg;
                return 1;
        }
        return 0;
}

static void set_note(char *dst, const struct write_opts *w)
{
        if (w->note != NULL)
                memcpy(dst, w->note, strlen(w->note) + 1);
}

/* Sign and submit e (header filled here), print the result, exit code. */
static int submit(struct cli *cli, struct tb_entry *e, unsigned kind,
                  const struct write_opts *w)
{
        struct tb_skey *k;
        struct tb_vkey v;
        enum tb_err err;
        const struct tb_write_result *res = &cli->resp->u.write;
        const char *hex = cli->request_id;

        if (w->key == NULL)
                die(EX_USAGE, "%s needs -k KEYFILE (the signing key)",
                    tb_kind_name(kind));
        /* reach the daemon before the secret is in memory: fewer exits
         * that must wipe it */
        connect_daemon(cli);
        k = load_secret(w->key);
        tb_skey_public(k, &v);
        tb_client_entry_init(e, kind, v.pk,
                             w->have_request_id ? w->request_id : NULL);
        sodium_bin2hex(cli->request_id, sizeof(cli->request_id), e->request_id,
                       TB_REQUEST_ID_SIZE);
        if ((err = tb_entry_check(e)) != TB_OK) {
                tb_skey_free(k);
                die(EX_USAGE, "invalid %s: %s", tb_kind_name(kind),
                    tb_strerror(err));
        }
        err = tb_client_submit(cli->conn, e, k, cli->resp);
        tb_skey_free(k);
        if (err != TB_OK)
                transport_error(cli, err);
        check_status(cli, 1);
        if (cli->json) {
                printf("{\"status\":\"%s\",\"seq\":%" PRIu64
                       ",\"points\":%" PRId64 ",\"balance\":%" PRIu64
                       ",\"request_id\":\"%s\"}\n",
                       tb_status_name(cli->resp->status), res->seq, res->points,
                       res->balance, hex);
        } else {
                printf("%s: %s seq %" PRIu64, tb_kind_name(kind),
                       cli->resp->status == TB_ST_DUPLICATE
                           ? "already recorded (DUPLICATE), original"
                           : "recorded as",
                       res->seq);
                if (res->points != 0)
                        printf(", points %+" PRId64 ", balance %" PRIu64,
                               res->points, res->balance);
                printf(" (request id %s)\n", hex);
        }
        return EX_DONE;
}

static uint8_t parse_roles(const char *s)
{
        uint8_t roles = 0;
        char buf[64], *tok, *save = NULL;

        if (strlen(s) >= sizeof(buf))
                die(EX_USAGE, "--role: too long");
        memcpy(buf, s, strlen(s) + 1);
        for (tok = strtok_r(buf, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save)) {
                if (strcmp(tok, "record") == 0)
                        roles |= TB_ROLE_RECORD;
                else if (strcmp(tok, "redeem") == 0)
                        roles |= TB_ROLE_REDEEM;
                else if (strcmp(tok, "admin") == 0)
                        roles |= TB_ROLE_ADMIN;
                else
                        die(EX_USAGE,
                            "--role: unknown role '%s' (record, redeem, admin)",
                            tok);
        }
        if (roles == 0)
                die(EX_USAGE, "--role: give at least one of record, redeem, "
                              "admin");
        return roles;
}

static int cmd_enroll(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            WRITE_OPTIONS, {"role", 1, NULL, OPT_ROLE}, {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        struct tb_vkey v;
        uint8_t roles = 0;
        int c;

        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
                if (write_opt(&w, c))
                        continue;
                if (c != OPT_ROLE)
                        return EX_USAGE;
                roles = parse_roles(optarg);
        }
        if (optind + 1 != argc || roles == 0)
                return EX_USAGE;
        if (w.note != NULL)
                die(EX_USAGE, "enroll takes no --note");
        load_public(argv[optind], &v);
        memset(&e, 0, sizeof(e));
        memcpy(e.u.enroll.key, v.pk, TB_PUBKEY_SIZE);
        e.u.enroll.roles = roles;
        memcpy(e.u.enroll.name, v.name, v.name_len + 1);
        return submit(cli, &e, TB_KIND_ENROLL, &w);
}

static int cmd_revoke(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {WRITE_OPTIONS, {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        struct tb_vkey v;
        int c;

        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1)
                if (!write_opt(&w, c))
                        return EX_USAGE;
        if (optind + 1 != argc)
                return EX_USAGE;
        load_public(argv[optind], &v);
        memset(&e, 0, sizeof(e));
        memcpy(e.u.revoke.key, v.pk, TB_PUBKEY_SIZE);
        set_note(e.u.revoke.note, &w);
        return submit(cli, &e, TB_KIND_REVOKE, &w);
}

static int cmd_policy(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            WRITE_OPTIONS,
            {"points-per-hour", 1, NULL, OPT_PPH},
            {"activity", 1, NULL, OPT_ACTIVITY},
            {"daily-minutes-cap", 1, NULL, OPT_DAILY_CAP},
            {"max-balance", 1, NULL, OPT_MAX_BALANCE},
            {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        struct tb_policy *p = &e.u.policy;
        const char *activity = NULL;
        int c;

        memset(&e, 0, sizeof(e));
        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
                if (write_opt(&w, c))
                        continue;
                switch (c) {
                case OPT_PPH:
                        p->points_per_hour = (uint32_t)parse_u64(
                            "--points-per-hour", optarg, 0, TB_RATE_MAX);
                        p->set |= TB_POLICY_RATE;
                        break;
                case OPT_ACTIVITY:
                        activity = optarg;
                        break;
                case OPT_DAILY_CAP:
                        p->daily_minutes_cap = (uint16_t)parse_u64(
                            "--daily-minutes-cap", optarg, 0, TB_MINUTES_MAX);
                        p->set |= TB_POLICY_DAILY_CAP;
                        break;
                case OPT_MAX_BALANCE:
                        p->max_balance = parse_u64("--max-balance", optarg, 0,
                                                   TB_BALANCE_MAX);
                        p->set |= TB_POLICY_MAX_BALANCE;
                        break;
                default:
                        return EX_USAGE;
                }
        }
        if (optind != argc || p->set == 0)
                return EX_USAGE;
        if (w.note != NULL)
                die(EX_USAGE, "policy takes no --note");
        if (activity != NULL) {
                if (!(p->set & TB_POLICY_RATE))
                        die(EX_USAGE, "--activity needs --points-per-hour");
                copy_field(p->activity, sizeof(p->activity), "--activity",
                           activity, tb_code_check, 0);
        }
        return submit(cli, &e, TB_KIND_POLICY, &w);
}

static int cmd_register(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {WRITE_OPTIONS, {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        int c;

        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1)
                if (!write_opt(&w, c))
                        return EX_USAGE;
        if (optind + 1 != argc)
                return EX_USAGE;
        if (w.note != NULL)
                die(EX_USAGE, "register takes no --note");
        memset(&e, 0, sizeof(e));
        copy_field(e.u.reg.account, sizeof(e.u.reg.account), "account",
                   argv[optind], tb_account_check, 0);
        return submit(cli, &e, TB_KIND_REGISTER, &w);
}

static int cmd_record(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            WRITE_OPTIONS,
            {"minutes", 1, NULL, OPT_MINUTES},
            {"start", 1, NULL, OPT_START},
            {"activity", 1, NULL, OPT_ACTIVITY},
            {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        struct tb_service *s = &e.u.service;
        const char *start = NULL;
        int c;

        memset(&e, 0, sizeof(e));
        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
                if (write_opt(&w, c))
                        continue;
                switch (c) {
                case OPT_MINUTES:
                        s->minutes = (uint16_t)parse_u64("--minutes", optarg, 1,
                                                         TB_MINUTES_MAX);
                        break;
                case OPT_START:
                        start = optarg;
                        break;
                case OPT_ACTIVITY:
                        copy_field(s->activity, sizeof(s->activity),
                                   "--activity", optarg, tb_code_check, 0);
                        break;
                default:
                        return EX_USAGE;
                }
        }
        if (optind + 1 != argc || s->minutes == 0)
                return EX_USAGE;
        copy_field(s->account, sizeof(s->account), "account", argv[optind],
                   tb_account_check, 0);
        /* Without --start the service is taken to have just ended. */
        s->start = start != NULL ? parse_time(start)
                                 : (int64_t)time(NULL) - 60 * s->minutes;
        set_note(s->note, &w);
        return submit(cli, &e, TB_KIND_SERVICE, &w);
}

static int cmd_redeem(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {WRITE_OPTIONS,
                                             {"points", 1, NULL, OPT_POINTS},
                                             {"item", 1, NULL, OPT_ITEM},
                                             {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        struct tb_redeem *r = &e.u.redeem;
        int c;

        memset(&e, 0, sizeof(e));
        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
                if (write_opt(&w, c))
                        continue;
                if (c == OPT_POINTS)
                        r->points = (uint32_t)parse_u64("--points", optarg, 1,
                                                        TB_POINTS_MAX);
                else if (c == OPT_ITEM)
                        copy_field(r->item, sizeof(r->item), "--item", optarg,
                                   tb_code_check, 0);
                else
                        return EX_USAGE;
        }
        if (optind + 1 != argc || r->points == 0 || r->item[0] == 0)
                return EX_USAGE;
        copy_field(r->account, sizeof(r->account), "account", argv[optind],
                   tb_account_check, 0);
        set_note(r->note, &w);
        return submit(cli, &e, TB_KIND_REDEEM, &w);
}

static int cmd_transfer(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            WRITE_OPTIONS, {"points", 1, NULL, OPT_POINTS}, {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        struct tb_transfer *t = &e.u.transfer;
        int c;

        memset(&e, 0, sizeof(e));
        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
                if (write_opt(&w, c))
                        continue;
                if (c != OPT_POINTS)
                        return EX_USAGE;
                t->points =
                    (uint32_t)parse_u64("--points", optarg, 1, TB_POINTS_MAX);
        }
        if (optind + 2 != argc || t->points == 0)
                return EX_USAGE;
        copy_field(t->from, sizeof(t->from), "source account", argv[optind],
                   tb_account_check, 0);
        copy_field(t->to, sizeof(t->to), "destination account",
                   argv[optind + 1], tb_account_check, 0);
        if (strcmp(t->from, t->to) == 0)
                die(EX_USAGE, "a transfer needs two different accounts");
        set_note(t->note, &w);
        return submit(cli, &e, TB_KIND_TRANSFER, &w);
}

static int cmd_reverse(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {WRITE_OPTIONS, {NULL, 0, NULL, 0}};
        struct write_opts w = {0};
        struct tb_entry e;
        int c;

        while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1)
                if (!write_opt(&w, c))
                        return EX_USAGE;
        if (optind + 1 != argc)
                return EX_USAGE;
        memset(&e, 0, sizeof(e));
        e.u.reverse.seq = parse_u64("SEQ", argv[optind], 1, TB_SEQ_MAX);
        set_note(e.u.reverse.note, &w);
        return submit(cli, &e, TB_KIND_REVERSE, &w);
}

/* ---- reads -------------------------------------------------------------- */

static const struct option no_opts[] = {{NULL, 0, NULL, 0}};

static int no_options(int argc, char **argv, int nargs)
{
        if (getopt_long(argc, argv, "", no_opts, NULL) != -1)
                return 0;
        return optind + nargs == argc;
}

static int cmd_balance(struct cli *cli, int argc, char **argv)
{
        struct tb_request q;
        const struct tb_balance_info *b = &cli->resp->u.balance;

        if (!no_options(argc, argv, 1))
                return EX_USAGE;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_BALANCE;
        copy_field(q.u.balance.account, sizeof(q.u.balance.account), "account",
                   argv[optind], tb_account_check, 0);
        call(cli, &q);
        check_status(cli, 0);
        if (cli->json) {
                printf("{\"account\":");
                json_str(stdout, b->account, strlen(b->account));
                printf(",\"balance\":%" PRIu64 ",\"earned\":%" PRIu64
                       ",\"redeemed\":%" PRIu64 ",\"transferred_in\":%" PRIu64
                       ",\"transferred_out\":%" PRIu64 ",\"minutes\":%" PRIu64
                       ",\"entries\":%" PRIu64 ",\"opened_seq\":%" PRIu64
                       ",\"last_seq\":%" PRIu64 "}\n",
                       b->balance, b->earned, b->redeemed, b->transferred_in,
                       b->transferred_out, b->minutes, b->entries,
                       b->opened_seq, b->last_seq);
                return EX_DONE;
        }
        printf("account         %s\n"
               "balance         %" PRIu64 " points\n"
               "earned          %" PRIu64 " points for %" PRIu64
               " minutes (%" PRIu64 "h%02" PRIu64 ") of service\n"
               "redeemed        %" PRIu64 " points\n"
               "transferred in  %" PRIu64 " points\n"
               "transferred out %" PRIu64 " points\n"
               "entries         %" PRIu64 " (opened at seq %" PRIu64
               ", last seq %" PRIu64 ")\n",
               b->account, b->balance, b->earned, b->minutes, b->minutes / 60,
               b->minutes % 60, b->redeemed, b->transferred_in,
               b->transferred_out, b->entries, b->opened_seq, b->last_seq);
        return EX_DONE;
}

/* One line describing what a record did, for people. */
static void describe(const struct tb_entry *e, char *out, size_t cap)
{
        char when[32];

        switch (e->kind) {
        case TB_KIND_REGISTER:
                snprintf(out, cap, "account opened");
                break;
        case TB_KIND_SERVICE:
                format_time(e->u.service.start, when, sizeof(when));
                snprintf(
                    out, cap, "%u min of %s from %s%s%s", e->u.service.minutes,
                    e->u.service.activity[0] ? e->u.service.activity
                                             : "service",
                    when, e->u.service.note[0] ? ": " : "", e->u.service.note);
                break;
        case TB_KIND_REDEEM:
                snprintf(out, cap, "redeemed for %s%s%s", e->u.redeem.item,
                         e->u.redeem.note[0] ? ": " : "", e->u.redeem.note);
                break;
        case TB_KIND_TRANSFER:
                snprintf(out, cap, "transfer %s -> %s%s%s", e->u.transfer.from,
                         e->u.transfer.to, e->u.transfer.note[0] ? ": " : "",
                         e->u.transfer.note);
                break;
        case TB_KIND_REVERSE:
                snprintf(out, cap, "reversal of seq %" PRIu64 "%s%s",
                         e->u.reverse.seq, e->u.reverse.note[0] ? ": " : "",
                         e->u.reverse.note);
                break;
        default:
                snprintf(out, cap, "%s", tb_kind_name(e->kind));
                break;
        }
}

static int cmd_history(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"limit", 1, NULL, OPT_LIMIT},
                                             {NULL, 0, NULL, 0}};
        struct tb_request q;
        const struct tb_history *h = &cli->resp->u.history;
        uint64_t limit = 20;
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c != OPT_LIMIT)
                        return EX_USAGE;
                limit = parse_u64("--limit", optarg, 1, TB_HISTORY_MAX);
        }
        if (optind + 1 != argc)
                return EX_USAGE;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_HISTORY;
        copy_field(q.u.history.account, sizeof(q.u.history.account), "account",
                   argv[optind], tb_account_check, 0);
        q.u.history.before = TB_SEQ_LATEST;
        q.u.history.limit = (uint16_t)limit;
        call(cli, &q);
        check_status(cli, 0);
        if (cli->json) {
                printf("{\"account\":");
                json_str(stdout, q.u.history.account,
                         strlen(q.u.history.account));
                printf(",\"next_before\":%" PRIu64 ",\"entries\":[",
                       h->next_before);
        } else
                printf("%8s  %-20s  %-8s  %8s  %8s  %s\n", "seq", "received",
                       "kind", "points", "balance", "what");
        for (unsigned i = 0; i < h->count; i++) {
                const struct tb_history_item *it = &h->items[i];
                struct tb_record rec;
                char when[32], what[512];

                if (tb_record_decode(it->record, it->record_len, &rec) != TB_OK)
                        die(EX_OTHER,
                            "the daemon sent a malformed record "
                            "(seq %" PRIu64 ")",
                            it->seq);
                format_time(rec.received, when, sizeof(when));
                describe(&rec.entry, what, sizeof(what));
                if (cli->json) {
                        printf("%s{\"seq\":%" PRIu64 ",\"kind\":\"%s\","
                               "\"received\":\"%s\",\"points\":%" PRId64
                               ",\"balance\":%" PRIu64 ",\"what\":",
                               i ? "," : "", it->seq,
                               tb_kind_name(rec.entry.kind), when, it->delta,
                               it->balance_after);
                        json_str(stdout, what, strlen(what));
                        printf(",\"record\":");
                        json_b64(stdout, it->record, it->record_len);
                        printf("}");
                } else {
                        printf("%8" PRIu64 "  %-20s  %-8s  %+8" PRId64
                               "  %8" PRIu64 "  %s\n",
                               it->seq, when, tb_kind_name(rec.entry.kind),
                               it->delta, it->balance_after, what);
                }
        }
        if (cli->json)
                printf("]}\n");
        else if (h->next_before != 0)
                printf("(older entries exist: raise --limit)\n");
        return EX_DONE;
}

static int cmd_entry(struct cli *cli, int argc, char **argv)
{
        struct tb_request q;
        struct tb_record rec;
        char when[32], what[512], hex[2 * TB_PUBKEY_SIZE + 1];

        if (!no_options(argc, argv, 1))
                return EX_USAGE;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_ENTRY;
        q.u.entry.seq = parse_u64("SEQ", argv[optind], 0, TB_SEQ_MAX);
        call(cli, &q);
        check_status(cli, 0);
        if (tb_record_decode(cli->resp->u.entry.record,
                             cli->resp->u.entry.record_len, &rec) != TB_OK)
                die(EX_OTHER, "the daemon sent a malformed record");
        format_time(rec.received, when, sizeof(when));
        describe(&rec.entry, what, sizeof(what));
        sodium_bin2hex(hex, sizeof(hex), rec.entry.signer, TB_PUBKEY_SIZE);
        if (cli->json) {
                printf("{\"seq\":%" PRIu64 ",\"kind\":\"%s\",\"received\":"
                       "\"%s\",\"signer\":\"%s\",\"what\":",
                       rec.seq, tb_kind_name(rec.entry.kind), when, hex);
                json_str(stdout, what, strlen(what));
                printf(",\"record\":");
                json_b64(stdout, cli->resp->u.entry.record,
                         cli->resp->u.entry.record_len);
                printf("}\n");
        } else {
                printf("seq       %" PRIu64 "\nkind      %s\nreceived  %s\n"
                       "signer    %s\nwhat      %s\n",
                       rec.seq, tb_kind_name(rec.entry.kind), when, hex, what);
        }
        return EX_DONE;
}

static int cmd_status(struct cli *cli, int argc, char **argv)
{
        struct tb_request q;
        const struct tb_status_info *s = &cli->resp->u.status;

        if (!no_options(argc, argv, 0))
                return EX_USAGE;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_STATUS;
        call(cli, &q);
        check_status(cli, 0);
        if (cli->json) {
                printf("{\"origin\":");
                json_str(stdout, s->origin, strlen(s->origin));
                printf(",\"log_key\":");
                json_str(stdout, s->log_key, strlen(s->log_key));
                printf(",\"version\":");
                json_str(stdout, s->version, strlen(s->version));
                printf(",\"tree_size\":%" PRIu64 ",\"accounts\":%" PRIu64
                       ",\"keys_active\":%" PRIu64 ",\"keys_revoked\":%" PRIu64
                       ",\"disk_bytes\":%" PRIu64 ",\"map_bytes\":%" PRIu64
                       "}\n",
                       s->tree_size, s->accounts, s->keys_active,
                       s->keys_revoked, s->disk_bytes, s->map_bytes);
                return EX_DONE;
        }
        printf("origin        %s\nlog key       %s\ndaemon        %s\n"
               "entries       %" PRIu64 "\naccounts      %" PRIu64
               "\nkeys          %" PRIu64 " active, %" PRIu64 " revoked\n"
               "disk          %" PRIu64 " bytes (map %" PRIu64 ")\n",
               s->origin, s->log_key, s->version, s->tree_size, s->accounts,
               s->keys_active, s->keys_revoked, s->disk_bytes, s->map_bytes);
        return EX_DONE;
}

static int cmd_checkpoint(struct cli *cli, int argc, char **argv)
{
        struct tb_request q;

        if (!no_options(argc, argv, 0))
                return EX_USAGE;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_CHECKPOINT;
        call(cli, &q);
        check_status(cli, 0);
        if (cli->json) {
                printf("{\"checkpoint\":");
                json_str(stdout, (const char *)cli->resp->u.checkpoint.note,
                         cli->resp->u.checkpoint.note_len);
                printf("}\n");
        } else if (fwrite(cli->resp->u.checkpoint.note, 1,
                          cli->resp->u.checkpoint.note_len,
                          stdout) != cli->resp->u.checkpoint.note_len) {
                die(EX_OTHER, "writing the checkpoint: %s", strerror(errno));
        }
        return EX_DONE;
}

/*
 * The log's verifier key: from --log-key FILE if given (what an auditor
 * does), else as the daemon reports it (which only proves consistency
 * with what the daemon says).
 */
static void log_vkey(struct cli *cli, const char *path, struct tb_vkey *v)
{
        struct tb_request q;
        const char *s;

        if (path != NULL) {
                load_public(path, v);
                return;
        }
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_STATUS;
        call(cli, &q);
        check_status(cli, 0);
        s = cli->resp->u.status.log_key;
        if (tb_vkey_parse(s, strlen(s), v) != TB_OK)
                die(EX_OTHER, "the daemon reported a malformed log key");
}

static int cmd_prove(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"size", 1, NULL, OPT_SIZE},
                                             {"log-key", 1, NULL, 'K'},
                                             {NULL, 0, NULL, 0}};
        struct tb_request q;
        struct tb_vkey v;
        struct tb_checkpoint cp;
        const struct tb_proof *p = &cli->resp->u.proof;
        const char *keypath = NULL;
        uint8_t leaf[TB_HASH_SIZE];
        enum tb_err err;
        int c;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_INCLUSION;
        while ((c = getopt_long(argc, argv, "K:", opts, NULL)) != -1) {
                if (c == OPT_SIZE)
                        q.u.inclusion.size =
                            parse_u64("--size", optarg, 1, TB_SEQ_MAX);
                else if (c == 'K')
                        keypath = optarg;
                else
                        return EX_USAGE;
        }
        if (optind + 1 != argc)
                return EX_USAGE;
        q.u.inclusion.index = parse_u64("SEQ", argv[optind], 0, TB_SEQ_MAX);
        log_vkey(cli, keypath, &v);
        call(cli, &q);
        check_status(cli, 0);
        if (p->checkpoint_len == 0)
                die(EX_OTHER,
                    "no checkpoint was issued at tree size %" PRIu64
                    ": pick a size from a checkpoint (or omit --size)",
                    p->size);
        err = tb_checkpoint_open(p->checkpoint, p->checkpoint_len, v.name, &v,
                                 &cp);
        if (err != TB_OK)
                die(EX_OTHER,
                    "the checkpoint does not verify with log key "
                    "%s: %s",
                    v.name, tb_strerror(err));
        tb_merkle_leaf_hash(p->record, p->record_len, leaf);
        if (cp.size != p->size ||
            (err = tb_merkle_verify_inclusion(p->index, p->size, leaf,
                                              (const uint8_t(*)[32])p->hashes,
                                              p->count, cp.root)) != TB_OK)
                die(EX_OTHER, "the inclusion proof does NOT verify: %s",
                    tb_strerror(err != TB_OK ? err : TB_E_PROOF));
        if (cli->json) {
                printf("{\"index\":%" PRIu64 ",\"size\":%" PRIu64
                       ",\"leaf_hash\":",
                       p->index, p->size);
                json_b64(stdout, leaf, sizeof(leaf));
                printf(",\"entry\":");
                json_b64(stdout, p->record, p->record_len);
                printf(",\"hashes\":[");
                for (unsigned i = 0; i < p->count; i++) {
                        printf(i ? "," : "");
                        json_b64(stdout, p->hashes[i], TB_HASH_SIZE);
                }
                printf("],\"checkpoint\":");
                json_str(stdout, (const char *)p->checkpoint,
                         p->checkpoint_len);
                printf(",\"verified\":true}\n");
                return EX_DONE;
        }
        printf("entry %" PRIu64 " is included in the tree of size %" PRIu64
               " (verified: checkpoint signed by %s, %u proof hashes)\n",
               p->index, p->size, v.name, p->count);
        for (unsigned i = 0; i < p->count; i++) {
                char b64[TB_B64_LEN(TB_HASH_SIZE) + 1];
                if (tb_b64_encode(p->hashes[i], TB_HASH_SIZE, b64, sizeof(b64),
                                  NULL) != TB_OK)
                        die(EX_OTHER, "internal error: base64");
                printf("  %s\n", b64);
        }
        fwrite(p->checkpoint, 1, p->checkpoint_len, stdout);
        return EX_DONE;
}

/* A signed checkpoint from a file (as `timebank checkpoint` wrote it). */
static size_t read_checkpoint(const char *path, uint8_t *buf, size_t cap)
{
        FILE *f = fopen(path, "rb");
        size_t n;

        if (f == NULL)
                die(EX_OTHER, "cannot read %s: %s", path, strerror(errno));
        n = fread(buf, 1, cap, f);
        if (ferror(f) || !feof(f)) {
                fclose(f);
                die(EX_OTHER,
                    "%s: not a checkpoint (unreadable or larger "
                    "than %zu bytes)",
                    path, cap);
        }
        fclose(f);
        return n;
}

/*
 * With --from: the auditor's question "is today's log an extension of the
 * one I saw?".  Both checkpoints must verify with the log key and the
 * consistency proof must link their roots.
 */
static void verify_consistency(struct cli *cli, const char *from,
                               const char *keypath, struct tb_request *q,
                               uint8_t *newcp, size_t *newcp_len)
{
        uint8_t oldcp[TB_CHECKPOINT_MAX];
        struct tb_checkpoint a, b;
        struct tb_vkey v;
        enum tb_err err;
        size_t n = read_checkpoint(from, oldcp, sizeof(oldcp));
        struct tb_request cq;

        log_vkey(cli, keypath, &v);
        if ((err = tb_checkpoint_open(oldcp, n, v.name, &v, &a)) != TB_OK)
                die(EX_OTHER, "%s does not verify with log key %s: %s", from,
                    v.name, tb_strerror(err));
        if (a.size == 0)
                die(EX_USAGE, "%s is the empty tree: every log extends it",
                    from);
        memset(&cq, 0, sizeof(cq));
        cq.type = TB_MSG_CHECKPOINT;
        call(cli, &cq);
        check_status(cli, 0);
        *newcp_len = cli->resp->u.checkpoint.note_len;
        memcpy(newcp, cli->resp->u.checkpoint.note, *newcp_len);
        if ((err = tb_checkpoint_open(newcp, *newcp_len, v.name, &v, &b)) !=
            TB_OK)
                die(EX_OTHER,
                    "the daemon's checkpoint does not verify with "
                    "log key %s: %s",
                    v.name, tb_strerror(err));
        if (b.size < a.size)
                die(EX_OTHER,
                    "the log shrank: the daemon's checkpoint has "
                    "size %" PRIu64 ", %s has %" PRIu64,
                    b.size, from, a.size);
        q->u.consistency.old_size = a.size;
        q->u.consistency.size = b.size;
        call(cli, q);
        check_status(cli, 0);
        err = tb_merkle_verify_consistency(
            a.size, a.root, b.size, b.root,
            (const uint8_t(*)[32])cli->resp->u.proof.hashes,
            cli->resp->u.proof.count);
        if (err != TB_OK)
                die(EX_OTHER,
                    "the log of size %" PRIu64 " is NOT consistent "
                    "with %s (size %" PRIu64 "): %s",
                    b.size, from, a.size, tb_strerror(err));
}

static int cmd_consistency(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"from", 1, NULL, 'F'},
                                             {"log-key", 1, NULL, 'K'},
                                             {NULL, 0, NULL, 0}};
        struct tb_request q;
        const struct tb_proof *p = &cli->resp->u.proof;
        const char *from = NULL, *keypath = NULL;
        uint8_t newcp[TB_CHECKPOINT_MAX];
        size_t newcp_len = 0;
        int c;

        while ((c = getopt_long(argc, argv, "F:K:", opts, NULL)) != -1) {
                if (c == 'F')
                        from = optarg;
                else if (c == 'K')
                        keypath = optarg;
                else
                        return EX_USAGE;
        }
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_CONSISTENCY;
        if (from != NULL) {
                if (optind != argc)
                        return EX_USAGE;
                verify_consistency(cli, from, keypath, &q, newcp, &newcp_len);
        } else {
                if (keypath != NULL || argc - optind < 1 || argc - optind > 2)
                        return EX_USAGE;
                q.u.consistency.old_size =
                    parse_u64("M", argv[optind], 1, TB_SEQ_MAX);
                if (argc - optind == 2)
                        q.u.consistency.size =
                            parse_u64("N", argv[optind + 1], 1, TB_SEQ_MAX);
                call(cli, &q);
                check_status(cli, 0);
        }
        if (cli->json) {
                printf("{\"old_size\":%" PRIu64 ",\"size\":%" PRIu64
                       ",\"hashes\":[",
                       p->index, p->size);
                for (unsigned i = 0; i < p->count; i++) {
                        printf(i ? "," : "");
                        json_b64(stdout, p->hashes[i], TB_HASH_SIZE);
                }
                printf("]");
                if (from != NULL) {
                        printf(",\"checkpoint\":");
                        json_str(stdout, (const char *)newcp, newcp_len);
                        printf(",\"verified\":true");
                }
                printf("}\n");
                return EX_DONE;
        }
        if (from != NULL)
                printf("the log at tree size %" PRIu64 " is consistent with "
                       "%s (tree size %" PRIu64 "): verified, both "
                       "checkpoints signed by the log key\n",
                       p->size, from, p->index);
        printf("consistency proof from tree size %" PRIu64 " to %" PRIu64
               " (%u hashes)\n",
               p->index, p->size, p->count);
        for (unsigned i = 0; i < p->count; i++) {
                char b64[TB_B64_LEN(TB_HASH_SIZE) + 1];
                if (tb_b64_encode(p->hashes[i], TB_HASH_SIZE, b64, sizeof(b64),
                                  NULL) != TB_OK)
                        die(EX_OTHER, "internal error: base64");
                printf("  %s\n", b64);
        }
        if (from != NULL && fwrite(newcp, 1, newcp_len, stdout) != newcp_len)
                die(EX_OTHER, "writing the checkpoint: %s", strerror(errno));
        return EX_DONE;
}

/* ---- the table ---------------------------------------------------------- */

static const struct command commands[] = {
    {"keygen", cmd_keygen, "keygen NAME -o FILE",
     "create a key pair: FILE (secret, mode 0600) and FILE.pub; print the "
     "public key"},
    {"enroll", cmd_enroll,
     "enroll -k ADMIN.key TERMINAL.pub --role record[,redeem,admin]",
     "enroll a terminal key with its roles (admin)"},
    {"revoke", cmd_revoke, "revoke -k ADMIN.key TERMINAL.pub [--note TEXT]",
     "revoke a terminal key (admin)"},
    {"policy", cmd_policy,
     "policy -k ADMIN.key [--points-per-hour N [--activity CODE]] "
     "[--daily-minutes-cap M] [--max-balance P]",
     "set the points per hour (default or per activity) and the caps; 0 "
     "means no cap (admin)"},
    {"register", cmd_register, "register -k KEY ACCOUNT",
     "open a volunteer account (record)"},
    {"record", cmd_record,
     "record -k KEY ACCOUNT --minutes M [--start ISO8601] [--activity CODE] "
     "[--note TEXT]",
     "record minutes of service; the start defaults to M minutes ago "
     "(record)"},
    {"redeem", cmd_redeem,
     "redeem -k KEY ACCOUNT --points P --item CODE [--note TEXT]",
     "spend points on an item or service (redeem)"},
    {"transfer", cmd_transfer,
     "transfer -k KEY FROM TO --points P [--note TEXT]",
     "move points to another account, e.g. family (redeem)"},
    {"reverse", cmd_reverse, "reverse -k KEY SEQ [--note TEXT]",
     "undo a service, redeem or transfer (admin, or the terminal that "
     "wrote it)"},
    {"balance", cmd_balance, "balance ACCOUNT", "show an account's balance"},
    {"history", cmd_history, "history ACCOUNT [--limit N]",
     "show an account's entries, newest first"},
    {"entry", cmd_entry, "entry SEQ", "show one log entry"},
    {"status", cmd_status, "status", "show the ledger's status"},
    {"checkpoint", cmd_checkpoint, "checkpoint",
     "print the latest signed checkpoint, byte for byte"},
    {"prove", cmd_prove, "prove SEQ [--size N] [--log-key LOG.pub]",
     "fetch and verify the inclusion proof of an entry"},
    {"consistency", cmd_consistency,
     "consistency M [N] | consistency --from OLD.checkpoint [--log-key "
     "LOG.pub]",
     "fetch the consistency proof between tree sizes M and N (default: "
     "latest); with --from, prove that today's log extends a checkpoint saved "
     "earlier (both signatures and the proof verified)"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
        fprintf(f,
                "usage: %s [-s SOCKET] [--json] [--timeout SECONDS] COMMAND "
                "[ARGS]\n\n"
                "Every write also takes --request-id HEX (32 hex digits, "
                "default random) so a retry is safe.\n"
                "The socket defaults to $TIMEBANK_SOCKET, else %s.\n\n"
                "commands:\n",
                progname, TB_SOCKET_DEFAULT);
        for (size_t i = 0; i < NCOMMANDS; i++)
                fprintf(f, "  %s\n      %s\n", commands[i].usage,
                        commands[i].help);
        fprintf(f, "\nexit status: 0 done (also DUPLICATE), 1 refused by a "
                   "ledger rule, 2 usage, 3 daemon unreachable, 4 other "
                   "error\n");
}

/* Print s for roff: escape backslashes and dashes, guard a leading dot. */
static void roff(const char *s)
{
        if (*s == '.' || *s == '\'')
                fputs("\\&", stdout);
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\e", stdout);
                else if (*s == '-')
                        fputs("\\-", stdout);
                else
                        putchar(*s);
        }
}

/* The man page, from the same table as --help (installed as timebank.1). */
static void man_page(void)
{
        printf(
            ".TH TIMEBANK 1 \"\" \"timebank %s\" \"timebank\"\n"
            ".SH NAME\ntimebank \\- client of the timebankd volunteer "
            "time-bank ledger\n"
            ".SH SYNOPSIS\n.B timebank\n[\\fB\\-s\\fR \\fISOCKET\\fR] "
            "[\\fB\\-\\-json\\fR] [\\fB\\-\\-timeout\\fR \\fISECONDS\\fR] "
            "\\fICOMMAND\\fR [\\fIARGS\\fR]\n"
            ".SH DESCRIPTION\n"
            "timebank talks to timebankd over its Unix socket: community "
            "terminals record volunteers' service, redemption counters "
            "spend and transfer points, administrators enroll keys and set "
            "the policy, auditors fetch and verify checkpoints and proofs. "
            "Writes are signed with the terminal's key (\\fBtimebank "
            "keygen\\fR) and carry a request id, so a retry with the same "
            "\\fB\\-\\-request\\-id\\fR is never recorded twice.\n"
            ".SH OPTIONS\n"
            ".TP\n\\fB\\-s\\fR, \\fB\\-\\-socket\\fR \\fIPATH\\fR\n"
            "the daemon's socket (default: $TIMEBANK_SOCKET, else %s)\n"
            ".TP\n\\fB\\-\\-json\\fR\none JSON object on standard output "
            "instead of text\n"
            ".TP\n\\fB\\-\\-timeout\\fR \\fISECONDS\\fR\nhow long to wait for "
            "the daemon (default 30)\n"
            ".TP\n\\fB\\-\\-request\\-id\\fR \\fIHEX\\fR\n(every write) 32 hex "
            "digits identifying the request; default random\n"
            ".SH COMMANDS\n",
            TIMEBANK_VERSION, TB_SOCKET_DEFAULT);
        for (size_t i = 0; i < NCOMMANDS; i++) {
                printf(".TP\n.B ");
                roff(commands[i].usage);
                printf("\n");
                roff(commands[i].help);
                printf("\n");
        }
        printf(
            ".SH EXIT STATUS\n"
            ".TP\n0\ndone (also DUPLICATE: the request was already "
            "recorded, nothing new was written)\n"
            ".TP\n1\nrefused by a ledger rule (the status name and a "
            "sentence are printed on standard error)\n"
            ".TP\n2\nusage error\n"
            ".TP\n3\nthe daemon is unreachable\n"
            ".TP\n4\nany other error\n"
            ".SH ENVIRONMENT\n.TP\nTIMEBANK_SOCKET\nthe default socket path\n"
            ".SH SEE ALSO\ntimebankd(8); docs/cli.md, docs/protocol.md and "
            "docs/ledger-format.md in the source tree\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"socket", 1, NULL, 's'},  {"json", 0, NULL, 'j'},
            {"timeout", 1, NULL, 't'}, {"help", 0, NULL, 'h'},
            {"version", 0, NULL, 'V'}, {"man", 0, NULL, 'M'},
            {NULL, 0, NULL, 0}};
        struct cli cli;
        int c, rc;

        memset(&cli, 0, sizeof(cli));
        cli.socket = getenv("TIMEBANK_SOCKET");
        if (cli.socket == NULL || cli.socket[0] == 0)
                cli.socket = TB_SOCKET_DEFAULT;
        cli.timeout_ms = 30000;
        while ((c = getopt_long(argc, argv, "+s:jt:hV", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        cli.socket = optarg;
                        break;
                case 'j':
                        cli.json = 1;
                        break;
                case 't':
                        cli.timeout_ms =
                            1000 *
                            (int)parse_u64("--timeout", optarg, 1, 86400);
                        break;
                case 'h':
                        usage(stdout);
                        return EX_DONE;
                case 'V':
                        printf("timebank %s\n", TIMEBANK_VERSION);
                        return EX_DONE;
                case 'M':
                        man_page();
                        return EX_DONE;
                default:
                        usage(stderr);
                        return EX_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return EX_USAGE;
        }
        if (sodium_init() < 0)
                die(EX_OTHER, "cannot initialise libsodium");
        const char *name = argv[optind];
        for (size_t i = 0; i < NCOMMANDS; i++) {
                if (strcmp(commands[i].name, name) != 0)
                        continue;
                if ((cli.resp = malloc(sizeof(*cli.resp))) == NULL)
                        die(EX_OTHER, "out of memory");
                argc -= optind;
                argv += optind;
                optind = 0; /* GNU getopt: 0 re-initialises */
                for (int a = 1; a < argc; a++)
                        if (strcmp(argv[a], "--help") == 0 ||
                            strcmp(argv[a], "-h") == 0) {
                                printf("usage: %s %s\n  %s\n", progname,
                                       commands[i].usage, commands[i].help);
                                free(cli.resp);
                                return EX_DONE;
                        }
                rc = commands[i].run(&cli, argc, argv);
                if (rc == EX_USAGE)
                        fprintf(stderr, "usage: %s %s\n", progname,
                                commands[i].usage);
                tb_client_close(cli.conn);
                free(cli.resp);
                return rc;
        }
        fprintf(stderr, "%s: unknown command '%s'\n", progname, name);
        usage(stderr);
        return EX_USAGE;
}
