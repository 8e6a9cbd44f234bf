/* Small HDF5 helpers for the store: typed attributes, the dataset layout policy (contiguous
 * below 64 KiB, else 64 KiB - 1 MiB chunks with shuffle + deflate) and error messages that name
 * the failing call with HDF5's innermost description. No schema knowledge here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hdf5_hl.h>

#include "store/internal.h"

typedef struct {
    char text[256];
} walk_buf;

/* H5Ewalk2 callback walking upward: the first record is the innermost (most specific) error. */
static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data)
{
    walk_buf *wb = data;
    if (n == 0 && e && e->desc)
        snprintf(wb->text, sizeof wb->text, "%s: %s", e->func_name ? e->func_name : "?", e->desc);
    return 0;
}

void gs_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* H5Ewalk2 callback: the POSIX driver records "errno = 28" in its error description. */
static herr_t find_errno(unsigned n, const H5E_error2_t *e, void *data)
{
    int *sys = data;
    const char *p = e && e->desc ? strstr(e->desc, "errno = ") : NULL;
    (void)n;
    if (p && *sys == 0)
        *sys = atoi(p + 8);
    return 0;
}

int gs_h5_sys_errno(void)
{
    int sys = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_errno, &sys);
    return sys;
}

gs_status gs_h5_fail(gs_error *err, const char *where, const char *call)
{
    walk_buf wb = {{0}};
    int sys = gs_h5_sys_errno();
    if (sys != 0)
        return gs_error_set(err, GS_EIO, "%s: %s failed: %s", where, call, strerror(sys));
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, &wb);
    if (wb.text[0])
        return gs_error_set(err, GS_EHDF5, "%s: %s failed (%s)", where, call, wb.text);
    return gs_error_set(err, GS_EHDF5, "%s: %s failed", where, call);
}

gs_status gs_h5_fail_write(gs_error *err, const char *file, const char *what, const char *where,
                           const char *call)
{
    int sys = gs_h5_sys_errno();
    if (sys != 0)
        return gs_error_set(err, GS_EIO, "%s: cannot write %s: %s", file, what, strerror(sys));
    return gs_h5_fail(err, where, call);
}

/* The descriptor of a file open with the POSIX (sec2) driver, or -1. */
static int posix_fd(hid_t f)
{
    void *handle = NULL;
    hid_t fapl = H5Fget_access_plist(f);
    int fd = -1;
    if (fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2 &&
        H5Fget_vfd_handle(f, H5P_DEFAULT, &handle) >= 0 && handle)
        fd = *(int *)handle;
    if (fapl >= 0)
        H5Pclose(fapl);
    return fd;
}

/* Points descriptor fd at an empty unlinked shared-memory file, so that whatever HDF5 still
 * writes while closing a discarded file lands in memory and cannot fail for lack of disk space.
 * Falls back to emptying the file itself, which releases its blocks. */
static void redirect_fd(int fd)
{
    char name[64];
    snprintf(name, sizeof name, "/gradsweep-discard-%ld-%d", (long)getpid(), fd);
    int m = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (m >= 0) {
        shm_unlink(name);
        int ok = dup2(m, fd) == fd;
        close(m);
        if (ok)
            return;
    }
    int rc = ftruncate(fd, 0); /* on failure the close may still work */
    (void)rc;
}

void gs_h5_discard_file(hid_t f)
{
    /* HDF5 1.10 frees a file whose close fails but keeps its id, and crashes on it at exit; so
     * this close must not fail for lack of space. */
    int fd = posix_fd(f);
    if (fd >= 0)
        redirect_fd(fd);
    H5Fclose(f);
}

/* Allocates the blocks of file f up to its current end (posix_fallocate), so that the flush in
 * H5Fclose cannot run out of space. Returns 0, or the errno of a space error. Other failures (a
 * file system without fallocate) return 0, and the close takes its chances. */
static int reserve(hid_t f)
{
    hsize_t size = 0;
    int fd = posix_fd(f);
    if (fd < 0 || H5Fget_filesize(f, &size) < 0 || size == 0)
        return 0;
    int e = posix_fallocate(fd, 0, (off_t)size);
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? e : 0;
}

