/* Input-output Jacobians of the net at one input (jac_impl.h, compiled once per precision) and
 * their singular values (GSL's one-sided Jacobi SVD). Everything runs in caller-provided
 * workspaces: no allocation, no failure, no printing. Not the probes that use them (train). */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* gsl_linalg.h brings GSL's CBLAS declarations (cblas_dgemm); OpenBLAS's cblas.h would clash with
 * them. The link order (BLAS before GSL, CMakeLists.txt) makes cblas_dgemm OpenBLAS's. */
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#include "gradsweep/jacobian.h"

/* a + b, saturating at SIZE_MAX (the caller's allocation then fails). */
static size_t sat_add(size_t a, size_t b)
{
    return b > SIZE_MAX - a ? SIZE_MAX : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
    return a != 0 && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

/* The Jacobian workspace, for m = the widest layer, k = min(n0, n_L) and n0:
 *   buf[2] [m][k] each  the running Jacobian and the next one
 *   skip   [m][k]       the pending residual block input's Jacobian (forward) or gradient
 *   d      [m]          a layer's diagonal factors
 *   col    [2 n0]       layernorm column means (forward mode)
 *   wbuf   [wmax]       a float32 W_l converted to double (wmax = 0 in float64). */
typedef struct {
    double *buf[2], *skip, *d, *col, *wbuf;
    size_t total;
} jac_layout;

/* The layout over work (NULL: only the total). */
static jac_layout jac_layout_make(size_t m, size_t k, size_t n0, size_t wmax, double *work)
{
    jac_layout w = {{NULL, NULL}, NULL, NULL, NULL, NULL, 0};
    size_t mk = sat_mul(m, k);
    w.total = sat_add(sat_add(sat_mul(3, mk), m), sat_add(sat_mul(2, n0), wmax));
    if (!work)
        return w;
    w.buf[0] = work;
    w.buf[1] = work + mk;
    w.skip = work + 2 * mk;
    w.d = work + 3 * mk;
    w.col = w.d + m;
    w.wbuf = w.col + 2 * n0;
    return w;
}

#define R double
#define R_IS_DOUBLE 1
#define NET gs_net
#define P(n) gs_net_##n
#define S(n) n##_d
#include "core/jac_impl.h"
#undef R
#undef R_IS_DOUBLE
#undef NET
#undef P
#undef S

#define R float
#define R_IS_DOUBLE 0
#define NET gs_netf
#define P(n) gs_netf_##n
#define S(n) n##_f
#include "core/jac_impl.h"
#undef R
#undef R_IS_DOUBLE
#undef NET
#undef P
#undef S

/* ---- singular values ---- */

size_t gs_jacobian_svals_work(size_t rows, size_t cols)
{
    size_t N = rows < cols ? rows : cols;
    return sat_add(rows < cols ? sat_mul(rows, cols) : 0, sat_mul(N, N));
}

/* Sorts v [n] in descending order (insertion sort: n is small, and glibc's qsort may allocate). */
static void sort_desc(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double t = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] < t; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
}

static void fill(double *v, size_t n, double x)
{
    for (size_t i = 0; i < n; i++)
        v[i] = x;
}

/* GSL's one-sided Jacobi SVD (gsl_linalg_SV_decomp_jacobi) needs M >= N and allocates nothing
 * (Golub-Reinsch, gsl_linalg_SV_decomp, allocates in its bidiagonalization). The matrix is first
 * scaled by a power of two 2^-e that brings its largest entry into [0.5, 1): exact, and the
 * column dot products then cannot overflow; the singular values are scaled back by 2^e. GSL is
 * called only on finite numbers, where its one remaining error (no convergence within its sweep
 * limit, GSL_ETOL) does not occur in practice; should it, its status maps to NaNs. */
void gs_jacobian_svals(double *J, size_t rows, size_t cols, double *sv, double *work)
{
    size_t N = rows < cols ? rows : cols, M = rows < cols ? cols : rows, cnt = rows * cols;
    double amax = 0.0;
    int e = 0;
    if (N == 0)
        return;
    for (size_t i = 0; i < cnt; i++) {
        if (!isfinite(J[i])) {
            fill(sv, N, (double)NAN);
            return;
        }
        amax = fmax(amax, fabs(J[i]));
    }
    if (amax == 0.0) {
        fill(sv, N, 0.0);
        return;
    }
    (void)frexp(amax, &e); /* amax = f 2^e, 0.5 <= f < 1 */
    double *A = J;         /* [M][N] */
    if (rows < cols) {
        A = work;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                A[j * rows + i] = ldexp(J[i * cols + j], -e);
    } else {
        for (size_t i = 0; i < cnt; i++)
            A[i] = ldexp(A[i], -e);
    }
    gsl_matrix_view a = gsl_matrix_view_array(A, M, N);
    gsl_matrix_view q = gsl_matrix_view_array(work + (rows < cols ? cnt : 0), N, N);
    gsl_vector_view s = gsl_vector_view_array(sv, N);
    if (gsl_linalg_SV_decomp_jacobi(&a.matrix, &q.matrix, &s.vector) != GSL_SUCCESS) {
        fill(sv, N, (double)NAN);
        return;
    }
    for (size_t i = 0; i < N; i++)
        sv[i] = ldexp(sv[i], e);
    sort_desc(sv, N);
}
