/*
 * tests/unit/test_entry.c - ledger entry format v1 against its spec.
 *
 * docs/ledger-format.md carries the vectors (made by an independent encoder);
 * here the same entries are built as C structs and must encode to, and decode
 * from, exactly those bytes.  Then one check per rejection rule, at both
 * levels: tb_entry_encode (which checks the struct) and tb_entry_decode of
 * bytes written by raw_encode, a test-local encoder that writes any value,
 * valid or not, in the documented layout.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "check.h"
#include "docvec.h"
#include "entry.h"

#define ORIGIN "example.org/timebank/district-7"

static struct docvec_set set;
static uint8_t term_pk[32], term_sk[64]; /* seed 01..20 */
static uint8_t log_pk[32], log_sk[64];   /* seed 21..40 */
static uint8_t new_pk[32], new_sk[64];   /* seed 41..60 */

static void seed_key(unsigned first, uint8_t pk[32], uint8_t sk[64])
{
        uint8_t seed[32];

        for (unsigned i = 0; i < 32; i++)
                seed[i] = (uint8_t)(first + i);
        if (crypto_sign_seed_keypair(pk, sk, seed) != 0)
                abort();
}

/* ---- the documented entries as structs ---------------------------------- */

static void header(struct tb_entry *e, unsigned kind)
{
        memset(e, 0, sizeof(*e));
        e->version = TB_ENTRY_VERSION;
        e->kind = (uint8_t)kind;
        memcpy(e->signer, term_pk, 32);
        for (unsigned i = 0; i < TB_REQUEST_ID_SIZE; i++)
                e->request_id[i] = (uint8_t)(0xa0 + i);
        e->clock = 1750000000;
}

static void build_genesis(struct tb_entry *e)
{
        header(e, TB_KIND_GENESIS);
        memcpy(e->signer, log_pk, 32);
        e->clock = 1749900000;
        strcpy(e->u.genesis.origin, ORIGIN);
        memcpy(e->u.genesis.admin_key, term_pk, 32);
        strcpy(e->u.genesis.admin_name, "district-7-admin");
        e->u.genesis.points_per_hour = 60;
        e->u.genesis.daily_minutes_cap = 480;
        e->u.genesis.max_balance = 1000000;
}

static void build_enroll(struct tb_entry *e)
{
        header(e, TB_KIND_ENROLL);
        memcpy(e->u.enroll.key, new_pk, 32);
        e->u.enroll.roles = TB_ROLE_RECORD | TB_ROLE_REDEEM;
        strcpy(e->u.enroll.name, "station-12");
}

static void build_revoke(struct tb_entry *e)
{
        header(e, TB_KIND_REVOKE);
        memcpy(e->u.revoke.key, new_pk, 32);
        strcpy(e->u.revoke.note, "tablet lost \xe2\x80\x93 replaced");
}

static void build_policy_rate(struct tb_entry *e)
{
        header(e, TB_KIND_POLICY);
        e->u.policy.set = TB_POLICY_RATE;
        strcpy(e->u.policy.activity, "eldercare");
        e->u.policy.points_per_hour = 90;
}

static void build_policy_caps(struct tb_entry *e)
{
        header(e, TB_KIND_POLICY);
        e->u.policy.set = TB_POLICY_DAILY_CAP | TB_POLICY_MAX_BALANCE;
        e->u.policy.daily_minutes_cap = 600;
        e->u.policy.max_balance = 500000;
}

static void build_register(struct tb_entry *e)
{
        header(e, TB_KIND_REGISTER);
        strcpy(e->u.reg.account, "alice");
}

static void build_service(struct tb_entry *e)
{
        header(e, TB_KIND_SERVICE);
        strcpy(e->u.service.account, "alice");
        e->u.service.start = 1749990000;
        e->u.service.minutes = 90;
        strcpy(e->u.service.activity, "eldercare");
        strcpy(e->u.service.note,
               "\xe9\x99\xaa\xe4\xbc\xb4\xe8\x80\x81\xe4\xba\xba read aloud");
}

static void build_redeem(struct tb_entry *e)
{
        header(e, TB_KIND_REDEEM);
        strcpy(e->u.redeem.account, "alice");
        e->u.redeem.points = 120;
        strcpy(e->u.redeem.item, "haircut");
}

static void build_transfer(struct tb_entry *e)
{
        header(e, TB_KIND_TRANSFER);
        strcpy(e->u.transfer.from, "alice");
        strcpy(e->u.transfer.to, "bob");
        e->u.transfer.points = 50;
        strcpy(e->u.transfer.note, "for grandma \xf0\x9f\x8c\xb8");
}

static void build_reverse(struct tb_entry *e)
{
        header(e, TB_KIND_REVERSE);
        e->u.reverse.seq = 7;
        strcpy(e->u.reverse.note, "wrong start time");
}

static const struct {
        const char *name;
        void (*build)(struct tb_entry *);
} bodies[] = {
    {"body-genesis", build_genesis},
    {"body-enroll", build_enroll},
    {"body-revoke", build_revoke},
    {"body-policy-rate", build_policy_rate},
    {"body-policy-caps", build_policy_caps},
    {"body-register", build_register},
    {"body-service", build_service},
    {"body-redeem", build_redeem},
    {"body-transfer", build_transfer},
    {"body-reverse", build_reverse},
};
#define NBODIES (sizeof(bodies) / sizeof(bodies[0]))

/* ---- an unchecking encoder of the documented layout ---------------------- */

static void raw_s(struct tb_wbuf *w, const char *s, size_t field_size)
{
        size_t n = strnlen(s, field_size);

        tb_put_u8(w, (uint8_t)n);
        tb_put_bytes(w, s, n);
}

#define RAW_S(w, field) raw_s((w), (field), sizeof(field))

static size_t raw_encode(const struct tb_entry *e, uint8_t *out, size_t cap)
{
        struct tb_wbuf w;

        tb_wbuf_init(&w, out, cap);
        tb_put_u8(&w, e->version);
        tb_put_u8(&w, e->kind);
        tb_put_bytes(&w, e->signer, 32);
        tb_put_bytes(&w, e->request_id, 16);
        tb_put_u64(&w, (uint64_t)e->clock);
        switch (e->kind) {
        case TB_KIND_GENESIS:
                RAW_S(&w, e->u.genesis.origin);
                tb_put_bytes(&w, e->u.genesis.admin_key, 32);
                RAW_S(&w, e->u.genesis.admin_name);
                tb_put_u32(&w, e->u.genesis.points_per_hour);
                tb_put_u16(&w, e->u.genesis.daily_minutes_cap);
                tb_put_u64(&w, e->u.genesis.max_balance);
                break;
        case TB_KIND_ENROLL:
                tb_put_bytes(&w, e->u.enroll.key, 32);
                tb_put_u8(&w, e->u.enroll.roles);
                RAW_S(&w, e->u.enroll.name);
                break;
        case TB_KIND_REVOKE:
                tb_put_bytes(&w, e->u.revoke.key, 32);
                RAW_S(&w, e->u.revoke.note);
                break;
        case TB_KIND_POLICY:
                tb_put_u8(&w, e->u.policy.set);
                RAW_S(&w, e->u.policy.activity);
                tb_put_u32(&w, e->u.policy.points_per_hour);
                tb_put_u16(&w, e->u.policy.daily_minutes_cap);
                tb_put_u64(&w, e->u.policy.max_balance);
                break;
        case TB_KIND_REGISTER:
                RAW_S(&w, e->u.reg.account);
                break;
        case TB_KIND_SERVICE:
                RAW_S(&w, e->u.service.account);
                tb_put_u64(&w, (uint64_t)e->u.service.start);
                tb_put_u16(&w, e->u.service.minutes);
                RAW_S(&w, e->u.service.activity);
                RAW_S(&w, e->u.service.note);
                break;
        case TB_KIND_REDEEM:
                RAW_S(&w, e->u.redeem.account);
                tb_put_u32(&w, e->u.redeem.points);
                RAW_S(&w, e->u.redeem.item);
                RAW_S(&w, e->u.redeem.note);
                break;
        case TB_KIND_TRANSFER:
                RAW_S(&w, e->u.transfer.from);
                RAW_S(&w, e->u.transfer.to);
                tb_put_u32(&w, e->u.transfer.points);
                RAW_S(&w, e->u.transfer.note);
                break;
        case TB_KIND_REVERSE:
                tb_put_u64(&w, e->u.reverse.seq);
                RAW_S(&w, e->u.reverse.note);
                break;
        }
        if (w.err != TB_OK)
                abort();
        return w.len;
}

/*
 * The rule under test says e is valid (want == TB_OK) or fails with want:
 * the encoder's check and the decoder of the same bytes must agree, and a
 * valid entry must round-trip to the same struct and bytes.  Returns 1 when
 * everything held, so a failing CHECK names the caller's line.
 */
