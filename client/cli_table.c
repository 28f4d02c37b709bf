/*
 * client/cli_table.c - the commands and their options, as tables: each
 * command's entry carries its argument spec, which cli_args.c reads, and
 * its usage and help, from which --help and the man page are made (the
 * man page's prose is client/timebank.1.in).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "timebank_1_in.h" /* generated: tb_man_page() */

#define O(o)          CLI_OPT_BIT(CLI_OPT_##o)
#define TABLE_STR(x)  TABLE_STR_(x)
#define TABLE_STR_(x) #x
#define WRITE         (O(KEY) | O(REQUEST_ID) | O(LOG_KEY))

const struct cli_option cli_table_options[CLI_OPT_COUNT] = {
    [CLI_OPT_SOCKET] = {"socket", 's', "PATH", 0, 0,
                        "the daemon's socket (default: $TIMEBANK_SOCKET, "
                        "else " TB_SOCKET_DEFAULT ")"},
    [CLI_OPT_JSON] = {"json", 'j', NULL, 0, 0,
                      "one JSON object on standard output instead of text"},
    [CLI_OPT_TIMEOUT] = {"timeout", 't', "SECONDS", 1, 86400,
                         "how long to wait for the daemon (default " TABLE_STR(
                             CLI_TIMEOUT_DEFAULT) ")"},
    [CLI_OPT_HELP] = {"help", 'h', NULL, 0, 0,
                      "print every command's usage and exit (after a command: "
                      "that command's)"},
    [CLI_OPT_VERSION] = {"version", 'V', NULL, 0, 0,
                         "print the version and exit"},
    [CLI_OPT_MAN] = {"man", 0, NULL, 0, 0,
                     "print this manual page (roff) and exit"},
    [CLI_OPT_COMPLETION] = {"completion", 0, NULL, 0, 0,
                            "print the bash completion script (generated "
                            "from these tables) and exit"},
    [CLI_OPT_KEY] = {"key", 'k', "KEYFILE", 0, 0, NULL},
    [CLI_OPT_REQUEST_ID] = {"request-id", 0, "HEX", 0, 0,
                            "(every write) 32 hex digits identifying the "
                            "request; default random"},
    [CLI_OPT_NOTE] = {"note", 0, "TEXT", 0, 0, NULL},
    [CLI_OPT_OUTPUT] = {"output", 'o', "FILE", 0, 0, NULL},
    [CLI_OPT_ROLE] = {"role", 0, "ROLES", 0, 0, NULL},
    [CLI_OPT_POINTS_PER_HOUR] = {"points-per-hour", 0, "N", 0, TB_RATE_MAX,
                                 NULL},
    [CLI_OPT_ACTIVITY] = {"activity", 0, "CODE", 0, 0, NULL},
    [CLI_OPT_DAILY_MINUTES_CAP] = {"daily-minutes-cap", 0, "M", 0,
                                   TB_MINUTES_MAX, NULL},
    [CLI_OPT_MAX_BALANCE] = {"max-balance", 0, "P", 0, TB_BALANCE_MAX, NULL},
    [CLI_OPT_MINUTES] = {"minutes", 0, "M", 1, TB_MINUTES_MAX, NULL},
    [CLI_OPT_START] = {"start", 0, "ISO8601", 0, 0, NULL},
    [CLI_OPT_POINTS] = {"points", 0, "P", 1, TB_POINTS_MAX, NULL},
    [CLI_OPT_ITEM] = {"item", 0, "CODE", 0, 0, NULL},
    [CLI_OPT_LIMIT] = {"limit", 0, "N", 1, TB_HISTORY_MAX, NULL},
    [CLI_OPT_SIZE] = {"size", 0, "N", 1, TB_SEQ_MAX, NULL},
    [CLI_OPT_LOG_KEY] = {"log-key", 'K', "LOG.pub", 0, 0, NULL},
    [CLI_OPT_FROM] = {"from", 'F', "OLD.checkpoint", 0, 0, NULL},
    [CLI_OPT_TILES] = {"tiles", 0, "DIR", 0, 0, NULL},
    [CLI_OPT_SINCE] = {"since", 0, "OLD.checkpoint", 0, 0, NULL},
    [CLI_OPT_BALANCES] = {"balances", 0, NULL, 0, 0, NULL},
    [CLI_OPT_HTML] = {"html", 0, "FILE", 0, 0, NULL},
    [CLI_OPT_CSV] = {"csv", 0, "FILE", 0, 0, NULL},
    [CLI_OPT_SLIP] = {"slip", 0, NULL, 0, 0, NULL},
    [CLI_OPT_PNG] = {"png", 0, "FILE", 0, 0, NULL},
    [CLI_OPT_CHECKPOINT] = {"checkpoint", 0, "NEWER", 0, 0, NULL},
    [CLI_OPT_ONLINE] = {"online", 0, NULL, 0, 0, NULL},
    [CLI_OPT_OLD_LOG_KEY] = {"old-log-key", 0, "OLD.pub", 0, 0, NULL},
    [CLI_OPT_OLD_CHECKPOINT] = {"old-checkpoint", 0, "FILE", 0, 0, NULL},
    [CLI_OPT_NEW_CHECKPOINT] = {"new-checkpoint", 0, "FILE", 0, 0, NULL},
    [CLI_OPT_ADMIN_KEY] = {"admin-key", 0, "ADMIN.pub", 0, 0, NULL},
    [CLI_OPT_OLD_TILES] = {"old-tiles", 0, "DIR", 0, 0, NULL},
};

