/*
 * daemon/conn.h - one client connection of timebankd: a state machine over
 * a non-blocking Unix socket (docs/timebankd.md, "How a request is
 * served").
 *
 * A connection is reference-counted: one reference for the open socket and
 * one per write in the commit pipeline, because a client may vanish while
 * its writes are being committed.  conn_update() is the one place that
 * moves a connection between states and re-arms its events.
 *
 * One misbehaving client never stalls the others: every buffer is bounded
 * and a framing error drops only that client.
 */
#ifndef TB_CONN_H
#define TB_CONN_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "frame.h"
#include "log.h"
#include "msg.h"

struct request_ctx;

/*
 * The states.  For each: what the peer did, what we still owe it, and the
 * event that moves it on.  Reading from the socket is enabled in READING
 * only.
 *
 *   CONN_READING      the peer sends requests.  Frames are decoded as bytes
 *                     arrive; reads are answered at once, writes go to the
 *                     pipeline.  -> PAUSED at a limit; CLOSING on a framing
 *                     error; HALF_CLOSED on end-of-file with answers due;
 *                     STOPPING at shutdown; DEAD on end-of-file with
 *                     nothing due, a socket error or the idle timeout.
 *   CONN_PAUSED       the peer has max_inflight writes unanswered, or has
 *                     not taken more than CONN_OUTPUT_HIGH bytes of answers.
 *                     We owe those answers; nothing more is read until a
 *                     write's result comes back or the output drains
 *                     (-> READING, and the requests already buffered are
 *                     dispatched).  A peer waiting for a commit is not idle.
 *   CONN_HALF_CLOSED  the peer shut down its sending side (end-of-file)
 *                     while answers were due, and still reads.  We owe the
 *                     answers to its writes in the pipeline and to the
 *                     requests it sent before the end (dispatched within
 *                     the limits as above).  -> DEAD once nothing is in the
 *                     pipeline and every answer went out.
 *   CONN_CLOSING      the peer broke the framing (zero or oversize length,
 *                     a request shorter than its header).  Nothing more is
 *                     read or dispatched; we owe the error answer and the
 *                     answers already due.  -> DEAD once they went out.
 *   CONN_STOPPING     the daemon is shutting down (a READING or PAUSED
 *                     connection at SIGTERM).  Nothing more is read; the
 *                     requests already buffered are answered, writes among
 *                     them with UNAVAILABLE, and the answers flushed.  It
 *                     ends with the event loop (conn_free_all()), or
 *                     earlier as READING does on end-of-file or an error.
 *   CONN_DEAD         the socket is closed; writes may still be in the
 *                     pipeline (they are committed all the same, a retry
 *                     gets DUPLICATE) and their answers are dropped.  The
 *                     memory lives until the last of them comes back.
 *
 * In every live state the idle timeout also bounds a peer that stops
 * taking its answers.  In READING, a frame whose first byte has arrived
 * must be complete within frame_timeout, or the peer is dropped (with a
 * BAD_REQUEST answer if its socket takes it at once): a peer trickling
 * bytes restarts the idle timeout with each, but not this deadline.
 */
enum conn_state {
        CONN_READING,
        CONN_PAUSED,
        CONN_HALF_CLOSED,
        CONN_CLOSING,
        CONN_STOPPING,
        CONN_DEAD,
};

#define CONN_OUTPUT_HIGH (1u << 20) /* pause reading above 1 MiB unsent */
#define CONN_UID_BUCKETS 64         /* of the per-uid connection counts */

struct conn;
struct conn_uid;

struct stats;

/* The classes of lines a client can cause, each limited (log_limit). */
enum conn_log_class {
        CONN_LOG_REFUSAL,  /* a write refused by a ledger rule */
        CONN_LOG_PROTOCOL, /* bytes that are not our protocol, or too slow */
        CONN_LOG_BUSY,     /* a write answered BUSY: the queue is full */
        CONN_LOG_CLASSES
};

/*
 * Every connection of one server.  The server fills cfg, stats, rq,
 * closed_cb and arg and zeroes the rest; the set owns its connections.
 */
struct conn_set {
        const struct config *cfg;     /* max_frame, max_inflight, idle_timeout,
                                         frame_timeout */
        struct stats *stats;          /* answers counted by status */
        struct request_ctx *rq;       /* where decoded frames go */
        void (*closed_cb)(void *arg); /* after a connection closed */
        void *arg;
        struct conn *head;
        unsigned count; /* open (not DEAD) connections */
        struct conn_uid *uids[CONN_UID_BUCKETS]; /* open ones per peer uid */
        uint64_t serial; /* of the last connection accepted */
        int stopping;    /* conn_stop_all() was called */
        struct log_limit limits[CONN_LOG_CLASSES];   /* per class */
        uint8_t out[TB_FRAME_HEADER + TB_FRAME_MAX]; /* encoding scratch */
};

/*
 * Take the accepted socket fd (closed on any failure) as a new connection
 * in READING; pid and uid are the peer's (SO_PEERCRED, -1 if unknown), for
 * the logs and the per-uid count.  Returns 0, or -1 after logging why.
 */
int conn_new(struct conn_set *set, struct event_base *base, evutil_socket_t fd,
             long pid, long uid);

/* Open (not DEAD) connections whose peer has uid. */
unsigned conn_uid_count(const struct conn_set *set, long uid);

/* The most open connections one peer uid has now. */
unsigned conn_uid_max(const struct conn_set *set);

/*
 * Shutdown: no connection reads any more; the requests already buffered are
 * dispatched whatever the limits (request.c answers writes UNAVAILABLE once
 * set->stopping is set).  Call once, before draining the pipeline.
 */
void conn_stop_all(struct conn_set *set);

/* Bytes of answers queued and not yet taken by the clients. */
size_t conn_unsent_all(const struct conn_set *set);

/* Close and free every connection; no write may be in the pipeline. */
void conn_free_all(struct conn_set *set);

/*
 * Encode r and queue it on c (nothing if c is DEAD).  An answer that does
 * not encode is our bug: it is logged and replaced by INTERNAL.
 */
void conn_send(struct conn *c, struct tb_response *r);

/* An answer without body: status and message (NULL for none). */
void conn_send_status(struct conn *c, uint16_t type, uint32_t id,
                      uint16_t status, const char *message);

/*
 * The client broke the framing: answer status and message (type and id 0,
 * as none could be read) and move c to CONN_CLOSING.
 */
void conn_send_fatal(struct conn *c, uint16_t status, const char *message);

/* 1 when writes must be refused: the daemon is shutting down. */
int conn_stopping(const struct conn *c);

/*
 * A write of c entered the pipeline (conn_write_begin(), keeps c alive), or
 * its answer was sent (conn_write_end(), may resume reading or close c).
 */
void conn_write_begin(struct conn *c);
void conn_write_end(struct conn *c);

/*
 * Every per-connection log line: "conn N: " and the message, at syslog
 * priority prio (log.h).
 */
void conn_log(const struct conn *c, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* conn_log, limited per class: beyond the limit at debug, counted, and
 * the next line out says how many were held back. */
void conn_log_limited(const struct conn *c, enum conn_log_class cls, int prio,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
