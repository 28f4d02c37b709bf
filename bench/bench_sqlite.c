/*
 * bench/bench_sqlite.c - what a user would build instead of timebankd: a
 * small program over SQLite doing the same work per request, durably.  One
 * connection per client thread, journal WAL, synchronous=FULL, and per
 * request: decode the signed entry, verify its Ed25519 signature, then one
 * transaction that appends the entry (refusing a second (signer, request
 * id)) and adds the points to the account's balance, and commits.  The
 * requests are the very signed records the daemon was sent.  No Merkle
 * tree, no checkpoint, no rules beyond the balance: a baseline, and a
 * generous one.  Compiled only where libsqlite3 is found (TB_BENCH_SQLITE);
 * otherwise the run says so.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "frame.h"
#include "msg.h"
#include "status.h"

#ifndef TB_BENCH_SQLITE

int bench_sqlite_run(const char *dir, const char *origin,
                     struct bench_script *scripts, unsigned threads,
                     double seconds, uint64_t rows0, unsigned accounts,
                     struct bench_sqlite_result *out)
{
        (void)rows0;
        (void)accounts;
        (void)dir;
        (void)origin;
        (void)scripts;
        (void)threads;
        (void)seconds;
        memset(out, 0, sizeof(*out));
        return 0;
}

#else

#include <sqlite3.h>

static const char bench_sqlite_schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE log(seq INTEGER PRIMARY KEY, signer BLOB NOT NULL,"
    " request_id BLOB NOT NULL, received INTEGER NOT NULL,"
    " entry BLOB NOT NULL, UNIQUE(signer, request_id));"
    "CREATE TABLE accounts(id TEXT PRIMARY KEY, balance INTEGER NOT NULL)"
    " WITHOUT ROWID;";

struct bench_sqlite_thread {
        const char *path, *origin;
        struct bench_script *s;
        double deadline; /* bench_now_s() */
        struct bench_series lat;
        int rc;
        pthread_t thread;
};

static int bench_sqlite_fail(sqlite3 *db, const char *what)
{
        return bench_fail("sqlite: %s: %s", what,
                          db ? sqlite3_errmsg(db) : "cannot open");
}

static int bench_sqlite_exec(sqlite3 *db, const char *sql)
{
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return bench_sqlite_fail(db, sql);
        return 0;
}

static int bench_sqlite_open(const char *path, sqlite3 **db)
{
        if (sqlite3_open(path, db) != SQLITE_OK)
                return bench_sqlite_fail(*db, "open");
        if (sqlite3_busy_timeout(*db, 60000) != SQLITE_OK ||
            bench_sqlite_exec(*db, "PRAGMA synchronous=FULL") != 0)
                return -1;
        return 0;
}

