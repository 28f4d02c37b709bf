/*
 * client/client.c - libtimebank's connection: blocking I/O with poll()
 * timeouts, one frame decoder per connection, MSG_NOSIGNAL so a daemon that
 * goes away is an error, never a SIGPIPE.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "timebank.h"

struct tb_client {
        int fd;
        int timeout_ms;   /* -1: wait forever */
        int64_t deadline; /* CLOCK_MONOTONIC ms of the current call */
        uint32_t next_id;
        struct tb_frame_decoder dec;
        uint8_t rbuf[4096];
        size_t rlen;
        size_t roff;
        uint8_t frame[TB_FRAME_MAX];
        uint8_t wbuf[TB_FRAME_HEADER + TB_FRAME_MAX];
        char origin[TB_NAME_MAX + 1];
        int pinned;      /* origin and pin come from tb_client_pin */
        int pin_checked; /* the daemon's STATUS matched the pin */
        struct tb_vkey pin;
};

static int64_t now_ms(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
                return 0;
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start the clock of one public call: every wait inside shares it. */
static void arm(struct tb_client *c)
{
        c->deadline = c->timeout_ms < 0 ? -1 : now_ms() + c->timeout_ms;
}

/* Milliseconds left for poll(): -1 forever, 0 when the time is up. */
static int remaining(const struct tb_client *c)
{
        int64_t left;

        if (c->deadline < 0)
                return -1;
        left = c->deadline - now_ms();
        return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static enum tb_err wait_fd(struct tb_client *c, short events)
{
        struct pollfd p = {.fd = c->fd, .events = events};
        int n;

        do {
                if (c->deadline >= 0 && remaining(c) == 0)
                        return TB_E_TIMEOUT;
                n = poll(&p, 1, remaining(c));
        } while (n < 0 && errno == EINTR);
        if (n < 0)
                return TB_E_IO;
        if (n == 0)
                return TB_E_TIMEOUT;
        return TB_OK;
}

/*
 * A Unix socket's connect() fails with EAGAIN while the daemon's listen
 * queue is full (it is not accepting: at its connection limit, or busy):
 * retry until the deadline rather than block forever.
 */
static int connect_deadline(struct tb_client *c, const struct sockaddr_un *sa)
{
        for (;;) {
                struct timespec pause = {.tv_nsec = 20 * 1000000};

                if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) ==
                    0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno == EINPROGRESS) {
                        int soerr = 0;
                        socklen_t len = sizeof(soerr);
                        if (wait_fd(c, POLLOUT) != TB_OK)
                                errno = ETIMEDOUT;
                        else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr,
                                            &len) == 0 &&
                                 soerr == 0)
                                return 0;
                        else if (soerr != 0)
                                errno = soerr;
                        return -1;
                }
                if (errno != EAGAIN)
                        return -1;
                if (c->deadline >= 0 && remaining(c) == 0) {
                        errno = ETIMEDOUT;
                        return -1;
                }
                (void)nanosleep(&pause, NULL);
        }
}

enum tb_err tb_client_connect(const char *path, int timeout_ms,
                              struct tb_client **out)
{
        struct sockaddr_un sa;
        struct tb_client *c;
        size_t n = strlen(path);
        int saved;

        *out = NULL;
        if (n == 0 || n >= sizeof(sa.sun_path))
                return TB_E_INVALID_ARG;
        if ((c = calloc(1, sizeof(*c))) == NULL)
                return TB_E_NOMEM;
        c->timeout_ms = timeout_ms > 0 ? timeout_ms : -1;
        c->next_id = 1;
        if (tb_frame_decoder_init(&c->dec, c->frame, sizeof(c->frame)) !=
            TB_OK) {
                free(c);
                return TB_E_INVALID_ARG;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, path, n + 1);
        arm(c);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd >= 0 && connect_deadline(c, &sa) == 0) {
                *out = c;
                return TB_OK;
        }
        saved = errno;
        if (c->fd >= 0)
                (void)close(c->fd);
        free(c);
        errno = saved;
        return saved == ETIMEDOUT ? TB_E_TIMEOUT : TB_E_CONNECT;
}

void tb_client_close(struct tb_client *c)
{
        if (c == NULL)
                return;
        if (c->fd >= 0)
                (void)close(c->fd);
        free(c);
}

uint32_t tb_client_next_id(struct tb_client *c)
{
        uint32_t id = c->next_id++;

        if (c->next_id == 0)
                c->next_id = 1;
        return id;
}

static enum tb_err write_all(struct tb_client *c, const uint8_t *p, size_t n)
{
        enum tb_err err;

        while (n > 0) {
                ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                if ((err = wait_fd(c, POLLOUT)) != TB_OK)
                                        return err;
                                continue;
                        }
                        return errno == EPIPE || errno == ECONNRESET
                                   ? TB_E_CLOSED
                                   : TB_E_IO;
                }
                p += k;
                n -= (size_t)k;
        }
        return TB_OK;
}

static enum tb_err send_request(struct tb_client *c, const struct tb_request *q)
{
        size_t len;
        enum tb_err err;

        err =
            tb_request_encode(q, c->wbuf + TB_FRAME_HEADER, TB_FRAME_MAX, &len);
        if (err != TB_OK)
                return err;
        if ((err = tb_frame_header(len, c->wbuf)) != TB_OK)
                return err;
        return write_all(c, c->wbuf, TB_FRAME_HEADER + len);
}

static enum tb_err recv_response(struct tb_client *c, struct tb_response *r)
{
        const uint8_t *frame;
        size_t used, flen;
        enum tb_err err;

