/*
 * proto/msg.h - requests and responses between timebank and timebankd.
 *
 * Each message is the payload of one frame (frame.h).  docs/protocol.md is
 * the byte-by-byte specification with test vectors.
 *
 *   request  = u8 version || u16 type || u32 id || body
 *   response = u8 version || u16 type || u32 id || u16 status
 *              || u16 message length || message (UTF-8) || body
 *
 * The id is the client's correlation id, echoed in the response: a client
 * may pipeline many requests on one connection.  Reads are answered as soon
 * as they are processed and writes after their commit is durable, so
 * responses may come back in a different order than the requests: match them
 * by id.  The response type is the request's type.
 *
 * The first seven bytes of a request and the first eleven of a response
 * keep this layout in every protocol version, so a daemon can answer a
 * request of an unknown version with UNSUPPORTED_VERSION in a form an old
 * client parses.  A request too short to carry a header is answered with
 * type 0, id 0, BAD_REQUEST, and the connection is closed.
 *
 * The response body depends on the type and is present only when the
 * status is OK, or DUPLICATE for SUBMIT; for every other status it is empty
 * and the message says what went wrong.
 *
 * Version history:
 *   1  (timebank 0.1) first version.
 */
#ifndef TB_MSG_H
#define TB_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "key.h"
#include "merkle.h"
#include "note.h"

#define TB_PROTO_VERSION 1

/* Where timebankd listens and timebank connects unless told otherwise
 * (timebankd's `socket` setting; the client's -s and $TIMEBANK_SOCKET). */
#define TB_SOCKET_DEFAULT  "/run/timebank/timebankd.sock"
#define TB_REQUEST_HEADER  7
#define TB_RESPONSE_HEADER 11 /* up to and including the message length */
#define TB_MESSAGE_MAX     1024
#define TB_HISTORY_MAX                                                         \
        64                     /* items in one HISTORY response: 64 maximal    \
                                   records fit in one 64 KiB frame */
#define TB_PROOF_MAX        65 /* hashes in one proof */
#define TB_VERSION_TEXT_MAX 64
#define TB_STATS_MAX        128        /* counters in one STATS response */
#define TB_STAT_NAME_MAX    31         /* bytes of a counter's name */
#define TB_STAT_LABEL_MAX   23         /* bytes of its label */
#define TB_SEQ_LATEST       UINT64_MAX /* "before" of the first page */

enum tb_msg_type {
        /* 100..199: signed writes */
        TB_MSG_SUBMIT = 100, /* body: signed entry (body || signature) */

        /* 200..299: reads, answered from a read transaction */
        TB_MSG_BALANCE = 200,    /* body: str8 account */
        TB_MSG_HISTORY = 201,    /* body: str8 account, u64 before, u16 limit */
        TB_MSG_ENTRY = 202,      /* body: u64 seq */
        TB_MSG_CHECKPOINT = 203, /* body: empty */
        TB_MSG_INCLUSION = 204,  /* body: u64 index, u64 size (0 = latest) */
        TB_MSG_CONSISTENCY =
            205,             /* body: u64 old size, u64 size (0 = latest) */
        TB_MSG_STATUS = 206, /* body: empty */
        TB_MSG_STATS = 207,  /* body: empty */
};

/* The type's name ("balance"), or NULL. */
const char *tb_msg_type_name(unsigned type);

struct tb_request {
        uint8_t version; /* TB_PROTO_VERSION when encoding */
        uint16_t type;   /* enum tb_msg_type */
        uint32_t id;
        union {
                struct {
                        const uint8_t *signed_entry; /* borrowed */
                        size_t len; /* TB_SIG_SIZE+1 .. TB_SIGNED_MAX */
                } submit;
                struct {
                        char account[TB_ACCOUNT_ID_MAX + 1];
                } balance;
                struct {
                        char account[TB_ACCOUNT_ID_MAX + 1];
                        uint64_t before; /* entries with seq < before;
                                            TB_SEQ_LATEST for the newest */
                        uint16_t limit;  /* 1..TB_HISTORY_MAX */
                } history;
                struct {
                        uint64_t seq;
                } entry;
                struct {
                        uint64_t index;
                        uint64_t size; /* 0 = the latest checkpoint */
                } inclusion;
                struct {
                        uint64_t old_size; /* 1..size */
                        uint64_t size;     /* 0 = the latest checkpoint */
                } consistency;
        } u;
};

