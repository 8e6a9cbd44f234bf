/* Mean-field theory of signal propagation (Poole et al. 2016, Schoenholz et al. 2017): the
 * q-map fixed point q*, chi1, the correlation map's fixed point c* and slope chi_c, the depth
 * scales, and the critical line chi1 = 1. Closed forms for the homogeneous piecewise-linear
 * activations (linear, relu, leaky_relu), GSL quadrature (gauss.c) and root finding for the rest.
 * Formulas, conventions and limits: docs/theory.md. Pure computation, no I/O. */
#include <assert.h>
#include <float.h>
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>

#include "gradsweep/net.h"
#include "gradsweep/theory.h"
#include "theory/gauss.h"

/* q-map search: the up and down sweeps multiply q by 4 (by 1e4 far from 1), growth is declared
 * unbounded past QMAX, and below QMIN a q-map that is not clearly growing (relative margin
 * QEPS, above the quadrature's 1e-12) has q* = 0. */
#define QMAX 1e200
#define QMIN 1e-14
#define QEPS 1e-10
/* critical line: sigma_w is scanned geometrically from SW_LO to SW_HI. */
#define SW_LO 1e-3
#define SW_HI 100.0
#define SW_GROW 1.25

static const double nan_ = (double)NAN;

static int is_homogeneous(int act)
{
    return act == GS_ACT_LINEAR || act == GS_ACT_RELU || act == GS_ACT_LEAKY_RELU;
}

/* Slopes of f at 0+ and 0- (the q -> 0 limit) and at +-infinity (the q -> Inf limit), read off
 * gs_act_df so they follow the core's f exactly: e.g. relu 1, 0 (both); elu 1, alpha at 0 and
 * 1, 0 at infinity; gelu 1/2, 1/2 at 0; bounded kinds 0, 0 at infinity. */
static void slopes0(int act, double alpha, double *sp, double *sm)
{
    *sp = gs_act_df(act, alpha, DBL_MIN);
    *sm = gs_act_df(act, alpha, -DBL_MIN);
}

static void slopes_inf(int act, double alpha, double *sp, double *sm)
{
    *sp = gs_act_df(act, alpha, DBL_MAX);
    *sm = gs_act_df(act, alpha, -DBL_MAX);
}

static double depth_scale(double chi)
{
    if (isnan(chi))
        return nan_;
    return chi == 1.0 ? HUGE_VAL : -1.0 / log(chi);
}

static void finish(gs_theory *t)
{
    t->xi_grad = depth_scale(t->chi1);
    t->xi_c = depth_scale(t->chi_c);
    t->pred_slope = 0.0 - 0.5 * log(t->chi1); /* 0, not -0, at chi1 = 1 */
}

/* The correlation map in the q -> 0 or q -> Inf limit, where f acts as the homogeneous
 * piecewise-linear function with slopes sp (x > 0) and sm (x < 0). Normalised by the next
 * layer's q, its slope at c = 1 is exactly 1 and it lies above the diagonal on [0, 1): c* = 1,
 * chi_c = 1. When sp == sm it is the identity, every c is fixed, and c* is undefined (NaN). */
static void cmap_limit(double sp, double sm, gs_theory *t)
{
    t->c_star = sp == sm ? nan_ : 1.0;
    t->chi_c = 1.0;
}

/* linear, relu, leaky_relu: f(x) = sp x (x > 0), sm x (x < 0), so E[f(sqrt(q) z)^2] = kappa q
 * with kappa = (sp^2 + sm^2) / 2, chi1 = sigma_w^2 kappa for every q, and the q-map is linear:
 * q* = sigma_b^2 / (1 - sigma_w^2 kappa) below 1, Inf above (and at 1 with sigma_b > 0); at 1
 * with sigma_b = 0 every q is fixed, so q* = 1 (the start). The c-map at finite q* > 0 is
 * sigma_w^2 (sp sm c + (sp - sm)^2 k1(c)) + sigma_b^2 / q*, k1 the arc-cosine kernel, with
 * slope chi1 < 1 at c = 1: ordered, c* = 1, chi_c = chi1. */
