/*
 * tests/fuzz/fuzz_note.c - signed notes and checkpoints.
 *
 * The input is tried as a signed note (known key: the example.com/ledger
 * log key of docs/transparency.md), as a checkpoint text, as a signed
 * checkpoint, and as a text to sign.  Properties:
 *   - tb_note_open's split is where the format says: the text ends in
 *     "\n" and is followed by "\n"; TB_OK means the known key verified;
 *   - checkpoint parsing is canonical: tb_checkpoint_format of what parsed
 *     is a prefix of the input, and what follows are non-empty lines;
 *   - tb_checkpoint_open succeeds exactly when note_open, parse and the
 *     origin check do;
 *   - whatever tb_note_sign accepts, tb_note_open opens, with the same text.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "example.com/ledger"

static struct tb_skey *log_sk;
static struct tb_vkey log_vk;

static void setup(void)
{
        static const uint8_t seed[32];

        if (log_sk != NULL)
                return;
        if (sodium_init() < 0 ||
            tb_skey_from_seed(ORIGIN, strlen(ORIGIN), seed, &log_sk) != TB_OK)
                abort();
        tb_skey_public(log_sk, &log_vk);
}

/* cp parsed from text[0..len): check the canonical-prefix property. */
static void check_parsed(const struct tb_checkpoint *cp, const uint8_t *text,
                         size_t len)
{
        uint8_t body[TB_CHECKPOINT_BODY_MAX];
        size_t blen = 0;

        if (tb_checkpoint_format(cp, body, sizeof(body), &blen) != TB_OK)
                abort();
        if (blen > len || memcmp(body, text, blen) != 0)
                abort();
        for (size_t i = blen; i < len; i++)
                if (text[i] == '\n' && (i == blen || text[i - 1] == '\n'))
                        abort();
        if (len == 0 || text[len - 1] != '\n')
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct tb_checkpoint cp, cp2;
        size_t tlen = (size_t)-1;
        bool verified = false;
        enum tb_err err, perr = TB_E_CHECKPOINT, cerr;

        setup();
        memset(&cp, 0, sizeof(cp));

        err = tb_note_open(data, size, &log_vk, 1, &tlen, &verified);
        if (err == TB_OK || err == TB_E_NOTE_UNVERIFIED) {
                if (tlen == 0 || tlen >= size || data[tlen - 1] != '\n' ||
                    data[tlen] != '\n' || verified != (err == TB_OK))
                        abort();
                perr = tb_checkpoint_parse(data, tlen, &cp);
                if (perr == TB_OK)
                        check_parsed(&cp, data, tlen);
        } else if (verified) {
                abort();
        }
        cerr = tb_checkpoint_open(data, size, ORIGIN, &log_vk, &cp2);
        if ((cerr == TB_OK) !=
            (err == TB_OK && perr == TB_OK && strcmp(cp.origin, ORIGIN) == 0))
                abort();
        if (cerr == TB_OK &&
            (cp2.size != cp.size || memcmp(cp2.root, cp.root, 32) != 0))
                abort();

        if (tb_checkpoint_parse(data, size, &cp) == TB_OK)
                check_parsed(&cp, data, size);

        if (size <= 4096) {
                static uint8_t out[4096 + 1 + TB_NOTE_SIG_LINE_MAX];
                size_t olen = 0, t2 = 0;
                if (tb_note_sign(data, size, log_sk, out, sizeof(out), &olen) ==
                    TB_OK) {
                        if (tb_note_open(out, olen, &log_vk, 1, &t2, NULL) !=
                                TB_OK ||
                            t2 != size || memcmp(out, data, size) != 0)
                                abort();
                }
        }
        return 0;
}
