/*
 * proto/entry.c - ledger entries: check, encode, decode, sign, verify.
 *
 * Encoder and decoder are matched pairs over the cursors of buf.h, one
 * function per kind each way.  The decoder runs tb_entry_check() on what it
 * read, so "decodes" always implies "valid", and a value the encoder would
 * refuse can never come out of the decoder.
 */
#include <sodium.h>
#include <string.h>

#include "buf.h"
#include "entry.h"
#include "key.h"

static const char *const kind_names[TB_KIND_MAX + 1] = {
    [TB_KIND_GENESIS] = "genesis",   [TB_KIND_ENROLL] = "enroll",
    [TB_KIND_REVOKE] = "revoke",     [TB_KIND_POLICY] = "policy",
    [TB_KIND_REGISTER] = "register", [TB_KIND_SERVICE] = "service",
    [TB_KIND_REDEEM] = "redeem",     [TB_KIND_TRANSFER] = "transfer",
    [TB_KIND_REVERSE] = "reverse",
};

const char *tb_kind_name(unsigned kind)
{
        if (kind < TB_KIND_MIN || kind > TB_KIND_MAX)
                return NULL;
        return kind_names[kind];
}

unsigned tb_kind_from_name(const char *name)
{
        for (unsigned k = TB_KIND_MIN; k <= TB_KIND_MAX; k++)
                if (strcmp(kind_names[k], name) == 0)
                        return k;
        return 0;
}

uint8_t tb_kind_roles(unsigned kind)
{
        switch (kind) {
        case TB_KIND_ENROLL:
        case TB_KIND_REVOKE:
        case TB_KIND_POLICY:
                return TB_ROLE_ADMIN;
        case TB_KIND_REGISTER:
        case TB_KIND_SERVICE:
                return TB_ROLE_RECORD;
        case TB_KIND_REDEEM:
        case TB_KIND_TRANSFER:
                return TB_ROLE_REDEEM;
        case TB_KIND_REVERSE:
                /* admin, or the terminal that wrote the original: the ledger
                 * decides, since it needs the original entry. */
                return 0;
        default:
                return 0;
        }
}

static int printable_run(const char *s, size_t n, size_t min, size_t max)
{
        if (n < min || n > max)
                return 0;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
                        return 0;
        return 1;
}

enum tb_err tb_account_check(const char *s, size_t n)
{
        return printable_run(s, n, 1, TB_ACCOUNT_ID_MAX) ? TB_OK : TB_E_ACCOUNT;
}

enum tb_err tb_code_check(const char *s, size_t n)
{
        return printable_run(s, n, 1, TB_CODE_MAX) ? TB_OK : TB_E_CODE;
}

enum tb_err tb_name_check(const char *s, size_t n)
{
        /* one definition of a key name: the signed-note key's */
        return tb_key_name_check(s, n);
}

/*
 * Notes are shown to people and written into logs, where a control
 * character could forge a line and a bidi override could make "10" read
 * "01": such characters are refused outright rather than escaped, because
 * an entry is signed and kept forever.
 */
int tb_text_clean(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < n) {
                uint32_t c = p[i];
                size_t len, k;

                if (c < 0x80) {
                        if (c < 0x20 || c == 0x7f)
                                return 0;
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        c &= 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        c &= 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        c &= 0x07;
                } else {
                        return 0;
                }
                if (n - i < len)
                        return 0;
                for (k = 1; k < len; k++) {
                        if ((p[i + k] & 0xc0) != 0x80)
                                return 0;
                        c = (c << 6) | (p[i + k] & 0x3f);
                }
                if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
                    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
                    (c >= 0x80 && c <= 0x9f) || c == 0x200e || c == 0x200f ||
                    c == 0x2028 || c == 0x2029 ||
                    (c >= 0x202a && c <= 0x202e) ||
                    (c >= 0x2066 && c <= 0x2069) || c == 0xfeff)
                        return 0;
                i += len;
        }
        return 1;
}

enum tb_err tb_note_text_check(const char *s, size_t n)
{
        if (n > TB_NOTE_MAX || !tb_text_clean(s, n))
                return TB_E_NOTE_TEXT;
        return TB_OK;
}

static int time_ok(int64_t t)
{
        return t >= 0 && t <= TB_TIME_MAX;
}