static void point_homogeneous(int act, double alpha, double sw, double sb, gs_theory *t)
{
    double sp = 1.0, sm = act == GS_ACT_LINEAR ? 1.0 : act == GS_ACT_RELU ? 0.0 : alpha;
    double chi = sw * sw * 0.5 * (sp * sp + sm * sm);
    if (fabs(chi - 1.0) <= 4.0 * DBL_EPSILON)
        chi = 1.0; /* sigma_w = sqrt(2) in double is critical relu, not 4e-16 off it */
    t->chi1 = chi;
    if (chi < 1.0)
        t->q_star = sb * sb / (1.0 - chi);
    else
        t->q_star = chi == 1.0 && sb == 0.0 ? 1.0 : HUGE_VAL;
    if (t->q_star > 0.0 && isfinite(t->q_star) && sb > 0.0) {
        t->c_star = 1.0;
        t->chi_c = chi;
    } else {
        cmap_limit(sp, sm, t); /* q* = 0, Inf, or the scale-free q* = 1 of sigma_b = 0 */
    }
    finish(t);
}

/* ---- the q-map of the other activations ---- */

typedef struct {
    th_ctx *c;
    double sw2, sb2;
    gs_status st;
    gs_error *err;
} qpar;

/* Q(q) / q - 1 with Q(q) = sigma_w^2 E[f(sqrt(q) z)^2] + sigma_b^2: its sign says whether the
 * q-map grows or shrinks q, scale-free over the 400 decades the search spans. */
static double qrel(double q, void *p)
{
    qpar *a = p;
    double e = 0.0;
    if (a->st != GS_OK)
        return 0.0;
    a->st = th_mean1(a->c, TH_F, 2, 0.0, sqrt(q), 0.0, &e, a->err);
    return (a->sw2 * e + a->sb2) / q - 1.0;
}

/* Brent's method on fn over [lo, hi] where fn changes sign, to relative width rtol. */
static gs_status brent(gsl_function *F, double lo, double hi, double rtol, double *root,
                       double *blo, double *bhi, gs_error *err)
{
    gs_status st = GS_OK;
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s)
        return gs_error_set(err, GS_ENOMEM, "cannot allocate a root solver");
    int rc = gsl_root_fsolver_set(s, F, lo, hi);
    for (int it = 0; rc == GSL_SUCCESS && it < 300; it++) {
        rc = gsl_root_fsolver_iterate(s);
        lo = gsl_root_fsolver_x_lower(s);
        hi = gsl_root_fsolver_x_upper(s);
        if (rc == GSL_SUCCESS && gsl_root_test_interval(lo, hi, 0.0, rtol) == GSL_SUCCESS)
            break;
    }
    *root = gsl_root_fsolver_root(s);
    *blo = lo;
    *bhi = hi;
    if (rc != GSL_SUCCESS)
        st = gs_error_set(err, GS_EINVAL, "root finding in [%.17g, %.17g] failed: %s", lo, hi,
                          gsl_strerror(rc));
    gsl_root_fsolver_free(s);
    return st;
}

/* q*: the fixed point the q-map reaches from q = 1. Q is increasing in q for these
 * activations, so the iterates move monotonically towards the nearest fixed point in the
 * direction of Q(1) - 1; it is bracketed by sweeping q by factors of 4 (1e4 far out) in that
 * direction and refined by Brent. Up past QMAX: +Inf. Down: with sigma_b > 0 or f(0) != 0
 * Q(0) > 0 stops the sweep; otherwise 0 is a fixed point, and when Q(q) < q (1 + QEPS) all the
 * way to QMIN, q* = 0. */
static gs_status qstar_quad(th_ctx *c, double sw, double sb, double *qs, gs_error *err)
{
    qpar a = {c, sw * sw, sb * sb, GS_OK, err};
    gsl_function F = {qrel, &a};
    int zero_fixed = sb == 0.0 && gs_act_f(c->act, c->alpha, 0.0) == 0.0;
    double lo = 1.0, hi = 1.0, d = qrel(1.0, &a);
    if (d > 0.0) { /* growing: sweep up until Q(hi) <= hi */
        while (a.st == GS_OK && d > 0.0) {
            hi = lo * (lo < 1e8 ? 4.0 : 1e4);
            if (hi > QMAX) {
                *qs = HUGE_VAL;
                return GS_OK;
            }
            d = qrel(hi, &a);
            if (d > 0.0)
                lo = hi;
        }
        if (d == 0.0)
            lo = hi;
    } else if (d < 0.0) { /* shrinking: sweep down until Q(lo) >= lo */
        double margin = zero_fixed ? QEPS : 0.0;
        while (a.st == GS_OK && d <= margin) {
            lo = hi / (hi > 1e-8 ? 4.0 : 1e4);
            if (zero_fixed && lo < QMIN) {
                *qs = 0.0;
                return GS_OK;
            }
            if (lo < 1e-300)
                return gs_error_set(err, GS_EINVAL,
                                    "q shrinks below 1e-300 without a fixed point "
                                    "(sigma_w = %.17g, sigma_b = %.17g)",
                                    sw, sb);
            d = qrel(lo, &a);
            if (d == 0.0 && !zero_fixed) {
                hi = lo;
                break;
            }
            if (d <= margin)
                hi = lo;
        }
    }
    if (a.st != GS_OK)
        return gs_error_prefix(err, "q-map");
    if (lo == hi) { /* Q(q) == q exactly at a probe */
        *qs = lo;
        return GS_OK;
    }
    double blo, bhi;
    gs_status st = brent(&F, lo, hi, 1e-14, qs, &blo, &bhi, err);
    if (st == GS_OK)
        st = a.st;
    return st == GS_OK ? GS_OK : gs_error_prefix(err, "q-map");
}

