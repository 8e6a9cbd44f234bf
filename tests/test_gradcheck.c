/* Physics check of the network core: central finite differences against the analytic gradient
 * of every parameter (weights, biases, norm scales and shifts) for every activation x norm x
 * residual layout x loss in float64; the float32 gradient against the float64 gradient of the
 * same net, with a coarse float32 finite difference as a sanity check; float32 inits as rounded
 * float64 draws; activation derivatives. The inits are in test_init.c; forward passes against a
 * naive implementation, evaluation mode, activation values and create errors in test_net.c. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "gradsweep/net.h"

enum { D_IN = 4, D_OUT = 3, BATCH = 6 };

/* Relative error with a floor: |a - b| / max(|a| + |b|, floor). The five-point difference with
 * step h = 1e-4 (relative) has truncation error O(h^4) ~ 1e-16 and round-off ~ eps_mach |L| / h
 * ~ 1e-12, so entries whose gradient is below FLOOR are in effect compared absolutely at
 * TOL * FLOOR = 1e-10, far above that noise. */
#define FLOOR 1e-4
#define TOL 1e-6

/* float32 analytic against float64 analytic, e = max |g32 - g64| / max |g64| over the parameter
 * block, must be below C32 u L kappa. Each float32 operation rounds with u = 2^-24 = 6e-8; a
 * forward and a backward pass through L layers (GEMM dot products of length <= 6, batch
 * reductions in double) accumulate O(L) such errors, and a normalization amplifies the rounding
 * of its input u by kappa = rms(u) / std(u) of its worst row (layernorm) or unit (batchnorm),
 * the cancellation in u - mean (cond_norm; 1 without a norm). Measured over the grid:
 * e / (u L kappa) median 0.4, worst 10.7 (e itself: worst 1.8e-5 at kappa = 52, a layernorm row
 * whose std is 1/52 of its rms; without a norm worst 6.4e-7 ~ 11 u); C32 = 100 leaves ~9x
 * headroom, i.e. 2.4e-5 for a depth-3 net without a norm, still ~1e-4 of the O(1) relative
 * error a wrong formula in one layer gives. */
#define U32 5.9604644775390625e-8
#define C32 100.0

/* The float32 finite difference: float32 forward passes, the loss accumulated in double, along a
 * direction v (unit norm) with steps that change the loss by STEP32 |L| to first order (see
 * fd32). Its noise is the float32 rounding of the loss, ~16 u |L| -> 1.5 * 16 u / STEP32 ~ 5e-4
 * of |g|, and truncation grows with the step (at STEP32 = 1e-2, strongly curved layernorm nets
 * reach 1e-2; at 1e-3 the noise does), so the comparison is coarse: |FD - g . v| < TOL32_FD |g|.
 * Measured over the grid: along g worst 6e-4 (median 7e-6), along random directions worst 2e-3.
 * A wrong gradient in a layer that carries more than ~1% of |g| exceeds it. */
#define STEP32 3e-3
#define TOL32_FD 1e-2

static double rel_err(double a, double b, double floor)
{
    double den = fabs(a) + fabs(b);
    return fabs(a - b) / (den > floor ? den : floor);
}

/* ---- the case grid ---- */

/* Residual layouts: none (depth 3); blocks of one layer (depth 3: hidden layers 2 and 3 are each
 * x + 0.7 F(x)); blocks of two (depth 4: hidden layers 2..3 one block with alpha 1, layer 4 a
 * trailing partial block without a skip). */
enum { RES_OFF, RES_EVERY1, RES_EVERY2, RES__COUNT };
static const char *const res_names[] = {"res_off", "res_every1", "res_every2"};

/* Loss and targets: cross entropy on labels, mse on one-hot labels, mse on float targets. */
enum { MODE_XENT, MODE_MSE_LABELS, MODE_MSE_TARGETS, MODE__COUNT };
static const char *const mode_names[] = {"xent", "mse_labels", "mse_targets"};

typedef struct {
    int act;
    double alpha; /* leaky_relu slope / elu alpha (ignored by the other kinds) */
    int norm;     /* gs_norm */
    int res;      /* RES_* */
    int mode;     /* MODE_* */
    int bias;     /* model.bias */
    int uneven;   /* per-layer widths from a width_list */
    unsigned long seed;
} netcase;

