/*
 * client/audit_map.h - a hash map from fixed-size byte keys to u64
 * values, for the audit's replay (accounts, keys, request ids, minutes
 * per account and day).  Open addressing, grows by doubling; keys and
 * values live in arrays in insertion order, so index i is the i-th key
 * ever put.
 */
#ifndef TB_AUDIT_MAP_H
#define TB_AUDIT_MAP_H

#include <stddef.h>
#include <stdint.h>

struct audit_map {
        size_t ksize;    /* bytes in a key */
        size_t n, cap;   /* keys held; room in keys/vals */
        uint8_t *keys;   /* n * ksize */
        uint64_t *vals;  /* n */
        uint32_t *slots; /* nslots: 0 = empty, else index + 1 */
        size_t nslots;   /* a power of two, > 2n */
};

/* An empty map of keys of ksize bytes (no allocation yet). */
void audit_map_init(struct audit_map *m, size_t ksize);

void audit_map_free(struct audit_map *m);

/* The value of key, or NULL if absent.  Valid until the next put. */
uint64_t *audit_map_get(const struct audit_map *m, const void *key);

/*
 * The value of key, added with value v if absent (*added tells, may be
 * NULL).  NULL when out of memory.  Valid until the next put.
 */
uint64_t *audit_map_put(struct audit_map *m, const void *key, uint64_t v,
                        int *added);

#endif
