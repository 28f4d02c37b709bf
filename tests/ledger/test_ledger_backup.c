/*
 * tests/ledger/test_ledger_backup.c - ledger_backup(), the compacting hot
 * copy (docs/operations.md, "Backups and restore").
 *
 * A quiet ledger: the copy (0700 directory, data.mdb 0600, log.pub, no
 * log.key) opens with log.pub alone, its checkpoint byte for byte the
 * live one, and replays all equal once given the key.  A copy taken
 * between a batch's two commits (from inside the sign callback, by a child
 * process: LMDB forbids one process two handles on one environment) ends
 * at the checkpoint the live ledger signs for that size, waited for; with
 * a wait too short it is refused and leaves nothing behind.  A target that
 * is not empty, a directory without a ledger, a ledger without log.pub or
 * with another key's are refused.  A copy taken while account and idem
 * rows are behind (format 4) equals the live ledger once opened, and a
 * retry against it is DUPLICATE.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "keyfile.h"
#include "ledger_test.h"

static void path_of(char *out, const char *dir, const char *name)
{
        int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

        if (n < 0 || n >= PATH_MAX)
                abort();
}

static int exists(const char *dir, const char *name)
{
        char p[PATH_MAX];
        struct stat st;

        path_of(p, dir, name);
        return lstat(p, &st) == 0;
}

static unsigned mode_of(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
}

static void copy_file(const char *from_dir, const char *to_dir,
                      const char *name)
{
        char from[PATH_MAX], to[PATH_MAX], buf[4096];
        ssize_t n;
        int in, out;

        path_of(from, from_dir, name);
        path_of(to, to_dir, name);
        in = open(from, O_RDONLY | O_CLOEXEC);
        out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        CHECK(in >= 0 && out >= 0);
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
                CHECK(write(out, buf, (size_t)n) == n);
        if (in >= 0)
                CHECK(close(in) == 0);
        if (out >= 0)
                CHECK(close(out) == 0);
}

static void rm_copy(const char *dir)
{
        static const char *const names[] = {"data.mdb", "lock.mdb", "log.key",
                                            "log.pub", "file"};
        char p[PATH_MAX];

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                path_of(p, dir, names[i]);
                (void)unlink(p);
        }
        (void)rmdir(dir);
}

/* A signer that signs nothing: a copy must open without one. */
static enum ledger_err none_cb(void *ctx, const uint8_t *old_note,
                               size_t old_len, uint64_t new_size,
                               const uint8_t new_root[TB_HASH_SIZE],
                               const uint8_t (*proof)[TB_HASH_SIZE],
                               size_t count, uint8_t *note, size_t cap,
                               size_t *len)
{
        (void)ctx, (void)old_note, (void)old_len, (void)new_size;
        (void)new_root, (void)proof, (void)count, (void)note, (void)cap;
        (void)len;
        return LEDGER_E_SIGNER;
}

/* The copy in dir: opens with log.pub alone (no signing), at the latest
 * checkpoint of the live ledger l of that size, byte for byte; replays
 * all equal once given the key. */
static void check_copy(struct ledger *live, const char *live_dir,
                       const char *dir, uint64_t size)
{
        static const struct ledger_signer none = {none_cb, NULL};
        struct ledger_options o;
        struct ledger *c = NULL;
        struct ledger_check_report rep;
        uint8_t a[TB_CHECKPOINT_MAX], b[TB_CHECKPOINT_MAX];
        size_t alen = 0, blen = 0;
        uint64_t got = 0;
        char p[PATH_MAX];

        CHECK(mode_of(dir) == 0700);
        path_of(p, dir, "data.mdb");
        CHECK(mode_of(p) == 0600);
        CHECK(exists(dir, "log.pub") && !exists(dir, "log.key") &&
              !exists(dir, "signer.state") && !exists(dir, "lock.mdb") &&
              !exists(dir, "data.mdb.tmp"));
        ledger_options_default(&o);
        o.signer = &none;
        CHECK_ERR(ledger_open(dir, &o, &c), LEDGER_OK);
        if (!c)
                return;
        CHECK_ERR(ledger_checkpoint(c, a, sizeof(a), &alen, &got), LEDGER_OK);
        CHECK(got == size);
        CHECK_ERR(ledger_checkpoint_at(live, size, b, sizeof(b), &blen),
                  LEDGER_OK);
        CHECK(alen == blen && memcmp(a, b, alen) == 0);
        ledger_close(c);
        copy_file(live_dir, dir, "log.key");
        CHECK_ERR(ledger_open(dir, NULL, &c), LEDGER_OK);
        if (!c)
                return;
        CHECK_ERR(ledger_check_full(c, NULL, &rep), LEDGER_OK);
        CHECK(rep.mismatches == 0 && rep.entries == size);
        ledger_close(c);
}

/* A signer in this process that, before signing, has a child back the
 * ledger up: the entries of the batch are committed, its checkpoint not. */
struct mid {
        struct tb_skey *key;
        const char *dir, *dest;
        unsigned wait_ms;
        int armed;
        int wait_child; /* sign only once the child has given up */
        pid_t child;
        int pipe_r;
};