static const struct cli_command table_commands[] = {
    {"keygen",
     cli_key_keygen,
     {O(OUTPUT), O(OUTPUT), 1, 1},
     "keygen NAME -o FILE",
     "create a key pair: FILE (secret, mode 0600) and FILE.pub; print the "
     "public key",
     0},
    {"enroll",
     cli_write_enroll,
     {WRITE | O(ROLE), O(KEY) | O(ROLE), 1, 1},
     "enroll -k ADMIN.key TERMINAL.pub --role record[,redeem,admin]",
     "enroll a terminal key with its roles (admin)",
     CLI_ARG_FILE},
    {"revoke",
     cli_write_revoke,
     {WRITE | O(NOTE), O(KEY), 1, 1},
     "revoke -k ADMIN.key TERMINAL.pub [--note TEXT]",
     "revoke a terminal key (admin)",
     CLI_ARG_FILE},
    {"policy",
     cli_write_policy,
     {WRITE | O(POINTS_PER_HOUR) | O(ACTIVITY) | O(DAILY_MINUTES_CAP) |
          O(MAX_BALANCE),
      O(KEY), 0, 0},
     "policy -k ADMIN.key [--points-per-hour N [--activity CODE]] "
     "[--daily-minutes-cap M] [--max-balance P]",
     "set the points per hour (default or per activity) and the caps; 0 "
     "means no cap (admin)",
     0},
    {"register",
     cli_write_register,
     {WRITE, O(KEY), 1, 1},
     "register -k KEY ACCOUNT",
     "open a volunteer account (record)",
     0},
    {"record",
     cli_write_record,
     {WRITE | O(NOTE) | O(MINUTES) | O(START) | O(ACTIVITY),
      O(KEY) | O(MINUTES), 1, 1},
     "record -k KEY ACCOUNT --minutes M [--start ISO8601] [--activity CODE] "
     "[--note TEXT]",
     "record minutes of service; the start defaults to M minutes before "
     "the request id was made, so a retry is the same request (record)",
     0},
    {"redeem",
     cli_write_redeem,
     {WRITE | O(NOTE) | O(POINTS) | O(ITEM), O(KEY) | O(POINTS) | O(ITEM), 1,
      1},
     "redeem -k KEY ACCOUNT --points P --item CODE [--note TEXT]",
     "spend points on an item or service (redeem)",
     0},
    {"transfer",
     cli_write_transfer,
     {WRITE | O(NOTE) | O(POINTS), O(KEY) | O(POINTS), 2, 2},
     "transfer -k KEY FROM TO --points P [--note TEXT]",
     "move points to another account, e.g. family (redeem)",
     0},
    {"reverse",
     cli_write_reverse,
     {WRITE | O(NOTE), O(KEY), 1, 1},
     "reverse -k KEY SEQ [--note TEXT]",
     "undo a service, redeem or transfer (admin, or the terminal that "
     "wrote it)",
     0},
    {"balance",
     cli_read_balance,
     {0, 0, 1, 1},
     "balance ACCOUNT",
     "show an account's balance",
     0},
    {"history",
     cli_read_history,
     {O(LIMIT), 0, 1, 1},
     "history ACCOUNT [--limit N]",
     "show an account's entries, newest first",
     0},
    {"entry",
     cli_read_entry,
     {0, 0, 1, 1},
     "entry SEQ",
     "show one log entry",
     0},
    {"status",
     cli_read_status,
     {0, 0, 0, 0},
     "status",
     "show the ledger's status",
     0},
    {"metrics",
     cli_metrics_run,
     {O(OUTPUT), 0, 0, 0},
     "metrics [-o FILE]",
     "print the daemon's counters in the Prometheus text format; with -o, "
     "replace FILE atomically (node_exporter's textfile collector)",
     0},
    {"checkpoint",
     cli_read_checkpoint,
     {O(LOG_KEY), 0, 0, 0},
     "checkpoint [--log-key LOG.pub]",
     "print the latest signed checkpoint, byte for byte, once parsed as "
     "one (and verified with the pinned log key, if one is pinned)",
     0},
    {"prove",
     cli_proof_prove,
     {O(SIZE) | O(LOG_KEY), 0, 1, 1},
     "prove SEQ [--size N] [--log-key LOG.pub]",
     "fetch and verify the inclusion proof of an entry",
     0},
    {"receipt",
     cli_receipt_make,
     {O(OUTPUT) | O(SLIP) | O(PNG) | O(LOG_KEY), 0, 1, 1},
     "receipt SEQ [-o FILE] [--slip [--png FILE]] [--log-key LOG.pub]",
     "the receipt of an entry, verified with the pinned log key: a C2SP "
     "tlog-proof carrying the entry, written to FILE (default: standard "
     "output); --slip prints instead a 32-column slip for a receipt printer "
     "with the receipt as a QR code (--png FILE: the QR code as a picture)",
     0},
    {"verify-receipt",
     cli_receipt_verify,
     {O(LOG_KEY) | O(CHECKPOINT) | O(ONLINE), 0, 1, 1},
     "verify-receipt FILE [--log-key LOG.pub] [--checkpoint NEWER | "
     "--online]",
     "check a receipt offline with the pinned log key alone; with "
     "--checkpoint (a newer checkpoint saved earlier) or --online (the "
     "daemon's latest), also that the log at that checkpoint still holds "
     "it (both checkpoints verified; the consistency proof is asked of the "
     "daemon)",
     CLI_ARG_FILE},
    {"consistency",
     cli_proof_consistency,
     {O(FROM) | O(LOG_KEY), 0, 0, 2},
     "consistency M [N] | consistency --from OLD.checkpoint [--log-key "
     "LOG.pub]",
     "fetch the consistency proof between tree sizes M and N (default: "
     "latest); with --from, prove that today's log extends a checkpoint saved "
     "earlier (both signatures and the proof verified)",
     0},
    {"export",
     cli_export_run,
     {O(LOG_KEY) | O(CSV) | O(TILES), O(LOG_KEY), 0, 1},
     "export DIR --log-key LOG.pub | export --csv FILE --log-key LOG.pub "
     "[--tiles DIR|URL]",
     "write or update a C2SP tlog-tiles mirror of the log in DIR (the "
     "checkpoint verified, the tree recomputed from the entries); with "
     "--csv, one spreadsheet row per entry instead, once the whole log "
     "passed the audit",
     CLI_ARG_DIR},
    {"audit",
     cli_audit_run,
     {O(LOG_KEY) | O(TILES) | O(SINCE) | O(BALANCES) | O(HTML), O(LOG_KEY), 0,
      0},
     "audit --log-key LOG.pub [--tiles DIR|URL] [--since OLD.checkpoint] "
     "[--balances] [--html FILE]",
     "check the whole log without trusting the daemon: signatures, tiles, "
     "key chain, every ledger rule and balance; exit 1 on the first "
     "problem; --html writes the community office's report page (also "
     "when the audit fails: it says so); a log-link file in the --tiles "
     "mirror is checked and reported",
     0},
    {"link-logs",
     cli_link_make,
     {O(KEY) | O(OUTPUT) | O(LOG_KEY) | O(OLD_LOG_KEY) | O(OLD_CHECKPOINT) |
          O(NEW_CHECKPOINT),
      O(KEY) | O(OUTPUT) | O(OLD_LOG_KEY) | O(OLD_CHECKPOINT) |
          O(NEW_CHECKPOINT),
      0, 0},
     "link-logs -k ADMIN.key --old-log-key OLD.pub --old-checkpoint FILE "
     "--new-checkpoint FILE [--log-key NEW.pub] -o LINK",
     "after a lost or leaked log key: sign, with the admin key and "
     "offline, the link from the old log's final checkpoint to the new "
     "log's first (each verified with its log key; the new key defaults "
     "to the pinned one) into the new file LINK (docs/log-link.md)",
     0},
    {"verify-link",
     cli_link_verify,
     {O(LOG_KEY) | O(OLD_LOG_KEY) | O(ADMIN_KEY) | O(TILES) | O(OLD_TILES),
      O(OLD_LOG_KEY), 1, 1},
     "verify-link LINK --old-log-key OLD.pub [--log-key NEW.pub] "
     "[--admin-key ADMIN.pub] [--tiles DIR|URL] [--old-tiles DIR|URL]",
     "check a log link: the admin key's signature (--admin-key, or the one "
     "the new log's genesis names in --tiles), both checkpoints with their "
     "log keys; with --tiles, that the new log grew from the link's "
     "checkpoint; with --old-tiles, that the link names the old log's "
     "final checkpoint; exit 5 if anything does not verify",
     CLI_ARG_FILE},
};

