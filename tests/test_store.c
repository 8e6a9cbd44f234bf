/* Store tests: create / commit / close, resume, refusal of an existing output, --force, the lock,
 * bitwise read-back through the index (float64 and float32 storage), crash leftovers, spec
 * mismatches, runs outside the plan, the index rewrite throttle, a full disk (/dev/full),
 * silence of HDF5 in other threads, chunking and dimension scales, runs without biases or with
 * normalization, the held-out evaluation columns and outputs of older versions. Plans and results
 * are built by hand here. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "check.h"
#include "gradsweep/store.h"
#include "gradsweep/theory.h"
#include "store/internal.h"

#define TINY_YAML                                                                                  \
    "name: tiny\nseed: 3\nreplicates: 1\ndata: {kind: gaussian_mixture, classes: 3, dim: 5, "      \
    "samples: 64}\nmodel: {depth: [1, 2], width: 8, activation: [tanh, relu]}\n"                   \
    "train: {steps: 20, batch: 16, lr: 0.05}\nrecord: {every: 1, grads: [0, 10, 19], dtype: "      \
    "float32}\n"

static char tmpdir[256];

/* ---- building plans and results by hand ---- */

static void set_axis(gs_axis *ax, const char *key, const char *const *vals, size_t n)
{
    ax->key = gs_key_find(key);
    ax->n_values = n;
    ax->values = calloc(n, sizeof *ax->values);
    for (size_t i = 0; i < n; i++)
        ax->values[i] = strdup(vals[i]);
}

/* depth {1,2} x activation {tanh,relu} x sigma_w {0.5,2} (8 runs) or, when wide, one run of
 * depth 2 and the given width. dtype: record dtype. */
static gs_plan *make_plan(uint64_t master_seed, int dtype, int64_t width, int weights)
{
    static const char *const depths[] = {"1", "2"}, *const acts[] = {"tanh", "relu"},
                             *const sws[] = {"0.5", "2"};
    gs_plan *p = calloc(1, sizeof *p);
    p->name = strdup("tiny");
    p->master_seed = master_seed;
    p->replicates = 1;
    p->record.every = 1;
    p->record.n_grad_steps = 3;
    p->record.grad_steps = malloc(3 * sizeof(int64_t));
    p->record.grad_steps[0] = 0;
    p->record.grad_steps[1] = 2;
    p->record.grad_steps[2] = 4;
    p->record.weights = weights;
    p->record.dtype = dtype;
    p->resolved_yaml = strdup(TINY_YAML);
    p->source_path = strdup("tiny.yaml");
    int wide = width > 8;
    p->n_axes = wide ? 0 : 3;
    p->axes = calloc(3, sizeof *p->axes);
    if (!wide) {
        set_axis(&p->axes[0], "model.depth", depths, 2);
        set_axis(&p->axes[1], "model.activation", acts, 2);
        set_axis(&p->axes[2], "model.sigma_w", sws, 2);
    }
    p->n_runs = wide ? 1 : 8;
    p->runs = calloc(p->n_runs, sizeof *p->runs);
    for (size_t i = 0; i < p->n_runs; i++) {
        gs_run *r = &p->runs[i];
        snprintf(r->id, sizeof r->id, "%016" PRIx64,
                 (uint64_t)((i + 1 + (uint64_t)width * 100) * UINT64_C(0x9E3779B97F4A7C15)));
        r->seed = 100 + i;
        r->index = i;
        gs_config_defaults(&r->cfg);
        r->cfg.data_classes = 3;
        r->cfg.data_dim = 5;
        r->cfg.width = width;
        r->cfg.steps = 5;
        r->cfg.batch = 16;
        r->cfg.depth = wide ? 2 : (int64_t)(i / 4) + 1;
        r->cfg.activation = (i / 2) % 2 ? GS_ACT_RELU : GS_ACT_TANH;
        r->cfg.sigma_w = i % 2 ? 2.0 : 0.5;
    }
    return p;
}

static void free_plan(gs_plan *p)
{
    for (size_t a = 0; a < 3; a++) {
        for (size_t i = 0; i < p->axes[a].n_values; i++)
            free(p->axes[a].values[i]);
        free(p->axes[a].values);
    }
    free(p->axes);
    free(p->runs);
    free(p->record.grad_steps);
    free(p->name);
    free(p->resolved_yaml);
    free(p->source_path);
    free(p);
}

/* Deterministic value j of run seed, layer l, with special values sprinkled in. */
static double value(uint64_t seed, size_t l, size_t j)
{
    switch ((seed + l + j) % 23) {
    case 3:
        return 1e-40; /* float32 denormal */
    case 7:
        return -0.0;
    case 11:
        return 1e300; /* overflows float32 */
    case 13:
        return (double)NAN;
    case 17:
        return 1.0 / 3.0;
    default:
        return sin((double)(seed * 131 + l * 1000 + j)) * pow(10.0, (double)(j % 7) - 3);
    }
}

/* A result of run r: T = steps rows, S snapshots (the record steps) unless diverged. */
static gs_result *make_result(const gs_run *r, int diverged, int weights)
{
    gs_result *res = calloc(1, sizeof *res);
    size_t L = (size_t)r->cfg.depth + 1;
    res->n_layers = L;
    res->fan_in = malloc(L * sizeof(size_t));
    res->fan_out = malloc(L * sizeof(size_t));
    for (size_t l = 0; l < L; l++) {
        res->fan_in[l] = l == 0 ? 5 : (size_t)r->cfg.width;
        res->fan_out[l] = l == L - 1 ? 3 : (size_t)r->cfg.width;
    }
    res->d_in = 5;
    res->d_out = 3;
    size_t T = diverged ? 1 : (size_t)r->cfg.steps;
    res->cap_rows = res->n_rows = T;
    res->step = malloc(T * sizeof(int64_t));
    res->loss = malloc(T * sizeof(double));
    res->grad_norm = malloc(T * L * sizeof(double));
    res->lr = malloc(T * sizeof(double));
    res->clipped = malloc(T * sizeof(int8_t));
    res->grad_norm_global = malloc(T * sizeof(double));
    for (size_t t = 0; t < T; t++) {
        res->step[t] = (int64_t)t;
        res->lr[t] = 0.01 / (double)(t + 1);
        res->clipped[t] = (int8_t)(t % 2);
        res->grad_norm_global[t] = diverged ? (double)NAN : 3.0 + (double)t;
        res->loss[t] = diverged ? (double)INFINITY : 2.0 / (double)(t + 1) + (double)r->seed;
        for (size_t l = 0; l < L; l++)
            res->grad_norm[t * L + l] = diverged ? (double)NAN : value(r->seed, l, t) + 7;
    }
    res->cap_snaps = 3;
    res->snap_plan = malloc(3 * sizeof(int64_t));
    for (size_t s = 0; s < 3; s++)
        res->snap_plan[s] = 2 * (int64_t)s;
    res->n_snaps = diverged ? 0 : 3;
    res->grads = calloc(L, sizeof(double *));
    res->weights = weights ? calloc(L, sizeof(double *)) : NULL;
    for (size_t l = 0; l < L; l++) {
        size_t n = 3 * res->fan_in[l] * res->fan_out[l];
        res->grads[l] = malloc(n * sizeof(double));
        for (size_t j = 0; j < n; j++)
            res->grads[l][j] = value(r->seed, l, j);
        if (weights) {
            res->weights[l] = malloc(n * sizeof(double));
            for (size_t j = 0; j < n; j++)
                res->weights[l][j] = value(r->seed + 1, l, j) * 0.5;
        }
    }
    res->status = diverged ? GS_RUN_DIVERGED : GS_RUN_OK;
    res->diverged_step = diverged ? 0 : -1;
    res->steps_done = (int64_t)T;
    res->final_loss = res->loss[T - 1];
    res->grad_norm0_first = res->grad_norm[0];
    res->grad_norm0_last = res->grad_norm[L - 1];
    res->final_eval_loss = res->final_eval_accuracy = (double)NAN;
    return res;
}

static gs_store_opts opts_for(gs_store_mode mode)
{
    gs_store_opts o = {mode, "gradsweep run tiny.yaml -o out.h5", "mt19937", 0, 0};
    return o;
}

/* Adds run i of plan (diverged when div) to st; returns the status. */
static gs_status add(gs_store *st, const gs_plan *p, size_t i, int div, gs_error *err)
{
    gs_result *res = make_result(&p->runs[i], div, p->record.weights);
    gs_status s = gs_store_add_run(st, &p->runs[i], res, err);
    gs_result_destroy(res);
    return s;
}

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ---- reading back ---- */

static void check_attr_str(hid_t obj, const char *name, const char *want)
{
    char buf[256] = "";
    CHECK(gs_h5_read_str(obj, name, buf, sizeof buf) >= 0);
    CHECK_EQ_STR(buf, want);
}

