/* The mean-field theory module: the known critical points (tanh sigma_b = 0 at 1, relu at
 * sqrt 2), the closed forms of relu / leaky_relu / linear, the limits q* = 0 and Inf, the
 * ordered and chaotic phases of the correlation map (fixed point and Price's-theorem slope
 * checked by re-evaluating the maps), the quadrature against the arc-cosine kernels, monotone
 * trends, every invalid input, and gs_theory_for_run's effective sigma_w per init and its NaN
 * cases. Values against an independent numpy computation: tests/it_theory.sh. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "check.h"
#include "gradsweep/config.h"
#include "gradsweep/theory.h"
#include "theory/gauss.h"

static gs_theory point(int act, double alpha, double sw, double sb)
{
    gs_theory t;
    gs_error err;
    memset(&t, 0, sizeof t);
    gs_status st = gs_theory_point(act, alpha, sw, sb, &t, &err);
    CHECK_EQ_INT(st, GS_OK);
    if (st != GS_OK)
        fprintf(stderr, "  %s\n", err.msg);
    return t;
}

static double critical(int act, double alpha, double sb)
{
    double sw = 0.0;
    gs_error err;
    gs_status st = gs_theory_critical(act, alpha, sb, &sw, &err);
    CHECK_EQ_INT(st, GS_OK);
    if (st != GS_OK)
        fprintf(stderr, "  %s\n", err.msg);
    return sw;
}

static void test_critical_points(void)
{
    CHECK_NEAR(critical(GS_ACT_TANH, 0, 0.0), 1.0, 1e-9, 0);
    for (double sb = 0.0; sb <= 1.0; sb += 0.5) {
        CHECK_NEAR(critical(GS_ACT_RELU, 0, sb), sqrt(2.0), 1e-15, 0);
        CHECK_NEAR(critical(GS_ACT_LEAKY_RELU, 0.3, sb), sqrt(2.0 / 1.09), 1e-15, 0);
        CHECK_NEAR(critical(GS_ACT_LINEAR, 0, sb), 1.0, 1e-15, 0);
    }
    /* at the critical sigma_w chi1 = 1 (a generic Brent root, not a closed form) */
    double sw = critical(GS_ACT_TANH, 0, 0.3);
    CHECK_NEAR(point(GS_ACT_TANH, 0, sw, 0.3).chi1, 1.0, 1e-10, 0);
    sw = critical(GS_ACT_SIGMOID, 0, 0.2);
    CHECK_NEAR(point(GS_ACT_SIGMOID, 0, sw, 0.2).chi1, 1.0, 1e-10, 0);
    sw = critical(GS_ACT_ELU, 1.0, 0.1);
    CHECK_NEAR(point(GS_ACT_ELU, 1.0, sw, 0.1).chi1, 1.0, 1e-10, 0);
    /* the relu point at sqrt(2) is critical, not 4e-16 off it */
    gs_theory t = point(GS_ACT_RELU, 0, sqrt(2.0), 0.5);
    CHECK(t.chi1 == 1.0 && isinf(t.xi_grad) && t.xi_grad > 0 && t.pred_slope == 0.0);
}

static void test_closed_forms(void)
{
    gs_theory t = point(GS_ACT_RELU, 0, 1.2, 0.3);
    CHECK_NEAR(t.q_star, 0.09 / (1.0 - 0.72), 1e-15, 0);
    CHECK_NEAR(t.chi1, 0.72, 1e-15, 0);
    CHECK_NEAR(t.xi_grad, -1.0 / log(0.72), 1e-15, 0);
    CHECK_NEAR(t.pred_slope, -0.5 * log(0.72), 1e-15, 0);
    CHECK(t.c_star == 1.0 && t.chi_c == t.chi1 && t.xi_c == t.xi_grad);
    t = point(GS_ACT_RELU, 0, 1.6, 0.3); /* sigma_w^2 > 2: q grows without bound */
    CHECK(isinf(t.q_star) && t.q_star > 0);
    CHECK_NEAR(t.chi1, 1.28, 1e-15, 0);
    CHECK(t.c_star == 1.0 && t.chi_c == 1.0 && isinf(t.xi_c));
    CHECK(t.xi_grad < 0); /* exploding */
    t = point(GS_ACT_RELU, 0, 1.0, 0.0);
    CHECK(t.q_star == 0.0 && t.chi1 == 0.5 && t.c_star == 1.0 && t.chi_c == 1.0);
    t = point(GS_ACT_RELU, 0, sqrt(2.0), 0.0); /* every q is fixed: q* = 1, the start */
    CHECK(t.q_star == 1.0 && t.chi1 == 1.0 && t.c_star == 1.0 && t.chi_c == 1.0);
    t = point(GS_ACT_LEAKY_RELU, 0.2, 1.3, 0.2);
    CHECK_NEAR(t.chi1, 1.69 * 1.04 / 2, 1e-15, 0);
    CHECK_NEAR(t.q_star, 0.04 / (1.0 - 1.69 * 0.52), 1e-14, 0);
    t = point(GS_ACT_LINEAR, 0, 0.9, 0.2);
    CHECK_NEAR(t.q_star, 0.04 / 0.19, 1e-14, 0);
    CHECK_NEAR(t.chi1, 0.81, 1e-15, 0);
    CHECK(t.c_star == 1.0 && t.chi_c == t.chi1);
    t = point(GS_ACT_LINEAR, 0, 0.9, 0.0); /* the c-map is the identity: c* undefined */
    CHECK(t.q_star == 0.0 && isnan(t.c_star) && t.chi_c == 1.0 && isinf(t.xi_c));
    t = point(GS_ACT_LINEAR, 0, 1.1, 0.1);
    CHECK(isinf(t.q_star) && isnan(t.c_star) && t.chi_c == 1.0);
    CHECK_NEAR(t.chi1, 1.21, 1e-15, 0);
}

