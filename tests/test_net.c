/* Unit tests of the network core besides its gradients (test_gradcheck.c): forward passes and
 * losses against a naive implementation of the definitions in net.h (every activation x norm x
 * residual layout, with and without biases, per-layer widths), batchnorm's running statistics and
 * evaluation mode in float64 and float32, layernorm's evaluation mode, activation values at
 * chosen points, and the create errors a config can trigger. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "check.h"
#include "gradsweep/net.h"

enum { MAXW = 8, MAXB = 8, MAXH = 8 }; /* bounds of the reference's buffers */

/* Batchnorm running statistics of each hidden layer, tracked by the reference. */
typedef struct {
    double mean[MAXH][MAXW], var[MAXH][MAXW];
} runstats;

static void runstats_init(runstats *rs)
{
    for (size_t l = 0; l < MAXH; l++)
        for (size_t j = 0; j < MAXW; j++) {
            rs->mean[l][j] = 0.0;
            rs->var[l][j] = 1.0;
        }
}

/* Normalizes u [B][n] of hidden layer l in place, straight from the definitions: layernorm over
 * each row, batchnorm over each unit with the batch statistics (train; biased variance, and the
 * running statistics r = (1 - m) r + m s with the unbiased variance) or the running ones. */
static void ref_norm(const gs_run_config *cfg, size_t l, double *u, size_t B, size_t n, int train,
                     runstats *rs)
{
    double eps = cfg->norm_eps, mom = cfg->norm_momentum;
    if (cfg->norm == GS_NORM_LAYERNORM) {
        for (size_t i = 0; i < B; i++) {
            double m = 0.0, v = 0.0;
            for (size_t j = 0; j < n; j++)
                m += u[i * n + j] / (double)n;
            for (size_t j = 0; j < n; j++)
                v += (u[i * n + j] - m) * (u[i * n + j] - m) / (double)n;
            for (size_t j = 0; j < n; j++)
                u[i * n + j] = (u[i * n + j] - m) / sqrt(v + eps);
        }
        return;
    }
    for (size_t j = 0; j < n; j++) {
        double m = 0.0, v = 0.0;
        for (size_t i = 0; i < B; i++)
            m += u[i * n + j] / (double)B;
        for (size_t i = 0; i < B; i++)
            v += (u[i * n + j] - m) * (u[i * n + j] - m);
        if (train) {
            rs->mean[l][j] = (1.0 - mom) * rs->mean[l][j] + mom * m;
            rs->var[l][j] = (1.0 - mom) * rs->var[l][j] + mom * v / (double)(B - 1);
            v /= (double)B;
        } else {
            m = rs->mean[l][j];
            v = rs->var[l][j];
        }
        for (size_t i = 0; i < B; i++)
            u[i * n + j] = (u[i * n + j] - m) / sqrt(v + eps);
    }
}

/* The forward pass of net's parameters on x [B][n0] into out [B][k] with loops, from net.h and
 * the config alone: u = in W^T (+ b), norm, h = gamma z + beta, a = f(h), and residual blocks of
 * k = residual_every hidden layers from hidden layer 2 on, each ending in x_in + alpha a, a
 * trailing partial block without a skip. */
