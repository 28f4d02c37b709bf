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
#include <string.h>

#include "buf.h"
#include "ledger_store.h"

/* The longest key (acct ‖ u64) and the longest value we build (a key row
 * with the longest name); log and checkpoint values are put as they are. */
#define ROW_KEY_MAX   (1 + TB_ACCOUNT_ID_MAX + 8)
#define ROW_VALUE_MAX (1 + 8 + 8 + 1 + TB_NAME_MAX)

_Static_assert(TB_NAME_MAX <= 255, "a key name has a one-byte length");
_Static_assert(TB_ACCOUNT_ID_MAX <= 255, "an acct has a one-byte length");

struct row {
        uint8_t b[ROW_VALUE_MAX > ROW_KEY_MAX ? ROW_VALUE_MAX : ROW_KEY_MAX];
        struct tb_wbuf w;
        size_t prefix; /* composite keys: the length of the acct part */
};

static struct tb_wbuf *row_init(struct row *r)
{
        tb_wbuf_init(&r->w, r->b, sizeof(r->b));
        r->prefix = 0;
        return &r->w;
}

/* acct ‖ ...: the start of the history, intervals and daily keys. */
static struct tb_wbuf *row_account(struct row *r, const char *account)
{
        tb_put_str8(row_init(r), account, strlen(account));
        r->prefix = r->w.len;
        return &r->w;
}

static int row_key_ok(struct ledger_txn *t, const struct row *k)
{
        if (k->w.err == TB_OK)
                return 1;
        ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
        return 0;
}

static void row_put_bytes(struct ledger_txn *t, enum ledger_db db,
                          const struct row *k, const void *v, size_t vl,
                          unsigned flags)
{
        if (row_key_ok(t, k))
                ledger_txn_put(t, db, k->b, k->w.len, v, vl, flags);
}

static void row_put(struct ledger_txn *t, enum ledger_db db,
                    const struct row *k, const struct row *v)
{
        if (v->w.err != TB_OK)
                ledger_txn_fail(t, LEDGER_TXN_E_RANGE);
        row_put_bytes(t, db, k, v->b, v->w.len, 0);
}

static int row_get(struct ledger_txn *t, enum ledger_db db, const struct row *k,
                   struct tb_rbuf *v)
{
        MDB_val val;

        tb_rbuf_init(v, NULL, 0);
        if (!row_key_ok(t, k) || !ledger_txn_get(t, db, k->b, k->w.len, &val))
                return 0;
        tb_rbuf_init(v, val.mv_data, val.mv_size);
        return 1;
}

static void row_del(struct ledger_txn *t, enum ledger_db db,
                    const struct row *k)
{
        if (row_key_ok(t, k))
                ledger_txn_del(t, db, k->b, k->w.len);
}

/* The end of every decode: all bytes used, else corrupt (out zeroed). */
static int decoded(struct ledger_txn *t, const struct tb_rbuf *r, void *out,
                   size_t size)
{
        if (tb_rbuf_end(r) == TB_OK)
                return 1;
        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
        memset(out, 0, size);
        return 0;
}

/* A row of a cursor's database is ours if it has our key's length and
 * acct part: the keys of one account all have the same length. */
static int row_same_account(const MDB_val *k, const struct row *ours)
{
        return k->mv_size == ours->w.len &&
               memcmp(k->mv_data, ours->b, ours->prefix) == 0;
}

/* A u64 key (log, hashes, checkpoints, reversed). */
static const struct row *row_u64(struct row *r, uint64_t n)
{
        tb_put_u64(row_init(r), n);
        return r;
}

static int key_u64(struct ledger_txn *t, const MDB_val *k, uint64_t *n)
{
        struct tb_rbuf r;

        tb_rbuf_init(&r, k->mv_data, k->mv_size);
        *n = tb_get_u64(&r);
        return decoded(t, &r, n, sizeof(*n));
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

        row_put_bytes(t, LEDGER_DB_LOG, row_u64(&k, seq), rec, len, MDB_APPEND);
}

int ledger_store_log_get(struct ledger_txn *t, uint64_t seq,
                         struct ledger_store_record *r)
{
        struct row k;
        struct tb_rbuf v;

