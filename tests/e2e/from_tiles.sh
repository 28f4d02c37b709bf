#!/bin/bash
# e2e_from_tiles: `timebankd init --from-tiles` rebuilds a ledger from the
# mirror `timebank export` wrote of a real daemon (every kind of entry,
# more than one full tile): every entry replayed through the rules, the
# rebuilt checkpoint byte for byte the live one, every balance equal,
# `timebankd check` all equal; a daemon serves it (the audit passes, a
# retry of an accepted request answers DUPLICATE, new writes extend the
# log).  Refused, leaving nothing in the target: a mirror whose checkpoint
# does not verify with the log key given (another key, an altered note),
# a mirror re-signed with the real key around entries the rules refuse (a
# stranger's entry, a redeem beyond the balance, two entries swapped),
# valid entries of another history under the real checkpoint, a bundle
# missing an entry, a target that holds a ledger, an URL, and
# usage mistakes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"
: "${TILES_FORGE:?set TILES_FORGE to the tiles_forge binary}"

tb_init
daemon_start
garden_start
ok tb redeem -k "$C" alice --points 20 --item bread
ok tb --json transfer -k "$C" alice bob --points 15
ok tb reverse -k "$C" "$(json seq)"
ok tb revoke -k "$TB_TMP/admin.key" "$TB_TMP/spare.key.pub"
RID=00112233445566778899aabbccddeeff
START=$(iso 9000)
ok tb --json record -k "$K" bob --minutes 7 --start "$START" --request-id "$RID"
RID_SEQ=$(json seq)
refused INSUFFICIENT_POINTS tb redeem -k "$C" alice --points 100000 --item car

M0=$TB_TMP/mirror0
ok tb --json export "$M0" --log-key "$DATA/log.pub"
N0=$(json size)

note "more than one full tile of entries"
BASE=$(tree_size)
for i in $(seq 270); do
    "$RAWCLIENT" -R "$K:v$i:$(printf '%032x' $((i + 4096)))" \
        -o "$ORIGIN" -c "$SOCK" >/dev/null || fail "rawclient"
    if [ $((i % 32)) -eq 0 ]; then
        for _ in $(seq 600); do
            [ "$(tree_size)" -ge $((BASE + i)) ] && break
            sleep 0.1
        done
    fi
done
for _ in $(seq 600); do
    [ "$(tree_size)" -ge $((BASE + 270)) ] && break
    sleep 0.1
done
N=$(tree_size)
[ "$N" -gt 256 ] || fail "tree size $N: want more than one full tile"

M=$TB_TMP/mirror
ok tb --json export "$M" --log-key "$DATA/log.pub"
eq "exported size" "$(json size)" "$N"
ok tb checkpoint
cp "$OUT" "$TB_TMP/live.checkpoint"
for a in alice bob v1 v270; do
    ok tb --json balance "$a"
    json balance >"$TB_TMP/live.$a"
done
daemon_stop

note "rebuild: every entry replayed, the live checkpoint byte for byte"
R=$TB_TMP/rebuilt
ok "$TIMEBANKD" init -d "$R" --from-tiles "$M" --log-key "$DATA/log.key"
out_has "$N entries replayed, root equal to the mirror's signed checkpoint"
out_has "not rebuilt  refusals remembered for retries"
eq "rebuilt dir mode" "$(stat -c %a "$R")" 700
eq "rebuilt log.key mode" "$(stat -c %a "$R/log.key")" 600
cmp -s "$R/log.pub" "$DATA/log.pub" || fail "the rebuilt log.pub differs"
eq "signer.state size" "$(sed -n 2p "$R/signer.state")" "$N"
ok "$TIMEBANKD" check -d "$R"
out_has "replayed $N entries"
out_has "all equal"

note "a daemon serves the rebuilt ledger"
DATA_LIVE=$DATA
DATA=$R
daemon_start
ok tb checkpoint
cmp -s "$OUT" "$TB_TMP/live.checkpoint" ||
    fail "the rebuilt checkpoint differs from the live one"
for a in alice bob v1 v270; do
    ok tb --json balance "$a"
    eq "balance of $a" "$(json balance)" "$(cat "$TB_TMP/live.$a")"
done
ok tb audit --log-key "$R/log.pub" --balances
ok tb --json record -k "$K" bob --minutes 7 --start "$START" --request-id "$RID"
eq "retry status" "$(json status)" DUPLICATE
eq "retry seq" "$(json seq)" "$RID_SEQ"
ok tb --json register -k "$K" newcomer
eq "the next seq" "$(json seq)" "$N"
ok tb consistency --from "$TB_TMP/live.checkpoint" --log-key "$R/log.pub"
daemon_stop
DATA=$DATA_LIVE

