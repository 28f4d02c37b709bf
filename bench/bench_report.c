/*
 * bench/bench_report.c - the figures a run derives from its measurements,
 * the targets judged against them, and their printing: text for a
 * person, or one JSON object (--json) for a script.  A figure that could
 * not be measured (another user's daemon, no SQLite in this build) is null
 * in JSON and "unknown" in text, never 0.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define BENCH_TARGET_CPU     1.3     /* daemon CPU per record / one verify */
#define BENCH_TARGET_SQLITE  5.0     /* records/s over SQLite's */
#define BENCH_TARGET_P99_MS  10.0    /* record p99 at half the peak rate */
#define BENCH_TARGET_READS   50000.0 /* balance reads/s */
#define BENCH_TARGET_PRIV    64.0    /* MiB of private memory ... */
#define BENCH_TARGET_ENTRIES 1000000 /* ... with this many entries */

uint64_t bench_report_count(const struct bench_phase *ph, int kind)
{
        uint64_t n = 0;

        if (kind >= 0)
                return ph->run.kind[kind].n;
        for (unsigned k = 0; k < BENCH_SETUP; k++)
                n += ph->run.kind[k].n;
        return n;
}

static double bench_rate(const struct bench_phase *ph, int kind)
{
        if (!ph->done || ph->run.seconds <= 0)
                return NAN;
        return (double)bench_report_count(ph, kind) / ph->run.seconds;
}

/* The derived figures; NAN where unknown. */
struct bench_figures {
        double records, redeems, writes, requests, mix_balance, reads;
        double cpu_read_us, cpu_request_us, cpu_record_us;
        double written_per_entry, bytes_per_entry;
        double pwritten_per_entry; /* wchar less the answers sent */
        uint64_t tree_size, disk_bytes;
        double sys_share;        /* of the daemon's CPU in the peak phase */
        double signer_record_us; /* the signer process's CPU per write */
        double ctxsw_vol, ctxsw_invol; /* the daemon's, per write (peak) */
        double minflt;                 /* its minor faults per write (peak) */
        double batch_mean, half_batch_mean; /* writes per commit */
        double rss_mib, hwm_mib, private_mib, private_dirty_mib, anon_mib;
        double private_clean_mib;
        double idle_private_mib, idle_s; /* after idle_s s without load */
        double sqlite, ratio_cpu, ratio_sqlite, ratio_ceiling;
        double half_offered, half_p99;
        int t_cpu, t_sqlite, t_p99, t_reads, t_private; /* 1, 0, -1 unknown */
};

static int bench_judge(double v, double limit, int at_most)
{
        if (isnan(v))
                return -1;
        return at_most ? v <= limit : v >= limit;
}

/* Writes per committed batch over a phase (STATS), or NAN. */
static double bench_batch_mean(const struct bench_phase *ph)
{
        uint64_t b, w;

        if (!ph->done || !ph->ok_batches)
                return NAN;
        b = ph->batches[1] - ph->batches[0];
        w = ph->batch_writes[1] - ph->batch_writes[0];
        return b > 0 ? (double)w / (double)b : NAN;
}

