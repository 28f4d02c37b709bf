#!/bin/bash
# e2e_sigterm_under_load: SIGTERM while 16 CLI writers are busy.  The daemon
# finishes and answers what it took, exits 0 and removes its socket; the
# writers see success or a transient failure (unreachable, UNAVAILABLE),
# never a refusal; after a restart every write whose CLI printed a seq is
# in the log under that seq, and each balance is exactly the sum of the
# points acknowledged to its writer (nothing committed unanswered).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

WRITERS=16
MAX_WRITES=60 # < 64: one history page per account

tb_init
daemon_start
terminal kiosk record
K=$TB_TMP/kiosk.key
for w in $(seq 1 $WRITERS); do
    ok tb register -k "$K" "s$w"
done
NOW=$(date +%s)

# writer W: record services for sW until a write fails; "seq points" per
# acknowledged write, the failing exit status in writerW.rc.
writer() {
    local w=$1 i out rc
    for i in $(seq 1 $MAX_WRITES); do
        set +e
        out=$("$TIMEBANK" -s "$SOCK" --timeout 10 --json record -k "$K" \
            "s$w" --minutes 10 \
            --start "$(date -u -d "@$((NOW - 86400 * 3 + i * 900))" \
                +%Y-%m-%dT%H:%M:%SZ)" 2>>"$TB_TMP/writer$w.err")
        rc=$?
        set -e
        if [ "$rc" -ne 0 ]; then
            echo "$rc" >"$TB_TMP/writer$w.rc"
            return 0
        fi
        echo "$(json seq <(echo "$out")) $(json points <(echo "$out"))" \
            >>"$TB_TMP/writer$w.log"
    done
    echo done >"$TB_TMP/writer$w.rc"
}

note "$WRITERS writers"
PIDS=()
for w in $(seq 1 $WRITERS); do
    : >"$TB_TMP/writer$w.log"
    writer "$w" &
    PIDS+=($!)
    BG_PIDS+=($!)
done

note "SIGTERM once the load is running"
for _ in $(seq 300); do
    [ "$(cat "$TB_TMP"/writer*.log | wc -l)" -ge 48 ] && break
    sleep 0.1
done
[ "$(cat "$TB_TMP"/writer*.log | wc -l)" -ge 48 ] ||
    fail "the writers did not get going"
BEFORE=$(cat "$TB_TMP"/writer*.log | wc -l)
daemon_stop TERM
eq "daemon exit status after SIGTERM under load" "$DAEMON_RC" 0
[ ! -e "$SOCK" ] || fail "the socket file was left behind"
for p in "${PIDS[@]}"; do
    wait "$p" || fail "a writer crashed"
done
BG_PIDS=()
grep -q "SIGTERM: finishing queued writes" "$DLOG" || fail "SIGTERM not logged"

note "writers saw success or a transient failure, never a refusal"
STOPPED=0
for w in $(seq 1 $WRITERS); do
    rc=$(cat "$TB_TMP/writer$w.rc")
    case "$rc" in
    done) ;;
    3) STOPPED=$((STOPPED + 1)) ;;
    4)
        grep -q "UNAVAILABLE" "$TB_TMP/writer$w.err" ||
            fail "writer $w: $(cat "$TB_TMP/writer$w.err")"
        STOPPED=$((STOPPED + 1))
        ;;
    *) fail "writer $w exited $rc: $(cat "$TB_TMP/writer$w.err")" ;;
    esac
done
[ "$STOPPED" -gt 0 ] || fail "SIGTERM came after the load: nothing tested"
TOTAL=$(cat "$TB_TMP"/writer*.log | wc -l)
note "$BEFORE writes acknowledged at SIGTERM, $TOTAL in all, $STOPPED writers cut off"

note "restart: every acknowledged write is in the log, balances exact"
daemon_start
for w in $(seq 1 $WRITERS); do
    ok tb --json history "s$w" --limit 64
    cp "$OUT" "$TB_TMP/history$w"
    want=0
    while read -r seq points; do
        grep -q "\"seq\":$seq," "$TB_TMP/history$w" ||
            fail "acknowledged seq $seq of s$w is not in the log"
        want=$((want + points))
    done <"$TB_TMP/writer$w.log"
    ok tb --json balance "s$w"
    eq "balance of s$w" "$(json balance)" "$want"
    eq "entries of s$w" "$(json entries)" \
        $(($(wc -l <"$TB_TMP/writer$w.log") + 1))
done
ok tb prove "$(($(tree_size) - 1))" --log-key "$DATA/log.pub"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
ok "$TIMEBANKD" check -d "$DATA"
out_has "all equal"
echo "PASS"
