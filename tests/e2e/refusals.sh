#!/bin/bash
# e2e_refusals: every ledger refusal through the real CLI against a real
# daemon: exit 1, the status named on stderr (and in --json on stdout),
# nothing written to the log; a refused request's retry gets the same
# refusal even once it would succeed (remembered, invariant 4), while
# UNKNOWN_KEY is never remembered.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tb_init
daemon_start
terminal kiosk record
terminal counter redeem
terminal other record,redeem
K=$TB_TMP/kiosk.key
C=$TB_TMP/counter.key
A=$TB_TMP/admin.key
ok tb register -k "$K" alice
ok tb register -k "$K" bob
ok tb --json record -k "$K" alice --minutes 60 --start "$(iso 90000)"
SERVICE_SEQ=$(json seq)
ok tb --json redeem -k "$C" alice --points 10 --item tea
REDEEM_SEQ=$(json seq)
REGISTER_SEQ=5 # genesis, 3 enrolls, then alice
ok tb --json entry "$REGISTER_SEQ"
eq "kind of seq $REGISTER_SEQ" "$(json kind)" register
keygen stranger
keygen retired
ok tb enroll -k "$A" "$TB_TMP/retired.key.pub" --role record
ok tb revoke -k "$A" "$TB_TMP/retired.key.pub"

SIZE=$(tree_size)
DAY=$(date -u -d "@$((($(date +%s) / 86400 - 3) * 86400))" +%Y-%m-%d)

note "UNKNOWN_KEY"
refused UNKNOWN_KEY tb register -k "$TB_TMP/stranger.key" carol
note "KEY_REVOKED"
refused KEY_REVOKED tb register -k "$TB_TMP/retired.key" carol
note "ROLE_FORBIDDEN"
refused ROLE_FORBIDDEN tb redeem -k "$K" alice --points 1 --item tea
refused ROLE_FORBIDDEN tb register -k "$C" carol
refused ROLE_FORBIDDEN tb enroll -k "$K" "$TB_TMP/stranger.key.pub" \
    --role admin
refused ROLE_FORBIDDEN tb policy -k "$K" --points-per-hour 1000
# only the admin or the terminal that wrote an entry may reverse it
refused ROLE_FORBIDDEN tb reverse -k "$TB_TMP/other.key" "$SERVICE_SEQ"
note "UNKNOWN_ACCOUNT"
refused UNKNOWN_ACCOUNT tb record -k "$K" nobody --minutes 10
refused UNKNOWN_ACCOUNT tb redeem -k "$C" nobody --points 1 --item tea
refused UNKNOWN_ACCOUNT tb transfer -k "$C" alice nobody --points 1
expect 1 tb balance nobody
err_has "UNKNOWN_ACCOUNT"
note "ACCOUNT_EXISTS"
refused ACCOUNT_EXISTS tb register -k "$K" alice
note "INSUFFICIENT_POINTS"
refused INSUFFICIENT_POINTS tb redeem -k "$C" alice --points 51 --item meal
refused INSUFFICIENT_POINTS tb transfer -k "$C" bob alice --points 1
note "OVERLAPPING_SERVICE"
refused OVERLAPPING_SERVICE tb record -k "$K" alice --minutes 60 \
    --start "$(iso 88200)"
note "NOT_REVERSIBLE"
refused NOT_REVERSIBLE tb reverse -k "$A" "$REGISTER_SEQ"
refused NOT_REVERSIBLE tb reverse -k "$A" 1
note "NO_SUCH_ENTRY"
refused NO_SUCH_ENTRY tb reverse -k "$A" 99999
note "KEY_EXISTS"
refused KEY_EXISTS tb enroll -k "$A" "$TB_TMP/kiosk.key.pub" --role record
refused KEY_EXISTS tb enroll -k "$A" "$TB_TMP/retired.key.pub" --role record
note "KEY_NOT_ENROLLED"
refused KEY_NOT_ENROLLED tb revoke -k "$A" "$TB_TMP/stranger.key.pub"
note "START_IN_FUTURE"
refused START_IN_FUTURE tb record -k "$K" bob --minutes 30 \
    --start "$(iso -86400)"
note "START_TOO_OLD (default: 30 days)"
refused START_TOO_OLD tb record -k "$K" bob --minutes 30 \
    --start "$(iso $((31 * 86400)))"
note "--json refusal: one object on stdout"
expect 1 tb --json record -k "$K" bob --minutes 30 --start "$(iso -86400)"
eq status "$(json status)" START_IN_FUTURE
eq code "$(json code)" 114
json message >/dev/null
err_has "START_IN_FUTURE"
eq "tree size after refusals" "$(tree_size)" "$SIZE"

note "ALREADY_REVERSED"
ok tb reverse -k "$C" "$REDEEM_SEQ"
refused ALREADY_REVERSED tb reverse -k "$A" "$REDEEM_SEQ"

note "DAILY_CAP_EXCEEDED"
ok tb policy -k "$A" --daily-minutes-cap 120
ok tb record -k "$K" bob --minutes 100 --start "${DAY}T01:00Z"
refused DAILY_CAP_EXCEEDED tb record -k "$K" bob --minutes 30 \
    --start "${DAY}T05:00Z"
ok tb record -k "$K" bob --minutes 20 --start "${DAY}T05:00Z"
ok tb policy -k "$A" --daily-minutes-cap 0

note "BALANCE_CAP_EXCEEDED"
ok tb --json balance bob
BOB=$(json balance)
ok tb policy -k "$A" --max-balance "$((BOB + 30))"
refused BALANCE_CAP_EXCEEDED tb record -k "$K" bob --minutes 31 \
    --start "$(iso 200000)"
refused BALANCE_CAP_EXCEEDED tb transfer -k "$C" alice bob --points 31
ok tb record -k "$K" bob --minutes 30 --start "$(iso 200000)"
ok tb policy -k "$A" --max-balance 0

note "REQUEST_ID_REUSED: the same request id with another body"
RID=0123456789abcdef0123456789abcdef
ok tb register -k "$K" carol --request-id "$RID"
refused REQUEST_ID_REUSED tb register -k "$K" dave --request-id "$RID"
ok tb register -k "$K" carol --request-id "$RID"
out_has "DUPLICATE"

note "a refusal is remembered: its retry is refused even when it would pass"
RID=fedcba9876543210fedcba9876543210
START=$(iso 300000)
refused INSUFFICIENT_POINTS tb redeem -k "$C" carol --points 5 --item tea \
    --request-id "$RID"
ok tb record -k "$K" carol --minutes 60 --start "$START"
refused INSUFFICIENT_POINTS tb redeem -k "$C" carol --points 5 --item tea \
    --request-id "$RID"
ok tb redeem -k "$C" carol --points 5 --item tea

note "UNKNOWN_KEY is never remembered: after enrolment the retry passes"
RID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
refused UNKNOWN_KEY tb register -k "$TB_TMP/stranger.key" erin \
    --request-id "$RID"
ok tb enroll -k "$A" "$TB_TMP/stranger.key.pub" --role record
ok tb --json register -k "$TB_TMP/stranger.key" erin --request-id "$RID"
eq status "$(json status)" OK

note "balances never negative, state replays exactly"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
ok "$TIMEBANKD" check -d "$DATA"
out_has "all equal"
echo "PASS"
