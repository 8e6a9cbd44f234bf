/* gradsweep command-line interface: subcommands run / list, help, version, exit codes, progress
 * display and signal handling. The only part of gradsweep that prints or exits. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <omp.h>

#include "cli/cmd.h"
#include "gradsweep/config.h"
#include "gradsweep/driver.h"
#include "gradsweep/spec.h"
#include "gradsweep/store.h"
#include "gradsweep/train.h"

#ifndef GS_VERSION_STRING
#define GS_VERSION_STRING "0.0.0"
#endif

enum { EXIT_DONE = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3 };

#define DEFAULT_MAX_OUTPUT 50e9 /* bytes: --max-output 50G */

/* Set by SIGINT/SIGTERM. A signal handler can reach nothing else, so this one flag is the only
 * mutable global of the program; the library gets a pointer to it. */
static atomic_int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
    static const char msg[] = "\ngradsweep: stopping: finishing the commit of finished runs "
                              "(signal again to abort at once; --resume continues)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = (int)SA_RESETHAND; /* a second signal takes the default action */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void print_names(FILE *f, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        fprintf(f, "%s%s", i ? " | " : "", names[i]);
}

static void usage_keys(FILE *f)
{
    fprintf(f, "\nSpec keys (data/model/train; a YAML list or {logspace|linspace: [a, b, n]} or "
               "{values: [...]} makes a sweep axis):\n");
    for (const gs_key *k = gs_keys; k->path; k++) {
        fprintf(f, "  %-18s ", k->path);
        if (k->type == GS_KEY_ENUM)
            print_names(f, k->names);
        else if (gs_key_has_list(k))
            fprintf(f, "integer | {layers: [w1, ...]}");
        else if (k->type == GS_KEY_STR && k->dflt && !k->dflt[0])
            fprintf(f, "[verdict, ...]");
        else
            fprintf(f, "%s",
                    k->type == GS_KEY_INT     ? "integer"
                    : k->type == GS_KEY_REAL  ? "real"
                    : k->type == GS_KEY_BATCH ? "integer | full"
                                              : "string");
        fprintf(f, "%s%s%s  %s\n", k->dflt ? " (default " : " (required",
                k->dflt ? (k->dflt[0] ? k->dflt : "[]") : "", ")", k->help);
    }
    fprintf(f, "  record.every       integer (default 1)  statistics every k steps\n"
               "  record.grads       [steps] | {every: k} | {log: n}  gradient snapshots (steps\n"
               "                     must be < train.steps)\n"
               "  record.weights     true | false (default false)  also store weights\n"
               "  record.dtype       ");
    print_names(f, gs_dtype_names);
    fprintf(f, " (default float32)  storage precision of tensors\n"
               "  record.level       ");
    print_names(f, gs_level_names);
    fprintf(f, " (default standard)  per-layer statistics per row\n"
               "  record.hist        {bins: k, every: e, min: a, max: b} | null (default null)\n"
               "                     log10|v| histograms of gradients and deltas; min -12, max 2\n"
               "  record.probe_batch integer (default 32)  rows of the fixed probe batch\n"
               "  record.activations true | false (default false)  probe pre-activations\n"
               "  record.deltas      true | false (default false)  probe back-propagated deltas\n"
               "  record.jacobian    {inputs: m} | null (default null)  input-output Jacobian\n"
               "                     singular values of the first m probe samples\n"
               "  (definitions: docs/probes.md; overrides record.hist.bins=40, "
               "record.jacobian.inputs=4, ...)\n");
}

static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: gradsweep <command> [options]\n"
            "\n"
            "Sweeps of deep-network training runs that record per-layer gradients to HDF5.\n"
            "\n"
            "commands:\n"
            "  run SPEC   train every run of a sweep spec and store it (gradsweep run --help)\n"
            "  list SPEC  print the expanded runs: id, seed, axis values (gradsweep list --help)\n"
            "  theory     mean-field q*, chi1, depth scales and the critical line\n"
            "             (gradsweep theory --help)\n"
            "  info OUT   what an output holds: runs, status and verdict counts, axes, size\n"
            "  status OUT done / failed / missing runs of the plan (gradsweep status --help)\n"
            "  report OUT write the standard figures and index.html (gradsweep report --help)\n"
            "  help       this text\n"
            "\n"
            "options: --help, --version\n"
            "exit codes: 0 done, 1 runtime failure, 2 usage or spec error, 3 interrupted "
            "(resumable with --resume)\n");
}

