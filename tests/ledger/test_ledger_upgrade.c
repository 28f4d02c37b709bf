/*
 * tests/ledger/test_ledger_upgrade.c - storage format 3 and ledger_upgrade()
 * (docs/storage.md, "Upgrading"): a format-1 and a format-2 ledger (written
 * by the minimal writer of older formats of ledger_tamper.c from one made
 * by today's engine) are refused with LEDGER_E_UPGRADE, upgrade to the same
 * answers (balances, history pages, idempotency records with their
 * remembered refusals) and pass the full check; a leftover of an
 * interrupted upgrade is cleared; upgrades killed at 17 points leave one
 * ledger or the other; an old ledger that does not replay to what it
 * stores is not upgraded; and history pages of the chain equal a
 * row-by-row expectation for any "before".  It owns docs/storage.md's
 * vectors: format 3's account row, history row and idempotency row, read
 * back raw from a ledger made by the engine.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "docvec.h"
#include "ledger_tamper.h"
#include "ledger_test.h"

#define U_ACCOUNTS 2

static const char *const u_accounts[U_ACCOUNTS] = {"alice", "bob"};

/* What a reader can see of the ledger, to compare before and after. */
struct snapshot {
        struct tb_balance_info bal[U_ACCOUNTS];
        struct tb_history hist[U_ACCOUNTS][2]; /* pages of 3 */
        uint64_t tree_size;
        uint8_t root[TB_HASH_SIZE];
};

static uint8_t hbuf[TB_HISTORY_MAX * TB_RECORD_MAX];

static void snap(struct tctx *c, struct snapshot *s)
{
        struct tb_status_info st;
        size_t i;

        memset(s, 0, sizeof(*s));
        for (i = 0; i < U_ACCOUNTS; i++) {
                CHECK_ERR(ledger_balance(c->l, u_accounts[i], &s->bal[i]),
                          LEDGER_OK);
                CHECK_ERR(ledger_history(c->l, u_accounts[i], TB_SEQ_LATEST, 3,
                                         &s->hist[i][0], hbuf, sizeof(hbuf)),
                          LEDGER_OK);
                CHECK(s->hist[i][0].next_before != 0);
                CHECK_ERR(ledger_history(c->l, u_accounts[i],
                                         s->hist[i][0].next_before, 3,
                                         &s->hist[i][1], hbuf, sizeof(hbuf)),
                          LEDGER_OK);
        }
        CHECK_ERR(ledger_status(c->l, &st), LEDGER_OK);
        s->tree_size = st.tree_size;
        CHECK_ERR(ledger_root(c->l, 0, s->root), LEDGER_OK);
}

static int hist_equal(const struct tb_history *a, const struct tb_history *b)
{
        unsigned i;

        if (a->count != b->count || a->next_before != b->next_before)
                return 0;
        for (i = 0; i < a->count; i++)
                if (a->items[i].seq != b->items[i].seq ||
                    a->items[i].delta != b->items[i].delta ||
                    a->items[i].balance_after != b->items[i].balance_after ||
                    a->items[i].record_len != b->items[i].record_len)
                        return 0;
        return 1;
}

static void snap_same(const struct snapshot *a, const struct snapshot *b)
{
        size_t i;

        for (i = 0; i < U_ACCOUNTS; i++) {
                CHECK(memcmp(&a->bal[i], &b->bal[i], sizeof(a->bal[i])) == 0);
                CHECK(hist_equal(&a->hist[i][0], &b->hist[i][0]));
                CHECK(hist_equal(&a->hist[i][1], &b->hist[i][1]));
        }
        CHECK(a->tree_size == b->tree_size);
        CHECK_MEM(a->root, b->root, TB_HASH_SIZE);
}

struct retries {
        uint8_t svc[TB_SIGNED_MAX], red[TB_SIGNED_MAX], other[TB_SIGNED_MAX];
        size_t svc_len, red_len, other_len;
        uint64_t svc_seq;
};

/* Some of every kind that touches an account, a reversal, a remembered
 * refusal, and the retries to replay after the upgrade. */