static void ref_forward(const gs_net *net, const gs_run_config *cfg, const double *x, size_t B,
                        int train, runstats *rs, double *out)
{
    size_t L = net->n_layers, k = (size_t)cfg->residual_every;
    double in[MAXB * MAXW] = {0}, u[MAXB * MAXW] = {0}, blk[MAXB * MAXW] = {0};
    double al = gs_act_alpha(cfg);
    int fits = B <= MAXB && L - 1 <= MAXH;
    for (size_t l = 0; l <= L; l++)
        fits = fits && net->n[l] <= MAXW;
    CHECK(fits);
    if (!fits)
        return;
    memcpy(in, x, B * net->n[0] * sizeof *in);
    for (size_t l = 0; l < L; l++) {
        size_t ni = net->n[l], no = net->n[l + 1], i_h = l + 1; /* hidden layer number */
        for (size_t i = 0; i < B; i++)
            for (size_t o = 0; o < no; o++) {
                double s = cfg->bias ? net->b[l][o] : 0.0;
                for (size_t q = 0; q < ni; q++)
                    s += in[i * ni + q] * net->w[l][o * ni + q];
                u[i * no + o] = s;
            }
        if (l + 1 == L) {
            memcpy(out, u, B * no * sizeof *out);
            return;
        }
        if (cfg->norm != GS_NORM_NONE) {
            ref_norm(cfg, l, u, B, no, train, rs);
            for (size_t i = 0; i < B * no; i++)
                u[i] = net->gamma[l][i % no] * u[i] + net->beta[l][i % no];
        }
        for (size_t i = 0; i < B * no; i++) {
            double a = gs_act_f(cfg->activation, al, u[i]);
            in[i] = k > 0 && i_h >= 2 && (i_h - 1) % k == 0 ? blk[i] + cfg->residual_alpha * a : a;
        }
        if (k > 0 && (i_h - 1) % k == 0) /* the input of the next block */
            memcpy(blk, in, B * no * sizeof *blk);
    }
}

/* Mean loss of outputs o [B][k] from the definitions: cross entropy by log-sum-exp, or mse
 * against t (or one-hot labels when t is NULL). */
static double ref_loss(int loss, const double *o, size_t B, size_t k, const int32_t *y,
                       const double *t)
{
    double sum = 0.0;
    for (size_t i = 0; i < B; i++) {
        if (loss == GS_LOSS_CROSS_ENTROPY) {
            double z = 0.0;
            for (size_t j = 0; j < k; j++)
                z += exp(o[i * k + j]);
            sum += (log(z) - o[i * k + (size_t)y[i]]) / (double)B;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            double tj = t ? t[i * k + j] : (size_t)y[i] == j ? 1.0 : 0.0;
            sum += (o[i * k + j] - tj) * (o[i * k + j] - tj) / (double)(B * k);
        }
    }
    return sum;
}

/* A config of the kind test_gradcheck.c uses: depth 4 with widths 4,3,4,5 and residual blocks of
 * two (a trailing partial block), or depth 3 with widths 5,3,4 without skips. */
static void small_config(gs_run_config *cfg, int act, int norm, int res, int bias)
{
    gs_config_defaults(cfg);
    cfg->activation = act;
    cfg->leaky_alpha = 0.2;
    cfg->elu_alpha = 0.6;
    cfg->sigma_w = 1.5;
    cfg->sigma_b = 0.3;
    cfg->norm = norm;
    cfg->bias = bias;
    cfg->depth = res ? 4 : 3;
    cfg->residual_every = res ? 2 : 0;
    cfg->residual_alpha = 0.7;
    snprintf(cfg->width_list, sizeof cfg->width_list, "%s", res ? "4,3,4,5" : "5,3,4");
    cfg->width = res ? 4 : 5;
}

/* A float64 net for cfg with drawn parameters and random gamma, beta; NULL on failure. */
static gs_net *make_net(const gs_run_config *cfg, size_t d_in, size_t d_out, size_t max_batch,
                        gsl_rng *rng)
{
    gs_net *net = NULL;
    CHECK_EQ_INT(gs_net_create(&net, cfg, d_in, d_out, max_batch, NULL), GS_OK);
    if (!net)
        return NULL;
    CHECK_EQ_INT(gs_net_init(net, cfg, rng, NULL), GS_OK);
    for (size_t l = 0; net->gamma && l + 1 < net->n_layers; l++)
        for (size_t j = 0; j < net->n[l + 1]; j++) {
            net->gamma[l][j] = 1.0 + gsl_ran_gaussian(rng, 0.3);
            net->beta[l][j] = gsl_ran_gaussian(rng, 0.3);
        }
    return net;
}

