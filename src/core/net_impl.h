/* Template body of the network core, included by net.c once per compute precision with
 *   R     the real type (double or float)     NET  the net type (gs_net or gs_netf)
 *   P(n)  the public name (gs_net_##n or gs_netf_##n)   S(n)  a per-precision static name
 *   GEMM, AXPY  cblas_dgemm / cblas_sgemm and cblas_daxpy / cblas_saxpy
 *   ACT_GET     gs_act_entry_get / gs_act_entryf_get
 *   NORM        the float64 norm of an R vector (gs_opt_norm / gs_opt_normf)
 *   HIST, PNORM histogram counts and the fast norm of an R vector (gs_probe_*_d / _f)
 *   R_IS_DOUBLE 1 or 0.
 * Arithmetic on tensors is in R (<tgmath.h> picks the function from the argument type; constants
 * go through C(x)); batch reductions that feed normalization, the loss and norms accumulate in
 * double. No include guard: included twice. */

#define C(x) ((R)(x))

/* ---- create / destroy ---- */

/* Units of the hidden layers and the shape checks that need them; n [L + 1]. */
static gs_status S(layer_dims)(const gs_run_config *cfg, size_t d_in, size_t d_out, size_t *n,
                               gs_error *err)
{
    size_t L = (size_t)cfg->depth + 1;
    n[0] = d_in;
    for (size_t l = 1; l < L; l++) {
        int64_t u = gs_config_width(cfg, l - 1);
        if (u < 1)
            return gs_error_set(err, GS_EINVAL, "net: no width for hidden layer %zu (model.width)",
                                l);
        n[l] = (size_t)u;
    }
    n[L] = d_out;
    return GS_OK;
}

static void S(net_free)(NET *net)
{
    if (!net)
        return;
    free(net->n);
    free(net->params);
    free(net->grads);
    if (net->h)
        free(net->h[0]);
    if (net->istd)
        free(net->istd[0]);
    free(net->delta);
    free(net->delta2);
    free(net->skip);
    free(net->zero);
    free(net->dbias);
    free(net->acc);
    free(net->prob);
    free(net->w);
    free(net->b);
    free(net->dw);
    free(net->db);
    free(net->gamma);
    free(net->beta);
    free(net->dgamma);
    free(net->dbeta);
    free(net->run_mean);
    free(net->run_var);
    free(net->h);
    free(net->a);
    free(net->z);
    free(net->istd);
    free(net->res);
    free(net->out);
    free(net->res_in);
    free(net);
}

void P(destroy)(NET *net)
{
    S(net_free)(net);
}

/* Allocates count R's (at least one), zeroed; NULL on overflow or out of memory. */
static R *S(alloc_r)(size_t count)
{
    return count <= SIZE_MAX / sizeof(R) ? calloc(count ? count : 1, sizeof(R)) : NULL;
}

/* The view arrays. */
static int S(alloc_views)(NET *net, size_t L)
{
    size_t H = L - 1 ? L - 1 : 1; /* hidden layers (at least one slot) */
    net->w = calloc(L, sizeof *net->w);
    net->b = calloc(L, sizeof *net->b);
    net->dw = calloc(L, sizeof *net->dw);
    net->db = calloc(L, sizeof *net->db);
    net->h = calloc(L, sizeof *net->h);
    net->a = calloc(L, sizeof *net->a);
    net->res = calloc(H, sizeof *net->res);
    net->out = calloc(H, sizeof *net->out);
    net->res_in = calloc(H, sizeof *net->res_in);
    if (!net->w || !net->b || !net->dw || !net->db || !net->h || !net->a || !net->res ||
        !net->out || !net->res_in)
        return 0;
    if (net->norm == GS_NORM_NONE)
        return 1;
    net->gamma = calloc(H, sizeof *net->gamma);
    net->beta = calloc(H, sizeof *net->beta);
    net->dgamma = calloc(H, sizeof *net->dgamma);
    net->dbeta = calloc(H, sizeof *net->dbeta);
    net->z = calloc(H, sizeof *net->z);
    net->istd = calloc(H, sizeof *net->istd);
    if (!net->gamma || !net->beta || !net->dgamma || !net->dbeta || !net->z || !net->istd)
        return 0;
    if (net->norm != GS_NORM_BATCHNORM)
        return 1;
    net->run_mean = calloc(H, sizeof *net->run_mean);
    net->run_var = calloc(H, sizeof *net->run_var);
    return net->run_mean && net->run_var;
}

