/*
 * proto/msg.c - request and response codecs.
 *
 * One encode and one decode function per body, side by side, so that a
 * field added to one is visibly missing from the other.  Decoding is strict
 * (tb_rbuf_end) and validates every field the encoder validates.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "msg.h"
#include "status.h"

const char *tb_msg_type_name(unsigned type)
{
        switch (type) {
        case TB_MSG_SUBMIT:
                return "submit";
        case TB_MSG_BALANCE:
                return "balance";
        case TB_MSG_HISTORY:
                return "history";
        case TB_MSG_ENTRY:
                return "entry";
        case TB_MSG_CHECKPOINT:
                return "checkpoint";
        case TB_MSG_INCLUSION:
                return "inclusion";
        case TB_MSG_CONSISTENCY:
                return "consistency";
        case TB_MSG_STATUS:
                return "status";
        case TB_MSG_STATS:
                return "stats";
        }
        return NULL;
}

int tb_response_has_body(unsigned type, unsigned status)
{
        if (status == TB_ST_OK)
                return 1;
        return type == TB_MSG_SUBMIT && status == TB_ST_DUPLICATE;
}

unsigned tb_status_for_decode_error(enum tb_err err)
{
        switch (err) {
        case TB_E_VERSION:
                return TB_ST_UNSUPPORTED_VERSION;
        case TB_E_MSG_TYPE:
                return TB_ST_UNKNOWN_TYPE;
        case TB_E_TOO_LARGE:
                return TB_ST_TOO_LARGE;
        default:
                return TB_ST_BAD_REQUEST;
        }
}

unsigned tb_signed_check(const char *origin, const uint8_t *p, size_t len,
                         int verify, struct tb_entry *e, const uint8_t **body,
                         size_t *body_len, char *detail, size_t cap)
{
        const uint8_t *sig;
        enum tb_err err;

        if (cap > 0)
                detail[0] = 0;
        err = tb_signed_decode(p, len, e, body, body_len, &sig);
        if (err != TB_OK) {
                snprintf(detail, cap, "%s", tb_strerror(err));
                return err == TB_E_SAME_ACCOUNT ? TB_ST_SAME_ACCOUNT
                                                : TB_ST_BAD_REQUEST;
        }
        if (verify && tb_entry_verify(origin, *body, *body_len, e->signer,
                                      sig) != TB_OK) {
                snprintf(detail, cap,
                         "signature does not verify with the entry's signer "
                         "key for this ledger's origin");
                return TB_ST_BAD_SIGNATURE;
        }
        return TB_ST_OK;
}

/* ---- shared field helpers ------------------------------------------------ */

static void put_account(struct tb_wbuf *w, const char *account)
{
        size_t n = strnlen(account, TB_ACCOUNT_ID_MAX + 1);

        if (tb_account_check(account, n) != TB_OK) {
                tb_wbuf_fail(w, TB_E_ACCOUNT);
                return;
        }
        tb_put_str8(w, account, n);
}

static void get_account(struct tb_rbuf *r, char *dst)
{
        const uint8_t *s;
        size_t n;

        tb_get_str8(r, &s, &n);
        if (r->err != TB_OK)
                return;
        if (tb_account_check((const char *)s, n) != TB_OK) {
                tb_rbuf_fail(r, TB_E_ACCOUNT);
                return;
        }
        memcpy(dst, s, n);
        dst[n] = 0;
}

/* A string field of at most max bytes that must be clean text. */
static void put_text8(struct tb_wbuf *w, const char *s, size_t max)
{
        size_t n = strnlen(s, max + 1);

        if (n > max || !tb_text_clean(s, n)) {
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
                return;
        }
        tb_put_str8(w, s, n);
}

