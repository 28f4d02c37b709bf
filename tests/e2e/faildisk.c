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
 *   statvfs KIB    statvfs() of any path reports KIB KiB available to an
 *                  unprivileged writer (f_bavail; the rest as the real
 *                  file system's): a nearly full disk for the ledger's
 *                  free-space guard, with nothing actually full
 *
 * Without the control file (or with anything else in it) every call goes
 * through.  The file is read at each call on the watched file, so a test
 * turns failures on and off while the process runs.  Each injected failure
 * is reported on stderr ("faildisk: fdatasync -> EIO").
 *
 * Interposed: open, open64, openat, openat64, close, the writes and syncs
 * above, statvfs.  Not instrumented itself (-fno-sanitize=all).
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
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload.h"

#define FAILDISK_FD_MAX 4096

static unsigned char faildisk_fd[FAILDISK_FD_MAX]; /* 1: the watched file */

static void preload_opened(int fd, const char *path, int flags)
{
        (void)flags;
        if (fd < FAILDISK_FD_MAX)
                faildisk_fd[fd] =
                    preload_name_is(path, "TB_FAILDISK_NAME", "data.mdb");
}

static void preload_closed(int fd)
{
        if (fd >= 0 && fd < FAILDISK_FD_MAX)
                faildisk_fd[fd] = 0;
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
            path == NULL ||
            (cfd = preload_real.open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return 0;
        n = read(cfd, line, sizeof(line) - 1);
        (void)preload_real.close(cfd);
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
                        (void)!preload_real.write(2, msg, (size_t)k);
        }
        return e;
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
        return preload_real.write(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
        FAILDISK_CHECK(fd, "write", "writev");
        return preload_real.writev(fd, iov, iovcnt);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
        FAILDISK_CHECK(fd, "write", "pwrite");
        return preload_real.pwrite(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
        FAILDISK_CHECK(fd, "write", "pwrite64");
        return preload_real.pwrite64(fd, buf, len, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
        FAILDISK_CHECK(fd, "write", "pwritev");
        return preload_real.pwritev(fd, iov, iovcnt, off);
}

int fsync(int fd)
{
        FAILDISK_CHECK(fd, "sync", "fsync");
        return preload_real.fsync(fd);
}

int fdatasync(int fd)
{
        FAILDISK_CHECK(fd, "sync", "fdatasync");
        return preload_real.fdatasync(fd);
}

/* "statvfs KIB" in the control file: the KiB to report, else -1. */
static long long faildisk_statvfs_kib(void)
{
        const char *path = getenv("TB_FAILDISK_CONTROL");
        char line[64], op[16];
        long long kib;
        int cfd;
        ssize_t n;

        if (path == NULL ||
            (cfd = preload_real.open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return -1;
        n = read(cfd, line, sizeof(line) - 1);
        (void)preload_real.close(cfd);
        if (n <= 0)
                return -1;
        line[n] = 0;
        if (sscanf(line, "%15s %lld", op, &kib) != 2 ||
            strcmp(op, "statvfs") != 0 || kib < 0)
                return -1;
        return kib;
}

int statvfs(const char *path, struct statvfs *buf)
{
        static int (*real)(const char *, struct statvfs *);
        long long kib;
        int rc;

        if (real == NULL &&
            (real = (int (*)(const char *, struct statvfs *))dlsym(
                 RTLD_NEXT, "statvfs")) == NULL) {
                errno = ENOSYS;
                return -1;
        }
        if ((rc = real(path, buf)) != 0 || (kib = faildisk_statvfs_kib()) < 0)
                return rc;
        if (buf->f_frsize == 0)
                buf->f_frsize = 4096;
        buf->f_bavail =
            (fsblkcnt_t)((unsigned long long)kib * 1024 / buf->f_frsize);
        {
                char msg[96];
                int k = snprintf(msg, sizeof(msg),
                                 "faildisk: statvfs -> %lld KiB\n", kib);
                if (k > 0)
                        (void)!preload_real.write(2, msg, (size_t)k);
        }
        return 0;
}
