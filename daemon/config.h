/*
 * daemon/config.h - timebankd's settings: defaults, the config file, and
 * command-line overrides.
 *
 * The file is lines of "name = value"; '#' starts a comment; blank lines
 * are ignored.  Every setting has a default (docs/timebankd.md and
 * timebankd(8) list them, from the same table as config_print_defaults()),
 * so an empty or missing file is a valid configuration.  Unknown names and
 * out-of-range values are errors: a typo must not silently fall back to a
 * default.
 */
#ifndef TB_CONFIG_H
#define TB_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#define CONFIG_SOCKET_MAX 107  /* bytes of a socket path (sun_path, NUL) */
#define CONFIG_PATH_MAX   1023 /* bytes of another path (tiles_dir) */

struct config {
        char socket[CONFIG_SOCKET_MAX + 1]; /* Unix socket path */
        unsigned socket_mode;               /* by the umask during bind */
        unsigned max_connections;           /* concurrent client connections */
        unsigned max_connections_per_uid;   /* of them, from one peer uid */
        unsigned max_frame;        /* largest request payload accepted */
        unsigned max_inflight;     /* requests queued per connection */
        unsigned max_queue;        /* writes queued in the daemon */
        unsigned batch_max;        /* entries in one commit */
        unsigned worker_threads;   /* signature verification threads */
        unsigned idle_timeout;     /* s before an idle connection is closed */
        unsigned frame_timeout;    /* s to complete a frame once begun */
        uint64_t map_size;         /* initial LMDB map size, bytes */
        uint64_t map_size_max;     /* the map grows up to this */
        uint64_t map_resident_max; /* bytes of the map kept mapped; 0: all */
        unsigned accounts_behind;  /* account rows kept before a flush */
        int64_t clock_skew;        /* s a service may end after now */
        int64_t max_service_age;   /* s a service start may lie in the past */
        int log_level;             /* syslog priority */
        char tiles_dir[CONFIG_PATH_MAX + 1]; /* "" = no mirror */
};

/* Fill c with every default. */
void config_defaults(struct config *c);

/*
 * Read path into c (which holds defaults or earlier values).  On error,
 * errbuf gets "path:line: what is wrong" and -1 is returned.
 */
int config_load(struct config *c, const char *path, char *errbuf,
                size_t errlen);

/* Write the table of settings (name, default, meaning) to f. */
void config_print_defaults(FILE *f);

/* The same table as roff definitions, for the man page. */
void config_print_man(FILE *f);

#endif
