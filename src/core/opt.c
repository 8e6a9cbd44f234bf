/* Optimizers (sgd, momentum, adam, adamw, rmsprop), the learning-rate schedule and gradient
 * clipping over one flat parameter block. The state is one block allocated at create; the
 * update kernels never allocate, never fail and never print. Formulas in opt.h. */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

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
    if (!o || (k > 0 && n > SIZE_MAX / sizeof(double) / k))
        goto nomem;
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
        o->state = calloc(k * (n ? n : 1), sizeof *o->state);
        if (!o->state)
            goto nomem;
        /* momentum: m = b; adam: m, v; rmsprop: v */
        o->m = cfg->optimizer == GS_OPT_RMSPROP ? NULL : o->state;
        o->v = cfg->optimizer == GS_OPT_RMSPROP ? o->state : k == 2 ? o->state + n : NULL;
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

/* Plain SGD: the axpy p += (-lr) g in chunks of at most INT_MAX (the CBLAS length is an int);
 * with weight decay, p -= lr (g + wd p). */
static void sgd(const gs_optimizer *o, double *restrict p, const double *restrict g, double lr)
{
    double wd = o->weight_decay;
    if (wd == 0.0) {
        for (size_t off = 0; off < o->n; off += INT_MAX) {
            size_t len = o->n - off < INT_MAX ? o->n - off : INT_MAX;
            cblas_daxpy((int)len, -lr, g + off, 1, p + off, 1);
        }
        return;
    }
    for (size_t i = 0; i < o->n; i++)
        p[i] -= lr * (g[i] + wd * p[i]);
}

/* torch SGD(momentum=mu, nesterov): b = mu b + d (dampening 0; the first step's b = d, which the
 * zero-initialised buffer gives too); step direction b, or d + mu b for Nesterov. */
static void momentum(gs_optimizer *o, double *restrict p, const double *restrict g, double lr)
{
    double mu = o->momentum, wd = o->weight_decay, *restrict b = o->m;
    for (size_t i = 0; i < o->n; i++) {
        double d = g[i] + wd * p[i];
        b[i] = mu * b[i] + d;
        p[i] -= lr * (o->nesterov ? d + mu * b[i] : b[i]);
    }
}

/* torch Adam / AdamW (not amsgrad): bias-corrected moments, step lr / (1 - b1^k) * m / denom with
 * denom = sqrt(v) / sqrt(1 - b2^k) + eps, k = t + 1. AdamW decays p by (1 - lr wd) first and
 * leaves the gradient alone; Adam adds wd p to it. */
static void adam(gs_optimizer *o, double *restrict p, const double *restrict g, double lr)
{
    double b1 = o->beta1, b2 = o->beta2, eps = o->eps, wd = o->weight_decay;
    double k = (double)(o->t + 1);
    double step = lr / (1.0 - pow(b1, k)), sq2 = sqrt(1.0 - pow(b2, k));
    int decoupled = o->kind == GS_OPT_ADAMW;
    double *restrict m = o->m, *restrict v = o->v;
    for (size_t i = 0; i < o->n; i++) {
        double d = g[i];
        if (decoupled)
            p[i] *= 1.0 - lr * wd;
        else
            d += wd * p[i];
        m[i] = b1 * m[i] + (1.0 - b1) * d;
        v[i] = b2 * v[i] + (1.0 - b2) * d * d;
        p[i] -= step * m[i] / (sqrt(v[i]) / sq2 + eps);
    }
}

/* torch RMSprop (not centered, no momentum): v = rho v + (1 - rho) d^2, p -= lr d / (sqrt(v) +
 * eps). */
static void rmsprop(gs_optimizer *o, double *restrict p, const double *restrict g, double lr)
{
    double rho = o->rho, eps = o->eps, wd = o->weight_decay, *restrict v = o->v;
    for (size_t i = 0; i < o->n; i++) {
        double d = g[i] + wd * p[i];
        v[i] = rho * v[i] + (1.0 - rho) * d * d;
        p[i] -= lr * d / (sqrt(v[i]) + eps);
    }
}

void gs_optimizer_step(gs_optimizer *opt, double *restrict p, const double *restrict g, double lr)
{
    switch (opt->kind) {
    case GS_OPT_MOMENTUM:
        momentum(opt, p, g, lr);
        break;
    case GS_OPT_ADAM:
    case GS_OPT_ADAMW:
        adam(opt, p, g, lr);
        break;
    case GS_OPT_RMSPROP:
        rmsprop(opt, p, g, lr);
        break;
    default:
        assert(opt->kind == GS_OPT_SGD);
        sgd(opt, p, g, lr);
        break;
    }
    opt->t++;
}

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

int gs_opt_clip(const gs_run_config *cfg, double *g, size_t n, double norm)
{
    int fired = 0;
    if (cfg->clip_norm > 0.0 && norm > cfg->clip_norm) {
        double s = cfg->clip_norm / (norm + 1e-6); /* torch clip_grad_norm_ */
        for (size_t i = 0; i < n; i++)
            g[i] *= s;
        fired = 1;
    }
    if (cfg->clip_value > 0.0) {
        double c = cfg->clip_value;
        for (size_t i = 0; i < n; i++) {
            if (g[i] > c || g[i] < -c) {
                g[i] = g[i] > c ? c : -c;
                fired = 1;
            }
        }
    }
    return fired;
}
