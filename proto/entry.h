/*
 * proto/entry.h - the canonical encoding of ledger entries (format v1).
 *
 * These bytes are signed by terminals and kept forever: any change is a new
 * TB_ENTRY_VERSION.  docs/ledger-format.md is the byte-by-byte specification
 * with test vectors; this header is its C contract.
 *
 * Three layers:
 *
 *   body     what a terminal composes: version, kind, signer public key,
 *            request id, terminal clock, then the kind's fields.
 *   signed   body || Ed25519 signature (64 bytes).  The signature covers
 *            TB_ENTRY_SIG_CONTEXT || 0x00 || u8 len || origin || body, so a
 *            signature made for one ledger (origin) is worthless on another,
 *            and the NUL byte makes the message impossible to confuse with a
 *            signed-note text (which may not contain NUL).
 *   record   what the log stores and the Merkle leaf hashes:
 *            u64 seq || u64 received || body || signature.  seq and the
 *            receive time (unix seconds) are added by the daemon.
 *
 * Every integer is big-endian.  Strings carry a one-byte length; none is
 * NUL-terminated on the wire.  Decoders are strict: they reject trailing
 * bytes, unknown versions and kinds, out-of-range values, and any field that
 * could have been encoded another way (unused policy fields must be zero),
 * so each entry has exactly one encoding.
 *
 * Keys are identified by their full 32-byte Ed25519 public key, never by
 * the 4-byte signed-note key id.
 */
#ifndef TB_ENTRY_H
#define TB_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "key.h" /* TB_PUBKEY_SIZE, TB_SIG_SIZE, TB_NAME_MAX */

#define TB_ENTRY_VERSION     1
#define TB_ENTRY_SIG_CONTEXT "timebank entry v1"

#define TB_REQUEST_ID_SIZE 16

#define TB_ACCOUNT_ID_MAX 64  /* bytes, 0x21..0x7e */
#define TB_CODE_MAX       32  /* activity / item code, 0x21..0x7e */
#define TB_NOTE_MAX       200 /* bytes of UTF-8, no control characters */

#define TB_MINUTES_MAX     1440u             /* one day */
#define TB_POINTS_MAX      1000000000u       /* per redeem or transfer */
#define TB_RATE_MAX        1000000u          /* points per hour */
#define TB_BALANCE_MAX     1000000000000000u /* 10^15, max_balance cap */
#define TB_TIME_MAX        253402300799      /* 9999-12-31T23:59:59Z */
#define TB_SEQ_MAX         INT64_MAX         /* Go tlog uses int64 */
#define TB_RECORD_HEADER   16                /* seq + received */
#define TB_ENTRY_CLOCK_OFF 50                /* offset of the clock in a body */

/*
 * Buffer bounds for a body and a record.  The largest body any kind can
 * encode is a transfer with maximal strings (393 bytes; a genesis is at
 * most 362): these bounds leave room and are not format limits.
 */
#define TB_BODY_MAX   640
#define TB_SIGNED_MAX (TB_BODY_MAX + TB_SIG_SIZE)
#define TB_RECORD_MAX (TB_RECORD_HEADER + TB_SIGNED_MAX)

/* Bytes of the signature message for the longest origin. */
#define TB_SIG_MESSAGE_MAX                                                     \
        (sizeof(TB_ENTRY_SIG_CONTEXT) + 1 + TB_NAME_MAX + TB_BODY_MAX)

enum tb_kind {
        TB_KIND_GENESIS = 1,  /* names the log; signed by the log key */
        TB_KIND_ENROLL = 2,   /* admin: add a terminal key with roles */
        TB_KIND_REVOKE = 3,   /* admin: remove a terminal key */
        TB_KIND_POLICY = 4,   /* admin: points per hour, caps */
        TB_KIND_REGISTER = 5, /* record: open a volunteer account */
        TB_KIND_SERVICE = 6,  /* record: credit minutes of service */
        TB_KIND_REDEEM = 7,   /* redeem: debit points for an item */
        TB_KIND_TRANSFER = 8, /* redeem: move points between accounts */
        TB_KIND_REVERSE = 9,  /* admin or original terminal: undo an entry */
};
#define TB_KIND_MIN TB_KIND_GENESIS
#define TB_KIND_MAX TB_KIND_REVERSE

/* Role bits of an enrolled key. */
enum tb_role {
        TB_ROLE_RECORD = 0x01,
        TB_ROLE_REDEEM = 0x02,
        TB_ROLE_ADMIN = 0x04,
};
#define TB_ROLE_ALL 0x07

/* Which parts of a policy entry apply (the others must be zero). */
enum tb_policy_set {
        TB_POLICY_RATE = 0x01,        /* activity, points_per_hour */
        TB_POLICY_DAILY_CAP = 0x02,   /* daily_minutes_cap */
        TB_POLICY_MAX_BALANCE = 0x04, /* max_balance */
};
#define TB_POLICY_ALL 0x07

/*
 * Strings are NUL-terminated in these structs (no valid field can contain
 * NUL); an empty string is "" and is allowed only where documented.
 */
