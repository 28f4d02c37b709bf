/*
 * daemon/ledger/ledger_accounts.c - the account rows written behind
 * (storage format 4, docs/storage.md "Format 4").
 *
 * Every entry that touches an account changes its row in `accounts`.  The
 * rows are keyed by account id, so a batch over accounts far apart in key
 * order dirties one 4 KiB leaf per entry, and LMDB writes every dirty page
 * whole at each commit: about 4 KB written per entry from this database
 * alone (docs/performance.md).  So a row is written behind: a write
 * transaction stages the rows it changes (`pend`), and its commit
 * publishes them to the rows behind (`live`), which the writer and the
 * readers consult before the database.  When live holds max_rows rows, or
 * max_entries entries went by since the last flush, the batch's own
 * transaction also writes every row behind and meta `accounts_through`
 * (the tree size they are the rows after); once that commits, live is
 * emptied.  A flush dirties each leaf once for many entries.
 *
 * Nothing durable depends on the rows behind: every entry is in the log
 * and its history rows (committed with it), and those are what the rows
 * are made of.  After a crash, ledger_accounts_catch_up() (at open)
 * derives the rows of the entries after accounts_through again, from the
 * log records and their history rows, and flushes them.
 *
 * Readers (ledger_read.c) look at live before they begin their read
 * transaction: a row published to live was committed before, so the
 * snapshot they then take holds everything the row points at (its
 * history chain).  A flush that commits between the two would leave them a
 * snapshot whose `accounts` is newer than what they saw missing from live;
 * they notice (the snapshot's accounts_through is not the one live had)
 * and look again.
 *
 * Threads: pend, and live's contents, change only in the writer (under
 * the ledger's write lock); live changes under mu, which readers take to
 * look; the writer reads live without it.
 */
#include <errno.h>
#include <stddef.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ledger_store.h"

#define NIL UINT32_MAX

/*
 * A table of rows by key: a dense array of rows of one type, each
 * beginning with its hash chain's next, and chain heads.  The key is at
 * key_off in each row: key_len bytes, or (key_len 0) a NUL-terminated id.
 */
struct tab {
        unsigned char *rows;
        size_t size, key_off, key_len; /* a row's bytes, where its key is */
        size_t n, cap;
        uint32_t *heads;
        size_t nheads; /* a power of two, >= cap */
};

/* An account's row behind. */
struct arow {
        uint32_t next;   /* the hash chain */
        uint8_t fresh;   /* not in the database (registered since) */
        uint8_t flushed; /* written by the open transaction's flush */
        uint64_t first;  /* the seq of its oldest change not in the database */
        struct tb_balance_info a;
        struct ledger_store_services sv;
};

/* An accepted entry's idem row behind: its key and seq.  Only the writer
 * looks at them (retries are answered in the batch's transaction). */
struct irow {
        uint32_t next;
        uint8_t key[LEDGER_IDEM_KEY_SIZE];
        uint64_t seq;
};

struct ledger_acache {
        pthread_mutex_t mu;
        pthread_cond_t settled;  /* flushes became even (under mu) */
        uint64_t flushes;        /* under mu: 1 added when a flush goes into the
                                    open transaction, 1 when that ends (committed
                                    or not): odd while one is being committed */
        struct tab ilive, ipend; /* idem rows behind (struct irow), and the
                                    open transaction's */
        struct tab live;         /* account rows (struct arow) committed, not
                                    yet in the database */
        struct tab pend;         /* the open write transaction's */
        uint64_t through;        /* meta accounts_through: every entry below it
                                    is in the database's rows */
        uint64_t fresh;          /* rows of live not in the database */
        int flushing;            /* the open write transaction flushes: its rows
                                    marked flushed leave live when it commits */
        uint64_t flush_through;  /* ... and through becomes this */
        int through_known;       /* through was read from the database */
        char sweep[TB_ACCOUNT_ID_MAX + 1]; /* the last id flushed: the next
                                              flush starts after it */
        struct arow **order; /* the flush's scratch: every row behind */
        size_t order_cap;
};

/*
 * The tables' hash: SipHash (crypto_shorthash) under a key drawn once per
 * process, so that whoever chooses account ids or request ids cannot
 * choose ids that share a chain (a chain walked under the readers' mutex).
 */
static uint8_t hash_secret[crypto_shorthash_KEYBYTES];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_init(void)
{
        if (sodium_init() < 0)
                abort(); /* no random source: nothing of ours could run */
        randombytes_buf(hash_secret, sizeof(hash_secret));
}

