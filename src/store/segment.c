/* Segment contents: one group /runs/<id> per finished run (config attributes, statistics,
 * snapshot tensors with dimension scales), and reading a run's summary fields back on resume.
 * Layout decisions (chunking, filters) are in h5util.c; the object list is in docs/schema.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5_hl.h>

#include "store/internal.h"

typedef gs_seg_ctx ctx;

gs_status gs_seg_fail(const ctx *c, const char *obj, const char *call)
{
    char where[GS_PATH_MAX + 160];
    snprintf(where, sizeof where, "%s: /runs/%s%s%s", c->seg, c->id, obj[0] ? "/" : "", obj);
    if (c->writing)
        return gs_h5_fail_write(c->err, c->seg, "segment", where, call);
    return gs_h5_fail(c->err, where, call);
}

/* Closes *ds (when open) and reports a failure at once, while HDF5's error stack still holds
 * its cause: closing flushes the raw data, so a full disk shows up here. Returns s or the
 * close error when s was GS_OK. */
gs_status gs_seg_close(hid_t *ds, const ctx *c, const char *obj, gs_status s)
{
    if (*ds >= 0 && H5Dclose(*ds) < 0 && s == GS_OK)
        s = gs_seg_fail(c, obj, "H5Dclose");
    *ds = H5I_INVALID_HID;
    return s;
}

/* Writes the config keys that apply to the run's data kind as typed attributes. */
static gs_status config_attrs(hid_t g, const gs_run_config *cfg, const ctx *c)
{
    char text[GS_PATH_MAX + 8];
    for (const gs_key *k = gs_keys; k->path; k++) {
        if (!gs_key_applies(k, cfg->data_kind))
            continue;
        const char *base = (const char *)cfg + k->offset;
        herr_t rc;
        if (k->type == GS_KEY_INT) {
            int64_t v;
            memcpy(&v, base, sizeof v);
            rc = gs_h5_attr_i64(g, k->path, v);
        } else if (k->type == GS_KEY_REAL) {
            double v;
            memcpy(&v, base, sizeof v);
            rc = gs_h5_attr_f64(g, k->path, v);
        } else {
            rc = gs_h5_attr_str(g, k->path, gs_key_format(k, cfg, text, sizeof text));
        }
        if (rc < 0)
            return gs_seg_fail(c, "", k->path);
    }
    /* a layer list: model.width holds its first entry, model.width_list all ("64,32,16") */
    if (cfg->width_list[0] && gs_h5_attr_str(g, "model.width_list", cfg->width_list) < 0)
        return gs_seg_fail(c, "", "model.width_list");
    return GS_OK;
}

/* The mean-field predictions of the run's config (docs/theory.md) as float64 attributes. */
static gs_status theory_attrs(hid_t g, const gs_theory *th, const ctx *c)
{
    const struct {
        const char *name;
        double v;
    } a[] = {{"q_star", th->q_star},        {"chi1", th->chi1},   {"xi_grad", th->xi_grad},
             {"c_star", th->c_star},        {"chi_c", th->chi_c}, {"xi_c", th->xi_c},
             {"pred_slope", th->pred_slope}};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (gs_h5_attr_f64(g, a[i].name, a[i].v) < 0)
            return gs_seg_fail(c, "", a[i].name);
    return GS_OK;
}

static gs_status run_attrs(hid_t g, const gs_run *run, const gs_result *res, const gs_theory *th,
                           const ctx *c)
{
    gs_status s = config_attrs(g, &run->cfg, c);
    if (s != GS_OK)
        return s;
    const char *status = gs_store_status_name(res->status);
    const char *verdict =
        res->verdict >= 0 && res->verdict < GS_VERDICT__COUNT ? gs_verdict_names[res->verdict] : "";
    if (gs_h5_attr_str(g, "run_id", run->id) < 0 || gs_h5_attr_u64(g, "seed", run->seed) < 0 ||
        gs_h5_attr_i64(g, "replicate", run->replicate) < 0 ||
        gs_h5_attr_str(g, "status", status) < 0 ||
        gs_h5_attr_i64(g, "diverged_step", res->diverged_step) < 0 ||
        gs_h5_attr_i64(g, "steps_done", res->steps_done) < 0 ||
        gs_h5_attr_f64(g, "final_loss", res->final_loss) < 0 ||
        gs_h5_attr_i64(g, "d_in", (int64_t)res->d_in) < 0 ||
        gs_h5_attr_i64(g, "d_out", (int64_t)res->d_out) < 0 ||
        gs_h5_attr_i64(g, "n_layers", (int64_t)res->n_layers) < 0 ||
        gs_h5_attr_f64(g, "grad_norm_first_step0", res->grad_norm0_first) < 0 ||
        gs_h5_attr_f64(g, "grad_norm_last_step0", res->grad_norm0_last) < 0 ||
        gs_h5_attr_f64(g, "final_eval_loss", res->final_eval_loss) < 0 ||
        gs_h5_attr_f64(g, "final_eval_accuracy", res->final_eval_accuracy) < 0 ||
        gs_h5_attr_str(g, "verdict", verdict) < 0 ||
        gs_h5_attr_i64(g, "verdict_step", res->verdict_step) < 0 ||
        gs_h5_attr_f64(g, "delta_slope0", res->delta_slope0) < 0)
        return gs_seg_fail(c, "", "H5Acreate/H5Awrite(run attributes)");
    return theory_attrs(g, th, c);
}

