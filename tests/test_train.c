/* Training a run end to end in memory: bitwise reproducibility (float64 and float32), seed
 * sensitivity, learning on an easy mixture, divergence as a result, error messages for bad runs,
 * the stop flag, the snapshot plan, the documented draw order, regression data sets, held-out
 * evaluation, and flush-to-zero (train.ftz) with the FP mode restored after a run. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "gradsweep/net.h"
#include "gradsweep/train.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* OpenBLAS's thread count. Declared here: OpenBLAS's cblas.h declares them, but it and
 * gsl_randist.h declare the same CBLAS enums and cannot be included in one file. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

static int64_t snap_steps[] = {0, 10, 49, 1000}; /* 1000 lies beyond the run: ignored */

static gs_run make_run(uint64_t seed)
{
    gs_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.id, sizeof run.id, "test%012llu", (unsigned long long)seed);
    run.seed = seed;
    gs_config_defaults(&run.cfg);
    run.cfg.data_classes = 4;
    run.cfg.data_dim = 8;
    run.cfg.data_samples = 256;
    run.cfg.data_separation = 3.0;
    run.cfg.depth = 2;
    run.cfg.width = 16;
    run.cfg.activation = GS_ACT_TANH;
    run.cfg.steps = 50;
    run.cfg.batch = 32;
    run.cfg.lr = 0.1;
    run.cfg.loss = GS_LOSS_CROSS_ENTROPY;
    return run;
}

static gs_record make_record(int64_t every)
{
    gs_record rec;
    memset(&rec, 0, sizeof rec);
    rec.every = every;
    rec.grad_steps = snap_steps;
    rec.n_grad_steps = sizeof snap_steps / sizeof *snap_steps;
    rec.weights = 1;
    rec.dtype = GS_DTYPE_FLOAT64;
    return rec;
}

static int same_bytes(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

/* Whether two results are bitwise identical in every array and summary field. */
static int same_result(const gs_result *a, const gs_result *b)
{
    size_t L = a->n_layers;
    if (a->n_layers != b->n_layers || a->n_rows != b->n_rows || a->n_snaps != b->n_snaps ||
        a->status != b->status || a->steps_done != b->steps_done)
        return 0;
    int ok = same_bytes(a->step, b->step, a->n_rows * sizeof *a->step) &&
             same_bytes(a->loss, b->loss, a->n_rows * sizeof *a->loss) &&
             same_bytes(a->grad_norm, b->grad_norm, a->n_rows * L * sizeof(double)) &&
             same_bytes(&a->final_loss, &b->final_loss, sizeof(double)) &&
             same_bytes(&a->grad_norm0_first, &b->grad_norm0_first, sizeof(double));
    for (size_t l = 0; ok && l < L; l++) {
        size_t per = a->fan_in[l] * a->fan_out[l] * a->n_snaps * sizeof(double);
        size_t nb = a->fan_out[l] * a->n_snaps * sizeof(double);
        ok = same_bytes(a->grads[l], b->grads[l], per) &&
             same_bytes(a->weights[l], b->weights[l], per) &&
             same_bytes(a->bgrads[l], b->bgrads[l], nb) &&
             same_bytes(a->biases[l], b->biases[l], nb);
    }
    return ok;
}

static void reproducible(void)
{
    gs_run run = make_run(12345);
    gs_record rec = make_record(1);
    gs_result *r1 = NULL, *r2 = NULL, *r3 = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_train_run(&r1, &run, &rec, NULL, NULL, &err), GS_OK);
    CHECK_EQ_INT(gs_train_run(&r2, &run, &rec, NULL, NULL, &err), GS_OK);
    run.seed = 12346;
    CHECK_EQ_INT(gs_train_run(&r3, &run, &rec, NULL, NULL, &err), GS_OK);
    if (!r1 || !r2 || !r3)
        goto done;
    CHECK(same_result(r1, r2));
    CHECK(!same_result(r1, r3));
    CHECK(!same_bytes(r1->loss, r3->loss, r1->n_rows * sizeof(double)));
    CHECK_EQ_INT(r1->status, GS_RUN_OK);
    CHECK_EQ_INT(r1->diverged_step, -1);
    CHECK_EQ_INT(r1->steps_done, 50);
    CHECK_EQ_INT(r1->n_rows, 50);
    CHECK_EQ_INT(r1->n_layers, 3);
    CHECK_EQ_INT(r1->d_in, 8);
    CHECK_EQ_INT(r1->d_out, 4);
    CHECK_EQ_INT(r1->fan_in[0], 8);
    CHECK_EQ_INT(r1->fan_out[2], 4);
    /* snapshot plan: steps beyond the run are dropped */
    CHECK_EQ_INT(r1->cap_snaps, 3);
    CHECK_EQ_INT(r1->n_snaps, 3);
    CHECK_EQ_INT(r1->snap_plan[2], 49);
    CHECK(r1->final_loss == r1->loss[49]);
    CHECK(r1->grad_norm0_first == r1->grad_norm[0]);
    CHECK(r1->grad_norm0_last == r1->grad_norm[2]);
    CHECK_EQ_STR(gs_train_rng_name(), "mt19937");
done:
    gs_result_destroy(r1);
    gs_result_destroy(r2);
    gs_result_destroy(r3);
}

