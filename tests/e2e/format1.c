/*
 * tests/e2e/format1.c - format1 DIR: rewrite the stopped ledger in DIR as
 * storage format 1 wrote it (ledger_tamper_format1, docs/storage.md,
 * "Upgrading"), so that e2e_upgrade can run `timebankd upgrade` on a
 * format-1 ledger made by today's daemon.  Exit 0, or 1 with the reason.
 */
#include <stdio.h>

#include "ledger_tamper.h"

int main(int argc, char **argv)
{
        int rc;

        if (argc != 2) {
                fprintf(stderr, "usage: format1 DIR\n");
                return 2;
        }
        if ((rc = ledger_tamper_format1(argv[1])) != 0) {
                fprintf(stderr, "format1: %s: error %d\n", argv[1], rc);
                return 1;
        }
        return 0;
}
