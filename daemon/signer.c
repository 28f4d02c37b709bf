/*
 * daemon/signer.c - the signer process and its engine (signer.h).
 *
 * The shape is OpenSMTPD's `ca` process and OpenSSH's privilege
 * separation: the secret lives in a small process that reads only a fixed
 * set of messages from its one peer, so that a bug in the code parsing
 * client frames gives an attacker the serving process, not the log key.
 * The engine keeps one rule (signer.h): a new checkpoint must extend the
 * last one signed, proven by the signer's own check of an RFC 6962
 * consistency proof; the state that rule depends on is on disk before a
 * signature leaves.
 */
#define _GNU_SOURCE /* close_range */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "keyfile.h"
#include "log.h"
#include "signer.h"

struct signer {
        char dir[4096];
        struct tb_skey *key;
        struct tb_vkey vkey;
        int have_state;
        struct tb_checkpoint last; /* the last checkpoint signed */
        uint8_t note[TB_CHECKPOINT_MAX];
        size_t note_len;
};

static int signer_path(char *out, size_t cap, const char *dir, const char *name)
{
        int n = snprintf(out, cap, "%s/%s", dir, name);

        return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Read dir/signer.state: 1 loaded, 0 absent, -1 unusable (err says). */
static int state_load(struct signer *s, char *err, size_t cap)
{
        char path[4200];
        ssize_t n;
        size_t len = 0;
        int fd;

        if (signer_path(path, sizeof(path), s->dir, SIGNER_STATE_FILE)) {
                snprintf(err, cap, "data directory path too long");
                return -1;
        }
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0) {
                snprintf(err, cap, "cannot open %s: %s", path, strerror(errno));
                return -1;
        }
        while (len < sizeof(s->note) &&
               (n = read(fd, s->note + len, sizeof(s->note) - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        snprintf(err, cap, "cannot read %s: %s", path,
                                 strerror(errno));
                        (void)close(fd);
                        return -1;
                }
                len += (size_t)n;
        }
        (void)close(fd);
        if (len == sizeof(s->note) ||
            tb_checkpoint_open(s->note, len, s->vkey.name, &s->vkey,
                               &s->last) != TB_OK) {
                snprintf(err, cap,
                         "%s is not a checkpoint signed by this log key: "
                         "refusing to sign anything (restore it from a "
                         "backup; see docs/timebankd.md)",
                         path);
                return -1;
        }
        s->note_len = len;
        s->have_state = 1;
        return 1;
}

/* Replace dir/signer.state with note: write, fsync, rename, fsync dir. */
static int state_save(const struct signer *s, const uint8_t *note, size_t len)
{
        char path[4200], tmp[4300];
        size_t off = 0;
        ssize_t n;
        int fd, dfd, rc = -1;

        if (signer_path(path, sizeof(path), s->dir, SIGNER_STATE_FILE) ||
            signer_path(tmp, sizeof(tmp), s->dir, SIGNER_STATE_FILE ".tmp"))
                return -1;
        (void)unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
        if (fd < 0)
                return -1;
        while (off < len) {
                n = write(fd, note + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        goto done;
                off += (size_t)n;
        }
        if (fsync(fd) != 0)
                goto done;
        if (close(fd) != 0) {
                fd = -1;
                goto done;
        }
        fd = -1;
        if (rename(tmp, path) != 0)
                goto done;
        if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                goto done;
        rc = fsync(dfd);
        (void)close(dfd);
done:
        if (fd >= 0)
                (void)close(fd);
        if (rc != 0)
                (void)unlink(tmp);
        return rc;
}

int signer_state_create(const char *dir, const uint8_t *note, size_t len,
                        char *err, size_t cap)
{
        struct signer s;
        struct tb_checkpoint cp;
        struct stat st;
        char path[4200];

        memset(&s, 0, sizeof(s));
        snprintf(s.dir, sizeof(s.dir), "%s", dir);
        if (signer_path(path, sizeof(path), dir, LEDGER_PUB_FILE) ||
            tb_keyfile_read_public(path, &s.vkey) != TB_OK ||
            tb_checkpoint_open(note, len, s.vkey.name, &s.vkey, &cp) != TB_OK) {
                snprintf(err, cap, "the checkpoint does not verify with %s",
                         LEDGER_PUB_FILE);
                return -1;
        }
        if (signer_path(path, sizeof(path), dir, SIGNER_STATE_FILE) ||
            lstat(path, &st) == 0 || errno != ENOENT) {
                snprintf(err, cap, "%s exists already", SIGNER_STATE_FILE);
                return -1;
        }
        if (state_save(&s, note, len) != 0) {
                snprintf(err, cap, "cannot write %s: %s", SIGNER_STATE_FILE,
                         strerror(errno));
                return -1;
        }
        return 0;
}

int signer_open(const char *dir, struct signer **out, char *err, size_t cap)
{
        struct signer *s;
        char path[4200];
        enum tb_err e;

        *out = NULL;
        if (!(s = calloc(1, sizeof(*s)))) {
                snprintf(err, cap, "out of memory");
                return -1;
        }
        snprintf(s->dir, sizeof(s->dir), "%s", dir);
        if (signer_path(path, sizeof(path), dir, LEDGER_KEY_FILE)) {
                snprintf(err, cap, "data directory path too long");
                goto fail;
        }
        if ((e = tb_keyfile_read_secret(path, &s->key)) != TB_OK) {
                snprintf(err, cap, "cannot read the log key %s: %s%s%s", path,
                         tb_strerror(e), e == TB_E_IO ? ": " : "",
                         e == TB_E_IO ? strerror(errno) : "");
                goto fail;
        }
        tb_skey_public(s->key, &s->vkey);
        if (state_load(s, err, cap) < 0)
                goto fail;
        *out = s;
        return 0;
fail:
        signer_close(s);
        return -1;
}

uint64_t signer_size(const struct signer *s)
{
        return s->have_state ? s->last.size : 0;
}

void signer_close(struct signer *s)
{
        if (!s)
                return;
        tb_skey_free(s->key);
        sodium_memzero(s, sizeof(*s));
        free(s);
}

static void refuse(struct tb_signer_msg *reply, unsigned reason,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void refuse(struct tb_signer_msg *reply, unsigned reason,
                   const char *fmt, ...)
{
        va_list ap;

        memset(reply, 0, sizeof(*reply));
        reply->type = TB_SIGNER_REFUSED;
        reply->reason = (uint16_t)reason;
        va_start(ap, fmt);
        vsnprintf(reply->detail, sizeof(reply->detail), fmt, ap);
        va_end(ap);
        log_err("signer: REFUSED %s: %s", tb_signer_reason_name(reason),
                reply->detail);
}

#define SIGNER_ULL(x) ((unsigned long long)(x))

void signer_handle(struct signer *s, const struct tb_signer_msg *req,
                   struct tb_signer_msg *reply, uint8_t *note_buf)
{
        struct tb_checkpoint old, cp;
        size_t len;

        if (req->type != TB_SIGNER_SIGN) {
                refuse(reply, TB_SIGNER_R_MALFORMED, "not a SIGN request");
                return;
        }
        if (tb_checkpoint_open(req->note, req->note_len, s->vkey.name, &s->vkey,
                               &old) != TB_OK) {
                refuse(reply, TB_SIGNER_R_OLD,
                       "the old checkpoint is not signed by this log key");
                return;
        }
        if (!s->have_state) {
                /* first start: the ledger's latest, vouched for by the key */
                if (req->note_len > sizeof(s->note)) {
                        refuse(reply, TB_SIGNER_R_OLD, "old note too long");
                        return;
                }
                memcpy(s->note, req->note, req->note_len);
                s->note_len = req->note_len;
                s->last = old;
                s->have_state = 1;
                log_notice("signer: no %s yet: starting from the ledger's "
                           "checkpoint of size %llu",
                           SIGNER_STATE_FILE, SIGNER_ULL(old.size));
        }
        if (req->new_size < s->last.size) {
                refuse(reply, TB_SIGNER_R_SMALLER,
                       "size %llu is below the last signed size %llu",
                       SIGNER_ULL(req->new_size), SIGNER_ULL(s->last.size));
                return;
        }
        if (req->new_size == s->last.size) {
                if (sodium_memcmp(req->new_root, s->last.root, TB_HASH_SIZE) !=
                    0) {
                        refuse(reply, TB_SIGNER_R_FORK,
                               "a different root at the last signed size "
                               "%llu: a fork of history",
                               SIGNER_ULL(s->last.size));
                        return;
                }
                /* asked again (the ledger could not store it): same bytes */
                memcpy(note_buf, s->note, s->note_len);
                len = s->note_len;
                goto signed_;
        }
        if (old.size != s->last.size ||
            memcmp(old.root, s->last.root, TB_HASH_SIZE) != 0) {
                refuse(reply, TB_SIGNER_R_OLD,
                       "the old checkpoint (size %llu) is not the last one "
                       "signed (size %llu)",
                       SIGNER_ULL(old.size), SIGNER_ULL(s->last.size));
                return;
        }
        if (tb_merkle_verify_consistency(s->last.size, s->last.root,
                                         req->new_size, req->new_root,
                                         req->proof, req->proof_len) != TB_OK) {
                refuse(reply, TB_SIGNER_R_PROOF,
                       "no valid consistency proof from size %llu to %llu",
                       SIGNER_ULL(s->last.size), SIGNER_ULL(req->new_size));
                return;
        }
        memset(&cp, 0, sizeof(cp));
        memcpy(cp.origin, s->vkey.name, sizeof(cp.origin));
        cp.origin_len = strlen(cp.origin);
        cp.size = req->new_size;
        memcpy(cp.root, req->new_root, TB_HASH_SIZE);
        if (tb_checkpoint_sign(&cp, s->key, note_buf, TB_CHECKPOINT_MAX,
                               &len) != TB_OK) {
                refuse(reply, TB_SIGNER_R_SIGN, "signing failed");
                return;
        }
        if (state_save(s, note_buf, len) != 0) {
                refuse(reply, TB_SIGNER_R_STATE, "cannot save %s: %s",
                       SIGNER_STATE_FILE, strerror(errno));
                return;
        }
        memcpy(s->note, note_buf, len);
        s->note_len = len;
        s->last = cp;
signed_:
        memset(reply, 0, sizeof(*reply));
        reply->type = TB_SIGNER_SIGNED;
        reply->note = note_buf;
        reply->note_len = len;
}

/* All of buf, or -1. */
static int signer_write_all(int fd, const uint8_t *buf, size_t len)
{
        ssize_t n;

        while (len > 0) {
                n = send(fd, buf, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Exactly len bytes: 1, or 0 at a clean end before the first, -1. */
static int signer_read_all(int fd, uint8_t *buf, size_t len)
{
        size_t off = 0;
        ssize_t n;

        while (off < len) {
                n = read(fd, buf + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (n == 0)
                        return off == 0 ? 0 : -1;
                off += (size_t)n;
        }
        return 1;
}

/* One frame into buf (TB_SIGNER_FRAME_MAX): 1 with *len the rest's
 * length, 0 at a clean end, -1 on an error or a bad length. */
static int signer_read_frame(int fd, uint8_t *buf, size_t *len)
{
        int rc = signer_read_all(fd, buf, TB_SIGNER_HEADER);

        if (rc <= 0)
                return rc;
        if ((*len = tb_signer_msg_length(buf)) == 0)
                return -1;
        return signer_read_all(fd, buf + TB_SIGNER_HEADER, *len) == 1 ? 1 : -1;
}

static int signer_send(int fd, const struct tb_signer_msg *m)
{
        uint8_t out[TB_SIGNER_FRAME_MAX];
        size_t len;

        if (tb_signer_msg_encode(m, out, sizeof(out), &len) != TB_OK)
                return -1;
        return signer_write_all(fd, out, len);
}

/* Keep 0-2 (0 and 1 on /dev/null) and the socket, as 3. */
static int signer_close_fds(int sock)
{
        DIR *d;
        struct dirent *e;
        int fd, null;

        if (sock != 3 && (dup2(sock, 3) != 3 || close(sock) != 0))
                return -1;
        if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) != 0 ||
            dup2(null, 1) != 1)
                return -1;
        if (null > 3)
                (void)close(null);
        if (close_range(4, ~0u, 0) == 0)
                return 0;
        /* an older kernel or a tool that does not know close_range */
        if (!(d = opendir("/proc/self/fd")))
                return -1;
        while ((e = readdir(d)) != NULL) {
                fd = atoi(e->d_name);
                if (fd > 3 && fd != dirfd(d))
                        (void)close(fd);
        }
        return closedir(d);
}

static int signer_child(const char *dir, int sock)
{
        struct signer *s = NULL;
        struct tb_signer_msg req, reply;
        uint8_t buf[TB_SIGNER_FRAME_MAX], note[TB_CHECKPOINT_MAX];
        char err[512];
        size_t len;
        int rc;

        if (signal(SIGINT, SIG_IGN) == SIG_ERR ||
            signal(SIGTERM, SIG_IGN) == SIG_ERR ||
            signal(SIGHUP, SIG_IGN) == SIG_ERR ||
            signal(SIGPIPE, SIG_IGN) == SIG_ERR || signer_close_fds(sock)) {
                log_err("signer: cannot set up its process: %s",
                        strerror(errno));
                return 1;
        }
        sock = 3;
        if (signer_open(dir, &s, err, sizeof(err)) != 0) {
                log_err("signer: %s", err);
                return 1;
        }
        memset(&reply, 0, sizeof(reply));
        reply.type = TB_SIGNER_SIGNED;
        reply.note = s->have_state ? s->note : NULL;
        reply.note_len = s->have_state ? s->note_len : 0;
        log_info("signer: holding the log key; last signed size %llu%s",
                 SIGNER_ULL(signer_size(s)),
                 s->have_state ? "" : " (no " SIGNER_STATE_FILE " yet)");
        rc = signer_send(sock, &reply);
        while (rc == 0 && (rc = signer_read_frame(sock, buf, &len)) == 1) {
                if (tb_signer_msg_decode(buf + TB_SIGNER_HEADER, len, &req) !=
                    TB_OK) {
                        log_err("signer: a request does not decode: "
                                "closing");
                        rc = -1;
                        break;
                }
                signer_handle(s, &req, &reply, note);
                rc = signer_send(sock, &reply);
        }
        sodium_memzero(buf, sizeof(buf));
        signer_close(s);
        return rc == 0 ? 0 : 1;
}

int signer_start(const char *dir, struct signer_proc *p)
{
        struct tb_signer_msg hello;
        struct tb_checkpoint cp;
        struct tb_vkey pub;
        uint8_t buf[TB_SIGNER_FRAME_MAX];
        char path[4200];
        size_t len;
        int sv[2];

        p->pid = -1;
        p->fd = -1;
        p->start_size = 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
                log_err("cannot make the signer's socketpair: %s",
                        strerror(errno));
                return -1;
        }
        fflush(NULL);
        if ((p->pid = fork()) < 0) {
                log_err("cannot fork the signer: %s", strerror(errno));
                (void)close(sv[0]);
                (void)close(sv[1]);
                return -1;
        }
        if (p->pid == 0) {
                (void)close(sv[0]);
                _exit(signer_child(dir, sv[1]));
        }
        (void)close(sv[1]);
        p->fd = sv[0];
        if (signer_read_frame(p->fd, buf, &len) != 1 ||
            tb_signer_msg_decode(buf + TB_SIGNER_HEADER, len, &hello) !=
                TB_OK ||
            hello.type != TB_SIGNER_SIGNED) {
                (void)signer_stop(p);
                return -1;
        }
        /* its state must be signed by the key auditors know (log.pub) */
        if (hello.note_len > 0 &&
            (signer_path(path, sizeof(path), dir, LEDGER_PUB_FILE) ||
             tb_keyfile_read_public(path, &pub) != TB_OK ||
             tb_checkpoint_open(hello.note, hello.note_len, pub.name, &pub,
                                &cp) != TB_OK)) {
                log_err("the signer's key and state do not match %s",
                        LEDGER_PUB_FILE);
                (void)signer_stop(p);
                return -1;
        }
        p->start_size = hello.note_len > 0 ? cp.size : 0;
        log_info("signer started, pid %ld", (long)p->pid);
        return 0;
}

enum ledger_err signer_sign_cb(void *ctx, const uint8_t *old_note,
                               size_t old_len, uint64_t new_size,
                               const uint8_t new_root[TB_HASH_SIZE],
                               const uint8_t (*proof)[TB_HASH_SIZE],
                               size_t count, uint8_t *note, size_t cap,
                               size_t *len)
{
        struct signer_proc *p = ctx;
        struct tb_signer_msg m;
        uint8_t buf[TB_SIGNER_FRAME_MAX];
        size_t n;

        memset(&m, 0, sizeof(m));
        m.type = TB_SIGNER_SIGN;
        m.note = old_note;
        m.note_len = old_len;
        m.new_size = new_size;
        memcpy(m.new_root, new_root, TB_HASH_SIZE);
        m.proof = proof;
        m.proof_len = count;
        if (p->fd < 0 || signer_send(p->fd, &m) != 0 ||
            signer_read_frame(p->fd, buf, &n) != 1 ||
            tb_signer_msg_decode(buf + TB_SIGNER_HEADER, n, &m) != TB_OK) {
                log_err("the signer is gone or answers nonsense: checkpoint "
                        "%llu not signed",
                        SIGNER_ULL(new_size));
                return LEDGER_E_SIGNER;
        }
        if (m.type == TB_SIGNER_REFUSED) {
                log_err("the signer REFUSED checkpoint %llu: %s: %s (a "
                        "broken invariant: this batch is not acknowledged)",
                        SIGNER_ULL(new_size),
                        tb_signer_reason_name(m.reason)
                            ? tb_signer_reason_name(m.reason)
                            : "?",
                        m.detail);
                return LEDGER_E_SIGNER;
        }
        if (m.type != TB_SIGNER_SIGNED || m.note_len > cap) {
                log_err("the signer answered checkpoint %llu with a bad "
                        "message",
                        SIGNER_ULL(new_size));
                return LEDGER_E_SIGNER;
        }
        memcpy(note, m.note, m.note_len);
        *len = m.note_len;
        return LEDGER_OK;
}

int signer_stop(struct signer_proc *p)
{
        int st;
        pid_t r;

        if (p->fd >= 0)
                (void)close(p->fd);
        p->fd = -1;
        if (p->pid <= 0)
                return -1;
        while ((r = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR)
                ;
        p->pid = -1;
        if (r < 0 || !WIFEXITED(st)) {
                log_err("the signer did not exit normally");
                return -1;
        }
        if (WEXITSTATUS(st) != 0)
                log_err("the signer exited with status %d", WEXITSTATUS(st));
        return WEXITSTATUS(st);
}
