/*
 * daemon/request.h - timebankd's request handlers: one decoded frame in,
 * one answer out (docs/protocol.md).
 *
 * Each frame is checked in the fixed order of the protocol: header length,
 * version (answered in a form an old client can parse), type, then the
 * type's own fields.  Reads (BALANCE .. STATUS) are answered at once from a
 * ledger read transaction; a SUBMIT goes to the commit pipeline and is
 * answered by request_write_done() once its transaction is durable.
 * Nothing a client sends can stop the daemon: a bad request gets an error
 * answer, and only a request shorter than its header drops the client.
 */
#ifndef TB_REQUEST_H
#define TB_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "msg.h"
#include "pipeline.h"

struct conn;

/* What the handlers share; one per server, used on the loop thread only. */
struct conn_set;
struct stats;

struct request_ctx {
        struct ledger *ledger;
        struct pipeline *pipeline; /* set once the pipeline started */
        struct stats *stats;       /* the loop's counters */
        const struct conn_set *conns;
        struct tb_response resp;                     /* scratch */
        uint8_t buf[TB_HISTORY_MAX * TB_RECORD_MAX]; /* scratch for reads */
};

/*
 * Decode the frame p[len] that arrived on c and answer it (or hand it to
 * the pipeline).  A frame shorter than the request header moves c to
 * CONN_CLOSING; every other answer leaves c open.
 */
void request_handle(struct request_ctx *rq, struct conn *c, const uint8_t *p,
                    size_t len);

/*
 * From the pipeline's done callback, on the loop thread: answer the write
 * of job j on its connection (j->owner), log a rule refusal, free j.
 */
void request_write_done(struct request_ctx *rq, struct pipeline_job *j);

#endif
