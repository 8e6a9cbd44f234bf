/* Template body of the input-output Jacobian, included by jacobian.c once per compute precision
 * with R, NET, P(n), S(n) and R_IS_DOUBLE as for net_impl.h. The net's values (W, gamma, the
 * running variance, h, z, istd) are read in R; every product is formed in double. No include
 * guard: included twice.
 * Per hidden layer l, for one input row (net.h):
 *   d u / d in  = W_l
 *   d h / d u   = I (no norm), diag(gamma / sqrt(run_var + eps)) (batchnorm, evaluation mode) or
 *                 diag(gamma) istd P with P = I - 1 1^T / n - z z^T / n (layernorm, its z and
 *                 istd = 1 / sqrt(var + eps), var the biased variance of the row)
 *   d a / d h   = diag(f'(h))
 *   d out / d in_block = I + res_alpha d a / d in_block at a block end.
 * Forward mode carries d(.)/dx [n][n0] up the layers; reverse mode carries d y / d(.) [n_L][n]
 * down them; each does one GEMM per layer, so the cheaper one has the smaller of n0 and n_L. */

/* Copies W_l [n[l+1]][n[l]] into dst in double. */
static void S(w_copy)(const NET *net, size_t l, double *restrict dst)
{
    const R *restrict w = net->w[l];
    size_t count = net->n[l] * net->n[l + 1];
    for (size_t i = 0; i < count; i++)
        dst[i] = (double)w[i];
}

/* W_l in double: the net's own matrix in float64, a copy in buf in float32. */
static const double *S(w_double)(const NET *net, size_t l, double *buf)
{
#if R_IS_DOUBLE
    (void)buf;
    return net->w[l];
#else
    S(w_copy)(net, l, buf);
    return buf;
#endif
}

static jac_layout S(layout)(const NET *net, double *work)
{
    size_t L = net->n_layers, m = 0, k = net->n[0] < net->n[L] ? net->n[0] : net->n[L];
    for (size_t l = 0; l <= L; l++)
        m = net->n[l] > m ? net->n[l] : m;
    size_t wmax = 0;
#if !R_IS_DOUBLE
    for (size_t l = 0; l < L; l++)
        wmax = net->n[l] * net->n[l + 1] > wmax ? net->n[l] * net->n[l + 1] : wmax;
#endif
    return jac_layout_make(m, k, net->n[0], wmax, work);
}

size_t P(jacobian_work)(const NET *net)
{
    return S(layout)(net, NULL).total;
}

/* d [n] = the diagonal part of d a_l / d u_l: f'(h_j), times gamma_j / sqrt(run_var_j + eps)
 * with batchnorm or gamma_j istd with layernorm (whose projection P the callers apply). */
static void S(unit_scale)(const NET *net, size_t l, double *restrict d)
{
    size_t n = net->n[l + 1];
    const R *restrict h = net->h[l];
    double al = (double)net->alpha, eps = (double)net->norm_eps;
    for (size_t j = 0; j < n; j++)
        d[j] = gs_act_df(net->act, al, (double)h[j]);
    if (net->norm == GS_NORM_BATCHNORM) {
        const R *restrict ga = net->gamma[l], *restrict rv = net->run_var[l];
        for (size_t j = 0; j < n; j++)
            d[j] *= (double)ga[j] * (1.0 / sqrt((double)rv[j] + eps));
    } else if (net->norm == GS_NORM_LAYERNORM) {
        const R *restrict ga = net->gamma[l];
        double is = (double)net->istd[l][0];
        for (size_t j = 0; j < n; j++)
            d[j] *= (double)ga[j] * is;
    }
}

/* Forward mode through hidden layer l: Jm [n][c] = d u_l / dx on entry, d a_l / dx on return
 * (rows scaled by d after the layernorm projection P Jm). col [2c] scratch. */
static void S(fwd_hidden)(const NET *net, size_t l, double *restrict Jm, size_t c,
                          double *restrict d, double *restrict col)
{
    size_t n = net->n[l + 1];
    S(unit_scale)(net, l, d);
    if (net->norm != GS_NORM_LAYERNORM) {
        for (size_t j = 0; j < n; j++)
            for (size_t q = 0; q < c; q++)
                Jm[j * c + q] *= d[j];
        return;
    }
    const R *restrict z = net->z[l];
    double *restrict m1 = col, *restrict mz = col + c; /* 1^T Jm / n and z^T Jm / n */
    memset(col, 0, 2 * c * sizeof *col);
    for (size_t j = 0; j < n; j++) {
        double zj = (double)z[j];
        for (size_t q = 0; q < c; q++) {
            m1[q] += Jm[j * c + q];
            mz[q] += zj * Jm[j * c + q];
        }
    }
    for (size_t q = 0; q < c; q++) {
        m1[q] /= (double)n;
        mz[q] /= (double)n;
    }
    for (size_t j = 0; j < n; j++) {
        double zj = (double)z[j];
        for (size_t q = 0; q < c; q++)
            Jm[j * c + q] = d[j] * (Jm[j * c + q] - m1[q] - zj * mz[q]);
    }
}

/* Reverse mode through hidden layer l: G [r][n] = d y / d a_l on entry, d y / d u_l on return:
 * each row g becomes (g diag(d)) P, P symmetric. */
