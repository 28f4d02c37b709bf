/*
 * tests/fuzz/fuzz_entry.c - entry, signed entry and record decoders.
 *
 * The same input is tried as a body, a signed entry and a record.  Properties:
 *   - decoding is canonical: whatever decodes re-encodes to exactly the
 *     input bytes (tb_entry_encode, tb_record_encode), within TB_BODY_MAX /
 *     TB_SIGNED_MAX / TB_RECORD_MAX;
 *   - "decodes" implies "valid": tb_entry_check passes on the result;
 *   - a failed decode leaves the output zeroed, as entry.h promises;
 *   - the layers agree: a signed entry fails exactly as its body does, a record
 *     decodes only if its signed part does, and the borrowed pointers point
 *     where the layout says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int all_zero(const void *p, size_t n)
{
        const uint8_t *b = p;

        for (size_t i = 0; i < n; i++)
                if (b[i] != 0)
                        return 0;
        return 1;
}

/* e decoded from body[0..len): it must be valid and encode back to body. */
static void check_canonical(const struct tb_entry *e, const uint8_t *body,
                            size_t len)
{
        uint8_t out[TB_BODY_MAX];
        size_t n;

        if (len > TB_BODY_MAX || tb_entry_check(e) != TB_OK)
                abort();
        if (tb_kind_name(e->kind) == NULL)
                abort();
        if (tb_entry_encode(e, out, sizeof(out), &n) != TB_OK || n != len ||
            memcmp(out, body, len) != 0)
                abort();
}

static enum tb_err try_body(const uint8_t *data, size_t size)
{
        struct tb_entry e;
        enum tb_err err = tb_entry_decode(data, size, &e);

        if (err == TB_OK)
                check_canonical(&e, data, size);
        else if (!all_zero(&e, sizeof(e)) || err >= TB_E__COUNT)
                abort();
        return err;
}

static enum tb_err try_signed(const uint8_t *data, size_t size)
{
        struct tb_entry e;
        const uint8_t *body, *sig;
        size_t body_len;
        enum tb_err err =
            tb_signed_decode(data, size, &e, &body, &body_len, &sig);

        if (err != TB_OK) {
                if (body != NULL || body_len != 0 || sig != NULL ||
                    !all_zero(&e, sizeof(e)))
                        abort();
                if (size < TB_SIG_SIZE && err != TB_E_TRUNCATED)
                        abort();
                return err;
        }
        if (size > TB_SIGNED_MAX || body != data ||
            body_len != size - TB_SIG_SIZE || sig != data + body_len)
                abort();
        check_canonical(&e, body, body_len);
        return err;
}

static void try_record(const uint8_t *data, size_t size)
{
        struct tb_record r;
        uint8_t out[TB_RECORD_MAX];
        size_t n;
        enum tb_err err = tb_record_decode(data, size, &r);

        if (err != TB_OK) {
                if (!all_zero(&r, sizeof(r)))
                        abort();
                return;
        }
        if (size > TB_RECORD_MAX || r.seq > TB_SEQ_MAX || r.received < 0 ||
            r.received > TB_TIME_MAX || r.body != data + TB_RECORD_HEADER ||
            r.body_len != size - TB_RECORD_HEADER - TB_SIG_SIZE ||
            r.sig != r.body + r.body_len)
                abort();
        check_canonical(&r.entry, r.body, r.body_len);
        if (tb_record_encode(r.seq, r.received, r.body, r.body_len, r.sig, out,
                             sizeof(out), &n) != TB_OK ||
            n != size || memcmp(out, data, size) != 0)
                abort();
        /* the record's signed part must decode on its own */
        if (try_signed(data + TB_RECORD_HEADER, size - TB_RECORD_HEADER) !=
            TB_OK)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        enum tb_err signed_err;

        (void)try_body(data, size);
        signed_err = try_signed(data, size);
        /* a signed entry fails exactly as its body does */
        if (size >= TB_SIG_SIZE &&
            signed_err != try_body(data, size - TB_SIG_SIZE))
                abort();
        try_record(data, size);
        return 0;
}
