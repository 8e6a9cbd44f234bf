/* In-memory data sets: allocation, the synthetic generators (gaussian_mixture, teacher, spirals,
 * random_labels), seeded only from the caller's RNG, and feature standardization. The file
 * loaders live in hdf5.c and idx.c; nothing here knows about sweeps. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>

#include "gradsweep/data.h"
#include "gradsweep/net.h"

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

/* Validates the shared synthetic keys; the message names the kind. */
static gs_status check_synth(const char *kind, const gs_run_config *cfg, int64_t classes,
                             int64_t dim, gs_error *err)
{
    if (classes < 1 || classes > INT32_MAX || dim < 1 || cfg->data_samples < 1 ||
        !(cfg->data_noise >= 0.0 && isfinite(cfg->data_noise)))
        return gs_error_set(err, GS_EINVAL,
                            "%s: need classes in [1, 2^31), dim >= 1, samples >= 1, finite noise "
                            ">= 0; got classes=%lld dim=%lld samples=%lld noise=%g",
                            kind, (long long)classes, (long long)dim, (long long)cfg->data_samples,
                            cfg->data_noise);
    return GS_OK;
}

/* Rows of the teacher's forward pass at a time: bounds its activations, not its result. */
#define TEACHER_CHUNK 1024

/* The teacher net's config: its depth, width and activation, init normal (W ~ N(0, 1/fan_in)),
 * zero biases, linear readout (mse). */
static gs_run_config teacher_config(const gs_run_config *cfg)
{
    gs_run_config t;
    gs_config_defaults(&t);
    t.depth = cfg->teacher_depth;
    t.width = cfg->teacher_width;
    t.activation = cfg->teacher_activation;
    t.init = GS_INIT_NORMAL;
    t.sigma_w = 1.0;
    t.sigma_b = 0.0;
    t.loss = GS_LOSS_MSE;
    t.steps = 1;
    return t;
}

gs_status gs_data_teacher(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng, gs_error *err)
{
    gs_status st = GS_OK;
    gs_dataset *ds = NULL;
    gs_net *net = NULL;
    *out = NULL;
    if ((st = check_synth("teacher", cfg, cfg->data_outputs, cfg->data_dim, err)))
        goto done;
    size_t d = (size_t)cfg->data_dim, k = (size_t)cfg->data_outputs;
    size_t n = (size_t)cfg->data_samples, chunk = n < TEACHER_CHUNK ? n : TEACHER_CHUNK;
    gs_run_config tc = teacher_config(cfg);
    if ((st = gs_dataset_create(&ds, n, d, k, 0, err)) ||
        (st = gs_net_create(&net, &tc, d, k, chunk, err))) {
        gs_error_prefix(err, "teacher");
        goto done;
    }
    for (size_t i = 0; i < n * d; i++)
        ds->x[i] = gsl_ran_gaussian(rng, 1.0);
    if ((st = gs_net_init(net, &tc, rng, err))) {
        gs_error_prefix(err, "teacher");
        goto done;
    }
    const double *o = net->h[net->n_layers - 1]; /* [chunk][k] readout, linear */
    for (size_t i0 = 0; i0 < n; i0 += chunk) {
        size_t B = n - i0 < chunk ? n - i0 : chunk;
        gs_net_forward(net, ds->x + i0 * d, B);
        for (size_t i = 0; i < B * k; i++)
            ds->y[i0 * k + i] = o[i];
    }
    if (cfg->data_noise > 0.0)
        for (size_t i = 0; i < n * k; i++)
            ds->y[i] += gsl_ran_gaussian(rng, cfg->data_noise);
    *out = ds;
    ds = NULL;
done:
    gs_net_destroy(net);
    gs_dataset_destroy(ds);
    return st;
}

