/*
 * client/cli.h - the timebank command-line client, inside.
 *
 * The CLI is a table of commands (cli_table.c).  Each entry carries its
 * argument spec: which options the command takes, which of them it cannot
 * do without, and how many arguments follow.  main (cli_main.c) parses the
 * global options, finds the command, parses the command's options once
 * against that spec (cli_args.c) and applies the options every write
 * shares (cli_write.c), so a handler only builds its request and prints its
 * result.  Every result is printed from one field list (cli_out.c) that
 * gives both the text for people and the --json object.
 *
 * The families of handlers: keys (cli_key.c), ledger writes (cli_write.c),
 * reads (cli_read.c), proofs (cli_proof.c).  The daemon is reached through
 * cli_call.c.  --help and the man page (client/timebank.1.in with the
 * command and option tables filled in) come from the same tables.
 *
 * Errors are err()-style exits with the exit statuses of proto/exit.h
 * (docs/cli.md): a function documented as "exits" never returns on failure.
 */
#ifndef TB_CLI_H
#define TB_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "exit.h"
#include "note.h"
#include "timebank.h"

#define CLI_PROG            "timebank"
#define CLI_TIMEOUT_DEFAULT 30 /* seconds: --timeout */

/* ---- options (cli_table.c holds their table, in this order) ------------ */

enum cli_opt {
        /* global: before the command */
        CLI_OPT_SOCKET,
        CLI_OPT_JSON,
        CLI_OPT_TIMEOUT,
        CLI_OPT_HELP,
        CLI_OPT_VERSION,
        CLI_OPT_MAN,
        CLI_OPT_COMPLETION,
        /* the commands' */
        CLI_OPT_KEY,
        CLI_OPT_REQUEST_ID,
        CLI_OPT_NOTE,
        CLI_OPT_OUTPUT,
        CLI_OPT_ROLE,
        CLI_OPT_POINTS_PER_HOUR,
        CLI_OPT_ACTIVITY,
        CLI_OPT_DAILY_MINUTES_CAP,
        CLI_OPT_MAX_BALANCE,
        CLI_OPT_MINUTES,
        CLI_OPT_START,
        CLI_OPT_POINTS,
        CLI_OPT_ITEM,
        CLI_OPT_LIMIT,
        CLI_OPT_SIZE,
        CLI_OPT_LOG_KEY,
        CLI_OPT_FROM,
        CLI_OPT_TILES,          /* audit */
        CLI_OPT_SINCE,          /* audit */
        CLI_OPT_BALANCES,       /* audit */
        CLI_OPT_HTML,           /* audit */
        CLI_OPT_CSV,            /* export */
        CLI_OPT_SLIP,           /* receipt */
        CLI_OPT_PNG,            /* receipt */
        CLI_OPT_CHECKPOINT,     /* verify-receipt */
        CLI_OPT_ONLINE,         /* verify-receipt */
        CLI_OPT_OLD_LOG_KEY,    /* link-logs, verify-link */
        CLI_OPT_OLD_CHECKPOINT, /* link-logs */
        CLI_OPT_NEW_CHECKPOINT, /* link-logs */
        CLI_OPT_ADMIN_KEY,      /* verify-link */
        CLI_OPT_OLD_TILES,      /* verify-link */
        CLI_OPT_COUNT
};

#define CLI_OPT_BIT(o) (UINT64_C(1) << (o))
_Static_assert(CLI_OPT_COUNT <= 64, "option sets are 64-bit masks");

/*
 * The global options; the options of the write family: every write takes
 * the key and a request id, and those whose entries carry a note --note
 * (the others refuse it by name).
 */
#define CLI_OPTS_GLOBAL (CLI_OPT_BIT(CLI_OPT_KEY) - 1)
#define CLI_OPTS_WRITE                                                         \
        (CLI_OPT_BIT(CLI_OPT_KEY) | CLI_OPT_BIT(CLI_OPT_REQUEST_ID) |          \
         CLI_OPT_BIT(CLI_OPT_NOTE))

