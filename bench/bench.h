/*
 * bench/bench.h - timebank-bench: what one timebankd does on this machine,
 * next to what a user would build instead (SQLite) and to the ceiling
 * (Ed25519 verifications on every core).  docs/performance.md has the
 * method and the figures.
 *
 * The parts, one file each:
 *   bench_main.c    options, the order of the phases, the report
 *   bench_setup.c   the ledger: a private timebankd or an existing one;
 *                   terminal keys and accounts
 *   bench_script.c  each connection's requests, signed before the clock
 *   bench_load.c    the load: C connections, closed loop at depth D or an
 *                   offered rate, latency per kind
 *   bench_proc.c    what /proc says about the daemon (CPU, memory, I/O)
 *   bench_cpu.c     one verification's time, the all-core ceiling, the
 *                   disk's fsync latency
 *   bench_sqlite.c  the SQLite program (built only with libsqlite3)
 *
 * Every function that can fail returns 0 on success and -1 after printing
 * why to stderr (prefixed "timebank-bench: ").
 */
#ifndef TB_BENCH_H
#define TB_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "entry.h"
#include "key.h"

#define BENCH_ORIGIN     "bench.example/ledger"
#define BENCH_SLOT       3600 /* seconds between two services of an account */
#define BENCH_SLOTS      (28 * 24) /* services per account: the last 28 days */
#define BENCH_SEED_MIN   60 /* minutes of the one service that funds redeems */
#define BENCH_FRAME_MAX  (4 + 7 + TB_SIGNED_MAX) /* one request's frame */
#define BENCH_CONNS_MAX  1000
#define BENCH_DEPTH_MAX  4096
#define BENCH_ERRMSG_MAX 160

enum bench_kind {
        BENCH_RECORD,  /* SUBMIT of a service entry */
        BENCH_REDEEM,  /* SUBMIT of a redeem entry */
        BENCH_BALANCE, /* BALANCE */
        BENCH_SETUP,   /* enroll, register, the funding service */
        BENCH_KINDS
};

/* "record", "redeem", "balance", "setup". */
const char *bench_kind_name(unsigned kind);

/* printf to stderr with the program's prefix; returns -1. */
int bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in nanoseconds and in seconds. */
uint64_t bench_now_ns(void);
double bench_now_s(void);

/* ---- bench_setup.c ------------------------------------------------------ */

/* The ledger under test and the terminals that load it. */
struct bench_ledger {
        char dir[256];  /* our scratch directory ("" = none) */
        char sock[300]; /* the daemon's socket */
        char data[300]; /* its data directory ("" = unknown) */
        pid_t pid;      /* the daemon's pid (-1 = unknown) */
        int own;        /* 1: we started the daemon and remove it after */
        char origin[TB_NAME_MAX + 1];
        char run[16];   /* this run's tag in account and key names */
        unsigned conns; /* terminals: one key and one connection each */
        struct tb_skey **keys;
        unsigned accounts;
        int64_t base;     /* start of service slot 0 (unix s) */
        uint64_t funded;  /* points each account got from its funding */
        uint64_t records; /* services built so far (their slots are used) */
        uint64_t redeems; /* redeems built so far */
};

/*
 * Start a private timebankd: a scratch directory under $TMPDIR,
 * `timebankd init` with a fresh admin key, then `timebankd -d DATA -s SOCK
 * -c CONF` with room for conns connections of depth inflight, and the
 * nsets lines "name = value" of sets[] (--set) after those.  *admin
 * gets the admin key (free with tb_skey_free).
 */
int bench_ledger_start(struct bench_ledger *l, const char *timebankd,
                       unsigned conns, unsigned inflight,
                       const char *const *sets, unsigned nsets,
                       struct tb_skey **admin);

/* Use the daemon on sock (pid from SO_PEERCRED, data from data_dir or from
 * the daemon's open data.mdb). */
int bench_ledger_attach(struct bench_ledger *l, const char *sock,
                        const char *data_dir);

/* Stop our daemon (SIGTERM; it must exit 0) and remove the scratch
 * directory; free the keys.  Safe on a partly set up ledger. */
int bench_ledger_stop(struct bench_ledger *l);

