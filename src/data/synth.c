/* In-memory data sets: allocation and the synthetic generators (gaussian mixture), seeded only
 * from the caller's RNG. The HDF5 loader lives in hdf5.c; nothing here knows about sweeps. */
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>

#include "gradsweep/data.h"

gs_status gs_dataset_create(gs_dataset **out, size_t n, size_t d, size_t k, int has_labels,
                            gs_error *err)
{
    gs_status st = GS_OK;
    gs_dataset *ds = NULL;
    *out = NULL;
    if (n < 1 || d < 1 || k < 1) {
        st = gs_error_set(err, GS_EINVAL, "data set: shape must be >= 1, got n=%zu d=%zu k=%zu", n,
                          d, k);
        goto done;
    }
    if (d > SIZE_MAX / sizeof(double) / n || k > SIZE_MAX / sizeof(double) / n) {
        st = gs_error_set(err, GS_EINVAL, "data set: size overflow (n=%zu d=%zu k=%zu)", n, d, k);
        goto done;
    }
    ds = calloc(1, sizeof *ds);
    if (!ds)
        goto nomem;
    ds->n = n;
    ds->d = d;
    ds->k = k;
    ds->has_labels = has_labels ? 1 : 0;
    ds->x = calloc(n * d, sizeof *ds->x);
    if (has_labels)
        ds->label = calloc(n, sizeof *ds->label);
    else
        ds->y = calloc(n * k, sizeof *ds->y);
    if (!ds->x || (has_labels ? !ds->label : !ds->y))
        goto nomem;
    *out = ds;
    ds = NULL;
    goto done;
nomem:
    st = gs_error_set(err, GS_ENOMEM, "data set: out of memory (n=%zu d=%zu k=%zu)", n, d, k);
done:
    gs_dataset_destroy(ds);
    return st;
}

void gs_dataset_destroy(gs_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->label);
    free(ds->y);
    free(ds);
}

/* Draw order (part of the reproducibility contract): all class means first, class by class,
 * mu_c ~ N(0, separation^2 I_dim); then samples in order, x_i = mu_{i mod classes} + N(0, I_dim).
 */
gs_status gs_data_gaussian_mixture(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng,
                                   gs_error *err)
{
    gs_status st = GS_OK;
    gs_dataset *ds = NULL;
    double *mu = NULL; /* [classes][dim] */
    *out = NULL;
    if (cfg->data_classes < 1 || cfg->data_dim < 1 || cfg->data_samples < 1 ||
        cfg->data_classes > INT32_MAX || !(cfg->data_separation >= 0.0)) {
        st = gs_error_set(err, GS_EINVAL,
                          "gaussian_mixture: need classes in [1, 2^31), dim >= 1, samples >= 1, "
                          "separation >= 0; got classes=%lld dim=%lld samples=%lld separation=%g",
                          (long long)cfg->data_classes, (long long)cfg->data_dim,
                          (long long)cfg->data_samples, cfg->data_separation);
        goto done;
    }
    size_t c = (size_t)cfg->data_classes, d = (size_t)cfg->data_dim, n = (size_t)cfg->data_samples;
    st = gs_dataset_create(&ds, n, d, c, 1, err);
    if (st) {
        gs_error_prefix(err, "gaussian_mixture");
        goto done;
    }
    mu = d <= SIZE_MAX / sizeof *mu / c ? malloc(c * d * sizeof *mu) : NULL;
    if (!mu) {
        st = gs_error_set(err, GS_ENOMEM, "gaussian_mixture: out of memory for %zu means", c);
        goto done;
    }
    for (size_t i = 0; i < c * d; i++)
        mu[i] = gsl_ran_gaussian(rng, cfg->data_separation);
    for (size_t i = 0; i < n; i++) {
        size_t y = i % c;
        ds->label[i] = (int32_t)y;
        for (size_t j = 0; j < d; j++)
            ds->x[i * d + j] = mu[y * d + j] + gsl_ran_gaussian(rng, 1.0);
    }
    *out = ds;
    ds = NULL;
done:
    free(mu);
    gs_dataset_destroy(ds);
    return st;
}
