/*
 * daemon/pipeline.c - verify workers, group-commit writer, completion.
 *
 * One mutex guards one queue in arrival order.  Workers take the oldest job
 * not yet verified; the writer takes the longest prefix of the queue whose
 * jobs are all verified (or already answered), so commit order is arrival
 * order.  Finished jobs move to the done list and the loop is woken with
 * event_active(), which is thread-safe under evthread_use_pthreads().
 *
 * A failed commit is one of two things (docs/timebankd.md, "Failures").  A
 * full store (the map at map_size_max, or the file system full) is
 * transient: the batch gets STORAGE_FULL and later batches go on.  Any
 * other storage failure (an I/O error from a write or a flush, an LMDB
 * panic) stops the writer: after a failed flush the kernel may have
 * dropped the pages it could not write and will not say so again, so
 * nothing more is committed on this environment; the daemon answers what
 * is queued with INTERNAL and exits 1 for its supervisor to restart it
 * from the last durable meta page.  LMDB turns a short write into EIO, and
 * a full file system gives short writes: an I/O error while the file
 * system holding data.mdb has less than PIPELINE_FULL_MARGIN free counts
 * as full.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pipeline.h"

#define PIPELINE_FULL_MARGIN (1u << 20) /* bytes free below which "full" */
#define PIPELINE_FULL_LOG_S  10         /* one storage-full error per period */

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
        struct pipeline_stats stats; /* under mu */
        time_t full_logged;          /* writer: the last storage-full error */
        uint64_t full_unlogged;      /* writer: full batches since */
        char full_why[LEDGER_DETAIL_MAX]; /* writer: that error's reason */

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

/*
 * 1 if the file system holding the ledger's data.mdb (found among our open
 * files: the ledger does not say where it lives) has less than
 * PIPELINE_FULL_MARGIN bytes free for us; 0 if it has more or cannot be
 * told.
 */
static int pipeline_disk_full(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        struct statvfs vfs;
        char link[32], target[PATH_MAX];
        int full = 0;

        if (d == NULL)
                return 0;
        while ((e = readdir(d)) != NULL) {
                size_t n;
                ssize_t k;
                uint64_t blocks;

                if (snprintf(link, sizeof(link), "/proc/self/fd/%s",
                             e->d_name) >= (int)sizeof(link) ||
                    (k = readlink(link, target, sizeof(target) - 1)) <= 0)
                        continue;
                target[k] = 0;
                n = (size_t)k;
                if (n < 9 || strcmp(target + n - 9, "/data.mdb") != 0 ||
                    fstatvfs(atoi(e->d_name), &vfs) != 0)
                        continue;
                /* root may use the blocks reserved for it */
                blocks = geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail;
                full = blocks * vfs.f_frsize < PIPELINE_FULL_MARGIN;
                break;
        }
        (void)closedir(d);
        return full;
}

/* A batch got STORAGE_FULL: an error line, at most one per period. */
static void pipeline_log_full(struct pipeline *p, size_t m, const char *why)
{
        static const char prefix[] = "storage full: ";

        if (strncmp(why, prefix, sizeof(prefix) - 1) == 0)
                why += sizeof(prefix) - 1; /* the line says it already */
        time_t now = time(NULL);

        /* a new reason is logged at once: the operator's remedy differs */
        if (p->full_logged != 0 && now - p->full_logged < PIPELINE_FULL_LOG_S &&
            strcmp(why, p->full_why) == 0) {
                p->full_unlogged++;
                log_debug("storage full: a batch of %zu entries refused", m);
                return;
        }
        log_err("storage full: a batch of %zu entries was refused with "
                "STORAGE_FULL (%" PRIu64 " more batches since the last such "
                "line): %s; free space on the ledger's file system (at "
                "least 1 MiB) or raise map_size_max, and writes resume",
                m, p->full_unlogged,
                why[0] != '\0' ? why
                               : "the map reached map_size_max or the file "
                                 "system holding the ledger is full");
        p->full_logged = now;
        p->full_unlogged = 0;
        snprintf(p->full_why, sizeof(p->full_why), "%s", why);
}

/* Count a batch of m entries that ended with err. */
static void pipeline_count(struct pipeline *p, enum ledger_err err, size_t m)
{
        time_t now = time(NULL);
        struct pipeline_stats *st = &p->stats;

        pthread_mutex_lock(&p->mu);
        if (err == LEDGER_OK) {
                st->batches++;
                st->batch_entries += m;
                st->batch_last = m;
                if (m > st->batch_max)
                        st->batch_max = m;
                st->last_commit = now;
        } else if (err == LEDGER_E_FULL) {
                st->full++;
                st->last_full = now;
        } else {
                st->errors++;
                st->last_error = now;
        }
        pthread_mutex_unlock(&p->mu);
}

void pipeline_stats(struct pipeline *p, struct pipeline_stats *out)
{
        pthread_mutex_lock(&p->mu);
        *out = p->stats;
        pthread_mutex_unlock(&p->mu);
}

/* Apply one batch: jobs[0..n) were detached from the queue in order. */
static void commit_batch(struct pipeline *p, struct pipeline_job **jobs,
                         size_t n, struct ledger_item *items,
                         struct ledger_result *results,
                         struct pipeline_job **ledger_jobs)
{
        size_t m = 0;
        enum ledger_err err;
        int fatal = 0;

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
        if (err == LEDGER_E_IO && pipeline_disk_full())
                err = LEDGER_E_FULL; /* a short write on a full disk */
        pipeline_count(p, err, m);
        switch (err) {
        case LEDGER_OK:
                break;
        case LEDGER_E_FULL:
                pipeline_log_full(p, m,
                                  results[0].status == TB_ST_STORAGE_FULL
                                      ? results[0].detail
                                      : "");
                break;
        case LEDGER_E_PANIC:
                log_err("LMDB panic while committing: the environment is "
                        "unusable; nothing of the batch was acknowledged; "
                        "exiting so the supervisor restarts us");
                fatal = 1;
                break;
        case LEDGER_E_SIGNER:
                log_err("the batch's checkpoint was not signed (see the "
                        "signer's line above); nothing of the batch was "
                        "acknowledged; exiting so the supervisor restarts us");
                fatal = 1;
                break;
        case LEDGER_E_IO:
                log_err("storage failure: committing a batch of %zu entries "
                        "failed with an I/O error (a write or flush of "
                        "data.mdb); nothing of it was acknowledged; the disk "
                        "may have lost writes it will not report again, so "
                        "no more writes: exiting so the supervisor restarts "
                        "the daemon from the last durable commit",
                        m);
                fatal = 1;
                break;
        default:
                log_err("committing a batch of %zu entries failed: %s", m,
                        ledger_strerror(err));
                break;
        }
        if (fatal) {
                pthread_mutex_lock(&p->mu);
                p->failed = 1;
                pthread_mutex_unlock(&p->mu);
        }
        for (size_t i = 0; i < m; i++) {
                ledger_jobs[i]->result = results[i];
                if (fatal)
                        answer(ledger_jobs[i], TB_ST_INTERNAL,
                               err == LEDGER_E_SIGNER
                                   ? "checkpoint not signed; the daemon is "
                                     "restarting"
                                   : "storage failure; the daemon is "
                                     "restarting");
                else if (err == LEDGER_E_FULL)
                        answer(ledger_jobs[i], TB_ST_STORAGE_FULL,
                               "storage full: retry "
                               "later with the same request id");
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
