/*
 * tests/bench/bench_sqlite.c - a SQLite baseline for bench_ledger's append
 * figure: the same number of service entries, in transactions of 256, with
 * synchronous=FULL, writing roughly the rows the ledger writes for one
 * service (the record, the account update, a history row, an interval row,
 * an idempotency row) but without signatures, Merkle hashes or checkpoints.
 * It puts entries/s in context on the same machine, nothing more.
 *
 *   bench_sqlite [-n entries] [-a accounts] [-d] [dir]
 *
 * -d uses the rollback journal (journal_mode=DELETE) instead of WAL.  The
 * database goes to a fresh temporary directory (removed) or to dir.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define S_NOW   1700000000
#define S_BATCH 256
#define S_REC   160 /* bytes of a record: header, body, signature */

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what)
{
        fprintf(stderr, "bench_sqlite: %s: %s\n", what,
                db ? sqlite3_errmsg(db) : strerror(errno));
        exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                die(db, sql);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                die(db, sql);
        return st;
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
        if (sqlite3_step(st) != SQLITE_DONE)
                die(db, "step");
        sqlite3_reset(st);
}

int main(int argc, char **argv)
{
        uint64_t n = 1000000, accounts = 10000, i;
        int opt, keep = 0, journal_delete = 0;
        char dir[PATH_MAX], path[PATH_MAX + 32], name[32];
        uint8_t rec[S_REC], key[48];
        sqlite3 *db;
        sqlite3_stmt *ins_log, *upd_acct, *ins_hist, *ins_int, *ins_idem;
        struct stat sb;
        double t0, t;

        while ((opt = getopt(argc, argv, "n:a:d")) != -1) {
                switch (opt) {
                case 'n':
                        n = strtoull(optarg, NULL, 10);
                        break;
                case 'a':
                        accounts = strtoull(optarg, NULL, 10);
                        break;
                case 'd':
                        journal_delete = 1;
                        break;
                default:
                        fprintf(stderr, "usage: bench_sqlite [-n entries] [-a "
                                        "accounts] [-d] [dir]\n");
                        return 2;
                }
        }
        if (n == 0 || accounts == 0 || accounts > 9999999)
                return 2;
        if (optind < argc) {
                snprintf(dir, sizeof(dir), "%s", argv[optind]);
                keep = 1;
                (void)mkdir(dir, 0700);
        } else {
                const char *tmp = getenv("TMPDIR");
                snprintf(dir, sizeof(dir), "%s/tb-sqlite-XXXXXX",
                         tmp ? tmp : "/tmp");
                if (!mkdtemp(dir))
                        die(NULL, "mkdtemp");
        }
        snprintf(path, sizeof(path), "%s/bench.db", dir);
        if (sqlite3_open(path, &db) != SQLITE_OK)
                die(db, "open");
        exec(db, journal_delete ? "PRAGMA journal_mode=DELETE"
                                : "PRAGMA journal_mode=WAL");
        exec(db, "PRAGMA synchronous=FULL");
        exec(db, "CREATE TABLE log(seq INTEGER PRIMARY KEY, record BLOB);"
                 "CREATE TABLE accounts(id TEXT PRIMARY KEY, balance INTEGER,"
                 " earned INTEGER, minutes INTEGER, entries INTEGER,"
                 " last_seq INTEGER) WITHOUT ROWID;"
                 "CREATE TABLE history(acct TEXT, seq INTEGER, delta INTEGER,"
                 " balance_after INTEGER, PRIMARY KEY(acct, seq))"
                 " WITHOUT ROWID;"
                 "CREATE TABLE intervals(acct TEXT, start INTEGER,"
                 " end_ INTEGER, seq INTEGER, PRIMARY KEY(acct, start))"
                 " WITHOUT ROWID;"
                 "CREATE TABLE idem(k BLOB PRIMARY KEY, status INTEGER,"
                 " seq INTEGER, points INTEGER, balance INTEGER, hash BLOB)"
                 " WITHOUT ROWID;");
        exec(db, "BEGIN");
        {
                sqlite3_stmt *st =
                    prep(db, "INSERT INTO accounts VALUES(?, 0, 0, 0, 1, 0)");
                for (i = 0; i < accounts; i++) {
                        snprintf(name, sizeof(name), "v%07" PRIu64, i);
                        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
                        step(db, st);
                }
                sqlite3_finalize(st);
        }
        exec(db, "COMMIT");
        ins_log = prep(db, "INSERT INTO log VALUES(?, ?)");
        upd_acct =
            prep(db, "UPDATE accounts SET balance = balance + 1,"
                     " earned = earned + 1, minutes = minutes + 1,"
                     " entries = entries + 1, last_seq = ? WHERE id = ?");
        ins_hist = prep(db, "INSERT INTO history VALUES(?, ?, 1, ?)");
        ins_int = prep(db, "INSERT INTO intervals VALUES(?, ?, ?, ?)");
        ins_idem = prep(db, "INSERT INTO idem VALUES(?, 0, ?, 1, ?, ?)");
        memset(rec, 0x5a, sizeof(rec));
        memset(key, 0x11, sizeof(key));

        t0 = now_s();
        for (i = 0; i < n; i++) {
                int64_t seq = (int64_t)(accounts + 2 + i);
                int64_t start =
                    S_NOW - 29 * 86400 + (int64_t)(i / accounts) * 60;

                if (i % S_BATCH == 0)
                        exec(db, "BEGIN");
                snprintf(name, sizeof(name), "v%07" PRIu64, i % accounts);
                memcpy(rec, &seq, sizeof(seq));
                memcpy(key + 40, &seq, sizeof(seq));
                sqlite3_bind_int64(ins_log, 1, seq);
                sqlite3_bind_blob(ins_log, 2, rec, sizeof(rec),
                                  SQLITE_TRANSIENT);
                step(db, ins_log);
                sqlite3_bind_int64(upd_acct, 1, seq);
                sqlite3_bind_text(upd_acct, 2, name, -1, SQLITE_TRANSIENT);
                step(db, upd_acct);
                sqlite3_bind_text(ins_hist, 1, name, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(ins_hist, 2, seq);
                sqlite3_bind_int64(ins_hist, 3, (int64_t)(i / accounts + 1));
                step(db, ins_hist);
                sqlite3_bind_text(ins_int, 1, name, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(ins_int, 2, start);
                sqlite3_bind_int64(ins_int, 3, start + 60);
                sqlite3_bind_int64(ins_int, 4, seq);
                step(db, ins_int);
                sqlite3_bind_blob(ins_idem, 1, key, sizeof(key),
                                  SQLITE_TRANSIENT);
                sqlite3_bind_int64(ins_idem, 2, seq);
                sqlite3_bind_int64(ins_idem, 3, (int64_t)(i / accounts + 1));
                sqlite3_bind_blob(ins_idem, 4, rec, 32, SQLITE_TRANSIENT);
                step(db, ins_idem);
                if (i % S_BATCH == S_BATCH - 1 || i == n - 1)
                        exec(db, "COMMIT");
        }
        t = now_s() - t0;
        sqlite3_finalize(ins_log);
        sqlite3_finalize(upd_acct);
        sqlite3_finalize(ins_hist);
        sqlite3_finalize(ins_int);
        sqlite3_finalize(ins_idem);
        if (sqlite3_close(db) != SQLITE_OK)
                die(db, "close");
        if (stat(path, &sb) != 0)
                die(NULL, "stat");
        printf("sqlite %s: %" PRIu64 " entries over %" PRIu64
               " accounts, transactions of %d, synchronous=FULL, journal=%s\n",
               sqlite3_libversion(), n, accounts, S_BATCH,
               journal_delete ? "DELETE" : "WAL");
        printf("append:             %.2f s, %.0f entries/s, %.0f txn/s\n", t,
               (double)n / t, (double)((n + S_BATCH - 1) / S_BATCH) / t);
        printf("bench.db:           %lld bytes, %.1f bytes/entry\n",
               (long long)sb.st_size, (double)sb.st_size / (double)n);
        if (!keep) {
                (void)unlink(path);
                snprintf(path, sizeof(path), "%s/bench.db-wal", dir);
                (void)unlink(path);
                snprintf(path, sizeof(path), "%s/bench.db-shm", dir);
                (void)unlink(path);
                snprintf(path, sizeof(path), "%s/bench.db-journal", dir);
                (void)unlink(path);
                (void)rmdir(dir);
        }
        return 0;
}
