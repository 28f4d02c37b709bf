/*
 * bench/bench_main.c - timebank-bench: the options, the phases in their
 * order, and the report (text, or one JSON object).
 *
 * The phases, on one machine in one run, so that their ratios hold even
 * where the machine is shared and absolute figures drift:
 *   fsync    the disk's latency for one small durable write
 *   fill     (--fill N) grow the ledger first, untimed
 *   peak     the mix, closed loop (or --rate): rates, latencies, the
 *            daemon's CPU, bytes written
 *   reads    balance reads alone, closed loop: the read rate, and the
 *            daemon's CPU per read (subtracted from the peak's CPU to get
 *            its CPU per write)
 *   half     the mix offered at half the peak's rate: latency when not
 *            saturated
 *   verify   one verification on one core; the all-core ceiling
 *   sqlite   the same records through the SQLite program
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "keyfile.h"
#include "timebank_bench_1_in.h" /* generated: tb_man_page() */

const char *bench_kind_name(unsigned kind)
{
        static const char *const names[BENCH_KINDS] = {"record", "redeem",
                                                       "balance", "setup"};
        return kind < BENCH_KINDS ? names[kind] : "?";
}

int bench_fail(const char *fmt, ...)
{
        va_list ap;

        fputs("timebank-bench: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -1;
}

uint64_t bench_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_now_s(void)
{
        return (double)bench_now_ns() / 1e9;
}

#define BENCH_OPT_MAN 256 /* --man has no short form */

/*
 * The options: getopt_long() reads them (bench_getopt_spec()), and --help
 * and the man page (timebank-bench.1, --man) list those with help text.
 */
static const struct {
        const char *name;
        int val;         /* getopt's value */
        int short_form;  /* val is also -val */
        const char *arg; /* NULL for a flag */
        const char *help;
} bench_option_table[] = {
    {"connections", 'c', 1, "C", "terminals, one key and connection each (32)"},
    {"depth", 'd', 1, "D", "requests in flight per connection (8)"},
    {"requests", 'n', 1, "N", "requests of the peak phase (100000)"},
    {"rate", 'r', 0, "R", "offer R requests/s instead of a closed loop"},
    {"mix", 'm', 0, "SPEC",
     "the mix of kinds in percent "
     "(record=80,redeem=10,balance=10)"},
    {"accounts", 'a', 0, "A", "accounts the load spreads over (10000)"},
    {"reads", 'R', 0, "N", "balance reads of the reads phase (N; 0: none)"},
    {"no-half", 'H', 0, NULL, "no phase at half the peak rate"},
    {"fill", 'f', 0, "N", "first add N records, untimed"},
    {"verify-seconds", 'V', 0, "S", "each verification measurement (2)"},
    {"sqlite-seconds", 'S', 0, "S", "the SQLite phase (10; 0: none)"},
    {"fsync-samples", 'F', 0, "N", "fdatasync samples (50)"},
    {"timebankd", 'D', 0, "PATH", "the daemon to start"},
    {"set", 'C', 0, "NAME=VALUE",
     "a timebankd.conf(5) setting for the daemon it starts (repeatable)"},
    {"socket", 's', 0, "PATH", "use this running daemon instead"},
    {"admin-key", 'k', 0, "FILE", "its admin's secret key (with --socket)"},
    {"data", 'A', 0, "DIR", "its data directory (else found in /proc)"},
    {"json", 'j', 0, NULL, "one JSON object on stdout"},
    {"help", 'h', 1, NULL, "print this help and exit"},
    {"man", BENCH_OPT_MAN, 0, NULL, NULL},
};

#define BENCH_NOPTIONS                                                         \
        (sizeof(bench_option_table) / sizeof(bench_option_table[0]))

/* Fill getopt_long()'s long options (NULL-terminated) and short ones. */
static void bench_getopt_spec(struct option longs[BENCH_NOPTIONS + 1],
                              char shorts[2 * BENCH_NOPTIONS + 1])
{
        size_t n = 0;

        for (size_t i = 0; i < BENCH_NOPTIONS; i++) {
                longs[i] = (struct option){bench_option_table[i].name,
                                           bench_option_table[i].arg != NULL
                                               ? required_argument
                                               : no_argument,
                                           NULL, bench_option_table[i].val};
                if (!bench_option_table[i].short_form)
                        continue;
                shorts[n++] = (char)bench_option_table[i].val;
                if (bench_option_table[i].arg != NULL)
                        shorts[n++] = ':';
        }
        longs[BENCH_NOPTIONS] = (struct option){NULL, 0, NULL, 0};
        shorts[n] = 0;
}

static void bench_usage(FILE *f)
{
        char spec[64];

        fprintf(f,
                "usage: timebank-bench [options]\n"
                "\n"
                "Loads a timebankd with C terminals and reports requests/s,\n"
                "latency per kind, the daemon's CPU, memory and bytes per\n"
                "entry, next to one Ed25519 verification, the verification\n"
                "ceiling of all cores and a SQLite program doing the same\n"
                "work.  Without --socket it starts its own timebankd on a\n"
                "scratch directory and removes it after.\n"
                "\n");
        for (size_t i = 0; i < BENCH_NOPTIONS; i++) {
                const char *arg = bench_option_table[i].arg;
                if (bench_option_table[i].help == NULL)
                        continue;
                if (bench_option_table[i].short_form)
                        snprintf(spec, sizeof(spec), "-%c, --%s%s%s",
                                 bench_option_table[i].val,
                                 bench_option_table[i].name, arg ? " " : "",
                                 arg ? arg : "");
                else
                        snprintf(spec, sizeof(spec), "    --%s%s%s",
                                 bench_option_table[i].name, arg ? " " : "",
                                 arg ? arg : "");
                fprintf(f, "  %-24s%s\n", spec, bench_option_table[i].help);
        }
}

/* s in roff: a '-' is a minus, a backslash escaped. */
static void bench_man_text(const char *s)
{
        for (; *s != 0; s++)
                if (*s == '-')
                        fputs("\\-", stdout);
                else if (*s == '\\')
                        fputs("\\e", stdout);
                else
                        putchar(*s);
}

static void bench_man_options(void)
{
        for (size_t i = 0; i < BENCH_NOPTIONS; i++) {
                if (bench_option_table[i].help == NULL)
                        continue;
                fputs(".TP\n", stdout);
                if (bench_option_table[i].short_form)
                        printf("\\fB\\-%c\\fR, ", bench_option_table[i].val);
                fputs("\\fB\\-\\-", stdout);
                bench_man_text(bench_option_table[i].name);
                fputs("\\fR", stdout);
                if (bench_option_table[i].arg != NULL) {
                        fputs(" \\fI", stdout);
                        bench_man_text(bench_option_table[i].arg);
                        fputs("\\fR", stdout);
                }
                putchar('\n');
                bench_man_text(bench_option_table[i].help);
                putchar('\n');
        }
}

/*
 * The man page (installed as timebank-bench.1): the template
 * bench/timebank-bench.1.in, compiled in, with its slots filled: the
 * version, and the line that is only @OPTIONS@.  Exits.
 */
__attribute__((noreturn)) static void bench_man(void)
{
        static const char version[] = "@VERSION@", options[] = "@OPTIONS@\n";
        const char *s = timebank_bench_1_in;

        while (*s != 0) {
                if (strncmp(s, version, sizeof(version) - 1) == 0) {
                        fputs(TIMEBANK_VERSION, stdout);
                        s += sizeof(version) - 1;
                } else if (strncmp(s, options, sizeof(options) - 1) == 0) {
                        bench_man_options();
                        s += sizeof(options) - 1;
                } else {
                        putchar(*s++);
                }
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                bench_fail("writing the man page failed");
                exit(1);
        }
        exit(0);
}

/* --set NAME=VALUE: a setting line for the daemon's timebankd.conf. */
static int bench_parse_set(const char *arg, struct bench_opts *o)
{
        const char *eq = strchr(arg, '=');

        if (eq == NULL || eq == arg || eq[1] == '\0' ||
            strpbrk(arg, "\n\r#") != NULL)
                return bench_fail("--set %s: expected NAME=VALUE on one line "
                                  "(a timebankd.conf setting), e.g. "
                                  "--set batch_wait_us=1000",
                                  arg);
        if (o->nsets == BENCH_SETS_MAX)
                return bench_fail("--set: at most %d settings", BENCH_SETS_MAX);
        o->sets[o->nsets++] = arg;
        return 0;
}

static int bench_parse_mix(const char *spec, unsigned mix[3])
{
        char buf[128], *tok, *save = NULL;

        mix[0] = mix[1] = mix[2] = 0;
        snprintf(buf, sizeof(buf), "%s", spec);
        for (tok = strtok_r(buf, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(tok, '='), *end;
                unsigned long v;
                unsigned k;

                if (eq == NULL)
                        return bench_fail("--mix: '%s' is not kind=percent",
                                          tok);
                *eq = '\0';
                for (k = 0; k < 3 && strcmp(tok, bench_kind_name(k)) != 0; k++)
                        ;
                v = strtoul(eq + 1, &end, 10);
                if (k == 3 || *end != '\0' || v > 100)
                        return bench_fail("--mix: '%s=%s': kinds are record, "
                                          "redeem, balance; percents 0..100",
                                          tok, eq + 1);
                mix[k] = (unsigned)v;
        }
        if (mix[0] + mix[1] + mix[2] != 100)
                return bench_fail("--mix: the percents must add up to 100");
        return 0;
}

static int bench_number(const char *opt, const char *s, double lo, double hi,
                        double *out)
{
        char *end;
        double v = strtod(s, &end);

        if (end == s || *end != '\0' || v < lo || v > hi)
                return bench_fail("%s: '%s' is not a number from %g to %g", opt,
                                  s, lo, hi);
        *out = v;
        return 0;
}

static int bench_options(int argc, char **argv, struct bench_opts *o)
{
        struct option longs[BENCH_NOPTIONS + 1];
        char shorts[2 * BENCH_NOPTIONS + 1];
        int c, reads_set = 0;
        double v = 0;

        memset(o, 0, sizeof(*o));
        o->conns = 32;
        o->depth = 8;
        o->requests = 100000;
        o->accounts = 10000;
        o->mix[0] = 80;
        o->mix[1] = 10;
        o->mix[2] = 10;
        o->verify_s = 2;
        o->sqlite_s = 10;
        o->fsync_n = 50;
        o->half = 1;
        bench_getopt_spec(longs, shorts);
        while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
                int rc = 0;

                switch (c) {
                case 'c':
                        rc = bench_number("--connections", optarg, 1,
                                          BENCH_CONNS_MAX, &v);
                        o->conns = (unsigned)v;
                        break;
                case 'd':
                        rc = bench_number("--depth", optarg, 1, BENCH_DEPTH_MAX,
                                          &v);
                        o->depth = (unsigned)v;
                        break;
                case 'n':
                        rc = bench_number("--requests", optarg, 1, 1e8, &v);
                        o->requests = (uint64_t)v;
                        break;
                case 'r':
                        rc = bench_number("--rate", optarg, 1, 1e7, &o->rate);
                        break;
                case 'm':
                        rc = bench_parse_mix(optarg, o->mix);
                        break;
                case 'a':
                        rc = bench_number("--accounts", optarg, 1, 1e7, &v);
                        o->accounts = (unsigned)v;
                        break;
                case 'R':
                        rc = bench_number("--reads", optarg, 0, 1e8, &v);
                        o->reads = (uint64_t)v;
                        reads_set = 1;
                        break;
                case 'H':
                        o->half = 0;
                        break;
                case 'f':
                        rc = bench_number("--fill", optarg, 0, 1e8, &v);
                        o->fill = (uint64_t)v;
                        break;
                case 'V':
                        rc = bench_number("--verify-seconds", optarg, 0.01, 60,
                                          &o->verify_s);
                        break;
                case 'S':
                        rc = bench_number("--sqlite-seconds", optarg, 0, 600,
                                          &o->sqlite_s);
                        break;
                case 'F':
                        rc = bench_number("--fsync-samples", optarg, 1, 10000,
                                          &v);
                        o->fsync_n = (unsigned)v;
                        break;
                case 'D':
                        o->timebankd = optarg;
                        break;
                case 'C':
                        rc = bench_parse_set(optarg, o);
                        break;
                case 's':
                        o->socket = optarg;
                        break;
                case 'k':
                        o->admin_key = optarg;
                        break;
                case 'A':
                        o->data = optarg;
                        break;
                case 'j':
                        o->json = 1;
                        break;
                case 'h':
                        bench_usage(stdout);
                        exit(0);
                case BENCH_OPT_MAN:
                        bench_man();
                default:
                        bench_usage(stderr);
                        return -1;
                }
                if (rc != 0)
                        return -1;
        }
        if (optind != argc) {
                bench_usage(stderr);
                return -1;
        }
        if ((o->socket == NULL) != (o->admin_key == NULL))
                return bench_fail("--socket and --admin-key go together");
        if (o->socket != NULL && o->nsets > 0)
                return bench_fail("--set is for the daemon timebank-bench "
                                  "starts, not for one given by --socket");
        if (!reads_set)
                o->reads = o->requests;
        if (o->rate > 0)
                o->half = 0;
        /* Each account takes BENCH_SLOTS services (an hour apart in the
         * last 28 days): say so now, not after a fill of hours.  The
         * phases check exactly again (redeems against the funding too). */
        {
                uint64_t load = o->requests + (o->half ? o->requests / 4 : 0);
                uint64_t records = o->fill + load * o->mix[0] / 100;
                uint64_t room = (uint64_t)o->accounts * BENCH_SLOTS;

                if (records > room)
                        return bench_fail(
                            "%u accounts take at most %llu services (%d "
                            "each), and this run records about %llu "
                            "(--fill and the phases): raise --accounts to "
                            "at least %llu",
                            o->accounts, (unsigned long long)room, BENCH_SLOTS,
                            (unsigned long long)records,
                            (unsigned long long)((records + BENCH_SLOTS - 1) /
                                                 BENCH_SLOTS * 11 / 10));
        }
        return 0;
}

static void bench_cpu_model(char *out, size_t cap)
{
        char line[256];
        FILE *f = fopen("/proc/cpuinfo", "r");

        snprintf(out, cap, "unknown");
        if (f == NULL)
                return;
        while (fgets(line, sizeof(line), f) != NULL) {
                char *colon = strchr(line, ':');
                if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
                        snprintf(out, cap, "%s", colon + 2);
                        out[strcspn(out, "\n")] = '\0';
                        break;
                }
        }
        (void)fclose(f);
}

