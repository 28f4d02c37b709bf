/*
 * daemon/signer.h - the signer: the one process that holds the log key,
 * and signs a checkpoint only if it extends the last one it signed
 * (DESIGN.md invariant 7).
 *
 * timebankd (serving) forks it first thing, before it opens the ledger or
 * reads a byte from a client, and from then on knows only the public key.
 * The two talk over a socketpair in the messages of proto/signer_msg.h
 * (docs/signer.md): the serving process sends SIGN, the signer answers
 * SIGNED or REFUSED.  The signer closes every other descriptor (it keeps
 * stderr, for its log lines), ignores SIGINT, SIGTERM and SIGHUP (it ends
 * when the serving process does: the socket closes) and parses nothing but
 * those messages.
 *
 * Its state is the last checkpoint it signed, a signed note in
 * dir/signer.state (SIGNER_STATE_FILE), replaced atomically (write, fsync,
 * rename, fsync the directory) before the signature leaves the process:
 * a restart cannot be talked into a fork.  `timebankd init` writes the
 * first one (signer_state_create).  Without that file (a ledger created
 * before the signer existed) it takes the old checkpoint of the first
 * SIGN, once it verifies with its key.
 *
 * A SIGN (old checkpoint O, new size n and root r, proof P) is signed when
 *   O is a checkpoint of this log key, and either
 *   - n and r are the last signed size and root (the same note again), or
 *   - O is the last signed checkpoint (size and root), n is larger and P
 *     proves O's tree a prefix of n's (tb_merkle_verify_consistency);
 * refused otherwise: TB_SIGNER_R_OLD, _SMALLER, _FORK, _PROOF (signer_msg.h).
 */
#ifndef TB_SIGNER_H
#define TB_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ledger.h"
#include "signer_msg.h"

#define SIGNER_STATE_FILE "signer.state" /* inside the data directory */

/*
 * The signer's engine, without the process around it (the process runs
 * one; the tests drive one directly too).
 */
struct signer;

/*
 * Read dir/log.key into sodium_malloc'd memory and dir/signer.state (if
 * present: it must be a checkpoint signed by that key).  On failure writes
 * why into err[cap] and returns -1.
 */
TB_WUR int signer_open(const char *dir, struct signer **out, char *err,
                       size_t cap);

/* The last signed tree size, 0 while there is no state yet. */
uint64_t signer_size(const struct signer *s);

/*
 * Answer one request: *reply is SIGNED (reply->note points into
 * note_buf[TB_CHECKPOINT_MAX]) or REFUSED with a reason and a detail.  A
 * refusal is also logged at error priority.
 */
void signer_handle(struct signer *s, const struct tb_signer_msg *req,
                   struct tb_signer_msg *reply, uint8_t *note_buf);

/* Wipe the key and free s (NULL is fine). */
void signer_close(struct signer *s);

/*
 * Make dir/signer.state hold note (the checkpoint of a ledger just
 * created, which must verify with dir/log.pub), so that the first start
 * does not have to take the ledger's word.  Returns 0, or -1 with err set
 * (also when the file exists already).
 */
TB_WUR int signer_state_create(const char *dir, const uint8_t *note, size_t len,
                               char *err, size_t cap);

/* The serving process's end of a running signer. */
struct signer_proc {
        pid_t pid;
        int fd;              /* the socketpair; -1 once stopped */
        uint64_t start_size; /* the last size it had signed when it
                                started; 0 if none yet */
};

/*
 * Fork the signer for dir.  The child never returns: it runs the signer
 * and _exit()s, 0 when the socket closes, 1 if it could not start (its log
 * line says why) or the peer sent a frame that does not decode.  Returns
 * 0 once the child has loaded its key and state (it sends one SIGNED
 * frame with its state's note, or an empty one, to say so) and that note
 * verifies with dir/log.pub, or -1 (the child's log line or ours says
 * why; the child is reaped).
 */
TB_WUR int signer_start(const char *dir, struct signer_proc *p);

/*
 * struct ledger_signer's sign_cb over a signer_proc (ctx): one SIGN, one
 * reply.  A refusal or a lost signer is logged at error priority and
 * returns LEDGER_E_SIGNER.
 */
enum ledger_err signer_sign_cb(void *ctx, const uint8_t *old_note,
                               size_t old_len, uint64_t new_size,
                               const uint8_t new_root[TB_HASH_SIZE],
                               const uint8_t (*proof)[TB_HASH_SIZE],
                               size_t count, uint8_t *note, size_t cap,
                               size_t *len);

/* Close the socket (the signer then exits) and reap the child.  Returns its
 * exit status, or -1 if it did not exit normally (logged). */
int signer_stop(struct signer_proc *p);

#endif
