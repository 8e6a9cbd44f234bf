/* Training one run: builds (or borrows) the data set, creates and initialises the net, runs the
 * step loop (optimizer, schedule and clipping from opt.c) and fills a gs_result. Single-threaded,
 * no I/O, no HDF5; every buffer is sized before the step loop, which itself never allocates. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "gradsweep/net.h"
#include "gradsweep/opt.h"
#include "gradsweep/train.h"

const char *gs_train_rng_name(void)
{
    return gsl_rng_mt19937->name;
}

/* Allocates count elements of size sz (at least one, so that empty arrays are still valid
 * pointers), or NULL on overflow / out of memory. */
static void *alloc_n(size_t count, size_t sz)
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
    *v = alloc_n(n, sizeof **v);
    if (!*v)
        return 0;
    for (size_t l = 0; l < n; l++) {
        size_t per = res->fan_out[l];
        if (matrix && !mul_sz(per, res->fan_in[l], &per))
            return 0;
        if (res->cap_snaps > 0 && per > SIZE_MAX / res->cap_snaps)
            return 0;
        if (!((*v)[l] = alloc_n(res->cap_snaps * per, sizeof(double))))
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
    if (!alloc_layers(&res->grads, res, L, 1) || (weights && !alloc_layers(&res->weights, res, L, 1)))
        return 0;
    if (bias && (!alloc_layers(&res->bgrads, res, L, 0) ||
                 (weights && !alloc_layers(&res->biases, res, L, 0))))
        return 0;
    if (H == 0)
        return 1;
    if (!alloc_layers(&res->ngrad_scale, res, H, 0) || !alloc_layers(&res->ngrad_shift, res, H, 0))
        return 0;
    if (weights && (!alloc_layers(&res->nscale, res, H, 0) || !alloc_layers(&res->nshift, res, H, 0)))
        return 0;
    if (weights && bn &&
        (!alloc_layers(&res->nrun_mean, res, H, 0) || !alloc_layers(&res->nrun_var, res, H, 0)))
        return 0;
    return 1;
}

/* The evaluation period: train.eval_every, or record.every when it is 0. */
static int64_t eval_period(const gs_run_config *cfg, const gs_record *rec)
{
    if (cfg->eval_every > 0)
        return cfg->eval_every;
    return rec->every > 0 ? rec->every : 1;
}

