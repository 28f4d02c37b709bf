/*
 * tests/ledger/test_ledger_tree.c - init/open, the checkpoint of every
 * batch (verified with the log key), inclusion and consistency proofs
 * (verified with proto's verifiers), and the reads: entries, history
 * pages, status.
 */
#include <sys/stat.h>

#include "keyfile.h"
#include "ledger_test.h"

static void test_init_open(void)
{
        struct tctx c;
        struct ledger *l2 = NULL;
        struct tb_status_info st;
        struct tb_vkey vk;
        struct tb_record r;
        uint8_t rec[TB_RECORD_MAX];
        size_t len;

        t_setup(&c);
        CHECK_ERR(ledger_init(c.dir, T_ORIGIN, c.admin.pk, "admin", NULL),
                  LEDGER_E_EXISTS);
        CHECK_ERR(ledger_init(c.dir, "bad origin", c.admin.pk, "admin", NULL),
                  LEDGER_E_INVALID);
        CHECK_ERR(ledger_open("/nonexistent/timebank", NULL, &l2),
                  LEDGER_E_NO_LEDGER);
        CHECK(l2 == NULL);
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(st.tree_size == 1 && st.keys_active == 1 && st.accounts == 0);
        CHECK(st.disk_bytes > 0 && st.map_bytes >= c.opt.map_initial);
        CHECK(tb_vkey_parse(st.log_key, strlen(st.log_key), &vk) == TB_OK);
        CHECK(strcmp(vk.name, T_ORIGIN) == 0);
        CHECK(strcmp(ledger_origin(c.l), T_ORIGIN) == 0);
        CHECK(strcmp(ledger_log_vkey(c.l), st.log_key) == 0);

        /* the genesis record, signed by the log key */
        CHECK_ERR(ledger_entry(c.l, 0, rec, sizeof(rec), &len), LEDGER_OK);
        CHECK(tb_record_decode(rec, len, &r) == TB_OK);
        CHECK(r.seq == 0 && r.entry.kind == TB_KIND_GENESIS);
        CHECK(memcmp(r.entry.signer, vk.pk, 32) == 0);
        CHECK(memcmp(r.entry.u.genesis.admin_key, c.admin.pk, 32) == 0);
        CHECK(tb_entry_verify(T_ORIGIN, r.body, r.body_len, vk.pk, r.sig) ==
              TB_OK);
        CHECK_ERR(ledger_entry(c.l, 1, rec, sizeof(rec), &len),
                  LEDGER_E_NOT_FOUND);
        CHECK_ERR(ledger_entry(c.l, 0, rec, 10, &len), LEDGER_E_OVERFLOW);
        t_reopen(&c);

        /* the key files: secret 0600; another key is refused */
        {
                char path[PATH_MAX + 16];
                struct stat sb;
                struct tb_skey *k = NULL;

                snprintf(path, sizeof(path), "%s/log.pub", c.dir);
                CHECK(stat(path, &sb) == 0);
                snprintf(path, sizeof(path), "%s/log.key", c.dir);
                CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
                ledger_close(c.l);
                c.l = NULL;
                CHECK(unlink(path) == 0);
                CHECK_ERR(ledger_open(c.dir, NULL, &l2), LEDGER_E_KEY);
                CHECK(tb_skey_generate(T_ORIGIN, strlen(T_ORIGIN), &k) ==
                      TB_OK);
                CHECK(tb_keyfile_write_secret(path, k) == TB_OK);
                tb_skey_free(k);
                CHECK_ERR(ledger_open(c.dir, NULL, &l2), LEDGER_E_KEY);
                CHECK(l2 == NULL);
        }
        t_teardown(&c);
}

/* Every inclusion proof of the tree of `size` verifies against root. */
static void check_inclusions(struct tctx *c, uint64_t size,
                             const uint8_t root[32])
{
        static uint8_t buf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        struct tb_proof p;
        uint8_t leaf[32];
        uint64_t i;

        for (i = 0; i < size; i++) {
                CHECK_ERR(
                    ledger_prove_inclusion(c->l, i, size, &p, buf, sizeof(buf)),
                    LEDGER_OK);
                tb_merkle_leaf_hash(p.record, p.record_len, leaf);
                CHECK_ERR(tb_merkle_verify_inclusion(
                              i, size, leaf, (const uint8_t(*)[32])p.hashes,
                              p.count, root),
                          TB_OK);
        }
        CHECK_ERR(
            ledger_prove_inclusion(c->l, size, size, &p, buf, sizeof(buf)),
            LEDGER_E_RANGE);
}