static void get_text8(struct tb_rbuf *r, char *dst, size_t max)
{
        const uint8_t *s;
        size_t n;

        tb_get_str8(r, &s, &n);
        if (r->err != TB_OK)
                return;
        if (n > max || !tb_text_clean((const char *)s, n)) {
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
                return;
        }
        memcpy(dst, s, n);
        dst[n] = 0;
}

static void put_size(struct tb_wbuf *w, uint64_t v)
{
        if (v > TB_SEQ_MAX)
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
        tb_put_u64(w, v);
}

static uint64_t get_size(struct tb_rbuf *r)
{
        uint64_t v = tb_get_u64(r);

        if (v > TB_SEQ_MAX)
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
        return v;
}

static void put_blob16(struct tb_wbuf *w, const uint8_t *p, size_t n,
                       size_t max)
{
        if (n > max || (n > 0 && p == NULL)) {
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
                return;
        }
        tb_put_bytes16(w, p, n);
}

static void get_blob16(struct tb_rbuf *r, const uint8_t **p, size_t *n,
                       size_t max)
{
        tb_get_bytes16(r, p, n);
        if (r->err == TB_OK && *n > max)
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
        if (*n == 0)
                *p = NULL;
}

/* ---- requests ------------------------------------------------------------ */

enum tb_err tb_request_peek(const uint8_t *p, size_t len, uint8_t *version,
                            uint16_t *type, uint32_t *id)
{
        struct tb_rbuf r;

        tb_rbuf_init(&r, p, len);
        *version = tb_get_u8(&r);
        *type = tb_get_u16(&r);
        *id = tb_get_u32(&r);
        return r.err;
}

enum tb_err tb_request_encode(const struct tb_request *q, uint8_t *out,
                              size_t cap, size_t *len)
{
        struct tb_wbuf w;

        *len = 0;
        tb_wbuf_init(&w, out, cap);
        tb_put_u8(&w, TB_PROTO_VERSION);
        tb_put_u16(&w, q->type);
        tb_put_u32(&w, q->id);
        switch (q->type) {
        case TB_MSG_SUBMIT:
                if (q->u.submit.len > TB_SIGNED_MAX)
                        return TB_E_TOO_LARGE;
                if (q->u.submit.len <= TB_SIG_SIZE ||
                    q->u.submit.signed_entry == NULL)
                        return TB_E_MSG_FIELD;
                tb_put_bytes(&w, q->u.submit.signed_entry, q->u.submit.len);
                break;
        case TB_MSG_BALANCE:
                put_account(&w, q->u.balance.account);
                break;
        case TB_MSG_HISTORY:
                put_account(&w, q->u.history.account);
                if (q->u.history.before == 0 || q->u.history.limit == 0 ||
                    q->u.history.limit > TB_HISTORY_MAX)
                        tb_wbuf_fail(&w, TB_E_MSG_FIELD);
                tb_put_u64(&w, q->u.history.before);
                tb_put_u16(&w, q->u.history.limit);
                break;
        case TB_MSG_ENTRY:
                put_size(&w, q->u.entry.seq);
                break;
        case TB_MSG_CHECKPOINT:
        case TB_MSG_STATUS:
        case TB_MSG_STATS:
                break;
        case TB_MSG_INCLUSION:
                put_size(&w, q->u.inclusion.index);
                put_size(&w, q->u.inclusion.size);
                break;
        case TB_MSG_CONSISTENCY:
                if (q->u.consistency.old_size == 0)
                        tb_wbuf_fail(&w, TB_E_MSG_FIELD);
                put_size(&w, q->u.consistency.old_size);
                put_size(&w, q->u.consistency.size);
                break;
        default:
                return TB_E_MSG_TYPE;
        }
        if (w.err != TB_OK)
                return w.err;
        *len = w.len;
        return TB_OK;
}

enum tb_err tb_request_decode(const uint8_t *p, size_t len,
                              struct tb_request *q)
{
        struct tb_rbuf r;
        enum tb_err err;

