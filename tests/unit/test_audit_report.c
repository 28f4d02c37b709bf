/*
 * tests/unit/test_audit_report.c - the report's CSV and HTML
 * (client/audit_report.c, included with the map it uses: unit tests link
 * proto/ only).  Owns the vectors of docs/report.md: the header, the
 * cells, a service row and its reversal, written from records built here
 * (the report trusts the replay that feeds it, so no signature is made).
 * Then the page: escaped text, no script, the figures net of reversals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/audit_map.c"
#include "../../client/audit_rules.c" /* rules NULL here: its totals API */
#include "../../client/audit_report.c"
#include "check.h"
#include "docvec.h"

/* a == b, or both shown. */
#define CHECK_STR(a, b)                                                        \
        do {                                                                   \
                const char *x_ = (a), *y_ = (b);                               \
                CHECK(strcmp(x_, y_) == 0);                                    \
                if (strcmp(x_, y_) != 0)                                       \
                        fprintf(stderr, "  got  [%s]\n  want [%s]\n", x_, y_); \
        } while (0)

static struct tb_record rec(uint64_t seq, int64_t received, unsigned kind,
                            uint8_t signer)
{
        struct tb_record r;

        memset(&r, 0, sizeof(r));
        r.seq = seq;
        r.received = received;
        r.entry.version = TB_ENTRY_VERSION;
        r.entry.kind = (uint8_t)kind;
        memset(r.entry.signer, signer, TB_PUBKEY_SIZE);
        return r;
}

/* A report with the admin (key 0xad) and kiosk (key 0x01) enrolled. */
static struct audit_report *report_start(FILE *csv)
{
        struct audit_report *r = audit_report_new("log.example", csv);
        struct audit_totals z = {0};
        struct tb_record g = rec(0, 1764460000, TB_KIND_GENESIS, 0x99);
        struct tb_record e = rec(1, 1764460000, TB_KIND_ENROLL, 0xad);

        CHECK(r != NULL);
        memset(g.entry.u.genesis.admin_key, 0xad, TB_PUBKEY_SIZE);
        snprintf(g.entry.u.genesis.admin_name,
                 sizeof(g.entry.u.genesis.admin_name), "admin");
        memset(e.entry.u.enroll.key, 0x01, TB_PUBKEY_SIZE);
        e.entry.u.enroll.roles = TB_ROLE_RECORD;
        snprintf(e.entry.u.enroll.name, sizeof(e.entry.u.enroll.name), "kiosk");
        CHECK(audit_report_add(r, &g, NULL, &z, &z) == 0);
        CHECK(audit_report_add(r, &e, NULL, &z, &z) == 0);
        return r;
}

/* The last CRLF-ended line of buf[0..len), without its CRLF. */
static const char *last_row(const char *buf, size_t len)
{
        static char row[1024];
        size_t start = len >= 2 ? len - 2 : 0;

        CHECK(len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n');
        while (start > 0 && buf[start - 1] != '\n')
                start--;
        snprintf(row, sizeof(row), "%.*s", (int)(len - 2 - start), buf + start);
        return row;
}

static void test_csv(struct docvec_set *set)
{
        struct docvec *v = docvec_get(set, "csv-header");
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        CHECK(f != NULL);
        struct audit_report *r = report_start(f);
        CHECK(fflush(f) == 0);
        CHECK(strncmp(buf, docvec_str(v, "row"),
                      strlen(docvec_str(v, "row"))) == 0);
        CHECK(strstr(buf, "\r\n") == buf + strlen(docvec_str(v, "row")));

        static const char *const cells[] = {
            "csv-cell-plain", "csv-cell-comma-quote", "csv-cell-formula",
            "csv-cell-at", "csv-cell-apostrophe"};
        for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
                char *cb = NULL;
                size_t cl = 0;
                FILE *cf = open_memstream(&cb, &cl);
                const char *t;
                v = docvec_get(set, cells[i]);
                t = docvec_str(v, "text");
                CHECK(cf != NULL);
                CHECK(audit_report_csv_cell(cf, t, strlen(t), 1) == 0);
                CHECK(fclose(cf) == 0);
                CHECK_STR(cb, docvec_str(v, "cell"));
                free(cb);
        }

        /* what the vectors do not reach: CR, LF, numbers unguarded */
        {
                char *cb = NULL;
                size_t cl = 0;
                FILE *cf = open_memstream(&cb, &cl);
                CHECK(cf != NULL);
                CHECK(audit_report_csv_cell(cf, "a\r\nb", 4, 1) == 0);
                CHECK(audit_report_csv_cell(cf, "-40", 3, 0) == 0);
                CHECK(fclose(cf) == 0);
                CHECK_STR(cb, "\"a\r\nb\"-40");
                free(cb);
        }

        /* the service row */
        v = docvec_get(set, "csv-row-service");
        struct tb_record s =
            rec(docvec_u64(v, "seq"), (int64_t)docvec_u64(v, "received"),
                TB_KIND_SERVICE, 0x01);
        struct tb_service *sv = &s.entry.u.service;
        struct audit_totals before = {0}, after = {0};
        snprintf(sv->account, sizeof(sv->account), "%s",
                 docvec_str(v, "account"));
        sv->minutes = (uint16_t)docvec_u64(v, "minutes");
        sv->start = 1764450000;
        snprintf(sv->activity, sizeof(sv->activity), "%s",
                 docvec_str(v, "activity"));
        snprintf(sv->note, sizeof(sv->note), "%s", docvec_str(v, "note"));
        after.minutes = sv->minutes;
        after.earned = docvec_u64(v, "points");
        CHECK_STR(docvec_str(v, "terminal"), "kiosk");
        CHECK(audit_report_add(r, &s, NULL, &before, &after) == 0);
        CHECK(fflush(f) == 0);
        CHECK_STR(last_row(buf, len), docvec_str(v, "row"));

        /* its reversal */
        v = docvec_get(set, "csv-row-reverse");
        struct tb_record x =
            rec(docvec_u64(v, "seq"), (int64_t)docvec_u64(v, "received"),
                TB_KIND_REVERSE, 0xad);
        x.entry.u.reverse.seq = s.seq;
        snprintf(x.entry.u.reverse.note, sizeof(x.entry.u.reverse.note), "%s",
                 docvec_str(v, "note"));
        CHECK_STR(docvec_str(v, "terminal"), "admin");
        CHECK(audit_report_add(r, &x, &s, &after, &before) == 0);
        CHECK(fflush(f) == 0);
        CHECK_STR(last_row(buf, len), docvec_str(v, "row"));
        CHECK(r->key[1].minutes == 0); /* kiosk's 90 taken back */

        audit_report_free(r);
        CHECK(fclose(f) == 0);
        free(buf);
}

