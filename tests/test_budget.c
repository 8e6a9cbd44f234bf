/* Output budget: the predicted bytes of every part of a run against counts worked out by hand
 * for a small config with every record option on, the tiers and storage types, file data, and
 * the size parser of --max-output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gradsweep/spec.h"

static gs_plan *parse(const char *text, const char *const *ovr, size_t n_ovr)
{
    gs_plan *p = NULL;
    gs_error err;
    gs_error_clear(&err);
    if (gs_plan_parse(&p, text, strlen(text), "b.yaml", ovr, n_ovr, &err) != GS_OK)
        fprintf(stderr, "unexpected parse failure: %s\n", err.msg);
    return p;
}

/* d_in 5, d_out 3 (classes), 40 samples of which 10 held out; layers 5 -> 4 -> 6 -> 3 with
 * biases and batchnorm; 10 steps. */
static const char *const spec = "name: b\n"
                                "data: {kind: gaussian_mixture, classes: 3, dim: 5, samples: 40}\n"
                                "model: {depth: 2, width: {layers: [4, 6]}, norm: batchnorm}\n"
                                "train: {steps: 10, batch: 8, eval_fraction: 0.25, eval_every: 4}\n"
                                "record:\n"
                                "  every: 3\n"
                                "  grads: {steps: [0, 7], every: 5}\n"
                                "  weights: true\n"
                                "  dtype: float64\n"
                                "  level: full\n"
                                "  hist: {bins: 6, every: 4}\n"
                                "  probe_batch: 50\n"
                                "  activations: true\n"
                                "  deltas: true\n"
                                "  jacobian: {inputs: 2}\n";

static void budget_of(const gs_plan *p, gs_budget *b)
{
    int64_t d_in, d_out, n;
    CHECK_EQ_INT(gs_budget_shape(&p->runs[0].cfg, &d_in, &d_out, &n), 1);
    CHECK_EQ_INT(d_in, 5);
    CHECK_EQ_INT(d_out, 3);
    CHECK_EQ_INT(n, 40);
    gs_budget_run(b, &p->record, &p->runs[0].cfg, d_in, d_out, n);
}

static void check_sum(const gs_budget *b)
{
    double sum = 0;
    for (int i = 0; i < GS_BUDGET__COUNT; i++)
        sum += b->part[i];
    CHECK(b->total == sum);
    CHECK(b->part[GS_BUDGET_OVERHEAD] == GS_BUDGET_OBJECT_BYTES * (double)b->objects);
}

/* Every option on. By hand: T = 4 rows (steps 0, 3, 6, 9); E = 4 evaluations (0, 4, 8 and the
 * last step 9); S = 3 snapshots (0, 5, 7); P = min(50, 40 - 10) = 30; 3 histogram rows (0, 4,
 * 8); J = 3 Jacobian steps (0, 5, 7), m = 2, r = min(5, 3) = 3; L = 3, H = 2. */
