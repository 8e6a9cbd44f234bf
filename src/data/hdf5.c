/* Loads a training set from an HDF5 file: inputs x [n, d] (float or integer) and either integer
 * labels y [n] or float targets y [n] / [n, k]. Validates shapes and values up front so training
 * never sees a bad sample. Called before the workers start; they never call HDF5. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "gradsweep/data.h"

/* An opened dataset with its type class, rank and dims. */
typedef struct {
    hid_t id;
    H5T_class_t cls;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
} dset;

static void close_dset(dset *ds)
{
    if (ds->id >= 0)
        H5Dclose(ds->id);
    ds->id = H5I_INVALID_HID;
}

/* Opens dataset name and checks it is numeric, of rank min_rank..2, with at least one element. */
static gs_status open_dset(hid_t f, const char *path, const char *name, int min_rank, dset *ds,
                           gs_error *err)
{
    hid_t t = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    gs_status s = GS_OK;
    ds->id = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds->id < 0)
        return gs_error_set(err, GS_EDATA, "%s: %s: no such dataset", path, name);
    t = H5Dget_type(ds->id);
    sp = H5Dget_space(ds->id);
    ds->cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    ds->rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (ds->cls != H5T_FLOAT && ds->cls != H5T_INTEGER) {
        s = gs_error_set(err, GS_EDATA, "%s: %s: not a numeric dataset (float or integer)", path,
                         name);
        goto done;
    }
    if (ds->rank < min_rank || ds->rank > 2) {
        s = gs_error_set(err, GS_EDATA, "%s: %s: rank %d, expected %s", path, name, ds->rank,
                         min_rank == 2 ? "2 ([n, d])" : "1 or 2 ([n] or [n, k])");
        goto done;
    }
    ds->dims[1] = 1;
    H5Sget_simple_extent_dims(sp, ds->dims, NULL);
    if (ds->dims[0] == 0 || ds->dims[1] == 0)
        s = gs_error_set(err, GS_EDATA, "%s: %s: empty dataset (shape %" PRIuMAX " x %" PRIuMAX ")",
                         path, name, (uintmax_t)ds->dims[0], (uintmax_t)ds->dims[1]);
done:
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    return s;
}

static gs_status read_all(const dset *ds, hid_t mem_type, void *buf, const char *path,
                          const char *name, gs_error *err)
{
    if (H5Dread(ds->id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        return gs_error_set(err, GS_EIO, "%s: %s: H5Dread failed", path, name);
    return GS_OK;
}

/* Rejects NaN/Inf in v [n][m], naming the first bad element. */
static gs_status check_finite(const double *v, size_t n, size_t m, const char *path,
                              const char *name, gs_error *err)
{
    for (size_t i = 0; i < n * m; i++)
        if (!isfinite(v[i]))
            return gs_error_set(err, GS_EDATA, "%s: %s: non-finite value %g at [%zu, %zu]", path,
                                name, v[i], i / m, i % m);
    return GS_OK;
}

/* Reads integer labels y [n]: each must be in [0, GS_CLASSES_MAX), the same bound as
 * data.classes, so that the output width k = max + 1 stays a sane size (a stray label of 2e9
 * would otherwise ask for a 2e9-wide readout and fail later as out of memory). */
static gs_status read_labels(const dset *y, int64_t *lab, size_t *k, const char *path,
                             const char *name, gs_error *err)
{
    size_t n = (size_t)y->dims[0];
    gs_status s = read_all(y, H5T_NATIVE_INT64, lab, path, name, err);
    int64_t max = 0;
    for (size_t i = 0; i < n && s == GS_OK; i++) {
        if (lab[i] < 0)
            s = gs_error_set(err, GS_EDATA, "%s: %s: negative label %" PRId64 " at index %zu", path,
                             name, lab[i], i);
        else if (lab[i] >= GS_CLASSES_MAX)
            s = gs_error_set(err, GS_EDATA,
                             "%s: %s: label %" PRId64
                             " at index %zu exceeds the maximum class count %d",
                             path, name, lab[i], i, GS_CLASSES_MAX);
        else if (lab[i] > max)
            max = lab[i];
    }
    *k = (size_t)max + 1;
    return s;
}

/* Checks the shapes of x and y against each other; sets has_labels and (for targets) k. */
static gs_status check_shapes(const dset *x, const dset *y, const char *path, const char *xn,
                              const char *yn, int *has_labels, size_t *k, gs_error *err)
{
    if (y->dims[0] != x->dims[0])
        return gs_error_set(err, GS_EDATA,
                            "%s: %s: %" PRIuMAX " rows, but %s has %" PRIuMAX " (n mismatch)", path,
                            yn, (uintmax_t)y->dims[0], xn, (uintmax_t)x->dims[0]);
    *has_labels = y->cls == H5T_INTEGER;
    if (*has_labels && y->rank != 1)
        return gs_error_set(err, GS_EDATA,
                            "%s: %s: integer labels must have rank 1 ([n]), got rank %d", path, yn,
                            y->rank);
    *k = *has_labels ? 0 : (size_t)y->dims[1];
    return GS_OK;
}

gs_status gs_data_load_hdf5(gs_dataset **out, const char *path, const char *x_name,
                            const char *y_name, gs_error *err)
{
    gs_status s = GS_OK;
    gs_dataset *ds = NULL;
    dset x = {H5I_INVALID_HID, H5T_NO_CLASS, 0, {0}}, y = x;
    int64_t *lab = NULL;
    int has_labels = 0;
    size_t k = 0;
    hid_t f = H5I_INVALID_HID;
    *out = NULL;
    /* Library code must not print: keep HDF5's automatic error printing off on this thread. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, F_OK) != 0) {
        s = gs_error_set(err, GS_EDATA, "%s: cannot open data file: %s", path, strerror(errno));
        goto done;
    }
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        s = gs_error_set(err, GS_EIO, "%s: not a readable HDF5 file (H5Fopen failed)", path);
        goto done;
    }
    if ((s = open_dset(f, path, x_name, 2, &x, err)) != GS_OK ||
        (s = open_dset(f, path, y_name, 1, &y, err)) != GS_OK ||
        (s = check_shapes(&x, &y, path, x_name, y_name, &has_labels, &k, err)) != GS_OK)
        goto done;
    size_t n = (size_t)x.dims[0], d = (size_t)x.dims[1];
    if (has_labels) {
        lab = malloc(n * sizeof *lab);
        if (!lab) {
            s = gs_error_set(err, GS_ENOMEM, "%s: %s: out of memory", path, y_name);
            goto done;
        }
        if ((s = read_labels(&y, lab, &k, path, y_name, err)) != GS_OK)
            goto done;
    }
    if ((s = gs_dataset_create(&ds, n, d, k, has_labels, err)) != GS_OK)
        goto done;
    if ((s = read_all(&x, H5T_NATIVE_DOUBLE, ds->x, path, x_name, err)) != GS_OK ||
        (s = check_finite(ds->x, n, d, path, x_name, err)) != GS_OK)
        goto done;
    if (has_labels) {
        for (size_t i = 0; i < n; i++)
            ds->label[i] = (int32_t)lab[i];
    } else if ((s = read_all(&y, H5T_NATIVE_DOUBLE, ds->y, path, y_name, err)) != GS_OK ||
               (s = check_finite(ds->y, n, k, path, y_name, err)) != GS_OK) {
        goto done;
    }
    *out = ds;
    ds = NULL;
done:
    close_dset(&x);
    close_dset(&y);
    if (f >= 0)
        H5Fclose(f);
    free(lab);
    gs_dataset_destroy(ds);
    return s;
}