/* Residual blocks: hidden layer numbers 1..depth are weight layers 0..L-2; block j covers weight
 * layers 1 + jk .. jk + k and its input is out[jk]. Marks the block ends in res_in (others
 * SIZE_MAX); a block whose input and output widths differ is an error. */
static gs_status S(plan_residual)(NET *net, int64_t every, gs_error *err)
{
    size_t L = net->n_layers, k = (size_t)every;
    for (size_t l = 0; l + 1 < L; l++)
        net->res_in[l] = SIZE_MAX;
    for (size_t j = 0; k > 0 && j * k + k + 1 < L; j++) {
        size_t in = j * k, end = j * k + k;
        if (net->n[in + 1] != net->n[end + 1])
            return gs_error_set(err, GS_EINVAL,
                                "net: residual block of hidden layers %zu..%zu maps %zu units to "
                                "%zu; a skip needs equal widths",
                                in + 2, end + 1, net->n[in + 1], net->n[end + 1]);
        net->res_in[end] = in;
    }
    return GS_OK;
}

/* Sizes of the blocks, 0 on size_t overflow: parameters (weights, biases, gammas, betas),
 * activations per hidden layer (h, a, z with a norm, res at block ends) and the readout's h,
 * per-layer normalization statistics (istd, running mean and variance). */
typedef struct {
    size_t n_w, n_b, n_g, act, stats, max_n;
} S(sizes);

static int S(block_sizes)(const NET *net, S(sizes) * z)
{
    size_t L = net->n_layers, B = net->max_batch, t, per;
    memset(z, 0, sizeof *z);
    z->max_n = net->n[0] > B ? net->n[0] : B;
    for (size_t l = 0; l < L; l++) {
        size_t o = net->n[l + 1];
        z->max_n = o > z->max_n ? o : z->max_n;
        if (!mul_ok(net->n[l], o, &t) || !add_ok(z->n_w, t, &z->n_w) ||
            !add_ok(z->n_b, o, &z->n_b) || !mul_ok(B, o, &per))
            return 0;
        size_t copies = 1; /* h */
        if (l + 1 < L) {
            copies += 1 + (net->norm != GS_NORM_NONE) + (net->res_in[l] != SIZE_MAX);
            if (net->norm != GS_NORM_NONE && !add_ok(z->n_g, o, &z->n_g))
                return 0;
            size_t st = net->norm == GS_NORM_BATCHNORM ? 3 * o : net->norm ? B : 0;
            if (!add_ok(z->stats, st, &z->stats))
                return 0;
        }
        if (!mul_ok(per, copies, &t) || !add_ok(z->act, t, &z->act))
            return 0;
    }
    if (!net->bias)
        z->n_b = 0;
    return 1;
}

/* Points the views into the blocks: params/grads = weights, biases, gammas, betas; activations
 * per layer h, a, z, res; statistics istd, running mean, running variance. */
