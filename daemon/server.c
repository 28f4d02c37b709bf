/*
 * daemon/server.c - listener, connections and dispatch on one libevent
 * base.
 *
 * Every connection is reference-counted: one reference for the open socket
 * and one per write in the pipeline, because a client may vanish while its
 * writes are being committed.  All connection state changes go through
 * conn_update(), the one place that re-arms reading.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "msg.h"
#include "pipeline.h"
#include "server.h"
#include "systemd.h"

#define OUTPUT_HIGH       (1u << 20) /* pause reading above 1 MiB unsent */
#define SHUTDOWN_FLUSH_MS 5000

struct conn {
        struct server *srv;
        struct bufferevent *bev;
        struct tb_frame_decoder dec;
        uint8_t *frame;
        uint64_t serial;
        long pid;
        long uid;
        unsigned inflight; /* writes in the pipeline */
        int refs;
        int closing;
        int eof; /* the client half-closed: answer what is pending */
        int dead;
        struct conn *prev, *next;
};

struct server {
        struct config cfg;
        struct ledger *ledger;
        struct event_base *base;
        struct evconnlistener *listener;
        struct pipeline *pipeline;
        struct event *sigterm, *sigint, *retry_accept, *flush_timer;
        struct conn *conns;
        unsigned nconns;
        uint64_t serial;
        int created_socket;
        int stopping;
        int failed;
        int flush_ms;
        char origin[TB_NAME_MAX + 1];
        struct tb_response resp;                     /* scratch */
        uint8_t out[TB_FRAME_HEADER + TB_FRAME_MAX]; /* scratch */
        uint8_t buf[TB_HISTORY_MAX * TB_RECORD_MAX]; /* scratch for reads */
};

static void conn_update(struct conn *c);
static void conn_resume(struct conn *c);

/* ---- replies --------------------------------------------------------------
 */

/*
 * noinline: a caller that holds a second reference uses c after this call,
 * which GCC's -Wuse-after-free cannot tell from a real use after free once
 * the function is inlined into it.
 */
__attribute__((noinline)) static void conn_unref(struct conn *c)
{
        if (--c->refs > 0)
                return;
        if (c->prev != NULL)
                c->prev->next = c->next;
        else
                c->srv->conns = c->next;
        if (c->next != NULL)
                c->next->prev = c->prev;
        free(c->frame);
        free(c);
}

/* Encode s->resp and queue it on c; a failure to encode is our bug. */
static void send_resp(struct conn *c, struct tb_response *r)
{
        struct server *s = c->srv;
        size_t len;
        enum tb_err err;

        if (c->dead)
                return;
        err =
            tb_response_encode(r, s->out + TB_FRAME_HEADER, TB_FRAME_MAX, &len);
        if (err != TB_OK) {
                log_err("conn %" PRIu64 ": cannot encode a %s response: %s",
                        c->serial, tb_msg_type_name(r->type), tb_strerror(err));
                memset(&r->u, 0, sizeof(r->u));
                r->status = TB_ST_INTERNAL;
                r->message = "the daemon could not encode its answer";
                r->message_len = strlen(r->message);
                if (tb_response_encode(r, s->out + TB_FRAME_HEADER,
                                       TB_FRAME_MAX, &len) != TB_OK)
                        return;
        }
        if (tb_frame_header(len, s->out) != TB_OK ||
            bufferevent_write(c->bev, s->out, TB_FRAME_HEADER + len) != 0)
                log_err("conn %" PRIu64 ": cannot queue a response", c->serial);
}

/* A reply without body: an error status with a message. */
static void send_status(struct conn *c, uint16_t type, uint32_t id,
                        uint16_t status, const char *message)
{
        struct tb_response *r = &c->srv->resp;

        memset(r, 0, sizeof(*r));
        r->type = type; /* echoed, even unknown: the client matches it */
        r->id = id;
        r->status = status;
        r->message = message;
        r->message_len = message != NULL ? strlen(message) : 0;
        send_resp(c, r);
}

/* ---- reads ----------------------------------------------------------------
 */

/* Map a ledger read error to a reply; log what is the daemon's fault. */
static void send_ledger_error(struct conn *c, const struct tb_request *q,
                              enum ledger_err err, const char *what)
{
        char msg[256];

