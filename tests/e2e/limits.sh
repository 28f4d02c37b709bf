#!/bin/bash
# e2e_limits: the configured bounds hold and cost only the client that hits
# them.  max_frame: a frame above it gets TOO_LARGE and is dropped while a
# frame at it is read.  Pipelined reads on one connection are all answered
# (pipelined writes beyond max_inflight: bench_daemon_smoke, which runs with
# max_inflight 2 and 8 writes in flight per connection).  max_connections: at the limit the daemon stops accepting (a new client
# waits, then times out with exit 3), and accepts again once a slot frees.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"
raw() { "$RAWCLIENT" "$@" "$SOCK"; }
frame() {
    local p=${1// /}
    printf '%08x%s' $((${#p} / 2)) "$p"
}

printf 'max_frame = 64\nmax_connections = 3\nmax_inflight = 2\n' \
    >"$TB_TMP/timebankd.conf"
tb_init
daemon_start -c "$TB_TMP/timebankd.conf"

note "max_frame 64: a 64-byte request is read, a 65-byte one is not"
# a CHECKPOINT request padded with trailing bytes: at 64 bytes the daemon
# reads it and answers BAD_REQUEST (trailing bytes); at 65 the length alone
# is refused with TOO_LARGE and the client is dropped
pad57=$(printf '00%.0s' $(seq 57))
ok raw -x "$(frame "01 00cb 00000007 $pad57")" -n 1
grep -q "id=7 status=BAD_REQUEST" "$OUT" || fail "64-byte frame not read"
ok raw -x "$(frame "01 00cb 00000008 ${pad57}00")"
grep -q "status=TOO_LARGE" "$OUT" || fail "65-byte frame not refused"
eq "last line" "$(tail -n 1 "$OUT")" closed
ok tb status

note "40 pipelined reads in one write on one connection: 40 answers"
many=
for i in $(seq 1 40); do
    many+=$(frame "01 00ce $(printf '%08x' "$i")")
done
ok raw -x "$many" -n 40 -t 10000
eq answers "$(grep -c "status=OK" "$OUT")" 40

note "max_connections 3: three idle clients hold every slot"
HOLD=()
for i in 1 2 3; do
    "$RAWCLIENT" -x "$(frame "01 00ce 0000000$i")" -H 20000 -n 1 \
        "$SOCK" >"$TB_TMP/hold$i.out" 2>&1 &
    HOLD+=($!)
done
sleep 1
expect 3 tb --timeout 2 status
note "a slot frees: the next client is served"
kill "${HOLD[0]}"
wait "${HOLD[0]}" 2>/dev/null || true
ok tb --timeout 10 status
kill "${HOLD[1]}" "${HOLD[2]}" 2>/dev/null || true
wait "${HOLD[1]}" "${HOLD[2]}" 2>/dev/null || true
grep -q "not accepting more until one closes" "$DLOG" ||
    fail "the connection limit was not logged"

daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
echo "PASS"
