/*
 * tests/ledger/test_ledger_behind.c - the account rows written behind
 * (storage format 4, docs/storage.md "Format 4").
 *
 *   - twins: the same random operations (services, redeems, transfers,
 *     reverses, some refused) on a ledger that writes every batch's rows
 *     (accounts_behind 0) and on ledgers that keep 3, 96 and 1,000 rows
 *     behind (the first two flush 1 and 3 rows at a time, sweeping the
 *     ids; the last only at close): every account's row, its newest history
 * item and the account count must be equal after every operation, and both must
 *     pass the full replay check;
 *   - crash: a child process applies operations and exits without closing
 *     (the rows behind are lost, as in a crash); the reopened ledger must
 *     derive them again from the log (ledger_accounts_catch_up) and equal
 *     the twin, meta accounts_through having been behind the tree before;
 *   - readers during flushes: a thread reads balance, then history, then
 *     balance again while the writer flushes every few batches; what it
 *     reads never goes back and agrees with itself;
 *   - upgrade from format 3 (the rows whole, no accounts_through): opened,
 *     refused with LEDGER_E_UPGRADE; upgraded in place with the full check;
 *     a format-3 ledger whose account row is wrong is not upgraded and
 *     stays format 3.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "ledger_tamper.h"
#include "ledger_test.h"

#define NACC 160
#define DAY  86400

static void acct_id(char out[16], unsigned i)
{
        snprintf(out, 16, "acct%02u", i);
}

/* The operations' state: the same seed gives the same operations. */
struct gen {
        uint64_t s;
        int64_t next_start[NACC]; /* services of an account never overlap */
        uint64_t last_service;    /* seq of an accepted service, to reverse */
};

static uint64_t gen_rnd(struct gen *g)
{
        g->s ^= g->s >> 12;
        g->s ^= g->s << 25;
        g->s ^= g->s >> 27;
        return g->s * 0x2545f4914f6cdd1du;
}

static void gen_init(struct gen *g, uint64_t seed)
{
        unsigned i;

        memset(g, 0, sizeof(*g));
        g->s = seed | 1;
        for (i = 0; i < NACC; i++)
                g->next_start[i] = T_NOW - 29 * DAY + (int64_t)i * 7;
}

static void setup(struct tctx *c, uint32_t behind)
{
        struct ledger_options o;
        char a[16];
        unsigned i;

        ledger_options_default(&o);
        o.accounts_behind = behind;
        t_setup_opts(c, &o);
        t_cast(c);
        for (i = 0; i < NACC; i++) {
                acct_id(a, i);
                CHECK_ERR(t_register(c, &c->rec, a), TB_ST_OK);
        }
}

/* One random operation on c; returns its status. */
static unsigned op(struct tctx *c, struct gen *g)
{
        unsigned k = (unsigned)(gen_rnd(g) % 10), i, j, st;
        char a[16], b[16];

        i = (unsigned)(gen_rnd(g) % NACC);
        j = (i + 1 + (unsigned)(gen_rnd(g) % (NACC - 1))) % NACC; /* not i */
        acct_id(a, i);
        acct_id(b, j);
        if (k < 5) {
                unsigned minutes = 15 + (unsigned)(gen_rnd(g) % 90);

                st = t_service(c, &c->rec, a, g->next_start[i], minutes, "");
                g->next_start[i] += (int64_t)minutes * 60 + 60;
                if (st == TB_ST_OK || st == TB_ST_DUPLICATE)
                        g->last_service = c->res.seq;
                return st;
        }
        if (k < 7)
                return t_redeem(c, &c->red, a, 1 + (uint32_t)(gen_rnd(g) % 40));
        if (k < 9)
                return t_transfer(c, &c->red, a, b,
                                  1 + (uint32_t)(gen_rnd(g) % 30));
        if (g->last_service == 0)
                return t_redeem(c, &c->red, a, 1);
        return t_reverse(c, &c->admin, g->last_service);
}

