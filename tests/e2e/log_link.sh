#!/bin/bash
# e2e_log_link: the procedure for a lost or leaked log key
# (docs/operations.md, docs/log-link.md) with real daemons.  An old ledger
# serves, is mirrored and stops; a new ledger with a new origin and the
# same admin key starts; `timebank link-logs` signs the link from the old
# log's final checkpoint to the new log's first, offline; `verify-link`
# passes with the admin key, and with both mirrors (the admin key then
# taken from the new log's genesis), and `audit --tiles` reports the link
# published in the new mirror.  Refused, each with its own message: a
# forged (altered) link, the wrong admin key, a link to a checkpoint that
# is not the old log's final one, a forged old checkpoint, a checkpoint of
# an impostor log of the same origin, the wrong new log, an audit of a
# mirror whose log-link belongs to another log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OLD=$TB_TMP/old
NEW=$TB_TMP/data
NEWORIGIN=$ORIGIN/2
keygen admin

# ---- the old log: writes, an early and the final checkpoint, a mirror ----
DATA=$OLD
"$TIMEBANKD" init -d "$OLD" --origin "$ORIGIN" \
    --admin "$TB_TMP/admin.key.pub" >/dev/null || fail "init of the old log"
export TIMEBANK_LOG_KEY=$OLD/log.pub
daemon_start
terminal kiosk record
ok tb register -k "$TB_TMP/kiosk.key" alice
ok tb checkpoint
cp "$OUT" "$TB_TMP/early.cp"
ok tb record -k "$TB_TMP/kiosk.key" alice --minutes 45 --start "$(iso 9000)"
ok tb export "$TB_TMP/oldmirror" --log-key "$OLD/log.pub"
ok tb checkpoint
cp "$OUT" "$TB_TMP/final.cp"
cmp -s "$TB_TMP/final.cp" "$TB_TMP/oldmirror/checkpoint" ||
    fail "the mirror's checkpoint is not the final one"
OLDSIZE=$(sed -n 2p "$TB_TMP/final.cp")
daemon_stop
note "old log $ORIGIN stopped at tree size $OLDSIZE, mirrored"

# ---- an impostor: another ledger of the same origin (another log key) ----
DATA=$TB_TMP/impostor
"$TIMEBANKD" init -d "$DATA" --origin "$ORIGIN" \
    --admin "$TB_TMP/admin.key.pub" >/dev/null || fail "init of the impostor"
TIMEBANK_LOG_KEY=$DATA/log.pub daemon_start
ok tb checkpoint --log-key "$DATA/log.pub"
cp "$OUT" "$TB_TMP/impostor.cp"
daemon_stop

# ---- the new log: new origin, new log key, the same admin key -------------
DATA=$NEW
"$TIMEBANKD" init -d "$NEW" --origin "$NEWORIGIN" \
    --admin "$TB_TMP/admin.key.pub" >/dev/null || fail "init of the new log"
export TIMEBANK_LOG_KEY=$NEW/log.pub
daemon_start
ok tb checkpoint
cp "$OUT" "$TB_TMP/new.cp"
eq "the new log's first checkpoint size" "$(sed -n 2p "$TB_TMP/new.cp")" 1

# ---- link-logs: offline, no daemon asked ----------------------------------
L=$TB_TMP/link
ok "$TIMEBANK" -s "$TB_TMP/no-daemon.sock" link-logs -k "$TB_TMP/admin.key" \
    --old-log-key "$OLD/log.pub" --old-checkpoint "$TB_TMP/final.cp" \
    --new-checkpoint "$TB_TMP/new.cp" -o "$L"
out_has "$NEWORIGIN (from its checkpoint of size 1) continues $ORIGIN after its checkpoint of size $OLDSIZE; signed by admin"
[ "$(head -n 1 "$L")" = "timebank log link v1" ] || fail "the link's first line"
grep -q "^old-checkpoint $OLDSIZE " "$L" || fail "the link does not name size $OLDSIZE"
expect 4 tb link-logs -k "$TB_TMP/admin.key" --old-log-key "$OLD/log.pub" \
    --old-checkpoint "$TB_TMP/final.cp" --new-checkpoint "$TB_TMP/new.cp" -o "$L"
err_has "refusing to overwrite it"
note "link-logs: the link signed offline; never over an existing file"