        for (;;) {
                if (c->roff < c->rlen) {
                        err = tb_frame_decoder_feed(&c->dec, c->rbuf + c->roff,
                                                    c->rlen - c->roff, &used,
                                                    &frame, &flen);
                        if (err != TB_OK)
                                return err;
                        c->roff += used;
                        if (frame != NULL)
                                return tb_response_decode(frame, flen, r);
                        continue;
                }
                ssize_t k = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                if ((err = wait_fd(c, POLLIN)) != TB_OK)
                                        return err;
                                continue;
                        }
                        return errno == ECONNRESET ? TB_E_CLOSED : TB_E_IO;
                }
                if (k == 0)
                        return TB_E_CLOSED;
                c->rlen = (size_t)k;
                c->roff = 0;
        }
}

enum tb_err tb_client_send(struct tb_client *c, const struct tb_request *q)
{
        arm(c);
        return send_request(c, q);
}

enum tb_err tb_client_recv(struct tb_client *c, struct tb_response *r)
{
        arm(c);
        return recv_response(c, r);
}

enum tb_err tb_client_call(struct tb_client *c, struct tb_request *q,
                           struct tb_response *r)
{
        enum tb_err err;

        arm(c); /* one deadline for the whole exchange */
        q->id = tb_client_next_id(c);
        if ((err = send_request(c, q)) != TB_OK)
                return err;
        if ((err = recv_response(c, r)) != TB_OK)
                return err;
        /* type 0, id 0: the daemon could not read our request at all (a
         * bad frame); its status says why, and the connection is closing */
        if (r->type == 0 && r->id == 0 && r->status != TB_ST_OK)
                return TB_OK;
        if (r->id != q->id || r->type != q->type)
                return TB_E_MSG_FIELD;
        return TB_OK;
}

void tb_client_pin(struct tb_client *c, const struct tb_vkey *log_key)
{
        c->pinned = 1;
        c->pin_checked = 0;
        c->pin = *log_key;
        memcpy(c->origin, log_key->name, log_key->name_len + 1);
}

/* 1 if the daemon's STATUS names the pinned origin and log key. */
static int client_pin_matches(const struct tb_client *c,
                              const struct tb_status_info *s)
{
        struct tb_vkey v;

        return strcmp(s->origin, c->pin.name) == 0 &&
               tb_vkey_parse(s->log_key, strlen(s->log_key), &v) == TB_OK &&
               strcmp(v.name, c->pin.name) == 0 && v.id == c->pin.id &&
               memcmp(v.pk, c->pin.pk, TB_PUBKEY_SIZE) == 0;
}

enum tb_err tb_client_origin(struct tb_client *c, const char **origin)
{
        struct tb_request q;
        struct tb_response *r;
        enum tb_err err;

        *origin = NULL;
        if (c->origin[0] != 0 && (!c->pinned || c->pin_checked)) {
                *origin = c->origin;
                return TB_OK;
        }
        /* struct tb_response is large (history, proofs): keep it off the
         * stack of callers that may run on small thread stacks. */
        if ((r = malloc(sizeof(*r))) == NULL)
                return TB_E_NOMEM;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_STATUS;
        err = tb_client_call(c, &q, r);
        if (err == TB_OK && r->status != TB_ST_OK)
                err = TB_E_MSG_FIELD;
        if (err == TB_OK && c->pinned && !client_pin_matches(c, &r->u.status))
                err = TB_E_UNTRUSTED;
        if (err == TB_OK && c->pinned)
                c->pin_checked = 1;
        else if (err == TB_OK)
                memcpy(c->origin, r->u.status.origin, sizeof(c->origin));
        if (err == TB_OK)
                *origin = c->origin;
        free(r);
        return err;
}

void tb_client_entry_init(struct tb_entry *e, unsigned kind,
                          const uint8_t pk[TB_PUBKEY_SIZE],
                          const uint8_t request_id[TB_REQUEST_ID_SIZE])
{
        time_t now = time(NULL);

        e->version = TB_ENTRY_VERSION;
        e->kind = (uint8_t)kind;
        memcpy(e->signer, pk, TB_PUBKEY_SIZE);
        if (request_id != NULL)
                memcpy(e->request_id, request_id, TB_REQUEST_ID_SIZE);
        else
                tb_client_request_id(e->request_id);
        e->clock = now < 0 ? 0 : (int64_t)now;
}

void tb_client_request_id(uint8_t out[TB_REQUEST_ID_SIZE])
{
        struct timespec ts;
        uint8_t rnd[10];
        int64_t ms = 0;

        randombytes_buf(rnd, sizeof(rnd));
        if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec >= 0)
                ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        /* a clock before 1970 or after 10889 gets time 0: still unique */
        if (tb_request_id_make(ms, rnd, out) != TB_OK &&
            tb_request_id_make(0, rnd, out) != TB_OK)
                randombytes_buf(out, TB_REQUEST_ID_SIZE);
}

enum tb_err tb_client_submit(struct tb_client *c, const struct tb_entry *e,
                             const struct tb_skey *k, struct tb_response *r)
{
        uint8_t buf[TB_SIGNED_MAX];
        struct tb_request q;
        const char *origin;
        size_t len;
        enum tb_err err;

        if ((err = tb_entry_encode(e, buf, TB_BODY_MAX, &len)) != TB_OK)
                return err;
        if ((err = tb_client_origin(c, &origin)) != TB_OK)
                return err;
        if ((err = tb_entry_sign_key(origin, buf, len, k, buf + len)) != TB_OK)
                return err;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_SUBMIT;
        q.u.submit.signed_entry = buf;
        q.u.submit.len = len + TB_SIG_SIZE;
        return tb_client_call(c, &q, r);
}
