/*
 * proto/link.c - the log link (link.h; docs/log-link.md).
 */
#include "link.h"

#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "buf.h"

static const uint8_t link_em_dash_sp[4] = {0xe2, 0x80, 0x94, 0x20};

/* The next '\n'-terminated line of p[*off..len), without its newline. */
static int link_line(const uint8_t *p, size_t len, size_t *off,
                     const uint8_t **line, size_t *line_len)
{
        const uint8_t *nl;

        if (*off >= len || (nl = memchr(p + *off, '\n', len - *off)) == NULL)
                return -1;
        *line = p + *off;
        *line_len = (size_t)(nl - *line);
        *off += *line_len + 1;
        return 0;
}

/* line[0..n) starts with the word w and one space: skip them. */
static int link_word(const uint8_t **line, size_t *n, const char *w)
{
        size_t wl = strlen(w);

        if (*n < wl + 1 || memcmp(*line, w, wl) != 0 || (*line)[wl] != ' ')
                return -1;
        *line += wl + 1;
        *n -= wl + 1;
        return 0;
}

/* The next space-separated field of line[0..n) (a non-empty one). */
static int link_field(const uint8_t **line, size_t *n, const uint8_t **f,
                      size_t *flen, int last)
{
        const uint8_t *sp = memchr(*line, ' ', *n);

        if (last ? sp != NULL : sp == NULL)
                return -1;
        *f = *line;
        *flen = last ? *n : (size_t)(sp - *line);
        if (*flen == 0)
                return -1;
        *line += *flen + (last ? 0 : 1);
        *n -= *flen + (last ? 0 : 1);
        return 0;
}

/* A checkpoint's size, and never 0: a link names a tree with entries. */
static int link_size(const uint8_t *s, size_t n, uint64_t *out)
{
        uint64_t v;

        if (tb_checkpoint_parse_size(s, n, &v) != 0 || v == 0)
                return -1;
        *out = v;
        return 0;
}

