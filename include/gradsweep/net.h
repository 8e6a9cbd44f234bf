/* The fully-connected network core, compiled once per compute precision from one template:
 * gs_net (float64) and gs_netf (float32) have the same fields and the same functions (gs_net_*
 * and gs_netf_*). Parameters, activations and gradients are in the net's precision; the loss and
 * norms it reports are accumulated in float64. All memory is allocated by create; forward,
 * backward and update never allocate and cannot fail.
 * Glossary: B batch rows, L = depth + 1 weight layers, layer l maps n[l] -> n[l+1] (n[0] = input
 * dim, n[1..depth] the hidden widths, n[L] = outputs), hidden layers l < L - 1. Matrices are
 * row-major. Hidden layer l computes
 *   u = in W_l^T + b_l                        (GEMM; no b_l with model.bias false)
 *   h = gamma_l norm(u) + beta_l  or  h = u   (model.norm batchnorm / layernorm, or none)
 *   a = f(h)
 *   out_l = a, or out_{s-1} + alpha a at the end of a residual block starting at layer s,
 * and the readout h[L-1] = out_{L-2} W^T + b. */
#ifndef GRADSWEEP_NET_H
#define GRADSWEEP_NET_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "gradsweep/config.h"
#include "gradsweep/status.h"

/* The backward hook of the probes (src/core/probe.h): what back-propagation reports besides the
 * gradients. Private to the core. */
struct gs_net_probe;

#define GS_NET_STRUCT(NAME, R)                                                                     \
    typedef struct {                                                                               \
        size_t n_layers;  /* L = depth + 1 */                                                      \
        size_t *n;        /* [L + 1] layer widths */                                               \
        size_t max_batch; /* B */                                                                  \
        size_t n_params;  /* weights, then biases (with bias), then gammas, betas (with a norm) */ \
        R *params;        /* all parameters, one block */                                          \
        R *grads;         /* same layout as params */                                              \
        R **w, **b;       /* [L] views: w[l] [n[l+1]][n[l]], b[l] [n[l+1]] (no bias: zeros) */     \
        R **dw, **db;     /* [L] views into grads (no bias: db is scratch, not a parameter) */     \
        R **gamma, **beta;       /* [L-1] norm scale and shift [n[l+1]] (NULL without a norm) */   \
        R **dgamma, **dbeta;     /* [L-1] their gradients */                                       \
        R **run_mean, **run_var; /* [L-1] batchnorm running statistics [n[l+1]], or NULL */        \
        R **h;                   /* [L] pre-activations [B][n[l+1]] (h[L-1] = logits / outputs) */ \
        R **a;          /* [L] f(h) of hidden layers [B][n[l+1]] (a[L-1] aliases h[L-1]) */        \
        R **z;          /* [L-1] normalized u [B][n[l+1]] (NULL without a norm) */                 \
        R **istd;       /* [L-1] 1 / sqrt(var + eps): [n[l+1]] batchnorm, [B] layernorm */         \
        R **res;        /* [L-1] block output [B][n[l+1]] at residual block ends, else NULL */     \
        R **out;        /* [L-1] the input of layer l + 1: res[l] or a[l] */                       \
        size_t *res_in; /* [L-1] for a block end l: the layer whose out is the block's input, */   \
                        /* else SIZE_MAX */                                                        \
        R *delta;       /* scratch [B][max n] back-propagated dL/dh */                             \
        R *delta2;      /* scratch [B][max n] */                                                   \
        R *skip;        /* scratch [B][max n] the pending gradient of a residual skip */           \
        R *zero;        /* [max n] zeros: the biases of a net without biases */                    \
        R *dbias;       /* scratch [max n]: bias gradients of a net without biases */              \
        double *acc;    /* scratch [2][max(max n, B)]: normalization means and variances */        \
        R *prob;        /* [B][n[L]] softmax probabilities (cross entropy) */                      \
        int act;        /* gs_act */                                                               \
        R alpha;        /* the activation's parameter, gs_act_alpha(cfg) */                        \
        int loss;       /* gs_loss */                                                              \
        int bias;       /* 1 with bias vectors */                                                  \
        int norm;       /* gs_norm */                                                              \
        R norm_eps, norm_momentum;                                                                 \
        R res_alpha;                /* residual branch scale */                                    \
        struct gs_net_probe *probe; /* backward reports delta norms etc. through it; NULL: off */  \
    } NAME;
GS_NET_STRUCT(gs_net, double)
GS_NET_STRUCT(gs_netf, float)
#undef GS_NET_STRUCT

