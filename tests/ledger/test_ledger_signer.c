/*
 * tests/ledger/test_ledger_signer.c - the signer process (daemon/signer.c)
 * keeps invariant 7: it signs a checkpoint only if it extends the last one
 * it signed, and a restart does not make it forget.
 *
 * A real signer process is forked on a socketpair, over a data directory
 * with a log key, and driven with histories built here: an honest one (A)
 * and a fork (B) that shares A's first three entries.  It must sign A's
 * extensions and refuse a smaller size, another root at the same size, a
 * proof that does not verify, B grown from an old but genuine checkpoint,
 * and B with a made-up proof; restarted on the same signer.state, it must
 * still refuse B.  Then a real ledger is served through it: checkpoints
 * byte for byte those of the in-process signer, and a tree left without
 * its checkpoint (the signer gone between the two commits of a batch) gets
 * it at the next open.  Also the owner of docs/signer.md's vectors.
 *
 * The engine and its process are compiled in here (STYLE 15: a test may
 * include the .c under test).
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "../../daemon/log.c"
#include "../../daemon/signer.c"
#include "docvec.h"
#include "ledger_test.h"

#define S_ORIGIN "test.example/signer"
#define S_LEAVES 12

/* A history: leaf hashes, read as stored subtree hashes. */
struct hist {
        uint8_t leaf[S_LEAVES][TB_HASH_SIZE];
};

static enum tb_err hist_read_cb(void *ctx, unsigned level, uint64_t index,
                                uint8_t out[TB_HASH_SIZE])
{
        const struct hist *h = ctx;
        uint64_t lo = index << level, n = (uint64_t)1 << level;

        if (lo + n > S_LEAVES)
                return TB_E_PROOF_RANGE;
        return tb_merkle_root((const uint8_t(*)[TB_HASH_SIZE])h->leaf + lo, n,
                              out);
}

static void hist_make(struct hist *h, char tag, unsigned shared,
                      const struct hist *from)
{
        for (unsigned i = 0; i < S_LEAVES; i++) {
                char e[2] = {i < shared ? 'a' : tag, (char)('0' + i)};

                if (i < shared && from)
                        memcpy(h->leaf[i], from->leaf[i], TB_HASH_SIZE);
                else
                        tb_merkle_leaf_hash(e, sizeof(e), h->leaf[i]);
        }
}

static void hist_root(const struct hist *h, uint64_t size,
                      uint8_t root[TB_HASH_SIZE])
{
        CHECK_ERR(tb_merkle_tree_hash(hist_read_cb, (void *)h, size, root),
                  TB_OK);
}

struct sctx {
        char dir[PATH_MAX];
        struct tb_skey *key;
        struct tb_vkey vkey;
        struct signer_proc p;
        struct hist a, b;
};

/* The checkpoint of h at size, signed here with the log key (what the
 * ledger stored earlier, or what another key signed when k is not ours). */
static size_t note_of(const struct hist *h, uint64_t size,
                      const struct tb_skey *k, uint8_t *note)
{
        struct tb_checkpoint cp;
        size_t len = 0;

        memset(&cp, 0, sizeof(cp));
        snprintf(cp.origin, sizeof(cp.origin), "%s", S_ORIGIN);
        cp.origin_len = strlen(cp.origin);
        cp.size = size;
        hist_root(h, size, cp.root);
        CHECK_ERR(tb_checkpoint_sign(&cp, k, note, TB_CHECKPOINT_MAX, &len),
                  TB_OK);
        return len;
}

/*
 * One SIGN over the socket: old checkpoint (of `oh` at old, signed by k),
 * the new tree (nh at size), the proof from proof_h's old to size (NULL:
 * none), its first byte flipped if `bad`.  Returns the reply's type and
 * the reason (REFUSED) in *reason; the note (SIGNED) into note.
 */