/* Step-0 tensors follow the documented draw order (data, then parameters layer by layer), and
 * the stored gradient norm is the Frobenius norm of the stored gradient. */
static void draw_order(void)
{
    gs_run run = make_run(777);
    run.cfg.batch = 0; /* full batch: step 0 sees the data in stored order */
    run.cfg.steps = 3;
    run.cfg.sigma_b = 0.3; /* non-zero biases, so their snapshots are tested too */
    gs_record rec = make_record(1);
    gs_result *res = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_OK);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 777);
    gs_dataset *ds = NULL;
    gs_net *net = NULL;
    CHECK_EQ_INT(gs_data_gaussian_mixture(&ds, &run.cfg, rng, &err), GS_OK);
    CHECK_EQ_INT(gs_net_create(&net, &run.cfg, ds->d, ds->k, ds->n, &err), GS_OK);
    if (!res || !net)
        goto done;
    CHECK_EQ_INT(gs_net_init(net, &run.cfg, rng, &err), GS_OK);
    gs_net_forward(net, ds->x, ds->n);
    double loss = gs_net_loss(net, ds->label, NULL, ds->n);
    gs_net_backward(net, ds->x, ds->n);
    CHECK(loss == res->loss[0]);
    for (size_t l = 0; l < net->n_layers; l++) {
        size_t per = net->n[l] * net->n[l + 1];
        CHECK(same_bytes(res->weights[l], net->w[l], per * sizeof(double)));
        CHECK(same_bytes(res->grads[l], net->dw[l], per * sizeof(double)));
        CHECK(same_bytes(res->biases[l], net->b[l], net->n[l + 1] * sizeof(double)));
        CHECK(same_bytes(res->bgrads[l], net->db[l], net->n[l + 1] * sizeof(double)));
        CHECK(net->b[l][0] != 0.0);
        double ss = 0.0;
        for (size_t i = 0; i < per; i++)
            ss += net->dw[l][i] * net->dw[l][i];
        CHECK_NEAR(res->grad_norm[l], sqrt(ss), 1e-14, 0);
    }
done:
    gsl_rng_free(rng);
    gs_dataset_destroy(ds);
    gs_net_destroy(net);
    gs_result_destroy(res);
}

static double mean_loss(const gs_result *r, size_t from, size_t to)
{
    double s = 0.0;
    for (size_t i = from; i < to; i++)
        s += r->loss[i];
    return s / (double)(to - from);
}

static void learns(void)
{
    gs_run run = make_run(4242);
    run.cfg.depth = 1;
    run.cfg.steps = 300;
    gs_record rec = make_record(1);
    gs_result *res = NULL;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, NULL), GS_OK);
    if (!res)
        return;
    double first = res->loss[0], last = mean_loss(res, 290, 300);
    CHECK(first > 1.0);         /* ~ log 4 for an untrained 4-class model */
    CHECK(last < 0.05 * first); /* well separated classes are learned */
    for (size_t i = 1; i < res->n_rows; i++)
        CHECK_EQ_INT(res->step[i], (int64_t)i);
    gs_result_destroy(res);
}

static void diverges(void)
{
    gs_run run = make_run(99);
    run.cfg.activation = GS_ACT_RELU;
    run.cfg.loss = GS_LOSS_MSE;
    run.cfg.sigma_w = 6.0;
    run.cfg.lr = 50.0;
    run.cfg.steps = 200;
    gs_record rec = make_record(7);
    gs_result *res = NULL;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, NULL), GS_OK);
    if (!res)
        return;
    CHECK_EQ_INT(res->status, GS_RUN_DIVERGED);
    CHECK(res->diverged_step > 0 && res->diverged_step < 200);
    CHECK_EQ_INT(res->steps_done, res->diverged_step);
    CHECK(res->n_rows >= 1 && res->n_rows <= res->cap_rows);
    size_t last = res->n_rows - 1;
    CHECK_EQ_INT(res->step[last], res->diverged_step); /* the diverging row is always recorded */
    int bad = !isfinite(res->loss[last]);
    for (size_t l = 0; l < res->n_layers; l++)
        bad = bad || !isfinite(res->grad_norm[last * res->n_layers + l]);
    CHECK(bad);
    CHECK(!isfinite(res->final_loss) || bad);
    CHECK(isfinite(res->grad_norm0_first) && isfinite(res->grad_norm0_last));
    for (size_t i = 0; i < last; i++)
        CHECK_EQ_INT(res->step[i] % 7, 0);
    size_t taken = 0;
    for (size_t s = 0; s < res->cap_snaps; s++)
        taken += res->snap_plan[s] <= res->diverged_step;
    CHECK_EQ_INT(res->n_snaps, taken);
    gs_result_destroy(res);
}

