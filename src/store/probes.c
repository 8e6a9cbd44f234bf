/* The schema_minor 2 objects of a run group: per-row probe statistics ([T, L], [T, H], [T]),
 * log-magnitude histograms (hist/), probe-batch tensors (probe/) and the Jacobian spectrum
 * (jacobian/). Only what the result holds is written (a NULL array has no dataset); the object
 * list is in docs/schema.md, the quantities in docs/probes.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5_hl.h>

#include "store/internal.h"

/* Column names of the 4 counts outside the histogram bins (docs/probes.md). */
static const char *const outside_names[] = {"zero", "below", "above", "nan"};
#define N_OUTSIDE 4

typedef struct {
    const char *name;
    const double *v;
} stat_array;

size_t gs_probes_tmp_len(const gs_result *res)
{
    size_t n = res->n_layers;
    size_t cand[] = {(size_t)res->hist_bins, res->probe_rows, res->jac_inputs, res->jac_rank};
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        n = cand[i] > n ? cand[i] : n;
    for (size_t l = 0; l < res->n_layers; l++)
        n = res->fan_out[l] > n ? res->fan_out[l] : n;
    return n;
}

/* Writes name (rank dims, file type ft from memory type mt) under loc and attaches scales[i] to
 * dimension i with label labels[i]. obj names it in messages. */
static gs_status put(hid_t loc, const char *name, const char *obj, int rank, const hsize_t *dims,
                     hid_t ft, hid_t mt, const void *buf, const hid_t *scales,
                     const char *const *labels, const gs_seg_ctx *c)
{
    gs_status s = GS_OK;
    hid_t ds = gs_h5_write_dataset(loc, name, rank, dims, ft, mt, buf);
    if (ds < 0)
        return gs_seg_fail(c, obj, "H5Dcreate/H5Dwrite");
    for (int i = 0; i < rank && s == GS_OK; i++)
        if (gs_h5_attach(ds, scales[i], (unsigned)i, labels[i]) < 0)
            s = gs_seg_fail(c, obj, "dimension scales (H5DSattach_scale)");
    return gs_seg_close(&ds, c, obj, s);
}

/* Writes a 1-D scale dataset name [n] of values v (int64) called scale_name; returns it open. */
static hid_t scale_i64(hid_t loc, const char *name, const char *scale_name, size_t n,
                       const int64_t *v)
{
    hsize_t dim = n;
    hid_t ds = gs_h5_write_dataset(loc, name, 1, &dim, H5T_STD_I64LE, H5T_NATIVE_INT64, v);
    if (ds >= 0 && H5DSset_scale(ds, scale_name) < 0) {
        H5Dclose(ds);
        return H5I_INVALID_HID;
    }
    return ds;
}

/* [T, L] statistics on (step, layer), [T, H] ones on (step, hidden) with the scale `hidden`
 * [H] written when any of them is recorded, and delta_slope [T] on step. */