static enum tb_err check_str(const char *s, size_t max,
                             enum tb_err (*check)(const char *, size_t),
                             int may_be_empty)
{
        size_t n = strnlen(s, max + 1);

        if (n > max)
                return check(s, n);
        if (n == 0 && may_be_empty)
                return TB_OK;
        return check(s, n);
}

static enum tb_err check_caps(uint16_t daily, uint64_t max_balance)
{
        if (daily > TB_MINUTES_MAX || max_balance > TB_BALANCE_MAX)
                return TB_E_POLICY;
        return TB_OK;
}

static enum tb_err check_genesis(const struct tb_genesis *g)
{
        enum tb_err err;

        if ((err = check_str(g->origin, TB_NAME_MAX, tb_name_check, 0)) ||
            (err = check_str(g->admin_name, TB_NAME_MAX, tb_name_check, 0)))
                return err;
        if (g->points_per_hour > TB_RATE_MAX)
                return TB_E_POLICY;
        return check_caps(g->daily_minutes_cap, g->max_balance);
}

static enum tb_err check_policy(const struct tb_policy *p)
{
        enum tb_err err;

        if (p->set == 0 || (p->set & ~TB_POLICY_ALL) != 0)
                return TB_E_POLICY;
        if ((err = check_str(p->activity, TB_CODE_MAX, tb_code_check, 1)))
                return err;
        /* Canonical form: what the entry does not set is zero. */
        if (!(p->set & TB_POLICY_RATE) &&
            (p->activity[0] != 0 || p->points_per_hour != 0))
                return TB_E_POLICY;
        if (!(p->set & TB_POLICY_DAILY_CAP) && p->daily_minutes_cap != 0)
                return TB_E_POLICY;
        if (!(p->set & TB_POLICY_MAX_BALANCE) && p->max_balance != 0)
                return TB_E_POLICY;
        if (p->points_per_hour > TB_RATE_MAX)
                return TB_E_POLICY;
        return check_caps(p->daily_minutes_cap, p->max_balance);
}

static enum tb_err check_points(uint32_t points)
{
        return points >= 1 && points <= TB_POINTS_MAX ? TB_OK : TB_E_POINTS;
}

enum tb_err tb_entry_check(const struct tb_entry *e)
{
        enum tb_err err;

        if (e->version != TB_ENTRY_VERSION)
                return TB_E_VERSION;
        if (tb_kind_name(e->kind) == NULL)
                return TB_E_KIND;
        if (!time_ok(e->clock))
                return TB_E_TIME;

        switch (e->kind) {
        case TB_KIND_GENESIS:
                return check_genesis(&e->u.genesis);
        case TB_KIND_ENROLL:
                if (e->u.enroll.roles == 0 ||
                    (e->u.enroll.roles & ~TB_ROLE_ALL) != 0)
                        return TB_E_ROLES;
                return check_str(e->u.enroll.name, TB_NAME_MAX, tb_name_check,
                                 0);
        case TB_KIND_REVOKE:
                return check_str(e->u.revoke.note, TB_NOTE_MAX,
                                 tb_note_text_check, 1);
        case TB_KIND_POLICY:
                return check_policy(&e->u.policy);
        case TB_KIND_REGISTER:
                return check_str(e->u.reg.account, TB_ACCOUNT_ID_MAX,
                                 tb_account_check, 0);
        case TB_KIND_SERVICE:
                if ((err = check_str(e->u.service.account, TB_ACCOUNT_ID_MAX,
                                     tb_account_check, 0)))
                        return err;
                if (!time_ok(e->u.service.start))
                        return TB_E_TIME;
                if (e->u.service.minutes < 1 ||
                    e->u.service.minutes > TB_MINUTES_MAX)
                        return TB_E_MINUTES;
                if ((err = check_str(e->u.service.activity, TB_CODE_MAX,
                                     tb_code_check, 1)))
                        return err;
                return check_str(e->u.service.note, TB_NOTE_MAX,
                                 tb_note_text_check, 1);
        case TB_KIND_REDEEM:
                if ((err = check_str(e->u.redeem.account, TB_ACCOUNT_ID_MAX,
                                     tb_account_check, 0)) ||
                    (err = check_points(e->u.redeem.points)) ||
                    (err = check_str(e->u.redeem.item, TB_CODE_MAX,
                                     tb_code_check, 0)))
                        return err;
                return check_str(e->u.redeem.note, TB_NOTE_MAX,
                                 tb_note_text_check, 1);
        case TB_KIND_TRANSFER:
                if ((err = check_str(e->u.transfer.from, TB_ACCOUNT_ID_MAX,
                                     tb_account_check, 0)) ||
                    (err = check_str(e->u.transfer.to, TB_ACCOUNT_ID_MAX,
                                     tb_account_check, 0)) ||
                    (err = check_points(e->u.transfer.points)))
                        return err;
                if (strcmp(e->u.transfer.from, e->u.transfer.to) == 0)
                        return TB_E_SAME_ACCOUNT;
                return check_str(e->u.transfer.note, TB_NOTE_MAX,
                                 tb_note_text_check, 1);
        case TB_KIND_REVERSE:
                /* seq 0 is the genesis, which nothing can reverse. */
                if (e->u.reverse.seq < 1 || e->u.reverse.seq > TB_SEQ_MAX)
                        return TB_E_SEQ;
                return check_str(e->u.reverse.note, TB_NOTE_MAX,
                                 tb_note_text_check, 1);
        }
        return TB_E_KIND;
}

