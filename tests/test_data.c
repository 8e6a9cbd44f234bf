/* The synthetic data kinds (teacher, spirals, random_labels) and gs_data_normalize: shapes, label
 * ranges, determinism given the RNG seed, the documented formulas and draw order, and the
 * statistics of standardized features. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "gradsweep/data.h"
#include "gradsweep/net.h"

static gs_run_config base(int kind)
{
    gs_run_config c;
    gs_config_defaults(&c);
    c.data_kind = kind;
    c.data_samples = 200;
    c.data_dim = 5;
    c.data_classes = 3;
    c.data_outputs = 2;
    c.teacher_depth = 2;
    c.teacher_width = 7;
    return c;
}

/* Generates kind c with a fresh mt19937 seeded with seed. */
static gs_dataset *gen(const gs_run_config *c, unsigned long seed)
{
    gs_error err = {0};
    gs_dataset *ds = NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    CHECK_EQ_INT(gs_data_generate(&ds, c, r, &err), GS_OK);
    if (!ds)
        fprintf(stderr, "%s\n", err.msg);
    gsl_rng_free(r);
    return ds;
}

static int same(const gs_dataset *a, const gs_dataset *b)
{
    if (a->n != b->n || a->d != b->d || a->k != b->k || a->has_labels != b->has_labels)
        return 0;
    if (memcmp(a->x, b->x, a->n * a->d * sizeof *a->x) != 0)
        return 0;
    return a->has_labels ? memcmp(a->label, b->label, a->n * sizeof *a->label) == 0
                         : memcmp(a->y, b->y, a->n * a->k * sizeof *a->y) == 0;
}

/* Same seed gives bitwise the same data set, another seed a different one. */
static void check_determinism(const gs_run_config *c)
{
    gs_dataset *a = gen(c, 7), *b = gen(c, 7), *o = gen(c, 8);
    if (a && b && o) {
        CHECK(same(a, b));
        CHECK(!same(a, o));
    }
    gs_dataset_destroy(a);
    gs_dataset_destroy(b);
    gs_dataset_destroy(o);
}

/* Shape, the N(0, 1/fan_in) teacher reproduced by hand with the same draws, and noise. */
static void test_teacher(void)
{
    gs_run_config c = base(GS_DATA_TEACHER);
    gs_dataset *ds = gen(&c, 3);
    if (!ds)
        return;
    CHECK_EQ_INT(ds->n, 200);
    CHECK_EQ_INT(ds->d, 5);
    CHECK_EQ_INT(ds->k, 2);
    CHECK_EQ_INT(ds->has_labels, 0);
    CHECK(ds->label == NULL);
    /* the documented draw order: x first, then the teacher as gs_net_init draws it */
    gs_run_config t;
    gs_config_defaults(&t);
    t.depth = 2;
    t.width = 7;
    t.activation = c.teacher_activation;
    t.sigma_w = 1.0;
    t.sigma_b = 0.0;
    t.loss = GS_LOSS_MSE;
    gs_net *net = NULL;
    gs_error err = {0};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 3);
    double *x = malloc(200 * 5 * sizeof *x);
    for (size_t i = 0; i < 200 * 5; i++)
        x[i] = gsl_ran_gaussian(r, 1.0);
    CHECK_EQ_INT(gs_net_create(&net, &t, 5, 2, 200, &err), GS_OK);
    CHECK_EQ_INT(gs_net_init(net, &t, r, &err), GS_OK);
    gs_net_forward(net, x, 200);
    double maxdiff = 0.0;
    for (size_t i = 0; i < 200 * 2; i++)
        maxdiff = fmax(maxdiff, fabs(net->h[2][i] - ds->y[i]));
    CHECK_NEAR(maxdiff, 0.0, 0.0, 1e-12);
    CHECK(memcmp(x, ds->x, 200 * 5 * sizeof *x) == 0);
    free(x);
    gs_net_destroy(net);
    gsl_rng_free(r);
    check_determinism(&c);
    /* noise is added after the teacher: the noiseless targets plus N(0, noise^2) */
    c.data_noise = 0.5;
    gs_dataset *nz = gen(&c, 3);
    if (nz) {
        double s2 = 0.0;
        for (size_t i = 0; i < 400; i++)
            s2 += (nz->y[i] - ds->y[i]) * (nz->y[i] - ds->y[i]);
        CHECK_NEAR(sqrt(s2 / 400.0), 0.5, 0.15, 0.0);
        CHECK(memcmp(nz->x, ds->x, 200 * 5 * sizeof *nz->x) == 0);
    }
    gs_dataset_destroy(nz);
    gs_dataset_destroy(ds);
}

/* Shape, labels i mod K, and without noise the exact formula r (cos theta, sin theta). */
static void test_spirals(void)
{
    gs_run_config c = base(GS_DATA_SPIRALS);
    c.data_samples = 100;
    gs_dataset *ds = gen(&c, 1);
    if (!ds)
        return;
    CHECK_EQ_INT(ds->d, 2);
    CHECK_EQ_INT(ds->k, 3);
    CHECK_EQ_INT(ds->has_labels, 1);
    for (size_t i = 0; i < 100; i++) {
        size_t cl = i % 3, q = i / 3, m = (100 - cl + 2) / 3;
        double r = (double)(q + 1) / (double)m, th = 2 * M_PI * (double)cl / 3 + 2 * M_PI * r;
        CHECK_EQ_INT(ds->label[i], cl);
        CHECK_NEAR(ds->x[2 * i], r * cos(th), 0, 1e-15);
        CHECK_NEAR(ds->x[2 * i + 1], r * sin(th), 0, 1e-15);
    }
    /* the last sample of each arm is at radius 1 */
    CHECK_NEAR(hypot(ds->x[2 * 99], ds->x[2 * 99 + 1]), 1.0, 0, 1e-15);
    gs_dataset_destroy(ds);
    c.data_noise = 0.1;
    check_determinism(&c);
}

