/*
 * tests/ledger/test_ledger_rules.c - every ledger rule: the accepted case
 * and each refusal with its status, against a real LMDB ledger.
 */
#include "ledger_test.h"

#define HOUR 3600

static void check_identity(struct tctx *c, const char *account)
{
        struct tb_balance_info b;

        CHECK_ERR(ledger_balance(c->l, account, &b), LEDGER_OK);
        CHECK(b.balance ==
              b.earned - b.redeemed + b.transferred_in - b.transferred_out);
}

static void test_keys(void)
{
        struct tctx c;
        struct tb_status_info st;
        struct tb_entry e;
        uint8_t buf[TB_SIGNED_MAX];
        size_t len;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.rec, TB_ROLE_RECORD, "again"),
                  TB_ST_KEY_EXISTS);
        CHECK_ERR(t_enroll(&c, &c.rec, &c.other, TB_ROLE_RECORD, "o"),
                  TB_ST_ROLE_FORBIDDEN);
        CHECK_ERR(t_revoke(&c, &c.admin, &c.other), TB_ST_KEY_NOT_ENROLLED);
        CHECK_ERR(t_register(&c, &c.other, "carol"), TB_ST_UNKNOWN_KEY);

        CHECK_ERR(t_revoke(&c, &c.admin, &c.red), TB_ST_OK);
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 1), TB_ST_KEY_REVOKED);
        CHECK_ERR(t_revoke(&c, &c.admin, &c.red), TB_ST_KEY_NOT_ENROLLED);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.red, TB_ROLE_REDEEM, "red"),
                  TB_ST_KEY_EXISTS);
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(st.keys_active == 2); /* admin, rec */
        CHECK(st.keys_revoked == 1);
        CHECK(st.accounts == 2);
        CHECK(strcmp(st.origin, T_ORIGIN) == 0);

        /* a bad signature: signed by other, claiming rec */
        e = t_entry(&c, TB_KIND_REGISTER, &c.rec);
        snprintf(e.u.reg.account, sizeof(e.u.reg.account), "mallory");
        len = t_sign(&e, &c.other, buf);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_BAD_SIGNATURE);
        /* a signature for another origin */
        len = t_sign(&e, &c.rec, buf);
        CHECK(tb_entry_sign("other.example/log", buf, len - TB_SIG_SIZE,
                            c.rec.sk, buf + len - TB_SIG_SIZE) == TB_OK);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_BAD_SIGNATURE);
        /* not remembered: the honest entry with that request id passes */
        CHECK_ERR(t_submit(&c, &e, &c.rec), TB_ST_OK);

        /* malformed bytes */
        buf[0] = 9;
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_BAD_REQUEST);
        CHECK(c.res.detail[0] != '\0');
        CHECK_ERR(t_apply(&c, buf, 10), TB_ST_BAD_REQUEST);

        /* a second genesis, by the admin */
        e = t_entry(&c, TB_KIND_GENESIS, &c.admin);
        snprintf(e.u.genesis.origin, sizeof(e.u.genesis.origin), T_ORIGIN);
        memcpy(e.u.genesis.admin_key, c.other.pk, TB_PUBKEY_SIZE);
        snprintf(e.u.genesis.admin_name, sizeof(e.u.genesis.admin_name), "x");
        CHECK_ERR(t_submit(&c, &e, &c.admin), TB_ST_ROLE_FORBIDDEN);
        t_teardown(&c);
}

static void test_register(void)
{
        struct tctx c;
        struct tb_balance_info b;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_register(&c, &c.rec, "alice"), TB_ST_ACCOUNT_EXISTS);
        CHECK_ERR(t_register(&c, &c.red, "carol"), TB_ST_ROLE_FORBIDDEN);
        CHECK_ERR(t_register(&c, &c.admin, "carol"), TB_ST_ROLE_FORBIDDEN);
        CHECK_ERR(ledger_balance(c.l, "carol", &b), LEDGER_E_NOT_FOUND);
        CHECK_ERR(ledger_balance(c.l, "alice", &b), LEDGER_OK);
        CHECK(b.balance == 0 && b.entries == 1 && b.opened_seq == 3);
        t_teardown(&c);
}