gs_status gs_h5_close_file(hid_t f, const char *path, const char *what, gs_error *err)
{
    /* Space first: a flush that fails leaves HDF5 1.10's metadata cache unable to close the
     * file at all ("slist already enabled"), and then the library crashes at exit. */
    int sys = reserve(f);
    if (sys != 0) {
        gs_h5_discard_file(f);
        return gs_error_set(err, GS_EIO, "%s: cannot write %s: %s", path, what, strerror(sys));
    }
    if (H5Fclose(f) < 0)
        return gs_h5_fail_write(err, path, what, path, "H5Fclose");
    return GS_OK;
}

hid_t gs_h5_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return fapl;
    /* 1.8 object headers: attributes over 64 KiB (a long spec) and large /runs groups. */
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_SEMI) < 0) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
    return fapl;
}

/* Creates attribute name of type t and space sp on obj and writes buf in memory type mt. */
static herr_t put_attr(hid_t obj, const char *name, hid_t t, hid_t mt, hid_t sp, const void *buf)
{
    herr_t rc = -1;
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        goto done;
    rc = H5Awrite(a, mt, buf);
done:
    if (a >= 0 && H5Aclose(a) < 0)
        rc = -1;
    return rc;
}

static herr_t put_scalar(hid_t obj, const char *name, hid_t t, const void *buf)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    if (sp < 0)
        return -1;
    herr_t rc = put_attr(obj, name, t, t, sp, buf);
    H5Sclose(sp);
    return rc;
}

herr_t gs_h5_attr_i64(hid_t obj, const char *name, int64_t v)
{
    return put_scalar(obj, name, H5T_NATIVE_INT64, &v);
}

herr_t gs_h5_attr_u64(hid_t obj, const char *name, uint64_t v)
{
    return put_scalar(obj, name, H5T_NATIVE_UINT64, &v);
}

herr_t gs_h5_attr_f64(hid_t obj, const char *name, double v)
{
    return put_scalar(obj, name, H5T_NATIVE_DOUBLE, &v);
}

/* Variable-length UTF-8 string type (h5py reads it as str, hdf5r as character). */
static hid_t vlen_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

herr_t gs_h5_attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t t = vlen_str_type();
    if (t < 0)
        return -1;
    const char *p = v ? v : "";
    herr_t rc = put_scalar(obj, name, t, (const void *)&p);
    H5Tclose(t);
    return rc;
}

herr_t gs_h5_attr_i64v(hid_t obj, const char *name, const int64_t *v, size_t n)
{
    hsize_t dim = n;
    int64_t dummy = 0;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    if (sp < 0)
        return -1;
    herr_t rc = put_attr(obj, name, H5T_NATIVE_INT64, H5T_NATIVE_INT64, sp, n ? v : &dummy);
    H5Sclose(sp);
    return rc;
}

herr_t gs_h5_attr_strv(hid_t obj, const char *name, const char *const *v, size_t n)
{
    hsize_t dim = n;
    const char *dummy = "";
    hid_t t = vlen_str_type();
    hid_t sp = t >= 0 ? H5Screate_simple(1, &dim, NULL) : H5I_INVALID_HID;
    herr_t rc = -1;
    if (sp >= 0)
        rc = put_attr(obj, name, t, t, sp, n ? (const void *)v : (const void *)&dummy);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return rc;
}

