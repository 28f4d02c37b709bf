/*
 * client/cli_write.c - the ledger writes: each handler fills the body of
 * its entry; cli_write_submit signs it with the terminal's key, submits it
 * and prints the result, the same for every kind.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_write_options(struct cli *cli, const struct cli_args *a)
{
        struct cli_write *w = &cli->write;
        const char *id = a->value[CLI_OPT_REQUEST_ID];
        const char *note = a->value[CLI_OPT_NOTE];
        size_t n;

        w->key = a->value[CLI_OPT_KEY];
        w->log_key = a->value[CLI_OPT_LOG_KEY];
        if (id != NULL) {
                if (strlen(id) != 2 * TB_REQUEST_ID_SIZE ||
                    sodium_hex2bin(w->request_id, TB_REQUEST_ID_SIZE, id,
                                   strlen(id), NULL, &n, NULL) != 0 ||
                    n != TB_REQUEST_ID_SIZE)
                        cli_die(TB_EXIT_USAGE,
                                "--request-id must be %d hex digits",
                                2 * TB_REQUEST_ID_SIZE);
        } else {
                /* made now, so that everything derived from it (a service's
                 * default end) is known before the entry is built */
                tb_client_request_id(w->request_id);
        }
        w->have_request_id = 1;
        if (note != NULL && tb_note_text_check(note, strlen(note)) != TB_OK)
                cli_die(TB_EXIT_USAGE, "--note: %s",
                        tb_strerror(TB_E_NOTE_TEXT));
        w->note = note;
}

/* The --note, checked by cli_write_options, into an entry's note field. */
static void write_note(const struct cli *cli, char dst[TB_NOTE_MAX + 1])
{
        if (cli->write.note != NULL)
                memcpy(dst, cli->write.note, strlen(cli->write.note) + 1);
}

/* Sign and submit e (header filled here), print the result. */
static int write_submit(struct cli *cli, struct tb_entry *e, unsigned kind)
{
        const struct tb_write_result *res = &cli->resp->u.write;
        const struct cli_write *w = &cli->write;
        struct tb_skey *k;
        struct tb_vkey v, log;
        enum tb_err err;

        /* signed for the pinned ledger's origin, never for whatever origin
         * the socket reports: a rogue daemon gets no signature valid on
         * the real ledger */
        cli_trust_need(w->log_key, "a write", &log);
        /* reach the daemon before the secret is in memory: fewer exits
         * that must wipe it */
        cli_call_connect(cli);
        tb_client_pin(cli->conn, &log);
        k = cli_key_secret(w->key);
        tb_skey_public(k, &v);
        tb_client_entry_init(e, kind, v.pk,
                             w->have_request_id ? w->request_id : NULL);
        sodium_bin2hex(cli->request_id, sizeof(cli->request_id), e->request_id,
                       TB_REQUEST_ID_SIZE);
        if ((err = tb_entry_check(e)) != TB_OK) {
                tb_skey_free(k);
                cli_die(TB_EXIT_USAGE, "invalid %s: %s", tb_kind_name(kind),
                        tb_strerror(err));
        }
        err = tb_client_submit(cli->conn, e, k, cli->resp);
        tb_skey_free(k);
        if (err == TB_E_UNTRUSTED)
                cli_trust_untrusted(cli, &log);
        if (err != TB_OK)
                cli_call_fail(cli, err);
        cli_call_check(cli, 1);

        const struct cli_out_field f[] = {
            CLI_STR("status", tb_status_name(cli->resp->status)),
            CLI_U64("seq", res->seq),
            CLI_I64("points", res->points),
            CLI_U64("balance", res->balance),
            CLI_STR("request_id", cli->request_id),
            CLI_TEXT_STR("kind", tb_kind_name(kind)),
            CLI_TEXT_STR("verdict", cli->resp->status == TB_ST_DUPLICATE
                                        ? "already recorded (DUPLICATE), "
                                          "original"
                                        : "recorded as"),
        };
        CLI_OUT(cli, f,
                "{kind}: {verdict} seq {seq}{?points}, points {points:+}, "
                "balance {balance}{/} (request id {request_id})\n");
        return TB_EXIT_OK;
}

