#!/bin/bash
# e2e_restart: a daemon restart between writes loses nothing and forgets
# nothing (balances, checkpoint, proofs, remembered request ids and
# refusals); SIGKILL loses no acknowledged write (nor the account rows
# written behind: derived again at the next start) and leaves a stale socket
# that the next start replaces; a second daemon on the same ledger, or on a
# live socket, refuses to start, as does one whose socket path is not a
# socket.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tb_init
daemon_start
terminal kiosk record,redeem
K=$TB_TMP/kiosk.key
RID_OK=0000000000000000000000000000abcd
RID_NO=0000000000000000000000000000dcba
ok tb register -k "$K" alice
ok tb record -k "$K" alice --minutes 45 --start "$(iso 50000)"
# byte-identical requests (rawclient -C pins the entry's clock), to be
# retried after the restart: one accepted, one refused (remembered), one
# accepted from a key that is revoked before the retry
: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"
CLK=$(date +%s)
terminal kiosk2 record
K2=$TB_TMP/kiosk2.key
raw_register() { # KEY ACCOUNT RID
    ok "$RAWCLIENT" -R "$1:$2:$3" -o "$ORIGIN" -C "$CLK" -n 1 "$SOCK"
}
raw_register "$K" carol "$RID_OK"
grep -q "status=OK seq=" "$OUT" || fail "raw register carol"
CAROL_SEQ=$(grep -o "seq=[0-9]*" "$OUT" | cut -d= -f2)
raw_register "$K" alice "$RID_NO"
grep -q "status=ACCOUNT_EXISTS " "$OUT" || fail "raw register alice"
raw_register "$K2" dora "$RID_OK"
DORA_SEQ=$(grep -o "seq=[0-9]*" "$OUT" | cut -d= -f2)
ok tb --json balance alice
cp "$OUT" "$TB_TMP/balance.before"
ok tb checkpoint
cp "$OUT" "$TB_TMP/checkpoint.before"
S1=$(tree_size)

note "stop and start again"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
daemon_start

note "the same balance, the same checkpoint byte for byte"
ok tb --json balance alice
cmp -s "$OUT" "$TB_TMP/balance.before" || fail "balance changed over restart"
ok tb checkpoint
cmp -s "$OUT" "$TB_TMP/checkpoint.before" ||
    fail "checkpoint changed over restart"
eq "tree size" "$(tree_size)" "$S1"

note "every entry still proves against the log key"
for seq in $(seq 0 $((S1 - 1))); do
    ok tb prove "$seq" --log-key "$DATA/log.pub"
done

note "retries after the restart: DUPLICATE and the remembered refusal"
raw_register "$K" carol "$RID_OK"
grep -q "status=DUPLICATE seq=$CAROL_SEQ " "$OUT" || fail "carol's retry"
raw_register "$K" alice "$RID_NO"
grep -q "status=ACCOUNT_EXISTS " "$OUT" || fail "alice's retry"
# the CLI signs a new clock: still the same request
ok tb --json register -k "$K" carol --request-id "$RID_OK"
eq "CLI retry of carol" "$(json status)" DUPLICATE
eq "CLI retry seq" "$(json seq)" "$CAROL_SEQ"
ok tb revoke -k "$TB_TMP/admin.key" "$TB_TMP/kiosk2.key.pub"
raw_register "$K2" dora "$RID_OK"
grep -q "status=DUPLICATE seq=$DORA_SEQ " "$OUT" ||
    fail "a retry from a key revoked since is not DUPLICATE"
raw_register "$K2" dora ffffffffffffffffffffffffffffffff
grep -q "status=KEY_REVOKED " "$OUT" || fail "a new request from a revoked key"
eq "tree size" "$(tree_size)" $((S1 + 1))
ok tb record -k "$K" alice --minutes 600 --start "$(iso 100000)"

note "new writes continue the log; consistency from before the restart"
ok tb --json redeem -k "$K" alice --points 500 --item bus
eq seq "$(json seq)" $((S1 + 2))
ok tb --json consistency "$S1"
eq old_size "$(json old_size)" "$S1"
eq size "$(json size)" $((S1 + 3))

note "a second daemon on the same ledger refuses to start (its lock)"
expect 1 timeout 30 "$TIMEBANKD" -d "$DATA" -s "$TB_TMP/other.sock"
err_has "has this ledger open"
[ ! -e "$TB_TMP/other.sock" ] || fail "the refused daemon made a socket"
note "a daemon of another ledger on the live socket refuses to start"
"$TIMEBANKD" init -d "$TB_TMP/other" --origin other.example.org/ledger \
    --admin "$TB_TMP/admin.key.pub" >/dev/null || fail "init other"
expect 1 timeout 30 "$TIMEBANKD" -d "$TB_TMP/other" -s "$SOCK"
err_has "already answers on $SOCK"
ok tb status
[ -S "$SOCK" ] || fail "the second daemon removed the live socket"

note "SIGKILL: acknowledged writes survive, the stale socket is replaced"
ACKED=()
for i in 1 2 3 4 5; do
    ok tb --json record -k "$K" alice --minutes 10 \
        --start "$(iso $((200000 + i * 3600)))"
    ACKED+=("$(json seq)")
done
ok tb --json balance alice
cp "$OUT" "$TB_TMP/balance.before"
ok tb --json status
ACCOUNTS=$(json accounts)
ok tb history alice
cp "$OUT" "$TB_TMP/history.before"
daemon_stop KILL
[ -S "$SOCK" ] || fail "expected a stale socket after SIGKILL"
expect 3 tb status
daemon_start
grep -q "removing stale socket $SOCK" "$DLOG" || fail "stale socket not logged"
# the account rows of the writes since the start were behind (format 4)
# and died with the process: derived again from the log
grep -q "the account rows of the last [0-9]* entries were not written" \
    "$DLOG" || fail "the catch-up of the rows behind was not logged"
ok tb --json status
eq "accounts after SIGKILL" "$(json accounts)" "$ACCOUNTS"
ok tb history alice
cmp -s "$OUT" "$TB_TMP/history.before" || fail "history changed over SIGKILL"
for seq in "${ACKED[@]}"; do
    ok tb --json entry "$seq"
    eq "kind of seq $seq" "$(json kind)" service
done
ok tb --json balance alice
cmp -s "$OUT" "$TB_TMP/balance.before" || fail "balance changed over SIGKILL"
ok tb prove "${ACKED[4]}" --log-key "$DATA/log.pub"

note "a socket path that is not a socket is never replaced"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
echo "precious" >"$SOCK"
expect 1 timeout 30 "$TIMEBANKD" -d "$DATA" -s "$SOCK"
err_has "is not a socket"
eq "the file at the socket path" "$(cat "$SOCK")" precious
rm -f "$SOCK"

note "full check"
ok "$TIMEBANKD" check -d "$DATA"
out_has "all equal"
echo "PASS"
