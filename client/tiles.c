/*
 * client/tiles.c - the tile tree of a log, and a tiles directory on disk
 * (client/tiles.h).
 *
 * The tree is kept as the hashes of each tile level (level 0 the leaf
 * hashes, level L the roots of the full 256-wide tiles of level L - 1), so
 * every tile is a slice of one array and any complete subtree is the root
 * of at most 128 hashes of one level.
 *
 * Every file goes to a temporary name in its own directory, is fsynced,
 * renamed into place, and its directory fsynced: once tiles_write returns,
 * the tiles are durable, so a checkpoint renamed in afterwards never
 * names a tile a crash could lose.
 */
#include "tiles.h"
#include "tiles_http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TILES_PATH_MAX 4096

static int tiles_fail(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int tiles_fail(char *err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, TILES_ERR_MAX, fmt, ap);
        va_end(ap);
        return -1;
}

int tiles_entries_add(struct tiles_entries *e, const uint8_t *p, size_t len)
{
        uint8_t *copy;

        if (e->n == e->cap) {
                uint64_t cap = e->cap ? 2 * e->cap : 256;
                uint8_t **d = realloc(e->data, cap * sizeof(*d));
                if (d == NULL)
                        return -1;
                e->data = d;
                size_t *l = realloc(e->len, cap * sizeof(*l));
                if (l == NULL)
                        return -1;
                e->len = l;
                e->cap = cap;
        }
        if ((copy = malloc(len ? len : 1)) == NULL)
                return -1;
        if (len > 0)
                memcpy(copy, p, len);
        e->data[e->n] = copy;
        e->len[e->n++] = len;
        return 0;
}

void tiles_entries_free(struct tiles_entries *e)
{
        for (uint64_t i = 0; i < e->n; i++)
                free(e->data[i]);
        free(e->data);
        free(e->len);
        memset(e, 0, sizeof(*e));
}

void tiles_tree_free(struct tiles_tree *t)
{
        for (int l = 0; l < TILES_LEVELS; l++)
                free(t->hash[l]);
        memset(t, 0, sizeof(*t));
}

int tiles_tree_build(const struct tiles_entries *e, struct tiles_tree *t)
{
        memset(t, 0, sizeof(*t));
        t->n = e->n;
        for (int l = 0; l < TILES_LEVELS; l++) {
                uint64_t c = l == 0 ? e->n : t->count[l - 1] / TB_TILE_WIDTH;
                if (c == 0)
                        break;
                t->count[l] = c;
                if ((t->hash[l] = malloc(c * TB_HASH_SIZE)) == NULL) {
                        tiles_tree_free(t);
                        return -1;
                }
                for (uint64_t i = 0; i < c; i++) {
                        if (l == 0) {
                                tb_merkle_leaf_hash(e->data[i], e->len[i],
                                                    t->hash[0][i]);
                        } else if (tb_merkle_root(
                                       t->hash[l - 1] + i * TB_TILE_WIDTH,
                                       TB_TILE_WIDTH, t->hash[l][i]) != TB_OK) {
                                tiles_tree_free(t);
                                return -1;
                        }
                }
        }
        return 0;
}

enum tb_err tiles_tree_read_cb(void *ctx, unsigned level, uint64_t index,
                               uint8_t out[TB_HASH_SIZE])
{
        const struct tiles_tree *t = ctx;
        unsigned tl = level / TB_TILE_HEIGHT, r = level % TB_TILE_HEIGHT;
        uint64_t first = index << r, width = UINT64_C(1) << r;

        if (tl >= TILES_LEVELS || index > (UINT64_MAX >> r) ||
            first + width > t->count[tl])
                return TB_E_PROOF_RANGE;
        return tb_merkle_root(t->hash[tl] + first, width, out);
}

enum tb_err tiles_tree_root(const struct tiles_tree *t, uint64_t size,
                            uint8_t out[TB_HASH_SIZE])
{
        if (size > t->n)
                return TB_E_PROOF_RANGE;
        return tb_merkle_tree_hash(tiles_tree_read_cb, (void *)t, size, out);
}

