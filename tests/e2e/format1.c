/*
 * tests/e2e/format1.c - format1 DIR [FORMAT]: rewrite the stopped ledger in
 * DIR as storage format 1 (or FORMAT: 1, 2 or 3) wrote it
 * (ledger_tamper_format, docs/storage.md, "Upgrading"), so that e2e_upgrade
 * can run `timebankd upgrade` on an older ledger made by today's daemon.
 * Exit 0, or 1 with the reason.
 */
#include <stdio.h>
#include <string.h>

#include "ledger_tamper.h"

int main(int argc, char **argv)
{
        unsigned format = 1;
        int rc;

        if (argc == 3 && strcmp(argv[2], "2") == 0)
                format = 2;
        else if (argc == 3 && strcmp(argv[2], "3") == 0)
                format = 3;
        else if (argc != 2 && !(argc == 3 && strcmp(argv[2], "1") == 0)) {
                fprintf(stderr, "usage: format1 DIR [1|2|3]\n");
                return 2;
        }
        if ((rc = ledger_tamper_format(argv[1], format)) != 0) {
                fprintf(stderr, "format1: %s: error %d\n", argv[1], rc);
                return 1;
        }
        return 0;
}
