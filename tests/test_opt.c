/* Optimizers, schedules and clipping: two steps of every optimizer against values worked out
 * here from the textbook formulas (not from opt.c's arrangement of them), the schedule at chosen
 * steps, clipping by norm and by value, and end-to-end runs (Adam learns, clipping is recorded,
 * results are bitwise reproducible). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gradsweep/opt.h"
#include "gradsweep/train.h"

#define PI 3.14159265358979323846

/* The two-step problem: p0 = (1, -2), gradient g1 = (0.5, -1) then g2 = (-0.25, 2) (the same
 * gradients whatever the parameters, so each step's value is a closed formula), lr = 0.1. */
static const double P0[2] = {1.0, -2.0}, G1[2] = {0.5, -1.0}, G2[2] = {-0.25, 2.0};

static gs_run_config opt_cfg(int kind)
{
    gs_run_config c;
    gs_config_defaults(&c);
    c.optimizer = kind;
    c.lr = 0.1;
    c.steps = 10;
    return c;
}

/* Runs two steps of cfg's optimizer and compares p after each with want1, want2. */
static void two_steps(const gs_run_config *cfg, const double *want1, const double *want2,
                      double rtol)
{
    gs_optimizer *o = NULL;
    gs_error err;
    double p[2] = {P0[0], P0[1]};
    CHECK_EQ_INT(gs_optimizer_create(&o, cfg, 2, &err), GS_OK);
    if (!o)
        return;
    gs_optimizer_step(o, p, G1, cfg->lr);
    CHECK_NEAR(p[0], want1[0], rtol, 1e-15);
    CHECK_NEAR(p[1], want1[1], rtol, 1e-15);
    gs_optimizer_step(o, p, G2, cfg->lr);
    CHECK_NEAR(p[0], want2[0], rtol, 1e-15);
    CHECK_NEAR(p[1], want2[1], rtol, 1e-15);
    CHECK_EQ_INT(o->t, 2);
    gs_optimizer_destroy(o);
}

/* sgd, with weight decay, heavy-ball and Nesterov momentum: worked out by hand. */
static void test_sgd_momentum(void)
{
    gs_run_config c = opt_cfg(GS_OPT_SGD);
    /* p1 = p0 - 0.1 g1; p2 = p1 - 0.1 g2 */
    two_steps(&c, (const double[]){0.95, -1.9}, (const double[]){0.975, -2.1}, 1e-15);
    c.weight_decay = 0.1;
    /* d1 = g1 + 0.1 p0 = (0.6, -1.2), p1 = (0.94, -1.88); d2 = g2 + 0.1 p1 = (-0.156, 1.812),
     * p2 = (0.9556, -2.0612) */
    two_steps(&c, (const double[]){0.94, -1.88}, (const double[]){0.9556, -2.0612}, 1e-14);

    c = opt_cfg(GS_OPT_MOMENTUM); /* mu = 0.9 (default) */
    /* b1 = g1, p1 = (0.95, -1.9); b2 = 0.9 b1 + g2 = (0.2, 1.1), p2 = (0.93, -2.01) */
    two_steps(&c, (const double[]){0.95, -1.9}, (const double[]){0.93, -2.01}, 1e-14);
    c.nesterov = 1;
    /* dir1 = g1 + 0.9 b1 = (0.95, -1.9), p1 = (0.905, -1.81); dir2 = g2 + 0.9 b2 = (-0.07, 2.99),
     * p2 = (0.912, -2.109) */
    two_steps(&c, (const double[]){0.905, -1.81}, (const double[]){0.912, -2.109}, 1e-14);
    c.nesterov = 0;
    c.weight_decay = 0.1;
    /* d1 = (0.6, -1.2) = b1, p1 = (0.94, -1.88); d2 = (-0.156, 1.812), b2 = 0.9 b1 + d2 =
     * (0.384, 0.732), p2 = (0.9016, -1.9532) */
    two_steps(&c, (const double[]){0.94, -1.88}, (const double[]){0.9016, -1.9532}, 1e-14);
}

/* Adam in the form of Kingma & Ba (Algorithm 1, with torch's eps outside the corrected root):
 * m_k = b1 m + (1 - b1) d, v_k = b2 v + (1 - b2) d^2, mhat = m_k / (1 - b1^k),
 * vhat = v_k / (1 - b2^k), p -= lr mhat / (sqrt(vhat) + eps). One coordinate, two steps. */
static void adam_ref(double p, double g1, double g2, double wd, int decoupled, double *p1,
                     double *p2)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.1;
    double m = 0.0, v = 0.0, g[2] = {g1, g2};
    for (int k = 1; k <= 2; k++) {
        double d = g[k - 1];
        if (decoupled)
            p = p - lr * wd * p;
        else
            d = d + wd * p;
        m = b1 * m + (1 - b1) * d;
        v = b2 * v + (1 - b2) * d * d;
        double mhat = m / (1 - pow(b1, k)), vhat = v / (1 - pow(b2, k));
        p = p - lr * mhat / (sqrt(vhat) + eps);
        *(k == 1 ? p1 : p2) = p;
    }
}