static void bad_runs(void)
{
    gs_record rec = make_record(1);
    gs_result *res = (gs_result *)&rec; /* must be reset to NULL on failure */
    gs_error err;
    gs_run run = make_run(5);
    run.cfg.width = 0;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK(res == NULL);
    /* the driver prefixes "run <id>: ", so the message itself does not name the run */
    CHECK_EQ_STR(err.msg, "net: width must be >= 1, got 0");
    run = make_run(5);
    run.cfg.depth = -2;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "depth");
    run = make_run(5);
    run.cfg.data_dim = 0;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK(strncmp(err.msg, "gaussian_mixture", 16) == 0);
    run = make_run(5);
    run.cfg.steps = 0;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK(strncmp(err.msg, "need steps >= 1", 15) == 0);
    run = make_run(5);
    run.cfg.lr = (double)NAN;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    run = make_run(5);
    run.cfg.data_kind = GS_DATA_HDF5;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK(strncmp(err.msg, "data kind 'hdf5'", 16) == 0);
    CHECK(res == NULL);
    CHECK(strstr(err.msg, run.id) == NULL);
}

/* A regression data set given by the caller: cross entropy is refused, mse trains, and the
 * shared data set is left untouched. */
static void regression(void)
{
    gs_dataset *ds = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_dataset_create(&ds, 100, 3, 2, 0, &err), GS_OK);
    if (!ds)
        return;
    CHECK(ds->label == NULL && ds->y != NULL);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    for (size_t i = 0; i < 100; i++) {
        for (size_t j = 0; j < 3; j++)
            ds->x[i * 3 + j] = gsl_ran_gaussian(rng, 1.0);
        ds->y[i * 2] = 0.5 * ds->x[i * 3] - ds->x[i * 3 + 2];
        ds->y[i * 2 + 1] = 0.25 * ds->x[i * 3 + 1];
    }
    double *x0 = malloc(300 * sizeof *x0), *y0 = malloc(200 * sizeof *y0);
    memcpy(x0, ds->x, 300 * sizeof *x0);
    memcpy(y0, ds->y, 200 * sizeof *y0);
    gs_run run = make_run(8);
    run.cfg.data_kind = GS_DATA_HDF5;
    run.cfg.activation = GS_ACT_LINEAR;
    run.cfg.steps = 200;
    run.cfg.batch = 30; /* 3 batches per epoch, a tail of 10 rows dropped */
    gs_record rec = make_record(1);
    gs_result *res = NULL;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, ds, NULL, &err), GS_EDATA);
    CHECK_HAS_STR(err.msg, "cross_entropy needs integer labels; data set has float targets");
    run.cfg.loss = GS_LOSS_MSE;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, ds, NULL, &err), GS_OK);
    if (res) {
        CHECK_EQ_INT(res->d_in, 3);
        CHECK_EQ_INT(res->d_out, 2);
        CHECK(mean_loss(res, 190, 200) < 0.1 * mean_loss(res, 0, 10));
    }
    CHECK(same_bytes(x0, ds->x, 300 * sizeof *x0) && same_bytes(y0, ds->y, 200 * sizeof *y0));
    gs_result_destroy(res);
    res = NULL;
    run.cfg.batch = 101; /* the file has 100 samples */
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, ds, NULL, &err), GS_EINVAL);
    CHECK_EQ_STR(err.msg,
                 "train.batch 101 exceeds the 100 samples of the data set (use batch: full)");
    CHECK(res == NULL);
    free(x0);
    free(y0);
    gsl_rng_free(rng);
    gs_dataset_destroy(ds);
    gs_dataset_destroy(NULL);
}

/* batch 0 ("full") and a batch equal to the data set are the same full-batch run; a larger batch
 * is an error, not silently clipped (the stored train.batch would not be what ran). */
