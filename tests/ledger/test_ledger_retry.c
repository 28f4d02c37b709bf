/*
 * tests/ledger/test_ledger_retry.c - format 3 derives an accepted entry's
 * retry answer from the log and history (docs/storage.md, "Format 3"), and
 * overlap and the daily cap from the account's chain of service rows.  This
 * pins what that derivation must keep: a retry gets the first answer (seq,
 * points, balance) after a rate change, after more entries moved the
 * balance, after the entry was reversed, and after reopening; a retry of
 * the reverse itself likewise; a changed body is REQUEST_ID_REUSED; the
 * same request id from another terminal is another request.  And the walk
 * at its edges: services out of time order, abutting, back-dated exactly
 * to midnight, crossing midnight, a cap set after the services it counts,
 * a reversed service neither overlapping nor counting, non-service rows
 * interleaved in the chain.
 */
#include "ledger_test.h"

#define DAY0 ((int64_t)(T_NOW / 86400) * 86400) /* T_NOW's UTC midnight */

struct sent {
        uint8_t b[TB_SIGNED_MAX];
        size_t len;
        struct ledger_result first;
};

/* Sign and apply e once, keeping the bytes and the first answer. */
static unsigned send(struct tctx *c, const struct tb_entry *e,
                     const struct tkey *k, struct sent *s)
{
        unsigned st;

        s->len = t_sign(e, k, s->b);
        st = t_apply(c, s->b, s->len);
        s->first = c->res;
        return st;
}

/* The retry must be DUPLICATE with the first answer, and write nothing. */
static void again(struct tctx *c, const struct sent *s, int line)
{
        struct tb_status_info before, after;
        unsigned st;

        CHECK(ledger_status(c->l, &before) == LEDGER_OK);
        st = t_apply(c, s->b, s->len);
        CHECK(ledger_status(c->l, &after) == LEDGER_OK);
        if (st != TB_ST_DUPLICATE || c->res.seq != s->first.seq ||
            c->res.points != s->first.points ||
            c->res.balance != s->first.balance ||
            before.tree_size != after.tree_size) {
                fprintf(stderr,
                        "line %d: retry %s seq %llu points %lld balance %llu;"
                        " first seq %llu points %lld balance %llu\n",
                        line, tb_status_name(st),
                        (unsigned long long)c->res.seq,
                        (long long)c->res.points,
                        (unsigned long long)c->res.balance,
                        (unsigned long long)s->first.seq,
                        (long long)s->first.points,
                        (unsigned long long)s->first.balance);
                CHECK(0);
        }
}
#define AGAIN(c, s) again(c, s, __LINE__)

/* The last answer's detail names "seq N" (a REQUEST_ID_REUSED's). */
static int names_seq(const struct tctx *c, uint64_t seq)
{
        char want[64];

        snprintf(want, sizeof(want), "seq %llu", (unsigned long long)seq);
        return strstr(c->res.detail, want) != NULL;
}

static struct tb_entry service(struct tctx *c, const struct tkey *k,
                               const char *account, int64_t start,
                               unsigned minutes)
{
        struct tb_entry e = t_entry(c, TB_KIND_SERVICE, k);

        snprintf(e.u.service.account, sizeof(e.u.service.account), "%s",
                 account);
        e.u.service.start = start;
        e.u.service.minutes = (uint16_t)minutes;
        return e;
}