/* Whether step t of a run of `steps` steps is evaluated: t % period == 0, and the last step. */
static int eval_due(int64_t t, int64_t steps, int64_t period)
{
    return t % period == 0 || t == steps - 1;
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
    res->fan_in = alloc_n(L, sizeof *res->fan_in);
    res->fan_out = alloc_n(L, sizeof *res->fan_out);
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
    res->step = alloc_n(res->cap_rows, sizeof *res->step);
    res->loss = alloc_n(res->cap_rows, sizeof *res->loss);
    res->grad_norm =
        res->cap_rows <= SIZE_MAX / L ? alloc_n(res->cap_rows * L, sizeof(double)) : NULL;
    res->cap_snaps = gs_record_snapshot_steps(rec, cfg->steps, NULL, 0);
    res->snap_plan = alloc_n(res->cap_snaps, sizeof *res->snap_plan);
    res->lr = alloc_n(res->cap_rows, sizeof *res->lr);
    res->clipped = alloc_n(res->cap_rows, sizeof *res->clipped);
    res->grad_norm_global = alloc_n(res->cap_rows, sizeof *res->grad_norm_global);
    if (cfg->eval_fraction > 0.0) {
        int64_t per = eval_period(cfg, rec);
        res->cap_eval = (size_t)((cfg->steps + per - 1) / per + ((cfg->steps - 1) % per != 0));
    }
    res->eval_step = alloc_n(res->cap_eval, sizeof *res->eval_step);
    res->eval_loss = alloc_n(res->cap_eval, sizeof *res->eval_loss);
    res->eval_accuracy = alloc_n(res->cap_eval, sizeof *res->eval_accuracy);
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

/* Everything a run owns besides its result. */
typedef struct {
    gsl_rng *rng;
    gs_dataset *own; /* generated data set (synthetic kinds), else NULL */
    const gs_dataset *ds;
    gs_net *net;
    size_t B;       /* rows per step */
    int full;       /* B == n_train: every step uses all training samples in one order */
    size_t n_train; /* training samples: n minus the eval split */
    size_t n_eval;  /* eval samples: floor(n * eval_fraction) */
    size_t *split;  /* [n] split permutation: training then eval samples (NULL when no split) */
    size_t *perm;   /* [n_train] training sample order of the current epoch */
    double *xe;     /* [n_eval][d] gathered eval inputs */
    int32_t *le;    /* [n_eval] gathered eval labels (label data) */
    double *ye;     /* [n_eval][k] gathered eval targets (regression data) */
    double *xb;     /* [B][d] gathered minibatch inputs */
    int32_t *lb;    /* [B] gathered labels (label data) */
    double *yb;     /* [B][k] gathered targets (regression data) */
    double *norms;  /* [L] */
    gs_optimizer *opt;
} work;

static void work_free(work *w)
{
    gsl_rng_free(w->rng);
    gs_dataset_destroy(w->own);
    gs_net_destroy(w->net);
    free(w->split);
    free(w->perm);
    free(w->xe);
    free(w->le);
    free(w->ye);
    free(w->xb);
    free(w->lb);
    free(w->yb);
    free(w->norms);
    gs_optimizer_destroy(w->opt);
}

/* The schedule and clipping keys (the optimizer's own are checked by gs_optimizer_create). */
static gs_status check_train(const gs_run_config *c, gs_error *err)
{
    if (c->schedule < 0 || c->schedule >= GS_SCHED__COUNT || c->warmup < 0)
        return gs_error_set(err, GS_EINVAL, "unknown schedule %d or warmup %lld < 0", c->schedule,
                            (long long)c->warmup);
    if (c->schedule == GS_SCHED_STEP &&
        (c->step_size < 1 || !(c->gamma >= 0.0) || !isfinite(c->gamma)))
        return gs_error_set(err, GS_EINVAL,
                            "schedule step needs train.step_size >= 1 and a finite gamma >= 0, "
                            "got %lld, %g",
                            (long long)c->step_size, c->gamma);
    if (!(c->clip_norm >= 0.0 && isfinite(c->clip_norm) && c->clip_value >= 0.0 &&
          isfinite(c->clip_value)))
        return gs_error_set(err, GS_EINVAL,
                            "train.clip_norm and clip_value must be finite and >= 0, got %g, %g",
                            c->clip_norm, c->clip_value);
    if (c->clip_norm > 0.0 && c->clip_value > 0.0)
        return gs_error_set(err, GS_EINVAL,
                            "train.clip_norm and train.clip_value are both set (%g, %g): use one",
                            c->clip_norm, c->clip_value);
    return GS_OK;
}

static gs_status check_run(const gs_run *run, const gs_dataset *data, gs_error *err)
{
    const gs_run_config *c = &run->cfg;
    if (c->steps < 1 || c->batch < 0)
        return gs_error_set(err, GS_EINVAL, "need steps >= 1 and batch >= 0, got %lld, %lld",
                            (long long)c->steps, (long long)c->batch);
    if (c->init < 0 || c->init >= GS_INIT__COUNT)
        return gs_error_set(err, GS_EINVAL, "unknown init %d", c->init);
    gs_status st = check_train(c, err);
    if (st)
        return st;
    if (!(c->lr >= 0.0 && isfinite(c->lr) && c->sigma_w >= 0.0 && isfinite(c->sigma_w) &&
          c->sigma_b >= 0.0 && isfinite(c->sigma_b)))
        return gs_error_set(err, GS_EINVAL,
                            "lr, sigma_w and sigma_b must be finite and >= 0, got %g, %g, %g",
                            c->lr, c->sigma_w, c->sigma_b);
    if (!(c->leaky_alpha >= 0.0 && isfinite(c->leaky_alpha) && c->elu_alpha >= 0.0 &&
          isfinite(c->elu_alpha) && c->init_noise >= 0.0 && isfinite(c->init_noise)))
        return gs_error_set(err, GS_EINVAL,
                            "leaky_alpha, elu_alpha and init_noise must be finite and >= 0, got "
                            "%g, %g, %g",
                            c->leaky_alpha, c->elu_alpha, c->init_noise);
    if (!(c->eval_fraction >= 0.0 && c->eval_fraction <= 0.9) || c->eval_every < 0)
        return gs_error_set(err, GS_EINVAL,
                            "train.eval_fraction must be in [0, 0.9] and eval_every >= 0, got "
                            "%g, %lld",
                            c->eval_fraction, (long long)c->eval_every);
    if (c->eval_every > 0 && c->eval_fraction == 0.0)
        return gs_error_set(
            err, GS_EINVAL,
            "train.eval_every %lld needs a held-out split (train.eval_fraction > 0)",
            (long long)c->eval_every);
    if (!data && !gs_data_is_synthetic(c->data_kind))
        return gs_error_set(err, GS_EINVAL, "data kind '%s' needs a preloaded data set",
                            c->data_kind >= 0 && c->data_kind < GS_DATA__COUNT
                                ? gs_datakind_names[c->data_kind]
                                : "?");
    return GS_OK;
}

/* Copies rows idx[0..m) of ds into x [m][d] and lab [m] (label data) or y [m][k]. */
static void gather_rows(const gs_dataset *ds, const size_t *idx, size_t m, double *x, int32_t *lab,
                        double *y)
{
    size_t d = ds->d, k = ds->k;
    for (size_t i = 0; i < m; i++) {
        memcpy(x + i * d, ds->x + idx[i] * d, d * sizeof *x);
        if (ds->has_labels)
            lab[i] = ds->label[idx[i]];
        else
            memcpy(y + i * k, ds->y + idx[i] * k, k * sizeof *y);
    }
}

/* Copies rows idx[0..B) of the data set into the batch buffers. */
static void gather(work *w, const size_t *idx)
{
    gather_rows(w->ds, idx, w->B, w->xb, w->lb, w->yb);
}

/* The held-out split: n_eval = floor(n * eval_fraction) samples, the last ones of a permutation
 * of 0..n-1 drawn now (one gsl_ran_shuffle), so that the data set itself, which may be shared,
 * is never reordered. No draw when eval_fraction is 0, so such runs draw exactly as before. */
static gs_status draw_split(work *w, const gs_run_config *cfg, gs_error *err)
{
    size_t n = w->ds->n;
    w->n_train = n;
    if (cfg->eval_fraction == 0.0)
        return GS_OK;
    w->n_eval = (size_t)floor((double)n * cfg->eval_fraction);
    if (w->n_eval == 0)
        return gs_error_set(err, GS_EINVAL,
                            "train.eval_fraction %g of %zu samples leaves no eval sample",
                            cfg->eval_fraction, n);
    w->n_train = n - w->n_eval; /* >= 1: eval_fraction <= 0.9 */
    w->split = alloc_n(n, sizeof *w->split);
    if (!w->split)
        return gs_error_set(err, GS_ENOMEM, "out of memory for the split of %zu samples", n);
    for (size_t i = 0; i < n; i++)
        w->split[i] = i;
    gsl_ran_shuffle(w->rng, w->split, n, sizeof *w->split);
    return GS_OK;
}

/* Gathers the eval samples (split[n_train..n)) once, so that evaluation never allocates. */
static gs_status eval_setup(work *w, gs_error *err)
{
    const gs_dataset *ds = w->ds;
    size_t m = w->n_eval;
    if (m == 0)
        return GS_OK;
    w->xe = m <= SIZE_MAX / ds->d ? alloc_n(m * ds->d, sizeof *w->xe) : NULL;
    w->le = ds->has_labels ? alloc_n(m, sizeof *w->le) : NULL;
    w->ye = !ds->has_labels && m <= SIZE_MAX / ds->k ? alloc_n(m * ds->k, sizeof *w->ye) : NULL;
    if (!w->xe || (ds->has_labels ? !w->le : !w->ye))
        return gs_error_set(err, GS_ENOMEM, "out of memory for the eval split of %zu samples", m);
    gather_rows(ds, w->split + w->n_train, m, w->xe, w->le, w->ye);
    return GS_OK;
}

/* Batch buffers and the training sample order. Without a split a full batch reads the data set
 * in stored order (no buffers); with one, the training samples are gathered once (split order). */
static gs_status batch_setup(work *w)
{
    const gs_dataset *ds = w->ds;
    if (w->full && !w->split)
        return GS_OK;
    w->xb = w->B <= SIZE_MAX / ds->d ? alloc_n(w->B * ds->d, sizeof *w->xb) : NULL;
    w->lb = ds->has_labels ? alloc_n(w->B, sizeof *w->lb) : NULL;
    w->yb = ds->has_labels ? NULL : alloc_n(w->B * ds->k, sizeof *w->yb);
    if (!w->xb || (ds->has_labels ? !w->lb : !w->yb))
        return GS_ENOMEM;
    if (w->full) {
        gather(w, w->split);
        return GS_OK;
    }
    w->perm = alloc_n(w->n_train, sizeof *w->perm);
    if (!w->perm)
        return GS_ENOMEM;
    for (size_t i = 0; i < w->n_train; i++)
        w->perm[i] = w->split ? w->split[i] : i;
    return GS_OK;
}

/* The batch size check: B = cfg.batch rows, or n_train when batch is 0 ("full"); a batch above
 * n_train is an error (the spec check catches it for synthetic data; the size of file data is
 * known only here). */
static gs_status check_batch(work *w, const gs_run_config *cfg, gs_error *err)
{
    if ((uint64_t)cfg->batch <= w->n_train)
        return GS_OK;
    if (w->n_eval == 0)
        return gs_error_set(err, GS_EINVAL,
                            "train.batch %lld exceeds the %zu samples of the data set "
                            "(use batch: full)",
                            (long long)cfg->batch, w->ds->n);
    return gs_error_set(err, GS_EINVAL,
                        "train.batch %lld exceeds the n_train = %zu training samples (%zu samples "
                        "minus %zu held out by train.eval_fraction)",
                        (long long)cfg->batch, w->n_train, w->ds->n, w->n_eval);
}

/* RNG, data, split, net, batch and eval buffers, in the documented draw order: data, split
 * permutation (only with an eval split), then parameters. */
static gs_status setup(work *w, const gs_run *run, const gs_dataset *data, gs_error *err)
{
    const gs_run_config *cfg = &run->cfg;
    gs_status st = check_run(run, data, err);
    if (st)
        return st;
    w->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!w->rng)
        return gs_error_set(err, GS_ENOMEM, "cannot allocate the RNG");
    gsl_rng_set(w->rng, (unsigned long)run->seed);
    w->ds = data;
    if (!data) {
        if ((st = gs_data_generate(&w->own, cfg, w->rng, err)))
            return st;
        w->ds = w->own;
    }
    const gs_dataset *ds = w->ds;
    if (cfg->loss == GS_LOSS_CROSS_ENTROPY && !ds->has_labels)
        return gs_error_set(err, GS_EDATA,
                            "cross_entropy needs integer labels; data set has float targets");
    if ((st = draw_split(w, cfg, err)) || (st = check_batch(w, cfg, err)))
        return st;
    w->B = cfg->batch == 0 ? w->n_train : (size_t)cfg->batch;
    w->full = w->B == w->n_train;
    if ((st = gs_net_create(&w->net, cfg, ds->d, ds->k, w->B, err)))
        return st;
    if ((st = gs_net_init(w->net, cfg, w->rng, err)))
        return st;
    if ((st = gs_optimizer_create(&w->opt, cfg, w->net->n_params, err)))
        return st;
    w->norms = alloc_n(w->net->n_layers, sizeof *w->norms);
    if (!w->norms)
        return gs_error_set(err, GS_ENOMEM, "out of memory");
    if (batch_setup(w))
        return gs_error_set(err, GS_ENOMEM, "out of memory for batches of %zu rows", w->B);
    return eval_setup(w, err);
}

