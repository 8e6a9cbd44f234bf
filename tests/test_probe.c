/* Probes (docs/probes.md) against independent computations on tiny nets: every statistic of a
 * row recomputed with plain loops from a replica of the run's net (deltas by a hand-written
 * backward, per-example gradients by one backward per example), unit health on crafted inputs
 * and its thresholds against f', histogram bins on hand-made values and totals on runs, the
 * probe batch against a separate forward/backward, verdict rules and their severity, stop_on,
 * bitwise invariance of training under every recording option, tier NULLs and bad input. */
#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "core/probe.h"
#include "gradsweep/data.h"
#include "gradsweep/net.h"
#include "gradsweep/opt.h"
#include "gradsweep/train.h"

/* Depth 3, width 4, a full batch of the 5 samples of a 3-class mixture in 3-D. */
static gs_run tiny_run(uint64_t seed, int act, int dtype)
{
    gs_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.id, sizeof run.id, "probe%011llu", (unsigned long long)seed);
    run.seed = seed;
    gs_config_defaults(&run.cfg);
    run.cfg.data_classes = 3;
    run.cfg.data_dim = 3;
    run.cfg.data_samples = 5;
    run.cfg.data_separation = 2.0;
    run.cfg.depth = 3;
    run.cfg.width = 4;
    run.cfg.activation = act;
    run.cfg.sigma_w = 1.5;
    run.cfg.sigma_b = 0.5;
    run.cfg.steps = 3;
    run.cfg.batch = 0;
    run.cfg.lr = 0.05;
    run.cfg.loss = GS_LOSS_CROSS_ENTROPY;
    run.cfg.dtype = dtype;
    return run;
}

static gs_record rec_of(int level)
{
    gs_record rec;
    memset(&rec, 0, sizeof rec);
    rec.every = 1;
    rec.level = level;
    rec.dtype = GS_DTYPE_FLOAT64;
    rec.probe_batch = 32;
    rec.hist_min = -12.0;
    rec.hist_max = 2.0;
    return rec;
}

static gs_result *train(const gs_run *run, const gs_record *rec, const gs_dataset *ds)
{
    gs_result *res = NULL;
    gs_error err;
    gs_status st = gs_train_run(&res, run, rec, ds, NULL, &err);
    CHECK_EQ_INT(st, GS_OK);
    if (st)
        fprintf(stderr, "gs_train_run: %s\n", err.msg);
    return res;
}

/* ---- a replica of a run's net, and its state in double ---- */

#define MAXL 8
#define MAXE 256 /* entries of any tensor of the tiny nets */

/* A net's state after a pass, in double: layer l's h [B][n[l+1]], a (hidden), W, dW, db. */
typedef struct {
    size_t L, B, n[MAXL + 1];
    double h[MAXL][MAXE], a[MAXL][MAXE], w[MAXL][MAXE], dw[MAXL][MAXE], db[MAXL][MAXE];
} state;

typedef struct {
    gsl_rng *rng;
    gs_dataset *ds;
    gs_net *net;
    gs_netf *netf;
    float xf[MAXE];
} replica;

/* The run's data and initial net, drawn in the documented order (data, parameters; no split). */
static int rep_make(replica *r, const gs_run *run, size_t max_batch)
{
    gs_error err;
    memset(r, 0, sizeof *r);
    r->rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r->rng, (unsigned long)run->seed);
    if (gs_data_generate(&r->ds, &run->cfg, r->rng, &err))
        return 0;
    for (size_t i = 0; i < r->ds->n * r->ds->d && i < MAXE; i++)
        r->xf[i] = (float)r->ds->x[i];
    if (run->cfg.dtype == GS_DTYPE_FLOAT32)
        return !gs_netf_create(&r->netf, &run->cfg, r->ds->d, r->ds->k, max_batch, &err) &&
               !gs_netf_init(r->netf, &run->cfg, r->rng, &err);
    return !gs_net_create(&r->net, &run->cfg, r->ds->d, r->ds->k, max_batch, &err) &&
           !gs_net_init(r->net, &run->cfg, r->rng, &err);
}

static void rep_free(replica *r)
{
    gs_net_destroy(r->net);
    gs_netf_destroy(r->netf);
    gs_dataset_destroy(r->ds);
    gsl_rng_free(r->rng);
}

/* Training-mode pass of rows [i0, i0 + B) of the data set; the state into s. */
#define REP_PASS(NET, PFX, X)                                                                      \
    do {                                                                                           \
        NET *nt = r->PFX;                                                                          \
        size_t d = r->ds->d, L = nt->n_layers;                                                     \
        PFX##_fwd_bwd(nt, X + i0 * d, r->ds->label + i0, B);                                       \
        s->L = L;                                                                                  \
        s->B = B;                                                                                  \
        for (size_t l = 0; l <= L; l++)                                                            \
            s->n[l] = nt->n[l];                                                                    \
        for (size_t l = 0; l < L; l++) {                                                           \
            size_t m = B * nt->n[l + 1], p = nt->n[l] * nt->n[l + 1];                              \
            for (size_t i = 0; i < m; i++) {                                                       \
                s->h[l][i] = (double)nt->h[l][i];                                                  \
                s->a[l][i] = (double)nt->a[l][i];                                                  \
            }                                                                                      \
            for (size_t i = 0; i < p; i++) {                                                       \
                s->w[l][i] = (double)nt->w[l][i];                                                  \
                s->dw[l][i] = (double)nt->dw[l][i];                                                \
            }                                                                                      \
            for (size_t i = 0; i < nt->n[l + 1]; i++)                                              \
                s->db[l][i] = (double)nt->db[l][i];                                                \
        }                                                                                          \
    } while (0)

static void net_fwd_bwd(gs_net *net, const double *x, const int32_t *lab, size_t B)
{
    gs_net_forward(net, x, B);
    gs_net_loss(net, lab, NULL, B);
    gs_net_backward(net, x, B);
}
static void netf_fwd_bwd(gs_netf *net, const float *x, const int32_t *lab, size_t B)
{
    gs_netf_forward(net, x, B);
    gs_netf_loss(net, lab, NULL, B);
    gs_netf_backward(net, x, B);
}

static void rep_pass(replica *r, size_t i0, size_t B, state *s)
{
    if (r->netf)
        REP_PASS(gs_netf, netf, r->xf);
    else
        REP_PASS(gs_net, net, r->ds->x);
}

/* dL/dh_l of a cross-entropy pass by plain loops (norm none, no skips), from the state:
 * readout (softmax(h) - onehot) / B, then dL/dh_{l-1} = (d_l W_l) * f'(h_{l-1}). */
static void slow_deltas(const state *s, int act, double alpha, const int32_t *lab,
                        double d[MAXL][MAXE])
{
    size_t L = s->L, B = s->B, k = s->n[L];
    for (size_t i = 0; i < B; i++) {
        const double *h = s->h[L - 1] + i * k;
        double m = h[0], z = 0.0;
        for (size_t j = 1; j < k; j++)
            m = h[j] > m ? h[j] : m;
        for (size_t j = 0; j < k; j++)
            z += exp(h[j] - m);
        for (size_t j = 0; j < k; j++)
            d[L - 1][i * k + j] = (exp(h[j] - m) / z - (lab[i] == (int32_t)j)) / (double)B;
    }
    for (size_t l = L - 1; l > 0; l--) {
        size_t no = s->n[l + 1], ni = s->n[l];
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < ni; j++) {
                double g = 0.0;
                for (size_t o = 0; o < no; o++)
                    g += d[l][i * no + o] * s->w[l][o * ni + j];
                d[l - 1][i * ni + j] = g * gs_act_df(act, alpha, s->h[l - 1][i * ni + j]);
            }
    }
}

static double frob(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt(s);
}

/* Least-squares slope of ln y[l] against l, written out. */
static double ls_slope(const double *y, size_t H)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t l = 0; l < H; l++) {
        double x = (double)l, v = log(y[l]);
        sx += x;
        sy += v;
        sxx += x * x;
        sxy += x * v;
    }
    double n = (double)H;
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/* ---- every statistic of rows 0 and 1 against the replica ---- */