/* The functions, for NET = gs_net (R = double) and gs_netf (R = float):
 *
 * create(out, cfg, d_in, d_out, max_batch, err): a net for cfg (depth, widths, activation, loss,
 *   bias, norm, residual) with input dim d_in, output dim d_out and room for batches of up to
 *   max_batch rows. Weights and biases are zero until init; gamma = 1, beta = 0, running mean 0
 *   and running variance 1. GS_EINVAL for a bad shape, including a layer width or batch above
 *   INT_MAX (CBLAS dimensions are int; the message names the layer), batchnorm with max_batch < 2
 *   or a residual block whose input and output widths differ; GS_ENOMEM.
 * destroy(net): frees; NULL is a no-op.
 * init(net, cfg, rng, err): draws W and b (formulas below). The draws are made in float64 and
 *   rounded to R, so a float32 run starts from the rounded float64 parameters of the same seed.
 * forward(net, x, B): training-mode forward pass on x [B][n0] (batchnorm: batch statistics, and
 *   the running statistics are updated r = (1 - m) r + m s, with the unbiased batch variance for
 *   the running variance, as torch.nn.BatchNorm1d).
 * forward_eval(net, x, B): the same in evaluation mode (batchnorm: running statistics, no
 *   update); leaves nothing backward could use.
 * loss(net, labels, targets, B): loss of the last forward pass, averaged over the batch, in
 *   float64. Cross entropy: -mean log softmax(h)[y] (needs labels). MSE: mean over batch and
 *   outputs of (out - t)^2, t = y row or one-hot(label) (torch.nn.MSELoss). Exactly one of
 *   labels / targets is non-NULL. Leaves dL/dout in net->delta for backward.
 * backward(net, x, B): back-propagation from the loss gradient, for the same x as the last
 *   training-mode forward; fills dw, db, dgamma, dbeta, and leaves h and a as forward made
 *   them. With net->probe set (src/core/probe.h) it also reports, per layer, what exists only
 *   during the pass (the norm, histogram or a copy of dL/dh_l, the per-example norm products);
 *   the gradients are bitwise the same with or without it.
 * grad_norms(net, norms): Frobenius norm of dW_l for each layer into norms[L] (float64).
 * aux_grads_finite(net): whether every bias, gamma and beta gradient is finite; the step loop
 *   checks it with the norms of dW_l, so a NaN/Inf that reaches only those marks the step as
 *   diverged.
 * sgd(net, lr): params -= lr * grads. */
#define GS_NET_API(P, NET, R)                                                                      \
    gs_status P##_create(NET **out, const gs_run_config *cfg, size_t d_in, size_t d_out,           \
                         size_t max_batch, gs_error *err);                                         \
    void P##_destroy(NET *net);                                                                    \
    gs_status P##_init(NET *net, const gs_run_config *cfg, gsl_rng *rng, gs_error *err);           \
    void P##_forward(NET *net, const R *x, size_t B);                                              \
    void P##_forward_eval(NET *net, const R *x, size_t B);                                         \
    double P##_loss(NET *net, const int32_t *labels, const R *targets, size_t B);                  \
    void P##_backward(NET *net, const R *x, size_t B);                                             \
    void P##_grad_norms(const NET *net, double *norms);                                            \
    int P##_aux_grads_finite(const NET *net);                                                      \
    void P##_sgd(NET *net, R lr);
GS_NET_API(gs_net, gs_net, double)
GS_NET_API(gs_netf, gs_netf, float)
#undef GS_NET_API

/* Parameter draws (init) for each layer l, the readout included, with fan_in = n[l] and
 * fan_out = n[l+1]; W ~ N(0, s^2) or U(-a, a) with
 *   normal, lecun_normal  s = sigma_w / sqrt(fan_in)      (the same draws)
 *   normal_std            s = sigma_w
 *   uniform               a = sigma_w sqrt(3 / fan_in)
 *   xavier_normal         s = sigma_w sqrt(2 / (fan_in + fan_out))
 *   xavier_uniform        a = sigma_w sqrt(6 / (fan_in + fan_out))
 *   he_normal             s = sigma_w sqrt(2 / ((1 + alpha^2) fan_in))
 *   he_uniform            a = sigma_w sqrt(6 / ((1 + alpha^2) fan_in))
 * with alpha = model.leaky_alpha when the activation is leaky_relu, else 0. orthogonal: sigma_w Q,
 * Q the sign-corrected QR factor of a standard Gaussian matrix (W W^T = sigma_w^2 I when wide,
 * W^T W = sigma_w^2 I when tall). identity: sigma_w on the main diagonal, plus N(0, init_noise^2)
 * on every entry when init_noise > 0. Biases b ~ N(0, sigma_b^2), exactly 0 when sigma_b == 0.
 * Draw order: layers 0..L-1, each all of W (row-major; orthogonal: its Gaussian matrix in W's
 * layout; identity: only the noise, none when init_noise == 0), then b (none when sigma_b == 0 or
 * without biases). Norm parameters draw nothing.
 * gs_init_draw fills w[l] [n[l+1]][n[l]] and, when b is non-NULL, b[l] [n[l+1]] for l < L.
 * GS_ENOMEM when the orthogonal workspace cannot be allocated, GS_EINVAL for an unknown init or
 * a failed QR; the parameters are then unspecified. */
gs_status gs_init_draw(const gs_run_config *cfg, const size_t *n, size_t L, double **w, double **b,
                       gsl_rng *rng, gs_error *err);

/* Activation value and derivative (by enum) with parameter alpha (the leaky_relu slope, the elu
 * alpha; ignored by the other kinds), in float64. Conventions at kinks: relu'(0) = 0,
 * leaky_relu'(0) = alpha, elu'(0) = alpha, selu'(0) = lambda alpha, hard_tanh'(+-1) = 0
 * (PyTorch's). */
double gs_act_f(int act, double alpha, double x);
double gs_act_df(int act, double alpha, double x);

/* The activation parameter a config implies: leaky_alpha for leaky_relu, elu_alpha for elu, 0
 * otherwise. */
double gs_act_alpha(const gs_run_config *cfg);

#endif
