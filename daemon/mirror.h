/*
 * daemon/mirror.h - `tiles_dir`: the daemon keeps a C2SP tlog-tiles mirror
 * of its log current by itself, on a thread of its own, off the commit
 * path: a write never waits for it, and a failure to write the mirror is
 * logged and retried, never a failed write.
 *
 * The files are those `timebank export DIR` writes (the same code,
 * client/tiles.c, linked as libtbtiles without libcurl): every tile the
 * tree implies, each to a temporary name, fsynced and renamed, the
 * checkpoint last, so the mirror never holds a checkpoint whose tiles are
 * missing.  docs/audit.md shows it served by a plain web server.
 */
#ifndef TB_MIRROR_H
#define TB_MIRROR_H

struct ledger;
struct mirror;

/* Seconds between looks at the ledger's checkpoint; the longest wait
 * after failures (doubling from the first). */
#define MIRROR_INTERVAL_S 1
#define MIRROR_BACKOFF_S  60

/*
 * Start mirroring l into dir (which must exist).  Returns 0 with *out,
 * or -1 (errno) when the thread cannot start.
 */
int mirror_start(struct ledger *l, const char *dir, struct mirror **out);

/* Stop the thread (after the round it is in) and free m; NULL is fine. */
void mirror_free(struct mirror *m);

#endif
