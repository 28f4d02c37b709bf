/*
 * client/png.c - a PNG of 1-bit gray pixels: signature, IHDR, one IDAT
 * holding a zlib stream of stored (uncompressed) deflate blocks, IEND.
 * Written from the PNG and zlib/deflate specifications (RFC 1950, 1951).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "png.h"

#define PNG_STORED_MAX 65535 /* bytes in one stored deflate block */

uint32_t png_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
        crc = ~crc;
        for (size_t i = 0; i < n; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
        return ~crc;
}

static uint32_t png_adler32(const uint8_t *p, size_t n)
{
        uint32_t a = 1, b = 0;

        for (size_t i = 0; i < n; i++) {
                a = (a + p[i]) % 65521u;
                b = (b + a) % 65521u;
        }
        return (b << 16) | a;
}

/* One chunk: length, type, data, CRC over type and data. */
static void png_chunk(struct tb_wbuf *w, const char *type, const uint8_t *d,
                      size_t n)
{
        size_t start;

        tb_put_u32(w, (uint32_t)n);
        start = w->len;
        tb_put_bytes(w, type, 4);
        tb_put_bytes(w, d, n);
        if (w->err == TB_OK)
                tb_put_u32(w, png_crc32(0, w->p + start, 4 + n));
}

uint8_t *png_encode(const uint8_t *dark, uint32_t w, uint32_t h, size_t *len)
{
        size_t row = 1 + (w + 7) / 8, raw_len, blocks, z_len, cap;
        uint8_t *raw, *z, *out, ihdr[13];
        struct tb_wbuf zb, ob;

        if (w == 0 || h == 0 || w > PNG_SIDE_MAX || h > PNG_SIDE_MAX)
                return NULL;
        raw_len = row * h;
        blocks = (raw_len + PNG_STORED_MAX - 1) / PNG_STORED_MAX;
        z_len = 2 + blocks * 5 + raw_len + 4;
        cap = 8 + (12 + 13) + (12 + z_len) + 12;
        raw = calloc(1, raw_len);
        z = malloc(z_len);
        out = malloc(cap);
        if (raw == NULL || z == NULL || out == NULL)
                goto fail;
        /* each row: filter type 0, then 8 pixels a byte, white = 1 */
        for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w; x++)
                        if (!dark[(size_t)y * w + x])
                                raw[y * row + 1 + x / 8] |=
                                    (uint8_t)(0x80u >> (x % 8));
        tb_wbuf_init(&zb, z, z_len);
        tb_put_u8(&zb, 0x78); /* deflate, 32 KiB window */
        tb_put_u8(&zb, 0x01); /* no dictionary; 0x7801 % 31 == 0 */
        for (size_t off = 0; off < raw_len; off += PNG_STORED_MAX) {
                size_t n = raw_len - off < PNG_STORED_MAX ? raw_len - off
                                                          : PNG_STORED_MAX;
                tb_put_u8(&zb, off + n == raw_len ? 1 : 0); /* BFINAL, stored */
                tb_put_u8(&zb, (uint8_t)(n & 0xff));        /* LEN, LSB first */
                tb_put_u8(&zb, (uint8_t)(n >> 8));
                tb_put_u8(&zb, (uint8_t)(~n & 0xff)); /* NLEN */
                tb_put_u8(&zb, (uint8_t)((~n >> 8) & 0xff));
                tb_put_bytes(&zb, raw + off, n);
        }
        tb_put_u32(&zb, png_adler32(raw, raw_len));
        tb_store_u32be(ihdr, w);
        tb_store_u32be(ihdr + 4, h);
        memcpy(ihdr + 8, "\x01\x00\x00\x00\x00", 5); /* 1-bit gray */
        tb_wbuf_init(&ob, out, cap);
        tb_put_bytes(&ob, "\x89PNG\r\n\x1a\n", 8);
        png_chunk(&ob, "IHDR", ihdr, sizeof(ihdr));
        png_chunk(&ob, "IDAT", z, zb.len);
        png_chunk(&ob, "IEND", NULL, 0);
        if (zb.err != TB_OK || ob.err != TB_OK)
                goto fail;
        free(raw);
        free(z);
        *len = ob.len;
        return out;
fail:
        free(raw);
        free(z);
        free(out);
        return NULL;
}
