#!/bin/bash
# e2e_audit_report: the community office's outputs from a real daemon's
# log.  `timebank audit --html` writes one self-contained page (no script,
# inline SVG, A4 print rules) whose figures are the replay's: hours per
# month, activity and station, points, top accounts, keys, the verdict
# and checkpoint; a note holding <script> shows as text, and Debian's
# headless Chromium renders the page to a screenshot that is not blank.
# A damaged mirror gives a page that says FAILED.  `timebank export --csv`
# writes RFC 4180 rows (CRLF, quoting, formula cells guarded), the same
# bytes from the socket and from a mirror, and nothing when the log does
# not pass the audit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null 2>&1 ||
    skip "chromium not installed (Debian package chromium)"

tb_init
printf 'max_service_age = %d\n' $((120 * 86400)) >"$TB_TMP/d.conf"
daemon_start -c "$TB_TMP/d.conf"
LOGPUB=$DATA/log.pub
K=$TB_TMP/kiosk.key
L=$TB_TMP/library.key
C=$TB_TMP/counter.key
terminal kiosk record
terminal library record
terminal counter redeem
terminal spare record
ok tb policy -k "$TB_TMP/admin.key" --points-per-hour 120 --activity garden
ok tb register -k "$K" alice
ok tb register -k "$K" bob
ok tb register -k "$K" =cmd
DAY=86400
ok tb record -k "$K" alice --minutes 90 --activity garden \
    --start "$(iso $((70 * DAY)))" \
    --note '<script>document.title="pwned"</script>'
ok tb record -k "$L" bob --minutes 60 --activity reading \
    --start "$(iso $((40 * DAY)))" --note 'Weeding, "the big bed"'
ok tb record -k "$L" =cmd --minutes 30 --start "$(iso 3600)" \
    --note '=HYPERLINK("http://x.invalid")'
ok tb record -k "$K" alice --minutes 45 --start "$(iso 7200)" --note '@sum'
ok tb --json record -k "$K" bob --minutes 600 --start "$(iso 40000)"
ok tb reverse -k "$TB_TMP/admin.key" "$(json seq)" --note '-wrong day'
ok tb redeem -k "$C" alice --points 50 --item bread
ok tb transfer -k "$C" alice bob --points 10 --note 'thanks, Bob'
ok tb revoke -k "$TB_TMP/admin.key" "$TB_TMP/spare.key.pub" \
    --note '<script>document.title="pwned"</script>' 
N=$(tree_size)

note "audit --html: the figures, escaped, no script"
H=$TB_TMP/report.html
ok tb audit --log-key "$LOGPUB" --html "$H"
out_has "result     OK: every check holds"
[ -s "$H" ] || fail "no page written"
! grep -qi '<script' "$H" || fail "the page holds a <script> element"
grep -qF '<td class="note">&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;</td>' \
    "$H" || fail "the revoke note is not on the page as text"
grep -qF '<svg' "$H" || fail "no inline SVG"
grep -qF '@page { size: A4' "$H" || fail "no A4 page rule"
grep -qiE 'src=|href=|url\(' "$H" && fail "the page loads something"
# the replay's figures: 90 + 60 + 30 + 45 served, the 600 reversed
grep -qF '>OK: every check holds' "$H" || fail "no OK verdict"
grep -qF "tree size $N<" "$H" || fail "no checkpoint size"
for want in '>garden<' '>reading<' '>(default rate)<' '>kiosk<' \
    '>library<' '>=cmd<' '>2.3 h<' '>1.5 h<' '>1.3 h<' '>0.5 h<' \
    "$(date -u -d "@$(($(date +%s) - 70 * DAY))" +'>%Y-%m<')" \
    "$(date -u +'>%Y-%m<')" '<td>revoked</td>'; do
    grep -qF -- "$want" "$H" || fail "the page lacks $want"
done
# kiosk: alice 90 + 45 = 135 min = 2.3 h (the reversed 600 gone)
grep -qF '>10.0 h<' "$H" && fail "the reversed service is counted"
grep -qF '>spare<' "$H" || fail "the revoked key is not listed"

note "Chromium renders it: the note as text, the page not blank"
export HOME=$TB_TMP/home
mkdir -p "$HOME"
CR=(chromium --headless --no-sandbox --disable-gpu --disable-extensions
    --no-first-run --user-data-dir="$TB_TMP/chromium")
"${CR[@]}" --dump-dom "file://$H" >"$TB_TMP/dom.html" 2>"$TB_TMP/cr.err" ||
    fail "chromium --dump-dom: $(tail -n 3 "$TB_TMP/cr.err")"
grep -qF '<title>Time bank report: ' "$TB_TMP/dom.html" ||
    fail "the rendered title changed"
grep -qF '<td class="note">&lt;script&gt;document.title="pwned"&lt;/script&gt;</td>' \
    "$TB_TMP/dom.html" || fail "the note was not kept as text"
