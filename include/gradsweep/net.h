/* The fully-connected network core (float64): parameters, forward, loss, backward, SGD.
 * All memory is allocated by gs_net_create; forward/backward/update never allocate and cannot
 * fail. Glossary: B batch rows, L = depth + 1 weight layers, layer l maps n[l] -> n[l+1]
 * (n[0] = input dim, n[1..depth] = width, n[L] = outputs). Matrices are row-major. */
#ifndef GRADSWEEP_NET_H
#define GRADSWEEP_NET_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "gradsweep/config.h"
#include "gradsweep/status.h"

typedef struct {
    size_t n_layers;   /* L = depth + 1 */
    size_t *n;         /* [L + 1] layer widths */
    size_t max_batch;  /* B */
    double *params;    /* all weights then biases, one block */
    double *grads;     /* same layout as params */
    double **w, **b;   /* [L] views: w[l] [n[l+1]][n[l]], b[l] [n[l+1]] */
    double **dw, **db; /* [L] views into grads */
    double **h;        /* [L] pre-activations [B][n[l+1]] (h[L-1] = logits / outputs) */
    double **a;        /* [L] post-activations [B][n[l+1]] of hidden layers (a[L-1] unused) */
    double *delta;     /* scratch [B][max n] back-propagated dL/dh */
    double *delta2;    /* scratch [B][max n] */
    double *prob;      /* [B][n[L]] softmax probabilities (cross entropy) */
    int act;           /* gs_act */
    double alpha;      /* the activation's parameter, gs_act_alpha(cfg) */
    int loss;          /* gs_loss */
    size_t n_params;
} gs_net;

/* Creates a net for cfg (depth, width, activation, loss) with input dim d_in, output dim d_out and
 * room for batches of up to max_batch rows. Parameters are zero until gs_net_init. GS_EINVAL for
 * a bad shape, including a layer width or batch above INT_MAX (CBLAS dimensions are int; the
 * message names the layer); GS_ENOMEM when the blocks cannot be allocated. */
gs_status gs_net_create(gs_net **out, const gs_run_config *cfg, size_t d_in, size_t d_out,
                        size_t max_batch, gs_error *err);

/* Frees a net; NULL is a no-op. */
void gs_net_destroy(gs_net *net);

/* Draws parameters from rng per cfg->init, sigma_w, sigma_b (and init_noise for identity; the
 * leaky_relu slope for he_*). Every layer, the readout included, with fan_in = n[l] and
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
 * layout; identity: only the noise, none when init_noise == 0), then b (none when sigma_b == 0).
 * GS_ENOMEM when the orthogonal workspace cannot be allocated, GS_EINVAL for an unknown init or
 * a failed QR; the parameters are then unspecified. */
gs_status gs_net_init(gs_net *net, const gs_run_config *cfg, gsl_rng *rng, gs_error *err);

/* Activation value and derivative (by enum) with parameter alpha (the leaky_relu slope, the elu
 * alpha; ignored by the other kinds). Conventions at kinks: relu'(0) = 0, leaky_relu'(0) = alpha,
 * elu'(0) = alpha, selu'(0) = lambda alpha, hard_tanh'(+-1) = 0 (PyTorch's). */
double gs_act_f(int act, double alpha, double x);
double gs_act_df(int act, double alpha, double x);

/* The activation parameter a config implies: leaky_alpha for leaky_relu, elu_alpha for elu, 0
 * otherwise. */
double gs_act_alpha(const gs_run_config *cfg);

/* Forward pass on x [B][n0]; fills h and a. */
void gs_net_forward(gs_net *net, const double *x, size_t B);

/* Loss of the last forward pass, averaged over the batch. Cross entropy: -mean log softmax(h)[y]
 * (needs labels). MSE: mean over batch and outputs of (out - t)^2, t = y row or one-hot(label)
 * (the torch.nn.MSELoss convention). Exactly one of labels / targets is non-NULL. Also stores the
 * loss gradient dL/dout in net->delta for gs_net_backward. */
double gs_net_loss(gs_net *net, const int32_t *labels, const double *targets, size_t B);

/* Backward pass from the loss gradient left by gs_net_loss, for the same x; fills dw, db. */
void gs_net_backward(gs_net *net, const double *x, size_t B);

/* Frobenius norm of dW_l for each layer into norms[L]. */
void gs_net_grad_norms(const gs_net *net, double *norms);

/* Whether every bias gradient db_l is finite. The step loop checks it with the norms of dW_l:
 * a NaN/Inf that reaches only a bias gradient still marks the step as diverged. O(sum n[l+1]). */
int gs_net_bias_grads_finite(const gs_net *net);

/* Plain SGD: params -= lr * grads (any number of parameters). */
void gs_net_sgd(gs_net *net, double lr);

#endif
