/*
 * daemon/config.c - the settings table and the config file parser.
 *
 * One table drives defaults, parsing, range checks and the help text, so
 * the documented default is the real one.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "frame.h"
#include "ledger.h"
#include "log.h"
#include "msg.h"

enum setting_type { T_UINT, T_U64, T_I64, T_MODE, T_PATH, T_LEVEL };

struct setting {
        const char *name;
        enum setting_type type;
        size_t offset;
        uint64_t min, max;
        uint64_t def;         /* default: a number, a mode or a level */
        const char *def_path; /* default of a T_PATH */
        const char *help;
};

#define F(field) offsetof(struct config, field)

/*
 * Each default has one home: map_size, map_size_max, clock_skew and
 * max_service_age take theirs from ledger.h (the engine's own defaults),
 * socket from msg.h (the client's too), max_frame from frame.h.  The
 * ranges of the borrowed ones are checked here, the others at startup.
 */
#define CONFIG_MAP_MIN              ((uint64_t)1 << 16)
#define CONFIG_MAP_MAX              ((uint64_t)1 << 46)
#define CONFIG_MAP_RESIDENT_DEFAULT ((uint64_t)32 << 20)
#define CONFIG_SKEW_MAX             86400
#define CONFIG_AGE_MIN              3600
#define CONFIG_AGE_MAX              ((uint64_t)86400 * 3660)

_Static_assert(CONFIG_MAP_MIN <= LEDGER_MAP_INITIAL_DEFAULT &&
                   LEDGER_MAP_INITIAL_DEFAULT <= LEDGER_MAP_MAX_DEFAULT &&
                   LEDGER_MAP_MAX_DEFAULT <= CONFIG_MAP_MAX,
               "the default maps must lie in the range of map_size");
_Static_assert(LEDGER_SKEW_DEFAULT <= CONFIG_SKEW_MAX,
               "the default clock_skew must lie in its range");
_Static_assert(CONFIG_AGE_MIN <= LEDGER_MAX_AGE_DEFAULT &&
                   LEDGER_MAX_AGE_DEFAULT <= CONFIG_AGE_MAX,
               "the default max_service_age must lie in its range");
_Static_assert(sizeof(TB_SOCKET_DEFAULT) <= CONFIG_SOCKET_MAX + 1,
               "the default socket path must fit in struct config");
_Static_assert(CONFIG_SOCKET_MAX < sizeof(((struct sockaddr_un *)0)->sun_path),
               "a socket path must fit in sockaddr_un with its NUL");