static void full_batch(void)
{
    gs_run run = make_run(31);
    run.cfg.steps = 20;
    run.cfg.batch = 0;
    gs_record rec = make_record(3);
    gs_result *a = NULL, *b = NULL, *c = (gs_result *)&rec;
    gs_error err;
    CHECK_EQ_INT(gs_train_run(&a, &run, &rec, NULL, NULL, NULL), GS_OK);
    run.cfg.batch = 256; /* == data_samples */
    CHECK_EQ_INT(gs_train_run(&b, &run, &rec, NULL, NULL, NULL), GS_OK);
    run.cfg.batch = 257;
    CHECK_EQ_INT(gs_train_run(&c, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK(c == NULL);
    CHECK_EQ_STR(err.msg,
                 "train.batch 257 exceeds the 256 samples of the data set (use batch: full)");
    if (a && b) {
        CHECK(same_result(a, b));
        CHECK_EQ_INT(a->n_rows, 7); /* steps 0, 3, ..., 18 */
        CHECK_EQ_INT(a->step[6], 18);
    }
    gs_result_destroy(a);
    gs_result_destroy(b);
}

/* A NaN/Inf that reaches only a bias gradient is a divergence too. Constructed exactly: inputs
 * x = 0 and zero biases make every activation 0, so each dW_l = delta_l^T a_{l-1} is 0, while
 * regression targets -T give delta_1 = T per row (mse, B = 2, k = 1), delta_0 = T w_1 per row
 * (linear, width 1), finite at ~1.5e308, and db_0 = 2 T w_1 overflows to Inf. The loss T^2 and
 * every ||dW_l|| stay finite, so only the bias check catches step 0. */
static void bias_divergence(void)
{
    gs_dataset *ds = NULL;
    gs_error err;
    gs_run run = make_run(0);
    double w1 = 0.0;
    for (uint64_t seed = 1; fabs(w1) < 2e154; seed++) { /* T = 1.5e308 / |w1| < 1e154 */
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(rng, (unsigned long)seed);
        gsl_ran_gaussian(rng, 1e155); /* w_0 */
        w1 = gsl_ran_gaussian(rng, 1e155);
        gsl_rng_free(rng);
        run.seed = seed;
    }
    double t = 1.5e308 / fabs(w1);
    CHECK_EQ_INT(gs_dataset_create(&ds, 2, 1, 1, 0, &err), GS_OK);
    if (!ds)
        return;
    ds->x[0] = ds->x[1] = 0.0;
    ds->y[0] = ds->y[1] = -t;
    run.cfg.data_kind = GS_DATA_HDF5;
    run.cfg.depth = 1;
    run.cfg.width = 1;
    run.cfg.activation = GS_ACT_LINEAR;
    run.cfg.init = GS_INIT_NORMAL_STD;
    run.cfg.sigma_w = 1e155;
    run.cfg.loss = GS_LOSS_MSE;
    run.cfg.batch = 0;
    run.cfg.steps = 5;
    gs_record rec = make_record(1);
    gs_result *res = NULL;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, ds, NULL, &err), GS_OK);
    if (res) {
        CHECK_EQ_INT(res->status, GS_RUN_DIVERGED);
        CHECK_EQ_INT(res->diverged_step, 0);
        CHECK_EQ_INT(res->steps_done, 0);
        CHECK(isfinite(res->loss[0]) && res->loss[0] > 1e300);
        CHECK(res->grad_norm[0] == 0.0 && res->grad_norm[1] == 0.0);
    }
    gs_result_destroy(res);

    /* the helper itself: finite after a normal pass, not after a NaN in any one bias gradient */
    gs_net *net = NULL;
    run = make_run(3);
    CHECK_EQ_INT(gs_net_create(&net, &run.cfg, 8, 4, 2, &err), GS_OK);
    if (net) {
        CHECK(gs_net_aux_grads_finite(net));
        for (size_t l = 0; l < net->n_layers; l++) {
            net->db[l][net->n[l + 1] - 1] = (double)NAN;
            CHECK(!gs_net_aux_grads_finite(net));
            net->db[l][net->n[l + 1] - 1] = -(double)INFINITY;
            CHECK(!gs_net_aux_grads_finite(net));
            net->db[l][net->n[l + 1] - 1] = 0.0;
        }
        CHECK(gs_net_aux_grads_finite(net));
    }
    gs_net_destroy(net);
    gs_dataset_destroy(ds);
}

static void stop_flag(void)
{
    gs_run run = make_run(1);
    gs_record rec = make_record(1);
    gs_result *res = (gs_result *)&rec;
    gs_error err;
    atomic_int stop;
    atomic_init(&stop, 1);
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, &stop, &err), GS_EINTR);
    CHECK(res == NULL);
    CHECK_HAS_STR(err.msg, "interrupted");
    atomic_store(&stop, 0);
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, &stop, &err), GS_OK);
    gs_result_destroy(res);
}

