/*
 * client/cli_receipt.c - receipts a volunteer keeps: `receipt` fetches an
 * entry's inclusion proof, verifies it with the pinned log key and writes
 * it as a C2SP tlog-proof carrying the record (proto/receipt.h,
 * docs/receipts.md); `verify-receipt` checks one offline with the log key
 * alone, and with a newer checkpoint also that the log still holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "receipt.h"

/* Why a receipt does not verify, as the person holding it needs to hear. */
static void receipt_refuse(const char *path, enum tb_err err)
{
        const char *why;

        switch (err) {
        case TB_E_BAD_SIGNATURE:
        case TB_E_NOTE_UNVERIFIED:
        case TB_E_ORIGIN:
                why = "its checkpoint is not signed by the pinned log key";
                break;
        case TB_E_NOTE_FORMAT:
        case TB_E_CHECKPOINT:
                why = "its checkpoint is malformed";
                break;
        case TB_E_RECEIPT:
                why = "its record is malformed or is not the entry at its "
                      "index";
                break;
        default:
                why = "its entry is NOT in the tree the checkpoint signs "
                      "(the record or the proof was altered)";
                break;
        }
        cli_die(TB_EXIT_REFUSED, "receipt %s does NOT verify: %s (%s)", path,
                why, tb_strerror(err));
}

/* What a verified receipt says, printed from one field list. */
static void receipt_print(struct cli *cli, const struct tb_record *rec,
                          const struct tb_checkpoint *cp, const char *file,
                          uint64_t newer)
{
        const struct tb_entry *e = &rec->entry;
        const char *account = "";

        switch (e->kind) {
        case TB_KIND_REGISTER:
                account = e->u.reg.account;
                break;
        case TB_KIND_SERVICE:
                account = e->u.service.account;
                break;
        case TB_KIND_REDEEM:
                account = e->u.redeem.account;
                break;
        case TB_KIND_TRANSFER:
                account = e->u.transfer.from;
                break;
        default:
                break;
        }

        const struct cli_out_field f[] = {
            CLI_STR("file", file),
            CLI_U64("seq", rec->seq),
            CLI_STR("kind", tb_kind_name(e->kind)),
            CLI_STR("account", account),
            CLI_I64("received", rec->received),
            CLI_STR("origin", cp->origin),
            CLI_U64("size", cp->size),
            CLI_U64("consistent_with", newer),
            CLI_BOOL("verified", 1),
        };
        CLI_OUT(cli, f,
                "receipt {file}: verified: entry {seq} ({kind}{?account} "
                "of {account}{/}) is in the log {origin} of size {size}, "
                "signed by its log key"
                "{?consistent_with}, and the log of size {consistent_with} "
                "still holds it{/}\n");
}

int cli_receipt_make(struct cli *cli, const struct cli_args *a)
{
        const struct tb_proof *p = &cli->resp->u.proof;
        const char *out = a->value[CLI_OPT_OUTPUT];
        struct tb_request q;
        struct tb_receipt *r;
        struct tb_checkpoint cp;
        struct tb_record rec;
        struct tb_vkey v;
        uint8_t text[TB_RECEIPT_MAX];
        size_t n;
        enum tb_err err;

        if (a->value[CLI_OPT_SLIP] == NULL && a->value[CLI_OPT_PNG] != NULL)
                cli_die(TB_EXIT_USAGE, "--png goes with --slip");
        cli_trust_need(a->value[CLI_OPT_LOG_KEY], "receipt", &v);
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_INCLUSION;
        q.u.inclusion.index = cli_args_u64("SEQ", a->argv[0], 0, TB_SEQ_MAX);
        cli_call(cli, &q);
        if (p->index != q.u.inclusion.index)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the daemon answered with entry %" PRIu64
                        " instead of %" PRIu64,
                        p->index, q.u.inclusion.index);
        if (p->checkpoint_len == 0 || p->count > TB_RECEIPT_HASHES_MAX ||
            tb_receipt_format(p->record, p->record_len, p->index,
                              (const uint8_t(*)[TB_HASH_SIZE])p->hashes,
                              p->count, p->checkpoint, p->checkpoint_len, text,
                              sizeof(text), &n) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the daemon's proof of entry %" PRIu64
                        " cannot make a receipt",
                        p->index);
        /* the receipt handed out is the one verify-receipt checks: parsed
         * back and verified by the same code before anyone keeps it */
        if ((r = malloc(sizeof(*r))) == NULL)
                cli_die(TB_EXIT_OTHER, "out of memory");
        err = tb_receipt_parse(text, n, r);
        if (err == TB_OK)
                err = tb_receipt_verify(r, &v, &cp, &rec);
        free(r);
        if (err != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the daemon's proof of entry %" PRIu64
                        " does NOT verify with the pinned log key %s: %s",
                        q.u.inclusion.index, v.name, tb_strerror(err));
        /* other signers' lines in the checkpoint are not verified: a
         * receipt goes to a terminal or a slip only as clean text */
        if (!cli_trust_clean(text, n))
                cli_die(TB_EXIT_UNTRUSTED,
                        "the daemon's checkpoint holds control characters: "
                        "no receipt made");
        if (out != NULL)
                cli_write_new_file(out, text, n);
        if (a->value[CLI_OPT_SLIP] != NULL)
                return cli_slip_print(cli, text, n, &rec, &cp,
                                      a->value[CLI_OPT_PNG]);
        if (out == NULL) {
                if (fwrite(text, 1, n, stdout) != n || fflush(stdout) != 0)
                        cli_die(TB_EXIT_OTHER, "writing the receipt: %s",
                                strerror(errno));
                return TB_EXIT_OK;
        }
        receipt_print(cli, &rec, &cp, out, 0);
        return TB_EXIT_OK;
}

