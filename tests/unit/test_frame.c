/*
 * tests/unit/test_frame.c - the incremental frame decoder (docs/protocol.md,
 * "Frames"): any chunking of a valid stream yields the same payloads; an
 * empty or oversize frame is detected at its fourth length byte; a stream
 * that ends inside a frame is truncated; errors are sticky.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "check.h"
#include "frame.h"

#define NFRAMES 6

static uint8_t stream[4 * NFRAMES + 1 + 2 + 300 + 4096 + 65536 + 5];
static size_t stream_len;
static size_t frame_lens[NFRAMES] = {1, 2, 300, 4096, TB_FRAME_MAX, 5};
static size_t frame_off[NFRAMES]; /* payload offsets in stream */

static void build_stream(void)
{
        size_t off = 0;

        for (int i = 0; i < NFRAMES; i++) {
                CHECK(tb_frame_header(frame_lens[i], stream + off) == TB_OK);
                off += TB_FRAME_HEADER;
                frame_off[i] = off;
                for (size_t k = 0; k < frame_lens[i]; k++)
                        stream[off + k] = (uint8_t)(i * 31 + k * 7);
                off += frame_lens[i];
        }
        stream_len = off;
}

static uint64_t rng = 88172645463325252u;

static size_t rnd(size_t max)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (size_t)(rng % max) + 1;
}

/*
 * Feed the stream in chunks (chunk(i) gives the size of the next one) and
 * check that exactly the frames come out, in order, and finish is OK.
 * Returns the number of frames seen.
 */
static int feed_all(size_t (*chunk)(size_t), size_t max)
{
        static uint8_t buf[TB_FRAME_MAX];
        struct tb_frame_decoder d;
        size_t pos = 0;
        int seen = 0, bad = 0;

        if (tb_frame_decoder_init(&d, buf, max) != TB_OK)
                return -1;
        while (pos < stream_len) {
                size_t n = chunk(stream_len - pos), off = 0;
                if (n > stream_len - pos)
                        n = stream_len - pos;
                /* one chunk may hold several frames: call until used up */
                while (off < n) {
                        const uint8_t *f;
                        size_t used, flen;
                        if (tb_frame_decoder_feed(&d, stream + pos + off,
                                                  n - off, &used, &f,
                                                  &flen) != TB_OK)
                                return -1;
                        if (used == 0)
                                return -1;
                        off += used;
                        if (f != NULL) {
                                if (seen >= NFRAMES ||
                                    flen != frame_lens[seen] ||
                                    memcmp(f, stream + frame_off[seen], flen) !=
                                        0)
                                        bad++;
                                seen++;
                        }
                }
                pos += n;
        }
        if (bad || tb_frame_decoder_finish(&d) != TB_OK)
                return -1;
        return seen;
}

static size_t chunk_one(size_t left)
{
        (void)left;
        return 1;
}

static size_t chunk_all(size_t left)
{
        return left;
}

static size_t chunk_random(size_t left)
{
        (void)left;
        return rnd(rnd(2) == 1 ? 7 : 9000);
}

static size_t chunk_three(size_t left)
{
        (void)left;
        return 3;
}

static void test_chunkings(void)
{
        /* one byte at a time */
        CHECK(feed_all(chunk_one, TB_FRAME_MAX) == NFRAMES);
        /* everything at once: several frames in one buffer */
        CHECK(feed_all(chunk_all, TB_FRAME_MAX) == NFRAMES);
        /* 3-byte chunks split every header */
        CHECK(feed_all(chunk_three, TB_FRAME_MAX) == NFRAMES);
        /* random chunkings, fixed seed */
        for (int i = 0; i < 200; i++)
                CHECK(feed_all(chunk_random, TB_FRAME_MAX) == NFRAMES);
}

