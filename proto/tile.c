/*
 * proto/tile.c - tlog-tiles paths and entry bundles (proto/tile.h).
 *
 * N is split into groups of three digits, least significant first, and
 * printed most significant first: every group but the last gets an 'x'.
 */
#include "tile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "merkle.h"

/* Append fmt's output at out[*used..cap), keeping count; -1 if cut. */
static int tile_put(char *out, size_t cap, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int tile_put(char *out, size_t cap, size_t *used, const char *fmt, ...)
{
        va_list ap;
        int len;

        va_start(ap, fmt);
        len = vsnprintf(out + *used, cap - *used, fmt, ap);
        va_end(ap);
        if (len < 0 || (size_t)len >= cap - *used)
                return -1;
        *used += (size_t)len;
        return 0;
}

enum tb_err tb_tile_path(int level, uint64_t n, unsigned w, char *out,
                         size_t cap)
{
        unsigned group[7];
        int k = 0, bad;
        size_t used = 0;

        if (level < TB_TILE_ENTRIES || level > TB_TILE_LEVEL_MAX || w == 0 ||
            w > TB_TILE_WIDTH || n > TB_MERKLE_SIZE_MAX / TB_TILE_WIDTH)
                return TB_E_INVALID_ARG;
        if (cap == 0)
                return TB_E_OVERFLOW;
        do {
                group[k++] = (unsigned)(n % 1000);
                n /= 1000;
        } while (n > 0);
        if (level == TB_TILE_ENTRIES)
                bad = tile_put(out, cap, &used, "tile/entries/");
        else
                bad = tile_put(out, cap, &used, "tile/%d/", level);
        while (!bad && --k > 0)
                bad = tile_put(out, cap, &used, "x%03u/", group[k]);
        if (!bad)
                bad = tile_put(out, cap, &used, "%03u", group[0]);
        if (!bad && w < TB_TILE_WIDTH)
                bad = tile_put(out, cap, &used, ".p/%u", w);
        return bad ? TB_E_OVERFLOW : TB_OK;
}

/* A decimal without leading zeros, 1..max ("0" only if zero_ok). */
static int tile_decimal(const char **s, uint64_t max, int zero_ok,
                        uint64_t *out)
{
        const char *p = *s;
        uint64_t v = 0;

        if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
                return -1;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (max - (uint64_t)(*p - '0')) / 10)
                        return -1;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (v == 0 && !zero_ok)
                return -1;
        *s = p;
        *out = v;
        return 0;
}

enum tb_err tb_tile_path_parse(const char *path, int *level, uint64_t *n,
                               unsigned *w)
{
        const char *p = path;
        uint64_t v = 0, lv, wv = TB_TILE_WIDTH;
        int groups = 0;

        if (strncmp(p, "tile/", 5) != 0)
                return TB_E_INVALID_ARG;
        p += 5;
        if (strncmp(p, "entries/", 8) == 0) {
                *level = TB_TILE_ENTRIES;
                p += 8;
        } else {
                if (tile_decimal(&p, TB_TILE_LEVEL_MAX, 1, &lv) != 0 ||
                    *p++ != '/')
                        return TB_E_INVALID_ARG;
                *level = (int)lv;
        }
        for (;;) {
                int x = *p == 'x';
                unsigned d = 0;
                p += x;
                for (int i = 0; i < 3; i++, p++) {
                        if (*p < '0' || *p > '9')
                                return TB_E_INVALID_ARG;
                        d = d * 10 + (unsigned)(*p - '0');
                }
                if (groups == 0 && x && d == 0)
                        return TB_E_INVALID_ARG;
                if (++groups > 7 || v > (UINT64_MAX - d) / 1000)
                        return TB_E_INVALID_ARG;
                v = v * 1000 + d;
                if (!x)
                        break;
                if (*p++ != '/')
                        return TB_E_INVALID_ARG;
        }
        if (strncmp(p, ".p/", 3) == 0) {
                p += 3;
                if (tile_decimal(&p, TB_TILE_WIDTH - 1, 0, &wv) != 0)
                        return TB_E_INVALID_ARG;
        }
        if (*p != 0 || v > TB_MERKLE_SIZE_MAX / TB_TILE_WIDTH)
                return TB_E_INVALID_ARG;
        *n = v;
        *w = (unsigned)wv;
        return TB_OK;
}

enum tb_err tb_bundle_append(uint8_t *out, size_t cap, size_t *used,
                             const uint8_t *entry, size_t len)
{
        if (len > TB_TILE_ENTRY_MAX)
                return TB_E_TOO_LARGE;
        if (cap < *used || cap - *used < 2 + len)
                return TB_E_OVERFLOW;
        out[*used] = (uint8_t)(len >> 8);
        out[*used + 1] = (uint8_t)len;
        if (len > 0)
                memcpy(out + *used + 2, entry, len);
        *used += 2 + len;
        return TB_OK;
}

enum tb_err tb_bundle_next(const uint8_t *p, size_t len, size_t *off,
                           const uint8_t **entry, size_t *entry_len)
{
        size_t n;

        if (*off > len || len - *off < 2)
                return TB_E_TRUNCATED;
        n = (size_t)p[*off] << 8 | p[*off + 1];
        if (len - *off - 2 < n)
                return TB_E_TRUNCATED;
        *entry = p + *off + 2;
        *entry_len = n;
        *off += 2 + n;
        return TB_OK;
}
