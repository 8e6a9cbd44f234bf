/* The activation table of the network core, private to src/core: per gs_act and per compute
 * precision one entry with f, f' and the fused forward/backward kernels that the net calls per
 * hidden layer. The public scalar interface (gs_act_f, gs_act_df, gs_act_alpha) is declared in
 * net.h. */
#ifndef GRADSWEEP_CORE_ACT_H
#define GRADSWEEP_CORE_ACT_H

#include <stddef.h>

/* al is the activation's parameter (leaky_relu slope, elu alpha; ignored by the others).
 * fwd: h[i] += b (row broadcast), a[i] = f(h[i]); h, a [B][n], b [n].
 * bwd: d[i] *= f'(h[i]) (computed from h or from a = f(h), whichever is exact and cheaper) and
 *      db[j] = sum_i d[i][j]; d, h, a [B][n], db [n]. */
#define GS_ACT_ENTRY_STRUCT(NAME, R)                                                               \
    typedef struct {                                                                               \
        R (*f)(R x, R al);                                                                         \
        R (*df)(R x, R al);                                                                        \
        void (*fwd)(R *restrict h, R *restrict a, const R *restrict b, size_t B, size_t n, R al);  \
        void (*bwd)(R *restrict d, const R *restrict h, const R *restrict a, R *restrict db,       \
                    size_t B, size_t n, R al);                                                     \
    } NAME;
GS_ACT_ENTRY_STRUCT(gs_act_entry, double)
GS_ACT_ENTRY_STRUCT(gs_act_entryf, float)
#undef GS_ACT_ENTRY_STRUCT

/* The entry of activation act (0 <= act < GS_ACT__COUNT) in float64 and in float32 arithmetic;
 * static storage. */
const gs_act_entry *gs_act_entry_get(int act);
const gs_act_entryf *gs_act_entryf_get(int act);

#endif