        switch (err) {
        case LEDGER_E_NOT_FOUND:
                snprintf(msg, sizeof(msg), "%s", what);
                send_status(c, q->type, q->id,
                            q->type == TB_MSG_BALANCE ||
                                    q->type == TB_MSG_HISTORY
                                ? TB_ST_UNKNOWN_ACCOUNT
                                : TB_ST_NOT_FOUND,
                            msg);
                return;
        case LEDGER_E_RANGE:
                snprintf(msg, sizeof(msg), "%s", what);
                send_status(c, q->type, q->id, TB_ST_NOT_FOUND, msg);
                return;
        case LEDGER_E_INVALID:
                send_status(c, q->type, q->id, TB_ST_BAD_REQUEST,
                            ledger_strerror(err));
                return;
        case LEDGER_E_READERS:
                send_status(c, q->type, q->id, TB_ST_BUSY,
                            "too many concurrent readers");
                return;
        default:
                log_err("conn %" PRIu64 ": %s: %s", c->serial,
                        tb_msg_type_name(q->type), ledger_strerror(err));
                send_status(c, q->type, q->id, TB_ST_INTERNAL,
                            "reading the ledger failed");
                return;
        }
}

static struct tb_response *ok_resp(struct conn *c, const struct tb_request *q)
{
        struct tb_response *r = &c->srv->resp;

        memset(r, 0, sizeof(*r));
        r->type = q->type;
        r->id = q->id;
        r->status = TB_ST_OK;
        return r;
}

static void do_balance(struct conn *c, const struct tb_request *q)
{
        struct tb_response *r = ok_resp(c, q);
        enum ledger_err err;
        char what[128];

        err =
            ledger_balance(c->srv->ledger, q->u.balance.account, &r->u.balance);
        snprintf(what, sizeof(what), "no account '%s'", q->u.balance.account);
        if (err != LEDGER_OK)
                send_ledger_error(c, q, err, what);
        else
                send_resp(c, r);
}

static void do_history(struct conn *c, const struct tb_request *q)
{
        struct server *s = c->srv;
        struct tb_response *r = ok_resp(c, q);
        enum ledger_err err;
        char what[128];

        err = ledger_history(s->ledger, q->u.history.account,
                             q->u.history.before, q->u.history.limit,
                             &r->u.history, s->buf, sizeof(s->buf));
        snprintf(what, sizeof(what), "no account '%s'", q->u.history.account);
        if (err != LEDGER_OK)
                send_ledger_error(c, q, err, what);
        else
                send_resp(c, r);
}

static void do_entry(struct conn *c, const struct tb_request *q)
{
        struct server *s = c->srv;
        struct tb_response *r = ok_resp(c, q);
        enum ledger_err err;
        char what[128];

        err = ledger_entry(s->ledger, q->u.entry.seq, s->buf, sizeof(s->buf),
                           &r->u.entry.record_len);
        r->u.entry.record = s->buf;
        snprintf(what, sizeof(what), "no entry with seq %" PRIu64,
                 q->u.entry.seq);
        if (err != LEDGER_OK)
                send_ledger_error(c, q, err, what);
        else
                send_resp(c, r);
}

static void do_checkpoint(struct conn *c, const struct tb_request *q)
{
        struct server *s = c->srv;
        struct tb_response *r = ok_resp(c, q);
        enum ledger_err err;

        err = ledger_checkpoint(s->ledger, s->buf, TB_CHECKPOINT_MAX,
                                &r->u.checkpoint.note_len, NULL);
        r->u.checkpoint.note = s->buf;
        if (err != LEDGER_OK)
                send_ledger_error(c, q, err, "no checkpoint");
        else
                send_resp(c, r);
}

static void do_inclusion(struct conn *c, const struct tb_request *q)
{
        struct server *s = c->srv;
        struct tb_response *r = ok_resp(c, q);
        enum ledger_err err;
        char what[160];

        err = ledger_prove_inclusion(s->ledger, q->u.inclusion.index,
                                     q->u.inclusion.size, &r->u.proof, s->buf,
                                     sizeof(s->buf));
        snprintf(what, sizeof(what),
                 "entry %" PRIu64 " is not in a tree of size %" PRIu64
                 " (or that size is beyond the log)",
                 q->u.inclusion.index, q->u.inclusion.size);
        if (err != LEDGER_OK)
                send_ledger_error(c, q, err, what);
        else
                send_resp(c, r);
}

