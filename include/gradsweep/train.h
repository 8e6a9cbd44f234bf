/* Training one run: data, net, minibatches, the step loop and what it records. Single-threaded;
 * no HDF5; all buffers sized at create time. */
#ifndef GRADSWEEP_TRAIN_H
#define GRADSWEEP_TRAIN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "gradsweep/config.h"
#include "gradsweep/data.h"
#include "gradsweep/spec.h"
#include "gradsweep/status.h"

/* ok: trained all steps; diverged: a non-finite loss or gradient ended the run; stopped: a
 * verdict listed in train.stop_on ended it (docs/probes.md). */
typedef enum { GS_RUN_OK = 0, GS_RUN_DIVERGED = 1, GS_RUN_STOPPED = 2 } gs_run_status;

/* What one run produced; the writer stores it. Sized for the run when created, filled by
 * gs_train_run. */
typedef struct {
    size_t n_layers;    /* L = depth + 1 */
    size_t *fan_in;     /* [L] */
    size_t *fan_out;    /* [L] */
    size_t d_in, d_out; /* resolved input and output dimension */
    size_t cap_rows;    /* capacity of the statistics arrays */
    size_t n_rows;      /* T: statistics rows recorded */
    int64_t *step;      /* [T] */
    double *loss;       /* [T] */
    double *grad_norm;  /* [T][L] Frobenius norm of dL/dW_l */

    /* Per-layer statistics of each row (docs/probes.md has every formula). [T][L] arrays have a
     * column per weight layer (the readout last), [T][H] arrays one per hidden layer,
     * H = L - 1. An array is NULL when record.level does not record it. */
    int level;           /* gs_level of the rows */
    double *delta_norm;  /* [T][L] ||dL/dh_l||_F over the batch (l = L-1: dL/d output) */
    double *q;           /* [T][L] mean over batch and units of h_l^2 */
    double *dead_frac;   /* [T][H] fraction of units with h <= 0 on every row (relu family;
                          * NaN for other activations) */
    double *sat_frac;    /* [T][H] fraction of (row, unit) entries with |f'(h)| < 0.01 f'(0)
                          * (tanh, sigmoid, softsign, hard_tanh; NaN for others) */
    double *delta_slope; /* [T] least-squares slope of ln delta_norm over hidden layers 0..H-1
                          * (per layer; NaN when H < 2) */
    /* standard and full */
    double *grad_mean_abs;    /* [T][L] mean |dL/dW_l| */
    double *grad_max_abs;     /* [T][L] max |dL/dW_l| */
    double *bias_grad_norm;   /* [T][L] ||dL/db_l|| (NULL without biases) */
    double *act_mean;         /* [T][H] mean of a_l = f(h_l) over batch and units */
    double *act_std;          /* [T][H] its standard deviation (population) */
    double *weight_norm;      /* [T][L] ||W_l||_F before the step's update */
    double *weight_dist_init; /* [T][L] ||W_l - W_l(step 0)||_F before the update */
    double *update_ratio;     /* [T][L] ||W_l after - W_l before the update||_F / ||W_l before||_F
                               * (NaN on a row whose step applied no update) */
    /* full */
    double *pe_grad_var; /* [T][L] per-example gradient variance (1/B) sum_i ||g_i - G||_F^2 */
    double *pe_grad_snr; /* [T][L] ||G||_F^2 / pe_grad_var */

    /* Histograms (record.hist; cap_hist is 0 when off): per histogram row and layer, counts of
     * entries with log10|v| in bin k = floor((log10|v| - min) / width), width = (max - min) /
     * bins, and 4 counts outside the bins: zero, below (0 < |v| < 10^min), above (|v| >= 10^max,
     * Inf included), nonfinite (NaN). Each layer's counts sum to its entry count. */
    size_t hist_bins;
    size_t cap_hist, n_hist; /* H: rows planned, rows taken */
    int64_t *hist_step;      /* [H] */
    int64_t *hist_grad;      /* [H][L][bins] entries of dL/dW_l */
    int64_t *hist_grad_out;  /* [H][L][4] zero, below, above, nonfinite */
    int64_t *hist_delta;     /* [H][L][bins] entries of dL/dh_l over the batch [B][n_l+1] */
    int64_t *hist_delta_out; /* [H][L][4] */

    /* Probe batch (record.activations / record.deltas / record.jacobian; probe_rows is 0 when
     * none is on): the fixed rows, and at each snapshot step s < n_snaps the tensors of an extra
     * training-mode forward/backward on the probe batch alone (it changes nothing: running
     * statistics are restored, the step's own pass comes after) */
    size_t probe_rows;    /* P */
    int64_t *probe_index; /* [P] sample index in the data set */
    double **probe_h;     /* [L] each [cap_snaps][P][fan_out[l]] pre-activation h_l, or NULL */
    double **probe_delta; /* [L] same shape, dL/dh_l (L the mean loss over the probe batch) */

    /* Jacobian spectrum (record.jacobian; cap_jac is 0 when off): J = d output / d input at the
     * first jac_inputs probe samples, evaluation-mode forward (batchnorm: running statistics) */
    size_t jac_inputs; /* m */
    size_t jac_rank;   /* r = min(d_in, d_out): singular values per input */
    size_t cap_jac, n_jac;
    int64_t *jac_step;   /* [J] step 0 and the snapshot steps */
    double *jac_sv;      /* [J][m][r] singular values, descending */
    double *jac_mean_sq; /* [J][m] mean of sigma^2 over the r values */
    double *jac_max;     /* [J][m] largest sigma */

    /* Verdict (docs/probes.md): the most severe state any row reached, and the first step
     * that reached it (-1 with healthy) */
    int verdict; /* gs_verdict */
    int64_t verdict_step;
    double delta_slope0; /* delta_slope at step 0 (NaN when not recorded) */

    /* [T] per row: the step's scheduled learning rate (gs_opt_lr), 1 when gradient clipping changed
     * the step's gradients, and the L2 norm over all weight and bias gradients before clipping */
    double *lr;
    int8_t *clipped;
    double *grad_norm_global;

    /* Held-out evaluation (train.eval_fraction > 0; cap_eval is 0 when off): per evaluated step,
     * the mean loss over the eval split and the fraction of eval samples whose argmax output is
     * the label (NaN for regression data), with the parameters that step's gradients used */
    size_t cap_eval;       /* E capacity: evaluation steps of a run that does not stop early */
    size_t n_eval_rows;    /* E: evaluations done */
    size_t n_eval_samples; /* size of the eval split (0 when off) */
    int64_t *eval_step;    /* [E] */
    double *eval_loss;     /* [E] */
    double *eval_accuracy; /* [E] */

    size_t cap_snaps;   /* planned snapshot steps */
    int64_t *snap_plan; /* [cap_snaps] planned snapshot steps */
    size_t n_snaps;     /* S: snapshots taken (fewer when the run diverged) */
    double **grads;     /* [L] each [cap_snaps][fan_out][fan_in] */
    double **weights;   /* [L] same, or NULL when record.weights is off */
    double **bgrads;    /* [L] each [cap_snaps][fan_out]: dL/db_l at the snapshot steps, or NULL
                         * (model.bias false) */
    double **biases;    /* [L] each [cap_snaps][fan_out]: b_l, or NULL (record.weights off or
                         * model.bias false) */

    /* Normalization parameters at the snapshot steps (model.norm != none; else all NULL): per
     * hidden layer l < n_norm = L - 1, each [cap_snaps][fan_out[l]] */
    size_t n_norm;         /* L - 1 with a norm, else 0 */
    double **ngrad_scale;  /* dL/dgamma_l */
    double **ngrad_shift;  /* dL/dbeta_l */
    double **nscale;       /* gamma_l (record.weights; else NULL) */
    double **nshift;       /* beta_l (record.weights; else NULL) */
    double **nrun_mean;    /* batchnorm running mean (record.weights and batchnorm; else NULL) */
    double **nrun_var;     /* batchnorm running variance (same condition) */
    int status;            /* gs_run_status */
    int64_t diverged_step; /* -1 when not diverged */
    int64_t steps_done;    /* steps completed (== cfg.steps when ok) */
    double final_loss;     /* loss at the last executed step */
    double final_eval_loss, final_eval_accuracy; /* the last eval row, NaN when none */
    double grad_norm0_first, grad_norm0_last;    /* grad_norm of layers 0 and L-1 at step 0 */
} gs_result;

