/*
 * tests/unit/test_msg.c - requests and responses against docs/protocol.md.
 *
 * Every request and response type is built as a struct and must encode to the
 * documented bytes and decode back; then one check per rejection rule.
 */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "check.h"
#include "docvec.h"
#include "entry.h"
#include "frame.h"
#include "msg.h"
#include "status.h"

#define ORIGIN "example.org/timebank/district-7"

static struct docvec_set set, ledger;
static uint8_t *signed_entry, *record, *note;
static size_t signed_len, record_len, note_len;
static uint8_t hashes[3][32];

static uint8_t *vec(struct docvec_set *s, const char *name, const char *key,
                    size_t *n)
{
        return docvec_hex(docvec_get(s, name), key, n);
}

/* ---- requests --------------------------------------------------------------
 */

static void build_request(const char *name, struct tb_request *q)
{
        memset(q, 0, sizeof(*q));
        q->version = TB_PROTO_VERSION;
        if (strcmp(name, "req-submit") == 0) {
                q->type = TB_MSG_SUBMIT;
                q->id = 1;
                q->u.submit.signed_entry = signed_entry;
                q->u.submit.len = signed_len;
        } else if (strcmp(name, "req-balance") == 0) {
                q->type = TB_MSG_BALANCE;
                q->id = 2;
                strcpy(q->u.balance.account, "alice");
        } else if (strcmp(name, "req-history") == 0) {
                q->type = TB_MSG_HISTORY;
                q->id = 3;
                strcpy(q->u.history.account, "alice");
                q->u.history.before = TB_SEQ_LATEST;
                q->u.history.limit = 20;
        } else if (strcmp(name, "req-entry") == 0) {
                q->type = TB_MSG_ENTRY;
                q->id = 4;
                q->u.entry.seq = 7;
        } else if (strcmp(name, "req-checkpoint") == 0) {
                q->type = TB_MSG_CHECKPOINT;
                q->id = 5;
        } else if (strcmp(name, "req-inclusion") == 0) {
                q->type = TB_MSG_INCLUSION;
                q->id = 6;
                q->u.inclusion.index = 7;
                q->u.inclusion.size = 8;
        } else if (strcmp(name, "req-consistency") == 0) {
                q->type = TB_MSG_CONSISTENCY;
                q->id = 7;
                q->u.consistency.old_size = 5;
                q->u.consistency.size = 8;
        } else if (strcmp(name, "req-status") == 0) {
                q->type = TB_MSG_STATUS;
                q->id = 8;
        } else if (strcmp(name, "req-stats") == 0) {
                q->type = TB_MSG_STATS;
                q->id = 9;
        } else if (strcmp(name, "req-balance-unknown") == 0) {
                q->type = TB_MSG_BALANCE;
                q->id = 17;
                strcpy(q->u.balance.account, "carol");
        } else if (strcmp(name, "req-history-unknown") == 0) {
                q->type = TB_MSG_HISTORY;
                q->id = 18;
                strcpy(q->u.history.account, "carol");
                q->u.history.before = TB_SEQ_LATEST;
                q->u.history.limit = 20;
        } else if (strcmp(name, "req-inclusion-outside") == 0) {
                q->type = TB_MSG_INCLUSION;
                q->id = 19;
                q->u.inclusion.index = 8;
                q->u.inclusion.size = 8;
        } else if (strcmp(name, "req-consistency-backwards") == 0) {
                q->type = TB_MSG_CONSISTENCY;
                q->id = 20;
                q->u.consistency.old_size = 8;
                q->u.consistency.size = 5;
        } else {
                abort();
        }
}

static const char *const request_names[] = {
    "req-submit",
    "req-balance",
    "req-history",
    "req-entry",
    "req-checkpoint",
    "req-inclusion",
    "req-consistency",
    "req-status",
    "req-stats",
    "req-balance-unknown",
    "req-history-unknown",
    "req-inclusion-outside",
    "req-consistency-backwards",
};

/* Two requests are the same message: same header and fields. */
static int request_equal(const struct tb_request *a, const struct tb_request *b)
{
        if (a->version != b->version || a->type != b->type || a->id != b->id)
                return 0;
        switch (a->type) {
        case TB_MSG_SUBMIT:
                return a->u.submit.len == b->u.submit.len &&
                       memcmp(a->u.submit.signed_entry,
                              b->u.submit.signed_entry, a->u.submit.len) == 0;
        case TB_MSG_BALANCE:
                return strcmp(a->u.balance.account, b->u.balance.account) == 0;
        case TB_MSG_HISTORY:
                return strcmp(a->u.history.account, b->u.history.account) ==
                           0 &&
                       a->u.history.before == b->u.history.before &&
                       a->u.history.limit == b->u.history.limit;
        case TB_MSG_ENTRY:
                return a->u.entry.seq == b->u.entry.seq;
        case TB_MSG_INCLUSION:
                return a->u.inclusion.index == b->u.inclusion.index &&
                       a->u.inclusion.size == b->u.inclusion.size;
        case TB_MSG_CONSISTENCY:
                return a->u.consistency.old_size == b->u.consistency.old_size &&
                       a->u.consistency.size == b->u.consistency.size;
        default:
                return 1;
        }
}

/* ---- the readable fields of a vector ------------------------------------ */

static void field_mismatch(const struct docvec *v, const char *key,
                           const char *want, const char *got)
{
        fprintf(stderr, "vector %s: %s is '%s' in the doc, %s in the bytes\n",
                v->name, key, want, got);
        CHECK(0);
}

/* A number, optionally followed by " (words for the reader)". */
static void check_num(const struct docvec *v, const char *key, long long got)
{
        const char *s = docvec_str(v, key);
        char *end, buf[32];
        long long want;

        errno = 0;
        if (s[0] == '-')
                want = strtoll(s, &end, 10);
        else /* u64 values above INT64_MAX compare as their bit pattern */
                want = (long long)strtoull(s, &end, 10);
        if (errno || end == s || (*end && strncmp(end, " (", 2) != 0) ||
            want != got) {
                snprintf(buf, sizeof(buf), "%lld", got);
                field_mismatch(v, key, s, buf);
        }
}

/* An identifier (no spaces), optionally followed by " (words)". */
static void check_word(const struct docvec *v, const char *key, const char *got)
{
        const char *s = docvec_str(v, key);
        size_t n = strcspn(s, " ");

        if (strcmp(s, "(empty)") == 0)
                n = 0;
        if (strlen(got) != n || strncmp(s, got, n) != 0 ||
            (s[n] && strncmp(s + n, " (", 2) != 0 && n > 0))
                field_mismatch(v, key, s, got);
}

/* Bytes named by a vector of docs/ledger-format.md: "record-service",
 * "signed-service of docs/ledger-format.md". */
static void check_ledger_bytes(const struct docvec *v, const char *key,
                               const uint8_t *got, size_t got_len)
{
        const char *s = docvec_str(v, key);
        char name[64];
        size_t n = strcspn(s, " "), len;
        uint8_t *want;

        CHECK(n < sizeof(name));
        if (n >= sizeof(name))
                return;
        memcpy(name, s, n);
        name[n] = 0;
        want = vec(&ledger, name, "hex", &len);
        if (len != got_len || memcmp(want, got, len) != 0)
                field_mismatch(v, key, s, "other bytes");
        free(want);
}

/* "signed note, tree size 8", or "(empty)": the checkpoint's size line. */
static void check_note(const struct docvec *v, const char *key,
                       const uint8_t *text, size_t len)
{
        const char *s = docvec_str(v, key);
        const char *at = strstr(s, "tree size ");
        const uint8_t *nl = text ? memchr(text, '\n', len) : NULL;
        unsigned long long want, got = 0;

        if (strcmp(s, "(empty)") == 0) {
                if (len != 0)
                        field_mismatch(v, key, s, "a note");
                return;
        }
        if (at == NULL || sscanf(at, "tree size %llu", &want) != 1 ||
            nl == NULL) {
                field_mismatch(v, key, s, nl ? "a note" : "no note");
                return;
        }
        got = strtoull((const char *)nl + 1, NULL, 10);
        if (got != want)
                field_mismatch(v, key, s, "another tree size");
}