/* Per-layer vectors [S, fan_out] stored next to W<l> on its scales: b<l> for every layer, and
 * gamma<l>, beta<l> (, running_mean<l>, running_var<l>) for the n hidden layers with a norm. */
typedef struct {
    const char *prefix;  /* dataset name before the three-digit layer index */
    double *const *bufs; /* [n] each [cap_snaps][fan_out[l]], or NULL when not recorded */
    size_t n;            /* layers 0..n-1 have one */
} vec_set;

/* Writes <prefix><l> [S, fan_out] of group name, sharing the scales step and fo of W<l>. */
static gs_status vec_tensor(hid_t grp, hid_t step, hid_t fo, const char *name, size_t l,
                            const vec_set *v, const gs_result *res, hid_t ftype, const ctx *c)
{
    if (!v->bufs || l >= v->n)
        return GS_OK;
    char dsname[32], obj[64];
    hsize_t dims[2] = {res->n_snaps, res->fan_out[l]};
    snprintf(dsname, sizeof dsname, "%s%03zu", v->prefix, l);
    snprintf(obj, sizeof obj, "%s/%s", name, dsname);
    hid_t ds = gs_h5_write_dataset(grp, dsname, 2, dims, ftype, H5T_NATIVE_DOUBLE, v->bufs[l]);
    if (ds < 0)
        return gs_seg_fail(c, obj, "H5Dcreate/H5Dwrite");
    gs_status s = GS_OK;
    if (gs_h5_attach(ds, step, 0, "step") < 0 || gs_h5_attach(ds, fo, 1, "fan_out") < 0)
        s = gs_seg_fail(c, obj, "dimension scales (H5DSattach_scale)");
    return gs_seg_close(&ds, c, obj, s);
}

/* Writes group name (grads or weights): step [S], W000.. [S, fan_out, fan_in] and the n_vecs
 * vector sets (vec_set), with scales. */
static gs_status tensors(hid_t g, const char *name, double *const *bufs, const vec_set *vecs,
                         size_t n_vecs, const gs_result *res, hid_t ftype, int64_t *tmp,
                         const ctx *c)
{
    gs_status s = GS_OK;
    char obj[64], dsname[32], sname[32];
    hid_t grp, step = H5I_INVALID_HID, ds = H5I_INVALID_HID, fo = H5I_INVALID_HID,
               fi = H5I_INVALID_HID;
    hsize_t dims[3] = {res->n_snaps, 0, 0};
    grp = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (grp < 0)
        return gs_seg_fail(c, name, "H5Gcreate");
    step =
        gs_h5_write_dataset(grp, "step", 1, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, res->snap_plan);
    snprintf(obj, sizeof obj, "%s/step", name);
    if (step < 0 || H5DSset_scale(step, "step") < 0) {
        s = gs_seg_fail(c, obj, "H5Dcreate/H5DSset_scale");
        goto done;
    }
    for (size_t l = 0; l < res->n_layers; l++) {
        dims[1] = res->fan_out[l];
        dims[2] = res->fan_in[l];
        snprintf(dsname, sizeof dsname, "W%03zu", l);
        snprintf(obj, sizeof obj, "%s/%s", name, dsname);
        ds = gs_h5_write_dataset(grp, dsname, 3, dims, ftype, H5T_NATIVE_DOUBLE, bufs[l]);
        if (ds < 0) {
            s = gs_seg_fail(c, obj, "H5Dcreate/H5Dwrite");
            goto done;
        }
        snprintf(sname, sizeof sname, "fan_out_%03zu", l);
        fo = gs_h5_index_scale(grp, sname, "fan_out", res->fan_out[l], tmp);
        snprintf(sname, sizeof sname, "fan_in_%03zu", l);
        fi = gs_h5_index_scale(grp, sname, "fan_in", res->fan_in[l], tmp);
        if (fo < 0 || fi < 0 || gs_h5_attach(ds, step, 0, "step") < 0 ||
            gs_h5_attach(ds, fo, 1, "fan_out") < 0 || gs_h5_attach(ds, fi, 2, "fan_in") < 0) {
            s = gs_seg_fail(c, obj, "dimension scales (H5DSset_scale/H5DSattach_scale)");
            goto done;
        }
        for (size_t v = 0; v < n_vecs && s == GS_OK; v++)
            s = vec_tensor(grp, step, fo, name, l, &vecs[v], res, ftype, c);
        s = gs_seg_close(&ds, c, obj, s);
        s = gs_seg_close(&fo, c, obj, s);
        s = gs_seg_close(&fi, c, obj, s);
        if (s != GS_OK)
            goto done;
    }
done:
    s = gs_seg_close(&ds, c, obj, s);
    s = gs_seg_close(&fo, c, obj, s);
    s = gs_seg_close(&fi, c, obj, s);
    s = gs_seg_close(&step, c, name, s);
    if (H5Gclose(grp) < 0 && s == GS_OK)
        s = gs_seg_fail(c, name, "H5Gclose");
    return s;
}

