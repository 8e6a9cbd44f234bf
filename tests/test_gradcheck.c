/* Physics check of the network core: central finite differences against the analytic gradient
 * for every activation x loss (x label / regression targets for mse), a naive re-implementation
 * of forward + loss, and activation values and derivatives. The inits are in test_init.c. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "gradsweep/net.h"

enum { DEPTH = 3, WIDTH = 5, D_IN = 4, D_OUT = 3, BATCH = 7 };

/* Relative error with a floor: |a - b| / max(|a| + |b|, FLOOR). The five-point difference with
 * step h = 1e-4 (relative) has truncation error O(h^4) ~ 1e-16 and round-off ~ eps_mach |L| / h
 * ~ 1e-12, so entries whose gradient is below FLOOR are in effect compared absolutely at
 * TOL * FLOOR = 1e-10, far above that noise. */
#define FLOOR 1e-4
#define TOL 1e-6

static double rel_err(double a, double b)
{
    double den = fabs(a) + fabs(b);
    return fabs(a - b) / (den > FLOOR ? den : FLOOR);
}

typedef struct {
    gs_net *net;
    double x[BATCH * D_IN];    /* [B][d_in] */
    int32_t lab[BATCH];        /* [B] */
    double tgt[BATCH * D_OUT]; /* [B][k] */
    const int32_t *labels;     /* lab or NULL */
    const double *targets;     /* tgt or NULL */
} fixture;

static double loss_at(fixture *f)
{
    gs_net_forward(f->net, f->x, BATCH);
    return gs_net_loss(f->net, f->labels, f->targets, BATCH);
}

/* Where each activation is not C2 (f' or f'' jumps), so that a five-point stencil across it is
 * not O(h^4): relu, leaky_relu, elu (C1 at 0 only for alpha = 1, f'' jumps even then), selu and
 * softsign (f'' jumps) at 0, hard_tanh at +-1. The smooth kinds have none. */
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

/* Region of every hidden pre-activation between the kinks of k; a change means a kink was
 * crossed. */
static void regions(const gs_net *net, kinks k, unsigned char *s)
{
    size_t p = 0;
    for (size_t l = 0; l + 1 < net->n_layers; l++)
        for (size_t i = 0; i < BATCH * net->n[l + 1]; i++) {
            unsigned char r = 0;
            for (int j = 0; j < k.n; j++)
                r = (unsigned char)(r + (net->h[l][i] > k.at[j]));
            s[p++] = r;
        }
}

/* Checks every parameter entry (weights and biases) of one configuration; alpha is the
 * leaky_relu slope or elu alpha (ignored by the other kinds). */
