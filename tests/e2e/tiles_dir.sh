#!/bin/bash
# e2e_tiles_dir: with tiles_dir set, timebankd keeps a C2SP tlog-tiles
# mirror of its log by itself.  A mirror it cannot write (tile/ is a file)
# fails no write: the failure is logged and retried, and the mirror
# catches up once the obstacle is gone.  While writes go on, every
# `timebank audit --tiles` of the mirror passes (a checkpoint there never
# names a tile that is missing); once writes stop the mirror reaches the
# daemon's tree size, passes the audit with only the log key, covers every
# entry, and its full tiles are byte for byte those `timebank export`
# writes; a checkpoint of a larger tree already there (another log, a
# ledger restored from an older backup) is reported, never overwritten.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${RAWCLIENT:?set RAWCLIENT to the rawclient binary}"

tb_init
note "tiles_dir must be an existing directory, by absolute path"
printf 'tiles_dir = mirror\n' >"$TB_TMP/rel.conf"
expect 1 "$TIMEBANKD" -d "$DATA" -s "$SOCK" -c "$TB_TMP/rel.conf"
err_has "tiles_dir mirror: must be an absolute path"
printf 'tiles_dir = %s\n' "$TB_TMP/none" >"$TB_TMP/none.conf"
expect 1 "$TIMEBANKD" -d "$DATA" -s "$SOCK" -c "$TB_TMP/none.conf"
err_has "tiles_dir $TB_TMP/none: No such file or directory (create the"
M=$TB_TMP/mirror
mkdir -p "$M"
: >"$M/tile" # a file where the mirror needs a directory
printf 'tiles_dir = %s\n' "$M" >"$TB_TMP/d.conf"
daemon_start -c "$TB_TMP/d.conf"
LOGPUB=$DATA/log.pub
K=$TB_TMP/kiosk.key
terminal kiosk record

note "a mirror that cannot be written fails no write"
for i in $(seq 5); do ok tb register -k "$K" "early$i"; done
for _ in $(seq 100); do
    grep -q 'tiles_dir' "$DLOG" && break
    sleep 0.1
done
grep -q '<4>tiles_dir: ' "$DLOG" || fail "the mirror's failure is not logged"
[ ! -e "$M/checkpoint" ] || fail "a checkpoint without its tiles"
rm "$M/tile"

# mirror_size: the tree size of the mirror's checkpoint, 0 if none yet.
mirror_size() { sed -n 2p "$M/checkpoint" 2>/dev/null || echo 0; }

# mirror_wait N: until the mirror's checkpoint covers N entries (bounded:
# the retry waits up to 60 s after many failures).
mirror_wait() {
    for _ in $(seq 900); do
        [ "$(mirror_size)" -ge "$1" ] && return 0
        sleep 0.1
    done
    fail "the mirror has tree size $(mirror_size), not $1"
}
mirror_wait "$(tree_size)"
grep -q '<5>tiles_dir .*: written again' "$DLOG" ||
    fail "the recovery is not logged"
ok tb audit --log-key "$LOGPUB" --tiles "$M"

note "audits of the mirror pass while writes go on"
# the writer: 32 registers fired at a time (rawclient hangs up at once;
# a hung-up connection keeps its slot until its write is answered, and
# one uid has 64), then it waits for them to commit
(
    i=0
    while :; do
        "$TIMEBANK" -s "$SOCK" --json status >"$TB_TMP/w.json" 2>/dev/null ||
            { sleep 0.1 && continue; }
        base=$(json tree_size "$TB_TMP/w.json")
        for _ in $(seq 32); do
            i=$((i + 1))
            "$RAWCLIENT" -R "$K:w$i:$(printf '%032x' "$i")" -o "$ORIGIN" \
                -c "$SOCK" >/dev/null 2>&1 || true
        done
        for _ in $(seq 600); do
            "$TIMEBANK" -s "$SOCK" --json status >"$TB_TMP/w.json" \
                2>/dev/null || { sleep 0.1 && continue; }
            [ "$(json tree_size "$TB_TMP/w.json")" -ge $((base + 32)) ] &&
                break
            sleep 0.1
        done
    done
) &
BG_PIDS+=($!)
first=$(mirror_size)
# past one full tile (256 entries), auditing all along (bounded)
round=0
while [ "$(tree_size)" -lt 300 ] && [ $round -lt 300 ]; do
    round=$((round + 1))
    ok tb --json audit --log-key "$LOGPUB" --tiles "$M"
    eq "round $round ok" "$(json ok)" true
    sleep 0.2
done
kill "${BG_PIDS[@]}"
wait "${BG_PIDS[@]}" 2>/dev/null || true
BG_PIDS=()
# the writes fired last still commit: wait until the tree stops growing
N=$(tree_size)
for _ in $(seq 60); do
    sleep 1
    [ "$(tree_size)" -eq "$N" ] && break
    N=$(tree_size)
done
[ "$N" -ge 300 ] || fail "only $N entries written"
note "$round audits during the writes"
mirror_wait "$N"
[ "$(mirror_size)" -gt "$first" ] || fail "the mirror did not grow"

note "the mirror covers every entry, as export writes it"
ok tb --json audit --log-key "$LOGPUB" --tiles "$M"
eq "entries" "$(json entries)" "$N"
eq "ok" "$(json ok)" true
ok tb export "$TB_TMP/export" --log-key "$LOGPUB"
for f in "$TB_TMP"/export/tile/entries/000 "$TB_TMP"/export/tile/0/000; do
    cmp "$f" "$M/${f#"$TB_TMP"/export/}" || fail "$f differs"
done
cmp "$TB_TMP/export/checkpoint" "$M/checkpoint" ||
    fail "the checkpoints differ"
[ -z "$(find "$M" -name '*.tmp.*')" ] || fail "temporary files left"

note "a mirror of a larger tree is never overwritten with a smaller one"
daemon_stop
sed -i "2s/.*/$((N + 1000))/" "$M/checkpoint"
cp "$M/checkpoint" "$TB_TMP/larger.checkpoint"
daemon_start -c "$TB_TMP/d.conf"
ok tb register -k "$K" late
for _ in $(seq 100); do
    grep -q 'holds a checkpoint of tree size' "$DLOG" && break
    sleep 0.1
done
grep -qF "<3>tiles_dir $M: holds a checkpoint of tree size $((N + 1000))," \
    "$DLOG" || fail "the larger checkpoint is not reported"
sleep 1.5 # a retry round
cmp "$M/checkpoint" "$TB_TMP/larger.checkpoint" ||
    fail "the larger checkpoint was overwritten"
echo "PASS"
