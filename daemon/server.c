/*
 * daemon/server.c - the listener and the daemon's lifecycle on one libevent
 * base: the socket, accepting (paused at the connection limit and on
 * EMFILE), the signals, and an orderly stop.  The connections themselves
 * are conn.c's, the answers request.c's.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
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

#include "conn.h"
#include "frame.h"
#include "log.h"
#include "mirror.h"
#include "msg.h"
#include "pipeline.h"
#include "request.h"
#include "server.h"
#include "stats.h"
#include "systemd.h"

#define SERVER_FLUSH_MS         5000 /* at stop, for clients to take their answers */
#define SERVER_REFUSING_MAX     64   /* refused connections lingering at once */
#define SERVER_REFUSE_LINGER_MS 1000 /* for a refused client to read BUSY */
#define SERVER_REFUSE_LOG_S     10 /* one refusal logged at warning per period */
#define SERVER_MAP_CHECK_MS     1000 /* map_resident_max is checked this often */

/*
 * A connection refused at accept: it got its BUSY answer and our end is
 * shut for writing; it lingers (reading and dropping what the client
 * sends) until the client closes or SERVER_REFUSE_LINGER_MS pass.  Closing
 * at once would make a client that had not yet sent its request fail with
 * EPIPE instead of reading the answer.
 */
struct server_refusal {
        struct server *s;
        struct event *ev;    /* reading and dropping */
        struct event *timer; /* the linger's end, whatever the client sends */
        evutil_socket_t fd;
        struct server_refusal *prev, *next;
};

struct server {
        struct config cfg;
        struct event_base *base;
        struct evconnlistener *listener;
        struct pipeline *pipeline;
        struct mirror *mirror; /* tiles_dir, or NULL */
        struct event *sigterm, *sigint, *retry_accept, *flush_timer;
        struct event *map_timer; /* map_resident_max, or NULL */
        struct ledger *ledger;
        uint64_t map_trims;    /* since the daemon started */
        struct conn_set conns; /* conns.stopping: the daemon is stopping */
        struct request_ctx *rq;
        struct stats stats;
        struct server_refusal *refusing; /* lingering refused connections */
        unsigned nrefusing;
        uint64_t refused;          /* since the daemon started */
        uint64_t refused_unlogged; /* at debug only, since the last warning */
        time_t refused_logged;     /* when the last warning was written */
        int created_socket;
        struct stat socket_id; /* of the file we bound, if created_socket */
        int failed;
        int flush_ms;
        char origin[TB_NAME_MAX + 1];
};

/* ---- accepting --------------------------------------------------------- */

/* Start (on) or stop taking connections from the listen queue. */
static void server_accepting(struct server *s, int on)
{
        if ((on ? evconnlistener_enable(s->listener)
                : evconnlistener_disable(s->listener)) != 0)
                log_err("cannot %s accepting connections",
                        on ? "resume" : "pause");
}

/* A connection closed: below the limit again, take the next one. */
static void server_conn_closed_cb(void *arg)
{
        struct server *s = arg;

        if (!s->conns.stopping && s->conns.count + 1 == s->cfg.max_connections)
                server_accepting(s, 1);
}

static void server_refusal_free(struct server_refusal *r)
{
        struct server *s = r->s;

        if (r->prev != NULL)
                r->prev->next = r->next;
        else
                s->refusing = r->next;
        if (r->next != NULL)
                r->next->prev = r->prev;
        s->nrefusing--;
        event_free(r->ev);
        event_free(r->timer);
        evutil_closesocket(r->fd);
        free(r);
}

static void server_refusal_cb(evutil_socket_t fd, short what, void *arg)
{
        struct server_refusal *r = arg;
        char sink[512];
        ssize_t n;

        if (what & EV_READ) {
                n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
                if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
                        return; /* dropped; wait for the end */
        }
        server_refusal_free(r); /* end of input, an error, or the linger */
}

/*
 * Log a refusal: at warning once per SERVER_REFUSE_LOG_S with the number
 * refused since, else at debug, so that a flood cannot flood the log.
 */