static void case_name(const netcase *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s(%g)/%s/%s/%s/%s/%s", gs_act_names[c->act], c->alpha,
             gs_norm_names[c->norm], res_names[c->res], mode_names[c->mode],
             c->bias ? "bias" : "no_bias", c->uneven ? "uneven" : "uniform");
}

static void case_config(const netcase *c, gs_run_config *cfg)
{
    gs_config_defaults(cfg);
    cfg->activation = c->act;
    cfg->leaky_alpha = c->alpha;
    cfg->elu_alpha = c->alpha;
    cfg->loss = c->mode == MODE_XENT ? GS_LOSS_CROSS_ENTROPY : GS_LOSS_MSE;
    cfg->sigma_w = 1.5;
    cfg->sigma_b = 0.3;
    cfg->bias = c->bias;
    cfg->norm = c->norm;
    cfg->depth = c->res == RES_EVERY2 ? 4 : 3;
    cfg->width = 4;
    cfg->residual_every = c->res == RES_EVERY1 ? 1 : c->res == RES_EVERY2 ? 2 : 0;
    cfg->residual_alpha = c->res == RES_EVERY1 ? 0.7 : 1.0;
    if (c->uneven) { /* every2: hidden layers 1 and 3 are the block's input and output */
        snprintf(cfg->width_list, sizeof cfg->width_list, "%s",
                 c->res == RES_OFF ? "5,3,4" : "4,3,4,5");
        cfg->width = c->res == RES_OFF ? 5 : 4;
    }
}

/* Whether the net's skips are those of layout res: res_in[l] for each hidden weight layer l. */
static int plan_ok(const gs_net *net, int res)
{
    int ok = 1;
    for (size_t l = 0; l + 1 < net->n_layers; l++) {
        size_t want = SIZE_MAX;
        if (res == RES_EVERY1 && l >= 1)
            want = l - 1;
        if (res == RES_EVERY2 && l == 2)
            want = 0;
        ok = ok && net->res_in[l] == want && (net->res[l] != NULL) == (want != SIZE_MAX);
    }
    return ok;
}

/* One case's config and data. Inputs and targets are float values, so that a float32 net sees
 * exactly the inputs of the float64 one. */
typedef struct {
    gs_run_config cfg;
    float x[BATCH * D_IN];  /* [B][d_in] */
    float t[BATCH * D_OUT]; /* [B][k] */
    double xd[BATCH * D_IN], td[BATCH * D_OUT];
    int32_t lab[BATCH];
    int targets; /* 1: mse on t; 0: labels */
} fixture;

/* Fills f for case c and returns a float64 net with the parameters drawn from seed c->seed and,
 * with a norm, gamma ~ 1 + N(0, 0.3^2), beta ~ N(0, 0.3^2), so that the norm parameters are not
 * checked only at the special point gamma = 1, beta = 0. With round32 every parameter is rounded
 * to float, so that a float32 net can hold the same values. NULL on failure (counted). */
static gs_net *fixture_make(const netcase *c, fixture *f, int round32)
{
    gs_net *net = NULL;
    memset(f, 0, sizeof *f);
    case_config(c, &f->cfg);
    CHECK_EQ_INT(gs_net_create(&net, &f->cfg, D_IN, D_OUT, BATCH, NULL), GS_OK);
    if (!net)
        return NULL;
    CHECK(plan_ok(net, c->res));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, c->seed);
    CHECK_EQ_INT(gs_net_init(net, &f->cfg, rng, NULL), GS_OK);
    for (size_t l = 0; net->gamma && l + 1 < net->n_layers; l++)
        for (size_t j = 0; j < net->n[l + 1]; j++) {
            net->gamma[l][j] = 1.0 + gsl_ran_gaussian(rng, 0.3);
            net->beta[l][j] = gsl_ran_gaussian(rng, 0.3);
        }
    for (size_t i = 0; round32 && i < net->n_params; i++)
        net->params[i] = (double)(float)net->params[i];
    for (size_t i = 0; i < BATCH * D_IN; i++)
        f->xd[i] = (double)(f->x[i] = (float)gsl_ran_gaussian(rng, 1.0));
    for (size_t i = 0; i < BATCH; i++)
        f->lab[i] = (int32_t)gsl_rng_uniform_int(rng, D_OUT);
    for (size_t i = 0; i < BATCH * D_OUT; i++)
        f->td[i] = (double)(f->t[i] = (float)gsl_ran_gaussian(rng, 1.0));
    f->targets = c->mode == MODE_MSE_TARGETS;
    gsl_rng_free(rng);
    return net;
}

