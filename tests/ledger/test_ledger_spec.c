/*
 * tests/ledger/test_ledger_spec.c - what docs/ledger-rules.md and
 * docs/protocol.md promise a client, one test per statement, through the
 * public ledger API: START_IN_FUTURE judges the service's end; reads of
 * an unknown account and proofs outside the tree; the receipt of a write;
 * how reversals move the BALANCE counters; rounding and the default rate;
 * the UTC day of the daily cap; revoking a revoked key.  A test that fails
 * here means the daemon no longer does what the docs say.
 */
#include "ledger_test.h"

#define HOUR 3600
#define DAY  86400

static uint8_t hbuf[TB_HISTORY_MAX * TB_RECORD_MAX];

static struct tb_balance_info info(struct tctx *c, const char *account)
{
        struct tb_balance_info b;

        memset(&b, 0, sizeof(b));
        CHECK_ERR(ledger_balance(c->l, account, &b), LEDGER_OK);
        CHECK(b.balance ==
              b.earned - b.redeemed + b.transferred_in - b.transferred_out);
        return b;
}

static uint64_t tree_size(struct tctx *c)
{
        struct tb_status_info st;

        CHECK_ERR(ledger_status(c->l, &st), LEDGER_OK);
        return st.tree_size;
}

/* Midnight UTC, days before T_NOW (within the default maximum age). */
static int64_t midnight(int days_before)
{
        int64_t t = T_NOW - (int64_t)days_before * DAY;

        return t - t % DAY;
}

/* ledger-rules, service 2: the end (start + minutes * 60) is judged
 * against now + clock_skew, not the start. */
static void test_start_in_future_is_the_end(void)
{
        struct tctx c;
        int64_t skew = LEDGER_SKEW_DEFAULT;
        uint64_t size;

        t_setup(&c);
        t_cast(&c);
        size = tree_size(&c);
        /* started 10 minutes ago, lasts an hour: refused */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 600, 60, ""),
                  TB_ST_START_IN_FUTURE);
        /* the end exactly at now + skew passes, one second later not */
        CHECK_ERR(
            t_service(&c, &c.rec, "alice", T_NOW + skew - 600 + 1, 10, ""),
            TB_ST_START_IN_FUTURE);
        CHECK(tree_size(&c) == size);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW + skew - 600, 10, ""),
                  TB_ST_OK);
        /* a start inside the skew with an end beyond it: refused */
        CHECK_ERR(t_service(&c, &c.rec, "bob", T_NOW + skew - 1, 1, ""),
                  TB_ST_START_IN_FUTURE);
        t_teardown(&c);
}

/* protocol, BALANCE and HISTORY: an account never registered is not
 * found (the daemon answers UNKNOWN_ACCOUNT); once registered it is. */
static void test_unknown_account_reads(void)
{
        struct tctx c;
        struct tb_balance_info b;
        struct tb_history h;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(ledger_balance(c.l, "carol", &b), LEDGER_E_NOT_FOUND);
        CHECK_ERR(ledger_history(c.l, "carol", TB_SEQ_LATEST, 20, &h, hbuf,
                                 sizeof(hbuf)),
                  LEDGER_E_NOT_FOUND);
        /* a refused write for it changes nothing */
        CHECK_ERR(t_service(&c, &c.rec, "carol", T_NOW - HOUR, 10, ""),
                  TB_ST_UNKNOWN_ACCOUNT);
        CHECK_ERR(ledger_balance(c.l, "carol", &b), LEDGER_E_NOT_FOUND);
        CHECK_ERR(t_register(&c, &c.rec, "carol"), TB_ST_OK);
        b = info(&c, "carol");
        CHECK(b.balance == 0 && b.entries == 1 && b.opened_seq == c.res.seq &&
              b.last_seq == c.res.seq);
        CHECK_ERR(ledger_history(c.l, "carol", TB_SEQ_LATEST, 20, &h, hbuf,
                                 sizeof(hbuf)),
                  LEDGER_OK);
        CHECK(h.count == 1 && h.items[0].delta == 0 && h.next_before == 0);
        t_teardown(&c);
}

