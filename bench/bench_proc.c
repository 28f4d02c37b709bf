/*
 * bench/bench_proc.c - what /proc says about the daemon under test.  The
 * daemon may be another user's process: whatever cannot be read is
 * reported as unknown, never as zero.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <dirent.h>
#include <unistd.h>

#include "bench.h"

static int bench_proc_cpu(pid_t pid, double *cpu_s, double *sys_s,
                          uint64_t *minflt)
{
        char path[64], line[1024], *p;
        unsigned long long ut, st, mf;
        long tick = sysconf(_SC_CLK_TCK);
        FILE *f;
        int ok;

        snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
        if (tick <= 0 || (f = fopen(path, "r")) == NULL)
                return -1;
        ok = fgets(line, sizeof(line), f) != NULL;
        if (fclose(f) != 0 || !ok)
                return -1;
        /* the command name may hold spaces and parentheses: fields are
         * counted from the last ')' (field 2's end); minflt is field 10,
         * utime and stime are fields 14 and 15 */
        if ((p = strrchr(line, ')')) == NULL ||
            sscanf(p + 1,
                   " %*c %*d %*d %*d %*d %*d %*u %llu %*u %*u %*u %llu %llu",
                   &mf, &ut, &st) != 3)
                return -1;
        *cpu_s = (double)(ut + st) / (double)tick;
        *sys_s = (double)st / (double)tick;
        if (minflt != NULL)
                *minflt = mf;
        return 0;
}

/* Sum the "Name: N" lines of path whose name is in names (NULL-ended). */
static int bench_proc_sum(const char *path, const char *const *names,
                          uint64_t *sum)
{
        char line[256];
        FILE *f = fopen(path, "r");
        int found = 0;

        if (f == NULL)
                return -1;
        *sum = 0;
        while (fgets(line, sizeof(line), f) != NULL) {
                for (size_t i = 0; names[i] != NULL; i++) {
                        size_t k = strlen(names[i]);
                        unsigned long long v;

                        if (strncmp(line, names[i], k) == 0 &&
                            sscanf(line + k, " %llu", &v) == 1) {
                                *sum += v;
                                found = 1;
                        }
                }
        }
        if (fclose(f) != 0 || !found)
                return -1;
        return 0;
}

/* fn(dir, ctx) for each thread of pid, dir = "/proc/PID/task/TID"; stops
 * at the first fn that fails.  0, or -1. */
static int bench_proc_tasks(pid_t pid, int (*fn)(const char *dir, void *ctx),
                            void *ctx)
{
        char path[64];
        struct dirent *d;
        DIR *dp;
        int rc = 0;

        snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
        if ((dp = opendir(path)) == NULL)
                return -1;
        while (rc == 0 && (d = readdir(dp)) != NULL) {
                if (d->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/task/%.20s", (long)pid,
                         d->d_name);
                rc = fn(path, ctx);
        }
        if (closedir(dp) != 0)
                rc = -1;
        return rc;
}

/* One thread's children (their pids in DIR/children): CPU added to *ctx. */
static int bench_proc_task_children(const char *dir, void *ctx)
{
        double *cpu_s = ctx;
        char path[96];
        unsigned long long child;
        FILE *f;
        int rc = 0;

        snprintf(path, sizeof(path), "%s/children", dir);
        if ((f = fopen(path, "r")) == NULL)
                return -1;
        while (rc == 0 && fscanf(f, "%llu", &child) == 1) {
                double c, sys;
                if (bench_proc_cpu((pid_t)child, &c, &sys, NULL) == 0)
                        *cpu_s += c;
                else
                        rc = -1;
        }
        if (fclose(f) != 0)
                rc = -1;
        return rc;
}

/*
 * The CPU time of pid's children (timebankd's signer process): the pids
 * listed in /proc/PID/task/TID/children.  Reaped children are not counted,
 * so a phase's difference is right as long as the signer lives through it.
 */
static int bench_proc_children_cpu(pid_t pid, double *cpu_s)
{
        *cpu_s = 0;
        return bench_proc_tasks(pid, bench_proc_task_children, cpu_s);
}

struct bench_ctxsw {
        uint64_t vol, invol;
};

