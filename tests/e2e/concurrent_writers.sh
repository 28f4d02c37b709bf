#!/bin/bash
# e2e_concurrent_writers: 32 CLI clients writing at once (group commit under
# contention).  Every acknowledged write is in the log under the seq it was
# given, of the right kind and account; no entry exists that nobody was
# told about; balances equal exactly the sum of the acknowledged points;
# the daemon stops cleanly and the full check replays to the same state.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

WRITERS=32
SERVICES=5
KEYS=4

tb_init
daemon_start
for k in $(seq 0 $((KEYS - 1))); do
    terminal "kiosk$k" record,redeem
done
BASE=$(tree_size)
NOW=$(date +%s)

# writer W: register vW, SERVICES services with distinct non-overlapping
# starts, one redeem; "seq account kind points" per acknowledged write.
writer() {
    local w=$1 key=$TB_TMP/kiosk$(($1 % KEYS)).key acct=v$1 i out
    local log=$TB_TMP/writer$w.log
    out=$("$TIMEBANK" -s "$SOCK" --json register -k "$key" "$acct") ||
        return 1
    echo "$(json seq <(echo "$out")) $acct register 0" >>"$log"
    for i in $(seq 1 $SERVICES); do
        out=$("$TIMEBANK" -s "$SOCK" --json record -k "$key" "$acct" \
            --minutes $((20 + w % 7 + i)) \
            --start "$(date -u -d "@$((NOW - 86400 * 2 + i * 7200))" \
                +%Y-%m-%dT%H:%M:%SZ)") || return 1
        echo "$(json seq <(echo "$out")) $acct service \
$(json points <(echo "$out"))" >>"$log"
    done
    out=$("$TIMEBANK" -s "$SOCK" --json redeem -k "$key" "$acct" \
        --points $((w % 5 + 1)) --item tea) || return 1
    echo "$(json seq <(echo "$out")) $acct redeem \
$(json points <(echo "$out"))" >>"$log"
}

note "$WRITERS writers, $((SERVICES + 2)) writes each, all at once"
writers_start "$WRITERS" writer
FAILED=0
writers_wait || FAILED=$?
[ "$FAILED" -eq 0 ] || fail "$FAILED writers had a write refused or lost"

cat "$TB_TMP"/writer*.log >"$TB_TMP/acked"
TOTAL=$(wc -l <"$TB_TMP/acked")
eq "acknowledged writes" "$TOTAL" $((WRITERS * (SERVICES + 2)))

note "seqs: distinct, exactly the new entries"
sort -n -k1,1 "$TB_TMP/acked" >"$TB_TMP/acked.sorted"
[ -z "$(cut -d' ' -f1 "$TB_TMP/acked.sorted" | uniq -d)" ] ||
    fail "two writes were acknowledged with the same seq"
eq "first new seq" "$(head -n 1 "$TB_TMP/acked.sorted" | cut -d' ' -f1)" \
    "$BASE"
eq "last new seq" "$(tail -n 1 "$TB_TMP/acked.sorted" | cut -d' ' -f1)" \
    $((BASE + TOTAL - 1))
eq "tree size" "$(tree_size)" $((BASE + TOTAL))

note "every acknowledged seq is in the log, of its kind and account"
while read -r seq acct kind points; do
    ok tb --json entry "$seq"
    eq "kind of seq $seq" "$(json kind)" "$kind"
done <"$TB_TMP/acked"
for w in $(seq 1 $WRITERS); do
    ok tb --json history "v$w" --limit 64
    while read -r seq acct kind points; do
        grep -q "\"seq\":$seq," "$OUT" ||
            fail "seq $seq is not in the history of $acct"
    done <"$TB_TMP/writer$w.log"
done

note "balances equal the sum of the acknowledged points"
for w in $(seq 1 $WRITERS); do
    want=0
    while read -r seq acct kind points; do
        want=$((want + points))
    done <"$TB_TMP/writer$w.log"
    ok tb --json balance "v$w"
    eq "balance of v$w" "$(json balance)" "$want"
    eq "entries of v$w" "$(json entries)" $((SERVICES + 2))
done

note "proofs hold for the last entry"
ok tb prove $((BASE + TOTAL - 1)) --log-key "$DATA/log.pub"
ok tb consistency "$BASE"

note "clean stop, full check"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
ok "$TIMEBANKD" check -d "$DATA"
out_has "all equal"
echo "PASS"
