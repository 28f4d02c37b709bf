/*
 * client/cli_call.c - one request to the daemon and its verdict.  Every
 * failure exits with the status docs/cli.md gives it; a write whose fate
 * is unknown names its request id, the way to retry it safely.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_call_connect(struct cli *cli)
{
        enum tb_err err;

        if (cli->conn != NULL)
                return;
        err = tb_client_connect(cli->socket, cli->timeout_ms, &cli->conn);
        if (err == TB_E_CONNECT)
                cli_die(TB_EXIT_UNREACHABLE,
                        "cannot reach timebankd at %s: %s. Is the daemon "
                        "running? Use -s SOCKET or set TIMEBANK_SOCKET.",
                        cli->socket, strerror(errno));
        if (err != TB_OK)
                cli_die(TB_EXIT_UNREACHABLE, "cannot connect to %s: %s",
                        cli->socket, tb_strerror(err));
}

/* For a write whose fate is unknown or refused: how to retry it safely. */
static void call_retry_hint(const struct cli *cli)
{
        if (cli->request_id[0] != 0)
                fprintf(stderr,
                        "%s: the request id was %s: to retry, repeat the "
                        "command with --request-id %s (never recorded "
                        "twice)\n",
                        CLI_PROG, cli->request_id, cli->request_id);
}

void cli_call_fail(struct cli *cli, enum tb_err err)
{
        int code = err == TB_E_CLOSED || err == TB_E_TIMEOUT
                       ? TB_EXIT_UNREACHABLE
                       : TB_EXIT_OTHER;

        fprintf(stderr, "%s: %s timebankd at %s: %s\n", CLI_PROG,
                code == TB_EXIT_UNREACHABLE ? "lost" : "talking to",
                cli->socket, tb_strerror(err));
        call_retry_hint(cli);
        exit(code);
}

void cli_call(struct cli *cli, struct tb_request *q)
{
        enum tb_err err;

        cli_call_connect(cli);
        if ((err = tb_client_call(cli->conn, q, cli->resp)) != TB_OK)
                cli_call_fail(cli, err);
        cli_call_check(cli, 0);
}

void cli_call_type(struct cli *cli, unsigned type)
{
        struct tb_request q;

        memset(&q, 0, sizeof(q));
        q.type = (uint16_t)type;
        cli_call(cli, &q);
}

void cli_call_check(struct cli *cli, int allow_duplicate)
{
        const struct tb_response *r = cli->resp;
        const char *name = tb_status_name(r->status);
        int code = tb_status_class(r->status) == TB_STC_REFUSED
                       ? TB_EXIT_REFUSED
                       : TB_EXIT_OTHER;

        if (r->status == TB_ST_OK ||
            (allow_duplicate && r->status == TB_ST_DUPLICATE))
                return;
        if (name == NULL)
                name = "UNKNOWN";

        const struct cli_out_field f[] = {
            CLI_STR("status", name), CLI_U64("code", r->status),
            CLI_BYTES("message", r->message, r->message_len),
            CLI_STR("request_id", cli->request_id), /* a write's only */
        };
        /* on standard output only with --json: the text is an error */
        cli_out_print(cli->json, f, cli->request_id[0] != 0 ? 4 : 3, "");
        fprintf(stderr, "%s: %s: %s", CLI_PROG, name,
                tb_status_message(r->status));
        if (r->message_len > 0)
                fprintf(stderr, " (%.*s)", (int)r->message_len, r->message);
        fputc('\n', stderr);
        /* a refusal is remembered: a retry gets the same answer, so the
         * hint matters for transient statuses only */
        if (tb_status_class(r->status) == TB_STC_TRANSIENT)
                call_retry_hint(cli);
        exit(code);
}

size_t cli_read_file(const char *path, const char *what, uint8_t *buf,
                     size_t cap, int code)
{
        FILE *f = fopen(path, "rb");
        size_t n;

        if (f == NULL)
                cli_die(code, "cannot read %s: %s", path, strerror(errno));
        n = fread(buf, 1, cap, f);
        if (ferror(f) || (n == cap && fgetc(f) != EOF)) {
                fclose(f);
                cli_die(code,
                        "%s: not %s (unreadable or larger than %zu bytes)",
                        path, what, cap);
        }
        fclose(f);
        return n;
}

void cli_write_new_file(const char *path, const uint8_t *p, size_t n)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        size_t off = 0;

        if (fd < 0)
                cli_die(TB_EXIT_OTHER, "cannot create %s: %s%s", path,
                        strerror(errno),
                        errno == EEXIST ? " (refusing to overwrite it)" : "");
        while (off < n) {
                ssize_t w = write(fd, p + off, n - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        close(fd);
                        unlink(path);
                        cli_die(TB_EXIT_OTHER, "writing %s: %s", path,
                                strerror(errno));
                }
                off += (size_t)w;
        }
        if (fsync(fd) != 0 || close(fd) != 0) {
                unlink(path);
                cli_die(TB_EXIT_OTHER, "writing %s: %s", path, strerror(errno));
        }
}
