/* The parameter inits of the network core: empirical variance of every i.i.d. kind against its
 * formula, orthogonality and sign convention of `orthogonal`, exactness of `identity`, zero
 * biases, and the documented draw order (replayed from the same seed). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "gradsweep/net.h"

/* Layers 300 -> 400 -> 400 -> 300: tall [400][300], square [400][400], wide [300][400]. */
enum { D_IN = 300, WIDTH = 400, D_OUT = 300, SEED = 99 };
#define SW 1.7
#define SB 0.4

static gs_net *make(int init, int act, double sigma_b, double noise, gsl_rng *rng)
{
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.depth = 2;
    cfg.width = WIDTH;
    cfg.init = init;
    cfg.activation = act;
    cfg.leaky_alpha = 0.3;
    cfg.sigma_w = SW;
    cfg.sigma_b = sigma_b;
    cfg.init_noise = noise;
    gs_net *net = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, D_IN, D_OUT, 1, &err), GS_OK);
    if (!net)
        return NULL;
    gsl_rng_set(rng, SEED);
    CHECK_EQ_INT(gs_net_init(net, &cfg, rng, &err), GS_OK);
    return net;
}

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

/* Var(w) of an i.i.d. init, written out from the definitions (alpha: leaky slope or 0). */
static double want_var(int init, double fi, double fo, double alpha)
{
    double s2 = SW * SW;
    switch (init) {
    case GS_INIT_NORMAL:
    case GS_INIT_LECUN_NORMAL:
    case GS_INIT_UNIFORM:
        return s2 / fi;
    case GS_INIT_NORMAL_STD:
        return s2;
    case GS_INIT_XAVIER_NORMAL:
    case GS_INIT_XAVIER_UNIFORM:
        return s2 * 2.0 / (fi + fo);
    default: /* he_* */
        return s2 * 2.0 / ((1.0 + alpha * alpha) * fi);
    }
}

static int uniform(int init)
{
    return init == GS_INIT_UNIFORM || init == GS_INIT_XAVIER_UNIFORM || init == GS_INIT_HE_UNIFORM;
}

static int biases_zero(const gs_net *net)
{
    for (size_t l = 0; l < net->n_layers; l++)
        for (size_t i = 0; i < net->n[l + 1]; i++)
            if (net->b[l][i] != 0.0)
                return 0;
    return 1;
}

/* i.i.d. kinds: variance per layer within 2% (the estimate's relative std is sqrt(2/n) <= 0.4%
 * at n = 120000, so 2% is five standard deviations), mean 0, uniform bounds, biases; then the
 * draw order: layer 0's W, its b, layer 1's W. */
static void iid_inits(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    for (int init = 0; init < GS_INIT__COUNT; init++) {
        if (init == GS_INIT_ORTHOGONAL || init == GS_INIT_IDENTITY)
            continue;
        for (int v = 0; v < 3; v++) { /* tanh without biases, tanh with, leaky_relu with */
            int act = v == 2 ? GS_ACT_LEAKY_RELU : GS_ACT_TANH;
            double alpha = act == GS_ACT_LEAKY_RELU ? 0.3 : 0.0, sb = v ? SB : 0.0;
            gs_net *net = make(init, act, sb, 0.0, rng);
            if (!net)
                continue;
            for (size_t l = 0; l < net->n_layers; l++) {
                double fi = (double)net->n[l], fo = (double)net->n[l + 1], mean, var;
                double want = want_var(init, fi, fo, alpha), a = sqrt(3.0 * want);
                size_t n = net->n[l] * net->n[l + 1];
                moments(net->w[l], n, &mean, &var);
                if (fabs(var / want - 1.0) > 0.02)
                    fprintf(stderr, "%s layer %zu: var %g, want %g\n", gs_init_names[init], l, var,
                            want);
                CHECK_NEAR(var, want, 0.02, 0);
                CHECK_NEAR(mean, 0.0, 0, 5.0 * sqrt(want / (double)n));
                int inside = 1;
                for (size_t i = 0; uniform(init) && i < n; i++)
                    inside = inside && fabs(net->w[l][i]) <= a;
                CHECK(inside);
            }
            if (sb == 0.0) {
                CHECK(biases_zero(net));
            } else {
                double mean, var;
                moments(net->b[0], WIDTH, &mean, &var);
                CHECK_NEAR(var, SB * SB, 0.25, 0);
            }
            /* replay */
            gsl_rng_set(rng, SEED);
            double s0 = uniform(init) ? sqrt(3.0 * want_var(init, D_IN, WIDTH, alpha))
                                      : sqrt(want_var(init, D_IN, WIDTH, alpha));
            double s1 = uniform(init) ? sqrt(3.0 * want_var(init, WIDTH, WIDTH, alpha))
                                      : sqrt(want_var(init, WIDTH, WIDTH, alpha));
            int same = 1;
            for (size_t i = 0; i < (size_t)D_IN * WIDTH; i++) {
                double r = uniform(init) ? gsl_ran_flat(rng, -s0, s0) : gsl_ran_gaussian(rng, s0);
                same = same && fabs(net->w[0][i] - r) <= 1e-14 * s0; /* s0 rounds differently */
            }
            CHECK(same);
            if (sb > 0.0) {
                CHECK(net->b[0][0] == gsl_ran_gaussian(rng, SB));
                for (size_t i = 1; i < WIDTH; i++)
                    gsl_ran_gaussian(rng, SB);
            }
            double r = uniform(init) ? gsl_ran_flat(rng, -s1, s1) : gsl_ran_gaussian(rng, s1);
            CHECK_NEAR(net->w[1][0], r, 0, 1e-14 * s1);
            gs_net_destroy(net);
        }
    }
    /* normal and lecun_normal are the same formula and the same draws, bitwise */
    gs_net *a = make(GS_INIT_NORMAL, GS_ACT_TANH, SB, 0.0, rng);
    gs_net *b = make(GS_INIT_LECUN_NORMAL, GS_ACT_TANH, SB, 0.0, rng);
    if (a && b)
        CHECK(memcmp(a->params, b->params, a->n_params * sizeof *a->params) == 0);
    gs_net_destroy(a);
    gs_net_destroy(b);
    gsl_rng_free(rng);
}

