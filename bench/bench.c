/* gradsweep_bench: trains fixed workloads through gs_train_run and prints (1) runs/s and the
 * achieved GFLOP/s of the training loop next to the single-thread OpenBLAS GEMM rate measured at
 * the same shapes and precision in the same process, for float64 and float32 compute, and (2) the
 * step time of the architecture and optimizer options against the plain net, measured side by
 * side in interleaved rounds, and (3) the cost of the record.level tiers and histograms against
 * training with a single statistics row. Usage: gradsweep_bench [--quick]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <gsl/gsl_errno.h>

#include "gradsweep/train.h"

/* One benchmark workload: a gaussian-mixture classification run of the given shape. */
typedef struct {
    int64_t width, depth, batch, steps;
    int runs;
    int dtype;              /* gs_dtype of the compute */
    int norm;               /* gs_norm */
    int64_t residual_every; /* 0: no skips */
    int optimizer;          /* gs_opt */
} workload;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static gs_run make_run(const workload *wl, int64_t steps, uint64_t seed)
{
    gs_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.id, sizeof run.id, "bench%011llu", (unsigned long long)seed);
    run.seed = seed;
    gs_config_defaults(&run.cfg);
    run.cfg.data_classes = 10;
    run.cfg.data_dim = 32;
    run.cfg.data_samples = 4096;
    run.cfg.depth = wl->depth;
    run.cfg.width = wl->width;
    run.cfg.activation = GS_ACT_RELU;
    run.cfg.init = GS_INIT_NORMAL;
    run.cfg.sigma_w = 1.41421356237; /* He scale: stays finite for relu at any depth */
    run.cfg.steps = steps;
    run.cfg.batch = wl->batch;
    run.cfg.lr = 0.01;
    run.cfg.loss = GS_LOSS_CROSS_ENTROPY;
    run.cfg.dtype = wl->dtype;
    run.cfg.norm = wl->norm;
    run.cfg.residual_every = wl->residual_every;
    run.cfg.optimizer = wl->optimizer;
    return run;
}

/* Layer widths n[0..L] of a workload: 32 -> width x depth -> 10. */
static size_t widths(const workload *wl, size_t *n)
{
    size_t L = (size_t)wl->depth + 1;
    n[0] = 32;
    for (size_t l = 1; l < L; l++)
        n[l] = (size_t)wl->width;
    n[L] = 10;
    return L;
}

/* 6 n_in n_out B flops per layer and step: forward, input gradient, weight gradient. */
static double step_flops(const workload *wl)
{
    size_t n[64], L = widths(wl, n);
    double f = 0.0;
    for (size_t l = 0; l < L; l++)
        f += 6.0 * (double)n[l] * (double)n[l + 1] * (double)wl->batch;
    return f;
}

/* The three GEMMs of layer l at the training shapes, in the workload's precision; buffers are
 * [B][mx] (a, d, h) and [mx][mx] (w, dw) of that precision. */
static void layer_gemms(int f32, int b, int ni, int no, void *a, void *d, void *h, void *w,
                        void *dw)
{
    if (f32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, no, ni, 1.0f, a, ni, w, ni, 0.0f, h,
                    no);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, no, ni, b, 1.0f, d, no, a, ni, 0.0f,
                    dw, ni);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, ni, no, 1.0f, d, no, w, ni, 0.0f,
                    h, ni);
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, no, ni, 1.0, a, ni, w, ni, 0.0, h, no);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, no, ni, b, 1.0, d, no, a, ni, 0.0, dw, ni);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, ni, no, 1.0, d, no, w, ni, 0.0, h,
                ni);
}

/* Fills n values of a buffer of the workload's precision with small varied numbers. */
static void fill(int f32, void *p, size_t n, int mod)
{
    for (size_t i = 0; i < n; i++) {
        double v = 1e-3 * (double)(i % (size_t)mod);
        if (f32)
            ((float *)p)[i] = (float)v;
        else
            ((double *)p)[i] = v;
    }
}

/* Single-thread GEMM rate at the training shapes: the three GEMM calls of every layer, for
 * `steps` steps, on buffers of the same sizes and precision. Returns GFLOP/s (0 when out of
 * memory). */
static double gemm_rate(const workload *wl, int64_t steps)
{
    size_t n[64], L = widths(wl, n), B = (size_t)wl->batch, mx = 0;
    int f32 = wl->dtype == GS_DTYPE_FLOAT32;
    size_t es = f32 ? sizeof(float) : sizeof(double);
    for (size_t l = 0; l <= L; l++)
        mx = n[l] > mx ? n[l] : mx;
    void *a = calloc(B * mx, es), *d = calloc(B * mx, es), *h = calloc(B * mx, es);
    void *w = calloc(mx * mx, es), *dw = calloc(mx * mx, es);
    double rate = 0.0;
    if (!a || !d || !h || !w || !dw)
        goto done;
    fill(f32, a, B * mx, 97);
    fill(f32, d, B * mx, 97);
    fill(f32, w, mx * mx, 89);
    double t0 = now();
    for (int64_t s = 0; s < steps; s++)
        for (size_t l = 0; l < L; l++)
            layer_gemms(f32, (int)B, (int)n[l], (int)n[l + 1], a, d, h, w, dw);
    rate = step_flops(wl) * (double)steps / (now() - t0) * 1e-9;
done:
    free(a);
    free(d);
    free(h);
    free(w);
    free(dw);
    return rate;
}

