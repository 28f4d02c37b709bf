#!/bin/bash
# e2e_retry_after_clock_tick: a terminal that does not know whether a write
# went through repeats the same CLI command with the same --request-id
# (docs/cli.md "Retries are safe") and must get DUPLICATE with the original
# seq, exit 0, even when the retry comes a second or more later.
#
# KNOWN FAILING, not registered in tests/CMakeLists.txt: the CLI signs the
# current time into the entry's clock field (tb_client_entry_init), the
# ledger compares the SHA-256 of the whole body, so a retry one second later
# is refused REQUEST_ID_REUSED (exit 1).  Register it once that is fixed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tb_init
daemon_start
terminal kiosk record
K=$TB_TMP/kiosk.key
RID=5eed5eed5eed5eed5eed5eed5eed5eed
START=$(iso 10000)

note "register, then retry 1.1 s later"
ok tb --json register -k "$K" alice --request-id "$RID"
SEQ=$(json seq)
sleep 1.1
ok tb --json register -k "$K" alice --request-id "$RID"
eq status "$(json status)" DUPLICATE
eq seq "$(json seq)" "$SEQ"

note "record with an explicit start, then retry 1.1 s later"
RID=5eed5eed5eed5eed5eed5eed5eed5eee
ok tb --json record -k "$K" alice --minutes 30 --start "$START" \
    --request-id "$RID"
SEQ=$(json seq)
sleep 1.1
ok tb --json record -k "$K" alice --minutes 30 --start "$START" \
    --request-id "$RID"
eq status "$(json status)" DUPLICATE
eq seq "$(json seq)" "$SEQ"
echo "PASS"
