/*
 * daemon/log.c - "<N>message\n" lines on stderr.  The line is formatted
 * into one buffer and written with a single write(2) so lines from the
 * writer thread and the event loop never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_level = LOG_INFO;

void log_set_level(int level)
{
        log_level = level;
}

int log_enabled(int priority)
{
        return priority <= log_level;
}

static const struct {
        const char *name;
        int level;
} levels[] = {{"error", LOG_ERR},
              {"warning", LOG_WARNING},
              {"notice", LOG_NOTICE},
              {"info", LOG_INFO},
              {"debug", LOG_DEBUG}};

int log_level_from_name(const char *name)
{
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
                if (strcmp(levels[i].name, name) == 0)
                        return levels[i].level;
        return -1;
}

const char *log_level_name(int level)
{
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
                if (levels[i].level == level)
                        return levels[i].name;
        return "?";
}

void log_msg(int priority, const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        int n, k;

        if (!log_enabled(priority))
                return;
        n = snprintf(line, sizeof(line), "<%d>", priority);
        va_start(ap, fmt);
        k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (k < 0)
                return;
        n += k;
        if ((size_t)n > sizeof(line) - 2)
                n = sizeof(line) - 2;
        /* a message must never forge a second log line */
        for (int i = 0; i < n; i++)
                if (line[i] == '\n')
                        line[i] = ' ';
        line[n++] = '\n';
        /* nothing useful can be done if stderr is gone */
        if (write(STDERR_FILENO, line, (size_t)n) < 0)
                return;
}

int log_limit_pass(struct log_limit *l, unsigned long long *held)
{
        long long now = (long long)time(NULL);

        if (now - l->window >= LOG_LIMIT_S || now < l->window) {
                l->window = now;
                l->lines = 0;
        }
        if (l->lines >= LOG_LIMIT_BURST) {
                l->held++;
                return 0;
        }
        l->lines++;
        *held = l->held;
        l->held = 0;
        return 1;
}
