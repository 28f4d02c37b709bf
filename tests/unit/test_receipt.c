/*
 * Receipts (proto/receipt.c): the vector of docs/receipts.md rebuilt from
 * its parts (the record-service record of docs/ledger-format.md in a tree
 * of 10 leaves, the proof made here by the RFC 6962 recursion written
 * independently of proto/merkle.c, the checkpoint signed with the
 * example.com/ledger key), parsed back field by field and verified; then
 * every way to damage a receipt, each refused with its error.
 *
 * `test_receipt --print` prints the vector's values (to write the doc).
 */
#include <sodium.h>
#include <stdlib.h>

#include "b64.h"
#include "check.h"
#include "docvec.h"
#include "key.h"
#include "merkle.h"
#include "note.h"
#include "receipt.h"

#define LEAVES 10
#define INDEX  7

static struct docvec_set set, ledger_set;
static uint8_t leaves[LEAVES][TB_HASH_SIZE];

/* MTH(D[lo:hi]), RFC 6962 2.1. */
static void mth(size_t lo, size_t hi, uint8_t out[TB_HASH_SIZE])
{
        size_t k = 1;
        uint8_t l[TB_HASH_SIZE], r[TB_HASH_SIZE];

        if (hi - lo == 1) {
                memcpy(out, leaves[lo], TB_HASH_SIZE);
                return;
        }
        while (2 * k < hi - lo)
                k *= 2;
        mth(lo, lo + k, l);
        mth(lo + k, hi, r);
        tb_merkle_node_hash(l, r, out);
}

/* PATH(m, D[lo:hi]), RFC 6962 2.1.1, appended at proof[*n]. */
static void path(size_t m, size_t lo, size_t hi, uint8_t proof[][TB_HASH_SIZE],
                 size_t *n)
{
        size_t k = 1;

        if (hi - lo == 1)
                return;
        while (2 * k < hi - lo)
                k *= 2;
        if (m < k) {
                path(m, lo, lo + k, proof, n);
                mth(lo + k, hi, proof[(*n)++]);
        } else {
                path(m - k, lo + k, hi, proof, n);
                mth(lo, lo + k, proof[(*n)++]);
        }
}

static void hex_print(const char *key, const uint8_t *p, size_t n)
{
        printf("%s: ", key);
        for (size_t i = 0; i < n; i++)
                printf("%s%02x", i > 0 && i % 32 == 0 ? "\n  " : "", p[i]);
        printf("\n");
}