static void S(set_views)(NET *net, const S(sizes) * z, R *act, R *stats)
{
    size_t L = net->n_layers, B = net->max_batch;
    size_t pw = 0, pb = z->n_w, pg = z->n_w + z->n_b, pbeta = pg + z->n_g;
    for (size_t l = 0; l < L; l++) {
        size_t o = net->n[l + 1];
        net->w[l] = net->params + pw;
        net->dw[l] = net->grads + pw;
        pw += net->n[l] * o;
        net->b[l] = net->bias ? net->params + pb : net->zero;
        net->db[l] = net->bias ? net->grads + pb : net->dbias;
        pb += o;
        net->h[l] = act;
        act += B * o;
        if (l + 1 == L) {
            net->a[l] = net->h[l]; /* the readout is linear */
            break;
        }
        net->a[l] = act;
        act += B * o;
        net->out[l] = net->a[l];
        if (net->res_in[l] != SIZE_MAX) {
            net->res[l] = net->out[l] = act;
            act += B * o;
        }
        if (net->norm == GS_NORM_NONE)
            continue;
        net->z[l] = act;
        act += B * o;
        net->gamma[l] = net->params + pg;
        net->dgamma[l] = net->grads + pg;
        net->beta[l] = net->params + pbeta;
        net->dbeta[l] = net->grads + pbeta;
        pg += o;
        pbeta += o;
        for (size_t j = 0; j < o; j++)
            net->gamma[l][j] = C(1.0);
        net->istd[l] = stats;
        stats += net->norm == GS_NORM_BATCHNORM ? o : B;
        if (net->norm == GS_NORM_BATCHNORM) {
            net->run_mean[l] = stats;
            net->run_var[l] = stats + o;
            stats += 2 * o;
            for (size_t j = 0; j < o; j++)
                net->run_var[l][j] = C(1.0);
        }
    }
}

static gs_status S(check_cfg)(const gs_run_config *cfg, size_t max_batch, gs_error *err)
{
    gs_status st = check_shape(cfg, max_batch, err);
    if (st)
        return st;
    if (cfg->norm == GS_NORM_BATCHNORM && max_batch < 2)
        return gs_error_set(err, GS_EINVAL,
                            "net: batchnorm needs at least 2 rows per batch, got %zu", max_batch);
    return GS_OK;
}

gs_status P(create)(NET **out, const gs_run_config *cfg, size_t d_in, size_t d_out,
                    size_t max_batch, gs_error *err)
{
    gs_status st = GS_OK;
    NET *net = NULL;
    R *act = NULL, *stats = NULL;
    S(sizes) z;
    *out = NULL;
    if (d_in < 1 || d_out < 1)
        return gs_error_set(err, GS_EINVAL,
                            "net: input and output dims must be >= 1, got d_in=%zu d_out=%zu", d_in,
                            d_out);
    if ((st = S(check_cfg)(cfg, max_batch, err)))
        return st;
    if (!(net = calloc(1, sizeof *net)))
        goto nomem;
    size_t L = (size_t)cfg->depth + 1;
    net->n_layers = L;
    net->max_batch = max_batch;
    net->act = cfg->activation;
    net->alpha = (R)gs_act_alpha(cfg);
    net->loss = cfg->loss;
    net->bias = cfg->bias != 0;
    net->norm = cfg->norm;
    net->norm_eps = (R)cfg->norm_eps;
    net->norm_momentum = (R)cfg->norm_momentum;
    net->res_alpha = (R)cfg->residual_alpha;
    if (!(net->n = calloc(L + 1, sizeof *net->n)) || !S(alloc_views)(net, L))
        goto nomem;
    if ((st = S(layer_dims)(cfg, d_in, d_out, net->n, err)) ||
        (st = check_blas_dims(net->n, L, max_batch, err)) ||
        (st = S(plan_residual)(net, cfg->residual_every, err)))
        goto done;
    size_t n_scr, n_prob;
    if (!S(block_sizes)(net, &z) || !add_ok(z.n_w, z.n_b, &net->n_params) ||
        !add_ok(net->n_params, 2 * z.n_g, &net->n_params) || !mul_ok(max_batch, z.max_n, &n_scr) ||
        !mul_ok(max_batch, d_out, &n_prob)) {
        st = gs_error_set(err, GS_EINVAL, "net: size overflow (depth %lld, batch %zu)",
                          (long long)cfg->depth, max_batch);
        goto done;
    }
    net->params = S(alloc_r)(net->n_params);
    net->grads = S(alloc_r)(net->n_params);
    net->delta = S(alloc_r)(n_scr);
    net->delta2 = S(alloc_r)(n_scr);
    net->skip = S(alloc_r)(n_scr);
    net->zero = S(alloc_r)(z.max_n);
    net->dbias = S(alloc_r)(z.max_n);
    net->acc = calloc(2 * z.max_n, sizeof *net->acc);
    net->prob = S(alloc_r)(n_prob);
    act = S(alloc_r)(z.act);
    stats = S(alloc_r)(z.stats);
    if (!net->params || !net->grads || !net->delta || !net->delta2 || !net->skip || !net->zero ||
        !net->dbias || !net->acc || !net->prob || !act || !stats)
        goto nomem;
    S(set_views)(net, &z, act, stats);
    if (!net->istd || !net->istd[0])
        free(stats);    /* no normalized layer: nothing points into it */
    act = stats = NULL; /* owned by h[0] and istd[0] now */
    *out = net;
    net = NULL;
    goto done;
nomem:
    st = gs_error_set(err, GS_ENOMEM, "net: out of memory (depth %lld, batch %zu)",
                      (long long)cfg->depth, max_batch);
done:
    free(act);
    free(stats);
    S(net_free)(net);
    return st;
}