/* Forward passes over the eval split in chunks of at most B rows (the net's buffers), appending
 * one eval row: the mean loss over the split and, for label data, the fraction of samples whose
 * largest output (the first on ties) is the label, NaN for regression. Overwrites only the
 * activation scratch (h, a, delta, prob) that the next training forward overwrites; draws
 * nothing and leaves parameters, gradients and optimizer state alone. */
static void evaluate(work *w, gs_result *res, int64_t t)
{
    gs_net *net = w->net;
    size_t d = w->ds->d, k = w->ds->k, m = w->n_eval, correct = 0;
    double sum = 0.0;
    for (size_t i0 = 0; i0 < m; i0 += w->B) {
        size_t c = m - i0 < w->B ? m - i0 : w->B;
        const int32_t *lab = w->le ? w->le + i0 : NULL;
        gs_net_forward(net, w->xe + i0 * d, c);
        sum += gs_net_loss(net, lab, w->ye ? w->ye + i0 * k : NULL, c) * (double)c;
        const double *out = net->h[net->n_layers - 1]; /* [c][k] */
        for (size_t r = 0; lab && r < c; r++) {
            size_t best = 0;
            for (size_t j = 1; j < k; j++)
                best = out[r * k + j] > out[r * k + best] ? j : best;
            correct += (int32_t)best == lab[r];
        }
    }
    size_t e = res->n_eval_rows++;
    assert(e < res->cap_eval);
    res->eval_step[e] = t;
    res->eval_loss[e] = sum / (double)m;
    res->eval_accuracy[e] = w->le ? (double)correct / (double)m : (double)NAN;
    res->final_eval_loss = res->eval_loss[e];
    res->final_eval_accuracy = res->eval_accuracy[e];
}

