/* Template body of the per-precision probes, included by probe.c once per compute precision with
 *   R the real type, NET the net type, S(n) the public name suffix (n##_d or n##_f), NORM the
 *   float64 norm of an R vector.
 * Every statistic accumulates in double from the R values. No include guard: included twice. */

/* Reductions run four interleaved accumulators: a fixed order (deterministic) with four
 * independent dependency chains, so a pass over a tensor is not bound by the latency of one
 * floating-point add (strict IEEE order forbids the compiler from doing this itself). */
#define ACC4(n, body)                                                                              \
    do {                                                                                           \
        size_t i_ = 0;                                                                             \
        for (; i_ + 4 <= (n); i_ += 4)                                                             \
            for (size_t k = 0; k < 4; k++) {                                                       \
                size_t i = i_ + k;                                                                 \
                body;                                                                              \
            }                                                                                      \
        for (size_t k = 0; i_ < (n); i_++) {                                                       \
            size_t i = i_;                                                                         \
            body;                                                                                  \
        }                                                                                          \
    } while (0)

static double S(sum4)(const double *a)
{
    return (a[0] + a[1]) + (a[2] + a[3]);
}

double S(gs_probe_norm)(const R *v, size_t n)
{
    double a[4] = {0, 0, 0, 0};
    ACC4(n, a[k] += (double)v[i] * (double)v[i]);
    double s = S(sum4)(a);
    if (isnan(s) || (s > 1e-280 && s < 1e280))
        return sqrt(s);
    return NORM(v, n); /* scaled: no overflow or underflow of the squares */
}

void S(gs_probe_hist_add)(const gs_probe_hist *h, const R *v, size_t n, int64_t *counts,
                          int64_t *out)
{
    for (size_t i = 0; i < n; i++)
        hist_one(h, (double)v[i], counts, out);
}

/* One hidden layer's unit health: dead fraction over units, saturated fraction over entries. */
static void S(health)(const R *h, size_t B, size_t n, const gs_probe_act *pa, unsigned char *alive,
                      double *dead, double *sat)
{
    *dead = *sat = (double)NAN;
    if (pa->dead) {
        memset(alive, 0, n);
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < n; j++)
                alive[j] |= !(h[i * n + j] <= (R)0); /* NaN counts as alive */
        size_t c = 0;
        for (size_t j = 0; j < n; j++)
            c += !alive[j];
        *dead = (double)c / (double)n;
    }
    if (pa->sat) {
        size_t c = 0;
        double t = pa->sat_t;
        for (size_t i = 0; i < B * n; i++) {
            double a = fabs((double)h[i]);
            c += pa->sat_incl ? a >= t : a > t;
        }
        *sat = (double)c / (double)(B * n);
    }
}

/* Mean of v^2 over m values. */
static double S(mean_sq)(const R *v, size_t m)
{
    double a[4] = {0, 0, 0, 0};
    ACC4(m, a[k] += (double)v[i] * (double)v[i]);
    return S(sum4)(a) / (double)m;
}

/* Mean and population standard deviation of m values, shifted by the first value so that a large
 * mean does not cancel the variance: var = E[(v - v0)^2] - (E[v - v0])^2. */
static void S(mean_std)(const R *v, size_t m, double *mean, double *std)
{
    double v0 = (double)v[0], a1[4] = {0, 0, 0, 0}, a2[4] = {0, 0, 0, 0};
    ACC4(m, {
        double d = (double)v[i] - v0;
        a1[k] += d;
        a2[k] += d * d;
    });
    double m1 = S(sum4)(a1) / (double)m, s2 = S(sum4)(a2) / (double)m, var = s2 - m1 * m1;
    *mean = v0 + m1;
    *std = sqrt(var > 0.0 ? var : 0.0);
    if (isnan(var)) /* finite values whose squares overflow: Inf, as a two-pass std gives */
        *std = isinf(s2) && isfinite(m1) ? (double)INFINITY : var;
}

void S(gs_probe_forward)(const NET *net, size_t B, const gs_probe_act *pa, unsigned char *alive,
                         double *q, double *dead, double *sat, double *amean, double *astd)
{
    size_t L = net->n_layers;
    for (size_t l = 0; l < L; l++) {
        size_t n = net->n[l + 1];
        q[l] = S(mean_sq)(net->h[l], B * n);
        if (l + 1 == L)
            break;
        S(health)(net->h[l], B, n, pa, alive, dead + l, sat + l);
        if (amean)
            S(mean_std)(net->a[l], B * n, amean + l, astd + l);
    }
}

void S(gs_probe_grads)(const NET *net, double *mean_abs, double *max_abs, double *bnorm)
{
    for (size_t l = 0; l < net->n_layers; l++) {
        size_t m = net->n[l] * net->n[l + 1];
        const R *g = net->dw[l];
        double s[4] = {0, 0, 0, 0}, mx[4] = {0, 0, 0, 0};
        ACC4(m, {
            double a = fabs((double)g[i]);
            s[k] += a;
            mx[k] = a > mx[k] ? a : mx[k];
        });
        double sum = S(sum4)(s), top = fmax(fmax(mx[0], mx[1]), fmax(mx[2], mx[3]));
        mean_abs[l] = sum / (double)m; /* |g| >= 0: the sum is NaN exactly when an entry is */
        max_abs[l] = isnan(sum) ? sum : top;
        if (bnorm)
            bnorm[l] = S(gs_probe_norm)(net->db[l], net->n[l + 1]);
    }
}

void S(gs_probe_wdist)(const NET *net, const R *ref, double *dist, double *norm, int of_ref,
                       R *copy)
{
    const R *r = ref;
    for (size_t l = 0; l < net->n_layers; l++) {
        size_t m = net->n[l] * net->n[l + 1];
        const R *w = net->w[l], *o = of_ref ? r : w;
        double a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
        ACC4(m, {
            double d = (double)w[i] - (double)r[i];
            a[k] += d * d;
            b[k] += (double)o[i] * (double)o[i];
        });
        if (copy) /* while the weights are in cache */
            memcpy(copy + (r - ref), w, m * sizeof *copy);
        dist[l] = sqrt(S(sum4)(a));
        double ss = S(sum4)(b);
        norm[l] = isnan(ss) || (ss > 1e-280 && ss < 1e280) ? sqrt(ss) : NORM(o, m);
        r += m;
    }
}

#undef ACC4
