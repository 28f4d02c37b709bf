/*
 * daemon/server.h - timebankd's event loop: the listening socket, client
 * connections, request dispatch, orderly shutdown.
 *
 * Each connection is a small state machine (docs/timebankd.md):
 *
 *   READING   frames are decoded as they arrive; reads are answered at
 *             once from a read transaction, writes go to the pipeline
 *   PAUSED    too many requests unanswered (max_inflight) or too much
 *             output not yet taken by the client: stop reading until the
 *             pipeline answers or the client drains its socket
 *   CLOSING   after a framing error (oversize, empty or malformed frame)
 *             or at shutdown: the last answers are flushed, then close
 *   DEAD      the socket is closed but writes are still in the pipeline:
 *             the connection's memory lives until their results come back
 *             (they are committed all the same; a retry gets DUPLICATE)
 *
 * One misbehaving client never stalls the others: all sockets are
 * non-blocking, every buffer is bounded, and a framing error drops only
 * that client.
 */
#ifndef TB_SERVER_H
#define TB_SERVER_H

#include "config.h"
#include "ledger.h"

struct server;

/*
 * Set up the loop, the listening socket (the one systemd passed, else a new
 * one at cfg->socket: refused if something answers there, a stale socket
 * file is replaced, the mode is set with chmod after bind) and the commit
 * pipeline.  Returns 0, or -1 after logging why.
 */
int server_init(const struct config *cfg, struct ledger *l,
                struct server **out);

/*
 * Serve until SIGTERM or SIGINT, then stop accepting, answer every request
 * already received (writes are committed first), flush and return.
 * Sends READY=1 and STOPPING=1 to systemd.  Returns 0 after a clean
 * shutdown, 1 if the ledger failed fatally (the caller exits non-zero).
 */
int server_run(struct server *s);

/* Close everything, remove the socket file if we created it. */
void server_free(struct server *s);

#endif
