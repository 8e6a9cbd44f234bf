/* Probes of a run (probe.h): histogram binning, the forward, gradient and weight statistics of a
 * statistics row (probe_impl.h, once per compute precision), the delta slope and the verdict
 * rules of docs/probes.md. The step loop (train_impl.h) decides when they run; the backward hook
 * lives in net_impl.h. No allocation besides the histogram edges, no I/O. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/probe.h"
#include "gradsweep/config.h"
#include "gradsweep/opt.h"

gs_status gs_probe_hist_init(gs_probe_hist *h, size_t bins, double lo, double hi, gs_error *err)
{
    memset(h, 0, sizeof *h);
    if (bins < 1 || bins > 100000 || !isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return gs_error_set(err, GS_EINVAL,
                            "record.hist needs 1 <= bins <= 100000 and finite min < max, got "
                            "bins %zu, min %g, max %g",
                            bins, lo, hi);
    h->edge = calloc(bins + 1, sizeof *h->edge);
    if (!h->edge)
        return gs_error_set(err, GS_ENOMEM, "out of memory for %zu histogram bins", bins);
    h->bins = bins;
    h->lo = lo;
    h->width = (hi - lo) / (double)bins;
    for (size_t j = 0; j < bins; j++)
        h->edge[j] = pow(10.0, lo + (double)j * h->width);
    h->edge[bins] = pow(10.0, hi);
    return GS_OK;
}

void gs_probe_hist_free(gs_probe_hist *h)
{
    if (!h)
        return;
    free(h->edge);
    h->edge = NULL;
}

/* One value: the bin from log10 |v|, then corrected against the edges (log10 may round across
 * an edge; the edges decide). */
static inline void hist_one(const gs_probe_hist *h, double v, int64_t *counts, int64_t *out)
{
    double a = fabs(v);
    size_t k = h->bins;
    if (isnan(a)) {
        out[3]++;
    } else if (a == 0.0) {
        out[0]++;
    } else if (a < h->edge[0]) {
        out[1]++;
    } else if (a >= h->edge[k]) {
        out[2]++;
    } else {
        double g = (log10(a) - h->lo) / h->width;
        size_t j = g <= 0.0 ? 0 : g >= (double)(k - 1) ? k - 1 : (size_t)g;
        while (j > 0 && a < h->edge[j])
            j--;
        while (j + 1 < k && a >= h->edge[j + 1])
            j++;
        counts[j]++;
    }
}

#define R double
#define NET gs_net
#define S(n) n##_d
#define NORM gs_opt_norm
#include "core/probe_impl.h"
#undef R
#undef NET
#undef S
#undef NORM

#define R float
#define NET gs_netf
#define S(n) n##_f
#define NORM gs_opt_normf
#include "core/probe_impl.h"
#undef R
#undef NET
#undef S
#undef NORM

gs_probe_act gs_probe_act_of(int act)
{
    gs_probe_act pa = {0, 0, 0.0, 0};
    switch (act) {
    case GS_ACT_RELU:
    case GS_ACT_LEAKY_RELU:
    case GS_ACT_ELU:
    case GS_ACT_SELU:
        pa.dead = 1;
        break;
    case GS_ACT_TANH: /* 1 - tanh(h)^2 < 0.01 */
        pa.sat = 1;
        pa.sat_t = atanh(sqrt(0.99));
        break;
    case GS_ACT_SIGMOID: /* sigma'(h) = tanh'(h / 2) / 4 < 0.01 / 4 */
        pa.sat = 1;
        pa.sat_t = 2.0 * atanh(sqrt(0.99));
        break;
    case GS_ACT_SOFTSIGN: /* (1 + |h|)^-2 < 0.01 */
        pa.sat = 1;
        pa.sat_t = 9.0;
        break;
    case GS_ACT_HARD_TANH: /* f' = 0 for |h| >= 1 */
        pa.sat = 1;
        pa.sat_t = 1.0;
        pa.sat_incl = 1;
        break;
    default:
        break;
    }
    return pa;
}

