/*
 * tests/ledger/test_ledger_model.c - the ledger against a model.
 *
 * Thousands of random operations, valid and invalid, go both to the real
 * ledger (LMDB in a temporary directory, random batches of 1..64) and to a
 * plain in-memory model of docs/ledger-rules.md written here, without any
 * ledger code.  Every result (status; seq, points and balance when done)
 * and, after every batch, every account and counter must agree.  The
 * environment is closed and reopened between phases; in the last one
 * every admin key is revoked (the genesis admin last, by itself).  It starts
 * with a small map and a 1 MiB maximum, and with account rows written
 * behind a few at a time (each later phase has its own accounts_behind):
 * batches run into map growth, then one is refused as STORAGE_FULL (every
 * entry; the model is rolled back, and the ledger must show nothing of it),
 * then the maximum is lifted and the same batch must get exactly the model's
 * results.  At the end the full replay check must pass, every record must be
 * the bytes the model appended, every inclusion proof (at the latest size and
 * at several earlier checkpoints) and consistency proofs between random
 * checkpoints must verify with proto's verifiers against checkpoints opened
 * with the key in log.pub, and every account's history must be the model's
 * rows.
 *
 * Run without arguments it replays the fixed seed 20261123 (a regression
 * test: the same 22,000 operations every time); with --fresh it explores, from
 * a seed drawn from the system's random source.  The seed is printed;
 * TB_MODEL_SEED=<n> replays one (with or without --fresh), TB_MODEL_OPS=<n>
 * changes the number of operations (default 20000).
 */
#include <inttypes.h>
#include <sys/random.h>

#include "ledger_test.h"

#define NKEYS         8
#define K_NEVER       7 /* a key that is never enrolled */
#define NACCT         40
#define NGHOST        4 /* account ids never registered */
#define NALL          (NACCT + NGHOST)
#define NACT          5
#define RING          256
#define IDEM_CAP      (1u << 16)
#define MAXBATCH      64
#define NPHASES       4
#define DAY           86400
#define MAP_INITIAL   (256u << 10)
#define MAP_FIRST_MAX (1u << 20) /* until the first STORAGE_FULL */

/* accounts_behind of each phase: 5 rows, every batch's (format 3's
 * writes), the default (flushed only at close here), 37 */
static const uint32_t behind_of[4] = {5, 0, LEDGER_ACCOUNTS_BEHIND_DEFAULT, 37};
static const char *const act_names[NACT] = {"", "garden", "cook", "drive",
                                            "misc"};
/* The roles each key is enrolled with; key 0 is the genesis admin. */
static const uint8_t key_roles[NKEYS] = {
    TB_ROLE_ADMIN, TB_ROLE_RECORD, TB_ROLE_REDEEM,
    TB_ROLE_ADMIN, TB_ROLE_RECORD, TB_ROLE_RECORD | TB_ROLE_REDEEM,
    TB_ROLE_ALL,   TB_ROLE_RECORD};

/* ---- random numbers (xorshift64*) -------------------------------------- */

static uint64_t rng_s;

static uint64_t rnd(void)
{
        rng_s ^= rng_s >> 12;
        rng_s ^= rng_s << 25;
        rng_s ^= rng_s >> 27;
        return rng_s * 0x2545f4914f6cdd1du;
}

static uint64_t below(uint64_t n)
{
        return n ? rnd() % n : 0;
}

static int chance(unsigned percent)
{
        return below(1000) < percent * 10u;
}

/* ---- the model ----------------------------------------------------------- */

struct mkey {
        struct tkey k;
        int enrolled, revoked;
        uint8_t roles;
};

struct macct {
        int exists;
        uint64_t balance, earned, redeemed, tin, tout, minutes, entries;
        uint64_t opened, last;
};

struct mlog {
        uint8_t kind;
        int signer; /* key index */
        int acct, acct2;
        int64_t start, end;
        uint64_t minutes, points; /* points credited/debited/moved */
        int reversed;
        int64_t received;
        uint8_t hash[32]; /* SHA-256 of body || signature */
};

struct midem {
        int used, signer;
        uint32_t rid;
        int64_t clock;    /* of the first request */
        uint8_t hash[32]; /* SHA-256 of the body */
        uint16_t status;
        uint64_t seq, balance;
        int64_t points;
};

struct model {
        struct mkey keys[NKEYS];
        struct macct acct[NALL];
        struct mlog *log;
        size_t nlog, caplog;
        uint32_t rate_default;
        int has_rate[NACT];
        uint32_t rate[NACT];
        uint16_t cap;
        uint64_t max_balance;
        int64_t skew, max_age;
        struct midem *idem;
};

struct expect {
        uint16_t status;
        uint64_t seq, balance;
        int64_t points;
};

/* One operation as generated: the entry, who it claims and who signs. */
struct op {
        struct tb_entry e;
        int signer;    /* index of the key in e.signer */
        int sign_with; /* index of the key that signs (!= signer: forged) */
        int bad_sig;   /* 1: flip a bit, 2: sign for another origin */
        int garbage;   /* 1: truncated, 2: unknown version byte */
        int same_acct; /* transfer patched to from == to */
        int internal;  /* receive time out of range */
        int verified;
        int64_t received;
        uint8_t bytes[TB_SIGNED_MAX];
        size_t len;
        char desc[400];
};

static struct model M;
static struct op ring[RING];
static size_t nring;
static uint32_t next_rid = 1;
static uint64_t seed;
static int failed;
static int64_t now;
static uint64_t nops, total_ops;
static unsigned long stat_status[400];
static uint64_t batch_start; /* tree size before the current batch */

/* How often the model met the cases worth knowing were exercised. */
static struct coverage {
        unsigned long rev_spent, rev_over_cap, rev_in_batch, dup_revoked,
            new_clock;
} cov;

static const char *acct_name(int i, char *buf, size_t cap)
{
        if (i < NACCT)
                snprintf(buf, cap, "m%02d", i);
        else
                snprintf(buf, cap, "ghost%d", i - NACCT);
        return buf;
}

static int acct_index(const char *s)
{
        if (s[0] == 'm')
                return atoi(s + 1);
        return NACCT + atoi(s + 5);
}

static int act_index(const char *s)
{
        int i;

        for (i = 0; i < NACT; i++)
                if (strcmp(s, act_names[i]) == 0)
                        return i;
        abort();
}

static int key_index(const uint8_t pk[TB_PUBKEY_SIZE])
{
        int i;

        for (i = 0; i < NKEYS; i++)
                if (memcmp(M.keys[i].k.pk, pk, TB_PUBKEY_SIZE) == 0)
                        return i;
        abort();
}

static struct midem *idem_slot(int signer, uint32_t rid)
{
        uint32_t h = (rid * 2654435761u) ^ ((uint32_t)signer * 40503u);
        struct midem *d;

        for (;; h++) {
                d = &M.idem[h & (IDEM_CAP - 1)];
                if (!d->used || (d->signer == signer && d->rid == rid))
                        return d;
        }
}

static uint32_t op_rid(const struct tb_entry *e)
{
        return (uint32_t)e->request_id[12] << 24 |
               (uint32_t)e->request_id[13] << 16 |
               (uint32_t)e->request_id[14] << 8 | e->request_id[15];
}