/* Times one gs_train_run; returns seconds, or a negative value on error (printed). */
static double time_run(const workload *wl, int64_t steps, uint64_t seed, const gs_record *rec)
{
    gs_run run = make_run(wl, steps, seed);
    gs_result *res = NULL;
    gs_error err;
    double t0 = now();
    gs_status st = gs_train_run(&res, &run, rec, NULL, NULL, &err);
    double t = now() - t0;
    if (st) {
        fprintf(stderr, "gradsweep_bench: %s\n", err.msg);
        return -1.0;
    }
    if (res->status != GS_RUN_OK)
        fprintf(stderr, "gradsweep_bench: warning: run diverged at step %lld\n",
                (long long)res->diverged_step);
    gs_result_destroy(res);
    return t;
}

/* Runs a workload. runs/s is over `runs` full runs. The training-loop time of a run is its time
 * minus that of the same run with one step (data generation, init, allocation), leaving steps - 1
 * loop steps; the machine may be shared, so both rates are the best of several trials. */
static int bench(const workload *wl)
{
    int64_t snaps[3] = {0, wl->steps / 2, wl->steps - 1};
    gs_record rec = {.every = 1, .grad_steps = snaps, .n_grad_steps = 3, .dtype = GS_DTYPE_FLOAT32};
    double setup = 1e30, total = 0.0, loop = 1e30, gemm = 0.0;
    for (int r = 0; r < 3; r++) {
        double t = time_run(wl, 1, 1000 + (uint64_t)r, &rec);
        if (t < 0)
            return 1;
        setup = t < setup ? t : setup;
    }
    for (int r = 0; r < wl->runs; r++) {
        double t = time_run(wl, wl->steps, 1 + (uint64_t)r, &rec);
        if (t < 0)
            return 1;
        total += t;
        loop = t - setup < loop ? t - setup : loop;
        double g = gemm_rate(wl, wl->steps);
        gemm = g > gemm ? g : gemm;
    }
    double train = step_flops(wl) * (double)(wl->steps - 1) / loop * 1e-9;
    printf("%7s %6lld %6lld %6lld %6lld %14.2f %14.2f %7.2f %9.3f\n", gs_dtype_names[wl->dtype],
           (long long)wl->width, (long long)wl->depth, (long long)wl->batch, (long long)wl->steps,
           train, gemm, gemm > 0 ? train / gemm : 0.0, (double)wl->runs / total);
    return 0;
}

/* One option of the overhead table: a name and the workload that differs from the plain one. */
typedef struct {
    const char *name;
    workload wl;
} variant;

/* Step time of each variant against the plain net (variant 0), measured side by side: every
 * round runs each variant once (setup subtracted as in bench()), and the best loop time over the
 * rounds counts, so a slow phase of a shared machine hits all variants alike. */
static int overhead(const variant *v, int nv, int rounds)
{
    double best[16], setup[16];
    for (int i = 0; i < nv; i++) {
        best[i] = setup[i] = 1e30;
        for (int r = 0; r < 2; r++) {
            double t = time_run(&v[i].wl, 1, 2000 + (uint64_t)r, &(gs_record){.every = 1});
            if (t < 0)
                return 1;
            setup[i] = t < setup[i] ? t : setup[i];
        }
    }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < nv; i++) {
            double t = time_run(&v[i].wl, v[i].wl.steps, 1 + (uint64_t)r, &(gs_record){.every = 1});
            if (t < 0)
                return 1;
            t -= setup[i];
            best[i] = t < best[i] ? t : best[i];
        }
    const workload *p = &v[0].wl;
    printf(
        "\noption overhead: relu, width %lld, depth %lld, batch %lld, %lld steps, float64 unless "
        "named;\nms per step (best of %d interleaved rounds) and ratio to the plain net\n"
        "%-26s %10s %8s\n",
        (long long)p->width, (long long)p->depth, (long long)p->batch, (long long)p->steps, rounds,
        "option", "ms/step", "ratio");
    for (int i = 0; i < nv; i++) {
        double ms = best[i] / (double)(v[i].wl.steps - 1) * 1e3;
        printf("%-26s %10.3f %8.3f\n", v[i].name, ms, best[i] / best[0]);
    }
    return 0;
}

/* Cost of recording (docs/probes.md): training with a statistics row at every step at each
 * record.level (and full with histograms of 32 bins every step) against training with one row
 * (record.every = steps), side by side in interleaved rounds; setup is subtracted as in
 * overhead() and the best loop time of the rounds counts. */