static uint32_t hash_bytes(const void *p, size_t n)
{
        uint8_t h[crypto_shorthash_BYTES];

        (void)crypto_shorthash(h, p, n, hash_secret);
        return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
               (uint32_t)h[3] << 24;
}

static const void *tab_key(const struct tab *t, const void *row, size_t *len)
{
        const char *k = (const char *)row + t->key_off;

        *len = t->key_len ? t->key_len : strlen(k);
        return k;
}

static uint32_t *tab_next(const struct tab *t, size_t i)
{
        return (uint32_t *)(void *)(t->rows + i * t->size);
}

static uint32_t tab_hash(const struct tab *t, const void *row)
{
        size_t len;
        const void *k = tab_key(t, row, &len);

        return hash_bytes(k, len) & (uint32_t)(t->nheads - 1);
}

/* Link rows 0..n into the chains (after a growth or a compaction). */
static void tab_relink(struct tab *t)
{
        uint32_t h;

        memset(t->heads, 0xff, t->nheads * sizeof(*t->heads));
        for (size_t i = 0; i < t->n; i++) {
                h = tab_hash(t, t->rows + i * t->size);
                *tab_next(t, i) = t->heads[h];
                t->heads[h] = (uint32_t)i;
        }
}

static void tab_init(struct tab *t, size_t size, size_t key_off, size_t key_len)
{
        memset(t, 0, sizeof(*t));
        t->size = size;
        t->key_off = key_off;
        t->key_len = key_len;
}

static void tab_clear(struct tab *t)
{
        t->n = 0;
        if (t->heads)
                memset(t->heads, 0xff, t->nheads * sizeof(*t->heads));
}

static void tab_free(struct tab *t)
{
        free(t->rows);
        free(t->heads);
        t->rows = NULL;
        t->heads = NULL;
        t->n = t->cap = t->nheads = 0;
}

/* The row whose key is key (k bytes, or a NUL-terminated id), or NULL. */
static void *tab_find(const struct tab *t, const void *key)
{
        size_t klen = t->key_len ? t->key_len : strlen(key), len;
        uint32_t i;

        if (t->n == 0)
                return NULL;
        for (i = t->heads[hash_bytes(key, klen) & (t->nheads - 1)]; i != NIL;
             i = *tab_next(t, i)) {
                const void *k = tab_key(t, t->rows + i * t->size, &len);

                if (len == klen && memcmp(k, key, klen) == 0)
                        return t->rows + i * t->size;
        }
        return NULL;
}

/* Room for `want` rows: 0, or ENOMEM. */
static int tab_reserve(struct tab *t, size_t want)
{
        size_t cap, nheads;
        unsigned char *rows;
        uint32_t *heads;

        if (want <= t->cap)
                return 0;
        for (cap = t->cap ? t->cap : 256; cap < want; cap *= 2)
                ;
        if (cap >= NIL || !(rows = realloc(t->rows, cap * t->size)))
                return ENOMEM;
        t->rows = rows;
        t->cap = cap;
        if (t->nheads >= cap)
                return 0;
        for (nheads = t->nheads ? t->nheads : 256; nheads < cap; nheads *= 2)
                ;
        if (!(heads = malloc(nheads * sizeof(*heads))))
                return ENOMEM;
        free(t->heads);
        t->heads = heads;
        t->nheads = nheads;
        tab_relink(t);
        return 0;
}

/* The row of key (its bytes copied from `row`, whose key it is), made if
 * missing (*made 1) and linked; NULL on ENOMEM.  The caller fills the
 * rest of a new row. */
static void *tab_get(struct tab *t, const void *row, int *made)
{
        size_t len;
        const void *k = tab_key(t, row, &len);
        unsigned char *r = tab_find(t, k);
        uint32_t h;

        *made = 0;
        if (r)
                return r;
        if (tab_reserve(t, t->n + 1))
                return NULL;
        r = t->rows + t->n * t->size;
        memcpy(r, row, t->size);
        h = tab_hash(t, r);
        *tab_next(t, t->n) = t->heads[h];
        t->heads[h] = (uint32_t)t->n++;
        *made = 1;
        return r;
}

static struct arow *arows(const struct tab *t)
{
        return (struct arow *)(void *)t->rows;
}

static struct irow *irows(const struct tab *t)
{
        return (struct irow *)(void *)t->rows;
}

/* The row of a->account in t, made (fresh and first as given) if missing;
 * NULL on ENOMEM. */