/* Largest |a - b| / (1 + |b|) over n entries; a float32 or float64 net output against b. */
static double max_diff_d(const double *a, const double *b, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs(a[i] - b[i]) / (1.0 + fabs(b[i])));
    return e;
}

static double max_diff_f(const float *a, const double *b, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs((double)a[i] - b[i]) / (1.0 + fabs(b[i])));
    return e;
}

/* Training-mode forward and the three losses against the reference, for every activation x
 * norm x residual layout, with and without biases. */
static void forward_matches(void)
{
    enum { B = 5, D = 3, K = 4 };
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    for (int act = 0; act < GS_ACT__COUNT; act++)
        for (int norm = 0; norm < GS_NORM__COUNT; norm++)
            for (int res = 0; res < 2; res++) {
                gs_run_config cfg;
                small_config(&cfg, act, norm, res, (act + norm + res) % 2);
                gs_net *net = make_net(&cfg, D, K, B, rng);
                if (!net)
                    continue;
                double x[B * D], t[B * K], want[B * K];
                int32_t y[B];
                runstats rs;
                runstats_init(&rs);
                for (size_t i = 0; i < B * D; i++)
                    x[i] = gsl_ran_gaussian(rng, 1.0);
                for (size_t i = 0; i < B * K; i++)
                    t[i] = gsl_ran_gaussian(rng, 1.0);
                for (size_t i = 0; i < B; i++)
                    y[i] = (int32_t)gsl_rng_uniform_int(rng, K);
                ref_forward(net, &cfg, x, B, 1, &rs, want);
                gs_net_forward(net, x, B);
                double err = max_diff_d(net->h[net->n_layers - 1], want, B * K);
                if (!(err < 1e-12))
                    fprintf(stderr, "forward %s/%s/res %d: error %.3g\n", gs_act_names[act],
                            gs_norm_names[norm], res, err);
                CHECK(err < 1e-12);
                net->loss = GS_LOSS_CROSS_ENTROPY; /* read by gs_net_loss alone */
                CHECK_NEAR(gs_net_loss(net, y, NULL, B), ref_loss(net->loss, want, B, K, y, NULL),
                           1e-12, 1e-14);
                net->loss = GS_LOSS_MSE;
                CHECK_NEAR(gs_net_loss(net, y, NULL, B), ref_loss(net->loss, want, B, K, y, NULL),
                           1e-12, 1e-14);
                CHECK_NEAR(gs_net_loss(net, NULL, t, B), ref_loss(net->loss, want, B, K, NULL, t),
                           1e-12, 1e-14);
                gs_net_destroy(net);
            }
    gsl_rng_free(rng);
}

/* The running statistics of net (float64) and nf (float32) against rs. */
static void check_runstats(const gs_net *net, const gs_netf *nf, const runstats *rs, double tol32)
{
    double e64 = 0.0, e32 = 0.0;
    for (size_t l = 0; l + 1 < net->n_layers; l++) {
        size_t n = net->n[l + 1];
        e64 = fmax(e64, fmax(max_diff_d(net->run_mean[l], rs->mean[l], n),
                             max_diff_d(net->run_var[l], rs->var[l], n)));
        e32 = fmax(e32, fmax(max_diff_f(nf->run_mean[l], rs->mean[l], n),
                             max_diff_f(nf->run_var[l], rs->var[l], n)));
    }
    CHECK(e64 < 1e-13);
    CHECK(e32 < tol32);
}

/* A copy of the running statistics of net and nf (the double and the float block). */
static void save_runstats(const gs_net *net, const gs_netf *nf, double *d, float *f)
{
    for (size_t l = 0, p = 0; l + 1 < net->n_layers; l++)
        for (size_t j = 0; j < net->n[l + 1]; j++, p += 2) {
            d[p] = net->run_mean[l][j];
            d[p + 1] = net->run_var[l][j];
            f[p] = nf->run_mean[l][j];
            f[p + 1] = nf->run_var[l][j];
        }
}

