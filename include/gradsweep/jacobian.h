/* Input-output Jacobians of the net and their singular values (dynamical isometry, Pennington
 * et al. 2017). J = d h_{L-1} / d x for one input x [n[0]]: a [n[L]][n[0]] matrix (row-major),
 * with the net in evaluation mode (batchnorm uses its running statistics; layernorm and the
 * residual skips are differentiated exactly), accumulated in float64. */
#ifndef GRADSWEEP_JACOBIAN_H
#define GRADSWEEP_JACOBIAN_H

#include <stddef.h>

#include "gradsweep/net.h"
#include "gradsweep/status.h"

/* Doubles of workspace gs_net_jacobian / gs_netf_jacobian need for net: 3 m k + m + 2 n[0]
 * (+ the largest W_l for gs_netf, converted to double), m the widest layer, k = min(n[0], n[L]).
 * Saturates at SIZE_MAX. */
size_t gs_net_jacobian_work(const gs_net *net);
size_t gs_netf_jacobian_work(const gs_netf *net);

/* J [n[L]][n[0]] for input x [n[0]]. Runs forward_eval on the row, then multiplies the layers'
 * Jacobians in float64 with one GEMM per layer: forward mode (d/dx carried up, [n][n[0]]) when
 * n[0] <= n[L], else reverse mode (d y / d. carried down, [n[L]][n], as back-propagation); cost
 * 2 k sum_l n[l] n[l+1] flops, k = min(n[0], n[L]). Overwrites the net's activation scratch (as
 * forward_eval does with a batch of one row; so not between a training forward and its
 * backward) and nothing else: parameters, gradients and running statistics are untouched. Does
 * not allocate, cannot fail. A non-finite output (a diverged net) gives a J of NaNs. */
void gs_net_jacobian(gs_net *net, const double *x, double *J, double *work);
void gs_netf_jacobian(gs_netf *net, const float *x, double *J, double *work);

/* Doubles of workspace gs_jacobian_svals needs for a rows x cols matrix: N^2 (+ rows cols when
 * rows < cols), N = min(rows, cols). */
size_t gs_jacobian_svals_work(size_t rows, size_t cols);

/* Singular values of J [rows][cols] (overwritten) into sv [min(rows, cols)], descending, with
 * GSL's one-sided Jacobi SVD (gsl_linalg_SV_decomp_jacobi; Golub-Reinsch allocates) on J scaled
 * by an exact power of two, transposed into work when rows < cols; does not allocate. Non-finite
 * entries give NaN singular values without calling GSL; a GSL failure (not seen on finite input)
 * also gives NaNs, provided the program turned GSL's aborting error handler off (main does). */
void gs_jacobian_svals(double *J, size_t rows, size_t cols, double *sv, double *work);

#endif
