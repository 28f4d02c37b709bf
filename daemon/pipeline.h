/*
 * daemon/pipeline.h - the write path: verify on worker threads, group
 * commit on one writer thread, results back on the event loop.
 *
 *   loop thread          worker threads            writer thread
 *   pipeline_submit() -> decode + Ed25519 verify -> every job ready at
 *   (arrival order)      (in parallel)              that moment, in arrival
 *                                                   order: one
 *                                                   ledger_apply_batch()
 *                                                   = one transaction, one
 *   done callback  <-------------------------------  fsync, one checkpoint
 *
 * Jobs are committed in the order they were submitted, whatever order the
 * workers finish in, so a client that pipelines "register" then "record"
 * gets them applied in that order.  A job whose entry does not decode or
 * whose signature does not verify is answered without reaching the ledger
 * (BAD_REQUEST, SAME_ACCOUNT or BAD_SIGNATURE: nothing is remembered for
 * it).  The done callback runs on the loop thread, and only after the
 * job's transaction is durable: that is when a write may be acknowledged.
 */
#ifndef TB_PIPELINE_H
#define TB_PIPELINE_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

struct pipeline;

struct pipeline_job {
        /* filled by the submitter; the pipeline owns the job until done */
        void *owner;   /* the caller's (a connection); not touched */
        uint32_t id;   /* the request's correlation id */
        uint8_t *data; /* the signed entry, malloc'd, freed by the
                          caller after done */
        size_t len;
        int64_t received; /* unix seconds at arrival */

        /* filled by the pipeline */
        struct ledger_result result;
        uint8_t *receipt; /* malloc'd checkpoint note (OK, DUPLICATE) */
        size_t receipt_len;

        /* private */
        int state;
        struct pipeline_job *next;
};

/* Called on the loop thread for each finished job, in commit order. */
typedef void (*pipeline_done_fn)(struct pipeline_job *job, void *arg);

/* Called on the loop thread once, after pipeline_drain() found nothing
 * left to do, or after the writer stopped on a fatal ledger error. */
typedef void (*pipeline_idle_fn)(int failed, void *arg);

struct pipeline_options {
        unsigned workers;   /* verification threads, >= 1 */
        unsigned batch_max; /* jobs per transaction, >= 1 */
        unsigned max_queue; /* jobs queued at most; beyond, submit refuses */
};

/*
 * Start the threads.  base must have been created after
 * evthread_use_pthreads().  origin is the ledger's (signatures are checked
 * for it).  Returns 0, or -1 with errno set.
 */
int pipeline_start(struct event_base *base, struct ledger *l,
                   const char *origin, const struct pipeline_options *o,
                   pipeline_done_fn done, pipeline_idle_fn idle, void *arg,
                   struct pipeline **out);

/*
 * Queue job.  Returns 0, or -1 when the queue is full (answer BUSY) or the
 * pipeline is draining or failed (answer UNAVAILABLE): then the job was
 * not taken.
 */
/* The writer's numbers since the start (times in unix seconds, 0: never). */
struct pipeline_stats {
        uint64_t batches;       /* transactions committed */
        uint64_t batch_entries; /* entries in them */
        uint64_t batch_last;    /* entries in the last one */
        uint64_t batch_max;     /* entries in the largest one */
        int64_t last_commit;
        uint64_t full; /* batches refused STORAGE_FULL */
        int64_t last_full;
        uint64_t errors; /* other failed commits */
        int64_t last_error;
};

/* A copy of p's numbers (thread-safe). */
void pipeline_stats(struct pipeline *p, struct pipeline_stats *out);

int pipeline_submit(struct pipeline *p, struct pipeline_job *job);

/* Jobs queued and not yet done. */
size_t pipeline_pending(struct pipeline *p);

/*
 * 1 if the writer stopped on a storage failure: an I/O error committing (a
 * write or flush of the ledger failed; a full file system is not one, it
 * answers STORAGE_FULL) or an LMDB panic.  The daemon must exit.
 */
int pipeline_failed(struct pipeline *p);

/*
 * Refuse new jobs, finish every queued one, then call idle.  Call once.
 */
void pipeline_drain(struct pipeline *p);

/* Stop and join the threads (after drain finished), free p. */
void pipeline_free(struct pipeline *p);

#endif
