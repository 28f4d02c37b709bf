/*
 * proto/merkle.h - the RFC 6962 / RFC 9162 section 2.1 Merkle tree over the
 * ledger, with SHA-256.  Entry i of the ledger is leaf i.
 *
 *   leaf hash    H(0x00 || entry)
 *   node hash    H(0x01 || left || right)          (65 bytes hashed)
 *   empty tree   H("")                             (not the leaf hash of "")
 *   MTH(D[0:n])  split at k = largest power of two < n: left = D[0:k]
 *
 * These are the hashes of Go's golang.org/x/mod/sumdb/tlog (RecordHash,
 * NodeHash, TreeHash) and of C2SP tlog-tiles, so Go's CheckRecord/CheckTree
 * accept the proofs produced here and vice versa.
 *
 * Sizes and indices are uint64_t but must not exceed TB_MERKLE_SIZE_MAX
 * (2^63 - 1, Go's int64): every function returns TB_E_PROOF_RANGE beyond.
 *
 * Stored subtree hashes (the contract with the ledger)
 * ----------------------------------------------------
 * A "complete subtree" (level l, index i) covers the 2^l leaves
 * D[i*2^l, (i+1)*2^l); its hash is MTH of that range (level 0 = leaf hash).
 * The ledger stores the hash of every complete subtree of its tree, keyed by
 * (level, index), and never changes one once written (it only depends on
 * leaves that never change).  Appending leaf n (the tree grows from n to n+1
 * leaves) completes exactly the subtrees tb_merkle_append() returns: the
 * leaf itself, then one per trailing 1-bit of n.  A tree of n leaves thus
 * holds 2n - popcount(n) stored hashes (Go's StoredHashCount), and the key
 * layout is the ledger's choice (Go's StoredHashIndex(level, index) is one
 * dense option).
 *
 * Proof generation reads those hashes through a tb_merkle_read_fn callback.
 * For a tree of `size` leaves it only asks for subtrees lying entirely
 * inside D[0:size), so a reader backed by a ledger of at least `size`
 * entries can always answer; any hash of an incomplete right edge is
 * recomputed from the stored complete subtrees (at most 63 reads).  Every
 * function below makes O(log size) reads.
 */
#ifndef TB_MERKLE_H
#define TB_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TB_HASH_SIZE 32

/* Largest tree size and leaf index + 1 (Go's int64). */
#define TB_MERKLE_SIZE_MAX ((uint64_t)INT64_MAX)

/*
 * Hashes in the longest proof for a size <= TB_MERKLE_SIZE_MAX: an
 * inclusion proof has at most 63, a consistency proof at most 64.
 */
#define TB_MERKLE_MAX_PROOF 65

/* Hashes tb_merkle_append() can return: the leaf and up to 63 nodes. */
#define TB_MERKLE_APPEND_MAX 64

/* H(0x00 || data): the leaf hash of one ledger entry. */
void tb_merkle_leaf_hash(const void *data, size_t len,
                         uint8_t out[TB_HASH_SIZE]);

/* H(0x01 || left || right).  out may alias left or right. */
void tb_merkle_node_hash(const uint8_t left[TB_HASH_SIZE],
                         const uint8_t right[TB_HASH_SIZE],
                         uint8_t out[TB_HASH_SIZE]);

/* H(""): the root of the empty tree. */
void tb_merkle_empty_root(uint8_t out[TB_HASH_SIZE]);

/*
 * The root of the tree whose leaf hashes are leaves[0..n) (n = 0 gives the
 * empty root).  Incremental, no recursion, 64 hashes of stack.
 *
 * Errors: TB_E_PROOF_RANGE (n > TB_MERKLE_SIZE_MAX).
 */
TB_WUR enum tb_err tb_merkle_root(const uint8_t (*leaves)[TB_HASH_SIZE],
                                  uint64_t n, uint8_t out[TB_HASH_SIZE]);

/*
 * Check that leaf_hash is leaf `index` of the tree of `size` leaves whose
 * root is `root`, given the inclusion proof proof[0..count) (RFC 9162
 * 2.1.3.2; the leaf's sibling first).  For size 1 the proof is empty and
 * the root is the leaf hash.
 *
 * Errors: TB_E_PROOF_RANGE (index >= size, or size > TB_MERKLE_SIZE_MAX),
 *         TB_E_PROOF (the proof does not verify).
 */
TB_WUR enum tb_err
tb_merkle_verify_inclusion(uint64_t index, uint64_t size,
                           const uint8_t leaf_hash[TB_HASH_SIZE],
                           const uint8_t (*proof)[TB_HASH_SIZE], size_t count,
                           const uint8_t root[TB_HASH_SIZE]);

