/* gs_data_load_hdf5: good label and target files (float and integer inputs), and every bad case
 * a user can hit, each with its expected message. Files are generated here with the HDF5 C API. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "check.h"
#include "gradsweep/data.h"

static char tmpdir[256];

/* Writes dataset name of type t, rank r, dims d from buf (mem type mt) into file path. */
static void put(const char *path, const char *name, hid_t t, hid_t mt, int r, const hsize_t *d,
                const void *buf)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0)
        f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(r, d, NULL);
    hid_t ds = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(ds >= 0);
    if (buf)
        CHECK(H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
}

static const double X[4][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {-1, 0.5, 1e-3}};

/* A file with x = X (float64 [4, 3]) and nothing else; returns its path in buf. */
static const char *base_file(char *buf, size_t n, const char *name)
{
    hsize_t d[2] = {4, 3};
    snprintf(buf, n, "%s/%s", tmpdir, name);
    unlink(buf);
    put(buf, "X", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d, X);
    return buf;
}

static void test_labels(void)
{
    char path[512];
    gs_error err = {0};
    gs_dataset *ds = NULL;
    int32_t y[4] = {0, 2, 1, 2};
    hsize_t n = 4;
    put(base_file(path, sizeof path, "labels.h5"), "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, y);
    CHECK_EQ_INT(gs_data_load_hdf5(&ds, path, "/X", "/y", &err), GS_OK);
    if (!ds) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_EQ_INT(ds->n, 4);
    CHECK_EQ_INT(ds->d, 3);
    CHECK_EQ_INT(ds->k, 3);
    CHECK_EQ_INT(ds->has_labels, 1);
    CHECK(memcmp(ds->x, X, sizeof X) == 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(ds->label[i], y[i]);
    gs_dataset_destroy(ds);
    ds = NULL;
    /* the largest label allowed makes the largest class count allowed */
    int32_t ymax[4] = {0, 999999, 1, 2};
    put(base_file(path, sizeof path, "labelmax.h5"), "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n,
        ymax);
    CHECK_EQ_INT(gs_data_load_hdf5(&ds, path, "/X", "/y", &err), GS_OK);
    if (ds)
        CHECK_EQ_INT(ds->k, 1000000);
    gs_dataset_destroy(ds);
}

static void test_targets(void)
{
    char path[512];
    gs_error err = {0};
    gs_dataset *ds = NULL;
    double y2[4][2] = {{0.5, 1}, {2, 3}, {4, 5}, {6, -7}};
    float y1[4] = {0.25f, 1, 2, 3};
    hsize_t d2[2] = {4, 2}, d1 = 4;
    int16_t xi[4][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {-1, 0, 1}};
    base_file(path, sizeof path, "targets.h5");
    put(path, "Y2", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, y2);
    put(path, "Y1", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &d1, y1);
    put(path, "XI", H5T_STD_I16LE, H5T_NATIVE_INT16, 2, (hsize_t[]){4, 3}, xi);
    CHECK_EQ_INT(gs_data_load_hdf5(&ds, path, "X", "Y2", &err), GS_OK);
    if (ds) {
        CHECK_EQ_INT(ds->k, 2);
        CHECK_EQ_INT(ds->has_labels, 0);
        CHECK(ds->label == NULL && memcmp(ds->y, y2, sizeof y2) == 0);
        gs_dataset_destroy(ds);
    }
    CHECK_EQ_INT(gs_data_load_hdf5(&ds, path, "XI", "Y1", &err), GS_OK);
    if (ds) {
        CHECK_EQ_INT(ds->k, 1);
        CHECK(ds->y[0] == 0.25 && ds->y[3] == 3.0);
        CHECK(ds->x[9] == -1.0 && ds->x[5] == 6.0); /* integer inputs converted */
        gs_dataset_destroy(ds);
    }
}

/* Loads x_name / y_name from path and expects status s and a message containing want. */
static void expect_fail(const char *path, const char *xn, const char *yn, gs_status s,
                        const char *want)
{
    gs_error err = {0};
    gs_dataset *ds = NULL;
    CHECK_EQ_INT(gs_data_load_hdf5(&ds, path, xn, yn, &err), s);
    CHECK(ds == NULL);
    CHECK_HAS_STR(err.msg, want);
    gs_dataset_destroy(ds);
}

static void test_bad(void)
{
    char path[512], msg[700];
    hsize_t n4 = 4, n3 = 3, n0 = 0, d42[2] = {4, 2}, d3[3] = {4, 3, 1}, d0[2] = {0, 3};
    int32_t neg[4] = {0, 1, -1, 2};
    double nan_y[4] = {1, 2, (double)INFINITY, 4};
    double xbad[4][3] = {{1, 2, 3}, {4, 5, (double)NAN}, {7, 8, 9}, {1, 1, 1}};
    int32_t ok3[3] = {0, 1, 2};
    int32_t huge[4] = {0, 1, 2000000000, 2};
    int64_t over[4] = {999999, 1000000, 0, 1};

    snprintf(path, sizeof path, "%s/missing.h5", tmpdir);
    snprintf(msg, sizeof msg, "%s: cannot open data file", path);
    expect_fail(path, "X", "y", GS_EDATA, msg);

    snprintf(path, sizeof path, "%s/text.h5", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs("not hdf5\n", fp);
    fclose(fp);
    snprintf(msg, sizeof msg, "%s: not a readable HDF5 file", path);
    expect_fail(path, "X", "y", GS_EIO, msg);

    base_file(path, sizeof path, "bad.h5");
    put(path, "neg", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n4, neg);
    put(path, "short", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n3, ok3);
    put(path, "huge", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n4, huge);
    put(path, "over", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &n4, over);
    put(path, "inf", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n4, nan_y);
    put(path, "lab2", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, d42, NULL);
    put(path, "r3", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, d3, X);
    put(path, "xnan", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, (hsize_t[]){4, 3}, xbad);
    put(path, "x0", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d0, NULL);
    put(path, "y0", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n0, NULL);
    put(path, "x1", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n4, nan_y);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    put(path, "str", st, st, 1, &n4, "abcdefghijklmnop");
    H5Tclose(st);

    snprintf(msg, sizeof msg, "%s: /nope: no such dataset", path);
    expect_fail(path, "/nope", "neg", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: /g/y: no such dataset", path);
    expect_fail(path, "X", "/g/y", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: neg: negative label -1 at index 2", path);
    expect_fail(path, "X", "neg", GS_EDATA, msg);
    snprintf(msg, sizeof msg,
             "%s: huge: label 2000000000 at index 2 exceeds the maximum class count 1000000", path);
    expect_fail(path, "X", "huge", GS_EDATA, msg);
    snprintf(msg, sizeof msg,
             "%s: over: label 1000000 at index 1 exceeds the maximum class count 1000000", path);
    expect_fail(path, "X", "over", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: short: 3 rows, but X has 4 (n mismatch)", path);
    expect_fail(path, "X", "short", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: inf: non-finite value inf at [2, 0]", path);
    expect_fail(path, "X", "inf", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: lab2: integer labels must have rank 1", path);
    expect_fail(path, "X", "lab2", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: r3: rank 3, expected 2 ([n, d])", path);
    expect_fail(path, "r3", "neg", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: x1: rank 1, expected 2 ([n, d])", path);
    expect_fail(path, "x1", "neg", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: r3: rank 3, expected 1 or 2", path);
    expect_fail(path, "X", "r3", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: xnan: non-finite value nan at [1, 2]", path);
    expect_fail(path, "xnan", "inf", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: x0: empty dataset (shape 0 x 3)", path);
    expect_fail(path, "x0", "y0", GS_EDATA, msg);
    snprintf(msg, sizeof msg, "%s: str: not a numeric dataset", path);
    expect_fail(path, "X", "str", GS_EDATA, msg);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_data_hdf5.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_labels();
    test_targets();
    test_bad();
    int rc = CHECK_EXIT();
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return rc;
}