/* Enroll one key per connection (roles record and redeem), register
 * accounts accounts, and fund each with one BENCH_SEED_MIN-minute service,
 * through depth-deep pipelines. */
int bench_ledger_prepare(struct bench_ledger *l, const struct tb_skey *admin,
                         unsigned accounts, unsigned depth);

/* A timebankd to start: next to this program (a build tree), in ../sbin
 * (an installed tree), on PATH, or /usr/sbin.  0 or -1. */
int bench_find_timebankd(char *out, size_t cap);

/* The daemon's STATUS: tree size and data.mdb's bytes on disk. */
/* The writer's batches_total and batch_writes_total (STATS); 0 or -1. */
int bench_ledger_batches(const struct bench_ledger *l, uint64_t *batches,
                         uint64_t *writes);

int bench_ledger_status(const struct bench_ledger *l, uint64_t *tree_size,
                        uint64_t *disk_bytes);

/* ---- bench_script.c ----------------------------------------------------- */

/* One connection's requests: frames back to back, each with its kind;
 * request i carries the id i + 1. */
struct bench_script {
        uint8_t *frames;
        size_t *off; /* n + 1 offsets into frames */
        uint8_t *kind;
        size_t n, cap;
};

/* Free the scripts of conns connections and the array; NULL is a no-op. */
void bench_scripts_free(struct bench_script *s, unsigned conns);

/* Latencies of one kind, in nanoseconds, and the answers' statuses. */
struct bench_series {
        uint64_t *ns;
        size_t n, cap;
        uint64_t failed;       /* answered other than OK */
        unsigned first_status; /* the first such status */
        char first_msg[BENCH_ERRMSG_MAX];
};

struct bench_run {
        double seconds;    /* from the first send to the last answer */
        uint64_t received; /* bytes of answers read from the daemon */
        struct bench_series kind[BENCH_KINDS];
};

/*
 * Build every connection's script for n requests of the mix (percent of
 * record, redeem, balance), signing each write with the connection's key
 * on one thread per connection: all the signing happens here, before any
 * clock starts.  Request g goes to connection g mod C.  Records take the
 * next free slots of the accounts; redeems take one point each.
 */
int bench_scripts_build(struct bench_ledger *l, const unsigned mix[3],
                        uint64_t n, struct bench_script **out);

/* The setup scripts: register every account (step 0), or fund each with
 * one BENCH_SEED_MIN-minute service (step 1). */
int bench_scripts_setup(struct bench_ledger *l, int step,
                        struct bench_script **out);

/* ---- bench_load.c ------------------------------------------------------- */

/*
 * Send the scripts on one connection each, from one thread: closed loop
 * with depth requests in flight per connection (rate 0), or open loop
 * offering rate requests/s in all (request g due at g / rate, on
 * connection g mod C; latency counts from when it was due).  Every answer
 * is matched by its id.  Fills *run (bench_run_free).
 */
int bench_load_run(const char *sock, struct bench_script *scripts,
                   unsigned conns, unsigned depth, double rate,
                   struct bench_run *run);

void bench_run_free(struct bench_run *run);

/* The q-quantile (0..1) of a series, in milliseconds; sorts it. */
double bench_series_quantile_ms(struct bench_series *s, double q);

/* ---- bench_proc.c ------------------------------------------------------- */

struct bench_proc {
        double cpu_s;         /* utime + stime */
        double sys_s;         /* stime: the kernel's share, on our behalf */
        uint64_t minflt;      /* minor page faults (a page mapped again) */
        uint64_t write_bytes; /* /proc/PID/io: pages dirtied (folios) */
        uint64_t wchar;       /* /proc/PID/io: bytes passed to write calls */
        uint64_t hwm_kib;     /* VmHWM */
        uint64_t rss_kib;     /* VmRSS */
        uint64_t private_kib; /* Private_Clean + Private_Dirty + _Hugetlb */
        uint64_t private_dirty_kib;
        uint64_t anon_kib;  /* Anonymous: heap and stacks, not the map */
        double child_cpu_s; /* utime + stime of its children (the signer) */
        uint64_t ctxsw_vol, ctxsw_invol; /* context switches, all threads */
        int ok_cpu, ok_io, ok_mem;       /* what could be read */
        int ok_child, ok_ctxsw;
};