/* Per-example gradients the slow way: one backward per example (a batch of one), then
 * (1/B) sum_i ||g_i - mean g||^2 per layer. */
static void slow_pe(replica *r, size_t B, double *var, double *gnorm2)
{
    static double g[8][MAXL][MAXE];
    static state one;
    size_t L = 0;
    for (size_t i = 0; i < B; i++) {
        rep_pass(r, i, 1, &one);
        L = one.L;
        for (size_t l = 0; l < L; l++)
            memcpy(g[i][l], one.dw[l], sizeof one.dw[l]);
    }
    for (size_t l = 0; l < L; l++) {
        size_t p = one.n[l] * one.n[l + 1];
        double v = 0.0, gg = 0.0;
        for (size_t e = 0; e < p; e++) {
            double m = 0.0;
            for (size_t i = 0; i < B; i++)
                m += g[i][l][e] / (double)B;
            for (size_t i = 0; i < B; i++)
                v += (g[i][l][e] - m) * (g[i][l][e] - m);
            gg += m * m;
        }
        var[l] = v / (double)B;
        gnorm2[l] = gg;
    }
}

static void check_unit_health(const state *s, const gs_result *res, size_t row, int act)
{
    size_t L = s->L, H = L - 1, B = s->B;
    double alpha = 0.0, f0 = fabs(gs_act_df(act, alpha, 0.0));
    int deadk =
        act == GS_ACT_RELU || act == GS_ACT_LEAKY_RELU || act == GS_ACT_ELU || act == GS_ACT_SELU;
    int satk = act == GS_ACT_TANH || act == GS_ACT_SIGMOID || act == GS_ACT_SOFTSIGN ||
               act == GS_ACT_HARD_TANH;
    for (size_t l = 0; l < H; l++) {
        size_t n = s->n[l + 1], dead = 0, sat = 0;
        for (size_t j = 0; j < n; j++) {
            int all = 1;
            for (size_t i = 0; i < B; i++)
                all = all && s->h[l][i * n + j] <= 0.0;
            dead += all;
        }
        for (size_t i = 0; i < B * n; i++)
            sat += fabs(gs_act_df(act, alpha, s->h[l][i])) < 0.01 * f0;
        double dv = res->dead_frac[row * H + l], sv = res->sat_frac[row * H + l];
        if (deadk)
            CHECK(dv == (double)dead / (double)n);
        else
            CHECK(isnan(dv));
        if (satk)
            CHECK(sv == (double)sat / (double)(B * n));
        else
            CHECK(isnan(sv));
    }
}

/* rtol: of quantities the net computes in its precision (deltas, gradients); f32: float32 run. */
static void check_row0(const gs_run *run, const gs_result *res, const state *s, replica *r,
                       double rtol, int f32)
{
    size_t L = s->L, H = L - 1, B = s->B;
    double atol = f32 ? 1e-7 : 1e-14, utol = f32 ? 1e-3 : 1e-9;
    static double d[MAXL][MAXE];
    slow_deltas(s, run->cfg.activation, gs_act_alpha(&run->cfg), r->ds->label, d);
    double dn[MAXL], var[MAXL], g2[MAXL];
    for (size_t l = 0; l < L; l++) {
        size_t m = B * s->n[l + 1], p = s->n[l] * s->n[l + 1];
        const double *in = l == 0 ? r->ds->x : s->a[l - 1];
        for (size_t o = 0; o < s->n[l + 1]; o++) /* the hand backward gives the net's dW */
            for (size_t j = 0; j < s->n[l]; j++) {
                double g = 0.0;
                for (size_t i = 0; i < B; i++)
                    g += d[l][i * s->n[l + 1] + o] * in[i * s->n[l] + j];
                CHECK_NEAR(s->dw[l][o * s->n[l] + j], g, rtol, atol);
            }
        dn[l] = frob(d[l], m);
        CHECK_NEAR(res->delta_norm[l], dn[l], rtol, 0.0);
        double q = 0.0, sa = 0.0, mx = 0.0;
        for (size_t i = 0; i < m; i++)
            q += s->h[l][i] * s->h[l][i] / (double)m;
        CHECK_NEAR(res->q[l], q, 1e-12, 0.0);
        for (size_t i = 0; i < p; i++) {
            sa += fabs(s->dw[l][i]) / (double)p;
            mx = fabs(s->dw[l][i]) > mx ? fabs(s->dw[l][i]) : mx;
        }
        CHECK_NEAR(res->grad_mean_abs[l], sa, 1e-12, 0.0);
        CHECK(res->grad_max_abs[l] == mx);
        CHECK_NEAR(res->bias_grad_norm[l], frob(s->db[l], s->n[l + 1]), 1e-12, 0.0);
        CHECK_NEAR(res->weight_norm[l], frob(s->w[l], p), 1e-12, 0.0);
        CHECK(res->weight_dist_init[l] == 0.0);
        /* sgd: W_1 - W_0 = -lr G, so the ratio is lr ||G|| / ||W|| and row 1's distance lr ||G|| */
        double lg = run->cfg.lr * frob(s->dw[l], p);
        CHECK_NEAR(res->update_ratio[l], lg / frob(s->w[l], p), utol, 0.0);
        CHECK_NEAR(res->weight_dist_init[L + l], lg, utol, 0.0);
        if (l == H)
            continue;
        double mean = 0.0, v = 0.0;
        for (size_t i = 0; i < m; i++)
            mean += s->a[l][i] / (double)m;
        for (size_t i = 0; i < m; i++)
            v += (s->a[l][i] - mean) * (s->a[l][i] - mean) / (double)m;
        CHECK_NEAR(res->act_mean[l], mean, 1e-12, 1e-15);
        CHECK_NEAR(res->act_std[l], sqrt(v), 1e-9, 1e-15);
    }
    CHECK_NEAR(res->delta_slope[0], ls_slope(dn, H), rtol, 1e-12);
    CHECK(res->delta_slope0 == res->delta_slope[0]);
    check_unit_health(s, res, 0, run->cfg.activation);
    slow_pe(r, B, var, g2);
    for (size_t l = 0; l < L; l++) {
        CHECK_NEAR(g2[l], res->grad_norm[l] * res->grad_norm[l], rtol, 0.0);
        CHECK_NEAR(res->pe_grad_var[l], var[l], 100 * rtol, 0.0);
        CHECK_NEAR(res->pe_grad_snr[l], g2[l] / var[l], 100 * rtol, 0.0);
    }
}

static void row_statistics(int act, int dtype)
{
    gs_run run = tiny_run(7 + (uint64_t)act, act, dtype);
    gs_record rec = rec_of(GS_LEVEL_FULL);
    gs_result *res = train(&run, &rec, NULL);
    replica r;
    static state s;
    CHECK(rep_make(&r, &run, 5));
    if (res && (r.net || r.netf)) {
        CHECK_EQ_INT(res->n_rows, 3);
        CHECK_EQ_INT(res->level, GS_LEVEL_FULL);
        rep_pass(&r, 0, 5, &s);
        check_row0(&run, res, &s, &r, dtype == GS_DTYPE_FLOAT32 ? 2e-5 : 1e-10,
                   dtype == GS_DTYPE_FLOAT32);
        size_t L = res->n_layers;
        for (size_t l = 0; l < L; l++) /* update_ratio of the last row: it was updated too */
            CHECK(isfinite(res->update_ratio[2 * L + l]));
    }
    rep_free(&r);
    gs_result_destroy(res);
}

/* ---- unit health on crafted inputs; the thresholds against f' ---- */

