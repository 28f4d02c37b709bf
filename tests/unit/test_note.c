/*
 * Signed notes and checkpoints: Go's note vectors, the C2SP example, the
 * example.com/ledger checkpoints, malformed notes, signature rules,
 * checkpoint parsing rules, and the note and checkpoint vectors of
 * docs/keys.md and docs/transparency.md.
 */
#include <sodium.h>
#include <stdlib.h>

#include "b64.h"
#include "check.h"
#include "docvec.h"
#include "key.h"
#include "merkle.h"
#include "note.h"

#define PN_SKEY                                                                \
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+"          \
        "Y7hfZx09iUvxdXHKDFz"
#define PN_VKEY                                                                \
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PN_TEXT                                                                \
        "If you think cryptography is the answer to your problem,\n"           \
        "then you don't know what your problem is.\n"
#define PN_SIG                                                                 \
        "\xe2\x80\x94 PeterNeumann "                                           \
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf" \
        "qdngotpRZb6KE6RyyBwJnAM=\n"
#define PN_NOTE PN_TEXT "\n" PN_SIG
#define ENOCH_VKEY                                                             \
        "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define ENOCH_SIG                                                              \
        "\xe2\x80\x94 EnochRoot "                                              \
        "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01" \
        "oOTGwnWLox33WWd1RvMc+QQ=\n"
#define LEDGER_VKEY                                                            \
        "example.com/"                                                         \
        "ledger+ebafc28b+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"

#define CP8                                                                    \
        "example.com/ledger\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/"        \
        "RgQyg=\n"                                                             \
        "\n\xe2\x80\x94 example.com/ledger "                                   \
        "66/"                                                                  \
        "Ci13vdSbXLoRJ3O7HQy9AEbHquM+GBIegjHu7n3vARLxtNj300GRT2WJv8C6hDHv3H"   \
        "cLVs2mNW34eeLZaCr9Xig0=\n"
#define CP0                                                                    \
        "example.com/ledger\n0\n47DEQpj8HBSa+/"                                \
        "TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"                                     \
        "\n\xe2\x80\x94 example.com/ledger "                                   \
        "66/"                                                                  \
        "Ci2JOVOxEwMJuAhN8wIJGe+biKbLXlyZ5rHDTnUWEtwtuULTcJTtYuw3CMfEdHxnLz"   \
        "iWR/OhKa47D3lkLRGCIYg0=\n"
#define CP1000                                                                 \
        "example.com/ledger\n1000\nL/M/udjxT4nKMGKJYzM2oWj/"                   \
        "P0Uy6PdBoAGdy0wdYKE="                                                 \
        "\n\n\xe2\x80\x94 example.com/ledger "                                 \
        "66/Ciy7L3E69nCp6pulaTff1HV/Z24tgjEi0IaRjeBlCMKmYAJEactr/"             \
        "iH0QIU0hhJMKs"                                                        \
        "lvJb3nXQBG+4LC4CDF57wk=\n"

static struct tb_vkey pn, enoch, ledger;
static struct tb_skey *pn_sk, *enoch_sk, *ledger_sk;

static void unb64(const char *s, uint8_t out[32])
{
        size_t n = 0;

        if (tb_b64_decode(s, strlen(s), out, 32, &n) != TB_OK || n != 32)
                exit(2);
}

static enum tb_err open_str(const char *msg, const struct tb_vkey *known,
                            size_t nknown, size_t *text_len)
{
        size_t dummy;

        return tb_note_open((const uint8_t *)msg, strlen(msg), known, nknown,
                            text_len != NULL ? text_len : &dummy, NULL);
}

static void setup(void)
{
        uint8_t zero[32] = {0};

        if (tb_vkey_parse(PN_VKEY, strlen(PN_VKEY), &pn) != TB_OK ||
            tb_vkey_parse(ENOCH_VKEY, strlen(ENOCH_VKEY), &enoch) != TB_OK ||
            tb_vkey_parse(LEDGER_VKEY, strlen(LEDGER_VKEY), &ledger) != TB_OK ||
            tb_skey_parse(PN_SKEY, strlen(PN_SKEY), &pn_sk) != TB_OK ||
            tb_skey_from_seed("EnochRoot", 9, zero, &enoch_sk) != TB_OK ||
            tb_skey_from_seed("example.com/ledger", 18, zero, &ledger_sk) !=
                TB_OK) {
                fprintf(stderr, "setup failed\n");
                exit(2);
        }
}