# ---- verify-link ------------------------------------------------------------
ok tb verify-link "$L" --old-log-key "$OLD/log.pub" --admin-key "$TB_TMP/admin.key.pub"
out_has "verified: $NEWORIGIN continues $ORIGIN after its checkpoint of tree size $OLDSIZE"
ok tb --json verify-link "$L" --old-log-key "$OLD/log.pub" --admin-key "$TB_TMP/admin.key.pub"
eq "old_size" "$(json old_size)" "$OLDSIZE"
eq "new_size" "$(json new_size)" 1
eq "verified" "$(json verified)" true
eq "old_mirror_checked" "$(json old_mirror_checked)" false

# the new log grows, is mirrored, and the link is published beside its tiles
ok tb enroll -k "$TB_TMP/admin.key" "$TB_TMP/kiosk.key.pub" --role record
ok tb register -k "$TB_TMP/kiosk.key" alice
ok tb export "$TB_TMP/newmirror" --log-key "$NEW/log.pub"
cp "$L" "$TB_TMP/newmirror/log-link"
ok tb --json verify-link "$L" --old-log-key "$OLD/log.pub" \
    --tiles "$TB_TMP/newmirror" --old-tiles "$TB_TMP/oldmirror"
eq "admin (from the new genesis)" "$(json admin)" admin
eq "new_mirror_checked" "$(json new_mirror_checked)" true
eq "old_mirror_checked" "$(json old_mirror_checked)" true
ok tb audit --log-key "$NEW/log.pub" --tiles "$TB_TMP/newmirror"
out_has "link       log-link: this log continues $ORIGIN+"
out_has "after its checkpoint of tree size $OLDSIZE (signed by the admin key admin"
out_has "result     OK"
note "verify-link passes, with both mirrors; audit reports the published link"

# ---- refusals -------------------------------------------------------------
# verify-link without any admin key: a usage error
expect 2 tb verify-link "$L" --old-log-key "$OLD/log.pub"
err_has "verify-link needs the admin key"

# a forged link: the old size changed in the signed text
sed "s/^old-checkpoint $OLDSIZE /old-checkpoint $((OLDSIZE + 1)) /" "$L" >"$TB_TMP/forged.link"
cmp -s "$L" "$TB_TMP/forged.link" && fail "the forgery changed nothing"
expect 5 tb verify-link "$TB_TMP/forged.link" --old-log-key "$OLD/log.pub" \
    --admin-key "$TB_TMP/admin.key.pub"
err_has "the admin key's signature on $TB_TMP/forged.link does not verify: the link was altered or forged"

# the wrong admin key: given, and one signing a link the new genesis does
# not name
keygen admin2
expect 5 tb verify-link "$L" --old-log-key "$OLD/log.pub" --admin-key "$TB_TMP/admin2.key.pub"
err_has "is not signed by the admin key admin2+"
ok tb link-logs -k "$TB_TMP/admin2.key" --old-log-key "$OLD/log.pub" \
    --old-checkpoint "$TB_TMP/final.cp" --new-checkpoint "$TB_TMP/new.cp" \
    -o "$TB_TMP/admin2.link"
expect 5 tb verify-link "$TB_TMP/admin2.link" --old-log-key "$OLD/log.pub" \
    --tiles "$TB_TMP/newmirror"
err_has "is not signed by the admin key admin+"
expect 5 tb verify-link "$TB_TMP/admin2.link" --old-log-key "$OLD/log.pub" \
    --admin-key "$TB_TMP/admin2.key.pub" --tiles "$TB_TMP/newmirror"
err_has "the admin key admin2 is not the one the new log's genesis names (admin+"

# a link to a checkpoint that is not the old log's final one
ok tb link-logs -k "$TB_TMP/admin.key" --old-log-key "$OLD/log.pub" \
    --old-checkpoint "$TB_TMP/early.cp" --new-checkpoint "$TB_TMP/new.cp" \
    -o "$TB_TMP/early.link"
ok tb verify-link "$TB_TMP/early.link" --old-log-key "$OLD/log.pub" \
    --admin-key "$TB_TMP/admin.key.pub" # signatures alone cannot tell
expect 5 tb verify-link "$TB_TMP/early.link" --old-log-key "$OLD/log.pub" \
    --tiles "$TB_TMP/newmirror" --old-tiles "$TB_TMP/oldmirror"
err_has "does not name the old log's final checkpoint: the old log's mirror holds a signed checkpoint of tree size $OLDSIZE, the link names tree size"

# a forged old checkpoint: link-logs refuses to sign over it
awk 'NR == 3 { $0 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } { print }' \
    "$TB_TMP/final.cp" >"$TB_TMP/forged.cp"