static int judged(const struct tb_entry *e, enum tb_err want)
{
        uint8_t raw[1024], enc[TB_BODY_MAX];
        size_t rlen = raw_encode(e, raw, sizeof(raw)), elen;
        struct tb_entry d;
        enum tb_err ce = tb_entry_check(e);
        enum tb_err ee = tb_entry_encode(e, enc, sizeof(enc), &elen);
        enum tb_err de = tb_entry_decode(raw, rlen, &d);
        int ok = ce == want && ee == want && de == want;

        if (!ok)
                fprintf(stderr, "  check=%d encode=%d decode=%d want=%d\n", ce,
                        ee, de, want);
        if (want == TB_OK && ok) {
                /* (struct bytes after a string's NUL may differ: compare
                 * the re-encoding of what was decoded instead) */
                uint8_t again[TB_BODY_MAX];
                size_t alen;
                ok =
                    elen == rlen && memcmp(enc, raw, rlen) == 0 &&
                    tb_entry_encode(&d, again, sizeof(again), &alen) == TB_OK &&
                    alen == rlen && memcmp(again, raw, rlen) == 0;
                if (!ok)
                        fprintf(stderr, "  valid entry did not round-trip\n");
        }
        if (want != TB_OK) {
                static const struct tb_entry zero;
                if (memcmp(&d, &zero, sizeof(d)) != 0) {
                        fprintf(stderr, "  failed decode left e non-zero\n");
                        ok = 0;
                }
        }
        return ok;
}

/* Decode-only verdict for byte strings no struct can express. */
static enum tb_err decode_bytes(const uint8_t *p, size_t n)
{
        struct tb_entry d;

        return tb_entry_decode(p, n, &d);
}

static void fill(char *dst, int c, size_t n)
{
        memset(dst, c, n);
        dst[n] = 0;
}

/* ---- the readable fields of a vector ------------------------------------ */

/* A documented string field: "(empty)" stands for "". */
static void check_str_field(struct docvec *v, const char *key, const char *got)
{
        const char *want = docvec_str(v, key);

        if (strcmp(want, "(empty)") == 0)
                want = "";
        if (strcmp(want, got) != 0) {
                fprintf(stderr,
                        "vector %s: %s is '%s' in the doc, '%s' in the "
                        "bytes\n",
                        v->name, key, want, got);
                CHECK(0);
        }
}

static void check_num_field(struct docvec *v, const char *key, long long got)
{
        long long want = docvec_i64(v, key);

        if (want != got) {
                fprintf(stderr,
                        "vector %s: %s is %lld in the doc, %lld in the "
                        "bytes\n",
                        v->name, key, want, got);
                CHECK(0);
        }
}

/* "0x03 (record, redeem)": the number; the words are for the reader. */
static void check_bits_field(struct docvec *v, const char *key, unsigned got)
{
        const char *s = docvec_str(v, key);
        char *end;
        unsigned long want = strtoul(s, &end, 16);

        if (strncmp(s, "0x", 2) != 0 || end == s || want != got) {
                fprintf(stderr,
                        "vector %s: %s is '%s' in the doc, 0x%02x in "
                        "the bytes\n",
                        v->name, key, s, got);
                CHECK(0);
        }
}

/* "seed 41..60", "terminal key (seed 01..20)": the key whose 32-byte seed
 * counts up from the first byte named. */
static void check_key_field(struct docvec *v, const char *key,
                            const uint8_t got[32])
{
        const char *s = strstr(docvec_str(v, key), "seed ");
        uint8_t pk[32], sk[64];
        unsigned first, last;

        if (s == NULL || sscanf(s, "seed %2x..%2x", &first, &last) != 2 ||
            last != first + 31) {
                fprintf(stderr, "vector %s: %s: no 'seed XX..YY'\n", v->name,
                        key);
                CHECK(0);
                return;
        }
        seed_key(first, pk, sk);
        sodium_memzero(sk, sizeof(sk));
        if (memcmp(pk, got, 32) != 0) {
                fprintf(stderr, "vector %s: %s is not the key in the bytes\n",
                        v->name, key);
                CHECK(0);
        }
}

/*
 * Every readable field of a body vector against the entry decoded from its
 * hex.  A field this does not know fails, so a field added to the doc must
 * be compared here.
 */
static void check_entry_fields(struct docvec *v, const struct tb_entry *d)
{
        const struct tb_genesis *g = &d->u.genesis;
        const struct tb_policy *p = &d->u.policy;

        for (int i = 0; i < v->nkeys; i++) {
                const char *k = v->key[i];

                if (!strcmp(k, "name") || !strcmp(k, "hex"))
                        continue;
                if (!strcmp(k, "kind"))
                        CHECK(tb_kind_from_name(docvec_str(v, k)) == d->kind);
                else if (!strcmp(k, "signer"))
                        check_key_field(v, k, d->signer);
                else if (d->kind == TB_KIND_GENESIS && !strcmp(k, "origin"))
                        check_str_field(v, k, g->origin);
                else if (d->kind == TB_KIND_GENESIS && !strcmp(k, "admin_key"))
                        check_key_field(v, k, g->admin_key);
                else if (d->kind == TB_KIND_GENESIS && !strcmp(k, "admin_name"))
                        check_str_field(v, k, g->admin_name);
                else if (!strcmp(k, "points_per_hour"))
                        check_num_field(v, k,
                                        d->kind == TB_KIND_GENESIS
                                            ? g->points_per_hour
                                            : p->points_per_hour);
                else if (!strcmp(k, "daily_minutes_cap"))
                        check_num_field(v, k,
                                        d->kind == TB_KIND_GENESIS
                                            ? g->daily_minutes_cap
                                            : p->daily_minutes_cap);
                else if (!strcmp(k, "max_balance"))
                        check_num_field(v, k,
                                        (long long)(d->kind == TB_KIND_GENESIS
                                                        ? g->max_balance
                                                        : p->max_balance));
                else if (d->kind == TB_KIND_POLICY && !strcmp(k, "set"))
                        check_bits_field(v, k, p->set);
                else if (d->kind == TB_KIND_POLICY && !strcmp(k, "activity"))
                        check_str_field(v, k, p->activity);
                else if (d->kind == TB_KIND_ENROLL && !strcmp(k, "key"))
                        check_key_field(v, k, d->u.enroll.key);
                else if (d->kind == TB_KIND_ENROLL && !strcmp(k, "roles"))
                        check_bits_field(v, k, d->u.enroll.roles);
                else if (d->kind == TB_KIND_ENROLL && !strcmp(k, "key_name"))
                        check_str_field(v, k, d->u.enroll.name);
                else if (d->kind == TB_KIND_REVOKE && !strcmp(k, "key"))
                        check_key_field(v, k, d->u.revoke.key);
                else if (d->kind == TB_KIND_REVOKE && !strcmp(k, "note"))
                        check_str_field(v, k, d->u.revoke.note);
                else if (d->kind == TB_KIND_REGISTER && !strcmp(k, "account"))
                        check_str_field(v, k, d->u.reg.account);
                else if (d->kind == TB_KIND_SERVICE && !strcmp(k, "account"))
                        check_str_field(v, k, d->u.service.account);
                else if (d->kind == TB_KIND_SERVICE && !strcmp(k, "start"))
                        check_num_field(v, k, d->u.service.start);
                else if (d->kind == TB_KIND_SERVICE && !strcmp(k, "minutes"))
                        check_num_field(v, k, d->u.service.minutes);
                else if (d->kind == TB_KIND_SERVICE && !strcmp(k, "activity"))
                        check_str_field(v, k, d->u.service.activity);
                else if (d->kind == TB_KIND_SERVICE && !strcmp(k, "note"))
                        check_str_field(v, k, d->u.service.note);
                else if (d->kind == TB_KIND_REDEEM && !strcmp(k, "account"))
                        check_str_field(v, k, d->u.redeem.account);
                else if (d->kind == TB_KIND_REDEEM && !strcmp(k, "points"))
                        check_num_field(v, k, d->u.redeem.points);
                else if (d->kind == TB_KIND_REDEEM && !strcmp(k, "item"))
                        check_str_field(v, k, d->u.redeem.item);
                else if (d->kind == TB_KIND_REDEEM && !strcmp(k, "note"))
                        check_str_field(v, k, d->u.redeem.note);
                else if (d->kind == TB_KIND_TRANSFER && !strcmp(k, "from"))
                        check_str_field(v, k, d->u.transfer.from);
                else if (d->kind == TB_KIND_TRANSFER && !strcmp(k, "to"))
                        check_str_field(v, k, d->u.transfer.to);
                else if (d->kind == TB_KIND_TRANSFER && !strcmp(k, "points"))
                        check_num_field(v, k, d->u.transfer.points);
                else if (d->kind == TB_KIND_TRANSFER && !strcmp(k, "note"))
                        check_str_field(v, k, d->u.transfer.note);
                else if (d->kind == TB_KIND_REVERSE && !strcmp(k, "seq"))
                        check_num_field(v, k, (long long)d->u.reverse.seq);
                else if (d->kind == TB_KIND_REVERSE && !strcmp(k, "note"))
                        check_str_field(v, k, d->u.reverse.note);
                else {
                        fprintf(stderr,
                                "vector %s: field '%s' is not compared "
                                "with the bytes by test_entry\n",
                                v->name, k);
                        CHECK(0);
                }
        }
}

/* The hex of the vector a field names ("body: body-service"). */
static uint8_t *ref_hex(struct docvec *v, const char *key, size_t *n)
{
        return docvec_hex(docvec_get(&set, docvec_str(v, key)), "hex", n);
}

/* "seed: 0102...20": the key pair of that seed; its public key must be
 * public_key. */
