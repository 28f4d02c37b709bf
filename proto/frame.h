/*
 * proto/frame.h - length-prefixed frames on the Unix socket.
 *
 *   frame = u32 big-endian payload length || payload
 *
 * The payload length is 1..TB_FRAME_MAX (64 KiB); a zero length and a length
 * above the receiver's limit are protocol errors, detected as soon as the
 * four length bytes arrive (before any payload is buffered), after which the
 * peer is dropped.  The decoder accepts the stream in chunks of any size,
 * including one byte at a time, and yields whole payloads.
 */
#ifndef TB_FRAME_H
#define TB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TB_FRAME_HEADER 4
#define TB_FRAME_MAX    65536

struct tb_frame_decoder {
        uint8_t *buf; /* caller's buffer of max bytes for one payload */
        size_t max;   /* largest payload accepted, 1..TB_FRAME_MAX */
        uint8_t hdr[TB_FRAME_HEADER];
        size_t hdr_have;
        size_t need;     /* payload length of the frame being read, 0 = none */
        size_t have;     /* payload bytes buffered */
        int ready;       /* a complete payload is in buf */
        enum tb_err err; /* sticky */
};

/*
 * Prepare d to read payloads of at most max bytes into buf (max bytes).
 * Errors: TB_E_INVALID_ARG if max is 0 or above TB_FRAME_MAX.
 */
TB_WUR enum tb_err tb_frame_decoder_init(struct tb_frame_decoder *d,
                                         uint8_t *buf, size_t max);

/*
 * Feed up to len bytes.  Consumes bytes until one payload completes or the
 * input is exhausted; *used gets the bytes consumed.  When a payload is
 * complete, *frame and *frame_len point at it (valid until the next call),
 * otherwise *frame is NULL.  Call again with the rest of the input.
 * Errors (sticky: every later call fails the same way):
 * TB_E_FRAME_EMPTY, TB_E_FRAME_OVERSIZE.
 */
TB_WUR enum tb_err tb_frame_decoder_feed(struct tb_frame_decoder *d,
                                         const uint8_t *in, size_t len,
                                         size_t *used, const uint8_t **frame,
                                         size_t *frame_len);

/*
 * The stream ended: TB_OK if it ended between frames, TB_E_FRAME_TRUNCATED
 * if inside one, or the sticky error.
 */
TB_WUR enum tb_err tb_frame_decoder_finish(const struct tb_frame_decoder *d);

/* Write the 4-byte header for a payload of len bytes (1..TB_FRAME_MAX). */
TB_WUR enum tb_err tb_frame_header(size_t len, uint8_t hdr[TB_FRAME_HEADER]);

#endif
