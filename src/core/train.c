/* Training one run: builds (or borrows) the data set, draws the split, creates and initialises
 * the net in the run's compute precision, runs the step loop (train_impl.h, compiled once per
 * precision; optimizer, schedule and clipping from opt.c) and fills a gs_result (result.c).
 * Single-threaded, no I/O, no HDF5; every buffer is sized before the step loop, which itself
 * never allocates. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#if defined(__x86_64__) || defined(__i386__) || defined(__SSE__)
#include <xmmintrin.h>
#define GS_FTZ_X86 1
#elif defined(__aarch64__)
#define GS_FTZ_ARM 1
#endif

#include "core/probe.h"
#include "core/train_int.h"
#include "gradsweep/jacobian.h"
#include "gradsweep/net.h"
#include "gradsweep/opt.h"
#include "gradsweep/train.h"

const char *gs_train_rng_name(void)
{
    return gsl_rng_mt19937->name;
}

/* The per-precision part of a run (train_impl.h): the net and the data in its precision. For
 * float64 the data set's own arrays are used; float32 converts them once (x, y). */
#define GS_TYPED_WORK(NAME, NET, R)                                                                \
    typedef struct {                                                                               \
        NET *net;                                                                                  \
        const R *x, *y;   /* [n][d], [n][k] the data set in R */                                   \
        R *own_x, *own_y; /* float32: the converted copies x, y point to; else NULL */             \
        R *xe, *ye;       /* [n_eval][d], [n_eval][k] gathered eval inputs / targets */            \
        R *xb, *yb;       /* [B][d], [B][k] gathered minibatch inputs / targets */                 \
        R *w0, *wprev;    /* [n_w] weights at step 0 and before a row's update (standard tier) */  \
        R *xp, *yp;       /* [P][d], [P][k] the probe batch */                                     \
        R *bn;            /* batchnorm running statistics saved around the probe pass */           \
    } NAME;
GS_TYPED_WORK(work_d, gs_net, double)
GS_TYPED_WORK(work_f, gs_netf, float)
#undef GS_TYPED_WORK

/* Everything a run owns besides its result. */
typedef struct {
    gsl_rng *rng;
    gs_dataset *own; /* generated data set (synthetic kinds), else NULL */
    const gs_dataset *ds;
    size_t B;       /* rows per step */
    int full;       /* B == n_train: every step uses all training samples in one order */
    size_t n_train; /* training samples: n minus the eval split */
    size_t n_eval;  /* eval samples: floor(n * eval_fraction) */
    size_t *split;  /* [n] split permutation: training then eval samples (NULL when no split) */
    size_t *perm;   /* [n_train] training sample order of the current epoch */
    int32_t *le;    /* [n_eval] gathered eval labels (label data) */
    int32_t *lb;    /* [B] gathered labels (label data) */
    double *norms;  /* [L] */
    gs_optimizer *opt;
    /* probes (docs/probes.md) */
    int64_t every;      /* statistics rows: step % every == 0 */
    int64_t hist_every; /* histograms: step % hist_every == 0 (when hist.bins > 0) */
    gs_probe_hist hist; /* bins of record.hist (bins 0: off) */
    gs_probe_act pact;  /* dead / saturated classification of the activation */
    struct gs_net_probe hook;
    unsigned stop_mask;   /* train.stop_on as GS_PROBE_BIT(verdict) bits */
    double loss0;         /* loss at step 0 */
    double *pe;           /* [L] pe_norm of the hook (full tier) */
    double *pe_scr;       /* [max(B, P)] the hook's scratch */
    unsigned char *alive; /* [max n] */
    size_t P;             /* probe rows (0: no probe batch) */
    size_t *pidx;         /* [P] their sample indices */
    int32_t *lp;          /* [P] their labels (label data) */
    double **cap;         /* [L] capture destinations of the probe pass */
    double *jac, *jwork;  /* [d_out][d_in] a Jacobian and gs_net*_jacobian's workspace */
    double *swork;        /* gs_jacobian_svals's workspace */
    work_d d;             /* train.dtype float64 */
    work_f f;             /* train.dtype float32 */
} work;

