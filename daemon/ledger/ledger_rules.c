/*
 * daemon/ledger_rules.c - the ledger rules: what each kind of entry must
 * satisfy and what it changes.  docs/ledger-rules.md is the reasoning.
 *
 * Every kind is checked completely before anything is written, so a
 * refusal leaves no trace but its status; the writes that follow the checks
 * cannot fail except through LMDB (the sticky error, which aborts the whole
 * batch).  Balances are unsigned and every debit is checked first: a
 * balance is never negative, and balance = earned - redeemed + in - out
 * holds for every account after every entry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "ledger_int.h"

struct lkey {
        uint8_t roles;
        uint64_t enrolled;
        uint64_t revoked; /* 0 = active; seq 0 is genesis, never a revoke */
        char name[TB_NAME_MAX + 1];
};

struct lcaps {
        uint16_t daily_minutes;
        uint64_t max_balance;
};

static unsigned refuse(struct ledger_result *r, unsigned status,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static unsigned refuse(struct ledger_result *r, unsigned status,
                       const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
        va_end(ap);
        return status;
}

static int key_get(struct ledger_txn *t, const uint8_t pk[TB_PUBKEY_SIZE],
                   struct lkey *k)
{
        MDB_val v;
        const uint8_t *p;
        size_t n;

        if (ledger_txn_get(t, LEDGER_DB_KEYS, pk, TB_PUBKEY_SIZE, &v))
                return 0;
        p = v.mv_data;
        if (v.mv_size < 18 || v.mv_size != 18 + (size_t)p[17] ||
            p[17] > TB_NAME_MAX) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return 0;
        }
        k->roles = p[0];
        k->enrolled = tb_load_u64be(p + 1);
        k->revoked = tb_load_u64be(p + 9);
        n = p[17];
        memcpy(k->name, p + 18, n);
        k->name[n] = '\0';
        return 1;
}

static void key_put(struct ledger_txn *t, const uint8_t pk[TB_PUBKEY_SIZE],
                    const struct lkey *k)
{
        uint8_t p[18 + TB_NAME_MAX];
        size_t n = strlen(k->name);

        p[0] = k->roles;
        tb_store_u64be(p + 1, k->enrolled);
        tb_store_u64be(p + 9, k->revoked);
        p[17] = (uint8_t)n;
        memcpy(p + 18, k->name, n);
        ledger_txn_put(t, LEDGER_DB_KEYS, pk, TB_PUBKEY_SIZE, p, 18 + n, 0);
}

static void caps_get(struct ledger_txn *t, struct lcaps *c)
{
        MDB_val v;
        const uint8_t *p;

        memset(c, 0, sizeof(*c));
        if (ledger_txn_get(t, LEDGER_DB_POLICY, "c", 1, &v))
                return;
        if (v.mv_size != 10) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return;
        }
        p = v.mv_data;
        c->daily_minutes = (uint16_t)(p[0] << 8 | p[1]);
        c->max_balance = tb_load_u64be(p + 2);
}

static void caps_put(struct ledger_txn *t, const struct lcaps *c)
{
        uint8_t p[10];

        p[0] = (uint8_t)(c->daily_minutes >> 8);
        p[1] = (uint8_t)c->daily_minutes;
        tb_store_u64be(p + 2, c->max_balance);
        ledger_txn_put(t, LEDGER_DB_POLICY, "c", 1, p, sizeof(p), 0);
}

static size_t rate_key(uint8_t *k, const char *activity)
{
        size_t n = strlen(activity);

        k[0] = 'r';
        memcpy(k + 1, activity, n);
        return 1 + n;
}

static void rate_put(struct ledger_txn *t, const char *activity, uint32_t rate)
{
        uint8_t k[LPOLICY_KEY_MAX], v[4];
        size_t kl = rate_key(k, activity);

        tb_store_u32be(v, rate);
        ledger_txn_put(t, LEDGER_DB_POLICY, k, kl, v, 4, 0);
}

