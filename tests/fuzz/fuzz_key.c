/*
 * tests/fuzz/fuzz_key.c - key encodings and base64.
 *
 * Properties: whatever parses as a verifier key, a secret key or base64
 * formats back to exactly the input (the encodings are canonical); a parsed
 * secret key's public half formats to a verifier key that parses back to
 * the same key; a valid key name makes a verifier key that round-trips.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int ready;
        const char *s = (const char *)data;
        struct tb_vkey vk, back;
        struct tb_skey *sk = NULL;
        char buf[TB_SKEY_MAX];
        size_t len = 0;

        if (!ready) {
                if (sodium_init() < 0)
                        abort();
                ready = 1;
        }

        if (tb_vkey_parse(s, size, &vk) == TB_OK) {
                if (tb_vkey_format(&vk, buf, sizeof(buf), &len) != TB_OK ||
                    len != size || memcmp(buf, data, size) != 0)
                        abort();
        }

        if (tb_skey_parse(s, size, &sk) == TB_OK) {
                if (tb_skey_format(sk, buf, sizeof(buf), &len) != TB_OK ||
                    len != size || memcmp(buf, data, size) != 0)
                        abort();
                tb_skey_public(sk, &vk);
                if (tb_vkey_format(&vk, buf, sizeof(buf), &len) != TB_OK ||
                    tb_vkey_parse(buf, len, &back) != TB_OK ||
                    !tb_vkey_equal(&vk, &back))
                        abort();
                tb_skey_free(sk);
        } else if (sk != NULL) {
                abort();
        }
        sodium_memzero(buf, sizeof(buf));

        if (size <= 3000) {
                static uint8_t bin[3000];
                static char enc[4004];
                size_t n = 0, m = 0;
                if (tb_b64_decode(s, size, bin, sizeof(bin), &n) == TB_OK &&
                    (tb_b64_encode(bin, n, enc, sizeof(enc), &m) != TB_OK ||
                     m != size || memcmp(enc, data, size) != 0))
                        abort();
        }

        if (tb_key_name_check(s, size) == TB_OK) {
                uint8_t pk[32] = {0};
                memcpy(pk, data, size < 32 ? size : 32);
                if (tb_vkey_from_pk(s, size, pk, &vk) != TB_OK ||
                    tb_vkey_format(&vk, buf, sizeof(buf), &len) != TB_OK ||
                    tb_vkey_parse(buf, len, &back) != TB_OK ||
                    !tb_vkey_equal(&vk, &back))
                        abort();
        }
        return 0;
}
