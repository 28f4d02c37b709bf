/*
 * tests/ledger/test_ledger_threads.c - reads on other threads while the
 * writer commits batches and grows the map from 64 KiB: every read sees a
 * committed state (checkpoint verifies, proof checks against it, balances
 * never go backwards).
 *
 * Timing alone rarely puts a read inside the instant of a resize, so a
 * missing resize lock could pass.  The test hooks force it, every run: a
 * reader is held inside its read transaction (read_begun_cb) while the
 * writer runs batches until one grows the map; the resizing_cb must then
 * see no open read.  With the lock the writer waits for the held reader
 * (which lets go after HOLD_MS); without it the resize happens under the
 * reader and the test fails.  FORCED such rounds run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "ledger_test.h"

#define READERS 2
#define BATCHES 60
#define PER     10
#define FORCED  3
#define HOLD_MS 300

/* The forced interleaving (see the head comment). */
static struct {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        atomic_int armed; /* the next read to begin is held */
        int inside;       /* a reader is held in its transaction */
        int resized;      /* a resize was attempted meanwhile */
        atomic_uint resizes, readers_at_resize, held;
} force = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void read_begun_cb(void *ctx)
{
        struct timespec until;
        int one = 1;

        (void)ctx;
        if (!atomic_compare_exchange_strong(&force.armed, &one, 0))
                return;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += HOLD_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&force.mu);
        force.inside = 1;
        atomic_fetch_add(&force.held, 1);
        pthread_cond_broadcast(&force.cv);
        /* with the lock, the resize waits for us: we let go after HOLD_MS */
        while (!force.resized &&
               pthread_cond_timedwait(&force.cv, &force.mu, &until) == 0)
                ;
        force.inside = 0;
        pthread_mutex_unlock(&force.mu);
}

static void resizing_cb(void *ctx, unsigned active_readers)
{
        (void)ctx;
        atomic_fetch_add(&force.resizes, 1);
        atomic_fetch_add(&force.readers_at_resize, active_readers);
        pthread_mutex_lock(&force.mu);
        force.resized = 1;
        pthread_cond_broadcast(&force.cv);
        pthread_mutex_unlock(&force.mu);
}

struct reader {
        struct tctx *c;
        atomic_int *stop;
        int failures;
        long reads;
};

static void *reader_main(void *arg)
{
        static _Thread_local uint8_t buf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        struct reader *r = arg;
        struct tb_checkpoint cp;
        struct tb_proof p;
        uint8_t leaf[32];
        uint64_t last_balance = 0, b;

        while (!atomic_load(r->stop)) {
                if (t_checkpoint(r->c, &cp) != 0) {
                        r->failures++;
                        continue;
                }
                if (ledger_prove_inclusion(r->c->l, cp.size - 1, cp.size, &p,
                                           buf, sizeof(buf)) != LEDGER_OK) {
                        r->failures++;
                        continue;
                }
                tb_merkle_leaf_hash(p.record, p.record_len, leaf);
                if (tb_merkle_verify_inclusion(cp.size - 1, cp.size, leaf,
                                               (const uint8_t(*)[32])p.hashes,
                                               p.count, cp.root) != TB_OK)
                        r->failures++;
                b = t_balance(r->c, "alice");
                if (b != UINT64_MAX) {
                        if (b < last_balance)
                                r->failures++;
                        last_balance = b;
                }
                r->reads++;
        }
        return NULL;
}

/* Batch i: PER services of 10 minutes for alice; the number accepted. */
static int one_batch(struct tctx *c, int i)
{
        struct ledger_item it[PER];
        struct ledger_result res[PER];
        static uint8_t bufs[PER][TB_SIGNED_MAX];
        int j, ok = 0;

        for (j = 0; j < PER; j++) {
                struct tb_entry e = t_entry(c, TB_KIND_SERVICE, &c->rec);
                snprintf(e.u.service.account, sizeof(e.u.service.account),
                         "alice");
                e.u.service.start =
                    T_NOW - 25 * 86400 + (int64_t)(i * PER + j) * 600;
                e.u.service.minutes = 10;
                snprintf(e.u.service.note, sizeof(e.u.service.note),
                         "padding padding padding padding padding "
                         "padding padding padding padding padding");
                it[j].signed_entry = bufs[j];
                it[j].len = t_sign(&e, &c->rec, bufs[j]);
                /* "now" moves with the services: however many batches a
                 * forced round needs before the map grows (more since a
                 * batch commits twice, entries then checkpoint, and
                 * LMDB reuses pages sooner), every start stays inside
                 * the admission window */
                it[j].received = T_NOW + (int64_t)i * PER * 600;
                it[j].verified = 1;
        }
        CHECK_ERR(ledger_apply_batch(c->l, it, PER, res), LEDGER_OK);
        for (j = 0; j < PER; j++)
                ok += res[j].status == TB_ST_OK;
        return ok;
}

int main(void)
{
        struct ledger_options o;
        struct tctx c;
        struct reader rd[READERS];
        pthread_t th[READERS];
        atomic_int stop = 0;
        struct tb_status_info st;
        struct ledger_test_hooks hooks = {read_begun_cb, resizing_cb, NULL};
        int i, ok = 0, total = 0;

        ledger_options_default(&o);
        o.map_initial = 64 << 10;
        t_setup_opts(&c, &o);
        t_cast(&c);
        ledger_set_test_hooks(c.l, &hooks);
        for (i = 0; i < READERS; i++) {
                rd[i].c = &c;
                rd[i].stop = &stop;
                rd[i].failures = 0;
                rd[i].reads = 0;
                CHECK(pthread_create(&th[i], NULL, reader_main, &rd[i]) == 0);
        }
        /* forced rounds first, while the map is small and a few batches
         * grow it: a reader held inside while the map grows */
        for (int round = 0; round < FORCED; round++) {
                unsigned before = atomic_load(&force.resizes);
                pthread_mutex_lock(&force.mu);
                force.resized = 0;
                pthread_mutex_unlock(&force.mu);
                atomic_store(&force.armed, 1);
                pthread_mutex_lock(&force.mu);
                while (!force.inside)
                        pthread_cond_wait(&force.cv, &force.mu);
                pthread_mutex_unlock(&force.mu);
                while (atomic_load(&force.resizes) == before)
                        ok += one_batch(&c, total++);
        }
        /* then the readers run at random against the writer */
        for (i = 0; i < BATCHES; i++)
                ok += one_batch(&c, total++);
        atomic_store(&stop, 1);
        for (i = 0; i < READERS; i++) {
                CHECK(pthread_join(th[i], NULL) == 0);
                CHECK(rd[i].failures == 0);
                CHECK(rd[i].reads > 0);
        }
        CHECK(ok == total * PER);
        CHECK(t_balance(&c, "alice") == (uint64_t)total * PER * 10);
        /* the forced rounds happened, and no resize ever ran under a read */
        printf("test_ledger_threads: %u resizes, %u reads held across one, "
               "%u reads open at a resize\n",
               atomic_load(&force.resizes), atomic_load(&force.held),
               atomic_load(&force.readers_at_resize));
        CHECK(atomic_load(&force.held) >= FORCED);
        CHECK(atomic_load(&force.readers_at_resize) == 0);
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(st.map_bytes > (64 << 10));
        t_teardown(&c);
        return check_done("test_ledger_threads");
}