static void usage_run(FILE *f)
{
    fprintf(f,
            "usage: gradsweep run SPEC [-o OUT.h5] [-j THREADS] [--resume] [--force] [--dry-run]\n"
            "                     [--max-output SIZE] [--force-output] [--progress SECONDS] [-q]\n"
            "                     [key.path=v1,v2 ...]\n"
            "\n"
            "Trains every run of SPEC (YAML) on THREADS OpenMP threads and writes OUT.h5\n"
            "(default results/<name>.h5) with its segment directory OUT.h5.d/.\n"
            "\n"
            "  -o, --output OUT.h5  output file\n"
            "  -j, --threads N      worker threads (default: OMP_NUM_THREADS or all cores)\n"
            "  --resume             continue an interrupted output: finished runs are kept\n"
            "  --force              overwrite an existing output\n"
            "  --dry-run            print runs, estimated flops, output size per run and in all\n"
            "                       (for the record settings) and memory; train nothing\n"
            "  --max-output SIZE    refuse to start when a run's predicted output (uncompressed)\n"
            "                       exceeds SIZE: bytes, or with a suffix K, M, G, T (powers of\n"
            "                       1000: 50G = 50e9 bytes); default 50G\n"
            "  --force-output       skip that check\n"
            "  --progress SECONDS   interval of plain progress lines when stderr is not a\n"
            "                       terminal (default 5)\n"
            "  -q, --quiet          no progress display\n"
            "  --commit-seconds S   commit finished runs to disk at least every S seconds\n"
            "                       (default 5)\n"
            "  --commit-runs N      ... or every N finished runs (default 64)\n"
            "  key.path=v1,v2       override a spec key: one value sets it, several make an axis\n"
            "\n"
            "Activations: ");
    print_names(f, gs_act_names);
    fprintf(f, "\nInits: ");
    print_names(f, gs_init_names);
    fprintf(f, "\nLosses: ");
    print_names(f, gs_loss_names);
    fprintf(f, "\nOptimizers: ");
    print_names(f, gs_opt_names);
    fprintf(f, "\nData kinds: ");
    print_names(f, gs_datakind_names);
    fprintf(f, "\n");
    usage_keys(f);
    fprintf(f, "\nexit codes: 0 done, 1 runtime failure, 2 usage or spec error, 3 interrupted "
               "(resumable)\n");
}

static void usage_list(FILE *f)
{
    fprintf(f,
            "usage: gradsweep list SPEC [--csv] [key.path=v1,v2 ...]\n"
            "\n"
            "Prints one line per run of SPEC in grid order: index, run id, seed, replicate and\n"
            "the value of every sweep axis. --csv prints comma-separated values with a header.\n");
}

