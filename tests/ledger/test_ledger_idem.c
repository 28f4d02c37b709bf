/*
 * tests/ledger/test_ledger_idem.c - idempotency (invariant 4): a retry gets
 * the first outcome and writes nothing, also after reopening; refusals are
 * remembered only for enrolled keys; and a refused entry never disturbs
 * the rest of its batch.
 */
#include "ledger_test.h"

static uint64_t tree_size(struct tctx *c)
{
        struct tb_status_info st;

        if (ledger_status(c->l, &st) != LEDGER_OK)
                return UINT64_MAX;
        return st.tree_size;
}

static void test_retry(void)
{
        struct tctx c;
        struct tb_entry e, e2;
        uint8_t svc[TB_SIGNED_MAX], red[TB_SIGNED_MAX], other[TB_SIGNED_MAX];
        size_t svc_len, red_len, other_len;
        uint64_t size;

        t_setup(&c);
        t_cast(&c);
        e = t_entry(&c, TB_KIND_SERVICE, &c.rec);
        snprintf(e.u.service.account, sizeof(e.u.service.account), "alice");
        e.u.service.start = T_NOW - 7200;
        e.u.service.minutes = 45;
        svc_len = t_sign(&e, &c.rec, svc);
        CHECK_ERR(t_apply(&c, svc, svc_len), TB_ST_OK);
        CHECK(c.res.seq == 5 && c.res.points == 45 && c.res.balance == 45);
        size = tree_size(&c);
        CHECK_ERR(t_apply(&c, svc, svc_len), TB_ST_DUPLICATE);
        CHECK(c.res.seq == 5 && c.res.points == 45 && c.res.balance == 45);
        CHECK(tree_size(&c) == size);
        CHECK(t_balance(&c, "alice") == 45);

        /* same request id, other content */
        e2 = e;
        e2.u.service.minutes = 46;
        other_len = t_sign(&e2, &c.rec, other);
        CHECK_ERR(t_apply(&c, other, other_len), TB_ST_REQUEST_ID_REUSED);
        CHECK(tree_size(&c) == size);

        /* a refusal is remembered: the retry is refused even when the
         * balance would now allow it */
        e = t_entry(&c, TB_KIND_REDEEM, &c.red);
        snprintf(e.u.redeem.account, sizeof(e.u.redeem.account), "alice");
        snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "bread");
        e.u.redeem.points = 50;
        red_len = t_sign(&e, &c.red, red);
        CHECK_ERR(t_apply(&c, red, red_len), TB_ST_INSUFFICIENT_POINTS);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 3 * 3600, 30, ""),
                  TB_ST_OK);
        CHECK(t_balance(&c, "alice") == 75);
        CHECK_ERR(t_apply(&c, red, red_len), TB_ST_INSUFFICIENT_POINTS);
        size = tree_size(&c);

        /* after reopening, the same answers */
        t_reopen(&c);
        CHECK_ERR(t_apply(&c, svc, svc_len), TB_ST_DUPLICATE);
        CHECK(c.res.seq == 5 && c.res.points == 45 && c.res.balance == 45);
        CHECK_ERR(t_apply(&c, red, red_len), TB_ST_INSUFFICIENT_POINTS);
        CHECK_ERR(t_apply(&c, other, other_len), TB_ST_REQUEST_ID_REUSED);
        CHECK(tree_size(&c) == size);

        /* a retry after the key was revoked still gets its first outcome */
        CHECK_ERR(t_revoke(&c, &c.admin, &c.rec), TB_ST_OK);
        CHECK_ERR(t_apply(&c, svc, svc_len), TB_ST_DUPLICATE);
        t_teardown(&c);
}