static const char *tmpdir(void)
{
        const char *t = getenv("TMPDIR");

        return t != NULL && t[0] != '\0' ? t : "/tmp";
}

/* Run one load phase: scripts already signed; /proc and STATUS around it. */
static int bench_phase_run(const struct bench_ledger *l,
                           const struct bench_opts *o, struct bench_script *s,
                           double rate, struct bench_phase *ph)
{
        uint64_t disk0;

        ph->rate = rate;
        if (bench_ledger_status(l, &ph->tree0, &disk0) != 0)
                return -1;
        /* the batch counters are for the report only: a daemon without
         * them (older than STATS) leaves them unknown */
        ph->ok_batches =
            bench_ledger_batches(l, &ph->batches[0], &ph->batch_writes[0]) == 0;
        bench_proc_read(l->pid, &ph->p0);
        if (bench_load_run(l->sock, s, l->conns, o->depth, rate, &ph->run) != 0)
                return -1;
        bench_proc_read(l->pid, &ph->p1);
        ph->ok_batches =
            ph->ok_batches &&
            bench_ledger_batches(l, &ph->batches[1], &ph->batch_writes[1]) == 0;
        if (bench_ledger_status(l, &ph->tree1, &ph->disk1) != 0)
                return -1;
        ph->done = 1;
        for (unsigned k = 0; k < BENCH_KINDS; k++)
                if (ph->run.kind[k].failed != 0)
                        return bench_fail(
                            "%s phase: %llu %s requests were not answered "
                            "OK, the first %u '%s'",
                            ph->name,
                            (unsigned long long)ph->run.kind[k].failed,
                            bench_kind_name(k), ph->run.kind[k].first_status,
                            ph->run.kind[k].first_msg);
        return 0;
}

