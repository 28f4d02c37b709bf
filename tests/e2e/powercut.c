/*
 * tests/e2e/powercut.c - an LD_PRELOAD layer that models a disk's write
 * cache, so that a test can cut the power (e2e_durability).
 *
 * Every write to the watched file (basename TB_POWERCUT_NAME, default
 * "data.mdb") goes through to the real file, so the process under test
 * reads (through its mmap) what it wrote, exactly as with a kernel page
 * cache.  Besides, the layer keeps a copy of each write in memory until the
 * file is made durable: a successful fdatasync()/fsync() of that file, or
 * the write itself returning on a descriptor opened with O_DSYNC/O_SYNC
 * (LMDB writes its meta page so).  Only then is the write applied to the
 * "durable image", TB_POWERCUT_IMAGE, a file that starts as a copy of the
 * watched file when it is first opened.  The image is what a disk would
 * hold after a power cut: a test kills the process and puts the image in
 * place of the file.
 *
 * TB_POWERCUT_AT=N cuts the power by itself at the N-th durability event
 * (a sync of the file, or an O_DSYNC write to it), before that event takes
 * effect: the layer sleeps TB_POWERCUT_DELAY_MS (default 100, so that other
 * threads get to send whatever they would send), then SIGKILLs the process.
 * A daemon that acknowledged a write before its commit was durable has then
 * sent that acknowledgement, and the write is not in the image.
 *
 * Interposed: open, open64, openat, openat64, close, write, writev, pwrite,
 * pwrite64, pwritev, fsync, fdatasync.  Positional writes record their
 * offset; write and writev record the file position before the call.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

#define POWERCUT_FD_MAX 4096

struct powercut_write {
        off_t off;
        size_t len;
        uint8_t *data;
};

enum { FD_WATCHED = 1, FD_DSYNC = 2 };

static pthread_mutex_t powercut_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char powercut_fd[POWERCUT_FD_MAX];
static struct powercut_write *powercut_pending;
static size_t powercut_npending, powercut_cap;
static int powercut_image_fd = -1;
static unsigned long powercut_events;

static void powercut_die(const char *what)
{
        char msg[256];
        int n = snprintf(msg, sizeof(msg), "powercut: %s: %s\n", what,
                         strerror(errno));

        if (n > 0 && preload_real.write != NULL)
                (void)!preload_real.write(2, msg, (size_t)n);
        abort();
}

static int powercut_watched_name(const char *path)
{
        return preload_name_is(path, "TB_POWERCUT_NAME", "data.mdb");
}

/* The image starts as a copy of the file as it is at its first open. */
static void powercut_image_open(int fd)
{
        const char *path = getenv("TB_POWERCUT_IMAGE");
        uint8_t buf[65536];
        off_t off = 0;
        ssize_t n;

        if (path == NULL || powercut_image_fd >= 0)
                return;
        powercut_image_fd =
            preload_real.open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (powercut_image_fd < 0)
                powercut_die(path);
        while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
                if (preload_real.pwrite(powercut_image_fd, buf, (size_t)n,
                                        off) != n)
                        powercut_die("copy to the image");
                off += n;
        }
        if (n < 0)
                powercut_die("read the watched file");
}

static void preload_opened(int fd, const char *path, int flags)
{
        if (fd < 0 || fd >= POWERCUT_FD_MAX || !powercut_watched_name(path))
                return;
        pthread_mutex_lock(&powercut_lock);
        powercut_image_open(fd);
        powercut_fd[fd] = FD_WATCHED | ((flags & O_DSYNC) ? FD_DSYNC : 0);
        pthread_mutex_unlock(&powercut_lock);
}

static int powercut_watched(int fd)
{
        return fd >= 0 && fd < POWERCUT_FD_MAX && powercut_fd[fd] != 0;
}

static void powercut_apply(const struct powercut_write *w)
{
        if (powercut_image_fd >= 0 &&
            preload_real.pwrite(powercut_image_fd, w->data, w->len, w->off) !=
                (ssize_t)w->len)
                powercut_die("write to the image");
}

/* A durability event: the power may go now, before it takes effect. */
static void powercut_event(void)
{
        const char *at = getenv("TB_POWERCUT_AT");
        const char *delay = getenv("TB_POWERCUT_DELAY_MS");
        struct timespec ts;
        long ms;

        powercut_events++;
        if (at == NULL || strtoul(at, NULL, 10) != powercut_events)
                return;
        ms = delay ? strtol(delay, NULL, 10) : 100;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
        kill(getpid(), SIGKILL);
}

