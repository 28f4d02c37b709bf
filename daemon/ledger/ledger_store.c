/*
 * daemon/ledger/ledger_store.c - the storage codec of docs/storage.md: its
 * databases in its order, each a section with its get/put pair.
 *
 * Keys and values are built with tb_wbuf and read with tb_rbuf, so every
 * value is decoded exactly (tb_rbuf_end: no byte left over) and a stored
 * value of the wrong shape becomes the transaction's sticky
 * LEDGER_TXN_E_CORRUPT instead of a misread.  Keys are big-endian so that
 * LMDB's byte order is numeric order; the account part of a composite key
 * carries its length so that one account's rows are one contiguous range.
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "entry.h"
#include "ledger_store.h"
#include "merkle.h"

/* The longest key (acct ‖ u64) and the longest value we build (a key row
 * with the longest name); log and checkpoint values are put as they are. */
#define ROW_KEY_MAX   (1 + TB_ACCOUNT_ID_MAX + 8)
#define ROW_VALUE_MAX (1 + 8 + 8 + 1 + TB_NAME_MAX)

_Static_assert(TB_NAME_MAX <= 255, "a key name has a one-byte length");
_Static_assert(TB_ACCOUNT_ID_MAX <= 255, "an acct has a one-byte length");

struct row {
        uint8_t b[ROW_VALUE_MAX > ROW_KEY_MAX ? ROW_VALUE_MAX : ROW_KEY_MAX];
        struct tb_wbuf w;
};

static struct tb_wbuf *row_init(struct row *r)
{
        tb_wbuf_init(&r->w, r->b, sizeof(r->b));
        return &r->w;
}

static void row_put(struct ledger_txn *t, enum ledger_db db,
                    const struct tb_wbuf *k, const struct row *v)
{
        if (v->w.err != TB_OK)
                ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
        ledger_txn_put_row(t, db, k, v->b, v->w.len, 0);
}

/* The end of every decode (ledger_txn_decoded), with out zeroed when it
 * fails. */
static int decoded(struct ledger_txn *t, const struct tb_rbuf *r, void *out,
                   size_t size)
{
        if (ledger_txn_decoded(t, r))
                return 1;
        memset(out, 0, size);
        return 0;
}

/* A u64 key (log, hashes, checkpoints, reversed). */
static const struct tb_wbuf *row_u64(struct row *r, uint64_t n)
{
        tb_put_u64(row_init(r), n);
        return &r->w;
}

/* ------------------------------------------------------------------ log */

static int log_decode(struct ledger_txn *t, struct tb_rbuf *r,
                      struct ledger_store_record *rec)
{
        rec->bytes = r->p;
        rec->len = r->len;
        rec->seq = tb_get_u64(r);
        rec->received = (int64_t)tb_get_u64(r);
        rec->signed_len = tb_rbuf_left(r);
        rec->signed_entry = tb_get_ref(r, rec->signed_len);
        if (rec->signed_len == 0)
                tb_rbuf_fail(r, TB_E_TRUNCATED);
        return decoded(t, r, rec, sizeof(*rec));
}

void ledger_store_log_put(struct ledger_txn *t, uint64_t seq,
                          const uint8_t *rec, size_t len)
{
        struct row k;

        ledger_txn_put_row(t, LEDGER_DB_LOG, row_u64(&k, seq), rec, len,
                           MDB_APPEND);
}

int ledger_store_log_get(struct ledger_txn *t, uint64_t seq,
                         struct ledger_store_record *r)
{
        struct row k;
        struct tb_rbuf v;

        memset(r, 0, sizeof(*r));
        if (!ledger_txn_get_row(t, LEDGER_DB_LOG, row_u64(&k, seq), &v))
                return 0;
        return log_decode(t, &v, r);
}

int ledger_store_log_last(struct ledger_txn *t, uint64_t *seq)
{
        MDB_val v;

        *seq = 0;
        return ledger_txn_cursor_u64(t, LEDGER_DB_LOG, MDB_LAST, 0, seq, &v);
}