static int bench_fill(struct bench_ledger *l, const struct bench_opts *o)
{
        static const unsigned records[3] = {100, 0, 0};
        uint64_t left = o->fill;

        while (left > 0) {
                uint64_t n = left < 200000 ? left : 200000;
                struct bench_script *s;
                struct bench_phase ph;
                int rc;

                memset(&ph, 0, sizeof(ph));
                ph.name = "fill";
                if (bench_scripts_build(l, records, n, &s) != 0)
                        return -1;
                rc = bench_phase_run(l, o, s, 0, &ph);
                bench_run_free(&ph.run);
                bench_scripts_free(s, l->conns);
                if (rc != 0)
                        return -1;
                left -= n;
        }
        return 0;
}

/* Everything after the ledger is ready; the scripts of the peak phase
 * are kept for the SQLite program. */
static int bench_phases(struct bench_ledger *l, const struct bench_opts *o,
                        struct bench_report *rep)
{
        static const unsigned reads_only[3] = {0, 0, 100};
        struct bench_script *peak = NULL, *s = NULL;
        double idle0;
        int rc = -1;

        if (o->fill > 0 && bench_fill(l, o) != 0)
                return -1;
        rep->peak.name = "peak";
        rep->reads.name = "reads";
        rep->half.name = "half";
        if (bench_scripts_build(l, o->mix, o->requests, &peak) != 0 ||
            bench_phase_run(l, o, peak, o->rate, &rep->peak) != 0)
                goto out;
        if (o->reads > 0 &&
            (bench_scripts_build(l, reads_only, o->reads, &s) != 0 ||
             bench_phase_run(l, o, s, 0, &rep->reads) != 0))
                goto out;
        bench_scripts_free(s, l->conns);
        s = NULL;
        if (o->half) {
                double r = 0.5 * (double)bench_report_count(&rep->peak, -1) /
                           rep->peak.run.seconds;
                uint64_t n = o->requests / 4 ? o->requests / 4 : 1;

                if (bench_scripts_build(l, o->mix, n, &s) != 0 ||
                    bench_phase_run(l, o, s, r, &rep->half) != 0)
                        goto out;
        }
        bench_proc_read(l->pid, &rep->mem);
        idle0 = bench_now_s();
        if (bench_verify_us(o->verify_s, &rep->verify_us,
                            &rep->verify_wall_us) != 0 ||
            bench_verify_ceiling((unsigned)rep->nproc, o->verify_s,
                                 &rep->ceiling) != 0)
                goto out;
        /* the daemon has been idle since the load: what it keeps */
        bench_proc_read(l->pid, &rep->mem_idle);
        rep->idle_s = bench_now_s() - idle0;
        if (o->sqlite_s > 0 &&
            bench_sqlite_run(l->own ? l->dir : tmpdir(), l->origin, peak,
                             l->conns, o->sqlite_s, rep->peak.tree0,
                             l->accounts, &rep->sqlite) != 0)
                goto out;
        rc = 0;
out:
        bench_scripts_free(peak, l->conns);
        bench_scripts_free(s, l->conns);
        return rc;
}