/* Every readable field of a request vector against its decoded bytes. */
static void check_request_fields(const struct docvec *v,
                                 const struct tb_request *d)
{
        for (int i = 0; i < v->nkeys; i++) {
                const char *k = v->key[i];

                if (!strcmp(k, "name") || !strcmp(k, "hex"))
                        continue;
                if (!strcmp(k, "type"))
                        check_num(v, k, d->type);
                else if (!strcmp(k, "id"))
                        check_num(v, k, d->id);
                else if (d->type == TB_MSG_SUBMIT && !strcmp(k, "body"))
                        check_ledger_bytes(v, k, d->u.submit.signed_entry,
                                           d->u.submit.len);
                else if (d->type == TB_MSG_BALANCE && !strcmp(k, "account"))
                        check_word(v, k, d->u.balance.account);
                else if (d->type == TB_MSG_HISTORY && !strcmp(k, "account"))
                        check_word(v, k, d->u.history.account);
                else if (d->type == TB_MSG_HISTORY && !strcmp(k, "before"))
                        check_num(v, k, (long long)d->u.history.before);
                else if (d->type == TB_MSG_HISTORY && !strcmp(k, "limit"))
                        check_num(v, k, d->u.history.limit);
                else if (d->type == TB_MSG_ENTRY && !strcmp(k, "seq"))
                        check_num(v, k, (long long)d->u.entry.seq);
                else if (d->type == TB_MSG_INCLUSION && !strcmp(k, "index"))
                        check_num(v, k, (long long)d->u.inclusion.index);
                else if (d->type == TB_MSG_INCLUSION && !strcmp(k, "size"))
                        check_num(v, k, (long long)d->u.inclusion.size);
                else if (d->type == TB_MSG_CONSISTENCY &&
                         !strcmp(k, "old_size"))
                        check_num(v, k, (long long)d->u.consistency.old_size);
                else if (d->type == TB_MSG_CONSISTENCY && !strcmp(k, "size"))
                        check_num(v, k, (long long)d->u.consistency.size);
                else {
                        fprintf(stderr,
                                "vector %s: field '%s' is not compared "
                                "with the bytes by test_msg\n",
                                v->name, k);
                        CHECK(0);
                }
        }
}

/* "seq 7, delta +135, balance_after 135, record-service" */
static void check_history_item(const struct docvec *v, const char *key,
                               const struct tb_history_item *it)
{
        const char *s = docvec_str(v, key);
        unsigned long long seq, after;
        long long delta;
        char rec[64];
        uint8_t *want;
        size_t len;

        if (sscanf(s, "seq %llu, delta %lld, balance_after %llu, %63s", &seq,
                   &delta, &after, rec) != 4 ||
            seq != it->seq || delta != it->delta ||
            after != it->balance_after) {
                field_mismatch(v, key, s, "another item");
                return;
        }
        want = vec(&ledger, rec, "hex", &len);
        if (len != it->record_len || memcmp(want, it->record, len) != 0)
                field_mismatch(v, key, s, "another record");
        free(want);
}

/* "3 (illustrative: SHA-256 of 00, 01, 02)": the count, and each hash. */
static void check_hashes(const struct docvec *v, const char *key,
                         const struct tb_proof *p)
{
        const char *s = docvec_str(v, key);
        const char *of = strstr(s, "SHA-256 of ");

        check_num(v, key, p->count);
        for (unsigned i = 0; of != NULL && i < p->count; i++) {
                unsigned b;
                uint8_t in, h[32];

                if (sscanf(of + 11 + 4 * i, "%2x", &b) != 1) {
                        field_mismatch(v, key, s, "more hashes");
                        return;
                }
                in = (uint8_t)b;
                crypto_hash_sha256(h, &in, 1);
                if (memcmp(h, p->hashes[i], 32) != 0)
                        field_mismatch(v, key, s, "other hashes");
        }
}

/* Every readable field of a response vector's body against its decoded
 * bytes (the header and message are checked by the caller). */
static void check_response_fields(const struct docvec *v,
                                  const struct tb_response *d)
{
        const struct tb_balance_info *b = &d->u.balance;
        const struct tb_status_info *st = &d->u.status;
        const struct tb_proof *p = &d->u.proof;

        for (int i = 0; i < v->nkeys; i++) {
                const char *k = v->key[i];
                unsigned t = d->type;

                if (!strcmp(k, "name") || !strcmp(k, "hex") ||
                    !strcmp(k, "type") || !strcmp(k, "id") ||
                    !strcmp(k, "status") || !strcmp(k, "message") ||
                    !strcmp(k, "answers"))
                        continue;
                if (!strcmp(k, "body")) {
                        /* "(none: ...)": a refusal carries no body */
                        CHECK(strncmp(docvec_str(v, k), "(none", 5) == 0 &&
                              !tb_response_has_body(d->type, d->status));
                } else if (t == TB_MSG_SUBMIT && !strcmp(k, "seq"))
                        check_num(v, k, (long long)d->u.write.seq);
                else if (t == TB_MSG_SUBMIT && !strcmp(k, "points"))
                        check_num(v, k, d->u.write.points);
                else if (t == TB_MSG_SUBMIT && !strcmp(k, "balance"))
                        check_num(v, k, (long long)d->u.write.balance);
                else if (t == TB_MSG_SUBMIT && !strcmp(k, "checkpoint"))
                        check_note(v, k, d->u.write.checkpoint,
                                   d->u.write.checkpoint_len);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "account"))
                        check_word(v, k, b->account);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "balance"))
                        check_num(v, k, (long long)b->balance);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "earned"))
                        check_num(v, k, (long long)b->earned);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "redeemed"))
                        check_num(v, k, (long long)b->redeemed);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "transferred_in"))
                        check_num(v, k, (long long)b->transferred_in);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "transferred_out"))
                        check_num(v, k, (long long)b->transferred_out);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "minutes"))
                        check_num(v, k, (long long)b->minutes);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "entries"))
                        check_num(v, k, (long long)b->entries);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "opened_seq"))
                        check_num(v, k, (long long)b->opened_seq);
                else if (t == TB_MSG_BALANCE && !strcmp(k, "last_seq"))
                        check_num(v, k, (long long)b->last_seq);
                else if (t == TB_MSG_HISTORY && !strcmp(k, "next_before"))
                        check_num(v, k, (long long)d->u.history.next_before);
                else if (t == TB_MSG_HISTORY && !strcmp(k, "count"))
                        check_num(v, k, d->u.history.count);
                else if (t == TB_MSG_HISTORY && !strncmp(k, "item", 4)) {
                        unsigned long n = strtoul(k + 4, NULL, 10);
                        CHECK(n < d->u.history.count);
                        if (n < d->u.history.count)
                                check_history_item(v, k,
                                                   &d->u.history.items[n]);
                } else if (t == TB_MSG_ENTRY && !strcmp(k, "record"))
                        check_ledger_bytes(v, k, d->u.entry.record,
                                           d->u.entry.record_len);
                else if (t == TB_MSG_CHECKPOINT && !strcmp(k, "note"))
                        check_note(v, k, d->u.checkpoint.note,
                                   d->u.checkpoint.note_len);
                else if (t == TB_MSG_CHECKPOINT && !strcmp(k, "note_hex")) {
                        size_t n;
                        uint8_t *want = docvec_hex(v, k, &n);
                        CHECK(n == d->u.checkpoint.note_len &&
                              memcmp(want, d->u.checkpoint.note, n) == 0);
                        free(want);
                } else if ((t == TB_MSG_INCLUSION && !strcmp(k, "index")) ||
                           (t == TB_MSG_CONSISTENCY && !strcmp(k, "old_size")))
                        check_num(v, k, (long long)p->index);
                else if ((t == TB_MSG_INCLUSION || t == TB_MSG_CONSISTENCY) &&
                         !strcmp(k, "size"))
                        check_num(v, k, (long long)p->size);
                else if ((t == TB_MSG_INCLUSION || t == TB_MSG_CONSISTENCY) &&
                         !strcmp(k, "hashes"))
                        check_hashes(v, k, p);
                else if (t == TB_MSG_INCLUSION && !strcmp(k, "record"))
                        check_ledger_bytes(v, k, p->record, p->record_len);
                else if (t == TB_MSG_INCLUSION && !strcmp(k, "checkpoint"))
                        check_note(v, k, p->checkpoint, p->checkpoint_len);
                else if (t == TB_MSG_STATUS && !strcmp(k, "origin"))
                        check_word(v, k, st->origin);
                else if (t == TB_MSG_STATUS && !strcmp(k, "log_key"))
                        check_word(v, k, st->log_key);
                else if (t == TB_MSG_STATUS && !strcmp(k, "version")) {
                        if (strcmp(docvec_str(v, k), st->version) != 0)
                                field_mismatch(v, k, docvec_str(v, k),
                                               st->version);
                } else if (t == TB_MSG_STATUS && !strcmp(k, "tree_size"))
                        check_num(v, k, (long long)st->tree_size);
                else if (t == TB_MSG_STATUS && !strcmp(k, "accounts"))
                        check_num(v, k, (long long)st->accounts);
                else if (t == TB_MSG_STATUS && !strcmp(k, "keys_active"))
                        check_num(v, k, (long long)st->keys_active);
                else if (t == TB_MSG_STATUS && !strcmp(k, "keys_revoked"))
                        check_num(v, k, (long long)st->keys_revoked);
                else if (t == TB_MSG_STATUS && !strcmp(k, "disk_bytes"))
                        check_num(v, k, (long long)st->disk_bytes);
                else if (t == TB_MSG_STATUS && !strcmp(k, "map_bytes"))
                        check_num(v, k, (long long)st->map_bytes);
                else if (t == TB_MSG_STATS && !strcmp(k, "count"))
                        check_num(v, k, d->u.stats.count);
                else if (t == TB_MSG_STATS && !strncmp(k, "stat", 4)) {
                        /* "name{label} value" */
                        unsigned long n = strtoul(k + 4, NULL, 10);
                        char got[96];
                        CHECK(n < d->u.stats.count);
                        if (n < d->u.stats.count) {
                                const struct tb_stat *x = &d->u.stats.items[n];
                                snprintf(got, sizeof(got), "%s{%s} %llu",
                                         x->name, x->label,
                                         (unsigned long long)x->value);
                                if (strcmp(docvec_str(v, k), got) != 0)
                                        field_mismatch(v, k, docvec_str(v, k),
                                                       got);
                        }
                } else {
                        fprintf(stderr,
                                "vector %s: field '%s' is not compared "
                                "with the bytes by test_msg\n",
                                v->name, k);
                        CHECK(0);
                }
        }
}

