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
 * The minimal writer of older formats (docs/storage.md, "Upgrading"):
 * rewrite the closed ledger of this format in dir as format `format` (1,
 * 2 or 3) wrote it, so that tests can build such a ledger with today's
 * engine and upgrade it.  Format 3 -> 2: accounts lose last_service and
 * reach, history service rows lose prev_service and reach_before, idem
 * rows get the whole outcome back (status ‖ seq ‖ points ‖ balance ‖
 * hash, from the log and history), and intervals and daily are rebuilt
 * from the log.  Format 2 -> 1: history is re-keyed acct ‖ seq ->
 * delta ‖ balance_after, idem pk ‖ rid, and the leaf hashes are stored.
 * Then meta version is set (and format 4's accounts_through removed:
 * format 4 -> 3 is only that).  Returns 0, an LMDB error code, or -1 (a row
 * of an unexpected shape, or no memory).
 */
int ledger_tamper_format(const char *dir, unsigned format);

/* ledger_tamper_format(dir, 1). */
int ledger_tamper_format1(const char *dir);

#endif
