/*
 * bench/bench_setup.c - the ledger under test.  Either a private timebankd
 * on a scratch directory (init, serve, SIGTERM, remove), or a daemon that
 * already runs, which we only add to: fresh terminal keys enrolled with
 * its admin key, fresh accounts named after this run, so that a run never
 * touches anyone's accounts and two runs never collide.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "keyfile.h"
#include "timebank.h"

/* Run argv with stdout and stderr appended to log; its exit status or -1. */
static int bench_exec(char *const argv[], const char *log, int wait_it,
                      pid_t *pid)
{
        pid_t p = fork();
        int st;

        if (p < 0)
                return bench_fail("fork: %s", strerror(errno));
        if (p == 0) {
                int fd =
                    open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(126);
                execv(argv[0], argv);
                _exit(127);
        }
        if (!wait_it) {
                *pid = p;
                return 0;
        }
        if (waitpid(p, &st, 0) < 0)
                return bench_fail("waitpid: %s", strerror(errno));
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct tb_client *bench_client(const struct bench_ledger *l)
{
        struct tb_client *c;

        for (int i = 0; i < 500; i++) {
                if (tb_client_connect(l->sock, 60000, &c) == TB_OK)
                        return c;
                if (l->own && waitpid(l->pid, NULL, WNOHANG) == l->pid) {
                        bench_fail("timebankd exited at start: see %s/"
                                   "timebankd.log",
                                   l->dir);
                        return NULL;
                }
                (void)usleep(20000);
        }
        bench_fail("nothing answers on %s", l->sock);
        return NULL;
}

/*
 * One read q on a fresh connection; *out (malloc'd, the caller frees it)
 * gets the answer, which must be OK, else what says what failed.  Returns
 * 0 or -1 (reported).
 */
static int bench_read(const struct bench_ledger *l, struct tb_request *q,
                      const char *what, struct tb_response **out)
{
        struct tb_response *r = malloc(sizeof(*r));
        struct tb_client *c = bench_client(l);
        int rc = 0;

        *out = NULL;
        if (r == NULL || c == NULL) {
                free(r);
                tb_client_close(c);
                return c == NULL ? -1 : bench_fail("out of memory");
        }
        if (tb_client_call(c, q, r) != TB_OK || r->status != TB_ST_OK) {
                rc = bench_fail("%s failed", what);
                free(r);
        } else {
                *out = r;
        }
        tb_client_close(c);
        return rc;
}

/* Ask the origin and draw this run's tag. */
static int bench_hello(struct bench_ledger *l)
{
        struct tb_client *c = bench_client(l);
        const char *origin;
        uint8_t tag[4];

        if (c == NULL)
                return -1;
        if (tb_client_origin(c, &origin) != TB_OK) {
                tb_client_close(c);
                return bench_fail("STATUS failed on %s", l->sock);
        }
        snprintf(l->origin, sizeof(l->origin), "%s", origin);
        tb_client_close(c);
        randombytes_buf(tag, sizeof(tag));
        snprintf(l->run, sizeof(l->run), "%02x%02x%02x%02x", tag[0], tag[1],
                 tag[2], tag[3]);
        return 0;
}

int bench_ledger_start(struct bench_ledger *l, const char *timebankd,
                       unsigned conns, unsigned inflight,
                       const char *const *sets, unsigned nsets,
                       struct tb_skey **admin)
{
        const char *tmp = getenv("TMPDIR");
        char pub[320], conf[320], log[320];
        char *init[] = {(char *)timebankd, "init",    "-d", l->data, "--origin",
                        BENCH_ORIGIN,      "--admin", pub,  NULL};
        char *serve[] = {(char *)timebankd, "-d", l->data, "-s",
                         l->sock,           "-c", conf,    NULL};
        struct tb_vkey v;
        FILE *f;

        snprintf(l->dir, sizeof(l->dir), "%s/timebank-bench-XXXXXX",
                 tmp ? tmp : "/tmp");
        if (mkdtemp(l->dir) == NULL) {
                l->dir[0] = '\0';
                return bench_fail("mkdtemp: %s", strerror(errno));
        }
        l->own = 1;
        snprintf(l->sock, sizeof(l->sock), "%s/sock", l->dir);
        snprintf(l->data, sizeof(l->data), "%s/data", l->dir);
        snprintf(pub, sizeof(pub), "%s/admin.pub", l->dir);
        snprintf(conf, sizeof(conf), "%s/timebankd.conf", l->dir);
        snprintf(log, sizeof(log), "%s/timebankd.log", l->dir);
        if (tb_skey_generate("bench-admin", 11, admin) != TB_OK)
                return bench_fail("cannot make the admin key");
        tb_skey_public(*admin, &v);
        if (tb_keyfile_write_public(pub, &v) != TB_OK)
                return bench_fail("cannot write %s", pub);
        if (bench_exec(init, log, 1, NULL) != 0)
                return bench_fail("%s init failed: see %s", timebankd, log);
        /* the defaults but for what the load needs: a connection per
         * terminal and room for the pipeline's depth */
        if ((f = fopen(conf, "w")) == NULL)
                return bench_fail("%s: %s", conf, strerror(errno));
        if (fprintf(f, "max_connections = %u\nmax_inflight = %u\n",
                    conns + 16 > 256 ? conns + 16 : 256,
                    inflight > 64 ? inflight : 64) < 0) {
                (void)fclose(f);
                return bench_fail("writing %s: %s", conf, strerror(errno));
        }
        for (unsigned i = 0; i < nsets; i++) {
                const char *eq = strchr(sets[i], '=');
                if (fprintf(f, "%.*s = %s\n", (int)(eq - sets[i]), sets[i],
                            eq + 1) < 0) {
                        (void)fclose(f);
                        return bench_fail("writing %s: %s", conf,
                                          strerror(errno));
                }
        }
        if (fclose(f) != 0)
                return bench_fail("writing %s: %s", conf, strerror(errno));
        if (bench_exec(serve, log, 0, &l->pid) != 0)
                return -1;
        return bench_hello(l);
}

int bench_ledger_attach(struct bench_ledger *l, const char *sock,
                        const char *data_dir)
{
        snprintf(l->sock, sizeof(l->sock), "%s", sock);
        l->pid = bench_proc_peer(sock);
        if (data_dir != NULL)
                snprintf(l->data, sizeof(l->data), "%s", data_dir);
        else if (l->pid <= 0 ||
                 bench_proc_data_dir(l->pid, l->data, sizeof(l->data)) != 0)
                l->data[0] = '\0';
        return bench_hello(l);
}

static int bench_rm_one(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
        (void)sb;
        (void)ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int bench_ledger_stop(struct bench_ledger *l)
{
        int rc = 0, st;

        if (l->own && l->pid > 0) {
                if (kill(l->pid, SIGTERM) != 0 || waitpid(l->pid, &st, 0) < 0)
                        rc = bench_fail("stopping timebankd: %s",
                                        strerror(errno));
                else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        rc = bench_fail("timebankd did not stop cleanly: see "
                                        "%s/timebankd.log",
                                        l->dir);
                l->pid = -1;
        }
        if (rc == 0 && l->own && l->dir[0] != '\0' &&
            nftw(l->dir, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
                rc = bench_fail("removing %s: %s", l->dir, strerror(errno));
        for (unsigned c = 0; l->keys != NULL && c < l->conns; c++)
                tb_skey_free(l->keys[c]);
        free(l->keys);
        l->keys = NULL;
        return rc;
}

static int bench_enroll(struct bench_ledger *l, const struct tb_skey *admin)
{
        struct tb_response *r = malloc(sizeof(*r));
        struct tb_client *c = bench_client(l);
        struct tb_vkey av, v;
        int rc = 0;

        l->keys = calloc(l->conns, sizeof(*l->keys));
        if (r == NULL || c == NULL || l->keys == NULL) {
                free(r);
                tb_client_close(c);
                return c == NULL ? -1 : bench_fail("out of memory");
        }
        tb_skey_public(admin, &av);
        for (unsigned k = 0; k < l->conns && rc == 0; k++) {
                char name[64];
                struct tb_entry e;

                snprintf(name, sizeof(name), "bench-%s-%u", l->run, k);
                if (tb_skey_generate(name, strlen(name), &l->keys[k]) !=
                    TB_OK) {
                        rc = bench_fail("cannot make a terminal key");
                        break;
                }
                tb_skey_public(l->keys[k], &v);
                memset(&e, 0, sizeof(e));
                tb_client_entry_init(&e, TB_KIND_ENROLL, av.pk, NULL);
                memcpy(e.u.enroll.key, v.pk, TB_PUBKEY_SIZE);
                memcpy(e.u.enroll.name, v.name, v.name_len + 1);
                e.u.enroll.roles = TB_ROLE_RECORD | TB_ROLE_REDEEM;
                if (tb_client_submit(c, &e, admin, r) != TB_OK ||
                    r->status != TB_ST_OK)
                        rc = bench_fail("enrolling a terminal key failed%s",
                                        r->status == TB_ST_ROLE_FORBIDDEN ||
                                                r->status == TB_ST_UNKNOWN_KEY
                                            ? ": is --admin-key the admin's?"
                                            : "");
        }
        free(r);
        tb_client_close(c);
        return rc;
}

/* Run a setup step through the pipeline; every answer must be OK. */
static int bench_setup_step(struct bench_ledger *l, int step, unsigned depth)
{
        struct bench_script *s;
        struct bench_run run;
        int rc;

        if (bench_scripts_setup(l, step, &s) != 0)
                return -1;
        rc = bench_load_run(l->sock, s, l->conns, depth, 0, &run);
        if (rc == 0 && run.kind[BENCH_SETUP].failed != 0)
                rc =
                    bench_fail("%s: %llu refused, the first %u '%s'",
                               step == 0 ? "registering the accounts"
                                         : "funding the accounts",
                               (unsigned long long)run.kind[BENCH_SETUP].failed,
                               run.kind[BENCH_SETUP].first_status,
                               run.kind[BENCH_SETUP].first_msg);
        bench_run_free(&run);
        bench_scripts_free(s, l->conns);
        return rc;
}

/* The balance the funding gave account 0: how many redeems each may do. */
static int bench_funded(struct bench_ledger *l)
{
        struct tb_response *r;
        struct tb_request q;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_BALANCE;
        snprintf(q.u.balance.account, sizeof(q.u.balance.account), "bench-%s-0",
                 l->run);
        if (bench_read(l, &q, "BALANCE of a funded account", &r) != 0)
                return -1;
        l->funded = r->u.balance.balance;
        free(r);
        return 0;
}

int bench_ledger_prepare(struct bench_ledger *l, const struct tb_skey *admin,
                         unsigned accounts, unsigned depth)
{
        l->accounts = accounts;
        l->base = (int64_t)time(NULL) / 3600 * 3600 - 28 * 86400;
        if (bench_enroll(l, admin) != 0 || bench_setup_step(l, 0, depth) != 0 ||
            bench_setup_step(l, 1, depth) != 0)
                return -1;
        return bench_funded(l);
}

int bench_ledger_batches(const struct bench_ledger *l, uint64_t *batches,
                         uint64_t *writes)
{
        struct tb_response *r;
        struct tb_request q;
        int found = 0;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_STATS;
        if (bench_read(l, &q, "STATS", &r) != 0)
                return -1;
        for (unsigned i = 0; i < r->u.stats.count; i++) {
                const struct tb_stat *st = &r->u.stats.items[i];
                if (strcmp(st->name, "batches_total") == 0) {
                        *batches = st->value;
                        found |= 1;
                } else if (strcmp(st->name, "batch_writes_total") == 0) {
                        *writes = st->value;
                        found |= 2;
                }
        }
        free(r);
        return found == 3 ? 0 : -1;
}

int bench_ledger_status(const struct bench_ledger *l, uint64_t *tree_size,
                        uint64_t *disk_bytes)
{
        struct tb_response *r;
        struct tb_request q;

        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_STATUS;
        if (bench_read(l, &q, "STATUS", &r) != 0)
                return -1;
        *tree_size = r->u.status.tree_size;
        *disk_bytes = r->u.status.disk_bytes;
        free(r);
        return 0;
}

int bench_find_timebankd(char *out, size_t cap)
{
        char self[PATH_MAX], *slash, *path, *save = NULL, *dir;
        const char *env = getenv("PATH");
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n > 0) {
                self[n] = '\0';
                if ((slash = strrchr(self, '/')) != NULL)
                        *slash = '\0';
                /* next to us (a build tree's layout), then the installed
                 * layout: bin/timebank-bench, sbin/timebankd */
                snprintf(out, cap, "%s/timebankd", self);
                if (access(out, X_OK) == 0)
                        return 0;
                snprintf(out, cap, "%s/../sbin/timebankd", self);
                if (access(out, X_OK) == 0)
                        return 0;
                snprintf(out, cap, "%s/../daemon/timebankd", self);
                if (access(out, X_OK) == 0)
                        return 0;
        }
        if ((path = strdup(env ? env : "/usr/sbin:/usr/bin")) == NULL)
                return bench_fail("out of memory");
        for (dir = strtok_r(path, ":", &save); dir != NULL;
             dir = strtok_r(NULL, ":", &save)) {
                snprintf(out, cap, "%s/timebankd", dir);
                if (access(out, X_OK) == 0) {
                        free(path);
                        return 0;
                }
        }
        free(path);
        snprintf(out, cap, "/usr/sbin/timebankd");
        if (access(out, X_OK) == 0)
                return 0;
        return bench_fail("no timebankd next to this program or on PATH: "
                          "give --timebankd PATH, or --socket");
}