/* Every account's row, newest history item and the count: equal. */
static int same_accounts(struct tctx *x, struct tctx *y)
{
        static struct tb_history hx, hy;
        static uint8_t bx[TB_RECORD_MAX], by[TB_RECORD_MAX];
        struct tb_balance_info ax, ay;
        struct tb_status_info sx, sy;
        char a[16];
        unsigned i;
        int same = 1;

        for (i = 0; i < NACC; i++) {
                acct_id(a, i);
                if (ledger_balance(x->l, a, &ax) != LEDGER_OK ||
                    ledger_balance(y->l, a, &ay) != LEDGER_OK ||
                    memcmp(&ax, &ay, sizeof(ax)) != 0 ||
                    ax.balance != ax.earned - ax.redeemed + ax.transferred_in -
                                      ax.transferred_out) {
                        fprintf(stderr,
                                "%s: rows differ: %" PRIu64 "/%" PRIu64
                                " %" PRIu64 "/%" PRIu64 " %" PRIu64 "/%" PRIu64
                                "\n",
                                a, ax.balance, ay.balance, ax.entries,
                                ay.entries, ax.last_seq, ay.last_seq);
                        same = 0;
                        continue;
                }
                if (ledger_history(x->l, a, TB_SEQ_LATEST, 1, &hx, bx,
                                   sizeof(bx)) != LEDGER_OK ||
                    ledger_history(y->l, a, TB_SEQ_LATEST, 1, &hy, by,
                                   sizeof(by)) != LEDGER_OK ||
                    hx.count != 1 || hy.count != 1 ||
                    hx.items[0].seq != ax.last_seq ||
                    hy.items[0].seq != ay.last_seq ||
                    hx.items[0].balance_after != ax.balance ||
                    hy.items[0].balance_after != ay.balance) {
                        fprintf(stderr, "%s: history differs\n", a);
                        same = 0;
                }
        }
        if (ledger_status(x->l, &sx) != LEDGER_OK ||
            ledger_status(y->l, &sy) != LEDGER_OK ||
            sx.accounts != sy.accounts || sx.accounts != NACC + 2 ||
            sx.tree_size != sy.tree_size) {
                fprintf(stderr, "status differs\n");
                same = 0;
        }
        return same;
}

static void test_twins(uint32_t behind)
{
        struct tctx ref, x;
        struct gen gr, gx;
        unsigned n, st, ok = 0, diffs = 0;

        setup(&ref, 0);
        setup(&x, behind);
        gen_init(&gr, 20261130 + behind);
        gx = gr;
        for (n = 0; n < 600; n++) {
                st = op(&ref, &gr);
                CHECK_ERR(op(&x, &gx), st);
                ok += st == TB_ST_OK;
                if (n % 7 == 0 && !same_accounts(&ref, &x))
                        diffs++;
                if (n == 300) { /* closed (flushed) and opened between */
                        t_reopen(&x);
                        t_reopen(&ref);
                }
        }
        CHECK(diffs == 0);
        CHECK(same_accounts(&ref, &x));
        CHECK(ok > 300); /* most were accepted: the rows did move */
        t_teardown(&x);
        t_teardown(&ref);
}

/* A reader of meta accounts_through, through ledger_tamper_edit. */
static int read_u64(uint8_t *val, size_t *len, size_t cap, void *arg)
{
        uint64_t *n = arg;
        size_t i;

        (void)cap;
        if (*len != 8)
                return -1;
        for (*n = 0, i = 0; i < 8; i++)
                *n = *n << 8 | val[i];
        return -2; /* nothing written */
}

