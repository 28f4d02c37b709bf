/*
 * tests/e2e/systemd.c - e2e_systemd: timebankd under the two systemd
 * protocols it speaks without libsystemd, played here by the test as
 * systemd would: socket activation (the listening socket passed as fd 3
 * with LISTEN_FDS=1 and LISTEN_PID) and readiness notification (READY=1,
 * then STOPPING=1 on SIGTERM, as datagrams to NOTIFY_SOCKET).
 *
 *   systemd TIMEBANKD TIMEBANK
 *
 * Makes a ledger (timebankd init), binds the stream socket itself, starts
 * the daemon with it, waits for READY=1, runs the real CLI's `status`
 * against the passed socket, sends SIGTERM, expects STOPPING=1 and exit 0,
 * and checks the daemon left the socket file alone (systemd owns it).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

static char dir[256];

static void fail(const char *what)
{
        fprintf(stderr, "FAIL: %s (errno %s)\n", what, strerror(errno));
        exit(1);
}

static int bind_unix(int type, const char *path)
{
        struct sockaddr_un sa;
        int fd = socket(AF_UNIX, type, 0);

        if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
                fail("socket");
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
                fail("bind");
        return fd;
}

/* The next datagram on the notify socket, within 30 s. */
static void expect_notify(int fd, const char *want)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char buf[256];
        ssize_t n;

        if (poll(&p, 1, 30000) != 1)
                fail("no notification in time");
        if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0)
                fail("recv");
        buf[n] = 0;
        if (strcmp(buf, want) != 0) {
                fprintf(stderr, "FAIL: notified '%s', expected '%s'\n", buf,
                        want);
                exit(1);
        }
        printf("# notified %s\n", want);
}

int main(int argc, char **argv)
{
        char data[300], sock[300], notify[300], admin[300];
        char *keygen[6], *init[10], *status[6];
        int lfd, nfd, st;
        pid_t pid;
        struct stat sb;

        if (argc != 3) {
                fprintf(stderr, "usage: systemd TIMEBANKD TIMEBANK\n");
                return 2;
        }
        snprintf(dir, sizeof(dir), "%s/tb-systemd-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(dir) == NULL)
                fail("mkdtemp");
        snprintf(data, sizeof(data), "%s/data", dir);
        snprintf(sock, sizeof(sock), "%s/activated.sock", dir);
        snprintf(notify, sizeof(notify), "%s/notify", dir);
        snprintf(admin, sizeof(admin), "%s/admin.key", dir);

        keygen[0] = argv[2];
        keygen[1] = "keygen";
        keygen[2] = "admin";
        keygen[3] = "-o";
        keygen[4] = admin;
        keygen[5] = NULL;
        if (proc_run(keygen) != 0)
                fail("timebank keygen");
        strcat(admin, ".pub");
        init[0] = argv[1];
        init[1] = "init";
        init[2] = "-d";
        init[3] = data;
        init[4] = "--origin";
        init[5] = "systemd.example/ledger";
        init[6] = "--admin";
        init[7] = admin;
        init[8] = NULL;
        if (proc_run(init) != 0)
                fail("timebankd init");

        lfd = bind_unix(SOCK_STREAM, sock);
        if (listen(lfd, 16) != 0)
                fail("listen");
        nfd = bind_unix(SOCK_DGRAM, notify);
        printf("# systemd passes %s as fd 3\n", sock);
        if ((pid = fork()) < 0)
                fail("fork");
        if (pid == 0) {
                char pidbuf[32];
                /* as systemd does: the socket at fd 3, LISTEN_PID = the
                 * daemon's pid (kept across exec) */
                if (dup2(lfd, 3) < 0)
                        _exit(126);
                snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
                if (setenv("LISTEN_FDS", "1", 1) != 0 ||
                    setenv("LISTEN_PID", pidbuf, 1) != 0 ||
                    setenv("NOTIFY_SOCKET", notify, 1) != 0)
                        _exit(126);
                /* a socket path that must NOT be created: fd 3 wins */
                execl(argv[1], argv[1], "-d", data, "-s", "/nonexistent/x.sock",
                      (char *)NULL);
                _exit(127);
        }
        close(lfd);
        expect_notify(nfd, "READY=1");

        status[0] = argv[2];
        status[1] = "-s";
        status[2] = sock;
        status[3] = "status";
        status[4] = NULL;
        if (proc_run(status) != 0)
                fail("timebank status over the activated socket");

        if (kill(pid, SIGTERM) != 0)
                fail("kill");
        expect_notify(nfd, "STOPPING=1");
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail("the daemon did not exit 0 after SIGTERM");
        if (lstat(sock, &sb) != 0 || !S_ISSOCK(sb.st_mode))
                fail("the daemon removed the socket systemd owns");
        close(nfd);
        if (proc_rmtree(dir) != 0)
                fail("cleanup");
        printf("PASS\n");
        return 0;
}