static void test_go_note(void)
{
        uint8_t out[512];
        size_t len = 0, tlen = 0;
        bool verified[2] = {false, false};
        struct tb_vkey both[2];
        char two[1024];

        CHECK_ERR(open_str(PN_NOTE, &pn, 1, &tlen), TB_OK);
        CHECK(tlen == strlen(PN_TEXT));
        CHECK_ERR(tb_note_sign((const uint8_t *)PN_TEXT, strlen(PN_TEXT), pn_sk,
                               out, sizeof(out), &len),
                  TB_OK);
        CHECK(len == strlen(PN_NOTE) && memcmp(out, PN_NOTE, len) == 0);

        /* EnochRoot's signature of the same text. */
        CHECK_ERR(tb_note_sign((const uint8_t *)PN_TEXT, strlen(PN_TEXT),
                               enoch_sk, out, sizeof(out), &len),
                  TB_OK);
        CHECK(len == strlen(PN_TEXT) + 1 + strlen(ENOCH_SIG) &&
              memcmp(out + strlen(PN_TEXT) + 1, ENOCH_SIG, strlen(ENOCH_SIG)) ==
                  0);

        /* Both signatures; each key alone suffices; the other is unknown. */
        snprintf(two, sizeof(two), "%s%s", PN_NOTE, ENOCH_SIG);
        both[0] = pn;
        both[1] = enoch;
        CHECK_ERR(tb_note_open((const uint8_t *)two, strlen(two), both, 2,
                               &tlen, verified),
                  TB_OK);
        CHECK(verified[0] && verified[1] && tlen == strlen(PN_TEXT));
        CHECK_ERR(tb_note_open((const uint8_t *)two, strlen(two), &both[1], 1,
                               &tlen, verified),
                  TB_OK);
        CHECK(verified[0]);
        CHECK_ERR(open_str(two, &pn, 1, NULL), TB_OK);

        /* Nobody we know. */
        tlen = 0;
        CHECK_ERR(open_str(PN_NOTE, &enoch, 1, &tlen), TB_E_NOTE_UNVERIFIED);
        CHECK(tlen == strlen(PN_TEXT));
        CHECK_ERR(open_str(PN_NOTE, NULL, 0, NULL), TB_E_NOTE_UNVERIFIED);

        /* Output buffer exactly large enough, and one byte short. */
        CHECK_ERR(tb_note_sign((const uint8_t *)PN_TEXT, strlen(PN_TEXT), pn_sk,
                               out, strlen(PN_NOTE), &len),
                  TB_OK);
        CHECK_ERR(tb_note_sign((const uint8_t *)PN_TEXT, strlen(PN_TEXT), pn_sk,
                               out, strlen(PN_NOTE) - 1, &len),
                  TB_E_OVERFLOW);
}

static void test_c2sp_example(void)
{
        static const char vkey[] =
            "example.com/"
            "foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
        static const char note[] =
            "This is an example message.\n\n\xe2\x80\x94 example.com/foo "
            "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjO"
            "BH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        struct tb_vkey k;
        size_t tlen = 0;

        CHECK_ERR(tb_vkey_parse(vkey, strlen(vkey), &k), TB_OK);
        CHECK_ERR(open_str(note, &k, 1, &tlen), TB_OK);
        CHECK(tlen == strlen("This is an example message.\n"));
}