static uint8_t write_roles(const char *s)
{
        uint8_t roles = 0;
        char buf[64], *tok, *save = NULL;

        if (strlen(s) >= sizeof(buf))
                cli_die(TB_EXIT_USAGE, "--role: too long");
        memcpy(buf, s, strlen(s) + 1);
        for (tok = strtok_r(buf, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save)) {
                if (strcmp(tok, "record") == 0)
                        roles |= TB_ROLE_RECORD;
                else if (strcmp(tok, "redeem") == 0)
                        roles |= TB_ROLE_REDEEM;
                else if (strcmp(tok, "admin") == 0)
                        roles |= TB_ROLE_ADMIN;
                else
                        cli_die(TB_EXIT_USAGE,
                                "--role: unknown role '%s' (record, redeem, "
                                "admin)",
                                tok);
        }
        if (roles == 0)
                cli_die(TB_EXIT_USAGE,
                        "--role: give at least one of record, redeem, admin");
        return roles;
}

/*
 * ISO 8601: YYYY-MM-DDTHH:MM[:SS] followed by Z, +HH:MM or -HH:MM; without
 * a zone the terminal's local time is meant.
 */
static int64_t write_time(const char *s)
{
        struct tm tm;
        int y, mo, d, h, mi, sec = 0, n = 0, oh = 0, om = 0;
        char sign = 0;
        time_t t;

        memset(&tm, 0, sizeof(tm));
        if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi,
                   &n) != 5)
                goto bad;
        s += n;
        if (*s == ':') {
                if (sscanf(s, ":%2d%n", &sec, &n) != 1)
                        goto bad;
                s += n;
        }
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
            sec > 60)
                goto bad;
        if (*s == 0) {
                tm.tm_isdst = -1;
                t = mktime(&tm);
        } else if (strcmp(s, "Z") == 0) {
                t = timegm(&tm);
        } else if (sscanf(s, "%c%2d:%2d%n", &sign, &oh, &om, &n) == 3 &&
                   s[n] == 0 && (sign == '+' || sign == '-') && oh < 24 &&
                   om < 60) {
                t = timegm(&tm);
                t += (sign == '+' ? -1 : 1) * (oh * 3600 + om * 60);
        } else {
                goto bad;
        }
        if (t < 0 || (int64_t)t > TB_TIME_MAX)
                goto bad;
        return (int64_t)t;
bad:
        cli_die(TB_EXIT_USAGE,
                "--start '%s': expected ISO 8601 such as 2026-11-23T09:30Z, "
                "2026-11-23T09:30+08:00 or 2026-11-23T09:30 (local time)",
                s);
}

int cli_write_enroll(struct cli *cli, const struct cli_args *a)
{
        struct tb_entry e;
        struct tb_vkey v;
        uint8_t roles = write_roles(a->value[CLI_OPT_ROLE]);

        cli_key_public(a->argv[0], &v);
        memset(&e, 0, sizeof(e));
        memcpy(e.u.enroll.key, v.pk, TB_PUBKEY_SIZE);
        e.u.enroll.roles = roles;
        memcpy(e.u.enroll.name, v.name, v.name_len + 1);
        return write_submit(cli, &e, TB_KIND_ENROLL);
}

int cli_write_revoke(struct cli *cli, const struct cli_args *a)
{
        struct tb_entry e;
        struct tb_vkey v;

        cli_key_public(a->argv[0], &v);
        memset(&e, 0, sizeof(e));
        memcpy(e.u.revoke.key, v.pk, TB_PUBKEY_SIZE);
        write_note(cli, e.u.revoke.note);
        return write_submit(cli, &e, TB_KIND_REVOKE);
}

int cli_write_policy(struct cli *cli, const struct cli_args *a)
{
        static const struct {
                enum cli_opt opt;
                unsigned set;
        } sets[] = {
            {CLI_OPT_POINTS_PER_HOUR, TB_POLICY_RATE},
            {CLI_OPT_DAILY_MINUTES_CAP, TB_POLICY_DAILY_CAP},
            {CLI_OPT_MAX_BALANCE, TB_POLICY_MAX_BALANCE},
        };
        struct tb_entry e;
        struct tb_policy *p = &e.u.policy;
        const char *activity = a->value[CLI_OPT_ACTIVITY];

        memset(&e, 0, sizeof(e));
        for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
                if (a->value[sets[i].opt] != NULL)
                        p->set |= sets[i].set;
        if (p->set == 0)
                return TB_EXIT_USAGE;
        p->points_per_hour = (uint32_t)a->num[CLI_OPT_POINTS_PER_HOUR];
        p->daily_minutes_cap = (uint16_t)a->num[CLI_OPT_DAILY_MINUTES_CAP];
        p->max_balance = a->num[CLI_OPT_MAX_BALANCE];
        if (activity != NULL) {
                if (!(p->set & TB_POLICY_RATE))
                        cli_die(TB_EXIT_USAGE,
                                "--activity needs --points-per-hour");
                cli_args_copy(p->activity, sizeof(p->activity), "--activity",
                              activity, tb_code_check);
        }
        return write_submit(cli, &e, TB_KIND_POLICY);
}

