/* gradsweep info OUT.h5 and gradsweep status OUT.h5 [SPEC [key=v ...]]: what an output holds
 * and which runs of its plan are done, failed or missing. The reading is gs_inspect (store
 * module, the only HDF5 user); this file parses arguments and prints. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "gradsweep/config.h"
#include "gradsweep/inspect.h"
#include "gradsweep/spec.h"
#include "gradsweep/train.h"

enum { RC_OK = 0, RC_INCOMPLETE = 1, RC_USAGE = 2 };

static const char *status_name(int s)
{
    return s == GS_RUN_OK         ? "ok"
           : s == GS_RUN_DIVERGED ? "diverged"
           : s == GS_RUN_STOPPED  ? "stopped"
                                  : "?";
}

static const char *verdict_name(int v)
{
    return v >= 0 && v < GS_VERDICT__COUNT ? gs_verdict_names[v] : "";
}

/* "176.3 MiB" */
static void human(uint64_t b, char *buf, size_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%" PRIu64 " B", b);
    else
        snprintf(buf, n, "%.1f %s", v, unit[u]);
}

static void usage_info(FILE *f)
{
    fprintf(f, "usage: gradsweep info OUT.h5\n"
               "\n"
               "Prints what an output holds: schema and version, creation time, spec name, runs\n"
               "committed and planned, counts by status and by verdict, the sweep axes and their\n"
               "values, the record settings and the size on disk. Works on an output that is\n"
               "still being written or was interrupted (it reads the journal, takes no lock).\n"
               "\n"
               "exit codes: 0 done, 2 not a gradsweep output (or missing), 1 read error\n");
}

/* Loads the plan of the output's stored spec; NULL (with msg) when it has none or it fails. */
static gs_plan *stored_plan(const gs_inspect *in, const char *path, gs_error *err)
{
    gs_plan *plan = NULL;
    char name[600];
    if (!in->spec) {
        gs_error_set(err, GS_EINVAL, "%s has no index yet, so its spec is unknown", path);
        return NULL;
    }
    snprintf(name, sizeof name, "%s (attribute spec)", path);
    if (gs_plan_parse(&plan, in->spec, strlen(in->spec), name, NULL, 0, err) != GS_OK)
        return NULL;
    return plan;
}

static void print_counts(const gs_inspect *in)
{
    size_t st[3] = {0, 0, 0}, vd[GS_VERDICT__COUNT] = {0}, unknown = 0;
    for (size_t i = 0; i < in->n_committed; i++) {
        const gs_inspect_run *r = &in->runs[i];
        if (r->status >= 0 && r->status < 3)
            st[r->status]++;
        if (r->verdict >= 0 && r->verdict < GS_VERDICT__COUNT)
            vd[r->verdict]++;
        else
            unknown++;
    }
    printf("  status      %zu ok, %zu diverged, %zu stopped\n", st[GS_RUN_OK], st[GS_RUN_DIVERGED],
           st[GS_RUN_STOPPED]);
    if (unknown == in->n_committed && unknown > 0) {
        printf("  verdicts    none: the runs were written before verdicts existed\n");
        return;
    }
    printf("  verdicts   ");
    for (int v = 0; v < GS_VERDICT__COUNT; v++)
        printf(" %zu %s%s", vd[v], gs_verdict_names[v], v + 1 < GS_VERDICT__COUNT ? "," : "");
    if (unknown)
        printf("; %zu without a verdict (written before verdicts existed)", unknown);
    printf("\n");
}

static void print_axes(const gs_inspect *in, const char *path)
{
    gs_error err;
    gs_error_clear(&err);
    gs_plan *plan = stored_plan(in, path, &err);
    if (!plan) {
        printf("  axes        unknown: %s\n", err.msg);
        return;
    }
    if (plan->n_axes == 0)
        printf("  axes        none (a single configuration)\n");
    for (size_t a = 0; a < plan->n_axes; a++) {
        const gs_axis *ax = &plan->axes[a];
        printf("  %-11s %s (%zu):", a == 0 ? "axes" : "", ax->key->path, ax->n_values);
        for (size_t v = 0; v < ax->n_values; v++)
            printf("%s %s", v ? "," : "", ax->values[v]);
        printf("\n");
    }
    printf("  replicates  %" PRId64 "\n", plan->replicates);
    gs_plan_destroy(plan);
}

