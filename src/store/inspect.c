/* Read-only inspection of an output (gradsweep info / status): the index's provenance and
 * /summary rows, the journal's committed runs, the segments of runs the index does not list
 * yet, and the size on disk. Takes no lock and writes nothing, so it works while a sweep is
 * being written; a journal line still being appended is ignored like a torn one. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gradsweep/inspect.h"
#include "store/internal.h"

typedef struct {
    const char *path;
    gs_error *err;
} ictx;

void gs_inspect_destroy(gs_inspect *in)
{
    if (!in)
        return;
    free(in->spec);
    free(in->runs);
    free(in->record);
    free(in);
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const gs_inspect_run *)a)->id, ((const gs_inspect_run *)b)->id);
}

const gs_inspect_run *gs_inspect_find(const gs_inspect *in, const char *id)
{
    gs_inspect_run key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return in->n_committed ? bsearch(&key, in->runs, in->n_committed, sizeof key, by_id) : NULL;
}

/* A variable- or fixed-length string attribute as a malloc'd string (NULL when absent). */
static char *read_str_alloc(hid_t obj, const char *name)
{
    char *out = NULL;
    hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    size_t n = ft >= 0 && H5Tget_class(ft) == H5T_STRING ? H5Tget_size(ft) : 0;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0) {
        char *p = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Aread(a, mt, &p) >= 0 && p) {
            size_t len = strlen(p) + 1;
            if ((out = malloc(len)))
                memcpy(out, p, len);
            H5free_memory(p);
        }
        if (mt >= 0)
            H5Tclose(mt);
    } else if (n > 0) {
        char buf[4096] = "";
        if (gs_h5_read_str(obj, name, buf, sizeof buf) >= 0 && (out = malloc(strlen(buf) + 1)))
            memcpy(out, buf, strlen(buf) + 1);
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

/* Formats attribute a of obj (numbers, 1-D number arrays as "[a,b]", strings) into buf. */
static void attr_text(hid_t obj, const char *name, hid_t a, char *buf, size_t n)
{
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    hssize_t count = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
    int array = sp >= 0 && H5Sget_simple_extent_ndims(sp) > 0;
    buf[0] = '\0';
    if (cls == H5T_STRING) {
        gs_h5_read_str(obj, name, buf, n);
    } else if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && count >= 0 && count <= 4096) {
        double *d = malloc(((size_t)count + 1) * sizeof *d);
        int64_t *i = malloc(((size_t)count + 1) * sizeof *i);
        int ok = d && i &&
                 (count == 0 || (cls == H5T_INTEGER ? H5Aread(a, H5T_NATIVE_INT64, i)
                                                    : H5Aread(a, H5T_NATIVE_DOUBLE, d)) >= 0);
        size_t len = 0;
        if (ok && array)
            len += (size_t)snprintf(buf, n, "[");
        for (hssize_t k = 0; ok && k < count && len < n; k++) {
            char num[40];
            if (cls == H5T_INTEGER)
                snprintf(num, sizeof num, "%" PRId64, i[k]);
            else
                gs_fmt_real(num, sizeof num, d[k]);
            len += (size_t)snprintf(buf + len, n - len, "%s%s", k ? "," : "", num);
        }
        if (ok && array && len < n)
            snprintf(buf + len, n - len, "]");
        free(d);
        free(i);
    }
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
}

/* H5Aiterate2 callback: collects the record_* root attributes as text. */
static herr_t collect_record(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
    gs_inspect *in = data;
    (void)info;
    if (strncmp(name, "record_", 7) != 0)
        return 0;
    gs_inspect_attr *r = realloc(in->record, (in->n_record + 1) * sizeof *r);
    if (!r)
        return -1;
    in->record = r;
    r += in->n_record++;
    snprintf(r->name, sizeof r->name, "%s", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a >= 0) {
        attr_text(obj, name, a, r->value, sizeof r->value);
        H5Aclose(a);
    }
    return 0;
}