/* Options of the run and list subcommands. */
typedef struct {
    const char *spec;
    const char *out;
    int threads;
    int resume, force, dry_run, csv, quiet, force_output;
    double max_output; /* bytes */
    double progress_s;
    double commit_s;
    long commit_runs;
    const char **overrides;
    size_t n_overrides;
} cli_opts;

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 4096)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parses subcommand arguments; returns -1 (usage error, printed), 1 (help printed) or 0. */
static int parse_args(int argc, char **argv, int is_run, cli_opts *o)
{
    void (*usage)(FILE *) = is_run ? usage_run : usage_list;
    o->overrides = calloc((size_t)argc + 1, sizeof *o->overrides);
    if (!o->overrides)
        return -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (is_run && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && val) {
            o->out = val;
            i++;
        } else if (is_run && (strcmp(a, "-j") == 0 || strcmp(a, "--threads") == 0) && val) {
            if (parse_int(val, &o->threads) != 0) {
                fprintf(stderr, "gradsweep run: -j: expected a thread count 1..4096, got '%s'\n",
                        val);
                return -1;
            }
            i++;
        } else if (is_run && strcmp(a, "--progress") == 0 && val) {
            char *end;
            o->progress_s = strtod(val, &end);
            if (*end || !(o->progress_s > 0)) {
                fprintf(stderr, "gradsweep run: --progress: expected seconds > 0, got '%s'\n", val);
                return -1;
            }
            i++;
        } else if (is_run && strcmp(a, "--commit-seconds") == 0 && val) {
            char *end;
            o->commit_s = strtod(val, &end);
            if (*end || !(o->commit_s > 0)) {
                fprintf(stderr,
                        "gradsweep run: --commit-seconds: expected seconds > 0, got "
                        "'%s'\n",
                        val);
                return -1;
            }
            i++;
        } else if (is_run && strcmp(a, "--commit-runs") == 0 && val) {
            int n;
            if (parse_int(val, &n) != 0) {
                fprintf(stderr, "gradsweep run: --commit-runs: expected 1..4096, got '%s'\n", val);
                return -1;
            }
            o->commit_runs = n;
            i++;
        } else if (is_run && strcmp(a, "--max-output") == 0 && val) {
            if (gs_budget_parse_size(val, &o->max_output) != 0 || !(o->max_output > 0)) {
                fprintf(stderr,
                        "gradsweep run: --max-output: expected a size > 0 in bytes, with an "
                        "optional suffix K, M, G or T (powers of 1000), got '%s'\n",
                        val);
                return -1;
            }
            i++;
        } else if (is_run && strcmp(a, "--force-output") == 0) {
            o->force_output = 1;
        } else if (is_run && strcmp(a, "--resume") == 0) {
            o->resume = 1;
        } else if (is_run && strcmp(a, "--force") == 0) {
            o->force = 1;
        } else if (is_run && strcmp(a, "--dry-run") == 0) {
            o->dry_run = 1;
        } else if (is_run && (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
            o->quiet = 1;
        } else if (!is_run && strcmp(a, "--csv") == 0) {
            o->csv = 1;
        } else if (a[0] == '-') {
            fprintf(stderr, "gradsweep %s: unknown or incomplete option '%s'\n",
                    is_run ? "run" : "list", a);
            usage(stderr);
            return -1;
        } else if (strchr(a, '=')) {
            o->overrides[o->n_overrides++] = a;
        } else if (!o->spec) {
            o->spec = a;
        } else {
            fprintf(stderr,
                    "gradsweep %s: unexpected argument '%s' (overrides look like "
                    "key.path=value)\n",
                    is_run ? "run" : "list", a);
            return -1;
        }
    }
    if (!o->spec) {
        usage(stderr);
        return -1;
    }
    if (o->resume && o->force) {
        fprintf(stderr, "gradsweep run: --resume and --force exclude each other\n");
        return -1;
    }
    return 0;
}

static gs_status load_plan(const cli_opts *o, gs_plan **plan)
{
    gs_error err;
    gs_error_clear(&err);
    gs_status s = gs_plan_load(plan, o->spec, o->overrides, o->n_overrides, &err);
    if (s != GS_OK)
        fprintf(stderr, "gradsweep: %s\n", err.msg);
    /* An unreadable spec named on the command line is a usage error (exit 2). */
    return s == GS_EIO ? GS_ESPEC : s;
}

/* CSV field: quoted (with "" for ") when it holds a comma, quote or newline. */
static void csv_field(const char *v)
{
    if (!strpbrk(v, ",\"\n")) {
        fputs(v, stdout);
        return;
    }
    putchar('"');
    for (; *v; v++) {
        if (*v == '"')
            putchar('"');
        putchar(*v);
    }
    putchar('"');
}

static void list_csv(const gs_plan *plan)
{
    char buf[GS_PATH_MAX + 64];
    printf("index,run_id,seed,replicate");
    for (size_t a = 0; a < plan->n_axes; a++)
        printf(",%s", plan->axes[a].key->path);
    printf("\n");
    for (size_t i = 0; i < plan->n_runs; i++) {
        const gs_run *run = &plan->runs[i];
        printf("%zu,%s,%llu,%lld", i, run->id, (unsigned long long)run->seed,
               (long long)run->replicate);
        for (size_t a = 0; a < plan->n_axes; a++) {
            putchar(',');
            csv_field(gs_key_format(plan->axes[a].key, &run->cfg, buf, sizeof buf));
        }
        printf("\n");
    }
}

