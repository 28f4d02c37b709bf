/*
 * client/audit_report.c - the audit's figures as an HTML page and the
 * verified entries as CSV (docs/report.md).  Fed by client/cli_audit.c
 * with each record the replay accepted; keeps per key, month and activity
 * the minutes served, net of reversals.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_map.h"
#include "audit_report.h"
#include "b64.h"

#define REPORT_BAR_X       180 /* where bars start, labels end before */
#define REPORT_BAR_W       360 /* the longest bar */
#define REPORT_ROW_H       20
#define REPORT_LABEL_MAX   26  /* bytes of a label before it is cut */
#define REPORT_MONTHS_SPAN 120 /* months shown with the empty ones */

struct report_key {
        uint8_t pk[TB_PUBKEY_SIZE];
        char name[TB_NAME_MAX + 1];
        uint8_t roles;
        int revoked;
        uint64_t enrolled_seq, revoked_seq;
        uint64_t minutes;           /* served, recorded by this key */
        char note[TB_NOTE_MAX + 1]; /* the revoke's */
};

struct audit_report {
        char log_name[TB_NAME_MAX + 1];
        FILE *csv;
        struct audit_map keys; /* public key -> index into key */
        struct report_key *key;
        size_t capkey;
        struct audit_map months; /* u64 year * 12 + month - 1 -> minutes */
        struct audit_map acts;   /* activity code, NUL-padded -> minutes */
        uint64_t entries;
};

struct audit_report *audit_report_new(const char *log_name, FILE *csv)
{
        static const char header[] =
            "seq,time,kind,accounts,minutes,points,activity_or_item,terminal,"
            "note,reverses\r\n";
        struct audit_report *r = calloc(1, sizeof(*r));

        if (r == NULL)
                return NULL;
        snprintf(r->log_name, sizeof(r->log_name), "%s", log_name);
        audit_map_init(&r->keys, TB_PUBKEY_SIZE);
        audit_map_init(&r->months, sizeof(uint64_t));
        audit_map_init(&r->acts, TB_CODE_MAX + 1);
        r->csv = csv;
        if (csv != NULL && fputs(header, csv) == EOF) {
                audit_report_free(r);
                return NULL;
        }
        return r;
}

void audit_report_free(struct audit_report *r)
{
        if (r == NULL)
                return;
        audit_map_free(&r->keys);
        audit_map_free(&r->months);
        audit_map_free(&r->acts);
        free(r->key);
        free(r);
}

/* The key pk, added (unnamed) if new.  NULL when out of memory. */
static struct report_key *report_key(struct audit_report *r,
                                     const uint8_t pk[TB_PUBKEY_SIZE])
{
        int added;
        uint64_t *ix = audit_map_put(&r->keys, pk, r->keys.n, &added);

        if (ix == NULL)
                return NULL;
        if (added) {
                if (r->keys.n > r->capkey) {
                        size_t cap = r->capkey ? r->capkey * 2 : 16;
                        struct report_key *k =
                            realloc(r->key, cap * sizeof(*k));
                        if (k == NULL)
                                return NULL;
                        r->key = k;
                        r->capkey = cap;
                }
                memset(&r->key[*ix], 0, sizeof(r->key[*ix]));
                memcpy(r->key[*ix].pk, pk, TB_PUBKEY_SIZE);
        }
        return &r->key[*ix];
}

/* Add (sign 1) or take back (-1) a service's minutes in month, activity
 * and station. */
