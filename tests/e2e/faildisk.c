/*
 * tests/e2e/faildisk.c - an LD_PRELOAD layer that makes the storage fail on
 * demand, for e2e_storage_failure and e2e_storage_full.
 *
 * It watches one file (basename TB_FAILDISK_NAME, default "data.mdb").
 * While the control file TB_FAILDISK_CONTROL exists, it holds "OP ERRNO":
 *
 *   sync EIO       fsync()/fdatasync() of the file fail with EIO and do
 *                  nothing (what the kernel may answer after it could not
 *                  write back dirty pages: they may be lost)
 *   write EIO      write()/writev()/pwrite()/pwrite64()/pwritev() to the
 *                  file fail with EIO and write nothing
 *   write ENOSPC   the same with ENOSPC (a full file system: the fallback
 *                  where a test cannot mount a small one)
 *
 * Without the control file (or with anything else in it) every call goes
 * through.  The file is read at each call on the watched file, so a test
 * turns failures on and off while the process runs.  Each injected failure
 * is reported on stderr ("faildisk: fdatasync -> EIO").
 *
 * Interposed: open, open64, openat, openat64, close, the writes and syncs
 * above.  Not instrumented itself (-fno-sanitize=all).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define FAILDISK_FD_MAX 4096

static unsigned char faildisk_fd[FAILDISK_FD_MAX]; /* 1: the watched file */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void *faildisk_sym(const char *name)
{
        void *p = dlsym(RTLD_NEXT, name);

        if (p == NULL) {
                fprintf(stderr, "faildisk: no symbol %s\n", name);
                abort();
        }
        return p;
}

__attribute__((constructor)) static void faildisk_init(void)
{
        real_open = faildisk_sym("open");
        real_open64 = faildisk_sym("open64");
        real_openat = faildisk_sym("openat");
        real_openat64 = faildisk_sym("openat64");
        real_close = faildisk_sym("close");
        real_write = faildisk_sym("write");
        real_writev = faildisk_sym("writev");
        real_pwrite = faildisk_sym("pwrite");
        real_pwrite64 = faildisk_sym("pwrite64");
        real_pwritev = faildisk_sym("pwritev");
        real_fsync = faildisk_sym("fsync");
        real_fdatasync = faildisk_sym("fdatasync");
}

static void faildisk_opened(int fd, const char *path)
{
        const char *want = getenv("TB_FAILDISK_NAME");
        const char *base = strrchr(path, '/');

        base = base != NULL ? base + 1 : path;
        if (fd >= 0 && fd < FAILDISK_FD_MAX)
                faildisk_fd[fd] =
                    strcmp(base, want != NULL ? want : "data.mdb") == 0;
}

/*
 * The errno to fail a call of kind op ("sync" or "write") on fd with, or 0
 * to let it through.
 */
static int faildisk_errno(int fd, const char *op, const char *call)
{
        const char *path = getenv("TB_FAILDISK_CONTROL");
        char line[64], want_op[16], name[16];
        int cfd, e = 0;
        ssize_t n;

        if (fd < 0 || fd >= FAILDISK_FD_MAX || !faildisk_fd[fd] ||
            path == NULL || (cfd = real_open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return 0;
        n = read(cfd, line, sizeof(line) - 1);
        (void)real_close(cfd);
        if (n <= 0)
                return 0;
        line[n] = 0;
        if (sscanf(line, "%15s %15s", want_op, name) != 2 ||
            strcmp(want_op, op) != 0)
                return 0;
        if (strcmp(name, "EIO") == 0)
                e = EIO;
        else if (strcmp(name, "ENOSPC") == 0 && strcmp(op, "write") == 0)
                e = ENOSPC;
        if (e != 0) {
                char msg[96];
                int k = snprintf(msg, sizeof(msg), "faildisk: %s -> %s\n", call,
                                 name);

                if (k > 0)
                        (void)!real_write(2, msg, (size_t)k);
        }
        return e;
}

#define FAILDISK_OPEN(name, real, ...)                                         \
        do {                                                                   \
                mode_t mode = 0;                                               \
                int fd;                                                        \
                if (flags & (O_CREAT | O_TMPFILE)) {                           \
                        va_list ap;                                            \
                        va_start(ap, flags);                                   \
                        mode = va_arg(ap, mode_t);                             \
                        va_end(ap);                                            \
                }                                                              \
                fd = real(__VA_ARGS__, flags, mode);                           \
                faildisk_opened(fd, name);                                     \
                return fd;                                                     \
        } while (0)

int open(const char *path, int flags, ...)
{
        FAILDISK_OPEN(path, real_open, path);
}

int open64(const char *path, int flags, ...)
{
        FAILDISK_OPEN(path, real_open64, path);
}

int openat(int dirfd, const char *path, int flags, ...)
{
        FAILDISK_OPEN(path, real_openat, dirfd, path);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
        FAILDISK_OPEN(path, real_openat64, dirfd, path);
}

int close(int fd)
{
        if (fd >= 0 && fd < FAILDISK_FD_MAX)
                faildisk_fd[fd] = 0;
        return real_close(fd);
}

#define FAILDISK_CHECK(fd, op, call)                                           \
        do {                                                                   \
                int e_ = faildisk_errno(fd, op, call);                         \
                if (e_ != 0) {                                                 \
                        errno = e_;                                            \
                        return -1;                                             \
                }                                                              \
        } while (0)

ssize_t write(int fd, const void *buf, size_t len)
{
        FAILDISK_CHECK(fd, "write", "write");
        return real_write(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
        FAILDISK_CHECK(fd, "write", "writev");
        return real_writev(fd, iov, iovcnt);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
        FAILDISK_CHECK(fd, "write", "pwrite");
        return real_pwrite(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
        FAILDISK_CHECK(fd, "write", "pwrite64");
        return real_pwrite64(fd, buf, len, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
        FAILDISK_CHECK(fd, "write", "pwritev");
        return real_pwritev(fd, iov, iovcnt, off);
}

int fsync(int fd)
{
        FAILDISK_CHECK(fd, "sync", "fsync");
        return real_fsync(fd);
}

int fdatasync(int fd)
{
        FAILDISK_CHECK(fd, "sync", "fdatasync");
        return real_fdatasync(fd);
}