static void test_limits(void)
{
    /* tanh, sigma_b = 0, sigma_w <= 1: q* = 0 and chi1 = sigma_w^2 f'(0)^2 */
    gs_theory t = point(GS_ACT_TANH, 0, 0.7, 0.0);
    CHECK(t.q_star == 0.0);
    CHECK_NEAR(t.chi1, 0.49, 1e-15, 0);
    CHECK(isnan(t.c_star) && t.chi_c == 1.0 && isinf(t.xi_c));
    t = point(GS_ACT_TANH, 0, 1.0, 0.0);
    CHECK(t.q_star == 0.0 && t.chi1 == 1.0 && isinf(t.xi_grad) && t.pred_slope == 0.0);
    t = point(GS_ACT_TANH, 0, 1.05, 0.0); /* just chaotic: a small q* > 0, c* = 0 (odd f) */
    CHECK(t.q_star > 0.01 && t.q_star < 0.1 && t.chi1 > 1.0 && t.c_star == 0.0);
    /* gelu (f'(0) = 1/2): q* = 0 with slope^2 1/4, or Inf with the relu-like slopes 1, 0 */
    t = point(GS_ACT_GELU, 0, 1.2, 0.0);
    CHECK(t.q_star == 0.0);
    CHECK_NEAR(t.chi1, 1.44 / 4, 1e-15, 0);
    t = point(GS_ACT_GELU, 0, 1.6, 0.0);
    CHECK(isinf(t.q_star) && t.c_star == 1.0 && t.chi_c == 1.0);
    CHECK_NEAR(t.chi1, 1.28, 1e-15, 0);
    t = point(GS_ACT_SELU, 0, 1.5, 0.1);
    CHECK(isinf(t.q_star));
    CHECK_NEAR(t.chi1, 2.25 * 1.0507009873554804934 * 1.0507009873554804934 / 2, 1e-15, 0);
    t = point(GS_ACT_ELU, 0.5, 0.8, 0.0); /* slopes 1 and alpha at 0 */
    CHECK(t.q_star == 0.0 && t.c_star == 1.0);
    CHECK_NEAR(t.chi1, 0.64 * 1.25 / 2, 1e-15, 0);
    /* f(0) != 0: no q* = 0 without biases */
    t = point(GS_ACT_SIGMOID, 0, 1.0, 0.0);
    CHECK(t.q_star > 0.2 && t.q_star < 1.0);
    t = point(GS_ACT_SOFTPLUS, 0, 1.0, 0.0);
    CHECK(t.q_star > 0.4 && isfinite(t.q_star));
}

