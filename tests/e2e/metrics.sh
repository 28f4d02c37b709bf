#!/bin/bash
# e2e_metrics: what an operator watches, with exact numbers.  Writes,
# refusals and reads go through the real CLI; `timebank status --json`
# then shows them (entries, commits, answers by status, requests by type,
# connections, queue) as differences from a first status taken before
# them, and `timebank metrics` prints the same numbers in the Prometheus
# text format: every sample under its HELP and TYPE, valid names, and
# `promtool check metrics` clean; `-o FILE` replaces FILE atomically (mode
# 0644, no temporary file left), and an unreachable daemon gives
# `timebank_up 0` with exit 3.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
    skip "promtool is not installed (Debian package prometheus)"

tb_init
daemon_start
terminal kiosk record
terminal counter redeem
K=$TB_TMP/kiosk.key
C=$TB_TMP/counter.key

# field FILE NAME: a number of the status object
field() { json "$2" "$1"; }
# row FILE LIST LABEL KEY: the count of {KEY:LABEL} in LIST, 0 if absent
row() {
    local v
    v=$(grep -o "\"$2\":\[[^]]*\]" "$1" |
        grep -o "{\"$4\":\"$3\",\"count\":[0-9]*}" |
        grep -o '[0-9]*}$' | tr -d '}') || true
    echo "${v:-0}"
}
# delta WHAT NAME WANT: NAME in $A minus in $B is WANT
delta() { eq "$1" "$(($(field "$A" "$2") - $(field "$B" "$2")))" "$3"; }
# rdelta LIST LABEL KEY WANT
rdelta() {
    eq "$1 $2" "$(($(row "$A" "$1" "$2" "$3") - $(row "$B" "$1" "$2" "$3")))" "$4"
}

B=$TB_TMP/before.json
A=$TB_TMP/after.json
ok tb --json status
cp "$OUT" "$B"
eq "storage_full_total at the start" "$(field "$B" storage_full_total)" 0
eq "storage_full_time_seconds at the start" "$(field "$B" storage_full_time_seconds)" 0

note "two writes, two refusals, one failed read"
ok tb register -k "$K" alice
refused ACCOUNT_EXISTS tb register -k "$K" alice
ok tb record -k "$K" alice --minutes 60 --start "$(iso 7200)"
refused INSUFFICIENT_POINTS tb redeem -k "$C" alice --points 1000 --item meal
expect 1 tb balance nobody
err_has UNKNOWN_ACCOUNT
now=$(date +%s)
ok tb --json status
cp "$OUT" "$A"

delta "entries" tree_size 2
delta "accounts" accounts 1
# every write is its own transaction here (one at a time), refusals too:
# a rule's refusal is committed to be remembered
delta "transactions" batches_total 4
delta "writes committed" batch_writes_total 4
eq "last transaction" "$(field "$A" batch_writes_last)" 1
eq "largest transaction" "$(field "$A" batch_writes_max)" 1
# five commands and the status itself, each one connection
delta "connections accepted" connections_total 6
eq "open connections (this status)" "$(field "$A" connections)" 1
eq "most from one uid (this status)" "$(field "$A" connections_uid_max)" 1
eq "queue depth" "$(field "$A" queue_depth)" 0
eq "storage full" "$(field "$A" storage_full_total)" 0
eq "storage errors" "$(field "$A" storage_errors_total)" 0
rdelta requests_total submit type 4
rdelta requests_total balance type 1
# a write asks STATUS first (the origin it signs for): 4 and this status
rdelta requests_total status type 5
rdelta requests_total stats type 1
rdelta responses_total ACCOUNT_EXISTS status 1
rdelta responses_total INSUFFICIENT_POINTS status 1
rdelta responses_total UNKNOWN_ACCOUNT status 1
# OK: the first status's STATS answer (sent after it was counted), the
# writes' four STATUS answers, two writes, this status's STATUS answer
rdelta responses_total OK status 8
last=$(field "$A" last_commit_time_seconds)
start=$(field "$A" start_time_seconds)
[ "$start" -le "$last" ] && [ "$last" -le "$now" ] ||
    fail "last commit $last is not between the start $start and $now"

note "the text form says the same"
ok tb status
out_has "queue         0 writes waiting"
out_has "storage full  0 transactions refused (last never)"
grep -qE "^ +INSUFFICIENT_POINTS 1$" "$OUT" || fail "no INSUFFICIENT_POINTS 1 line"