/* Whether the eval rows of two results are bitwise identical. */
static int same_eval(const gs_result *a, const gs_result *b)
{
    size_t e = a->n_eval_rows;
    return e == b->n_eval_rows && a->n_eval_samples == b->n_eval_samples &&
           same_bytes(a->eval_step, b->eval_step, e * sizeof *a->eval_step) &&
           same_bytes(a->eval_loss, b->eval_loss, e * sizeof(double)) &&
           same_bytes(a->eval_accuracy, b->eval_accuracy, e * sizeof(double));
}

/* eval_fraction 0 (the default) is no evaluation and the run as before; with a split: the eval
 * schedule (every k steps and the last), accuracy in [0, 1], learning, determinism. */
static void eval_schedule(void)
{
    gs_run run = make_run(12345);
    gs_record rec = make_record(1);
    gs_result *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_train_run(&a, &run, &rec, NULL, NULL, &err), GS_OK);
    run.cfg.eval_fraction = 0.0;
    run.cfg.eval_every = 0;
    CHECK_EQ_INT(gs_train_run(&b, &run, &rec, NULL, NULL, &err), GS_OK);
    run.cfg.eval_fraction = 0.25; /* 64 of 256 samples */
    run.cfg.eval_every = 10;
    run.cfg.steps = 300;
    CHECK_EQ_INT(gs_train_run(&c, &run, &rec, NULL, NULL, &err), GS_OK);
    CHECK_EQ_INT(gs_train_run(&d, &run, &rec, NULL, NULL, &err), GS_OK);
    if (!a || !b || !c || !d)
        goto done;
    CHECK(same_result(a, b));
    CHECK_EQ_INT(a->cap_eval, 0);
    CHECK_EQ_INT(a->n_eval_rows, 0);
    CHECK_EQ_INT(a->n_eval_samples, 0);
    CHECK_EQ_INT(c->n_eval_samples, 64);
    CHECK_EQ_INT(c->cap_eval, 31); /* 0, 10, ..., 290 and the last step 299 */
    CHECK_EQ_INT(c->n_eval_rows, 31);
    for (size_t e = 0; e < 30; e++)
        CHECK_EQ_INT(c->eval_step[e], (int64_t)(10 * e));
    CHECK_EQ_INT(c->eval_step[30], 299);
    for (size_t e = 0; e < c->n_eval_rows; e++)
        CHECK(c->eval_accuracy[e] >= 0.0 && c->eval_accuracy[e] <= 1.0 &&
              isfinite(c->eval_loss[e]));
    CHECK(c->eval_loss[30] < 0.2 * c->eval_loss[0]); /* held-out samples of the same mixture */
    CHECK(c->eval_accuracy[30] > 0.9);
    CHECK(same_result(c, d) && same_eval(c, d));
    gs_result_destroy(d);
    d = NULL;
    run.cfg.eval_every = 0; /* record.every */
    rec.every = 50;
    CHECK_EQ_INT(gs_train_run(&d, &run, &rec, NULL, NULL, &err), GS_OK);
    if (d) {
        CHECK_EQ_INT(d->n_eval_rows, 7); /* 0, 50, ..., 250, 299 */
        CHECK_EQ_INT(d->eval_step[5], 250);
        CHECK_EQ_INT(d->eval_step[6], 299);
        CHECK(d->eval_loss[0] == c->eval_loss[0]);
    }
done:
    gs_result_destroy(a);
    gs_result_destroy(b);
    gs_result_destroy(c);
    gs_result_destroy(d);
}

/* The documented draw order with a split (data, split permutation, parameters) and the eval
 * values by hand: with lr 0 every evaluation sees the initial parameters, and the eval loss is
 * gs_net_loss over the eval samples, whatever the chunking (batch 16 gives 4 chunks of 16). */
