/* The index file OUT.h5: root attributes (provenance, versions, record section), /summary (one
 * compound row per committed run, plan order) and /runs/<id> external links into the segments.
 * Rewritten whole as OUT.h5.tmp, fsync'd and renamed over OUT.h5; store.c decides when (at open
 * on resume, after commits but at most every few seconds, and at close). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <gsl/gsl_version.h>

#include "store/internal.h"

#ifndef GS_VERSION_STRING
#define GS_VERSION_STRING "0.1.0"
#endif

#define MAX_COLS 128 /* every key of the table as an axis, plus the fixed columns */

const char *gs_store_hdf5_version(char *buf, size_t n)
{
    unsigned maj = 0, min = 0, rel = 0;
    gs_h5_quiet();
    H5get_libversion(&maj, &min, &rel);
    snprintf(buf, n, "%u.%u.%u", maj, min, rel);
    return buf;
}

/* One /summary column: name, file/memory type, byte offset in a packed row. */
typedef struct {
    char name[GS_NAME_MAX];
    const gs_key *key; /* axis column, or NULL for a fixed column */
    int fixed;         /* index into fixed[] for a fixed column after the axes, else -1 */
    hid_t type;        /* owned when str_len > 0 */
    size_t str_len;    /* fixed string size incl. NUL, 0 for numbers */
    size_t offset, size;
} column;

typedef struct {
    column col[MAX_COLS];
    size_t n, row_size;
} table;

/* Axis column name: the key path without its section ("model.depth" -> "depth"). */
static const char *short_name(const gs_key *k)
{
    const char *dot = strchr(k->path, '.');
    return dot ? dot + 1 : k->path;
}

/* The fixed columns of /summary after the axes (run_id comes first), in order: name, kind and
 * the gs_store_row field they show. */
typedef enum { COL_U64, COL_I64, COL_F64, COL_STATUS, COL_VERDICT } col_kind;

static const struct {
    const char *name;
    col_kind kind;
    size_t offset; /* in gs_store_row */
} fixed[] = {
    {"seed", COL_U64, offsetof(gs_store_row, seed)},
    {"replicate", COL_I64, offsetof(gs_store_row, replicate)},
    {"status", COL_STATUS, offsetof(gs_store_row, status)},
    {"diverged_step", COL_I64, offsetof(gs_store_row, diverged_step)},
    {"final_loss", COL_F64, offsetof(gs_store_row, final_loss)},
    {"grad_norm_first_step0", COL_F64, offsetof(gs_store_row, gn_first)},
    {"grad_norm_last_step0", COL_F64, offsetof(gs_store_row, gn_last)},
    {"eval_loss", COL_F64, offsetof(gs_store_row, eval_loss)},
    {"eval_accuracy", COL_F64, offsetof(gs_store_row, eval_accuracy)},
    {"verdict", COL_VERDICT, offsetof(gs_store_row, verdict)},
    {"verdict_step", COL_I64, offsetof(gs_store_row, verdict_step)},
    {"q_star", COL_F64, offsetof(gs_store_row, th.q_star)},
    {"chi1", COL_F64, offsetof(gs_store_row, th.chi1)},
    {"xi_grad", COL_F64, offsetof(gs_store_row, th.xi_grad)},
    {"xi_c", COL_F64, offsetof(gs_store_row, th.xi_c)},
    {"pred_slope", COL_F64, offsetof(gs_store_row, th.pred_slope)},
    {"delta_slope0", COL_F64, offsetof(gs_store_row, delta_slope0)},
};
#define N_FIXED (sizeof fixed / sizeof fixed[0])

/* Whether short name s of axis a collides with a fixed column or another axis. */
static int collides(const gs_plan *plan, size_t a, const char *s)
{
    if (strcmp(s, "run_id") == 0)
        return 1;
    for (size_t i = 0; i < N_FIXED; i++)
        if (strcmp(fixed[i].name, s) == 0)
            return 1;
    for (size_t i = 0; i < plan->n_axes; i++)
        if (i != a && strcmp(short_name(plan->axes[i].key), s) == 0)
            return 1;
    return 0;
}