struct cli_option {
        const char *name;  /* --name */
        char letter;       /* -letter, or 0 */
        const char *value; /* what follows it in help texts; NULL: a flag */
        uint64_t min, max; /* max != 0: a whole number from min to max */
        const char *help;  /* listed in the man page's OPTIONS, or NULL */
};

extern const struct cli_option cli_table_options[CLI_OPT_COUNT];

/* What the parser made of one command line (cli_args_parse). */
struct cli_args {
        const char *value[CLI_OPT_COUNT]; /* as given ("" for a flag), or
                                             NULL if not given */
        uint64_t num[CLI_OPT_COUNT];      /* the number, for numeric ones */
        int argc;                         /* the arguments after the options */
        char **argv;
};

/* ---- the command table (cli_table.c) ------------------------------------ */

struct cli;

struct cli_args_spec {
        uint64_t takes;   /* CLI_OPT_BIT()s of the options it accepts */
        uint64_t needs;   /* of those, the ones it cannot do without */
        int lower, upper; /* how many arguments */
};

struct cli_command {
        const char *name;
        /* The exit status; TB_EXIT_USAGE has main print the usage line. */
        int (*run)(struct cli *cli, const struct cli_args *a);
        struct cli_args_spec args;
        const char *usage; /* after the program's name */
        const char *help;
        /* What the arguments name, for the shell's completion: 0 words to
         * type, or CLI_ARG_FILE / CLI_ARG_DIR. */
        int arg_kind;
};

#define CLI_ARG_FILE 1
#define CLI_ARG_DIR  2

/* The command called name, or NULL. */
const struct cli_command *cli_table_find(const char *name);

/* The general usage: synopsis, every command's usage and help. */
void cli_table_help(FILE *f);

/* One command's usage line and help (`timebank COMMAND --help`). */
void cli_table_help_command(FILE *f, const struct cli_command *c);

/* The man page: client/timebank.1.in with the tables filled in. Exits. */
void cli_table_man(void);

/* The bash completion script, from the tables (installed as
 * /usr/share/bash-completion/completions/timebank). Exits. */
void cli_table_completion(void);

/* ---- the command line (cli_args.c) -------------------------------------- */

/*
 * Parse the options of argv[1..] with getopt_long: those in offered are
 * recognised, those in takes accepted.  in_order stops at the first
 * argument (the global options end at the command); otherwise options and
 * arguments may mix.  Exits (usage) on an option offered but not taken
 * ("NAME takes no --OPTION", NAME being argv[0]) and on a number out of
 * its option's range.  Returns 0, or -1 after getopt's message.
 */
int cli_args_parse(int argc, char **argv, uint64_t offered, uint64_t takes,
                   int in_order, struct cli_args *a);

/*
 * Check a parsed command line against a command's spec: the options it
 * needs and the number of arguments.  Returns 0, or -1 after a message.
 */
int cli_args_check(const struct cli_command *c, const struct cli_args *a);

/* 1 if argv[1..] asks for help (-h or --help anywhere). */
int cli_args_wants_help(int argc, char **argv);

/* s as a whole number from min to max.  Exits (usage) naming it what. */
uint64_t cli_args_u64(const char *what, const char *s, uint64_t min,
                      uint64_t max);

/*
 * Copy s into dst (cap bytes) once check accepts it.  Exits (usage) naming
 * it what: "what 's': why", or "what is too long".
 */
void cli_args_copy(char *dst, size_t cap, const char *what, const char *s,
                   enum tb_err (*check)(const char *, size_t));

/* ---- the client's state and the daemon (cli_main.c, cli_call.c) --------- */

/* The options every write shares, applied by main (cli_write_options). */
struct cli_write {
        const char *key;     /* -k: the signing key's file */
        const char *note;    /* --note, checked, or NULL */
        const char *log_key; /* --log-key, or NULL: the pinned key's */
        uint8_t request_id[TB_REQUEST_ID_SIZE];
        int have_request_id;
};

