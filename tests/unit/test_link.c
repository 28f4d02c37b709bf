/*
 * The log link (proto/link.h) against docs/log-link.md, which this test
 * owns: the keys from their seeds, the link made from its two signed
 * checkpoints byte for byte, parsed back field by field, opened with the
 * admin key (and refused with another), each rejection vector refused with
 * its error, the forged side refused by its log key; then what the
 * vectors cannot show: every signature byte matters, no prefix parses,
 * other keys' signature lines in the link or a checkpoint change nothing.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "docvec.h"
#include "key.h"
#include "link.h"
#include "note.h"

static struct docvec_set set;

static const struct {
        const char *name;
        enum tb_err err;
} err_names[] = {
    {"TB_E_NOTE_FORMAT", TB_E_NOTE_FORMAT},
    {"TB_E_CHECKPOINT", TB_E_CHECKPOINT},
    {"TB_E_KEY_HASH", TB_E_KEY_HASH},
    {"TB_E_INVALID_ARG", TB_E_INVALID_ARG},
    {"TB_E_BAD_SIGNATURE", TB_E_BAD_SIGNATURE},
};

static enum tb_err err_from_name(const char *s)
{
        for (size_t i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
                if (strcmp(err_names[i].name, s) == 0)
                        return err_names[i].err;
        fprintf(stderr, "unknown error name %s\n", s);
        exit(2);
}

/* A key vector: from its seed, the documented encodings. */
static struct tb_skey *link_key(const char *name, struct tb_vkey *pub)
{
        struct docvec *v = docvec_get(&set, name);
        size_t n, len;
        uint8_t *seed = docvec_hex(v, "seed", &n);
        const char *vkey = docvec_str(v, "vkey"), *skey = docvec_str(v, "skey");
        const char *plus = strchr(vkey, '+');
        char out[TB_SKEY_MAX];
        struct tb_skey *k = NULL;

        CHECK(n == TB_KEY_SEED_SIZE && plus != NULL);
        CHECK_ERR(tb_skey_from_seed(vkey, (size_t)(plus - vkey), seed, &k),
                  TB_OK);
        free(seed);
        if (k == NULL)
                exit(1);
        tb_skey_public(k, pub);
        CHECK_ERR(tb_vkey_format(pub, out, sizeof(out), &len), TB_OK);
        CHECK(strcmp(out, vkey) == 0);
        CHECK_ERR(tb_skey_format(k, out, sizeof(out), &len), TB_OK);
        CHECK(strcmp(out, skey) == 0);
        sodium_memzero(out, sizeof(out));
        return k;
}