/* Writes a per-row series name [T] (file type ftype from memory type mtype) with the step scale. */
static gs_status series(hid_t g, const char *name, hid_t ftype, hid_t mtype, const void *buf,
                        hid_t step, const gs_result *res, const ctx *c)
{
    hsize_t dim = res->n_rows;
    hid_t ds = gs_h5_write_dataset(g, name, 1, &dim, ftype, mtype, buf);
    gs_status s = GS_OK;
    if (ds < 0 || gs_h5_attach(ds, step, 0, "step") < 0)
        s = gs_seg_fail(c, name, "H5Dcreate/H5DSattach_scale");
    return gs_seg_close(&ds, c, name, s);
}

/* step [T], loss [T], lr [T], clipped [T], grad_norm_global [T], layer [L], grad_norm [T, L] with
 * step and layer as scales, then the probe statistics and groups on the same scales (probes.c). */
static gs_status stats(hid_t g, const gs_result *res, const gs_record *rec, hid_t ftype,
                       int64_t *tmp, const ctx *c)
{
    gs_status s = GS_OK;
    hsize_t dims[2] = {res->n_rows, res->n_layers};
    hid_t step, loss = H5I_INVALID_HID, layer = H5I_INVALID_HID, gn = H5I_INVALID_HID;
    step = gs_h5_write_dataset(g, "step", 1, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, res->step);
    if (step < 0 || H5DSset_scale(step, "step") < 0) {
        s = gs_seg_fail(c, "step", "H5Dcreate/H5DSset_scale");
        goto done;
    }
    loss = gs_h5_write_dataset(g, "loss", 1, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, res->loss);
    if (loss < 0 || gs_h5_attach(loss, step, 0, "step") < 0) {
        s = gs_seg_fail(c, "loss", "H5Dcreate/H5DSattach_scale");
        goto done;
    }
    if ((s = series(g, "lr", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, res->lr, step, res, c)) ||
        (s = series(g, "clipped", H5T_STD_I8LE, H5T_NATIVE_INT8, res->clipped, step, res, c)) ||
        (s = series(g, "grad_norm_global", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, res->grad_norm_global,
                    step, res, c)))
        goto done;
    layer = gs_h5_index_scale(g, "layer", "layer", res->n_layers, tmp);
    if (layer < 0) {
        s = gs_seg_fail(c, "layer", "H5Dcreate/H5DSset_scale");
        goto done;
    }
    gn = gs_h5_write_dataset(g, "grad_norm", 2, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                             res->grad_norm);
    if (gn < 0 || gs_h5_attach(gn, step, 0, "step") < 0 ||
        gs_h5_attach(gn, layer, 1, "layer") < 0) {
        s = gs_seg_fail(c, "grad_norm", "H5Dcreate/H5DSattach_scale");
        goto done;
    }
    s = gs_probes_write(g, step, layer, res, rec, ftype, tmp, c);
done:
    s = gs_seg_close(&gn, c, "grad_norm", s);
    s = gs_seg_close(&layer, c, "layer", s);
    s = gs_seg_close(&loss, c, "loss", s);
    s = gs_seg_close(&step, c, "step", s);
    return s;
}

