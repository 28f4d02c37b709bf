/*
 * tests/fuzz/fuzz_dispatch.c - arbitrary frame sequences through the
 * daemon's own connection, dispatch and commit code on a real ledger.
 *
 * Linked with daemon/conn.c, request.c, pipeline.c, config.c and log.c and
 * the LMDB ledger engine: the harness plays the server (server.c's part:
 * an event loop, one conn_set, the pipeline with its done callback wired to
 * request_write_done) and a client on the other end of a socketpair.  Each
 * input is one connection: its frames are written to the socket, the write
 * side is shut down (a half-close, as a client that pipelines everything
 * does), and the loop runs until the daemon side closes; what came back is
 * then checked.  Nothing is mocked: frames are decoded by conn.c, requests
 * by request.c, writes are verified on a worker thread and committed by the
 * writer thread into an LMDB ledger in a temporary directory ($TMPDIR or
 * /tmp), created once per process (sync off: a throw-away ledger) with the
 * genesis admin key and origin of gen_corpus.c, so the seeds' signed
 * entries (enroll a desk key, register, record, redeem, transfer, reverse,
 * revoke, policy) reach the write path.  The ledger is made afresh when
 * its tree passes DZ_RESET_SIZE entries (or $DZ_RESET_SIZE: ctest's
 * fuzz_replay_dispatch_reset sets 5, so the replay also goes through the
 * reset), so long runs stay bounded.
 *
 * Input format (docs/fuzzing.md, "fuzz_dispatch"): the input is cut at
 * every 4-byte separator "\xfe\xfd" "FR" or "\xfe\xfd" "RW".  The first
 * piece and every piece after "FR" is sent as one frame (a 4-byte
 * big-endian length, then the piece; an empty piece is a zero-length
 * frame); a piece after "RW" is sent as raw bytes, so the fuzzer can also
 * write bad lengths and split headers.
 *
 * Properties (a violation aborts):
 *  - every answer is a well-formed frame (length 1..TB_FRAME_MAX) whose
 *    payload tb_response_decode accepts, with the protocol version;
 *  - without raw pieces: every frame before the first one the daemon must
 *    drop the client for (empty, or shorter than the 7-byte request header)
 *    gets exactly one answer echoing its type and id, and a dropping frame
 *    gets exactly one more answer, type 0 id 0, BAD_REQUEST; nothing else
 *    comes back;
 *  - an OK or DUPLICATE write answer carries a receipt, and its seq is
 *    below the tree size after the input; the tree size never shrinks;
 *  - the daemon side closes (the loop ends) for every input, and once the
 *    writes still in the pipeline are done the connection is freed and
 *    nothing is pending;
 *  - every DZ_CHECK_EVERY inputs and before each reset, ledger_check_full
 *    replays the whole ledger and finds no mismatch (balances, keys,
 *    tree, checkpoints).
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "conn.h"
#include "frame.h"
#include "ledger.h"
#include "log.h"
#include "msg.h"
#include "pipeline.h"
#include "request.h"
#include "stats.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DZ_ORIGIN      "example.org/timebank" /* gen_corpus.c's */
#define DZ_SEED_BYTE   0x5e                   /* its admin key's seed */
#define DZ_RESET_SIZE  2000 /* entries before a new ledger ($DZ_RESET_SIZE) */
#define DZ_CHECK_EVERY 1000 /* inputs between full checks */
#define DZ_SEP_LEN     4
#define DZ_MAX_PIECES  1024

static const uint8_t dz_sep_frame[DZ_SEP_LEN] = {0xfe, 0xfd, 'F', 'R'};
static const uint8_t dz_sep_raw[DZ_SEP_LEN] = {0xfe, 0xfd, 'R', 'W'};

static struct {
        int ready;
        char dir[4096];
        struct config cfg;
        struct event_base *base;
        struct ledger *ledger;
        struct pipeline *pipeline;
        struct request_ctx *rq;
        struct conn_set conns;
        struct stats stats;
        int idle;
        uint64_t last_size;
        uint64_t inputs;
        uint64_t reset_size;
        uint64_t resets;
        /* totals, printed at exit: what was tried and what came back */
        uint64_t frames, raw_pieces, answers, writes_ok, writes_dup,
            writes_refused, dropped, full_checks;
} dz;