static void test_all_on(void)
{
    gs_plan *p = parse(spec, NULL, 0);
    CHECK(p != NULL);
    if (!p)
        return;
    gs_budget b;
    budget_of(p, &b);
    CHECK_EQ_INT(b.rows, 4);
    CHECK_EQ_INT(b.evals, 4);
    CHECK_EQ_INT(b.snaps, 3);
    CHECK_EQ_INT(b.probe_rows, 30);
    CHECK_EQ_INT(b.hist_rows, 3);
    CHECK_EQ_INT(b.jac_steps, 3);
    /* per row: step, loss, lr, grad_norm_global, delta_slope (8 B each) and clipped (1 B);
     * [T, L] arrays: 3 basic + 5 standard + bias_grad_norm + 2 full = 11; [T, H]: 2 + 2; and
     * the scale layer [L] */
    CHECK(b.part[GS_BUDGET_STATS] == 4 * (5 * 8 + 1 + 8 * (11 * 3 + 4 * 2)) + 8 * 3);
    CHECK(b.part[GS_BUDGET_EVAL] == 4 * 3 * 8);
    /* grads: step [3]; W [3, fo, fi]; b, gamma, beta [3, fo] for layers 0, 1 and b for the
     * readout; scales fan_out_l, fan_in_l; all 8 bytes */
    double grads = 8 * 3 + (8 * 3 * 4 * 5 + 3 * 8 * 3 * 4 + 8 * (4 + 5)) +
                   (8 * 3 * 6 * 4 + 3 * 8 * 3 * 6 + 8 * (6 + 4)) +
                   (8 * 3 * 3 * 6 + 1 * 8 * 3 * 3 + 8 * (3 + 6));
    CHECK(b.part[GS_BUDGET_GRADS] == grads);
    /* weights: the same plus running_mean and running_var of the two hidden layers */
    CHECK(b.part[GS_BUDGET_WEIGHTS] == grads + 2 * 8 * 3 * (4 + 6));
    CHECK(b.part[GS_BUDGET_PROBE_INDEX] == 8 * 30);
    /* h_l and delta_l [S, P, fan_out] of the 3 layers: fan_out 4 + 6 + 3 */
    CHECK(b.part[GS_BUDGET_ACTIVATIONS] == 8 * 3 * 30 * (4 + 6 + 3));
    CHECK(b.part[GS_BUDGET_DELTAS] == 8 * 3 * 30 * (4 + 6 + 3));
    /* step [3]; grads and deltas: counts [3, 3, 6] and [3, 3, 4], int64 */
    CHECK(b.part[GS_BUDGET_HIST] == 8 * 3 + 2 * 8 * 3 * 3 * (6 + 4));
    /* step [3]; sv [3, 2, 3]; mean_sq, max [3, 2] */
    CHECK(b.part[GS_BUDGET_JACOBIAN] == 8 * 3 + 8 * 3 * 2 * 3 + 2 * 8 * 3 * 2);
    CHECK(b.total - b.part[GS_BUDGET_OVERHEAD] == 27820);
    check_sum(&b);

    /* float32 storage halves exactly the tensor payloads (not steps, scales or counts) */
    const char *f32[] = {"record.dtype=float32"};
    gs_plan *q = parse(spec, f32, 1);
    CHECK(q != NULL);
    if (q) {
        gs_budget c;
        budget_of(q, &c);
        CHECK(c.part[GS_BUDGET_GRADS] == grads - (grads - 8 * 3 - 8 * (9 + 10 + 9)) / 2);
        CHECK(c.part[GS_BUDGET_ACTIVATIONS] == b.part[GS_BUDGET_ACTIVATIONS] / 2);
        CHECK(c.part[GS_BUDGET_STATS] == b.part[GS_BUDGET_STATS]);
        CHECK(c.part[GS_BUDGET_HIST] == b.part[GS_BUDGET_HIST]);
        CHECK(c.part[GS_BUDGET_JACOBIAN] == b.part[GS_BUDGET_JACOBIAN]);
        check_sum(&c);
    }
    gs_plan_destroy(q);
    gs_plan_destroy(p);
}