/* The float64 draws of gs_init_draw, rounded to R for a float32 net. */
gs_status P(init)(NET *net, const gs_run_config *cfg, gsl_rng *rng, gs_error *err)
{
#if R_IS_DOUBLE
    return gs_init_draw(cfg, net->n, net->n_layers, net->w, net->bias ? net->b : NULL, rng, err);
#else
    size_t L = net->n_layers, n_wb = (size_t)(net->b[L - 1] - net->params) + net->n[L];
    if (!net->bias)
        n_wb = (size_t)(net->w[L - 1] - net->params) + net->n[L] * net->n[L - 1];
    double *buf = calloc(n_wb, sizeof *buf);
    double **w = calloc(L, sizeof *w), **b = calloc(L, sizeof *b);
    gs_status st = GS_OK;
    if (!buf || !w || !b) {
        st = gs_error_set(err, GS_ENOMEM, "init: out of memory for %zu float64 draws", n_wb);
        goto done;
    }
    for (size_t l = 0; l < L; l++) { /* the float net's layout, in double */
        w[l] = buf + (net->w[l] - net->params);
        b[l] = net->bias ? buf + (net->b[l] - net->params) : NULL;
    }
    if ((st = gs_init_draw(cfg, net->n, L, w, net->bias ? b : NULL, rng, err)))
        goto done;
    for (size_t i = 0; i < n_wb; i++)
        net->params[i] = (R)buf[i];
done:
    free(buf);
    free(w);
    free(b);
    return st;
#endif
}

/* ---- normalization ---- */

/* Training-mode normalization of u [B][n] in place to z = (u - mean) istd, with the batch
 * statistics of each unit (batchnorm: biased variance, two passes in double) or of each row
 * (layernorm); batchnorm also updates the running statistics (torch: unbiased variance). */
static void S(norm_train)(NET *net, size_t l, size_t B)
{
    size_t n = net->n[l + 1];
    R *restrict u = net->z[l], *restrict is = net->istd[l];
    double *mu = net->acc, *var = net->acc + (n > B ? n : B), eps = (double)net->norm_eps;
    if (net->norm == GS_NORM_LAYERNORM) {
        for (size_t i = 0; i < B; i++) {
            R *restrict r = u + i * n;
            double m = 0.0, v = 0.0;
            for (size_t j = 0; j < n; j++)
                m += (double)r[j];
            m /= (double)n;
            for (size_t j = 0; j < n; j++)
                v += ((double)r[j] - m) * ((double)r[j] - m);
            is[i] = (R)(1.0 / sqrt(v / (double)n + eps));
            R mr = (R)m;
            GS_SIMD
            for (size_t j = 0; j < n; j++)
                r[j] = (r[j] - mr) * is[i];
        }
        return;
    }
    memset(mu, 0, n * sizeof *mu);
    memset(var, 0, n * sizeof *var);
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < n; j++)
            mu[j] += (double)u[i * n + j];
    for (size_t j = 0; j < n; j++)
        mu[j] /= (double)B;
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < n; j++)
            var[j] += ((double)u[i * n + j] - mu[j]) * ((double)u[i * n + j] - mu[j]);
    R m = net->norm_momentum, *restrict rm = net->run_mean[l], *restrict rv = net->run_var[l];
    for (size_t j = 0; j < n; j++) {
        double v = var[j] / (double)B;
        is[j] = (R)(1.0 / sqrt(v + eps));
        rm[j] = (C(1.0) - m) * rm[j] + m * (R)mu[j];
        rv[j] = (C(1.0) - m) * rv[j] + m * (R)(var[j] / (double)(B - 1));
    }
    for (size_t i = 0; i < B; i++) {
        R *restrict r = u + i * n;
        for (size_t j = 0; j < n; j++)
            r[j] = (r[j] - (R)mu[j]) * is[j];
    }
}