static void server_refusal_log(struct server *s, long pid, long uid,
                               unsigned have)
{
        time_t now = time(NULL);

        s->refused++;
        if (s->refused_logged != 0 &&
            now - s->refused_logged < SERVER_REFUSE_LOG_S) {
                s->refused_unlogged++;
                log_debug("refused a connection from pid %ld uid %ld: it "
                          "has %u connections (max_connections_per_uid)",
                          pid, uid, have);
                return;
        }
        log_warning("refused a connection from pid %ld uid %ld: it has %u "
                    "connections (max_connections_per_uid %u); %" PRIu64
                    " more refused since the last such line",
                    pid, uid, have, s->cfg.max_connections_per_uid,
                    s->refused_unlogged);
        s->refused_logged = now;
        s->refused_unlogged = 0;
}

/*
 * Answer fd BUSY (type 0, id 0: the form a client gets when its request
 * could not be read, so it parses it before sending anything), shut our
 * sending side, and let it linger for the client to read the answer.
 */
static void server_refuse(struct server *s, evutil_socket_t fd, long uid)
{
        struct timeval linger = {.tv_sec = SERVER_REFUSE_LINGER_MS / 1000,
                                 .tv_usec =
                                     SERVER_REFUSE_LINGER_MS % 1000 * 1000};
        uint8_t out[TB_FRAME_HEADER + 256];
        struct server_refusal *r = NULL;
        struct tb_response resp;
        char msg[160];
        size_t len;

        snprintf(msg, sizeof(msg),
                 "too many connections from uid %ld (max_connections_per_uid "
                 "%u): retry later",
                 uid, s->cfg.max_connections_per_uid);
        memset(&resp, 0, sizeof(resp));
        resp.status = TB_ST_BUSY;
        resp.message = msg;
        resp.message_len = strlen(msg);
        if (tb_response_encode(&resp, out + TB_FRAME_HEADER,
                               sizeof(out) - TB_FRAME_HEADER, &len) != TB_OK ||
            tb_frame_header(len, out) != TB_OK ||
            send(fd, out, TB_FRAME_HEADER + len, MSG_DONTWAIT | MSG_NOSIGNAL) <
                0 ||
            shutdown(fd, SHUT_WR) != 0)
                goto close;
        stats_response(&s->stats, TB_ST_BUSY);
        if (s->nrefusing >= SERVER_REFUSING_MAX || s->conns.stopping)
                goto close;
        if ((r = calloc(1, sizeof(*r))) == NULL)
                goto close;
        r->s = s;
        r->fd = fd;
        r->ev =
            event_new(s->base, fd, EV_READ | EV_PERSIST, server_refusal_cb, r);
        /* a timer of its own: a persistent event's timeout restarts at
         * every read, and a client sending on would linger for ever */
        r->timer = evtimer_new(s->base, server_refusal_cb, r);
        if (r->ev == NULL || r->timer == NULL || event_add(r->ev, NULL) != 0 ||
            evtimer_add(r->timer, &linger) != 0) {
                if (r->ev != NULL)
                        event_free(r->ev);
                if (r->timer != NULL)
                        event_free(r->timer);
                free(r);
                goto close;
        }
        r->next = s->refusing;
        if (s->refusing != NULL)
                s->refusing->prev = r;
        s->refusing = r;
        s->nrefusing++;
        return;
close:
        evutil_closesocket(fd);
}

static void server_accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
                             struct sockaddr *sa, int salen, void *arg)
{
        struct server *s = arg;
        struct ucred cred;
        socklen_t clen = sizeof(cred);
        long pid = -1, uid = -1;
        unsigned have;

        (void)lis;
        (void)sa;
        (void)salen;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
                pid = (long)cred.pid;
                uid = (long)cred.uid;
        }
        /* no uid is exempt, root included: docs/timebankd.md, "Limits" */
        have = conn_uid_count(&s->conns, uid);
        if (have >= s->cfg.max_connections_per_uid) {
                server_refusal_log(s, pid, uid, have);
                server_refuse(s, fd, uid);
                return;
        }
        if (conn_new(&s->conns, s->base, fd, pid, uid) != 0)
                return;
        if (s->conns.count >= s->cfg.max_connections) {
                log_warning("%u connections: not accepting more until one "
                            "closes",
                            s->conns.count);
                server_accepting(s, 0);
        }
}

