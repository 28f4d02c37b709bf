/*
 * tests/ledger/test_ledger_storage.c - map growth from a tiny map,
 * STORAGE_FULL with a too-small maximum (nothing written), the quick check
 * refusing a tampered checkpoint or root, and the full check: it passes
 * after many operations and finds a tampered balance, and a tampered value
 * of each of format 3's new layouts (a service row's start, minutes,
 * reach_before and prev_service; an account's last_service and reach; a
 * stored Merkle node); an idempotency row pointing at another entry is
 * corruption, never a wrong answer, and the full check finds it, and an
 * accepted entry's row made a refusal's.  Tampering goes around the ledger
 * (ledger_tamper.h), as an attacker with the files would.
 */
#include "buf.h"
#include "ledger_tamper.h"
#include "ledger_test.h"

/* Flip one byte of the signature in the latest checkpoint. */
static int flip_checkpoint(uint8_t *v, size_t *len, size_t cap, void *arg)
{
        (void)cap;
        (void)arg;
        if (*len < 10)
                return -1;
        v[*len - 10] = v[*len - 10] == 'A' ? 'B' : 'A';
        return 0;
}

static int bump_root(uint8_t *v, size_t *len, size_t cap, void *arg)
{
        (void)cap;
        (void)arg;
        if (*len != 32)
                return -1;
        v[0] ^= 1;
        return 0;
}

/* An account's balance, the first u64 of its row. */
static int bump_balance(uint8_t *v, size_t *len, size_t cap, void *arg)
{
        (void)cap;
        (void)arg;
        if (*len != 88) /* 9 x u64 ‖ last_service ‖ reach */
                return -1;
        tb_store_u64be(v, tb_load_u64be(v) + 1);
        return 0;
}

/* A record's receive time: no signature covers it, only the Merkle tree. */
static int bump_received(uint8_t *v, size_t *len, size_t cap, void *arg)
{
        (void)cap;
        (void)arg;
        if (*len < TB_RECORD_HEADER)
                return -1;
        tb_store_u64be(v + 8, tb_load_u64be(v + 8) + 1);
        return 0;
}

/* Flip the low bit of the byte at offset *arg of the value. */
static int flip_at(uint8_t *v, size_t *len, size_t cap, void *arg)
{
        size_t off = *(const size_t *)arg;

        (void)cap;
        if (off >= *len)
                return -1;
        v[off] ^= 1;
        return 0;
}

/* An accepted entry's idem row (u64 seq) set to *arg. */
static int set_seq(uint8_t *v, size_t *len, size_t cap, void *arg)
{
        (void)cap;
        if (*len != 8)
                return -1;
        tb_store_u64be(v, *(const uint64_t *)arg);
        return 0;
}

/* An accepted entry's idem row made a refusal's (status ‖ hash). */
static int set_refused(uint8_t *v, size_t *len, size_t cap, void *arg)
{
        (void)arg;
        if (*len != 8 || cap < 2 + TB_HASH_SIZE)
                return -1;
        v[0] = (uint8_t)(TB_ST_INSUFFICIENT_POINTS >> 8);
        v[1] = (uint8_t)TB_ST_INSUFFICIENT_POINTS;
        memset(v + 2, 0x5a, TB_HASH_SIZE);
        *len = 2 + TB_HASH_SIZE;
        return 0;
}

struct tamper_case {
        const char *db;
        int key; /* 0: history row of svc, 1: account alice, 2: hash (3, 0) */
        size_t off;
        const char *found; /* in the full check's first mismatch */
};