static void test_crash(uint32_t behind)
{
        struct tctx ref, x;
        struct gen gr;
        struct ledger_check_report rep;
        struct tb_status_info st;
        uint64_t through = 0;
        unsigned round, n;
        pid_t pid;
        int status;

        setup(&ref, 0);
        setup(&x, behind);
        gen_init(&gr, 7 + behind);
        for (round = 0; round < 3; round++) {
                struct gen gx = gr, gy = gr;
                struct tctx y;
                struct tb_status_info st0;
                unsigned again = 0;

                CHECK(ledger_status(x.l, &st0) == LEDGER_OK);
                ledger_close(x.l);
                x.l = NULL;
                x.rid = 1000000 * (round + 1); /* the child's request ids:
                                                  never one used before */
                y = x; /* to sign the child's requests again, below */
                fflush(NULL);
                pid = fork();
                if (pid == 0) {
                        /* the child: operations, then gone without a close */
                        if (ledger_open(x.dir, &x.opt, &x.l) != LEDGER_OK)
                                _exit(2);
                        for (n = 0; n < 150; n++)
                                (void)op(&x, &gx);
                        _exit(check_fail ? 1 : 0);
                }
                CHECK(pid > 0);
                CHECK(waitpid(pid, &status, 0) == pid);
                CHECK_ERR(WIFEXITED(status) ? WEXITSTATUS(status) : 128, 0);
                for (n = 0; n < 150; n++)
                        (void)op(&ref, &gr);
                /* the crash left rows behind */
                CHECK(ledger_tamper_edit(x.dir, "meta", "accounts_through", 16,
                                         read_u64, &through) == -2);
                CHECK_ERR(ledger_open(x.dir, &x.opt, &x.l), LEDGER_OK);
                CHECK(ledger_status(x.l, &st) == LEDGER_OK &&
                      through < st.tree_size);
                CHECK(same_accounts(&ref, &x));
                CHECK_ERR(ledger_check_full(x.l, NULL, &rep), LEDGER_OK);
                CHECK(rep.mismatches == 0);
                /* every request of the child again: its idem rows were
                 * behind too, and came back: nothing is credited twice */
                y.l = x.l;
                for (n = 0; n < 150; n++) {
                        unsigned st2 = op(&y, &gy);

                        CHECK(st2 != TB_ST_OK);
                        again += st2 == TB_ST_DUPLICATE;
                }
                /* each accepted one answered DUPLICATE, the others their
                 * remembered refusal */
                CHECK(again == st.tree_size - st0.tree_size && again > 20);
                {
                        struct tb_status_info st3;

                        CHECK(ledger_status(x.l, &st3) == LEDGER_OK &&
                              st3.tree_size == st.tree_size);
                }
                /* the open flushed what it derived */
                ledger_close(x.l);
                CHECK(ledger_tamper_edit(x.dir, "meta", "accounts_through", 16,
                                         read_u64, &through) == -2);
                CHECK(through == st.tree_size);
                CHECK_ERR(ledger_open(x.dir, &x.opt, &x.l), LEDGER_OK);
        }
        t_teardown(&x);
        t_teardown(&ref);
}

struct reader {
        struct tctx *c;
        atomic_int stop;
        unsigned reads, bad;
};

static void *reader_main(void *arg)
{
        static struct tb_history h;
        static uint8_t buf[TB_RECORD_MAX];
        struct reader *r = arg;
        struct tb_balance_info b1, b2;
        uint64_t newest[NACC] = {0};
        char a[16];
        unsigned i = 0;

        while (!atomic_load(&r->stop)) {
                i = (i * 7 + 3) % NACC;
                acct_id(a, i);
                if (ledger_balance(r->c->l, a, &b1) != LEDGER_OK ||
                    ledger_history(r->c->l, a, TB_SEQ_LATEST, 1, &h, buf,
                                   sizeof(buf)) != LEDGER_OK ||
                    ledger_balance(r->c->l, a, &b2) != LEDGER_OK ||
                    h.count != 1) {
                        r->bad++;
                        continue;
                }
                /* never back in time, and each read whole */
                if (b1.last_seq < newest[i] || h.items[0].seq < b1.last_seq ||
                    b2.last_seq < h.items[0].seq ||
                    (h.items[0].seq == b1.last_seq &&
                     h.items[0].balance_after != b1.balance) ||
                    b1.balance != b1.earned - b1.redeemed + b1.transferred_in -
                                      b1.transferred_out)
                        r->bad++;
                newest[i] = b2.last_seq;
                r->reads++;
        }
        return NULL;
}