static void bench_figures(struct bench_report *rep, struct bench_figures *f)
{
        const struct bench_phase *pk = &rep->peak, *rd = &rep->reads;
        const struct bench_phase *last = rep->half.done ? &rep->half : pk;
        double writes_n = (double)(bench_report_count(pk, BENCH_RECORD) +
                                   bench_report_count(pk, BENCH_REDEEM));
        double cpu_pk = pk->p1.cpu_s - pk->p0.cpu_s;
        uint64_t entries = pk->tree1 - pk->tree0;

        f->records = bench_rate(pk, BENCH_RECORD);
        f->redeems = bench_rate(pk, BENCH_REDEEM);
        f->writes = f->records + f->redeems;
        f->requests = bench_rate(pk, -1);
        f->mix_balance = bench_rate(pk, BENCH_BALANCE);
        f->reads = bench_rate(rd, BENCH_BALANCE);
        f->cpu_read_us = f->cpu_request_us = f->cpu_record_us = NAN;
        f->sys_share = NAN;
        if (rd->done && rd->p0.ok_cpu && rd->p1.ok_cpu)
                f->cpu_read_us = (rd->p1.cpu_s - rd->p0.cpu_s) * 1e6 /
                                 (double)bench_report_count(rd, -1);
        if (pk->p0.ok_cpu && pk->p1.ok_cpu) {
                /* the peak's reads cost what the reads phase says they
                 * cost; the rest is the writes' */
                double reads_s =
                    isnan(f->cpu_read_us)
                        ? 0
                        : f->cpu_read_us / 1e6 *
                              (double)bench_report_count(pk, BENCH_BALANCE);
                f->sys_share = (pk->p1.sys_s - pk->p0.sys_s) / cpu_pk;
                f->cpu_request_us =
                    cpu_pk * 1e6 / (double)bench_report_count(pk, -1);
                if (writes_n > 0)
                        f->cpu_record_us = (cpu_pk - reads_s) * 1e6 / writes_n;
        }
        f->signer_record_us = f->ctxsw_vol = f->ctxsw_invol = f->minflt = NAN;
        if (pk->p0.ok_cpu && pk->p1.ok_cpu && writes_n > 0)
                f->minflt = (double)(pk->p1.minflt - pk->p0.minflt) / writes_n;
        if (pk->p0.ok_child && pk->p1.ok_child && writes_n > 0)
                f->signer_record_us =
                    (pk->p1.child_cpu_s - pk->p0.child_cpu_s) * 1e6 / writes_n;
        if (pk->p0.ok_ctxsw && pk->p1.ok_ctxsw && writes_n > 0) {
                f->ctxsw_vol =
                    (double)(pk->p1.ctxsw_vol - pk->p0.ctxsw_vol) / writes_n;
                f->ctxsw_invol =
                    (double)(pk->p1.ctxsw_invol - pk->p0.ctxsw_invol) /
                    writes_n;
        }
        f->batch_mean = bench_batch_mean(pk);
        f->half_batch_mean = bench_batch_mean(&rep->half);
        f->written_per_entry =
            pk->p0.ok_io && pk->p1.ok_io && entries > 0
                ? (double)(pk->p1.write_bytes - pk->p0.write_bytes) /
                      (double)entries
                : NAN;
        /* wchar counts every write call of the daemon: LMDB's pwrites,
         * the answers on the sockets (the load read exactly those bytes)
         * and the checkpoints sent to the signer process (a few hundred
         * bytes a batch; the signer's own state file is its I/O, not
         * this): what is left is LMDB's */
        f->pwritten_per_entry =
            pk->p0.ok_io && pk->p1.ok_io && entries > 0 &&
                    pk->p1.wchar - pk->p0.wchar >= pk->run.received
                ? (double)(pk->p1.wchar - pk->p0.wchar - pk->run.received) /
                      (double)entries
                : NAN;
        f->tree_size = last->tree1;
        f->disk_bytes = last->disk1;
        f->bytes_per_entry =
            f->tree_size ? (double)f->disk_bytes / (double)f->tree_size : NAN;
        f->rss_mib = f->hwm_mib = f->private_mib = f->private_dirty_mib =
            f->private_clean_mib = f->anon_mib = NAN;
        f->idle_private_mib = f->idle_s = NAN;
        if (rep->mem_idle.ok_mem) {
                f->idle_private_mib = (double)rep->mem_idle.private_kib / 1024;
                f->idle_s = rep->idle_s;
        }
        if (rep->mem.ok_mem) {
                f->rss_mib = (double)rep->mem.rss_kib / 1024;
                f->hwm_mib = (double)rep->mem.hwm_kib / 1024;
                f->private_mib = (double)rep->mem.private_kib / 1024;
                f->private_dirty_mib =
                    (double)rep->mem.private_dirty_kib / 1024;
                f->anon_mib = (double)rep->mem.anon_kib / 1024;
                f->private_clean_mib = f->private_mib - f->private_dirty_mib;
        }
        f->sqlite = rep->sqlite.built && rep->sqlite.seconds > 0
                        ? (double)rep->sqlite.records / rep->sqlite.seconds
                        : NAN;
        f->ratio_cpu = f->cpu_record_us / rep->verify_us;
        f->ratio_sqlite = f->records / f->sqlite;
        f->ratio_ceiling = f->writes / rep->ceiling;
        f->half_offered = rep->half.done ? rep->half.rate : NAN;
        f->half_p99 = rep->half.done
                          ? bench_series_quantile_ms(
                                &rep->half.run.kind[BENCH_RECORD], 0.99)
                          : NAN;
        f->t_cpu = bench_judge(f->ratio_cpu, BENCH_TARGET_CPU, 1);
        f->t_sqlite = bench_judge(f->ratio_sqlite, BENCH_TARGET_SQLITE, 0);
        f->t_p99 = bench_judge(f->half_p99, BENCH_TARGET_P99_MS, 1);
        f->t_reads = bench_judge(f->reads, BENCH_TARGET_READS, 0);
        f->t_private = f->tree_size < BENCH_TARGET_ENTRIES
                           ? -1
                           : bench_judge(f->private_mib, BENCH_TARGET_PRIV, 1);
}

