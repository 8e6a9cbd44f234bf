/* The result of one run: sizing and freeing gs_result (what the writer stores). Split from
 * train.c, which fills it; no I/O, no training here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/train_int.h"
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
    res = calloc(1, sizeof *res);
    if (!res)
        goto nomem;
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
    if (!alloc_snaps(res, cfg, rec->weights))
        goto nomem;
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