static struct arow *tab_put(struct tab *t, const struct tb_balance_info *a,
                            const struct ledger_store_services *sv, int fresh,
                            uint64_t first)
{
        struct arow new = {0, (uint8_t)fresh, 0, first, *a, *sv}, *r;
        int made;

        if (!(r = tab_get(t, &new, &made)))
                return NULL;
        r->a = *a;
        r->sv = *sv;
        return r;
}

/* ------------------------------------------------- the idem rows behind */

/* key's row set to seq (made if missing): 0, or ENOMEM. */
static int itab_put(struct tab *t, const uint8_t *key, uint64_t seq)
{
        struct irow new = {0, {0}, seq}, *r;
        int made;

        memcpy(new.key, key, LEDGER_IDEM_KEY_SIZE);
        if (!(r = tab_get(t, &new, &made)))
                return ENOMEM;
        r->seq = seq;
        return 0;
}

void ledger_idem_stage(struct ledger_txn *t, const uint8_t *key, size_t klen,
                       uint64_t seq)
{
        if (t->rc)
                return;
        if (klen != LEDGER_IDEM_KEY_SIZE) {
                ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
                return;
        }
        /* and room in ilive, so that the commit's merge cannot fail */
        if (itab_put(&t->l->ac->ipend, key, seq) ||
            tab_reserve(&t->l->ac->ilive,
                        t->l->ac->ilive.n + t->l->ac->ipend.n))
                ledger_txn_fail(t, ENOMEM);
}

int ledger_idem_behind(struct ledger_txn *t, const uint8_t *key, size_t klen,
                       uint64_t *seq)
{
        struct ledger_acache *c = t->l->ac;
        const struct irow *r;

        if (!c || klen != LEDGER_IDEM_KEY_SIZE)
                return 0;
        if (!(r = tab_find(&c->ipend, key)) && !(r = tab_find(&c->ilive, key)))
                return 0;
        *seq = r->seq;
        return 1;
}

static int by_key(const void *x, const void *y)
{
        const struct irow *const *a = x, *const *b = y;

        return memcmp((*a)->key, (*b)->key, LEDGER_IDEM_KEY_SIZE);
}

/* Every idem row behind and staged into t's database, in key order (so
 * that those after the database's last key are appended, filling pages). */
static void idem_flush_into(struct ledger_txn *t)
{
        struct ledger_acache *c = t->l->ac;
        size_t n = c->ilive.n + c->ipend.n, i, k = 0;
        struct irow **order;

        if (n == 0)
                return;
        if (!(order = malloc(n * sizeof(*order)))) {
                ledger_txn_fail(t, ENOMEM);
                return;
        }
        for (i = 0; i < c->ilive.n; i++)
                if (!tab_find(&c->ipend, irows(&c->ilive)[i].key))
                        order[k++] = &irows(&c->ilive)[i];
        for (i = 0; i < c->ipend.n; i++)
                order[k++] = &irows(&c->ipend)[i];
        qsort(order, k, sizeof(*order), by_key);
        for (i = 0; i < k && !t->rc; i++)
                ledger_store_idem_row_put(t, order[i]->key,
                                          LEDGER_IDEM_KEY_SIZE, order[i]->seq);
        free(order);
}

/* -------------------------------------------------- the account rows */

int ledger_accounts_new(struct ledger *l)
{
        if (pthread_once(&hash_once, hash_init) != 0)
                return ENOMEM;
        struct ledger_acache *c = calloc(1, sizeof(*c));

        if (!c)
                return ENOMEM;
        tab_init(&c->live, sizeof(struct arow),
                 offsetof(struct arow, a.account), 0);
        c->pend = c->live;
        tab_init(&c->ilive, sizeof(struct irow), offsetof(struct irow, key),
                 LEDGER_IDEM_KEY_SIZE);
        c->ipend = c->ilive;
        if (pthread_mutex_init(&c->mu, NULL)) {
                free(c);
                return ENOMEM;
        }
        if (pthread_cond_init(&c->settled, NULL)) {
                pthread_mutex_destroy(&c->mu);
                free(c);
                return ENOMEM;
        }
        l->ac = c;
        return 0;
}

void ledger_accounts_free(struct ledger *l)
{
        struct ledger_acache *c = l->ac;

        if (!c)
                return;
        tab_free(&c->live);
        tab_free(&c->pend);
        tab_free(&c->ilive);
        tab_free(&c->ipend);
        free(c->order);
        pthread_cond_destroy(&c->settled);
        pthread_mutex_destroy(&c->mu);
        free(c);
        l->ac = NULL;
}

