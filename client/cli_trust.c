/*
 * client/cli_trust.c - the log key the client trusts, pinned on the
 * client's side and never taken from the socket: --log-key FILE, else
 * $TIMEBANK_LOG_KEY, else the first of $XDG_CONFIG_HOME/timebank/log.pub
 * (~/.config when unset) and /etc/timebank/log.pub that exists
 * (docs/cli.md, "Trust").  A write is signed for the pinned key's origin,
 * and proofs say "verified" only against it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define TRUST_SYSTEM "/etc/timebank/log.pub"

/* The config file under $XDG_CONFIG_HOME (or ~/.config) into buf. */
static const char *trust_user_path(char *buf, size_t cap)
{
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        int n;

        if (xdg != NULL && xdg[0] == '/')
                n = snprintf(buf, cap, "%s/timebank/log.pub", xdg);
        else if (home != NULL && home[0] == '/')
                n = snprintf(buf, cap, "%s/.config/timebank/log.pub", home);
        else
                return NULL;
        return n > 0 && (size_t)n < cap ? buf : NULL;
}

int cli_trust_key(const char *path, struct tb_vkey *v, const char **from)
{
        static char user[PATH_MAX];
        const char *env = getenv("TIMEBANK_LOG_KEY");

        if (path == NULL && env != NULL && env[0] != 0)
                path = env;
        if (path == NULL) {
                const char *u = trust_user_path(user, sizeof(user));
                if (u != NULL && access(u, F_OK) == 0)
                        path = u;
                else if (access(TRUST_SYSTEM, F_OK) == 0)
                        path = TRUST_SYSTEM;
        }
        if (path == NULL)
                return 0;
        cli_key_public(path, v);
        if (from != NULL)
                *from = path;
        return 1;
}

void cli_trust_need(const char *path, const char *why, struct tb_vkey *v)
{
        if (!cli_trust_key(path, v, NULL))
                cli_die(
                    TB_EXIT_USAGE,
                    "%s needs the ledger's log key pinned: give "
                    "--log-key LOG.pub, set TIMEBANK_LOG_KEY, or install "
                    "it as $XDG_CONFIG_HOME/timebank/log.pub or " TRUST_SYSTEM
                    " (see timebank(1), TRUST)",
                    why);
}

void cli_trust_untrusted(struct cli *cli, const struct tb_vkey *v)
{
        const struct tb_status_info *s = &cli->resp->u.status;
        char pinned[TB_VKEY_MAX];
        size_t n;

        if (tb_vkey_format(v, pinned, sizeof(pinned), &n) != TB_OK)
                snprintf(pinned, sizeof(pinned), "%s", v->name);
        cli_call_type(cli, TB_MSG_STATUS);
        cli_die(TB_EXIT_UNTRUSTED,
                "the daemon at %s is not the pinned ledger: it reports "
                "origin '%s' and log key %s, the pinned log key is %s; "
                "nothing was signed or sent",
                cli->socket, s->origin, s->log_key, pinned);
}

/* 1 if every line of p[0..len) is clean text (tb_text_clean). */
int cli_trust_clean(const uint8_t *p, size_t len)
{
        while (len > 0) {
                const uint8_t *nl = memchr(p, '\n', len);
                size_t n = nl != NULL ? (size_t)(nl - p) : len;
                if (!tb_text_clean((const char *)p, n))
                        return 0;
                if (nl == NULL)
                        break;
                p += n + 1;
                len -= n + 1;
        }
        return 1;
}
