/*
 * proto/keyfile.c - writing and reading key files with the care minisign
 * and ssh-keygen take: O_EXCL creation, explicit modes, a complete write
 * followed by fsync, and strict reading with a size cap.
 *
 * errno is saved before any clean-up call (close, unlink) and restored, so
 * a caller that sees TB_E_IO can report the failure that mattered.
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsync the directory holding path, so the new name survives a crash. */
static int sync_dir(const char *path)
{
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        size_t n;
        int fd, rc;

        if (slash == NULL) {
                strcpy(dir, ".");
        } else {
                n = slash == path ? 1 : (size_t)(slash - path);
                if (n >= sizeof(dir)) {
                        errno = ENAMETOOLONG;
                        return -1;
                }
                memcpy(dir, path, n);
                dir[n] = 0;
        }
        if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return -1;
        rc = fsync(fd);
        /* Some file systems cannot sync a directory; nothing more to do. */
        if (rc != 0 && (errno == EINVAL || errno == EROFS))
                rc = 0;
        if (rc != 0) {
                int saved = errno;
                (void)close(fd);
                errno = saved;
                return -1;
        }
        return close(fd);
}

static enum tb_err write_file(const char *path, const char *data, size_t len,
                              mode_t mode)
{
        size_t off = 0;
        ssize_t n;
        int fd, saved;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
        if (fd < 0)
                return errno == EEXIST ? TB_E_EXISTS : TB_E_IO;
        if (fchmod(fd, mode) != 0)
                goto fail;
        while (off < len) {
                n = write(fd, data + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0)
                                errno = EIO;
                        goto fail;
                }
                off += (size_t)n;
        }
        if (fsync(fd) != 0)
                goto fail;
        n = close(fd);
        fd = -1;
        if (n != 0 || sync_dir(path) != 0)
                goto fail;
        return TB_OK;
fail:
        saved = errno;
        if (fd >= 0)
                (void)close(fd);
        (void)unlink(path);
        errno = saved;
        return TB_E_IO;
}

enum tb_err tb_keyfile_write_secret(const char *path, const struct tb_skey *k)
{
        char buf[TB_SKEY_MAX + 1];
        size_t len;
        enum tb_err err;

        err = tb_skey_format(k, buf, sizeof(buf), &len);
        if (err == TB_OK) {
                buf[len++] = '\n';
                err = write_file(path, buf, len, TB_KEYFILE_SECRET_MODE);
        }
        sodium_memzero(buf, sizeof(buf));
        return err;
}

enum tb_err tb_keyfile_write_public(const char *path, const struct tb_vkey *k)
{
        char buf[TB_VKEY_MAX + 1];
        size_t len;
        enum tb_err err;

        if ((err = tb_vkey_format(k, buf, sizeof(buf), &len)) != TB_OK)
                return err;
        buf[len++] = '\n';
        return write_file(path, buf, len, TB_KEYFILE_PUBLIC_MODE);
}

/*
 * Read the one-line file path into buf (cap bytes; a file that fills it is
 * too long) and strip the final newline.  secret adds the symlink and mode
 * checks.
 */
static enum tb_err read_line_file(const char *path, int secret, char *buf,
                                  size_t cap, size_t *len)
{
        struct stat st;
        size_t off = 0;
        ssize_t n;
        int fd, saved, flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        enum tb_err err = TB_OK;

        if (secret)
                flags |= O_NOFOLLOW;
        if ((fd = open(path, flags)) < 0)
                return TB_E_IO;
        if (fstat(fd, &st) != 0) {
                err = TB_E_IO;
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                errno = EINVAL;
                err = TB_E_IO;
                goto out;
        }
        if (secret && (st.st_mode & 077) != 0) {
                err = TB_E_FILE_MODE;
                goto out;
        }
        while (off < cap) {
                n = read(fd, buf + off, cap - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        err = TB_E_IO;
                        goto out;
                }
                if (n == 0)
                        break;
                off += (size_t)n;
        }
        if (off == cap) {
                err = TB_E_KEY_FORMAT;
                goto out;
        }
        if (off > 0 && buf[off - 1] == '\n')
                off--;
        if (memchr(buf, '\n', off) != NULL)
                err = TB_E_KEY_FORMAT;
        *len = off;
out:
        saved = errno;
        if (close(fd) != 0 && err == TB_OK)
                return TB_E_IO;
        errno = saved;
        return err;
}

enum tb_err tb_keyfile_read_secret(const char *path, struct tb_skey **out)
{
        /* One encoding, its newline, and one byte to detect a longer file. */
        char buf[TB_SKEY_MAX + 1];
        size_t len = 0;
        enum tb_err err;

        *out = NULL;
        err = read_line_file(path, 1, buf, sizeof(buf), &len);
        if (err == TB_OK)
                err = tb_skey_parse(buf, len, out);
        sodium_memzero(buf, sizeof(buf));
        return err;
}

enum tb_err tb_keyfile_read_public(const char *path, struct tb_vkey *out)
{
        char buf[TB_VKEY_MAX + 1];
        size_t len = 0;
        enum tb_err err;

        err = read_line_file(path, 0, buf, sizeof(buf), &len);
        if (err != TB_OK)
                return err;
        return tb_vkey_parse(buf, len, out);
}
