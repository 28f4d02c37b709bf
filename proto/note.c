/*
 * proto/note.c - signed notes and checkpoints.
 *
 * tb_note_open follows Go's note.Open step by step (same split, same
 * checks, same order of "malformed" tests, same treatment of unknown and
 * repeated signatures) so that a note is accepted here exactly when Go
 * accepts it, with one deliberate difference: base64 must be canonical.
 * Signature blobs are only decoded in full when they belong to a known key
 * (68 bytes); others are validated in place, so no allocation is needed
 * however long an unknown algorithm's signature is.
 */
#include "note.h"

#include <string.h>

#include "b64.h"
#include "buf.h"

static const uint8_t em_dash_sp[4] = {0xe2, 0x80, 0x94, 0x20};

#define SIG_BLOB_SIZE (4 + TB_SIG_SIZE)

/*
 * Length of the UTF-8 sequence at p[0..n), its code point in *cp; 0 for
 * what Go's utf8.DecodeRune calls RuneError of size 1 (bad lead or
 * continuation byte, truncation, overlong form, surrogate, > U+10FFFF).
 */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
        uint8_t c = p[0], lo = 0x80, hi = 0xbf;
        uint32_t v;
        size_t len;

        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                v = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                v = c & 0x0f;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                v = c & 0x07;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else {
                return 0;
        }
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if (p[i] < lo || p[i] > hi)
                        return 0;
                lo = 0x80;
                hi = 0xbf;
                v = v << 6 | (p[i] & 0x3f);
        }
        *cp = v;
        return len;
}

/*
 * Valid UTF-8 without C0 controls other than '\n' (Go's rule); strict also
 * refuses DEL and the C1 controls, for text we sign ourselves.
 */
static int text_ok(const uint8_t *p, size_t n, int strict)
{
        uint32_t cp;
        size_t i = 0, step;

        while (i < n) {
                if ((step = utf8_next(p + i, n - i, &cp)) == 0)
                        return 0;
                if (cp < 0x20 && cp != '\n')
                        return 0;
                if (strict && (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)))
                        return 0;
                i += step;
        }
        return 1;
}

/* Go's unicode.IsSpace. */
static int is_unicode_space(uint32_t c)
{
        switch (c) {
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
        case ' ':
        case 0x85:
        case 0xa0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202f:
        case 0x205f:
        case 0x3000:
                return 1;
        default:
                return c >= 0x2000 && c <= 0x200a;
        }
}

/*
 * A name as C2SP (and Go's isValidName) allows it in a signature line,
 * which is looser than our key name rules: signatures by other parties
 * (witnesses) must not make a note malformed.  p is valid UTF-8 already.
 */
static int sig_name_ok(const uint8_t *p, size_t n)
{
        uint32_t cp;
        size_t i = 0, step;

        if (n == 0)
                return 0;
        while (i < n) {
                if ((step = utf8_next(p + i, n - i, &cp)) == 0)
                        return 0;
                if (cp == '+' || is_unicode_space(cp))
                        return 0;
                i += step;
        }
        return 1;
}

enum tb_err tb_note_sign(const uint8_t *text, size_t len,
                         const struct tb_skey *k, uint8_t *out, size_t cap,
                         size_t *out_len)
{
        struct tb_vkey pub;
        uint8_t blob[SIG_BLOB_SIZE];
        char b64[TB_B64_LEN(SIG_BLOB_SIZE) + 1];
        size_t b64_len, need;
        struct tb_wbuf w;
        enum tb_err err;

        if (len == 0 || text[len - 1] != '\n' || !text_ok(text, len, 1))
                return TB_E_NOTE_FORMAT;
        tb_skey_public(k, &pub);
        need = len + 1 + 4 + pub.name_len + 1 + TB_B64_LEN(SIG_BLOB_SIZE) + 1;
        if (out == NULL || cap < need)
                return TB_E_OVERFLOW;
        tb_store_u32be(blob, pub.id);
        if ((err = tb_skey_sign(k, text, len, blob + 4)) != TB_OK)
                return err;
        if ((err = tb_b64_encode(blob, sizeof(blob), b64, sizeof(b64),
                                 &b64_len)) != TB_OK)
                return err;
        tb_wbuf_init(&w, out, cap);
        tb_put_bytes(&w, text, len);
        tb_put_u8(&w, '\n');
        tb_put_bytes(&w, em_dash_sp, sizeof(em_dash_sp));
        tb_put_bytes(&w, pub.name, pub.name_len);
        tb_put_u8(&w, ' ');
        tb_put_bytes(&w, b64, b64_len);
        tb_put_u8(&w, '\n');
        if (w.err != TB_OK)
                return w.err;
        *out_len = w.len;
        return TB_OK;
}

