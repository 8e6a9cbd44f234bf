/* The fully-connected network core: create, init, forward (training and evaluation mode), loss,
 * backward, gradient norms and SGD, compiled from net_impl.h once in float64 (gs_net_*) and once
 * in float32 (gs_netf_*): one code path, the BLAS s/d pattern. Activations in act.c, the
 * parameter draws in init.c. One allocation per block at create time; the kernels never
 * allocate, never fail and never print. Glossary as in net.h. */
#include <assert.h>
#include <float.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include <cblas.h>

#include "core/act.h"
#include "core/probe.h"
#include "gradsweep/net.h"
#include "gradsweep/opt.h"

/* Element loops are marked `omp simd` so they vectorise at -O2 too (GCC's -O2 cost model skips
 * loops that need an epilogue). Only loops without a cross-iteration reduction are marked, so the
 * results are bitwise those of the scalar loop. */
#ifdef _OPENMP
#define GS_SIMD _Pragma("omp simd")
#else
#define GS_SIMD
#endif

/* a * b into *r; 0 on size_t overflow. */
static int mul_ok(size_t a, size_t b, size_t *r)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *r = a * b;
    return 1;
}

static int add_ok(size_t a, size_t b, size_t *r)
{
    if (b > SIZE_MAX - a)
        return 0;
    *r = a + b;
    return 1;
}

/* The config checks that do not depend on the precision. */
static gs_status check_shape(const gs_run_config *cfg, size_t max_batch, gs_error *err)
{
    if (cfg->depth < 0 || cfg->depth > 100000)
        return gs_error_set(err, GS_EINVAL, "net: depth must be in [0, 100000], got %lld",
                            (long long)cfg->depth);
    if (cfg->width < 1)
        return gs_error_set(err, GS_EINVAL, "net: width must be >= 1, got %lld",
                            (long long)cfg->width);
    if (max_batch < 1)
        return gs_error_set(err, GS_EINVAL, "net: max_batch must be >= 1");
    if (cfg->activation < 0 || cfg->activation >= GS_ACT__COUNT)
        return gs_error_set(err, GS_EINVAL, "net: unknown activation %d", cfg->activation);
    if (cfg->loss < 0 || cfg->loss >= GS_LOSS__COUNT)
        return gs_error_set(err, GS_EINVAL, "net: unknown loss %d", cfg->loss);
    if (cfg->norm < 0 || cfg->norm >= GS_NORM__COUNT)
        return gs_error_set(err, GS_EINVAL, "net: unknown norm %d", cfg->norm);
    if (!(cfg->norm_eps > 0.0 && isfinite(cfg->norm_eps)) ||
        !(cfg->norm_momentum >= 0.0 && cfg->norm_momentum <= 1.0))
        return gs_error_set(err, GS_EINVAL,
                            "net: model.norm_eps must be finite and > 0 and norm_momentum in "
                            "[0, 1], got %g, %g",
                            cfg->norm_eps, cfg->norm_momentum);
    if (cfg->residual_every < 0 || !(cfg->residual_alpha >= 0.0 && isfinite(cfg->residual_alpha)))
        return gs_error_set(err, GS_EINVAL,
                            "net: model.residual_every must be >= 0 and residual_alpha finite and "
                            ">= 0, got %lld, %g",
                            (long long)cfg->residual_every, cfg->residual_alpha);
    return GS_OK;
}

/* CBLAS takes dimensions and leading dimensions as int. Every GEMM of layer l has M, N, K and
 * lda/ldb/ldc among B, n[l], n[l+1], so bounding those by INT_MAX makes every cast exact. */
static gs_status check_blas_dims(const size_t *n, size_t L, size_t B, gs_error *err)
{
    if (B > INT_MAX)
        return gs_error_set(err, GS_EINVAL,
                            "net: batch of %zu rows exceeds INT_MAX (%d), the CBLAS size limit", B,
                            INT_MAX);
    for (size_t l = 0; l < L; l++)
        if (n[l] > INT_MAX || n[l + 1] > INT_MAX)
            return gs_error_set(err, GS_EINVAL,
                                "net: layer %zu (%zu -> %zu units) has a dimension above INT_MAX "
                                "(%d), the CBLAS size limit",
                                l, n[l], n[l + 1], INT_MAX);
    return GS_OK;
}

#define R double
#define R_IS_DOUBLE 1
#define NET gs_net
#define P(n) gs_net_##n
#define S(n) n##_d
#define GEMM cblas_dgemm
#define AXPY cblas_daxpy
#define ACT_GET gs_act_entry_get
#define ENTRY_T gs_act_entry
#define NORM gs_opt_norm
#define HIST gs_probe_hist_add_d
#define PNORM gs_probe_norm_d
#include "core/net_impl.h"
#undef R
#undef R_IS_DOUBLE
#undef NET
#undef P
#undef S
#undef GEMM
#undef AXPY
#undef ACT_GET
#undef ENTRY_T
#undef NORM
#undef HIST
#undef PNORM

#define R float
#define R_IS_DOUBLE 0
#define NET gs_netf
#define P(n) gs_netf_##n
#define S(n) n##_f
#define GEMM cblas_sgemm
#define AXPY cblas_saxpy
#define ACT_GET gs_act_entryf_get
#define ENTRY_T gs_act_entryf
#define NORM gs_opt_normf
#define HIST gs_probe_hist_add_f
#define PNORM gs_probe_norm_f
#include "core/net_impl.h"