/* max |G - s^2 I| of the Gram matrix of W [r][c] over its short side: W W^T when wide (r < c),
 * W^T W otherwise. */
static double gram_err(const double *w, size_t r, size_t c, double s2)
{
    int wide = r < c;
    size_t m = wide ? r : c, k = wide ? c : r;
    double worst = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            double g = 0.0;
            for (size_t t = 0; t < k; t++)
                g += wide ? w[i * c + t] * w[j * c + t] : w[t * c + i] * w[t * c + j];
            double e = fabs(g - (i == j ? s2 : 0.0));
            worst = e > worst ? e : worst;
        }
    return worst;
}

/* orthogonal: W W^T = sigma_w^2 I (wide) or W^T W = sigma_w^2 I (tall, square) to 1e-12; the
 * Gaussian matrix is drawn in W's layout, and the sign correction makes diag(R) = diag(Q^T A)
 * positive, i.e. each of W's short-side vectors has a positive dot product with G's. */
static void orthogonal(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gs_net *net = make(GS_INIT_ORTHOGONAL, GS_ACT_TANH, SB, 0.0, rng);
    if (net) {
        gsl_rng_set(rng, SEED);
        for (size_t l = 0; l < net->n_layers; l++) {
            size_t r = net->n[l + 1], c = net->n[l];
            const double *w = net->w[l]; /* [r][c] */
            double err = gram_err(w, r, c, SW * SW);
            if (err > 1e-12)
                fprintf(stderr, "orthogonal layer %zu (%zu x %zu): Gram error %g\n", l, r, c, err);
            CHECK(err <= 1e-12);
            double *g = malloc(r * c * sizeof *g);
            for (size_t i = 0; g && i < r * c; i++)
                g[i] = gsl_ran_gaussian(rng, 1.0);
            int positive = 1, wide = r < c;
            size_t m = wide ? r : c, k = wide ? c : r;
            for (size_t i = 0; g && i < m; i++) {
                double d = 0.0;
                for (size_t t = 0; t < k; t++)
                    d += wide ? w[i * c + t] * g[i * c + t] : w[t * c + i] * g[t * c + i];
                positive = positive && d > 0.0;
            }
            CHECK(g && positive);
            free(g);
            /* biases follow each layer's Gaussian matrix */
            CHECK(net->b[l][0] == gsl_ran_gaussian(rng, SB));
            for (size_t i = 1; i < net->n[l + 1]; i++)
                gsl_ran_gaussian(rng, SB);
        }
    }
    gs_net_destroy(net);
    net = make(GS_INIT_ORTHOGONAL, GS_ACT_TANH, 0.0, 0.0, rng);
    if (net)
        CHECK(biases_zero(net));
    gs_net_destroy(net);
    gsl_rng_free(rng);
}

/* identity: exactly sigma_w on the main diagonal and 0 elsewhere, no draws at all without noise
 * or biases; with init_noise, W - sigma_w I ~ N(0, noise^2) drawn row-major. */
static void identity(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gs_net *net = make(GS_INIT_IDENTITY, GS_ACT_TANH, 0.0, 0.0, rng);
    if (net) {
        int exact = 1;
        for (size_t l = 0; l < net->n_layers; l++)
            for (size_t i = 0; i < net->n[l + 1]; i++)
                for (size_t j = 0; j < net->n[l]; j++)
                    exact = exact && net->w[l][i * net->n[l] + j] == (i == j ? SW : 0.0);
        CHECK(exact);
        CHECK(biases_zero(net));
        unsigned long next = gsl_rng_get(rng); /* the stream is untouched */
        gsl_rng_set(rng, SEED);
        CHECK(next == gsl_rng_get(rng));
    }
    gs_net_destroy(net);
    net = make(GS_INIT_IDENTITY, GS_ACT_TANH, 0.0, 0.05, rng);
    if (net) {
        size_t n = (size_t)D_IN * WIDTH;
        double *e = malloc(n * sizeof *e), mean, var;
        for (size_t i = 0; e && i < WIDTH; i++)
            for (size_t j = 0; j < D_IN; j++)
                e[i * D_IN + j] = net->w[0][i * D_IN + j] - (i == j ? SW : 0.0);
        if (e) {
            moments(e, n, &mean, &var);
            CHECK_NEAR(var, 0.05 * 0.05, 0.02, 0);
        }
        free(e);
        gsl_rng_set(rng, SEED);
        CHECK(net->w[0][0] == SW + gsl_ran_gaussian(rng, 0.05));
        CHECK(net->w[0][1] == gsl_ran_gaussian(rng, 0.05));
    }
    gs_net_destroy(net);
    gsl_rng_free(rng);
}

static void bad_init(void)
{
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.depth = 1;
    cfg.width = 4;
    gs_net *net = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 1, &err), GS_OK);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    cfg.init = GS_INIT__COUNT;
    if (net) {
        CHECK_EQ_INT(gs_net_init(net, &cfg, rng, &err), GS_EINVAL);
        CHECK_HAS_STR(err.msg, "unknown init");
    }
    gsl_rng_free(rng);
    gs_net_destroy(net);
}

int main(void)
{
    iid_inits();
    orthogonal();
    identity();
    bad_init();
    return CHECK_EXIT();
}
