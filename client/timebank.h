/*
 * client/timebank.h - libtimebank: talk to timebankd over its Unix socket.
 *
 * A connection carries framed requests and responses (docs/protocol.md).
 * The simple way is tb_client_call(): send one request, wait for the
 * response with the same id.  A client that pipelines uses tb_client_send()
 * for many requests and tb_client_recv() for the responses, which may come
 * back in any order (writes are answered after their commit): match them by
 * id.
 *
 * Responses borrow from the connection's receive buffer: the pointers in a
 * struct tb_response stay valid until the next tb_client_recv() or
 * tb_client_call() on the same connection.  A connection is not thread-safe:
 * use one per thread.
 *
 * Errors are enum tb_err (proto/error.h): TB_E_CONNECT (nothing answers on
 * the socket: is timebankd running?), TB_E_CLOSED (the daemon closed the
 * connection: after a protocol error, or at shutdown), TB_E_TIMEOUT,
 * TB_E_IO (errno tells), and the encode/decode errors of proto/msg.h.  After
 * any error but an encode error, the connection is unusable: close it.
 *
 * The signing helpers build, sign and submit ledger entries; they need the
 * ledger's origin (tb_client_origin() asks the daemon) and a secret key.
 */
#ifndef TIMEBANK_H
#define TIMEBANK_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "key.h"
#include "msg.h"
#include "status.h"

struct tb_client;

/*
 * Connect to the daemon listening on path.  timeout_ms (0 = wait forever)
 * bounds the connect and, later, each call as a whole: tb_client_call()'s
 * send and receive together, or one tb_client_send() or tb_client_recv();
 * a daemon that trickles bytes does not extend it.  The socket is
 * non-blocking.  Errors: TB_E_INVALID_ARG (path too long for a Unix
 * socket), TB_E_CONNECT (errno tells: ENOENT, ECONNREFUSED, EACCES...),
 * TB_E_TIMEOUT (the daemon's listen queue stayed full), TB_E_NOMEM.
 */
TB_WUR enum tb_err tb_client_connect(const char *path, int timeout_ms,
                                     struct tb_client **out);

/* Close the connection and free it; NULL is a no-op. */
void tb_client_close(struct tb_client *c);

/*
 * A fresh correlation id for this connection (1, 2, 3, ...).
 */
uint32_t tb_client_next_id(struct tb_client *c);

/*
 * Encode q and send it as one frame.  Errors: those of tb_request_encode
 * (the connection stays usable), TB_E_IO, TB_E_CLOSED, TB_E_TIMEOUT.
 */
TB_WUR enum tb_err tb_client_send(struct tb_client *c,
                                  const struct tb_request *q);

/*
 * Wait for the next response and decode it into r (r borrows from c).
 * Errors: TB_E_CLOSED, TB_E_TIMEOUT, TB_E_IO, TB_E_FRAME_*, and those of
 * tb_response_decode.
 */
TB_WUR enum tb_err tb_client_recv(struct tb_client *c, struct tb_response *r);

/*
 * Send q with a fresh id and wait for its response, skipping none: the
 * connection must have no other request in flight.  An answer with type 0
 * and id 0 (the daemon could not read the request at all: TOO_LARGE or
 * BAD_REQUEST, after which it closes the connection) is returned as is.
 * Errors: those of tb_client_send and tb_client_recv, TB_E_MSG_FIELD if the
 * response's id or type do not match the request.
 */
TB_WUR enum tb_err tb_client_call(struct tb_client *c, struct tb_request *q,
                                  struct tb_response *r);

/*
 * Pin the ledger: from now on the origin is log_key's name, whatever the
 * daemon says, and tb_client_origin (so tb_client_submit) first checks
 * once that the daemon's STATUS reports that origin and that log key.  A
 * rogue socket therefore never obtains a signature made for another
 * origin than the pinned ledger's.
 */
void tb_client_pin(struct tb_client *c, const struct tb_vkey *log_key);

/*
 * The ledger's origin: the pinned one (checked against the daemon's
 * STATUS once), else asked once from the daemon (STATUS) and cached.
 * Errors: those of tb_client_call, TB_E_MSG_FIELD if the daemon answered
 * with a status other than OK, TB_E_UNTRUSTED if pinned and the daemon
 * reports another origin or log key.
 */
TB_WUR enum tb_err tb_client_origin(struct tb_client *c, const char **origin);

/*
 * Fill the common header of e (version, kind, signer = pk, request_id,
 * clock = now), leaving e->u as the caller filled it.  A request id of
 * NULL draws a new one (tb_client_request_id).
 */
void tb_client_entry_init(struct tb_entry *e, unsigned kind,
                          const uint8_t pk[TB_PUBKEY_SIZE],
                          const uint8_t request_id[TB_REQUEST_ID_SIZE]);

/*
 * A new request id: time-ordered (tb_request_id_make: the current time in
 * milliseconds, then 74 random bits), so a ledger's idempotency index grows
 * at its end and the client can read back when the request was first made
 * (tb_request_id_time).
 */
void tb_client_request_id(uint8_t out[TB_REQUEST_ID_SIZE]);

/*
 * Encode e, sign it for the ledger's origin (tb_client_origin: the
 * pinned one if pinned) with the secret key k,
 * submit it and wait for the result.  r->status is the ledger's verdict;
 * r->u.write holds seq, points and balance for OK and DUPLICATE.  Errors:
 * those of tb_entry_encode (invalid fields), tb_entry_sign,
 * tb_client_origin (TB_E_UNTRUSTED) and tb_client_call.
 */
TB_WUR enum tb_err tb_client_submit(struct tb_client *c,
                                    const struct tb_entry *e,
                                    const struct tb_skey *k,
                                    struct tb_response *r);

#endif
