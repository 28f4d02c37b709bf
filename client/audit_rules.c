/*
 * client/audit_rules.c - the auditor's replay of docs/ledger-rules.md
 * (client/audit_rules.h).
 *
 * Each rule is re-decided from the rules' text, in its order: the common
 * checks (position, idempotency, key chain, roles), then the kind's own.
 * A log holds only accepted entries, so any refusal here is a problem: the
 * log says the daemon accepted what the rules forbid.
 */
#include "audit_rules.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_map.h"
#include "status.h"

#define RULES_DAY     86400
#define RULES_NO_ACCT UINT32_MAX

/* A key of the chain. */
struct rules_key {
        uint8_t roles;
        int revoked;
        uint64_t revoked_seq;
};

/* A service interval [start, end) credited to an account. */
struct rules_interval {
        int64_t start, end;
};

struct rules_account {
        struct audit_account pub;
        struct rules_interval *iv; /* sorted by start, disjoint */
        size_t niv, capiv;
};

/* What a later reversal needs of an entry. */
struct rules_seq {
        uint8_t kind, reversed;
        uint32_t signer;      /* key index */
        uint32_t acct, acct2; /* primary (from), and to */
        uint32_t points;      /* credited or moved */
        uint16_t minutes;     /* service */
        int64_t start;        /* service */
};

struct audit_rules {
        char origin[TB_NAME_MAX + 1];
        uint8_t log_pk[TB_PUBKEY_SIZE];
        uint64_t next; /* the seq expected next */
        struct audit_map keys, accounts, rids, days, rates;
        struct rules_key *key;
        struct rules_account *acct;
        struct rules_seq *seq;
        size_t capkey, capacct, capseq;
        uint32_t default_rate;
        uint16_t daily_cap;
        uint64_t max_balance;
        struct audit_totals tot;
};

