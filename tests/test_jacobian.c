/* Unit tests of the input-output Jacobian and its singular values: the Jacobian against central
 * finite differences of forward_eval for every activation x norm x residual layout, with and
 * without biases, per-layer widths, in both propagation modes (d_in < d_out: forward, else
 * reverse); float32 against float64; parameters, gradients and running statistics bitwise
 * unchanged; exact spectra of deep orthogonal linear nets (dynamical isometry); the SVD against
 * matrices of known spectrum, extreme scales, zero and non-finite input. GSL's error handler is
 * left at its aborting default here, so any GSL error the library triggered would fail the test. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "gradsweep/jacobian.h"
#include "gradsweep/net.h"

enum { MB = 8 }; /* batch rows of the training forwards that move batchnorm's statistics */

/* Central-difference step: truncation ~ h^2 |f'''| ~ 1e-12, round-off ~ 1e-16 |y| / h ~ 1e-10;
 * a kink of relu-like activations lies within h of a unit's input with probability ~ 1e-6. */
#define FD_H 1e-6
#define FD_TOL 1e-6
/* float32 Jacobian against float64: forward values rounded at u = 6e-8 per operation over a few
 * layers of width <= 8, amplified by at most a few in the derivative; measured worst ~1e-6. */
#define F32_TOL 1e-4

/* max |a - b| / max(max |b|, FLOOR) over n entries. The Jacobians here are O(1), but one can
 * nearly cancel: a relu layer that passes a single unit into a layernorm, which is invariant to
 * the scale of its input, leaves only the eps term (seen: max |J| = 6e-6). Below the floor the
 * comparison is absolute, FD_TOL * FLOOR = 1e-9, 10x the difference quotient's round-off. */
#define FLOOR 1e-3
static double rel_err(const double *a, const double *b, size_t n)
{
    double d = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return d / fmax(s, FLOOR);
}

/* Depth 4 with per-layer widths (residual blocks of two need hidden widths 1 and 3 equal; a
 * trailing partial block), or uniform width 6 for blocks of one. */
static void jac_config(gs_run_config *cfg, int act, int norm, int res, int bias, int list)
{
    gs_config_defaults(cfg);
    cfg->activation = act;
    cfg->leaky_alpha = 0.2;
    cfg->elu_alpha = 0.6;
    cfg->init = GS_INIT_NORMAL;
    cfg->sigma_w = 1.4;
    cfg->sigma_b = 0.3;
    cfg->norm = norm;
    cfg->norm_momentum = 0.5;
    cfg->bias = bias;
    cfg->depth = 4;
    cfg->width = 6;
    cfg->residual_every = res;
    cfg->residual_alpha = 0.7;
    if (list)
        snprintf(cfg->width_list, sizeof cfg->width_list, "%s", res == 2 ? "6,5,6,7" : "6,3,8,5");
}

/* Random gamma, beta; with batchnorm three training forwards so the running statistics are far
 * from (0, 1). */
static void perturb(gs_net *net, gsl_rng *rng, size_t d_in)
{
    for (size_t l = 0; net->gamma && l + 1 < net->n_layers; l++)
        for (size_t j = 0; j < net->n[l + 1]; j++) {
            net->gamma[l][j] = 1.0 + gsl_ran_gaussian(rng, 0.3);
            net->beta[l][j] = gsl_ran_gaussian(rng, 0.3);
        }
    if (net->norm != GS_NORM_BATCHNORM)
        return;
    double x[MB * 16];
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < MB * d_in; i++)
            x[i] = 0.5 + gsl_ran_gaussian(rng, 1.3);
        gs_net_forward(net, x, MB);
    }
}

/* The double net's parameters and running statistics rounded to float, into nf and back into
 * net, so both compute with the same numbers. */
static void share_params(gs_net *net, gs_netf *nf)
{
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = (double)(nf->params[i] = (float)net->params[i]);
    for (size_t l = 0; net->run_mean && l + 1 < net->n_layers; l++)
        for (size_t j = 0; j < net->n[l + 1]; j++) {
            net->run_mean[l][j] = (double)(nf->run_mean[l][j] = (float)net->run_mean[l][j]);
            net->run_var[l][j] = (double)(nf->run_var[l][j] = (float)net->run_var[l][j]);
        }
}