void ledger_store_log_walk(struct ledger_txn *t, ledger_store_log_cb *cb,
                           void *ctx)
{
        MDB_cursor *c = ledger_txn_cursor_open(t, LEDGER_DB_LOG);
        struct ledger_store_record rec;
        struct tb_rbuf r;
        MDB_val k, v;
        uint64_t seq;
        MDB_cursor_op op = MDB_FIRST;

        while (ledger_txn_cursor_get(t, c, &k, &v, op) &&
               ledger_txn_key_u64(t, &k, &seq)) {
                tb_rbuf_init(&r, v.mv_data, v.mv_size);
                if (!log_decode(t, &r, &rec) || cb(ctx, seq, &rec))
                        break;
                op = MDB_NEXT;
        }
        ledger_txn_cursor_close(c);
}

/* --------------------------------------------------------------- hashes */

/* StoredHashIndex of golang.org/x/mod/sumdb/tlog (docs/storage.md). */
static uint64_t stored_hash_index(unsigned level, uint64_t n)
{
        uint64_t i = 0;
        unsigned l;

        for (l = level; l > 0; l--)
                n = 2 * n + 1;
        for (; n > 0; n >>= 1)
                i += n;
        return i + level;
}

/* Format 3 stores the nodes of levels >= LEDGER_HASHES_LEVEL only
 * (format 2: >= 1, format 1: all): a node below is recomputed from the
 * log rows under it, at most 2^(LEDGER_HASHES_LEVEL - 1) consecutive
 * records read with one cursor and hashed. */
void ledger_store_hashes_put(struct ledger_txn *t, uint64_t n,
                             const uint8_t (*hashes)[TB_HASH_SIZE],
                             size_t count)
{
        uint64_t idx = stored_hash_index(0, n);
        struct row k;
        size_t i;

        for (i = LEDGER_HASHES_LEVEL; i < count; i++)
                ledger_txn_put_row(t, LEDGER_DB_HASHES, row_u64(&k, idx + i),
                                   hashes[i], TB_HASH_SIZE, MDB_APPEND);
}

/* MTH of the 2^level records from index << level: the leaves hashed in
 * order and folded pairwise.  1, or 0 with the failure in t->rc. */
static int hashes_from_log(struct ledger_txn *t, unsigned level, uint64_t index,
                           uint8_t out[TB_HASH_SIZE])
{
        uint8_t h[1u << (LEDGER_HASHES_LEVEL - 1)][TB_HASH_SIZE];
        uint64_t first = index << level, seq;
        size_t n = (size_t)1 << level, i, w;
        MDB_cursor *c = ledger_txn_cursor_open(t, LEDGER_DB_LOG);
        struct row k;
        MDB_val key, val;
        int ok = 1;

        tb_put_u64(row_init(&k), first);
        key.mv_size = k.w.len;
        key.mv_data = k.b;
        for (i = 0; i < n && ok; i++) {
                ok = ledger_txn_cursor_get(t, c, &key, &val,
                                           i ? MDB_NEXT : MDB_SET_KEY) &&
                     ledger_txn_key_u64(t, &key, &seq) && seq == first + i;
                if (ok)
                        tb_merkle_leaf_hash(val.mv_data, val.mv_size, h[i]);
        }
        ledger_txn_cursor_close(c);
        if (!ok)
                return 0;
        for (w = n; w > 1; w /= 2)
                for (i = 0; i < w / 2; i++)
                        tb_merkle_node_hash(h[2 * i], h[2 * i + 1], h[i]);
        memcpy(out, h[0], TB_HASH_SIZE);
        return 1;
}

enum tb_err ledger_store_hashes_read_cb(void *ctx, unsigned level,
                                        uint64_t index,
                                        uint8_t out[TB_HASH_SIZE])
{
        struct ledger_txn *t = ctx;
        struct row k;

        if (level < LEDGER_HASHES_LEVEL) {
                if (index <= (UINT64_MAX >> level) &&
                    hashes_from_log(t, level, index, out))
                        return TB_OK;
        } else if (ledger_txn_get_fixed(
                       t, LEDGER_DB_HASHES,
                       row_u64(&k, stored_hash_index(level, index)), out,
                       TB_HASH_SIZE))
                return TB_OK;
        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
        return TB_E_IO;
}

/* ---------------------------------------------------------- checkpoints */

void ledger_store_checkpoints_put(struct ledger_txn *t, uint64_t size,
                                  const uint8_t *note, size_t len)
{
        struct row k;

        ledger_txn_put_row(t, LEDGER_DB_CHECKPOINTS, row_u64(&k, size), note,
                           len, MDB_APPEND);
}

