/*
 * daemon/conn.c - the connection state machine (conn.h).
 *
 * Bytes arrive through libevent's read callback; conn_process() cuts them
 * into frames and hands each to request.c, which answers through
 * conn_send().  Every event that may change what a connection owes (a
 * frame, an answer written out, a write's result, the end of input, the
 * shutdown) ends in conn_update().
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "stats.h"
#include "log.h"
#include "request.h"

struct conn {
        struct conn_set *set;
        struct bufferevent *bev;   /* NULL once DEAD */
        struct event *frame_timer; /* the deadline of a frame begun */
        struct tb_frame_decoder dec;
        uint8_t *frame;
        uint64_t serial;
        long pid;
        long uid;
        enum conn_state state;
        unsigned inflight; /* writes in the pipeline */
        int refs;
        struct conn *prev, *next;
};

/* How many open connections one peer uid has (conn_set.uids). */
struct conn_uid {
        long uid;
        unsigned count;
        struct conn_uid *next;
};

static void conn_update(struct conn *c);
static size_t conn_encode(struct conn *c, struct tb_response *r);

static struct conn_uid **conn_uid_slot(struct conn_set *set, long uid)
{
        struct conn_uid **u = &set->uids[(unsigned long)uid % CONN_UID_BUCKETS];

        while (*u != NULL && (*u)->uid != uid)
                u = &(*u)->next;
        return u;
}

unsigned conn_uid_count(const struct conn_set *set, long uid)
{
        const struct conn_uid *u =
            set->uids[(unsigned long)uid % CONN_UID_BUCKETS];

        while (u != NULL && u->uid != uid)
                u = u->next;
        return u != NULL ? u->count : 0;
}

unsigned conn_uid_max(const struct conn_set *set)
{
        unsigned max = 0;

        for (size_t i = 0; i < CONN_UID_BUCKETS; i++)
                for (const struct conn_uid *u = set->uids[i]; u != NULL;
                     u = u->next)
                        if (u->count > max)
                                max = u->count;
        return max;
}

/* One more connection of uid; -1 if out of memory. */
static int conn_uid_add(struct conn_set *set, long uid)
{
        struct conn_uid **u = conn_uid_slot(set, uid);

        if (*u == NULL) {
                if ((*u = calloc(1, sizeof(**u))) == NULL)
                        return -1;
                (*u)->uid = uid;
        }
        (*u)->count++;
        return 0;
}

static void conn_uid_remove(struct conn_set *set, long uid)
{
        struct conn_uid **u = conn_uid_slot(set, uid), *gone;

        if (*u == NULL)
                return;
        if (--(*u)->count > 0)
                return;
        gone = *u;
        *u = gone->next;
        free(gone);
}

void conn_log(const struct conn *c, int prio, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        if (!log_enabled(prio))
                return;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_msg(prio, "conn %" PRIu64 ": %s", c->serial, msg);
}

void conn_log_limited(const struct conn *c, enum conn_log_class cls, int prio,
                      const char *fmt, ...)
{
        char msg[1024];
        unsigned long long held = 0;
        va_list ap;

        if (!log_limit_pass(&c->set->limits[cls], &held))
                prio = LOG_DEBUG;
        if (!log_enabled(prio))
                return;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (held != 0)
                log_msg(prio,
                        "conn %" PRIu64 ": %s (%llu more such lines held back "
                        "in the last %d s)",
                        c->serial, msg, held, LOG_LIMIT_S);
        else
                log_msg(prio, "conn %" PRIu64 ": %s", c->serial, msg);
}

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
                c->set->head = c->next;
        if (c->next != NULL)
                c->next->prev = c->prev;
        if (c->frame_timer != NULL)
                event_free(c->frame_timer);
        free(c->frame);
        free(c);
}

static size_t conn_unsent(const struct conn *c)
{
        return c->state == CONN_DEAD
                   ? 0
                   : evbuffer_get_length(bufferevent_get_output(c->bev));
}

static size_t conn_buffered(const struct conn *c)
{
        return c->state == CONN_DEAD
                   ? 0
                   : evbuffer_get_length(bufferevent_get_input(c->bev));
}