/* One hidden layer of 4 units on 2 inputs; W = I-ish, b chosen per unit, x chosen per row. */
static void crafted_health(void)
{
    gs_run run = tiny_run(1, GS_ACT_RELU, GS_DTYPE_FLOAT64);
    run.cfg.depth = 1;
    run.cfg.data_dim = 2;
    gs_net *net = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_net_create(&net, &run.cfg, 2, 3, 4, &err), GS_OK);
    if (!net)
        return;
    /* h_j = x0 + b_j (W rows (1, 0)): with x0 in {-1, 0.5, 2, 3}: b = -5 is dead on every row,
     * b = -1 is positive only on rows with x0 > 1, b = 0 and b = 5 are live */
    double b[4] = {-5.0, -1.0, 0.0, 5.0}, x[8] = {-1, 0, 0.5, 0, 2, 0, 3, 0};
    for (size_t j = 0; j < 4; j++) {
        net->w[0][j * 2] = 1.0;
        net->w[0][j * 2 + 1] = 0.0;
        net->b[0][j] = b[j];
    }
    gs_net_forward(net, x, 4);
    unsigned char alive[8];
    double q[2], dead[1], sat[1], am[1], as[1];
    int acts[] = {GS_ACT_RELU, GS_ACT_LEAKY_RELU, GS_ACT_ELU, GS_ACT_SELU};
    for (size_t k = 0; k < 4; k++) {
        gs_probe_act pa = gs_probe_act_of(acts[k]);
        gs_probe_forward_d(net, 4, &pa, alive, q, dead, sat, am, as);
        CHECK(dead[0] == 0.25); /* only b = -5 */
        CHECK(isnan(sat[0]));
    }
    /* saturation: entries with |h| beyond the threshold; h = x0 + b: 16 entries */
    gs_probe_act pa = gs_probe_act_of(GS_ACT_TANH);
    gs_probe_forward_d(net, 4, &pa, alive, q, dead, sat, am, as);
    size_t c = 0;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            c += fabs(x[2 * i] + b[j]) > 2.994; /* atanh(sqrt(0.99)) = 2.99322... */
    CHECK(sat[0] == (double)c / 16.0);
    CHECK(c == 8); /* b = -5: 3 rows (h = -2 is not); b = 0: h = 3; b = 5: 4 rows */
    CHECK(isnan(dead[0]));
    gs_net_destroy(net);
}

/* The |h| thresholds decide exactly as |f'(h)| < 0.01 f'(0) wherever the two can be told apart
 * (away from the threshold by more than rounding). */
static void sat_thresholds(void)
{
    int acts[] = {GS_ACT_TANH, GS_ACT_SIGMOID, GS_ACT_SOFTSIGN, GS_ACT_HARD_TANH};
    for (size_t k = 0; k < 4; k++) {
        gs_probe_act pa = gs_probe_act_of(acts[k]);
        CHECK(pa.sat && !pa.dead);
        double f0 = gs_act_df(acts[k], 0.0, 0.0);
        for (double h = -20.0; h <= 20.0; h += 0.0009765625) {
            if (fabs(fabs(h) - pa.sat_t) < 1e-9 && !pa.sat_incl)
                continue;
            int by_t = pa.sat_incl ? fabs(h) >= pa.sat_t : fabs(h) > pa.sat_t;
            CHECK_EQ_INT(by_t, fabs(gs_act_df(acts[k], 0.0, h)) < 0.01 * f0);
        }
        /* just inside and outside the threshold */
        double t = pa.sat_t;
        CHECK(fabs(gs_act_df(acts[k], 0.0, t * (1 - 1e-9))) >= 0.01 * f0 || pa.sat_incl);
        CHECK(fabs(gs_act_df(acts[k], 0.0, t * (1 + 1e-9))) < 0.01 * f0);
    }
    CHECK(gs_probe_act_of(GS_ACT_HARD_TANH).sat_t == 1.0);
    int none[] = {GS_ACT_LINEAR, GS_ACT_GELU, GS_ACT_SOFTPLUS, GS_ACT_SWISH, GS_ACT_SILU};
    for (size_t k = 0; k < 5; k++) {
        gs_probe_act pa = gs_probe_act_of(none[k]);
        CHECK(!pa.dead && !pa.sat);
    }
}

/* ---- histograms ---- */