static void check_seed_field(struct docvec *v, const uint8_t want_pk[32])
{
        size_t n;
        uint8_t *seed = docvec_hex(v, "seed", &n);
        uint8_t pk[32], sk[64];

        CHECK(n == 32);
        if (n == 32) {
                CHECK(crypto_sign_seed_keypair(pk, sk, seed) == 0);
                CHECK(memcmp(pk, want_pk, 32) == 0);
                sodium_memzero(sk, sizeof(sk));
        }
        free(seed);
}

/* ---- vectors from the spec ----------------------------------------------- */

static void test_body_vectors(void)
{
        for (size_t i = 0; i < NBODIES; i++) {
                struct docvec *v = docvec_get(&set, bodies[i].name);
                struct tb_entry e, d;
                uint8_t out[TB_BODY_MAX];
                size_t n, len;
                uint8_t *hex = docvec_hex(v, "hex", &n);

                bodies[i].build(&e);
                /* encode(struct) is the documented bytes */
                CHECK(tb_entry_encode(&e, out, sizeof(out), &len) == TB_OK);
                CHECK(len == n && memcmp(out, hex, n) == 0);
                /* decode(documented bytes) is the struct */
                CHECK(tb_entry_decode(hex, n, &d) == TB_OK);
                CHECK(memcmp(&d, &e, sizeof(e)) == 0);
                /* every readable field is what the bytes say */
                check_entry_fields(v, &d);
                /* a body fits the documented bound */
                CHECK(n <= TB_BODY_MAX);
                /* encoding needs exactly len bytes: len-1 overflows */
                CHECK(tb_entry_encode(&e, out, len - 1, &len) == TB_E_OVERFLOW);
                CHECK(len == 0);
                /* truncated at every length: every proper prefix fails */
                for (size_t k = 0; k < n; k++)
                        CHECK_ERR(decode_bytes(hex, k), TB_E_TRUNCATED);
                /* one trailing byte fails */
                {
                        uint8_t t[TB_BODY_MAX + 1];
                        memcpy(t, hex, n);
                        t[n] = 0;
                        CHECK_ERR(decode_bytes(t, n + 1), TB_E_TRAILING);
                }
                free(hex);
        }
}

static void test_signature_vectors(void)
{
        struct docvec *v;
        struct tb_entry e, d;
        uint8_t body[TB_BODY_MAX], sig[64], msg[TB_SIG_MESSAGE_MAX];
        size_t blen, mlen, n, bl;
        uint8_t *hex, *dsig;
        const uint8_t *pb, *ps;

        build_service(&e);
        CHECK(tb_entry_encode(&e, body, sizeof(body), &blen) == TB_OK);

        /* the signature message: context, NUL, u8 origin length, origin,
         * body */
        v = docvec_get(&set, "sig-message-service");
        hex = docvec_hex(v, "hex", &n);
        CHECK(strcmp(docvec_str(v, "origin"), ORIGIN) == 0);
        CHECK(tb_entry_sig_message(ORIGIN, body, blen, msg, sizeof(msg),
                                   &mlen) == TB_OK);
        CHECK(mlen == n && memcmp(msg, hex, n) == 0);
        CHECK(mlen == 18 + 1 + strlen(ORIGIN) + blen);
        {
                /* it ends with the body vector it names */
                size_t rn;
                uint8_t *ref = ref_hex(v, "body", &rn);
                CHECK(rn == blen && rn < n &&
                      memcmp(hex + n - rn, ref, rn) == 0);
                free(ref);
        }
        free(hex);

        /* signed entry: deterministic Ed25519 with the documented seed */
        v = docvec_get(&set, "signed-service");
        CHECK(strcmp(docvec_str(v, "origin"), ORIGIN) == 0);
        dsig = docvec_hex(v, "signature", &n);
        CHECK(n == 64);
        hex = docvec_hex(v, "public_key", &n);
        CHECK(n == 32 && memcmp(hex, term_pk, 32) == 0);
        free(hex);
        check_seed_field(v, term_pk);
        CHECK(tb_entry_sign(ORIGIN, body, blen, term_sk, sig) == TB_OK);
        CHECK(memcmp(sig, dsig, 64) == 0);
        CHECK(tb_entry_verify(ORIGIN, body, blen, term_pk, sig) == TB_OK);
        hex = docvec_hex(v, "hex", &n);
        CHECK(n == blen + 64 && memcmp(hex, body, blen) == 0 &&
              memcmp(hex + blen, sig, 64) == 0);
        CHECK(tb_signed_decode(hex, n, &d, &pb, &bl, &ps) == TB_OK);
        CHECK(memcmp(&d, &e, sizeof(e)) == 0);
        CHECK(pb == hex && bl == blen && ps == hex + blen);
        /* a signed entry shorter than a signature is truncated */
        CHECK_ERR(tb_signed_decode(hex, 63, &d, &pb, &bl, &ps), TB_E_TRUNCATED);
        CHECK(pb == NULL && bl == 0 && ps == NULL);
        /* exactly a signature: the body is empty, so truncated */
        CHECK_ERR(tb_signed_decode(hex + blen, 64, &d, &pb, &bl, &ps),
                  TB_E_TRUNCATED);
        /* every prefix of a signed entry fails */
        for (size_t k = 0; k < n; k++)
                CHECK(tb_signed_decode(hex, k, &d, &pb, &bl, &ps) != TB_OK);
        free(hex);

        /* the same body signed for another origin does not verify here:
         * the origin is part of the message (cross-ledger separation) */
        CHECK(tb_entry_sign("example.org/timebank/district-8", body, blen,
                            term_sk, sig) == TB_OK);
        CHECK_ERR(tb_entry_verify(ORIGIN, body, blen, term_pk, sig),
                  TB_E_BAD_SIGNATURE);
        /* an origin that is a prefix of ours differs too (length byte) */
        CHECK(tb_entry_sign("example.org/timebank/district-", body, blen,
                            term_sk, sig) == TB_OK);
        CHECK_ERR(tb_entry_verify(ORIGIN, body, blen, term_pk, sig),
                  TB_E_BAD_SIGNATURE);
        /* a bare Ed25519 signature over the body alone does not verify
         * (cross-protocol separation: the context is signed) */
        crypto_sign_detached(sig, NULL, body, blen, term_sk);
        CHECK_ERR(tb_entry_verify(ORIGIN, body, blen, term_pk, sig),
                  TB_E_BAD_SIGNATURE);

        /* every flipped body byte and signature byte fails */
        memcpy(sig, dsig, 64);
        for (size_t k = 0; k < blen; k++) {
                body[k] ^= 0x01;
                CHECK_ERR(tb_entry_verify(ORIGIN, body, blen, term_pk, sig),
                          TB_E_BAD_SIGNATURE);
                body[k] ^= 0x01;
        }
        for (size_t k = 0; k < 64; k++) {
                sig[k] ^= 0x80;
                CHECK_ERR(tb_entry_verify(ORIGIN, body, blen, term_pk, sig),
                          TB_E_BAD_SIGNATURE);
                sig[k] ^= 0x80;
        }
        /* another key fails; the signer field inside is not consulted */
        CHECK_ERR(tb_entry_verify(ORIGIN, body, blen, new_pk, sig),
                  TB_E_BAD_SIGNATURE);
        CHECK(tb_entry_verify(ORIGIN, body, blen, term_pk, sig) == TB_OK);
        /* a malformed origin: sign refuses it, verify fails */
        CHECK_ERR(tb_entry_sign("a+b", body, blen, term_sk, sig),
                  TB_E_KEY_NAME);
        CHECK_ERR(tb_entry_sign("", body, blen, term_sk, sig), TB_E_KEY_NAME);
        CHECK_ERR(tb_entry_verify("a+b", body, blen, term_pk, dsig),
                  TB_E_BAD_SIGNATURE);
        /* bodies above TB_BODY_MAX are not signed nor verified */
        {
                static uint8_t big[TB_BODY_MAX + 1];
                CHECK_ERR(tb_entry_sign(ORIGIN, big, sizeof(big), term_sk, sig),
                          TB_E_TOO_LARGE);
                CHECK_ERR(
                    tb_entry_verify(ORIGIN, big, sizeof(big), term_pk, sig),
                    TB_E_BAD_SIGNATURE);
        }
        /* the signature message needs room: a short buffer overflows */
        CHECK_ERR(
            tb_entry_sig_message(ORIGIN, body, blen, msg, mlen - 1, &mlen),
            TB_E_OVERFLOW);
        free(dsig);

        /* the genesis is signed by the log key the same way */
        v = docvec_get(&set, "signed-genesis");
        CHECK(strcmp(docvec_str(v, "origin"), ORIGIN) == 0);
        check_seed_field(v, log_pk);
        build_genesis(&e);
        CHECK(tb_entry_encode(&e, body, sizeof(body), &blen) == TB_OK);
        CHECK(tb_entry_sign(ORIGIN, body, blen, log_sk, sig) == TB_OK);
        dsig = docvec_hex(v, "signature", &n);
        CHECK(n == 64 && memcmp(sig, dsig, 64) == 0);
        free(dsig);
        hex = docvec_hex(v, "public_key", &n);
        CHECK(n == 32 && memcmp(hex, log_pk, 32) == 0);
        free(hex);
        CHECK(tb_entry_verify(ORIGIN, body, blen, log_pk, sig) == TB_OK);
}