static void test_malformed(void)
{
        static const char *const bad[] = {
            PN_TEXT,
            PN_TEXT "\n",
            PN_TEXT "\n\xe2\x80\x94 PeterNeumann "
                    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFY"
                    "C2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            "\x01" PN_NOTE,
            "\xff" PN_NOTE,
            PN_TEXT "\n\xe2\x80\x94 Bad Name "
                    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFY"
                    "C2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            PN_NOTE "trailing line\n",
            PN_NOTE "- PeterNeumann AAAAAAAA\n",
            "If you think cryptography is the answer to your problem,\r\n"
            "then you don't know what your problem is.\n\n" PN_SIG,
            "If you think cryptography\tis the answer to your problem,\n"
            "then you don't know what your problem is.\n\n" PN_SIG,
            "",
            "\n",
            "\n\n",
            PN_SIG,
            /* overlong '/', surrogate, beyond U+10FFFF, truncated */
            "\xc0\xaf\n\n" PN_SIG,
            "\xed\xa0\x80\n\n" PN_SIG,
            "\xf4\x90\x80\x80\n\n" PN_SIG,
            "\xe2\x80\n\n" PN_SIG,
            PN_NOTE "\xe2\x80\x94 x AAAAAA==\n",   /* only 4 bytes */
            PN_NOTE "\xe2\x80\x94 x \n",           /* no base64 */
            PN_NOTE "\xe2\x80\x94 x\n",            /* no space */
            PN_NOTE "\xe2\x80\x94  AAAAAAA=\n",    /* empty name */
            PN_NOTE "\xe2\x80\x94 a+b AAAAAAA=\n", /* '+' in name */
            PN_NOTE "\xe2\x80\x94 a\xc2\xa0"
                    "b AAAAAAA=\n", /* NBSP */
            PN_NOTE "\xe2\x80\x94 a\xe3\x80\x80"
                    "b AAAAAAA=\n",               /* U+3000 */
            PN_NOTE "\xe2\x80\x94 x AAAAAAB=\n",  /* trailing bits */
            PN_NOTE "\xe2\x80\x94 x AAAAAAA\n",   /* no padding */
            PN_NOTE "\xe2\x80\x94 x AAAAAAA= \n", /* trailing space */
            PN_NOTE "\xe2\x80\x94x AAAAAAA=\n",   /* no space after dash */
            PN_NOTE "\n",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                enum tb_err err = open_str(bad[i], &pn, 1, NULL);
                if (err != TB_E_NOTE_FORMAT)
                        fprintf(stderr, "malformed %zu: got %d\n", i, (int)err);
                CHECK_ERR(err, TB_E_NOTE_FORMAT);
        }
        /* Embedded NUL. */
        {
                char m[sizeof(PN_NOTE)];
                memcpy(m, PN_NOTE, sizeof(m));
                m[5] = 0;
                CHECK_ERR(tb_note_open((const uint8_t *)m, sizeof(m) - 1, &pn,
                                       1, &(size_t){0}, NULL),
                          TB_E_NOTE_FORMAT);
        }
        /* Go accepts DEL, C1 controls and U+FFFD; so do we, on opening. */
        {
                static const char t[] = "a\x7f\xc2\x85\xef\xbf\xbd\n";
                uint8_t out[512], text[sizeof(t) + 8];
                size_t len = 0, tlen = 0;
                CHECK_ERR(tb_note_sign((const uint8_t *)t, strlen(t), pn_sk,
                                       out, sizeof(out), &len),
                          TB_E_NOTE_FORMAT);
                /* Sign "a\n" but open a note with the odd text: unverified. */
                snprintf((char *)text, sizeof(text), "%s\n", t);
                memcpy(out, text, strlen((char *)text));
                memcpy(out + strlen((char *)text), PN_SIG, strlen(PN_SIG));
                CHECK_ERR(tb_note_open(out,
                                       strlen((char *)text) + strlen(PN_SIG),
                                       &pn, 1, &tlen, NULL),
                          TB_E_BAD_SIGNATURE);
                CHECK_ERR(tb_note_open(out,
                                       strlen((char *)text) + strlen(PN_SIG),
                                       &enoch, 1, &tlen, NULL),
                          TB_E_NOTE_UNVERIFIED);
                CHECK(tlen == strlen(t));
        }
}