/* Evaluation-mode batchnorm: z = (u - running mean) / sqrt(running var + eps). */
static void S(norm_eval_bn)(NET *net, size_t l, size_t B)
{
    size_t n = net->n[l + 1];
    R *restrict u = net->z[l], *restrict is = net->dbias; /* scratch: eval needs no db */
    const R *rm = net->run_mean[l], *rv = net->run_var[l];
    for (size_t j = 0; j < n; j++)
        is[j] = (R)(1.0 / sqrt((double)rv[j] + (double)net->norm_eps));
    for (size_t i = 0; i < B; i++) {
        R *restrict r = u + i * n;
        for (size_t j = 0; j < n; j++)
            r[j] = (r[j] - rm[j]) * is[j];
    }
}

/* Backward through z = (u - mean) istd for g = dL/dz [B][n] in place, giving dL/du:
 *   dL/du = istd (g - mean(g) - z mean(g z)),
 * means over the normalized axis (the batch per unit for batchnorm, the units per row for
 * layernorm), accumulated in double. */
static void S(norm_backward)(NET *net, size_t l, R *restrict g, size_t B)
{
    size_t n = net->n[l + 1];
    const R *restrict zz = net->z[l], *restrict is = net->istd[l];
    double *mg = net->acc, *mgz = net->acc + (n > B ? n : B);
    if (net->norm == GS_NORM_LAYERNORM) {
        for (size_t i = 0; i < B; i++) {
            R *restrict r = g + i * n;
            const R *restrict zr = zz + i * n;
            double a = 0.0, c = 0.0;
            for (size_t j = 0; j < n; j++) {
                a += (double)r[j];
                c += (double)r[j] * (double)zr[j];
            }
            R ma = (R)(a / (double)n), mc = (R)(c / (double)n);
            GS_SIMD
            for (size_t j = 0; j < n; j++)
                r[j] = is[i] * (r[j] - ma - zr[j] * mc);
        }
        return;
    }
    memset(mg, 0, n * sizeof *mg);
    memset(mgz, 0, n * sizeof *mgz);
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < n; j++) {
            mg[j] += (double)g[i * n + j];
            mgz[j] += (double)g[i * n + j] * (double)zz[i * n + j];
        }
    for (size_t j = 0; j < n; j++) {
        mg[j] /= (double)B;
        mgz[j] /= (double)B;
    }
    for (size_t i = 0; i < B; i++) {
        R *restrict r = g + i * n;
        const R *restrict zr = zz + i * n;
        for (size_t j = 0; j < n; j++)
            r[j] = is[j] * (r[j] - (R)mg[j] - zr[j] * (R)mgz[j]);
    }
}

/* ---- forward, loss, backward ---- */

/* h[i] += b for each row; h [B][n], b [n]. */
static void S(add_bias)(R *restrict h, const R *restrict b, size_t B, size_t n)
{
    for (size_t i = 0; i < B; i++) {
        GS_SIMD
        for (size_t j = 0; j < n; j++)
            h[i * n + j] += b[j];
    }
}

/* Hidden layer l after its GEMM (into z[l] with a norm, else h[l]): bias, normalization, scale,
 * shift, activation, and the residual sum at a block end. */
