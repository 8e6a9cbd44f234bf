/* Gaussian expectations of an activation, f or f', by GSL's adaptive Gauss-Kronrod quadrature
 * with the activation's kinks as breakpoints (gsl_integration_qagp). One- and two-point
 * expectations; the theory itself (fixed points, depth scales) is in theory.c. */
#include <assert.h>
#include <math.h>

#include <gsl/gsl_errno.h>

#include "gradsweep/config.h"
#include "gradsweep/net.h"
#include "theory/gauss.h"

#define INV_SQRT_2PI 0.39894228040143267793994605993438
/* Subintervals GSL may use per quadrature; smooth pieces need a few dozen. */
#define TH_LIMIT 400

gs_status th_ctx_init(th_ctx *c, int act, double alpha, gs_error *err)
{
    assert(act >= 0 && act < GS_ACT__COUNT);
    c->ws_out = c->ws_in = NULL;
    c->gh = NULL;
    c->act = act;
    c->alpha = alpha;
    c->tol = TH_TOL;
    /* Where f' jumps (or, for elu with alpha != 1 and selu, f' is continuous but f'' jumps):
     * splitting there keeps every piece smooth, so Gauss-Kronrod converges geometrically. */
    c->n_kinks = 0;
    if (act == GS_ACT_HARD_TANH) {
        c->kinks[c->n_kinks++] = -1.0;
        c->kinks[c->n_kinks++] = 1.0;
    } else {
        /* relu, leaky_relu, elu, selu: f' jumps at 0; softsign: f'' does. Every kind changes
         * on a scale of 1 around 0 (sigmoid(s z) is a step of width 1 / s, sigmoid'(s z) a
         * bump): breakpoints at 0 and +-4 let the bisection find those features however
         * narrow they are in z, starting from the ends of intervals. */
        c->kinks[c->n_kinks++] = -4.0;
        c->kinks[c->n_kinks++] = 0.0;
        c->kinks[c->n_kinks++] = 4.0;
    }
    c->ws_out = gsl_integration_workspace_alloc(TH_LIMIT);
    c->ws_in = gsl_integration_workspace_alloc(TH_LIMIT);
    /* weight exp(-x^2 / 2): |x - 0|^0 exp(-0.5 (x - 0)^2) */
    c->gh = gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, TH_GH_N, 0.0, 0.5, 0.0, 0.0);
    if (!c->ws_out || !c->ws_in || !c->gh) {
        th_ctx_free(c);
        return gs_error_set(err, GS_ENOMEM, "cannot allocate quadrature workspaces");
    }
    return GS_OK;
}

void th_ctx_free(th_ctx *c)
{
    if (c->ws_out)
        gsl_integration_workspace_free(c->ws_out);
    if (c->ws_in)
        gsl_integration_workspace_free(c->ws_in);
    if (c->gh)
        gsl_integration_fixed_free(c->gh);
    c->ws_out = c->ws_in = NULL;
    c->gh = NULL;
}

double th_g(const th_ctx *c, int fn, int pw, double x)
{
    double v = fn == TH_F ? gs_act_f(c->act, c->alpha, x) : gs_act_df(c->act, c->alpha, x);
    return pw == 2 ? v * v : v;
}

static double phi(double z)
{
    return INV_SQRT_2PI * exp(-0.5 * z * z);
}

/* The breakpoints of an integral over z of g(m + s z): -ZMAX, the kinks (x - m) / s inside,
 * ZMAX (increasing, as qagp needs). Returns their count (2..TH_KINKS + 2). */
static size_t breakpoints(const th_ctx *c, double m, double s, double *pts)
{
    size_t n = 0;
    pts[n++] = -TH_ZMAX;
    for (int k = 0; k < c->n_kinks; k++) {
        double z = (c->kinks[k] - m) / s;
        if (z > pts[n - 1] && z < TH_ZMAX)
            pts[n++] = z;
    }
    pts[n++] = TH_ZMAX;
    return n;
}

typedef struct {
    const th_ctx *c;
    int fn, pw;
    double m, s;
} one_par;

static double one_integrand(double z, void *p)
{
    const one_par *o = p;
    return th_g(o->c, o->fn, o->pw, o->m + o->s * z) * phi(z);
}

/* Accepts GSL's "roundoff" verdict when its own error estimate still meets the tolerance (it is
 * raised when bisection stops improving a result that is already at rounding level). */
static int quad_ok(int st, double res, double abserr, double epsabs, double tol)
{
    if (st == GSL_SUCCESS)
        return 1;
    return (st == GSL_EROUND || st == GSL_ESING) && isfinite(res) &&
           abserr <= 10.0 * fmax(epsabs, tol * fabs(res));
}

