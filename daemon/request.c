/*
 * daemon/request.c - the request handlers, driven by one table.
 *
 * The seven reads share one shape: ask the ledger, answer OK, or map the
 * ledger's error to a status.  So a read is only its ledger call and, for
 * "not found", the status and the message naming what was missing; the
 * message is built only when the read failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "log.h"
#include "request.h"
#include "stats.h"

struct request_type {
        uint16_t type;
        /* a read: fill r, return the ledger's verdict; NULL for SUBMIT */
        enum ledger_err (*read)(struct request_ctx *rq,
                                const struct tb_request *q,
                                struct tb_response *r);
        uint16_t not_found; /* status when the ledger finds nothing */
        /* the message naming what was not found */
        void (*missing)(const struct tb_request *q, char *msg, size_t len);
};

/* ---- reads ----------------------------------------------------------- */

static enum ledger_err request_balance(struct request_ctx *rq,
                                       const struct tb_request *q,
                                       struct tb_response *r)
{
        return ledger_balance(rq->ledger, q->u.balance.account, &r->u.balance);
}

static enum ledger_err request_history(struct request_ctx *rq,
                                       const struct tb_request *q,
                                       struct tb_response *r)
{
        return ledger_history(rq->ledger, q->u.history.account,
                              q->u.history.before, q->u.history.limit,
                              &r->u.history, rq->buf, sizeof(rq->buf));
}

static enum ledger_err request_entry(struct request_ctx *rq,
                                     const struct tb_request *q,
                                     struct tb_response *r)
{
        r->u.entry.record = rq->buf;
        return ledger_entry(rq->ledger, q->u.entry.seq, rq->buf,
                            sizeof(rq->buf), &r->u.entry.record_len);
}

static enum ledger_err request_checkpoint(struct request_ctx *rq,
                                          const struct tb_request *q,
                                          struct tb_response *r)
{
        (void)q;
        r->u.checkpoint.note = rq->buf;
        return ledger_checkpoint(rq->ledger, rq->buf, TB_CHECKPOINT_MAX,
                                 &r->u.checkpoint.note_len, NULL);
}

static enum ledger_err request_inclusion(struct request_ctx *rq,
                                         const struct tb_request *q,
                                         struct tb_response *r)
{
        return ledger_prove_inclusion(rq->ledger, q->u.inclusion.index,
                                      q->u.inclusion.size, &r->u.proof, rq->buf,
                                      sizeof(rq->buf));
}

static enum ledger_err request_consistency(struct request_ctx *rq,
                                           const struct tb_request *q,
                                           struct tb_response *r)
{
        return ledger_prove_consistency(rq->ledger, q->u.consistency.old_size,
                                        q->u.consistency.size, &r->u.proof,
                                        rq->buf, sizeof(rq->buf));
}

static enum ledger_err request_status(struct request_ctx *rq,
                                      const struct tb_request *q,
                                      struct tb_response *r)
{
        enum ledger_err err = ledger_status(rq->ledger, &r->u.status);

        (void)q;
        snprintf(r->u.status.version, sizeof(r->u.status.version),
                 "timebankd %s", TIMEBANK_VERSION);
        return err;
}

_Static_assert(STATS_FIXED + 1 + STATS_TYPE_SLOTS + STATS_STATUSES <=
                   TB_STATS_MAX,
               "every number of STATS must fit in one answer");

/*
 * STATS: every number an operator watches (docs/protocol.md lists them):
 * the ledger's, the writer's, the connections' and the loop's counters.
 */
static enum ledger_err request_stats(struct request_ctx *rq,
                                     const struct tb_request *q,
                                     struct tb_response *r)
{
        struct tb_stats *o = &r->u.stats;
        struct tb_status_info *st = &r->u.status;
        struct pipeline_stats ps;
        uint64_t ledger[6];
        enum ledger_err err;

        (void)q;
        /* the status shares the union: read it, keep the numbers */
        if ((err = ledger_status(rq->ledger, st)) != LEDGER_OK)
                return err;
        ledger[0] = st->tree_size;
        ledger[1] = st->accounts;
        ledger[2] = st->keys_active;
        ledger[3] = st->keys_revoked;
        ledger[4] = st->disk_bytes;
        ledger[5] = st->map_bytes;
        memset(o, 0, sizeof(*o));
        pipeline_stats(rq->pipeline, &ps);
        stats_add(o, "entries", "", ledger[0]);
        stats_add(o, "accounts", "", ledger[1]);
        stats_add(o, "keys_active", "", ledger[2]);
        stats_add(o, "keys_revoked", "", ledger[3]);
        stats_add(o, "disk_bytes", "", ledger[4]);
        stats_add(o, "map_bytes", "", ledger[5]);
        stats_add(o, "queue_depth", "", pipeline_pending(rq->pipeline));
        stats_add(o, "connections", "", rq->conns->count);
        stats_add(o, "connections_uid_max", "", conn_uid_max(rq->conns));
        stats_add(o, "connections_total", "", rq->conns->serial);
        stats_add(o, "batches_total", "", ps.batches);
        stats_add(o, "batch_writes_total", "", ps.batch_entries);
        stats_add(o, "batch_writes_last", "", ps.batch_last);
        stats_add(o, "batch_writes_max", "", ps.batch_max);
        stats_add(o, "last_commit_time_seconds", "", (uint64_t)ps.last_commit);
        stats_add(o, "storage_full_total", "", ps.full);
        stats_add(o, "storage_full_time_seconds", "", (uint64_t)ps.last_full);
        stats_add(o, "storage_errors_total", "", ps.errors);
        stats_add(o, "storage_error_time_seconds", "", (uint64_t)ps.last_error);
        stats_fill(rq->stats, o);
        return LEDGER_OK;
}

