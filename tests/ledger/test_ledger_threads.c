/*
 * tests/ledger/test_ledger_threads.c - reads on other threads while the
 * writer commits batches and grows the map from 64 KiB: every read sees a
 * committed state (checkpoint verifies, proof checks against it, balances
 * never go backwards).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "ledger_test.h"

#define READERS 2
#define BATCHES 60
#define PER     10

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

int main(void)
{
        struct ledger_options o;
        struct tctx c;
        struct reader rd[READERS];
        pthread_t th[READERS];
        atomic_int stop = 0;
        struct ledger_item it[PER];
        struct ledger_result res[PER];
        static uint8_t bufs[PER][TB_SIGNED_MAX];
        struct tb_status_info st;
        int i, j, ok = 0;

        ledger_options_default(&o);
        o.map_initial = 64 << 10;
        t_setup_opts(&c, &o);
        t_cast(&c);
        for (i = 0; i < READERS; i++) {
                rd[i].c = &c;
                rd[i].stop = &stop;
                rd[i].failures = 0;
                rd[i].reads = 0;
                CHECK(pthread_create(&th[i], NULL, reader_main, &rd[i]) == 0);
        }
        for (i = 0; i < BATCHES; i++) {
                for (j = 0; j < PER; j++) {
                        struct tb_entry e =
                            t_entry(&c, TB_KIND_SERVICE, &c.rec);
                        snprintf(e.u.service.account,
                                 sizeof(e.u.service.account), "alice");
                        e.u.service.start =
                            T_NOW - 20 * 86400 + (int64_t)(i * PER + j) * 600;
                        e.u.service.minutes = 10;
                        snprintf(e.u.service.note, sizeof(e.u.service.note),
                                 "padding padding padding padding padding "
                                 "padding padding padding padding padding");
                        it[j].signed_entry = bufs[j];
                        it[j].len = t_sign(&e, &c.rec, bufs[j]);
                        it[j].received = T_NOW;
                        it[j].verified = 1;
                }
                CHECK_ERR(ledger_apply_batch(c.l, it, PER, res), LEDGER_OK);
                for (j = 0; j < PER; j++)
                        ok += res[j].status == TB_ST_OK;
        }
        atomic_store(&stop, 1);
        for (i = 0; i < READERS; i++) {
                CHECK(pthread_join(th[i], NULL) == 0);
                CHECK(rd[i].failures == 0);
                CHECK(rd[i].reads > 0);
        }
        CHECK(ok == BATCHES * PER);
        CHECK(t_balance(&c, "alice") == (uint64_t)BATCHES * PER * 10);
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(st.map_bytes > (64 << 10));
        t_teardown(&c);
        return check_done("test_ledger_threads");
}
