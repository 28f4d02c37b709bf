#!/bin/bash
# e2e_ssh_tunnel: a station on another machine reaches the daemon through
# OpenSSH's Unix-socket forwarding (docs/operations.md, "Stations on other
# machines"), played on 127.0.0.1: a private sshd (high port, its own
# sshd_config, host key and authorized_keys) with the documented
# restrictions, and `ssh -N -L STATION.sock:DAEMON.sock`; the real client
# records and reads through the forwarded socket.  Also checked, so that
# the documented restrictions are the ones that work:
#   - the forced command (command="/bin/false") ends any session, but
#     `ssh -N` opens none, so forwarding goes on;
#   - a key with `restrict` alone cannot forward (the tunnel's key needs
#     `restrict,port-forwarding`);
#   - remote forwarding (-R) and TCP forwarding are refused by sshd_config.
# sshd and ssh are registered in BG_PIDS, so lib.sh stops them.
. "$(dirname "$0")/lib.sh"

SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip "sshd is not installed (Debian package openssh-server)"
command -v ssh >/dev/null || skip "ssh is not installed (Debian package openssh-client)"
command -v ssh-keygen >/dev/null || skip "ssh-keygen is not installed (Debian package openssh-client)"
me=$(id -un)
privsep=
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
    # sshd as root wants its privilege separation directory, which
    # systemd-tmpfiles makes at boot; a container may not have it.
    mkdir -m 0755 /run/sshd
    privsep=/run/sshd
fi
# lib.sh's cleanup, after removing /run/sshd if we made it; tb_cleanup
# reads the test's exit status from $?, so it is handed on.
ssh_cleanup() {
    local rc=$?
    set +e
    [ -z "$privsep" ] || rmdir "$privsep" 2>/dev/null
    (exit "$rc")
    tb_cleanup
}
trap ssh_cleanup EXIT

S=$TB_TMP/ssh
mkdir -m 0700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$S/tunnel_key"
ssh-keygen -q -t ed25519 -N '' -f "$S/plain_key"
# The station's tunnel key, as docs/operations.md writes it; a second key
# with `restrict` alone, which must not be able to forward.
{
    echo "restrict,port-forwarding,command=\"/bin/false\" $(cat "$S/tunnel_key.pub")"
    echo "restrict,command=\"/bin/false\" $(cat "$S/plain_key.pub")"
} >"$S/authorized_keys"

tb_init
daemon_start

# sshd_config: what docs/operations.md shows, for the user running the
# test (root in CI) instead of a dedicated account, and with the test's
# paths; StrictModes=no since the files live under /tmp.
write_sshd_config() {
    cat >"$S/sshd_config" <<CONF
Port $1
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile none
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowAgentForwarding no
AllowTcpForwarding no
AllowStreamLocalForwarding no
DisableForwarding no
X11Forwarding no
PermitTunnel no
PermitUserRC no
Match User $me
    AllowTcpForwarding local
    AllowStreamLocalForwarding local
    PermitOpen [$SOCK]:*
    PermitListen none
    ForceCommand /bin/false
CONF
}

# A free high port: sshd says so when the port is taken; try a few.
port='' sshd_pid=''
for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    write_sshd_config "$port"
    "$SSHD" -t -f "$S/sshd_config" || fail "sshd -t rejects the configuration"
    "$SSHD" -D -e -f "$S/sshd_config" 2>>"$S/sshd.log" &
    sshd_pid=$!
    BG_PIDS+=("$sshd_pid")
    for _ in $(seq 50); do
        grep -q "Server listening on 127.0.0.1 port $port" "$S/sshd.log" && break 2
        kill -0 "$sshd_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$sshd_pid" 2>/dev/null || true
    sshd_pid=
done
[ -n "$sshd_pid" ] || fail "sshd did not start: $(tail -n 5 "$S/sshd.log")"
note "sshd on 127.0.0.1 port $port"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$S/host_key.pub")" >"$S/known_hosts"

# The station's ssh options, pinned to the test's host key; ssh runs
# directly (not in a shell function), so $! is ssh's own pid.
ssh_opts=(-F /dev/null -p "$port" -o IdentitiesOnly=yes -o BatchMode=yes
    -o UserKnownHostsFile="$S/known_hosts" -o StrictHostKeyChecking=yes
    -o ExitOnForwardFailure=yes -o ConnectTimeout=10)
dest=$me@127.0.0.1

# tunnel KEY LOCAL [REMOTE]: `ssh -N -L LOCAL:REMOTE` (REMOTE: $SOCK) in
# the background, in BG_PIDS; returns once LOCAL exists.
tunnel() {
    rm -f "$2"
    ssh "${ssh_opts[@]}" -i "$S/$1" -N -o StreamLocalBindUnlink=yes \
        -L "$2:${3:-$SOCK}" "$dest" 2>>"$S/ssh.log" &
    TUNNEL_PID=$!
    BG_PIDS+=("$TUNNEL_PID")
    for _ in $(seq 100); do
        [ -S "$2" ] && return 0
        kill -0 "$TUNNEL_PID" 2>/dev/null ||
            fail "ssh -N -L exited: $(tail -n 5 "$S/ssh.log")"
        sleep 0.1
    done
    fail "ssh -N -L made no $2 within 10 s"
}

