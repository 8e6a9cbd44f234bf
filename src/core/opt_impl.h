/* Template body of the optimizer updates and clipping, included by opt.c once per compute
 * precision with R (double or float), S(n) a per-precision static name, AXPY (cblas_daxpy /
 * cblas_saxpy), MV(o) / VV(o) the optimizer's state views in R, STEP / CLIP the public names and
 * DTYPE the gs_dtype the state must have. Hyper-parameters are float64 in the optimizer and
 * rounded to R where they meet the tensors (torch's behaviour for float32 parameters). No include
 * guard: included twice. */

#define C(x) ((R)(x))

/* Plain SGD: the axpy p += (-lr) g in chunks of at most INT_MAX (the CBLAS length is an int);
 * with weight decay, p -= lr (g + wd p). */
static void S(sgd)(const gs_optimizer *o, R *restrict p, const R *restrict g, R lr)
{
    R wd = (R)o->weight_decay;
    if (o->weight_decay == 0.0) {
        for (size_t off = 0; off < o->n; off += INT_MAX) {
            size_t len = o->n - off < INT_MAX ? o->n - off : INT_MAX;
            AXPY((int)len, -lr, g + off, 1, p + off, 1);
        }
        return;
    }
    for (size_t i = 0; i < o->n; i++)
        p[i] -= lr * (g[i] + wd * p[i]);
}

/* torch SGD(momentum=mu, nesterov): b = mu b + d (dampening 0; the first step's b = d, which the
 * zero-initialised buffer gives too); step direction b, or d + mu b for Nesterov. */
static void S(momentum)(gs_optimizer *o, R *restrict p, const R *restrict g, R lr)
{
    R mu = (R)o->momentum, wd = (R)o->weight_decay, *restrict b = MV(o);
    for (size_t i = 0; i < o->n; i++) {
        R d = g[i] + wd * p[i];
        b[i] = mu * b[i] + d;
        p[i] -= lr * (o->nesterov ? d + mu * b[i] : b[i]);
    }
}

/* torch Adam / AdamW (not amsgrad): bias-corrected moments, step lr / (1 - b1^k) * m / denom with
 * denom = sqrt(v) / sqrt(1 - b2^k) + eps, k = t + 1. AdamW decays p by (1 - lr wd) first and
 * leaves the gradient alone; Adam adds wd p to it. The corrections are computed in double. */
static void S(adam)(gs_optimizer *o, R *restrict p, const R *restrict g, double lr)
{
    R b1 = (R)o->beta1, b2 = (R)o->beta2, eps = (R)o->eps, wd = (R)o->weight_decay;
    double k = (double)(o->t + 1);
    R step = (R)(lr / (1.0 - pow(o->beta1, k))), sq2 = (R)sqrt(1.0 - pow(o->beta2, k));
    R decay = (R)(1.0 - lr * o->weight_decay);
    int decoupled = o->kind == GS_OPT_ADAMW;
    R *restrict m = MV(o), *restrict v = VV(o);
    for (size_t i = 0; i < o->n; i++) {
        R d = g[i];
        if (decoupled)
            p[i] *= decay;
        else
            d += wd * p[i];
        m[i] = b1 * m[i] + (C(1.0) - b1) * d;
        v[i] = b2 * v[i] + (C(1.0) - b2) * d * d;
        p[i] -= step * m[i] / (sqrt(v[i]) / sq2 + eps);
    }
}

/* torch RMSprop (not centered, no momentum): v = rho v + (1 - rho) d^2, p -= lr d / (sqrt(v) +
 * eps). */
static void S(rmsprop)(gs_optimizer *o, R *restrict p, const R *restrict g, R lr)
{
    R rho = (R)o->rho, eps = (R)o->eps, wd = (R)o->weight_decay, *restrict v = VV(o);
    for (size_t i = 0; i < o->n; i++) {
        R d = g[i] + wd * p[i];
        v[i] = rho * v[i] + (C(1.0) - rho) * d * d;
        p[i] -= lr * d / (sqrt(v[i]) + eps);
    }
}

void STEP(gs_optimizer *opt, R *restrict p, const R *restrict g, double lr)
{
    assert(opt->dtype == DTYPE);
    switch (opt->kind) {
    case GS_OPT_MOMENTUM:
        S(momentum)(opt, p, g, (R)lr);
        break;
    case GS_OPT_ADAM:
    case GS_OPT_ADAMW:
        S(adam)(opt, p, g, lr);
        break;
    case GS_OPT_RMSPROP:
        S(rmsprop)(opt, p, g, (R)lr);
        break;
    default:
        assert(opt->kind == GS_OPT_SGD);
        S(sgd)(opt, p, g, (R)lr);
        break;
    }
    opt->t++;
}

int CLIP(const gs_run_config *cfg, R *g, size_t n, double norm)
{
    int fired = 0;
    if (cfg->clip_norm > 0.0 && norm > cfg->clip_norm) {
        R s = (R)(cfg->clip_norm / (norm + 1e-6)); /* torch clip_grad_norm_ */
        for (size_t i = 0; i < n; i++)
            g[i] *= s;
        fired = 1;
    }
    if (cfg->clip_value > 0.0) {
        R c = (R)cfg->clip_value;
        for (size_t i = 0; i < n; i++) {
            if (g[i] > c || g[i] < -c) {
                g[i] = g[i] > c ? c : -c;
                fired = 1;
            }
        }
    }
    return fired;
}

#undef C