/* Aligned table: each axis column as wide as its name or its longest value. */
static void list_table(const gs_plan *plan)
{
    char buf[GS_PATH_MAX + 64];
    printf("%5s  %-16s  %10s  %3s", "index", "run_id", "seed", "rep");
    for (size_t a = 0; a < plan->n_axes; a++)
        printf("  %s", plan->axes[a].key->path);
    printf("\n");
    for (size_t i = 0; i < plan->n_runs; i++) {
        const gs_run *run = &plan->runs[i];
        printf("%5zu  %-16s  %10llu  %3lld", i, run->id, (unsigned long long)run->seed,
               (long long)run->replicate);
        for (size_t a = 0; a < plan->n_axes; a++) {
            const gs_axis *ax = &plan->axes[a];
            size_t w = strlen(ax->key->path);
            for (size_t v = 0; v < ax->n_values; v++)
                if (strlen(ax->values[v]) > w)
                    w = strlen(ax->values[v]);
            printf("  %-*s", (int)w, gs_key_format(ax->key, &run->cfg, buf, sizeof buf));
        }
        printf("\n");
    }
}

static int cmd_list(int argc, char **argv)
{
    cli_opts o = {0};
    int r = parse_args(argc, argv, 0, &o);
    gs_plan *plan = NULL;
    if (r != 0) {
        free(o.overrides);
        return r > 0 ? EXIT_DONE : EXIT_USAGE;
    }
    gs_status s = load_plan(&o, &plan);
    free(o.overrides);
    if (s != GS_OK)
        return gs_status_exit_code(s);
    if (o.csv)
        list_csv(plan);
    else
        list_table(plan);
    gs_plan_destroy(plan);
    return EXIT_DONE;
}

static void human(double v, const char *unit, char *buf, size_t n)
{
    const char *pre[] = {"", "k", "M", "G", "T", "P", "E"};
    int i = 0;
    while (v >= 1000.0 && i < 6) {
        v /= 1000.0;
        i++;
    }
    snprintf(buf, n, "%.3g %s%s", v, pre[i], unit);
}

/* Budgets of every run: from the loaded data sets when given (file kinds), else from the
 * config (file kinds: the hidden widths stand in for the data dims). NULL when out of memory. */
static gs_budget *plan_budgets(const gs_plan *plan, const gs_plan_data *data)
{
    gs_budget *b = calloc(plan->n_runs ? plan->n_runs : 1, sizeof *b);
    for (size_t i = 0; b && i < plan->n_runs; i++) {
        const gs_run_config *c = &plan->runs[i].cfg;
        const gs_dataset *ds = data ? gs_plan_data_get(data, i) : NULL;
        int64_t d_in, d_out, n;
        gs_budget_shape(c, &d_in, &d_out, &n);
        if (ds) {
            d_in = (int64_t)ds->d;
            d_out = (int64_t)ds->k;
            n = (int64_t)ds->n;
        }
        gs_budget_run(&b[i], &plan->record, c, d_in, d_out, n);
    }
    return b;
}

/* "grads snapshots 40 GB, weights snapshots 2 GB, statistics rows 1 MB": the largest parts. */
static void top_parts(const gs_budget *b, char *buf, size_t n)
{
    int used[GS_BUDGET__COUNT] = {0};
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < 3; k++) {
        int best = -1;
        for (int i = 0; i < GS_BUDGET__COUNT; i++)
            if (!used[i] && b->part[i] > 0 && (best < 0 || b->part[i] > b->part[best]))
                best = i;
        if (best < 0)
            break;
        used[best] = 1;
        char hb[32];
        human(b->part[best], "B", hb, sizeof hb);
        int w = snprintf(buf + len, len < n ? n - len : 0, "%s%s %s", k ? ", " : "",
                         gs_budget_names[best], hb);
        len += w > 0 ? (size_t)w : 0;
    }
}

static int cmp_total(const void *a, const void *b)
{
    double x = (*(const gs_budget *const *)a)->total, y = (*(const gs_budget *const *)b)->total;
    return (x > y) - (x < y);
}

/* The largest budget above limit (or NULL) and how many runs are above it. */
static size_t over_limit(const gs_budget *b, size_t n, double limit, size_t *worst)
{
    size_t count = 0;
    *worst = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (b[i].total <= limit)
            continue;
        count++;
        if (*worst == (size_t)-1 || b[i].total > b[*worst].total)
            *worst = i;
    }
    return count;
}