/* ---- encoding ----------------------------------------------------------- */

static void put_s(struct tb_wbuf *w, const char *s)
{
        tb_put_str8(w, s, strlen(s));
}

static void put_time(struct tb_wbuf *w, int64_t t)
{
        tb_put_u64(w, (uint64_t)t);
}

enum tb_err tb_entry_encode(const struct tb_entry *e, uint8_t *out, size_t cap,
                            size_t *len)
{
        struct tb_wbuf w;
        enum tb_err err;

        *len = 0;
        if ((err = tb_entry_check(e)) != TB_OK)
                return err;
        tb_wbuf_init(&w, out, cap);
        tb_put_u8(&w, e->version);
        tb_put_u8(&w, e->kind);
        tb_put_bytes(&w, e->signer, TB_PUBKEY_SIZE);
        tb_put_bytes(&w, e->request_id, TB_REQUEST_ID_SIZE);
        put_time(&w, e->clock);

        switch (e->kind) {
        case TB_KIND_GENESIS:
                put_s(&w, e->u.genesis.origin);
                tb_put_bytes(&w, e->u.genesis.admin_key, TB_PUBKEY_SIZE);
                put_s(&w, e->u.genesis.admin_name);
                tb_put_u32(&w, e->u.genesis.points_per_hour);
                tb_put_u16(&w, e->u.genesis.daily_minutes_cap);
                tb_put_u64(&w, e->u.genesis.max_balance);
                break;
        case TB_KIND_ENROLL:
                tb_put_bytes(&w, e->u.enroll.key, TB_PUBKEY_SIZE);
                tb_put_u8(&w, e->u.enroll.roles);
                put_s(&w, e->u.enroll.name);
                break;
        case TB_KIND_REVOKE:
                tb_put_bytes(&w, e->u.revoke.key, TB_PUBKEY_SIZE);
                put_s(&w, e->u.revoke.note);
                break;
        case TB_KIND_POLICY:
                tb_put_u8(&w, e->u.policy.set);
                put_s(&w, e->u.policy.activity);
                tb_put_u32(&w, e->u.policy.points_per_hour);
                tb_put_u16(&w, e->u.policy.daily_minutes_cap);
                tb_put_u64(&w, e->u.policy.max_balance);
                break;
        case TB_KIND_REGISTER:
                put_s(&w, e->u.reg.account);
                break;
        case TB_KIND_SERVICE:
                put_s(&w, e->u.service.account);
                put_time(&w, e->u.service.start);
                tb_put_u16(&w, e->u.service.minutes);
                put_s(&w, e->u.service.activity);
                put_s(&w, e->u.service.note);
                break;
        case TB_KIND_REDEEM:
                put_s(&w, e->u.redeem.account);
                tb_put_u32(&w, e->u.redeem.points);
                put_s(&w, e->u.redeem.item);
                put_s(&w, e->u.redeem.note);
                break;
        case TB_KIND_TRANSFER:
                put_s(&w, e->u.transfer.from);
                put_s(&w, e->u.transfer.to);
                tb_put_u32(&w, e->u.transfer.points);
                put_s(&w, e->u.transfer.note);
                break;
        case TB_KIND_REVERSE:
                tb_put_u64(&w, e->u.reverse.seq);
                put_s(&w, e->u.reverse.note);
                break;
        }
        if (w.err != TB_OK)
                return w.err;
        *len = w.len;
        return TB_OK;
}

