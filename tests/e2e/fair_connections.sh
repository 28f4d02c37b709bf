#!/bin/bash
# e2e_fair_connections: one uid cannot starve the others (issue 9).  With
# the default limits (max_connections 256, max_connections_per_uid 64,
# frame_timeout 10, idle_timeout 600), root opens 256 idle connections and
# four clients that trickle a frame one byte every 500 ms; meanwhile a
# terminal running as nobody keeps recording services, each with a 10 s
# timeout, and must never wait behind them.  Root's connections beyond its
# 64 are answered BUSY and closed (warning lines rate-limited), and each
# trickler is dropped frame_timeout after its first byte.
# Fails without the per-uid limit (the 256 idle connections fill
# max_connections; the terminal waits in the listen queue and times out)
# and without the frame deadline (the tricklers keep their connections).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"
NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
NOGROUP=$(id -g nobody)
command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
[ "$(id -u)" = 0 ] || skip "needs root, to run the terminal as nobody"

# as_nobody CMD...: run CMD as nobody, no supplementary groups.
as_nobody() {
    setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups "$@"
}

# the terminal (nobody) may reach the socket and read its own key only
chmod 0711 "$TB_TMP"
printf 'socket_mode = 0666\n' >"$TB_TMP/c.conf"
tb_init
daemon_start -c "$TB_TMP/c.conf"
terminal kiosk record
NB=$TB_TMP/nobody
mkdir -m 0700 "$NB"
cp "$TB_TMP/kiosk.key" "$NB/kiosk.key"
# and its pinned copy of the ledger's log key, as installed on a terminal
cp "$DATA/log.pub" "$NB/log.pub"
chown -R "$NOBODY:$NOGROUP" "$NB"
export TIMEBANK_LOG_KEY=$NB/log.pub
ok as_nobody "$TIMEBANK" -s "$SOCK" --timeout 10 register -k "$NB/kiosk.key" \
    carol

note "four tricklers (uid 0): a frame of 256 bytes, 40 sent, 1 per 500 ms"
TRICKLERS=()
for i in 1 2 3 4; do
    "$RAWCLIENT" -x "00000100 01 00ce $(printf '00%.0s' $(seq 35))" \
        -T 500 -t 30000 "$SOCK" >"$TB_TMP/trickle$i.out" &
    TRICKLERS+=($!)
    BG_PIDS+=($!)
done
sleep 0.5

note "256 idle connections (uid 0)"
"$RAWCLIENT" -N 256 -H 25000 "$SOCK" >"$TB_TMP/flood.out" &
FLOOD=$!
BG_PIDS+=($FLOOD)
for _ in $(seq 300); do
    grep -q connected "$TB_TMP/flood.out" && break
    sleep 0.1
done
grep -q "connected 256" "$TB_TMP/flood.out" || fail "the flood did not connect"

note "the terminal (nobody) records 12 services, each within 10 s"
T0=$(($(date +%s) - 86400))
START=$(date +%s%N)
for i in $(seq 12); do
    ok as_nobody timeout 20 "$TIMEBANK" -s "$SOCK" --timeout 10 record \
        -k "$NB/kiosk.key" carol --minutes 1 \
        --start "$(date -u -d "@$((T0 + i * 120))" +%Y-%m-%dT%H:%M:%SZ)"
    sleep 1
done
ok as_nobody "$TIMEBANK" -s "$SOCK" --timeout 10 --json balance carol
eq "carol's points" "$(json balance)" 12
note "the terminal took $((($(date +%s%N) - START) / 1000000)) ms in all"

note "each trickler was dropped about frame_timeout (10 s) after its first byte"
for i in 1 2 3 4; do
    wait "${TRICKLERS[$((i - 1))]}"
    F=$TB_TMP/trickle$i.out
    T=$(grep -o '^trickled [0-9]* bytes in [0-9]* ms' "$F") ||
        fail "trickler $i: $(cat "$F")"
    MS=${T##* in }
    MS=${MS% ms}
    [ "$MS" -ge 9500 ] && [ "$MS" -lt 16000 ] ||
        fail "trickler $i ended after $MS ms, not dropped at frame_timeout (10 s)"
    grep -q "status=BAD_REQUEST message=frame not complete within frame_timeout (10 s)" \
        "$F" || fail "trickler $i: $(cat "$F")"
done

note "root held at most 64 connections; the rest were answered BUSY"
wait "$FLOOD"
L=$(grep '^conns ' "$TB_TMP/flood.out") || fail "flood: $(cat "$TB_TMP/flood.out")"
BUSY=${L#*busy=}
BUSY=${BUSY%% *}
OPEN=${L##*open=}
note "flood: $L"
[ "$BUSY" -ge 192 ] && [ "$OPEN" -le 64 ] && [ $((BUSY + OPEN)) -eq 256 ] ||
    fail "flood: $L"
WARN=$(grep -c '^<4>refused a connection from pid [0-9]* uid 0' "$DLOG" || true)
[ "$WARN" -ge 1 ] && [ "$WARN" -le 4 ] ||
    fail "$WARN refusal lines at warning for $BUSY refusals (rate limit)"

daemon_stop
echo "PASS"