/* protocol, INCLUSION and CONSISTENCY: a leaf outside its tree and a
 * proof backwards are out of range (NOT_FOUND) even inside the log. */
static void test_proofs_outside(void)
{
        struct tctx c;
        struct tb_proof p;
        static uint8_t buf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        uint64_t size;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_register(&c, &c.rec, "carol"), TB_ST_OK);
        CHECK_ERR(t_register(&c, &c.rec, "dave"), TB_ST_OK);
        CHECK_ERR(t_register(&c, &c.rec, "erin"), TB_ST_OK);
        CHECK_ERR(t_register(&c, &c.rec, "frank"), TB_ST_OK);
        size = tree_size(&c);
        CHECK(size == 9);

        CHECK_ERR(ledger_prove_inclusion(c.l, 7, 8, &p, buf, sizeof(buf)),
                  LEDGER_OK);
        CHECK(p.index == 7 && p.size == 8 && p.record_len > 0);
        CHECK_ERR(ledger_prove_inclusion(c.l, 8, 8, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);
        CHECK_ERR(ledger_prove_inclusion(c.l, 9, 8, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);
        CHECK_ERR(ledger_prove_inclusion(c.l, size, 0, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);
        CHECK_ERR(
            ledger_prove_inclusion(c.l, 0, size + 1, &p, buf, sizeof(buf)),
            LEDGER_E_RANGE);

        CHECK_ERR(ledger_prove_consistency(c.l, 5, 8, &p, buf, sizeof(buf)),
                  LEDGER_OK);
        CHECK(p.index == 5 && p.size == 8 && p.count > 0);
        CHECK_ERR(ledger_prove_consistency(c.l, 8, 5, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);
        CHECK_ERR(
            ledger_prove_consistency(c.l, size + 1, 0, &p, buf, sizeof(buf)),
            LEDGER_E_RANGE);
        CHECK_ERR(
            ledger_prove_consistency(c.l, 1, size + 1, &p, buf, sizeof(buf)),
            LEDGER_E_RANGE);
        /* old == new: a valid, empty proof */
        CHECK_ERR(ledger_prove_consistency(c.l, 8, 8, &p, buf, sizeof(buf)),
                  LEDGER_OK);
        CHECK(p.count == 0);
        t_teardown(&c);
}

/*
 * protocol, SUBMIT: the receipt is the latest checkpoint read after the
 * commit.  For an OK entry it is the batch's own, whose tree includes seq;
 * a batch of only a DUPLICATE signs none, and the latest still includes
 * the original seq; a refusal appends nothing and signs nothing.
 */
static void test_receipt(void)
{
        struct tctx c;
        struct tb_checkpoint cp;
        uint64_t seq;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - HOUR, 30, ""),
                  TB_ST_OK);
        seq = c.res.seq;
        CHECK(t_checkpoint(&c, &cp) == 0);
        CHECK(cp.size == seq + 1 && cp.size == tree_size(&c));
        /* t_submit retried it: DUPLICATE, no new checkpoint */
        CHECK_ERR(t_apply(&c, c.last, c.last_len), TB_ST_DUPLICATE);
        CHECK(c.res.seq == seq);
        CHECK(t_checkpoint(&c, &cp) == 0);
        CHECK(cp.size == seq + 1);
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 31), TB_ST_INSUFFICIENT_POINTS);
        CHECK(t_checkpoint(&c, &cp) == 0);
        CHECK(cp.size == seq + 1 && tree_size(&c) == seq + 1);
        t_teardown(&c);
}

/* protocol, BALANCE; ledger-rules, reverse: the counters are net of
 * reversals; entries and last_seq count the reverse itself. */