static void print_info(const gs_inspect *in, const char *path)
{
    char hb[32], db[32], tb[32];
    if (in->has_index)
        printf("%s: %s (schema_minor %" PRId64 "), written by gradsweep %s\n", path, in->schema,
               in->schema_minor, in->version[0] ? in->version : "?");
    else
        printf("%s: no index yet (a sweep interrupted before its first index was written); "
               "from the journal:\n",
               path);
    printf("  name        %s\n", in->name[0] ? in->name : "?");
    printf("  created     %s\n", in->created[0] ? in->created : "?");
    if (in->n_runs >= 0)
        printf("  runs        %zu committed of %" PRId64 " planned%s\n", in->n_committed,
               in->n_runs, (int64_t)in->n_committed >= in->n_runs ? " (complete)" : "");
    else
        printf("  runs        %zu committed\n", in->n_committed);
    if (in->has_index && in->has_journal && in->n_indexed != in->n_committed)
        printf("  note        the index lists %zu of them: a sweep being written, or interrupted "
               "(gradsweep run --resume brings the index up to date)\n",
               in->n_indexed);
    if (in->n_partial)
        printf("  note        %zu segment%s being written, or left by a killed writer\n",
               in->n_partial, in->n_partial == 1 ? "" : "s");
    print_counts(in);
    print_axes(in, path);
    if (in->n_record) {
        printf("  record     ");
        for (size_t i = 0; i < in->n_record; i++)
            printf(" %s=%s", in->record[i].name + 7, in->record[i].value);
        printf("\n");
    } else if (in->journal_record[0]) {
        printf("  record      %s\n", in->journal_record);
    }
    human(in->index_bytes, hb, sizeof hb);
    human(in->dir_bytes, db, sizeof db);
    human(in->index_bytes + in->dir_bytes, tb, sizeof tb);
    printf("  size        %s (%" PRIu64 " bytes): index %s, %s.d %s in %zu segment%s\n", tb,
           in->index_bytes + in->dir_bytes, hb, path, db, in->n_segments,
           in->n_segments == 1 ? "" : "s");
}

int gs_cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage_info(stdout);
            return RC_OK;
        }
        if (argv[i][0] == '-' || path) {
            fprintf(stderr, "gradsweep info: unexpected argument '%s'\n", argv[i]);
            usage_info(stderr);
            return RC_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        usage_info(stderr);
        return RC_USAGE;
    }
    gs_inspect *in = NULL;
    gs_error err;
    gs_error_clear(&err);
    gs_status s = gs_inspect_open(&in, path, &err);
    if (s != GS_OK) {
        fprintf(stderr, "gradsweep info: %s\n", err.msg);
        return gs_status_exit_code(s);
    }
    print_info(in, path);
    gs_inspect_destroy(in);
    return RC_OK;
}

/* ---- status ---- */

static void usage_status(FILE *f)
{
    fprintf(f, "usage: gradsweep status OUT.h5 [SPEC [key.path=v1,v2 ...]] [--csv] [--all]\n"
               "\n"
               "Compares the plan with what OUT.h5 holds: done (status ok), failed (diverged or\n"
               "stopped, with the verdict) and missing (planned, not committed), with counts and\n"
               "the run ids and axis values of the failed and missing runs. The plan is that of\n"
               "the spec stored in OUT.h5, or of SPEC with overrides (as gradsweep run takes\n"
               "them); committed runs outside that plan are listed too.\n"
               "\n"
               "  --all   also list the done runs\n"
               "  --csv   one line per planned run: run_id,state,status,verdict,verdict_step,\n"
               "          then one column per axis (named by its key path)\n"
               "\n"
               "exit codes: 0 every planned run is committed (failed runs count: they are\n"
               "results), 1 runs are missing, 2 any error (usage, spec, not a gradsweep output,\n"
               "unreadable file)\n");
}

typedef enum { ST_DONE, ST_FAILED, ST_MISSING } state;
static const char *const state_names[] = {"done", "failed", "missing"};

/* Writes s as a CSV field (quoted when it holds a comma, a quote or a newline). */
static void csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static state run_state(const gs_inspect_run *r)
{
    return !r ? ST_MISSING : r->status == GS_RUN_OK ? ST_DONE : ST_FAILED;
}

/* " key=value ..." of run's axes (and its replicate when the plan has several). */
static void print_axis_values(const gs_plan *plan, const gs_run *run)
{
    char buf[GS_PATH_MAX + 8];
    for (size_t a = 0; a < plan->n_axes; a++)
        printf("  %s=%s", plan->axes[a].key->path,
               gs_key_format(plan->axes[a].key, &run->cfg, buf, sizeof buf));
    if (plan->replicates > 1)
        printf("  replicate=%" PRId64, run->replicate);
}

static void print_csv(const gs_plan *plan, const gs_inspect *in)
{
    char buf[GS_PATH_MAX + 8];
    printf("run_id,state,status,verdict,verdict_step");
    for (size_t a = 0; a < plan->n_axes; a++)
        printf(",%s", plan->axes[a].key->path);
    printf(plan->replicates > 1 ? ",replicate\n" : "\n");
    for (size_t i = 0; i < plan->n_runs; i++) {
        const gs_run *run = &plan->runs[i];
        const gs_inspect_run *r = gs_inspect_find(in, run->id);
        printf("%s,%s,%s,%s,", run->id, state_names[run_state(r)], r ? status_name(r->status) : "",
               r ? verdict_name(r->verdict) : "");
        if (r)
            printf("%" PRId64, r->verdict_step);
        for (size_t a = 0; a < plan->n_axes; a++) {
            putchar(',');
            csv_field(gs_key_format(plan->axes[a].key, &run->cfg, buf, sizeof buf));
        }
        if (plan->replicates > 1)
            printf(",%" PRId64, run->replicate);
        putchar('\n');
    }
}