int main(int argc, char **argv)
{
        int print = argc > 1 && strcmp(argv[1], "--print") == 0;
        struct docvec *rv, *v;
        uint8_t *record, *want, seed[TB_KEY_SEED_SIZE];
        size_t record_len, want_len, n, count = 0;
        uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASH_SIZE];
        uint8_t note[TB_CHECKPOINT_MAX], text[TB_RECEIPT_MAX];
        size_t note_len, text_len;
        struct tb_checkpoint cp, got_cp;
        struct tb_skey *k = NULL;
        struct tb_vkey vk;
        struct tb_receipt *r = malloc(sizeof(*r));
        struct tb_record rec;
        char b64[64];

        if (sodium_init() < 0 || r == NULL)
                return 2;
        docvec_load(&set, "docs/receipts.md");
        docvec_load(&ledger_set, "docs/ledger-format.md");
        rv = docvec_get(&ledger_set, "record-service");
        record = docvec_hex(rv, "hex", &record_len);
        v = docvec_get(&set, "receipt-service");

        /* the tree: leaf i the leaf hash of the byte i, but the record's */
        for (size_t i = 0; i < LEAVES; i++) {
                uint8_t b = (uint8_t)i;
                tb_merkle_leaf_hash(&b, 1, leaves[i]);
        }
        tb_merkle_leaf_hash(record, record_len, leaves[INDEX]);
        path(INDEX, 0, LEAVES, proof, &count);
        memset(&cp, 0, sizeof(cp));
        memcpy(cp.origin, "example.com/ledger", 19);
        cp.origin_len = 18;
        cp.size = LEAVES;
        mth(0, LEAVES, cp.root);
        memset(seed, 0, sizeof(seed));
        CHECK_ERR(tb_skey_from_seed(cp.origin, cp.origin_len, seed, &k), TB_OK);
        if (k == NULL)
                return 1;
        tb_skey_public(k, &vk);
        CHECK_ERR(tb_checkpoint_sign(&cp, k, note, sizeof(note), &note_len),
                  TB_OK);
        tb_skey_free(k);
        CHECK_ERR(tb_receipt_format(record, record_len, INDEX,
                                    (const uint8_t(*)[TB_HASH_SIZE])proof,
                                    count, note, note_len, text, sizeof(text),
                                    &text_len),
                  TB_OK);
        if (print) {
                CHECK_ERR(
                    tb_b64_encode(cp.root, TB_HASH_SIZE, b64, sizeof(b64), &n),
                    TB_OK);
                printf("root: %s\n", b64);
                hex_print("hashes", proof[0], count * TB_HASH_SIZE);
                hex_print("checkpoint", note, note_len);
                hex_print("receipt", text, text_len);
                printf("%.*s", (int)text_len, text);
                return 0;
        }
        CHECK(strcmp(docvec_str(v, "record"), "record-service") == 0);

        /* the vector, field by field */
        CHECK(docvec_u64(v, "index") == INDEX);
        CHECK(docvec_u64(v, "size") == LEAVES);
        CHECK(strcmp(docvec_str(v, "origin"), cp.origin) == 0);
        want = docvec_hex(v, "seed", &want_len);
        CHECK(want_len == sizeof(seed) && memcmp(want, seed, want_len) == 0);
        free(want);
        CHECK_ERR(tb_b64_encode(cp.root, TB_HASH_SIZE, b64, sizeof(b64), &n),
                  TB_OK);
        CHECK(strcmp(docvec_str(v, "root"), b64) == 0);
        want = docvec_hex(v, "hashes", &want_len);
        CHECK(want_len == count * TB_HASH_SIZE &&
              memcmp(want, proof, want_len) == 0);
        free(want);
        want = docvec_hex(v, "checkpoint", &want_len);
        CHECK(want_len == note_len && memcmp(want, note, note_len) == 0);
        free(want);
        want = docvec_hex(v, "receipt", &want_len);
        CHECK(want_len == text_len && memcmp(want, text, text_len) == 0);

        /* parsed back: every field, and it verifies */
        CHECK_ERR(tb_receipt_parse(want, want_len, r), TB_OK);
        CHECK(r->record_len == record_len &&
              memcmp(r->record, record, record_len) == 0);
        CHECK(r->index == INDEX && r->count == count);
        CHECK_MEM(r->hashes, proof, count * TB_HASH_SIZE);
        CHECK(r->checkpoint_len == note_len &&
              memcmp(r->checkpoint, note, note_len) == 0);
        CHECK_ERR(tb_receipt_verify(r, &vk, &got_cp, &rec), TB_OK);
        CHECK(got_cp.size == LEAVES && rec.seq == INDEX);
        free(want);

        /* damaged: each refused, by the parser or by verification */
        {
                static const struct {
                        const char *from, *to;
                        enum tb_err parse, verify;
                } cases[] = {
                    {"@v1\n", "@v2\n", TB_E_RECEIPT, TB_OK},
                    {"index 7\n", "index 07\n", TB_E_RECEIPT, TB_OK},
                    {"index 7\n", "index 6\n", TB_OK, TB_E_RECEIPT},
                    {"index 7\n", "index 7 \n", TB_E_RECEIPT, TB_OK},
                    {"extra ", "extra  ", TB_E_RECEIPT, TB_OK},
                    {"extra ", "xtra ", TB_E_RECEIPT, TB_OK},
                    {"\n\nexample", "\nexample", TB_E_RECEIPT, TB_OK},
                    {"\n10\n", "\n11\n", TB_OK, TB_E_BAD_SIGNATURE},
                };
                for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                        char *s = (char *)text, *at;
                        uint8_t bad[TB_RECEIPT_MAX + 8];
                        size_t fl = strlen(cases[i].from),
                               tl = strlen(cases[i].to), off, blen;

                        text[text_len] = 0;
                        at = strstr(s, cases[i].from);
                        CHECK(at != NULL);
                        if (at == NULL)
                                continue;
                        off = (size_t)(at - s);
                        memcpy(bad, text, off);
                        memcpy(bad + off, cases[i].to, tl);
                        memcpy(bad + off + tl, text + off + fl,
                               text_len - off - fl);
                        blen = text_len - fl + tl;
                        CHECK_ERR(tb_receipt_parse(bad, blen, r),
                                  cases[i].parse);
                        if (cases[i].parse == TB_OK)
                                CHECK_ERR(
                                    tb_receipt_verify(r, &vk, &got_cp, &rec),
                                    cases[i].verify);
                }
                /* longer than TB_RECEIPT_MAX: refused, whatever it holds
                 * (a checkpoint of many cosignatures) */
                static uint8_t big[TB_RECEIPT_MAX + 1];
                memcpy(big, text, text_len);
                memset(big + text_len, 'x', sizeof(big) - text_len);
                CHECK_ERR(tb_receipt_parse(big, sizeof(big) - 1, r), TB_OK);
                CHECK_ERR(tb_receipt_parse(big, sizeof(big), r), TB_E_RECEIPT);
                /* one bit of a proof hash, of the record; truncations */
                uint8_t bad[TB_RECEIPT_MAX];
                memcpy(bad, text, text_len);
                size_t h = strstr((char *)text, "index 7\n") - (char *)text + 8;
                bad[h] = bad[h] == 'A' ? 'B' : 'A';
                CHECK_ERR(tb_receipt_parse(bad, text_len, r), TB_OK);
                CHECK_ERR(tb_receipt_verify(r, &vk, &got_cp, &rec), TB_E_PROOF);
                for (size_t cut = 0; cut < text_len; cut++) {
                        enum tb_err e = tb_receipt_parse(text, cut, r);
                        if (e == TB_OK)
                                CHECK(tb_receipt_verify(r, &vk, &got_cp,
                                                        &rec) != TB_OK);
                }
        }
        free(record);
        free(r);
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
        docvec_free(&ledger_set);
        return check_done("test_receipt");
}
