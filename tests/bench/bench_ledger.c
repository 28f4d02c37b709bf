/*
 * tests/bench/bench_ledger.c - throughput and read latency of the ledger
 * engine on a real LMDB environment (docs/performance.md has the figures).
 *
 *   bench_ledger [-n entries] [-a accounts] [-b batch] [-r] [-V] [-S] [-c]
 *                [dir]
 *   bench_ledger -R -a accounts dir
 *
 * Appends `entries` service entries (default 1,000,000) in batches of 256,
 * signed before the clock starts, over `accounts` accounts (default
 * 10,000) whose services never overlap, so no rule refuses any; then times
 * inclusion proofs, consistency proofs, balance lookups and history pages
 * at the final size, and the quick self-check of ledger_open.  -r scatters
 * the accounts: consecutive services credit accounts far apart in key
 * order (as many terminals serving different people would), instead of
 * neighbours, so that a batch of b services lands on about b different
 * leaves of `accounts` while b is well below its leaves (2,703 at 100,000
 * accounts): the case that costs a 4 KiB page per entry (docs/performance.md,
 * "Bytes written per entry: what the account rows cost"; preload
 * liblmdb_pages.so, tests/bench/lmdb_pages.c, for the bytes per database).
 * -R only times the reads, on the ledger a run left in dir
 * (to compare two builds on the same data, one after the other).  Entries are
 * passed as pre-verified, as the daemon does (it checks signatures on worker
 * threads); -V makes the writer verify them too.  -b changes the batch size
 * (1..256), -S opens the ledger without fsync (MDB_NOSYNC: to measure what
 * durability costs, never a configuration to run), -c runs the full replay
 * check at the end.  The ledger goes to a fresh temporary directory (removed
 * afterwards) or to dir, which must not hold a ledger (kept).  Exit status
 * 1 if anything was refused or failed.
 *
 * The rules' cost per service (ledger_rules_apply alone, no idempotency,
 * log or tree, in one write transaction that is aborted): a service in a
 * fresh slot (accepted: the overlap check finds nothing), one on the
 * account's newest slot (refused: overlapping its newest service) and one
 * on its first slot, 29 days back (refused: overlapping its oldest).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "entry.h"
#include "ledger.h"
#include "ledger_int.h" /* the rules alone, in an aborted transaction */
#include "merkle.h"
#include "note.h"

#define B_ORIGIN  "bench.example/ledger"
#define B_NOW     1700000000
#define B_BATCH   256 /* the largest batch; -b */
#define B_SAMPLES 10000
#define B_OPENS   5

static size_t batch_size = B_BATCH;
static int64_t rid_ms; /* the request ids' clock: the real one at start */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
        uint64_t x = rng_state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rng_state = x;
        return x * 0x2545f4914f6cdd1du;
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
        fprintf(stderr, "bench_ledger: %s: %d\n", what, err);
        exit(1);
}

struct bkey {
        uint8_t pk[TB_PUBKEY_SIZE];
        uint8_t sk[TB_SECKEY_SIZE];
};

static void bkey_make(struct bkey *k, uint8_t seed_byte)
{
        uint8_t seed[crypto_sign_SEEDBYTES];

        memset(seed, seed_byte, sizeof(seed));
        if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0)
                die("keypair", 0);
}

static size_t sign_entry(struct tb_entry *e, uint32_t rid, const struct bkey *k,
                         uint8_t *out)
{
        const uint8_t rnd[10] = {0xbe,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 (uint8_t)(rid >> 24),
                                 (uint8_t)(rid >> 16),
                                 (uint8_t)(rid >> 8),
                                 (uint8_t)rid};
        size_t len;

        e->version = TB_ENTRY_VERSION;
        memcpy(e->signer, k->pk, TB_PUBKEY_SIZE);
        /* as the CLI makes them: a millisecond clock first (the real one,
         * after the genesis entry's, one tick per request), then the rest */
        if (tb_request_id_make(rid_ms + rid, rnd, e->request_id) != TB_OK)
                die("request id", 0);
        e->clock = B_NOW;
        if (tb_entry_encode(e, out, TB_BODY_MAX, &len) != TB_OK)
                die("encode", 0);
        if (tb_entry_sign(B_ORIGIN, out, len, k->sk, out + len) != TB_OK)
                die("sign", 0);
        return len + TB_SIG_SIZE;
}

