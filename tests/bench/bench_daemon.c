/*
 * tests/bench/bench_daemon.c - what group commit buys: writes per second
 * through a real timebankd, from one client writing one request at a time
 * (each write its own transaction and fsync) to many clients pipelining
 * (the writer folds every waiting write into one transaction).
 *
 *   bench_daemon -D path/to/timebankd [-n WRITES] [-c CONNS] [-p DEPTH]
 *                [-i MAX_INFLIGHT]
 *
 * It makes a temporary ledger (timebankd init), starts the daemon on a
 * temporary socket, enrolls a key, runs two scenarios with the same number
 * of writes (1 connection x depth 1, then CONNS connections x depth DEPTH),
 * prints writes/s for each and their ratio, stops the daemon (SIGTERM) and
 * removes everything.  Every write must be answered OK.  Figures go to
 * docs/performance.md; compare the ratio, not the absolute numbers, on a
 * shared machine.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keyfile.h"
#include "proc.h"
#include "timebank.h"

static const char *timebankd = NULL;
static char dir[256], sock[300];
static struct tb_skey *admin, *terminal;
static pid_t daemon_pid = -1;

static void fail(const char *what)
{
        fprintf(stderr, "bench_daemon: %s\n", what);
        if (daemon_pid > 0)
                kill(daemon_pid, SIGTERM);
        exit(1);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct tb_client *connect_or_die(void)
{
        struct tb_client *c;

        for (int i = 0; i < 200; i++) {
                if (tb_client_connect(sock, 30000, &c) == TB_OK)
                        return c;
                usleep(20000);
        }
        fail("cannot connect to the daemon");
        return NULL;
}

/* Sign and submit one entry, synchronously; status must be OK. */
static void submit_sync(struct tb_client *c, struct tb_entry *e,
                        const struct tb_skey *k)
{
        struct tb_response *r = malloc(sizeof(*r));
        struct tb_vkey v;

        if (r == NULL)
                fail("out of memory");
        tb_skey_public(k, &v);
        tb_client_entry_init(e, e->kind, v.pk, NULL);
        if (tb_client_submit(c, e, k, r) != TB_OK || r->status != TB_ST_OK)
                fail("a setup write failed");
        free(r);
}

struct worker {
        int index;
        unsigned writes;
        unsigned depth;
        const char *origin;
        int failed;
        pthread_t thread;
};

/* One connection: register its account, then `writes` services, keeping
 * up to `depth` requests in flight. */
static void *worker_main(void *arg)
{
        struct worker *w = arg;
        struct tb_client *c = connect_or_die();
        struct tb_response *r = malloc(sizeof(*r));
        struct tb_entry e;
        struct tb_vkey v;
        unsigned sent = 0, answered = 0;
        uint8_t buf[TB_SIGNED_MAX];
        size_t len;

        if (r == NULL)
                fail("out of memory");
        tb_skey_public(terminal, &v);
        while (answered < w->writes) {
                while (sent < w->writes && sent - answered < w->depth) {
                        struct tb_request q;

                        memset(&e, 0, sizeof(e));
                        e.kind = TB_KIND_SERVICE;
                        tb_client_entry_init(&e, TB_KIND_SERVICE, v.pk, NULL);
                        snprintf(e.u.service.account,
                                 sizeof(e.u.service.account), "bench-%d",
                                 w->index);
                        /* distinct, non-overlapping, within the last 30 days */
                        e.u.service.start =
                            e.clock - 86400 * 20 + (int64_t)sent * 60;
                        e.u.service.minutes = 1;
                        if (tb_entry_encode(&e, buf, TB_BODY_MAX, &len) !=
                                TB_OK ||
                            tb_entry_sign_key(w->origin, buf, len, terminal,
                                              buf + len) != TB_OK)
                                fail("signing");
                        memset(&q, 0, sizeof(q));
                        q.type = TB_MSG_SUBMIT;
                        q.id = tb_client_next_id(c);
                        q.u.submit.signed_entry = buf;
                        q.u.submit.len = len + TB_SIG_SIZE;
                        if (tb_client_send(c, &q) != TB_OK)
                                fail("send");
                        sent++;
                }
                if (tb_client_recv(c, r) != TB_OK)
                        fail("recv");
                if (r->status != TB_ST_OK)
                        w->failed++;
                answered++;
        }
        free(r);
        tb_client_close(c);
        return NULL;
}

static double scenario(unsigned conns, unsigned depth, unsigned total,
                       const char *origin, int first_account)
{
        struct worker *w = calloc(conns, sizeof(*w));
        struct tb_client *c = connect_or_die();
        double t0, t;
        int failed = 0;

        if (w == NULL)
                fail("out of memory");
        for (unsigned i = 0; i < conns; i++) {
                struct tb_entry e;

                memset(&e, 0, sizeof(e));
                e.kind = TB_KIND_REGISTER;
                snprintf(e.u.reg.account, sizeof(e.u.reg.account), "bench-%d",
                         first_account + (int)i);
                submit_sync(c, &e, terminal);
                w[i].index = first_account + (int)i;
                w[i].writes = total / conns;
                w[i].depth = depth;
                w[i].origin = origin;
        }
        tb_client_close(c);
        t0 = now_s();
        for (unsigned i = 0; i < conns; i++)
                if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
                        fail("pthread_create");
        for (unsigned i = 0; i < conns; i++) {
                pthread_join(w[i].thread, NULL);
                failed += w[i].failed;
        }
        t = now_s() - t0;
        free(w);
        if (failed != 0)
                fail("some writes were not answered OK");
        return (double)(total / conns * conns) / t;
}