/* Batchnorm: after training forwards on batches of 6, 4 and 5 rows, the running statistics are
 * those tracked by hand (r = (1 - m) r + m s, unbiased variance for the running variance), and
 * forward_eval on new batches (3 rows, then 1) equals the reference with those statistics and
 * leaves them bitwise unchanged. float64 and float32 (parameters and inputs float values, so both
 * see the same numbers; float32 within 1e-5 ~ 170 u, measured worst 4e-7). */
static void batchnorm_eval(void)
{
    enum { D = 3, K = 2, MB = 6, NS = 2 * (4 + 3 + 4 + 5) };
    const size_t train_rows[] = {6, 4, 5}, eval_rows[] = {3, 1};
    for (int res = 0; res < 2; res++) {
        gs_run_config cfg;
        small_config(&cfg, GS_ACT_TANH, GS_NORM_BATCHNORM, res, !res);
        cfg.norm_momentum = 0.3;
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(rng, 21 + (unsigned long)res);
        gs_net *net = make_net(&cfg, D, K, MB, rng);
        gs_netf *nf = NULL;
        CHECK_EQ_INT(gs_netf_create(&nf, &cfg, D, K, MB, NULL), GS_OK);
        if (!net || !nf)
            goto next;
        for (size_t i = 0; i < net->n_params; i++)
            net->params[i] = (double)(nf->params[i] = (float)net->params[i]);
        runstats rs;
        runstats_init(&rs);
        check_runstats(net, nf, &rs, 1e-30); /* create: mean 0, variance 1, exactly */
        double x[MB * D], want[MB * K], sd[NS] = {0};
        float xf[MB * D], sf[NS] = {0};
        for (size_t s = 0; s < 5; s++) {
            int train = s < 3;
            size_t B = train ? train_rows[s] : eval_rows[s - 3];
            for (size_t i = 0; i < B * D; i++)
                x[i] = (double)(xf[i] = (float)gsl_ran_gaussian(rng, 1.5));
            ref_forward(net, &cfg, x, B, train, &rs, want);
            if (!train)
                save_runstats(net, nf, sd, sf);
            (train ? gs_net_forward : gs_net_forward_eval)(net, x, B);
            (train ? gs_netf_forward : gs_netf_forward_eval)(nf, xf, B);
            CHECK(max_diff_d(net->h[net->n_layers - 1], want, B * K) < 1e-12);
            CHECK(max_diff_f(nf->h[nf->n_layers - 1], want, B * K) < 1e-5);
            check_runstats(net, nf, &rs, 1e-5);
            if (!train) { /* evaluation leaves the statistics bitwise alone */
                double sd2[NS] = {0};
                float sf2[NS] = {0};
                save_runstats(net, nf, sd2, sf2);
                CHECK(memcmp(sd, sd2, sizeof sd) == 0 && memcmp(sf, sf2, sizeof sf) == 0);
            }
        }
        CHECK(net->run_var[0][0] != 1.0 && net->run_mean[0][0] != 0.0); /* they did move */
    next:
        gs_net_destroy(net);
        gs_netf_destroy(nf);
        gsl_rng_free(rng);
    }
}

/* Layernorm has no running statistics: forward_eval is forward, bitwise, in every hidden layer
 * and the output, float64 and float32; and a single row is normalized by itself. */
