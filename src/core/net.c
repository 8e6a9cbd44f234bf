/* The fully-connected network core (float64): create, forward, loss, backward, gradient norms and
 * SGD (activations in act.c, inits in init.c). One allocation per block at create time; the kernels
 * never allocate, never fail and never print. Glossary as in net.h: B rows, L layers, layer l maps
 * n[l] to n[l+1]. */
#include <assert.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "core/act.h"
#include "gradsweep/net.h"
#include "gradsweep/opt.h"

/* Element loops are marked `omp simd` so they vectorise at -O2 too (GCC's -O2 cost model skips
 * loops that need an epilogue). Only loops without a cross-iteration reduction are marked, so the
 * results are bitwise those of the scalar loop. */
#ifdef _OPENMP
#define GS_SIMD _Pragma("omp simd")
#else
#define GS_SIMD
#endif

/* ---- create / destroy ---- */

/* a * b into *r; 0 on size_t overflow. */
static int mul_ok(size_t a, size_t b, size_t *r)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *r = a * b;
    return 1;
}

static int add_ok(size_t a, size_t b, size_t *r)
{
    if (b > SIZE_MAX - a)
        return 0;
    *r = a + b;
    return 1;
}

static gs_status check_shape(const gs_run_config *cfg, size_t d_in, size_t d_out, size_t max_batch,
                             gs_error *err)
{
    if (cfg->depth < 0 || cfg->depth > 100000)
        return gs_error_set(err, GS_EINVAL, "net: depth must be in [0, 100000], got %lld",
                            (long long)cfg->depth);
    if (cfg->width < 1)
        return gs_error_set(err, GS_EINVAL, "net: width must be >= 1, got %lld",
                            (long long)cfg->width);
    if (d_in < 1 || d_out < 1)
        return gs_error_set(err, GS_EINVAL,
                            "net: input and output dims must be >= 1, got d_in=%zu d_out=%zu", d_in,
                            d_out);
    if (max_batch < 1)
        return gs_error_set(err, GS_EINVAL, "net: max_batch must be >= 1");
    if (cfg->activation < 0 || cfg->activation >= GS_ACT__COUNT)
        return gs_error_set(err, GS_EINVAL, "net: unknown activation %d", cfg->activation);
    if (cfg->loss < 0 || cfg->loss >= GS_LOSS__COUNT)
        return gs_error_set(err, GS_EINVAL, "net: unknown loss %d", cfg->loss);
    return GS_OK;
}

/* CBLAS takes dimensions and leading dimensions as int. Every GEMM of layer l has M, N, K and
 * lda/ldb/ldc among B, n[l], n[l+1], so bounding those by INT_MAX makes every cast exact. */
static gs_status check_blas_dims(const size_t *n, size_t L, size_t B, gs_error *err)
{
    if (B > INT_MAX)
        return gs_error_set(err, GS_EINVAL,
                            "net: batch of %zu rows exceeds INT_MAX (%d), the CBLAS size limit", B,
                            INT_MAX);
    for (size_t l = 0; l < L; l++)
        if (n[l] > INT_MAX || n[l + 1] > INT_MAX)
            return gs_error_set(err, GS_EINVAL,
                                "net: layer %zu (%zu -> %zu units) has a dimension above INT_MAX "
                                "(%d), the CBLAS size limit",
                                l, n[l], n[l + 1], INT_MAX);
    return GS_OK;
}

/* Sizes of the blocks: parameters (weights then biases) and activations (h and a, [B][n[l+1]]
 * per layer, a only for hidden layers); 0 on overflow. */