static void test_request_vectors(void)
{
        for (size_t i = 0; i < sizeof(request_names) / sizeof(*request_names);
             i++) {
                struct tb_request q, d;
                uint8_t out[TB_FRAME_MAX], t[TB_FRAME_MAX + 1];
                size_t n, len;
                uint8_t *hex = vec(&set, request_names[i], "hex", &n);

                build_request(request_names[i], &q);
                /* encode(struct) == documented bytes */
                CHECK(tb_request_encode(&q, out, sizeof(out), &len) == TB_OK);
                CHECK(len == n && memcmp(out, hex, n) == 0);
                /* decode(documented bytes) == struct */
                CHECK(tb_request_decode(hex, n, &d) == TB_OK);
                CHECK(request_equal(&q, &d));
                /* every readable field is what the bytes say */
                check_request_fields(docvec_get(&set, request_names[i]), &d);
                /* a short output buffer overflows */
                CHECK_ERR(tb_request_encode(&q, out, len - 1, &len),
                          TB_E_OVERFLOW);
                /* truncated at every length: a prefix fails (a SUBMIT body is
                 * only size-checked here, so its prefixes fail only while
                 * they are no longer than a signature) */
                for (size_t k = 0; k < n; k++) {
                        enum tb_err want = TB_E_TRUNCATED;
                        if (q.type == TB_MSG_SUBMIT &&
                            k > TB_REQUEST_HEADER + TB_SIG_SIZE)
                                want = TB_OK;
                        CHECK_ERR(tb_request_decode(hex, k, &d), want);
                }
                /* trailing bytes fail (SUBMIT: they belong to the entry) */
                memcpy(t, hex, n);
                t[n] = 0;
                if (q.type != TB_MSG_SUBMIT)
                        CHECK_ERR(tb_request_decode(t, n + 1, &d),
                                  TB_E_TRAILING);
                /* peek reads the frozen header of any request */
                {
                        uint8_t v;
                        uint16_t ty;
                        uint32_t id;
                        CHECK(tb_request_peek(hex, n, &v, &ty, &id) == TB_OK);
                        CHECK(v == 1 && ty == q.type && id == q.id);
                }
                free(hex);
        }
}

static const struct {
        const char *name;
        enum tb_err err;
} err_names[] = {
    {"TB_E_TRUNCATED", TB_E_TRUNCATED}, {"TB_E_TRAILING", TB_E_TRAILING},
    {"TB_E_VERSION", TB_E_VERSION},     {"TB_E_MSG_TYPE", TB_E_MSG_TYPE},
    {"TB_E_MSG_FIELD", TB_E_MSG_FIELD}, {"TB_E_ACCOUNT", TB_E_ACCOUNT},
    {"TB_E_TOO_LARGE", TB_E_TOO_LARGE},
};

