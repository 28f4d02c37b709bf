/*
 * client/cli_proof.c - what an auditor runs: `prove` (an entry is in the
 * tree a signed checkpoint commits to) and `consistency` (one tree extends
 * another).  Both verify every checkpoint with the log key, and print their
 * proof's hashes through the same field type.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "merkle.h"
#include "note.h"

/*
 * The log's verifier key: the pinned one (cli_trust.c), never as the
 * daemon reports it: a proof checked against the key the answering socket
 * chose proves nothing, so without a pinned key there is no "verified".
 */
static void proof_log_key(const char *path, struct tb_vkey *v)
{
        cli_trust_need(path, "verifying a proof", v);
}

/* The signed checkpoint note[0..len) opened with v.  Exits if it fails. */
static void proof_open(const char *what, const uint8_t *note, size_t len,
                       const struct tb_vkey *v, struct tb_checkpoint *cp)
{
        enum tb_err err = tb_checkpoint_open(note, len, v->name, v, cp);

        /* a signed note may carry other signers' lines (cosignatures),
         * unverified: printed only if they are clean text */
        if (err == TB_OK && !cli_trust_clean(note, len))
                cli_die(TB_EXIT_UNTRUSTED,
                        "%s holds control characters: not printed", what);

        if (err != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "%s does not verify with the pinned log key %s: %s",
                        what, v->name, tb_strerror(err));
}

int cli_proof_prove(struct cli *cli, const struct cli_args *a)
{
        const struct tb_proof *p = &cli->resp->u.proof;
        struct tb_request q;
        struct tb_vkey v;
        struct tb_checkpoint cp;
        uint8_t leaf[TB_HASH_SIZE];
        enum tb_err err = TB_E_PROOF;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_INCLUSION;
        q.u.inclusion.size = a->num[CLI_OPT_SIZE];
        q.u.inclusion.index = cli_args_u64("SEQ", a->argv[0], 0, TB_SEQ_MAX);
        proof_log_key(a->value[CLI_OPT_LOG_KEY], &v);
        cli_call(cli, &q);
        /* the proof answers the question asked, or it proves nothing */
        if (p->index != q.u.inclusion.index ||
            (q.u.inclusion.size != 0 && p->size != q.u.inclusion.size))
                cli_die(TB_EXIT_UNTRUSTED,
                        "the daemon answered for entry %" PRIu64
                        " in a tree of size %" PRIu64
                        ", not the one asked for: NOT verified",
                        p->index, p->size);
        if (p->checkpoint_len == 0)
                cli_die(TB_EXIT_OTHER,
                        "no checkpoint was issued at tree size %" PRIu64
                        ": pick a size from a checkpoint (or omit --size)",
                        p->size);
        proof_open("the checkpoint", p->checkpoint, p->checkpoint_len, &v, &cp);
        if (p->index >= cp.size)
                cli_die(TB_EXIT_UNTRUSTED,
                        "entry %" PRIu64 " is not in the signed tree of size "
                        "%" PRIu64 ": NOT verified",
                        p->index, cp.size);
        tb_merkle_leaf_hash(p->record, p->record_len, leaf);
        if (cp.size != p->size ||
            (err = tb_merkle_verify_inclusion(
                 p->index, p->size, leaf,
                 (const uint8_t(*)[TB_HASH_SIZE])p->hashes, p->count,
                 cp.root)) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the inclusion proof does NOT verify: %s",
                        tb_strerror(err != TB_OK ? err : TB_E_PROOF));

        const struct cli_out_field f[] = {
            CLI_U64("index", p->index),
            CLI_U64("size", p->size),
            CLI_B64("leaf_hash", leaf, sizeof(leaf)),
            CLI_B64("entry", p->record, p->record_len),
            CLI_HASHES("hashes", (const uint8_t(*)[TB_HASH_SIZE])p->hashes,
                       p->count),
            CLI_BYTES("checkpoint", p->checkpoint, p->checkpoint_len),
            CLI_BOOL("verified", 1),
            CLI_TEXT_STR("signer", v.name),
            CLI_TEXT_U64("count", p->count),
        };
        CLI_OUT(cli, f,
                "entry {index} is included in the tree of size {size} "
                "(verified: checkpoint signed by {signer}, {count} proof "
                "hashes)\n{hashes}{checkpoint}");
        return TB_EXIT_OK;
}

