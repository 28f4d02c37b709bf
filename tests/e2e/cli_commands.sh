#!/bin/bash
# e2e_cli_commands: every `timebank` command's success path through the real
# CLI against a real daemon, text and --json output checked; DUPLICATE via
# --request-id; usage errors exit 2; an unreachable daemon exits 3; both
# programs' --help and --version.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

note "help and version"
ok "$TIMEBANKD" --help
out_has "usage: timebankd"
out_has "max_service_age"
ok "$TIMEBANKD" --version
grep -qx "timebankd [0-9]*\.[0-9]*\.[0-9]*" "$OUT" || fail "timebankd --version"
ok "$TIMEBANK" --help
for c in keygen enroll revoke policy register record redeem transfer reverse \
    balance history entry status checkpoint prove consistency receipt \
    verify-receipt; do
    out_has "  $c"
done
ok "$TIMEBANK" --version
grep -qx "timebank [0-9]*\.[0-9]*\.[0-9]*" "$OUT" || fail "timebank --version"
ok "$TIMEBANK" record --help
out_has "record -k KEY ACCOUNT --minutes M"

note "keygen"
ok "$TIMEBANK" keygen admin -o "$TB_TMP/admin.key"
grep -q "^admin+[0-9a-f]\{8\}+" "$OUT" || fail "keygen prints the public key"
eq "secret key mode" "$(stat -c %a "$TB_TMP/admin.key")" 600
grep -q "^PRIVATE+KEY+admin+" "$TB_TMP/admin.key" || fail "secret key format"
cmp -s "$OUT" "$TB_TMP/admin.key.pub" || fail "keygen output != FILE.pub"
expect 4 "$TIMEBANK" keygen admin -o "$TB_TMP/admin.key"
err_has "refusing to overwrite"
ok "$TIMEBANK" --json keygen kiosk -o "$TB_TMP/kiosk.key"
eq name "$(json name)" kiosk
eq public_file "$(json public_file)" "$TB_TMP/kiosk.key.pub"
grep -qF "\"public_key\":\"$(cat "$TB_TMP/kiosk.key.pub")\"" "$OUT" ||
    fail "keygen --json public_key"

note "init and start"
ok "$TIMEBANKD" init -d "$DATA" --origin "$ORIGIN" \
    --admin "$TB_TMP/admin.key.pub"
out_has "created ledger $ORIGIN"
eq "log key mode" "$(stat -c %a "$DATA/log.key")" 600
expect 1 "$TIMEBANKD" init -d "$DATA" --origin "$ORIGIN" \
    --admin "$TB_TMP/admin.key.pub"
daemon_start
note "no log key pinned: writes and proofs refuse, nothing is sent"
expect 2 env -u TIMEBANK_LOG_KEY XDG_CONFIG_HOME="$TB_TMP/nocfg" \
    "$TIMEBANK" register -k "$TB_TMP/admin.key" nobody
err_has "a write needs the ledger's log key pinned"
expect 2 env -u TIMEBANK_LOG_KEY XDG_CONFIG_HOME="$TB_TMP/nocfg" \
    "$TIMEBANK" prove 0
err_has "verifying a proof needs the ledger's log key pinned"
ok env -u TIMEBANK_LOG_KEY XDG_CONFIG_HOME="$TB_TMP/nocfg" \
    "$TIMEBANK" checkpoint
err_has "the checkpoint is NOT verified (no log key pinned"
# as a terminal's installation pins it
export TIMEBANK_LOG_KEY=$DATA/log.pub

note "status"
ok tb status
out_has "origin        $ORIGIN"
out_has "entries       1"
ok tb --json status
eq origin "$(json origin)" "$ORIGIN"
eq tree_size "$(json tree_size)" 1
eq keys_active "$(json keys_active)" 1
eq log_key "$(json log_key)" "$(cat "$DATA/log.pub")"

note "enroll, json and text"
ok tb --json enroll -k "$TB_TMP/admin.key" "$TB_TMP/kiosk.key.pub" \
    --role record,redeem
eq status "$(json status)" OK
eq seq "$(json seq)" 1
eq points "$(json points)" 0
json balance >/dev/null
keygen counter
ok tb enroll -k "$TB_TMP/admin.key" "$TB_TMP/counter.key.pub" --role redeem
grep -q "^enroll: recorded as seq 2 (request id [0-9a-f]\{32\})$" "$OUT" ||
    fail "enroll text output"
