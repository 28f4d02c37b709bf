/*
 * tests/unit/test_status.c - the wire statuses (docs/protocol.md,
 * "Statuses"): every value has a unique name and a message, names round
 * trip, classes go by hundreds.
 */
#include <string.h>

#include "check.h"
#include "status.h"

static const struct {
        unsigned value;
        const char *name;
        enum tb_status_class cls;
} known[] = {
    {TB_ST_OK, "OK", TB_STC_DONE},
    {TB_ST_DUPLICATE, "DUPLICATE", TB_STC_DONE},
    {TB_ST_BAD_SIGNATURE, "BAD_SIGNATURE", TB_STC_REFUSED},
    {TB_ST_UNKNOWN_KEY, "UNKNOWN_KEY", TB_STC_REFUSED},
    {TB_ST_KEY_REVOKED, "KEY_REVOKED", TB_STC_REFUSED},
    {TB_ST_ROLE_FORBIDDEN, "ROLE_FORBIDDEN", TB_STC_REFUSED},
    {TB_ST_UNKNOWN_ACCOUNT, "UNKNOWN_ACCOUNT", TB_STC_REFUSED},
    {TB_ST_ACCOUNT_EXISTS, "ACCOUNT_EXISTS", TB_STC_REFUSED},
    {TB_ST_INSUFFICIENT_POINTS, "INSUFFICIENT_POINTS", TB_STC_REFUSED},
    {TB_ST_OVERLAPPING_SERVICE, "OVERLAPPING_SERVICE", TB_STC_REFUSED},
    {TB_ST_NOT_REVERSIBLE, "NOT_REVERSIBLE", TB_STC_REFUSED},
    {TB_ST_ALREADY_REVERSED, "ALREADY_REVERSED", TB_STC_REFUSED},
    {TB_ST_NO_SUCH_ENTRY, "NO_SUCH_ENTRY", TB_STC_REFUSED},
    {TB_ST_REQUEST_ID_REUSED, "REQUEST_ID_REUSED", TB_STC_REFUSED},
    {TB_ST_KEY_EXISTS, "KEY_EXISTS", TB_STC_REFUSED},
    {TB_ST_KEY_NOT_ENROLLED, "KEY_NOT_ENROLLED", TB_STC_REFUSED},
    {TB_ST_START_IN_FUTURE, "START_IN_FUTURE", TB_STC_REFUSED},
    {TB_ST_START_TOO_OLD, "START_TOO_OLD", TB_STC_REFUSED},
    {TB_ST_DAILY_CAP_EXCEEDED, "DAILY_CAP_EXCEEDED", TB_STC_REFUSED},
    {TB_ST_BALANCE_CAP_EXCEEDED, "BALANCE_CAP_EXCEEDED", TB_STC_REFUSED},
    {TB_ST_SAME_ACCOUNT, "SAME_ACCOUNT", TB_STC_REFUSED},
    {TB_ST_BAD_REQUEST, "BAD_REQUEST", TB_STC_BAD_REQUEST},
    {TB_ST_TOO_LARGE, "TOO_LARGE", TB_STC_BAD_REQUEST},
    {TB_ST_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION", TB_STC_BAD_REQUEST},
    {TB_ST_UNKNOWN_TYPE, "UNKNOWN_TYPE", TB_STC_BAD_REQUEST},
    {TB_ST_NOT_FOUND, "NOT_FOUND", TB_STC_BAD_REQUEST},
    {TB_ST_STORAGE_FULL, "STORAGE_FULL", TB_STC_TRANSIENT},
    {TB_ST_UNAVAILABLE, "UNAVAILABLE", TB_STC_TRANSIENT},
    {TB_ST_BUSY, "BUSY", TB_STC_TRANSIENT},
    {TB_ST_INTERNAL, "INTERNAL", TB_STC_TRANSIENT},
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

/* The wire values are frozen: docs/protocol.md's table, number by number. */
static void test_values(void)
{
        static const unsigned wire[NKNOWN] = {
            0,   1,   100, 101, 102, 103, 104, 105, 106, 107,
            108, 109, 110, 111, 112, 113, 114, 115, 116, 117,
            118, 200, 201, 202, 203, 204, 300, 301, 302, 303};

        for (size_t i = 0; i < NKNOWN; i++)
                CHECK(known[i].value == wire[i]);
}

static void test_names_and_messages(void)
{
        const char *unknown_msg = tb_status_message(9999);
        unsigned named = 0;

        for (size_t i = 0; i < NKNOWN; i++) {
                const char *name = tb_status_name(known[i].value);
                const char *msg = tb_status_message(known[i].value);
                /* the documented name, and it round-trips */
                CHECK(name != NULL && strcmp(name, known[i].name) == 0);
                CHECK(tb_status_from_name(known[i].name) ==
                      (int)known[i].value);
                /* a message of its own: non-empty, a sentence, not the
                 * unknown-status text, unique */
                CHECK(msg != NULL && strlen(msg) > 3);
                CHECK(msg != NULL && msg[strlen(msg) - 1] == '.');
                CHECK(strcmp(msg, unknown_msg) != 0);
                for (size_t j = 0; j < i; j++) {
                        CHECK(strcmp(name, known[j].name) != 0);
                        CHECK(strcmp(msg, tb_status_message(known[j].value)) !=
                              0);
                }
                /* the class is the hundreds group */
                CHECK(tb_status_class(known[i].value) == known[i].cls);
        }
        /* every value the table knows is listed above: no status is
         * undocumented */
        for (unsigned v = 0; v < 1000; v++)
                if (tb_status_name(v) != NULL)
                        named++;
        CHECK(named == NKNOWN);
        /* unknown values and names */
        CHECK(tb_status_name(2) == NULL);
        CHECK(tb_status_name(119) == NULL);
        CHECK(tb_status_name(65535) == NULL);
        CHECK(unknown_msg != NULL && strlen(unknown_msg) > 0);
        CHECK(tb_status_from_name("NOPE") == -1);
        CHECK(tb_status_from_name("") == -1);
        CHECK(tb_status_from_name("ok") == -1); /* names are exact */
}

static void test_classes(void)
{
        /* classes by hundreds, including numbers this build does not know:
         * an old client still knows whether to retry */
        CHECK(tb_status_class(0) == TB_STC_DONE);
        CHECK(tb_status_class(99) == TB_STC_DONE);
        CHECK(tb_status_class(100) == TB_STC_REFUSED);
        CHECK(tb_status_class(150) == TB_STC_REFUSED);
        CHECK(tb_status_class(199) == TB_STC_REFUSED);
        CHECK(tb_status_class(200) == TB_STC_BAD_REQUEST);
        CHECK(tb_status_class(299) == TB_STC_BAD_REQUEST);
        CHECK(tb_status_class(300) == TB_STC_TRANSIENT);
        CHECK(tb_status_class(399) == TB_STC_TRANSIENT);
        CHECK(tb_status_class(400) == TB_STC_UNKNOWN);
        CHECK(tb_status_class(65535) == TB_STC_UNKNOWN);
}

int main(void)
{
        test_values();
        test_names_and_messages();
        test_classes();
        return check_done("test_status");
}