static void test_readers(void)
{
        struct tctx c;
        struct gen g;
        struct reader r;
        pthread_t th;
        unsigned n;

        setup(&c, 2);
        gen_init(&g, 99);
        memset(&r, 0, sizeof(r));
        r.c = &c;
        CHECK(pthread_create(&th, NULL, reader_main, &r) == 0);
        for (n = 0; n < 400; n++)
                (void)op(&c, &g);
        atomic_store(&r.stop, 1);
        CHECK(pthread_join(th, NULL) == 0);
        CHECK(r.reads > 0);
        CHECK(r.bad == 0);
        if (r.bad)
                fprintf(stderr, "readers: %u of %u reads inconsistent\n", r.bad,
                        r.reads);
        t_teardown(&c);
}

/* status's account count against the registers acknowledged: a reader
 * that looked at the rows behind just before a flush committed, and took
 * its snapshot just after, must not count the rows that flush wrote twice
 * (once as registered since the last flush, once in the database).
 * Scattered ids, so that most runs flushed leave accounts_through where
 * it was. */
struct counter {
        struct tctx *c;
        atomic_int stop;
        atomic_ulong done; /* registers acknowledged */
        uint64_t base;     /* accounts before them */
        unsigned reads, bad;
};

static void *counter_main(void *arg)
{
        struct counter *r = arg;
        struct tb_status_info st;
        unsigned long lo, hi;

        while (!atomic_load(&r->stop)) {
                lo = atomic_load(&r->done);
                if (ledger_status(r->c->l, &st) != LEDGER_OK) {
                        r->bad++;
                        continue;
                }
                hi = atomic_load(&r->done);
                /* one register may have committed unacknowledged */
                if (st.accounts < r->base + lo ||
                    st.accounts > r->base + hi + 1) {
                        if (r->bad++ < 3)
                                fprintf(stderr,
                                        "status: %" PRIu64
                                        " accounts, expected %" PRIu64
                                        "..%" PRIu64 "\n",
                                        st.accounts, r->base + lo,
                                        r->base + hi + 1);
                }
                r->reads++;
        }
        return NULL;
}

static void test_status_count(void)
{
        struct ledger_options o;
        struct tb_status_info st;
        struct tctx c;
        struct counter r;
        pthread_t th;
        char a[16];
        unsigned n;

        ledger_options_default(&o);
        o.accounts_behind = 128; /* runs of 8 */
        o.sync = 0;
        t_setup_opts(&c, &o);
        t_cast(&c);
        memset(&r, 0, sizeof(r));
        r.c = &c;
        CHECK(ledger_status(c.l, &st) == LEDGER_OK);
        r.base = st.accounts;
        CHECK(pthread_create(&th, NULL, counter_main, &r) == 0);
        for (n = 0; n < 1500; n++) {
                snprintf(a, sizeof(a), "s%05u", (n * 7919u) % 100003u);
                CHECK_ERR(t_register(&c, &c.rec, a), TB_ST_OK);
                atomic_fetch_add(&r.done, 1);
        }
        atomic_store(&r.stop, 1);
        CHECK(pthread_join(th, NULL) == 0);
        CHECK(ledger_status(c.l, &st) == LEDGER_OK);
        CHECK(st.accounts == r.base + n);
        CHECK(r.reads > 0);
        CHECK(r.bad == 0);
        if (r.bad)
                fprintf(stderr, "status: %u of %u counts wrong\n", r.bad,
                        r.reads);
        t_teardown(&c);
}

/* Batches that change more rows than a run (accounts_behind / 16) holds:
 * the rows behind must still stay at accounts_behind, not grow until the
 * 131,072 entries' flush; and the ledger stays whole. */