K=$TB_TMP/kiosk.key

note "policy"
ok tb --json policy -k "$TB_TMP/admin.key" --points-per-hour 120 \
    --activity garden
eq status "$(json status)" OK
eq seq "$(json seq)" 3
ok tb policy -k "$TB_TMP/admin.key" --daily-minutes-cap 0 --max-balance 0
out_has "policy: recorded as seq 4"

note "register"
ok tb --json register -k "$K" alice
eq status "$(json status)" OK
eq seq "$(json seq)" 5
eq points "$(json points)" 0
eq balance "$(json balance)" 0
ok tb register -k "$K" bob
out_has "register: recorded as seq 6"

note "record (default rate, activity rate, explicit start, note)"
ok tb --json record -k "$K" alice --minutes 90 --start "$(iso 86400)" \
    --note "reading to elders"
eq status "$(json status)" OK
eq seq "$(json seq)" 7
eq points "$(json points)" 90
eq balance "$(json balance)" 90
ok tb --json record -k "$K" alice --minutes 30 --activity garden \
    --start "$(iso 7200)"
eq points "$(json points)" 60
eq balance "$(json balance)" 150
ok tb record -k "$K" bob --minutes 60
grep -q "^service: recorded as seq 9, points +60, balance 60 " "$OUT" ||
    fail "record text output"

note "redeem"
ok tb --json redeem -k "$TB_TMP/counter.key" alice --points 40 --item meal \
    --note lunch
eq seq "$(json seq)" 10
eq points "$(json points)" -40
eq balance "$(json balance)" 110

note "transfer"
ok tb --json transfer -k "$K" alice bob --points 10 --note family
eq seq "$(json seq)" 11
eq points "$(json points)" -10
eq balance "$(json balance)" 100

note "reverse (by the admin, of the redeem)"
ok tb --json reverse -k "$TB_TMP/admin.key" 10 --note "wrong item"
eq seq "$(json seq)" 12
eq points "$(json points)" 40
eq balance "$(json balance)" 140

note "DUPLICATE via --request-id: exit 0, same seq, nothing written"
RID=00112233445566778899aabbccddeeff
START=$(iso 20000)
SIZE=$(tree_size)
ok tb --json record -k "$K" bob --minutes 15 --start "$START" \
    --request-id "$RID"
eq status "$(json status)" OK
DUP_SEQ=$(json seq)
ok tb --json record -k "$K" bob --minutes 15 --start "$START" \
    --request-id "$RID"
eq status "$(json status)" DUPLICATE
eq seq "$(json seq)" "$DUP_SEQ"
eq points "$(json points)" 15
eq request_id "$(json request_id)" "$RID"
ok tb record -k "$K" bob --minutes 15 --start "$START" --request-id "$RID"
out_has "already recorded (DUPLICATE), original seq $DUP_SEQ"
eq "tree size after retries" "$(tree_size)" $((SIZE + 1))

note "balance"
ok tb --json balance alice
eq account "$(json account)" alice
eq balance "$(json balance)" 140
eq earned "$(json earned)" 150
eq redeemed "$(json redeemed)" 0
eq transferred_out "$(json transferred_out)" 10
eq minutes "$(json minutes)" 120
eq opened_seq "$(json opened_seq)" 5
ok tb balance bob
out_has "balance         85 points"
out_has "transferred in  10 points"

note "history"
ok tb history alice
out_has "reversal of seq 10: wrong item"
out_has "transfer alice -> bob: family"
out_has "90 min of service from"
ok tb --json history alice --limit 2
eq account "$(json account)" alice
eq "newest seq" "$(json seq)" 12
[ "$(grep -o '"seq":' "$OUT" | wc -l)" -eq 2 ] || fail "--limit 2"
eq next_before "$(json next_before)" 11

note "entry"
ok tb entry 5
out_has "kind      register"
out_has "what      account opened"
ok tb --json entry 7
eq seq "$(json seq)" 7
eq kind "$(json kind)" service
json record >/dev/null