static herr_t add_col(table *t, const char *name, const gs_key *key, hid_t type, size_t str_len)
{
    if (t->n == MAX_COLS || type < 0)
        return -1;
    column *c = &t->col[t->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->key = key;
    c->fixed = -1;
    c->type = type;
    c->str_len = str_len;
    c->offset = t->row_size;
    c->size = H5Tget_size(type);
    t->row_size += c->size;
    return 0;
}

static hid_t fixed_str(size_t len)
{
    hid_t ty = H5Tcopy(H5T_C_S1);
    if (ty >= 0 && H5Tset_size(ty, len) < 0) {
        H5Tclose(ty);
        return H5I_INVALID_HID;
    }
    return ty;
}

/* Longest formatted value of axis key k over the rows, + 1 for the NUL. */
static size_t axis_str_len(const gs_key *k, const gs_store_row *const *rows, size_t n)
{
    char text[GS_PATH_MAX + 8];
    size_t len = 2;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(gs_key_format(k, rows[i]->cfg, text, sizeof text)) + 1;
        len = l > len ? l : len;
    }
    return len;
}

/* Whether key k holds a per-layer list in any row (model.width {layers: [...]}): its column is
 * then the canonical text ("64" or "[64,32,16]") instead of the first entry as an integer. */
static int any_list(const gs_key *k, const gs_store_row *const *rows, size_t n)
{
    if (!gs_key_has_list(k))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i]->cfg->width_list[0])
            return 1;
    return 0;
}

static herr_t build_table(table *t, const gs_plan *plan, const gs_store_row *const *rows, size_t n)
{
    herr_t rc = add_col(t, "run_id", NULL, fixed_str(GS_RUN_ID_LEN + 1), GS_RUN_ID_LEN + 1);
    for (size_t a = 0; a < plan->n_axes && rc >= 0; a++) {
        const gs_key *k = plan->axes[a].key;
        char name[GS_NAME_MAX];
        snprintf(name, sizeof name, "%s", short_name(k));
        if (collides(plan, a, name)) {
            snprintf(name, sizeof name, "%s", k->path);
            for (char *p = name; *p; p++)
                *p = *p == '.' ? '_' : *p;
        }
        if (k->type == GS_KEY_INT && !any_list(k, rows, n))
            rc = add_col(t, name, k, H5T_NATIVE_INT64, 0);
        else if (k->type == GS_KEY_REAL)
            rc = add_col(t, name, k, H5T_NATIVE_DOUBLE, 0);
        else {
            size_t len = axis_str_len(k, rows, n);
            rc = add_col(t, name, k, fixed_str(len), len);
        }
    }
    for (size_t i = 0; i < N_FIXED && rc >= 0; i++) {
        switch (fixed[i].kind) {
        case COL_U64:
            rc = add_col(t, fixed[i].name, NULL, H5T_NATIVE_UINT64, 0);
            break;
        case COL_I64:
            rc = add_col(t, fixed[i].name, NULL, H5T_NATIVE_INT64, 0);
            break;
        case COL_F64:
            rc = add_col(t, fixed[i].name, NULL, H5T_NATIVE_DOUBLE, 0);
            break;
        case COL_STATUS:
            rc = add_col(t, fixed[i].name, NULL, fixed_str(GS_STATUS_STR_LEN), GS_STATUS_STR_LEN);
            break;
        case COL_VERDICT:
            rc = add_col(t, fixed[i].name, NULL, fixed_str(GS_VERDICT_STR_LEN), GS_VERDICT_STR_LEN);
            break;
        }
        if (rc >= 0)
            t->col[t->n - 1].fixed = (int)i;
    }
    return rc;
}

static void put_str(unsigned char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    memcpy(dst, s, n < cap - 1 ? n : cap - 1);
}

/* Packs one row's value of column c at dst (zeroed beforehand). */
static void pack(const column *c, const gs_store_row *r, unsigned char *dst)
{
    char text[GS_PATH_MAX + 8];
    if (c->key) {
        const char *base = (const char *)r->cfg + c->key->offset;
        if (c->str_len)
            put_str(dst, c->str_len, gs_key_format(c->key, r->cfg, text, sizeof text));
        else
            memcpy(dst, base, 8); /* int64_t or double, as in the config */
        return;
    }
    if (c->fixed < 0) {
        put_str(dst, c->str_len, r->id);
        return;
    }
    const char *field = (const char *)r + fixed[c->fixed].offset;
    int v;
    switch (fixed[c->fixed].kind) {
    case COL_STATUS:
        memcpy(&v, field, sizeof v);
        put_str(dst, c->str_len, gs_store_status_name(v));
        break;
    case COL_VERDICT: /* "" for runs written before verdicts existed */
        memcpy(&v, field, sizeof v);
        put_str(dst, c->str_len, v >= 0 && v < GS_VERDICT__COUNT ? gs_verdict_names[v] : "");
        break;
    default: /* uint64_t, int64_t, double */
        memcpy(dst, field, 8);
    }
}