/* The writer's view of accounts_through, read once from its transaction. */
static int writer_through(struct ledger_txn *t, uint64_t *through)
{
        struct ledger_acache *c = t->l->ac;

        if (!c->through_known) {
                if (!ledger_store_meta_uint_get(
                        t, LEDGER_STORE_ACCOUNTS_THROUGH, &c->through)) {
                        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                        return 0;
                }
                c->through_known = 1;
        }
        *through = c->through;
        return 1;
}

int ledger_accounts_behind_get(struct ledger_txn *t, const char *account,
                               struct tb_balance_info *a,
                               struct ledger_store_services *sv)
{
        struct ledger_acache *c = t->l->ac;
        const struct arow *r;

        if (!c || strlen(account) > TB_ACCOUNT_ID_MAX)
                return -1;
        if (!(r = tab_find(&c->pend, account)) &&
            !(r = tab_find(&c->live, account)))
                return -1;
        *a = r->a;
        *sv = r->sv;
        return 1;
}

void ledger_accounts_stage(struct ledger_txn *t,
                           const struct tb_balance_info *a,
                           const struct ledger_store_services *sv)
{
        struct ledger_acache *c = t->l->ac;
        struct tb_balance_info old;
        struct ledger_store_services osv;
        int fresh = 0, rc = 0;

        if (t->rc)
                return;
        if (!c) {
                ledger_store_accounts_row_put(t, a, sv);
                return;
        }
        const struct arow *pr = tab_find(&c->pend, a->account);
        const struct arow *lr = tab_find(&c->live, a->account);
        uint64_t first = a->last_seq; /* account_write() set it: seq */

        if (pr) {
                fresh = pr->fresh;
                first = pr->first;
        } else if (lr) {
                fresh = lr->fresh;
                first = lr->first;
        } else {
                fresh =
                    !ledger_store_accounts_row_get(t, a->account, &old, &osv);
        }
        if (t->rc)
                return;
        if (!tab_put(&c->pend, a, sv, fresh, first)) {
                ledger_txn_fail(t, ENOMEM);
                return;
        }
        /* room in live for every staged row, so that publishing them
         * after the commit cannot fail (readers look at live under mu) */
        if (c->live.cap < c->live.n + c->pend.n) {
                LEDGER_MUST(pthread_mutex_lock(&c->mu));
                rc = tab_reserve(&c->live, c->live.n + c->pend.n);
                LEDGER_MUST(pthread_mutex_unlock(&c->mu));
        }
        if (rc)
                ledger_txn_fail(t, ENOMEM);
}

static int by_account(const void *x, const void *y)
{
        const struct arow *const *a = x, *const *b = y;

        return strcmp((*a)->a.account, (*b)->a.account);
}

/*
 * Flush into t, which ends at tree size `size`: with all, every row
 * behind (staged rows as staged); else the next `chunk` rows in account
 * order after the last one flushed, round the key space: a run of
 * neighbouring ids dirties few leaves for many rows, and the pages a flush
 * copies stay few.  Rows written are marked; accounts_through becomes the
 * oldest change of the rows still behind.
 */
enum flush_mode { FLUSH_IDEM, FLUSH_CHUNK, FLUSH_ALL };

static int after_sweep(const struct arow *r, const char *sweep)
{
        return strcmp(r->a.account, sweep) > 0;
}

/* Move the k smallest ids of v[0..n) to its front (quickselect: the run
 * to flush is found in O(n), where sorting every row behind at each flush
 * took most of its time). */
static void smallest(struct arow **v, size_t n, size_t k)
{
        size_t lo = 0, hi = n, rounds = 0, limit = 16;

        for (size_t m = n; m > 1; m /= 2)
                limit += 2; /* 2 log2(n) + 16 rounds, then a sort */
        while (k > lo && k < hi && hi - lo > 1) {
                if (++rounds > limit) {
                        /* ids arranged against the pivot: sorting the
                         * rest is O(n log n) whatever they are */
                        qsort(v + lo, hi - lo, sizeof(*v), by_account);
                        return;
                }
                /* the lower middle: then j < hi - 1, and each round
                 * shrinks the range */
                const char *pivot = v[lo + (hi - 1 - lo) / 2]->a.account;
                size_t i = lo, j = hi - 1;
                struct arow *x;

                for (;;) { /* Hoare: v[lo..i) <= pivot <= v[j+1..hi) */
                        while (strcmp(v[i]->a.account, pivot) < 0)
                                i++;
                        while (strcmp(v[j]->a.account, pivot) > 0)
                                j--;
                        if (i >= j)
                                break;
                        x = v[i];
                        v[i++] = v[j];
                        v[j--] = x;
                }
                if (k <= j)
                        hi = j + 1;
                else
                        lo = j + 1;
        }
}

