# tests/e2e/lib.sh - shared setup for the end-to-end tests (sourced).
#
# Every test gets its own temporary directory with keys, a data directory
# made by the real `timebankd init`, and a real `timebankd` serving it on a
# private socket; the EXIT trap always stops the daemon (and any background
# job the test registered) and removes the directory.  Only bash, coreutils
# and the project's binaries are used.
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
export TIMEBANK_SOCKET=$SOCK
# A sanitizer finding must fail the test, and leaks count.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

tb_cleanup() {
    local rc=$?
    local p
    set +e
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

fail() {
    echo "FAIL: $*" >&2
    if [ -s "$OUT" ]; then echo "  stdout: $(head -c 2000 "$OUT")" >&2; fi
    if [ -s "$ERR" ]; then echo "  stderr: $(head -c 2000 "$ERR")" >&2; fi
    exit 1
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

# tb_init [timebankd init options]: the admin key and a fresh ledger.
tb_init() {
    keygen admin
    "$TIMEBANKD" init -d "$DATA" --origin "$ORIGIN" \
        --admin "$TB_TMP/admin.key.pub" "$@" >"$TB_TMP/init.out" ||
        fail "timebankd init"
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

# daemon_stop [SIGNAL]: signal the daemon (TERM), wait (bounded), set
# DAEMON_RC to its exit status.
daemon_stop() {
    local sig=${1:-TERM}
    kill -"$sig" "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 300); do
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$DAEMON_PID" 2>/dev/null &&
        fail "timebankd did not stop within 30 s of SIG$sig"
    set +e
    wait "$DAEMON_PID"
    DAEMON_RC=$?
    set -e
    DAEMON_PID=
}

# terminal NAME ROLES: a key enrolled with ROLES (comma-separated).
terminal() {
    keygen "$1"
    ok tb enroll -k "$TB_TMP/admin.key" "$TB_TMP/$1.key.pub" --role "$2"
}

# iso SECONDS_AGO: an ISO 8601 UTC time that many seconds in the past.
iso() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ; }

# tree_size: the daemon's current number of entries.
tree_size() {
    tb --json status >"$TB_TMP/status.json" || fail "status"
    json tree_size "$TB_TMP/status.json"
}