static int conn_over_limits(const struct conn *c)
{
        return c->inflight >= c->set->cfg->max_inflight ||
               conn_unsent(c) > CONN_OUTPUT_HIGH;
}

/* 1 if c may dispatch another buffered request now. */
static int conn_can_dispatch(const struct conn *c)
{
        switch (c->state) {
        case CONN_READING:
        case CONN_PAUSED:
        case CONN_HALF_CLOSED:
                return !c->set->stopping && !conn_over_limits(c);
        default:
                return 0;
        }
}

static void conn_close(struct conn *c, const char *why)
{
        struct conn_set *set = c->set;

        if (c->state == CONN_DEAD)
                return;
        conn_log(c, LOG_DEBUG, "closed (%s)", why);
        c->state = CONN_DEAD;
        bufferevent_free(c->bev);
        c->bev = NULL;
        if (evtimer_del(c->frame_timer) != 0)
                conn_log(c, LOG_ERR, "cannot stop its frame deadline");
        set->count--;
        conn_uid_remove(set, c->uid);
        set->closed_cb(set->arg);
        conn_unref(c);
}

/*
 * Arm the frame deadline when a frame has begun and c is READING (the clock
 * runs from the first byte, not from the last), disarm it otherwise: a
 * paused connection is not read, which is no fault of its peer.
 */
static void conn_frame_deadline(struct conn *c)
{
        struct timeval t = {.tv_sec = c->set->cfg->frame_timeout};
        int begun = tb_frame_decoder_finish(&c->dec) == TB_E_FRAME_TRUNCATED;
        int rc = 0;

        if (begun && c->state == CONN_READING) {
                if (!evtimer_pending(c->frame_timer, NULL))
                        rc = evtimer_add(c->frame_timer, &t);
        } else {
                rc = evtimer_del(c->frame_timer);
        }
        if (rc != 0)
                conn_log(c, LOG_ERR, "cannot change its frame deadline");
}

/*
 * The frame deadline passed: the peer trickles or stalled mid-frame.  Drop
 * it now (not after its answers, which it may never take), telling it why
 * if its socket takes the answer at once.
 */
static void conn_frame_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
        struct conn *c = arg;
        struct tb_response r;
        char msg[96];
        size_t len;

        (void)fd;
        (void)what;
        if (c->state == CONN_DEAD)
                return;
        conn_log_limited(
            c, CONN_LOG_PROTOCOL, LOG_INFO,
            "frame not complete %u s after its first byte; dropping the "
            "client",
            c->set->cfg->frame_timeout);
        /* nothing queued before it: the answer may go out now, not in the
         * bufferevent's turn (it is closed below) */
        if (conn_unsent(c) == 0) {
                snprintf(msg, sizeof(msg),
                         "frame not complete within frame_timeout (%u s)",
                         c->set->cfg->frame_timeout);
                memset(&r, 0, sizeof(r));
                r.status = TB_ST_BAD_REQUEST;
                r.message = msg;
                r.message_len = strlen(msg);
                if ((len = conn_encode(c, &r)) == 0 ||
                    send(bufferevent_getfd(c->bev), c->set->out, len,
                         MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
                        conn_log(c, LOG_DEBUG, "the answer did not go out");
        }
        conn_close(c, "frame timeout");
}

/* The one place that moves c between states and re-arms its events. */
static void conn_update(struct conn *c)
{
        int rc;

        switch (c->state) {
        case CONN_DEAD:
                return;
        case CONN_READING:
        case CONN_PAUSED:
                if (c->set->stopping)
                        c->state = CONN_STOPPING;
                else
                        c->state =
                            conn_over_limits(c) ? CONN_PAUSED : CONN_READING;
                break;
        case CONN_HALF_CLOSED:
        case CONN_CLOSING:
                /* close once every pending answer went out */
                if (conn_unsent(c) == 0 && c->inflight == 0) {
                        conn_close(c, c->state == CONN_CLOSING
                                          ? "protocol error"
                                          : "client closed");
                        return;
                }
                break;
        case CONN_STOPPING:
                break;
        }
        rc = c->state == CONN_READING ? bufferevent_enable(c->bev, EV_READ)
                                      : bufferevent_disable(c->bev, EV_READ);
        if (rc != 0)
                conn_log(c, LOG_ERR, "cannot change its read state");
        conn_frame_deadline(c);
}

/*
 * Decode and dispatch what is buffered, as long as c may take requests (at
 * stop: as long as c is not closing, whatever the limits).  Also called
 * when a paused connection may resume: libevent calls the read callback
 * only for new bytes, not for bytes already in the input buffer.
 */
static void conn_process(struct conn *c, int at_stop)
{
        c->refs++; /* an answer below may not free c under us */
        while (at_stop ? c->state != CONN_DEAD && c->state != CONN_CLOSING
                       : conn_can_dispatch(c)) {
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
                        conn_log_limited(c, CONN_LOG_PROTOCOL, LOG_INFO,
                                         "%s; dropping the client",
                                         tb_strerror(err));
                        conn_send_fatal(c,
                                        err == TB_E_FRAME_OVERSIZE
                                            ? TB_ST_TOO_LARGE
                                            : TB_ST_BAD_REQUEST,
                                        tb_strerror(err));
                        break;
                }
                if (frame != NULL)
                        request_handle(c->set->rq, c, frame, flen);
        }
        conn_update(c);
        conn_unref(c);
}