/* ---- what a failed read did not find ---------------------------------- */

/*
 * REQUEST_MISSING(x, format, args...) defines request_no_x(q, msg, len),
 * which writes the message naming what a read of q did not find.
 */
#define REQUEST_MISSING(x, ...)                                                \
        static void request_no_##x(const struct tb_request *q, char *msg,      \
                                   size_t len)                                 \
        {                                                                      \
                (void)q;                                                       \
                snprintf(msg, len, __VA_ARGS__);                               \
        }

REQUEST_MISSING(account, "no account '%s'",
                q->type == TB_MSG_BALANCE ? q->u.balance.account
                                          : q->u.history.account)
REQUEST_MISSING(entry, "no entry with seq %" PRIu64, q->u.entry.seq)
REQUEST_MISSING(checkpoint, "no checkpoint")
REQUEST_MISSING(inclusion,
                "entry %" PRIu64 " is not in a tree of size %" PRIu64
                " (or that size is beyond the log)",
                q->u.inclusion.index, q->u.inclusion.size)
REQUEST_MISSING(consistency,
                "no consistency proof from size %" PRIu64 " to %" PRIu64
                ": sizes must satisfy 1 <= old <= new <= the tree size",
                q->u.consistency.old_size, q->u.consistency.size)
REQUEST_MISSING(status, "status unavailable")
REQUEST_MISSING(stats, "statistics unavailable")

static const struct request_type request_types[] = {
    {TB_MSG_SUBMIT, NULL, 0, NULL},
    {TB_MSG_BALANCE, request_balance, TB_ST_UNKNOWN_ACCOUNT,
     request_no_account},
    {TB_MSG_HISTORY, request_history, TB_ST_UNKNOWN_ACCOUNT,
     request_no_account},
    {TB_MSG_ENTRY, request_entry, TB_ST_NOT_FOUND, request_no_entry},
    {TB_MSG_CHECKPOINT, request_checkpoint, TB_ST_NOT_FOUND,
     request_no_checkpoint},
    {TB_MSG_INCLUSION, request_inclusion, TB_ST_NOT_FOUND,
     request_no_inclusion},
    {TB_MSG_CONSISTENCY, request_consistency, TB_ST_NOT_FOUND,
     request_no_consistency},
    {TB_MSG_STATUS, request_status, TB_ST_NOT_FOUND, request_no_status},
    {TB_MSG_STATS, request_stats, TB_ST_NOT_FOUND, request_no_stats},
};

/* Answer a failed read; log what is the daemon's fault. */
static void request_read_failed(struct conn *c, const struct tb_request *q,
                                const struct request_type *t,
                                enum ledger_err err)
{
        char msg[256];

        switch (err) {
        case LEDGER_E_NOT_FOUND:
        case LEDGER_E_RANGE:
                t->missing(q, msg, sizeof(msg));
                conn_send_status(c, q->type, q->id,
                                 err == LEDGER_E_NOT_FOUND ? t->not_found
                                                           : TB_ST_NOT_FOUND,
                                 msg);
                return;
        case LEDGER_E_INVALID:
                conn_send_status(c, q->type, q->id, TB_ST_BAD_REQUEST,
                                 ledger_strerror(err));
                return;
        case LEDGER_E_READERS:
                conn_send_status(c, q->type, q->id, TB_ST_BUSY,
                                 "too many concurrent readers");
                return;
        default:
                conn_log(c, LOG_ERR, "%s: %s", tb_msg_type_name(q->type),
                         ledger_strerror(err));
                conn_send_status(c, q->type, q->id, TB_ST_INTERNAL,
                                 "reading the ledger failed");
                return;
        }
}

static void request_read(struct request_ctx *rq, struct conn *c,
                         const struct tb_request *q,
                         const struct request_type *t)
{
        struct tb_response *r = &rq->resp;
        enum ledger_err err;

        memset(r, 0, sizeof(*r));
        r->type = q->type;
        r->id = q->id;
        r->status = TB_ST_OK;
        if ((err = t->read(rq, q, r)) != LEDGER_OK)
                request_read_failed(c, q, t, err);
        else
                conn_send(c, r);
}