/*
 * Check that the tree of old_size leaves with root old_root is a prefix of
 * the tree of new_size leaves with root new_root, given the consistency
 * proof proof[0..count) (RFC 9162 2.1.4.2).  Cases outside the RFC:
 *   old_size == new_size: valid iff count == 0 and the roots are equal;
 *   old_size == 0: valid iff count == 0 and old_root is the empty root
 *   (the empty tree is a prefix of every tree; tlog-witness rules).
 *
 * Errors: TB_E_PROOF_RANGE (old_size > new_size, or new_size >
 *         TB_MERKLE_SIZE_MAX), TB_E_PROOF (the proof does not verify).
 */
TB_WUR enum tb_err tb_merkle_verify_consistency(
    uint64_t old_size, const uint8_t old_root[TB_HASH_SIZE], uint64_t new_size,
    const uint8_t new_root[TB_HASH_SIZE], const uint8_t (*proof)[TB_HASH_SIZE],
    size_t count);

/*
 * Reader of stored subtree hashes: write into out the hash of the complete
 * subtree (level, index), i.e. MTH(D[index*2^level, (index+1)*2^level)),
 * and return TB_OK, or return an error that the calling function passes
 * through unchanged (the ledger's choice of code: a missing hash means a
 * corrupt store).  level is at most 62.
 */
typedef enum tb_err (*tb_merkle_read_fn)(void *ctx, unsigned level,
                                         uint64_t index,
                                         uint8_t out[TB_HASH_SIZE]);

/*
 * MTH(D[lo:hi]) from stored hashes: one read if the range is a complete
 * subtree, else popcount(hi - lo) reads folded right to left.  The range
 * must be one the RFC recursion uses: lo < hi and lo a multiple of the
 * smallest power of two >= hi - lo.
 *
 * Errors: TB_E_PROOF_RANGE (lo >= hi, hi > TB_MERKLE_SIZE_MAX),
 *         TB_E_INVALID_ARG (lo not aligned as above), the reader's errors.
 */
TB_WUR enum tb_err tb_merkle_subtree_hash(tb_merkle_read_fn read, void *ctx,
                                          uint64_t lo, uint64_t hi,
                                          uint8_t out[TB_HASH_SIZE]);

/*
 * The root of the tree of `size` leaves (the empty root for 0, without a
 * read).
 *
 * Errors: TB_E_PROOF_RANGE (size > TB_MERKLE_SIZE_MAX), the reader's errors.
 */
TB_WUR enum tb_err tb_merkle_tree_hash(tb_merkle_read_fn read, void *ctx,
                                       uint64_t size,
                                       uint8_t out[TB_HASH_SIZE]);

/*
 * The inclusion proof of leaf `index` in the tree of `size` leaves, in RFC
 * 9162 2.1.3.1 order (leaf's sibling first, root's child last), the same
 * as Go's tlog.ProveRecord.  *count gets the number of hashes (<= 63).
 * Makes at most 2 * 63 reads.
 *
 * Errors: TB_E_PROOF_RANGE (index >= size or size > TB_MERKLE_SIZE_MAX),
 *         the reader's errors.
 */
TB_WUR enum tb_err tb_merkle_prove_inclusion(
    tb_merkle_read_fn read, void *ctx, uint64_t index, uint64_t size,
    uint8_t out[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE], size_t *count);

/*
 * The consistency proof from the tree of old_size leaves to the tree of
 * new_size leaves, in RFC 9162 2.1.4.1 order, the same as Go's
 * tlog.ProveTree(new_size, old_size).  Empty when old_size is 0 or equal
 * to new_size (the cases tb_merkle_verify_consistency accepts that way).
 * *count gets the number of hashes (<= 64).
 *
 * Errors: TB_E_PROOF_RANGE (old_size > new_size or new_size >
 *         TB_MERKLE_SIZE_MAX), the reader's errors.
 */
TB_WUR enum tb_err tb_merkle_prove_consistency(
    tb_merkle_read_fn read, void *ctx, uint64_t old_size, uint64_t new_size,
    uint8_t out[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE], size_t *count);

/*
 * The stored hashes that appending leaf n (hash leaf_hash) completes, for
 * a tree that already stores every complete subtree of D[0:n]: out[i] is
 * the hash of (level i, index n >> i), for i in 0..*count-1, where
 * *count = 1 + the number of trailing 1-bits of n.  out[0] is leaf_hash.
 * Reads the left siblings (level i, index (n >> i) - 1), one per node.
 * The caller stores all of them in the same transaction as the entry.
 *
 * Errors: TB_E_PROOF_RANGE (n >= TB_MERKLE_SIZE_MAX: the tree would
 *         outgrow int64), the reader's errors.
 */
TB_WUR enum tb_err
tb_merkle_append(tb_merkle_read_fn read, void *ctx, uint64_t n,
                 const uint8_t leaf_hash[TB_HASH_SIZE],
                 uint8_t out[TB_MERKLE_APPEND_MAX][TB_HASH_SIZE],
                 size_t *count);

#endif