/* The activity's own rate if the policy set one, else the default. */
static uint32_t rate_get(struct ledger_txn *t, const char *activity)
{
        uint8_t k[LPOLICY_KEY_MAX];
        size_t kl = rate_key(k, activity);
        MDB_val v;

        if (ledger_txn_get(t, LEDGER_DB_POLICY, k, kl, &v) &&
            ledger_txn_get(t, LEDGER_DB_POLICY, "r", 1, &v))
                return 0;
        if (v.mv_size != 4) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return 0;
        }
        return tb_load_u32be(v.mv_data);
}

static void history_put(struct ledger_txn *t, const char *account, uint64_t seq,
                        int64_t delta, uint64_t balance)
{
        uint8_t k[LACCT_KEY_MAX], v[LHISTORY_VAL];
        size_t kl = ledger_txn_account_key(k, account, seq, 8);

        tb_store_u64be(v, (uint64_t)delta);
        tb_store_u64be(v + 8, balance);
        ledger_txn_put(t, LEDGER_DB_HISTORY, k, kl, v, sizeof(v), 0);
}

static void touch(struct tb_balance_info *a, uint64_t seq)
{
        a->entries++;
        a->last_seq = seq;
}

static uint32_t daily_get(struct ledger_txn *t, const char *account,
                          int64_t start)
{
        uint8_t k[LACCT_KEY_MAX];
        size_t kl =
            ledger_txn_account_key(k, account, (uint64_t)(start / 86400), 4);
        MDB_val v;

        if (ledger_txn_get(t, LEDGER_DB_DAILY, k, kl, &v))
                return 0;
        if (v.mv_size != 4) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return 0;
        }
        return tb_load_u32be(v.mv_data);
}

static void daily_put(struct ledger_txn *t, const char *account, int64_t start,
                      uint32_t minutes)
{
        uint8_t k[LACCT_KEY_MAX], v[4];
        size_t kl =
            ledger_txn_account_key(k, account, (uint64_t)(start / 86400), 4);

        if (minutes == 0) {
                ledger_txn_del(t, LEDGER_DB_DAILY, k, kl);
                return;
        }
        tb_store_u32be(v, minutes);
        ledger_txn_put(t, LEDGER_DB_DAILY, k, kl, v, 4, 0);
}

/*
 * Stored intervals of one account never overlap, so [start, end) overlaps
 * one of them iff it overlaps the last one starting at or before start or
 * the first one starting after it.
 */
static int interval_overlaps(struct ledger_txn *t, const char *account,
                             int64_t start, int64_t end)
{
        uint8_t k[LACCT_KEY_MAX];
        size_t kl = ledger_txn_account_key(k, account, (uint64_t)start, 8);
        size_t pl = kl - 8;
        MDB_cursor *c = NULL;
        MDB_val key = {kl, k}, val;
        int rc, hit = 0;

        if (t->rc)
                return 0;
        if ((rc = mdb_cursor_open(t->txn, t->l->db[LEDGER_DB_INTERVALS], &c)))
                goto fail;
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        if (rc == 0 && key.mv_size == kl && memcmp(key.mv_data, k, pl) == 0) {
                uint64_t s = tb_load_u64be((uint8_t *)key.mv_data + pl);
                if (s < (uint64_t)end)
                        hit = 1;
        }
        if (rc && rc != MDB_NOTFOUND)
                goto fail;
        rc = mdb_cursor_get(c, &key, &val, rc ? MDB_LAST : MDB_PREV);
        if (rc == 0 && key.mv_size == kl && memcmp(key.mv_data, k, pl) == 0) {
                if (val.mv_size != LINTERVAL_VAL) {
                        rc = LEDGER_TXN_E_CORRUPT;
                        goto fail;
                }
                if (tb_load_u64be(val.mv_data) > (uint64_t)start)
                        hit = 1;
        }
        if (rc && rc != MDB_NOTFOUND)
                goto fail;
        mdb_cursor_close(c);
        return hit;
fail:
        if (c)
                mdb_cursor_close(c);
        ledger_txn_fail(t, rc);
        return 0;
}