/* The q-map and c-map re-evaluated at the computed fixed points. */
static void check_fixed_points(int act, double alpha, double sw, double sb)
{
    gs_theory t = point(act, alpha, sw, sb);
    th_ctx c;
    gs_error err;
    double e, ef, edf, efp, efm;
    CHECK_EQ_INT(th_ctx_init(&c, act, alpha, &err), GS_OK);
    CHECK_EQ_INT(th_mean1(&c, TH_F, 2, 0.0, sqrt(t.q_star), 0.0, &e, &err), GS_OK);
    CHECK_NEAR(sw * sw * e + sb * sb, t.q_star, 1e-11, 0);
    CHECK_EQ_INT(th_mean1(&c, TH_DF, 2, 0.0, sqrt(t.q_star), 0.0, &e, &err), GS_OK);
    CHECK_NEAR(sw * sw * e, t.chi1, 1e-12, 0);
    CHECK(t.chi1 > 1.0 && t.c_star >= 0.0 && t.c_star < 1.0);
    CHECK(t.chi_c < 1.0 && t.xi_c > 0.0 && isfinite(t.xi_c));
    CHECK_EQ_INT(th_mean2(&c, TH_F, t.q_star, t.c_star, 1.0, &ef, &err), GS_OK);
    CHECK_NEAR((sw * sw * ef + sb * sb) / t.q_star, t.c_star, 0, 1e-11);
    CHECK_EQ_INT(th_mean2(&c, TH_DF, t.q_star, t.c_star, 1.0, &edf, &err), GS_OK);
    CHECK_NEAR(sw * sw * edf, t.chi_c, 1e-10, 0);
    /* Price's theorem: chi_c is the slope of the c-map (central difference, h = 1e-4) */
    double h = 1e-4, lo = t.c_star > h ? t.c_star - h : t.c_star;
    CHECK_EQ_INT(th_mean2(&c, TH_F, t.q_star, t.c_star + h, 1.0, &efp, &err), GS_OK);
    CHECK_EQ_INT(th_mean2(&c, TH_F, t.q_star, lo, 1.0, &efm, &err), GS_OK);
    CHECK_NEAR(sw * sw * (efp - efm) / (t.c_star + h - lo) / t.q_star, t.chi_c, 1e-4, 0);
    th_ctx_free(&c);
}

static void test_phases(void)
{
    /* ordered: c* = 1, chi_c = chi1 */
    int acts[] = {GS_ACT_TANH, GS_ACT_SIGMOID, GS_ACT_GELU, GS_ACT_SWISH, GS_ACT_HARD_TANH};
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++) {
        gs_theory t = point(acts[i], 0, 0.9, 0.3);
        CHECK(t.chi1 < 1.0 && t.c_star == 1.0 && t.chi_c == t.chi1 && t.xi_c == t.xi_grad);
        CHECK(t.xi_grad > 0.0 && t.pred_slope > 0.0);
    }
    /* chaotic: c* < 1 at the fixed point of the c-map, chi_c its slope */
    check_fixed_points(GS_ACT_TANH, 0, 2.5, 0.3);
    check_fixed_points(GS_ACT_TANH, 0, 1.2, 0.05);
    check_fixed_points(GS_ACT_ELU, 1.0, 1.2, 0.1);
    check_fixed_points(GS_ACT_HARD_TANH, 0, 3.0, 0.1);
    check_fixed_points(GS_ACT_SOFTSIGN, 0, 3.0, 0.5);
    check_fixed_points(GS_ACT_SIGMOID, 0, 12.0, 0.2);
    /* q* = 2896: the Gauss-Hermite model is useless, Newton must not stop at c = 1 */
    check_fixed_points(GS_ACT_HARD_TANH, 0, 20.0, 50.0);
}

/* The quadrature against closed forms: relu's arc-cosine kernels and hard_tanh's erf. */
static void test_quadrature(void)
{
    th_ctx c;
    gs_error err;
    double e, pi = acos(-1.0);
    CHECK_EQ_INT(th_ctx_init(&c, GS_ACT_RELU, 0, &err), GS_OK);
    double qs[] = {1e-6, 0.3, 1.0, 50.0};
    double rhos[] = {0.0, 0.2, 0.7, 0.999, 1.0};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(th_mean1(&c, TH_F, 2, 0.0, sqrt(qs[i]), 0.0, &e, &err), GS_OK);
        CHECK_NEAR(e, qs[i] / 2, 1e-13, 0);
        for (size_t j = 0; j < 5; j++) {
            double r = rhos[j];
            double k1 = (sqrt(1 - r * r) + (pi - acos(r)) * r) / (2 * pi);
            double k0 = (pi - acos(r)) / (2 * pi);
            CHECK_EQ_INT(th_mean2(&c, TH_F, qs[i], r, sqrt(qs[i]), &e, &err), GS_OK);
            CHECK_NEAR(e, qs[i] * k1, 1e-11, 0);
            CHECK_EQ_INT(th_mean2(&c, TH_DF, qs[i], r, 1.0, &e, &err), GS_OK);
            CHECK_NEAR(e, k0, 1e-11, 0);
        }
    }
    th_ctx_free(&c);
    CHECK_EQ_INT(th_ctx_init(&c, GS_ACT_HARD_TANH, 0, &err), GS_OK);
    for (size_t i = 0; i < 4; i++) { /* E[1{|x| < 1}] = erf(1 / sqrt(2 q)) */
        CHECK_EQ_INT(th_mean1(&c, TH_DF, 2, 0.0, sqrt(qs[i]), 0.0, &e, &err), GS_OK);
        CHECK_NEAR(e, erf(1.0 / sqrt(2.0 * qs[i])), 1e-12, 0);
    }
    th_ctx_free(&c);
}