static int overlaps(int a, int64_t s, int64_t end)
{
        size_t i;

        for (i = 0; i < M.nlog; i++) {
                const struct mlog *g = &M.log[i];
                if (g->kind == TB_KIND_SERVICE && !g->reversed &&
                    g->acct == a && s < g->end && g->start < end)
                        return 1;
        }
        return 0;
}

static uint64_t day_minutes(int a, int64_t day)
{
        uint64_t sum = 0;
        size_t i;

        for (i = 0; i < M.nlog; i++) {
                const struct mlog *g = &M.log[i];
                if (g->kind == TB_KIND_SERVICE && !g->reversed &&
                    g->acct == a && g->start / DAY == day)
                        sum += g->minutes;
        }
        return sum;
}

/* One history row per account per entry touching it, in log order. */
struct mhist {
        int acct;
        uint64_t seq, balance;
        int64_t delta;
};

static struct mhist *hist;
static size_t nhist, caphist;

/* Account a was touched by entry seq, its balance changed by delta (the
 * balance is already the new one). */
static void touch(int a, uint64_t seq, int64_t delta)
{
        M.acct[a].entries++;
        M.acct[a].last = seq;
        if (nhist == caphist) {
                caphist = caphist ? 2 * caphist : 4096;
                hist = realloc(hist, caphist * sizeof(*hist));
                if (!hist)
                        abort();
        }
        hist[nhist].acct = a;
        hist[nhist].seq = seq;
        hist[nhist].delta = delta;
        hist[nhist].balance = M.acct[a].balance;
        nhist++;
}

/* Step 8 for one kind: the status, and on OK the changes and the result. */
static uint16_t model_kind(const struct op *o, struct mlog *g, struct expect *x)
{
        const struct tb_entry *e = &o->e;
        uint64_t seq = M.nlog;
        int64_t nowi = o->received;
        struct macct *a, *b;
        int k;

        switch (e->kind) {
        case TB_KIND_ENROLL:
                k = key_index(e->u.enroll.key);
                if (M.keys[k].enrolled)
                        return TB_ST_KEY_EXISTS;
                M.keys[k].enrolled = 1;
                M.keys[k].roles = e->u.enroll.roles;
                return TB_ST_OK;
        case TB_KIND_REVOKE:
                k = key_index(e->u.revoke.key);
                if (!M.keys[k].enrolled || M.keys[k].revoked)
                        return TB_ST_KEY_NOT_ENROLLED;
                M.keys[k].revoked = 1;
                return TB_ST_OK;
        case TB_KIND_POLICY:
                if (e->u.policy.set & TB_POLICY_RATE) {
                        k = act_index(e->u.policy.activity);
                        if (k == 0) {
                                M.rate_default = e->u.policy.points_per_hour;
                        } else {
                                M.has_rate[k] = 1;
                                M.rate[k] = e->u.policy.points_per_hour;
                        }
                }
                if (e->u.policy.set & TB_POLICY_DAILY_CAP)
                        M.cap = e->u.policy.daily_minutes_cap;
                if (e->u.policy.set & TB_POLICY_MAX_BALANCE)
                        M.max_balance = e->u.policy.max_balance;
                return TB_ST_OK;
        case TB_KIND_REGISTER:
                g->acct = acct_index(e->u.reg.account);
                a = &M.acct[g->acct];
                if (a->exists)
                        return TB_ST_ACCOUNT_EXISTS;
                memset(a, 0, sizeof(*a));
                a->exists = 1;
                a->opened = seq;
                touch(g->acct, seq, 0);
                return TB_ST_OK;
        case TB_KIND_SERVICE: {
                const struct tb_service *s = &e->u.service;
                uint64_t rate, pts;

                g->acct = acct_index(s->account);
                a = &M.acct[g->acct];
                g->start = s->start;
                g->end = s->start + (int64_t)s->minutes * 60;
                g->minutes = s->minutes;
                if (!a->exists)
                        return TB_ST_UNKNOWN_ACCOUNT;
                if (g->end > nowi + M.skew)
                        return TB_ST_START_IN_FUTURE;
                if (s->start < nowi - M.max_age)
                        return TB_ST_START_TOO_OLD;
                if (overlaps(g->acct, g->start, g->end))
                        return TB_ST_OVERLAPPING_SERVICE;
                if (M.cap &&
                    day_minutes(g->acct, s->start / DAY) + s->minutes > M.cap)
                        return TB_ST_DAILY_CAP_EXCEEDED;
                k = act_index(s->activity);
                rate = k && M.has_rate[k] ? M.rate[k] : M.rate_default;
                pts = (uint64_t)s->minutes * rate / 60;
                if (M.max_balance && a->balance + pts > M.max_balance)
                        return TB_ST_BALANCE_CAP_EXCEEDED;
                g->points = pts;
                a->balance += pts;
                a->earned += pts;
                a->minutes += s->minutes;
                touch(g->acct, seq, (int64_t)pts);
                x->points = (int64_t)pts;
                x->balance = a->balance;
                return TB_ST_OK;
        }
        case TB_KIND_REDEEM:
                g->acct = acct_index(e->u.redeem.account);
                a = &M.acct[g->acct];
                if (!a->exists)
                        return TB_ST_UNKNOWN_ACCOUNT;
                if (a->balance < e->u.redeem.points)
                        return TB_ST_INSUFFICIENT_POINTS;
                g->points = e->u.redeem.points;
                a->balance -= g->points;
                a->redeemed += g->points;
                touch(g->acct, seq, -(int64_t)g->points);
                x->points = -(int64_t)g->points;
                x->balance = a->balance;
                return TB_ST_OK;
        case TB_KIND_TRANSFER:
                g->acct = acct_index(e->u.transfer.from);
                g->acct2 = acct_index(e->u.transfer.to);
                a = &M.acct[g->acct];
                b = &M.acct[g->acct2];
                if (!a->exists || !b->exists)
                        return TB_ST_UNKNOWN_ACCOUNT;
                if (a->balance < e->u.transfer.points)
                        return TB_ST_INSUFFICIENT_POINTS;
                if (M.max_balance &&
                    b->balance + e->u.transfer.points > M.max_balance)
                        return TB_ST_BALANCE_CAP_EXCEEDED;
                g->points = e->u.transfer.points;
                a->balance -= g->points;
                a->tout += g->points;
                b->balance += g->points;
                b->tin += g->points;
                touch(g->acct, seq, -(int64_t)g->points);
                touch(g->acct2, seq, (int64_t)g->points);
                x->points = -(int64_t)g->points;
                x->balance = a->balance;
                return TB_ST_OK;
        case TB_KIND_REVERSE: {
                struct mlog *t;

                if (e->u.reverse.seq >= seq)
                        return TB_ST_NO_SUCH_ENTRY;
                t = &M.log[e->u.reverse.seq];
                if (t->kind != TB_KIND_SERVICE && t->kind != TB_KIND_REDEEM &&
                    t->kind != TB_KIND_TRANSFER)
                        return TB_ST_NOT_REVERSIBLE;
                if (t->reversed)
                        return TB_ST_ALREADY_REVERSED;
                if (!(M.keys[o->signer].roles & TB_ROLE_ADMIN) &&
                    t->signer != o->signer)
                        return TB_ST_ROLE_FORBIDDEN;
                a = &M.acct[t->acct];
                if ((t->kind == TB_KIND_SERVICE && a->balance < t->points) ||
                    (t->kind == TB_KIND_TRANSFER &&
                     M.acct[t->acct2].balance < t->points)) {
                        cov.rev_spent++;
                        return TB_ST_INSUFFICIENT_POINTS;
                }
                t->reversed = 1;
                cov.rev_in_batch += e->u.reverse.seq >= batch_start;
                if (t->kind == TB_KIND_SERVICE) {
                        a->balance -= t->points;
                        a->earned -= t->points;
                        a->minutes -= t->minutes;
                        x->points = -(int64_t)t->points;
                } else if (t->kind == TB_KIND_REDEEM) {
                        a->balance += t->points;
                        a->redeemed -= t->points;
                        x->points = (int64_t)t->points;
                } else {
                        b = &M.acct[t->acct2];
                        a->balance += t->points;
                        a->tout -= t->points;
                        b->balance -= t->points;
                        b->tin -= t->points;
                        touch(t->acct2, seq, -(int64_t)t->points);
                        x->points = (int64_t)t->points;
                }
                touch(t->acct, seq, x->points);
                x->balance = a->balance;
                cov.rev_over_cap += t->kind != TB_KIND_SERVICE &&
                                    M.max_balance && a->balance > M.max_balance;
                return TB_ST_OK;
        }
        default: /* genesis after seq 0 */
                return TB_ST_ROLE_FORBIDDEN;
        }
}