static void test_service(void)
{
        struct tctx c;
        struct tb_balance_info b;
        int64_t t0 = T_NOW - 10 * 86400; /* midnight-aligned below */

        t0 -= t0 % 86400;
        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 9 * HOUR, 90, ""),
                  TB_ST_OK);
        CHECK(c.res.points == 90 && c.res.balance == 90 && c.res.seq == 5);
        CHECK_ERR(t_service(&c, &c.rec, "carol", t0 + 9 * HOUR, 90, ""),
                  TB_ST_UNKNOWN_ACCOUNT);
        CHECK_ERR(t_service(&c, &c.red, "alice", t0 + 20 * HOUR, 10, ""),
                  TB_ST_ROLE_FORBIDDEN);

        /* overlap: same, inside, straddling either edge; adjacent is fine */
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 9 * HOUR, 90, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 9 * HOUR + 600, 10, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 8 * HOUR + 1800, 31, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 10 * HOUR + 1740, 10, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 8 * HOUR, 300, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 8 * HOUR + 1800, 30, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 10 * HOUR + 1800, 30, ""),
                  TB_ST_OK);
        /* across terminals */
        CHECK_ERR(t_enroll(&c, &c.admin, &c.other, TB_ROLE_RECORD, "t2"),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.other, "alice", t0 + 10 * HOUR, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        /* another account may serve at the same time */
        CHECK_ERR(t_service(&c, &c.other, "bob", t0 + 9 * HOUR, 90, ""),
                  TB_ST_OK);
        CHECK(t_balance(&c, "alice") == 150);

        /* rates: floor(minutes * rate / 60) */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE, "garden", 100, 0, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", t0 + 12 * HOUR, 7, "garden"),
                  TB_ST_OK);
        CHECK(c.res.points == 11);
        CHECK_ERR(t_service(&c, &c.rec, "bob", t0 + 13 * HOUR, 7, "cooking"),
                  TB_ST_OK);
        CHECK(c.res.points == 7);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE, "", 0, 0, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", t0 + 14 * HOUR, 7, "cooking"),
                  TB_ST_OK);
        CHECK(c.res.points == 0);
        CHECK_ERR(t_policy(&c, &c.rec, TB_POLICY_RATE, "", 60, 0, 0),
                  TB_ST_ROLE_FORBIDDEN);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE, "", 60, 0, 0),
                  TB_ST_OK);

        /* the time window */
        CHECK_ERR(t_service(&c, &c.rec, "bob", T_NOW + 300 - 600 + 1, 10, ""),
                  TB_ST_START_IN_FUTURE);
        CHECK_ERR(t_service(&c, &c.rec, "bob", T_NOW + 300 - 600, 10, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "bob", T_NOW - 30 * 86400 - 1, 10, ""),
                  TB_ST_START_TOO_OLD);
        CHECK_ERR(t_service(&c, &c.rec, "bob", T_NOW - 30 * 86400, 10, ""),
                  TB_ST_OK);

        /* the daily cap, on the UTC day of the start */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 120, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 86400 + HOUR, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 86400 + 3 * HOUR, 61, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 86400 + 3 * HOUR, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 2 * 86400 - 600, 20, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 2 * 86400, 20, ""),
                  TB_ST_OK);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 0, 0),
                  TB_ST_OK);

        /* the balance cap */
        CHECK_ERR(ledger_balance(c.l, "alice", &b), LEDGER_OK);
        CHECK(b.balance == 290);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_MAX_BALANCE, "", 0, 0, 300),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 3 * 86400, 11, ""),
                  TB_ST_BALANCE_CAP_EXCEEDED);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 3 * 86400, 10, ""),
                  TB_ST_OK);
        CHECK(c.res.balance == 300);
        CHECK_ERR(ledger_balance(c.l, "alice", &b), LEDGER_OK);
        CHECK(b.earned == 300 && b.minutes == 300);
        check_identity(&c, "alice");
        check_identity(&c, "bob");
        t_teardown(&c);
}

static void test_redeem_transfer(void)
{
        struct tctx c;
        struct tb_balance_info a, b;
        struct tb_entry e;
        uint8_t buf[TB_SIGNED_MAX];
        size_t len, i;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 86400, 100, ""),
                  TB_ST_OK);
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 101),
                  TB_ST_INSUFFICIENT_POINTS);
        CHECK_ERR(t_redeem(&c, &c.rec, "alice", 10), TB_ST_ROLE_FORBIDDEN);
        CHECK_ERR(t_redeem(&c, &c.red, "carol", 10), TB_ST_UNKNOWN_ACCOUNT);
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 30), TB_ST_OK);
        CHECK(c.res.points == -30 && c.res.balance == 70);

        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 71),
                  TB_ST_INSUFFICIENT_POINTS);
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "carol", 1),
                  TB_ST_UNKNOWN_ACCOUNT);
        CHECK_ERR(t_transfer(&c, &c.red, "carol", "alice", 1),
                  TB_ST_UNKNOWN_ACCOUNT);
        CHECK_ERR(t_transfer(&c, &c.rec, "alice", "bob", 1),
                  TB_ST_ROLE_FORBIDDEN);
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 20), TB_ST_OK);
        CHECK(c.res.points == -20 && c.res.balance == 50);
        CHECK(t_balance(&c, "bob") == 20);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_MAX_BALANCE, "", 0, 0, 40),
                  TB_ST_OK);
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 21),
                  TB_ST_BALANCE_CAP_EXCEEDED);
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 20), TB_ST_OK);
        CHECK(t_balance(&c, "bob") == 40 && t_balance(&c, "alice") == 30);

        /* from == to: the decoder refuses it; patch "alicf" to "alice" */
        e = t_entry(&c, TB_KIND_TRANSFER, &c.red);
        snprintf(e.u.transfer.from, sizeof(e.u.transfer.from), "alice");
        snprintf(e.u.transfer.to, sizeof(e.u.transfer.to), "alicf");
        e.u.transfer.points = 1;
        CHECK(tb_entry_encode(&e, buf, TB_BODY_MAX, &len) == TB_OK);
        for (i = 0; i + 5 <= len; i++)
                if (memcmp(buf + i, "alicf", 5) == 0)
                        buf[i + 4] = 'e';
        CHECK(tb_entry_sign(T_ORIGIN, buf, len, c.red.sk, buf + len) == TB_OK);
        CHECK_ERR(t_apply(&c, buf, len + TB_SIG_SIZE), TB_ST_SAME_ACCOUNT);

        CHECK_ERR(ledger_balance(c.l, "alice", &a), LEDGER_OK);
        CHECK_ERR(ledger_balance(c.l, "bob", &b), LEDGER_OK);
        CHECK(a.redeemed == 30 && a.transferred_out == 40 && a.earned == 100);
        CHECK(b.transferred_in == 40 && b.entries == 3);
        check_identity(&c, "alice");
        check_identity(&c, "bob");
        t_teardown(&c);
}

