/*
 * proto/receipt.c - receipts as C2SP tlog-proofs carrying their record
 * in the `extra` line (docs/receipts.md).  The parser reads lines over the
 * bounds-checked cursor and accepts exactly what the formatter writes, so
 * a receipt has one spelling.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "receipt.h"

#define RECEIPT_EXTRA "extra "
#define RECEIPT_INDEX "index "

enum tb_err tb_receipt_format(const uint8_t *record, size_t record_len,
                              uint64_t index,
                              const uint8_t (*hashes)[TB_HASH_SIZE],
                              size_t count, const uint8_t *note,
                              size_t note_len, uint8_t *out, size_t cap,
                              size_t *out_len)
{
        char b64[TB_B64_LEN(TB_RECORD_MAX) + 1], num[24];
        struct tb_wbuf w;
        size_t n;

        if (record_len == 0 || record_len > TB_RECORD_MAX || note_len == 0 ||
            count > TB_RECEIPT_HASHES_MAX || index > (uint64_t)TB_SEQ_MAX)
                return TB_E_INVALID_ARG;
        tb_wbuf_init(&w, out, cap);
        tb_put_bytes(&w, TB_RECEIPT_HEADER, strlen(TB_RECEIPT_HEADER));
        if (tb_b64_encode(record, record_len, b64, sizeof(b64), &n) != TB_OK)
                return TB_E_INVALID_ARG;
        tb_put_bytes(&w, RECEIPT_EXTRA, strlen(RECEIPT_EXTRA));
        tb_put_bytes(&w, b64, n);
        tb_put_u8(&w, '\n');
        snprintf(num, sizeof(num), "%" PRIu64 "\n", index);
        tb_put_bytes(&w, RECEIPT_INDEX, strlen(RECEIPT_INDEX));
        tb_put_bytes(&w, num, strlen(num));
        for (size_t i = 0; i < count; i++) {
                if (tb_b64_encode(hashes[i], TB_HASH_SIZE, b64, sizeof(b64),
                                  &n) != TB_OK)
                        return TB_E_INVALID_ARG;
                tb_put_bytes(&w, b64, n);
                tb_put_u8(&w, '\n');
        }
        tb_put_u8(&w, '\n');
        tb_put_bytes(&w, note, note_len);
        if (w.err != TB_OK)
                return w.err;
        *out_len = w.len;
        return TB_OK;
}

/* The next line of r without its '\n' into *s, *n; fails if none. */
static void receipt_line(struct tb_rbuf *r, const uint8_t **s, size_t *n)
{
        const uint8_t *nl;

        *s = NULL;
        *n = 0;
        if (r->err != TB_OK)
                return;
        nl = memchr(r->p + r->off, '\n', tb_rbuf_left(r));
        if (nl == NULL) {
                tb_rbuf_fail(r, TB_E_RECEIPT);
                return;
        }
        *n = (size_t)(nl - (r->p + r->off));
        *s = tb_get_ref(r, *n + 1);
}

/* s[0..n) starts with the NUL-terminated prefix p: its length, else 0. */
static size_t receipt_prefix(const uint8_t *s, size_t n, const char *p)
{
        size_t k = strlen(p);

        return s != NULL && n >= k && memcmp(s, p, k) == 0 ? k : 0;
}

/* Decimal, no sign, no leading zero (but "0"), at most TB_SEQ_MAX. */
static int receipt_u64(const uint8_t *s, size_t n, uint64_t *v)
{
        *v = 0;
        if (n == 0 || n > 19 || (s[0] == '0' && n > 1))
                return 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return 0;
                *v = *v * 10 + (uint64_t)(s[i] - '0');
        }
        return *v <= (uint64_t)TB_SEQ_MAX;
}

enum tb_err tb_receipt_parse(const uint8_t *text, size_t len,
                             struct tb_receipt *r)
{
        struct tb_rbuf b;
        const uint8_t *s;
        size_t n, k, out;

        memset(r, 0, sizeof(*r));
        if (len > TB_RECEIPT_MAX)
                return TB_E_RECEIPT;
        tb_rbuf_init(&b, text, len);
        receipt_line(&b, &s, &n);
        if (s == NULL || n + 1 != strlen(TB_RECEIPT_HEADER) ||
            memcmp(s, TB_RECEIPT_HEADER, n) != 0)
                return TB_E_RECEIPT;
        receipt_line(&b, &s, &n);
        if ((k = receipt_prefix(s, n, RECEIPT_EXTRA)) == 0 ||
            tb_b64_decode((const char *)s + k, n - k, r->record,
                          sizeof(r->record), &out) != TB_OK ||
            out == 0)
                return TB_E_RECEIPT;
        r->record_len = out;
        receipt_line(&b, &s, &n);
        if ((k = receipt_prefix(s, n, RECEIPT_INDEX)) == 0 ||
            !receipt_u64(s + k, n - k, &r->index))
                return TB_E_RECEIPT;
        for (;;) {
                receipt_line(&b, &s, &n);
                if (s == NULL)
                        return TB_E_RECEIPT;
                if (n == 0)
                        break;
                if (r->count == TB_RECEIPT_HASHES_MAX ||
                    n != TB_B64_LEN(TB_HASH_SIZE) ||
                    tb_b64_decode((const char *)s, n, r->hashes[r->count],
                                  TB_HASH_SIZE, &out) != TB_OK ||
                    out != TB_HASH_SIZE)
                        return TB_E_RECEIPT;
                r->count++;
        }
        r->checkpoint_len = tb_rbuf_left(&b);
        r->checkpoint = tb_get_ref(&b, r->checkpoint_len);
        if (r->checkpoint_len == 0 || r->checkpoint == NULL ||
            tb_rbuf_end(&b) != TB_OK)
                return TB_E_RECEIPT;
        return TB_OK;
}

enum tb_err tb_receipt_verify(const struct tb_receipt *r,
                              const struct tb_vkey *v, struct tb_checkpoint *cp,
                              struct tb_record *rec)
{
        uint8_t leaf[TB_HASH_SIZE];
        enum tb_err err;

        err = tb_checkpoint_open(r->checkpoint, r->checkpoint_len, v->name, v,
                                 cp);
        if (err != TB_OK)
                return err;
        if (tb_record_decode(r->record, r->record_len, rec) != TB_OK ||
            rec->seq != r->index)
                return TB_E_RECEIPT;
        tb_merkle_leaf_hash(r->record, r->record_len, leaf);
        return tb_merkle_verify_inclusion(
            r->index, cp->size, leaf, (const uint8_t(*)[TB_HASH_SIZE])r->hashes,
            r->count, cp->root);
}