/* A JSON number (whole numbers in full), or null. */
static void bench_json_num(const char *name, double v, int last)
{
        if (isnan(v) || isinf(v))
                printf("  \"%s\": null%s\n", name, last ? "" : ",");
        else if (v == floor(v) && fabs(v) < 1e15)
                printf("  \"%s\": %.0f%s\n", name, v, last ? "" : ",");
        else
                printf("  \"%s\": %.6g%s\n", name, v, last ? "" : ",");
}

static void bench_json_str(const char *name, const char *v)
{
        printf("  \"%s\": \"", name);
        for (; *v; v++)
                if (*v == '"' || *v == '\\')
                        printf("\\%c", *v);
                else if ((unsigned char)*v >= 0x20)
                        putchar(*v);
        printf("\",\n");
}

static void bench_json_target(const char *name, int t, int last)
{
        printf("    \"%s\": %s%s\n", name,
               t < 0   ? "null"
               : t > 0 ? "true"
                       : "false",
               last ? "" : ",");
}

/* Latency quantiles of the kinds first..last of phase ph, named
 * prefix_kind_pXX_ms. */
static void bench_json_latency(const char *prefix, struct bench_phase *ph,
                               unsigned first, unsigned last)
{
        static const struct {
                const char *name;
                double q;
        } qs[] = {{"p50", 0.5}, {"p99", 0.99}, {"p999", 0.999}, {"max", 1}};
        char name[64];

        for (unsigned k = first; k <= last; k++) {
                struct bench_series *s = &ph->run.kind[k];
                for (unsigned i = 0; i < 4; i++) {
                        snprintf(name, sizeof(name), "%s%s_%s_ms", prefix,
                                 bench_kind_name(k), qs[i].name);
                        bench_json_num(
                            name,
                            ph->done && s->n
                                ? bench_series_quantile_ms(s, qs[i].q)
                                : NAN,
                            0);
                }
        }
}