#define TABLE_NCOMMANDS (sizeof(table_commands) / sizeof(table_commands[0]))

const struct cli_command *cli_table_find(const char *name)
{
        for (size_t i = 0; i < TABLE_NCOMMANDS; i++)
                if (strcmp(table_commands[i].name, name) == 0)
                        return &table_commands[i];
        return NULL;
}

void cli_table_help(FILE *f)
{
        fprintf(f,
                "usage: %s [-s SOCKET] [--json] [--timeout SECONDS] COMMAND "
                "[ARGS]\n\n"
                "Every write also takes --request-id HEX (32 hex digits, "
                "default random) so a retry is safe.\n"
                "The socket defaults to $TIMEBANK_SOCKET, else %s.\n\n"
                "commands:\n",
                CLI_PROG, TB_SOCKET_DEFAULT);
        for (size_t i = 0; i < TABLE_NCOMMANDS; i++)
                fprintf(f, "  %s\n      %s\n", table_commands[i].usage,
                        table_commands[i].help);
        fprintf(f, "\nexit status: 0 done (also DUPLICATE), 1 refused by a "
                   "ledger rule, 2 usage, 3 daemon unreachable, 4 other "
                   "error\n");
}

void cli_table_help_command(FILE *f, const struct cli_command *c)
{
        fprintf(f, "usage: %s %s\n  %s\n", CLI_PROG, c->usage, c->help);
}