static void test_monotone(void)
{
    double prev_chi = 0.0, prev_q = 0.0, prev_crit = 0.0;
    for (double sw = 0.5; sw <= 3.0; sw += 0.25) {
        gs_theory t = point(GS_ACT_TANH, 0, sw, 0.3);
        CHECK(t.chi1 > prev_chi && t.q_star > prev_q);
        prev_chi = t.chi1;
        prev_q = t.q_star;
    }
    for (double sb = 0.0; sb <= 1.0; sb += 0.25) {
        double sw = critical(GS_ACT_TANH, 0, sb);
        CHECK(sw > prev_crit);
        prev_crit = sw;
        gs_theory below = point(GS_ACT_TANH, 0, 0.98 * sw, sb);
        gs_theory above = point(GS_ACT_TANH, 0, 1.02 * sw, sb);
        CHECK(below.chi1 < 1.0 && below.xi_grad > 0 && (below.c_star == 1.0 || sb == 0.0));
        CHECK(above.chi1 > 1.0 && above.xi_grad < 0 && above.c_star < 1.0);
    }
}

static void expect_einval(gs_status st, const gs_error *err, const char *what)
{
    CHECK_EQ_INT(st, GS_EINVAL);
    CHECK_HAS_STR(err->msg, what);
}

static void test_bad_input(void)
{
    gs_theory t;
    gs_error err;
    double sw, bad[] = {0.0, -1.0, (double)NAN, (double)INFINITY};
    expect_einval(gs_theory_point(-1, 0, 1, 0, &t, &err), &err, "unknown activation -1");
    expect_einval(gs_theory_point(GS_ACT__COUNT, 0, 1, 0, &t, &err), &err, "unknown activation");
    CHECK(isnan(t.q_star) && isnan(t.chi1) && isnan(t.xi_c));
    for (size_t i = 0; i < 4; i++) {
        expect_einval(gs_theory_point(GS_ACT_TANH, 0, bad[i], 0, &t, &err), &err,
                      "tanh: sigma_w must be finite and > 0");
        if (i > 0) {
            expect_einval(gs_theory_point(GS_ACT_TANH, 0, 1, bad[i], &t, &err), &err,
                          "sigma_b must be finite and >= 0");
            expect_einval(gs_theory_critical(GS_ACT_RELU, 0, bad[i], &sw, &err), &err,
                          "relu: sigma_b must be finite and >= 0");
            CHECK(isnan(sw));
            expect_einval(gs_theory_point(GS_ACT_LEAKY_RELU, bad[i], 1, 0, &t, &err), &err,
                          "leaky_relu: alpha must be finite and >= 0");
            expect_einval(gs_theory_critical(GS_ACT_ELU, bad[i], 0, &sw, &err), &err,
                          "elu: alpha must be finite and >= 0");
        }
    }
    expect_einval(gs_theory_critical(99, 0, 0, &sw, &err), &err, "unknown activation 99");
    /* no root: gelu with sigma_b = 0 jumps from q* = 0 (chi1 < 1) to Inf (chi1 > 1) */
    expect_einval(gs_theory_critical(GS_ACT_GELU, 0, 0.0, &sw, &err), &err, "chi1 jumps across 1");
    CHECK(isnan(sw));
    CHECK_HAS_STR(err.msg, "critical gelu at sigma_b = 0");
    /* no root below sigma_w = 100: sigmoid with very large biases saturates */
    expect_einval(gs_theory_critical(GS_ACT_SIGMOID, 0, 1e4, &sw, &err), &err, "no critical point");
}

static gs_run_config run_cfg(int act, int init, double sw, double sb)
{
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.activation = act;
    cfg.init = init;
    cfg.sigma_w = sw;
    cfg.sigma_b = sb;
    cfg.depth = 3;
    cfg.width = 32;
    snprintf(cfg.width_list, sizeof cfg.width_list, "32,128,64");
    cfg.bias = 1;
    return cfg;
}

/* The effective sigma_w of a relu run: chi1 = sigma_w^2 / 2. */
static double relu_sw(const gs_run_config *cfg)
{
    gs_theory t;
    gs_theory_for_run(cfg, &t);
    return sqrt(2.0 * t.chi1);
}

