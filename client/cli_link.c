/*
 * client/cli_link.c - the log link (docs/log-link.md): `link-logs` makes
 * it where the admin key lives, offline; `verify-link` checks it, with the
 * two logs' mirrors if given; `audit --tiles` reports the one published in
 * a mirror (cli_link_audit).  No daemon is asked anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "entry.h"
#include "link.h"
#include "tiles.h"
#include "tiles_http.h"

/* What a signed checkpoint file may hold: cosignatures too. */
#define LINK_FILE_MAX 8192

/* A log's mirror as the link checks it: checkpoint, entries, tree. */
struct link_mirror {
        struct tb_checkpoint cp;
        struct tiles_entries e;
        struct tiles_tree t;
        struct tb_vkey admin; /* the admin key its genesis names */
};

/* One side of a new link from a checkpoint file and its log's key. */
static void link_side_file(const char *path, const char *which,
                           const struct tb_vkey *k, struct tb_link_log *side)
{
        uint8_t buf[LINK_FILE_MAX];
        size_t n = cli_read_file(path, "a signed checkpoint", buf, sizeof(buf),
                                 TB_EXIT_OTHER);
        enum tb_err err = tb_link_side(buf, n, k, side);

        if (err == TB_E_CHECKPOINT)
                cli_die(TB_EXIT_USAGE,
                        "%s: not a checkpoint of a non-empty log (the %s "
                        "log's checkpoint must have a tree size of 1 or "
                        "more)",
                        path, which);
        if (err != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "%s does not verify with the %s log key %s: %s (a "
                        "forged checkpoint, or one of another log)",
                        path, which, k->name, tb_strerror(err));
}

int cli_link_make(struct cli *cli, const struct cli_args *a)
{
        const char *out = a->value[CLI_OPT_OUTPUT];
        struct tb_vkey oldk, newk, adminv;
        struct tb_link l;
        struct tb_skey *admin;
        uint8_t note[TB_LINK_MAX];
        size_t len;
        enum tb_err err;

        cli_key_public(a->value[CLI_OPT_OLD_LOG_KEY], &oldk);
        cli_trust_need(a->value[CLI_OPT_LOG_KEY], "naming the new log", &newk);
        if (tb_vkey_equal(&oldk, &newk) || strcmp(oldk.name, newk.name) == 0)
                cli_die(TB_EXIT_USAGE,
                        "the old and the new log key name the same log (%s): "
                        "a new log has a new origin and a new key",
                        oldk.name);
        memset(&l, 0, sizeof(l));
        link_side_file(a->value[CLI_OPT_OLD_CHECKPOINT], "old", &oldk,
                       &l.old_log);
        link_side_file(a->value[CLI_OPT_NEW_CHECKPOINT], "new", &newk,
                       &l.new_log);
        admin = cli_key_secret(a->value[CLI_OPT_KEY]);
        tb_skey_public(admin, &adminv);
        err = tb_link_sign(&l, admin, note, sizeof(note), &len);
        tb_skey_free(admin);
        if (err != TB_OK)
                cli_die(TB_EXIT_OTHER, "signing the link: %s",
                        tb_strerror(err));
        cli_write_new_file(out, note, len);

        const struct cli_out_field f[] = {
            CLI_STR("old_origin", l.old_log.key.name),
            CLI_U64("old_size", l.old_log.cp.size),
            CLI_STR("new_origin", l.new_log.key.name),
            CLI_U64("new_size", l.new_log.cp.size),
            CLI_STR("admin", adminv.name),
            CLI_STR("file", out),
        };
        CLI_OUT(cli, f,
                "{file}: {new_origin} (from its checkpoint of size "
                "{new_size}) continues {old_origin} after its checkpoint of "
                "size {old_size}; signed by {admin}\n");
        return TB_EXIT_OK;
}

/*
 * The mirror of the log of key k at dir: its checkpoint verifies, the tree
 * of its entries has its root, entry 0 is the genesis of this log (signed
 * by k for k's origin); m->admin the admin key it names.  Exits.
 */