/*
 * Flush into t, which ends at tree size `size`: FLUSH_ALL every row behind
 * (staged rows as staged); FLUSH_CHUNK the next accounts_behind / 16 rows
 * in account order after the last one flushed, round the key space: a run
 * of neighbouring ids dirties few leaves for many rows, and the pages (and
 * time) one flush takes stay few; FLUSH_IDEM no account row.  Every idem
 * row behind in each case.  Rows written are marked; accounts_through
 * becomes the oldest change of the rows still behind.
 */
static void flush_into(struct ledger_txn *t, uint64_t size,
                       enum flush_mode mode)
{
        struct ledger_acache *c = t->l->ac;
        size_t n = 0, i, m, chunk;
        int wrapped = 0;
        uint64_t through = size;
        struct arow *r, **order, *x;

        if (c->order_cap < c->live.n + c->pend.n) {
                if (!(order = realloc(c->order, (c->live.n + c->pend.n) *
                                                    sizeof(*order)))) {
                        ledger_txn_fail(t, ENOMEM);
                        return;
                }
                c->order = order;
                c->order_cap = c->live.n + c->pend.n;
        }
        order = c->order;
        /* every row behind, a staged row in place of its live one (few
         * lookups: the staged rows are one batch's) */
        for (i = 0; i < c->live.n; i++)
                order[n++] = &arows(&c->live)[i];
        for (i = 0; i < c->pend.n; i++) {
                r = tab_find(&c->live, arows(&c->pend)[i].a.account);
                if (r)
                        order[r - arows(&c->live)] = &arows(&c->pend)[i];
                else
                        order[n++] = &arows(&c->pend)[i];
        }
        chunk = t->l->opt.accounts_behind / 16;
        if (chunk == 0)
                chunk = 1;
        /* a run at least as long as what the batches added beyond
         * accounts_behind: batches that change more rows than a run holds
         * would otherwise pile them up until the entries' flush */
        if (n > t->l->opt.accounts_behind &&
            n - t->l->opt.accounts_behind > chunk)
                chunk = n - t->l->opt.accounts_behind;
        if (mode == FLUSH_IDEM) {
                chunk = 0;
        } else if (mode == FLUSH_ALL || t->l->opt.accounts_behind == 0 ||
                   chunk >= n) {
                chunk = n;
        } else {
                /* those after the sweep first (m of them), the rest after */
                for (i = 0, m = 0; i < n; i++)
                        if (after_sweep(order[i], c->sweep)) {
                                x = order[m];
                                order[m++] = order[i];
                                order[i] = x;
                        }
                if (m >= chunk) {
                        smallest(order, m, chunk);
                } else { /* round the key space: the smallest ids next */
                        smallest(order + m, n - m, chunk - m);
                        wrapped = 1;
                }
                /* in id order, so that LMDB's puts walk the tree once */
                qsort(order, chunk, sizeof(*order), by_account);
        }
        for (i = 0; i < n && !t->rc; i++) {
                r = order[i];
                if (i < chunk) {
                        ledger_store_accounts_row_put(t, &r->a, &r->sv);
                        r->flushed = 1;
                } else if (r->first < through) {
                        through = r->first;
                }
        }
        /* the sweep goes on after the greatest id of the run (having
         * gone round, the greatest of those from the start of the ids) */
        if (chunk > 0 && chunk < n) {
                const char *last = order[chunk - 1]->a.account;

                if (wrapped)
                        for (i = 0; i < chunk; i++)
                                if (!after_sweep(order[i], c->sweep))
                                        last = order[i]->a.account;
                memmove(c->sweep, last, strlen(last) + 1);
        }
        /* every idem row behind, whatever the mode: then none has a seq
         * below the new accounts_through */
        idem_flush_into(t);
        ledger_store_meta_uint_put(t, LEDGER_STORE_ACCOUNTS_THROUGH, through);
        if (!c->flushing) {
                LEDGER_MUST(pthread_mutex_lock(&c->mu));
                c->flushes++; /* odd: a count's peek waits */
                LEDGER_MUST(pthread_mutex_unlock(&c->mu));
        }
        c->flushing = 1;
        c->flush_through = through;
}