static void test_not_remembered(void)
{
        struct tctx c;
        struct tb_entry e;
        uint8_t buf[TB_SIGNED_MAX], bad[TB_SIGNED_MAX];
        size_t len;

        t_setup(&c);
        t_cast(&c);
        /* UNKNOWN_KEY is not remembered: after enrollment it goes through */
        e = t_entry(&c, TB_KIND_REGISTER, &c.other);
        snprintf(e.u.reg.account, sizeof(e.u.reg.account), "carol");
        len = t_sign(&e, &c.other, buf);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_UNKNOWN_KEY);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.other, TB_ROLE_RECORD, "t2"),
                  TB_ST_OK);
        /* BAD_SIGNATURE is not remembered either */
        memcpy(bad, buf, len);
        bad[len - 1] ^= 1;
        CHECK_ERR(t_apply(&c, bad, len), TB_ST_BAD_SIGNATURE);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_OK);
        CHECK_ERR(t_apply(&c, buf, len), TB_ST_DUPLICATE);
        /* a pre-verified item skips the signature check (the caller's
         * promise) but never the key check */
        {
                struct ledger_item it = {bad, len, T_NOW, 1};
                struct ledger_result r;
                e = t_entry(&c, TB_KIND_REGISTER, &c.red);
                snprintf(e.u.reg.account, sizeof(e.u.reg.account), "dave");
                it.len = t_sign(&e, &c.red, bad);
                CHECK_ERR(ledger_apply_batch(c.l, &it, 1, &r), LEDGER_OK);
                CHECK(r.status == TB_ST_ROLE_FORBIDDEN);
        }
        t_teardown(&c);
}

static void test_batch_isolation(void)
{
        struct tctx c;
        struct ledger_item it[7];
        struct ledger_result r[7];
        uint8_t b[7][TB_SIGNED_MAX];
        struct tb_entry e;
        struct tb_balance_info a;
        size_t i;

        t_setup(&c);
        t_cast(&c);
        /* 0 service ok, 1 redeem too much, 2 register existing, 3 service
         * overlapping 0, 4 transfer ok, 5 = 0 again (duplicate in batch),
         * 6 garbage */
        e = t_entry(&c, TB_KIND_SERVICE, &c.rec);
        snprintf(e.u.service.account, sizeof(e.u.service.account), "alice");
        e.u.service.start = T_NOW - 7200;
        e.u.service.minutes = 60;
        it[0].len = t_sign(&e, &c.rec, b[0]);
        e = t_entry(&c, TB_KIND_REDEEM, &c.red);
        snprintf(e.u.redeem.account, sizeof(e.u.redeem.account), "alice");
        snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "bread");
        e.u.redeem.points = 61;
        it[1].len = t_sign(&e, &c.red, b[1]);
        e = t_entry(&c, TB_KIND_REGISTER, &c.rec);
        snprintf(e.u.reg.account, sizeof(e.u.reg.account), "bob");
        it[2].len = t_sign(&e, &c.rec, b[2]);
        e = t_entry(&c, TB_KIND_SERVICE, &c.rec);
        snprintf(e.u.service.account, sizeof(e.u.service.account), "alice");
        e.u.service.start = T_NOW - 7200 + 60;
        e.u.service.minutes = 10;
        it[3].len = t_sign(&e, &c.rec, b[3]);
        e = t_entry(&c, TB_KIND_TRANSFER, &c.red);
        snprintf(e.u.transfer.from, sizeof(e.u.transfer.from), "alice");
        snprintf(e.u.transfer.to, sizeof(e.u.transfer.to), "bob");
        e.u.transfer.points = 25;
        it[4].len = t_sign(&e, &c.red, b[4]);
        memcpy(b[5], b[0], it[0].len);
        it[5].len = it[0].len;
        memset(b[6], 0xff, 100);
        it[6].len = 100;
        for (i = 0; i < 7; i++) {
                it[i].signed_entry = b[i];
                it[i].received = T_NOW;
                it[i].verified = 0;
        }
        CHECK_ERR(ledger_apply_batch(c.l, it, 7, r), LEDGER_OK);
        CHECK(r[0].status == TB_ST_OK && r[0].seq == 5);
        CHECK(r[1].status == TB_ST_INSUFFICIENT_POINTS && r[1].detail[0]);
        CHECK(r[2].status == TB_ST_ACCOUNT_EXISTS);
        CHECK(r[3].status == TB_ST_OVERLAPPING_SERVICE);
        CHECK(r[4].status == TB_ST_OK && r[4].seq == 6);
        CHECK(r[4].points == -25 && r[4].balance == 35);
        CHECK(r[5].status == TB_ST_DUPLICATE && r[5].seq == 5);
        CHECK(r[6].status == TB_ST_BAD_REQUEST);
        CHECK(tree_size(&c) == 7);
        CHECK_ERR(ledger_balance(c.l, "alice", &a), LEDGER_OK);
        CHECK(a.balance == 35 && a.redeemed == 0 && a.minutes == 60);
        CHECK(t_balance(&c, "bob") == 25);
        t_teardown(&c);
}

int main(void)
{
        test_retry();
        test_not_remembered();
        test_batch_isolation();
        return check_done("test_ledger_idem");
}