static void layernorm_eval(void)
{
    enum { D = 3, K = 2, B = 5 };
    gs_run_config cfg;
    small_config(&cfg, GS_ACT_GELU, GS_NORM_LAYERNORM, 1, 1);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    gs_net *net = make_net(&cfg, D, K, B, rng);
    gs_netf *nf = NULL;
    CHECK_EQ_INT(gs_netf_create(&nf, &cfg, D, K, B, NULL), GS_OK);
    if (!net || !nf)
        goto done;
    CHECK(net->run_mean == NULL && net->run_var == NULL);
    for (size_t i = 0; i < net->n_params; i++)
        nf->params[i] = (float)net->params[i];
    double x[B * D], h[B * MAXW * MAXH], want[B * K];
    float xf[B * D], hf[B * MAXW * MAXH];
    size_t out = 0; /* where the output layer starts in h */
    for (size_t i = 0; i < B * D; i++)
        x[i] = (double)(xf[i] = (float)gsl_ran_gaussian(rng, 1.0));
    for (int pass = 0; pass < 2; pass++) {
        (pass ? gs_net_forward_eval : gs_net_forward)(net, x, B);
        (pass ? gs_netf_forward_eval : gs_netf_forward)(nf, xf, B);
        for (size_t l = 0, p = 0; l < net->n_layers; l++) {
            out = p;
            for (size_t i = 0; i < B * net->n[l + 1]; i++, p++) {
                if (pass == 0) {
                    h[p] = net->h[l][i];
                    hf[p] = nf->h[l][i];
                } else {
                    CHECK(memcmp(&h[p], &net->h[l][i], sizeof h[p]) == 0);
                    CHECK(memcmp(&hf[p], &nf->h[l][i], sizeof hf[p]) == 0);
                }
            }
        }
    }
    runstats rs; /* unused by layernorm */
    runstats_init(&rs);
    ref_forward(net, &cfg, x + D, 1, 0, &rs, want);
    gs_net_forward_eval(net, x + D, 1);
    CHECK(max_diff_d(net->h[net->n_layers - 1], want, K) < 1e-12);
    CHECK(max_diff_d(net->h[net->n_layers - 1], h + out + K, K) < 1e-12); /* row 1 of the batch */
done:
    gs_net_destroy(net);
    gs_netf_destroy(nf);
    gsl_rng_free(rng);
}

/* Both precisions refuse cfg with GS_EINVAL and exactly the message msg (or, with sub, a message
 * containing it), leaving *out NULL. */
static void refused(const gs_run_config *cfg, size_t max_batch, const char *msg, int sub)
{
    gs_net sentinel, *net = &sentinel;
    gs_netf sentinelf, *nf = &sentinelf;
    gs_error err, errf;
    CHECK_EQ_INT(gs_net_create(&net, cfg, 3, 2, max_batch, &err), GS_EINVAL);
    CHECK_EQ_INT(gs_netf_create(&nf, cfg, 3, 2, max_batch, &errf), GS_EINVAL);
    CHECK(net == NULL && nf == NULL);
    if (sub)
        CHECK_HAS_STR(err.msg, msg);
    else
        CHECK_EQ_STR(err.msg, msg);
    CHECK_EQ_STR(errf.msg, err.msg);
}

/* Both precisions accept cfg, and a training step on max_batch rows (zero inputs, label 0) and
 * an evaluation pass run (the sanitizer build checks their memory accesses). */
static void accepted(const gs_run_config *cfg, size_t max_batch)
{
    gs_net *net = NULL;
    gs_netf *nf = NULL;
    double x[3 * MAXB] = {0};
    float xf[3 * MAXB] = {0};
    int32_t y[MAXB] = {0};
    CHECK_EQ_INT(gs_net_create(&net, cfg, 3, 2, max_batch, NULL), GS_OK);
    CHECK_EQ_INT(gs_netf_create(&nf, cfg, 3, 2, max_batch, NULL), GS_OK);
    if (net && nf && max_batch <= MAXB) {
        gs_net_forward(net, x, max_batch);
        CHECK(isfinite(gs_net_loss(net, y, NULL, max_batch)));
        gs_net_backward(net, x, max_batch);
        gs_net_forward_eval(net, x, max_batch);
        gs_netf_forward(nf, xf, max_batch);
        CHECK(isfinite(gs_netf_loss(nf, y, NULL, max_batch)));
        gs_netf_backward(nf, xf, max_batch);
        gs_netf_forward_eval(nf, xf, max_batch);
        CHECK(gs_net_aux_grads_finite(net) && gs_netf_aux_grads_finite(nf));
    }
    gs_net_destroy(net);
    gs_netf_destroy(nf);
}