/* Bytes of everything the Jacobian must not change: params, grads, running statistics. */
static size_t state_size(const gs_net *net)
{
    size_t s = 2 * net->n_params * sizeof(double);
    for (size_t l = 0; net->run_mean && l + 1 < net->n_layers; l++)
        s += 2 * net->n[l + 1] * sizeof(double);
    return s;
}

static void state_save(const gs_net *net, unsigned char *buf)
{
    size_t np = net->n_params * sizeof(double);
    memcpy(buf, net->params, np);
    memcpy(buf + np, net->grads, np);
    buf += 2 * np;
    for (size_t l = 0; net->run_mean && l + 1 < net->n_layers; l++) {
        size_t b = net->n[l + 1] * sizeof(double);
        memcpy(buf, net->run_mean[l], b);
        memcpy(buf + b, net->run_var[l], b);
        buf += 2 * b;
    }
}

/* J by central differences of forward_eval: column q = (y(x + h e_q) - y(x - h e_q)) / 2h. */
static void fd_jacobian(gs_net *net, const double *x, double *Jfd)
{
    size_t n0 = net->n[0], k = net->n[net->n_layers];
    double xp[16], yp[16];
    const double *y = net->h[net->n_layers - 1];
    for (size_t q = 0; q < n0; q++) {
        memcpy(xp, x, n0 * sizeof *xp);
        xp[q] = x[q] + FD_H;
        gs_net_forward_eval(net, xp, 1);
        memcpy(yp, y, k * sizeof *yp);
        xp[q] = x[q] - FD_H;
        gs_net_forward_eval(net, xp, 1);
        for (size_t i = 0; i < k; i++)
            Jfd[i * n0 + q] = (yp[i] - y[i]) / (2.0 * FD_H);
    }
}

typedef struct {
    double fd, f32; /* worst relative errors */
    int nets;
} fd_stats;

/* One configuration: the float64 Jacobian against finite differences at two inputs, the float32
 * one against the float64 one, the state bitwise unchanged, the workspace exactly as large as
 * reported (ASan catches an overrun). */
static void fd_case(const gs_run_config *cfg, size_t d_in, size_t d_out, gsl_rng *rng, fd_stats *st)
{
    gs_net *net = NULL;
    gs_netf *nf = NULL;
    double *work = NULL, *workf = NULL;
    unsigned char *s0 = NULL, *s1 = NULL;
    CHECK_EQ_INT(gs_net_create(&net, cfg, d_in, d_out, MB, NULL), GS_OK);
    CHECK_EQ_INT(gs_netf_create(&nf, cfg, d_in, d_out, MB, NULL), GS_OK);
    if (!net || !nf)
        goto done;
    CHECK_EQ_INT(gs_net_init(net, cfg, rng, NULL), GS_OK);
    perturb(net, rng, d_in);
    share_params(net, nf);
    work = malloc(gs_net_jacobian_work(net) * sizeof *work);
    workf = malloc(gs_netf_jacobian_work(nf) * sizeof *workf);
    s0 = malloc(state_size(net));
    s1 = malloc(state_size(net));
    if (!work || !workf || !s0 || !s1) {
        CHECK(0);
        goto done;
    }
    for (int rep = 0; rep < 2; rep++) {
        double x[16], J[256], Jfd[256], Jf[256];
        float xf[16];
        for (size_t i = 0; i < d_in; i++)
            x[i] = (double)(xf[i] = (float)gsl_ran_gaussian(rng, 1.0));
        state_save(net, s0);
        gs_net_jacobian(net, x, J, work);
        state_save(net, s1);
        CHECK(memcmp(s0, s1, state_size(net)) == 0);
        fd_jacobian(net, x, Jfd);
        gs_netf_jacobian(nf, xf, Jf, workf);
        double e = rel_err(J, Jfd, d_in * d_out), ef = rel_err(Jf, J, d_in * d_out);
        if (!(e < FD_TOL) || !(ef < F32_TOL))
            fprintf(stderr,
                    "act %s norm %s res %lld bias %d list '%s' %zu->%zu: fd %.3g f32 %.3g\n",
                    gs_act_names[cfg->activation], gs_norm_names[cfg->norm],
                    (long long)cfg->residual_every, cfg->bias, cfg->width_list, d_in, d_out, e, ef);
        CHECK(e < FD_TOL);
        CHECK(ef < F32_TOL);
        st->fd = fmax(st->fd, e);
        st->f32 = fmax(st->f32, ef);
    }
    st->nets++;
done:
    free(work);
    free(workf);
    free(s0);
    free(s1);
    gs_net_destroy(net);
    gs_netf_destroy(nf);
}

