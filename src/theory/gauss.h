/* Gaussian expectations of an activation by GSL adaptive quadrature, private to src/theory (and
 * its unit test): E[g(m + s z)] over z ~ N(0, 1) and the two-point expectations
 * E[g(u1) g(u2)] of a correlated Gaussian pair, g = f or f'. No I/O; the context owns two GSL
 * workspaces (allocated once per th_ctx_init, never in the integrands). */
#ifndef GRADSWEEP_THEORY_GAUSS_H
#define GRADSWEEP_THEORY_GAUSS_H

#include <gsl/gsl_integration.h>

#include "gradsweep/status.h"

/* Relative accuracy asked of every quadrature (GSL's own error estimate; see docs/theory.md). */
#define TH_TOL 1e-12
/* z is integrated over [-TH_ZMAX, TH_ZMAX]: the Gaussian mass beyond is 2e-28, and the largest
 * integrand, (m + s z)^2 phi(z), is below 1e-24 of its integral there. */
#define TH_ZMAX 11.0

/* Nodes of the cheap product rule of th_mean2_gh. */
#define TH_GH_N 64

/* Most breakpoints per integral. */
#define TH_KINKS 3

enum { TH_F = 0, TH_DF = 1 }; /* which function of the activation: f or f' */

typedef struct {
    int act;      /* gs_act */
    double alpha; /* its parameter */
    double tol;   /* relative (and, scaled, absolute) tolerance of each quadrature */
    int n_kinks;  /* breakpoints in x: where f or f' is not smooth, or 0 */
    double kinks[TH_KINKS];
    gsl_integration_workspace *ws_out, *ws_in; /* outer and inner (nested) integrals */
    gsl_integration_fixed_workspace *gh;       /* TH_GH_N-point Gauss-Hermite rule */
} th_ctx;

/* Prepares a context for activation act with parameter alpha (no validation of act beyond an
 * assert). GS_ENOMEM when a workspace cannot be allocated. */
gs_status th_ctx_init(th_ctx *c, int act, double alpha, gs_error *err);
void th_ctx_free(th_ctx *c);

/* g(x) = f(x)^pw or f'(x)^pw for fn = TH_F / TH_DF, pw 1 or 2. */
double th_g(const th_ctx *c, int fn, int pw, double x);

/* E[g(m + s z)], z ~ N(0, 1), s >= 0, to max(epsabs, tol |E|) by GSL's estimate. Kinks of f
 * are breakpoints. GS_EINVAL (with the point in the message) when the quadrature fails. */
gs_status th_mean1(th_ctx *c, int fn, int pw, double m, double s, double epsabs, double *out,
                   gs_error *err);

/* E[g(u1) g(u2)] for (u1, u2) Gaussian with mean 0, variances q and correlation rho in [0, 1],
 * g = f or f' (fn). Written as E_w[G(w)^2] with G(w) = E_v[g(sqrt(q rho) w + sqrt(q (1 - rho))
 * v)] (u_i = sqrt(q rho) w + sqrt(q (1 - rho)) v_i), a nested pair of 1-D quadratures whose
 * outer integrand is smooth wherever rho < 1. scale is a typical size of g (e.g. sqrt E[g(u)^2]):
 * the inner and outer absolute tolerances are tol scale and tol scale^2. */
gs_status th_mean2(th_ctx *c, int fn, double q, double rho, double scale, double *out,
                   gs_error *err);

/* E[f(u1) f(u2)] (ef) and E[f'(u1) f'(u2)] (edf) as th_mean2 does, but with a TH_GH_N-point
 * Gauss-Hermite rule in each of w and v: 2 TH_GH_N^2 evaluations, no error control. Accurate to
 * about 1e-8 for smooth activations at q of order 1, much less near kinks or for large q: a
 * cheap model of the c-map for the first Newton steps, never a result. */
void th_mean2_gh(const th_ctx *c, double q, double rho, double *ef, double *edf);

#endif
