/*
 * daemon/ledger/ledger_rules.c - the ledger rules: what each kind of entry
 * must satisfy and what it changes.  docs/ledger-rules.md is the
 * reasoning; the bytes they read and write are ledger_store.c's.
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

#include "ledger_store.h"

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

/* The activity's own rate if the policy set one, else the default. */
static uint32_t rate(struct ledger_txn *t, const char *activity)
{
        uint32_t r;

        if (!ledger_store_policy_rate_get(t, activity, &r) &&
            !ledger_store_policy_rate_get(t, "", &r))
                return 0;
        return r;
}

/* OK, with the primary account's change and balance after (ledger.h). */
static unsigned accepted(struct ledger_result *r, int64_t points,
                         uint64_t balance)
{
        r->points = points;
        r->balance = balance;
        return TB_ST_OK;
}

/* keys_active and keys_revoked, which genesis starts, follow every
 * enroll and revoke. */
static void count_keys(struct ledger_txn *t, enum ledger_store_meta_uint which,
                       int delta)
{
        uint64_t n;

        ledger_txn_require(t, ledger_store_meta_uint_get(t, which, &n));
        ledger_store_meta_uint_put(t, which, n + (uint64_t)(int64_t)delta);
}

/* A ledger without a caps row has no caps (0 = no cap). */
static void caps(struct ledger_txn *t, struct ledger_store_caps *c)
{
        if (!ledger_store_policy_caps_get(t, c))
                *c = (struct ledger_store_caps){0, 0};
}

/* A service counts wholly on the UTC day it starts. */
static int64_t utc_day(int64_t start)
{
        return start / 86400;
}

/*
 * What the rules need of an account's credited services for a new one
 * [start, end): whether it overlaps one of them, and the minutes of those
 * starting on its UTC day (only if count_day: with a daily cap).  Format 3
 * keeps no table of intervals (docs/storage.md, "Format 3"): the services
 * are the account's chain of service rows in history, newest first, each
 * row holding its service's start and minutes, and reversed ones (in
 * `reversed`) do not count.  The walk stops where no older service can matter:
 * each row carries reach_before, the latest end of every service before it, so
 * once that is at or before min(start, the day's midnight) no older service
 * ends after start (no overlap) or starts on the day (a service of one
 * minute or more that starts at or after midnight ends after it).  That
 * bound holds whatever the admission window was when each was logged.
 */
struct service_scan {
        int overlap;
        uint32_t day_minutes;
};

static void scan_services(struct ledger_txn *t, const char *account,
                          const struct ledger_store_services *sv, int64_t start,
                          int64_t end, int count_day, struct service_scan *out)
{
        struct ledger_store_history h;
        int64_t day = utc_day(start), bound = start, h_end;
        uint64_t seq = sv->last, reach = sv->reach, by;
        int overlap, same_day;

        memset(out, 0, sizeof(*out));
        if (count_day)
                bound = day * 86400;
        while (seq != 0 && (int64_t)reach > bound && !t->rc) {
                if (!ledger_store_history_get(t, account, seq, &h) ||
                    !h.service || h.reach_before > reach) {
                        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                        return;
                }
                h_end = h.start + (int64_t)h.minutes * 60;
                overlap = h.start < end && h_end > start;
                same_day = count_day && utc_day(h.start) == day;
                if ((overlap || same_day) &&
                    !ledger_store_reversed_get(t, seq, &by)) {
                        if (overlap) {
                                out->overlap = 1;
                                return;
                        }
                        out->day_minutes += h.minutes;
                }
                reach = h.reach_before;
                seq = h.prev_service;
        }
}

/* Every entry touching an account counts in it and leaves a history row
 * with the balance after it. */
static void account_write(struct ledger_txn *t, struct tb_balance_info *a,
                          const struct ledger_store_services *sv, uint64_t seq,
                          int64_t delta)
{
        struct ledger_store_history h;

        memset(&h, 0, sizeof(h));
        h.seq = seq;
        h.prev = a->last_seq;
        h.delta = delta;
        h.balance_after = a->balance;
        a->entries++;
        a->last_seq = seq;
        ledger_store_accounts_put(t, a, sv);
        ledger_store_history_put(t, a->account, &h);
}

/* A service row: also a link of the account's chain of services, with
 * the service's time. */