static unsigned ask(struct sctx *s, const struct hist *oh, uint64_t old,
                    const struct tb_skey *k, const struct hist *nh,
                    uint64_t size, const struct hist *proof_h, int bad,
                    unsigned *reason, uint8_t *note, size_t *note_len)
{
        uint8_t old_note[TB_CHECKPOINT_MAX], buf[TB_SIGNER_FRAME_MAX];
        uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE];
        struct tb_signer_msg m;
        size_t len, count = 0;

        memset(&m, 0, sizeof(m));
        m.type = TB_SIGNER_SIGN;
        m.note = old_note;
        m.note_len = note_of(oh, old, k, old_note);
        m.new_size = size;
        hist_root(nh, size, m.new_root);
        if (proof_h) {
                uint64_t from = old <= size ? old : size;

                CHECK_ERR(tb_merkle_prove_consistency(hist_read_cb,
                                                      (void *)proof_h, from,
                                                      size, proof, &count),
                          TB_OK);
                if (bad && count)
                        proof[count / 2][0] ^= 1;
        }
        m.proof = (const uint8_t(*)[TB_HASH_SIZE])proof;
        m.proof_len = count;
        *reason = 0;
        if (tb_signer_msg_encode(&m, buf, sizeof(buf), &len) != TB_OK ||
            signer_write_all(s->p.fd, buf, len) != 0 ||
            signer_read_frame(s->p.fd, buf, &len) != 1 ||
            tb_signer_msg_decode(buf + TB_SIGNER_HEADER, len, &m) != TB_OK)
                return 0;
        if (m.type == TB_SIGNER_REFUSED)
                *reason = m.reason;
        if (m.type == TB_SIGNER_SIGNED && note) {
                memcpy(note, m.note, m.note_len);
                *note_len = m.note_len;
        }
        return m.type;
}

/* Signed, and byte for byte what the key signs in process for (h, size). */
static void expect_signed(struct sctx *s, const struct hist *oh, uint64_t old,
                          const struct hist *h, uint64_t size)
{
        uint8_t got[TB_CHECKPOINT_MAX], want[TB_CHECKPOINT_MAX];
        size_t got_len = 0, want_len;
        unsigned reason;

        CHECK_ERR(
            ask(s, oh, old, s->key, h, size, h, 0, &reason, got, &got_len),
            TB_SIGNER_SIGNED);
        want_len = note_of(h, size, s->key, want);
        CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);
}

/* A macro, so that a failure names the caller's line. */
#define expect_refused(type, reason, want)                                     \
        do {                                                                   \
                CHECK_ERR((type), TB_SIGNER_REFUSED);                          \
                CHECK_ERR((reason), (want));                                   \
        } while (0)

static void s_path(char *out, const struct sctx *s, const char *name)
{
        snprintf(out, PATH_MAX + 64, "%s/%s", s->dir, name);
}

/* What signer.state holds: the last checkpoint signed. */
static uint64_t state_size(const struct sctx *s)
{
        char path[PATH_MAX + 64];
        uint8_t note[TB_CHECKPOINT_MAX + 1];
        struct tb_checkpoint cp;
        FILE *f;
        size_t n;

        s_path(path, s, SIGNER_STATE_FILE);
        if (!(f = fopen(path, "r")))
                return 0;
        n = fread(note, 1, sizeof(note), f);
        fclose(f);
        if (tb_checkpoint_open(note, n, S_ORIGIN, &s->vkey, &cp) != TB_OK)
                return UINT64_MAX;
        return cp.size;
}

