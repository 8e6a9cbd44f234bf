/* Sweep specs, second half: expands a validated draft into runs (grid order, ids from the
 * canonical config text, derived seeds, estimated cost) and writes the resolved YAML.
 * Reading YAML and overrides is spec.c. */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/data.h"
#include "gradsweep/spec.h"
#include "sweep/draft.h"

#define MAX_RUNS 10000000u /* a plan holds every run in memory (~1.1 KB each) */
#define CANON_MAX 8192
#define VAL_MAX (GS_PATH_MAX + 64)

/* ---- identity ---------------------------------------------------------------------------- */

/* splitmix64 finaliser (Steele, Lea, Flood 2014): a bijection with full avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t gs_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL; /* FNV 64 prime */
    }
    return mix64(h);
}

uint64_t gs_run_seed(uint64_t master_seed, uint64_t id_hash)
{
    return mix64(master_seed ^ mix64(id_hash)) % 4294967295ULL + 1;
}

/* Appends like snprintf at offset len of buf[n]; returns the characters it needed. */
static size_t put(char *buf, size_t n, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t put(char *buf, size_t n, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = len < n ? vsnprintf(buf + len, n - len, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    return k > 0 ? (size_t)k : 0;
}

size_t gs_run_canonical(const gs_run_config *cfg, int64_t replicate, char *buf, size_t n)
{
    const gs_key *order[GS_DRAFT_MAX_KEYS];
    size_t nk = 0, len = 0;
    gs_run_config dflt;
    gs_config_defaults(&dflt);
    /* insertion sort by path: the table order is for humans, the id needs a fixed order */
    for (const gs_key *k = gs_keys; k->path && nk < GS_DRAFT_MAX_KEYS; k++) {
        size_t j = nk++;
        while (j > 0 && strcmp(order[j - 1]->path, k->path) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    if (n > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < nk; i++) {
        char a[VAL_MAX], b[VAL_MAX];
        if (!gs_draft_key_applies(order[i], cfg->data_kind))
            continue;
        gs_key_format(order[i], cfg, a, sizeof a);
        gs_key_format(order[i], &dflt, b, sizeof b);
        if (strcmp(a, b) != 0)
            len += put(buf, n, len, "%s=%s\n", order[i]->path, a);
    }
    len += put(buf, n, len, "replicate=%lld\n", (long long)replicate);
    return len;
}

size_t gs_plan_find(const gs_plan *plan, const char *id)
{
    for (size_t i = 0; i < plan->n_runs; i++)
        if (strcmp(plan->runs[i].id, id) == 0)
            return i;
    return (size_t)-1;
}

void gs_plan_destroy(gs_plan *plan)
{
    if (!plan)
        return;
    for (size_t a = 0; a < plan->n_axes && plan->axes; a++) {
        for (size_t i = 0; i < plan->axes[a].n_values && plan->axes[a].values; i++)
            free(plan->axes[a].values[i]);
        free(plan->axes[a].values);
    }
    free(plan->axes);
    free(plan->runs);
    free(plan->record.grad_steps);
    free(plan->name);
    free(plan->resolved_yaml);
    free(plan->source_path);
    free(plan);
}

/* ---- expansion --------------------------------------------------------------------------- */

/* Flops of training: 3 GEMMs per layer and step, 2 flops per multiply-add (DESIGN.md 6).
 * For hdf5 data the input/output widths are unknown until the file is read: the first and last
 * hidden widths stand in; a full batch of hdf5 data counts data.samples (its default) rows. */
static double run_cost(const gs_run_config *c)
{
    int64_t depth = c->depth, n = c->data_samples;
    int64_t d = gs_config_width(c, 0), k = gs_config_width(c, depth > 0 ? (size_t)depth - 1 : 0);
    gs_data_shape(c, &d, &k, &n);
    double w = (double)c->width;
    double n_in = (double)d;
    double n_out = (double)k;
    double rows = c->batch > 0 ? (double)c->batch : (double)n;
    double mac = depth == 0 ? n_in * n_out : n_in * w + (double)(depth - 1) * w * w + w * n_out;
    if (c->width_list[0] && depth > 0) { /* sum of n_l * n_(l+1) over the layers */
        double prev = (double)gs_config_width(c, 0);
        mac = n_in * prev;
        for (int64_t i = 1; i < depth; i++) {
            double cur = (double)gs_config_width(c, (size_t)i);
            mac += prev * cur;
            prev = cur;
        }
        mac += prev * n_out;
    }
    return 6.0 * mac * rows * (double)c->steps;
}

/* Index of run r's value on axis a (grid order: first axis slowest, replicate innermost). */
static size_t axis_index(const gs_plan *p, size_t r, size_t a)
{
    size_t combo = r / (size_t)p->replicates;
    for (size_t b = p->n_axes; b-- > a + 1;)
        combo /= p->axes[b].n_values;
    return combo % p->axes[a].n_values;
}

static void run_fill(const gs_plan *p, const gs_run_config *base, size_t r, gs_run *run)
{
    char canon[CANON_MAX], why[256];
    run->cfg = *base;
    run->index = r;
    run->replicate = (int64_t)(r % (size_t)p->replicates);
    for (size_t a = 0; a < p->n_axes; a++) {
        int rc = gs_draft_parse_value(p->axes[a].key, p->axes[a].values[axis_index(p, r, a)],
                                      &run->cfg, why, sizeof why);
        assert(rc == 0); /* axis values were validated and are canonical */
        (void)rc;
    }
    size_t len = gs_run_canonical(&run->cfg, run->replicate, canon, sizeof canon);
    assert(len < sizeof canon);
    uint64_t h = gs_hash64(canon, len);
    snprintf(run->id, sizeof run->id, "%016llx", (unsigned long long)h);
    /* The seed comes from the same text with the precision keys (train.dtype, train.ftz) and
     * train.stop_on at their defaults, so runs that differ only in precision share data, split
     * and initial parameters (rounded in float32): a precision axis compares one training
     * problem computed two ways; and a run with an early stop is the run without it, cut short.
     * Runs with those keys at their defaults hash the same text as their id. */
    if (run->cfg.dtype != GS_DTYPE_FLOAT64 || run->cfg.ftz || run->cfg.stop_on[0]) {
        gs_run_config twin = run->cfg;
        twin.dtype = GS_DTYPE_FLOAT64;
        twin.ftz = 0;
        twin.stop_on[0] = '\0';
        len = gs_run_canonical(&twin, run->replicate, canon, sizeof canon);
        assert(len < sizeof canon);
    }
    run->seed = gs_run_seed(p->master_seed, gs_hash64(canon, len));
    run->cost = run_cost(&run->cfg);
}

/* A minibatch larger than the training samples (data.samples minus the eval split) cannot be
 * drawn, and an eval split must hold a sample. The sample count of synthetic data is known now,
 * so the spec is rejected here, per run since any of the keys may be an axis; file data are
 * checked by gs_train_run once the file is read. */
static gs_status check_batch(const gs_draft *d, const gs_run *run)
{
    const gs_run_config *c = &run->cfg;
    if (!gs_data_is_synthetic(c->data_kind))
        return GS_OK;
    int64_t n = c->data_samples, n_eval = (int64_t)floor((double)n * c->eval_fraction);
    const gs_slot *s = &d->slots[gs_key_find("train.eval_fraction") - gs_keys];
    if (c->eval_fraction > 0.0 && n_eval == 0)
        return gs_draft_fail(d, s->line, s->ovr, "train.eval_fraction",
                             "%g of data.samples %lld leaves no eval sample", c->eval_fraction,
                             (long long)n);
    if (c->batch <= n - n_eval)
        return GS_OK;
    s = &d->slots[gs_key_find("train.batch") - gs_keys];
    if (n_eval == 0)
        return gs_draft_fail(d, s->line, s->ovr, "train.batch",
                             "%lld exceeds data.samples %lld (use batch: full)",
                             (long long)c->batch, (long long)n);
    return gs_draft_fail(d, s->line, s->ovr, "train.batch",
                         "%lld exceeds the n_train = %lld training samples (data.samples %lld "
                         "minus %lld held out by train.eval_fraction)",
                         (long long)c->batch, (long long)(n - n_eval), (long long)n,
                         (long long)n_eval);
}

/* train.eval_every without a held-out split would be stored in the run id but do nothing. */
static gs_status check_eval(const gs_draft *d, const gs_run *run)
{
    if (run->cfg.eval_every == 0 || run->cfg.eval_fraction > 0.0)
        return GS_OK;
    const gs_slot *s = &d->slots[gs_key_find("train.eval_every") - gs_keys];
    return gs_draft_fail(d, s->line, s->ovr, "train.eval_every",
                         "%lld needs a held-out split (set train.eval_fraction > 0)",
                         (long long)run->cfg.eval_every);
}

/* Teacher data are float targets: cross_entropy (the default loss) cannot train on them. Caught
 * here, per run, since data.kind and train.loss may both be axes. */
static gs_status check_targets(const gs_draft *d, const gs_run *run)
{
    if (run->cfg.data_kind != GS_DATA_TEACHER || run->cfg.loss != GS_LOSS_CROSS_ENTROPY)
        return GS_OK;
    const gs_slot *s = &d->slots[gs_key_find("train.loss") - gs_keys];
    if (!s->set)
        s = &d->slots[gs_key_find("data.kind") - gs_keys];
    return gs_draft_fail(d, s->line, s->ovr, "train.loss",
                         "cross_entropy needs labels, but data kind 'teacher' gives float "
                         "targets (use loss: mse)");
}

/* An explicit snapshot step at or beyond a run's last step would never be recorded: an error,
 * checked against the run with the fewest steps (train.steps may be an axis). */
static gs_status check_grad_steps(const gs_draft *d, const gs_plan *p)
{
    const gs_record *r = &p->record;
    const gs_run *shortest = NULL;
    for (size_t i = 0; i < p->n_runs; i++)
        if (!shortest || p->runs[i].cfg.steps < shortest->cfg.steps)
            shortest = &p->runs[i];
    if (r->n_grad_steps == 0 || !shortest)
        return GS_OK;
    int64_t last = r->grad_steps[r->n_grad_steps - 1], steps = shortest->cfg.steps;
    if (last < steps)
        return GS_OK;
    const gs_slot *ss = &d->slots[gs_key_find("train.steps") - gs_keys];
    return gs_draft_fail(d, d->src_step.line, d->src_step.ovr, "record.grads",
                         "step %lld is beyond train.steps = %lld (run %s%s records steps "
                         "0..%lld) and would never be recorded",
                         (long long)last, (long long)steps, shortest->id,
                         ss->is_axis ? ", the fewest steps of the sweep," : "",
                         (long long)steps - 1);
}

static int cmp_run_id(const void *a, const void *b)
{
    const gs_run *x = *(const gs_run *const *)a, *y = *(const gs_run *const *)b;
    return strcmp(x->id, y->id);
}

/* Two runs with one id would be stored as one: name the axis whose values coincide. */
static gs_status duplicate_error(const gs_draft *d, const gs_plan *p, const gs_run *x,
                                 const gs_run *y)
{
    for (size_t a = 0; a < p->n_axes; a++) {
        size_t i = axis_index(p, x->index, a), j = axis_index(p, y->index, a);
        if (i == j)
            continue;
        const gs_key *k = p->axes[a].key;
        const gs_slot *s = &d->slots[k - gs_keys];
        return gs_draft_fail(d, s->line, s->ovr, k->path,
                             "values '%s' and '%s' give the same run (id %s)%s",
                             p->axes[a].values[i], p->axes[a].values[j], x->id,
                             k->kinds != -1 ? ": the key is not used by every data kind" : "");
    }
    return gs_draft_fail(d, d->top_line, NULL, NULL, "runs %zu and %zu have the same id %s",
                         x->index, y->index, x->id);
}

static gs_status check_unique(const gs_draft *d, const gs_plan *p)
{
    gs_status st = GS_OK;
    const gs_run **by_id = malloc(p->n_runs * sizeof *by_id);
    if (!by_id)
        return gs_error_set(d->err, GS_ENOMEM, "%s: out of memory", d->file);
    for (size_t i = 0; i < p->n_runs; i++)
        by_id[i] = &p->runs[i];
    qsort(by_id, p->n_runs, sizeof *by_id, cmp_run_id);
    for (size_t i = 1; i < p->n_runs && st == GS_OK; i++)
        if (strcmp(by_id[i - 1]->id, by_id[i]->id) == 0)
            st = duplicate_error(d, p,
                                 by_id[i - 1]->index < by_id[i]->index ? by_id[i - 1] : by_id[i],
                                 by_id[i - 1]->index < by_id[i]->index ? by_id[i] : by_id[i - 1]);
    free(by_id);
    return st;
}

/* ---- resolved YAML ----------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->oom || k < 0)
        return;
    if (b->len + (size_t)k + 1 > b->cap) {
        size_t ncap = 2 * b->cap + (size_t)k + 256;
        char *q = realloc(b->p, ncap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = ncap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)k;
}

/* A YAML double-quoted scalar. */
static void sb_quoted(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sb_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            sb_printf(b, "\\x%02x", c);
        else
            sb_printf(b, "%c", c);
    }
    sb_printf(b, "\"");
}

/* A value as YAML: strings quoted, a layer list "[64,32]" as {layers: [64,32]} (a bare list
 * would read back as an axis), verdicts "diverged,dead" as the list [diverged, dead]. */
static void sb_value(sbuf *b, const gs_key *k, const char *v)
{
    if (gs_draft_is_verdicts(k)) {
        sb_printf(b, "[");
        for (const char *p = v; *p; p++) {
            if (*p == ',')
                sb_printf(b, ", ");
            else
                sb_printf(b, "%c", *p);
        }
        sb_printf(b, "]");
    } else if (k->type == GS_KEY_STR)
        sb_quoted(b, v);
    else if (gs_key_has_list(k) && v[0] == '[')
        sb_printf(b, "{layers: %s}", v);
    else
        sb_printf(b, "%s", v);
}

static void emit_section(sbuf *b, const gs_draft *d, const char *sec, unsigned kinds)
{
    gs_run_config dflt;
    size_t plen = strlen(sec);
    gs_config_defaults(&dflt);
    sb_printf(b, "%s:\n", sec);
    for (size_t ki = 0; ki < d->n_keys; ki++) {
        const gs_key *k = &gs_keys[ki];
        const gs_slot *s = &d->slots[ki];
        char v[VAL_MAX];
        if (strncmp(k->path, sec, plen) != 0 || k->path[plen] != '.')
            continue;
        if (!s->set && (!k->dflt || !((unsigned)k->kinds & kinds)))
            continue;
        sb_printf(b, "  %s: ", k->path + plen + 1);
        if (!s->set) {
            sb_value(b, k, gs_key_format(k, &dflt, v, sizeof v));
        } else if (!s->is_axis) {
            sb_value(b, k, s->vals[0]);
        } else {
            /* a plain list of stop_on would read back as one value */
            int wrap = gs_draft_is_verdicts(k);
            sb_printf(b, "%s[", wrap ? "{values: " : "");
            for (size_t i = 0; i < s->n; i++) {
                sb_printf(b, "%s", i ? ", " : "");
                sb_value(b, k, s->vals[i]);
            }
            sb_printf(b, "]%s", wrap ? "}" : "");
        }
        sb_printf(b, "\n");
    }
}

/* Shortest "%.Ng" that reads back exactly (as gs_key_format writes reals). */
static void sb_real(sbuf *b, double v)
{
    char buf[32];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    sb_printf(b, "%s", buf);
}

static void emit_record(sbuf *b, const gs_record *r)
{
    int plain = r->grad_every == 0 && r->grad_log == 0;
    sb_printf(b, "record:\n  every: %lld\n  grads: %s[", (long long)r->every,
              plain ? "" : "{steps: ");
    for (size_t i = 0; i < r->n_grad_steps; i++)
        sb_printf(b, "%s%lld", i ? ", " : "", (long long)r->grad_steps[i]);
    sb_printf(b, "]");
    if (r->grad_every)
        sb_printf(b, ", every: %lld", (long long)r->grad_every);
    if (r->grad_log)
        sb_printf(b, ", log: %lld", (long long)r->grad_log);
    sb_printf(b, "%s\n  weights: %s\n  dtype: %s\n", plain ? "" : "}",
              r->weights ? "true" : "false", gs_dtype_names[r->dtype]);
    sb_printf(b, "  level: %s\n  hist: ", gs_level_names[r->level]);
    if (r->hist_bins > 0) {
        sb_printf(b, "{bins: %lld, ", (long long)r->hist_bins);
        if (r->hist_every > 0)
            sb_printf(b, "every: %lld, ", (long long)r->hist_every);
        sb_printf(b, "min: ");
        sb_real(b, r->hist_min);
        sb_printf(b, ", max: ");
        sb_real(b, r->hist_max);
        sb_printf(b, "}\n");
    } else {
        sb_printf(b, "null\n");
    }
    sb_printf(b, "  probe_batch: %lld\n  activations: %s\n  deltas: %s\n  jacobian: ",
              (long long)r->probe_batch, r->activations ? "true" : "false",
              r->deltas ? "true" : "false");
    if (r->jacobian_inputs > 0)
        sb_printf(b, "{inputs: %lld}\n", (long long)r->jacobian_inputs);
    else
        sb_printf(b, "null\n");
}

static char *resolved_yaml(const gs_draft *d, const gs_record *rec)
{
    sbuf b = {NULL, 0, 0, 0};
    static const char *const secs[] = {"data", "model", "train"};
    unsigned kinds = gs_draft_kinds(d);
    sb_printf(&b, "name: ");
    sb_quoted(&b, d->name);
    sb_printf(&b, "\nseed: %llu\nreplicates: %lld\n", (unsigned long long)d->seed,
              (long long)d->replicates);
    if (d->n_axis > 0) {
        sb_printf(&b, "axes: [");
        for (size_t a = 0; a < d->n_axis; a++)
            sb_printf(&b, "%s%s", a ? ", " : "", gs_keys[d->axis[a]].path);
        sb_printf(&b, "]\n");
    }
    for (size_t s = 0; s < 3; s++)
        emit_section(&b, d, secs[s], kinds);
    emit_record(&b, rec);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- draft -> plan ----------------------------------------------------------------------- */

static gs_status copy_axes(const gs_draft *d, gs_plan *p)
{
    p->axes = calloc(d->n_axis ? d->n_axis : 1, sizeof *p->axes);
    if (!p->axes)
        return GS_ENOMEM;
    p->n_axes = d->n_axis;
    for (size_t a = 0; a < d->n_axis; a++) {
        const gs_slot *s = &d->slots[d->axis[a]];
        gs_axis *ax = &p->axes[a];
        ax->key = &gs_keys[d->axis[a]];
        if (!(ax->values = calloc(s->n, sizeof *ax->values)))
            return GS_ENOMEM;
        for (size_t i = 0; i < s->n; i++, ax->n_values++)
            if (!(ax->values[i] = strdup(s->vals[i])))
                return GS_ENOMEM;
    }
    return GS_OK;
}

/* Number of runs, or 0 when the grid is larger than MAX_RUNS. */
static size_t count_runs(const gs_draft *d)
{
    size_t n = (size_t)d->replicates;
    for (size_t a = 0; a < d->n_axis; a++) {
        n *= d->slots[d->axis[a]].n;
        if (n > MAX_RUNS)
            return 0;
    }
    return n;
}

gs_status gs_draft_expand(gs_draft *d, gs_plan **out)
{
    gs_status st = GS_OK;
    gs_run_config base;
    char why[256];
    gs_plan *p = calloc(1, sizeof *p);
    size_t n_runs = count_runs(d);
    *out = NULL;
    if (!p)
        return gs_error_set(d->err, GS_ENOMEM, "%s: out of memory", d->file);
    p->master_seed = d->seed;
    p->replicates = d->replicates;
    p->record = d->rec;
    d->rec.grad_steps = NULL;
    d->rec.n_grad_steps = 0;
    if (n_runs == 0) {
        st = gs_draft_fail(d, d->top_line, NULL, NULL, "the sweep has more than %u runs", MAX_RUNS);
        goto done;
    }
    if (!(p->name = strdup(d->name)) || !(p->source_path = strdup(d->file)) ||
        copy_axes(d, p) != GS_OK || !(p->runs = calloc(n_runs, sizeof *p->runs)) ||
        !(p->resolved_yaml = resolved_yaml(d, &p->record))) {
        st = gs_error_set(d->err, GS_ENOMEM, "%s: out of memory expanding the sweep", d->file);
        goto done;
    }
    gs_config_defaults(&base);
    for (size_t ki = 0; ki < d->n_keys; ki++) {
        if (d->slots[ki].set && !d->slots[ki].is_axis) {
            int rc =
                gs_draft_parse_value(&gs_keys[ki], d->slots[ki].vals[0], &base, why, sizeof why);
            assert(rc == 0);
            (void)rc;
        }
    }
    p->n_runs = n_runs;
    for (size_t r = 0; r < n_runs && st == GS_OK; r++) {
        run_fill(p, &base, r, &p->runs[r]);
        st = check_batch(d, &p->runs[r]);
        if (st == GS_OK)
            st = check_eval(d, &p->runs[r]);
        if (st == GS_OK)
            st = check_targets(d, &p->runs[r]);
        if (st == GS_OK)
            st = gs_draft_check_arch(d, &p->runs[r]);
    }
    if (st == GS_OK)
        st = check_grad_steps(d, p);
    if (st == GS_OK)
        st = check_unique(d, p);
done:
    if (st != GS_OK) {
        gs_plan_destroy(p);
        p = NULL;
    }
    *out = p;
    return st;
}