static void account_write_service(struct ledger_txn *t,
                                  struct tb_balance_info *a,
                                  struct ledger_store_services *sv,
                                  uint64_t seq, int64_t delta,
                                  const struct tb_service *s)
{
        struct ledger_store_history h;
        int64_t end = s->start + (int64_t)s->minutes * 60;

        memset(&h, 0, sizeof(h));
        h.seq = seq;
        h.prev = a->last_seq;
        h.delta = delta;
        h.balance_after = a->balance;
        h.service = 1;
        h.prev_service = sv->last;
        h.reach_before = sv->reach;
        h.start = s->start;
        h.minutes = s->minutes;
        a->entries++;
        a->last_seq = seq;
        sv->last = seq;
        if ((uint64_t)end > sv->reach)
                sv->reach = (uint64_t)end;
        ledger_store_accounts_put(t, a, sv);
        ledger_store_history_put(t, a->account, &h);
}

/* The account of an entry already in the log: it must exist. */
static int logged_account(struct ledger_txn *t, const char *account,
                          struct tb_balance_info *a,
                          struct ledger_store_services *sv)
{
        ledger_txn_require(t, ledger_store_accounts_get(t, account, a, sv));
        return !t->rc;
}

static unsigned apply_genesis(struct ledger *l, struct ledger_txn *t,
                              const struct ledger_rules_ctx *a,
                              const struct tb_entry *e, struct ledger_result *r)
{
        const struct tb_genesis *g = &e->u.genesis;
        struct ledger_store_key k;
        struct ledger_store_caps c;

        if (a->seq != 0) {
                if (!ledger_store_keys_get(t, e->signer, &k))
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
        ledger_store_keys_put(t, g->admin_key, &k);
        ledger_store_policy_rate_put(t, "", g->points_per_hour);
        c.daily_minutes = g->daily_minutes_cap;
        c.max_balance = g->max_balance;
        ledger_store_policy_caps_put(t, &c);
        ledger_store_meta_uint_put(t, LEDGER_STORE_KEYS_ACTIVE, 1);
        ledger_store_meta_uint_put(t, LEDGER_STORE_KEYS_REVOKED, 0);
        return TB_ST_OK;
}

static unsigned apply_enroll(struct ledger_txn *t,
                             const struct ledger_rules_ctx *a,
                             const struct tb_entry *e, struct ledger_result *r)
{
        const struct tb_enroll *en = &e->u.enroll;
        struct ledger_store_key k;

        if (ledger_store_keys_get(t, en->key, &k))
                return refuse(r, TB_ST_KEY_EXISTS,
                              k.revoked ? "key was enrolled and revoked"
                                        : "key already enrolled");
        memset(&k, 0, sizeof(k));
        k.roles = en->roles;
        k.enrolled = a->seq;
        snprintf(k.name, sizeof(k.name), "%s", en->name);
        ledger_store_keys_put(t, en->key, &k);
        count_keys(t, LEDGER_STORE_KEYS_ACTIVE, 1);
        return TB_ST_OK;
}

static unsigned apply_revoke(struct ledger_txn *t,
                             const struct ledger_rules_ctx *a,
                             const struct tb_entry *e, struct ledger_result *r)
{
        struct ledger_store_key k;

        if (!ledger_store_keys_get(t, e->u.revoke.key, &k))
                return refuse(r, TB_ST_KEY_NOT_ENROLLED, "key not enrolled");
        if (k.revoked)
                return refuse(r, TB_ST_KEY_NOT_ENROLLED,
                              "key already revoked at seq %llu",
                              (unsigned long long)k.revoked);
        k.revoked = a->seq;
        ledger_store_keys_put(t, e->u.revoke.key, &k);
        count_keys(t, LEDGER_STORE_KEYS_ACTIVE, -1);
        count_keys(t, LEDGER_STORE_KEYS_REVOKED, 1);
        return TB_ST_OK;
}

static unsigned apply_policy(struct ledger_txn *t, const struct tb_entry *e)
{
        const struct tb_policy *p = &e->u.policy;
        struct ledger_store_caps c;

        if (p->set & TB_POLICY_RATE)
                ledger_store_policy_rate_put(t, p->activity,
                                             p->points_per_hour);
        if (p->set & (TB_POLICY_DAILY_CAP | TB_POLICY_MAX_BALANCE)) {
                caps(t, &c);
                if (p->set & TB_POLICY_DAILY_CAP)
                        c.daily_minutes = p->daily_minutes_cap;
                if (p->set & TB_POLICY_MAX_BALANCE)
                        c.max_balance = p->max_balance;
                ledger_store_policy_caps_put(t, &c);
        }
        return TB_ST_OK;
}

static unsigned apply_register(struct ledger_txn *t,
                               const struct ledger_rules_ctx *a,
                               const struct tb_entry *e,
                               struct ledger_result *r)
{
        struct tb_balance_info acct;
        struct ledger_store_services sv;

        if (ledger_store_accounts_get(t, e->u.reg.account, &acct, &sv))
                return refuse(r, TB_ST_ACCOUNT_EXISTS, "account %s exists",
                              e->u.reg.account);
        snprintf(acct.account, sizeof(acct.account), "%s", e->u.reg.account);
        acct.opened_seq = a->seq;
        account_write(t, &acct, &sv, a->seq, 0);
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
        struct ledger_store_services sv;
        struct ledger_store_caps c;
        struct service_scan scan;
        int64_t end = s->start + (int64_t)s->minutes * 60;
        uint64_t points;

        if (!ledger_store_accounts_get(t, s->account, &acct, &sv))
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
        caps(t, &c);
        scan_services(t, s->account, &sv, s->start, end, c.daily_minutes != 0,
                      &scan);
        if (t->rc)
                return TB_ST_INTERNAL;
        if (scan.overlap)
                return refuse(r, TB_ST_OVERLAPPING_SERVICE,
                              "overlaps a service already credited");
        if (c.daily_minutes && scan.day_minutes + s->minutes > c.daily_minutes)
                return refuse(r, TB_ST_DAILY_CAP_EXCEEDED,
                              "%u of %u minutes already credited that day",
                              (unsigned)scan.day_minutes,
                              (unsigned)c.daily_minutes);
        points = (uint64_t)s->minutes * rate(t, s->activity) / 60;
        if (over_cap(acct.balance, points, c.max_balance))
                return refuse(r, TB_ST_BALANCE_CAP_EXCEEDED,
                              "balance would exceed %llu",
                              (unsigned long long)c.max_balance);
        acct.balance += points;
        acct.earned += points;
        acct.minutes += s->minutes;
        account_write_service(t, &acct, &sv, a->seq, (int64_t)points, s);
        return accepted(r, (int64_t)points, acct.balance);
}

static unsigned apply_redeem(struct ledger_txn *t,
                             const struct ledger_rules_ctx *a,
                             const struct tb_entry *e, struct ledger_result *r)
{
        const struct tb_redeem *d = &e->u.redeem;
        struct tb_balance_info acct;
        struct ledger_store_services sv;

        if (!ledger_store_accounts_get(t, d->account, &acct, &sv))
                return refuse(r, TB_ST_UNKNOWN_ACCOUNT, "no account %s",
                              d->account);
        if (acct.balance < d->points)
                return refuse(r, TB_ST_INSUFFICIENT_POINTS, "balance %llu < %u",
                              (unsigned long long)acct.balance,
                              (unsigned)d->points);
        acct.balance -= d->points;
        acct.redeemed += d->points;
        account_write(t, &acct, &sv, a->seq, -(int64_t)d->points);
        return accepted(r, -(int64_t)d->points, acct.balance);
}

static unsigned apply_transfer(struct ledger_txn *t,
                               const struct ledger_rules_ctx *a,
                               const struct tb_entry *e,
                               struct ledger_result *r)
{
        const struct tb_transfer *x = &e->u.transfer;
        struct tb_balance_info from, to;
        struct ledger_store_services sf, st;
        struct ledger_store_caps c;

        if (strcmp(x->from, x->to) == 0)
                return refuse(r, TB_ST_SAME_ACCOUNT, "from equals to");
        if (!ledger_store_accounts_get(t, x->from, &from, &sf))
                return refuse(r, TB_ST_UNKNOWN_ACCOUNT, "no account %s",
                              x->from);
        if (!ledger_store_accounts_get(t, x->to, &to, &st))
                return refuse(r, TB_ST_UNKNOWN_ACCOUNT, "no account %s", x->to);
        if (from.balance < x->points)
                return refuse(r, TB_ST_INSUFFICIENT_POINTS, "balance %llu < %u",
                              (unsigned long long)from.balance,
                              (unsigned)x->points);
        caps(t, &c);
        if (over_cap(to.balance, x->points, c.max_balance))
                return refuse(r, TB_ST_BALANCE_CAP_EXCEEDED,
                              "%s would exceed %llu", x->to,
                              (unsigned long long)c.max_balance);
        from.balance -= x->points;
        from.transferred_out += x->points;
        to.balance += x->points;
        to.transferred_in += x->points;
        account_write(t, &from, &sf, a->seq, -(int64_t)x->points);
        account_write(t, &to, &st, a->seq, (int64_t)x->points);
        return accepted(r, -(int64_t)x->points, from.balance);
}

static unsigned reverse_service(struct ledger_txn *t,
                                const struct ledger_rules_ctx *a,
                                const struct tb_record *o,
                                struct ledger_result *r)
{
        const struct tb_service *s = &o->entry.u.service;
        struct tb_balance_info acct;
        struct ledger_store_services sv;
        struct ledger_store_history credited;
        uint64_t points;

        /* the rate may have changed since: take back what was credited */
        if (!logged_account(t, s->account, &acct, &sv))
                return TB_ST_INTERNAL;
        ledger_txn_require(
            t, ledger_store_history_get(t, s->account, o->seq, &credited));
        if (!t->rc && !credited.service)
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
        if (t->rc)
                return TB_ST_INTERNAL;
        points = (uint64_t)credited.delta;
        if (acct.balance < points)
                return refuse(r, TB_ST_INSUFFICIENT_POINTS,
                              "%llu of the %llu points were spent; reverse "
                              "the spending first",
                              (unsigned long long)(points - acct.balance),
                              (unsigned long long)points);
        acct.balance -= points;
        acct.earned -= points;
        acct.minutes -= s->minutes;
        /* its interval and minutes stop counting once `reversed` holds it
         * (apply_reverse, below): scan_services skips reversed services */
        account_write(t, &acct, &sv, a->seq, -credited.delta);
        return accepted(r, -credited.delta, acct.balance);
}

static unsigned reverse_redeem(struct ledger_txn *t,
                               const struct ledger_rules_ctx *a,
                               const struct tb_record *o,
                               struct ledger_result *r)
{
        const struct tb_redeem *d = &o->entry.u.redeem;
        struct tb_balance_info acct;
        struct ledger_store_services sv;

        if (!logged_account(t, d->account, &acct, &sv))
                return TB_ST_INTERNAL;
        if (over_cap(acct.balance, d->points, 0))
                return refuse(r, TB_ST_BALANCE_CAP_EXCEEDED,
                              "balance would overflow");
        acct.balance += d->points;
        acct.redeemed -= d->points;
        account_write(t, &acct, &sv, a->seq, d->points);
        return accepted(r, d->points, acct.balance);
}

static unsigned reverse_transfer(struct ledger_txn *t,
                                 const struct ledger_rules_ctx *a,
                                 const struct tb_record *o,
                                 struct ledger_result *r)
{
        const struct tb_transfer *x = &o->entry.u.transfer;
        struct tb_balance_info from, to;
        struct ledger_store_services sf, st;

        if (!logged_account(t, x->from, &from, &sf) ||
            !logged_account(t, x->to, &to, &st))
                return TB_ST_INTERNAL;
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
        account_write(t, &from, &sf, a->seq, x->points);
        account_write(t, &to, &st, a->seq, -(int64_t)x->points);
        return accepted(r, x->points, from.balance);
}

static unsigned apply_reverse(struct ledger_txn *t,
                              const struct ledger_rules_ctx *a,
                              const struct tb_entry *e,
                              const struct ledger_store_key *k,
                              struct ledger_result *r)
{
        uint64_t seq = e->u.reverse.seq, by;
        struct ledger_store_record rec;
        struct tb_record o;
        unsigned st;

        if (seq >= a->seq)
                return refuse(r, TB_ST_NO_SUCH_ENTRY, "no entry %llu",
                              (unsigned long long)seq);
        ledger_txn_require(t, ledger_store_log_get(t, seq, &rec));
        if (t->rc)
                return TB_ST_INTERNAL;
        if (tb_record_decode(rec.bytes, rec.len, &o) != TB_OK) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return TB_ST_INTERNAL;
        }
        if (o.entry.kind != TB_KIND_SERVICE && o.entry.kind != TB_KIND_REDEEM &&
            o.entry.kind != TB_KIND_TRANSFER)
                return refuse(r, TB_ST_NOT_REVERSIBLE,
                              "a %s entry cannot be reversed",
                              tb_kind_name(o.entry.kind));
        if (ledger_store_reversed_get(t, seq, &by))
                return refuse(r, TB_ST_ALREADY_REVERSED,
                              "already reversed by seq %llu",
                              (unsigned long long)by);
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
        if (st == TB_ST_OK)
                ledger_store_reversed_put(t, seq, a->seq);
        return st;
}

unsigned ledger_rules_apply(struct ledger *l, struct ledger_txn *t,
                            const struct ledger_rules_ctx *a,
                            const struct tb_entry *e, struct ledger_result *r)
{
        struct ledger_store_key k;
        uint8_t need;

        if (e->kind == TB_KIND_GENESIS)
                return apply_genesis(l, t, a, e, r);
        if (!ledger_store_keys_get(t, e->signer, &k))
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