static void bench_print_json(struct bench_report *rep,
                             const struct bench_ledger *l,
                             const struct bench_opts *o,
                             const struct bench_figures *f)
{
        char mix[64];

        snprintf(mix, sizeof(mix), "record=%u,redeem=%u,balance=%u", o->mix[0],
                 o->mix[1], o->mix[2]);
        printf("{\n");
        bench_json_str("cpu_model", rep->cpu_model);
        bench_json_num("nproc", (double)rep->nproc, 0);
        bench_json_num("daemon_pid", rep->pid > 0 ? (double)rep->pid : NAN, 0);
        bench_json_num("own_daemon", l->own, 0);
        bench_json_num("fsync_ms", rep->fsync_us / 1000, 0);
        bench_json_str("fsync_dir", rep->fsync_dir);
        bench_json_num("connections", o->conns, 0);
        bench_json_num("depth", o->rate > 0 ? NAN : o->depth, 0);
        bench_json_num("offered_rate", o->rate > 0 ? o->rate : NAN, 0);
        bench_json_str("mix", mix);
        bench_json_num("accounts", l->accounts, 0);
        bench_json_num("requests", (double)bench_report_count(&rep->peak, -1),
                       0);
        bench_json_num("seconds", rep->peak.run.seconds, 0);
        bench_json_num("requests_per_s", f->requests, 0);
        bench_json_num("records_per_s", f->records, 0);
        bench_json_num("redeems_per_s", f->redeems, 0);
        bench_json_num("writes_per_s", f->writes, 0);
        bench_json_num("mix_balance_per_s", f->mix_balance, 0);
        bench_json_latency("", &rep->peak, BENCH_RECORD, BENCH_BALANCE);
        bench_json_num("balance_per_s", f->reads, 0);
        bench_json_latency("reads_", &rep->reads, BENCH_BALANCE, BENCH_BALANCE);
        bench_json_num("half_offered_per_s", f->half_offered, 0);
        bench_json_latency("half_", &rep->half, BENCH_RECORD, BENCH_BALANCE);
        bench_json_num("verify_us", rep->verify_us, 0);
        bench_json_num("verify_wall_us", rep->verify_wall_us, 0);
        bench_json_num("verify_ceiling_per_s", rep->ceiling, 0);
        bench_json_num("daemon_cpu_us_per_record", f->cpu_record_us, 0);
        bench_json_num("daemon_cpu_us_per_read", f->cpu_read_us, 0);
        bench_json_num("daemon_cpu_us_per_request", f->cpu_request_us, 0);
        bench_json_num("daemon_cpu_sys_share", f->sys_share, 0);
        bench_json_num("signer_cpu_us_per_record", f->signer_record_us, 0);
        bench_json_num("daemon_voluntary_switches_per_record", f->ctxsw_vol, 0);
        bench_json_num("daemon_involuntary_switches_per_record", f->ctxsw_invol,
                       0);
        bench_json_num("daemon_minor_faults_per_record", f->minflt, 0);
        bench_json_num("batch_writes_mean", f->batch_mean, 0);
        bench_json_num("half_batch_writes_mean", f->half_batch_mean, 0);
        bench_json_num("daemon_peak_rss_mib", f->hwm_mib, 0);
        bench_json_num("daemon_rss_mib", f->rss_mib, 0);
        bench_json_num("daemon_private_mib", f->private_mib, 0);
        bench_json_num("daemon_private_clean_mib", f->private_clean_mib, 0);
        bench_json_num("daemon_private_dirty_mib", f->private_dirty_mib, 0);
        bench_json_num("daemon_anon_mib", f->anon_mib, 0);
        bench_json_num("daemon_private_idle_mib", f->idle_private_mib, 0);
        bench_json_num("daemon_idle_s", f->idle_s, 0);
        bench_json_num("tree_size", (double)f->tree_size, 0);
        bench_json_num("data_mdb_bytes", (double)f->disk_bytes, 0);
        bench_json_num("bytes_per_entry", f->bytes_per_entry, 0);
        bench_json_num("written_bytes_per_entry", f->written_per_entry, 0);
        bench_json_num("pwritten_bytes_per_entry", f->pwritten_per_entry, 0);
        bench_json_str("sqlite", o->sqlite_s <= 0    ? "skipped"
                                 : rep->sqlite.built ? "built"
                                                     : "not built");
        if (rep->sqlite.built)
                bench_json_str("sqlite_version", rep->sqlite.version);
        else
                printf("  \"sqlite_version\": null,\n");
        bench_json_num("sqlite_start_rows",
                       rep->sqlite.built ? (double)rep->sqlite.rows0 : NAN, 0);
        bench_json_num("sqlite_records_per_s", f->sqlite, 0);
        bench_json_num("sqlite_record_p99_ms",
                       rep->sqlite.built ? rep->sqlite.p99_ms : NAN, 0);
        bench_json_num("cpu_per_record_over_verify", f->ratio_cpu, 0);
        bench_json_num("records_over_sqlite", f->ratio_sqlite, 0);
        bench_json_num("writes_over_verify_ceiling", f->ratio_ceiling, 0);
        printf("  \"targets\": {\n");
        bench_json_target("cpu_per_record_le_1.3_verify", f->t_cpu, 0);
        bench_json_target("records_ge_5x_sqlite", f->t_sqlite, 0);
        bench_json_target("half_rate_record_p99_le_10ms", f->t_p99, 0);
        bench_json_target("balance_ge_50000_per_s", f->t_reads, 0);
        bench_json_target("private_le_64mib_at_1m_entries", f->t_private, 1);
        printf("  }\n}\n");
}

