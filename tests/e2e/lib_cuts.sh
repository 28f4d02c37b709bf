# tests/e2e/lib_cuts.sh - writers with request ids against a daemon that is
# cut down again and again (sourced, after lib.sh, by e2e_durability and
# e2e_crash_loop; scripts/crashloop runs the latter long).
#
# A script defines three functions, then calls cuts_setup, cuts_cycle N
# times and cuts_finish:
#   cut_start     start the daemon for a cycle (sets DAEMON_PID)
#   cut_down      end it at some moment while the writers write (SIGKILL,
#                 or let a layer do it); returns after the daemon is gone
#   cut_after     what the disk holds after that (e.g. put a power-cut
#                 image in place of data.mdb); may do nothing
# Each cycle WRITERS writers record services, each with its own request id
# and interval, until the daemon is gone; then the daemon restarts and:
#   - every acknowledged write is there: its retry answers DUPLICATE with
#     the seq first acknowledged;
#   - the write in flight at the cut, retried, gives DUPLICATE or one new
#     entry (it is acknowledged from then on);
# and cuts_finish requires one entry per request id (never two), every
# acknowledged write once more, and lib.sh ends with the full check.
# Figures: CUTS_ACKED (writes acknowledged before a cut), CUTS_INFLIGHT
# (writes in flight at a cut that were found committed), CUTS_CYCLES.

WRITERS=${WRITERS:-4}
declare -A SEQ_OF # "w i" -> acknowledged seq
CUTS_ACKED=0 CUTS_INFLIGHT=0 CUTS_CYCLES=0

# Writer w's i-th request: its own request id and a one-minute service, 61
# s apart, so a retry of the same command line is the same request.
cuts_rid() { printf '%016x%016x' "$1" "$2"; }
cuts_start_of() {
    date -u -d "@$((CUTS_T0 - $2 * 61))" +%Y-%m-%dT%H:%M:%SZ
}
cuts_record() {
    "$TIMEBANK" -s "$SOCK" --timeout 5 --json record -k "$TB_TMP/kiosk.key" \
        "w$1" --minutes 1 --start "$(cuts_start_of "$1" "$2")" \
        --request-id "$(cuts_rid "$1" "$2")"
}

# cuts_writer W FIRST: records FIRST, FIRST+1, ... until the daemon is gone;
# appends "i seq" for each acknowledged one to acked.W and writes the first
# unacknowledged i to next.W.
cuts_writer() {
    local w=$1 i=$2 out seq
    while :; do
        if out=$(cuts_record "$w" "$i" 2>/dev/null); then
            seq=$(grep -o '"seq":[0-9]*' <<<"$out" | head -n 1)
            echo "$i ${seq#*:}" >>"$TB_TMP/acked.$w"
            i=$((i + 1))
        else
            echo "$i" >"$TB_TMP/next.$w"
            return 0
        fi
    done
}

# cuts_setup: a ledger with a kiosk key and the writers' accounts.
cuts_setup() {
    local w
    tb_init
    daemon_start
    terminal kiosk record
    for w in $(seq "$WRITERS"); do
        ok tb register -k "$TB_TMP/kiosk.key" "w$w"
        echo 1 >"$TB_TMP/next.$w"
    done
    CUTS_BASE=$(tree_size)
    daemon_stop
    CUTS_T0=$(($(date +%s) - 3600))
}

# cuts_cycle: one cycle (see the head comment).
cuts_cycle() {
    local w p i n=0 next first
    CUTS_CYCLES=$((CUTS_CYCLES + 1))
    cut_start
    for w in $(seq "$WRITERS"); do
        : >"$TB_TMP/acked.$w"
        cuts_writer "$w" "$(cat "$TB_TMP/next.$w")" &
        BG_PIDS+=($!)
    done
    cut_down
    DAEMON_PID=
    for p in "${BG_PIDS[@]}"; do wait "$p" || true; done
    BG_PIDS=()
    cut_after
    for w in $(seq "$WRITERS"); do
        while read -r i s; do
            SEQ_OF["$w $i"]=$s
            n=$((n + 1))
        done <"$TB_TMP/acked.$w"
    done
    CUTS_ACKED=$((CUTS_ACKED + n))
    note "cycle $CUTS_CYCLES: $n writes acknowledged before the cut"

    daemon_start
    for w in $(seq "$WRITERS"); do
        next=$(cat "$TB_TMP/next.$w")
        first=$((next - $(wc -l <"$TB_TMP/acked.$w")))
        for i in $(seq "$first" "$((next - 1))"); do
            run cuts_record "$w" "$i"
            [ "$RC" -eq 0 ] || fail "retry of acknowledged w$w #$i: exit $RC"
            eq "retry of acknowledged w$w #$i" "$(json status)" DUPLICATE
            eq "seq of acknowledged w$w #$i" "$(json seq)" \
                "${SEQ_OF["$w $i"]}"
        done
        run cuts_record "$w" "$next"
        [ "$RC" -eq 0 ] || fail "retry of in-flight w$w #$next: exit $RC"
        [ "$(json status)" != DUPLICATE ] ||
            CUTS_INFLIGHT=$((CUTS_INFLIGHT + 1))
        SEQ_OF["$w $next"]=$(json seq)
        echo $((next + 1)) >"$TB_TMP/next.$w"
    done
    daemon_stop
}

# cuts_finish: one entry per request id; every acknowledged write again.
cuts_finish() {
    local w i key total=0
    [ "$CUTS_ACKED" -gt 0 ] ||
        fail "no write was acknowledged: the test tested nothing"
    daemon_start
    for w in $(seq "$WRITERS"); do
        total=$((total + $(cat "$TB_TMP/next.$w") - 1))
    done
    eq "tree size (one entry per request id)" "$(tree_size)" \
        $((CUTS_BASE + total))
    note "every acknowledged write is still there with its seq"
    for key in "${!SEQ_OF[@]}"; do
        read -r w i <<<"$key"
        run cuts_record "$w" "$i"
        eq "final retry of w$w #$i" "$(json status)" DUPLICATE
        eq "final seq of w$w #$i" "$(json seq)" "${SEQ_OF[$key]}"
    done
    note "figures: cycles $CUTS_CYCLES, writes $total, acknowledged before" \
        "a cut $CUTS_ACKED, in flight and found committed $CUTS_INFLIGHT," \
        "lost 0, written twice 0"
}