static void test_tampered_format3(void)
{
        static const struct tamper_case cases[] = {
            {"history", 0, 24, "history"},        /* prev_service */
            {"history", 0, 32, "history"},        /* reach_before */
            {"history", 0, 47, "history"},        /* start */
            {"history", 0, 49, "history"},        /* minutes */
            {"history", 0, 16, "history"},        /* balance_after */
            {"accounts", 1, 79, "account alice"}, /* last_service */
            {"accounts", 1, 87, "account alice"}, /* reach */
            {"hashes", 2, 0, "hash"},             /* node (3, 0) */
        };
        struct tctx c;
        struct ledger_check_report rep;
        uint8_t key[64], rid[TB_REQUEST_ID_SIZE], sbuf[TB_SIGNED_MAX];
        size_t i, klen = 0, off, slen = 0;
        uint64_t svc = 0, other = 0;
        int j;

        for (i = 0; i <= sizeof(cases) / sizeof(cases[0]) + 1; i++) {
                t_setup(&c);
                t_cast(&c);
                for (j = 0; j < 12; j++) {
                        CHECK_ERR(t_service(&c, &c.rec, "alice",
                                            T_NOW - 86400 + j * 3600, 30, ""),
                                  TB_ST_OK);
                        if (j == 5) {
                                svc = c.res.seq;
                                memcpy(rid, c.last + 34, sizeof(rid));
                                memcpy(sbuf, c.last, c.last_len);
                                slen = c.last_len;
                        }
                        if (j == 6)
                                other = c.res.seq;
                        CHECK_ERR(t_redeem(&c, &c.red, "alice", 1), TB_ST_OK);
                }
                ledger_close(c.l);
                c.l = NULL;
                if (i >= sizeof(cases) / sizeof(cases[0])) {
                        /* idem: the service's row names another entry, or
                         * is made a refusal's */
                        int named = i == sizeof(cases) / sizeof(cases[0]);

                        key[0] = 0; /* the tests' ids are class 0 */
                        memcpy(key + 1, rid, sizeof(rid));
                        memcpy(key + 1 + sizeof(rid), c.rec.pk, TB_PUBKEY_SIZE);
                        CHECK_ERR(ledger_tamper_edit(
                                      c.dir, "idem", key,
                                      1 + sizeof(rid) + TB_PUBKEY_SIZE,
                                      named ? set_seq : set_refused, &other),
                                  0);
                        CHECK_ERR(ledger_open(c.dir, NULL, &c.l), LEDGER_OK);
                        /* its retry: not a DUPLICATE of another entry, not
                         * a new entry, but a corrupt ledger; or, as a
                         * refusal's row with another body, a reuse */
                        CHECK_ERR(t_apply(&c, sbuf, slen),
                                  named ? 999 : TB_ST_REQUEST_ID_REUSED);
                        /* and the full check finds the row */
                        CHECK_ERR(ledger_check_full(c.l, NULL, &rep),
                                  LEDGER_OK);
                        {
                                char want[80];
                                snprintf(want, sizeof(want),
                                         "idem row of logged entry %llu "
                                         "differs from the replay",
                                         (unsigned long long)svc);
                                CHECK(rep.mismatches == 1 &&
                                      strcmp(rep.first, want) == 0);
                        }
                        if (rep.mismatches != 1)
                                fprintf(stderr, "idem case %d: %s\n", named,
                                        rep.first);
                        c.tampered = 1;
                        t_teardown(&c);
                        continue;
                }
                if (cases[i].key == 0) {
                        tb_store_u64be(key, svc);
                        key[8] = 5;
                        memcpy(key + 9, "alice", 5);
                        klen = 14;
                } else if (cases[i].key == 1) {
                        memcpy(key, "alice", 5);
                        klen = 5;
                } else {
                        tb_store_u64be(key, 14); /* StoredHashIndex(3, 0) */
                        klen = 8;
                }
                off = cases[i].off;
                CHECK_ERR(ledger_tamper_edit(c.dir, cases[i].db, key, klen,
                                             flip_at, &off),
                          0);
                CHECK_ERR(ledger_open(c.dir, NULL, &c.l), LEDGER_OK);
                CHECK_ERR(ledger_check_full(c.l, NULL, &rep), LEDGER_OK);
                CHECK(rep.mismatches > 0);
                CHECK(strstr(rep.first, cases[i].found) != NULL);
                if (!strstr(rep.first, cases[i].found))
                        fprintf(stderr, "case %zu: %s\n", i, rep.first);
                c.tampered = 1;
                t_teardown(&c);
        }
}