int tiles_each(uint64_t n, tiles_each_cb cb, void *ctx)
{
        int rc;

        for (int l = TB_TILE_ENTRIES; l < TILES_LEVELS; l++) {
                uint64_t c = n;
                for (int i = 0; i < l; i++)
                        c /= TB_TILE_WIDTH;
                if (c == 0)
                        break;
                for (uint64_t k = 0; k < c / TB_TILE_WIDTH; k++)
                        if ((rc = cb(ctx, l, k, TB_TILE_WIDTH)) != 0)
                                return rc;
                if (c % TB_TILE_WIDTH != 0 &&
                    (rc = cb(ctx, l, c / TB_TILE_WIDTH,
                             (unsigned)(c % TB_TILE_WIDTH))) != 0)
                        return rc;
        }
        return 0;
}

/* dir/rel into out; -1 if it does not fit. */
static int tiles_join(const char *dir, const char *rel, char *out)
{
        int n = snprintf(out, TILES_PATH_MAX, "%s/%s", dir, rel);

        return n < 0 || n >= TILES_PATH_MAX ? -1 : 0;
}

/* Create the directories of path's parents (as mkdir -p). */
static int tiles_mkdirs(char *path, char *err)
{
        for (char *s = strchr(path + 1, '/'); s != NULL;
             s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                        tiles_fail(err, "cannot create %s: %s", path,
                                   strerror(errno));
                        *s = '/';
                        return -1;
                }
                *s = '/';
        }
        return 0;
}

