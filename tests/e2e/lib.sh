# tests/e2e/lib.sh - shared setup for the end-to-end tests (sourced).
#
# Every test gets its own temporary directory with keys, a data directory
# made by the real `timebankd init`, and a real `timebankd` serving it on a
# private socket; the EXIT trap always stops the daemon (and any background
# job the test registered) and removes the directory.  Only bash, coreutils
# and the project's binaries are used.
#
# No test can forget how its daemon ends: when the script body succeeds,
# the EXIT trap stops a daemon that is still running with SIGTERM and
# requires exit status 0 (a sanitizer or memcheck report at shutdown, a
# crash, a hang all fail), then runs `timebankd check` on $DATA (the full
# replay) and requires it to pass.  daemon_stop with SIGTERM requires
# status 0 too.  A test that leaves $DATA deliberately broken says so with
# `no_final_check REASON`.
#
# skip REASON exits 77 (ctest: skipped) and says why; under CI=true a skip
# is a failure, since CI installs everything every test needs.
#
# Binaries come from the environment (set by tests/CMakeLists.txt):
#   TIMEBANKD  timebankd      TIMEBANK  the timebank CLI
#   RAWCLIENT  tests/e2e/rawclient (hostile-client tests only)
# Set TB_E2E_KEEP=1 to keep the temporary directory for a post-mortem.

: "${TIMEBANKD:?set TIMEBANKD to the timebankd binary}"
: "${TIMEBANK:?set TIMEBANK to the timebank CLI binary}"

TB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tb-e2e.XXXXXX")
DATA=$TB_TMP/data
SOCK=$TB_TMP/tb.sock
DLOG=$TB_TMP/daemon.log
ORIGIN=e2e.example.org/timebank
DAEMON_PID=
BG_PIDS=()
OUT=$TB_TMP/out
ERR=$TB_TMP/err
RC=0
TB_FINAL_CHECK=1
export TIMEBANK_SOCKET=$SOCK
# A sanitizer finding must fail the test, and leaks count.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The end of every passing test: the daemon stops cleanly, the ledger
# checks.  Runs inside the EXIT trap, so it reports and returns instead of
# calling fail (an exit there would skip the cleanup).
tb_finish() {
    local st
    if [ -n "$DAEMON_PID" ]; then
        note "end: SIGTERM, exit status 0"
        kill -TERM "$DAEMON_PID" 2>/dev/null
        for _ in $(seq 600); do
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$DAEMON_PID" 2>/dev/null; then
            echo "FAIL: timebankd did not stop within 60 s of SIGTERM" >&2
            return 1
        fi
        wait "$DAEMON_PID"
        st=$?
        DAEMON_PID=
        if [ "$st" -ne 0 ]; then
            echo "FAIL: timebankd exited $st after SIGTERM (97: memcheck" \
                "error; sanitizer reports in the daemon log)" >&2
            return 1
        fi
    fi
    if [ "$TB_FINAL_CHECK" = 1 ] && [ -f "$DATA/data.mdb" ]; then
        note "end: timebankd check (full replay) passes"
        if ! "$TIMEBANKD" check -d "$DATA" >"$TB_TMP/final-check.out" 2>&1; then
            echo "FAIL: timebankd check -d $DATA:" >&2
            tail -n 20 "$TB_TMP/final-check.out" >&2
            return 1
        fi
    fi
    return 0
}

tb_cleanup() {
    local rc=$?
    local p
    set +e
    trap '' USR1
    if [ "$rc" -eq 0 ]; then
        tb_finish
        rc=$?
    fi
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        for _ in $(seq 100); do
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$DAEMON_PID" 2>/dev/null
    fi
    wait 2>/dev/null
    if [ "$rc" -ne 0 ] && [ -f "$DLOG" ]; then
        echo "---- daemon log (last 40 lines) ----" >&2
        tail -n 40 "$DLOG" >&2
    fi
    if [ "${TB_E2E_KEEP:-0}" = 1 ]; then
        echo "kept $TB_TMP" >&2
    else
        rm -rf "$TB_TMP"
    fi
    exit "$rc"
}
trap tb_cleanup EXIT

