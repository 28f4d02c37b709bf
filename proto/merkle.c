/*
 * proto/merkle.c - RFC 6962 hashing, proof checking and proof generation.
 *
 * Verification is a literal transcription of RFC 9162 2.1.3.2 and 2.1.4.2.
 * Generation walks the RFC recursion (PATH, SUBPROOF) top-down as a loop,
 * collecting one hash per level, and reverses the list at the end to get
 * the RFC's bottom-up order.  Every hash it needs is either a complete
 * subtree (one stored hash) or the single incomplete subtree on the tree's
 * right edge, which is folded from the stored "peaks" once.
 */
#include "merkle.h"

#include <sodium.h>
#include <string.h>

void tb_merkle_leaf_hash(const void *data, size_t len,
                         uint8_t out[TB_HASH_SIZE])
{
        static const uint8_t prefix = 0x00;
        crypto_hash_sha256_state st;

        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, &prefix, 1);
        crypto_hash_sha256_update(&st, data, len);
        crypto_hash_sha256_final(&st, out);
}

void tb_merkle_node_hash(const uint8_t left[TB_HASH_SIZE],
                         const uint8_t right[TB_HASH_SIZE],
                         uint8_t out[TB_HASH_SIZE])
{
        uint8_t in[1 + 2 * TB_HASH_SIZE];

        in[0] = 0x01;
        memcpy(in + 1, left, TB_HASH_SIZE);
        memcpy(in + 1 + TB_HASH_SIZE, right, TB_HASH_SIZE);
        crypto_hash_sha256(out, in, sizeof(in));
}

void tb_merkle_empty_root(uint8_t out[TB_HASH_SIZE])
{
        crypto_hash_sha256(out, NULL, 0);
}

enum tb_err tb_merkle_root(const uint8_t (*leaves)[TB_HASH_SIZE], uint64_t n,
                           uint8_t out[TB_HASH_SIZE])
{
        uint8_t stack[64][TB_HASH_SIZE];
        unsigned top = 0;

        if (n > TB_MERKLE_SIZE_MAX)
                return TB_E_PROOF_RANGE;
        if (n == 0) {
                tb_merkle_empty_root(out);
                return TB_OK;
        }
        /* RFC 9162 2.1.2: each trailing 1-bit of i closes a subtree. */
        for (uint64_t i = 0; i < n; i++) {
                memcpy(stack[top++], leaves[i], TB_HASH_SIZE);
                for (uint64_t j = i; j & 1; j >>= 1) {
                        top--;
                        tb_merkle_node_hash(stack[top - 1], stack[top],
                                            stack[top - 1]);
                }
        }
        while (top > 1) {
                top--;
                tb_merkle_node_hash(stack[top - 1], stack[top], stack[top - 1]);
        }
        memcpy(out, stack[0], TB_HASH_SIZE);
        return TB_OK;
}

static int hash_eq(const uint8_t a[TB_HASH_SIZE], const uint8_t b[TB_HASH_SIZE])
{
        return memcmp(a, b, TB_HASH_SIZE) == 0;
}

enum tb_err tb_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                       const uint8_t leaf_hash[TB_HASH_SIZE],
                                       const uint8_t (*proof)[TB_HASH_SIZE],
                                       size_t count,
                                       const uint8_t root[TB_HASH_SIZE])
{
        uint8_t r[TB_HASH_SIZE];
        uint64_t fn, sn;

        if (size > TB_MERKLE_SIZE_MAX || index >= size)
                return TB_E_PROOF_RANGE;
        fn = index;
        sn = size - 1;
        memcpy(r, leaf_hash, TB_HASH_SIZE);
        for (size_t i = 0; i < count; i++) {
                if (sn == 0)
                        return TB_E_PROOF;
                if ((fn & 1) || fn == sn) {
                        tb_merkle_node_hash(proof[i], r, r);
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        tb_merkle_node_hash(r, proof[i], r);
                }
                fn >>= 1;
                sn >>= 1;
        }
        return sn == 0 && hash_eq(r, root) ? TB_OK : TB_E_PROOF;
}