/* Apply n signed entries of stride `stride` in batches of B_BATCH; returns
 * the number refused. */
static uint64_t apply_all(struct ledger *l, const uint8_t *buf, size_t stride,
                          size_t n, int verified)
{
        struct ledger_item items[B_BATCH];
        struct ledger_result res[B_BATCH];
        uint64_t refused = 0;
        size_t i, j, m;
        enum ledger_err err;

        for (i = 0; i < n; i += m) {
                m = n - i < batch_size ? n - i : batch_size;
                for (j = 0; j < m; j++) {
                        items[j].signed_entry = buf + (i + j) * stride;
                        items[j].len = stride;
                        items[j].received = B_NOW;
                        items[j].verified = verified;
                }
                err = ledger_apply_batch(l, items, m, res);
                if (err != LEDGER_OK)
                        die(ledger_strerror(err), (int)err);
                for (j = 0; j < m; j++)
                        if (res[j].status != 0) {
                                if (refused == 0)
                                        fprintf(stderr,
                                                "refused: status %u: %s\n",
                                                res[j].status, res[j].detail);
                                refused++;
                        }
        }
        return refused;
}

/* A counter of Linux /proc/self/io so far, or 0 when unknown: write_bytes
 * (what the page cache counted as dirtied for the disk: whole folios, so
 * on kernels with large folios more than was written) or wchar (bytes
 * passed to write(2) and pwrite(2): what LMDB wrote, page by page). */