        memset(q, 0, sizeof(*q));
        if ((err = tb_request_peek(p, len, &q->version, &q->type, &q->id)))
                return err;
        if (q->version != TB_PROTO_VERSION)
                return TB_E_VERSION;
        tb_rbuf_init(&r, p + TB_REQUEST_HEADER, len - TB_REQUEST_HEADER);
        switch (q->type) {
        case TB_MSG_SUBMIT:
                q->u.submit.len = len - TB_REQUEST_HEADER;
                if (q->u.submit.len > TB_SIGNED_MAX)
                        return TB_E_TOO_LARGE;
                if (q->u.submit.len <= TB_SIG_SIZE)
                        return TB_E_TRUNCATED;
                q->u.submit.signed_entry = tb_get_ref(&r, q->u.submit.len);
                break;
        case TB_MSG_BALANCE:
                get_account(&r, q->u.balance.account);
                break;
        case TB_MSG_HISTORY:
                get_account(&r, q->u.history.account);
                q->u.history.before = tb_get_u64(&r);
                q->u.history.limit = tb_get_u16(&r);
                if (r.err == TB_OK &&
                    (q->u.history.before == 0 || q->u.history.limit == 0 ||
                     q->u.history.limit > TB_HISTORY_MAX))
                        tb_rbuf_fail(&r, TB_E_MSG_FIELD);
                break;
        case TB_MSG_ENTRY:
                q->u.entry.seq = get_size(&r);
                break;
        case TB_MSG_CHECKPOINT:
        case TB_MSG_STATUS:
        case TB_MSG_STATS:
                break;
        case TB_MSG_INCLUSION:
                q->u.inclusion.index = get_size(&r);
                q->u.inclusion.size = get_size(&r);
                break;
        case TB_MSG_CONSISTENCY:
                q->u.consistency.old_size = get_size(&r);
                q->u.consistency.size = get_size(&r);
                if (r.err == TB_OK && q->u.consistency.old_size == 0)
                        tb_rbuf_fail(&r, TB_E_MSG_FIELD);
                break;
        default:
                return TB_E_MSG_TYPE;
        }
        return tb_rbuf_end(&r);
}

/* ---- response bodies ----------------------------------------------------- */

static void put_write(struct tb_wbuf *w, const struct tb_write_result *x)
{
        put_size(w, x->seq);
        tb_put_u64(w, (uint64_t)x->points);
        tb_put_u64(w, x->balance);
        put_blob16(w, x->checkpoint, x->checkpoint_len, TB_CHECKPOINT_MAX);
}

static void get_write(struct tb_rbuf *r, struct tb_write_result *x)
{
        x->seq = get_size(r);
        x->points = (int64_t)tb_get_u64(r);
        x->balance = tb_get_u64(r);
        get_blob16(r, &x->checkpoint, &x->checkpoint_len, TB_CHECKPOINT_MAX);
}

static void put_balance(struct tb_wbuf *w, const struct tb_balance_info *b)
{
        put_account(w, b->account);
        tb_put_u64(w, b->balance);
        tb_put_u64(w, b->earned);
        tb_put_u64(w, b->redeemed);
        tb_put_u64(w, b->transferred_in);
        tb_put_u64(w, b->transferred_out);
        tb_put_u64(w, b->minutes);
        tb_put_u64(w, b->entries);
        put_size(w, b->opened_seq);
        put_size(w, b->last_seq);
}

static void get_balance(struct tb_rbuf *r, struct tb_balance_info *b)
{
        get_account(r, b->account);
        b->balance = tb_get_u64(r);
        b->earned = tb_get_u64(r);
        b->redeemed = tb_get_u64(r);
        b->transferred_in = tb_get_u64(r);
        b->transferred_out = tb_get_u64(r);
        b->minutes = tb_get_u64(r);
        b->entries = tb_get_u64(r);
        b->opened_seq = get_size(r);
        b->last_seq = get_size(r);
}

