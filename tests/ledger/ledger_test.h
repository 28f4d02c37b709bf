/*
 * tests/ledger/ledger_test.h - helpers for the ledger tests: a private
 * temporary data directory with a real LMDB ledger, fixed-seed terminal
 * keys, and builders of signed entries (tb_entry_encode + tb_entry_sign).
 */
#ifndef TB_LEDGER_TEST_H
#define TB_LEDGER_TEST_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "entry.h"
#include "key.h"
#include "ledger.h"
#include "merkle.h"
#include "note.h"

#define T_ORIGIN "test.example/ledger"
#define T_NOW    1700000000 /* 2023-11-14T22:13:20Z */

struct tkey {
        uint8_t pk[TB_PUBKEY_SIZE];
        uint8_t sk[TB_SECKEY_SIZE];
};

struct tctx {
        char dir[PATH_MAX];
        struct ledger *l;
        struct ledger_options opt;
        struct tkey admin, rec, red, other;
        uint32_t rid;
        int64_t now;
        struct ledger_result res; /* of the last t_submit */
        uint8_t last[TB_SIGNED_MAX];
        size_t last_len;
        int tampered;
};

static inline void tkey_make(struct tkey *k, uint8_t seed_byte)
{
        uint8_t seed[crypto_sign_SEEDBYTES];

        memset(seed, seed_byte, sizeof(seed));
        if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0)
                abort();
}

static inline void t_rm(const char *dir)
{
        static const char *const names[] = {"data.mdb", "lock.mdb", "log.key",
                                            "log.pub"};
        char path[PATH_MAX];
        size_t i;

        for (i = 0; i < 4; i++) {
                int n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                if (n > 0 && (size_t)n < sizeof(path))
                        (void)unlink(path);
        }
        (void)rmdir(dir);
}

/* A fresh ledger (admin key enrolled by genesis) in a private temp dir. */
static inline void t_setup_opts(struct tctx *c, const struct ledger_options *o)
{
        const char *tmp = getenv("TMPDIR");
        enum ledger_err err;

        memset(c, 0, sizeof(*c));
        if (sodium_init() < 0)
                abort();
        snprintf(c->dir, sizeof(c->dir), "%s/tb-ledger-test-XXXXXX",
                 tmp ? tmp : "/tmp");
        if (!mkdtemp(c->dir))
                abort();
        tkey_make(&c->admin, 1);
        tkey_make(&c->rec, 2);
        tkey_make(&c->red, 3);
        tkey_make(&c->other, 4);
        if (o)
                c->opt = *o;
        else
                ledger_options_default(&c->opt);
        c->now = T_NOW;
        err = ledger_init(c->dir, T_ORIGIN, c->admin.pk, "admin", &c->opt);
        if (err) {
                fprintf(stderr, "ledger_init: %s\n", ledger_strerror(err));
                abort();
        }
        err = ledger_open(c->dir, &c->opt, &c->l);
        if (err) {
                fprintf(stderr, "ledger_open: %s\n", ledger_strerror(err));
                abort();
        }
}

static inline void t_setup(struct tctx *c)
{
        t_setup_opts(c, NULL);
}

static inline void t_reopen(struct tctx *c)
{
        ledger_close(c->l);
        c->l = NULL;
        CHECK_ERR(ledger_open(c->dir, &c->opt, &c->l), LEDGER_OK);
}

/* Every test ledger must replay to the same state (invariant 3), unless
 * the test tampered with it on purpose (c->tampered). */
static inline void t_teardown(struct tctx *c)
{
        struct ledger_check_report rep;

        if (c->l && !c->tampered) {
                CHECK_ERR(ledger_check_full(c->l, NULL, &rep), LEDGER_OK);
                CHECK(rep.mismatches == 0);
                if (rep.mismatches)
                        fprintf(stderr, "full check: %s\n", rep.first);
        }
        ledger_close(c->l);
        c->l = NULL;
        t_rm(c->dir);
}

