/* Template body of the activation table, included by act.c once per compute precision with
 *   R    the real type (double or float)
 *   S(n) the name of a per-precision symbol (n##_d or n##_f)
 *   ENTRY_T, TABLE_GET  the entry type and the name of its lookup function.
 * Arithmetic is in R: <tgmath.h> picks exp/expf etc. from the argument type, and every constant
 * goes through C(x), so the float instance never silently computes in double. No include guard:
 * the file is meant to be included twice. */

#define C(x) ((R)(x))

/* ---- f and f' per kind. f(x, al) and f'(x, al) take the pre-activation x; dk(x, y, al) is the
 * derivative the backward kernel uses, given x and the output y = f(x). The four original kinds
 * use y (no transcendental call in backward); the others use x through f'. ---- */

static inline R S(lin_f)(R x, R al)
{
    (void)al;
    return x;
}
static inline R S(lin_df)(R x, R al)
{
    (void)x;
    (void)al;
    return C(1.0);
}
static inline R S(lin_dk)(R x, R y, R al)
{
    (void)x;
    (void)y;
    (void)al;
    return C(1.0);
}

static inline R S(tanh_f)(R x, R al)
{
    (void)al;
    return tanh(x);
}
/* tanh'(x) = 1 - tanh(x)^2 */
static inline R S(tanh_dfy)(R y)
{
    return C(1.0) - y * y;
}
static inline R S(tanh_df)(R x, R al)
{
    (void)al;
    return S(tanh_dfy)(tanh(x));
}
static inline R S(tanh_dk)(R x, R y, R al)
{
    (void)x;
    (void)al;
    return S(tanh_dfy)(y);
}

/* sigma(x) = 1 / (1 + e^-x), written so that exp never overflows for large |x|. */
static inline R S(sigm)(R x)
{
    if (x >= C(0.0))
        return C(1.0) / (C(1.0) + exp(-x));
    R e = exp(x);
    return e / (C(1.0) + e);
}
static inline R S(sig_f)(R x, R al)
{
    (void)al;
    return S(sigm)(x);
}
/* sigma'(x) = sigma(x) (1 - sigma(x)) */
static inline R S(sig_dfy)(R y)
{
    return y * (C(1.0) - y);
}
static inline R S(sig_df)(R x, R al)
{
    (void)al;
    return S(sig_dfy)(S(sigm)(x));
}
static inline R S(sig_dk)(R x, R y, R al)
{
    (void)x;
    (void)al;
    return S(sig_dfy)(y);
}

/* relu'(0) = 0 by convention (as in PyTorch); relu(x) > 0 exactly when x > 0, so the output form
 * gives the same derivative. NaN propagates through f (x <= 0 is false for NaN), unlike fmax. */
static inline R S(relu_f)(R x, R al)
{
    (void)al;
    return x <= C(0.0) ? C(0.0) : x;
}
static inline R S(relu_df)(R x, R al)
{
    (void)al;
    return x > C(0.0) ? C(1.0) : C(0.0);
}
static inline R S(relu_dk)(R x, R y, R al)
{
    (void)x;
    (void)al;
    return y > C(0.0) ? C(1.0) : C(0.0);
}

/* leaky_relu(x) = x for x > 0, al x otherwise; f'(0) = al (PyTorch). */
static inline R S(leaky_f)(R x, R al)
{
    return x > C(0.0) ? x : al * x;
}
static inline R S(leaky_df)(R x, R al)
{
    return x > C(0.0) ? C(1.0) : al;
}

/* elu(x) = x for x > 0, al (e^x - 1) otherwise (expm1: exact near 0); f'(0) = al (PyTorch), so
 * elu is C1 at 0 only for al = 1. */
static inline R S(elu_f)(R x, R al)
{
    return x > C(0.0) ? x : al * expm1(x);
}
static inline R S(elu_df)(R x, R al)
{
    return x > C(0.0) ? C(1.0) : al * exp(x);
}

/* selu = lambda elu_alpha (Klambauer et al. 2017), the fixed-point constants to full precision;
 * f'(0) = lambda alpha (left derivative). */
static inline R S(selu_f)(R x, R al)
{
    (void)al;
    return C(SELU_L) * (x > C(0.0) ? x : C(SELU_A) * expm1(x));
}
static inline R S(selu_df)(R x, R al)
{
    (void)al;
    return x > C(0.0) ? C(SELU_L) : C(SELU_L) * C(SELU_A) * exp(x);
}

/* gelu, the exact form (not the tanh approximation): x Phi(x) with the normal CDF
 * Phi(x) = (1 + erf(x / sqrt 2)) / 2, evaluated as erfc(-x / sqrt 2) / 2, which is the same
 * function without the cancellation of 1 + erf for x << 0. gelu'(x) = Phi(x) + x phi(x). */