int ledger_store_checkpoints_get(struct ledger_txn *t, uint64_t size,
                                 const uint8_t **note, size_t *len)
{
        struct row k;
        struct tb_rbuf r;
        int found =
            ledger_txn_get_row(t, LEDGER_DB_CHECKPOINTS, row_u64(&k, size), &r);

        *note = r.p; /* NULL, 0 when not found */
        *len = r.len;
        return found;
}

static int checkpoints_at(struct ledger_txn *t, MDB_cursor_op op, uint64_t from,
                          uint64_t *size, const uint8_t **note, size_t *len)
{
        MDB_val v;
        int found =
            ledger_txn_cursor_u64(t, LEDGER_DB_CHECKPOINTS, op, from, size, &v);

        *note = found ? v.mv_data : NULL;
        *len = found ? v.mv_size : 0;
        return found;
}

int ledger_store_checkpoints_from(struct ledger_txn *t, uint64_t from,
                                  uint64_t *size, const uint8_t **note,
                                  size_t *len)
{
        return checkpoints_at(t, MDB_SET_RANGE, from, size, note, len);
}

int ledger_store_checkpoints_last(struct ledger_txn *t, uint64_t *size,
                                  const uint8_t **note, size_t *len)
{
        return checkpoints_at(t, MDB_LAST, 0, size, note, len);
}

/* ------------------------------------------------------------- accounts */

/* The value: these nine u64, in this order. */
#define ACCOUNT_FIELDS(a)                                                      \
        {                                                                      \
                &(a)->balance, &(a)->earned, &(a)->redeemed,                   \
                    &(a)->transferred_in, &(a)->transferred_out,               \
                    &(a)->minutes, &(a)->entries, &(a)->opened_seq,            \
                    &(a)->last_seq                                             \
        }

void ledger_store_accounts_row_put(struct ledger_txn *t,
                                   const struct tb_balance_info *a,
                                   const struct ledger_store_services *sv)
{
        const uint64_t *f[] = ACCOUNT_FIELDS(a);
        struct row k, v;
        size_t i;

        tb_put_bytes(row_init(&k), a->account, strlen(a->account));
        row_init(&v);
        for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
                tb_put_u64(&v.w, *f[i]);
        tb_put_u64(&v.w, sv->last);
        tb_put_u64(&v.w, sv->reach);
        row_put(t, LEDGER_DB_ACCOUNTS, &k.w, &v);
}

int ledger_store_accounts_row_get(struct ledger_txn *t, const char *account,
                                  struct tb_balance_info *a,
                                  struct ledger_store_services *sv)
{
        uint64_t *f[] = ACCOUNT_FIELDS(a);
        size_t i, len = strlen(account);
        struct row k;
        struct tb_rbuf r;
        struct ledger_store_services ignored;

        if (!sv)
                sv = &ignored;
        memset(a, 0, sizeof(*a));
        memset(sv, 0, sizeof(*sv));
        if (len == 0 || len > TB_ACCOUNT_ID_MAX)
                return 0;
        tb_put_bytes(row_init(&k), account, len);
        if (!ledger_txn_get_row(t, LEDGER_DB_ACCOUNTS, &k.w, &r))
                return 0;
        memcpy(a->account, account, len + 1);
        for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
                *f[i] = tb_get_u64(&r);
        sv->last = tb_get_u64(&r);
        sv->reach = tb_get_u64(&r);
        if (sv->last > a->last_seq)
                tb_rbuf_fail(&r, TB_E_TOO_LARGE);
        if (!decoded(t, &r, sv, sizeof(*sv))) {
                memset(a, 0, sizeof(*a));
                return 0;
        }
        return 1;
}

/* A write transaction's rows go through the rows written behind
 * (ledger_accounts.c); a read transaction's come from the database (the
 * readers of ledger_read.c look at the rows behind themselves, before
 * their transaction begins). */
void ledger_store_accounts_put(struct ledger_txn *t,
                               const struct tb_balance_info *a,
                               const struct ledger_store_services *sv)
{
        if (t->write)
                ledger_accounts_stage(t, a, sv);
        else
                ledger_txn_fail(t, EACCES);
}

int ledger_store_accounts_get(struct ledger_txn *t, const char *account,
                              struct tb_balance_info *a,
                              struct ledger_store_services *sv)
{
        struct ledger_store_services ignored;
        int found;