static herr_t get_scalar(hid_t obj, const char *name, hid_t mt, void *buf)
{
    herr_t rc = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        goto done;
    rc = H5Aread(a, mt, buf);
done:
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

herr_t gs_h5_read_i64(hid_t obj, const char *name, int64_t *v)
{
    return get_scalar(obj, name, H5T_NATIVE_INT64, v);
}

herr_t gs_h5_read_u64(hid_t obj, const char *name, uint64_t *v)
{
    return get_scalar(obj, name, H5T_NATIVE_UINT64, v);
}

herr_t gs_h5_read_f64(hid_t obj, const char *name, double *v)
{
    return get_scalar(obj, name, H5T_NATIVE_DOUBLE, v);
}

herr_t gs_h5_read_str(hid_t obj, const char *name, char *buf, size_t n)
{
    herr_t rc = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID;
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING || n == 0)
        goto done;
    if (H5Tis_variable_str(ft) > 0) {
        char *p = NULL;
        mt = vlen_str_type();
        if (mt < 0 || H5Aread(a, mt, &p) < 0)
            goto done;
        snprintf(buf, n, "%s", p ? p : "");
        H5free_memory(p);
    } else {
        size_t len = H5Tget_size(ft);
        char *tmp = calloc(len + 1, 1);
        mt = H5Tcopy(H5T_C_S1);
        if (!tmp || mt < 0 || H5Tset_size(mt, len + 1) < 0 || H5Aread(a, mt, tmp) < 0) {
            free(tmp);
            goto done;
        }
        snprintf(buf, n, "%s", tmp);
        free(tmp);
    }
    rc = 0;
done:
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

int gs_h5_chunk_shape(int rank, const hsize_t *dims, size_t elem, hsize_t *chunk)
{
    size_t total = elem;
    for (int i = 0; i < rank; i++)
        total *= (size_t)dims[i];
    if (total < GS_CHUNK_MIN)
        return 0;
    for (int i = 0; i < rank; i++)
        chunk[i] = dims[i];
    /* Walk outward-in: a dimension whose inner block is already >= 64 KiB gets chunk 1; the
     * first one whose inner block is smaller takes enough rows to reach 64 KiB (< 128 KiB, as the
     * inner block is < 64 KiB), and the inner dimensions stay whole. An inner block of 64 KiB to
     * 1 MiB ends the walk with chunk 1 there; a larger one is split further. */
    for (int i = 0; i < rank; i++) {
        size_t inner = elem;
        for (int j = i + 1; j < rank; j++)
            inner *= (size_t)dims[j];
        if (inner < GS_CHUNK_MIN) {
            hsize_t rows = (GS_CHUNK_MIN + inner - 1) / inner;
            chunk[i] = rows < dims[i] ? rows : dims[i];
            break;
        }
        chunk[i] = 1;
        if (inner <= GS_CHUNK_MAX)
            break;
    }
    return 1;
}

hid_t gs_h5_write_dataset(hid_t loc, const char *name, int rank, const hsize_t *dims,
                          hid_t file_type, hid_t mem_type, const void *buf)
{
    hid_t ds = H5I_INVALID_HID, sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
    hsize_t chunk[8];
    size_t total = 1;
    if (rank < 1 || rank > 8)
        goto done;
    for (int i = 0; i < rank; i++)
        total *= (size_t)dims[i];
    sp = H5Screate_simple(rank, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (sp < 0 || dcpl < 0)
        goto done;
    if (gs_h5_chunk_shape(rank, dims, H5Tget_size(file_type), chunk)) {
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
            H5Pset_deflate(dcpl, GS_DEFLATE_LEVEL) < 0)
            goto done;
    }
    ds = H5Dcreate2(loc, name, file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0)
        goto done;
    if (total > 0 && H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        H5Dclose(ds);
        ds = H5I_INVALID_HID;
    }
done:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (sp >= 0)
        H5Sclose(sp);
    return ds;
}

hid_t gs_h5_index_scale(hid_t loc, const char *name, const char *scale_name, size_t n, int64_t *tmp)
{
    hsize_t dim = n;
    for (size_t i = 0; i < n; i++)
        tmp[i] = (int64_t)i;
    hid_t ds = gs_h5_write_dataset(loc, name, 1, &dim, H5T_STD_I64LE, H5T_NATIVE_INT64, tmp);
    if (ds >= 0 && H5DSset_scale(ds, scale_name) < 0) {
        H5Dclose(ds);
        return H5I_INVALID_HID;
    }
    return ds;
}

herr_t gs_h5_attach(hid_t ds, hid_t scale, unsigned dim, const char *label)
{
    if (H5DSattach_scale(ds, scale, dim) < 0)
        return -1;
    return H5DSset_label(ds, dim, label);
}
