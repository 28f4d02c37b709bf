/*
 * daemon/pipeline.c - verify workers, group-commit writer, completion.
 *
 * One mutex guards one queue in arrival order.  Workers take the oldest job
 * not yet verified; the writer takes the longest prefix of the queue whose
 * jobs are all verified (or already answered), so commit order is arrival
 * order.  Finished jobs move to the done list and the loop is woken with
 * event_active(), which is thread-safe under evthread_use_pthreads().
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pipeline.h"

enum job_state {
        JOB_QUEUED,   /* waiting for a worker */
        JOB_VERIFY,   /* a worker has it */
        JOB_VERIFIED, /* ready for the writer */
        JOB_ANSWERED, /* refused by a worker: skip the ledger */
};

struct pipeline {
        struct ledger *ledger;
        char origin[TB_NAME_MAX + 1];
        struct pipeline_options opt;
        pipeline_done_fn done;
        pipeline_idle_fn idle;
        void *arg;

        pthread_mutex_t mu;
        pthread_cond_t work_cv;  /* workers: a job to verify, or stop */
        pthread_cond_t write_cv; /* writer: the head is ready, or stop */
        struct pipeline_job *head, *tail; /* arrival order */
        struct pipeline_job *next_verify; /* oldest JOB_QUEUED */
        struct pipeline_job *done_head, *done_tail;
        size_t queued;  /* in the queue (not yet in done) */
        size_t pending; /* submitted and not yet handed to done() */
        int draining;
        int stopping; /* threads must exit */
        int failed;
        int idle_fired;

        struct event *wake; /* loop-side: deliver done jobs */
        /* the writer's batch arrays, batch_max each, allocated up front so
         * the writer cannot fail after jobs were accepted */
        struct pipeline_job **b_jobs, **b_ljobs;
        struct ledger_item *b_items;
        struct ledger_result *b_results;
        pthread_t writer;
        pthread_t *workers;
        unsigned nworkers;
        int writer_started;
};

static void answer(struct pipeline_job *j, uint16_t status, const char *detail)
{
        memset(&j->result, 0, sizeof(j->result));
        j->result.status = status;
        snprintf(j->result.detail, sizeof(j->result.detail), "%s", detail);
}

/*
 * Decode and verify: the CPU-bound part, off the writer thread.  Runs
 * without the lock, so it only reads the job's immutable input and writes
 * its verdict to *out; the caller publishes it under the lock.
 */
static enum job_state verify_job(const struct pipeline *p,
                                 const struct pipeline_job *j,
                                 struct ledger_result *out)
{
        struct tb_entry e;
        const uint8_t *body;
        size_t blen;

        memset(out, 0, sizeof(*out));
        out->status =
            (uint16_t)tb_signed_check(p->origin, j->data, j->len, 1, &e, &body,
                                      &blen, out->detail, sizeof(out->detail));
        return out->status == TB_ST_OK ? JOB_VERIFIED : JOB_ANSWERED;
}

static void *worker_main(void *arg)
{
        struct pipeline *p = arg;
        struct ledger_result verdict;

        pthread_mutex_lock(&p->mu);
        for (;;) {
                struct pipeline_job *j;
                enum job_state st;

                while (p->next_verify == NULL && !p->stopping)
                        pthread_cond_wait(&p->work_cv, &p->mu);
                if (p->next_verify == NULL)
                        break;
                j = p->next_verify;
                j->state = JOB_VERIFY;
                do {
                        p->next_verify = p->next_verify->next;
                } while (p->next_verify != NULL &&
                         p->next_verify->state != JOB_QUEUED);
                pthread_mutex_unlock(&p->mu);
                st = verify_job(p, j, &verdict);
                pthread_mutex_lock(&p->mu);
                if (st == JOB_ANSWERED)
                        j->result = verdict;
                j->state = (int)st;
                if (j == p->head)
                        pthread_cond_signal(&p->write_cv);
        }
        pthread_mutex_unlock(&p->mu);
        return NULL;
}

static int head_ready(const struct pipeline *p)
{
        return p->head != NULL && (p->head->state == JOB_VERIFIED ||
                                   p->head->state == JOB_ANSWERED);
}

/* Copy the latest checkpoint into each job that gets a receipt. */
static void attach_receipts(struct pipeline *p, struct pipeline_job **jobs,
                            size_t n)
{
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len = 0;
        enum ledger_err err;

        err = ledger_checkpoint(p->ledger, note, sizeof(note), &len, NULL);
        if (err != LEDGER_OK) {
                log_err("reading the checkpoint for receipts: %s",
                        ledger_strerror(err));
                return;
        }
        for (size_t i = 0; i < n; i++) {
                uint16_t st = jobs[i]->result.status;
                if (st != TB_ST_OK && st != TB_ST_DUPLICATE)
                        continue;
                if ((jobs[i]->receipt = malloc(len)) == NULL)
                        continue; /* the result stands without its receipt */
                memcpy(jobs[i]->receipt, note, len);
                jobs[i]->receipt_len = len;
        }
}