/* Checks the root attribute `schema` of an open file; GS_EINVAL naming what the file is. */
static gs_status check_schema(hid_t f, gs_inspect *in, const ictx *c)
{
    if (H5Aexists(f, "schema") <= 0 ||
        gs_h5_read_str(f, "schema", in->schema, sizeof in->schema) < 0)
        return gs_error_set(
            c->err, GS_EINVAL,
            "%s: not a gradsweep output (an HDF5 file without a 'schema' attribute)", c->path);
    if (strcmp(in->schema, GS_SCHEMA " segment") == 0)
        return gs_error_set(c->err, GS_EINVAL,
                            "%s: a segment of a gradsweep output, not its index; give the .h5 file "
                            "next to the .h5.d directory",
                            c->path);
    if (strcmp(in->schema, GS_SCHEMA) != 0)
        return gs_error_set(c->err, GS_EINVAL,
                            "%s: schema '%s' is not supported (this gradsweep reads %s)", c->path,
                            in->schema, GS_SCHEMA);
    return GS_OK;
}

/* Row of /summary as read: the columns inspect needs (missing ones stay zeroed). */
typedef struct {
    char id[GS_RUN_ID_LEN + 1];
    char status[16];
    char verdict[16];
    int64_t verdict_step;
} sum_row;

/* Reads run_id, status, verdict, verdict_step of /summary into in->runs (sorted by id). */
static gs_status read_summary(hid_t f, gs_inspect *in, const ictx *c)
{
    gs_status s = GS_OK;
    hid_t ds = H5Dopen2(f, "summary", H5P_DEFAULT);
    hid_t ft = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID, sp = H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID, s17 = H5Tcopy(H5T_C_S1), s16 = H5Tcopy(H5T_C_S1);
    sum_row *rows = NULL;
    if (ds < 0 || ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
        s = gs_error_set(c->err, GS_EINVAL, "%s: not a gradsweep index (no /summary table)",
                         c->path);
        goto done;
    }
    sp = H5Dget_space(ds);
    size_t n = (size_t)H5Sget_simple_extent_npoints(sp);
    H5Tset_size(s17, sizeof rows->id);
    H5Tset_size(s16, sizeof rows->status);
    mt = H5Tcreate(H5T_COMPOUND, sizeof *rows);
    herr_t rc = H5Tinsert(mt, "run_id", offsetof(sum_row, id), s17);
    if (H5Tget_member_index(ft, "status") >= 0)
        rc |= H5Tinsert(mt, "status", offsetof(sum_row, status), s16);
    if (H5Tget_member_index(ft, "verdict") >= 0)
        rc |= H5Tinsert(mt, "verdict", offsetof(sum_row, verdict), s16);
    if (H5Tget_member_index(ft, "verdict_step") >= 0)
        rc |= H5Tinsert(mt, "verdict_step", offsetof(sum_row, verdict_step), H5T_NATIVE_INT64);
    rows = calloc(n + 1, sizeof *rows);
    in->runs = calloc(n + 1, sizeof *in->runs);
    if (!rows || !in->runs) {
        s = gs_error_set(c->err, GS_ENOMEM, "%s: out of memory reading /summary", c->path);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        rows[i].verdict_step = -1;
    if (rc < 0 || (n && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0)) {
        s = gs_h5_fail(c->err, c->path, "H5Dread(/summary)");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        gs_inspect_run *r = &in->runs[i];
        memcpy(r->id, rows[i].id, sizeof r->id);
        r->id[GS_RUN_ID_LEN] = '\0';
        r->status = gs_store_status_parse(rows[i].status);
        r->verdict = gs_store_verdict_parse(rows[i].verdict);
        r->verdict_step = rows[i].verdict_step;
    }
    in->n_indexed = in->n_committed = n;
    qsort(in->runs, n, sizeof *in->runs, by_id);
done:
    free(rows);
    hid_t ts[] = {mt, s17, s16, ft};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (ts[i] >= 0)
            H5Tclose(ts[i]);
    if (sp >= 0)
        H5Sclose(sp);
    if (ds >= 0)
        H5Dclose(ds);
    return s;
}

/* Reads the index file: provenance, record settings, /summary. */
static gs_status read_index(gs_inspect *in, const ictx *c)
{
    gs_status s = GS_OK;
    htri_t is = H5Fis_hdf5(c->path);
    if (is <= 0)
        return gs_error_set(c->err, GS_EINVAL, "%s: not an HDF5 file (a gradsweep output is)",
                            c->path);
    hid_t f = H5Fopen(c->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return gs_h5_fail(c->err, c->path, "H5Fopen");
    if ((s = check_schema(f, in, c)) != GS_OK)
        goto done;
    in->has_index = 1;
    if (gs_h5_read_i64(f, "schema_minor", &in->schema_minor) < 0)
        in->schema_minor = 0;
    gs_h5_read_str(f, "gradsweep_version", in->version, sizeof in->version);
    gs_h5_read_str(f, "created", in->created, sizeof in->created);
    gs_h5_read_str(f, "name", in->name, sizeof in->name);
    if (gs_h5_read_i64(f, "n_runs", &in->n_runs) < 0)
        in->n_runs = -1;
    in->spec = read_str_alloc(f, "spec");
    hsize_t idx = 0;
    if (H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_record, in) < 0) {
        s = gs_error_set(c->err, GS_ENOMEM, "%s: out of memory reading attributes", c->path);
        goto done;
    }
    s = read_summary(f, in, c);
done:
    H5Fclose(f);
    return s;
}

/* Reads the whole file at path into a NUL-terminated buffer; NULL when it cannot be read. */
static char *slurp_path(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!fp)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = 2 * cap + 8192);
            if (!nb) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, 4096, fp);
        n += r;
        if (r < 4096)
            break;
    }
    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Status and verdict of run r from /runs/<id> of the segment open as f. */