static void gradcheck(int act, double alpha, int loss, int use_labels, unsigned long seed)
{
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.depth = DEPTH;
    cfg.width = WIDTH;
    cfg.activation = act;
    cfg.leaky_alpha = alpha;
    cfg.elu_alpha = alpha;
    cfg.loss = loss;
    cfg.sigma_w = 1.5;
    cfg.sigma_b = 0.3;
    gs_error err;
    fixture f;
    memset(&f, 0, sizeof f);
    CHECK_EQ_INT(gs_net_create(&f.net, &cfg, D_IN, D_OUT, BATCH + 3, &err), GS_OK);
    if (!f.net)
        return;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    CHECK_EQ_INT(gs_net_init(f.net, &cfg, rng, &err), GS_OK);
    for (size_t i = 0; i < BATCH * D_IN; i++)
        f.x[i] = gsl_ran_gaussian(rng, 1.0);
    for (size_t i = 0; i < BATCH; i++)
        f.lab[i] = (int32_t)gsl_rng_uniform_int(rng, D_OUT);
    for (size_t i = 0; i < BATCH * D_OUT; i++)
        f.tgt[i] = gsl_ran_gaussian(rng, 1.0);
    f.labels = use_labels ? f.lab : NULL;
    f.targets = use_labels ? NULL : f.tgt;

    gs_net *net = f.net;
    size_t np = net->n_params, nh = 0;
    for (size_t l = 0; l + 1 < net->n_layers; l++)
        nh += BATCH * net->n[l + 1];
    double *g = malloc(np * sizeof *g);
    unsigned char *s0 = malloc(nh + 1), *s1 = malloc(nh + 1);
    loss_at(&f);
    gs_net_backward(net, f.x, BATCH);
    memcpy(g, net->grads, np * sizeof *g);
    kinks kk = kinks_of(act);
    regions(net, kk, s0);

    double worst = 0.0;
    size_t skipped = 0, big = 0;
    for (size_t p = 0; p < np; p++) {
        /* Five-point central difference (Richardson):
         * L'(p) = [8 (L(p+h) - L(p-h)) - (L(p+2h) - L(p-2h))] / (12 h) + O(h^4). */
        double p0 = net->params[p], h = 1e-4 * (fabs(p0) > 1.0 ? fabs(p0) : 1.0), lv[4];
        const double off[4] = {h, -h, 2.0 * h, -2.0 * h};
        int kink = 0;
        for (int j = 0; j < 4; j++) {
            net->params[p] = p0 + off[j];
            lv[j] = loss_at(&f);
            regions(net, kk, s1);
            kink = kink || memcmp(s0, s1, nh) != 0;
        }
        net->params[p] = p0;
        if (kink) {
            skipped++;
            continue;
        }
        double num = (8.0 * (lv[0] - lv[1]) - (lv[2] - lv[3])) / (12.0 * h);
        double e = rel_err(g[p], num);
        worst = e > worst ? e : worst;
        big += fabs(g[p]) > FLOOR;
    }
    if (worst >= TOL)
        fprintf(stderr, "gradcheck %s(%g)/%s/%s: worst relative error %.3g\n", gs_act_names[act],
                alpha, gs_loss_names[loss], use_labels ? "labels" : "targets", worst);
    if (skipped * 20 >= np || big * 2 <= np)
        fprintf(stderr, "gradcheck %s(%g)/%s/%s: %zu skipped, %zu of %zu compared relatively\n",
                gs_act_names[act], alpha, gs_loss_names[loss], use_labels ? "labels" : "targets",
                skipped, big, np);
    CHECK(worst < TOL);
    CHECK(skipped * 20 < np); /* kinks are rare at h = 1e-4: < 5% skipped */
    CHECK(big * 2 > np);      /* most entries are compared relatively, not vacuously */
    free(g);
    free(s0);
    free(s1);
    gsl_rng_free(rng);
    gs_net_destroy(net);
}

/* Naive forward + loss straight from the definitions (loops, gs_act_f, log-sum-exp), compared to
 * the GEMM path. */
static void naive_forward(int act)
{
    for (int loss = 0; loss < GS_LOSS__COUNT; loss++) {
        gs_run_config cfg;
        gs_config_defaults(&cfg);
        cfg.depth = 2;
        cfg.width = 6;
        cfg.activation = act;
        cfg.leaky_alpha = 0.2;
        cfg.elu_alpha = 0.6;
        cfg.loss = loss;
        cfg.sigma_w = 2.0;
        cfg.sigma_b = 0.5;
        gs_net *net = NULL;
        CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 4, 5, NULL), GS_OK);
        if (!net)
            return;
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(rng, 7);
        CHECK_EQ_INT(gs_net_init(net, &cfg, rng, NULL), GS_OK);
        double x[5 * 3], a[8], b[8];
        int32_t y[5];
        for (int i = 0; i < 15; i++)
            x[i] = gsl_ran_gaussian(rng, 1.0);
        for (int i = 0; i < 5; i++)
            y[i] = (int32_t)gsl_rng_uniform_int(rng, 4);
        gs_net_forward(net, x, 5);
        double got = gs_net_loss(net, y, NULL, 5), want = 0.0;
        for (size_t r = 0; r < 5; r++) {
            memcpy(a, x + 3 * r, 3 * sizeof *a);
            for (size_t l = 0; l < net->n_layers; l++) {
                for (size_t o = 0; o < net->n[l + 1]; o++) {
                    double s = net->b[l][o];
                    for (size_t i = 0; i < net->n[l]; i++)
                        s += net->w[l][o * net->n[l] + i] * a[i];
                    b[o] = l + 1 < net->n_layers ? gs_act_f(act, gs_act_alpha(&cfg), s) : s;
                }
                memcpy(a, b, net->n[l + 1] * sizeof *a);
            }
            for (size_t o = 0; o < 4; o++)
                CHECK_NEAR(net->h[net->n_layers - 1][r * 4 + o], a[o], 1e-12, 1e-14);
            if (loss == GS_LOSS_CROSS_ENTROPY) {
                double z = 0.0;
                for (size_t o = 0; o < 4; o++)
                    z += exp(a[o]);
                want += (log(z) - a[y[r]]) / 5.0;
            } else {
                for (size_t o = 0; o < 4; o++) {
                    double t = (size_t)y[r] == o ? 1.0 : 0.0;
                    want += (a[o] - t) * (a[o] - t) / 20.0;
                }
            }
        }
        CHECK_NEAR(got, want, 1e-12, 1e-14);
        gsl_rng_free(rng);
        gs_net_destroy(net);
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
                double e = rel_err(gs_act_df(act, al, x), num);
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