/* ---- chi1 and the correlation map of the other activations ---- */

/* chi1 at q*: sigma_w^2 E[f'(sqrt(q*) z)^2], or its limit at q* = 0 and Inf, where f' takes
 * the values sp (x > 0) and sm (x < 0) of the limit's slopes: sigma_w^2 (sp^2 + sm^2) / 2. */
static gs_status chi1_quad(th_ctx *c, double sw, double qs, double *chi, gs_error *err)
{
    double sp, sm, e = 0.0;
    if (qs == 0.0 || isinf(qs)) {
        if (qs == 0.0)
            slopes0(c->act, c->alpha, &sp, &sm);
        else
            slopes_inf(c->act, c->alpha, &sp, &sm);
        *chi = sw * sw * 0.5 * (sp * sp + sm * sm);
        return GS_OK;
    }
    gs_status st = th_mean1(c, TH_DF, 2, 0.0, sqrt(qs), 0.0, &e, err);
    *chi = sw * sw * e;
    return st;
}

/* The c-map at q* and its slope at rho:
 *   map(rho) = (sigma_w^2 E[f(u1) f(u2)] + sigma_b^2) / q*,  slope = sigma_w^2 E[f'(u1) f'(u2)]
 * (Price's theorem), u1, u2 ~ N(0, q*) with correlation rho. */
typedef struct {
    th_ctx *c;
    double sw2, sb2, q;
    double sf, sdf; /* sqrt E[f(u)^2], sqrt E[f'(u)^2]: the scales of the two integrands */
} cpar;

static gs_status cmap_eval(cpar *p, double rho, double *map, double *slope, gs_error *err)
{
    double ef = 0.0, edf = 0.0;
    gs_status st = th_mean2(p->c, TH_F, p->q, rho, p->sf, &ef, err);
    if (st == GS_OK)
        st = th_mean2(p->c, TH_DF, p->q, rho, p->sdf, &edf, err);
    *map = (p->sw2 * ef + p->sb2) / p->q;
    *slope = p->sw2 * edf;
    return st == GS_OK ? GS_OK : gs_error_prefix(err, "c-map at rho = %.17g", rho);
}

static void cmap_gh(const cpar *p, double rho, double *map, double *slope)
{
    double ef, edf;
    th_mean2_gh(p->c, p->q, rho, &ef, &edf);
    *map = (p->sw2 * ef + p->sb2) / p->q;
    *slope = p->sw2 * edf;
}

/* One safeguarded Newton step for g(rho) = map - rho = 0 inside the bracket [lo, hi]
 * (lo <= c* <= hi), which it narrows; returns the next iterate. g is convex with g(c*) = 0 =
 * g(1), so where g' = slope - 1 >= 0 rho is past the minimum of g and right of c*, whatever the
 * sign of a g near 1 that is below the quadrature's resolution; there it bisects. Where
 * g' < 0 the tangent's root lies left of c* (convexity) and Newton climbs from there. */
static double newton_step(double rho, double map, double slope, double *lo, double *hi)
{
    double g = map - rho, next;
    if (slope >= 1.0 || g < 0.0)
        *hi = rho;
    else
        *lo = rho;
    next = slope < 1.0 ? rho - g / (slope - 1.0) : 0.5 * (*lo + *hi);
    if (!(next >= *lo && next <= *hi))
        next = 0.5 * (*lo + *hi);
    return next;
}