struct cli {
        const char *socket;
        int json;
        int timeout_ms;
        struct tb_client *conn;
        struct tb_response *resp;                    /* large: heap */
        char request_id[2 * TB_REQUEST_ID_SIZE + 1]; /* of a write, or "" */
        struct cli_write write;
};

/*
 * A whole small file (a receipt, a saved checkpoint) into buf[0..cap): its
 * length.  Exits with code, naming path and what it should have been, if
 * the file is missing, unreadable or longer than cap bytes.
 */
size_t cli_read_file(const char *path, const char *what, uint8_t *buf,
                     size_t cap, int code);

/*
 * p[0..n) into a new file at path, mode 0644, made durable (fsync): never
 * over an existing file.  Exits (TB_EXIT_OTHER) naming path on any error,
 * leaving no partial file.
 */
void cli_write_new_file(const char *path, const uint8_t *p, size_t n);

/* "timebank: " fmt on standard error, then exit with code. */
void cli_die(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* Connect to the daemon unless connected.  Exits (unreachable). */
void cli_call_connect(struct cli *cli);

/*
 * Send q, wait for the answer into cli->resp and check its status: exits
 * unless it is OK (cli_call_check).
 */
void cli_call(struct cli *cli, struct tb_request *q);

/* cli_call for a request with no body but its type, such as STATUS. */
void cli_call_type(struct cli *cli, unsigned type);

/*
 * Exit with the daemon's status, explained, unless it is OK (or DUPLICATE
 * with allow_duplicate): 1 for a ledger rule's refusal, 4 otherwise.  With
 * --json the status is also printed as a JSON object on standard output.
 */
void cli_call_check(struct cli *cli, int allow_duplicate);

/*
 * Exit after a transport error err: 3 when the daemon went away or timed
 * out, 4 otherwise; a write's request id is named for a safe retry.
 */
void cli_call_fail(struct cli *cli, enum tb_err err) __attribute__((noreturn));

/* ---- keys (cli_key.c) --------------------------------------------------- */

/* The secret key in the file at path.  Exits (other error). */
struct tb_skey *cli_key_secret(const char *path);

/* The public key in the file at path into k.  Exits (other error). */
void cli_key_public(const char *path, struct tb_vkey *k);

/* ---- writes (cli_write.c) ----------------------------------------------- */

/* Apply the shared write options of a into cli->write.  Exits (usage). */
void cli_write_options(struct cli *cli, const struct cli_args *a);

/* ---- results (cli_out.c) ------------------------------------------------ */

enum cli_out_type {
        CLI_OUT_U64,
        CLI_OUT_I64,    /* text: "{name:+}" shows the sign */
        CLI_OUT_TEXT,   /* bytes of text: a JSON string; as is in text */
        CLI_OUT_B64,    /* bytes: base64 in both */
        CLI_OUT_BOOL,   /* JSON true or false */
        CLI_OUT_HASHES, /* a JSON array of base64; text: one a line, indented */
        CLI_OUT_ROWS,   /* a JSON array of objects; text: a line each */
};

#define CLI_OUT_TEXT_ONLY 1 /* a field for the text, not in the JSON */
#define CLI_OUT_ROW_MAX   8 /* fields in a row */

struct cli_out_field;

/* Fills row i's fields (at most CLI_OUT_ROW_MAX), returns how many. */
typedef size_t (*cli_out_row_cb)(void *ctx, size_t i,
                                 struct cli_out_field *row);

struct cli_out_field {
        const char *name;
        enum cli_out_type type;
        unsigned flags;
        union {
                uint64_t u;
                int64_t i;
                struct {
                        const void *p;
                        size_t len;
                } bytes;
                struct {
                        const uint8_t (*hash)[TB_HASH_SIZE];
                        size_t count;
                } hashes;
                struct {
                        size_t count;
                        cli_out_row_cb cb;
                        void *ctx;
                        const char *text; /* the template of a row */
                } rows;
        } v;
};

#define CLI_U64(n, x)                                                          \
        {                                                                      \
                .name = (n), .type = CLI_OUT_U64, .v.u = (x)                   \
        }
#define CLI_I64(n, x)                                                          \
        {                                                                      \
                .name = (n), .type = CLI_OUT_I64, .v.i = (x)                   \
        }
#define CLI_BOOL(n, x)                                                         \
        {                                                                      \
                .name = (n), .type = CLI_OUT_BOOL, .v.u = (x)                  \
        }
#define CLI_BYTES(n, p, len)                                                   \
        {                                                                      \
                .name = (n), .type = CLI_OUT_TEXT, .v.bytes = {(p), (len) }    \
        }
#define CLI_STR(n, s) CLI_BYTES(n, s, strlen(s))
#define CLI_B64(n, p, len)                                                     \
        {                                                                      \
                .name = (n), .type = CLI_OUT_B64, .v.bytes = {(p), (len) }     \
        }
#define CLI_HASHES(n, h, count)                                                \
        {                                                                      \
                .name = (n), .type = CLI_OUT_HASHES, .v.hashes = {             \
                        (h),                                                   \
                        (count)                                                \
                }                                                              \
        }
#define CLI_ROWS(n, count, cb, ctx, text)                                      \
        {                                                                      \
                .name = (n), .type = CLI_OUT_ROWS, .v.rows = {                 \
                        (count),                                               \
                        (cb),                                                  \
                        (ctx),                                                 \
                        (text)                                                 \
                }                                                              \
        }
#define CLI_TEXT_U64(n, x)                                                     \
        {                                                                      \
                .name = (n), .type = CLI_OUT_U64, .flags = CLI_OUT_TEXT_ONLY,  \
                .v.u = (x)                                                     \
        }
#define CLI_TEXT_STR(n, s)                                                     \
        {                                                                      \
                .name = (n), .type = CLI_OUT_TEXT, .flags = CLI_OUT_TEXT_ONLY, \
                .v.bytes = {                                                   \
                        (s),                                                   \
                        strlen(s)                                              \
                }                                                              \
        }

/*
 * Print a result on standard output: with json, the n fields but the
 * text-only ones as one JSON object on a line; else the template text, in
 * which "{name}" stands for a field's value, "{name:SPEC}" pads or signs it
 * as printf's flags and width would (-, +, 0, width), and "{?name}...{/}"
 * is kept only if the field is non-zero or non-empty.  Exits (other error)
 * if standard output cannot be written.
 */
void cli_out_print(int json, const struct cli_out_field *f, size_t n,
                   const char *text);

#define CLI_OUT(cli, fields, text)                                             \
        cli_out_print((cli)->json, (fields),                                   \
                      sizeof(fields) / sizeof((fields)[0]), (text))

/* ---- the handlers ------------------------------------------------------- */

int cli_key_keygen(struct cli *cli, const struct cli_args *a);
int cli_write_enroll(struct cli *cli, const struct cli_args *a);
int cli_write_revoke(struct cli *cli, const struct cli_args *a);
int cli_write_policy(struct cli *cli, const struct cli_args *a);
int cli_write_register(struct cli *cli, const struct cli_args *a);
int cli_write_record(struct cli *cli, const struct cli_args *a);
int cli_write_redeem(struct cli *cli, const struct cli_args *a);
int cli_write_transfer(struct cli *cli, const struct cli_args *a);
int cli_write_reverse(struct cli *cli, const struct cli_args *a);
int cli_read_balance(struct cli *cli, const struct cli_args *a);
int cli_read_history(struct cli *cli, const struct cli_args *a);
int cli_read_entry(struct cli *cli, const struct cli_args *a);
int cli_read_status(struct cli *cli, const struct cli_args *a);
int cli_read_checkpoint(struct cli *cli, const struct cli_args *a);
int cli_metrics_run(struct cli *cli, const struct cli_args *a);
int cli_proof_prove(struct cli *cli, const struct cli_args *a);
int cli_proof_consistency(struct cli *cli, const struct cli_args *a);
int cli_export_run(struct cli *cli, const struct cli_args *a);
int cli_audit_run(struct cli *cli, const struct cli_args *a);
/* `timebank export --csv FILE`: the audit, then one row per entry. */
int cli_audit_csv(struct cli *cli, const struct cli_args *a);

int cli_link_make(struct cli *cli, const struct cli_args *a);
int cli_link_verify(struct cli *cli, const struct cli_args *a);

int cli_receipt_make(struct cli *cli, const struct cli_args *a);
int cli_receipt_verify(struct cli *cli, const struct cli_args *a);

/*
 * The 32-column slip of the verified receipt text[0..len) (its record
 * rec, its checkpoint cp) on standard output, with the receipt as a QR
 * code: into the new PNG file png if not NULL, else drawn with UTF-8 half
 * blocks.  Points and balance are asked of the daemon (the account's
 * history at the entry).  Returns the exit status; exits on errors.
 */
int cli_slip_print(struct cli *cli, const uint8_t *text, size_t len,
                   const struct tb_record *rec, const struct tb_checkpoint *cp,
                   const char *png);

/* ---- the pinned log key (cli_trust.c) ----------------------------------- */

/*
 * The log key the client trusts into *v: path (--log-key, may be NULL),
 * else $TIMEBANK_LOG_KEY, else $XDG_CONFIG_HOME/timebank/log.pub
 * (~/.config/timebank/log.pub), else /etc/timebank/log.pub, the first that
 * is set or exists.  *from (may be NULL) gets the file's path.  Returns 1,
 * or 0 if none is pinned.  Exits (other) if the file chosen is unreadable
 * or not a verifier key.
 */
int cli_trust_key(const char *path, struct tb_vkey *v, const char **from);

/* cli_trust_key, or exit (usage) saying that `why` needs a pinned key. */
void cli_trust_need(const char *path, const char *why, struct tb_vkey *v);

/*
 * 1 if every line of p[0..len) is clean text (tb_text_clean: strict
 * UTF-8, no control characters, no bidi controls): what the daemon sends
 * reaches the terminal only then.
 */
int cli_trust_clean(const uint8_t *p, size_t len);

/*
 * Exit (untrusted) saying what the daemon reports (asked again with
 * STATUS) against the pinned key v.
 */
void cli_trust_untrusted(struct cli *cli, const struct tb_vkey *v)
    __attribute__((noreturn));

/* ---- export and audit (cli_export.c, cli_audit.c; client/tiles.h) ------- */

struct tiles_entries;

/*
 * The daemon's latest checkpoint into note[0..*note_len) (room for
 * TB_CHECKPOINT_MAX), opened with v into *cp, and its entries 0..size-1
 * appended to e (pipelined ENTRY reads).  Exits: refused (1) if the
 * checkpoint does not verify, and as cli_call does.
 */
void cli_export_fetch(struct cli *cli, const struct tb_vkey *v, uint8_t *note,
                      size_t *note_len, struct tb_checkpoint *cp,
                      struct tiles_entries *e);

struct tiles_tree;

/*
 * The log link published in the mirror tiles (its file log-link, if any),
 * for `audit --tiles`: it must open with the admin key the genesis of the
 * audited log (entries e, tree t, log key v) names, link to this log, both
 * its checkpoints verify, and this log at the link's new size have the
 * link's root.  Returns -1 (no link), 0 (msg says what it links), 1 (msg
 * says what is wrong).
 */
int cli_link_audit(const char *tiles, const struct tb_vkey *v,
                   const struct tiles_tree *t, const struct tiles_entries *e,
                   char *msg, size_t cap);

/* "timebank: what i/n" on standard error, only if it is a terminal. */
void cli_export_progress(const char *what, uint64_t i, uint64_t n);

#endif