/* Group eval (only when the run has a held-out split): attribute samples (the split's size),
 * step [E] (a dimension scale `step`), loss [E] and accuracy [E] (float64; accuracy NaN for
 * regression data) on that scale. */
static gs_status eval_group(hid_t g, const gs_result *res, const ctx *c)
{
    gs_status s = GS_OK;
    hsize_t dim = res->n_eval_rows;
    hid_t grp, step = H5I_INVALID_HID, ds = H5I_INVALID_HID;
    if (res->cap_eval == 0)
        return GS_OK;
    if ((grp = H5Gcreate2(g, "eval", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return gs_seg_fail(c, "eval", "H5Gcreate");
    if (gs_h5_attr_i64(grp, "samples", (int64_t)res->n_eval_samples) < 0) {
        s = gs_seg_fail(c, "eval", "H5Acreate/H5Awrite(samples)");
        goto done;
    }
    step =
        gs_h5_write_dataset(grp, "step", 1, &dim, H5T_STD_I64LE, H5T_NATIVE_INT64, res->eval_step);
    if (step < 0 || H5DSset_scale(step, "step") < 0) {
        s = gs_seg_fail(c, "eval/step", "H5Dcreate/H5DSset_scale");
        goto done;
    }
    ds = gs_h5_write_dataset(grp, "loss", 1, &dim, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                             res->eval_loss);
    if (ds < 0 || gs_h5_attach(ds, step, 0, "step") < 0) {
        s = gs_seg_fail(c, "eval/loss", "H5Dcreate/H5DSattach_scale");
        goto done;
    }
    s = gs_seg_close(&ds, c, "eval/loss", s);
    ds = gs_h5_write_dataset(grp, "accuracy", 1, &dim, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                             res->eval_accuracy);
    if (s == GS_OK && (ds < 0 || gs_h5_attach(ds, step, 0, "step") < 0))
        s = gs_seg_fail(c, "eval/accuracy", "H5Dcreate/H5DSattach_scale");
done:
    s = gs_seg_close(&ds, c, "eval", s);
    s = gs_seg_close(&step, c, "eval/step", s);
    if (H5Gclose(grp) < 0 && s == GS_OK)
        s = gs_seg_fail(c, "eval", "H5Gclose");
    return s;
}

/* Groups grads and (with record.weights) weights. A buffer set that is NULL (no biases with
 * model.bias false, no normalization without model.norm, running statistics only for batchnorm)
 * has no datasets. */
static gs_status snapshots(hid_t g, const gs_result *res, hid_t ftype, int64_t *tmp, const ctx *c)
{
    size_t L = res->n_layers, H = res->n_norm;
    const vec_set gv[] = {
        {"b", res->bgrads, L}, {"gamma", res->ngrad_scale, H}, {"beta", res->ngrad_shift, H}};
    const vec_set wv[] = {{"b", res->biases, L},
                          {"gamma", res->nscale, H},
                          {"beta", res->nshift, H},
                          {"running_mean", res->nrun_mean, H},
                          {"running_var", res->nrun_var, H}};
    gs_status s = tensors(g, "grads", res->grads, gv, sizeof gv / sizeof gv[0], res, ftype, tmp, c);
    if (s == GS_OK && res->weights)
        s = tensors(g, "weights", res->weights, wv, sizeof wv / sizeof wv[0], res, ftype, tmp, c);
    return s;
}

gs_status gs_segment_write_run(hid_t runs, const gs_plan *plan, const gs_run *run,
                               const gs_result *res, const gs_theory *th, const char *seg_path,
                               gs_error *err)
{
    ctx c = {seg_path, run->id, err, 1};
    gs_status s = GS_OK;
    size_t n_tmp = gs_probes_tmp_len(res);
    n_tmp = res->n_layers > n_tmp ? res->n_layers : n_tmp;
    for (size_t l = 0; l < res->n_layers; l++) {
        n_tmp = res->fan_in[l] > n_tmp ? res->fan_in[l] : n_tmp;
        n_tmp = res->fan_out[l] > n_tmp ? res->fan_out[l] : n_tmp;
    }
    int64_t *tmp = malloc((n_tmp + 1) * sizeof *tmp);
    hid_t g = H5Gcreate2(runs, run->id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    /* Tensors are rounded to the record dtype by HDF5's conversion on write (round to nearest,
     * out-of-range values become +-Inf, NaN stays NaN). */
    hid_t ftype = plan->record.dtype == GS_DTYPE_FLOAT64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    if (!tmp) {
        s = gs_error_set(err, GS_ENOMEM, "%s: /runs/%s: out of memory", seg_path, run->id);
        goto done;
    }
    if (g < 0) {
        s = gs_seg_fail(&c, "", "H5Gcreate");
        goto done;
    }
    if ((s = run_attrs(g, run, res, th, &c)) != GS_OK ||
        (s = stats(g, res, &plan->record, ftype, tmp, &c)) != GS_OK ||
        (s = eval_group(g, res, &c)) != GS_OK)
        goto done;
    s = snapshots(g, res, ftype, tmp, &c);
done:
    if (g >= 0 && H5Gclose(g) < 0 && s == GS_OK)
        s = gs_seg_fail(&c, "", "H5Gclose");
    free(tmp);
    return s;
}

/* Reads the config keys back from a run group (runs that are no longer in the plan). */
static gs_status read_config(hid_t g, gs_run_config *cfg, const ctx *c)
{
    char text[GS_PATH_MAX + 8];
    gs_config_defaults(cfg);
    if (gs_h5_read_str(g, "data.kind", text, sizeof text) >= 0)
        for (int i = 0; gs_datakind_names[i]; i++)
            if (strcmp(gs_datakind_names[i], text) == 0)
                cfg->data_kind = i;
    for (const gs_key *k = gs_keys; k->path; k++) {
        char *base = (char *)cfg + k->offset;
        if (H5Aexists(g, k->path) <= 0)
            continue;
        int64_t iv = 0;
        double dv = 0;
        herr_t rc = 0;
        if (k->type == GS_KEY_INT) {
            rc = gs_h5_read_i64(g, k->path, &iv);
            memcpy(base, &iv, sizeof iv);
        } else if (k->type == GS_KEY_REAL) {
            rc = gs_h5_read_f64(g, k->path, &dv);
            memcpy(base, &dv, sizeof dv);
        } else if ((rc = gs_h5_read_str(g, k->path, text, sizeof text)) >= 0) {
            if (k->type == GS_KEY_STR) {
                snprintf(base, k->size, "%s", text);
            } else if (k->type == GS_KEY_BATCH) {
                iv = strcmp(text, "full") == 0 ? 0 : strtoll(text, NULL, 10);
                memcpy(base, &iv, sizeof iv);
            } else {
                int ev = 0;
                while (k->names[ev] && strcmp(k->names[ev], text) != 0)
                    ev++;
                ev = k->names[ev] ? ev : 0;
                memcpy(base, &ev, sizeof ev);
            }
        }
        if (rc < 0)
            return gs_seg_fail(c, "", k->path);
    }
    if (H5Aexists(g, "model.width_list") > 0 &&
        gs_h5_read_str(g, "model.width_list", cfg->width_list, sizeof cfg->width_list) < 0)
        return gs_seg_fail(c, "", "model.width_list");
    return GS_OK;
}

/* Reads a float64 attribute that outputs of older versions lack: NaN when absent. */
static herr_t read_opt_f64(hid_t g, const char *name, double *v)
{
    htri_t e = H5Aexists(g, name);
    *v = (double)NAN;
    if (e < 0)
        return -1;
    return e > 0 ? gs_h5_read_f64(g, name, v) : 0;
}

/* Reads an int64 attribute that outputs of older versions lack: dflt when absent. */
static herr_t read_opt_i64(hid_t g, const char *name, int64_t *v, int64_t dflt)
{
    htri_t e = H5Aexists(g, name);
    *v = dflt;
    if (e < 0)
        return -1;
    return e > 0 ? gs_h5_read_i64(g, name, v) : 0;
}

/* The verdict of a run group: -1 when absent (written before schema_minor 2). */
static herr_t read_verdict(hid_t g, int *verdict)
{
    char text[32] = "";
    htri_t e = H5Aexists(g, "verdict");
    *verdict = -1;
    if (e < 0 || (e > 0 && gs_h5_read_str(g, "verdict", text, sizeof text) < 0))
        return -1;
    *verdict = gs_store_verdict_parse(text);
    return 0;
}

/* Reads the summary fields of one journaled row from its group in the open segment file. */
static gs_status read_row(hid_t file, gs_store_row *row, const ctx *c)
{
    char path[64], status[16];
    gs_status s = GS_OK;
    snprintf(path, sizeof path, "/runs/%s", row->id);
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    if (g < 0)
        return gs_error_set(c->err, GS_EIO, "%s: journal lists run %s but the segment has no %s",
                            c->seg, row->id, path);
    if (gs_h5_read_u64(g, "seed", &row->seed) < 0 ||
        gs_h5_read_i64(g, "replicate", &row->replicate) < 0 ||
        gs_h5_read_str(g, "status", status, sizeof status) < 0 ||
        gs_h5_read_i64(g, "diverged_step", &row->diverged_step) < 0 ||
        gs_h5_read_f64(g, "final_loss", &row->final_loss) < 0 ||
        gs_h5_read_f64(g, "grad_norm_first_step0", &row->gn_first) < 0 ||
        gs_h5_read_f64(g, "grad_norm_last_step0", &row->gn_last) < 0 ||
        read_opt_f64(g, "final_eval_loss", &row->eval_loss) < 0 ||
        read_opt_f64(g, "final_eval_accuracy", &row->eval_accuracy) < 0 ||
        read_verdict(g, &row->verdict) < 0 ||
        read_opt_i64(g, "verdict_step", &row->verdict_step, -1) < 0 ||
        read_opt_f64(g, "delta_slope0", &row->delta_slope0) < 0 ||
        read_opt_f64(g, "q_star", &row->th.q_star) < 0 ||
        read_opt_f64(g, "chi1", &row->th.chi1) < 0 ||
        read_opt_f64(g, "xi_grad", &row->th.xi_grad) < 0 ||
        read_opt_f64(g, "c_star", &row->th.c_star) < 0 ||
        read_opt_f64(g, "chi_c", &row->th.chi_c) < 0 ||
        read_opt_f64(g, "xi_c", &row->th.xi_c) < 0 ||
        read_opt_f64(g, "pred_slope", &row->th.pred_slope) < 0) {
        s = gs_seg_fail(c, "", "H5Aread(run attributes)");
        goto done;
    }
    row->status = gs_store_status_parse(status);
    if (row->status < 0) {
        s = gs_error_set(c->err, GS_EIO, "%s: /runs/%s: unknown status '%s'", c->seg, row->id,
                         status);
        goto done;
    }
    if (!row->cfg) {
        row->own_cfg = malloc(sizeof *row->own_cfg);
        if (!row->own_cfg) {
            s = gs_error_set(c->err, GS_ENOMEM, "%s: out of memory", c->seg);
            goto done;
        }
        if ((s = read_config(g, row->own_cfg, c)) != GS_OK)
            goto done;
        row->cfg = row->own_cfg;
    }
done:
    H5Gclose(g);
    return s;
}

gs_status gs_segment_read_rows(gs_store *st, gs_error *err)
{
    gs_status s = GS_OK;
    char path[GS_PATH_MAX + 64];
    hid_t file = H5I_INVALID_HID;
    unsigned open_seg = 0;
    for (size_t r = 0; r < st->n_rows && s == GS_OK; r++) {
        gs_store_row *row = &st->rows[r];
        if (!row->committed)
            continue;
        gs_segment_path(st, row->seg, 0, path, sizeof path);
        if (file < 0 || open_seg != row->seg) {
            if (file >= 0)
                H5Fclose(file);
            file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
            open_seg = row->seg;
            if (file < 0) {
                s = gs_h5_fail(err, path, "H5Fopen (journaled segment)");
                break;
            }
        }
        ctx c = {path, row->id, err, 0};
        s = read_row(file, row, &c);
    }
    if (file >= 0)
        H5Fclose(file);
    return s;
}

gs_status gs_segment_read_config(const gs_store *st, const gs_store_row *row, gs_run_config *cfg,
                                 int64_t *replicate, gs_error *err)
{
    char path[GS_PATH_MAX + 64], obj[64];
    gs_status s = GS_OK;
    gs_segment_path(st, row->seg, 0, path, sizeof path);
    ctx c = {path, row->id, err, 0};
    hid_t g = H5I_INVALID_HID, file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return gs_h5_fail(err, path, "H5Fopen (journaled segment)");
    snprintf(obj, sizeof obj, "/runs/%s", row->id);
    g = H5Gopen2(file, obj, H5P_DEFAULT);
    if (g < 0) {
        s = gs_error_set(err, GS_EIO, "%s: journal lists run %s but the segment has no %s", path,
                         row->id, obj);
        goto done;
    }
    if ((s = read_config(g, cfg, &c)) == GS_OK && gs_h5_read_i64(g, "replicate", replicate) < 0)
        s = gs_seg_fail(&c, "", "replicate");
done:
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(file);
    return s;
}