static void test_refusals(struct sctx *s)
{
        struct tb_skey *other;
        unsigned r, t;

        CHECK_ERR(tb_skey_generate(S_ORIGIN, strlen(S_ORIGIN), &other), TB_OK);
        CHECK_ERR(signer_start(s->dir, &s->p), 0);
        CHECK(state_size(s) == 0);

        /* no state yet: an old checkpoint not signed by the key is not a
         * starting point */
        t = ask(s, &s->a, 1, other, &s->a, 4, &s->a, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_OLD);
        CHECK(state_size(s) == 0);

        /* honest extensions: 1 -> 4 (first start takes 1), 4 -> 6 */
        expect_signed(s, &s->a, 1, &s->a, 4);
        CHECK(state_size(s) == 4);
        expect_signed(s, &s->a, 4, &s->a, 6);
        CHECK(state_size(s) == 6);
        /* the same size and root again: the same bytes */
        expect_signed(s, &s->a, 4, &s->a, 6);

        /* a smaller size */
        t = ask(s, &s->a, 6, s->key, &s->a, 5, &s->a, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_SMALLER);
        /* another root at the last signed size */
        t = ask(s, &s->a, 6, s->key, &s->b, 6, NULL, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_FORK);
        /* a proof that does not verify */
        t = ask(s, &s->a, 6, s->key, &s->a, 9, &s->a, 1, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_PROOF);
        /* the fork grown from an old, genuine checkpoint (size 3, where
         * A and B agree), with B's own valid proof from there */
        t = ask(s, &s->b, 3, s->key, &s->b, 9, &s->b, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_OLD);
        /* the fork from the last signed checkpoint, with a made-up proof
         * (B's, from size 6 of B): only the signer's own check says no */
        t = ask(s, &s->a, 6, s->key, &s->b, 9, &s->b, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_PROOF);
        /* an empty proof for a larger tree */
        t = ask(s, &s->a, 6, s->key, &s->b, 9, NULL, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_PROOF);
        CHECK(state_size(s) == 6);

        /* restarted on the same state: still no fork, still A */
        CHECK_ERR(signer_stop(&s->p), 0);
        CHECK_ERR(signer_start(s->dir, &s->p), 0);
        t = ask(s, &s->a, 6, s->key, &s->b, 6, NULL, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_FORK);
        t = ask(s, &s->a, 6, s->key, &s->b, 9, &s->b, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_PROOF);
        t = ask(s, &s->b, 3, s->key, &s->b, 9, &s->b, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_OLD);
        t = ask(s, &s->a, 4, s->key, &s->a, 5, &s->a, 0, &r, NULL, NULL);
        expect_refused(t, r, TB_SIGNER_R_SMALLER);
        expect_signed(s, &s->a, 6, &s->a, 9);
        CHECK(state_size(s) == 9);

        /* a frame that does not decode: the signer hangs up, exits 1 */
        {
                uint8_t junk[] = {0, 0, 0, 3, 1, 9, 9};
                uint8_t buf[TB_SIGNER_FRAME_MAX];
                size_t len;

                CHECK_ERR(signer_write_all(s->p.fd, junk, sizeof(junk)), 0);
                CHECK_ERR(signer_read_frame(s->p.fd, buf, &len), 0);
                CHECK_ERR(signer_stop(&s->p), 1);
        }
        tb_skey_free(other);
}

/* A state file some other key signed: the signer does not start. */
static void test_bad_state(struct sctx *s)
{
        char path[PATH_MAX + 64], saved[PATH_MAX + 64];
        struct tb_skey *other;
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t len;
        FILE *f;

        CHECK_ERR(tb_skey_generate(S_ORIGIN, strlen(S_ORIGIN), &other), TB_OK);
        s_path(path, s, SIGNER_STATE_FILE);
        s_path(saved, s, "signer.state.saved");
        CHECK(rename(path, saved) == 0);
        len = note_of(&s->b, 9, other, note);
        CHECK((f = fopen(path, "w")) != NULL);
        if (f) {
                CHECK(fwrite(note, 1, len, f) == len);
                CHECK(fclose(f) == 0);
        }
        CHECK_ERR(signer_start(s->dir, &s->p), -1);
        CHECK(rename(saved, path) == 0);
        tb_skey_free(other);
}

/* A sign_cb that fails once on demand (the signer lost between the two
 * commits of a batch), else asks the real signer process. */
struct flaky {
        struct signer_proc *p;
        int fail_next;
};

static enum ledger_err flaky_cb(void *ctx, const uint8_t *old_note,
                                size_t old_len, uint64_t new_size,
                                const uint8_t new_root[TB_HASH_SIZE],
                                const uint8_t (*proof)[TB_HASH_SIZE],
                                size_t count, uint8_t *note, size_t cap,
                                size_t *len)
{
        struct flaky *f = ctx;

        if (f->fail_next) {
                f->fail_next = 0;
                return LEDGER_E_SIGNER;
        }
        return signer_sign_cb(f->p, old_note, old_len, new_size, new_root,
                              proof, count, note, cap, len);
}