/* RMSprop (Hinton's lecture 6e, torch's eps placement): v = rho v + (1 - rho) d^2,
 * p -= lr d / (sqrt(v) + eps). */
static void rmsprop_ref(double p, double g1, double g2, double wd, double *p1, double *p2)
{
    const double rho = 0.99, eps = 1e-8, lr = 0.1;
    double v = 0.0, g[2] = {g1, g2};
    for (int k = 1; k <= 2; k++) {
        double d = g[k - 1] + wd * p;
        v = rho * v + (1 - rho) * d * d;
        p = p - lr * d / (sqrt(v) + eps);
        *(k == 1 ? p1 : p2) = p;
    }
}

static void test_adam_rmsprop(void)
{
    double w1[2], w2[2];
    for (int kind = GS_OPT_ADAM; kind <= GS_OPT_ADAMW; kind++) {
        for (int wdi = 0; wdi < 2; wdi++) {
            gs_run_config c = opt_cfg(kind);
            c.weight_decay = wdi ? 0.1 : 0.0;
            for (int i = 0; i < 2; i++)
                adam_ref(P0[i], G1[i], G2[i], c.weight_decay, kind == GS_OPT_ADAMW, &w1[i], &w2[i]);
            two_steps(&c, w1, w2, 1e-13);
        }
    }
    /* Spot values by hand. Adam's first step is lr * sign(g) (up to eps): p1 = (0.9, -1.9). Second
     * step, coordinate 0: m = 0.02, v = 0.00031225, mhat = 0.02 / 0.19, vhat = 0.00031225 /
     * 0.001999, p2 = 0.9 - 0.1 mhat / sqrt(vhat) = 0.87336628... */
    gs_run_config c = opt_cfg(GS_OPT_ADAM);
    adam_ref(P0[1], G1[1], G2[1], 0, 0, &w1[1], &w2[1]);
    double mh = 0.02 / 0.19, vh = 0.00031225 / 0.001999;
    two_steps(&c, (const double[]){0.9, -1.9}, (const double[]){0.9 - 0.1 * mh / sqrt(vh), w2[1]},
              1e-7);
    /* AdamW, wd 0.1, first step: p0 (1 - 0.01) - 0.1 sign(g1) = (0.89, -1.88). */
    c = opt_cfg(GS_OPT_ADAMW);
    c.weight_decay = 0.1;
    adam_ref(P0[1], G1[1], G2[1], 0.1, 1, &w1[1], &w2[1]);
    CHECK_NEAR(w1[1], -1.88, 1e-7, 0);
    for (int wdi = 0; wdi < 2; wdi++) {
        c = opt_cfg(GS_OPT_RMSPROP);
        c.weight_decay = wdi ? 0.1 : 0.0;
        for (int i = 0; i < 2; i++)
            rmsprop_ref(P0[i], G1[i], G2[i], c.weight_decay, &w1[i], &w2[i]);
        two_steps(&c, w1, w2, 1e-13);
    }
    /* RMSprop's first step: v = 0.01 g^2, so p1 = p0 - 0.1 g / (0.1 |g|) = p0 - sign(g) = (0, -1).
     */
    c = opt_cfg(GS_OPT_RMSPROP);
    rmsprop_ref(P0[0], G1[0], G2[0], 0, &w1[0], &w2[0]);
    CHECK_NEAR(w1[0], 0.0, 0, 1e-6); /* eps / sqrt(v) = 2e-7 away */
}