# fail WHY: the test fails.  Called inside $(...) or another subshell, it
# also stops the test's own shell (TB_MAIN_PID), which would otherwise go on
# with an empty value.
TB_MAIN_PID=$$
trap 'exit 1' USR1
fail() {
    echo "FAIL: $*" >&2
    if [ -s "$OUT" ]; then echo "  stdout: $(head -c 2000 "$OUT")" >&2; fi
    if [ -s "$ERR" ]; then echo "  stderr: $(head -c 2000 "$ERR")" >&2; fi
    if [ "$BASHPID" != "$TB_MAIN_PID" ]; then
        kill -USR1 "$TB_MAIN_PID" 2>/dev/null
    fi
    exit 1
}

# skip WHY: this test cannot run here (exit 77); a failure under CI=true.
skip() {
    echo "SKIP: $*" >&2
    if [ "${CI:-}" = true ]; then
        echo "FAIL: skipped under CI=true: scripts/test installs what every" \
            "test needs, so this is a missing install step" >&2
        exit 1
    fi
    exit 77
}

# no_final_check WHY: this test leaves $DATA broken on purpose; the EXIT
# trap skips `timebankd check` (it still requires a clean daemon stop).
no_final_check() {
    note "no final timebankd check: $*"
    TB_FINAL_CHECK=0
}

note() { echo "# $*"; }

# tb ARGS...: the CLI on our socket.
tb() { "$TIMEBANK" -s "$SOCK" "$@"; }

# run CMD...: run, stdout to $OUT, stderr to $ERR, exit status to $RC.
run() {
    set +e
    "$@" >"$OUT" 2>"$ERR"
    RC=$?
    set -e
}

# expect RC CMD...: run CMD, which must exit with RC.
expect() {
    local want=$1
    shift
    run "$@"
    [ "$RC" -eq "$want" ] || fail "exit $RC, expected $want: $*"
}

# ok CMD...: CMD must succeed.
ok() { expect 0 "$@"; }

# refused STATUS CMD...: exit 1 and STATUS named on stderr.
refused() {
    local st=$1
    shift
    expect 1 "$@"
    grep -q "^timebank: $st: " "$ERR" || fail "stderr does not name $st: $*"
}

# out_has TEXT / err_has TEXT: fixed-string checks on the last run.
out_has() { grep -qF -- "$1" "$OUT" || fail "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" "$ERR" || fail "stderr lacks '$1'"; }