        if (!sv)
                sv = &ignored;
        if (t->write && !t->rc &&
            (found = ledger_accounts_behind_get(t, account, a, sv)) >= 0)
                return found;
        return ledger_store_accounts_row_get(t, account, a, sv);
}

/* -------------------------------------------------------------- history */

/* history: u64 seq ‖ acct -> u64 prev ‖ i64 delta ‖ u64 balance_after
 * [‖ [u64 prev_service ‖] u64 reach_before ‖ i64 start ‖ u16 minutes for
 * a service], a chain per
 * account from accounts.last_seq back through prev (0 ends it: seq 0 is
 * genesis, which touches no account), and the services' own chain from
 * accounts' last_service back through prev_service. */
/* What a service row adds: [prev_service ‖] reach_before ‖ start ‖
 * minutes; prev_service is left out when it equals prev (the account's
 * previous row was a service too: the common case), so a service row is
 * 42 or 50 bytes, and a 50-byte one with prev_service = prev is corrupt
 * (one encoding per row, so that the full check's byte compare holds). */
#define HISTORY_SERVICE_SHORT (8 + 8 + 2)
#define HISTORY_SERVICE_LONG  (8 + HISTORY_SERVICE_SHORT)

static const struct tb_wbuf *history_key(struct row *k, uint64_t seq,
                                         const char *account)
{
        tb_put_u64(row_init(k), seq);
        tb_put_str8(&k->w, account, strlen(account));
        return &k->w;
}

void ledger_store_history_put(struct ledger_txn *t, const char *account,
                              const struct ledger_store_history *h)
{
        struct row k, v;

        tb_put_u64(row_init(&v), h->prev);
        tb_put_u64(&v.w, (uint64_t)h->delta);
        tb_put_u64(&v.w, h->balance_after);
        if (h->service) {
                if (h->prev_service != h->prev)
                        tb_put_u64(&v.w, h->prev_service);
                tb_put_u64(&v.w, h->reach_before);
                tb_put_u64(&v.w, (uint64_t)h->start);
                tb_put_u16(&v.w, h->minutes);
        }
        if (v.w.err != TB_OK)
                ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
        ledger_txn_put_tail(t, LEDGER_DB_HISTORY,
                            history_key(&k, h->seq, account), v.b, v.w.len);
}

int ledger_store_history_get(struct ledger_txn *t, const char *account,
                             uint64_t seq, struct ledger_store_history *h)
{
        struct row k;
        struct tb_rbuf r;

        memset(h, 0, sizeof(*h));
        if (!ledger_txn_get_row(t, LEDGER_DB_HISTORY,
                                history_key(&k, seq, account), &r))
                return 0;
        h->seq = seq;
        h->prev = tb_get_u64(&r);
        h->delta = (int64_t)tb_get_u64(&r);
        h->balance_after = tb_get_u64(&r);
        if (tb_rbuf_left(&r) == HISTORY_SERVICE_LONG ||
            tb_rbuf_left(&r) == HISTORY_SERVICE_SHORT) {
                h->service = 1;
                h->prev_service = h->prev;
                if (tb_rbuf_left(&r) == HISTORY_SERVICE_LONG &&
                    (h->prev_service = tb_get_u64(&r)) == h->prev)
                        tb_rbuf_fail(&r, TB_E_TOO_LARGE);
                h->reach_before = tb_get_u64(&r);
                h->start = (int64_t)tb_get_u64(&r);
                h->minutes = tb_get_u16(&r);
                if (h->start < 0 || h->start > TB_TIME_MAX || h->minutes < 1 ||
                    h->minutes > TB_MINUTES_MAX)
                        tb_rbuf_fail(&r, TB_E_TOO_LARGE);
        }
        /* chains run back: never a loop */
        if (h->prev >= seq || h->prev_service > h->prev)
                tb_rbuf_fail(&r, TB_E_TOO_LARGE);
        return decoded(t, &r, h, sizeof(*h));
}

/* Newest first along the chain.  A "before" that is one of the account's
 * rows (every next page's, ledger_history's next_before) is one lookup
 * away; any other starts from the newest row and skips. */
