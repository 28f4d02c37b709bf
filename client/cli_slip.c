/*
 * client/cli_slip.c - the paper a volunteer keeps: a receipt as a slip of
 * 32 columns (a 58 mm receipt printer's line in its standard font) saying
 * who, what, when, points, balance, seq and the log, and the receipt
 * itself as a QR code, so the proof outlives the platform that made it
 * (docs/receipts.md, "The slip").  The QR code holds the whole receipt
 * file, byte for byte: scanning it gives back a file that
 * `timebank verify-receipt` checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "png.h"
#include "receipt.h"

#define SLIP_COLS  32  /* the whole slip's width, in columns */
#define SLIP_LABEL 9   /* "balance " and a space */
#define SLIP_QUIET 4   /* the QR code's quiet zone, in modules */
#define SLIP_DOTS  384 /* a 58 mm printer's line: 32 columns of 12 dots */

/* "label    value", the value wrapped at SLIP_COLS (all of it ASCII). */
static void slip_line(const char *label, const char *value)
{
        size_t n = strlen(value), room = SLIP_COLS - SLIP_LABEL;

        do {
                size_t k = n < room ? n : room;
                printf("%-*s%.*s\n", SLIP_LABEL, label, (int)k, value);
                label = "";
                value += k;
                n -= k;
        } while (n > 0);
}

static void slip_rule(char c)
{
        for (int i = 0; i < SLIP_COLS; i++)
                putchar(c);
        putchar('\n');
}

/* The account the slip is for and what the entry did, in ASCII. */
static const char *slip_what(const struct tb_entry *e, char *out, size_t cap)
{
        switch (e->kind) {
        case TB_KIND_REGISTER:
                snprintf(out, cap, "account opened");
                return e->u.reg.account;
        case TB_KIND_SERVICE:
                snprintf(out, cap, "%u min of %s", e->u.service.minutes,
                         e->u.service.activity[0] ? e->u.service.activity
                                                  : "service");
                return e->u.service.account;
        case TB_KIND_REDEEM:
                snprintf(out, cap, "redeemed for %s", e->u.redeem.item);
                return e->u.redeem.account;
        case TB_KIND_TRANSFER:
                snprintf(out, cap, "transfer to %s", e->u.transfer.to);
                return e->u.transfer.from;
        case TB_KIND_REVERSE:
                snprintf(out, cap, "reversal of seq %" PRIu64,
                         e->u.reverse.seq);
                return "";
        default:
                snprintf(out, cap, "%s", tb_kind_name(e->kind));
                return "";
        }
}

/*
 * The points the entry moved on account and the balance after it, as
 * the ledger reports them (the account's history at seq); 0 if it has
 * none there.
 */
static int slip_points(struct cli *cli, const char *account, uint64_t seq,
                       int64_t *delta, uint64_t *balance)
{
        const struct tb_history *h = &cli->resp->u.history;
        struct tb_request q;

        if (account[0] == 0)
                return 0;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_HISTORY;
        memcpy(q.u.history.account, account, strlen(account) + 1);
        q.u.history.before = seq + 1;
        q.u.history.limit = 1;
        cli_call(cli, &q);
        if (h->count != 1 || h->items[0].seq != seq)
                return 0;
        *delta = h->items[0].delta;
        *balance = h->items[0].balance_after;
        return 1;
}

/* The QR code of the receipt: level M if it fits, else L. */
static QRcode *slip_qr(const uint8_t *text, size_t len)
{
        QRcode *qr = QRcode_encodeData((int)len, text, 0, QR_ECLEVEL_M);

        if (qr == NULL)
                qr = QRcode_encodeData((int)len, text, 0, QR_ECLEVEL_L);
        if (qr == NULL)
                cli_die(TB_EXIT_OTHER,
                        "the receipt (%zu bytes) does not fit a QR code: %s",
                        len, strerror(errno));
        return qr;
}

/* 1 if module (x, y), quiet zone included, is dark. */
static int slip_dark(const QRcode *qr, int x, int y)
{
        x -= SLIP_QUIET;
        y -= SLIP_QUIET;
        return x >= 0 && y >= 0 && x < qr->width && y < qr->width &&
               (qr->data[y * qr->width + x] & 1);
}

