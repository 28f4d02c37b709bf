/*
 * proto/note.h - C2SP signed notes and tlog checkpoints (the signed tree
 * heads of the ledger).  docs/transparency.md and docs/keys.md have the
 * byte layouts and vectors.
 *
 * A signed note is
 *
 *   <text: UTF-8, ends with 0x0A>             the signed bytes
 *   0x0A                                      blank line
 *   E2 80 94 20 <name> 20 <base64(id[4] || sig)> 0A      one or more
 *
 * with id the big-endian key id (key.h) and sig the Ed25519 signature of
 * the text, including its final newline.  A checkpoint is a note whose
 * text is
 *
 *   <origin> 0A <tree size, decimal> 0A <base64 root hash> 0A
 *
 * signed by the log key, whose name is the origin.  Go's
 * golang.org/x/mod/sumdb/note.Open and tlog.CheckRecord/CheckTree (or
 * transparency-dev/formats log.ParseCheckpoint) accept what we emit.
 *
 * Notes and checkpoints are byte strings, never NUL-terminated.  The caller
 * must have called sodium_init().
 */
#ifndef TB_NOTE_H
#define TB_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "key.h"
#include "merkle.h"

/* One Ed25519 signature line: em dash, space, name, space, 92, newline. */
#define TB_NOTE_SIG_LINE_MAX (4 + TB_NAME_MAX + 1 + 92 + 1) /* 226 */

/* Signature lines tb_note_open() reads before giving up (Go's limit). */
#define TB_NOTE_MAX_SIGS 100

/* The checkpoint text we emit: origin, size (19 digits max), root. */
#define TB_CHECKPOINT_BODY_MAX                                                 \
        (TB_NAME_MAX + 1 + 19 + 1 + 44 + 1) /* 194                             \
                                             */

/* A checkpoint as tb_checkpoint_sign() emits it (one signature). */
#define TB_CHECKPOINT_MAX (TB_CHECKPOINT_BODY_MAX + 1 + TB_NOTE_SIG_LINE_MAX)

/*
 * Sign text[0..len) with k: out gets text, a blank line and one signature
 * line.  The text must be non-empty, end in '\n', be valid UTF-8 and hold
 * no control character other than '\n' (C0, DEL and C1 are refused, a
 * little stricter than what tb_note_open accepts).  The output length is
 * len + 1 + (the signature line, at most TB_NOTE_SIG_LINE_MAX).
 *
 * Errors: TB_E_NOTE_FORMAT (text invalid), TB_E_OVERFLOW (out untouched),
 *         TB_E_CRYPTO.
 */
TB_WUR enum tb_err tb_note_sign(const uint8_t *text, size_t len,
                                const struct tb_skey *k, uint8_t *out,
                                size_t cap, size_t *out_len);

/*
 * Open the signed note msg[0..len) against the keys known[0..nknown), as
 * strictly as Go's note.Open:
 *   - the whole note is valid UTF-8 with no control character < 0x20 but
 *     '\n';
 *   - text and signatures are split at the LAST "\n\n"; the text is
 *     msg[0..*text_len), ending in '\n';
 *   - every following line is E2 80 94 20, a C2SP-valid name (non-empty,
 *     no Unicode space, no '+'), a space, and canonical base64 of at least
 *     5 bytes; at most TB_NOTE_MAX_SIGS lines;
 *   - a signature whose name and id match no known key is ignored; one
 *     that matches must verify; a repeated one for the same key is
 *     ignored, as Go does;
 *   - at least one known key must have verified.
 * verified (may be NULL) has nknown entries; on TB_OK verified[i] tells
 * whether known[i] signed the note, on any error all are false.
 * *text_len is set on TB_OK and on TB_E_NOTE_UNVERIFIED.
 *
 * Errors: TB_E_NOTE_FORMAT (malformed), TB_E_BAD_SIGNATURE (a known key's
 *         signature does not verify), TB_E_NOTE_UNVERIFIED (no known key
 *         signed), TB_E_INVALID_ARG (two known keys share a name and id
 *         and a signature line names them, Go's "ambiguous key").
 */
TB_WUR enum tb_err tb_note_open(const uint8_t *msg, size_t len,
                                const struct tb_vkey *known, size_t nknown,
                                size_t *text_len, bool *verified);

/* A tree head.  origin is NUL-terminated, origin_len excludes the NUL. */
struct tb_checkpoint {
        char origin[TB_NAME_MAX + 1];
        size_t origin_len;
        uint64_t size;
        uint8_t root[TB_HASH_SIZE];
};

/*
 * Write the three-line checkpoint text of cp into out (at most
 * TB_CHECKPOINT_BODY_MAX bytes).  We never emit extension lines.
 *
 * Errors: TB_E_CHECKPOINT (origin not a valid key name, size above
 *         TB_MERKLE_SIZE_MAX), TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_checkpoint_format(const struct tb_checkpoint *cp,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len);

/*
 * Parse the checkpoint text text[0..len) (a note's text, see
 * tb_note_open):
 *   line 1  origin: a valid key name (key.h rules, so at most 128 bytes);
 *   line 2  size: decimal, no sign, no leading zero (just "0" for zero),
 *           at most TB_MERKLE_SIZE_MAX;
 *   line 3  root: canonical base64 of exactly 32 bytes;
 *   then any number of non-empty extension lines (accepted, ignored);
 * every line ends in '\n'.
 *
 * Errors: TB_E_CHECKPOINT.
 */
TB_WUR enum tb_err tb_checkpoint_parse(const uint8_t *text, size_t len,
                                       struct tb_checkpoint *cp);

/*
 * Format cp and sign it with the log key k, whose name must be the
 * origin; out (TB_CHECKPOINT_MAX suffices) gets the signed note.
 *
 * Errors: TB_E_ORIGIN (k's name differs from cp->origin), those of
 *         tb_checkpoint_format and tb_note_sign.
 */
TB_WUR enum tb_err tb_checkpoint_sign(const struct tb_checkpoint *cp,
                                      const struct tb_skey *k, uint8_t *out,
                                      size_t cap, size_t *out_len);

/*
 * A checkpoint's tree size line, s[0..n) without its newline: decimal
 * digits, no sign, no leading zero (but "0"), at most TB_MERKLE_SIZE_MAX.
 * 0 and *out set, or -1.
 */
TB_WUR int tb_checkpoint_parse_size(const uint8_t *s, size_t n, uint64_t *out);

/*
 * Open the signed checkpoint note[0..len) with the log's verifier key
 * (other signatures, such as witness cosignatures, are ignored), parse
 * it into *cp and check that its origin is the NUL-terminated `origin`.
 *
 * Errors: those of tb_note_open (with the one key vkey) and
 *         tb_checkpoint_parse, TB_E_ORIGIN.
 */
TB_WUR enum tb_err tb_checkpoint_open(const uint8_t *note, size_t len,
                                      const char *origin,
                                      const struct tb_vkey *vkey,
                                      struct tb_checkpoint *cp);

#endif
