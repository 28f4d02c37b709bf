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
                "SOCKET\n");
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

int main(int argc, char **argv)
{
        struct sockaddr_un sa;
        const char *origin = NULL, *reg = NULL;
        unsigned long partial = (unsigned long)-1, hold = 0, n = 0,
                      timeout = 5000;
        uint32_t id = 1;
        int64_t clock = -1;
        int c, hangup = 0, fd;
        size_t sent = 0;

        if (sodium_init() < 0)
                fail("sodium_init");
        while ((c = getopt(argc, argv, "x:R:o:i:C:p:cH:n:t:")) != -1) {
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
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                fail("cannot connect");
        while (sent < out_len) {
                ssize_t w = send(fd, out + sent, out_len - sent, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        break; /* the daemon may hang up mid-way: report it */
                sent += (size_t)w;
        }
        printf("sent %zu\n", sent);
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
