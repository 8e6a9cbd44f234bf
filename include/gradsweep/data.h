/* Data sets: synthetic generators (seeded from the run's RNG), normalization, and the HDF5 and
 * idx loaders. Knows nothing of sweeps. The loaders are called once per distinct file before
 * training starts, so that worker threads never call HDF5 or zlib. */
#ifndef GRADSWEEP_DATA_H
#define GRADSWEEP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "gradsweep/config.h"
#include "gradsweep/status.h"

/* An in-memory data set. Either labels (classification, k = classes) or targets (regression). */
typedef struct {
    size_t n;       /* samples */
    size_t d;       /* input dimension */
    size_t k;       /* output dimension: number of classes, or target width */
    int has_labels; /* 1: label[] is set; 0: y[] is set */
    double *x;      /* [n][d] row-major */
    int32_t *label; /* [n], each in [0, k) ; NULL for regression */
    double *y;      /* [n][k] row-major; NULL for classification */
} gs_dataset;

/* Allocates an empty data set of the given shape (x and label or y). */
gs_status gs_dataset_create(gs_dataset **out, size_t n, size_t d, size_t k, int has_labels,
                            gs_error *err);

/* Frees a data set; NULL is a no-op. */
void gs_dataset_destroy(gs_dataset *ds);

/* Gaussian mixture: class means mu_c ~ N(0, separation^2 I_dim), drawn first, in class order;
 * then for sample i: label i mod classes, x_i = mu_label + N(0, I_dim). Draws only from rng. */
gs_status gs_data_gaussian_mixture(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng,
                                   gs_error *err);

/* Teacher regression: inputs x_i ~ N(0, I_dim) drawn first (row-major [samples][dim]); then the
 * teacher net (data.teacher_depth hidden layers of data.teacher_width units, activation
 * data.teacher_activation, data.outputs outputs, linear readout) with W ~ N(0, 1/fan_in) and zero
 * biases, drawn as gs_net_init draws init normal with sigma_w = 1, sigma_b = 0; targets
 * y_i = teacher(x_i), plus N(0, noise^2) per entry (row-major, drawn only when noise > 0). */
gs_status gs_data_teacher(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng, gs_error *err);

/* K-arm spirals in 2-D (K = data.classes): sample i belongs to arm c = i mod K and is the q-th
 * (q = i div K) of the m_c samples of that arm; with r = (q + 1) / m_c in (0, 1] and
 * theta = 2 pi c / K + 2 pi r, x_i = r (cos theta, sin theta) + noise * (z1, z2), z ~ N(0, I_2)
 * drawn per sample (z1 then z2) only when noise > 0. */
gs_status gs_data_spirals(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng, gs_error *err);

/* Random labels (memorisation): x_i ~ N(0, I_dim) for all samples first (row-major), then the
 * labels, each uniform in [0, classes) (gsl_rng_uniform_int), in sample order. */
gs_status gs_data_random_labels(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng,
                                gs_error *err);

/* 1 for the synthetic kinds (generated per run from its RNG), 0 for file kinds. */
int gs_data_is_synthetic(int kind);

/* Generates the data set of a synthetic kind (dispatch on cfg->data_kind) and, when
 * cfg->data_normalize, standardizes it. GS_EINVAL for a file kind. */
gs_status gs_data_generate(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng, gs_error *err);

/* Shape (d inputs, k outputs, n samples) of a synthetic kind's data set, known from the config;
 * returns 0 (and leaves the outputs alone) for file kinds, whose shape only the file tells. */
int gs_data_shape(const gs_run_config *cfg, int64_t *d, int64_t *k, int64_t *n);

/* Standardizes every input feature in place: x_j <- (x_j - mean_j) / std_j over the n samples
 * (population std, divisor n). A constant feature (all values equal) becomes exactly 0: centered,
 * never divided by 0. Targets and labels are untouched. */
void gs_data_normalize(gs_dataset *ds);

/* Loads the classic MNIST idx files: images (magic 0x00000803: unsigned bytes [n][rows][cols]) and
 * labels (magic 0x00000801: unsigned bytes [n], each 0..9), each plain or gzip (detected by its
 * magic 1f 8b). Pixels are scaled to [0, 1] (byte / 255); d = rows * cols, k = 10. limit > 0
 * keeps the first min(limit, n) samples. Every bad file (missing, truncated, wrong magic, count
 * mismatch, label out of range, zero or oversized dims) is GS_EDATA naming the file and field. */
gs_status gs_data_load_idx(gs_dataset **out, const char *images, const char *labels, int64_t limit,
                           gs_error *err);

/* Loads x (float dataset [n, d]) and y (integer labels [n] or float targets [n, k]) from an HDF5
 * file. Errors (GS_EDATA / GS_EIO) name the file and dataset: missing file or dataset, wrong rank,
 * n mismatch, non-finite inputs or targets, negative labels or labels >= GS_CLASSES_MAX.
 * k = max label + 1 for labels. */
gs_status gs_data_load_hdf5(gs_dataset **out, const char *path, const char *x_name,
                            const char *y_name, gs_error *err);

#endif
