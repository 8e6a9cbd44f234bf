/* Physics check of the network core: central finite differences against the analytic gradient
 * for every activation x loss (x label / regression targets for mse), a naive re-implementation
 * of forward + loss, activation derivatives, and the statistics of the inits. */
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

/* Sign pattern of every hidden pre-activation; a change means a relu kink was crossed. */
static void signs(const gs_net *net, unsigned char *s)
{
    size_t p = 0;
    for (size_t l = 0; l + 1 < net->n_layers; l++)
        for (size_t i = 0; i < BATCH * net->n[l + 1]; i++)
            s[p++] = net->h[l][i] > 0.0;
}

/* Checks every parameter entry (weights and biases) of one configuration. */
static void gradcheck(int act, int loss, int use_labels, unsigned long seed)
{
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.depth = DEPTH;
    cfg.width = WIDTH;
    cfg.activation = act;
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
    gs_net_init(f.net, &cfg, rng);
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
    signs(net, s0);

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
            signs(net, s1);
            kink = kink || memcmp(s0, s1, nh) != 0;
        }
        net->params[p] = p0;
        if (act == GS_ACT_RELU && kink) {
            skipped++;
            continue;
        }
        double num = (8.0 * (lv[0] - lv[1]) - (lv[2] - lv[3])) / (12.0 * h);
        double e = rel_err(g[p], num);
        worst = e > worst ? e : worst;
        big += fabs(g[p]) > FLOOR;
    }
    if (worst >= TOL)
        fprintf(stderr, "gradcheck %s/%s/%s: worst relative error %.3g\n", gs_act_names[act],
                gs_loss_names[loss], use_labels ? "labels" : "targets", worst);
    CHECK(worst < TOL);
    CHECK(skipped * 20 < np); /* kinks are rare at h = 1e-4 */
    CHECK(big * 2 > np);      /* most entries are compared relatively, not vacuously */
    free(g);
    free(s0);
    free(s1);
    gsl_rng_free(rng);
    gs_net_destroy(net);
}

/* Naive forward + loss straight from the definitions (loops, gs_act_f, log-sum-exp), compared to
 * the GEMM path. */
static void naive_forward(void)
{
    for (int loss = 0; loss < GS_LOSS__COUNT; loss++) {
        gs_run_config cfg;
        gs_config_defaults(&cfg);
        cfg.depth = 2;
        cfg.width = 6;
        cfg.activation = GS_ACT_SIGMOID;
        cfg.loss = loss;
        cfg.sigma_w = 2.0;
        cfg.sigma_b = 0.5;
        gs_net *net = NULL;
        CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 4, 5, NULL), GS_OK);
        if (!net)
            return;
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(rng, 7);
        gs_net_init(net, &cfg, rng);
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
                    b[o] = l + 1 < net->n_layers ? gs_act_f(cfg.activation, s) : s;
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

/* f' against central differences of f, away from relu's kink; relu'(0) = 0; stable extremes. */
static void act_derivatives(void)
{
    const double xs[] = {-3.1, -0.7, -0.01, 0.02, 0.5, 2.9};
    for (int act = 0; act < GS_ACT__COUNT; act++) {
        for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
            double x = xs[i], h = 1e-6;
            double num = (gs_act_f(act, x + h) - gs_act_f(act, x - h)) / (2.0 * h);
            CHECK(rel_err(gs_act_df(act, x), num) < TOL);
        }
    }
    CHECK(gs_act_df(GS_ACT_RELU, 0.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_RELU, -2.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_SIGMOID, -1000.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_SIGMOID, 1000.0) == 1.0);
    CHECK(isnan(gs_act_f(GS_ACT_RELU, NAN)));
    CHECK_NEAR(gs_act_f(GS_ACT_TANH, 0.3), tanh(0.3), 0, 0);
}

/* Empirical variance of one layer's weights and of its biases. */
static void moments(const double *v, size_t n, double *mean, double *var)
{
    double s = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - *mean) * (v[i] - *mean);
    *var = ss / (double)(n - 1);
}

static void init_stats(void)
{
    for (int init = 0; init < GS_INIT__COUNT; init++) {
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            gs_run_config cfg;
            gs_config_defaults(&cfg);
            cfg.depth = 1;
            cfg.width = 1000;
            cfg.init = init;
            cfg.sigma_w = 1.7;
            cfg.sigma_b = with_bias ? 0.4 : 0.0;
            gs_net *net = NULL;
            CHECK_EQ_INT(gs_net_create(&net, &cfg, 500, 10, 1, NULL), GS_OK);
            if (!net)
                return;
            gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
            gsl_rng_set(rng, 99);
            gs_net_init(net, &cfg, rng);
            double mean, var;
            double want = init == GS_INIT_NORMAL ? 1.7 * 1.7 / 500.0 : 1.7 * 1.7;
            moments(net->w[0], 1000 * 500, &mean, &var);
            CHECK_NEAR(var, want, 0.02, 0);
            CHECK_NEAR(mean, 0.0, 0, 5.0 * sqrt(want / 5e5));
            moments(net->b[0], 1000, &mean, &var);
            if (with_bias) {
                CHECK_NEAR(var, 0.16, 0.2, 0);
            } else {
                for (size_t l = 0; l < net->n_layers; l++)
                    for (size_t i = 0; i < net->n[l + 1]; i++)
                        CHECK(net->b[l][i] == 0.0);
            }
            /* Draw order: layer 0 W row-major, then (only when sigma_b > 0) its biases, then
             * layer 1; replay the stream to check the boundary entries. */
            gsl_rng_set(rng, 99);
            double sw = init == GS_INIT_NORMAL ? 1.7 / sqrt(500.0) : 1.7;
            CHECK(net->w[0][0] == gsl_ran_gaussian(rng, sw));
            for (size_t i = 1; i < 1000 * 500; i++)
                gsl_ran_gaussian(rng, sw);
            if (with_bias) {
                CHECK(net->b[0][0] == gsl_ran_gaussian(rng, 0.4));
                for (size_t i = 1; i < 1000; i++)
                    gsl_ran_gaussian(rng, 0.4);
            }
            sw = init == GS_INIT_NORMAL ? 1.7 / sqrt(1000.0) : 1.7;
            CHECK(net->w[1][0] == gsl_ran_gaussian(rng, sw));
            gsl_rng_free(rng);
            gs_net_destroy(net);
        }
    }
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
        gradcheck(act, GS_LOSS_CROSS_ENTROPY, 1, seed++);
        gradcheck(act, GS_LOSS_MSE, 1, seed++);
        gradcheck(act, GS_LOSS_MSE, 0, seed++);
    }
    naive_forward();
    act_derivatives();
    init_stats();
    bad_shapes();
    return CHECK_EXIT();
}