/* The result of one write (SUBMIT with OK or DUPLICATE). */
struct tb_write_result {
        uint64_t seq;     /* the entry's sequence number (original, if dup) */
        int64_t points;   /* signed change of the primary account */
        uint64_t balance; /* the primary account's balance after the entry */
        /* the receipt: the signed checkpoint of the commit (DUPLICATE: the
         * latest), whose tree includes seq */
        const uint8_t *checkpoint;
        size_t checkpoint_len;
};

struct tb_balance_info {
        char account[TB_ACCOUNT_ID_MAX + 1];
        uint64_t balance;
        uint64_t earned;   /* points credited by service */
        uint64_t redeemed; /* points debited by redeem */
        uint64_t transferred_in;
        uint64_t transferred_out;
        uint64_t minutes;    /* service minutes credited */
        uint64_t entries;    /* entries touching the account */
        uint64_t opened_seq; /* the register entry */
        uint64_t last_seq;   /* the newest entry touching it */
};

struct tb_history_item {
        uint64_t seq;
        int64_t delta; /* points change of this account */
        uint64_t balance_after;
        const uint8_t *record; /* borrowed: the log record */
        size_t record_len;
};

struct tb_history {
        uint64_t next_before; /* pass as "before" for the next page;
                                 0 = no older entries */
        uint16_t count;
        struct tb_history_item items[TB_HISTORY_MAX];
};

struct tb_proof {
        uint64_t index; /* inclusion: leaf index; consistency: old */
        uint64_t size;  /* tree size the proof is for */
        uint8_t count;
        uint8_t hashes[TB_PROOF_MAX][TB_HASH_SIZE];
        const uint8_t *record; /* inclusion: the leaf (borrowed) */
        size_t record_len;
        const uint8_t *checkpoint; /* inclusion: the checkpoint of size, if
                                      one was issued at that size (else 0) */
        size_t checkpoint_len;
};

struct tb_status_info {
        char origin[TB_NAME_MAX + 1];
        char log_key[TB_VKEY_MAX]; /* signed-note verifier key */
        char version[TB_VERSION_TEXT_MAX + 1];
        uint64_t tree_size;
        uint64_t accounts;
        uint64_t keys_active;
        uint64_t keys_revoked;
        uint64_t disk_bytes;
        uint64_t map_bytes;
};

/*
 * One of the daemon's counters or gauges (STATS): a name of 1..31 bytes of
 * a-z, 0-9 and '_' starting with a letter, a label of 0..23 bytes of A-Z,
 * a-z, 0-9 and '_' (its meaning is the name's: a status name for
 * "responses"), and the value.  docs/protocol.md lists the names.
 */
struct tb_stat {
        char name[TB_STAT_NAME_MAX + 1];
        char label[TB_STAT_LABEL_MAX + 1];
        uint64_t value;
};

struct tb_stats {
        uint16_t count;
        struct tb_stat items[TB_STATS_MAX];
};

struct tb_response {
        uint8_t version;
        uint16_t type;
        uint32_t id;
        uint16_t status;     /* enum tb_status */
        const char *message; /* borrowed, not NUL-terminated */
        size_t message_len;
        union {
                struct tb_write_result write;   /* SUBMIT */
                struct tb_balance_info balance; /* BALANCE */
                struct tb_history history;      /* HISTORY */
                struct {
                        const uint8_t *record;
                        size_t record_len;
                } entry; /* ENTRY */
                struct {
                        const uint8_t *note;
                        size_t note_len;
                } checkpoint;                 /* CHECKPOINT */
                struct tb_proof proof;        /* INCLUSION, CONSISTENCY */
                struct tb_status_info status; /* STATUS */
                struct tb_stats stats;        /* STATS */
        } u;
};