/* After an answer went out or a write finished: resume if paused. */
static void conn_resume(struct conn *c)
{
        c->refs++; /* conn_update may close c */
        conn_update(c);
        if (conn_can_dispatch(c) && conn_buffered(c) > 0)
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
                conn_close(c, (what & BEV_EVENT_WRITING)
                                  ? "the client stopped taking its answers"
                                  : "idle timeout");
                return;
        }
        if (tb_frame_decoder_finish(&c->dec) != TB_OK) {
                /* the unfinished frame gets no answer, but the answers
                 * already due go out whole: freeing the bufferevent now
                 * would cut the one the socket took only part of */
                if ((what & BEV_EVENT_EOF) && (c->inflight > 0 || out > 0) &&
                    c->state != CONN_DEAD) {
                        conn_log(c, LOG_DEBUG,
                                 "client left in the middle of a frame; "
                                 "sending the answers due, then closing");
                        c->state = CONN_CLOSING;
                        conn_update(c);
                        return;
                }
                conn_close(c, "client left in the middle of a frame");
                return;
        }
        if ((what & BEV_EVENT_EOF) && (c->inflight > 0 || out > 0)) {
                /* a half-close: the client still reads its answers */
                if (c->state != CONN_CLOSING)
                        c->state = CONN_HALF_CLOSED;
                conn_update(c);
                return;
        }
        conn_close(c,
                   (what & BEV_EVENT_EOF) ? "client closed" : "socket error");
}

int conn_new(struct conn_set *set, struct event_base *base, evutil_socket_t fd,
             long pid, long uid)
{
        const struct config *cfg = set->cfg;
        struct conn *c;
        struct timeval idle = {.tv_sec = cfg->idle_timeout};

        if ((c = calloc(1, sizeof(*c))) == NULL ||
            (c->frame = malloc(cfg->max_frame)) == NULL ||
            tb_frame_decoder_init(&c->dec, c->frame, cfg->max_frame) != TB_OK) {
                log_err("out of memory accepting a connection");
                goto fail;
        }
        c->frame_timer = evtimer_new(base, conn_frame_timeout_cb, c);
        if (c->frame_timer == NULL || conn_uid_add(set, uid) != 0) {
                log_err("out of memory accepting a connection");
                goto fail;
        }
        c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (c->bev == NULL) {
                log_err("cannot set up a connection");
                conn_uid_remove(set, uid);
                goto fail;
        }
        c->set = set;
        c->serial = ++set->serial;
        c->refs = 1;
        c->state = CONN_READING;
        c->pid = pid;
        c->uid = uid;
        bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
                          c);
        /* read: a silent client; write: one that stopped reading */
        if (bufferevent_set_timeouts(c->bev, &idle, &idle) != 0)
                conn_log(c, LOG_WARNING, "cannot set its timeouts");
        c->next = set->head;
        if (set->head != NULL)
                set->head->prev = c;
        set->head = c;
        set->count++;
        conn_log(c, LOG_DEBUG, "accepted (pid %ld, uid %ld)", c->pid, c->uid);
        conn_update(c);
        return 0;
