#!/bin/bash
# install_syscalls: every system call timebankd makes while it serves is
# allowed by its unit's SystemCallFilter= lines.  systemd is not PID 1 in
# a container, so the filter cannot be applied here; instead the daemon
# runs under strace (-f: every thread) from exec to exit through the
# paths a served ledger takes (start, every write kind and read, the map
# growing from 64 KiB, SIGTERM), and each call it made is looked up in
# the sets `systemd-analyze syscall-filter` expands the unit's groups to.
#   syscalls.sh SERVICE_FILE      (TIMEBANKD, TIMEBANK from the environment)
# Under ASan the sanitizer's runtime adds calls of its own (sigaltstack,
# readlink, prctl, sched_getaffinity ...): they must pass too, which only
# makes the check stricter than the packaged binary needs.
set -euo pipefail
service=$1
. "$(dirname "$0")/../e2e/lib.sh"

command -v strace >/dev/null || skip "strace is not installed (Debian package strace)"
command -v systemd-analyze >/dev/null ||
    skip "systemd-analyze is not installed (Debian package systemd)"

# expand GROUP-OR-CALL: the system calls it names, groups recursively.
expand() {
    local item
    case $1 in
    @*)
        systemd-analyze syscall-filter "$1" 2>/dev/null |
            sed -n 's/^    \([@a-z_0-9][-a-z_0-9]*\)$/\1/p' |
            while read -r item; do expand "$item"; done
        ;;
    *) echo "$1" ;;
    esac
}
allow=$TB_TMP/allow deny=$TB_TMP/deny
: >"$allow"
: >"$deny"
while IFS= read -r value; do
    case $value in
    "~"*) for g in ${value#\~}; do expand "$g"; done >>"$deny" ;;
    *) for g in $value; do expand "$g"; done >>"$allow" ;;
    esac
done < <(sed -n 's/^SystemCallFilter=//p' "$service")
[ -s "$allow" ] || fail "no allow list in $service's SystemCallFilter="
sort -u "$allow" -o "$allow"
sort -u "$deny" -o "$deny"
note "the unit allows $(comm -23 "$allow" "$deny" | wc -l) system calls"

# map_size is read at init: a 64 KiB map must grow while we write.
printf 'map_size = 65536\n' >"$TB_TMP/small.conf"
tb_init -c "$TB_TMP/small.conf"
start_size=$(stat -c %s "$DATA/data.mdb")

ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
    strace -f -qq -o "$TB_TMP/trace" "$TIMEBANKD" -d "$DATA" -s "$SOCK" \
    2>>"$DLOG" &
strace_pid=$!
# strace -o FILE PROG blocks fatal signals (its -I 3): it ends only when
# the daemon it started does, so the daemon is the one to signal, and lib.sh's
# cleanup (which signals BG_PIDS, then waits) must know it.  Under load
# strace may take a while to fork it: wait up to 60 s.  (With set -e and
# pipefail an empty pgrep must not end the script: hence the if.)
daemon=
for _ in $(seq 600); do
    if daemon=$(pgrep -P "$strace_pid" | head -n 1) && [ -n "$daemon" ]; then
        break
    fi
    daemon=
    sleep 0.1
done
if [ -z "$daemon" ]; then
    # whatever strace starts from now on dies with it: -I 3 ignores TERM
    kill -KILL "$strace_pid" 2>/dev/null
    fail "no timebankd under strace after 60 s"
fi
BG_PIDS+=("$daemon" "$strace_pid")
for _ in $(seq 300); do
    [ -S "$SOCK" ] && tb --timeout 2 status >/dev/null 2>&1 && break
    kill -0 "$daemon" 2>/dev/null || fail "timebankd under strace exited"
    sleep 0.1
done

terminal t1 record,redeem
terminal t2 record
ok tb policy -k "$TB_TMP/admin.key" --points-per-hour 90 --activity care
for i in $(seq 40); do
    ok tb register -k "$TB_TMP/t1.key" "volunteer-$i"
    ok tb --json record -k "$TB_TMP/t1.key" "volunteer-$i" --minutes 60 \
        --activity care --note "an hour of care for the syscall test $i"
done
service_seq=$(json seq)
ok tb redeem -k "$TB_TMP/t1.key" volunteer-1 --points 10 --item soap
ok tb transfer -k "$TB_TMP/t1.key" volunteer-1 volunteer-2 --points 5
ok tb reverse -k "$TB_TMP/admin.key" "$service_seq"
ok tb revoke -k "$TB_TMP/admin.key" "$TB_TMP/t2.key.pub"
ok tb balance volunteer-1
ok tb history volunteer-2
ok tb entry 3
ok tb checkpoint
ok tb prove 5
ok tb consistency 3
ok tb status
size=$(stat -c %s "$DATA/data.mdb")
[ "$size" -gt "$start_size" ] ||
    fail "the map did not grow ($start_size bytes): the growth path was not traced"
note "data.mdb grew from $start_size to $size bytes"

kill -TERM "$daemon"
set +e
wait "$strace_pid"
st=$?
set -e
[ "$st" -eq 0 ] || fail "timebankd under strace exited $st after SIGTERM"

sed -n 's/^[0-9]\+ \+\([a-z_0-9]\+\)(.*/\1/p' "$TB_TMP/trace" | sort -u \
    >"$TB_TMP/used"
[ -s "$TB_TMP/used" ] || fail "strace recorded no system call"
note "timebankd made $(wc -l <"$TB_TMP/used") distinct system calls"
comm -23 "$TB_TMP/used" "$allow" >"$TB_TMP/outside"
comm -12 "$TB_TMP/used" "$deny" >>"$TB_TMP/outside"
if [ -s "$TB_TMP/outside" ]; then
    fail "system calls the unit's SystemCallFilter= refuses:" \
        "$(sort -u "$TB_TMP/outside" | tr '\n' ' ')"
fi
echo PASS
