/* The result of one run: sizing and freeing gs_result (what the writer stores). Split from
 * train.c, which fills it; no I/O, no training here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/train_int.h"
#include "gradsweep/data.h"
#include "gradsweep/train.h"

/* Allocates count elements of size sz (at least one, so that empty arrays are still valid
 * pointers), or NULL on overflow / out of memory. */
void *gs_train_alloc(size_t count, size_t sz)
{
    if (count == 0)
        count = 1;
    return count <= SIZE_MAX / sz ? calloc(count, sz) : NULL;
}

/* a * b into *r; 0 on size_t overflow. */
static int mul_sz(size_t a, size_t b, size_t *r)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *r = a * b;
    return 1;
}

/* Frees an array of n per-layer buffers and the array; NULL is a no-op. */
static void free_layers(double **v, size_t n)
{
    for (size_t l = 0; v && l < n; l++)
        free(v[l]);
    free(v);
}

void gs_result_destroy(gs_result *res)
{
    if (!res)
        return;
    free_layers(res->grads, res->n_layers);
    free_layers(res->weights, res->n_layers);
    free_layers(res->bgrads, res->n_layers);
    free_layers(res->biases, res->n_layers);
    free_layers(res->ngrad_scale, res->n_norm);
    free_layers(res->ngrad_shift, res->n_norm);
    free_layers(res->nscale, res->n_norm);
    free_layers(res->nshift, res->n_norm);
    free_layers(res->nrun_mean, res->n_norm);
    free_layers(res->nrun_var, res->n_norm);
    free(res->fan_in);
    free(res->fan_out);
    free(res->step);
    free(res->loss);
    free(res->grad_norm);
    free(res->lr);
    free(res->clipped);
    free(res->grad_norm_global);
    free(res->snap_plan);
    free(res->eval_step);
    free(res->eval_loss);
    free(res->eval_accuracy);
    double *stats[] = {res->delta_norm,   res->q,
                       res->dead_frac,    res->sat_frac,
                       res->delta_slope,  res->grad_mean_abs,
                       res->grad_max_abs, res->bias_grad_norm,
                       res->act_mean,     res->act_std,
                       res->weight_norm,  res->weight_dist_init,
                       res->update_ratio, res->pe_grad_var,
                       res->pe_grad_snr,  res->jac_sv,
                       res->jac_mean_sq,  res->jac_max};
    for (size_t i = 0; i < sizeof stats / sizeof *stats; i++)
        free(stats[i]);
    int64_t *counts[] = {res->hist_step,      res->hist_grad,   res->hist_grad_out, res->hist_delta,
                         res->hist_delta_out, res->probe_index, res->jac_step};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        free(counts[i]);
    free_layers(res->probe_h, res->n_layers);
    free_layers(res->probe_delta, res->n_layers);
    free(res);
}

/* *v = n buffers, buffer l of cap_snaps * per(l) doubles; per(l) = fan_out[l], times fan_in[l]
 * when matrix. 0 on overflow or out of memory (what was allocated is freed by destroy). */
static int alloc_layers(double ***v, const gs_result *res, size_t n, int matrix)
{
    *v = gs_train_alloc(n, sizeof **v);
    if (!*v)
        return 0;
    for (size_t l = 0; l < n; l++) {
        size_t per = res->fan_out[l];
        if (matrix && !mul_sz(per, res->fan_in[l], &per))
            return 0;
        if (res->cap_snaps > 0 && per > SIZE_MAX / res->cap_snaps)
            return 0;
        if (!((*v)[l] = gs_train_alloc(res->cap_snaps * per, sizeof(double))))
            return 0;
    }
    return 1;
}

/* Snapshot tensors: grads[l] (and weights[l]) [cap_snaps][fan_out][fan_in]; bgrads[l] (and
 * biases[l]) [cap_snaps][fan_out] with biases; the normalization vectors [cap_snaps][fan_out]
 * per hidden layer with a norm. */