static void typed_free(void *x, void *y, void *xe, void *ye, void *xb, void *yb)
{
    free(x);
    free(y);
    free(xe);
    free(ye);
    free(xb);
    free(yb);
}

static void work_free(work *w)
{
    gsl_rng_free(w->rng);
    gs_dataset_destroy(w->own);
    gs_net_destroy(w->d.net);
    gs_netf_destroy(w->f.net);
    typed_free(w->d.own_x, w->d.own_y, w->d.xe, w->d.ye, w->d.xb, w->d.yb);
    typed_free(w->f.own_x, w->f.own_y, w->f.xe, w->f.ye, w->f.xb, w->f.yb);
    typed_free(w->d.w0, w->d.wprev, w->d.xp, w->d.yp, w->d.bn, NULL);
    typed_free(w->f.w0, w->f.wprev, w->f.xp, w->f.yp, w->f.bn, NULL);
    gs_probe_hist_free(&w->hist);
    free(w->pe);
    free(w->pe_scr);
    free(w->alive);
    free(w->pidx);
    free(w->lp);
    free(w->cap);
    free(w->jac);
    free(w->jwork);
    free(w->swork);
    free(w->split);
    free(w->perm);
    free(w->le);
    free(w->lb);
    free(w->norms);
    gs_optimizer_destroy(w->opt);
}

/* Whether step t of a run of `steps` steps is evaluated: t % period == 0, and the last step. */
static int eval_due(int64_t t, int64_t steps, int64_t period)
{
    return t % period == 0 || t == steps - 1;
}

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
    w->split = gs_train_alloc(n, sizeof *w->split);
    if (!w->split)
        return gs_error_set(err, GS_ENOMEM, "out of memory for the split of %zu samples", n);
    for (size_t i = 0; i < n; i++)
        w->split[i] = i;
    gsl_ran_shuffle(w->rng, w->split, n, sizeof *w->split);
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

/* Label buffers (precision-free) and the training sample order: without a split a full batch
 * reads the data set in stored order; with one, the training samples are gathered once. */
static gs_status index_setup(work *w, gs_error *err)
{
    const gs_dataset *ds = w->ds;
    if (ds->has_labels && !(w->le = gs_train_alloc(w->n_eval, sizeof *w->le)))
        return gs_error_set(err, GS_ENOMEM, "out of memory for %zu eval labels", w->n_eval);
    if (w->full && !w->split)
        return GS_OK;
    if (ds->has_labels && !(w->lb = gs_train_alloc(w->B, sizeof *w->lb)))
        return gs_error_set(err, GS_ENOMEM, "out of memory for batches of %zu rows", w->B);
    if (w->full)
        return GS_OK;
    if (!(w->perm = gs_train_alloc(w->n_train, sizeof *w->perm)))
        return gs_error_set(err, GS_ENOMEM, "out of memory for %zu sample indices", w->n_train);
    for (size_t i = 0; i < w->n_train; i++)
        w->perm[i] = w->split ? w->split[i] : i;
    return GS_OK;
}

/* The precision-free part of the probes: the record options, the histogram edges, train.stop_on,
 * the activation's unit-health tests and the probe batch: P = min(record.probe_batch, n_train)
 * rows, the first training samples (split order), when activations, deltas or the Jacobian are
 * recorded. The batch size must be known (B). */