static uint64_t io_counter(const char *name)
{
        char line[128];
        size_t n = strlen(name);
        unsigned long long v = 0;
        FILE *f = fopen("/proc/self/io", "r");

        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, name, n) == 0 && line[n] == ':') {
                        v = strtoull(line + n + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

static uint64_t io_written(void)
{
        return io_counter("write_bytes");
}

static uint64_t io_wchar(void)
{
        return io_counter("wchar");
}

static void account_name(char *out, size_t cap, uint64_t i)
{
        snprintf(out, cap, "v%07" PRIu64, i);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
        while (b != 0) {
                uint64_t r = a % b;

                a = b;
                b = r;
        }
        return a;
}

/*
 * -r's stride: the first number from 0.618 x accounts up that is prime
 * to accounts, so that k -> k * stride mod accounts is a permutation whose
 * consecutive values are far apart in key order (the golden ratio's
 * spread).  Until 2026-11-30 the stride was the constant 1,000,003, which
 * is 3 modulo both 10,000 and 100,000: "scattered" services went to
 * accounts three apart, neighbours on the same leaf, and the bytes
 * written per entry were far below what scattered accounts cost.
 */
static uint64_t scatter_stride(uint64_t accounts)
{
        uint64_t m = accounts * 618 / 1000;

        if (m == 0)
                m = 1;
        while (gcd(m, accounts) != 1)
                m++;
        return m;
}

/* The account of service i: i % accounts, or with -r the same slot
 * permuted (round r = i / accounts still visits every account once, so
 * slots never overlap). */
static uint64_t service_account(uint64_t i, uint64_t accounts, int scatter)
{
        static uint64_t stride, stride_of;
        uint64_t k = i % accounts;

        if (!scatter)
                return k;
        if (stride_of != accounts) {
                stride = scatter_stride(accounts);
                stride_of = accounts;
        }
        return (k * stride + i / accounts) % accounts;
}

/* The mean cost of ledger_rules_apply for a service of a random account
 * at the slot slot(account) returns, in write transactions of B_BATCH
 * calls that are aborted (as a batch's, but never committed); want is
 * the status every call must get. */
static double time_rules(struct ledger *l, uint64_t size, uint64_t accounts,
                         const struct bkey *k,
                         int64_t (*slot)(uint64_t account, uint64_t i),
                         unsigned want)
{
        struct ledger_txn t;
        struct ledger_rules_ctx a = {size, B_NOW, 0};
        struct ledger_result r;
        struct tb_entry e;
        uint64_t i, acct;
        double t0, dt;
        unsigned st;

        memset(&e, 0, sizeof(e));
        e.version = TB_ENTRY_VERSION;
        e.kind = TB_KIND_SERVICE;
        memcpy(e.signer, k->pk, TB_PUBKEY_SIZE);
        e.u.service.minutes = 1;
        t0 = now_s();
        for (i = 0; i < B_SAMPLES; i++) {
                if (i % B_BATCH == 0 && (i == 0 || (ledger_txn_abort(&t), 1)) &&
                    ledger_txn_begin(&t, l, 0))
                        die("rules transaction", t.rc);
                acct = rng() % accounts;
                account_name(e.u.service.account, sizeof(e.u.service.account),
                             acct);
                e.u.service.start = slot(acct, i);
                memset(&r, 0, sizeof(r));
                st = ledger_rules_apply(l, &t, &a, &e, &r);
                if (t.rc)
                        die("rules: LMDB", t.rc);
                if (st != want)
                        die("rules: unexpected status", (int)st);
        }
        dt = (now_s() - t0) / B_SAMPLES;
        ledger_txn_abort(&t);
        return dt;
}

static uint64_t g_n, g_accounts;

/* The slot of the last full round: every account has a service there (its
 * newest when entries are a multiple of accounts, as in the runs of
 * docs/performance.md). */
static int64_t slot_newest(uint64_t acct, uint64_t i)
{
        (void)acct;
        (void)i;
        return B_NOW - 29 * 86400 + (int64_t)(g_n / g_accounts - 1) * 60;
}

static int64_t slot_oldest(uint64_t acct, uint64_t i)
{
        (void)acct;
        (void)i;
        return B_NOW - 29 * 86400;
}

/* After every round's slot, one minute per sample: never overlapping. */
static int64_t slot_fresh(uint64_t acct, uint64_t i)
{
        (void)acct;
        return B_NOW - 29 * 86400 +
               (int64_t)((g_n + g_accounts - 1) / g_accounts + i) * 60;
}

static void rm_ledger(const char *dir)
{
        static const char *const names[] = {"data.mdb", "lock.mdb", "log.key",
                                            "log.pub"};
        char path[PATH_MAX + 16];
        size_t i;

        for (i = 0; i < 4; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                (void)unlink(path);
        }
        (void)rmdir(dir);
}

int main(int argc, char **argv)
{
        static uint8_t pbuf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        uint64_t n = 1000000, accounts = 10000, refused = 0, i;
        int verified = 1, full = 0, opt, keep = 0, nosync = 0, scatter = 0,
            reads_only = 0;
        uint64_t written, wchar;
        char dir[PATH_MAX], path[PATH_MAX + 16], name[32];
        struct ledger_options o;
        struct ledger *l = NULL;
        struct bkey admin, rec;
        struct tb_entry e;
        struct tb_status_info st;
        struct tb_balance_info bi;
        struct tb_proof p;
        static struct tb_history hist;
        static uint8_t hbuf[TB_HISTORY_MAX * TB_RECORD_MAX];
        struct stat sb;
        uint8_t *buf, *reg;
        size_t stride, len;
        uint64_t size;
        double t0, t_append, t_incl, t_cons, t_bal, t_hist, t_open = 0,
                                                            t_open_min = 1e9;
        double t_rule_fresh = 0, t_rule_newest = 0, t_rule_oldest = 0;
        enum ledger_err err;

        while ((opt = getopt(argc, argv, "n:a:b:rRVSc")) != -1) {
                switch (opt) {
                case 'n':
                        n = strtoull(optarg, NULL, 10);
                        break;
                case 'a':
                        accounts = strtoull(optarg, NULL, 10);
                        break;
                case 'b':
                        batch_size = strtoul(optarg, NULL, 10);
                        break;
                case 'r':
                        scatter = 1;
                        break;
                case 'R':
                        reads_only = 1;
                        break;
                case 'V':
                        verified = 0;
                        break;
                case 'S':
                        nosync = 1;
                        break;
                case 'c':
                        full = 1;
                        break;
                default:
                        fprintf(stderr,
                                "usage: bench_ledger [-n entries] [-a "
                                "accounts] [-b batch] [-r] [-V] [-S] [-c] "
                                "[dir]\n");
                        return 2;
                }
        }
        if (batch_size == 0 || batch_size > B_BATCH) {
                fprintf(stderr, "bench_ledger: batch is 1..%d\n", B_BATCH);
                return 2;
        }
        if (n == 0 || accounts == 0 || accounts > 9999999 ||
            (n + accounts - 1) / accounts > 29 * 1440) {
                fprintf(stderr, "bench_ledger: need 1 <= entries / accounts "
                                "<= 41760\n");
                return 2;
        }
        if (sodium_init() < 0)
                die("sodium_init", 0);
        {
                struct timespec ts;
                if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
                        die("clock_gettime", errno);
                rid_ms = (int64_t)ts.tv_sec * 1000 + 1000;
        }
        if (optind < argc) {
                snprintf(dir, sizeof(dir), "%s", argv[optind]);
                keep = 1;
        } else {
                const char *tmp = getenv("TMPDIR");
                snprintf(dir, sizeof(dir), "%s/tb-bench-XXXXXX",
                         tmp ? tmp : "/tmp");
                if (!mkdtemp(dir))
                        die("mkdtemp", errno);
        }
        bkey_make(&admin, 1);
        bkey_make(&rec, 2);
        ledger_options_default(&o);
        o.sync = !nosync;
        if (reads_only) {
                if (!keep)
                        die("-R needs the directory of a kept run", 0);
                err = ledger_open(dir, &o, &l);
                if (err)
                        die(ledger_strerror(err), (int)err);
                written = wchar = 0;
                t_append = 0;
                goto reads;
        }
        err = ledger_init(dir, B_ORIGIN, admin.pk, "admin", &o);
        if (err)
                die(ledger_strerror(err), (int)err);
        err = ledger_open(dir, &o, &l);
        if (err)
                die(ledger_strerror(err), (int)err);

        /* Setup, not timed: enroll the terminal, register the accounts. */
        reg = malloc((accounts + 1) * TB_SIGNED_MAX);
        if (!reg)
                die("malloc", ENOMEM);
        memset(&e, 0, sizeof(e));
        e.kind = TB_KIND_ENROLL;
        memcpy(e.u.enroll.key, rec.pk, TB_PUBKEY_SIZE);
        e.u.enroll.roles = TB_ROLE_RECORD;
        snprintf(e.u.enroll.name, sizeof(e.u.enroll.name), "terminal");
        len = sign_entry(&e, 0, &admin, reg);
        refused += apply_all(l, reg, len, 1, 0);
        for (i = 0; i < accounts; i++) {
                memset(&e, 0, sizeof(e));
                e.kind = TB_KIND_REGISTER;
                account_name(e.u.reg.account, sizeof(e.u.reg.account), i);
                len = sign_entry(&e, (uint32_t)(1 + i), &rec,
                                 reg + i * TB_SIGNED_MAX);
        }
        /* every name has 8 characters: the registers share one length */
        for (i = 1; i < accounts; i++)
                memmove(reg + i * len, reg + i * TB_SIGNED_MAX, len);
        refused += apply_all(l, reg, len, accounts, 1);
        free(reg);

        /* Sign every service entry before the clock starts.  Service i
         * credits account i % accounts for the minute slot i / accounts of
         * the last 29 days: no overlap, no cap, all inside the window. */
        memset(&e, 0, sizeof(e));
        e.kind = TB_KIND_SERVICE;
        account_name(e.u.service.account, sizeof(e.u.service.account), 0);
        e.u.service.start = B_NOW - 29 * 86400;
        e.u.service.minutes = 1;
        {
                uint8_t tmp[TB_SIGNED_MAX];
                stride = sign_entry(&e, 0, &rec, tmp);
        }
        buf = malloc(n * stride);
        if (!buf)
                die("malloc", ENOMEM);
        t0 = now_s();
        for (i = 0; i < n; i++) {
                memset(&e, 0, sizeof(e));
                e.kind = TB_KIND_SERVICE;
                account_name(e.u.service.account, sizeof(e.u.service.account),
                             service_account(i, accounts, scatter));
                e.u.service.start =
                    B_NOW - 29 * 86400 + (int64_t)(i / accounts) * 60;
                e.u.service.minutes = 1;
                if (sign_entry(&e, (uint32_t)(accounts + 1 + i), &rec,
                               buf + i * stride) != stride)
                        die("entry length varies", 0);
        }
        printf("signing:            %.1f s for %" PRIu64
               " entries (not timed below)\n",
               now_s() - t0, n);

        fflush(stdout);
        written = io_written();
        wchar = io_wchar();
        t0 = now_s();
        refused += apply_all(l, buf, stride, n, verified);
        t_append = now_s() - t0;
        written = io_written() - written;
        wchar = io_wchar() - wchar;
        free(buf);

reads:
        err = ledger_status(l, &st);
        if (err)
                die(ledger_strerror(err), (int)err);
        size = st.tree_size;
        snprintf(path, sizeof(path), "%s/data.mdb", dir);
        if (stat(path, &sb) != 0)
                die("stat data.mdb", errno);

        t0 = now_s();
        for (i = 0; i < B_SAMPLES; i++) {
                err = ledger_prove_inclusion(l, rng() % size, 0, &p, pbuf,
                                             sizeof(pbuf));
                if (err)
                        die(ledger_strerror(err), (int)err);
        }
        t_incl = (now_s() - t0) / B_SAMPLES;
        t0 = now_s();
        for (i = 0; i < B_SAMPLES; i++) {
                err = ledger_prove_consistency(l, 1 + rng() % size, 0, &p, pbuf,
                                               sizeof(pbuf));
                if (err)
                        die(ledger_strerror(err), (int)err);
        }
        t_cons = (now_s() - t0) / B_SAMPLES;
        t0 = now_s();
        for (i = 0; i < B_SAMPLES; i++) {
                account_name(name, sizeof(name), rng() % accounts);
                err = ledger_balance(l, name, &bi);
                if (err)
                        die(ledger_strerror(err), (int)err);
        }
        t_bal = (now_s() - t0) / B_SAMPLES;
        t0 = now_s();
        for (i = 0; i < B_SAMPLES; i++) {
                account_name(name, sizeof(name), rng() % accounts);
                err = ledger_history(l, name, TB_SEQ_LATEST, TB_HISTORY_MAX,
                                     &hist, hbuf, sizeof(hbuf));
                if (err)
                        die(ledger_strerror(err), (int)err);
                if (hist.count == 0)
                        die("empty history", 0);
        }
        t_hist = (now_s() - t0) / B_SAMPLES;
        g_n = reads_only ? (size - accounts - 2) : n;
        g_accounts = accounts;
        if (g_n >= accounts && slot_fresh(0, B_SAMPLES) + 60 <= B_NOW) {
                /* room for the aborted writes: the map may be just full
                 * (the batches grow it only when they need to) */
                if (pthread_rwlock_wrlock(&l->resize_lock) ||
                    ledger_txn_resize(l, l->map_size + (256u << 20)) ||
                    pthread_rwlock_unlock(&l->resize_lock))
                        die("map growth", 0);
                l->map_size += 256u << 20;
                t_rule_fresh =
                    time_rules(l, size, accounts, &rec, slot_fresh, TB_ST_OK);
                t_rule_newest = time_rules(l, size, accounts, &rec, slot_newest,
                                           TB_ST_OVERLAPPING_SERVICE);
                t_rule_oldest = time_rules(l, size, accounts, &rec, slot_oldest,
                                           TB_ST_OVERLAPPING_SERVICE);
        }
        for (i = 0; i < B_OPENS; i++) {
                double t;
                ledger_close(l);
                l = NULL;
                t0 = now_s();
                err = ledger_open(dir, &o, &l);
                t = now_s() - t0;
                if (err)
                        die(ledger_strerror(err), (int)err);
                t_open += t / B_OPENS;
                if (t < t_open_min)
                        t_open_min = t;
        }

        if (reads_only)
                goto print_reads;
        printf("entries:            %" PRIu64 " service (+%" PRIu64
               " setup) over %" PRIu64 " accounts%s, batches of %zu, %s%s\n",
               n, accounts + 1, accounts, scatter ? " (scattered)" : "",
               batch_size, verified ? "pre-verified" : "verified by the writer",
               nosync ? ", NO fsync" : "");
        printf("append:             %.2f s, %.0f entries/s, %.0f batches/s\n",
               t_append, (double)n / t_append,
               (double)((n + batch_size - 1) / batch_size) / t_append);
        printf("written:            %.1f MB during append, %.0f bytes/entry "
               "(write_bytes)\n",
               (double)written / 1e6, (double)written / (double)n);
        printf("pwritten:           %.1f MB during append, %.0f bytes/entry "
               "(wchar: what LMDB wrote)\n",
               (double)wchar / 1e6, (double)wchar / (double)n);
print_reads:
        printf("tree size:          %" PRIu64 "\n", size);
        printf("data.mdb:           %lld bytes, %.1f bytes/entry\n",
               (long long)sb.st_size, (double)sb.st_size / (double)n);
        printf("inclusion proof:    %.2f us (mean of %d)\n", t_incl * 1e6,
               B_SAMPLES);
        printf("consistency proof:  %.2f us (mean of %d)\n", t_cons * 1e6,
               B_SAMPLES);
        printf("balance lookup:     %.2f us (mean of %d)\n", t_bal * 1e6,
               B_SAMPLES);
        printf("history page:       %.2f us (mean of %d, up to %d items)\n",
               t_hist * 1e6, B_SAMPLES, TB_HISTORY_MAX);
        printf("rules, fresh slot:  %.2f us (mean of %d, accepted)\n",
               t_rule_fresh * 1e6, B_SAMPLES);
        printf(
            "rules, newest slot: %.2f us (mean of %d, overlaps the newest)\n",
            t_rule_newest * 1e6, B_SAMPLES);
        printf(
            "rules, oldest slot: %.2f us (mean of %d, overlaps the oldest)\n",
            t_rule_oldest * 1e6, B_SAMPLES);
        printf("open + quick check: %.2f ms mean, %.2f ms min (%d opens)\n",
               t_open * 1e3, t_open_min * 1e3, B_OPENS);
        if (full) {
                struct ledger_check_report rep;
                t0 = now_s();
                err = ledger_check_full(l, NULL, &rep);
                if (err)
                        die(ledger_strerror(err), (int)err);
                printf("full check:         %.2f s, %" PRIu64
                       " mismatches %s\n",
                       now_s() - t0, rep.mismatches, rep.first);
                if (rep.mismatches)
                        refused++;
        }
        printf("refused:            %" PRIu64 "\n", refused);
        ledger_close(l);
        if (!keep)
                rm_ledger(dir);
        return refused == 0 ? 0 : 1;
}
