#!/bin/bash
# e2e_backup: `timebankd backup` takes compacting hot copies while writers
# keep writing.  Each copy: a 0700 directory with data.mdb (0600) and
# log.pub, never log.key nor signer.state; it ends at a signed checkpoint
# (its tree size is its latest checkpoint's); `timebankd check` replays it
# all equal once log.key is put beside it; a daemon started on it serves
# exactly the live ledger's first N entries (entry by entry, and the live
# log proves it extends the copy's checkpoint); `timebank audit` passes on
# it.  A non-empty target, a missing log.pub, a directory that is no
# ledger and a user who does not own the ledger are refused with a
# message, and leave no data.mdb behind.
# Restoring a copy over a live data directory whose signer.state is newer
# is refused at start (a fork is never served).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

WRITERS=3
ACCOUNTS=25
# under memcheck every CLI call takes a second: fewer writes, and the
# entries compared one by one only at the ends and the middle (the
# consistency proof from the copy's checkpoint covers them all anyway)
[ "${TB_MEMCHECK:-0}" = 1 ] && ACCOUNTS=6

tb_init
daemon_start
terminal kiosk record,redeem
K=$TB_TMP/kiosk.key

# writer W: ACCOUNTS accounts wW-i, each registered and given a service.
writer() {
    local i
    for i in $(seq 1 $ACCOUNTS); do
        "$TIMEBANK" -s "$SOCK" register -k "$K" "w$1-$i" >/dev/null ||
            return 1
        "$TIMEBANK" -s "$SOCK" record -k "$K" "w$1-$i" --minutes 30 \
            --start "$(iso 7200)" >/dev/null || return 1
    done
}

note "backups while $WRITERS writers write"
writers_start "$WRITERS" writer
BACKUPS=()
SIZES=()
b=0
while [ "$b" -lt 6 ]; do
    before=$(tree_size)
    B=$TB_TMP/backup$b
    ok "$TIMEBANKD" backup -d "$DATA" "$B"
    out_has "up to the signed checkpoint of size"
    out_has "not copied   log.key, signer.state"
    size=$(sed -n 's/.*: \([0-9]*\) entries, up to the signed checkpoint of size \([0-9]*\).*/\1 \2/p' "$OUT")
    read -r n cp <<<"$size"
    eq "entries = checkpoint size" "$n" "$cp"
    [ "$n" -ge "$before" ] || fail "copy of $n entries, the tree had $before"
    BACKUPS+=("$B")
    SIZES+=("$n")
    b=$((b + 1))
    sleep 0.3
done
writers_wait || fail "a writer failed"
FINAL=$(tree_size)
[ "${SIZES[0]}" -lt "$FINAL" ] || fail "no backup was taken while writes went on"
[ "${SIZES[0]}" -lt "${SIZES[5]}" ] || [ "${SIZES[5]}" -lt "$FINAL" ] ||
    fail "the writes did not go on across the backups"
note "sizes ${SIZES[*]}, final $FINAL"

note "what a copy holds, and its modes"
B=${BACKUPS[2]}
eq "copy dir mode" "$(stat -c %a "$B")" 700
eq "data.mdb mode" "$(stat -c %a "$B/data.mdb")" 600
cmp -s "$B/log.pub" "$DATA/log.pub" || fail "log.pub differs from the live one"
for f in log.key signer.state lock.mdb timebankd.lock data.mdb.tmp; do
    [ ! -e "$B/$f" ] || fail "the copy holds $f"
done

note "check, serve and audit a copy taken mid-writes"
N=${SIZES[2]}
cp -p "$DATA/log.key" "$B/log.key"
ok "$TIMEBANKD" check -d "$B"
out_has "replayed $N entries"
out_has "all equal"
ok tb checkpoint
cp "$OUT" "$TB_TMP/live.checkpoint"
SOCK2=$TB_TMP/copy.sock
"$TIMEBANKD" -d "$B" -s "$SOCK2" 2>>"$TB_TMP/copy.log" &
COPY_PID=$!
BG_PIDS+=("$COPY_PID")
for _ in $(seq 300); do
    "$TIMEBANK" -s "$SOCK2" --timeout 2 status >/dev/null 2>&1 && break
    kill -0 "$COPY_PID" 2>/dev/null || fail "no daemon on the copy: $(cat "$TB_TMP/copy.log")"
    sleep 0.1
