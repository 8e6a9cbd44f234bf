/* Activations of the network core: one table entry per gs_act holding f, f' and the fused
 * forward/backward kernels (f inlined into the element loop), compiled once per compute
 * precision from act_impl.h. No allocation, no failure paths. Conventions at kinks follow PyTorch
 * and are stated per entry in act_impl.h. */
#include <assert.h>
#include <stddef.h>
#include <string.h>
#include <tgmath.h>

#include "core/act.h"
#include "gradsweep/net.h"

/* selu's fixed-point constants (Klambauer et al. 2017) and the Gaussian constants of gelu. */
#define SELU_L 1.0507009873554804934193349852946
#define SELU_A 1.6732632423543772848170429916717
#define INV_SQRT2 0.70710678118654752440084436210485
#define INV_SQRT_2PI 0.39894228040143267793994605993438

/* Element loops are marked `omp simd` so they vectorise at -O2 too (GCC's -O2 cost model skips
 * loops that need an epilogue). Only loops without a cross-iteration reduction are marked, so the
 * results are bitwise those of the scalar loop. */
#ifdef _OPENMP
#define GS_SIMD _Pragma("omp simd")
#else
#define GS_SIMD
#endif

#define R double
#define S(n) n##_d
#define ENTRY_T gs_act_entry
#define TABLE_GET gs_act_entry_get
#include "core/act_impl.h"
#undef R
#undef S
#undef ENTRY_T
#undef TABLE_GET

#define R float
#define S(n) n##_f
#define ENTRY_T gs_act_entryf
#define TABLE_GET gs_act_entryf_get
#include "core/act_impl.h"
#undef R
#undef S
#undef ENTRY_T
#undef TABLE_GET

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