        memset(r, 0, sizeof(*r));
        if (!row_get(t, LEDGER_DB_LOG, row_u64(&k, seq), &v))
                return 0;
        return log_decode(t, &v, r);
}

int ledger_store_log_last(struct ledger_txn *t, uint64_t *seq)
{
        MDB_cursor *c = ledger_txn_cursor_open(t, LEDGER_DB_LOG);
        MDB_val k, v;
        int found;

        *seq = 0;
        found = ledger_txn_cursor_get(t, c, &k, &v, MDB_LAST) &&
                key_u64(t, &k, seq);
        ledger_txn_cursor_close(c);
        return found;
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
               key_u64(t, &k, &seq)) {
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

void ledger_store_hashes_put(struct ledger_txn *t, uint64_t n,
                             const uint8_t (*hashes)[TB_HASH_SIZE],
                             size_t count)
{
        uint64_t idx = stored_hash_index(0, n);
        struct row k;
        size_t i;

        for (i = 0; i < count; i++)
                row_put_bytes(t, LEDGER_DB_HASHES, row_u64(&k, idx + i),
                              hashes[i], TB_HASH_SIZE, MDB_APPEND);
}

int ledger_store_hashes_get(struct ledger_txn *t, unsigned level,
                            uint64_t index, uint8_t out[TB_HASH_SIZE])
{
        struct row k;
        struct tb_rbuf r;

        memset(out, 0, TB_HASH_SIZE);
        if (!row_get(t, LEDGER_DB_HASHES,
                     row_u64(&k, stored_hash_index(level, index)), &r))
                return 0;
        tb_get_bytes(&r, out, TB_HASH_SIZE);
        return decoded(t, &r, out, TB_HASH_SIZE);
}

enum tb_err ledger_store_hashes_read_cb(void *ctx, unsigned level,
                                        uint64_t index,
                                        uint8_t out[TB_HASH_SIZE])
{
        struct ledger_txn *t = ctx;

        if (ledger_store_hashes_get(t, level, index, out))
                return TB_OK;
        ledger_txn_fail(t, LEDGER_TXN_E_CORRUPT);
        return TB_E_IO;
}

/* ---------------------------------------------------------- checkpoints */

void ledger_store_checkpoints_put(struct ledger_txn *t, uint64_t size,
                                  const uint8_t *note, size_t len)
{
        struct row k;

        row_put_bytes(t, LEDGER_DB_CHECKPOINTS, row_u64(&k, size), note, len,
                      MDB_APPEND);
}

int ledger_store_checkpoints_get(struct ledger_txn *t, uint64_t size,
                                 const uint8_t **note, size_t *len)
{
        struct row k;
        struct tb_rbuf r;

        *note = NULL;
        *len = 0;
        if (!row_get(t, LEDGER_DB_CHECKPOINTS, row_u64(&k, size), &r))
                return 0;
        *note = r.p;
        *len = r.len;
        return 1;
}

/* The row a cursor op lands on (MDB_SET_RANGE from `from`, or MDB_LAST). */
static int checkpoints_at(struct ledger_txn *t, MDB_cursor_op op, uint64_t from,
                          uint64_t *size, const uint8_t **note, size_t *len)
{
        MDB_cursor *c = ledger_txn_cursor_open(t, LEDGER_DB_CHECKPOINTS);
        struct row key;
        MDB_val k, v;
        int found;

        row_u64(&key, from);
        k.mv_size = key.w.len;
        k.mv_data = key.b;
        *size = 0;
        *note = NULL;
        *len = 0;
        found = ledger_txn_cursor_get(t, c, &k, &v, op) && key_u64(t, &k, size);
        ledger_txn_cursor_close(c);
        if (found) {
                *note = v.mv_data;
                *len = v.mv_size;
        }
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

void ledger_store_accounts_put(struct ledger_txn *t,
                               const struct tb_balance_info *a)
{
        struct row k, v;
        struct tb_wbuf *w = row_init(&v);

        tb_put_bytes(row_init(&k), a->account, strlen(a->account));
        tb_put_u64(w, a->balance);
        tb_put_u64(w, a->earned);
        tb_put_u64(w, a->redeemed);
        tb_put_u64(w, a->transferred_in);
        tb_put_u64(w, a->transferred_out);
        tb_put_u64(w, a->minutes);
        tb_put_u64(w, a->entries);
        tb_put_u64(w, a->opened_seq);
        tb_put_u64(w, a->last_seq);
        row_put(t, LEDGER_DB_ACCOUNTS, &k, &v);
}

int ledger_store_accounts_get(struct ledger_txn *t, const char *account,
                              struct tb_balance_info *a)
{
        size_t len = strlen(account);
        struct row k;
        struct tb_rbuf r;

        memset(a, 0, sizeof(*a));
        if (len == 0 || len > TB_ACCOUNT_ID_MAX)
                return 0;
        tb_put_bytes(row_init(&k), account, len);
        if (!row_get(t, LEDGER_DB_ACCOUNTS, &k, &r))
                return 0;
        memcpy(a->account, account, len + 1);
        a->balance = tb_get_u64(&r);
        a->earned = tb_get_u64(&r);
        a->redeemed = tb_get_u64(&r);
        a->transferred_in = tb_get_u64(&r);
        a->transferred_out = tb_get_u64(&r);
        a->minutes = tb_get_u64(&r);
        a->entries = tb_get_u64(&r);
        a->opened_seq = tb_get_u64(&r);
        a->last_seq = tb_get_u64(&r);
        return decoded(t, &r, a, sizeof(*a));
}

uint64_t ledger_store_accounts_count(struct ledger_txn *t)
{
        return ledger_txn_count(t, LEDGER_DB_ACCOUNTS);
}

/* -------------------------------------------------------------- history */

void ledger_store_history_put(struct ledger_txn *t, const char *account,
                              const struct ledger_store_history *h)
{
        struct row k, v;

        tb_put_u64(row_account(&k, account), h->seq);
        tb_put_u64(row_init(&v), (uint64_t)h->delta);
        tb_put_u64(&v.w, h->balance_after);
        row_put(t, LEDGER_DB_HISTORY, &k, &v);
}

static int history_decode(struct ledger_txn *t, const struct row *k,
                          const MDB_val *key, const MDB_val *val,
                          struct ledger_store_history *h)
{
        struct tb_rbuf r;

        tb_rbuf_init(&r, (const uint8_t *)key->mv_data + k->prefix,
                     key->mv_size - k->prefix);
        h->seq = tb_get_u64(&r);
        if (!decoded(t, &r, h, sizeof(*h)))
                return 0;
        tb_rbuf_init(&r, val->mv_data, val->mv_size);
        h->delta = (int64_t)tb_get_u64(&r);
        h->balance_after = tb_get_u64(&r);
        return decoded(t, &r, h, sizeof(*h));
}

int ledger_store_history_get(struct ledger_txn *t, const char *account,
                             uint64_t seq, struct ledger_store_history *h)
{
        struct row k;
        MDB_val key, val;

        memset(h, 0, sizeof(*h));
        tb_put_u64(row_account(&k, account), seq);
        if (!row_key_ok(t, &k) ||
            !ledger_txn_get(t, LEDGER_DB_HISTORY, k.b, k.w.len, &val))
                return 0;
        key.mv_size = k.w.len;
        key.mv_data = k.b;
        return history_decode(t, &k, &key, &val, h);
}

/* Newest first: land on the first row at or after acct ‖ before (or past
 * the end of the database), then step back while the rows are the
 * account's. */
void ledger_store_history_walk(struct ledger_txn *t, const char *account,
                               uint64_t before, ledger_store_history_cb *cb,
                               void *ctx)
{
        struct ledger_store_history h;
        struct row k;
        MDB_cursor *c;
        MDB_cursor_op op = MDB_PREV;
        MDB_val key, val;

        tb_put_u64(row_account(&k, account), before);
        if (!row_key_ok(t, &k))
                return;
        c = ledger_txn_cursor_open(t, LEDGER_DB_HISTORY);
        key.mv_size = k.w.len;
        key.mv_data = k.b;
        if (!ledger_txn_cursor_get(t, c, &key, &val, MDB_SET_RANGE))
                op = MDB_LAST;
        while (ledger_txn_cursor_get(t, c, &key, &val, op) &&
               row_same_account(&key, &k) &&
               history_decode(t, &k, &key, &val, &h) && !cb(ctx, &h))
                op = MDB_PREV;
        ledger_txn_cursor_close(c);
}

/* ----------------------------------------------------------------- idem */

void ledger_store_idem_put(struct ledger_txn *t,
                           const uint8_t pk[TB_PUBKEY_SIZE],
                           const uint8_t rid[TB_REQUEST_ID_SIZE],
                           const struct ledger_store_idem *d)
{
        struct row k, v;
        struct tb_wbuf *w = row_init(&v);

        tb_put_bytes(row_init(&k), pk, TB_PUBKEY_SIZE);
        tb_put_bytes(&k.w, rid, TB_REQUEST_ID_SIZE);
        tb_put_u16(w, d->status);
        tb_put_u64(w, d->seq);
        tb_put_u64(w, (uint64_t)d->points);
        tb_put_u64(w, d->balance);
        tb_put_bytes(w, d->hash, TB_HASH_SIZE);
        row_put(t, LEDGER_DB_IDEM, &k, &v);
}

int ledger_store_idem_get(struct ledger_txn *t,
                          const uint8_t pk[TB_PUBKEY_SIZE],
                          const uint8_t rid[TB_REQUEST_ID_SIZE],
                          struct ledger_store_idem *d)
{
        struct row k;
        struct tb_rbuf r;

        memset(d, 0, sizeof(*d));
        tb_put_bytes(row_init(&k), pk, TB_PUBKEY_SIZE);
        tb_put_bytes(&k.w, rid, TB_REQUEST_ID_SIZE);
        if (!row_get(t, LEDGER_DB_IDEM, &k, &r))
                return 0;
        d->status = tb_get_u16(&r);
        d->seq = tb_get_u64(&r);
        d->points = (int64_t)tb_get_u64(&r);
        d->balance = tb_get_u64(&r);
        tb_get_bytes(&r, d->hash, TB_HASH_SIZE);
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
        row_put(t, LEDGER_DB_KEYS, &k, &v);
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
        if (!row_get(t, LEDGER_DB_KEYS, &k, &r))
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

/* ------------------------------------------------------------ intervals */

void ledger_store_intervals_put(struct ledger_txn *t, const char *account,
                                const struct ledger_store_interval *iv)
{
        struct row k, v;

        tb_put_u64(row_account(&k, account), (uint64_t)iv->start);
        tb_put_u64(row_init(&v), (uint64_t)iv->end);
        tb_put_u64(&v.w, iv->seq);
        row_put(t, LEDGER_DB_INTERVALS, &k, &v);
}

void ledger_store_intervals_del(struct ledger_txn *t, const char *account,
                                int64_t start)
{
        struct row k;

        tb_put_u64(row_account(&k, account), (uint64_t)start);
        row_del(t, LEDGER_DB_INTERVALS, &k);
}

/*
 * The account's row a cursor reaches from acct ‖ start: MDB_SET_RANGE
 * lands on the first row at or after it; the one before that (or the last
 * row of all, when nothing is at or after) is the last row before it.
 */
static int intervals_near(struct ledger_txn *t, const char *account,
                          int64_t start, int before,
                          struct ledger_store_interval *iv)
{
        struct row k;
        struct tb_rbuf r;
        MDB_cursor *c;
        MDB_val key, val;
        int found;

        memset(iv, 0, sizeof(*iv));
        tb_put_u64(row_account(&k, account), (uint64_t)start);
        if (!row_key_ok(t, &k))
                return 0;
        c = ledger_txn_cursor_open(t, LEDGER_DB_INTERVALS);
        key.mv_size = k.w.len;
        key.mv_data = k.b;
        found = ledger_txn_cursor_get(t, c, &key, &val, MDB_SET_RANGE);
        if (before && !t->rc)
                found = ledger_txn_cursor_get(t, c, &key, &val,
                                              found ? MDB_PREV : MDB_LAST);
        ledger_txn_cursor_close(c);
        if (!found || !row_same_account(&key, &k))
                return 0;
        tb_rbuf_init(&r, (const uint8_t *)key.mv_data + k.prefix, 8);
        iv->start = (int64_t)tb_get_u64(&r);
        tb_rbuf_init(&r, val.mv_data, val.mv_size);
        iv->end = (int64_t)tb_get_u64(&r);
        iv->seq = tb_get_u64(&r);
        return decoded(t, &r, iv, sizeof(*iv));
}

int ledger_store_intervals_from(struct ledger_txn *t, const char *account,
                                int64_t start, struct ledger_store_interval *iv)
{
        return intervals_near(t, account, start, 0, iv);
}

int ledger_store_intervals_before(struct ledger_txn *t, const char *account,
                                  int64_t start,
                                  struct ledger_store_interval *iv)
{
        return intervals_near(t, account, start, 1, iv);
}

/* ---------------------------------------------------------------- daily */

void ledger_store_daily_put(struct ledger_txn *t, const char *account,
                            uint32_t day, uint32_t minutes)
{
        struct row k, v;

        tb_put_u32(row_account(&k, account), day);
        if (minutes == 0) {
                row_del(t, LEDGER_DB_DAILY, &k);
                return;
        }
        tb_put_u32(row_init(&v), minutes);
        row_put(t, LEDGER_DB_DAILY, &k, &v);
}

int ledger_store_daily_get(struct ledger_txn *t, const char *account,
                           uint32_t day, uint32_t *minutes)
{
        struct row k;
        struct tb_rbuf r;

        tb_put_u32(row_account(&k, account), day);
        *minutes = 0;
        if (!row_get(t, LEDGER_DB_DAILY, &k, &r))
                return 0;
        *minutes = tb_get_u32(&r);
        return decoded(t, &r, minutes, sizeof(*minutes));
}

/* --------------------------------------------------------------- policy */

/* LMDB forbids empty keys: hence the type byte, 'r' alone the default. */
static const struct row *policy_rate_key(struct row *k, const char *activity)
{
        tb_put_u8(row_init(k), 'r');
        tb_put_bytes(&k->w, activity, strlen(activity));
        return k;
}

static const struct row *policy_caps_key(struct row *k)
{
        tb_put_u8(row_init(k), 'c');
        return k;
}

void ledger_store_policy_rate_put(struct ledger_txn *t, const char *activity,
                                  uint32_t rate)
{
        struct row k, v;

        tb_put_u32(row_init(&v), rate);
        row_put(t, LEDGER_DB_POLICY, policy_rate_key(&k, activity), &v);
}

int ledger_store_policy_rate_get(struct ledger_txn *t, const char *activity,
                                 uint32_t *rate)
{
        struct row k;
        struct tb_rbuf r;

        *rate = 0;
        if (!row_get(t, LEDGER_DB_POLICY, policy_rate_key(&k, activity), &r))
                return 0;
        *rate = tb_get_u32(&r);
        return decoded(t, &r, rate, sizeof(*rate));
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
        if (!row_get(t, LEDGER_DB_POLICY, policy_caps_key(&k), &r))
                return 0;
        c->daily_minutes = tb_get_u16(&r);
        c->max_balance = tb_get_u64(&r);
        return decoded(t, &r, c, sizeof(*c));
}

/* ------------------------------------------------------------- reversed */

/* A u64 value under a u64 key (reversed) or a name (meta). */
static void put_u64(struct ledger_txn *t, enum ledger_db db,
                    const struct row *k, uint64_t n)
{
        struct row v;

        tb_put_u64(row_init(&v), n);
        row_put(t, db, k, &v);
}

static int get_u64(struct ledger_txn *t, enum ledger_db db, const struct row *k,
                   uint64_t *n)
{
        struct tb_rbuf r;

        *n = 0;
        if (!row_get(t, db, k, &r))
                return 0;
        *n = tb_get_u64(&r);
        return decoded(t, &r, n, sizeof(*n));
}

void ledger_store_reversed_put(struct ledger_txn *t, uint64_t seq, uint64_t by)
{
        struct row k;

        put_u64(t, LEDGER_DB_REVERSED, row_u64(&k, seq), by);
}

int ledger_store_reversed_get(struct ledger_txn *t, uint64_t seq, uint64_t *by)
{
        struct row k;

        return get_u64(t, LEDGER_DB_REVERSED, row_u64(&k, seq), by);
}

/* ----------------------------------------------------------------- meta */

static const struct row *meta_key(struct row *k, const char *name)
{
        tb_put_bytes(row_init(k), name, strlen(name));
        return k;
}

void ledger_store_meta_version_put(struct ledger_txn *t, uint32_t version)
{
        struct row k, v;

        tb_put_u32(row_init(&v), version);
        row_put(t, LEDGER_DB_META, meta_key(&k, "version"), &v);
}

int ledger_store_meta_version_get(struct ledger_txn *t, uint32_t *version)
{
        struct row k;
        struct tb_rbuf r;

        *version = 0;
        if (!row_get(t, LEDGER_DB_META, meta_key(&k, "version"), &r))
                return 0;
        *version = tb_get_u32(&r);
        return decoded(t, &r, version, sizeof(*version));
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
        if (!row_get(t, LEDGER_DB_META, meta_key(&k, "origin"), &r))
                return 0;
        n = tb_rbuf_left(&r);
        if (n == 0 || n > TB_NAME_MAX)
                tb_rbuf_fail(&r, TB_E_TOO_LARGE);
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
        row_put_bytes(t, LEDGER_DB_META, meta_key(&k, "log_vkey"), text,
                      strlen(text), 0);
}

int ledger_store_meta_log_vkey_get(struct ledger_txn *t, struct tb_vkey *vk)
{
        struct row k;
        struct tb_rbuf r;
        size_t n;

        memset(vk, 0, sizeof(*vk));
        if (!row_get(t, LEDGER_DB_META, meta_key(&k, "log_vkey"), &r))
                return 0;
        n = tb_rbuf_left(&r);
        if (tb_vkey_parse((const char *)tb_get_ref(&r, n), n, vk) != TB_OK)
                tb_rbuf_fail(&r, TB_E_KEY_FORMAT);
        return decoded(t, &r, vk, sizeof(*vk));
}

void ledger_store_meta_tree_size_put(struct ledger_txn *t, uint64_t size)
{
        struct row k;

        put_u64(t, LEDGER_DB_META, meta_key(&k, "tree_size"), size);
}

int ledger_store_meta_tree_size_get(struct ledger_txn *t, uint64_t *size)
{
        struct row k;

        return get_u64(t, LEDGER_DB_META, meta_key(&k, "tree_size"), size);
}

void ledger_store_meta_root_put(struct ledger_txn *t,
                                const uint8_t root[TB_HASH_SIZE])
{
        struct row k, v;

        tb_put_bytes(row_init(&v), root, TB_HASH_SIZE);
        row_put(t, LEDGER_DB_META, meta_key(&k, "root"), &v);
}

int ledger_store_meta_root_get(struct ledger_txn *t, uint8_t root[TB_HASH_SIZE])
{
        struct row k;
        struct tb_rbuf r;

        memset(root, 0, TB_HASH_SIZE);
        if (!row_get(t, LEDGER_DB_META, meta_key(&k, "root"), &r))
                return 0;
        tb_get_bytes(&r, root, TB_HASH_SIZE);
        return decoded(t, &r, root, TB_HASH_SIZE);
}

void ledger_store_meta_keys_put(struct ledger_txn *t, uint64_t active,
                                uint64_t revoked)
{
        struct row k;

        put_u64(t, LEDGER_DB_META, meta_key(&k, "keys_active"), active);
        put_u64(t, LEDGER_DB_META, meta_key(&k, "keys_revoked"), revoked);
}

int ledger_store_meta_keys_get(struct ledger_txn *t, uint64_t *active,
                               uint64_t *revoked)
{
        struct row k;
        int found_active, found_revoked;

        found_active =
            get_u64(t, LEDGER_DB_META, meta_key(&k, "keys_active"), active);
        found_revoked =
            get_u64(t, LEDGER_DB_META, meta_key(&k, "keys_revoked"), revoked);
        return found_active && found_revoked;
}