/* A ledger served through the signer process. */
static void test_ledger(void)
{
        struct tctx c;
        struct signer_proc p;
        struct flaky fl = {&p, 0};
        struct ledger_signer sg = {flaky_cb, &fl};
        struct ledger_options o;
        struct tb_checkpoint cp;
        uint8_t in_proc[TB_CHECKPOINT_MAX], served[TB_CHECKPOINT_MAX];
        size_t in_len, served_len;
        uint64_t size;
        char path[PATH_MAX + 64];
        int n;

        t_setup(&c);
        CHECK_ERR(signer_start(c.dir, &p), 0);
        ledger_close(c.l);
        ledger_options_default(&o);
        o.signer = &sg;
        CHECK_ERR(ledger_open(c.dir, &o, &c.l), LEDGER_OK);
        t_cast(&c);
        CHECK(t_checkpoint(&c, &cp) == 0 && cp.size == 5);
        CHECK_ERR(
            ledger_checkpoint(c.l, served, sizeof(served), &served_len, &size),
            LEDGER_OK);

        /* the signer is lost after the entries commit: not acknowledged,
         * the tree is ahead of its checkpoint */
        fl.fail_next = 1;
        CHECK_ERR(t_register(&c, &c.rec, "carol"), 999);
        CHECK(t_checkpoint(&c, &cp) == 0 && cp.size == 5);
        ledger_close(c.l);
        /* the next open signs it; the retry finds the entry there */
        CHECK_ERR(ledger_open(c.dir, &o, &c.l), LEDGER_OK);
        CHECK(t_checkpoint(&c, &cp) == 0 && cp.size == 6);
        CHECK_ERR(t_apply(&c, c.last, c.last_len), TB_ST_DUPLICATE);
        ledger_close(c.l);
        c.l = NULL;
        CHECK_ERR(signer_stop(&p), 0);

        /* the in-process signer's checkpoints are the same bytes: the full
         * check of t_teardown re-signs every one and compares */
        CHECK_ERR(ledger_open(c.dir, NULL, &c.l), LEDGER_OK);
        CHECK_ERR(
            ledger_checkpoint_at(c.l, 5, in_proc, sizeof(in_proc), &in_len),
            LEDGER_OK);
        CHECK(in_len == served_len && memcmp(in_proc, served, in_len) == 0);
        n = snprintf(path, sizeof(path), "%s/%s", c.dir, SIGNER_STATE_FILE);
        CHECK(n > 0 && (size_t)n < sizeof(path) && unlink(path) == 0);
        t_teardown(&c);
}

static void test_vectors(void)
{
        static struct docvec_set set;
        struct tb_signer_msg m;
        struct docvec *v;
        uint8_t *want, *b, *proof, out[TB_SIGNER_FRAME_MAX];
        size_t wlen, blen, plen, len;

        docvec_load(&set, "docs/signer.md");
        for (int i = 0; i < set.n; i++) {
                v = docvec_get(&set, set.v[i].name);
                want = docvec_hex(v, "hex", &wlen);
                CHECK_ERR(tb_signer_msg_decode(want + TB_SIGNER_HEADER,
                                               wlen - TB_SIGNER_HEADER, &m),
                          TB_OK);
                CHECK(tb_signer_msg_length(want) == wlen - TB_SIGNER_HEADER);
                CHECK((unsigned)m.type ==
                      strtoul(docvec_str(v, "type"), NULL, 10));
                b = proof = NULL;
                if (m.type == TB_SIGNER_SIGN || m.type == TB_SIGNER_SIGNED) {
                        b = docvec_hex(
                            v, m.type == TB_SIGNER_SIGN ? "old_note" : "note",
                            &blen);
                        CHECK(m.note_len == blen &&
                              memcmp(m.note, b, blen) == 0);
                }
                if (m.type == TB_SIGNER_SIGN) {
                        uint8_t *root = docvec_hex(v, "new_root", &len);

                        CHECK(len == TB_HASH_SIZE &&
                              memcmp(m.new_root, root, len) == 0);
                        free(root);
                        CHECK(m.new_size ==
                              strtoull(docvec_str(v, "new_size"), NULL, 10));
                        proof = docvec_hex(v, "proof", &plen);
                        CHECK(m.proof_len * TB_HASH_SIZE == plen &&
                              memcmp(m.proof, proof, plen) == 0);
                }
                if (m.type == TB_SIGNER_REFUSED) {
                        CHECK(m.reason ==
                              strtoul(docvec_str(v, "reason"), NULL, 10));
                        CHECK(strcmp(m.detail, docvec_str(v, "detail")) == 0);
                }
                /* and back: the same bytes */
                CHECK_ERR(tb_signer_msg_encode(&m, out, sizeof(out), &len),
                          TB_OK);
                CHECK(len == wlen && memcmp(out, want, wlen) == 0);
                free(b);
                free(proof);
                free(want);
        }
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
}