static int report_service(struct audit_report *r, const struct tb_entry *e,
                          int sign)
{
        const struct tb_service *s = &e->u.service;
        char act[TB_CODE_MAX + 1] = {0};
        struct report_key *k = report_key(r, e->signer);
        time_t t = (time_t)s->start;
        uint64_t month, *m, *a;
        struct tm tm;

        if (k == NULL || gmtime_r(&t, &tm) == NULL)
                return -1;
        month = (uint64_t)(tm.tm_year + 1900) * 12 + (uint64_t)tm.tm_mon;
        memcpy(act, s->activity, strlen(s->activity));
        if ((m = audit_map_put(&r->months, &month, 0, NULL)) == NULL ||
            (a = audit_map_put(&r->acts, act, 0, NULL)) == NULL)
                return -1;
        if (sign > 0) {
                *m += s->minutes;
                *a += s->minutes;
                k->minutes += s->minutes;
        } else { /* the replay only undoes what it counted */
                *m -= *m < s->minutes ? *m : s->minutes;
                *a -= *a < s->minutes ? *a : s->minutes;
                k->minutes -= k->minutes < s->minutes ? k->minutes : s->minutes;
        }
        return 0;
}

int audit_report_csv_cell(FILE *f, const char *s, size_t n, int formula)
{
        int quote = 0;

        for (size_t i = 0; i < n; i++)
                if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
                        quote = 1;
        if (quote && fputc('"', f) == EOF)
                return -1;
        if (formula && n > 0 && strchr("=+-@'", s[0]) != NULL &&
            fputc('\'', f) == EOF)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '"' && fputc('"', f) == EOF)
                        return -1;
                if (fputc((unsigned char)s[i], f) == EOF)
                        return -1;
        }
        if (quote && fputc('"', f) == EOF)
                return -1;
        return 0;
}

/* A text cell from the log, then the separator. */
static int csv_text(FILE *f, const char *s)
{
        if (audit_report_csv_cell(f, s, strlen(s), 1) != 0 ||
            fputc(',', f) == EOF)
                return -1;
        return 0;
}

/* The accounts an entry names: "acct" or "from to". */
static void report_accounts(const struct tb_entry *e, char *out, size_t cap)
{
        switch (e->kind) {
        case TB_KIND_REGISTER:
                snprintf(out, cap, "%s", e->u.reg.account);
                break;
        case TB_KIND_SERVICE:
                snprintf(out, cap, "%s", e->u.service.account);
                break;
        case TB_KIND_REDEEM:
                snprintf(out, cap, "%s", e->u.redeem.account);
                break;
        case TB_KIND_TRANSFER:
                snprintf(out, cap, "%s %s", e->u.transfer.from,
                         e->u.transfer.to);
                break;
        default:
                out[0] = 0;
        }
}

/* The activity or item an entry names, or the key an enroll or revoke
 * is about. */
static const char *report_subject(struct audit_report *r,
                                  const struct tb_entry *e)
{
        const struct report_key *k;
        uint64_t *ix;

        switch (e->kind) {
        case TB_KIND_SERVICE:
                return e->u.service.activity;
        case TB_KIND_REDEEM:
                return e->u.redeem.item;
        case TB_KIND_POLICY:
                return e->u.policy.activity;
        case TB_KIND_ENROLL:
                return e->u.enroll.name;
        case TB_KIND_REVOKE:
                ix = audit_map_get(&r->keys, e->u.revoke.key);
                k = ix != NULL ? &r->key[*ix] : NULL;
                return k != NULL ? k->name : "";
        default:
                return "";
        }
}

static const char *report_note(const struct tb_entry *e)
{
        switch (e->kind) {
        case TB_KIND_REVOKE:
                return e->u.revoke.note;
        case TB_KIND_SERVICE:
                return e->u.service.note;
        case TB_KIND_REDEEM:
                return e->u.redeem.note;
        case TB_KIND_TRANSFER:
                return e->u.transfer.note;
        case TB_KIND_REVERSE:
                return e->u.reverse.note;
        default:
                return "";
        }
}