/* Creates a result sized for run under rec, for a data set of dims d_in -> d_out. Like
 * gs_train_run, messages do not name the run. */
gs_status gs_result_create(gs_result **out, const gs_run *run, const gs_record *rec, size_t d_in,
                           size_t d_out, gs_error *err);
void gs_result_destroy(gs_result *res);

/* Trains one run. data is the preloaded data set for hdf5 runs and NULL for synthetic kinds
 * (generated here from the run's RNG; a borrowed data set is never modified). One
 * gsl_rng_mt19937 seeded with run->seed is the only source of randomness; draw order: data
 * (synthetic), the split permutation (one gsl_ran_shuffle of 0..n-1, only when
 * train.eval_fraction > 0: its last floor(n * eval_fraction) entries are the eval samples),
 * parameters (layer order), then one shuffle of the training sample order per epoch for
 * minibatches. Evaluation draws nothing and does not change training. If *stop becomes
 * non-zero the run is abandoned and GS_EINTR returned. On success *out holds a new result. A
 * step whose loss, a ||dW_l|| or a bias gradient is NaN/Inf ends the run as diverged (a result,
 * not an error). Errors: GS_EINVAL for a bad config, a batch larger than the training samples
 * or an empty eval split, GS_EDATA for data that does not fit the loss, GS_ENOMEM. Messages do
 * not name the run: the caller prefixes "run <id>: " (as the driver does). */
gs_status gs_train_run(gs_result **out, const gs_run *run, const gs_record *rec,
                       const gs_dataset *data, const atomic_int *stop, gs_error *err);

/* Name of the GSL generator used for every run ("mt19937"). */
const char *gs_train_rng_name(void);

#endif
