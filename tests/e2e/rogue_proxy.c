/*
 * tests/e2e/rogue_proxy.c - a rogue socket for e2e_rogue_socket: it sits
 * in front of a real timebankd and forwards every request (so STATUS
 * names the real origin and log key, and every checkpoint and proof is
 * genuinely signed), but tampers with one kind of answer:
 *
 *   rogue_proxy LISTEN REAL MODE
 *
 *   ctl    CHECKPOINT answers carry terminal control bytes (an ESC
 *          sequence that clears the screen) inside the note
 *   index  INCLUSION of entry i is answered with the real proof of entry
 *          i + 1: valid and signed, but not the one asked for
 *   size   INCLUSION at size N is answered at the latest size instead
 *   cosig  CHECKPOINT and INCLUSION answers carry one more signature
 *          line, of an unknown signer whose name holds a C1 control
 *          (U+009B, CSI): the log's signature still verifies
 *
 * One client connection at a time, until killed.  Built on the project's
 * own codecs and libtimebank, so what it sends is well-formed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "frame.h"
#include "timebank.h"

#define PROXY_CTL "\x1b[2J\x1b[H"
#define PROXY_COSIG                                                            \
        "\xe2\x80\x94 w\xc2\x9b"                                               \
        "2J AAAAAAAA\n"

static const char *proxy_mode;

/* Tamper with q before it is forwarded, as the mode says. */
static void proxy_request(struct tb_request *q)
{
        if (q->type != TB_MSG_INCLUSION)
                return;
        if (strcmp(proxy_mode, "index") == 0)
                q->u.inclusion.index++;
        else if (strcmp(proxy_mode, "size") == 0)
                q->u.inclusion.size = 0;
}

/* Answer one decoded request q on fd with what the real daemon says. */
static int proxy_answer(int fd, struct tb_client *real, struct tb_request *q,
                        struct tb_response *r)
{
        static uint8_t out[TB_FRAME_HEADER + TB_FRAME_MAX];
        static uint8_t note[TB_FRAME_MAX];
        uint32_t id = q->id;
        uint16_t type = q->type;
        size_t len;

        proxy_request(q);
        if (tb_client_call(real, q, r) != TB_OK)
                return -1;
        r->id = id;
        r->type = type;
        if (type == TB_MSG_CHECKPOINT && strcmp(proxy_mode, "ctl") == 0 &&
            r->u.checkpoint.note_len + strlen(PROXY_CTL) < sizeof(note)) {
                /* before the origin line: the note no longer parses */
                size_t n = r->u.checkpoint.note_len, k = strlen(PROXY_CTL);
                memcpy(note, PROXY_CTL, k);
                memcpy(note + k, r->u.checkpoint.note, n);
                r->u.checkpoint.note = note;
                r->u.checkpoint.note_len = n + k;
        }
        if (strcmp(proxy_mode, "cosig") == 0 &&
            (type == TB_MSG_CHECKPOINT || type == TB_MSG_INCLUSION)) {
                const uint8_t **p = type == TB_MSG_CHECKPOINT
                                        ? &r->u.checkpoint.note
                                        : &r->u.proof.checkpoint;
                size_t *n = type == TB_MSG_CHECKPOINT
                                ? &r->u.checkpoint.note_len
                                : &r->u.proof.checkpoint_len;
                size_t k = strlen(PROXY_COSIG);
                if (*n > 0 && *n + k < sizeof(note)) {
                        memcpy(note, *p, *n);
                        memcpy(note + *n, PROXY_COSIG, k);
                        *p = note;
                        *n += k;
                }
        }
        if (tb_response_encode(r, out + TB_FRAME_HEADER, TB_FRAME_MAX, &len) !=
                TB_OK ||
            tb_frame_header(len, out) != TB_OK)
                return -1;
        len += TB_FRAME_HEADER;
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, out + off, len - off);
                if (w <= 0)
                        return -1;
                off += (size_t)w;
        }
        return 0;
}

static void proxy_serve(int fd, const char *real_path)
{
        static uint8_t buf[TB_FRAME_MAX], in[4096];
        struct tb_frame_decoder d;
        struct tb_client *real = NULL;
        struct tb_response *r = malloc(sizeof(*r));
        ssize_t got;

        if (r == NULL ||
            tb_frame_decoder_init(&d, buf, TB_FRAME_MAX) != TB_OK ||
            tb_client_connect(real_path, 10000, &real) != TB_OK)
                goto done;
        while ((got = read(fd, in, sizeof(in))) > 0) {
                size_t off = 0;
                while (off < (size_t)got) {
                        const uint8_t *frame;
                        size_t used, flen;
                        struct tb_request q;
                        if (tb_frame_decoder_feed(&d, in + off,
                                                  (size_t)got - off, &used,
                                                  &frame, &flen) != TB_OK)
                                goto done;
                        off += used;
                        if (frame == NULL)
                                continue;
                        if (tb_request_decode(frame, flen, &q) != TB_OK ||
                            proxy_answer(fd, real, &q, r) != 0)
                                goto done;
                }
        }
done:
        tb_client_close(real);
        free(r);
}

int main(int argc, char **argv)
{
        struct sockaddr_un a;
        int ls;

        if (argc != 4) {
                fprintf(stderr,
                        "usage: rogue_proxy LISTEN REAL ctl|index|size\n");
                return 2;
        }
        proxy_mode = argv[3];
        memset(&a, 0, sizeof(a));
        a.sun_family = AF_UNIX;
        if (strlen(argv[1]) >= sizeof(a.sun_path))
                return 2;
        memcpy(a.sun_path, argv[1], strlen(argv[1]) + 1);
        ls = socket(AF_UNIX, SOCK_STREAM, 0);
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 ||
            listen(ls, 8) != 0) {
                perror("rogue_proxy");
                return 1;
        }
        for (;;) {
                int fd = accept(ls, NULL, NULL);
                if (fd < 0)
                        continue;
                proxy_serve(fd, argv[2]);
                close(fd);
        }
}
