/*
 * proto/b64.c - strict base64 over libsodium's codec.
 *
 * libsodium does the character work; canonicality is enforced here by
 * re-encoding what was decoded and comparing it with the input.  The input
 * is processed in chunks of TB_B64_CHUNK characters so that neither a
 * validation pass over a long signature nor a decode of a secret seed needs
 * heap memory, and the scratch buffers are wiped before returning.
 */
#include "b64.h"

#include <sodium.h>
#include <string.h>

#define TB_B64_CHUNK 64 /* characters per step; a multiple of 4 */

enum tb_err tb_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap,
                          size_t *out_len)
{
        size_t need;

        if (len > (SIZE_MAX - 8) / 4 * 3)
                return TB_E_OVERFLOW;
        need = TB_B64_LEN(len);
        if (out == NULL || cap < need + 1)
                return TB_E_OVERFLOW;
        sodium_bin2base64(out, cap, in, len, sodium_base64_VARIANT_ORIGINAL);
        if (out_len != NULL)
                *out_len = need;
        return TB_OK;
}

enum tb_err tb_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                          size_t *out_len)
{
        uint8_t bin[TB_B64_CHUNK / 4 * 3];
        char re[TB_B64_CHUNK + 1];
        size_t total, pad = 0, off = 0, pos = 0;
        enum tb_err err = TB_OK;

        if (len % 4 != 0)
                return TB_E_BASE64;
        if (len > 0 && in[len - 1] == '=')
                pad = in[len - 2] == '=' ? 2 : 1;
        total = len / 4 * 3 - pad;
        /* Malformed input is TB_E_BASE64 whatever its length. */
        if (out != NULL && total > cap) {
                enum tb_err valid = tb_b64_decode(in, len, NULL, 0, NULL);
                return valid != TB_OK ? valid : TB_E_OVERFLOW;
        }

        while (off < len) {
                size_t chunk =
                    len - off < TB_B64_CHUNK ? len - off : TB_B64_CHUNK;
                size_t got = 0;
                const char *end = NULL;

                if (sodium_base642bin(bin, sizeof(bin), in + off, chunk, NULL,
                                      &got, &end,
                                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
                    end != in + off + chunk) {
                        err = TB_E_BASE64;
                        break;
                }
                /* Padding may only end the last chunk. */
                if (off + chunk < len && got != sizeof(bin)) {
                        err = TB_E_BASE64;
                        break;
                }
                sodium_bin2base64(re, sizeof(re), bin, got,
                                  sodium_base64_VARIANT_ORIGINAL);
                if (strlen(re) != chunk || memcmp(re, in + off, chunk) != 0) {
                        err = TB_E_BASE64;
                        break;
                }
                if (pos + got > total) {
                        err = TB_E_BASE64;
                        break;
                }
                if (out != NULL)
                        memcpy(out + pos, bin, got);
                pos += got;
                off += chunk;
        }
        if (err == TB_OK && pos != total)
                err = TB_E_BASE64;
        sodium_memzero(bin, sizeof(bin));
        sodium_memzero(re, sizeof(re));
        if (err == TB_OK && out_len != NULL)
                *out_len = pos;
        return err;
}
