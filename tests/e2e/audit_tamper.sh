#!/bin/bash
# e2e_audit_tamper: `timebank audit --tiles` catches each way a mirror can
# be tampered with, and names where (the seq, the tile or the checkpoint):
# a flipped byte in an entry, in a hash tile, in the checkpoint; an entry
# dropped; two entries swapped; entries re-hashed and re-signed with the
# real log key (tests/e2e/tiles_forge.c) that only the key chain or the
# rule replay can refuse: signed by an unenrolled key, by a revoked key, a
# redemption beyond the balance, and one forged entry per rule
# (overlap, daily cap, balance cap, request id reuse, roles, reversals);
# a different log key; and a history rewritten behind a checkpoint kept
# earlier, which only --since catches.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${TILES_FORGE:?set TILES_FORGE to the tiles_forge binary}"

tb_init --daily-minutes-cap 120 --max-balance 100
daemon_start
# services yesterday (UTC), so the day's minutes are known to the test
D=$((($(date +%s) / 86400 - 1) * 86400))
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
LOGPUB=$DATA/log.pub
terminal kiosk record
terminal counter redeem
terminal old record
ok tb register -k "$TB_TMP/kiosk.key" alice        # 4
ok tb register -k "$TB_TMP/kiosk.key" bob          # 5
ok tb record -k "$TB_TMP/kiosk.key" alice --minutes 60 --start "$(at $((D + 3600)))"
ok tb record -k "$TB_TMP/kiosk.key" bob --minutes 30 --start "$(at $((D + 3600)))"
ok tb redeem -k "$TB_TMP/counter.key" alice --points 20 --item bread # 8
ok tb transfer -k "$TB_TMP/counter.key" alice bob --points 10        # 9
ok tb revoke -k "$TB_TMP/admin.key" "$TB_TMP/old.key.pub"            # 10
eq "tree size" "$(tree_size)" 11
CLEAN=$TB_TMP/clean
ok tb export "$CLEAN" --log-key "$LOGPUB"
ok tb audit --log-key "$LOGPUB" --tiles "$CLEAN"
out_has "OK: every check holds"

# tampered NAME: a fresh copy of the clean mirror at $T.
tampered() {
    T=$TB_TMP/$1
    rm -rf "$T"
    cp -a "$CLEAN" "$T"
}

# caught TEXT...: the audit of $T fails (exit 1) naming each TEXT.
caught() {
    expect 1 tb audit --log-key "$LOGPUB" --tiles "$T"
    out_has "result     FAILED"
    local t
    for t in "$@"; do err_has "$t"; done
}