/* Index of the known key named (name, id), or -1; -2 if ambiguous. */
static long find_known(const struct tb_vkey *known, size_t nknown,
                       const uint8_t *name, size_t name_len, uint32_t id)
{
        long found = -1;

        for (size_t i = 0; i < nknown; i++) {
                if (known[i].id != id || known[i].name_len != name_len ||
                    memcmp(known[i].name, name, name_len) != 0)
                        continue;
                if (found >= 0)
                        return -2;
                found = (long)i;
        }
        return found;
}

static enum tb_err note_open(const uint8_t *msg, size_t len,
                             const struct tb_vkey *known, size_t nknown,
                             size_t *text_len, bool *verified)
{
        size_t end, tlen, off, nsigs = 0, nseen = 0;
        size_t seen[TB_NOTE_MAX_SIGS];

        if (!text_ok(msg, len, 0))
                return TB_E_NOTE_FORMAT;
        /* Go: bytes.LastIndex(msg, "\n\n"); the text keeps one newline. */
        for (end = len; end >= 2; end--)
                if (msg[end - 2] == '\n' && msg[end - 1] == '\n')
                        break;
        if (end < 2)
                return TB_E_NOTE_FORMAT;
        tlen = end - 1;
        off = end;
        if (off == len || msg[len - 1] != '\n')
                return TB_E_NOTE_FORMAT;

        while (off < len) {
                const uint8_t *line = msg + off, *nl, *name, *sp;
                const char *b64;
                size_t line_len, name_len, b64_len, n;
                uint8_t head[6], blob[SIG_BLOB_SIZE];
                uint32_t id;
                long idx;
                int dup = 0;

                nl = memchr(line, '\n', len - off);
                line_len = (size_t)(nl - line);
                off += line_len + 1;
                if (line_len < sizeof(em_dash_sp) ||
                    memcmp(line, em_dash_sp, sizeof(em_dash_sp)) != 0)
                        return TB_E_NOTE_FORMAT;
                name = line + sizeof(em_dash_sp);
                sp = memchr(name, ' ', (size_t)(nl - name));
                name_len = (size_t)((sp != NULL ? sp : nl) - name);
                b64 = sp != NULL ? (const char *)sp + 1 : (const char *)nl;
                b64_len = (size_t)((const char *)nl - b64);
                if (tb_b64_decode(b64, b64_len, NULL, 0, &n) != TB_OK ||
                    !sig_name_ok(name, name_len) || b64_len == 0 || n < 5)
                        return TB_E_NOTE_FORMAT;
                if (++nsigs > TB_NOTE_MAX_SIGS)
                        return TB_E_NOTE_FORMAT;

                /* n >= 5 means at least 8 characters: the id is in them. */
                if (tb_b64_decode(b64, 8, head, sizeof(head), NULL) != TB_OK)
                        return TB_E_NOTE_FORMAT;
                id = tb_load_u32be(head);
                idx = find_known(known, nknown, name, name_len, id);
                if (idx == -2)
                        return TB_E_INVALID_ARG;
                if (idx < 0)
                        continue;
                for (size_t i = 0; i < nseen; i++)
                        dup |= seen[i] == (size_t)idx;
                if (dup)
                        continue;
                seen[nseen++] = (size_t)idx;
                if (n != SIG_BLOB_SIZE ||
                    tb_b64_decode(b64, b64_len, blob, sizeof(blob), NULL) !=
                        TB_OK ||
                    tb_vkey_verify(&known[idx], msg, tlen, blob + 4) != TB_OK)
                        return TB_E_BAD_SIGNATURE;
                if (verified != NULL)
                        verified[idx] = true;
        }
        *text_len = tlen;
        return nseen > 0 ? TB_OK : TB_E_NOTE_UNVERIFIED;
}

enum tb_err tb_note_open(const uint8_t *msg, size_t len,
                         const struct tb_vkey *known, size_t nknown,
                         size_t *text_len, bool *verified)
{
        enum tb_err err;

        if (verified != NULL)
                for (size_t i = 0; i < nknown; i++)
                        verified[i] = false;
        err = note_open(msg, len, known, nknown, text_len, verified);
        /* A later line can spoil a note after a key verified. */
        if (err != TB_OK && verified != NULL)
                for (size_t i = 0; i < nknown; i++)
                        verified[i] = false;
        return err;
}

