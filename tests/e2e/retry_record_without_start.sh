#!/bin/bash
# e2e_retry_record_without_start: `timebank record` without --start, retried
# with the same --request-id a second or a minute later, is the same request
# (DUPLICATE with the first seq), never a second credit.
# What broke: --start defaulted to "now - minutes" at each run, so a retry a
# minute later was another body: REQUEST_ID_REUSED, whose message told the
# operator to use a fresh request id, which credited the service twice.  The
# CLI's request ids now carry the time they were made (UUIDv7 layout,
# docs/ledger-format.md "Request ids") and a service without --start ends at
# that time; REQUEST_ID_REUSED names the seq that holds the id and never
# suggests a fresh one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tb_init
daemon_start
terminal kiosk record
K=$TB_TMP/kiosk.key
ok tb register -k "$K" alice

note "record without --start or --request-id; the same command 1.1 s later"
ok tb --json record -k "$K" alice --minutes 1
SEQ=$(json seq)
RID=$(json request_id)
eq points "$(json points)" 1
sleep 1.1
ok tb --json record -k "$K" alice --minutes 1 --request-id "$RID"
eq status "$(json status)" DUPLICATE
eq seq "$(json seq)" "$SEQ"

note "the service ends at the request id's time"
MS=$((16#${RID:0:12}))
ok tb entry "$SEQ"
out_has "1 min of service from $(date -u -d "@$((MS / 1000 - 60))" +%Y-%m-%dT%H:%M:%SZ)"

# v7ID SECONDS_AGO: a request id in the CLI's layout made that long ago.
v7id() {
    local ms hex
    ms=$(($(date +%s%3N) - $1 * 1000))
    hex=$(printf '%012x' "$ms")
    echo "${hex}7abc8def0123456789ab"
}

note "a first attempt two minutes ago (its id made then), retried now"
OLD=$(v7id 130)
ok tb --json record -k "$K" alice --minutes 1 --request-id "$OLD"
SEQ2=$(json seq)
sleep 1.1
ok tb --json record -k "$K" alice --minutes 1 --request-id "$OLD"
eq status "$(json status)" DUPLICATE
eq seq "$(json seq)" "$SEQ2"
ok tb --json balance alice
eq "balance: two services, each credited once" "$(json balance)" 2

note "another service under a used id: REQUEST_ID_REUSED names the seq"
refused REQUEST_ID_REUSED tb record -k "$K" alice --minutes 2 \
    --request-id "$OLD"
err_has "seq $SEQ2"
if grep -qi "fresh" "$ERR"; then
    fail "a refusal of a reused id suggests a fresh id"
fi

note "an id the CLI did not make needs --start (a retry could not match)"
expect 2 tb record -k "$K" alice --minutes 1 \
    --request-id 00112233445566778899aabbccddeeff
err_has "give --start"
ok tb --json balance alice
eq "balance unchanged" "$(json balance)" 2
echo PASS