static void fill(struct tctx *c, struct retries *r)
{
        struct tb_entry e, e2;
        uint64_t seq;
        int i;

        t_cast(c);
        for (i = 0; i < 6; i++)
                CHECK_ERR(t_service(c, &c->rec, u_accounts[i % 2],
                                    T_NOW - 86400 + i * 3600, 30 + i, ""),
                          TB_ST_OK);
        CHECK_ERR(t_transfer(c, &c->red, "alice", "bob", 10), TB_ST_OK);
        CHECK_ERR(t_service(c, &c->rec, "alice", T_NOW - 2 * 86400, 60, ""),
                  TB_ST_OK);
        seq = c->res.seq;
        CHECK_ERR(t_reverse(c, &c->admin, seq), TB_ST_OK);
        CHECK_ERR(t_redeem(c, &c->red, "bob", 5), TB_ST_OK);

        e = t_entry(c, TB_KIND_SERVICE, &c->rec);
        snprintf(e.u.service.account, sizeof(e.u.service.account), "bob");
        e.u.service.start = T_NOW - 3 * 86400;
        e.u.service.minutes = 45;
        r->svc_len = t_sign(&e, &c->rec, r->svc);
        CHECK_ERR(t_apply(c, r->svc, r->svc_len), TB_ST_OK);
        r->svc_seq = c->res.seq;
        e2 = e;
        e2.u.service.minutes = 46;
        r->other_len = t_sign(&e2, &c->rec, r->other);

        e = t_entry(c, TB_KIND_REDEEM, &c->red);
        snprintf(e.u.redeem.account, sizeof(e.u.redeem.account), "alice");
        snprintf(e.u.redeem.item, sizeof(e.u.redeem.item), "car");
        e.u.redeem.points = 100; /* alice has 86 */
        r->red_len = t_sign(&e, &c->red, r->red);
        CHECK_ERR(t_apply(c, r->red, r->red_len), TB_ST_INSUFFICIENT_POINTS);
}

/* The older format the tests of one pass upgrade from: 1, then 2. */
static unsigned old_format = 1;

/* Close c's ledger and leave it as format old_format wrote it. */
static void make_old(struct tctx *c)
{
        struct ledger *l;

        ledger_close(c->l);
        c->l = NULL;
        CHECK(ledger_tamper_format(c->dir, old_format) == 0);
        CHECK_ERR(ledger_open(c->dir, &c->opt, &l), LEDGER_E_UPGRADE);
        CHECK(strstr(ledger_strerror(LEDGER_E_UPGRADE),
                     "timebankd upgrade -d DIR") != NULL);
}

static int upgrade_new_exists(struct tctx *c)
{
        char path[PATH_MAX + 16];
        struct stat sb;

        snprintf(path, sizeof(path), "%s/upgrade.new", c->dir);
        return stat(path, &sb) == 0;
}

struct raw {
        uint8_t v[256];
        size_t len;
};

/* ledger_tamper_edit's callback as a reader: copy, then abort the write. */
static int raw_copy(uint8_t *val, size_t *len, size_t cap, void *arg)
{
        struct raw *r = arg;

        (void)cap;
        r->len = *len < sizeof(r->v) ? *len : sizeof(r->v);
        memcpy(r->v, val, r->len);
        return 99;
}