static void hist_values(void)
{
    gs_probe_hist h;
    gs_error err;
    CHECK_EQ_INT(gs_probe_hist_init(&h, 14, -12.0, 2.0, &err), GS_OK);
    double v[] = {0.0,
                  -0.0,
                  1e-13,
                  9.99e-13,
                  1e-12,
                  -1e-12,
                  1e-3,
                  -1e-3,
                  5e-4,
                  99.9,
                  100.0,
                  -100.0,
                  1e300,
                  (double)INFINITY,
                  -(double)INFINITY,
                  (double)NAN,
                  1e-310,
                  0.999e-3,
                  1.5,
                  10.0};
    size_t n = sizeof v / sizeof *v;
    int64_t c[14] = {0}, o[4] = {0};
    gs_probe_hist_add_d(&h, v, n, c, o);
    CHECK_EQ_INT(o[0], 2);  /* +-0 */
    CHECK_EQ_INT(o[1], 3);  /* 1e-13, 9.99e-13, denormal */
    CHECK_EQ_INT(o[2], 5);  /* +-100 (10^max), 1e300, +-Inf */
    CHECK_EQ_INT(o[3], 1);  /* NaN */
    CHECK_EQ_INT(c[0], 2);  /* +-1e-12: on the first edge */
    CHECK_EQ_INT(c[9], 2);  /* +-1e-3: on the edge of bin 9 */
    CHECK_EQ_INT(c[8], 2);  /* 5e-4 and 0.999e-3 */
    CHECK_EQ_INT(c[12], 1); /* 1.5 */
    CHECK_EQ_INT(c[13], 2); /* 10 (edge) and 99.9 */
    int64_t tot = o[0] + o[1] + o[2] + o[3];
    for (size_t j = 0; j < 14; j++)
        tot += c[j];
    CHECK_EQ_INT(tot, (int64_t)n);
    gs_probe_hist_free(&h);
    /* half-decade bins: the edges are 10^(-1 + j / 2); each edge value opens its bin, its
     * predecessor in double closes the previous one */
    CHECK_EQ_INT(gs_probe_hist_init(&h, 4, -1.0, 1.0, &err), GS_OK);
    for (size_t j = 0; j < 4; j++) {
        double e = pow(10.0, -1.0 + 0.5 * (double)j);
        int64_t cc[4] = {0}, oo[4] = {0};
        float ef = (float)e;
        gs_probe_hist_add_d(&h, &e, 1, cc, oo);
        CHECK_EQ_INT(cc[j], 1);
        double below = nextafter(e, 0.0);
        gs_probe_hist_add_d(&h, &below, 1, cc, oo);
        CHECK_EQ_INT(j == 0 ? oo[1] : cc[j - 1], 1);
        gs_probe_hist_add_f(&h, &ef, 1, cc, oo); /* float: near the edge, on either side */
        CHECK_EQ_INT(cc[0] + cc[1] + cc[2] + cc[3] + oo[1], 3);
    }
    gs_probe_hist_free(&h);
    CHECK_EQ_INT(gs_probe_hist_init(&h, 4, 1.0, 1.0, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "record.hist");
    CHECK_EQ_INT(gs_probe_hist_init(&h, 0, 0.0, 1.0, &err), GS_EINVAL);
    CHECK_EQ_INT(gs_probe_hist_init(&h, 4, -(double)INFINITY, 1.0, &err), GS_EINVAL);
    gs_probe_hist_free(&h);
}

/* Bin of one value by log10 with the test's own arithmetic (values here are far from edges). */
static void my_bin(double v, double lo, double hi, size_t k, int64_t *c, int64_t *o)
{
    double a = fabs(v), w = (hi - lo) / (double)k;
    if (isnan(a))
        o[3]++;
    else if (a == 0.0)
        o[0]++;
    else if (log10(a) < lo)
        o[1]++;
    else if (log10(a) >= hi)
        o[2]++;
    else
        c[(size_t)floor((log10(a) - lo) / w)]++;
}

/* Counts on a run: the gradient histogram equals binning the snapshot gradients, the delta
 * histogram binning the probe deltas (the probe batch is the full batch, so the probe pass
 * reproduces the step's deltas), totals are entry counts, delta_norm is the probe deltas' norm. */
static void hist_run(void)
{
    gs_run run = tiny_run(3, GS_ACT_TANH, GS_DTYPE_FLOAT64);
    run.cfg.steps = 6;
    gs_record rec = rec_of(GS_LEVEL_BASIC);
    rec.every = 1;
    rec.grad_every = 1;
    rec.hist_bins = 7;
    rec.hist_every = 2;
    rec.deltas = 1;
    rec.activations = 1;
    rec.probe_batch = 5;
    gs_result *res = train(&run, &rec, NULL);
    if (!res)
        return;
    size_t L = res->n_layers, k = 7, B = 5;
    CHECK_EQ_INT(res->hist_bins, 7);
    CHECK_EQ_INT(res->cap_hist, 3);
    CHECK_EQ_INT(res->n_hist, 3);
    CHECK_EQ_INT(res->probe_rows, 5);
    for (size_t hr = 0; hr < res->n_hist; hr++) {
        size_t t = 2 * hr;
        CHECK_EQ_INT(res->hist_step[hr], (int64_t)t);
        for (size_t l = 0; l < L; l++) {
            size_t p = res->fan_in[l] * res->fan_out[l], m = B * res->fan_out[l];
            int64_t cg[7] = {0}, og[4] = {0}, cd[7] = {0}, od[4] = {0}, tg = 0, td = 0;
            for (size_t i = 0; i < p; i++)
                my_bin(res->grads[l][t * p + i], -12, 2, k, cg, og);
            for (size_t i = 0; i < m; i++)
                my_bin(res->probe_delta[l][t * m + i], -12, 2, k, cd, od);
            const int64_t *hg = res->hist_grad + (hr * L + l) * k,
                          *hd = res->hist_delta + (hr * L + l) * k,
                          *hgo = res->hist_grad_out + (hr * L + l) * 4,
                          *hdo = res->hist_delta_out + (hr * L + l) * 4;
            for (size_t j = 0; j < k; j++) {
                CHECK_EQ_INT(hg[j], cg[j]);
                CHECK_EQ_INT(hd[j], cd[j]);
                tg += hg[j];
                td += hd[j];
            }
            for (size_t j = 0; j < 4; j++) {
                CHECK_EQ_INT(hgo[j], og[j]);
                CHECK_EQ_INT(hdo[j], od[j]);
                tg += hgo[j];
                td += hdo[j];
            }
            CHECK_EQ_INT(tg, (int64_t)p);
            CHECK_EQ_INT(td, (int64_t)m);
            CHECK_NEAR(res->delta_norm[t * L + l], frob(res->probe_delta[l] + t * m, m), 1e-14,
                       0.0);
        }
    }
    gs_result_destroy(res);
}

/* ---- the probe batch ---- */

/* Captures at step 0 (the initial net) and step 2 (after two full-batch sgd steps) equal a
 * separate forward/backward of the replica on the first P samples. */
static void probe_capture(int norm)
{
    gs_run run = tiny_run(11, GS_ACT_TANH, GS_DTYPE_FLOAT64);
    run.cfg.norm = norm;
    run.cfg.steps = 3;
    gs_record rec = rec_of(GS_LEVEL_BASIC);
    int64_t steps[] = {0, 2};
    rec.grad_steps = steps;
    rec.n_grad_steps = 2;
    rec.activations = rec.deltas = 1;
    rec.probe_batch = 4;
    gs_result *res = train(&run, &rec, NULL);
    replica r;
    static state s;
    static double d[MAXL][MAXE];
    CHECK(rep_make(&r, &run, 5));
    gs_optimizer *opt = NULL;
    gs_error err;
    if (!res || !r.net || gs_optimizer_create(&opt, &run.cfg, r.net->n_params, &err))
        goto done;
    CHECK_EQ_INT(res->probe_rows, 4);
    CHECK_EQ_INT(res->n_snaps, 2);
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ_INT(res->probe_index[i], (int64_t)i);
    size_t L = res->n_layers, P = 4;
    for (size_t snap = 0; snap < 2; snap++) {
        if (snap == 1)
            for (int64_t t = 0; t < 2; t++) { /* the run's two full-batch steps */
                rep_pass(&r, 0, 5, &s);
                gs_optimizer_step(opt, r.net->params, r.net->grads, gs_opt_lr(&run.cfg, t));
            }
        rep_pass(&r, 0, P, &s);
        if (norm == GS_NORM_NONE)
            slow_deltas(&s, run.cfg.activation, 0.0, r.ds->label, d);
        for (size_t l = 0; l < L; l++) {
            size_t m = P * res->fan_out[l];
            for (size_t i = 0; i < m; i++) {
                CHECK(res->probe_h[l][snap * m + i] == s.h[l][i]);
                if (norm == GS_NORM_NONE)
                    CHECK_NEAR(res->probe_delta[l][snap * m + i], d[l][i], 1e-10, 1e-15);
            }
        }
    }
done:
    gs_optimizer_destroy(opt);
    rep_free(&r);
    gs_result_destroy(res);
}

/* With a held-out split the probe batch is the first training samples of the split order. */
static void probe_index_split(void)
{
    gs_run run = tiny_run(5, GS_ACT_TANH, GS_DTYPE_FLOAT64);
    run.cfg.data_samples = 20;
    run.cfg.eval_fraction = 0.25;
    run.cfg.batch = 4;
    gs_record rec = rec_of(GS_LEVEL_BASIC);
    rec.activations = 1;
    rec.probe_batch = 100; /* capped at the 15 training samples */
    gs_result *res = train(&run, &rec, NULL);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gs_dataset *ds = NULL;
    gs_error err;
    gsl_rng_set(rng, (unsigned long)run.seed);
    CHECK_EQ_INT(gs_data_generate(&ds, &run.cfg, rng, &err), GS_OK);
    size_t split[20];
    for (size_t i = 0; i < 20; i++)
        split[i] = i;
    gsl_ran_shuffle(rng, split, 20, sizeof *split);
    if (res) {
        CHECK_EQ_INT(res->probe_rows, 15);
        for (size_t i = 0; i < 15; i++)
            CHECK_EQ_INT(res->probe_index[i], (int64_t)split[i]);
        CHECK(res->probe_h != NULL && res->probe_delta == NULL);
    }
    gs_dataset_destroy(ds);
    gsl_rng_free(rng);
    gs_result_destroy(res);
}

/* ---- bitwise invariance of training under recording ---- */

static int same(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

static int same_layers(double **a, double **b, size_t nl, const size_t *per, size_t mul,
                       size_t snaps)
{
    if (!a || !b)
        return a == b;
    for (size_t l = 0; l < nl; l++)
        if (!same(a[l], b[l], snaps * per[l] * (mul ? mul : 1) * sizeof(double)))
            return 0;
    return 1;
}

static void invariance(int dtype, int norm)
{
    gs_run run = tiny_run(21, GS_ACT_TANH, dtype);
    run.cfg.data_samples = 64;
    run.cfg.depth = 3;
    run.cfg.width = 8;
    run.cfg.batch = 8;
    run.cfg.steps = 12;
    run.cfg.norm = norm;
    run.cfg.eval_fraction = 0.25; /* evaluation reads batchnorm's running statistics */
    run.cfg.optimizer = GS_OPT_ADAM;
    gs_record base = rec_of(GS_LEVEL_BASIC);
    int64_t steps[] = {0, 5, 11};
    base.grad_steps = steps;
    base.n_grad_steps = 3;
    base.every = 3;
    base.weights = 1;
    gs_record rich = base;
    rich.level = GS_LEVEL_FULL;
    rich.hist_bins = 10;
    rich.hist_every = 2;
    rich.activations = rich.deltas = 1;
    rich.probe_batch = 20; /* more rows than the batch: the net is sized for it */
    rich.jacobian_inputs = 3;
    gs_record mid = base;
    mid.level = GS_LEVEL_STANDARD;
    gs_result *a = train(&run, &base, NULL), *b = train(&run, &rich, NULL),
              *c = train(&run, &mid, NULL);
    if (!a || !b || !c)
        goto done;
    const gs_result *o[2] = {b, c};
    for (int k = 0; k < 2; k++) {
        const gs_result *x = o[k];
        size_t T = a->n_rows, L = a->n_layers, S = a->n_snaps, H = a->n_norm;
        CHECK_EQ_INT(x->n_rows, T);
        CHECK_EQ_INT(x->n_snaps, S);
        CHECK_EQ_INT(x->steps_done, a->steps_done);
        CHECK_EQ_INT(x->n_eval_rows, a->n_eval_rows);
        CHECK(same(a->loss, x->loss, T * sizeof(double)));
        CHECK(same(a->grad_norm, x->grad_norm, T * L * sizeof(double)));
        CHECK(same(a->grad_norm_global, x->grad_norm_global, T * sizeof(double)));
        CHECK(same(a->delta_norm, x->delta_norm, T * L * sizeof(double)));
        CHECK(same(a->q, x->q, T * L * sizeof(double)));
        CHECK(same(a->eval_loss, x->eval_loss, a->n_eval_rows * sizeof(double)));
        CHECK(same(&a->final_loss, &x->final_loss, sizeof(double)));
        size_t per[MAXL], nb[MAXL];
        for (size_t l = 0; l < L; l++) {
            per[l] = a->fan_in[l] * a->fan_out[l];
            nb[l] = a->fan_out[l];
        }
        CHECK(same_layers(a->grads, x->grads, L, per, 1, S));
        CHECK(same_layers(a->weights, x->weights, L, per, 1, S));
        CHECK(same_layers(a->bgrads, x->bgrads, L, nb, 1, S));
        CHECK(same_layers(a->biases, x->biases, L, nb, 1, S));
        CHECK(same_layers(a->nscale, x->nscale, H, nb, 1, S));
        CHECK(same_layers(a->nrun_mean, x->nrun_mean, H, nb, 1, S));
        CHECK(same_layers(a->nrun_var, x->nrun_var, H, nb, 1, S));
        CHECK(same_layers(a->ngrad_scale, x->ngrad_scale, H, nb, 1, S));
    }
    CHECK(b->probe_h && b->probe_delta && b->n_hist == 6 && b->pe_grad_var);
    CHECK(b->n_jac == 3 && b->jac_inputs == 3 && isfinite(b->jac_max[8]));
done:
    gs_result_destroy(a);
    gs_result_destroy(b);
    gs_result_destroy(c);
}

/* ---- verdicts ---- */

static void verdict_rules(void)
{
    double nan = (double)NAN, no[3] = {nan, nan, nan}, one[3] = {1, 1, 1};
    const unsigned HEALTHY = GS_PROBE_BIT(GS_VERDICT_HEALTHY),
                   VAN = GS_PROBE_BIT(GS_VERDICT_VANISHING),
                   EXP = GS_PROBE_BIT(GS_VERDICT_EXPLODING),
                   DIV = GS_PROBE_BIT(GS_VERDICT_DIVERGED), DEAD = GS_PROBE_BIT(GS_VERDICT_DEAD),
                   SAT = GS_PROBE_BIT(GS_VERDICT_SATURATED);
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, no, no, one, 2), HEALTHY);
    double van[3] = {0.99e-3, 1, 1}, exb[3] = {1e3, 1, 1}, exa[3] = {1.01e3, 1, 1};
    double vb[3] = {1e-3, 1, 1};
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, no, no, van, 2), VAN);
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, no, no, vb, 2), HEALTHY); /* strict */
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, no, no, exb, 2), HEALTHY);
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, no, no, exa, 2), EXP);
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, no, no, exa, 1), HEALTHY); /* H < 2: no ratio */
    double d9[2] = {0.1, 0.9}, d8[2] = {0.89, 0.1};
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, d9, no, one, 2), DEAD);
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, d8, no, one, 2), HEALTHY);
    CHECK_EQ_INT(gs_probe_states(1.0, 1, 1.0, no, d9, one, 2), SAT);
    /* diverged: non-finite, or loss above 1e4 max(loss0, 1) (strictly) */
    CHECK_EQ_INT(gs_probe_states(1.0, 0, 1.0, no, no, one, 2), DIV);
    CHECK_EQ_INT(gs_probe_states(1e4, 1, 0.5, no, no, one, 2), HEALTHY);
    CHECK_EQ_INT(gs_probe_states(1.0001e4, 1, 0.5, no, no, one, 2), DIV);
    CHECK_EQ_INT(gs_probe_states(2.0001e4, 1, 2.0, no, no, one, 2), DIV);
    CHECK_EQ_INT(gs_probe_states(1.9999e4, 1, 2.0, no, no, one, 2), HEALTHY);
    CHECK_EQ_INT(gs_probe_states(nan, 0, 1.0, d9, d9, van, 2), DIV | DEAD | SAT | VAN);
    /* severity: diverged > dead > saturated > exploding > vanishing > healthy */
    int order[] = {GS_VERDICT_HEALTHY,   GS_VERDICT_VANISHING, GS_VERDICT_EXPLODING,
                   GS_VERDICT_SATURATED, GS_VERDICT_DEAD,      GS_VERDICT_DIVERGED};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            unsigned m = GS_PROBE_BIT(order[i]) | GS_PROBE_BIT(order[j]);
            CHECK_EQ_INT(gs_probe_worst(m), order[i > j ? i : j]);
            CHECK_EQ_INT(gs_probe_severity(order[i]) < gs_probe_severity(order[j]), i < j);
        }
    CHECK_EQ_INT(gs_probe_worst(DIV | DEAD | SAT | VAN), GS_VERDICT_DIVERGED);
    CHECK_EQ_INT(gs_probe_worst(SAT | EXP), GS_VERDICT_SATURATED);
    /* slope */
    double y[3] = {1.0, exp(-1.0), exp(-2.0)}, z[3] = {1.0, 0.0, 1.0},
           inf[3] = {1, (double)INFINITY, 1};
    CHECK_NEAR(gs_probe_slope(y, 3), -1.0, 1e-14, 0.0);
    CHECK(isnan(gs_probe_slope(y, 1)));
    CHECK(isnan(gs_probe_slope(z, 3)));
    CHECK(isnan(gs_probe_slope(inf, 3)));
}