static void test_checkpoints_proofs(void)
{
        static uint8_t buf[TB_RECORD_MAX + TB_CHECKPOINT_MAX];
        struct tctx c;
        struct tb_checkpoint cp, old[40];
        struct tb_proof p;
        struct tb_status_info st;
        struct tb_vkey vk;
        uint8_t root[32], note[TB_CHECKPOINT_MAX];
        size_t nold = 0, i, j, len;

        t_setup(&c);
        CHECK(t_checkpoint(&c, &cp) == 0);
        CHECK(cp.size == 1);
        old[nold++] = cp;
        t_cast(&c);
        for (i = 0; i < 25; i++) {
                CHECK(t_checkpoint(&c, &cp) == 0);
                if (nold < 40)
                        old[nold++] = cp;
                CHECK_ERR(t_service(&c, &c.rec, i % 2 ? "alice" : "bob",
                                    T_NOW - 86400 * 2 + (int64_t)i * 3600, 30,
                                    ""),
                          TB_ST_OK);
        }
        CHECK(t_checkpoint(&c, &cp) == 0);
        CHECK(cp.size == 30);
        CHECK_ERR(ledger_root(c.l, cp.size, root), LEDGER_OK);
        CHECK_MEM(root, cp.root, 32);
        check_inclusions(&c, cp.size, cp.root);
        check_inclusions(&c, old[7].size, old[7].root);

        /* every earlier checkpoint is consistent with the latest and with
         * each later one */
        for (i = 0; i < nold; i++) {
                CHECK_ERR(ledger_prove_consistency(c.l, old[i].size, 0, &p, buf,
                                                   sizeof(buf)),
                          LEDGER_OK);
                CHECK(p.size == cp.size && p.checkpoint_len > 0);
                CHECK_ERR(tb_merkle_verify_consistency(
                              old[i].size, old[i].root, cp.size, cp.root,
                              (const uint8_t(*)[32])p.hashes, p.count),
                          TB_OK);
                for (j = i + 1; j < nold; j += 3) {
                        CHECK_ERR(ledger_prove_consistency(c.l, old[i].size,
                                                           old[j].size, &p, buf,
                                                           sizeof(buf)),
                                  LEDGER_OK);
                        CHECK_ERR(tb_merkle_verify_consistency(
                                      old[i].size, old[i].root, old[j].size,
                                      old[j].root,
                                      (const uint8_t(*)[32])p.hashes, p.count),
                                  TB_OK);
                }
        }
        CHECK_ERR(ledger_prove_consistency(c.l, 0, 5, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);
        CHECK_ERR(ledger_prove_consistency(c.l, 5, 31, &p, buf, sizeof(buf)),
                  LEDGER_E_RANGE);

        /* every stored checkpoint opens with the log key */
        CHECK_ERR(ledger_status(c.l, &st), LEDGER_OK);
        CHECK(tb_vkey_parse(st.log_key, strlen(st.log_key), &vk) == TB_OK);
        for (i = 0; i < nold; i++) {
                CHECK_ERR(ledger_checkpoint_at(c.l, old[i].size, note,
                                               sizeof(note), &len),
                          LEDGER_OK);
                CHECK(tb_checkpoint_open(note, len, T_ORIGIN, &vk, &cp) ==
                      TB_OK);
                CHECK(cp.size == old[i].size);
                CHECK_MEM(cp.root, old[i].root, 32);
        }
        t_teardown(&c);
}

/* A batch of many entries gets one checkpoint. */
static void test_batch_checkpoint(void)
{
        struct tctx c;
        struct ledger_item items[8];
        struct ledger_result res[8];
        uint8_t bufs[8][TB_SIGNED_MAX];
        uint8_t note[TB_CHECKPOINT_MAX];
        struct tb_checkpoint cp;
        size_t i, len;

        t_setup(&c);
        t_cast(&c);
        for (i = 0; i < 8; i++) {
                struct tb_entry e = t_entry(&c, TB_KIND_SERVICE, &c.rec);
                snprintf(e.u.service.account, sizeof(e.u.service.account),
                         "alice");
                e.u.service.start = T_NOW - 86400 + (int64_t)i * 3600;
                e.u.service.minutes = 60;
                items[i].signed_entry = bufs[i];
                items[i].len = t_sign(&e, &c.rec, bufs[i]);
                items[i].received = T_NOW;
                items[i].verified = (int)(i % 2);
        }
        CHECK_ERR(ledger_apply_batch(c.l, items, 8, res), LEDGER_OK);
        for (i = 0; i < 8; i++) {
                CHECK(res[i].status == TB_ST_OK && res[i].seq == 5 + i);
                CHECK(res[i].balance == 60 * (i + 1));
        }
        CHECK(t_checkpoint(&c, &cp) == 0 && cp.size == 13);
        CHECK_ERR(ledger_checkpoint_at(c.l, 12, note, sizeof(note), &len),
                  LEDGER_E_NOT_FOUND);
        CHECK_ERR(ledger_checkpoint_at(c.l, 5, note, sizeof(note), &len),
                  LEDGER_OK);
        CHECK_ERR(ledger_apply_batch(c.l, items, 0, res), LEDGER_OK);
        t_teardown(&c);
}

static void test_history(void)
{
        static uint8_t buf[TB_HISTORY_MAX * TB_RECORD_MAX];
        struct tctx c;
        struct tb_history h;
        struct tb_record r;
        uint64_t before = TB_SEQ_LATEST, seen = 0, last = UINT64_MAX;
        int i;

        t_setup(&c);
        t_cast(&c);
        for (i = 0; i < 10; i++)
                CHECK_ERR(t_service(&c, &c.rec, "alice",
                                    T_NOW - 86400 + i * 3600, 60, ""),
                          TB_ST_OK);
        CHECK_ERR(t_transfer(&c, &c.red, "alice", "bob", 100), TB_ST_OK);
        /* alice: register + 10 services + transfer = 12, pages of 5 */
        do {
                CHECK_ERR(ledger_history(c.l, "alice", before, 5, &h, buf,
                                         sizeof(buf)),
                          LEDGER_OK);
                for (i = 0; i < h.count; i++) {
                        CHECK(h.items[i].seq < last);
                        last = h.items[i].seq;
                        CHECK(tb_record_decode(h.items[i].record,
                                               h.items[i].record_len,
                                               &r) == TB_OK);
                        CHECK(r.seq == h.items[i].seq);
                        seen++;
                }
                before = h.next_before;
        } while (before != 0 && seen < 100);
        CHECK(seen == 12);
        CHECK_ERR(ledger_history(c.l, "alice", TB_SEQ_LATEST, 1, &h, buf,
                                 sizeof(buf)),
                  LEDGER_OK);
        CHECK(h.count == 1 && h.items[0].delta == -100 &&
              h.items[0].balance_after == 500 && h.next_before == 15);
        CHECK_ERR(
            ledger_history(c.l, "bob", TB_SEQ_LATEST, 64, &h, buf, sizeof(buf)),
            LEDGER_OK);
        CHECK(h.count == 2 && h.items[0].delta == 100 && h.items[1].seq == 4 &&
              h.next_before == 0);
        CHECK_ERR(ledger_history(c.l, "carol", TB_SEQ_LATEST, 5, &h, buf,
                                 sizeof(buf)),
                  LEDGER_E_NOT_FOUND);
        CHECK_ERR(ledger_history(c.l, "alice", TB_SEQ_LATEST, 0, &h, buf,
                                 sizeof(buf)),
                  LEDGER_E_INVALID);
        CHECK_ERR(ledger_history(c.l, "alice", TB_SEQ_LATEST, 5, &h, buf, 100),
                  LEDGER_E_OVERFLOW);
        t_teardown(&c);
}

int main(void)
{
        test_init_open();
        test_checkpoints_proofs();
        test_batch_checkpoint();
        test_history();
        return check_done("test_ledger_tree");
}
