/*
 * daemon/ledger/ledger_tamper.h - a test tool, not part of libtbledger:
 * edit one stored value of a ledger's files from outside the ledger, as an
 * attacker (or a failing disk) with the files would, so that tests can see
 * the checks catch it.  It lives here because only daemon/ledger/ includes
 * <lmdb.h>; tests link it as libtbledger_tamper.
 */
#ifndef TB_LEDGER_TAMPER_H
#define TB_LEDGER_TAMPER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Called with a copy of the value (up to cap bytes at val, *len of them
 * used); it may change the bytes and *len (at most cap).  Returns 0 to
 * write the value back, non-zero to abort without writing.
 */
typedef int (*ledger_tamper_edit_cb)(uint8_t *val, size_t *len, size_t cap,
                                     void *arg);

/*
 * Open the environment in dir (no ledger may have it open), look up key in
 * the database named db ("log", "meta", "accounts", ... as docs/storage.md
 * names them; key NULL: its last key), pass the value to edit_cb, and
 * commit what it returns.  Returns 0, an LMDB error code, -1 if the value
 * is larger than the tool's buffer, or edit_cb's non-zero return.
 */
int ledger_tamper_edit(const char *dir, const char *db, const void *key,
                       size_t key_len, ledger_tamper_edit_cb edit_cb,
                       void *arg);

/*
 * The minimal format-1 writer (docs/storage.md, "Upgrading"): rewrite the
 * closed format-2 ledger in dir as format 1 wrote it, so that tests can
 * build a format-1 ledger with today's engine and upgrade it.  Formats 1
 * and 2 differ only in three layouts, which this converts row by row:
 * history (u64 seq ‖ acct -> u64 prev ‖ i64 delta ‖ u64 balance_after
 * becomes acct ‖ u64 seq -> i64 delta ‖ u64 balance_after) and idem
 * (class ‖ rid ‖ pk becomes pk ‖ rid); format 1 also stored the leaf hashes
 * (SHA-256(0x00 ‖ record) at StoredHashIndex(0, n)), added back here; and
 * meta version becomes 1.  Returns 0, an
 * LMDB error code, or -1 (a row of an unexpected shape, or no memory).
 */
int ledger_tamper_format1(const char *dir);

#endif