static void print_output_budget(const gs_plan *plan, const gs_budget *b, double limit)
{
    const gs_budget **order = malloc((plan->n_runs ? plan->n_runs : 1) * sizeof *order);
    double total = 0;
    char tb[32], sb[32], mb[32], lb[32], lim[32], parts[256];
    if (!order || plan->n_runs == 0) {
        free(order);
        return;
    }
    for (size_t i = 0; i < plan->n_runs; i++) {
        order[i] = &b[i];
        total += b[i].total;
    }
    qsort(order, plan->n_runs, sizeof *order, cmp_total);
    const gs_budget *big = order[plan->n_runs - 1];
    human(total, "B", tb, sizeof tb);
    human(order[0]->total, "B", sb, sizeof sb);
    human(order[plan->n_runs / 2]->total, "B", mb, sizeof mb);
    human(big->total, "B", lb, sizeof lb);
    human(limit, "B", lim, sizeof lim);
    top_parts(big, parts, sizeof parts);
    printf("estimated output:  %s in all before compression; per run %s smallest, %s median, "
           "%s largest (run %s: %s)\n",
           tb, sb, mb, lb, plan->runs[big - b].id, parts);
    size_t worst, n_over = over_limit(b, plan->n_runs, limit, &worst);
    if (n_over > 0) {
        human(b[worst].total, "B", lb, sizeof lb);
        printf("over the limit:    %zu runs above --max-output %s, the largest run %s (%s); "
               "gradsweep run refuses them unless --force-output\n",
               n_over, lim, plan->runs[worst].id, lb);
    }
    free(order);
}

static void dry_run(const gs_plan *plan, int threads, double limit)
{
    double flops = 0, max_res = 0, max_run = 0;
    int file_data = 0;
    gs_budget *b = plan_budgets(plan, NULL);
    for (size_t i = 0; i < plan->n_runs; i++) {
        const gs_run_config *c = &plan->runs[i].cfg;
        double res, train;
        int64_t d_in, d_out, n;
        file_data |= !gs_budget_shape(c, &d_in, &d_out, &n);
        flops += plan->runs[i].cost;
        gs_budget_memory(&plan->record, c, d_in, d_out, n, &res, &train);
        max_res = res > max_res ? res : max_res;
        max_run = res + train > max_run ? res + train : max_run;
    }
    /* Workers each hold one run; the bounded queue holds 2 results per thread; the writer one. */
    double peak = (double)threads * max_run + (2.0 * threads + 1.0) * max_res;
    char fb[32], rb[32], pb[32];
    human(flops, "FLOP", fb, sizeof fb);
    human(max_run, "B", rb, sizeof rb);
    human(peak, "B", pb, sizeof pb);
    printf("%s: %zu runs (%zu axes, %lld replicates)\n", plan->name, plan->n_runs, plan->n_axes,
           (long long)plan->replicates);
    for (size_t a = 0; a < plan->n_axes; a++)
        printf("  axis %-18s %zu values\n", plan->axes[a].key->path, plan->axes[a].n_values);
    printf("estimated compute: %s (training GEMMs, 6 * n_in * n_out * batch per layer-step)\n", fb);
    if (b)
        print_output_budget(plan, b, limit);
    if (file_data)
        printf("                   (file data: the hidden widths stand in for the input and output "
               "dims until the data are read)\n");
    printf("estimated memory:  %s for the largest run; peak about %s with -j %d\n", rb, pb,
           threads);
    free(b);
}

/* Refuses (exit 2) a plan with a run whose predicted output exceeds the limit. */
static int check_output_budget(const gs_plan *plan, const gs_plan_data *data, double limit)
{
    gs_budget *b = plan_budgets(plan, data);
    size_t worst, n_over = b ? over_limit(b, plan->n_runs, limit, &worst) : 0;
    if (n_over > 0) {
        char eb[32], lim[32], parts[256];
        human(b[worst].total, "B", eb, sizeof eb);
        human(limit, "B", lim, sizeof lim);
        top_parts(&b[worst], parts, sizeof parts);
        fprintf(stderr,
                "gradsweep: run %s would write about %s before compression (%s), more than "
                "--max-output %s; record less (record.grads, record.weights, "
                "record.activations, record.deltas, record.hist), raise --max-output, or pass "
                "--force-output to write it anyway\n",
                plan->runs[worst].id, eb, parts, lim);
        if (n_over > 1)
            fprintf(stderr,
                    "gradsweep: %zu runs are over the limit (gradsweep run --dry-run shows "
                    "the sizes)\n",
                    n_over);
    }
    free(b);
    return n_over > 0 ? -1 : 0;
}