/* The verdict of a run recomputed from its rows with the rules written out again. */
static void check_verdict(const gs_result *res)
{
    size_t L = res->n_layers, H = L - 1;
    int sev[] = {[GS_VERDICT_HEALTHY] = 0,   [GS_VERDICT_VANISHING] = 1, [GS_VERDICT_EXPLODING] = 2,
                 [GS_VERDICT_SATURATED] = 3, [GS_VERDICT_DEAD] = 4,      [GS_VERDICT_DIVERGED] = 5};
    int v = GS_VERDICT_HEALTHY;
    int64_t at = -1;
    double loss0 = res->loss[0];
    for (size_t r = 0; r < res->n_rows; r++) {
        int w = GS_VERDICT_HEALTHY;
        int fin = !(res->status == GS_RUN_DIVERGED && r + 1 == res->n_rows);
        double ratio = H >= 2 ? res->delta_norm[r * L] / res->delta_norm[r * L + H - 1] : 1.0;
        if (H >= 2 && ratio < 1e-3)
            w = GS_VERDICT_VANISHING;
        if (H >= 2 && ratio > 1e3)
            w = GS_VERDICT_EXPLODING;
        for (size_t l = 0; l < H; l++)
            if (res->sat_frac[r * H + l] >= 0.9 && sev[w] < 3)
                w = GS_VERDICT_SATURATED;
        for (size_t l = 0; l < H; l++)
            if (res->dead_frac[r * H + l] >= 0.9 && sev[w] < 4)
                w = GS_VERDICT_DEAD;
        if (!fin || res->loss[r] > 1e4 * (loss0 > 1 ? loss0 : 1))
            w = GS_VERDICT_DIVERGED;
        if (sev[w] > sev[v]) {
            v = w;
            at = res->step[r];
        }
    }
    CHECK_EQ_INT(res->verdict, v);
    CHECK_EQ_INT(res->verdict_step, at);
}