static void eval_by_hand(void)
{
    gs_run run = make_run(2024);
    run.cfg.eval_fraction = 0.25;
    run.cfg.lr = 0.0;
    run.cfg.steps = 3;
    run.cfg.batch = 0;
    gs_record rec = make_record(1);
    gs_result *full = NULL, *mini = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_train_run(&full, &run, &rec, NULL, NULL, &err), GS_OK);
    run.cfg.batch = 16;
    CHECK_EQ_INT(gs_train_run(&mini, &run, &rec, NULL, NULL, &err), GS_OK);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 2024);
    gs_dataset *ds = NULL;
    gs_net *net = NULL;
    size_t split[256], n_train = 192, n_eval = 64, correct = 0;
    double xs[256 * 8];
    int32_t ls[256];
    CHECK_EQ_INT(gs_data_gaussian_mixture(&ds, &run.cfg, rng, &err), GS_OK);
    CHECK_EQ_INT(gs_net_create(&net, &run.cfg, 8, 4, 256, &err), GS_OK);
    if (!full || !mini || !ds || !net)
        goto done;
    for (size_t i = 0; i < 256; i++)
        split[i] = i;
    gsl_ran_shuffle(rng, split, 256, sizeof *split);
    CHECK_EQ_INT(gs_net_init(net, &run.cfg, rng, &err), GS_OK);
    for (size_t i = 0; i < 256; i++) {
        memcpy(xs + i * 8, ds->x + split[i] * 8, 8 * sizeof(double));
        ls[i] = ds->label[split[i]];
    }
    /* full batch: the training samples in split order */
    gs_net_forward(net, xs, n_train);
    CHECK(gs_net_loss(net, ls, NULL, n_train) == full->loss[0]);
    gs_net_forward(net, xs + n_train * 8, n_eval);
    double want = gs_net_loss(net, ls + n_train, NULL, n_eval);
    for (size_t i = 0; i < n_eval; i++) {
        const double *o = net->h[net->n_layers - 1] + i * 4;
        size_t best = 0;
        for (size_t j = 1; j < 4; j++)
            best = o[j] > o[best] ? j : best;
        correct += (int32_t)best == ls[n_train + i];
    }
    CHECK_EQ_INT(full->n_eval_rows, 3);
    CHECK_EQ_INT(mini->n_eval_rows, 3);
    for (size_t e = 0; e < 3; e++) {
        CHECK_NEAR(full->eval_loss[e], want, 1e-14, 0);
        CHECK_NEAR(mini->eval_loss[e], want, 1e-13, 0);
        CHECK(full->eval_accuracy[e] == (double)correct / (double)n_eval);
        CHECK(mini->eval_accuracy[e] == full->eval_accuracy[e]);
    }
done:
    gsl_rng_free(rng);
    gs_dataset_destroy(ds);
    gs_net_destroy(net);
    gs_result_destroy(full);
    gs_result_destroy(mini);
}

/* The eval samples never reach training: making their inputs huge leaves every training result
 * bitwise unchanged and only moves the eval loss; the borrowed data set is never modified. */