static double loss64(gs_net *net, const fixture *f)
{
    gs_net_forward(net, f->xd, BATCH);
    return gs_net_loss(net, f->targets ? NULL : f->lab, f->targets ? f->td : NULL, BATCH);
}

static double loss32(gs_netf *net, const fixture *f)
{
    gs_netf_forward(net, f->x, BATCH);
    return gs_netf_loss(net, f->targets ? NULL : f->lab, f->targets ? f->t : NULL, BATCH);
}

/* ---- kinks ---- */

/* Where each activation is not C2 (f' or f'' jumps), so that a five-point stencil across it is
 * not O(h^4): relu, leaky_relu, elu (C1 at 0 only for alpha = 1, f'' jumps even then), selu and
 * softsign (f'' jumps) at 0, hard_tanh at +-1. The smooth kinds have none. The activation sees
 * h = gamma z + beta with a norm (h = u without), and the normalization z(u) itself is smooth
 * (eps > 0), so the region of every h, which net->h holds after the norm, is the whole condition:
 * the same regions at all stencil points means no kink was crossed. */
typedef struct {
    int n;
    double at[2];
} kinks;

static kinks kinks_of(int act)
{
    switch (act) {
    case GS_ACT_RELU:
    case GS_ACT_LEAKY_RELU:
    case GS_ACT_ELU:
    case GS_ACT_SELU:
    case GS_ACT_SOFTSIGN:
        return (kinks){1, {0.0, 0.0}};
    case GS_ACT_HARD_TANH:
        return (kinks){2, {-1.0, 1.0}};
    default:
        return (kinks){0, {0.0, 0.0}};
    }
}

static unsigned char region(kinks k, double v)
{
    unsigned char r = 0;
    for (int j = 0; j < k.n; j++)
        r = (unsigned char)(r + (v > k.at[j]));
    return r;
}

/* Region of every hidden h between the kinks of k into s [sum_l B n[l+1]]. */
static void regions64(const gs_net *net, kinks k, unsigned char *s)
{
    size_t p = 0;
    for (size_t l = 0; l + 1 < net->n_layers; l++)
        for (size_t i = 0; i < BATCH * net->n[l + 1]; i++)
            s[p++] = region(k, net->h[l][i]);
}

static void regions32(const gs_netf *net, kinks k, unsigned char *s)
{
    size_t p = 0;
    for (size_t l = 0; l + 1 < net->n_layers; l++)
        for (size_t i = 0; i < BATCH * net->n[l + 1]; i++)
            s[p++] = region(k, (double)net->h[l][i]);
}

static size_t n_hidden(const size_t *n, size_t L)
{
    size_t nh = 0;
    for (size_t l = 0; l + 1 < L; l++)
        nh += BATCH * n[l + 1];
    return nh;
}

/* Whether parameter p is the bias of a hidden layer followed by batchnorm: the mean subtraction
 * cancels it, so its gradient is exactly 0 in exact arithmetic. */
static int bn_bias(const gs_net *net, size_t p)
{
    size_t L = net->n_layers;
    return net->bias && net->norm == GS_NORM_BATCHNORM && p >= (size_t)(net->b[0] - net->params) &&
           p < (size_t)(net->b[L - 1] - net->params);
}

/* ---- float64: finite differences ---- */

typedef struct {
    double worst;   /* largest relative error over the compared entries */
    size_t skipped; /* entries whose stencil crossed a kink */
    size_t big;     /* entries with |g| > floor, compared relatively */
    size_t cancel;  /* biases cancelled by batchnorm */
} fdstats;

/* Five-point central difference (Richardson) of the loss in parameter p with step h:
 * L'(p) = [8 (L(p+h) - L(p-h)) - (L(p+2h) - L(p-2h))] / (12 h) + O(h^4); *kink when a hidden h
 * changed region (s0: the regions at the unperturbed parameters, s1 scratch). */
