/*
 * daemon/restore.h - timebankd init --from-tiles: a ledger rebuilt from a
 * tlog-tiles mirror (docs/operations.md, "Backups and restore").
 */
#ifndef TB_RESTORE_H
#define TB_RESTORE_H

#include "ledger.h"

/*
 * Rebuild a ledger in dir from the local tiles directory tiles with the
 * log key in key_path (ledger_rebuild), then write its first signer.state
 * (the rebuilt checkpoint), unless dir holds one (the key's own: kept).  Prints
 * the outcome (stdout) or why not (stderr, naming the file or the entry).
 * Returns a TB_EXIT_* status.
 */
int restore_from_tiles(const char *dir, const char *tiles, const char *key_path,
                       const struct ledger_options *lo);

#endif