void ledger_accounts_before_commit(struct ledger_txn *t, uint64_t size,
                                   int force)
{
        struct ledger_acache *c = t->l->ac;
        uint64_t through, rows, idem;
        enum flush_mode mode;
        int stale;

        if (!c || t->rc || !writer_through(t, &through))
                return;
        rows = c->live.n + c->pend.n;
        idem = c->ilive.n + c->ipend.n;
        stale = size - through >= LEDGER_ACCOUNTS_ENTRIES;
        if (force || stale)
                mode = FLUSH_ALL;
        else if (rows > 0 && rows >= t->l->opt.accounts_behind)
                mode = FLUSH_CHUNK;
        else if (idem > 0 &&
                 (idem >= LEDGER_IDEM_BEHIND || t->l->opt.accounts_behind == 0))
                mode = FLUSH_IDEM;
        else
                return;
        if (force && rows == 0 && idem == 0 && through == size)
                return;
        flush_into(t, size, mode);
}

/* Drop live's rows that the committed flush wrote (under mu). */
static void live_drop_flushed(struct ledger_acache *c)
{
        struct arow *rows = arows(&c->live);
        size_t i, j = 0;

        for (i = 0; i < c->live.n; i++) {
                if (rows[i].flushed) {
                        c->fresh -= rows[i].fresh;
                        continue;
                }
                if (j != i)
                        rows[j] = rows[i];
                j++;
        }
        c->live.n = j;
        if (c->live.heads != NULL)
                tab_relink(&c->live);
}

void ledger_accounts_end(struct ledger *l, int committed)
{
        struct ledger_acache *c = l->ac;
        const struct arow *p;
        struct arow *r;
        size_t i;

        if (!c)
                return;
        if (committed) {
                LEDGER_MUST(pthread_mutex_lock(&c->mu));
                for (i = 0; i < c->pend.n; i++) {
                        p = &arows(&c->pend)[i];
                        if ((r = tab_find(&c->live, p->a.account)) != NULL) {
                                r->a = p->a;
                                r->sv = p->sv;
                                r->flushed = p->flushed;
                                continue;
                        }
                        /* never NULL: ledger_accounts_stage() made room */
                        r = tab_put(&c->live, &p->a, &p->sv, p->fresh,
                                    p->first);
                        if (!r)
                                abort();
                        r->flushed = p->flushed;
                        c->fresh += p->fresh;
                }
                if (c->flushing) {
                        live_drop_flushed(c);
                        c->through = c->flush_through;
                        c->flushes++;
                        LEDGER_MUST(pthread_cond_broadcast(&c->settled));
                }
                LEDGER_MUST(pthread_mutex_unlock(&c->mu));
                /* the writer's alone: no lock */
                if (c->flushing) {
                        tab_clear(&c->ilive);
                } else {
                        for (i = 0; i < c->ipend.n; i++)
                                /* never ENOMEM: ledger_idem_stage() made
                                 * room */
                                if (itab_put(&c->ilive, irows(&c->ipend)[i].key,
                                             irows(&c->ipend)[i].seq))
                                        abort();
                }
        } else if (c->flushing) {
                for (i = 0; i < c->live.n; i++)
                        arows(&c->live)[i].flushed = 0;
                LEDGER_MUST(pthread_mutex_lock(&c->mu));
                c->flushes++;
                LEDGER_MUST(pthread_cond_broadcast(&c->settled));
                LEDGER_MUST(pthread_mutex_unlock(&c->mu));
        }
        c->flushing = 0;
        tab_clear(&c->pend);
        tab_clear(&c->ipend);
}

void ledger_accounts_peek(struct ledger *l, const char *account,
                          struct ledger_accounts_peek *p)
{
        struct ledger_acache *c = l->ac;
        const struct arow *r;

        memset(p, 0, sizeof(*p));
        if (!c)
                return;
        LEDGER_MUST(pthread_mutex_lock(&c->mu));
        p->through = c->through;
        p->fresh = c->fresh;
        p->known = c->through_known;
        p->flushes = c->flushes;
        if (account && (r = tab_find(&c->live, account)) != NULL) {
                p->a = r->a;
                p->found = 1;
        }
        LEDGER_MUST(pthread_mutex_unlock(&c->mu));
}

void ledger_accounts_peek_settled(struct ledger *l,
                                  struct ledger_accounts_peek *p)
{
        struct ledger_acache *c = l->ac;

        memset(p, 0, sizeof(*p));
        if (!c)
                return;
        LEDGER_MUST(pthread_mutex_lock(&c->mu));
        while (c->flushes & 1)
                LEDGER_MUST(pthread_cond_wait(&c->settled, &c->mu));
        p->through = c->through;
        p->fresh = c->fresh;
        p->known = c->through_known;
        p->flushes = c->flushes;
        p->settled = 1;
        LEDGER_MUST(pthread_mutex_unlock(&c->mu));
}