static int report_csv_row(struct audit_report *r, const struct tb_record *rec,
                          const struct tb_record *undone,
                          const struct audit_totals *b,
                          const struct audit_totals *a)
{
        const struct tb_entry *e = &rec->entry, *subj = e;
        char accounts[2 * TB_ACCOUNT_ID_MAX + 2], when[32], num[48];
        const struct report_key *k;
        time_t t = (time_t)rec->received;
        uint64_t *ix;
        struct tm tm;
        FILE *f = r->csv;
        int moves = e->kind == TB_KIND_SERVICE || e->kind == TB_KIND_REDEEM ||
                    e->kind == TB_KIND_TRANSFER || e->kind == TB_KIND_REVERSE;

        if (e->kind == TB_KIND_REVERSE && undone != NULL)
                subj = &undone->entry;
        if (gmtime_r(&t, &tm) == NULL ||
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -1;
        report_accounts(subj, accounts, sizeof(accounts));
        if (fprintf(f, "%" PRIu64 ",%s,%s,", rec->seq, when,
                    tb_kind_name(e->kind)) < 0 ||
            csv_text(f, accounts) != 0)
                return -1;
        /* minutes and points: what the entry changed in the replay's
         * totals, so a reversal's are negative */
        num[0] = 0;
        if (e->kind == TB_KIND_SERVICE ||
            (e->kind == TB_KIND_REVERSE && subj->kind == TB_KIND_SERVICE))
                snprintf(num, sizeof(num), "%" PRId64,
                         (int64_t)(a->minutes - b->minutes));
        if (fprintf(f, "%s,", num) < 0)
                return -1;
        num[0] = 0;
        if (moves)
                snprintf(num, sizeof(num), "%" PRId64,
                         (int64_t)((a->earned - b->earned) +
                                   (a->redeemed - b->redeemed) +
                                   (a->transferred - b->transferred)));
        if (fprintf(f, "%s,", num) < 0 || csv_text(f, report_subject(r, subj)))
                return -1;
        ix = audit_map_get(&r->keys, e->signer);
        k = ix != NULL ? &r->key[*ix] : NULL;
        if (csv_text(f, e->kind == TB_KIND_GENESIS ? r->log_name
                        : k != NULL                ? k->name
                                                   : "") != 0 ||
            audit_report_csv_cell(f, report_note(e), strlen(report_note(e)),
                                  1) != 0)
                return -1;
        if (e->kind == TB_KIND_REVERSE &&
            fprintf(f, ",%" PRIu64 "\r\n", e->u.reverse.seq) < 0)
                return -1;
        if (e->kind != TB_KIND_REVERSE && fputs(",\r\n", f) == EOF)
                return -1;
        return 0;
}

int audit_report_add(struct audit_report *r, const struct tb_record *rec,
                     const struct tb_record *undone,
                     const struct audit_totals *before,
                     const struct audit_totals *after)
{
        const struct tb_entry *e = &rec->entry;
        struct report_key *k;

        r->entries++;
        /* the CSV names the keys as they were at the entry: a revoke's
         * row still names the key it revoked, before the state changes */
        if (r->csv != NULL && report_csv_row(r, rec, undone, before, after))
                return -1;
        switch (e->kind) {
        case TB_KIND_GENESIS:
                if ((k = report_key(r, e->u.genesis.admin_key)) == NULL)
                        return -1;
                snprintf(k->name, sizeof(k->name), "%s",
                         e->u.genesis.admin_name);
                k->roles = TB_ROLE_ADMIN;
                k->enrolled_seq = rec->seq;
                break;
        case TB_KIND_ENROLL:
                if ((k = report_key(r, e->u.enroll.key)) == NULL)
                        return -1;
                snprintf(k->name, sizeof(k->name), "%s", e->u.enroll.name);
                k->roles = e->u.enroll.roles;
                k->revoked = 0;
                k->note[0] = 0;
                k->enrolled_seq = rec->seq;
                break;
        case TB_KIND_REVOKE:
                if ((k = report_key(r, e->u.revoke.key)) == NULL)
                        return -1;
                k->revoked = 1;
                k->revoked_seq = rec->seq;
                snprintf(k->note, sizeof(k->note), "%s", e->u.revoke.note);
                break;
        case TB_KIND_SERVICE:
                return report_service(r, e, 1);
        case TB_KIND_REVERSE:
                if (undone != NULL && undone->entry.kind == TB_KIND_SERVICE)
                        return report_service(r, &undone->entry, -1);
                break;
        default:
                break;
        }
        return 0;
}

/* ---- the page ----------------------------------------------------------- */

/* s as HTML text (also safe inside a quoted attribute). */
static int html_esc(FILE *f, const char *s)
{
        for (; *s != 0; s++) {
                const char *rep = *s == '&'    ? "&amp;"
                                  : *s == '<'  ? "&lt;"
                                  : *s == '>'  ? "&gt;"
                                  : *s == '"'  ? "&quot;"
                                  : *s == '\'' ? "&#39;"
                                               : NULL;
                if (rep != NULL ? fputs(rep, f) == EOF : fputc(*s, f) == EOF)
                        return -1;
        }
        return 0;
}

/* s cut to REPORT_LABEL_MAX bytes at a UTF-8 boundary, with an ellipsis. */
static void html_label(const char *s, char *out, size_t cap)
{
        size_t n = strlen(s);

        if (n <= REPORT_LABEL_MAX) {
                snprintf(out, cap, "%s", s);
                return;
        }
        n = REPORT_LABEL_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--;
        snprintf(out, cap, "%.*s\xe2\x80\xa6", (int)n, s);
}

/* "12.5 h" for minutes, or the number. */
static void html_value(uint64_t v, int hours, char *out, size_t cap)
{
        if (hours) {
                uint64_t tenths = (v * 10 + 30) / 60;
                snprintf(out, cap, "%" PRIu64 ".%" PRIu64 " h", tenths / 10,
                         tenths % 10);
        } else
                snprintf(out, cap, "%" PRIu64, v);
}

/* A horizontal bar chart: one row per label, inline SVG. */
static int html_bars(FILE *f, const char *what, size_t n,
                     const char *const *label, const uint64_t *val, int hours)
{
        uint64_t max = 0;
        unsigned h = (unsigned)n * REPORT_ROW_H + 4;
        char lab[REPORT_LABEL_MAX + 8], num[48];

        if (n == 0)
                return fprintf(f, "<p class=\"none\">None in this log.</p>\n") <
                               0
                           ? -1
                           : 0;
        for (size_t i = 0; i < n; i++)
                max = val[i] > max ? val[i] : max;
        if (fprintf(f,
                    "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                    "width=\"640\" height=\"%u\" viewBox=\"0 0 640 %u\" "
                    "role=\"img\" aria-label=\"%s\">\n",
                    h, h, what) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                unsigned y = (unsigned)i * REPORT_ROW_H + 2;
                uint64_t w = max ? val[i] * REPORT_BAR_W / max : 0;
                if (val[i] > 0 && w == 0)
                        w = 1;
                html_label(label[i], lab, sizeof(lab));
                html_value(val[i], hours, num, sizeof(num));
                if (fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">",
                            REPORT_BAR_X - 6, y + 13) < 0 ||
                    html_esc(f, lab) != 0 ||
                    fprintf(f,
                            "</text><rect x=\"%u\" y=\"%u\" width=\"%" PRIu64
                            "\" height=\"14\" fill=\"#3b6ea8\"/>"
                            "<text x=\"%" PRIu64 "\" y=\"%u\">%s</text>\n",
                            REPORT_BAR_X, y + 2, w, REPORT_BAR_X + w + 5,
                            y + 13, num) < 0)
                        return -1;
        }
        return fputs("</svg>\n", f) == EOF ? -1 : 0;
}