expect 5 tb link-logs -k "$TB_TMP/admin.key" --old-log-key "$OLD/log.pub" \
    --old-checkpoint "$TB_TMP/forged.cp" --new-checkpoint "$TB_TMP/new.cp" \
    -o "$TB_TMP/forged2.link"
err_has "$TB_TMP/forged.cp does not verify with the old log key $ORIGIN"
[ ! -e "$TB_TMP/forged2.link" ] || fail "a link was written over a forged checkpoint"
# the new log's checkpoint given as the old one
expect 5 tb link-logs -k "$TB_TMP/admin.key" --old-log-key "$OLD/log.pub" \
    --old-checkpoint "$TB_TMP/new.cp" --new-checkpoint "$TB_TMP/new.cp" \
    -o "$TB_TMP/forged3.link"
err_has "does not verify with the old log key"

# an impostor log of the same origin, linked by a deceived admin: the
# verifier's old log key is not the one the link names
ok tb link-logs -k "$TB_TMP/admin.key" --old-log-key "$TB_TMP/impostor/log.pub" \
    --old-checkpoint "$TB_TMP/impostor.cp" --new-checkpoint "$TB_TMP/new.cp" \
    -o "$TB_TMP/impostor.link"
expect 5 tb verify-link "$TB_TMP/impostor.link" --old-log-key "$OLD/log.pub" \
    --admin-key "$TB_TMP/admin.key.pub"
err_has "links from the log key $ORIGIN+"
err_has "not the old log key given ($ORIGIN+"

# the link checked against the wrong new log
expect 5 tb verify-link "$L" --old-log-key "$OLD/log.pub" \
    --admin-key "$TB_TMP/admin.key.pub" --log-key "$TB_TMP/impostor/log.pub"
err_has "links to the log key $NEWORIGIN+"

# the old log key named as the new one: the same log twice
expect 2 tb link-logs -k "$TB_TMP/admin.key" --old-log-key "$OLD/log.pub" \
    --log-key "$OLD/log.pub" --old-checkpoint "$TB_TMP/final.cp" \
    --new-checkpoint "$TB_TMP/final.cp" -o "$TB_TMP/same.link"
err_has "name the same log"

# an audit of a mirror whose log-link is not for this log: a problem
cp "$TB_TMP/admin2.link" "$TB_TMP/newmirror/log-link"
expect 1 tb audit --log-key "$NEW/log.pub" --tiles "$TB_TMP/newmirror"
err_has "log-link: does not open with the admin key the genesis names (admin)"
cp "$L" "$TB_TMP/newmirror/log-link"
ok tb audit --log-key "$NEW/log.pub" --tiles "$TB_TMP/newmirror"
note "refused: forged link, wrong admin key, non-final checkpoint, forged checkpoint, impostor log, wrong new log, foreign log-link"

# a log-link that is there but cannot be a link is a problem, not "no
# link": too large (the real link followed by 9,000 bytes), a directory, a
# FIFO (never opened: opening it would wait for a writer for ever)
ML=$TB_TMP/newmirror/log-link
{ cat "$L"; head -c 9000 /dev/zero | tr '\0' x; } >"$ML"
expect 1 tb audit --log-key "$NEW/log.pub" --tiles "$TB_TMP/newmirror"
err_has "log-link: is there but is not a link: log-link: not a regular file of at most 8192 bytes"
rm "$ML"
mkdir "$ML"
expect 1 tb audit --log-key "$NEW/log.pub" --tiles "$TB_TMP/newmirror"
err_has "log-link: is there but is not a regular file"
rmdir "$ML"
mkfifo "$ML"
expect 1 timeout 60 "$TIMEBANK" -s "$SOCK" audit --log-key "$NEW/log.pub" \
    --tiles "$TB_TMP/newmirror"
err_has "log-link: is there but is not a regular file"
rm "$ML"
# absent: no link, no problem
ok tb audit --log-key "$NEW/log.pub" --tiles "$TB_TMP/newmirror"
out_has "result     OK"
grep -qF "log-link" "$OUT" && fail "an absent log-link reported"
cp "$L" "$ML"
ok tb audit --log-key "$NEW/log.pub" --tiles "$TB_TMP/newmirror"
out_has "link       log-link: this log continues $ORIGIN+"
note "a log-link too large, a directory or a FIFO is a problem; an absent one none"
echo PASS
