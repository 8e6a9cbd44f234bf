/* Optimizers, learning-rate schedules and gradient clipping over one flat parameter block (the
 * gs_net params/grads layout). State is allocated once by gs_optimizer_create; the step, the
 * schedule and clipping never allocate and cannot fail. No I/O, no threads. */
#ifndef GRADSWEEP_OPT_H
#define GRADSWEEP_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "gradsweep/config.h"
#include "gradsweep/status.h"

/* The state of one optimizer over n parameters. Glossary: p parameters, g gradients, t the
 * number of steps taken before this one (0-based), lr the scheduled learning rate of the step. */
typedef struct {
    int kind;            /* gs_opt */
    size_t n;            /* parameters */
    double momentum;     /* momentum: mu */
    int nesterov;        /* momentum: Nesterov's variant */
    double beta1, beta2; /* adam, adamw */
    double eps;          /* adam, adamw, rmsprop */
    double rho;          /* rmsprop: torch's alpha */
    double weight_decay; /* L2 coefficient (adamw: decoupled) */
    int64_t t;           /* steps taken */
    int dtype;           /* gs_dtype of the parameters (cfg train.dtype): float64 uses m, v */
    void *state;         /* one block of 0, 1 or 2 [n] vectors in dtype, zero at create */
    double *m;           /* [n] momentum buffer (momentum), first moment (adam, adamw), or NULL */
    double *v;           /* [n] second moment (adam, adamw), square average (rmsprop), or NULL */
    float *mf, *vf;      /* the same for float32 */
} gs_optimizer;

/* Creates the optimizer cfg->optimizer with cfg's hyper-parameters for n parameters of precision
 * cfg->dtype (its state has that precision; use gs_optimizer_step for float64, _stepf for
 * float32). GS_EINVAL for
 * an unknown kind or a hyper-parameter outside its range (message names the key); GS_ENOMEM. */
gs_status gs_optimizer_create(gs_optimizer **out, const gs_run_config *cfg, size_t n,
                              gs_error *err);

/* Frees an optimizer; NULL is a no-op. */
void gs_optimizer_destroy(gs_optimizer *opt);

/* One update of p [n] from g [n] with learning rate lr, PyTorch's conventions (wd = weight_decay,
 * d = g + wd p for every kind but adamw, state zero-initialised):
 *   sgd       p -= lr d
 *   momentum  b = mu b + d;  p -= lr (nesterov ? d + mu b : b)
 *   adam      m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2;  k = t + 1;
 *             p -= lr/(1 - b1^k) * m / (sqrt(v)/sqrt(1 - b2^k) + eps)
 *   adamw     p *= 1 - lr wd, then adam with d = g
 *   rmsprop   v = rho v + (1 - rho) d^2;  p -= lr d / (sqrt(v) + eps)
 * g is not modified. sgd with wd = 0 is the BLAS axpy of gs_net_sgd (bitwise the same). */
void gs_optimizer_step(gs_optimizer *opt, double *restrict p, const double *restrict g, double lr);

/* The same in float32 arithmetic (hyper-parameters and bias corrections computed in float64 and
 * rounded, as torch does for float32 tensors). */
void gs_optimizer_stepf(gs_optimizer *opt, float *restrict p, const float *restrict g, double lr);

/* The learning rate of step t (0-based) of a run of cfg->steps steps, with W = warmup:
 *   t < W         lr (t + 1) / W
 *   otherwise, t' = t - W, T' = steps - W:
 *     constant    lr
 *     cosine      lr (1 + cos(pi t' / T')) / 2
 *     step        lr gamma^floor(t' / step_size) */
double gs_opt_lr(const gs_run_config *cfg, int64_t t);

/* L2 norm of v [n], safe against under- and overflow of the sum of squares; NaN if any is NaN. */
double gs_opt_norm(const double *v, size_t n);

/* L2 norm of a float32 vector v [n], accumulated in float64 (which cannot under- or overflow for
 * float32 squares); NaN if any is NaN. */
double gs_opt_normf(const float *v, size_t n);

/* Clips g [n] in place per cfg and returns whether it changed anything. clip_norm c > 0: when
 * norm > c, g *= c / (norm + 1e-6) (torch clip_grad_norm_), norm being the caller's global norm
 * of g (gs_opt_norm); clip_value c > 0: every entry clamped to [-c, c], fired when any entry
 * was outside. Returns 0 and leaves g as is when both are 0. */
int gs_opt_clip(const gs_run_config *cfg, double *g, size_t n, double norm);
int gs_opt_clipf(const gs_run_config *cfg, float *g, size_t n, double norm);

#endif