/* The create errors of norms, residual blocks and per-layer widths, in both precisions. */
static void create_errors(void)
{
    gs_run_config cfg;
    small_config(&cfg, GS_ACT_TANH, GS_NORM_BATCHNORM, 0, 1);
    refused(&cfg, 1, "net: batchnorm needs at least 2 rows per batch, got 1", 0);
    accepted(&cfg, 2);
    cfg.norm = GS_NORM_LAYERNORM; /* normalizes each row by itself */
    accepted(&cfg, 1);
    cfg.norm = GS_NORM__COUNT;
    refused(&cfg, 4, "net: unknown norm 3", 0);
    cfg.norm = -1;
    refused(&cfg, 4, "net: unknown norm -1", 0);
    cfg.norm = GS_NORM_LAYERNORM;
    cfg.norm_eps = 0.0;
    refused(&cfg, 4, "model.norm_eps must be finite and > 0", 1);
    cfg.norm_eps = 1e-5;
    cfg.norm_momentum = 1.5;
    refused(&cfg, 4, "norm_momentum in [0, 1], got 1e-05, 1.5", 1);
    cfg.norm_momentum = 0.1;
    /* per-layer widths: one entry per hidden layer */
    snprintf(cfg.width_list, sizeof cfg.width_list, "5,3");
    refused(&cfg, 4, "net: no width for hidden layer 3 (model.width)", 0);
    snprintf(cfg.width_list, sizeof cfg.width_list, "5,0,4");
    refused(&cfg, 4, "net: no width for hidden layer 2 (model.width)", 0);
    /* residual blocks: a skip needs the block's input and output widths equal; the message names
     * the block's hidden layers */
    cfg.residual_every = 1;
    snprintf(cfg.width_list, sizeof cfg.width_list, "4,5,5");
    refused(&cfg, 4,
            "net: residual block of hidden layers 2..2 maps 4 units to 5; a skip needs equal "
            "widths",
            0);
    cfg.depth = 4;
    cfg.residual_every = 2;
    snprintf(cfg.width_list, sizeof cfg.width_list, "4,3,5,6");
    refused(&cfg, 4,
            "net: residual block of hidden layers 2..3 maps 4 units to 5; a skip needs equal "
            "widths",
            0);
    snprintf(cfg.width_list, sizeof cfg.width_list, "4,3,4,9"); /* a trailing partial block */
    accepted(&cfg, 4);
    cfg.depth = 5;
    snprintf(cfg.width_list, sizeof cfg.width_list, "4,3,4,6,7");
    refused(&cfg, 4,
            "net: residual block of hidden layers 4..5 maps 4 units to 7; a skip needs equal "
            "widths",
            0);
    cfg.depth = 0; /* no hidden layer: nothing to normalize or skip */
    cfg.norm = GS_NORM_BATCHNORM;
    accepted(&cfg, 3);
    cfg.depth = 5;
    cfg.residual_every = -1;
    refused(&cfg, 4, "model.residual_every must be >= 0", 1);
    cfg.residual_every = 2;
    cfg.residual_alpha = (double)NAN;
    refused(&cfg, 4, "residual_alpha finite and >= 0", 1);
}