/* A data set of n rows of zero inputs (relu with zero biases: every hidden unit dead). */
static gs_dataset *zero_data(size_t n)
{
    gs_dataset *ds = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_dataset_create(&ds, n, 3, 2, 1, &err), GS_OK);
    for (size_t i = 0; ds && i < n; i++) {
        memset(ds->x + 3 * i, 0, 3 * sizeof *ds->x);
        ds->label[i] = (int32_t)(i % 2);
    }
    return ds;
}

/* Runs that reach each state at step 0; then the verdict recomputed from the rows. */
static void verdict_runs(void)
{
    struct {
        int act;
        double sigma_w;
        int64_t depth, width;
        int verdict;
    } cases[] = {
        {GS_ACT_TANH, 1.0, 2, 16, GS_VERDICT_HEALTHY},
        {GS_ACT_TANH, 0.3, 8, 16, GS_VERDICT_VANISHING},
        {GS_ACT_RELU, 4.0, 12, 32, GS_VERDICT_EXPLODING},
        {GS_ACT_TANH, 100.0, 3, 16, GS_VERDICT_SATURATED},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        gs_run run = tiny_run(40 + k, cases[k].act, GS_DTYPE_FLOAT64);
        run.cfg.data_samples = 32;
        run.cfg.depth = cases[k].depth;
        run.cfg.width = cases[k].width;
        run.cfg.sigma_w = cases[k].sigma_w;
        run.cfg.sigma_b = 0.0;
        run.cfg.steps = 1;
        gs_record rec = rec_of(GS_LEVEL_BASIC);
        gs_result *res = train(&run, &rec, NULL);
        if (!res)
            continue;
        CHECK_EQ_INT(res->verdict, cases[k].verdict);
        CHECK_EQ_INT(res->verdict_step, cases[k].verdict == GS_VERDICT_HEALTHY ? -1 : 0);
        check_verdict(res);
        gs_result_destroy(res);
    }
}

/* Dead relu: zero inputs and zero biases. Without stop_on the run trains on and stays dead;
 * with stop_on: [dead] it stops at step 0 before the update. */
static void stop_dead(void)
{
    gs_dataset *ds = zero_data(6);
    gs_run run = tiny_run(9, GS_ACT_RELU, GS_DTYPE_FLOAT64);
    run.cfg.data_kind = GS_DATA_HDF5;
    run.cfg.sigma_b = 0.0;
    run.cfg.steps = 4;
    gs_record rec = rec_of(GS_LEVEL_STANDARD);
    gs_result *a = train(&run, &rec, ds), *b = NULL;
    strcpy(run.cfg.stop_on, "vanishing,dead");
    b = train(&run, &rec, ds);
    if (!a || !b)
        goto done;
    size_t L = a->n_layers;
    CHECK_EQ_INT(a->status, GS_RUN_OK);
    CHECK_EQ_INT(a->steps_done, 4);
    CHECK_EQ_INT(a->verdict, GS_VERDICT_DEAD);
    CHECK_EQ_INT(a->verdict_step, 0);
    CHECK(a->dead_frac[0] == 1.0 && a->dead_frac[3 * (L - 1) + 1] == 1.0);
    check_verdict(a);
    CHECK_EQ_INT(b->status, GS_RUN_STOPPED);
    CHECK_EQ_INT(b->steps_done, 0);
    CHECK_EQ_INT(b->n_rows, 1);
    CHECK_EQ_INT(b->verdict, GS_VERDICT_DEAD);
    CHECK_EQ_INT(b->diverged_step, -1);
    CHECK(b->final_loss == a->loss[0]);
    for (size_t l = 0; l < L; l++) {
        CHECK(isnan(b->update_ratio[l]));
        CHECK(isfinite(a->update_ratio[l]));
    }
done:
    gs_result_destroy(a);
    gs_result_destroy(b);
    gs_dataset_destroy(ds);
}

/* A finite loss blow-up (linear regression, lr far too large): the verdict is diverged at the
 * first row whose loss exceeds 1e4 max(loss0, 1), long before the NaN; stop_on: [diverged]
 * stops there with status stopped and the same rows. */
static void stop_blowup(void)
{
    gs_run run = tiny_run(13, GS_ACT_LINEAR, GS_DTYPE_FLOAT64);
    run.cfg.data_kind = GS_DATA_TEACHER;
    run.cfg.data_dim = 4;
    run.cfg.data_outputs = 2;
    run.cfg.teacher_depth = 1;
    run.cfg.teacher_width = 4;
    run.cfg.teacher_activation = GS_ACT_TANH;
    run.cfg.data_samples = 16;
    run.cfg.depth = 1;
    run.cfg.sigma_b = 0.0;
    run.cfg.loss = GS_LOSS_MSE;
    run.cfg.lr = 3.0;
    run.cfg.steps = 2000;
    gs_record rec = rec_of(GS_LEVEL_STANDARD);
    gs_result *a = train(&run, &rec, NULL), *b = NULL;
    strcpy(run.cfg.stop_on, "diverged");
    b = train(&run, &rec, NULL);
    if (!a || !b)
        goto done;
    int64_t tb = -1;
    for (size_t r = 0; r < a->n_rows && tb < 0; r++)
        if (a->loss[r] > 1e4 * (a->loss[0] > 1 ? a->loss[0] : 1))
            tb = a->step[r];
    CHECK(tb > 0);
    CHECK_EQ_INT(a->status, GS_RUN_DIVERGED);
    CHECK(a->diverged_step > tb);
    CHECK_EQ_INT(a->verdict, GS_VERDICT_DIVERGED);
    CHECK_EQ_INT(a->verdict_step, tb);
    check_verdict(a);
    CHECK_EQ_INT(b->status, GS_RUN_STOPPED);
    CHECK_EQ_INT(b->steps_done, tb);
    CHECK_EQ_INT(b->n_rows, (size_t)tb + 1);
    CHECK_EQ_INT(b->verdict, GS_VERDICT_DIVERGED);
    CHECK_EQ_INT(b->verdict_step, tb);
    CHECK_EQ_INT(b->diverged_step, -1);
    if (tb > 0 && b->n_rows == (size_t)tb + 1) {
        size_t L = b->n_layers;
        CHECK(same(a->loss, b->loss, b->n_rows * sizeof(double)));
        CHECK(isnan(b->update_ratio[(size_t)tb * L]));
        CHECK(isfinite(b->update_ratio[(size_t)(tb - 1) * L]));
        CHECK(isnan(a->update_ratio[(a->n_rows - 1) * L])); /* the diverging step */
    }
    /* a state listed that never holds: the run completes */
    strcpy(run.cfg.stop_on, "dead,saturated");
    run.cfg.lr = 0.01;
    run.cfg.steps = 20;
    gs_result *c = train(&run, &rec, NULL);
    if (c) {
        CHECK_EQ_INT(c->status, GS_RUN_OK);
        CHECK_EQ_INT(c->steps_done, 20);
    }
    gs_result_destroy(c);
done:
    gs_result_destroy(a);
    gs_result_destroy(b);
}

/* A diverging step that is not a multiple of record.every gets a full row (its backward is
 * repeated with the hook), whose deltas are NaN/Inf-bearing or finite as the pass made them. */