int ledger_accounts_peek_holds(struct ledger_txn *t,
                               const struct ledger_accounts_peek *p)
{
        struct ledger_acache *c = t->l->ac;
        uint64_t through, flushes;

        if (!t->l->ac || !p->known)
                return 1; /* nothing behind: the database is all */
        if (!ledger_store_meta_uint_get(t, LEDGER_STORE_ACCOUNTS_THROUGH,
                                        &through))
                return 1; /* t->rc tells the caller, or corrupt: the reads
                             go on from the database */
        if (p->settled) { /* no flush began since the peek */
                LEDGER_MUST(pthread_mutex_lock(&c->mu));
                flushes = c->flushes;
                LEDGER_MUST(pthread_mutex_unlock(&c->mu));
                if (flushes != p->flushes)
                        return 0;
        }
        if (through == p->through)
                return 1;
        sched_yield(); /* a flush between the look and the snapshot */
        return 0;
}

/* ------------------------------------------------------------- catch-up */

/* What the entry logged as seq did to account's row (the rules' effect,
 * ledger_rules.c, read back from the record and its history row h). */
static void redo(struct ledger_txn *t, uint64_t seq, const struct tb_entry *e,
                 const struct tb_record *o, const char *account,
                 const struct ledger_store_history *h)
{
        struct tb_balance_info a;
        struct ledger_store_services sv;
        int found = ledger_store_accounts_get(t, account, &a, &sv);
        int64_t end;

        if (t->rc)
                return;
        if (e->kind == TB_KIND_REGISTER) {
                if (found) {
                        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                        return;
                }
                memset(&a, 0, sizeof(a));
                memset(&sv, 0, sizeof(sv));
                memcpy(a.account, account, strlen(account) + 1);
                a.opened_seq = seq;
        } else if (!found || h->prev != a.last_seq ||
                   a.balance + (uint64_t)h->delta != h->balance_after) {
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return;
        }
        switch (e->kind) {
        case TB_KIND_REGISTER:
                break;
        case TB_KIND_SERVICE:
                if (!h->service) {
                        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                        return;
                }
                a.earned += (uint64_t)h->delta;
                a.minutes += e->u.service.minutes;
                sv.last = seq;
                end = e->u.service.start + (int64_t)e->u.service.minutes * 60;
                if ((uint64_t)end > sv.reach)
                        sv.reach = (uint64_t)end;
                break;
        case TB_KIND_REDEEM:
                a.redeemed -= (uint64_t)h->delta;
                break;
        case TB_KIND_TRANSFER:
                if (strcmp(account, e->u.transfer.from) == 0)
                        a.transferred_out -= (uint64_t)h->delta;
                else
                        a.transferred_in += (uint64_t)h->delta;
                break;
        case TB_KIND_REVERSE:
                switch (o->entry.kind) {
                case TB_KIND_SERVICE:
                        a.earned += (uint64_t)h->delta;
                        a.minutes -= o->entry.u.service.minutes;
                        break;
                case TB_KIND_REDEEM:
                        a.redeemed -= (uint64_t)h->delta;
                        break;
                default:
                        if (strcmp(account, o->entry.u.transfer.from) == 0)
                                a.transferred_out -= (uint64_t)h->delta;
                        else
                                a.transferred_in += (uint64_t)h->delta;
                        break;
                }
                break;
        default:
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                return;
        }
        a.balance = h->balance_after;
        a.entries++;
        a.last_seq = seq;
        ledger_store_accounts_put(t, &a, &sv);
}

/* The accounts an entry touches (the rules' order does not matter: each
 * has its own history row at seq), with o the reversed entry's record. */
static size_t touched(const struct tb_entry *e, const struct tb_record *o,
                      const char *out[2])
{
        const struct tb_entry *x = e->kind == TB_KIND_REVERSE ? &o->entry : e;

        switch (x->kind) {
        case TB_KIND_REGISTER:
                out[0] = x->u.reg.account;
                return 1;
        case TB_KIND_SERVICE:
                out[0] = x->u.service.account;
                return 1;
        case TB_KIND_REDEEM:
                out[0] = x->u.redeem.account;
                return 1;
        case TB_KIND_TRANSFER:
                out[0] = x->u.transfer.from;
                out[1] = x->u.transfer.to;
                return 2;
        default:
                return 0;
        }
}

/* The logged record of seq, decoded into r. */
static int logged(struct ledger_txn *t, uint64_t seq, struct tb_record *r)
{
        struct ledger_store_record rec;

        ledger_txn_require(t, ledger_store_log_get(t, seq, &rec));
        if (!t->rc && tb_record_decode(rec.bytes, rec.len, r) != TB_OK)
                ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
        return !t->rc;
}