static int err_from_name(const char *s)
{
        for (size_t i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
                if (strcmp(err_names[i].name, s) == 0)
                        return (int)err_names[i].err;
        return -1;
}

/* Every "*-reject-*" vector fails with its documented error. */
static void test_reject_vectors(void)
{
        for (int i = 0; i < set.n; i++) {
                struct docvec *v = &set.v[i];
                struct tb_request q;
                struct tb_response r;
                size_t n;
                uint8_t *hex;
                int want, got;

                if (strstr(v->name, "-reject-") == NULL)
                        continue;
                v = docvec_get(&set, v->name);
                hex = docvec_hex(v, "hex", &n);
                want = err_from_name(docvec_str(v, "error"));
                CHECK(want >= 0);
                got = strncmp(v->name, "req-", 4) == 0
                          ? tb_request_decode(hex, n, &q)
                          : tb_response_decode(hex, n, &r);
                if (got != want) {
                        fprintf(stderr, "vector %s: got %d, want %d\n", v->name,
                                got, want);
                        CHECK(0);
                }
                free(hex);
        }
        /* the bidi vector is refused for its U+202E alone: the same message
         * with U+2020 (a dagger) in its place is clean */
        {
                static const uint8_t want[] = {
                    0x01, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x02, 0x00,
                    0xc8, 0x00, 0x05, 'a',  0xe2, 0x80, 0xae, 'b'};
                struct tb_response r;
                size_t n;
                uint8_t *hex = vec(&set, "resp-reject-message-bidi", "hex", &n);

                CHECK(n == sizeof(want) && memcmp(hex, want, n) == 0);
                if (n == sizeof(want)) {
                        hex[14] = 0xa0;
                        CHECK(tb_response_decode(hex, n, &r) == TB_OK);
                }
                free(hex);
        }
}

static enum tb_err req_bytes(const uint8_t *p, size_t n)
{
        struct tb_request q;

        return tb_request_decode(p, n, &q);
}

/* A request of type ty and id 1 with the given body bytes. */
static size_t mkreq(uint8_t *out, unsigned version, unsigned ty,
                    const void *body, size_t blen)
{
        out[0] = (uint8_t)version;
        out[1] = (uint8_t)(ty >> 8);
        out[2] = (uint8_t)ty;
        tb_store_u32be(out + 3, 1);
        memcpy(out + 7, body, blen);
        return 7 + blen;
}

static void test_request_rules(void)
{
        struct tb_request q;
        uint8_t b[TB_FRAME_MAX], body[TB_FRAME_MAX];
        size_t n;
        uint8_t v;
        uint16_t ty;
        uint32_t id;

        memset(body, 0, sizeof(body));
        /* shorter than the 7-byte header: truncated (answered BAD_REQUEST,
         * type 0, id 0) */
        n = mkreq(b, 1, TB_MSG_STATUS, "", 0);
        for (size_t k = 0; k < TB_REQUEST_HEADER; k++) {
                CHECK_ERR(req_bytes(b, k), TB_E_TRUNCATED);
                CHECK_ERR(tb_request_peek(b, k, &v, &ty, &id), TB_E_TRUNCATED);
        }
        CHECK(req_bytes(b, n) == TB_OK);
        /* unknown version 0 and 2: TB_E_VERSION, before the type is
         * judged, whatever follows the header */
        n = mkreq(b, 0, TB_MSG_STATUS, "", 0);
        CHECK_ERR(req_bytes(b, n), TB_E_VERSION);
        n = mkreq(b, 2, 999, "garbage", 7);
        CHECK_ERR(req_bytes(b, n), TB_E_VERSION);
        n = mkreq(b, 255, TB_MSG_STATUS, "", 0);
        CHECK_ERR(req_bytes(b, n), TB_E_VERSION);
        /* ... and peek still gives the header to answer with */
        CHECK(tb_request_peek(b, n, &v, &ty, &id) == TB_OK);
        CHECK(v == 255 && ty == TB_MSG_STATUS && id == 1);
        /* unknown types */
        static const unsigned bad_types[] = {0,   1,   99,  101,  199,
                                             208, 299, 300, 65535};
        for (size_t i = 0; i < sizeof(bad_types) / sizeof(*bad_types); i++) {
                n = mkreq(b, 1, bad_types[i], "", 0);
                CHECK_ERR(req_bytes(b, n), TB_E_MSG_TYPE);
                memset(&q, 0, sizeof(q));
                q.type = (uint16_t)bad_types[i];
                CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n),
                          TB_E_MSG_TYPE);
        }
        /* BALANCE account: 1..64 bytes of 0x21..0x7e */
        {
                uint8_t a[70];
                memset(a, 'a', sizeof(a));
                a[0] = 0;
                n = mkreq(b, 1, TB_MSG_BALANCE, a, 1);
                CHECK_ERR(req_bytes(b, n), TB_E_ACCOUNT);
                a[0] = 1;
                n = mkreq(b, 1, TB_MSG_BALANCE, a, 2);
                CHECK(req_bytes(b, n) == TB_OK);
                a[0] = 64;
                n = mkreq(b, 1, TB_MSG_BALANCE, a, 65);
                CHECK(req_bytes(b, n) == TB_OK);
                a[0] = 65;
                n = mkreq(b, 1, TB_MSG_BALANCE, a, 66);
                CHECK_ERR(req_bytes(b, n), TB_E_ACCOUNT);
                a[0] = 3;
                a[2] = ' ';
                n = mkreq(b, 1, TB_MSG_BALANCE, a, 4);
                CHECK_ERR(req_bytes(b, n), TB_E_ACCOUNT);
                a[2] = 0;
                n = mkreq(b, 1, TB_MSG_BALANCE, a, 4);
                CHECK_ERR(req_bytes(b, n), TB_E_ACCOUNT);
        }
        build_request("req-balance", &q);
        q.u.balance.account[0] = 0;
        CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n), TB_E_ACCOUNT);
        strcpy(q.u.balance.account, "a b");
        CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n), TB_E_ACCOUNT);
        memset(q.u.balance.account, 'a', TB_ACCOUNT_ID_MAX + 1);
        CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n), TB_E_ACCOUNT);

        /* HISTORY: account, before 1..2^64-1, limit 1..TB_HISTORY_MAX */
        build_request("req-history", &q);
        q.u.history.account[0] = 0;
        CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n), TB_E_ACCOUNT);
        {
                static const struct {
                        uint64_t before;
                        uint16_t limit;
                        enum tb_err want;
                } t[] = {
                    {TB_SEQ_LATEST, 0, TB_E_MSG_FIELD},
                    {TB_SEQ_LATEST, 1, TB_OK},
                    {TB_SEQ_LATEST, TB_HISTORY_MAX, TB_OK},
                    {TB_SEQ_LATEST, TB_HISTORY_MAX + 1, TB_E_MSG_FIELD},
                    {TB_SEQ_LATEST, 65535, TB_E_MSG_FIELD},
                    {0, 20, TB_E_MSG_FIELD},
                    {1, 20, TB_OK},
                    {INT64_MAX, 20, TB_OK},
                    {(uint64_t)INT64_MAX + 1, 20, TB_OK},
                };
                for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
                        uint8_t bb[6 + 8 + 2] = {5, 'a', 'l', 'i', 'c', 'e'};
                        tb_store_u64be(bb + 6, t[i].before);
                        bb[14] = (uint8_t)(t[i].limit >> 8);
                        bb[15] = (uint8_t)t[i].limit;
                        n = mkreq(b, 1, TB_MSG_HISTORY, bb, sizeof(bb));
                        CHECK_ERR(req_bytes(b, n), t[i].want);
                        build_request("req-history", &q);
                        q.u.history.before = t[i].before;
                        q.u.history.limit = t[i].limit;
                        CHECK_ERR(tb_request_encode(&q, body, sizeof(body), &n),
                                  t[i].want);
                        if (t[i].want == TB_OK)
                                CHECK(n == 7 + 16 &&
                                      memcmp(body + 7, bb, 16) == 0);
                }
        }
        /* sizes and sequence numbers: 0..INT64_MAX */
        {
                static const unsigned types[] = {TB_MSG_ENTRY, TB_MSG_INCLUSION,
                                                 TB_MSG_CONSISTENCY};
                for (size_t i = 0; i < 3; i++) {
                        size_t fields = types[i] == TB_MSG_ENTRY ? 1 : 2;
                        for (size_t f = 0; f < fields; f++) {
                                uint8_t bb[16];
                                tb_store_u64be(bb, 1);
                                tb_store_u64be(bb + 8, 1);
                                tb_store_u64be(bb + 8 * f, INT64_MAX);
                                n = mkreq(b, 1, types[i], bb, 8 * fields);
                                CHECK(req_bytes(b, n) == TB_OK);
                                tb_store_u64be(bb + 8 * f,
                                               (uint64_t)INT64_MAX + 1);
                                n = mkreq(b, 1, types[i], bb, 8 * fields);
                                CHECK_ERR(req_bytes(b, n), TB_E_MSG_FIELD);
                                tb_store_u64be(bb + 8 * f, UINT64_MAX);
                                n = mkreq(b, 1, types[i], bb, 8 * fields);
                                CHECK_ERR(req_bytes(b, n), TB_E_MSG_FIELD);
                        }
                }
                build_request("req-entry", &q);
                q.u.entry.seq = (uint64_t)INT64_MAX + 1;
                CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                q.u.entry.seq = 0; /* the genesis */
                CHECK(tb_request_encode(&q, b, sizeof(b), &n) == TB_OK);
                build_request("req-inclusion", &q);
                q.u.inclusion.size = (uint64_t)INT64_MAX + 1;
                CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                q.u.inclusion.size = 0; /* latest */
                q.u.inclusion.index = 0;
                CHECK(tb_request_encode(&q, b, sizeof(b), &n) == TB_OK);
                q.u.inclusion.index = (uint64_t)INT64_MAX + 1;
                CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
        }
        /* CONSISTENCY old size 0 is refused (no proof from an empty tree) */
        {
                uint8_t bb[16];
                tb_store_u64be(bb, 0);
                tb_store_u64be(bb + 8, 8);
                n = mkreq(b, 1, TB_MSG_CONSISTENCY, bb, 16);
                CHECK_ERR(req_bytes(b, n), TB_E_MSG_FIELD);
                tb_store_u64be(bb, 1);
                n = mkreq(b, 1, TB_MSG_CONSISTENCY, bb, 16);
                CHECK(req_bytes(b, n) == TB_OK);
                build_request("req-consistency", &q);
                q.u.consistency.old_size = 0;
                CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                q.u.consistency.old_size = (uint64_t)INT64_MAX + 1;
                CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
        }
        /* empty-bodied types take no body */
        n = mkreq(b, 1, TB_MSG_CHECKPOINT, "x", 1);
        CHECK_ERR(req_bytes(b, n), TB_E_TRAILING);
        /* SUBMIT: TB_SIG_SIZE+1 .. TB_SIGNED_MAX bytes of signed entry */
        n = mkreq(b, 1, TB_MSG_SUBMIT, body, 0);
        CHECK_ERR(req_bytes(b, n), TB_E_TRUNCATED);
        n = mkreq(b, 1, TB_MSG_SUBMIT, body, TB_SIG_SIZE);
        CHECK_ERR(req_bytes(b, n), TB_E_TRUNCATED);
        n = mkreq(b, 1, TB_MSG_SUBMIT, body, TB_SIG_SIZE + 1);
        CHECK(req_bytes(b, n) == TB_OK);
        n = mkreq(b, 1, TB_MSG_SUBMIT, body, TB_SIGNED_MAX);
        CHECK(req_bytes(b, n) == TB_OK);
        n = mkreq(b, 1, TB_MSG_SUBMIT, body, TB_SIGNED_MAX + 1);
        CHECK_ERR(req_bytes(b, n), TB_E_TOO_LARGE);
        n = mkreq(b, 1, TB_MSG_SUBMIT, body, TB_FRAME_MAX - 7);
        CHECK_ERR(req_bytes(b, n), TB_E_TOO_LARGE);
        build_request("req-submit", &q);
        q.u.submit.signed_entry = body;
        q.u.submit.len = TB_SIG_SIZE;
        CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n), TB_E_MSG_FIELD);
        q.u.submit.len = TB_SIGNED_MAX + 1;
        CHECK_ERR(tb_request_encode(&q, b, sizeof(b), &n), TB_E_TOO_LARGE);
        q.u.submit.len = TB_SIGNED_MAX;
        CHECK(tb_request_encode(&q, b, sizeof(b), &n) == TB_OK);
        CHECK(n == 7 + TB_SIGNED_MAX);
        /* the encoder writes TB_PROTO_VERSION whatever q->version says */
        q.version = 9;
        CHECK(tb_request_encode(&q, b, sizeof(b), &n) == TB_OK && b[0] == 1);
}