/* The per-step scalars of a statistics row besides loss and the layer norms. */
typedef struct {
    double lr;    /* scheduled learning rate */
    int clipped;  /* clipping changed the gradients */
    double gnorm; /* pre-clip global gradient norm */
} row_extra;

/* Appends a statistics row (step, loss, grad_norm[L], lr, clipped, grad_norm_global). */
static void add_row(gs_result *res, int64_t t, double loss, const double *norms, const row_extra *x)
{
    size_t r = res->n_rows++;
    res->step[r] = t;
    res->loss[r] = loss;
    res->lr[r] = x->lr;
    res->clipped[r] = (int8_t)x->clipped;
    res->grad_norm_global[r] = x->gnorm;
    memcpy(res->grad_norm + r * res->n_layers, norms, res->n_layers * sizeof *norms);
}

/* Copies dW_l, db_l (and W_l, b_l, the parameters that produced them, before the update) into
 * snapshot slot s. */
static void snapshot(gs_result *res, const gs_net *net, size_t s)
{
    for (size_t l = 0; l < res->n_layers; l++) {
        size_t per = res->fan_in[l] * res->fan_out[l], nb = res->fan_out[l];
        memcpy(res->grads[l] + s * per, net->dw[l], per * sizeof(double));
        if (res->bgrads)
            memcpy(res->bgrads[l] + s * nb, net->db[l], nb * sizeof(double));
        if (res->weights)
            memcpy(res->weights[l] + s * per, net->w[l], per * sizeof(double));
        if (res->biases)
            memcpy(res->biases[l] + s * nb, net->b[l], nb * sizeof(double));
    }
    res->n_snaps = s + 1;
}