# flip FILE OFFSET: invert the bits of one byte (coreutils only).
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf %03o $((b ^ 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

note "a flipped byte in an entry (the last one's signature)"
tampered entry-byte
B=$T/tile/entries/000.p/11
flip "$B" $(($(stat -c %s "$B") - 5))
caught "tile/0/000.p/11: hash 10 is not the leaf hash of entry seq 10"

note "a flipped byte in a hash tile"
tampered tile-byte
flip "$T/tile/0/000.p/11" $((32 * 3 + 7))
caught "tile/0/000.p/11: hash 3 is not the leaf hash of entry seq 3" \
    "the tile is corrupt"

note "a FIFO planted for the checkpoint or a tile: refused, never waited on"
for f in checkpoint tile/0/000.p/11; do
    tampered fifo
    rm "$T/$f"
    mkfifo "$T/$f"
    expect 1 timeout 20 "$TIMEBANK" -s "$SOCK" audit --log-key "$LOGPUB" \
        --tiles "$T"
    err_has "$f: not a regular file"
done

note "a flipped byte in the checkpoint (its root)"
tampered checkpoint-byte
flip "$T/checkpoint" $(($(head -n 2 "$T/checkpoint" | wc -c) + 3))
caught "checkpoint: does not verify with log key $ORIGIN"

note "an entry dropped"
tampered dropped
ok "$TILES_FORGE" -b "$T" drop 5
caught "tile/entries/000.p/11: 10 entries, the checkpoint implies 11"

note "two entries swapped"
tampered swapped
ok "$TILES_FORGE" -b "$T" swap 6 7
caught "tile/0/000.p/11: hash 6 is not the leaf hash of entry seq 6"

note "re-signed: an entry signed by a key never enrolled"
keygen stranger
tampered unenrolled
ok "$TILES_FORGE" "$T" "$DATA/log.key" register "$TB_TMP/stranger.key" carol
caught "seq 11 (tile/entries/000.p/12): UNKNOWN_KEY"

note "re-signed: an entry signed by a revoked key"
tampered revoked
ok "$TILES_FORGE" "$T" "$DATA/log.key" register "$TB_TMP/old.key" carol
caught "seq 11 (tile/entries/000.p/12): KEY_REVOKED: the signer was revoked" \
    "at seq 10"

note "re-signed: a redemption beyond the balance (only the replay sees it)"
tampered overdrawn
ok "$TILES_FORGE" "$T" "$DATA/log.key" redeem "$TB_TMP/counter.key" bob 1000
caught "seq 11 (tile/entries/000.p/12): INSUFFICIENT_POINTS: bob has 40" \
    "points, the redeem takes 1000"
note "... and within the balance it passes: the forger's tool is honest"
tampered within
ok "$TILES_FORGE" "$T" "$DATA/log.key" redeem "$TB_TMP/counter.key" bob 40
ok tb audit --log-key "$LOGPUB" --tiles "$T"

# forged KIND-ARGS... TEXT: a mirror with one more entry, re-signed with
# the real log key, that the replay must refuse with TEXT at seq 11.
forged() {
    local text=${*: -1}
    tampered forged
    ok "$TILES_FORGE" "$T" "$DATA/log.key" "${@:1:$#-1}"
    caught "seq 11 (tile/entries/000.p/12): $text"
}
K=$TB_TMP/kiosk.key
A=$TB_TMP/admin.key
note "re-signed: each rule of the replay refuses its forged entry"
forged service "$K" alice $((D + 3600 + 1200)) 30 "OVERLAPPING_SERVICE"
forged service "$K" alice $((D + 7200)) 61 "DAILY_CAP_EXCEEDED: alice has 60"
forged service "$K" bob $((D - 86400)) 61 "BALANCE_CAP_EXCEEDED: bob: 40 + 61"
forged copy 6 "REQUEST_ID_REUSED: the signer used this request id at seq 6"
forged register "$TB_TMP/counter.key" carol "ROLE_FORBIDDEN"
forged reverse "$K" 8 "ROLE_FORBIDDEN: the signer is neither admin nor"
forged reverse "$K" 6 "INSUFFICIENT_POINTS: reversing seq 6 takes 60 points"
forged reverse "$A" 4 "NOT_REVERSIBLE: seq 4 is a register"
forged reverse "$A" 11 "NO_SUCH_ENTRY"
forged redeem "$TB_TMP/counter.key" zoe 1 "UNKNOWN_ACCOUNT"
forged register "$K" alice "ACCOUNT_EXISTS"
tampered twice
ok "$TILES_FORGE" "$T" "$DATA/log.key" reverse "$A" 8 reverse "$A" 8
caught "seq 12 (tile/entries/000.p/13): ALREADY_REVERSED"
note "... while the same kinds within the rules pass"
tampered lawful
ok "$TILES_FORGE" "$T" "$DATA/log.key" \
    service "$K" alice $((D + 7200)) 60 reverse "$A" 8 \
    service "$K" bob $((D - 86400)) 60 copy 11
expect 1 tb audit --log-key "$LOGPUB" --tiles "$T"
err_has "seq 14 (tile/entries/000.p/15): REQUEST_ID_REUSED"
ok "$TILES_FORGE" "$T" "$DATA/log.key" truncate 14
ok tb audit --log-key "$LOGPUB" --tiles "$T"
out_has "1 entries reversed"

note "a different log key: the auditor's, or the mirror's"
"$TIMEBANK" keygen "$ORIGIN" -o "$TB_TMP/other.key" >/dev/null
expect 1 tb audit --log-key "$TB_TMP/other.key.pub" --tiles "$CLEAN"
err_has "checkpoint: does not verify with log key $ORIGIN"
tampered other-key
ok "$TILES_FORGE" "$T" "$TB_TMP/other.key" truncate 11
caught "checkpoint: does not verify with log key $ORIGIN"

note "history rewritten behind a checkpoint kept earlier"
cp "$CLEAN/checkpoint" "$TB_TMP/old.checkpoint"
tampered rewritten
ok "$TILES_FORGE" "$T" "$DATA/log.key" truncate 8 \
    register "$TB_TMP/kiosk.key" carol register "$TB_TMP/kiosk.key" dave \
    register "$TB_TMP/kiosk.key" erin register "$TB_TMP/kiosk.key" frank
# a consistent, validly signed history on its own: the rules all hold
ok tb audit --log-key "$LOGPUB" --tiles "$T"
expect 1 tb audit --log-key "$LOGPUB" --tiles "$T" \
    --since "$TB_TMP/old.checkpoint"
err_has "$TB_TMP/old.checkpoint: today's log (tree size 12) is NOT consistent"
err_has "history was rewritten"
note "... and the clean mirror extends it"
ok tb audit --log-key "$LOGPUB" --tiles "$CLEAN" --since "$TB_TMP/old.checkpoint"
note "export refuses to write over a mirror of another history"
expect 1 tb export "$T" --log-key "$LOGPUB"
err_has "the log shrank: the daemon's checkpoint has tree size 11"
ok "$TILES_FORGE" "$T" "$DATA/log.key" truncate 11 # as long, other entries
expect 1 tb export "$T" --log-key "$LOGPUB"
err_has "does not extend $T/checkpoint (tree size 11): history was rewritten"
echo "PASS"
