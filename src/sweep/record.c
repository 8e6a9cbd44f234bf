/* Sweep specs: the `record` section (what every run stores), from YAML and from command-line
 * overrides, and its whole-section checks. The step-against-run checks need the expanded runs and
 * are in plan.c; the definitions of what is recorded are docs/probes.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/spec.h"
#include "sweep/draft.h"
#include "sweep/yaml.h"

#define WHY_MAX 512
#define HIST_BINS_MAX 10000
#define PROBE_MAX 1e9

static const char *const rec_names[] = {"every",  "grads",    "weights",     "dtype",
                                        "level",  "hist",     "probe_batch", "activations",
                                        "deltas", "jacobian", NULL};
static const char *const grads_names[] = {"steps", "every", "log", NULL};
static const char *const hist_names[] = {"bins", "every", "min", "max", NULL};
static const char *const jacobian_names[] = {"inputs", NULL};

const char *const gs_draft_record_overrides[] = {"record.every",           "record.grads",
                                                 "record.grads.every",     "record.grads.log",
                                                 "record.weights",         "record.dtype",
                                                 "record.level",           "record.hist",
                                                 "record.hist.bins",       "record.hist.every",
                                                 "record.hist.min",        "record.hist.max",
                                                 "record.probe_batch",     "record.activations",
                                                 "record.deltas",          "record.jacobian",
                                                 "record.jacobian.inputs", NULL};

void gs_draft_record_defaults(gs_record *r)
{
    memset(r, 0, sizeof *r);
    r->every = 1;
    r->dtype = GS_DTYPE_FLOAT32;
    r->level = GS_LEVEL_STANDARD;
    r->hist_min = -12;
    r->hist_max = 2;
    r->probe_batch = 32;
}

static gs_status oom(const gs_draft *d)
{
    return gs_error_set(d->err, GS_ENOMEM, "%s: out of memory while reading the spec", d->file);
}

static void src_set(gs_src *s, int line, const char *ovr)
{
    s->set = 1;
    s->line = line;
    s->ovr = ovr;
}

/* ---- record.grads ------------------------------------------------------------------------ */

static gs_status add_step(gs_draft *d, int64_t step, int line, const char *ovr)
{
    int64_t *s = realloc(d->rec.grad_steps, (d->rec.n_grad_steps + 1) * sizeof *s);
    if (!s)
        return oom(d);
    d->rec.grad_steps = s;
    s[d->rec.n_grad_steps++] = step;
    if (!d->src_step.set || step >= d->max_step) { /* where the largest step was written */
        d->max_step = step;
        src_set(&d->src_step, line, ovr);
    }
    return GS_OK;
}

static void clear_grads(gs_draft *d)
{
    free(d->rec.grad_steps);
    d->rec.grad_steps = NULL;
    d->rec.n_grad_steps = 0;
    d->rec.grad_every = d->rec.grad_log = 0;
    d->src_step.set = 0;
    d->max_step = 0;
}

static gs_status grad_steps(gs_draft *d, const gs_ynode *seq)
{
    char why[WHY_MAX];
    int64_t v;
    if (seq->kind != GS_YSEQ)
        return gs_draft_fail(d, seq->line, NULL, "record.grads", "steps must be a list");
    for (size_t i = 0; i < seq->n; i++) {
        const gs_ynode *it = seq->kids[i];
        gs_status st = gs_draft_need_scalar(d, it, "record.grads");
        if (st != GS_OK)
            return st;
        if (gs_draft_int(it->text, 0, 1e15, &v, why, sizeof why) != 0)
            return gs_draft_fail(d, it->line, NULL, "record.grads", "step %s", why);
        if ((st = add_step(d, v, it->line, NULL)) != GS_OK)
            return st;
    }
    return GS_OK;
}

