/*
 * Signed-note Ed25519 keys and strict base64: Go's vectors (PeterNeumann,
 * EnochRoot), the example.com/ledger key, negative encodings, name rules,
 * round trips, signatures, and the vectors of docs/keys.md.
 */
#include <sodium.h>
#include <stdlib.h>

#include "b64.h"
#include "check.h"
#include "docvec.h"
#include "key.h"

#define PN_SKEY                                                                \
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+"          \
        "Y7hfZx09iUvxdXHKDFz"
#define PN_VKEY                                                                \
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PN_TEXT                                                                \
        "If you think cryptography is the answer to your problem,\n"           \
        "then you don't know what your problem is.\n"
#define ENOCH_VKEY                                                             \
        "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define ENOCH_SKEY                                                             \
        "PRIVATE+KEY+EnochRoot+af0cfe78+"                                      \
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define LEDGER_VKEY                                                            \
        "example.com/"                                                         \
        "ledger+ebafc28b+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define LEDGER_SKEY                                                            \
        "PRIVATE+KEY+example.com/ledger+ebafc28b+"                             \
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void unhex(const char *s, uint8_t *out, size_t n)
{
        size_t got = 0;

        if (sodium_hex2bin(out, n, s, strlen(s), NULL, &got, NULL) != 0 ||
            got != n) {
                fprintf(stderr, "bad hex in test: %s\n", s);
                exit(2);
        }
}

static enum tb_err vkey_parse(const char *s, struct tb_vkey *k)
{
        return tb_vkey_parse(s, strlen(s), k);
}

static enum tb_err skey_parse(const char *s, struct tb_skey **k)
{
        return tb_skey_parse(s, strlen(s), k);
}

/* Parse s as a vkey and check it formats back to s. */
static void vkey_round_trip(const char *s, struct tb_vkey *k)
{
        char buf[TB_VKEY_MAX];
        size_t len = 0;

        CHECK_ERR(vkey_parse(s, k), TB_OK);
        CHECK_ERR(tb_vkey_format(k, buf, sizeof(buf), &len), TB_OK);
        CHECK(len == strlen(s) && strcmp(buf, s) == 0);
}

/* Parse s as an skey, check it formats back to s and matches vkey. */
static struct tb_skey *skey_round_trip(const char *s, const char *vkey)
{
        struct tb_skey *k = NULL;
        struct tb_vkey pub, want;
        char buf[TB_SKEY_MAX];
        size_t len = 0;

        CHECK_ERR(skey_parse(s, &k), TB_OK);
        if (k == NULL)
                return NULL;
        CHECK_ERR(tb_skey_format(k, buf, sizeof(buf), &len), TB_OK);
        CHECK(len == strlen(s) && strcmp(buf, s) == 0);
        sodium_memzero(buf, sizeof(buf));
        tb_skey_public(k, &pub);
        CHECK_ERR(vkey_parse(vkey, &want), TB_OK);
        CHECK(tb_vkey_equal(&pub, &want));
        return k;
}

static void test_go_vectors(void)
{
        struct tb_vkey vk;
        struct tb_skey *k, *z = NULL;
        uint8_t pk[32], sig[64], want[64], seed[32] = {0};
        char buf[TB_SKEY_MAX];

        /* PeterNeumann: the base64 of the seed contains a '+'. */
        vkey_round_trip(PN_VKEY, &vk);
        CHECK(vk.name_len == 12 && strcmp(vk.name, "PeterNeumann") == 0);
        CHECK(vk.id == 0xc74f20a3);
        unhex(
            "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6",
            pk, sizeof(pk));
        CHECK_MEM(vk.pk, pk, 32);
        CHECK(tb_key_id("PeterNeumann", 12, pk) == 0xc74f20a3);
        k = skey_round_trip(PN_SKEY, PN_VKEY);
        if (k != NULL) {
                CHECK_ERR(tb_skey_sign(k, (const uint8_t *)PN_TEXT,
                                       strlen(PN_TEXT), sig),
                          TB_OK);
                unhex("f64992e052f541bf49f7dcbc8010c5506d885ba92cbafca4070495"
                      "9227348b8652060dd451580b6a5948d5e02afa9fa9d9e0a2da5165"
                      "be8a13a472c81c099c03",
                      want, sizeof(want));
                CHECK_MEM(sig, want, 64);
                CHECK_ERR(tb_vkey_verify(&vk, (const uint8_t *)PN_TEXT,
                                         strlen(PN_TEXT), sig),
                          TB_OK);
        }
        tb_skey_free(k);

        /* EnochRoot: Go's GenerateKey with an all-zero random source. */
        CHECK_ERR(tb_skey_from_seed("EnochRoot", 9, seed, &z), TB_OK);
        if (z != NULL) {
                tb_skey_public(z, &vk);
                CHECK_ERR(tb_vkey_format(&vk, buf, sizeof(buf), NULL), TB_OK);
                CHECK(strcmp(buf, ENOCH_VKEY) == 0);
                CHECK_ERR(tb_skey_format(z, buf, sizeof(buf), NULL), TB_OK);
                CHECK(strcmp(buf, ENOCH_SKEY) == 0);
                unhex("3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048"
                      "a18b59da29",
                      pk, sizeof(pk));
                CHECK_MEM(vk.pk, pk, 32);
        }
        tb_skey_free(z);
        vkey_round_trip(ENOCH_VKEY, &vk);
        tb_skey_free(skey_round_trip(ENOCH_SKEY, ENOCH_VKEY));

        /* The log key of docs/transparency.md. */
        vkey_round_trip(LEDGER_VKEY, &vk);
        CHECK(vk.id == 0xebafc28b);
        tb_skey_free(skey_round_trip(LEDGER_SKEY, LEDGER_VKEY));
        sodium_memzero(buf, sizeof(buf));
}

