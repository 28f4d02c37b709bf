/*
 * tests/ledger/test_ledger_format2.c - format 3 answers what format 2
 * answered.  Format 3 derives overlap and the daily cap from the account's
 * chain of service rows and a retry's answer from the log and history
 * (docs/storage.md, "Format 3"), where format 2 kept tables of intervals,
 * days and outcomes.  A fixed random sequence dense in what the walk must
 * get right (services back-dated into a three-day window, often abutting,
 * at and around midnight, crossing it, up to a whole day long; reversals;
 * caps and rates changed between services; transfers and redeems
 * interleaved; retries of earlier requests, accepted and refused, after
 * all that) goes through the ledger, and every answer (status, seq,
 * points, balance) and the accounts at the end must be the lines in
 * format2_answers.txt: the answers of format 2's code (commit 28f0931),
 * made by running this same file there with --print (docs/testing.md).
 */
#include <stdarg.h>

#include "ledger_test.h"

#define NOPS  2500
#define NACC  5
#define NSENT 256
#define DAY   86400

static uint64_t rng = 20261130;

static uint64_t rnd(void)
{
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return rng * 2685821657736338717ull;
}

static uint64_t below(uint64_t n)
{
        return rnd() % n;
}

struct sent {
        uint8_t b[TB_SIGNED_MAX];
        size_t len;
};

static struct sent ring[NSENT];
static size_t nsent;
static uint64_t done_seq[4096];
static size_t ndone;

static char *out;
static size_t out_len, out_cap;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
        va_list ap;
        int n;

        if (out_cap - out_len < 256) {
                out_cap = out_cap ? out_cap * 2 : 1 << 16;
                if ((out = realloc(out, out_cap)) == NULL)
                        abort();
        }
        va_start(ap, fmt);
        n = vsnprintf(out + out_len, out_cap - out_len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= out_cap - out_len)
                abort();
        out_len += (size_t)n;
}

static void answer(struct tctx *c, unsigned st, const char *what)
{
        emit("%s %s %llu %lld %llu\n", what, tb_status_name(st),
             (unsigned long long)c->res.seq, (long long)c->res.points,
             (unsigned long long)c->res.balance);
        if (st == TB_ST_OK && ndone < sizeof(done_seq) / sizeof(done_seq[0]))
                done_seq[ndone++] = c->res.seq;
}

/* Sign, apply once, keep the bytes for a later retry. */
static void send(struct tctx *c, const struct tb_entry *e, const struct tkey *k,
                 const char *what)
{
        struct sent *s = &ring[nsent++ % NSENT];
        unsigned st;

        s->len = t_sign(e, k, s->b);
        st = t_apply(c, s->b, s->len);
        answer(c, st, what);
}

static void account(char *acct, size_t cap)
{
        snprintf(acct, cap, "a%u", (unsigned)below(NACC));
}

static void one(struct tctx *c)
{
        static const unsigned mins[] = {1,  2,  5,   15,  30,  45,  59,   60,
                                        61, 90, 120, 180, 240, 600, 1439, 1440};
        static const uint16_t caps[] = {0, 0, 60, 120, 240, 480, 1440};
        static const char *const acts[] = {"", "garden", "cook"};
        const int64_t base = (int64_t)(T_NOW / DAY) * DAY - 4 * DAY;
        struct tb_entry e;
        uint64_t r = below(100);
        int64_t start;

        if (r < 55) { /* a service in a three-day window */
                e = t_entry(c, TB_KIND_SERVICE, &c->rec);
                account(e.u.service.account, sizeof(e.u.service.account));
                start = base + (int64_t)below(3 * 96) * 900;
                if (below(4) == 0) /* at or around a midnight */
                        start = base + (int64_t)below(4) * DAY +
                                ((int64_t)below(3) - 1) * 60 *
                                    (int64_t)(1 + below(30));
                e.u.service.start = start;
                /* a long one (4 h to a day) one time in 12 */
                e.u.service.minutes =
                    (uint16_t)(below(12) ? mins[below(12)]
                                         : mins[12 + below(4)]);
                snprintf(e.u.service.activity, sizeof(e.u.service.activity),
                         "%s", acts[below(3)]);
                send(c, &e, &c->rec, "service");
        } else if (r < 65 && ndone) { /* reverse something done */
                e = t_entry(c, TB_KIND_REVERSE, &c->admin);
                e.u.reverse.seq = done_seq[below(ndone)];
                send(c, &e, &c->admin, "reverse");
        } else if (r < 70) { /* a cap or a rate */
                e = t_entry(c, TB_KIND_POLICY, &c->admin);
                if (below(2)) {
                        e.u.policy.set = TB_POLICY_DAILY_CAP;
                        e.u.policy.daily_minutes_cap =
                            caps[below(sizeof(caps) / sizeof(caps[0]))];
                } else {
                        e.u.policy.set = TB_POLICY_RATE;
                        snprintf(e.u.policy.activity,
                                 sizeof(e.u.policy.activity), "%s",
                                 acts[below(3)]);
                        e.u.policy.points_per_hour = 30 + 30 * below(4);
                }
                send(c, &e, &c->admin, "policy");
        } else if (r < 78) {
                e = t_entry(c, TB_KIND_TRANSFER, &c->red);
                {
                        unsigned f = (unsigned)below(NACC),
                                 t = (f + 1 + (unsigned)below(NACC - 1)) % NACC;
                        snprintf(e.u.transfer.from, sizeof(e.u.transfer.from),
                                 "a%u", f);
                        snprintf(e.u.transfer.to, sizeof(e.u.transfer.to),
                                 "a%u", t);
                }
                e.u.transfer.points = (uint32_t)(1 + below(90));
                send(c, &e, &c->red, "transfer");
        } else if (r < 85) {
                e = t_entry(c, TB_KIND_REDEEM, &c->red);
                account(e.u.redeem.account, sizeof(e.u.redeem.account));
                snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "bread");
                e.u.redeem.points = (uint32_t)(1 + below(120));
                send(c, &e, &c->red, "redeem");
        } else if (nsent) { /* a retry of anything sent before */
                const struct sent *s =
                    &ring[below(nsent < NSENT ? nsent : NSENT)];
                answer(c, t_apply(c, s->b, s->len), "retry");
        }
}