/* c* and chi_c at a finite q* > 0. By Mehler's expansion E[f(u1) f(u2)] = sum_k a_k^2 rho^k,
 * so on [0, 1] the c-map is increasing and convex with map(1) = 1 and slope chi1 there, and
 * map(0) >= 0. Hence chi1 <= 1: c = 1 is the only fixed point in [0, 1] and attracts it
 * (ordered: c* = 1, chi_c = chi1); chi1 > 1: exactly one fixed point c* in [0, 1), stable
 * (chaotic), and g(rho) = map(rho) - rho is convex, positive below c* and negative between c*
 * and 1, so Newton from rho = 0 climbs monotonically to c*. The Newton steps run on the cheap
 * Gauss-Hermite model of the c-map (th_mean2_gh) until they converge, then on the adaptive
 * quadrature until a step is below 1e-7, after which the quadratic convergence leaves an error
 * of order 1e-14 / (1 - chi_c). chi_c at the last iterate: when that step was below 1e-10 (the
 * model was good), the adaptive slope at the iterate before plus the model's change of slope
 * across the step; else one more adaptive quadrature. */
static gs_status cstar_quad(th_ctx *c, double sw, double sb, double qs, double chi1, gs_theory *t,
                            gs_error *err)
{
    if (chi1 <= 1.0) {
        t->c_star = 1.0;
        t->chi_c = chi1;
        return GS_OK;
    }
    cpar p = {c, sw * sw, sb * sb, qs, sqrt(fmax(qs - sb * sb, 0.0)) / sw, sqrt(chi1) / sw};
    double lo = 0.0, hi = 1.0, rho = 0.0, map = 0.0, slope = 0.0;
    for (int it = 0; it < 60; it++) {
        cmap_gh(&p, rho, &map, &slope);
        double next = newton_step(rho, map, slope, &lo, &hi);
        int done = fabs(next - rho) < 1e-10;
        rho = next;
        if (done)
            break;
    }
    lo = 0.0;
    hi = 1.0;
    for (int it = 0; it < 60; it++) {
        gs_status st = cmap_eval(&p, rho, &map, &slope, err);
        if (st != GS_OK)
            return st;
        double next = newton_step(rho, map, slope, &lo, &hi);
        if (fabs(next - rho) < 1e-7) {
            double m0, s0, m1, s1, edf = 0.0;
            /* map(0) = 0 exactly for odd f and sigma_b = 0, where the quadrature leaves ~1e-29:
             * c* below the resolution of the c-map (1e-12) is 0 */
            t->c_star = next < 1e-12 ? 0.0 : next;
            if (fabs(next - rho) < 1e-10) {
                cmap_gh(&p, rho, &m0, &s0);
                cmap_gh(&p, next, &m1, &s1);
                t->chi_c = slope + (s1 - s0);
            } else { /* the model is poor here */
                st = th_mean2(c, TH_DF, qs, next, p.sdf, &edf, err);
                t->chi_c = p.sw2 * edf;
            }
            if (st == GS_OK && !(t->chi_c < 1.0)) /* not a stable fixed point: a bug */
                st = gs_error_set(err, GS_EINVAL,
                                  "c-map: Newton's method ended at rho = %.17g with slope "
                                  "%.17g >= 1",
                                  next, t->chi_c);
            return st;
        }
        rho = next;
    }
    return gs_error_set(err, GS_EINVAL, "c-map: Newton's method did not converge (rho = %.17g)",
                        rho);
}

static gs_status point_quad(int act, double alpha, double sw, double sb, gs_theory *t,
                            gs_error *err)
{
    th_ctx c;
    gs_status st = th_ctx_init(&c, act, alpha, err);
    if (st != GS_OK)
        return st;
    double sp, sm;
    if ((st = qstar_quad(&c, sw, sb, &t->q_star, err)) != GS_OK)
        goto done;
    if ((st = chi1_quad(&c, sw, t->q_star, &t->chi1, err)) != GS_OK)
        goto done;
    if (t->q_star == 0.0 || isinf(t->q_star)) {
        if (t->q_star == 0.0)
            slopes0(act, alpha, &sp, &sm);
        else
            slopes_inf(act, alpha, &sp, &sm);
        cmap_limit(sp, sm, t);
    } else if ((st = cstar_quad(&c, sw, sb, t->q_star, t->chi1, t, err)) != GS_OK) {
        goto done;
    }
    finish(t);
done:
    th_ctx_free(&c);
    return st;
}