static gs_status row_stats(hid_t g, hid_t step, hid_t layer, const gs_result *res, int64_t *tmp,
                           const gs_seg_ctx *c)
{
    const stat_array per_layer[] = {{"delta_norm", res->delta_norm},
                                    {"q", res->q},
                                    {"grad_mean_abs", res->grad_mean_abs},
                                    {"grad_max_abs", res->grad_max_abs},
                                    {"bias_grad_norm", res->bias_grad_norm},
                                    {"weight_norm", res->weight_norm},
                                    {"weight_dist_init", res->weight_dist_init},
                                    {"update_ratio", res->update_ratio},
                                    {"pe_grad_var", res->pe_grad_var},
                                    {"pe_grad_snr", res->pe_grad_snr}};
    const stat_array per_hidden[] = {{"dead_frac", res->dead_frac},
                                     {"sat_frac", res->sat_frac},
                                     {"act_mean", res->act_mean},
                                     {"act_std", res->act_std}};
    static const char *const lab_l[] = {"step", "layer"}, *const lab_h[] = {"step", "hidden"};
    size_t H = res->n_layers - 1;
    hsize_t dims[2] = {res->n_rows, res->n_layers};
    hid_t sc[2] = {step, layer}, hidden = H5I_INVALID_HID;
    gs_status s = GS_OK;
    for (size_t i = 0; i < sizeof per_layer / sizeof *per_layer && s == GS_OK; i++)
        if (per_layer[i].v)
            s = put(g, per_layer[i].name, per_layer[i].name, 2, dims, H5T_IEEE_F64LE,
                    H5T_NATIVE_DOUBLE, per_layer[i].v, sc, lab_l, c);
    dims[1] = H;
    for (size_t i = 0; i < sizeof per_hidden / sizeof *per_hidden && s == GS_OK; i++) {
        if (!per_hidden[i].v)
            continue;
        if (hidden < 0 && (hidden = gs_h5_index_scale(g, "hidden", "hidden", H, tmp)) < 0) {
            s = gs_seg_fail(c, "hidden", "H5Dcreate/H5DSset_scale");
            break;
        }
        sc[1] = hidden;
        s = put(g, per_hidden[i].name, per_hidden[i].name, 2, dims, H5T_IEEE_F64LE,
                H5T_NATIVE_DOUBLE, per_hidden[i].v, sc, lab_h, c);
    }
    if (s == GS_OK && res->delta_slope)
        s = put(g, "delta_slope", "delta_slope", 1, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                res->delta_slope, sc, lab_l, c);
    return gs_seg_close(&hidden, c, "hidden", s);
}

/* The outside-column scale `outside` [4]: fixed-length strings zero, below, above, nan. */
static hid_t outside_scale(hid_t grp)
{
    char buf[N_OUTSIDE][8] = {{0}};
    hsize_t dim = N_OUTSIDE;
    for (size_t i = 0; i < N_OUTSIDE; i++)
        snprintf(buf[i], sizeof buf[i], "%s", outside_names[i]);
    hid_t t = H5Tcopy(H5T_C_S1), ds = H5I_INVALID_HID;
    if (t >= 0 && H5Tset_size(t, sizeof buf[0]) >= 0)
        ds = gs_h5_write_dataset(grp, "outside", 1, &dim, t, t, buf);
    if (t >= 0)
        H5Tclose(t);
    if (ds >= 0 && H5DSset_scale(ds, "outside") < 0) {
        H5Dclose(ds);
        return H5I_INVALID_HID;
    }
    return ds;
}

/* One histogram pair: name [H', L, bins] and name_outside [H', L, 4] (attribute `columns`). */
static gs_status hist_pair(hid_t grp, const char *name, const int64_t *counts, const int64_t *out,
                           const hid_t *sc, const gs_result *res, const gs_seg_ctx *c)
{
    static const char *const lab_b[] = {"step", "layer", "bin"}, *const lab_o[] = {"step", "layer",
                                                                                   "outside"};
    char oname[32], obj[48];
    hsize_t dims[3] = {res->n_hist, res->n_layers, res->hist_bins};
    hid_t sc_o[3] = {sc[0], sc[1], sc[3]};
    gs_status s = GS_OK;
    snprintf(obj, sizeof obj, "hist/%s", name);
    if (counts)
        s = put(grp, name, obj, 3, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, counts, sc, lab_b, c);
    if (s != GS_OK || !out)
        return s;
    snprintf(oname, sizeof oname, "%s_outside", name);
    snprintf(obj, sizeof obj, "hist/%s", oname);
    dims[2] = N_OUTSIDE;
    s = put(grp, oname, obj, 3, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, out, sc_o, lab_o, c);
    hid_t ds = s == GS_OK ? H5Dopen2(grp, oname, H5P_DEFAULT) : H5I_INVALID_HID;
    if (s == GS_OK && (ds < 0 || gs_h5_attr_strv(ds, "columns", outside_names, N_OUTSIDE) < 0))
        s = gs_seg_fail(c, obj, "H5Awrite(columns)");
    return gs_seg_close(&ds, c, obj, s);
}

