/* Output budget: the bytes a run will write (every per-run dataset of docs/schema.md and
 * docs/probes.md, from its shape and element size) and the memory it needs, predicted from the
 * plan before anything runs. Computes only; the CLI prints and decides. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/data.h"
#include "gradsweep/spec.h"

#define GS_BUDGET_NAME(e, s) s,
const char *const gs_budget_names[] = {GS_BUDGET_LIST(GS_BUDGET_NAME) NULL};
#undef GS_BUDGET_NAME

#define I64 8.0 /* int64 and float64 elements */

int gs_budget_shape(const gs_run_config *cfg, int64_t *d_in, int64_t *d_out, int64_t *n)
{
    size_t depth = (size_t)cfg->depth;
    *d_in = gs_config_width(cfg, 0);
    *d_out = gs_config_width(cfg, depth ? depth - 1 : 0);
    *n = 0;
    return gs_data_shape(cfg, d_in, d_out, n);
}

/* Units n_0 .. n_L of the layers: n_0 = d_in, n_i = hidden layer i, n_L = d_out; layer l maps
 * n_l (fan_in) to n_(l+1) (fan_out). */
static double units(const gs_run_config *c, int64_t d_in, int64_t d_out, int64_t i)
{
    if (i == 0)
        return (double)d_in;
    if (i == c->depth + 1)
        return (double)d_out;
    return (double)gs_config_width(c, (size_t)(i - 1));
}

/* Statistics rows (docs/probes.md tiers): per row step (int64), loss, lr, grad_norm_global
 * (float64), clipped (int8); [T, L] and [T, H] float64 arrays by tier; plus the scale layer [L]. */
static void stats(gs_budget *b, const gs_record *rec, const gs_run_config *c)
{
    double T = (double)b->rows, L = (double)b->n_layers, H = L - 1;
    double per_l = 3, per_h = 2, per_row = 4 * I64 + 1 + I64; /* basic: + delta_slope */
    int64_t obj = 6 + 3 + 2 + 1;                              /* [T] x 6, [T,L] x 3, [T,H] x 2 */
    if (rec->level >= GS_LEVEL_STANDARD) {
        per_l += 5 + (c->bias ? 1 : 0);
        per_h += 2;
        obj += 7 + (c->bias ? 1 : 0);
    }
    if (rec->level >= GS_LEVEL_FULL) {
        per_l += 2;
        obj += 2;
    }
    b->part[GS_BUDGET_STATS] = T * (per_row + I64 * (per_l * L + per_h * H)) + I64 * L;
    b->objects += obj;
}

/* Held-out evaluation: step (int64), loss, accuracy per row, at step % k == 0 and the last step
 * (k = train.eval_every, or record.every). */
static void evals(gs_budget *b, const gs_record *rec, const gs_run_config *c)
{
    if (!(c->eval_fraction > 0.0))
        return;
    int64_t k = c->eval_every > 0 ? c->eval_every : rec->every > 0 ? rec->every : 1;
    b->evals = (c->steps + k - 1) / k + ((c->steps - 1) % k != 0);
    b->part[GS_BUDGET_EVAL] = 3 * I64 * (double)b->evals;
    b->objects += 4;
}

/* A snapshot group (grads or weights): step [S]; per layer W [S, fan_out, fan_in], b [S, fan_out]
 * with biases, gamma and beta [S, fan_out] for hidden layers with a norm (and for weights with
 * batchnorm running_mean and running_var), in the record dtype; the int64 scales fan_out_<l>,
 * fan_in_<l>. */
static double tensors(gs_budget *b, const gs_run_config *c, int64_t d_in, int64_t d_out, double es,
                      int weights)
{
    double S = (double)b->snaps, bytes = I64 * S;
    int vecs_h = (c->norm != GS_NORM_NONE ? 2 : 0) +
                 (weights && c->norm == GS_NORM_BATCHNORM ? 2 : 0); /* per hidden layer */
    b->objects += 2;
    for (int64_t l = 0; l < b->n_layers; l++) {
        double fi = units(c, d_in, d_out, l), fo = units(c, d_in, d_out, l + 1);
        int vecs = (c->bias ? 1 : 0) + (l < b->n_layers - 1 ? vecs_h : 0);
        bytes += es * S * fo * fi + es * S * fo * vecs + I64 * (fo + fi);
        b->objects += 3 + vecs;
    }
    return bytes;
}

/* Probe batch (docs/probes.md): its sample indices [P] (int64), and per snapshot and layer h_l
 * and delta_l [S, P, fan_out] in the record dtype, for every layer including the readout. */
static void probes(gs_budget *b, const gs_record *rec, const gs_run_config *c, int64_t d_in,
                   int64_t d_out, int64_t n, double es)
{
    if (!rec->activations && !rec->deltas && rec->jacobian_inputs <= 0)
        return;
    int64_t P = rec->probe_batch;
    if (n > 0) {
        int64_t n_train = n - (int64_t)floor((double)n * c->eval_fraction);
        P = P < n_train ? P : n_train;
    }
    b->probe_rows = P;
    b->part[GS_BUDGET_PROBE_INDEX] = I64 * (double)P;
    b->objects += 1;
    double sum_out = 0;
    for (int64_t l = 0; l < b->n_layers; l++)
        sum_out += units(c, d_in, d_out, l + 1);
    double per = es * (double)b->snaps * (double)P * sum_out;
    if (rec->activations) {
        b->part[GS_BUDGET_ACTIVATIONS] = per;
        b->objects += b->n_layers;
    }
    if (rec->deltas) {
        b->part[GS_BUDGET_DELTAS] = per;
        b->objects += b->n_layers;
    }
}

