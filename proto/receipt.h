/*
 * proto/receipt.h - a receipt: the proof a volunteer keeps that one entry
 * is in the ledger, verifiable offline with the log's public key alone.
 *
 * A receipt is a C2SP tlog-proof (c2sp.org/tlog-proof@v1) whose optional
 * `extra` line carries the entry's log record (docs/receipts.md gives it
 * byte by byte, with test vectors):
 *
 *   c2sp.org/tlog-proof@v1\n
 *   extra <base64 of the record: seq, received, signed body, signature>\n
 *   index <seq, decimal, no leading zero>\n
 *   <base64 inclusion hash>\n          (0..63 lines, leaf's sibling first)
 *   \n
 *   <the signed checkpoint, verbatim>
 *
 * tlog-proof says `extra` is not authenticated; ours is, indirectly: the
 * leaf hash of the record is what the inclusion proof links to the signed
 * root, so a changed record fails tb_receipt_verify.
 */
#ifndef TB_RECEIPT_H
#define TB_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "b64.h"
#include "entry.h"
#include "error.h"
#include "key.h"
#include "merkle.h"
#include "note.h"

#define TB_RECEIPT_HEADER "c2sp.org/tlog-proof@v1\n"

/* Inclusion hashes a receipt may carry: a tree of at most 2^63 leaves. */
#define TB_RECEIPT_HASHES_MAX 63

/* The longest receipt we write or read: every line at its longest. */
#define TB_RECEIPT_MAX                                                         \
        (sizeof(TB_RECEIPT_HEADER) - 1 + 6 + TB_B64_LEN(TB_RECORD_MAX) + 1 +   \
         6 + 19 + 1 + TB_RECEIPT_HASHES_MAX * (TB_B64_LEN(TB_HASH_SIZE) + 1) + \
         1 + TB_CHECKPOINT_MAX)

/* A parsed receipt; checkpoint borrows from the parsed text. */
struct tb_receipt {
        uint8_t record[TB_RECORD_MAX];
        size_t record_len;
        uint64_t index;
        uint8_t hashes[TB_RECEIPT_HASHES_MAX][TB_HASH_SIZE];
        size_t count;
        const uint8_t *checkpoint; /* the signed note, verbatim */
        size_t checkpoint_len;
};

/*
 * Write the receipt of the record record[0..record_len) at index, with
 * its inclusion proof hashes[0..count) and the signed checkpoint
 * note[0..note_len) the proof leads to, into out[0..cap); *out_len gets
 * its length.  Nothing is verified here (tb_receipt_verify does).
 *
 * Errors: TB_E_INVALID_ARG (empty record or note, record above
 *         TB_RECORD_MAX, count above TB_RECEIPT_HASHES_MAX, index above
 *         TB_SEQ_MAX), TB_E_OVERFLOW.
 */
TB_WUR enum tb_err tb_receipt_format(const uint8_t *record, size_t record_len,
                                     uint64_t index,
                                     const uint8_t (*hashes)[TB_HASH_SIZE],
                                     size_t count, const uint8_t *note,
                                     size_t note_len, uint8_t *out, size_t cap,
                                     size_t *out_len);

/*
 * Parse text[0..len) into *r, strictly: at most TB_RECEIPT_MAX bytes
 * (so whatever parses formats back into that room), the header line, the
 * extra line
 * (required: a timebank receipt carries its record), the index line, the
 * hash lines (canonical base64 of 32 bytes each), one empty line, and a
 * non-empty checkpoint that runs to the end of the text.  The checkpoint
 * is not parsed here.
 *
 * Errors: TB_E_RECEIPT.
 */
TB_WUR enum tb_err tb_receipt_parse(const uint8_t *text, size_t len,
                                    struct tb_receipt *r);

/*
 * Verify a parsed receipt with the log's verifier key v: the checkpoint
 * is signed by v for the origin v->name, the record decodes and its seq
 * is the receipt's index, and the inclusion proof links the record's
 * leaf hash at that index to the checkpoint's root.  *cp gets the
 * checkpoint, *rec the record (borrowing from r).
 *
 * Errors: those of tb_checkpoint_open (signature, origin), TB_E_RECEIPT
 *         (the record does not decode, or its seq is not the index),
 *         those of tb_merkle_verify_inclusion (TB_E_PROOF,
 *         TB_E_PROOF_RANGE).
 */
TB_WUR enum tb_err tb_receipt_verify(const struct tb_receipt *r,
                                     const struct tb_vkey *v,
                                     struct tb_checkpoint *cp,
                                     struct tb_record *rec);

#endif