/* Print s for roff: escape backslashes and dashes, guard a leading dot. */
static void table_roff(const char *s)
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

static void table_man_version(void)
{
        table_roff(TIMEBANK_VERSION);
}

/* The options documented on their own: .TP, -x, --name VALUE, help. */
static void table_man_options(void)
{
        for (int i = 0; i < CLI_OPT_COUNT; i++) {
                const struct cli_option *o = &cli_table_options[i];
                if (o->help == NULL)
                        continue;
                fputs(".TP\n", stdout);
                if (o->letter)
                        printf("\\fB\\-%c\\fR, ", o->letter);
                fputs("\\fB\\-\\-", stdout);
                table_roff(o->name);
                fputs("\\fR", stdout);
                if (o->value != NULL) {
                        fputs(" \\fI", stdout);
                        table_roff(o->value);
                        fputs("\\fR", stdout);
                }
                putchar('\n');
                table_roff(o->help);
                putchar('\n');
        }
}

static void table_man_commands(void)
{
        for (size_t i = 0; i < TABLE_NCOMMANDS; i++) {
                fputs(".TP\n.B ", stdout);
                table_roff(table_commands[i].usage);
                putchar('\n');
                table_roff(table_commands[i].help);
                putchar('\n');
        }
}

/* Where the template's slots are filled; a line slot takes its newline. */
static const struct {
        const char *slot;
        void (*fill)(void);
} table_man_slots[] = {
    {"@VERSION@", table_man_version},
    {"@OPTIONS@\n", table_man_options},
    {"@COMMANDS@\n", table_man_commands},
};

void cli_table_man(void)
{
        const char *s = timebank_1_in;
        size_t i, n = sizeof(table_man_slots) / sizeof(table_man_slots[0]);

        while (*s != 0) {
                for (i = 0; i < n; i++) {
                        size_t len = strlen(table_man_slots[i].slot);
                        if (strncmp(s, table_man_slots[i].slot, len) == 0)
                                break;
                }
                if (i == n) {
                        putchar(*s++);
                        continue;
                }
                table_man_slots[i].fill();
                s += strlen(table_man_slots[i].slot);
        }
        if (fflush(stdout) != 0 || ferror(stdout))
                cli_die(TB_EXIT_OTHER, "writing the man page: %s",
                        strerror(errno));
        exit(TB_EXIT_OK);
}