/* The page: escaped, no script, net of reversals, both verdicts. */
static void test_html(void)
{
        struct audit_report *r = report_start(NULL);
        struct audit_totals z = {0}, t = {0};
        struct tb_record s = rec(2, 1764460800, TB_KIND_SERVICE, 0x01);
        struct tb_record k = rec(3, 1764460800, TB_KIND_REVOKE, 0xad);
        struct tb_checkpoint cp;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        snprintf(s.entry.u.service.account, TB_ACCOUNT_ID_MAX, "alice");
        s.entry.u.service.minutes = 75;
        s.entry.u.service.start = 1764460000;
        snprintf(s.entry.u.service.activity, TB_CODE_MAX, "<b>");
        t.minutes = 75;
        CHECK(audit_report_add(r, &s, NULL, &z, &t) == 0);
        memset(k.entry.u.revoke.key, 0x01, TB_PUBKEY_SIZE);
        snprintf(k.entry.u.revoke.note, TB_NOTE_MAX,
                 "<script>alert('x')</script> & \"so\"");
        CHECK(audit_report_add(r, &k, NULL, &t, &t) == 0);

        memset(&cp, 0, sizeof(cp));
        snprintf(cp.origin, sizeof(cp.origin), "o<x>");
        cp.size = 4;
        const struct audit_report_verdict ok = {&cp, 1, "", 1764460800};
        CHECK((f = open_memstream(&buf, &len)) != NULL);
        CHECK(audit_report_html(r, NULL, &ok, f) == 0);
        CHECK(fclose(f) == 0);
        CHECK(strstr(buf, "<script") == NULL);
        CHECK(strstr(buf, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                          "&amp; &quot;so&quot;") != NULL);
        CHECK(strstr(buf, ">&lt;b&gt;</text>") != NULL);
        CHECK(strstr(buf, "<title>Time bank report: o&lt;x&gt;</title>") !=
              NULL);
        CHECK(strstr(buf, ">1.3 h</text>") != NULL); /* 75 min */
        CHECK(strstr(buf, ">2025-11</text>") != NULL);
        CHECK(strstr(buf, "@page { size: A4") != NULL);
        CHECK(strstr(buf, "<td>revoked</td>") != NULL);
        CHECK(strstr(buf, "OK: every check holds") != NULL);
        free(buf);

        const struct audit_report_verdict bad = {&cp, 0, "seq 3: <bad>",
                                                 1764460800};
        buf = NULL;
        CHECK((f = open_memstream(&buf, &len)) != NULL);
        CHECK(audit_report_html(r, NULL, &bad, f) == 0);
        CHECK(fclose(f) == 0);
        CHECK(strstr(buf, "FAILED") != NULL);
        CHECK(strstr(buf, "<p>seq 3: &lt;bad&gt;</p>") != NULL);
        CHECK(strstr(buf, "OK: every check holds") == NULL);
        free(buf);
        audit_report_free(r);
}

int main(void)
{
        static struct docvec_set set;

        docvec_load(&set, "docs/report.md");
        CHECK(set.n == 8);
        test_csv(&set);
        CHECK(docvec_unchecked(&set) == 0);
        docvec_free(&set);
        test_html();
        return check_done("test_audit_report");
}