static int alloc_snaps(gs_result *res, const gs_run_config *cfg, int weights)
{
    size_t L = res->n_layers, H = res->n_norm;
    int bias = cfg->bias != 0, bn = cfg->norm == GS_NORM_BATCHNORM;
    if (!alloc_layers(&res->grads, res, L, 1) ||
        (weights && !alloc_layers(&res->weights, res, L, 1)))
        return 0;
    if (bias && (!alloc_layers(&res->bgrads, res, L, 0) ||
                 (weights && !alloc_layers(&res->biases, res, L, 0))))
        return 0;
    if (H == 0)
        return 1;
    if (!alloc_layers(&res->ngrad_scale, res, H, 0) || !alloc_layers(&res->ngrad_shift, res, H, 0))
        return 0;
    if (weights &&
        (!alloc_layers(&res->nscale, res, H, 0) || !alloc_layers(&res->nshift, res, H, 0)))
        return 0;
    if (weights && bn &&
        (!alloc_layers(&res->nrun_mean, res, H, 0) || !alloc_layers(&res->nrun_var, res, H, 0)))
        return 0;
    return 1;
}

/* rows x cols doubles, every one NaN (a statistic not filled reads as missing); NULL on overflow
 * or out of memory. */
static double *nan_array(size_t rows, size_t cols)
{
    size_t n;
    if (!mul_sz(rows, cols, &n))
        return NULL;
    double *v = gs_train_alloc(n, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = (double)NAN;
    return v;
}

/* The statistics of record.level (docs/probes.md): basic, standard (includes basic), full
 * (includes standard). [T][L] and [T][H] arrays, NaN until a row fills them. */
static int alloc_stats(gs_result *res, const gs_run_config *cfg)
{
    size_t T = res->cap_rows, L = res->n_layers, H = L - 1;
    res->delta_norm = nan_array(T, L);
    res->q = nan_array(T, L);
    res->dead_frac = nan_array(T, H);
    res->sat_frac = nan_array(T, H);
    res->delta_slope = nan_array(T, 1);
    if (!res->delta_norm || !res->q || !res->dead_frac || !res->sat_frac || !res->delta_slope)
        return 0;
    if (res->level < GS_LEVEL_STANDARD)
        return 1;
    res->grad_mean_abs = nan_array(T, L);
    res->grad_max_abs = nan_array(T, L);
    res->bias_grad_norm = cfg->bias ? nan_array(T, L) : NULL;
    res->act_mean = nan_array(T, H);
    res->act_std = nan_array(T, H);
    res->weight_norm = nan_array(T, L);
    res->weight_dist_init = nan_array(T, L);
    res->update_ratio = nan_array(T, L);
    if (!res->grad_mean_abs || !res->grad_max_abs || (cfg->bias && !res->bias_grad_norm) ||
        !res->act_mean || !res->act_std || !res->weight_norm || !res->weight_dist_init ||
        !res->update_ratio)
        return 0;
    if (res->level < GS_LEVEL_FULL)
        return 1;
    res->pe_grad_var = nan_array(T, L);
    res->pe_grad_snr = nan_array(T, L);
    return res->pe_grad_var && res->pe_grad_snr;
}

/* rows * L * per int64 counts, zeroed; NULL on overflow. */
static int64_t *alloc_counts(size_t rows, size_t L, size_t per)
{
    size_t n;
    if (!mul_sz(rows, L, &n) || !mul_sz(n, per, &n))
        return NULL;
    return gs_train_alloc(n, sizeof(int64_t));
}

/* Histograms (record.hist): cap_hist rows of counts per layer. */
static int alloc_hist(gs_result *res, const gs_record *rec, int64_t steps)
{
    if (rec->hist_bins <= 0)
        return 1;
    size_t L = res->n_layers;
    res->hist_bins = (size_t)rec->hist_bins;
    res->cap_hist = (size_t)gs_record_hist_rows(rec, steps);
    res->hist_step = alloc_counts(res->cap_hist, 1, 1);
    res->hist_grad = alloc_counts(res->cap_hist, L, res->hist_bins);
    res->hist_grad_out = alloc_counts(res->cap_hist, L, 4);
    res->hist_delta = alloc_counts(res->cap_hist, L, res->hist_bins);
    res->hist_delta_out = alloc_counts(res->cap_hist, L, 4);
    return res->hist_step && res->hist_grad && res->hist_grad_out && res->hist_delta &&
           res->hist_delta_out;
}

/* The probe batch's tensors and the Jacobian spectra. probe_rows here is record.probe_batch,
 * capped at data.samples for synthetic data; gs_train_run lowers it to the training samples
 * (the arrays are laid out with the final probe_rows). */
static int alloc_probe(gs_result *res, const gs_run_config *cfg, const gs_record *rec)
{
    if (!rec->activations && !rec->deltas && rec->jacobian_inputs <= 0)
        return 1;
    size_t P = (size_t)rec->probe_batch, L = res->n_layers;
    if (gs_data_is_synthetic(cfg->data_kind) && cfg->data_samples > 0 &&
        (uint64_t)cfg->data_samples < P)
        P = (size_t)cfg->data_samples;
    res->probe_rows = P;
    if (!(res->probe_index = gs_train_alloc(P, sizeof *res->probe_index)))
        return 0;
    for (size_t i = 0; i < P; i++)
        res->probe_index[i] = -1;
    double ***tensors[] = {rec->activations ? &res->probe_h : NULL,
                           rec->deltas ? &res->probe_delta : NULL};
    for (size_t k = 0; k < 2; k++) {
        if (!tensors[k])
            continue;
        double **v = *tensors[k] = gs_train_alloc(L, sizeof **tensors[k]);
        if (!v)
            return 0;
        for (size_t l = 0; l < L; l++) {
            size_t n;
            if (!mul_sz(res->cap_snaps, P, &n) || !mul_sz(n, res->fan_out[l], &n) ||
                !(v[l] = gs_train_alloc(n, sizeof(double))))
                return 0;
        }
    }
    if (rec->jacobian_inputs <= 0)
        return 1;
    size_t m = (uint64_t)rec->jacobian_inputs < P ? (size_t)rec->jacobian_inputs : P, J;
    res->jac_inputs = m;
    res->jac_rank = res->d_in < res->d_out ? res->d_in : res->d_out;
    res->cap_jac = J = gs_record_jacobian_steps(rec, cfg->steps, NULL, 0);
    res->jac_step = gs_train_alloc(J, sizeof *res->jac_step);
    res->jac_mean_sq = nan_array(J, m);
    res->jac_max = nan_array(J, m);
    res->jac_sv = mul_sz(J, m, &J) ? nan_array(J, res->jac_rank) : NULL;
    return res->jac_step && res->jac_mean_sq && res->jac_max && res->jac_sv;
}

/* The record options gs_result_create needs to be sane (the spec parser checks them first). */
static gs_status check_record(const gs_record *rec, gs_error *err)
{
    if (rec->level < 0 || rec->level >= GS_LEVEL__COUNT)
        return gs_error_set(err, GS_EINVAL, "record.level: unknown level %d", rec->level);
    if (rec->hist_bins < 0 || rec->hist_bins > 100000 ||
        (rec->hist_bins > 0 &&
         !(isfinite(rec->hist_min) && isfinite(rec->hist_max) && rec->hist_min < rec->hist_max)))
        return gs_error_set(err, GS_EINVAL,
                            "record.hist needs 0 <= bins <= 100000 and finite min < max, got "
                            "bins %lld, min %g, max %g",
                            (long long)rec->hist_bins, rec->hist_min, rec->hist_max);
    if ((rec->activations || rec->deltas || rec->jacobian_inputs > 0) && rec->probe_batch < 1)
        return gs_error_set(err, GS_EINVAL,
                            "record.probe_batch must be >= 1 with record.activations, deltas or "
                            "jacobian, got %lld",
                            (long long)rec->probe_batch);
    if (rec->jacobian_inputs < 0)
        return gs_error_set(err, GS_EINVAL, "record.jacobian.inputs must be >= 0, got %lld",
                            (long long)rec->jacobian_inputs);
    return GS_OK;
}

/* The evaluation period: train.eval_every, or record.every when it is 0. */
int64_t gs_train_eval_period(const gs_run_config *cfg, const gs_record *rec)
{
    if (cfg->eval_every > 0)
        return cfg->eval_every;
    return rec->every > 0 ? rec->every : 1;
}

/* Sizes: statistics rows = gs_record_stat_rows(steps) + 1 (room for the row of a diverging step
 * that is not a multiple of `every`); snapshots = the planned steps inside [0, steps). */
gs_status gs_result_create(gs_result **out, const gs_run *run, const gs_record *rec, size_t d_in,
                           size_t d_out, gs_error *err)
{
    gs_status st = GS_OK;
    gs_result *res = NULL;
    const gs_run_config *cfg = &run->cfg;
    *out = NULL;
    if (cfg->depth < 0 || cfg->width < 1 || cfg->steps < 1 || d_in < 1 || d_out < 1) {
        st = gs_error_set(err, GS_EINVAL,
                          "result needs depth >= 0, width >= 1, steps >= 1 and dims >= 1; "
                          "got depth=%lld width=%lld steps=%lld d_in=%zu d_out=%zu",
                          (long long)cfg->depth, (long long)cfg->width, (long long)cfg->steps, d_in,
                          d_out);
        goto done;
    }
    if ((st = check_record(rec, err)))
        goto done;
    res = calloc(1, sizeof *res);
    if (!res)
        goto nomem;
    res->level = rec->level;
    size_t L = (size_t)cfg->depth + 1;
    res->n_layers = L;
    res->d_in = d_in;
    res->d_out = d_out;
    res->fan_in = gs_train_alloc(L, sizeof *res->fan_in);
    res->fan_out = gs_train_alloc(L, sizeof *res->fan_out);
    if (!res->fan_in || !res->fan_out)
        goto nomem;
    for (size_t l = 0; l < L; l++) {
        res->fan_in[l] = l == 0 ? d_in : (size_t)gs_config_width(cfg, l - 1);
        res->fan_out[l] = l + 1 == L ? d_out : (size_t)gs_config_width(cfg, l);
        if (res->fan_in[l] < 1 || res->fan_out[l] < 1) {
            st = gs_error_set(err, GS_EINVAL, "model.width: no width for layer %zu", l);
            goto done;
        }
    }
    res->n_norm = cfg->norm != GS_NORM_NONE ? L - 1 : 0;
    res->cap_rows = (size_t)gs_record_stat_rows(rec, cfg->steps) + 1;
    res->step = gs_train_alloc(res->cap_rows, sizeof *res->step);
    res->loss = gs_train_alloc(res->cap_rows, sizeof *res->loss);
    res->grad_norm =
        res->cap_rows <= SIZE_MAX / L ? gs_train_alloc(res->cap_rows * L, sizeof(double)) : NULL;
    res->cap_snaps = gs_record_snapshot_steps(rec, cfg->steps, NULL, 0);
    res->snap_plan = gs_train_alloc(res->cap_snaps, sizeof *res->snap_plan);
    res->lr = gs_train_alloc(res->cap_rows, sizeof *res->lr);
    res->clipped = gs_train_alloc(res->cap_rows, sizeof *res->clipped);
    res->grad_norm_global = gs_train_alloc(res->cap_rows, sizeof *res->grad_norm_global);
    if (cfg->eval_fraction > 0.0) {
        int64_t per = gs_train_eval_period(cfg, rec);
        res->cap_eval = (size_t)((cfg->steps + per - 1) / per + ((cfg->steps - 1) % per != 0));
    }
    res->eval_step = gs_train_alloc(res->cap_eval, sizeof *res->eval_step);
    res->eval_loss = gs_train_alloc(res->cap_eval, sizeof *res->eval_loss);
    res->eval_accuracy = gs_train_alloc(res->cap_eval, sizeof *res->eval_accuracy);
    if (!res->step || !res->loss || !res->grad_norm || !res->snap_plan || !res->lr ||
        !res->clipped || !res->grad_norm_global || !res->eval_step || !res->eval_loss ||
        !res->eval_accuracy)
        goto nomem;
    gs_record_snapshot_steps(rec, cfg->steps, res->snap_plan, res->cap_snaps);
    if (!alloc_snaps(res, cfg, rec->weights) || !alloc_stats(res, cfg) ||
        !alloc_hist(res, rec, cfg->steps) || !alloc_probe(res, cfg, rec))
        goto nomem;
    res->verdict = GS_VERDICT_HEALTHY;
    res->verdict_step = -1;
    res->delta_slope0 = (double)NAN;
    res->status = GS_RUN_OK;
    res->diverged_step = -1;
    res->final_loss = res->grad_norm0_first = res->grad_norm0_last = (double)NAN;
    res->final_eval_loss = res->final_eval_accuracy = (double)NAN;
    *out = res;
    res = NULL;
    goto done;
nomem:
    st = gs_error_set(err, GS_ENOMEM,
                      "out of memory for results (depth %lld, width %lld, %lld steps)",
                      (long long)cfg->depth, (long long)cfg->width, (long long)cfg->steps);
done:
    gs_result_destroy(res);
    return st;
}
