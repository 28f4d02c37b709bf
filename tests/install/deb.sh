#!/bin/bash
# install_deb: the Debian packages (systemd/deb/cpack.cmake), timebank and
# timebank-dev, are built from the source tree the way a package is (a
# release build with Debian's hardening flags, no sanitizer, prefix /usr,
# `cpack -G DEB`), carry what they must, pass lintian without an error, and
# install, upgrade, remove and purge on this machine without ever touching
# a ledger:
#   - contents (dpkg-deb -c) of each, no file in both, maintainer
#     scripts, Depends, no libasan;
#   - timebank-dev installed: a program builds with `pkg-config --static
#     timebank` and runs; removed alone, it leaves timebank working;
#   - lintian: any error fails, warnings and notes are listed;
#   - dpkg -i: the timebank user and group, /var/lib/timebank 0700 owned
#     by timebank, `timebankd --version` and `timebank --help` from /usr;
#     a ledger made there as the timebank user (`timebankd init`, `check`);
#   - dpkg -i again (an upgrade), dpkg -r, dpkg --purge: the ledger's files
#     are the same bytes, owner and mode after each; the binaries go;
#   - TIMEBANK_PURGE_LEDGER=yes dpkg --purge removes it (the one way).
# Installing is real (dpkg as root): CI runs as root on a throwaway
# machine.  The test refuses (skips, with the reason) where a timebank
# package is installed or /var/lib/timebank exists, since it did not make
# them, and it leaves the machine as it found it: package purged, the
# directory, user and group it created removed.
#   deb.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2