static const struct setting settings[] = {
    {"socket", T_PATH, F(socket), 1, CONFIG_SOCKET_MAX, 0, TB_SOCKET_DEFAULT,
     "Unix socket to listen on (ignored under systemd socket "
     "activation)"},
    {"socket_mode", T_MODE, F(socket_mode), 0, 0777, 0660, NULL,
     "permissions of the socket file, octal"},
    {"max_connections", T_UINT, F(max_connections), 1, 65536, 256, NULL,
     "concurrent client connections; more wait in the listen queue"},
    {"max_connections_per_uid", T_UINT, F(max_connections_per_uid), 1, 65536,
     64, NULL,
     "concurrent connections from one peer uid (SO_PEERCRED), root "
     "included; beyond, a new one is answered BUSY and closed"},
    {"max_frame", T_UINT, F(max_frame), 64, TB_FRAME_MAX, TB_FRAME_MAX, NULL,
     "largest request payload in bytes; a larger frame drops the client"},
    {"max_inflight", T_UINT, F(max_inflight), 1, 4096, 64, NULL,
     "requests one connection may have unanswered before the daemon "
     "stops reading from it"},
    {"max_queue", T_UINT, F(max_queue), 1, 1000000, 8192, NULL,
     "writes waiting in the daemon; beyond, writes are answered BUSY"},
    {"batch_max", T_UINT, F(batch_max), 1, 65536, 1024, NULL,
     "most entries committed in one transaction (group commit)"},
    {"worker_threads", T_UINT, F(worker_threads), 1, 64, 2, NULL,
     "threads verifying signatures"},
    {"idle_timeout", T_UINT, F(idle_timeout), 1, 86400 * 7, 600, NULL,
     "seconds a connection may stay silent before it is closed"},
    {"frame_timeout", T_UINT, F(frame_timeout), 1, 3600, 10, NULL,
     "seconds a request frame may take to arrive once its first byte "
     "has; beyond, the client is dropped"},
    {"map_size", T_U64, F(map_size), CONFIG_MAP_MIN, CONFIG_MAP_MAX,
     LEDGER_MAP_INITIAL_DEFAULT, NULL,
     "initial LMDB map size in bytes (grows by doubling)"},
    {"map_size_max", T_U64, F(map_size_max), CONFIG_MAP_MIN, CONFIG_MAP_MAX,
     LEDGER_MAP_MAX_DEFAULT, NULL,
     "largest LMDB map in bytes; beyond, writes get STORAGE_FULL"},
    {"map_resident_max", T_U64, F(map_resident_max), 0, CONFIG_MAP_MAX,
     CONFIG_MAP_RESIDENT_DEFAULT, NULL,
     "bytes of files the daemon keeps mapped (RssFile: mostly pages of "
     "data.mdb read through LMDB's map, counted as its private memory); "
     "checked every second and, beyond, data.mdb is unmapped: its pages "
     "stay in the page cache (0: never)"},
    {"accounts_behind", T_UINT, F(accounts_behind), 0, 1u << 22,
     LEDGER_ACCOUNTS_BEHIND_DEFAULT, NULL,
     "account rows kept in memory (about 180 bytes each) before they are "
     "written to data.mdb, a run of neighbouring ids at a time: fewer "
     "pages written per entry; a crash loses none of them (they are "
     "derived again from the log at the next start); with many accounts "
     "set it to about a third of them; 0 writes each batch's rows with "
     "it"},
    {"clock_skew", T_I64, F(clock_skew), 0, CONFIG_SKEW_MAX,
     LEDGER_SKEW_DEFAULT, NULL,
     "seconds a recorded service may end after the daemon's clock"},
    {"max_service_age", T_I64, F(max_service_age), CONFIG_AGE_MIN,
     CONFIG_AGE_MAX, LEDGER_MAX_AGE_DEFAULT, NULL,
     "seconds a service start may lie in the past (default 30 days: paper "
     "sign-in sheets are keyed in late)"},
    {"tiles_dir", T_PATH, F(tiles_dir), 0, CONFIG_PATH_MAX, 0, "",
     "directory the daemon keeps a C2SP tlog-tiles mirror of the log in, "
     "on a thread of its own (empty: none); serve it with any web "
     "server"},
    {"log_level", T_LEVEL, F(log_level), LOG_ERR, LOG_DEBUG, LOG_INFO, NULL,
     "error, warning, notice, info or debug"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Store x, already in range, as s's field of c. */
static void setting_store(struct config *c, const struct setting *s, uint64_t x)
{
        char *p = (char *)c + s->offset;

        switch (s->type) {
        case T_UINT:
        case T_MODE:
                *(unsigned *)(void *)p = (unsigned)x;
                break;
        case T_U64:
                *(uint64_t *)(void *)p = x;
                break;
        case T_I64:
                *(int64_t *)(void *)p = (int64_t)x;
                break;
        case T_LEVEL:
                *(int *)(void *)p = (int)x;
                break;
        case T_PATH:
                break;
        }
}

static int set_value(struct config *c, const struct setting *s, const char *v,
                     char *err, size_t errlen)
{
        unsigned long long x;
        char *end;
        int base = s->type == T_MODE ? 8 : 10, level;

        switch (s->type) {
        case T_PATH:
                if (strlen(v) < s->min || strlen(v) > s->max) {
                        snprintf(err, errlen,
                                 "%s: path must be 1..%" PRIu64 " bytes",
                                 s->name, s->max);
                        return -1;
                }
                memcpy((char *)c + s->offset, v, strlen(v) + 1);
                return 0;
        case T_LEVEL:
                if ((level = log_level_from_name(v)) < 0) {
                        snprintf(err, errlen,
                                 "%s: '%s' is not error, warning, notice, "
                                 "info or debug",
                                 s->name, v);
                        return -1;
                }
                setting_store(c, s, (uint64_t)level);
                return 0;
        default:
                break;
        }
        errno = 0;
        x = strtoull(v, &end, base);
        if (!isdigit((unsigned char)v[0]) || errno != 0 || *end != 0 ||
            x < s->min || x > s->max) {
                snprintf(
                    err, errlen,
                    "%s: '%s' is not a %s number from %" PRIu64 " to %" PRIu64,
                    s->name, v, base == 8 ? "octal" : "whole", s->min, s->max);
                return -1;
        }
        setting_store(c, s, (uint64_t)x);
        return 0;
}

void config_defaults(struct config *c)
{
        memset(c, 0, sizeof(*c));
        for (size_t i = 0; i < NSETTINGS; i++) {
                const struct setting *s = &settings[i];

                if (s->type == T_PATH) {
                        memcpy((char *)c + s->offset, s->def_path,
                               strlen(s->def_path) + 1);
                        continue;
                }
                if (s->def < s->min || s->def > s->max)
                        abort(); /* the table itself is wrong */
                setting_store(c, s, s->def);
        }
}

static char *trim(char *s)
{
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = 0;
        return s;
}

int config_load(struct config *c, const char *path, char *errbuf, size_t errlen)
{
        FILE *f = fopen(path, "r");
        char line[1024], err[512];
        int lineno = 0, rc = 0;

        if (f == NULL) {
                snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof(line), f) != NULL) {
                char *hash, *eq, *name, *value;
                size_t i;

                lineno++;
                if (strchr(line, '\n') == NULL && !feof(f)) {
                        snprintf(errbuf, errlen, "%s:%d: line too long", path,
                                 lineno);
                        rc = -1;
                        break;
                }
                if ((hash = strchr(line, '#')) != NULL)
                        *hash = 0;
                name = trim(line);
                if (*name == 0)
                        continue;
                if ((eq = strchr(name, '=')) == NULL) {
                        snprintf(errbuf, errlen,
                                 "%s:%d: expected 'name = value'", path,
                                 lineno);
                        rc = -1;
                        break;
                }
                *eq = 0;
                value = trim(eq + 1);
                name = trim(name);
                for (i = 0; i < NSETTINGS; i++)
                        if (strcmp(settings[i].name, name) == 0)
                                break;
                if (i == NSETTINGS) {
                        snprintf(errbuf, errlen, "%s:%d: unknown setting '%s'",
                                 path, lineno, name);
                        rc = -1;
                        break;
                }
                if (set_value(c, &settings[i], value, err, sizeof(err)) != 0) {
                        snprintf(errbuf, errlen, "%s:%d: %s", path, lineno,
                                 err);
                        rc = -1;
                        break;
                }
        }
        if (rc == 0 && ferror(f)) {
                snprintf(errbuf, errlen, "%s: read error", path);
                rc = -1;
        }
        fclose(f);
        if (rc == 0 && c->map_size > c->map_size_max) {
                snprintf(errbuf, errlen, "%s: map_size exceeds map_size_max",
                         path);
                rc = -1;
        }
        return rc;
}

/* s's default as it would be written in the file. */
static const char *setting_default(const struct setting *s, char *buf,
                                   size_t len)
{
        switch (s->type) {
        case T_PATH:
                return s->def_path;
        case T_LEVEL:
                return log_level_name((int)s->def);
        case T_MODE:
                snprintf(buf, len, "0%03" PRIo64, s->def);
                return buf;
        default:
                snprintf(buf, len, "%" PRIu64, s->def);
                return buf;
        }
}

void config_print_defaults(FILE *f)
{
        char buf[32];

        for (size_t i = 0; i < NSETTINGS; i++)
                fprintf(f, "  %-24s %-14s %s\n", settings[i].name,
                        setting_default(&settings[i], buf, sizeof(buf)),
                        settings[i].help);
}

void config_print_man(FILE *f)
{
        char buf[32];

        for (size_t i = 0; i < NSETTINGS; i++)
                fprintf(f, ".TP\n.BR %s \" = %s\"\n%s\n", settings[i].name,
                        setting_default(&settings[i], buf, sizeof(buf)),
                        settings[i].help);
}