/* 1 if a response with this type and status carries a body. */
int tb_response_has_body(unsigned type, unsigned status);

/*
 * Read the fixed request header without judging the rest, so the daemon can
 * echo type and id in its answer even to a request it cannot decode.
 * Errors: TB_E_TRUNCATED (shorter than TB_REQUEST_HEADER).
 */
TB_WUR enum tb_err tb_request_peek(const uint8_t *p, size_t len,
                                   uint8_t *version, uint16_t *type,
                                   uint32_t *id);

/*
 * Encode q (q->version is ignored: TB_PROTO_VERSION is written).
 * Errors: TB_E_MSG_TYPE, TB_E_ACCOUNT, TB_E_MSG_FIELD, TB_E_TOO_LARGE,
 * TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_request_encode(const struct tb_request *q, uint8_t *out,
                                     size_t cap, size_t *len);

/*
 * Decode a request strictly; submit.signed_entry borrows from p and is
 * checked for size only (the daemon decodes the entry with
 * tb_signed_decode for specific errors).  Errors: TB_E_TRUNCATED,
 * TB_E_TRAILING, TB_E_VERSION (unknown version: answer
 * UNSUPPORTED_VERSION), TB_E_MSG_TYPE (answer UNKNOWN_TYPE), TB_E_TOO_LARGE,
 * TB_E_ACCOUNT, TB_E_MSG_FIELD.
 */
TB_WUR enum tb_err tb_request_decode(const uint8_t *p, size_t len,
                                     struct tb_request *q);

/*
 * Encode r; the body is written only when tb_response_has_body().  The
 * message must be clean UTF-8 (tb_text_clean) of at most TB_MESSAGE_MAX
 * bytes.  Errors: TB_E_MSG_TYPE, TB_E_MSG_FIELD, TB_E_TOO_LARGE,
 * TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_response_encode(const struct tb_response *r, uint8_t *out,
                                      size_t cap, size_t *len);

/*
 * Decode a response strictly; pointers borrow from p.  A response of a
 * version this build does not know fails with TB_E_VERSION, and one of an
 * unknown type with a body (status OK) with TB_E_MSG_TYPE, but
 * tb_response_decode still fills version, type, id and status when the
 * header is present.  An unknown type without body (the UNKNOWN_TYPE
 * refusal echoes the request's type) decodes.  Errors also: TB_E_TRUNCATED,
 * TB_E_TRAILING, TB_E_MSG_FIELD.
 */
TB_WUR enum tb_err tb_response_decode(const uint8_t *p, size_t len,
                                      struct tb_response *r);

/*
 * The status a daemon answers for a request that failed to decode with err:
 * UNSUPPORTED_VERSION, UNKNOWN_TYPE, TOO_LARGE or BAD_REQUEST.  (A signed
 * entry inside a SUBMIT that fails to decode is tb_signed_check's.)
 */
unsigned tb_status_for_decode_error(enum tb_err err);

/*
 * The one check of a SUBMIT body (a signed entry: body || signature) before
 * the ledger's rules: decode it strictly into *e (*body borrows from p),
 * then, when verify is set, check the signature with the entry's own signer
 * key for origin.  Returns TB_ST_OK, or the status to answer with detail
 * (cap bytes, NUL-terminated) saying why: SAME_ACCOUNT (a transfer to its
 * own source), BAD_REQUEST (any other decode error, tb_strerror's text) or
 * BAD_SIGNATURE.  Used by the daemon's
 * verify workers and by the ledger (for entries not yet verified, and the
 * full check's replay), so both answer alike.
 */
TB_WUR unsigned tb_signed_check(const char *origin, const uint8_t *p,
                                size_t len, int verify, struct tb_entry *e,
                                const uint8_t **body, size_t *body_len,
                                char *detail, size_t cap);

#endif
