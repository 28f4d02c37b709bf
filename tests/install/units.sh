#!/bin/bash
# install_units: the units as `cmake --install` lays them out are accepted
# by systemd: `systemd-analyze verify` says nothing about them (an unknown
# directive is only a warning there, with exit 0, so any output fails),
# and `systemd-analyze security --offline` rates the service's exposure at
# most 0.4 (the hardening of timebankd.service; a lost directive raises it).
# The metrics unit and timer (timebank-metrics.*) are installed and verify
# clean too.
#   units.sh BUILD_DIR
set -euo pipefail
build=$1

skip() {
    echo "SKIP: $*" >&2
    if [ "${CI:-}" = true ]; then
        echo "FAIL: skipped under CI=true: a missing install step" >&2
        exit 1
    fi
    exit 77
}
command -v systemd-analyze >/dev/null ||
    skip "systemd-analyze is not installed (Debian package systemd)"
# timebank-tunnel.service runs /usr/bin/ssh, which verify looks for
[ -x /usr/bin/ssh ] || skip "/usr/bin/ssh is not installed (Debian package openssh-client)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR=$tmp/root cmake --install "$build" >/dev/null
units=$(find "$tmp/root" -path '*/lib/systemd/system' -type d)
[ -n "$units" ] || { echo "FAIL: no lib/systemd/system installed"; exit 1; }
service=$units/timebankd.service
socket=$units/timebankd.socket
tunnel=$units/timebank-tunnel.service
[ -f "$tunnel" ] || { echo "FAIL: timebank-tunnel.service not installed"; exit 1; }
# verify checks that ExecStart's program is executable where the unit says;
# it is in the staging tree, not on this machine.
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$service")
[ -x "$tmp/root$exec_start" ] ||
    { echo "FAIL: ExecStart=$exec_start is not the installed timebankd"; exit 1; }
sed -i "s|^ExecStart=/|ExecStart=$tmp/root/|" "$service"

# --man=no: the man pages are in the staging tree, where man does not look
# (tests/install/deb.sh checks that the package carries them).
metrics=$units/timebank-metrics.service
timer=$units/timebank-metrics.timer
[ -f "$metrics" ] && [ -f "$timer" ] ||
    { echo "FAIL: timebank-metrics.service or .timer not installed"; exit 1; }
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$metrics")
[ -x "$tmp/root$exec_start" ] ||
    { echo "FAIL: the metrics unit's ExecStart=$exec_start is not the installed timebank"; exit 1; }
grep -q "^ExecStart=$exec_start .* metrics -o /var/lib/prometheus/node-exporter/timebank.prom$" "$metrics" ||
    { echo "FAIL: timebank-metrics.service does not write the textfile collector's file"; exit 1; }
sed -i "s|^ExecStart=/|ExecStart=$tmp/root/|" "$metrics"
if ! systemd-analyze verify --man=no "$socket" "$service" "$tunnel" \
    "$metrics" "$timer" >"$tmp/verify" 2>&1 ||
    [ -s "$tmp/verify" ]; then
    echo "FAIL: systemd-analyze verify:"
    cat "$tmp/verify"
    exit 1
fi
echo "# systemd-analyze verify: timebankd.socket, timebankd.service, timebank-tunnel.service, timebank-metrics.service and .timer clean"

if ! systemd-analyze security --offline=true --threshold=4 --no-pager \
    "$service" >"$tmp/security" 2>&1; then
    echo "FAIL: exposure above 0.4:"
    grep -E '✗|Overall' "$tmp/security"
    exit 1
fi
grep 'Overall' "$tmp/security" | sed 's/^/# /'
echo PASS
