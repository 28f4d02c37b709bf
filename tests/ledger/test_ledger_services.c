/*
 * tests/ledger/test_ledger_services.c - the overlap check and the daily
 * cap of storage format 3, which keeps no table of intervals or day sums
 * and walks the account's chain of service rows instead
 * (docs/storage.md, "Format 3"): the edges of the walk's bound, reversed
 * services, back-dating windows that change between entries (the daemon's
 * max_age and clock_skew are configuration, not logged), and an account
 * with thousands of redeems and transfers between two services.  Every
 * ledger ends with the full check (t_teardown): the replay, with no
 * admission window, must reach the same answers.
 */
#include "ledger_test.h"

#define HOUR 3600
#define DAY  86400

/* Midnight UTC of T_NOW's day (T_NOW is 22:13:20). */
#define T_DAY (T_NOW - T_NOW % DAY)

static void test_bounds(void)
{
        struct tctx c;
        int64_t a = T_NOW - 2 * HOUR; /* alice's first: [a, a + 1 h) */

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a, 60, ""), TB_ST_OK);
        /* ending exactly at its start, starting exactly at its end: free */
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - HOUR, 60, ""), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + HOUR, 30, ""), TB_ST_OK);
        /* one second into either side: taken */
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + HOUR - 1, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - 59, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - HOUR - 59, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        /* inside and around */
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 600, 10, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - 2 * HOUR, 200, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        /* another account's time is not alice's */
        CHECK_ERR(t_service(&c, &c.rec, "bob", a, 60, ""), TB_ST_OK);

        /* logged out of time order: a back-dated service is the newest
         * row, yet the walk must still reach the older, later ones */
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - 20 * HOUR, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 1200, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - 20 * HOUR + 1800, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - 10 * HOUR, 60, ""),
                  TB_ST_OK);
        t_teardown(&c);
}

static void test_reversed(void)
{
        struct tctx c;
        uint64_t first, second;
        int64_t a = T_DAY + 2 * HOUR;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 90, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a, 60, ""), TB_ST_OK);
        first = c.res.seq;
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 2 * HOUR, 40, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        CHECK_ERR(t_reverse(&c, &c.admin, first), TB_ST_OK);
        /* its slot is free and its minutes no longer count */
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 2 * HOUR, 40, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a, 50, ""), TB_ST_OK);
        second = c.res.seq;
        /* 90 of 90 minutes that day, and the slot taken again */
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 4 * HOUR, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 10, 1, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        /* the day before and after count apart */
        CHECK_ERR(t_service(&c, &c.rec, "alice", a - DAY, 90, ""), TB_ST_OK);
        CHECK_ERR(t_reverse(&c, &c.admin, second), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 10, 50, ""), TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", a + 4 * HOUR, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        t_teardown(&c);
}

/* The daily cap counts the services starting on the day, however they
 * were logged: a service crossing midnight counts on its start day. */
static void test_day_bound(void)
{
        struct tctx c;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_DAILY_CAP, "", 0, 120, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY + 10 * HOUR, 60, ""),
                  TB_ST_OK);
        /* the day before, ending after midnight: counts there */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY - 1800, 100, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY + 8 * HOUR, 50, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY + 20 * HOUR, 20, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        CHECK(strstr(c.res.detail, "110 of 120") != NULL);
        /* 120 of 120 minutes on the day */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY + 7 * HOUR, 10, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY + 5 * HOUR, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        /* the day before has 100 of 120 */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY - 3 * HOUR, 20, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_DAY - 4 * HOUR, 1, ""),
                  TB_ST_DAILY_CAP_EXCEEDED);
        t_teardown(&c);
}

/*
 * The back-dating window (max_age) and the future skew are the daemon's
 * configuration, not in the log: a service admitted under a long window
 * must still block its time after the window shrank and grew again, and
 * one ending in the future (a long skew) likewise.
 */
static void test_window_changes(void)
{
        struct tctx c;
        struct ledger_options o;

        ledger_options_default(&o);
        o.max_age = 60 * DAY;
        o.clock_skew = 2 * DAY;
        t_setup_opts(&c, &o);
        t_cast(&c);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 50 * DAY, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW + DAY, 60, ""),
                  TB_ST_OK);
        /* shorter: the old time is out of the window, not free */
        c.opt.max_age = DAY;
        c.opt.clock_skew = 60;
        t_reopen(&c);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 50 * DAY, 60, ""),
                  TB_ST_START_TOO_OLD);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 2 * HOUR, 60, ""),
                  TB_ST_OK);
        c.now = T_NOW + 2 * DAY; /* time passes: the future one is past */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW + DAY + 1800, 10, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW + DAY + HOUR, 10, ""),
                  TB_ST_OK);
        /* longer again: the old service still holds its time */
        c.opt.max_age = 90 * DAY;
        t_reopen(&c);
        CHECK_ERR(
            t_service(&c, &c.rec, "alice", T_NOW - 50 * DAY + 1800, 10, ""),
            TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(
            t_service(&c, &c.rec, "alice", T_NOW - 50 * DAY - 600, 10, ""),
            TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 60 * DAY, 10, ""),
                  TB_ST_OK);
        t_teardown(&c);
}

/* Thousands of redeems and transfers between two services: the services'
 * own chain skips them. */
static void test_busy_account(void)
{
        struct tctx c;
        struct ledger_options o;
        int64_t s1 = T_NOW - 10 * HOUR;
        int i;

        ledger_options_default(&o);
        o.sync = 0; /* thousands of batches; durability is not tested here */
        t_setup_opts(&c, &o);
        t_cast(&c);
        CHECK_ERR(t_policy(&c, &c.admin, TB_POLICY_RATE | TB_POLICY_DAILY_CAP,
                           "", 6000, 600, 0),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", s1, 60, ""), TB_ST_OK);
        for (i = 0; i < 2000; i++) {
                if (i % 4 == 3)
                        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 1),
                                  TB_ST_OK);
                else
                        CHECK_ERR(t_redeem(&c, &c.red, "alice", 1), TB_ST_OK);
        }
        CHECK(t_balance(&c, "alice") == 4000);
        CHECK_ERR(t_service(&c, &c.rec, "alice", s1 + 2 * HOUR, 60, ""),
                  TB_ST_OK);
        CHECK_ERR(t_service(&c, &c.rec, "alice", s1 + 1800, 60, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        CHECK_ERR(t_service(&c, &c.rec, "alice", s1 - HOUR, 481, ""),
                  TB_ST_OVERLAPPING_SERVICE);
        /* bob got 500 transfers and no service: nothing to walk */
        CHECK_ERR(t_service(&c, &c.rec, "bob", s1, 60, ""), TB_ST_OK);
        t_teardown(&c);
}

int main(void)
{
        test_bounds();
        test_reversed();
        test_day_bound();
        test_window_changes();
        test_busy_account();
        return check_done("test_ledger_services");
}