/*
 * The newer checkpoint note[0..n) (what names it for messages), verified
 * with v, and the daemon's proof that it extends the receipt's tree *cp.
 * Returns the newer size.
 */
static uint64_t receipt_newer(struct cli *cli, const char *what,
                              const uint8_t *note, size_t n,
                              const struct tb_vkey *v,
                              const struct tb_checkpoint *cp)
{
        struct tb_checkpoint b;
        struct tb_request q;
        enum tb_err err = tb_checkpoint_open(note, n, v->name, v, &b);

        if (err != TB_OK)
                cli_die(TB_EXIT_REFUSED,
                        "%s does not verify with the pinned log key %s: %s",
                        what, v->name, tb_strerror(err));
        if (b.size < cp->size)
                cli_die(TB_EXIT_USAGE,
                        "%s (size %" PRIu64 ") is older than the receipt's "
                        "checkpoint (size %" PRIu64 ")",
                        what, b.size, cp->size);
        if (b.size == cp->size) {
                if (memcmp(b.root, cp->root, TB_HASH_SIZE) != 0)
                        cli_die(TB_EXIT_REFUSED,
                                "the log FORKED: %s and the receipt's "
                                "checkpoint have the same size %" PRIu64
                                " and different roots, both signed by the "
                                "log key",
                                what, b.size);
                return b.size;
        }
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_CONSISTENCY;
        q.u.consistency.old_size = cp->size;
        q.u.consistency.size = b.size;
        cli_call(cli, &q);
        err = tb_merkle_verify_consistency(
            cp->size, cp->root, b.size, b.root,
            (const uint8_t(*)[TB_HASH_SIZE])cli->resp->u.proof.hashes,
            cli->resp->u.proof.count);
        if (err != TB_OK)
                cli_die(TB_EXIT_REFUSED,
                        "the log of %s (size %" PRIu64 ") is NOT consistent "
                        "with the receipt's checkpoint (size %" PRIu64 "): %s",
                        what, b.size, cp->size, tb_strerror(err));
        return b.size;
}

int cli_receipt_verify(struct cli *cli, const struct cli_args *a)
{
        /* static: the refusals below exit with them still in use */
        static struct tb_receipt receipt;
        static uint8_t text[TB_RECEIPT_MAX + 1];
        struct tb_receipt *r = &receipt;
        const char *path = a->argv[0];
        struct tb_checkpoint cp;
        struct tb_record rec;
        struct tb_vkey v;
        size_t n;
        uint64_t newer = 0;
        enum tb_err err;

        if (a->value[CLI_OPT_CHECKPOINT] != NULL &&
            a->value[CLI_OPT_ONLINE] != NULL)
                cli_die(TB_EXIT_USAGE,
                        "--checkpoint NEWER and --online: give one");
        cli_trust_need(a->value[CLI_OPT_LOG_KEY], "verify-receipt", &v);
        n = cli_read_file(path, "a receipt", text, sizeof(text) - 1,
                          TB_EXIT_USAGE);
        if ((err = tb_receipt_parse(text, n, r)) != TB_OK)
                cli_die(TB_EXIT_USAGE,
                        "%s is not a timebank receipt: expected a "
                        "c2sp.org/tlog-proof@v1 with its record on the extra "
                        "line (docs/receipts.md)",
                        path);
        if ((err = tb_receipt_verify(r, &v, &cp, &rec)) != TB_OK)
                receipt_refuse(path, err);
        if (a->value[CLI_OPT_CHECKPOINT] != NULL) {
                static uint8_t note[TB_CHECKPOINT_MAX + 1];
                const char *f = a->value[CLI_OPT_CHECKPOINT];
                n = cli_read_file(f, "a checkpoint", note, sizeof(note) - 1,
                                  TB_EXIT_USAGE);
                newer = receipt_newer(cli, f, note, n, &v, &cp);
        } else if (a->value[CLI_OPT_ONLINE] != NULL) {
                static uint8_t note[TB_CHECKPOINT_MAX];
                cli_call_type(cli, TB_MSG_CHECKPOINT);
                n = cli->resp->u.checkpoint.note_len;
                if (n > sizeof(note))
                        cli_die(TB_EXIT_UNTRUSTED,
                                "the daemon's checkpoint is too large");
                memcpy(note, cli->resp->u.checkpoint.note, n);
                newer = receipt_newer(cli, "the daemon's checkpoint", note, n,
                                      &v, &cp);
        }
        receipt_print(cli, &rec, &cp, path, newer);
        return TB_EXIT_OK;
}
