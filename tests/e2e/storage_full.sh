#!/bin/bash
# e2e_storage_full: a full file system answers STORAGE_FULL, not INTERNAL,
# and costs nothing else.  Three rounds:
#   1. the real thing: the ledger on a small tmpfs (size=8m), a filler file
#      taking all of it but 12 KiB, so LMDB's next commit gets a short
#      write (which LMDB reports as EIO) and the ones after it ENOSPC;
#   2. the faildisk layer's "write ENOSPC" (LD_PRELOAD), which is also what
#      plays the full disk where mounting is impossible (no root, no
#      tmpfs; TB_STORAGE_FULL_SHIM=1 forces it);
#   3. the ledger's own guard: faildisk's statvfs reports 512 KiB free (then
#      exactly 1 MiB), nothing actually full.
# In each: once a commit needs room the disk does not have, writes are
# answered STORAGE_FULL (CLI exit 4) and the daemon keeps running; reads go
# on; one error line per period names it; `timebank status` counts the
# refused transactions and says when (storage_full_total and _time); once
# room is made the same writes (same request ids) succeed, each in the
# tree once.
# Fails with ENOSPC mapped to a generic I/O error (round 2: INTERNAL and
# the daemon exits), and with a short write taken for a failing disk
# (round 1: the daemon exits).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${FAILDISK:?set FAILDISK to the faildisk.so layer}"

FS=$TB_TMP/fs
CTL=$TB_TMP/faildisk
MOUNTED=0
mkdir "$FS"
if [ "${TB_STORAGE_FULL_SHIM:-0}" != 1 ] && [ "$(id -u)" = 0 ] &&
    mount -t tmpfs -o size=8m,mode=0700 tmpfs "$FS" 2>/dev/null; then
    MOUNTED=1
    # unmount whatever happens (lazily: the daemon may still hold it);
    # lib.sh's cleanup runs after
    trap 'rc=$?; umount -l "$FS" 2>/dev/null; (exit $rc); tb_cleanup' EXIT
fi
DATA=$FS/data
tb_init
daemon_start
terminal kiosk record
K=$TB_TMP/kiosk.key
ok tb register -k "$K" alice
T0=$(($(date +%s) - 86400))
rec() {
    tb --timeout 20 --json record -k "$K" alice --minutes 1 \
        --start "$(date -u -d "@$((T0 + $1 * 120))" +%Y-%m-%dT%H:%M:%SZ)" \
        --request-id "$(printf '%032x' "$1")"
}
ok rec 1
N=1

# full_round FILL UNFILL: writes while FILL holds, then after UNFILL.  A
# full file system refuses a commit only once LMDB needs a page beyond the
# end of its file (freed pages inside it are reused first), so the round
# writes until the first refusal (a few fit, at most 64), then requires
# that one and the next four to be STORAGE_FULL.
full_round() {
    local size base balance first=$((N + 1)) i fitted=0 logged st full0 t0
    logged=$(grep -c '^<3>storage full' "$DLOG" || true)
    ok tb --json status
    full0=$(json storage_full_total)
    t0=$(date +%s)
    base=$(tree_size)
    "$1"
    note "writes get STORAGE_FULL once the disk has no room, the daemon goes on"
    i=$first
    while run rec "$i" && [ "$RC" -eq 0 ]; do
        fitted=$((fitted + 1))
        [ "$fitted" -lt 64 ] || fail "64 writes fitted on a full disk"
        i=$((i + 1))
    done
    note "$fitted writes fitted in pages LMDB had free"
    first=$i
    # refused: exit 4, STORAGE_FULL, the daemon still there
    refused() {
        [ "$RC" -eq 4 ] && grep -q "^timebank: STORAGE_FULL: " "$ERR" ||
            fail "write #$1 on a full disk: exit $RC, expected 4 and STORAGE_FULL"
        kill -0 "$DAEMON_PID" 2>/dev/null ||
            fail "the daemon exited on a full disk"
    }
    refused "$first"
    size=$(tree_size)
    ok tb --json balance alice
    balance=$(json balance)
    for i in $(seq $((first + 1)) $((first + 4))); do
        run rec "$i"
        refused "$i"
    done
    logged=$(($(grep -c '^<3>storage full' "$DLOG") - logged))
    [ "$logged" -ge 1 ] && [ "$logged" -le 2 ] ||
        fail "$logged storage-full error lines for 5 refused batches"
    note "status shows it: 5 transactions refused, and when"
    ok tb --json status
    eq "storage_full_total" "$(($(json storage_full_total) - full0))" 5
    st=$(json storage_full_time_seconds)
    [ "$st" -ge "$t0" ] && [ "$st" -le "$(date +%s)" ] ||
        fail "storage_full_time_seconds $st is not between $t0 and now"
    ok tb status
    grep -q "^storage full  $((full0 + 5)) transactions refused (last 20" "$OUT" ||
        fail "the status text does not show the full disk: $(cat "$OUT")"
    note "reads go on"
    ok tb --json balance alice
    eq "balance" "$(json balance)" "$balance"
    ok tb history alice
    eq "tree size" "$(tree_size)" "$size"
    note "room is made: the same writes succeed"
    "$2"
    # the first refused batch may have committed its entries and found the
    # disk full only for its checkpoint (the second commit): its retry is
    # then DUPLICATE; either way each request is in the tree once
    for i in $(seq "$first" $((first + 4))); do
        ok rec "$i"
        st=$(json status)
        [ "$st" = OK ] || { [ "$st" = DUPLICATE ] && [ "$i" = "$first" ]; } ||
            fail "write #$i after room was made is '$st'"
    done
    eq "tree size" "$(tree_size)" "$((base + fitted + 5))"
    N=$((first + 4))
}
tmpfs_fill() {
    dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null || true
    truncate -s -12k "$FS/filler"
    note "filled: $(df -k --output=avail "$FS" | tail -n 1) KiB free"
}
tmpfs_unfill() { rm -f "$FS/filler"; }
shim_fill() { echo "write ENOSPC" >"$CTL"; }
shim_unfill() { rm -f "$CTL"; }

