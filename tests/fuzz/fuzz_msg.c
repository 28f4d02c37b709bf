/*
 * tests/fuzz/fuzz_msg.c - request and response decoders.
 *
 * The same input is tried as a request and as a response.  Properties:
 *   - decoding is canonical: whatever decodes re-encodes to exactly the
 *     input bytes (a request is always encoded with TB_PROTO_VERSION, so a
 *     decoded request must carry it; a response body is written only when
 *     tb_response_has_body says so; a response of an unknown type decodes
 *     only without a body);
 *   - tb_request_peek agrees with the decoder on the header, and
 *     tb_response_decode fills version, type, id and status from the header
 *     even when it fails, as msg.h promises;
 *   - a decode error maps to one of the four statuses a daemon answers;
 *   - borrowed pointers point inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
        const uint8_t *b = p;

        if (n == 0)
                return 1;
        return b != NULL && b >= data && n <= size &&
               (size_t)(b - data) <= size - n;
}

static void check_decode_status(enum tb_err err)
{
        unsigned st = tb_status_for_decode_error(err);

        if (st != TB_ST_BAD_REQUEST && st != TB_ST_TOO_LARGE &&
            st != TB_ST_UNSUPPORTED_VERSION && st != TB_ST_UNKNOWN_TYPE)
                abort();
}

static void try_request(const uint8_t *data, size_t size, uint8_t *out,
                        size_t cap)
{
        struct tb_request q;
        uint8_t version;
        uint16_t type;
        uint32_t id;
        size_t n;
        enum tb_err err = tb_request_decode(data, size, &q);
        enum tb_err peek = tb_request_peek(data, size, &version, &type, &id);

        if ((size < TB_REQUEST_HEADER) != (peek != TB_OK))
                abort();
        if (err != TB_OK) {
                check_decode_status(err);
                if (peek != TB_OK && err != TB_E_TRUNCATED)
                        abort();
                return;
        }
        if (q.version != TB_PROTO_VERSION || version != q.version ||
            type != q.type || id != q.id || tb_msg_type_name(q.type) == NULL)
                abort();
        if (q.type == TB_MSG_SUBMIT &&
            (q.u.submit.signed_entry != data + TB_REQUEST_HEADER ||
             q.u.submit.len != size - TB_REQUEST_HEADER))
                abort();
        if (tb_request_encode(&q, out, cap, &n) != TB_OK || n != size ||
            memcmp(out, data, size) != 0)
                abort();
}

static int response_ptrs_inside(const struct tb_response *r,
                                const uint8_t *data, size_t size)
{
        const struct tb_proof *pr = &r->u.proof;

        if (!inside(r->message, r->message_len, data, size))
                return 0;
        if (!tb_response_has_body(r->type, r->status))
                return 1;
        switch (r->type) {
        case TB_MSG_SUBMIT:
                return inside(r->u.write.checkpoint, r->u.write.checkpoint_len,
                              data, size);
        case TB_MSG_HISTORY:
                for (unsigned i = 0; i < r->u.history.count; i++)
                        if (!inside(r->u.history.items[i].record,
                                    r->u.history.items[i].record_len, data,
                                    size))
                                return 0;
                return 1;
        case TB_MSG_ENTRY:
                return inside(r->u.entry.record, r->u.entry.record_len, data,
                              size);
        case TB_MSG_CHECKPOINT:
                return inside(r->u.checkpoint.note, r->u.checkpoint.note_len,
                              data, size);
        case TB_MSG_INCLUSION:
                return inside(pr->record, pr->record_len, data, size) &&
                       inside(pr->checkpoint, pr->checkpoint_len, data, size);
        }
        return 1;
}

static void try_response(const uint8_t *data, size_t size, uint8_t *out,
                         size_t cap)
{
        struct tb_response r;
        size_t n;
        enum tb_err err = tb_response_decode(data, size, &r);

        if (size >= TB_RESPONSE_HEADER &&
            (r.version != data[0] || r.type != (data[1] << 8 | data[2]) ||
             r.id != tb_load_u32be(data + 3) ||
             r.status != (data[7] << 8 | data[8])))
                abort();
        int unknown_with_body = tb_msg_type_name(r.type) == NULL &&
                                tb_response_has_body(r.type, r.status);

        if (err != TB_OK) {
                if (size < TB_RESPONSE_HEADER && err != TB_E_TRUNCATED)
                        abort();
                /* an unknown type (or 0) is refused only with a body: the
                 * UNKNOWN_TYPE answer echoes the request's type */
                if (err == TB_E_MSG_TYPE && !unknown_with_body)
                        abort();
                return;
        }
        if (r.version != TB_PROTO_VERSION || r.message_len > TB_MESSAGE_MAX ||
            unknown_with_body || !response_ptrs_inside(&r, data, size))
                abort();
        if (tb_response_encode(&r, out, cap, &n) != TB_OK || n != size ||
            memcmp(out, data, size) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* room for an encoder that writes more than it read */
        size_t cap = size + 4096;
        uint8_t *out = malloc(cap);

        if (out == NULL)
                abort();
        try_request(data, size, out, cap);
        try_response(data, size, out, cap);
        free(out);
        return 0;
}
