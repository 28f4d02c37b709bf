/*
 * tests/unit/test_tiles.c - C2SP tlog-tiles: tile paths and entry bundles
 * (proto/tile.c), the tiles a tree size implies and their contents
 * (client/tiles.c, included: unit tests link proto/ only; its http(s)
 * reader as built without libcurl), and the tiles
 * directory written and read back.  Owns the vectors of docs/audit.md.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/tiles.c"
#include "../../client/tiles_http.c" /* without TB_HAVE_CURL: the stub */
#include "check.h"
#include "docvec.h"

/* tiles_each into one space-separated list, full tiles as ranges. */
struct list {
        char s[4096];
        int level;
        uint64_t first, last; /* a run of full tiles; last < first: none */
};

static void list_flush(struct list *l)
{
        char a[TB_TILE_PATH_MAX], b[TB_TILE_PATH_MAX];
        size_t n = strlen(l->s);

        if (l->last < l->first || l->last == UINT64_MAX)
                return;
        CHECK_ERR(tb_tile_path(l->level, l->first, 256, a, sizeof(a)), TB_OK);
        CHECK_ERR(tb_tile_path(l->level, l->last, 256, b, sizeof(b)), TB_OK);
        if (l->first == l->last)
                snprintf(l->s + n, sizeof(l->s) - n, "%s%s", n ? " " : "", a);
        else
                snprintf(l->s + n, sizeof(l->s) - n, "%s%s..%s", n ? " " : "",
                         a, strrchr(b, '/') + 1);
        l->first = 1;
        l->last = 0;
}

static int list_cb(void *ctx, int level, uint64_t k, unsigned w)
{
        struct list *l = ctx;
        char p[TB_TILE_PATH_MAX];
        size_t n;

        if (level != l->level)
                list_flush(l);
        l->level = level;
        if (w == TB_TILE_WIDTH) {
                if (l->last + 1 != k || l->last < l->first)
                        l->first = k;
                l->last = k;
                return 0;
        }
        list_flush(l);
        CHECK_ERR(tb_tile_path(level, k, w, p, sizeof(p)), TB_OK);
        n = strlen(l->s);
        snprintf(l->s + n, sizeof(l->s) - n, "%s%s", n ? " " : "", p);
        return 0;
}

/* The entries "leaf {i}" style: template with {i} replaced by i. */
static void make_entries(const char *tmpl, uint64_t n, struct tiles_entries *e)
{
        const char *at = strstr(tmpl, "{i}");
        char buf[256];

        CHECK(at != NULL);
        for (uint64_t i = 0; i < n; i++) {
                int len =
                    snprintf(buf, sizeof(buf), "%.*s%llu%s", (int)(at - tmpl),
                             tmpl, (unsigned long long)i, at + 3);
                CHECK(tiles_entries_add(e, (const uint8_t *)buf, (size_t)len) ==
                      0);
        }
}

static void check_path(struct docvec *v)
{
        const char *lv = docvec_str(v, "level"), *want = docvec_str(v, "path");
        int level = strcmp(lv, "entries") == 0 ? TB_TILE_ENTRIES : atoi(lv);
        uint64_t n = strtoull(docvec_str(v, "n"), NULL, 10), pn;
        unsigned w = (unsigned)atoi(docvec_str(v, "width")), pw;
        char p[TB_TILE_PATH_MAX];
        int pl;

        CHECK_ERR(tb_tile_path(level, n, w, p, sizeof(p)), TB_OK);
        if (strcmp(p, want) != 0)
                fprintf(stderr, "vector %s: %s, expected %s\n", v->name, p,
                        want);
        CHECK(strcmp(p, want) == 0);
        CHECK_ERR(tb_tile_path_parse(want, &pl, &pn, &pw), TB_OK);
        CHECK(pl == level && pn == n && pw == w);
}

/* The tile at path, from the tree (hashes) or the entries (a bundle). */
static uint8_t *tile_bytes(const struct tiles_tree *t,
                           const struct tiles_entries *e, const char *path,
                           size_t *len)
{
        int level;
        uint64_t k;
        unsigned w;
        uint8_t *out;

        CHECK_ERR(tb_tile_path_parse(path, &level, &k, &w), TB_OK);
        if (level == TB_TILE_ENTRIES) {
                CHECK(tiles_bundle(e, k, w, &out, len) == 0);
                return out;
        }
        *len = (size_t)w * TB_HASH_SIZE;
        out = malloc(*len);
        CHECK(out != NULL);
        memcpy(out, t->hash[level] + k * TB_TILE_WIDTH, *len);
        return out;
}