static void test_signature_rules(void)
{
        char m[16384];
        size_t tlen = 0;
        struct tb_vkey amb[2];
        bool verified[2];
        int n;

        /* Unknown signers (also C2SP names we would not issue) ignored. */
        snprintf(m, sizeof(m),
                 "%s\xe2\x80\x94 caf\xc3\xa9 AAAAAAA=\n"
                 "\xe2\x80\x94 PeterNeumann AAAAAAA=\n"
                 "\xe2\x80\x94 other "
                 "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
                 "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
                 PN_NOTE);
        CHECK_ERR(open_str(m, &pn, 1, &tlen), TB_OK);
        CHECK(tlen == strlen(PN_TEXT));
        CHECK_ERR(open_str(m, &enoch, 1, NULL), TB_E_NOTE_UNVERIFIED);

        /* A known key whose signature does not verify. */
        snprintf(m, sizeof(m), "%s", PN_NOTE);
        m[strlen(PN_TEXT) + 1 + strlen("\xe2\x80\x94 PeterNeumann ") + 10] ^=
            0x01; /* 'B' -> 'C': still canonical base64 */
        CHECK_ERR(open_str(m, &pn, 1, NULL), TB_E_BAD_SIGNATURE);
        /* Text changed. */
        snprintf(m, sizeof(m), "%s", PN_NOTE);
        m[0] = 'i';
        CHECK_ERR(open_str(m, &pn, 1, NULL), TB_E_BAD_SIGNATURE);
        /* Known name and id, wrong length (5 bytes: c74f20a3 00). */
        snprintf(m, sizeof(m), "%s\n\xe2\x80\x94 PeterNeumann x08gowA=\n",
                 PN_TEXT);
        CHECK_ERR(open_str(m, &pn, 1, NULL), TB_E_BAD_SIGNATURE);
        /* Same name, another id (c74f20a0): an unknown key, ignored. */
        snprintf(m, sizeof(m), "%s\xe2\x80\x94 PeterNeumann x08goAAA\n",
                 PN_NOTE);
        CHECK_ERR(open_str(m, &pn, 1, NULL), TB_OK);
        /* A repeated line of a known key after a good one is ignored. */
        snprintf(m, sizeof(m), "%s%s\xe2\x80\x94 EnochRoot rwz+eBzm\n", PN_NOTE,
                 ENOCH_SIG);
        amb[0] = pn;
        amb[1] = enoch;
        CHECK_ERR(tb_note_open((const uint8_t *)m, strlen(m), amb, 2, &tlen,
                               verified),
                  TB_OK); /* the repeated EnochRoot line is ignored (Go) */
        snprintf(m, sizeof(m), "%s\n\xe2\x80\x94 EnochRoot rwz+eBzm\n%s",
                 PN_TEXT, ENOCH_SIG);
        CHECK_ERR(tb_note_open((const uint8_t *)m, strlen(m), amb, 2, &tlen,
                               verified),
                  TB_E_BAD_SIGNATURE); /* first EnochRoot line is checked */
        /*
         * Regression (found by fuzz_note): a good signature followed by a
         * malformed line; verified[] must not report the good one.
         */
        snprintf(m, sizeof(m), "%s%sbroken\n", PN_NOTE, ENOCH_SIG);
        verified[0] = verified[1] = true;
        CHECK_ERR(tb_note_open((const uint8_t *)m, strlen(m), amb, 2, &tlen,
                               verified),
                  TB_E_NOTE_FORMAT);
        CHECK(!verified[0] && !verified[1]);
        /* Two known keys sharing a name and id: Go's "ambiguous key". */
        amb[0] = pn;
        amb[1] = pn;
        amb[1].pk[0] ^= 1;
        CHECK_ERR(tb_note_open((const uint8_t *)PN_NOTE, strlen(PN_NOTE), amb,
                               2, &tlen, NULL),
                  TB_E_INVALID_ARG);

        /* 100 signatures are read; 101 are too many. */
        n = snprintf(m, sizeof(m), "%s", PN_NOTE);
        for (int i = 1; i < 100; i++)
                n += snprintf(m + n, sizeof(m) - (size_t)n,
                              "\xe2\x80\x94 w%d AAAAAAA=\n", i);
        CHECK_ERR(open_str(m, &pn, 1, NULL), TB_OK);
        snprintf(m + n, sizeof(m) - (size_t)n, "\xe2\x80\x94 w AAAAAAA=\n");
        CHECK_ERR(open_str(m, &pn, 1, NULL), TB_E_NOTE_FORMAT);

        /* The split is at the last blank line: the text may hold some. */
        {
                static const char t[] = "a\n\nb\n\n\nc\n";
                uint8_t out[512];
                size_t len = 0;
                CHECK_ERR(tb_note_sign((const uint8_t *)t, strlen(t), pn_sk,
                                       out, sizeof(out), &len),
                          TB_OK);
                CHECK_ERR(tb_note_open(out, len, &pn, 1, &tlen, NULL), TB_OK);
                CHECK(tlen == strlen(t) && memcmp(out, t, tlen) == 0);
                /* A text ending in a blank line also round-trips. */
                CHECK_ERR(tb_note_sign((const uint8_t *)"x\n\n", 3, pn_sk, out,
                                       sizeof(out), &len),
                          TB_OK);
                CHECK_ERR(tb_note_open(out, len, &pn, 1, &tlen, NULL), TB_OK);
                CHECK(tlen == 3);
        }
        /* UTF-8 text signs and opens. */
        {
                static const char t[] =
                    "時間銀行 \xf0\x9f\x95\x90 caf\xc3\xa9\n";
                uint8_t out[512];
                size_t len = 0;
                CHECK_ERR(tb_note_sign((const uint8_t *)t, strlen(t), pn_sk,
                                       out, sizeof(out), &len),
                          TB_OK);
                CHECK_ERR(tb_note_open(out, len, &pn, 1, &tlen, NULL), TB_OK);
        }
        /* Texts we refuse to sign. */
        {
                static const char *const t[] = {
                    "",          "no newline", "tab\there\n",  "cr\r\n",
                    "nul\0x\n",  "del\x7f\n",  "c1\xc2\x80\n", "bad\xff\n",
                    "\xe2\x82\n"};
                static const size_t tl[] = {0, 10, 9, 4, 6, 5, 5, 5, 3};
                uint8_t out[512];
                size_t len = 0;
                for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                        CHECK_ERR(tb_note_sign((const uint8_t *)t[i], tl[i],
                                               pn_sk, out, sizeof(out), &len),
                                  TB_E_NOTE_FORMAT);
        }
}