/* Every activation x norm x residual (none, blocks of 1, of 2) x bias x width list x mode. */
static void jacobian_fd(void)
{
    fd_stats st = {0.0, 0.0, 0};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    for (int act = 0; act < GS_ACT__COUNT; act++)
        for (int norm = 0; norm < GS_NORM__COUNT; norm++)
            for (int res = 0; res <= 2; res++)
                for (int v = 0; v < 4; v++) {
                    int bias = v & 1, list = (v >> 1) && res != 1, rev = (v == 1 || v == 2);
                    gs_run_config cfg;
                    jac_config(&cfg, act, norm, res, bias, list);
                    fd_case(&cfg, rev ? 5 : 3, rev ? 3 : 5, rng, &st);
                }
    fprintf(stderr,
            "jacobian_fd: %d nets, worst relative error float64 vs FD %.3g, float32 vs "
            "float64 %.3g\n",
            st.nets, st.fd, st.f32);
    CHECK_EQ_INT(st.nets, GS_ACT__COUNT * GS_NORM__COUNT * 3 * 4);
    gsl_rng_free(rng);
}

/* Depth 0: J is the readout's W, in both modes and precisions. */
static void jacobian_depth0(void)
{
    gs_run_config cfg;
    jac_config(&cfg, GS_ACT_TANH, GS_NORM_NONE, 0, 1, 0);
    cfg.depth = 0;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    for (int rev = 0; rev < 2; rev++) {
        size_t d_in = rev ? 4 : 2, d_out = rev ? 2 : 4;
        gs_net *net = NULL;
        gs_netf *nf = NULL;
        CHECK_EQ_INT(gs_net_create(&net, &cfg, d_in, d_out, 1, NULL), GS_OK);
        CHECK_EQ_INT(gs_netf_create(&nf, &cfg, d_in, d_out, 1, NULL), GS_OK);
        double x[4] = {0.3, -1.0, 2.0, 0.1}, J[8], work[64];
        float xf[4] = {0.3f, -1.0f, 2.0f, 0.1f};
        if (net && nf && gs_net_jacobian_work(net) <= 64 && gs_netf_jacobian_work(nf) <= 64) {
            CHECK_EQ_INT(gs_net_init(net, &cfg, rng, NULL), GS_OK);
            share_params(net, nf);
            gs_net_jacobian(net, x, J, work);
            CHECK(memcmp(J, net->w[0], 8 * sizeof *J) == 0);
            gs_netf_jacobian(nf, xf, J, work);
            CHECK(memcmp(J, net->w[0], 8 * sizeof *J) == 0);
        } else {
            CHECK(0);
        }
        gs_net_destroy(net);
        gs_netf_destroy(nf);
    }
    gsl_rng_free(rng);
}

/* A forward pass that overflows gives a J of NaNs (relu's f'(NaN) = 0 must not hide it) and NaN
 * singular values; a NaN weight does too. */