/* ---- decoding ----------------------------------------------------------- */

/*
 * Copy a one-byte-length string into dst (max bytes + NUL).  A length above
 * max is reported by the field check with the field's own error, so the
 * copy is truncated here and flagged through *toolong.
 */
static void get_s(struct tb_rbuf *r, char *dst, size_t max, int *toolong)
{
        const uint8_t *s;
        size_t n;

        tb_get_str8(r, &s, &n);
        if (n > max) {
                *toolong = 1;
                n = max;
        }
        if (n > 0)
                memcpy(dst, s, n);
        dst[n] = 0;
        /* A NUL inside would silently shorten the string: reject it as the
         * field's own malformation by making the length check fail. */
        if (memchr(dst, 0, n) != NULL)
                *toolong = 1;
}

static int64_t get_time(struct tb_rbuf *r)
{
        uint64_t v = tb_get_u64(r);

        return v > (uint64_t)TB_TIME_MAX ? -1 : (int64_t)v;
}

/* The error a too-long or NUL-carrying string field gets, by field. */
static enum tb_err bad_string_error(const struct tb_entry *e, int which)
{
        switch (e->kind) {
        case TB_KIND_GENESIS:
        case TB_KIND_ENROLL:
                return TB_E_KEY_NAME;
        case TB_KIND_POLICY:
                return TB_E_CODE;
        case TB_KIND_REGISTER:
        case TB_KIND_TRANSFER:
                return which == 0 ? TB_E_ACCOUNT : TB_E_NOTE_TEXT;
        case TB_KIND_SERVICE:
        case TB_KIND_REDEEM:
                return which == 0   ? TB_E_ACCOUNT
                       : which == 1 ? TB_E_CODE
                                    : TB_E_NOTE_TEXT;
        default:
                return TB_E_NOTE_TEXT;
        }
}

enum tb_err tb_entry_decode(const uint8_t *p, size_t len, struct tb_entry *e)
{
        struct tb_rbuf r;
        enum tb_err err;
        int bad[3] = {0, 0, 0};

        memset(e, 0, sizeof(*e));
        tb_rbuf_init(&r, p, len);
        e->version = tb_get_u8(&r);
        if (r.err == TB_OK && e->version != TB_ENTRY_VERSION) {
                err = TB_E_VERSION;
                goto fail;
        }
        e->kind = tb_get_u8(&r);
        if (r.err == TB_OK && tb_kind_name(e->kind) == NULL) {
                err = TB_E_KIND;
                goto fail;
        }
        tb_get_bytes(&r, e->signer, TB_PUBKEY_SIZE);
        tb_get_bytes(&r, e->request_id, TB_REQUEST_ID_SIZE);
        e->clock = get_time(&r);

