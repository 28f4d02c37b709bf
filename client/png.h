/*
 * client/png.h - the smallest PNG writer the receipt slip needs: a
 * black-and-white picture (1-bit grayscale, PNG 1.2 / ISO 15948), its
 * pixels in zlib "stored" blocks, so no compression library is needed.
 * A QR code's picture is a few kilobytes either way.
 */
#ifndef TB_PNG_H
#define TB_PNG_H

#include <stddef.h>
#include <stdint.h>

/* The widest and tallest picture png_encode makes (pixels). */
#define PNG_SIDE_MAX 4096

/*
 * Encode the w x h picture dark[y * w + x] (non-zero: black) as a PNG.
 * Returns a malloc'd buffer of *len bytes, or NULL if w or h is 0 or
 * above PNG_SIDE_MAX or memory runs out.
 */
uint8_t *png_encode(const uint8_t *dark, uint32_t w, uint32_t h, size_t *len);

/* The CRC-32 of PNG chunks (ISO 3309, as zlib's crc32), of p[0..n). */
uint32_t png_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