/* Record what was written at off: pending, or durable at once (O_DSYNC). */
static void powercut_record(int fd, const struct iovec *iov, int iovcnt,
                            off_t off, size_t done)
{
        struct powercut_write w;
        size_t i, k = 0;

        if (done == 0)
                return;
        w.off = off;
        w.len = done;
        w.data = malloc(done);
        if (w.data == NULL)
                powercut_die("malloc");
        for (i = 0; i < (size_t)iovcnt && k < done; i++) {
                size_t n =
                    iov[i].iov_len < done - k ? iov[i].iov_len : done - k;
                memcpy(w.data + k, iov[i].iov_base, n);
                k += n;
        }
        pthread_mutex_lock(&powercut_lock);
        if (powercut_fd[fd] & FD_DSYNC) {
                powercut_apply(&w);
                free(w.data);
        } else {
                if (powercut_npending == powercut_cap) {
                        size_t cap = powercut_cap ? powercut_cap * 2 : 256;
                        void *p = realloc(powercut_pending,
                                          cap * sizeof(*powercut_pending));
                        if (p == NULL)
                                powercut_die("realloc");
                        powercut_pending = p;
                        powercut_cap = cap;
                }
                powercut_pending[powercut_npending++] = w;
        }
        pthread_mutex_unlock(&powercut_lock);
}

/* Before a write on an O_DSYNC descriptor: that write is an event. */
static void powercut_before_write(int fd)
{
        if (powercut_fd[fd] & FD_DSYNC) {
                pthread_mutex_lock(&powercut_lock);
                powercut_event();
                pthread_mutex_unlock(&powercut_lock);
        }
}

static int powercut_sync(int fd, int (*real)(int))
{
        size_t i;
        int rc;

        if (!powercut_watched(fd))
                return real(fd);
        pthread_mutex_lock(&powercut_lock);
        powercut_event();
        rc = real(fd);
        if (rc == 0) {
                for (i = 0; i < powercut_npending; i++) {
                        powercut_apply(&powercut_pending[i]);
                        free(powercut_pending[i].data);
                }
                powercut_npending = 0;
        }
        pthread_mutex_unlock(&powercut_lock);
        return rc;
}

static void preload_closed(int fd)
{
        if (powercut_watched(fd))
                powercut_fd[fd] = 0;
}

ssize_t write(int fd, const void *buf, size_t len)
{
        struct iovec iov = {(void *)buf, len};
        off_t off;
        ssize_t n;

        if (!powercut_watched(fd))
                return preload_real.write(fd, buf, len);
        powercut_before_write(fd);
        off = lseek(fd, 0, SEEK_CUR);
        n = preload_real.write(fd, buf, len);
        if (n > 0)
                powercut_record(fd, &iov, 1, off, (size_t)n);
        return n;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
        off_t off;
        ssize_t n;

        if (!powercut_watched(fd))
                return preload_real.writev(fd, iov, iovcnt);
        powercut_before_write(fd);
        off = lseek(fd, 0, SEEK_CUR);
        n = preload_real.writev(fd, iov, iovcnt);
        if (n > 0)
                powercut_record(fd, iov, iovcnt, off, (size_t)n);
        return n;
}

static ssize_t powercut_pwrite(ssize_t (*real)(int, const void *, size_t,
                                               off_t),
                               int fd, const void *buf, size_t len, off_t off)
{
        struct iovec iov = {(void *)buf, len};
        ssize_t n;

        if (!powercut_watched(fd))
                return real(fd, buf, len, off);
        powercut_before_write(fd);
        n = real(fd, buf, len, off);
        if (n > 0)
                powercut_record(fd, &iov, 1, off, (size_t)n);
        return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
        return powercut_pwrite(preload_real.pwrite, fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
        return powercut_pwrite(preload_real.pwrite64, fd, buf, len, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
        ssize_t n;

        if (!powercut_watched(fd))
                return preload_real.pwritev(fd, iov, iovcnt, off);
        powercut_before_write(fd);
        n = preload_real.pwritev(fd, iov, iovcnt, off);
        if (n > 0)
                powercut_record(fd, iov, iovcnt, off, (size_t)n);
        return n;
}

int fsync(int fd)
{
        return powercut_sync(fd, preload_real.fsync);
}

int fdatasync(int fd)
{
        return powercut_sync(fd, preload_real.fdatasync);
}