static double fd64_at(gs_net *net, const fixture *f, size_t p, double h, kinks kk,
                      const unsigned char *s0, unsigned char *s1, size_t nh, int *kink)
{
    double p0 = net->params[p], lv[4];
    const double off[4] = {h, -h, 2.0 * h, -2.0 * h};
    *kink = 0;
    for (int j = 0; j < 4; j++) {
        net->params[p] = p0 + off[j];
        lv[j] = loss64(net, f);
        regions64(net, kk, s1);
        *kink = *kink || memcmp(s0, s1, nh) != 0;
    }
    net->params[p] = p0;
    return (8.0 * (lv[0] - lv[1]) - (lv[2] - lv[3])) / (12.0 * h);
}

/* Checks every entry of the parameter block of case c; returns the worst relative error. */
static double gradcheck64(const netcase *c)
{
    fixture f;
    gs_net *net = fixture_make(c, &f, 0);
    if (!net)
        return (double)INFINITY;
    size_t np = net->n_params, nh = n_hidden(net->n, net->n_layers);
    double *g = malloc(np * sizeof *g);
    unsigned char *s0 = malloc(nh), *s1 = malloc(nh);
    kinks kk = kinks_of(c->act);
    loss64(net, &f);
    gs_net_backward(net, f.xd, BATCH);
    memcpy(g, net->grads, np * sizeof *g);
    regions64(net, kk, s0);
    fdstats st = {0.0, 0, 0, 0};
    for (size_t p = 0; p < np; p++) {
        int kink;
        double h = 1e-4 * (fabs(net->params[p]) > 1.0 ? fabs(net->params[p]) : 1.0);
        double num = fd64_at(net, &f, p, h, kk, s0, s1, nh, &kink);
        if (kink) {
            st.skipped++;
            continue;
        }
        double e = rel_err(g[p], num, FLOOR);
        st.worst = e > st.worst ? e : st.worst;
        if (bn_bias(net, p)) {
            st.cancel++;
            CHECK(fabs(g[p]) < 1e-12);
        } else {
            st.big += fabs(g[p]) > FLOOR;
        }
    }
    char name[160];
    case_name(c, name, sizeof name);
    /* kinks are rare at h = 1e-4: < 5% skipped; most entries are compared relatively, not
     * vacuously (saturated hard_tanh and dead relu units have exactly zero gradients) */
    int vacuous = st.big * 2 <= np - st.cancel;
    if (st.worst >= TOL || st.skipped * 20 >= np || vacuous)
        fprintf(stderr,
                "gradcheck %s: worst relative error %.3g, %zu skipped, %zu of %zu compared "
                "relatively\n",
                name, st.worst, st.skipped, st.big, np - st.cancel);
    CHECK(st.worst < TOL);
    CHECK(st.skipped * 20 < np);
    CHECK(!vacuous);
    free(g);
    free(s0);
    free(s1);
    gs_net_destroy(net);
    return st.worst;
}

/* ---- float32 ---- */

typedef struct {
    double worst;               /* max |g32 - g64| / max |g64| */
    double ratio;               /* the largest worst / (u L kappa) */
    double kappa;               /* the largest kappa */
    double least;               /* the smallest such value over the cases: float32 is not float64 */
    double worst_fd;            /* float32 finite differences against the float32 gradient */
    size_t fd_dirs, fd_skipped; /* directions tried, and skipped for a kink */
    size_t kink_flip;           /* cases skipped: a float32 h on the other side of a kink */
} f32stats;

/* Directional finite differences of the float32 loss, along the float32 gradient itself (the
 * largest signal, |g|) and along N_DIR - 1 random +-1 directions, against g . v; returns the
 * worst |FD - g . v| / |g| and counts the directions whose stencil crossed a kink in *skipped. */