static void test_reversal_counters(void)
{
        struct tctx c;
        struct tb_balance_info a, b;
        struct tb_history h;
        uint64_t svc, red, xfer, rev;
        int64_t t0 = midnight(2) + 9 * HOUR;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 90, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0, 90, ""), TB_ST_OK);
        svc = c.res.seq;
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 20), TB_ST_OK);
        red = c.res.seq;
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 10), TB_ST_OK);
        xfer = c.res.seq;
        a = info(&c, "alice");
        CHECK(a.balance == 60 && a.earned == 90 && a.redeemed == 20 &&
              a.transferred_out == 10 && a.minutes == 90 && a.entries == 4 &&
              a.last_seq == xfer);
        b = info(&c, "bob");
        CHECK(b.balance == 10 && b.transferred_in == 10 && b.entries == 2);

        /* reverse the transfer: both sides' transfer counters go down */
        CHECK_ERR(t_reverse(&c, &c.admin, xfer), TB_ST_OK);
        rev = c.res.seq;
        CHECK(c.res.points == 10 && c.res.balance == 70);
        a = info(&c, "alice");
        b = info(&c, "bob");
        CHECK(a.balance == 70 && a.transferred_out == 0 && a.entries == 5 &&
              a.last_seq == rev);
        CHECK(b.balance == 0 && b.transferred_in == 0 &&
              b.transferred_out == 0 && b.entries == 3 && b.last_seq == rev);

        /* reverse the redeem: redeemed goes down, not transferred_in */
        CHECK_ERR(t_reverse(&c, &c.admin, red), TB_ST_OK);
        rev = c.res.seq;
        a = info(&c, "alice");
        CHECK(a.balance == 90 && a.redeemed == 0 && a.earned == 90 &&
              a.transferred_in == 0 && a.entries == 6 && a.last_seq == rev);

        /* reverse the service: earned and minutes go down; the day's
         * minutes are freed for the daily cap */
        CHECK_ERR(t_reverse(&c, &c.rec, svc), TB_ST_OK);
        rev = c.res.seq;
        CHECK(c.res.points == -90 && c.res.balance == 0);
        a = info(&c, "alice");
        CHECK(a.balance == 0 && a.earned == 0 && a.minutes == 0 &&
              a.redeemed == 0 && a.transferred_in == 0 &&
              a.transferred_out == 0 && a.entries == 7 && a.last_seq == rev);

        /* the history keeps the originals; each reverse is its own item
         * with the opposite delta */
        CHECK_ERR(ledger_history(c.l, "alice", TB_SEQ_LATEST, 20, &h, hbuf,
                                 sizeof(hbuf)),
                  LEDGER_OK);
        CHECK(h.count == 7);
        CHECK(h.items[0].seq == rev && h.items[0].delta == -90 &&
              h.items[0].balance_after == 0);
        CHECK(h.items[3].seq == xfer && h.items[3].delta == -10);
        CHECK(h.items[5].seq == svc && h.items[5].delta == 90 &&
              h.items[5].balance_after == 90);

        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 2 * HOUR, 90, ""),
                  TB_ST_OK);
        t_teardown(&c);
}

/* ledger-rules, service 6: points = floor(minutes * rate / 60) per entry;
 * an activity without its own rate follows the default in force. */