static void interval_put(struct ledger_txn *t, const char *account,
                         int64_t start, int64_t end, uint64_t seq)
{
        uint8_t k[LACCT_KEY_MAX], v[LINTERVAL_VAL];
        size_t kl = ledger_txn_account_key(k, account, (uint64_t)start, 8);

        tb_store_u64be(v, (uint64_t)end);
        tb_store_u64be(v + 8, seq);
        ledger_txn_put(t, LEDGER_DB_INTERVALS, k, kl, v, sizeof(v), 0);
}

static void interval_del(struct ledger_txn *t, const char *account,
                         int64_t start)
{
        uint8_t k[LACCT_KEY_MAX];
        size_t kl = ledger_txn_account_key(k, account, (uint64_t)start, 8);

        ledger_txn_del(t, LEDGER_DB_INTERVALS, k, kl);
}

static unsigned apply_genesis(struct ledger *l, struct ledger_txn *t,
                              const struct ledger_rules_ctx *a,
                              const struct tb_entry *e, struct ledger_result *r)
{
        const struct tb_genesis *g = &e->u.genesis;
        struct lkey k;
        struct lcaps c;

        if (a->seq != 0) {
                if (!key_get(t, e->signer, &k))
                        return refuse(r, TB_ST_UNKNOWN_KEY, "signer unknown");
                if (k.revoked)
                        return refuse(r, TB_ST_KEY_REVOKED,
                                      "signer revoked at seq %llu",
                                      (unsigned long long)k.revoked);
                return refuse(r, TB_ST_ROLE_FORBIDDEN,
                              "genesis is only entry 0");
        }
        if (memcmp(e->signer, l->vkey.pk, TB_PUBKEY_SIZE) != 0)
                return refuse(r, TB_ST_UNKNOWN_KEY,
                              "genesis must be signed by the log key");
        if (strcmp(g->origin, l->origin) != 0)
                return refuse(r, TB_ST_BAD_REQUEST,
                              "genesis origin is not the ledger's");
        memset(&k, 0, sizeof(k));
        k.roles = TB_ROLE_ADMIN;
        snprintf(k.name, sizeof(k.name), "%s", g->admin_name);
        key_put(t, g->admin_key, &k);
        rate_put(t, "", g->points_per_hour);
        c.daily_minutes = g->daily_minutes_cap;
        c.max_balance = g->max_balance;
        caps_put(t, &c);
        ledger_txn_meta_put_u64(t, "keys_active", 1);
        ledger_txn_meta_put_u64(t, "keys_revoked", 0);
        return TB_ST_OK;
}

static unsigned apply_enroll(struct ledger_txn *t,
                             const struct ledger_rules_ctx *a,
                             const struct tb_entry *e, struct ledger_result *r)
{
        const struct tb_enroll *en = &e->u.enroll;
        struct lkey k;

        if (key_get(t, en->key, &k))
                return refuse(r, TB_ST_KEY_EXISTS,
                              k.revoked ? "key was enrolled and revoked"
                                        : "key already enrolled");
        memset(&k, 0, sizeof(k));
        k.roles = en->roles;
        k.enrolled = a->seq;
        snprintf(k.name, sizeof(k.name), "%s", en->name);
        key_put(t, en->key, &k);
        ledger_txn_meta_put_u64(t, "keys_active",
                                ledger_txn_meta_u64(t, "keys_active") + 1);
        return TB_ST_OK;
}