static void test_record_vectors(void)
{
        struct docvec *v = docvec_get(&set, "record-service");
        struct tb_entry e;
        struct tb_record r;
        uint8_t body[TB_BODY_MAX], sig[64], rec[TB_RECORD_MAX];
        uint8_t leaf_in[TB_RECORD_MAX + 1], leaf[32];
        size_t blen, rlen, n;
        uint8_t *hex;

        build_service(&e);
        CHECK(tb_entry_encode(&e, body, sizeof(body), &blen) == TB_OK);
        CHECK(tb_entry_sign(ORIGIN, body, blen, term_sk, sig) == TB_OK);
        CHECK(tb_record_encode(7, 1750000003, body, blen, sig, rec, sizeof(rec),
                               &rlen) == TB_OK);
        hex = docvec_hex(v, "hex", &n);
        CHECK(rlen == n && memcmp(rec, hex, n) == 0);
        CHECK(tb_record_decode(hex, n, &r) == TB_OK);
        CHECK(r.seq == 7 && r.received == 1750000003);
        check_num_field(v, "seq", (long long)r.seq);
        check_num_field(v, "received", r.received);
        {
                /* after the header: the signed entry it names */
                size_t rn;
                uint8_t *ref = ref_hex(v, "entry", &rn);
                CHECK(rn + TB_RECORD_HEADER == n &&
                      memcmp(hex + TB_RECORD_HEADER, ref, rn) == 0);
                free(ref);
        }
        CHECK(r.body == hex + 16 && r.body_len == blen);
        CHECK(r.sig == hex + 16 + blen);
        CHECK(memcmp(&r.entry, &e, sizeof(e)) == 0);

        /* the Merkle leaf hash is SHA-256(0x00 || record) */
        v = docvec_get(&set, "leaf-hash-service");
        {
                /* of the record vector it names */
                size_t rn;
                uint8_t *ref = ref_hex(v, "record", &rn);
                CHECK(rn == rlen && memcmp(ref, rec, rn) == 0);
                free(ref);
        }
        leaf_in[0] = 0;
        memcpy(leaf_in + 1, rec, rlen);
        crypto_hash_sha256(leaf, leaf_in, rlen + 1);
        {
                size_t ln;
                uint8_t *want = docvec_hex(v, "hex", &ln);
                CHECK(ln == 32 && memcmp(leaf, want, 32) == 0);
                free(want);
        }

        /* record truncated at every length */
        for (size_t k = 0; k < n; k++)
                CHECK_ERR(tb_record_decode(hex, k, &r), TB_E_TRUNCATED);
        /* a record with a trailing byte: the split at len - 64 leaves a
         * body with a trailing byte */
        {
                uint8_t t[TB_RECORD_MAX + 1];
                memcpy(t, hex, n);
                t[n] = 0;
                CHECK_ERR(tb_record_decode(t, n + 1, &r), TB_E_TRAILING);
        }
        /* record seq 0 (the genesis) and INT64_MAX are valid */
        tb_store_u64be(hex, 0);
        CHECK(tb_record_decode(hex, n, &r) == TB_OK && r.seq == 0);
        tb_store_u64be(hex, INT64_MAX);
        CHECK(tb_record_decode(hex, n, &r) == TB_OK && r.seq == INT64_MAX);
        /* record seq above INT64_MAX */
        tb_store_u64be(hex, (uint64_t)INT64_MAX + 1);
        CHECK_ERR(tb_record_decode(hex, n, &r), TB_E_SEQ);
        tb_store_u64be(hex, UINT64_MAX);
        CHECK_ERR(tb_record_decode(hex, n, &r), TB_E_SEQ);
        tb_store_u64be(hex, 7);
        /* record received time: TB_TIME_MAX ok, +1 and -1 rejected */
        tb_store_u64be(hex + 8, TB_TIME_MAX);
        CHECK(tb_record_decode(hex, n, &r) == TB_OK);
        tb_store_u64be(hex + 8, (uint64_t)TB_TIME_MAX + 1);
        CHECK_ERR(tb_record_decode(hex, n, &r), TB_E_TIME);
        tb_store_u64be(hex + 8, UINT64_MAX);
        CHECK_ERR(tb_record_decode(hex, n, &r), TB_E_TIME);
        CHECK(r.body == NULL && r.seq == 0);
        tb_store_u64be(hex + 8, 1750000003);
        /* a record whose body does not decode fails with the body's error */
        hex[16] = 2;
        CHECK_ERR(tb_record_decode(hex, n, &r), TB_E_VERSION);
        hex[16] = 1;
        CHECK(tb_record_decode(hex, n, &r) == TB_OK);
        free(hex);

        v = docvec_get(&set, "reject-record-seq");
        hex = docvec_hex(v, "hex", &n);
        CHECK_ERR(tb_record_decode(hex, n, &r), TB_E_SEQ);
        CHECK(strcmp(docvec_str(v, "error"), "TB_E_SEQ") == 0);
        free(hex);

        /* tb_record_encode range checks */
        CHECK_ERR(tb_record_encode((uint64_t)INT64_MAX + 1, 0, body, blen, sig,
                                   rec, sizeof(rec), &rlen),
                  TB_E_SEQ);
        CHECK(rlen == 0);
        CHECK(tb_record_encode(INT64_MAX, TB_TIME_MAX, body, blen, sig, rec,
                               sizeof(rec), &rlen) == TB_OK);
        CHECK_ERR(
            tb_record_encode(1, -1, body, blen, sig, rec, sizeof(rec), &rlen),
            TB_E_TIME);
        CHECK_ERR(tb_record_encode(1, TB_TIME_MAX + 1, body, blen, sig, rec,
                                   sizeof(rec), &rlen),
                  TB_E_TIME);
        CHECK_ERR(
            tb_record_encode(1, 0, body, blen, sig, rec, 16 + blen + 63, &rlen),
            TB_E_OVERFLOW);
}

static const struct {
        const char *name;
        enum tb_err err;
} err_names[] = {
    {"TB_E_TRUNCATED", TB_E_TRUNCATED},
    {"TB_E_TRAILING", TB_E_TRAILING},
    {"TB_E_VERSION", TB_E_VERSION},
    {"TB_E_KIND", TB_E_KIND},
    {"TB_E_ACCOUNT", TB_E_ACCOUNT},
    {"TB_E_CODE", TB_E_CODE},
    {"TB_E_NOTE_TEXT", TB_E_NOTE_TEXT},
    {"TB_E_KEY_NAME", TB_E_KEY_NAME},
    {"TB_E_MINUTES", TB_E_MINUTES},
    {"TB_E_POINTS", TB_E_POINTS},
    {"TB_E_TIME", TB_E_TIME},
    {"TB_E_ROLES", TB_E_ROLES},
    {"TB_E_POLICY", TB_E_POLICY},
    {"TB_E_SAME_ACCOUNT", TB_E_SAME_ACCOUNT},
    {"TB_E_SEQ", TB_E_SEQ},
};

