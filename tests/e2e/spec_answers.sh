#!/bin/bash
# e2e_spec_answers: a real daemon gives the answers docs/protocol.md and
# docs/ledger-rules.md promise.  The docs' own vectors are sent to it byte
# for byte (the ledger has the docs' origin and the docs' terminal key, so
# their signed SUBMIT verifies) and its answers are compared with the
# docs' response vectors: a SUBMIT and a read pipelined behind it (the read
# does not see the write), DUPLICATE, unknown accounts, NOT_FOUND proofs, a
# request of type 0, the STATUS version.  Then through the real CLI: the
# service's end against the clock skew, rounding and the default rate, the
# UTC day of the daily cap, the BALANCE counters after reversals, and
# revoking a revoked key.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"
DOC=$(cd "$(dirname "$0")/../.." && pwd)/docs/protocol.md
raw() { "$RAWCLIENT" "$@" "$SOCK"; }

# frame HEX: the payload with its u32 length in front.
frame() {
    local p=${1// /}
    printf '%08x%s' $((${#p} / 2)) "$p"
}

# vec NAME KEY: the value of KEY in the vector NAME of docs/protocol.md,
# continuation lines joined by a space (as tests/common/docvec.h reads it).
vec() {
    awk -v want="$1" -v key="$2" '
        $0 == "```vector" { inb = 1; name = ""; cur = ""; split("", val)
                            next }
        !inb { next }
        $0 == "```" { inb = 0
                      if (name == want && (key in val)) { print val[key]
                                                          found = 1 }
                      next }
        /^  / && cur != "" { sub(/^ +/, ""); val[cur] = val[cur] " " $0
                             next }
        { i = index($0, ":"); k = substr($0, 1, i - 1)
          v = substr($0, i + 1); sub(/^ +/, "", v)
          val[k] = v; cur = k; if (k == "name") name = v }
        END { exit !found }' "$DOC" || fail "docs: no $2 in vector $1"
}

# vec_frame NAME: the request vector NAME, framed.
vec_frame() { frame "$(vec "$1" hex)"; }

status_name() {
    case $1 in
    0) echo OK ;;
    1) echo DUPLICATE ;;
    104) echo UNKNOWN_ACCOUNT ;;
    203) echo UNKNOWN_TYPE ;;
    204) echo NOT_FOUND ;;
    *) fail "status_name: add $1" ;;
    esac
}