/* Read what /proc tells about pid; fields it cannot read stay ok_* = 0. */
void bench_proc_read(pid_t pid, struct bench_proc *p);

/* The pid of the process listening on the Unix socket path (SO_PEERCRED),
 * or -1. */
pid_t bench_proc_peer(const char *path);

/* The directory of the data.mdb pid has open, into out; 0 or -1. */
int bench_proc_data_dir(pid_t pid, char *out, size_t cap);

/* ---- bench_cpu.c -------------------------------------------------------- */

/* Microseconds of one entry verification (tb_entry_verify of a service
 * entry) on this thread over about seconds: *us in this thread's CPU time
 * (what the daemon's CPU per record is compared with), *wall_us in
 * elapsed time (longer when the machine makes the thread wait). */
int bench_verify_us(double seconds, double *us, double *wall_us);

/* Verifications per second on threads threads at once, over seconds. */
int bench_verify_ceiling(unsigned threads, double seconds, double *per_s);

/* Median microseconds of pwrite(512 bytes) + fdatasync in dir, n times. */
int bench_fsync_us(const char *dir, unsigned n, double *us);

/* ---- bench_sqlite.c ----------------------------------------------------- */

struct bench_sqlite_result {
        int built; /* 0: this build has no SQLite */
        char version[32];
        uint64_t records;
        double seconds;
        double p99_ms;
        uint64_t db_bytes; /* the database and its WAL at the end */
        uint64_t rows0;    /* log rows it started with (the daemon's size) */
};

/*
 * The program a user would write: threads threads, one SQLite connection
 * each (WAL, synchronous=FULL), each taking the record requests of its
 * script: decode the entry, verify its signature, then in one transaction
 * append the row and update the account's balance, commit.  Runs seconds
 * seconds in a scratch directory under dir, on a database that starts, as
 * the daemon's ledger did, with rows0 log rows (made up, untimed) and
 * accounts accounts.
 */
int bench_sqlite_run(const char *dir, const char *origin,
                     struct bench_script *scripts, unsigned threads,
                     double seconds, uint64_t rows0, unsigned accounts,
                     struct bench_sqlite_result *out);

/* ---- bench_main.c, bench_report.c ---------------------------------------- */

#define BENCH_SETS_MAX 16 /* --set options */

/* The command line (bench_usage() in bench_main.c says what each is). */
struct bench_opts {
        unsigned conns, depth, accounts, fsync_n;
        unsigned mix[3]; /* percent of record, redeem, balance */
        uint64_t requests, reads, fill;
        double rate; /* offered requests/s of the peak phase, 0 = closed */
        double verify_s, sqlite_s;
        int half, json;
        const char *socket, *admin_key, *data, *timebankd;
        const char *sets[BENCH_SETS_MAX]; /* --set name=value, in order */
        unsigned nsets;
};

/* The figures of one load phase. */
struct bench_phase {
        const char *name;
        struct bench_run run;
        struct bench_proc p0, p1; /* the daemon before and after */
        uint64_t tree0, tree1;    /* the tree size before and after */
        uint64_t disk1;           /* data.mdb's bytes on disk after */
        uint64_t batches[2], batch_writes[2]; /* STATS before and after */
        int ok_batches;
        double rate; /* offered, 0 = closed loop */
        int done;
};

/* Everything a run measured. */
struct bench_report {
        struct bench_phase peak, reads, half;
        struct bench_proc mem;      /* the daemon after the load phases */
        struct bench_proc mem_idle; /* ... and after the verify phase */
        double idle_s;              /* between the two */
        struct bench_sqlite_result sqlite;
        double fsync_us;       /* median write + fdatasync in fsync_dir */
        double verify_us;      /* one verification, one core: CPU time */
        double verify_wall_us; /* ... elapsed time */
        double ceiling;        /* verifications/s, all cores */
        char fsync_dir[300], cpu_model[128];
        long nproc;
        long pid; /* the daemon's, kept past its stop */
};

/* Answers of kind in a phase; kind -1: every kind but setup. */
uint64_t bench_report_count(const struct bench_phase *ph, int kind);

/* Print the report: text, or with o->json one JSON object. */
void bench_report_print(struct bench_report *rep, const struct bench_ledger *l,
                        const struct bench_opts *o);

#endif