static void server_retry_accept_cb(evutil_socket_t fd, short what, void *arg)
{
        struct server *s = arg;

        (void)fd;
        (void)what;
        if (!s->conns.stopping && s->conns.count < s->cfg.max_connections)
                server_accepting(s, 1);
}

static void server_accept_error_cb(struct evconnlistener *lis, void *arg)
{
        struct server *s = arg;
        struct timeval one = {.tv_sec = 1};
        int e = EVUTIL_SOCKET_ERROR();

        (void)lis;
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                log_warning("accept: %s; pausing accepts for a second",
                            strerror(e));
                server_accepting(s, 0);
                if (evtimer_add(s->retry_accept, &one) != 0)
                        log_err("cannot schedule accepting again");
                return;
        }
        log_warning("accept: %s", strerror(e));
}

/* ---- the map's resident pages (map_resident_max) ---------------------- */

/*
 * The file-backed resident memory of this process (RssFile of
 * /proc/self/status, a counter the kernel keeps: cheap to read, unlike
 * smaps): the pages of data.mdb's map, and of the program and its
 * libraries (a few MiB).  0, or -1 if it cannot be read.
 */
static int server_rss_file(uint64_t *bytes)
{
        char line[128];
        unsigned long long kib;
        FILE *f = fopen("/proc/self/status", "re");
        int found = 0;

        if (f == NULL)
                return -1;
        while (!found && fgets(line, sizeof(line), f) != NULL)
                found = sscanf(line, "RssFile: %llu kB", &kib) == 1;
        if (fclose(f) != 0 || !found)
                return -1;
        *bytes = (uint64_t)kib * 1024;
        return 0;
}

/*
 * Every SERVER_MAP_CHECK_MS: if more than map_resident_max of files is
 * mapped in this process, unmap all of data.mdb (ledger_map_trim): the
 * pages stay in the page cache and the hot ones fault back in at the next
 * reads.  If the size cannot be read (no /proc) or the unmapping fails,
 * say so once and stop checking.
 */
static void server_map_check_cb(evutil_socket_t fd, short what, void *arg)
{
        struct server *s = arg;
        uint64_t resident;
        enum ledger_err err;

        (void)fd;
        (void)what;
        if (server_rss_file(&resident) != 0) {
                log_warning("cannot read RssFile in /proc/self/status: "
                            "map_resident_max is not enforced from now on");
                if (event_del(s->map_timer) != 0)
                        log_err("cannot stop the map_resident_max timer");
                return;
        }
        if (resident <= s->cfg.map_resident_max)
                return;
        if ((err = ledger_map_trim(s->ledger)) != LEDGER_OK) {
                log_warning("cannot unmap data.mdb (%" PRIu64 " bytes of "
                            "files mapped): %s; map_resident_max is not "
                            "enforced from now on",
                            resident, ledger_strerror(err));
                if (event_del(s->map_timer) != 0)
                        log_err("cannot stop the map_resident_max timer");
                return;
        }
        s->map_trims++;
        log_debug("unmapped data.mdb: %" PRIu64 " bytes of files were mapped "
                  "(map_resident_max %" PRIu64 "; %" PRIu64 " times since "
                  "the start)",
                  resident, s->cfg.map_resident_max, s->map_trims);
}

/* ---- startup and shutdown --------------------------------------------- */

/* Remove the socket file at path if it is still the one we bound (id). */
static void server_unlink_own(const char *path, const struct stat *id)
{
        struct stat st;

        if (lstat(path, &st) != 0 || st.st_dev != id->st_dev ||
            st.st_ino != id->st_ino) {
                log_warning("%s is no longer our socket: leaving it", path);
                return;
        }
        if (unlink(path) != 0)
                log_warning("cannot remove %s: %s", path, strerror(errno));
}

/* Fill sa with path; -1 if it does not fit. */
static int server_sockaddr(const char *path, struct sockaddr_un *sa)
{
        size_t n = strlen(path);

        if (n == 0 || n >= sizeof(sa->sun_path)) {
                log_err("socket path '%s' is too long", path);
                return -1;
        }
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        memcpy(sa->sun_path, path, n + 1);
        return 0;
}

