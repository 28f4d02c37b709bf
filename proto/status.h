/*
 * proto/status.h - the status of every reply, as it travels on the wire.
 *
 * Values are part of the protocol (u16 in each response header) and never
 * change meaning; new statuses take new numbers.  They are grouped by
 * hundreds, and the group tells a client what to do:
 *
 *     0..99   done            OK, DUPLICATE (a retry: the first result)
 *   100..199  refused         a ledger rule said no; retrying the same
 *                             request gets the same answer (remembered)
 *   200..299  bad request     the request itself is wrong; fix it
 *   300..399  transient       not the request's fault; retry later with the
 *                             same request id (never remembered)
 *
 * A refusal is remembered under (key, request id) only when the signature
 * verified against an enrolled key: BAD_SIGNATURE and UNKNOWN_KEY are never
 * remembered, so nobody can poison another terminal's request ids.
 */
#ifndef TB_STATUS_H
#define TB_STATUS_H

enum tb_status {
        TB_ST_OK = 0,
        TB_ST_DUPLICATE = 1,

        TB_ST_BAD_SIGNATURE = 100,
        TB_ST_UNKNOWN_KEY = 101,
        TB_ST_KEY_REVOKED = 102,
        TB_ST_ROLE_FORBIDDEN = 103,
        TB_ST_UNKNOWN_ACCOUNT = 104,
        TB_ST_ACCOUNT_EXISTS = 105,
        TB_ST_INSUFFICIENT_POINTS = 106,
        TB_ST_OVERLAPPING_SERVICE = 107,
        TB_ST_NOT_REVERSIBLE = 108,
        TB_ST_ALREADY_REVERSED = 109,
        TB_ST_NO_SUCH_ENTRY = 110,
        TB_ST_REQUEST_ID_REUSED = 111,
        TB_ST_KEY_EXISTS = 112,
        TB_ST_KEY_NOT_ENROLLED = 113,
        TB_ST_START_IN_FUTURE = 114,
        TB_ST_START_TOO_OLD = 115,
        TB_ST_DAILY_CAP_EXCEEDED = 116,
        TB_ST_BALANCE_CAP_EXCEEDED = 117,
        TB_ST_SAME_ACCOUNT = 118,

        TB_ST_BAD_REQUEST = 200,
        TB_ST_TOO_LARGE = 201,
        TB_ST_UNSUPPORTED_VERSION = 202,
        TB_ST_UNKNOWN_TYPE = 203,
        TB_ST_NOT_FOUND = 204,

        TB_ST_STORAGE_FULL = 300,
        TB_ST_UNAVAILABLE = 301,
        TB_ST_BUSY = 302,
        TB_ST_INTERNAL = 303,
};

enum tb_status_class {
        TB_STC_DONE,
        TB_STC_REFUSED,
        TB_STC_BAD_REQUEST,
        TB_STC_TRANSIENT,
        TB_STC_UNKNOWN, /* a number this build does not know */
};

/* "INSUFFICIENT_POINTS"; NULL for an unknown value. */
const char *tb_status_name(unsigned status);

/* One sentence: what happened and what to do; never NULL. */
const char *tb_status_message(unsigned status);

/* The group of a status (an unknown number in a known group keeps its
 * group, so an old client still knows whether to retry). */
enum tb_status_class tb_status_class(unsigned status);

/* The status for a name as printed by tb_status_name(), or -1. */
int tb_status_from_name(const char *name);

#endif
