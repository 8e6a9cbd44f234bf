/* Data sets: synthetic generators (seeded from the run's RNG) and the HDF5 loader.
 * Knows nothing of sweeps. The loader is called once per distinct file before training starts,
 * so that worker threads never call HDF5. */
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

/* Loads x (float dataset [n, d]) and y (integer labels [n] or float targets [n, k]) from an HDF5
 * file. Errors (GS_EDATA / GS_EIO) name the file and dataset: missing file or dataset, wrong rank,
 * n mismatch, non-finite inputs or targets, negative labels or labels >= GS_CLASSES_MAX.
 * k = max label + 1 for labels. */
gs_status gs_data_load_hdf5(gs_dataset **out, const char *path, const char *x_name,
                            const char *y_name, gs_error *err);

#endif