static void link_mirror_load(const char *dir, const char *which,
                             const struct tb_vkey *k, struct link_mirror *m)
{
        char err[TILES_ERR_MAX];
        uint8_t *note = NULL, root[TB_HASH_SIZE];
        struct tb_record r;
        size_t n;
        enum tb_err e;

        memset(m, 0, sizeof(*m));
        if (tiles_read_file(dir, "checkpoint", LINK_FILE_MAX, &note, &n, err) !=
            0)
                cli_die(TB_EXIT_OTHER, "the %s log's mirror: %s", which, err);
        e = tb_checkpoint_open(note, n, k->name, k, &m->cp);
        free(note);
        if (e != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the %s log's mirror %s: its checkpoint does not "
                        "verify with the %s log key %s: %s",
                        which, dir, which, k->name, tb_strerror(e));
        if (m->cp.size == 0)
                cli_die(TB_EXIT_UNTRUSTED, "the %s log's mirror %s is empty",
                        which, dir);
        if (tiles_read_entries(dir, m->cp.size, &m->e, err) != 0)
                cli_die(TB_EXIT_OTHER, "the %s log's mirror: %s", which, err);
        if (tiles_tree_build(&m->e, &m->t) != 0)
                cli_die(TB_EXIT_OTHER, "out of memory");
        if (tiles_tree_root(&m->t, m->t.n, root) != TB_OK ||
            memcmp(root, m->cp.root, TB_HASH_SIZE) != 0)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the %s log's mirror %s: the tree of its %" PRIu64
                        " entries does not have its checkpoint's root",
                        which, dir, m->t.n);
        if (tb_record_decode(m->e.data[0], m->e.len[0], &r) != TB_OK ||
            r.entry.kind != TB_KIND_GENESIS ||
            memcmp(r.entry.signer, k->pk, TB_PUBKEY_SIZE) != 0 ||
            strcmp(r.entry.u.genesis.origin, k->name) != 0 ||
            tb_entry_verify(k->name, r.body, r.body_len, k->pk, r.sig) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the %s log's mirror %s: entry 0 is not the genesis "
                        "of %s signed by its log key",
                        which, dir, k->name);
        if (tb_vkey_from_pk(r.entry.u.genesis.admin_name,
                            strlen(r.entry.u.genesis.admin_name),
                            r.entry.u.genesis.admin_key, &m->admin) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the %s log's genesis names an admin key whose name "
                        "is not a key name",
                        which);
}

static void link_mirror_free(struct link_mirror *m)
{
        tiles_tree_free(&m->t);
        tiles_entries_free(&m->e);
}

/* Why a signed link does not open with the admin key, for a person. */
static void link_open_fail(const char *path, const struct tb_vkey *admin,
                           enum tb_err err)
{
        if (err == TB_E_NOTE_UNVERIFIED)
                cli_die(TB_EXIT_UNTRUSTED,
                        "%s is not signed by the admin key %s+%08" PRIx32
                        ": NOT a link the administrator made",
                        path, admin->name, admin->id);
        if (err == TB_E_BAD_SIGNATURE)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the admin key's signature on %s does not verify: "
                        "the link was altered or forged",
                        path);
        cli_die(TB_EXIT_UNTRUSTED, "%s is not a log link: %s", path,
                tb_strerror(err));
}