/* Shape, labels in range and roughly uniform, x ~ N(0, 1). */
static void test_random_labels(void)
{
    gs_run_config c = base(GS_DATA_RANDOM_LABELS);
    c.data_samples = 3000;
    c.data_classes = 4;
    gs_dataset *ds = gen(&c, 5);
    if (!ds)
        return;
    CHECK_EQ_INT(ds->n, 3000);
    CHECK_EQ_INT(ds->d, 5);
    CHECK_EQ_INT(ds->k, 4);
    size_t cnt[4] = {0}, bad = 0;
    double s = 0, s2 = 0;
    for (size_t i = 0; i < 3000; i++) {
        if (ds->label[i] < 0 || ds->label[i] >= 4)
            bad++;
        else
            cnt[ds->label[i]]++;
    }
    for (size_t i = 0; i < 3000 * 5; i++) {
        s += ds->x[i];
        s2 += ds->x[i] * ds->x[i];
    }
    CHECK_EQ_INT(bad, 0);
    for (int j = 0; j < 4; j++)
        CHECK_NEAR((double)cnt[j], 750.0, 0.15, 0.0);
    CHECK_NEAR(s / 15000.0, 0.0, 0.0, 0.05);
    CHECK_NEAR(s2 / 15000.0, 1.0, 0.05, 0.0);
    gs_dataset_destroy(ds);
    check_determinism(&c);
}

/* Every feature has mean 0 and variance 1 afterwards; a constant feature becomes exactly 0. */
static void test_normalize(void)
{
    gs_dataset *ds = NULL;
    gs_error err = {0};
    CHECK_EQ_INT(gs_dataset_create(&ds, 50, 3, 2, 1, &err), GS_OK);
    if (!ds)
        return;
    for (size_t i = 0; i < 50; i++) {
        ds->x[i * 3] = 1e6 + (double)i * 0.25; /* large mean, small spread */
        ds->x[i * 3 + 1] = 0.1;                /* constant */
        ds->x[i * 3 + 2] = (double)(i % 7) - 100.0;
    }
    gs_data_normalize(ds);
    for (size_t j = 0; j < 3; j++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < 50; i++) {
            s += ds->x[i * 3 + j];
            s2 += ds->x[i * 3 + j] * ds->x[i * 3 + j];
        }
        CHECK_NEAR(s / 50.0, 0.0, 0.0, 1e-12);
        CHECK_NEAR(s2 / 50.0, j == 1 ? 0.0 : 1.0, 1e-12, 1e-12);
    }
    for (size_t i = 0; i < 50; i++)
        CHECK(ds->x[i * 3 + 1] == 0.0);
    gs_dataset_destroy(ds);
    /* through gs_data_generate with data.normalize */
    gs_run_config c = base(GS_DATA_SPIRALS);
    c.data_normalize = 1;
    gs_dataset *sp = gen(&c, 2);
    if (sp) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < sp->n; i++) {
            s += sp->x[2 * i + 1];
            s2 += sp->x[2 * i + 1] * sp->x[2 * i + 1];
        }
        CHECK_NEAR(s / (double)sp->n, 0.0, 0.0, 1e-12);
        CHECK_NEAR(s2 / (double)sp->n, 1.0, 1e-12, 0.0);
    }
    gs_dataset_destroy(sp);
}

/* Shapes known before generation, and bad configs rejected with the kind named. */
static void test_shape_and_errors(void)
{
    gs_run_config c = base(GS_DATA_TEACHER);
    int64_t d = 0, k = 0, n = 0;
    CHECK(gs_data_shape(&c, &d, &k, &n));
    CHECK(d == 5 && k == 2 && n == 200);
    c.data_kind = GS_DATA_SPIRALS;
    CHECK(gs_data_shape(&c, &d, &k, &n));
    CHECK(d == 2 && k == 3);
    c.data_kind = GS_DATA_MNIST_IDX;
    CHECK(!gs_data_shape(&c, &d, &k, &n));
    CHECK(!gs_data_is_synthetic(GS_DATA_MNIST_IDX));
    CHECK(!gs_data_is_synthetic(GS_DATA_HDF5));
    CHECK(gs_data_is_synthetic(GS_DATA_RANDOM_LABELS));
    gs_error err = {0};
    gs_dataset *ds = NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    CHECK_EQ_INT(gs_data_generate(&ds, &c, r, &err), GS_EINVAL);
    c = base(GS_DATA_TEACHER);
    c.data_noise = -1;
    CHECK_EQ_INT(gs_data_generate(&ds, &c, r, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "teacher");
    CHECK(ds == NULL);
    gsl_rng_free(r);
}

int main(void)
{
    test_teacher();
    test_spirals();
    test_random_labels();
    test_normalize();
    test_shape_and_errors();
    return CHECK_EXIT();
}