static gs_status read_seg_run(hid_t f, gs_inspect_run *r, const char *seg, gs_error *err)
{
    char obj[64], status[16] = "", verdict[16] = "";
    snprintf(obj, sizeof obj, "/runs/%s", r->id);
    hid_t g = H5Gopen2(f, obj, H5P_DEFAULT);
    if (g < 0)
        return gs_error_set(err, GS_EIO, "%s: the journal lists run %s but the segment has no %s",
                            seg, r->id, obj);
    gs_status s = GS_OK;
    if (gs_h5_read_str(g, "status", status, sizeof status) < 0)
        s = gs_h5_fail(err, seg, "H5Aread(status)");
    r->status = gs_store_status_parse(status);
    r->verdict =
        H5Aexists(g, "verdict") > 0 && gs_h5_read_str(g, "verdict", verdict, sizeof verdict) >= 0
            ? gs_store_verdict_parse(verdict)
            : -1;
    if (H5Aexists(g, "verdict_step") <= 0 ||
        gs_h5_read_i64(g, "verdict_step", &r->verdict_step) < 0)
        r->verdict_step = -1;
    H5Gclose(g);
    return s;
}

/* Appends the runs of one journal line (segment seg, ids from p) that are not yet known,
 * reading their status from the segment. */
static gs_status journal_line(gs_inspect *in, size_t *cap, unsigned seg, const char *p,
                              const char *dir, gs_error *err)
{
    char segpath[GS_PATH_MAX + 64];
    hid_t f = H5I_INVALID_HID;
    gs_status s = GS_OK;
    size_t n_known = in->n_indexed; /* the index rows, sorted, are searched by id */
    snprintf(segpath, sizeof segpath, "%s/seg-%06u.h5", dir, seg);
    while (*p && s == GS_OK) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n != GS_RUN_ID_LEN) {
            p += n;
            continue;
        }
        gs_inspect_run key = {0};
        memcpy(key.id, p, n);
        p += n;
        gs_inspect_run *r = n_known ? bsearch(&key, in->runs, n_known, sizeof key, by_id) : NULL;
        if (r) {
            r->seg = seg;
            continue;
        }
        if (in->n_committed == *cap) {
            gs_inspect_run *nr = realloc(in->runs, (*cap = 2 * *cap + 64) * sizeof *nr);
            if (!nr) {
                s = gs_error_set(err, GS_ENOMEM, "%s: out of memory", dir);
                break;
            }
            in->runs = nr;
        }
        if (f < 0 && (f = H5Fopen(segpath, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
            s = gs_h5_fail(err, segpath, "H5Fopen (journaled segment)");
            break;
        }
        key.seg = seg;
        s = read_seg_run(f, &key, segpath, err);
        in->runs[in->n_committed++] = key;
    }
    if (f >= 0)
        H5Fclose(f);
    return s;
}

/* Reads dir/journal: the header's created and record text, and every complete segment line.
 * Runs of the journal that the index lacks are added from their segments; index rows the
 * journal lacks (an index copied without its journal cannot have them) are kept. */