/* Shape errors, the size limits of CBLAS, and SGD over the parameter block. */
static void bad_shapes(void)
{
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    cfg.depth = 2;
    cfg.width = 4;
    gs_net *net = (gs_net *)&cfg; /* must be reset to NULL on failure */
    gs_error err;
    cfg.width = 0;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK(net == NULL);
    CHECK_HAS_STR(err.msg, "width");
    cfg.width = 4;
    cfg.depth = -1;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "depth");
    cfg.depth = 0;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 0, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "d_in=0");
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 0, 4, &err), GS_EINVAL);
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 0, &err), GS_EINVAL);
    cfg.activation = 42;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "activation");
    cfg.activation = GS_ACT_TANH;
    cfg.width = INT64_C(1) << 40; /* sizes overflow or cannot be allocated: an error, no crash */
    cfg.depth = 3;
    gs_status st = gs_net_create(&net, &cfg, 3, 2, 4, &err);
    CHECK(st == GS_EINVAL || st == GS_ENOMEM);
    CHECK(net == NULL);
    /* CBLAS dimensions are int: a layer or batch above INT_MAX is refused before any large
     * allocation, naming the layer (a cast would silently truncate) */
    cfg.width = 4;
    cfg.depth = 1;
    size_t big = (size_t)INT_MAX + 1;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, big, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: layer 0 (2147483648 -> 4 units) has a dimension above INT_MAX");
    CHECK(net == NULL);
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, big, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: layer 1 (4 -> 2147483648 units)");
    cfg.width = (int64_t)big;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: layer 0 (3 -> 2147483648 units)");
    cfg.width = 4;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, big, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "net: batch of 2147483648 rows exceeds INT_MAX");
    CHECK(net == NULL);
    cfg.depth = 3;
    CHECK_EQ_INT(gs_net_create(&net, &cfg, 3, 2, 4, &err), GS_OK);
    CHECK_EQ_INT(net->n_layers, 4);
    CHECK_EQ_INT(net->n_params, 3 * 4 + 4 * 4 * 2 + 4 * 2 + 4 * 3 + 2);
    if (net) {
        /* SGD over the whole block: params -= lr * grads, element by element */
        for (size_t i = 0; i < net->n_params; i++) {
            net->params[i] = (double)i;
            net->grads[i] = 0.5 * (double)i - 3.0;
        }
        gs_net_sgd(net, 0.25);
        int same = 1;
        for (size_t i = 0; i < net->n_params; i++)
            same = same && net->params[i] == (double)i - 0.25 * (0.5 * (double)i - 3.0);
        CHECK(same);
    }
    gs_net_destroy(net);
    gs_net_destroy(NULL);
}

/* Values at chosen points (references: the closed forms in long double / mpmath) and the
 * conventions at the kinks. */