/*
 * Something exists at the socket path (lstat gave st).  Remove it only if
 * it is a socket that refuses connections (ECONNREFUSED: nobody listens;
 * a crash left it).  A symbolic link is never followed nor removed, a
 * file that is not a socket is never removed, and any other answer of
 * connect() (EACCES, EAGAIN from a live daemon's full queue, ...) leaves
 * the path alone: we cannot tell that nobody uses it.  Returns 0 once the
 * path is free, -1 after logging why we refuse to start.
 */
static int server_clear_path(const char *path, const struct sockaddr_un *sa,
                             const struct stat *st)
{
        struct stat again;
        int fd, rc, e;

        if (S_ISLNK(st->st_mode)) {
                log_err("%s is a symbolic link: refusing to follow or "
                        "replace it",
                        path);
                return -1;
        }
        if (!S_ISSOCK(st->st_mode)) {
                log_err("%s exists and is not a socket: refusing to "
                        "replace it",
                        path);
                return -1;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                log_err("socket: %s", strerror(errno));
                return -1;
        }
        rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
        e = errno;
        (void)close(fd);
        if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
                log_err("another daemon already answers on %s: refusing to "
                        "start",
                        path);
                return -1;
        }
        if (e != ECONNREFUSED) {
                log_err("cannot tell whether %s is in use (connect: %s): "
                        "refusing to start; remove it if it is stale",
                        path, strerror(e));
                return -1;
        }
        /* the same inode still: not swapped for another file meanwhile */
        if (lstat(path, &again) != 0 || again.st_dev != st->st_dev ||
            again.st_ino != st->st_ino || !S_ISSOCK(again.st_mode)) {
                log_err("%s changed while we looked at it: refusing to "
                        "start",
                        path);
                return -1;
        }
        log_notice("removing stale socket %s", path);
        if (unlink(path) != 0) {
                log_err("cannot remove %s: %s", path, strerror(errno));
                return -1;
        }
        return 0;
}

/*
 * Create the listening socket at cfg->socket.  The mode is given by the
 * umask in force during bind(), so the socket file has socket_mode from
 * the moment it exists: a chmod() afterwards would leave a window with the
 * wrong mode and would follow a symbolic link put in its place (fchmod()
 * of a socket's fd does not reach the file at all).  The umask is
 * process-wide; no other thread runs yet.  On success *id gets the file's
 * device and inode, so that we remove only our own file at exit.
 */
static int server_listen_path(const struct config *cfg, struct stat *id,
                              int *created)
{
        struct sockaddr_un sa;
        struct stat st;
        mode_t old_mask;
        int fd, rc, e;

        *created = 0;
        if (server_sockaddr(cfg->socket, &sa) != 0)
                return -1;
        if (lstat(cfg->socket, &st) == 0) {
                if (server_clear_path(cfg->socket, &sa, &st) != 0)
                        return -1;
        } else if (errno != ENOENT) {
                log_err("cannot examine %s: %s", cfg->socket, strerror(errno));
                return -1;
        }
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
                log_err("socket: %s", strerror(errno));
                return -1;
        }
        old_mask = umask(~(mode_t)cfg->socket_mode & 0777);
        rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        e = errno;
        (void)umask(old_mask);
        if (rc != 0) {
                log_err("cannot bind %s: %s", cfg->socket, strerror(e));
                goto fail;
        }
        if (lstat(cfg->socket, id) != 0) {
                log_err("cannot examine %s after bind: %s", cfg->socket,
                        strerror(errno));
                goto fail;
        }
        *created = 1;
        if (listen(fd, 128) != 0) {
                log_err("cannot listen on %s: %s", cfg->socket,
                        strerror(errno));
                goto fail;
        }
        return fd;
fail:
        (void)close(fd);
        if (*created)
                server_unlink_own(cfg->socket, id);
        *created = 0;
        return -1;
}

static void server_flush_check_cb(evutil_socket_t fd, short what, void *arg)
{
        struct server *s = arg;
        struct timeval tick = {.tv_usec = 50000};
        size_t unsent = conn_unsent_all(&s->conns);

        (void)fd;
        (void)what;
        s->flush_ms += 50;
        if (unsent == 0 || s->flush_ms >= SERVER_FLUSH_MS) {
                if (unsent > 0)
                        log_warning("shutdown: %zu bytes of answers not taken "
                                    "by clients",
                                    unsent);
                if (event_base_loopexit(s->base, NULL) != 0)
                        log_err("cannot stop the event loop");
                return;
        }
        if (evtimer_add(s->flush_timer, &tick) != 0)
                log_err("cannot wait for clients to take their answers");
}

