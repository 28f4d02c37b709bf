#!/bin/bash
# e2e_socket_path: what timebankd does with whatever is at its socket path
# (STYLE 11, docs/timebankd.md "The socket").
#   - a regular file: refuse to start, leave the file as it was;
#   - a symbolic link (dangling, or to a file): refuse, follow nothing;
#   - a live socket (another daemon): refuse, the other keeps serving;
#   - a stale socket (its daemon was killed): replaced;
#   - a socket whose state connect() cannot tell (EACCES, the daemon runs
#     as nobody): refuse, never unlink;
#   - the mode is socket_mode from bind on, whatever the umask;
#   - a clean stop removes the socket.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
NOGROUP=$(id -g nobody)
command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
[ "$(id -u)" = 0 ] || skip "needs root, to run a daemon as nobody"

tb_init
DATA2=$TB_TMP/data2
"$TIMEBANKD" init -d "$DATA2" --origin other.example.org/timebank \
    --admin "$TB_TMP/admin.key.pub" >/dev/null || fail "init of data2"

# start_refused WHAT: a daemon on $SOCK must exit 1 at once, saying WHAT.
start_refused() {
    expect 1 timeout 60 "$TIMEBANKD" -d "$DATA" -s "$SOCK"
    err_has "$1"
}

note "a regular file at the path: refused, the file is left as it was"
echo precious >"$SOCK"
start_refused "exists and is not a socket"
eq "the file" "$(cat "$SOCK")" precious
rm -f "$SOCK"

note "a dangling symbolic link: refused, nothing created at its target"
ln -s "$TB_TMP/elsewhere.sock" "$SOCK"
start_refused "is a symbolic link"
[ -L "$SOCK" ] || fail "the link was removed"
[ ! -e "$TB_TMP/elsewhere.sock" ] || fail "the link was followed"
rm -f "$SOCK"

note "a symbolic link to a file: refused, link and file unchanged"
echo target >"$TB_TMP/target"
chmod 0600 "$TB_TMP/target"
ln -s "$TB_TMP/target" "$SOCK"
start_refused "is a symbolic link"
[ -L "$SOCK" ] || fail "the link was removed"
eq "the target" "$(cat "$TB_TMP/target")" target
eq "the target's mode" "$(stat -c %a "$TB_TMP/target")" 600
rm -f "$SOCK"

note "socket_mode 0640 under umask 000: the socket is 0640 from the start"
printf 'socket_mode = 0640\n' >"$TB_TMP/mode.conf"
umask 000
daemon_start -c "$TB_TMP/mode.conf"
umask 022
eq "socket mode" "$(stat -c %a "$SOCK")" 640

note "a live socket: a second daemon (another ledger) refuses to start"
expect 1 timeout 60 "$TIMEBANKD" -d "$DATA2" -s "$SOCK"
err_has "already answers"
[ -S "$SOCK" ] || fail "the live socket was removed"
ok tb status

note "a stale socket (its daemon killed): replaced"
daemon_stop KILL
[ -S "$SOCK" ] || fail "no stale socket after SIGKILL"
daemon_start
grep -q "removing stale socket $SOCK" "$DLOG" || fail "no stale-socket line"
ok tb status

note "a socket the daemon may not connect to (EACCES): refused, not removed"
if [ -n "${TB_MEMCHECK:-}" ]; then
    # memcheck writes its report where nobody may not: this case runs in
    # the sanitizer build
    note "skipped under memcheck"
else
    PRIV=$TB_TMP/priv
    mkdir "$PRIV"
    printf 'socket_mode = 0600\n' >"$TB_TMP/priv.conf"
    "$TIMEBANKD" -d "$DATA2" -s "$PRIV/tb.sock" -c "$TB_TMP/priv.conf" \
        2>>"$TB_TMP/priv.log" &
    P2=$!
    BG_PIDS+=($P2)
    for _ in $(seq 300); do
        [ -S "$PRIV/tb.sock" ] && break
        sleep 0.1
    done
    tb -s "$PRIV/tb.sock" --timeout 10 status >/dev/null ||
        fail "second daemon did not answer"
    kill -KILL "$P2"
    wait "$P2" 2>/dev/null || true
    [ -S "$PRIV/tb.sock" ] || fail "no stale root-only socket"
    # nobody owns the directory (it could unlink) and the ledger, but may
    # not connect to the root-owned 0600 socket
    chown -R "$NOBODY:$NOGROUP" "$PRIV" "$DATA2"
    chown root:root "$PRIV/tb.sock"
    chmod 0711 "$TB_TMP"
    # a daemon that unlinked the socket would serve: 20 s is plenty
    expect 1 timeout 20 setpriv --reuid="$NOBODY" --regid="$NOGROUP" \
        --clear-groups "$TIMEBANKD" -d "$DATA2" -s "$PRIV/tb.sock"
    err_has "cannot tell whether $PRIV/tb.sock is in use"
    err_has "Permission denied"
    [ -S "$PRIV/tb.sock" ] || fail "the socket was removed after EACCES"
fi

note "a clean stop removes the socket"
daemon_stop
[ ! -e "$SOCK" ] || fail "socket left after a clean stop"
echo "PASS"