static int compare(const char *path)
{
        FILE *f = fopen(path, "rb");
        char *want;
        long n;
        size_t i, line = 1;

        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0 ||
            (want = malloc((size_t)n + 1)) == NULL) {
                fprintf(stderr, "%s: cannot read\n", path);
                if (f)
                        fclose(f);
                return 0;
        }
        if (fread(want, 1, (size_t)n, f) != (size_t)n) {
                fprintf(stderr, "%s: short read\n", path);
                fclose(f);
                free(want);
                return 0;
        }
        fclose(f);
        for (i = 0; i < out_len && i < (size_t)n && out[i] == want[i]; i++)
                if (out[i] == '\n')
                        line++;
        if (i == out_len && i == (size_t)n) {
                free(want);
                return 1;
        }
        fprintf(stderr, "answers differ from format 2's at line %zu\n", line);
        {
                size_t a = i, b = i;
                while (a > 0 && out[a - 1] != '\n')
                        a--;
                while (b < out_len && out[b] != '\n')
                        b++;
                fprintf(stderr, "  format 3: %.*s\n", (int)(b - a), out + a);
                b = a;
                while (b < (size_t)n && want[b] != '\n')
                        b++;
                if (a <= (size_t)n)
                        fprintf(stderr, "  format 2: %.*s\n", (int)(b - a),
                                want + a);
        }
        free(want);
        return 0;
}

int main(int argc, char **argv)
{
        struct tctx c;
        struct tb_balance_info b;
        char name[8];
        unsigned i;

        /* exploring (docs/testing.md): another seed, printed by both
         * builds and the outputs compared */
        if (argc > 1 && strcmp(argv[1], "--print") == 0 &&
            getenv("TB_FORMAT2_SEED") != NULL)
                rng = strtoull(getenv("TB_FORMAT2_SEED"), NULL, 10) | 1;
        t_setup(&c);
        t_cast(&c);
        for (i = 0; i < NACC; i++) {
                snprintf(name, sizeof(name), "a%u", i);
                CHECK_ERR(t_register(&c, &c.rec, name), TB_ST_OK);
        }
        for (i = 0; i < NOPS; i++) {
                one(&c);
                if (i == NOPS / 2)
                        t_reopen(&c);
        }
        for (i = 0; i < NACC; i++) {
                snprintf(name, sizeof(name), "a%u", i);
                CHECK_ERR(ledger_balance(c.l, name, &b), LEDGER_OK);
                emit("%s balance %llu earned %llu minutes %llu redeemed %llu "
                     "in %llu out %llu entries %llu\n",
                     name, (unsigned long long)b.balance,
                     (unsigned long long)b.earned,
                     (unsigned long long)b.minutes,
                     (unsigned long long)b.redeemed,
                     (unsigned long long)b.transferred_in,
                     (unsigned long long)b.transferred_out,
                     (unsigned long long)b.entries);
        }
        t_teardown(&c);
        if (argc > 1 && strcmp(argv[1], "--print") == 0) {
                fwrite(out, 1, out_len, stdout);
        } else {
                CHECK(
                    compare(TB_SOURCE_DIR "/tests/ledger/format2_answers.txt"));
        }
        free(out);
        return check_done("test_ledger_format2");
}