static int bench_admin(const struct bench_opts *o, struct tb_skey **admin)
{
        if (tb_keyfile_read_secret(o->admin_key, admin) != TB_OK)
                return bench_fail("cannot read the admin key %s", o->admin_key);
        return 0;
}

int main(int argc, char **argv)
{
        struct bench_report *rep = calloc(1, sizeof(*rep));
        struct bench_ledger l;
        struct tb_skey *admin = NULL;
        struct bench_opts o;
        char timebankd[4096];
        int rc = -1;

        memset(&l, 0, sizeof(l));
        l.pid = -1;
        if (rep == NULL || bench_options(argc, argv, &o) != 0) {
                free(rep);
                return 2;
        }
        if (sodium_init() < 0) {
                free(rep);
                (void)bench_fail("sodium_init failed");
                return 1;
        }
        rep->nproc = sysconf(_SC_NPROCESSORS_ONLN);
        if (rep->nproc < 1)
                rep->nproc = 1;
        bench_cpu_model(rep->cpu_model, sizeof(rep->cpu_model));
        l.conns = o.conns;
        if (o.socket != NULL) {
                if (bench_admin(&o, &admin) != 0 ||
                    bench_ledger_attach(&l, o.socket, o.data) != 0)
                        goto out;
        } else {
                if (o.timebankd != NULL)
                        snprintf(timebankd, sizeof(timebankd), "%s",
                                 o.timebankd);
                else if (bench_find_timebankd(timebankd, sizeof(timebankd)) !=
                         0)
                        goto out;
                if (bench_ledger_start(&l, timebankd, o.conns, o.depth, o.sets,
                                       o.nsets, &admin) != 0)
                        goto out;
        }
        snprintf(rep->fsync_dir, sizeof(rep->fsync_dir), "%s",
                 l.data[0] ? l.data : tmpdir());
        if (bench_fsync_us(rep->fsync_dir, o.fsync_n, &rep->fsync_us) != 0 ||
            bench_ledger_prepare(&l, admin, o.accounts, o.depth) != 0 ||
            bench_phases(&l, &o, rep) != 0)
                goto out;
        rc = 0;
out:
        rep->pid = (long)l.pid;
        tb_skey_free(admin);
        if (bench_ledger_stop(&l) != 0)
                rc = -1;
        if (rc == 0)
                bench_report_print(rep, &l, &o);
        bench_run_free(&rep->peak.run);
        bench_run_free(&rep->reads.run);
        bench_run_free(&rep->half.run);
        free(rep);
        return rc == 0 ? 0 : 1;
}
