/*
 * proto/error.h - the one error enum of timebank's library code.
 *
 * Every parse, verify and decode function in proto/ returns an enum tb_err.
 * TB_OK is zero so "if (err)" reads naturally.  Values are internal to the
 * program (never on the wire: the wire uses enum tb_status, status.h) and
 * may be renumbered freely.  tb_strerror() gives a short, specific English
 * sentence fragment suitable for logs and for the message of a BAD_REQUEST
 * reply ("entry: account id has a byte outside 0x21..0x7e").
 */
#ifndef TB_ERROR_H
#define TB_ERROR_H

#define TB_WUR __attribute__((warn_unused_result))

enum tb_err {
        TB_OK = 0,

        /* generic decoding (cursor) */
        TB_E_TRUNCATED,   /* input ends before a field does */
        TB_E_TRAILING,    /* bytes left after the last field */
        TB_E_OVERFLOW,    /* output buffer too small */
        TB_E_NOMEM,       /* allocation failed */
        TB_E_INVALID_ARG, /* caller passed an impossible argument */

        /* frames */
        TB_E_FRAME_EMPTY,     /* a frame announced a zero-length payload */
        TB_E_FRAME_OVERSIZE,  /* a frame announced more than the maximum */
        TB_E_FRAME_TRUNCATED, /* the stream ended inside a frame */

        /* entries */
        TB_E_VERSION,      /* unknown format or protocol version */
        TB_E_KIND,         /* unknown entry kind */
        TB_E_ACCOUNT,      /* account id not 1..64 bytes of 0x21..0x7e */
        TB_E_CODE,         /* activity/item code malformed */
        TB_E_NOTE_TEXT,    /* note not <= 200 bytes of UTF-8, no controls */
        TB_E_KEY_NAME,     /* key name or origin malformed */
        TB_E_MINUTES,      /* minutes outside 1..1440 */
        TB_E_POINTS,       /* points outside 1..TB_POINTS_MAX */
        TB_E_TIME,         /* timestamp outside 0..TB_TIME_MAX */
        TB_E_ROLES,        /* role bits empty or unknown */
        TB_E_POLICY,       /* policy fields inconsistent or out of range */
        TB_E_SAME_ACCOUNT, /* transfer with from == to */
        TB_E_SEQ,          /* sequence number out of range */
        TB_E_TOO_LARGE,    /* encoding would exceed its size limit */

        /* messages */
        TB_E_MSG_TYPE,  /* unknown message type */
        TB_E_MSG_FIELD, /* a message field is out of range */

        /* keys and signatures */
        TB_E_BASE64,        /* not canonical padded standard base64 */
        TB_E_KEY_FORMAT,    /* not a signed-note key encoding */
        TB_E_KEY_ALG,       /* key algorithm byte is not Ed25519 (0x01) */
        TB_E_KEY_HASH,      /* key hash does not match name and key */
        TB_E_BAD_SIGNATURE, /* a signature does not verify */
        TB_E_CRYPTO,        /* libsodium failed (sodium_init or keygen) */

        /* signed notes and checkpoints */
        TB_E_NOTE_FORMAT,     /* malformed signed note */
        TB_E_NOTE_UNVERIFIED, /* no known key signed the note */
        TB_E_CHECKPOINT,      /* malformed checkpoint body */
        TB_E_ORIGIN,          /* checkpoint origin differs from the expected */

        /* Merkle proofs */
        TB_E_PROOF,       /* proof does not verify */
        TB_E_PROOF_RANGE, /* index/sizes out of range for a proof */

        /* files (keyfile.c only) */
        TB_E_IO,        /* read/write failed: see errno */
        TB_E_FILE_MODE, /* secret key file readable by group/other */
        TB_E_EXISTS,    /* refusing to overwrite an existing file */

        /* client connection (client/ only) */
        TB_E_CONNECT, /* cannot connect to the daemon's socket */
        TB_E_CLOSED,  /* the daemon closed the connection */
        TB_E_TIMEOUT, /* no answer within the timeout */

        /* receipts (receipt.c) and trust pinning (client/) */
        TB_E_RECEIPT,   /* malformed receipt (tlog-proof) text */
        TB_E_UNTRUSTED, /* the daemon is not the pinned ledger */

        TB_E__COUNT
};

/* A short lowercase description of err; never NULL. */
const char *tb_strerror(enum tb_err err);

#endif