static int err_from_name(const char *s)
{
        for (size_t i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
                if (strcmp(err_names[i].name, s) == 0)
                        return (int)err_names[i].err;
        return -1;
}

/* Every "reject-*" body vector fails to decode with its documented error. */
static void test_reject_vectors(void)
{
        for (int i = 0; i < set.n; i++) {
                struct docvec *v = &set.v[i];
                size_t n;
                uint8_t *hex;

                if (strncmp(v->name, "reject-", 7) != 0 ||
                    strcmp(v->name, "reject-record-seq") == 0)
                        continue;
                v = docvec_get(&set, v->name);
                hex = docvec_hex(v, "hex", &n);
                CHECK(err_from_name(docvec_str(v, "error")) >= 0);
                if (decode_bytes(hex, n) !=
                    (enum tb_err)err_from_name(docvec_str(v, "error"))) {
                        fprintf(stderr, "vector %s: got %d\n", v->name,
                                decode_bytes(hex, n));
                        CHECK(0);
                }
                free(hex);
        }
}

/* ---- one rule per check ---------------------------------------------------
 */

static void test_header_rules(void)
{
        struct tb_entry e;
        uint8_t b[TB_BODY_MAX];
        size_t n;

        /* unknown version: 0 and 2 (struct and wire) */
        build_register(&e);
        e.version = 0;
        CHECK(judged(&e, TB_E_VERSION));
        e.version = 2;
        CHECK(judged(&e, TB_E_VERSION));
        e.version = 255;
        CHECK(judged(&e, TB_E_VERSION));
        /* the version is judged from its byte alone */
        b[0] = 2;
        CHECK_ERR(decode_bytes(b, 1), TB_E_VERSION);
        b[0] = 1;
        CHECK_ERR(decode_bytes(b, 1), TB_E_TRUNCATED);
        CHECK_ERR(decode_bytes(b, 0), TB_E_TRUNCATED);
        /* unknown kind: 0, 10, 255; judged from its byte alone */
        build_register(&e);
        e.kind = 0;
        CHECK_ERR(tb_entry_check(&e), TB_E_KIND);
        CHECK_ERR(tb_entry_encode(&e, b, sizeof(b), &n), TB_E_KIND);
        e.kind = 10;
        CHECK_ERR(tb_entry_check(&e), TB_E_KIND);
        e.kind = 255;
        CHECK_ERR(tb_entry_check(&e), TB_E_KIND);
        b[0] = 1;
        b[1] = 0;
        CHECK_ERR(decode_bytes(b, 2), TB_E_KIND);
        b[1] = 10;
        CHECK_ERR(decode_bytes(b, 2), TB_E_KIND);
        b[1] = 255;
        CHECK_ERR(decode_bytes(b, 2), TB_E_KIND);
        /* clock: -1, 0, TB_TIME_MAX, TB_TIME_MAX + 1, INT64_MIN */
        build_register(&e);
        e.clock = -1;
        CHECK(judged(&e, TB_E_TIME));
        e.clock = INT64_MIN;
        CHECK(judged(&e, TB_E_TIME));
        e.clock = 0;
        CHECK(judged(&e, TB_OK));
        e.clock = TB_TIME_MAX;
        CHECK(judged(&e, TB_OK));
        e.clock = TB_TIME_MAX + 1;
        CHECK(judged(&e, TB_E_TIME));
        /* signer and request id are opaque: any bytes */
        build_register(&e);
        memset(e.signer, 0xff, 32);
        memset(e.request_id, 0, 16);
        CHECK(judged(&e, TB_OK));
}

/* The charset and length rules of one string field (via set_field). */
static void string_rules(void (*build)(struct tb_entry *),
                         char *(*field)(struct tb_entry *), size_t min,
                         size_t max, enum tb_err err, int plus_ok)
{
        struct tb_entry e;
        char *f;

        /* length min - 1 (empty) */
        build(&e);
        f = field(&e);
        f[0] = 0;
        CHECK(judged(&e, min == 0 ? TB_OK : err));
        /* length 1 */
        fill(f, 'a', 1);
        CHECK(judged(&e, TB_OK));
        /* length max */
        fill(f, 'z', max);
        CHECK(judged(&e, TB_OK));
        /* length max + 1: no NUL within the field */
        memset(f, 'z', max + 1);
        CHECK(judged(&e, err));
        /* bytes 0x21 and 0x7e are the ends of the set */
        build(&e);
        f = field(&e);
        strcpy(f, "!~");
        CHECK(judged(&e, TB_OK));
        /* space, DEL, 0x80, 0xff, tab are outside the set */
        strcpy(f, "a b");
        CHECK(judged(&e, err));
        strcpy(f, "a\x7f");
        CHECK(judged(&e, err));
        strcpy(f, "a\x80");
        CHECK(judged(&e, err));
        strcpy(f, "\xff");
        CHECK(judged(&e, err));
        strcpy(f, "a\tb");
        CHECK(judged(&e, err));
        /* '+' only where allowed (names exclude it: signed-note syntax) */
        strcpy(f, "a+b");
        CHECK(judged(&e, plus_ok ? TB_OK : err));
}

static char *f_origin(struct tb_entry *e)
{
        return e->u.genesis.origin;
}
static char *f_admin_name(struct tb_entry *e)
{
        return e->u.genesis.admin_name;
}
static char *f_enroll_name(struct tb_entry *e)
{
        return e->u.enroll.name;
}
static char *f_policy_activity(struct tb_entry *e)
{
        return e->u.policy.activity;
}
static char *f_reg_account(struct tb_entry *e)
{
        return e->u.reg.account;
}
static char *f_svc_account(struct tb_entry *e)
{
        return e->u.service.account;
}
static char *f_svc_activity(struct tb_entry *e)
{
        return e->u.service.activity;
}
static char *f_red_account(struct tb_entry *e)
{
        return e->u.redeem.account;
}
static char *f_red_item(struct tb_entry *e)
{
        return e->u.redeem.item;
}
static char *f_from(struct tb_entry *e)
{
        return e->u.transfer.from;
}
static char *f_to(struct tb_entry *e)
{
        return e->u.transfer.to;
}

static void test_string_rules(void)
{
        /* account ids: 1..64 bytes of 0x21..0x7e */
        string_rules(build_register, f_reg_account, 1, TB_ACCOUNT_ID_MAX,
                     TB_E_ACCOUNT, 1);
        string_rules(build_service, f_svc_account, 1, TB_ACCOUNT_ID_MAX,
                     TB_E_ACCOUNT, 1);
        string_rules(build_redeem, f_red_account, 1, TB_ACCOUNT_ID_MAX,
                     TB_E_ACCOUNT, 1);
        string_rules(build_transfer, f_from, 1, TB_ACCOUNT_ID_MAX, TB_E_ACCOUNT,
                     1);
        string_rules(build_transfer, f_to, 1, TB_ACCOUNT_ID_MAX, TB_E_ACCOUNT,
                     1);
        /* codes: 1..32 bytes of 0x21..0x7e; empty allowed for activities
         * (the default rate), not for a redeemed item */
        string_rules(build_service, f_svc_activity, 0, TB_CODE_MAX, TB_E_CODE,
                     1);
        string_rules(build_policy_rate, f_policy_activity, 0, TB_CODE_MAX,
                     TB_E_CODE, 1);
        string_rules(build_redeem, f_red_item, 1, TB_CODE_MAX, TB_E_CODE, 1);
        /* names and origins: 1..128 bytes of 0x21..0x7e without '+' */
        string_rules(build_genesis, f_origin, 1, TB_NAME_MAX, TB_E_KEY_NAME, 0);
        string_rules(build_genesis, f_admin_name, 1, TB_NAME_MAX, TB_E_KEY_NAME,
                     0);
        string_rules(build_enroll, f_enroll_name, 1, TB_NAME_MAX, TB_E_KEY_NAME,
                     0);
}

/*
 * Replace the last string of a valid body (at offset off, length byte
 * included) with n raw bytes, and decode.
 */
static enum tb_err decode_with_string(const struct tb_entry *e, size_t off,
                                      const char *s, size_t n, size_t tail)
{
        uint8_t b[1024], t[1024];
        size_t len = raw_encode(e, b, sizeof(b));
        size_t old = b[off];

        memcpy(t, b, off);
        t[off] = (uint8_t)n;
        memcpy(t + off + 1, s, n);
        memcpy(t + off + 1 + n, b + off + 1 + old, tail);
        CHECK(off + 1 + old + tail == len);
        return decode_bytes(t, off + 1 + n + tail);
}

/* A NUL inside a string: no struct can carry it, so bytes are patched. */
static void test_nul_in_strings(void)
{
        struct tb_entry e;

        /* register account "al\0ce" at offset 58 */
        build_register(&e);
        CHECK_ERR(decode_with_string(&e, 58, "al\0ce", 5, 0), TB_E_ACCOUNT);
        CHECK_ERR(decode_with_string(&e, 58, "alice\0", 6, 0), TB_E_ACCOUNT);
        CHECK_ERR(decode_with_string(&e, 58, "\0", 1, 0), TB_E_ACCOUNT);
        CHECK(decode_with_string(&e, 58, "alice", 5, 0) == TB_OK);
        /* reverse note (offset 58 + 8) with NUL */
        build_reverse(&e);
        CHECK_ERR(decode_with_string(&e, 66, "a\0b", 3, 0), TB_E_NOTE_TEXT);
        /* policy activity with NUL (offset 59, 14 bytes follow) */
        build_policy_rate(&e);
        CHECK_ERR(decode_with_string(&e, 59, "elder\0care", 10, 14), TB_E_CODE);
        /* enroll name with NUL (offset 58 + 33) */
        build_enroll(&e);
        CHECK_ERR(decode_with_string(&e, 91, "st\0", 3, 0), TB_E_KEY_NAME);
        /* revoke note longer than 200 bytes on the wire (up to 255) */
        build_revoke(&e);
        {
                char s[255];
                memset(s, 'x', sizeof(s));
                CHECK_ERR(decode_with_string(&e, 90, s, 201, 0),
                          TB_E_NOTE_TEXT);
                CHECK_ERR(decode_with_string(&e, 90, s, 255, 0),
                          TB_E_NOTE_TEXT);
                CHECK(decode_with_string(&e, 90, s, 200, 0) == TB_OK);
        }
        /* register account of 65 and 255 bytes on the wire */
        build_register(&e);
        {
                char s[255];
                memset(s, 'a', sizeof(s));
                CHECK_ERR(decode_with_string(&e, 58, s, 65, 0), TB_E_ACCOUNT);
                CHECK_ERR(decode_with_string(&e, 58, s, 255, 0), TB_E_ACCOUNT);
        }
}

static void note_rules(void (*build)(struct tb_entry *))
{
        struct tb_entry e;
        char *note;

        build(&e);
        switch (e.kind) {
        case TB_KIND_REVOKE:
                note = e.u.revoke.note;
                break;
        case TB_KIND_SERVICE:
                note = e.u.service.note;
                break;
        case TB_KIND_REDEEM:
                note = e.u.redeem.note;
                break;
        case TB_KIND_TRANSFER:
                note = e.u.transfer.note;
                break;
        default:
                note = e.u.reverse.note;
                break;
        }
        /* empty note is allowed */
        note[0] = 0;
        CHECK(judged(&e, TB_OK));
        /* 200 bytes allowed, 201 rejected */
        fill(note, 'n', TB_NOTE_MAX);
        CHECK(judged(&e, TB_OK));
        memset(note, 'n', TB_NOTE_MAX + 1);
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        /* the limit counts bytes, not characters: 66 x 3 bytes + 2 = 200 */
        note[0] = 0;
        for (int i = 0; i < 66; i++)
                strcat(note, "\xe4\xbd\xa0");
        strcat(note, "ab");
        CHECK(judged(&e, TB_OK));
        fill(note, 'n', TB_NOTE_MAX - 2);
        strcat(note, "\xe4\xbd\xa0"); /* 198 + 3 = 201 bytes */
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        /* space is text; C0 controls, DEL, C1 controls are not */
        strcpy(note, "a b");
        CHECK(judged(&e, TB_OK));
        strcpy(note, "a\nb");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\x1f");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "a\x7f");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xc2\x85"); /* U+0085 NEL */
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xc2\x9b"); /* U+009B CSI */
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xc2\xa0"); /* U+00A0, first after C1 */
        CHECK(judged(&e, TB_OK));
        /* overlong forms */
        strcpy(note, "\xc0\xaf");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xe0\x80\xaf");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xf0\x80\x80\xaf");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        /* surrogates */
        strcpy(note, "\xed\xa0\x80");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xed\xbf\xbf");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        /* above U+10FFFF */
        strcpy(note, "\xf4\x90\x80\x80");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xf5\x80\x80\x80");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\xf4\x8f\xbf\xbf"); /* U+10FFFF itself */
        CHECK(judged(&e, TB_OK));
        /* a valid 4-byte emoji is accepted */
        strcpy(note, "\xf0\x9f\x8c\xb8");
        CHECK(judged(&e, TB_OK));
        /* truncated sequence, bare continuation byte */
        strcpy(note, "ok\xe4\xbd");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
        strcpy(note, "\x80");
        CHECK(judged(&e, TB_E_NOTE_TEXT));
}