static void do_consistency(struct conn *c, const struct tb_request *q)
{
        struct server *s = c->srv;
        struct tb_response *r = ok_resp(c, q);
        enum ledger_err err;
        char what[160];

        err = ledger_prove_consistency(s->ledger, q->u.consistency.old_size,
                                       q->u.consistency.size, &r->u.proof,
                                       s->buf, sizeof(s->buf));
        snprintf(what, sizeof(what),
                 "no consistency proof from size %" PRIu64 " to %" PRIu64
                 ": sizes must satisfy 1 <= old <= new <= the tree size",
                 q->u.consistency.old_size, q->u.consistency.size);
        if (err != LEDGER_OK)
                send_ledger_error(c, q, err, what);
        else
                send_resp(c, r);
}

static void do_status(struct conn *c, const struct tb_request *q)
{
        struct tb_response *r = ok_resp(c, q);
        enum ledger_err err;

        err = ledger_status(c->srv->ledger, &r->u.status);
        snprintf(r->u.status.version, sizeof(r->u.status.version),
                 "timebankd %s", TIMEBANK_VERSION);
        if (err != LEDGER_OK)
                send_ledger_error(c, q, err, "status unavailable");
        else
                send_resp(c, r);
}

/* ---- writes ---------------------------------------------------------------
 */

static void do_submit(struct conn *c, const struct tb_request *q)
{
        struct server *s = c->srv;
        struct pipeline_job *j;
        time_t now = time(NULL);

        if (s->stopping) {
                send_status(c, q->type, q->id, TB_ST_UNAVAILABLE,
                            "the daemon is shutting down");
                return;
        }
        if ((j = calloc(1, sizeof(*j))) == NULL ||
            (j->data = malloc(q->u.submit.len)) == NULL) {
                free(j);
                send_status(c, q->type, q->id, TB_ST_BUSY, "out of memory");
                return;
        }
        memcpy(j->data, q->u.submit.signed_entry, q->u.submit.len);
        j->len = q->u.submit.len;
        j->owner = c;
        j->id = q->id;
        j->received = now < 0 ? 0 : (int64_t)now;
        if (pipeline_submit(s->pipeline, j) != 0) {
                int busy = errno == EAGAIN;
                free(j->data);
                free(j);
                send_status(c, q->type, q->id,
                            busy ? TB_ST_BUSY : TB_ST_UNAVAILABLE,
                            busy ? "too many writes queued in the daemon"
                                 : "the daemon is shutting down");
                return;
        }
        c->inflight++;
        c->refs++;
}

static void write_done_cb(struct pipeline_job *j, void *arg)
{
        struct conn *c = j->owner;
        struct tb_response *r = &((struct server *)arg)->resp;

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
                log_msg(tb_status_class(r->status) == TB_STC_REFUSED &&
                                r->status != TB_ST_BAD_SIGNATURE &&
                                r->status != TB_ST_UNKNOWN_KEY
                            ? LOG_INFO
                            : LOG_DEBUG,
                        "conn %" PRIu64 ": write refused: %s%s%s", c->serial,
                        tb_status_name(r->status), r->message_len ? ": " : "",
                        j->result.detail);
        send_resp(c, r);
        free(j->data);
        free(j->receipt);
        free(j);
        c->inflight--;
        conn_resume(c);
        conn_unref(c);
}

/* ---- dispatch -------------------------------------------------------------
 */

static const struct {
        uint16_t type;
        void (*run)(struct conn *, const struct tb_request *);
} handlers[] = {
    {TB_MSG_SUBMIT, do_submit},           {TB_MSG_BALANCE, do_balance},
    {TB_MSG_HISTORY, do_history},         {TB_MSG_ENTRY, do_entry},
    {TB_MSG_CHECKPOINT, do_checkpoint},   {TB_MSG_INCLUSION, do_inclusion},
    {TB_MSG_CONSISTENCY, do_consistency}, {TB_MSG_STATUS, do_status},
};

