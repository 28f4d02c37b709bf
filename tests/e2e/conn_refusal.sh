#!/bin/bash
# e2e_conn_refusal: the per-uid connection limit and the frame deadline, at
# a small scale (so it runs under memcheck too; e2e_fair_connections is the
# same at the default scale, with a terminal of another uid).
#   - at max_connections_per_uid, a new connection of that uid gets BUSY
#     (type 0, id 0: the CLI parses it: exit 4, "BUSY") and is closed;
#   - the refusals are logged at warning at most once per period;
#   - a client that trickles a frame is dropped frame_timeout after its
#     first byte, with a BAD_REQUEST that says so, and its slot frees.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"
frame() {
    local p=${1// /}
    printf '%08x%s' $((${#p} / 2)) "$p"
}
STATUS_REQ=$(frame "01 00ce 00000063") # STATUS, id 99

printf 'max_connections_per_uid = 2\nframe_timeout = 2\n' >"$TB_TMP/c.conf"
tb_init
daemon_start -c "$TB_TMP/c.conf"

note "two idle connections hold uid $(id -u)'s two slots"
"$RAWCLIENT" -N 1 -H 60000 "$SOCK" >"$TB_TMP/idle1.out" &
IDLE1=$!
BG_PIDS+=($IDLE1)
"$RAWCLIENT" -N 1 -H 60000 "$SOCK" >"$TB_TMP/idle2.out" &
IDLE2=$!
BG_PIDS+=($IDLE2)
for _ in $(seq 100); do
    grep -q connected "$TB_TMP/idle1.out" &&
        grep -q connected "$TB_TMP/idle2.out" && break
    sleep 0.1
done

note "a third connection of the same uid: BUSY, parseable by the CLI"
expect 4 tb --timeout 10 status
err_has "BUSY"
err_has "too many connections from uid $(id -u) (max_connections_per_uid 2)"
ok "$RAWCLIENT" -x "$STATUS_REQ" -t 10000 "$SOCK"
grep -q "^response type=0 id=0 status=BUSY " "$OUT" || fail "raw: no BUSY"
eq "last line" "$(tail -n 1 "$OUT")" closed
note "eight more refused in a burst: one warning line for them all"
ok "$RAWCLIENT" -N 8 -H 10000 "$SOCK"
out_has "conns busy=8 closed=0 open=0"
eq "refusals logged at warning" \
    "$(grep -c '^<4>refused a connection from pid' "$DLOG")" 1

note "the idle ones leave: a slot frees"
kill "$IDLE1" "$IDLE2"
wait "$IDLE1" "$IDLE2" 2>/dev/null || true
for _ in $(seq 50); do
    tb --timeout 10 status >/dev/null 2>&1 && break
    sleep 0.2
done
ok tb --timeout 10 status
sleep 1 # for the daemon to see the CLI's connection close

note "a trickler: a STATUS frame announced at 200 bytes, 20 sent, one per 400 ms"
"$RAWCLIENT" -x "000000c8 01 00ce 00000001 $(printf '00%.0s' $(seq 13))" \
    -T 400 -t 20000 "$SOCK" >"$TB_TMP/trickle.out" &
TRICKLE=$!
BG_PIDS+=($TRICKLE)

note "the trickler is dropped about frame_timeout after its first byte"
wait "$TRICKLE"
T=$(grep -o '^trickled [0-9]* bytes in [0-9]* ms' "$TB_TMP/trickle.out") ||
    fail "trickler: $(cat "$TB_TMP/trickle.out")"
MS=${T##* in }
MS=${MS% ms}
LIMIT=6000
[ -z "${TB_MEMCHECK:-}" ] || LIMIT=10000
[ "$MS" -ge 1900 ] && [ "$MS" -lt "$LIMIT" ] ||
    fail "trickler ended after $MS ms, not dropped at frame_timeout (2 s)"
grep -q "^response type=0 id=0 status=BAD_REQUEST message=frame not complete within frame_timeout (2 s)" \
    "$TB_TMP/trickle.out" || fail "no frame_timeout answer: $(cat "$TB_TMP/trickle.out")"
eq "trickler's last line" "$(tail -n 1 "$TB_TMP/trickle.out")" closed
grep -q "frame not complete 2 s after its first byte; dropping the client" \
    "$DLOG" || fail "the frame timeout was not logged"

note "its slot is free again: the CLI is served"
ok tb --timeout 10 status

note "a clean stop"
daemon_stop
echo "PASS"