static int month_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* Hours per month, oldest first; the months between without service
 * show as zero (up to REPORT_MONTHS_SPAN of them, else only those with). */
static int html_months(const struct audit_report *r, FILE *f)
{
        uint64_t lo = UINT64_MAX, hi = 0, n, k = 0;
        char(*lab)[48] = NULL;
        const char **lp = NULL;
        uint64_t *vp = NULL, *mk = NULL;
        int rc = -1;

        for (size_t i = 0; i < r->months.n; i++) {
                uint64_t m;
                memcpy(&m, r->months.keys + i * sizeof(m), sizeof(m));
                lo = m < lo ? m : lo;
                hi = m > hi ? m : hi;
        }
        n = r->months.n == 0                    ? 0
            : hi - lo + 1 <= REPORT_MONTHS_SPAN ? hi - lo + 1
                                                : r->months.n;
        if ((lab = calloc(n ? n : 1, sizeof(*lab))) == NULL ||
            (lp = calloc(n ? n : 1, sizeof(*lp))) == NULL ||
            (vp = calloc(n ? n : 1, sizeof(*vp))) == NULL ||
            (mk = calloc(n ? n : 1, sizeof(*mk))) == NULL) {
                errno = ENOMEM;
                goto out;
        }
        if (n > 0 && n == hi - lo + 1)
                for (uint64_t m = lo; m <= hi; m++)
                        mk[k++] = m;
        else
                for (size_t i = 0; i < r->months.n; i++)
                        memcpy(&mk[k++], r->months.keys + i * sizeof(*mk),
                               sizeof(*mk));
        qsort(mk, k, sizeof(*mk), month_cmp);
        for (uint64_t i = 0; i < k; i++) {
                const uint64_t *v = audit_map_get(&r->months, &mk[i]);
                snprintf(lab[i], sizeof(lab[i]), "%04" PRIu64 "-%02" PRIu64,
                         mk[i] / 12, mk[i] % 12 + 1);
                lp[i] = lab[i];
                vp[i] = v != NULL ? *v : 0;
        }
        rc = html_bars(f, "hours served per month", k, lp, vp, 1);
out:
        free(lab);
        free(lp);
        free(vp);
        free(mk);
        return rc;
}