static void write_key(struct tb_skey **k, const char *name)
{
        char path[512];
        struct tb_vkey v;

        if (tb_skey_generate(name, strlen(name), k) != TB_OK)
                fail("keygen");
        snprintf(path, sizeof(path), "%s/%s.pub", dir, name);
        tb_skey_public(*k, &v);
        if (tb_keyfile_write_public(path, &v) != TB_OK)
                fail("writing a public key");
}

int main(int argc, char **argv)
{
        unsigned total = 2000, conns = 32, depth = 8, inflight = 0;
        char data[300], adminpub[300], conf[300], *init[10], *serve[8];
        struct tb_client *c;
        struct tb_entry e;
        const char *origin;
        double one, many;
        int opt, st;

        while ((opt = getopt(argc, argv, "D:n:c:p:i:")) != -1) {
                switch (opt) {
                case 'D':
                        timebankd = optarg;
                        break;
                case 'n':
                        total = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        conns = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'p':
                        depth = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'i':
                        inflight = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                default:
                        fprintf(stderr, "usage: bench_daemon -D TIMEBANKD [-n "
                                        "WRITES] [-c CONNS] [-p DEPTH] [-i "
                                        "MAX_INFLIGHT]\n");
                        return 2;
                }
        }
        if (timebankd == NULL || total == 0 || conns == 0 || depth == 0 ||
            total < conns)
                fail("usage: bench_daemon -D TIMEBANKD [-n WRITES] [-c CONNS] "
                     "[-p DEPTH] [-i MAX_INFLIGHT]");
        if (sodium_init() < 0)
                fail("sodium_init");
        snprintf(dir, sizeof(dir), "%s/tb-bench-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(dir) == NULL)
                fail("mkdtemp");
        snprintf(sock, sizeof(sock), "%s/sock", dir);
        snprintf(data, sizeof(data), "%s/data", dir);
        snprintf(adminpub, sizeof(adminpub), "%s/admin.pub", dir);
        write_key(&admin, "admin");
        write_key(&terminal, "terminal");

        init[0] = (char *)timebankd;
        init[1] = "init";
        init[2] = "-d";
        init[3] = data;
        init[4] = "--origin";
        init[5] = "bench.example/ledger";
        init[6] = "--admin";
        init[7] = adminpub;
        init[8] = NULL;
        if (proc_run(init) != 0)
                fail("timebankd init");
        serve[0] = (char *)timebankd;
        serve[1] = "-d";
        serve[2] = data;
        serve[3] = "-s";
        serve[4] = sock;
        serve[5] = NULL;
        if (inflight > 0) {
                /* a daemon that pauses each connection at this many
                 * unanswered writes: deeper pipelines must still finish */
                FILE *f;
                snprintf(conf, sizeof(conf), "%s/timebankd.conf", dir);
                if ((f = fopen(conf, "w")) == NULL ||
                    fprintf(f, "max_inflight = %u\n", inflight) < 0 ||
                    fclose(f) != 0)
                        fail("writing the config");
                serve[5] = "-c";
                serve[6] = conf;
                serve[7] = NULL;
        }
        if ((daemon_pid = fork()) == 0) {
                execv(serve[0], serve);
                _exit(127);
        }
        c = connect_or_die();
        if (tb_client_origin(c, &origin) != TB_OK)
                fail("status");
        memset(&e, 0, sizeof(e));
        e.kind = TB_KIND_ENROLL;
        tb_skey_public(terminal, &(struct tb_vkey){0});
        {
                struct tb_vkey v;
                tb_skey_public(terminal, &v);
                memcpy(e.u.enroll.key, v.pk, TB_PUBKEY_SIZE);
                memcpy(e.u.enroll.name, v.name, v.name_len + 1);
        }
        e.u.enroll.roles = TB_ROLE_RECORD;
        submit_sync(c, &e, admin);

        printf("bench_daemon: %u writes per scenario (service entries, each "
               "signed, verified, committed durably)\n",
               total);
        one = scenario(1, 1, total, origin, 0);
        printf("  1 connection, 1 request at a time:   %9.0f writes/s\n", one);
        many = scenario(conns, depth, total, origin, 1);
        printf("  %u connections, %u in flight each:   %9.0f writes/s\n", conns,
               depth, many);
        printf("  group commit ratio: %.1fx\n", many / one);
        tb_client_close(c);

        kill(daemon_pid, SIGTERM);
        if (waitpid(daemon_pid, &st, 0) < 0 || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0)
                fail("the daemon did not stop cleanly");
        tb_skey_free(admin);
        tb_skey_free(terminal);
        if (proc_rmtree(dir) != 0)
                fail("cleanup");
        return 0;
}