static void mid_backup_child(struct mid *m, int fd)
{
        struct {
                int err;
                struct ledger_backup_info info;
        } r;

        memset(&r, 0, sizeof(r));
        r.err = (int)ledger_backup(m->dir, m->dest, m->wait_ms, &r.info);
        if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
                _exit(2);
        _exit(0);
}

static enum ledger_err mid_cb(void *ctx, const uint8_t *old_note,
                              size_t old_len, uint64_t new_size,
                              const uint8_t new_root[TB_HASH_SIZE],
                              const uint8_t (*proof)[TB_HASH_SIZE],
                              size_t count, uint8_t *note, size_t cap,
                              size_t *len)
{
        const struct timespec tick = {0, 10 * 1000 * 1000};
        struct mid *m = ctx;
        struct tb_checkpoint cp;
        int fds[2], st;

        (void)old_note, (void)old_len, (void)proof, (void)count;
        if (m->armed) {
                m->armed = 0;
                if (pipe(fds) != 0)
                        abort();
                m->child = fork();
                if (m->child < 0)
                        abort();
                if (m->child == 0) {
                        (void)close(fds[0]);
                        mid_backup_child(m, fds[1]);
                }
                (void)close(fds[1]);
                m->pipe_r = fds[0];
                /* sign only once the copy is taken (data.mdb renamed into
                 * place), or the child is done; 120 s for valgrind */
                for (int i = 0; i < 12000 &&
                                (m->wait_child || !exists(m->dest, "data.mdb"));
                     i++) {
                        if (waitpid(m->child, &st, WNOHANG) == m->child) {
                                m->child = -st - 1; /* reaped */
                                break;
                        }
                        (void)nanosleep(&tick, NULL);
                }
        }
        memset(&cp, 0, sizeof(cp));
        snprintf(cp.origin, sizeof(cp.origin), "%s", T_ORIGIN);
        cp.origin_len = strlen(cp.origin);
        cp.size = new_size;
        memcpy(cp.root, new_root, TB_HASH_SIZE);
        return tb_checkpoint_sign(&cp, m->key, note, cap, len) == TB_OK
                   ? LEDGER_OK
                   : LEDGER_E_CRYPTO;
}

/* The child's answer; waits for it to exit 0. */
static int mid_result(struct mid *m, struct ledger_backup_info *info)
{
        struct {
                int err;
                struct ledger_backup_info info;
        } r;
        int st = 0;

        CHECK(read(m->pipe_r, &r, sizeof(r)) == (ssize_t)sizeof(r));
        CHECK(close(m->pipe_r) == 0);
        if (m->child > 0)
                CHECK(waitpid(m->child, &st, 0) == m->child);
        else
                st = -(m->child + 1);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        *info = r.info;
        return r.err;
}

static void test_mid_batch(void)
{
        struct tctx c;
        struct mid m;
        struct ledger_signer sg = {mid_cb, &m};
        struct ledger_options o;
        struct ledger_backup_info info;
        struct tb_checkpoint cp;
        char dest[PATH_MAX], key[PATH_MAX];

        t_setup(&c);
        t_cast(&c);
        memset(&m, 0, sizeof(m));
        path_of(key, c.dir, "log.key");
        CHECK_ERR(tb_keyfile_read_secret(key, &m.key), TB_OK);
        path_of(dest, c.dir, "mid");
        m.dir = c.dir;
        m.dest = dest;
        m.wait_ms = 60000;
        ledger_close(c.l);
        ledger_options_default(&o);
        o.signer = &sg;
        CHECK_ERR(ledger_open(c.dir, &o, &c.l), LEDGER_OK);

        /* caught between the commits: completed with the live note */
        m.armed = 1;
        CHECK_ERR(t_register(&c, &c.rec, "carol"), TB_ST_OK);
        CHECK_ERR(mid_result(&m, &info), LEDGER_OK);
        CHECK(info.completed == 1 && info.size == 6 && info.bytes > 0);
        CHECK(t_checkpoint(&c, &cp) == 0 && cp.size == 6);
        check_copy(c.l, c.dir, dest, 6);
        rm_copy(dest);

        /* no checkpoint within the wait: refused, nothing left */
        m.wait_ms = 50;
        m.wait_child = 1;
        m.armed = 1;
        CHECK_ERR(t_register(&c, &c.rec, "dave"), TB_ST_OK);
        CHECK_ERR(mid_result(&m, &info), LEDGER_E_CHECK);
        CHECK(!exists(c.dir, "mid"));

        tb_skey_free(m.key);
        t_reopen(&c);
        t_teardown(&c);
}

