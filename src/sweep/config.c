/* The key table: every spec key of the data/model/train sections, its type, default, range and
 * help line, plus canonical formatting and the record-section helpers. No parsing here. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/config.h"

#define GS_NAME_ENTRY(e, s) s,
const char *const gs_act_names[] = {GS_ACT_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_init_names[] = {GS_INIT_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_loss_names[] = {GS_LOSS_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_opt_names[] = {GS_OPT_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_datakind_names[] = {GS_DATAKIND_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_dtype_names[] = {GS_DTYPE_LIST(GS_NAME_ENTRY) NULL};
#undef GS_NAME_ENTRY

#define OFF(f) offsetof(gs_run_config, f), sizeof(((gs_run_config *)0)->f)
#define BIG 1e18

const gs_key gs_keys[] = {
    {"data.kind", GS_KEY_ENUM, OFF(data_kind), gs_datakind_names, "gaussian_mixture", 0, 0, -1,
     "data set kind"},
    {"data.classes", GS_KEY_INT, OFF(data_classes), NULL, "10", 2, 1e6, GS_DATA_GAUSSIAN_MIXTURE,
     "gaussian_mixture: number of classes"},
    {"data.dim", GS_KEY_INT, OFF(data_dim), NULL, "32", 1, 1e6, GS_DATA_GAUSSIAN_MIXTURE,
     "gaussian_mixture: input dimension"},
    {"data.samples", GS_KEY_INT, OFF(data_samples), NULL, "4096", 1, 1e9, GS_DATA_GAUSSIAN_MIXTURE,
     "gaussian_mixture: number of samples"},
    {"data.separation", GS_KEY_REAL, OFF(data_separation), NULL, "1", 0, BIG,
     GS_DATA_GAUSSIAN_MIXTURE, "gaussian_mixture: class means ~ N(0, separation^2 I)"},
    {"data.path", GS_KEY_STR, OFF(data_path), NULL, NULL, 0, 0, GS_DATA_HDF5,
     "hdf5: file path (relative to the spec file)"},
    {"data.x", GS_KEY_STR, OFF(data_x), NULL, "/X", 0, 0, GS_DATA_HDF5,
     "hdf5: float dataset of inputs [n, d]"},
    {"data.y", GS_KEY_STR, OFF(data_y), NULL, "/y", 0, 0, GS_DATA_HDF5,
     "hdf5: int labels [n] or float targets [n, k]"},
    {"model.depth", GS_KEY_INT, OFF(depth), NULL, NULL, 0, 10000, -1, "hidden layers"},
    {"model.width", GS_KEY_INT, OFF(width), NULL, NULL, 1, 1e6, -1, "units per hidden layer"},
    {"model.activation", GS_KEY_ENUM, OFF(activation), gs_act_names, "tanh", 0, 0, -1,
     "hidden-layer nonlinearity"},
    {"model.init", GS_KEY_ENUM, OFF(init), gs_init_names, "normal", 0, 0, -1,
     "normal: W ~ N(0, sigma_w^2/fan_in); normal_std: W ~ N(0, sigma_w^2)"},
    {"model.sigma_w", GS_KEY_REAL, OFF(sigma_w), NULL, "1", 0, BIG, -1, "weight scale"},
    {"model.sigma_b", GS_KEY_REAL, OFF(sigma_b), NULL, "0", 0, BIG, -1,
     "bias std (biases exactly 0 when 0)"},
    {"train.steps", GS_KEY_INT, OFF(steps), NULL, NULL, 1, 1e12, -1, "optimizer steps"},
    {"train.batch", GS_KEY_BATCH, OFF(batch), NULL, "full", 1, 1e9, -1,
     "minibatch size, or full for the whole data set"},
    {"train.optimizer", GS_KEY_ENUM, OFF(optimizer), gs_opt_names, "sgd", 0, 0, -1, "optimizer"},
    {"train.lr", GS_KEY_REAL, OFF(lr), NULL, "0.01", 0, BIG, -1, "learning rate"},
    {"train.loss", GS_KEY_ENUM, OFF(loss), gs_loss_names, "cross_entropy", 0, 0, -1,
     "loss (mse: torch MSELoss convention; cross_entropy: softmax)"},
    {NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL},
};

size_t gs_key_count(void)
{
    size_t n = 0;
    while (gs_keys[n].path)
        n++;
    return n;
}

const gs_key *gs_key_find(const char *path)
{
    for (const gs_key *k = gs_keys; k->path; k++)
        if (strcmp(k->path, path) == 0)
            return k;
    return NULL;
}

/* Shortest "%.Ng" (N = 1..17) that reads back to exactly v: canonical (one text per double) and
 * readable (0.1, not 0.10000000000000001). */
