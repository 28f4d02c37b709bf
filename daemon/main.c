/*
 * daemon/main.c - timebankd's command line: create a ledger (init), check
 * one (check), back one up (backup), convert an older storage format
 * (upgrade), or serve one (the default).
 *
 * Startup failures exit with a message naming what to fix; once serving,
 * nothing a client sends can reach an exit path.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "exit.h"
#include "keyfile.h"
#include "ledger.h"
#include "log.h"
#include "restore.h"
#include "server.h"
#include "signer.h"
#include "timebankd_8_in.h"
#include "timebankd_conf_5_in.h"

#define MAIN_OPT_MAN        256 /* --man has no short form */
#define MAIN_OPT_MAN_CONF   257 /* timebankd.conf(5), made at build time */
#define MAIN_OPT_COMPLETION 258 /* the bash completion, made at build time */

/*
 * The serve options: getopt_long() reads them (main_getopt_spec()), and
 * --help and the man page's OPTIONS list those with help text.
 */
static const struct {
        int val; /* the short option, or MAIN_OPT_* for a long one only */
        const char *long_name;
        const char *arg;  /* NULL for a flag */
        const char *help; /* NULL: not listed under OPTIONS */
} main_options[] = {
    {'d', "data", "DIR", "the ledger's directory"},
    {'s', "socket", "PATH", "listen here (overrides the config file)"},
    {'c', "config", "FILE", "read settings from FILE"},
    {'v', "verbose", NULL, "log at debug level"},
    {'h', "help", NULL, NULL},
    {'V', "version", NULL, NULL},
    {MAIN_OPT_MAN, "man", NULL, NULL},
    {MAIN_OPT_MAN_CONF, "man-conf", NULL, NULL},
    {MAIN_OPT_COMPLETION, "completion", NULL, NULL},
};

#define MAIN_NOPTIONS (sizeof(main_options) / sizeof(main_options[0]))

/* The options of init and check (each takes a value). */
static const struct option init_options[] = {
    {"data", 1, NULL, 'd'},
    {"origin", 1, NULL, 'o'},
    {"admin", 1, NULL, 'a'},
    {"config", 1, NULL, 'c'},
    {"points-per-hour", 1, NULL, 'p'},
    {"daily-minutes-cap", 1, NULL, 'm'},
    {"max-balance", 1, NULL, 'b'},
    {"from-tiles", 1, NULL, 'f'},
    {"log-key", 1, NULL, 'k'},
    {NULL, 0, NULL, 0}};
static const struct option check_options[] = {{"data", 1, NULL, 'd'},
                                              {NULL, 0, NULL, 0}};
static const struct option backup_options[] = {{"data", 1, NULL, 'd'},
                                               {NULL, 0, NULL, 0}};
static const struct option upgrade_options[] = {{"data", 1, NULL, 'd'},
                                                {NULL, 0, NULL, 0}};

/* The subcommands and their option tables (the completion reads this). */
static const struct {
        const char *name;
        const struct option *opts;
        const char *shortopts;
} main_subcommands[] = {
    {"init", init_options, "d:c:"},
    {"check", check_options, "d:"},
    {"backup", backup_options, "d:"},
    {"upgrade", upgrade_options, "d:"},
};
#define MAIN_NSUB (sizeof(main_subcommands) / sizeof(main_subcommands[0]))

/* Fill getopt_long()'s long options (NULL-terminated) and short ones. */
static void main_getopt_spec(struct option longopts[MAIN_NOPTIONS + 1],
                             char shortopts[2 * MAIN_NOPTIONS + 1])
{
        size_t n = 0;

        for (size_t i = 0; i < MAIN_NOPTIONS; i++) {
                longopts[i] = (struct option){main_options[i].long_name,
                                              main_options[i].arg != NULL
                                                  ? required_argument
                                                  : no_argument,
                                              NULL, main_options[i].val};
                if (main_options[i].val >= MAIN_OPT_MAN)
                        continue;
                shortopts[n++] = (char)main_options[i].val;
                if (main_options[i].arg != NULL)
                        shortopts[n++] = ':';
        }
        longopts[MAIN_NOPTIONS] = (struct option){NULL, 0, NULL, 0};
        shortopts[n] = 0;
}

