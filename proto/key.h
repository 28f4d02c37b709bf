/*
 * proto/key.h - Ed25519 keys in the signed-note key encodings
 * (C2SP signed-note, Go golang.org/x/mod/sumdb/note), used for the log key
 * and every terminal key alike.  docs/keys.md has the byte tables and
 * vectors.
 *
 *   verifier key  <name>+<id: 8 lowercase hex>+<base64(0x01 || pk[32])>
 *   secret key    PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed[32])>
 *   key id        first 4 bytes, big-endian, of
 *                 SHA-256(name || 0x0A || 0x01 || pk)
 *
 * Key names: we accept and produce 1..TB_NAME_MAX bytes of printable
 * ASCII 0x21..0x7e other than '+'.  This is stricter than C2SP, which only
 * forbids the empty name, Unicode white space and '+': every name we accept
 * is valid there, but a C2SP name such as "caf\u00e9" is refused here.
 * (tb_note_open still accepts and ignores signatures by such names.)
 *
 * Parsing is strict: the id is exactly 8 lowercase hex digits and must equal
 * the id recomputed from name and key, the base64 is canonical and decodes
 * to exactly 33 bytes, so tb_vkey_format(tb_vkey_parse(s)) == s.
 *
 * Secret keys live in sodium_malloc() memory (guard pages, mlock, read-only
 * after creation) and are only reachable through struct tb_skey *.  Every
 * temporary copy of secret bytes made here is wiped on every path.
 *
 * The caller must have called sodium_init() successfully before using any
 * function of this file.
 */
#ifndef TB_KEY_H
#define TB_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TB_NAME_MAX        128 /* key name or log origin: 0x21..0x7e but '+' */
#define TB_PUBKEY_SIZE     32  /* Ed25519 public key */
#define TB_SECKEY_SIZE     64  /* libsodium's seed || public key */
#define TB_KEY_SEED_SIZE   32  /* Ed25519 seed (what the skey encodes) */
#define TB_SIG_SIZE        64  /* Ed25519 signature */
#define TB_KEY_ALG_ED25519 0x01

/* Buffer sizes, each including the terminating NUL. */
#define TB_VKEY_MAX (TB_NAME_MAX + 1 + 8 + 1 + 44 + 1)      /* 183 */
#define TB_SKEY_MAX (12 + TB_NAME_MAX + 1 + 8 + 1 + 44 + 1) /* 195 */

/* A verifier (public) key.  name is NUL-terminated, name_len excludes it. */
struct tb_vkey {
        char name[TB_NAME_MAX + 1];
        size_t name_len;
        uint32_t id;
        uint8_t pk[TB_PUBKEY_SIZE];
};

/* A secret key; opaque, in sodium_malloc() memory. */
struct tb_skey;

/*
 * Check name[0..len) against our name rules (see above).
 *
 * Errors: TB_E_KEY_NAME.
 */
TB_WUR enum tb_err tb_key_name_check(const char *name, size_t len);

/* The key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || pk)[:4]. */
uint32_t tb_key_id(const char *name, size_t len,
                   const uint8_t pk[TB_PUBKEY_SIZE]);

/*
 * SHA-256 of the 32-byte public key.  One way a ledger entry may name its
 * signer without carrying the whole key (never the 4-byte key id, which
 * is too short to be unique).
 */
void tb_key_hash_pk(const uint8_t pk[TB_PUBKEY_SIZE], uint8_t out[32]);

/*
 * Fill *out from a name and an Ed25519 public key (computes the id).
 *
 * Errors: TB_E_KEY_NAME.
 */
TB_WUR enum tb_err tb_vkey_from_pk(const char *name, size_t len,
                                   const uint8_t pk[TB_PUBKEY_SIZE],
                                   struct tb_vkey *out);

/*
 * Parse the verifier key s[0..len) (no NUL needed).
 *
 * Errors: TB_E_KEY_FORMAT (not name+hex8+base64, id not 8 lowercase hex
 *         digits, key not 33 bytes), TB_E_KEY_NAME, TB_E_BASE64,
 *         TB_E_KEY_ALG (first key byte is not 0x01), TB_E_KEY_HASH (id
 *         differs from the recomputed one).
 */
TB_WUR enum tb_err tb_vkey_parse(const char *s, size_t len,
                                 struct tb_vkey *out);

/*
 * Write the encoding of k into out (NUL-terminated; TB_VKEY_MAX always
 * suffices).  *out_len (may be NULL) gets its length without the NUL.
 * k->id is recomputed, not trusted.
 *
 * Errors: TB_E_KEY_NAME (k->name invalid), TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_vkey_format(const struct tb_vkey *k, char *out,
                                  size_t cap, size_t *out_len);

/*
 * Verify the Ed25519 signature sig over msg[0..len) with k.
 *
 * Errors: TB_E_BAD_SIGNATURE.
 */
TB_WUR enum tb_err tb_vkey_verify(const struct tb_vkey *k, const uint8_t *msg,
                                  size_t len, const uint8_t sig[TB_SIG_SIZE]);

/* Whether a and b are the same key (name, id and public key). */
bool tb_vkey_equal(const struct tb_vkey *a, const struct tb_vkey *b);

/*
 * Create a new key named name[0..len) from 32 random bytes
 * (randombytes_buf).  Free *out with tb_skey_free().
 *
 * Errors: TB_E_KEY_NAME, TB_E_NOMEM, TB_E_CRYPTO.
 */
TB_WUR enum tb_err tb_skey_generate(const char *name, size_t len,
                                    struct tb_skey **out);

/*
 * Create the key named name[0..len) from an Ed25519 seed.  The caller
 * wipes its copy of the seed.
 *
 * Errors: TB_E_KEY_NAME, TB_E_NOMEM, TB_E_CRYPTO.
 */
TB_WUR enum tb_err tb_skey_from_seed(const char *name, size_t len,
                                     const uint8_t seed[TB_KEY_SEED_SIZE],
                                     struct tb_skey **out);

/*
 * Parse the secret key s[0..len) (no NUL needed).  The base64 part may
 * itself contain '+': the fields are cut at the first '+' each time.  The
 * caller wipes s.
 *
 * Errors: TB_E_KEY_FORMAT (not PRIVATE+KEY+name+hex8+base64, seed not 33
 *         bytes), TB_E_KEY_NAME, TB_E_BASE64, TB_E_KEY_ALG, TB_E_KEY_HASH
 *         (id differs from the one of the derived public key), TB_E_NOMEM,
 *         TB_E_CRYPTO.
 */
TB_WUR enum tb_err tb_skey_parse(const char *s, size_t len,
                                 struct tb_skey **out);

/*
 * Write the secret key encoding of k into out (NUL-terminated; TB_SKEY_MAX
 * always suffices).  out then holds the secret: the caller wipes it with
 * sodium_memzero().  On failure out is untouched.
 *
 * Errors: TB_E_OVERFLOW, TB_E_CRYPTO.
 */
TB_WUR enum tb_err tb_skey_format(const struct tb_skey *k, char *out,
                                  size_t cap, size_t *out_len);

/* The verifier key of k. */
void tb_skey_public(const struct tb_skey *k, struct tb_vkey *out);

/*
 * Sign msg[0..len) with k (Ed25519, deterministic).
 *
 * Errors: TB_E_CRYPTO.
 */
TB_WUR enum tb_err tb_skey_sign(const struct tb_skey *k, const uint8_t *msg,
                                size_t len, uint8_t sig[TB_SIG_SIZE]);

/* Wipe and free k; NULL is allowed. */
void tb_skey_free(struct tb_skey *k);

#endif
