/*
 * tests/e2e/tiles_forge.c - forge a tlog-tiles directory, for the audit's
 * tamper tests (e2e_audit_tamper).  Never installed: it holds the log key
 * a forger would need, to show what only the audit's rule replay, key
 * chain or --since can catch.
 *
 *   tiles_forge DIR LOG.key OP...      apply the OPs to the entries, then
 *                                      rewrite every tile and sign a new
 *                                      checkpoint with LOG.key
 *   tiles_forge -b DIR OP...           apply the OPs to the entry bundles
 *                                      only (hash tiles and checkpoint
 *                                      untouched)
 * OPs, in order:
 *   truncate N                         keep entries 0..N-1
 *   drop SEQ                           remove one entry (no renumbering)
 *   swap A B                           exchange two entries
 *   copy SEQ                           append entry SEQ again (same signer,
 *                                      same request id)
 *   register KEY ACCOUNT               append a register entry
 *   redeem KEY ACCOUNT POINTS          append a redeem entry
 *   service KEY ACCOUNT START MINUTES  append a service entry (START in
 *                                      unix seconds, the default activity)
 *   reverse KEY SEQ                    append a reverse entry
 * Appended entries are signed by the key file KEY for the checkpoint's
 * origin, get the next seq and the last entry's receive time.
 *
 * Exit 0, 1 on failure (a message on stderr), 2 on usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "keyfile.h"
#include "note.h"
#include "tiles.h"

static void forge_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void forge_die(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "tiles_forge: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

/* The checkpoint of dir, parsed but not verified (the forger's view). */
static void forge_checkpoint(const char *dir, struct tb_checkpoint *cp)
{
        char err[TILES_ERR_MAX];
        uint8_t *p;
        size_t n, split = 0;

        if (tiles_read_file(dir, "checkpoint", 4096, &p, &n, err) != 0)
                forge_die("%s", err);
        for (size_t i = 0; i + 1 < n; i++)
                if (p[i] == '\n' && p[i + 1] == '\n')
                        split = i + 1;
        if (split == 0 || tb_checkpoint_parse(p, split, cp) != TB_OK)
                forge_die("%s/checkpoint: malformed", dir);
        free(p);
}

/* The last record's receive time (0 for an empty log). */
static int64_t forge_last_received(const struct tiles_entries *e)
{
        struct tb_record last;

        if (e->n > 0 && tb_record_decode(e->data[e->n - 1], e->len[e->n - 1],
                                         &last) == TB_OK)
                return last.received;
        return 0;
}

/*
 * Append an entry of kind signed by the key file arg[0], its fields from
 * arg[1..]: register ACCOUNT, redeem ACCOUNT POINTS, service ACCOUNT
 * START MINUTES, reverse SEQ.
 */
static void forge_append(struct tiles_entries *e, const char *origin,
                         unsigned kind, char **arg)
{
        struct tb_skey *k;
        struct tb_vkey v;
        struct tb_entry en;
        uint8_t body[TB_BODY_MAX], sig[TB_SIG_SIZE], rec[TB_RECORD_MAX];
        size_t blen, rlen;
        int64_t received = forge_last_received(e);

        if (tb_keyfile_read_secret(arg[0], &k) != TB_OK)
                forge_die("cannot read the key %s", arg[0]);
        tb_skey_public(k, &v);
        memset(&en, 0, sizeof(en));
        en.version = TB_ENTRY_VERSION;
        en.kind = (uint8_t)kind;
        memcpy(en.signer, v.pk, TB_PUBKEY_SIZE);
        randombytes_buf(en.request_id, sizeof(en.request_id));
        en.clock = received;
        switch (kind) {
        case TB_KIND_REGISTER:
                snprintf(en.u.reg.account, sizeof(en.u.reg.account), "%s",
                         arg[1]);
                break;
        case TB_KIND_REDEEM:
                snprintf(en.u.redeem.account, sizeof(en.u.redeem.account), "%s",
                         arg[1]);
                en.u.redeem.points = (uint32_t)strtoul(arg[2], NULL, 10);
                snprintf(en.u.redeem.item, sizeof(en.u.redeem.item), "forged");
                break;
        case TB_KIND_SERVICE:
                snprintf(en.u.service.account, sizeof(en.u.service.account),
                         "%s", arg[1]);
                en.u.service.start = strtoll(arg[2], NULL, 10);
                en.u.service.minutes = (uint16_t)strtoul(arg[3], NULL, 10);
                break;
        default:
                en.u.reverse.seq = strtoull(arg[1], NULL, 10);
                break;
        }
        if (tb_entry_encode(&en, body, sizeof(body), &blen) != TB_OK ||
            tb_entry_sign_key(origin, body, blen, k, sig) != TB_OK ||
            tb_record_encode(e->n, received, body, blen, sig, rec, sizeof(rec),
                             &rlen) != TB_OK ||
            tiles_entries_add(e, rec, rlen) != 0)
                forge_die("cannot build the %s entry", tb_kind_name(kind));
        tb_skey_free(k);
}

/* Append entry seq again, as the next record: the same signer and id. */
static void forge_copy(struct tiles_entries *e, uint64_t seq)
{
        struct tb_record r;
        uint8_t rec[TB_RECORD_MAX];
        size_t rlen;

        if (seq >= e->n ||
            tb_record_decode(e->data[seq], e->len[seq], &r) != TB_OK ||
            tb_record_encode(e->n, forge_last_received(e), r.body, r.body_len,
                             r.sig, rec, sizeof(rec), &rlen) != TB_OK ||
            tiles_entries_add(e, rec, rlen) != 0)
                forge_die("cannot copy seq %s", "(out of range?)");
}

