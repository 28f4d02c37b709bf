/*
 * client/audit_map.c - fixed-key hash map (client/audit_map.h).
 *
 * FNV-1a is enough: the keys are account ids, public keys and request ids
 * from a log whose every entry is signed, and a collision costs a probe,
 * never a wrong answer.
 */
#include "audit_map.h"

#include <stdlib.h>
#include <string.h>

static uint64_t audit_map_hash(const uint8_t *p, size_t n)
{
        uint64_t h = 0xcbf29ce484222325u;

        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 0x100000001b3u;
        return h;
}

void audit_map_init(struct audit_map *m, size_t ksize)
{
        memset(m, 0, sizeof(*m));
        m->ksize = ksize;
}

void audit_map_free(struct audit_map *m)
{
        free(m->keys);
        free(m->vals);
        free(m->slots);
        audit_map_init(m, m->ksize);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t audit_map_slot(const struct audit_map *m, const void *key)
{
        size_t mask = m->nslots - 1;
        size_t s = (size_t)audit_map_hash(key, m->ksize) & mask;

        while (m->slots[s] != 0 &&
               memcmp(m->keys + (m->slots[s] - 1) * m->ksize, key, m->ksize) !=
                   0)
                s = (s + 1) & mask;
        return s;
}

uint64_t *audit_map_get(const struct audit_map *m, const void *key)
{
        size_t s;

        if (m->nslots == 0)
                return NULL;
        s = audit_map_slot(m, key);
        return m->slots[s] ? &m->vals[m->slots[s] - 1] : NULL;
}

static int audit_map_grow(struct audit_map *m)
{
        size_t cap = m->cap ? 2 * m->cap : 64, nslots = 4 * cap;
        uint8_t *keys;
        uint64_t *vals;
        uint32_t *slots;

        if (cap > UINT32_MAX / 4)
                return -1;
        if ((keys = realloc(m->keys, cap * m->ksize)) == NULL)
                return -1;
        m->keys = keys;
        if ((vals = realloc(m->vals, cap * sizeof(*vals))) == NULL)
                return -1;
        m->vals = vals;
        if ((slots = calloc(nslots, sizeof(*slots))) == NULL)
                return -1;
        free(m->slots);
        m->slots = slots;
        m->nslots = nslots;
        m->cap = cap;
        for (size_t i = 0; i < m->n; i++)
                m->slots[audit_map_slot(m, m->keys + i * m->ksize)] =
                    (uint32_t)(i + 1);
        return 0;
}

uint64_t *audit_map_put(struct audit_map *m, const void *key, uint64_t v,
                        int *added)
{
        size_t s;

        if (added != NULL)
                *added = 0;
        if (m->nslots != 0) {
                s = audit_map_slot(m, key);
                if (m->slots[s] != 0)
                        return &m->vals[m->slots[s] - 1];
        }
        if (m->n == m->cap && audit_map_grow(m) != 0)
                return NULL;
        s = audit_map_slot(m, key);
        memcpy(m->keys + m->n * m->ksize, key, m->ksize);
        m->vals[m->n] = v;
        m->slots[s] = (uint32_t)(m->n + 1);
        if (added != NULL)
                *added = 1;
        return &m->vals[m->n++];
}