static gs_status probe_index_setup(work *w, const gs_run_config *cfg, const gs_record *rec,
                                   gs_error *err)
{
    gs_status st;
    w->every = rec->every > 0 ? rec->every : 1;
    w->hist_every = rec->hist_every > 0 ? rec->hist_every : w->every;
    w->pact = gs_probe_act_of(cfg->activation);
    if ((st = gs_probe_stop_mask(cfg->stop_on, sizeof cfg->stop_on, &w->stop_mask, err)))
        return st;
    if (rec->hist_bins > 0 && (st = gs_probe_hist_init(&w->hist, (size_t)rec->hist_bins,
                                                       rec->hist_min, rec->hist_max, err)))
        return st;
    if (cfg->norm == GS_NORM_BATCHNORM && w->B < 2) /* the net may be sized for the probe batch */
        return gs_error_set(err, GS_EINVAL,
                            "net: batchnorm needs at least 2 rows per batch, got %zu", w->B);
    if ((rec->activations || rec->deltas || rec->jacobian_inputs > 0) && rec->probe_batch > 0)
        w->P = (uint64_t)rec->probe_batch < w->n_train ? (size_t)rec->probe_batch : w->n_train;
    if (w->P == 0)
        return GS_OK;
    w->pidx = gs_train_alloc(w->P, sizeof *w->pidx);
    w->lp = w->ds->has_labels ? gs_train_alloc(w->P, sizeof *w->lp) : NULL;
    if (!w->pidx || (w->ds->has_labels && !w->lp))
        return gs_error_set(err, GS_ENOMEM, "out of memory for a probe batch of %zu rows", w->P);
    for (size_t i = 0; i < w->P; i++)
        w->pidx[i] = w->split ? w->split[i] : i;
    return GS_OK;
}

/* RNG, data, split and batch sizes, in the documented draw order: data, split permutation (only
 * with an eval split); the parameters are drawn next by the typed setup. */
static gs_status setup(work *w, const gs_run *run, const gs_record *rec, const gs_dataset *data,
                       gs_error *err)
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
    if ((st = index_setup(w, err)))
        return st;
    return probe_index_setup(w, cfg, rec, err);
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

/* The result's probe fields for this run (probe_rows lowered to P, the probe sample indices, the
 * Jacobian inputs) and the precision-free probe buffers. */
static gs_status probe_result_setup(work *w, gs_result *res, gs_error *err)
{
    size_t L = res->n_layers, mx = res->d_in, mb = w->B > w->P ? w->B : w->P;
    for (size_t l = 0; l < L; l++)
        mx = res->fan_out[l] > mx ? res->fan_out[l] : mx;
    w->pe = gs_train_alloc(L, sizeof *w->pe);
    w->pe_scr = gs_train_alloc(mb, sizeof *w->pe_scr);
    w->alive = gs_train_alloc(mx, 1);
    w->cap = gs_train_alloc(L, sizeof *w->cap);
    if (!w->pe || !w->pe_scr || !w->alive || !w->cap)
        return gs_error_set(err, GS_ENOMEM, "out of memory for the probes");
    if (w->P == 0)
        return GS_OK;
    if (w->P > res->probe_rows) /* gs_result_create caps at data.samples >= n_train */
        return gs_error_set(err, GS_EINVAL, "probe batch of %zu rows exceeds the result's %zu",
                            w->P, res->probe_rows);
    res->probe_rows = w->P;
    for (size_t i = 0; i < w->P; i++)
        res->probe_index[i] = (int64_t)w->pidx[i];
    res->jac_inputs = res->jac_inputs < w->P ? res->jac_inputs : w->P;
    if (res->cap_jac == 0)
        return GS_OK;
    size_t di = res->d_in, dout = res->d_out;
    size_t jw = w->f.net ? gs_netf_jacobian_work(w->f.net) : gs_net_jacobian_work(w->d.net);
    w->jac = di <= SIZE_MAX / dout ? gs_train_alloc(di * dout, sizeof *w->jac) : NULL;
    w->jwork = jw < SIZE_MAX ? gs_train_alloc(jw, sizeof *w->jwork) : NULL;
    w->swork = gs_train_alloc(gs_jacobian_svals_work(dout, di), sizeof *w->swork);
    if (!w->jac || !w->jwork || !w->swork)
        return gs_error_set(err, GS_ENOMEM, "out of memory for %zu x %zu Jacobians", dout, di);
    return GS_OK;
}