static int is_pow2(uint64_t x)
{
        return x != 0 && (x & (x - 1)) == 0;
}

enum tb_err tb_merkle_verify_consistency(uint64_t old_size,
                                         const uint8_t old_root[TB_HASH_SIZE],
                                         uint64_t new_size,
                                         const uint8_t new_root[TB_HASH_SIZE],
                                         const uint8_t (*proof)[TB_HASH_SIZE],
                                         size_t count)
{
        uint8_t fr[TB_HASH_SIZE], sr[TB_HASH_SIZE];
        uint64_t fn, sn;
        size_t i;

        if (new_size > TB_MERKLE_SIZE_MAX || old_size > new_size)
                return TB_E_PROOF_RANGE;
        if (old_size == 0) {
                tb_merkle_empty_root(fr);
                return count == 0 && hash_eq(old_root, fr) ? TB_OK : TB_E_PROOF;
        }
        if (old_size == new_size)
                return count == 0 && hash_eq(old_root, new_root) ? TB_OK
                                                                 : TB_E_PROOF;
        if (count == 0)
                return TB_E_PROOF;
        /* Step 2 prepends old_root; seeding from it avoids the copy. */
        if (is_pow2(old_size)) {
                memcpy(fr, old_root, TB_HASH_SIZE);
                i = 0;
        } else {
                memcpy(fr, proof[0], TB_HASH_SIZE);
                i = 1;
        }
        memcpy(sr, fr, TB_HASH_SIZE);
        fn = old_size - 1;
        sn = new_size - 1;
        while (fn & 1) {
                fn >>= 1;
                sn >>= 1;
        }
        for (; i < count; i++) {
                if (sn == 0)
                        return TB_E_PROOF;
                if ((fn & 1) || fn == sn) {
                        tb_merkle_node_hash(proof[i], fr, fr);
                        tb_merkle_node_hash(proof[i], sr, sr);
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        tb_merkle_node_hash(sr, proof[i], sr);
                }
                fn >>= 1;
                sn >>= 1;
        }
        return sn == 0 && hash_eq(fr, old_root) && hash_eq(sr, new_root)
                   ? TB_OK
                   : TB_E_PROOF;
}