/* One thread's context switches (DIR/status), added to *ctx. */
static int bench_proc_task_ctxsw(const char *dir, void *ctx)
{
        static const char *const v[] = {"voluntary_ctxt_switches:", NULL};
        static const char *const nv[] = {"nonvoluntary_ctxt_switches:", NULL};
        struct bench_ctxsw *sw = ctx;
        char path[96];
        uint64_t a, b;

        snprintf(path, sizeof(path), "%s/status", dir);
        /* a thread may end between readdir and open: skip it */
        if (bench_proc_sum(path, v, &a) != 0 ||
            bench_proc_sum(path, nv, &b) != 0)
                return 0;
        sw->vol += a;
        sw->invol += b;
        return 0;
}

/* Context switches of every thread of pid (/proc/PID/task/TID/status). */
static int bench_proc_ctxsw(pid_t pid, uint64_t *vol, uint64_t *invol)
{
        struct bench_ctxsw sw = {0, 0};
        int rc = bench_proc_tasks(pid, bench_proc_task_ctxsw, &sw);

        *vol = sw.vol;
        *invol = sw.invol;
        return rc;
}

void bench_proc_read(pid_t pid, struct bench_proc *p)
{
        static const char *const io[] = {"write_bytes:", NULL};
        static const char *const wchar[] = {"wchar:", NULL};
        static const char *const hwm[] = {"VmHWM:", NULL};
        static const char *const rss[] = {"VmRSS:", NULL};
        static const char *const priv[] = {
            "Private_Clean:", "Private_Dirty:", "Private_Hugetlb:", NULL};
        static const char *const dirty[] = {"Private_Dirty:", NULL};
        static const char *const anon[] = {"Anonymous:", NULL};
        char path[64];

        memset(p, 0, sizeof(*p));
        if (pid <= 0)
                return;
        p->ok_cpu = bench_proc_cpu(pid, &p->cpu_s, &p->sys_s, &p->minflt) == 0;
        p->ok_child = bench_proc_children_cpu(pid, &p->child_cpu_s) == 0;
        p->ok_ctxsw =
            bench_proc_ctxsw(pid, &p->ctxsw_vol, &p->ctxsw_invol) == 0;
        snprintf(path, sizeof(path), "/proc/%ld/io", (long)pid);
        p->ok_io = bench_proc_sum(path, io, &p->write_bytes) == 0 &&
                   bench_proc_sum(path, wchar, &p->wchar) == 0;
        snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
        p->ok_mem = bench_proc_sum(path, hwm, &p->hwm_kib) == 0 &&
                    bench_proc_sum(path, rss, &p->rss_kib) == 0;
        snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
        p->ok_mem = p->ok_mem &&
                    bench_proc_sum(path, priv, &p->private_kib) == 0 &&
                    bench_proc_sum(path, dirty, &p->private_dirty_kib) == 0 &&
                    bench_proc_sum(path, anon, &p->anon_kib) == 0;
}

pid_t bench_proc_peer(const char *path)
{
        struct sockaddr_un sa;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int fd;
        pid_t pid = -1;

        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
                return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                pid = cred.pid;
        if (close(fd) != 0)
                return -1;
        return pid;
}

int bench_proc_data_dir(pid_t pid, char *out, size_t cap)
{
        char dirpath[64], link[PATH_MAX + 64], target[PATH_MAX];
        struct dirent *d;
        DIR *dp;
        int found = -1;

        snprintf(dirpath, sizeof(dirpath), "/proc/%ld/fd", (long)pid);
        if ((dp = opendir(dirpath)) == NULL)
                return -1;
        while (found != 0 && (d = readdir(dp)) != NULL) {
                ssize_t n;
                size_t k;

                snprintf(link, sizeof(link), "%s/%s", dirpath, d->d_name);
                n = readlink(link, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                k = (size_t)n;
                if (k > 9 && strcmp(target + k - 9, "/data.mdb") == 0 &&
                    k - 9 < cap) {
                        memcpy(out, target, k - 9);
                        out[k - 9] = '\0';
                        found = 0;
                }
        }
        if (closedir(dp) != 0)
                return -1;
        return found;
}