static void diverged(void)
{
    gs_run_config cfg;
    jac_config(&cfg, GS_ACT_RELU, GS_NORM_NONE, 0, 1, 0);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 9);
    for (int c = 0; c < 2; c++) {
        gs_net *net = NULL;
        CHECK_EQ_INT(gs_net_create(&net, &cfg, 5, 3, 1, NULL), GS_OK);
        double *work = net ? malloc(gs_net_jacobian_work(net) * sizeof *work) : NULL;
        double x[5] = {1, 2, 3, 4, 5}, J[15], sv[3], sw[9];
        if (!net || !work) {
            CHECK(0);
        } else {
            CHECK_EQ_INT(gs_net_init(net, &cfg, rng, NULL), GS_OK);
            for (size_t j = 0; j < 5; j++) /* row 0 of W_0 overflows, or one entry is NaN */
                net->w[0][j] = c ? (j == 2 ? (double)NAN : net->w[0][j]) : 1e308;
            gs_net_jacobian(net, x, J, work);
            int all_nan = 1;
            for (size_t i = 0; i < 15; i++)
                all_nan = all_nan && isnan(J[i]);
            CHECK(all_nan);
            gs_jacobian_svals(J, 3, 5, sv, sw);
            CHECK(isnan(sv[0]) && isnan(sv[1]) && isnan(sv[2]));
        }
        free(work);
        gs_net_destroy(net);
    }
    gsl_rng_free(rng);
}

/* Dynamical isometry: a deep linear net of orthogonal layers has J = sigma_w^L Q, every singular
 * value sigma_w^L, in forward mode (16 -> 16) and in reverse mode (16 -> 8, J J^T = I scaled). */
static void isometry(void)
{
    const double sws[] = {1.0, 1.05};
    for (int rev = 0; rev < 2; rev++)
        for (int s = 0; s < 2; s++) {
            gs_run_config cfg;
            gs_config_defaults(&cfg);
            cfg.activation = GS_ACT_LINEAR;
            cfg.init = GS_INIT_ORTHOGONAL;
            cfg.sigma_w = sws[s];
            cfg.depth = 20;
            cfg.width = 16;
            cfg.bias = 0;
            cfg.norm = GS_NORM_NONE;
            cfg.residual_every = 0;
            size_t d_out = rev ? 8 : 16, N = d_out;
            gs_net *net = NULL;
            CHECK_EQ_INT(gs_net_create(&net, &cfg, 16, d_out, 1, NULL), GS_OK);
            gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
            gsl_rng_set(rng, 11);
            double *work = net ? malloc(gs_net_jacobian_work(net) * sizeof *work) : NULL;
            double *sw = malloc(gs_jacobian_svals_work(d_out, 16) * sizeof *sw);
            double x[16], J[256], sv[16];
            if (!net || !work || !sw) {
                CHECK(0);
                goto next;
            }
            CHECK_EQ_INT(gs_net_init(net, &cfg, rng, NULL), GS_OK);
            for (size_t i = 0; i < 16; i++)
                x[i] = gsl_ran_gaussian(rng, 1.0);
            gs_net_jacobian(net, x, J, work);
            gs_jacobian_svals(J, d_out, 16, sv, sw);
            double want = pow(sws[s], 21.0), worst = 0.0;
            for (size_t i = 0; i < N; i++) {
                CHECK_NEAR(sv[i], want, 1e-12, 0.0);
                worst = fmax(worst, fabs(sv[i] / want - 1.0));
            }
            fprintf(stderr, "isometry %zu->%zu sigma_w %g: |sv / sigma_w^21 - 1| <= %.2g\n",
                    (size_t)16, d_out, sws[s], worst);
        next:
            free(work);
            free(sw);
            gsl_rng_free(rng);
            gs_net_destroy(net);
        }
}

/* ---- SVD ---- */

/* v [n] -> the Householder reflector I - 2 v v^T / v^T v into H [n][n]. */
static void householder(const double *v, size_t n, double *H)
{
    double vv = 0.0;
    for (size_t i = 0; i < n; i++)
        vv += v[i] * v[i];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            H[i * n + j] = (i == j ? 1.0 : 0.0) - 2.0 * v[i] * v[j] / vv;
}