/* Reads dataset path as doubles; *n gets the element count. */
static double *read_f64(hid_t f, const char *path, size_t *n, int *rank, hsize_t *dims)
{
    hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
    CHECK(ds >= 0);
    if (ds < 0)
        return NULL;
    hid_t sp = H5Dget_space(ds);
    *rank = H5Sget_simple_extent_ndims(sp);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    *n = (size_t)H5Sget_simple_extent_npoints(sp);
    double *v = malloc((*n + 1) * sizeof *v);
    if (*n)
        CHECK(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(sp);
    H5Dclose(ds);
    return v;
}

/* Bitwise comparison of the stored array at path (rank and shape dims) with the double buffer
 * (rounded to float when f32). */
static void check_array(hid_t f, const char *path, const double *want, int want_rank,
                        const hsize_t *want_dims, int f32)
{
    size_t n = 0, total = 1;
    int rank = 0;
    hsize_t dims[3] = {0, 0, 0};
    double *got = read_f64(f, path, &n, &rank, dims);
    CHECK_EQ_INT(rank, want_rank);
    for (int i = 0; i < want_rank && i < 3; i++) {
        CHECK_EQ_INT(dims[i], want_dims[i]);
        total *= (size_t)want_dims[i];
    }
    int bad = 0;
    for (size_t j = 0; got && j < n && j < total; j++) {
        double w = f32 ? (double)(float)want[j] : want[j];
        if (isnan(w) ? !isnan(got[j]) : memcmp(&w, &got[j], sizeof w) != 0)
            bad++;
    }
    if (bad)
        fprintf(stderr, "%s: %d values differ\n", path, bad);
    CHECK_EQ_INT(bad, 0);
    free(got);
}

/* A stored weight tensor [S, fo, fi]. */
static void check_tensor(hid_t f, const char *path, const double *want, size_t S, size_t fo,
                         size_t fi, int f32)
{
    hsize_t dims[3] = {S, fo, fi};
    check_array(f, path, want, 3, dims, f32);
}

/* Checks everything stored for run i (through the index's external link). */
static void check_run(hid_t f, const gs_plan *p, size_t i, int div)
{
    const gs_run *r = &p->runs[i];
    gs_result *res = make_result(r, div, p->record.weights);
    int f32 = p->record.dtype == GS_DTYPE_FLOAT32;
    char path[128];
    snprintf(path, sizeof path, "/runs/%s", r->id);
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    CHECK(g >= 0);
    if (g < 0)
        goto done;
    check_attr_str(g, "run_id", r->id);
    check_attr_str(g, "status", div ? "diverged" : "ok");
    check_attr_str(g, "model.activation", gs_act_names[r->cfg.activation]);
    check_attr_str(g, "train.batch", "16");
    CHECK(H5Aexists(g, "data.path") == 0); /* hdf5-only key on a gaussian_mixture run */
    uint64_t seed = 0;
    int64_t depth = 0, dstep = 7;
    double sw = 0;
    CHECK(gs_h5_read_u64(g, "seed", &seed) >= 0 && seed == r->seed);
    CHECK(gs_h5_read_i64(g, "model.depth", &depth) >= 0 && depth == r->cfg.depth);
    CHECK(gs_h5_read_f64(g, "model.sigma_w", &sw) >= 0 && sw == r->cfg.sigma_w);
    CHECK(gs_h5_read_i64(g, "diverged_step", &dstep) >= 0 && dstep == (div ? 0 : -1));
    double ev = 0;
    CHECK(gs_h5_read_f64(g, "final_eval_loss", &ev) >= 0 && isnan(ev));
    CHECK(gs_h5_read_f64(g, "final_eval_accuracy", &ev) >= 0 && isnan(ev));
    size_t n = 0;
    int rank = 0;
    hsize_t dims[3];
    double *loss = read_f64(g, "loss", &n, &rank, dims);
    CHECK(loss && n == res->n_rows && memcmp(loss, res->loss, n * sizeof *loss) == 0);
    free(loss);
    double *lr = read_f64(g, "lr", &n, &rank, dims);
    CHECK(lr && n == res->n_rows && memcmp(lr, res->lr, n * sizeof *lr) == 0);
    free(lr);
    double *gg = read_f64(g, "grad_norm_global", &n, &rank, dims);
    CHECK(gg && n == res->n_rows && rank == 1);
    for (size_t j = 0; gg && j < n; j++)
        CHECK(isnan(res->grad_norm_global[j]) ? isnan(gg[j]) : gg[j] == res->grad_norm_global[j]);
    free(gg);
    double *cl = read_f64(g, "clipped", &n, &rank, dims);
    for (size_t j = 0; cl && j < n; j++)
        CHECK(cl[j] == (double)res->clipped[j]);
    free(cl);
    double *gn = read_f64(g, "grad_norm", &n, &rank, dims);
    CHECK(gn && rank == 2 && dims[1] == res->n_layers);
    for (size_t j = 0; gn && j < n; j++)
        CHECK(isnan(res->grad_norm[j]) ? isnan(gn[j]) : gn[j] == res->grad_norm[j]);
    free(gn);
    for (size_t l = 0; l < res->n_layers; l++) {
        snprintf(path, sizeof path, "grads/W%03zu", l);
        check_tensor(g, path, res->grads[l], res->n_snaps, res->fan_out[l], res->fan_in[l], f32);
        if (res->weights) {
            snprintf(path, sizeof path, "weights/W%03zu", l);
            check_tensor(g, path, res->weights[l], res->n_snaps, res->fan_out[l], res->fan_in[l],
                         f32);
        }
    }
    H5Gclose(g);
done:
    gs_result_destroy(res);
}

/* Summary rows: run ids (in stored order) into ids; returns the row count. */
static size_t summary_ids(hid_t f, char ids[][GS_RUN_ID_LEN + 1], size_t cap)
{
    hid_t ds = H5Dopen2(f, "summary", H5P_DEFAULT);
    CHECK(ds >= 0);
    if (ds < 0)
        return 0;
    hid_t sp = H5Dget_space(ds);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, GS_RUN_ID_LEN + 1);
    hid_t mt = H5Tcreate(H5T_COMPOUND, GS_RUN_ID_LEN + 1);
    H5Tinsert(mt, "run_id", 0, st);
    char(*buf)[GS_RUN_ID_LEN + 1] = calloc(n + 1, sizeof *buf);
    if (n)
        CHECK(H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    for (size_t i = 0; i < n && i < cap; i++)
        memcpy(ids[i], buf[i], sizeof buf[i]);
    free(buf);
    H5Tclose(mt);
    H5Tclose(st);
    H5Sclose(sp);
    H5Dclose(ds);
    return n;
}

static hid_t open_index(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    return f;
}

/* ---- cases ---- */

static void test_chunk_shapes(void)
{
    hsize_t c[3];
    hsize_t small[3] = {3, 8, 8};
    CHECK_EQ_INT(gs_h5_chunk_shape(3, small, 4, c), 0);
    hsize_t one[3] = {4, 160, 160}; /* 100 KiB per float32 snapshot: one snapshot per chunk */
    CHECK_EQ_INT(gs_h5_chunk_shape(3, one, 4, c), 1);
    CHECK(c[0] == 1 && c[1] == 160 && c[2] == 160);
    hsize_t many[3] = {1000, 10, 10}; /* 400 B per snapshot: 164 snapshots reach 64 KiB */
    CHECK_EQ_INT(gs_h5_chunk_shape(3, many, 4, c), 1);
    CHECK(c[0] == 164 && c[1] == 10 && c[2] == 10);
    hsize_t big[3] = {2, 2048, 2048}; /* 16 MiB per snapshot: split rows */
    CHECK_EQ_INT(gs_h5_chunk_shape(3, big, 4, c), 1);
    CHECK(c[0] == 1 && c[1] == 8 && c[2] == 2048);
    hsize_t rows[2] = {100000, 3};
    CHECK_EQ_INT(gs_h5_chunk_shape(2, rows, 8, c), 1);
    CHECK(c[0] * c[1] * 8 >= GS_CHUNK_MIN && c[0] * c[1] * 8 <= GS_CHUNK_MAX);
}

/* Create, two commits, close; read everything back through the index. */
static void test_create_and_read(int dtype, int weights)
{
    char out[512], path[600];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, dtype, 4, weights);
    path_in(out, sizeof out, dtype == GS_DTYPE_FLOAT64 ? "f64.h5" : "f32.h5");
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    o.commit_runs = 2;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    CHECK_EQ_INT(gs_store_committed(st), 0);
    CHECK(!gs_store_commit_due(st));
    CHECK_EQ_INT(add(st, p, 5, 0, &err), GS_OK);
    CHECK(!gs_store_commit_due(st));
    CHECK_EQ_INT(add(st, p, 1, 1, &err), GS_OK);
    CHECK(gs_store_commit_due(st));
    CHECK(!gs_store_has_run(st, p->runs[5].id)); /* pending, not committed */
    CHECK(!exists(out));
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK(gs_store_has_run(st, p->runs[5].id));
    CHECK_EQ_INT(gs_store_committed(st), 2);
    CHECK(exists(out)); /* the index exists right after the first commit */
    CHECK_EQ_INT(add(st, p, 3, 0, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 3, 0, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "already in the output");
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);

    snprintf(path, sizeof path, "%s.d/seg-000002.h5", out);
    CHECK(exists(path));
    snprintf(path, sizeof path, "%s.d/journal", out);
    char *j = read_text(path);
    CHECK_HAS_STR(j, "gradsweep-journal 1 master_seed=3 created=");
    CHECK_HAS_STR(j, "record=every=1;grads=0,2,4;grad_every=0;grad_log=0;weights=");
    char line[64];
    snprintf(line, sizeof line, "\nseg-000001.h5 %s %s\n", p->runs[5].id, p->runs[1].id);
    CHECK_HAS_STR(j, line);
    snprintf(line, sizeof line, "\nseg-000002.h5 %s\n", p->runs[3].id);
    CHECK_HAS_STR(j, line);
    free(j);

    hid_t f = open_index(out);
    if (f < 0)
        goto done;
    check_attr_str(f, "schema", "gradsweep/1");
    check_attr_str(f, "rng", "mt19937");
    check_attr_str(f, "spec", TINY_YAML);
    check_attr_str(f, "record_dtype", gs_dtype_names[dtype]);
    int64_t n_runs = 0;
    CHECK(gs_h5_read_i64(f, "n_runs", &n_runs) >= 0 && n_runs == 8);
    char ids[8][GS_RUN_ID_LEN + 1];
    CHECK_EQ_INT(summary_ids(f, ids, 8), 3);
    CHECK_EQ_STR(ids[0], p->runs[1].id); /* plan order, not commit order */
    CHECK_EQ_STR(ids[1], p->runs[3].id);
    CHECK_EQ_STR(ids[2], p->runs[5].id);
    check_run(f, p, 5, 0);
    check_run(f, p, 1, 1);
    check_run(f, p, 3, 0);
    H5Fclose(f);
done:
    free_plan(p);
}

/* Resume: committed runs are reported, new ones added, summary complete and ordered. */
static void test_resume(void)
{
    char out[512];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT64, 4, 0);
    path_in(out, sizeof out, "f64.h5");
    gs_store_opts o = opts_for(GS_STORE_RESUME);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    CHECK_EQ_INT(gs_store_committed(st), 3);
    for (size_t i = 0; i < p->n_runs; i++) {
        int had = i == 1 || i == 3 || i == 5;
        CHECK_EQ_INT(gs_store_has_run(st, p->runs[i].id), had);
        if (!had)
            CHECK_EQ_INT(add(st, p, i, 0, &err), GS_OK);
    }
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    hid_t f = open_index(out);
    char ids[8][GS_RUN_ID_LEN + 1];
    CHECK_EQ_INT(summary_ids(f, ids, 8), 8);
    for (size_t i = 0; i < 8; i++)
        CHECK_EQ_STR(ids[i], p->runs[i].id);
    check_run(f, p, 1, 1);
    check_run(f, p, 6, 0);
    H5Fclose(f);
done:
    free_plan(p);
}

/* CREATE refuses an existing output; RESUME refuses an index without its directory. */
static void test_refuse_existing(void)
{
    char out[512], other[512];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT64, 4, 0);
    path_in(out, sizeof out, "f64.h5");
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_EEXIST);
    CHECK_HAS_STR(err.msg, "f64.h5 exists; use --resume to continue it or --force to overwrite");
    CHECK(st == NULL);
    path_in(other, sizeof other, "plain.h5");
    FILE *fp = fopen(other, "w");
    fclose(fp);
    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&st, other, p, &o, &err), GS_EEXIST);
    CHECK_HAS_STR(err.msg, "cannot be resumed");
    /* Only the directory (killed before the first commit): the message names it. */
    char dir[600];
    path_in(other, sizeof other, "dironly.h5");
    snprintf(dir, sizeof dir, "%s.d", other);
    CHECK(mkdir(dir, 0777) == 0);
    o.mode = GS_STORE_CREATE;
    CHECK_EQ_INT(gs_store_open(&st, other, p, &o, &err), GS_EEXIST);
    CHECK_HAS_STR(err.msg, "dironly.h5.d exists (an interrupted output with no committed run?); "
                           "use --resume to continue it or --force to overwrite");
    CHECK(strstr(err.msg, "dironly.h5 exists") == NULL);
    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&st, other, p, &o, &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    free_plan(p);
}

