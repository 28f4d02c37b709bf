#!/bin/bash
# e2e_durability: an acknowledged write survives a power cut.
#
# The daemon runs with the powercut layer (tests/e2e/powercut.c, LD_PRELOAD):
# every write to data.mdb reaches the disk image only when LMDB makes it
# durable (fdatasync of the file, or a write through its O_DSYNC meta
# descriptor).  In each cycle, writers with request ids record services
# while the layer cuts the power at a random durability event (the N-th):
# it waits 100 ms (whatever the daemon would send, it sends) and SIGKILLs
# the daemon.  The test then puts the durable image in place of data.mdb,
# as the disk would hold it after the cut, restarts the daemon and checks:
#   - every acknowledged write is there: its retry answers DUPLICATE with
#     the seq first acknowledged;
#   - every unacknowledged one, retried, gives DUPLICATE or one new entry;
#   - never two: the tree holds one entry per request id, no more;
#   - the full check passes (lib.sh, at the end).
# It fails with MDB_NOSYNC forced (nothing is ever durable: the image keeps
# the state of the first start) and with a daemon that answers before its
# commit returns (the cut lands inside that window, after the answer).
# TB_DURABILITY_CYCLES (default 6) and TB_DURABILITY_SEED set the run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${POWERCUT:?set POWERCUT to the powercut.so layer}"

CYCLES=${TB_DURABILITY_CYCLES:-6}
SEED=${TB_DURABILITY_SEED:-$(date +%s)}
WRITERS=4
RANDOM=$SEED
note "seed $SEED (TB_DURABILITY_SEED=$SEED reproduces the cut points)"

tb_init
daemon_start
terminal kiosk record
K=$TB_TMP/kiosk.key
for w in $(seq $WRITERS); do
    ok tb register -k "$K" "w$w"
done
BASE=$(tree_size)
daemon_stop

# Writer w's i-th request: its own request id and service interval, so a
# retry of the same command line is the same request.
T0=$(($(date +%s) - 86400))
rid() { printf '%016x%016x' "$1" "$2"; }
start_of() { date -u -d "@$((T0 - $2 * 120))" +%Y-%m-%dT%H:%M:%SZ; }
record() {
    "$TIMEBANK" -s "$SOCK" --timeout 5 --json record -k "$K" "w$1" \
        --minutes 1 --start "$(start_of "$1" "$2")" --request-id "$(rid "$1" "$2")"
}

# writer W FIRST: records FIRST, FIRST+1, ... until the daemon is gone;
# appends "i seq" for each acknowledged one to $TB_TMP/acked.W and the
# first unacknowledged i to $TB_TMP/next.W.
writer() {
    local w=$1 i=$2 out
    while :; do
        if out=$(record "$w" "$i" 2>/dev/null); then
            seq=$(grep -o '"seq":[0-9]*' <<<"$out" | head -n 1)
            echo "$i ${seq#*:}" >>"$TB_TMP/acked.$w"
            i=$((i + 1))
        else
            echo "$i" >"$TB_TMP/next.$w"
            return 0
        fi
    done
}

# daemon_start_cut N: the daemon under the powercut layer, cutting at the
# N-th durability event; the image starts as the current data.mdb.
daemon_start_cut() {
    rm -f "$TB_TMP/image"
    LD_PRELOAD=$POWERCUT TB_POWERCUT_AT=$1 TB_POWERCUT_IMAGE=$TB_TMP/image \
        ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 \
        daemon_start
}

for w in $(seq $WRITERS); do
    echo 1 >"$TB_TMP/next.$w"
    : >"$TB_TMP/acked.$w"
done
declare -A SEQ_OF # "w i" -> acknowledged seq
ACKED=0 CUTS=0

for cycle in $(seq "$CYCLES"); do
    at=$((RANDOM % 60 + 2))
    note "cycle $cycle: power cut at durability event $at"
    daemon_start_cut "$at"
    for w in $(seq $WRITERS); do
        : >"$TB_TMP/acked.$w"
        writer "$w" "$(cat "$TB_TMP/next.$w")" &
        BG_PIDS+=($!)
    done
    # the layer kills the daemon at event $at; if the writers never reach
    # it, the power goes after 20 s all the same
    for _ in $(seq 200); do
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -KILL "$DAEMON_PID"
    else
        CUTS=$((CUTS + 1))
    fi
    set +e
    wait "$DAEMON_PID"
    set -e
    DAEMON_PID=
    for p in "${BG_PIDS[@]}"; do wait "$p" || true; done
    BG_PIDS=()
    [ -s "$TB_TMP/image" ] || fail "the powercut layer wrote no image"
    cp "$TB_TMP/image" "$DATA/data.mdb"

    n=0
    for w in $(seq $WRITERS); do
        while read -r i s; do
            SEQ_OF["$w $i"]=$s
            n=$((n + 1))
        done <"$TB_TMP/acked.$w"
    done
    ACKED=$((ACKED + n))
    note "cycle $cycle: $n writes acknowledged before the cut"

    daemon_start
    for w in $(seq $WRITERS); do
        next=$(cat "$TB_TMP/next.$w")
        first=$((next - $(wc -l <"$TB_TMP/acked.$w")))
        for i in $(seq "$first" "$((next - 1))"); do
            run record "$w" "$i"
            [ "$RC" -eq 0 ] || fail "retry of acknowledged w$w #$i: exit $RC"
            eq "retry of acknowledged w$w #$i" "$(json status)" DUPLICATE
            eq "seq of acknowledged w$w #$i" "$(json seq)" "${SEQ_OF["$w $i"]}"
        done
        # the write in flight at the cut: DUPLICATE (it was committed) or
        # one new entry; either way it is acknowledged now
        run record "$w" "$next"
        [ "$RC" -eq 0 ] || fail "retry of in-flight w$w #$next: exit $RC"
        SEQ_OF["$w $next"]=$(json seq)
        echo $((next + 1)) >"$TB_TMP/next.$w"
    done
    daemon_stop
done

note "$ACKED writes acknowledged under power cuts, $CUTS cuts by the layer"
[ "$ACKED" -gt 0 ] || fail "no write was acknowledged: the test tested nothing"
[ "$CUTS" -gt 0 ] || fail "the layer never cut the power (no durability event?)"

daemon_start
total=0
for w in $(seq $WRITERS); do
    total=$((total + $(cat "$TB_TMP/next.$w") - 1))
done
eq "tree size (one entry per request id)" "$(tree_size)" $((BASE + total))
note "every acknowledged write is still there with its seq"
for key in "${!SEQ_OF[@]}"; do
    read -r w i <<<"$key"
    run record "$w" "$i"
    eq "final retry of w$w #$i" "$(json status)" DUPLICATE
    eq "final seq of w$w #$i" "$(json seq)" "${SEQ_OF[$key]}"
done
echo PASS