/* tb_status_for_decode_error: which status answers which decode error. */
static void test_status_for_decode_error(void)
{
        CHECK(tb_status_for_decode_error(TB_E_VERSION) ==
              TB_ST_UNSUPPORTED_VERSION);
        CHECK(tb_status_for_decode_error(TB_E_MSG_TYPE) == TB_ST_UNKNOWN_TYPE);
        CHECK(tb_status_for_decode_error(TB_E_TOO_LARGE) == TB_ST_TOO_LARGE);
        for (int e = 0; e < TB_E__COUNT; e++) {
                if (e == TB_E_VERSION || e == TB_E_MSG_TYPE ||
                    e == TB_E_TOO_LARGE)
                        continue;
                /* everything else, from TB_E_TRUNCATED to TB_E_ACCOUNT and
                 * TB_E_MSG_FIELD, is the client's malformed request */
                CHECK(tb_status_for_decode_error((enum tb_err)e) ==
                      TB_ST_BAD_REQUEST);
        }
        /* and the documented rejections map as documented */
        CHECK(tb_status_for_decode_error(TB_E_TRUNCATED) == TB_ST_BAD_REQUEST);
        CHECK(tb_status_for_decode_error(TB_E_TRAILING) == TB_ST_BAD_REQUEST);
        CHECK(tb_status_for_decode_error(TB_E_ACCOUNT) == TB_ST_BAD_REQUEST);
        CHECK(tb_status_for_decode_error(TB_E_MSG_FIELD) == TB_ST_BAD_REQUEST);
}

/* ---- responses -------------------------------------------------------------
 */

static void set_message(struct tb_response *r, const char *m)
{
        r->message = m;
        r->message_len = strlen(m);
}

static void build_response(const char *name, struct tb_response *r)
{
        memset(r, 0, sizeof(*r));
        r->version = TB_PROTO_VERSION;
        if (strcmp(name, "resp-submit") == 0 ||
            strcmp(name, "resp-submit-duplicate") == 0) {
                r->type = TB_MSG_SUBMIT;
                r->id = 1;
                r->status = name[11] == '-' ? TB_ST_DUPLICATE : TB_ST_OK;
                r->u.write.seq = 7;
                r->u.write.points = 135;
                r->u.write.balance = 135;
                r->u.write.checkpoint = note;
                r->u.write.checkpoint_len = note_len;
        } else if (strcmp(name, "resp-submit-refused") == 0) {
                r->type = TB_MSG_SUBMIT;
                r->id = 13;
                r->status = TB_ST_INSUFFICIENT_POINTS;
                set_message(r, "balance 85 < 120");
        } else if (strcmp(name, "resp-submit-debit") == 0) {
                r->type = TB_MSG_SUBMIT;
                r->id = 14;
                r->u.write.seq = 9;
                r->u.write.points = -120;
                r->u.write.balance = 15;
        } else if (strcmp(name, "resp-balance") == 0) {
                struct tb_balance_info *b = &r->u.balance;
                r->type = TB_MSG_BALANCE;
                r->id = 2;
                strcpy(b->account, "alice");
                b->balance = 85;
                b->earned = 135;
                b->transferred_out = 50;
                b->minutes = 90;
                b->entries = 3;
                b->opened_seq = 5;
                b->last_seq = 8;
        } else if (strcmp(name, "resp-history") == 0) {
                r->type = TB_MSG_HISTORY;
                r->id = 3;
                r->u.history.next_before = 0;
                r->u.history.count = 1;
                r->u.history.items[0].seq = 7;
                r->u.history.items[0].delta = 135;
                r->u.history.items[0].balance_after = 135;
                r->u.history.items[0].record = record;
                r->u.history.items[0].record_len = record_len;
        } else if (strcmp(name, "resp-entry") == 0) {
                r->type = TB_MSG_ENTRY;
                r->id = 4;
                r->u.entry.record = record;
                r->u.entry.record_len = record_len;
        } else if (strcmp(name, "resp-checkpoint") == 0) {
                r->type = TB_MSG_CHECKPOINT;
                r->id = 5;
                r->u.checkpoint.note = note;
                r->u.checkpoint.note_len = note_len;
        } else if (strcmp(name, "resp-inclusion") == 0) {
                r->type = TB_MSG_INCLUSION;
                r->id = 6;
                r->u.proof.index = 7;
                r->u.proof.size = 8;
                r->u.proof.count = 3;
                memcpy(r->u.proof.hashes, hashes, sizeof(hashes));
                r->u.proof.record = record;
                r->u.proof.record_len = record_len;
                r->u.proof.checkpoint = note;
                r->u.proof.checkpoint_len = note_len;
        } else if (strcmp(name, "resp-consistency") == 0) {
                r->type = TB_MSG_CONSISTENCY;
                r->id = 7;
                r->u.proof.index = 5;
                r->u.proof.size = 8;
                r->u.proof.count = 2;
                memcpy(r->u.proof.hashes, hashes, 2 * 32);
        } else if (strcmp(name, "resp-status") == 0) {
                struct tb_status_info *s = &r->u.status;
                r->type = TB_MSG_STATUS;
                r->id = 8;
                strcpy(s->origin, ORIGIN);
                strcpy(s->log_key,
                       docvec_str(docvec_get(&set, name), "log_key"));
                /* what daemon/server.c do_status sends */
                snprintf(s->version, sizeof(s->version), "timebankd %s",
                         TIMEBANK_VERSION);
                s->tree_size = 8;
                s->accounts = 2;
                s->keys_active = 2;
                s->keys_revoked = 1;
                s->disk_bytes = 1048576;
                s->map_bytes = 10485760;
        } else if (strcmp(name, "resp-stats") == 0) {
                static const struct tb_stat items[] = {
                    {"entries", "", 8},
                    {"responses_total", "OK", 7},
                    {"responses_total", "INSUFFICIENT_POINTS", 1},
                };
                r->type = TB_MSG_STATS;
                r->id = 9;
                r->u.stats.count = 3;
                memcpy(r->u.stats.items, items, sizeof(items));
        } else if (strcmp(name, "resp-unsupported-version") == 0) {
                r->type = TB_MSG_BALANCE;
                r->id = 9;
                r->status = TB_ST_UNSUPPORTED_VERSION;
                set_message(r, "protocol version 2 is not supported; this "
                               "daemon speaks 1");
        } else if (strcmp(name, "resp-bad-header") == 0) {
                r->type = 0;
                r->id = 0;
                r->status = TB_ST_BAD_REQUEST;
                set_message(r, "request shorter than its 7-byte header");
        } else if (strcmp(name, "resp-not-found") == 0) {
                r->type = TB_MSG_ENTRY;
                r->id = 15;
                r->status = TB_ST_NOT_FOUND;
                set_message(r, "no entry with seq 99");
        } else if (strcmp(name, "resp-unknown-type0") == 0) {
                /* a request of type 0: refused like any unknown type,
                 * with the decoder's message, echoing type 0 and its id */
                r->type = 0;
                r->id = 16;
                r->status = (uint16_t)tb_status_for_decode_error(TB_E_MSG_TYPE);
                set_message(r, tb_strerror(TB_E_MSG_TYPE));
        } else if (strcmp(name, "resp-balance-unknown") == 0 ||
                   strcmp(name, "resp-history-unknown") == 0) {
                r->type = name[5] == 'b' ? TB_MSG_BALANCE : TB_MSG_HISTORY;
                r->id = name[5] == 'b' ? 17 : 18;
                r->status = TB_ST_UNKNOWN_ACCOUNT;
                set_message(r, "no account 'carol'");
        } else if (strcmp(name, "resp-inclusion-not-found") == 0) {
                r->type = TB_MSG_INCLUSION;
                r->id = 19;
                r->status = TB_ST_NOT_FOUND;
                set_message(r, "entry 8 is not in a tree of size 8 (or that "
                               "size is beyond the log)");
        } else if (strcmp(name, "resp-consistency-not-found") == 0) {
                r->type = TB_MSG_CONSISTENCY;
                r->id = 20;
                r->status = TB_ST_NOT_FOUND;
                set_message(r, "no consistency proof from size 8 to 5: sizes "
                               "must satisfy 1 <= old <= new <= the tree "
                               "size");
        } else {
                abort();
        }
}