static void check_cp(const char *note, const char *origin, uint64_t size,
                     const char *root_b64)
{
        struct tb_checkpoint cp, got;
        uint8_t out[TB_CHECKPOINT_MAX];
        size_t len = 0, tlen = 0;

        memset(&cp, 0, sizeof(cp));
        cp.origin_len = strlen(origin);
        memcpy(cp.origin, origin, cp.origin_len);
        cp.size = size;
        unb64(root_b64, cp.root);
        CHECK_ERR(tb_checkpoint_sign(&cp, ledger_sk, out, sizeof(out), &len),
                  TB_OK);
        CHECK(len == strlen(note) && memcmp(out, note, len) == 0);
        CHECK_ERR(tb_checkpoint_open((const uint8_t *)note, strlen(note),
                                     origin, &ledger, &got),
                  TB_OK);
        CHECK(got.size == size && got.origin_len == cp.origin_len &&
              strcmp(got.origin, origin) == 0);
        CHECK_MEM(got.root, cp.root, 32);
        CHECK_ERR(open_str(note, &ledger, 1, &tlen), TB_OK);
        CHECK_ERR(tb_checkpoint_parse((const uint8_t *)note, tlen, &got),
                  TB_OK);
        CHECK(got.size == size);
        /* Origin mismatch; the wrong key. */
        CHECK_ERR(tb_checkpoint_open((const uint8_t *)note, strlen(note),
                                     "example.com/other", &ledger, &got),
                  TB_E_ORIGIN);
        CHECK(got.size == 0);
        CHECK_ERR(tb_checkpoint_open((const uint8_t *)note, strlen(note),
                                     origin, &enoch, &got),
                  TB_E_NOTE_UNVERIFIED);
}