/* One forward/backward pass on the next batch; returns the loss and fills w->norms. Minibatches
 * walk a permutation of the training samples B rows at a time; a tail shorter than B is dropped and
 * a new epoch starts with a fresh shuffle (the first epoch is shuffled too), so every step sees
 * exactly B rows. */
static double pass(work *w, size_t *pos)
{
    const gs_dataset *ds = w->ds;
    const double *x = ds->x, *y = ds->y;
    const int32_t *lab = ds->label;
    if (!w->full) {
        if (*pos + w->B > w->n_train) {
            gsl_ran_shuffle(w->rng, w->perm, w->n_train, sizeof *w->perm);
            *pos = 0;
        }
        gather(w, w->perm + *pos);
        *pos += w->B;
    }
    if (w->xb) {
        x = w->xb;
        y = w->yb;
        lab = w->lb;
    }
    gs_net_forward(w->net, x, w->B);
    double loss = gs_net_loss(w->net, lab, y, w->B);
    gs_net_backward(w->net, x, w->B);
    gs_net_grad_norms(w->net, w->norms);
    return loss;
}

/* The step loop. A non-finite loss, weight-gradient norm or bias gradient is a result, not an
 * error: the run is marked diverged at that step, its statistics row is always recorded (and its
 * snapshot when planned), and no update is applied; steps_done counts the updates applied.
 * Per step: snapshot (raw gradients), global norm, clipping, row, optimizer update with the
 * scheduled lr (torch order: clip_grad_norm_ before optimizer.step). Nothing here allocates. */
