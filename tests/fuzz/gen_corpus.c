/*
 * tests/fuzz/gen_corpus.c - write the seed corpora of fuzz_entry, fuzz_msg,
 * fuzz_frame and fuzz_dispatch.
 *
 *   gen_corpus OUTDIR      writes OUTDIR/{entry,msg,frame,dispatch}/<name>
 *
 * Valid inputs come from proto/'s own encoders (so they stay valid when a
 * format changes and this is re-run); near-misses are valid inputs with one
 * byte changed, added or removed, named "miss-*".  Output is deterministic:
 * the signing key comes from a fixed seed.  Not run by the build; the
 * committed corpora were made with it (docs/fuzzing.md).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "entry.h"
#include "frame.h"
#include "msg.h"
#include "status.h"

static const char *outdir;
static uint8_t pk[TB_PUBKEY_SIZE];
static uint8_t sk[TB_SECKEY_SIZE];

#define ORIGIN "example.org/timebank"

static void die(const char *what, const char *detail)
{
        fprintf(stderr, "gen_corpus: %s: %s\n", what, detail);
        exit(1);
}

static void check(enum tb_err err, const char *what)
{
        if (err != TB_OK)
                die(what, tb_strerror(err));
}

static void put(const char *sub, const char *name, const uint8_t *p, size_t len)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", outdir, sub);
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
                die(path, strerror(errno));
        snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0)
                die(path, strerror(errno));
}

/* ---- entries ------------------------------------------------------------- */

static void base(struct tb_entry *e, unsigned kind, uint8_t n)
{
        memset(e, 0, sizeof(*e));
        e->version = TB_ENTRY_VERSION;
        e->kind = (uint8_t)kind;
        memcpy(e->signer, pk, sizeof(pk));
        memset(e->request_id, n, sizeof(e->request_id));
        e->clock = 1767225600 + n; /* 2026-01-01 */
}

/* One valid entry of every kind, the i-th; 0 when i is past the last. */
static int sample_entry(int i, struct tb_entry *e)
{
        switch (i) {
        case 0:
                base(e, TB_KIND_GENESIS, 1);
                strcpy(e->u.genesis.origin, ORIGIN);
                memcpy(e->u.genesis.admin_key, pk, sizeof(pk));
                strcpy(e->u.genesis.admin_name, "admin");
                e->u.genesis.points_per_hour = 60;
                e->u.genesis.daily_minutes_cap = 480;
                e->u.genesis.max_balance = 100000;
                return 1;
        case 1:
                base(e, TB_KIND_ENROLL, 2);
                memset(e->u.enroll.key, 0x42, TB_PUBKEY_SIZE);
                e->u.enroll.roles = TB_ROLE_RECORD | TB_ROLE_REDEEM;
                strcpy(e->u.enroll.name, "front-desk");
                return 1;
        case 2:
                base(e, TB_KIND_REVOKE, 3);
                memset(e->u.revoke.key, 0x42, TB_PUBKEY_SIZE);
                strcpy(e->u.revoke.note, "tablet lost \xc3\xa9t\xc3\xa9");
                return 1;
        case 3:
                base(e, TB_KIND_POLICY, 4);
                e->u.policy.set = TB_POLICY_RATE | TB_POLICY_DAILY_CAP;
                strcpy(e->u.policy.activity, "gardening");
                e->u.policy.points_per_hour = 90;
                e->u.policy.daily_minutes_cap = 240;
                return 1;
        case 4:
                base(e, TB_KIND_REGISTER, 5);
                strcpy(e->u.reg.account, "alice");
                return 1;
        case 5:
                base(e, TB_KIND_SERVICE, 6);
                strcpy(e->u.service.account, "alice");
                e->u.service.start = 1767229200;
                e->u.service.minutes = 90;
                strcpy(e->u.service.activity, "gardening");
                strcpy(e->u.service.note, "weeded the east beds");
                return 1;
        case 6:
                base(e, TB_KIND_REDEEM, 7);
                strcpy(e->u.redeem.account, "alice");
                e->u.redeem.points = 30;
                strcpy(e->u.redeem.item, "bike-repair");
                return 1;
        case 7:
                base(e, TB_KIND_TRANSFER, 8);
                strcpy(e->u.transfer.from, "alice");
                strcpy(e->u.transfer.to, "bob");
                e->u.transfer.points = 15;
                strcpy(e->u.transfer.note, "thanks \xe2\x9c\x93");
                return 1;
        case 8:
                base(e, TB_KIND_REVERSE, 9);
                e->u.reverse.seq = 7;
                strcpy(e->u.reverse.note, "wrong account");
                return 1;
        }
        return 0;
}