        switch (e->kind) {
        case TB_KIND_GENESIS:
                get_s(&r, e->u.genesis.origin, TB_NAME_MAX, &bad[0]);
                tb_get_bytes(&r, e->u.genesis.admin_key, TB_PUBKEY_SIZE);
                get_s(&r, e->u.genesis.admin_name, TB_NAME_MAX, &bad[0]);
                e->u.genesis.points_per_hour = tb_get_u32(&r);
                e->u.genesis.daily_minutes_cap = tb_get_u16(&r);
                e->u.genesis.max_balance = tb_get_u64(&r);
                break;
        case TB_KIND_ENROLL:
                tb_get_bytes(&r, e->u.enroll.key, TB_PUBKEY_SIZE);
                e->u.enroll.roles = tb_get_u8(&r);
                get_s(&r, e->u.enroll.name, TB_NAME_MAX, &bad[0]);
                break;
        case TB_KIND_REVOKE:
                tb_get_bytes(&r, e->u.revoke.key, TB_PUBKEY_SIZE);
                get_s(&r, e->u.revoke.note, TB_NOTE_MAX, &bad[2]);
                break;
        case TB_KIND_POLICY:
                e->u.policy.set = tb_get_u8(&r);
                get_s(&r, e->u.policy.activity, TB_CODE_MAX, &bad[1]);
                e->u.policy.points_per_hour = tb_get_u32(&r);
                e->u.policy.daily_minutes_cap = tb_get_u16(&r);
                e->u.policy.max_balance = tb_get_u64(&r);
                break;
        case TB_KIND_REGISTER:
                get_s(&r, e->u.reg.account, TB_ACCOUNT_ID_MAX, &bad[0]);
                break;
        case TB_KIND_SERVICE:
                get_s(&r, e->u.service.account, TB_ACCOUNT_ID_MAX, &bad[0]);
                e->u.service.start = get_time(&r);
                e->u.service.minutes = tb_get_u16(&r);
                get_s(&r, e->u.service.activity, TB_CODE_MAX, &bad[1]);
                get_s(&r, e->u.service.note, TB_NOTE_MAX, &bad[2]);
                break;
        case TB_KIND_REDEEM:
                get_s(&r, e->u.redeem.account, TB_ACCOUNT_ID_MAX, &bad[0]);
                e->u.redeem.points = tb_get_u32(&r);
                get_s(&r, e->u.redeem.item, TB_CODE_MAX, &bad[1]);
                get_s(&r, e->u.redeem.note, TB_NOTE_MAX, &bad[2]);
                break;
        case TB_KIND_TRANSFER:
                get_s(&r, e->u.transfer.from, TB_ACCOUNT_ID_MAX, &bad[0]);
                get_s(&r, e->u.transfer.to, TB_ACCOUNT_ID_MAX, &bad[0]);
                e->u.transfer.points = tb_get_u32(&r);
                get_s(&r, e->u.transfer.note, TB_NOTE_MAX, &bad[2]);
                break;
        case TB_KIND_REVERSE:
                e->u.reverse.seq = tb_get_u64(&r);
                get_s(&r, e->u.reverse.note, TB_NOTE_MAX, &bad[2]);
                break;
        }
        if ((err = tb_rbuf_end(&r)) != TB_OK)
                goto fail;
        for (int i = 0; i < 3; i++)
                if (bad[i]) {
                        err = bad_string_error(e, i);
                        goto fail;
                }
        if ((err = tb_entry_check(e)) != TB_OK)
                goto fail;
        return TB_OK;
fail:
        memset(e, 0, sizeof(*e));
        return err;
}

/* ---- signatures and records ---------------------------------------------- */

enum tb_err tb_entry_sig_message(const char *origin, const uint8_t *body,
                                 size_t body_len, uint8_t *out, size_t cap,
                                 size_t *len)
{
        struct tb_wbuf w;
        size_t olen = strnlen(origin, TB_NAME_MAX + 1);
        enum tb_err err;

        *len = 0;
        if ((err = tb_name_check(origin, olen)) != TB_OK)
                return err;
        tb_wbuf_init(&w, out, cap);
        tb_put_bytes(&w, TB_ENTRY_SIG_CONTEXT, sizeof(TB_ENTRY_SIG_CONTEXT));
        tb_put_str8(&w, origin, olen);
        tb_put_bytes(&w, body, body_len);
        if (w.err != TB_OK)
                return w.err;
        *len = w.len;
        return TB_OK;
}

enum tb_err tb_entry_sign(const char *origin, const uint8_t *body,
                          size_t body_len, const uint8_t sk[TB_SECKEY_SIZE],
                          uint8_t sig[TB_SIG_SIZE])
{
        uint8_t msg[TB_SIG_MESSAGE_MAX];
        size_t n;
        enum tb_err err;

        if (body_len > TB_BODY_MAX)
                return TB_E_TOO_LARGE;
        err =
            tb_entry_sig_message(origin, body, body_len, msg, sizeof(msg), &n);
        if (err != TB_OK)
                return err;
        if (crypto_sign_detached(sig, NULL, msg, n, sk) != 0)
                return TB_E_CRYPTO;
        return TB_OK;
}

enum tb_err tb_entry_sign_key(const char *origin, const uint8_t *body,
                              size_t body_len, const struct tb_skey *k,
                              uint8_t sig[TB_SIG_SIZE])
{
        uint8_t msg[TB_SIG_MESSAGE_MAX];
        size_t n;
        enum tb_err err;

        if (body_len > TB_BODY_MAX)
                return TB_E_TOO_LARGE;
        err =
            tb_entry_sig_message(origin, body, body_len, msg, sizeof(msg), &n);
        if (err != TB_OK)
                return err;
        return tb_skey_sign(k, msg, n, sig);
}