enum tb_err tb_checkpoint_format(const struct tb_checkpoint *cp, uint8_t *out,
                                 size_t cap, size_t *out_len)
{
        char dec[20], b64[TB_B64_LEN(TB_HASH_SIZE) + 1];
        size_t ndec = 0, b64_len;
        uint64_t v = cp->size;
        struct tb_wbuf w;
        enum tb_err err;

        if (tb_key_name_check(cp->origin, cp->origin_len) != TB_OK ||
            cp->size > TB_MERKLE_SIZE_MAX)
                return TB_E_CHECKPOINT;
        do {
                dec[sizeof(dec) - 1 - ndec++] = (char)('0' + v % 10);
                v /= 10;
        } while (v != 0);
        if ((err = tb_b64_encode(cp->root, TB_HASH_SIZE, b64, sizeof(b64),
                                 &b64_len)) != TB_OK)
                return err;
        tb_wbuf_init(&w, out, cap);
        tb_put_bytes(&w, cp->origin, cp->origin_len);
        tb_put_u8(&w, '\n');
        tb_put_bytes(&w, dec + sizeof(dec) - ndec, ndec);
        tb_put_u8(&w, '\n');
        tb_put_bytes(&w, b64, b64_len);
        tb_put_u8(&w, '\n');
        if (w.err != TB_OK)
                return w.err;
        *out_len = w.len;
        return TB_OK;
}

/* The next '\n'-terminated line of p[*off..len), without its newline. */
static int next_line(const uint8_t *p, size_t len, size_t *off,
                     const uint8_t **line, size_t *line_len)
{
        const uint8_t *nl;

        if (*off >= len)
                return -1;
        if ((nl = memchr(p + *off, '\n', len - *off)) == NULL)
                return -1;
        *line = p + *off;
        *line_len = (size_t)(nl - *line);
        *off += *line_len + 1;
        return 0;
}

int tb_checkpoint_parse_size(const uint8_t *s, size_t n, uint64_t *out)
{
        uint64_t v = 0;

        if (n == 0 || (n > 1 && s[0] == '0'))
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                if (v > (TB_MERKLE_SIZE_MAX - (uint64_t)(s[i] - '0')) / 10)
                        return -1;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *out = v;
        return 0;
}

enum tb_err tb_checkpoint_parse(const uint8_t *text, size_t len,
                                struct tb_checkpoint *cp)
{
        const uint8_t *line;
        size_t line_len, off = 0, n;

        memset(cp, 0, sizeof(*cp));
        if (next_line(text, len, &off, &line, &line_len) != 0 ||
            tb_key_name_check((const char *)line, line_len) != TB_OK)
                goto fail;
        memcpy(cp->origin, line, line_len);
        cp->origin_len = line_len;
        if (next_line(text, len, &off, &line, &line_len) != 0 ||
            tb_checkpoint_parse_size(line, line_len, &cp->size) != 0)
                goto fail;
        if (next_line(text, len, &off, &line, &line_len) != 0 ||
            tb_b64_decode((const char *)line, line_len, cp->root,
                          sizeof(cp->root), &n) != TB_OK ||
            n != TB_HASH_SIZE)
                goto fail;
        while (off < len)
                if (next_line(text, len, &off, &line, &line_len) != 0 ||
                    line_len == 0)
                        goto fail;
        return TB_OK;
fail:
        memset(cp, 0, sizeof(*cp));
        return TB_E_CHECKPOINT;
}

enum tb_err tb_checkpoint_sign(const struct tb_checkpoint *cp,
                               const struct tb_skey *k, uint8_t *out,
                               size_t cap, size_t *out_len)
{
        uint8_t body[TB_CHECKPOINT_BODY_MAX];
        size_t body_len;
        struct tb_vkey pub;
        enum tb_err err;

        tb_skey_public(k, &pub);
        if (pub.name_len != cp->origin_len ||
            memcmp(pub.name, cp->origin, cp->origin_len) != 0)
                return TB_E_ORIGIN;
        err = tb_checkpoint_format(cp, body, sizeof(body), &body_len);
        if (err != TB_OK)
                return err;
        return tb_note_sign(body, body_len, k, out, cap, out_len);
}

enum tb_err tb_checkpoint_open(const uint8_t *note, size_t len,
                               const char *origin, const struct tb_vkey *vkey,
                               struct tb_checkpoint *cp)
{
        size_t text_len;
        enum tb_err err;

        memset(cp, 0, sizeof(*cp));
        if ((err = tb_note_open(note, len, vkey, 1, &text_len, NULL)) != TB_OK)
                return err;
        if ((err = tb_checkpoint_parse(note, text_len, cp)) != TB_OK)
                return err;
        if (cp->origin_len != strlen(origin) ||
            memcmp(cp->origin, origin, cp->origin_len) != 0) {
                memset(cp, 0, sizeof(*cp));
                return TB_E_ORIGIN;
        }
        return TB_OK;
}