static void test_quiet_and_refusals(void)
{
        struct tctx c;
        struct ledger_backup_info info;
        char dest[PATH_MAX], other[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
        char text[TB_VKEY_MAX + 1];
        struct tb_vkey vk;
        size_t len;
        int fd;

        t_setup(&c);
        t_cast(&c);
        CHECK_ERR(t_register(&c, &c.rec, "carol"), TB_ST_OK);
        path_of(dest, c.dir, "copy");

        CHECK_ERR(ledger_backup(c.dir, dest, 1000, &info), LEDGER_OK);
        CHECK(info.completed == 0 && info.size == 6 && info.bytes > 0);
        check_copy(c.l, c.dir, dest, 6);

        /* a target that is not empty; nothing in it touched */
        path_of(p, dest, "log.key");
        CHECK(unlink(p) == 0);
        CHECK_ERR(ledger_backup(c.dir, dest, 1000, &info), LEDGER_E_EXISTS);
        CHECK(exists(dest, "data.mdb") && exists(dest, "log.pub"));
        rm_copy(dest);

        /* an existing empty directory is fine */
        CHECK(mkdir(dest, 0700) == 0);
        CHECK_ERR(ledger_backup(c.dir, dest, 1000, &info), LEDGER_OK);
        rm_copy(dest);

        /* a directory that holds no ledger: no target made */
        path_of(other, c.dir, "empty");
        CHECK(mkdir(other, 0700) == 0);
        CHECK_ERR(ledger_backup(other, dest, 1000, &info), LEDGER_E_NO_LEDGER);
        CHECK(!exists(c.dir, "copy"));

        /* without log.pub, or with another key's: refused, nothing left */
        path_of(p, c.dir, "log.pub");
        path_of(q, c.dir, "log.pub.saved");
        CHECK(rename(p, q) == 0);
        CHECK_ERR(ledger_backup(c.dir, dest, 1000, &info), LEDGER_E_KEY);
        CHECK(!exists(c.dir, "copy"));
        /* the same name, another key: a well-formed log.pub */
        CHECK_ERR(tb_vkey_from_pk(T_ORIGIN, strlen(T_ORIGIN), c.other.pk, &vk),
                  TB_OK);
        CHECK_ERR(tb_vkey_format(&vk, text, sizeof(text), &len), TB_OK);
        text[len++] = '\n';
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        CHECK(fd >= 0);
        if (fd >= 0) {
                CHECK(write(fd, text, len) == (ssize_t)len);
                CHECK(close(fd) == 0);
        }
        CHECK_ERR(ledger_backup(c.dir, dest, 1000, &info), LEDGER_E_KEY);
        CHECK(!exists(c.dir, "copy"));
        CHECK(unlink(p) == 0 && rename(q, p) == 0);
        CHECK(rmdir(other) == 0);
        t_teardown(&c);
}

/* A copy taken while account and idem rows are behind (format 4): it
 * holds neither, its open derives them again from the log; the copy then
 * equals the live ledger (full check, balances) and a retry of the last
 * request is answered DUPLICATE with its seq, not credited again. */
static void test_rows_behind(void)
{
        struct ledger_options o;
        struct ledger_backup_info info;
        struct tb_balance_info a, b;
        struct ledger_result res;
        struct ledger *copy = NULL;
        struct tctx c;
        char dest[PATH_MAX];
        uint64_t seq;
        unsigned i;

        ledger_options_default(&o);
        o.accounts_behind = 1000; /* none flushed before the copy */
        t_setup_opts(&c, &o);
        t_cast(&c);
        CHECK_ERR(t_register(&c, &c.rec, "carol"), TB_ST_OK);
        CHECK_ERR(t_register(&c, &c.rec, "dave"), TB_ST_OK);
        for (i = 0; i < 5; i++)
                CHECK_ERR(t_service(&c, &c.rec, i % 2 ? "carol" : "dave",
                                    T_NOW - 86400 + (int64_t)i * 3600, 30, ""),
                          TB_ST_OK);
        seq = c.res.seq;
        CHECK_ERR(ledger_balance(c.l, "dave", &a), LEDGER_OK);
        CHECK(a.balance > 0 && a.last_seq == seq);
        CHECK(ledger_accounts_rows_behind(c.l) >= 2); /* carol, dave */
        path_of(dest, c.dir, "copy");
        CHECK_ERR(ledger_backup(c.dir, dest, 1000, &info), LEDGER_OK);
        check_copy(c.l, c.dir, dest, seq + 1);
        CHECK_ERR(ledger_open(dest, NULL, &copy), LEDGER_OK);
        if (copy) {
                struct ledger_item it = {c.last, c.last_len, c.now, 0};

                CHECK_ERR(ledger_balance(copy, "dave", &b), LEDGER_OK);
                CHECK(memcmp(&a, &b, sizeof(a)) == 0);
                memset(&res, 0, sizeof(res));
                CHECK_ERR(ledger_apply_batch(copy, &it, 1, &res), LEDGER_OK);
                CHECK_ERR(res.status, TB_ST_DUPLICATE);
                CHECK(res.seq == seq);
                CHECK_ERR(ledger_balance(copy, "dave", &b), LEDGER_OK);
                CHECK(b.balance == a.balance);
                ledger_close(copy);
        }
        rm_copy(dest);
        t_teardown(&c);
}

int main(void)
{
        test_quiet_and_refusals();
        test_mid_batch();
        test_rows_behind();
        return check_done("test_ledger_backup");
}