static void check_content(struct docvec *v)
{
        struct tiles_entries e = {0};
        struct tiles_tree t;
        uint64_t size = strtoull(docvec_str(v, "size"), NULL, 10);
        size_t len, hlen, rlen;
        uint8_t *want = docvec_hex(v, "hex", &hlen), *got;
        uint8_t *root = docvec_hex(v, "root", &rlen), r[TB_HASH_SIZE];

        make_entries(docvec_str(v, "entry"), size, &e);
        CHECK(tiles_tree_build(&e, &t) == 0);
        got = tile_bytes(&t, &e, docvec_str(v, "tile"), &len);
        CHECK(len == hlen && memcmp(got, want, len) == 0);
        CHECK_ERR(tiles_tree_root(&t, size, r), TB_OK);
        CHECK(rlen == TB_HASH_SIZE && memcmp(r, root, rlen) == 0);
        free(got);
        free(want);
        free(root);
        tiles_tree_free(&t);
        tiles_entries_free(&e);
}

static void check_bundle(struct docvec *v)
{
        char *list = strdup(docvec_str(v, "entries")), *save = NULL;
        size_t len, used = 0, off = 0;
        uint8_t *want = docvec_hex(v, "hex", &len), out[256];

        CHECK(list != NULL);
        for (char *tok = strtok_r(list, " ", &save); tok != NULL;
             tok = strtok_r(NULL, " ", &save)) {
                uint8_t bin[64];
                size_t n;
                const uint8_t *ent;
                size_t elen;
                CHECK(sodium_hex2bin(bin, sizeof(bin), tok, strlen(tok), NULL,
                                     &n, NULL) == 0);
                CHECK_ERR(tb_bundle_append(out, sizeof(out), &used, bin, n),
                          TB_OK);
                CHECK_ERR(tb_bundle_next(want, len, &off, &ent, &elen), TB_OK);
                CHECK(elen == n && memcmp(ent, bin, n) == 0);
        }
        CHECK(off == len);
        CHECK(used == len && memcmp(out, want, len) == 0);
        free(list);
        free(want);
}

static void check_bundle_invalid(struct docvec *v)
{
        size_t len, off = 0, elen;
        uint8_t *p = docvec_hex(v, "hex", &len);
        const uint8_t *ent;
        enum tb_err err = TB_OK;

        while (off < len &&
               (err = tb_bundle_next(p, len, &off, &ent, &elen)) == TB_OK)
                ;
        CHECK(err == TB_E_TRUNCATED);
        free(p);
}

static void check_vector(struct docvec *v)
{
        const char *type = docvec_str(v, "type");
        int level;
        uint64_t n;
        unsigned w;

        if (strcmp(type, "tile-path") == 0) {
                check_path(v);
        } else if (strcmp(type, "tile-path-invalid") == 0) {
                CHECK_ERR(
                    tb_tile_path_parse(docvec_str(v, "path"), &level, &n, &w),
                    TB_E_INVALID_ARG);
        } else if (strcmp(type, "tiles-for-size") == 0) {
                struct list l = {.level = -2, .first = 1, .last = 0};
                tiles_each(strtoull(docvec_str(v, "size"), NULL, 10), list_cb,
                           &l);
                list_flush(&l);
                if (strcmp(l.s, docvec_str(v, "tiles")) != 0)
                        fprintf(stderr, "vector %s: %s\n", v->name, l.s);
                CHECK(strcmp(l.s, docvec_str(v, "tiles")) == 0);
        } else if (strcmp(type, "tile-content") == 0) {
                check_content(v);
        } else if (strcmp(type, "bundle") == 0) {
                check_bundle(v);
        } else if (strcmp(type, "bundle-invalid") == 0) {
                check_bundle_invalid(v);
        } else {
                fprintf(stderr, "vector %s: unknown type %s\n", v->name, type);
                CHECK(0);
        }
}

static void test_docs(void)
{
        static struct docvec_set set;

        docvec_load(&set, "docs/audit.md");
        CHECK(set.n > 0);
        for (int i = 0; i < set.n; i++)
                check_vector(docvec_get(&set, set.v[i].name));
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
}