/* grads: [steps...] or {steps: [...], every: k, log: n}. */
static gs_status read_grads(gs_draft *d, const gs_ynode *v)
{
    gs_status st = GS_OK;
    clear_grads(d);
    if (v->kind == GS_YSEQ)
        return grad_steps(d, v);
    if (gs_yaml_is_null(v))
        return GS_OK;
    if (v->kind != GS_YMAP)
        return gs_draft_fail(d, v->line, NULL, "record.grads",
                             "expected a list of steps or {every: k} / {log: n}");
    if ((st = gs_draft_check_dups(d, v, "record.grads")) != GS_OK)
        return st;
    for (size_t i = 0; i < v->n && st == GS_OK; i++) {
        const gs_ynode *key = v->kids[2 * i], *val = v->kids[2 * i + 1];
        char sub[32], full[48];
        snprintf(sub, sizeof sub, "grads.%s", key->text);
        snprintf(full, sizeof full, "record.%s", sub);
        if (strcmp(key->text, "steps") == 0)
            st = grad_steps(d, val);
        else if (strcmp(key->text, "every") == 0 || strcmp(key->text, "log") == 0)
            st = gs_draft_need_scalar(d, val, full) == GS_OK
                     ? gs_draft_record_scalar(d, sub, val->text, val->line, NULL)
                     : GS_ESPEC;
        else
            st = gs_draft_unknown_key(d, key, "record.grads", grads_names);
    }
    return st;
}

/* ---- scalars ----------------------------------------------------------------------------- */

static gs_status rec_int(gs_draft *d, const char *path, const char *t, double lo, double hi,
                         int64_t *dst, int line, const char *ovr)
{
    char why[WHY_MAX];
    if (gs_draft_int(t, lo, hi, dst, why, sizeof why) != 0)
        return gs_draft_fail(d, line, ovr, path, "%s", why);
    return GS_OK;
}

static gs_status rec_bool(gs_draft *d, const char *path, const char *t, int *dst, int line,
                          const char *ovr)
{
    if (gs_draft_bool(t, dst) != 0)
        return gs_draft_fail(d, line, ovr, path, "expected true or false, got '%s'", t);
    return GS_OK;
}

static gs_status rec_real(gs_draft *d, const char *path, const char *t, double *dst, int line,
                          const char *ovr)
{
    if (gs_draft_real(t, dst) != 0)
        return gs_draft_fail(d, line, ovr, path, "expected a finite number, got '%s'", t);
    if (*dst == 0.0)
        *dst = 0.0; /* -0 and 0 print alike */
    return GS_OK;
}

static gs_status rec_enum(gs_draft *d, const char *path, const char *t, const char *const *names,
                          int *dst, int line, const char *ovr)
{
    char why[WHY_MAX];
    if (gs_draft_enum(t, names, dst, why, sizeof why) != 0)
        return gs_draft_fail(d, line, ovr, path, "%s", why);
    return GS_OK;
}

/* The parts of record.hist and record.jacobian. */
static gs_status sub_scalar(gs_draft *d, const char *key, const char *path, const char *t, int line,
                            const char *ovr)
{
    gs_record *r = &d->rec;
    gs_status st = GS_ESPEC;
    if (strcmp(key, "hist.bins") == 0)
        st = rec_int(d, path, t, 1, HIST_BINS_MAX, &r->hist_bins, line, ovr);
    else if (strcmp(key, "hist.every") == 0)
        st = rec_int(d, path, t, 1, 1e15, &r->hist_every, line, ovr);
    else if (strcmp(key, "hist.min") == 0)
        st = rec_real(d, path, t, &r->hist_min, line, ovr);
    else if (strcmp(key, "hist.max") == 0)
        st = rec_real(d, path, t, &r->hist_max, line, ovr);
    else if (strcmp(key, "jacobian.inputs") == 0)
        st = rec_int(d, path, t, 1, PROBE_MAX, &r->jacobian_inputs, line, ovr);
    if (st == GS_OK && strncmp(key, "hist.", 5) == 0 && strcmp(key, "hist.bins") != 0)
        src_set(&d->src_hist_part, line, ovr);
    if (st == GS_OK && strncmp(key, "hist.", 5) == 0)
        src_set(&d->src_hist, line, ovr);
    if (st == GS_OK && strncmp(key, "jacobian.", 9) == 0)
        src_set(&d->src_jacobian, line, ovr);
    return st;
}