/* Group hist (record.hist): step [H'], bin [bins], outside [4], edges [bins + 1] (log10 bin
 * edges, min + j * (max - min) / bins, the last exactly max) and the count pairs of dL/dW_l
 * (grad) and dL/dh_l (delta), on the run's `layer` scale. */
static gs_status hist_group(hid_t g, hid_t layer, const gs_result *res, const gs_record *rec,
                            int64_t *tmp, const gs_seg_ctx *c)
{
    size_t k = res->hist_bins;
    hsize_t ne = k + 1;
    hid_t sc[4] = {H5I_INVALID_HID, layer, H5I_INVALID_HID, H5I_INVALID_HID};
    hid_t edges = H5I_INVALID_HID;
    gs_status s = GS_OK;
    double *e = malloc(ne * sizeof *e);
    hid_t grp = H5Gcreate2(g, "hist", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (!e || grp < 0) {
        s = !e ? gs_error_set(c->err, GS_ENOMEM, "%s: /runs/%s/hist: out of memory", c->seg, c->id)
               : gs_seg_fail(c, "hist", "H5Gcreate");
        goto done;
    }
    for (size_t j = 0; j < k; j++)
        e[j] = rec->hist_min + (double)j * ((rec->hist_max - rec->hist_min) / (double)k);
    e[k] = rec->hist_max;
    sc[0] = scale_i64(grp, "step", "step", res->n_hist, res->hist_step);
    sc[2] = gs_h5_index_scale(grp, "bin", "bin", k, tmp);
    sc[3] = outside_scale(grp);
    edges = gs_h5_write_dataset(grp, "edges", 1, &ne, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, e);
    if (sc[0] < 0 || sc[2] < 0 || sc[3] < 0 || edges < 0 || H5DSset_scale(edges, "edge") < 0) {
        s = gs_seg_fail(c, "hist", "H5Dcreate/H5DSset_scale(step, bin, outside, edges)");
        goto done;
    }
    s = hist_pair(grp, "grad", res->hist_grad, res->hist_grad_out, sc, res, c);
    if (s == GS_OK)
        s = hist_pair(grp, "delta", res->hist_delta, res->hist_delta_out, sc, res, c);
done:
    s = gs_seg_close(&edges, c, "hist/edges", s);
    s = gs_seg_close(&sc[0], c, "hist/step", s);
    s = gs_seg_close(&sc[2], c, "hist/bin", s);
    s = gs_seg_close(&sc[3], c, "hist/outside", s);
    if (grp >= 0 && H5Gclose(grp) < 0 && s == GS_OK)
        s = gs_seg_fail(c, "hist", "H5Gclose");
    free(e);
    return s;
}

/* Whether layer l of a probe tensor set is recorded. */
static int has_layer(double *const *set, size_t l)
{
    return set && set[l];
}

/* Group probe (probe_rows > 0): index [P] (scale `sample`), and when pre-activations or deltas
 * are recorded step [S] and, per layer, fan_out_<l> [n] with h<l> / delta<l> [S, P, n]. */
static gs_status probe_group(hid_t g, const gs_result *res, hid_t ftype, int64_t *tmp,
                             const gs_seg_ctx *c)
{
    static const char *const lab[] = {"step", "sample", "fan_out"};
    const struct {
        const char *prefix;
        double *const *set;
    } sets[] = {{"h", res->probe_h}, {"delta", res->probe_delta}};
    char name[32], obj[48];
    hid_t sc[3] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    gs_status s = GS_OK;
    hid_t grp = H5Gcreate2(g, "probe", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (grp < 0)
        return gs_seg_fail(c, "probe", "H5Gcreate");
    sc[1] = scale_i64(grp, "index", "sample", res->probe_rows, res->probe_index);
    if (sc[1] < 0) {
        s = gs_seg_fail(c, "probe/index", "H5Dcreate/H5DSset_scale");
        goto done;
    }
    for (size_t l = 0; l < res->n_layers && s == GS_OK; l++) {
        if (!has_layer(res->probe_h, l) && !has_layer(res->probe_delta, l))
            continue;
        if (sc[0] < 0 &&
            (sc[0] = scale_i64(grp, "step", "step", res->n_snaps, res->snap_plan)) < 0) {
            s = gs_seg_fail(c, "probe/step", "H5Dcreate/H5DSset_scale");
            break;
        }
        snprintf(name, sizeof name, "fan_out_%03zu", l);
        if ((sc[2] = gs_h5_index_scale(grp, name, "fan_out", res->fan_out[l], tmp)) < 0) {
            s = gs_seg_fail(c, "probe/fan_out", "H5Dcreate/H5DSset_scale");
            break;
        }
        hsize_t dims[3] = {res->n_snaps, res->probe_rows, res->fan_out[l]};
        for (size_t i = 0; i < 2 && s == GS_OK; i++) {
            if (!has_layer(sets[i].set, l))
                continue;
            snprintf(name, sizeof name, "%s%03zu", sets[i].prefix, l);
            snprintf(obj, sizeof obj, "probe/%s", name);
            s = put(grp, name, obj, 3, dims, ftype, H5T_NATIVE_DOUBLE, sets[i].set[l], sc, lab, c);
        }
        s = gs_seg_close(&sc[2], c, "probe/fan_out", s);
    }
done:
    for (size_t i = 0; i < 3; i++)
        s = gs_seg_close(&sc[i], c, "probe", s);
    if (H5Gclose(grp) < 0 && s == GS_OK)
        s = gs_seg_fail(c, "probe", "H5Gclose");
    return s;
}

/* Group jacobian (cap_jac > 0): step [J], input [m], rank [r] scales; sv [J, m, r], mean_sq and
 * max [J, m], float64. */
static gs_status jacobian_group(hid_t g, const gs_result *res, int64_t *tmp, const gs_seg_ctx *c)
{
    static const char *const lab[] = {"step", "input", "rank"};
    hsize_t dims[3] = {res->n_jac, res->jac_inputs, res->jac_rank};
    hid_t sc[3] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    gs_status s = GS_OK;
    hid_t grp = H5Gcreate2(g, "jacobian", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (grp < 0)
        return gs_seg_fail(c, "jacobian", "H5Gcreate");
    sc[0] = scale_i64(grp, "step", "step", res->n_jac, res->jac_step);
    sc[1] = gs_h5_index_scale(grp, "input", "input", res->jac_inputs, tmp);
    sc[2] = gs_h5_index_scale(grp, "rank", "rank", res->jac_rank, tmp);
    if (sc[0] < 0 || sc[1] < 0 || sc[2] < 0) {
        s = gs_seg_fail(c, "jacobian", "H5Dcreate/H5DSset_scale(step, input, rank)");
        goto done;
    }
    if (res->jac_sv)
        s = put(grp, "sv", "jacobian/sv", 3, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, res->jac_sv,
                sc, lab, c);
    if (s == GS_OK && res->jac_mean_sq)
        s = put(grp, "mean_sq", "jacobian/mean_sq", 2, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                res->jac_mean_sq, sc, lab, c);
    if (s == GS_OK && res->jac_max)
        s = put(grp, "max", "jacobian/max", 2, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                res->jac_max, sc, lab, c);
done:
    for (size_t i = 0; i < 3; i++)
        s = gs_seg_close(&sc[i], c, "jacobian", s);
    if (H5Gclose(grp) < 0 && s == GS_OK)
        s = gs_seg_fail(c, "jacobian", "H5Gclose");
    return s;
}

gs_status gs_probes_write(hid_t g, hid_t step, hid_t layer, const gs_result *res,
                          const gs_record *rec, hid_t ftype, int64_t *tmp, const gs_seg_ctx *c)
{
    gs_status s = row_stats(g, step, layer, res, tmp, c);
    if (s == GS_OK && res->cap_hist > 0 && res->hist_bins > 0)
        s = hist_group(g, layer, res, rec, tmp, c);
    if (s == GS_OK && res->probe_rows > 0)
        s = probe_group(g, res, ftype, tmp, c);
    if (s == GS_OK && res->cap_jac > 0)
        s = jacobian_group(g, res, tmp, c);
    return s;
}