/* The OPs: name, words after it, the entry kind it appends (or 0). */
static const struct {
        const char *name;
        int args;
        unsigned kind;
} forge_table[] = {
    {"truncate", 1, 0},
    {"drop", 1, 0},
    {"swap", 2, 0},
    {"copy", 1, 0},
    {"register", 2, TB_KIND_REGISTER},
    {"redeem", 3, TB_KIND_REDEEM},
    {"service", 4, TB_KIND_SERVICE},
    {"reverse", 2, TB_KIND_REVERSE},
};

/* Apply the OPs argv[0..argc) to e. */
static void forge_ops(struct tiles_entries *e, const char *origin, int argc,
                      char **argv)
{
        for (int i = 0; i < argc;) {
                const char *op = argv[i];
                size_t t = 0, nt = sizeof(forge_table) / sizeof(forge_table[0]);
                while (t < nt && strcmp(forge_table[t].name, op) != 0)
                        t++;
                if (t == nt || i + 1 + forge_table[t].args > argc)
                        forge_die("bad operation '%s'", op);
                uint64_t a = strtoull(argv[i + 1], NULL, 10);
                uint64_t b = strtoull(argv[i + forge_table[t].args], NULL, 10);
                if (forge_table[t].kind != 0) {
                        forge_append(e, origin, forge_table[t].kind,
                                     argv + i + 1);
                } else if (strcmp(op, "truncate") == 0) {
                        while (e->n > a)
                                free(e->data[--e->n]);
                } else if (strcmp(op, "copy") == 0) {
                        forge_copy(e, a);
                } else if (strcmp(op, "drop") == 0 && a < e->n) {
                        free(e->data[a]);
                        memmove(e->data + a, e->data + a + 1,
                                (e->n - a - 1) * sizeof(*e->data));
                        memmove(e->len + a, e->len + a + 1,
                                (e->n - a - 1) * sizeof(*e->len));
                        e->n--;
                } else if (strcmp(op, "swap") == 0 && a < e->n && b < e->n) {
                        uint8_t *p = e->data[a];
                        size_t l = e->len[a];
                        e->data[a] = e->data[b];
                        e->len[a] = e->len[b];
                        e->data[b] = p;
                        e->len[b] = l;
                } else {
                        forge_die("operation '%s' out of range", op);
                }
                i += 1 + forge_table[t].args;
        }
}

/* -b: rewrite only the bundles, as many entries as e holds now. */
static void forge_bundles(const char *dir, const struct tiles_entries *e,
                          uint64_t size)
{
        for (uint64_t k = 0; k * TB_TILE_WIDTH < size; k++) {
                uint64_t lo = k * TB_TILE_WIDTH, hi = lo + TB_TILE_WIDTH;
                unsigned w = (unsigned)((hi > size ? size : hi) - lo);
                char rel[TB_TILE_PATH_MAX], path[4096];
                size_t cap = 0, used = 0;
                uint8_t *b;
                FILE *f;

                if (hi > e->n)
                        hi = e->n;
                for (uint64_t i = lo; i < hi; i++)
                        cap += 2 + e->len[i];
                if ((b = malloc(cap + 1)) == NULL)
                        forge_die("%s", "out of memory");
                for (uint64_t i = lo; i < hi; i++)
                        if (tb_bundle_append(b, cap, &used, e->data[i],
                                             e->len[i]) != TB_OK)
                                forge_die("%s", "bundle overflow");
                if (tb_tile_path(TB_TILE_ENTRIES, k, w, rel, sizeof(rel)) !=
                    TB_OK)
                        forge_die("%s", "tile path");
                snprintf(path, sizeof(path), "%s/%s", dir, rel);
                if ((f = fopen(path, "wb")) == NULL ||
                    fwrite(b, 1, used, f) != used || fclose(f) != 0)
                        forge_die("cannot write %s", path);
                free(b);
        }
}

int main(int argc, char **argv)
{
        int bundles = argc > 1 && strcmp(argv[1], "-b") == 0;
        const char *dir = argv[1 + bundles];
        char err[TILES_ERR_MAX];
        struct tiles_entries e = {0};
        struct tiles_tree t;
        struct tiles_written w;
        struct tb_checkpoint cp;
        struct tb_skey *k = NULL;
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t note_len;
        int first = 3;

        if (argc < first + 1) {
                fprintf(stderr, "usage: tiles_forge DIR LOG.key OP... | "
                                "tiles_forge -b DIR OP...\n");
                return 2;
        }
        if (sodium_init() < 0)
                forge_die("%s", "sodium_init failed");
        forge_checkpoint(dir, &cp);
        if (tiles_read_entries(dir, cp.size, &e, err) != 0)
                forge_die("%s", err);
        forge_ops(&e, cp.origin, argc - first, argv + first);
        if (bundles) {
                forge_bundles(dir, &e, cp.size);
                tiles_entries_free(&e);
                return 0;
        }
        if (tb_keyfile_read_secret(argv[2], &k) != TB_OK)
                forge_die("cannot read the log key %s", argv[2]);
        if (tiles_tree_build(&e, &t) != 0)
                forge_die("%s", "out of memory");
        cp.size = t.n;
        if (tiles_tree_root(&t, t.n, cp.root) != TB_OK ||
            tb_checkpoint_sign(&cp, k, note, sizeof(note), &note_len) != TB_OK)
                forge_die("%s", "cannot sign the checkpoint (is the key "
                                "named as the origin?)");
        if (tiles_write(dir, &t, &e, 1, &w, err) != 0 ||
            tiles_write_checkpoint(dir, note, note_len, err) != 0)
                forge_die("%s", err);
        printf("forged tree size %" PRIu64 "\n", cp.size);
        tb_skey_free(k);
        tiles_tree_free(&t);
        tiles_entries_free(&e);
        return 0;
}