static const char *const response_names[] = {
    "resp-submit",
    "resp-submit-duplicate",
    "resp-submit-refused",
    "resp-submit-debit",
    "resp-balance",
    "resp-history",
    "resp-entry",
    "resp-checkpoint",
    "resp-inclusion",
    "resp-consistency",
    "resp-status",
    "resp-stats",
    "resp-unsupported-version",
    "resp-bad-header",
    "resp-not-found",
    "resp-unknown-type0",
    "resp-balance-unknown",
    "resp-history-unknown",
    "resp-inclusion-not-found",
    "resp-consistency-not-found",
};

/* The vector's readable "message:" line is the message of its bytes. */
static void check_message_line(const struct docvec *v,
                               const struct tb_response *r)
{
        const char *m = docvec_str(v, "message");

        if (strcmp(m, "(empty)") == 0)
                m = "";
        if (strlen(m) != r->message_len ||
            (r->message_len > 0 && memcmp(m, r->message, r->message_len))) {
                fprintf(stderr, "vector %s: message line differs\n", v->name);
                CHECK(0);
        }
}

/*
 * "answers: req-NAME ...": the response echoes that request's type and id
 * (read from its bytes, as the daemon does with tb_request_peek), and a
 * rejected request is answered with the status of its decode error.
 */
static void check_answers(const struct docvec *v, const struct tb_response *r)
{
        const char *a = docvec_find(v, "answers");
        char name[64];
        size_t n, k;
        uint8_t *hex, ver;
        uint16_t ty;
        uint32_t id;
        struct docvec *q;
        struct tb_request d;

        if (a == NULL || strncmp(a, "req-", 4) != 0)
                return;
        k = strcspn(a, " ");
        CHECK(k < sizeof(name));
        if (k >= sizeof(name))
                return;
        memcpy(name, a, k);
        name[k] = 0;
        q = docvec_get(&set, name);
        hex = docvec_hex(q, "hex", &n);
        CHECK(tb_request_peek(hex, n, &ver, &ty, &id) == TB_OK);
        if (ty != r->type || id != r->id) {
                fprintf(stderr, "vector %s: does not echo %s\n", v->name, name);
                CHECK(0);
        }
        if (docvec_find(q, "error") != NULL)
                CHECK(tb_status_for_decode_error(
                          tb_request_decode(hex, n, &d)) == r->status);
        free(hex);
}

static void test_response_vectors(void)
{
        for (size_t i = 0; i < sizeof(response_names) / sizeof(*response_names);
             i++) {
                static struct tb_response r, d;
                static uint8_t out[TB_FRAME_MAX], again[TB_FRAME_MAX],
                    t[TB_FRAME_MAX + 1];
                size_t n, len, alen;
                struct docvec *v = docvec_get(&set, response_names[i]);
                uint8_t *hex = docvec_hex(v, "hex", &n);

                build_response(response_names[i], &r);
                CHECK(atoi(docvec_str(v, "status")) == r.status);
                CHECK(atoi(docvec_str(v, "type")) == r.type);
                CHECK(atoi(docvec_str(v, "id")) == (int)r.id);
                check_message_line(v, &r);
                check_answers(v, &r);
                /* encode(struct) == documented bytes */
                CHECK(tb_response_encode(&r, out, sizeof(out), &len) == TB_OK);
                if (len != n || memcmp(out, hex, n) != 0) {
                        fprintf(stderr, "vector %s: encoding differs\n",
                                v->name);
                        CHECK(0);
                }
                /* decode(documented bytes): same header, message, and a
                 * body that re-encodes to the same bytes */
                CHECK(tb_response_decode(hex, n, &d) == TB_OK);
                CHECK(d.version == 1 && d.type == r.type && d.id == r.id &&
                      d.status == r.status);
                /* every readable field of the body is what the bytes say */
                check_response_fields(v, &d);
                CHECK(d.message_len == r.message_len &&
                      (r.message_len == 0 ||
                       memcmp(d.message, r.message, r.message_len) == 0));
                CHECK(tb_response_encode(&d, again, sizeof(again), &alen) ==
                      TB_OK);
                CHECK(alen == n && memcmp(again, hex, n) == 0);
                /* the body is present exactly when has_body says so */
                CHECK((n > TB_RESPONSE_HEADER + r.message_len) ==
                      (tb_response_has_body(r.type, r.status) != 0));
                /* truncated at every length */
                for (size_t k = 0; k < n; k++)
                        CHECK_ERR(tb_response_decode(hex, k, &d),
                                  TB_E_TRUNCATED);
                /* a trailing byte */
                memcpy(t, hex, n);
                t[n] = 0;
                CHECK_ERR(tb_response_decode(t, n + 1, &d), TB_E_TRAILING);
                free(hex);
        }
        /* the decoded fields of a few bodies, explicitly */
        {
                static struct tb_response d;
                size_t n;
                uint8_t *hex = vec(&set, "resp-submit-debit", "hex", &n);
                CHECK(tb_response_decode(hex, n, &d) == TB_OK);
                CHECK(d.u.write.seq == 9 && d.u.write.points == -120 &&
                      d.u.write.balance == 15 && d.u.write.checkpoint == NULL &&
                      d.u.write.checkpoint_len == 0);
                free(hex);
                hex = vec(&set, "resp-history", "hex", &n);
                CHECK(tb_response_decode(hex, n, &d) == TB_OK);
                CHECK(d.u.history.count == 1 &&
                      d.u.history.items[0].record_len == record_len &&
                      memcmp(d.u.history.items[0].record, record, record_len) ==
                          0);
                free(hex);
                hex = vec(&set, "resp-status", "hex", &n);
                CHECK(tb_response_decode(hex, n, &d) == TB_OK);
                CHECK(strcmp(d.u.status.origin, ORIGIN) == 0 &&
                      strcmp(d.u.status.version,
                             docvec_str(docvec_get(&set, "resp-status"),
                                        "version")) == 0 &&
                      d.u.status.map_bytes == 10485760);
                free(hex);
                hex = vec(&set, "resp-inclusion", "hex", &n);
                CHECK(tb_response_decode(hex, n, &d) == TB_OK);
                CHECK(d.u.proof.count == 3 &&
                      memcmp(d.u.proof.hashes, hashes, sizeof(hashes)) == 0 &&
                      d.u.proof.checkpoint_len == note_len);
                free(hex);
        }
}

static enum tb_err resp_bytes(const uint8_t *p, size_t n)
{
        static struct tb_response r;

        return tb_response_decode(p, n, &r);
}

/* A response header with an n-byte message m, then body. */
static size_t mkresp(uint8_t *out, unsigned version, unsigned type,
                     unsigned status, const char *m, size_t mlen,
                     const void *body, size_t blen)
{
        out[0] = (uint8_t)version;
        out[1] = (uint8_t)(type >> 8);
        out[2] = (uint8_t)type;
        tb_store_u32be(out + 3, 42);
        out[7] = (uint8_t)(status >> 8);
        out[8] = (uint8_t)status;
        out[9] = (uint8_t)(mlen >> 8);
        out[10] = (uint8_t)mlen;
        memcpy(out + 11, m, mlen);
        memcpy(out + 11 + mlen, body, blen);
        return 11 + mlen + blen;
}