static void usage(FILE *f)
{
        char spec[64];

        fprintf(
            f, "usage: timebankd -d DIR [-s SOCKET] [-c CONFIG] [-v]\n"
               "       timebankd init -d DIR --origin ORIGIN --admin ADMIN.pub"
               " [-c CONFIG]\n"
               "                 [--points-per-hour N] [--daily-minutes-cap M]"
               " [--max-balance P]\n"
               "       timebankd init -d DIR --from-tiles MIRROR --log-key "
               "LOG.key [-c CONFIG]\n"
               "       timebankd check -d DIR\n"
               "       timebankd backup -d DIR TARGET\n"
               "       timebankd upgrade -d DIR\n"
               "       timebankd --help | --version | --man\n"
               "\n"
               "Serves the ledger in DIR on a Unix socket, in the foreground,\n"
               "logging to stderr with <N> priority prefixes (journald).\n"
               "\n");
        for (size_t i = 0; i < MAIN_NOPTIONS; i++) {
                if (main_options[i].help == NULL)
                        continue;
                snprintf(spec, sizeof(spec), "-%c, --%s%s%s",
                         main_options[i].val, main_options[i].long_name,
                         main_options[i].arg != NULL ? " " : "",
                         main_options[i].arg != NULL ? main_options[i].arg
                                                     : "");
                fprintf(f, "  %-20s%s\n", spec, main_options[i].help);
        }
        fprintf(f,
                "\n"
                "init creates DIR with the LMDB ledger, the log key "
                "DIR/log.key\n"
                "(mode 0600), DIR/log.pub and the genesis entry enrolling\n"
                "ADMIN.pub (made with 'timebank keygen') as administrator.\n"
                "init --from-tiles rebuilds a ledger from a tiles mirror "
                "(timebank\n"
                "export): every entry replayed through the rules, the root "
                "equal to\n"
                "the mirror's checkpoint, signed with the log key LOG.key.\n"
                "check replays the whole log and compares every balance, "
                "key,\n"
                "root and checkpoint with what is stored.\n"
                "upgrade converts a ledger of an older storage format in "
                "place\n"
                "(stop the daemon first): rebuilt beside, checked, then "
                "swapped.\n"
                "backup copies the ledger (data.mdb, compacted, and log.pub;\n"
                "not log.key) to the new or empty directory TARGET while\n"
                "the daemon serves; the copy ends at a signed checkpoint.\n"
                "\n"
                "settings (config file 'name = value', default, meaning):\n");
        config_print_defaults(f);
}

static void ledger_options_from(struct ledger_options *o,
                                const struct config *cfg)
{
        ledger_options_default(o);
        o->map_initial = cfg->map_size;
        o->map_max = cfg->map_size_max;
        o->clock_skew = cfg->clock_skew;
        o->max_age = cfg->max_service_age;
        o->accounts_behind = cfg->accounts_behind;
}

/*
 * One process at a time per ledger: LMDB would let two daemons share the
 * environment, but each would sign its own checkpoints and grow the map on
 * its own.  The lock dies with the process, so a crash leaves nothing stale.
 * Returns the lock's descriptor (kept open), or -1 after printing why.
 */
static int lock_ledger(const char *dir)
{
        char path[4096];
        int fd;

        if ((size_t)snprintf(path, sizeof(path), "%s/timebankd.lock", dir) >=
            sizeof(path)) {
                fprintf(stderr, "timebankd: data directory path too long\n");
                return -1;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                fprintf(stderr, "timebankd: cannot open %s: %s\n", path,
                        strerror(errno));
                return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
                fprintf(stderr, "timebankd: %s\n",
                        errno == EWOULDBLOCK
                            ? "another timebankd (serving or checking) has "
                              "this ledger open: stop it first"
                            : strerror(errno));
                (void)close(fd);
                return -1;
        }
        return fd;
}

static uint64_t number(const char *opt, const char *s, uint64_t max)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != 0 || v > max) {
                fprintf(stderr,
                        "timebankd: %s must be a whole number from 0 to "
                        "%" PRIu64 "\n",
                        opt, max);
                exit(TB_EXIT_USAGE);
        }
        return (uint64_t)v;
}

