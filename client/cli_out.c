/*
 * client/cli_out.c - a result, printed from one field list: either one
 * JSON object (--json) or the command's text template filled in.  Both
 * forms read the same values, so they cannot drift apart; the template
 * only says where each value goes in the text, in the order people read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "cli.h"

static void out_json_text(const char *s, size_t n)
{
        putchar('"');
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c == '\n')
                        fputs("\\n", stdout);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

/* Base64 of p[0..n) into a buffer the caller frees. */
static char *out_b64(const uint8_t *p, size_t n)
{
        char *s = malloc(TB_B64_LEN(n) + 1);

        if (s == NULL)
                cli_die(TB_EXIT_OTHER, "out of memory");
        if (tb_b64_encode(p, n, s, TB_B64_LEN(n) + 1, NULL) != TB_OK)
                cli_die(TB_EXIT_OTHER, "internal error: base64 encoding "
                                       "failed");
        return s;
}

/* Print base64 of p[0..n), between before and after. */
static void out_b64_print(const char *before, const uint8_t *p, size_t n,
                          const char *after)
{
        char *s = out_b64(p, n);

        printf("%s%s%s", before, s, after);
        free(s);
}

static void out_json_fields(const struct cli_out_field *f, size_t n);

static void out_json_value(const struct cli_out_field *f)
{
        struct cli_out_field row[CLI_OUT_ROW_MAX];

        switch (f->type) {
        case CLI_OUT_U64:
                printf("%" PRIu64, f->v.u);
                break;
        case CLI_OUT_I64:
                printf("%" PRId64, f->v.i);
                break;
        case CLI_OUT_BOOL:
                fputs(f->v.u ? "true" : "false", stdout);
                break;
        case CLI_OUT_TEXT:
                out_json_text(f->v.bytes.p, f->v.bytes.len);
                break;
        case CLI_OUT_B64:
                out_b64_print("\"", f->v.bytes.p, f->v.bytes.len, "\"");
                break;
        case CLI_OUT_HASHES:
                putchar('[');
                for (size_t i = 0; i < f->v.hashes.count; i++)
                        out_b64_print(i ? ",\"" : "\"", f->v.hashes.hash[i],
                                      TB_HASH_SIZE, "\"");
                putchar(']');
                break;
        case CLI_OUT_ROWS:
                putchar('[');
                for (size_t i = 0; i < f->v.rows.count; i++) {
                        if (i > 0)
                                putchar(',');
                        out_json_fields(row,
                                        f->v.rows.cb(f->v.rows.ctx, i, row));
                }
                putchar(']');
                break;
        }
}

static void out_json_fields(const struct cli_out_field *f, size_t n)
{
        const char *sep = "";

        putchar('{');
        for (size_t i = 0; i < n; i++) {
                if (f[i].flags & CLI_OUT_TEXT_ONLY)
                        continue;
                printf("%s\"%s\":", sep, f[i].name);
                out_json_value(&f[i]);
                sep = ",";
        }
        putchar('}');
}

static const struct cli_out_field *
out_find(const struct cli_out_field *f, size_t n, const char *name, size_t len)
{
        for (size_t i = 0; i < n; i++)
                if (strlen(f[i].name) == len &&
                    memcmp(f[i].name, name, len) == 0)
                        return &f[i];
        cli_die(TB_EXIT_OTHER, "internal error: no field '%.*s'", (int)len,
                name);
}

static int out_is_set(const struct cli_out_field *f)
{
        switch (f->type) {
        case CLI_OUT_TEXT:
        case CLI_OUT_B64:
                return f->v.bytes.len != 0;
        case CLI_OUT_HASHES:
                return f->v.hashes.count != 0;
        case CLI_OUT_ROWS:
                return f->v.rows.count != 0;
        default:
                return f->v.u != 0;
        }
}

/* printf's flags and width, as "{name:SPEC}" gives them. */
struct out_spec {
        int left, sign, zero;
        int width;
};

static void out_spec_parse(const char *s, size_t len, struct out_spec *sp)
{
        size_t i = 0;

        memset(sp, 0, sizeof(*sp));
        for (; i < len && strchr("-+0", s[i]) != NULL; i++) {
                sp->left |= s[i] == '-';
                sp->sign |= s[i] == '+';
                sp->zero |= s[i] == '0';
        }
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                sp->width = 10 * sp->width + (s[i] - '0');
        if (i != len)
                cli_die(TB_EXIT_OTHER, "internal error: format '%.*s'",
                        (int)len, s);
}