static int catch_up_once(struct ledger *l, uint64_t *redone)
{
        struct ledger_txn t;
        struct ledger_store_history h;
        struct tb_record r, o;
        struct tb_balance_info a;
        struct ledger_store_services sv;
        struct ledger_store_idem d;
        const char *acct[2];
        uint64_t through = 0, size = 0, seq, by;
        size_t i, n;
        int rc;

        *redone = 0;
        if ((rc = ledger_txn_begin(&t, l, 0)))
                return rc;
        l->ac->through_known = 0;
        ledger_txn_require(
            &t, ledger_store_meta_uint_get(&t, LEDGER_STORE_TREE_SIZE, &size));
        if (writer_through(&t, &through) && through > size)
                ledger_txn_fail(&t, LEDGER_TXN_E_CORRUPT);
        for (seq = through; seq < size && !t.rc; seq++) {
                if (!logged(&t, seq, &r))
                        break;
                memset(&o, 0, sizeof(o));
                if (r.entry.kind == TB_KIND_REVERSE) {
                        /* a refused reverse is not logged: this one was
                         * applied, and `reversed` says so */
                        if (!ledger_store_reversed_get(
                                &t, r.entry.u.reverse.seq, &by) ||
                            by != seq) {
                                ledger_txn_fail(&t, LEDGER_TXN_E_CORRUPT);
                                break;
                        }
                        if (!logged(&t, r.entry.u.reverse.seq, &o))
                                break;
                }
                /* its idem row, if the crash took it (accepted rows
                 * are written behind too) */
                if (ledger_store_idem_get(&t, r.entry.signer,
                                          r.entry.request_id, &d)) {
                        if (d.status != TB_ST_OK || d.seq != seq)
                                ledger_txn_fail(&t, LEDGER_TXN_E_CORRUPT);
                } else if (!t.rc) {
                        memset(&d, 0, sizeof(d));
                        d.status = TB_ST_OK;
                        d.seq = seq;
                        ledger_store_idem_put(&t, r.entry.signer,
                                              r.entry.request_id, &d);
                }
                n = touched(&r.entry, &o, acct);
                for (i = 0; i < n && !t.rc; i++) {
                        /* a flush that wrote the row after seq has it */
                        if (ledger_store_accounts_get(&t, acct[i], &a, &sv) &&
                            a.last_seq >= seq)
                                continue;
                        ledger_txn_require(
                            &t, ledger_store_history_get(&t, acct[i], seq, &h));
                        redo(&t, seq, &r.entry, &o, acct[i], &h);
                }
                (*redone)++;
        }
        ledger_accounts_before_commit(&t, size, 1);
        return ledger_txn_commit(&t);
}

/* Run once(l, arg) again after growing the map while it finds it full. */
static enum ledger_err growing(struct ledger *l,
                               int (*once)(struct ledger *, uint64_t *),
                               uint64_t *arg)
{
        int rc;

        while ((rc = once(l, arg)) == MDB_MAP_FULL)
                if ((rc = ledger_batch_grow(l)))
                        break;
        return ledger_txn_err(rc);
}

enum ledger_err ledger_accounts_catch_up(struct ledger *l, uint64_t *redone)
{
        return growing(l, catch_up_once, redone);
}

uint64_t ledger_accounts_redone(const struct ledger *l)
{
        return l->accounts_redone;
}

uint64_t ledger_accounts_rows_behind(struct ledger *l)
{
        uint64_t n = 0;

        if (l->ac) {
                LEDGER_MUST(pthread_mutex_lock(&l->ac->mu));
                n = l->ac->live.n;
                LEDGER_MUST(pthread_mutex_unlock(&l->ac->mu));
        }
        return n;
}

static int flush_once(struct ledger *l, uint64_t *unused)
{
        struct ledger_txn t;
        uint64_t size;
        int rc;

        (void)unused;
        if ((rc = ledger_txn_begin(&t, l, 0)))
                return rc;
        ledger_txn_require(
            &t, ledger_store_meta_uint_get(&t, LEDGER_STORE_TREE_SIZE, &size));
        ledger_accounts_before_commit(&t, size, 1);
        return ledger_txn_commit(&t);
}

enum ledger_err ledger_accounts_flush_locked(struct ledger *l)
{
        if (!l->ac || (l->ac->live.n == 0 && l->ac->ilive.n == 0))
                return LEDGER_OK;
        return growing(l, flush_once, NULL);
}