fail:
        evutil_closesocket(fd);
        if (c != NULL) {
                if (c->frame_timer != NULL)
                        event_free(c->frame_timer);
                free(c->frame);
        }
        free(c);
        return -1;
}

void conn_stop_all(struct conn_set *set)
{
        set->stopping = 1;
        for (struct conn *c = set->head, *next; c != NULL; c = next) {
                c->refs++;
                conn_update(c);
                if (conn_buffered(c) > 0)
                        conn_process(c, 1);
                next = c->next;
                conn_unref(c);
        }
}

size_t conn_unsent_all(const struct conn_set *set)
{
        size_t unsent = 0;

        for (const struct conn *c = set->head; c != NULL; c = c->next)
                unsent += conn_unsent(c);
        return unsent;
}

void conn_free_all(struct conn_set *set)
{
        while (set->head != NULL) {
                struct conn *c = set->head;

                if (c->state != CONN_DEAD)
                        bufferevent_free(c->bev);
                set->head = c->next;
                event_free(c->frame_timer);
                free(c->frame);
                free(c);
        }
        set->count = 0;
        for (size_t i = 0; i < CONN_UID_BUCKETS; i++)
                while (set->uids[i] != NULL) {
                        struct conn_uid *u = set->uids[i];

                        set->uids[i] = u->next;
                        free(u);
                }
}

/*
 * Encode r as a frame into c->set->out; its length, or 0 if even the
 * INTERNAL replacement does not encode.
 */
static size_t conn_encode(struct conn *c, struct tb_response *r)
{
        uint8_t *out = c->set->out;
        size_t len;
        enum tb_err err;

        err = tb_response_encode(r, out + TB_FRAME_HEADER, TB_FRAME_MAX, &len);
        if (err != TB_OK) {
                conn_log(c, LOG_ERR, "cannot encode a %s response: %s",
                         tb_msg_type_name(r->type), tb_strerror(err));
                memset(&r->u, 0, sizeof(r->u));
                r->status = TB_ST_INTERNAL;
                r->message = "the daemon could not encode its answer";
                r->message_len = strlen(r->message);
                if (tb_response_encode(r, out + TB_FRAME_HEADER, TB_FRAME_MAX,
                                       &len) != TB_OK)
                        return 0;
        }
        if (tb_frame_header(len, out) != TB_OK)
                return 0;
        stats_response(c->set->stats, r->status);
        return TB_FRAME_HEADER + len;
}

void conn_send(struct conn *c, struct tb_response *r)
{
        size_t len;

        if (c->state == CONN_DEAD)
                return;
        if ((len = conn_encode(c, r)) == 0 ||
            bufferevent_write(c->bev, c->set->out, len) != 0)
                conn_log(c, LOG_ERR, "cannot queue a response");
}

void conn_send_status(struct conn *c, uint16_t type, uint32_t id,
                      uint16_t status, const char *message)
{
        struct tb_response r;

        memset(&r, 0, sizeof(r));
        r.type = type; /* echoed, even unknown: the client matches it */
        r.id = id;
        r.status = status;
        r.message = message;
        r.message_len = message != NULL ? strlen(message) : 0;
        conn_send(c, &r);
}

void conn_send_fatal(struct conn *c, uint16_t status, const char *message)
{
        conn_send_status(c, 0, 0, status, message);
        if (c->state != CONN_DEAD)
                c->state = CONN_CLOSING;
}

int conn_stopping(const struct conn *c)
{
        return c->set->stopping;
}

void conn_write_begin(struct conn *c)
{
        c->inflight++;
        c->refs++;
}

void conn_write_end(struct conn *c)
{
        c->inflight--;
        conn_resume(c);
        conn_unref(c);
}
