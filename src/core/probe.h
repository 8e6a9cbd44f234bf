/* Probes of a run, private to src/core: the per-layer statistics of a statistics row computed
 * from a net's state after its pass, log-magnitude histograms, the backward hook through which
 * the net reports what exists only during back-propagation, and the verdict rules
 * (docs/probes.md). Kernels here never allocate and never fail; only the histogram edges are
 * allocated, at setup. */
#ifndef GRADSWEEP_CORE_PROBE_H
#define GRADSWEEP_CORE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "gradsweep/net.h"
#include "gradsweep/status.h"

/* Counts outside the bins, in this order per layer: exactly 0, below (0 < |v| < 10^lo), above
 * (|v| >= 10^hi, Inf included), NaN. */
#define GS_PROBE_HIST_OUT 4

/* Binning of log10 |v| into `bins` bins of width (hi - lo) / bins. Membership is decided by
 * comparing |v| with the edges edge[j] = 10^(lo + j width) (edge[bins] = 10^hi), computed once,
 * so a value exactly on an edge always lands in the bin that edge opens. */
typedef struct {
    size_t bins;
    double lo, width;
    double *edge; /* [bins + 1] */
} gs_probe_hist;

/* Edges for bins > 0 and finite lo < hi. GS_EINVAL otherwise, GS_ENOMEM. */
gs_status gs_probe_hist_init(gs_probe_hist *h, size_t bins, double lo, double hi, gs_error *err);
void gs_probe_hist_free(gs_probe_hist *h);

/* Adds the n values of v to counts [bins] and out [GS_PROBE_HIST_OUT]. */
void gs_probe_hist_add_d(const gs_probe_hist *h, const double *v, size_t n, int64_t *counts,
                         int64_t *out);
void gs_probe_hist_add_f(const gs_probe_hist *h, const float *v, size_t n, int64_t *counts,
                         int64_t *out);

/* The backward hook (net->probe). backward fills, for each layer l < L whose pointer is set:
 * delta_norm[l] = ||dL/dh_l|| over the batch (the readout: dL/d output); pe_norm[l] =
 * sqrt(sum_i ||dL/du_l row i||^2 ||x_l row i||^2) with x_l the layer's input (pe_scratch holds
 * max_batch doubles); histogram counts of the entries of dL/dh_l added to hist_counts + l bins
 * and hist_out + l GS_PROBE_HIST_OUT; and a copy of dL/dh_l [B][n[l+1]] in capture[l]. Reading
 * these never changes what backward computes. */
struct gs_net_probe {
    double *delta_norm; /* [L] or NULL */
    double *pe_norm;    /* [L] or NULL */
    double *pe_scratch; /* [max_batch] with pe_norm */
    const gs_probe_hist *hist;
    int64_t *hist_counts; /* [L][bins], with hist */
    int64_t *hist_out;    /* [L][GS_PROBE_HIST_OUT], with hist */
    double **capture;     /* [L] each [B][n[l+1]], or NULL */
};

/* How the forward statistics classify units: dead (ReLU family: relu, leaky_relu, elu, selu;
 * h <= 0) and saturated (tanh, sigmoid, softsign, hard_tanh: |f'(h)| < 0.01 f'(0)). The
 * saturation test is a threshold on |h| equivalent to the derivative test: tanh
 * |h| > atanh(sqrt(0.99)) (1 - tanh^2 < 0.01), sigmoid twice that (sigma'(h) = tanh'(h / 2) / 4),
 * softsign |h| > 9 ((1 + |h|)^-2 < 0.01), hard_tanh |h| >= 1 (f' = 0 there, 1 inside). */
typedef struct {
    int dead;     /* 1: ReLU family, dead_frac is defined */
    int sat;      /* 1: saturating activation, sat_frac is defined */
    double sat_t; /* threshold on |h| */
    int sat_incl; /* 1: saturated when |h| >= sat_t, 0: when |h| > sat_t */
} gs_probe_act;

gs_probe_act gs_probe_act_of(int act);

/* Forward statistics of the last training pass of B rows: q[l] = mean h_l^2 for every l < L;
 * for hidden layers l < L - 1 dead[l], sat[l] (NaN when the activation has none) and, when
 * amean is non-NULL, amean[l] and astd[l] (population) of a_l. alive is scratch [max n]. */
void gs_probe_forward_d(const gs_net *net, size_t B, const gs_probe_act *pa, unsigned char *alive,
                        double *q, double *dead, double *sat, double *amean, double *astd);
void gs_probe_forward_f(const gs_netf *net, size_t B, const gs_probe_act *pa, unsigned char *alive,
                        double *q, double *dead, double *sat, double *amean, double *astd);

/* ||v|| in float64 like gs_opt_norm (scaled when the squares would overflow or underflow), with
 * four interleaved accumulators: about four times faster, rounded differently. */
double gs_probe_norm_d(const double *v, size_t n);
double gs_probe_norm_f(const float *v, size_t n);

/* Per layer: mean and max of |dW_l| and, when bnorm is non-NULL, ||db_l||. NaN propagates. */
void gs_probe_grads_d(const gs_net *net, double *mean_abs, double *max_abs, double *bnorm);
void gs_probe_grads_f(const gs_netf *net, double *mean_abs, double *max_abs, double *bnorm);

/* Per layer ||W_l - ref_l|| with ref the weight block [n_w] in the net's layout (the initial
 * weights, or those before an update), and ||W_l|| (of ref when of_ref, else of the net's), in
 * one pass; with copy non-NULL the weights are also copied into it ([n_w], same layout). */
void gs_probe_wdist_d(const gs_net *net, const double *ref, double *dist, double *norm, int of_ref,
                      double *copy);
void gs_probe_wdist_f(const gs_netf *net, const float *ref, double *dist, double *norm, int of_ref,
                      float *copy);

/* Weights in the parameter block (they come first): sum of n[l] n[l+1]. */
size_t gs_probe_n_weights(const size_t *n, size_t L);

/* Least-squares slope of ln dn[l] against l for l < H; NaN when H < 2 or an entry is 0 or not
 * finite. */
double gs_probe_slope(const double *dn, size_t H);

/* Bit of a verdict state in a mask. */
#define GS_PROBE_BIT(v) (1u << (unsigned)(v))

/* The states that hold at a row (docs/probes.md), as a mask of GS_PROBE_BIT(gs_verdict): finite
 * is 0 when the loss or a gradient is NaN/Inf; loss0 the loss at step 0; dead and sat [H] and
 * delta_norm [H + 1] the row's statistics. GS_VERDICT_HEALTHY is set alone when nothing else
 * holds. */
unsigned gs_probe_states(double loss, int finite, double loss0, const double *dead,
                         const double *sat, const double *delta_norm, size_t H);

/* Severity rank of a verdict: diverged 5 > dead 4 > saturated 3 > exploding 2 > vanishing 1 >
 * healthy 0. */
int gs_probe_severity(int verdict);

/* The most severe state of a non-empty mask. */
int gs_probe_worst(unsigned mask);

/* Parses train.stop_on ("" or verdict names joined by ",") into a mask; GS_EINVAL for an
 * unknown name, "healthy", an empty item or an unterminated buffer. */
gs_status gs_probe_stop_mask(const char *s, size_t size, unsigned *mask, gs_error *err);

#endif
