/*
 * client/cli_read.c - the reads: an account's balance and history, one
 * entry, the latest checkpoint (the status: cli_metrics.c).  Each builds its
 * request and prints the answer from one field list.
 */
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Room for what read_describe writes: notes and codes at their longest. */
#define READ_WHAT_MAX 512

static void read_time(int64_t t, char *out, size_t cap)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (gmtime_r(&tt, &tm) == NULL ||
            strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, cap, "%" PRId64, t);
}

/* One line describing what a record did, for people. */
static void read_describe(const struct tb_entry *e, char *out, size_t cap)
{
        char when[32];

        switch (e->kind) {
        case TB_KIND_REGISTER:
                snprintf(out, cap, "account opened");
                break;
        case TB_KIND_SERVICE:
                read_time(e->u.service.start, when, sizeof(when));
                snprintf(
                    out, cap, "%u min of %s from %s%s%s", e->u.service.minutes,
                    e->u.service.activity[0] ? e->u.service.activity
                                             : "service",
                    when, e->u.service.note[0] ? ": " : "", e->u.service.note);
                break;
        case TB_KIND_REDEEM:
                snprintf(out, cap, "redeemed for %s%s%s", e->u.redeem.item,
                         e->u.redeem.note[0] ? ": " : "", e->u.redeem.note);
                break;
        case TB_KIND_TRANSFER:
                snprintf(out, cap, "transfer %s -> %s%s%s", e->u.transfer.from,
                         e->u.transfer.to, e->u.transfer.note[0] ? ": " : "",
                         e->u.transfer.note);
                break;
        case TB_KIND_REVERSE:
                snprintf(out, cap, "reversal of seq %" PRIu64 "%s%s",
                         e->u.reverse.seq, e->u.reverse.note[0] ? ": " : "",
                         e->u.reverse.note);
                break;
        default:
                snprintf(out, cap, "%s", tb_kind_name(e->kind));
                break;
        }
}

/* A record from the daemon, decoded, with its time and description. */
struct read_record {
        struct tb_record rec;
        char when[32], what[READ_WHAT_MAX];
};

static void read_record(const uint8_t *p, size_t len, uint64_t seq,
                        struct read_record *r)
{
        if (tb_record_decode(p, len, &r->rec) != TB_OK)
                cli_die(TB_EXIT_OTHER,
                        "the daemon sent a malformed record (seq %" PRIu64 ")",
                        seq);
        read_time(r->rec.received, r->when, sizeof(r->when));
        read_describe(&r->rec.entry, r->what, sizeof(r->what));
}

int cli_read_balance(struct cli *cli, const struct cli_args *a)
{
        const struct tb_balance_info *b = &cli->resp->u.balance;
        struct tb_request q;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_BALANCE;
        cli_args_copy(q.u.balance.account, sizeof(q.u.balance.account),
                      "account", a->argv[0], tb_account_check);
        cli_call(cli, &q);

        const struct cli_out_field f[] = {
            CLI_STR("account", b->account),
            CLI_U64("balance", b->balance),
            CLI_U64("earned", b->earned),
            CLI_U64("redeemed", b->redeemed),
            CLI_U64("transferred_in", b->transferred_in),
            CLI_U64("transferred_out", b->transferred_out),
            CLI_U64("minutes", b->minutes),
            CLI_U64("entries", b->entries),
            CLI_U64("opened_seq", b->opened_seq),
            CLI_U64("last_seq", b->last_seq),
            CLI_TEXT_U64("hours", b->minutes / 60),
            CLI_TEXT_U64("hour_minutes", b->minutes % 60),
        };
        CLI_OUT(cli, f,
                "account         {account}\n"
                "balance         {balance} points\n"
                "earned          {earned} points for {minutes} minutes "
                "({hours}h{hour_minutes:02}) of service\n"
                "redeemed        {redeemed} points\n"
                "transferred in  {transferred_in} points\n"
                "transferred out {transferred_out} points\n"
                "entries         {entries} (opened at seq {opened_seq}, "
                "last seq {last_seq})\n");
        return TB_EXIT_OK;
}

/* The history's rows: the items, and the text of the row printed. */
struct read_history {
        const struct tb_history *h;
        struct read_record r;
};

static size_t read_history_row_cb(void *ctx, size_t i,
                                  struct cli_out_field *row)
{
        struct read_history *rh = ctx;
        const struct tb_history_item *it = &rh->h->items[i];
        const struct read_record *r = &rh->r;

        read_record(it->record, it->record_len, it->seq, &rh->r);

