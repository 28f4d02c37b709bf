/*
 * proto/status.c - names and messages of the wire statuses, one table.
 */
#include <stddef.h>
#include <string.h>

#include "status.h"

struct status_row {
        unsigned value;
        const char *name;
        const char *message;
};

static const struct status_row rows[] = {
    {TB_ST_OK, "OK", "Done."},
    {TB_ST_DUPLICATE, "DUPLICATE",
     "This request id was already processed; this is the original result "
     "and nothing new was written."},
    {TB_ST_BAD_SIGNATURE, "BAD_SIGNATURE",
     "The signature does not verify for this ledger: check that the key "
     "file matches the enrolled key and that the request was made for this "
     "ledger's origin."},
    {TB_ST_UNKNOWN_KEY, "UNKNOWN_KEY",
     "The signing key is not enrolled in this ledger: ask an administrator "
     "to enroll it."},
    {TB_ST_KEY_REVOKED, "KEY_REVOKED",
     "The signing key was revoked: ask an administrator for a new key."},
    {TB_ST_ROLE_FORBIDDEN, "ROLE_FORBIDDEN",
     "The signing key's roles do not allow this operation: use a key "
     "enrolled with the needed role."},
    {TB_ST_UNKNOWN_ACCOUNT, "UNKNOWN_ACCOUNT",
     "No such account: check the account id or register it first."},
    {TB_ST_ACCOUNT_EXISTS, "ACCOUNT_EXISTS",
     "This account id is already registered: choose another id."},
    {TB_ST_INSUFFICIENT_POINTS, "INSUFFICIENT_POINTS",
     "The account does not have enough points for this; nothing was "
     "debited."},
    {TB_ST_OVERLAPPING_SERVICE, "OVERLAPPING_SERVICE",
     "This service overlaps service already recorded for the account: "
     "check the start time and minutes."},
    {TB_ST_NOT_REVERSIBLE, "NOT_REVERSIBLE",
     "That entry cannot be reversed: only service, redeem and transfer "
     "entries can, and a reversal cannot itself be reversed."},
    {TB_ST_ALREADY_REVERSED, "ALREADY_REVERSED",
     "That entry was already reversed."},
    {TB_ST_NO_SUCH_ENTRY, "NO_SUCH_ENTRY",
     "No entry has that sequence number."},
    {TB_ST_REQUEST_ID_REUSED, "REQUEST_ID_REUSED",
     "This request id already holds another entry of this key (the message "
     "names its seq): what you sent differs from it. If you meant the same "
     "request, it was recorded then: look at that entry before sending "
     "anything new."},
    {TB_ST_KEY_EXISTS, "KEY_EXISTS",
     "That key is already enrolled (or was revoked and cannot return): "
     "generate a new key."},
    {TB_ST_KEY_NOT_ENROLLED, "KEY_NOT_ENROLLED",
     "That key is not enrolled, so it cannot be revoked."},
    {TB_ST_START_IN_FUTURE, "START_IN_FUTURE",
     "The service start time is in the future beyond the allowed clock "
     "skew: check the terminal's clock and the start time."},
    {TB_ST_START_TOO_OLD, "START_TOO_OLD",
     "The service started too long ago to be recorded: ask an "
     "administrator."},
    {TB_ST_DAILY_CAP_EXCEEDED, "DAILY_CAP_EXCEEDED",
     "This service would exceed the daily limit of service minutes for "
     "the account."},
    {TB_ST_BALANCE_CAP_EXCEEDED, "BALANCE_CAP_EXCEEDED",
     "This would take the account above the maximum balance allowed by "
     "the policy."},
    {TB_ST_SAME_ACCOUNT, "SAME_ACCOUNT",
     "A transfer needs two different accounts."},
    {TB_ST_BAD_REQUEST, "BAD_REQUEST",
     "The request is malformed: the message says which field; fix the "
     "request (or update the client)."},
    {TB_ST_TOO_LARGE, "TOO_LARGE",
     "The request is larger than the daemon accepts."},
    {TB_ST_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION",
     "The daemon does not speak this protocol version: use a matching "
     "client."},
    {TB_ST_UNKNOWN_TYPE, "UNKNOWN_TYPE",
     "The daemon does not know this request type: use a matching client."},
    {TB_ST_NOT_FOUND, "NOT_FOUND",
     "Nothing matches: the sequence number or tree size is beyond the "
     "log."},
    {TB_ST_STORAGE_FULL, "STORAGE_FULL",
     "The ledger's storage is full; nothing was written. Retry later with "
     "the same request id, and tell the administrator."},
    {TB_ST_UNAVAILABLE, "UNAVAILABLE",
     "The daemon is shutting down; nothing was written. Retry with the "
     "same request id."},
    {TB_ST_BUSY, "BUSY",
     "The daemon has too many requests queued; nothing was written. Retry "
     "shortly with the same request id."},
    {TB_ST_INTERNAL, "INTERNAL",
     "The daemon failed internally; nothing was written. Retry with the "
     "same request id, and tell the administrator (see its log)."},
};

static const struct status_row *find(unsigned status)
{
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                if (rows[i].value == status)
                        return &rows[i];
        return NULL;
}

const char *tb_status_name(unsigned status)
{
        const struct status_row *r = find(status);

        return r ? r->name : NULL;
}

const char *tb_status_message(unsigned status)
{
        const struct status_row *r = find(status);

        return r ? r->message
                 : "Unknown status: the daemon is newer than this "
                   "client.";
}

enum tb_status_class tb_status_class(unsigned status)
{
        if (status < 100)
                return TB_STC_DONE;
        if (status < 200)
                return TB_STC_REFUSED;
        if (status < 300)
                return TB_STC_BAD_REQUEST;
        if (status < 400)
                return TB_STC_TRANSIENT;
        return TB_STC_UNKNOWN;
}

int tb_status_from_name(const char *name)
{
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                if (strcmp(rows[i].name, name) == 0)
                        return (int)rows[i].value;
        return -1;
}