/* body || signature, signed for ORIGIN; returns the length. */
static size_t sign_body(const uint8_t *body, size_t n, uint8_t *out)
{
        memcpy(out, body, n);
        check(tb_entry_sign(ORIGIN, body, n, sk, out + n), "sign");
        return n + TB_SIG_SIZE;
}

static void gen_entries(void)
{
        struct tb_entry e;
        uint8_t body[TB_BODY_MAX], sgn[TB_SIGNED_MAX], rec[TB_RECORD_MAX];
        uint8_t miss[TB_RECORD_MAX + 1];
        size_t n, sn, rn;
        char name[64];

        for (int i = 0; sample_entry(i, &e); i++) {
                const char *kind = tb_kind_name(e.kind);

                check(tb_entry_encode(&e, body, sizeof(body), &n), kind);
                snprintf(name, sizeof(name), "body-%s", kind);
                put("entry", name, body, n);
                sn = sign_body(body, n, sgn);
                check(tb_record_encode((uint64_t)i, e.clock + 1, body, n,
                                       sgn + n, rec, sizeof(rec), &rn),
                      kind);
                /* every kind as a body; alternate signed and record */
                snprintf(name, sizeof(name), "%s-%s",
                         i % 2 ? "signed" : "record", kind);
                if (i % 2)
                        put("entry", name, sgn, sn);
                else
                        put("entry", name, rec, rn);
        }

        /* near-misses, each one step from a valid service body */
        sample_entry(5, &e);
        check(tb_entry_encode(&e, body, sizeof(body), &n), "service");
        memcpy(miss, body, n);
        miss[n] = 0;
        put("entry", "miss-trailing", miss, n + 1);
        put("entry", "miss-truncated", body, n - 1);
        memcpy(miss, body, n);
        miss[0] = 2;
        put("entry", "miss-version", miss, n);
        memcpy(miss, body, n);
        miss[1] = TB_KIND_MAX + 1;
        put("entry", "miss-kind", miss, n);

        e.u.service.minutes = 1;
        check(tb_entry_encode(&e, body, sizeof(body), &n), "service");
        /* minutes is the u16 after account and start */
        {
                size_t at = 58 + 1 + strlen(e.u.service.account) + 8;
                memcpy(miss, body, n);
                miss[at + 1] = 0;
                put("entry", "miss-minutes-zero", miss, n);
                miss[at] = 0x05;
                miss[at + 1] = 0xa1; /* 1441 */
                put("entry", "miss-minutes-1441", miss, n);
                /* a NUL inside the account */
                memcpy(miss, body, n);
                miss[58 + 2] = 0;
                put("entry", "miss-account-nul", miss, n);
                /* a control character in the note (its last byte) */
                memcpy(miss, body, n);
                miss[n - 1] = '\n';
                put("entry", "miss-note-control", miss, n);
        }

        sample_entry(7, &e);
        strcpy(e.u.transfer.to, "alice");
        e.u.transfer.to[0] = 'b';
        check(tb_entry_encode(&e, body, sizeof(body), &n), "transfer");
        memcpy(miss, body, n);
        miss[58 + 1 + 5 + 1] = 'a'; /* to = "alice" = from */
        put("entry", "miss-same-account", miss, n);

        sample_entry(3, &e);
        e.u.policy.set = TB_POLICY_RATE;
        e.u.policy.daily_minutes_cap = 0;
        check(tb_entry_encode(&e, body, sizeof(body), &n), "policy");
        memcpy(miss, body, n);
        miss[n - 9] = 1; /* daily cap set while the cap bit is clear */
        put("entry", "miss-policy-unset-field", miss, n);

        sample_entry(4, &e);
        check(tb_entry_encode(&e, body, sizeof(body), &n), "register");
        sn = sign_body(body, n, sgn);
        check(tb_record_encode(5, 1767225700, body, n, sgn + n, rec,
                               sizeof(rec), &rn),
              "record");
        memcpy(miss, rec, rn);
        miss[0] = 0x80; /* seq above INT64_MAX */
        put("entry", "miss-record-seq", miss, rn);
        put("entry", "miss-signed-short-sig", sgn, sn - 1);
}