/* Apply one batch: jobs[0..n) were detached from the queue in order. */
static void commit_batch(struct pipeline *p, struct pipeline_job **jobs,
                         size_t n, struct ledger_item *items,
                         struct ledger_result *results,
                         struct pipeline_job **ledger_jobs)
{
        size_t m = 0;
        enum ledger_err err;

        for (size_t i = 0; i < n; i++) {
                if (jobs[i]->state != JOB_VERIFIED)
                        continue;
                items[m].signed_entry = jobs[i]->data;
                items[m].len = jobs[i]->len;
                items[m].received = jobs[i]->received;
                items[m].verified = 1;
                ledger_jobs[m++] = jobs[i];
        }
        if (m == 0)
                return;
        err = ledger_apply_batch(p->ledger, items, m, results);
        if (err == LEDGER_E_PANIC || err == LEDGER_E_SIGNER) {
                log_err("%s: exiting so the supervisor restarts us",
                        err == LEDGER_E_PANIC
                            ? "LMDB panic while committing: the environment "
                              "is unusable"
                            : "the batch's checkpoint was not signed");
                pthread_mutex_lock(&p->mu);
                p->failed = 1;
                pthread_mutex_unlock(&p->mu);
        } else if (err != LEDGER_OK && err != LEDGER_E_FULL) {
                log_err("committing a batch of %zu entries failed: %s", m,
                        ledger_strerror(err));
        } else if (err == LEDGER_E_FULL) {
                log_err("storage full: the map reached map_size_max; a batch "
                        "of %zu entries was refused with STORAGE_FULL",
                        m);
        }
        for (size_t i = 0; i < m; i++) {
                ledger_jobs[i]->result = results[i];
                if (err == LEDGER_E_PANIC || err == LEDGER_E_SIGNER)
                        answer(ledger_jobs[i], TB_ST_INTERNAL,
                               err == LEDGER_E_PANIC
                                   ? "storage failure; the daemon is "
                                     "restarting"
                                   : "checkpoint not signed; the daemon "
                                     "is restarting");
        }
        if (err == LEDGER_OK)
                attach_receipts(p, ledger_jobs, m);
        log_debug("committed a batch of %zu entries", m);
}

static void *writer_main(void *arg)
{
        struct pipeline *p = arg;
        size_t cap = p->opt.batch_max;
        struct pipeline_job **jobs = p->b_jobs, **ljobs = p->b_ljobs;
        struct ledger_item *items = p->b_items;
        struct ledger_result *results = p->b_results;

        pthread_mutex_lock(&p->mu);
        for (;;) {
                size_t n = 0;

                while (!head_ready(p) && !p->stopping)
                        pthread_cond_wait(&p->write_cv, &p->mu);
                if (!head_ready(p))
                        break;
                while (n < cap && head_ready(p)) {
                        jobs[n++] = p->head;
                        p->head = p->head->next;
                }
                if (p->head == NULL)
                        p->tail = NULL;
                pthread_mutex_unlock(&p->mu);

                if (!pipeline_failed(p))
                        commit_batch(p, jobs, n, items, results, ljobs);
                else
                        for (size_t i = 0; i < n; i++)
                                answer(jobs[i], TB_ST_INTERNAL,
                                       "storage failure; the daemon is "
                                       "restarting");

                pthread_mutex_lock(&p->mu);
                for (size_t i = 0; i < n; i++) {
                        jobs[i]->next = NULL;
                        if (p->done_tail != NULL)
                                p->done_tail->next = jobs[i];
                        else
                                p->done_head = jobs[i];
                        p->done_tail = jobs[i];
                }
                p->queued -= n;
                event_active(p->wake, 0, 0);
        }
        pthread_mutex_unlock(&p->mu);
        return NULL;
}

/* Loop side: hand finished jobs to the caller, then maybe report idle. */
static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
        struct pipeline *p = arg;
        struct pipeline_job *list, *next;
        int fire_idle = 0, failed;

        (void)fd;
        (void)what;
        pthread_mutex_lock(&p->mu);
        list = p->done_head;
        p->done_head = p->done_tail = NULL;
        pthread_mutex_unlock(&p->mu);
        for (; list != NULL; list = next) {
                next = list->next;
                p->pending--;
                p->done(list, p->arg);
        }
        pthread_mutex_lock(&p->mu);
        failed = p->failed;
        /* after a failure the writer still answers every queued job
         * (INTERNAL), so idle waits for those answers too */
        if (!p->idle_fired && (failed || p->draining) && p->pending == 0) {
                p->idle_fired = 1;
                fire_idle = 1;
        }
        pthread_mutex_unlock(&p->mu);
        if (fire_idle)
                p->idle(failed, p->arg);
}

