#!/bin/bash
# e2e_upgrade: `timebankd upgrade` (docs/storage.md, "Upgrading").  A ledger
# written by the daemon and rewritten as storage format 1 (tests/e2e/format1,
# the minimal writer of older formats; then as formats 2 and 3) is refused
# by the daemon, which names
# the command; the upgrade refuses while a daemon holds the ledger, leaves no
# DIR/upgrade.new, clears one left by an interrupted run; the upgraded
# ledger answers the same balances, history and checkpoint, remembers the
# same request ids and refusals, takes new writes, and passes the full check
# (the EXIT trap); a second upgrade has nothing to do.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${FORMAT1:?set FORMAT1 to the format1 binary}"
: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"

tb_init
daemon_start
terminal kiosk record,redeem
K=$TB_TMP/kiosk.key
ok tb register -k "$K" alice
ok tb register -k "$K" bob
for i in 1 2 3 4; do
    ok tb record -k "$K" alice --minutes $((20 + i)) --start "$(iso $((i * 7200)))"
done
ok tb record -k "$K" bob --minutes 90 --start "$(iso 40000)"
ok tb transfer -k "$K" bob alice --points 30
# a byte-identical request to retry after the upgrade
CLK=$(date +%s)
RID_OK=0000000000000000000000000000abcd
raw_register() { # KEY ACCOUNT RID
    ok "$RAWCLIENT" -R "$1:$2:$3" -o "$ORIGIN" -C "$CLK" -n 1 "$SOCK"
}
raw_register "$K" carol "$RID_OK"
grep -q "status=OK seq=" "$OUT" || fail "raw register carol"
CAROL_SEQ=$(grep -o "seq=[0-9]*" "$OUT" | cut -d= -f2)
# alice has 90 + 30 points: a redeem of 200 is refused, and its retry
# must stay refused after the upgrade, when she can afford it
RID_RED=00000000000000000000000000000bed
refused INSUFFICIENT_POINTS tb redeem -k "$K" alice --points 200 --item bus \
    --request-id "$RID_RED"
for a in alice bob; do
    ok tb --json balance "$a"
    cp "$OUT" "$TB_TMP/balance.$a"
    ok tb --json history "$a" --limit 3
    cp "$OUT" "$TB_TMP/history.$a"
done
ok tb checkpoint
cp "$OUT" "$TB_TMP/checkpoint.before"
S1=$(tree_size)

note "upgrade refuses while the daemon holds the ledger"
expect 1 "$TIMEBANKD" upgrade -d "$DATA"
err_has "has this ledger open"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0

note "the ledger rewritten as format 1: the daemon refuses and names the command"
ok "$FORMAT1" "$DATA"
expect 1 timeout 30 "$TIMEBANKD" -d "$DATA" -s "$SOCK"
err_has "timebankd upgrade -d DIR"
[ ! -e "$SOCK" ] || fail "a refused start left a socket"
expect 1 "$TIMEBANKD" check -d "$DATA"
err_has "timebankd upgrade -d DIR"

note "an interrupted upgrade's leftover is cleared"
mkdir "$DATA/upgrade.new"
echo "half a ledger" >"$DATA/upgrade.new/data.mdb"
expect 2 "$TIMEBANKD" upgrade
ok "$TIMEBANKD" upgrade -d "$DATA"
out_has "upgraded storage format 1 to 4: replayed $S1 entries"
out_has "full check: all equal"
[ ! -e "$DATA/upgrade.new" ] || fail "upgrade left $DATA/upgrade.new"
ok "$TIMEBANKD" upgrade -d "$DATA"
out_has "nothing to do"

note "the same answers after the upgrade"
daemon_start
for a in alice bob; do
    ok tb --json balance "$a"
    cmp -s "$OUT" "$TB_TMP/balance.$a" || fail "balance of $a changed"
    ok tb --json history "$a" --limit 3
    cmp -s "$OUT" "$TB_TMP/history.$a" || fail "history of $a changed"
done
ok tb checkpoint
cmp -s "$OUT" "$TB_TMP/checkpoint.before" || fail "checkpoint changed"
raw_register "$K" carol "$RID_OK"
grep -q "status=DUPLICATE seq=$CAROL_SEQ " "$OUT" || fail "carol's retry"
eq "tree size" "$(tree_size)" "$S1"

note "new writes, and the refusal remembered from before the upgrade"
ok tb --json record -k "$K" alice --minutes 100 --start "$(iso 90000)"
eq seq "$(json seq)" "$S1"
eq balance "$(json balance)" 220
refused INSUFFICIENT_POINTS tb redeem -k "$K" alice --points 200 --item bus \
    --request-id "$RID_RED"
ok tb --json balance alice
eq balance "$(json balance)" 220
ok tb --json consistency "$S1"
eq old_size "$(json old_size)" "$S1"

note "format 2 (the one before this) upgrades the same way"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
S2=$((S1 + 1))
ok "$FORMAT1" "$DATA" 2
expect 1 timeout 30 "$TIMEBANKD" -d "$DATA" -s "$SOCK"
err_has "format 1, 2 or 3 is no longer served"
err_has "timebankd upgrade -d DIR"
ok "$TIMEBANKD" upgrade -d "$DATA"
out_has "upgraded storage format 2 to 4: replayed $S2 entries"
out_has "full check: all equal"
daemon_start
ok tb --json balance alice
eq balance "$(json balance)" 220
refused INSUFFICIENT_POINTS tb redeem -k "$K" alice --points 200 --item bus \
    --request-id "$RID_RED"
raw_register "$K" carol "$RID_OK"
grep -q "status=DUPLICATE seq=$CAROL_SEQ " "$OUT" || fail "carol's retry after 2 to 4"

note "format 3 (the one before this): one meta row, then the full check"
ok tb --json record -k "$K" alice --minutes 30 --start "$(iso 95000)"
ok tb --json balance alice
cp "$OUT" "$TB_TMP/balance.alice3"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
ok "$FORMAT1" "$DATA" 3
expect 1 timeout 30 "$TIMEBANKD" -d "$DATA" -s "$SOCK"
err_has "format 1, 2 or 3 is no longer served"
ok "$TIMEBANKD" upgrade -d "$DATA"
out_has "upgraded storage format 3 to 4"
out_has "full check: all equal"
daemon_start
ok tb --json balance alice
cmp -s "$OUT" "$TB_TMP/balance.alice3" || fail "balance of alice changed"
raw_register "$K" carol "$RID_OK"
grep -q "status=DUPLICATE seq=$CAROL_SEQ " "$OUT" || fail "carol's retry after 3 to 4"
