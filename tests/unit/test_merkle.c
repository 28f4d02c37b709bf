/*
 * RFC 6962 hashing and proofs: CT and Go vectors, the vectors of
 * docs/transparency.md, and an exhaustive comparison with a naive
 * builder written straight from the RFC recursion for every tree of
 * 1..300 leaves.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "b64.h"
#include "buf.h"
#include "check.h"
#include "docvec.h"
#include "key.h"
#include "merkle.h"
#include "note.h"

typedef uint8_t hash[TB_HASH_SIZE];

static void unhex(const char *s, uint8_t *out, size_t n)
{
        if (sodium_hex2bin(out, n, s, strlen(s), NULL, NULL, NULL) != 0) {
                fprintf(stderr, "bad hex in test: %s\n", s);
                exit(2);
        }
}

static void unb64(const char *s, uint8_t out[TB_HASH_SIZE])
{
        size_t n = 0;

        if (tb_b64_decode(s, strlen(s), out, TB_HASH_SIZE, &n) != TB_OK ||
            n != TB_HASH_SIZE) {
                fprintf(stderr, "bad base64 in test: %s\n", s);
                exit(2);
        }
}

/* ---- an in-memory store of complete subtree hashes ---------------- */

#define STORE_LEVELS 11
#define STORE_LEAVES 1024

struct store {
        hash h[STORE_LEVELS][STORE_LEAVES];
        uint64_t n;     /* leaves appended */
        uint64_t limit; /* reads must lie inside D[0:limit) */
        unsigned long reads;
        unsigned long bad;
};

static enum tb_err store_read(void *ctx, unsigned level, uint64_t index,
                              uint8_t out[TB_HASH_SIZE])
{
        struct store *s = ctx;

        s->reads++;
        if (level >= STORE_LEVELS ||
            index >= ((uint64_t)STORE_LEAVES >> level) ||
            ((index + 1) << level) > s->limit) {
                s->bad++;
                return TB_E_PROOF_RANGE;
        }
        memcpy(out, s->h[level][index], TB_HASH_SIZE);
        return TB_OK;
}

static void store_append(struct store *s, const uint8_t leaf[TB_HASH_SIZE])
{
        uint8_t out[TB_MERKLE_APPEND_MAX][TB_HASH_SIZE];
        size_t count = 0, want = 1;
        uint64_t n = s->n;

        s->limit = n;
        CHECK_ERR(tb_merkle_append(store_read, s, n, leaf, out, &count), TB_OK);
        for (uint64_t b = n; b & 1; b >>= 1)
                want++;
        CHECK(count == want);
        CHECK_MEM(out[0], leaf, TB_HASH_SIZE);
        for (size_t i = 0; i < count && i < STORE_LEVELS; i++)
                memcpy(s->h[i][n >> i], out[i], TB_HASH_SIZE);
        s->n = n + 1;
        s->limit = s->n;
}

static struct store big, ct;

/* ---- the two trees: CT test leaves and "leaf <i>" ------------------ */

static const char *const ct_leaves_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"};

#define BIG_N 1000
static hash ct_leaf[8], big_leaf[BIG_N];

static void make_trees(void)
{
        for (int i = 0; i < 8; i++) {
                uint8_t d[16];
                size_t n = strlen(ct_leaves_hex[i]) / 2;
                unhex(ct_leaves_hex[i], d, n);
                tb_merkle_leaf_hash(d, n, ct_leaf[i]);
                store_append(&ct, ct_leaf[i]);
        }
        for (int i = 0; i < BIG_N; i++) {
                char d[32];
                int n = snprintf(d, sizeof(d), "leaf %d", i);
                tb_merkle_leaf_hash(d, (size_t)n, big_leaf[i]);
                store_append(&big, big_leaf[i]);
        }
        CHECK(big.bad == 0 && ct.bad == 0);
}

/* ---- the naive reference: RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1 -------- */

#define NAIVE_N 300
static hash memo[NAIVE_N + 1][NAIVE_N + 1];
static bool have[NAIVE_N + 1][NAIVE_N + 1];

static uint64_t rfc_k(uint64_t n)
{
        uint64_t k = 1;

        while (k << 1 < n)
                k <<= 1;
        return k;
}

/* MTH(D[lo:hi]) over the "leaf <i>" tree, memoized. */
static const uint8_t *mth(uint64_t lo, uint64_t hi)
{
        if (!have[lo][hi]) {
                if (hi - lo == 1) {
                        memcpy(memo[lo][hi], big_leaf[lo], TB_HASH_SIZE);
                } else {
                        uint64_t k = rfc_k(hi - lo);
                        tb_merkle_node_hash(mth(lo, lo + k), mth(lo + k, hi),
                                            memo[lo][hi]);
                }
                have[lo][hi] = true;
        }
        return memo[lo][hi];
}

struct proof {
        size_t n;
        hash h[TB_MERKLE_MAX_PROOF + 1];
};

static void push(struct proof *p, const uint8_t *h)
{
        memcpy(p->h[p->n++], h, TB_HASH_SIZE);
}

/* PATH(m, D[lo:hi]) */
static void naive_path(uint64_t m, uint64_t lo, uint64_t hi, struct proof *p)
{
        uint64_t k;

        if (hi - lo == 1)
                return;
        k = rfc_k(hi - lo);
        if (m - lo < k) {
                naive_path(m, lo, lo + k, p);
                push(p, mth(lo + k, hi));
        } else {
                naive_path(m, lo + k, hi, p);
                push(p, mth(lo, lo + k));
        }
}

/* SUBPROOF(m - lo, D[lo:hi], b) */
static void naive_subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b,
                           struct proof *p)
{
        uint64_t k;

        if (m == hi) {
                if (!b)
                        push(p, mth(lo, hi));
                return;
        }
        k = rfc_k(hi - lo);
        if (m - lo <= k) {
                naive_subproof(m, lo, lo + k, b, p);
                push(p, mth(lo + k, hi));
        } else {
                naive_subproof(m, lo + k, hi, false, p);
                push(p, mth(lo, lo + k));
        }
}