void ledger_store_history_walk(struct ledger_txn *t,
                               const struct tb_balance_info *a, uint64_t before,
                               ledger_store_history_cb *cb, void *ctx)
{
        struct ledger_store_history h;
        uint64_t seq;

        if (before <= a->opened_seq)
                return;
        seq = a->last_seq;
        if (before <= seq &&
            ledger_store_history_get(t, a->account, before, &h))
                seq = h.prev;
        while (seq != 0 && !t->rc) {
                if (!ledger_store_history_get(t, a->account, seq, &h)) {
                        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
                        return;
                }
                if (h.seq < before && cb(ctx, &h))
                        return;
                seq = h.prev;
        }
}

/* ----------------------------------------------------------------- idem */

/* class ‖ rid ‖ pk.  Request ids made by tb_request_id_make begin with a
 * millisecond clock, so their rows (class 1) land at the end of the
 * database; any other id (class 0: random, a test's, format 1's random
 * genesis id) sorts before them all, where it cannot stop the appends. */
static void idem_key(struct row *k, const uint8_t pk[TB_PUBKEY_SIZE],
                     const uint8_t rid[TB_REQUEST_ID_SIZE])
{
        int64_t ms;

        tb_put_u8(row_init(k), tb_request_id_time(rid, &ms) ? 1 : 0);
        tb_put_bytes(&k->w, rid, TB_REQUEST_ID_SIZE);
        tb_put_bytes(&k->w, pk, TB_PUBKEY_SIZE);
}

/* The value: an accepted entry's row holds only its seq (u64, 8 bytes):
 * its outcome and body are in the log and its history rows.  A remembered
 * refusal holds u16 status ‖ SHA-256 of the body with its clock zeroed
 * (34 bytes): refusals are not logged.  The two sizes tell them apart. */
#define IDEM_OK_SIZE      8
#define IDEM_REFUSED_SIZE (2 + TB_HASH_SIZE)

void ledger_store_idem_put(struct ledger_txn *t,
                           const uint8_t pk[TB_PUBKEY_SIZE],
                           const uint8_t rid[TB_REQUEST_ID_SIZE],
                           const struct ledger_store_idem *d)
{
        struct row k, v;
        struct tb_wbuf *w = row_init(&v);

        idem_key(&k, pk, rid);
        /* format 4: an accepted entry's row is written behind (the log
         * gives it back after a crash); a refusal's at once */
        if (d->status == TB_ST_OK && t->write && t->l->ac) {
                ledger_idem_stage(t, k.w.p, k.w.len, d->seq);
                return;
        }
        if (d->status == TB_ST_OK) {
                tb_put_u64(w, d->seq);
        } else {
                tb_put_u16(w, d->status);
                tb_put_bytes(w, d->hash, TB_HASH_SIZE);
        }
        if (v.w.err != TB_OK)
                ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
        ledger_txn_put_tail(t, LEDGER_DB_IDEM, &k.w, v.b, v.w.len);
}

void ledger_store_idem_row_put(struct ledger_txn *t, const uint8_t *key,
                               size_t klen, uint64_t seq)
{
        struct row k, v;

        tb_put_bytes(row_init(&k), key, klen);
        tb_put_u64(row_init(&v), seq);
        ledger_txn_put_tail(t, LEDGER_DB_IDEM, &k.w, v.b, v.w.len);
}

int ledger_store_idem_get(struct ledger_txn *t,
                          const uint8_t pk[TB_PUBKEY_SIZE],
                          const uint8_t rid[TB_REQUEST_ID_SIZE],
                          struct ledger_store_idem *d)
{
        struct row k;
        struct tb_rbuf r;

        memset(d, 0, sizeof(*d));
        idem_key(&k, pk, rid);
        if (t->write && !t->rc &&
            ledger_idem_behind(t, k.w.p, k.w.len, &d->seq)) {
                d->status = TB_ST_OK;
                return 1;
        }
        if (!ledger_txn_get_row(t, LEDGER_DB_IDEM, &k.w, &r))
                return 0;
        if (r.len == IDEM_OK_SIZE) {
                d->status = TB_ST_OK;
                d->seq = tb_get_u64(&r);
        } else if (r.len == IDEM_REFUSED_SIZE) {
                d->status = tb_get_u16(&r);
                tb_get_bytes(&r, d->hash, TB_HASH_SIZE);
                if (d->status == TB_ST_OK) /* OK rows are seqs */
                        tb_rbuf_fail(&r, TB_E_TOO_LARGE);
        } else {
                tb_rbuf_fail(&r, TB_E_TRUNCATED);
        }
        return decoded(t, &r, d, sizeof(*d));
}