static int cmd_init(int argc, char **argv, struct config *cfg)
{
        const char *dir = NULL, *origin = NULL, *admin = NULL;
        const char *tiles = NULL, *log_key = NULL;
        struct ledger_options lo;
        struct ledger *l = NULL;
        struct tb_vkey v;
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t note_len;
        enum ledger_err lerr;
        enum tb_err err;
        char errbuf[512];
        int c;

        /* flags win over the config file whatever their order: collect,
         * then apply the file, then the flags */
        const char *config = NULL;
        int64_t rate = -1, cap = -1, maxbal = -1;

        while ((c = getopt_long(argc, argv, "d:c:", init_options, NULL)) !=
               -1) {
                switch (c) {
                case 'd':
                        dir = optarg;
                        break;
                case 'o':
                        origin = optarg;
                        break;
                case 'a':
                        admin = optarg;
                        break;
                case 'c':
                        config = optarg;
                        break;
                case 'p':
                        rate = (int64_t)number("--points-per-hour", optarg,
                                               TB_RATE_MAX);
                        break;
                case 'm':
                        cap = (int64_t)number("--daily-minutes-cap", optarg,
                                              TB_MINUTES_MAX);
                        break;
                case 'b':
                        maxbal = (int64_t)number("--max-balance", optarg,
                                                 TB_BALANCE_MAX);
                        break;
                case 'f':
                        tiles = optarg;
                        break;
                case 'k':
                        log_key = optarg;
                        break;
                default:
                        usage(stderr);
                        return TB_EXIT_USAGE;
                }
        }
        if (config != NULL &&
            config_load(cfg, config, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "timebankd: %s\n", errbuf);
                return TB_EXIT_USAGE;
        }
        ledger_options_from(&lo, cfg);
        if (rate >= 0)
                lo.points_per_hour = (uint32_t)rate;
        if (cap >= 0)
                lo.daily_minutes_cap = (uint16_t)cap;
        if (maxbal >= 0)
                lo.max_balance = (uint64_t)maxbal;
        if (tiles != NULL || log_key != NULL) {
                /* the origin, the administrator and the policy are the
                 * mirror's: its entries say them */
                if (dir == NULL || tiles == NULL || log_key == NULL ||
                    origin != NULL || admin != NULL || rate >= 0 || cap >= 0 ||
                    maxbal >= 0 || optind != argc) {
                        fprintf(stderr,
                                "timebankd: init --from-tiles needs -d DIR "
                                "--from-tiles MIRROR --log-key LOG.key, and "
                                "takes no --origin, --admin or policy (the "
                                "mirror's entries hold them)\n");
                        return TB_EXIT_USAGE;
                }
                return restore_from_tiles(dir, tiles, log_key, &lo);
        }
        if (dir == NULL || origin == NULL || admin == NULL || optind != argc) {
                fprintf(stderr, "timebankd: init needs -d DIR --origin ORIGIN "
                                "--admin ADMIN.pub\n");
                return TB_EXIT_USAGE;
        }
        if ((err = tb_keyfile_read_public(admin, &v)) != TB_OK) {
                fprintf(stderr, "timebankd: admin key %s: %s%s%s\n", admin,
                        tb_strerror(err), err == TB_E_IO ? ": " : "",
                        err == TB_E_IO ? strerror(errno) : "");
                return TB_EXIT_FAIL;
        }
        lerr = ledger_init(dir, origin, v.pk, v.name, &lo);
        if (lerr != LEDGER_OK) {
                fprintf(stderr, "timebankd: cannot create a ledger in %s: %s\n",
                        dir, ledger_strerror(lerr));
                return TB_EXIT_FAIL;
        }
        /* the signer's first state: the genesis checkpoint, so that its
         * first start need not take the ledger's word */
        lo.skip_quick_check = 0;
        if ((lerr = ledger_open(dir, &lo, &l)) != LEDGER_OK ||
            (lerr = ledger_checkpoint(l, note, sizeof(note), &note_len,
                                      NULL)) != LEDGER_OK) {
                fprintf(stderr,
                        "timebankd: cannot read the new ledger in %s: "
                        "%s\n",
                        dir, ledger_strerror(lerr));
                ledger_close(l);
                return TB_EXIT_FAIL;
        }
        ledger_close(l);
        if (signer_state_create(dir, note, note_len, errbuf, sizeof(errbuf))) {
                fprintf(stderr, "timebankd: %s\n", errbuf);
                return TB_EXIT_FAIL;
        }
        printf("created ledger %s in %s\n"
               "  log key      %s/log.key (secret, keep it safe)\n"
               "  log public   %s/log.pub (give it to auditors)\n"
               "  admin        %s\n",
               origin, dir, dir, dir, v.name);
        return TB_EXIT_OK;
}