/* Hours per activity, in the order they first appeared. */
static int html_activities(const struct audit_report *r, FILE *f)
{
        size_t n = r->acts.n;
        const char **lp = calloc(n ? n : 1, sizeof(*lp));
        int rc;

        if (lp == NULL) {
                errno = ENOMEM;
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                const char *a = (const char *)r->acts.keys + i * r->acts.ksize;
                lp[i] = a[0] ? a : "(default rate)";
        }
        rc = html_bars(f, "hours served per activity", n, lp, r->acts.vals, 1);
        free(lp);
        return rc;
}

/* Hours per station: every key that recorded service. */
static int html_stations(const struct audit_report *r, FILE *f)
{
        size_t n = 0, cap = r->keys.n ? r->keys.n : 1;
        const char **lp = calloc(cap, sizeof(*lp));
        uint64_t *vp = calloc(cap, sizeof(*vp));
        int rc = -1;

        if (lp == NULL || vp == NULL) {
                errno = ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < r->keys.n; i++)
                if (r->key[i].minutes > 0) {
                        lp[n] = r->key[i].name;
                        vp[n++] = r->key[i].minutes;
                }
        rc = html_bars(f, "hours served per station", n, lp, vp, 1);
out:
        free(lp);
        free(vp);
        return rc;
}

/* The accounts with most hours (ids only), most first. */
static int html_top(const struct audit_rules *rules, FILE *f)
{
        const struct audit_account *top[AUDIT_REPORT_TOP];
        const char *lp[AUDIT_REPORT_TOP];
        uint64_t vp[AUDIT_REPORT_TOP];
        size_t n = 0, count = rules ? audit_rules_count(rules) : 0;

        for (size_t i = 0; i < count; i++) {
                const struct audit_account *a = audit_rules_account(rules, i);
                size_t j;
                if (a->minutes == 0)
                        continue;
                if (n == AUDIT_REPORT_TOP && a->minutes <= top[n - 1]->minutes)
                        continue;
                j = n < AUDIT_REPORT_TOP ? n++ : n - 1;
                for (; j > 0 && top[j - 1]->minutes < a->minutes; j--)
                        top[j] = top[j - 1];
                top[j] = a;
        }
        for (size_t i = 0; i < n; i++) {
                lp[i] = top[i]->account;
                vp[i] = top[i]->minutes;
        }
        return html_bars(f, "accounts with most hours", n, lp, vp, 1);
}

