#!/bin/bash
# install_completion: the bash completions that `timebank --completion` and
# `timebankd --completion` print from their command tables (installed to
# /usr/share/bash-completion/completions) complete what they should: the
# commands, a command's own options, files where a FILE is expected,
# directories where a DIR is, and nothing where a number or text is.
#   completion.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/client/timebank" --completion >"$tmp/timebank.bash"
"$build/daemon/timebankd" --completion >"$tmp/timebankd.bash"
# the build's copies are the same bytes
cmp -s "$tmp/timebank.bash" "$build/client/timebank.bash" ||
    fail "build/client/timebank.bash differs from timebank --completion"
cmp -s "$tmp/timebankd.bash" "$build/daemon/timebankd.bash" ||
    fail "build/daemon/timebankd.bash differs from timebankd --completion"
bash -n "$tmp/timebank.bash" || fail "timebank.bash is not valid bash"
bash -n "$tmp/timebankd.bash" || fail "timebankd.bash is not valid bash"

mkdir -p "$tmp/cwd/keys.d" "$tmp/cwd/tiles dir"
touch "$tmp/cwd/admin.key" "$tmp/cwd/term.pub" "$tmp/cwd/with space.pub"
cd "$tmp/cwd"

# complete FILE PROGRAM WORDS...: COMPREPLY, sorted, one per line, for the
# line "PROGRAM WORDS..." with the cursor in the last word
complete_line() {
    local script=$1
    shift
    bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        "_${COMP_WORDS[0]}"
        printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort' _ "$script" "$@"
}

expect() { # expect WHAT EXPECTED ACTUAL
    [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
    echo "ok: $1"
}

tb() { complete_line "$tmp/timebank.bash" timebank "$@"; }
tbd() { complete_line "$tmp/timebankd.bash" timebankd "$@"; }

# every command of --help, and nothing else
commands=$("$build/client/timebank" --help |
    sed -n 's/^  \([a-z-]\+\)\( .*\)\?$/\1/p' | LC_ALL=C sort)
[ "$(echo "$commands" | wc -l)" -ge 17 ] || fail "too few commands in --help: $commands"
expect "timebank <TAB>: every command" "$commands" "$(tb '')"
expect "timebank st<TAB>" "status" "$(tb st)"
expect "after global options: timebank -s SOCK --json ch<TAB>" \
    "checkpoint" "$(tb -s /run/x.sock --json ch)"
expect "timebank --j<TAB>: a global option" "--json" "$(tb --j)"
expect "timebank record --<TAB>: record's options" \
    "$(printf '%s\n' --activity --help --key --log-key --minutes --note --request-id --start | LC_ALL=C sort)" \
    "$(tb record --)"
expect "timebank redeem --p<TAB>" "--points" "$(tb redeem --p)"
expect "timebank balance --<TAB>: no writer's options" "--help" "$(tb balance --)"
expect "timebank enroll -k <TAB>: files" \
    "$(printf '%s\n' admin.key keys.d term.pub 'tiles dir' 'with space.pub' | LC_ALL=C sort)" \
    "$(tb enroll -k '')"
expect "timebank enroll -k a.key <TAB>: the terminal's .pub file" \
    "term.pub" "$(tb enroll -k a.key te)"
expect "timebank --socket <TAB>: a file" "with space.pub" "$(tb --socket wi)"
expect "timebank export <TAB>: directories only" \
    "$(printf '%s\n' keys.d 'tiles dir' | LC_ALL=C sort)" "$(tb export '')"
expect "timebank audit --tiles <TAB>: directories only" \
    "tiles dir" "$(tb audit --log-key log.pub --tiles ti)"
expect "timebank record --minutes <TAB>: a number, nothing offered" "" \
    "$(tb record -k a.key --minutes '')"
expect "timebank balance <TAB>: an account, nothing offered" "" "$(tb balance '')"
expect "timebank nosuch --<TAB>: nothing" "" "$(tb nosuch --)"

expect "timebankd <TAB>: the subcommands" "backup
check
init
upgrade" "$(tbd '')"
expect "timebankd init --<TAB>" \
    "$(printf '%s\n' --admin --config --daily-minutes-cap --data --from-tiles --log-key --max-balance --origin --points-per-hour | LC_ALL=C sort)" \
    "$(tbd init --)"
expect "timebankd check --<TAB>" "--data" "$(tbd check --)"
expect "timebankd backup --<TAB>" "--data" "$(tbd backup --)"
expect "timebankd upgrade --<TAB>" "--data" "$(tbd upgrade --)"
expect "timebankd init --from-tiles <TAB>: directories only" \
    "$(printf '%s\n' keys.d 'tiles dir' | LC_ALL=C sort)" "$(tbd init --from-tiles '')"
expect "timebankd init --log-key <TAB>: files" "admin.key" "$(tbd init --log-key ad)"
expect "timebankd check -<TAB>" "$(printf '%s\n' --data -d | LC_ALL=C sort)" "$(tbd check -)"
expect "timebankd --c<TAB>" "$(printf '%s\n' --completion --config | LC_ALL=C sort)" "$(tbd --c)"
expect "timebankd -d <TAB>: directories only" \
    "$(printf '%s\n' keys.d 'tiles dir' | LC_ALL=C sort)" "$(tbd -d '')"
expect "timebankd init --admin <TAB>: files" "term.pub" "$(tbd init -d x --admin te)"
expect "timebankd init --origin <TAB>: nothing" "" "$(tbd init --origin '')"
expect "timebankd -d DIR <TAB>: no subcommand after options" "" "$(tbd -d x '')"