STATION=$TB_TMP/station.sock
st() { "$TIMEBANK" -s "$STATION" "$@"; }

tunnel tunnel_key "$STATION"
note "tunnel up: $STATION -> $SOCK"
ok st status
out_has "origin        $ORIGIN"
keygen kiosk
ok st enroll -k "$TB_TMP/admin.key" "$TB_TMP/kiosk.key.pub" --role record,redeem
ok st register -k "$TB_TMP/kiosk.key" alice
rid=0123456789abcdef0123456789abcdef
start=$(iso 7200)
ok st --json record -k "$TB_TMP/kiosk.key" alice --minutes 90 --start "$start" \
    --request-id "$rid"
eq "status through the tunnel" "$(json status)" OK
seq=$(json seq)
# a retry through the tunnel (a station's network drops) is the same request
ok st --json record -k "$TB_TMP/kiosk.key" alice --minutes 90 --start "$start" \
    --request-id "$rid"
eq "retry through the tunnel" "$(json status)" DUPLICATE
eq "retry's seq" "$(json seq)" "$seq"
ok st --json redeem -k "$TB_TMP/kiosk.key" alice --points 30 --item bus-ticket
ok st --json balance alice
eq "balance through the tunnel" "$(json balance)" 60
ok tb --json balance alice
eq "balance on the daemon's own socket" "$(json balance)" 60
ok st prove "$seq"
note "enroll, register, record, its retry, redeem, balance, prove: through the tunnel"

# The forced command ends a session at once, with nothing run.
run ssh "${ssh_opts[@]}" -i "$S/tunnel_key" "$dest" echo session-ran
eq "a session's exit status (the forced /bin/false)" "$RC" 1
grep -q session-ran "$OUT" && fail "the forced command did not stop the session"
note "a session on the tunnel's key: forced /bin/false, exit $RC"

# Remote forwarding is refused (ExitOnForwardFailure makes ssh exit).
run timeout 20 ssh "${ssh_opts[@]}" -i "$S/tunnel_key" -N -R "$TB_TMP/remote.sock:$SOCK" "$dest"
[ "$RC" -ne 0 ] || fail "ssh -R was allowed"
err_has "forwarding failed"
run timeout 20 ssh "${ssh_opts[@]}" -i "$S/tunnel_key" -N -R "127.0.0.1:$((port + 1)):127.0.0.1:22" "$dest"
[ "$RC" -ne 0 ] || fail "ssh -R (TCP) was allowed"
err_has "forwarding failed"
note "remote forwarding refused (Unix and TCP)"

# TCP forwarding through the tunnel's key is refused by sshd: the local
# listener exists, but sshd opens no channel to the TCP destination.
tcp_port=$((port + 2))
ssh "${ssh_opts[@]}" -i "$S/tunnel_key" -N \
    -L "127.0.0.1:$tcp_port:127.0.0.1:$port" "$dest" 2>>"$S/ssh.log" &
tcp_pid=$!
BG_PIDS+=("$tcp_pid")
connected=0
for _ in $(seq 100); do
    if exec 3<>"/dev/tcp/127.0.0.1/$tcp_port"; then
        connected=1
        break
    fi 2>/dev/null
    sleep 0.1
done
[ "$connected" = 1 ] || fail "ssh -L made no TCP listener on port $tcp_port"
banner=$(timeout 5 head -c 4 <&3 || true)
exec 3<&-
[ "$banner" != "SSH-" ] || fail "TCP forwarding reached sshd through the tunnel's key"
denied="to connect to host 127.0.0.1 port $port, but the request was denied"
for _ in $(seq 50); do
    grep -qF "$denied" "$S/sshd.log" && break
    sleep 0.1
done
grep -qF "$denied" "$S/sshd.log" || fail "sshd did not log the refused TCP forward"
kill "$tcp_pid" 2>/dev/null || true
note "TCP forwarding refused (sshd: $denied)"

# PermitOpen names the daemon's socket by its path: another path, even a
# symlink to the same socket, is refused.
ln -s "$SOCK" "$TB_TMP/alias.sock"
ok "$TIMEBANK" -s "$TB_TMP/alias.sock" status
tunnel tunnel_key "$TB_TMP/other.sock" "$TB_TMP/alias.sock"
expect 3 "$TIMEBANK" -s "$TB_TMP/other.sock" --timeout 5 status
kill "$TUNNEL_PID" 2>/dev/null || true
note "a forward to another path (a symlink to the same socket) refused"

# A key with `restrict` alone: the listener comes up on the station, but
# sshd opens no channel, so the client cannot reach the daemon.
tunnel plain_key "$TB_TMP/plain.sock"
expect 3 "$TIMEBANK" -s "$TB_TMP/plain.sock" --timeout 5 status
note "a key with restrict alone cannot forward (client exit 3, unreachable)"
kill "$TUNNEL_PID" 2>/dev/null || true

# the first tunnel still serves
ok st status
echo PASS