static unsigned apply_revoke(struct ledger_txn *t,
                             const struct ledger_rules_ctx *a,
                             const struct tb_entry *e, struct ledger_result *r)
{
        struct lkey k;

        if (!key_get(t, e->u.revoke.key, &k))
                return refuse(r, TB_ST_KEY_NOT_ENROLLED, "key not enrolled");
        if (k.revoked)
                return refuse(r, TB_ST_KEY_NOT_ENROLLED,
                              "key already revoked at seq %llu",
                              (unsigned long long)k.revoked);
        k.revoked = a->seq;
        key_put(t, e->u.revoke.key, &k);
        ledger_txn_meta_put_u64(t, "keys_active",
                                ledger_txn_meta_u64(t, "keys_active") - 1);
        ledger_txn_meta_put_u64(t, "keys_revoked",
                                ledger_txn_meta_u64(t, "keys_revoked") + 1);
        return TB_ST_OK;
}

static unsigned apply_policy(struct ledger_txn *t, const struct tb_entry *e)
{
        const struct tb_policy *p = &e->u.policy;
        struct lcaps c;

        if (p->set & TB_POLICY_RATE)
                rate_put(t, p->activity, p->points_per_hour);
        if (p->set & (TB_POLICY_DAILY_CAP | TB_POLICY_MAX_BALANCE)) {
                caps_get(t, &c);
                if (p->set & TB_POLICY_DAILY_CAP)
                        c.daily_minutes = p->daily_minutes_cap;
                if (p->set & TB_POLICY_MAX_BALANCE)
                        c.max_balance = p->max_balance;
                caps_put(t, &c);
        }
        return TB_ST_OK;
}

static unsigned apply_register(struct ledger_txn *t,
                               const struct ledger_rules_ctx *a,
                               const struct tb_entry *e,
                               struct ledger_result *r)
{
        struct tb_balance_info acct;

        if (ledger_txn_account_get(t, e->u.reg.account, &acct))
                return refuse(r, TB_ST_ACCOUNT_EXISTS, "account %s exists",
                              e->u.reg.account);
        snprintf(acct.account, sizeof(acct.account), "%s", e->u.reg.account);
        acct.opened_seq = a->seq;
        touch(&acct, a->seq);
        ledger_txn_account_put(t, &acct);
        history_put(t, acct.account, a->seq, 0, 0);
        return TB_ST_OK;
}

/* Credits above the cap are refused; without a cap, only u64 overflow. */
static int over_cap(uint64_t balance, uint64_t credit, uint64_t max)
{
        if (credit > UINT64_MAX - balance)
                return 1;
        return max != 0 && balance + credit > max;
}

static unsigned apply_service(struct ledger *l, struct ledger_txn *t,
                              const struct ledger_rules_ctx *a,
                              const struct tb_entry *e, struct ledger_result *r)
{
        const struct tb_service *s = &e->u.service;
        struct tb_balance_info acct;
        struct lcaps c;
        int64_t end = s->start + (int64_t)s->minutes * 60;
        uint32_t day;
        uint64_t points;

        if (!ledger_txn_account_get(t, s->account, &acct))
                return refuse(r, TB_ST_UNKNOWN_ACCOUNT, "no account %s",
                              s->account);
        if (!a->replay) {
                if (end > a->now + l->opt.clock_skew)
                        return refuse(r, TB_ST_START_IN_FUTURE,
                                      "service ends %lld s after now",
                                      (long long)(end - a->now));
                if (s->start < a->now - l->opt.max_age)
                        return refuse(r, TB_ST_START_TOO_OLD,
                                      "service started %lld s before now",
                                      (long long)(a->now - s->start));
        }
        if (interval_overlaps(t, s->account, s->start, end))
                return refuse(r, TB_ST_OVERLAPPING_SERVICE,
                              "overlaps a service already credited");
        caps_get(t, &c);
        day = daily_get(t, s->account, s->start);
        if (c.daily_minutes && day + s->minutes > c.daily_minutes)
                return refuse(r, TB_ST_DAILY_CAP_EXCEEDED,
                              "%u of %u minutes already credited that day",
                              (unsigned)day, (unsigned)c.daily_minutes);
        points = (uint64_t)s->minutes * rate_get(t, s->activity) / 60;
        if (over_cap(acct.balance, points, c.max_balance))
                return refuse(r, TB_ST_BALANCE_CAP_EXCEEDED,
                              "balance would exceed %llu",
                              (unsigned long long)c.max_balance);
        acct.balance += points;
        acct.earned += points;
        acct.minutes += s->minutes;
        touch(&acct, a->seq);
        ledger_txn_account_put(t, &acct);
        interval_put(t, s->account, s->start, end, a->seq);
        daily_put(t, s->account, s->start, day + s->minutes);
        history_put(t, s->account, a->seq, (int64_t)points, acct.balance);
        r->points = (int64_t)points;
        r->balance = acct.balance;
        return TB_ST_OK;
}