static gs_status check_args(int act, double alpha, double sb, gs_error *err)
{
    if (act < 0 || act >= GS_ACT__COUNT)
        return gs_error_set(err, GS_EINVAL, "theory: unknown activation %d", act);
    if ((act == GS_ACT_LEAKY_RELU || act == GS_ACT_ELU) && !(isfinite(alpha) && alpha >= 0.0))
        return gs_error_set(err, GS_EINVAL, "theory: %s: alpha must be finite and >= 0, got %g",
                            gs_act_names[act], alpha);
    if (!(isfinite(sb) && sb >= 0.0))
        return gs_error_set(err, GS_EINVAL, "theory: %s: sigma_b must be finite and >= 0, got %g",
                            gs_act_names[act], sb);
    return GS_OK;
}

gs_status gs_theory_point(int act, double alpha, double sigma_w, double sigma_b, gs_theory *out,
                          gs_error *err)
{
    assert(out);
    gs_theory t = {nan_, nan_, nan_, nan_, nan_, nan_, nan_};
    gs_status st = check_args(act, alpha, sigma_b, err);
    if (st == GS_OK && !(isfinite(sigma_w) && sigma_w > 0.0))
        st = gs_error_set(err, GS_EINVAL, "theory: %s: sigma_w must be finite and > 0, got %g",
                          gs_act_names[act], sigma_w);
    if (st == GS_OK) {
        if (is_homogeneous(act))
            point_homogeneous(act, alpha, sigma_w, sigma_b, &t);
        else if ((st = point_quad(act, alpha, sigma_w, sigma_b, &t, err)) != GS_OK)
            gs_error_prefix(err, "theory: %s at sigma_w = %.17g, sigma_b = %.17g",
                            gs_act_names[act], sigma_w, sigma_b);
    }
    *out = t;
    return st;
}

/* ---- the critical line ---- */

typedef struct {
    th_ctx *c;
    double sb;
    double qs; /* q* of the last evaluation */
    gs_status st;
    gs_error *err;
} crpar;

/* chi1(sigma_w) - 1 at the given sigma_b. */
static double chi1_m1(double sw, void *p)
{
    crpar *a = p;
    double chi = 0.0;
    if (a->st != GS_OK)
        return 0.0;
    a->st = qstar_quad(a->c, sw, a->sb, &a->qs, a->err);
    if (a->st == GS_OK)
        a->st = chi1_quad(a->c, sw, a->qs, &chi, a->err);
    return chi - 1.0;
}

/* The first sign change of chi1 - 1 on a geometric grid from SW_LO to SW_HI, refined by Brent.
 * A change that is a jump (q* reached from q = 1 jumps, e.g. gelu with sigma_b = 0 from q* = 0
 * to Inf) is not a root. With sigma_b = 0 and f(0) = 0, chi1 = sigma_w^2 f'(0)^2 exactly while
 * q* = 0, and just above the point sigma_0 where that reaches 1 (tanh: sigma_0 = 1) chi1 - 1 =
 * O(q*^2) is below the quadrature's resolution; a root found within 1e-5 of sigma_0 is sigma_0. */
static gs_status critical_quad(int act, double alpha, double sb, double *sw, gs_error *err)
{
    th_ctx c;
    gs_status st = th_ctx_init(&c, act, alpha, err);
    if (st != GS_OK)
        return st;
    crpar a = {&c, sb, 0.0, GS_OK, err};
    gsl_function F = {chi1_m1, &a};
    double lo = SW_LO, hi = SW_LO, dlo = chi1_m1(SW_LO, &a), dhi = dlo, blo, bhi;
    if (a.st == GS_OK && dlo >= 0.0) {
        st = gs_error_set(err, GS_EINVAL, "chi1 = %g >= 1 already at sigma_w = %g", dlo + 1.0,
                          SW_LO);
        goto done;
    }
    while (a.st == GS_OK && dhi < 0.0 && hi < SW_HI) {
        lo = hi;
        dlo = dhi;
        hi = fmin(hi * SW_GROW, SW_HI);
        dhi = chi1_m1(hi, &a);
    }
    if ((st = a.st) != GS_OK)
        goto done;
    if (dhi < 0.0) {
        st = gs_error_set(err, GS_EINVAL,
                          "chi1 < 1 for every sigma_w in [%g, %g] (chi1 = %g "
                          "at %g): no critical point",
                          SW_LO, SW_HI, dhi + 1.0, SW_HI);
        goto done;
    }
    if (dhi == 0.0) {
        *sw = hi;
        goto done;
    }
    if ((st = brent(&F, lo, hi, 1e-14, sw, &blo, &bhi, err)) != GS_OK || (st = a.st) != GS_OK)
        goto done;
    double qlo, qhi;
    dlo = chi1_m1(blo, &a);
    qlo = a.qs;
    dhi = chi1_m1(bhi, &a);
    qhi = a.qs;
    if ((st = a.st) != GS_OK)
        goto done;
    if (fabs(dlo) > 1e-6 && fabs(dhi) > 1e-6) {
        st = gs_error_set(err, GS_EINVAL,
                          "chi1 jumps across 1 at sigma_w = %.10g (from %.6g to %.6g, as q* "
                          "reached from q = 1 jumps from %g to %g): no critical point",
                          *sw, dlo + 1.0, dhi + 1.0, qlo, qhi);
        goto done;
    }
    double sp, sm;
    slopes0(act, alpha, &sp, &sm);
    if (sb == 0.0 && gs_act_f(act, alpha, 0.0) == 0.0 && sp * sp + sm * sm > 0.0) {
        double s0 = 1.0 / sqrt(0.5 * (sp * sp + sm * sm));
        if (fabs(*sw - s0) <= 1e-5 * s0)
            *sw = s0;
    }
done:
    th_ctx_free(&c);
    return st;
}