struct tb_genesis {
        char origin[TB_NAME_MAX + 1]; /* must equal the signing origin */
        uint8_t admin_key[TB_PUBKEY_SIZE];
        char admin_name[TB_NAME_MAX + 1];
        uint32_t points_per_hour;   /* default rate, 0..TB_RATE_MAX */
        uint16_t daily_minutes_cap; /* 0 = no cap, else 1..1440 */
        uint64_t max_balance;       /* 0 = no cap, else 1..TB_BALANCE_MAX */
};

struct tb_enroll {
        uint8_t key[TB_PUBKEY_SIZE];
        uint8_t roles;              /* enum tb_role bits, non-empty */
        char name[TB_NAME_MAX + 1]; /* the key's signed-note name */
};

struct tb_revoke {
        uint8_t key[TB_PUBKEY_SIZE];
        char note[TB_NOTE_MAX + 1]; /* may be empty */
};

struct tb_policy {
        uint8_t set;                    /* enum tb_policy_set bits, non-empty */
        char activity[TB_CODE_MAX + 1]; /* "" = the default rate */
        uint32_t points_per_hour;       /* 0..TB_RATE_MAX */
        uint16_t daily_minutes_cap;     /* 0 = no cap, else 1..1440 */
        uint64_t max_balance;           /* 0 = no cap, else 1..TB_BALANCE_MAX */
};

struct tb_register {
        char account[TB_ACCOUNT_ID_MAX + 1];
};

struct tb_service {
        char account[TB_ACCOUNT_ID_MAX + 1];
        int64_t start;                  /* unix seconds, 0..TB_TIME_MAX */
        uint16_t minutes;               /* 1..1440 */
        char activity[TB_CODE_MAX + 1]; /* "" = the default rate */
        char note[TB_NOTE_MAX + 1];
};

struct tb_redeem {
        char account[TB_ACCOUNT_ID_MAX + 1];
        uint32_t points;            /* 1..TB_POINTS_MAX */
        char item[TB_CODE_MAX + 1]; /* non-empty */
        char note[TB_NOTE_MAX + 1];
};

struct tb_transfer {
        char from[TB_ACCOUNT_ID_MAX + 1];
        char to[TB_ACCOUNT_ID_MAX + 1]; /* != from */
        uint32_t points;                /* 1..TB_POINTS_MAX */
        char note[TB_NOTE_MAX + 1];
};

struct tb_reverse {
        uint64_t seq; /* the entry undone, 1..TB_SEQ_MAX */
        char note[TB_NOTE_MAX + 1];
};

struct tb_entry {
        uint8_t version; /* TB_ENTRY_VERSION */
        uint8_t kind;    /* enum tb_kind */
        uint8_t signer[TB_PUBKEY_SIZE];
        uint8_t request_id[TB_REQUEST_ID_SIZE];
        int64_t clock; /* terminal clock, unix s */
        union {
                struct tb_genesis genesis;
                struct tb_enroll enroll;
                struct tb_revoke revoke;
                struct tb_policy policy;
                struct tb_register reg;
                struct tb_service service;
                struct tb_redeem redeem;
                struct tb_transfer transfer;
                struct tb_reverse reverse;
        } u;
};

/* A decoded log record; the pointers borrow from the decoded buffer. */
struct tb_record {
        uint64_t seq;
        int64_t received;    /* daemon receive time, unix seconds */
        const uint8_t *body; /* the signed body */
        size_t body_len;
        const uint8_t *sig;    /* TB_SIG_SIZE bytes */
        struct tb_entry entry; /* body, decoded */
};

/* The kind's name ("service"), or NULL for an unknown kind. */
const char *tb_kind_name(unsigned kind);

/* The kind for a name, or 0. */
unsigned tb_kind_from_name(const char *name);

/* Roles a signer needs for a kind (genesis: 0, signed by the log key). */
uint8_t tb_kind_roles(unsigned kind);

/*
 * 1 if s[0..n) is strict UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF) without C0 controls, DEL or C1 controls, and
 * without the invisible characters that reorder or break displayed lines
 * (U+200E/U+200F marks, U+2028/U+2029 separators, U+202A..U+202E and
 * U+2066..U+2069 bidi controls, U+FEFF); else 0.
 */
int tb_text_clean(const char *s, size_t n);

/* Field validators; each returns TB_OK or the specific error. */
TB_WUR enum tb_err tb_account_check(const char *s, size_t n);
TB_WUR enum tb_err tb_code_check(const char *s, size_t n); /* 1..32 */
TB_WUR enum tb_err tb_note_text_check(const char *s, size_t n);
TB_WUR enum tb_err tb_name_check(const char *s, size_t n);

/*
 * Time-ordered request ids (docs/ledger-format.md, "Request ids"): the
 * layout of a UUIDv7 (RFC 9562).  Bytes 0..5 are the big-endian Unix time in
 * milliseconds, the high nibble of byte 6 is 7, the two high bits of byte 8
 * are 10, the other 74 bits come from rnd (10 bytes, of which 6 bits are
 * overwritten).  The ledger treats a request id as opaque bytes; the
 * client makes its ids so, and reads the time back (tb_request_id_time) so
 * that a retry of the same command builds the same entry.  Errors:
 * TB_E_TIME (unix_ms negative or above 2^48 - 1).
 */
