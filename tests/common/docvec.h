/*
 * tests/common/docvec.h - test vectors parsed out of the specs in docs/.
 *
 * A spec carries its vectors in fenced blocks whose info string is "vector":
 *
 *   ```vector
 *   name: register-alice
 *   account: alice
 *   hex: 01 05 0123...
 *     4567...            <- lines indented by two spaces continue the value
 *   ```
 *
 * Each block is a set of "key: value" lines; "name" is required and unique
 * across docs/.  Each document has one owning test (ledger-format.md:
 * test_entry, protocol.md: test_msg, keys.md: test_key, transparency.md:
 * test_merkle, audit.md: test_tiles, signer.md: test_ledger_signer,
 * storage.md: test_ledger_upgrade, receipts.md: test_receipt, log-link.md:
 * test_link); other
 * tests may reuse its vectors.  The owner loads the
 * document, looks vectors up by name, checks
 * each against the code, and finally calls docvec_unchecked() so a vector in
 * the docs that no test reads fails the suite, and so does any key of a
 * vector that no test read (docvec_find, docvec_str, docvec_hex and the
 * typed getters mark what they return as read): every readable field of a
 * vector, not only its hex, is compared with the code, and docs and code
 * cannot drift.  A key that only explains ("why": what a rejection vector
 * shows; "comment") is for the reader, and docvec_unchecked() ignores it.
 * Values keep inner spaces; docvec_hex() drops all white space before
 * decoding.
 */
#ifndef TB_DOCVEC_H
#define TB_DOCVEC_H

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOCVEC_MAX      256
#define DOCVEC_MAX_KEYS 32

struct docvec {
        char *name;
        int used;
        int nkeys;
        char *key[DOCVEC_MAX_KEYS];
        char *val[DOCVEC_MAX_KEYS];
        unsigned char *read; /* [DOCVEC_MAX_KEYS]: read by a test */
};

struct docvec_set {
        char path[512];
        int n;
        struct docvec v[DOCVEC_MAX];
};

static char *docvec_strdup(const char *s, size_t n)
{
        char *p = malloc(n + 1);

        if (p == NULL) {
                perror("malloc");
                exit(2);
        }
        memcpy(p, s, n);
        p[n] = 0;
        return p;
}

static void docvec_append(char **dst, const char *s, size_t n)
{
        size_t old = strlen(*dst);
        char *p = realloc(*dst, old + n + 2);

        if (p == NULL) {
                perror("realloc");
                exit(2);
        }
        p[old] = ' ';
        memcpy(p + old + 1, s, n);
        p[old + 1 + n] = 0;
        *dst = p;
}

/*
 * Load every vector block of TB_SOURCE_DIR/relpath into set.  Exits the
 * test (status 2) if the file cannot be read or a block is malformed: a spec
 * whose vectors cannot be read is a failing spec.
 */
static void docvec_load(struct docvec_set *set, const char *relpath)
{
        FILE *f;
        char line[4096];
        int inblock = 0, lineno = 0;
        struct docvec *cur = NULL;

        memset(set, 0, sizeof(*set));
        snprintf(set->path, sizeof(set->path), "%s/%s", TB_SOURCE_DIR, relpath);
        if ((f = fopen(set->path, "r")) == NULL) {
                perror(set->path);
                exit(2);
        }
        while (fgets(line, sizeof(line), f) != NULL) {
                size_t n = strcspn(line, "\r\n");
                line[n] = 0;
                lineno++;
                if (!inblock) {
                        if (strcmp(line, "```vector") == 0) {
                                if (set->n == DOCVEC_MAX) {
                                        fprintf(stderr,
                                                "%s: too many vectors\n",
                                                set->path);
                                        exit(2);
                                }
                                cur = &set->v[set->n++];
                                cur->read = calloc(DOCVEC_MAX_KEYS, 1);
                                if (cur->read == NULL) {
                                        perror("calloc");
                                        exit(2);
                                }
                                inblock = 1;
                        }
                        continue;
                }
                if (strcmp(line, "```") == 0) {
                        if (cur->name == NULL) {
                                fprintf(stderr, "%s:%d: vector without name\n",
                                        set->path, lineno);
                                exit(2);
                        }
                        for (int i = 0; i < set->n - 1; i++)
                                if (strcmp(set->v[i].name, cur->name) == 0) {
                                        fprintf(stderr, "%s:%d: duplicate %s\n",
                                                set->path, lineno, cur->name);
                                        exit(2);
                                }
                        inblock = 0;
                        continue;
                }
                if (line[0] == ' ' && line[1] == ' ' && cur->nkeys > 0) {
                        const char *s = line;
                        while (*s == ' ')
                                s++;
                        docvec_append(&cur->val[cur->nkeys - 1], s, strlen(s));
                        continue;
                }
                char *colon = strchr(line, ':');
                if (colon == NULL || cur->nkeys == DOCVEC_MAX_KEYS) {
                        fprintf(stderr, "%s:%d: expected 'key: value'\n",
                                set->path, lineno);
                        exit(2);
                }
                const char *v = colon + 1;
                while (*v == ' ')
                        v++;
                cur->key[cur->nkeys] =
                    docvec_strdup(line, (size_t)(colon - line));
                cur->val[cur->nkeys] = docvec_strdup(v, strlen(v));
                if (strcmp(cur->key[cur->nkeys], "name") == 0)
                        cur->name = cur->val[cur->nkeys];
                cur->nkeys++;
        }
        fclose(f);
        if (inblock) {
                fprintf(stderr, "%s: unterminated vector block\n", set->path);
                exit(2);
        }
}