static void test_for_run(void)
{
    const double sw = 1.1, fi = 32, fo = 128; /* hidden layer 2: 32 -> 128 (tall) */
    struct {
        int init;
        double want;
    } cases[] = {
        {GS_INIT_NORMAL, sw},
        {GS_INIT_LECUN_NORMAL, sw},
        {GS_INIT_UNIFORM, sw},
        {GS_INIT_NORMAL_STD, sw * sqrt(fi)},
        {GS_INIT_XAVIER_NORMAL, sw * sqrt(2 * fi / (fi + fo))},
        {GS_INIT_XAVIER_UNIFORM, sw * sqrt(2 * fi / (fi + fo))},
        {GS_INIT_HE_NORMAL, sw * sqrt(2.0)},
        {GS_INIT_HE_UNIFORM, sw * sqrt(2.0)},
        {GS_INIT_ORTHOGONAL, sw * sqrt(fi / fo)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gs_run_config cfg = run_cfg(GS_ACT_RELU, cases[i].init, sw, 0.2);
        CHECK_NEAR(relu_sw(&cfg), cases[i].want, 1e-14, 0);
    }
    gs_run_config cfg = run_cfg(GS_ACT_RELU, GS_INIT_ORTHOGONAL, sw, 0.2);
    snprintf(cfg.width_list, sizeof cfg.width_list, "128,32,64"); /* wide: 128 -> 32 */
    CHECK_NEAR(relu_sw(&cfg), sw, 1e-14, 0);
    /* he with leaky_relu: sigma_w sqrt(2 / (1 + alpha^2)); chi1 = s^2 (1 + alpha^2) / 2 */
    cfg = run_cfg(GS_ACT_LEAKY_RELU, GS_INIT_HE_NORMAL, sw, 0.2);
    cfg.leaky_alpha = 0.3;
    gs_theory t;
    gs_theory_for_run(&cfg, &t);
    CHECK_NEAR(t.chi1, sw * sw, 1e-14, 0);
    /* depth 1: the only hidden layer's width stands in for fan_in */
    cfg = run_cfg(GS_ACT_RELU, GS_INIT_NORMAL_STD, sw, 0.2);
    cfg.depth = 1;
    cfg.width = 50;
    cfg.width_list[0] = '\0';
    CHECK_NEAR(relu_sw(&cfg), sw * sqrt(50.0), 1e-14, 0);
    /* sigma_b is 0 without biases */
    cfg = run_cfg(GS_ACT_RELU, GS_INIT_NORMAL, 1.0, 0.3);
    gs_theory_for_run(&cfg, &t);
    CHECK_NEAR(t.q_star, 0.09 / 0.5, 1e-15, 0);
    cfg.bias = 0;
    gs_theory_for_run(&cfg, &t);
    CHECK(t.q_star == 0.0);
    /* and the whole point equals gs_theory_point's */
    cfg = run_cfg(GS_ACT_TANH, GS_INIT_XAVIER_NORMAL, 2.0, 0.3);
    gs_theory_for_run(&cfg, &t);
    gs_theory p = point(GS_ACT_TANH, 0, 2.0 * sqrt(2 * fi / (fi + fo)), 0.3);
    CHECK(memcmp(&t, &p, sizeof t) == 0);
    /* NaN where mean-field theory does not describe the net */
    gs_run_config nan_cfgs[5];
    for (size_t i = 0; i < 5; i++)
        nan_cfgs[i] = run_cfg(GS_ACT_TANH, GS_INIT_NORMAL, 1.5, 0.1);
    nan_cfgs[0].norm = GS_NORM_BATCHNORM;
    nan_cfgs[1].norm = GS_NORM_LAYERNORM;
    nan_cfgs[2].residual_every = 1;
    nan_cfgs[3].depth = 0;
    nan_cfgs[4].init = GS_INIT_IDENTITY;
    for (size_t i = 0; i < 5; i++) {
        t.q_star = t.chi1 = t.xi_grad = t.c_star = t.chi_c = t.xi_c = t.pred_slope = 0.0;
        gs_theory_for_run(&nan_cfgs[i], &t);
        CHECK(isnan(t.q_star) && isnan(t.chi1) && isnan(t.xi_grad) && isnan(t.c_star) &&
              isnan(t.chi_c) && isnan(t.xi_c) && isnan(t.pred_slope));
    }
}

int main(void)
{
    gsl_set_error_handler_off();
    test_critical_points();
    test_closed_forms();
    test_limits();
    test_phases();
    test_quadrature();
    test_monotone();
    test_bad_input();
    test_for_run();
    return CHECK_EXIT();
}