enum tb_err tb_entry_verify(const char *origin, const uint8_t *body,
                            size_t body_len, const uint8_t pk[TB_PUBKEY_SIZE],
                            const uint8_t sig[TB_SIG_SIZE])
{
        uint8_t msg[TB_SIG_MESSAGE_MAX];
        size_t n;

        if (body_len > TB_BODY_MAX ||
            tb_entry_sig_message(origin, body, body_len, msg, sizeof(msg),
                                 &n) != TB_OK)
                return TB_E_BAD_SIGNATURE;
        if (crypto_sign_verify_detached(sig, msg, n, pk) != 0)
                return TB_E_BAD_SIGNATURE;
        return TB_OK;
}

enum tb_err tb_signed_decode(const uint8_t *p, size_t len, struct tb_entry *e,
                             const uint8_t **body, size_t *body_len,
                             const uint8_t **sig)
{
        enum tb_err err;

        *body = NULL;
        *body_len = 0;
        *sig = NULL;
        if (len < TB_SIG_SIZE) {
                memset(e, 0, sizeof(*e));
                return TB_E_TRUNCATED;
        }
        if ((err = tb_entry_decode(p, len - TB_SIG_SIZE, e)) != TB_OK)
                return err;
        *body = p;
        *body_len = len - TB_SIG_SIZE;
        *sig = p + len - TB_SIG_SIZE;
        return TB_OK;
}

enum tb_err tb_record_encode(uint64_t seq, int64_t received,
                             const uint8_t *body, size_t body_len,
                             const uint8_t sig[TB_SIG_SIZE], uint8_t *out,
                             size_t cap, size_t *len)
{
        struct tb_wbuf w;

        *len = 0;
        if (seq > TB_SEQ_MAX)
                return TB_E_SEQ;
        if (!time_ok(received))
                return TB_E_TIME;
        tb_wbuf_init(&w, out, cap);
        tb_put_u64(&w, seq);
        put_time(&w, received);
        tb_put_bytes(&w, body, body_len);
        tb_put_bytes(&w, sig, TB_SIG_SIZE);
        if (w.err != TB_OK)
                return w.err;
        *len = w.len;
        return TB_OK;
}

enum tb_err tb_record_decode(const uint8_t *p, size_t len, struct tb_record *r)
{
        struct tb_rbuf rb;
        enum tb_err err;

        memset(r, 0, sizeof(*r));
        tb_rbuf_init(&rb, p, len);
        r->seq = tb_get_u64(&rb);
        r->received = get_time(&rb);
        if (rb.err != TB_OK || len < TB_RECORD_HEADER + TB_SIG_SIZE) {
                err = TB_E_TRUNCATED;
                goto fail;
        }
        if (r->seq > TB_SEQ_MAX) {
                err = TB_E_SEQ;
                goto fail;
        }
        if (r->received < 0) {
                err = TB_E_TIME;
                goto fail;
        }
        err = tb_signed_decode(p + TB_RECORD_HEADER, len - TB_RECORD_HEADER,
                               &r->entry, &r->body, &r->body_len, &r->sig);
        if (err != TB_OK)
                goto fail;
        return TB_OK;
fail:
        memset(r, 0, sizeof(*r));
        return err;
}

_Static_assert(TB_NAME_MAX == TB_NAME_MAX,
               "an origin is a key name: one length limit");
_Static_assert(TB_ENTRY_CLOCK_OFF == 2 + TB_PUBKEY_SIZE + TB_REQUEST_ID_SIZE,
               "the clock follows version, kind, signer and request id");

enum tb_err tb_request_id_make(int64_t unix_ms, const uint8_t rnd[10],
                               uint8_t out[TB_REQUEST_ID_SIZE])
{
        if (unix_ms < 0 || unix_ms > (int64_t)0xffffffffffff)
                return TB_E_TIME;
        for (int i = 0; i < 6; i++)
                out[i] = (uint8_t)((uint64_t)unix_ms >> (8 * (5 - i)));
        memcpy(out + 6, rnd, 10);
        out[6] = (uint8_t)(0x70 | (out[6] & 0x0f));
        out[8] = (uint8_t)(0x80 | (out[8] & 0x3f));
        return TB_OK;
}

int tb_request_id_time(const uint8_t id[TB_REQUEST_ID_SIZE], int64_t *unix_ms)
{
        uint64_t ms = 0;

        if ((id[6] & 0xf0) != 0x70 || (id[8] & 0xc0) != 0x80)
                return 0;
        for (int i = 0; i < 6; i++)
                ms = ms << 8 | id[i];
        *unix_ms = (int64_t)ms;
        return 1;
}