static uint8_t kind_role(unsigned kind)
{
        switch (kind) {
        case TB_KIND_ENROLL:
        case TB_KIND_REVOKE:
        case TB_KIND_POLICY:
                return TB_ROLE_ADMIN;
        case TB_KIND_REGISTER:
        case TB_KIND_SERVICE:
                return TB_ROLE_RECORD;
        case TB_KIND_REDEEM:
        case TB_KIND_TRANSFER:
                return TB_ROLE_REDEEM;
        default:
                return 0; /* genesis: no terminal role allows it */
        }
}

/* The rules of docs/ledger-rules.md, in their order. */
static void model_apply(const struct op *o, struct expect *x)
{
        uint8_t bh[32];
        struct midem *d;
        struct mlog g;
        const struct mkey *k;
        uint16_t st;

        memset(x, 0, sizeof(*x));
        if (o->internal) {
                x->status = TB_ST_INTERNAL;
                return;
        }
        if (o->garbage) {
                x->status = TB_ST_BAD_REQUEST;
                return;
        }
        if (o->same_acct) {
                x->status = TB_ST_SAME_ACCOUNT;
                return;
        }
        if (o->bad_sig || o->sign_with != o->signer) {
                x->status = TB_ST_BAD_SIGNATURE;
                return;
        }
        {
                /* the request's identity: its body with the terminal clock
                 * (bytes 50..57) zeroed, so a retry re-signed later is the
                 * same request */
                uint8_t body[TB_BODY_MAX];
                size_t blen = o->len - TB_SIG_SIZE;
                memcpy(body, o->bytes, blen);
                memset(body + 50, 0, 8);
                crypto_hash_sha256(bh, body, blen);
        }
        d = idem_slot(o->signer, op_rid(&o->e));
        if (d->used) {
                if (memcmp(d->hash, bh, 32) != 0) {
                        x->status = TB_ST_REQUEST_ID_REUSED;
                        return;
                }
                x->status = d->status ? d->status : TB_ST_DUPLICATE;
                cov.dup_revoked += M.keys[o->signer].revoked;
                cov.new_clock += d->clock != o->e.clock;
                if (d->status == TB_ST_OK) {
                        x->seq = d->seq;
                        x->points = d->points;
                        x->balance = d->balance;
                }
                return;
        }
        k = &M.keys[o->signer];
        if (!k->enrolled) {
                x->status = TB_ST_UNKNOWN_KEY;
                return;
        }
        memset(&g, 0, sizeof(g));
        g.kind = o->e.kind;
        g.signer = o->signer;
        g.received = o->received;
        if (k->revoked)
                st = TB_ST_KEY_REVOKED;
        else if (o->e.kind != TB_KIND_REVERSE &&
                 !(k->roles & kind_role(o->e.kind)))
                st = TB_ST_ROLE_FORBIDDEN;
        else
                st = model_kind(o, &g, x);
        x->status = st;
        if (st == TB_ST_OK) {
                x->seq = M.nlog;
                crypto_hash_sha256(g.hash, o->bytes, o->len);
                if (M.nlog == M.caplog) {
                        M.caplog = M.caplog ? 2 * M.caplog : 1024;
                        M.log = realloc(M.log, M.caplog * sizeof(*M.log));
                        if (!M.log)
                                abort();
                }
                M.log[M.nlog++] = g;
        } else {
                x->points = 0;
                x->balance = 0;
        }
        d->used = 1;
        d->signer = o->signer;
        d->rid = op_rid(&o->e);
        d->clock = o->e.clock;
        memcpy(d->hash, bh, 32);
        d->status = st;
        d->seq = x->seq;
        d->points = x->points;
        d->balance = x->balance;
}

/* ---- generating operations ----------------------------------------------- */

/* Mostly an active key holding role; sometimes a key meant to hold it
 * (maybe revoked or not yet enrolled), sometimes any key. */
static int pick_signer(uint8_t role)
{
        int cand[NKEYS], n = 0, i;
        unsigned r = (unsigned)below(100);

        for (i = 0; role && r < 75 && i < NKEYS; i++)
                if ((M.keys[i].roles & role) && M.keys[i].enrolled &&
                    !M.keys[i].revoked)
                        cand[n++] = i;
        for (i = 0; role && r < 90 && n == 0 && i < NKEYS; i++)
                if (key_roles[i] & role)
                        cand[n++] = i;
        return n ? cand[below((uint64_t)n)] : (int)below(NKEYS);
}

static void op_init(struct op *o, unsigned kind, int signer)
{
        memset(o, 0, sizeof(*o));
        o->e.version = TB_ENTRY_VERSION;
        o->e.kind = (uint8_t)kind;
        o->signer = o->sign_with = signer;
        memcpy(o->e.signer, M.keys[signer].k.pk, TB_PUBKEY_SIZE);
        o->e.request_id[0] = 0x6d;
        o->e.request_id[12] = (uint8_t)(next_rid >> 24);
        o->e.request_id[13] = (uint8_t)(next_rid >> 16);
        o->e.request_id[14] = (uint8_t)(next_rid >> 8);
        o->e.request_id[15] = (uint8_t)next_rid;
        next_rid++;
        o->e.clock = now;
}

static int pick_acct(void)
{
        return chance(8) ? NACCT + (int)below(NGHOST) : (int)below(NACCT);
}

static uint32_t pick_points(int a)
{
        uint64_t bal = M.acct[a].balance, p;

        if (bal && chance(55))
                p = 1 + below(bal);
        else if (chance(60))
                p = bal + 1 + below(100);
        else
                p = 1 + below(1000);
        return (uint32_t)(p > TB_POINTS_MAX ? TB_POINTS_MAX : p);
}

