/*
 * proto/signer_msg.h - the messages between timebankd's serving process and
 * its signer process (daemon/signer.c), over a socketpair.  docs/signer.md
 * is the table with test vectors.
 *
 * It lives in proto/ with the other byte formats (one codec per format,
 * matched encode/decode over the proto/buf.h cursors, a vector the suite
 * checks), although only the daemon speaks it: the serving process is the
 * one an attacker may control, so the signer reads this as hostile input
 * and its decoder deserves the same care (and the same fuzzable, I/O-free
 * home) as the client protocol's.
 *
 *   frame   = u32 length of the rest || u8 version || u8 type || body
 *
 *   type 1  SIGN      (serving process -> signer)
 *           bytes16 old checkpoint: the last one the ledger stored, a
 *                   signed note (empty: the empty tree)
 *           u64     new tree size
 *           32      new root hash
 *           u8      n, then n x 32 bytes: the RFC 6962 consistency proof
 *                   from the old checkpoint's tree to the new one
 *   type 2  SIGNED    (signer -> serving process)
 *           bytes16 the signed checkpoint note of the new size and root
 *   type 3  REFUSED   (signer -> serving process)
 *           u16     reason (enum tb_signer_reason)
 *           str8    detail, printable ASCII, for the log
 *
 * Every request is answered by exactly one reply, in order.  A peer that
 * receives a frame that does not decode closes the socket.
 *
 * Version history:
 *   1  first version (SIGN, SIGNED, REFUSED).
 */
#ifndef TB_SIGNER_MSG_H
#define TB_SIGNER_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "merkle.h"
#include "note.h"

#define TB_SIGNER_VERSION    1
#define TB_SIGNER_HEADER     4   /* the u32 length */
#define TB_SIGNER_DETAIL_MAX 255 /* bytes of a REFUSED detail */

/* The longest frame, length prefix included: a SIGN with the longest
 * checkpoint and the longest proof. */
#define TB_SIGNER_FRAME_MAX                                                    \
        (TB_SIGNER_HEADER + 2 + 2 + TB_CHECKPOINT_MAX + 8 + TB_HASH_SIZE + 1 + \
         TB_MERKLE_MAX_PROOF * TB_HASH_SIZE)

enum tb_signer_type {
        TB_SIGNER_SIGN = 1,
        TB_SIGNER_SIGNED = 2,
        TB_SIGNER_REFUSED = 3,
};

/* Why the signer refused; numbers are on the wire. */
enum tb_signer_reason {
        TB_SIGNER_R_MALFORMED = 1, /* the request does not decode */
        TB_SIGNER_R_OLD = 2,       /* the old checkpoint is not signed by
                                      this key, or is not the last one
                                      signed */
        TB_SIGNER_R_SMALLER = 3,   /* new size below the last signed */
        TB_SIGNER_R_FORK = 4,      /* same size as the last signed, other
                                      root */
        TB_SIGNER_R_PROOF = 5,     /* the consistency proof does not verify */
        TB_SIGNER_R_STATE = 6,     /* the signer could not save its state */
        TB_SIGNER_R_SIGN = 7,      /* signing failed */
};

/*
 * One message, decoded or to encode.  Pointers borrow: from the caller's
 * data for an encode, from the decoded frame for a decode.
 */
struct tb_signer_msg {
        uint8_t type;                   /* enum tb_signer_type */
        const uint8_t *note;            /* SIGN: old checkpoint; SIGNED: new */
        size_t note_len;                /* 0..TB_CHECKPOINT_MAX */
        uint64_t new_size;              /* SIGN */
        uint8_t new_root[TB_HASH_SIZE]; /* SIGN */
        const uint8_t (*proof)[TB_HASH_SIZE];  /* SIGN */
        size_t proof_len;                      /* SIGN, hashes */
        uint16_t reason;                       /* REFUSED */
        char detail[TB_SIGNER_DETAIL_MAX + 1]; /* REFUSED, NUL-ended */
};

/*
 * Encode m as one whole frame (length prefix included) into out[cap]
 * (TB_SIGNER_FRAME_MAX suffices).
 *
 * Errors: TB_E_MSG_TYPE (unknown type), TB_E_MSG_FIELD (note longer than
 * TB_CHECKPOINT_MAX, proof longer than TB_MERKLE_MAX_PROOF, detail not
 * printable ASCII), TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_signer_msg_encode(const struct tb_signer_msg *m,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len);

/*
 * The length announced by a frame's 4-byte prefix: 0 when it is outside
 * 2..TB_SIGNER_FRAME_MAX - TB_SIGNER_HEADER (the peer is then dropped).
 */
size_t tb_signer_msg_length(const uint8_t hdr[TB_SIGNER_HEADER]);

/*
 * Decode the frame's rest p[0..len) (what follows the length prefix) into
 * *m; m's pointers point into p.
 *
 * Errors: TB_E_VERSION, TB_E_MSG_TYPE, TB_E_MSG_FIELD (as for encode),
 * TB_E_TRUNCATED, TB_E_TRAILING.
 */
TB_WUR enum tb_err tb_signer_msg_decode(const uint8_t *p, size_t len,
                                        struct tb_signer_msg *m);

/* The reason's name ("FORK"), or NULL for an unknown number. */
const char *tb_signer_reason_name(unsigned reason);

#endif