static void unplanned_row(void)
{
    gs_run run = tiny_run(13, GS_ACT_LINEAR, GS_DTYPE_FLOAT64);
    run.cfg.data_kind = GS_DATA_TEACHER;
    run.cfg.data_dim = 4;
    run.cfg.data_outputs = 2;
    run.cfg.teacher_depth = 1;
    run.cfg.teacher_width = 4;
    run.cfg.teacher_activation = GS_ACT_TANH;
    run.cfg.data_samples = 16;
    run.cfg.depth = 2;
    run.cfg.loss = GS_LOSS_MSE;
    run.cfg.lr = 3.0;
    run.cfg.steps = 2000;
    gs_record rec = rec_of(GS_LEVEL_FULL), rec1 = rec;
    rec.every = 1000;
    gs_result *a = train(&run, &rec, NULL), *b = train(&run, &rec1, NULL);
    if (a && b && a->status == GS_RUN_DIVERGED && b->status == GS_RUN_DIVERGED) {
        size_t L = a->n_layers, ra = a->n_rows - 1, rb = b->n_rows - 1;
        CHECK_EQ_INT(a->diverged_step, b->diverged_step);
        CHECK(a->diverged_step % 1000 != 0);
        CHECK_EQ_INT(a->step[ra], a->diverged_step);
        CHECK(same(a->delta_norm + ra * L, b->delta_norm + rb * L, L * sizeof(double)));
        CHECK(same(a->grad_norm + ra * L, b->grad_norm + rb * L, L * sizeof(double)));
        CHECK(same(a->q + ra * L, b->q + rb * L, L * sizeof(double)));
    } else {
        CHECK(0);
    }
    gs_result_destroy(a);
    gs_result_destroy(b);
}

/* ---- the Jacobian spectrum ---- */

/* A deep linear net with orthogonal weights (sigma_w = 1, equal widths) is an isometry. */
static void jacobian_isometry(void)
{
    gs_run run = tiny_run(31, GS_ACT_LINEAR, GS_DTYPE_FLOAT64);
    run.cfg.data_dim = 4;
    run.cfg.data_classes = 4;
    run.cfg.data_samples = 8;
    run.cfg.depth = 6;
    run.cfg.width = 4;
    run.cfg.init = GS_INIT_ORTHOGONAL;
    run.cfg.sigma_w = 1.0;
    gs_record rec = rec_of(GS_LEVEL_BASIC);
    int64_t steps[] = {2};
    rec.grad_steps = steps;
    rec.n_grad_steps = 1;
    rec.jacobian_inputs = 5;
    gs_result *res = train(&run, &rec, NULL);
    if (!res)
        return;
    CHECK_EQ_INT(res->cap_jac, 2);
    CHECK_EQ_INT(res->n_jac, 2);
    CHECK_EQ_INT(res->jac_step[0], 0);
    CHECK_EQ_INT(res->jac_step[1], 2);
    CHECK_EQ_INT(res->jac_inputs, 5);
    CHECK_EQ_INT(res->jac_rank, 4);
    CHECK_EQ_INT(res->probe_rows, 8);
    CHECK(res->probe_h == NULL && res->probe_delta == NULL);
    for (size_t i = 0; i < 5; i++) {
        for (size_t k = 0; k < 4; k++)
            CHECK_NEAR(res->jac_sv[i * 4 + k], 1.0, 1e-12, 0.0);
        CHECK_NEAR(res->jac_mean_sq[i], 1.0, 1e-12, 0.0);
        CHECK_NEAR(res->jac_max[i], 1.0, 1e-12, 0.0);
        CHECK(res->jac_sv[(5 + i) * 4] != 1.0); /* training moved the weights off isometry */
    }
    gs_result_destroy(res);
}

/* Largest singular value of J [k][n] (k, n <= 4) by power iteration on J^T J. */
static double sv_max(const double *J, size_t k, size_t n)
{
    double v[4] = {1, 0.5, 0.25, 0.125}, u[4], lam = 0.0;
    for (int it = 0; it < 2000; it++) {
        for (size_t a = 0; a < k; a++) {
            u[a] = 0.0;
            for (size_t b = 0; b < n; b++)
                u[a] += J[a * n + b] * v[b];
        }
        double nv = 0.0;
        for (size_t b = 0; b < n; b++) {
            v[b] = 0.0;
            for (size_t a = 0; a < k; a++)
                v[b] += J[a * n + b] * u[a];
            nv += v[b] * v[b];
        }
        lam = sqrt(nv);
        for (size_t b = 0; b < n; b++)
            v[b] /= lam;
    }
    return sqrt(lam);
}

/* The spectrum at step 0 and after two full-batch steps against a central-difference Jacobian
 * of the replica in evaluation mode (batchnorm: the running statistics the training passes
 * left): sum of sigma^2 = ||J||_F^2 and the largest sigma. */
static void jacobian_fd(void)
{
    gs_run run = tiny_run(33, GS_ACT_TANH, GS_DTYPE_FLOAT64);
    run.cfg.norm = GS_NORM_BATCHNORM;
    gs_record rec = rec_of(GS_LEVEL_BASIC);
    int64_t steps[] = {2};
    rec.grad_steps = steps;
    rec.n_grad_steps = 1;
    rec.jacobian_inputs = 2;
    rec.activations = 1; /* a probe pass before the Jacobian changes nothing it sees */
    gs_result *res = train(&run, &rec, NULL);
    replica r;
    static state s;
    gs_optimizer *opt = NULL;
    gs_error err;
    CHECK(rep_make(&r, &run, 5));
    if (!res || !r.net || gs_optimizer_create(&opt, &run.cfg, r.net->n_params, &err))
        goto done;
    size_t d = 3, k = 3, L = r.net->n_layers;
    CHECK_EQ_INT(res->n_jac, 2);
    for (size_t j = 0; j < 2; j++) {
        if (j == 1)
            for (int64_t t = 0; t < 2; t++) {
                rep_pass(&r, 0, 5, &s);
                gs_optimizer_step(opt, r.net->params, r.net->grads, gs_opt_lr(&run.cfg, t));
            }
        for (size_t i = 0; i < 2; i++) {
            double J[9], x[3], f2 = 0.0, eps = 1e-5;
            for (size_t b = 0; b < d; b++) {
                double yp[3], ym[3];
                memcpy(x, r.ds->x + i * d, sizeof x);
                x[b] += eps;
                gs_net_forward_eval(r.net, x, 1);
                memcpy(yp, r.net->h[L - 1], sizeof yp);
                x[b] -= 2 * eps;
                gs_net_forward_eval(r.net, x, 1);
                memcpy(ym, r.net->h[L - 1], sizeof ym);
                for (size_t a = 0; a < k; a++) {
                    J[a * d + b] = (yp[a] - ym[a]) / (2 * eps);
                    f2 += J[a * d + b] * J[a * d + b];
                }
            }
            size_t slot = j * 2 + i;
            CHECK_NEAR(res->jac_mean_sq[slot] * 3.0, f2, 1e-6, 1e-12);
            CHECK_NEAR(res->jac_max[slot], sv_max(J, k, d), 1e-6, 1e-12);
            CHECK(res->jac_max[slot] == res->jac_sv[slot * 3]);
        }
    }
done:
    gs_optimizer_destroy(opt);
    rep_free(&r);
    gs_result_destroy(res);
}

/* ---- tiers, options and bad input ---- */

static void tiers(void)
{
    gs_run run = tiny_run(2, GS_ACT_TANH, GS_DTYPE_FLOAT64);
    for (int level = 0; level < GS_LEVEL__COUNT; level++) {
        gs_record rec = rec_of(level);
        gs_result *res = train(&run, &rec, NULL);
        if (!res)
            continue;
        CHECK(res->delta_norm && res->q && res->dead_frac && res->sat_frac && res->delta_slope);
        int std = level >= GS_LEVEL_STANDARD, full = level == GS_LEVEL_FULL;
        CHECK_EQ_INT(res->grad_mean_abs != NULL, std);
        CHECK_EQ_INT(res->grad_max_abs != NULL, std);
        CHECK_EQ_INT(res->bias_grad_norm != NULL, std);
        CHECK_EQ_INT(res->act_mean != NULL, std);
        CHECK_EQ_INT(res->act_std != NULL, std);
        CHECK_EQ_INT(res->weight_norm != NULL, std);
        CHECK_EQ_INT(res->weight_dist_init != NULL, std);
        CHECK_EQ_INT(res->update_ratio != NULL, std);
        CHECK_EQ_INT(res->pe_grad_var != NULL, full);
        CHECK_EQ_INT(res->pe_grad_snr != NULL, full);
        CHECK(!res->hist_step && !res->hist_grad && res->cap_hist == 0 && res->n_hist == 0);
        CHECK(!res->probe_index && !res->probe_h && !res->probe_delta && res->probe_rows == 0);
        CHECK(!res->jac_sv && res->cap_jac == 0);
        CHECK(isfinite(res->delta_norm[0]) && isfinite(res->q[0]));
        gs_result_destroy(res);
    }
    run.cfg.bias = 0;
    gs_record rec = rec_of(GS_LEVEL_FULL);
    gs_result *res = train(&run, &rec, NULL);
    if (res)
        CHECK(res->bias_grad_norm == NULL && res->grad_mean_abs != NULL);
    gs_result_destroy(res);
    /* rows every 2 steps: unfilled rows stay NaN, and the statistics land in the row index */
    run.cfg.bias = 1;
    run.cfg.steps = 5;
    rec.every = 2;
    res = train(&run, &rec, NULL);
    if (res) {
        CHECK_EQ_INT(res->n_rows, 3);
        CHECK(isfinite(res->pe_grad_var[2 * res->n_layers]));
        CHECK(isnan(res->pe_grad_var[3 * res->n_layers])); /* spare row of cap_rows */
    }
    gs_result_destroy(res);
}