static void S(hidden_forward)(NET *net, size_t l, size_t B, int train)
{
    const ENTRY_T *e = ACT_GET(net->act);
    size_t n = net->n[l + 1];
    if (net->norm == GS_NORM_NONE) {
        e->fwd(net->h[l], net->a[l], net->b[l], B, n, net->alpha);
    } else {
        if (net->bias)
            S(add_bias)(net->z[l], net->b[l], B, n);
        if (train || net->norm == GS_NORM_LAYERNORM)
            S(norm_train)(net, l, B);
        else
            S(norm_eval_bn)(net, l, B);
        const R *restrict zz = net->z[l], *restrict ga = net->gamma[l];
        R *restrict h = net->h[l];
        for (size_t i = 0; i < B; i++) {
            GS_SIMD
            for (size_t j = 0; j < n; j++)
                h[i * n + j] = ga[j] * zz[i * n + j];
        }
        e->fwd(net->h[l], net->a[l], net->beta[l], B, n, net->alpha);
    }
    if (net->res[l]) { /* block end: res = out[in] + alpha a */
        const R *restrict x = net->out[net->res_in[l]], *restrict a = net->a[l];
        R *restrict r = net->res[l], al = net->res_alpha;
        GS_SIMD
        for (size_t i = 0; i < B * n; i++)
            r[i] = x[i] + al * a[i];
    }
}

static void S(forward)(NET *net, const R *x, size_t B, int train)
{
    assert(B >= 1 && B <= net->max_batch);
    size_t L = net->n_layers;
    const R *in = x; /* [B][n[l]] */
    for (size_t l = 0; l < L; l++) {
        size_t n_in = net->n[l], n_out = net->n[l + 1];
        R *tgt = l + 1 < L && net->norm != GS_NORM_NONE ? net->z[l] : net->h[l];
        /* u_l = in W_l^T: [B][n_in] x [n_out][n_in]^T -> [B][n_out] */
        GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)n_out, (int)n_in, C(1.0), in,
             (int)n_in, net->w[l], (int)n_in, C(0.0), tgt, (int)n_out);
        if (l + 1 < L) {
            S(hidden_forward)(net, l, B, train);
            in = net->out[l];
        } else if (net->bias) {
            S(add_bias)(net->h[l], net->b[l], B, n_out);
        }
    }
}

void P(forward)(NET *net, const R *x, size_t B)
{
    S(forward)(net, x, B, 1);
}

void P(forward_eval)(NET *net, const R *x, size_t B)
{
    S(forward)(net, x, B, 0);
}

/* Cross entropy with a numerically stable log-softmax:
 * log p_j = h_j - m - log sum_k exp(h_k - m), m = max_k h_k; L = -mean_i log p_{i,y_i};
 * dL/dh_ij = (p_ij - [j == y_i]) / B. NaN or Inf in h propagates into the loss. */
static double S(xent)(NET *net, const int32_t *labels, size_t B)
{
    size_t k = net->n[net->n_layers];
    const R *h = net->h[net->n_layers - 1]; /* [B][k] logits */
    R *p = net->prob, *d = net->delta;      /* [B][k] */
    double sum = 0.0;
    R inv_b = C(1.0) / (R)B;
    for (size_t i = 0; i < B; i++) {
        const R *hr = h + i * k;
        R *pr = p + i * k, *dr = d + i * k;
        R m = hr[0];
        double s = 0.0;
        for (size_t j = 1; j < k; j++)
            m = hr[j] > m ? hr[j] : m;
        for (size_t j = 0; j < k; j++) {
            pr[j] = exp(hr[j] - m);
            s += (double)pr[j];
        }
        size_t y = (size_t)labels[i];
        assert(labels[i] >= 0 && y < k);
        sum += (double)m + log(s) - (double)hr[y];
        R inv_s = (R)(1.0 / s);
        for (size_t j = 0; j < k; j++) {
            pr[j] *= inv_s;
            dr[j] = pr[j] * inv_b;
        }
        dr[y] -= inv_b;
    }
    return sum * (1.0 / (double)B);
}

/* MSE, torch.nn.MSELoss convention: L = sum_ij (h_ij - t_ij)^2 / (B k),
 * dL/dh_ij = 2 (h_ij - t_ij) / (B k); t = targets row, or one-hot of the label. */