done
grep -q "no signer.state yet" "$TB_TMP/copy.log" ||
    fail "the copy's signer did not say it starts without signer.state"
ok "$TIMEBANK" -s "$SOCK2" --json status
eq "copy tree size" "$(json tree_size)" "$N"
ok "$TIMEBANK" -s "$SOCK2" checkpoint
cp "$OUT" "$TB_TMP/copy.checkpoint"
eq "copy checkpoint size" "$(sed -n 2p "$TB_TMP/copy.checkpoint")" "$N"
ok tb consistency --from "$TB_TMP/copy.checkpoint" --log-key "$DATA/log.pub"
SEQS=$(seq 0 $((N - 1)))
[ "${TB_MEMCHECK:-0}" = 1 ] && SEQS="0 $((N / 2)) $((N - 1))"
for seq in $SEQS; do
    "$TIMEBANK" -s "$SOCK2" --json entry "$seq" >"$TB_TMP/e.copy" ||
        fail "entry $seq from the copy"
    tb --json entry "$seq" >"$TB_TMP/e.live" || fail "entry $seq live"
    cmp -s "$TB_TMP/e.copy" "$TB_TMP/e.live" || fail "entry $seq differs"
done
expect 4 "$TIMEBANK" -s "$SOCK2" entry "$N" # beyond the copy: not found
err_has NOT_FOUND
ok "$TIMEBANK" -s "$SOCK2" audit --log-key "$B/log.pub"
kill -TERM "$COPY_PID"
wait "$COPY_PID" || fail "the daemon on the copy did not stop cleanly"
BG_PIDS=()

note "the last copy checks too"
L=${BACKUPS[5]}
cp -p "$DATA/log.key" "$L/log.key"
ok "$TIMEBANKD" check -d "$L"
out_has "replayed ${SIZES[5]} entries"

note "refusals"
expect 1 "$TIMEBANKD" backup -d "$DATA" "$L"
err_has "is not empty"
mkdir "$TB_TMP/notempty"
echo x >"$TB_TMP/notempty/file"
expect 1 "$TIMEBANKD" backup -d "$DATA" "$TB_TMP/notempty"
err_has "is not empty"
[ ! -e "$TB_TMP/notempty/data.mdb" ] || fail "data.mdb left in a refused target"
expect 1 "$TIMEBANKD" backup -d "$TB_TMP/notempty" "$TB_TMP/x1"
err_has "no ledger there"
[ ! -e "$TB_TMP/x1" ] || fail "a target made for a refused backup"
expect 2 "$TIMEBANKD" backup -d "$DATA"
err_has "backup needs -d DIR and one target directory"
mkdir "$TB_TMP/nopub"
cp -p "${BACKUPS[0]}/data.mdb" "$TB_TMP/nopub/"
expect 1 "$TIMEBANKD" backup -d "$TB_TMP/nopub" "$TB_TMP/x2"
err_has "log.pub is missing or is not the key"
[ ! -e "$TB_TMP/x2" ] || fail "a target left by a refused backup"

# another user than the ledger's owner (LMDB would make or write its lock
# file for them): refused before anything is opened.  Root only, and not
# under memcheck, whose log directory nobody may not write.
if [ "$(id -u)" = 0 ] && [ "${TB_MEMCHECK:-0}" != 1 ] &&
    NOBODY=$(id -u nobody 2>/dev/null); then
    note "another user than the owner is refused"
    chmod 711 "$TB_TMP" "$DATA"
    expect 1 setpriv --reuid="$NOBODY" --regid="$(id -g nobody)" \
        --clear-groups "$TIMEBANKD" backup -d "$DATA" "$TB_TMP/x4"
    err_has "run the backup as the ledger's owner"
    chmod 700 "$TB_TMP" "$DATA"
    [ ! -e "$TB_TMP/x4" ] || fail "a target made for another user"
fi

note "an old copy restored over the live directory is refused at start"
daemon_stop
R=$TB_TMP/restored
cp -a "$DATA" "$R"
cp -p "${BACKUPS[0]}/data.mdb" "$R/data.mdb"
rm -f "$R/lock.mdb"
expect 1 "$TIMEBANKD" -d "$R" -s "$TB_TMP/r.sock"
err_has "is behind the last checkpoint the log key signed"
err_has "Refusing to serve a fork"
daemon_start
