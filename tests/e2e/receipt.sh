#!/bin/bash
# e2e_receipt: receipts a volunteer keeps (docs/receipts.md).  `receipt`
# writes a C2SP tlog-proof carrying the entry; `verify-receipt` checks it
# with nothing but log.pub (the daemon stopped), and with a newer
# checkpoint after more writes (or --online) also that the log still
# holds it; every tampering (the record, a proof hash, the index, the
# checkpoint) is refused with its own message; a receipt checked against
# another ledger's key is refused.  The slip: no line wider than 32 columns, and
# its QR code (the PNG, and the half-block drawing turned back into a
# picture) decodes with zbarimg to the very receipt, which verifies.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LOGPUB=$DATA/log.pub
tb_init
daemon_start
terminal kiosk record,redeem
K=(-k "$TB_TMP/kiosk.key")
ok tb register "${K[@]}" alice
ok tb --json record "${K[@]}" alice --minutes 90 --activity gardening \
    --note "weeded the community beds"
SEQ=$(json seq)

note "receipt -o FILE: written, verified, refuses to overwrite"
R=$TB_TMP/alice.tlog-proof
ok tb receipt "$SEQ" -o "$R"
out_has "verified: entry $SEQ (service of alice)"
head -n 1 "$R" | grep -qx 'c2sp.org/tlog-proof@v1' || fail "header line"
sed -n 2p "$R" | grep -q '^extra ' || fail "extra line"
sed -n 3p "$R" | grep -qx "index $SEQ" || fail "index line"
expect 4 tb receipt "$SEQ" -o "$R"
err_has "cannot create $R"
tb receipt "$SEQ" >"$TB_TMP/stdout.tlog-proof" || fail "receipt to stdout"
SIZE0=$(tree_size)

note "verify-receipt offline: the daemon stopped, only log.pub"
cp "$LOGPUB" "$TB_TMP/only.pub"
daemon_stop
(
    unset TIMEBANK_LOG_KEY
    expect 0 "$TIMEBANK" -s "$TB_TMP/none.sock" verify-receipt "$R" \
        --log-key "$TB_TMP/only.pub"
    out_has "receipt $R: verified: entry $SEQ"
    out_has "is in the log $ORIGIN of size $SIZE0"
    note "without a pinned key: no verdict"
    expect 2 env -u TIMEBANK_LOG_KEY XDG_CONFIG_HOME="$TB_TMP/nocfg" \
        "$TIMEBANK" verify-receipt "$R"
    err_has "needs the ledger's log key pinned"
    note "the key from the user's config file"
    mkdir -p "$TB_TMP/cfg/timebank"
    cp "$LOGPUB" "$TB_TMP/cfg/timebank/log.pub"
    expect 0 env XDG_CONFIG_HOME="$TB_TMP/cfg" "$TIMEBANK" \
        verify-receipt "$R"
) || exit 1
ok tb verify-receipt "$TB_TMP/stdout.tlog-proof"
daemon_start

note "another ledger's key: refused"
keygen other
"$TIMEBANKD" init -d "$TB_TMP/other" --origin "$ORIGIN" \
    --admin "$TB_TMP/other.key.pub" >/dev/null || fail "second init"
expect 1 tb verify-receipt "$R" --log-key "$TB_TMP/other/log.pub"
err_has "its checkpoint is not signed by the pinned log key"

note "tampered receipts: each refused with its message"
# tamper NAME SED-SCRIPT: a copy of the receipt with one line changed.
tamper() {
    sed "$2" "$R" >"$TB_TMP/$1.tlog-proof"
    cmp -s "$R" "$TB_TMP/$1.tlog-proof" && fail "tamper $1 changed nothing"
    return 0
}
# the record: the last byte of its signature changed (inverted: a fixed
# value would be no change once in 256 signatures)
rec=$(sed -n 2p "$R" | cut -c7-)
last=$(printf '%s' "$rec" | base64 -d | tail -c 1 | od -An -tu1 | tr -d ' ')
other=$(printf '%s' "$rec" | base64 -d | head -c -1 | {
    cat
    # shellcheck disable=SC2059
    printf "\\$(printf %03o $((last ^ 255)))"
} | base64 -w0)
tamper record "2s|.*|extra $other|"
expect 1 tb verify-receipt "$TB_TMP/record.tlog-proof"
err_has "does NOT verify: its entry is NOT in the tree the checkpoint signs"
tamper index "3s|.*|index 0|"
expect 1 tb verify-receipt "$TB_TMP/index.tlog-proof"
err_has "its record is malformed or is not the entry at its index"
if [ "$(sed -n 4p "$R")" != "" ]; then
    # its first character: A becomes B, anything else A
    tamper hash "4s|^A|#|;4s|^[^#]|A|;4s|^#|B|"
    expect 1 tb verify-receipt "$TB_TMP/hash.tlog-proof"
    err_has "its entry is NOT in the tree the checkpoint signs"