static void test_upgrade(void)
{
        struct tctx c;
        struct retries r;
        struct snapshot before, after;
        struct ledger_upgrade_report rep;
        static const uint8_t zero8[8] = {0}, two8[8] = {0, 0, 0, 0, 0, 0, 0, 2},
                             k14[8] = {0, 0, 0, 0, 0, 0, 0, 14};
        struct raw raw;
        char path[PATH_MAX + 32];

        t_setup(&c);
        fill(&c, &r);
        snap(&c, &before);
        make_old(&c);
        /* format 1 stored leaf hashes (StoredHashIndex(0, 0) = 0), format 2
         * only the nodes above them ((1, 0) = 2) */
        CHECK((ledger_tamper_edit(c.dir, "hashes", zero8, 8, raw_copy, &raw) ==
               99) == (old_format == 1));
        CHECK(ledger_tamper_edit(c.dir, "hashes", two8, 8, raw_copy, &raw) ==
              99);

        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep), LEDGER_OK);
        CHECK(rep.from == old_format && rep.to == LEDGER_FORMAT_VERSION);
        CHECK(rep.replay.mismatches == 0 && rep.check.mismatches == 0);
        CHECK(rep.replay.entries == before.tree_size);
        CHECK(rep.check.entries == before.tree_size);
        /* every logged entry has one, and the remembered refusal */
        CHECK(rep.idem == before.tree_size + 1);
        CHECK(!upgrade_new_exists(&c));
        /* format 3 stores the nodes of levels >= 2 only: not (0, 0) nor
         * (1, 0), but (3, 0) = 14 */
        CHECK(ledger_tamper_edit(c.dir, "hashes", zero8, 8, raw_copy, &raw) !=
              99);
        CHECK(ledger_tamper_edit(c.dir, "hashes", two8, 8, raw_copy, &raw) !=
              99);
        CHECK(ledger_tamper_edit(c.dir, "hashes", k14, 8, raw_copy, &raw) ==
              99);

        CHECK_ERR(ledger_open(c.dir, &c.opt, &c.l), LEDGER_OK);
        snap(&c, &after);
        snap_same(&before, &after);

        /* the ledger keeps working, in format 3: alice can now afford
         * the redeem refused before the upgrade */
        CHECK(before.bal[0].balance == 86);
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 5 * 86400, 15, ""),
                  TB_ST_OK);
        CHECK(t_balance(&c, "alice") == 101);

        /* the idempotency records came over, refusals included: the
         * refused redeem's retry gets its first outcome, not a debit */
        CHECK_ERR(t_apply(&c, r.svc, r.svc_len), TB_ST_DUPLICATE);
        CHECK(c.res.seq == r.svc_seq && c.res.points == 45);
        CHECK_ERR(t_apply(&c, r.other, r.other_len), TB_ST_REQUEST_ID_REUSED);
        CHECK_ERR(t_apply(&c, r.red, r.red_len), TB_ST_INSUFFICIENT_POINTS);
        CHECK(t_balance(&c, "alice") == 101);

        /* a second upgrade has nothing to do but clear what a crash after
         * the rename would leave */
        ledger_close(c.l);
        c.l = NULL;
        snprintf(path, sizeof(path), "%s/upgrade.new", c.dir);
        CHECK(mkdir(path, 0700) == 0);
        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep), LEDGER_OK);
        CHECK(rep.from == LEDGER_FORMAT_VERSION && rep.idem == 0);
        CHECK(!upgrade_new_exists(&c));
        CHECK_ERR(ledger_open(c.dir, &c.opt, &c.l), LEDGER_OK);
        t_teardown(&c);
}

/* A crash before the rename leaves the old ledger and dir/upgrade.new/:
 * the old one still opens as the old format, and the next upgrade clears the
 * leftover and completes. */
static void test_interrupted(void)
{
        struct tctx c;
        struct retries r;
        struct ledger_upgrade_report rep;
        struct ledger *l;
        char path[PATH_MAX + 32];
        FILE *f;

        t_setup(&c);
        fill(&c, &r);
        make_old(&c);
        snprintf(path, sizeof(path), "%s/upgrade.new", c.dir);
        CHECK(mkdir(path, 0700) == 0);
        snprintf(path, sizeof(path), "%s/upgrade.new/data.mdb", c.dir);
        CHECK((f = fopen(path, "w")) != NULL);
        if (f) {
                CHECK(fputs("half a ledger", f) >= 0);
                CHECK(fclose(f) == 0);
        }
        CHECK_ERR(ledger_open(c.dir, &c.opt, &l), LEDGER_E_UPGRADE);
        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep), LEDGER_OK);
        CHECK(rep.from == old_format && rep.check.mismatches == 0);
        CHECK(!upgrade_new_exists(&c));
        CHECK_ERR(ledger_open(c.dir, &c.opt, &c.l), LEDGER_OK);
        CHECK_ERR(t_apply(&c, r.svc, r.svc_len), TB_ST_DUPLICATE);
        t_teardown(&c);
}