static void test_response_rules(void)
{
        static struct tb_response r;
        static uint8_t b[TB_FRAME_MAX + 100], body[TB_FRAME_MAX];
        static char m[TB_MESSAGE_MAX + 2];
        size_t n;

        memset(body, 0, sizeof(body));
        memset(m, 'm', sizeof(m));
        /* has_body: OK always, DUPLICATE for SUBMIT only */
        CHECK(tb_response_has_body(TB_MSG_BALANCE, TB_ST_OK));
        CHECK(tb_response_has_body(TB_MSG_SUBMIT, TB_ST_DUPLICATE));
        CHECK(!tb_response_has_body(TB_MSG_BALANCE, TB_ST_DUPLICATE));
        CHECK(!tb_response_has_body(TB_MSG_SUBMIT, TB_ST_INSUFFICIENT_POINTS));
        CHECK(!tb_response_has_body(TB_MSG_ENTRY, TB_ST_NOT_FOUND));
        CHECK(!tb_response_has_body(TB_MSG_SUBMIT, TB_ST_BUSY));
        /* unknown version: TB_E_VERSION, header still filled for the caller */
        n = mkresp(b, 2, TB_MSG_BALANCE, TB_ST_OK, "", 0, "", 0);
        CHECK_ERR(tb_response_decode(b, n, &r), TB_E_VERSION);
        CHECK(r.version == 2 && r.type == TB_MSG_BALANCE && r.id == 42 &&
              r.status == TB_ST_OK);
        /* unknown type: echoed in a refusal without body, decodes */
        n = mkresp(b, 1, 208, TB_ST_UNKNOWN_TYPE, "", 0, "", 0);
        CHECK(tb_response_decode(b, n, &r) == TB_OK);
        CHECK(r.type == 208 && r.id == 42 && r.status == TB_ST_UNKNOWN_TYPE);
        memset(&r, 0, sizeof(r));
        r.type = 208;
        r.status = TB_ST_UNKNOWN_TYPE;
        CHECK(tb_response_encode(&r, b, sizeof(b), &n) == TB_OK && n == 11);
        /* ... but never with a body: TB_E_MSG_TYPE, header filled */
        n = mkresp(b, 1, 208, TB_ST_OK, "", 0, "", 0);
        CHECK_ERR(tb_response_decode(b, n, &r), TB_E_MSG_TYPE);
        CHECK(r.type == 208 && r.id == 42 && r.status == TB_ST_OK);
        r.status = TB_ST_OK;
        CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n), TB_E_MSG_TYPE);
        /* type 0 is only for answers to unparseable requests: never OK */
        memset(&r, 0, sizeof(r));
        CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n), TB_E_MSG_TYPE);
        r.status = TB_ST_BAD_REQUEST;
        CHECK(tb_response_encode(&r, b, sizeof(b), &n) == TB_OK && n == 11);
        /* message: at most TB_MESSAGE_MAX bytes of clean text */
        n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_BAD_REQUEST, m, TB_MESSAGE_MAX,
                   "", 0);
        CHECK(resp_bytes(b, n) == TB_OK);
        n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_BAD_REQUEST, m,
                   TB_MESSAGE_MAX + 1, "", 0);
        CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
        n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_BAD_REQUEST, "a\x1b[", 3, "", 0);
        CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
        n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_BAD_REQUEST, "\xc0\xaf", 2, "",
                   0);
        CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
        n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_BAD_REQUEST, "\xe2\x80\x94 ok",
                   6, "", 0);
        CHECK(resp_bytes(b, n) == TB_OK);
        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_BALANCE;
        r.status = TB_ST_BAD_REQUEST;
        r.message = m;
        r.message_len = TB_MESSAGE_MAX + 1;
        CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n), TB_E_MSG_FIELD);
        r.message_len = TB_MESSAGE_MAX;
        CHECK(tb_response_encode(&r, b, sizeof(b), &n) == TB_OK);
        r.message = "a\nb";
        r.message_len = 3;
        CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n), TB_E_MSG_FIELD);
        r.message = NULL;
        CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n), TB_E_MSG_FIELD);
        /* a refusal carries no body: a byte after the message is trailing */
        n = mkresp(b, 1, TB_MSG_SUBMIT, TB_ST_INSUFFICIENT_POINTS, "", 0, "x",
                   1);
        CHECK_ERR(resp_bytes(b, n), TB_E_TRAILING);
        /* OK with an empty body where one is needed: truncated */
        n = mkresp(b, 1, TB_MSG_CHECKPOINT, TB_ST_OK, "", 0, "", 0);
        CHECK_ERR(resp_bytes(b, n), TB_E_TRUNCATED);
        /* an unknown status keeps its body rule: no body unless OK */
        n = mkresp(b, 1, TB_MSG_BALANCE, 150, "", 0, "", 0);
        CHECK(resp_bytes(b, n) == TB_OK);

        /* SUBMIT result: seq <= INT64_MAX, checkpoint <= 1024 bytes */
        {
                uint8_t w[8 + 8 + 8 + 2];
                memset(w, 0, sizeof(w));
                tb_store_u64be(w, (uint64_t)INT64_MAX + 1);
                n = mkresp(b, 1, TB_MSG_SUBMIT, TB_ST_OK, "", 0, w, 26);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                tb_store_u64be(w, INT64_MAX);
                n = mkresp(b, 1, TB_MSG_SUBMIT, TB_ST_OK, "", 0, w, 26);
                CHECK(resp_bytes(b, n) == TB_OK);
                w[24] = (uint8_t)((TB_CHECKPOINT_MAX + 1) >> 8);
                w[25] = (uint8_t)(TB_CHECKPOINT_MAX + 1);
                memcpy(body, w, 26);
                n = mkresp(b, 1, TB_MSG_SUBMIT, TB_ST_OK, "", 0, body,
                           26 + TB_CHECKPOINT_MAX + 1);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                memset(body, 0, 26 + TB_CHECKPOINT_MAX + 1);
                memset(&r, 0, sizeof(r));
                r.type = TB_MSG_SUBMIT;
                r.u.write.checkpoint = body;
                r.u.write.checkpoint_len = TB_CHECKPOINT_MAX + 1;
                CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                r.u.write.checkpoint_len = TB_CHECKPOINT_MAX;
                CHECK(tb_response_encode(&r, b, sizeof(b), &n) == TB_OK);
                r.u.write.seq = (uint64_t)INT64_MAX + 1;
                CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
        }
        /* BALANCE: the account follows the account rule */
        {
                uint8_t bb[2 + 72];
                memset(bb, 0, sizeof(bb));
                bb[0] = 0; /* empty account */
                n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_OK, "", 0, bb, 1 + 72);
                CHECK_ERR(resp_bytes(b, n), TB_E_ACCOUNT);
                bb[0] = 1;
                bb[1] = 'a';
                n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_OK, "", 0, bb, 2 + 72);
                CHECK(resp_bytes(b, n) == TB_OK);
                /* opened_seq above INT64_MAX */
                tb_store_u64be(bb + 2 + 56, UINT64_MAX);
                n = mkresp(b, 1, TB_MSG_BALANCE, TB_ST_OK, "", 0, bb, 2 + 72);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
        }
        /* HISTORY: count <= TB_HISTORY_MAX; records <= TB_RECORD_MAX */
        {
                uint8_t hb[10 + 26];
                memset(hb, 0, sizeof(hb));
                hb[8] = 0;
                hb[9] = TB_HISTORY_MAX + 1;
                n = mkresp(b, 1, TB_MSG_HISTORY, TB_ST_OK, "", 0, hb, 10);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                hb[9] = 0;
                n = mkresp(b, 1, TB_MSG_HISTORY, TB_ST_OK, "", 0, hb, 10);
                CHECK(resp_bytes(b, n) == TB_OK);
                tb_store_u64be(hb, (uint64_t)INT64_MAX + 1); /* next_before */
                n = mkresp(b, 1, TB_MSG_HISTORY, TB_ST_OK, "", 0, hb, 10);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                tb_store_u64be(hb, 0);
                hb[9] = 1;
                hb[34] = (uint8_t)((TB_RECORD_MAX + 1) >> 8);
                hb[35] = (uint8_t)(TB_RECORD_MAX + 1);
                memcpy(body, hb, 36);
                memset(body + 36, 0, TB_RECORD_MAX + 1);
                n = mkresp(b, 1, TB_MSG_HISTORY, TB_ST_OK, "", 0, body,
                           36 + TB_RECORD_MAX + 1);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                memset(&r, 0, sizeof(r));
                r.type = TB_MSG_HISTORY;
                r.u.history.count = TB_HISTORY_MAX + 1;
                CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                /* the largest history response fits one frame */
                r.u.history.count = TB_HISTORY_MAX;
                for (int i = 0; i < TB_HISTORY_MAX; i++) {
                        r.u.history.items[i].seq = (uint64_t)i + 1;
                        r.u.history.items[i].record = body;
                        r.u.history.items[i].record_len = TB_RECORD_MAX;
                }
                CHECK(tb_response_encode(&r, b, sizeof(b), &n) == TB_OK);
                CHECK(n <= TB_FRAME_MAX);
                CHECK(resp_bytes(b, n) == TB_OK);
        }
        /* ENTRY and CHECKPOINT blobs: at most TB_RECORD_MAX / 1024 */
        {
                memset(body, 0, TB_RECORD_MAX + 3);
                body[0] = (uint8_t)((TB_RECORD_MAX + 1) >> 8);
                body[1] = (uint8_t)(TB_RECORD_MAX + 1);
                n = mkresp(b, 1, TB_MSG_ENTRY, TB_ST_OK, "", 0, body,
                           TB_RECORD_MAX + 3);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                body[0] = (uint8_t)(TB_RECORD_MAX >> 8);
                body[1] = (uint8_t)TB_RECORD_MAX;
                n = mkresp(b, 1, TB_MSG_ENTRY, TB_ST_OK, "", 0, body,
                           TB_RECORD_MAX + 2);
                CHECK(resp_bytes(b, n) == TB_OK);
                body[0] = (uint8_t)((TB_CHECKPOINT_MAX + 1) >> 8);
                body[1] = (uint8_t)(TB_CHECKPOINT_MAX + 1);
                n = mkresp(b, 1, TB_MSG_CHECKPOINT, TB_ST_OK, "", 0, body,
                           TB_CHECKPOINT_MAX + 3);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                memset(&r, 0, sizeof(r));
                r.type = TB_MSG_ENTRY;
                r.u.entry.record = body;
                r.u.entry.record_len = TB_RECORD_MAX + 1;
                CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                r.u.entry.record = NULL;
                r.u.entry.record_len = 1;
                CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
        }
        /* proofs: at most TB_PROOF_MAX hashes, sizes <= INT64_MAX */
        {
                uint8_t pb[17];
                memset(pb, 0, sizeof(pb));
                pb[16] = TB_PROOF_MAX + 1;
                n = mkresp(b, 1, TB_MSG_CONSISTENCY, TB_ST_OK, "", 0, pb, 17);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                pb[16] = 0;
                n = mkresp(b, 1, TB_MSG_CONSISTENCY, TB_ST_OK, "", 0, pb, 17);
                CHECK(resp_bytes(b, n) == TB_OK);
                tb_store_u64be(pb + 8, UINT64_MAX);
                n = mkresp(b, 1, TB_MSG_CONSISTENCY, TB_ST_OK, "", 0, pb, 17);
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
                memset(&r, 0, sizeof(r));
                r.type = TB_MSG_INCLUSION;
                r.u.proof.count = TB_PROOF_MAX;
                CHECK(tb_response_encode(&r, b, sizeof(b), &n) == TB_OK);
                CHECK(n == 11 + 17 + TB_PROOF_MAX * 32 + 4);
                CHECK(resp_bytes(b, n) == TB_OK);
                r.u.proof.count = TB_PROOF_MAX + 1;
                CHECK_ERR(tb_response_encode(&r, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
        }
        /* STATUS: origin is a name; log key <= 256 and version <= 64 bytes
         * of clean text */
        {
                static struct tb_response s;
                build_response("resp-status", &s);
                strcpy(s.u.status.origin, "a+b");
                CHECK_ERR(tb_response_encode(&s, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                s.u.status.origin[0] = 0;
                CHECK_ERR(tb_response_encode(&s, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                build_response("resp-status", &s);
                memset(s.u.status.log_key, 'k', TB_VKEY_MAX - 1);
                s.u.status.log_key[TB_VKEY_MAX - 1] = 0;
                CHECK(tb_response_encode(&s, b, sizeof(b), &n) == TB_OK);
                CHECK(resp_bytes(b, n) == TB_OK);
                memset(s.u.status.log_key, 'k', TB_VKEY_MAX); /* no NUL */
                CHECK_ERR(tb_response_encode(&s, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                build_response("resp-status", &s);
                memset(s.u.status.version, 'v', TB_VERSION_TEXT_MAX + 1);
                CHECK_ERR(tb_response_encode(&s, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                strcpy(s.u.status.version, "0.1\n");
                CHECK_ERR(tb_response_encode(&s, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                build_response("resp-status", &s);
                s.u.status.tree_size = (uint64_t)INT64_MAX + 1;
                CHECK_ERR(tb_response_encode(&s, b, sizeof(b), &n),
                          TB_E_MSG_FIELD);
                /* decode side: patch the origin's first byte to '+' */
                build_response("resp-status", &s);
                CHECK(tb_response_encode(&s, b, sizeof(b), &n) == TB_OK);
                b[12] = '+';
                CHECK_ERR(resp_bytes(b, n), TB_E_MSG_FIELD);
        }
        /* a short output buffer overflows */
        {
                static struct tb_response s;
                build_response("resp-balance", &s);
                CHECK_ERR(tb_response_encode(&s, b, 20, &n), TB_E_OVERFLOW);
                CHECK(n == 0);
        }
}

/* Random requests and responses survive encode -> decode -> encode. */
static void test_round_trips(void)
{
        uint64_t x = 0x2545f4914f6cdd1du;
        int failures = 0;

        for (int i = 0; i < 3000; i++) {
                struct tb_request q, d;
                uint8_t a[TB_FRAME_MAX], b2[TB_FRAME_MAX];
                size_t na, nb;

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                build_request(request_names[x % 12], &q);
                q.id = (uint32_t)(x >> 16);
                switch (q.type) {
                case TB_MSG_HISTORY:
                        q.u.history.before = (x >> 3) | 1;
                        q.u.history.limit = (uint16_t)(1 + x % TB_HISTORY_MAX);
                        break;
                case TB_MSG_ENTRY:
                        q.u.entry.seq = x >> 1;
                        break;
                case TB_MSG_INCLUSION:
                        q.u.inclusion.index = x >> 2;
                        q.u.inclusion.size = x >> 1;
                        break;
                case TB_MSG_CONSISTENCY:
                        q.u.consistency.old_size = (x >> 2) | 1;
                        q.u.consistency.size = x >> 1;
                        break;
                case TB_MSG_BALANCE:
                        snprintf(q.u.balance.account,
                                 sizeof(q.u.balance.account), "acct-%llx",
                                 (unsigned long long)x);
                        break;
                }
                if (tb_request_encode(&q, a, sizeof(a), &na) != TB_OK ||
                    tb_request_decode(a, na, &d) != TB_OK ||
                    !request_equal(&q, &d) ||
                    tb_request_encode(&d, b2, sizeof(b2), &nb) != TB_OK ||
                    na != nb || memcmp(a, b2, na) != 0)
                        failures++;
        }
        CHECK(failures == 0);
}

int main(void)
{
        size_t n;
        uint8_t *hex;

        if (sodium_init() < 0)
                return 2;
        docvec_load(&set, "docs/protocol.md");
        docvec_load(&ledger, "docs/ledger-format.md");
        signed_entry = vec(&ledger, "signed-service", "hex", &signed_len);
        record = vec(&ledger, "record-service", "hex", &record_len);
        note = vec(&set, "resp-checkpoint", "note_hex", &note_len);
        for (int i = 0; i < 3; i++) {
                uint8_t byte = (uint8_t)i;
                crypto_hash_sha256(hashes[i], &byte, 1);
        }
        /* the SUBMIT body is the signed entry of docs/ledger-format.md */
        hex = vec(&set, "req-submit", "hex", &n);
        CHECK(n == 7 + signed_len &&
              memcmp(hex + 7, signed_entry, signed_len) == 0);
        free(hex);

        test_request_vectors();
        test_reject_vectors();
        test_request_rules();
        test_status_for_decode_error();
        test_response_vectors();
        test_response_rules();
        test_round_trips();

        CHECK(docvec_unchecked(&set) == 0);
        free(signed_entry);
        free(record);
        free(note);
        docvec_free(&set);
        docvec_free(&ledger);
        return check_done("test_msg");
}
