/*
 * bench/bench_script.c - the requests of each connection, encoded and
 * signed before any clock starts (signing is the terminals' work, not the
 * daemon's).  Every write is built so that no ledger rule refuses it: an
 * account's services lie BENCH_SLOT apart in the last 28 days (never
 * overlapping, far under any daily cap), and an account is never asked to
 * redeem more points than its funding service gave it.  A refusal in a run
 * is therefore a finding, and the run fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench.h"
#include "frame.h"
#include "msg.h"
#include "timebank.h"

void bench_scripts_free(struct bench_script *s, unsigned conns)
{
        if (s == NULL)
                return;
        for (unsigned c = 0; c < conns; c++) {
                free(s[c].frames);
                free(s[c].off);
                free(s[c].kind);
        }
        free(s);
}

static int bench_script_alloc(struct bench_script *s, size_t n)
{
        s->cap = n * 256 + BENCH_FRAME_MAX;
        s->frames = malloc(s->cap);
        s->off = calloc(n + 1, sizeof(*s->off));
        s->kind = calloc(n ? n : 1, 1);
        s->n = 0;
        if (s->frames == NULL || s->off == NULL || s->kind == NULL)
                return bench_fail("out of memory");
        return 0;
}

/* Append q (its id set to the next index) as one frame. */
static int bench_script_add(struct bench_script *s, struct tb_request *q,
                            unsigned kind)
{
        size_t at = s->off[s->n], len;

        if (s->cap - at < BENCH_FRAME_MAX) {
                uint8_t *p = realloc(s->frames, s->cap * 2);
                if (p == NULL)
                        return bench_fail("out of memory");
                s->frames = p;
                s->cap *= 2;
        }
        q->id = (uint32_t)(s->n + 1);
        if (tb_request_encode(q, s->frames + at + TB_FRAME_HEADER,
                              BENCH_FRAME_MAX - TB_FRAME_HEADER,
                              &len) != TB_OK ||
            tb_frame_header(len, s->frames + at) != TB_OK)
                return bench_fail("cannot encode a request");
        s->kind[s->n] = (uint8_t)kind;
        s->off[++s->n] = at + TB_FRAME_HEADER + len;
        return 0;
}

/* Encode e, sign it with k for origin, and append it as a SUBMIT. */
static int bench_script_submit(struct bench_script *s, const char *origin,
                               struct tb_entry *e, const struct tb_skey *k,
                               unsigned kind)
{
        uint8_t buf[TB_SIGNED_MAX];
        struct tb_request q;
        size_t len;

        if (tb_entry_encode(e, buf, TB_BODY_MAX, &len) != TB_OK ||
            tb_entry_sign_key(origin, buf, len, k, buf + len) != TB_OK)
                return bench_fail("cannot sign an entry");
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_SUBMIT;
        q.u.submit.signed_entry = buf;
        q.u.submit.len = len + TB_SIG_SIZE;
        return bench_script_add(s, &q, kind);
}

static void bench_account(const struct bench_ledger *l, uint64_t a, char *out,
                          size_t cap)
{
        snprintf(out, cap, "bench-%s-%llu", l->run, (unsigned long long)a);
}

/* What one building thread does: connection c's part of a phase. */
struct bench_builder {
        struct bench_ledger *l;
        struct bench_script *s;
        unsigned c;
        uint64_t n; /* requests of this connection */
        int step;   /* -1: the mix; 0: register; 1: fund */
        unsigned mix[3];
        uint64_t record0, redeem0; /* the phase's first global indexes */
        int rc;
        pthread_t thread;
};

static uint64_t bench_rng(uint64_t *state)
{
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * 0x2545f4914f6cdd1du;
}