static int rules_fail(char *err, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rules_fail(char *err, unsigned status, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(err, AUDIT_RULES_ERR_MAX,
                         "%s: ", status ? tb_status_name(status) : "NOT_A_LOG");

        va_start(ap, fmt);
        if (n > 0 && n < AUDIT_RULES_ERR_MAX)
                vsnprintf(err + n, AUDIT_RULES_ERR_MAX - (size_t)n, fmt, ap);
        va_end(ap);
        return -1;
}

/* Room for one more element in *arr (capacity *cap, elements of size). */
static int rules_reserve(void **arr, size_t *cap, size_t n, size_t size)
{
        void *p;
        size_t c;

        if (n < *cap)
                return 0;
        c = *cap ? 2 * *cap : 64;
        if ((p = realloc(*arr, c * size)) == NULL)
                return -1;
        *arr = p;
        *cap = c;
        return 0;
}

struct audit_rules *audit_rules_new(const char *origin,
                                    const uint8_t log_pk[TB_PUBKEY_SIZE])
{
        struct audit_rules *r = calloc(1, sizeof(*r));

        if (r == NULL)
                return NULL;
        snprintf(r->origin, sizeof(r->origin), "%s", origin);
        memcpy(r->log_pk, log_pk, TB_PUBKEY_SIZE);
        audit_map_init(&r->keys, TB_PUBKEY_SIZE);
        audit_map_init(&r->accounts, TB_ACCOUNT_ID_MAX + 1);
        audit_map_init(&r->rids, TB_PUBKEY_SIZE + TB_REQUEST_ID_SIZE);
        audit_map_init(&r->days, 4 + 8);
        audit_map_init(&r->rates, TB_CODE_MAX + 1);
        return r;
}

void audit_rules_free(struct audit_rules *r)
{
        if (r == NULL)
                return;
        for (size_t i = 0; i < r->accounts.n; i++)
                free(r->acct[i].iv);
        audit_map_free(&r->keys);
        audit_map_free(&r->accounts);
        audit_map_free(&r->rids);
        audit_map_free(&r->days);
        audit_map_free(&r->rates);
        free(r->key);
        free(r->acct);
        free(r->seq);
        free(r);
}

/* The index of account name, or RULES_NO_ACCT. */
static uint32_t rules_account(const struct audit_rules *r, const char *name)
{
        char k[TB_ACCOUNT_ID_MAX + 1] = {0};
        uint64_t *v;

        memcpy(k, name, strlen(name));
        v = audit_map_get(&r->accounts, k);
        return v ? (uint32_t)*v : RULES_NO_ACCT;
}

static uint64_t *rules_day(struct audit_rules *r, uint32_t a, int64_t start)
{
        uint8_t k[12];
        int64_t day = start / RULES_DAY;

        memcpy(k, &a, 4);
        memcpy(k + 4, &day, 8);
        return audit_map_put(&r->days, k, 0, NULL);
}

/* The first interval of a whose start is >= start. */
static size_t rules_iv_find(const struct rules_account *a, int64_t start)
{
        size_t lo = 0, hi = a->niv;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (a->iv[mid].start < start)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int rules_overlaps(const struct rules_account *a, int64_t s, int64_t e)
{
        size_t i = rules_iv_find(a, s);

        return (i < a->niv && a->iv[i].start < e) ||
               (i > 0 && a->iv[i - 1].end > s);
}

static void rules_touch(struct audit_rules *r, uint32_t a, uint64_t seq)
{
        r->acct[a].pub.entries++;
        r->acct[a].pub.last_seq = seq;
}

static uint32_t rules_rate(const struct audit_rules *r, const char *activity)
{
        char k[TB_CODE_MAX + 1] = {0};
        uint64_t *v;

        if (activity[0] == 0)
                return r->default_rate;
        memcpy(k, activity, strlen(activity));
        v = audit_map_get(&r->rates, k);
        return v ? (uint32_t)*v : r->default_rate;
}

static int rules_enroll(struct audit_rules *r, const uint8_t pk[32],
                        uint8_t roles, uint64_t seq, char *err)
{
        int added;
        size_t n = r->keys.n;

        if (rules_reserve((void **)&r->key, &r->capkey, n, sizeof(*r->key)) !=
                0 ||
            audit_map_put(&r->keys, pk, n, &added) == NULL)
                return rules_fail(err, 0, "out of memory");
        if (!added)
                return rules_fail(err, TB_ST_KEY_EXISTS,
                                  "the key is already in the chain (seq "
                                  "%" PRIu64 ")",
                                  seq);
        r->key[n] = (struct rules_key){.roles = roles};
        r->tot.keys_active++;
        return 0;
}

static int rules_policy(struct audit_rules *r, const struct tb_policy *p,
                        char *err)
{
        if (p->set & TB_POLICY_RATE) {
                char k[TB_CODE_MAX + 1] = {0};
                uint64_t *v;
                if (p->activity[0] == 0) {
                        r->default_rate = p->points_per_hour;
                } else {
                        memcpy(k, p->activity, strlen(p->activity));
                        if ((v = audit_map_put(&r->rates, k, 0, NULL)) == NULL)
                                return rules_fail(err, 0, "out of memory");
                        *v = p->points_per_hour;
                }
        }
        if (p->set & TB_POLICY_DAILY_CAP)
                r->daily_cap = p->daily_minutes_cap;
        if (p->set & TB_POLICY_MAX_BALANCE)
                r->max_balance = p->max_balance;
        return 0;
}

static int rules_register(struct audit_rules *r, const char *name, uint64_t seq,
                          char *err)
{
        char k[TB_ACCOUNT_ID_MAX + 1] = {0};
        size_t n = r->accounts.n;
        int added;

        memcpy(k, name, strlen(name));
        if (rules_reserve((void **)&r->acct, &r->capacct, n,
                          sizeof(*r->acct)) != 0 ||
            audit_map_put(&r->accounts, k, n, &added) == NULL)
                return rules_fail(err, 0, "out of memory");
        if (!added)
                return rules_fail(err, TB_ST_ACCOUNT_EXISTS,
                                  "account %s is already open", name);
        memset(&r->acct[n], 0, sizeof(r->acct[n]));
        memcpy(r->acct[n].pub.account, k, sizeof(k));
        r->acct[n].pub.opened_seq = seq;
        rules_touch(r, (uint32_t)n, seq);
        r->tot.accounts++;
        return 0;
}

/* Can account a take points more without passing the cap (or u64)? */
static int rules_cap_ok(const struct audit_rules *r, uint32_t a, uint64_t pts)
{
        uint64_t b = r->acct[a].pub.balance;

        if (b > UINT64_MAX - pts)
                return 0;
        return r->max_balance == 0 || b + pts <= r->max_balance;
}

static int rules_service(struct audit_rules *r, const struct tb_service *s,
                         struct rules_seq *q, uint64_t seq, char *err)
{
        uint32_t a = rules_account(r, s->account);
        int64_t end = s->start + (int64_t)s->minutes * 60;
        uint64_t points, *day;
        struct rules_account *ac;
        size_t i;

        if (a == RULES_NO_ACCT)
                return rules_fail(err, TB_ST_UNKNOWN_ACCOUNT,
                                  "account %s is not open", s->account);
        ac = &r->acct[a];
        if (rules_overlaps(ac, s->start, end))
                return rules_fail(err, TB_ST_OVERLAPPING_SERVICE,
                                  "%s already has service credited within "
                                  "[%" PRId64 ", %" PRId64 ")",
                                  s->account, s->start, end);
        if ((day = rules_day(r, a, s->start)) == NULL)
                return rules_fail(err, 0, "out of memory");
        if (r->daily_cap != 0 && *day + s->minutes > r->daily_cap)
                return rules_fail(err, TB_ST_DAILY_CAP_EXCEEDED,
                                  "%s has %" PRIu64 " minutes on UTC day "
                                  "%" PRId64 ", + %u > cap %u",
                                  s->account, *day, s->start / RULES_DAY,
                                  s->minutes, r->daily_cap);
        points = (uint64_t)s->minutes * rules_rate(r, s->activity) / 60;
        if (!rules_cap_ok(r, a, points))
                return rules_fail(err, TB_ST_BALANCE_CAP_EXCEEDED,
                                  "%s: %" PRIu64 " + %" PRIu64
                                  " points passes the cap %" PRIu64,
                                  s->account, ac->pub.balance, points,
                                  r->max_balance);
        if (rules_reserve((void **)&ac->iv, &ac->capiv, ac->niv,
                          sizeof(*ac->iv)) != 0)
                return rules_fail(err, 0, "out of memory");
        i = rules_iv_find(ac, s->start);
        memmove(ac->iv + i + 1, ac->iv + i, (ac->niv - i) * sizeof(*ac->iv));
        ac->iv[i] = (struct rules_interval){s->start, end};
        ac->niv++;
        *day += s->minutes;
        ac->pub.balance += points;
        ac->pub.earned += points;
        ac->pub.minutes += s->minutes;
        rules_touch(r, a, seq);
        r->tot.minutes += s->minutes;
        r->tot.earned += points;
        *q = (struct rules_seq){.acct = a,
                                .acct2 = RULES_NO_ACCT,
                                .points = (uint32_t)points,
                                .minutes = s->minutes,
                                .start = s->start};
        /* points fit: at most 1440 * TB_RATE_MAX / 60 = 24,000,000 */
        return 0;
}

static int rules_redeem(struct audit_rules *r, const struct tb_redeem *d,
                        struct rules_seq *q, uint64_t seq, char *err)
{
        uint32_t a = rules_account(r, d->account);

        if (a == RULES_NO_ACCT)
                return rules_fail(err, TB_ST_UNKNOWN_ACCOUNT,
                                  "account %s is not open", d->account);
        if (r->acct[a].pub.balance < d->points)
                return rules_fail(
                    err, TB_ST_INSUFFICIENT_POINTS,
                    "%s has %" PRIu64 " points, the redeem takes %u",
                    d->account, r->acct[a].pub.balance, d->points);
        r->acct[a].pub.balance -= d->points;
        r->acct[a].pub.redeemed += d->points;
        rules_touch(r, a, seq);
        r->tot.redeemed += d->points;
        *q = (struct rules_seq){
            .acct = a, .acct2 = RULES_NO_ACCT, .points = d->points};
        return 0;
}

static int rules_transfer(struct audit_rules *r, const struct tb_transfer *t,
                          struct rules_seq *q, uint64_t seq, char *err)
{
        uint32_t f = rules_account(r, t->from), to = rules_account(r, t->to);

        if (f == RULES_NO_ACCT || to == RULES_NO_ACCT)
                return rules_fail(err, TB_ST_UNKNOWN_ACCOUNT,
                                  "account %s is not open",
                                  f == RULES_NO_ACCT ? t->from : t->to);
        if (r->acct[f].pub.balance < t->points)
                return rules_fail(err, TB_ST_INSUFFICIENT_POINTS,
                                  "%s has %" PRIu64
                                  " points, the transfer takes %u",
                                  t->from, r->acct[f].pub.balance, t->points);
        if (!rules_cap_ok(r, to, t->points))
                return rules_fail(err, TB_ST_BALANCE_CAP_EXCEEDED,
                                  "%s: %" PRIu64 " + %u points passes the "
                                  "cap %" PRIu64,
                                  t->to, r->acct[to].pub.balance, t->points,
                                  r->max_balance);
        r->acct[f].pub.balance -= t->points;
        r->acct[f].pub.transferred_out += t->points;
        r->acct[to].pub.balance += t->points;
        r->acct[to].pub.transferred_in += t->points;
        rules_touch(r, f, seq);
        rules_touch(r, to, seq);
        r->tot.transferred += t->points;
        *q = (struct rules_seq){.acct = f, .acct2 = to, .points = t->points};
        return 0;
}

/* Undo the service q: its points, minutes, day minutes and interval. */
static int rules_unservice(struct audit_rules *r, const struct rules_seq *q)
{
        struct rules_account *ac = &r->acct[q->acct];
        uint64_t *day = rules_day(r, q->acct, q->start);
        size_t i = rules_iv_find(ac, q->start);

        if (day == NULL)
                return -1;
        *day -= q->minutes;
        memmove(ac->iv + i, ac->iv + i + 1,
                (ac->niv - i - 1) * sizeof(*ac->iv));
        ac->niv--;
        ac->pub.balance -= q->points;
        ac->pub.earned -= q->points;
        ac->pub.minutes -= q->minutes;
        r->tot.minutes -= q->minutes;
        r->tot.earned -= q->points;
        return 0;
}

static int rules_reverse(struct audit_rules *r, const struct tb_reverse *v,
                         uint32_t signer, uint64_t seq, char *err)
{
        struct rules_seq *q;
        struct audit_account *a, *b;

        if (v->seq >= seq)
                return rules_fail(err, TB_ST_NO_SUCH_ENTRY,
                                  "seq %" PRIu64 " is not before it", v->seq);
        q = &r->seq[v->seq];
        if (q->kind != TB_KIND_SERVICE && q->kind != TB_KIND_REDEEM &&
            q->kind != TB_KIND_TRANSFER)
                return rules_fail(err, TB_ST_NOT_REVERSIBLE,
                                  "seq %" PRIu64 " is a %s", v->seq,
                                  tb_kind_name(q->kind));
        if (q->reversed)
                return rules_fail(err, TB_ST_ALREADY_REVERSED,
                                  "seq %" PRIu64 " was reversed before",
                                  v->seq);
        if (!(r->key[signer].roles & TB_ROLE_ADMIN) && signer != q->signer)
                return rules_fail(err, TB_ST_ROLE_FORBIDDEN,
                                  "the signer is neither admin nor the "
                                  "signer of seq %" PRIu64,
                                  v->seq);
        a = &r->acct[q->acct].pub;
        b = q->acct2 != RULES_NO_ACCT ? &r->acct[q->acct2].pub : NULL;
        if ((q->kind == TB_KIND_SERVICE && a->balance < q->points) ||
            (q->kind == TB_KIND_TRANSFER && b->balance < q->points))
                return rules_fail(err, TB_ST_INSUFFICIENT_POINTS,
                                  "reversing seq %" PRIu64 " takes %u points "
                                  "from %s, which has %" PRIu64,
                                  v->seq, q->points,
                                  b ? b->account : a->account,
                                  b ? b->balance : a->balance);
        if (a->balance > UINT64_MAX - q->points && q->kind != TB_KIND_SERVICE)
                return rules_fail(err, TB_ST_BALANCE_CAP_EXCEEDED,
                                  "reversing seq %" PRIu64 " overflows %s",
                                  v->seq, a->account);
        if (q->kind == TB_KIND_SERVICE) {
                if (rules_unservice(r, q) != 0)
                        return rules_fail(err, 0, "out of memory");
        } else if (q->kind == TB_KIND_REDEEM) {
                a->balance += q->points;
                a->redeemed -= q->points;
                r->tot.redeemed -= q->points;
        } else {
                a->balance += q->points;
                a->transferred_out -= q->points;
                b->balance -= q->points;
                b->transferred_in -= q->points;
                r->tot.transferred -= q->points;
                rules_touch(r, q->acct2, seq);
        }
        rules_touch(r, q->acct, seq);
        q->reversed = 1;
        r->tot.reversed++;
        return 0;
}

/* Genesis at seq 0: the log key, this origin; the first admin, policy. */
static int rules_genesis(struct audit_rules *r, const struct tb_entry *e,
                         char *err)
{
        const struct tb_genesis *g = &e->u.genesis;

        if (e->kind != TB_KIND_GENESIS)
                return rules_fail(err, 0, "entry 0 is a %s, not the genesis",
                                  tb_kind_name(e->kind));
        if (memcmp(e->signer, r->log_pk, TB_PUBKEY_SIZE) != 0)
                return rules_fail(err, TB_ST_UNKNOWN_KEY,
                                  "the genesis is not signed by the log key");
        if (strcmp(g->origin, r->origin) != 0)
                return rules_fail(err, 0,
                                  "the genesis names origin %s, the "
                                  "checkpoint %s",
                                  g->origin, r->origin);
        r->default_rate = g->points_per_hour;
        r->daily_cap = g->daily_minutes_cap;
        r->max_balance = g->max_balance;
        return rules_enroll(r, g->admin_key, TB_ROLE_ADMIN, 0, err);
}

/* Steps 4-7 of the fixed order: idempotency, key chain, role. */
static int rules_common(struct audit_rules *r, const struct tb_entry *e,
                        uint64_t seq, uint32_t *signer, char *err)
{
        uint8_t rid[TB_PUBKEY_SIZE + TB_REQUEST_ID_SIZE];
        uint64_t *k;
        int added;
        uint8_t need = tb_kind_roles(e->kind);

        /* step 4 before the key checks, as the ledger orders them */
        memcpy(rid, e->signer, TB_PUBKEY_SIZE);
        memcpy(rid + TB_PUBKEY_SIZE, e->request_id, TB_REQUEST_ID_SIZE);
        if (audit_map_put(&r->rids, rid, seq, &added) == NULL)
                return rules_fail(err, 0, "out of memory");
        if (!added)
                return rules_fail(err, TB_ST_REQUEST_ID_REUSED,
                                  "the signer used this request id at seq "
                                  "%" PRIu64,
                                  *audit_map_get(&r->rids, rid));
        if ((k = audit_map_get(&r->keys, e->signer)) == NULL)
                return rules_fail(err, TB_ST_UNKNOWN_KEY,
                                  "the signer was never enrolled before it");
        *signer = (uint32_t)*k;
        if (r->key[*signer].revoked)
                return rules_fail(err, TB_ST_KEY_REVOKED,
                                  "the signer was revoked at seq %" PRIu64,
                                  r->key[*signer].revoked_seq);
        if (e->kind == TB_KIND_GENESIS ||
            (e->kind != TB_KIND_REVERSE &&
             (r->key[*signer].roles & need) != need))
                return rules_fail(err, TB_ST_ROLE_FORBIDDEN,
                                  "the signer's roles do not allow a %s",
                                  tb_kind_name(e->kind));
        return 0;
}

int audit_rules_apply(struct audit_rules *r, const struct tb_record *rec,
                      char *err)
{
        const struct tb_entry *e = &rec->entry;
        uint64_t seq = r->next, *k;
        struct rules_seq q = {.acct = RULES_NO_ACCT, .acct2 = RULES_NO_ACCT};
        uint32_t signer = 0;
        int rc;

        if (rec->seq != seq)
                return rules_fail(err, 0,
                                  "the record says seq %" PRIu64
                                  " at position %" PRIu64,
                                  rec->seq, seq);
        if (rules_reserve((void **)&r->seq, &r->capseq, seq, sizeof(*r->seq)))
                return rules_fail(err, 0, "out of memory");
        if (seq == 0)
                rc = rules_genesis(r, e, err);
        else if ((rc = rules_common(r, e, seq, &signer, err)) != 0)
                return rc;
        else
                switch (e->kind) {
                case TB_KIND_ENROLL:
                        rc = rules_enroll(r, e->u.enroll.key, e->u.enroll.roles,
                                          seq, err);
                        break;
                case TB_KIND_REVOKE:
                        k = audit_map_get(&r->keys, e->u.revoke.key);
                        if (k == NULL || r->key[*k].revoked) {
                                rc = rules_fail(err, TB_ST_KEY_NOT_ENROLLED,
                                                "the revoked key is not "
                                                "enrolled");
                                break;
                        }
                        r->key[*k].revoked = 1;
                        r->key[*k].revoked_seq = seq;
                        r->tot.keys_active--;
                        r->tot.keys_revoked++;
                        break;
                case TB_KIND_POLICY:
                        rc = rules_policy(r, &e->u.policy, err);
                        break;
                case TB_KIND_REGISTER:
                        rc = rules_register(r, e->u.reg.account, seq, err);
                        break;
                case TB_KIND_SERVICE:
                        rc = rules_service(r, &e->u.service, &q, seq, err);
                        break;
                case TB_KIND_REDEEM:
                        rc = rules_redeem(r, &e->u.redeem, &q, seq, err);
                        break;
                case TB_KIND_TRANSFER:
                        rc = rules_transfer(r, &e->u.transfer, &q, seq, err);
                        break;
                case TB_KIND_REVERSE:
                        rc = rules_reverse(r, &e->u.reverse, signer, seq, err);
                        break;
                default:
                        rc = rules_fail(err, 0, "unknown kind %u", e->kind);
                }
        if (rc != 0)
                return rc;
        q.kind = e->kind;
        q.signer = signer;
        r->seq[seq] = q;
        r->next++;
        r->tot.entries++;
        return 0;
}

void audit_rules_totals(const struct audit_rules *r, struct audit_totals *t)
{
        *t = r->tot;
}

size_t audit_rules_count(const struct audit_rules *r)
{
        return r->accounts.n;
}

const struct audit_account *audit_rules_account(const struct audit_rules *r,
                                                size_t i)
{
        return &r->acct[i].pub;
}