static void test_tampered_record(void)
{
        struct tctx c;
        struct ledger_check_report rep;

        int i;

        t_setup(&c);
        t_cast(&c);
        /* 20 records: record 3 lies under a stored node of level 4
         * (format 3 stores levels >= 2), so the quick check of the
         * latest tree does not read it */
        for (i = 0; i < 15; i++)
                CHECK_ERR(t_service(&c, &c.rec, "alice",
                                    T_NOW - 86400 + i * 3600, 30, ""),
                          TB_ST_OK);
        ledger_close(c.l);
        c.l = NULL;
        {
                uint8_t k[8];
                tb_store_u64be(k, 3); /* record 3 */
                CHECK_ERR(ledger_tamper_edit(c.dir, "log", k, sizeof(k),
                                             bump_received, NULL),
                          0);
        }
        /* the stored tree still matches the stored checkpoint: opens */
        CHECK_ERR(ledger_open(c.dir, NULL, &c.l), LEDGER_OK);
        CHECK_ERR(ledger_check_full(c.l, NULL, &rep), LEDGER_OK);
        CHECK(rep.mismatches > 0);
        CHECK(strstr(rep.first, "checkpoint") != NULL);
        c.tampered = 1;
        t_teardown(&c);
}

static void test_growth(void)
{
        struct ledger_options o;
        struct tctx c;
        struct tb_status_info st;
        struct ledger_check_report rep;
        uint64_t map0;
        int i;

        ledger_options_default(&o);
        o.map_initial = 64 << 10;
        o.map_max = 64 << 20;
        t_setup_opts(&c, &o);
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        map0 = st.map_bytes;
        CHECK(map0 <= 128 << 10);
        t_cast(&c);
        for (i = 0; i < 300; i++) {
                char acct[16];
                snprintf(acct, sizeof(acct), "v%03d", i);
                CHECK_ERR(t_register(&c, &c.rec, acct), TB_ST_OK);
                CHECK_ERR(
                    t_service(&c, &c.rec, acct, T_NOW - 3600, 60, "garden"),
                    TB_ST_OK);
        }
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(st.map_bytes > map0);
        CHECK(st.tree_size == 605 && st.accounts == 302);
        CHECK(t_balance(&c, "v299") == 60);
        t_reopen(&c);
        CHECK(t_balance(&c, "v123") == 60);
        CHECK_ERR(ledger_check_full(c.l, NULL, &rep), LEDGER_OK);
        CHECK(rep.mismatches == 0 && rep.entries == 605);
        t_teardown(&c);
}

static void test_storage_full(void)
{
        struct ledger_options o;
        struct tctx c;
        struct tb_checkpoint before, after;
        struct ledger_item it[20];
        struct ledger_result r[20];
        static uint8_t b[20][TB_SIGNED_MAX];
        uint64_t size0;
        int i, j, full = 0;

        ledger_options_default(&o);
        o.map_initial = 64 << 10;
        o.map_max = 256 << 10;
        t_setup_opts(&c, &o);
        t_cast(&c);
        for (i = 0; i < 200 && !full; i++) {
                for (j = 0; j < 20; j++) {
                        struct tb_entry e =
                            t_entry(&c, TB_KIND_REGISTER, &c.rec);
                        snprintf(e.u.reg.account, sizeof(e.u.reg.account),
                                 "account-with-a-longish-name-%04d-%02d", i, j);
                        it[j].signed_entry = b[j];
                        it[j].len = t_sign(&e, &c.rec, b[j]);
                        it[j].received = T_NOW;
                        it[j].verified = 0;
                }
                CHECK(t_checkpoint(&c, &before) == 0);
                size0 = before.size;
                if (ledger_apply_batch(c.l, it, 20, r) == LEDGER_E_FULL) {
                        full = 1;
                        for (j = 0; j < 20; j++)
                                CHECK(r[j].status == TB_ST_STORAGE_FULL);
                        CHECK(t_checkpoint(&c, &after) == 0);
                        CHECK(after.size == size0);
                        CHECK_MEM(after.root, before.root, 32);
                        {
                                struct tb_balance_info bi;
                                CHECK_ERR(ledger_balance(c.l, "alice", &bi),
                                          LEDGER_OK);
                        }
                }
        }
        CHECK(full);
        /* not remembered: with room, the same batch goes through */
        ledger_close(c.l);
        c.opt.map_max = 64 << 20;
        CHECK_ERR(ledger_open(c.dir, &c.opt, &c.l), LEDGER_OK);
        CHECK_ERR(ledger_apply_batch(c.l, it, 20, r), LEDGER_OK);
        for (j = 0; j < 20; j++)
                CHECK(r[j].status == TB_ST_OK);
        t_teardown(&c);
}

