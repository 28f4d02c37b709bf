/*
 * daemon/server.h - timebankd's event loop: the listening socket, the
 * daemon's lifecycle and an orderly shutdown.  The connections are conn.h's
 * (a state machine each), the answers request.h's.
 *
 * The listener stops accepting at max_connections (clients wait in the
 * listen queue) and for a second after EMFILE or ENFILE, then resumes.  A
 * peer uid (SO_PEERCRED) at max_connections_per_uid is still accepted, to
 * be answered BUSY (type 0, id 0) and closed: no uid is exempt.
 */
#ifndef TB_SERVER_H
#define TB_SERVER_H

#include "config.h"
#include "ledger.h"

struct server;

/*
 * Set up the loop, the listening socket (the one systemd passed, else a new
 * one at cfg->socket) and the commit pipeline.  An existing path is
 * removed only if it is a socket that refuses connections (a stale one);
 * a live socket, a file that is not a socket, a symbolic link, or a socket
 * whose state connect() cannot tell (EACCES, ...) make us refuse to start
 * and stay untouched.  The socket is bound under a umask that gives it
 * socket_mode from the start (no chmod, which would follow a link).
 * Returns 0, or -1 after logging why.
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

/* Close everything; remove the socket file if we created it and it is
 * still ours (the same inode). */
void server_free(struct server *s);

#endif