static int block_sizes(const size_t *n, size_t L, size_t B, size_t *n_w, size_t *n_p, size_t *n_act,
                       size_t *max_n)
{
    size_t w = 0, bsum = 0, act = 0, mx = n[0], t;
    for (size_t l = 0; l < L; l++) {
        if (!mul_ok(n[l], n[l + 1], &t) || !add_ok(w, t, &w) || !add_ok(bsum, n[l + 1], &bsum))
            return 0;
        if (!mul_ok(B, n[l + 1], &t) || !add_ok(act, t, &act))
            return 0;
        if (l + 1 < L && !add_ok(act, t, &act))
            return 0;
        if (n[l + 1] > mx)
            mx = n[l + 1];
    }
    *n_w = w;
    *max_n = mx;
    *n_act = act;
    return add_ok(w, bsum, n_p);
}

gs_status gs_net_create(gs_net **out, const gs_run_config *cfg, size_t d_in, size_t d_out,
                        size_t max_batch, gs_error *err)
{
    gs_status st = GS_OK;
    gs_net *net = NULL;
    double *act = NULL;
    *out = NULL;
    st = check_shape(cfg, d_in, d_out, max_batch, err);
    if (st)
        goto done;
    net = calloc(1, sizeof *net);
    if (!net)
        goto nomem;
    size_t L = (size_t)cfg->depth + 1;
    net->n_layers = L;
    net->max_batch = max_batch;
    net->act = cfg->activation;
    net->alpha = gs_act_alpha(cfg);
    net->loss = cfg->loss;
    net->n = calloc(L + 1, sizeof *net->n);
    if (!net->n)
        goto nomem;
    net->n[0] = d_in;
    for (size_t l = 1; l < L; l++)
        net->n[l] = (size_t)cfg->width;
    net->n[L] = d_out;
    if ((st = check_blas_dims(net->n, L, max_batch, err)))
        goto done;

    size_t n_w, n_act, max_n, n_scr, n_prob;
    if (!block_sizes(net->n, L, max_batch, &n_w, &net->n_params, &n_act, &max_n) ||
        !mul_ok(max_batch, max_n, &n_scr) || !mul_ok(max_batch, d_out, &n_prob)) {
        st = gs_error_set(err, GS_EINVAL, "net: size overflow (depth %lld, width %lld, batch %zu)",
                          (long long)cfg->depth, (long long)cfg->width, max_batch);
        goto done;
    }
    net->params = calloc(net->n_params, sizeof *net->params);
    net->grads = calloc(net->n_params, sizeof *net->grads);
    net->delta = calloc(n_scr, sizeof *net->delta);
    net->delta2 = calloc(n_scr, sizeof *net->delta2);
    net->prob = calloc(n_prob, sizeof *net->prob);
    act = calloc(n_act, sizeof *act);
    net->w = calloc(L, sizeof *net->w);
    net->b = calloc(L, sizeof *net->b);
    net->dw = calloc(L, sizeof *net->dw);
    net->db = calloc(L, sizeof *net->db);
    net->h = calloc(L, sizeof *net->h);
    net->a = calloc(L, sizeof *net->a);
    if (!net->params || !net->grads || !net->delta || !net->delta2 || !net->prob || !act ||
        !net->w || !net->b || !net->dw || !net->db || !net->h || !net->a)
        goto nomem;

    /* Views: weights of all layers first, then biases; activations h[l] then a[l] per layer. The
     * readout is linear, so a[L-1] aliases h[L-1] rather than owning memory. */
    size_t pw = 0, pb = n_w, pa = 0;
    for (size_t l = 0; l < L; l++) {
        net->w[l] = net->params + pw;
        net->dw[l] = net->grads + pw;
        net->b[l] = net->params + pb;
        net->db[l] = net->grads + pb;
        pw += net->n[l] * net->n[l + 1];
        pb += net->n[l + 1];
        net->h[l] = act + pa;
        pa += max_batch * net->n[l + 1];
        if (l + 1 < L) {
            net->a[l] = act + pa;
            pa += max_batch * net->n[l + 1];
        } else {
            net->a[l] = net->h[l];
        }
    }
    act = NULL; /* owned by net->h[0] now */
    *out = net;
    net = NULL;
    goto done;
nomem:
    st = gs_error_set(err, GS_ENOMEM, "net: out of memory (depth %lld, width %lld, batch %zu)",
                      (long long)cfg->depth, (long long)cfg->width, max_batch);
done:
    free(act);
    gs_net_destroy(net);
    return st;
}