/* ----------------------------------------------------------------- keys */

void ledger_store_keys_put(struct ledger_txn *t,
                           const uint8_t pk[TB_PUBKEY_SIZE],
                           const struct ledger_store_key *key)
{
        struct row k, v;
        struct tb_wbuf *w = row_init(&v);

        tb_put_bytes(row_init(&k), pk, TB_PUBKEY_SIZE);
        tb_put_u8(w, key->roles);
        tb_put_u64(w, key->enrolled);
        tb_put_u64(w, key->revoked);
        tb_put_str8(w, key->name, strlen(key->name));
        row_put(t, LEDGER_DB_KEYS, &k.w, &v);
}

int ledger_store_keys_get(struct ledger_txn *t,
                          const uint8_t pk[TB_PUBKEY_SIZE],
                          struct ledger_store_key *key)
{
        struct row k;
        struct tb_rbuf r;
        const uint8_t *name;
        size_t n;

        memset(key, 0, sizeof(*key));
        tb_put_bytes(row_init(&k), pk, TB_PUBKEY_SIZE);
        if (!ledger_txn_get_row(t, LEDGER_DB_KEYS, &k.w, &r))
                return 0;
        key->roles = tb_get_u8(&r);
        key->enrolled = tb_get_u64(&r);
        key->revoked = tb_get_u64(&r);
        tb_get_str8(&r, &name, &n);
        if (n > TB_NAME_MAX)
                tb_rbuf_fail(&r, TB_E_TOO_LARGE);
        else if (name)
                memcpy(key->name, name, n);
        return decoded(t, &r, key, sizeof(*key));
}

/* ------------------------------------------------- intervals and daily */

/* Format 3 keeps neither (docs/storage.md, "Format 3"): the overlap check
 * and the daily cap walk the account's service rows (ledger_rules.c).  The
 * two named databases stay, empty; the full check compares them with the
 * replay's, so a row written into one is found. */

/* --------------------------------------------------------------- policy */

/* LMDB forbids empty keys: hence the type byte, 'r' alone the default. */
static const struct tb_wbuf *policy_rate_key(struct row *k,
                                             const char *activity)
{
        tb_put_u8(row_init(k), 'r');
        tb_put_bytes(&k->w, activity, strlen(activity));
        return &k->w;
}

static const struct tb_wbuf *policy_caps_key(struct row *k)
{
        tb_put_u8(row_init(k), 'c');
        return &k->w;
}

void ledger_store_policy_rate_put(struct ledger_txn *t, const char *activity,
                                  uint32_t rate)
{
        struct row k;

        ledger_txn_put_uint(t, LEDGER_DB_POLICY, policy_rate_key(&k, activity),
                            rate, 4);
}

int ledger_store_policy_rate_get(struct ledger_txn *t, const char *activity,
                                 uint32_t *rate)
{
        struct row k;
        uint64_t n;
        int found = ledger_txn_get_uint(t, LEDGER_DB_POLICY,
                                        policy_rate_key(&k, activity), 4, &n);

        *rate = (uint32_t)n;
        return found;
}

void ledger_store_policy_caps_put(struct ledger_txn *t,
                                  const struct ledger_store_caps *c)
{
        struct row k, v;

        tb_put_u16(row_init(&v), c->daily_minutes);
        tb_put_u64(&v.w, c->max_balance);
        row_put(t, LEDGER_DB_POLICY, policy_caps_key(&k), &v);
}

int ledger_store_policy_caps_get(struct ledger_txn *t,
                                 struct ledger_store_caps *c)
{
        struct row k;
        struct tb_rbuf r;

        memset(c, 0, sizeof(*c));
        if (!ledger_txn_get_row(t, LEDGER_DB_POLICY, policy_caps_key(&k), &r))
                return 0;
        c->daily_minutes = tb_get_u16(&r);
        c->max_balance = tb_get_u64(&r);
        return decoded(t, &r, c, sizeof(*c));
}

/* ------------------------------------------------------------- reversed */

void ledger_store_reversed_put(struct ledger_txn *t, uint64_t seq, uint64_t by)
{
        struct row k;

        ledger_txn_put_uint(t, LEDGER_DB_REVERSED, row_u64(&k, seq), by, 8);
}

