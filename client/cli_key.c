/*
 * client/cli_key.c - key files: `timebank keygen`, and reading the keys
 * that the other commands name.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli.h"
#include "keyfile.h"

struct tb_skey *cli_key_secret(const char *path)
{
        struct tb_skey *k = NULL;
        enum tb_err err = tb_keyfile_read_secret(path, &k);

        if (err == TB_E_IO)
                cli_die(TB_EXIT_OTHER, "cannot read key file %s: %s", path,
                        strerror(errno));
        if (err != TB_OK)
                cli_die(TB_EXIT_OTHER, "key file %s: %s", path,
                        tb_strerror(err));
        return k;
}

void cli_key_public(const char *path, struct tb_vkey *k)
{
        enum tb_err err = tb_keyfile_read_public(path, k);

        if (err == TB_E_IO)
                cli_die(TB_EXIT_OTHER, "cannot read public key file %s: %s",
                        path, strerror(errno));
        if (err != TB_OK)
                cli_die(TB_EXIT_OTHER, "public key file %s: %s", path,
                        tb_strerror(err));
}

int cli_key_keygen(struct cli *cli, const struct cli_args *a)
{
        const char *name = a->argv[0], *out = a->value[CLI_OPT_OUTPUT];
        struct tb_skey *k = NULL;
        struct tb_vkey v;
        char pubpath[PATH_MAX], vtext[TB_VKEY_MAX];
        enum tb_err err;

        if ((err = tb_skey_generate(name, strlen(name), &k)) != TB_OK)
                cli_die(TB_EXIT_USAGE, "key name '%s': %s", name,
                        tb_strerror(err));
        if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", out) >=
            sizeof(pubpath)) {
                tb_skey_free(k);
                cli_die(TB_EXIT_USAGE, "output path too long");
        }
        err = tb_keyfile_write_secret(out, k);
        if (err == TB_OK) {
                tb_skey_public(k, &v);
                err = tb_keyfile_write_public(pubpath, &v);
        }
        tb_skey_free(k);
        if (err == TB_E_EXISTS)
                cli_die(TB_EXIT_OTHER,
                        "%s or %s already exists: refusing to overwrite a key",
                        out, pubpath);
        if (err != TB_OK)
                cli_die(TB_EXIT_OTHER, "writing %s: %s%s%s", out,
                        tb_strerror(err), err == TB_E_IO ? ": " : "",
                        err == TB_E_IO ? strerror(errno) : "");
        if (tb_vkey_format(&v, vtext, sizeof(vtext), NULL) != TB_OK)
                cli_die(TB_EXIT_OTHER,
                        "internal error formatting the public key");

        const struct cli_out_field f[] = {
            CLI_STR("name", name),
            CLI_STR("public_key", vtext),
            CLI_STR("secret_file", out),
            CLI_STR("public_file", pubpath),
        };
        CLI_OUT(cli, f, "{public_key}\n");
        return TB_EXIT_OK;
}