/* An entry of kind signed by k with a fresh request id. */
static inline struct tb_entry t_entry(struct tctx *c, unsigned kind,
                                      const struct tkey *k)
{
        struct tb_entry e;

        memset(&e, 0, sizeof(e));
        e.version = TB_ENTRY_VERSION;
        e.kind = (uint8_t)kind;
        memcpy(e.signer, k->pk, TB_PUBKEY_SIZE);
        c->rid++;
        e.request_id[0] = 0xaa;
        e.request_id[12] = (uint8_t)(c->rid >> 24);
        e.request_id[13] = (uint8_t)(c->rid >> 16);
        e.request_id[14] = (uint8_t)(c->rid >> 8);
        e.request_id[15] = (uint8_t)c->rid;
        e.clock = c->now;
        return e;
}

/* body || signature into out; returns the length. */
static inline size_t t_sign(const struct tb_entry *e, const struct tkey *k,
                            uint8_t *out)
{
        size_t len;

        if (tb_entry_encode(e, out, TB_BODY_MAX, &len) != TB_OK)
                abort();
        if (tb_entry_sign(T_ORIGIN, out, len, k->sk, out + len) != TB_OK)
                abort();
        return len + TB_SIG_SIZE;
}

/* Apply one signed entry alone in a batch; returns its status. */
static inline unsigned t_apply(struct tctx *c, const uint8_t *p, size_t len)
{
        struct ledger_item it = {p, len, c->now, 0};

        if (p != c->last) {
                memcpy(c->last, p, len);
                c->last_len = len;
        }
        memset(&c->res, 0, sizeof(c->res));
        if (ledger_apply_batch(c->l, &it, 1, &c->res) != LEDGER_OK)
                return 999;
        return c->res.status;
}

/*
 * Sign e with k and apply it; then retry the same bytes, which must give
 * the first outcome (OK: DUPLICATE with the same seq, points and balance;
 * a refusal: the same refusal) and write nothing (invariant 4).
 */
static inline unsigned t_submit(struct tctx *c, const struct tb_entry *e,
                                const struct tkey *k)
{
        uint8_t buf[TB_SIGNED_MAX];
        size_t len = t_sign(e, k, buf);
        struct ledger_result first;
        unsigned st = t_apply(c, buf, len);

        first = c->res;
        if (st != 999 && st != TB_ST_STORAGE_FULL) {
                unsigned again = t_apply(c, c->last, c->last_len);
                CHECK_ERR(again, st == TB_ST_OK ? TB_ST_DUPLICATE : st);
                CHECK(c->res.seq == first.seq &&
                      c->res.points == first.points &&
                      c->res.balance == first.balance);
        }
        c->res = first;
        return st;
}

static inline unsigned t_enroll(struct tctx *c, const struct tkey *signer,
                                const struct tkey *k, uint8_t roles,
                                const char *name)
{
        struct tb_entry e = t_entry(c, TB_KIND_ENROLL, signer);

        memcpy(e.u.enroll.key, k->pk, TB_PUBKEY_SIZE);
        e.u.enroll.roles = roles;
        snprintf(e.u.enroll.name, sizeof(e.u.enroll.name), "%s", name);
        return t_submit(c, &e, signer);
}

static inline unsigned t_revoke(struct tctx *c, const struct tkey *signer,
                                const struct tkey *k)
{
        struct tb_entry e = t_entry(c, TB_KIND_REVOKE, signer);

        memcpy(e.u.revoke.key, k->pk, TB_PUBKEY_SIZE);
        return t_submit(c, &e, signer);
}

static inline unsigned t_register(struct tctx *c, const struct tkey *signer,
                                  const char *account)
{
        struct tb_entry e = t_entry(c, TB_KIND_REGISTER, signer);

        snprintf(e.u.reg.account, sizeof(e.u.reg.account), "%s", account);
        return t_submit(c, &e, signer);
}

