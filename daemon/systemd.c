/*
 * daemon/systemd.c - socket activation and readiness notification.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "systemd.h"

#define SD_LISTEN_FDS_START 3

int systemd_listen_fd(void)
{
        const char *pid = getenv("LISTEN_PID");
        const char *fds = getenv("LISTEN_FDS");
        int rc = -1;

        if (pid != NULL && fds != NULL && atol(pid) == (long)getpid()) {
                if (strcmp(fds, "1") == 0) {
                        rc = SD_LISTEN_FDS_START;
                        if (fcntl(rc, F_SETFD, FD_CLOEXEC) != 0)
                                rc = -1;
                } else if (strcmp(fds, "0") != 0) {
                        rc = -2;
                }
        }
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        return rc;
}

int systemd_notify(const char *state)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa;
        socklen_t salen;
        size_t n;
        int fd;
        ssize_t sent;

        if (path == NULL || path[0] == 0)
                return 0;
        n = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path)) {
                errno = EINVAL;
                return -1;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@')
                sa.sun_path[0] = 0; /* abstract namespace */
        salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
                return -1;
        sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                      (struct sockaddr *)&sa, salen);
        (void)close(fd);
        return sent == (ssize_t)strlen(state) ? 0 : -1;
}