note "metrics: the Prometheus text format"
ok tb metrics
M=$TB_TMP/metrics.txt
cp "$OUT" "$M"
entries=$(tree_size)
for line in "timebank_up 1" "timebank_entries $entries" \
    "timebank_accounts 1" "timebank_queue_depth 0" \
    "timebank_storage_full_total 0" \
    'timebank_responses_total{status="INSUFFICIENT_POINTS"} 1' \
    'timebank_responses_total{status="ACCOUNT_EXISTS"} 1' \
    'timebank_responses_total{status="STORAGE_FULL"} 0' \
    'timebank_requests_total{type="balance"} 1' \
    'timebank_requests_total{type="unknown"} 0' \
    "# TYPE timebank_responses_total counter" \
    "# TYPE timebank_entries gauge"; do
    grep -qxF -- "$line" "$M" || fail "metrics lack '$line'"
done
grep -qx "timebank_batches_total [1-9][0-9]*" "$M" || fail "no batches_total"
# every sample: a valid name with the prefix, its HELP and TYPE before it;
# counters end in _total
awk '
    /^# HELP / { help[$3] = 1; next }
    /^# TYPE / { type[$3] = $4; next }
    /^#/ { print "stray comment: " $0; bad = 1; next }
    {
        name = $1; sub(/\{.*/, "", name)
        if (name !~ /^timebank_[a-z_]+$/) { print "bad name: " $0; bad = 1 }
        if (!(name in help)) { print "no HELP: " name; bad = 1 }
        if (!(name in type)) { print "no TYPE: " name; bad = 1 }
        if (type[name] == "counter" && name !~ /_total$/) {
            print "counter without _total: " name; bad = 1
        }
        if ($NF !~ /^[0-9]+$/) { print "bad value: " $0; bad = 1 }
        n++
    }
    END { if (n < 40) { print "only " n " samples"; bad = 1 }; exit bad }
' "$M" || fail "metrics format"
promtool check metrics <"$M" >"$TB_TMP/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(cat "$TB_TMP/promtool.out")"

note "metrics -o FILE: replaced atomically, readable by the collector"
P=$TB_TMP/prom/timebank.prom
mkdir "$TB_TMP/prom"
echo "stale" >"$P"
ok tb metrics -o "$P"
[ ! -s "$OUT" ] || fail "metrics -o printed on stdout"
grep -qx "timebank_up 1" "$P" || fail "the file lacks timebank_up 1"
grep -q stale "$P" && fail "the old file was not replaced"
eq "mode of $P" "$(stat -c %a "$P")" 644
eq "files in the collector directory" "$(ls "$TB_TMP/prom")" timebank.prom
promtool check metrics <"$P" >"$TB_TMP/promtool.out" 2>&1 ||
    fail "promtool check metrics on the file: $(cat "$TB_TMP/promtool.out")"

note "an unreachable daemon: timebank_up 0, exit 3"
expect 3 "$TIMEBANK" -s "$TB_TMP/nobody.sock" metrics -o "$P"
err_has "cannot reach timebankd"
eq "the file when unreachable" "$(grep -v '^#' "$P")" "timebank_up 0"
expect 4 tb metrics -o "$TB_TMP/no/such/dir/x.prom"
err_has "cannot create a file beside $TB_TMP/no/such/dir/x.prom"
expect 2 tb metrics extra
expect 2 tb metrics -o ""
err_has "metrics: -o needs a file name"

note "refusal lines are limited: at most 20 per 10 s at info, then counted"
t0=$(date +%s)
for i in $(seq 25); do
    refused INSUFFICIENT_POINTS tb redeem -k "$C" alice --points 1000 --item meal
done
t1=$(date +%s)
lines=$(grep -c '^<6>conn [0-9]*: write refused' "$DLOG" || true)
if [ $((t1 - t0)) -lt 8 ]; then
    # 27 refusals in all: 20 in one period (or 2 earlier and 20 in a new one)
    [ "$lines" -ge 20 ] && [ "$lines" -le 22 ] ||
        fail "$lines refusal lines at info for 27 refusals, expected 20..22"
    sleep 11
    refused INSUFFICIENT_POINTS tb redeem -k "$C" alice --points 1000 --item meal
    grep -q '^<6>conn [0-9]*: write refused: INSUFFICIENT_POINTS: .* ([0-9]* more such lines held back in the last 10 s)$' "$DLOG" ||
        fail "the first refusal line of the next period does not count those held back"
    ok tb --json status
    eq "INSUFFICIENT_POINTS answers" "$(row "$OUT" responses_total INSUFFICIENT_POINTS status)" 27
else
    note "25 refusals took $((t1 - t0)) s (a slow run): the period rolled over, not counted"
fi