/* ---- messages ------------------------------------------------------------ */

static size_t request(const struct tb_request *q, uint8_t *out)
{
        size_t n;

        check(tb_request_encode(q, out, TB_FRAME_MAX, &n),
              tb_msg_type_name(q->type));
        return n;
}

static size_t response(const struct tb_response *r, uint8_t *out)
{
        size_t n;

        check(tb_response_encode(r, out, TB_FRAME_MAX, &n), "response");
        return n;
}

/* The i-th sample request, one of every type; 0 past the last. */
static int sample_request(int i, struct tb_request *q, uint8_t *signed_entry,
                          size_t signed_len)
{
        static const uint16_t types[] = {
            TB_MSG_SUBMIT,      TB_MSG_BALANCE,    TB_MSG_HISTORY,
            TB_MSG_ENTRY,       TB_MSG_CHECKPOINT, TB_MSG_INCLUSION,
            TB_MSG_CONSISTENCY, TB_MSG_STATUS,     TB_MSG_STATS,
        };

        if (i >= (int)(sizeof(types) / sizeof(types[0])))
                return 0;
        memset(q, 0, sizeof(*q));
        q->type = types[i];
        q->id = 0x01000000u + (uint32_t)i;
        switch (q->type) {
        case TB_MSG_SUBMIT:
                q->u.submit.signed_entry = signed_entry;
                q->u.submit.len = signed_len;
                break;
        case TB_MSG_BALANCE:
                strcpy(q->u.balance.account, "alice");
                break;
        case TB_MSG_HISTORY:
                strcpy(q->u.history.account, "alice");
                q->u.history.before = TB_SEQ_LATEST;
                q->u.history.limit = 20;
                break;
        case TB_MSG_ENTRY:
                q->u.entry.seq = 6;
                break;
        case TB_MSG_INCLUSION:
                q->u.inclusion.index = 6;
                q->u.inclusion.size = 0;
                break;
        case TB_MSG_CONSISTENCY:
                q->u.consistency.old_size = 4;
                q->u.consistency.size = 9;
                break;
        }
        return 1;
}

static const char checkpoint[] = "example.org/timebank\n9\n"
                                 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
                                 "\n\n\xe2\x80\x94 example.org/timebank "
                                 "AAAAAQ==\n";