/* A [m][n] = U diag(s) V^T with orthogonal U [m][m], V [n][n] reflectors of fixed vectors. */
static void known_matrix(const double *s, size_t m, size_t n, double *A)
{
    const double u[] = {1.0, -2.0, 0.5, 3.0, 1.5}, v[] = {-0.7, 1.0, 2.0, 0.3, -1.2};
    double U[25], V[25];
    householder(u, m, U);
    householder(v, n, V);
    size_t N = m < n ? m : n;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double t = 0.0;
            for (size_t k = 0; k < N; k++)
                t += U[i * m + k] * s[k] * V[j * n + k];
            A[i * n + j] = t;
        }
}

/* Singular values of a copy of A [m][n] with an exactly sized workspace. */
static void svals(const double *A, size_t m, size_t n, double *sv)
{
    double *c = malloc(m * n * sizeof *c), *w = malloc(gs_jacobian_svals_work(m, n) * sizeof *w);
    if (!c || !w) {
        CHECK(0);
    } else {
        memcpy(c, A, m * n * sizeof *c);
        gs_jacobian_svals(c, m, n, sv, w);
    }
    free(c);
    free(w);
}

static void svd_known(void)
{
    double A[25], sv[5];
    /* diagonal, signs and order scrambled */
    const double D[16] = {3, 0, 0, 0, 0, -1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0.5};
    svals(D, 4, 4, sv);
    const double dw[] = {3, 2, 1, 0.5};
    for (size_t i = 0; i < 4; i++)
        CHECK_NEAR(sv[i], dw[i], 1e-15, 0.0);
    /* U diag(s) V^T, tall and wide, and at extreme scales (exact power-of-two rescaling inside) */
    const double s[] = {4.0, 1.5, 1e-3}, scales[] = {1.0, 0x1p1000, 0x1p-1000, 1e-310};
    for (int wide = 0; wide < 2; wide++)
        for (int k = 0; k < 4; k++) {
            size_t m = wide ? 3 : 5, n = wide ? 5 : 3;
            known_matrix(s, m, n, A);
            for (size_t i = 0; i < m * n; i++)
                A[i] *= scales[k];
            svals(A, m, n, sv);
            /* A's entries are rounded: |sv_i - s_i| <= ~u |A| (a 1e-13 relative error of the
             * smallest); at 1e-310 they are subnormal with ~14 significant digits */
            double tol = k == 3 ? 1e-9 : 1e-14;
            for (size_t i = 0; i < 3; i++)
                CHECK_NEAR(sv[i], s[i] * scales[k], tol, 1e-14 * s[0] * scales[k]);
        }
    /* rank one, 3 x 5 and 5 x 3: |u| |v|, then zeros */
    const double u[] = {1, 2, 2}, v[] = {3, 0, 4, 0, 0};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 5; j++)
            A[i * 5 + j] = u[i] * v[j];
    double At[15];
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 5; j++)
            At[j * 3 + i] = A[i * 5 + j];
    for (int t = 0; t < 2; t++) {
        svals(t ? At : A, t ? 5 : 3, t ? 3 : 5, sv);
        CHECK_NEAR(sv[0], 15.0, 1e-15, 0.0);
        CHECK_NEAR(sv[1], 0.0, 0.0, 1e-14);
        CHECK_NEAR(sv[2], 0.0, 0.0, 1e-14);
    }
    /* a row and a column: the Euclidean norm */
    const double r[] = {3, 4, 0, 12};
    svals(r, 1, 4, sv);
    CHECK_NEAR(sv[0], 13.0, 1e-15, 0.0);
    svals(r, 4, 1, sv);
    CHECK_NEAR(sv[0], 13.0, 1e-15, 0.0);
}

