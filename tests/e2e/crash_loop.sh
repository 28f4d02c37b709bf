#!/bin/bash
# e2e_crash_loop: writers with request ids; the daemon SIGKILLed at a random
# moment, restarted, again and again (tests/e2e/lib_cuts.sh does the
# writing and the checking): every acknowledged write present with its seq;
# every unacknowledged one, retried, DUPLICATE or one new entry, never two;
# the full check passes.  A few cycles here (TB_CRASH_CYCLES, default 5);
# scripts/crashloop runs hundreds and docs/reliability.md has the figures.
# TB_CRASH_SEED reproduces the kill moments.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cuts.sh"

CYCLES=${TB_CRASH_CYCLES:-5}
SEED=${TB_CRASH_SEED:-$(date +%s)}
RANDOM=$SEED
note "seed $SEED (TB_CRASH_SEED=$SEED reproduces the kill moments)"

cut_start() { daemon_start; }

# SIGKILL 0.2 to 2 s after the writers start.
cut_down() {
    local ms=$((RANDOM % 1800 + 200))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" || true
}

cut_after() { :; }

cuts_setup
for _ in $(seq "$CYCLES"); do
    cuts_cycle
done
cuts_finish
echo PASS
