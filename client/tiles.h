/*
 * client/tiles.h - a log's C2SP tlog-tiles in memory and on disk: the tile
 * tree recomputed from the entries, the files of a tiles directory
 * (written atomically, read back strictly), the entries as a list.
 *
 * The byte formats (tile paths, entry bundles) are proto/tile.h; this file
 * is what the CLI's export and audit, and the tests' forger, do with them.
 * docs/audit.md describes the directory.
 *
 * Functions returning int answer 0, or -1 after writing why into err
 * (TILES_ERR_MAX bytes, NUL-terminated, naming the file or tile).
 */
#ifndef TB_TILES_H
#define TB_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "tile.h"

#define TILES_ERR_MAX 512
#define TILES_LEVELS  8 /* tile levels kept: 256^8 = 2^64 leaves */

/* The log's entries (records), each its own allocation. */
struct tiles_entries {
        uint64_t n, cap;
        uint8_t **data;
        size_t *len;
};

/* Append a copy of p[0..len).  -1 only when out of memory. */
int tiles_entries_add(struct tiles_entries *e, const uint8_t *p, size_t len);

/* Free every entry and forget them (e stays usable, empty). */
void tiles_entries_free(struct tiles_entries *e);

/*
 * The tile tree of a log of n leaves: hash[L][i] is the hash at tile
 * level L, index i, that is MTH of leaves i*256^L .. (i+1)*256^L - 1;
 * count[L] = floor(n / 256^L) of them exist (level 0: the leaf hashes).
 */
struct tiles_tree {
        uint64_t n;
        uint64_t count[TILES_LEVELS];
        uint8_t (*hash[TILES_LEVELS])[TB_HASH_SIZE];
};

/*
 * Build the tree of the entries e (leaf hash = H(0x00 || entry)).  Returns
 * 0, or -1 when out of memory (t is then empty).
 */
int tiles_tree_build(const struct tiles_entries *e, struct tiles_tree *t);

void tiles_tree_free(struct tiles_tree *t);

/*
 * A tb_merkle_read_fn over a built tree (ctx = the tree): any complete
 * subtree of its n leaves, read from the stored tile-level hashes.
 */
enum tb_err tiles_tree_read_cb(void *ctx, unsigned level, uint64_t index,
                               uint8_t out[TB_HASH_SIZE]);

/* The root of the first size leaves (size <= t->n).  TB_OK or an error. */
TB_WUR enum tb_err tiles_tree_root(const struct tiles_tree *t, uint64_t size,
                                   uint8_t out[TB_HASH_SIZE]);

/*
 * One tile the tree of size n implies: at level (or TB_TILE_ENTRIES),
 * number k, width w (256 = full).  tiles_each calls cb for every tile of
 * the tree, the entry bundles first, then level 0, 1, ... and returns the
 * first non-zero cb answer, or 0.
 */
typedef int (*tiles_each_cb)(void *ctx, int level, uint64_t k, unsigned w);
int tiles_each(uint64_t n, tiles_each_cb cb, void *ctx);

/* What tiles_write did. */
struct tiles_written {
        uint64_t written,
            kept; /* files written; full tiles left as they were */
};

/*
 * Write the tiles of t and e (t->n == e->n) under dir: every tile the
 * tree implies, each to a temporary name, fsynced, then renamed.  A full
 * tile already present is never rewritten but compared: a difference is
 * an error (the directory holds another history); with rewrite (the
 * tests' forger) everything is written.  A partial tile present with the
 * same bytes is kept.  The checkpoint is not written: see
 * tiles_write_checkpoint, to call last.
 */
int tiles_write(const char *dir, const struct tiles_tree *t,
                const struct tiles_entries *e, int rewrite,
                struct tiles_written *w, char *err);

/* Write dir/checkpoint atomically (temporary name, fsync, rename, fsync
 * of the directory). */
int tiles_write_checkpoint(const char *dir, const uint8_t *note, size_t len,
                           char *err);

/*
 * Read the file dir/rel whole into *out (malloc'd, the caller frees),
 * refusing more than max bytes.  dir may be an http(s):// prefix
 * (client/tiles_http.h).  Returns 0, -1 (err says why; errno ENOENT if it
 * does not exist).
 */
int tiles_read_file(const char *dir, const char *rel, size_t max, uint8_t **out,
                    size_t *len, char *err);

/*
 * Read every entry bundle of a log of n entries from dir into e (which
 * must be empty): bundle k must hold exactly its width of entries, no
 * byte more.
 */
int tiles_read_entries(const char *dir, uint64_t n, struct tiles_entries *e,
                       char *err);

/*
 * Compare every hash tile in dir with the tree t (the tiles of size t->n):
 * each must exist with exactly its width of hashes, each equal to the
 * recomputed one.  The first difference names the tile and the index.
 */
int tiles_check(const char *dir, const struct tiles_tree *t, char *err);

#endif