gs_status gs_draft_record_scalar(gs_draft *d, const char *key, const char *t, int line,
                                 const char *ovr)
{
    gs_record *r = &d->rec;
    char path[64];
    snprintf(path, sizeof path, "record.%s", key);
    if (strcmp(key, "every") == 0)
        return rec_int(d, path, t, 1, 1e15, &r->every, line, ovr);
    if (strcmp(key, "grads.every") == 0)
        return rec_int(d, path, t, 1, 1e15, &r->grad_every, line, ovr);
    if (strcmp(key, "grads.log") == 0)
        return rec_int(d, path, t, 2, 1e15, &r->grad_log, line, ovr);
    if (strcmp(key, "weights") == 0)
        return rec_bool(d, path, t, &r->weights, line, ovr);
    if (strcmp(key, "activations") == 0)
        return rec_bool(d, path, t, &r->activations, line, ovr);
    if (strcmp(key, "deltas") == 0)
        return rec_bool(d, path, t, &r->deltas, line, ovr);
    if (strcmp(key, "dtype") == 0)
        return rec_enum(d, path, t, gs_dtype_names, &r->dtype, line, ovr);
    if (strcmp(key, "level") == 0)
        return rec_enum(d, path, t, gs_level_names, &r->level, line, ovr);
    if (strcmp(key, "probe_batch") == 0) {
        gs_status st = rec_int(d, path, t, 1, PROBE_MAX, &r->probe_batch, line, ovr);
        if (st == GS_OK)
            src_set(&d->src_probe, line, ovr);
        return st;
    }
    return sub_scalar(d, key, path, t, line, ovr);
}

/* ---- record.hist and record.jacobian mappings -------------------------------------------- */

static void jacobian_off(gs_draft *d)
{
    d->rec.jacobian_inputs = 0;
    d->src_jacobian.set = 0;
}

static void hist_off(gs_draft *d)
{
    d->rec.hist_bins = d->rec.hist_every = 0;
    d->rec.hist_min = -12;
    d->rec.hist_max = 2;
    d->src_hist.set = d->src_hist_part.set = 0;
}

/* hist: {bins: k, every: e, min: a, max: b} (bins required) or null (off); jacobian: {inputs: m}
 * or null (off). */
static gs_status read_sub(gs_draft *d, const char *name, const gs_ynode *v)
{
    int hist = strcmp(name, "hist") == 0;
    const char *const *names = hist ? hist_names : jacobian_names;
    char path[64], sub[64];
    gs_status st = GS_OK;
    snprintf(path, sizeof path, "record.%s", name);
    if (hist)
        hist_off(d);
    else
        jacobian_off(d);
    if (gs_yaml_is_null(v))
        return GS_OK;
    if (v->kind != GS_YMAP)
        return gs_draft_fail(d, v->line, NULL, path, "expected %s or null (off)",
                             hist ? "{bins: k, every: e, min: a, max: b}" : "{inputs: m}");
    if ((st = gs_draft_check_dups(d, v, path)) != GS_OK)
        return st;
    int has_first = 0; /* bins / inputs: the part that turns it on */
    for (size_t i = 0; i < v->n && st == GS_OK; i++) {
        const gs_ynode *key = v->kids[2 * i], *val = v->kids[2 * i + 1];
        size_t j = 0;
        while (names[j] && strcmp(names[j], key->text) != 0)
            j++;
        if (!names[j])
            return gs_draft_unknown_key(d, key, path, names);
        has_first |= j == 0;
        snprintf(sub, sizeof sub, "%s.%s", name, key->text);
        char full[80];
        snprintf(full, sizeof full, "record.%s", sub);
        if ((st = gs_draft_need_scalar(d, val, full)) == GS_OK)
            st = gs_draft_record_scalar(d, sub, val->text, val->line, NULL);
    }
    if (st == GS_OK && !has_first)
        return gs_draft_fail(d, v->line, NULL, hist ? "record.hist.bins" : "record.jacobian.inputs",
                             "required key missing (or %s: null for off)", name);
    if (st == GS_OK)
        src_set(hist ? &d->src_hist : &d->src_jacobian, v->line, NULL);
    return st;
}

