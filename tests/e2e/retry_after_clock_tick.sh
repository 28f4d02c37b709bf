#!/bin/bash
# e2e_retry_after_clock_tick: a terminal that does not know whether a write
# went through repeats the same CLI command with the same --request-id
# (docs/cli.md "Retries are safe") and must get DUPLICATE with the original
# seq, exit 0, even when the retry comes a second or more later.
# The CLI signs the current time into the entry's clock field, so such a
# retry differs from the original in that field; until e716893 the ledger
# hashed the whole body and answered REQUEST_ID_REUSED (exit 1).  Remembered
# refusals and REQUEST_ID_REUSED must hold across a clock tick too.
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

note "a refusal retried 1.1 s later, after the state changed: the same refusal"
terminal counter redeem
RID=5eed5eed5eed5eed5eed5eed5eed5eef
refused INSUFFICIENT_POINTS tb redeem -k "$TB_TMP/counter.key" alice \
    --points 100 --item bus --request-id "$RID"
ok tb record -k "$K" alice --minutes 200 --start "$(iso 50000)"
sleep 1.1
refused INSUFFICIENT_POINTS tb redeem -k "$TB_TMP/counter.key" alice \
    --points 100 --item bus --request-id "$RID"

note "other content under a used request id, 1.1 s later: REQUEST_ID_REUSED"
sleep 1.1
refused REQUEST_ID_REUSED tb register -k "$K" bob \
    --request-id 5eed5eed5eed5eed5eed5eed5eed5eed
echo "PASS"