static void eval_excluded(void)
{
    gs_dataset *ds = NULL, *big = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_dataset_create(&ds, 100, 3, 2, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_dataset_create(&big, 100, 3, 2, 0, &err), GS_OK);
    if (!ds || !big)
        goto done;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    for (size_t i = 0; i < 300; i++)
        ds->x[i] = gsl_ran_gaussian(rng, 1.0);
    for (size_t i = 0; i < 100; i++)
        ds->y[i * 2] = ds->y[i * 2 + 1] = 0.5 * ds->x[i * 3];
    memcpy(big->x, ds->x, 300 * sizeof(double));
    memcpy(big->y, ds->y, 200 * sizeof(double));
    gs_run run = make_run(17);
    run.cfg.data_kind = GS_DATA_HDF5;
    run.cfg.loss = GS_LOSS_MSE;
    run.cfg.activation = GS_ACT_LINEAR; /* outputs grow with the inputs */
    run.cfg.eval_fraction = 0.2;        /* 20 eval samples: the last 20 of the split permutation */
    run.cfg.eval_every = 5;
    run.cfg.batch = 20;
    size_t split[100];
    for (size_t i = 0; i < 100; i++)
        split[i] = i;
    gsl_rng_set(rng, 17); /* file data: the split permutation is the first draw */
    gsl_ran_shuffle(rng, split, 100, sizeof *split);
    gsl_rng_free(rng);
    for (size_t i = 80; i < 100; i++)
        for (size_t j = 0; j < 3; j++)
            big->x[split[i] * 3 + j] = 1e6;
    gs_record rec = make_record(1);
    gs_result *a = NULL, *b = NULL, *c = (gs_result *)&rec;
    CHECK_EQ_INT(gs_train_run(&a, &run, &rec, ds, NULL, &err), GS_OK);
    CHECK_EQ_INT(gs_train_run(&b, &run, &rec, big, NULL, &err), GS_OK);
    if (a && b) {
        CHECK(same_result(a, b));
        CHECK_EQ_INT(a->n_eval_samples, 20);
        CHECK(isnan(a->eval_accuracy[0]) && isnan(b->eval_accuracy[0]));
        CHECK(b->eval_loss[0] > 1e6 * a->eval_loss[0]);
        CHECK(big->x[split[99] * 3] == 1e6); /* the borrowed data set is untouched */
    }
    gs_result_destroy(a);
    gs_result_destroy(b);
    run.cfg.batch = 81; /* 80 training samples */
    CHECK_EQ_INT(gs_train_run(&c, &run, &rec, ds, NULL, &err), GS_EINVAL);
    CHECK(c == NULL);
    CHECK_EQ_STR(err.msg, "train.batch 81 exceeds the n_train = 80 training samples (100 samples "
                          "minus 20 held out by train.eval_fraction)");
    run.cfg.batch = 0;
    run.cfg.eval_fraction = 0.005; /* floor(0.5) = 0 */
    CHECK_EQ_INT(gs_train_run(&c, &run, &rec, ds, NULL, &err), GS_EINVAL);
    CHECK_EQ_STR(err.msg, "train.eval_fraction 0.005 of 100 samples leaves no eval sample");
    run.cfg.eval_fraction = 0.95;
    CHECK_EQ_INT(gs_train_run(&c, &run, &rec, ds, NULL, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "train.eval_fraction must be in [0, 0.9]");
    run.cfg.eval_fraction = 0.0;
    CHECK_EQ_INT(gs_train_run(&c, &run, &rec, ds, NULL, &err), GS_EINVAL);
    CHECK_EQ_STR(err.msg, "train.eval_every 5 needs a held-out split (train.eval_fraction > 0)");
    CHECK(c == NULL);
done:
    gs_dataset_destroy(ds);
    gs_dataset_destroy(big);
}

/* Whether the normalization snapshots of two results are bitwise identical. */
static int same_norm(const gs_result *a, const gs_result *b)
{
    int ok = a->n_norm == b->n_norm && a->n_snaps == b->n_snaps;
    for (size_t l = 0; ok && l < a->n_norm; l++) {
        size_t nb = a->fan_out[l] * a->n_snaps * sizeof(double);
        ok = same_bytes(a->ngrad_scale[l], b->ngrad_scale[l], nb) &&
             same_bytes(a->ngrad_shift[l], b->ngrad_shift[l], nb) &&
             same_bytes(a->nscale[l], b->nscale[l], nb) &&
             same_bytes(a->nshift[l], b->nshift[l], nb) &&
             same_bytes(a->nrun_mean[l], b->nrun_mean[l], nb) &&
             same_bytes(a->nrun_var[l], b->nrun_var[l], nb);
    }
    return ok;
}

/* float32 runs are bitwise reproducible too (batchnorm, residual blocks, minibatches, a held-out
 * split), store float values, start from the rounded float64 parameters of the same seed, and
 * differ from the float64 run by float32 rounding only. */
static void float32_reproducible(void)
{
    gs_run run = make_run(4321);
    run.cfg.dtype = GS_DTYPE_FLOAT32;
    run.cfg.depth = 3;
    run.cfg.norm = GS_NORM_BATCHNORM;
    run.cfg.residual_every = 1;
    run.cfg.residual_alpha = 0.5;
    run.cfg.eval_fraction = 0.25;
    gs_record rec = make_record(5);
    gs_result *a = NULL, *b = NULL, *d = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_train_run(&a, &run, &rec, NULL, NULL, &err), GS_OK);
    CHECK_EQ_INT(gs_train_run(&b, &run, &rec, NULL, NULL, &err), GS_OK);
    run.cfg.dtype = GS_DTYPE_FLOAT64;
    CHECK_EQ_INT(gs_train_run(&d, &run, &rec, NULL, NULL, &err), GS_OK);
    if (!a || !b || !d)
        goto done;
    CHECK_EQ_INT(a->status, GS_RUN_OK);
    CHECK(same_result(a, b) && same_norm(a, b) && same_eval(a, b));
    CHECK(a->n_norm == 3 && a->nrun_var != NULL);
    CHECK(!same_result(a, d));
    CHECK(a->loss[0] != d->loss[0]);
    CHECK_NEAR(a->loss[0], d->loss[0], 1e-5, 0);
    size_t rounded = 1, n_w = 0;
    for (size_t l = 0; l < a->n_layers; l++) {
        size_t per = a->fan_in[l] * a->fan_out[l] * a->n_snaps;
        for (size_t i = 0; i < per; i++) {
            rounded = rounded && (double)(float)a->grads[l][i] == a->grads[l][i] &&
                      (double)(float)a->weights[l][i] == a->weights[l][i];
            n_w += a->weights[l][i] != d->weights[l][i];
        }
        per /= a->n_snaps; /* step 0: the float64 draws rounded */
        for (size_t i = 0; i < per; i++)
            rounded = rounded && a->weights[l][i] == (double)(float)d->weights[l][i];
    }
    CHECK(rounded);
    CHECK(n_w > 0);
done:
    gs_result_destroy(a);
    gs_result_destroy(b);
    gs_result_destroy(d);
}