static void dz_die(const char *what, const char *detail)
{
        fprintf(stderr, "fuzz_dispatch: %s%s%s\n", what, detail ? ": " : "",
                detail ? detail : "");
        abort();
}

static void dz_write_done_cb(struct pipeline_job *j, void *arg)
{
        (void)arg;
        request_write_done(dz.rq, j);
}

static void dz_idle_cb(int failed, void *arg)
{
        (void)arg;
        if (failed)
                dz_die("the commit pipeline failed", NULL);
        dz.idle = 1;
}

static void dz_closed_cb(void *arg)
{
        (void)arg;
}

static void dz_rm(const char *name)
{
        char path[4200];

        snprintf(path, sizeof(path), "%s/%s", dz.dir, name);
        if (unlink(path) != 0 && errno != ENOENT)
                dz_die("cannot remove a ledger file", strerror(errno));
}

/* A fresh ledger in dz.dir (emptied first) and a pipeline on it. */
static void dz_ledger_up(void)
{
        struct ledger_options o;
        struct pipeline_options po;
        uint8_t pk[TB_PUBKEY_SIZE], sk[TB_SECKEY_SIZE], seed[32];
        enum ledger_err err;

        dz_rm("data.mdb");
        dz_rm("lock.mdb");
        dz_rm("log.key");
        dz_rm("log.pub");
        if (rmdir(dz.dir) != 0 && errno != ENOENT)
                dz_die("cannot remove the ledger directory", strerror(errno));
        memset(seed, DZ_SEED_BYTE, sizeof(seed));
        if (crypto_sign_seed_keypair(pk, sk, seed) != 0)
                dz_die("crypto_sign_seed_keypair", NULL);
        sodium_memzero(sk, sizeof(sk));
        ledger_options_default(&o);
        o.sync = 0;
        o.map_initial = 1u << 20;
        o.map_max = (uint64_t)256 << 20;
        /* the seeds' services started on 2026-01-01: keep them admissible */
        o.max_age = (int64_t)100 * 365 * 86400;
        o.points_per_hour = 60;
        o.daily_minutes_cap = 480;
        o.max_balance = 100000;
        if ((err = ledger_init(dz.dir, DZ_ORIGIN, pk, "admin", &o)) !=
            LEDGER_OK)
                dz_die("ledger_init", ledger_strerror(err));
        if ((err = ledger_open(dz.dir, &o, &dz.ledger)) != LEDGER_OK)
                dz_die("ledger_open", ledger_strerror(err));
        po.workers = 1;
        po.batch_max = dz.cfg.batch_max;
        po.max_queue = dz.cfg.max_queue;
        dz.idle = 0;
        if (pipeline_start(dz.base, dz.ledger, DZ_ORIGIN, &po, dz_write_done_cb,
                           dz_idle_cb, NULL, &dz.pipeline) != 0)
                dz_die("pipeline_start", strerror(errno));
        dz.rq->ledger = dz.ledger;
        dz.rq->pipeline = dz.pipeline;
        dz.last_size = 1;
}

static void dz_full_check(void)
{
        struct ledger_check_report rep;
        enum ledger_err err;

        if ((err = ledger_check_full(dz.ledger, NULL, &rep)) != LEDGER_OK)
                dz_die("ledger_check_full", ledger_strerror(err));
        if (rep.mismatches != 0)
                dz_die("the full self-check found a mismatch", rep.first);
        dz.full_checks++;
}

static void dz_ledger_down(void)
{
        pipeline_drain(dz.pipeline);
        while (!dz.idle)
                if (event_base_loop(dz.base, EVLOOP_ONCE) < 0)
                        dz_die("the event loop failed", NULL);
        pipeline_free(dz.pipeline);
        dz.pipeline = NULL;
        ledger_close(dz.ledger);
        dz.ledger = NULL;
}

/* At exit: remove the ledger's files (the threads may still hold them
 * open; unlinking is enough to free the space once the process is gone). */