gs_status gs_data_spirals(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng, gs_error *err)
{
    gs_status st = GS_OK;
    gs_dataset *ds = NULL;
    *out = NULL;
    if ((st = check_synth("spirals", cfg, cfg->data_classes, 2, err)))
        goto done;
    size_t K = (size_t)cfg->data_classes, n = (size_t)cfg->data_samples;
    if ((st = gs_dataset_create(&ds, n, 2, K, 1, err))) {
        gs_error_prefix(err, "spirals");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = i % K, q = i / K;
        size_t m = (n - c + K - 1) / K; /* samples of arm c: i = c, c + K, ... < n */
        double r = (double)(q + 1) / (double)m;
        double theta = 2.0 * M_PI * (double)c / (double)K + 2.0 * M_PI * r;
        double x0 = r * cos(theta), x1 = r * sin(theta);
        if (cfg->data_noise > 0.0) {
            x0 += gsl_ran_gaussian(rng, cfg->data_noise);
            x1 += gsl_ran_gaussian(rng, cfg->data_noise);
        }
        ds->x[2 * i] = x0;
        ds->x[2 * i + 1] = x1;
        ds->label[i] = (int32_t)c;
    }
    *out = ds;
    ds = NULL;
done:
    gs_dataset_destroy(ds);
    return st;
}

gs_status gs_data_random_labels(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng,
                                gs_error *err)
{
    gs_status st = GS_OK;
    gs_dataset *ds = NULL;
    *out = NULL;
    if ((st = check_synth("random_labels", cfg, cfg->data_classes, cfg->data_dim, err)))
        goto done;
    size_t c = (size_t)cfg->data_classes, d = (size_t)cfg->data_dim;
    size_t n = (size_t)cfg->data_samples;
    if ((st = gs_dataset_create(&ds, n, d, c, 1, err))) {
        gs_error_prefix(err, "random_labels");
        goto done;
    }
    for (size_t i = 0; i < n * d; i++)
        ds->x[i] = gsl_ran_gaussian(rng, 1.0);
    for (size_t i = 0; i < n; i++)
        ds->label[i] = (int32_t)gsl_rng_uniform_int(rng, (unsigned long)c);
    *out = ds;
    ds = NULL;
done:
    gs_dataset_destroy(ds);
    return st;
}

int gs_data_is_synthetic(int kind)
{
    return kind == GS_DATA_GAUSSIAN_MIXTURE || kind == GS_DATA_TEACHER || kind == GS_DATA_SPIRALS ||
           kind == GS_DATA_RANDOM_LABELS;
}

gs_status gs_data_generate(gs_dataset **out, const gs_run_config *cfg, gsl_rng *rng, gs_error *err)
{
    gs_status st;
    *out = NULL;
    switch (cfg->data_kind) {
    case GS_DATA_GAUSSIAN_MIXTURE:
        st = gs_data_gaussian_mixture(out, cfg, rng, err);
        break;
    case GS_DATA_TEACHER:
        st = gs_data_teacher(out, cfg, rng, err);
        break;
    case GS_DATA_SPIRALS:
        st = gs_data_spirals(out, cfg, rng, err);
        break;
    case GS_DATA_RANDOM_LABELS:
        st = gs_data_random_labels(out, cfg, rng, err);
        break;
    default:
        return gs_error_set(err, GS_EINVAL, "data kind %d is not synthetic", cfg->data_kind);
    }
    if (st == GS_OK && cfg->data_normalize)
        gs_data_normalize(*out);
    return st;
}

int gs_data_shape(const gs_run_config *cfg, int64_t *d, int64_t *k, int64_t *n)
{
    switch (cfg->data_kind) {
    case GS_DATA_GAUSSIAN_MIXTURE:
    case GS_DATA_RANDOM_LABELS:
        *d = cfg->data_dim;
        *k = cfg->data_classes;
        break;
    case GS_DATA_TEACHER:
        *d = cfg->data_dim;
        *k = cfg->data_outputs;
        break;
    case GS_DATA_SPIRALS:
        *d = 2;
        *k = cfg->data_classes;
        break;
    default:
        return 0;
    }
    *n = cfg->data_samples;
    return 1;
}

/* Two passes per feature (mean, then variance about it): the textbook one-pass formula loses
 * everything to cancellation when |mean| >> std. */
void gs_data_normalize(gs_dataset *ds)
{
    size_t n = ds->n, d = ds->d;
    for (size_t j = 0; j < d; j++) {
        double mean = 0.0, var = 0.0, lo = ds->x[j], hi = ds->x[j];
        for (size_t i = 0; i < n; i++) {
            double v = ds->x[i * d + j];
            mean += v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double e = ds->x[i * d + j] - mean;
            var += e * e;
        }
        double sd = sqrt(var / (double)n);
        int constant = !(lo < hi) || !(sd > 0.0);
        for (size_t i = 0; i < n; i++)
            ds->x[i * d + j] = constant ? 0.0 : (ds->x[i * d + j] - mean) / sd;
    }
}
