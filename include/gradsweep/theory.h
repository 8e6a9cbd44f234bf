/* Mean-field theory of signal propagation in deep random networks (Poole et al. 2016,
 * Schoenholz et al. 2017), computed with GSL quadrature: for an activation and the weight and
 * bias scales (sigma_w, sigma_b) of W_ij ~ N(0, sigma_w^2 / fan_in), b_i ~ N(0, sigma_b^2),
 *   q-map        q' = sigma_w^2 E[f(sqrt(q) z)^2] + sigma_b^2,   z ~ N(0, 1)
 *   q*           its fixed point reached from q = 1 (+Inf when q grows without bound)
 *   chi1         sigma_w^2 E[f'(sqrt(q*) z)^2]   (the mean squared singular value of a layer's
 *                Jacobian; E||delta_l||^2 changes by chi1 per layer)
 *   xi_grad      -1 / ln chi1 (gradient depth scale; negative when gradients grow, +Inf at 1)
 *   c*           fixed point of the correlation map for two inputs at q*
 *   chi_c        sigma_w^2 E[f'(u1) f'(u2)] at c*; xi_c = -1 / ln chi_c (correlation depth
 *                scale, +Inf at chi_c = 1)
 *   pred_slope   -0.5 ln chi1: the predicted slope of ln ||delta_l|| against the layer index l
 *                (input to output), the orientation of the measured delta_slope: a vanishing
 *                gradient (chi1 < 1) grows toward the output, so pred_slope > 0
 * All of it in docs/theory.md. Pure computation: no I/O, no allocation visible to callers. */
#ifndef GRADSWEEP_THEORY_H
#define GRADSWEEP_THEORY_H

#include "gradsweep/config.h"
#include "gradsweep/status.h"

typedef struct {
    double q_star; /* +Inf when the q-map has no finite fixed point */
    double chi1;   /* when q* = +Inf: the limit of chi1 as q -> Inf */
    double xi_grad;
    double c_star;
    double chi_c;
    double xi_c;
    double pred_slope;
} gs_theory;

/* Mean-field quantities for activation act (gs_act) with parameter alpha (gs_act_alpha: the
 * leaky_relu slope, the elu alpha, finite and >= 0; ignored otherwise). q* = 0 and Inf are
 * handled through the limit slopes of f, and c* is NaN where the limiting c-map is the identity
 * (docs/theory.md). GS_EINVAL for an unknown activation or sigma_w <= 0, sigma_b < 0 or
 * non-finite values, and when quadrature fails (the point is in the message); GS_ENOMEM when
 * GSL workspaces cannot be allocated. out is all NaN on failure. Thread-safe (no shared state);
 * the caller must have turned GSL's aborting error handler off. */
gs_status gs_theory_point(int act, double alpha, double sigma_w, double sigma_b, gs_theory *out,
                          gs_error *err);

/* The sigma_w at which chi1 = 1 for the given sigma_b (the order-to-chaos line), or GS_EINVAL
 * (sigma_w NaN) when chi1 = 1 has no solution in [0.001, 100] or chi1 jumps across 1 there
 * (gelu, swish with sigma_b = 0). */
gs_status gs_theory_critical(int act, double alpha, double sigma_b, double *sigma_w, gs_error *err);

/* The theory for a run config: the effective (sigma_w, sigma_b) of its hidden layers
 * (sigma_w^2 = fan_in Var(W_ij) of hidden layer 2, or layer 1 for depth 1, for the config's
 * init), and every field NaN when mean-field theory does not describe the net (model.norm,
 * residual blocks, identity init, depth 0). Never fails: a quadrature failure gives NaNs. */
void gs_theory_for_run(const gs_run_config *cfg, gs_theory *out);

#endif