static void handle_frame(struct conn *c, const uint8_t *p, size_t len)
{
        struct tb_request q;
        uint8_t version;
        uint16_t type;
        uint32_t id;
        enum tb_err err;

        if (tb_request_peek(p, len, &version, &type, &id) != TB_OK) {
                log_info("conn %" PRIu64 ": request shorter than its header; "
                         "dropping the client",
                         c->serial);
                send_status(c, 0, 0, TB_ST_BAD_REQUEST,
                            "request shorter than its 7-byte header");
                c->closing = 1;
                return;
        }
        if ((err = tb_request_decode(p, len, &q)) != TB_OK) {
                log_debug("conn %" PRIu64 ": bad request: %s", c->serial,
                          tb_strerror(err));
                if (err == TB_E_VERSION) {
                        char msg[96];
                        snprintf(msg, sizeof(msg),
                                 "protocol version %u is not supported; this "
                                 "daemon speaks %u",
                                 version, TB_PROTO_VERSION);
                        send_status(c, type, id, TB_ST_UNSUPPORTED_VERSION,
                                    msg);
                        return;
                }
                send_status(c, type, id,
                            (uint16_t)tb_status_for_decode_error(err),
                            tb_strerror(err));
                return;
        }
        for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
                if (handlers[i].type == q.type) {
                        handlers[i].run(c, &q);
                        return;
                }
        send_status(c, type, id, TB_ST_UNKNOWN_TYPE, "unknown request type");
}

/* ---- connections ----------------------------------------------------------
 */

static void conn_kill(struct conn *c, const char *why)
{
        struct server *s = c->srv;

        if (c->dead)
                return;
        log_debug("conn %" PRIu64 ": closed (%s)", c->serial, why);
        c->dead = 1;
        bufferevent_free(c->bev);
        c->bev = NULL;
        s->nconns--;
        if (!s->stopping && s->nconns + 1 == s->cfg.max_connections)
                evconnlistener_enable(s->listener);
        conn_unref(c);
}

/* The one place that decides whether c reads. */
static void conn_update(struct conn *c)
{
        struct server *s = c->srv;
        size_t out;
        int rc;

        if (c->dead)
                return;
        out = evbuffer_get_length(bufferevent_get_output(c->bev));
        if (c->closing || c->eof || s->stopping) {
                rc = bufferevent_disable(c->bev, EV_READ);
                /* close once every pending answer went out */
                if ((c->closing || c->eof) && out == 0 && c->inflight == 0) {
                        conn_kill(c, c->closing ? "protocol error"
                                                : "client closed");
                        return;
                }
        } else if (c->inflight >= s->cfg.max_inflight || out > OUTPUT_HIGH) {
                rc = bufferevent_disable(c->bev, EV_READ);
        } else {
                rc = bufferevent_enable(c->bev, EV_READ);
        }
        if (rc != 0)
                log_err("conn %" PRIu64 ": cannot change its read state",
                        c->serial);
}

/* 1 if c may take another request now. */
static int conn_can_read(struct conn *c)
{
        return !c->dead && !c->closing && !c->srv->stopping &&
               c->inflight < c->srv->cfg.max_inflight &&
               evbuffer_get_length(bufferevent_get_output(c->bev)) <=
                   OUTPUT_HIGH;
}

/*
 * Decode and dispatch what is buffered, as long as c may take requests.
 * Also called when a paused connection may resume: libevent calls the read
 * callback only for new bytes, not for bytes already in the input buffer.
 */