# answer NAME: the line rawclient prints for the response vector NAME,
# read from the vector's bytes (header, message, and a SUBMIT's seq).
answer() {
    local h ty id st ml m seq=
    h=$(vec "$1" hex)
    h=${h// /}
    ty=$((16#${h:2:4}))
    id=$((16#${h:6:8}))
    st=$((16#${h:14:4}))
    ml=$((16#${h:18:4}))
    m=$(hexbytes "${h:22:$((2 * ml))}")
    if [ "$ty" = 100 ] && [ "$st" -le 1 ]; then
        seq="seq=$((16#${h:$((22 + 2 * ml)):16})) "
    fi
    echo "response type=$ty id=$id status=$(status_name "$st") ${seq}message=$m"
}

# line_of TEXT: the number of the line of $OUT that is exactly TEXT.
line_of() {
    local n
    n=$(grep -nxF -- "$1" "$OUT" | head -n 1 | cut -d: -f1)
    [ -n "$n" ] || fail "no answer '$1'"
    echo "$n"
}

# answered NAME: the daemon sent the response vector NAME.
answered() { line_of "$(answer "$1")" >/dev/null; }

# hexbytes HEX: the bytes.
hexbytes() { printf '%b' "$(echo "$1" | sed 's/../\\x&/g')"; }

# docs_key NAME SEED PK: $TB_TMP/NAME.key and NAME.key.pub for a key of the
# docs (docs/keys.md encodings), so that the CLI signs with it.
docs_key() {
    local id
    id=$({
        printf '%s\n' "$1"
        hexbytes "01$3"
    } | sha256sum | cut -c1-8)
    (
        umask 077
        echo "PRIVATE+KEY+$1+$id+$(hexbytes "01$2" | base64 -w0)" \
            >"$TB_TMP/$1.key"
    )
    echo "$1+$id+$(hexbytes "01$3" | base64 -w0)" >"$TB_TMP/$1.key.pub"
}

# The docs' origin and terminal key (docs/ledger-format.md, test vectors);
# their service started on 2025-06-15, so the daemon accepts services up
# to ten years old.
# shellcheck disable=SC2034 # lib.sh's tb_init reads it
ORIGIN=example.org/timebank/district-7
cat >"$TB_TMP/timebankd.conf" <<EOF
max_service_age = $((3650 * 86400))
EOF
tb_init
daemon_start -c "$TB_TMP/timebankd.conf"
A=$TB_TMP/admin.key
docs_key district-7-station \
    0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 \
    79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664
T=$TB_TMP/district-7-station.key
ok tb enroll -k "$A" "$T.pub" --role record                     # seq 1
ok tb register -k "$T" alice                                    # 2
ok tb policy -k "$A" --points-per-hour 90 --activity eldercare  # 3
terminal kiosk record                                           # 4
terminal counter redeem                                         # 5
K=$TB_TMP/kiosk.key
C=$TB_TMP/counter.key
ok tb register -k "$K" bob                                      # 6
eq "tree size" "$(tree_size)" 7

note "req-submit with req-entry behind it: the read does not see the write"
ok raw -x "$(vec_frame req-submit)$(vec_frame req-entry)" -n 2
READ=$(line_of "response type=202 id=4 status=NOT_FOUND message=no entry with seq 7")
WRITE=$(line_of "$(answer resp-submit)")
[ "$READ" -lt "$WRITE" ] || fail "the read was answered after the write"
ok tb --json balance alice
eq balance "$(json balance)" "$(vec resp-submit balance)"
eq points "$(json earned)" "$(vec resp-submit points)"
note "the same bytes again: resp-submit-duplicate; now the read sees it"
ok raw -x "$(vec_frame req-submit)" -n 1
answered resp-submit-duplicate
ok raw -x "$(vec_frame req-entry)" -n 1
line_of "response type=202 id=4 status=OK message=" >/dev/null
eq "tree size" "$(tree_size)" 8

note "STATUS: the version of resp-status"
ok tb --json status
eq version "$(json version)" "$(vec resp-status version)"
json version | grep -qxE 'timebankd [0-9]+\.[0-9]+\.[0-9]+' ||
    fail "version is not 'timebankd X.Y.Z'"

note "a request of type 0: UNKNOWN_TYPE with its id, connection kept"
ok raw -x "$(vec_frame req-reject-type0)$(frame "01 00ce 00000063")" -n 2
answered resp-unknown-type0
line_of "response type=206 id=99 status=OK message=" >/dev/null

note "BALANCE and HISTORY of an account never registered: UNKNOWN_ACCOUNT"
ok raw -x "$(vec_frame req-balance-unknown)$(vec_frame req-history-unknown)" \
    -n 2
answered resp-balance-unknown
answered resp-history-unknown
expect 1 tb balance carol
err_has UNKNOWN_ACCOUNT
expect 1 tb history carol
err_has UNKNOWN_ACCOUNT

note "NOT_FOUND: an entry beyond the log, a leaf outside its tree, a"
note "consistency proof backwards (sizes inside the log of 8)"
ok raw -x "$(frame "01 00ca 0000000f 0000000000000063")$(vec_frame \
    req-inclusion-outside)$(vec_frame req-consistency-backwards)" -n 3
answered resp-not-found
answered resp-inclusion-not-found
answered resp-consistency-not-found
expect 4 tb consistency 8 5
err_has NOT_FOUND

note "START_IN_FUTURE: the end is judged, not the start"
refused START_IN_FUTURE tb record -k "$K" bob --minutes 60 --start "$(iso 600)"
ok tb --json record -k "$K" bob --minutes 5 --start "$(iso 600)"
eq status "$(json status)" OK

note "points round down per entry; a code without a rate takes the default"
ok tb policy -k "$A" --points-per-hour 100
ok tb --json record -k "$K" bob --minutes 7 --start "$(iso $((2 * 86400)))"
eq "7 min at 100/h" "$(json points)" 11
ok tb --json record -k "$K" bob --minutes 7 --start "$(iso $((2 * 86400 - 3600)))" \
    --activity garden
eq "garden at the default" "$(json points)" 11
ok tb policy -k "$A" --points-per-hour 59
ok tb --json record -k "$K" bob --minutes 1 --start "$(iso $((2 * 86400 - 7200)))"
eq "1 min at 59/h" "$(json points)" 0
eq status "$(json status)" OK
ok tb --json record -k "$K" bob --minutes 60 \
    --start "$(iso $((2 * 86400 - 14400)))" --activity garden
eq "garden follows the new default" "$(json points)" 59
ok tb policy -k "$A" --points-per-hour 60

note "the daily cap's day is the UTC day of the start"
ok tb register -k "$K" dora
ok tb register -k "$K" emil
D0=$(date -u -d "@$((($(date +%s) / 86400 - 5) * 86400))" +%Y-%m-%d)
D1=$(date -u -d "@$((($(date +%s) / 86400 - 4) * 86400))" +%Y-%m-%d)
D2=$(date -u -d "@$((($(date +%s) / 86400 - 3) * 86400))" +%Y-%m-%d)
ok tb policy -k "$A" --daily-minutes-cap 60
ok tb record -k "$K" dora --minutes 60 --start "${D0}T23:59:59Z"
refused DAILY_CAP_EXCEEDED tb record -k "$K" dora --minutes 1 \
    --start "${D0}T10:00Z"
ok tb record -k "$K" dora --minutes 60 --start "${D1}T01:00Z"
refused DAILY_CAP_EXCEEDED tb record -k "$K" dora --minutes 1 \
    --start "${D1}T23:59:59Z"
ok tb record -k "$K" dora --minutes 1 --start "${D2}T00:00Z"
# a station at UTC+8: its local D2 07:00 is D1 23:00Z, D1's minutes
ok tb record -k "$K" emil --minutes 60 --start "${D1}T23:00Z"
refused DAILY_CAP_EXCEEDED tb record -k "$K" emil --minutes 1 \
    --start "${D2}T06:00+08:00"
ok tb record -k "$K" emil --minutes 60 --start "${D2}T08:00+08:00"
ok tb policy -k "$A" --daily-minutes-cap 0

note "reversals: the BALANCE counters are net, entries count the reverse"
ok tb register -k "$K" finn
ok tb --json record -k "$K" finn --minutes 60 --start "$(iso $((6 * 86400)))"
SVC=$(json seq)
ok tb --json redeem -k "$C" finn --points 20 --item tea
RED=$(json seq)
ok tb --json transfer -k "$C" finn bob --points 10
XFER=$(json seq)
ok tb --json balance bob
BOB_ENTRIES=$(json entries)
eq "bob transferred_in" "$(json transferred_in)" 10
ok tb --json balance finn
eq balance "$(json balance)" 30
eq earned "$(json earned)" 60
eq redeemed "$(json redeemed)" 20
eq transferred_out "$(json transferred_out)" 10
eq minutes "$(json minutes)" 60
eq entries "$(json entries)" 4
ok tb reverse -k "$A" "$XFER"
ok tb reverse -k "$A" "$RED"
ok tb --json reverse -k "$K" "$SVC"
LAST=$(json seq)
ok tb --json balance finn
for f in balance earned redeemed transferred_in transferred_out minutes; do
    eq "finn $f" "$(json $f)" 0
done
eq entries "$(json entries)" 7
eq last_seq "$(json last_seq)" "$LAST"
ok tb --json balance bob
eq "bob transferred_in" "$(json transferred_in)" 0
eq "bob entries" "$(json entries)" $((BOB_ENTRIES + 1))
ok tb --json history finn
eq "newest item" "$(json seq)" "$LAST"
eq "its delta" "$(json points)" -60

note "revoking a revoked key: KEY_NOT_ENROLLED, nothing written"
keygen retired
ok tb enroll -k "$A" "$TB_TMP/retired.key.pub" --role record
ok tb --json revoke -k "$A" "$TB_TMP/retired.key.pub"
REVOKED=$(json seq)
SIZE=$(tree_size)
refused KEY_NOT_ENROLLED tb revoke -k "$A" "$TB_TMP/retired.key.pub"
err_has "already revoked at seq $REVOKED"
eq "tree size" "$(tree_size)" "$SIZE"

note "the log replays to the same state"
daemon_stop
eq "daemon exit status" "$DAEMON_RC" 0
ok "$TIMEBANKD" check -d "$DATA"
echo "PASS"
