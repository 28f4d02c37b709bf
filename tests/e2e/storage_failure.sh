#!/bin/bash
# e2e_storage_failure: a write or a flush of data.mdb fails with EIO
# (tests/e2e/faildisk.c, LD_PRELOAD).  For each of "sync EIO" (fdatasync
# fails: the kernel may have dropped the pages) and "write EIO":
#   - the write of the failed batch is answered INTERNAL, never OK;
#   - the daemon stops accepting writes and exits 1 by itself, after an
#     error line that names the failure (for its supervisor to restart it);
#   - restarted, every write acknowledged before is there (its retry is
#     DUPLICATE with the same seq), the failed one is not (its retry is a
#     new OK), and the full check passes (lib.sh, at the end).
# Fails if the daemon goes on committing after the failure (it does not
# exit) or acknowledges the failed write.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${FAILDISK:?set FAILDISK to the faildisk.so layer}"

CTL=$TB_TMP/faildisk
tb_init
daemon_start
terminal kiosk record
K=$TB_TMP/kiosk.key
ok tb register -k "$K" alice
daemon_stop

T0=$(($(date +%s) - 86400))
N=0
# rec I: the I-th service of alice, with its own request id and start
rid() { printf '%032x' "$1"; }
rec() {
    tb --timeout 20 --json record -k "$K" alice --minutes 1 \
        --start "$(date -u -d "@$((T0 + $1 * 120))" +%Y-%m-%dT%H:%M:%SZ)" \
        --request-id "$(rid "$1")"
}

for mode in "sync EIO" "write EIO"; do
    note "$mode: the daemon under faildisk"
    rm -f "$CTL"
    LD_PRELOAD=$FAILDISK TB_FAILDISK_CONTROL=$CTL \
        ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 daemon_start
    ACKED=()
    for _ in 1 2 3; do
        N=$((N + 1))
        ok rec "$N"
        eq "status of #$N" "$(json status)" OK
        ACKED+=("$N:$(json seq)")
    done
    POINTS=$(tb --json balance alice | grep -o '"balance":[0-9]*')

    note "$mode: the next write fails: INTERNAL, and the daemon exits 1"
    echo "$mode" >"$CTL"
    N=$((N + 1))
    FAILED=$N
    run rec "$N"
    [ "$RC" -ne 0 ] || fail "the write of a failed commit was acknowledged"
    grep -q '"seq"' "$OUT" && fail "a failed write got a seq: $(cat "$OUT")"
    [ "$RC" -eq 4 ] && grep -q "^timebank: INTERNAL: " "$ERR" ||
        fail "the failed write: exit $RC, expected 4 and INTERNAL"
    daemon_wait_exit "after a failed commit ($mode): it goes on"
    eq "exit status after $mode" "$DAEMON_RC" 1
    grep -q "^<3>storage failure: committing a batch of 1 entries failed with an I/O error" \
        "$DLOG" || fail "no error line naming the storage failure"
    grep -q "faildisk: .* -> EIO" "$DLOG" || fail "faildisk did not fire"

    note "$mode: restarted without the fault, every acknowledged write is there"
    rm -f "$CTL"
    daemon_start
    ok tb --json balance alice
    out_has "$POINTS"
    for a in "${ACKED[@]}"; do
        ok rec "${a%%:*}"
        eq "retry of acknowledged #${a%%:*}" "$(json status)" DUPLICATE
        eq "seq of acknowledged #${a%%:*}" "$(json seq)" "${a#*:}"
    done
    ok rec "$FAILED"
    eq "retry of the failed #$FAILED" "$(json status)" OK
    daemon_stop
done
echo "PASS"