int cli_link_verify(struct cli *cli, const struct cli_args *a)
{
        const char *path = a->argv[0], *tiles = a->value[CLI_OPT_TILES];
        const char *old_tiles = a->value[CLI_OPT_OLD_TILES];
        struct tb_vkey oldk, newk, admin;
        struct link_mirror nm, om;
        struct tb_link l;
        uint8_t buf[LINK_FILE_MAX], root[TB_HASH_SIZE];
        size_t n;
        enum tb_err err;
        int have_admin = 0;

        cli_key_public(a->value[CLI_OPT_OLD_LOG_KEY], &oldk);
        cli_trust_need(a->value[CLI_OPT_LOG_KEY], "verifying a link", &newk);
        if (a->value[CLI_OPT_ADMIN_KEY] != NULL) {
                cli_key_public(a->value[CLI_OPT_ADMIN_KEY], &admin);
                have_admin = 1;
        }
        if (!have_admin && tiles == NULL)
                cli_die(TB_EXIT_USAGE,
                        "verify-link needs the admin key: --admin-key "
                        "ADMIN.pub, or --tiles with the new log's mirror "
                        "(its genesis names the admin key)");
        memset(&nm, 0, sizeof(nm));
        memset(&om, 0, sizeof(om));
        if (tiles != NULL) {
                link_mirror_load(tiles, "new", &newk, &nm);
                if (have_admin && !tb_vkey_equal(&admin, &nm.admin))
                        cli_die(TB_EXIT_UNTRUSTED,
                                "the admin key %s is not the one the new "
                                "log's genesis names (%s+%08" PRIx32 ")",
                                admin.name, nm.admin.name, nm.admin.id);
                admin = nm.admin;
        }

        n = cli_read_file(path, "a log link", buf, sizeof(buf), TB_EXIT_OTHER);
        if ((err = tb_link_open(buf, n, &admin, &l)) != TB_OK)
                link_open_fail(path, &admin, err);
        if (!tb_vkey_equal(&l.old_log.key, &oldk))
                cli_die(TB_EXIT_UNTRUSTED,
                        "%s links from the log key %s+%08" PRIx32
                        ", not the old log key given (%s+%08" PRIx32 ")",
                        path, l.old_log.key.name, l.old_log.key.id, oldk.name,
                        oldk.id);
        if (!tb_vkey_equal(&l.new_log.key, &newk))
                cli_die(TB_EXIT_UNTRUSTED,
                        "%s links to the log key %s+%08" PRIx32
                        ", not the new log key given (%s+%08" PRIx32 ")",
                        path, l.new_log.key.name, l.new_log.key.id, newk.name,
                        newk.id);
        if ((err = tb_link_verify_side(&l.old_log)) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the old log's checkpoint in %s (tree size %" PRIu64
                        ") does not verify with the old log key %s: %s (a "
                        "forged checkpoint)",
                        path, l.old_log.cp.size, oldk.name, tb_strerror(err));
        if ((err = tb_link_verify_side(&l.new_log)) != TB_OK)
                cli_die(TB_EXIT_UNTRUSTED,
                        "the new log's checkpoint in %s (tree size %" PRIu64
                        ") does not verify with the new log key %s: %s (a "
                        "forged checkpoint)",
                        path, l.new_log.cp.size, newk.name, tb_strerror(err));

        if (tiles != NULL) {
                if (nm.cp.size < l.new_log.cp.size)
                        cli_die(TB_EXIT_UNTRUSTED,
                                "the new log's mirror (tree size %" PRIu64
                                ") is behind the link's new checkpoint (tree "
                                "size %" PRIu64 ")",
                                nm.cp.size, l.new_log.cp.size);
                if (tiles_tree_root(&nm.t, l.new_log.cp.size, root) != TB_OK ||
                    memcmp(root, l.new_log.cp.root, TB_HASH_SIZE) != 0)
                        cli_die(TB_EXIT_UNTRUSTED,
                                "the new log at tree size %" PRIu64
                                " does not have the root %s names: the "
                                "link is not for this log's history",
                                l.new_log.cp.size, path);
        }
        if (old_tiles != NULL) {
                link_mirror_load(old_tiles, "old", &oldk, &om);
                if (!tb_vkey_equal(&admin, &om.admin))
                        cli_die(TB_EXIT_UNTRUSTED,
                                "the old log's genesis names the admin key "
                                "%s+%08" PRIx32 ", not %s+%08" PRIx32
                                ", which signed the link",
                                om.admin.name, om.admin.id, admin.name,
                                admin.id);
                if (om.cp.size > l.old_log.cp.size)
                        cli_die(TB_EXIT_UNTRUSTED,
                                "%s does not name the old log's final "
                                "checkpoint: the old log's mirror holds a "
                                "signed checkpoint of tree size %" PRIu64
                                ", the link names tree size %" PRIu64,
                                path, om.cp.size, l.old_log.cp.size);
                if (om.cp.size < l.old_log.cp.size)
                        cli_die(TB_EXIT_UNTRUSTED,
                                "the old log's mirror (tree size %" PRIu64
                                ") is behind the link's old checkpoint (tree "
                                "size %" PRIu64 "): cannot tell that it is "
                                "the final one",
                                om.cp.size, l.old_log.cp.size);
                if (memcmp(om.cp.root, l.old_log.cp.root, TB_HASH_SIZE) != 0)
                        cli_die(TB_EXIT_UNTRUSTED,
                                "the old log's mirror and %s hold two "
                                "different trees of size %" PRIu64
                                ", both signed by the old log key: a fork "
                                "(the key signed two histories)",
                                path, om.cp.size);
        }
        link_mirror_free(&nm);
        link_mirror_free(&om);

        const struct cli_out_field f[] = {
            CLI_STR("old_origin", l.old_log.key.name),
            CLI_U64("old_size", l.old_log.cp.size),
            CLI_B64("old_root", l.old_log.cp.root, TB_HASH_SIZE),
            CLI_STR("new_origin", l.new_log.key.name),
            CLI_U64("new_size", l.new_log.cp.size),
            CLI_B64("new_root", l.new_log.cp.root, TB_HASH_SIZE),
            CLI_STR("admin", admin.name),
            CLI_BOOL("new_mirror_checked", tiles != NULL),
            CLI_BOOL("old_mirror_checked", old_tiles != NULL),
            CLI_BOOL("verified", 1),
            CLI_TEXT_STR("new_mirror", tiles != NULL ? " the new log's "
                                                       "mirror grew from it;"
                                                     : ""),
            CLI_TEXT_STR("old_mirror", old_tiles != NULL
                                           ? " the old log's mirror ends "
                                             "at it;"
                                           : ""),
        };
        CLI_OUT(cli, f,
                "verified: {new_origin} continues {old_origin} after its "
                "checkpoint of tree size {old_size}; both checkpoints signed "
                "by their log keys;{new_mirror}{old_mirror} the link signed "
                "by the admin key {admin}\n");
        return TB_EXIT_OK;
}

