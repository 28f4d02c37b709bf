/*
 * proto/buf.h - bounds-checked cursors for every byte format in timebank.
 *
 * All integers on the wire and in the ledger are big-endian (network order,
 * the same as the frame length and the tlog-tiles bundle lengths).  Both
 * cursors carry a sticky error: after the first failure every further call is
 * a no-op, so an encoder or decoder is a straight list of put/get calls
 * followed by one check.  A decoder always ends with tb_rbuf_end(), which
 * fails with TB_E_TRAILING when bytes are left: formats are strict.
 *
 *   struct tb_rbuf r;
 *   tb_rbuf_init(&r, data, len);
 *   v = tb_get_u8(&r); t = tb_get_u64(&r);
 *   if ((err = tb_rbuf_end(&r)) != TB_OK) return err;
 */
#ifndef TB_BUF_H
#define TB_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

struct tb_wbuf {
        uint8_t *p;      /* output buffer (may be NULL with cap 0: measure) */
        size_t cap;      /* its size */
        size_t len;      /* bytes written (or needed, after TB_E_OVERFLOW) */
        enum tb_err err; /* first error, sticky */
};

struct tb_rbuf {
        const uint8_t *p;
        size_t len;
        size_t off;
        enum tb_err err;
};

static inline void tb_wbuf_init(struct tb_wbuf *w, uint8_t *p, size_t cap)
{
        w->p = p;
        w->cap = cap;
        w->len = 0;
        w->err = TB_OK;
}

/* Record an error unless one is already recorded. */
static inline void tb_wbuf_fail(struct tb_wbuf *w, enum tb_err err)
{
        if (w->err == TB_OK)
                w->err = err;
}

/*
 * Append n bytes.  On overflow the length keeps counting so the caller can
 * learn the size it needs; nothing is written past cap.
 */
static inline void tb_put_bytes(struct tb_wbuf *w, const void *src, size_t n)
{
        if (w->err != TB_OK && w->err != TB_E_OVERFLOW)
                return;
        if (w->err == TB_E_OVERFLOW || n > w->cap - w->len) {
                w->err = TB_E_OVERFLOW;
                w->len += n;
                return;
        }
        if (n > 0)
                memcpy(w->p + w->len, src, n);
        w->len += n;
}

static inline void tb_put_u8(struct tb_wbuf *w, uint8_t v)
{
        tb_put_bytes(w, &v, 1);
}

static inline void tb_put_u16(struct tb_wbuf *w, uint16_t v)
{
        uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
        tb_put_bytes(w, b, 2);
}

static inline void tb_put_u32(struct tb_wbuf *w, uint32_t v)
{
        uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
                        (uint8_t)(v >> 8), (uint8_t)v};
        tb_put_bytes(w, b, 4);
}

static inline void tb_put_u64(struct tb_wbuf *w, uint64_t v)
{
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(v >> (56 - 8 * i));
        tb_put_bytes(w, b, 8);
}

/* A string with a one-byte length prefix; fails with err if n > 255. */
static inline void tb_put_str8(struct tb_wbuf *w, const void *s, size_t n)
{
        if (n > 255) {
                tb_wbuf_fail(w, TB_E_TOO_LARGE);
                return;
        }
        tb_put_u8(w, (uint8_t)n);
        tb_put_bytes(w, s, n);
}

/* Bytes with a two-byte length prefix; fails if n > 65535. */
static inline void tb_put_bytes16(struct tb_wbuf *w, const void *s, size_t n)
{
        if (n > 65535) {
                tb_wbuf_fail(w, TB_E_TOO_LARGE);
                return;
        }
        tb_put_u16(w, (uint16_t)n);
        tb_put_bytes(w, s, n);
}

static inline void tb_rbuf_init(struct tb_rbuf *r, const void *p, size_t len)
{
        r->p = p;
        r->len = len;
        r->off = 0;
        r->err = TB_OK;
}

static inline void tb_rbuf_fail(struct tb_rbuf *r, enum tb_err err)
{
        if (r->err == TB_OK)
                r->err = err;
}

static inline size_t tb_rbuf_left(const struct tb_rbuf *r)
{
        return r->err != TB_OK ? 0 : r->len - r->off;
}

/* Borrow n bytes in place; NULL (and TB_E_TRUNCATED) when short. */
static inline const uint8_t *tb_get_ref(struct tb_rbuf *r, size_t n)
{
        const uint8_t *q;

        if (r->err != TB_OK)
                return NULL;
        if (n > r->len - r->off) {
                r->err = TB_E_TRUNCATED;
                return NULL;
        }
        q = r->p + r->off;
        r->off += n;
        return q;
}

static inline void tb_get_bytes(struct tb_rbuf *r, void *dst, size_t n)
{
        const uint8_t *q = tb_get_ref(r, n);

        if (q != NULL)
                memcpy(dst, q, n);
        else if (n > 0)
                memset(dst, 0, n);
}

static inline uint8_t tb_get_u8(struct tb_rbuf *r)
{
        const uint8_t *q = tb_get_ref(r, 1);
        return q ? q[0] : 0;
}

static inline uint16_t tb_get_u16(struct tb_rbuf *r)
{
        const uint8_t *q = tb_get_ref(r, 2);
        return q ? (uint16_t)((q[0] << 8) | q[1]) : 0;
}

static inline uint32_t tb_get_u32(struct tb_rbuf *r)
{
        const uint8_t *q = tb_get_ref(r, 4);
        return q ? ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) |
                       ((uint32_t)q[2] << 8) | q[3]
                 : 0;
}

static inline uint64_t tb_get_u64(struct tb_rbuf *r)
{
        const uint8_t *q = tb_get_ref(r, 8);
        uint64_t v = 0;

        if (q == NULL)
                return 0;
        for (int i = 0; i < 8; i++)
                v = (v << 8) | q[i];
        return v;
}

/*
 * A one-byte-length string borrowed in place: *s points into the input,
 * *n is its length.  The caller validates the content.
 */
static inline void tb_get_str8(struct tb_rbuf *r, const uint8_t **s, size_t *n)
{
        size_t len = tb_get_u8(r);

        *s = tb_get_ref(r, len);
        *n = *s ? len : 0;
}

static inline void tb_get_bytes16(struct tb_rbuf *r, const uint8_t **s,
                                  size_t *n)
{
        size_t len = tb_get_u16(r);

        *s = tb_get_ref(r, len);
        *n = *s ? len : 0;
}

/* The decoder's last call: the first error, or TB_E_TRAILING if bytes left. */
static inline enum tb_err tb_rbuf_end(const struct tb_rbuf *r)
{
        if (r->err != TB_OK)
                return r->err;
        return r->off == r->len ? TB_OK : TB_E_TRAILING;
}

static inline void tb_store_u32be(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static inline uint32_t tb_load_u32be(const uint8_t *p)
{
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
               ((uint32_t)p[2] << 8) | p[3];
}

static inline void tb_store_u64be(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint64_t tb_load_u64be(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = (v << 8) | p[i];
        return v;
}

#endif