static unsigned apply_redeem(struct ledger_txn *t,
                             const struct ledger_rules_ctx *a,
                             const struct tb_entry *e, struct ledger_result *r)
{
        const struct tb_redeem *d = &e->u.redeem;
        struct tb_balance_info acct;

        if (!ledger_txn_account_get(t, d->account, &acct))
                return refuse(r, TB_ST_UNKNOWN_ACCOUNT, "no account %s",
                              d->account);
        if (acct.balance < d->points)
                return refuse(r, TB_ST_INSUFFICIENT_POINTS, "balance %llu < %u",
                              (unsigned long long)acct.balance,
                              (unsigned)d->points);
        acct.balance -= d->points;
        acct.redeemed += d->points;
        touch(&acct, a->seq);
        ledger_txn_account_put(t, &acct);
        history_put(t, d->account, a->seq, -(int64_t)d->points, acct.balance);
        r->points = -(int64_t)d->points;
        r->balance = acct.balance;
        return TB_ST_OK;
}

static unsigned apply_transfer(struct ledger_txn *t,
                               const struct ledger_rules_ctx *a,
                               const struct tb_entry *e,
                               struct ledger_result *r)
{
        const struct tb_transfer *x = &e->u.transfer;
        struct tb_balance_info from, to;
        struct lcaps c;

        if (strcmp(x->from, x->to) == 0)
                return refuse(r, TB_ST_SAME_ACCOUNT, "from equals to");
        if (!ledger_txn_account_get(t, x->from, &from))
                return refuse(r, TB_ST_UNKNOWN_ACCOUNT, "no account %s",
                              x->from);
        if (!ledger_txn_account_get(t, x->to, &to))
                return refuse(r, TB_ST_UNKNOWN_ACCOUNT, "no account %s", x->to);
        if (from.balance < x->points)
                return refuse(r, TB_ST_INSUFFICIENT_POINTS, "balance %llu < %u",
                              (unsigned long long)from.balance,
                              (unsigned)x->points);
        caps_get(t, &c);
        if (over_cap(to.balance, x->points, c.max_balance))
                return refuse(r, TB_ST_BALANCE_CAP_EXCEEDED,
                              "%s would exceed %llu", x->to,
                              (unsigned long long)c.max_balance);
        from.balance -= x->points;
        from.transferred_out += x->points;
        to.balance += x->points;
        to.transferred_in += x->points;
        touch(&from, a->seq);
        touch(&to, a->seq);
        ledger_txn_account_put(t, &from);
        ledger_txn_account_put(t, &to);
        history_put(t, x->from, a->seq, -(int64_t)x->points, from.balance);
        history_put(t, x->to, a->seq, (int64_t)x->points, to.balance);
        r->points = -(int64_t)x->points;
        r->balance = from.balance;
        return TB_ST_OK;
}

static int64_t history_delta(struct ledger_txn *t, const char *account,
                             uint64_t seq)
{
        uint8_t k[LACCT_KEY_MAX];
        size_t kl = ledger_txn_account_key(k, account, seq, 8);
        MDB_val v;

        if (ledger_txn_get(t, LEDGER_DB_HISTORY, k, kl, &v) ||
            v.mv_size != LHISTORY_VAL) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return 0;
        }
        return (int64_t)tb_load_u64be(v.mv_data);
}