size_t gs_probe_n_weights(const size_t *n, size_t L)
{
    size_t s = 0;
    for (size_t l = 0; l < L; l++)
        s += n[l] * n[l + 1];
    return s;
}

double gs_probe_slope(const double *dn, size_t H)
{
    if (H < 2)
        return (double)NAN;
    double xm = (double)(H - 1) / 2.0, ym = 0.0;
    for (size_t l = 0; l < H; l++) {
        if (!(dn[l] > 0.0) || !isfinite(dn[l]))
            return (double)NAN;
        ym += log(dn[l]);
    }
    ym /= (double)H;
    double sxy = 0.0, sxx = 0.0;
    for (size_t l = 0; l < H; l++) {
        double dx = (double)l - xm;
        sxy += dx * (log(dn[l]) - ym);
        sxx += dx * dx;
    }
    return sxy / sxx;
}

/* Thresholds of docs/probes.md. */
#define BLOWUP 1e4    /* loss > BLOWUP max(loss at step 0, 1): diverged */
#define UNHEALTHY 0.9 /* dead_frac or sat_frac at or above: dead / saturated */
#define RATIO 1e3     /* delta_norm[0] / delta_norm[H-1] beyond RATIO or 1 / RATIO */

unsigned gs_probe_states(double loss, int finite, double loss0, const double *dead,
                         const double *sat, const double *delta_norm, size_t H)
{
    unsigned m = 0;
    if (!finite || loss > BLOWUP * (loss0 > 1.0 ? loss0 : 1.0))
        m |= GS_PROBE_BIT(GS_VERDICT_DIVERGED);
    for (size_t l = 0; l < H; l++) {
        if (dead[l] >= UNHEALTHY)
            m |= GS_PROBE_BIT(GS_VERDICT_DEAD);
        if (sat[l] >= UNHEALTHY)
            m |= GS_PROBE_BIT(GS_VERDICT_SATURATED);
    }
    if (H >= 2) {
        double r = delta_norm[0] / delta_norm[H - 1];
        if (r > RATIO)
            m |= GS_PROBE_BIT(GS_VERDICT_EXPLODING);
        if (r < 1.0 / RATIO)
            m |= GS_PROBE_BIT(GS_VERDICT_VANISHING);
    }
    return m ? m : GS_PROBE_BIT(GS_VERDICT_HEALTHY);
}

int gs_probe_severity(int verdict)
{
    switch (verdict) {
    case GS_VERDICT_DIVERGED:
        return 5;
    case GS_VERDICT_DEAD:
        return 4;
    case GS_VERDICT_SATURATED:
        return 3;
    case GS_VERDICT_EXPLODING:
        return 2;
    case GS_VERDICT_VANISHING:
        return 1;
    default:
        return 0;
    }
}

int gs_probe_worst(unsigned mask)
{
    int best = GS_VERDICT_HEALTHY;
    for (int v = 0; v < GS_VERDICT__COUNT; v++)
        if ((mask & GS_PROBE_BIT(v)) && gs_probe_severity(v) > gs_probe_severity(best))
            best = v;
    return best;
}

gs_status gs_probe_stop_mask(const char *s, size_t size, unsigned *mask, gs_error *err)
{
    *mask = 0;
    if (!memchr(s, '\0', size))
        return gs_error_set(err, GS_EINVAL, "train.stop_on: text not terminated");
    for (const char *p = s; *s;) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int v = 0; v < GS_VERDICT__COUNT; v++)
            if (strlen(gs_verdict_names[v]) == len && strncmp(p, gs_verdict_names[v], len) == 0)
                found = v;
        if (found < 0 || found == GS_VERDICT_HEALTHY)
            return gs_error_set(err, GS_EINVAL,
                                "train.stop_on: '%.*s' is not a verdict to stop on (one of "
                                "vanishing, exploding, diverged, dead, saturated) in \"%s\"",
                                (int)len, p, s);
        *mask |= GS_PROBE_BIT(found);
        if (!p[len])
            break;
        p += len + 1;
    }
    return GS_OK;
}