/* Random matrices: descending, sum of squares = Frobenius norm^2, transpose-invariant. */
static void svd_random(void)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    const size_t shapes[][2] = {{7, 3}, {3, 7}, {6, 6}, {1, 1}, {10, 40}};
    for (size_t c = 0; c < 5; c++) {
        size_t m = shapes[c][0], n = shapes[c][1], N = m < n ? m : n;
        double A[400], At[400], sv[10], svt[10], fro = 0.0, sum = 0.0;
        for (size_t i = 0; i < m * n; i++) {
            A[i] = gsl_ran_gaussian(rng, 1.0);
            fro += A[i] * A[i];
        }
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                At[j * m + i] = A[i * n + j];
        svals(A, m, n, sv);
        svals(At, n, m, svt);
        for (size_t i = 0; i < N; i++) {
            sum += sv[i] * sv[i];
            CHECK(i == 0 || sv[i] <= sv[i - 1]);
            CHECK(sv[i] >= 0.0);
            CHECK_NEAR(svt[i], sv[i], 1e-13, 1e-15);
        }
        CHECK_NEAR(sum, fro, 1e-13, 0.0);
    }
    gsl_rng_free(rng);
}

/* All zero -> zeros; NaN or Inf anywhere -> every singular value NaN. */
static void svd_special(void)
{
    double A[6] = {0}, sv[2] = {1, 1};
    svals(A, 2, 3, sv);
    CHECK(sv[0] == 0.0 && sv[1] == 0.0);
    const double bad[] = {(double)NAN, (double)INFINITY, -(double)INFINITY};
    for (int b = 0; b < 3; b++)
        for (int t = 0; t < 2; t++) {
            double M[6] = {1, 2, 3, 4, 5, 6};
            M[t ? 5 : 0] = bad[b];
            sv[0] = sv[1] = 0.0;
            svals(M, t ? 3 : 2, t ? 2 : 3, sv);
            CHECK(isnan(sv[0]) && isnan(sv[1]));
        }
    CHECK_EQ_INT(gs_jacobian_svals_work(3, 5), 3 * 5 + 3 * 3);
    CHECK_EQ_INT(gs_jacobian_svals_work(5, 3), 3 * 3);
}

/* The probe's size: width 256, depth 50, 784 -> 10 (reverse mode) and 10 -> 784 (forward
 * mode's worst case kept small: it is 78x the work). Prints the time; fails only beyond 5 s,
 * a hang rather than a slow machine. */
static void timing(void)
{
    gs_run_config cfg;
    jac_config(&cfg, GS_ACT_TANH, GS_NORM_LAYERNORM, 2, 1, 0);
    cfg.depth = 50;
    cfg.width = 256;
    gs_netf *nf = NULL;
    CHECK_EQ_INT(gs_netf_create(&nf, &cfg, 784, 10, 1, NULL), GS_OK);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 1);
    double *work = nf ? malloc(gs_netf_jacobian_work(nf) * sizeof *work) : NULL;
    double *J = malloc(784 * 10 * sizeof *J), sv[10], sw[784 * 10 + 100];
    float *x = malloc(784 * sizeof *x);
    if (!nf || !work || !J || !x) {
        CHECK(0);
        goto done;
    }
    CHECK_EQ_INT(gs_netf_init(nf, &cfg, rng, NULL), GS_OK);
    for (size_t i = 0; i < 784; i++)
        x[i] = (float)gsl_rng_uniform(rng);
    struct timespec t0, t1;
    timespec_get(&t0, TIME_UTC);
    gs_netf_jacobian(nf, x, J, work);
    gs_jacobian_svals(J, 10, 784, sv, sw);
    timespec_get(&t1, TIME_UTC);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr,
            "timing: float32 width 256 depth 50 784->10 layernorm: Jacobian + svals %.3f s "
            "(sv max %.3g min %.3g)\n",
            dt, sv[0], sv[9]);
    CHECK(dt < 5.0);
    CHECK(isfinite(sv[0]) && sv[0] > 0.0 && sv[9] <= sv[0]);
done:
    free(work);
    free(J);
    free(x);
    gsl_rng_free(rng);
    gs_netf_destroy(nf);
}

int main(void)
{
    jacobian_fd();
    jacobian_depth0();
    diverged();
    isometry();
    svd_known();
    svd_random();
    svd_special();
    timing();
    return CHECK_EXIT();
}