static double S(mse)(NET *net, const int32_t *labels, const R *targets, size_t B)
{
    size_t k = net->n[net->n_layers];
    const R *h = net->h[net->n_layers - 1]; /* [B][k] outputs */
    R *d = net->delta;                      /* [B][k] */
    double sum = 0.0;
    R scale = (R)(2.0 / ((double)B * (double)k));
    for (size_t i = 0; i < B; i++) {
        for (size_t j = 0; j < k; j++) {
            R t = targets ? targets[i * k + j] : (labels[i] == (int32_t)j ? C(1.0) : C(0.0));
            R r = h[i * k + j] - t;
            double rd = (double)r;
            sum += rd * rd;
            d[i * k + j] = scale * r;
        }
    }
    return sum / ((double)B * (double)k);
}

double P(loss)(NET *net, const int32_t *labels, const R *targets, size_t B)
{
    assert(B >= 1 && B <= net->max_batch);
    assert((labels == NULL) != (targets == NULL));
    if (net->loss == GS_LOSS_CROSS_ENTROPY) {
        assert(labels);
        return S(xent)(net, labels, B);
    }
    return S(mse)(net, labels, targets, B);
}

/* Column sums db[j] = sum_i d[i][j]; d [B][n]. */
static void S(col_sums)(const R *restrict d, R *restrict db, size_t B, size_t n)
{
    memset(db, 0, n * sizeof *db);
    for (size_t i = 0; i < B; i++) {
        GS_SIMD
        for (size_t j = 0; j < n; j++)
            db[j] += d[i * n + j];
    }
}

/* ---- the probe hook (net->probe, probe.h): it reads the transient deltas, writes nothing the
 * pass uses ---- */

/* d [B][n[l+1]] holds delta_l = dL/dh_l: its norm, histogram counts and a copy. */
static void S(probe_delta)(const NET *net, size_t l, const R *d, size_t B)
{
    struct gs_net_probe *p = net->probe;
    size_t m = B * net->n[l + 1];
    if (p->delta_norm)
        p->delta_norm[l] = PNORM(d, m);
    if (p->hist)
        HIST(p->hist, d, m, p->hist_counts + l * p->hist->bins,
             p->hist_out + l * GS_PROBE_HIST_OUT);
    if (p->capture) {
        double *restrict c = p->capture[l];
        for (size_t i = 0; i < m; i++)
            c[i] = (double)d[i];
    }
}

/* d [B][n[l+1]] holds dL/du_l and in [B][n[l]] the layer's input: the row-norm products
 * ||dL/du_l row i|| ||x_l row i|| of the closed-form per-example gradients (docs/probes.md). */
static void S(probe_pe)(const NET *net, size_t l, const R *d, const R *in, size_t B)
{
    struct gs_net_probe *p = net->probe;
    size_t n_in = net->n[l], n_out = net->n[l + 1];
    if (!p->pe_norm)
        return;
    for (size_t i = 0; i < B; i++)
        p->pe_scratch[i] = PNORM(d + i * n_out, n_out) * PNORM(in + i * n_in, n_in);
    p->pe_norm[l] = gs_opt_norm(p->pe_scratch, B);
}

/* Hidden layer l backward: d [B][n] holds dL/d out_l on entry and dL/du_l (the GEMM output) on
 * return. *pend is the layer whose out receives the pending skip gradient in net->skip. */