static void server_write_done_cb(struct pipeline_job *j, void *arg)
{
        struct server *s = arg;

        request_write_done(s->rq, j);
}

static void server_pipeline_idle_cb(int failed, void *arg)
{
        struct server *s = arg;

        if (failed) {
                s->failed = 1;
                s->conns.stopping = 1;
                server_accepting(s, 0);
        }
        /* every write is answered: flush what the clients have not taken */
        server_flush_check_cb(-1, 0, s);
}

static void server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
        struct server *s = arg;

        (void)what;
        if (s->conns.stopping)
                return;
        log_notice("%s: finishing queued writes, then stopping",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
        if (systemd_notify("STOPPING=1") != 0)
                log_warning("cannot notify systemd: %s", strerror(errno));
        server_accepting(s, 0);
        conn_stop_all(&s->conns);
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
        if ((s = calloc(1, sizeof(*s))) == NULL ||
            (s->rq = calloc(1, sizeof(*s->rq))) == NULL) {
                log_err("out of memory");
                free(s);
                return -1;
        }
        s->cfg = *cfg;
        s->rq->ledger = l;
        stats_init(&s->stats);
        s->rq->stats = &s->stats;
        s->rq->conns = &s->conns;
        s->conns.cfg = &s->cfg;
        s->conns.stats = &s->stats;
        s->conns.rq = s->rq;
        s->conns.closed_cb = server_conn_closed_cb;
        s->conns.arg = s;
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
        else if ((fd = server_listen_path(cfg, &s->socket_id,
                                          &s->created_socket)) < 0)
                goto fail;
        if (evutil_make_socket_nonblocking(fd) != 0) {
                log_err("cannot make the socket non-blocking");
                (void)close(fd);
                goto fail;
        }
        s->listener = evconnlistener_new(
            s->base, server_accept_cb, s,
            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
        if (s->listener == NULL) {
                log_err("cannot listen");
                (void)close(fd);
                goto fail;
        }
        evconnlistener_set_error_cb(s->listener, server_accept_error_cb);
        s->sigterm = evsignal_new(s->base, SIGTERM, server_signal_cb, s);
        s->sigint = evsignal_new(s->base, SIGINT, server_signal_cb, s);
        s->retry_accept = evtimer_new(s->base, server_retry_accept_cb, s);
        s->flush_timer = evtimer_new(s->base, server_flush_check_cb, s);
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
        if (pipeline_start(s->base, l, s->origin, &po, server_write_done_cb,
                           server_pipeline_idle_cb, s, &s->pipeline) != 0) {
                log_err("cannot start the commit pipeline: %s",
                        strerror(errno));
                goto fail;
        }
        s->rq->pipeline = s->pipeline;
        s->ledger = l;
        if (cfg->map_resident_max > 0) {
                struct timeval every = {.tv_sec = SERVER_MAP_CHECK_MS / 1000,
                                        .tv_usec =
                                            SERVER_MAP_CHECK_MS % 1000 * 1000};

                s->map_timer =
                    event_new(s->base, -1, EV_PERSIST, server_map_check_cb, s);
                if (s->map_timer == NULL ||
                    event_add(s->map_timer, &every) != 0) {
                        log_err("cannot set up the map_resident_max timer");
                        goto fail;
                }
        }
        if (cfg->tiles_dir[0] != 0 &&
            mirror_start(l, cfg->tiles_dir, &s->mirror) != 0) {
                log_err("cannot start the tiles_dir mirror: %s",
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
        mirror_free(s->mirror);
        pipeline_free(s->pipeline);
        conn_free_all(&s->conns);
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
        if (s->map_timer != NULL)
                event_free(s->map_timer);
        while (s->refusing != NULL)
                server_refusal_free(s->refusing);
        if (s->base != NULL)
                event_base_free(s->base);
        if (s->created_socket)
                server_unlink_own(s->cfg.socket, &s->socket_id);
        free(s->rq);
        free(s);
}