static void test_note_rules(void)
{
        note_rules(build_revoke);
        note_rules(build_service);
        note_rules(build_redeem);
        note_rules(build_transfer);
        note_rules(build_reverse);
}

static void test_text_clean(void)
{
        static const struct {
                const char *s;
                int ok;
        } t[] = {
            {"", 1},
            {"plain", 1},
            {"\xed\x9f\xbf", 1},         /* U+D7FF, below surrogates */
            {"\xee\x80\x80", 1},         /* U+E000, above surrogates */
            {"\xef\xbf\xbf", 1},         /* U+FFFF */
            {"\xf0\x90\x80\x80", 1},     /* U+10000 */
            {"\xdf\xbf", 1},             /* U+07FF */
            {"\xe0\xa0\x80", 1},         /* U+0800 */
            {"\xc1\xbf", 0},             /* overlong U+007F */
            {"\xe0\x9f\xbf", 0},         /* overlong U+07FF */
            {"\xf0\x8f\xbf\xbf", 0},     /* overlong U+FFFF */
            {"\xf8\x88\x80\x80\x80", 0}, /* 5-byte form */
            {"\xfe", 0},
            {"\xc2\x80", 0}, /* U+0080, first C1 */
            {"\xc2\x9f", 0}, /* U+009F, last C1 */
            {"\xc2", 0},     /* lead byte at end */
            {"\xe4\x41\x41", 0},
            {"\x7e", 1},
            {"\x20", 1},
            {"\x7f", 0},
            {"\x1b[2J", 0},
            {"\r", 0},
            /* invisible characters that reorder or break lines */
            {"\xe2\x80\x8e", 0}, /* U+200E LRM */
            {"\xe2\x80\x8f", 0}, /* U+200F RLM */
            {"\xe2\x80\xa8", 0}, /* U+2028 LINE SEPARATOR */
            {"\xe2\x80\xa9", 0}, /* U+2029 PARAGRAPH SEPARATOR */
            {"\xe2\x80\xaa", 0}, /* U+202A LRE */
            {"\xe2\x80\xae", 0}, /* U+202E RLO */
            {"\xe2\x81\xa6", 0}, /* U+2066 LRI */
            {"\xe2\x81\xa9", 0}, /* U+2069 PDI */
            {"\xef\xbb\xbf", 0}, /* U+FEFF BOM */
            {"\xe2\x80\x8d", 1}, /* U+200D ZWJ (emoji sequences) */
            {"\xe2\x80\xaf", 1}, /* U+202F narrow no-break space */
            {"\xe2\x81\xaa", 1}, /* U+206A, just after PDI */
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                int got = tb_text_clean(t[i].s, strlen(t[i].s));
                if (got != t[i].ok) {
                        fprintf(stderr, "text_clean case %zu: got %d\n", i,
                                got);
                        CHECK(0);
                }
        }
        /* NUL is a C0 control */
        CHECK(tb_text_clean("a\0b", 3) == 0);
        CHECK_ERR(tb_note_text_check("a\0b", 3), TB_E_NOTE_TEXT);
        /* the validators, directly */
        CHECK_ERR(tb_account_check("", 0), TB_E_ACCOUNT);
        CHECK(tb_account_check("a", 1) == TB_OK);
        CHECK_ERR(tb_code_check("", 0), TB_E_CODE);
        CHECK_ERR(tb_name_check("", 0), TB_E_KEY_NAME);
        CHECK_ERR(tb_name_check("a+b", 3), TB_E_KEY_NAME);
        CHECK(tb_name_check("a/b", 3) == TB_OK);
}

static void test_number_rules(void)
{
        struct tb_entry e;

        /* service minutes 1..1440 */
        build_service(&e);
        e.u.service.minutes = 0;
        CHECK(judged(&e, TB_E_MINUTES));
        e.u.service.minutes = 1;
        CHECK(judged(&e, TB_OK));
        e.u.service.minutes = TB_MINUTES_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.service.minutes = TB_MINUTES_MAX + 1;
        CHECK(judged(&e, TB_E_MINUTES));
        e.u.service.minutes = UINT16_MAX;
        CHECK(judged(&e, TB_E_MINUTES));
        /* service start 0..TB_TIME_MAX */
        build_service(&e);
        e.u.service.start = -1;
        CHECK(judged(&e, TB_E_TIME));
        e.u.service.start = 0;
        CHECK(judged(&e, TB_OK));
        e.u.service.start = TB_TIME_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.service.start = TB_TIME_MAX + 1;
        CHECK(judged(&e, TB_E_TIME));
        e.u.service.start = INT64_MIN;
        CHECK(judged(&e, TB_E_TIME));
        /* redeem points 1..TB_POINTS_MAX */
        build_redeem(&e);
        e.u.redeem.points = 0;
        CHECK(judged(&e, TB_E_POINTS));
        e.u.redeem.points = 1;
        CHECK(judged(&e, TB_OK));
        e.u.redeem.points = TB_POINTS_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.redeem.points = TB_POINTS_MAX + 1;
        CHECK(judged(&e, TB_E_POINTS));
        e.u.redeem.points = UINT32_MAX;
        CHECK(judged(&e, TB_E_POINTS));
        /* transfer points 1..TB_POINTS_MAX */
        build_transfer(&e);
        e.u.transfer.points = 0;
        CHECK(judged(&e, TB_E_POINTS));
        e.u.transfer.points = 1;
        CHECK(judged(&e, TB_OK));
        e.u.transfer.points = TB_POINTS_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.transfer.points = TB_POINTS_MAX + 1;
        CHECK(judged(&e, TB_E_POINTS));
        /* transfer from == to */
        build_transfer(&e);
        strcpy(e.u.transfer.to, "alice");
        CHECK(judged(&e, TB_E_SAME_ACCOUNT));
        /* ... but case matters: ids are bytes */
        strcpy(e.u.transfer.to, "Alice");
        CHECK(judged(&e, TB_OK));
        /* a prefix is another account */
        strcpy(e.u.transfer.to, "alic");
        CHECK(judged(&e, TB_OK));
        /* reverse seq 1..INT64_MAX */
        build_reverse(&e);
        e.u.reverse.seq = 0;
        CHECK(judged(&e, TB_E_SEQ));
        e.u.reverse.seq = 1;
        CHECK(judged(&e, TB_OK));
        e.u.reverse.seq = INT64_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.reverse.seq = (uint64_t)INT64_MAX + 1;
        CHECK(judged(&e, TB_E_SEQ));
        e.u.reverse.seq = UINT64_MAX;
        CHECK(judged(&e, TB_E_SEQ));
        /* enroll roles: non-empty subset of 0x07 */
        build_enroll(&e);
        e.u.enroll.roles = 0;
        CHECK(judged(&e, TB_E_ROLES));
        e.u.enroll.roles = TB_ROLE_RECORD;
        CHECK(judged(&e, TB_OK));
        e.u.enroll.roles = TB_ROLE_ALL;
        CHECK(judged(&e, TB_OK));
        e.u.enroll.roles = 0x08;
        CHECK(judged(&e, TB_E_ROLES));
        e.u.enroll.roles = 0x0f;
        CHECK(judged(&e, TB_E_ROLES));
        e.u.enroll.roles = 0xff;
        CHECK(judged(&e, TB_E_ROLES));
}