/* The largest power of two strictly below n, for n >= 2: the RFC's k. */
static uint64_t split_point(uint64_t n)
{
        return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

enum tb_err tb_merkle_subtree_hash(tb_merkle_read_fn read, void *ctx,
                                   uint64_t lo, uint64_t hi,
                                   uint8_t out[TB_HASH_SIZE])
{
        uint8_t peaks[63][TB_HASH_SIZE];
        uint64_t n, width, off;
        unsigned npeaks = 0;
        enum tb_err err;

        if (hi > TB_MERKLE_SIZE_MAX || lo >= hi)
                return TB_E_PROOF_RANGE;
        n = hi - lo;
        width = n == 1 ? 1 : split_point(n) << 1;
        if (lo % width != 0)
                return TB_E_INVALID_ARG;
        /*
         * MTH of a non-power-of-two range is its complete peaks (the set
         * bits of n, largest first) folded from the right.
         */
        off = lo;
        for (int b = 62; b >= 0; b--) {
                if (!(n >> b & 1))
                        continue;
                err = read(ctx, (unsigned)b, off >> b, peaks[npeaks]);
                if (err != TB_OK)
                        return err;
                npeaks++;
                off += (uint64_t)1 << b;
        }
        while (npeaks > 1) {
                npeaks--;
                tb_merkle_node_hash(peaks[npeaks - 1], peaks[npeaks],
                                    peaks[npeaks - 1]);
        }
        memcpy(out, peaks[0], TB_HASH_SIZE);
        return TB_OK;
}

enum tb_err tb_merkle_tree_hash(tb_merkle_read_fn read, void *ctx,
                                uint64_t size, uint8_t out[TB_HASH_SIZE])
{
        if (size > TB_MERKLE_SIZE_MAX)
                return TB_E_PROOF_RANGE;
        if (size == 0) {
                tb_merkle_empty_root(out);
                return TB_OK;
        }
        return tb_merkle_subtree_hash(read, ctx, 0, size, out);
}

static void reverse(uint8_t (*h)[TB_HASH_SIZE], size_t n)
{
        uint8_t t[TB_HASH_SIZE];

        for (size_t i = 0; i < n / 2; i++) {
                memcpy(t, h[i], TB_HASH_SIZE);
                memcpy(h[i], h[n - 1 - i], TB_HASH_SIZE);
                memcpy(h[n - 1 - i], t, TB_HASH_SIZE);
        }
}

enum tb_err tb_merkle_prove_inclusion(
    tb_merkle_read_fn read, void *ctx, uint64_t index, uint64_t size,
    uint8_t out[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE], size_t *count)
{
        uint64_t lo = 0, hi = size, k;
        size_t n = 0;
        enum tb_err err;

        *count = 0;
        if (size > TB_MERKLE_SIZE_MAX || index >= size)
                return TB_E_PROOF_RANGE;
        while (hi - lo > 1) {
                k = split_point(hi - lo);
                if (index < lo + k) {
                        err = tb_merkle_subtree_hash(read, ctx, lo + k, hi,
                                                     out[n]);
                        hi = lo + k;
                } else {
                        err = tb_merkle_subtree_hash(read, ctx, lo, lo + k,
                                                     out[n]);
                        lo += k;
                }
                if (err != TB_OK)
                        return err;
                n++;
        }
        reverse(out, n);
        *count = n;
        return TB_OK;
}

enum tb_err tb_merkle_prove_consistency(
    tb_merkle_read_fn read, void *ctx, uint64_t old_size, uint64_t new_size,
    uint8_t out[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE], size_t *count)
{
        uint64_t lo = 0, hi = new_size, k;
        size_t n = 0;
        int whole = 1; /* SUBPROOF's b: still on the old tree's root path */
        enum tb_err err;

        *count = 0;
        if (new_size > TB_MERKLE_SIZE_MAX || old_size > new_size)
                return TB_E_PROOF_RANGE;
        if (old_size == 0)
                return TB_OK;
        while (old_size < hi) {
                k = split_point(hi - lo);
                if (old_size <= lo + k) {
                        err = tb_merkle_subtree_hash(read, ctx, lo + k, hi,
                                                     out[n]);
                        hi = lo + k;
                } else {
                        err = tb_merkle_subtree_hash(read, ctx, lo, lo + k,
                                                     out[n]);
                        lo += k;
                        whole = 0;
                }
                if (err != TB_OK)
                        return err;
                n++;
        }
        if (!whole) {
                err = tb_merkle_subtree_hash(read, ctx, lo, hi, out[n]);
                if (err != TB_OK)
                        return err;
                n++;
        }
        reverse(out, n);
        *count = n;
        return TB_OK;
}

enum tb_err tb_merkle_append(tb_merkle_read_fn read, void *ctx, uint64_t n,
                             const uint8_t leaf_hash[TB_HASH_SIZE],
                             uint8_t out[TB_MERKLE_APPEND_MAX][TB_HASH_SIZE],
                             size_t *count)
{
        uint8_t left[TB_HASH_SIZE];
        size_t c = 1;
        enum tb_err err;

        *count = 0;
        if (n >= TB_MERKLE_SIZE_MAX)
                return TB_E_PROOF_RANGE;
        memcpy(out[0], leaf_hash, TB_HASH_SIZE);
        for (unsigned level = 0; (n >> level) & 1; level++) {
                err = read(ctx, level, (n >> level) - 1, left);
                if (err != TB_OK)
                        return err;
                tb_merkle_node_hash(left, out[c - 1], out[c]);
                c++;
        }
        *count = c;
        return TB_OK;
}
