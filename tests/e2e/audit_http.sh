#!/bin/bash
# e2e_audit_http: `timebank audit --tiles http://...` reads a mirror served
# over HTTP (tests/e2e/tiny_httpd.c plays the web server) and reaches the
# same summary as from the directory; a tampered tile and a missing one
# are caught and named.  Skips (77) when timebank was built without
# libcurl (a failure under CI=true: scripts/deps.sh must install
# libcurl4-openssl-dev).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${TINY_HTTPD:?set TINY_HTTPD to the tiny_httpd binary}"

tb_init
daemon_start
LOGPUB=$DATA/log.pub
terminal kiosk record,redeem
ok tb register -k "$TB_TMP/kiosk.key" alice
ok tb record -k "$TB_TMP/kiosk.key" alice --minutes 45 --start "$(iso 4000)"
ok tb redeem -k "$TB_TMP/kiosk.key" alice --points 5 --item tea
M=$TB_TMP/mirror
ok tb export "$M" --log-key "$LOGPUB"
ok tb audit --log-key "$LOGPUB" --tiles "$M"
cp "$OUT" "$TB_TMP/dir.txt"

"$TINY_HTTPD" "$M" "$TB_TMP/port" &
BG_PIDS+=($!)
for _ in $(seq 100); do
    [ -s "$TB_TMP/port" ] && break
    sleep 0.1
done
[ -s "$TB_TMP/port" ] || fail "tiny_httpd did not start"
URL=http://127.0.0.1:$(cat "$TB_TMP/port")

run tb audit --log-key "$LOGPUB" --tiles "$URL"
if grep -q "built without libcurl" "$ERR"; then
    skip "timebank was built without libcurl (libcurl4-openssl-dev)"
fi
[ "$RC" -eq 0 ] || fail "audit over http: exit $RC"
cmp "$TB_TMP/dir.txt" "$OUT" || fail "the summaries differ"
ok tb audit --log-key "$LOGPUB" --tiles "$URL/" # a trailing slash is fine

note "a tampered tile, served: caught and named"
b=$(od -An -tu1 -j 40 -N 1 "$M/tile/0/000.p/5" | tr -d ' ')
# shellcheck disable=SC2059
printf "\\$(printf %03o $((b ^ 255)))" |
    dd of="$M/tile/0/000.p/5" bs=1 seek=40 conv=notrunc status=none
expect 1 tb audit --log-key "$LOGPUB" --tiles "$URL"
err_has "tile/0/000.p/5: hash 1 is not the leaf hash of entry seq 1"
note "a missing bundle: named"
rm "$M/tile/entries/000.p/5"
expect 1 tb audit --log-key "$LOGPUB" --tiles "$URL"
err_has "tile/entries/000.p/5: HTTP status 404"
note "a redirect loop: given up after a few redirects, not at the timeout"
expect 1 timeout 60 "$TIMEBANK" -s "$SOCK" audit --log-key "$LOGPUB" \
    --tiles "$URL/loop/m"
err_has "checkpoint: cannot fetch"
err_has "redirects"
note "nothing served there at all"
expect 1 tb audit --log-key "$LOGPUB" --tiles "http://127.0.0.1:1/none"
err_has "checkpoint: cannot fetch"
expect 2 tb export "$URL" --log-key "$LOGPUB"
echo "PASS"