/* A seq for a reverse: mostly a reversible entry, also anything else. */
static uint64_t pick_target(void)
{
        size_t i, tries;
        unsigned r = (unsigned)below(100);

        if (M.nlog < 2 || r < 8)
                return M.nlog + below(4); /* not (yet) in the log */
        for (tries = 0; tries < 50; tries++) {
                i = 1 + below(M.nlog - 1);
                if (r < 20)
                        return i; /* anything */
                if (r < 30 && M.log[i].kind == TB_KIND_REVERSE)
                        return i;
                if (r < 40 && M.log[i].reversed)
                        return i;
                if (r >= 40 && !M.log[i].reversed &&
                    (M.log[i].kind == TB_KIND_SERVICE ||
                     M.log[i].kind == TB_KIND_REDEEM ||
                     M.log[i].kind == TB_KIND_TRANSFER))
                        return i;
        }
        return 1 + below(M.nlog - 1);
}

static void gen_service(struct op *o, int a)
{
        struct tb_service *s = &o->e.u.service;
        unsigned r = (unsigned)below(100);
        int64_t start;
        unsigned minutes =
            chance(85) ? 1 + (unsigned)below(240) : 241 + (unsigned)below(1200);

        acct_name(a, s->account, sizeof(s->account));
        if (r < 12) { /* overlap or abut an earlier service of a */
                size_t i, tries;
                start = now - (int64_t)below(30 * DAY);
                for (tries = 0; tries < 40 && M.nlog > 1; tries++) {
                        i = 1 + below(M.nlog - 1);
                        if (M.log[i].kind == TB_KIND_SERVICE &&
                            M.log[i].acct == a) {
                                start = chance(30) ? M.log[i].end
                                                   : M.log[i].start - 1800 +
                                                         (int64_t)below(3600);
                                break;
                        }
                }
        } else if (r < 20) { /* around the future edge */
                start = now + M.skew - (int64_t)minutes * 60 - 2 +
                        (int64_t)below(5) +
                        (chance(50) ? (int64_t)below(7200) : 0);
        } else if (r < 28) { /* around the too-old edge */
                start = now - M.max_age - (int64_t)below(3) +
                        (chance(50) ? -(int64_t)below(DAY) : 1);
        } else {
                start = now - 300 - (int64_t)below(30 * DAY);
                start -= start % 300;
        }
        s->start = start < 0 ? 0 : start;
        s->minutes = (uint16_t)minutes;
        snprintf(s->activity, sizeof(s->activity), "%s",
                 act_names[below(NACT)]);
        if (chance(20))
                snprintf(s->note, sizeof(s->note), "note %u", (unsigned)rnd());
}

static void gen_fresh(struct op *o, uint64_t opno)
{
        unsigned r = (unsigned)below(1000);
        int a, b;

        if (r < 50) {
                op_init(o, TB_KIND_REGISTER, pick_signer(TB_ROLE_RECORD));
                acct_name((int)below(NACCT), o->e.u.reg.account,
                          sizeof(o->e.u.reg.account));
        } else if (r < 390) {
                op_init(o, TB_KIND_SERVICE, pick_signer(TB_ROLE_RECORD));
                gen_service(o, pick_acct());
        } else if (r < 540) {
                op_init(o, TB_KIND_REDEEM, pick_signer(TB_ROLE_REDEEM));
                a = pick_acct();
                acct_name(a, o->e.u.redeem.account,
                          sizeof(o->e.u.redeem.account));
                o->e.u.redeem.points = pick_points(a);
                snprintf(o->e.u.redeem.item, sizeof(o->e.u.redeem.item), "%s",
                         chance(50) ? "groceries" : "meal");
        } else if (r < 690) {
                op_init(o, TB_KIND_TRANSFER, pick_signer(TB_ROLE_REDEEM));
                a = pick_acct();
                do
                        b = pick_acct();
                while (b == a);
                acct_name(a, o->e.u.transfer.from,
                          sizeof(o->e.u.transfer.from));
                acct_name(b, o->e.u.transfer.to, sizeof(o->e.u.transfer.to));
                o->e.u.transfer.points = pick_points(a);
        } else if (r < 870) {
                uint64_t t = pick_target();
                int s;
                if (t >= 1 && t < M.nlog && chance(45))
                        s = M.log[t].signer;
                else if (chance(65))
                        s = pick_signer(TB_ROLE_ADMIN);
                else
                        s = (int)below(NKEYS);
                op_init(o, TB_KIND_REVERSE, s);
                o->e.u.reverse.seq = t ? t : 1;
        } else if (r < 915) {
                struct tb_policy *p = &o->e.u.policy;
                static const uint32_t rates[] = {0, 30, 60, 60, 100, 137, 1000};
                static const uint16_t caps[] = {0, 0, 0, 0, 120, 480, 1440};
                static const uint64_t maxes[] = {0, 0, 0, 0, 2000, 20000};

                op_init(o, TB_KIND_POLICY, pick_signer(TB_ROLE_ADMIN));
                p->set = (uint8_t)(1 + below(TB_POLICY_ALL));
                if (p->set & TB_POLICY_RATE) {
                        snprintf(p->activity, sizeof(p->activity), "%s",
                                 act_names[below(NACT - 1)]);
                        p->points_per_hour = rates[below(7)];
                }
                if (p->set & TB_POLICY_DAILY_CAP)
                        p->daily_minutes_cap = caps[below(7)];
                if (p->set & TB_POLICY_MAX_BALANCE)
                        p->max_balance = maxes[below(6)];
        } else if (r < 950) {
                int k = 1 + (int)below(NKEYS - 2); /* never K_NEVER */
                op_init(o, TB_KIND_ENROLL, pick_signer(TB_ROLE_ADMIN));
                memcpy(o->e.u.enroll.key, M.keys[k].k.pk, TB_PUBKEY_SIZE);
                o->e.u.enroll.roles = key_roles[k];
                snprintf(o->e.u.enroll.name, sizeof(o->e.u.enroll.name), "k%d",
                         k);
        } else if (r < 975) {
                /* keys 3..6 may be revoked, each only after its share of the
                 * run, so revocations happen along the way; key 7 never
                 * enrolled; keys 0..2 stay */
                int k = 3 + (int)below(5);
                if (k < K_NEVER && opno * 6 < total_ops * (uint64_t)(k - 2))
                        k = K_NEVER;
                op_init(o, TB_KIND_REVOKE, pick_signer(TB_ROLE_ADMIN));
                memcpy(o->e.u.revoke.key, M.keys[k].k.pk, TB_PUBKEY_SIZE);
        } else {
                op_init(o, TB_KIND_GENESIS, chance(50) ? 0 : (int)below(NKEYS));
                snprintf(o->e.u.genesis.origin, sizeof(o->e.u.genesis.origin),
                         "%s", T_ORIGIN);
                memcpy(o->e.u.genesis.admin_key, M.keys[K_NEVER].k.pk,
                       TB_PUBKEY_SIZE);
                snprintf(o->e.u.genesis.admin_name,
                         sizeof(o->e.u.genesis.admin_name), "usurper");
                o->e.u.genesis.points_per_hour = 60;
        }
}