/* fsync the directory holding path. */
static int tiles_sync_parent(const char *path, char *err)
{
        char d[TILES_PATH_MAX];
        char *slash;
        int fd, rc;

        snprintf(d, sizeof(d), "%s", path);
        if ((slash = strrchr(d, '/')) == NULL)
                snprintf(d, sizeof(d), ".");
        else
                *slash = 0;
        if ((fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return tiles_fail(err, "cannot open %s: %s", d,
                                  strerror(errno));
        rc = fsync(fd);
        close(fd);
        if (rc != 0)
                return tiles_fail(err, "cannot sync %s: %s", d,
                                  strerror(errno));
        return 0;
}

/* Write p[0..len) to path through path.tmp: write, fsync, rename. */
static int tiles_put(char *path, const uint8_t *p, size_t len, char *err)
{
        char tmp[TILES_PATH_MAX + 32];
        size_t off = 0;
        int fd;

        if (tiles_mkdirs(path, err) != 0)
                return -1;
        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return tiles_fail(err, "cannot create %s: %s", tmp,
                                  strerror(errno));
        while (off < len) {
                ssize_t n = write(fd, p + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                off += (size_t)n;
        }
        if (off < len || fsync(fd) != 0) {
                tiles_fail(err, "cannot write %s: %s", tmp, strerror(errno));
                close(fd);
                unlink(tmp);
                return -1;
        }
        if (close(fd) != 0 || rename(tmp, path) != 0) {
                tiles_fail(err, "cannot write %s: %s", path, strerror(errno));
                unlink(tmp);
                return -1;
        }
        return tiles_sync_parent(path, err);
}

int tiles_read_file(const char *dir, const char *rel, size_t max, uint8_t **out,
                    size_t *len, char *err)
{
        char path[TILES_PATH_MAX];
        struct stat st;
        uint8_t *buf;
        size_t n, want;
        FILE *f;
        int fd;

        *out = NULL;
        *len = 0;
        if (tiles_http_is_url(dir))
                return tiles_http_get(dir, rel, max, out, len, err);
        if (tiles_join(dir, rel, path) != 0)
                return tiles_fail(err, "%s/%s: path too long", dir, rel);
        /* O_NONBLOCK: a FIFO planted in a mirror must not block the open
         * for ever; it is refused below as not a regular file. */
        if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
                int e = errno;
                tiles_fail(err, "%s: cannot read: %s", rel, strerror(e));
                errno = e; /* the caller may tell ENOENT */
                return -1;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_size > max || (f = fdopen(fd, "rb")) == NULL) {
                close(fd);
                return tiles_fail(err,
                                  "%s: not a regular file of at most "
                                  "%zu bytes",
                                  rel, max);
        }
        want = (size_t)st.st_size;
        if ((buf = malloc(want + 1)) == NULL) {
                fclose(f);
                return tiles_fail(err, "out of memory");
        }
        n = fread(buf, 1, want + 1, f);
        if (ferror(f) || n != want) {
                fclose(f);
                free(buf);
                return tiles_fail(err, "%s: read failed or the file changed",
                                  rel);
        }
        fclose(f);
        *out = buf;
        *len = n;
        return 0;
}

/* The bytes of tile (level, k, w): a slice of the tree or a bundle. */
struct tiles_job {
        const char *dir;
        const struct tiles_tree *t;
        const struct tiles_entries *e;
        int rewrite;
        struct tiles_written *w;
        struct tiles_entries *into; /* tiles_read_entries */
        char *err;
};

static int tiles_bundle(const struct tiles_entries *e, uint64_t k, unsigned w,
                        uint8_t **out, size_t *len)
{
        size_t cap = 0, used = 0;

        for (unsigned i = 0; i < w; i++)
                cap += 2 + e->len[k * TB_TILE_WIDTH + i];
        if ((*out = malloc(cap ? cap : 1)) == NULL)
                return -1;
        for (unsigned i = 0; i < w; i++) {
                uint64_t s = k * TB_TILE_WIDTH + i;
                if (tb_bundle_append(*out, cap, &used, e->data[s], e->len[s]) !=
                    TB_OK) {
                        free(*out);
                        return -1;
                }
        }
        *len = used;
        return 0;
}

static int tiles_write_cb(void *ctx, int level, uint64_t k, unsigned w)
{
        struct tiles_job *j = ctx;
        char rel[TB_TILE_PATH_MAX], path[TILES_PATH_MAX];
        uint8_t *bytes = NULL, *old = NULL;
        size_t len, oldlen;
        int rc = 0;

        if (tb_tile_path(level, k, w, rel, sizeof(rel)) != TB_OK ||
            tiles_join(j->dir, rel, path) != 0)
                return tiles_fail(j->err, "tile path too long");
        if (level == TB_TILE_ENTRIES) {
                if (tiles_bundle(j->e, k, w, &bytes, &len) != 0)
                        return tiles_fail(j->err,
                                          "%s: an entry is too large "
                                          "for a bundle (or out of "
                                          "memory)",
                                          rel);
        } else {
                len = (size_t)w * TB_HASH_SIZE;
                if ((bytes = malloc(len)) == NULL)
                        return tiles_fail(j->err, "out of memory");
                memcpy(bytes, j->t->hash[level] + k * TB_TILE_WIDTH, len);
        }
        if (!j->rewrite && access(path, F_OK) == 0) {
                char ignored[TILES_ERR_MAX];
                if (tiles_read_file(j->dir, rel, len, &old, &oldlen, ignored) !=
                        0 ||
                    oldlen != len || memcmp(old, bytes, len) != 0)
                        rc = tiles_fail(j->err,
                                        "%s/%s exists with other bytes: the "
                                        "directory holds another history "
                                        "(refusing to overwrite it)",
                                        j->dir, rel);
                else
                        j->w->kept++;
        } else if ((rc = tiles_put(path, bytes, len, j->err)) == 0) {
                j->w->written++;
        }
        free(old);
        free(bytes);
        return rc;
}

int tiles_write(const char *dir, const struct tiles_tree *t,
                const struct tiles_entries *e, int rewrite,
                struct tiles_written *w, char *err)
{
        struct tiles_job j = {dir, t, e, rewrite, w, NULL, err};

        memset(w, 0, sizeof(*w));
        if (t->n != e->n)
                return tiles_fail(err, "internal error: tree and entries "
                                       "differ in size");
        return tiles_each(t->n, tiles_write_cb, &j);
}

int tiles_write_checkpoint(const char *dir, const uint8_t *note, size_t len,
                           char *err)
{
        char path[TILES_PATH_MAX];

        if (tiles_join(dir, "checkpoint", path) != 0)
                return tiles_fail(err, "%s: path too long", dir);
        return tiles_put(path, note, len, err);
}

static int tiles_read_cb(void *ctx, int level, uint64_t k, unsigned w)
{
        struct tiles_job *j = ctx;
        char rel[TB_TILE_PATH_MAX];
        uint8_t *p;
        size_t len, off = 0;
        unsigned i;
        int rc = 0;

        if (level != TB_TILE_ENTRIES)
                return 0;
        if (tb_tile_path(level, k, w, rel, sizeof(rel)) != TB_OK)
                return tiles_fail(j->err, "tile path too long");
        if (tiles_read_file(j->dir, rel, (size_t)w * (2 + TB_TILE_ENTRY_MAX),
                            &p, &len, j->err) != 0)
                return -1;
        for (i = 0; i < w && off < len && rc == 0; i++) {
                const uint8_t *entry;
                size_t n;
                if (tb_bundle_next(p, len, &off, &entry, &n) != TB_OK)
                        rc = tiles_fail(j->err,
                                        "%s: entry %u (seq %" PRIu64
                                        ") is truncated",
                                        rel, i, k * TB_TILE_WIDTH + i);
                else if (tiles_entries_add(j->into, entry, n) != 0)
                        rc = tiles_fail(j->err, "out of memory");
        }
        if (rc == 0 && i < w)
                rc = tiles_fail(j->err,
                                "%s: %u entries, the checkpoint implies %u "
                                "(seq %" PRIu64 " missing)",
                                rel, i, w, k * TB_TILE_WIDTH + i);
        else if (rc == 0 && off < len)
                rc = tiles_fail(j->err,
                                "%s: %zu bytes after its %u entries (an "
                                "entry too many?)",
                                rel, len - off, w);
        free(p);
        return rc;
}

int tiles_read_entries(const char *dir, uint64_t n, struct tiles_entries *e,
                       char *err)
{
        struct tiles_job j = {dir, NULL, NULL, 0, NULL, e, err};

        return tiles_each(n, tiles_read_cb, &j);
}

static int tiles_check_cb(void *ctx, int level, uint64_t k, unsigned w)
{
        struct tiles_job *j = ctx;
        char rel[TB_TILE_PATH_MAX];
        uint8_t *p;
        size_t len;
        int rc = 0;

        if (level == TB_TILE_ENTRIES)
                return 0;
        if (tb_tile_path(level, k, w, rel, sizeof(rel)) != TB_OK)
                return tiles_fail(j->err, "tile path too long");
        if (tiles_read_file(j->dir, rel, (size_t)w * TB_HASH_SIZE, &p, &len,
                            j->err) != 0)
                return -1;
        if (len != (size_t)w * TB_HASH_SIZE)
                rc = tiles_fail(j->err,
                                "%s: %zu bytes, expected %u hashes "
                                "(%u bytes)",
                                rel, len, w, w * TB_HASH_SIZE);
        for (unsigned i = 0; rc == 0 && i < w; i++) {
                uint64_t idx = k * TB_TILE_WIDTH + i;
                if (memcmp(p + (size_t)i * TB_HASH_SIZE, j->t->hash[level][idx],
                           TB_HASH_SIZE) == 0)
                        continue;
                if (level == 0)
                        rc = tiles_fail(j->err,
                                        "%s: hash %u is not the leaf hash of "
                                        "entry seq %" PRIu64,
                                        rel, i, idx);
                else
                        rc = tiles_fail(j->err,
                                        "%s: hash %u is not the root of the "
                                        "level %d tile %" PRIu64
                                        " recomputed from the entries",
                                        rel, i, level - 1, idx);
        }
        free(p);
        return rc;
}

int tiles_check(const char *dir, const struct tiles_tree *t, char *err)
{
        struct tiles_job j = {dir, t, NULL, 0, NULL, NULL, err};

        return tiles_each(t->n, tiles_check_cb, &j);
}
