/*
 * tests/fuzz/fuzz_receipt.c - receipts (C2SP tlog-proofs carrying their
 * record, proto/receipt.c).
 *
 * Properties: whatever parses formats back to exactly the input (one
 * spelling per receipt); verifying a parsed receipt with a fixed key
 * never crashes and fails unless that key signed its checkpoint (it
 * never does here: the corpus is signed by example.com/ledger's zero
 * seed, and the fuzzer cannot forge Ed25519).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct tb_receipt r;
        static uint8_t out[TB_RECEIPT_MAX];
        static struct tb_vkey other;
        static int ready;
        struct tb_checkpoint cp;
        struct tb_record rec;
        size_t len = 0;

        if (!ready) {
                uint8_t pk[TB_PUBKEY_SIZE];
                memset(pk, 0x42, sizeof(pk));
                if (sodium_init() < 0 ||
                    tb_vkey_from_pk("example.com/ledger", 18, pk, &other) !=
                        TB_OK)
                        abort();
                ready = 1;
        }
        if (tb_receipt_parse(data, size, &r) != TB_OK)
                return 0;
        if (tb_receipt_format(r.record, r.record_len, r.index,
                              (const uint8_t(*)[TB_HASH_SIZE])r.hashes, r.count,
                              r.checkpoint, r.checkpoint_len, out, sizeof(out),
                              &len) != TB_OK ||
            len != size || memcmp(out, data, size) != 0)
                abort();
        if (tb_receipt_verify(&r, &other, &cp, &rec) == TB_OK)
                abort();
        return 0;
}