static void dz_cleanup(void)
{
        char path[4200];

        fprintf(stderr,
                "fuzz_dispatch: %" PRIu64 " inputs, %" PRIu64
                " frames and %" PRIu64 " raw pieces sent, %" PRIu64
                " answers; writes: %" PRIu64 " acknowledged (OK), %" PRIu64
                " DUPLICATE, %" PRIu64 " refused; %" PRIu64
                " clients dropped; %" PRIu64 " full checks passed; %" PRIu64
                " ledger resets\n",
                dz.inputs, dz.frames, dz.raw_pieces, dz.answers, dz.writes_ok,
                dz.writes_dup, dz.writes_refused, dz.dropped, dz.full_checks,
                dz.resets);
        static const char *const names[] = {"data.mdb", "lock.mdb", "log.key",
                                            "log.pub"};

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dz.dir, names[i]);
                (void)unlink(path);
        }
        (void)rmdir(dz.dir);
}

static void dz_init(void)
{
        const char *tmp = getenv("TMPDIR");

        if (sodium_init() < 0)
                dz_die("sodium_init", NULL);
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                dz_die("cannot ignore SIGPIPE", NULL);
        log_set_level(getenv("DZ_DEBUG") ? LOG_DEBUG : LOG_CRIT);
        snprintf(dz.dir, sizeof(dz.dir), "%s/fuzz_dispatch.%ld",
                 tmp && *tmp ? tmp : "/tmp", (long)getpid());
        dz.reset_size = DZ_RESET_SIZE;
        if (getenv("DZ_RESET_SIZE") != NULL &&
            (dz.reset_size = strtoull(getenv("DZ_RESET_SIZE"), NULL, 10)) == 0)
                dz_die("DZ_RESET_SIZE must be a positive number", NULL);
        config_defaults(&dz.cfg);
        if (evthread_use_pthreads() != 0 ||
            (dz.base = event_base_new()) == NULL)
                dz_die("cannot set up the event loop", NULL);
        if ((dz.rq = calloc(1, sizeof(*dz.rq))) == NULL)
                dz_die("out of memory", NULL);
        /* wired as server_init wires them */
        stats_init(&dz.stats);
        dz.rq->stats = &dz.stats;
        dz.rq->conns = &dz.conns;
        dz.conns.cfg = &dz.cfg;
        dz.conns.stats = &dz.stats;
        dz.conns.rq = dz.rq;
        dz.conns.closed_cb = dz_closed_cb;
        dz_ledger_up();
        if (atexit(dz_cleanup) != 0)
                dz_die("atexit", NULL);
        dz.ready = 1;
}

/* ---- the client side ------------------------------------------------- */

struct dz_client {
        int fd;
        const uint8_t *out;
        size_t out_len, sent;
        uint8_t *in;
        size_t in_len, in_cap;
        int done;
};

static void dz_client_cb(evutil_socket_t fd, short what, void *arg)
{
        struct dz_client *cl = arg;
        ssize_t n;

        if ((what & EV_WRITE) && cl->sent < cl->out_len) {
                n = send(fd, cl->out + cl->sent, cl->out_len - cl->sent,
                         MSG_NOSIGNAL);
                if (n > 0)
                        cl->sent += (size_t)n;
                else if (n < 0 && errno != EAGAIN && errno != EINTR)
                        cl->sent = cl->out_len; /* the daemon dropped us */
                if (cl->sent == cl->out_len && shutdown(fd, SHUT_WR) != 0 &&
                    errno != ENOTCONN)
                        dz_die("shutdown", strerror(errno));
        }
        if (what & EV_READ) {
                for (;;) {
                        if (cl->in_cap - cl->in_len < 65536) {
                                size_t cap = cl->in_cap * 2 + 65536;
                                uint8_t *p = realloc(cl->in, cap);
                                if (p == NULL)
                                        dz_die("out of memory", NULL);
                                cl->in = p;
                                cl->in_cap = cap;
                        }
                        n = recv(fd, cl->in + cl->in_len,
                                 cl->in_cap - cl->in_len, 0);
                        if (n > 0) {
                                cl->in_len += (size_t)n;
                                continue;
                        }
                        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                                break;
                        cl->done = 1; /* EOF or reset: the daemon closed */
                        break;
                }
        }
}

/* ---- one input ------------------------------------------------------- */

struct dz_piece {
        const uint8_t *p;
        size_t len;
        int raw;
};

