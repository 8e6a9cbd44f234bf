/* Optimizers (sgd, momentum, adam, adamw, rmsprop), the learning-rate schedule and gradient
 * clipping over one flat parameter block. The state is one block allocated at create; the
 * update kernels never allocate, never fail and never print. Formulas in opt.h. */
#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <tgmath.h>

#include <cblas.h>

#include "gradsweep/opt.h"

#define PI 3.14159265358979323846 /* M_PI is not in C11 */

/* Vectors the state of each kind holds: momentum b; adam m, v; rmsprop v. */
static size_t n_vectors(int kind)
{
    switch (kind) {
    case GS_OPT_MOMENTUM:
        return 1;
    case GS_OPT_ADAM:
    case GS_OPT_ADAMW:
        return 2;
    case GS_OPT_RMSPROP:
        return 1;
    default:
        return 0;
    }
}

/* A hyper-parameter is valid when finite and in [lo, hi). */
static int in_range(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x < hi;
}

static gs_status check_cfg(const gs_run_config *c, gs_error *err)
{
    if (c->optimizer < 0 || c->optimizer >= GS_OPT__COUNT)
        return gs_error_set(err, GS_EINVAL, "unknown optimizer %d", c->optimizer);
    if (!(c->momentum >= 0.0 && c->momentum <= 1.0) || !in_range(c->beta1, 0.0, 1.0) ||
        !in_range(c->beta2, 0.0, 1.0) || !in_range(c->rho, 0.0, 1.0))
        return gs_error_set(err, GS_EINVAL,
                            "train.momentum must be in [0, 1], beta1, beta2 and rho in [0, 1); "
                            "got %g, %g, %g, %g",
                            c->momentum, c->beta1, c->beta2, c->rho);
    if (!(c->eps > 0.0 && isfinite(c->eps)) || !in_range(c->weight_decay, 0.0, (double)INFINITY))
        return gs_error_set(err, GS_EINVAL,
                            "train.eps must be finite and > 0, weight_decay finite and >= 0; "
                            "got %g, %g",
                            c->eps, c->weight_decay);
    return GS_OK;
}

gs_status gs_optimizer_create(gs_optimizer **out, const gs_run_config *cfg, size_t n, gs_error *err)
{
    gs_status st = check_cfg(cfg, err);
    gs_optimizer *o = NULL;
    *out = NULL;
    if (st)
        return st;
    size_t k = n_vectors(cfg->optimizer);
    o = calloc(1, sizeof *o);
    size_t esz = cfg->dtype == GS_DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    if (!o || (k > 0 && n > SIZE_MAX / esz / k))
        goto nomem;
    o->dtype = cfg->dtype == GS_DTYPE_FLOAT32 ? GS_DTYPE_FLOAT32 : GS_DTYPE_FLOAT64;
    o->kind = cfg->optimizer;
    o->n = n;
    o->momentum = cfg->momentum;
    o->nesterov = cfg->nesterov != 0;
    o->beta1 = cfg->beta1;
    o->beta2 = cfg->beta2;
    o->eps = cfg->eps;
    o->rho = cfg->rho;
    o->weight_decay = cfg->weight_decay;
    if (k > 0) {
        o->state = calloc(k * (n ? n : 1), esz);
        if (!o->state)
            goto nomem;
        /* momentum: m = b; adam: m, v; rmsprop: v; in the dtype's views only */
        size_t im = cfg->optimizer == GS_OPT_RMSPROP ? SIZE_MAX : 0;
        size_t iv = cfg->optimizer == GS_OPT_RMSPROP ? 0 : k == 2 ? n : SIZE_MAX;
        if (o->dtype == GS_DTYPE_FLOAT32) {
            o->mf = im == SIZE_MAX ? NULL : (float *)o->state + im;
            o->vf = iv == SIZE_MAX ? NULL : (float *)o->state + iv;
        } else {
            o->m = im == SIZE_MAX ? NULL : (double *)o->state + im;
            o->v = iv == SIZE_MAX ? NULL : (double *)o->state + iv;
        }
    }
    *out = o;
    return GS_OK;
nomem:
    gs_optimizer_destroy(o);
    return gs_error_set(err, GS_ENOMEM, "out of memory for the %s state of %zu parameters",
                        gs_opt_names[cfg->optimizer], n);
}

void gs_optimizer_destroy(gs_optimizer *opt)
{
    if (!opt)
        return;
    free(opt->state);
    free(opt);
}

#define R double
#define S(n) n##_d
#define AXPY cblas_daxpy
#define MV(o) ((o)->m)
#define VV(o) ((o)->v)
#define STEP gs_optimizer_step
#define CLIP gs_opt_clip
#define DTYPE GS_DTYPE_FLOAT64
#include "core/opt_impl.h"
#undef R
#undef S
#undef AXPY
#undef MV
#undef VV
#undef STEP
#undef CLIP
#undef DTYPE

#define R float
#define S(n) n##_f
#define AXPY cblas_saxpy
#define MV(o) ((o)->mf)
#define VV(o) ((o)->vf)
#define STEP gs_optimizer_stepf
#define CLIP gs_opt_clipf
#define DTYPE GS_DTYPE_FLOAT32
#include "core/opt_impl.h"

double gs_opt_lr(const gs_run_config *cfg, int64_t t)
{
    double lr = cfg->lr;
    int64_t w = cfg->warmup > 0 ? cfg->warmup : 0;
    if (t < w)
        return lr * (double)(t + 1) / (double)w;
    double tp = (double)(t - w), tt = (double)(cfg->steps - w);
    switch (cfg->schedule) {
    case GS_SCHED_COSINE:
        return lr * 0.5 * (1.0 + cos(PI * tp / tt));
    case GS_SCHED_STEP:
        assert(cfg->step_size >= 1);
        return lr * pow(cfg->gamma, (double)((t - w) / cfg->step_size));
    default:
        return lr;
    }
}

/* The plain sum of squares under- or overflows for the very small and very large gradients this
 * harness studies, so out-of-range sums are redone scaled by max |v|: ||v|| = m sqrt(sum
 * (v_i / m)^2). NaN anywhere gives NaN. Used for the per-layer norms (net.c) and the global one. */
double gs_opt_norm(const double *v, size_t n)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += v[i] * v[i];
    if (isnan(ss) || (ss > 1e-280 && ss < 1e280))
        return sqrt(ss);
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double av = fabs(v[i]);
        if (isnan(av))
            return av;
        m = av > m ? av : m;
    }
    if (m == 0.0 || isinf(m))
        return m;
    ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] / m) * (v[i] / m);
    return m * sqrt(ss);
}

double gs_opt_normf(const float *v, size_t n)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)v[i] * (double)v[i];
    return sqrt(ss);
}
