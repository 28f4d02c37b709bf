#!/bin/bash
# e2e_audit_tamper: `timebank audit --tiles` catches each way a mirror can
# be tampered with, and names where (the seq, the tile or the checkpoint):
# a flipped byte in an entry, in a hash tile, in the checkpoint; an entry
# dropped; two entries swapped; entries re-hashed and re-signed with the
# real log key (tests/e2e/tiles_forge.c) that only the key chain or the
# rule replay can refuse: signed by an unenrolled key, by a revoked key, a
# redemption beyond the balance; a different log key; and a history
# rewritten behind a checkpoint kept earlier, which only --since catches.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${TILES_FORGE:?set TILES_FORGE to the tiles_forge binary}"

tb_init
daemon_start
LOGPUB=$DATA/log.pub
terminal kiosk record
terminal counter redeem
terminal old record
ok tb register -k "$TB_TMP/kiosk.key" alice        # 4
ok tb register -k "$TB_TMP/kiosk.key" bob          # 5
ok tb record -k "$TB_TMP/kiosk.key" alice --minutes 60 --start "$(iso 7200)"
ok tb record -k "$TB_TMP/kiosk.key" bob --minutes 30 --start "$(iso 7200)"
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
err_has "does not extend"
echo "PASS"
