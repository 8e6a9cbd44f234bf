/* The activation table of the network core, private to src/core: per gs_act one entry with f, f'
 * and the fused forward/backward kernels that net.c calls per hidden layer. The public scalar
 * interface (gs_act_f, gs_act_df, gs_act_alpha) is declared in net.h. */
#ifndef GRADSWEEP_CORE_ACT_H
#define GRADSWEEP_CORE_ACT_H

#include <stddef.h>

/* al is the activation's parameter (leaky_relu slope, elu alpha; ignored by the others).
 * fwd: h[i] += b (row broadcast), a[i] = f(h[i]); h, a [B][n], b [n].
 * bwd: d[i] *= f'(h[i]) (computed from h or from a = f(h), whichever is exact and cheaper) and
 *      db[j] = sum_i d[i][j]; d, h, a [B][n], db [n]. */
typedef struct {
    double (*f)(double x, double al);
    double (*df)(double x, double al);
    void (*fwd)(double *restrict h, double *restrict a, const double *restrict b, size_t B,
                size_t n, double al);
    void (*bwd)(double *restrict d, const double *restrict h, const double *restrict a,
                double *restrict db, size_t B, size_t n, double al);
} gs_act_entry;

/* The entry of activation act (0 <= act < GS_ACT__COUNT); static storage. */
const gs_act_entry *gs_act_entry_get(int act);

#endif
