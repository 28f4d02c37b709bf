# tests/bench/lmdb_pages.awk - sums what lmdb_pages.c wrote (FILE.PID) over
# the groups of commits whose tree size is above `from`: bytes per entry and
# pages per group (per batch) for each database.
#
#   awk -v from=100002 -f tests/bench/lmdb_pages.awk FILE.PID
#
# bench_ledger: from = its setup (accounts + 2); timebank-bench: the tree
# size when its peak began (2 x accounts + connections + 1, plus --fill).
/^#/ {
        for (i = 4; i <= NF; i++)
                name[i - 1] = $i
        n = NF - 1
        next
}
$1 > from {
        for (i = 3; i <= n; i++)
                b[i] += $i
        groups++
        commits += $2
        if ($1 > last)
                last = $1
}
END {
        if (groups == 0 || last <= from) {
                print "lmdb_pages.awk: no group above from=" from > "/dev/stderr"
                exit 1
        }
        e = last - from
        for (i = 3; i <= n; i++)
                total += b[i]
        printf "entries %d, groups %d, commits %d: %.0f bytes per entry\n",
               e, groups, commits, total / e
        for (i = 3; i <= n; i++)
                printf "  %-12s %8.1f B/entry %8.2f pages/group\n", name[i],
                       b[i] / e, b[i] / 4096 / groups
}
