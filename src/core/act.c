/* Activations of the network core: one table entry per gs_act holding f, f' and the fused
 * forward/backward kernels (f inlined into the element loop). No allocation, no failure paths.
 * Conventions at kinks follow PyTorch and are stated per entry. */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/act.h"
#include "gradsweep/net.h"

/* ---- f and f' per kind. f(x, al) and f'(x, al) take the pre-activation x; dk(x, y, al) is the
 * derivative the backward kernel uses, given x and the output y = f(x). The four original kinds
 * use y (no transcendental call in backward); the others use x through f'. ---- */

static inline double lin_f(double x, double al)
{
    (void)al;
    return x;
}
static inline double lin_df(double x, double al)
{
    (void)x;
    (void)al;
    return 1.0;
}
static inline double lin_dk(double x, double y, double al)
{
    (void)x;
    (void)y;
    (void)al;
    return 1.0;
}

static inline double tanh_f(double x, double al)
{
    (void)al;
    return tanh(x);
}
/* tanh'(x) = 1 - tanh(x)^2 */
static inline double tanh_dfy(double y)
{
    return 1.0 - y * y;
}
static inline double tanh_df(double x, double al)
{
    (void)al;
    return tanh_dfy(tanh(x));
}
static inline double tanh_dk(double x, double y, double al)
{
    (void)x;
    (void)al;
    return tanh_dfy(y);
}

/* sigma(x) = 1 / (1 + e^-x), written so that exp never overflows for large |x|. */
static inline double sigm(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}
static inline double sig_f(double x, double al)
{
    (void)al;
    return sigm(x);
}
/* sigma'(x) = sigma(x) (1 - sigma(x)) */
static inline double sig_dfy(double y)
{
    return y * (1.0 - y);
}
static inline double sig_df(double x, double al)
{
    (void)al;
    return sig_dfy(sigm(x));
}
static inline double sig_dk(double x, double y, double al)
{
    (void)x;
    (void)al;
    return sig_dfy(y);
}

/* relu'(0) = 0 by convention (as in PyTorch); relu(x) > 0 exactly when x > 0, so the output form
 * gives the same derivative. NaN propagates through f (x <= 0 is false for NaN), unlike fmax. */
static inline double relu_f(double x, double al)
{
    (void)al;
    return x <= 0.0 ? 0.0 : x;
}
static inline double relu_df(double x, double al)
{
    (void)al;
    return x > 0.0 ? 1.0 : 0.0;
}
static inline double relu_dk(double x, double y, double al)
{
    (void)x;
    (void)al;
    return y > 0.0 ? 1.0 : 0.0;
}

/* leaky_relu(x) = x for x > 0, al x otherwise; f'(0) = al (PyTorch). */
static inline double leaky_f(double x, double al)
{
    return x > 0.0 ? x : al * x;
}
static inline double leaky_df(double x, double al)
{
    return x > 0.0 ? 1.0 : al;
}

/* elu(x) = x for x > 0, al (e^x - 1) otherwise (expm1: exact near 0); f'(0) = al (PyTorch), so
 * elu is C1 at 0 only for al = 1. */
static inline double elu_f(double x, double al)
{
    return x > 0.0 ? x : al * expm1(x);
}
static inline double elu_df(double x, double al)
{
    return x > 0.0 ? 1.0 : al * exp(x);
}

/* selu = lambda elu_alpha (Klambauer et al. 2017), the fixed-point constants to full precision;
 * f'(0) = lambda alpha (left derivative). */
#define SELU_L 1.0507009873554804934193349852946
#define SELU_A 1.6732632423543772848170429916717
static inline double selu_f(double x, double al)
{
    (void)al;
    return SELU_L * (x > 0.0 ? x : SELU_A * expm1(x));
}
static inline double selu_df(double x, double al)
{
    (void)al;
    return x > 0.0 ? SELU_L : SELU_L * SELU_A * exp(x);
}

/* gelu, the exact form (not the tanh approximation): x Phi(x) with the normal CDF
 * Phi(x) = (1 + erf(x / sqrt 2)) / 2, evaluated as erfc(-x / sqrt 2) / 2, which is the same
 * function without the cancellation of 1 + erf for x << 0. gelu'(x) = Phi(x) + x phi(x). */
#define INV_SQRT2 0.70710678118654752440084436210485
#define INV_SQRT_2PI 0.39894228040143267793994605993438
static inline double Phi(double x)
{
    return 0.5 * erfc(-x * INV_SQRT2);
}
static inline double gelu_f(double x, double al)
{
    (void)al;
    return x * Phi(x);
}
static inline double gelu_df(double x, double al)
{
    (void)al;
    return Phi(x) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}

/* softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows, exact in both tails
 * (softplus(50) = 50, softplus(-50) = e^-50). softplus' = sigma. */
static inline double softplus_f(double x, double al)
{
    (void)al;
    return (x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x)));
}
static inline double softplus_df(double x, double al)
{
    (void)al;
    return sigm(x);
}

/* swish = silu: x sigma(x); f' = sigma(x) (1 + x (1 - sigma(x))). */
static inline double swish_f(double x, double al)
{
    (void)al;
    return x * sigm(x);
}
static inline double swish_df(double x, double al)
{
    (void)al;
    double s = sigm(x);
    return s * (1.0 + x * (1.0 - s));
}