gs_status gs_theory_critical(int act, double alpha, double sigma_b, double *sigma_w, gs_error *err)
{
    assert(sigma_w);
    *sigma_w = nan_;
    gs_status st = check_args(act, alpha, sigma_b, err);
    if (st != GS_OK)
        return st;
    if (is_homogeneous(act)) { /* chi1 = sigma_w^2 (sp^2 + sm^2) / 2 for every q */
        double sm = act == GS_ACT_LINEAR ? 1.0 : act == GS_ACT_RELU ? 0.0 : alpha;
        *sigma_w = sqrt(2.0 / (1.0 + sm * sm));
        return GS_OK;
    }
    st = critical_quad(act, alpha, sigma_b, sigma_w, err);
    if (st != GS_OK) {
        *sigma_w = nan_;
        gs_error_prefix(err, "theory: critical %s at sigma_b = %.17g", gs_act_names[act], sigma_b);
    }
    return st;
}

/* ---- the theory of a run ---- */

/* sigma_w of the mean-field convention, sqrt(fan_in Var(W_ij)), of a hidden layer fan_in ->
 * fan_out for the config's init (draws in net.h); NaN for identity. */
static double effective_sigma_w(const gs_run_config *cfg, double fan_in, double fan_out)
{
    double sw = cfg->sigma_w;
    double al = cfg->activation == GS_ACT_LEAKY_RELU ? cfg->leaky_alpha : 0.0;
    switch (cfg->init) {
    case GS_INIT_NORMAL:
    case GS_INIT_LECUN_NORMAL:
    case GS_INIT_UNIFORM:
        return sw;
    case GS_INIT_NORMAL_STD:
        return sw * sqrt(fan_in);
    case GS_INIT_XAVIER_NORMAL:
    case GS_INIT_XAVIER_UNIFORM:
        return sw * sqrt(2.0 * fan_in / (fan_in + fan_out));
    case GS_INIT_HE_NORMAL:
    case GS_INIT_HE_UNIFORM:
        return sw * sqrt(2.0 / (1.0 + al * al));
    case GS_INIT_ORTHOGONAL: /* rows of norm sigma_w when wide, columns when tall */
        return fan_out <= fan_in ? sw : sw * sqrt(fan_in / fan_out);
    default:
        return nan_;
    }
}

void gs_theory_for_run(const gs_run_config *cfg, gs_theory *out)
{
    assert(cfg && out);
    gs_theory t = {nan_, nan_, nan_, nan_, nan_, nan_, nan_};
    *out = t;
    if (cfg->depth < 1 || cfg->norm != GS_NORM_NONE || cfg->residual_every > 0 ||
        cfg->init == GS_INIT_IDENTITY || cfg->activation < 0 || cfg->activation >= GS_ACT__COUNT)
        return;
    /* hidden layer 2 (1 -> 2); a depth-1 net's only hidden layer reads the data, whose dim the
     * config does not hold for every data kind: its width stands in for fan_in */
    double fan_in = (double)gs_config_width(cfg, 0);
    double fan_out = cfg->depth >= 2 ? (double)gs_config_width(cfg, 1) : fan_in;
    if (!(fan_in > 0.0 && fan_out > 0.0))
        return;
    double sw = effective_sigma_w(cfg, fan_in, fan_out);
    double sb = cfg->bias ? cfg->sigma_b : 0.0;
    gs_error err;
    if (gs_theory_point(cfg->activation, gs_act_alpha(cfg), sw, sb, &t, &err) == GS_OK)
        *out = t;
}