/* Histograms: step [H] (int64); counts [H, L, bins] and outside counts [H, L, 4] (int64), once
 * for the gradient entries and once for the deltas. */
static void hist(gs_budget *b, const gs_record *rec)
{
    if (b->hist_rows == 0)
        return;
    double H = (double)b->hist_rows, L = (double)b->n_layers;
    b->part[GS_BUDGET_HIST] = I64 * H * (1 + 2 * L * (double)(rec->hist_bins + 4));
    b->objects += 5;
}

/* Jacobian spectrum: step [J] (int64); singular values [J, m, r], mean square and max [J, m]
 * (float64), m = the inputs (at most the probe rows), r = min(d_in, d_out). */
static void jacobian(gs_budget *b, const gs_record *rec, int64_t d_in, int64_t d_out)
{
    if (b->jac_steps == 0)
        return;
    double m =
        (double)(rec->jacobian_inputs < b->probe_rows ? rec->jacobian_inputs : b->probe_rows);
    double r = (double)(d_in < d_out ? d_in : d_out), J = (double)b->jac_steps;
    b->part[GS_BUDGET_JACOBIAN] = I64 * J * (1 + m * r + 2 * m);
    b->objects += 4;
}

void gs_budget_run(gs_budget *b, const gs_record *rec, const gs_run_config *cfg, int64_t d_in,
                   int64_t d_out, int64_t n)
{
    double es = rec->dtype == GS_DTYPE_FLOAT64 ? 8.0 : 4.0;
    memset(b, 0, sizeof *b);
    b->d_in = d_in;
    b->d_out = d_out;
    b->n_layers = cfg->depth + 1;
    b->rows = gs_record_stat_rows(rec, cfg->steps);
    b->snaps = (int64_t)gs_record_snapshot_steps(rec, cfg->steps, NULL, 0);
    b->hist_rows = gs_record_hist_rows(rec, cfg->steps);
    b->jac_steps = (int64_t)gs_record_jacobian_steps(rec, cfg->steps, NULL, 0);
    b->objects = 1; /* the run group */
    stats(b, rec, cfg);
    evals(b, rec, cfg);
    b->part[GS_BUDGET_GRADS] = tensors(b, cfg, d_in, d_out, es, 0);
    if (rec->weights)
        b->part[GS_BUDGET_WEIGHTS] = tensors(b, cfg, d_in, d_out, es, 1);
    probes(b, rec, cfg, d_in, d_out, n, es);
    hist(b, rec);
    jacobian(b, rec, d_in, d_out);
    b->part[GS_BUDGET_OVERHEAD] = GS_BUDGET_OBJECT_BYTES * (double)b->objects;
    for (int i = 0; i < GS_BUDGET__COUNT; i++)
        b->total += b->part[i];
}

void gs_budget_memory(const gs_record *rec, const gs_run_config *cfg, int64_t d_in, int64_t d_out,
                      int64_t n, double *result, double *train)
{
    gs_record r64 = *rec;
    gs_budget b;
    r64.dtype = GS_DTYPE_FLOAT64; /* results hold float64 until the writer rounds them */
    gs_budget_run(&b, &r64, cfg, d_in, d_out, n);
    *result = b.total - b.part[GS_BUDGET_OVERHEAD];
    double weights = 0, biases = 0, sum_units = 0, maxn = (double)d_in;
    for (int64_t l = 0; l < b.n_layers; l++) {
        double fi = units(cfg, d_in, d_out, l), fo = units(cfg, d_in, d_out, l + 1);
        weights += fi * fo;
        biases += fo;
        sum_units += fo;
        maxn = fo > maxn ? fo : maxn;
    }
    double rows_b = cfg->batch > 0 ? (double)cfg->batch : (double)n;
    double P = (double)b.probe_rows;
    /* parameters and gradients, optimizer state, activations and deltas of the batch (and of
     * the probe batch), the data set, the minibatch; W(0) and the pre-update W for the standard
     * tier's weight distance and update ratio; one Jacobian [d_out, d_in] and its SVD work */
    *train = I64 * (3 * (weights + biases) + 2 * rows_b * sum_units + 2 * rows_b * maxn +
                    rows_b * (double)d_out + (double)n * ((double)d_in + 2) +
                    rows_b * (double)d_in + 2 * P * sum_units);
    if (rec->level >= GS_LEVEL_STANDARD)
        *train += I64 * 2 * weights;
    if (rec->jacobian_inputs > 0)
        *train += I64 * 3 * (double)d_in * (double)d_out;
}

int gs_budget_parse_size(const char *text, double *bytes)
{
    static const char suffixes[] = "KMGT";
    size_t len = text ? strspn(text, "0123456789.") : 0; /* no sign, exponent or hex */
    char *end;
    if (len == 0)
        return -1;
    double v = strtod(text, &end), scale = 1;
    if (end != text + len || !isfinite(v))
        return -1;
    if (*end && *end != 'B' && *end != 'b') {
        char up = *end >= 'a' && *end <= 'z' ? (char)(*end - 'a' + 'A') : *end;
        const char *s = strchr(suffixes, up);
        if (!s || !*s)
            return -1;
        for (const char *p = suffixes; p <= s; p++)
            scale *= 1000;
        end++;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return -1;
    *bytes = v * scale;
    return 0;
}
