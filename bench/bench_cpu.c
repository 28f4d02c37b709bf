/*
 * bench/bench_cpu.c - the yardsticks the daemon is measured against: one
 * Ed25519 verification of an entry on one core (what the daemon cannot
 * avoid per write), the verifications per second of every core at once
 * (the ceiling), and the disk's fsync latency (what bounds any durable
 * commit, SQLite's too).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"

/* One signed service entry, as a terminal sends it. */
struct bench_sample {
        uint8_t body[TB_BODY_MAX];
        size_t len;
        uint8_t pk[TB_PUBKEY_SIZE];
        uint8_t sig[TB_SIG_SIZE];
};

static int bench_sample_make(struct bench_sample *s)
{
        uint8_t sk[TB_SECKEY_SIZE];
        struct tb_entry e;
        int rc = 0;

        memset(&e, 0, sizeof(e));
        e.version = TB_ENTRY_VERSION;
        e.kind = TB_KIND_SERVICE;
        e.clock = 1700000000;
        randombytes_buf(e.request_id, sizeof(e.request_id));
        snprintf(e.u.service.account, sizeof(e.u.service.account),
                 "bench-sample-account");
        e.u.service.start = 1700000000 - 3600;
        e.u.service.minutes = 30;
        if (crypto_sign_keypair(s->pk, sk) != 0)
                rc = bench_fail("crypto_sign_keypair failed");
        memcpy(e.signer, s->pk, TB_PUBKEY_SIZE);
        if (rc == 0 &&
            (tb_entry_encode(&e, s->body, sizeof(s->body), &s->len) != TB_OK ||
             tb_entry_sign(BENCH_ORIGIN, s->body, s->len, sk, s->sig) != TB_OK))
                rc = bench_fail("cannot sign the sample entry");
        sodium_memzero(sk, sizeof(sk));
        return rc;
}

/* This thread's CPU time in seconds (NAN if the clock is missing). */
static double bench_thread_cpu_s(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
                return NAN;
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Verify s for about seconds; *count verifications in *elapsed seconds. */
static int bench_verify_loop(const struct bench_sample *s, double seconds,
                             uint64_t *count, double *elapsed)
{
        double t0 = bench_now_s(), t;
        uint64_t n = 0;

        do {
                for (int i = 0; i < 64; i++)
                        if (tb_entry_verify(BENCH_ORIGIN, s->body, s->len,
                                            s->pk, s->sig) != TB_OK)
                                return bench_fail("the sample entry does not "
                                                  "verify");
                n += 64;
                t = bench_now_s() - t0;
        } while (t < seconds);
        *count = n;
        *elapsed = t;
        return 0;
}

int bench_verify_us(double seconds, double *us, double *wall_us)
{
        struct bench_sample s;
        uint64_t n = 0;
        double t = 0, cpu0, cpu1;

        if (bench_sample_make(&s) != 0)
                return -1;
        cpu0 = bench_thread_cpu_s();
        if (bench_verify_loop(&s, seconds, &n, &t) != 0)
                return -1;
        cpu1 = bench_thread_cpu_s();
        *wall_us = t * 1e6 / (double)n;
        /* CPU time, as the daemon's CPU per record is: time spent waiting
         * for a core on a loaded machine counts in neither */
        *us = isnan(cpu0) || isnan(cpu1) ? *wall_us
                                         : (cpu1 - cpu0) * 1e6 / (double)n;
        return 0;
}

struct bench_verifier {
        const struct bench_sample *s;
        double seconds;
        uint64_t count;
        double elapsed;
        int rc;
        pthread_t thread;
};

static void *bench_verifier_main(void *arg)
{
        struct bench_verifier *v = arg;

        v->rc = bench_verify_loop(v->s, v->seconds, &v->count, &v->elapsed);
        return NULL;
}

int bench_verify_ceiling(unsigned threads, double seconds, double *per_s)
{
        struct bench_verifier *v = calloc(threads, sizeof(*v));
        struct bench_sample s;
        unsigned started = 0;
        int rc = 0;

        if (v == NULL)
                return bench_fail("out of memory");
        if (bench_sample_make(&s) != 0) {
                free(v);
                return -1;
        }
        *per_s = 0;
        for (; started < threads; started++) {
                v[started].s = &s;
                v[started].seconds = seconds;
                if (pthread_create(&v[started].thread, NULL,
                                   bench_verifier_main, &v[started]) != 0) {
                        rc = bench_fail("pthread_create failed");
                        break;
                }
        }
        for (unsigned i = 0; i < started; i++) {
                if (pthread_join(v[i].thread, NULL) != 0)
                        rc = bench_fail("pthread_join failed");
                else if (v[i].rc != 0)
                        rc = -1;
                else
                        *per_s += (double)v[i].count / v[i].elapsed;
        }
        free(v);
        return rc;
}

static int bench_double_cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

int bench_fsync_us(const char *dir, unsigned n, double *us)
{
        char path[512];
        uint8_t block[512];
        double *t = calloc(n, sizeof(*t));
        int fd, rc = 0;

        if (t == NULL || n == 0) {
                free(t);
                return bench_fail("out of memory");
        }
        snprintf(path, sizeof(path), "%s/timebank-bench-fsync.XXXXXX", dir);
        if ((fd = mkstemp(path)) < 0) {
                free(t);
                return bench_fail("cannot create a file in %s: %s", dir,
                                  strerror(errno));
        }
        memset(block, 0xa5, sizeof(block));
        for (unsigned i = 0; i < n && rc == 0; i++) {
                double t0 = bench_now_s();

                block[0] = (uint8_t)i;
                if (pwrite(fd, block, sizeof(block), 0) !=
                        (ssize_t)sizeof(block) ||
                    fdatasync(fd) != 0)
                        rc = bench_fail("write + fdatasync in %s: %s", dir,
                                        strerror(errno));
                t[i] = (bench_now_s() - t0) * 1e6;
        }
        if (close(fd) != 0 || unlink(path) != 0)
                rc = bench_fail("removing %s: %s", path, strerror(errno));
        if (rc == 0) {
                qsort(t, n, sizeof(*t), bench_double_cmp);
                *us = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
        }
        free(t);
        return rc;
}