static void conn_process(struct conn *c, int at_stop)
{
        c->refs++; /* a reply below may not free c under us */
        /* at stop, the requests already read are answered (writes with
         * UNAVAILABLE, by do_submit), whatever the limits */
        while (at_stop ? !c->dead && !c->closing : conn_can_read(c)) {
                struct evbuffer *in = bufferevent_get_input(c->bev);
                struct evbuffer_iovec v;
                const uint8_t *frame;
                size_t used, flen;
                enum tb_err err;

                if (evbuffer_get_length(in) == 0 ||
                    evbuffer_peek(in, -1, NULL, &v, 1) < 1)
                        break;
                err = tb_frame_decoder_feed(&c->dec, v.iov_base, v.iov_len,
                                            &used, &frame, &flen);
                if (evbuffer_drain(in, used) != 0)
                        break;
                if (err != TB_OK) {
                        log_info("conn %" PRIu64 ": %s; dropping the client",
                                 c->serial, tb_strerror(err));
                        send_status(c, 0, 0,
                                    err == TB_E_FRAME_OVERSIZE
                                        ? TB_ST_TOO_LARGE
                                        : TB_ST_BAD_REQUEST,
                                    tb_strerror(err));
                        c->closing = 1;
                        break;
                }
                if (frame != NULL)
                        handle_frame(c, frame, flen);
        }
        conn_update(c);
        conn_unref(c);
}

/* After an answer went out or a write finished: resume if paused. */
static void conn_resume(struct conn *c)
{
        c->refs++; /* conn_update may close c */
        conn_update(c);
        if (conn_can_read(c) &&
            evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
                conn_process(c, 0);
        conn_unref(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
        (void)bev;
        conn_process(arg, 0);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
        (void)bev;
        conn_resume(arg);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
        struct conn *c = arg;
        size_t out = evbuffer_get_length(bufferevent_get_output(bev));

        if (what & BEV_EVENT_TIMEOUT) {
                /* waiting for a commit is not being idle */
                if ((what & BEV_EVENT_READING) && c->inflight > 0) {
                        conn_update(c);
                        return;
                }
                conn_kill(c, (what & BEV_EVENT_WRITING)
                                 ? "the client stopped taking its answers"
                                 : "idle timeout");
                return;
        }
        if (tb_frame_decoder_finish(&c->dec) != TB_OK) {
                conn_kill(c, "client left in the middle of a frame");
                return;
        }
        if ((what & BEV_EVENT_EOF) && (c->inflight > 0 || out > 0)) {
                /* a half-close: the client still reads its answers */
                c->eof = 1;
                conn_update(c);
                return;
        }
        conn_kill(c, (what & BEV_EVENT_EOF) ? "client closed" : "socket error");
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
        struct server *s = arg;
        struct conn *c;
        struct ucred cred;
        socklen_t clen = sizeof(cred);
        struct timeval idle = {.tv_sec = s->cfg.idle_timeout};

        (void)lis;
        (void)sa;
        (void)salen;
        if ((c = calloc(1, sizeof(*c))) == NULL ||
            (c->frame = malloc(s->cfg.max_frame)) == NULL ||
            tb_frame_decoder_init(&c->dec, c->frame, s->cfg.max_frame) !=
                TB_OK) {
                log_err("out of memory accepting a connection");
                if (c != NULL)
                        free(c->frame);
                free(c);
                evutil_closesocket(fd);
                return;
        }
        c->srv = s;
        c->serial = ++s->serial;
        c->refs = 1;
        c->pid = c->uid = -1;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
                c->pid = (long)cred.pid;
                c->uid = (long)cred.uid;
        }
        c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (c->bev == NULL) {
                log_err("cannot set up a connection");
                evutil_closesocket(fd);
                free(c->frame);
                free(c);
                return;
        }
        bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
                          c);
        /* read: a silent client; write: one that stopped reading */
        if (bufferevent_set_timeouts(c->bev, &idle, &idle) != 0)
                log_warning("conn %" PRIu64 ": cannot set its timeouts",
                            c->serial);
        c->next = s->conns;
        if (s->conns != NULL)
                s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        log_debug("conn %" PRIu64 ": accepted (pid %ld, uid %ld)", c->serial,
                  c->pid, c->uid);
        if (s->nconns >= s->cfg.max_connections) {
                log_warning("%u connections: not accepting more until one "
                            "closes",
                            s->nconns);
                evconnlistener_disable(s->listener);
        }
        conn_update(c);
}

static void retry_accept_cb(evutil_socket_t fd, short what, void *arg)
{
        struct server *s = arg;

        (void)fd;
        (void)what;
        if (!s->stopping && s->nconns < s->cfg.max_connections)
                evconnlistener_enable(s->listener);
}