/* A second open while the first holds the lock is refused. */
static void test_lock(void)
{
    char out[512];
    gs_error err = {0};
    gs_store *a = NULL, *b = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT64, 4, 0);
    path_in(out, sizeof out, "f64.h5");
    gs_store_opts o = opts_for(GS_STORE_RESUME);
    CHECK_EQ_INT(gs_store_open(&a, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(gs_store_open(&b, out, p, &o, &err), GS_EBUSY);
    CHECK_HAS_STR(err.msg, "f64.h5 is in use by another gradsweep process (lock ");
    CHECK_HAS_STR(err.msg, "f64.h5.d/lock)");
    o.mode = GS_STORE_FORCE;
    CHECK_EQ_INT(gs_store_open(&b, out, p, &o, &err), GS_EBUSY);
    CHECK_EQ_INT(gs_store_close(a, &err), GS_OK);
    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&b, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(b, &err), GS_OK);
    free_plan(p);
}

/* FORCE replaces an existing output: old segments gone, empty summary, still a valid index. */
static void test_force(void)
{
    char out[512], path[600];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT64, 4, 0);
    path_in(out, sizeof out, "f64.h5");
    gs_store_opts o = opts_for(GS_STORE_FORCE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(gs_store_committed(st), 0);
    CHECK(!gs_store_has_run(st, p->runs[1].id));
    snprintf(path, sizeof path, "%s.d/seg-000001.h5", out);
    CHECK(!exists(path));
    CHECK(!exists(out));
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    hid_t f = open_index(out);
    char ids[1][GS_RUN_ID_LEN + 1];
    CHECK_EQ_INT(summary_ids(f, ids, 1), 0);
    H5Fclose(f);
    free_plan(p);
}

static void write_file(const char *path, const char *text, int append)
{
    FILE *fp = fopen(path, append ? "ab" : "wb");
    CHECK(fp != NULL);
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *outf = fopen(to, "wb");
    char buf[4096];
    size_t n;
    CHECK(in && outf);
    while (in && outf && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, outf);
    if (in)
        fclose(in);
    if (outf)
        fclose(outf);
}

/* Leftovers of a kill -9 (a *.part, a renamed but unjournaled segment, a stale index temp, a
 * torn journal line) are dropped on resume; numbering and appending continue cleanly. */
static void test_crash_leftovers(void)
{
    char out[512], d[600], a[700], b[700];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT64, 4, 0);
    path_in(out, sizeof out, "crash.h5");
    snprintf(d, sizeof d, "%s.d", out);
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 0, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 1, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);

    snprintf(a, sizeof a, "%s/seg-000003.h5.part", d);
    write_file(a, "half a segment", 0);
    snprintf(a, sizeof a, "%s/seg-000002.h5", d);
    snprintf(b, sizeof b, "%s/seg-000004.h5", d);
    copy_file(a, b);
    snprintf(a, sizeof a, "%s.tmp", out);
    write_file(a, "half an index", 0);
    snprintf(a, sizeof a, "%s/journal", d);
    write_file(a, "seg-000004.h5 0123", 1);

    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    CHECK_EQ_INT(gs_store_committed(st), 2);
    CHECK(!exists(b));
    snprintf(b, sizeof b, "%s/seg-000003.h5.part", d);
    CHECK(!exists(b));
    snprintf(b, sizeof b, "%s.tmp", out);
    CHECK(!exists(b));
    CHECK_EQ_INT(add(st, p, 2, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    char *j = read_text(a);
    CHECK(strstr(j, "seg-000004") == NULL);
    char line[64];
    snprintf(line, sizeof line, "\nseg-000003.h5 %s\n", p->runs[2].id);
    CHECK_HAS_STR(j, line);
    free(j);

    /* Resume with a plan that no longer holds runs 1 and 2 is refused, naming one of them and a
     * value the plan cannot produce; the output is left as it was. */
    size_t n_runs = p->n_runs;
    p->n_runs = 1;
    p->axes[2].n_values = 1; /* sigma_w: 0.5 only; run 1 has 2 */
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_ESPEC);
    CHECK(st == NULL);
    char want[300];
    snprintf(want, sizeof want,
             "crash.h5 holds 2 runs that are not in this spec (e.g. run %s with model.sigma_w=2 "
             "(not on the spec's axis)); --resume needs a spec whose runs include every stored "
             "run (add values to axes; do not change fixed values, the seed or the record "
             "section); write to a new output or use --force",
             p->runs[1].id);
    CHECK_HAS_STR(err.msg, want);
    p->axes[2].n_values = 2;
    /* A changed fixed value is named with the spec's value. */
    int64_t steps = p->runs[0].cfg.steps;
    p->runs[0].cfg.steps = 7;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_ESPEC);
    CHECK_HAS_STR(err.msg, "with train.steps=5 (the spec has 7)");
    p->runs[0].cfg.steps = steps;
    p->n_runs = n_runs;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(gs_store_committed(st), 3);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    hid_t f = open_index(out);
    char ids[8][GS_RUN_ID_LEN + 1];
    CHECK_EQ_INT(summary_ids(f, ids, 8), 3);
    CHECK_EQ_STR(ids[0], p->runs[0].id);
    CHECK_EQ_STR(ids[1], p->runs[1].id);
    CHECK_EQ_STR(ids[2], p->runs[2].id);
    check_run(f, p, 2, 0);
    H5Fclose(f);
done:
    free_plan(p);
}

/* Resume refuses a different master seed or record section, and a missing journaled segment. */
static void test_mismatch(void)
{
    char out[512], path[600];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(4, GS_DTYPE_FLOAT64, 4, 0);
    path_in(out, sizeof out, "crash.h5");
    gs_store_opts o = opts_for(GS_STORE_RESUME);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_ESPEC);
    CHECK_HAS_STR(err.msg, "master seed differs");
    CHECK_HAS_STR(err.msg, "seed 3, the spec has seed 4");
    p->master_seed = 3;
    p->record.dtype = GS_DTYPE_FLOAT32;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_ESPEC);
    CHECK_HAS_STR(err.msg, "record section differs");
    CHECK_HAS_STR(err.msg, "dtype=float32");
    p->record.dtype = GS_DTYPE_FLOAT64;
    snprintf(path, sizeof path, "%s.d/seg-000001.h5", out);
    CHECK(unlink(path) == 0);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_EIO);
    CHECK_HAS_STR(err.msg, "seg-000001.h5: listed in the journal (line 2) but missing");
    CHECK(st == NULL);
    free_plan(p);
}

static void check_scale(hid_t ds, hid_t scale, unsigned dim, const char *label)
{
    char buf[32] = "";
    CHECK(H5DSis_attached(ds, scale, dim) > 0);
    CHECK(H5DSget_label(ds, dim, buf, sizeof buf) > 0);
    CHECK_EQ_STR(buf, label);
}

/* A wide run: chunked + filtered tensors, contiguous small ones, dimension scales attached. */
static void test_layout_and_scales(void)
{
    char out[512], name[32] = "";
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT32, 160, 1);
    path_in(out, sizeof out, "wide.h5");
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 0, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    hid_t f = open_index(out);
    check_run(f, p, 0, 0);
    char g[64];
    snprintf(g, sizeof g, "/runs/%s/", p->runs[0].id);
    char path[128];
#define OPEN(var, rel) (snprintf(path, sizeof path, "%s%s", g, rel), var = H5Dopen2(f, path, 0))
    hid_t w1, w0, step, fo, fi, gstep, gn, layer, loss;
    OPEN(w1, "grads/W001");
    OPEN(w0, "grads/W000");
    OPEN(gstep, "grads/step");
    OPEN(fo, "grads/fan_out_001");
    OPEN(fi, "grads/fan_in_001");
    OPEN(step, "step");
    OPEN(gn, "grad_norm");
    OPEN(layer, "layer");
    OPEN(loss, "loss");
#undef OPEN
    hid_t pl = H5Dget_create_plist(w1);
    hsize_t chunk[3] = {0, 0, 0};
    CHECK_EQ_INT(H5Pget_layout(pl), H5D_CHUNKED);
    CHECK_EQ_INT(H5Pget_chunk(pl, 3, chunk), 3);
    CHECK(chunk[0] == 1 && chunk[1] == 160 && chunk[2] == 160);
    CHECK_EQ_INT(H5Pget_nfilters(pl), 2);
    H5Pclose(pl);
    hid_t t = H5Dget_type(w1);
    CHECK(H5Tequal(t, H5T_IEEE_F32LE) > 0);
    H5Tclose(t);
    pl = H5Dget_create_plist(w0);
    CHECK_EQ_INT(H5Pget_layout(pl), H5D_CONTIGUOUS);
    H5Pclose(pl);
    CHECK(H5DSis_scale(step) > 0 && H5DSis_scale(layer) > 0 && H5DSis_scale(fo) > 0);
    CHECK(H5DSget_scale_name(fo, name, sizeof name) > 0);
    CHECK_EQ_STR(name, "fan_out");
    check_scale(loss, step, 0, "step");
    check_scale(gn, step, 0, "step");
    check_scale(gn, layer, 1, "layer");
    check_scale(w1, gstep, 0, "step");
    check_scale(w1, fo, 1, "fan_out");
    check_scale(w1, fi, 2, "fan_in");
    hid_t all[] = {w1, w0, step, fo, fi, gstep, gn, layer, loss};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        H5Dclose(all[i]);
    H5Fclose(f);
    free_plan(p);
}

/* n_committed of the index file (what a reader sees), -1 when unreadable. */
static int64_t index_committed(const char *out)
{
    int64_t n = -1;
    hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) {
        if (gs_h5_read_i64(f, "n_committed", &n) < 0)
            n = -1;
        H5Fclose(f);
    }
    return n;
}

/* The index is rewritten at the first commit, then only once max(commit_seconds, 10 x the last
 * rewrite's duration) has passed (commit_due reports that also when nothing is pending), and
 * always at close. The journal keeps the per-commit cadence. */