/* Lists the planned runs in state want (all of them for ST_DONE only with all). */
static void print_group(const gs_plan *plan, const gs_inspect *in, state want, size_t n)
{
    if (n == 0)
        return;
    printf("%s (%zu):\n", state_names[want], n);
    for (size_t i = 0; i < plan->n_runs; i++) {
        const gs_run *run = &plan->runs[i];
        const gs_inspect_run *r = gs_inspect_find(in, run->id);
        if (run_state(r) != want)
            continue;
        printf("  %s", run->id);
        if (r)
            printf("  %-8s  %-9s", status_name(r->status),
                   r->verdict >= 0 ? verdict_name(r->verdict) : "-");
        if (r && r->verdict >= 0 && r->verdict != GS_VERDICT_HEALTHY)
            printf(" at step %-6" PRId64, r->verdict_step);
        print_axis_values(plan, run);
        printf("\n");
    }
}

/* Committed runs the plan does not have (a SPEC other than the stored one). */
static size_t print_extra(const gs_plan *plan, const gs_inspect *in)
{
    char *planned = calloc(in->n_committed + 1, 1);
    size_t n = 0;
    if (!planned)
        return 0;
    for (size_t i = 0; i < plan->n_runs; i++) {
        const gs_inspect_run *r = gs_inspect_find(in, plan->runs[i].id);
        if (r)
            planned[r - in->runs] = 1;
    }
    for (size_t i = 0; i < in->n_committed; i++)
        n += !planned[i];
    if (n)
        printf("not in this plan (%zu committed runs):\n", n);
    for (size_t i = 0; i < in->n_committed; i++)
        if (!planned[i])
            printf("  %s  %-8s  %s\n", in->runs[i].id, status_name(in->runs[i].status),
                   in->runs[i].verdict >= 0 ? verdict_name(in->runs[i].verdict) : "-");
    free(planned);
    return n;
}

static int report(const gs_plan *plan, const gs_inspect *in, const char *path, int all)
{
    size_t n[3] = {0, 0, 0};
    for (size_t i = 0; i < plan->n_runs; i++)
        n[run_state(gs_inspect_find(in, plan->runs[i].id))]++;
    printf("%s: %zu runs planned: %zu done, %zu failed, %zu missing\n", path, plan->n_runs,
           n[ST_DONE], n[ST_FAILED], n[ST_MISSING]);
    if (all)
        print_group(plan, in, ST_DONE, n[ST_DONE]);
    print_group(plan, in, ST_FAILED, n[ST_FAILED]);
    print_group(plan, in, ST_MISSING, n[ST_MISSING]);
    print_extra(plan, in);
    return n[ST_MISSING] ? RC_INCOMPLETE : RC_OK;
}

int gs_cmd_status(int argc, char **argv)
{
    const char *path = NULL, *spec = NULL;
    const char **over = calloc((size_t)argc + 1, sizeof *over);
    size_t n_over = 0;
    int csv = 0, all = 0, rc = RC_USAGE;
    gs_inspect *in = NULL;
    gs_plan *plan = NULL;
    gs_error err;
    gs_error_clear(&err);
    if (!over) {
        fprintf(stderr, "gradsweep status: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage_status(stdout);
            rc = RC_OK;
            goto done;
        } else if (strcmp(a, "--csv") == 0) {
            csv = 1;
        } else if (strcmp(a, "--all") == 0) {
            all = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "gradsweep status: unknown option '%s'\n", a);
            usage_status(stderr);
            goto done;
        } else if (!path) {
            path = a;
        } else if (!spec && !strchr(a, '=')) {
            spec = a;
        } else if (spec && strchr(a, '=')) {
            over[n_over++] = a;
        } else {
            fprintf(stderr, "gradsweep status: unexpected argument '%s'%s\n", a,
                    spec ? "" : " (overrides follow a SPEC)");
            usage_status(stderr);
            goto done;
        }
    }
    if (!path) {
        usage_status(stderr);
        goto done;
    }
    gs_status s = gs_inspect_open(&in, path, &err);
    if (s == GS_OK && spec)
        s = gs_plan_load(&plan, spec, over, n_over, &err);
    else if (s == GS_OK && !(plan = stored_plan(in, path, &err)))
        s = err.status != GS_OK ? err.status : GS_EINVAL;
    if (s != GS_OK) {
        /* every error is 2, so that 1 keeps meaning "runs are missing" */
        fprintf(stderr, "gradsweep status: %s\n", err.msg);
        goto done;
    }
    if (csv) {
        print_csv(plan, in);
        rc = RC_OK;
        for (size_t i = 0; i < plan->n_runs && rc == RC_OK; i++)
            rc = gs_inspect_find(in, plan->runs[i].id) ? RC_OK : RC_INCOMPLETE;
    } else {
        rc = report(plan, in, path, all);
    }
done:
    gs_plan_destroy(plan);
    gs_inspect_destroy(in);
    free(over);
    return rc;
}