static int bench_build_one(struct bench_builder *b, uint64_t i, uint64_t *rng,
                           uint64_t *records, uint64_t *redeems)
{
        const struct bench_ledger *l = b->l;
        const struct tb_skey *k = l->keys[b->c];
        uint64_t pick = bench_rng(rng) % 100, a, g;
        struct tb_request q;
        struct tb_entry e;
        struct tb_vkey v;
        unsigned kind;

        tb_skey_public(k, &v);
        memset(&e, 0, sizeof(e));
        if (b->step == 0) {
                a = i * l->conns + b->c;
                tb_client_entry_init(&e, TB_KIND_REGISTER, v.pk, NULL);
                bench_account(l, a, e.u.reg.account, sizeof(e.u.reg.account));
                return bench_script_submit(b->s, l->origin, &e, k, BENCH_SETUP);
        }
        if (b->step == 1) {
                a = i * l->conns + b->c;
                tb_client_entry_init(&e, TB_KIND_SERVICE, v.pk, NULL);
                bench_account(l, a, e.u.service.account,
                              sizeof(e.u.service.account));
                e.u.service.start = l->base - 86400;
                e.u.service.minutes = BENCH_SEED_MIN;
                return bench_script_submit(b->s, l->origin, &e, k, BENCH_SETUP);
        }
        kind = pick < b->mix[0]               ? BENCH_RECORD
               : pick < b->mix[0] + b->mix[1] ? BENCH_REDEEM
                                              : BENCH_BALANCE;
        if (kind == BENCH_RECORD) {
                g = b->record0 + (*records)++ * l->conns + b->c;
                tb_client_entry_init(&e, TB_KIND_SERVICE, v.pk, NULL);
                bench_account(l, g % l->accounts, e.u.service.account,
                              sizeof(e.u.service.account));
                e.u.service.start =
                    l->base + (int64_t)(g / l->accounts) * BENCH_SLOT;
                e.u.service.minutes = 1;
                return bench_script_submit(b->s, l->origin, &e, k, kind);
        }
        if (kind == BENCH_REDEEM) {
                g = b->redeem0 + (*redeems)++ * l->conns + b->c;
                tb_client_entry_init(&e, TB_KIND_REDEEM, v.pk, NULL);
                bench_account(l, g % l->accounts, e.u.redeem.account,
                              sizeof(e.u.redeem.account));
                e.u.redeem.points = 1;
                snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "bench");
                return bench_script_submit(b->s, l->origin, &e, k, kind);
        }
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_BALANCE;
        bench_account(l, bench_rng(rng) % l->accounts, q.u.balance.account,
                      sizeof(q.u.balance.account));
        return bench_script_add(b->s, &q, kind);
}

static void *bench_builder_main(void *arg)
{
        struct bench_builder *b = arg;
        uint64_t rng = 0x9e3779b97f4a7c15u ^ ((uint64_t)b->c << 32) ^
                       b->record0 ^ (b->redeem0 << 16);
        uint64_t records = 0, redeems = 0;

        b->rc = bench_script_alloc(b->s, b->n);
        for (uint64_t i = 0; i < b->n && b->rc == 0; i++)
                b->rc = bench_build_one(b, i, &rng, &records, &redeems);
        return NULL;
}

/* Build n requests in all (connection c gets those with g mod C == c). */
static int bench_build(struct bench_ledger *l, int step, const unsigned mix[3],
                       uint64_t n, struct bench_script **out)
{
        struct bench_script *s = calloc(l->conns, sizeof(*s));
        struct bench_builder *b = calloc(l->conns, sizeof(*b));
        unsigned started = 0;
        int rc = 0;

        if (s == NULL || b == NULL) {
                free(s);
                free(b);
                return bench_fail("out of memory");
        }
        for (; started < l->conns; started++) {
                struct bench_builder *x = &b[started];

                x->l = l;
                x->s = &s[started];
                x->c = started;
                x->n = n / l->conns + (started < n % l->conns);
                x->step = step;
                if (mix != NULL)
                        memcpy(x->mix, mix, sizeof(x->mix));
                x->record0 = l->records;
                x->redeem0 = l->redeems;
                if (pthread_create(&x->thread, NULL, bench_builder_main, x) !=
                    0) {
                        rc = bench_fail("pthread_create failed");
                        break;
                }
        }
        for (unsigned c = 0; c < started; c++) {
                if (pthread_join(b[c].thread, NULL) != 0 || b[c].rc != 0)
                        rc = -1;
        }
        free(b);
        if (rc != 0) {
                bench_scripts_free(s, l->conns);
                return -1;
        }
        *out = s;
        return 0;
}

/* The largest count of kind in any script, times the connections: the
 * global indexes this phase used up. */
static uint64_t bench_used(const struct bench_ledger *l,
                           const struct bench_script *s, unsigned kind)
{
        uint64_t most = 0;

        for (unsigned c = 0; c < l->conns; c++) {
                uint64_t k = 0;
                for (size_t i = 0; i < s[c].n; i++)
                        k += s[c].kind[i] == kind;
                if (k > most)
                        most = k;
        }
        return most * l->conns;
}

int bench_scripts_build(struct bench_ledger *l, const unsigned mix[3],
                        uint64_t n, struct bench_script **out)
{
        uint64_t records, redeems;

        if (bench_build(l, -1, mix, n, out) != 0)
                return -1;
        records = l->records + bench_used(l, *out, BENCH_RECORD);
        redeems = l->redeems + bench_used(l, *out, BENCH_REDEEM);
        if (records > (uint64_t)l->accounts * BENCH_SLOTS ||
            (redeems + l->accounts - 1) / l->accounts > l->funded) {
                bench_scripts_free(*out, l->conns);
                *out = NULL;
                return bench_fail("%u accounts are too few for this many "
                                  "requests (%d services and %llu redeems per "
                                  "account at most): raise --accounts",
                                  l->accounts, BENCH_SLOTS,
                                  (unsigned long long)l->funded);
        }
        l->records = records;
        l->redeems = redeems;
        return 0;
}

int bench_scripts_setup(struct bench_ledger *l, int step,
                        struct bench_script **out)
{
        return bench_build(l, step, NULL, l->accounts, out);
}