/* ---- writes ---------------------------------------------------------- */

static void request_submit(struct request_ctx *rq, struct conn *c,
                           const struct tb_request *q)
{
        struct pipeline_job *j;
        time_t now = time(NULL);

        if (conn_stopping(c)) {
                conn_send_status(c, q->type, q->id, TB_ST_UNAVAILABLE,
                                 "the daemon is shutting down");
                return;
        }
        if ((j = calloc(1, sizeof(*j))) == NULL ||
            (j->data = malloc(q->u.submit.len)) == NULL) {
                free(j);
                conn_send_status(c, q->type, q->id, TB_ST_BUSY,
                                 "out of memory");
                return;
        }
        memcpy(j->data, q->u.submit.signed_entry, q->u.submit.len);
        j->len = q->u.submit.len;
        j->owner = c;
        j->id = q->id;
        j->received = now < 0 ? 0 : (int64_t)now;
        if (pipeline_submit(rq->pipeline, j) != 0) {
                int busy = errno == EAGAIN;
                free(j->data);
                free(j);
                if (busy)
                        conn_log_limited(c, CONN_LOG_BUSY, LOG_WARNING,
                                         "write answered BUSY: max_queue "
                                         "(%u) writes are waiting",
                                         rq->conns->cfg->max_queue);
                conn_send_status(c, q->type, q->id,
                                 busy ? TB_ST_BUSY : TB_ST_UNAVAILABLE,
                                 busy ? "too many writes queued in the daemon"
                                      : "the daemon is shutting down");
                return;
        }
        conn_write_begin(c);
}

void request_write_done(struct request_ctx *rq, struct pipeline_job *j)
{
        struct conn *c = j->owner;
        struct tb_response *r = &rq->resp;

        memset(r, 0, sizeof(*r));
        r->type = TB_MSG_SUBMIT;
        r->id = j->id;
        r->status = j->result.status;
        r->message = j->result.detail;
        r->message_len = strnlen(j->result.detail, sizeof(j->result.detail));
        r->u.write.seq = j->result.seq;
        r->u.write.points = j->result.points;
        r->u.write.balance = j->result.balance;
        r->u.write.checkpoint = j->receipt;
        r->u.write.checkpoint_len = j->receipt_len;
        /* a rule refusal of an enrolled key's write is worth the log; bad
         * signatures and bad bytes would let anyone flood it */
        if (r->status != TB_ST_OK && r->status != TB_ST_DUPLICATE)
                conn_log_limited(c, CONN_LOG_REFUSAL,
                                 tb_status_class(r->status) == TB_STC_REFUSED &&
                                         r->status != TB_ST_BAD_SIGNATURE &&
                                         r->status != TB_ST_UNKNOWN_KEY
                                     ? LOG_INFO
                                     : LOG_DEBUG,
                                 "write refused: %s%s%s",
                                 tb_status_name(r->status),
                                 r->message_len ? ": " : "", j->result.detail);
        conn_send(c, r);
        free(j->data);
        free(j->receipt);
        free(j);
        conn_write_end(c);
}

/* ---- dispatch -------------------------------------------------------- */

void request_handle(struct request_ctx *rq, struct conn *c, const uint8_t *p,
                    size_t len)
{
        struct tb_request q;
        uint8_t version;
        uint16_t type;
        uint32_t id;
        enum tb_err err;
        char msg[96];

        if (tb_request_peek(p, len, &version, &type, &id) != TB_OK) {
                stats_request(rq->stats, 0);
                conn_log_limited(c, CONN_LOG_PROTOCOL, LOG_INFO,
                                 "request shorter than its header; "
                                 "dropping the client");
                conn_send_fatal(c, TB_ST_BAD_REQUEST,
                                "request shorter than its 7-byte header");
                return;
        }
        stats_request(rq->stats, type);
        if ((err = tb_request_decode(p, len, &q)) != TB_OK) {
                conn_log(c, LOG_DEBUG, "bad request: %s", tb_strerror(err));
                if (err == TB_E_VERSION) {
                        snprintf(msg, sizeof(msg),
                                 "protocol version %u is not supported; this "
                                 "daemon speaks %u",
                                 version, TB_PROTO_VERSION);
                        conn_send_status(c, type, id, TB_ST_UNSUPPORTED_VERSION,
                                         msg);
                        return;
                }
                conn_send_status(c, type, id,
                                 (uint16_t)tb_status_for_decode_error(err),
                                 tb_strerror(err));
                return;
        }
        for (size_t i = 0; i < sizeof(request_types) / sizeof(request_types[0]);
             i++) {
                const struct request_type *t = &request_types[i];

                if (t->type != q.type)
                        continue;
                if (t->read != NULL)
                        request_read(rq, c, &q, t);
                else
                        request_submit(rq, c, &q);
                return;
        }
        conn_send_status(c, type, id, TB_ST_UNKNOWN_TYPE,
                         "unknown request type");
}