static void op_sign(struct op *o)
{
        size_t len, i;

        if (tb_entry_encode(&o->e, o->bytes, TB_BODY_MAX, &len) != TB_OK) {
                fprintf(stderr, "encode failed: %s\n", o->desc);
                abort();
        }
        if (o->same_acct) { /* the length-prefixed "to" becomes "from" */
                uint8_t pat[4] = {3};
                memcpy(pat + 1, o->e.u.transfer.to, 3);
                for (i = len - 4; i > 0; i--)
                        if (memcmp(o->bytes + i, pat, 4) == 0) {
                                memcpy(o->bytes + i + 1, o->e.u.transfer.from,
                                       3);
                                break;
                        }
        }
        if (tb_entry_sign(o->bad_sig == 2 ? "other.example/log" : T_ORIGIN,
                          o->bytes, len, M.keys[o->sign_with].k.sk,
                          o->bytes + len) != TB_OK)
                abort();
        o->len = len + TB_SIG_SIZE;
        if (o->bad_sig == 1)
                o->bytes[len + below(TB_SIG_SIZE)] ^= 0x10;
        if (o->garbage == 1)
                o->len--;
        if (o->garbage == 2)
                o->bytes[0] = 9;
}

static void op_describe(struct op *o)
{
        const struct tb_entry *e = &o->e;
        char f[200] = "";

        switch (e->kind) {
        case TB_KIND_ENROLL:
                snprintf(f, sizeof(f), "key=k%d roles=%u",
                         key_index(e->u.enroll.key), e->u.enroll.roles);
                break;
        case TB_KIND_REVOKE:
                snprintf(f, sizeof(f), "key=k%d", key_index(e->u.revoke.key));
                break;
        case TB_KIND_POLICY:
                snprintf(
                    f, sizeof(f), "set=%u act='%s' rate=%u cap=%u max=%" PRIu64,
                    e->u.policy.set, e->u.policy.activity,
                    e->u.policy.points_per_hour, e->u.policy.daily_minutes_cap,
                    e->u.policy.max_balance);
                break;
        case TB_KIND_REGISTER:
                snprintf(f, sizeof(f), "%s", e->u.reg.account);
                break;
        case TB_KIND_SERVICE:
                snprintf(f, sizeof(f),
                         "%s start=now%+" PRId64 " min=%u act='%s'",
                         e->u.service.account, e->u.service.start - o->received,
                         e->u.service.minutes, e->u.service.activity);
                break;
        case TB_KIND_REDEEM:
                snprintf(f, sizeof(f), "%s pts=%u", e->u.redeem.account,
                         e->u.redeem.points);
                break;
        case TB_KIND_TRANSFER:
                snprintf(f, sizeof(f), "%s->%s pts=%u", e->u.transfer.from,
                         e->u.transfer.to, e->u.transfer.points);
                break;
        case TB_KIND_REVERSE:
                snprintf(f, sizeof(f), "seq=%" PRIu64, e->u.reverse.seq);
                break;
        default:
                break;
        }
        snprintf(o->desc, sizeof(o->desc), "%s by k%d rid=%u %s%s%s%s%s%s",
                 tb_kind_name(e->kind), o->signer, op_rid(e), f,
                 o->sign_with != o->signer ? " [forged]" : "",
                 o->bad_sig ? " [bad sig]" : "", o->garbage ? " [garbage]" : "",
                 o->same_acct ? " [same account]" : "",
                 o->internal ? " [bad receive time]" : "");
}

/* Change one field of e (not the clock). */
static void mutate_body(struct tb_entry *e)
{
        switch (e->kind) {
        case TB_KIND_ENROLL:
                e->u.enroll.name[0] = e->u.enroll.name[0] == 'k' ? 'j' : 'k';
                break;
        case TB_KIND_REVOKE:
                snprintf(e->u.revoke.note, sizeof(e->u.revoke.note), "%s",
                         e->u.revoke.note[0] ? "" : "again");
                break;
        case TB_KIND_POLICY:
                if (e->u.policy.set & TB_POLICY_RATE) {
                        e->u.policy.points_per_hour ^= 1;
                } else {
                        e->u.policy.set |= TB_POLICY_RATE;
                        e->u.policy.points_per_hour = 61;
                }
                break;
        case TB_KIND_REGISTER:
                e->u.reg.account[2] = e->u.reg.account[2] == '0' ? '1' : '0';
                break;
        case TB_KIND_SERVICE:
                e->u.service.minutes =
                    (uint16_t)(e->u.service.minutes % TB_MINUTES_MAX + 1);
                break;
        case TB_KIND_REDEEM:
                e->u.redeem.points ^= 1;
                if (!e->u.redeem.points)
                        e->u.redeem.points = 2;
                break;
        case TB_KIND_TRANSFER:
                e->u.transfer.points ^= 1;
                if (!e->u.transfer.points)
                        e->u.transfer.points = 2;
                break;
        case TB_KIND_REVERSE:
                e->u.reverse.seq++;
                break;
        default:
                e->u.genesis.admin_name[0] ^= 1;
                break;
        }
}

/* A fresh operation, a retry, or a damaged one. */
static void gen_op(struct op *o, uint64_t opno)
{
        unsigned r = (unsigned)below(1000);

        if (nring && r < 90) { /* retry, the same bytes */
                *o = ring[below(nring)];
        } else if (nring && r < 110) { /* re-signed later: a new clock */
                *o = ring[below(nring)];
                o->e.clock += 1 + (int64_t)below(100);
        } else if (nring && r < 135) { /* the same request id, another body */
                *o = ring[below(nring)];
                mutate_body(&o->e);
                if (chance(50))
                        o->e.clock += 1 + (int64_t)below(100);
        } else if (nring && r < 145) { /* the same request id, another key */
                *o = ring[below(nring)];
                o->signer = o->sign_with = (int)below(NKEYS);
                memcpy(o->e.signer, M.keys[o->signer].k.pk, TB_PUBKEY_SIZE);
        } else {
                gen_fresh(o, opno);
                if (nring < RING)
                        ring[nring++] = *o;
                else
                        ring[below(RING)] = *o;
        }
        o->bad_sig = o->garbage = o->same_acct = o->internal = 0;
        o->sign_with = o->signer;
        r = (unsigned)below(1000);
        if (r < 15)
                o->sign_with = (o->signer + 1 + (int)below(NKEYS - 1)) % NKEYS;
        else if (r < 30)
                o->bad_sig = 1;
        else if (r < 40)
                o->bad_sig = 2;
        else if (r < 50)
                o->garbage = 1;
        else if (r < 60)
                o->garbage = 2;
        else if (r < 65)
                o->internal = 1;
        else if (r < 90 && o->e.kind == TB_KIND_TRANSFER &&
                 o->e.u.transfer.from[0] == 'm' && o->e.u.transfer.to[0] == 'm')
                o->same_acct = 1;
        now += (int64_t)below(20);
        o->received = o->internal ? (chance(50) ? -1 : TB_TIME_MAX + 1) : now;
        o->verified = !o->bad_sig && o->sign_with == o->signer && chance(50);
        op_sign(o);
        op_describe(o);
}