int cli_link_audit(const char *tiles, const struct tb_vkey *v,
                   const struct tiles_tree *t, const struct tiles_entries *e,
                   char *msg, size_t cap)
{
        uint8_t *note = NULL, root[TB_HASH_SIZE];
        char err[TILES_ERR_MAX];
        struct tb_record r;
        struct tb_vkey admin;
        struct tb_link l;
        size_t n;
        enum tb_err te;

        /* optional: a mirror without one, or a web server that answers
         * 403 for a missing file (object stores do), has none; whoever
         * controls the mirror can remove it anyway, so only a link that
         * is there and wrong is a problem.  In a directory, "there" is
         * known: a log-link that is not a regular file is never opened (a
         * FIFO would wait for a writer for ever), and one that cannot be
         * read whole (too large for a link, unreadable) is a problem, not
         * an absent link; over http, only what the server answered 200
         * for is there. */
        if (!tiles_http_is_url(tiles)) {
                char path[PATH_MAX];
                struct stat st;
                int len = snprintf(path, sizeof(path), "%s/log-link", tiles);

                if (len < 0 || (size_t)len >= sizeof(path))
                        return -1; /* the tiles themselves were read */
                if (stat(path, &st) != 0) {
                        if (errno == ENOENT)
                                return -1;
                        snprintf(msg, cap,
                                 "log-link: is there but cannot "
                                 "be read: %s",
                                 strerror(errno));
                        return 1;
                }
                if (!S_ISREG(st.st_mode)) {
                        snprintf(msg, cap,
                                 "log-link: is there but is not a regular "
                                 "file");
                        return 1;
                }
        }
        if (tiles_read_file(tiles, "log-link", LINK_FILE_MAX, &note, &n, err) !=
            0) {
                if (tiles_http_is_url(tiles))
                        return -1;
                snprintf(msg, cap, "log-link: is there but is not a link: %s",
                         err);
                return 1;
        }
        if (e->n == 0 || tb_record_decode(e->data[0], e->len[0], &r) != TB_OK ||
            r.entry.kind != TB_KIND_GENESIS ||
            tb_vkey_from_pk(r.entry.u.genesis.admin_name,
                            strlen(r.entry.u.genesis.admin_name),
                            r.entry.u.genesis.admin_key, &admin) != TB_OK) {
                free(note);
                snprintf(msg, cap, "log-link: the log has no genesis");
                return 1;
        }
        te = tb_link_open(note, n, &admin, &l);
        free(note);
        if (te != TB_OK) {
                snprintf(msg, cap,
                         "log-link: does not open with the admin key the "
                         "genesis names (%s): %s",
                         admin.name, tb_strerror(te));
                return 1;
        }
        if (!tb_vkey_equal(&l.new_log.key, v)) {
                snprintf(msg, cap,
                         "log-link: links to the log %s, not this one (%s)",
                         l.new_log.key.name, v->name);
                return 1;
        }
        if (tb_link_verify_side(&l.new_log) != TB_OK ||
            tb_link_verify_side(&l.old_log) != TB_OK) {
                snprintf(msg, cap,
                         "log-link: a checkpoint in it does not verify with "
                         "its log key");
                return 1;
        }
        if (l.new_log.cp.size > t->n ||
            tiles_tree_root(t, l.new_log.cp.size, root) != TB_OK ||
            memcmp(root, l.new_log.cp.root, TB_HASH_SIZE) != 0) {
                snprintf(msg, cap,
                         "log-link: this log at tree size %" PRIu64
                         " does not have the root the link names",
                         l.new_log.cp.size);
                return 1;
        }
        snprintf(msg, cap,
                 "log-link: this log continues %s+%08" PRIx32
                 " after its checkpoint of tree size %" PRIu64
                 " (signed by the admin key %s; check the old log with "
                 "timebank verify-link --old-log-key)",
                 l.old_log.key.name, l.old_log.key.id, l.old_log.cp.size,
                 admin.name);
        return 0;
}