static gs_status loop(work *w, const gs_run *run, const gs_record *rec, gs_result *res,
                      const atomic_int *stop, gs_error *err)
{
    const gs_run_config *cfg = &run->cfg;
    size_t L = w->net->n_layers, pos = w->n_train, snap = 0;
    int64_t every = rec->every > 0 ? rec->every : 1, eval_per = eval_period(cfg, rec);
    for (int64_t t = 0; t < run->cfg.steps; t++) {
        if (stop && t % 16 == 0 && atomic_load(stop))
            return gs_error_set(err, GS_EINTR, "interrupted at step %lld", (long long)t);
        double loss = pass(w, &pos);
        int finite = isfinite(loss) && gs_net_bias_grads_finite(w->net);
        for (size_t l = 0; l < L; l++)
            finite = finite && isfinite(w->norms[l]);
        if (w->n_eval > 0 && eval_due(t, cfg->steps, eval_per))
            evaluate(w, res, t); /* after backward: the gradients are already in place */
        if (t == 0) {
            res->grad_norm0_first = w->norms[0];
            res->grad_norm0_last = w->norms[L - 1];
        }
        if (snap < res->cap_snaps && res->snap_plan[snap] == t)
            snapshot(res, w->net, snap++); /* the gradients before clipping */
        /* The global norm costs a pass over all gradients: only when a row or clipping needs it. */
        int row = t % every == 0 || !finite;
        row_extra x = {gs_opt_lr(cfg, t), 0,
                       row || cfg->clip_norm > 0.0 ? gs_opt_norm(w->net->grads, w->net->n_params)
                                                   : (double)NAN};
        if (finite)
            x.clipped = gs_opt_clip(cfg, w->net->grads, w->net->n_params, x.gnorm);
        if (row)
            add_row(res, t, loss, w->norms, &x);
        res->final_loss = loss;
        if (!finite) {
            res->status = GS_RUN_DIVERGED;
            res->diverged_step = t;
            return GS_OK;
        }
        gs_optimizer_step(w->opt, w->net->params, w->net->grads, x.lr);
        res->steps_done = t + 1;
    }
    return GS_OK;
}

gs_status gs_train_run(gs_result **out, const gs_run *run, const gs_record *rec,
                       const gs_dataset *data, const atomic_int *stop, gs_error *err)
{
    gs_status st;
    work w;
    gs_result *res = NULL;
    memset(&w, 0, sizeof w);
    *out = NULL;
    if ((st = setup(&w, run, data, err)))
        goto done;
    if ((st = gs_result_create(&res, run, rec, w.ds->d, w.ds->k, err)))
        goto done;
    res->n_eval_samples = w.n_eval;
    if ((st = loop(&w, run, rec, res, stop, err)))
        goto done;
    *out = res;
    res = NULL;
done:
    gs_result_destroy(res);
    work_free(&w);
    return st;
}