static void test_checkpoints(void)
{
        struct tb_checkpoint cp;
        uint8_t out[TB_CHECKPOINT_MAX], r[32];
        size_t len = 0;
        char m[1024];

        check_cp(CP8, "example.com/ledger", 8,
                 "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
        check_cp(CP0, "example.com/ledger", 0,
                 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        check_cp(CP1000, "example.com/ledger", 1000,
                 "L/M/udjxT4nKMGKJYzM2oWj/P0Uy6PdBoAGdy0wdYKE=");
        tb_merkle_empty_root(r);
        CHECK_ERR(tb_checkpoint_open((const uint8_t *)CP0, strlen(CP0),
                                     "example.com/ledger", &ledger, &cp),
                  TB_OK);
        CHECK_MEM(cp.root, r, 32);

        /* A witness cosignature (unknown key, other type) is ignored. */
        snprintf(m, sizeof(m),
                 "%s\xe2\x80\x94 witness.example "
                 "ZXhhbXBsZSBjb3NpZ25hdHVyZSBibG9i\n",
                 CP8);
        CHECK_ERR(tb_checkpoint_open((const uint8_t *)m, strlen(m),
                                     "example.com/ledger", &ledger, &cp),
                  TB_OK);
        CHECK(cp.size == 8);

        /* The key must be named after the origin. */
        memset(&cp, 0, sizeof(cp));
        memcpy(cp.origin, "example.com/other", 17);
        cp.origin_len = 17;
        CHECK_ERR(tb_checkpoint_sign(&cp, ledger_sk, out, sizeof(out), &len),
                  TB_E_ORIGIN);
        /* Format limits. */
        memcpy(cp.origin, "example.com/ledger", 18);
        cp.origin_len = 18;
        cp.size = TB_MERKLE_SIZE_MAX + 1;
        CHECK_ERR(tb_checkpoint_format(&cp, out, sizeof(out), &len),
                  TB_E_CHECKPOINT);
        cp.size = TB_MERKLE_SIZE_MAX;
        CHECK_ERR(tb_checkpoint_format(&cp, out, sizeof(out), &len), TB_OK);
        CHECK(len == 18 + 1 + 19 + 1 + 44 + 1);
        CHECK(memcmp(out, "example.com/ledger\n9223372036854775807\n", 39) ==
              0);
        CHECK_ERR(tb_checkpoint_format(&cp, out, len - 1, &len), TB_E_OVERFLOW);
        cp.origin_len = 0;
        CHECK_ERR(tb_checkpoint_format(&cp, out, sizeof(out), &len),
                  TB_E_CHECKPOINT);
        /* The largest checkpoint fits TB_CHECKPOINT_MAX exactly. */
        {
                struct tb_skey *k = NULL;
                uint8_t seed[32] = {1};
                memset(cp.origin, 'o', TB_NAME_MAX);
                cp.origin_len = TB_NAME_MAX;
                CHECK_ERR(tb_skey_from_seed(cp.origin, cp.origin_len, seed, &k),
                          TB_OK);
                if (k != NULL) {
                        CHECK_ERR(
                            tb_checkpoint_sign(&cp, k, out, sizeof(out), &len),
                            TB_OK);
                        CHECK(len == TB_CHECKPOINT_MAX);
                }
                tb_skey_free(k);
        }
}

static void test_checkpoint_parse(void)
{
#define ROOT "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
        static const struct {
                const char *text;
                enum tb_err err;
                uint64_t size;
        } v[] = {
            {"o\n8\n" ROOT, TB_OK, 8},
            {"o\n0\n" ROOT, TB_OK, 0},
            {"o\n9223372036854775807\n" ROOT, TB_OK, 9223372036854775807ull},
            {"o\n8\n" ROOT "ext\n", TB_OK, 8},
            {"o\n8\n" ROOT "ext one\nx\n", TB_OK, 8},
            {"o\n08\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n00\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n9223372036854775808\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n18446744073709551616\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n99999999999999999999999\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n+8\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n-0\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n 8\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n8 \n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n0x8\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n",
             TB_E_CHECKPOINT, 0}, /* 31 bytes */
            {"o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=AAAA\n",
             TB_E_CHECKPOINT, 0}, /* 35 bytes */
            {"o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",
             TB_E_CHECKPOINT, 0}, /* trailing bits */
            {"o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n",
             TB_E_CHECKPOINT, 0}, /* no padding */
            {"o\n8\n5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370ef"
             "f4604328\n",
             TB_E_CHECKPOINT, 0}, /* hex */
            {"\n8\n" ROOT, TB_E_CHECKPOINT, 0},
            {"a b\n8\n" ROOT, TB_E_CHECKPOINT, 0},
            {"a+b\n8\n" ROOT, TB_E_CHECKPOINT, 0},
            {"o\n8\n", TB_E_CHECKPOINT, 0},
            {"o\n8\n" ROOT "\n", TB_E_CHECKPOINT, 0},
            {"o\n8\n" ROOT "ext\n\n", TB_E_CHECKPOINT, 0},
            {"o\n8\n" ROOT "ext", TB_E_CHECKPOINT, 0},
            {"o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
             TB_E_CHECKPOINT, 0},
            {"o\n8", TB_E_CHECKPOINT, 0},
            {"o", TB_E_CHECKPOINT, 0},
            {"", TB_E_CHECKPOINT, 0},
        };
        struct tb_checkpoint cp;
        char big[512];

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                enum tb_err err = tb_checkpoint_parse(
                    (const uint8_t *)v[i].text, strlen(v[i].text), &cp);
                if (err != v[i].err)
                        fprintf(stderr, "checkpoint %zu: got %d\n", i,
                                (int)err);
                CHECK_ERR(err, v[i].err);
                CHECK(cp.size == v[i].size);
                CHECK(err != TB_OK ||
                      (cp.origin_len == 1 && strcmp(cp.origin, "o") == 0));
        }
        /* Origin length: 128 bytes parse, 129 do not. */
        memset(big, 'o', 129);
        memcpy(big + 128, "\n8\n" ROOT, sizeof("\n8\n" ROOT));
        CHECK_ERR(tb_checkpoint_parse((const uint8_t *)big, strlen(big), &cp),
                  TB_OK);
        CHECK(cp.origin_len == 128 && strlen(cp.origin) == 128);
        memset(big, 'o', 129);
        memcpy(big + 129, "\n8\n" ROOT, sizeof("\n8\n" ROOT));
        CHECK_ERR(tb_checkpoint_parse((const uint8_t *)big, strlen(big), &cp),
                  TB_E_CHECKPOINT);
#undef ROOT
}

/* ---- docs/keys.md and docs/transparency.md ------------------------- */

static uint8_t *doc_hex(const struct docvec *v, const char *key, size_t n)
{
        size_t len;
        uint8_t *p = docvec_hex(v, key, &len);

        if (len != n) {
                fprintf(stderr, "vector %s: %s: %zu bytes, want %zu\n", v->name,
                        key, len, n);
                exit(2);
        }
        return p;
}

static void doc_keys(void)
{
        static struct docvec_set set;

        docvec_load(&set, "docs/keys.md");
        for (int i = 0; i < set.n; i++) {
                struct docvec *v = docvec_get(&set, set.v[i].name);
                const char *type = docvec_str(v, "type");
                if (strcmp(type, "note") == 0) {
                        struct docvec *kv =
                            docvec_get(&set, docvec_str(v, "key"));
                        const char *sk = docvec_str(kv, "skey");
                        const char *vk = docvec_str(kv, "vkey");
                        struct tb_skey *k = NULL;
                        struct tb_vkey pub;
                        size_t tlen, nlen, len = 0, got = 0;
                        uint8_t *text = docvec_hex(v, "text", &tlen);
                        uint8_t *note = docvec_hex(v, "note", &nlen);
                        uint8_t *out = malloc(nlen + 1);
                        CHECK_ERR(tb_skey_parse(sk, strlen(sk), &k), TB_OK);
                        CHECK_ERR(tb_vkey_parse(vk, strlen(vk), &pub), TB_OK);
                        if (k != NULL && out != NULL) {
                                CHECK_ERR(tb_note_sign(text, tlen, k, out, nlen,
                                                       &len),
                                          TB_OK);
                                CHECK(len == nlen &&
                                      memcmp(out, note, nlen) == 0);
                        }
                        CHECK_ERR(tb_note_open(note, nlen, &pub, 1, &got, NULL),
                                  TB_OK);
                        CHECK(got == tlen);
                        tb_skey_free(k);
                        free(text);
                        free(note);
                        free(out);
                } else if (strcmp(type, "key") == 0) {
                        /* A note signed with the key opens with the vkey. */
                        const char *sk = docvec_str(v, "skey");
                        const char *vk = docvec_str(v, "vkey");
                        struct tb_skey *k = NULL;
                        struct tb_vkey pub;
                        uint8_t out[512];
                        size_t len = 0, tlen = 0;
                        CHECK_ERR(tb_skey_parse(sk, strlen(sk), &k), TB_OK);
                        CHECK_ERR(tb_vkey_parse(vk, strlen(vk), &pub), TB_OK);
                        if (k != NULL)
                                CHECK_ERR(tb_note_sign((const uint8_t *)"t\n",
                                                       2, k, out, sizeof(out),
                                                       &len),
                                          TB_OK);
                        CHECK_ERR(tb_note_open(out, len, &pub, 1, &tlen, NULL),
                                  TB_OK);
                        tb_skey_free(k);
                } else if (strcmp(type, "bad-vkey") == 0) {
                        /* Such a key cannot even be a known key. */
                        const char *s = docvec_str(v, "vkey");
                        struct tb_vkey pub;
                        CHECK(tb_vkey_parse(s, strlen(s), &pub) != TB_OK);
                } else if (strcmp(type, "bad-skey") == 0) {
                        const char *s = docvec_str(v, "skey");
                        struct tb_skey *k = NULL;
                        CHECK(tb_skey_parse(s, strlen(s), &k) != TB_OK);
                        CHECK(k == NULL);
                } else {
                        fprintf(stderr, "vector %s: unknown type %s\n", v->name,
                                type);
                        CHECK(0);
                }
        }
        /* No docvec_unchecked() here: test_key owns docs/keys.md and
         * requires every field of every vector to be read there. */
        docvec_free(&set);
}

/*
 * transparency.md: the checkpoints in full; the Merkle vectors (which
 * test_merkle checks against the generator) only through verification.
 */
static void doc_transparency(void)
{
        static struct docvec_set set;

        docvec_load(&set, "docs/transparency.md");
        for (int i = 0; i < set.n; i++) {
                struct docvec *v = docvec_get(&set, set.v[i].name);
                const char *type = docvec_str(v, "type");
                uint8_t h[32];
                if (strcmp(type, "checkpoint") == 0) {
                        const char *origin = docvec_str(v, "origin");
                        const char *root = docvec_str(v, "root");
                        size_t nlen, nb = 0, len = 0;
                        uint8_t *seed = doc_hex(v, "seed", 32);
                        uint8_t *note = docvec_hex(v, "note", &nlen);
                        uint8_t out[TB_CHECKPOINT_MAX];
                        struct tb_checkpoint cp;
                        struct tb_skey *k = NULL;
                        struct tb_vkey pub;
                        CHECK_ERR(tb_b64_decode(root, strlen(root), h,
                                                sizeof(h), &nb),
                                  TB_OK);
                        CHECK_ERR(
                            tb_skey_from_seed(origin, strlen(origin), seed, &k),
                            TB_OK);
                        if (k != NULL) {
                                tb_skey_public(k, &pub);
                                CHECK_ERR(tb_checkpoint_open(note, nlen, origin,
                                                             &pub, &cp),
                                          TB_OK);
                                CHECK(cp.size == strtoull(docvec_str(v, "size"),
                                                          NULL, 10));
                                CHECK_MEM(cp.root, h, 32);
                                CHECK_ERR(tb_checkpoint_sign(&cp, k, out,
                                                             sizeof(out), &len),
                                          TB_OK);
                                CHECK(len == nlen &&
                                      memcmp(out, note, nlen) == 0);
                        }
                        tb_skey_free(k);
                        free(seed);
                        free(note);
                } else if (strcmp(type, "leaf-hash") == 0) {
                        size_t len;
                        uint8_t *d = docvec_hex(v, "data", &len);
                        uint8_t *w = doc_hex(v, "hash", 32);
                        tb_merkle_leaf_hash(d, len, h);
                        CHECK_MEM(h, w, 32);
                        free(d);
                        free(w);
                } else if (strcmp(type, "node-hash") == 0) {
                        uint8_t *l = doc_hex(v, "left", 32);
                        uint8_t *r = doc_hex(v, "right", 32);
                        uint8_t *w = doc_hex(v, "hash", 32);
                        tb_merkle_node_hash(l, r, h);
                        CHECK_MEM(h, w, 32);
                        free(l);
                        free(r);
                        free(w);
                } else if (strcmp(type, "empty-root") == 0) {
                        uint8_t *w = doc_hex(v, "hash", 32);
                        tb_merkle_empty_root(h);
                        CHECK_MEM(h, w, 32);
                        free(w);
                } else if (strcmp(type, "inclusion") == 0) {
                        size_t plen = 0;
                        uint8_t *leaf = doc_hex(v, "leaf-hash", 32);
                        uint8_t *root = doc_hex(v, "root", 32);
                        uint8_t *p = strcmp(docvec_str(v, "proof"), "-") == 0
                                         ? NULL
                                         : docvec_hex(v, "proof", &plen);
                        CHECK_ERR(
                            tb_merkle_verify_inclusion(
                                strtoull(docvec_str(v, "index"), NULL, 10),
                                strtoull(docvec_str(v, "size"), NULL, 10), leaf,
                                (const uint8_t(*)[32])p, plen / 32, root),
                            TB_OK);
                        free(leaf);
                        free(root);
                        free(p);
                } else if (strcmp(type, "consistency") == 0) {
                        size_t plen = 0;
                        uint8_t *ro = doc_hex(v, "old-root", 32);
                        uint8_t *rn = doc_hex(v, "new-root", 32);
                        uint8_t *p = strcmp(docvec_str(v, "proof"), "-") == 0
                                         ? NULL
                                         : docvec_hex(v, "proof", &plen);
                        CHECK_ERR(
                            tb_merkle_verify_consistency(
                                strtoull(docvec_str(v, "old-size"), NULL, 10),
                                ro,
                                strtoull(docvec_str(v, "new-size"), NULL, 10),
                                rn, (const uint8_t(*)[32])p, plen / 32),
                            TB_OK);
                        free(ro);
                        free(rn);
                        free(p);
                } else if (strcmp(type, "tree-root") == 0 ||
                           strcmp(type, "append") == 0) {
                        /* Need the leaves: test_merkle's business; here
                           only the shape of the values. */
                        size_t len = 0;
                        uint8_t *w = docvec_hex(
                            v, strcmp(type, "append") == 0 ? "hashes" : "root",
                            &len);
                        CHECK(len > 0 && len % 32 == 0);
                        free(w);
                } else {
                        fprintf(stderr, "vector %s: unknown type %s\n", v->name,
                                type);
                        CHECK(0);
                }
        }
        /* No docvec_unchecked() here: test_merkle owns
         * docs/transparency.md and requires every field of every vector to
         * be read there. */
        docvec_free(&set);
}

int main(void)
{
        if (sodium_init() < 0)
                return 2;
        setup();
        test_go_note();
        test_c2sp_example();
        test_malformed();
        test_signature_rules();
        test_checkpoints();
        test_checkpoint_parse();
        doc_keys();
        doc_transparency();
        tb_skey_free(pn_sk);
        tb_skey_free(enoch_sk);
        tb_skey_free(ledger_sk);
        return check_done("test_note");
}