/* The scratch directories of full checks that a kill cut short. */
static void clear_scratch(const char *scratch)
{
        char path[PATH_MAX + 300];
        struct dirent *d;
        DIR *dir = opendir(scratch);

        if (!dir)
                return;
        while ((d = readdir(dir)) != NULL) {
                if (d->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", scratch, d->d_name);
                t_rm(path);
        }
        closedir(dir);
}

/* SIGKILL in the middle of upgrades, at 17 delays from 0 to 3 times
 * what one upgrade takes here (timed first): afterwards
 * the ledger is either still of the old format (and the next upgrade
 * completes) or already format 3, and answers as before either way.  A killed
 * process is not a power cut (the page cache survives it), but it stops the
 * upgrade at any instruction, which is what the order of its steps must
 * survive. */
static void test_killed(void)
{
        struct tctx c;
        struct retries r;
        struct snapshot before, after;
        struct ledger_upgrade_report rep;
        struct ledger *l;
        unsigned old = 0, done = 0, k, step;
        long delay, span;
        struct timespec t0, t1;
        char scratch[PATH_MAX + 16];
        int i, status;
        pid_t pid;

        t_setup(&c);
        fill(&c, &r);
        for (i = 0; i < 150; i++)
                CHECK_ERR(t_service(&c, &c.rec, u_accounts[i % 2],
                                    T_NOW - 20 * 86400 + i * 3600, 5, ""),
                          TB_ST_OK);
        snap(&c, &before);
        make_old(&c);
        snprintf(scratch, sizeof(scratch), "%s.scratch", c.dir);
        CHECK(mkdir(scratch, 0700) == 0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep), LEDGER_OK);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        span = (t1.tv_sec - t0.tv_sec) * 1000000L +
               (t1.tv_nsec - t0.tv_nsec) / 1000;
        CHECK(ledger_tamper_format(c.dir, old_format) == 0);
        /* under memcheck (TB_MEMCHECK, valgrind_test_ledger_upgrade) the
         * pass from format 2 kills at 5 of the 17 points: memory is what
         * that run checks, and the 17 of both passes run natively */
        step = old_format == 2 && getenv("TB_MEMCHECK") ? 4 : 1;
        for (k = 0; k <= 16; k += step) {
                delay = span * 3 * (long)k / 16;
                fflush(NULL);
                pid = fork();
                if (pid == 0) {
                        struct ledger_upgrade_report cr;
                        if (setenv("TMPDIR", scratch, 1) != 0)
                                _exit(2);
                        _exit(ledger_upgrade(c.dir, &c.opt, &cr) == LEDGER_OK
                                  ? 0
                                  : 1);
                }
                CHECK(pid > 0);
                if (pid <= 0)
                        break;
                if (delay) {
                        struct timespec ts = {delay / 1000000,
                                              delay % 1000000 * 1000};
                        nanosleep(&ts, NULL);
                }
                CHECK(kill(pid, SIGKILL) == 0);
                CHECK(waitpid(pid, &status, 0) == pid);
                clear_scratch(scratch);
                if (WIFEXITED(status))
                        CHECK(WEXITSTATUS(status) == 0);
                switch (ledger_open(c.dir, &c.opt, &l)) {
                case LEDGER_E_UPGRADE:
                        old++;
                        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep),
                                  LEDGER_OK);
                        CHECK(rep.from == old_format &&
                              rep.check.mismatches == 0);
                        break;
                case LEDGER_OK:
                        done++;
                        ledger_close(l);
                        /* a kill after the rename may leave upgrade.new */
                        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep),
                                  LEDGER_OK);
                        CHECK(rep.from == LEDGER_FORMAT_VERSION);
                        break;
                default:
                        CHECK(!"the killed upgrade left neither ledger");
                }
                CHECK(!upgrade_new_exists(&c));
                CHECK_ERR(ledger_open(c.dir, &c.opt, &c.l), LEDGER_OK);
                if (!c.l)
                        break;
                snap(&c, &after);
                snap_same(&before, &after);
                if (k < 16)
                        make_old(&c);
        }
        CHECK(rmdir(scratch) == 0);
        printf("killed upgrades from format %u (one takes %ld us): %u left "
               "format %u, %u had finished\n",
               old_format, span, old, old_format, done);
        t_teardown(&c);
}

static int add_one(uint8_t *val, size_t *len, size_t cap, void *arg)
{
        (void)cap;
        (void)arg;
        if (*len != 72)
                return 1;
        val[7]++; /* the low byte of the balance */
        return 0;
}

/* An old ledger whose stored state is not what its log replays to is
 * left as it is: the upgrade would otherwise hide the difference. */
static void test_mismatch(void)
{
        struct tctx c;
        struct retries r;
        struct ledger_upgrade_report rep;
        struct ledger *l;

        t_setup(&c);
        fill(&c, &r);
        make_old(&c);
        CHECK(ledger_tamper_edit(c.dir, "accounts", "bob", 3, add_one, NULL) ==
              0);
        CHECK_ERR(ledger_upgrade(c.dir, &c.opt, &rep), LEDGER_E_CHECK);
        CHECK(rep.replay.mismatches > 0);
        CHECK(strstr(rep.replay.first, "account") != NULL);
        CHECK(!upgrade_new_exists(&c));
        CHECK_ERR(ledger_open(c.dir, &c.opt, &l), LEDGER_E_UPGRADE);
        c.tampered = 1;
        t_teardown(&c);
}

/* Format 2 walks a chain: every "before", a row of the account or not,
 * gives the rows with a smaller seq, newest first, as format 1's range
 * scan did. */