note "checkpoint"
ok tb checkpoint
SIZE=$(tree_size)
eq "checkpoint origin line" "$(sed -n 1p "$OUT")" "$ORIGIN"
eq "checkpoint size line" "$(sed -n 2p "$OUT")" "$SIZE"
grep -q "^— $ORIGIN " "$OUT" || fail "checkpoint signature line"
ok tb --json checkpoint
out_has "\"checkpoint\":\"$ORIGIN\\n$SIZE\\n"

note "prove (against the log key file, as an auditor does)"
ok tb prove 7 --log-key "$DATA/log.pub"
out_has "entry 7 is included in the tree of size $SIZE (verified"
ok tb --json prove 7
eq index "$(json index)" 7
eq size "$(json size)" "$SIZE"
eq verified "$(json verified)" true
json leaf_hash >/dev/null
json entry >/dev/null
out_has '"hashes":["'
out_has "\"checkpoint\":\"$ORIGIN\\n$SIZE\\n"
ok tb --json prove 0 --size 1
eq size "$(json size)" 1
out_has '"hashes":[]'

note "consistency"
ok tb --json consistency 5
eq old_size "$(json old_size)" 5
eq size "$(json size)" "$SIZE"
out_has '"hashes":["'
ok tb consistency 1 "$SIZE"
out_has "consistency proof from tree size 1 to $SIZE"

note "consistency --from: today's log extends a checkpoint saved earlier"
ok tb checkpoint
cp "$OUT" "$TB_TMP/saved.checkpoint"
ok tb register -k "$TB_TMP/kiosk.key" later-account
ok tb consistency --from "$TB_TMP/saved.checkpoint" --log-key "$DATA/log.pub"
out_has "is consistent with $TB_TMP/saved.checkpoint (tree size $SIZE): verified"
ok tb --json consistency --from "$TB_TMP/saved.checkpoint"
eq old_size "$(json old_size)" "$SIZE"
eq size "$(json size)" $((SIZE + 1))
eq verified "$(json verified)" true
# a saved checkpoint whose signature does not match its text is refused
sed "2s/.*/$((SIZE + 1))/" "$TB_TMP/saved.checkpoint" >"$TB_TMP/forged.checkpoint"
expect 5 tb consistency --from "$TB_TMP/forged.checkpoint" \
    --log-key "$DATA/log.pub"
err_has "does not verify"

note "revoke"
ok tb --json revoke -k "$TB_TMP/admin.key" "$TB_TMP/counter.key.pub" \
    --note "counter closed"
eq status "$(json status)" OK
ok tb --json status
eq keys_revoked "$(json keys_revoked)" 1

note "usage errors exit 2"
expect 2 tb
expect 2 tb frobnicate
err_has "unknown command 'frobnicate'"
expect 2 tb record -k "$K" alice
expect 2 tb record -k "$K" alice --minutes 0
expect 2 tb record -k "$K" alice --minutes 1441
expect 2 tb record -k "$K" alice --minutes 10 --start yesterday
expect 2 tb redeem -k "$K" alice --points 5
expect 2 tb transfer -k "$K" alice alice --points 5
expect 2 tb register -k "$K" "bad account"
expect 2 tb register -k "$K" alice --request-id 1234
expect 2 tb enroll -k "$TB_TMP/admin.key" "$TB_TMP/kiosk.key.pub" --role boss
expect 2 tb balance
expect 2 tb entry -1
expect 2 tb history alice --limit 0
expect 2 tb consistency
expect 2 tb --timeout 0 status
expect 2 "$TIMEBANKD" --bogus
expect 2 "$TIMEBANKD" init -d "$TB_TMP/x"

note "other errors exit 4"
expect 4 tb register -k "$TB_TMP/nonexistent.key" carol
err_has "cannot read key file"
expect 4 tb entry 999
err_has "NOT_FOUND"

note "an unreachable daemon exits 3"
expect 3 "$TIMEBANK" -s "$TB_TMP/nobody.sock" status
err_has "cannot reach timebankd"
TIMEBANK_SOCKET=$TB_TMP/nobody.sock expect 3 "$TIMEBANK" balance alice

note "stop: exit 0, socket removed, the full check passes"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
[ ! -e "$SOCK" ] || fail "the socket file was left behind"
expect 3 tb status
ok "$TIMEBANKD" check -d "$DATA"
out_has "all equal"
echo "PASS"
