/*
 * tests/fuzz/fuzz_frame.c - the frame decoder against a reference model.
 *
 * The input is a byte stream from a peer.  It is decoded three ways for each
 * of two limits: by a twenty-line model of frame.h's contract, by feeding it
 * in one piece, and by feeding it in chunks whose sizes come from the input's
 * own bytes (including zero-length feeds).  All three must yield the same
 * payloads, the same sticky error at the same frame, and the same
 * tb_frame_decoder_finish() result; no payload may be empty or exceed the
 * limit, and every feed must make progress and never claim to consume more
 * than it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct model_frame {
        size_t off;
        size_t len;
};

struct outcome {
        size_t frames;   /* payloads yielded */
        enum tb_err err; /* error of the last feed, TB_OK if none */
        enum tb_err fin; /* tb_frame_decoder_finish() */
};

/* What frame.h promises, written as plainly as possible. */
static struct outcome model(const uint8_t *data, size_t size, size_t max,
                            struct model_frame *frames)
{
        struct outcome o = {0, TB_OK, TB_OK};
        size_t pos = 0;

        for (;;) {
                size_t left = size - pos;
                uint32_t n;

                if (left == 0)
                        return o;
                if (left < TB_FRAME_HEADER) {
                        o.fin = TB_E_FRAME_TRUNCATED;
                        return o;
                }
                n = tb_load_u32be(data + pos);
                if (n == 0 || n > max) {
                        o.err = n == 0 ? TB_E_FRAME_EMPTY : TB_E_FRAME_OVERSIZE;
                        o.fin = o.err;
                        return o;
                }
                if (left - TB_FRAME_HEADER < n) {
                        o.fin = TB_E_FRAME_TRUNCATED;
                        return o;
                }
                frames[o.frames].off = pos + TB_FRAME_HEADER;
                frames[o.frames].len = n;
                o.frames++;
                pos += TB_FRAME_HEADER + n;
        }
}

/*
 * The size of the k-th chunk: a byte of the input read backwards, so the
 * fuzzer controls the split through the tail while mutating frames at the
 * head.  0 means a zero-length feed, but never more than two in a row.
 */
static size_t chunk_size(const uint8_t *data, size_t size, size_t k, int *zeros)
{
        size_t n;

        if (size == 0)
                return 1;
        n = data[size - 1 - k % size] % 40u;
        if (n == 0 && ++*zeros > 2)
                n = 1;
        if (n != 0)
                *zeros = 0;
        return n;
}

static struct outcome run(const uint8_t *data, size_t size, size_t max,
                          int chunked, const struct model_frame *want,
                          size_t nwant, uint8_t *buf)
{
        struct tb_frame_decoder d;
        struct outcome o = {0, TB_OK, TB_OK};
        size_t pos = 0, k = 0;
        int zeros = 0;

        if (tb_frame_decoder_init(&d, buf, max) != TB_OK)
                abort();
        while (pos < size) {
                size_t len = size - pos, used;
                const uint8_t *frame;
                size_t frame_len;
                enum tb_err err;

                if (chunked) {
                        size_t c = chunk_size(data, size, k++, &zeros);
                        if (c < len)
                                len = c;
                }
                err = tb_frame_decoder_feed(&d, data + pos, len, &used, &frame,
                                            &frame_len);
                if (used > len)
                        abort();
                if (err != TB_OK) {
                        o.err = err;
                        break;
                }
                if (len > 0 && used == 0)
                        abort(); /* no progress: a caller would spin */
                pos += used;
                if (frame == NULL)
                        continue;
                if (frame != buf || frame_len == 0 || frame_len > max)
                        abort();
                if (o.frames >= nwant || frame_len != want[o.frames].len ||
                    memcmp(frame, data + want[o.frames].off, frame_len) != 0)
                        abort();
                o.frames++;
        }
        o.fin = tb_frame_decoder_finish(&d);
        if (o.err != TB_OK) {
                /* sticky: later feeds and finish fail the same way */
                size_t used;
                const uint8_t *frame;
                size_t frame_len;
                enum tb_err again = tb_frame_decoder_feed(&d, data, size, &used,
                                                          &frame, &frame_len);
                if (again != o.err || used != 0 || frame != NULL ||
                    o.fin != o.err)
                        abort();
        }
        return o;
}

static int same(struct outcome a, struct outcome b)
{
        return a.frames == b.frames && a.err == b.err && a.fin == b.fin;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* A small limit derived from the input exercises OVERSIZE. */
        size_t limits[2] = {TB_FRAME_MAX, 1 + (size > 0 ? data[0] % 64u : 0)};
        struct model_frame *want;

        want = malloc((size / (TB_FRAME_HEADER + 1) + 1) * sizeof(*want));
        if (want == NULL)
                abort();
        for (int i = 0; i < 2; i++) {
                size_t max = limits[i];
                /* exactly max bytes, so ASan sees any write past the limit */
                uint8_t *buf = malloc(max);
                if (buf == NULL)
                        abort();
                struct outcome m = model(data, size, max, want);
                struct outcome whole =
                    run(data, size, max, 0, want, m.frames, buf);
                struct outcome split =
                    run(data, size, max, 1, want, m.frames, buf);

                if (!same(whole, m) || !same(split, whole))
                        abort();
                free(buf);
        }
        free(want);
        return 0;
}