static void put_history(struct tb_wbuf *w, const struct tb_history *h)
{
        if (h->count > TB_HISTORY_MAX) {
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
                return;
        }
        put_size(w, h->next_before);
        tb_put_u16(w, h->count);
        for (unsigned i = 0; i < h->count; i++) {
                const struct tb_history_item *it = &h->items[i];
                put_size(w, it->seq);
                tb_put_u64(w, (uint64_t)it->delta);
                tb_put_u64(w, it->balance_after);
                put_blob16(w, it->record, it->record_len, TB_RECORD_MAX);
        }
}

static void get_history(struct tb_rbuf *r, struct tb_history *h)
{
        h->next_before = get_size(r);
        h->count = tb_get_u16(r);
        if (r->err == TB_OK && h->count > TB_HISTORY_MAX) {
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
                return;
        }
        for (unsigned i = 0; i < h->count && r->err == TB_OK; i++) {
                struct tb_history_item *it = &h->items[i];
                it->seq = get_size(r);
                it->delta = (int64_t)tb_get_u64(r);
                it->balance_after = tb_get_u64(r);
                get_blob16(r, &it->record, &it->record_len, TB_RECORD_MAX);
        }
}

static void put_proof(struct tb_wbuf *w, unsigned type,
                      const struct tb_proof *p)
{
        put_size(w, p->index);
        put_size(w, p->size);
        if (p->count > TB_PROOF_MAX) {
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
                return;
        }
        tb_put_u8(w, p->count);
        for (unsigned i = 0; i < p->count; i++)
                tb_put_bytes(w, p->hashes[i], TB_HASH_SIZE);
        if (type == TB_MSG_INCLUSION) {
                put_blob16(w, p->record, p->record_len, TB_RECORD_MAX);
                put_blob16(w, p->checkpoint, p->checkpoint_len,
                           TB_CHECKPOINT_MAX);
        }
}

static void get_proof(struct tb_rbuf *r, unsigned type, struct tb_proof *p)
{
        p->index = get_size(r);
        p->size = get_size(r);
        p->count = tb_get_u8(r);
        if (r->err == TB_OK && p->count > TB_PROOF_MAX) {
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
                return;
        }
        for (unsigned i = 0; i < p->count; i++)
                tb_get_bytes(r, p->hashes[i], TB_HASH_SIZE);
        if (type == TB_MSG_INCLUSION) {
                get_blob16(r, &p->record, &p->record_len, TB_RECORD_MAX);
                get_blob16(r, &p->checkpoint, &p->checkpoint_len,
                           TB_CHECKPOINT_MAX);
        }
}

static void put_status(struct tb_wbuf *w, const struct tb_status_info *s)
{
        size_t n = strnlen(s->origin, TB_NAME_MAX + 1);

        if (tb_name_check(s->origin, n) != TB_OK)
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
        tb_put_str8(w, s->origin, n);
        n = strnlen(s->log_key, TB_VKEY_MAX);
        if (n >= TB_VKEY_MAX || !tb_text_clean(s->log_key, n))
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
        tb_put_bytes16(w, s->log_key, n);
        put_text8(w, s->version, TB_VERSION_TEXT_MAX);
        put_size(w, s->tree_size);
        tb_put_u64(w, s->accounts);
        tb_put_u64(w, s->keys_active);
        tb_put_u64(w, s->keys_revoked);
        tb_put_u64(w, s->disk_bytes);
        tb_put_u64(w, s->map_bytes);
}