static int cmd_check(int argc, char **argv, struct config *cfg)
{
        const char *dir = NULL;
        struct ledger_options lo;
        struct ledger *l;
        struct ledger_check_report rep;
        enum ledger_err err;
        int c, lockfd;

        while ((c = getopt_long(argc, argv, "d:", check_options, NULL)) != -1) {
                if (c != 'd') {
                        usage(stderr);
                        return TB_EXIT_USAGE;
                }
                dir = optarg;
        }
        if (dir == NULL || optind != argc) {
                fprintf(stderr, "timebankd: check needs -d DIR\n");
                return TB_EXIT_USAGE;
        }
        ledger_options_from(&lo, cfg);
        /* a ledger that fails the quick check is exactly what to examine */
        lo.skip_quick_check = 1;
        if ((lockfd = lock_ledger(dir)) < 0)
                return TB_EXIT_FAIL;
        if ((err = ledger_open(dir, &lo, &l)) != LEDGER_OK) {
                fprintf(stderr, "timebankd: cannot open the ledger in %s: %s\n",
                        dir, ledger_strerror(err));
                (void)close(lockfd);
                return TB_EXIT_FAIL;
        }
        err = ledger_check_full(l, NULL, &rep);
        ledger_close(l);
        (void)close(lockfd);
        if (err != LEDGER_OK) {
                fprintf(stderr, "timebankd: the full check could not run: %s\n",
                        ledger_strerror(err));
                return TB_EXIT_FAIL;
        }
        printf("replayed %" PRIu64 " entries; compared %" PRIu64
               " accounts, %" PRIu64 " keys, %" PRIu64 " checkpoints: ",
               rep.entries, rep.accounts, rep.keys, rep.checkpoints);
        if (rep.mismatches != 0) {
                printf("%" PRIu64 " MISMATCHES, first: %s\n", rep.mismatches,
                       rep.first);
                return TB_EXIT_FAIL;
        }
        printf("all equal\n");
        return TB_EXIT_OK;
}

/* How long a backup waits for the checkpoint of a batch it caught between
 * the batch's two commits (the daemon signs it within milliseconds). */
#define MAIN_BACKUP_WAIT_MS 10000