static void test_retry_outcomes(void)
{
        struct tctx c;
        struct tb_entry e, e2;
        struct sent svc, tr, red, rv_svc, rv_tr, rv_red, mine, theirs;
        uint8_t buf[TB_SIGNED_MAX];
        size_t len;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.other,
                           TB_ROLE_RECORD | TB_ROLE_REDEEM, "other"),
                  TB_ST_OK);
        CHECK_ERR(t_register(&c, &c.rec, "carol"), TB_ST_OK);

        /* a service at the default rate (60/h: a point a minute) */
        e = service(&c, &c.rec, "alice", T_NOW - 7200, 45);
        CHECK_ERR(send(&c, &e, &c.rec, &svc), TB_ST_OK);
        CHECK(svc.first.points == 45 && svc.first.balance == 45);
        /* the rate changes: the retry still reports 45 points */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE, "", 120, 0, 0),
                  TB_ST_OK);
        AGAIN(&c, &svc);
        /* the balance moves on: the retry reports the balance after it */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 3 * 3600, 30, ""),
                  TB_ST_OK);
        CHECK(t_balance(&c, "alice") == 105);
        AGAIN(&c, &svc);

        /* a transfer, interleaved with the others, and a redeem */
        e = t_entry(&c, TB_KIND_TRANSFER, &c.red);
        snprintf(e.u.transfer.from, sizeof(e.u.transfer.from), "alice");
        snprintf(e.u.transfer.to, sizeof(e.u.transfer.to), "bob");
        e.u.transfer.points = 20;
        CHECK_ERR(send(&c, &e, &c.red, &tr), TB_ST_OK);
        CHECK(tr.first.points == -20 && tr.first.balance == 85);
        e = t_entry(&c, TB_KIND_REDEEM, &c.red);
        snprintf(e.u.redeem.account, sizeof(e.u.redeem.account), "bob");
        snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "bread");
        e.u.redeem.points = 5;
        CHECK_ERR(send(&c, &e, &c.red, &red), TB_ST_OK);
        CHECK(red.first.points == -5 && red.first.balance == 15);
        AGAIN(&c, &tr);
        AGAIN(&c, &red);

        /* each reversed (the redeem first: bob needs the points back to
         * give them back); the originals' retries keep their answers */
        e = t_entry(&c, TB_KIND_REVERSE, &c.admin);
        e.u.reverse.seq = red.first.seq;
        CHECK_ERR(send(&c, &e, &c.admin, &rv_red), TB_ST_OK);
        CHECK(rv_red.first.points == 5 && rv_red.first.balance == 20);
        e = t_entry(&c, TB_KIND_REVERSE, &c.admin);
        e.u.reverse.seq = tr.first.seq;
        CHECK_ERR(send(&c, &e, &c.admin, &rv_tr), TB_ST_OK);
        CHECK(rv_tr.first.points == 20 && rv_tr.first.balance == 105);
        e = t_entry(&c, TB_KIND_REVERSE, &c.admin);
        e.u.reverse.seq = svc.first.seq;
        CHECK_ERR(send(&c, &e, &c.admin, &rv_svc), TB_ST_OK);
        CHECK(rv_svc.first.points == -45 && rv_svc.first.balance == 60);
        AGAIN(&c, &svc);
        AGAIN(&c, &tr);
        AGAIN(&c, &red);
        AGAIN(&c, &rv_svc);
        AGAIN(&c, &rv_tr);
        AGAIN(&c, &rv_red);

        /* the reversed service's time is free again: re-recorded at the
         * new rate, and the original's retry is still its own answer */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 7200, 45, ""),
                  TB_ST_OK);
        CHECK(c.res.points == 90 && c.res.balance == 150);
        AGAIN(&c, &svc);
        AGAIN(&c, &rv_svc);

        /* a retry signed a minute later (the clock differs) is the same
         * request; a retry with another body is a reuse naming the seq */
        e = service(&c, &c.rec, "bob", T_NOW - 5 * 3600, 10);
        CHECK_ERR(send(&c, &e, &c.rec, &mine), TB_ST_OK);
        e2 = e;
        e2.clock += 60;
        len = t_sign(&e2, &c.rec, buf);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_DUPLICATE);
        CHECK(c.res.seq == mine.first.seq &&
              c.res.points == mine.first.points &&
              c.res.balance == mine.first.balance);
        e2 = e;
        e2.u.service.minutes = 11;
        len = t_sign(&e2, &c.rec, buf);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_REQUEST_ID_REUSED);
        CHECK(names_seq(&c, mine.first.seq));
        /* another terminal with the same request id is another request */
        e2 = e;
        memcpy(e2.signer, c.other.pk, TB_PUBKEY_SIZE);
        e2.u.service.start = T_NOW - 6 * 3600; /* bob's, not overlapping */
        CHECK_ERR(send(&c, &e2, &c.other, &theirs), TB_ST_OK);
        CHECK(theirs.first.seq != mine.first.seq);
        CHECK(theirs.first.points == 20); /* 10 minutes at 120/h */
        AGAIN(&c, &mine);
        AGAIN(&c, &theirs);
        /* and its changed body is a reuse of its own id, naming its seq */
        e2.u.service.minutes = 12;
        len = t_sign(&e2, &c.other, buf);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_REQUEST_ID_REUSED);
        CHECK(names_seq(&c, theirs.first.seq));

        /* a refusal remembered, then retried with the same and with a
         * changed body */
        e = t_entry(&c, TB_KIND_REDEEM, &c.red);
        snprintf(e.u.redeem.account, sizeof(e.u.redeem.account), "carol");
        snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "soup");
        e.u.redeem.points = 1;
        len = t_sign(&e, &c.red, buf);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_INSUFFICIENT_POINTS);
        CHECK_ERR(t_service(&c, &c.rec, "carol", T_NOW - 3600, 30, ""),
                  TB_ST_OK);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_INSUFFICIENT_POINTS);
        CHECK(strstr(c.res.detail, "retry") != NULL);
        e.u.redeem.points = 2;
        len = t_sign(&e, &c.red, buf);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_REQUEST_ID_REUSED);
        CHECK(strstr(c.res.detail, "INSUFFICIENT_POINTS") != NULL);

        /* all of it again after reopening */
        t_reopen(&c);
        AGAIN(&c, &svc);
        AGAIN(&c, &tr);
        AGAIN(&c, &red);
        AGAIN(&c, &rv_svc);
        AGAIN(&c, &rv_tr);
        AGAIN(&c, &rv_red);
        AGAIN(&c, &mine);
        AGAIN(&c, &theirs);
        t_teardown(&c);
}