static void get_status(struct tb_rbuf *r, struct tb_status_info *s)
{
        const uint8_t *p;
        size_t n;

        tb_get_str8(r, &p, &n);
        if (r->err == TB_OK && tb_name_check((const char *)p, n) != TB_OK)
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
        if (r->err == TB_OK) {
                memcpy(s->origin, p, n);
                s->origin[n] = 0;
        }
        tb_get_bytes16(r, &p, &n);
        if (r->err == TB_OK &&
            (n >= TB_VKEY_MAX || !tb_text_clean((const char *)p, n)))
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
        if (r->err == TB_OK) {
                memcpy(s->log_key, p, n);
                s->log_key[n] = 0;
        }
        get_text8(r, s->version, TB_VERSION_TEXT_MAX);
        s->tree_size = get_size(r);
        s->accounts = tb_get_u64(r);
        s->keys_active = tb_get_u64(r);
        s->keys_revoked = tb_get_u64(r);
        s->disk_bytes = tb_get_u64(r);
        s->map_bytes = tb_get_u64(r);
}

/* 1 if s[0..n) is a counter's name (first) or label by the rules of
 * struct tb_stat. */
static int stat_word_ok(const char *s, size_t n, int name)
{
        if (n > (name ? TB_STAT_NAME_MAX : TB_STAT_LABEL_MAX) ||
            (name && (n == 0 || s[0] < 'a' || s[0] > 'z')))
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || (!name && c >= 'A' && c <= 'Z')))
                        return 0;
        }
        return 1;
}

static void put_stats(struct tb_wbuf *w, const struct tb_stats *s)
{
        if (s->count > TB_STATS_MAX) {
                tb_wbuf_fail(w, TB_E_MSG_FIELD);
                return;
        }
        tb_put_u16(w, s->count);
        for (unsigned i = 0; i < s->count; i++) {
                const struct tb_stat *t = &s->items[i];
                size_t n = strnlen(t->name, TB_STAT_NAME_MAX + 1);
                size_t k = strnlen(t->label, TB_STAT_LABEL_MAX + 1);

                if (!stat_word_ok(t->name, n, 1) ||
                    !stat_word_ok(t->label, k, 0)) {
                        tb_wbuf_fail(w, TB_E_MSG_FIELD);
                        return;
                }
                tb_put_str8(w, t->name, n);
                tb_put_str8(w, t->label, k);
                tb_put_u64(w, t->value);
        }
}

static void get_stats(struct tb_rbuf *r, struct tb_stats *s)
{
        s->count = tb_get_u16(r);
        if (r->err == TB_OK && s->count > TB_STATS_MAX)
                tb_rbuf_fail(r, TB_E_MSG_FIELD);
        for (unsigned i = 0; i < s->count && r->err == TB_OK; i++) {
                struct tb_stat *t = &s->items[i];
                const uint8_t *p, *q;
                size_t n, k;

                tb_get_str8(r, &p, &n);
                tb_get_str8(r, &q, &k);
                t->value = tb_get_u64(r);
                if (r->err != TB_OK)
                        return;
                if (!stat_word_ok((const char *)p, n, 1) ||
                    !stat_word_ok((const char *)q, k, 0)) {
                        tb_rbuf_fail(r, TB_E_MSG_FIELD);
                        return;
                }
                memcpy(t->name, p, n);
                t->name[n] = 0;
                memcpy(t->label, q, k);
                t->label[k] = 0;
        }
}

/* ---- responses ----------------------------------------------------------- */