static void test_quick_check(void)
{
        struct tctx c;
        struct ledger *l = NULL;

        t_setup(&c);
        t_cast(&c);
        ledger_close(c.l);
        c.l = NULL;
        CHECK_ERR(ledger_tamper_edit(c.dir, "checkpoints", NULL, 0,
                                     flip_checkpoint, NULL),
                  0);
        CHECK_ERR(ledger_open(c.dir, NULL, &l), LEDGER_E_CHECK);
        CHECK(l == NULL);
        t_teardown(&c);

        t_setup(&c);
        t_cast(&c);
        ledger_close(c.l);
        c.l = NULL;
        CHECK_ERR(ledger_tamper_edit(c.dir, "meta", "root", 4, bump_root, NULL),
                  0);
        CHECK_ERR(ledger_open(c.dir, NULL, &l), LEDGER_E_CHECK);
        t_teardown(&c);
}

static void test_full_check(void)
{
        struct tctx c;
        struct ledger_check_report rep;
        uint64_t svc;
        int i;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.other, TB_ROLE_ALL, "boss"),
                  TB_ST_OK);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE | TB_POLICY_DAILY_CAP,
                           "garden", 90, 600, 0),
                  TB_ST_OK);
        for (i = 0; i < 40; i++) {
                char acct[16];
                snprintf(acct, sizeof(acct), "p%02d", i % 7);
                if (i < 7)
                        CHECK_ERR(t_register(&c, &c.rec, acct), TB_ST_OK);
                CHECK_ERR(t_service(&c, &c.rec, acct, T_NOW - 86400 + i * 1800,
                                    25, i % 3 ? "garden" : ""),
                          TB_ST_OK);
                svc = c.res.seq;
                (void)t_redeem(&c, &c.red, acct, 7);
                (void)t_transfer(&c, &c.red, acct, "alice", 3);
                if (i % 5 == 0)
                        (void)t_reverse(&c, &c.other, svc);
                /* refusals are not logged: the replay must not care */
                (void)t_redeem(&c, &c.red, acct, 100000);
        }
        CHECK_ERR(t_revoke(&c, &c.admin, &c.red), TB_ST_OK);
        CHECK_ERR(ledger_check_full(c.l, NULL, &rep), LEDGER_OK);
        CHECK(rep.mismatches == 0);
        if (rep.mismatches)
                fprintf(stderr, "first mismatch: %s\n", rep.first);
        CHECK(rep.accounts == 9 && rep.keys == 4);
        CHECK(rep.entries > 100 && rep.checkpoints == rep.entries);

        /* a balance changed behind the ledger's back: the quick check can't
         * see it (the tree is intact), the full check must */
        ledger_close(c.l);
        c.l = NULL;
        CHECK_ERR(
            ledger_tamper_edit(c.dir, "accounts", "p03", 3, bump_balance, NULL),
            0);
        CHECK_ERR(ledger_open(c.dir, NULL, &c.l), LEDGER_OK);
        CHECK_ERR(ledger_check_full(c.l, NULL, &rep), LEDGER_OK);
        CHECK(rep.mismatches == 1);
        CHECK(strstr(rep.first, "account p03") != NULL);
        c.tampered = 1;
        t_teardown(&c);
}

int main(void)
{
        test_growth();
        test_storage_full();
        test_quick_check();
        test_full_check();
        test_tampered_record();
        test_tampered_format3();
        return check_done("test_ledger_storage");
}