static gs_status mean1_ws(const th_ctx *c, gsl_integration_workspace *ws, int fn, int pw, double m,
                          double s, double epsabs, double *out, gs_error *err)
{
    if (s == 0.0) { /* a point mass */
        *out = th_g(c, fn, pw, m);
        return GS_OK;
    }
    one_par o = {c, fn, pw, m, s};
    gsl_function F = {one_integrand, &o};
    double pts[TH_KINKS + 2], res = 0.0, abserr = 0.0;
    size_t n = breakpoints(c, m, s, pts);
    int st = gsl_integration_qagp(&F, pts, n, epsabs, c->tol, TH_LIMIT, ws, &res, &abserr);
    if (!quad_ok(st, res, abserr, epsabs, c->tol))
        return gs_error_set(err, GS_EINVAL,
                            "quadrature of E[%s(%.17g + %.17g z)%s] failed: %s "
                            "(estimate %.17g, error %.3g)",
                            fn == TH_F ? "f" : "f'", m, s, pw == 2 ? "^2" : "", gsl_strerror(st),
                            res, abserr);
    *out = res;
    return GS_OK;
}

gs_status th_mean1(th_ctx *c, int fn, int pw, double m, double s, double epsabs, double *out,
                   gs_error *err)
{
    assert(s >= 0.0 && (pw == 1 || pw == 2));
    return mean1_ws(c, c->ws_in, fn, pw, m, s, epsabs, out, err);
}

typedef struct {
    const th_ctx *c;
    int fn;
    double a, b;   /* u = a w + b v */
    double epsin;  /* absolute tolerance of the inner integral */
    gs_status st;  /* first inner failure */
    gs_error *err; /* its message */
} two_par;

/* G(w)^2 phi(w), G(w) = E_v[g(a w + b v)]. The integrand cannot fail, so an inner failure is
 * recorded and reported after the outer integral. */
static double two_integrand(double w, void *p)
{
    two_par *t = p;
    double G = 0.0;
    if (t->st != GS_OK)
        return 0.0;
    t->st = mean1_ws(t->c, t->c->ws_in, t->fn, 1, t->a * w, t->b, t->epsin, &G, t->err);
    return G * G * phi(w);
}

gs_status th_mean2(th_ctx *c, int fn, double q, double rho, double scale, double *out,
                   gs_error *err)
{
    assert(q >= 0.0 && rho >= 0.0 && rho <= 1.0 && scale >= 0.0);
    double a = sqrt(q * rho), b = sqrt(q * (1.0 - rho));
    if (a == 0.0) { /* independent: E[g(u)]^2 */
        double G = 0.0;
        gs_status st = mean1_ws(c, c->ws_out, fn, 1, 0.0, b, c->tol * scale, &G, err);
        *out = G * G;
        return st;
    }
    if (b == 0.0) /* identical: E[g(u)^2] */
        return mean1_ws(c, c->ws_out, fn, 2, 0.0, a, 0.0, out, err);
    /* The outer integrand G(w)^2 is smooth but bends sharply near the kinks x_k = a w when b is
     * small: the same breakpoints in w. */
    two_par t = {c, fn, a, b, c->tol * scale, GS_OK, err};
    gsl_function F = {two_integrand, &t};
    double pts[TH_KINKS + 2], res = 0.0, abserr = 0.0, epsabs = c->tol * scale * scale;
    size_t n = breakpoints(c, 0.0, a, pts);
    int st = gsl_integration_qagp(&F, pts, n, epsabs, c->tol, TH_LIMIT, c->ws_out, &res, &abserr);
    if (t.st != GS_OK)
        return gs_error_prefix(err, "E[g(u1) g(u2)] at q = %.17g, rho = %.17g", q, rho);
    if (!quad_ok(st, res, abserr, epsabs, c->tol))
        return gs_error_set(err, GS_EINVAL,
                            "quadrature of E[%s(u1) %s(u2)] at q = %.17g, rho = %.17g "
                            "failed: %s (estimate %.17g, error %.3g)",
                            fn == TH_F ? "f" : "f'", fn == TH_F ? "f" : "f'", q, rho,
                            gsl_strerror(st), res, abserr);
    *out = res;
    return GS_OK;
}

void th_mean2_gh(const th_ctx *c, double q, double rho, double *ef, double *edf)
{
    const double *x = gsl_integration_fixed_nodes(c->gh),
                 *wt = gsl_integration_fixed_weights(c->gh);
    double a = sqrt(q * rho), b = sqrt(q * (1.0 - rho)), sf = 0.0, sdf = 0.0;
    for (size_t i = 0; i < TH_GH_N; i++) {
        double G = 0.0, Gd = 0.0;
        for (size_t j = 0; j < TH_GH_N; j++) {
            double u = a * x[i] + b * x[j];
            G += wt[j] * gs_act_f(c->act, c->alpha, u);
            Gd += wt[j] * gs_act_df(c->act, c->alpha, u);
        }
        G *= INV_SQRT_2PI;
        Gd *= INV_SQRT_2PI;
        sf += wt[i] * G * G;
        sdf += wt[i] * Gd * Gd;
    }
    *ef = sf * INV_SQRT_2PI;
    *edf = sdf * INV_SQRT_2PI;
}
