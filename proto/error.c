/*
 * proto/error.c - the text of each enum tb_err.  Kept as a designated-
 * initialiser table so a new code without a text is caught by the test that
 * walks every value.
 */
#include "error.h"

static const char *const tb_err_text[TB_E__COUNT] = {
    [TB_OK] = "success",
    [TB_E_TRUNCATED] = "input ends in the middle of a field",
    [TB_E_TRAILING] = "unexpected bytes after the last field",
    [TB_E_OVERFLOW] = "output buffer too small",
    [TB_E_NOMEM] = "out of memory",
    [TB_E_INVALID_ARG] = "invalid argument",
    [TB_E_FRAME_EMPTY] = "frame announces an empty payload",
    [TB_E_FRAME_OVERSIZE] = "frame announces a payload above the limit",
    [TB_E_FRAME_TRUNCATED] = "stream ended inside a frame",
    [TB_E_VERSION] = "unsupported format version",
    [TB_E_KIND] = "unknown entry kind",
    [TB_E_ACCOUNT] = "account id must be 1..64 bytes of printable ASCII "
                     "(0x21..0x7e)",
    [TB_E_CODE] = "code must be 1..32 bytes of printable ASCII (0x21..0x7e)",
    [TB_E_NOTE_TEXT] = "note must be at most 200 bytes of UTF-8 without "
                       "control characters",
    [TB_E_KEY_NAME] = "name must be 1..128 bytes of printable ASCII without "
                      "'+'",
    [TB_E_MINUTES] = "minutes must be 1..1440",
    [TB_E_POINTS] = "points out of range",
    [TB_E_TIME] = "timestamp out of range",
    [TB_E_ROLES] = "roles must be a non-empty set of record, redeem, admin",
    [TB_E_POLICY] = "policy fields out of range or inconsistent",
    [TB_E_SAME_ACCOUNT] = "transfer source and destination are the same "
                          "account",
    [TB_E_SEQ] = "sequence number out of range",
    [TB_E_TOO_LARGE] = "encoding exceeds its size limit",
    [TB_E_MSG_TYPE] = "unknown message type",
    [TB_E_MSG_FIELD] = "message field out of range",
    [TB_E_BASE64] = "malformed base64",
    [TB_E_KEY_FORMAT] = "not a signed-note key encoding",
    [TB_E_KEY_ALG] = "key algorithm is not Ed25519",
    [TB_E_KEY_HASH] = "key hash does not match the key name and key",
    [TB_E_BAD_SIGNATURE] = "signature does not verify",
    [TB_E_CRYPTO] = "cryptographic library failure",
    [TB_E_NOTE_FORMAT] = "malformed signed note",
    [TB_E_NOTE_UNVERIFIED] = "note is not signed by any known key",
    [TB_E_CHECKPOINT] = "malformed checkpoint",
    [TB_E_ORIGIN] = "checkpoint origin differs from the expected origin",
    [TB_E_PROOF] = "proof does not verify",
    [TB_E_PROOF_RANGE] = "proof index or tree sizes out of range",
    [TB_E_IO] = "input/output error",
    [TB_E_FILE_MODE] = "secret key file is accessible by group or others",
    [TB_E_EXISTS] = "file already exists",
    [TB_E_CONNECT] = "cannot connect to the daemon's socket",
    [TB_E_CLOSED] = "the daemon closed the connection",
    [TB_E_TIMEOUT] = "no answer from the daemon in time",
    [TB_E_RECEIPT] = "malformed receipt (not a timebank tlog-proof)",
    [TB_E_UNTRUSTED] = "the daemon's origin or log key is not the pinned one",
};

const char *tb_strerror(enum tb_err err)
{
        if ((unsigned)err >= TB_E__COUNT || tb_err_text[err] == 0)
                return "unknown error";
        return tb_err_text[err];
}