/* Singular values of the Jacobian in w->jac (destroyed) into slot (j, i) of the result, with
 * their mean square and maximum (NaN when any is NaN). */
static void jac_spectrum(work *w, gs_result *res, size_t j, size_t i)
{
    size_t r = res->jac_rank, slot = j * res->jac_inputs + i;
    double *sv = res->jac_sv + slot * r, ms = 0.0, mx = 0.0;
    gs_jacobian_svals(w->jac, res->d_out, res->d_in, sv, w->swork);
    for (size_t k = 0; k < r; k++) {
        ms += sv[k] * sv[k];
        mx = sv[k] > mx || isnan(sv[k]) ? sv[k] : mx;
        if (isnan(mx))
            break;
    }
    res->jac_mean_sq[slot] = isnan(mx) ? mx : ms / (double)r;
    res->jac_max[slot] = mx;
}

/* Arms the backward hook for a pass: the delta norms (and, at level full, the per-example norm
 * products) of statistics row r (SIZE_MAX: no row), and the delta histogram of histogram row
 * res->n_hist when hist. Returns the hook, or NULL when there is nothing to record. */
static struct gs_net_probe *hook_arm(work *w, gs_result *res, size_t r, int hist)
{
    struct gs_net_probe *p = &w->hook;
    size_t L = res->n_layers, h = res->n_hist;
    p->delta_norm = r != SIZE_MAX ? res->delta_norm + r * L : NULL;
    p->pe_norm = r != SIZE_MAX && res->pe_grad_var ? w->pe : NULL;
    p->pe_scratch = w->pe_scr;
    p->hist = hist ? &w->hist : NULL;
    p->hist_counts = hist ? res->hist_delta + h * L * res->hist_bins : NULL;
    p->hist_out = hist ? res->hist_delta_out + h * L * GS_PROBE_HIST_OUT : NULL;
    p->capture = NULL;
    return p->delta_norm || p->hist ? p : NULL;
}

/* The statistics of row r that need no tensors: delta_slope and, at level full, the per-example
 * gradient variance B pe^2 - ||G||^2 = (sqrt(B) pe - G)(sqrt(B) pe + G) (factored: no overflow
 * of the squares before the result does; clamped at 0 against rounding) and its SNR. */
static void row_scalars(const work *w, gs_result *res, size_t r)
{
    size_t L = res->n_layers;
    res->delta_slope[r] = gs_probe_slope(res->delta_norm + r * L, L - 1);
    if (!res->pe_grad_var)
        return;
    double sb = sqrt((double)w->B);
    for (size_t l = 0; l < L; l++) {
        double g = w->norms[l], a = sb * w->pe[l], var = (a - g) * (a + g);
        var = var < 0.0 ? 0.0 : var;
        double z = g / sqrt(var);
        res->pe_grad_var[r * L + l] = var;
        res->pe_grad_snr[r * L + l] = z * z;
    }
}

/* Classifies row r of step t (docs/probes.md): updates the run's verdict and returns the mask of
 * the states that hold. */
static unsigned row_verdict(work *w, gs_result *res, size_t r, int64_t t, double loss, int finite)
{
    size_t L = res->n_layers, H = L - 1;
    if (t == 0) {
        w->loss0 = loss;
        res->delta_slope0 = res->delta_slope[r];
    }
    unsigned m = gs_probe_states(loss, finite, w->loss0, res->dead_frac + r * H,
                                 res->sat_frac + r * H, res->delta_norm + r * L, H);
    int v = gs_probe_worst(m);
    if (gs_probe_severity(v) > gs_probe_severity(res->verdict)) {
        res->verdict = v;
        res->verdict_step = t;
    }
    return m;
}

/* Copies n values of R into double. */
static void put_d(double *dst, const double *src, size_t n)
{
    memcpy(dst, src, n * sizeof *dst);
}
static void put_f(double *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (double)src[i];
}

