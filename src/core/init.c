/* Parameter initialisation of the network core: draws W and b from the run's RNG per the init
 * kind (formulas and draw order in net.h), always in float64. Kept apart from net.c because
 * gsl_randist.h and gsl_linalg.h (via gsl_cblas.h) and OpenBLAS's cblas.h declare the same CBLAS
 * enums and cannot be included in one translation unit. */
#include <math.h>
#include <stddef.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_vector.h>

#include "gradsweep/net.h"

/* The scale of an i.i.d. init for a layer fan_in -> fan_out: the std of the normal kinds, the
 * half-width a of U(-a, a) for the uniform kinds (Var = a^2 / 3). */
static double iid_scale(const gs_run_config *cfg, double fan_in, double fan_out)
{
    double sw = cfg->sigma_w;
    /* He et al. 2015 with the leaky-ReLU gain: Var(w) = 2 / ((1 + alpha^2) fan_in). */
    double al = cfg->activation == GS_ACT_LEAKY_RELU ? cfg->leaky_alpha : 0.0;
    switch (cfg->init) {
    case GS_INIT_NORMAL:       /* mean-field: Var(w) = sigma_w^2 / fan_in */
    case GS_INIT_LECUN_NORMAL: /* LeCun 1998: the same Var(w) = 1 / fan_in, times the gain */
        return sw / sqrt(fan_in);
    case GS_INIT_NORMAL_STD:
        return sw;
    case GS_INIT_UNIFORM: /* Var = a^2 / 3 = sigma_w^2 / fan_in */
        return sw * sqrt(3.0 / fan_in);
    case GS_INIT_XAVIER_NORMAL: /* Glorot & Bengio 2010: Var(w) = 2 / (fan_in + fan_out) */
        return sw * sqrt(2.0 / (fan_in + fan_out));
    case GS_INIT_XAVIER_UNIFORM:
        return sw * sqrt(6.0 / (fan_in + fan_out));
    case GS_INIT_HE_NORMAL:
        return sw * sqrt(2.0 / ((1.0 + al * al) * fan_in));
    case GS_INIT_HE_UNIFORM:
        return sw * sqrt(6.0 / ((1.0 + al * al) * fan_in));
    default:
        return 0.0;
    }
}

static int is_uniform(int init)
{
    return init == GS_INIT_UNIFORM || init == GS_INIT_XAVIER_UNIFORM || init == GS_INIT_HE_UNIFORM;
}

/* identity: W = sigma_w I (ones on the main diagonal of a rectangular W), plus N(0, noise^2) on
 * every entry, drawn row-major, when noise > 0. w [n_out][n_in]. */
static void init_identity(double *w, size_t n_out, size_t n_in, double sw, double noise,
                          gsl_rng *rng)
{
    for (size_t i = 0; i < n_out; i++)
        for (size_t j = 0; j < n_in; j++) {
            double v = i == j ? sw : 0.0;
            w[i * n_in + j] = noise > 0.0 ? v + gsl_ran_gaussian(rng, noise) : v;
        }
}

/* orthogonal (Saxe et al. 2014): draw G [n_out][n_in] ~ N(0, 1) row-major into w, take the taller
 * orientation A = G (n_out >= n_in) or G^T, M x N with M >= N, factor A = QR (Householder), and set
 * W = sigma_w Q D (or its transpose), Q the thin M x N factor and D = sign(diag R), which makes
 * the result Haar-distributed. Q's columns are Q e_j (gsl_linalg_QR_Qvec), so the workspace is
 * O(M N), not the M x M of a full unpack. */
static gs_status init_orthogonal(double *w, size_t n_out, size_t n_in, double sw, gsl_rng *rng,
                                 size_t layer, gs_error *err)
{
    gs_status st = GS_OK;
    int tall = n_out >= n_in;
    size_t M = tall ? n_out : n_in, N = tall ? n_in : n_out;
    for (size_t i = 0; i < n_out * n_in; i++)
        w[i] = gsl_ran_gaussian(rng, 1.0);
    gsl_matrix *A = gsl_matrix_alloc(M, N);
    gsl_vector *tau = gsl_vector_alloc(N), *v = gsl_vector_alloc(M);
    if (!A || !tau || !v) {
        st = gs_error_set(err, GS_ENOMEM,
                          "init: out of memory for the orthogonal init of layer %zu", layer);
        goto done;
    }
    for (size_t i = 0; i < n_out; i++)
        for (size_t j = 0; j < n_in; j++)
            gsl_matrix_set(A, tall ? i : j, tall ? j : i, w[i * n_in + j]);
    if (gsl_linalg_QR_decomp(A, tau)) {
        st = gs_error_set(err, GS_EINVAL, "init: QR of layer %zu (%zu x %zu) failed", layer, M, N);
        goto done;
    }
    for (size_t c = 0; c < N; c++) {
        gsl_vector_set_basis(v, c);
        gsl_linalg_QR_Qvec(A, tau, v);                       /* v = Q e_c, column c of Q */
        double s = gsl_matrix_get(A, c, c) < 0.0 ? -sw : sw; /* R[c][c] sits on A's diagonal */
        for (size_t r = 0; r < M; r++) {
            double q = s * gsl_vector_get(v, r);
            if (tall)
                w[r * n_in + c] = q;
            else
                w[c * n_in + r] = q;
        }
    }
done:
    gsl_vector_free(v);
    gsl_vector_free(tau);
    gsl_matrix_free(A);
    return st;
}

gs_status gs_init_draw(const gs_run_config *cfg, const size_t *n, size_t L, double **w, double **b,
                       gsl_rng *rng, gs_error *err)
{
    if (cfg->init < 0 || cfg->init >= GS_INIT__COUNT)
        return gs_error_set(err, GS_EINVAL, "init: unknown init %d", cfg->init);
    for (size_t l = 0; l < L; l++) {
        size_t n_in = n[l], n_out = n[l + 1];
        double *wl = w[l]; /* [n_out][n_in] */
        if (cfg->init == GS_INIT_ORTHOGONAL) {
            gs_status st = init_orthogonal(wl, n_out, n_in, cfg->sigma_w, rng, l, err);
            if (st)
                return st;
        } else if (cfg->init == GS_INIT_IDENTITY) {
            init_identity(wl, n_out, n_in, cfg->sigma_w, cfg->init_noise, rng);
        } else if (is_uniform(cfg->init)) {
            double a = iid_scale(cfg, (double)n_in, (double)n_out);
            for (size_t i = 0; i < n_out * n_in; i++)
                wl[i] = gsl_ran_flat(rng, -a, a);
        } else {
            double sw = iid_scale(cfg, (double)n_in, (double)n_out);
            for (size_t i = 0; i < n_out * n_in; i++)
                wl[i] = gsl_ran_gaussian(rng, sw);
        }
        if (!b)
            continue;
        double *bl = b[l]; /* [n_out] */
        for (size_t i = 0; i < n_out; i++)
            bl[i] = cfg->sigma_b == 0.0 ? 0.0 : gsl_ran_gaussian(rng, cfg->sigma_b);
    }
    return GS_OK;
}