static uint32_t link_sig_id(const uint8_t sig[TB_LINK_SIG_SIZE])
{
        return (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 |
               (uint32_t)sig[2] << 8 | (uint32_t)sig[3];
}

/* The checkpoint of a side agrees with its key: origin, size. */
static enum tb_err link_side_check(const struct tb_link_log *s)
{
        if (s->cp.origin_len != s->key.name_len ||
            memcmp(s->cp.origin, s->key.name, s->key.name_len) != 0 ||
            s->cp.size == 0 || s->cp.size > TB_MERKLE_SIZE_MAX)
                return TB_E_CHECKPOINT;
        if (link_sig_id(s->sig) != s->key.id)
                return TB_E_KEY_HASH;
        return TB_OK;
}

static enum tb_err link_pair_check(const struct tb_link *l)
{
        enum tb_err err;

        if ((err = link_side_check(&l->old_log)) != TB_OK ||
            (err = link_side_check(&l->new_log)) != TB_OK)
                return err;
        if (strcmp(l->old_log.key.name, l->new_log.key.name) == 0 ||
            memcmp(l->old_log.key.pk, l->new_log.key.pk, TB_PUBKEY_SIZE) == 0)
                return TB_E_INVALID_ARG;
        return TB_OK;
}

enum tb_err tb_link_side(const uint8_t *note, size_t len,
                         const struct tb_vkey *k, struct tb_link_log *side)
{
        const uint8_t *line;
        size_t text_len, off, line_len, n;
        uint8_t sig[TB_LINK_SIG_SIZE];
        enum tb_err err;

        memset(side, 0, sizeof(*side));
        if ((err = tb_checkpoint_open(note, len, k->name, k, &side->cp)) !=
            TB_OK)
                return err;
        if (side->cp.size == 0) {
                memset(side, 0, sizeof(*side));
                return TB_E_CHECKPOINT;
        }
        /* opened, so well formed: the text ends at the last blank line and
         * one of the signature lines after it is k's and verifies */
        if ((err = tb_note_open(note, len, k, 1, &text_len, NULL)) != TB_OK)
                return err;
        off = text_len + 1;
        while (link_line(note, len, &off, &line, &line_len) == 0) {
                if (line_len < 4 + k->name_len + 1 ||
                    memcmp(line, link_em_dash_sp, 4) != 0 ||
                    memcmp(line + 4, k->name, k->name_len) != 0 ||
                    line[4 + k->name_len] != ' ')
                        continue;
                if (tb_b64_decode((const char *)line + 4 + k->name_len + 1,
                                  line_len - 4 - k->name_len - 1, sig,
                                  sizeof(sig), &n) != TB_OK ||
                    n != sizeof(sig) || link_sig_id(sig) != k->id)
                        continue;
                if (tb_vkey_verify(k, note, text_len, sig + 4) != TB_OK)
                        continue;
                side->key = *k;
                memcpy(side->sig, sig, sizeof(sig));
                return TB_OK;
        }
        memset(side, 0, sizeof(*side));
        return TB_E_NOTE_UNVERIFIED; /* not reached: the note opened */
}

/* "<word> <vkey>\n" then "<word>-checkpoint <size> <root> <sig>\n". */
static enum tb_err link_put_side(struct tb_wbuf *w, const char *word,
                                 const struct tb_link_log *s)
{
        char vkey[TB_VKEY_MAX], root[TB_B64_LEN(TB_HASH_SIZE) + 1];
        char sig[TB_B64_LEN(TB_LINK_SIG_SIZE) + 1], dec[20];
        size_t vkey_len, root_len, sig_len, ndec = 0;
        uint64_t v = s->cp.size;
        enum tb_err err;

        if ((err = tb_vkey_format(&s->key, vkey, sizeof(vkey), &vkey_len)) !=
                TB_OK ||
            (err = tb_b64_encode(s->cp.root, TB_HASH_SIZE, root, sizeof(root),
                                 &root_len)) != TB_OK ||
            (err = tb_b64_encode(s->sig, TB_LINK_SIG_SIZE, sig, sizeof(sig),
                                 &sig_len)) != TB_OK)
                return err;
        do {
                dec[sizeof(dec) - 1 - ndec++] = (char)('0' + v % 10);
                v /= 10;
        } while (v != 0);
        tb_put_bytes(w, word, strlen(word));
        tb_put_bytes(w, "-log ", 5);
        tb_put_bytes(w, vkey, vkey_len);
        tb_put_u8(w, '\n');
        tb_put_bytes(w, word, strlen(word));
        tb_put_bytes(w, "-checkpoint ", 12);
        tb_put_bytes(w, dec + sizeof(dec) - ndec, ndec);
        tb_put_u8(w, ' ');
        tb_put_bytes(w, root, root_len);
        tb_put_u8(w, ' ');
        tb_put_bytes(w, sig, sig_len);
        tb_put_u8(w, '\n');
        return TB_OK;
}

enum tb_err tb_link_format(const struct tb_link *l, uint8_t *out, size_t cap,
                           size_t *out_len)
{
        struct tb_wbuf w;
        enum tb_err err;

        if ((err = link_pair_check(l)) != TB_OK)
                return err;
        tb_wbuf_init(&w, out, cap);
        tb_put_bytes(&w, TB_LINK_MAGIC, strlen(TB_LINK_MAGIC));
        tb_put_u8(&w, '\n');
        if ((err = link_put_side(&w, "old", &l->old_log)) != TB_OK ||
            (err = link_put_side(&w, "new", &l->new_log)) != TB_OK)
                return err;
        if (w.err != TB_OK)
                return w.err;
        *out_len = w.len;
        return TB_OK;
}

static enum tb_err link_parse_side(const uint8_t *text, size_t len, size_t *off,
                                   const char *word, struct tb_link_log *s)
{
        char kw[24], ckw[24];
        const uint8_t *line, *f;
        size_t n, flen, dn;
        enum tb_err err;

        snprintf(kw, sizeof(kw), "%s-log", word);
        snprintf(ckw, sizeof(ckw), "%s-checkpoint", word);
        if (link_line(text, len, off, &line, &n) != 0 ||
            link_word(&line, &n, kw) != 0)
                return TB_E_NOTE_FORMAT;
        if ((err = tb_vkey_parse((const char *)line, n, &s->key)) != TB_OK)
                return err;
        if (link_line(text, len, off, &line, &n) != 0 ||
            link_word(&line, &n, ckw) != 0)
                return TB_E_NOTE_FORMAT;
        memcpy(s->cp.origin, s->key.name, s->key.name_len + 1);
        s->cp.origin_len = s->key.name_len;
        if (link_field(&line, &n, &f, &flen, 0) != 0)
                return TB_E_NOTE_FORMAT;
        if (link_size(f, flen, &s->cp.size) != 0)
                return TB_E_CHECKPOINT;
        if (link_field(&line, &n, &f, &flen, 0) != 0)
                return TB_E_NOTE_FORMAT;
        if (tb_b64_decode((const char *)f, flen, s->cp.root, TB_HASH_SIZE,
                          &dn) != TB_OK ||
            dn != TB_HASH_SIZE)
                return TB_E_CHECKPOINT;
        if (link_field(&line, &n, &f, &flen, 1) != 0 ||
            tb_b64_decode((const char *)f, flen, s->sig, TB_LINK_SIG_SIZE,
                          &dn) != TB_OK ||
            dn != TB_LINK_SIG_SIZE)
                return TB_E_NOTE_FORMAT;
        return TB_OK;
}

enum tb_err tb_link_parse(const uint8_t *text, size_t len, struct tb_link *l)
{
        const uint8_t *line;
        size_t off = 0, n;
        enum tb_err err;

        memset(l, 0, sizeof(*l));
        if (link_line(text, len, &off, &line, &n) != 0 ||
            n != strlen(TB_LINK_MAGIC) || memcmp(line, TB_LINK_MAGIC, n) != 0)
                err = TB_E_NOTE_FORMAT;
        else if ((err = link_parse_side(text, len, &off, "old", &l->old_log)) ==
                     TB_OK &&
                 (err = link_parse_side(text, len, &off, "new", &l->new_log)) ==
                     TB_OK) {
                if (off != len)
                        err = TB_E_NOTE_FORMAT;
                else
                        err = link_pair_check(l);
        }
        if (err != TB_OK)
                memset(l, 0, sizeof(*l));
        return err;
}

enum tb_err tb_link_checkpoint(const struct tb_link_log *side, uint8_t *out,
                               size_t cap, size_t *out_len)
{
        char sig[TB_B64_LEN(TB_LINK_SIG_SIZE) + 1];
        size_t body_len, sig_len;
        struct tb_wbuf w;
        enum tb_err err;

        if ((err = tb_checkpoint_format(&side->cp, out, cap, &body_len)) !=
                TB_OK ||
            (err = tb_b64_encode(side->sig, TB_LINK_SIG_SIZE, sig, sizeof(sig),
                                 &sig_len)) != TB_OK)
                return err;
        tb_wbuf_init(&w, out + body_len, cap - body_len);
        tb_put_u8(&w, '\n');
        tb_put_bytes(&w, link_em_dash_sp, sizeof(link_em_dash_sp));
        tb_put_bytes(&w, side->key.name, side->key.name_len);
        tb_put_u8(&w, ' ');
        tb_put_bytes(&w, sig, sig_len);
        tb_put_u8(&w, '\n');
        if (w.err != TB_OK)
                return w.err;
        *out_len = body_len + w.len;
        return TB_OK;
}

enum tb_err tb_link_verify_side(const struct tb_link_log *side)
{
        uint8_t note[TB_CHECKPOINT_MAX];
        struct tb_checkpoint cp;
        size_t len;
        enum tb_err err;

        if ((err = tb_link_checkpoint(side, note, sizeof(note), &len)) != TB_OK)
                return err;
        return tb_checkpoint_open(note, len, side->key.name, &side->key, &cp);
}

enum tb_err tb_link_sign(const struct tb_link *l, const struct tb_skey *admin,
                         uint8_t *out, size_t cap, size_t *out_len)
{
        uint8_t text[TB_LINK_TEXT_MAX];
        size_t len;
        enum tb_err err;

        if ((err = tb_link_format(l, text, sizeof(text), &len)) != TB_OK ||
            (err = tb_link_verify_side(&l->old_log)) != TB_OK ||
            (err = tb_link_verify_side(&l->new_log)) != TB_OK)
                return err;
        return tb_note_sign(text, len, admin, out, cap, out_len);
}

enum tb_err tb_link_open(const uint8_t *note, size_t len,
                         const struct tb_vkey *admin, struct tb_link *l)
{
        size_t text_len;
        enum tb_err err;

        memset(l, 0, sizeof(*l));
        if ((err = tb_note_open(note, len, admin, 1, &text_len, NULL)) != TB_OK)
                return err;
        return tb_link_parse(note, text_len, l);
}