static int tier_overhead(const workload *wl, int rounds)
{
    enum { NV = 5 };
    const char *name[NV] = {"one row (training alone)", "every step: basic", "every step: standard",
                            "every step: full", "every step: full + hist"};
    gs_record rec[NV];
    double best[NV], setup[NV];
    for (int i = 0; i < NV; i++) {
        rec[i] = (gs_record){.every = 1, .level = GS_LEVEL_BASIC, .dtype = GS_DTYPE_FLOAT32};
        rec[i].level = i == 2 ? GS_LEVEL_STANDARD : i >= 3 ? GS_LEVEL_FULL : GS_LEVEL_BASIC;
        rec[i].hist_bins = i == 4 ? 32 : 0;
        rec[i].hist_min = -12.0;
        rec[i].hist_max = 2.0;
        best[i] = setup[i] = 1e30;
    }
    rec[0].every = wl->steps;
    for (int i = 0; i < NV; i++)
        for (int r = 0; r < 2; r++) {
            double t = time_run(wl, 1, 3000 + (uint64_t)r, &rec[i]);
            if (t < 0)
                return 1;
            setup[i] = t < setup[i] ? t : setup[i];
        }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < NV; i++) {
            double t = time_run(wl, wl->steps, 1 + (uint64_t)r, &rec[i]) - setup[i];
            if (t < -1.0)
                return 1;
            best[i] = t < best[i] ? t : best[i];
        }
    printf("\nrecording overhead: %s, relu, width %lld, depth %lld, batch %lld, %lld steps;\n"
           "ms per step (best of %d interleaved rounds) and ratio to training alone\n"
           "%-26s %10s %8s\n",
           gs_dtype_names[wl->dtype], (long long)wl->width, (long long)wl->depth,
           (long long)wl->batch, (long long)wl->steps, rounds, "record", "ms/step", "ratio");
    for (int i = 0; i < NV; i++)
        printf("%-26s %10.3f %8.3f\n", name[i], best[i] / (double)(wl->steps - 1) * 1e3,
               best[i] / best[0]);
    return 0;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 2 || (argc == 2 && !quick)) {
        fprintf(stderr, "usage: gradsweep_bench [--quick]\n");
        return 2;
    }
    gsl_set_error_handler_off();
    openblas_set_num_threads(1);
    enum { F64 = GS_DTYPE_FLOAT64, F32 = GS_DTYPE_FLOAT32 };
    const workload full[] = {{64, 8, 64, 400, 8, F64, 0, 0, 0},
                             {64, 8, 64, 400, 8, F32, 0, 0, 0},
                             {512, 4, 256, 40, 3, F64, 0, 0, 0},
                             {512, 4, 256, 40, 3, F32, 0, 0, 0}};
    const workload small[] = {{64, 8, 64, 20, 1, F64, 0, 0, 0},
                              {64, 8, 64, 20, 1, F32, 0, 0, 0},
                              {512, 4, 256, 3, 1, F64, 0, 0, 0},
                              {512, 4, 256, 3, 1, F32, 0, 0, 0}};
    const workload *wl = quick ? small : full;
    printf("gradsweep_bench: relu, gaussian mixture 32 -> 10, cross entropy, sgd; 1 thread\n"
           "flops per step = 6 * sum(n_in n_out) * batch; train = loop time of gs_train_run\n"
           "(record every step, 3 gradient snapshots); GEMM = the 3 gemm calls per layer alone,\n"
           "in the same precision; rates are the best of the trials, runs/s the mean\n"
           "%7s %6s %6s %6s %6s %14s %14s %7s %9s\n",
           "compute", "width", "depth", "batch", "steps", "train GFLOP/s", "GEMM GFLOP/s", "ratio",
           "runs/s");
    for (int i = 0; i < 4; i++)
        if (bench(&wl[i]))
            return 1;
    workload base = {256, 8, 128, quick ? 6 : 60, 1, F64, GS_NORM_NONE, 0, GS_OPT_SGD};
    variant v[8];
    for (int i = 0; i < 8; i++)
        v[i].wl = base;
    v[0].name = "plain (sgd)";
    v[1].name = "norm: batchnorm";
    v[1].wl.norm = GS_NORM_BATCHNORM;
    v[2].name = "norm: layernorm";
    v[2].wl.norm = GS_NORM_LAYERNORM;
    v[3].name = "residual: {every: 1}";
    v[3].wl.residual_every = 1;
    v[4].name = "residual: {every: 2}";
    v[4].wl.residual_every = 2;
    v[5].name = "optimizer: adam";
    v[5].wl.optimizer = GS_OPT_ADAM;
    v[6].name = "optimizer: momentum";
    v[6].wl.optimizer = GS_OPT_MOMENTUM;
    v[7].name = "dtype: float32";
    v[7].wl.dtype = F32;
    if (overhead(v, 8, quick ? 1 : 5))
        return 1;
    const workload tw[] = {{256, 8, 128, quick ? 6 : 60, 1, F64, GS_NORM_NONE, 0, GS_OPT_SGD},
                           {64, 8, 64, quick ? 6 : 300, 1, F64, GS_NORM_NONE, 0, GS_OPT_SGD},
                           {64, 8, 64, quick ? 6 : 300, 1, F32, GS_NORM_NONE, 0, GS_OPT_SGD}};
    for (int i = 0; i < 3; i++)
        if (tier_overhead(&tw[i], quick ? 1 : 7))
            return 1;
    return 0;
}
