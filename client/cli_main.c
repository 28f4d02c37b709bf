/*
 * client/cli_main.c - the timebank command-line client: global options,
 * then one command from the table, its command line parsed once against
 * the command's spec before its handler runs.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_die(int code, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", CLI_PROG);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(code);
}

/*
 * Parse the command line of c (argv[0] is its name) and run it.  A command
 * recognises the options it takes and, if it is a write, those of the write
 * family.
 */
static int main_run(struct cli *cli, const struct cli_command *c, int argc,
                    char **argv)
{
        uint64_t takes = c->args.takes;
        int write = (takes & CLI_OPT_BIT(CLI_OPT_KEY)) != 0;
        struct cli_args a;
        int rc;

        if (cli_args_wants_help(argc, argv)) {
                cli_table_help_command(stdout, c);
                return TB_EXIT_OK;
        }
        if (cli_args_parse(argc, argv, takes | (write ? CLI_OPTS_WRITE : 0),
                           takes, 0, &a) != 0 ||
            cli_args_check(c, &a) != 0) {
                rc = TB_EXIT_USAGE;
        } else {
                if (write)
                        cli_write_options(cli, &a);
                if ((cli->resp = malloc(sizeof(*cli->resp))) == NULL)
                        cli_die(TB_EXIT_OTHER, "out of memory");
                rc = c->run(cli, &a);
        }
        if (rc == TB_EXIT_USAGE)
                fprintf(stderr, "usage: %s %s\n", CLI_PROG, c->usage);
        return rc;
}

int main(int argc, char **argv)
{
        struct cli cli;
        struct cli_args g;
        const struct cli_command *c;
        int rc;

        memset(&cli, 0, sizeof(cli));
        cli.socket = getenv("TIMEBANK_SOCKET");
        if (cli.socket == NULL || cli.socket[0] == 0)
                cli.socket = TB_SOCKET_DEFAULT;
        cli.timeout_ms = 1000 * CLI_TIMEOUT_DEFAULT;
        if (cli_args_parse(argc, argv, CLI_OPTS_GLOBAL, CLI_OPTS_GLOBAL, 1,
                           &g) != 0) {
                cli_table_help(stderr);
                return TB_EXIT_USAGE;
        }
        if (g.value[CLI_OPT_HELP] != NULL) {
                cli_table_help(stdout);
                return TB_EXIT_OK;
        }
        if (g.value[CLI_OPT_VERSION] != NULL) {
                printf("%s %s\n", CLI_PROG, TIMEBANK_VERSION);
                return TB_EXIT_OK;
        }
        if (g.value[CLI_OPT_MAN] != NULL)
                cli_table_man();
        if (g.value[CLI_OPT_COMPLETION] != NULL)
                cli_table_completion();
        if (g.value[CLI_OPT_SOCKET] != NULL)
                cli.socket = g.value[CLI_OPT_SOCKET];
        cli.json = g.value[CLI_OPT_JSON] != NULL;
        if (g.value[CLI_OPT_TIMEOUT] != NULL)
                cli.timeout_ms = 1000 * (int)g.num[CLI_OPT_TIMEOUT];
        if (g.argc == 0) {
                cli_table_help(stderr);
                return TB_EXIT_USAGE;
        }
        if (sodium_init() < 0)
                cli_die(TB_EXIT_OTHER, "cannot initialise libsodium");
        if ((c = cli_table_find(g.argv[0])) == NULL) {
                fprintf(stderr, "%s: unknown command '%s'\n", CLI_PROG,
                        g.argv[0]);
                cli_table_help(stderr);
                return TB_EXIT_USAGE;
        }
        rc = main_run(&cli, c, g.argc, g.argv);
        tb_client_close(cli.conn);
        free(cli.resp);
        return rc;
}