static int html_keys(const struct audit_report *r, FILE *f)
{
        char b64[64], roles[32];

        if (fputs("<table class=\"keys\"><tr><th>key</th><th>public&nbsp;"
                  "key</th><th>roles</th><th>state</th><th>enrolled</th>"
                  "<th>revoked</th><th>revoke note</th></tr>\n",
                  f) == EOF)
                return -1;
        for (size_t i = 0; i < r->keys.n; i++) {
                const struct report_key *k = &r->key[i];
                if (tb_b64_encode(k->pk, TB_PUBKEY_SIZE, b64, sizeof(b64),
                                  NULL) != TB_OK)
                        return -1;
                snprintf(roles, sizeof(roles), "%s%s%s",
                         k->roles & TB_ROLE_RECORD ? "record " : "",
                         k->roles & TB_ROLE_REDEEM ? "redeem " : "",
                         k->roles & TB_ROLE_ADMIN ? "admin" : "");
                if (fputs("<tr><td>", f) == EOF || html_esc(f, k->name) ||
                    fprintf(f,
                            "</td><td><code>%.8s\xe2\x80\xa6</code></"
                            "td><td>%s</td>"
                            "<td>%s</td><td class=\"n\">seq %" PRIu64 "</td>",
                            b64, roles, k->revoked ? "revoked" : "active",
                            k->enrolled_seq) < 0)
                        return -1;
                if (k->revoked
                        ? fprintf(f, "<td class=\"n\">seq %" PRIu64 "</td>",
                                  k->revoked_seq) < 0
                        : fputs("<td></td>", f) == EOF)
                        return -1;
                if (fputs("<td class=\"note\">", f) == EOF ||
                    html_esc(f, k->note) || fputs("</td></tr>\n", f) == EOF)
                        return -1;
        }
        return fputs("</table>\n", f) == EOF ? -1 : 0;
}

static const char report_style[] =
    "<style>\n"
    "@page { size: A4; margin: 15mm; }\n"
    "body { font-family: sans-serif; font-size: 10.5pt; color: #111;\n"
    "  max-width: 180mm; margin: 0 auto; padding: 6mm; }\n"
    "h1 { font-size: 17pt; margin: 0 0 2mm; }\n"
    "h2 { font-size: 12.5pt; border-bottom: 1px solid #999;\n"
    "  margin: 6mm 0 2mm; }\n"
    ".verdict { padding: 2mm 4mm; border: 2px solid; }\n"
    ".ok { border-color: #1a7f37; background: #e6f4ea; }\n"
    ".failed { border-color: #b3261e; background: #fce8e6; }\n"
    "table { border-collapse: collapse; }\n"
    "td, th { padding: 0.8mm 3mm; text-align: left;\n"
    "  border-bottom: 1px solid #ddd; }\n"
    "td.n { text-align: right; font-variant-numeric: tabular-nums; }\n"
    "code { word-break: break-all; }\n"
    "table.keys { width: 100%; font-size: 9.5pt; }\n"
    "table.keys code, table.keys td.n { white-space: nowrap; }\n"
    "table.keys td.note { overflow-wrap: anywhere; }\n"
    "svg.chart { max-width: 100%; height: auto; display: block; }\n"
    "svg.chart text { font-family: sans-serif; font-size: 11px; }\n"
    "section { break-inside: avoid; page-break-inside: avoid; }\n"
    ".none, footer { color: #555; }\n"
    "@media print { body { padding: 0; max-width: none; } }\n"
    "</style>\n";