static int by_order(const void *a, const void *b)
{
    const gs_store_row *x = *(const gs_store_row *const *)a, *y = *(const gs_store_row *const *)b;
    return (x->order > y->order) - (x->order < y->order);
}

/* Writes /summary and its `columns` / `axes` / `axis_keys` attributes. */
static gs_status write_summary(hid_t file, const gs_store *st, const gs_store_row *const *rows,
                               size_t n, const char *where, gs_error *err)
{
    gs_status s = GS_OK;
    table t = {0};
    hid_t ct = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    unsigned char *buf = NULL;
    const char *names[MAX_COLS], *axes[MAX_COLS], *keys[MAX_COLS];
    size_t n_axes = 0;
    if (build_table(&t, st->plan, rows, n) < 0 || (ct = H5Tcreate(H5T_COMPOUND, t.row_size)) < 0) {
        s = gs_h5_fail(err, where, "H5Tcreate(/summary row type)");
        goto done;
    }
    for (size_t i = 0; i < t.n; i++) {
        if (H5Tinsert(ct, t.col[i].name, t.col[i].offset, t.col[i].type) < 0) {
            s = gs_h5_fail(err, where, "H5Tinsert(/summary column)");
            goto done;
        }
        names[i] = t.col[i].name;
        if (t.col[i].key) {
            axes[n_axes] = t.col[i].name;
            keys[n_axes++] = t.col[i].key->path;
        }
    }
    buf = calloc(n ? n : 1, t.row_size);
    if (!buf) {
        s = gs_error_set(err, GS_ENOMEM, "%s: /summary: out of memory", where);
        goto done;
    }
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < t.n; i++)
            pack(&t.col[i], rows[r], buf + r * t.row_size + t.col[i].offset);
    hsize_t dim = n;
    ds = gs_h5_write_dataset(file, "summary", 1, &dim, ct, ct, buf);
    if (ds < 0 || gs_h5_attr_strv(ds, "columns", names, t.n) < 0 ||
        gs_h5_attr_strv(ds, "axes", axes, n_axes) < 0 ||
        gs_h5_attr_strv(ds, "axis_keys", keys, n_axes) < 0)
        s = gs_h5_fail(err, where, "H5Dcreate/H5Dwrite(/summary)");
done:
    if (ds >= 0)
        H5Dclose(ds);
    if (ct >= 0)
        H5Tclose(ct);
    for (size_t i = 0; i < t.n; i++)
        if (t.col[i].str_len)
            H5Tclose(t.col[i].type);
    free(buf);
    return s;
}

static herr_t root_attrs(hid_t f, const gs_store *st)
{
    char host[256] = "", hver[32];
    const gs_plan *p = st->plan;
    const gs_record *rec = &p->record;
    const char *blas = openblas_get_config();
    int dt = rec->dtype >= 0 && rec->dtype < GS_DTYPE__COUNT ? rec->dtype : 0;
    int lv = rec->level >= 0 && rec->level < GS_LEVEL__COUNT ? rec->level : GS_LEVEL_STANDARD;
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    herr_t rc = 0;
    rc |= gs_h5_attr_str(f, "schema", GS_SCHEMA);
    rc |= gs_h5_attr_i64(f, "schema_minor", GS_SCHEMA_MINOR);
    rc |= gs_h5_attr_str(f, "gradsweep_version", GS_VERSION_STRING);
    rc |= gs_h5_attr_str(f, "spec", p->resolved_yaml);
    rc |= gs_h5_attr_str(f, "command_line", st->opts.command_line);
    rc |= gs_h5_attr_str(f, "created", st->created);
    rc |= gs_h5_attr_str(f, "hostname", host);
    rc |= gs_h5_attr_str(f, "rng", st->opts.rng_name);
    rc |= gs_h5_attr_str(f, "hdf5_version", gs_store_hdf5_version(hver, sizeof hver));
    rc |= gs_h5_attr_str(f, "gsl_version", GSL_VERSION);
    rc |= gs_h5_attr_str(f, "blas_version", blas ? blas : "unknown");
    rc |= gs_h5_attr_str(f, "name", p->name);
    rc |= gs_h5_attr_u64(f, "master_seed", p->master_seed);
    rc |= gs_h5_attr_i64(f, "replicates", p->replicates);
    rc |= gs_h5_attr_i64(f, "n_runs", (int64_t)p->n_runs);
    rc |= gs_h5_attr_i64(f, "n_committed", (int64_t)st->n_committed);
    rc |= gs_h5_attr_i64(f, "record_every", rec->every);
    rc |= gs_h5_attr_i64v(f, "record_grads", rec->grad_steps, rec->n_grad_steps);
    rc |= gs_h5_attr_i64(f, "record_grad_every", rec->grad_every);
    rc |= gs_h5_attr_i64(f, "record_grad_log", rec->grad_log);
    rc |= gs_h5_attr_i64(f, "record_weights", rec->weights ? 1 : 0);
    rc |= gs_h5_attr_str(f, "record_dtype", gs_dtype_names[dt]);
    rc |= gs_h5_attr_str(f, "record_level", gs_level_names[lv]);
    rc |= gs_h5_attr_i64(f, "record_hist_bins", rec->hist_bins);
    rc |= gs_h5_attr_i64(f, "record_hist_every", rec->hist_every);
    rc |= gs_h5_attr_f64(f, "record_hist_min", rec->hist_min);
    rc |= gs_h5_attr_f64(f, "record_hist_max", rec->hist_max);
    rc |= gs_h5_attr_i64(f, "record_probe_batch", rec->probe_batch);
    rc |= gs_h5_attr_i64(f, "record_activations", rec->activations ? 1 : 0);
    rc |= gs_h5_attr_i64(f, "record_deltas", rec->deltas ? 1 : 0);
    rc |= gs_h5_attr_i64(f, "record_jacobian_inputs", rec->jacobian_inputs);
    return rc;
}