# json KEY [FILE]: a scalar field (number, string without escapes, bool)
# of a one-line JSON object, first occurrence.
json() {
    local v
    v=$(grep -o "\"$1\":\(\"[^\"]*\"\|-\?[0-9]\+\|true\|false\)" "${2:-$OUT}" |
        head -n 1) || true
    [ -n "$v" ] || fail "no JSON field '$1'"
    v=${v#*:}
    v=${v#\"}
    echo "${v%\"}"
}

# eq WHAT GOT WANT
eq() { [ "$2" = "$3" ] || fail "$1 is '$2', expected '$3'"; }

# keygen NAME: $TB_TMP/NAME.key and NAME.key.pub
keygen() {
    "$TIMEBANK" keygen "$1" -o "$TB_TMP/$1.key" >/dev/null ||
        fail "keygen $1"
}

# tb_init [timebankd init options]: the admin key and a fresh ledger,
# whose log key the client pins ($TIMEBANK_LOG_KEY), as a terminal's
# installation does: writes are signed for it, proofs verified with it.
tb_init() {
    keygen admin
    "$TIMEBANKD" init -d "$DATA" --origin "$ORIGIN" \
        --admin "$TB_TMP/admin.key.pub" "$@" >"$TB_TMP/init.out" ||
        fail "timebankd init"
    export TIMEBANK_LOG_KEY=$DATA/log.pub
}

# daemon_start [timebankd options]: serve $DATA on $SOCK, wait until it
# answers STATUS (bounded), set DAEMON_PID.
daemon_start() {
    "$TIMEBANKD" -d "$DATA" -s "$SOCK" "$@" 2>>"$DLOG" &
    DAEMON_PID=$!
    for _ in $(seq 300); do
        if [ -S "$SOCK" ] && "$TIMEBANK" -s "$SOCK" --timeout 2 status \
            >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$DAEMON_PID" 2>/dev/null ||
            fail "timebankd exited at startup: $(tail -n 5 "$DLOG")"
        sleep 0.1
    done
    fail "timebankd did not answer on $SOCK within 30 s"
}

# daemon_wait_exit WHEN: wait (30 s at most) for the daemon to exit by
# itself, set DAEMON_RC to its exit status; fails "did not stop WHEN".
daemon_wait_exit() {
    for _ in $(seq 300); do
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$DAEMON_PID" 2>/dev/null &&
        fail "timebankd did not stop $1"
    set +e
    wait "$DAEMON_PID"
    DAEMON_RC=$?
    set -e
    DAEMON_PID=
}

# daemon_stop [SIGNAL]: signal the daemon (TERM), wait (bounded), set
# DAEMON_RC to its exit status; after SIGTERM (a clean stop) it must be 0.
daemon_stop() {
    local sig=${1:-TERM}
    kill -"$sig" "$DAEMON_PID" 2>/dev/null || true
    daemon_wait_exit "within 30 s of SIG$sig"
    if [ "$sig" = TERM ] && [ "$DAEMON_RC" -ne 0 ]; then
        fail "timebankd exited $DAEMON_RC after SIGTERM (97: memcheck" \
            "error; sanitizer reports in the daemon log)"
    fi
}

# terminal NAME ROLES: a key enrolled with ROLES (comma-separated).
terminal() {
    keygen "$1"
    ok tb enroll -k "$TB_TMP/admin.key" "$TB_TMP/$1.key.pub" --role "$2"
}

# garden_start: the audits' common beginning on a started daemon: the
# terminals kiosk and spare (record) and counter (redeem), K and C the
# kiosk's and the counter's keys, a garden policy, and alice and bob
# registered with a service each (20000 s ago).
garden_start() {
    K=$TB_TMP/kiosk.key
    C=$TB_TMP/counter.key
    terminal kiosk record
    terminal counter redeem
    terminal spare record
    ok tb policy -k "$TB_TMP/admin.key" --daily-minutes-cap 600 \
        --max-balance 100000
    ok tb policy -k "$TB_TMP/admin.key" --points-per-hour 100 --activity garden
    ok tb register -k "$K" alice
    ok tb register -k "$K" bob
    ok tb record -k "$K" alice --minutes 67 --activity garden \
        --start "$(iso 20000)"
    ok tb record -k "$K" bob --minutes 90 --start "$(iso 20000)"
}

# iso SECONDS_AGO: an ISO 8601 UTC time that many seconds in the past.
iso() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ; }

# tree_size: the daemon's current number of entries.
tree_size() {
    tb --json status >"$TB_TMP/status.json" || fail "status"
    json tree_size "$TB_TMP/status.json"
}

# writers_start N FUNC: FUNC 1 … FUNC N in the background, each with its
# stderr in $TB_TMP/FUNC<i>.err (killed by the cleanup if the test fails).
# writers_wait: wait for them all; prints each failure's stderr and returns
# how many failed (0: all succeeded).
WRITER_PIDS=()
WRITER_FUNC=
writers_start() {
    local w
    WRITER_PIDS=()
    WRITER_FUNC=$2
    for w in $(seq 1 "$1"); do
        "$2" "$w" 2>"$TB_TMP/$2$w.err" &
        WRITER_PIDS+=($!)
        BG_PIDS+=($!)
    done
}
writers_wait() {
    local w failed=0
    for w in $(seq 1 ${#WRITER_PIDS[@]}); do
        if ! wait "${WRITER_PIDS[$((w - 1))]}"; then
            echo "$WRITER_FUNC $w failed: $(cat "$TB_TMP/$WRITER_FUNC$w.err")" >&2
            failed=$((failed + 1))
        fi
    done
    BG_PIDS=()
    WRITER_PIDS=()
    return "$failed"
}