/* The vector called name, marked used; exits the test if it is missing. */
static struct docvec *docvec_get(struct docvec_set *set, const char *name)
{
        for (int i = 0; i < set->n; i++)
                if (strcmp(set->v[i].name, name) == 0) {
                        set->v[i].used = 1;
                        return &set->v[i];
                }
        fprintf(stderr, "%s: no vector named %s\n", set->path, name);
        exit(2);
}

/* The value of key in v (now marked read), or NULL. */
static const char *docvec_find(const struct docvec *v, const char *key)
{
        for (int i = 0; i < v->nkeys; i++)
                if (strcmp(v->key[i], key) == 0) {
                        v->read[i] = 1;
                        return v->val[i];
                }
        return NULL;
}

/* The unsigned decimal value of key in v; exits the test if it is missing
 * or not a number. */
__attribute__((unused)) static unsigned long long
docvec_u64(const struct docvec *v, const char *key)
{
        const char *s = docvec_find(v, key);
        char *end;
        unsigned long long n;

        if (s == NULL) {
                fprintf(stderr, "vector %s: no key %s\n", v->name, key);
                exit(2);
        }
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno || end == s || *end != 0 || *s == '-') {
                fprintf(stderr, "vector %s: %s: '%s' is not a number\n",
                        v->name, key, s);
                exit(2);
        }
        return n;
}

/* The signed decimal value of key in v; exits the test if malformed. */
__attribute__((unused)) static long long docvec_i64(const struct docvec *v,
                                                    const char *key)
{
        const char *s = docvec_find(v, key);
        char *end;
        long long n;

        if (s == NULL) {
                fprintf(stderr, "vector %s: no key %s\n", v->name, key);
                exit(2);
        }
        errno = 0;
        n = strtoll(s, &end, 10);
        if (errno || end == s || *end != 0) {
                fprintf(stderr, "vector %s: %s: '%s' is not a number\n",
                        v->name, key, s);
                exit(2);
        }
        return n;
}

/* The value of key in v; exits the test if it is missing. */
static const char *docvec_str(const struct docvec *v, const char *key)
{
        const char *s = docvec_find(v, key);

        if (s == NULL) {
                fprintf(stderr, "vector %s: no key %s\n", v->name, key);
                exit(2);
        }
        return s;
}

/*
 * Decode the hex value of key (white space ignored) into a malloc'd buffer;
 * *len gets its size.  Exits the test on malformed hex.
 */
__attribute__((unused)) static unsigned char *
docvec_hex(const struct docvec *v, const char *key, size_t *len)
{
        const char *s = docvec_str(v, key);
        unsigned char *out = malloc(strlen(s) / 2 + 1);
        size_t n = 0;
        int half = -1;

        if (out == NULL)
                exit(2);
        for (; *s; s++) {
                int d;
                if (isspace((unsigned char)*s))
                        continue;
                if (!isxdigit((unsigned char)*s)) {
                        fprintf(stderr, "vector %s: %s: bad hex\n", v->name,
                                key);
                        exit(2);
                }
                d = isdigit((unsigned char)*s)
                        ? *s - '0'
                        : tolower((unsigned char)*s) - 'a' + 10;
                if (half < 0) {
                        half = d;
                } else {
                        out[n++] = (unsigned char)(half << 4 | d);
                        half = -1;
                }
        }
        if (half >= 0) {
                fprintf(stderr, "vector %s: %s: odd hex length\n", v->name,
                        key);
                exit(2);
        }
        *len = n;
        return out;
}

/* A key that explains and is not compared with the code. */
static int docvec_key_is_prose(const char *key)
{
        return strcmp(key, "name") == 0 || strcmp(key, "why") == 0 ||
               strcmp(key, "comment") == 0;
}

/*
 * The number of vectors in set that no docvec_get() asked for, plus the
 * keys of asked-for vectors that no test read (each printed).
 */
__attribute__((unused)) static int
docvec_unchecked(const struct docvec_set *set)
{
        int n = 0;

        for (int i = 0; i < set->n; i++) {
                const struct docvec *v = &set->v[i];

                if (!v->used) {
                        fprintf(stderr,
                                "%s: vector %s is not checked by any "
                                "test\n",
                                set->path, v->name);
                        n++;
                        continue;
                }
                for (int k = 0; k < v->nkeys; k++)
                        if (!v->read[k] && !docvec_key_is_prose(v->key[k])) {
                                fprintf(stderr,
                                        "%s: vector %s: key '%s' is never "
                                        "read by a test\n",
                                        set->path, v->name, v->key[k]);
                                n++;
                        }
        }
        return n;
}

static void docvec_free(struct docvec_set *set)
{
        for (int i = 0; i < set->n; i++) {
                for (int k = 0; k < set->v[i].nkeys; k++) {
                        free(set->v[i].key[k]);
                        free(set->v[i].val[k]);
                }
                free(set->v[i].read);
        }
        set->n = 0;
}

#endif