static void test_history_before(void)
{
        struct tctx c;
        struct retries r;
        struct tb_history all, page;
        uint64_t before;
        unsigned i, j, want;

        t_setup(&c);
        fill(&c, &r);
        CHECK_ERR(ledger_history(c.l, "alice", TB_SEQ_LATEST, TB_HISTORY_MAX,
                                 &all, hbuf, sizeof(hbuf)),
                  LEDGER_OK);
        CHECK(all.count >= 6 && all.next_before == 0);
        for (i = 1; i < all.count; i++)
                CHECK(all.items[i].seq < all.items[i - 1].seq);
        for (before = 0; before <= all.items[0].seq + 1; before++) {
                CHECK_ERR(ledger_history(c.l, "alice", before, TB_HISTORY_MAX,
                                         &page, hbuf, sizeof(hbuf)),
                          LEDGER_OK);
                for (i = 0; i < all.count && all.items[i].seq >= before; i++)
                        ;
                want = all.count - i;
                CHECK(page.count == want);
                for (j = 0; j < page.count && j < want; j++)
                        CHECK(page.items[j].seq == all.items[i + j].seq &&
                              page.items[j].balance_after ==
                                  all.items[i + j].balance_after);
        }
        t_teardown(&c);
}

static void test_vectors(void)
{
        struct docvec_set set;
        struct docvec *v;
        struct tctx c;
        struct raw raw;
        uint8_t *key, *want;
        size_t klen, wlen;

        docvec_load(&set, "docs/storage.md");
        t_setup(&c);
        t_cast(&c); /* rec 1, red 2, alice 3, bob 4 */
        CHECK_ERR(t_service(&c, &c.rec, "alice", T_NOW - 7200, 45, ""),
                  TB_ST_OK);
        CHECK(c.res.seq == 5);
        ledger_close(c.l);
        c.l = NULL;

        CHECK((v = docvec_get(&set, "storage-history-row")) != NULL);
        if (v) {
                key = docvec_hex(v, "key", &klen);
                want = docvec_hex(v, "value", &wlen);
                memset(&raw, 0, sizeof(raw));
                CHECK(ledger_tamper_edit(c.dir, "history", key, klen, raw_copy,
                                         &raw) == 99);
                CHECK(raw.len == wlen && memcmp(raw.v, want, wlen) == 0);
                free(key);
                free(want);
        }
        CHECK((v = docvec_get(&set, "storage-account-row")) != NULL);
        if (v) {
                key = docvec_hex(v, "key", &klen);
                want = docvec_hex(v, "value", &wlen);
                memset(&raw, 0, sizeof(raw));
                CHECK(ledger_tamper_edit(c.dir, "accounts", key, klen, raw_copy,
                                         &raw) == 99);
                CHECK(raw.len == wlen && memcmp(raw.v, want, wlen) == 0);
                free(key);
                free(want);
        }
        CHECK((v = docvec_get(&set, "storage-idem-row")) != NULL);
        if (v) {
                size_t clen;
                uint8_t *cls = docvec_hex(v, "class", &clen);
                uint8_t *rid = docvec_hex(v, "rid", &klen);
                uint8_t *pk = docvec_hex(v, "pk", &wlen);
                uint8_t k[1 + TB_REQUEST_ID_SIZE + TB_PUBKEY_SIZE];

                CHECK(clen == 1);
                k[0] = clen == 1 ? cls[0] : 0xff;
                free(cls);

                CHECK(klen == TB_REQUEST_ID_SIZE && wlen == TB_PUBKEY_SIZE);
                CHECK(wlen == TB_PUBKEY_SIZE &&
                      memcmp(pk, c.rec.pk, TB_PUBKEY_SIZE) == 0);
                if (klen == TB_REQUEST_ID_SIZE && wlen == TB_PUBKEY_SIZE) {
                        memcpy(k + 1, rid, klen);
                        memcpy(k + 1 + klen, pk, wlen);
                        free(rid);
                        free(pk);
                        want = docvec_hex(v, "value", &wlen);
                        memset(&raw, 0, sizeof(raw));
                        CHECK(ledger_tamper_edit(c.dir, "idem", k, sizeof(k),
                                                 raw_copy, &raw) == 99);
                        CHECK(raw.len == wlen &&
                              memcmp(raw.v, want, wlen) == 0);
                        free(want);
                } else {
                        free(rid);
                        free(pk);
                }
        }
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
        CHECK_ERR(ledger_open(c.dir, &c.opt, &c.l), LEDGER_OK);
        t_teardown(&c);
}

int main(void)
{
        test_vectors();
        for (old_format = 1; old_format <= 2; old_format++) {
                test_upgrade();
                test_interrupted();
                test_killed();
                test_mismatch();
        }
        test_history_before();
        return check_done("test_ledger_upgrade");
}