static void bad_input(void)
{
    gs_run run = tiny_run(2, GS_ACT_TANH, GS_DTYPE_FLOAT64);
    gs_record rec = rec_of(GS_LEVEL_STANDARD);
    gs_result *res = NULL;
    gs_error err;
    const char *bad[] = {"dead,zombie", "healthy", "dead,", ",dead", "dead,,saturated", "DEAD"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        strcpy(run.cfg.stop_on, bad[k]);
        CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
        CHECK_HAS_STR(err.msg, "train.stop_on");
        CHECK(res == NULL);
    }
    strcpy(run.cfg.stop_on, "dead,zombie");
    gs_train_run(&res, &run, &rec, NULL, NULL, &err);
    CHECK_HAS_STR(err.msg, "'zombie'");
    unsigned m;
    CHECK_EQ_INT(gs_probe_stop_mask("", 1, &m, &err), GS_OK);
    CHECK_EQ_INT(m, 0);
    char all[] = "vanishing,exploding,diverged,dead,saturated";
    CHECK_EQ_INT(gs_probe_stop_mask(all, sizeof all, &m, &err), GS_OK);
    CHECK_EQ_INT(m, 0x3fu & ~GS_PROBE_BIT(GS_VERDICT_HEALTHY));
    char unterminated[4] = {'d', 'e', 'a', 'd'};
    CHECK_EQ_INT(gs_probe_stop_mask(unterminated, 4, &m, &err), GS_EINVAL);
    run.cfg.stop_on[0] = '\0';
    struct {
        gs_record rec;
        const char *msg;
    } recs[4];
    for (int k = 0; k < 4; k++)
        recs[k].rec = rec;
    recs[0].rec.level = 3;
    recs[0].msg = "record.level";
    recs[1].rec.hist_bins = 5;
    recs[1].rec.hist_min = 2.0;
    recs[1].rec.hist_max = 2.0;
    recs[1].msg = "record.hist";
    recs[2].rec.activations = 1;
    recs[2].rec.probe_batch = 0;
    recs[2].msg = "record.probe_batch";
    recs[3].rec.jacobian_inputs = -1;
    recs[3].msg = "record.jacobian";
    for (int k = 0; k < 4; k++) {
        CHECK_EQ_INT(gs_train_run(&res, &run, &recs[k].rec, NULL, NULL, &err), GS_EINVAL);
        CHECK_HAS_STR(err.msg, recs[k].msg);
    }
    /* a probe batch larger than the data: capped */
    rec.deltas = 1;
    rec.probe_batch = 1000;
    res = train(&run, &rec, NULL);
    if (res) {
        CHECK_EQ_INT(res->probe_rows, 5);
        CHECK_EQ_INT(res->probe_index[4], 4);
    }
    gs_result_destroy(res);
}

/* The hook changes nothing backward computes, and reports what the slow backward computes. */
static void hook_net(void)
{
    gs_run run = tiny_run(17, GS_ACT_ELU, GS_DTYPE_FLOAT64);
    replica r;
    static state s;
    static double d[MAXL][MAXE], cap[MAXL][MAXE];
    CHECK(rep_make(&r, &run, 5));
    if (!r.net)
        goto done;
    gs_net *net = r.net;
    size_t L = net->n_layers, np = net->n_params;
    /* h and a after the forward pass are intact after loss and backward (the row statistics
     * read them then) */
    static double h0[MAXL][MAXE], a0[MAXL][MAXE];
    gs_net_forward(net, r.ds->x, 5);
    for (size_t l = 0; l < L; l++)
        for (size_t i = 0; i < 5 * net->n[l + 1]; i++) {
            h0[l][i] = net->h[l][i];
            a0[l][i] = net->a[l][i];
        }
    gs_net_loss(net, r.ds->label, NULL, 5);
    gs_net_backward(net, r.ds->x, 5);
    for (size_t l = 0; l < L; l++)
        for (size_t i = 0; i < 5 * net->n[l + 1]; i++)
            CHECK(h0[l][i] == net->h[l][i] && a0[l][i] == net->a[l][i]);
    rep_pass(&r, 0, 5, &s);
    double *g0 = malloc(np * sizeof *g0);
    memcpy(g0, net->grads, np * sizeof *g0);
    gs_probe_hist hist;
    gs_error err;
    gs_probe_hist_init(&hist, 5, -6, 1, &err);
    int64_t hc[MAXL * 5] = {0}, ho[MAXL * 4] = {0};
    double dn[MAXL], pe[MAXL], scr[8], *cp[MAXL];
    for (size_t l = 0; l < L; l++)
        cp[l] = cap[l];
    struct gs_net_probe p = {dn, pe, scr, &hist, hc, ho, cp};
    net->probe = &p;
    rep_pass(&r, 0, 5, &s);
    net->probe = NULL;
    CHECK(same(g0, net->grads, np * sizeof *g0));
    slow_deltas(&s, GS_ACT_ELU, gs_act_alpha(&run.cfg), r.ds->label, d);
    for (size_t l = 0; l < L; l++) {
        size_t m = 5 * net->n[l + 1];
        CHECK_NEAR(dn[l], frob(d[l], m), 1e-10, 0.0);
        for (size_t i = 0; i < m; i++)
            CHECK_NEAR(cap[l][i], d[l][i], 1e-10, 1e-16);
        int64_t t = 0;
        for (size_t j = 0; j < 5; j++)
            t += hc[l * 5 + j];
        for (size_t j = 0; j < 4; j++)
            t += ho[l * 4 + j];
        CHECK_EQ_INT(t, (int64_t)m);
    }
    gs_probe_hist_free(&hist);
    free(g0);
done:
    rep_free(&r);
}

int main(void)
{
    int acts[] = {GS_ACT_TANH, GS_ACT_RELU, GS_ACT_SIGMOID, GS_ACT_HARD_TANH, GS_ACT_GELU};
    for (size_t k = 0; k < sizeof acts / sizeof *acts; k++) {
        row_statistics(acts[k], GS_DTYPE_FLOAT64);
        row_statistics(acts[k], GS_DTYPE_FLOAT32);
    }
    crafted_health();
    sat_thresholds();
    hist_values();
    hist_run();
    probe_capture(GS_NORM_NONE);
    probe_capture(GS_NORM_BATCHNORM);
    probe_index_split();
    invariance(GS_DTYPE_FLOAT64, GS_NORM_BATCHNORM);
    invariance(GS_DTYPE_FLOAT32, GS_NORM_BATCHNORM);
    invariance(GS_DTYPE_FLOAT64, GS_NORM_LAYERNORM);
    verdict_rules();
    verdict_runs();
    stop_dead();
    stop_blowup();
    unplanned_row();
    tiers();
    bad_input();
    hook_net();
    jacobian_isometry();
    jacobian_fd();
    return CHECK_EXIT();
}