static void test_rounding_and_default_rate(void)
{
        struct tctx c;
        struct tb_balance_info a;
        int64_t t0 = midnight(3) + 8 * HOUR;

        t_setup(&c);
        t_cast(&c);
        /* the genesis default: 60 points an hour, a point a minute */
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0, 7, ""), TB_ST_OK);
        CHECK(c.res.points == 7);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE, "", 100, 0, 0),
                  TB_ST_OK);
        /* 700 / 60 = 11.67: 11, twice, no carried fraction */
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + HOUR, 7, ""), TB_ST_OK);
        CHECK(c.res.points == 11);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 2 * HOUR, 7, ""),
                  TB_ST_OK);
        CHECK(c.res.points == 11 && c.res.balance == 29);
        /* a code no policy named: the default */
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 3 * HOUR, 7, "garden"),
                  TB_ST_OK);
        CHECK(c.res.points == 11);
        /* 1 minute at 59 an hour: 0 points, a valid service all the same */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE, "", 59, 0, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 4 * HOUR, 1, ""),
                  TB_ST_OK);
        CHECK(c.res.points == 0 && c.res.balance == 40);
        /* the code follows the changed default */
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 5 * HOUR, 60, "garden"),
                  TB_ST_OK);
        CHECK(c.res.points == 59);
        /* its own rate wins, even 0; other codes keep the default */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE, "garden", 0, 0, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 6 * HOUR, 60, "garden"),
                  TB_ST_OK);
        CHECK(c.res.points == 0);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 7 * HOUR, 60, "cook"),
                  TB_ST_OK);
        CHECK(c.res.points == 59);
        /* what was credited stays: 7 + 11 + 11 + 11 + 0 + 59 + 0 + 59 */
        a = info(&c, "alice");
        CHECK(a.earned == 158 && a.balance == 158);
        CHECK(a.minutes == 7 * 4 + 1 + 60 * 3);
        t_teardown(&c);
}

/* ledger-rules, service 5: the cap's day is the UTC day of the start,
 * floor(start / 86400); a service across midnight counts on its start. */
static void test_daily_cap_utc_day(void)
{
        struct tctx c;
        int64_t d0 = midnight(4), d1 = d0 + DAY;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 60, 0),
                  TB_ST_OK);
        /* 23:59:59Z, an hour: all 60 minutes on d0 */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d1 - 1, 60, ""), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d0 + HOUR, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        /* d1 still has its 60, though nearly all of those fell on it */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d1 + HOUR, 60, ""), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d1 + 2 * HOUR, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        /* 00:00:00Z counts on the new day, 23:59:59Z on the old one */
        CHECK_ERR(t_service(&c, &c.rec, "bob", d1, 60, ""), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", d1 - 61 * 60, 60, ""), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", d1 - 62 * 60, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        /* d1's last second is still d1 (full); d2 starts at 00:00:00Z */
        CHECK_ERR(t_service(&c, &c.rec, "bob", d1 + DAY - 1, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        CHECK_ERR(t_service(&c, &c.rec, "bob", d1 + DAY, 1, ""), TB_ST_OK);
        t_teardown(&c);
}

/* ledger-rules, revoke: a revoked key is no longer enrolled. */
static void test_revoke_revoked(void)
{
        struct tctx c;
        struct tb_status_info st;
        uint64_t first, size;
        char want[64];

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.other, TB_ROLE_RECORD, "other"),
                  TB_ST_OK);
        CHECK_ERR(t_revoke(&c, &c.admin, &c.other), TB_ST_OK);
        first = c.res.seq;
        size = tree_size(&c);
        CHECK_ERR(t_revoke(&c, &c.admin, &c.other), TB_ST_KEY_NOT_ENROLLED);
        snprintf(want, sizeof(want), "key already revoked at seq %llu",
                 (unsigned long long)first);
        CHECK(strcmp(c.res.detail, want) == 0);
        CHECK(tree_size(&c) == size);
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(st.keys_revoked == 1 && st.keys_active == 3);
        /* the same answer as for a key never enrolled */
        CHECK_ERR(t_revoke(&c, &c.admin, &c.other), TB_ST_KEY_NOT_ENROLLED);
        t_teardown(&c);
}

int main(void)
{
        test_start_in_future_is_the_end();
        test_unknown_account_reads();
        test_proofs_outside();
        test_receipt();
        test_reversal_counters();
        test_rounding_and_default_rate();
        test_daily_cap_utc_day();
        test_revoke_revoked();
        return check_done("test_ledger_spec");
}