#define R double
#define R_IS_DOUBLE 1
#define S(n) n##_d
#define P(n) gs_net_##n
#define NET gs_net
#define TW d
#define NORM gs_opt_norm
#define STEP gs_optimizer_step
#define CLIP gs_opt_clip
#define HIST gs_probe_hist_add_d
#include "core/train_impl.h"
#undef R
#undef R_IS_DOUBLE
#undef S
#undef P
#undef NET
#undef TW
#undef NORM
#undef STEP
#undef CLIP
#undef HIST

#define R float
#define R_IS_DOUBLE 0
#define S(n) n##_f
#define P(n) gs_netf_##n
#define NET gs_netf
#define TW f
#define NORM gs_opt_normf
#define STEP gs_optimizer_stepf
#define CLIP gs_opt_clipf
#define HIST gs_probe_hist_add_f
#include "core/train_impl.h"
#undef R
#undef R_IS_DOUBLE
#undef S
#undef P
#undef NET
#undef TW
#undef NORM
#undef STEP
#undef CLIP
#undef HIST

/* Flush-to-zero for the duration of a run on this thread: x86 MXCSR FTZ (bit 15) and DAZ (bit 6),
 * AArch64 FPCR FZ (bit 24). The previous mode is restored afterwards, so the setting never leaks
 * into the next run a worker thread trains. Without ftz the bits are cleared: denormals are kept
 * even if the process started with them flushed. */
typedef struct {
    unsigned long long saved;
} fpmode;

static gs_status fp_enter(fpmode *m, int ftz, gs_error *err)
{
#if defined(GS_FTZ_X86)
    (void)err;
    unsigned old = _mm_getcsr(), bits = 0x8040u;
    m->saved = old;
    _mm_setcsr(ftz ? old | bits : old & ~bits);
    return GS_OK;
#elif defined(GS_FTZ_ARM)
    (void)err;
    unsigned long long old;
    __asm__ volatile("mrs %0, fpcr" : "=r"(old));
    m->saved = old;
    unsigned long long nw = ftz ? old | (1ull << 24) : old & ~(1ull << 24);
    __asm__ volatile("msr fpcr, %0" : : "r"(nw));
    return GS_OK;
#else
    m->saved = 0;
    if (ftz)
        return gs_error_set(err, GS_EINVAL, "train.ftz: not supported on this CPU architecture");
    return GS_OK;
#endif
}

static void fp_leave(const fpmode *m)
{
#if defined(GS_FTZ_X86)
    _mm_setcsr((unsigned)m->saved);
#elif defined(GS_FTZ_ARM)
    __asm__ volatile("msr fpcr, %0" : : "r"(m->saved));
#else
    (void)m;
#endif
}

gs_status gs_train_run(gs_result **out, const gs_run *run, const gs_record *rec,
                       const gs_dataset *data, const atomic_int *stop, gs_error *err)
{
    gs_status st;
    work w;
    gs_result *res = NULL;
    fpmode fp;
    int f32 = run->cfg.dtype == GS_DTYPE_FLOAT32;
    memset(&w, 0, sizeof w);
    *out = NULL;
    if ((st = fp_enter(&fp, run->cfg.ftz, err)))
        return st;
    if ((st = setup(&w, run, rec, data, err)))
        goto done;
    if ((st =
             f32 ? typed_setup_f(&w, &run->cfg, rec, err) : typed_setup_d(&w, &run->cfg, rec, err)))
        goto done;
    if ((st = gs_result_create(&res, run, rec, w.ds->d, w.ds->k, err)))
        goto done;
    res->n_eval_samples = w.n_eval;
    if ((st = probe_result_setup(&w, res, err)))
        goto done;
    if ((st = f32 ? loop_f(&w, run, rec, res, stop, err) : loop_d(&w, run, rec, res, stop, err)))
        goto done;
    *out = res;
    res = NULL;
done:
    fp_leave(&fp);
    gs_result_destroy(res);
    work_free(&w);
    return st;
}