int pipeline_start(struct event_base *base, struct ledger *l,
                   const char *origin, const struct pipeline_options *o,
                   pipeline_done_fn done, pipeline_idle_fn idle, void *arg,
                   struct pipeline **out)
{
        struct pipeline *p;
        int rc;

        *out = NULL;
        if (o->workers == 0 || o->batch_max == 0 || o->max_queue == 0 ||
            strlen(origin) > TB_NAME_MAX) {
                errno = EINVAL;
                return -1;
        }
        if ((p = calloc(1, sizeof(*p))) == NULL)
                return -1;
        p->ledger = l;
        memcpy(p->origin, origin, strlen(origin) + 1);
        p->opt = *o;
        p->done = done;
        p->idle = idle;
        p->arg = arg;
        /* glibc's init functions cannot fail for default attributes, but
         * the contract says they may: give up cleanly if they do */
        if ((rc = pthread_mutex_init(&p->mu, NULL)) != 0 ||
            (rc = pthread_cond_init(&p->work_cv, NULL)) != 0 ||
            (rc = pthread_cond_init(&p->write_cv, NULL)) != 0) {
                free(p);
                errno = rc;
                return -1;
        }
        if ((p->wake = event_new(base, -1, 0, wake_cb, p)) == NULL) {
                rc = ENOMEM;
                goto fail_errno;
        }
        p->b_jobs = calloc(o->batch_max, sizeof(*p->b_jobs));
        p->b_ljobs = calloc(o->batch_max, sizeof(*p->b_ljobs));
        p->b_items = calloc(o->batch_max, sizeof(*p->b_items));
        p->b_results = calloc(o->batch_max, sizeof(*p->b_results));
        p->workers = calloc(o->workers, sizeof(pthread_t));
        if (p->b_jobs == NULL || p->b_ljobs == NULL || p->b_items == NULL ||
            p->b_results == NULL || p->workers == NULL) {
                rc = ENOMEM;
                goto fail_errno;
        }
        if ((rc = pthread_create(&p->writer, NULL, writer_main, p)) != 0)
                goto fail_errno;
        p->writer_started = 1;
        for (; p->nworkers < o->workers; p->nworkers++) {
                rc = pthread_create(&p->workers[p->nworkers], NULL, worker_main,
                                    p);
                if (rc != 0)
                        goto fail_errno;
        }
        *out = p;
        return 0;
fail_errno:
        pipeline_free(p);
        errno = rc;
        return -1;
}

int pipeline_submit(struct pipeline *p, struct pipeline_job *job)
{
        int rc = 0;

        pthread_mutex_lock(&p->mu);
        if (p->draining || p->failed) {
                errno = ESHUTDOWN;
                rc = -1;
        } else if (p->queued >= p->opt.max_queue) {
                errno = EAGAIN;
                rc = -1;
        } else {
                job->state = JOB_QUEUED;
                job->next = NULL;
                job->receipt = NULL;
                job->receipt_len = 0;
                if (p->tail != NULL)
                        p->tail->next = job;
                else
                        p->head = job;
                p->tail = job;
                if (p->next_verify == NULL)
                        p->next_verify = job;
                p->queued++;
                p->pending++;
                pthread_cond_signal(&p->work_cv);
        }
        pthread_mutex_unlock(&p->mu);
        return rc;
}

size_t pipeline_pending(struct pipeline *p)
{
        return p->pending;
}

int pipeline_failed(struct pipeline *p)
{
        int f;

        pthread_mutex_lock(&p->mu);
        f = p->failed;
        pthread_mutex_unlock(&p->mu);
        return f;
}

void pipeline_drain(struct pipeline *p)
{
        pthread_mutex_lock(&p->mu);
        p->draining = 1;
        pthread_mutex_unlock(&p->mu);
        /* if nothing is pending, report idle from the loop right away */
        event_active(p->wake, 0, 0);
}

void pipeline_free(struct pipeline *p)
{
        if (p == NULL)
                return;
        pthread_mutex_lock(&p->mu);
        p->stopping = 1;
        pthread_cond_broadcast(&p->work_cv);
        pthread_cond_broadcast(&p->write_cv);
        pthread_mutex_unlock(&p->mu);
        for (unsigned i = 0; i < p->nworkers; i++)
                pthread_join(p->workers[i], NULL);
        if (p->writer_started)
                pthread_join(p->writer, NULL);
        free(p->workers);
        free(p->b_jobs);
        free(p->b_ljobs);
        free(p->b_items);
        free(p->b_results);
        if (p->wake != NULL)
                event_free(p->wake);
        pthread_cond_destroy(&p->work_cv);
        pthread_cond_destroy(&p->write_cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
}