static size_t dz_split(const uint8_t *data, size_t size, struct dz_piece *pc)
{
        size_t n = 0, start = 0;
        int raw = 0;

        for (size_t i = 0; i + DZ_SEP_LEN <= size && n + 1 < DZ_MAX_PIECES;
             i++) {
                int f = memcmp(data + i, dz_sep_frame, DZ_SEP_LEN) == 0;
                int r = memcmp(data + i, dz_sep_raw, DZ_SEP_LEN) == 0;

                if (!f && !r)
                        continue;
                pc[n].p = data + start;
                pc[n].len = i - start;
                pc[n++].raw = raw;
                raw = r;
                start = i + DZ_SEP_LEN;
                i += DZ_SEP_LEN - 1;
        }
        pc[n].p = data + start;
        pc[n].len = size - start;
        pc[n++].raw = raw;
        return n;
}

static uint32_t dz_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
               (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct dz_piece pc[DZ_MAX_PIECES];
        static uint8_t out[DZ_MAX_PIECES * TB_FRAME_HEADER + 65536];
        /* per frame before the first dropping one: its type, id, answered */
        static uint16_t want_type[DZ_MAX_PIECES];
        static uint32_t want_id[DZ_MAX_PIECES];
        static uint8_t got[DZ_MAX_PIECES];
        size_t npc, out_len = 0, nwant = 0, fatal_answers = 0;
        int any_raw = 0, dropped = 0;
        uint64_t max_seq = 0;
        int any_write = 0;
        struct dz_client cl;
        struct event *ev;
        struct tb_status_info st;
        int sv[2];
        enum ledger_err lerr;

        if (size > sizeof(out) - DZ_MAX_PIECES * TB_FRAME_HEADER)
                return 0;
        if (!dz.ready)
                dz_init();
        npc = dz_split(data, size, pc);
        for (size_t i = 0; i < npc; i++) {
                if (pc[i].raw) {
                        any_raw = 1;
                        dz.raw_pieces++;
                } else {
                        dz.frames++;
                        if (tb_frame_header(pc[i].len, out + out_len) !=
                                TB_OK &&
                            pc[i].len != 0)
                                dz_die("tb_frame_header", NULL);
                        if (pc[i].len == 0)
                                memset(out + out_len, 0, TB_FRAME_HEADER);
                        out_len += TB_FRAME_HEADER;
                        if (!dropped) {
                                if (pc[i].len < TB_REQUEST_HEADER) {
                                        dropped = 1;
                                } else {
                                        want_type[nwant] =
                                            (uint16_t)(pc[i].p[1] << 8 |
                                                       pc[i].p[2]);
                                        want_id[nwant] = dz_be32(pc[i].p + 3);
                                        got[nwant++] = 0;
                                }
                        }
                }
                memcpy(out + out_len, pc[i].p, pc[i].len);
                out_len += pc[i].len;
        }

        memset(&cl, 0, sizeof(cl));
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
            evutil_make_socket_nonblocking(sv[0]) != 0 ||
            evutil_make_socket_nonblocking(sv[1]) != 0)
                dz_die("socketpair", strerror(errno));
        cl.fd = sv[1];
        cl.out = out;
        cl.out_len = out_len;
        if (out_len == 0 && shutdown(sv[1], SHUT_WR) != 0)
                dz_die("shutdown", strerror(errno));
        if (conn_new(&dz.conns, dz.base, sv[0], (long)getpid(),
                     (long)getuid()) != 0)
                dz_die("conn_new failed", NULL);
        ev = event_new(dz.base, sv[1], EV_READ | EV_WRITE | EV_PERSIST,
                       dz_client_cb, &cl);
        if (ev == NULL || event_add(ev, NULL) != 0)
                dz_die("event_new", NULL);
        while (!cl.done) {
                if (cl.sent == cl.out_len &&
                    event_del(ev) == 0) { /* only reading from now on */
                        event_free(ev);
                        ev = event_new(dz.base, sv[1], EV_READ | EV_PERSIST,
                                       dz_client_cb, &cl);
                        if (ev == NULL || event_add(ev, NULL) != 0)
                                dz_die("event_new", NULL);
                        cl.out_len = cl.sent; /* do not re-arm again */
                        cl.sent = SIZE_MAX;
                }
                if (event_base_loop(dz.base, EVLOOP_ONCE) < 0)
                        dz_die("the event loop failed", NULL);
        }
        event_free(ev);
        (void)close(sv[1]);
        if (dz.conns.count != 0)
                dz_die("the daemon side is still open after EOF", NULL);
        /* A connection closed with writes in the pipeline (the client left
         * mid-frame) stays allocated, DEAD, until their answers are dropped:
         * run the loop until they are and conn_unref freed it.  A leak
         * would hang here, which libFuzzer reports as a timeout. */
        while (dz.conns.head != NULL)
                if (event_base_loop(dz.base, EVLOOP_ONCE) < 0)
                        dz_die("the event loop failed", NULL);
        if (pipeline_pending(dz.pipeline) != 0)
                dz_die("writes still pending with no connection", NULL);

        /* ---- what came back ---- */
        if ((lerr = ledger_status(dz.ledger, &st)) != LEDGER_OK)
                dz_die("ledger_status", ledger_strerror(lerr));
        if (st.tree_size < dz.last_size)
                dz_die("the tree shrank", NULL);
        for (size_t at = 0; at < cl.in_len;) {
                struct tb_response r;
                uint32_t flen;
                enum tb_err err;
                size_t k;

                if (cl.in_len - at < TB_FRAME_HEADER)
                        dz_die("a truncated answer frame header", NULL);
                flen = dz_be32(cl.in + at);
                if (flen == 0 || flen > TB_FRAME_MAX ||
                    cl.in_len - at - TB_FRAME_HEADER < flen)
                        dz_die("an answer frame of a bad length", NULL);
                err =
                    tb_response_decode(cl.in + at + TB_FRAME_HEADER, flen, &r);
                if (err != TB_OK)
                        dz_die("an answer does not decode", tb_strerror(err));
                if (r.version != TB_PROTO_VERSION)
                        dz_die("an answer of another version", NULL);
                at += TB_FRAME_HEADER + flen;
                dz.answers++;
                if (r.type == 0 && r.id == 0 && r.status != TB_ST_OK)
                        dz.dropped++; /* or a type-0 request refused */
                if (r.type == TB_MSG_SUBMIT)
                        r.status == TB_ST_OK          ? dz.writes_ok++
                        : r.status == TB_ST_DUPLICATE ? dz.writes_dup++
                                                      : dz.writes_refused++;
                if (r.type == TB_MSG_SUBMIT &&
                    (r.status == TB_ST_OK || r.status == TB_ST_DUPLICATE)) {
                        if (r.u.write.checkpoint_len == 0)
                                dz_die("a write answer without receipt", NULL);
                        if (r.u.write.seq >= st.tree_size)
                                dz_die("a write seq beyond the tree", NULL);
                        any_write = 1;
                        if (r.u.write.seq > max_seq)
                                max_seq = r.u.write.seq;
                }
                if (any_raw)
                        continue;
                for (k = 0; k < nwant; k++)
                        if (!got[k] && want_type[k] == r.type &&
                            want_id[k] == r.id)
                                break;
                if (k < nwant) {
                        got[k] = 1;
                        continue;
                }
                if (dropped && fatal_answers == 0 && r.type == 0 && r.id == 0 &&
                    r.status == TB_ST_BAD_REQUEST) {
                        fatal_answers++;
                        continue;
                }
                fprintf(stderr, "fuzz_dispatch: type %u id %u status %s\n",
                        r.type, r.id, tb_status_name(r.status));
                dz_die("an answer nobody asked for", NULL);
        }
        if (!any_raw) {
                for (size_t k = 0; k < nwant; k++)
                        if (!got[k]) {
                                fprintf(stderr,
                                        "fuzz_dispatch: frame %zu (type %u "
                                        "id %u)\n",
                                        k, want_type[k], want_id[k]);
                                dz_die("a frame got no answer", NULL);
                        }
                if (dropped && fatal_answers != 1)
                        dz_die("a dropping frame got no answer", NULL);
        }
        (void)any_write;
        (void)max_seq;
        free(cl.in);
        dz.last_size = st.tree_size;

        if (++dz.inputs % DZ_CHECK_EVERY == 0)
                dz_full_check();
        if (st.tree_size > dz.reset_size) {
                dz_full_check();
                dz_ledger_down();
                dz_ledger_up();
                if (++dz.resets == 1 && getenv("DZ_DEBUG") != NULL)
                        fprintf(stderr, "fuzz_dispatch: ledger made afresh\n");
        }
        return 0;
}