/* Bad hyper-parameters are errors that name the keys. */
static void test_bad_params(void)
{
    gs_optimizer *o = NULL;
    gs_error err;
    gs_run_config c = opt_cfg(GS_OPT_ADAM);
    c.beta2 = 1.0;
    CHECK_EQ_INT(gs_optimizer_create(&o, &c, 2, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "beta1, beta2");
    CHECK(o == NULL);
    c = opt_cfg(GS_OPT_RMSPROP);
    c.eps = 0.0;
    CHECK_EQ_INT(gs_optimizer_create(&o, &c, 2, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "train.eps");
    c = opt_cfg(99);
    CHECK_EQ_INT(gs_optimizer_create(&o, &c, 2, &err), GS_EINVAL);
    gs_optimizer_destroy(NULL);
}

static void test_schedule(void)
{
    gs_run_config c;
    gs_config_defaults(&c);
    c.lr = 2.0;
    c.steps = 10;
    CHECK(gs_opt_lr(&c, 0) == 2.0 && gs_opt_lr(&c, 9) == 2.0); /* constant, no warmup */
    c.warmup = 4;                                              /* lr (t + 1) / 4 */
    CHECK_NEAR(gs_opt_lr(&c, 0), 0.5, 1e-15, 0);
    CHECK_NEAR(gs_opt_lr(&c, 2), 1.5, 1e-15, 0);
    CHECK(gs_opt_lr(&c, 3) == 2.0 && gs_opt_lr(&c, 4) == 2.0);
    c.schedule = GS_SCHED_COSINE;
    c.warmup = 2; /* t' = t - 2 over T' = 8 */
    CHECK_NEAR(gs_opt_lr(&c, 1), 2.0, 1e-15, 0);
    CHECK_NEAR(gs_opt_lr(&c, 2), 2.0, 1e-15, 0);                   /* t' = 0: lr */
    CHECK_NEAR(gs_opt_lr(&c, 6), 1.0, 1e-15, 0);                   /* t' = T'/2: lr / 2 */
    CHECK_NEAR(gs_opt_lr(&c, 9), 1.0 + cos(PI * 7 / 8), 1e-14, 0); /* last step */
    CHECK_NEAR(gs_opt_lr(&c, 10), 0.0, 0, 1e-15);                  /* T': 0 (past the run) */
    c.warmup = 0;
    c.steps = 4;
    CHECK_NEAR(gs_opt_lr(&c, 0), 2.0, 1e-15, 0);
    CHECK_NEAR(gs_opt_lr(&c, 2), 1.0, 1e-15, 0);
    c.schedule = GS_SCHED_STEP;
    c.steps = 100;
    c.step_size = 3;
    c.gamma = 0.5;
    c.warmup = 1;                                /* t' = t - 1 */
    CHECK_NEAR(gs_opt_lr(&c, 0), 2.0, 1e-15, 0); /* warmup 1: (0 + 1) / 1 */
    CHECK(gs_opt_lr(&c, 1) == 2.0 && gs_opt_lr(&c, 3) == 2.0);
    CHECK_NEAR(gs_opt_lr(&c, 4), 1.0, 1e-15, 0);
    CHECK_NEAR(gs_opt_lr(&c, 6), 1.0, 1e-15, 0);
    CHECK_NEAR(gs_opt_lr(&c, 7), 0.5, 1e-15, 0);
    CHECK_NEAR(gs_opt_lr(&c, 31), 2.0 * pow(0.5, 10), 1e-15, 0);
}

static void test_clip(void)
{
    gs_run_config c;
    gs_config_defaults(&c);
    double g[2] = {3.0, 4.0};
    double n = gs_opt_norm(g, 2);
    CHECK_NEAR(n, 5.0, 1e-15, 0);
    CHECK_EQ_INT(gs_opt_clip(&c, g, 2, n), 0); /* off */
    CHECK(g[0] == 3.0 && g[1] == 4.0);
    c.clip_norm = 10.0; /* above the norm: no change */
    CHECK_EQ_INT(gs_opt_clip(&c, g, 2, n), 0);
    CHECK(g[0] == 3.0 && g[1] == 4.0);
    c.clip_norm = 1.0;
    CHECK_EQ_INT(gs_opt_clip(&c, g, 2, n), 1);
    CHECK_NEAR(g[0], 3.0 / (5.0 + 1e-6), 1e-15, 0); /* torch: c / (norm + 1e-6) */
    CHECK_NEAR(gs_opt_norm(g, 2), 1.0, 1e-6, 0);
    c.clip_norm = 0.0;
    c.clip_value = 3.5;
    double h[3] = {3.0, 4.0, -5.0};
    CHECK_EQ_INT(gs_opt_clip(&c, h, 3, gs_opt_norm(h, 3)), 1);
    CHECK(h[0] == 3.0 && h[1] == 3.5 && h[2] == -3.5);
    CHECK_EQ_INT(gs_opt_clip(&c, h, 3, gs_opt_norm(h, 3)), 0); /* now inside: no change */
    /* The norm survives under- and overflow of the sum of squares. */
    double big[2] = {3e200, 4e200}, tiny[2] = {3e-200, 4e-200}, nan2[2] = {1.0, (double)NAN};
    CHECK_NEAR(gs_opt_norm(big, 2), 5e200, 1e-15, 0);
    CHECK_NEAR(gs_opt_norm(tiny, 2), 5e-200, 1e-15, 0);
    CHECK(isnan(gs_opt_norm(nan2, 2)));
}

static gs_run make_run(int opt, double lr)
{
    gs_run run;
    memset(&run, 0, sizeof run);
    snprintf(run.id, sizeof run.id, "opt0000000000001");
    run.seed = 7;
    gs_config_defaults(&run.cfg);
    run.cfg.data_classes = 4;
    run.cfg.data_dim = 8;
    run.cfg.data_samples = 256;
    run.cfg.data_separation = 3.0;
    run.cfg.depth = 2;
    run.cfg.width = 16;
    run.cfg.steps = 60;
    run.cfg.batch = 32;
    run.cfg.optimizer = opt;
    run.cfg.lr = lr;
    return run;
}

static gs_result *train(const gs_run *run)
{
    gs_record rec;
    memset(&rec, 0, sizeof rec);
    rec.every = 1;
    gs_result *res = NULL;
    gs_error err;
    gs_error_clear(&err);
    if (gs_train_run(&res, run, &rec, NULL, NULL, &err) != GS_OK)
        fprintf(stderr, "train: %s\n", err.msg);
    return res;
}

static int same(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

/* Adam with a cosine schedule and warmup learns; the per-row lr is the schedule; the run is
 * bitwise reproducible. */
static void test_adam_run(void)
{
    gs_run run = make_run(GS_OPT_ADAM, 0.01);
    run.cfg.schedule = GS_SCHED_COSINE;
    run.cfg.warmup = 5;
    gs_result *a = train(&run), *b = train(&run);
    CHECK(a && b);
    if (!a || !b)
        goto done;
    size_t T = a->n_rows;
    CHECK_EQ_INT(T, 60);
    CHECK_EQ_INT(a->status, GS_RUN_OK);
    CHECK(a->loss[T - 1] < 0.5 * a->loss[0]);
    for (size_t r = 0; r < T; r++) {
        CHECK(a->lr[r] == gs_opt_lr(&run.cfg, a->step[r]));
        CHECK_EQ_INT(a->clipped[r], 0);
        for (size_t l = 0; l < a->n_layers; l++) /* the global norm covers every layer */
            CHECK(a->grad_norm_global[r] >= a->grad_norm[r * a->n_layers + l]);
    }
    CHECK(same(a->loss, b->loss, T * sizeof(double)) &&
          same(a->grad_norm, b->grad_norm, T * a->n_layers * sizeof(double)) &&
          same(a->lr, b->lr, T * sizeof(double)) &&
          same(a->grad_norm_global, b->grad_norm_global, T * sizeof(double)));
done:
    gs_result_destroy(a);
    gs_result_destroy(b);
}

/* Clipping by norm in a run: fired exactly when the pre-clip global norm exceeds c; it changes
 * the trajectory; the recorded norms of the first step are the unclipped ones. Other optimizers
 * run end to end too (no NaN, reproducible first loss). */
static void test_clip_run(void)
{
    gs_run run = make_run(GS_OPT_MOMENTUM, 0.05);
    gs_result *plain = train(&run);
    run.cfg.clip_norm = 0.5;
    gs_result *clip = train(&run);
    CHECK(plain && clip);
    if (plain && clip) {
        int fired = 0;
        for (size_t r = 0; r < clip->n_rows; r++) {
            CHECK_EQ_INT(clip->clipped[r], clip->grad_norm_global[r] > 0.5);
            fired += clip->clipped[r];
        }
        CHECK(fired > 0);
        CHECK(plain->grad_norm_global[0] == clip->grad_norm_global[0]);
        CHECK(plain->loss[clip->n_rows - 1] != clip->loss[clip->n_rows - 1]);
    }
    gs_result_destroy(plain);
    gs_result_destroy(clip);
    for (int k = 0; k < GS_OPT__COUNT; k++) {
        run = make_run(k, 0.01);
        run.cfg.clip_value = 0.01;
        run.cfg.weight_decay = 1e-3;
        gs_result *r = train(&run);
        CHECK(r && r->status == GS_RUN_OK && isfinite(r->final_loss));
        gs_result_destroy(r);
    }
}

/* Both clip kinds, or schedule step without step_size, are refused by gs_train_run too. */
static void test_run_errors(void)
{
    gs_run run = make_run(GS_OPT_SGD, 0.01);
    gs_record rec;
    memset(&rec, 0, sizeof rec);
    rec.every = 1;
    gs_result *res = NULL;
    gs_error err;
    run.cfg.clip_norm = run.cfg.clip_value = 1.0;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "both set");
    run = make_run(GS_OPT_SGD, 0.01);
    run.cfg.schedule = GS_SCHED_STEP;
    CHECK_EQ_INT(gs_train_run(&res, &run, &rec, NULL, NULL, &err), GS_EINVAL);
    CHECK_HAS_STR(err.msg, "step_size");
    CHECK(res == NULL);
}

int main(void)
{
    test_sgd_momentum();
    test_adam_rmsprop();
    test_bad_params();
    test_schedule();
    test_clip();
    test_adam_run();
    test_clip_run();
    test_run_errors();
    return CHECK_EXIT();
}