static void test_genesis_rules(void)
{
        struct tb_entry e;

        /* points_per_hour 0..TB_RATE_MAX */
        build_genesis(&e);
        e.u.genesis.points_per_hour = 0;
        CHECK(judged(&e, TB_OK));
        e.u.genesis.points_per_hour = TB_RATE_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.genesis.points_per_hour = TB_RATE_MAX + 1;
        CHECK(judged(&e, TB_E_POLICY));
        /* daily_minutes_cap 0 (none) or 1..1440 */
        build_genesis(&e);
        e.u.genesis.daily_minutes_cap = 0;
        CHECK(judged(&e, TB_OK));
        e.u.genesis.daily_minutes_cap = 1;
        CHECK(judged(&e, TB_OK));
        e.u.genesis.daily_minutes_cap = TB_MINUTES_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.genesis.daily_minutes_cap = TB_MINUTES_MAX + 1;
        CHECK(judged(&e, TB_E_POLICY));
        /* max_balance 0 (none) or 1..10^15 */
        build_genesis(&e);
        e.u.genesis.max_balance = 0;
        CHECK(judged(&e, TB_OK));
        e.u.genesis.max_balance = TB_BALANCE_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.genesis.max_balance = TB_BALANCE_MAX + 1;
        CHECK(judged(&e, TB_E_POLICY));
        e.u.genesis.max_balance = UINT64_MAX;
        CHECK(judged(&e, TB_E_POLICY));
}

static void test_policy_rules(void)
{
        struct tb_entry e;

        /* set: non-empty subset of 0x07 */
        build_policy_rate(&e);
        e.u.policy.set = 0;
        e.u.policy.activity[0] = 0;
        e.u.policy.points_per_hour = 0;
        CHECK(judged(&e, TB_E_POLICY));
        build_policy_rate(&e);
        e.u.policy.set = TB_POLICY_RATE | 0x08;
        CHECK(judged(&e, TB_E_POLICY));
        e.u.policy.set = 0x80 | TB_POLICY_RATE;
        CHECK(judged(&e, TB_E_POLICY));
        /* all three parts at once */
        e.u.policy.set = TB_POLICY_ALL;
        e.u.policy.daily_minutes_cap = 1;
        e.u.policy.max_balance = 1;
        CHECK(judged(&e, TB_OK));
        /* rate: 0..TB_RATE_MAX; empty activity = the default rate */
        build_policy_rate(&e);
        e.u.policy.points_per_hour = 0;
        CHECK(judged(&e, TB_OK));
        e.u.policy.points_per_hour = TB_RATE_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.policy.points_per_hour = TB_RATE_MAX + 1;
        CHECK(judged(&e, TB_E_POLICY));
        e.u.policy.points_per_hour = 10;
        e.u.policy.activity[0] = 0;
        CHECK(judged(&e, TB_OK));
        /* caps: 1440 and 10^15 at most */
        build_policy_caps(&e);
        e.u.policy.daily_minutes_cap = TB_MINUTES_MAX;
        e.u.policy.max_balance = TB_BALANCE_MAX;
        CHECK(judged(&e, TB_OK));
        e.u.policy.daily_minutes_cap = TB_MINUTES_MAX + 1;
        CHECK(judged(&e, TB_E_POLICY));
        e.u.policy.daily_minutes_cap = 0; /* set, 0 = remove the cap */
        CHECK(judged(&e, TB_OK));
        e.u.policy.max_balance = TB_BALANCE_MAX + 1;
        CHECK(judged(&e, TB_E_POLICY));
        e.u.policy.max_balance = 0; /* set, 0 = remove the cap */
        CHECK(judged(&e, TB_OK));
        /* canonical form: a part that is not set is all zero */
        build_policy_caps(&e);
        strcpy(e.u.policy.activity, "eldercare"); /* activity without RATE */
        CHECK(judged(&e, TB_E_POLICY));
        build_policy_caps(&e);
        e.u.policy.points_per_hour = 1; /* rate without RATE */
        CHECK(judged(&e, TB_E_POLICY));
        build_policy_rate(&e);
        e.u.policy.daily_minutes_cap = 1; /* cap without DAILY_CAP */
        CHECK(judged(&e, TB_E_POLICY));
        build_policy_rate(&e);
        e.u.policy.max_balance = 1; /* balance without MAX_BALANCE */
        CHECK(judged(&e, TB_E_POLICY));
}

static void test_kind_tables(void)
{
        static const uint8_t roles[TB_KIND_MAX + 1] = {
            [TB_KIND_GENESIS] = 0, /* the log key, not a role */
            [TB_KIND_ENROLL] = TB_ROLE_ADMIN,
            [TB_KIND_REVOKE] = TB_ROLE_ADMIN,
            [TB_KIND_POLICY] = TB_ROLE_ADMIN,
            [TB_KIND_REGISTER] = TB_ROLE_RECORD,
            [TB_KIND_SERVICE] = TB_ROLE_RECORD,
            [TB_KIND_REDEEM] = TB_ROLE_REDEEM,
            [TB_KIND_TRANSFER] = TB_ROLE_REDEEM,
            [TB_KIND_REVERSE] = 0, /* admin or the original terminal */
        };

        for (unsigned k = TB_KIND_MIN; k <= TB_KIND_MAX; k++) {
                const char *name = tb_kind_name(k);
                CHECK(name != NULL);
                CHECK(name != NULL && tb_kind_from_name(name) == k);
                CHECK(tb_kind_roles(k) == roles[k]);
        }
        CHECK(tb_kind_name(0) == NULL);
        CHECK(tb_kind_name(10) == NULL);
        CHECK(tb_kind_name(255) == NULL);
        CHECK(tb_kind_from_name("bogus") == 0);
        CHECK(tb_kind_from_name("") == 0);
        CHECK(tb_kind_roles(0) == 0 && tb_kind_roles(10) == 0);
}

/* The largest body of every kind fits TB_BODY_MAX; records TB_RECORD_MAX. */
static void test_size_limits(void)
{
        struct tb_entry e;
        uint8_t b[TB_BODY_MAX];
        size_t n, largest = 0;

        build_genesis(&e);
        fill(e.u.genesis.origin, 'o', TB_NAME_MAX);
        fill(e.u.genesis.admin_name, 'n', TB_NAME_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK);
        CHECK(n == 58 + 129 + 32 + 129 + 14);
        largest = n > largest ? n : largest;
        build_service(&e);
        fill(e.u.service.account, 'a', TB_ACCOUNT_ID_MAX);
        fill(e.u.service.activity, 'c', TB_CODE_MAX);
        fill(e.u.service.note, 'n', TB_NOTE_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK);
        CHECK(n == 58 + 65 + 8 + 2 + 33 + 201);
        largest = n > largest ? n : largest;
        build_transfer(&e);
        fill(e.u.transfer.from, 'a', TB_ACCOUNT_ID_MAX);
        fill(e.u.transfer.to, 'b', TB_ACCOUNT_ID_MAX);
        fill(e.u.transfer.note, 'n', TB_NOTE_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK);
        CHECK(n == 58 + 65 + 65 + 4 + 201);
        largest = n > largest ? n : largest;
        build_redeem(&e);
        fill(e.u.redeem.account, 'a', TB_ACCOUNT_ID_MAX);
        fill(e.u.redeem.item, 'i', TB_CODE_MAX);
        fill(e.u.redeem.note, 'n', TB_NOTE_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK && n == 361);
        build_revoke(&e);
        fill(e.u.revoke.note, 'n', TB_NOTE_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK && n == 291);
        build_reverse(&e);
        fill(e.u.reverse.note, 'n', TB_NOTE_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK && n == 267);
        build_enroll(&e);
        fill(e.u.enroll.name, 'n', TB_NAME_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK && n == 220);
        build_policy_rate(&e);
        fill(e.u.policy.activity, 'c', TB_CODE_MAX);
        CHECK(tb_entry_encode(&e, b, sizeof(b), &n) == TB_OK && n == 106);
        /* the transfer is the largest kind: 393 bytes (docs/ledger-format.md,
         * "Size limits"); genesis at most 362 */
        CHECK(largest == 393);
        CHECK(largest <= TB_BODY_MAX);
        CHECK(TB_RECORD_MAX == 16 + TB_BODY_MAX + 64);
        CHECK(TB_RECORD_MAX <= 65535);
        CHECK(TB_SIG_MESSAGE_MAX == 18 + 1 + 128 + TB_BODY_MAX);
}