static int cmd_backup(int argc, char **argv)
{
        const char *dir = NULL, *dest;
        struct ledger_backup_info info;
        char data[4096];
        struct stat st;
        enum ledger_err err;
        int c;

        while ((c = getopt_long(argc, argv, "d:", backup_options, NULL)) !=
               -1) {
                if (c != 'd') {
                        usage(stderr);
                        return TB_EXIT_USAGE;
                }
                dir = optarg;
        }
        if (dir == NULL || optind + 1 != argc) {
                fprintf(stderr, "timebankd: backup needs -d DIR and one "
                                "target directory\n");
                return TB_EXIT_USAGE;
        }
        dest = argv[optind];
        /* LMDB's reader table (lock.mdb) is written even by a read-only
         * copy, and made if missing: by anyone but the ledger's owner it
         * would be left with an owner the daemon cannot open */
        if ((size_t)snprintf(data, sizeof(data), "%s/data.mdb", dir) >=
            sizeof(data)) {
                fprintf(stderr, "timebankd: data directory path too long\n");
                return TB_EXIT_USAGE;
        }
        if (stat(data, &st) == 0 && st.st_uid != geteuid()) {
                fprintf(stderr,
                        "timebankd: %s belongs to uid %u: run the backup as "
                        "the ledger's owner (runuser -u timebank -- timebankd "
                        "backup ...), so that LMDB's lock file stays its "
                        "own\n",
                        data, (unsigned)st.st_uid);
                return TB_EXIT_FAIL;
        }
        /* no ledger lock: the copy is taken beside a serving daemon, from
         * a read transaction that never blocks its writer */
        err = ledger_backup(dir, dest, MAIN_BACKUP_WAIT_MS, &info);
        switch (err) {
        case LEDGER_OK:
                break;
        case LEDGER_E_EXISTS:
                fprintf(stderr,
                        "timebankd: %s is not empty: a backup goes into a new "
                        "or empty directory\n",
                        dest);
                return TB_EXIT_FAIL;
        case LEDGER_E_IO:
                fprintf(stderr, "timebankd: cannot back up %s to %s: %s\n", dir,
                        dest, strerror(errno));
                return TB_EXIT_FAIL;
        case LEDGER_E_KEY:
                fprintf(stderr,
                        "timebankd: %s/log.pub is missing or is not the key "
                        "of the ledger in %s: a backup needs it\n",
                        dir, dir);
                return TB_EXIT_FAIL;
        case LEDGER_E_CHECK:
                fprintf(stderr,
                        "timebankd: the copy of %s ends at entries that have "
                        "no signed checkpoint, or fails its quick check: "
                        "nothing was kept in %s (a daemon stopped between a "
                        "batch's two commits signs the missing checkpoint "
                        "when it starts; start it, then back up again)\n",
                        dir, dest);
                return TB_EXIT_FAIL;
        default:
                fprintf(stderr, "timebankd: cannot back up %s to %s: %s\n", dir,
                        dest, ledger_strerror(err));
                return TB_EXIT_FAIL;
        }
        printf("backed up %s to %s: %" PRIu64 " entries, up to the signed "
               "checkpoint of size %" PRIu64 "%s; %" PRIu64 " bytes\n"
               "  copied       data.mdb, log.pub\n"
               "  not copied   log.key, signer.state (see 'Backups and "
               "restore' in docs/operations.md)\n",
               dir, dest, info.size, info.size,
               info.completed ? " (caught mid-batch; its checkpoint added)"
                              : "",
               info.bytes);
        return TB_EXIT_OK;
}

static int cmd_upgrade(int argc, char **argv, struct config *cfg)
{
        const char *dir = NULL;
        struct ledger_options lo;
        struct ledger_upgrade_report rep;
        enum ledger_err err;
        int c, lockfd;

        while ((c = getopt_long(argc, argv, "d:", upgrade_options, NULL)) !=
               -1) {
                if (c != 'd') {
                        usage(stderr);
                        return TB_EXIT_USAGE;
                }
                dir = optarg;
        }
        if (dir == NULL || optind != argc) {
                fprintf(stderr, "timebankd: upgrade needs -d DIR\n");
                return TB_EXIT_USAGE;
        }
        ledger_options_from(&lo, cfg);
        if ((lockfd = lock_ledger(dir)) < 0)
                return TB_EXIT_FAIL;
        err = ledger_upgrade(dir, &lo, &rep);
        (void)close(lockfd);
        if (err == LEDGER_E_CHECK && rep.replay.mismatches == 0 &&
            rep.check.mismatches == 0) {
                fprintf(stderr,
                        "timebankd: NOT upgraded, the ledger in %s is as it "
                        "was: its quick self-check failed (the latest "
                        "checkpoint does not match its tree); examine it "
                        "with the timebankd that wrote it ('timebankd "
                        "check')\n",
                        dir);
                return TB_EXIT_FAIL;
        }
        if (err == LEDGER_E_CHECK) {
                const struct ledger_check_report *r =
                    rep.replay.mismatches ? &rep.replay : &rep.check;
                fprintf(stderr,
                        "timebankd: NOT upgraded, the ledger in %s is as it "
                        "was: %" PRIu64 " mismatches between the stored "
                        "state and a replay of the log, first: %s\n",
                        dir, r->mismatches, r->first);
                return TB_EXIT_FAIL;
        }
        if (err != LEDGER_OK) {
                fprintf(stderr,
                        "timebankd: NOT upgraded (the ledger in %s is as it "
                        "was): %s%s\n",
                        dir, ledger_strerror(err),
                        err == LEDGER_E_IO
                            ? " (DIR/upgrade.new must be a directory it can "
                              "make and remove, with room for a second "
                              "data.mdb)"
                            : "");
                return TB_EXIT_FAIL;
        }
        if (rep.from == rep.to) {
                printf("storage format %u already: nothing to do\n", rep.to);
                return TB_EXIT_OK;
        }
        printf("upgraded storage format %u to %u: replayed %" PRIu64
               " entries, carried over %" PRIu64
               " idempotency records; full check: all equal\n",
               rep.from, rep.to, rep.check.entries, rep.idem);
        return TB_EXIT_OK;
}

