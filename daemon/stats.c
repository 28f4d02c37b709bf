/*
 * daemon/stats.c - the loop's counters and their part of the STATS answer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stats.h"
#include "status.h"

/* The request types in slot order; the last slot is every other type. */
static const uint16_t stats_types[STATS_TYPE_SLOTS - 1] = {
    TB_MSG_SUBMIT,      TB_MSG_BALANCE,    TB_MSG_HISTORY,
    TB_MSG_ENTRY,       TB_MSG_CHECKPOINT, TB_MSG_INCLUSION,
    TB_MSG_CONSISTENCY, TB_MSG_STATUS,     TB_MSG_STATS};

void stats_init(struct stats *s)
{
        time_t now = time(NULL);

        memset(s, 0, sizeof(*s));
        s->start_time = now < 0 ? 0 : (int64_t)now;
}

void stats_request(struct stats *s, unsigned type)
{
        size_t i = 0;

        while (i < STATS_TYPE_SLOTS - 1 && stats_types[i] != type)
                i++;
        s->requests[i]++;
}

void stats_response(struct stats *s, unsigned status)
{
        if (status < STATS_STATUS_SLOTS)
                s->responses[status]++;
}

void stats_add(struct tb_stats *out, const char *name, const char *label,
               uint64_t value)
{
        struct tb_stat *t;

        if (out->count >= TB_STATS_MAX)
                return;
        t = &out->items[out->count++];
        snprintf(t->name, sizeof(t->name), "%s", name);
        snprintf(t->label, sizeof(t->label), "%s", label);
        t->value = value;
}

void stats_fill(const struct stats *s, struct tb_stats *out)
{
        stats_add(out, "start_time_seconds", "", (uint64_t)s->start_time);
        for (size_t i = 0; i < STATS_TYPE_SLOTS; i++)
                if (s->requests[i] != 0)
                        stats_add(out, "requests_total",
                                  i < STATS_TYPE_SLOTS - 1
                                      ? tb_msg_type_name(stats_types[i])
                                      : "unknown",
                                  s->requests[i]);
        for (unsigned st = 0; st < STATS_STATUS_SLOTS; st++)
                if (s->responses[st] != 0 && tb_status_name(st) != NULL)
                        stats_add(out, "responses_total", tb_status_name(st),
                                  s->responses[st]);
}