/* ---- randomized round trips ---------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
        uint64_t x = rng_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return rng_state = x;
}

static uint64_t rnd_in(uint64_t lo, uint64_t hi)
{
        return lo + rnd() % (hi - lo + 1);
}

static void rnd_printable(char *s, size_t min, size_t max, int no_plus)
{
        size_t n = (size_t)rnd_in(min, max);

        for (size_t i = 0; i < n; i++) {
                char c;
                do
                        c = (char)rnd_in(0x21, 0x7e);
                while (no_plus && c == '+');
                s[i] = c;
        }
        s[n] = 0;
}

static void rnd_note(char *s)
{
        static const char *const pieces[] = {"a",
                                             " ",
                                             "~",
                                             "\xc2\xa0",
                                             "\xc3\xa9",
                                             "\xe2\x80\x93",
                                             "\xe9\x99\xaa",
                                             "\xf0\x9f\x8c\xb8",
                                             "\xf4\x8f\xbf\xbf"};
        size_t n = 0, want = (size_t)rnd_in(0, TB_NOTE_MAX);

        for (;;) {
                const char *p = pieces[rnd() % 9];
                size_t k = strlen(p);
                if (n + k > want)
                        break;
                memcpy(s + n, p, k);
                n += k;
        }
        s[n] = 0;
}

static void rnd_entry(struct tb_entry *e)
{
        memset(e, 0, sizeof(*e));
        e->version = TB_ENTRY_VERSION;
        e->kind = (uint8_t)rnd_in(TB_KIND_MIN, TB_KIND_MAX);
        for (int i = 0; i < 32; i++)
                e->signer[i] = (uint8_t)rnd();
        for (int i = 0; i < 16; i++)
                e->request_id[i] = (uint8_t)rnd();
        e->clock = (int64_t)rnd_in(0, TB_TIME_MAX);
        switch (e->kind) {
        case TB_KIND_GENESIS:
                rnd_printable(e->u.genesis.origin, 1, TB_NAME_MAX, 1);
                for (int i = 0; i < 32; i++)
                        e->u.genesis.admin_key[i] = (uint8_t)rnd();
                rnd_printable(e->u.genesis.admin_name, 1, TB_NAME_MAX, 1);
                e->u.genesis.points_per_hour = (uint32_t)rnd_in(0, TB_RATE_MAX);
                e->u.genesis.daily_minutes_cap =
                    (uint16_t)rnd_in(0, TB_MINUTES_MAX);
                e->u.genesis.max_balance = rnd_in(0, TB_BALANCE_MAX);
                break;
        case TB_KIND_ENROLL:
                for (int i = 0; i < 32; i++)
                        e->u.enroll.key[i] = (uint8_t)rnd();
                e->u.enroll.roles = (uint8_t)rnd_in(1, TB_ROLE_ALL);
                rnd_printable(e->u.enroll.name, 1, TB_NAME_MAX, 1);
                break;
        case TB_KIND_REVOKE:
                for (int i = 0; i < 32; i++)
                        e->u.revoke.key[i] = (uint8_t)rnd();
                rnd_note(e->u.revoke.note);
                break;
        case TB_KIND_POLICY:
                e->u.policy.set = (uint8_t)rnd_in(1, TB_POLICY_ALL);
                if (e->u.policy.set & TB_POLICY_RATE) {
                        rnd_printable(e->u.policy.activity, 0, TB_CODE_MAX, 0);
                        e->u.policy.points_per_hour =
                            (uint32_t)rnd_in(0, TB_RATE_MAX);
                }
                if (e->u.policy.set & TB_POLICY_DAILY_CAP)
                        e->u.policy.daily_minutes_cap =
                            (uint16_t)rnd_in(0, TB_MINUTES_MAX);
                if (e->u.policy.set & TB_POLICY_MAX_BALANCE)
                        e->u.policy.max_balance = rnd_in(0, TB_BALANCE_MAX);
                break;
        case TB_KIND_REGISTER:
                rnd_printable(e->u.reg.account, 1, TB_ACCOUNT_ID_MAX, 0);
                break;
        case TB_KIND_SERVICE:
                rnd_printable(e->u.service.account, 1, TB_ACCOUNT_ID_MAX, 0);
                e->u.service.start = (int64_t)rnd_in(0, TB_TIME_MAX);
                e->u.service.minutes = (uint16_t)rnd_in(1, TB_MINUTES_MAX);
                rnd_printable(e->u.service.activity, 0, TB_CODE_MAX, 0);
                rnd_note(e->u.service.note);
                break;
        case TB_KIND_REDEEM:
                rnd_printable(e->u.redeem.account, 1, TB_ACCOUNT_ID_MAX, 0);
                e->u.redeem.points = (uint32_t)rnd_in(1, TB_POINTS_MAX);
                rnd_printable(e->u.redeem.item, 1, TB_CODE_MAX, 0);
                rnd_note(e->u.redeem.note);
                break;
        case TB_KIND_TRANSFER:
                do {
                        rnd_printable(e->u.transfer.from, 1, 3, 0);
                        rnd_printable(e->u.transfer.to, 1,
                                      rnd() % 2 ? 3 : TB_ACCOUNT_ID_MAX, 0);
                } while (strcmp(e->u.transfer.from, e->u.transfer.to) == 0);
                e->u.transfer.points = (uint32_t)rnd_in(1, TB_POINTS_MAX);
                rnd_note(e->u.transfer.note);
                break;
        case TB_KIND_REVERSE:
                e->u.reverse.seq = rnd_in(1, INT64_MAX);
                rnd_note(e->u.reverse.note);
                break;
        }
}

static void test_random_round_trips(void)
{
        int failures = 0;

        for (int i = 0; i < 5000; i++) {
                struct tb_entry e, d;
                uint8_t a[TB_BODY_MAX], b[TB_BODY_MAX], raw[1024];
                size_t na, nb, nr;

                rnd_entry(&e);
                nr = raw_encode(&e, raw, sizeof(raw));
                /* encode -> decode -> encode is the identity, and the
                 * bytes are the documented layout */
                if (tb_entry_encode(&e, a, sizeof(a), &na) != TB_OK ||
                    tb_entry_decode(a, na, &d) != TB_OK ||
                    memcmp(&d, &e, sizeof(e)) != 0 ||
                    tb_entry_encode(&d, b, sizeof(b), &nb) != TB_OK ||
                    na != nb || memcmp(a, b, na) != 0 || nr != na ||
                    memcmp(raw, a, na) != 0) {
                        if (failures++ < 5)
                                fprintf(stderr,
                                        "round trip %d (kind %u) failed\n", i,
                                        e.kind);
                }
                /* a random prefix is truncated */
                if (na > 0 &&
                    decode_bytes(a, (size_t)rnd() % na) != TB_E_TRUNCATED &&
                    failures++ < 5)
                        fprintf(stderr, "prefix of %d decoded\n", i);
        }
        CHECK(failures == 0);
}

/*
 * One encoding per entry: any mutation of a valid body either fails to
 * decode or decodes to an entry whose encoding is exactly the mutated bytes.
 */
static void test_request_id_vector(void)
{
        struct docvec *v = docvec_get(&set, "request-id-v7");
        long long ms = docvec_i64(v, "unix_ms");
        size_t n, rn;
        uint8_t *want = docvec_hex(v, "hex", &n);
        uint8_t *rnd = docvec_hex(v, "random", &rn);
        uint8_t id[TB_REQUEST_ID_SIZE];
        int64_t back = -1;

        CHECK(n == TB_REQUEST_ID_SIZE && rn == 10);
        CHECK_ERR(tb_request_id_make(ms, rnd, id), TB_OK);
        CHECK_MEM(id, want, TB_REQUEST_ID_SIZE);
        CHECK(tb_request_id_time(want, &back) == 1 && back == ms);
        /* the version and variant bits are the only thing read */
        id[6] = 0x60 | (id[6] & 0x0f);
        CHECK(tb_request_id_time(id, &back) == 0);
        id[6] = 0x70 | (id[6] & 0x0f);
        id[8] = 0xc0 | (id[8] & 0x3f);
        CHECK(tb_request_id_time(id, &back) == 0);
        /* the time field's bounds */
        CHECK_ERR(tb_request_id_make(-1, rnd, id), TB_E_TIME);
        CHECK_ERR(tb_request_id_make((int64_t)1 << 48, rnd, id), TB_E_TIME);
        CHECK_ERR(tb_request_id_make(((int64_t)1 << 48) - 1, rnd, id), TB_OK);
        CHECK(tb_request_id_time(id, &back) == 1 &&
              back == ((int64_t)1 << 48) - 1);
        /* ids sort by time: the bytes compare as the times do */
        {
                uint8_t a[TB_REQUEST_ID_SIZE], b[TB_REQUEST_ID_SIZE];
                CHECK_ERR(tb_request_id_make(ms, rnd, a), TB_OK);
                CHECK_ERR(tb_request_id_make(ms + 1, rnd, b), TB_OK);
                CHECK(memcmp(a, b, sizeof(a)) < 0);
        }
        free(want);
        free(rnd);
}

static void test_canonical_mutations(void)
{
        int failures = 0;

        for (size_t i = 0; i < NBODIES; i++) {
                struct tb_entry e, d;
                uint8_t a[TB_BODY_MAX], m[TB_BODY_MAX], again[TB_BODY_MAX];
                size_t n, an;

                bodies[i].build(&e);
                if (tb_entry_encode(&e, a, sizeof(a), &n) != TB_OK)
                        abort();
                for (int k = 0; k < 2000; k++) {
                        int flips = 1 + (int)(rnd() % 3);
                        memcpy(m, a, n);
                        for (int f = 0; f < flips; f++)
                                m[rnd() % n] = (uint8_t)rnd();
                        if (tb_entry_decode(m, n, &d) != TB_OK)
                                continue;
                        if (tb_entry_encode(&d, again, sizeof(again), &an) !=
                                TB_OK ||
                            an != n || memcmp(again, m, n) != 0)
                                failures++;
                }
        }
        CHECK(failures == 0);
}

int main(void)
{
        if (sodium_init() < 0)
                return 2;
        seed_key(0x01, term_pk, term_sk);
        seed_key(0x21, log_pk, log_sk);
        seed_key(0x41, new_pk, new_sk);
        docvec_load(&set, "docs/ledger-format.md");

        test_body_vectors();
        test_signature_vectors();
        test_record_vectors();
        test_reject_vectors();
        test_header_rules();
        test_string_rules();
        test_nul_in_strings();
        test_note_rules();
        test_text_clean();
        test_number_rules();
        test_genesis_rules();
        test_policy_rules();
        test_kind_tables();
        test_size_limits();
        test_random_round_trips();
        test_canonical_mutations();
        test_request_id_vector();

        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
        return check_done("test_entry");
}
