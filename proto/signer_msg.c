/*
 * proto/signer_msg.c - the signer's messages (signer_msg.h,
 * docs/signer.md): one encode and one decode, field by field in the
 * order of the spec.
 */
#include <string.h>

#include "buf.h"
#include "signer_msg.h"

static const char *const reason_names[] = {
    [TB_SIGNER_R_MALFORMED] = "MALFORMED", [TB_SIGNER_R_OLD] = "OLD",
    [TB_SIGNER_R_SMALLER] = "SMALLER",     [TB_SIGNER_R_FORK] = "FORK",
    [TB_SIGNER_R_PROOF] = "PROOF",         [TB_SIGNER_R_STATE] = "STATE",
    [TB_SIGNER_R_SIGN] = "SIGN",
};

const char *tb_signer_reason_name(unsigned reason)
{
        if (reason >= sizeof(reason_names) / sizeof(reason_names[0]))
                return NULL;
        return reason_names[reason];
}

static int detail_ok(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x20 || s[i] > 0x7e)
                        return 0;
        return 1;
}

enum tb_err tb_signer_msg_encode(const struct tb_signer_msg *m, uint8_t *out,
                                 size_t cap, size_t *out_len)
{
        struct tb_wbuf w;
        size_t n;

        if (cap < TB_SIGNER_HEADER)
                return TB_E_OVERFLOW;
        tb_wbuf_init(&w, out + TB_SIGNER_HEADER, cap - TB_SIGNER_HEADER);
        tb_put_u8(&w, TB_SIGNER_VERSION);
        tb_put_u8(&w, m->type);
        switch (m->type) {
        case TB_SIGNER_SIGN:
                if (m->note_len > TB_CHECKPOINT_MAX ||
                    m->proof_len > TB_MERKLE_MAX_PROOF)
                        return TB_E_MSG_FIELD;
                tb_put_bytes16(&w, m->note, m->note_len);
                tb_put_u64(&w, m->new_size);
                tb_put_bytes(&w, m->new_root, TB_HASH_SIZE);
                tb_put_u8(&w, (uint8_t)m->proof_len);
                tb_put_bytes(&w, m->proof, m->proof_len * TB_HASH_SIZE);
                break;
        case TB_SIGNER_SIGNED:
                if (m->note_len > TB_CHECKPOINT_MAX)
                        return TB_E_MSG_FIELD;
                tb_put_bytes16(&w, m->note, m->note_len);
                break;
        case TB_SIGNER_REFUSED:
                n = strnlen(m->detail, sizeof(m->detail));
                if (n > TB_SIGNER_DETAIL_MAX || !detail_ok(m->detail, n))
                        return TB_E_MSG_FIELD;
                tb_put_u16(&w, m->reason);
                tb_put_str8(&w, m->detail, n);
                break;
        default:
                return TB_E_MSG_TYPE;
        }
        if (w.err)
                return w.err;
        tb_store_u32be(out, (uint32_t)w.len);
        *out_len = TB_SIGNER_HEADER + w.len;
        return TB_OK;
}

size_t tb_signer_msg_length(const uint8_t hdr[TB_SIGNER_HEADER])
{
        uint32_t n = tb_load_u32be(hdr);

        return n < 2 || n > TB_SIGNER_FRAME_MAX - TB_SIGNER_HEADER ? 0 : n;
}

enum tb_err tb_signer_msg_decode(const uint8_t *p, size_t len,
                                 struct tb_signer_msg *m)
{
        struct tb_rbuf r;
        const uint8_t *s;
        size_t n;

        memset(m, 0, sizeof(*m));
        tb_rbuf_init(&r, p, len);
        if (tb_get_u8(&r) != TB_SIGNER_VERSION)
                return r.err ? r.err : TB_E_VERSION;
        m->type = tb_get_u8(&r);
        switch (m->type) {
        case TB_SIGNER_SIGN:
                tb_get_bytes16(&r, &m->note, &m->note_len);
                m->new_size = tb_get_u64(&r);
                tb_get_bytes(&r, m->new_root, TB_HASH_SIZE);
                m->proof_len = tb_get_u8(&r);
                if (r.err == TB_OK && (m->note_len > TB_CHECKPOINT_MAX ||
                                       m->proof_len > TB_MERKLE_MAX_PROOF))
                        return TB_E_MSG_FIELD;
                m->proof = (const uint8_t(*)[TB_HASH_SIZE])tb_get_ref(
                    &r, m->proof_len * TB_HASH_SIZE);
                break;
        case TB_SIGNER_SIGNED:
                tb_get_bytes16(&r, &m->note, &m->note_len);
                if (r.err == TB_OK && m->note_len > TB_CHECKPOINT_MAX)
                        return TB_E_MSG_FIELD;
                break;
        case TB_SIGNER_REFUSED:
                m->reason = tb_get_u16(&r);
                tb_get_str8(&r, &s, &n);
                if (r.err == TB_OK && !detail_ok((const char *)s, n))
                        return TB_E_MSG_FIELD;
                if (r.err == TB_OK)
                        memcpy(m->detail, s, n);
                break;
        default:
                return r.err ? r.err : TB_E_MSG_TYPE;
        }
        return tb_rbuf_end(&r);
}