/* ---- running and comparing ----------------------------------------------- */

static void fail_op(const struct op *o, size_t batch, size_t i,
                    const struct expect *x, const struct ledger_result *r)
{
        const char *xs = tb_status_name(x->status);
        const char *rs = tb_status_name(r->status);

        fprintf(stderr,
                "MISMATCH seed=%" PRIu64 " op=%" PRIu64 " (batch %zu item %zu)"
                " now=%" PRId64 "\n  %s\n  model:  %s seq=%" PRIu64
                " points=%" PRId64 " balance=%" PRIu64
                "\n  ledger: %s seq=%" PRIu64 " points=%" PRId64
                " balance=%" PRIu64 " detail='%s'\n",
                seed, nops, batch, i, o->received, o->desc, xs ? xs : "?",
                x->seq, x->points, x->balance, rs ? rs : "?", r->seq, r->points,
                r->balance, r->detail);
        failed = 1;
}

static void compare_state(struct tctx *c, const char *when)
{
        struct tb_balance_info b;
        struct tb_status_info st;
        uint64_t naccts = 0, active = 0, revoked = 0;
        char name[16];
        int i;

        for (i = 0; i < NALL; i++) {
                const struct macct *a = &M.acct[i];
                enum ledger_err err;

                acct_name(i, name, sizeof(name));
                err = ledger_balance(c->l, name, &b);
                if (!a->exists) {
                        if (err != LEDGER_E_NOT_FOUND) {
                                fprintf(stderr, "%s: %s exists in the ledger\n",
                                        when, name);
                                failed = 1;
                        }
                        continue;
                }
                naccts++;
                if (err != LEDGER_OK || b.balance != a->balance ||
                    b.earned != a->earned || b.redeemed != a->redeemed ||
                    b.transferred_in != a->tin ||
                    b.transferred_out != a->tout || b.minutes != a->minutes ||
                    b.entries != a->entries || b.opened_seq != a->opened ||
                    b.last_seq != a->last) {
                        fprintf(
                            stderr,
                            "MISMATCH seed=%" PRIu64 " after op %" PRIu64
                            " (%s): account %s (err %d)\n"
                            "  model:  bal %" PRIu64 " earned %" PRIu64
                            " redeemed %" PRIu64 " in %" PRIu64 " out %" PRIu64
                            " min %" PRIu64 " entries %" PRIu64
                            " opened %" PRIu64 " last %" PRIu64 "\n"
                            "  ledger: bal %" PRIu64 " earned %" PRIu64
                            " redeemed %" PRIu64 " in %" PRIu64 " out %" PRIu64
                            " min %" PRIu64 " entries %" PRIu64
                            " opened %" PRIu64 " last %" PRIu64 "\n",
                            seed, nops, when, name, (int)err, a->balance,
                            a->earned, a->redeemed, a->tin, a->tout, a->minutes,
                            a->entries, a->opened, a->last, b.balance, b.earned,
                            b.redeemed, b.transferred_in, b.transferred_out,
                            b.minutes, b.entries, b.opened_seq, b.last_seq);
                        failed = 1;
                }
        }
        for (i = 0; i < NKEYS; i++) {
                active += M.keys[i].enrolled && !M.keys[i].revoked;
                revoked += M.keys[i].revoked;
        }
        CHECK_ERR(ledger_status(c->l, &st), LEDGER_OK);
        if (st.tree_size != M.nlog || st.accounts != naccts ||
            st.keys_active != active || st.keys_revoked != revoked) {
                fprintf(stderr,
                        "MISMATCH seed=%" PRIu64 " after op %" PRIu64
                        " (%s): status size %" PRIu64 "/%zu accounts %" PRIu64
                        "/%" PRIu64 " active %" PRIu64 "/%" PRIu64
                        " revoked %" PRIu64 "/%" PRIu64 " (ledger/model)\n",
                        seed, nops, when, st.tree_size, M.nlog, st.accounts,
                        naccts, st.keys_active, active, st.keys_revoked,
                        revoked);
                failed = 1;
        }
        CHECK(!failed);
}

static uint64_t *cp_sizes;
static size_t ncp;

/* The model as it was before a batch, to undo a batch the ledger refused
 * as a whole (STORAGE_FULL: nothing written, nothing remembered). */
static struct {
        int on;
        struct model m;
        struct mlog *log;
        size_t caplog;
        struct midem *idem;
        struct coverage cov;
        size_t nhist;
} snap;

static void snap_take(void)
{
        if (snap.caplog < M.caplog) {
                free(snap.log);
                snap.log = malloc(M.caplog * sizeof(*snap.log));
                snap.caplog = M.caplog;
        }
        if (!snap.idem)
                snap.idem = malloc(IDEM_CAP * sizeof(*snap.idem));
        if (!snap.log || !snap.idem)
                abort();
        snap.m = M;
        snap.cov = cov;
        snap.nhist = nhist;
        memcpy(snap.log, M.log, M.nlog * sizeof(*M.log));
        memcpy(snap.idem, M.idem, IDEM_CAP * sizeof(*M.idem));
}

static void snap_restore(void)
{
        struct mlog *log = M.log;
        struct midem *idem = M.idem;
        size_t caplog = M.caplog;

        M = snap.m;
        cov = snap.cov;
        nhist = snap.nhist;
        M.log = log;
        M.caplog = caplog;
        M.idem = idem;
        memcpy(M.log, snap.log, M.nlog * sizeof(*M.log));
        memcpy(M.idem, snap.idem, IDEM_CAP * sizeof(*M.idem));
}

/* Apply ops[0..n) to the model and the ledger and compare; returns 1 if
 * the ledger refused the whole batch as STORAGE_FULL (model undone). */
static int run_batch(struct tctx *c, struct op *ops, size_t n, size_t batch)
{
        struct ledger_item items[MAXBATCH];
        struct ledger_result res[MAXBATCH];
        struct expect x[MAXBATCH];
        size_t i, before = M.nlog;
        uint64_t size;
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len;
        enum ledger_err err;

        batch_start = M.nlog;
        if (snap.on)
                snap_take();
        for (i = 0; i < n; i++) {
                items[i].signed_entry = ops[i].bytes;
                items[i].len = ops[i].len;
                items[i].received = ops[i].received;
                items[i].verified = ops[i].verified;
                model_apply(&ops[i], &x[i]);
        }
        err = ledger_apply_batch(c->l, items, n, res);
        if (err == LEDGER_E_FULL && snap.on) {
                for (i = 0; i < n; i++)
                        CHECK_ERR(res[i].status, TB_ST_STORAGE_FULL);
                snap_restore();
                compare_state(c, "storage full");
                return 1;
        }
        CHECK_ERR(err, LEDGER_OK);
        for (i = 0; i < n && !failed; i++, nops++) {
                const struct ledger_result *r = &res[i];
                int done =
                    x[i].status == TB_ST_OK || x[i].status == TB_ST_DUPLICATE;

                stat_status[x[i].status < 400 ? x[i].status : 399]++;
                if (r->status != x[i].status ||
                    (done && (r->seq != x[i].seq || r->points != x[i].points ||
                              r->balance != x[i].balance)))
                        fail_op(&ops[i], batch, i, &x[i], r);
        }
        CHECK(!failed);
        if (failed)
                return 0;
        if (M.nlog > before) {
                CHECK_ERR(
                    ledger_checkpoint(c->l, note, sizeof(note), &len, &size),
                    LEDGER_OK);
                CHECK(size == M.nlog);
                cp_sizes = realloc(cp_sizes, (ncp + 1) * sizeof(*cp_sizes));
                if (!cp_sizes)
                        abort();
                cp_sizes[ncp++] = M.nlog;
        }
        compare_state(c, "batch");
        return 0;
}

