#!/bin/bash
# install_pkgconfig: `cmake --install` into a temporary prefix, then build
# and run a client program with nothing but `pkg-config timebank`: the
# headers, the libraries and the relocatable .pc file must be complete.
#   pkgconfig.sh BUILD_DIR SOURCE_DIR "EXTRA CFLAGS"
set -euo pipefail
build=$1 src=$2 extra=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/timebank sbin/timebankd include/timebank/timebank.h \
    share/man/man1/timebank.1 share/man/man8/timebankd.8; do
    [ -e "$tmp/prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
pc=$(find "$tmp/prefix" -name timebank.pc)
[ -n "$pc" ] || { echo "FAIL: timebank.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046,SC2086
cc $extra -o "$tmp/consumer" "$src/tests/install/consumer.c" \
    $(pkg-config --cflags --libs --static timebank)
"$tmp/consumer" "$tmp/no-daemon-here.sock"
echo PASS