static void S(hidden_backward)(NET *net, size_t l, R *restrict d, size_t B, size_t *pend)
{
    const ENTRY_T *e = ACT_GET(net->act);
    size_t n = net->n[l + 1];
    if (*pend == l) { /* out_l is a block input: its skip gradient joins here */
        const R *restrict s = net->skip;
        GS_SIMD
        for (size_t i = 0; i < B * n; i++)
            d[i] += s[i];
        *pend = SIZE_MAX;
    }
    if (net->res[l]) { /* block end: res = x + alpha a */
        R *restrict s = net->skip, al = net->res_alpha;
        memcpy(s, d, B * n * sizeof *s);
        *pend = net->res_in[l];
        GS_SIMD
        for (size_t i = 0; i < B * n; i++)
            d[i] *= al;
    }
    if (net->norm == GS_NORM_NONE) {
        e->bwd(d, net->h[l], net->a[l], net->db[l], B, n, net->alpha);
        if (net->probe)
            S(probe_delta)(net, l, d, B);
        return;
    }
    e->bwd(d, net->h[l], net->a[l], net->dbeta[l], B, n, net->alpha);
    if (net->probe)
        S(probe_delta)(net, l, d, B);
    /* h = gamma z + beta: dgamma_j = sum_i d_ij z_ij, dL/dz = d gamma */
    R *restrict dg = net->dgamma[l];
    const R *restrict zz = net->z[l], *restrict ga = net->gamma[l];
    memset(dg, 0, n * sizeof *dg);
    for (size_t i = 0; i < B; i++) {
        GS_SIMD
        for (size_t j = 0; j < n; j++) {
            dg[j] += d[i * n + j] * zz[i * n + j];
            d[i * n + j] *= ga[j];
        }
    }
    S(norm_backward)(net, l, d, B);
    if (net->bias)
        S(col_sums)(d, net->db[l], B, n);
}

/* Back-propagation (the three GEMMs of a layer are forward + these two):
 * dW_l = delta_l^T in_l, delta_{l-1} = delta_l W_l, then hidden_backward for layer l - 1. */
void P(backward)(NET *net, const R *x, size_t B)
{
    assert(B >= 1 && B <= net->max_batch);
    size_t L = net->n_layers, pend = SIZE_MAX;
    R *d = net->delta, *d2 = net->delta2; /* [B][n[l+1]] and [B][n[l]] */
    if (net->bias)
        S(col_sums)(d, net->db[L - 1], B, net->n[L]);
    if (net->probe)
        S(probe_delta)(net, L - 1, d, B);
    for (size_t l = L; l-- > 0;) {
        size_t n_in = net->n[l], n_out = net->n[l + 1];
        const R *in = l == 0 ? x : net->out[l - 1]; /* [B][n_in] */
        if (net->probe)
            S(probe_pe)(net, l, d, in, B);
        /* [n_out][B] x [B][n_in] -> [n_out][n_in] */
        GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_out, (int)n_in, (int)B, C(1.0), d,
             (int)n_out, in, (int)n_in, C(0.0), net->dw[l], (int)n_in);
        if (l == 0)
            break;
        /* [B][n_out] x [n_out][n_in] -> [B][n_in] */
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)n_in, (int)n_out, C(1.0), d,
             (int)n_out, net->w[l], (int)n_in, C(0.0), d2, (int)n_in);
        S(hidden_backward)(net, l - 1, d2, B, &pend);
        R *t = d;
        d = d2;
        d2 = t;
    }
}

void P(grad_norms)(const NET *net, double *norms)
{
    for (size_t l = 0; l < net->n_layers; l++)
        norms[l] = NORM(net->dw[l], net->n[l] * net->n[l + 1]);
}

/* Plain SGD: theta <- theta - lr * grad over the single parameter block, in chunks of at most
 * INT_MAX elements: the CBLAS length is an int, the parameter count is not bounded by it. */
void P(sgd)(NET *net, R lr)
{
    for (size_t off = 0; off < net->n_params; off += INT_MAX) {
        size_t len = net->n_params - off < INT_MAX ? net->n_params - off : INT_MAX;
        AXPY((int)len, -lr, net->grads + off, 1, net->params + off, 1);
    }
}

/* The gradients after the weights in the block: biases, gammas and betas. */
int P(aux_grads_finite)(const NET *net)
{
    size_t L = net->n_layers,
           n_w = (size_t)(net->dw[L - 1] - net->grads) + net->n[L - 1] * net->n[L];
    for (size_t i = n_w; i < net->n_params; i++)
        if (!isfinite(net->grads[i]))
            return 0;
    return 1;
}

#undef C
