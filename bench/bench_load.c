/*
 * bench/bench_load.c - the load: C connections driven from one thread
 * with epoll, so that the client takes as little of the machine's CPU as
 * it can (the daemon under test shares it).  The requests are already
 * framed and signed (bench_script.c): sending one is a write().
 *
 * Closed loop: each connection keeps depth requests unanswered; an answer
 * sends the next.  Open loop: request g is due at g / rate seconds after
 * the start; due requests go out on each tick of at most 1 ms, and a
 * request's latency counts from when it was due, not from when it could be
 * sent, so a daemon that falls behind is not excused by the client waiting
 * for it (coordinated omission).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "frame.h"
#include "msg.h"
#include "status.h"

#define BENCH_STALL_NS (60ull * 1000000000ull) /* no answer for this long */

struct bench_conn {
        int fd;
        unsigned index;
        struct bench_script *s;
        size_t next;  /* the next request to send */
        size_t wpos;  /* bytes of it already written */
        size_t done;  /* requests answered */
        uint64_t *t0; /* per request: when it was sent, or due; 0 = answered */
        int want_out;
        struct tb_frame_decoder dec;
        uint8_t *payload;
};

struct bench_loop {
        int ep;
        struct bench_conn *conns;
        unsigned nconns;
        unsigned depth;
        double rate;
        uint64_t start;
        uint64_t answered, total;
        struct bench_run *run;
        struct tb_response *r;
};

static int bench_connect(const char *path)
{
        struct sockaddr_un sa;
        int fd;

        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sa.sun_path))
                return bench_fail("socket path too long: %s", path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
                return bench_fail("socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
                bench_fail("connect %s: %s", path, strerror(errno));
                (void)close(fd);
                return -1;
        }
        return fd;
}

/* The time request i of connection k is due (open loop). */
static uint64_t bench_due(const struct bench_loop *lp,
                          const struct bench_conn *k, size_t i)
{
        double g = (double)i * lp->nconns + k->index;

        return lp->start + (uint64_t)(g / lp->rate * 1e9);
}

static int bench_arm(struct bench_loop *lp, struct bench_conn *k, int out)
{
        struct epoll_event ev;

        if (k->want_out == out)
                return 0;
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
        ev.data.ptr = k;
        if (epoll_ctl(lp->ep, EPOLL_CTL_MOD, k->fd, &ev) != 0)
                return bench_fail("epoll_ctl: %s", strerror(errno));
        k->want_out = out;
        return 0;
}

/* Send what may be sent now on k. */
static int bench_send(struct bench_loop *lp, struct bench_conn *k)
{
        struct bench_script *s = k->s;

        while (k->next < s->n) {
                const uint8_t *f = s->frames + s->off[k->next];
                size_t len = s->off[k->next + 1] - s->off[k->next];
                uint64_t now = bench_now_ns();
                ssize_t w;

                if (lp->rate > 0) {
                        if (bench_due(lp, k, k->next) > now)
                                break;
                } else if (k->next - k->done >= lp->depth) {
                        break;
                }
                if (k->wpos == 0)
                        k->t0[k->next] =
                            lp->rate > 0 ? bench_due(lp, k, k->next) : now;
                w = write(k->fd, f + k->wpos, len - k->wpos);
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return bench_arm(lp, k, 1);
                if (w < 0)
                        return bench_fail("write: %s", strerror(errno));
                k->wpos += (size_t)w;
                if (k->wpos < len)
                        return bench_arm(lp, k, 1);
                k->wpos = 0;
                k->next++;
        }
        return bench_arm(lp, k, 0);
}

static int bench_series_add(struct bench_series *x, uint64_t ns)
{
        if (x->n == x->cap) {
                size_t cap = x->cap ? x->cap * 2 : 4096;
                uint64_t *p = realloc(x->ns, cap * sizeof(*p));
                if (p == NULL)
                        return bench_fail("out of memory");
                x->ns = p;
                x->cap = cap;
        }
        x->ns[x->n++] = ns;
        return 0;
}

static int bench_answer(struct bench_loop *lp, struct bench_conn *k,
                        const uint8_t *p, size_t len, uint64_t now)
{
        struct tb_response *r = lp->r;
        struct bench_series *x;
        size_t i;

        if (tb_response_decode(p, len, r) != TB_OK)
                return bench_fail("connection %u: an answer does not decode",
                                  k->index);
        i = (size_t)r->id - 1;
        if (r->id == 0 || i >= k->next || k->t0[i] == 0)
                return bench_fail("connection %u: an answer to id %u, which "
                                  "is not waiting (status %u, '%.*s')",
                                  k->index, (unsigned)r->id,
                                  (unsigned)r->status, (int)r->message_len,
                                  r->message);
        x = &lp->run->kind[k->s->kind[i]];
        if (r->status != TB_ST_OK && x->failed++ == 0) {
                x->first_status = r->status;
                snprintf(x->first_msg, sizeof(x->first_msg), "%.*s",
                         (int)r->message_len, r->message);
        }
        if (bench_series_add(x, now - k->t0[i]) != 0)
                return -1;
        k->t0[i] = 0;
        k->done++;
        lp->answered++;
        return 0;
}