/*
 * With --from: the auditor's question "is today's log an extension of the
 * one I saw?".  Both checkpoints must verify with the log key and the
 * consistency proof must link their roots.  The daemon's checkpoint is
 * copied to newcp.
 */
static void proof_extends(struct cli *cli, const char *from,
                          const char *keypath, struct tb_request *q,
                          uint8_t *newcp, size_t *newcp_len)
{
        uint8_t oldcp[TB_CHECKPOINT_MAX];
        struct tb_checkpoint a, b;
        struct tb_vkey v;
        size_t n = cli_read_file(from, "a checkpoint", oldcp, sizeof(oldcp),
                                 TB_EXIT_OTHER);
        enum tb_err err;

        proof_log_key(keypath, &v);
        proof_open(from, oldcp, n, &v, &a);
        if (a.size == 0)
                cli_die(TB_EXIT_USAGE,
                        "%s is the empty tree: every log extends it", from);
        cli_call_type(cli, TB_MSG_CHECKPOINT);
        *newcp_len = cli->resp->u.checkpoint.note_len;
        memcpy(newcp, cli->resp->u.checkpoint.note, *newcp_len);
        proof_open("the daemon's checkpoint", newcp, *newcp_len, &v, &b);
        if (b.size < a.size)
                cli_die(TB_EXIT_OTHER,
                        "the log shrank: the daemon's checkpoint has size "
                        "%" PRIu64 ", %s has %" PRIu64,
                        b.size, from, a.size);
        q->u.consistency.old_size = a.size;
        q->u.consistency.size = b.size;
        cli_call(cli, q);
        err = tb_merkle_verify_consistency(
            a.size, a.root, b.size, b.root,
            (const uint8_t(*)[TB_HASH_SIZE])cli->resp->u.proof.hashes,
            cli->resp->u.proof.count);
        if (err != TB_OK)
                cli_die(TB_EXIT_OTHER,
                        "the log of size %" PRIu64 " is NOT consistent with "
                        "%s (size %" PRIu64 "): %s",
                        b.size, from, a.size, tb_strerror(err));
}

int cli_proof_consistency(struct cli *cli, const struct cli_args *a)
{
        const struct tb_proof *p = &cli->resp->u.proof;
        const char *from = a->value[CLI_OPT_FROM];
        struct tb_request q;
        uint8_t newcp[TB_CHECKPOINT_MAX];
        size_t newcp_len = 0;

        /* two forms: M [N], or --from OLD.checkpoint [--log-key LOG.pub] */
        if (from != NULL ? a->argc != 0
                         : a->argc == 0 || a->value[CLI_OPT_LOG_KEY] != NULL)
                return TB_EXIT_USAGE;
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_CONSISTENCY;
        if (from != NULL) {
                proof_extends(cli, from, a->value[CLI_OPT_LOG_KEY], &q, newcp,
                              &newcp_len);
        } else {
                q.u.consistency.old_size =
                    cli_args_u64("M", a->argv[0], 1, TB_SEQ_MAX);
                if (a->argc == 2)
                        q.u.consistency.size =
                            cli_args_u64("N", a->argv[1], 1, TB_SEQ_MAX);
                cli_call(cli, &q);
        }

        const struct cli_out_field f[] = {
            CLI_TEXT_STR("from", from != NULL ? from : ""),
            CLI_TEXT_U64("count", p->count),
            CLI_U64("old_size", p->index),
            CLI_U64("size", p->size),
            CLI_HASHES("hashes", (const uint8_t(*)[TB_HASH_SIZE])p->hashes,
                       p->count),
            /* with --from only */
            CLI_BYTES("checkpoint", newcp, newcp_len),
            CLI_BOOL("verified", 1),
        };
        cli_out_print(cli->json, f, from != NULL ? 7 : 5,
                      "{?from}the log at tree size {size} is consistent with "
                      "{from} (tree size {old_size}): verified, both "
                      "checkpoints signed by the log key\n{/}"
                      "consistency proof from tree size {old_size} to {size} "
                      "({count} hashes)\n{hashes}{?from}{checkpoint}{/}");
        return TB_EXIT_OK;
}