static int open_cp(struct tctx *c, const struct tb_vkey *vk, uint64_t size,
                   struct tb_checkpoint *cp)
{
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len;

        if (ledger_checkpoint_at(c->l, size, note, sizeof(note), &len))
                return -1;
        if (tb_checkpoint_open(note, len, T_ORIGIN, vk, cp) != TB_OK)
                return -1;
        return cp->size == size ? 0 : -1;
}

/* Every leaf below cp->size proves inclusion in cp; every record is what
 * the model appended. */
static void check_inclusions(struct tctx *c, const struct tb_checkpoint *cp,
                             int records)
{
        static uint8_t buf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        struct tb_proof p;
        struct tb_record rec;
        uint8_t leaf[32], h[32];
        uint64_t i;
        unsigned long bad = 0;

        for (i = 0; i < cp->size; i++) {
                if (ledger_prove_inclusion(c->l, i, cp->size, &p, buf,
                                           sizeof(buf)) != LEDGER_OK) {
                        bad++;
                        continue;
                }
                tb_merkle_leaf_hash(p.record, p.record_len, leaf);
                if (tb_merkle_verify_inclusion(i, cp->size, leaf,
                                               (const uint8_t(*)[32])p.hashes,
                                               p.count, cp->root) != TB_OK)
                        bad++;
                if (!records || i == 0)
                        continue;
                if (tb_record_decode(p.record, p.record_len, &rec) != TB_OK ||
                    rec.seq != i || rec.received != M.log[i].received) {
                        bad++;
                        continue;
                }
                /* the signature follows the body in the record */
                crypto_hash_sha256(h, rec.body, rec.body_len + TB_SIG_SIZE);
                if (memcmp(h, M.log[i].hash, 32) != 0)
                        bad++;
        }
        if (bad)
                fprintf(stderr, "inclusion at size %" PRIu64 ": %lu bad\n",
                        cp->size, bad);
        CHECK(bad == 0);
}

static void check_proofs(struct tctx *c)
{
        static uint8_t buf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        char path[PATH_MAX + 16], text[512];
        struct tb_checkpoint cp, a, b;
        struct tb_vkey vk;
        struct tb_proof p;
        FILE *f;
        size_t i, len, bad = 0;

        /* the log's public key, as an auditor gets it: log.pub */
        snprintf(path, sizeof(path), "%s/%s", c->dir, LEDGER_PUB_FILE);
        f = fopen(path, "r");
        CHECK(f != NULL);
        if (!f)
                return;
        len = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[len] = '\0';
        while (len && (text[len - 1] == '\n'))
                text[--len] = '\0';
        CHECK_ERR(tb_vkey_parse(text, len, &vk), TB_OK);

        CHECK(open_cp(c, &vk, M.nlog, &cp) == 0);
        check_inclusions(c, &cp, 1);
        for (i = 0; i < 5 && ncp; i++) {
                CHECK(open_cp(c, &vk, cp_sizes[below(ncp)], &a) == 0);
                check_inclusions(c, &a, 0);
        }
        for (i = 0; i < 300 && ncp; i++) {
                uint64_t s1 = cp_sizes[below(ncp)], s2 = cp_sizes[below(ncp)];
                if (s1 > s2) {
                        uint64_t t = s1;
                        s1 = s2;
                        s2 = t;
                }
                if (open_cp(c, &vk, s1, &a) || open_cp(c, &vk, s2, &b) ||
                    ledger_prove_consistency(c->l, s1, s2, &p, buf,
                                             sizeof(buf)) != LEDGER_OK ||
                    tb_merkle_verify_consistency(s1, a.root, s2, b.root,
                                                 (const uint8_t(*)[32])p.hashes,
                                                 p.count) != TB_OK) {
                        fprintf(stderr,
                                "consistency %" PRIu64 " -> %" PRIu64
                                " fails\n",
                                s1, s2);
                        bad++;
                }
        }
        CHECK(bad == 0);
}

/* Every account's history, paged newest first with random page sizes,
 * equals the model's rows. */
static void check_histories(struct tctx *c)
{
        static uint8_t buf[TB_HISTORY_MAX * TB_RECORD_MAX];
        static struct tb_history h;
        struct tb_record rec;
        char name[16];
        size_t a, k, j, bad = 0;

        for (a = 0; a < NALL; a++) {
                uint64_t before = TB_SEQ_LATEST;

                if (!M.acct[a].exists)
                        continue;
                acct_name((int)a, name, sizeof(name));
                k = nhist; /* walk the model's rows backwards */
                do {
                        unsigned limit = 1 + (unsigned)below(TB_HISTORY_MAX);
                        if (ledger_history(c->l, name, before, limit, &h, buf,
                                           sizeof(buf)) != LEDGER_OK) {
                                bad++;
                                break;
                        }
                        for (j = 0; j < h.count; j++) {
                                const struct tb_history_item *it = &h.items[j];
                                while (k > 0 && hist[k - 1].acct != (int)a)
                                        k--;
                                if (k == 0 || hist[k - 1].seq != it->seq ||
                                    hist[k - 1].delta != it->delta ||
                                    hist[k - 1].balance != it->balance_after ||
                                    tb_record_decode(it->record, it->record_len,
                                                     &rec) != TB_OK ||
                                    rec.seq != it->seq) {
                                        if (!bad)
                                                fprintf(stderr,
                                                        "history of %s differs"
                                                        " at seq %" PRIu64 "\n",
                                                        name, it->seq);
                                        bad++;
                                        break;
                                }
                                k--;
                        }
                        before = h.next_before;
                } while (before && !bad);
                while (k > 0 && hist[k - 1].acct != (int)a)
                        k--;
                if (k != 0) {
                        if (!bad)
                                fprintf(stderr, "history of %s is short\n",
                                        name);
                        bad++;
                }
        }
        CHECK(bad == 0);
}

/* The last phase: the admin keys revoked, the genesis admin last, by
 * itself.  Enrollment and policy are frozen for good; the ledger does not
 * prevent it (docs/ledger-rules.md, revoke). */
static void freeze(struct tctx *c, struct op *ops, size_t batch)
{
        static const int admins[] = {3, 6, 0};
        size_t i;
        int k;

        for (i = 0; i < 3; i++) {
                op_init(&ops[i], TB_KIND_REVOKE, 0);
                memcpy(ops[i].e.u.revoke.key, M.keys[admins[i]].k.pk,
                       TB_PUBKEY_SIZE);
                now += 1;
                ops[i].received = now;
                op_sign(&ops[i]);
                op_describe(&ops[i]);
        }
        run_batch(c, ops, 3, batch);
        for (k = 0; k < NKEYS; k++)
                CHECK(!(M.keys[k].roles & TB_ROLE_ADMIN) || M.keys[k].revoked ||
                      !M.keys[k].enrolled);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
        const char *s = getenv(name);

        return s && *s ? strtoull(s, NULL, 0) : def;
}