void gs_net_destroy(gs_net *net)
{
    if (!net)
        return;
    if (net->h)
        free(net->h[0]);
    free(net->n);
    free(net->params);
    free(net->grads);
    free(net->delta);
    free(net->delta2);
    free(net->prob);
    free(net->w);
    free(net->b);
    free(net->dw);
    free(net->db);
    free(net->h);
    free(net->a);
    free(net);
}

/* ---- forward, loss, backward ---- */

/* Readout: h[i] += b for each row; h [B][n], b [n]. */
static void add_bias(double *restrict h, const double *restrict b, size_t B, size_t n)
{
    for (size_t i = 0; i < B; i++) {
        GS_SIMD
        for (size_t j = 0; j < n; j++)
            h[i * n + j] += b[j];
    }
}

void gs_net_forward(gs_net *net, const double *x, size_t B)
{
    assert(B >= 1 && B <= net->max_batch);
    const gs_act_entry *e = gs_act_entry_get(net->act);
    size_t L = net->n_layers;
    const double *in = x; /* [B][n[l]] */
    for (size_t l = 0; l < L; l++) {
        size_t n_in = net->n[l], n_out = net->n[l + 1];
        /* h_l = a_{l-1} W_l^T: [B][n_in] x [n_out][n_in]^T -> [B][n_out] */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)n_out, (int)n_in, 1.0, in,
                    (int)n_in, net->w[l], (int)n_in, 0.0, net->h[l], (int)n_out);
        if (l + 1 < L) {
            e->fwd(net->h[l], net->a[l], net->b[l], B, n_out, net->alpha);
            in = net->a[l];
        } else {
            add_bias(net->h[l], net->b[l], B, n_out);
        }
    }
}

/* Cross entropy with a numerically stable log-softmax:
 * log p_j = h_j - m - log sum_k exp(h_k - m), m = max_k h_k; L = -mean_i log p_{i,y_i};
 * dL/dh_ij = (p_ij - [j == y_i]) / B. NaN or Inf in h propagates into the loss. */
static double xent(gs_net *net, const int32_t *labels, size_t B)
{
    size_t k = net->n[net->n_layers];
    const double *h = net->h[net->n_layers - 1]; /* [B][k] logits */
    double *p = net->prob, *d = net->delta;      /* [B][k] */
    double sum = 0.0, inv_b = 1.0 / (double)B;
    for (size_t i = 0; i < B; i++) {
        const double *hr = h + i * k;
        double *pr = p + i * k, *dr = d + i * k;
        double m = hr[0], s = 0.0;
        for (size_t j = 1; j < k; j++)
            m = hr[j] > m ? hr[j] : m;
        for (size_t j = 0; j < k; j++) {
            pr[j] = exp(hr[j] - m);
            s += pr[j];
        }
        size_t y = (size_t)labels[i];
        assert(labels[i] >= 0 && y < k);
        sum += m + log(s) - hr[y];
        double inv_s = 1.0 / s;
        for (size_t j = 0; j < k; j++) {
            pr[j] *= inv_s;
            dr[j] = pr[j] * inv_b;
        }
        dr[y] -= inv_b;
    }
    return sum * inv_b;
}

/* MSE, torch.nn.MSELoss convention: L = sum_ij (h_ij - t_ij)^2 / (B k),
 * dL/dh_ij = 2 (h_ij - t_ij) / (B k); t = targets row, or one-hot of the label. */