static void test_bounded(void)
{
        enum { BATCH = 64, ROUNDS = 12 };
        static uint8_t bufs[BATCH][TB_SIGNED_MAX];
        struct ledger_item items[BATCH];
        struct ledger_result res[BATCH];
        struct ledger_check_report rep;
        struct ledger_options o;
        struct tb_entry e;
        struct tctx c;
        unsigned i, k, max = 0;

        ledger_options_default(&o);
        o.accounts_behind = 32; /* runs of 2 */
        o.sync = 0;
        t_setup_opts(&c, &o);
        t_cast(&c);
        for (k = 0; k < ROUNDS; k++) {
                for (i = 0; i < BATCH; i++) {
                        e = t_entry(&c, TB_KIND_REGISTER, &c.rec);
                        snprintf(e.u.reg.account, sizeof(e.u.reg.account),
                                 "b%05u", ((k * BATCH + i) * 7919u) % 100003u);
                        items[i].signed_entry = bufs[i];
                        items[i].len = t_sign(&e, &c.rec, bufs[i]);
                        items[i].received = c.now;
                        items[i].verified = 0;
                }
                CHECK_ERR(ledger_apply_batch(c.l, items, BATCH, res),
                          LEDGER_OK);
                for (i = 0; i < BATCH; i++)
                        CHECK_ERR(res[i].status, TB_ST_OK);
                if (ledger_accounts_rows_behind(c.l) > max)
                        max = (unsigned)ledger_accounts_rows_behind(c.l);
        }
        CHECK(max <= o.accounts_behind);
        if (max > o.accounts_behind)
                fprintf(stderr, "bounded: %u rows behind, at most %u\n", max,
                        o.accounts_behind);
        CHECK_ERR(ledger_check_full(c.l, NULL, &rep), LEDGER_OK);
        CHECK(rep.mismatches == 0);
        t_teardown(&c);
}

static int add_one(uint8_t *val, size_t *len, size_t cap, void *arg)
{
        (void)cap;
        (void)arg;
        if (*len < 8)
                return -1;
        val[7]++; /* the balance's low byte */
        return 0;
}

static void test_upgrade3(void)
{
        struct tctx c;
        struct gen g;
        struct ledger_upgrade_report rep;
        struct tb_balance_info before, after;
        struct ledger *l;
        unsigned n;

        setup(&c, 4);
        gen_init(&g, 3);
        for (n = 0; n < 200; n++)
                (void)op(&c, &g);
        CHECK(ledger_balance(c.l, "acct05", &before) == LEDGER_OK);
        ledger_close(c.l);
        c.l = NULL;
        CHECK(ledger_tamper_format(c.dir, 3) == 0);
        CHECK_ERR(ledger_open(c.dir, &c.opt, &l), LEDGER_E_UPGRADE);
        CHECK(strstr(ledger_strerror(LEDGER_E_UPGRADE), "1, 2 or 3") != NULL);
        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep), LEDGER_OK);
        CHECK(rep.from == 3 && rep.to == 4 && rep.check.mismatches == 0 &&
              rep.check.entries > 100);
        CHECK_ERR(ledger_open(c.dir, &c.opt, &c.l), LEDGER_OK);
        CHECK(ledger_balance(c.l, "acct05", &after) == LEDGER_OK &&
              memcmp(&before, &after, sizeof(after)) == 0);
        /* again, with a format-3 row that the log does not give */
        ledger_close(c.l);
        c.l = NULL;
        CHECK(ledger_tamper_format(c.dir, 3) == 0);
        CHECK(ledger_tamper_edit(c.dir, "accounts", "acct05", 6, add_one,
                                 NULL) == 0);
        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep), LEDGER_E_CHECK);
        CHECK(rep.check.mismatches > 0);
        CHECK_ERR(ledger_open(c.dir, &c.opt, &l), LEDGER_E_UPGRADE);
        t_rm(c.dir);
}

int main(void)
{
        test_twins(3);
        test_twins(96); /* runs of 3 rows, chosen by quickselect */
        test_twins(1000);
        test_crash(1000);
        test_crash(5);
        test_readers();
        test_status_count();
        test_bounded();
        test_upgrade3();
        return check_done("test_ledger_behind");
}