static const char *bench_verdict(int t)
{
        return t < 0 ? "not measured" : t ? "met" : "MISSED";
}

/* v with decimals digits and then unit, or "unknown". */
static void bench_text_num(double v, int decimals, const char *unit)
{
        if (isnan(v) || isinf(v))
                printf("unknown%s", strchr(unit, '\n') ? "\n" : "");
        else
                printf("%.*f%s", decimals, v, unit);
}

static void bench_print_phase(struct bench_phase *ph, const char *title)
{
        if (!ph->done)
                return;
        printf("%s: %.2f s\n", title, ph->run.seconds);
        printf("  %-8s %9s %10s %8s %8s %8s %8s\n", "kind", "answers", "per s",
               "p50 ms", "p99 ms", "p99.9 ms", "max ms");
        for (unsigned k = 0; k < BENCH_SETUP; k++) {
                struct bench_series *s = &ph->run.kind[k];
                if (s->n == 0)
                        continue;
                printf("  %-8s %9zu %10.0f %8.2f %8.2f %8.2f %8.2f\n",
                       bench_kind_name(k), s->n, (double)s->n / ph->run.seconds,
                       bench_series_quantile_ms(s, 0.5),
                       bench_series_quantile_ms(s, 0.99),
                       bench_series_quantile_ms(s, 0.999),
                       bench_series_quantile_ms(s, 1));
        }
}