static void S(rev_hidden)(const NET *net, size_t l, double *restrict G, size_t r,
                          double *restrict d)
{
    size_t n = net->n[l + 1];
    S(unit_scale)(net, l, d);
    for (size_t i = 0; i < r; i++) {
        double *restrict g = G + i * n;
        for (size_t j = 0; j < n; j++)
            g[j] *= d[j];
        if (net->norm != GS_NORM_LAYERNORM)
            continue;
        const R *restrict z = net->z[l];
        double s1 = 0.0, sz = 0.0;
        for (size_t j = 0; j < n; j++) {
            s1 += g[j];
            sz += g[j] * (double)z[j];
        }
        s1 /= (double)n;
        sz /= (double)n;
        for (size_t j = 0; j < n; j++)
            g[j] -= s1 + (double)z[j] * sz;
    }
}

/* Whether out_l is the input of a residual block. *e is the first block end after the l it was
 * last advanced for (or H); blocks are consecutive, so only that block can start at l. */
static int S(block_input)(const NET *net, size_t l, size_t *e)
{
    size_t H = net->n_layers - 1;
    if (*e <= l)
        for (*e = l + 1; *e < H && net->res_in[*e] == SIZE_MAX;)
            (*e)++;
    return *e < H && net->res_in[*e] == l;
}

/* Forward mode, n0 columns: Jm_l = W_l Jm_{l-1} (Jm_0 = W_0), through each hidden layer, the
 * pending block input's Jacobian kept in w.skip; the readout's product lands in J. */
static void S(jac_forward)(const NET *net, double *J, jac_layout w)
{
    size_t L = net->n_layers, c = net->n[0], e = 0;
    double ra = (double)net->res_alpha;
    const double *cur = NULL;
    for (size_t l = 0; l < L; l++) {
        size_t n_in = net->n[l], n_out = net->n[l + 1];
        double *dst = l + 1 == L ? J : w.buf[l % 2]; /* [n_out][c] */
        if (l == 0)
            S(w_copy)(net, 0, dst);
        else /* [n_out][n_in] x [n_in][c] */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n_out, (int)c, (int)n_in,
                        1.0, S(w_double)(net, l, w.wbuf), (int)n_in, cur, (int)c, 0.0, dst, (int)c);
        if (l + 1 == L)
            break;
        S(fwd_hidden)(net, l, dst, c, w.d, w.col);
        if (net->res[l]) /* out = x_in + alpha a */
            for (size_t i = 0; i < n_out * c; i++)
                dst[i] = w.skip[i] + ra * dst[i];
        if (S(block_input)(net, l, &e))
            memcpy(w.skip, dst, n_out * c * sizeof *dst);
        cur = dst;
    }
}

/* Reverse mode, n_L rows: G = W_{L-1}, then down the hidden layers as back-propagation does
 * (a block end hands G to its input through w.skip), G W_l into the next G or, at l = 0, J. */
static void S(jac_reverse)(const NET *net, double *J, jac_layout w)
{
    size_t L = net->n_layers, r = net->n[L], pend = SIZE_MAX;
    double ra = (double)net->res_alpha, *G = w.buf[0]; /* [r][n[l+1]] = d y / d out_l */
    S(w_copy)(net, L - 1, L == 1 ? J : G);
    for (size_t l = L - 1; l-- > 0;) {
        size_t n = net->n[l + 1], n_in = net->n[l];
        if (pend == l) { /* out_l is a block input: its skip term joins */
            for (size_t i = 0; i < r * n; i++)
                G[i] += w.skip[i];
            pend = SIZE_MAX;
        }
        if (net->res[l]) { /* out = x_in + alpha a */
            assert(pend == SIZE_MAX);
            memcpy(w.skip, G, r * n * sizeof *G);
            pend = net->res_in[l];
            for (size_t i = 0; i < r * n; i++)
                G[i] *= ra;
        }
        S(rev_hidden)(net, l, G, r, w.d);
        double *dst = l == 0 ? J : G == w.buf[0] ? w.buf[1] : w.buf[0]; /* [r][n_in] */
        /* [r][n] x [n][n_in] */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)r, (int)n_in, (int)n, 1.0, G,
                    (int)n, S(w_double)(net, l, w.wbuf), (int)n_in, 0.0, dst, (int)n_in);
        G = dst;
    }
}

void P(jacobian)(NET *net, const R *x, double *J, double *work)
{
    size_t L = net->n_layers;
    P(forward_eval)(net, x, 1);
    /* A diverged forward (NaN or Inf output) has no meaningful Jacobian, and a relu, whose f' is
     * 0 at NaN, could hide it: NaNs, as the spectrum probe expects. */
    for (size_t i = 0; i < net->n[L]; i++)
        if (!isfinite(net->h[L - 1][i])) {
            for (size_t j = 0; j < net->n[L] * net->n[0]; j++)
                J[j] = (double)NAN;
            return;
        }
    jac_layout w = S(layout)(net, work);
    if (net->n[0] <= net->n[L])
        S(jac_forward)(net, J, w);
    else
        S(jac_reverse)(net, J, w);
}
