#!/bin/bash
# install_conf: every setting of the daemon's table (daemon/config.c) is in
# `timebankd --help`, in timebankd.conf(5) and timebankd(8) (both generated
# from the table), and in systemd/timebankd.conf.example with its default;
# the example names no setting the table lacks, and the daemon accepts it
# uncommented as it is.
#   conf.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

keys=$(sed -n 's/^ *{"\([a-z_]*\)", T_[A-Z0-9]*,.*/\1/p' "$src/daemon/config.c")
[ "$(echo "$keys" | wc -l)" -ge 16 ] || fail "too few settings read from config.c: $keys"
help=$("$build/daemon/timebankd" --help)
conf5=$build/daemon/timebankd.conf.5
man8=$build/daemon/timebankd.8
example=$src/systemd/timebankd.conf.example
[ -s "$conf5" ] || fail "$conf5 was not built"
cmp -s "$conf5" <("$build/daemon/timebankd" --man-conf) ||
    fail "$conf5 differs from timebankd --man-conf"
for k in $keys; do
    # the default as --help prints it: "  name  default  meaning"
    line=$(echo "$help" | awk -v k="$k" '$1 == k')
    [ -n "$line" ] || fail "--help lacks setting $k"
    # an empty default leaves the column blank ("  name" padded to 24, a
    # space, then the default): the example then shows a sample value
    if [ "${line:27:1}" = " " ]; then
        def=
        sample='#'"$k"' = [^ ].*'
    else
        def=$(echo "$line" | awk '{ print $2 }')
        sample="#$k = $def"
    fi
    grep -qxF ".BR $k \" = $def\"" "$conf5" ||
        fail "timebankd.conf(5) lacks setting $k with its default '$def'"
    grep -qxF ".BR $k \" = $def\"" "$man8" ||
        fail "timebankd(8) lacks setting $k with its default '$def'"
    grep -qx "$sample" "$example" ||
        fail "timebankd.conf.example lacks '$sample'"
done
extra=$(sed -n 's/^#\([a-z_]*\) = .*/\1/p' "$example" | grep -vxF "$keys" || true)
[ -z "$extra" ] || fail "timebankd.conf.example names settings the daemon lacks: $extra"
# the example, uncommented, is a configuration the daemon accepts: init
# reads the file (and stops at the first bad line) before creating anything
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/^#\([a-z_]* = \)/\1/' "$example" >"$tmp/all.conf"
echo "max_frame = 63" >"$tmp/bad.conf"
set +e
"$build/daemon/timebankd" init -d "$tmp/no/such/dir" --origin x --admin /nonexistent \
    -c "$tmp/bad.conf" >/dev/null 2>"$tmp/bad.err"
bad=$?
"$build/daemon/timebankd" init -d "$tmp/no/such/dir" --origin x --admin /nonexistent \
    -c "$tmp/all.conf" >/dev/null 2>"$tmp/all.err"
set -e
[ "$bad" = 2 ] && grep -q "bad.conf:1" "$tmp/bad.err" ||
    fail "a bad value was not refused with its line (exit $bad): $(cat "$tmp/bad.err")"
if grep -q "all.conf" "$tmp/all.err"; then
    fail "the example uncommented is refused: $(cat "$tmp/all.err")"
fi
echo "ok: $(echo "$keys" | wc -l) settings in --help, timebankd.conf(5), timebankd(8) and the example"