static void gen_msgs(uint8_t *frames, size_t *frames_len)
{
        static struct tb_response r;
        struct tb_request q;
        struct tb_entry e;
        uint8_t body[TB_BODY_MAX], sgn[TB_SIGNED_MAX], rec[TB_RECORD_MAX];
        static uint8_t out[TB_FRAME_MAX];
        size_t n, sn, rn;
        char name[64];

        sample_entry(5, &e);
        check(tb_entry_encode(&e, body, sizeof(body), &n), "service");
        sn = sign_body(body, n, sgn);
        check(tb_record_encode(6, e.clock + 2, body, n, sgn + n, rec,
                               sizeof(rec), &rn),
              "record");

        *frames_len = 0;
        for (int i = 0; sample_request(i, &q, sgn, sn); i++) {
                size_t len = request(&q, out);

                snprintf(name, sizeof(name), "req-%s",
                         tb_msg_type_name(q.type));
                put("msg", name, out, len);
                /* a pipelined stream of every request, for fuzz_frame */
                check(tb_frame_header(len, frames + *frames_len), "frame");
                memcpy(frames + *frames_len + TB_FRAME_HEADER, out, len);
                *frames_len += TB_FRAME_HEADER + len;
        }

        /* one OK response of every type */
        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_SUBMIT;
        r.id = 0x01000000u;
        r.u.write.seq = 6;
        r.u.write.points = 90;
        r.u.write.balance = 60;
        r.u.write.checkpoint = (const uint8_t *)checkpoint;
        r.u.write.checkpoint_len = strlen(checkpoint);
        put("msg", "resp-submit", out, response(&r, out));
        r.status = TB_ST_DUPLICATE;
        r.message = "already recorded";
        r.message_len = strlen(r.message);
        put("msg", "resp-submit-duplicate", out, response(&r, out));

        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_BALANCE;
        strcpy(r.u.balance.account, "alice");
        r.u.balance.balance = 60;
        r.u.balance.earned = 90;
        r.u.balance.redeemed = 30;
        r.u.balance.minutes = 90;
        r.u.balance.entries = 3;
        r.u.balance.opened_seq = 5;
        r.u.balance.last_seq = 7;
        put("msg", "resp-balance", out, response(&r, out));

        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_HISTORY;
        r.u.history.next_before = 5;
        r.u.history.count = 2;
        for (int i = 0; i < 2; i++) {
                r.u.history.items[i].seq = (uint64_t)(7 - i);
                r.u.history.items[i].delta = i ? 90 : -30;
                r.u.history.items[i].balance_after = i ? 90 : 60;
                r.u.history.items[i].record = rec;
                r.u.history.items[i].record_len = rn;
        }
        put("msg", "resp-history", out, response(&r, out));
        r.u.history.count = 0;
        r.u.history.next_before = 0;
        put("msg", "resp-history-empty", out, response(&r, out));

        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_ENTRY;
        r.u.entry.record = rec;
        r.u.entry.record_len = rn;
        put("msg", "resp-entry", out, response(&r, out));

        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_CHECKPOINT;
        r.u.checkpoint.note = (const uint8_t *)checkpoint;
        r.u.checkpoint.note_len = strlen(checkpoint);
        put("msg", "resp-checkpoint", out, response(&r, out));

        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_INCLUSION;
        r.u.proof.index = 6;
        r.u.proof.size = 9;
        r.u.proof.count = 3;
        for (int i = 0; i < 3; i++)
                memset(r.u.proof.hashes[i], 0x10 + i, TB_HASH_SIZE);
        r.u.proof.record = rec;
        r.u.proof.record_len = rn;
        r.u.proof.checkpoint = (const uint8_t *)checkpoint;
        r.u.proof.checkpoint_len = strlen(checkpoint);
        put("msg", "resp-inclusion", out, response(&r, out));
        r.type = TB_MSG_CONSISTENCY;
        r.u.proof.index = 4;
        put("msg", "resp-consistency", out, response(&r, out));

        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_STATUS;
        strcpy(r.u.status.origin, ORIGIN);
        strcpy(r.u.status.log_key,
               "example.org/timebank+6a3b3c4d+"
               "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
        strcpy(r.u.status.version, "timebank 0.1.0");
        r.u.status.tree_size = 9;
        r.u.status.accounts = 2;
        r.u.status.keys_active = 2;
        r.u.status.keys_revoked = 1;
        r.u.status.disk_bytes = 1 << 20;
        r.u.status.map_bytes = 1 << 30;
        put("msg", "resp-status", out, response(&r, out));

        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_STATS;
        r.u.stats.count = 3;
        strcpy(r.u.stats.items[0].name, "start_time_seconds");
        r.u.stats.items[0].value = 1767225600;
        strcpy(r.u.stats.items[1].name, "responses_total");
        strcpy(r.u.stats.items[1].label, "OK");
        r.u.stats.items[1].value = 7;
        strcpy(r.u.stats.items[2].name, "requests_total");
        strcpy(r.u.stats.items[2].label, "balance");
        r.u.stats.items[2].value = 1;
        put("msg", "resp-stats", out, response(&r, out));

        /* errors: no body, a message */
        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_SUBMIT;
        r.status = TB_ST_INSUFFICIENT_POINTS;
        r.message = "balance 60 < 100 points";
        r.message_len = strlen(r.message);
        put("msg", "resp-refused", out, response(&r, out));
        memset(&r, 0, sizeof(r));
        r.status = TB_ST_BAD_REQUEST;
        r.message = "request shorter than its header";
        r.message_len = strlen(r.message);
        n = response(&r, out);
        put("msg", "resp-bad-request", out, n);

        /* near-misses */
        out[TB_RESPONSE_HEADER + 7] = '\n';
        put("msg", "miss-resp-message-control", out, n);
        out[TB_RESPONSE_HEADER + 7] = ' ';
        out[0] = 2;
        put("msg", "miss-resp-version", out, n);
        memset(&r, 0, sizeof(r));
        r.type = TB_MSG_HISTORY;
        n = response(&r, out);
        out[n - 2] = 0;
        out[n - 1] = TB_HISTORY_MAX + 1;
        put("msg", "miss-resp-history-count", out, n);
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_HISTORY;
        strcpy(q.u.history.account, "alice");
        q.u.history.before = 1;
        q.u.history.limit = TB_HISTORY_MAX;
        n = request(&q, out);
        out[n - 1] = TB_HISTORY_MAX + 1;
        put("msg", "miss-req-history-limit", out, n);
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_CONSISTENCY;
        q.u.consistency.old_size = 1;
        n = request(&q, out);
        out[TB_REQUEST_HEADER + 7] = 0;
        put("msg", "miss-req-consistency-zero", out, n);
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_ENTRY;
        q.u.entry.seq = 1;
        n = request(&q, out);
        out[n] = 0;
        put("msg", "miss-req-trailing", out, n + 1);
        out[TB_REQUEST_HEADER] = 0x80;
        put("msg", "miss-req-seq-range", out, n);
        out[1] = 0x01;
        out[2] = 0x2c; /* type 300 */
        put("msg", "miss-req-type", out, n);
        put("msg", "miss-req-short", out, TB_REQUEST_HEADER - 1);
}

/* ---- frames -------------------------------------------------------------- */

static void gen_frames(const uint8_t *stream, size_t len)
{
        uint8_t buf[1024];

        put("frame", "stream-requests", stream, len);
        put("frame", "stream-truncated", stream, len - 3);
        put("frame", "stream-header-only", stream, TB_FRAME_HEADER);
        put("frame", "stream-half-header", stream, 2);
        put("frame", "empty", stream, 0);

        /* one frame of one byte, and one of 300 bytes (over small limits) */
        memset(buf, 'x', sizeof(buf));
        check(tb_frame_header(1, buf), "frame");
        put("frame", "one-byte", buf, TB_FRAME_HEADER + 1);
        check(tb_frame_header(300, buf), "frame");
        put("frame", "frame-300", buf, TB_FRAME_HEADER + 300);
        /* two frames back to back, then a zero-length header */
        check(tb_frame_header(3, buf), "frame");
        check(tb_frame_header(5, buf + 7), "frame");
        memset(buf + 12, 'y', 5);
        memset(buf + 17, 0, 4);
        put("frame", "miss-zero-after-two", buf, 21);
        /* a header one past TB_FRAME_MAX, and one of 4 GiB - 1 */
        buf[0] = 0x00;
        buf[1] = 0x01;
        buf[2] = 0x00;
        buf[3] = 0x01;
        put("frame", "miss-oversize", buf, 8);
        memset(buf, 0xff, 4);
        put("frame", "miss-4gib", buf, 8);
        memset(buf, 0, 4);
        put("frame", "miss-zero", buf, 4);
}

/* ---- fuzz_dispatch: frame sequences for the daemon ------------------------
 */

/*
 * fuzz_dispatch's input: pieces joined by "\xfe\xfd" "FR" (the next piece is
 * one frame) or "\xfe\xfd" "RW" (raw bytes); docs/fuzzing.md.  Its ledger's
 * genesis admin is pk (seed 0x5e) and origin ORIGIN; the seeds enroll a desk
 * key (seed 0x6d) with the record and redeem roles and write through it.
 */
static uint8_t dz_buf[65536];
static size_t dz_len;
static uint8_t desk_pk[TB_PUBKEY_SIZE], desk_sk[TB_SECKEY_SIZE];
static uint32_t dz_id = 1;

static const uint8_t dz_sep_frame[4] = {0xfe, 0xfd, 'F', 'R'};

static void dz_piece(const uint8_t *p, size_t n, int raw)
{
        for (size_t i = 0; i + 4 <= n; i++)
                if (p[i] == 0xfe && p[i + 1] == 0xfd &&
                    (memcmp(p + i + 2, "FR", 2) == 0 ||
                     memcmp(p + i + 2, "RW", 2) == 0))
                        die("dispatch", "a piece holds a separator");
        if (dz_len != 0 || raw) {
                if (dz_len + 4 > sizeof(dz_buf))
                        die("dispatch", "too long");
                memcpy(dz_buf + dz_len, dz_sep_frame, 4);
                if (raw)
                        memcpy(dz_buf + dz_len + 2, "RW", 2);
                dz_len += 4;
        }
        if (dz_len + n > sizeof(dz_buf))
                die("dispatch", "too long");
        memcpy(dz_buf + dz_len, p, n);
        dz_len += n;
}

static void dz_req(struct tb_request *q)
{
        uint8_t out[TB_FRAME_MAX];

        q->id = dz_id++;
        dz_piece(out, request(q, out), 0);
}

/* SUBMIT of e signed by the desk key (desk) or the admin key. */
static void dz_submit(struct tb_entry *e, int desk)
{
        static uint8_t body[TB_BODY_MAX], sgn[TB_SIGNED_MAX];
        struct tb_request q;
        size_t n;

        memcpy(e->signer, desk ? desk_pk : pk, TB_PUBKEY_SIZE);
        check(tb_entry_encode(e, body, sizeof(body), &n), "dispatch entry");
        memcpy(sgn, body, n);
        check(tb_entry_sign(ORIGIN, body, n, desk ? desk_sk : sk, sgn + n),
              "dispatch sign");
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_SUBMIT;
        q.u.submit.signed_entry = sgn;
        q.u.submit.len = n + TB_SIG_SIZE;
        dz_req(&q);
}

static void dz_read(uint16_t type, const char *account, uint64_t a, uint64_t b)
{
        struct tb_request q;

        memset(&q, 0, sizeof(q));
        q.type = type;
        switch (type) {
        case TB_MSG_BALANCE:
                strcpy(q.u.balance.account, account);
                break;
        case TB_MSG_HISTORY:
                strcpy(q.u.history.account, account);
                q.u.history.before = a;
                q.u.history.limit = (uint16_t)b;
                break;
        case TB_MSG_ENTRY:
                q.u.entry.seq = a;
                break;
        case TB_MSG_INCLUSION:
                q.u.inclusion.index = a;
                q.u.inclusion.size = b;
                break;
        case TB_MSG_CONSISTENCY:
                q.u.consistency.old_size = a;
                q.u.consistency.size = b;
                break;
        }
        dz_req(&q);
}

/* The setup every write seed starts with: on a fresh ledger, seq 1 enrolls
 * the desk key, 2 and 3 register alice and bob, 4 a service of alice. */
static void dz_setup(void)
{
        struct tb_entry e;

        base(&e, TB_KIND_ENROLL, 0x21);
        memcpy(e.u.enroll.key, desk_pk, TB_PUBKEY_SIZE);
        e.u.enroll.roles = TB_ROLE_RECORD | TB_ROLE_REDEEM;
        strcpy(e.u.enroll.name, "front-desk");
        dz_submit(&e, 0);
        base(&e, TB_KIND_REGISTER, 0x22);
        strcpy(e.u.reg.account, "alice");
        dz_submit(&e, 1);
        base(&e, TB_KIND_REGISTER, 0x23);
        strcpy(e.u.reg.account, "bob");
        dz_submit(&e, 1);
        base(&e, TB_KIND_SERVICE, 0x24);
        strcpy(e.u.service.account, "alice");
        e.u.service.start = 1767229200;
        e.u.service.minutes = 90;
        strcpy(e.u.service.activity, "gardening");
        strcpy(e.u.service.note, "weeded the east beds");
        dz_submit(&e, 1);
}

static void dz_put(const char *name)
{
        put("dispatch", name, dz_buf, dz_len);
        dz_len = 0;
        dz_id = 1;
}

static void gen_dispatch(void)
{
        static const uint16_t reads[] = {TB_MSG_BALANCE,   TB_MSG_HISTORY,
                                         TB_MSG_ENTRY,     TB_MSG_CHECKPOINT,
                                         TB_MSG_INCLUSION, TB_MSG_CONSISTENCY,
                                         TB_MSG_STATUS,    TB_MSG_STATS};
        static const char *const read_names[] = {
            "read-balance",    "read-history",   "read-entry",
            "read-checkpoint", "read-inclusion", "read-consistency",
            "read-status",     "read-stats"};
        struct tb_entry e;
        struct tb_request q;
        uint8_t seed[crypto_sign_SEEDBYTES], out[TB_FRAME_MAX];
        size_t n;

        memset(seed, 0x6d, sizeof(seed));
        crypto_sign_seed_keypair(desk_pk, desk_sk, seed);

        /* every read alone, on whatever ledger the process has */
        for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
                dz_read(reads[i], "alice",
                        reads[i] == TB_MSG_HISTORY ? TB_SEQ_LATEST : 1,
                        reads[i] == TB_MSG_HISTORY ? 10 : 0);
                dz_put(read_names[i]);
        }

        /* the writes: setup, then each kind, then reads of the result */
        dz_setup();
        dz_put("write-setup");

        dz_setup();
        base(&e, TB_KIND_REDEEM, 0x25);
        strcpy(e.u.redeem.account, "alice");
        e.u.redeem.points = 30;
        strcpy(e.u.redeem.item, "bike-repair");
        dz_submit(&e, 1);
        dz_read(TB_MSG_BALANCE, "alice", 0, 0);
        dz_put("write-redeem");

        dz_setup();
        base(&e, TB_KIND_TRANSFER, 0x26);
        strcpy(e.u.transfer.from, "alice");
        strcpy(e.u.transfer.to, "bob");
        e.u.transfer.points = 15;
        strcpy(e.u.transfer.note, "thanks \xe2\x9c\x93");
        dz_submit(&e, 1);
        dz_read(TB_MSG_BALANCE, "bob", 0, 0);
        dz_read(TB_MSG_HISTORY, "bob", TB_SEQ_LATEST, 5);
        dz_put("write-transfer");

        dz_setup();
        base(&e, TB_KIND_REVERSE, 0x27);
        e.u.reverse.seq = 4;
        strcpy(e.u.reverse.note, "wrong account");
        dz_submit(&e, 0);
        dz_read(TB_MSG_HISTORY, "alice", TB_SEQ_LATEST, 10);
        dz_put("write-reverse");

        dz_setup();
        base(&e, TB_KIND_POLICY, 0x28);
        e.u.policy.set = TB_POLICY_RATE | TB_POLICY_DAILY_CAP;
        strcpy(e.u.policy.activity, "gardening");
        e.u.policy.points_per_hour = 90;
        e.u.policy.daily_minutes_cap = 240;
        dz_submit(&e, 0);
        dz_read(TB_MSG_STATUS, NULL, 0, 0);
        dz_put("write-policy");

        dz_setup();
        base(&e, TB_KIND_REVOKE, 0x29);
        memcpy(e.u.revoke.key, desk_pk, TB_PUBKEY_SIZE);
        strcpy(e.u.revoke.note, "tablet lost");
        dz_submit(&e, 0);
        base(&e, TB_KIND_SERVICE, 0x2a); /* refused: KEY_REVOKED */
        strcpy(e.u.service.account, "bob");
        e.u.service.start = 1767229200;
        e.u.service.minutes = 30;
        strcpy(e.u.service.activity, "cooking");
        dz_submit(&e, 1);
        dz_put("write-revoke");

        /* refusals: over the balance, a role the key lacks, a bad signature */
        dz_setup();
        base(&e, TB_KIND_REDEEM, 0x2b);
        strcpy(e.u.redeem.account, "bob");
        e.u.redeem.points = 1000;
        strcpy(e.u.redeem.item, "too-much");
        dz_submit(&e, 1);
        base(&e, TB_KIND_ENROLL, 0x2c);
        memset(e.u.enroll.key, 0x42, TB_PUBKEY_SIZE);
        e.u.enroll.roles = TB_ROLE_ADMIN;
        strcpy(e.u.enroll.name, "sneaky");
        dz_submit(&e, 1);
        dz_put("write-refusals");

        /* every request once, then the proofs over the grown tree */
        dz_setup();
        for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
                dz_read(reads[i], "alice",
                        reads[i] == TB_MSG_HISTORY ? TB_SEQ_LATEST : 2,
                        reads[i] == TB_MSG_HISTORY ? 3 : 4);
        dz_put("mixed-all");

        /* protocol errors: unknown type, other version, trailing byte; a
         * frame shorter than the header, an empty frame, raw bad lengths */
        memset(&q, 0, sizeof(q));
        q.type = TB_MSG_ENTRY;
        q.id = 7;
        q.u.entry.seq = 1;
        n = request(&q, out);
        out[1] = 0x01;
        out[2] = 0x2c; /* type 300 */
        dz_piece(out, n, 0);
        out[1] = 0;
        out[2] = TB_MSG_ENTRY;
        out[0] = 2; /* version 2 */
        dz_piece(out, n, 0);
        out[0] = TB_PROTO_VERSION;
        out[n] = 0;
        dz_piece(out, n + 1, 0);
        dz_read(TB_MSG_STATUS, NULL, 0, 0);
        dz_put("miss-type-version-trailing");

        dz_read(TB_MSG_STATUS, NULL, 0, 0);
        dz_piece(out, 3, 0);
        dz_read(TB_MSG_STATUS, NULL, 0, 0);
        dz_put("miss-short-frame");

        dz_read(TB_MSG_CHECKPOINT, NULL, 0, 0);
        dz_piece(out, 0, 0);
        dz_read(TB_MSG_STATUS, NULL, 0, 0);
        dz_put("miss-empty-frame");

        dz_read(TB_MSG_STATUS, NULL, 0, 0);
        {
                static const uint8_t big[8] = {0, 1, 0, 1, 1, 1, 1, 1};
                dz_piece(big, sizeof(big), 1);
        }
        dz_put("miss-raw-oversize");

        dz_read(TB_MSG_STATUS, NULL, 0, 0);
        check(tb_frame_header(n, out), "frame");
        dz_piece(out, 3, 1); /* half a header, then the client leaves */
        dz_put("miss-raw-truncated");

        /* more answers than the socket takes at once, then the client
         * leaves in the middle of a frame: every answer due must still
         * arrive whole (conn.c once cut the one in the socket) */
        for (int i = 0; i < 1000; i++)
                dz_read(TB_MSG_INCLUSION, NULL, 0, 0);
        check(tb_frame_header(32, out), "frame");
        out[4] = TB_PROTO_VERSION;
        dz_piece(out, 5, 1);
        dz_put("raw-leave-mid-frame-answers-due");
}

int main(int argc, char **argv)
{
        static uint8_t stream[16 * 1024];
        size_t stream_len;
        uint8_t seed[crypto_sign_SEEDBYTES];

        if (argc != 2) {
                fprintf(stderr, "usage: gen_corpus OUTDIR\n");
                return 2;
        }
        outdir = argv[1];
        if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
                die(outdir, strerror(errno));
        if (sodium_init() < 0)
                die("sodium_init", "failed");
        memset(seed, 0x5e, sizeof(seed));
        crypto_sign_seed_keypair(pk, sk, seed);

        gen_entries();
        gen_msgs(stream, &stream_len);
        gen_frames(stream, stream_len);
        gen_dispatch();
        return 0;
}
