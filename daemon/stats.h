/*
 * daemon/stats.h - what an operator watches, counted since the start: the
 * requests by type and the answers by status (owned by the event loop's
 * thread, like the connections they come from), and the STATS answer that
 * reports them with the ledger's, the pipeline's and the connections'
 * numbers (docs/protocol.md, "207 STATS"; docs/operations.md,
 * "Monitoring").
 */
#ifndef TB_STATS_H
#define TB_STATS_H

#include <stdint.h>

#include "msg.h"

#define STATS_STATUS_SLOTS 400 /* statuses 0..399: every class we send */
#define STATS_TYPE_SLOTS   10  /* submit, the 8 reads, unknown */
#define STATS_FIXED        19  /* request.c's numbers before stats_fill */
#define STATS_STATUSES     40  /* more than the statuses tb_status_name knows */

struct stats {
        int64_t start_time; /* unix seconds */
        uint64_t requests[STATS_TYPE_SLOTS];
        uint64_t responses[STATS_STATUS_SLOTS];
};

/* Zero the counters, the start time now. */
void stats_init(struct stats *s);

/* A request of type arrived (whatever became of it). */
void stats_request(struct stats *s, unsigned type);

/* An answer with status went out (or was queued to). */
void stats_response(struct stats *s, unsigned status);

/* Append name{label} = value to out; silently full at TB_STATS_MAX (the
 * daemon's own list is far shorter: STATS_FIXED, a start time, the
 * request types and the statuses; request.c asserts that it fits). */
void stats_add(struct tb_stats *out, const char *name, const char *label,
               uint64_t value);

/* Append the start time, the requests by type and the answers by status
 * (those not zero) to out. */
void stats_fill(const struct stats *s, struct tb_stats *out);

#endif