static void accept_error_cb(struct evconnlistener *lis, void *arg)
{
        struct server *s = arg;
        struct timeval one = {.tv_sec = 1};
        int e = EVUTIL_SOCKET_ERROR();

        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                log_warning("accept: %s; pausing accepts for a second",
                            strerror(e));
                evconnlistener_disable(lis);
                evtimer_add(s->retry_accept, &one);
                return;
        }
        log_warning("accept: %s", strerror(e));
}

/* ---- startup and shutdown -------------------------------------------------
 */

static int listen_path(const struct config *cfg, int *created)
{
        struct sockaddr_un sa;
        struct stat st;
        size_t n = strlen(cfg->socket);
        int fd;

        *created = 0;
        if (n == 0 || n >= sizeof(sa.sun_path)) {
                log_err("socket path '%s' is too long", cfg->socket);
                return -1;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, cfg->socket, n + 1);
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
                log_err("socket: %s", strerror(errno));
                return -1;
        }
        if (lstat(cfg->socket, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        log_err("%s exists and is not a socket: refusing to "
                                "replace it",
                                cfg->socket);
                        goto fail;
                }
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                        log_err("another daemon already answers on %s: "
                                "refusing to start",
                                cfg->socket);
                        goto fail;
                }
                log_notice("removing stale socket %s", cfg->socket);
                if (unlink(cfg->socket) != 0) {
                        log_err("cannot remove %s: %s", cfg->socket,
                                strerror(errno));
                        goto fail;
                }
                (void)close(fd);
                if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
                        log_err("socket: %s", strerror(errno));
                        return -1;
                }
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                log_err("cannot bind %s: %s", cfg->socket, strerror(errno));
                goto fail;
        }
        *created = 1;
        if (chmod(cfg->socket, cfg->socket_mode) != 0) {
                log_err("cannot chmod %s: %s", cfg->socket, strerror(errno));
                goto fail;
        }
        if (listen(fd, 128) != 0) {
                log_err("cannot listen on %s: %s", cfg->socket,
                        strerror(errno));
                goto fail;
        }
        return fd;
fail:
        (void)close(fd);
        if (*created)
                (void)unlink(cfg->socket);
        *created = 0;
        return -1;
}

static void flush_check_cb(evutil_socket_t fd, short what, void *arg)
{
        struct server *s = arg;
        struct timeval tick = {.tv_usec = 50000};
        size_t unsent = 0;

        (void)fd;
        (void)what;
        for (struct conn *c = s->conns; c != NULL; c = c->next)
                if (!c->dead)
                        unsent +=
                            evbuffer_get_length(bufferevent_get_output(c->bev));
        s->flush_ms += 50;
        if (unsent == 0 || s->flush_ms >= SHUTDOWN_FLUSH_MS) {
                if (unsent > 0)
                        log_warning("shutdown: %zu bytes of answers not taken "
                                    "by clients",
                                    unsent);
                event_base_loopexit(s->base, NULL);
                return;
        }
        evtimer_add(s->flush_timer, &tick);
}

