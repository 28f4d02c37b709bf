#!/bin/bash
# e2e_map_resident: map_resident_max bounds how much of data.mdb the daemon
# keeps mapped (docs/timebankd.md).  The pages LMDB reads through its
# read-only map stay mapped in the daemon, and the kernel counts them as
# its private memory.  With map_resident_max = 0 they stay (the check that
# this test can fail: without the trim the mapping keeps its pages); with
# a budget below what the program's own files take (16 KiB) the daemon
# unmaps data.mdb at every check, so within a few seconds of the last
# read the Rss of its data.mdb mapping in /proc/PID/smaps is 16 KiB or
# less, and every read and write after that answers as before (the pages
# fault back in from the page cache).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -r /proc/self/smaps ] || skip "no /proc/self/smaps here"

# map_rss: KiB of data.mdb mapped in the daemon (Rss of its mapping)
map_rss() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($NF ~ /\/data\.mdb$/) }
         m && /^Rss:/ { print $2; found = 1; exit }
         END { if (!found) print "none" }' "/proc/$DAEMON_PID/smaps"
}

# load: writes and reads that touch every database's pages
load() {
    local i
    for i in $(seq 1 12); do
        ok tb register -k "$K" "m$1-$i"
        ok tb record -k "$K" "m$1-$i" --minutes 30 --start "$(iso $((i * 3600)))"
    done
    for i in $(seq 1 12); do
        ok tb balance "m$1-$i"
        out_has "balance"
        ok tb history "m$1-$i"
    done
    ok tb status
}

tb_init
printf 'map_resident_max = 0\n' >"$TB_TMP/off.conf"
printf 'map_resident_max = 16384\n' >"$TB_TMP/on.conf"

note "map_resident_max = 0: the pages read stay mapped"
daemon_start -c "$TB_TMP/off.conf"
terminal kiosk record
K=$TB_TMP/kiosk.key
load a
sleep 2.5
off=$(map_rss)
[ "$off" != none ] || fail "no data.mdb mapping in /proc/$DAEMON_PID/smaps"
[ "$off" -gt 16 ] ||
    fail "only $off KiB of data.mdb mapped without a budget: the test cannot tell"
note "  $off KiB mapped after 2.5 s"
daemon_stop

note "map_resident_max = 16384: unmapped within seconds, reads answer as before"
daemon_start -c "$TB_TMP/on.conf"
load b
ok tb balance "ma-1"
cp "$OUT" "$TB_TMP/before.txt"
on=
for _ in $(seq 50); do
    on=$(map_rss)
    [ "$on" != none ] && [ "$on" -le 16 ] && break
    sleep 0.1
done
[ "$on" != none ] && [ "$on" -le 16 ] ||
    fail "$on KiB of data.mdb still mapped 5 s after the reads (budget 16 KiB)"
note "  $on KiB mapped (was $off KiB without the budget)"
ok tb balance "ma-1"
cmp -s "$OUT" "$TB_TMP/before.txt" || fail "a balance read changed after the unmap"
load c
ok tb history "mb-12"
out_has "service"
grep -q "map_resident_max is not enforced\|cannot unmap data.mdb" "$DLOG" &&
    fail "the daemon could not read its mapping: $(tail -n 3 "$DLOG")"
exit 0