/* How an option's value completes: files, directories, or not at all. */
static int table_value_kind(const char *value)
{
        static const char *const files[] = {
            "PATH", "KEYFILE", "FILE", "LOG.pub", "OLD.checkpoint", "NEWER"};

        if (value == NULL)
                return -1;
        if (strcmp(value, "DIR") == 0)
                return CLI_ARG_DIR;
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                if (strcmp(value, files[i]) == 0)
                        return CLI_ARG_FILE;
        return 0;
}

/* The options in mask as words for compgen -W. */
static void table_completion_words(uint64_t mask)
{
        for (int i = 0; i < CLI_OPT_COUNT; i++) {
                if ((mask & CLI_OPT_BIT(i)) == 0)
                        continue;
                printf(" --%s", cli_table_options[i].name);
                if (cli_table_options[i].letter)
                        printf(" -%c", cli_table_options[i].letter);
        }
}

/* The options taking a value of kind, as a case pattern ("" if none). */
static int table_completion_case(int kind)
{
        int n = 0;

        for (int i = 0; i < CLI_OPT_COUNT; i++) {
                const struct cli_option *o = &cli_table_options[i];
                if (table_value_kind(o->value) != kind)
                        continue;
                printf("%s--%s", n++ ? " | " : "        ", o->name);
                if (o->letter)
                        printf(" | -%c", o->letter);
        }
        return n;
}

void cli_table_completion(void)
{
        static const char *const fill[] = {"", "-f", "-d"};

        printf("# bash completion for timebank %s: generated by 'timebank "
               "--completion'\n# from its command table "
               "(client/cli_table.c); do not edit.\n",
               TIMEBANK_VERSION);
        printf("_timebank_files()\n{\n"
               "        mapfile -t COMPREPLY < <(compgen %s -- \"$cur\")\n"
               "        compopt -o filenames 2>/dev/null\n"
               "}\n",
               "\"$1\"");
        printf("_timebank()\n{\n"
               "        local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i "
               "opts arg=\n"
               "        COMPREPLY=()\n"
               "        ((COMP_CWORD > 0)) && "
               "prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
               "        # the command: the first word that is not a global "
               "option or its value\n"
               "        for ((i = 1; i < COMP_CWORD; i++)); do\n"
               "                case ${COMP_WORDS[i]} in\n");
        for (int i = 0; i < CLI_OPT_KEY; i++) {
                const struct cli_option *o = &cli_table_options[i];
                if (o->value == NULL)
                        continue;
                printf("                --%s", o->name);
                if (o->letter)
                        printf(" | -%c", o->letter);
                printf(") ((i++)) ;;\n");
        }
        printf("                -*) ;;\n"
               "                *)\n"
               "                        cmd=${COMP_WORDS[i]}\n"
               "                        break\n"
               "                        ;;\n"
               "                esac\n"
               "        done\n"
               "        case $prev in\n");
        for (int kind = CLI_ARG_FILE; kind <= CLI_ARG_DIR; kind++)
                if (table_completion_case(kind))
                        printf(")\n                _timebank_files %s\n"
                               "                return\n"
                               "                ;;\n",
                               fill[kind]);
        if (table_completion_case(0))
                printf(") return ;;\n");
        printf("        esac\n        case $cmd in\n        \"\") opts=\"");
        table_completion_words(CLI_OPTS_GLOBAL);
        printf("\" ;;\n");
        for (size_t i = 0; i < TABLE_NCOMMANDS; i++) {
                const struct cli_command *c = &table_commands[i];
                printf("        %s)\n                opts=\"", c->name);
                table_completion_words(c->args.takes |
                                       CLI_OPT_BIT(CLI_OPT_HELP));
                printf("\"\n");
                if (c->arg_kind != 0)
                        printf("                arg=%s\n", fill[c->arg_kind]);
                printf("                ;;\n");
        }
        printf("        *) return ;;\n"
               "        esac\n"
               "        if [[ $cur == -* ]]; then\n"
               "                mapfile -t COMPREPLY < <(compgen -W \"$opts\" "
               "-- \"$cur\")\n"
               "        elif [[ -z $cmd ]]; then\n"
               "                mapfile -t COMPREPLY < <(compgen -W \"");
        for (size_t i = 0; i < TABLE_NCOMMANDS; i++)
                printf("%s%s", i ? " " : "", table_commands[i].name);
        printf("\" -- \"$cur\")\n"
               "        elif [[ -n $arg ]]; then\n"
               "                _timebank_files \"$arg\"\n"
               "        fi\n"
               "}\n"
               "complete -F _timebank timebank\n");
        if (fflush(stdout) != 0 || ferror(stdout))
                cli_die(TB_EXIT_OTHER, "writing the completion: %s",
                        strerror(errno));
        exit(TB_EXIT_OK);
}