note "an older mirror rebuilt beside the key's own signer.state: kept, and the daemon refuses a fork"
O=$TB_TMP/older
mkdir -m 700 "$O"
cp -p "$DATA/signer.state" "$O/"
ok "$TIMEBANKD" init -d "$O" --from-tiles "$M0" --log-key "$DATA/log.key"
out_has "$N0 entries replayed"
out_has "kept         $O/signer.state, the key's own"
cmp -s "$O/signer.state" "$DATA/signer.state" || fail "signer.state replaced"
expect 1 "$TIMEBANKD" -d "$O" -s "$TB_TMP/o.sock"
err_has "(tree size $N0) is behind the last checkpoint the log key signed (size $N"
O2=$TB_TMP/older2
ok "$TIMEBANKD" init -d "$O2" --from-tiles "$M0" --log-key "$DATA/log.key"
eq "a fresh signer.state" "$(sed -n 2p "$O2/signer.state")" "$N0"

# rebuild_refused WHAT MIRROR [KEY]: exit 1, stderr names WHAT, nothing
# left in the target.
rebuild_refused() {
    local t=$TB_TMP/refused
    expect 1 "$TIMEBANKD" init -d "$t" --from-tiles "$2" \
        --log-key "${3:-$DATA/log.key}"
    err_has "$1"
    [ ! -e "$t/data.mdb" ] && [ ! -e "$t/log.key" ] && [ ! -e "$t/log.pub" ] &&
        [ ! -e "$t/signer.state" ] || fail "files left after a refusal"
}

note "refusals"
keygen other
OTHERKEY=$TB_TMP/other.key
rebuild_refused "checkpoint does not verify with the log key" "$M" "$OTHERKEY"
T=$TB_TMP/t1
cp -r "$M" "$T"
# another root, the signature left as it was
ROOT=$(sed -n 3p "$T/checkpoint")
if [ "${ROOT:0:1}" = A ]; then NEW=B${ROOT:1}; else NEW=A${ROOT:1}; fi
sed -i "3s|.*|$NEW|" "$T/checkpoint"
rebuild_refused "checkpoint does not verify with the log key" "$T"
rm -rf "$T"
cp -r "$M" "$T"
keygen stranger
ok "$TILES_FORGE" "$T" "$DATA/log.key" register "$TB_TMP/stranger.key" carol
rebuild_refused "entry $N replays as UNKNOWN_KEY" "$T"
rm -rf "$T"
cp -r "$M" "$T"
ok "$TILES_FORGE" "$T" "$DATA/log.key" redeem "$C" alice 99999
rebuild_refused "entry $N replays as INSUFFICIENT_POINTS" "$T"
rm -rf "$T"
cp -r "$M" "$T"
ok "$TILES_FORGE" "$T" "$DATA/log.key" swap 6 7
rebuild_refused "entry 6 holds seq 7" "$T"
rm -rf "$T"
cp -r "$M" "$T"
# another history of the same size, each entry valid, under the real
# checkpoint: only the final root comparison can tell
ok "$TILES_FORGE" "$T" "$DATA/log.key" truncate $((N - 1)) register "$K" carol
cp "$M/checkpoint" "$T/checkpoint"
rebuild_refused "the rebuilt tree's root differs from the mirror's checkpoint" "$T"
rm -rf "$T"
cp -r "$M" "$T"
ok "$TILES_FORGE" -b "$T" drop 5
rebuild_refused "cannot read the mirror" "$T"
expect 1 "$TIMEBANKD" init -d "$R" --from-tiles "$M" --log-key "$DATA/log.key"
err_has "holds a ledger (or its files) already"
expect 2 "$TIMEBANKD" init -d "$TB_TMP/u" --from-tiles https://example.org/m \
    --log-key "$DATA/log.key"
err_has "reads a local tiles directory"
expect 2 "$TIMEBANKD" init -d "$TB_TMP/u" --from-tiles "$M"
err_has "init --from-tiles needs -d DIR --from-tiles MIRROR --log-key LOG.key"
expect 2 "$TIMEBANKD" init -d "$TB_TMP/u" --from-tiles "$M" \
    --log-key "$DATA/log.key" --origin x.example/y
err_has "takes no --origin"
[ ! -e "$TB_TMP/u" ] || fail "a usage error made the target"

daemon_start
