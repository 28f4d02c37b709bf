/*
 * daemon/log.h - timebankd's log: one line per event on stderr, each
 * prefixed with its syslog priority as "<N>" so journald files it at the
 * right level (sd-daemon(3) convention).  Lines below the configured level
 * are dropped.  Thread-safe: each line is one write(2).
 */
#ifndef TB_LOG_H
#define TB_LOG_H

#include <syslog.h>

/* Drop messages less important than level (LOG_ERR .. LOG_DEBUG). */
void log_set_level(int level);

/* Parse "error", "warning", "notice", "info", "debug"; -1 if unknown. */
int log_level_from_name(const char *name);

/* The name of level (LOG_ERR .. LOG_DEBUG) as log_level_from_name() takes
 * it; "?" for another number. */
const char *log_level_name(int level);

/* 1 if a message at priority would be written (to skip formatting it). */
int log_enabled(int priority);

void log_msg(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A class of lines a client can cause (refusals, protocol errors): at most
 * LOG_LIMIT_BURST of them per LOG_LIMIT_S seconds go out at their
 * priority, the rest at debug, counted; the next line that goes out says
 * how many were held back.  Not thread-safe: one owner thread per class.
 */
#define LOG_LIMIT_BURST 20
#define LOG_LIMIT_S     10

struct log_limit {
        long long window;        /* start of the current period, unix seconds */
        unsigned lines;          /* lines out in it */
        unsigned long long held; /* held back since the last line out */
};

/* 1 if a line of l's class may go out at its priority now (*held: how
 * many were held back before it), else 0 (it was counted). */
int log_limit_pass(struct log_limit *l, unsigned long long *held);

#define log_err(...)     log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