static inline unsigned t_service(struct tctx *c, const struct tkey *signer,
                                 const char *account, int64_t start,
                                 unsigned minutes, const char *activity)
{
        struct tb_entry e = t_entry(c, TB_KIND_SERVICE, signer);

        snprintf(e.u.service.account, sizeof(e.u.service.account), "%s",
                 account);
        e.u.service.start = start;
        e.u.service.minutes = (uint16_t)minutes;
        snprintf(e.u.service.activity, sizeof(e.u.service.activity), "%s",
                 activity);
        return t_submit(c, &e, signer);
}

static inline unsigned t_redeem(struct tctx *c, const struct tkey *signer,
                                const char *account, uint32_t points)
{
        struct tb_entry e = t_entry(c, TB_KIND_REDEEM, signer);

        snprintf(e.u.redeem.account, sizeof(e.u.redeem.account), "%s", account);
        e.u.redeem.points = points;
        snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "groceries");
        return t_submit(c, &e, signer);
}

static inline unsigned t_transfer(struct tctx *c, const struct tkey *signer,
                                  const char *from, const char *to,
                                  uint32_t points)
{
        struct tb_entry e = t_entry(c, TB_KIND_TRANSFER, signer);

        snprintf(e.u.transfer.from, sizeof(e.u.transfer.from), "%s", from);
        snprintf(e.u.transfer.to, sizeof(e.u.transfer.to), "%s", to);
        e.u.transfer.points = points;
        return t_submit(c, &e, signer);
}

static inline unsigned t_reverse(struct tctx *c, const struct tkey *signer,
                                 uint64_t seq)
{
        struct tb_entry e = t_entry(c, TB_KIND_REVERSE, signer);

        e.u.reverse.seq = seq;
        return t_submit(c, &e, signer);
}

static inline unsigned t_policy(struct tctx *c, const struct tkey *signer,
                                uint8_t set, const char *activity,
                                uint32_t rate, uint16_t cap, uint64_t max)
{
        struct tb_entry e = t_entry(c, TB_KIND_POLICY, signer);

        e.u.policy.set = set;
        if (set & TB_POLICY_RATE) {
                snprintf(e.u.policy.activity, sizeof(e.u.policy.activity), "%s",
                         activity);
                e.u.policy.points_per_hour = rate;
        }
        if (set & TB_POLICY_DAILY_CAP)
                e.u.policy.daily_minutes_cap = cap;
        if (set & TB_POLICY_MAX_BALANCE)
                e.u.policy.max_balance = max;
        return t_submit(c, &e, signer);
}

static inline uint64_t t_balance(struct tctx *c, const char *account)
{
        struct tb_balance_info b;

        if (ledger_balance(c->l, account, &b) != LEDGER_OK)
                return UINT64_MAX;
        return b.balance;
}

/* The standard cast: rec (record), red (redeem) enrolled, alice and bob. */
static inline void t_cast(struct tctx *c)
{
        CHECK_ERR(t_enroll(c, &c->admin, &c->rec, TB_ROLE_RECORD, "rec"),
                  TB_ST_OK);
        CHECK_ERR(t_enroll(c, &c->admin, &c->red, TB_ROLE_REDEEM, "red"),
                  TB_ST_OK);
        CHECK_ERR(t_register(c, &c->rec, "alice"), TB_ST_OK);
        CHECK_ERR(t_register(c, &c->rec, "bob"), TB_ST_OK);
}

/* The latest checkpoint, opened with the log key from ledger_status. */
static inline int t_checkpoint(struct tctx *c, struct tb_checkpoint *cp)
{
        struct tb_status_info st;
        struct tb_vkey vk;
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len;
        uint64_t size;

        if (ledger_status(c->l, &st) ||
            tb_vkey_parse(st.log_key, strlen(st.log_key), &vk))
                return -1;
        if (ledger_checkpoint(c->l, note, sizeof(note), &len, &size))
                return -1;
        if (tb_checkpoint_open(note, len, T_ORIGIN, &vk, cp) != TB_OK)
                return -1;
        return cp->size == size ? 0 : -1;
}

#endif
