/*
 * client/audit_rules.h - the auditor's own replay of the ledger rules.
 *
 * Written from docs/ledger-rules.md, not from the daemon: it shares only
 * proto/ with timebankd (invariant 8), so a bug in the daemon's rules is
 * not also a blind spot of the audit.  The state is all in memory: the
 * key chain, the policy, every account with its service intervals and
 * per-UTC-day minutes, every (signer, request id), and per entry what a
 * reversal needs.
 *
 * Records are applied in log order.  The caller verifies signatures
 * (on all cores: client/cli_audit.c) and decodes the record; this module
 * decides everything that depends on the log's state at that position.
 * Like `timebankd check`, it does not re-decide the admission time window
 * of a service (START_IN_FUTURE, START_TOO_OLD): those depend on the
 * daemon's configured clock skew and maximum age at the time, which the
 * log does not record.
 */
#ifndef TB_AUDIT_RULES_H
#define TB_AUDIT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"

#define AUDIT_RULES_ERR_MAX 256

struct audit_rules;

/* One account as the replay leaves it (the fields of a BALANCE answer). */
struct audit_account {
        char account[TB_ACCOUNT_ID_MAX + 1];
        uint64_t balance, earned, redeemed;
        uint64_t transferred_in, transferred_out;
        uint64_t minutes; /* of service, net of reversals */
        uint64_t entries; /* entries touching it, reversals included */
        uint64_t opened_seq, last_seq;
};

/* The log's totals, net of reversals. */
struct audit_totals {
        uint64_t entries, accounts, keys_active, keys_revoked;
        uint64_t minutes, earned, redeemed, transferred, reversed;
};

/*
 * A replay of the log with this origin whose genesis the log key log_pk
 * signed.  NULL when out of memory.
 */
struct audit_rules *audit_rules_new(const char *origin,
                                    const uint8_t log_pk[TB_PUBKEY_SIZE]);

void audit_rules_free(struct audit_rules *r);

/*
 * Apply the next record (its signature already verified by the caller).
 * Returns 0, or -1 with err (AUDIT_RULES_ERR_MAX bytes) holding the
 * status the daemon should have answered and why, for example
 * "INSUFFICIENT_POINTS: alice has 40 points, the redeem takes 100".
 * After -1 the state is undefined: stop.
 */
int audit_rules_apply(struct audit_rules *r, const struct tb_record *rec,
                      char *err);

void audit_rules_totals(const struct audit_rules *r, struct audit_totals *t);

/* The accounts, in the order they were opened: count, then each. */
size_t audit_rules_count(const struct audit_rules *r);
const struct audit_account *audit_rules_account(const struct audit_rules *r,
                                                size_t i);

#endif