static void test_link_ok(void)
{
        struct docvec *v = docvec_get(&set, "link-ok");
        struct tb_vkey old_pub, new_pub, admin_pub, other_pub;
        struct tb_skey *old_k = link_key(docvec_str(v, "old-key"), &old_pub);
        struct tb_skey *new_k = link_key(docvec_str(v, "new-key"), &new_pub);
        struct tb_skey *admin =
            link_key(docvec_str(v, "admin-key"), &admin_pub);
        size_t ocp_len, ncp_len, text_len, link_len, len;
        uint8_t *ocp = docvec_hex(v, "old-checkpoint", &ocp_len);
        uint8_t *ncp = docvec_hex(v, "new-checkpoint", &ncp_len);
        uint8_t *text = docvec_hex(v, "text", &text_len);
        uint8_t *link = docvec_hex(v, "link", &link_len);
        uint8_t out[TB_LINK_MAX], cp[TB_CHECKPOINT_MAX];
        struct tb_link l, p;

        /* made from the two signed checkpoints */
        memset(&l, 0, sizeof(l));
        CHECK_ERR(tb_link_side(ocp, ocp_len, &old_pub, &l.old_log), TB_OK);
        CHECK_ERR(tb_link_side(ncp, ncp_len, &new_pub, &l.new_log), TB_OK);
        CHECK(l.old_log.cp.size == 1234 && l.new_log.cp.size == 1);
        /* a checkpoint of the other log does not make a side */
        CHECK(tb_link_side(ocp, ocp_len, &new_pub, &p.old_log) != TB_OK);
        CHECK_ERR(tb_link_format(&l, out, sizeof(out), &len), TB_OK);
        CHECK(len == text_len && memcmp(out, text, len) == 0);
        CHECK(len <= TB_LINK_TEXT_MAX);
        CHECK_ERR(tb_link_sign(&l, admin, out, sizeof(out), &len), TB_OK);
        CHECK(len == link_len && memcmp(out, link, len) == 0);
        CHECK(len <= TB_LINK_MAX);
        CHECK_ERR(tb_link_sign(&l, admin, out, len - 1, &len), TB_E_OVERFLOW);

        /* each side's checkpoint rebuilt byte for byte */
        CHECK_ERR(tb_link_checkpoint(&l.old_log, cp, sizeof(cp), &len), TB_OK);
        CHECK(len == ocp_len && memcmp(cp, ocp, len) == 0);
        CHECK_ERR(tb_link_checkpoint(&l.new_log, cp, sizeof(cp), &len), TB_OK);
        CHECK(len == ncp_len && memcmp(cp, ncp, len) == 0);

        /* parsed back, field by field; opened with the admin key only */
        CHECK_ERR(tb_link_parse(text, text_len, &p), TB_OK);
        CHECK(memcmp(&p.old_log.cp, &l.old_log.cp, sizeof(p.old_log.cp)) == 0);
        CHECK(memcmp(&p.new_log.cp, &l.new_log.cp, sizeof(p.new_log.cp)) == 0);
        CHECK(tb_vkey_equal(&p.old_log.key, &old_pub));
        CHECK(tb_vkey_equal(&p.new_log.key, &new_pub));
        CHECK(memcmp(p.old_log.sig, l.old_log.sig, TB_LINK_SIG_SIZE) == 0);
        CHECK(memcmp(p.new_log.sig, l.new_log.sig, TB_LINK_SIG_SIZE) == 0);
        CHECK_ERR(tb_link_verify_side(&p.old_log), TB_OK);
        CHECK_ERR(tb_link_verify_side(&p.new_log), TB_OK);
        CHECK_ERR(tb_link_open(link, link_len, &admin_pub, &p), TB_OK);
        CHECK(tb_vkey_equal(&p.new_log.key, &new_pub));
        /* a log key is not the admin key: the note is unverified */
        other_pub = old_pub;
        CHECK_ERR(tb_link_open(link, link_len, &other_pub, &p),
                  TB_E_NOTE_UNVERIFIED);
        /* the admin's name and id with another public key: a bad signature */
        other_pub = admin_pub;
        memcpy(other_pub.pk, new_pub.pk, TB_PUBKEY_SIZE);
        CHECK(tb_link_open(link, link_len, &other_pub, &p) != TB_OK);

        /* every byte of each checkpoint signature matters */
        for (size_t i = 0; i < TB_LINK_SIG_SIZE; i++) {
                p = l;
                p.old_log.sig[i] ^= 0x01;
                CHECK(tb_link_verify_side(&p.old_log) != TB_OK);
                CHECK(tb_link_sign(&p, admin, out, sizeof(out), &len) != TB_OK);
        }
        /* no proper prefix of the text is a link */
        for (size_t n = 0; n < text_len; n++)
                CHECK(tb_link_parse(text, n, &p) != TB_OK);
        /* the same log on both sides cannot be formatted */
        p = l;
        p.new_log = p.old_log;
        CHECK_ERR(tb_link_format(&p, out, sizeof(out), &len), TB_E_INVALID_ARG);

        tb_skey_free(old_k);
        tb_skey_free(new_k);
        tb_skey_free(admin);
        free(ocp);
        free(ncp);
        free(text);
        free(link);
}

/* buf[0..*n) += the signature line of text signed by k */
static void add_sig_line(uint8_t *buf, size_t *n, size_t cap,
                         const uint8_t *text, size_t text_len,
                         const struct tb_skey *k)
{
        uint8_t note[TB_LINK_MAX];
        size_t len;

        CHECK_ERR(tb_note_sign(text, text_len, k, note, sizeof(note), &len),
                  TB_OK);
        CHECK(len > text_len + 1 && *n + len - text_len - 1 <= cap);
        memcpy(buf + *n, note + text_len + 1, len - text_len - 1);
        *n += len - text_len - 1;
}

/* What a signed note may carry besides its signer's line: other keys'
 * signatures (a witness's cosignature) around it, in the link and in a
 * checkpoint a side is made from.  Neither changes the link; a link with
 * only other keys' lines is unverified. */