int ledger_store_reversed_get(struct ledger_txn *t, uint64_t seq, uint64_t *by)
{
        struct row k;

        return ledger_txn_get_uint(t, LEDGER_DB_REVERSED, row_u64(&k, seq), 8,
                                   by);
}

/* ----------------------------------------------------------------- meta */

static const struct tb_wbuf *meta_key(struct row *k, const char *name)
{
        tb_put_bytes(row_init(k), name, strlen(name));
        return &k->w;
}

static const struct {
        const char *name;
        unsigned size;
} meta_uint[] = {
    [LEDGER_STORE_VERSION] = {"version", 4},
    [LEDGER_STORE_TREE_SIZE] = {"tree_size", 8},
    [LEDGER_STORE_KEYS_ACTIVE] = {"keys_active", 8},
    [LEDGER_STORE_KEYS_REVOKED] = {"keys_revoked", 8},
    [LEDGER_STORE_ACCOUNTS_THROUGH] = {"accounts_through", 8},
};

void ledger_store_meta_uint_put(struct ledger_txn *t,
                                enum ledger_store_meta_uint which, uint64_t n)
{
        struct row k;

        ledger_txn_put_uint(t, LEDGER_DB_META,
                            meta_key(&k, meta_uint[which].name), n,
                            meta_uint[which].size);
}

int ledger_store_meta_uint_get(struct ledger_txn *t,
                               enum ledger_store_meta_uint which, uint64_t *n)
{
        struct row k;

        return ledger_txn_get_uint(t, LEDGER_DB_META,
                                   meta_key(&k, meta_uint[which].name),
                                   meta_uint[which].size, n);
}

void ledger_store_meta_origin_put(struct ledger_txn *t, const char *origin)
{
        struct row k, v;

        tb_put_bytes(row_init(&v), origin, strlen(origin));
        row_put(t, LEDGER_DB_META, meta_key(&k, "origin"), &v);
}

int ledger_store_meta_origin_get(struct ledger_txn *t,
                                 char origin[TB_NAME_MAX + 1])
{
        struct row k;
        struct tb_rbuf r;
        size_t n;

        memset(origin, 0, TB_NAME_MAX + 1);
        if (!ledger_txn_get_row(t, LEDGER_DB_META, meta_key(&k, "origin"), &r))
                return 0;
        n = tb_rbuf_left(&r);
        if (n == 0 || n > TB_NAME_MAX)
                tb_rbuf_fail(&r, TB_E_TOO_LARGE);
        else
                tb_get_bytes(&r, origin, n);
        return decoded(t, &r, origin, TB_NAME_MAX + 1);
}

void ledger_store_meta_log_vkey_put(struct ledger_txn *t,
                                    const struct tb_vkey *vk)
{
        char text[TB_VKEY_MAX];
        struct row k;

        if (tb_vkey_format(vk, text, sizeof(text), NULL) != TB_OK) {
                ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
                return;
        }
        ledger_txn_put_row(t, LEDGER_DB_META, meta_key(&k, "log_vkey"), text,
                           strlen(text), 0);
}

int ledger_store_meta_log_vkey_get(struct ledger_txn *t, struct tb_vkey *vk)
{
        struct row k;
        struct tb_rbuf r;
        size_t n;

        memset(vk, 0, sizeof(*vk));
        if (!ledger_txn_get_row(t, LEDGER_DB_META, meta_key(&k, "log_vkey"),
                                &r))
                return 0;
        n = tb_rbuf_left(&r);
        if (tb_vkey_parse((const char *)tb_get_ref(&r, n), n, vk) != TB_OK)
                tb_rbuf_fail(&r, TB_E_KEY_FORMAT);
        return decoded(t, &r, vk, sizeof(*vk));
}

void ledger_store_meta_root_put(struct ledger_txn *t,
                                const uint8_t root[TB_HASH_SIZE])
{
        struct row k;

        ledger_txn_put_row(t, LEDGER_DB_META, meta_key(&k, "root"), root,
                           TB_HASH_SIZE, 0);
}

int ledger_store_meta_root_get(struct ledger_txn *t, uint8_t root[TB_HASH_SIZE])
{
        struct row k;

        return ledger_txn_get_fixed(t, LEDGER_DB_META, meta_key(&k, "root"),
                                    root, TB_HASH_SIZE);
}