gs_status gs_draft_read_record(gs_draft *d, const gs_ynode *map)
{
    gs_status st = GS_OK;
    if (map->kind != GS_YMAP)
        return gs_draft_fail(d, map->line, NULL, "record", "expected a mapping of keys");
    if ((st = gs_draft_check_dups(d, map, "record")) != GS_OK)
        return st;
    for (size_t i = 0; i < map->n && st == GS_OK; i++) {
        const gs_ynode *key = map->kids[2 * i], *val = map->kids[2 * i + 1];
        char path[256];
        size_t j = 0;
        snprintf(path, sizeof path, "record.%s", key->text);
        while (rec_names[j] && strcmp(rec_names[j], key->text) != 0)
            j++;
        if (!rec_names[j])
            st = gs_draft_unknown_key(d, key, "record", rec_names);
        else if (strcmp(key->text, "grads") == 0)
            st = read_grads(d, val);
        else if (strcmp(key->text, "hist") == 0 || strcmp(key->text, "jacobian") == 0)
            st = read_sub(d, key->text, val);
        else if ((st = gs_draft_need_scalar(d, val, path)) == GS_OK)
            st = gs_draft_record_scalar(d, key->text, val->text, val->line, NULL);
    }
    return st;
}

/* ---- overrides --------------------------------------------------------------------------- */

/* record.grads=0,50,every:5,log:8 or none: replaces the whole schedule. */
static gs_status override_grads(gs_draft *d, char *vals, const char *ovr)
{
    char why[WHY_MAX];
    gs_status st = GS_OK;
    clear_grads(d);
    if (strcmp(vals, "none") == 0)
        return GS_OK;
    for (char *save = NULL, *t = strtok_r(vals, ",", &save); t && st == GS_OK;
         t = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (strncmp(t, "every:", 6) == 0 || strncmp(t, "log:", 4) == 0) {
            int ev = t[0] == 'e';
            if (gs_draft_int(strchr(t, ':') + 1, ev ? 1 : 2, 1e15, &v, why, sizeof why) != 0)
                return gs_draft_fail(d, 0, ovr, NULL, "%s", why);
            *(ev ? &d->rec.grad_every : &d->rec.grad_log) = v;
        } else if (gs_draft_int(t, 0, 1e15, &v, why, sizeof why) != 0) {
            return gs_draft_fail(d, 0, ovr, NULL, "step %s", why);
        } else {
            st = add_step(d, v, 0, ovr);
        }
    }
    return st;
}

gs_status gs_draft_override_record(gs_draft *d, const char *key, char *vals, const char *ovr)
{
    if (strcmp(key, "record.grads") == 0)
        return override_grads(d, vals, ovr);
    if (strchr(vals, ','))
        return gs_draft_fail(d, 0, ovr, NULL, "%s takes one value", key);
    if (strcmp(key, "record.hist") == 0 || strcmp(key, "record.jacobian") == 0) {
        int hist = key[7] == 'h';
        if (strcmp(vals, "none") != 0)
            return gs_draft_fail(
                d, 0, ovr, NULL, "%s takes 'none' (off) here; set its parts with %s", key,
                hist ? "record.hist.bins=k, record.hist.every=e, ..." : "record.jacobian.inputs=m");
        if (hist)
            hist_off(d);
        else
            jacobian_off(d);
        return GS_OK;
    }
    return gs_draft_record_scalar(d, key + 7, vals, 0, ovr);
}

/* ---- whole-section checks ---------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

gs_status gs_draft_check_record(gs_draft *d)
{
    gs_record *r = &d->rec;
    if (r->n_grad_steps > 1) {
        int64_t *v = r->grad_steps;
        size_t j = 1;
        qsort(v, r->n_grad_steps, sizeof *v, cmp_i64);
        for (size_t i = 1; i < r->n_grad_steps; i++)
            if (v[i] != v[j - 1])
                v[j++] = v[i];
        r->n_grad_steps = j;
    }
    if (r->hist_bins == 0 && d->src_hist_part.set)
        return gs_draft_fail(d, d->src_hist_part.line, d->src_hist_part.ovr, NULL,
                             "record.hist.bins: required key missing: histograms are off "
                             "without bins");
    if (r->hist_bins > 0 && !(r->hist_min < r->hist_max))
        return gs_draft_fail(d, d->src_hist.line, d->src_hist.ovr, "record.hist",
                             "min (%g) must be less than max (%g)", r->hist_min, r->hist_max);
    if (r->jacobian_inputs > r->probe_batch) {
        const gs_src *s = &d->src_jacobian;
        return gs_draft_fail(d, s->line, s->ovr, "record.jacobian.inputs",
                             "%lld exceeds record.probe_batch = %lld (the Jacobian is taken at "
                             "the first m samples of the probe batch)",
                             (long long)r->jacobian_inputs, (long long)r->probe_batch);
    }
    return GS_OK;
}
