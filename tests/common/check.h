/*
 * tests/common/check.h - the smallest test harness that reports well.
 *
 * CHECK(cond) records a failure with file:line and the expression and goes
 * on; check_done() prints "N passed, N failed" and returns the exit status.
 */
#ifndef TB_CHECK_H
#define TB_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_pass, check_fail;

#define CHECK(cond)                                                            \
        do {                                                                   \
                if (cond) {                                                    \
                        check_pass++;                                          \
                } else {                                                       \
                        check_fail++;                                          \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
                                __LINE__, #cond);                              \
                }                                                              \
        } while (0)

#define CHECK_ERR(expr, want)                                                  \
        do {                                                                   \
                int check_got_ = (int)(expr);                                  \
                if (check_got_ == (int)(want)) {                               \
                        check_pass++;                                          \
                } else {                                                       \
                        check_fail++;                                          \
                        fprintf(stderr, "%s:%d: %s = %d, want %s = %d\n",      \
                                __FILE__, __LINE__, #expr, check_got_, #want,  \
                                (int)(want));                                  \
                }                                                              \
        } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline int check_done(const char *name)
{
        printf("%s: %d passed, %d failed\n", name, check_pass, check_fail);
        return check_fail == 0 ? 0 : 1;
}

#endif