        const struct cli_out_field f[] = {
            CLI_U64("seq", it->seq),
            CLI_STR("kind", tb_kind_name(r->rec.entry.kind)),
            CLI_STR("received", r->when),
            CLI_I64("points", it->delta),
            CLI_U64("balance", it->balance_after),
            CLI_STR("what", r->what),
            CLI_B64("record", it->record, it->record_len),
        };
        _Static_assert(sizeof(f) / sizeof(f[0]) <= CLI_OUT_ROW_MAX, "row");
        memcpy(row, f, sizeof(f));
        return sizeof(f) / sizeof(f[0]);
}

int cli_read_history(struct cli *cli, const struct cli_args *a)
{
        const struct tb_history *h = &cli->resp->u.history;
        struct read_history rh = {.h = h};
        struct tb_request q;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_HISTORY;
        cli_args_copy(q.u.history.account, sizeof(q.u.history.account),
                      "account", a->argv[0], tb_account_check);
        q.u.history.before = TB_SEQ_LATEST;
        q.u.history.limit = a->value[CLI_OPT_LIMIT] != NULL
                                ? (uint16_t)a->num[CLI_OPT_LIMIT]
                                : 20;
        cli_call(cli, &q);

        const struct cli_out_field f[] = {
            CLI_STR("account", q.u.history.account),
            CLI_U64("next_before", h->next_before),
            CLI_ROWS("entries", h->count, read_history_row_cb, &rh,
                     "{seq:8}  {received:-20}  {kind:-8}  {points:+8}  "
                     "{balance:8}  {what}\n"),
        };
        CLI_OUT(cli, f,
                "     seq  received              kind        points   balance"
                "  what\n"
                "{entries}"
                "{?next_before}(older entries exist: raise --limit)\n{/}");
        return TB_EXIT_OK;
}

int cli_read_entry(struct cli *cli, const struct cli_args *a)
{
        struct tb_request q;
        struct read_record r;
        char hex[2 * TB_PUBKEY_SIZE + 1];

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_ENTRY;
        q.u.entry.seq = cli_args_u64("SEQ", a->argv[0], 0, TB_SEQ_MAX);
        cli_call(cli, &q);
        read_record(cli->resp->u.entry.record, cli->resp->u.entry.record_len,
                    q.u.entry.seq, &r);
        sodium_bin2hex(hex, sizeof(hex), r.rec.entry.signer, TB_PUBKEY_SIZE);

        const struct cli_out_field f[] = {
            CLI_U64("seq", r.rec.seq),
            CLI_STR("kind", tb_kind_name(r.rec.entry.kind)),
            CLI_STR("received", r.when),
            CLI_STR("signer", hex),
            CLI_STR("what", r.what),
            CLI_B64("record", cli->resp->u.entry.record,
                    cli->resp->u.entry.record_len),
        };
        CLI_OUT(cli, f,
                "seq       {seq}\nkind      {kind}\nreceived  {received}\n"
                "signer    {signer}\nwhat      {what}\n");
        return TB_EXIT_OK;
}

/*
 * The checkpoint goes to the terminal only once it has been taken apart
 * as a signed checkpoint and every line found clean: a socket must not
 * reach the terminal with control bytes.  With a pinned log key it must
 * verify too.
 */
int cli_read_checkpoint(struct cli *cli, const struct cli_args *a)
{
        const uint8_t *note;
        size_t len, text_len = 0;
        struct tb_checkpoint cp;
        struct tb_vkey v;
        int pinned = cli_trust_key(a->value[CLI_OPT_LOG_KEY], &v, NULL);
        enum tb_err err;

        cli_call_type(cli, TB_MSG_CHECKPOINT);
        note = cli->resp->u.checkpoint.note;
        len = cli->resp->u.checkpoint.note_len;
        if (len == 0 || !cli_trust_clean(note, len) ||
            tb_note_open(note, len, NULL, 0, &text_len, NULL) !=
                TB_E_NOTE_UNVERIFIED ||
            tb_checkpoint_parse(note, text_len, &cp) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the daemon sent something that is not a signed "
                        "checkpoint (%zu bytes): not printed",
                        len);
        if (pinned &&
            (err = tb_checkpoint_open(note, len, v.name, &v, &cp)) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the daemon's checkpoint does not verify with the "
                        "pinned log key %s: %s",
                        v.name, tb_strerror(err));

        const struct cli_out_field f[] = {
            CLI_BYTES("checkpoint", note, len),
            CLI_BOOL("verified", pinned),
        };
        CLI_OUT(cli, f, "{checkpoint}");
        if (!pinned && !cli->json)
                fprintf(stderr,
                        "%s: note: the checkpoint is NOT verified (no log "
                        "key pinned: --log-key LOG.pub or TIMEBANK_LOG_KEY)\n",
                        CLI_PROG);
        return TB_EXIT_OK;
}