int cli_write_register(struct cli *cli, const struct cli_args *a)
{
        struct tb_entry e;

        memset(&e, 0, sizeof(e));
        cli_args_copy(e.u.reg.account, sizeof(e.u.reg.account), "account",
                      a->argv[0], tb_account_check);
        return write_submit(cli, &e, TB_KIND_REGISTER);
}

int cli_write_record(struct cli *cli, const struct cli_args *a)
{
        struct tb_entry e;
        struct tb_service *s = &e.u.service;
        const char *start = a->value[CLI_OPT_START];

        memset(&e, 0, sizeof(e));
        s->minutes = (uint16_t)a->num[CLI_OPT_MINUTES];
        if (a->value[CLI_OPT_ACTIVITY] != NULL)
                cli_args_copy(s->activity, sizeof(s->activity), "--activity",
                              a->value[CLI_OPT_ACTIVITY], tb_code_check);
        cli_args_copy(s->account, sizeof(s->account), "account", a->argv[0],
                      tb_account_check);
        /* Without --start the service ended when its request id was
         * made: the id carries that time, so repeating the command with
         * the same --request-id, however much later, builds the same
         * entry (a DUPLICATE, never a second credit). */
        if (start != NULL) {
                s->start = write_time(start);
        } else {
                int64_t made_ms;
                if (!tb_request_id_time(cli->write.request_id, &made_ms))
                        cli_die(TB_EXIT_USAGE,
                                "--request-id %s carries no time (it was not "
                                "made by timebank): give --start too, so "
                                "that a retry is the same request",
                                a->value[CLI_OPT_REQUEST_ID]);
                s->start = made_ms / 1000 - 60 * (int64_t)s->minutes;
        }
        write_note(cli, s->note);
        return write_submit(cli, &e, TB_KIND_SERVICE);
}

int cli_write_redeem(struct cli *cli, const struct cli_args *a)
{
        struct tb_entry e;
        struct tb_redeem *r = &e.u.redeem;

        memset(&e, 0, sizeof(e));
        r->points = (uint32_t)a->num[CLI_OPT_POINTS];
        cli_args_copy(r->item, sizeof(r->item), "--item",
                      a->value[CLI_OPT_ITEM], tb_code_check);
        cli_args_copy(r->account, sizeof(r->account), "account", a->argv[0],
                      tb_account_check);
        write_note(cli, r->note);
        return write_submit(cli, &e, TB_KIND_REDEEM);
}

int cli_write_transfer(struct cli *cli, const struct cli_args *a)
{
        struct tb_entry e;
        struct tb_transfer *t = &e.u.transfer;

        memset(&e, 0, sizeof(e));
        t->points = (uint32_t)a->num[CLI_OPT_POINTS];
        cli_args_copy(t->from, sizeof(t->from), "source account", a->argv[0],
                      tb_account_check);
        cli_args_copy(t->to, sizeof(t->to), "destination account", a->argv[1],
                      tb_account_check);
        if (strcmp(t->from, t->to) == 0)
                cli_die(TB_EXIT_USAGE,
                        "a transfer needs two different accounts");
        write_note(cli, t->note);
        return write_submit(cli, &e, TB_KIND_TRANSFER);
}

int cli_write_reverse(struct cli *cli, const struct cli_args *a)
{
        struct tb_entry e;

        memset(&e, 0, sizeof(e));
        e.u.reverse.seq = cli_args_u64("SEQ", a->argv[0], 1, TB_SEQ_MAX);
        write_note(cli, e.u.reverse.note);
        return write_submit(cli, &e, TB_KIND_REVERSE);
}
