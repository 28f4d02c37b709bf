/*
 * tests/e2e/rawclient.c - a deliberately badly behaved client for the
 * end-to-end tests: it sends exactly the bytes it is given, then stalls,
 * hangs up or reads, and prints what the daemon did.
 *
 *   rawclient [options] SOCKET
 *     -x HEX      append these bytes (hex; spaces, '.' and '_' ignored)
 *     -R KEY:ACCOUNT:RID
 *                 append a SUBMIT frame of a register entry for ACCOUNT,
 *                 request id RID (32 hex digits), signed with the secret
 *                 key file KEY for the origin given by -o
 *     -o ORIGIN   the ledger's origin (for -R)
 *     -i ID       correlation id of the -R frame (default 1)
 *     -C CLOCK    the entry's terminal clock (default: now), so that the
 *                 same -R -C pair rebuilds the same bytes: a true retry
 *     -p N        send only the first N bytes of what was assembled
 *     -c          hang up right after sending, reading nothing
 *     -H MS       after sending, hold the connection MS ms before reading
 *     -n N        stop after N responses (prints "open")
 *     -t MS       give up after MS ms without a byte (prints "timeout")
 *     -T MS       trickle: send one byte every MS ms, stopping early when
 *                 the daemon answers or hangs up; prints "trickled N bytes
 *                 in M ms" (then the responses as usual)
 *     -N COUNT    open COUNT connections, send the bytes on each, print
 *                 "connected COUNT", hold them all -H MS (reading), then
 *                 print "conns busy=B closed=C open=O": B answered BUSY,
 *                 C hung up without a BUSY, O still open without a word
 *
 * Output, one line each: "sent N", then per response "response type=T
 * id=I status=NAME [seq=N] message=TEXT" (seq for a SUBMIT answered OK or
 * DUPLICATE), then "closed" (the daemon hung up),
 * "timeout" or "open".  The response header is read by hand, so an answer
 * this build cannot decode is still shown.  Exit 0, 1 on a local failure,
 * 2 on usage.
 */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "frame.h"
#include "key.h"
#include "keyfile.h"
#include "msg.h"
#include "status.h"

#define OUT_MAX (1u << 20)

static uint8_t out[OUT_MAX];
static size_t out_len;
static uint8_t in[TB_FRAME_HEADER + TB_FRAME_MAX];

static void fail(const char *what)
{
        fprintf(stderr, "rawclient: %s\n", what);
        exit(1);
}

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
        fprintf(stderr,
                "usage: rawclient [-x HEX] [-R KEY:ACCOUNT:RID -o "
                "ORIGIN [-i ID] [-C CLOCK]] [-p N] [-c] [-H MS] [-n N] [-t MS] "
                "[-T MS] [-N COUNT] SOCKET\n");
        exit(2);
}

static void add_hex(const char *s)
{
        size_t n;

        if (sodium_hex2bin(out + out_len, OUT_MAX - out_len, s, strlen(s),
                           " ._\n", &n, NULL) != 0)
                fail("bad hex");
        out_len += n;
}

static void add_register(const char *spec, const char *origin, uint32_t id,
                         int64_t clock)
{
        char buf[1024], *acct, *rid;
        struct tb_skey *k = NULL;
        struct tb_vkey v;
        struct tb_entry e;
        struct tb_request q;
        uint8_t signed_entry[TB_SIGNED_MAX];
        size_t len, n, plen;

        if (origin == NULL || strlen(spec) >= sizeof(buf))
                usage();
        memcpy(buf, spec, strlen(spec) + 1);
        if ((acct = strchr(buf, ':')) == NULL ||
            (rid = strchr(acct + 1, ':')) == NULL)
                usage();
        *acct++ = 0;
        *rid++ = 0;
        if (tb_keyfile_read_secret(buf, &k) != TB_OK)
                fail("cannot read the secret key");
        tb_skey_public(k, &v);
        memset(&e, 0, sizeof(e));
        e.version = TB_ENTRY_VERSION;
        e.kind = TB_KIND_REGISTER;
        memcpy(e.signer, v.pk, TB_PUBKEY_SIZE);
        if (sodium_hex2bin(e.request_id, TB_REQUEST_ID_SIZE, rid, strlen(rid),
                           NULL, &n, NULL) != 0 ||
            n != TB_REQUEST_ID_SIZE)
                fail("the request id must be 32 hex digits");
        e.clock = clock >= 0 ? clock : (int64_t)time(NULL);
        if (strlen(acct) > TB_ACCOUNT_ID_MAX)
                fail("account too long");
        memcpy(e.u.reg.account, acct, strlen(acct) + 1);
        if (tb_entry_encode(&e, signed_entry, TB_BODY_MAX, &len) != TB_OK ||
            tb_entry_sign_key(origin, signed_entry, len, k,
                              signed_entry + len) != TB_OK)
                fail("cannot encode or sign the entry");
        tb_skey_free(k);
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_SUBMIT;
        q.id = id;
        q.u.submit.signed_entry = signed_entry;
        q.u.submit.len = len + TB_SIG_SIZE;
        if (OUT_MAX - out_len < TB_FRAME_HEADER + TB_FRAME_MAX)
                fail("too much to send");
        if (tb_request_encode(&q, out + out_len + TB_FRAME_HEADER, TB_FRAME_MAX,
                              &plen) != TB_OK ||
            tb_frame_header(plen, out + out_len) != TB_OK)
                fail("cannot encode the request");
        out_len += TB_FRAME_HEADER + plen;
}