/* Values at chosen points (references: the closed forms in long double / mpmath) and the
 * conventions at the kinks. */
static void act_values(void)
{
    const double L = 1.0507009873554804934, A = 1.6732632423543772848;
    CHECK(gs_act_df(GS_ACT_RELU, 0, 0.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_RELU, 0, -2.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_SIGMOID, 0, -1000.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_SIGMOID, 0, 1000.0) == 1.0);
    CHECK_NEAR(gs_act_f(GS_ACT_TANH, 0, 0.3), tanh(0.3), 0, 0);
    /* leaky_relu: slope alpha for x <= 0, f'(0) = alpha */
    CHECK(gs_act_f(GS_ACT_LEAKY_RELU, 0.1, -2.0) == 0.1 * -2.0);
    CHECK(gs_act_f(GS_ACT_LEAKY_RELU, 0.1, 3.0) == 3.0);
    CHECK(gs_act_df(GS_ACT_LEAKY_RELU, 0.1, 0.0) == 0.1);
    CHECK(gs_act_df(GS_ACT_LEAKY_RELU, 0.1, 1e-300) == 1.0);
    /* elu: alpha (e^x - 1), f'(0) = alpha */
    CHECK_NEAR(gs_act_f(GS_ACT_ELU, 1.0, -1.0), -0.63212055882855767840, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_ELU, 0.5, -1e-20), -0.5e-20, 1e-15, 0); /* expm1, not exp - 1 */
    CHECK(gs_act_df(GS_ACT_ELU, 0.5, 0.0) == 0.5);
    CHECK(gs_act_f(GS_ACT_ELU, 0.5, 2.0) == 2.0);
    /* selu: the standard constants */
    CHECK_NEAR(gs_act_f(GS_ACT_SELU, 0, 1.0), 1.0507009873554804934, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_SELU, 0, -1.0), -1.1113307378125628, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_SELU, 0, -1000.0), -L * A, 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SELU, 0, 0.0), L * A, 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SELU, 0, 0.5), L, 0, 0);
    /* gelu, exact erf form: gelu(1) = Phi(1); the tail does not cancel to 0 */
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, 1.0), 0.8413447460685429, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, -1.0), -0.15865525393145705, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, -10.0), -7.6198530241605260e-23, 1e-13, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_GELU, 0, 0.0), 0.5, 0, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, 0.5), 0.34573123063700656, 1e-15, 0); /* not tanh approx */
    /* softplus: stable in both tails */
    double sp = gs_act_f(GS_ACT_SOFTPLUS, 0, -50.0);
    CHECK(isfinite(sp));
    CHECK_NEAR(sp, exp(-50.0), 1e-15, 0);
    CHECK(gs_act_f(GS_ACT_SOFTPLUS, 0, 50.0) == 50.0);
    CHECK(gs_act_f(GS_ACT_SOFTPLUS, 0, 1000.0) == 1000.0);
    CHECK(gs_act_f(GS_ACT_SOFTPLUS, 0, -1000.0) == 0.0);
    CHECK_NEAR(gs_act_f(GS_ACT_SOFTPLUS, 0, 0.0), log(2.0), 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SOFTPLUS, 0, -50.0), exp(-50.0), 1e-15, 0);
    /* swish = silu, bitwise */
    CHECK_NEAR(gs_act_f(GS_ACT_SWISH, 0, 1.0), 0.7310585786300049, 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SWISH, 0, 1.0), 0.9276705118714867, 1e-15, 0);
    for (double x = -40.0; x <= 40.0; x += 0.37) {
        CHECK(gs_act_f(GS_ACT_SWISH, 0, x) == gs_act_f(GS_ACT_SILU, 0, x));
        CHECK(gs_act_df(GS_ACT_SWISH, 0, x) == gs_act_df(GS_ACT_SILU, 0, x));
    }
    CHECK(gs_act_f(GS_ACT_SWISH, 0, 1000.0) == 1000.0);
    /* softsign */
    CHECK(gs_act_f(GS_ACT_SOFTSIGN, 0, 3.0) == 0.75);
    CHECK(gs_act_f(GS_ACT_SOFTSIGN, 0, -3.0) == -0.75);
    CHECK(gs_act_df(GS_ACT_SOFTSIGN, 0, 1.0) == 0.25);
    /* hard_tanh: clip to [-1, 1], f' = 1 inside, 0 at the kinks and outside */
    CHECK(gs_act_f(GS_ACT_HARD_TANH, 0, 2.0) == 1.0);
    CHECK(gs_act_f(GS_ACT_HARD_TANH, 0, -2.0) == -1.0);
    CHECK(gs_act_f(GS_ACT_HARD_TANH, 0, 0.3) == 0.3);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, 1.0) == 0.0);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, -1.0) == 0.0);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, 0.999) == 1.0);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, -5.0) == 0.0);
    /* the parameter a config implies */
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    CHECK(cfg.leaky_alpha == 0.01 && cfg.elu_alpha == 1.0 && cfg.init_noise == 0.0);
    cfg.activation = GS_ACT_LEAKY_RELU;
    CHECK(gs_act_alpha(&cfg) == 0.01);
    cfg.activation = GS_ACT_ELU;
    CHECK(gs_act_alpha(&cfg) == 1.0);
    cfg.activation = GS_ACT_TANH;
    CHECK(gs_act_alpha(&cfg) == 0.0);
}