static unsigned reverse_service(struct ledger_txn *t,
                                const struct ledger_rules_ctx *a,
                                const struct tb_record *o,
                                struct ledger_result *r)
{
        const struct tb_service *s = &o->entry.u.service;
        struct tb_balance_info acct;
        int64_t delta;
        uint64_t points;

        if (!ledger_txn_account_get(t, s->account, &acct)) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return TB_ST_INTERNAL;
        }
        delta = history_delta(t, s->account, o->seq);
        if (t->rc)
                return TB_ST_INTERNAL;
        points = (uint64_t)delta;
        if (acct.balance < points)
                return refuse(r, TB_ST_INSUFFICIENT_POINTS,
                              "%llu of the %llu points were spent; reverse "
                              "the spending first",
                              (unsigned long long)(points - acct.balance),
                              (unsigned long long)points);
        acct.balance -= points;
        acct.earned -= points;
        acct.minutes -= s->minutes;
        touch(&acct, a->seq);
        ledger_txn_account_put(t, &acct);
        interval_del(t, s->account, s->start);
        daily_put(t, s->account, s->start,
                  daily_get(t, s->account, s->start) - s->minutes);
        history_put(t, s->account, a->seq, -delta, acct.balance);
        r->points = -delta;
        r->balance = acct.balance;
        return TB_ST_OK;
}

static unsigned reverse_redeem(struct ledger_txn *t,
                               const struct ledger_rules_ctx *a,
                               const struct tb_record *o,
                               struct ledger_result *r)
{
        const struct tb_redeem *d = &o->entry.u.redeem;
        struct tb_balance_info acct;

        if (!ledger_txn_account_get(t, d->account, &acct)) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return TB_ST_INTERNAL;
        }
        if (over_cap(acct.balance, d->points, 0))
                return refuse(r, TB_ST_BALANCE_CAP_EXCEEDED,
                              "balance would overflow");
        acct.balance += d->points;
        acct.redeemed -= d->points;
        touch(&acct, a->seq);
        ledger_txn_account_put(t, &acct);
        history_put(t, d->account, a->seq, d->points, acct.balance);
        r->points = d->points;
        r->balance = acct.balance;
        return TB_ST_OK;
}

static unsigned reverse_transfer(struct ledger_txn *t,
                                 const struct ledger_rules_ctx *a,
                                 const struct tb_record *o,
                                 struct ledger_result *r)
{
        const struct tb_transfer *x = &o->entry.u.transfer;
        struct tb_balance_info from, to;

        if (!ledger_txn_account_get(t, x->from, &from) ||
            !ledger_txn_account_get(t, x->to, &to)) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return TB_ST_INTERNAL;
        }
        if (to.balance < x->points)
                return refuse(r, TB_ST_INSUFFICIENT_POINTS,
                              "%s has spent the points; reverse that first",
                              x->to);
        if (over_cap(from.balance, x->points, 0))
                return refuse(r, TB_ST_BALANCE_CAP_EXCEEDED,
                              "balance would overflow");
        to.balance -= x->points;
        to.transferred_in -= x->points;
        from.balance += x->points;
        from.transferred_out -= x->points;
        touch(&from, a->seq);
        touch(&to, a->seq);
        ledger_txn_account_put(t, &from);
        ledger_txn_account_put(t, &to);
        history_put(t, x->from, a->seq, x->points, from.balance);
        history_put(t, x->to, a->seq, -(int64_t)x->points, to.balance);
        r->points = x->points;
        r->balance = from.balance;
        return TB_ST_OK;
}

static unsigned apply_reverse(struct ledger_txn *t,
                              const struct ledger_rules_ctx *a,
                              const struct tb_entry *e, const struct lkey *k,
                              struct ledger_result *r)
{
        uint64_t seq = e->u.reverse.seq;
        uint8_t kb[8];
        struct tb_record o;
        MDB_val v;
        unsigned st;