static int bench_recv(struct bench_loop *lp, struct bench_conn *k)
{
        uint8_t buf[65536];
        ssize_t n;

        while ((n = read(k->fd, buf, sizeof(buf))) > 0) {
                uint64_t now = bench_now_ns();
                size_t at = 0;

                lp->run->received += (uint64_t)n;

                while (at < (size_t)n) {
                        const uint8_t *frame;
                        size_t used, flen;

                        if (tb_frame_decoder_feed(&k->dec, buf + at,
                                                  (size_t)n - at, &used, &frame,
                                                  &flen) != TB_OK)
                                return bench_fail("connection %u: bad frame",
                                                  k->index);
                        at += used;
                        if (frame != NULL &&
                            bench_answer(lp, k, frame, flen, now) != 0)
                                return -1;
                }
        }
        if (n == 0)
                return bench_fail("connection %u: the daemon closed it after "
                                  "%zu answers",
                                  k->index, k->done);
        if (errno != EAGAIN && errno != EWOULDBLOCK)
                return bench_fail("read: %s", strerror(errno));
        return 0;
}

static int bench_conns_open(struct bench_loop *lp, const char *sock,
                            struct bench_script *scripts)
{
        for (unsigned c = 0; c < lp->nconns; c++) {
                struct bench_conn *k = &lp->conns[c];
                struct epoll_event ev;

                k->index = c;
                k->s = &scripts[c];
                k->t0 = calloc(k->s->n ? k->s->n : 1, sizeof(*k->t0));
                k->payload = malloc(TB_FRAME_MAX);
                if (k->t0 == NULL || k->payload == NULL)
                        return bench_fail("out of memory");
                if (tb_frame_decoder_init(&k->dec, k->payload, TB_FRAME_MAX) !=
                    TB_OK)
                        return bench_fail("tb_frame_decoder_init");
                lp->total += k->s->n;
                if ((k->fd = bench_connect(sock)) < 0)
                        return -1;
                memset(&ev, 0, sizeof(ev));
                ev.events = EPOLLIN;
                ev.data.ptr = k;
                if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, k->fd, &ev) != 0)
                        return bench_fail("epoll_ctl: %s", strerror(errno));
        }
        return 0;
}

static int bench_loop_run(struct bench_loop *lp)
{
        struct epoll_event ev[64];
        uint64_t progress = bench_now_ns();

        lp->start = bench_now_ns();
        for (unsigned c = 0; c < lp->nconns; c++)
                if (bench_send(lp, &lp->conns[c]) != 0)
                        return -1;
        while (lp->answered < lp->total) {
                uint64_t before = lp->answered;
                int n, open = 0;

                if (lp->rate > 0)
                        for (unsigned c = 0; c < lp->nconns; c++) {
                                struct bench_conn *k = &lp->conns[c];
                                if (!k->want_out && bench_send(lp, k) != 0)
                                        return -1;
                                open |= k->next < k->s->n;
                        }
                n = epoll_wait(lp->ep, ev, 64, open ? 1 : 1000);
                if (n < 0 && errno != EINTR)
                        return bench_fail("epoll_wait: %s", strerror(errno));
                for (int i = 0; i < n; i++) {
                        struct bench_conn *k = ev[i].data.ptr;

                        if ((ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
                            bench_recv(lp, k) != 0)
                                return -1;
                        if (bench_send(lp, k) != 0)
                                return -1;
                }
                if (lp->answered != before)
                        progress = bench_now_ns();
                else if (bench_now_ns() - progress > BENCH_STALL_NS)
                        return bench_fail("no answer for 60 s (%llu of %llu "
                                          "answered)",
                                          (unsigned long long)lp->answered,
                                          (unsigned long long)lp->total);
        }
        lp->run->seconds = (double)(bench_now_ns() - lp->start) / 1e9;
        return 0;
}

int bench_load_run(const char *sock, struct bench_script *scripts,
                   unsigned conns, unsigned depth, double rate,
                   struct bench_run *run)
{
        struct bench_loop lp;
        int rc = -1;

        memset(run, 0, sizeof(*run));
        memset(&lp, 0, sizeof(lp));
        lp.nconns = conns;
        lp.depth = depth;
        lp.rate = rate;
        lp.run = run;
        lp.conns = calloc(conns, sizeof(*lp.conns));
        lp.r = malloc(sizeof(*lp.r));
        for (unsigned c = 0; lp.conns != NULL && c < conns; c++)
                lp.conns[c].fd = -1;
        if ((lp.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
                bench_fail("epoll_create1: %s", strerror(errno));
        else if (lp.conns == NULL || lp.r == NULL)
                bench_fail("out of memory");
        else if (bench_conns_open(&lp, sock, scripts) == 0)
                rc = bench_loop_run(&lp);
        for (unsigned c = 0; lp.conns != NULL && c < conns; c++) {
                if (lp.conns[c].fd >= 0 && close(lp.conns[c].fd) != 0)
                        rc = bench_fail("close: %s", strerror(errno));
                free(lp.conns[c].t0);
                free(lp.conns[c].payload);
        }
        if (lp.ep >= 0 && close(lp.ep) != 0)
                rc = bench_fail("close: %s", strerror(errno));
        free(lp.conns);
        free(lp.r);
        return rc;
}

void bench_run_free(struct bench_run *run)
{
        for (unsigned k = 0; k < BENCH_KINDS; k++)
                free(run->kind[k].ns);
        memset(run, 0, sizeof(*run));
}

static int bench_u64_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return (x > y) - (x < y);
}

double bench_series_quantile_ms(struct bench_series *s, double q)
{
        size_t i;

        if (s->n == 0)
                return 0;
        qsort(s->ns, s->n, sizeof(*s->ns), bench_u64_cmp);
        i = (size_t)(q * (double)s->n);
        if (i > 0 && (double)i == q * (double)s->n)
                i--;
        if (i >= s->n)
                i = s->n - 1;
        return (double)s->ns[i] / 1e6;
}