if [ "$MOUNTED" = 1 ]; then
    note "round 1: the ledger on a tmpfs of 8 MiB, filled"
    full_round tmpfs_fill tmpfs_unfill
    note "the ledger leaves the tmpfs"
    daemon_stop
    cp -a "$DATA" "$TB_TMP/data"
    DATA=$TB_TMP/data
    export TIMEBANK_LOG_KEY=$DATA/log.pub
    umount "$FS"
    trap tb_cleanup EXIT
else
    note "round 1 skipped: cannot mount a small file system here"
    daemon_stop
fi

note "round 2: faildisk's write ENOSPC"
LD_PRELOAD=$FAILDISK TB_FAILDISK_CONTROL=$CTL \
    ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 daemon_start
full_round shim_fill shim_unfill
grep -q "faildisk: .* -> ENOSPC" "$DLOG" || fail "faildisk did not fire"

# round 3: the ledger's free-space guard.  With less than 1 MiB free (as
# statvfs reports it; nothing is full) every write is refused whole before
# anything is written, and says why; acknowledged writes stay; once the
# file system reports room, the same requests are accepted (OK: the
# refused ones left no trace, not even an idempotency record); exactly
# 1 MiB free is room.
note "round 3: faildisk's statvfs reports 512 KiB free"
base=$(tree_size)
ok tb --json balance alice
balance=$(json balance)
echo "statvfs 512" >"$CTL"
first=$((N + 1))
for i in $(seq "$first" $((first + 2))); do
    run rec "$i"
    [ "$RC" -eq 4 ] || fail "write #$i with 512 KiB free: exit $RC, expected 4"
    err_has "timebank: STORAGE_FULL: The ledger's storage is full; nothing was written."
done
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited"
eq "tree size" "$(tree_size)" "$base"
ok tb --json balance alice
eq "balance" "$(json balance)" "$balance"
grep -q "faildisk: statvfs -> 512 KiB" "$DLOG" || fail "faildisk's statvfs did not fire"
grep -q "^<3>storage full: .*the ledger's file system has less than 1 MiB free; free space" "$DLOG" ||
    fail "the error line does not name the free-space guard"
echo "statvfs 1024" >"$CTL"
ok rec "$first"
eq "status at exactly 1 MiB free" "$(json status)" OK
rm -f "$CTL"
for i in $(seq $((first + 1)) $((first + 2))); do
    ok rec "$i"
    eq "status of write #$i once room is made" "$(json status)" OK
done
eq "tree size" "$(tree_size)" "$((base + 3))"
ok tb --json balance alice
eq "balance" "$(json balance)" "$((balance + 3))"
N=$((first + 2))
echo "PASS"