/* /runs/<id> -> external link "<base>.d/seg-NNNNNN.h5":/runs/<id>, relative to OUT.h5's
 * directory (HDF5 looks there first for relative targets). */
static gs_status links(hid_t f, const gs_store *st, const gs_store_row *const *rows, size_t n,
                       const char *where, gs_error *err)
{
    char target[GS_PATH_MAX + 32], obj[64];
    hid_t g = H5Gcreate2(f, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return gs_h5_fail(err, where, "H5Gcreate(/runs)");
    gs_status s = GS_OK;
    for (size_t i = 0; i < n && s == GS_OK; i++) {
        snprintf(target, sizeof target, "%s.d/seg-%06u.h5", st->base, rows[i]->seg);
        snprintf(obj, sizeof obj, "/runs/%s", rows[i]->id);
        if (H5Lcreate_external(target, obj, g, rows[i]->id, H5P_DEFAULT, H5P_DEFAULT) < 0)
            s = gs_h5_fail(err, where, "H5Lcreate_external(/runs/<id>)");
    }
    H5Gclose(g);
    return s;
}

/* Writes the whole index into tmp (an open file id). */
static gs_status fill(hid_t f, const gs_store *st, const char *where, gs_error *err)
{
    const gs_store_row **rows = malloc((st->n_committed + 1) * sizeof *rows);
    size_t n = 0;
    gs_status s = GS_OK;
    if (!rows)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", where);
    for (size_t r = 0; r < st->n_rows; r++)
        if (st->rows[r].committed)
            rows[n++] = &st->rows[r];
    qsort(rows, n, sizeof *rows, by_order);
    if (root_attrs(f, st) < 0)
        s = gs_h5_fail(err, where, "H5Acreate/H5Awrite(root attributes)");
    if (s == GS_OK)
        s = write_summary(f, st, rows, n, where, err);
    if (s == GS_OK)
        s = links(f, st, rows, n, where, err);
    free(rows);
    return s;
}

gs_status gs_index_write(gs_store *st, gs_error *err)
{
    char tmp[GS_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", st->path);
    hid_t fapl = gs_h5_fapl();
    if (fapl < 0)
        return gs_h5_fail(err, tmp, "H5Pcreate(file access)");
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    /* The error stack first: any later HDF5 call clears it. */
    gs_status s = f < 0 ? gs_h5_fail(err, tmp, "H5Fcreate") : GS_OK;
    H5Pclose(fapl);
    if (s != GS_OK)
        return s;
    s = fill(f, st, tmp, err);
    if (s == GS_OK)
        s = gs_h5_close_file(f, tmp, "index", err);
    else
        gs_h5_discard_file(f);
    if (s == GS_OK)
        s = gs_fsync_path(tmp, 0, err);
    if (s == GS_OK && rename(tmp, st->path) != 0)
        s = gs_error_set(err, GS_EIO, "%s: rename to %s failed: %s", tmp, st->path,
                         strerror(errno));
    if (s == GS_OK)
        s = gs_fsync_path(st->parent, 1, err);
    if (s != GS_OK)
        unlink(tmp);
    return s;
}