int main(int argc, char **argv)
{
        static struct op ops[MAXBATCH];
        struct tctx c;
        struct ledger_check_report rep;
        struct ledger_options lo;
        struct tb_status_info st;
        size_t batch = 0, n, i, full_batches = 0;
        int phase;

        int fresh = argc == 2 && strcmp(argv[1], "--fresh") == 0;

        if (argc > 2 || (argc == 2 && !fresh)) {
                fprintf(stderr, "usage: test_ledger_model [--fresh]\n");
                return 2;
        }
        seed = 20261123;
        if (fresh && getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
                perror("getrandom");
                return 2;
        }
        seed = env_u64("TB_MODEL_SEED", seed);
        total_ops = env_u64("TB_MODEL_OPS", 20000);
        printf("test_ledger_model: seed %" PRIu64 " (%s; TB_MODEL_SEED=%" PRIu64
               " replays it), %" PRIu64 " operations (TB_MODEL_OPS)\n",
               seed, fresh ? "fresh" : "fixed", seed, total_ops);
        fflush(stdout);
        rng_s = seed * 0x9e3779b97f4a7c15u + 1;
        if (!rng_s)
                rng_s = 1;

        /* a small first map: batches hit MDB_MAP_FULL, the map grows and
         * the batch is applied again, which must not change any result */
        ledger_options_default(&lo);
        lo.map_initial = MAP_INITIAL;
        lo.map_max = MAP_FIRST_MAX;
        /* account rows written behind (format 4): a few at a time at
         * first, so that flushes meet map growth and STORAGE_FULL; each
         * phase after a reopen has its own setting */
        lo.accounts_behind = behind_of[0];
        snap.on = 1;
        t_setup_opts(&c, &lo);
        M.idem = calloc(IDEM_CAP, sizeof(*M.idem));
        if (!M.idem)
                abort();
        for (i = 0; i < NKEYS; i++)
                tkey_make(&M.keys[i].k, (uint8_t)(1 + i));
        CHECK_MEM(M.keys[0].k.pk, c.admin.pk, TB_PUBKEY_SIZE);
        M.keys[0].enrolled = 1;
        M.keys[0].roles = TB_ROLE_ADMIN;
        M.rate_default = c.opt.points_per_hour;
        M.cap = c.opt.daily_minutes_cap;
        M.max_balance = c.opt.max_balance;
        M.skew = c.opt.clock_skew;
        M.max_age = c.opt.max_age;
        M.caplog = 1024;
        M.log = calloc(M.caplog, sizeof(*M.log));
        M.nlog = 1; /* genesis */
        M.log[0].kind = TB_KIND_GENESIS;
        now = T_NOW;

        /* The cast: keys 1..5 enrolled, 30 of the accounts registered. */
        for (i = 1; i <= 5; i++) {
                op_init(&ops[i - 1], TB_KIND_ENROLL, 0);
                memcpy(ops[i - 1].e.u.enroll.key, M.keys[i].k.pk,
                       TB_PUBKEY_SIZE);
                ops[i - 1].e.u.enroll.roles = key_roles[i];
                snprintf(ops[i - 1].e.u.enroll.name,
                         sizeof(ops[i - 1].e.u.enroll.name), "k%zu", i);
        }
        for (i = 0; i < 30; i++) {
                op_init(&ops[5 + i], TB_KIND_REGISTER, 1);
                acct_name((int)i, ops[5 + i].e.u.reg.account,
                          sizeof(ops[5 + i].e.u.reg.account));
        }
        for (i = 0; i < 35; i++) {
                ops[i].received = now;
                op_sign(&ops[i]);
                op_describe(&ops[i]);
        }
        run_batch(&c, ops, 35, batch++);

        for (phase = 0; phase <= NPHASES && !failed; phase++) {
                uint64_t end = total_ops * (uint64_t)(phase + 1) / NPHASES;

                if (phase == NPHASES) {
                        end = total_ops + total_ops / 10;
                        freeze(&c, ops, batch++);
                }
                while (nops < end && !failed) {
                        n = 1 + below(MAXBATCH);
                        if (n > end - nops)
                                n = end - nops;
                        for (i = 0; i < n; i++)
                                gen_op(&ops[i], nops + i);
                        if (!run_batch(&c, ops, n, batch++))
                                continue;
                        /* the map is full: let it grow, send the batch
                         * again; nothing of the first try may show */
                        full_batches++;
                        snap.on = 0;
                        c.opt.map_max = LEDGER_MAP_MAX_DEFAULT;
                        t_reopen(&c);
                        compare_state(&c, "reopen after storage full");
                        CHECK(run_batch(&c, ops, n, batch++) == 0);
                }
                if (failed)
                        break;
                c.opt.accounts_behind = behind_of[(phase + 1) % 4];
                t_reopen(&c);
                compare_state(&c, "reopen");
                now += DAY / 2;
        }

        if (!failed) {
                printf("%" PRIu64 " operations in %zu batches, tree size %zu,"
                       " %zu checkpoints\n",
                       nops, batch, M.nlog, ncp);
                for (i = 0; i < 400; i++)
                        if (stat_status[i])
                                printf("  %-22s %lu\n",
                                       tb_status_name((unsigned)i),
                                       stat_status[i]);
                printf("  reversal refused as spent %lu, reversal above the "
                       "balance cap %lu, reversal within its batch %lu, first "
                       "outcome after revocation %lu, first outcome with a "
                       "new clock %lu\n",
                       cov.rev_spent, cov.rev_over_cap, cov.rev_in_batch,
                       cov.dup_revoked, cov.new_clock);
                /* a short run (TB_MODEL_OPS) may miss some */
                CHECK(total_ops < 5000 ||
                      (cov.rev_spent && cov.rev_over_cap && cov.rev_in_batch &&
                       cov.dup_revoked && cov.new_clock));
                CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
                printf("  map grew from %u to %" PRIu64 " bytes\n", MAP_INITIAL,
                       st.map_bytes);
                printf("  batches refused as STORAGE_FULL at the first map "
                       "maximum (%u bytes), then applied: %zu\n",
                       MAP_FIRST_MAX, full_batches);
                CHECK(total_ops < 5000 ||
                      (st.map_bytes > MAP_FIRST_MAX && full_batches == 1));
                CHECK_ERR(ledger_check_full(c.l, NULL, &rep), LEDGER_OK);
                CHECK(rep.mismatches == 0 && rep.entries == M.nlog);
                if (rep.mismatches)
                        fprintf(stderr, "full check: %s\n", rep.first);
                check_proofs(&c);
                check_histories(&c);
        }
        t_teardown(&c);
        free(M.log);
        free(M.idem);
        free(cp_sizes);
        free(snap.log);
        free(snap.idem);
        free(hist);
        return check_done("test_ledger_model");
}
