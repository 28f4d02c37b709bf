/*
 * tests/fuzz/fuzz_link.c - the log link (proto/link.c, docs/log-link.md).
 *
 * Properties: whatever tb_link_parse accepts formats back to exactly the
 * input (one spelling per link); the same bytes taken as a signed note
 * never open with a key that signed nothing (the fuzzer cannot forge
 * Ed25519); verifying either side of a parsed link never crashes.  The
 * seeds are the link-ok vector's text and signed link (docs/log-link.md).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct tb_link l, o;
        static uint8_t out[TB_LINK_TEXT_MAX];
        static struct tb_vkey other;
        static unsigned long verified;
        static int ready;
        size_t len = 0;

        if (!ready) {
                uint8_t pk[TB_PUBKEY_SIZE];
                memset(pk, 0x42, sizeof(pk));
                if (sodium_init() < 0 || tb_vkey_from_pk("district-7-admin", 16,
                                                         pk, &other) != TB_OK)
                        abort();
                ready = 1;
        }
        if (tb_link_open(data, size, &other, &o) == TB_OK)
                abort();
        if (tb_link_parse(data, size, &l) != TB_OK)
                return 0;
        if (tb_link_format(&l, out, sizeof(out), &len) != TB_OK ||
            len != size || memcmp(out, data, size) != 0)
                abort();
        /* the seeds' sides verify; a mutated one runs the same code */
        if (tb_link_verify_side(&l.old_log) == TB_OK &&
            tb_link_verify_side(&l.new_log) == TB_OK)
                verified++;
        return 0;
}
