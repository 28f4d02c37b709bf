/*
 * proto/link.h - the log link: the administrator's signed statement that a
 * new log continues an old one whose log key was lost or leaked.
 * docs/log-link.md has the byte layout and the vectors.
 *
 * A link is a C2SP signed note (note.h) signed by the admin key, whose
 * text is five lines:
 *
 *   timebank log link v1
 *   old-log <old log's verifier key>
 *   old-checkpoint <size> <base64 root> <base64(id || sig)>
 *   new-log <new log's verifier key>
 *   new-checkpoint <size> <base64 root> <base64(id || sig)>
 *
 * Each checkpoint line carries the three fields of a checkpoint of that
 * log (the origin is the key's name) and the log key's Ed25519 signature of
 * its text, so the signed checkpoint can be rebuilt byte for byte and
 * verified with the key named on the line before.  The old checkpoint is
 * the old log's final one; the new one the new log's first (its genesis
 * checkpoint, normally).
 *
 * The caller must have called sodium_init().
 */
#ifndef TB_LINK_H
#define TB_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "key.h"
#include "note.h"

/* The first line, without its newline. */
#define TB_LINK_MAGIC "timebank log link v1"

/* One checkpoint signature: the key id and the Ed25519 signature. */
#define TB_LINK_SIG_SIZE (4 + TB_SIG_SIZE) /* 68, base64: 92 */

/* The text: magic, then two (key line, checkpoint line) pairs. */
#define TB_LINK_TEXT_MAX                                                       \
        (sizeof(TB_LINK_MAGIC) +                                               \
         2 * (15 + TB_VKEY_MAX + 15 + 19 + 1 + 44 + 1 + 92 + 1)) /* 795 */

/* A signed link as tb_link_sign emits it (one signature). */
#define TB_LINK_MAX (TB_LINK_TEXT_MAX + 1 + TB_NOTE_SIG_LINE_MAX)

/* One side of the link: a log's key and one of its signed checkpoints. */
struct tb_link_log {
        struct tb_vkey key;      /* key.name is the log's origin */
        struct tb_checkpoint cp; /* cp.origin == key.name */
        uint8_t sig[TB_LINK_SIG_SIZE];
};

struct tb_link {
        struct tb_link_log old_log, new_log;
};

/*
 * One side from a signed checkpoint note[0..len) of the log of key k: the
 * note must verify with k (tb_checkpoint_open; other signers' lines, such
 * as witness cosignatures, are ignored and not kept) and its size be at
 * least 1; side gets k, the checkpoint and k's signature.
 *
 * Errors: those of tb_checkpoint_open, TB_E_CHECKPOINT (size 0).
 */
TB_WUR enum tb_err tb_link_side(const uint8_t *note, size_t len,
                                const struct tb_vkey *k,
                                struct tb_link_log *side);

/*
 * The link's text (at most TB_LINK_TEXT_MAX bytes).  Nothing is verified
 * here; tb_link_parse(tb_link_format(l)) == l.
 *
 * Errors: TB_E_KEY_NAME, TB_E_CHECKPOINT (a size 0 or above
 *         TB_MERKLE_SIZE_MAX, a checkpoint origin that is not its key's
 *         name), TB_E_INVALID_ARG (both logs have the same origin or the
 *         same key), TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_link_format(const struct tb_link *l, uint8_t *out,
                                  size_t cap, size_t *out_len);

/*
 * Parse the text text[0..len) strictly: the five lines exactly as above
 * (single spaces, every line ending in '\n', nothing after), verifier keys
 * as tb_vkey_parse reads them, sizes as checkpoints write them (decimal, no
 * leading zero, 1..TB_MERKLE_SIZE_MAX), canonical base64 of 32 and 68
 * bytes, each signature's id that of the key above it, two different
 * origins and keys.  No signature is verified: see tb_link_verify.
 *
 * Errors: TB_E_NOTE_FORMAT (not a link text), those of tb_vkey_parse,
 *         TB_E_CHECKPOINT (a size or root malformed), TB_E_KEY_HASH (a
 *         signature's id is not its key's), TB_E_INVALID_ARG (the same
 *         origin or key twice).
 */
TB_WUR enum tb_err tb_link_parse(const uint8_t *text, size_t len,
                                 struct tb_link *l);

/*
 * The signed checkpoint of one side, rebuilt: its text, a blank line and
 * the one signature line (as tb_checkpoint_sign emits it; at most
 * TB_CHECKPOINT_MAX bytes).
 *
 * Errors: those of tb_checkpoint_format, TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_link_checkpoint(const struct tb_link_log *side,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len);

/*
 * Verify one side: its rebuilt checkpoint opens with its own key.
 *
 * Errors: those of tb_link_checkpoint and tb_checkpoint_open
 *         (TB_E_BAD_SIGNATURE: the signature is not the key's over that
 *         checkpoint).
 */
TB_WUR enum tb_err tb_link_verify_side(const struct tb_link_log *side);

/*
 * Format l and sign it with the admin key: out (TB_LINK_MAX suffices)
 * gets the signed note.  Both sides are verified first, so that no link
 * is signed over a checkpoint its log key did not sign.
 *
 * Errors: those of tb_link_format, tb_link_verify_side and tb_note_sign.
 */
TB_WUR enum tb_err tb_link_sign(const struct tb_link *l,
                                const struct tb_skey *admin, uint8_t *out,
                                size_t cap, size_t *out_len);

/*
 * Open the signed link note[0..len) with the admin's verifier key (other
 * signers' lines are ignored) and parse its text into *l.  The sides'
 * signatures are not verified here (tb_link_verify_side), so that a caller
 * can say which part failed.
 *
 * Errors: those of tb_note_open (TB_E_NOTE_UNVERIFIED: not signed by
 *         admin; TB_E_BAD_SIGNATURE: admin's signature does not verify)
 *         and tb_link_parse.
 */
TB_WUR enum tb_err tb_link_open(const uint8_t *note, size_t len,
                                const struct tb_vkey *admin, struct tb_link *l);

#endif