TB_WUR enum tb_err tb_request_id_make(int64_t unix_ms, const uint8_t rnd[10],
                                      uint8_t out[TB_REQUEST_ID_SIZE]);

/*
 * If id has the layout of tb_request_id_make (version 7, variant 10),
 * *unix_ms gets its time and 1 is returned; else 0 (*unix_ms untouched).
 */
int tb_request_id_time(const uint8_t id[TB_REQUEST_ID_SIZE], int64_t *unix_ms);

/*
 * Check every field of e against the rules of its kind, without encoding.
 * Errors: TB_E_VERSION, TB_E_KIND, TB_E_TIME, TB_E_ACCOUNT, TB_E_CODE,
 * TB_E_NOTE_TEXT, TB_E_KEY_NAME, TB_E_MINUTES, TB_E_POINTS, TB_E_ROLES,
 * TB_E_POLICY, TB_E_SAME_ACCOUNT, TB_E_SEQ.
 */
TB_WUR enum tb_err tb_entry_check(const struct tb_entry *e);

/*
 * Encode the body of e into out (cap bytes); *len gets its size.  Checks e
 * first (errors of tb_entry_check) and fails with TB_E_OVERFLOW if cap is
 * too small (TB_BODY_MAX always suffices).
 */
TB_WUR enum tb_err tb_entry_encode(const struct tb_entry *e, uint8_t *out,
                                   size_t cap, size_t *len);

/*
 * Decode a body strictly.  Errors: TB_E_TRUNCATED, TB_E_TRAILING,
 * TB_E_VERSION, TB_E_KIND, and every error of tb_entry_check.  On error e
 * is left zeroed.
 */
TB_WUR enum tb_err tb_entry_decode(const uint8_t *p, size_t len,
                                   struct tb_entry *e);

/*
 * The message a signature covers: TB_ENTRY_SIG_CONTEXT, a NUL byte, the
 * origin with a one-byte length, the body.  Errors: TB_E_KEY_NAME for a
 * malformed origin, TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_entry_sig_message(const char *origin, const uint8_t *body,
                                        size_t body_len, uint8_t *out,
                                        size_t cap, size_t *len);

/*
 * Sign body for origin with a libsodium secret key (seed || pk, 64 bytes).
 * The caller owns and wipes sk.  Errors: those of tb_entry_sig_message,
 * TB_E_TOO_LARGE (body above TB_BODY_MAX), TB_E_CRYPTO.
 */
TB_WUR enum tb_err tb_entry_sign(const char *origin, const uint8_t *body,
                                 size_t body_len,
                                 const uint8_t sk[TB_SECKEY_SIZE],
                                 uint8_t sig[TB_SIG_SIZE]);

/*
 * The same, with a key held in sodium_malloc memory (proto/key.h): what
 * daemon and client use.  Errors: those of tb_entry_sig_message,
 * TB_E_TOO_LARGE, TB_E_CRYPTO.
 */
struct tb_skey;
TB_WUR enum tb_err tb_entry_sign_key(const char *origin, const uint8_t *body,
                                     size_t body_len, const struct tb_skey *k,
                                     uint8_t sig[TB_SIG_SIZE]);

/*
 * Verify sig over body for origin with the public key pk.  Returns TB_OK or
 * TB_E_BAD_SIGNATURE (also for a malformed origin or key).  The signer
 * field inside the body is not consulted: the caller decides which key must
 * have signed (the ledger checks it equals the body's signer).
 */
TB_WUR enum tb_err tb_entry_verify(const char *origin, const uint8_t *body,
                                   size_t body_len,
                                   const uint8_t pk[TB_PUBKEY_SIZE],
                                   const uint8_t sig[TB_SIG_SIZE]);

/*
 * Split and decode a signed entry (body || signature).  *body and *sig borrow
 * from p.  Errors: TB_E_TRUNCATED if shorter than a signature, and those of
 * tb_entry_decode.
 */
TB_WUR enum tb_err tb_signed_decode(const uint8_t *p, size_t len,
                                    struct tb_entry *e, const uint8_t **body,
                                    size_t *body_len, const uint8_t **sig);

/*
 * Build a record: seq (0..TB_SEQ_MAX), received (0..TB_TIME_MAX), body,
 * signature.  The body is not re-checked; pass one that decoded.  Errors:
 * TB_E_SEQ, TB_E_TIME, TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_record_encode(uint64_t seq, int64_t received,
                                    const uint8_t *body, size_t body_len,
                                    const uint8_t sig[TB_SIG_SIZE],
                                    uint8_t *out, size_t cap, size_t *len);

/*
 * Decode a record strictly (the body with tb_entry_decode).  The pointers in
 * r borrow from p.  Errors: TB_E_TRUNCATED, TB_E_SEQ, TB_E_TIME, and those
 * of tb_entry_decode.
 */
TB_WUR enum tb_err tb_record_decode(const uint8_t *p, size_t len,
                                    struct tb_record *r);

#endif