enum { N_DIR = 3 };
static double fd32(gs_netf *nf, const fixture *f, const float *g, kinks kk, unsigned long seed,
                   size_t *skipped)
{
    size_t np = nf->n_params, nh = n_hidden(nf->n, nf->n_layers);
    unsigned char *s0 = malloc(nh), *s1 = malloc(nh);
    float *p0 = malloc(np * sizeof *p0);
    double *v = malloc(np * sizeof *v), gn = 0.0, worst = 0.0;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    memcpy(p0, nf->params, np * sizeof *p0);
    for (size_t i = 0; i < np; i++)
        gn += (double)g[i] * (double)g[i];
    gn = sqrt(gn);
    /* the step that changes the loss by the fraction STEP32 to first order along g: float32
     * noise ~ u |L| / (STEP32 |L|) relative, whatever the scale of L and g */
    double step = STEP32 * loss32(nf, f) / gn;
    regions32(nf, kk, s0);
    *skipped = 0;
    for (int dir = 0; dir < N_DIR; dir++) {
        double ana = 0.0, lv[4];
        for (size_t i = 0; i < np; i++) {
            v[i] = dir == 0 ? (double)g[i] / gn
                            : (gsl_rng_uniform(rng) < 0.5 ? -1.0 : 1.0) / sqrt((double)np);
            ana += (double)g[i] * v[i];
        }
        int kink = 0;
        for (int j = 0; j < 4; j++) {
            double t = (j & 1 ? -1.0 : 1.0) * (j < 2 ? step : 2.0 * step);
            for (size_t i = 0; i < np; i++)
                nf->params[i] = (float)((double)p0[i] + t * v[i]);
            lv[j] = loss32(nf, f);
            regions32(nf, kk, s1);
            kink = kink || memcmp(s0, s1, nh) != 0;
        }
        memcpy(nf->params, p0, np * sizeof *p0);
        if (kink) {
            ++*skipped;
            continue;
        }
        double num = (8.0 * (lv[0] - lv[1]) - (lv[2] - lv[3])) / (12.0 * step);
        double e = fabs(num - ana) / gn;
        worst = e > worst ? e : worst;
    }
    gsl_rng_free(rng);
    free(s0);
    free(s1);
    free(p0);
    free(v);
    return worst;
}

/* kappa of the normalized layers of net after a forward pass on x: the largest rms(u) istd over
 * the rows (layernorm) or units (batchnorm) of each u = in W^T + b, recomputed here; 1 without
 * a norm. */
static double cond_norm(const gs_net *net, const double *x)
{
    double kappa = 1.0, u[BATCH * 8];
    const double *in = x; /* [B][n[l]] */
    for (size_t l = 0; net->norm != GS_NORM_NONE && l + 1 < net->n_layers; l++) {
        size_t ni = net->n[l], no = net->n[l + 1];
        int bn = net->norm == GS_NORM_BATCHNORM;
        if (no > 8)
            return (double)INFINITY; /* u is sized for the grid's widths */
        for (size_t i = 0; i < BATCH; i++)
            for (size_t o = 0; o < no; o++) {
                u[i * no + o] = net->b[l][o];
                for (size_t k = 0; k < ni; k++)
                    u[i * no + o] += in[i * ni + k] * net->w[l][o * ni + k];
            }
        for (size_t gi = 0; gi < (bn ? no : BATCH); gi++) {
            double ss = 0.0;
            for (size_t k = 0; k < (bn ? BATCH : no); k++) {
                double v = bn ? u[k * no + gi] : u[gi * no + k];
                ss += v * v;
            }
            double c = sqrt(ss / (double)(bn ? BATCH : no)) * net->istd[l][gi];
            kappa = c > kappa ? c : kappa;
        }
        in = net->out[l];
    }
    return kappa;
}

/* The float32 net of case c against a float64 net with the same (float) parameters and inputs:
 * gradients within C32 u L kappa, different from float64 (float arithmetic is used), and a coarse
 * float32 finite-difference check. */