/* Progress display: a bar on a terminal, a plain line every few seconds otherwise. */
typedef struct {
    gs_progress *p;
    int tty;
    double interval_s;
} progress_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_eta(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, n, "--:--");
    else if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(buf, n, "%d:%02d", (int)s / 60, (int)s % 60);
}

static void progress_line(const progress_ctx *c, double t0, int final)
{
    size_t total = atomic_load(&c->p->total), done = atomic_load(&c->p->done);
    size_t div = atomic_load(&c->p->diverged), stp = atomic_load(&c->p->stopped);
    double el = now_s() - t0, rate = el > 0 ? (double)done / el : 0;
    char eta[32];
    fmt_eta(rate > 0 ? (double)(total - done) / rate : -1, eta, sizeof eta);
    if (c->tty) {
        char bar[31];
        size_t fill = total ? done * 30 / total : 30;
        for (size_t i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[30] = '\0';
        fprintf(stderr,
                "\r[%s] %zu/%zu runs  %zu diverged  %zu stopped  %.2f runs/s  ETA %s\033[K%s", bar,
                done, total, div, stp, rate, eta, final ? "\n" : "");
    } else {
        fprintf(stderr,
                "gradsweep: %zu/%zu runs done (%.0f%%), %zu diverged, %zu stopped, %.2f runs/s, "
                "ETA %s\n",
                done, total, total ? 100.0 * (double)done / (double)total : 100.0, div, stp, rate,
                eta);
    }
    fflush(stderr);
}

static void *progress_main(void *arg)
{
    const progress_ctx *c = arg;
    double t0 = now_s(), last = t0;
    struct timespec tick = {0, 100 * 1000 * 1000};
    while (!atomic_load(&c->p->finished)) {
        nanosleep(&tick, NULL);
        double t = now_s();
        if (c->tty ? t - last >= 0.2 : t - last >= c->interval_s) {
            progress_line(c, t0, 0);
            last = t;
        }
    }
    progress_line(c, t0, 1);
    return NULL;
}

/* Creates the parent directory of path (one level per call, recursively). */
static int make_parents(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return 0;
    if (make_parents(dir) != 0)
        return -1;
    return mkdir(dir, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static char *join_args(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 3;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < argc; i++) {
        int quote = strpbrk(argv[i], " \t'\"") != NULL;
        p += sprintf(p, "%s%s%s%s", i ? " " : "", quote ? "'" : "", argv[i], quote ? "'" : "");
    }
    return s;
}

static void print_summary(const char *prog, const gs_plan *plan, const gs_store_counts *cnt,
                          const char *out, gs_status s)
{
    printf("%s: %zu of %zu runs in %s: %zu ok, %zu diverged, %zu stopped%s\n", plan->name,
           cnt->ok + cnt->diverged + cnt->stopped, plan->n_runs, out, cnt->ok, cnt->diverged,
           cnt->stopped, s == GS_EINTR ? " (interrupted: run again with --resume to finish)" : "");
    const char *sep = "verdicts: ";
    for (int v = 0; v < GS_VERDICT__COUNT; v++) {
        if (cnt->verdict[v] == 0)
            continue;
        printf("%s%zu %s", sep, cnt->verdict[v], gs_verdict_names[v]);
        sep = ", ";
    }
    if (cnt->verdict_unknown > 0)
        printf("%s%zu without a verdict (written before verdicts existed)", sep,
               cnt->verdict_unknown);
    if (sep[0] == ',' || cnt->verdict_unknown > 0)
        printf(" (docs/probes.md)\n");
    printf("look at it:\n"
           "  %s info %s\n"
           "  h5ls -r %s | head\n"
           "  /usr/bin/python3 -c \"import h5py, pandas as pd; "
           "print(pd.DataFrame(h5py.File('%s')['summary'][()]))\"\n"
           "  schema: docs/schema.md\n",
           prog, out, out, out);
}

static int cmd_run(int argc, char **argv)
{
    cli_opts o = {0};
    o.progress_s = 5.0;
    o.max_output = DEFAULT_MAX_OUTPUT;
    gs_plan *plan = NULL;
    gs_plan_data *data = NULL;
    gs_store *st = NULL;
    char *cmdline = NULL, outbuf[PATH_MAX];
    gs_error err;
    gs_status s = GS_OK;
    int rc = EXIT_DONE, r = parse_args(argc, argv, 1, &o);
    gs_error_clear(&err);
    if (r != 0) {
        rc = r > 0 ? EXIT_DONE : EXIT_USAGE;
        goto done;
    }
    s = load_plan(&o, &plan);
    if (s != GS_OK) {
        rc = gs_status_exit_code(s);
        goto done;
    }
    if (o.dry_run) {
        dry_run(plan, o.threads ? o.threads : omp_get_max_threads(), o.max_output);
        goto done;
    }
    if (!o.out) {
        snprintf(outbuf, sizeof outbuf, "results/%s.h5", plan->name);
        o.out = outbuf;
    }
    /* Data files are read and checked before the output exists, so a bad file leaves nothing
     * behind to --force away. */
    s = gs_plan_data_load(&data, plan, &err);
    if (s != GS_OK) {
        fprintf(stderr, "gradsweep: %s\n", err.msg);
        rc = gs_status_exit_code(s);
        goto done;
    }
    /* The output budget needs the data dims of file runs, so it comes after the data load and
     * before anything is created. */
    if (!o.force_output && check_output_budget(plan, data, o.max_output) != 0) {
        rc = EXIT_USAGE;
        goto done;
    }
    if (make_parents(o.out) != 0) {
        fprintf(stderr, "gradsweep: cannot create the directory of %s: %s\n", o.out,
                strerror(errno));
        rc = EXIT_RUNTIME;
        goto done;
    }
    cmdline = join_args(argc, argv);
    gs_store_opts so = {o.resume  ? GS_STORE_RESUME
                        : o.force ? GS_STORE_FORCE
                                  : GS_STORE_CREATE,
                        cmdline ? cmdline : "", gs_train_rng_name(), o.commit_s,
                        (size_t)o.commit_runs};
    s = gs_store_open(&st, o.out, plan, &so, &err);
    if (s != GS_OK) {
        fprintf(stderr, "gradsweep: %s\n", err.msg);
        rc = gs_status_exit_code(s);
        goto done;
    }
    int threads = o.threads ? o.threads : omp_get_max_threads();
    if ((size_t)threads > plan->n_runs && plan->n_runs > 0)
        threads = (int)plan->n_runs;
    gs_progress prog;
    memset(&prog, 0, sizeof prog);
    gs_driver_opts dopt = {threads, 0, &stop_flag, &prog, data};
    progress_ctx pc = {&prog, isatty(STDERR_FILENO), o.progress_s};
    pthread_t pt;
    int show = !o.quiet && pthread_create(&pt, NULL, progress_main, &pc) == 0;
    install_signals();
    if (!o.quiet)
        fprintf(stderr, "gradsweep: %s: %zu runs (%zu already in %s), %d threads\n", plan->name,
                plan->n_runs, gs_store_committed(st), o.out, threads);
    s = gs_driver_run(plan, st, &dopt, &err);
    atomic_store(&prog.finished, 1);
    if (show)
        pthread_join(pt, NULL);
    gs_store_counts cnt;
    gs_store_get_counts(st, &cnt);
    gs_error cerr;
    gs_error_clear(&cerr);
    gs_status cs = gs_store_close(st, &cerr);
    st = NULL;
    if (s != GS_OK && s != GS_EINTR)
        fprintf(stderr, "gradsweep: %s\n", err.msg);
    if (cs != GS_OK)
        fprintf(stderr, "gradsweep: %s\n", cerr.msg);
    if (s == GS_OK && cs != GS_OK)
        s = cs;
    if (s == GS_OK || s == GS_EINTR)
        print_summary(argv[0], plan, &cnt, o.out, s);
    rc = gs_status_exit_code(s);
done:
    gs_store_close(st, NULL);
    gs_plan_data_destroy(data);
    gs_plan_destroy(plan);
    free(o.overrides);
    free(cmdline);
    return rc;
}

int main(int argc, char **argv)
{
    /* Library errors come back as statuses; never let GSL abort a worker. */
    gsl_set_error_handler_off();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("gradsweep %s\n", GS_VERSION_STRING);
        return EXIT_DONE;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage_main(stdout);
        return EXIT_DONE;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc, argv);
    if (strcmp(cmd, "theory") == 0)
        return gs_cmd_theory(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return gs_cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0)
        return gs_cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return gs_cmd_report(argc - 1, argv + 1);
    fprintf(stderr,
            "gradsweep: unknown command '%s' (commands: run, list, theory, info, status, report, "
            "help)\n",
            cmd);
    return EXIT_USAGE;
}