static inline R S(Phi)(R x)
{
    return C(0.5) * erfc(-x * C(INV_SQRT2));
}
static inline R S(gelu_f)(R x, R al)
{
    (void)al;
    return x * S(Phi)(x);
}
static inline R S(gelu_df)(R x, R al)
{
    (void)al;
    return S(Phi)(x) + x * C(INV_SQRT_2PI) * exp(C(-0.5) * x * x);
}

/* softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows, exact in both tails
 * (softplus(50) = 50, softplus(-50) = e^-50). softplus' = sigma. */
static inline R S(softplus_f)(R x, R al)
{
    (void)al;
    return (x > C(0.0) ? x : C(0.0)) + log1p(exp(-fabs(x)));
}
static inline R S(softplus_df)(R x, R al)
{
    (void)al;
    return S(sigm)(x);
}

/* swish = silu: x sigma(x); f' = sigma(x) (1 + x (1 - sigma(x))). */
static inline R S(swish_f)(R x, R al)
{
    (void)al;
    return x * S(sigm)(x);
}
static inline R S(swish_df)(R x, R al)
{
    (void)al;
    R s = S(sigm)(x);
    return s * (C(1.0) + x * (C(1.0) - s));
}

/* softsign(x) = x / (1 + |x|); f' = 1 / (1 + |x|)^2 (C1, f'' jumps at 0). */
static inline R S(softsign_f)(R x, R al)
{
    (void)al;
    return x / (C(1.0) + fabs(x));
}
static inline R S(softsign_df)(R x, R al)
{
    (void)al;
    R t = C(1.0) + fabs(x);
    return C(1.0) / (t * t);
}

/* hard_tanh(x) = clip(x, -1, 1); f' = 1 on (-1, 1) and 0 elsewhere, so 0 at the kinks +-1
 * (PyTorch). NaN passes through f. */
static inline R S(hardtanh_f)(R x, R al)
{
    (void)al;
    return x < C(-1.0) ? C(-1.0) : x > C(1.0) ? C(1.0) : x;
}
static inline R S(hardtanh_df)(R x, R al)
{
    (void)al;
    return x > C(-1.0) && x < C(1.0) ? C(1.0) : C(0.0);
}

/* The kinds whose backward evaluates f' at the pre-activation. */
#define DK_FROM_X(name)                                                                            \
    static inline R S(name##_dk)(R x, R y, R al)                                                   \
    {                                                                                              \
        (void)y;                                                                                   \
        return S(name##_df)(x, al);                                                                \
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

/* Fused kernels per activation, so the element loop inlines f instead of calling a pointer
 * (contract in act.h). */
#define GS_ACT_KERNELS(name)                                                                       \
    static void S(name##_fwd)(R *restrict h, R *restrict a, const R *restrict b, size_t B,         \
                              size_t n, R al)                                                      \
    {                                                                                              \
        for (size_t i = 0; i < B; i++) {                                                           \
            R *restrict hr = h + i * n, *restrict ar = a + i * n;                                  \
            GS_SIMD                                                                                \
            for (size_t j = 0; j < n; j++) {                                                       \
                R v = hr[j] + b[j];                                                                \
                hr[j] = v;                                                                         \
                ar[j] = S(name##_f)(v, al);                                                        \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void S(name##_bwd)(R *restrict d, const R *restrict h, const R *restrict a,             \
                              R *restrict db, size_t B, size_t n, R al)                            \
    {                                                                                              \
        memset(db, 0, n * sizeof *db);                                                             \
        for (size_t i = 0; i < B; i++) {                                                           \
            R *restrict dr = d + i * n;                                                            \
            const R *restrict hr = h + i * n, *restrict ar = a + i * n;                            \
            GS_SIMD                                                                                \
            for (size_t j = 0; j < n; j++) {                                                       \
                R v = dr[j] * S(name##_dk)(hr[j], ar[j], al);                                      \
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
        S(name##_f), S(name##_df), S(name##_fwd), S(name##_bwd)                                    \
    }

/* Indexed by gs_act (config.h order). swish and silu are two names of one function. */
static const ENTRY_T S(acts)[GS_ACT__COUNT] = {
    [GS_ACT_LINEAR] = ENTRY(lin),         [GS_ACT_TANH] = ENTRY(tanh),
    [GS_ACT_SIGMOID] = ENTRY(sig),        [GS_ACT_RELU] = ENTRY(relu),
    [GS_ACT_LEAKY_RELU] = ENTRY(leaky),   [GS_ACT_ELU] = ENTRY(elu),
    [GS_ACT_SELU] = ENTRY(selu),          [GS_ACT_GELU] = ENTRY(gelu),
    [GS_ACT_SOFTPLUS] = ENTRY(softplus),  [GS_ACT_SWISH] = ENTRY(swish),
    [GS_ACT_SILU] = ENTRY(swish),         [GS_ACT_SOFTSIGN] = ENTRY(softsign),
    [GS_ACT_HARD_TANH] = ENTRY(hardtanh),
};
#undef ENTRY

const ENTRY_T *TABLE_GET(int act)
{
    assert(act >= 0 && act < GS_ACT__COUNT);
    return &S(acts)[act];
}

#undef C