/* Feed header bytes one at a time; returns the error and where it came. */
static enum tb_err feed_header(struct tb_frame_decoder *d, uint32_t len,
                               size_t *at)
{
        uint8_t h[4];
        const uint8_t *f;
        size_t used, flen;
        enum tb_err err = TB_OK;

        tb_store_u32be(h, len);
        *at = 0;
        for (size_t i = 0; i < 4; i++) {
                err = tb_frame_decoder_feed(d, h + i, 1, &used, &f, &flen);
                *at = i + 1;
                if (err != TB_OK)
                        break;
                if (used != 1 || f != NULL)
                        return TB_E_INVALID_ARG;
        }
        return err;
}

static void test_header_errors(void)
{
        static uint8_t buf[TB_FRAME_MAX];
        struct tb_frame_decoder d;
        size_t at, used, flen;
        const uint8_t *f;
        uint8_t in[8] = {0, 0, 0, 0, 1, 2, 3, 4};

        /* zero length: TB_E_FRAME_EMPTY at the 4th byte */
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        CHECK_ERR(feed_header(&d, 0, &at), TB_E_FRAME_EMPTY);
        CHECK(at == 4);
        /* ... and also when the header comes in one chunk with more bytes:
         * only the 4 header bytes are consumed */
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        CHECK_ERR(tb_frame_decoder_feed(&d, in, 8, &used, &f, &flen),
                  TB_E_FRAME_EMPTY);
        CHECK(used == 4 && f == NULL);
        /* sticky: every later call fails the same way and consumes nothing */
        CHECK_ERR(tb_frame_decoder_feed(&d, in + 4, 4, &used, &f, &flen),
                  TB_E_FRAME_EMPTY);
        CHECK(used == 0 && f == NULL);
        CHECK_ERR(tb_frame_decoder_finish(&d), TB_E_FRAME_EMPTY);

        /* oversize detected after exactly 4 bytes: TB_FRAME_MAX + 1 and
         * 4 GiB - 1, before any payload arrives */
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        CHECK_ERR(feed_header(&d, TB_FRAME_MAX + 1, &at), TB_E_FRAME_OVERSIZE);
        CHECK(at == 4);
        CHECK_ERR(tb_frame_decoder_feed(&d, in, 8, &used, &f, &flen),
                  TB_E_FRAME_OVERSIZE);
        CHECK(used == 0);
        CHECK_ERR(tb_frame_decoder_finish(&d), TB_E_FRAME_OVERSIZE);
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        CHECK_ERR(feed_header(&d, UINT32_MAX, &at), TB_E_FRAME_OVERSIZE);
        CHECK(at == 4);

        /* the limit is the receiver's: exactly max accepted, max+1 not */
        CHECK(tb_frame_decoder_init(&d, buf, 100) == TB_OK);
        CHECK_ERR(feed_header(&d, 101, &at), TB_E_FRAME_OVERSIZE);
        CHECK(at == 4);
        CHECK(tb_frame_decoder_init(&d, buf, 100) == TB_OK);
        CHECK(feed_header(&d, 100, &at) == TB_OK);
        {
                uint8_t p[100];
                memset(p, 0xab, sizeof(p));
                CHECK(tb_frame_decoder_feed(&d, p, 100, &used, &f, &flen) ==
                      TB_OK);
                CHECK(used == 100 && f == buf && flen == 100 &&
                      memcmp(f, p, 100) == 0);
        }
        CHECK(tb_frame_decoder_finish(&d) == TB_OK);
        /* TB_FRAME_MAX itself is accepted with the full limit */
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        CHECK(feed_header(&d, TB_FRAME_MAX, &at) == TB_OK);
        /* a limit of 1 accepts 1-byte frames only */
        CHECK(tb_frame_decoder_init(&d, buf, 1) == TB_OK);
        CHECK_ERR(feed_header(&d, 2, &at), TB_E_FRAME_OVERSIZE);
}