static unsigned long number(const char *s)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || s[0] < '0' || s[0] > '9')
                usage();
        return v;
}

static void sleep_ms(unsigned long ms)
{
        struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                              .tv_nsec = (long)(ms % 1000) * 1000000};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

static uint32_t be(const uint8_t *p, int n)
{
        uint32_t v = 0;

        for (int i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

static void print_response(const uint8_t *p, size_t len)
{
        unsigned status, mlen;
        const char *name;

        if (len < TB_RESPONSE_HEADER) {
                printf("short-response len=%zu\n", len);
                return;
        }
        status = be(p + 7, 2);
        mlen = be(p + 9, 2);
        if (mlen > len - TB_RESPONSE_HEADER)
                mlen = (unsigned)(len - TB_RESPONSE_HEADER);
        name = tb_status_name(status);
        printf("response type=%u id=%u status=%s ", be(p + 1, 2), be(p + 3, 4),
               name != NULL ? name : "UNKNOWN");
        if (be(p + 1, 2) == TB_MSG_SUBMIT && status <= TB_ST_DUPLICATE &&
            len >= TB_RESPONSE_HEADER + mlen + 8)
                printf("seq=%llu ",
                       (unsigned long long)be(p + TB_RESPONSE_HEADER + mlen, 4)
                               << 32 |
                           be(p + TB_RESPONSE_HEADER + mlen + 4, 4));
        printf("message=%.*s\n", (int)mlen,
               (const char *)p + TB_RESPONSE_HEADER);
}

/* Read responses until the peer closes, n responses or ms of silence. */
static void read_responses(int fd, unsigned long n, unsigned long ms)
{
        size_t have = 0;
        unsigned long got = 0;

        for (;;) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                ssize_t r;

                while (have >= TB_FRAME_HEADER) {
                        size_t flen = be(in, 4);
                        if (flen > TB_FRAME_MAX) {
                                printf("bad-frame len=%zu\n", flen);
                                return;
                        }
                        if (have < TB_FRAME_HEADER + flen)
                                break;
                        print_response(in + TB_FRAME_HEADER, flen);
                        memmove(in, in + TB_FRAME_HEADER + flen,
                                have - TB_FRAME_HEADER - flen);
                        have -= TB_FRAME_HEADER + flen;
                        if (n != 0 && ++got == n) {
                                printf("open\n");
                                return;
                        }
                }
                r = poll(&pfd, 1, (int)ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        fail("poll");
                if (r == 0) {
                        printf("timeout\n");
                        return;
                }
                r = read(fd, in + have, sizeof(in) - have);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) { /* EOF or reset: the daemon hung up */
                        if (have > 0)
                                printf("partial %zu\n", have);
                        printf("closed\n");
                        return;
                }
                have += (size_t)r;
        }
}

static int64_t now_ms(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
                fail("clock_gettime");
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const struct sockaddr_un *sa)
{
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        if (fd < 0 ||
            connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0)
                fail("cannot connect");
        return fd;
}

static size_t send_all(int fd, const uint8_t *p, size_t len)
{
        size_t sent = 0;

        while (sent < len) {
                ssize_t w = send(fd, p + sent, len - sent, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        break; /* the daemon may hang up mid-way: report it */
                sent += (size_t)w;
        }
        return sent;
}

/* 1 if the daemon has said something or hung up on fd. */
static int spoke(int fd)
{
        struct pollfd pfd = {.fd = fd, .events = POLLIN};

        return poll(&pfd, 1, 0) > 0;
}

/* -T: one byte every ms until done or the daemon answers or hangs up. */
static size_t trickle(int fd, unsigned long ms, int64_t *took)
{
        int64_t t0 = now_ms();
        size_t sent = 0;

        while (sent < out_len && !spoke(fd)) {
                if (sent > 0)
                        sleep_ms(ms);
                if (spoke(fd) || send_all(fd, out + sent, 1) != 1)
                        break;
                sent++;
        }
        *took = now_ms() - t0;
        return sent;
}

/* -N: count connections, each sent the bytes and held for hold ms. */
static void many(const struct sockaddr_un *sa, unsigned long count,
                 unsigned long hold)
{
        struct pollfd *pfd = calloc(count, sizeof(*pfd));
        uint8_t(*got)[TB_FRAME_HEADER + TB_RESPONSE_HEADER] =
            calloc(count, sizeof(*got));
        size_t *have = calloc(count, sizeof(*have));
        unsigned long busy = 0, closed = 0, open = 0, live = count;
        int64_t end;

        if (pfd == NULL || got == NULL || have == NULL)
                fail("out of memory");
        for (unsigned long i = 0; i < count; i++) {
                pfd[i].fd = connect_to(sa);
                pfd[i].events = POLLIN;
                (void)send_all(pfd[i].fd, out, out_len);
        }
        printf("connected %lu\n", count);
        fflush(stdout);
        end = now_ms() + (int64_t)hold;
        while (live > 0 && now_ms() < end) {
                int r = poll(pfd, count, (int)(end - now_ms()));

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        fail("poll");
                for (unsigned long i = 0; i < count; i++) {
                        uint8_t sink[512];
                        ssize_t n;

                        if (pfd[i].fd < 0 || pfd[i].revents == 0)
                                continue;
                        n = read(pfd[i].fd, sink, sizeof(sink));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                close(pfd[i].fd);
                                pfd[i].fd = -1; /* poll skips it */
                                live--;
                                continue;
                        }
                        for (ssize_t k = 0; k < n && have[i] < sizeof(got[i]);
                             k++)
                                got[i][have[i]++] = sink[k];
                }
        }
        for (unsigned long i = 0; i < count; i++) {
                if (have[i] == sizeof(got[i]) &&
                    be(got[i] + TB_FRAME_HEADER + 7, 2) == TB_ST_BUSY)
                        busy++;
                else if (pfd[i].fd < 0)
                        closed++;
                else if (have[i] == 0)
                        open++;
                else
                        closed++; /* an answer, not BUSY: count it closed */
                if (pfd[i].fd >= 0)
                        close(pfd[i].fd);
        }
        printf("conns busy=%lu closed=%lu open=%lu\n", busy, closed, open);
        free(pfd);
        free(got);
        free(have);
}

int main(int argc, char **argv)
{
        struct sockaddr_un sa;
        const char *origin = NULL, *reg = NULL;
        unsigned long partial = (unsigned long)-1, hold = 0, n = 0,
                      timeout = 5000, trickle_ms = 0, count = 0;
        int64_t took;
        uint32_t id = 1;
        int64_t clock = -1;
        int c, hangup = 0, fd;
        size_t sent;

        if (sodium_init() < 0)
                fail("sodium_init");
        while ((c = getopt(argc, argv, "x:R:o:i:C:p:cH:n:t:T:N:")) != -1) {
                switch (c) {
                case 'x':
                        add_hex(optarg);
                        break;
                case 'R':
                        reg = optarg;
                        break;
                case 'o':
                        origin = optarg;
                        break;
                case 'i':
                        id = (uint32_t)number(optarg);
                        break;
                case 'C':
                        clock = (int64_t)number(optarg);
                        break;
                case 'p':
                        partial = number(optarg);
                        break;
                case 'c':
                        hangup = 1;
                        break;
                case 'H':
                        hold = number(optarg);
                        break;
                case 'n':
                        n = number(optarg);
                        break;
                case 't':
                        timeout = number(optarg);
                        break;
                case 'T':
                        trickle_ms = number(optarg);
                        break;
                case 'N':
                        count = number(optarg);
                        break;
                default:
                        usage();
                }
        }
        if (optind + 1 != argc)
                usage();
        if (reg != NULL)
                add_register(reg, origin, id, clock);
        if (partial < out_len)
                out_len = partial;
        if (strlen(argv[optind]) >= sizeof(sa.sun_path))
                fail("socket path too long");
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, argv[optind], strlen(argv[optind]) + 1);
        if (count > 0) {
                many(&sa, count, hold);
                return 0;
        }
        fd = connect_to(&sa);
        if (trickle_ms > 0) {
                sent = trickle(fd, trickle_ms, &took);
                printf("trickled %zu bytes in %lld ms\n", sent,
                       (long long)took);
        } else {
                sent = send_all(fd, out, out_len);
                printf("sent %zu\n", sent);
        }
        fflush(stdout);
        if (hangup) {
                close(fd);
                return 0;
        }
        if (hold > 0)
                sleep_ms(hold);
        read_responses(fd, n, timeout);
        close(fd);
        return 0;
}