/* s padded to the spec's width. */
static void out_pad(const char *s, size_t len, const struct out_spec *sp)
{
        int pad = sp->width > (int)len ? sp->width - (int)len : 0;

        if (!sp->left)
                for (int i = 0; i < pad; i++)
                        putchar(sp->zero ? '0' : ' ');
        fwrite(s, 1, len, stdout);
        if (sp->left)
                for (int i = 0; i < pad; i++)
                        putchar(' ');
}

static void out_text_fields(const struct cli_out_field *f, size_t n,
                            const char *text);

static void out_text_value(const struct cli_out_field *f,
                           const struct out_spec *sp)
{
        struct cli_out_field row[CLI_OUT_ROW_MAX];
        char num[32];
        char *s;

        switch (f->type) {
        case CLI_OUT_U64:
                snprintf(num, sizeof(num), "%s%" PRIu64, sp->sign ? "+" : "",
                         f->v.u);
                out_pad(num, strlen(num), sp);
                break;
        case CLI_OUT_BOOL:
                out_pad(f->v.u ? "true" : "false", f->v.u ? 4 : 5, sp);
                break;
        case CLI_OUT_I64:
                if (sp->sign)
                        snprintf(num, sizeof(num), "%+" PRId64, f->v.i);
                else
                        snprintf(num, sizeof(num), "%" PRId64, f->v.i);
                out_pad(num, strlen(num), sp);
                break;
        case CLI_OUT_TEXT:
                out_pad(f->v.bytes.p, f->v.bytes.len, sp);
                break;
        case CLI_OUT_B64:
                s = out_b64(f->v.bytes.p, f->v.bytes.len);
                out_pad(s, strlen(s), sp);
                free(s);
                break;
        case CLI_OUT_HASHES:
                for (size_t i = 0; i < f->v.hashes.count; i++)
                        out_b64_print("  ", f->v.hashes.hash[i], TB_HASH_SIZE,
                                      "\n");
                break;
        case CLI_OUT_ROWS:
                for (size_t i = 0; i < f->v.rows.count; i++)
                        out_text_fields(row,
                                        f->v.rows.cb(f->v.rows.ctx, i, row),
                                        f->v.rows.text);
                break;
        }
}

/* The end of the section that starts at s: past its "{/}". */
static const char *out_section_end(const char *s)
{
        int depth = 1;

        for (; *s != 0; s++) {
                if (strncmp(s, "{?", 2) == 0)
                        depth++;
                else if (strncmp(s, "{/}", 3) == 0 && --depth == 0)
                        return s + 3;
        }
        cli_die(TB_EXIT_OTHER, "internal error: a section without {/}");
}

static void out_text_fields(const struct cli_out_field *f, size_t n,
                            const char *text)
{
        const char *s = text, *end, *name_end, *spec;
        struct out_spec sp;
        const struct cli_out_field *field;

        while (*s != 0) {
                if (*s != '{') {
                        putchar(*s++);
                        continue;
                }
                if (strncmp(s, "{/}", 3) == 0) {
                        s += 3;
                        continue;
                }
                if ((end = strchr(s, '}')) == NULL)
                        cli_die(TB_EXIT_OTHER, "internal error: '%s'", s);
                if (s[1] == '?') {
                        field = out_find(f, n, s + 2, (size_t)(end - s - 2));
                        s = out_is_set(field) ? end + 1
                                              : out_section_end(end + 1);
                        continue;
                }
                /* "{name}" or "{name:spec}" */
                name_end = memchr(s, ':', (size_t)(end - s));
                if (name_end == NULL)
                        name_end = end;
                spec = name_end < end ? name_end + 1 : end;
                field = out_find(f, n, s + 1, (size_t)(name_end - s - 1));
                out_spec_parse(spec, (size_t)(end - spec), &sp);
                out_text_value(field, &sp);
                s = end + 1;
        }
}

void cli_out_print(int json, const struct cli_out_field *f, size_t n,
                   const char *text)
{
        if (json) {
                out_json_fields(f, n);
                putchar('\n');
        } else {
                out_text_fields(f, n, text);
        }
        if (fflush(stdout) != 0 || ferror(stdout))
                cli_die(TB_EXIT_OTHER, "writing the output: %s",
                        strerror(errno));
}