/* Two rows of modules a line: upper half, lower half, both, none. */
static void slip_qr_text(const QRcode *qr)
{
        int side = qr->width + 2 * SLIP_QUIET;

        for (int y = 0; y < side; y += 2) {
                for (int x = 0; x < side; x++) {
                        int up = slip_dark(qr, x, y);
                        int down = y + 1 < side && slip_dark(qr, x, y + 1);
                        fputs(up && down ? "\u2588"
                              : up       ? "\u2580"
                              : down     ? "\u2584"
                                         : " ",
                              stdout);
                }
                putchar('\n');
        }
}

static void slip_qr_png(const QRcode *qr, const char *path)
{
        int side = qr->width + 2 * SLIP_QUIET;
        int scale = SLIP_DOTS / side < 3 ? 3 : SLIP_DOTS / side;
        uint32_t px = (uint32_t)(side * scale);
        uint8_t *dark = malloc((size_t)px * px), *png;
        size_t len, off = 0;
        int fd;

        if (dark == NULL)
                cli_die(TB_EXIT_OTHER, "out of memory");
        for (uint32_t y = 0; y < px; y++)
                for (uint32_t x = 0; x < px; x++)
                        dark[(size_t)y * px + x] = (uint8_t)slip_dark(
                            qr, (int)x / scale, (int)y / scale);
        png = png_encode(dark, px, px, &len);
        free(dark);
        if (png == NULL)
                cli_die(TB_EXIT_OTHER, "cannot make the QR code's picture");
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                int e = errno;
                free(png);
                cli_die(TB_EXIT_OTHER, "cannot create %s: %s", path,
                        strerror(e));
        }
        while (off < len) {
                ssize_t w = write(fd, png + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        free(png);
        if (off < len || close(fd) != 0) {
                unlink(path);
                cli_die(TB_EXIT_OTHER, "writing %s: %s", path, strerror(errno));
        }
}

int cli_slip_print(struct cli *cli, const uint8_t *text, size_t len,
                   const struct tb_record *rec, const struct tb_checkpoint *cp,
                   const char *png)
{
        char what[96], when[32], num[32], bal[32];
        const char *who;
        time_t t;
        struct tm tm;
        int64_t delta = 0;
        uint64_t balance = 0;
        QRcode *qr;

        who = slip_what(&rec->entry, what, sizeof(what));
        t = (time_t)rec->received;
        if (gmtime_r(&t, &tm) == NULL ||
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm) == 0)
                snprintf(when, sizeof(when), "%" PRId64, rec->received);
        qr = slip_qr(text, len);

        slip_rule('=');
        printf("%*s\n", (SLIP_COLS + 16) / 2, "TIMEBANK RECEIPT");
        slip_rule('=');
        if (who[0] != 0)
                slip_line("who", who);
        slip_line("what", what);
        slip_line("when", when);
        if (slip_points(cli, who, rec->seq, &delta, &balance)) {
                snprintf(num, sizeof(num), "%+" PRId64, delta);
                snprintf(bal, sizeof(bal), "%" PRIu64, balance);
                slip_line("points", num);
                slip_line("balance", bal);
        }
        snprintf(num, sizeof(num), "%" PRIu64, rec->seq);
        slip_line("seq", num);
        slip_line("log", cp->origin);
        snprintf(num, sizeof(num), "%" PRIu64, cp->size);
        slip_line("log size", num);
        slip_rule('-');
        printf("The code holds this receipt:\n"
               "scan it to a file and check it\n"
               "with timebank verify-receipt\n"
               "and the log's public key.\n");
        slip_rule('-');
        if (png != NULL)
                slip_qr_png(qr, png);
        else
                slip_qr_text(qr);
        QRcode_free(qr);
        if (fflush(stdout) != 0 || ferror(stdout))
                cli_die(TB_EXIT_OTHER, "writing the slip: %s", strerror(errno));
        return TB_EXIT_OK;
}