/* Tiers and options off: basic rows without biases, no norm, nothing but the gradients. */
static void test_basic(void)
{
    const char *ovr[] = {"record.level=basic",       "record.hist=none",
                         "record.jacobian=none",     "record.weights=false",
                         "record.activations=false", "record.deltas=false",
                         "model.bias=false",         "model.norm=none",
                         "train.eval_fraction=0",    "train.eval_every=0"};
    gs_plan *p = parse(spec, ovr, sizeof ovr / sizeof *ovr);
    CHECK(p != NULL);
    if (!p)
        return;
    gs_budget b;
    budget_of(p, &b);
    CHECK(b.part[GS_BUDGET_STATS] == 4 * (5 * 8 + 1 + 8 * (3 * 3 + 2 * 2)) + 8 * 3);
    CHECK(b.part[GS_BUDGET_GRADS] ==
          8 * 3 + (8 * 3 * 4 * 5 + 8 * 9) + (8 * 3 * 6 * 4 + 8 * 10) + (8 * 3 * 3 * 6 + 8 * 9));
    for (int i = 0; i < GS_BUDGET__COUNT; i++)
        if (i != GS_BUDGET_STATS && i != GS_BUDGET_GRADS && i != GS_BUDGET_OVERHEAD)
            CHECK(b.part[i] == 0);
    CHECK_EQ_INT(b.probe_rows, 0);
    CHECK_EQ_INT(b.evals, 0);
    check_sum(&b);
    gs_plan_destroy(p);
    /* standard: 5 more [T, L] and 2 more [T, H] arrays, no bias_grad_norm without biases */
    const char *std[] = {"record.level=standard", "model.bias=false"};
    p = parse(spec, std, 2);
    if (p) {
        budget_of(p, &b);
        CHECK(b.part[GS_BUDGET_STATS] == 4 * (5 * 8 + 1 + 8 * (8 * 3 + 4 * 2)) + 8 * 3);
    }
    gs_plan_destroy(p);
}

/* File data: the shape is unknown until loaded (stand-ins, return 0), and with n unknown the
 * probe batch counts record.probe_batch rows; the Jacobian takes at most the probe rows. */
static void test_file_data(void)
{
    gs_plan *p = parse("name: f\ndata: {kind: hdf5, path: d.h5}\nmodel: {depth: 2, width: 8}\n"
                       "train: {steps: 4}\nrecord: {activations: true, probe_batch: 16}\n",
                       NULL, 0);
    CHECK(p != NULL);
    if (!p)
        return;
    int64_t d_in, d_out, n;
    CHECK_EQ_INT(gs_budget_shape(&p->runs[0].cfg, &d_in, &d_out, &n), 0);
    CHECK_EQ_INT(d_in, 8);
    CHECK_EQ_INT(d_out, 8);
    CHECK_EQ_INT(n, 0);
    gs_budget b;
    gs_budget_run(&b, &p->record, &p->runs[0].cfg, 10, 2, 0);
    CHECK_EQ_INT(b.probe_rows, 16);
    CHECK_EQ_INT(b.snaps, 0);
    CHECK(b.part[GS_BUDGET_ACTIVATIONS] == 0); /* no snapshot steps: no probe tensors */
    gs_budget_run(&b, &p->record, &p->runs[0].cfg, 10, 2, 5); /* 5 samples: P = 5 */
    CHECK_EQ_INT(b.probe_rows, 5);
    double res, train;
    gs_budget_memory(&p->record, &p->runs[0].cfg, 10, 2, 5, &res, &train);
    CHECK(res > 0 && train > 0);
    gs_plan_destroy(p);
}

static void test_parse_size(void)
{
    static const struct {
        const char *text;
        double bytes;
    } ok[] = {{"50G", 50e9},  {"50g", 50e9}, {"1.5T", 1.5e12}, {"123456", 123456},
              {"40GB", 40e9}, {"7k", 7e3},   {"3M", 3e6},      {"3mb", 3e6},
              {"100B", 100},  {"0", 0},      {".5K", 500}};
    static const char *const bad[] = {"",     "G",   "-5G", "5X",  "5GiB", "5 G", "1e9",
                                      "0x10", "nan", "inf", "5G ", "5KK",  "+5"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        double v = -1;
        CHECK_EQ_INT(gs_budget_parse_size(ok[i].text, &v), 0);
        CHECK(v == ok[i].bytes);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v = -1;
        CHECK_EQ_INT(gs_budget_parse_size(bad[i], &v), -1);
    }
    CHECK_EQ_STR(gs_budget_names[GS_BUDGET_GRADS], "grads snapshots");
    CHECK(gs_budget_names[GS_BUDGET__COUNT] == NULL);
}

int main(void)
{
    test_all_on();
    test_basic();
    test_file_data();
    test_parse_size();
    return CHECK_EXIT();
}
