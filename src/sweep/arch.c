/* Sweep specs: the architecture checks of one expanded run (per-layer widths against the depth,
 * residual blocks, batchnorm batch rows). Per run, since depth, widths, norm and batch may each be
 * an axis. Parsing the keys is spec.c and value.c; the network itself is src/core. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradsweep/data.h"
#include "sweep/draft.h"

static const gs_slot *slot_of(const gs_draft *d, const char *path)
{
    return &d->slots[gs_key_find(path) - gs_keys];
}

/* Entries of a layer list "w1,w2,..." (validated: non-empty, one comma between entries). */
static int64_t list_count(const char *list)
{
    int64_t n = 1;
    for (; *list; list++)
        n += *list == ',';
    return n;
}

/* A list gives the units of each hidden layer, so it needs exactly model.depth entries. */
static gs_status check_widths(const gs_draft *d, const gs_run_config *c)
{
    if (!c->width_list[0])
        return GS_OK;
    int64_t n = list_count(c->width_list);
    if (n == c->depth)
        return GS_OK;
    const gs_slot *s = slot_of(d, "model.width");
    return gs_draft_fail(d, s->line, s->ovr, "model.width",
                         "%lld layer widths [%s], but model.depth is %lld (one width per hidden "
                         "layer)",
                         (long long)n, c->width_list, (long long)c->depth);
}

/* Residual blocks (docs/spec.md): hidden layers 1..depth; layer 1 has no skip; block j covers
 * layers 2 + jk .. 1 + (j+1)k and adds its input, the output of layer 1 + jk, to its output, the
 * output of layer 1 + (j+1)k, so the two widths must agree. A trailing partial block has no skip;
 * depth < 1 + k means no block at all. Layer l has width gs_config_width(c, l - 1). */
static gs_status check_residual(const gs_draft *d, const gs_run_config *c)
{
    int64_t k = c->residual_every;
    if (k == 0 || !c->width_list[0])
        return GS_OK; /* uniform widths always agree */
    for (int64_t j = 0; 1 + (j + 1) * k <= c->depth; j++) {
        int64_t in = 1 + j * k, out = 1 + (j + 1) * k;
        int64_t w_in = gs_config_width(c, (size_t)(in - 1)),
                w_out = gs_config_width(c, (size_t)(out - 1));
        if (w_in == w_out)
            continue;
        const gs_slot *s = slot_of(d, "model.residual_every");
        char layers[64];
        if (k == 1)
            snprintf(layers, sizeof layers, "hidden layer %lld", (long long)out);
        else
            snprintf(layers, sizeof layers, "hidden layers %lld..%lld", (long long)(in + 1),
                     (long long)out);
        return gs_draft_fail(d, s->line, s->ovr, "model.residual_every",
                             "%lld: the residual block of %s adds its input (layer %lld, width "
                             "%lld) to its output (layer %lld, width %lld); the widths must be "
                             "equal",
                             (long long)k, layers, (long long)in, (long long)w_in, (long long)out,
                             (long long)w_out);
    }
    return GS_OK;
}

/* Batch statistics need two rows: with one, every normalized value is 0 (and the unbiased
 * running variance divides by 0). Synthetic data only: file data are checked when loaded. */
static gs_status check_norm(const gs_draft *d, const gs_run_config *c)
{
    if (c->norm != GS_NORM_BATCHNORM || !gs_data_is_synthetic(c->data_kind))
        return GS_OK;
    int64_t n = c->data_samples, n_train = n - (int64_t)floor((double)n * c->eval_fraction);
    int64_t rows = c->batch > 0 ? c->batch : n_train;
    if (rows >= 2)
        return GS_OK;
    const gs_slot *s = slot_of(d, "model.norm");
    if (c->batch > 0)
        return gs_draft_fail(d, s->line, s->ovr, "model.norm",
                             "batchnorm needs at least 2 rows per batch, but train.batch is %lld",
                             (long long)c->batch);
    return gs_draft_fail(d, s->line, s->ovr, "model.norm",
                         "batchnorm needs at least 2 rows per batch, but the full batch holds "
                         "%lld training sample (data.samples %lld)",
                         (long long)n_train, (long long)n);
}

gs_status gs_draft_check_arch(const gs_draft *d, const gs_run *run)
{
    gs_status st = check_widths(d, &run->cfg);
    if (st == GS_OK)
        st = check_residual(d, &run->cfg);
    if (st == GS_OK)
        st = check_norm(d, &run->cfg);
    return st;
}
