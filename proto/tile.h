/*
 * proto/tile.h - C2SP tlog-tiles byte formats: where a tile lives (its
 * path) and what an entry bundle holds.  docs/audit.md specifies both with
 * test vectors (tests/unit/test_tiles.c reads them); the reference is
 * c2sp.org/tlog-tiles.
 *
 * A tile holds up to TB_TILE_WIDTH consecutive hashes of one level of the
 * tile tree, concatenated raw (32 bytes each).  Tile level 0 holds leaf
 * hashes; a hash at tile level L covers 256^L leaves.  Tile N of level L
 * holds the hashes N*256 .. N*256+W-1 of its level; a full tile has W =
 * 256, a partial one 1..255 and a path ending in ".p/W".
 *
 * Paths (relative to the log's prefix, no leading slash):
 *   tile/<L>/<N>[.p/<W>]          hash tiles, L = 0..63
 *   tile/entries/<N>[.p/<W>]      entry bundles
 * N is written in groups of three digits, all but the last prefixed 'x':
 * 1234067 is x001/x234/067, 5 is 005, 1000 is x001/000.
 *
 * A bundle is, for each entry of the tile, a big-endian u16 length and
 * the entry's bytes (our entries are log records, at most 65,535 bytes).
 */
#ifndef TB_TILE_H
#define TB_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TB_TILE_HEIGHT    8
#define TB_TILE_WIDTH     256 /* hashes or entries in a full tile */
#define TB_TILE_LEVEL_MAX 63
#define TB_TILE_ENTRIES   (-1) /* the "level" of entry bundles */
#define TB_TILE_ENTRY_MAX 65535u

_Static_assert(TB_TILE_WIDTH == 1 << TB_TILE_HEIGHT, "tile width");

/*
 * Longest path: "tile/entries/" + 7 groups of "x999/" (N < 2^63 has at
 * most 19 digits) + ".p/255", and the NUL.
 */
#define TB_TILE_PATH_MAX 64

/*
 * Write the path of tile n at level (0..63, or TB_TILE_ENTRIES) with
 * width w (1..256; 256 = full, no ".p/") into out.
 *
 * Errors: TB_E_INVALID_ARG (level, width or n out of range: n above
 *         TB_MERKLE_SIZE_MAX / 256), TB_E_OVERFLOW (cap too small).
 */
TB_WUR enum tb_err tb_tile_path(int level, uint64_t n, unsigned w, char *out,
                                size_t cap);

/*
 * Parse a tile path as tb_tile_path writes it, strictly (the canonical
 * form only: no leading zeros in L or W, exactly three digits a group, a
 * first group that is not x000, W below 256).
 *
 * Errors: TB_E_INVALID_ARG.
 */
TB_WUR enum tb_err tb_tile_path_parse(const char *path, int *level, uint64_t *n,
                                      unsigned *w);

/*
 * Append one entry (len <= TB_TILE_ENTRY_MAX) to the bundle out[0..*used)
 * of cap bytes.  Errors: TB_E_TOO_LARGE, TB_E_OVERFLOW (out untouched).
 */
TB_WUR enum tb_err tb_bundle_append(uint8_t *out, size_t cap, size_t *used,
                                    const uint8_t *entry, size_t len);

/*
 * The next entry of the bundle p[0..len) at *off: *entry and *entry_len
 * borrow from p, *off moves past it.  Returns TB_OK, or TB_E_TRUNCATED
 * when the length or the bytes run past the end.  *off == len means the
 * bundle is read.
 */
TB_WUR enum tb_err tb_bundle_next(const uint8_t *p, size_t len, size_t *off,
                                  const uint8_t **entry, size_t *entry_len);

#endif