static void test_index_throttle(void)
{
    char out[512], path[600];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT64, 4, 0);
    path_in(out, sizeof out, "throttle.h5");
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    o.commit_seconds = 1000;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    CHECK_EQ_INT(add(st, p, 0, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK_EQ_INT(index_committed(out), 1); /* first commit: index written */
    CHECK_EQ_INT(add(st, p, 1, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 2, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK_EQ_INT(gs_store_committed(st), 3);
    CHECK_EQ_INT(index_committed(out), 1); /* lags: rewritten at most every 1000 s */
    snprintf(path, sizeof path, "%s.d/seg-000003.h5", out);
    CHECK(exists(path)); /* ... but every commit is journaled */
    CHECK(!gs_store_commit_due(st));
    st->last_index -= 2000; /* the interval has passed */
    CHECK(gs_store_commit_due(st));
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK_EQ_INT(index_committed(out), 3);
    CHECK(!gs_store_commit_due(st));
    CHECK_EQ_INT(add(st, p, 3, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK_EQ_INT(index_committed(out), 3);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    CHECK_EQ_INT(index_committed(out), 4); /* close brings it up to date */
    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 4, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    CHECK_EQ_INT(index_committed(out), 4);
    /* As after a kill -9: the next session finds the index behind the journal and rebuilds it
     * at open. */
    st->broken = 1;
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    CHECK_EQ_INT(index_committed(out), 4);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(gs_store_committed(st), 5);
    CHECK_EQ_INT(index_committed(out), 5);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
done:
    free_plan(p);
}

/* Points OUT<suffix> at /dev/full, where every write fails with ENOSPC as on a full disk. */
static void full_at(const char *out, const char *suffix)
{
    char path[600];
    snprintf(path, sizeof path, "%s%s", out, suffix);
    CHECK(symlink("/dev/full", path) == 0);
}

/* A full disk while a segment is written fails add or commit with one message naming the
 * segment, drops the segment and leaves HDF5 able to shut down (HDF5 1.10 frees a file whose
 * H5Fclose fails but keeps its id, and crashed at exit); a full disk at the index fails the
 * commit after the journal line. Committed runs stay and resume continues. */
static void test_disk_full(void)
{
    char out[512], path[600];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT32, 4, 1),
            *wide = make_plan(3, GS_DTYPE_FLOAT32, 160, 1);
    if (access("/dev/full", W_OK) != 0) {
        fprintf(stderr, "test_disk_full: skipped (no /dev/full)\n");
        goto done;
    }
    path_in(out, sizeof out, "full.h5");
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    CHECK_EQ_INT(add(st, p, 0, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK);
    /* The disk fills while segment 2 is open (its descriptor now writes to /dev/full) and a
     * run with large (chunked) tensors is written to it. */
    CHECK_EQ_INT(add(st, p, 1, 0, &err), GS_OK);
    void *handle = NULL;
    int full = open("/dev/full", O_WRONLY);
    CHECK(H5Fget_vfd_handle(st->seg_file, H5P_DEFAULT, &handle) >= 0 && handle && full >= 0);
    if (handle && full >= 0)
        CHECK(dup2(full, *(int *)handle) >= 0);
    close(full);
    CHECK_EQ_INT(add(st, wide, 0, 0, &err), GS_EIO);
    snprintf(path, sizeof path, "%s.d/seg-000002.h5.part: cannot write segment: %s", out,
             strerror(ENOSPC));
    CHECK_HAS_STR(err.msg, path);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    snprintf(path, sizeof path, "%s.d/seg-000002.h5.part", out);
    CHECK(!exists(path));
    /* The disk is full when segment 2 is created. */
    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    full_at(out, ".d/seg-000002.h5.part");
    gs_status s = GS_OK;
    for (size_t i = 1; i < 4 && s == GS_OK; i++)
        s = add(st, p, i, 0, &err);
    if (s == GS_OK)
        s = gs_store_commit(st, &err);
    CHECK_EQ_INT(s, GS_EIO);
    snprintf(path, sizeof path, "%s.d/seg-000002.h5.part: cannot write segment: %s", out,
             strerror(ENOSPC));
    CHECK_HAS_STR(err.msg, path);
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_EIO);
    CHECK_HAS_STR(err.msg, "store unusable after an earlier write error");
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    snprintf(path, sizeof path, "%s.d/seg-000002.h5.part", out);
    CHECK(!exists(path));
    /* The index: the run is journaled (committed), the index stays behind. */
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    CHECK_EQ_INT(gs_store_committed(st), 1);
    CHECK_EQ_INT(add(st, p, 1, 0, &err), GS_OK);
    full_at(out, ".tmp");
    CHECK_EQ_INT(gs_store_close(st, &err), GS_EIO);
    CHECK_HAS_STR(err.msg, "full.h5.tmp: ");
    CHECK_HAS_STR(err.msg, strerror(ENOSPC));
    CHECK_EQ_INT(index_committed(out), 1);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    CHECK_EQ_INT(gs_store_committed(st), 2);
    CHECK(gs_store_has_run(st, p->runs[0].id) && gs_store_has_run(st, p->runs[1].id));
    for (size_t i = 2; i < p->n_runs; i++)
        CHECK_EQ_INT(add(st, p, i, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    hid_t f = open_index(out);
    char ids[8][GS_RUN_ID_LEN + 1];
    CHECK_EQ_INT(summary_ids(f, ids, 8), 8);
    check_run(f, p, 0, 0);
    check_run(f, p, 3, 0);
    H5Fclose(f);
done:
    free_plan(wide);
    free_plan(p);
}

/* ---- HDF5 stays silent in threads other than main ---- */

typedef enum { CALL_OPEN, CALL_ADD, CALL_COMMIT, CALL_CLOSE } call_kind;

typedef struct {
    call_kind kind;
    gs_store *st;
    const gs_plan *p;
    const char *out;
    gs_status status;
    gs_error err;
} call;

static void *call_main(void *arg)
{
    call *c = arg;
    gs_store_opts o = opts_for(GS_STORE_RESUME);
    gs_store *st = NULL;
    switch (c->kind) {
    case CALL_OPEN:
        c->status = gs_store_open(&st, c->out, c->p, &o, &c->err);
        gs_store_close(st, NULL);
        break;
    case CALL_ADD:
        c->status = add(c->st, c->p, 1, 0, &c->err);
        break;
    case CALL_COMMIT:
        c->status = gs_store_commit(c->st, &c->err);
        break;
    case CALL_CLOSE:
        c->status = gs_store_close(c->st, &c->err);
        break;
    }
    return NULL;
}

/* Runs one store call on a fresh thread with stderr captured; checks its status and that
 * nothing was printed. */
static void call_in_thread(call_kind kind, gs_store *st, const gs_plan *p, const char *out,
                           gs_status want)
{
    char log[600];
    call c = {kind, st, p, out, GS_OK, {0}};
    path_in(log, sizeof log, "stderr.txt");
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    pthread_t t;
    int started = pthread_create(&t, NULL, call_main, &c) == 0;
    if (started)
        pthread_join(t, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK(started);
    CHECK_EQ_INT(c.status, want);
    char *text = read_text(log);
    if (text[0])
        fprintf(stderr, "call %d printed:\n%.600s\n", (int)kind, text);
    CHECK_EQ_INT(strlen(text), 0);
    free(text);
}

static void make_dir_at(const char *out, const char *suffix)
{
    char path[600];
    snprintf(path, sizeof path, "%s%s", out, suffix);
    CHECK(mkdir(path, 0777) == 0);
}

/* Every entry point that calls HDF5 silences it for its own thread: in a thread-safe HDF5 the
 * main thread's H5Eset_auto2 does not reach the writer thread. Failures are provoked by putting
 * directories where the store creates files. */
static void test_quiet_threads(void)
{
    char out[512], path[600], line[64];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(3, GS_DTYPE_FLOAT64, 4, 0);
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    /* add: the segment cannot be created */
    path_in(out, sizeof out, "quiet_add.h5");
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    make_dir_at(out, ".d/seg-000001.h5.part");
    call_in_thread(CALL_ADD, st, p, out, GS_EIO);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    /* commit: the index cannot be created */
    path_in(out, sizeof out, "quiet_commit.h5");
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 1, 0, &err), GS_OK);
    make_dir_at(out, ".tmp");
    call_in_thread(CALL_COMMIT, st, p, out, GS_EIO);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    /* close: the same at the final index */
    path_in(out, sizeof out, "quiet_close.h5");
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    make_dir_at(out, ".tmp");
    call_in_thread(CALL_CLOSE, st, p, out, GS_EIO);
    snprintf(path, sizeof path, "%s.tmp", out);
    CHECK(rmdir(path) == 0);
    /* open (resume): a journaled segment that is not an HDF5 file */
    snprintf(path, sizeof path, "%s.d/seg-000001.h5", out);
    write_file(path, "not hdf5", 0);
    snprintf(path, sizeof path, "%s.d/journal", out);
    snprintf(line, sizeof line, "seg-000001.h5 %s\n", p->runs[1].id);
    write_file(path, line, 1);
    call_in_thread(CALL_OPEN, NULL, p, out, GS_EHDF5);
    free_plan(p);
}

/* ---- bias-free runs, normalization snapshots, held-out evaluation columns ---- */

/* Fills the n buffers of a snapshot set (each cap_snaps x fan_out[l] (x fan_in[l] when matrix))
 * with value(key, l, j); a NULL set is left alone. */
static void fill_set(double **bufs, size_t n, const gs_result *res, int matrix, uint64_t key)
{
    for (size_t l = 0; bufs && l < n; l++) {
        size_t per = res->fan_out[l] * (matrix ? res->fan_in[l] : 1);
        for (size_t j = 0; j < res->cap_snaps * per; j++)
            bufs[l][j] = value(key, l, j);
    }
}

/* A result of run r made by gs_result_create, so that the store gets exactly the buffers that
 * training allocates for r's model.bias, model.norm and train.eval_fraction under rec: T = steps
 * rows and every planned snapshot, or (div) one row, no snapshot and one evaluation. */
static gs_result *make_result_cfg(const gs_run *r, const gs_record *rec, int div)
{
    gs_result *res = NULL;
    gs_error err = {0};
    CHECK_EQ_INT(gs_result_create(&res, r, rec, 5, 3, &err), GS_OK);
    if (!res) {
        fprintf(stderr, "gs_result_create: %s\n", err.msg);
        return NULL;
    }
    size_t L = res->n_layers, H = res->n_norm, T = div ? 1 : (size_t)r->cfg.steps;
    uint64_t k = r->seed;
    CHECK(T <= res->cap_rows);
    res->n_rows = T;
    for (size_t t = 0; t < T; t++) {
        res->step[t] = (int64_t)t;
        res->loss[t] = div ? (double)INFINITY : 1.0 / (double)(t + 1);
        res->lr[t] = 0.01;
        res->clipped[t] = 0;
        res->grad_norm_global[t] = 1.0 + (double)t;
        for (size_t l = 0; l < L; l++)
            res->grad_norm[t * L + l] = value(k, l, t) + 7;
    }
    res->n_snaps = div ? 0 : res->cap_snaps;
    fill_set(res->grads, L, res, 1, k);
    fill_set(res->weights, L, res, 1, k + 1);
    fill_set(res->bgrads, L, res, 0, k + 2);
    fill_set(res->biases, L, res, 0, k + 3);
    fill_set(res->ngrad_scale, H, res, 0, k + 4);
    fill_set(res->ngrad_shift, H, res, 0, k + 5);
    fill_set(res->nscale, H, res, 0, k + 6);
    fill_set(res->nshift, H, res, 0, k + 7);
    fill_set(res->nrun_mean, H, res, 0, k + 8);
    fill_set(res->nrun_var, H, res, 0, k + 9);
    res->n_eval_rows = div && res->cap_eval ? 1 : res->cap_eval;
    res->n_eval_samples = res->cap_eval ? 16 : 0;
    for (size_t e = 0; e < res->n_eval_rows; e++) {
        res->eval_step[e] = (int64_t)e;
        res->eval_loss[e] = 0.5 + (double)e + (double)k;
        res->eval_accuracy[e] = 0.125 * (double)((e + k) % 8);
    }
    if (res->n_eval_rows) {
        res->final_eval_loss = res->eval_loss[res->n_eval_rows - 1];
        res->final_eval_accuracy = res->eval_accuracy[res->n_eval_rows - 1];
    }
    res->status = div ? GS_RUN_DIVERGED : GS_RUN_OK;
    res->diverged_step = div ? 0 : -1;
    res->steps_done = (int64_t)T;
    res->final_loss = res->loss[T - 1];
    res->grad_norm0_first = res->grad_norm[0];
    res->grad_norm0_last = res->grad_norm[L - 1];
    return res;
}

/* Whether g has member grp/name (grp itself may be missing). */
static int has_member(hid_t g, const char *grp, const char *name)
{
    if (H5Lexists(g, grp, H5P_DEFAULT) <= 0)
        return 0;
    hid_t sub = H5Gopen2(g, grp, H5P_DEFAULT);
    int yes = sub >= 0 && H5Lexists(sub, name, H5P_DEFAULT) > 0;
    if (sub >= 0)
        H5Gclose(sub);
    return yes;
}

/* Checks a stored vector grp/name [S, fan_out[l]]: values, type and the scales `step` and
 * fan_out_<lll> of W<l>. */
static void check_vector(hid_t g, const char *grp, const char *name, size_t l, const double *want,
                         const gs_result *res, int f32)
{
    char path[96];
    hsize_t dims[2] = {res->n_snaps, res->fan_out[l]};
    snprintf(path, sizeof path, "%s/%s", grp, name);
    check_array(g, path, want, 2, dims, f32);
    hid_t ds = H5Dopen2(g, path, H5P_DEFAULT);
    snprintf(path, sizeof path, "%s/step", grp);
    hid_t step = H5Dopen2(g, path, H5P_DEFAULT);
    snprintf(path, sizeof path, "%s/fan_out_%03zu", grp, l);
    hid_t fo = H5Dopen2(g, path, H5P_DEFAULT);
    CHECK(ds >= 0 && step >= 0 && fo >= 0);
    if (ds >= 0 && step >= 0 && fo >= 0) {
        hid_t t = H5Dget_type(ds);
        CHECK(H5Tequal(t, f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE) > 0);
        H5Tclose(t);
        check_scale(ds, step, 0, "step");
        check_scale(ds, fo, 1, "fan_out");
    }
    hid_t all[] = {ds, step, fo};
    for (size_t i = 0; i < 3; i++)
        if (all[i] >= 0)
            H5Dclose(all[i]);
}

/* Every per-layer vector of run r is stored exactly when its buffer set exists (biases with
 * model.bias, normalization parameters of hidden layers, running statistics with batchnorm and
 * record.weights), with the buffer's values; the config and evaluation attributes. */
static void check_vectors(hid_t f, const gs_run *r, const gs_result *res, int f32)
{
    size_t L = res->n_layers, H = res->n_norm;
    const struct {
        const char *grp, *prefix;
        double *const *bufs;
        size_t n;
    } sets[] = {{"grads", "b", res->bgrads, L},
                {"weights", "b", res->biases, L},
                {"grads", "gamma", res->ngrad_scale, H},
                {"grads", "beta", res->ngrad_shift, H},
                {"weights", "gamma", res->nscale, H},
                {"weights", "beta", res->nshift, H},
                {"weights", "running_mean", res->nrun_mean, H},
                {"weights", "running_var", res->nrun_var, H}};
    char path[64], name[32];
    snprintf(path, sizeof path, "/runs/%s", r->id);
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    CHECK(g >= 0);
    if (g < 0)
        return;
    CHECK_EQ_INT(H5Lexists(g, "weights", H5P_DEFAULT) > 0, res->weights != NULL);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        for (size_t l = 0; l <= L; l++) {
            int want = sets[i].bufs && l < sets[i].n;
            snprintf(name, sizeof name, "%s%03zu", sets[i].prefix, l);
            int got = has_member(g, sets[i].grp, name);
            if (got != want)
                fprintf(stderr, "%s: %s/%s %s\n", r->id, sets[i].grp, name,
                        want ? "missing" : "unexpected");
            CHECK_EQ_INT(got, want);
            if (want)
                check_vector(g, sets[i].grp, name, l, sets[i].bufs[l], res, f32);
        }
    check_attr_str(g, "model.bias", r->cfg.bias ? "true" : "false");
    check_attr_str(g, "model.norm", gs_norm_names[r->cfg.norm]);
    double v = 0;
    CHECK(gs_h5_read_f64(g, "final_eval_loss", &v) >= 0);
    CHECK(isnan(res->final_eval_loss) ? isnan(v) : v == res->final_eval_loss);
    CHECK(gs_h5_read_f64(g, "final_eval_accuracy", &v) >= 0);
    CHECK(isnan(res->final_eval_accuracy) ? isnan(v) : v == res->final_eval_accuracy);
    H5Gclose(g);
}

/* Column col (float64) of /summary into out; returns the row count. */
static size_t summary_f64(hid_t f, const char *col, double *out, size_t cap)
{
    hid_t ds = H5Dopen2(f, "summary", H5P_DEFAULT);
    CHECK(ds >= 0);
    if (ds < 0)
        return 0;
    hid_t sp = H5Dget_space(ds);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(double));
    H5Tinsert(mt, col, 0, H5T_NATIVE_DOUBLE);
    double *buf = calloc(n + 1, sizeof *buf);
    if (n)
        CHECK(H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = buf[i];
    free(buf);
    H5Tclose(mt);
    H5Sclose(sp);
    H5Dclose(ds);
    return n;
}

/* /summary's eval_loss and eval_accuracy of the stored runs (plan order) against res; runs
 * listed in stale read NaN (their attributes were removed). */
static void check_eval_columns(hid_t f, const gs_plan *p, gs_result *const *res, const int *stored,
                               const int *stale)
{
    double loss[8], acc[8];
    size_t n = summary_f64(f, "eval_loss", loss, 8), row = 0;
    CHECK_EQ_INT(summary_f64(f, "eval_accuracy", acc, 8), n);
    for (size_t i = 0; i < p->n_runs && row < n; i++) {
        if (!stored[i])
            continue;
        double wl = stale[i] ? (double)NAN : res[i]->final_eval_loss;
        double wa = stale[i] ? (double)NAN : res[i]->final_eval_accuracy;
        if (isnan(wl) ? !isnan(loss[row]) : loss[row] != wl)
            fprintf(stderr, "run %zu: eval_loss %g, want %g\n", i, loss[row], wl);
        CHECK(isnan(wl) ? isnan(loss[row]) : loss[row] == wl);
        CHECK(isnan(wa) ? isnan(acc[row]) : acc[row] == wa);
        row++;
    }
}

/* Removes the attributes that outputs written before schema_minor 1 lack from every run of
 * segment seg, and the segment's schema_minor. */
static void make_segment_old(const char *out, unsigned seg, const gs_plan *p, const int *in_seg)
{
    static const char *const added[] = {"final_eval_loss",      "final_eval_accuracy",
                                        "model.bias",           "model.norm",
                                        "model.norm_eps",       "model.norm_momentum",
                                        "model.residual_every", "model.residual_alpha",
                                        "train.dtype",          "train.ftz"};
    char path[600];
    snprintf(path, sizeof path, "%s.d/seg-%06u.h5", out, seg);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(f >= 0);
    if (f < 0)
        return;
    CHECK(H5Adelete(f, "schema_minor") >= 0);
    for (size_t i = 0; i < p->n_runs; i++) {
        if (!in_seg[i])
            continue;
        snprintf(path, sizeof path, "/runs/%s", p->runs[i].id);
        hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
        CHECK(g >= 0);
        for (size_t a = 0; g >= 0 && a < sizeof added / sizeof added[0]; a++)
            CHECK(H5Adelete(g, added[a]) >= 0);
        if (g >= 0)
            H5Gclose(g);
    }
    H5Fclose(f);
}

/* The config of a run whose new attributes were removed reads back with the defaults of the new
 * keys (as the config of a run written by an older version). */
static void check_old_config(const gs_store *st, const gs_run *r)
{
    gs_run_config cfg, def;
    gs_error err = {0};
    int64_t replicate = -1;
    gs_config_defaults(&def);
    size_t row = gs_store_find_row(st, r->id);
    CHECK(row != (size_t)-1);
    if (row == (size_t)-1)
        return;
    CHECK_EQ_INT(gs_segment_read_config(st, &st->rows[row], &cfg, &replicate, &err), GS_OK);
    CHECK_EQ_INT(replicate, r->replicate);
    CHECK_EQ_INT(cfg.bias, def.bias);
    CHECK_EQ_INT(cfg.norm, def.norm);
    CHECK(cfg.norm_eps == def.norm_eps && cfg.norm_momentum == def.norm_momentum);
    CHECK_EQ_INT(cfg.residual_every, def.residual_every);
    CHECK(cfg.residual_alpha == def.residual_alpha);
    CHECK_EQ_INT(cfg.dtype, def.dtype);
    CHECK_EQ_INT(cfg.ftz, def.ftz);
    CHECK_EQ_INT(cfg.depth, r->cfg.depth); /* keys that were there read back as stored */
    CHECK_EQ_INT(cfg.activation, r->cfg.activation);
}

/* Runs with model.bias false store no b<l>; with model.norm they store gamma<l>/beta<l> (and
 * batchnorm running statistics with record.weights); /summary and the run attributes carry the
 * last held-out evaluation (NaN without one). Resume rebuilds those columns from the run
 * attributes, and reads segments written without them (older versions) as NaN and the new config
 * keys as their defaults. */
static void test_norm_bias_eval(int dtype, int weights)
{
    char out[512], path[600];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(5, dtype, 4, weights);
    gs_result *res[8] = {0};
    int f32 = dtype == GS_DTYPE_FLOAT32;
    /* bias, norm, eval_fraction, diverged per run; runs 2, 3 and 6 keep the defaults */
    static const struct {
        int bias, norm;
        double eval;
        int div;
    } model[8] = {{0, GS_NORM_BATCHNORM, 0.25, 0}, {0, GS_NORM_NONE, 0, 0},
                  {1, GS_NORM_NONE, 0, 0},         {1, GS_NORM_NONE, 0, 0},
                  {1, GS_NORM_LAYERNORM, 0.25, 1}, {1, GS_NORM_BATCHNORM, 0, 0},
                  {1, GS_NORM_NONE, 0, 0},         {0, GS_NORM_LAYERNORM, 0.5, 0}};
    for (size_t i = 0; i < p->n_runs; i++) {
        p->runs[i].cfg.bias = model[i].bias;
        p->runs[i].cfg.norm = model[i].norm;
        p->runs[i].cfg.eval_fraction = model[i].eval;
        res[i] = make_result_cfg(&p->runs[i], &p->record, model[i].div);
        if (!res[i])
            goto done;
    }
    CHECK(res[0]->n_norm == 1 && res[5]->n_norm == 2 && res[6]->n_norm == 0);
    CHECK(!isnan(res[0]->final_eval_loss) && isnan(res[5]->final_eval_loss));
    char name[64];
    snprintf(name, sizeof name, "normbias_%s_%d.h5", gs_dtype_names[dtype], weights);
    path_in(out, sizeof out, name);
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    int stored[8] = {1, 1, 0, 0, 1, 1, 1, 0}, none[8] = {0};
    for (size_t i = 0; i < p->n_runs; i++)
        if (stored[i])
            CHECK_EQ_INT(gs_store_add_run(st, &p->runs[i], res[i], &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);

    hid_t f = open_index(out);
    if (f < 0)
        goto done;
    int64_t minor = -1;
    CHECK(gs_h5_read_i64(f, "schema_minor", &minor) >= 0 && minor == GS_SCHEMA_MINOR);
    for (size_t i = 0; i < p->n_runs; i++)
        if (stored[i])
            check_vectors(f, &p->runs[i], res[i], f32);
    check_eval_columns(f, p, res, stored, none);
    H5Fclose(f);
    snprintf(path, sizeof path, "%s.d/seg-000001.h5", out);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    minor = -1;
    CHECK(f >= 0 && gs_h5_read_i64(f, "schema_minor", &minor) >= 0 && minor == GS_SCHEMA_MINOR);
    if (f >= 0)
        H5Fclose(f);

    /* Resume: the earlier runs' columns come back from their attributes. */
    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    for (size_t i = 0; i < p->n_runs; i++)
        if (!stored[i]) {
            CHECK_EQ_INT(gs_store_add_run(st, &p->runs[i], res[i], &err), GS_OK);
            stored[i] = 1;
        }
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    f = open_index(out);
    check_eval_columns(f, p, res, stored, none);
    check_vectors(f, &p->runs[7], res[7], f32);
    H5Fclose(f);

    /* Segment 1 as an older version wrote it: resume reads NaN and the new keys' defaults. */
    int old[8] = {1, 1, 0, 0, 1, 1, 1, 0};
    make_segment_old(out, 1, p, old);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st) {
        fprintf(stderr, "%s\n", err.msg);
        goto done;
    }
    CHECK_EQ_INT(gs_store_committed(st), 8);
    check_old_config(st, &p->runs[0]);
    check_old_config(st, &p->runs[4]);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    f = open_index(out);
    check_eval_columns(f, p, res, stored, old);
    minor = -1;
    CHECK(gs_h5_read_i64(f, "schema_minor", &minor) >= 0 && minor == GS_SCHEMA_MINOR);
    H5Fclose(f);
done:
    for (size_t i = 0; i < 8; i++)
        gs_result_destroy(res[i]);
    free_plan(p);
}

/* ---- schema_minor 2: probe statistics, histograms, probe tensors, Jacobians, verdicts ---- */

#define HIST_BINS 6
#define PROBE_ROWS 4
#define JAC_INPUTS 2

/* Allocates n doubles filled with value(key, column, row) for a [rows][cols] array. */
static double *filled(size_t rows, size_t cols, uint64_t key)
{
    double *v = malloc((rows * cols + 1) * sizeof *v);
    for (size_t t = 0; t < rows; t++)
        for (size_t j = 0; j < cols; j++)
            v[t * cols + j] = value(key, j, t);
    return v;
}

static int64_t *counts(size_t n, int64_t key)
{
    int64_t *v = malloc((n + 1) * sizeof *v);
    for (size_t j = 0; j < n; j++)
        v[j] = key * 1000 + (int64_t)j * 7 % 13;
    return v;
}

/* Fills every schema_minor 2 field of res (made by make_result) by hand. full: every array;
 * else bias_grad_norm, pe_grad_*, the [T, H] arrays, delta_slope and the probe deltas stay NULL.
 * Histograms, probe rows and Jacobian rows are taken at T > 0 only (a run that stopped at once
 * has none). */
static void add_probes(gs_result *res, int full, int status, uint64_t k)
{
    size_t T = res->n_rows, L = res->n_layers, H = L - 1;
    double **tl[] = {&res->delta_norm,    &res->q,
                     &res->grad_mean_abs, &res->grad_max_abs,
                     &res->weight_norm,   &res->weight_dist_init,
                     &res->update_ratio,  &res->bias_grad_norm,
                     &res->pe_grad_var,   &res->pe_grad_snr};
    double **th[] = {&res->dead_frac, &res->sat_frac, &res->act_mean, &res->act_std};
    for (size_t i = 0; i < sizeof tl / sizeof tl[0]; i++)
        *tl[i] = full || i < 7 ? filled(T, L, k + 10 + i) : NULL;
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++)
        *th[i] = full ? filled(T, H, k + 30 + i) : NULL;
    res->delta_slope = full ? filled(T, 1, k + 40) : NULL;
    res->level = full ? GS_LEVEL_FULL : GS_LEVEL_STANDARD;
    size_t nh = T ? 3 : 0;
    res->hist_bins = HIST_BINS;
    res->cap_hist = 3;
    res->n_hist = nh;
    res->hist_step = counts(3, 0);
    for (size_t i = 0; i < 3; i++)
        res->hist_step[i] = 2 * (int64_t)i;
    res->hist_grad = counts(3 * L * HIST_BINS, (int64_t)k + 1);
    res->hist_grad_out = counts(3 * L * 4, (int64_t)k + 2);
    res->hist_delta = counts(3 * L * HIST_BINS, (int64_t)k + 3);
    res->hist_delta_out = counts(3 * L * 4, (int64_t)k + 4);
    res->probe_rows = PROBE_ROWS;
    res->probe_index = counts(PROBE_ROWS, 0);
    for (size_t i = 0; i < PROBE_ROWS; i++)
        res->probe_index[i] = 3 * (int64_t)i + 1;
    res->probe_h = calloc(L, sizeof(double *));
    res->probe_delta = full ? calloc(L, sizeof(double *)) : NULL;
    for (size_t l = 0; l < L; l++) {
        res->probe_h[l] = filled(res->cap_snaps * PROBE_ROWS, res->fan_out[l], k + 50 + l);
        if (full)
            res->probe_delta[l] = filled(res->cap_snaps * PROBE_ROWS, res->fan_out[l], k + 70 + l);
    }
    res->jac_inputs = JAC_INPUTS;
    res->jac_rank = res->d_in < res->d_out ? res->d_in : res->d_out;
    res->cap_jac = 2;
    res->n_jac = T ? 2 : 0;
    res->jac_step = counts(2, 0);
    res->jac_step[0] = 0;
    res->jac_step[1] = 4;
    res->jac_sv = filled(2 * JAC_INPUTS, res->jac_rank, k + 90);
    res->jac_mean_sq = filled(2, JAC_INPUTS, k + 91);
    res->jac_max = filled(2, JAC_INPUTS, k + 92);
    res->verdict = (int)(k % GS_VERDICT__COUNT);
    res->verdict_step = res->verdict == GS_VERDICT_HEALTHY ? -1 : (int64_t)(k % 5);
    res->delta_slope0 = -0.25 * (double)k;
    res->status = status;
}

/* Frees what add_probes allocated (and NULLs it, so gs_result_destroy sees nothing twice). */
static void free_probes(gs_result *res)
{
    double **arrays[] = {&res->delta_norm,    &res->q,
                         &res->grad_mean_abs, &res->grad_max_abs,
                         &res->weight_norm,   &res->weight_dist_init,
                         &res->update_ratio,  &res->bias_grad_norm,
                         &res->pe_grad_var,   &res->pe_grad_snr,
                         &res->dead_frac,     &res->sat_frac,
                         &res->act_mean,      &res->act_std,
                         &res->delta_slope,   &res->jac_sv,
                         &res->jac_mean_sq,   &res->jac_max};
    int64_t **ints[] = {&res->hist_step,  &res->hist_grad,      &res->hist_grad_out,
                        &res->hist_delta, &res->hist_delta_out, &res->probe_index,
                        &res->jac_step};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        free(*arrays[i]);
        *arrays[i] = NULL;
    }
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        free(*ints[i]);
        *ints[i] = NULL;
    }
    for (size_t l = 0; l < res->n_layers; l++) {
        free(res->probe_h ? res->probe_h[l] : NULL);
        free(res->probe_delta ? res->probe_delta[l] : NULL);
    }
    free(res->probe_h);
    free(res->probe_delta);
    res->probe_h = res->probe_delta = NULL;
}

/* Run i of the probe test: stopped when i % 3 == 1, full arrays when i is even; run 5 stopped
 * at once (no rows: every dataset is there with length 0). */
static gs_result *make_probe_result(const gs_run *r, size_t i)
{
    gs_result *res = make_result(r, 0, 0);
    if (i == 5) {
        res->n_rows = 0;
        res->n_snaps = 0;
    }
    add_probes(res, i % 2 == 0, i % 3 == 1 || i == 5 ? GS_RUN_STOPPED : GS_RUN_OK, r->seed);
    return res;
}

static void destroy_probe_result(gs_result *res)
{
    if (res)
        free_probes(res);
    gs_result_destroy(res);
}

/* Checks that dataset path of g has the shape dims and, on each dimension, the scale dataset
 * scales[i] (a path relative to g) with label labels[i]. */
static void check_dims(hid_t g, const char *path, int rank, const hsize_t *dims,
                       const char *const *scales, const char *const *labels)
{
    hid_t ds = H5Dopen2(g, path, H5P_DEFAULT);
    CHECK(ds >= 0);
    if (ds < 0) {
        fprintf(stderr, "missing %s\n", path);
        return;
    }
    hid_t sp = H5Dget_space(ds);
    hsize_t got[4] = {0};
    CHECK_EQ_INT(H5Sget_simple_extent_ndims(sp), rank);
    H5Sget_simple_extent_dims(sp, got, NULL);
    for (int i = 0; i < rank; i++) {
        CHECK_EQ_INT(got[i], dims[i]);
        hid_t sc = H5Dopen2(g, scales[i], H5P_DEFAULT);
        CHECK(sc >= 0);
        if (sc >= 0) {
            check_scale(ds, sc, (unsigned)i, labels[i]);
            H5Dclose(sc);
        }
    }
    H5Sclose(sp);
    H5Dclose(ds);
}

/* Reads int64 dataset path of g and compares n values with want. */
static void check_i64(hid_t g, const char *path, const int64_t *want, size_t n)
{
    hid_t ds = H5Dopen2(g, path, H5P_DEFAULT);
    CHECK(ds >= 0);
    if (ds < 0)
        return;
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    CHECK(H5Tequal(t, H5T_STD_I64LE) > 0);
    CHECK_EQ_INT(H5Sget_simple_extent_npoints(sp), n);
    int64_t *got = calloc(n + 1, sizeof *got);
    if (n)
        CHECK(H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    CHECK(n == 0 || memcmp(got, want, n * sizeof *got) == 0);
    free(got);
    H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(ds);
}

/* Type of dataset path of g equals t. */
static int has_type(hid_t g, const char *path, hid_t t)
{
    hid_t ds = H5Dopen2(g, path, H5P_DEFAULT);
    hid_t dt = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID;
    int yes = dt >= 0 && H5Tequal(dt, t) > 0;
    if (dt >= 0)
        H5Tclose(dt);
    if (ds >= 0)
        H5Dclose(ds);
    return yes;
}

/* The per-row statistics of res in run group g: present exactly when non-NULL, values, shapes,
 * scales and labels. */
static void check_row_stats(hid_t g, const gs_result *res)
{
    size_t T = res->n_rows, L = res->n_layers, H = L - 1;
    const struct {
        const char *name;
        const double *v;
        int hidden;
    } all[] = {{"delta_norm", res->delta_norm, 0},
               {"q", res->q, 0},
               {"grad_mean_abs", res->grad_mean_abs, 0},
               {"grad_max_abs", res->grad_max_abs, 0},
               {"bias_grad_norm", res->bias_grad_norm, 0},
               {"weight_norm", res->weight_norm, 0},
               {"weight_dist_init", res->weight_dist_init, 0},
               {"update_ratio", res->update_ratio, 0},
               {"pe_grad_var", res->pe_grad_var, 0},
               {"pe_grad_snr", res->pe_grad_snr, 0},
               {"dead_frac", res->dead_frac, 1},
               {"sat_frac", res->sat_frac, 1},
               {"act_mean", res->act_mean, 1},
               {"act_std", res->act_std, 1}};
    static const char *const lab_l[] = {"step", "layer"}, *const lab_h[] = {"step", "hidden"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int there = H5Lexists(g, all[i].name, H5P_DEFAULT) > 0;
        if (there != (all[i].v != NULL))
            fprintf(stderr, "%s %s\n", all[i].name, there ? "unexpected" : "missing");
        CHECK_EQ_INT(there, all[i].v != NULL);
        if (!all[i].v)
            continue;
        hsize_t dims[2] = {T, all[i].hidden ? H : L};
        check_array(g, all[i].name, all[i].v, 2, dims, 0);
        check_dims(g, all[i].name, 2, dims, all[i].hidden ? lab_h : lab_l,
                   all[i].hidden ? lab_h : lab_l);
        CHECK(has_type(g, all[i].name, H5T_IEEE_F64LE));
    }
    CHECK_EQ_INT(H5Lexists(g, "hidden", H5P_DEFAULT) > 0, res->dead_frac != NULL);
    CHECK_EQ_INT(H5Lexists(g, "delta_slope", H5P_DEFAULT) > 0, res->delta_slope != NULL);
    if (res->delta_slope) {
        hsize_t dim = T;
        check_array(g, "delta_slope", res->delta_slope, 1, &dim, 0);
        check_dims(g, "delta_slope", 1, &dim, lab_l, lab_l);
    }
}

/* hist/: scales step, bin, outside (strings), edges; counts with their scales and columns. */
static void check_hist(hid_t g, const gs_result *res, const gs_record *rec)
{
    size_t L = res->n_layers, nh = res->n_hist, k = HIST_BINS;
    static const char *const sc_b[] = {"hist/step", "layer", "hist/bin"},
                             *const sc_o[] = {"hist/step", "layer", "hist/outside"},
                             *const lab_b[] = {"step", "layer", "bin"},
                             *const lab_o[] = {"step", "layer", "outside"};
    hsize_t db[3] = {nh, L, k}, dout[3] = {nh, L, 4};
    check_i64(g, "hist/step", res->hist_step, nh);
    check_i64(g, "hist/grad", res->hist_grad, nh * L * k);
    check_i64(g, "hist/grad_outside", res->hist_grad_out, nh * L * 4);
    check_i64(g, "hist/delta", res->hist_delta, nh * L * k);
    check_i64(g, "hist/delta_outside", res->hist_delta_out, nh * L * 4);
    check_dims(g, "hist/grad", 3, db, sc_b, lab_b);
    check_dims(g, "hist/delta", 3, db, sc_b, lab_b);
    check_dims(g, "hist/grad_outside", 3, dout, sc_o, lab_o);
    check_dims(g, "hist/delta_outside", 3, dout, sc_o, lab_o);
    size_t n = 0;
    int rank = 0;
    hsize_t dims[3];
    double *e = read_f64(g, "hist/edges", &n, &rank, dims);
    CHECK(e && n == k + 1 && rank == 1);
    for (size_t j = 0; e && j <= k && n == k + 1; j++)
        CHECK_NEAR(e[j], rec->hist_min + (double)j * (rec->hist_max - rec->hist_min) / (double)k,
                   1e-15, 1e-15);
    CHECK(e && n == k + 1 && e[0] == rec->hist_min && e[k] == rec->hist_max);
    free(e);
    /* the outside scale holds the column names, and so does each outside dataset's `columns` */
    hid_t ds = H5Dopen2(g, "hist/outside", H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char names[4][8];
    H5Tset_size(t, 8);
    CHECK(ds >= 0 && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0);
    CHECK(strcmp(names[0], "zero") == 0 && strcmp(names[3], "nan") == 0);
    H5Tclose(t);
    H5Dclose(ds);
    ds = H5Dopen2(g, "hist/grad_outside", H5P_DEFAULT);
    hid_t a = H5Aopen(ds, "columns", H5P_DEFAULT);
    CHECK(a >= 0);
    char *cols[4] = {0};
    t = H5Aget_type(a);
    CHECK(H5Aread(a, t, cols) >= 0);
    CHECK(cols[1] && strcmp(cols[1], "below") == 0 && cols[2] && strcmp(cols[2], "above") == 0);
    hid_t sp = H5Aget_space(a);
    H5Dvlen_reclaim(t, sp, H5P_DEFAULT, cols);
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    H5Dclose(ds);
}

/* probe/ and jacobian/: values, record dtype of the tensors, shapes and scales. */
static void check_probe_jac(hid_t g, const gs_result *res, int f32)
{
    size_t S = res->n_snaps, P = PROBE_ROWS, J = res->n_jac, m = JAC_INPUTS, r = res->jac_rank;
    static const char *const lab_p[] = {"step", "sample", "fan_out"}, *const lab_j[] = {
                                                                          "step", "input", "rank"};
    char path[64], fo[64];
    check_i64(g, "probe/index", res->probe_index, P);
    check_i64(g, "probe/step", res->snap_plan, S);
    for (size_t l = 0; l < res->n_layers; l++) {
        hsize_t dims[3] = {S, P, res->fan_out[l]};
        snprintf(fo, sizeof fo, "probe/fan_out_%03zu", l);
        const char *sc[3] = {"probe/step", "probe/index", fo};
        snprintf(path, sizeof path, "probe/h%03zu", l);
        check_array(g, path, res->probe_h[l], 3, dims, f32);
        check_dims(g, path, 3, dims, sc, lab_p);
        CHECK(has_type(g, path, f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE));
        snprintf(path, sizeof path, "probe/delta%03zu", l);
        CHECK_EQ_INT(H5Lexists(g, path, H5P_DEFAULT) > 0, res->probe_delta != NULL);
        if (res->probe_delta) {
            check_array(g, path, res->probe_delta[l], 3, dims, f32);
            check_dims(g, path, 3, dims, sc, lab_p);
        }
    }
    static const char *const sc_j[] = {"jacobian/step", "jacobian/input", "jacobian/rank"};
    hsize_t dj[3] = {J, m, r};
    check_i64(g, "jacobian/step", res->jac_step, J);
    check_array(g, "jacobian/sv", res->jac_sv, 3, dj, 0);
    check_array(g, "jacobian/mean_sq", res->jac_mean_sq, 2, dj, 0);
    check_array(g, "jacobian/max", res->jac_max, 2, dj, 0);
    check_dims(g, "jacobian/sv", 3, dj, sc_j, lab_j);
    check_dims(g, "jacobian/mean_sq", 2, dj, sc_j, lab_j);
    check_dims(g, "jacobian/max", 2, dj, sc_j, lab_j);
    CHECK(has_type(g, "jacobian/sv", H5T_IEEE_F64LE));
}

static int same_f64(double a, double b)
{
    return isnan(a) ? isnan(b) : a == b;
}

/* The theory values of cfg in order q_star, chi1, xi_grad, c_star, chi_c, xi_c, pred_slope. */
static void theory_of(const gs_run_config *cfg, double out[7])
{
    gs_theory th;
    gs_theory_for_run(cfg, &th);
    double v[7] = {th.q_star, th.chi1, th.xi_grad, th.c_star, th.chi_c, th.xi_c, th.pred_slope};
    memcpy(out, v, sizeof v);
}

static const char *const theory_names[7] = {"q_star", "chi1", "xi_grad",   "c_star",
                                            "chi_c",  "xi_c", "pred_slope"};

/* Run attributes of minor 2: status (stopped), verdict, verdict_step, delta_slope0 and the
 * mean-field theory of the run's config. */
static void check_probe_attrs(hid_t g, const gs_result *res, const gs_run_config *cfg)
{
    int64_t vs = 99;
    double d = 0, th[7];
    theory_of(cfg, th);
    for (size_t i = 0; i < 7; i++) {
        d = -1;
        CHECK(gs_h5_read_f64(g, theory_names[i], &d) >= 0 && same_f64(d, th[i]));
    }
    check_attr_str(g, "status", res->status == GS_RUN_STOPPED ? "stopped" : "ok");
    check_attr_str(g, "verdict", gs_verdict_names[res->verdict]);
    CHECK(gs_h5_read_i64(g, "verdict_step", &vs) >= 0 && vs == res->verdict_step);
    CHECK(gs_h5_read_f64(g, "delta_slope0", &d) >= 0 && d == res->delta_slope0);
}

/* Column col of /summary as strings of width w into out (rows x w). */
static size_t summary_str(hid_t f, const char *col, size_t w, char *out, size_t cap)
{
    hid_t ds = H5Dopen2(f, "summary", H5P_DEFAULT);
    hid_t sp = H5Dget_space(ds);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, w);
    hid_t mt = H5Tcreate(H5T_COMPOUND, w);
    H5Tinsert(mt, col, 0, st);
    char *buf = calloc(n + 1, w);
    if (n)
        CHECK(H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    memcpy(out, buf, (n < cap ? n : cap) * w);
    free(buf);
    H5Tclose(mt);
    H5Tclose(st);
    H5Sclose(sp);
    H5Dclose(ds);
    return n;
}

/* /summary's status, verdict, verdict_step and delta_slope0 for the stored runs (plan order);
 * runs listed in old read "", -1 and NaN. */
static void check_probe_columns(hid_t f, const gs_plan *p, gs_result *const *res, const int *old)
{
    char status[8][16], verdict[8][16];
    double step[8], slope[8];
    size_t n = summary_str(f, "status", 16, &status[0][0], 8);
    CHECK_EQ_INT(n, p->n_runs);
    /* the theory columns (all but c_star and chi_c); NaN for runs of older segments */
    for (size_t k = 0; k < 7; k++) {
        double col[8], th[7];
        if (k == 3 || k == 4)
            continue;
        CHECK_EQ_INT(summary_f64(f, theory_names[k], col, 8), n);
        for (size_t i = 0; i < n && i < 8; i++) {
            theory_of(&p->runs[i].cfg, th);
            CHECK(same_f64(col[i], old[i] ? (double)NAN : th[k]));
        }
    }
    {
        double col[8], th[7];
        theory_of(&p->runs[1].cfg, th);
        CHECK_EQ_INT(summary_f64(f, "chi1", col, 8), n);
        CHECK(!isnan(th[1])); /* a tanh MLP: theory applies, so the comparison is not NaN = NaN */
    }
    CHECK_EQ_INT(summary_str(f, "verdict", 16, &verdict[0][0], 8), n);
    CHECK_EQ_INT(summary_f64(f, "verdict_step", step, 8), n);
    CHECK_EQ_INT(summary_f64(f, "delta_slope0", slope, 8), n);
    for (size_t i = 0; i < n && i < 8; i++) {
        CHECK_EQ_STR(status[i], gs_store_status_name(res[i]->status));
        CHECK_EQ_STR(verdict[i], old[i] ? "" : gs_verdict_names[res[i]->verdict]);
        CHECK(step[i] == (old[i] ? -1.0 : (double)res[i]->verdict_step));
        CHECK(old[i] ? isnan(slope[i]) : slope[i] == res[i]->delta_slope0);
    }
}

/* Deletes the minor-2 attributes from the runs of segment 1, as an older version wrote them. */
static void strip_probe_attrs(const char *out, const gs_plan *p, const int *in_seg)
{
    static const char *const added[] = {"verdict", "verdict_step", "delta_slope0", "q_star",
                                        "chi1",    "xi_grad",      "c_star",       "chi_c",
                                        "xi_c",    "pred_slope"};
    char path[600];
    snprintf(path, sizeof path, "%s.d/seg-000001.h5", out);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(f >= 0);
    for (size_t i = 0; f >= 0 && i < p->n_runs; i++) {
        if (!in_seg[i])
            continue;
        snprintf(path, sizeof path, "/runs/%s", p->runs[i].id);
        hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
        for (size_t a = 0; a < sizeof added / sizeof added[0]; a++)
            CHECK(H5Adelete(g, added[a]) >= 0);
        H5Gclose(g);
    }
    if (f >= 0)
        H5Fclose(f);
}

/* The record settings of minor 2 as root attributes of the index. */
static void check_record_attrs(hid_t f, const gs_record *rec)
{
    int64_t v = -1;
    double d = 0;
    check_attr_str(f, "record_level", gs_level_names[rec->level]);
    CHECK(gs_h5_read_i64(f, "record_hist_bins", &v) >= 0 && v == rec->hist_bins);
    CHECK(gs_h5_read_i64(f, "record_hist_every", &v) >= 0 && v == rec->hist_every);
    CHECK(gs_h5_read_f64(f, "record_hist_min", &d) >= 0 && d == rec->hist_min);
    CHECK(gs_h5_read_f64(f, "record_hist_max", &d) >= 0 && d == rec->hist_max);
    CHECK(gs_h5_read_i64(f, "record_probe_batch", &v) >= 0 && v == rec->probe_batch);
    CHECK(gs_h5_read_i64(f, "record_activations", &v) >= 0 && v == rec->activations);
    CHECK(gs_h5_read_i64(f, "record_deltas", &v) >= 0 && v == rec->deltas);
    CHECK(gs_h5_read_i64(f, "record_jacobian_inputs", &v) >= 0 && v == rec->jacobian_inputs);
}

/* Every schema_minor 2 object of hand-made results read back with HDF5 (values, shapes, scales,
 * labels, attributes, /summary columns, counts), NULL arrays without a dataset, stopped runs,
 * resume reading the columns back (and "" / -1 / NaN from older segments). */
static void test_probes(int dtype)
{
    char out[512], name[64], path[128];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(9, dtype, 8, 0);
    gs_result *res[8] = {0};
    p->record.level = GS_LEVEL_FULL;
    p->record.hist_bins = HIST_BINS;
    p->record.hist_every = 2;
    p->record.hist_min = -9;
    p->record.hist_max = 1.5;
    p->record.probe_batch = PROBE_ROWS;
    p->record.activations = 1;
    p->record.deltas = 1;
    p->record.jacobian_inputs = JAC_INPUTS;
    for (size_t i = 0; i < p->n_runs; i++)
        res[i] = make_probe_result(&p->runs[i], i);
    snprintf(name, sizeof name, "probes_%s.h5", gs_dtype_names[dtype]);
    path_in(out, sizeof out, name);
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    for (size_t i = 0; i < 6; i++)
        CHECK_EQ_INT(gs_store_add_run(st, &p->runs[i], res[i], &err), GS_OK);
    gs_store_counts cnt;
    CHECK_EQ_INT(gs_store_commit(st, &err), GS_OK); /* counts are of committed runs */
    gs_store_get_counts(st, &cnt);
    CHECK_EQ_INT(cnt.stopped, 3); /* runs 1, 4 and 5 */
    CHECK_EQ_INT(cnt.ok + cnt.diverged + cnt.stopped, 6);
    size_t nv = cnt.verdict_unknown;
    for (int v = 0; v < GS_VERDICT__COUNT; v++) {
        size_t want = 0;
        for (size_t i = 0; i < 6; i++)
            want += res[i]->verdict == v;
        CHECK_EQ_INT(cnt.verdict[v], want);
        nv += cnt.verdict[v];
    }
    CHECK_EQ_INT(nv, 6);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);

    hid_t f = open_index(out);
    if (f < 0)
        goto done;
    check_record_attrs(f, &p->record);
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "/runs/%s", p->runs[i].id);
        hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
        CHECK(g >= 0);
        if (g < 0)
            continue;
        check_probe_attrs(g, res[i], &p->runs[i].cfg);
        check_row_stats(g, res[i]);
        check_hist(g, res[i], &p->record);
        check_probe_jac(g, res[i], dtype == GS_DTYPE_FLOAT32);
        H5Gclose(g);
    }
    H5Fclose(f);

    /* Resume: the earlier runs' columns come back from their attributes; a different record
     * section is refused. */
    p->record.hist_bins = HIST_BINS + 1;
    o.mode = GS_STORE_RESUME;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_ESPEC);
    CHECK_HAS_STR(err.msg, "record section differs");
    CHECK_HAS_STR(err.msg, "hist=bins:7,every:2,min:-9,max:1.5");
    p->record.hist_bins = HIST_BINS;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    for (size_t i = 6; i < 8; i++)
        CHECK_EQ_INT(gs_store_add_run(st, &p->runs[i], res[i], &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    int none[8] = {0}, old[8] = {1, 1, 1, 1, 1, 1, 0, 0};
    f = open_index(out);
    check_probe_columns(f, p, res, none);
    H5Fclose(f);

    /* Segment 1 as written before verdicts and theory existed: "", -1, NaN; counted as unknown. */
    strip_probe_attrs(out, p, old);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    if (!st)
        goto done;
    gs_store_get_counts(st, &cnt);
    CHECK_EQ_INT(cnt.verdict_unknown, 6);
    CHECK_EQ_INT(cnt.stopped, 4);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    f = open_index(out);
    check_probe_columns(f, p, res, old);
    H5Fclose(f);
done:
    for (size_t i = 0; i < 8; i++)
        destroy_probe_result(res[i]);
    free_plan(p);
}

/* Journals written before the probe settings existed lack them in their record text: they
 * resume under the default settings and are refused under others. */
static void test_old_record_text(void)
{
    char out[512], jpath[600];
    gs_error err = {0};
    gs_store *st = NULL;
    gs_plan *p = make_plan(11, GS_DTYPE_FLOAT32, 8, 0);
    p->record.level = GS_LEVEL_STANDARD;
    p->record.hist_min = -12;
    p->record.hist_max = 2;
    p->record.probe_batch = 32;
    path_in(out, sizeof out, "oldrecord.h5");
    gs_store_opts o = opts_for(GS_STORE_CREATE);
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(add(st, p, 0, 0, &err), GS_OK);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    snprintf(jpath, sizeof jpath, "%s.d/journal", out);
    char *text = read_text(jpath);
    char *cut = strstr(text, ";level=standard;hist=off;probe=off\n");
    CHECK(cut != NULL);
    if (!cut)
        goto done;
    memmove(cut, cut + strlen(";level=standard;hist=off;probe=off"),
            strlen(cut + strlen(";level=standard;hist=off;probe=off")) + 1);
    write_file(jpath, text, 0);
    o.mode = GS_STORE_RESUME;
    p->record.level = GS_LEVEL_BASIC;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_ESPEC);
    CHECK_HAS_STR(err.msg, "record section differs");
    p->record.level = GS_LEVEL_STANDARD;
    p->record.probe_batch = 8; /* unused without activations, deltas or jacobian: no difference */
    p->record.hist_min = -3;   /* unused without histograms */
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_OK);
    CHECK_EQ_INT(gs_store_committed(st), 1);
    CHECK_EQ_INT(gs_store_close(st, &err), GS_OK);
    p->record.jacobian_inputs = 2;
    CHECK_EQ_INT(gs_store_open(&st, out, p, &o, &err), GS_ESPEC);
    CHECK_HAS_STR(err.msg, "probe=batch:8,activations:false,deltas:false,jacobian:2");
done:
    free(text);
    free_plan(p);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_store.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_chunk_shapes();
    test_create_and_read(GS_DTYPE_FLOAT64, 0);
    test_create_and_read(GS_DTYPE_FLOAT32, 1);
    test_resume();
    test_refuse_existing();
    test_lock();
    test_force();
    test_crash_leftovers();
    test_mismatch();
    test_layout_and_scales();
    test_index_throttle();
    test_disk_full();
    test_quiet_threads();
    test_norm_bias_eval(GS_DTYPE_FLOAT64, 1);
    test_norm_bias_eval(GS_DTYPE_FLOAT32, 0);
    test_probes(GS_DTYPE_FLOAT64);
    test_probes(GS_DTYPE_FLOAT32);
    test_old_record_text();
    int rc = CHECK_EXIT();
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return rc;
}