static void bad_shapes(void)
{
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.depth = 2;
    cfg.width = 4;
    gs_net *net = (gs_net *)&cfg; /* must be reset to NULL on failure */
    gs_error err;
    cfg.width = 0;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK(net == NULL);
    CHECK_HAS_STR(err.msg, "width");
    cfg.width = 4;
    cfg.depth = -1;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "depth");
    cfg.depth = 0;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 0, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "d_in=0");
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 0, 4, &err), GS_EINVAL);
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 0, &err), GS_EINVAL);
    cfg.activation = 42;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "activation");
    cfg.activation = GS_ACT_TANH;
    cfg.width = INT64_C(1) << 40; /* sizes overflow or cannot be allocated: an error, no crash */
    cfg.depth = 3;
    gs_status st = gs_net_create(&net, &cfg, 3, 2, 4, &err);
    CHECK(st == GS_EINVAL || st == GS_ENOMEM);
    CHECK(net == NULL);
    /* CBLAS dimensions are int: a layer or batch above INT_MAX is refused before any large
     * allocation, naming the layer (a cast would silently truncate) */
    cfg.width = 4;
    cfg.depth = 1;
    size_t big = (size_t)INT_MAX + 1;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, big, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: layer 0 (2147483648 -> 4 units) has a dimension above INT_MAX");
    CHECK(net == NULL);
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, big, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: layer 1 (4 -> 2147483648 units)");
    cfg.width = (int64_t)big;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: layer 0 (3 -> 2147483648 units)");
    cfg.width = 4;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, big, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: batch of 2147483648 rows exceeds INT_MAX");
    CHECK(net == NULL);
    cfg.depth = 3;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_OK);
    CHECK_EQ_INT(net->n_layers, 4);
    CHECK_EQ_INT(net->n_params, 3 * 4 + 4 * 4 * 2 + 4 * 2 + 4 * 3 + 2);
    if (net) {
        /* SGD over the whole block: params -= lr * grads, element by element */
        for (size_t i = 0; i < net->n_params; i++) {
            net->params[i] = (double)i;
            net->grads[i] = 0.5 * (double)i - 3.0;
        }
        gs_net_sgd(net, 0.25);
        int same = 1;
        for (size_t i = 0; i < net->n_params; i++)
            same = same && net->params[i] == (double)i - 0.25 * (0.5 * (double)i - 3.0);
        CHECK(same);
    }
    gs_net_destroy(net);
    gs_net_destroy(NULL);
}

int main(void)
{
    unsigned long seed = 1;
    for (int act = 0; act < GS_ACT__COUNT; act++) {
        /* the default parameter, then (leaky_relu, elu) a non-trivial one: alpha = 1 makes elu
         * C1 and 0.01 makes leaky_relu almost relu */
        double al = act == GS_ACT_ELU ? 1.0 : 0.01;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && act != GS_ACT_LEAKY_RELU && act != GS_ACT_ELU)
                break;
            gradcheck(act, al, GS_LOSS_CROSS_ENTROPY, 1, seed++);
            gradcheck(act, al, GS_LOSS_MSE, 1, seed++);
            gradcheck(act, al, GS_LOSS_MSE, 0, seed++);
            al = act == GS_ACT_ELU ? 0.6 : 0.2;
        }
        naive_forward(act);
    }
    act_derivatives();
    act_values();
    bad_shapes();
    return CHECK_EXIT();
}
