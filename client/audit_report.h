/*
 * client/audit_report.h - what the community office reads: the audit's
 * figures as one self-contained HTML page (`timebank audit --html`) and
 * the verified entries as RFC 4180 CSV (`timebank export --csv`).
 *
 * Everything here comes from the auditor's own replay (client/cli_audit.c
 * feeds it each record after client/audit_rules.c accepted it), never
 * from the daemon's word.  docs/report.md specifies both outputs.
 */
#ifndef TB_AUDIT_REPORT_H
#define TB_AUDIT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "audit_rules.h"
#include "entry.h"
#include "note.h"

#define AUDIT_REPORT_TOP 10 /* accounts listed by hours */

struct audit_report;

/*
 * A report of the log whose genesis the key called log_name signed (the
 * "terminal" of the genesis entry).  csv: where to write one row per
 * record (the header at once), or NULL.  NULL when out of memory.
 */
struct audit_report *audit_report_new(const char *log_name, FILE *csv);

void audit_report_free(struct audit_report *r);

/*
 * The record rec, just accepted by the replay, whose totals went from
 * before to after.  undone: for a reversal, the record it undoes
 * (decoded), else NULL.  Returns 0, or -1 when out of memory or when
 * writing the CSV failed (errno tells).
 */
int audit_report_add(struct audit_report *r, const struct tb_record *rec,
                     const struct tb_record *undone,
                     const struct audit_totals *before,
                     const struct audit_totals *after);

/* The verdict and the checkpoint the page states. */
struct audit_report_verdict {
        const struct tb_checkpoint *cp;
        int ok;
        const char *problem; /* "" when ok */
        int64_t generated;   /* unix seconds */
};

/*
 * Write the page: v, the figures of the records added, and the accounts
 * with most hours from rules (may be NULL).  Returns 0, or -1 when a
 * write failed (errno).
 */
int audit_report_html(const struct audit_report *r,
                      const struct audit_rules *rules,
                      const struct audit_report_verdict *v, FILE *f);

/*
 * One CSV cell of s[0..n) into f, as docs/report.md says: quoted when it
 * holds a comma, quote, CR or LF (quotes doubled); text that starts with
 * = + - @ or ' gets a leading ' (formula) when formula is set.  Returns
 * 0 or -1 (errno).
 */
int audit_report_csv_cell(FILE *f, const char *s, size_t n, int formula);

#endif
