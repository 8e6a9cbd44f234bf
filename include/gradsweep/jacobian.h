/* Input-output Jacobians of the net and their singular values (dynamical isometry, Pennington
 * et al. 2017). J = d h_{L-1} / d x for one input x [n[0]]: a [n[L]][n[0]] matrix (row-major),
 * with the net in evaluation mode (batchnorm uses its running statistics; layernorm and the
 * residual skips are differentiated exactly), accumulated in float64. */
#ifndef GRADSWEEP_JACOBIAN_H
#define GRADSWEEP_JACOBIAN_H

#include <stddef.h>

#include "gradsweep/net.h"
#include "gradsweep/status.h"

/* Doubles of workspace gs_net_jacobian / gs_netf_jacobian need for net. */
size_t gs_net_jacobian_work(const gs_net *net);
size_t gs_netf_jacobian_work(const gs_netf *net);

/* J [n[L]][n[0]] for input x [n[0]]. Overwrites the net's activation scratch (as forward_eval
 * does with a batch of one row) and nothing else; does not allocate. */
void gs_net_jacobian(gs_net *net, const double *x, double *J, double *work);
void gs_netf_jacobian(gs_netf *net, const float *x, double *J, double *work);

/* Doubles of workspace gs_jacobian_svals needs for a rows x cols matrix. */
size_t gs_jacobian_svals_work(size_t rows, size_t cols);

/* Singular values of J [rows][cols] (overwritten) into sv [min(rows, cols)], descending, with
 * GSL's one-sided Jacobi or Golub-Reinsch SVD; does not allocate. Non-finite entries give
 * NaN singular values. */
void gs_jacobian_svals(double *J, size_t rows, size_t cols, double *sv, double *work);

#endif