#if defined(__x86_64__)
/* Stored gradient entries (weights and biases, every snapshot) that are 0, subnormal
 * (0 < |g| < tiny) and normal. */
typedef struct {
    size_t zero, sub, normal;
} fpcount;

static fpcount count_grads(const gs_result *r, double tiny)
{
    fpcount c = {0, 0, 0};
    for (size_t l = 0; l < r->n_layers; l++) {
        size_t per = r->fan_in[l] * r->fan_out[l] * r->n_snaps, nb = r->fan_out[l] * r->n_snaps;
        for (size_t i = 0; i < per + nb; i++) {
            double g = fabs(i < per ? r->grads[l][i] : r->bgrads[l][i - per]);
            c.zero += g == 0.0;
            c.sub += g > 0.0 && g < tiny;
            c.normal += g >= tiny;
        }
    }
    return c;
}

/* A run whose gradients underflow: linear, W ~ N(0, s^2) (normal_std) with biases 0, depth 2,
 * so that a_2 ~ s^2 |x| and dW_l ~ s^2 |delta| |x| fall around the smallest normal number of the
 * precision (s = 1e-154 for float64, 1e-19 for float32: about half of them subnormal). */
static gs_result *underflow_run(int dtype, int ftz, int64_t steps, gs_status want)
{
    gs_run run = make_run(3);
    run.cfg.data_samples = 64;
    run.cfg.depth = 2;
    run.cfg.width = 8;
    run.cfg.activation = GS_ACT_LINEAR;
    run.cfg.init = GS_INIT_NORMAL_STD;
    run.cfg.sigma_w = dtype == GS_DTYPE_FLOAT64 ? 1e-154 : 1e-19;
    run.cfg.loss = GS_LOSS_MSE;
    run.cfg.batch = 0;
    run.cfg.steps = steps;
    run.cfg.dtype = dtype;
    run.cfg.ftz = ftz;
    static int64_t two[] = {0, 1};
    gs_record rec = make_record(1);
    rec.grad_steps = two;
    rec.n_grad_steps = 2;
    gs_result *res = NULL;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, NULL), want);
    return res;
}

/* train.ftz: with it the stored gradients hold no subnormal number (0 or >= the smallest normal),
 * without it some are subnormal, also when the caller had set FTZ/DAZ (the run clears them), and
 * MXCSR's control bits are as before after every run, an error included. The GEMMs run on this
 * thread (MXCSR is per thread). */
static void flush_to_zero(void)
{
    int threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    const unsigned ctl = ~0x3fu, ftz_daz = 0x8040u; /* without the sticky exception flags */
    unsigned csr = _mm_getcsr();
    CHECK((csr & ftz_daz) == 0);
    for (int dtype = 0; dtype < GS_DTYPE__COUNT; dtype++) {
        double tiny = dtype == GS_DTYPE_FLOAT64 ? DBL_MIN : (double)FLT_MIN;
        gs_result *off = underflow_run(dtype, 0, 2, GS_OK);
        CHECK((_mm_getcsr() & ctl) == (csr & ctl));
        gs_result *on = underflow_run(dtype, 1, 2, GS_OK);
        CHECK((_mm_getcsr() & ctl) == (csr & ctl));
        _mm_setcsr(csr | ftz_daz);
        gs_result *off2 = underflow_run(dtype, 0, 2, GS_OK);
        CHECK((_mm_getcsr() & ctl) == ((csr | ftz_daz) & ctl));
        _mm_setcsr(csr);
        if (off && on && off2) {
            fpcount a = count_grads(off, tiny), b = count_grads(on, tiny);
            CHECK(a.sub > 10 && a.normal > 10);
            CHECK(b.sub == 0 && b.zero > a.zero && b.normal > 0);
            CHECK(same_result(off, off2));
            CHECK(off->status == GS_RUN_OK && on->status == GS_RUN_OK);
        }
        gs_result_destroy(off);
        gs_result_destroy(on);
        gs_result_destroy(off2);
    }
    CHECK(underflow_run(GS_DTYPE_FLOAT64, 1, 0, GS_EINVAL) == NULL); /* steps 0 */
    CHECK((_mm_getcsr() & ctl) == (csr & ctl));
    openblas_set_num_threads(threads);
}
#endif

int main(void)
{
    reproducible();
    draw_order();
    learns();
    diverges();
    bad_runs();
    regression();
    full_batch();
    bias_divergence();
    stop_flag();
    eval_schedule();
    eval_by_hand();
    eval_excluded();
    float32_reproducible();
#if defined(__x86_64__)
    flush_to_zero();
#endif
    return CHECK_EXIT();
}