/* s in roff, where a '-' is a hyphen unless escaped as a minus. */
static void man_text(const char *s)
{
        for (; *s != 0; s++)
                if (*s == '-')
                        fputs("\\-", stdout);
                else
                        putchar(*s);
}

static void man_options(void)
{
        for (size_t i = 0; i < MAIN_NOPTIONS; i++) {
                if (main_options[i].help == NULL)
                        continue;
                printf(".TP\n\\fB\\-%c\\fR, \\fB", main_options[i].val);
                man_text("--");
                man_text(main_options[i].long_name);
                printf("\\fR");
                if (main_options[i].arg != NULL)
                        printf(" \\fI%s\\fR", main_options[i].arg);
                printf("\n%s\n", main_options[i].help);
        }
}

/* One line of the man page template, its slot filled. */
static void man_line(const char *line)
{
        static const char version[] = "@VERSION@";
        const char *v;

        if (strcmp(line, "@OPTIONS@") == 0)
                man_options();
        else if (strcmp(line, "@SETTINGS@") == 0)
                config_print_man(stdout);
        else if ((v = strstr(line, version)) != NULL)
                printf("%.*s%s%s\n", (int)(v - line), line, TIMEBANK_VERSION,
                       v + sizeof(version) - 1);
        else
                printf("%s\n", line);
}

/*
 * A man page (installed as timebankd.8 and timebankd.conf.5): its template
 * (timebankd.8.in, timebankd.conf.5.in) compiled in as a string, line by
 * line.  Returns 0, or -1 out of memory.
 */
static int man_page(const char *template)
{
        char *text = strdup(template), *line, *next;

        if (text == NULL)
                return -1;
        for (line = text; line != NULL && *line != 0; line = next) {
                if ((next = strchr(line, '\n')) != NULL)
                        *next++ = 0;
                man_line(line);
        }
        free(text);
        return 0;
}

/* What the value of an option is, for completion: a file, a directory or
 * something to type. */
static const char *completion_kind(const char *long_name)
{
        if (strcmp(long_name, "data") == 0)
                return "dir";
        if (strcmp(long_name, "from-tiles") == 0)
                return "dir"; /* or an http(s) URL, which it refuses */
        if (strcmp(long_name, "config") == 0 ||
            strcmp(long_name, "admin") == 0 ||
            strcmp(long_name, "socket") == 0 ||
            strcmp(long_name, "log-key") == 0)
                return "file";
        return "none";
}

/* The words of opts (getopt_long's, NULL-terminated; short ones as in
 * shortopts) for compgen -W. */
static void completion_words(const struct option *opts, const char *shortopts)
{
        for (; opts->name != NULL; opts++) {
                printf(" --%s", opts->name);
                if (opts->val < MAIN_OPT_MAN && strchr(shortopts, opts->val))
                        printf(" -%c", opts->val);
        }
}

/*
 * The bash completion for timebankd (installed as
 * /usr/share/bash-completion/completions/timebankd), from the option
 * tables above: the subcommands, each one's options, and files or
 * directories where an option wants one.  Returns 0, or -1 if stdout
 * failed.
 */
