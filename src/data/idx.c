/* Loads the classic MNIST idx files (images and labels, each plain or gzip) into a data set.
 * Validates every header field and label before returning, so training never sees a bad sample.
 * Called before the workers start, like the HDF5 loader; knows nothing of sweeps. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "gradsweep/data.h"

#define IDX_IMAGES 0x00000803u /* unsigned byte, 3 dims */
#define IDX_LABELS 0x00000801u /* unsigned byte, 1 dim */
#define IDX_DIM_MAX 100000u    /* rows, cols: far above any real image, far below overflow */
#define MNIST_CLASSES 10

/* An open idx file: the zlib handle reads plain files transparently, gz says which it is. */
typedef struct {
    gzFile f;
    const char *path;
    int gz;
} idx_file;

/* Opens path and notes whether it starts with the gzip magic 1f 8b. */
static gs_status idx_open(idx_file *xf, const char *path, const char *field, gs_error *err)
{
    unsigned char m[2] = {0, 0};
    FILE *f = fopen(path, "rb");
    xf->f = NULL;
    xf->path = path;
    if (!f)
        return gs_error_set(err, GS_EDATA, "%s: %s: cannot open: %s", path, field, strerror(errno));
    xf->gz = fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
    fclose(f);
    xf->f = gzopen(path, "rb");
    if (!xf->f)
        return gs_error_set(err, GS_EDATA, "%s: %s: cannot open", path, field);
    return GS_OK;
}

/* Reads exactly n bytes; GS_EDATA naming the file and what was being read when the file ends
 * early or the gzip stream is corrupt. */
static gs_status idx_read(idx_file *xf, void *buf, size_t n, const char *what, gs_error *err)
{
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
        int got = gzread(xf->f, p, chunk);
        if (got <= 0 || (unsigned)got < chunk) {
            int zerr = 0;
            const char *msg = got < 0 ? gzerror(xf->f, &zerr) : "unexpected end of file";
            return gs_error_set(err, GS_EDATA, "%s: %s: truncated or corrupt%s (%s)", xf->path,
                                what, xf->gz ? " gzip stream" : " file", msg);
        }
        p += got;
        n -= (size_t)got;
    }
    return GS_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Reads the header: the magic first (so a wrong file is named as such, even when short), then
 * rank dims; each must be >= 1, and the image dims at most IDX_DIM_MAX. */
static gs_status idx_header(idx_file *xf, uint32_t magic, const char *field, uint32_t *dims,
                            int rank, gs_error *err)
{
    unsigned char b[16];
    gs_status st = idx_read(xf, b, 4, "magic", err);
    if (st)
        return st;
    if (be32(b) != magic)
        return gs_error_set(err, GS_EDATA,
                            "%s: magic: 0x%08x, expected 0x%08x (idx %s: unsigned bytes, %d dims)",
                            xf->path, (unsigned)be32(b), (unsigned)magic, field, rank);
    if ((st = idx_read(xf, b + 4, 4 * (size_t)rank, "header", err)))
        return st;
    for (int i = 0; i < rank; i++) {
        dims[i] = be32(b + 4 + 4 * i);
        if (dims[i] == 0 || (i > 0 && dims[i] > IDX_DIM_MAX))
            return gs_error_set(err, GS_EDATA, "%s: dims[%d]: %u, expected 1..%u", xf->path, i,
                                (unsigned)dims[i], i > 0 ? IDX_DIM_MAX : UINT32_MAX);
    }
    return GS_OK;
}

/* Reads and checks the label file's header and first n labels into ds. */
static gs_status read_labels(idx_file *lf, gs_dataset *ds, gs_error *err)
{
    unsigned char *b = malloc(ds->n);
    gs_status st = GS_OK;
    if (!b)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory for %zu labels", lf->path, ds->n);
    if ((st = idx_read(lf, b, ds->n, "labels", err)))
        goto done;
    for (size_t i = 0; i < ds->n; i++) {
        if (b[i] >= MNIST_CLASSES) {
            st = gs_error_set(err, GS_EDATA, "%s: labels[%zu]: %u out of range 0..9", lf->path, i,
                              (unsigned)b[i]);
            goto done;
        }
        ds->label[i] = b[i];
    }
done:
    free(b);
    return st;
}

/* Reads n images of d pixels into ds->x, scaled by 1/255, one image at a time. */
static gs_status read_images(idx_file *xf, gs_dataset *ds, gs_error *err)
{
    unsigned char *b = malloc(ds->d);
    gs_status st = GS_OK;
    if (!b)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", xf->path);
    for (size_t i = 0; i < ds->n && !st; i++) {
        if ((st = idx_read(xf, b, ds->d, "pixels", err)))
            break;
        for (size_t j = 0; j < ds->d; j++)
            ds->x[i * ds->d + j] = (double)b[j] / 255.0;
    }
    free(b);
    return st;
}

gs_status gs_data_load_idx(gs_dataset **out, const char *images, const char *labels, int64_t limit,
                           gs_error *err)
{
    idx_file xf = {NULL, images, 0}, lf = {NULL, labels, 0};
    uint32_t xd[3], ld[1];
    gs_dataset *ds = NULL;
    gs_status st;
    *out = NULL;
    if ((st = idx_open(&xf, images, "data.images", err)) ||
        (st = idx_open(&lf, labels, "data.labels", err)) ||
        (st = idx_header(&xf, IDX_IMAGES, "images", xd, 3, err)) ||
        (st = idx_header(&lf, IDX_LABELS, "labels", ld, 1, err)))
        goto done;
    if (xd[0] != ld[0]) {
        st = gs_error_set(err, GS_EDATA, "%s: count: %u labels, but %s holds %u images", labels,
                          (unsigned)ld[0], images, (unsigned)xd[0]);
        goto done;
    }
    size_t n = xd[0];
    if (limit > 0 && (uint64_t)limit < n)
        n = (size_t)limit;
    if ((st = gs_dataset_create(&ds, n, (size_t)xd[1] * xd[2], MNIST_CLASSES, 1, err))) {
        gs_error_prefix(err, "%s", images);
        goto done;
    }
    if ((st = read_labels(&lf, ds, err)) || (st = read_images(&xf, ds, err)))
        goto done;
    *out = ds;
    ds = NULL;
done:
    if (xf.f)
        gzclose(xf.f);
    if (lf.f)
        gzclose(lf.f);
    gs_dataset_destroy(ds);
    return st;
}