        if (seq >= a->seq)
                return refuse(r, TB_ST_NO_SUCH_ENTRY, "no entry %llu",
                              (unsigned long long)seq);
        tb_store_u64be(kb, seq);
        if (ledger_txn_get(t, LEDGER_DB_LOG, kb, 8, &v) ||
            tb_record_decode(v.mv_data, v.mv_size, &o) != TB_OK) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return TB_ST_INTERNAL;
        }
        if (o.entry.kind != TB_KIND_SERVICE && o.entry.kind != TB_KIND_REDEEM &&
            o.entry.kind != TB_KIND_TRANSFER)
                return refuse(r, TB_ST_NOT_REVERSIBLE,
                              "a %s entry cannot be reversed",
                              tb_kind_name(o.entry.kind));
        if (ledger_txn_get(t, LEDGER_DB_REVERSED, kb, 8, &v) == 0)
                return refuse(r, TB_ST_ALREADY_REVERSED,
                              "already reversed by seq %llu",
                              v.mv_size == 8
                                  ? (unsigned long long)tb_load_u64be(v.mv_data)
                                  : 0ULL);
        if (t->rc)
                return TB_ST_INTERNAL;
        if (!(k->roles & TB_ROLE_ADMIN) &&
            memcmp(e->signer, o.entry.signer, TB_PUBKEY_SIZE) != 0)
                return refuse(r, TB_ST_ROLE_FORBIDDEN,
                              "only an admin or the original signer may "
                              "reverse");
        switch (o.entry.kind) {
        case TB_KIND_SERVICE:
                st = reverse_service(t, a, &o, r);
                break;
        case TB_KIND_REDEEM:
                st = reverse_redeem(t, a, &o, r);
                break;
        default:
                st = reverse_transfer(t, a, &o, r);
                break;
        }
        if (st == TB_ST_OK) {
                uint8_t vb[8];
                tb_store_u64be(vb, a->seq);
                ledger_txn_put(t, LEDGER_DB_REVERSED, kb, 8, vb, 8, 0);
        }
        return st;
}

unsigned ledger_rules_apply(struct ledger *l, struct ledger_txn *t,
                            const struct ledger_rules_ctx *a,
                            const struct tb_entry *e, struct ledger_result *r)
{
        struct lkey k;
        uint8_t need;

        if (e->kind == TB_KIND_GENESIS)
                return apply_genesis(l, t, a, e, r);
        if (!key_get(t, e->signer, &k))
                return t->rc ? TB_ST_INTERNAL
                             : refuse(r, TB_ST_UNKNOWN_KEY, "signer unknown");
        if (k.revoked)
                return refuse(r, TB_ST_KEY_REVOKED,
                              "key %s revoked at seq %llu", k.name,
                              (unsigned long long)k.revoked);
        need = tb_kind_roles(e->kind);
        if (e->kind != TB_KIND_REVERSE && (k.roles & need) != need)
                return refuse(r, TB_ST_ROLE_FORBIDDEN,
                              "key %s may not write %s entries", k.name,
                              tb_kind_name(e->kind));
        switch (e->kind) {
        case TB_KIND_ENROLL:
                return apply_enroll(t, a, e, r);
        case TB_KIND_REVOKE:
                return apply_revoke(t, a, e, r);
        case TB_KIND_POLICY:
                return apply_policy(t, e);
        case TB_KIND_REGISTER:
                return apply_register(t, a, e, r);
        case TB_KIND_SERVICE:
                return apply_service(l, t, a, e, r);
        case TB_KIND_REDEEM:
                return apply_redeem(t, a, e, r);
        case TB_KIND_TRANSFER:
                return apply_transfer(t, a, e, r);
        case TB_KIND_REVERSE:
                return apply_reverse(t, a, e, &k, r);
        default:
                return refuse(r, TB_ST_BAD_REQUEST, "unknown kind");
        }
}
