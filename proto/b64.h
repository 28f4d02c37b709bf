/*
 * proto/b64.h - canonical standard base64 (RFC 4648 section 4, padded,
 * alphabet A-Z a-z 0-9 + /), the encoding of every key, signature and hash
 * in the signed-note and checkpoint formats.
 *
 * Decoding is strict: the input must be exactly what tb_b64_encode() would
 * produce for the decoded bytes.  Missing or extra padding, white space,
 * characters outside the alphabet and non-zero trailing bits are all
 * rejected, so every byte string has exactly one accepted encoding (no
 * malleable signatures or keys).  This is stricter than Go's
 * base64.StdEncoding, which ignores CR/LF and the trailing bits.
 */
#ifndef TB_B64_H
#define TB_B64_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Characters in the encoding of n bytes, not counting the NUL. */
#define TB_B64_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * Encode in[0..len) into out as a NUL-terminated string.  cap must be at
 * least TB_B64_LEN(len) + 1.  *out_len (may be NULL) gets TB_B64_LEN(len).
 *
 * Errors: TB_E_OVERFLOW (out too small; out untouched).
 */
TB_WUR enum tb_err tb_b64_encode(const uint8_t *in, size_t len, char *out,
                                 size_t cap, size_t *out_len);

/*
 * Decode in[0..len) (no NUL needed; a NUL byte is an invalid character).
 * out may be NULL to only validate the input and learn its decoded size.
 * *out_len gets the number of bytes decoded.  The decoder's own scratch
 * space is wiped, so the function is fit for secret material; on failure
 * out may hold partial output, which the caller wipes if it is secret.
 *
 * Errors: TB_E_BASE64 (not canonical padded standard base64; takes
 *         precedence over TB_E_OVERFLOW), TB_E_OVERFLOW (out != NULL and
 *         the valid input decodes to more than cap bytes; nothing written).
 */
TB_WUR enum tb_err tb_b64_decode(const char *in, size_t len, uint8_t *out,
                                 size_t cap, size_t *out_len);

#endif