static double mse(gs_net *net, const int32_t *labels, const double *targets, size_t B)
{
    size_t k = net->n[net->n_layers];
    const double *h = net->h[net->n_layers - 1]; /* [B][k] outputs */
    double *d = net->delta;                      /* [B][k] */
    double sum = 0.0, scale = 2.0 / ((double)B * (double)k);
    for (size_t i = 0; i < B; i++) {
        for (size_t j = 0; j < k; j++) {
            double t = targets ? targets[i * k + j] : (labels[i] == (int32_t)j ? 1.0 : 0.0);
            double r = h[i * k + j] - t;
            sum += r * r;
            d[i * k + j] = scale * r;
        }
    }
    return sum / ((double)B * (double)k);
}

double gs_net_loss(gs_net *net, const int32_t *labels, const double *targets, size_t B)
{
    assert(B >= 1 && B <= net->max_batch);
    assert((labels == NULL) != (targets == NULL));
    if (net->loss == GS_LOSS_CROSS_ENTROPY) {
        assert(labels);
        return xent(net, labels, B);
    }
    return mse(net, labels, targets, B);
}

/* Column sums db[j] = sum_i d[i][j]; d [B][n]. */
static void col_sums(const double *restrict d, double *restrict db, size_t B, size_t n)
{
    memset(db, 0, n * sizeof *db);
    for (size_t i = 0; i < B; i++) {
        GS_SIMD
        for (size_t j = 0; j < n; j++)
            db[j] += d[i * n + j];
    }
}

/* Back-propagation (the three GEMMs of a layer are forward + these two):
 * dW_l = delta_l^T a_{l-1}, db_l = sum over rows of delta_l,
 * delta_{l-1} = (delta_l W_l) * f'(h_{l-1}), with a_{-1} = x. */
void gs_net_backward(gs_net *net, const double *x, size_t B)
{
    assert(B >= 1 && B <= net->max_batch);
    const gs_act_entry *e = gs_act_entry_get(net->act);
    size_t L = net->n_layers;
    double *d = net->delta, *d2 = net->delta2; /* [B][n[l+1]] and [B][n[l]] */
    col_sums(d, net->db[L - 1], B, net->n[L]);
    for (size_t l = L; l-- > 0;) {
        size_t n_in = net->n[l], n_out = net->n[l + 1];
        const double *in = l == 0 ? x : net->a[l - 1]; /* [B][n_in] */
        /* [n_out][B] x [B][n_in] -> [n_out][n_in] */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_out, (int)n_in, (int)B, 1.0, d,
                    (int)n_out, in, (int)n_in, 0.0, net->dw[l], (int)n_in);
        if (l == 0)
            break;
        /* [B][n_out] x [n_out][n_in] -> [B][n_in] */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)n_in, (int)n_out, 1.0,
                    d, (int)n_out, net->w[l], (int)n_in, 0.0, d2, (int)n_in);
        e->bwd(d2, net->h[l - 1], net->a[l - 1], net->db[l - 1], B, n_in, net->alpha);
        double *t = d;
        d = d2;
        d2 = t;
    }
}

void gs_net_grad_norms(const gs_net *net, double *norms)
{
    for (size_t l = 0; l < net->n_layers; l++)
        norms[l] = gs_opt_norm(net->dw[l], net->n[l] * net->n[l + 1]);
}

/* Plain SGD: theta <- theta - lr * grad over the single parameter block, in chunks of at most
 * INT_MAX elements: the CBLAS length is an int, the parameter count is not bounded by it. */
void gs_net_sgd(gs_net *net, double lr)
{
    for (size_t off = 0; off < net->n_params; off += INT_MAX) {
        size_t len = net->n_params - off < INT_MAX ? net->n_params - off : INT_MAX;
        cblas_daxpy((int)len, -lr, net->grads + off, 1, net->params + off, 1);
    }
}

int gs_net_bias_grads_finite(const gs_net *net)
{
    for (size_t l = 0; l < net->n_layers; l++) {
        const double *db = net->db[l]; /* [n[l+1]] */
        for (size_t j = 0; j < net->n[l + 1]; j++)
            if (!isfinite(db[j]))
                return 0;
    }
    return 1;
}