static void format_real(double v, char *buf, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v || v != v)
            return;
    }
}

char *gs_key_format(const gs_key *k, const gs_run_config *cfg, char *buf, size_t n)
{
    const char *base = (const char *)cfg + k->offset;
    int64_t iv;
    double dv;
    int ev;
    switch (k->type) {
    case GS_KEY_INT:
        memcpy(&iv, base, sizeof iv);
        snprintf(buf, n, "%lld", (long long)iv);
        break;
    case GS_KEY_BATCH:
        memcpy(&iv, base, sizeof iv);
        if (iv == 0)
            snprintf(buf, n, "full");
        else
            snprintf(buf, n, "%lld", (long long)iv);
        break;
    case GS_KEY_REAL:
        memcpy(&dv, base, sizeof dv);
        format_real(dv, buf, n);
        break;
    case GS_KEY_ENUM:
        memcpy(&ev, base, sizeof ev);
        snprintf(buf, n, "%s", k->names[ev]);
        break;
    case GS_KEY_STR:
        snprintf(buf, n, "%s", base);
        break;
    }
    return buf;
}

void gs_config_defaults(gs_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (const gs_key *k = gs_keys; k->path; k++) {
        if (!k->dflt)
            continue;
        char *base = (char *)cfg + k->offset;
        int64_t iv;
        double dv;
        int ev = 0;
        switch (k->type) {
        case GS_KEY_INT:
            iv = strtoll(k->dflt, NULL, 10);
            memcpy(base, &iv, sizeof iv);
            break;
        case GS_KEY_BATCH:
            iv = strcmp(k->dflt, "full") == 0 ? 0 : strtoll(k->dflt, NULL, 10);
            memcpy(base, &iv, sizeof iv);
            break;
        case GS_KEY_REAL:
            dv = strtod(k->dflt, NULL);
            memcpy(base, &dv, sizeof dv);
            break;
        case GS_KEY_ENUM:
            while (k->names[ev] && strcmp(k->names[ev], k->dflt) != 0)
                ev++;
            memcpy(base, &ev, sizeof ev);
            break;
        case GS_KEY_STR:
            snprintf(base, k->size, "%s", k->dflt);
            break;
        }
    }
}

static int has_step(const int64_t *v, size_t n, int64_t s)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == s)
            return 1;
    return 0;
}

/* Marks the steps of each schedule in a bitmap-free way: walk candidate steps in order and test
 * membership, so the output is sorted and unique without a sort. */
size_t gs_record_snapshot_steps(const gs_record *rec, int64_t steps, int64_t *out, size_t cap)
{
    size_t cnt = 0;
    int64_t nlog = rec->grad_log;
    for (int64_t s = 0; s < steps; s++) {
        int take = has_step(rec->grad_steps, rec->n_grad_steps, s);
        if (!take && rec->grad_every > 0)
            take = s % rec->grad_every == 0;
        if (!take && nlog > 0) {
            /* log schedule: round(exp(i * ln(steps) / (nlog - 1))) - 1 for i = 0..nlog-1,
             * so 0 and steps - 1 are always included. */
            if (s == 0 || s == steps - 1)
                take = 1;
            for (int64_t i = 1; !take && i < nlog - 1; i++) {
                double v = exp((double)i * log((double)steps) / (double)(nlog - 1));
                if ((int64_t)llround(v) - 1 == s)
                    take = 1;
            }
        }
        if (take) {
            if (cnt < cap)
                out[cnt] = s;
            cnt++;
        }
    }
    return cnt;
}

int64_t gs_record_stat_rows(const gs_record *rec, int64_t steps)
{
    int64_t every = rec->every > 0 ? rec->every : 1;
    return (steps + every - 1) / every;
}