/* Edges of the path codec the vectors do not reach. */
static void test_paths(void)
{
        char p[TB_TILE_PATH_MAX];
        int level;
        uint64_t n, max = TB_MERKLE_SIZE_MAX / TB_TILE_WIDTH;
        unsigned w;

        CHECK_ERR(tb_tile_path(0, max, 255, p, sizeof(p)), TB_OK);
        CHECK(strlen(p) < TB_TILE_PATH_MAX);
        CHECK_ERR(tb_tile_path_parse(p, &level, &n, &w), TB_OK);
        CHECK(n == max && w == 255);
        CHECK_ERR(tb_tile_path(TB_TILE_ENTRIES, max, 1, p, sizeof(p)), TB_OK);
        CHECK(strlen(p) < TB_TILE_PATH_MAX);
        CHECK_ERR(tb_tile_path(0, max + 1, 1, p, sizeof(p)), TB_E_INVALID_ARG);
        CHECK_ERR(tb_tile_path(64, 0, 1, p, sizeof(p)), TB_E_INVALID_ARG);
        CHECK_ERR(tb_tile_path(-2, 0, 1, p, sizeof(p)), TB_E_INVALID_ARG);
        CHECK_ERR(tb_tile_path(0, 0, 0, p, sizeof(p)), TB_E_INVALID_ARG);
        CHECK_ERR(tb_tile_path(0, 0, 257, p, sizeof(p)), TB_E_INVALID_ARG);
        CHECK_ERR(tb_tile_path(0, 1234067, 256, p, 12), TB_E_OVERFLOW);
        for (uint64_t k = 0; k < 3000; k += 7) {
                CHECK_ERR(tb_tile_path(3, k, 9, p, sizeof(p)), TB_OK);
                CHECK_ERR(tb_tile_path_parse(p, &level, &n, &w), TB_OK);
                CHECK(level == 3 && n == k && w == 9);
        }
}

/* Write a tree of 600 entries, read it back, check it; tamper; rewrite. */
static void test_dir(void)
{
        char dir[] = "/tmp/test_tiles.XXXXXX", err[TILES_ERR_MAX];
        struct tiles_entries e = {0}, back = {0};
        struct tiles_tree t;
        struct tiles_written w;
        uint8_t cp[] = "checkpoint\n";
        char cmd[128];

        CHECK(mkdtemp(dir) != NULL);
        make_entries("entry {i}", 600, &e);
        CHECK(tiles_tree_build(&e, &t) == 0);
        CHECK(tiles_write(dir, &t, &e, 0, &w, err) == 0);
        CHECK(w.written == 7 && w.kept == 0); /* 3 bundles, 3 + 1 tiles */
        CHECK(tiles_write_checkpoint(dir, cp, sizeof(cp) - 1, err) == 0);
        CHECK(tiles_write(dir, &t, &e, 0, &w, err) == 0);
        CHECK(w.written == 0 && w.kept == 7);
        CHECK(tiles_read_entries(dir, 600, &back, err) == 0);
        CHECK(back.n == 600 && back.len[599] == e.len[599] &&
              memcmp(back.data[599], e.data[599], e.len[599]) == 0);
        CHECK(tiles_check(dir, &t, err) == 0);
        CHECK(tiles_read_entries(dir, 601, &back, err) != 0);
        tiles_entries_free(&back);

        /* another history in the same place: refused, unless rewriting */
        free(e.data[3]);
        e.data[3] = (uint8_t *)strdup("other");
        e.len[3] = 5;
        tiles_tree_free(&t);
        CHECK(tiles_tree_build(&e, &t) == 0);
        CHECK(tiles_check(dir, &t, err) != 0);
        CHECK(strstr(err, "tile/0/000: hash 3 is not the leaf hash of entry "
                          "seq 3") != NULL);
        CHECK(tiles_write(dir, &t, &e, 0, &w, err) != 0);
        CHECK(strstr(err, "another history") != NULL);
        CHECK(tiles_write(dir, &t, &e, 1, &w, err) == 0);
        CHECK(tiles_check(dir, &t, err) == 0);

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
        tiles_tree_free(&t);
        tiles_entries_free(&e);
}

/* Without libcurl a URL is refused, naming the package. */
static void test_http_stub(void)
{
        char err[TILES_ERR_MAX];
        uint8_t *p;
        size_t n;

        CHECK(tiles_http_is_url("https://mirror.example/log"));
        CHECK(tiles_http_is_url("http://127.0.0.1:8080"));
        CHECK(!tiles_http_is_url("/srv/http://x"));
        CHECK(tiles_read_file("https://mirror.example/log", "checkpoint", 10,
                              &p, &n, err) != 0);
        CHECK(p == NULL && strstr(err, "libcurl4-openssl-dev") != NULL);
}

int main(void)
{
        if (sodium_init() < 0)
                return 2;
        test_docs();
        test_paths();
        test_dir();
        test_http_stub();
        return check_done("test_tiles");
}