fi
# the checkpoint's size line (its first digit: the line after the origin)
blank=$(grep -n '^$' "$R" | head -n 1 | cut -d: -f1)
tamper size "$((blank + 2))s/^[0-9]/9/"
expect 1 tb verify-receipt "$TB_TMP/size.tlog-proof"
err_has "its checkpoint is not signed by the pinned log key"
tamper header "1s|@v1|@v2|"
expect 2 tb verify-receipt "$TB_TMP/header.tlog-proof"
err_has "is not a timebank receipt"
head -c 100 "$R" >"$TB_TMP/cut.tlog-proof"
expect 2 tb verify-receipt "$TB_TMP/cut.tlog-proof"
err_has "is not a timebank receipt"

note "a newer checkpoint after more writes: still holds it"
for who in bob carol dave; do
    ok tb register "${K[@]}" $who
done
ok tb checkpoint
cp "$OUT" "$TB_TMP/newer.checkpoint"
ok tb --json verify-receipt "$R" --checkpoint "$TB_TMP/newer.checkpoint"
eq "consistent_with" "$(json consistent_with)" "$((SIZE0 + 3))"
eq "verified" "$(json verified)" true
note "--online: the daemon's latest checkpoint still holds it"
ok tb --json verify-receipt "$R" --online
eq "consistent_with" "$(json consistent_with)" "$((SIZE0 + 3))"
expect 2 tb verify-receipt "$R" --online --checkpoint "$TB_TMP/newer.checkpoint"
err_has "give one"
note "the receipt's own checkpoint as NEWER: the same tree"
sed -n '/^$/,$p' "$R" | tail -n +2 >"$TB_TMP/same.checkpoint"
ok tb verify-receipt "$R" --checkpoint "$TB_TMP/same.checkpoint"
note "a checkpoint of another ledger as NEWER: refused"
expect 1 tb verify-receipt "$R" --checkpoint "$TB_TMP/newer.checkpoint" \
    --log-key "$TB_TMP/other/log.pub"

note "the slip: 32 columns, its QR code holds the receipt"
ok tb receipt "$SEQ" --slip
cp "$OUT" "$TB_TMP/slip.txt"
out_has "who      alice"
out_has "what     90 min of gardening"
out_has "points   +90"
out_has "seq      $SEQ"
out_has "log      ${ORIGIN:0:23}"
widest=$(sed -n '1,/^-*$/p' "$TB_TMP/slip.txt" | wc -L)
[ "$widest" -le 32 ] || fail "a slip text line is $widest columns wide"
ok tb receipt "$SEQ" --slip --png "$TB_TMP/slip.png" -o "$TB_TMP/kept.tlog-proof"
tb receipt "$SEQ" >"$TB_TMP/now.tlog-proof" || fail "receipt to stdout"
widest=$(wc -L <"$OUT")
[ "$widest" -le 32 ] || fail "a slip line is $widest columns wide"
ok tb verify-receipt "$TB_TMP/kept.tlog-proof"
command -v zbarimg >/dev/null || skip "zbarimg (zbar-tools) is not installed"
zbarimg --raw -q -Sbinary "$TB_TMP/slip.png" >"$TB_TMP/scanned.tlog-proof" \
    2>"$TB_TMP/zbar.err" || fail "zbarimg cannot read the slip's QR code"
cmp "$TB_TMP/scanned.tlog-proof" "$TB_TMP/now.tlog-proof" >/dev/null ||
    fail "the QR code does not hold the receipt"
ok tb verify-receipt "$TB_TMP/scanned.tlog-proof"

note "the half-block drawing is the same code: back to a picture, decoded"
# the lines after the second rule: each character two modules, one above
# the other (U+2588 both, U+2580 upper, U+2584 lower, space none); as a
# PBM of 4 pixels a module
sed '1,/^-\{32\}$/d' "$TB_TMP/slip.txt" | sed '1,/^-\{32\}$/d' |
    sed 's/\xe2\x96\x88/B/g; s/\xe2\x96\x80/U/g; s/\xe2\x96\x84/D/g; s/ /N/g' \
        >"$TB_TMP/qr.txt"
[ -s "$TB_TMP/qr.txt" ] || fail "the slip drew no QR code"
awk 'BEGIN { s = 4 }
    { w = length($0); line[NR] = $0 }
    END {
        printf "P1\n%d %d\n", w * s, NR * 2 * s
        for (r = 1; r <= NR; r++)
            for (half = 0; half < 2; half++)
                for (y = 0; y < s; y++) {
                    row = ""
                    for (x = 1; x <= w; x++) {
                        c = substr(line[r], x, 1)
                        d = (c == "B") || (half == 0 && c == "U") ||
                            (half == 1 && c == "D")
                        for (k = 0; k < s; k++) row = row (d ? "1 " : "0 ")
                    }
                    print row
                }
    }' "$TB_TMP/qr.txt" >"$TB_TMP/qr.pbm"
zbarimg --raw -q -Sbinary "$TB_TMP/qr.pbm" >"$TB_TMP/scanned2.tlog-proof" \
    2>"$TB_TMP/zbar.err" || fail "zbarimg cannot read the drawn QR code"
ok tb verify-receipt "$TB_TMP/scanned2.tlog-proof"
out_has "verified: entry $SEQ"
