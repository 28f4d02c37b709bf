#!/bin/bash
# e2e_audit_export: `timebank export` writes a C2SP tlog-tiles mirror of a
# real daemon's log (full tiles, partial tiles, a level-1 tile) and
# `timebank audit` passes on it, from the directory and from the socket
# with identical summaries, text and JSON, and with --balances (the
# replay's balances are the daemon's).  A second export writes only what
# is new and leaves full tiles untouched; exports of a live daemon stay
# valid while writes go on, and each new mirror extends the checkpoint
# kept from the one before (--since).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"

tb_init
daemon_start
LOGPUB=$DATA/log.pub
garden_start
ok tb record -k "$K" bob --minutes 7 --activity garden --start "$(iso 9000)"
ok tb redeem -k "$C" alice --points 20 --item bread
ok tb transfer -k "$C" alice bob --points 15
ok tb --json reverse -k "$C" "$(($(tree_size) - 1))" # the transfer, by its signer
ok tb --json redeem -k "$C" bob --points 5 --item soap
ok tb reverse -k "$TB_TMP/admin.key" "$(json seq)"   # the redeem, by the admin
ok tb --json record -k "$K" alice --minutes 30 --start "$(iso 5000)"
ok tb reverse -k "$TB_TMP/admin.key" "$(json seq)"   # a service
ok tb record -k "$K" alice --minutes 30 --start "$(iso 5000)" # its time again
ok tb revoke -k "$TB_TMP/admin.key" "$TB_TMP/spare.key.pub"

# registers_wait N: wait (bounded) until the tree holds N entries.
registers_wait() {
    for _ in $(seq 600); do
        [ "$(tree_size)" -ge "$1" ] && return 0
        sleep 0.1
    done
    fail "the registers did not all commit"
}

# registers REST: that many more accounts, fire and forget (rawclient
# hangs up at once; the daemon still commits), then wait for them.  At most
# 32 in flight: a hung-up connection holds its slot until its write is
# answered, and one uid has max_connections_per_uid (64) slots.
registers() {
    local base i
    base=$(tree_size)
    for i in $(seq "$1"); do
        "$RAWCLIENT" -R "$K:v$RANDOM$i:$(printf '%032x' $((RANDOM * 100000 + i)))" \
            -o "$ORIGIN" -c "$SOCK" >/dev/null || fail "rawclient"
        [ $((i % 32)) -ne 0 ] || registers_wait $((base + i))
    done
    registers_wait $((base + $1))
}

registers 240
N=$(tree_size)
[ "$N" -gt 256 ] || fail "tree size $N: want more than one full tile"
M=$TB_TMP/mirror
ok tb --json export "$M" --log-key "$LOGPUB"
eq "exported size" "$(json size)" "$N"
eq "tiles kept" "$(json tiles_kept)" 0
W=$((N - 256))
for f in checkpoint tile/0/000 tile/entries/000 "tile/0/001.p/$W" \
    "tile/entries/001.p/$W" tile/1/000.p/1; do
    [ -f "$M/$f" ] || fail "$f missing"
done
eq "full tile" "$(stat -c %s "$M/tile/0/000")" 8192
eq "level-1 tile" "$(stat -c %s "$M/tile/1/000.p/1")" 32
[ -z "$(find "$M" -name '*.tmp.*')" ] || fail "temporary files left"

note "audit: the directory and the socket agree, text and JSON"
ok tb audit --log-key "$LOGPUB" --tiles "$M"
cp "$OUT" "$TB_TMP/dir.txt"
out_has "result     OK: every check holds"
out_has "keys       3 active, 1 revoked"
out_has "3 entries reversed"
ok tb audit --log-key "$LOGPUB"
cmp "$TB_TMP/dir.txt" "$OUT" || fail "the summaries differ"
ok tb --json audit --log-key "$LOGPUB" --tiles "$M"
cp "$OUT" "$TB_TMP/dir.json"
eq "json lines" "$(wc -l <"$OUT")" 1
eq "ok" "$(json ok)" true
eq "entries" "$(json entries)" "$N"
# 67 min at 100/h = 111 (rounded down); 90 at 60/h = 90; 7 at 100/h = 11;
# the reversed 30 min at 60/h (30) gone, the second 30 min (30) counts
eq "points earned" "$(json points_earned)" $((111 + 90 + 11 + 30))
eq "minutes served" "$(json minutes_served)" $((67 + 90 + 7 + 30))
eq "points redeemed" "$(json points_redeemed)" 20
eq "points transferred" "$(json points_transferred)" 0
ok tb --json audit --log-key "$LOGPUB"
cmp "$TB_TMP/dir.json" "$OUT" || fail "the JSON summaries differ"
ok tb audit --log-key "$LOGPUB" --balances
ok tb balance alice
out_has "balance         $((111 + 30 - 20)) points"
expect 2 tb audit --log-key "$LOGPUB" --tiles "$M" --balances
expect 2 tb audit --tiles "$M"

note "a second export writes only what is new"
cp "$M/checkpoint" "$TB_TMP/first.checkpoint"
ino=$(stat -c %i "$M/tile/0/000")
ok tb --json export "$M" --log-key "$LOGPUB"
eq "nothing new: files written" "$(json files_written)" 1
ok tb register -k "$K" carol
ok tb --json export "$M" --log-key "$LOGPUB"
eq "files written" "$(json files_written)" 3 # bundle, tile 0, checkpoint
eq "tiles kept" "$(json tiles_kept)" 3       # the full ones, tile/1/000.p/1
eq "full tile untouched" "$(stat -c %i "$M/tile/0/000")" "$ino"
[ -f "$M/tile/0/001.p/$((W + 1))" ] || fail "new partial tile missing"
eq "entries read back" "$(json entries_read_back)" 256
ok tb audit --log-key "$LOGPUB" --tiles "$M" --since "$TB_TMP/first.checkpoint"
note "a damaged full bundle is caught when it is read back"
cp -a "$M" "$TB_TMP/damaged"
printf 'X' | dd of="$TB_TMP/damaged/tile/entries/000" bs=1 seek=100 \
    conv=notrunc status=none
cmp -s "$M/tile/entries/000" "$TB_TMP/damaged/tile/entries/000" &&
    fail "nothing damaged"
expect 1 tb export "$TB_TMP/damaged" --log-key "$LOGPUB"
err_has "read back from $TB_TMP/damaged: is the mirror damaged?"

note "exports of a live daemon stay valid while writes go on"
(
    i=0
    while :; do
        i=$((i + 1))
        "$TIMEBANK" -s "$SOCK" register -k "$K" "live$i" >/dev/null 2>&1 ||
            true
    done
) &
BG_PIDS+=($!)
prev=$TB_TMP/first.checkpoint
for round in 1 2 3; do
    sleep 0.3
    ok tb export "$M" --log-key "$LOGPUB"
    ok tb audit --log-key "$LOGPUB" --tiles "$M" --since "$prev"
    cp "$M/checkpoint" "$TB_TMP/round$round.checkpoint"
    prev=$TB_TMP/round$round.checkpoint
done
kill "${BG_PIDS[@]}"
wait "${BG_PIDS[@]}" 2>/dev/null || true
BG_PIDS=()
[ "$(sed -n 2p "$prev")" -gt "$(sed -n 2p "$TB_TMP/first.checkpoint")" ] ||
    fail "the log did not grow during the exports"
ok tb export "$M" --log-key "$LOGPUB"
ok tb audit --log-key "$LOGPUB" --tiles "$M" --since "$prev"
ok tb audit --log-key "$LOGPUB" --balances
echo "PASS"