int audit_report_html(const struct audit_report *r,
                      const struct audit_rules *rules,
                      const struct audit_report_verdict *v, FILE *f)
{
        const struct tb_checkpoint *cp = v->cp;
        struct audit_totals tot = {0};
        char root[64] = "", when[32] = "";
        time_t t = (time_t)v->generated;
        struct tm tm;
        const char *plab[] = {"earned", "redeemed", "transferred"};
        uint64_t pval[3];

        if (rules != NULL)
                audit_rules_totals(rules, &tot);
        pval[0] = tot.earned;
        pval[1] = tot.redeemed;
        pval[2] = tot.transferred;
        if (tb_b64_encode(cp->root, TB_HASH_SIZE, root, sizeof(root), NULL) !=
                TB_OK ||
            gmtime_r(&t, &tm) == NULL ||
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm) == 0) {
                errno = EINVAL;
                return -1;
        }
        if (fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                  "<meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" "
                  "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
                  "<title>Time bank report: ",
                  f) == EOF ||
            html_esc(f, cp->origin) || fputs("</title>\n", f) == EOF ||
            fputs(report_style, f) == EOF ||
            fputs("</head>\n<body>\n<h1>Time bank report</h1>\n<p>", f) ==
                EOF ||
            html_esc(f, cp->origin) ||
            fprintf(f,
                    ", checked %s by <code>timebank audit</code> from the "
                    "entries it verified.</p>\n",
                    when) < 0)
                return -1;
        if (fprintf(f,
                    "<section>\n<h2>Audit verdict</h2>\n<div class=\"verdict "
                    "%s\"><p><strong>%s</strong></p>\n",
                    v->ok ? "ok" : "failed",
                    v->ok ? "OK: every check holds (signatures, tree, key "
                            "chain, every ledger rule)."
                          : "FAILED: the figures below stop where the audit "
                            "stopped.") < 0)
                return -1;
        if (!v->ok && (fputs("<p>", f) == EOF || html_esc(f, v->problem) ||
                       fputs("</p>\n", f) == EOF))
                return -1;
        if (fprintf(
                f,
                "</div>\n<table>\n<tr><th>checkpoint</th><td>tree size "
                "%" PRIu64 "</td></tr>\n<tr><th>root</th><td><code>%s"
                "</code></td></tr>\n<tr><th>entries replayed</th><td>%" PRIu64
                "</td></tr>\n<tr><th>accounts</th><td>%" PRIu64
                "</td></tr>\n</table>\n</section>\n",
                cp->size, root, r->entries, tot.accounts) < 0)
                return -1;
        if (fputs("<section>\n<h2>Hours served per month</h2>\n", f) == EOF ||
            html_months(r, f) != 0 ||
            fputs("</section>\n<section>\n<h2>Hours served per activity</h2>\n",
                  f) == EOF ||
            html_activities(r, f) != 0 ||
            fputs("</section>\n<section>\n<h2>Hours per station (terminal "
                  "key)</h2>\n",
                  f) == EOF ||
            html_stations(r, f) != 0 ||
            fputs("</section>\n<section>\n<h2>Points</h2>\n", f) == EOF ||
            html_bars(f, "points earned, redeemed and transferred", 3, plab,
                      pval, 0) != 0 ||
            fprintf(f,
                    "<p>Entries reversed: %" PRIu64 ". Every figure is net "
                    "of reversals.</p>\n</section>\n",
                    tot.reversed) < 0 ||
            fputs("<section>\n<h2>Accounts with most hours</h2>\n", f) == EOF ||
            html_top(rules, f) != 0 ||
            fprintf(f,
                    "</section>\n<section>\n<h2>Keys: %" PRIu64
                    " active, %" PRIu64 " revoked</h2>\n",
                    tot.keys_active, tot.keys_revoked) < 0 ||
            html_keys(r, f) != 0 ||
            fputs("</section>\n<footer><p>Every figure was computed by the "
                  "auditor from the signed entries, not taken from the "
                  "daemon.</p></footer>\n</body>\n</html>\n",
                  f) == EOF)
                return -1;
        return 0;
}