static gs_status read_journal(gs_inspect *in, const char *dir, gs_error *err)
{
    char path[GS_PATH_MAX + 16];
    size_t len = 0, cap = in->n_committed;
    gs_status s = GS_OK;
    snprintf(path, sizeof path, "%s/journal", dir);
    char *buf = slurp_path(path, &len);
    char *nl = buf ? memchr(buf, '\n', len) : NULL;
    if (!nl || strncmp(buf, GS_JOURNAL_MAGIC " ", strlen(GS_JOURNAL_MAGIC) + 1) != 0)
        goto done; /* no journal, or killed while writing its header: nothing committed */
    *nl = '\0';
    in->has_journal = 1;
    const char *cr = strstr(buf, " created="), *rec = strstr(buf, " record=");
    if (cr && !in->created[0])
        snprintf(in->created, sizeof in->created, "%.*s", (int)strcspn(cr + 9, " "), cr + 9);
    if (rec)
        snprintf(in->journal_record, sizeof in->journal_record, "%s", rec + 8);
    for (char *p = nl + 1; p < buf + len && s == GS_OK;) {
        char *end = memchr(p, '\n', (size_t)(buf + len - p));
        unsigned seg = 0;
        int used = 0;
        if (!end)
            break; /* a line being appended or torn: not committed */
        *end = '\0';
        if (sscanf(p, "seg-%6u.h5%n", &seg, &used) == 1 && used == 13)
            s = journal_line(in, &cap, seg, p + 13, dir, err);
        p = end + 1;
    }
    qsort(in->runs, in->n_committed, sizeof *in->runs, by_id);
    /* A run journaled twice (not made by this writer) counts once, as on resume. */
    size_t k = 0;
    for (size_t i = 0; i < in->n_committed; i++)
        if (k == 0 || strcmp(in->runs[k - 1].id, in->runs[i].id) != 0)
            in->runs[k++] = in->runs[i];
    in->n_committed = k;
done:
    free(buf);
    return s;
}

/* Sizes of the index and of the files in dir; counts segments and *.part files. */
static void disk_usage(gs_inspect *in, const char *path, const char *dir)
{
    struct stat sb;
    char file[GS_PATH_MAX + 300];
    if (stat(path, &sb) == 0)
        in->index_bytes = (uint64_t)sb.st_size;
    DIR *d = opendir(dir);
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        in->dir_bytes += (uint64_t)sb.st_size;
        in->n_segments += strncmp(e->d_name, "seg-", 4) == 0 && n == 13;
        in->n_partial += n > 5 && strcmp(e->d_name + n - 5, ".part") == 0;
    }
    if (d)
        closedir(d);
}

gs_status gs_inspect_open(gs_inspect **out, const char *path, gs_error *err)
{
    gs_status s = GS_OK;
    struct stat sb;
    char dir[GS_PATH_MAX + 8];
    ictx c = {path, err};
    *out = NULL;
    gs_h5_quiet();
    if (strlen(path) == 0 || strlen(path) > GS_PATH_MAX)
        return gs_error_set(err, GS_EINVAL, "'%s': not a usable output path", path);
    snprintf(dir, sizeof dir, "%s.d", path);
    int have_file = stat(path, &sb) == 0, have_dir = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (have_file && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return gs_error_set(err, GS_EINVAL, "%s: a directory, not a gradsweep output", path);
    if (!have_file && !have_dir)
        return gs_error_set(err, GS_EINVAL, "%s: no such file (and no %s directory)", path, dir);
    gs_inspect *in = calloc(1, sizeof *in);
    if (!in)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", path);
    in->n_runs = -1;
    if (have_file && (s = read_index(in, &c)) != GS_OK)
        goto done;
    if (have_dir && (s = read_journal(in, dir, err)) != GS_OK)
        goto done;
    if (!have_file && !in->has_journal) {
        s = gs_error_set(err, GS_EINVAL,
                         "%s: no such file, and %s holds no journal (not a gradsweep output, or "
                         "one interrupted before its first commit)",
                         path, dir);
        goto done;
    }
    disk_usage(in, path, dir);
    *out = in;
done:
    if (s != GS_OK)
        gs_inspect_destroy(in);
    return s;
}