static void pipeline_idle_cb(int failed, void *arg)
{
        struct server *s = arg;

        if (failed) {
                s->failed = 1;
                s->stopping = 1;
                evconnlistener_disable(s->listener);
        }
        /* every write is answered: flush what the clients have not taken */
        flush_check_cb(-1, 0, s);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
        struct server *s = arg;

        (void)what;
        if (s->stopping)
                return;
        log_notice("%s: finishing queued writes, then stopping",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
        if (systemd_notify("STOPPING=1") != 0)
                log_warning("cannot notify systemd: %s", strerror(errno));
        s->stopping = 1;
        evconnlistener_disable(s->listener);
        for (struct conn *c = s->conns, *next; c != NULL; c = next) {
                c->refs++;
                conn_update(c);
                if (!c->dead &&
                    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
                        conn_process(c, 1);
                next = c->next;
                conn_unref(c);
        }
        pipeline_drain(s->pipeline);
}

int server_init(const struct config *cfg, struct ledger *l, struct server **out)
{
        struct server *s;
        struct tb_status_info st;
        struct pipeline_options po;
        enum ledger_err lerr;
        int fd;

        *out = NULL;
        if ((s = calloc(1, sizeof(*s))) == NULL) {
                log_err("out of memory");
                return -1;
        }
        s->cfg = *cfg;
        s->ledger = l;
        if ((lerr = ledger_status(l, &st)) != LEDGER_OK) {
                log_err("cannot read the ledger's status: %s",
                        ledger_strerror(lerr));
                goto fail;
        }
        memcpy(s->origin, st.origin, sizeof(s->origin));
        if (evthread_use_pthreads() != 0 ||
            (s->base = event_base_new()) == NULL) {
                log_err("cannot set up the event loop");
                goto fail;
        }
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
                log_err("cannot ignore SIGPIPE");
                goto fail;
        }
        fd = systemd_listen_fd();
        if (fd == -2) {
                log_err("systemd passed more than one socket; timebankd "
                        "serves exactly one");
                goto fail;
        }
        if (fd >= 0)
                log_info("using the socket passed by systemd");
        else if ((fd = listen_path(cfg, &s->created_socket)) < 0)
                goto fail;
        if (evutil_make_socket_nonblocking(fd) != 0) {
                log_err("cannot make the socket non-blocking");
                (void)close(fd);
                goto fail;
        }
        s->listener = evconnlistener_new(
            s->base, accept_cb, s,
            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
        if (s->listener == NULL) {
                log_err("cannot listen");
                (void)close(fd);
                goto fail;
        }
        evconnlistener_set_error_cb(s->listener, accept_error_cb);
        s->sigterm = evsignal_new(s->base, SIGTERM, signal_cb, s);
        s->sigint = evsignal_new(s->base, SIGINT, signal_cb, s);
        s->retry_accept = evtimer_new(s->base, retry_accept_cb, s);
        s->flush_timer = evtimer_new(s->base, flush_check_cb, s);
        if (s->sigterm == NULL || s->sigint == NULL ||
            s->retry_accept == NULL || s->flush_timer == NULL ||
            evsignal_add(s->sigterm, NULL) != 0 ||
            evsignal_add(s->sigint, NULL) != 0) {
                log_err("cannot set up signal handling");
                goto fail;
        }
        po.workers = cfg->worker_threads;
        po.batch_max = cfg->batch_max;
        po.max_queue = cfg->max_queue;
        if (pipeline_start(s->base, l, s->origin, &po, write_done_cb,
                           pipeline_idle_cb, s, &s->pipeline) != 0) {
                log_err("cannot start the commit pipeline: %s",
                        strerror(errno));
                goto fail;
        }
        *out = s;
        return 0;
fail:
        server_free(s);
        return -1;
}

int server_run(struct server *s)
{
        log_notice("serving ledger %s on %s", s->origin,
                   s->created_socket ? s->cfg.socket : "the systemd socket");
        if (systemd_notify("READY=1") != 0)
                log_warning("cannot notify systemd: %s", strerror(errno));
        if (event_base_dispatch(s->base) < 0) {
                log_err("the event loop failed");
                return 1;
        }
        log_notice("stopped%s", s->failed ? " after a storage failure" : "");
        return s->failed ? 1 : 0;
}

void server_free(struct server *s)
{
        if (s == NULL)
                return;
        /* the threads go first: nothing may call back into the loop */
        pipeline_free(s->pipeline);
        while (s->conns != NULL) {
                struct conn *c = s->conns;
                if (!c->dead) {
                        bufferevent_free(c->bev);
                        c->dead = 1;
                }
                s->conns = c->next;
                free(c->frame);
                free(c);
        }
        if (s->listener != NULL)
                evconnlistener_free(s->listener);
        if (s->sigterm != NULL)
                event_free(s->sigterm);
        if (s->sigint != NULL)
                event_free(s->sigint);
        if (s->retry_accept != NULL)
                event_free(s->retry_accept);
        if (s->flush_timer != NULL)
                event_free(s->flush_timer);
        if (s->base != NULL)
                event_base_free(s->base);
        if (s->created_socket && unlink(s->cfg.socket) != 0)
                log_warning("cannot remove %s: %s", s->cfg.socket,
                            strerror(errno));
        free(s);
}
