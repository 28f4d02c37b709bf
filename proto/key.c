/*
 * proto/key.c - signed-note Ed25519 keys over libsodium.
 *
 * A struct tb_skey holds the public half (so signing needs no second
 * lookup) and libsodium's 64-byte secret key (seed || pk); the whole struct
 * is one sodium_malloc() allocation made read-only once filled.  The seed
 * is exported with crypto_sign_ed25519_sk_to_seed() only to format the
 * PRIVATE+KEY encoding, into buffers wiped before return.
 */
#include "key.h"

#include <sodium.h>
#include <string.h>

#include "b64.h"
#include "buf.h"

#define SKEY_PREFIX     "PRIVATE+KEY+"
#define SKEY_PREFIX_LEN 12
#define KEY_B64_LEN     44 /* base64 of alg byte + 32 bytes */

_Static_assert(TB_PUBKEY_SIZE == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(TB_SECKEY_SIZE == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(TB_KEY_SEED_SIZE == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(TB_SIG_SIZE == crypto_sign_BYTES, "signature size");

struct tb_skey {
        struct tb_vkey pub;
        uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

enum tb_err tb_key_name_check(const char *name, size_t len)
{
        if (len == 0 || len > TB_NAME_MAX)
                return TB_E_KEY_NAME;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)name[i];
                if (c < 0x21 || c > 0x7e || c == '+')
                        return TB_E_KEY_NAME;
        }
        return TB_OK;
}

uint32_t tb_key_id(const char *name, size_t len,
                   const uint8_t pk[TB_PUBKEY_SIZE])
{
        static const uint8_t sep[2] = {0x0a, TB_KEY_ALG_ED25519};
        crypto_hash_sha256_state st;
        uint8_t h[crypto_hash_sha256_BYTES];

        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, (const uint8_t *)name, len);
        crypto_hash_sha256_update(&st, sep, sizeof(sep));
        crypto_hash_sha256_update(&st, pk, TB_PUBKEY_SIZE);
        crypto_hash_sha256_final(&st, h);
        return tb_load_u32be(h);
}

void tb_key_hash_pk(const uint8_t pk[TB_PUBKEY_SIZE], uint8_t out[32])
{
        crypto_hash_sha256(out, pk, TB_PUBKEY_SIZE);
}

enum tb_err tb_vkey_from_pk(const char *name, size_t len,
                            const uint8_t pk[TB_PUBKEY_SIZE],
                            struct tb_vkey *out)
{
        enum tb_err err = tb_key_name_check(name, len);

        if (err != TB_OK)
                return err;
        memset(out, 0, sizeof(*out));
        memcpy(out->name, name, len);
        out->name_len = len;
        memcpy(out->pk, pk, TB_PUBKEY_SIZE);
        out->id = tb_key_id(name, len, pk);
        return TB_OK;
}

/* Exactly 8 lowercase hex digits, the only form we emit. */
static int parse_hex8(const char *s, size_t len, uint32_t *out)
{
        uint32_t v = 0;

        if (len != 8)
                return -1;
        for (size_t i = 0; i < 8; i++) {
                char c = s[i];
                if (c >= '0' && c <= '9')
                        v = v << 4 | (uint32_t)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v = v << 4 | (uint32_t)(c - 'a' + 10);
                else
                        return -1;
        }
        *out = v;
        return 0;
}

static void put_hex8(char *out, uint32_t v)
{
        static const char digits[] = "0123456789abcdef";

        for (int i = 0; i < 8; i++)
                out[i] = digits[(v >> (28 - 4 * i)) & 0xf];
}

/*
 * Split s at the first '+' (Go's chop): the base64 field of either encoding
 * may contain '+', so only the name and the id are cut this way.
 */
static int cut_plus(const char **s, size_t *len, const char **field,
                    size_t *field_len)
{
        const char *p = memchr(*s, '+', *len);

        if (p == NULL)
                return -1;
        *field = *s;
        *field_len = (size_t)(p - *s);
        *len -= *field_len + 1;
        *s = p + 1;
        return 0;
}

/*
 * The common tail of both encodings: name+hex8+base64(0x01 || 32 bytes).
 * key33 receives the decoded bytes (secret for a skey: the caller wipes).
 */
static enum tb_err parse_name_id_key(const char *s, size_t len,
                                     const char **name, size_t *name_len,
                                     uint32_t *id, uint8_t key33[33])
{
        const char *hex;
        size_t hex_len, n;
        enum tb_err err;

        if (cut_plus(&s, &len, name, name_len) != 0 ||
            cut_plus(&s, &len, &hex, &hex_len) != 0)
                return TB_E_KEY_FORMAT;
        if ((err = tb_key_name_check(*name, *name_len)) != TB_OK)
                return err;
        if (parse_hex8(hex, hex_len, id) != 0)
                return TB_E_KEY_FORMAT;
        err = tb_b64_decode(s, len, key33, 33, &n);
        if (err == TB_E_OVERFLOW || (err == TB_OK && n != 33))
                return TB_E_KEY_FORMAT;
        if (err != TB_OK)
                return err;
        if (key33[0] != TB_KEY_ALG_ED25519)
                return TB_E_KEY_ALG;
        return TB_OK;
}

enum tb_err tb_vkey_parse(const char *s, size_t len, struct tb_vkey *out)
{
        const char *name;
        size_t name_len;
        uint32_t id;
        uint8_t key[33];
        enum tb_err err;

        err = parse_name_id_key(s, len, &name, &name_len, &id, key);
        if (err != TB_OK)
                return err;
        if ((err = tb_vkey_from_pk(name, name_len, key + 1, out)) != TB_OK)
                return err;
        if (out->id != id) {
                memset(out, 0, sizeof(*out));
                return TB_E_KEY_HASH;
        }
        return TB_OK;
}

/*
 * name+hex8+base64(0x01 || key) at out[0..), NUL-terminated; the caller
 * has checked that cap holds it.
 */
static void put_name_id_key(char *out, const char *name, size_t name_len,
                            uint32_t id, const uint8_t key[32])
{
        uint8_t key33[33];
        size_t pos = 0;

        memcpy(out, name, name_len);
        pos += name_len;
        out[pos++] = '+';
        put_hex8(out + pos, id);
        pos += 8;
        out[pos++] = '+';
        key33[0] = TB_KEY_ALG_ED25519;
        memcpy(key33 + 1, key, 32);
        /* Cannot overflow: the caller sized out for KEY_B64_LEN + NUL. */
        sodium_bin2base64(out + pos, KEY_B64_LEN + 1, key33, sizeof(key33),
                          sodium_base64_VARIANT_ORIGINAL);
        sodium_memzero(key33, sizeof(key33));
}

enum tb_err tb_vkey_format(const struct tb_vkey *k, char *out, size_t cap,
                           size_t *out_len)
{
        size_t need;
        enum tb_err err = tb_key_name_check(k->name, k->name_len);

        if (err != TB_OK)
                return err;
        need = k->name_len + 1 + 8 + 1 + KEY_B64_LEN;
        if (out == NULL || cap < need + 1)
                return TB_E_OVERFLOW;
        put_name_id_key(out, k->name, k->name_len,
                        tb_key_id(k->name, k->name_len, k->pk), k->pk);
        if (out_len != NULL)
                *out_len = need;
        return TB_OK;
}

enum tb_err tb_vkey_verify(const struct tb_vkey *k, const uint8_t *msg,
                           size_t len, const uint8_t sig[TB_SIG_SIZE])
{
        if (crypto_sign_verify_detached(sig, msg, len, k->pk) != 0)
                return TB_E_BAD_SIGNATURE;
        return TB_OK;
}

bool tb_vkey_equal(const struct tb_vkey *a, const struct tb_vkey *b)
{
        return a->name_len == b->name_len &&
               memcmp(a->name, b->name, a->name_len) == 0 && a->id == b->id &&
               memcmp(a->pk, b->pk, TB_PUBKEY_SIZE) == 0;
}

enum tb_err tb_skey_from_seed(const char *name, size_t len,
                              const uint8_t seed[TB_KEY_SEED_SIZE],
                              struct tb_skey **out)
{
        struct tb_skey *k;
        enum tb_err err;

        *out = NULL;
        if ((err = tb_key_name_check(name, len)) != TB_OK)
                return err;
        /*
         * sodium_malloc() puts the block at the end of a page; sizeof is a
         * multiple of the struct's alignment, so the block stays aligned.
         */
        if ((k = sodium_malloc(sizeof(*k))) == NULL)
                return TB_E_NOMEM;
        memset(k, 0, sizeof(*k));
        if (crypto_sign_seed_keypair(k->pub.pk, k->sk, seed) != 0) {
                tb_skey_free(k);
                return TB_E_CRYPTO;
        }
        memcpy(k->pub.name, name, len);
        k->pub.name_len = len;
        k->pub.id = tb_key_id(name, len, k->pub.pk);
        if (sodium_mprotect_readonly(k) != 0) {
                tb_skey_free(k);
                return TB_E_CRYPTO;
        }
        *out = k;
        return TB_OK;
}

enum tb_err tb_skey_generate(const char *name, size_t len, struct tb_skey **out)
{
        uint8_t seed[TB_KEY_SEED_SIZE];
        enum tb_err err;

        *out = NULL;
        if ((err = tb_key_name_check(name, len)) != TB_OK)
                return err;
        randombytes_buf(seed, sizeof(seed));
        err = tb_skey_from_seed(name, len, seed, out);
        sodium_memzero(seed, sizeof(seed));
        return err;
}

enum tb_err tb_skey_parse(const char *s, size_t len, struct tb_skey **out)
{
        const char *name;
        size_t name_len;
        uint32_t id;
        uint8_t key[33];
        enum tb_err err;

        *out = NULL;
        if (len < SKEY_PREFIX_LEN ||
            memcmp(s, SKEY_PREFIX, SKEY_PREFIX_LEN) != 0)
                return TB_E_KEY_FORMAT;
        err = parse_name_id_key(s + SKEY_PREFIX_LEN, len - SKEY_PREFIX_LEN,
                                &name, &name_len, &id, key);
        if (err == TB_OK)
                err = tb_skey_from_seed(name, name_len, key + 1, out);
        sodium_memzero(key, sizeof(key));
        if (err == TB_OK && (*out)->pub.id != id) {
                tb_skey_free(*out);
                *out = NULL;
                err = TB_E_KEY_HASH;
        }
        return err;
}

enum tb_err tb_skey_format(const struct tb_skey *k, char *out, size_t cap,
                           size_t *out_len)
{
        uint8_t seed[TB_KEY_SEED_SIZE];
        size_t need =
            SKEY_PREFIX_LEN + k->pub.name_len + 1 + 8 + 1 + KEY_B64_LEN;

        if (out == NULL || cap < need + 1)
                return TB_E_OVERFLOW;
        if (crypto_sign_ed25519_sk_to_seed(seed, k->sk) != 0) {
                sodium_memzero(seed, sizeof(seed));
                return TB_E_CRYPTO;
        }
        memcpy(out, SKEY_PREFIX, SKEY_PREFIX_LEN);
        put_name_id_key(out + SKEY_PREFIX_LEN, k->pub.name, k->pub.name_len,
                        k->pub.id, seed);
        sodium_memzero(seed, sizeof(seed));
        if (out_len != NULL)
                *out_len = need;
        return TB_OK;
}

void tb_skey_public(const struct tb_skey *k, struct tb_vkey *out)
{
        *out = k->pub;
}

enum tb_err tb_skey_sign(const struct tb_skey *k, const uint8_t *msg,
                         size_t len, uint8_t sig[TB_SIG_SIZE])
{
        if (crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0)
                return TB_E_CRYPTO;
        return TB_OK;
}

void tb_skey_free(struct tb_skey *k)
{
        /* sodium_free() makes the block writable again and wipes it. */
        if (k != NULL)
                sodium_free(k);
}