static void test_truncation(void)
{
        static uint8_t buf[TB_FRAME_MAX];
        struct tb_frame_decoder d;
        const uint8_t *f;
        size_t used, flen;
        uint8_t fr[4 + 10];

        CHECK(tb_frame_header(10, fr) == TB_OK);
        memset(fr + 4, 'x', 10);
        /* the stream ends after k bytes: between frames (k = 0 or 14) is
         * fine, anywhere else (header: 1..3, payload: 4..13) truncated */
        for (size_t k = 0; k <= sizeof(fr); k++) {
                CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
                CHECK(tb_frame_decoder_feed(&d, fr, k, &used, &f, &flen) ==
                      TB_OK);
                CHECK(used == k);
                CHECK((f != NULL) == (k == sizeof(fr)));
                CHECK_ERR(tb_frame_decoder_finish(&d),
                          (k == 0 || k == sizeof(fr)) ? TB_OK
                                                      : TB_E_FRAME_TRUNCATED);
        }
        /* after a complete frame, a partial next header is truncated */
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        CHECK(tb_frame_decoder_feed(&d, fr, sizeof(fr), &used, &f, &flen) ==
              TB_OK);
        CHECK(f != NULL && flen == 10);
        CHECK(tb_frame_decoder_feed(&d, fr, 2, &used, &f, &flen) == TB_OK);
        CHECK(used == 2 && f == NULL);
        CHECK_ERR(tb_frame_decoder_finish(&d), TB_E_FRAME_TRUNCATED);
        /* feeding nothing after a frame starts nothing */
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        CHECK(tb_frame_decoder_feed(&d, fr, sizeof(fr), &used, &f, &flen) ==
              TB_OK);
        CHECK(tb_frame_decoder_feed(&d, fr, 0, &used, &f, &flen) == TB_OK);
        CHECK(used == 0 && f == NULL);
        CHECK(tb_frame_decoder_finish(&d) == TB_OK);
        /* one call yields one frame: the second stays unread */
        {
                uint8_t two[28];
                memcpy(two, fr, 14);
                memcpy(two + 14, fr, 14);
                CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
                CHECK(tb_frame_decoder_feed(&d, two, 28, &used, &f, &flen) ==
                      TB_OK);
                CHECK(used == 14 && f != NULL);
                CHECK(tb_frame_decoder_feed(&d, two + 14, 14, &used, &f,
                                            &flen) == TB_OK);
                CHECK(used == 14 && f != NULL && flen == 10);
                CHECK(tb_frame_decoder_finish(&d) == TB_OK);
        }
}

static void test_init_and_header_args(void)
{
        static uint8_t buf[16];
        struct tb_frame_decoder d;
        uint8_t h[4];

        /* init: max 1..TB_FRAME_MAX and a buffer */
        CHECK_ERR(tb_frame_decoder_init(&d, buf, 0), TB_E_INVALID_ARG);
        CHECK_ERR(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX + 1),
                  TB_E_INVALID_ARG);
        CHECK_ERR(tb_frame_decoder_init(&d, NULL, 16), TB_E_INVALID_ARG);
        CHECK(tb_frame_decoder_init(&d, buf, 1) == TB_OK);
        CHECK(tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) == TB_OK);
        /* a fresh decoder has not started a frame */
        CHECK(tb_frame_decoder_finish(&d) == TB_OK);
        /* tb_frame_header: 1..TB_FRAME_MAX, big-endian */
        CHECK_ERR(tb_frame_header(0, h), TB_E_INVALID_ARG);
        CHECK_ERR(tb_frame_header(TB_FRAME_MAX + 1, h), TB_E_INVALID_ARG);
        CHECK(tb_frame_header(1, h) == TB_OK);
        CHECK(h[0] == 0 && h[1] == 0 && h[2] == 0 && h[3] == 1);
        CHECK(tb_frame_header(TB_FRAME_MAX, h) == TB_OK);
        CHECK(h[0] == 0 && h[1] == 1 && h[2] == 0 && h[3] == 0);
        CHECK(tb_frame_header(0x1234, h) == TB_OK);
        CHECK(h[0] == 0 && h[1] == 0 && h[2] == 0x12 && h[3] == 0x34);
}

int main(void)
{
        build_stream();
        test_chunkings();
        test_header_errors();
        test_truncation();
        test_init_and_header_args();
        return check_done("test_frame");
}