shot() { # shot FILE.html OUT.png
    "${CR[@]}" --hide-scrollbars --window-size=800,1800 \
        --screenshot="$2" "file://$1" >/dev/null 2>>"$TB_TMP/cr.err" ||
        fail "chromium --screenshot: $(tail -n 3 "$TB_TMP/cr.err")"
    [ "$(head -c 8 "$2" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$2 is not a PNG"
}
# the blank baseline: an empty page of the same size.  A PNG's size is
# what its deflate leaves: a blank page is a few KB whatever its size,
# text and bars are tens of KB; a page that failed to render (or renders
# only a heading) stays near the baseline.
printf '<!DOCTYPE html><html><body></body></html>\n' >"$TB_TMP/blank.html"
shot "$TB_TMP/blank.html" "$TB_TMP/blank.png"
shot "$H" "$TB_TMP/report.png"
b=$(stat -c %s "$TB_TMP/blank.png")
r=$(stat -c %s "$TB_TMP/report.png")
note "screenshot: $r bytes, blank page: $b bytes"
[ "$r" -gt $((b * 8)) ] || fail "the screenshot looks blank ($r bytes," \
    "a blank page is $b)"
[ -z "${TB_KEEP_SHOT:-}" ] || cp "$TB_TMP/report.png" "$TB_KEEP_SHOT"

note "export --csv: RFC 4180, one row per entry, guarded formulas"
V=$TB_TMP/entries.csv
ok tb --json export --csv "$V" --log-key "$LOGPUB"
eq "rows" "$(json rows)" "$N"
eq "lines" "$(wc -l <"$V")" $((N + 1))
eq "CRLF lines" "$(grep -c $'\r$' "$V")" $((N + 1))
eq "header" "$(head -n 1 "$V")" \
    $'seq,time,kind,accounts,minutes,points,activity_or_item,terminal,note,reverses\r'
row() { sed -n "$(($1 + 2))p" "$V" | tr -d '\r' | cut -d, -f 3-; }
eq "genesis row" "$(row 0 | cut -d, -f1)" genesis
grep -qF ',service,alice,90,180,garden,kiosk,"<script>document.title=""pwned""</script>",' "$V" ||
    fail "the service row with the hostile note"
grep -qF ',service,bob,60,60,reading,library,"Weeding, ""the big bed""",' "$V" ||
    fail "the quoted note"
grep -qF ",service,'=cmd,30,30,,library,\"'=HYPERLINK(\"\"http://x.invalid\"\")\"," "$V" ||
    fail "the guarded account and note"
grep -qF ",service,alice,45,45,,kiosk,'@sum," "$V" || fail "@ guarded"
grep -qF ",reverse,bob,-600,-600,,admin,'-wrong day,$((N - 5))" "$V" ||
    fail "the reversal row"
grep -qF ',redeem,alice,,-50,bread,counter,,' "$V" && fail "redeem sign"
grep -qF ',redeem,alice,,50,bread,counter,,' "$V" || fail "the redeem row"
grep -qF ',transfer,alice bob,,10,,counter,"thanks, Bob",' "$V" ||
    fail "the transfer row"
grep -qF ',revoke,,,,spare,admin,"<script>document.title=""pwned""</script>",' \
    "$V" || fail "the revoke row"

note "the same bytes from a mirror; nothing from a damaged one"
M=$TB_TMP/mirror
ok tb export "$M" --log-key "$LOGPUB"
ok tb export --csv "$TB_TMP/m.csv" --tiles "$M" --log-key "$LOGPUB"
cmp "$V" "$TB_TMP/m.csv" || fail "the CSV from the mirror differs"
printf 'X' | dd of="$M/tile/entries/000.p/$N" bs=1 seek=300 conv=notrunc \
    status=none
expect 1 tb export --csv "$TB_TMP/bad.csv" --tiles "$M" --log-key "$LOGPUB"
err_has "the log does not pass the audit, no file written"
[ ! -e "$TB_TMP/bad.csv" ] || fail "a CSV was written"
[ -z "$(find "$TB_TMP" -maxdepth 1 -name '*.tmp.*')" ] ||
    fail "temporary files left"
expect 1 tb audit --log-key "$LOGPUB" --tiles "$M" --html "$TB_TMP/bad.html"
grep -qF '>FAILED: ' "$TB_TMP/bad.html" || fail "the page does not say FAILED"
grep -qF 'OK: every check holds' "$TB_TMP/bad.html" && fail "the page says OK"

note "usage"
expect 2 tb export --log-key "$LOGPUB"
err_has "export needs DIR (a tiles mirror) or --csv FILE"
expect 2 tb export "$M" --csv "$V" --log-key "$LOGPUB"
expect 2 tb export "$M" --tiles "$M" --log-key "$LOGPUB"
expect 4 tb export --csv "$TB_TMP/no/such/dir.csv" --log-key "$LOGPUB"
err_has "$TB_TMP/no/such/dir.csv: cannot write it: No such file or directory"
echo "PASS"
