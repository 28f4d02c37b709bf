/*
 * tests/e2e/preload.h - what the LD_PRELOAD layers of the end-to-end tests
 * (powercut.c, faildisk.c) share: the real functions they wrap, found with
 * dlsym(RTLD_NEXT) before main, the basename test of the one file a layer
 * watches, and the open and close wrappers.  A layer defines
 *
 *   static void preload_opened(int fd, const char *path, int flags);
 *   static void preload_closed(int fd);
 *
 * before it includes this header (called after every successful open of
 * any path, and before every close), then wraps the write and sync calls
 * it cares about, calling preload_real.NAME for the real one.  Included
 * once per layer: it defines functions.
 */
#ifndef TB_PRELOAD_H
#define TB_PRELOAD_H

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static struct {
        int (*open)(const char *, int, ...);
        int (*open64)(const char *, int, ...);
        int (*openat)(int, const char *, int, ...);
        int (*openat64)(int, const char *, int, ...);
        int (*close)(int);
        ssize_t (*write)(int, const void *, size_t);
        ssize_t (*writev)(int, const struct iovec *, int);
        ssize_t (*pwrite)(int, const void *, size_t, off_t);
        ssize_t (*pwrite64)(int, const void *, size_t, off_t);
        ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
        int (*fsync)(int);
        int (*fdatasync)(int);
} preload_real;

static void preload_opened(int fd, const char *path, int flags);
static void preload_closed(int fd);

static void *preload_sym(const char *name)
{
        void *p = dlsym(RTLD_NEXT, name);

        if (p == NULL) {
                fprintf(stderr, "preload: no symbol %s\n", name);
                abort();
        }
        return p;
}

__attribute__((constructor)) static void preload_init(void)
{
        preload_real.write = preload_sym("write");
        preload_real.open = preload_sym("open");
        preload_real.open64 = preload_sym("open64");
        preload_real.openat = preload_sym("openat");
        preload_real.openat64 = preload_sym("openat64");
        preload_real.close = preload_sym("close");
        preload_real.writev = preload_sym("writev");
        preload_real.pwrite = preload_sym("pwrite");
        preload_real.pwrite64 = preload_sym("pwrite64");
        preload_real.pwritev = preload_sym("pwritev");
        preload_real.fsync = preload_sym("fsync");
        preload_real.fdatasync = preload_sym("fdatasync");
}

/* 1 if path's last component is $env, or dflt when env is unset. */
static int preload_name_is(const char *path, const char *env, const char *dflt)
{
        const char *want = getenv(env);
        const char *base = strrchr(path, '/');

        base = base != NULL ? base + 1 : path;
        return strcmp(base, want != NULL ? want : dflt) == 0;
}

#define PRELOAD_OPEN(path, real, ...)                                          \
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
                if (fd >= 0)                                                   \
                        preload_opened(fd, path, flags);                       \
                return fd;                                                     \
        } while (0)

int open(const char *path, int flags, ...)
{
        PRELOAD_OPEN(path, preload_real.open, path);
}

int open64(const char *path, int flags, ...)
{
        PRELOAD_OPEN(path, preload_real.open64, path);
}

int openat(int dirfd, const char *path, int flags, ...)
{
        PRELOAD_OPEN(path, preload_real.openat, dirfd, path);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
        PRELOAD_OPEN(path, preload_real.openat64, dirfd, path);
}

int close(int fd)
{
        preload_closed(fd);
        return preload_real.close(fd);
}

#endif
