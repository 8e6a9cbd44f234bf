/* The data sets of a plan: every distinct file data set (hdf5, mnist_idx) used by its runs, loaded
 * once in the calling thread before training, shared read-only by the workers. data.normalize is
 * part of a data set's identity and applied here at load time, so the shared copy is final. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/driver.h"

/* One distinct data set: hdf5 (path, x, y, normalize) or mnist_idx (images, labels, limit,
 * normalize). */
typedef struct {
    char *path;               /* hdf5: data.path, mnist_idx: data.images, resolved */
    char *path2;              /* mnist_idx: data.labels, resolved; else NULL */
    const gs_run_config *cfg; /* first run using it: the other identity fields */
    gs_dataset *ds;
} entry;

struct gs_plan_data {
    entry *e;
    size_t n;
    const gs_dataset **by_run; /* [n_runs]: NULL for synthetic kinds */
    size_t n_runs;
};

/* data.path relative to the directory of the spec file; absolute paths unchanged. */
static char *resolve_path(const char *spec_path, const char *p)
{
    const char *slash = spec_path ? strrchr(spec_path, '/') : NULL;
    size_t dir = p[0] == '/' || !slash ? 0 : (size_t)(slash - spec_path) + 1;
    char *out = malloc(dir + strlen(p) + 1);
    if (out) {
        memcpy(out, spec_path ? spec_path : "", dir);
        strcpy(out + dir, p);
    }
    return out;
}

/* Whether run config c (with resolved paths p, p2) uses the data set of entry e. */
static int same_data(const entry *e, const gs_run_config *c, const char *p, const char *p2)
{
    const gs_run_config *f = e->cfg;
    if (f->data_kind != c->data_kind || f->data_normalize != c->data_normalize ||
        strcmp(e->path, p) != 0)
        return 0;
    if (c->data_kind == GS_DATA_HDF5)
        return strcmp(f->data_x, c->data_x) == 0 && strcmp(f->data_y, c->data_y) == 0;
    return strcmp(e->path2, p2) == 0 && f->data_limit == c->data_limit;
}

/* Loads entry e's data set per its first run's config. */
static gs_status load(entry *e, gs_error *err)
{
    const gs_run_config *c = e->cfg;
    gs_status s = c->data_kind == GS_DATA_HDF5
                      ? gs_data_load_hdf5(&e->ds, e->path, c->data_x, c->data_y, err)
                      : gs_data_load_idx(&e->ds, e->path, e->path2, c->data_limit, err);
    if (s == GS_OK && c->data_normalize)
        gs_data_normalize(e->ds);
    return s;
}

/* The entry for run's data set, loading it on first use; NULL with err set on failure. */
static entry *find_or_load(gs_plan_data *pd, const gs_plan *plan, const gs_run_config *c,
                           gs_error *err)
{
    int idx = c->data_kind == GS_DATA_MNIST_IDX;
    char *path = resolve_path(plan->source_path, idx ? c->data_images : c->data_path);
    char *path2 = idx ? resolve_path(plan->source_path, c->data_labels) : NULL;
    entry *grown = NULL;
    if (!path || (idx && !path2))
        goto nomem;
    for (size_t j = 0; j < pd->n; j++)
        if (same_data(&pd->e[j], c, path, path2)) {
            free(path);
            free(path2);
            return &pd->e[j];
        }
    if (!(grown = realloc(pd->e, (pd->n + 1) * sizeof *grown)))
        goto nomem;
    pd->e = grown;
    entry *e = &pd->e[pd->n++];
    *e = (entry){path, path2, c, NULL};
    return load(e, err) == GS_OK ? e : NULL;
nomem:
    free(path);
    free(path2);
    gs_error_set(err, GS_ENOMEM, "out of memory loading data sets");
    return NULL;
}

gs_status gs_plan_data_load(gs_plan_data **out, const gs_plan *plan, gs_error *err)
{
    gs_status s = GS_OK;
    gs_plan_data *pd = calloc(1, sizeof *pd);
    *out = NULL;
    if (!pd || !(pd->by_run = calloc(plan->n_runs + 1, sizeof *pd->by_run))) {
        s = gs_error_set(err, GS_ENOMEM, "out of memory for the data of %zu runs", plan->n_runs);
        goto done;
    }
    pd->n_runs = plan->n_runs;
    for (size_t r = 0; r < plan->n_runs; r++) {
        const gs_run_config *c = &plan->runs[r].cfg;
        if (gs_data_is_synthetic(c->data_kind))
            continue;
        entry *e = find_or_load(pd, plan, c, err);
        if (!e) {
            s = err ? err->status : GS_EDATA;
            goto done;
        }
        if (c->loss == GS_LOSS_CROSS_ENTROPY && !e->ds->has_labels) {
            s = gs_error_set(err, GS_EDATA,
                             "%s: %s: train.loss cross_entropy needs integer labels, but the "
                             "dataset holds float targets (use loss: mse)",
                             e->path, c->data_y);
            goto done;
        }
        if (c->batch > 0 && (size_t)c->batch > e->ds->n) {
            s = gs_error_set(err, GS_EDATA,
                             "%s: %s: train.batch %lld exceeds the %zu samples of the data set "
                             "(use batch: full)",
                             e->path, c->data_kind == GS_DATA_HDF5 ? c->data_x : "images",
                             (long long)c->batch, e->ds->n);
            goto done;
        }
        /* the held-out split (as gs_train_run draws it): floor(n * eval_fraction) samples */
        size_t n_eval = (size_t)floor((double)e->ds->n * c->eval_fraction);
        if ((c->eval_fraction > 0.0 && n_eval == 0) ||
            (c->batch > 0 && (size_t)c->batch > e->ds->n - n_eval)) {
            s = gs_error_set(err, GS_EDATA,
                             "%s: %s: train.batch %lld and train.eval_fraction %g do not fit the "
                             "%zu samples of the data set (%zu held out)",
                             e->path, c->data_kind == GS_DATA_HDF5 ? c->data_x : "images",
                             (long long)c->batch, c->eval_fraction, e->ds->n, n_eval);
            goto done;
        }
        pd->by_run[r] = e->ds;
    }
    *out = pd;
    pd = NULL;
done:
    gs_plan_data_destroy(pd);
    return s;
}

const gs_dataset *gs_plan_data_get(const gs_plan_data *pd, size_t run)
{
    return pd && run < pd->n_runs ? pd->by_run[run] : NULL;
}

void gs_plan_data_destroy(gs_plan_data *pd)
{
    if (!pd)
        return;
    for (size_t j = 0; j < pd->n; j++) {
        gs_dataset_destroy(pd->e[j].ds);
        free(pd->e[j].path);
        free(pd->e[j].path2);
    }
    free(pd->e);
    free(pd->by_run);
    free(pd);
}
