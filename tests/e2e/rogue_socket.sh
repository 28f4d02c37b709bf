#!/bin/bash
# e2e_rogue_socket: trust is pinned on the client (docs/cli.md, "Trust").
# A terminal whose pinned log key is the real ledger's, pointed at a rogue
# socket, signs nothing for it: a second timebankd with another origin, or
# with the real origin but another log key, gets exit 5 and no entry (its
# log does not grow), and no proof from it is "verified".  Through a proxy
# that forwards to the real daemon but tampers (rogue_proxy.c): a proof of
# another entry or another size than asked is refused, and a checkpoint
# carrying terminal control bytes (in its text, or in the line of an
# unknown cosigner, which the log's signature does not cover) is never
# printed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${ROGUE_PROXY:?set ROGUE_PROXY to tests/e2e/rogue_proxy}"
tb_init
daemon_start
terminal kiosk record
K=(-k "$TB_TMP/kiosk.key")
ok tb register "${K[@]}" alice
ok tb record "${K[@]}" alice --minutes 30
ok tb register "${K[@]}" bob
REAL_SIZE=$(tree_size)

# rogue ORIGIN DIR SOCK: a ledger of its own (its own log key, an admin
# key of its own) that has enrolled the terminal's public key too, served
# on SOCK; sets ROGUE_PID.
rogue() {
    keygen "rogueadmin$3"
    "$TIMEBANKD" init -d "$2" --origin "$1" \
        --admin "$TB_TMP/rogueadmin$3.key.pub" >/dev/null || fail "rogue init"
    "$TIMEBANKD" -d "$2" -s "$TB_TMP/rogue$3.sock" 2>>"$DLOG" &
    ROGUE_PID=$!
    BG_PIDS+=("$ROGUE_PID")
    for _ in $(seq 300); do
        "$TIMEBANK" -s "$TB_TMP/rogue$3.sock" --timeout 2 status \
            >/dev/null 2>&1 && break
        sleep 0.1
    done
    ok "$TIMEBANK" -s "$TB_TMP/rogue$3.sock" enroll --log-key "$2/log.pub" \
        -k "$TB_TMP/rogueadmin$3.key" "$TB_TMP/kiosk.key.pub" --role record
    ok "$TIMEBANK" -s "$TB_TMP/rogue$3.sock" register --log-key "$2/log.pub" \
        "${K[@]}" alice
}

# rogue_size N: the rogue ledger N's tree size, asked with its own key.
rogue_size() {
    "$TIMEBANK" -s "$TB_TMP/rogue$1.sock" --json status |
        grep -o '"tree_size":[0-9]*' | cut -d: -f2
}

note "a rogue ledger of another origin: the write is refused, unsigned"
rogue evil.example.org/timebank "$TB_TMP/rogue1" 1
before=$(rogue_size 1)
expect 5 "$TIMEBANK" -s "$TB_TMP/rogue1.sock" record "${K[@]}" alice \
    --minutes 30
err_has "is not the pinned ledger: it reports origin 'evil.example.org/timebank'"
err_has "nothing was signed or sent"
eq "rogue tree size" "$(rogue_size 1)" "$before"
note "... and its proofs are not verified"
expect 5 "$TIMEBANK" -s "$TB_TMP/rogue1.sock" prove 0
err_has "does not verify with the pinned log key $ORIGIN"
expect 5 "$TIMEBANK" -s "$TB_TMP/rogue1.sock" receipt 1
expect 5 "$TIMEBANK" -s "$TB_TMP/rogue1.sock" checkpoint
err_has "does not verify with the pinned log key"

note "a rogue ledger claiming the real origin, with another log key"
rogue "$ORIGIN" "$TB_TMP/rogue2" 2
before=$(rogue_size 2)
expect 5 "$TIMEBANK" -s "$TB_TMP/rogue2.sock" record "${K[@]}" alice \
    --minutes 30
err_has "is not the pinned ledger: it reports origin '$ORIGIN' and log key"
eq "rogue tree size" "$(rogue_size 2)" "$before"
expect 5 "$TIMEBANK" -s "$TB_TMP/rogue2.sock" prove 0
expect 5 "$TIMEBANK" -s "$TB_TMP/rogue2.sock" --json prove 0
grep -q '"verified":true' "$OUT" && fail "a rogue proof was verified"

note "the real ledger is untouched and its terminal still works"
eq "real tree size" "$(tree_size)" "$REAL_SIZE"
ok tb record "${K[@]}" bob --minutes 15

# proxy MODE: rogue_proxy in front of the real daemon on $TB_TMP/proxy.sock
proxy() {
    rm -f "$TB_TMP/proxy.sock"
    "$ROGUE_PROXY" "$TB_TMP/proxy.sock" "$SOCK" "$1" &
    PROXY_PID=$!
    BG_PIDS+=("$PROXY_PID")
    for _ in $(seq 100); do
        [ -S "$TB_TMP/proxy.sock" ] && return 0
        sleep 0.05
    done
    fail "rogue_proxy did not start"
}
proxy_stop() {
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
}

note "a proof of another entry than asked: NOT verified"
proxy index
expect 5 "$TIMEBANK" -s "$TB_TMP/proxy.sock" prove 1
err_has "the daemon answered for entry 2"
err_has "NOT verified"
expect 5 "$TIMEBANK" -s "$TB_TMP/proxy.sock" receipt 1
err_has "answered with entry 2 instead of 1"
proxy_stop

note "a proof at another size than asked: NOT verified"
proxy size
expect 5 "$TIMEBANK" -s "$TB_TMP/proxy.sock" prove 1 --size 3
err_has "not the one asked for: NOT verified"
proxy_stop

note "a checkpoint with terminal control bytes is not printed"
proxy ctl
expect 5 "$TIMEBANK" -s "$TB_TMP/proxy.sock" checkpoint
err_has "is not a signed checkpoint"
[ -s "$OUT" ] && fail "something was printed: $(od -c "$OUT" | head -n 3)"
grep -q $'\x1b' "$ERR" && fail "control bytes reached standard error"
expect 5 env -u TIMEBANK_LOG_KEY XDG_CONFIG_HOME="$TB_TMP/nocfg" \
    "$TIMEBANK" -s "$TB_TMP/proxy.sock" checkpoint
[ -s "$OUT" ] && fail "something was printed without a pinned key"
proxy_stop

note "an unknown cosigner's line with a C1 control: verified, never printed"
proxy cosig
expect 5 "$TIMEBANK" -s "$TB_TMP/proxy.sock" checkpoint
[ -s "$OUT" ] && fail "a checkpoint with a C1 control was printed"
expect 5 "$TIMEBANK" -s "$TB_TMP/proxy.sock" prove 1
err_has "holds control characters: not printed"
[ -s "$OUT" ] && fail "a proof with a C1 control was printed"
expect 5 "$TIMEBANK" -s "$TB_TMP/proxy.sock" receipt 1
err_has "holds control characters: no receipt made"
grep -q $'\xc2\x9b' "$ERR" && fail "a C1 control reached standard error"
proxy_stop
ok tb checkpoint
ok tb prove 1
