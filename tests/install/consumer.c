/*
 * tests/install/consumer.c - a program built the way a user builds against
 * an installed libtimebank: only <timebank.h> and `pkg-config timebank`.
 * It must compile, link and report an unreachable daemon correctly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <timebank.h>

int main(int argc, char **argv)
{
        struct tb_client *c = NULL;
        enum tb_err e;

        if (argc != 2)
                return 2;
        e = tb_client_connect(argv[1], 1000, &c);
        if (e != TB_E_CONNECT || c != NULL) {
                fprintf(stderr, "connect to %s: %s\n", argv[1], tb_strerror(e));
                return 1;
        }
        if (strcmp(tb_status_name(TB_ST_INSUFFICIENT_POINTS),
                   "INSUFFICIENT_POINTS") != 0)
                return 1;
        printf("libtimebank from pkg-config: %s (%s)\n", tb_strerror(e),
               strerror(errno));
        return 0;
}