/* One request: what the daemon does for a record, the SQLite way. */
static int bench_sqlite_one(struct bench_sqlite_thread *t, sqlite3 *db,
                            sqlite3_stmt *ins, sqlite3_stmt *upd,
                            const uint8_t *p, size_t len)
{
        const uint8_t *body;
        size_t body_len;
        struct tb_entry e;
        char detail[128];
        int rc;

        if (tb_signed_check(t->origin, p, len, 1, &e, &body, &body_len, detail,
                            sizeof(detail)) != TB_ST_OK)
                return bench_fail("sqlite: a record does not verify: %s",
                                  detail);
        if (bench_sqlite_exec(db, "BEGIN IMMEDIATE") != 0)
                return -1;
        rc = sqlite3_bind_blob(ins, 1, e.signer, TB_PUBKEY_SIZE,
                               SQLITE_STATIC) != SQLITE_OK ||
             sqlite3_bind_blob(ins, 2, e.request_id, TB_REQUEST_ID_SIZE,
                               SQLITE_STATIC) != SQLITE_OK ||
             sqlite3_bind_int64(ins, 3, (sqlite3_int64)time(NULL)) !=
                 SQLITE_OK ||
             sqlite3_bind_blob(ins, 4, p, (int)len, SQLITE_STATIC) !=
                 SQLITE_OK ||
             sqlite3_step(ins) != SQLITE_DONE;
        rc = rc || sqlite3_reset(ins) != SQLITE_OK ||
             sqlite3_bind_text(upd, 1, e.u.service.account, -1,
                               SQLITE_STATIC) != SQLITE_OK ||
             sqlite3_bind_int64(upd, 2, e.u.service.minutes) != SQLITE_OK ||
             sqlite3_step(upd) != SQLITE_DONE;
        rc = rc || sqlite3_reset(upd) != SQLITE_OK;
        if (rc) {
                bench_sqlite_fail(db, "a request's transaction");
                (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return -1;
        }
        return bench_sqlite_exec(db, "COMMIT");
}

static void *bench_sqlite_main(void *arg)
{
        struct bench_sqlite_thread *t = arg;
        sqlite3_stmt *ins = NULL, *upd = NULL;
        sqlite3 *db = NULL;

        t->rc = bench_sqlite_open(t->path, &db);
        if (t->rc == 0 &&
            (sqlite3_prepare_v2(db,
                                "INSERT INTO log(signer, request_id, "
                                "received, entry) VALUES(?, ?, ?, ?)",
                                -1, &ins, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(db,
                                "INSERT INTO accounts VALUES(?1, ?2) ON "
                                "CONFLICT(id) DO UPDATE SET balance = "
                                "balance + ?2",
                                -1, &upd, NULL) != SQLITE_OK))
                t->rc = bench_sqlite_fail(db, "prepare");
        for (size_t i = 0; t->rc == 0 && i < t->s->n; i++) {
                const uint8_t *f = t->s->frames + t->s->off[i];
                size_t len = t->s->off[i + 1] - t->s->off[i];
                uint64_t t0 = bench_now_ns();

                if (t->s->kind[i] != BENCH_RECORD)
                        continue;
                if (bench_now_s() >= t->deadline)
                        break;
                /* the signed entry follows the frame and request headers */
                t->rc = bench_sqlite_one(
                    t, db, ins, upd, f + TB_FRAME_HEADER + TB_REQUEST_HEADER,
                    len - TB_FRAME_HEADER - TB_REQUEST_HEADER);
                if (t->rc == 0) {
                        if (t->lat.n == t->lat.cap) {
                                size_t cap = t->lat.cap ? t->lat.cap * 2 : 1024;
                                uint64_t *p =
                                    realloc(t->lat.ns, cap * sizeof(*p));
                                if (p == NULL) {
                                        t->rc = bench_fail("out of memory");
                                        break;
                                }
                                t->lat.ns = p;
                                t->lat.cap = cap;
                        }
                        t->lat.ns[t->lat.n++] = bench_now_ns() - t0;
                }
        }
        (void)sqlite3_finalize(ins); /* repeats the last step's error */
        (void)sqlite3_finalize(upd);
        if (db != NULL && sqlite3_close(db) != SQLITE_OK && t->rc == 0)
                t->rc = bench_fail("sqlite: close failed");
        return NULL;
}

static uint64_t bench_file_size(const char *path)
{
        struct stat sb;

        return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* Join the threads; merge their latencies into all; remove the files. */
static int bench_sqlite_finish(struct bench_sqlite_thread *t, unsigned started,
                               const char *sdir, const char *path,
                               struct bench_series *all,
                               struct bench_sqlite_result *out)
{
        char side[600];
        int rc = 0;

        for (unsigned i = 0; i < started; i++) {
                if (pthread_join(t[i].thread, NULL) != 0 || t[i].rc != 0)
                        rc = -1;
        }
        for (unsigned i = 0; i < started; i++)
                all->cap += t[i].lat.n;
        all->ns = malloc((all->cap ? all->cap : 1) * sizeof(*all->ns));
        for (unsigned i = 0; i < started; i++) {
                if (all->ns != NULL && t[i].lat.n > 0)
                        memcpy(all->ns + all->n, t[i].lat.ns,
                               t[i].lat.n * sizeof(*all->ns));
                all->n += t[i].lat.n;
                free(t[i].lat.ns);
        }
        if (all->ns == NULL)
                rc = bench_fail("out of memory");
        snprintf(side, sizeof(side), "%s-wal", path);
        out->db_bytes = bench_file_size(path) + bench_file_size(side);
        (void)unlink(side);
        snprintf(side, sizeof(side), "%s-shm", path);
        (void)unlink(side);
        if (unlink(path) != 0 || rmdir(sdir) != 0)
                rc = bench_fail("removing %s: %s", sdir, strerror(errno));
        return rc;
}

/*
 * Start the database at the daemon's size: rows0 log rows like a record's
 * (32 signers, random request ids, 160-byte entries) and the accounts, in
 * one transaction, untimed.
 */
static int bench_sqlite_fill(sqlite3 *db, uint64_t rows0, unsigned accounts)
{
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "BEGIN;"
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                 "FROM c WHERE x < %llu) INSERT INTO log(signer, request_id, "
                 "received, entry) SELECT CAST(printf('%%032d', x %% 32) AS "
                 "BLOB), randomblob(16), x, randomblob(160) FROM c;"
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                 "FROM c WHERE x < %u) INSERT INTO accounts SELECT "
                 "printf('fill-%%u', x), 60 FROM c;"
                 "COMMIT",
                 (unsigned long long)rows0, accounts);
        return rows0 > 0 && accounts > 0 ? bench_sqlite_exec(db, sql) : 0;
}

int bench_sqlite_run(const char *dir, const char *origin,
                     struct bench_script *scripts, unsigned threads,
                     double seconds, uint64_t rows0, unsigned accounts,
                     struct bench_sqlite_result *out)
{
        struct bench_sqlite_thread *t = calloc(threads, sizeof(*t));
        struct bench_series all;
        char sdir[300], path[320];
        unsigned started = 0;
        sqlite3 *db = NULL;
        double t0;
        int rc;

        memset(out, 0, sizeof(*out));
        memset(&all, 0, sizeof(all));
        out->built = 1;
        snprintf(out->version, sizeof(out->version), "%s",
                 sqlite3_libversion());
        snprintf(sdir, sizeof(sdir), "%s/sqlite-XXXXXX", dir);
        if (t == NULL || mkdtemp(sdir) == NULL) {
                free(t);
                return bench_fail("sqlite: a scratch directory in %s: %s", dir,
                                  strerror(errno));
        }
        snprintf(path, sizeof(path), "%s/bench.db", sdir);
        rc = bench_sqlite_open(path, &db);
        if (rc == 0)
                rc = bench_sqlite_exec(db, bench_sqlite_schema);
        if (rc == 0)
                rc = bench_sqlite_fill(db, rows0, accounts);
        out->rows0 = rows0;
        if (db != NULL && sqlite3_close(db) != SQLITE_OK)
                rc = bench_fail("sqlite: close failed");
        t0 = bench_now_s();
        for (; rc == 0 && started < threads; started++) {
                t[started].path = path;
                t[started].origin = origin;
                t[started].s = &scripts[started];
                t[started].deadline = t0 + seconds;
                if (pthread_create(&t[started].thread, NULL, bench_sqlite_main,
                                   &t[started]) != 0)
                        rc = bench_fail("pthread_create failed");
        }
        if (bench_sqlite_finish(t, started, sdir, path, &all, out) != 0)
                rc = -1;
        out->seconds = bench_now_s() - t0;
        out->records = all.n;
        out->p99_ms = bench_series_quantile_ms(&all, 0.99);
        free(all.ns);
        free(t);
        return rc;
}

#endif
