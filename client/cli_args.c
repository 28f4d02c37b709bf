/*
 * client/cli_args.c - one parser for every command line: getopt_long over
 * the option table, limited to the options a command's spec offers, with
 * numbers checked against the option's range as they are read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The option that getopt_long returned c for. */
static enum cli_opt args_opt(int c)
{
        for (int i = 0; i < CLI_OPT_COUNT; i++)
                if (cli_table_options[i].letter == c || 256 + i == c)
                        return (enum cli_opt)i;
        return CLI_OPT_COUNT;
}

int cli_args_parse(int argc, char **argv, uint64_t offered, uint64_t takes,
                   int in_order, struct cli_args *a)
{
        struct option lo[CLI_OPT_COUNT + 1];
        char shorts[3 * CLI_OPT_COUNT + 2], what[64];
        size_t nlo = 0, ns = 0;
        int c;

        memset(a, 0, sizeof(*a));
        memset(lo, 0, sizeof(lo));
        if (in_order)
                shorts[ns++] = '+';
        for (int i = 0; i < CLI_OPT_COUNT; i++) {
                const struct cli_option *o = &cli_table_options[i];
                if (!(offered & CLI_OPT_BIT(i)))
                        continue;
                lo[nlo].name = o->name;
                lo[nlo].has_arg = o->value != NULL;
                lo[nlo++].val = o->letter ? o->letter : 256 + i;
                if (o->letter) {
                        shorts[ns++] = o->letter;
                        if (o->value != NULL)
                                shorts[ns++] = ':';
                }
        }
        shorts[ns] = 0;
        optind = 0; /* GNU getopt: 0 re-initialises */
        while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
                enum cli_opt i = args_opt(c);
                const struct cli_option *o = &cli_table_options[i];
                if (c == '?' || i == CLI_OPT_COUNT)
                        return -1;
                if (!(takes & CLI_OPT_BIT(i)))
                        cli_die(TB_EXIT_USAGE, "%s takes no --%s", argv[0],
                                o->name);
                a->value[i] = optarg != NULL ? optarg : "";
                if (o->max != 0) {
                        snprintf(what, sizeof(what), "--%s", o->name);
                        a->num[i] = cli_args_u64(what, optarg, o->min, o->max);
                }
        }
        a->argc = argc - optind;
        a->argv = argv + optind;
        return 0;
}

int cli_args_check(const struct cli_command *c, const struct cli_args *a)
{
        for (int i = 0; i < CLI_OPT_COUNT; i++) {
                const struct cli_option *o = &cli_table_options[i];
                if (!(c->args.needs & CLI_OPT_BIT(i)) || a->value[i] != NULL)
                        continue;
                if (o->letter)
                        fprintf(stderr, "%s: %s needs -%c %s\n", CLI_PROG,
                                c->name, o->letter, o->value);
                else
                        fprintf(stderr, "%s: %s needs --%s %s\n", CLI_PROG,
                                c->name, o->name, o->value);
                return -1;
        }
        return a->argc < c->args.lower || a->argc > c->args.upper ? -1 : 0;
}

int cli_args_wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--help") == 0 ||
                    strcmp(argv[i], "-h") == 0)
                        return 1;
        return 0;
}

uint64_t cli_args_u64(const char *what, const char *s, uint64_t min,
                      uint64_t max)
{
        char *end;
        unsigned long long v;

        errno = 0;
        if (s[0] < '0' || s[0] > '9')
                cli_die(TB_EXIT_USAGE, "%s must be a whole number, not '%s'",
                        what, s);
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0 || v < min || v > max)
                cli_die(TB_EXIT_USAGE,
                        "%s must be a whole number from %" PRIu64 " to %" PRIu64
                        ", not '%s'",
                        what, min, max, s);
        return (uint64_t)v;
}

void cli_args_copy(char *dst, size_t cap, const char *what, const char *s,
                   enum tb_err (*check)(const char *, size_t))
{
        size_t n = strlen(s);
        enum tb_err err = check(s, n);

        if (err != TB_OK)
                cli_die(TB_EXIT_USAGE, "%s '%s': %s", what, s,
                        tb_strerror(err));
        if (n >= cap)
                cli_die(TB_EXIT_USAGE, "%s is too long", what);
        memcpy(dst, s, n + 1);
}
