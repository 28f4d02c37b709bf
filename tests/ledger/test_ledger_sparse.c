/*
 * tests/ledger/test_ledger_sparse.c - format 3 stores the Merkle nodes of
 * levels >= 2 only and rehashes the rows below (docs/storage.md, "Format
 * 3").  Every root of sizes 1..N, every inclusion proof (i, size) and
 * every consistency proof (m, size) for 1 <= m <= size <= N must be
 * exactly RFC 6962's, computed here from the records alone with a plain
 * recursion over SHA-256 (no proto/merkle.c), and must verify with
 * proto's verifiers.  The entries
 * come in batches of 1, 2, 3, ... so that batch ends fall everywhere.
 */
#include "ledger_test.h"

#define N 300

static uint8_t leaf[N][32];
static uint8_t memo[N + 1][N][32]; /* memo[size][start] of aligned nodes */
static uint8_t have[N + 1][N];

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
        crypto_hash_sha256_state st;
        uint8_t one = 1;

        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, &one, 1);
        crypto_hash_sha256_update(&st, l, 32);
        crypto_hash_sha256_update(&st, r, 32);
        crypto_hash_sha256_final(&st, out);
}

static uint64_t split(uint64_t n) /* the largest power of 2 below n */
{
        uint64_t k = 1;

        while (k * 2 < n)
                k *= 2;
        return k;
}

/* MTH(D[a:b]) (RFC 6962 2.1) */
static void mth(uint64_t a, uint64_t b, uint8_t out[32])
{
        uint8_t l[32], r[32];
        uint64_t k;

        if (b - a == 1) {
                memcpy(out, leaf[a], 32);
                return;
        }
        if (have[b - a][a]) {
                memcpy(out, memo[b - a][a], 32);
                return;
        }
        k = split(b - a);
        mth(a, a + k, l);
        mth(a + k, b, r);
        node(l, r, out);
        memcpy(memo[b - a][a], out, 32);
        have[b - a][a] = 1;
}

/* PATH(m, D[a:b]) (RFC 6962 2.1.1), appended to p[*n] */
static void path(uint64_t m, uint64_t a, uint64_t b, uint8_t p[][32], size_t *n)
{
        uint64_t k;

        if (b - a == 1)
                return;
        k = split(b - a);
        if (m < k) {
                path(m, a, a + k, p, n);
                mth(a + k, b, p[(*n)++]);
        } else {
                path(m - k, a + k, b, p, n);
                mth(a, a + k, p[(*n)++]);
        }
}

/* SUBPROOF(m, D[a:b], whole) (RFC 6962 2.1.2) */
static void subproof(uint64_t m, uint64_t a, uint64_t b, int whole,
                     uint8_t p[][32], size_t *n)
{
        uint64_t k;

        if (m == b - a) {
                if (!whole)
                        mth(a, b, p[(*n)++]);
                return;
        }
        k = split(b - a);
        if (m <= k) {
                subproof(m, a, a + k, whole, p, n);
                mth(a + k, b, p[(*n)++]);
        } else {
                subproof(m - k, a + k, b, 0, p, n);
                mth(a, a + k, p[(*n)++]);
        }
}

static int same(const struct tb_proof *p, uint8_t want[][32], size_t n)
{
        size_t i;

        if (p->count != n)
                return 0;
        for (i = 0; i < n; i++)
                if (memcmp(p->hashes[i], want[i], 32) != 0)
                        return 0;
        return 1;
}

int main(void)
{
        static uint8_t buf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        static uint8_t root[N + 1][32];
        uint8_t want[TB_MERKLE_MAX_PROOF][32], got[32];
        struct tctx c;
        struct tb_proof p;
        struct tb_status_info st;
        struct ledger_item it[32];
        struct ledger_result r[32];
        static uint8_t b[32][TB_SIGNED_MAX];
        uint64_t size = 1, s, i, m, bad = 0;
        size_t n, k, batch = 1;

        t_setup(&c);
        CHECK_ERR(t_enroll(&c, &c.admin, &c.rec, TB_ROLE_RECORD, "rec"),
                  TB_ST_OK);
        size = 2;
        while (size < N) {
                for (k = 0; k < batch && size + k < N; k++) {
                        struct tb_entry e =
                            t_entry(&c, TB_KIND_REGISTER, &c.rec);
                        snprintf(e.u.reg.account, sizeof(e.u.reg.account),
                                 "acct%llu", (unsigned long long)(size + k));
                        it[k].signed_entry = b[k];
                        it[k].len = t_sign(&e, &c.rec, b[k]);
                        it[k].received = T_NOW;
                        it[k].verified = 0;
                }
                CHECK_ERR(ledger_apply_batch(c.l, it, k, r), LEDGER_OK);
                size += k;
                batch = batch % 31 + 1;
        }
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(st.tree_size == N);

        for (i = 0; i < N; i++) {
                CHECK_ERR(
                    ledger_prove_inclusion(c.l, i, N, &p, buf, sizeof(buf)),
                    LEDGER_OK);
                tb_merkle_leaf_hash(p.record, p.record_len, leaf[i]);
                /* independently: SHA-256(0x00 || record) */
                {
                        crypto_hash_sha256_state hs;
                        uint8_t zero = 0, h[32];
                        crypto_hash_sha256_init(&hs);
                        crypto_hash_sha256_update(&hs, &zero, 1);
                        crypto_hash_sha256_update(&hs, p.record, p.record_len);
                        crypto_hash_sha256_final(&hs, h);
                        CHECK_MEM(h, leaf[i], 32);
                }
        }
        for (s = 1; s <= N; s++) {
                mth(0, s, root[s]);
                CHECK_ERR(ledger_root(c.l, s, got), LEDGER_OK);
                if (memcmp(got, root[s], 32) != 0) {
                        fprintf(stderr, "root of size %llu differs\n",
                                (unsigned long long)s);
                        bad++;
                }
        }
        for (s = 1; s <= N; s++) {
                for (i = 0; i < s; i++) {
                        CHECK_ERR(ledger_prove_inclusion(c.l, i, s, &p, buf,
                                                         sizeof(buf)),
                                  LEDGER_OK);
                        n = 0;
                        path(i, 0, s, want, &n);
                        if (!same(&p, want, n) ||
                            tb_merkle_verify_inclusion(
                                i, s, leaf[i], (const uint8_t(*)[32])p.hashes,
                                p.count, root[s]) != TB_OK) {
                                fprintf(stderr, "inclusion %llu in %llu\n",
                                        (unsigned long long)i,
                                        (unsigned long long)s);
                                bad++;
                        }
                }
                for (m = 1; m <= s; m++) {
                        CHECK_ERR(ledger_prove_consistency(c.l, m, s, &p, buf,
                                                           sizeof(buf)),
                                  LEDGER_OK);
                        n = 0;
                        if (m < s)
                                subproof(m, 0, s, 1, want, &n);
                        if (!same(&p, want, n) ||
                            tb_merkle_verify_consistency(
                                m, root[m], s, root[s],
                                (const uint8_t(*)[32])p.hashes,
                                p.count) != TB_OK) {
                                fprintf(stderr, "consistency %llu to %llu\n",
                                        (unsigned long long)m,
                                        (unsigned long long)s);
                                bad++;
                        }
                }
        }
        CHECK(bad == 0);
        CHECK_ERR(ledger_prove_inclusion(c.l, 0, N + 1, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);
        CHECK_ERR(ledger_prove_consistency(c.l, N, N + 1, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);
        t_teardown(&c);
        return check_done("test_ledger_sparse");
}