/* softsign(x) = x / (1 + |x|); f' = 1 / (1 + |x|)^2 (C1, f'' jumps at 0). */
static inline double softsign_f(double x, double al)
{
    (void)al;
    return x / (1.0 + fabs(x));
}
static inline double softsign_df(double x, double al)
{
    (void)al;
    double t = 1.0 + fabs(x);
    return 1.0 / (t * t);
}

/* hard_tanh(x) = clip(x, -1, 1); f' = 1 on (-1, 1) and 0 elsewhere, so 0 at the kinks +-1
 * (PyTorch). NaN passes through f. */
static inline double hardtanh_f(double x, double al)
{
    (void)al;
    return x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x;
}
static inline double hardtanh_df(double x, double al)
{
    (void)al;
    return x > -1.0 && x < 1.0 ? 1.0 : 0.0;
}

/* The kinds whose backward evaluates f' at the pre-activation. */
#define DK_FROM_X(name)                                                                            \
    static inline double name##_dk(double x, double y, double al)                                  \
    {                                                                                              \
        (void)y;                                                                                   \
        return name##_df(x, al);                                                                   \
    }
DK_FROM_X(leaky)
DK_FROM_X(elu)
DK_FROM_X(selu)
DK_FROM_X(gelu)
DK_FROM_X(softplus)
DK_FROM_X(swish)
DK_FROM_X(softsign)
DK_FROM_X(hardtanh)
#undef DK_FROM_X

/* Element loops are marked `omp simd` so they vectorise at -O2 too (GCC's -O2 cost model skips
 * loops that need an epilogue). Only loops without a cross-iteration reduction are marked, so the
 * results are bitwise those of the scalar loop. */
#ifdef _OPENMP
#define GS_SIMD _Pragma("omp simd")
#else
#define GS_SIMD
#endif

/* Fused kernels per activation, so the element loop inlines f instead of calling a pointer
 * (contract in act.h). */
#define GS_ACT_KERNELS(name)                                                                       \
    static void name##_fwd(double *restrict h, double *restrict a, const double *restrict b,       \
                           size_t B, size_t n, double al)                                          \
    {                                                                                              \
        for (size_t i = 0; i < B; i++) {                                                           \
            double *restrict hr = h + i * n, *restrict ar = a + i * n;                             \
            GS_SIMD                                                                                \
            for (size_t j = 0; j < n; j++) {                                                       \
                double v = hr[j] + b[j];                                                           \
                hr[j] = v;                                                                         \
                ar[j] = name##_f(v, al);                                                           \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void name##_bwd(double *restrict d, const double *restrict h, const double *restrict a, \
                           double *restrict db, size_t B, size_t n, double al)                     \
    {                                                                                              \
        memset(db, 0, n * sizeof *db);                                                             \
        for (size_t i = 0; i < B; i++) {                                                           \
            double *restrict dr = d + i * n;                                                       \
            const double *restrict hr = h + i * n, *restrict ar = a + i * n;                       \
            GS_SIMD                                                                                \
            for (size_t j = 0; j < n; j++) {                                                       \
                double v = dr[j] * name##_dk(hr[j], ar[j], al);                                    \
                dr[j] = v;                                                                         \
                db[j] += v;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }

GS_ACT_KERNELS(lin)
GS_ACT_KERNELS(tanh)
GS_ACT_KERNELS(sig)
GS_ACT_KERNELS(relu)
GS_ACT_KERNELS(leaky)
GS_ACT_KERNELS(elu)
GS_ACT_KERNELS(selu)
GS_ACT_KERNELS(gelu)
GS_ACT_KERNELS(softplus)
GS_ACT_KERNELS(swish)
GS_ACT_KERNELS(softsign)
GS_ACT_KERNELS(hardtanh)
#undef GS_ACT_KERNELS

#define ENTRY(name)                                                                                \
    {                                                                                              \
        name##_f, name##_df, name##_fwd, name##_bwd                                                \
    }

/* Indexed by gs_act (config.h order). swish and silu are two names of one function. */
static const gs_act_entry acts[GS_ACT__COUNT] = {
    [GS_ACT_LINEAR] = ENTRY(lin),         [GS_ACT_TANH] = ENTRY(tanh),
    [GS_ACT_SIGMOID] = ENTRY(sig),        [GS_ACT_RELU] = ENTRY(relu),
    [GS_ACT_LEAKY_RELU] = ENTRY(leaky),   [GS_ACT_ELU] = ENTRY(elu),
    [GS_ACT_SELU] = ENTRY(selu),          [GS_ACT_GELU] = ENTRY(gelu),
    [GS_ACT_SOFTPLUS] = ENTRY(softplus),  [GS_ACT_SWISH] = ENTRY(swish),
    [GS_ACT_SILU] = ENTRY(swish),         [GS_ACT_SOFTSIGN] = ENTRY(softsign),
    [GS_ACT_HARD_TANH] = ENTRY(hardtanh),
};
#undef ENTRY

const gs_act_entry *gs_act_entry_get(int act)
{
    assert(act >= 0 && act < GS_ACT__COUNT);
    return &acts[act];
}

double gs_act_f(int act, double alpha, double x)
{
    return gs_act_entry_get(act)->f(x, alpha);
}

double gs_act_df(int act, double alpha, double x)
{
    return gs_act_entry_get(act)->df(x, alpha);
}

double gs_act_alpha(const gs_run_config *cfg)
{
    if (cfg->activation == GS_ACT_LEAKY_RELU)
        return cfg->leaky_alpha;
    if (cfg->activation == GS_ACT_ELU)
        return cfg->elu_alpha;
    return 0.0;
}