static void test_bad_vkeys(void)
{
        static const struct {
                const char *s;
                enum tb_err err;
        } v[] = {
            /* Go's negative vectors: wrong key length (its base64 is not
               canonical either), unknown algorithm. */
            {"PeterNeumann+cc469956+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
             TB_E_BASE64},
            {"PeterNeumann+173116ae+"
             "ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_ALG},
            /* Canonical base64, wrong lengths: 32 and 36 bytes. */
            {"PeterNeumann+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=",
             TB_E_KEY_FORMAT},
            {"PeterNeumann+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAAAA",
             TB_E_KEY_FORMAT},
            {"PeterNeumann+c74f20a3+", TB_E_KEY_FORMAT},
            /* Algorithm 0x02 (ECDSA) with a matching length. */
            {"PeterNeumann+c74f20a3+"
             "Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_ALG},
            /* The id: wrong, uppercase, short, long, not hex. */
            {"PeterNeumann+c74f20a4+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_HASH},
            {"PeterNeumann+C74F20A3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_FORMAT},
            {"PeterNeumann+c74f20a+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_FORMAT},
            {"PeterNeumann+0c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_FORMAT},
            {"PeterNeumann+c74g20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_FORMAT},
            /* The name: a different one breaks the id; bad ones. */
            {"PeterNeumanm+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_HASH},
            {"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_NAME},
            {"Peter Neumann+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_NAME},
            {"Caf\xc3\xa9+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
             TB_E_KEY_NAME},
            /* Non-canonical base64: padding, white space, url alphabet. */
            {"PeterNeumann+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW====",
             TB_E_BASE64},
            {"PeterNeumann+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
             TB_E_BASE64},
            {"PeterNeumann+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVk mqq/LDE4izWy10T",
             TB_E_BASE64},
            {"PeterNeumann+c74f20a3+"
             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",
             TB_E_BASE64},
            /* Structure. */
            {"", TB_E_KEY_FORMAT},
            {"PeterNeumann", TB_E_KEY_FORMAT},
            {"PeterNeumann+c74f20a3", TB_E_KEY_FORMAT},
            {PN_SKEY, TB_E_KEY_FORMAT},
        };
        struct tb_vkey k;

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                enum tb_err got = vkey_parse(v[i].s, &k);
                if (got != v[i].err)
                        fprintf(stderr, "vkey %zu: %s: got %d\n", i, v[i].s,
                                (int)got);
                CHECK_ERR(got, v[i].err);
        }
        /* An embedded NUL is just a bad byte. */
        CHECK_ERR(tb_vkey_parse(PN_VKEY, strlen(PN_VKEY) - 1, &k), TB_E_BASE64);
        {
                char s[sizeof(PN_VKEY)];
                memcpy(s, PN_VKEY, sizeof(s));
                s[30] = 0;
                CHECK_ERR(tb_vkey_parse(s, sizeof(s) - 1, &k), TB_E_BASE64);
                s[30] = 'A';
                s[3] = 0;
                CHECK_ERR(tb_vkey_parse(s, sizeof(s) - 1, &k), TB_E_KEY_NAME);
        }
}

static void test_bad_skeys(void)
{
        static const struct {
                const char *s;
                enum tb_err err;
        } v[] = {
            {"PRIVATE+KEY+PeterNeumann+c74f20a3+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
             TB_OK},
            {"PRIVATE+KEX+PeterNeumann+c74f20a3+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
             TB_E_KEY_FORMAT},
            {"private+key+PeterNeumann+c74f20a3+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
             TB_E_KEY_FORMAT},
            {"PeterNeumann+c74f20a3+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
             TB_E_KEY_FORMAT},
            {"PRIVATE+KEY+PeterNeumann+c74f20a4+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
             TB_E_KEY_HASH},
            {"PRIVATE+KEY+PeterNeumann+c74f20a3+"
             "AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
             TB_E_KEY_ALG},
            {"PRIVATE+KEY+PeterNeumann+c74f20a3+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDE=",
             TB_E_KEY_FORMAT},
            {"PRIVATE+KEY+PeterNeumann+c74f20a3+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
             TB_E_BASE64},
            {"PRIVATE+KEY+Peter+Neumann+c74f20a3+"
             "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
             TB_E_KEY_FORMAT},
            {"PRIVATE+KEY+", TB_E_KEY_FORMAT},
            {"PRIVATE+KEY", TB_E_KEY_FORMAT},
            {PN_VKEY, TB_E_KEY_FORMAT},
        };

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                struct tb_skey *k = (struct tb_skey *)&k;
                enum tb_err got = skey_parse(v[i].s, &k);
                if (got != v[i].err)
                        fprintf(stderr, "skey %zu: got %d\n", i, (int)got);
                CHECK_ERR(got, v[i].err);
                CHECK((got == TB_OK) == (k != NULL));
                tb_skey_free(k);
        }
}

static void test_names(void)
{
        char name[TB_NAME_MAX + 2];
        uint8_t seed[32] = {0}, pk[32] = {0};
        struct tb_skey *k = NULL;
        struct tb_vkey vk;
        char buf[TB_SKEY_MAX];
        size_t len = 0;

        CHECK_ERR(tb_key_name_check("a", 1), TB_OK);
        CHECK_ERR(tb_key_name_check("!~example.com/log-42_x", 22), TB_OK);
        CHECK_ERR(tb_key_name_check("", 0), TB_E_KEY_NAME);
        CHECK_ERR(tb_key_name_check("a+b", 3), TB_E_KEY_NAME);
        CHECK_ERR(tb_key_name_check("a b", 3), TB_E_KEY_NAME);
        CHECK_ERR(tb_key_name_check("a\tb", 3), TB_E_KEY_NAME);
        CHECK_ERR(tb_key_name_check("a\nb", 3), TB_E_KEY_NAME);
        CHECK_ERR(tb_key_name_check("a\x7f", 2), TB_E_KEY_NAME);
        CHECK_ERR(tb_key_name_check("caf\xc3\xa9", 5), TB_E_KEY_NAME);
        CHECK_ERR(tb_key_name_check("a\0b", 3), TB_E_KEY_NAME);

        memset(name, 'n', sizeof(name));
        CHECK_ERR(tb_key_name_check(name, TB_NAME_MAX), TB_OK);
        CHECK_ERR(tb_key_name_check(name, TB_NAME_MAX + 1), TB_E_KEY_NAME);
        CHECK_ERR(tb_vkey_from_pk(name, TB_NAME_MAX + 1, pk, &vk),
                  TB_E_KEY_NAME);
        CHECK_ERR(tb_vkey_from_pk("a+b", 3, pk, &vk), TB_E_KEY_NAME);
        CHECK_ERR(tb_skey_from_seed("", 0, seed, &k), TB_E_KEY_NAME);
        CHECK(k == NULL);
        CHECK_ERR(tb_skey_from_seed("a b", 3, seed, &k), TB_E_KEY_NAME);
        CHECK_ERR(tb_skey_generate(name, TB_NAME_MAX + 1, &k), TB_E_KEY_NAME);
        CHECK(k == NULL);

        /* The longest name: both encodings fill their buffers exactly. */
        CHECK_ERR(tb_skey_from_seed(name, TB_NAME_MAX, seed, &k), TB_OK);
        if (k != NULL) {
                CHECK_ERR(tb_skey_format(k, buf, sizeof(buf), &len), TB_OK);
                CHECK(len == TB_SKEY_MAX - 1);
                CHECK_ERR(tb_skey_format(k, buf, TB_SKEY_MAX - 1, &len),
                          TB_E_OVERFLOW);
                tb_skey_public(k, &vk);
                CHECK_ERR(tb_vkey_format(&vk, buf, TB_VKEY_MAX, &len), TB_OK);
                CHECK(len == TB_VKEY_MAX - 1);
                CHECK_ERR(tb_vkey_format(&vk, buf, TB_VKEY_MAX - 1, &len),
                          TB_E_OVERFLOW);
                {
                        struct tb_vkey back;
                        CHECK_ERR(tb_vkey_parse(buf, TB_VKEY_MAX - 1, &back),
                                  TB_OK);
                        CHECK(tb_vkey_equal(&vk, &back));
                }
        }
        tb_skey_free(k);
        sodium_memzero(buf, sizeof(buf));

        /* A struct with a bad name does not format. */
        CHECK_ERR(tb_vkey_from_pk("ok", 2, pk, &vk), TB_OK);
        vk.name_len = 0;
        CHECK_ERR(tb_vkey_format(&vk, buf, sizeof(buf), &len), TB_E_KEY_NAME);
}

static void test_generate_sign(void)
{
        struct tb_skey *a = NULL, *b = NULL, *c = NULL;
        struct tb_vkey va, vb, vc;
        char s[TB_SKEY_MAX];
        uint8_t msg[100], sig[64], h[32], w[32];
        size_t len = 0;

        randombytes_buf(msg, sizeof(msg));
        CHECK_ERR(tb_skey_generate("terminal-1", 10, &a), TB_OK);
        CHECK_ERR(tb_skey_generate("terminal-1", 10, &b), TB_OK);
        if (a == NULL || b == NULL)
                goto out;
        tb_skey_public(a, &va);
        tb_skey_public(b, &vb);
        CHECK(!tb_vkey_equal(&va, &vb));
        CHECK(memcmp(va.pk, vb.pk, 32) != 0);

        /* Round trip through the secret key encoding. */
        CHECK_ERR(tb_skey_format(a, s, sizeof(s), &len), TB_OK);
        CHECK(len == strlen(s) &&
              strncmp(s, "PRIVATE+KEY+terminal-1+", 23) == 0);
        CHECK_ERR(tb_skey_parse(s, len, &c), TB_OK);
        sodium_memzero(s, sizeof(s));
        if (c == NULL)
                goto out;
        tb_skey_public(c, &vc);
        CHECK(tb_vkey_equal(&va, &vc));

        CHECK_ERR(tb_skey_sign(a, msg, sizeof(msg), sig), TB_OK);
        CHECK_ERR(tb_vkey_verify(&va, msg, sizeof(msg), sig), TB_OK);
        CHECK_ERR(tb_vkey_verify(&vc, msg, sizeof(msg), sig), TB_OK);
        CHECK_ERR(tb_vkey_verify(&vb, msg, sizeof(msg), sig),
                  TB_E_BAD_SIGNATURE);
        CHECK_ERR(tb_vkey_verify(&va, msg, sizeof(msg) - 1, sig),
                  TB_E_BAD_SIGNATURE);
        msg[7] ^= 1;
        CHECK_ERR(tb_vkey_verify(&va, msg, sizeof(msg), sig),
                  TB_E_BAD_SIGNATURE);
        msg[7] ^= 1;
        sig[63] ^= 0x40;
        CHECK_ERR(tb_vkey_verify(&va, msg, sizeof(msg), sig),
                  TB_E_BAD_SIGNATURE);
        /* Ed25519 is deterministic: the parsed key signs identically. */
        sig[63] ^= 0x40;
        {
                uint8_t sig2[64];
                CHECK_ERR(tb_skey_sign(c, msg, sizeof(msg), sig2), TB_OK);
                CHECK_MEM(sig, sig2, 64);
        }

        tb_key_hash_pk(va.pk, h);
        crypto_hash_sha256(w, va.pk, 32);
        CHECK_MEM(h, w, 32);
out:
        tb_skey_free(a);
        tb_skey_free(b);
        tb_skey_free(c);
        tb_skey_free(NULL);
}

static void test_b64(void)
{
        static const struct {
                const char *in;
                const char *hex; /* NULL: must be rejected */
        } v[] = {
            {"", ""},           {"AA==", "00"},
            {"AAA=", "0000"},   {"AAAA", "000000"},
            {"/w==", "ff"},     {"+/+/", "fbffbf"},
            {"AB==", NULL}, /* trailing bits */
            {"AAB=", NULL}, /* trailing bits */
            {"AA", NULL},   /* no padding */
            {"AAA", NULL},  /* no padding */
            {"AA=", NULL},  /* short padding */
            {"A===", NULL}, /* too much padding */
            {"AA==AA==", NULL}, {"AA=A", NULL},
            {"AAAA ", NULL},    {" AAAA", NULL},
            {"AA\nAA==", NULL}, {"-_==", NULL}, /* url alphabet */
            {"====", NULL},
        };
        uint8_t out[64], want[64];
        char enc[128];
        size_t n, wn;

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                enum tb_err err = tb_b64_decode(v[i].in, strlen(v[i].in), out,
                                                sizeof(out), &n);
                if (v[i].hex == NULL) {
                        CHECK_ERR(err, TB_E_BASE64);
                        CHECK_ERR(tb_b64_decode(v[i].in, strlen(v[i].in), NULL,
                                                0, &n),
                                  TB_E_BASE64);
                        continue;
                }
                CHECK_ERR(err, TB_OK);
                wn = strlen(v[i].hex) / 2;
                if (wn > 0)
                        unhex(v[i].hex, want, wn);
                CHECK(n == wn && memcmp(out, want, wn) == 0);
                CHECK_ERR(tb_b64_encode(out, n, enc, sizeof(enc), &n), TB_OK);
                CHECK(strcmp(enc, v[i].in) == 0 && n == strlen(v[i].in));
        }
        /* Long input across the decoder's chunks, and padding in a chunk. */
        {
                uint8_t big[200], back[200];
                char e[TB_B64_LEN(200) + 1];
                for (size_t i = 0; i < sizeof(big); i++)
                        big[i] = (uint8_t)(i * 7 + 3);
                for (size_t len = 0; len <= sizeof(big); len++) {
                        CHECK_ERR(tb_b64_encode(big, len, e, sizeof(e), &n),
                                  TB_OK);
                        CHECK(n == TB_B64_LEN(len));
                        CHECK_ERR(tb_b64_decode(e, n, back, sizeof(back), &wn),
                                  TB_OK);
                        CHECK(wn == len && memcmp(big, back, len) == 0);
                        CHECK_ERR(tb_b64_decode(e, n, NULL, 0, &wn), TB_OK);
                        CHECK(wn == len);
                        if (len > 0)
                                CHECK_ERR(
                                    tb_b64_decode(e, n, back, len - 1, &wn),
                                    TB_E_OVERFLOW);
                }
                CHECK_ERR(tb_b64_encode(big, 3, e, 4, &n), TB_E_OVERFLOW);
                CHECK_ERR(tb_b64_encode(big, 3, e, 5, &n), TB_OK);
                /* "AA==" ending the first 64-character chunk. */
                memset(e, 'A', 128);
                e[62] = e[63] = '=';
                CHECK_ERR(tb_b64_decode(e, 128, back, sizeof(back), &wn),
                          TB_E_BASE64);
                CHECK_ERR(tb_b64_decode(e, 64, back, sizeof(back), &wn), TB_OK);
                CHECK(wn == 46);
        }
}

/* ---- docs/keys.md -------------------------------------------------- */

static enum tb_err err_by_name(const char *s)
{
        static const struct {
                const char *name;
                enum tb_err err;
        } t[] = {
            {"TB_E_KEY_FORMAT", TB_E_KEY_FORMAT},
            {"TB_E_KEY_NAME", TB_E_KEY_NAME},
            {"TB_E_KEY_ALG", TB_E_KEY_ALG},
            {"TB_E_KEY_HASH", TB_E_KEY_HASH},
            {"TB_E_BASE64", TB_E_BASE64},
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                if (strcmp(s, t[i].name) == 0)
                        return t[i].err;
        fprintf(stderr, "unknown error name %s\n", s);
        exit(2);
}

static uint8_t *doc_hex(const struct docvec *v, const char *key, size_t n)
{
        size_t len;
        uint8_t *p = docvec_hex(v, key, &len);

        if (len != n) {
                fprintf(stderr, "vector %s: %s: %zu bytes, want %zu\n", v->name,
                        key, len, n);
                exit(2);
        }
        return p;
}

static void check_doc_key(struct docvec *v)
{
        const char *name = docvec_str(v, "key-name");
        size_t nl = strlen(name), idlen, len;
        uint8_t *seed = doc_hex(v, "seed", 32), *pk = doc_hex(v, "pk", 32);
        uint8_t *id = doc_hex(v, "id", 4), *pkh = doc_hex(v, "pk-sha256", 32);
        uint8_t *idin = docvec_hex(v, "id-input", &idlen);
        uint8_t h[32];
        struct tb_skey *k = NULL;
        struct tb_vkey vk;
        char buf[TB_SKEY_MAX];

        /* The id input is name || 0x0A || 0x01 || pk. */
        CHECK(idlen == nl + 2 + 32 && memcmp(idin, name, nl) == 0 &&
              idin[nl] == 0x0a && idin[nl + 1] == 0x01 &&
              memcmp(idin + nl + 2, pk, 32) == 0);
        crypto_hash_sha256(h, idin, idlen);
        CHECK_MEM(h, id, 4);
        CHECK(tb_key_id(name, nl, pk) ==
              ((uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 |
               (uint32_t)id[2] << 8 | id[3]));
        tb_key_hash_pk(pk, h);
        CHECK_MEM(h, pkh, 32);

        CHECK_ERR(tb_skey_from_seed(name, nl, seed, &k), TB_OK);
        if (k != NULL) {
                tb_skey_public(k, &vk);
                CHECK_MEM(vk.pk, pk, 32);
                CHECK_ERR(tb_vkey_format(&vk, buf, sizeof(buf), &len), TB_OK);
                CHECK(strcmp(buf, docvec_str(v, "vkey")) == 0);
                CHECK_ERR(tb_skey_format(k, buf, sizeof(buf), &len), TB_OK);
                CHECK(strcmp(buf, docvec_str(v, "skey")) == 0);
        }
        tb_skey_free(k);
        vkey_round_trip(docvec_str(v, "vkey"), &vk);
        tb_skey_free(
            skey_round_trip(docvec_str(v, "skey"), docvec_str(v, "vkey")));
        sodium_memzero(buf, sizeof(buf));
        free(seed);
        free(pk);
        free(id);
        free(pkh);
        free(idin);
}

static void check_doc_note(struct docvec_set *set, struct docvec *v)
{
        struct docvec *kv = docvec_get(set, docvec_str(v, "key"));
        struct tb_skey *k = NULL;
        struct tb_vkey vk;
        size_t tlen, nlen;
        uint8_t *text = docvec_hex(v, "text", &tlen);
        uint8_t *note = docvec_hex(v, "note", &nlen);
        uint8_t *want = doc_hex(v, "signature", 64);
        uint8_t sig[64];

        CHECK_ERR(skey_parse(docvec_str(kv, "skey"), &k), TB_OK);
        if (k != NULL) {
                tb_skey_public(k, &vk);
                CHECK_ERR(tb_skey_sign(k, text, tlen, sig), TB_OK);
                CHECK_MEM(sig, want, 64);
                CHECK_ERR(tb_vkey_verify(&vk, text, tlen, want), TB_OK);
                /* The note is text, blank line, and the signature line. */
                CHECK(nlen > tlen + 1 && memcmp(note, text, tlen) == 0 &&
                      note[tlen] == '\n');
        }
        tb_skey_free(k);
        free(text);
        free(note);
        free(want);
}

static void test_docs(void)
{
        static struct docvec_set set;

        docvec_load(&set, "docs/keys.md");
        CHECK(set.n > 0);
        for (int i = 0; i < set.n; i++) {
                struct docvec *v = docvec_get(&set, set.v[i].name);
                const char *type = docvec_str(v, "type");
                if (strcmp(type, "key") == 0) {
                        check_doc_key(v);
                } else if (strcmp(type, "bad-vkey") == 0) {
                        struct tb_vkey k;
                        CHECK_ERR(vkey_parse(docvec_str(v, "vkey"), &k),
                                  err_by_name(docvec_str(v, "error")));
                } else if (strcmp(type, "bad-skey") == 0) {
                        struct tb_skey *k = NULL;
                        CHECK_ERR(skey_parse(docvec_str(v, "skey"), &k),
                                  err_by_name(docvec_str(v, "error")));
                        CHECK(k == NULL);
                } else if (strcmp(type, "note") == 0) {
                        check_doc_note(&set, v);
                } else {
                        fprintf(stderr, "vector %s: unknown type %s\n", v->name,
                                type);
                        CHECK(0);
                }
        }
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
}

int main(void)
{
        if (sodium_init() < 0)
                return 2;
        test_go_vectors();
        test_bad_vkeys();
        test_bad_skeys();
        test_names();
        test_generate_sign();
        test_b64();
        test_docs();
        return check_done("test_key");
}