static void test_reverse(void)
{
        struct tctx c;
        struct tb_balance_info a;
        uint64_t svc, redeem, xfer, reg = 3;
        int64_t t0 = T_NOW - 86400;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.other, TB_ROLE_ALL & ~TB_ROLE_ADMIN,
                           "t2"),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0, 60, ""), TB_ST_OK);
        svc = c.res.seq;

        /* not the original signer, not admin */
        CHECK_ERR(t_reverse(&c, &c.other, svc), TB_ST_ROLE_FORBIDDEN);
        CHECK_ERR(t_reverse(&c, &c.rec, reg), TB_ST_NOT_REVERSIBLE);
        CHECK_ERR(t_reverse(&c, &c.rec, 1), TB_ST_NOT_REVERSIBLE);
        CHECK_ERR(t_reverse(&c, &c.rec, 999), TB_ST_NO_SUCH_ENTRY);

        /* the original signer reverses its service: all counters restored,
         * the interval and the daily minutes freed */
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 60, 0),
                  TB_ST_OK);
        CHECK_ERR(t_reverse(&c, &c.rec, svc), TB_ST_OK);
        CHECK(c.res.points == -60 && c.res.balance == 0);
        {
                uint64_t rev = c.res.seq;
                CHECK_ERR(t_reverse(&c, &c.rec, svc), TB_ST_ALREADY_REVERSED);
                CHECK_ERR(t_reverse(&c, &c.admin, rev), TB_ST_NOT_REVERSIBLE);
        }
        CHECK_ERR(ledger_balance(c.l, "alice", &a), LEDGER_OK);
        CHECK(a.balance == 0 && a.earned == 0 && a.minutes == 0);
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0, 60, ""), TB_ST_OK);
        svc = c.res.seq;
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 0, 0),
                  TB_ST_OK);

        /* spent points: the redemption must be reversed first */
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 50), TB_ST_OK);
        redeem = c.res.seq;
        CHECK_ERR(t_reverse(&c, &c.admin, svc), TB_ST_INSUFFICIENT_POINTS);
        CHECK(t_balance(&c, "alice") == 10);
        CHECK_ERR(t_reverse(&c, &c.admin, redeem), TB_ST_OK);
        CHECK(c.res.points == 50 && c.res.balance == 60);
        CHECK_ERR(t_reverse(&c, &c.admin, svc), TB_ST_OK);
        CHECK(t_balance(&c, "alice") == 0);

        /* transfer: reversed only while the receiver still has the points */
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + HOUR, 60, ""), TB_ST_OK);
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 40), TB_ST_OK);
        xfer = c.res.seq;
        CHECK_ERR(t_redeem(&c, &c.red, "bob", 30), TB_ST_OK);
        redeem = c.res.seq;
        CHECK_ERR(t_reverse(&c, &c.red, xfer), TB_ST_INSUFFICIENT_POINTS);
        CHECK_ERR(t_reverse(&c, &c.red, redeem), TB_ST_OK);
        CHECK_ERR(t_reverse(&c, &c.red, xfer), TB_ST_OK);
        CHECK(c.res.points == 40 && c.res.balance == 60);
        CHECK(t_balance(&c, "bob") == 0);
        CHECK_ERR(ledger_balance(c.l, "alice", &a), LEDGER_OK);
        CHECK(a.transferred_out == 0 && a.redeemed == 0 && a.earned == 60);

        /* reversals are exempt from the balance cap */
        CHECK_ERR(t_redeem(&c, &c.red, "alice", 60), TB_ST_OK);
        redeem = c.res.seq;
        CHECK_ERR(t_service(&c, &c.rec, "alice", t0 + 2 * HOUR, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_MAX_BALANCE, "", 0, 0, 60),
                  TB_ST_OK);
        CHECK_ERR(t_reverse(&c, &c.red, redeem), TB_ST_OK);
        CHECK(t_balance(&c, "alice") == 120);
        check_identity(&c, "alice");
        check_identity(&c, "bob");
        t_teardown(&c);
}

int main(void)
{
        test_keys();
        test_register();
        test_service();
        test_redeem_transfer();
        test_reverse();
        return check_done("test_ledger_rules");
}
