/*
 * proto/frame.c - the incremental frame decoder.
 *
 * The length is checked the moment its fourth byte arrives, so a hostile
 * peer announcing 4 GiB costs four bytes of memory, not a buffer.
 */
#include <string.h>

#include "buf.h"
#include "frame.h"

enum tb_err tb_frame_decoder_init(struct tb_frame_decoder *d, uint8_t *buf,
                                  size_t max)
{
        memset(d, 0, sizeof(*d));
        if (buf == NULL || max == 0 || max > TB_FRAME_MAX)
                return TB_E_INVALID_ARG;
        d->buf = buf;
        d->max = max;
        return TB_OK;
}

enum tb_err tb_frame_decoder_feed(struct tb_frame_decoder *d, const uint8_t *in,
                                  size_t len, size_t *used,
                                  const uint8_t **frame, size_t *frame_len)
{
        size_t off = 0;

        *used = 0;
        *frame = NULL;
        *frame_len = 0;
        if (d->err != TB_OK)
                return d->err;
        if (d->ready) {
                /* the previous payload was handed out: start the next one */
                d->ready = 0;
                d->hdr_have = 0;
                d->need = 0;
                d->have = 0;
        }
        while (off < len && d->hdr_have < TB_FRAME_HEADER)
                d->hdr[d->hdr_have++] = in[off++];
        if (d->hdr_have == TB_FRAME_HEADER && d->need == 0) {
                uint32_t n = tb_load_u32be(d->hdr);
                if (n == 0)
                        d->err = TB_E_FRAME_EMPTY;
                else if (n > d->max)
                        d->err = TB_E_FRAME_OVERSIZE;
                if (d->err != TB_OK) {
                        *used = off;
                        return d->err;
                }
                d->need = n;
        }
        if (d->need > 0) {
                size_t take = d->need - d->have;
                if (take > len - off)
                        take = len - off;
                if (take > 0)
                        memcpy(d->buf + d->have, in + off, take);
                d->have += take;
                off += take;
                if (d->have == d->need) {
                        d->ready = 1;
                        *frame = d->buf;
                        *frame_len = d->have;
                }
        }
        *used = off;
        return TB_OK;
}

enum tb_err tb_frame_decoder_finish(const struct tb_frame_decoder *d)
{
        if (d->err != TB_OK)
                return d->err;
        if (d->ready || (d->hdr_have == 0 && d->have == 0))
                return TB_OK;
        return TB_E_FRAME_TRUNCATED;
}

enum tb_err tb_frame_header(size_t len, uint8_t hdr[TB_FRAME_HEADER])
{
        if (len == 0 || len > TB_FRAME_MAX)
                return TB_E_INVALID_ARG;
        tb_store_u32be(hdr, (uint32_t)len);
        return TB_OK;
}