static void check32(const netcase *c, f32stats *acc)
{
    fixture f;
    gs_net *net = fixture_make(c, &f, 1);
    gs_netf *nf = NULL;
    CHECK_EQ_INT(gs_netf_create(&nf, &f.cfg, D_IN, D_OUT, BATCH, NULL), GS_OK);
    if (!net || !nf)
        goto done;
    size_t np = net->n_params, nh = n_hidden(net->n, net->n_layers);
    CHECK_EQ_INT(nf->n_params, np);
    for (size_t i = 0; i < np; i++)
        nf->params[i] = (float)net->params[i]; /* exact */
    double l64 = loss64(net, &f), l32 = loss32(nf, &f);
    gs_net_backward(net, f.xd, BATCH);
    gs_netf_backward(nf, f.x, BATCH);
    unsigned char *s64 = malloc(nh), *s32 = malloc(nh);
    kinks kk = kinks_of(c->act);
    regions64(net, kk, s64);
    regions32(nf, kk, s32);
    int flip = memcmp(s64, s32, nh) != 0;
    free(s64);
    free(s32);
    if (flip) { /* an h within float32 rounding of a kink: the two gradients differ by O(1) */
        acc->kink_flip++;
        goto done;
    }
    double gmax = 0.0, dmax = 0.0;
    for (size_t i = 0; i < np; i++) {
        double d = fabs((double)nf->grads[i] - net->grads[i]);
        gmax = fabs(net->grads[i]) > gmax ? fabs(net->grads[i]) : gmax;
        dmax = d > dmax ? d : dmax;
    }
    double kappa = cond_norm(net, f.xd), tol = C32 * U32 * (double)net->n_layers * kappa;
    double e = dmax / gmax, ratio = e / (U32 * (double)net->n_layers * kappa);
    char name[160];
    case_name(c, name, sizeof name);
    if (!(e < tol))
        fprintf(stderr, "float32 %s: max |g32 - g64| / max |g64| = %.3g, tol %.3g (kappa %.3g)\n",
                name, e, tol, kappa);
    CHECK(e < tol);
    CHECK(e > 1e-9); /* float32 arithmetic: not the float64 result rounded once */
    CHECK(l32 != l64);
    CHECK_NEAR(l32, l64, tol, 0);
    acc->worst = e > acc->worst ? e : acc->worst;
    acc->ratio = ratio > acc->ratio ? ratio : acc->ratio;
    acc->kappa = kappa > acc->kappa ? kappa : acc->kappa;
    acc->least = e < acc->least ? e : acc->least;
    float *g = malloc(np * sizeof *g);
    memcpy(g, nf->grads, np * sizeof *g);
    size_t skipped;
    double efd = fd32(nf, &f, g, kk, c->seed, &skipped);
    if (!(efd < TOL32_FD))
        fprintf(stderr, "float32 %s: finite differences: worst %.3g, %zu of %d skipped\n", name,
                efd, skipped, N_DIR);
    CHECK(efd < TOL32_FD);
    acc->fd_dirs += N_DIR;
    acc->fd_skipped += skipped;
    acc->worst_fd = efd > acc->worst_fd ? efd : acc->worst_fd;
    free(g);
done:
    gs_net_destroy(net);
    gs_netf_destroy(nf);
}

/* gs_netf_init draws in float64 and rounds: the float32 parameters are the float64 ones of the
 * same seed, rounded once, for every init, with and without biases, with a norm (gamma 1,
 * beta 0). */
static void init_rounds(void)
{
    for (int init = 0; init < GS_INIT__COUNT; init++) {
        netcase c = {GS_ACT_TANH, 0.0, GS_NORM_LAYERNORM, RES_EVERY2, MODE_XENT, init % 2, 1, 5};
        gs_run_config cfg;
        case_config(&c, &cfg);
        cfg.init = init;
        cfg.init_noise = 0.1;
        gs_net *net = NULL;
        gs_netf *nf = NULL;
        CHECK_EQ_INT(gs_net_create(&net, &cfg, D_IN, D_OUT, BATCH, NULL), GS_OK);
        CHECK_EQ_INT(gs_netf_create(&nf, &cfg, D_IN, D_OUT, BATCH, NULL), GS_OK);
        if (net && nf) {
            gsl_rng *r1 = gsl_rng_alloc(gsl_rng_mt19937), *r2 = gsl_rng_alloc(gsl_rng_mt19937);
            gsl_rng_set(r1, 11);
            gsl_rng_set(r2, 11);
            CHECK_EQ_INT(gs_net_init(net, &cfg, r1, NULL), GS_OK);
            CHECK_EQ_INT(gs_netf_init(nf, &cfg, r2, NULL), GS_OK);
            size_t same = 0, exact = 0;
            for (size_t i = 0; i < net->n_params; i++) {
                same += nf->params[i] == (float)net->params[i];
                exact += (double)nf->params[i] == net->params[i];
            }
            CHECK_EQ_INT(same, net->n_params);
            CHECK(exact * 2 < net->n_params);          /* mostly the gammas and betas, 1 and 0 */
            CHECK(gsl_rng_get(r1) == gsl_rng_get(r2)); /* the same number of draws */
            gsl_rng_free(r1);
            gsl_rng_free(r2);
        }
        gs_net_destroy(net);
        gs_netf_destroy(nf);
    }
}