enum tb_err tb_response_encode(const struct tb_response *r, uint8_t *out,
                               size_t cap, size_t *len)
{
        struct tb_wbuf w;

        *len = 0;
        /* an unknown type is echoed in a refusal (UNKNOWN_TYPE), never
         * with a body */
        if (tb_msg_type_name(r->type) == NULL &&
            tb_response_has_body(r->type, r->status))
                return TB_E_MSG_TYPE;
        if (r->message_len > TB_MESSAGE_MAX ||
            (r->message_len > 0 &&
             (r->message == NULL ||
              !tb_text_clean(r->message, r->message_len))))
                return TB_E_MSG_FIELD;
        tb_wbuf_init(&w, out, cap);
        tb_put_u8(&w, TB_PROTO_VERSION);
        tb_put_u16(&w, r->type);
        tb_put_u32(&w, r->id);
        tb_put_u16(&w, r->status);
        tb_put_bytes16(&w, r->message, r->message_len);
        if (tb_response_has_body(r->type, r->status)) {
                switch (r->type) {
                case TB_MSG_SUBMIT:
                        put_write(&w, &r->u.write);
                        break;
                case TB_MSG_BALANCE:
                        put_balance(&w, &r->u.balance);
                        break;
                case TB_MSG_HISTORY:
                        put_history(&w, &r->u.history);
                        break;
                case TB_MSG_ENTRY:
                        put_blob16(&w, r->u.entry.record, r->u.entry.record_len,
                                   TB_RECORD_MAX);
                        break;
                case TB_MSG_CHECKPOINT:
                        put_blob16(&w, r->u.checkpoint.note,
                                   r->u.checkpoint.note_len, TB_CHECKPOINT_MAX);
                        break;
                case TB_MSG_INCLUSION:
                case TB_MSG_CONSISTENCY:
                        put_proof(&w, r->type, &r->u.proof);
                        break;
                case TB_MSG_STATUS:
                        put_status(&w, &r->u.status);
                        break;
                case TB_MSG_STATS:
                        put_stats(&w, &r->u.stats);
                        break;
                default:
                        /* type 0: the answer to an unparseable request is
                         * never OK */
                        return TB_E_MSG_FIELD;
                }
        }
        if (w.err == TB_OK && w.len > TB_FRAME_MAX)
                return TB_E_TOO_LARGE;
        if (w.err != TB_OK)
                return w.err;
        *len = w.len;
        return TB_OK;
}

enum tb_err tb_response_decode(const uint8_t *p, size_t len,
                               struct tb_response *r)
{
        struct tb_rbuf rb;
        const uint8_t *msg;

        memset(r, 0, sizeof(*r));
        tb_rbuf_init(&rb, p, len);
        r->version = tb_get_u8(&rb);
        r->type = tb_get_u16(&rb);
        r->id = tb_get_u32(&rb);
        r->status = tb_get_u16(&rb);
        tb_get_bytes16(&rb, &msg, &r->message_len);
        if (rb.err != TB_OK)
                return rb.err;
        r->message = (const char *)msg;
        if (r->version != TB_PROTO_VERSION)
                return TB_E_VERSION;
        if (r->message_len > TB_MESSAGE_MAX ||
            !tb_text_clean(r->message, r->message_len))
                return TB_E_MSG_FIELD;
        if (tb_msg_type_name(r->type) == NULL &&
            tb_response_has_body(r->type, r->status))
                return TB_E_MSG_TYPE;
        if (tb_response_has_body(r->type, r->status)) {
                switch (r->type) {
                case TB_MSG_SUBMIT:
                        get_write(&rb, &r->u.write);
                        break;
                case TB_MSG_BALANCE:
                        get_balance(&rb, &r->u.balance);
                        break;
                case TB_MSG_HISTORY:
                        get_history(&rb, &r->u.history);
                        break;
                case TB_MSG_ENTRY:
                        get_blob16(&rb, &r->u.entry.record,
                                   &r->u.entry.record_len, TB_RECORD_MAX);
                        break;
                case TB_MSG_CHECKPOINT:
                        get_blob16(&rb, &r->u.checkpoint.note,
                                   &r->u.checkpoint.note_len,
                                   TB_CHECKPOINT_MAX);
                        break;
                case TB_MSG_INCLUSION:
                case TB_MSG_CONSISTENCY:
                        get_proof(&rb, r->type, &r->u.proof);
                        break;
                case TB_MSG_STATUS:
                        get_status(&rb, &r->u.status);
                        break;
                case TB_MSG_STATS:
                        get_stats(&rb, &r->u.stats);
                        break;
                default:
                        return TB_E_MSG_FIELD;
                }
        }
        return tb_rbuf_end(&rb);
}