static void act_values(void)
{
    const double L = 1.0507009873554804934, A = 1.6732632423543772848;
    CHECK(gs_act_df(GS_ACT_RELU, 0, 0.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_RELU, 0, -2.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_SIGMOID, 0, -1000.0) == 0.0);
    CHECK(gs_act_f(GS_ACT_SIGMOID, 0, 1000.0) == 1.0);
    CHECK_NEAR(gs_act_f(GS_ACT_TANH, 0, 0.3), tanh(0.3), 0, 0);
    /* leaky_relu: slope alpha for x <= 0, f'(0) = alpha */
    CHECK(gs_act_f(GS_ACT_LEAKY_RELU, 0.1, -2.0) == 0.1 * -2.0);
    CHECK(gs_act_f(GS_ACT_LEAKY_RELU, 0.1, 3.0) == 3.0);
    CHECK(gs_act_df(GS_ACT_LEAKY_RELU, 0.1, 0.0) == 0.1);
    CHECK(gs_act_df(GS_ACT_LEAKY_RELU, 0.1, 1e-300) == 1.0);
    /* elu: alpha (e^x - 1), f'(0) = alpha */
    CHECK_NEAR(gs_act_f(GS_ACT_ELU, 1.0, -1.0), -0.63212055882855767840, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_ELU, 0.5, -1e-20), -0.5e-20, 1e-15, 0); /* expm1, not exp - 1 */
    CHECK(gs_act_df(GS_ACT_ELU, 0.5, 0.0) == 0.5);
    CHECK(gs_act_f(GS_ACT_ELU, 0.5, 2.0) == 2.0);
    /* selu: the standard constants */
    CHECK_NEAR(gs_act_f(GS_ACT_SELU, 0, 1.0), 1.0507009873554804934, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_SELU, 0, -1.0), -1.1113307378125628, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_SELU, 0, -1000.0), -L * A, 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SELU, 0, 0.0), L * A, 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SELU, 0, 0.5), L, 0, 0);
    /* gelu, exact erf form: gelu(1) = Phi(1); the tail does not cancel to 0 */
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, 1.0), 0.8413447460685429, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, -1.0), -0.15865525393145705, 1e-15, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, -10.0), -7.6198530241605260e-23, 1e-13, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_GELU, 0, 0.0), 0.5, 0, 0);
    CHECK_NEAR(gs_act_f(GS_ACT_GELU, 0, 0.5), 0.34573123063700656, 1e-15, 0); /* not tanh approx */
    /* softplus: stable in both tails */
    double sp = gs_act_f(GS_ACT_SOFTPLUS, 0, -50.0);
    CHECK(isfinite(sp));
    CHECK_NEAR(sp, exp(-50.0), 1e-15, 0);
    CHECK(gs_act_f(GS_ACT_SOFTPLUS, 0, 50.0) == 50.0);
    CHECK(gs_act_f(GS_ACT_SOFTPLUS, 0, 1000.0) == 1000.0);
    CHECK(gs_act_f(GS_ACT_SOFTPLUS, 0, -1000.0) == 0.0);
    CHECK_NEAR(gs_act_f(GS_ACT_SOFTPLUS, 0, 0.0), log(2.0), 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SOFTPLUS, 0, -50.0), exp(-50.0), 1e-15, 0);
    /* swish = silu, bitwise */
    CHECK_NEAR(gs_act_f(GS_ACT_SWISH, 0, 1.0), 0.7310585786300049, 1e-15, 0);
    CHECK_NEAR(gs_act_df(GS_ACT_SWISH, 0, 1.0), 0.9276705118714867, 1e-15, 0);
    for (double x = -40.0; x <= 40.0; x += 0.37) {
        CHECK(gs_act_f(GS_ACT_SWISH, 0, x) == gs_act_f(GS_ACT_SILU, 0, x));
        CHECK(gs_act_df(GS_ACT_SWISH, 0, x) == gs_act_df(GS_ACT_SILU, 0, x));
    }
    CHECK(gs_act_f(GS_ACT_SWISH, 0, 1000.0) == 1000.0);
    /* softsign */
    CHECK(gs_act_f(GS_ACT_SOFTSIGN, 0, 3.0) == 0.75);
    CHECK(gs_act_f(GS_ACT_SOFTSIGN, 0, -3.0) == -0.75);
    CHECK(gs_act_df(GS_ACT_SOFTSIGN, 0, 1.0) == 0.25);
    /* hard_tanh: clip to [-1, 1], f' = 1 inside, 0 at the kinks and outside */
    CHECK(gs_act_f(GS_ACT_HARD_TANH, 0, 2.0) == 1.0);
    CHECK(gs_act_f(GS_ACT_HARD_TANH, 0, -2.0) == -1.0);
    CHECK(gs_act_f(GS_ACT_HARD_TANH, 0, 0.3) == 0.3);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, 1.0) == 0.0);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, -1.0) == 0.0);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, 0.999) == 1.0);
    CHECK(gs_act_df(GS_ACT_HARD_TANH, 0, -5.0) == 0.0);
    /* the parameter a config implies */
    gs_run_config cfg;
    gs_config_defaults(&cfg);
    CHECK(cfg.leaky_alpha == 0.01 && cfg.elu_alpha == 1.0 && cfg.init_noise == 0.0);
    cfg.activation = GS_ACT_LEAKY_RELU;
    CHECK(gs_act_alpha(&cfg) == 0.01);
    cfg.activation = GS_ACT_ELU;
    CHECK(gs_act_alpha(&cfg) == 1.0);
    cfg.activation = GS_ACT_TANH;
    CHECK(gs_act_alpha(&cfg) == 0.0);
}

int main(void)
{
    forward_matches();
    batchnorm_eval();
    layernorm_eval();
    create_errors();
    bad_shapes();
    act_values();
    return CHECK_EXIT();
}