/* Hostile frames: every truncation of a valid SIGN fails to decode. */
static void test_decode_edges(void)
{
        uint8_t buf[TB_SIGNER_FRAME_MAX], root[TB_HASH_SIZE] = {0};
        struct tb_signer_msg m, d;
        size_t len;

        memset(&m, 0, sizeof(m));
        m.type = TB_SIGNER_SIGN;
        m.new_size = 7;
        memcpy(m.new_root, root, sizeof(root));
        m.proof = (const uint8_t(*)[TB_HASH_SIZE])root;
        m.proof_len = 1;
        CHECK_ERR(tb_signer_msg_encode(&m, buf, sizeof(buf), &len), TB_OK);
        for (size_t n = 0; n + TB_SIGNER_HEADER < len; n++)
                CHECK(tb_signer_msg_decode(buf + TB_SIGNER_HEADER, n, &d) !=
                      TB_OK);
        buf[TB_SIGNER_HEADER] = 2; /* version */
        CHECK_ERR(tb_signer_msg_decode(buf + TB_SIGNER_HEADER,
                                       len - TB_SIGNER_HEADER, &d),
                  TB_E_VERSION);
        m.proof_len = TB_MERKLE_MAX_PROOF + 1;
        CHECK_ERR(tb_signer_msg_encode(&m, buf, sizeof(buf), &len),
                  TB_E_MSG_FIELD);
}

int main(void)
{
        struct sctx s;
        char path[PATH_MAX + 64];
        const char *tmp = getenv("TMPDIR");

        if (sodium_init() < 0)
                return 2;
        memset(&s, 0, sizeof(s));
        snprintf(s.dir, sizeof(s.dir), "%s/tb-signer-test-XXXXXX",
                 tmp ? tmp : "/tmp");
        if (!mkdtemp(s.dir))
                return 2;
        CHECK_ERR(tb_skey_generate(S_ORIGIN, strlen(S_ORIGIN), &s.key), TB_OK);
        tb_skey_public(s.key, &s.vkey);
        s_path(path, &s, LEDGER_KEY_FILE);
        CHECK_ERR(tb_keyfile_write_secret(path, s.key), TB_OK);
        s_path(path, &s, LEDGER_PUB_FILE);
        CHECK_ERR(tb_keyfile_write_public(path, &s.vkey), TB_OK);
        hist_make(&s.a, 'a', 0, NULL);
        hist_make(&s.b, 'b', 3, &s.a);

        test_refusals(&s);
        test_bad_state(&s);
        test_ledger();
        test_vectors();
        test_decode_edges();

        tb_skey_free(s.key);
        for (const char *const *f =
                 (const char *const[]){LEDGER_KEY_FILE, LEDGER_PUB_FILE,
                                       SIGNER_STATE_FILE, NULL};
             *f; f++) {
                s_path(path, &s, *f);
                CHECK(unlink(path) == 0);
        }
        CHECK(rmdir(s.dir) == 0);
        return check_done("test_ledger_signer");
}