static int completion(void)
{
        struct option serve[MAIN_NOPTIONS + 1];
        char shortopts[2 * MAIN_NOPTIONS + 1];
        size_t t;

        main_getopt_spec(serve, shortopts);
        printf("# bash completion for timebankd %s: generated by 'timebankd "
               "--completion'\n# from its option tables (daemon/main.c); do "
               "not edit.\n",
               TIMEBANK_VERSION);
        printf("_timebankd()\n{\n"
               "        local cur=${COMP_WORDS[COMP_CWORD]} prev= sub= "
               "opts\n"
               "        COMPREPLY=()\n"
               "        ((COMP_CWORD > 0)) && "
               "prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
               "        ((COMP_CWORD > 1)) && case ${COMP_WORDS[1]} in\n"
               "        ");
        for (t = 0; t < MAIN_NSUB; t++)
                printf("%s%s", t ? " | " : "", main_subcommands[t].name);
        printf(") sub=${COMP_WORDS[1]} ;;\n"
               "        esac\n"
               "        case $prev in\n");
        for (t = 0; t <= MAIN_NSUB; t++) {
                const struct option *o =
                    t == 0 ? serve : main_subcommands[t - 1].opts;
                for (; o->name != NULL; o++) {
                        const char *k = completion_kind(o->name);
                        if (o->has_arg == no_argument)
                                continue;
                        printf("        --%s", o->name);
                        if (t == 0 && o->val < MAIN_OPT_MAN)
                                printf(" | -%c", o->val);
                        if (strcmp(k, "dir") == 0)
                                printf(
                                    ")\n                mapfile -t COMPREPLY "
                                    "< <(compgen -d -- \"$cur\")\n"
                                    "                compopt -o filenames "
                                    "2>/dev/null\n"
                                    "                return ;;\n");
                        else if (strcmp(k, "file") == 0)
                                printf(
                                    ")\n                mapfile -t COMPREPLY "
                                    "< <(compgen -f -- \"$cur\")\n"
                                    "                compopt -o filenames "
                                    "2>/dev/null\n"
                                    "                return ;;\n");
                        else
                                printf(") return ;;\n");
                }
        }
        printf("        esac\n        case $sub in\n");
        for (t = 0; t < MAIN_NSUB; t++) {
                printf("        %s) opts=\"", main_subcommands[t].name);
                completion_words(main_subcommands[t].opts,
                                 main_subcommands[t].shortopts);
                printf("\" ;;\n");
        }
        printf("        *) opts=\"");
        completion_words(serve, shortopts);
        printf("\" ;;\n        esac\n"
               "        if [[ $cur == -* ]]; then\n"
               "                mapfile -t COMPREPLY < <(compgen -W \"$opts\" "
               "-- \"$cur\")\n"
               "        elif ((COMP_CWORD == 1)); then\n"
               "                mapfile -t COMPREPLY < <(compgen -W \"");
        for (t = 0; t < MAIN_NSUB; t++)
                printf("%s%s", t ? " " : "", main_subcommands[t].name);
        printf("\" -- \"$cur\")\n"
               "        fi\n"
               "}\n"
               "complete -F _timebankd timebankd\n");
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static int cmd_serve(int argc, char **argv, struct config *cfg)
{
        struct option opts[MAIN_NOPTIONS + 1];
        char shortopts[2 * MAIN_NOPTIONS + 1];
        const char *dir = NULL, *sock = NULL;
        struct ledger_options lo;
        struct ledger *l = NULL;
        struct server *srv = NULL;
        struct signer_proc sp;
        struct ledger_signer signer = {signer_sign_cb, &sp};
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t note_len;
        uint64_t size = 0;
        enum ledger_err err;
        char errbuf[512];
        int c, verbose = 0, rc, lockfd;

        main_getopt_spec(opts, shortopts);
        while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
                switch (c) {
                case 'd':
                        dir = optarg;
                        break;
                case 's':
                        sock = optarg;
                        break;
                case 'c':
                        if (config_load(cfg, optarg, errbuf, sizeof(errbuf))) {
                                fprintf(stderr, "timebankd: %s\n", errbuf);
                                return TB_EXIT_USAGE;
                        }
                        break;
                case 'v':
                        verbose = 1;
                        break;
                case 'h':
                        usage(stdout);
                        return TB_EXIT_OK;
                case 'V':
                        printf("timebankd %s\n", TIMEBANK_VERSION);
                        return TB_EXIT_OK;
                case MAIN_OPT_MAN:
                case MAIN_OPT_MAN_CONF:
                        if (man_page(c == MAIN_OPT_MAN
                                         ? timebankd_8_in
                                         : timebankd_conf_5_in) != 0) {
                                fprintf(stderr, "timebankd: out of memory\n");
                                return TB_EXIT_FAIL;
                        }
                        return TB_EXIT_OK;
                case MAIN_OPT_COMPLETION:
                        return completion() == 0 ? TB_EXIT_OK : TB_EXIT_FAIL;
                default:
                        usage(stderr);
                        return TB_EXIT_USAGE;
                }
        }
        if (dir == NULL || optind != argc) {
                usage(stderr);
                return TB_EXIT_USAGE;
        }
        if (sock != NULL) {
                if (strlen(sock) >= sizeof(cfg->socket)) {
                        fprintf(stderr, "timebankd: socket path too long\n");
                        return TB_EXIT_USAGE;
                }
                memcpy(cfg->socket, sock, strlen(sock) + 1);
        }
        log_set_level(verbose ? LOG_DEBUG : cfg->log_level);
        ledger_options_from(&lo, cfg);
        if ((lockfd = lock_ledger(dir)) < 0)
                return TB_EXIT_FAIL;
        /* the log key goes to its own process before this one opens the
         * ledger or a socket: from here on this process never holds it */
        if (signer_start(dir, &sp) != 0) {
                log_err("cannot open the ledger in %s: its signer did not "
                        "start (the line above says why)",
                        dir);
                (void)close(lockfd);
                return TB_EXIT_FAIL;
        }
        lo.signer = &signer;
        if ((err = ledger_open(dir, &lo, &l)) != LEDGER_OK) {
                log_err("cannot open the ledger in %s: %s%s", dir,
                        ledger_strerror(err),
                        err == LEDGER_E_CHECK
                            ? " (the quick self-check failed: refusing "
                              "to serve; run 'timebankd check -d DIR')"
                            : "");
                (void)signer_stop(&sp);
                (void)close(lockfd);
                return TB_EXIT_FAIL;
        }
        if (ledger_accounts_redone(l) > 0)
                log_notice("the account rows of the last %" PRIu64
                           " entries were not written before the daemon "
                           "stopped (a crash or a kill); derived again from "
                           "the log and written",
                           ledger_accounts_redone(l));
        if (ledger_checkpoint(l, note, sizeof(note), &note_len, &size) !=
                LEDGER_OK ||
            size < sp.start_size) {
                /* every later checkpoint would be refused: say why now */
                log_err("the ledger in %s (tree size %" PRIu64 ") is behind "
                        "the last checkpoint the log key signed (size "
                        "%" PRIu64 ", %s): restored from an old copy? "
                        "Refusing to serve a fork (docs/timebankd.md, "
                        "\"The signer\")",
                        dir, size, sp.start_size, SIGNER_STATE_FILE);
                ledger_close(l);
                (void)signer_stop(&sp);
                (void)close(lockfd);
                return TB_EXIT_FAIL;
        }
        if (server_init(cfg, l, &srv) != 0) {
                ledger_close(l);
                (void)signer_stop(&sp);
                (void)close(lockfd);
                return TB_EXIT_FAIL;
        }
        rc = server_run(srv);
        server_free(srv);
        ledger_close(l);
        if (signer_stop(&sp) != 0)
                rc = -1;
        (void)close(lockfd);
        return rc == 0 ? TB_EXIT_OK : TB_EXIT_FAIL;
}

int main(int argc, char **argv)
{
        struct config cfg;

        config_defaults(&cfg);
        if (sodium_init() < 0) {
                fprintf(stderr, "timebankd: cannot initialise libsodium\n");
                return TB_EXIT_FAIL;
        }
        if (argc > 1 && strcmp(argv[1], "init") == 0)
                return cmd_init(argc - 1, argv + 1, &cfg);
        if (argc > 1 && strcmp(argv[1], "check") == 0)
                return cmd_check(argc - 1, argv + 1, &cfg);
        if (argc > 1 && strcmp(argv[1], "backup") == 0)
                return cmd_backup(argc - 1, argv + 1);
        if (argc > 1 && strcmp(argv[1], "upgrade") == 0)
                return cmd_upgrade(argc - 1, argv + 1, &cfg);
        return cmd_serve(argc, argv, &cfg);
}