static bool proof_eq(const struct proof *a, const struct proof *b)
{
        return a->n == b->n && memcmp(a->h, b->h, a->n * TB_HASH_SIZE) == 0;
}

static unsigned bitlen(uint64_t n)
{
        return n == 0 ? 0 : 64 - (unsigned)__builtin_clzll(n);
}

static void exhaustive_inclusion(uint64_t n, const uint8_t *root)
{
        for (uint64_t m = 0; m < n; m++) {
                struct proof p = {0}, q = {0}, t;
                const uint8_t *leaf = big_leaf[m];

                naive_path(m, 0, n, &p);
                CHECK_ERR(
                    tb_merkle_verify_inclusion(m, n, leaf, p.h, p.n, root),
                    TB_OK);
                big.limit = n;
                big.reads = 0;
                CHECK_ERR(tb_merkle_prove_inclusion(store_read, &big, m, n, q.h,
                                                    &q.n),
                          TB_OK);
                CHECK(proof_eq(&p, &q));
                CHECK(big.reads <= 2 * bitlen(n));

                for (size_t j = 0; j < p.n; j++) {
                        unsigned bit = (unsigned)(n * 31 + m * 17 + j * 7) %
                                       (8 * TB_HASH_SIZE);
                        t = p;
                        t.h[j][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                        CHECK_ERR(tb_merkle_verify_inclusion(m, n, leaf, t.h,
                                                             t.n, root),
                                  TB_E_PROOF);
                }
                t = p;
                memcpy(t.h[0], leaf, TB_HASH_SIZE);
                t.h[0][(m + n) % TB_HASH_SIZE] ^= 0x80;
                CHECK_ERR(
                    tb_merkle_verify_inclusion(m, n, t.h[0], p.h, p.n, root),
                    TB_E_PROOF);
                memcpy(t.h[0], root, TB_HASH_SIZE);
                t.h[0][m % TB_HASH_SIZE] ^= 0x01;
                CHECK_ERR(
                    tb_merkle_verify_inclusion(m, n, leaf, p.h, p.n, t.h[0]),
                    TB_E_PROOF);
                CHECK_ERR(
                    tb_merkle_verify_inclusion(n, n, leaf, p.h, p.n, root),
                    TB_E_PROOF_RANGE);
                if (n > 1) {
                        /* The right leaf, the wrong place. */
                        CHECK_ERR(tb_merkle_verify_inclusion(
                                      (m + 1) % n, n, leaf, p.h, p.n, root),
                                  TB_E_PROOF);
                        /* Truncated at either end. */
                        CHECK_ERR(tb_merkle_verify_inclusion(m, n, leaf, p.h,
                                                             p.n - 1, root),
                                  TB_E_PROOF);
                        CHECK_ERR(tb_merkle_verify_inclusion(
                                      m, n, leaf, p.h + 1, p.n - 1, root),
                                  TB_E_PROOF);
                }
                /* Extended: with a copy of the root, or of the last hash. */
                t = p;
                push(&t, root);
                CHECK_ERR(
                    tb_merkle_verify_inclusion(m, n, leaf, t.h, t.n, root),
                    TB_E_PROOF);
                if (p.n > 0) {
                        t = p;
                        push(&t, p.h[p.n - 1]);
                        CHECK_ERR(tb_merkle_verify_inclusion(m, n, leaf, t.h,
                                                             t.n, root),
                                  TB_E_PROOF);
                }
                /*
                 * Another size, with that size's root: valid exactly when
                 * the RFC gives the same path for it (e.g. leaf 0 of 3 and
                 * of 4 share it), so compare with the naive answer.
                 */
                for (uint64_t n2 = n - 1; n2 <= n + 1; n2 += 2) {
                        struct proof p2 = {0};
                        if (n2 <= m || n2 > NAIVE_N)
                                continue;
                        naive_path(m, 0, n2, &p2);
                        CHECK_ERR(tb_merkle_verify_inclusion(m, n2, leaf, p.h,
                                                             p.n, mth(0, n2)),
                                  proof_eq(&p, &p2) ? TB_OK : TB_E_PROOF);
                }
        }
}

static void exhaustive_consistency(uint64_t n, const uint8_t *root)
{
        uint8_t empty[TB_HASH_SIZE];

        tb_merkle_empty_root(empty);
        for (uint64_t m = 0; m <= n; m++) {
                struct proof p = {0}, q = {0}, t;
                const uint8_t *old = m == 0 ? empty : mth(0, m);

                if (m > 0 && m < n)
                        naive_subproof(m, 0, n, true, &p);
                CHECK_ERR(
                    tb_merkle_verify_consistency(m, old, n, root, p.h, p.n),
                    TB_OK);
                big.limit = n;
                big.reads = 0;
                CHECK_ERR(tb_merkle_prove_consistency(store_read, &big, m, n,
                                                      q.h, &q.n),
                          TB_OK);
                CHECK(proof_eq(&p, &q));
                CHECK(big.reads <= 2 * bitlen(n) + 1);

                for (size_t j = 0; j < p.n; j++) {
                        unsigned bit = (unsigned)(n * 13 + m * 29 + j * 11) %
                                       (8 * TB_HASH_SIZE);
                        t = p;
                        t.h[j][bit / 8] ^= (uint8_t)(1u << (bit % 8));
                        CHECK_ERR(tb_merkle_verify_consistency(m, old, n, root,
                                                               t.h, t.n),
                                  TB_E_PROOF);
                }
                /* Wrong roots. */
                memcpy(t.h[0], old, TB_HASH_SIZE);
                t.h[0][n % TB_HASH_SIZE] ^= 0x04;
                CHECK_ERR(
                    tb_merkle_verify_consistency(m, t.h[0], n, root, p.h, p.n),
                    TB_E_PROOF);
                /* (The empty tree is consistent with any root.) */
                memcpy(t.h[0], root, TB_HASH_SIZE);
                t.h[0][m % TB_HASH_SIZE] ^= 0x40;
                CHECK_ERR(
                    tb_merkle_verify_consistency(m, old, n, t.h[0], p.h, p.n),
                    m == 0 ? TB_OK : TB_E_PROOF);
                /* Truncated and extended. */
                if (p.n > 0) {
                        CHECK_ERR(tb_merkle_verify_consistency(m, old, n, root,
                                                               p.h, p.n - 1),
                                  TB_E_PROOF);
                        CHECK_ERR(tb_merkle_verify_consistency(
                                      m, old, n, root, p.h + 1, p.n - 1),
                                  TB_E_PROOF);
                }
                t = p;
                push(&t, root);
                CHECK_ERR(
                    tb_merkle_verify_consistency(m, old, n, root, t.h, t.n),
                    TB_E_PROOF);
                /* Another old size, with its root: valid iff same proof. */
                for (uint64_t m2 = m - 1; m2 <= m + 1; m2 += 2) {
                        struct proof p2 = {0};
                        if (m == 0 || m2 == 0 || m2 >= n)
                                continue;
                        naive_subproof(m2, 0, n, true, &p2);
                        CHECK_ERR(tb_merkle_verify_consistency(
                                      m2, mth(0, m2), n, root, p.h, p.n),
                                  proof_eq(&p, &p2) ? TB_OK : TB_E_PROOF);
                }
                CHECK_ERR(tb_merkle_verify_consistency(n + 1, root, n, root,
                                                       p.h, p.n),
                          TB_E_PROOF_RANGE);
        }
}

static void test_exhaustive(void)
{
        int before = check_fail;

        for (uint64_t n = 1; n <= NAIVE_N; n++) {
                uint8_t r[TB_HASH_SIZE];
                const uint8_t *root = mth(0, n);

                CHECK_ERR(tb_merkle_root(big_leaf, n, r), TB_OK);
                CHECK_MEM(r, root, TB_HASH_SIZE);
                big.limit = n;
                CHECK_ERR(tb_merkle_tree_hash(store_read, &big, n, r), TB_OK);
                CHECK_MEM(r, root, TB_HASH_SIZE);
                exhaustive_inclusion(n, root);
                exhaustive_consistency(n, root);
                if (check_fail != before) {
                        fprintf(stderr,
                                "exhaustive: failures at n=%" PRIu64 "\n", n);
                        break;
                }
        }
        CHECK(big.bad == 0);
}

/* ---- known answers ------------------------------------------------- */

static void test_hashes(void)
{
        uint8_t h[TB_HASH_SIZE], w[TB_HASH_SIZE], l[TB_HASH_SIZE];
        static const char *const leaf_hex[8] = {
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"};
        static const char *const root_hex[9] = {
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

        for (int i = 0; i < 8; i++) {
                unhex(leaf_hex[i], w, sizeof(w));
                CHECK_MEM(ct_leaf[i], w, TB_HASH_SIZE);
        }
        for (int n = 0; n <= 8; n++) {
                unhex(root_hex[n], w, sizeof(w));
                CHECK_ERR(tb_merkle_root(ct_leaf, (uint64_t)n, h), TB_OK);
                CHECK_MEM(h, w, TB_HASH_SIZE);
                ct.limit = (uint64_t)n;
                CHECK_ERR(tb_merkle_tree_hash(store_read, &ct, (uint64_t)n, h),
                          TB_OK);
                CHECK_MEM(h, w, TB_HASH_SIZE);
        }
        tb_merkle_empty_root(h);
        unhex(root_hex[0], w, sizeof(w));
        CHECK_MEM(h, w, TB_HASH_SIZE);

        /* Hasher vectors (transparency-dev/merkle rfc6962_test.go). */
        tb_merkle_leaf_hash("L123456", 7, h);
        unhex(
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56",
            w, sizeof(w));
        CHECK_MEM(h, w, TB_HASH_SIZE);
        /* node_hash may write over its inputs. */
        tb_merkle_node_hash(ct_leaf[0], ct_leaf[1], h);
        memcpy(l, ct_leaf[0], TB_HASH_SIZE);
        tb_merkle_node_hash(l, ct_leaf[1], l);
        CHECK_MEM(l, h, TB_HASH_SIZE);
        unhex(root_hex[2], w, sizeof(w));
        CHECK_MEM(h, w, TB_HASH_SIZE);

        tb_merkle_leaf_hash("hello world", 11, h);
        unb64("TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=", w);
        CHECK_MEM(h, w, TB_HASH_SIZE);
}

struct b64proof {
        const char *kind; /* "incl" or "cons" */
        uint64_t a, b;    /* incl: index, size; cons: old, new */
        const char *h[4];
};

static void proof_from_b64(const struct b64proof *v, struct proof *p)
{
        p->n = 0;
        for (int i = 0; i < 4 && v->h[i] != NULL; i++)
                unb64(v->h[i], p->h[p->n++]);
}

static void test_ct_proofs(void)
{
        /* happy-path.json of testdata/inclusion and testdata/consistency */
        static const struct b64proof v[] = {
            {"incl",
             0,
             8,
             {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
              "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
              "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}},
            {"incl",
             5,
             8,
             {"vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
              "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
              "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}},
            {"incl", 2, 3, {"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="}},
            {"incl",
             1,
             5,
             {"bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
              "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
              "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}},
            {"cons",
             1,
             8,
             {"lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
              "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
              "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="}},
            {"cons",
             6,
             8,
             {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
              "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
              "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}},
            {"cons",
             2,
             5,
             {"Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
              "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="}},
            {"cons",
             6,
             7,
             {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
              "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
              "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}},
            {"cons", 1, 1, {NULL}},
            /* Go ProveTree(7,3), ProveTree(7,4), ProveRecord(7,6) */
            {"cons",
             3,
             7,
             {"ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=",
              "B1Bqhf2d0vEg62lPhgEeW7RmLlxBWmKRcDPUqWJEh+c=",
              "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
              "g327FS6bB5AQcX6E6GXaTrwPoZioBtWdMb8VrM7yLQ4="}},
            {"cons", 4, 7, {"g327FS6bB5AQcX6E6GXaTrwPoZioBtWdMb8VrM7yLQ4="}},
            {"incl",
             6,
             7,
             {"DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
              "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="}},
        };
        uint8_t r1[TB_HASH_SIZE], r2[TB_HASH_SIZE], w[TB_HASH_SIZE];

        /* The roots the JSON files give, as a cross-check of the tree. */
        CHECK_ERR(tb_merkle_root(ct_leaf, 8, r1), TB_OK);
        unb64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", w);
        CHECK_MEM(r1, w, TB_HASH_SIZE);
        CHECK_ERR(tb_merkle_root(ct_leaf, 3, r1), TB_OK);
        unb64("rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", w);
        CHECK_MEM(r1, w, TB_HASH_SIZE);
        CHECK_ERR(tb_merkle_root(ct_leaf, 5, r1), TB_OK);
        unb64("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", w);
        CHECK_MEM(r1, w, TB_HASH_SIZE);
        CHECK_ERR(tb_merkle_root(ct_leaf, 6, r1), TB_OK);
        unb64("duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", w);
        CHECK_MEM(r1, w, TB_HASH_SIZE);
        CHECK_ERR(tb_merkle_root(ct_leaf, 7, r1), TB_OK);
        unb64("3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=", w);
        CHECK_MEM(r1, w, TB_HASH_SIZE);
        unb64("QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", w);
        CHECK_MEM(ct_leaf[5], w, TB_HASH_SIZE);

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                struct proof want, got = {0};
                proof_from_b64(&v[i], &want);
                ct.limit = v[i].b;
                if (strcmp(v[i].kind, "incl") == 0) {
                        CHECK_ERR(tb_merkle_root(ct_leaf, v[i].b, r1), TB_OK);
                        CHECK_ERR(tb_merkle_verify_inclusion(
                                      v[i].a, v[i].b, ct_leaf[v[i].a], want.h,
                                      want.n, r1),
                                  TB_OK);
                        CHECK_ERR(tb_merkle_prove_inclusion(store_read, &ct,
                                                            v[i].a, v[i].b,
                                                            got.h, &got.n),
                                  TB_OK);
                } else {
                        CHECK_ERR(tb_merkle_root(ct_leaf, v[i].a, r1), TB_OK);
                        CHECK_ERR(tb_merkle_root(ct_leaf, v[i].b, r2), TB_OK);
                        CHECK_ERR(tb_merkle_verify_consistency(
                                      v[i].a, r1, v[i].b, r2, want.h, want.n),
                                  TB_OK);
                        CHECK_ERR(tb_merkle_prove_consistency(store_read, &ct,
                                                              v[i].a, v[i].b,
                                                              got.h, &got.n),
                                  TB_OK);
                }
                CHECK(proof_eq(&want, &got));
        }
        CHECK(ct.bad == 0);
}

/* RFC 9162 2.1.5: the 7-leaf example, with the CT leaves as d0..d6. */
static void test_rfc_example(void)
{
        hash g, h, i, k, l;
        const uint8_t *a = ct_leaf[0], *b = ct_leaf[1], *c = ct_leaf[2],
                      *d = ct_leaf[3], *e = ct_leaf[4], *f = ct_leaf[5],
                      *j = ct_leaf[6];
        struct proof got;
        struct {
                int incl;
                uint64_t a;
                const uint8_t *h[4];
        } v[] = {
            {1, 0, {b, h, l}}, {1, 3, {c, g, l}},    {1, 4, {f, j, k}},
            {1, 6, {i, k}},    {0, 3, {c, d, g, l}}, {0, 4, {l}},
            {0, 6, {i, j, k}},
        };

        tb_merkle_node_hash(a, b, g);
        tb_merkle_node_hash(c, d, h);
        tb_merkle_node_hash(e, f, i);
        tb_merkle_node_hash(g, h, k);
        tb_merkle_node_hash(i, j, l);
        ct.limit = 7;
        for (size_t n = 0; n < sizeof(v) / sizeof(v[0]); n++) {
                size_t len = 0;
                got.n = 0;
                if (v[n].incl)
                        CHECK_ERR(tb_merkle_prove_inclusion(store_read, &ct,
                                                            v[n].a, 7, got.h,
                                                            &got.n),
                                  TB_OK);
                else
                        CHECK_ERR(tb_merkle_prove_consistency(store_read, &ct,
                                                              v[n].a, 7, got.h,
                                                              &got.n),
                                  TB_OK);
                while (len < 4 && v[n].h[len] != NULL)
                        len++;
                CHECK(got.n == len);
                for (size_t m = 0; m < len && m < got.n; m++)
                        CHECK_MEM(got.h[m], v[n].h[m], TB_HASH_SIZE);
        }
}

/* docs/reference digest 6.5: the 1000-entry tree, made with Go's tlog. */
static void test_big_tree(void)
{
        static const struct {
                uint64_t n;
                const char *hex;
        } roots[] = {
            {1, "1bb97dcc21635d47e2663efdfd0a174686d98dd701352dd2cd06e8b43fd3d3"
                "05"},
            {2, "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761"
                "e3"},
            {3, "d4f92c8fbb89720eb3b55677c7d7efaddfeb10d11a1a84a0ba8f1a23337faa"
                "95"},
            {7, "5a61fc2b54f9cfa71774f2432143dd40c6cb2b11947faf65a7d3da5cb65199"
                "c8"},
            {256, "cf5effdb11d0927a2edf53b0e73c7837f659414e00537da5d90eb5c4c49f"
                  "f274"},
            {257, "855b936aa00cb98b5114484249ad39d78a6be93623e26c01e8e487dc0218"
                  "4a5a"},
            {1000, "2ff33fb9d8f14f89ca306289633336a168ff3f4532e8f741a0019dcb4c1"
                   "d60a1"},
        };
        static const char *const record[] = {
            "BYrFDN48FRlN5sej8LnM/v/F3tY1TCMcuZscBHeP03I=",
            "9BGeunPsS3PkHbF/ePet4cBrI9IfWpf4UNiZ2aUSys8=",
            "q2E5FcC+wFq8aNqbGsRKLw7tEnVIcuEtXlkXP/CbYsk=",
            "qvLsXiwNnEtm92lORUEAJhTAVCk+Ml3Qe5QVomEtI5U=",
            "6YyTlgJYikZLdfyMsEqjkDPisA/rlM6I6hrCg8Ze4SE=",
            "U3A9+rI/wMUiV12V1nEqXjo3o/dJE7PAONsTmYkJzdQ=",
            "8mHiNpLZeP2sP9lJ21SVlApDeuZxuabd6aphGNADZS8=",
            "TndYvhQHCGQLIOAoJoyUaxKGfXKHvJn6bfGegnsNkAo=",
            "kruC0rsurReb94AeYHEGyOWBjlHRFVk+K9pB7pLVZNw=",
            "GegvUsbiDiiEWo4Tah2c8+rHuivcCtzMCPOW6pp8rK4="};
        static const char *const tree[] = {
            "23AQKleJ7RDDONVQoSu1zJif5WnpAtJ+ULvW0S9G9Fc=",
            "X1n6qo519Cr8Nh2miE95H8tmkTc/DpQ19dBHi3EjgwE=",
            "ibNNKsQhXlg9DwMItZXISCPIF+e1Os5a8Dk1jesDrSw=",
            "6F3FbFu2zZoffkDpG5ud07UvfzBVV+7Gir29Xsi7Eqo=",
            "UcCaPX9N6+JRB+yvX/mIdaVnv4MBPSjwgaCzuWi4aoA=",
            "EWlPpuEgEAbPNiKOJTvM+MIUPpb6x6/ZI0qndkgx2j8=",
            "x+0QQ9xnSLcS7cWqzMuYKkrAcPSugfC7u4IFQAMQWiM=",
            "z17/2xHQknou31Ow5zx4N/ZZQU4AU32l2Q61xMSf8nQ=",
            "GegvUsbiDiiEWo4Tah2c8+rHuivcCtzMCPOW6pp8rK4="};
        static const char *const tile1[3] = {
            "cf5effdb11d0927a2edf53b0e73c7837f659414e00537da5d90eb5c4c49ff274",
            "92bb82d2bb2ead179bf7801e607106c8e5818e51d115593e2bda41ee92d564dc",
            "dc6f7df665c7f7a01169bb17e52362b2032c820230bbfb08decddaf7f8626ac3"};
        uint8_t h[TB_HASH_SIZE], w[TB_HASH_SIZE], r500[TB_HASH_SIZE],
            r1000[TB_HASH_SIZE];
        struct proof got = {0}, want;

        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
                unhex(roots[i].hex, w, sizeof(w));
                big.limit = roots[i].n;
                CHECK_ERR(tb_merkle_tree_hash(store_read, &big, roots[i].n, h),
                          TB_OK);
                CHECK_MEM(h, w, TB_HASH_SIZE);
                CHECK_ERR(tb_merkle_root(big_leaf, roots[i].n, h), TB_OK);
                CHECK_MEM(h, w, TB_HASH_SIZE);
        }
        big.limit = 1000;
        CHECK_ERR(tb_merkle_tree_hash(store_read, &big, 500, r500), TB_OK);
        unb64("vPjO9eKBS1whmr2oF4TYpzzCUCUPHy2WmjFiSL0HKh8=", w);
        CHECK_MEM(r500, w, TB_HASH_SIZE);
        CHECK_ERR(tb_merkle_tree_hash(store_read, &big, 1000, r1000), TB_OK);
        unb64("L/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=", w);
        CHECK_MEM(r1000, w, TB_HASH_SIZE);
        unb64("cTRbGDcZRCbOU+cm1vaY0sGp9c8OOi6GL875S1lobGE=", w);
        CHECK_MEM(big_leaf[123], w, TB_HASH_SIZE);

        want.n = 10;
        for (size_t i = 0; i < want.n; i++)
                unb64(record[i], want.h[i]);
        CHECK_ERR(tb_merkle_prove_inclusion(store_read, &big, 123, 1000, got.h,
                                            &got.n),
                  TB_OK);
        CHECK(proof_eq(&want, &got));
        CHECK_ERR(tb_merkle_verify_inclusion(123, 1000, big_leaf[123], want.h,
                                             want.n, r1000),
                  TB_OK);

        want.n = 9;
        for (size_t i = 0; i < want.n; i++)
                unb64(tree[i], want.h[i]);
        CHECK_ERR(tb_merkle_prove_consistency(store_read, &big, 500, 1000,
                                              got.h, &got.n),
                  TB_OK);
        CHECK(proof_eq(&want, &got));
        CHECK_ERR(tb_merkle_verify_consistency(500, r500, 1000, r1000, want.h,
                                               want.n),
                  TB_OK);

        /* tile/1/000.p/3 holds the level-8 subtree hashes 0..2. */
        for (uint64_t i = 0; i < 3; i++) {
                unhex(tile1[i], w, sizeof(w));
                CHECK_MEM(big.h[8][i], w, TB_HASH_SIZE);
                CHECK_ERR(tb_merkle_subtree_hash(store_read, &big, 256 * i,
                                                 256 * (i + 1), h),
                          TB_OK);
                CHECK_MEM(h, w, TB_HASH_SIZE);
        }
        CHECK(big.bad == 0);
}

/* ---- edges: ranges, the int64 limit, reader errors ----------------- */

static enum tb_err fake_read(void *ctx, unsigned level, uint64_t index,
                             uint8_t out[TB_HASH_SIZE])
{
        unsigned long *reads = ctx;

        (*reads)++;
        memset(out, 0, TB_HASH_SIZE);
        out[0] = (uint8_t)level;
        tb_store_u64be(out + 1, index);
        return TB_OK;
}

static enum tb_err failing_read(void *ctx, unsigned level, uint64_t index,
                                uint8_t out[TB_HASH_SIZE])
{
        (void)ctx;
        (void)level;
        (void)index;
        (void)out;
        return TB_E_IO;
}

static void test_edges(void)
{
        const uint64_t max = TB_MERKLE_SIZE_MAX;
        uint8_t h[TB_HASH_SIZE], e[TB_HASH_SIZE];
        uint8_t out[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE];
        uint8_t app[TB_MERKLE_APPEND_MAX][TB_HASH_SIZE];
        size_t count = 99;
        unsigned long reads = 0;

        tb_merkle_empty_root(e);
        CHECK_ERR(tb_merkle_root(ct_leaf, max + 1, h), TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_verify_inclusion(0, max + 1, e, NULL, 0, e),
                  TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_verify_inclusion(0, 0, e, NULL, 0, e),
                  TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_verify_inclusion(0, 1, e, NULL, 0, e), TB_OK);
        CHECK_ERR(tb_merkle_verify_inclusion(0, 1, e, &e, 1, e), TB_E_PROOF);
        CHECK_ERR(tb_merkle_verify_consistency(0, e, max + 1, e, NULL, 0),
                  TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_verify_consistency(2, e, 1, e, NULL, 0),
                  TB_E_PROOF_RANGE);
        /* Size 0: the empty root, no proof. */
        CHECK_ERR(tb_merkle_verify_consistency(0, e, 0, e, NULL, 0), TB_OK);
        CHECK_ERR(tb_merkle_verify_consistency(0, e, 5, ct_leaf[0], NULL, 0),
                  TB_OK);
        CHECK_ERR(tb_merkle_verify_consistency(0, e, 5, ct_leaf[0], &e, 1),
                  TB_E_PROOF);
        CHECK_ERR(
            tb_merkle_verify_consistency(0, ct_leaf[0], 5, ct_leaf[0], NULL, 0),
            TB_E_PROOF);
        /* Equal sizes: equal roots, no proof. */
        CHECK_ERR(
            tb_merkle_verify_consistency(3, ct_leaf[1], 3, ct_leaf[1], NULL, 0),
            TB_OK);
        CHECK_ERR(
            tb_merkle_verify_consistency(3, ct_leaf[1], 3, ct_leaf[2], NULL, 0),
            TB_E_PROOF);
        CHECK_ERR(tb_merkle_verify_consistency(3, ct_leaf[1], 3, ct_leaf[1],
                                               ct_leaf, 1),
                  TB_E_PROOF);
        /* 0 < old < new needs a proof, even when old is a power of two. */
        CHECK_ERR(
            tb_merkle_verify_consistency(4, ct_leaf[1], 8, ct_leaf[1], NULL, 0),
            TB_E_PROOF);

        CHECK_ERR(tb_merkle_subtree_hash(fake_read, &reads, 3, 3, h),
                  TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_subtree_hash(fake_read, &reads, 0, max + 1, h),
                  TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_subtree_hash(fake_read, &reads, 2, 5, h),
                  TB_E_INVALID_ARG);
        CHECK_ERR(tb_merkle_subtree_hash(fake_read, &reads, 4, 7, h), TB_OK);
        CHECK_ERR(tb_merkle_tree_hash(fake_read, &reads, max + 1, h),
                  TB_E_PROOF_RANGE);
        reads = 0;
        CHECK_ERR(tb_merkle_tree_hash(fake_read, &reads, 0, h), TB_OK);
        CHECK_MEM(h, e, TB_HASH_SIZE);
        CHECK(reads == 0);

        /* The largest tree: 63 peaks, proofs within TB_MERKLE_MAX_PROOF. */
        reads = 0;
        CHECK_ERR(tb_merkle_tree_hash(fake_read, &reads, max, h), TB_OK);
        CHECK(reads == 63);
        reads = 0;
        CHECK_ERR(
            tb_merkle_prove_inclusion(fake_read, &reads, 0, max, out, &count),
            TB_OK);
        CHECK(count == 63 && reads <= 2 * 63);
        /* The last leaf is a peak: its siblings are the 62 other peaks. */
        CHECK_ERR(tb_merkle_prove_inclusion(fake_read, &reads, max - 1, max,
                                            out, &count),
                  TB_OK);
        CHECK(count == 62);
        CHECK_ERR(
            tb_merkle_prove_inclusion(fake_read, &reads, max, max, out, &count),
            TB_E_PROOF_RANGE);
        CHECK(count == 0);
        CHECK_ERR(tb_merkle_prove_inclusion(fake_read, &reads, 0, max + 1, out,
                                            &count),
                  TB_E_PROOF_RANGE);
        reads = 0;
        CHECK_ERR(tb_merkle_prove_consistency(fake_read, &reads, max - 2, max,
                                              out, &count),
                  TB_OK);
        CHECK(count >= 1 && count <= TB_MERKLE_MAX_PROOF &&
              reads <= 2 * 63 + 1);
        CHECK_ERR(tb_merkle_prove_consistency(fake_read, &reads,
                                              ((uint64_t)1 << 62) + 1, max, out,
                                              &count),
                  TB_OK);
        CHECK(count <= TB_MERKLE_MAX_PROOF);
        CHECK_ERR(
            tb_merkle_prove_consistency(fake_read, &reads, 5, 4, out, &count),
            TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_prove_consistency(fake_read, &reads, 1, max + 1,
                                              out, &count),
                  TB_E_PROOF_RANGE);
        CHECK_ERR(
            tb_merkle_prove_consistency(fake_read, &reads, 0, 9, out, &count),
            TB_OK);
        CHECK(count == 0);
        CHECK_ERR(
            tb_merkle_prove_consistency(fake_read, &reads, 9, 9, out, &count),
            TB_OK);
        CHECK(count == 0);

        /* Append at the limit. */
        CHECK_ERR(tb_merkle_append(fake_read, &reads, max, e, app, &count),
                  TB_E_PROOF_RANGE);
        CHECK_ERR(tb_merkle_append(fake_read, &reads, max - 1, e, app, &count),
                  TB_OK);
        CHECK(count == 1);
        CHECK_ERR(tb_merkle_append(fake_read, &reads, ((uint64_t)1 << 62) - 1,
                                   e, app, &count),
                  TB_OK);
        CHECK(count == 63);

        /* Reader errors pass through. */
        CHECK_ERR(tb_merkle_tree_hash(failing_read, NULL, 5, h), TB_E_IO);
        CHECK_ERR(
            tb_merkle_prove_inclusion(failing_read, NULL, 1, 5, out, &count),
            TB_E_IO);
        CHECK_ERR(
            tb_merkle_prove_consistency(failing_read, NULL, 3, 5, out, &count),
            TB_E_IO);
        CHECK_ERR(tb_merkle_append(failing_read, NULL, 3, e, app, &count),
                  TB_E_IO);
        CHECK_ERR(tb_merkle_append(failing_read, NULL, 2, e, app, &count),
                  TB_OK);
}

/* ---- docs/transparency.md ------------------------------------------ */

static const uint8_t (*doc_tree(const struct docvec *v, uint64_t *n))[32]
{
        const char *t = docvec_str(v, "tree");

        if (strcmp(t, "ct") == 0) {
                *n = 8;
                return (const uint8_t(*)[32])ct_leaf;
        }
        if (strcmp(t, "leaf-i") == 0) {
                *n = BIG_N;
                return (const uint8_t(*)[32])big_leaf;
        }
        fprintf(stderr, "vector %s: unknown tree %s\n", v->name, t);
        exit(2);
}

static uint64_t doc_u64(const struct docvec *v, const char *key)
{
        return strtoull(docvec_str(v, key), NULL, 10);
}

/* A hex value that must be exactly n bytes. */
static uint8_t *doc_hex(const struct docvec *v, const char *key, size_t n)
{
        size_t len;
        uint8_t *p = docvec_hex(v, key, &len);

        if (len != n) {
                fprintf(stderr, "vector %s: %s: %zu bytes, want %zu\n", v->name,
                        key, len, n);
                exit(2);
        }
        return p;
}

static struct proof doc_proof(const struct docvec *v)
{
        struct proof p = {0};
        size_t len = 0;
        uint8_t *b;

        if (strcmp(docvec_str(v, "proof"), "-") == 0)
                return p;
        b = docvec_hex(v, "proof", &len);
        if (len % TB_HASH_SIZE != 0 || len / TB_HASH_SIZE > TB_MERKLE_MAX_PROOF)
                exit(2);
        p.n = len / TB_HASH_SIZE;
        memcpy(p.h, b, len);
        free(b);
        return p;
}

static void check_doc_vector(struct docvec *v)
{
        const char *type = docvec_str(v, "type");
        uint8_t h[TB_HASH_SIZE];
        uint64_t tn;

        if (strcmp(type, "leaf-hash") == 0) {
                size_t len;
                uint8_t *d = docvec_hex(v, "data", &len);
                uint8_t *w = doc_hex(v, "hash", TB_HASH_SIZE);
                tb_merkle_leaf_hash(d, len, h);
                CHECK_MEM(h, w, TB_HASH_SIZE);
                free(d);
                free(w);
        } else if (strcmp(type, "node-hash") == 0) {
                uint8_t *l = doc_hex(v, "left", TB_HASH_SIZE);
                uint8_t *r = doc_hex(v, "right", TB_HASH_SIZE);
                uint8_t *w = doc_hex(v, "hash", TB_HASH_SIZE);
                tb_merkle_node_hash(l, r, h);
                CHECK_MEM(h, w, TB_HASH_SIZE);
                free(l);
                free(r);
                free(w);
        } else if (strcmp(type, "empty-root") == 0) {
                uint8_t *w = doc_hex(v, "hash", TB_HASH_SIZE);
                tb_merkle_empty_root(h);
                CHECK_MEM(h, w, TB_HASH_SIZE);
                free(w);
        } else if (strcmp(type, "tree-root") == 0) {
                const uint8_t(*leaves)[32] = doc_tree(v, &tn);
                uint64_t n = doc_u64(v, "size");
                uint8_t *w = doc_hex(v, "root", TB_HASH_SIZE);
                CHECK(n <= tn); /* a doc's size past its tree fails here */
                if (n <= tn) {
                        CHECK_ERR(tb_merkle_root(leaves, n, h), TB_OK);
                        CHECK_MEM(h, w, TB_HASH_SIZE);
                }
                free(w);
        } else if (strcmp(type, "inclusion") == 0) {
                const uint8_t(*leaves)[32] = doc_tree(v, &tn);
                struct store *s = tn == 8 ? &ct : &big;
                uint64_t n = doc_u64(v, "size"), i = doc_u64(v, "index");
                uint8_t *leaf = doc_hex(v, "leaf-hash", TB_HASH_SIZE);
                uint8_t *root = doc_hex(v, "root", TB_HASH_SIZE);
                struct proof want = doc_proof(v), got = {0};
                CHECK(n <= tn && i < n);
                if (!(n <= tn && i < n)) { /* a bad doc: no reads past it */
                        free(leaf);
                        free(root);
                        return;
                }
                CHECK_MEM(leaves[i], leaf, TB_HASH_SIZE);
                CHECK_ERR(tb_merkle_root(leaves, n, h), TB_OK);
                CHECK_MEM(h, root, TB_HASH_SIZE);
                CHECK_ERR(tb_merkle_verify_inclusion(i, n, leaf, want.h, want.n,
                                                     root),
                          TB_OK);
                s->limit = n;
                CHECK_ERR(tb_merkle_prove_inclusion(store_read, s, i, n, got.h,
                                                    &got.n),
                          TB_OK);
                CHECK(proof_eq(&want, &got));
                free(leaf);
                free(root);
        } else if (strcmp(type, "consistency") == 0) {
                const uint8_t(*leaves)[32] = doc_tree(v, &tn);
                struct store *s = tn == 8 ? &ct : &big;
                uint64_t o = doc_u64(v, "old-size"), n = doc_u64(v, "new-size");
                uint8_t *ro = doc_hex(v, "old-root", TB_HASH_SIZE);
                uint8_t *rn = doc_hex(v, "new-root", TB_HASH_SIZE);
                struct proof want = doc_proof(v), got = {0};
                CHECK(o <= n && n <= tn);
                if (!(o <= n && n <= tn)) {
                        free(ro);
                        free(rn);
                        return;
                }
                CHECK_ERR(tb_merkle_root(leaves, o, h), TB_OK);
                CHECK_MEM(h, ro, TB_HASH_SIZE);
                CHECK_ERR(tb_merkle_root(leaves, n, h), TB_OK);
                CHECK_MEM(h, rn, TB_HASH_SIZE);
                CHECK_ERR(
                    tb_merkle_verify_consistency(o, ro, n, rn, want.h, want.n),
                    TB_OK);
                s->limit = n;
                CHECK_ERR(tb_merkle_prove_consistency(store_read, s, o, n,
                                                      got.h, &got.n),
                          TB_OK);
                CHECK(proof_eq(&want, &got));
                free(ro);
                free(rn);
        } else if (strcmp(type, "append") == 0) {
                const uint8_t(*leaves)[32] = doc_tree(v, &tn);
                struct store *s = tn == 8 ? &ct : &big;
                uint64_t n = doc_u64(v, "n");
                size_t len, count = 0;
                uint8_t *w = docvec_hex(v, "hashes", &len);
                uint8_t out[TB_MERKLE_APPEND_MAX][TB_HASH_SIZE];
                CHECK(n < tn);
                if (n >= tn) {
                        free(w);
                        return;
                }
                s->limit = n;
                CHECK_ERR(
                    tb_merkle_append(store_read, s, n, leaves[n], out, &count),
                    TB_OK);
                CHECK(count * TB_HASH_SIZE == len);
                CHECK(count * TB_HASH_SIZE == len && memcmp(out, w, len) == 0);
                /* Each is the stored hash (level i, index n >> i). */
                for (size_t i = 0; i < count; i++)
                        CHECK_MEM(out[i], s->h[i][n >> i], TB_HASH_SIZE);
                free(w);
        } else if (strcmp(type, "checkpoint") == 0) {
                const uint8_t(*leaves)[32] = doc_tree(v, &tn);
                struct tb_checkpoint cp, got;
                struct tb_skey *k = NULL;
                struct tb_vkey vk;
                uint8_t out[TB_CHECKPOINT_MAX], *seed, *note;
                size_t note_len, out_len = 0, nb;
                const char *origin = docvec_str(v, "origin");
                memset(&cp, 0, sizeof(cp));
                cp.origin_len = strlen(origin);
                CHECK(cp.origin_len <= TB_NAME_MAX);
                memcpy(cp.origin, origin, cp.origin_len);
                cp.size = doc_u64(v, "size");
                CHECK(cp.size <= tn);
                if (cp.size > tn)
                        return;
                CHECK_ERR(tb_merkle_root(leaves, cp.size, cp.root), TB_OK);
                CHECK_ERR(tb_b64_decode(docvec_str(v, "root"),
                                        strlen(docvec_str(v, "root")), h,
                                        sizeof(h), &nb),
                          TB_OK);
                CHECK_MEM(h, cp.root, TB_HASH_SIZE);
                seed = doc_hex(v, "seed", TB_KEY_SEED_SIZE);
                note = docvec_hex(v, "note", &note_len);
                CHECK_ERR(tb_skey_from_seed(origin, cp.origin_len, seed, &k),
                          TB_OK);
                if (k != NULL) {
                        CHECK_ERR(tb_checkpoint_sign(&cp, k, out, sizeof(out),
                                                     &out_len),
                                  TB_OK);
                        CHECK(out_len == note_len &&
                              memcmp(out, note, note_len) == 0);
                        tb_skey_public(k, &vk);
                        CHECK_ERR(tb_checkpoint_open(note, note_len, origin,
                                                     &vk, &got),
                                  TB_OK);
                        CHECK(got.size == cp.size);
                        CHECK_MEM(got.root, cp.root, TB_HASH_SIZE);
                }
                tb_skey_free(k);
                free(seed);
                free(note);
        } else {
                fprintf(stderr, "vector %s: unknown type %s\n", v->name, type);
                CHECK(0);
        }
}

static void test_docs(void)
{
        static struct docvec_set set;

        docvec_load(&set, "docs/transparency.md");
        CHECK(set.n > 0);
        for (int i = 0; i < set.n; i++)
                check_doc_vector(docvec_get(&set, set.v[i].name));
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
}

int main(void)
{
        if (sodium_init() < 0)
                return 2;
        make_trees();
        test_hashes();
        test_ct_proofs();
        test_rfc_example();
        test_big_tree();
        test_edges();
        test_exhaustive();
        test_docs();
        return check_done("test_merkle");
}