static void bench_print_text(struct bench_report *rep,
                             const struct bench_ledger *l,
                             const struct bench_opts *o,
                             const struct bench_figures *f)
{
        char title[160];

        printf("timebank-bench: %s daemon (pid %ld), %u connections, %s, "
               "mix record=%u,redeem=%u,balance=%u, %u accounts\n",
               l->own ? "a private" : "an existing", rep->pid, o->conns,
               o->rate > 0 ? "open loop" : "closed loop", o->mix[0], o->mix[1],
               o->mix[2], l->accounts);
        printf("machine: %ld CPUs, %s; write + fdatasync %.2f ms (median, "
               "in %s)\n",
               rep->nproc, rep->cpu_model, rep->fsync_us / 1000,
               rep->fsync_dir);
        if (o->rate > 0)
                snprintf(title, sizeof(title), "peak phase, offered %.0f/s",
                         o->rate);
        else
                snprintf(title, sizeof(title), "peak phase, depth %u",
                         o->depth);
        bench_print_phase(&rep->peak, title);
        bench_print_phase(&rep->reads, "reads phase (balance only)");
        snprintf(title, sizeof(title), "half phase, offered %.0f/s",
                 rep->half.rate);
        bench_print_phase(&rep->half, title);
        printf("daemon CPU per record: ");
        bench_text_num(f->cpu_record_us, 1, " us");
        printf(" (%.2fx one verification, %.1f us on one core); per read: ",
               f->ratio_cpu, rep->verify_us);
        bench_text_num(f->cpu_read_us, 1, " us");
        printf("; the kernel's share ");
        bench_text_num(f->sys_share * 100, 0, " %\n");
        printf("  signer process per record: ");
        bench_text_num(f->signer_record_us, 1, " us");
        printf("; context switches per record: ");
        bench_text_num(f->ctxsw_vol, 2, " voluntary, ");
        bench_text_num(f->ctxsw_invol, 2, " involuntary; minor faults ");
        bench_text_num(f->minflt, 2, "\n");
        printf("  writes per committed batch: ");
        bench_text_num(f->batch_mean, 1, " (peak), ");
        bench_text_num(f->half_batch_mean, 1, " (half phase)\n");
        printf("daemon memory: peak RSS (VmHWM) ");
        bench_text_num(f->hwm_mib, 1, " MiB");
        printf(", private ");
        bench_text_num(f->private_mib, 1, " MiB");
        printf(" (clean ");
        bench_text_num(f->private_clean_mib, 1, " MiB");
        printf(", dirty ");
        bench_text_num(f->private_dirty_mib, 1, " MiB");
        printf(", anonymous ");
        bench_text_num(f->anon_mib, 1, " MiB");
        printf("); private after %.1f s idle ", f->idle_s);
        bench_text_num(f->idle_private_mib, 1, " MiB");
        printf("\nstorage: data.mdb %llu bytes for %llu entries: ",
               (unsigned long long)f->disk_bytes,
               (unsigned long long)f->tree_size);
        bench_text_num(f->bytes_per_entry, 0, " bytes per entry");
        printf("; written ");
        bench_text_num(f->written_per_entry, 0, " bytes per entry");
        printf(" (write_bytes), ");
        bench_text_num(f->pwritten_per_entry, 0,
                       " bytes per entry passed to write calls\n");
        printf("ceiling: %.0f verifications/s on %ld cores; the daemon's "
               "writes are %.1f%% of it\n",
               rep->ceiling, rep->nproc, f->ratio_ceiling * 100);
        if (o->sqlite_s <= 0)
                printf("sqlite: skipped (--sqlite-seconds 0)\n");
        else if (!rep->sqlite.built)
                printf("sqlite: not built (no libsqlite3 found at build "
                       "time)\n");
        else
                printf("sqlite %s: %.0f records/s (%u threads, WAL, "
                       "synchronous=FULL, a transaction per request, from "
                       "%llu rows), p99 %.2f ms; the daemon's records/s are "
                       "%.1fx\n",
                       rep->sqlite.version, f->sqlite, o->conns,
                       (unsigned long long)rep->sqlite.rows0,
                       rep->sqlite.p99_ms, f->ratio_sqlite);
        printf("targets: CPU per record <= 1.3 verifications: %s; records/s "
               ">= 5x SQLite: %s; record p99 <= 10 ms at half the peak: %s; "
               "balance reads >= 50,000/s: %s; private <= 64 MiB at 1M "
               "entries: %s\n",
               bench_verdict(f->t_cpu), bench_verdict(f->t_sqlite),
               bench_verdict(f->t_p99), bench_verdict(f->t_reads),
               bench_verdict(f->t_private));
}

void bench_report_print(struct bench_report *rep, const struct bench_ledger *l,
                        const struct bench_opts *o)
{
        struct bench_figures f;

        bench_figures(rep, &f);
        if (o->json)
                bench_print_json(rep, l, o, &f);
        else
                bench_print_text(rep, l, o, &f);
}