/* Services of one account checked one by one, with the status each must
 * get (the rules of docs/ledger-rules.md, worked out by hand). */
static void test_walk_edges(void)
{
        struct tctx c;
        struct ledger_options o;
        const int64_t d = DAY0 - 2 * 86400; /* two days before T_NOW's */
        struct sent s1, s2;
        struct tb_entry e;

        ledger_options_default(&o);
        t_setup_opts(&c, &o);
        t_cast(&c);

        /* out of time order, abutting on both sides */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 10 * 3600, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 8 * 3600, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 9 * 3600, 60, ""),
                  TB_ST_OK);
        /* a transfer and a redeem between services in the chain */
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 7), TB_ST_OK);
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 3), TB_ST_OK);
        /* overlapping each of them by a minute, and containing them all */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 8 * 3600 - 60, 2, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 9 * 3600 + 30 * 60, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 11 * 3600 - 60, 5, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 7 * 3600, 300, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 7 * 3600, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 11 * 3600, 60, ""),
                  TB_ST_OK);

        /* a long service crossing midnight into day d+1, recorded first:
         * later, earlier-ending services must not hide it from the walk */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 20 * 3600, 600, ""),
                  TB_ST_OK); /* [d+20h, d+1d+6h) */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 13 * 3600, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 12 * 3600, 30, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 86400 + 5 * 3600, 120, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 86400 + 6 * 3600, 60, ""),
                  TB_ST_OK); /* abuts its end */

        /* a cap set after the services it counts: day d has 60 * 6 + 30 +
         * 600 (the one crossing midnight counts whole on its start day) */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, NULL, 0, 1020, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 5 * 3600, 30, ""),
                  TB_ST_OK); /* 990 + 30 = 1020 */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED); /* exactly at midnight: d */
        /* the minute before midnight is the day before, which is empty */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d - 60, 1, ""), TB_ST_OK);
        /* day d+1 holds only the 60 minutes from d+1d+6h: the service
         * crossing into it does not count there */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, NULL, 0, 61, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 86400 + 8 * 3600, 1, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 86400 + 9 * 3600, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        /* the last minute of day d+1 still counts there */
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 2 * 86400 - 60, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);

        /* a reversed service neither overlaps nor counts; re-recorded, it
         * counts again */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, NULL, 0, 90, 0),
                  TB_ST_OK);
        e = service(&c, &c.rec, "bob", DAY0 - 3600 * 4, 60);
        CHECK_ERR(send(&c, &e, &c.rec, &s1), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", DAY0 - 3600 * 5, 31, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        CHECK_ERR(t_reverse(&c, &c.admin, s1.first.seq), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", DAY0 - 3600 * 4 + 600, 90, ""),
                  TB_ST_OK); /* inside the reversed one's time, 90 */
        CHECK_ERR(t_service(&c, &c.rec, "bob", DAY0 - 3600 * 8, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        e = service(&c, &c.rec, "bob", DAY0 - 3600 * 4, 60);
        CHECK_ERR(send(&c, &e, &c.rec, &s2), TB_ST_OVERLAPPING_SERVICE);
        AGAIN(&c, &s1);
        /* the cap lifted (0): no day counts, overlap still does */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, NULL, 0, 0, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", DAY0 - 3600 * 8, 1, ""),
                  TB_ST_OK);
        CHECK_ERR(
            t_service(&c, &c.rec, "bob", DAY0 - 3600 * 4 + 60 * 99, 1, ""),
            TB_ST_OVERLAPPING_SERVICE);
        t_reopen(&c);
        CHECK_ERR(t_service(&c, &c.rec, "alice", d + 9 * 3600 + 59 * 60, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        t_teardown(&c);
}

int main(void)
{
        test_retry_outcomes();
        test_walk_edges();
        return check_done("test_ledger_retry");
}
