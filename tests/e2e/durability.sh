#!/bin/bash
# e2e_durability: an acknowledged write survives a power cut.
#
# The daemon runs with the powercut layer (tests/e2e/powercut.c, LD_PRELOAD):
# every write to data.mdb reaches the disk image only when LMDB makes it
# durable (fdatasync of the file, or a write through its O_DSYNC meta
# descriptor).  In each cycle, writers with request ids record services
# while the layer cuts the power at a random durability event (the N-th):
# it waits 100 ms (whatever the daemon would send, it sends) and SIGKILLs
# the daemon.  The test then puts the durable image in place of data.mdb,
# as the disk would hold it after the cut, restarts the daemon and checks:
#   - every acknowledged write is there: its retry answers DUPLICATE with
#     the seq first acknowledged;
#   - every unacknowledged one, retried, gives DUPLICATE or one new entry;
#   - never two: the tree holds one entry per request id, no more;
#   - the full check passes (lib.sh, at the end).
# It fails with MDB_NOSYNC forced (nothing is ever durable: the image keeps
# the state of the first start) and with a daemon that answers before its
# commit returns (the cut lands inside that window, after the answer).
# TB_DURABILITY_CYCLES (default 6) and TB_DURABILITY_SEED set the run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cuts.sh"
: "${POWERCUT:?set POWERCUT to the powercut.so layer}"

CYCLES=${TB_DURABILITY_CYCLES:-6}
SEED=${TB_DURABILITY_SEED:-$(date +%s)}
RANDOM=$SEED
note "seed $SEED (TB_DURABILITY_SEED=$SEED reproduces the cut points)"
LAYER_CUTS=0

# The daemon under the powercut layer, cutting at a random durability
# event; the image starts as the current data.mdb.
cut_start() {
    local at=$((RANDOM % 60 + 2))
    note "cycle $((CUTS_CYCLES)): power cut at durability event $at"
    rm -f "$TB_TMP/image"
    LD_PRELOAD=$POWERCUT TB_POWERCUT_AT=$at TB_POWERCUT_IMAGE=$TB_TMP/image \
        ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 \
        daemon_start
}

# The layer kills the daemon at its event; if the writers never reach it,
# the power goes after 20 s all the same.
cut_down() {
    for _ in $(seq 200); do
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -KILL "$DAEMON_PID"
    else
        LAYER_CUTS=$((LAYER_CUTS + 1))
    fi
    wait "$DAEMON_PID" || true
}

# What the disk holds after the cut.
cut_after() {
    [ -s "$TB_TMP/image" ] || fail "the powercut layer wrote no image"
    cp "$TB_TMP/image" "$DATA/data.mdb"
}

cuts_setup
for _ in $(seq "$CYCLES"); do
    cuts_cycle
done
[ "$LAYER_CUTS" -gt 0 ] ||
    fail "the layer never cut the power (no durability event?)"
cuts_finish
echo PASS