static void test_link_extra_sigs(void)
{
        struct docvec *v = docvec_get(&set, "link-ok");
        struct tb_vkey old_pub, new_pub, admin_pub;
        struct tb_skey *old_k = link_key(docvec_str(v, "old-key"), &old_pub);
        struct tb_skey *new_k = link_key(docvec_str(v, "new-key"), &new_pub);
        struct tb_skey *admin =
            link_key(docvec_str(v, "admin-key"), &admin_pub);
        size_t ocp_len, text_len, link_len, n, ct;
        uint8_t *ocp = docvec_hex(v, "old-checkpoint", &ocp_len);
        uint8_t *text = docvec_hex(v, "text", &text_len);
        uint8_t *link = docvec_hex(v, "link", &link_len);
        uint8_t buf[TB_LINK_MAX], cp[TB_CHECKPOINT_MAX];
        struct tb_link want, p;
        struct tb_link_log side;

        CHECK_ERR(tb_link_open(link, link_len, &admin_pub, &want), TB_OK);

        /* the link with the new log key's line before the admin's and the
         * old log key's after it */
        memcpy(buf, text, text_len);
        buf[text_len] = '\n';
        n = text_len + 1;
        add_sig_line(buf, &n, sizeof(buf), text, text_len, new_k);
        memcpy(buf + n, link + text_len + 1, link_len - text_len - 1);
        n += link_len - text_len - 1;
        add_sig_line(buf, &n, sizeof(buf), text, text_len, old_k);
        CHECK_ERR(tb_link_open(buf, n, &admin_pub, &p), TB_OK);
        CHECK(memcmp(&p, &want, sizeof(p)) == 0);
        /* only the other keys' lines: not the admin's word */
        memcpy(buf, text, text_len);
        buf[text_len] = '\n';
        n = text_len + 1;
        add_sig_line(buf, &n, sizeof(buf), text, text_len, new_k);
        add_sig_line(buf, &n, sizeof(buf), text, text_len, old_k);
        CHECK_ERR(tb_link_open(buf, n, &admin_pub, &p), TB_E_NOTE_UNVERIFIED);

        /* the old checkpoint cosigned by another key (its line first): the
         * side is the log key's signature, and rebuilds the plain note */
        for (ct = 0; ct + 1 < ocp_len; ct++)
                if (ocp[ct] == '\n' && ocp[ct + 1] == '\n')
                        break;
        CHECK(ct + 1 < ocp_len);
        ct++; /* the text ends with its last newline */
        memcpy(buf, ocp, ct);
        buf[ct] = '\n';
        n = ct + 1;
        add_sig_line(buf, &n, sizeof(buf), ocp, ct, admin);
        memcpy(buf + n, ocp + ct + 1, ocp_len - ct - 1);
        n += ocp_len - ct - 1;
        CHECK_ERR(tb_link_side(buf, n, &old_pub, &side), TB_OK);
        CHECK(memcmp(&side, &want.old_log, sizeof(side)) == 0);
        CHECK_ERR(tb_link_checkpoint(&side, cp, sizeof(cp), &n), TB_OK);
        CHECK(n == ocp_len && memcmp(cp, ocp, n) == 0);
        /* a checkpoint signed only by the other key is no side */
        memcpy(buf, ocp, ct);
        buf[ct] = '\n';
        n = ct + 1;
        add_sig_line(buf, &n, sizeof(buf), ocp, ct, admin);
        CHECK(tb_link_side(buf, n, &old_pub, &side) != TB_OK);

        tb_skey_free(old_k);
        tb_skey_free(new_k);
        tb_skey_free(admin);
        free(ocp);
        free(text);
        free(link);
}

static void test_link_invalid(void)
{
        for (int i = 0; i < set.n; i++) {
                struct docvec *v = docvec_get(&set, set.v[i].name);
                const char *type = docvec_str(v, "type");
                size_t n;
                uint8_t *text;
                struct tb_link l;

                if (strcmp(type, "link-text-invalid") == 0) {
                        text = docvec_hex(v, "text", &n);
                        CHECK_ERR(tb_link_parse(text, n, &l),
                                  err_from_name(docvec_str(v, "error")));
                        free(text);
                } else if (strcmp(type, "link-side-invalid") == 0) {
                        const char *side = docvec_str(v, "side");
                        text = docvec_hex(v, "text", &n);
                        CHECK_ERR(tb_link_parse(text, n, &l), TB_OK);
                        CHECK_ERR(tb_link_verify_side(strcmp(side, "old") == 0
                                                          ? &l.old_log
                                                          : &l.new_log),
                                  err_from_name(docvec_str(v, "error")));
                        /* the other side still verifies */
                        CHECK_ERR(tb_link_verify_side(strcmp(side, "old") == 0
                                                          ? &l.new_log
                                                          : &l.old_log),
                                  TB_OK);
                        free(text);
                }
        }
}

int main(void)
{
        if (sodium_init() < 0)
                return 2;
        docvec_load(&set, "docs/log-link.md");
        test_link_ok();
        test_link_extra_sigs();
        test_link_invalid();
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
        return check_done("test_link");
}