/* Parameters each activation's derivative is checked with: the default and one other. */
static const double alphas[] = {0.01, 1.0, 0.2, 0.6};

/* f' against central differences of f away from the kinks (none of xs is within h of one). */
static void act_derivatives(void)
{
    const double xs[] = {-30.0, -8.0, -3.1, -0.7, -0.01, 0.02, 0.5, 0.999, 2.9, 9.0, 40.0};
    for (int act = 0; act < GS_ACT__COUNT; act++) {
        for (size_t k = 0; k < sizeof alphas / sizeof *alphas; k++) {
            double al = alphas[k];
            for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
                double x = xs[i], h = 1e-6 * (fabs(x) > 1.0 ? fabs(x) : 1.0);
                double num = (gs_act_f(act, al, x + h) - gs_act_f(act, al, x - h)) / (2.0 * h);
                double e = rel_err(gs_act_df(act, al, x), num, FLOOR);
                if (e >= TOL)
                    fprintf(stderr, "%s(%g)'(%g): %.17g vs %.17g\n", gs_act_names[act], al, x,
                            gs_act_df(act, al, x), num);
                CHECK(e < TOL);
            }
            CHECK(isnan(gs_act_f(act, al, (double)NAN)));
            /* indicator derivatives (and linear's constant) mask NaN, as relu always did */
            int masks = act == GS_ACT_LINEAR || act == GS_ACT_RELU || act == GS_ACT_LEAKY_RELU ||
                        act == GS_ACT_HARD_TANH;
            CHECK(isnan(gs_act_df(act, al, (double)NAN)) || masks);
        }
    }
}

/* The grid: every activation (leaky_relu and elu also with a second parameter: alpha = 1 makes
 * elu C1 and 0.01 makes leaky_relu almost relu) x norm x residual layout x loss, with bias false
 * in a third of the cases and uneven widths in half of those whose layout allows them. */
static void grid(void)
{
    unsigned long seed = 1;
    size_t n_cases = 0;
    double worst64 = 0.0;
    f32stats s32 = {0.0, 0.0, 1.0, (double)INFINITY, 0.0, 0, 0, 0};
    for (int v = 0; v < GS_ACT__COUNT + 2; v++) {
        int act = v < GS_ACT__COUNT ? v : v == GS_ACT__COUNT ? GS_ACT_LEAKY_RELU : GS_ACT_ELU;
        double al = act == GS_ACT_ELU ? 1.0 : 0.01;
        if (v >= GS_ACT__COUNT)
            al = act == GS_ACT_ELU ? 0.6 : 0.2;
        for (int norm = 0; norm < GS_NORM__COUNT; norm++)
            for (int res = 0; res < RES__COUNT; res++)
                for (int mode = 0; mode < MODE__COUNT; mode++) {
                    netcase c = {act, al, norm, res, mode, 1, 0, seed++};
                    c.bias = (v + norm + res + mode) % 3 != 0;
                    c.uneven = res != RES_EVERY1 && (v + mode) % 2 == 0;
                    double e = gradcheck64(&c);
                    worst64 = e > worst64 ? e : worst64;
                    check32(&c, &s32);
                    n_cases++;
                }
    }
    fprintf(stderr,
            "gradcheck: %zu cases; float64 worst relative error %.3g (tol %g); float32 vs "
            "float64 worst %.3g, least %.3g, worst / (u L kappa) %.3g (tol %g), largest kappa "
            "%.3g, %zu kink flips; float32 finite differences worst %.3g (tol %g), %zu of %zu "
            "directions skipped\n",
            n_cases, worst64, TOL, s32.worst, s32.least, s32.ratio, C32, s32.kappa, s32.kink_flip,
            s32.worst_fd, TOL32_FD, s32.fd_skipped, s32.fd_dirs);
    CHECK(s32.kink_flip * 100 < n_cases);
    CHECK(s32.fd_skipped * 4 < s32.fd_dirs);
}

int main(void)
{
    grid();
    init_rounds();
    act_derivatives();
    return CHECK_EXIT();
}