skip() {
    echo "SKIP: $*" >&2
    if [ "${CI:-}" = true ]; then
        echo "FAIL: skipped under CI=true: a missing install step" >&2
        exit 1
    fi
    exit 77
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
note() { echo "# $*"; }

for tool in cpack dpkg-deb dpkg-shlibdeps dpkg-buildflags; do
    command -v "$tool" >/dev/null ||
        skip "$tool is not installed (Debian packages cmake, dpkg-dev)"
done
command -v lintian >/dev/null || skip "lintian is not installed (Debian package lintian)"

# ---- build the package: a release build of its own, one -j2 build --------
pkg=$build/deb-build
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(cd "$src" && dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
CFLAGS=$cflags LDFLAGS=$ldflags cmake -S "$src" -B "$pkg" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIMEBANK_SANITIZE=OFF \
    -DTIMEBANK_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr >"$pkg.log" 2>&1 ||
    { cat "$pkg.log"; fail "configuring the package build"; }
cmake --build "$pkg" -j2 >>"$pkg.log" 2>&1 ||
    { tail -n 30 "$pkg.log"; fail "building the package"; }
rm -f "$pkg"/timebank_*.deb "$pkg"/timebank-dev_*.deb
(cd "$pkg" && cpack -G DEB) >>"$pkg.log" 2>&1 ||
    { tail -n 30 "$pkg.log"; fail "cpack -G DEB"; }
deb=$(ls "$pkg"/timebank_*.deb)
devdeb=$(ls "$pkg"/timebank-dev_*.deb)
note "built $(basename "$deb") and $(basename "$devdeb")"

tmp=$(mktemp -d)
chmod 0755 "$tmp" # the timebank user reads the admin's public key here

# ---- contents ------------------------------------------------------------
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
dpkg-deb -c "$devdeb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/devfiles"
for f in "/usr/lib/$multiarch/libtimebank.a" "/usr/lib/$multiarch/libtbproto.a" \
    "/usr/lib/$multiarch/pkgconfig/timebank.pc" \
    /usr/include/timebank/timebank.h /usr/include/timebank/entry.h \
    /usr/include/timebank/error.h /usr/include/timebank/msg.h \
    /usr/include/timebank/status.h /usr/include/timebank/key.h \
    /usr/include/timebank/merkle.h /usr/include/timebank/note.h \
    /usr/share/doc/timebank-dev/copyright \
    /usr/share/doc/timebank-dev/changelog.gz; do
    grep -qxF "$f" "$tmp/devfiles" || fail "timebank-dev lacks $f"
done
# a file in both would make installing the second fail; the library's
# files belong to timebank-dev alone
both=$(grep -v '/$' "$tmp/files" | grep -xF -f - "$tmp/devfiles" || true)
[ -z "$both" ] || fail "files in both packages: $both"
devin=$(grep '\(^/usr/include/\|\.a$\|\.pc$\)' "$tmp/files" || true)
[ -z "$devin" ] || fail "timebank carries development files: $devin"
if grep -q '\(/s\?bin/\|/systemd/\|/man/\)' "$tmp/devfiles"; then
    fail "timebank-dev carries programs, units or man pages"
fi
[ "$(dpkg-deb -f "$devdeb" Section)" = libdevel ] ||
    fail "timebank-dev is not in section libdevel"
[ "$(dpkg-deb -f "$devdeb" Depends)" = libsodium-dev ] ||
    fail "timebank-dev's Depends is not libsodium-dev: $(dpkg-deb -f "$devdeb" Depends)"
note "timebank-dev: $(grep -vc '/$' "$tmp/devfiles") files, every expected one present, none in timebank"
for f in /usr/sbin/timebankd /usr/bin/timebank \
    /usr/share/man/man1/timebank.1.gz /usr/share/man/man8/timebankd.8.gz \
    /usr/share/man/man5/timebankd.conf.5.gz \
    /usr/share/man/man1/timebank-bench.1.gz \
    /usr/share/bash-completion/completions/timebank \
    /usr/share/bash-completion/completions/timebankd \
    /usr/lib/systemd/system/timebank-metrics.service \
    /usr/lib/systemd/system/timebank-metrics.timer \
    /usr/lib/systemd/system/timebankd.service \
    /usr/lib/systemd/system/timebankd.socket \
    /usr/lib/systemd/system/timebank-tunnel.service \
    /usr/lib/sysusers.d/timebank.conf /usr/lib/tmpfiles.d/timebank.conf \
    /usr/share/doc/timebank/copyright /usr/share/doc/timebank/changelog.gz \
    /usr/share/doc/timebank/examples/timebankd.conf.example; do
    grep -qxF "$f" "$tmp/files" || fail "the package lacks $f"
done
cat "$tmp/files" "$tmp/devfiles" >"$tmp/allfiles"
if grep -v '^/usr/' "$tmp/allfiles" | grep -vx '/' | grep -q .; then
    fail "files outside /usr: $(grep -v '^/usr/' "$tmp/allfiles" | grep -vx / | tr '\n' ' ')"
fi
grep -q '^/usr/local' "$tmp/allfiles" && fail "files under /usr/local"
note "contents: $(grep -vc '/$' "$tmp/files") files, every expected one present"

dpkg-deb -e "$deb" "$tmp/control"
for s in postinst prerm postrm; do
    [ -x "$tmp/control/$s" ] || fail "no executable $s in the package"
done
depends=$(dpkg-deb -f "$deb" Depends)
for d in libsodium23 liblmdb0 libevent-core-2.1-7 libevent-pthreads-2.1-7 \
    libc6 adduser; do
    echo "$depends" | tr ',' '\n' | grep -q "^ *$d\( \|$\)" ||
        fail "Depends lacks $d: $depends"
done
note "Depends: $depends"

mkdir "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
grep -qx 'ExecStart=/usr/sbin/timebankd -d /var/lib/timebank' \
    "$tmp/x/usr/lib/systemd/system/timebankd.service" ||
    fail "the packaged unit does not start /usr/sbin/timebankd"
for b in usr/sbin/timebankd usr/bin/timebank; do
    if readelf -d "$tmp/x/$b" | grep -q 'NEEDED.*\(asan\|ubsan\)'; then
        fail "$b needs a sanitizer runtime"
    fi
done

# ---- lintian ---------------------------------------------------------------
set +e
lintian --fail-on error --display-level '>=pedantic' -I "$deb" "$devdeb" >"$tmp/lintian" 2>&1
lrc=$?
set -e
grep -v 'running with root privileges' "$tmp/lintian" | sed 's/^/# lintian: /' || true
[ "$lrc" -eq 0 ] || fail "lintian found errors (exit $lrc)"
grep -q '^E: ' "$tmp/lintian" && fail "lintian reported errors"
note "lintian: no error, $(grep -c '^W: ' "$tmp/lintian" || true) warnings"

# ---- install, upgrade, remove, purge ---------------------------------------
[ "$(id -u)" -eq 0 ] || skip "installing the package needs root (CI runs as root)"
for p in timebank timebank-dev; do
    if dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'installed'; then
        skip "a $p package is installed on this machine: not replacing it"
    fi
done
# timebank-dev's one dependency, a build dependency of timebank itself
dpkg-query -W -f='${Status}' libsodium-dev 2>/dev/null | grep -q 'install ok installed' ||
    skip "libsodium-dev (timebank-dev's dependency) is not installed"
if [ -e /var/lib/timebank ] || [ -L /var/lib/timebank ]; then
    skip "/var/lib/timebank exists and this test did not make it: a" \
        "developer's ledger may live there; refusing to install over it"
fi
had_user=0 had_group=0 had_etc=0
[ -e /etc/timebank ] && had_etc=1
getent passwd timebank >/dev/null && had_user=1
getent group timebank >/dev/null && had_group=1
installed=0
cleanup() {
    local rc=$?
    set +e
    if [ "$installed" = 1 ]; then
        dpkg --purge timebank-dev timebank >/dev/null 2>&1
    fi
    # /var/lib/timebank did not exist when the test began
    rm -rf /var/lib/timebank
    [ "$had_etc" = 1 ] || rmdir /etc/timebank 2>/dev/null
    [ "$had_user" = 1 ] || userdel timebank 2>/dev/null
    [ "$had_group" = 1 ] || groupdel timebank 2>/dev/null
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT

# ledger_state: the ledger's files, their bytes, owners and modes
ledger_state() {
    (cd /var/lib/timebank && stat -c '%n %U:%G %a %s' . ./* &&
        sha256sum ./*.mdb log.key log.pub)
}

installed=1
dpkg -i "$deb" "$devdeb" >"$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -i"; }
note "dpkg -i: timebank and timebank-dev installed"
# timebank-dev as a program's author uses it: pkg-config finds the
# installed library (no PKG_CONFIG_PATH), a program builds and runs
PKG_CONFIG_PATH= pkg-config --exists timebank ||
    fail "pkg-config does not find timebank after installing timebank-dev"
# shellcheck disable=SC2046
cc -o "$tmp/consumer" "$src/tests/install/consumer.c" \
    $(PKG_CONFIG_PATH= pkg-config --cflags --libs --static timebank) ||
    fail "a program does not build with timebank-dev's pkg-config flags"
"$tmp/consumer" "$tmp/no-daemon-here.sock" >/dev/null ||
    fail "the program built with timebank-dev does not run"
note "timebank-dev: a program builds with pkg-config --static timebank and runs"
getent passwd timebank >/dev/null || fail "postinst made no timebank user"
getent group timebank >/dev/null || fail "postinst made no timebank group"
st=$(stat -c '%U:%G %a' /var/lib/timebank) || fail "postinst made no /var/lib/timebank"
[ "$st" = "timebank:timebank 700" ] || fail "/var/lib/timebank is $st, expected timebank:timebank 700"
if [ "$had_etc" = 0 ]; then
    st=$(stat -c '%U:%G %a' /etc/timebank) || fail "postinst made no /etc/timebank"
    [ "$st" = "root:root 755" ] || fail "/etc/timebank is $st, expected root:root 755"
fi
/usr/sbin/timebankd --version >"$tmp/out" || fail "timebankd --version"
note "installed: $(cat "$tmp/out")"
/usr/bin/timebank --help >"$tmp/out" || fail "timebank --help"
grep -q '^usage: timebank' "$tmp/out" || fail "timebank --help printed no usage"

/usr/bin/timebank keygen admin -o "$tmp/admin.key" >/dev/null || fail "keygen"
chmod 0644 "$tmp/admin.key.pub"
runuser -u timebank -- /usr/sbin/timebankd init -d /var/lib/timebank \
    --origin deb.example.org/test --admin "$tmp/admin.key.pub" >/dev/null ||
    fail "timebankd init as the timebank user"
# check makes its scratch replay under $TMPDIR: the caller's may be private
# to its own user, so the timebank user gets /tmp, as under systemd
TMPDIR=/tmp runuser -u timebank -- /usr/sbin/timebankd check -d /var/lib/timebank \
    >/dev/null || fail "timebankd check as the timebank user"
ledger_state >"$tmp/ledger.before"
note "a ledger in /var/lib/timebank, made as the timebank user"

dpkg -i "$deb" "$devdeb" >"$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -i (upgrade)"; }
ledger_state | diff "$tmp/ledger.before" - || fail "the upgrade changed the ledger"
note "dpkg -i again (an upgrade): the ledger unchanged"

dpkg -r timebank-dev >"$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -r timebank-dev"; }
[ ! -e "/usr/lib/$multiarch/pkgconfig/timebank.pc" ] || fail "dpkg -r timebank-dev left timebank.pc"
[ ! -e /usr/include/timebank ] || fail "dpkg -r timebank-dev left /usr/include/timebank"
/usr/sbin/timebankd --version >/dev/null || fail "timebankd does not run after dpkg -r timebank-dev"
note "dpkg -r timebank-dev: its files gone, timebank unaffected"
dpkg -r timebank >"$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -r"; }
[ ! -e /usr/sbin/timebankd ] || fail "dpkg -r left /usr/sbin/timebankd"
ledger_state | diff "$tmp/ledger.before" - || fail "dpkg -r changed the ledger"
note "dpkg -r: binaries gone, the ledger unchanged"

dpkg --purge timebank-dev timebank >"$tmp/dpkg.out" 2>&1 </dev/null ||
    { cat "$tmp/dpkg.out"; fail "dpkg --purge"; }
ledger_state | diff "$tmp/ledger.before" - || fail "dpkg --purge changed the ledger"
getent passwd timebank >/dev/null || fail "purge removed the timebank user"
if [ "$had_etc" = 0 ] && [ -e /etc/timebank ]; then
    fail "dpkg --purge left the empty /etc/timebank it made"
fi
note "dpkg --purge: asked nothing, the ledger and the user kept, the empty /etc/timebank removed"

dpkg -i "$deb" >"$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -i (over a kept ledger)"; }
ledger_state | diff "$tmp/ledger.before" - || fail "installing over a kept ledger changed it"
# a key pinned in /etc/timebank is the operator's: purge keeps it
[ "$had_etc" = 1 ] || install -m 0644 /var/lib/timebank/log.pub /etc/timebank/log.pub
TIMEBANK_PURGE_LEDGER=yes dpkg --purge timebank >"$tmp/dpkg.out" 2>&1 </dev/null ||
    { cat "$tmp/dpkg.out"; fail "dpkg --purge with TIMEBANK_PURGE_LEDGER=yes"; }
installed=0
[ ! -e /var/lib/timebank ] ||
    fail "TIMEBANK_PURGE_LEDGER=yes dpkg --purge kept /var/lib/timebank"
if [ "$had_etc" = 0 ]; then
    [ -f /etc/timebank/log.pub ] || fail "dpkg --purge deleted /etc/timebank/log.pub"
    rm -f /etc/timebank/log.pub
fi
note "reinstalled over the kept ledger (unchanged); TIMEBANK_PURGE_LEDGER=yes purge removed it and kept /etc/timebank/log.pub"
dpkg-query -W timebank >/dev/null 2>&1 && fail "the package is still known to dpkg"
dpkg-query -W timebank-dev >/dev/null 2>&1 && fail "timebank-dev is still known to dpkg"
echo PASS
