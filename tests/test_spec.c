/* Sweep specs: the reference spec's expansion, run identity and seeds, overrides, the resolved
 * YAML round trip, and every class of spec error with its file:line message. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gradsweep/spec.h"

/* Reads experiments/quick.yaml (GS_SOURCE_DIR, else relative to the working directory). */
static char *read_quick(char *path, size_t n)
{
    const char *src = getenv("GS_SOURCE_DIR");
    snprintf(path, n, "%s/experiments/quick.yaml", src ? src : ".");
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = calloc(1, 1 << 16);
    size_t len = text ? fread(text, 1, (1 << 16) - 1, f) : 0;
    (void)len;
    fclose(f);
    return text;
}

static gs_plan *parse(const char *text, const char *const *ovr, size_t n_ovr, gs_error *err)
{
    gs_plan *p = NULL;
    gs_error_clear(err);
    if (gs_plan_parse(&p, text, strlen(text), "t.yaml", ovr, n_ovr, err) != GS_OK) {
        fprintf(stderr, "unexpected parse failure: %s\n", err->msg);
        return NULL;
    }
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs of a plan sorted by id are strictly increasing when ids are unique. */
static int ids_unique(const gs_plan *p)
{
    const char **ids = malloc(p->n_runs * sizeof *ids);
    int ok = ids != NULL;
    for (size_t i = 0; ok && i < p->n_runs; i++)
        ids[i] = p->runs[i].id;
    if (ok)
        qsort(ids, p->n_runs, sizeof *ids, cmp_str);
    for (size_t i = 1; ok && i < p->n_runs; i++)
        ok = strcmp(ids[i - 1], ids[i]) < 0;
    free(ids);
    return ok;
}

static void test_quick(const gs_plan *p)
{
    CHECK_EQ_STR(p->name, "quick");
    CHECK_EQ_INT(p->master_seed, 1);
    CHECK_EQ_INT(p->replicates, 2);
    CHECK_EQ_INT(p->n_runs, 5 * 3 * 9 * 2);
    CHECK_EQ_INT(p->n_axes, 3);
    if (p->n_axes != 3 || p->n_runs != 270)
        return;
    CHECK_EQ_STR(p->axes[0].key->path, "model.depth");
    CHECK_EQ_STR(p->axes[1].key->path, "model.activation");
    CHECK_EQ_STR(p->axes[2].key->path, "model.sigma_w");
    const char *depths[] = {"2", "4", "8", "16", "32"};
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_STR(p->axes[0].values[i], depths[i]);
    CHECK_EQ_STR(p->axes[1].values[1], "relu");
    CHECK_EQ_INT(p->axes[2].n_values, 9);
    for (size_t i = 0; i < 9; i++)
        CHECK_NEAR(strtod(p->axes[2].values[i], NULL), 0.25 * pow(16.0, (double)i / 8.0), 1e-15, 0);
    CHECK_EQ_STR(p->axes[2].values[0], "0.25");
    CHECK_EQ_STR(p->axes[2].values[8], "4");
    CHECK(ids_unique(p));
    for (size_t r = 0; r < p->n_runs; r++) {
        const gs_run *run = &p->runs[r];
        size_t c = r / 2;
        CHECK_EQ_INT(run->index, r);
        CHECK_EQ_INT(run->replicate, (int64_t)(r % 2));
        CHECK_EQ_INT(run->cfg.depth, atoi(p->axes[0].values[c / 27]));
        CHECK_EQ_STR(gs_act_names[run->cfg.activation], p->axes[1].values[(c / 9) % 3]);
        CHECK(run->cfg.sigma_w == strtod(p->axes[2].values[c % 9], NULL));
        CHECK(run->seed >= 1 && run->seed <= 4294967295u);
        CHECK_EQ_INT(strlen(run->id), GS_RUN_ID_LEN);
        CHECK_EQ_INT(strspn(run->id, "0123456789abcdef"), GS_RUN_ID_LEN);
        CHECK_EQ_INT(gs_plan_find(p, run->id), r);
        CHECK_EQ_INT(run->cfg.width, 64);
        CHECK_EQ_INT(run->cfg.steps, 200);
        CHECK_EQ_INT(run->cfg.batch, 64);
        CHECK_EQ_INT(run->cfg.data_classes, 10);
    }
    /* depth 2: 32x64, 64x64, 64x10 per step over 64 rows, 200 steps */
    CHECK_NEAR(p->runs[0].cost, 6.0 * (32 * 64 + 64 * 64 + 64 * 10) * 64 * 200, 1e-12, 0);
    CHECK_EQ_INT(p->record.n_grad_steps, 4);
    if (p->record.n_grad_steps == 4)
        CHECK_EQ_INT(p->record.grad_steps[3], 199);
    CHECK_EQ_INT(p->record.every, 1);
    CHECK_EQ_INT(p->record.dtype, GS_DTYPE_FLOAT32);
    CHECK_EQ_INT(p->record.weights, 0);
    CHECK_EQ_INT(gs_plan_find(p, "0000000000000000"), (size_t)-1);
}

/* Every run of a is in b with the same seed and config. */
static void check_subset(const gs_plan *a, const gs_plan *b)
{
    size_t missing = 0;
    for (size_t i = 0; i < a->n_runs; i++) {
        size_t j = gs_plan_find(b, a->runs[i].id);
        if (j == (size_t)-1) {
            missing++;
            continue;
        }
        CHECK_EQ_INT(b->runs[j].seed, a->runs[i].seed);
        CHECK_EQ_INT(b->runs[j].replicate, a->runs[i].replicate);
        CHECK(memcmp(&b->runs[j].cfg, &a->runs[i].cfg, sizeof a->runs[i].cfg) == 0);
    }
    CHECK_EQ_INT(missing, 0);
}

static void check_same_plan(const gs_plan *a, const gs_plan *b)
{
    CHECK_EQ_INT(a->n_runs, b->n_runs);
    CHECK_EQ_INT(a->n_axes, b->n_axes);
    CHECK_EQ_STR(a->name, b->name);
    CHECK_EQ_INT(a->master_seed, b->master_seed);
    CHECK_EQ_INT(a->replicates, b->replicates);
    CHECK_EQ_INT(a->record.every, b->record.every);
    CHECK_EQ_INT(a->record.n_grad_steps, b->record.n_grad_steps);
    CHECK_EQ_INT(a->record.grad_every, b->record.grad_every);
    CHECK_EQ_INT(a->record.grad_log, b->record.grad_log);
    CHECK_EQ_INT(a->record.weights, b->record.weights);
    CHECK_EQ_INT(a->record.dtype, b->record.dtype);
    CHECK_EQ_INT(a->record.level, b->record.level);
    CHECK_EQ_INT(a->record.hist_bins, b->record.hist_bins);
    CHECK_EQ_INT(a->record.hist_every, b->record.hist_every);
    CHECK(a->record.hist_min == b->record.hist_min);
    CHECK(a->record.hist_max == b->record.hist_max);
    CHECK_EQ_INT(a->record.probe_batch, b->record.probe_batch);
    CHECK_EQ_INT(a->record.activations, b->record.activations);
    CHECK_EQ_INT(a->record.deltas, b->record.deltas);
    CHECK_EQ_INT(a->record.jacobian_inputs, b->record.jacobian_inputs);
    for (size_t i = 0; i < a->record.n_grad_steps && i < b->record.n_grad_steps; i++)
        CHECK_EQ_INT(a->record.grad_steps[i], b->record.grad_steps[i]);
    for (size_t i = 0; i < a->n_axes && i < b->n_axes; i++)
        CHECK(a->axes[i].key == b->axes[i].key);
    for (size_t i = 0; i < a->n_runs && i < b->n_runs; i++) {
        CHECK_EQ_STR(a->runs[i].id, b->runs[i].id);
        CHECK_EQ_INT(a->runs[i].seed, b->runs[i].seed);
    }
}

/* The resolved YAML parses back into the same plan, and resolving again changes nothing. */
static void check_round_trip(const gs_plan *p)
{
    gs_error err;
    gs_plan *q = parse(p->resolved_yaml, NULL, 0, &err);
    CHECK(q != NULL);
    if (!q) {
        fprintf(stderr, "%s\n", p->resolved_yaml);
        return;
    }
    check_same_plan(p, q);
    CHECK_EQ_STR(q->resolved_yaml, p->resolved_yaml);
    gs_plan_destroy(q);
}

static void test_identity(const char *text, const gs_plan *quick)
{
    gs_error err;
    gs_plan *again = parse(text, NULL, 0, &err);
    CHECK(again != NULL);
    if (again)
        check_same_plan(quick, again);
    gs_plan_destroy(again);

    /* adding a value to an axis keeps every old run (id, seed, config) */
    const char *wider[] = {"model.depth=2,4,8,16,32,64"};
    gs_plan *ext = parse(text, wider, 1, &err);
    CHECK(ext != NULL);
    if (ext) {
        CHECK_EQ_INT(ext->n_runs, 6 * 3 * 9 * 2);
        check_subset(quick, ext);
    }
    gs_plan_destroy(ext);

    /* the master seed changes seeds, not ids */
    const char *seed7[] = {"seed=7"};
    gs_plan *s7 = parse(text, seed7, 1, &err);
    CHECK(s7 != NULL);
    if (s7) {
        size_t same_seed = 0;
        for (size_t i = 0; i < s7->n_runs; i++) {
            CHECK_EQ_STR(s7->runs[i].id, quick->runs[i].id);
            same_seed += s7->runs[i].seed == quick->runs[i].seed;
        }
        CHECK(same_seed < 3);
    }
    gs_plan_destroy(s7);
}

static void test_overrides(const char *text, const gs_plan *quick)
{
    gs_error err;
    const char *scalar[] = {"model.depth=8", "record.every=5", "record.dtype=float64",
                            "record.weights=true", "record.grads=10,0,every:50"};
    gs_plan *p = parse(text, scalar, 5, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(p->n_axes, 2);
        CHECK_EQ_INT(p->n_runs, 3 * 9 * 2);
        CHECK_EQ_STR(p->axes[0].key->path, "model.activation");
        for (size_t i = 0; i < p->n_runs; i++)
            CHECK_EQ_INT(p->runs[i].cfg.depth, 8);
        check_subset(p, quick); /* a fixed depth 8 is the depth-8 slice of the axis */
        CHECK_EQ_INT(p->record.every, 5);
        CHECK_EQ_INT(p->record.dtype, GS_DTYPE_FLOAT64);
        CHECK_EQ_INT(p->record.weights, 1);
        CHECK_EQ_INT(p->record.grad_every, 50);
        CHECK_EQ_INT(p->record.n_grad_steps, 2);
        if (p->record.n_grad_steps == 2)
            CHECK(p->record.grad_steps[0] == 0 && p->record.grad_steps[1] == 10);
        check_round_trip(p);
    }
    gs_plan_destroy(p);

    /* new axis goes last; an existing axis keeps its place with the new values in order */
    const char *axes[] = {"model.width=32,64", "model.depth=8,2", "replicates=1"};
    p = parse(text, axes, 3, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(p->n_axes, 4);
        CHECK_EQ_INT(p->n_runs, 2 * 3 * 9 * 2);
        CHECK_EQ_STR(p->axes[0].key->path, "model.depth");
        CHECK_EQ_STR(p->axes[0].values[0], "8");
        CHECK_EQ_STR(p->axes[3].key->path, "model.width");
        CHECK_EQ_INT(p->runs[0].cfg.width, 32);
        CHECK_EQ_INT(p->runs[1].cfg.width, 64);
        CHECK_EQ_INT(p->runs[0].cfg.depth, 8);
        check_round_trip(p);
    }
    gs_plan_destroy(p);
}

static void test_canonical(void)
{
    gs_run_config cfg;
    char buf[1024];
    gs_config_defaults(&cfg);
    size_t n = gs_run_canonical(&cfg, 0, buf, sizeof buf);
    CHECK_EQ_STR(buf, "replicate=0\n");
    CHECK_EQ_INT(n, strlen(buf));
    cfg.width = 64;
    cfg.activation = GS_ACT_RELU;
    cfg.data_dim = 7;
    cfg.data_path[0] = 'x'; /* not used by gaussian_mixture: no effect */
    n = gs_run_canonical(&cfg, 3, buf, sizeof buf);
    CHECK_EQ_STR(buf, "data.dim=7\nmodel.activation=relu\nmodel.width=64\nreplicate=3\n");
    char small[8];
    CHECK_EQ_INT(gs_run_canonical(&cfg, 3, small, sizeof small), n);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
    CHECK_EQ_INT(gs_run_canonical(&cfg, 3, NULL, 0), n);

    /* hash: FNV-1a then splitmix64, checked against a straight re-derivation */
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *s = "ab";
    for (size_t i = 0; i < 2; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    CHECK(gs_hash64("ab", 2) == h);
    CHECK(gs_hash64("ab", 2) != gs_hash64("ba", 2));
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t sd = gs_run_seed(i % 3, gs_hash64(&i, sizeof i));
        CHECK(sd >= 1 && sd <= 4294967295u);
    }
    CHECK(gs_run_seed(0, 0) >= 1);

    /* the activation parameters and init noise at their defaults leave the id text alone */
    gs_config_defaults(&cfg);
    cfg.activation = GS_ACT_LEAKY_RELU;
    cfg.init = GS_INIT_ORTHOGONAL;
    gs_run_canonical(&cfg, 0, buf, sizeof buf);
    CHECK_EQ_STR(buf, "model.activation=leaky_relu\nmodel.init=orthogonal\nreplicate=0\n");
    cfg.leaky_alpha = 0.2;
    cfg.elu_alpha = 0.5;
    cfg.init_noise = 0.125;
    gs_run_canonical(&cfg, 0, buf, sizeof buf);
    CHECK_EQ_STR(buf, "model.activation=leaky_relu\nmodel.elu_alpha=0.5\nmodel.init=orthogonal\n"
                      "model.init_noise=0.125\nmodel.leaky_alpha=0.2\nreplicate=0\n");
    for (int a = 0; a < GS_ACT__COUNT; a++)
        CHECK(gs_act_names[a] != NULL);
    CHECK(gs_act_names[GS_ACT__COUNT] == NULL);
    CHECK(gs_init_names[GS_INIT__COUNT] == NULL);
    CHECK_EQ_STR(gs_act_names[GS_ACT_SILU], "silu");
    CHECK_EQ_STR(gs_init_names[GS_INIT_IDENTITY], "identity");

    const char *names[] = {"linear", "tanh", "sigmoid", "relu", NULL};
    CHECK_EQ_STR(gs_nearest_name("tahn", names), "tanh");
    CHECK_EQ_STR(gs_nearest_name("relu", names), "relu");
    CHECK(gs_nearest_name("softplus", names) == NULL);
}

static const char *base_spec = "name: t\n"
                               "model:\n"
                               "  depth: 2\n"
                               "  width: 8\n"
                               "train:\n"
                               "  steps: 10\n";

static void test_values(void)
{
    gs_error err;
    /* 0.25 and 0.250, 2 and 2.0 are the same values */
    gs_plan *a = parse("name: t\nmodel: {depth: 2, width: 8, sigma_w: 0.25}\ntrain: {steps: 10}\n",
                       NULL, 0, &err);
    gs_plan *b = parse("name: t\nmodel: {depth: 2.0, width: 8, sigma_w: 0.250}\n"
                       "train: {steps: 10}\n",
                       NULL, 0, &err);
    CHECK(a && b);
    if (a && b)
        CHECK_EQ_STR(a->runs[0].id, b->runs[0].id);
    gs_plan_destroy(b);
    /* a defaults-only spec: the id is the hash of the required keys and the replicate */
    gs_plan *c = parse(base_spec, NULL, 0, &err);
    CHECK(c != NULL);
    if (c && a) {
        char buf[256];
        size_t n = gs_run_canonical(&c->runs[0].cfg, 0, buf, sizeof buf);
        CHECK_EQ_STR(buf, "model.depth=2\nmodel.width=8\ntrain.steps=10\nreplicate=0\n");
        char id[32];
        snprintf(id, sizeof id, "%016llx", (unsigned long long)gs_hash64(buf, n));
        CHECK_EQ_STR(c->runs[0].id, id);
        CHECK(strcmp(c->runs[0].id, a->runs[0].id) != 0);
        CHECK_EQ_INT(c->n_axes, 0);
        CHECK_EQ_INT(c->n_runs, 1);
        CHECK_EQ_STR(c->source_path, "t.yaml");
        check_round_trip(c);
    }
    gs_plan_destroy(a);
    gs_plan_destroy(c);

    /* integer logspace, linspace, values; block style; hdf5 data; grads mapping */
    gs_plan *d = parse("name: \"h5-sweep_v1.0\"\n"
                       "data:\n  kind: hdf5\n  path: \"dir/a,b \\\"q\\\".h5\"\n"
                       "model:\n  depth:\n    logspace: [1, 64, 7]\n  width: {values: [4, 8]}\n"
                       "  sigma_b: {linspace: [0, 1, 5]}\n"
                       "train: {steps: 10, batch: [full, 16]}\n"
                       "record: {grads: {steps: [5, 1, 5], every: 3, log: 4}}\n",
                       NULL, 0, &err);
    CHECK(d != NULL);
    if (d) {
        CHECK_EQ_INT(d->n_runs, 7 * 2 * 5 * 2);
        CHECK_EQ_STR(d->axes[0].values[6], "64");
        CHECK_EQ_STR(d->axes[0].values[3], "8");
        CHECK_EQ_STR(d->axes[2].values[1], "0.25");
        CHECK_EQ_STR(d->axes[3].values[0], "full");
        CHECK_EQ_INT(d->runs[0].cfg.batch, 0);
        CHECK_EQ_STR(d->runs[0].cfg.data_path, "dir/a,b \"q\".h5");
        CHECK_EQ_STR(d->name, "h5-sweep_v1.0");
        CHECK_EQ_INT(d->record.n_grad_steps, 2);
        CHECK_EQ_INT(d->record.grad_every, 3);
        CHECK_EQ_INT(d->record.grad_log, 4);
        CHECK(ids_unique(d));
        check_round_trip(d);
    }
    gs_plan_destroy(d);
}

typedef struct {
    const char *text;
    const char *ovr;
    const char *want;
} bad_case;

static const bad_case bad[] = {
    {"nmae: t\nmodel: {depth: 2, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:1: nmae: unknown key 'nmae' (did you mean 'name'?)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  activaton: tanh\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.activaton: unknown key 'activaton' (did you mean 'activation'?)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  activation: [relu, tahn]\ntrain: {steps: 1}\n",
     NULL, "t.yaml:5: model.activation: unknown value 'tahn' (did you mean 'tanh'?)"},
    {"name: t\nmodel:\n  depth: 2.5\n  width: 8\ntrain: {steps: 1}\n", NULL,
     "t.yaml:3: model.depth: expected an integer, got '2.5'"},
    {"name: t\nmodel:\n  depth: 2\n  width: -3\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: must be >= 1 (got -3)"},
    {"name: t\nmodel:\n  depth: 2\n  width: abc\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: expected an integer, got 'abc'"},
    {"name: t\nmodel:\n  width: 8\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: model.depth: required key missing"},
    {"name: t\nmodel:\n  depth: 1\n  width: 8\ntrain:\n  lr: 0.1\n", NULL,
     "t.yaml:5: train.steps: required key missing"},
    {"name: t\nmodel:\n  depth: 1\n  width: 8\n  sigma_w: {logspace: [0.1, 1, 0]}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:5: model.sigma_w: logspace count: must be >= 2 (got 0)"},
    {"name: t\nmodel:\n  depth: 1\n  width: 8\n  sigma_w: {linspace: [0.1, 1]}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:5: model.sigma_w: linspace takes [start, stop, count]"},
    {"name: t\nmodel:\n  depth: {logspace: [1, 10, 3]}\n  width: 8\ntrain: {steps: 1}\n", NULL,
     "t.yaml:3: model.depth: logspace value 3.16"},
    {"name: t\nmodel:\n  depth: 1\n  width: 8\n  sigma_w: {logspce: [1, 2, 3]}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:5: model.sigma_w: unknown axis form 'logspce' (did you mean 'logspace'?)"},
    {"name: t\ndata:\n  kind: gaussian_mixture\n  path: x.h5\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:4: data.path: not used by data kind 'gaussian_mixture' (only by 'hdf5')"},
    {"name: t\ndata:\n  kind: hdf5\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: data.path: required key missing"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  depth: [2, 4]\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.depth: duplicate key (first at line 3)"},
    {"name: t\nmodel: {depth: 2, width: 8}\nmodel: {depth: 3}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:3: model: duplicate key (first at line 2)"},
    {"name: t\nmodel: {depth: [2, 4, 2.0], width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: model.depth: value '2.0' repeats an earlier value of the axis ('2')"},
    {"name: t\nmodel:\n  depth: [2, 4\n  width: 8\ntrain: {steps: 1}\n", NULL, "YAML syntax error"},
    {"name: t\nmodel:\n  depth: 2\n width: 8\n", NULL, "t.yaml:4: YAML syntax error"},
    {NULL, "model.dept=3",
     "command line: model.dept=3: unknown key 'model.dept' "
     "(did you mean 'model.depth'?)"},
    {NULL, "model.depth=3,x", "command line: model.depth=3,x: expected an integer, got 'x'"},
    {NULL, "model.depth", "command line: model.depth: expected key.path=value"},
    {NULL, "record.dtype=float16",
     "command line: record.dtype=float16: unknown "
     "value 'float16' (did you mean 'float32'?)"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\nrecord:\n  dtype: float16\n", NULL,
     "t.yaml:5: record.dtype: unknown value 'float16' (did you mean 'float32'?)"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\nrecord:\n  grads: [0, -5]\n", NULL,
     "t.yaml:5: record.grads: step must be >= 0 (got -5)"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\nrecord:\n  grads: {evry: 5}\n", NULL,
     "t.yaml:5: record.grads.evry: unknown key 'evry' (did you mean 'every'?)"},
    {"name: t\nmodel:\n  depth: []\n  width: 8\ntrain: {steps: 1}\n", NULL,
     "t.yaml:3: model.depth: empty axis"},
    {"name: t\nreplicates: 0\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: replicates: must be >= 1 (got 0)"},
    {"name: t\nseed: -1\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: seed: expected an unsigned integer, got '-1'"},
    {"model: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:1: name: required key missing"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1, lr: nan}\n", NULL,
     "t.yaml:3: train.lr: expected a finite number, got 'nan'"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1, batch: 0}\n", NULL,
     "t.yaml:3: train.batch: must be >= 1 (got 0)"},
    {"name: t\nmodel: {depth: 1, width: 8, init: [normal, {a: 1}]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: model.init: expected a single value, not a mapping"},
    {"name: t\ndata: {kind: [gaussian_mixture, hdf5], path: d.h5, dim: [4, 8]}\n"
     "model: {depth: 1, width: 8}\ntrain: {steps: 1}\n",
     NULL, "t.yaml:2: data.dim: values '4' and '8' give the same run"},
    {"- a\n- b\n", NULL, "t.yaml:1: a spec is a mapping"},
    {"", NULL, "t.yaml:1: empty spec"},
    {"name: t\nmodel: &m {depth: 1, width: 8}\ntrain: *m\n", NULL, "t.yaml:3: YAML: aliases"},
    {"name: t\naxes: [model.width]\nmodel: {depth: [1, 2], width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: axes: 'model.width' is not a swept key"},
    {"name: a/b\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:1: name: 'a/b' must be a plain file name (letters, digits, '-', '_', '.')"},
    {"seed: 1\nname: \"a b\"\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: name: 'a b' must be a plain file name"},
    {"name: .hidden\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:1: name: '.hidden' must be a plain file name (letters, digits, '-', '_', '.'), "
     "not starting with '.'"},
    {"name: ..\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:1: name: '..' must be a plain file name"},
    {"name: \"\"\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:1: name: value must not be empty"},
    {NULL, "name=../x", "command line: name=../x: '../x' must be a plain file name"},
    {"name: t\ndata: {samples: 64}\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 1\n"
     "  batch: 1000\n",
     NULL, "t.yaml:6: train.batch: 1000 exceeds data.samples 64 (use batch: full)"},
    {"name: t\ndata: {samples: [2000, 64]}\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 1\n"
     "  batch: [full, 64, 65]\n",
     NULL, "t.yaml:6: train.batch: 65 exceeds data.samples 64 (use batch: full)"},
    {NULL, "train.batch=5000",
     "command line: train.batch=5000: 5000 exceeds data.samples 4096 (use batch: full)"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 1\n  eval_fraction: 0.95\n", NULL,
     "t.yaml:5: train.eval_fraction: must be <= 0.9 (got 0.95)"},
    {"name: t\ndata: {samples: 64}\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 1\n"
     "  batch: 60\n  eval_fraction: 0.1\n",
     NULL,
     "t.yaml:6: train.batch: 60 exceeds the n_train = 58 training samples (data.samples 64 "
     "minus 6 held out by train.eval_fraction)"},
    {"name: t\ndata: {samples: 5}\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 1\n"
     "  eval_fraction: 0.1\n",
     NULL, "t.yaml:6: train.eval_fraction: 0.1 of data.samples 5 leaves no eval sample"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 1\n  eval_every: 3\n", NULL,
     "t.yaml:5: train.eval_every: 3 needs a held-out split (set train.eval_fraction > 0)"},
    {NULL, "train.eval_every=-1", "command line: train.eval_every=-1: must be >= 0 (got -1)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  activation: [elu, gelu2]\ntrain: {steps: 1}\n",
     NULL, "t.yaml:5: model.activation: unknown value 'gelu2' (did you mean 'gelu'?)"},
    {NULL, "model.activation=hardtanh",
     "command line: model.activation=hardtanh: unknown value 'hardtanh' (did you mean "
     "'hard_tanh'?)"},
    {NULL, "model.init=xavier_norml",
     "command line: model.init=xavier_norml: unknown value 'xavier_norml' (did you mean "
     "'xavier_normal'?)"},
    {NULL, "model.init=orthogonl", "(did you mean 'orthogonal'?)"},
    {"name: t\nmodel: {depth: 1, width: 8, leaky_alpha: -0.1}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: model.leaky_alpha: must be >= 0 (got -0.1)"},
    {NULL, "model.elu_alpha=x",
     "command line: model.elu_alpha=x: expected a finite number, got 'x'"},
    {NULL, "model.init_noise=-1", "command line: model.init_noise=-1: must be >= 0 (got -1)"},
    {NULL, "model.alpha=0.1", "unknown key 'model.alpha'"},
    {"name: t\ndata:\n  kind: gaussian_mixture\n  teacher_depth: 2\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1}\n",
     NULL,
     "t.yaml:4: data.teacher_depth: not used by data kind 'gaussian_mixture' (only by 'teacher')"},
    {"name: t\ndata:\n  kind: spirals\n  dim: 3\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n",
     NULL,
     "t.yaml:4: data.dim: not used by data kind 'spirals' (only by 'gaussian_mixture', "
     "'teacher', 'random_labels')"},
    {"name: t\ndata:\n  kind: teacher\n  classes: 3\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1, loss: mse}\n",
     NULL, "t.yaml:4: data.classes: not used by data kind 'teacher'"},
    {"name: t\ndata:\n  kind: random_labels\n  noise: 0.1\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1}\n",
     NULL,
     "t.yaml:4: data.noise: not used by data kind 'random_labels' (only by 'teacher', "
     "'spirals')"},
    {"name: t\ndata:\n  kind: teacher\n  teacher_activation: tahn\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1, loss: mse}\n",
     NULL, "t.yaml:4: data.teacher_activation: unknown value 'tahn' (did you mean 'tanh'?)"},
    {"name: t\ndata:\n  kind: teacher\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:3: train.loss: cross_entropy needs labels, but data kind 'teacher' gives float "
     "targets (use loss: mse)"},
    {"name: t\ndata:\n  kind: teacher\n  outputs: 0\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1, loss: mse}\n",
     NULL, "t.yaml:4: data.outputs: must be >= 1 (got 0)"},
    {"name: t\ndata:\n  kind: spirals\n  samples: 10\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1, batch: 11}\n",
     NULL, "t.yaml:6: train.batch: 11 exceeds data.samples 10 (use batch: full)"},
    {"name: t\ndata:\n  kind: mnist_idx\n  images: i.gz\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:2: data.labels: required key missing"},
    {"name: t\ndata:\n  kind: mnist_idx\n  images: i\n  labels: l\n  limit: -1\n"
     "model: {depth: 1, width: 8}\ntrain: {steps: 1}\n",
     NULL, "t.yaml:6: data.limit: must be >= 0 (got -1)"},
    {"name: t\ndata:\n  kind: hdf5\n  path: d.h5\n  limit: 5\nmodel: {depth: 1, width: 8}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:5: data.limit: not used by data kind 'hdf5' (only by 'mnist_idx')"},
    {"name: t\ndata: {normalize: yes}\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:2: data.normalize: unknown value 'yes'"},
};

/* What the name and batch checks still accept: plain file names, a batch equal to the sample
 * count, and any batch for hdf5 data (its size is known only when the file is read). */
static void test_accepted(void)
{
    static const char *const ok[] = {
        "name: a.b-c_D9\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1}\n",
        "name: x\ndata: {samples: 64}\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1, batch: 64}\n",
        "name: x\ndata: {samples: [64, 128]}\nmodel: {depth: 1, width: 8}\n"
        "train: {steps: 1, batch: [full, 64]}\n",
        "name: x\ndata: {kind: hdf5, path: d.h5}\nmodel: {depth: 1, width: 8}\n"
        "train: {steps: 1, batch: 1000000}\n",
        "name: x\nmodel: {depth: 1, width: 8, activation: [linear, tanh, sigmoid, relu, "
        "leaky_relu, elu, selu, gelu, softplus, swish, silu, softsign, hard_tanh], "
        "init: [normal, normal_std, uniform, xavier_normal, xavier_uniform, he_normal, he_uniform, "
        "lecun_normal, orthogonal, identity], leaky_alpha: [0.01, 0.2], elu_alpha: 0.5, "
        "init_noise: 0.01}\ntrain: {steps: 1}\n",
        "name: x\ndata: {kind: teacher, dim: 4, samples: 50, outputs: 2, noise: 0.1, "
        "teacher_depth: 3, teacher_width: 16, teacher_activation: relu, normalize: true}\n"
        "model: {depth: 1, width: 8}\ntrain: {steps: 1, loss: mse, batch: 50}\n",
        "name: x\ndata: {kind: spirals, classes: 3, samples: 90, noise: [0, 0.2]}\n"
        "model: {depth: 1, width: 8}\ntrain: {steps: 1}\n",
        "name: x\ndata: {kind: random_labels, classes: 5, dim: 7, samples: 20}\n"
        "model: {depth: 1, width: 8}\ntrain: {steps: 1}\n",
        "name: x\ndata: {kind: mnist_idx, images: a-images.gz, labels: a-labels, limit: 100, "
        "normalize: false}\nmodel: {depth: 1, width: 8}\ntrain: {steps: 1, batch: 1000000}\n",
        "name: x\ndata: {kind: [gaussian_mixture, spirals, random_labels], classes: [2, 3]}\n"
        "model: {depth: 1, width: 8}\ntrain: {steps: 1}\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        gs_error err;
        gs_plan *p = parse(ok[i], NULL, 0, &err);
        CHECK(p != NULL);
        gs_plan_destroy(p);
    }
}

/* Each case fails with GS_ESPEC, no plan, and a message containing its text. */
static void check_bad(const bad_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *text = cases[i].text ? cases[i].text : base_spec;
        const char *ovr[1] = {cases[i].ovr};
        gs_plan *p = NULL;
        gs_error err;
        gs_error_clear(&err);
        gs_status st =
            gs_plan_parse(&p, text, strlen(text), "t.yaml", ovr, cases[i].ovr ? 1 : 0, &err);
        CHECK_EQ_INT(st, GS_ESPEC);
        CHECK(p == NULL);
        CHECK_HAS_STR(err.msg, cases[i].want);
        gs_plan_destroy(p);
    }
}

static void test_errors(void)
{
    check_bad(bad, sizeof bad / sizeof bad[0]);
    gs_plan *p = NULL;
    gs_error err;
    CHECK_EQ_INT(gs_plan_load(&p, "/nonexistent/spec.yaml", NULL, 0, &err), GS_EIO);
    CHECK_HAS_STR(err.msg, "/nonexistent/spec.yaml");
    CHECK(p == NULL);
}

/* The definition of the snapshot steps, step by step as documented in config.h: s is taken when it
 * is an explicit step, a multiple of grad_every, 0 or steps - 1 (log on), or one of the interior
 * log-spaced steps round(exp(i ln(steps) / (n - 1))) - 1, i = 1..n-2. O(steps * n): a reference. */
static size_t ref_snapshot_steps(const gs_record *rec, int64_t steps, int64_t *out, size_t cap)
{
    size_t cnt = 0;
    int64_t nlog = rec->grad_log;
    for (int64_t s = 0; s < steps; s++) {
        int take = 0;
        for (size_t i = 0; i < rec->n_grad_steps; i++)
            take = take || rec->grad_steps[i] == s;
        if (!take && rec->grad_every > 0)
            take = s % rec->grad_every == 0;
        if (!take && nlog > 0) {
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

/* gs_record_snapshot_steps against the reference for many (steps, every, log, list) combinations,
 * including one-step runs, log 1 and 2, lists with duplicates, unsorted and out-of-range steps,
 * and a capacity smaller than the count. */
static void test_snapshot_steps(void)
{
    static const int64_t steps_v[] = {1,  2,  3,  4,   5,   7,   10,   16,
                                      17, 50, 99, 100, 101, 257, 1000, 4097};
    static const int64_t every_v[] = {0, 1, 2, 3, 7, 50, 1000, 100000};
    static const int64_t log_v[] = {0, 1, 2, 3, 4, 5, 8, 13, 50, 64, 1000, 100000};
    static const int64_t l1[] = {0}, l2[] = {0, 0, 3, 3, 9}, l3[] = {5, 1, 5, -3, 0},
                         l4[] = {0, 50, 100, 199}, l5[] = {1000, 1000000000000000};
    static const struct {
        const int64_t *v;
        size_t n;
    } lists[] = {{NULL, 0}, {l1, 1}, {l2, 5}, {l3, 5}, {l4, 4}, {l5, 2}};
    int64_t *got = malloc(5000 * sizeof *got), *want = malloc(5000 * sizeof *want),
            *part = malloc(5000 * sizeof *part);
    size_t combos = 0, n_bad = 0;
    CHECK(got && want && part);
    for (size_t a = 0; got && want && part && a < sizeof steps_v / sizeof *steps_v; a++)
        for (size_t b = 0; b < sizeof every_v / sizeof *every_v; b++)
            for (size_t c = 0; c < sizeof log_v / sizeof *log_v; c++)
                for (size_t d = 0; d < sizeof lists / sizeof *lists; d++) {
                    int64_t steps = steps_v[a];
                    if (log_v[c] > 0 && (double)steps * (double)log_v[c] > 3e5 && every_v[b] != 1)
                        continue; /* keep the O(steps * log) reference fast */
                    gs_record rec;
                    memset(&rec, 0, sizeof rec);
                    rec.grad_steps = (int64_t *)(uintptr_t)lists[d].v;
                    rec.n_grad_steps = lists[d].n;
                    rec.grad_every = every_v[b];
                    rec.grad_log = log_v[c];
                    size_t nw = ref_snapshot_steps(&rec, steps, want, 5000);
                    size_t n0 = gs_record_snapshot_steps(&rec, steps, NULL, 0);
                    size_t ng = gs_record_snapshot_steps(&rec, steps, got, 5000);
                    size_t nc = gs_record_snapshot_steps(&rec, steps, part, nw / 2);
                    int ok = n0 == nw && ng == nw && nc == nw &&
                             memcmp(got, want, nw * sizeof *got) == 0 &&
                             memcmp(part, want, nw / 2 * sizeof *got) == 0;
                    combos++;
                    if (!ok && n_bad++ < 5)
                        fprintf(stderr,
                                "snapshot steps differ: steps %lld every %lld log %lld "
                                "list %zu: %zu vs %zu\n",
                                (long long)steps, (long long)rec.grad_every,
                                (long long)rec.grad_log, d, ng, nw);
                }
    CHECK(combos > 3000);
    CHECK_EQ_INT(n_bad, 0);
    free(got);
    free(want);
    free(part);
}

/* The cost does not grow with the number of steps: a 10^12-step run with a few explicit steps,
 * and log-spaced steps over 10^7 steps. A step-by-step walk would not finish these calls before
 * the CTest time-out (no wall-clock limit here: the machine is shared). */
static void test_snapshot_fast(void)
{
    int64_t list[] = {0, 50, 100, 199}, out[64];
    gs_record rec;
    memset(&rec, 0, sizeof rec);
    rec.grad_steps = list;
    rec.n_grad_steps = 4;
    rec.grad_log = 50;
    size_t n = gs_record_snapshot_steps(&rec, 10000000, out, 64);
    CHECK(n > 40 && n <= 54);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[n - 1], 9999999);
    rec.grad_log = 0;
    CHECK_EQ_INT(gs_record_snapshot_steps(&rec, 1000000000000, out, 64), 4);
    CHECK_EQ_INT(out[3], 199);
    rec.grad_log = 1000000000000000; /* far more log points than steps */
    CHECK_EQ_INT(gs_record_snapshot_steps(&rec, 1000, NULL, 0), 1000);
    rec.grad_log = 2;
    rec.grad_every = 1000000;
    CHECK_EQ_INT(gs_record_snapshot_steps(&rec, 1000000000000, out, 64),
                 1000000 + 3 + 1); /* multiples of 10^6, then 50, 100, 199, and the last step */
}

/* The optimizer, schedule and clipping keys: accepted values and the clip sugar, ids of runs at
 * the defaults unchanged, and each error with its message. */
static void test_train_keys(void)
{
    static const char *const head = "name: x\nmodel: {depth: 1, width: 8}\n";
    static const struct {
        const char *train, *want; /* want NULL: accepted */
    } cases[] = {
        {"{steps: 5, optimizer: [sgd, momentum, adam, adamw, rmsprop], nesterov: true, "
         "momentum: 0.5, beta1: 0.8, beta2: 0.99, eps: 1e-6, rho: 0.9, weight_decay: 0.01}",
         NULL},
        {"{steps: 5, schedule: [constant, cosine], warmup: 2}", NULL},
        {"{steps: 5, schedule: step, step_size: 2, gamma: 0.5}", NULL},
        {"{steps: 5, clip: {norm: [1, 2]}}", NULL},
        {"{steps: 5, clip: {value: 0.5}, clip_norm: 0}", NULL},
        {"{steps: 5, optimizer: adma}", "unknown value 'adma' (did you mean 'adam'?)"},
        {"{steps: 5, schedule: cosin}", "unknown value 'cosin' (did you mean 'cosine'?)"},
        {"{steps: 5, nesterov: yes}", "expected one of: false, true"},
        {"{steps: 5, beta2: 1}", "train.beta2"},
        {"{steps: 5, momentum: -0.1}", "train.momentum"},
        {"{steps: 5, eps: 0}", "train.eps"},
        {"{steps: 5, warmup: 1.5}", "train.warmup"},
        {"{steps: 5, clip_norm: 1, clip_value: 2}", "exclusive"},
        {"{steps: 5, clip: {norm: [0, 1]}, clip_value: [0, 2]}", "exclusive"},
        {"{steps: 5, clip: {norm: 1}, clip_norm: 2}", "given twice"},
        {"{steps: 5, clip: {nrom: 1}}",
         "train.clip.nrom: unknown key 'nrom' (did you mean 'norm'?)"},
        {"{steps: 5, clip: 1}", "expected {norm: c} or {value: c}"},
        {"{steps: 5, clip: {norm: 1, value: 2}}", "expected {norm: c} or {value: c}"},
        {"{steps: 5, clip: {norm: -1}}", "train.clip_norm"},
        {"{steps: 5, schedule: [constant, step]}", "train.step_size: required"},
        {"{steps: 5, clipp: {norm: 1}}", "did you mean 'clip'?"},
    };
    char text[512];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gs_plan *p = NULL;
        gs_error err;
        gs_error_clear(&err);
        snprintf(text, sizeof text, "%strain: %s\n", head, cases[i].train);
        gs_status st = gs_plan_parse(&p, text, strlen(text), "t.yaml", NULL, 0, &err);
        if (!cases[i].want) {
            CHECK_EQ_INT(st, GS_OK);
            if (st)
                fprintf(stderr, "case %zu: %s\n", i, err.msg);
        } else {
            CHECK_EQ_INT(st, GS_ESPEC);
            CHECK_HAS_STR(err.msg, cases[i].want);
            CHECK_HAS_STR(err.msg, "t.yaml:3:");
        }
        gs_plan_destroy(p);
    }
    /* Keys at their defaults stay out of the id: spelling them out changes no run. */
    gs_error err;
    snprintf(text, sizeof text, "%strain: {steps: 5}\n", head);
    gs_plan *a = parse(text, NULL, 0, &err);
    snprintf(text, sizeof text,
             "%strain: {steps: 5, optimizer: sgd, momentum: 0.9, nesterov: false, beta1: 0.9, "
             "beta2: 0.999, eps: 1e-8, rho: 0.99, weight_decay: 0, schedule: constant, warmup: 0, "
             "step_size: 0, gamma: 0.1, clip: {norm: 0}, clip_value: 0}\n",
             head);
    gs_plan *b = parse(text, NULL, 0, &err);
    CHECK(a && b && a->n_runs == 1 && b->n_runs == 1 && strcmp(a->runs[0].id, b->runs[0].id) == 0);
    gs_plan_destroy(a);
    gs_plan_destroy(b);
    /* Overrides reach the new keys; both clip kinds on the command line is an error there. */
    const char *ovr[2] = {"train.clip_norm=1", "train.clip_value=1"};
    snprintf(text, sizeof text, "%strain: {steps: 5}\n", head);
    gs_plan *c = NULL;
    CHECK_EQ_INT(gs_plan_parse(&c, text, strlen(text), "t.yaml", ovr, 2, &err), GS_ESPEC);
    CHECK_HAS_STR(err.msg, "command line: train.clip_value=1");
    gs_plan_destroy(c);
}

/* A spec "name: x" + model (flow mapping body) + train (flow mapping body), parsed; NULL (and a
 * failed check) when it is rejected. */
static gs_plan *parse_mt(const char *model, const char *train, const char *const *ovr, size_t n)
{
    char text[4096];
    gs_error err;
    snprintf(text, sizeof text, "name: x\nmodel: {%s}\ntrain: {%s}\n", model, train);
    gs_plan *p = parse(text, ovr, n, &err);
    CHECK(p != NULL);
    return p;
}

/* The canonical text of run r of p. */
static const char *canon_of(const gs_plan *p, size_t r, char *buf, size_t n)
{
    gs_run_canonical(&p->runs[r].cfg, p->runs[r].replicate, buf, n);
    return buf;
}

/* model.width: {layers: [...]}: the stored list, cfg->width = first entry, gs_config_width,
 * the canonical "[..]" text (a uniform width unchanged), the resolved YAML, and overrides. */
static void test_width_layers(void)
{
    char buf[2048];
    CHECK(gs_key_has_list(gs_key_find("model.width")));
    CHECK(!gs_key_has_list(gs_key_find("model.depth")));
    CHECK(!gs_key_has_list(gs_key_find("data.teacher_width")));

    gs_plan *p = parse_mt("depth: 3, width: {layers: [64, 32.0, 16]}", "steps: 1", NULL, 0);
    if (p) {
        const gs_run_config *c = &p->runs[0].cfg;
        CHECK_EQ_INT(p->n_runs, 1);
        CHECK_EQ_INT(p->n_axes, 0);
        CHECK_EQ_STR(c->width_list, "64,32,16");
        CHECK_EQ_INT(c->width, 64);
        CHECK_EQ_INT(gs_config_width(c, 0), 64);
        CHECK_EQ_INT(gs_config_width(c, 1), 32);
        CHECK_EQ_INT(gs_config_width(c, 2), 16);
        CHECK_EQ_STR(canon_of(p, 0, buf, sizeof buf),
                     "model.depth=3\nmodel.width=[64,32,16]\ntrain.steps=1\nreplicate=0\n");
        CHECK_EQ_STR(gs_key_format(gs_key_find("model.width"), c, buf, sizeof buf), "[64,32,16]");
        CHECK_HAS_STR(p->resolved_yaml, "  width: {layers: [64,32,16]}\n");
        /* cost: 6 * sum n_l n_(l+1) * rows * steps, d = 32, k = 10, full batch of 4096 */
        CHECK_NEAR(p->runs[0].cost, 6.0 * (32 * 64 + 64 * 32 + 32 * 16 + 16 * 10) * 4096.0, 0, 0);
        check_round_trip(p);
    }
    /* block style, and the same list from the command line: one run, one id */
    gs_error err;
    gs_plan *q = parse("name: x\nmodel:\n  depth: 3\n  width:\n    layers:\n      - 64\n"
                       "      - 32\n      - 16\ntrain: {steps: 1}\n",
                       NULL, 0, &err);
    const char *ovr[] = {"model.width=[ 64, 32 ,16 ]"};
    gs_plan *o = parse_mt("depth: 3, width: 5", "steps: 1", ovr, 1);
    CHECK(p && q && o && strcmp(p->runs[0].id, q->runs[0].id) == 0 &&
          strcmp(p->runs[0].id, o->runs[0].id) == 0);
    gs_plan_destroy(q);
    gs_plan_destroy(o);

    /* a uniform width keeps its text and id; a list of equal widths is a different run */
    gs_plan *u =
        parse_mt("depth: 2, width: [8, {layers: [8, 8]}, {layers: [8, 4]}]", "steps: 1", NULL, 0);
    gs_plan *b = parse_mt("depth: 2, width: 8", "steps: 1", NULL, 0);
    if (u && b) {
        CHECK_EQ_INT(u->n_runs, 3);
        CHECK_EQ_STR(u->axes[0].values[0], "8");
        CHECK_EQ_STR(u->axes[0].values[1], "[8,8]");
        CHECK_EQ_STR(u->axes[0].values[2], "[8,4]");
        CHECK_EQ_STR(u->runs[0].cfg.width_list, "");
        CHECK_EQ_STR(u->runs[2].cfg.width_list, "8,4");
        CHECK_EQ_STR(canon_of(u, 0, buf, sizeof buf),
                     "model.depth=2\nmodel.width=8\ntrain.steps=1\nreplicate=0\n");
        CHECK_EQ_STR(u->runs[0].id, b->runs[0].id);
        CHECK(ids_unique(u));
        CHECK_HAS_STR(u->resolved_yaml, "  width: [8, {layers: [8,8]}, {layers: [8,4]}]\n");
        check_round_trip(u);
    }
    gs_plan_destroy(b);
    gs_plan_destroy(u);

    /* an axis of lists ({values: [...]}, or lists from the command line), and overriding a list
     * by a uniform width */
    gs_plan *v = parse_mt("depth: 2, width: {values: [{layers: [64, 32]}, {layers: [32, 64]}]}",
                          "steps: 1", NULL, 0);
    const char *ovr2[] = {"model.width=[64,32],[32,64]"};
    gs_plan *w = parse_mt("depth: 2, width: 8", "steps: 1", ovr2, 1);
    const char *ovr3[] = {"model.width=8"};
    gs_plan *x = parse_mt("depth: 2, width: {layers: [64, 32]}", "steps: 1", ovr3, 1);
    if (v && w && x) {
        CHECK_EQ_INT(v->n_runs, 2);
        CHECK_EQ_STR(v->axes[0].values[1], "[32,64]");
        CHECK_EQ_INT(v->runs[1].cfg.width, 32);
        CHECK(strcmp(v->runs[0].id, v->runs[1].id) != 0);
        CHECK_EQ_INT(w->n_axes, 1);
        check_same_plan(v, w);
        CHECK_EQ_STR(x->runs[0].cfg.width_list, "");
        CHECK_EQ_INT(x->runs[0].cfg.width, 8);
        check_round_trip(v);
    }
    gs_plan_destroy(v);
    gs_plan_destroy(w);
    gs_plan_destroy(x);

    /* generators still make uniform widths; the depth may be an axis when the list fits all */
    gs_plan *g = parse_mt("depth: [1, 2], width: {logspace: [4, 16, 3]}", "steps: 1", NULL, 0);
    if (g)
        CHECK_EQ_STR(g->axes[1].values[1], "8");
    gs_plan_destroy(g);

    /* the longest list: 256 one-digit widths are 511 characters, which fit */
    char model[2048];
    size_t len = (size_t)snprintf(model, sizeof model, "depth: 256, width: {layers: [1");
    for (int i = 1; i < 256; i++)
        len += (size_t)snprintf(model + len, sizeof model - len, ", 1");
    snprintf(model + len, sizeof model - len, "]}");
    gs_plan *m = parse_mt(model, "steps: 1", NULL, 0);
    if (m) {
        CHECK_EQ_INT(strlen(m->runs[0].cfg.width_list), 511);
        CHECK_EQ_INT(gs_config_width(&m->runs[0].cfg, 255), 1);
        check_round_trip(m);
    }
    gs_plan_destroy(m);
    gs_plan_destroy(p);
}

static const bad_case bad_layers[] = {
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: [64, 0]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: layers entry 2: must be >= 1 (got 0)"},
    {"name: t\nmodel:\n  depth: 2\n  width:\n    layers:\n      - 64\n      - 2000000\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:7: model.width: layers entry 2: must be <= 1000000 (got 2000000)"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: [64, x]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: layers entry 2: expected an integer, got 'x'"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: [2.5, 4]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: layers entry 1: expected an integer, got '2.5'"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: [64, [1, 2]]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: layers entry 2: expected an integer, not a list"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: []}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: layers: empty list (one width per hidden layer)"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: 64}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: layers takes a list of widths, one per hidden layer"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: [8, 8], values: [8]}\ntrain: {steps: 1}\n",
     NULL, "t.yaml:4: model.width: a mapping has one key: layers, logspace, linspace or values"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layer: [8, 8]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: unknown axis form 'layer' (did you mean 'layers'?)"},
    {"name: t\nmodel:\n  depth: 2\n  width: {values: [8, {layer: [8, 8]}]}\ntrain: {steps: 1}\n",
     NULL, "t.yaml:4: model.width.layer: unknown key 'layer' (did you mean 'layers'?)"},
    {"name: t\nmodel:\n  depth: 2\n  width: [{layers: [8, 8], x: 1}]\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: expected {layers: [w1, ...]}"},
    {"name: t\nmodel:\n  depth: 2\n  width: [{layers: [8, 4]}, {layers: [8.0, 4]}]\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:4: model.width: value '[8.0,4]' repeats an earlier value of the axis ('[8,4]')"},
    {"name: t\nmodel:\n  depth: 2\n  width: {layers: [64, 32, 16]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: 3 layer widths [64,32,16], but model.depth is 2 (one width per "
     "hidden layer)"},
    {"name: t\nmodel:\n  depth: [3, 4]\n  width: {layers: [64, 32, 16]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: 3 layer widths [64,32,16], but model.depth is 4"},
    {"name: t\nmodel:\n  depth: 0\n  width: {layers: [8]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:4: model.width: 1 layer widths [8], but model.depth is 0"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  sigma_w: {layers: [1, 2]}\ntrain: {steps: 1}\n",
     NULL, "t.yaml:5: model.sigma_w: {layers: [...]} is only for model.width"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  sigma_w: {values: [1], x: 2}\ntrain: {steps: 1}\n",
     NULL, "t.yaml:5: model.sigma_w: an axis mapping has one key: logspace, linspace or values"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  sigma_w: [1, {layers: [1]}]\ntrain: {steps: 1}\n",
     NULL, "t.yaml:5: model.sigma_w: expected a single value, not a mapping"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  sigma_w: {layer: [1]}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.sigma_w: unknown axis form 'layer' (expected one of: logspace, linspace, "
     "values)"},
    {NULL, "model.width=[8,8",
     "command line: model.width=[8,8: expected an integer or a layer list [w1,w2,...], got "
     "'[8,8'"},
    {NULL, "model.width=[]", "command line: model.width=[]: layers: empty list"},
    {NULL, "model.width=[8,,8]",
     "command line: model.width=[8,,8]: layers entry 2: expected an integer, got ''"},
    {NULL, "model.width=[8,8,]",
     "command line: model.width=[8,8,]: layers entry 3: expected an "
     "integer, got ''"},
    {NULL, "model.width=[8,0]", "command line: model.width=[8,0]: layers entry 2: must be >= 1"},
    {NULL, "model.width=[8,8],[8,8.0]",
     "command line: model.width=[8,8],[8,8.0]: value '[8,8.0]' repeats an earlier value of the "
     "axis ('[8,8]')"},
    {NULL, "model.width=[8,4,2]",
     "command line: model.width=[8,4,2]: 3 layer widths [8,4,2], but model.depth is 2"},
    {NULL, "model.depth=[2,3]",
     "command line: model.depth=[2,3]: expected an integer, got '[2,3]'"},
};

/* The longest list that does not fit: 257 one-digit widths, 513 characters. */
static void test_width_too_long(void)
{
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text,
                                  "name: t\nmodel:\n  depth: 257\n  width: "
                                  "{layers: [1");
    for (int i = 1; i < 257; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, ", 1");
    snprintf(text + len, sizeof text - len, "]}\ntrain: {steps: 1}\n");
    bad_case c[] = {{text, NULL,
                     "t.yaml:4: model.width: layers: 257 widths take 513 characters as text, more "
                     "than the 511 that fit"}};
    check_bad(c, 1);
}

/* The residual sugar and blocks, batchnorm's batch rows, and the simple keys of issue 3. */
/* Runs that differ only in precision (train.dtype, train.ftz) have their own ids but one seed;
 * a run at the default precision keeps the seed of its id, and other keys still change it. */
static void test_precision_seed(void)
{
    gs_plan *p = parse_mt("depth: 2, width: 8, sigma_w: [1, 2]",
                          "steps: 1, dtype: [float64, float32], ftz: [false, true]", NULL, 0);
    CHECK_EQ_INT(p->n_runs, 8);
    for (size_t i = 0; i < p->n_runs; i++) {
        const gs_run *r = &p->runs[i];
        if (r->cfg.dtype == GS_DTYPE_FLOAT64 && !r->cfg.ftz)
            CHECK(r->seed == gs_run_seed(p->master_seed, strtoull(r->id, NULL, 16)));
        for (size_t j = 0; j < p->n_runs; j++) {
            const gs_run *q = &p->runs[j];
            CHECK(i == j || strcmp(r->id, q->id) != 0);
            CHECK((r->cfg.sigma_w == q->cfg.sigma_w) == (r->seed == q->seed));
        }
    }
    gs_plan_destroy(p);
}

static void test_arch_keys(void)
{
    static const struct {
        const char *model, *train;
    } ok[] = {
        {"depth: 5, width: {layers: [32, 64, 32, 16, 32]}, residual: {every: 2}", "steps: 1"},
        {"depth: 4, width: {layers: [8, 4, 8, 5]}, residual: {every: 2}", "steps: 1"},
        {"depth: 3, width: {layers: [8, 4, 2]}, residual: {every: 3, alpha: 0.5}", "steps: 1"},
        {"depth: [1, 7], width: 8, residual: {every: [1, 2, 3]}", "steps: 1"},
        {"depth: 3, width: {layers: [4, 4, 4]}, residual_every: 1, residual_alpha: 0", "steps: 1"},
        {"depth: 2, width: 8, norm: [none, batchnorm, layernorm], norm_eps: 1e-3, "
         "norm_momentum: [0, 0.5, 1], bias: [true, false]",
         "steps: 1, batch: 2, dtype: [float64, float32], ftz: [false, true]"},
        {"depth: 2, width: 8, norm: layernorm", "steps: 1, batch: 1"},
        {"depth: 2, width: 8, norm: batchnorm", "steps: 1, batch: full"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        gs_plan_destroy(parse_mt(ok[i].model, ok[i].train, NULL, 0));

    /* the sugar is the plain keys (same id); it may hold axes; defaults stay out of the id */
    char buf[1024];
    gs_plan *a =
        parse_mt("depth: 2, width: 8, residual: {every: 2, alpha: 0.5}", "steps: 1", NULL, 0);
    gs_plan *b =
        parse_mt("depth: 2, width: 8, residual_alpha: 0.5, residual_every: 2", "steps: 1", NULL, 0);
    gs_plan *c = parse_mt("depth: 2, width: 8, residual: {every: [0, 2]}", "steps: 1", NULL, 0);
    gs_plan *dflt = parse_mt("depth: 2, width: 8, bias: true, norm: none, norm_eps: 1e-5, "
                             "norm_momentum: 0.1, residual: {every: 0, alpha: 1}",
                             "steps: 10, dtype: float64, ftz: false", NULL, 0);
    gs_plan *base = parse_mt("depth: 2, width: 8", "steps: 10", NULL, 0);
    gs_plan *all = parse_mt("depth: 2, width: 8, bias: false, norm: batchnorm, norm_eps: 1e-3, "
                            "norm_momentum: 0.2",
                            "steps: 10, dtype: float32, ftz: true", NULL, 0);
    if (a && b && c && dflt && base && all) {
        CHECK_EQ_STR(a->runs[0].id, b->runs[0].id);
        CHECK_EQ_INT(a->runs[0].cfg.residual_every, 2);
        CHECK(a->runs[0].cfg.residual_alpha == 0.5);
        CHECK_EQ_STR(canon_of(a, 0, buf, sizeof buf),
                     "model.depth=2\nmodel.residual_alpha=0.5\nmodel.residual_every=2\n"
                     "model.width=8\ntrain.steps=1\nreplicate=0\n");
        CHECK_HAS_STR(a->resolved_yaml, "  residual_every: 2\n  residual_alpha: 0.5\n");
        check_round_trip(a);
        CHECK_EQ_INT(c->n_axes, 1);
        CHECK_EQ_STR(c->axes[0].key->path, "model.residual_every");
        check_round_trip(c);
        CHECK_EQ_STR(dflt->runs[0].id, base->runs[0].id);
        CHECK_EQ_STR(canon_of(all, 0, buf, sizeof buf),
                     "model.bias=false\nmodel.depth=2\nmodel.norm=batchnorm\n"
                     "model.norm_eps=0.001\nmodel.norm_momentum=0.2\nmodel.width=8\n"
                     "train.dtype=float32\ntrain.ftz=true\ntrain.steps=10\nreplicate=0\n");
        CHECK_EQ_INT(all->runs[0].cfg.bias, 0);
        CHECK_EQ_INT(all->runs[0].cfg.norm, GS_NORM_BATCHNORM);
        CHECK_EQ_INT(all->runs[0].cfg.dtype, GS_DTYPE_FLOAT32);
        CHECK_EQ_INT(all->runs[0].cfg.ftz, 1);
        check_round_trip(all);
    }
    gs_plan_destroy(a);
    gs_plan_destroy(b);
    gs_plan_destroy(c);
    gs_plan_destroy(dflt);
    gs_plan_destroy(base);
    gs_plan_destroy(all);

    /* batchnorm on file data: the batch is checked when the file is loaded */
    gs_error err;
    gs_plan *h = parse("name: x\ndata: {kind: hdf5, path: d.h5}\nmodel: {depth: 1, width: 8, "
                       "norm: batchnorm}\ntrain: {steps: 1, batch: 1}\n",
                       NULL, 0, &err);
    CHECK(h != NULL);
    gs_plan_destroy(h);
}

static const bad_case bad_arch[] = {
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: 2\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.residual: expected {every: k, alpha: a}"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: {}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.residual: expected {every: k, alpha: a}"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: {every: 1, alpha: 1, x: 2}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:5: model.residual: expected {every: k, alpha: a}"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: {evry: 2}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.residual.evry: unknown key 'evry' (did you mean 'every'?)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual:\n    every: 2\n    every: 3\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:7: model.residual.every: duplicate key (first at line 6)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: {every: 2}\n  residual_every: 2\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:6: model.residual_every: given twice (residual and residual_every)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual_alpha: 0.5\n  residual: {alpha: 1}\n"
     "train: {steps: 1}\n",
     NULL, "t.yaml:6: model.residual_alpha: given twice (residual and residual_alpha)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: {every: -1}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.residual_every: must be >= 0 (got -1)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: {every: 1.5}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.residual_every: expected an integer, got '1.5'"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  residual: {alpha: -1}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.residual_alpha: must be >= 0 (got -1)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  resdual: {every: 2}\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.resdual: unknown key 'resdual' (did you mean 'residual'?)"},
    {NULL, "model.residual=2",
     "command line: model.residual=2: 'model.residual' is spec mapping sugar; override its keys "
     "model.residual_every or model.residual_alpha"},
    {NULL, "train.clip=2",
     "command line: train.clip=2: 'train.clip' is spec mapping sugar; override its keys "
     "train.clip_norm or train.clip_value"},
    {"name: t\nmodel:\n  depth: 5\n  width: {layers: [32, 64, 16, 16, 32]}\n"
     "  residual: {every: 2}\ntrain: {steps: 1}\n",
     NULL,
     "t.yaml:5: model.residual_every: 2: the residual block of hidden layers 2..3 adds its input "
     "(layer 1, width 32) to its output (layer 3, width 16); the widths must be equal"},
    {"name: t\nmodel:\n  depth: 5\n  width: {layers: [32, 64, 32, 16, 16]}\n"
     "  residual_every: [1, 2]\ntrain: {steps: 1}\n",
     NULL,
     "t.yaml:5: model.residual_every: 1: the residual block of hidden layer 2 adds its input "
     "(layer 1, width 32) to its output (layer 2, width 64); the widths must be equal"},
    {"name: t\nmodel:\n  depth: 5\n  width: {layers: [32, 64, 32, 16, 16]}\n"
     "  residual_every: 2\ntrain: {steps: 1}\n",
     NULL,
     "t.yaml:5: model.residual_every: 2: the residual block of hidden layers 4..5 adds its input "
     "(layer 3, width 32) to its output (layer 5, width 16)"},
    {NULL, "model.residual_every=-2", "command line: model.residual_every=-2: must be >= 0"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  norm: batchnrm\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.norm: unknown value 'batchnrm' (did you mean 'batchnorm'?)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  norm: batchnorm\ntrain: {steps: 1, batch: 1}\n",
     NULL, "t.yaml:5: model.norm: batchnorm needs at least 2 rows per batch, but train.batch is 1"},
    {"name: t\ndata: {samples: 1}\nmodel:\n  depth: 2\n  width: 8\n  norm: [layernorm, batchnorm]\n"
     "train: {steps: 1}\n",
     NULL,
     "t.yaml:6: model.norm: batchnorm needs at least 2 rows per batch, but the full batch holds 1 "
     "training sample (data.samples 1)"},
    {"name: t\ndata: {samples: 2}\nmodel:\n  depth: 2\n  width: 8\n  norm: batchnorm\n"
     "train: {steps: 1, eval_fraction: 0.5}\n",
     NULL, "but the full batch holds 1 training sample (data.samples 2)"},
    {"name: t\nmodel: {depth: 2, width: 8}\ntrain: {steps: 1, batch: 1}\n", "model.norm=batchnorm",
     "command line: model.norm=batchnorm: batchnorm needs at least 2 rows per batch, but "
     "train.batch is 1"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  norm_eps: 0\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.norm_eps: must be >= 1e-300 (got 0)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  norm_momentum: 1.5\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.norm_momentum: must be <= 1 (got 1.5)"},
    {"name: t\nmodel:\n  depth: 2\n  width: 8\n  bias: no\ntrain: {steps: 1}\n", NULL,
     "t.yaml:5: model.bias: unknown value 'no' (expected one of: false, true)"},
    {"name: t\nmodel: {depth: 2, width: 8}\ntrain:\n  steps: 1\n  dtype: float16\n", NULL,
     "t.yaml:5: train.dtype: unknown value 'float16' (did you mean 'float32'?)"},
    {"name: t\nmodel: {depth: 2, width: 8}\ntrain:\n  steps: 1\n  ftz: 1\n", NULL,
     "t.yaml:5: train.ftz: unknown value '1' (expected one of: false, true)"},
    {NULL, "train.dtype=double",
     "command line: train.dtype=double: unknown value 'double' (expected one of: float32, "
     "float64)"},
};

/* The record section: defaults, every new key in the spec and on the command line, and the
 * resolved YAML round trip with everything on. */
static void test_record_keys(void)
{
    gs_error err;
    gs_plan *p = parse(base_spec, NULL, 0, &err);
    CHECK(p != NULL);
    if (p) { /* every plan carries the documented defaults */
        CHECK_EQ_INT(p->record.every, 1);
        CHECK_EQ_INT(p->record.dtype, GS_DTYPE_FLOAT32);
        CHECK_EQ_INT(p->record.level, GS_LEVEL_STANDARD);
        CHECK_EQ_INT(p->record.hist_bins, 0);
        CHECK_EQ_INT(p->record.hist_every, 0);
        CHECK(p->record.hist_min == -12 && p->record.hist_max == 2);
        CHECK_EQ_INT(p->record.probe_batch, 32);
        CHECK_EQ_INT(p->record.activations, 0);
        CHECK_EQ_INT(p->record.deltas, 0);
        CHECK_EQ_INT(p->record.jacobian_inputs, 0);
        CHECK_HAS_STR(p->resolved_yaml, "  level: standard\n  hist: null\n  probe_batch: 32\n"
                                        "  activations: false\n  deltas: false\n"
                                        "  jacobian: null\n");
        check_round_trip(p);
    }
    gs_plan_destroy(p);

    static const char *const all = "name: t\nmodel: {depth: 2, width: 8}\ntrain: {steps: 100}\n"
                                   "record:\n  grads: {steps: [99, 3], every: 40}\n"
                                   "  level: full\n"
                                   "  hist: {bins: 40, every: 5, min: -8.5, max: 0.25}\n"
                                   "  probe_batch: 16\n  activations: true\n  deltas: yes\n"
                                   "  jacobian: {inputs: 16}\n  weights: true\n";
    p = parse(all, NULL, 0, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(p->record.level, GS_LEVEL_FULL);
        CHECK_EQ_INT(p->record.hist_bins, 40);
        CHECK_EQ_INT(p->record.hist_every, 5);
        CHECK(p->record.hist_min == -8.5 && p->record.hist_max == 0.25);
        CHECK_EQ_INT(p->record.probe_batch, 16);
        CHECK_EQ_INT(p->record.activations, 1);
        CHECK_EQ_INT(p->record.deltas, 1);
        CHECK_EQ_INT(p->record.jacobian_inputs, 16);
        CHECK_EQ_INT(p->record.n_grad_steps, 2);
        CHECK_HAS_STR(p->resolved_yaml, "  level: full\n  hist: {bins: 40, every: 5, min: -8.5, "
                                        "max: 0.25}\n  probe_batch: 16\n  activations: true\n"
                                        "  deltas: true\n  jacobian: {inputs: 16}\n");
        check_round_trip(p);
    }
    gs_plan_destroy(p);

    /* overrides: each key, sub-keys of hist and jacobian, and none to switch them off */
    const char *ovr[] = {"record.level=basic",       "record.hist.bins=7",
                         "record.hist.max=3",        "record.probe_batch=64",
                         "record.activations=false", "record.jacobian.inputs=64",
                         "record.grads.log=5",       "record.deltas=false"};
    p = parse(all, ovr, sizeof ovr / sizeof *ovr, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(p->record.level, GS_LEVEL_BASIC);
        CHECK_EQ_INT(p->record.hist_bins, 7);
        CHECK_EQ_INT(p->record.hist_every, 5); /* parts not overridden stay */
        CHECK(p->record.hist_min == -8.5 && p->record.hist_max == 3);
        CHECK_EQ_INT(p->record.probe_batch, 64);
        CHECK_EQ_INT(p->record.activations, 0);
        CHECK_EQ_INT(p->record.deltas, 0);
        CHECK_EQ_INT(p->record.jacobian_inputs, 64);
        CHECK_EQ_INT(p->record.grad_log, 5);
        CHECK_EQ_INT(p->record.grad_every, 40);
        CHECK_EQ_INT(p->record.n_grad_steps, 2);
        check_round_trip(p);
    }
    gs_plan_destroy(p);
    const char *off[] = {"record.hist=none", "record.jacobian=none"};
    p = parse(all, off, 2, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(p->record.hist_bins, 0);
        CHECK(p->record.hist_min == -12 && p->record.hist_max == 2);
        CHECK_EQ_INT(p->record.jacobian_inputs, 0);
        CHECK_HAS_STR(p->resolved_yaml, "  hist: null\n");
        check_round_trip(p);
    }
    gs_plan_destroy(p);
    /* hist: null and jacobian: null are off; hist without every follows record.every */
    p = parse("name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 10}\n"
              "record: {hist: null, jacobian: ~, every: 3}\n",
              NULL, 0, &err);
    CHECK(p && p->record.hist_bins == 0 && p->record.jacobian_inputs == 0);
    gs_plan_destroy(p);
    const char *hist_on[] = {"record.hist.bins=12"};
    p = parse(base_spec, hist_on, 1, &err);
    CHECK(p && p->record.hist_bins == 12 && p->record.hist_every == 0);
    if (p) {
        CHECK_HAS_STR(p->resolved_yaml, "  hist: {bins: 12, min: -12, max: 2}\n");
        check_round_trip(p);
    }
    gs_plan_destroy(p);

    /* record settings leave run ids alone */
    gs_plan *a = parse(base_spec, NULL, 0, &err), *b = parse(all, NULL, 0, &err);
    const char *steps10[] = {"train.steps=10"};
    gs_plan *c = b ? parse(base_spec, steps10, 1, &err) : NULL;
    CHECK(a && b && c);
    if (a && c)
        CHECK_EQ_STR(a->runs[0].id, c->runs[0].id);
    gs_plan_destroy(a);
    gs_plan_destroy(b);
    gs_plan_destroy(c);
}

#define REC_HEAD "name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 200}\nrecord:\n"
static const bad_case bad_record[] = {
    {REC_HEAD "  level: ful\n", NULL,
     "t.yaml:5: record.level: unknown value 'ful' (did you mean 'full'?)"},
    {REC_HEAD "  levl: full\n", NULL,
     "t.yaml:5: record.levl: unknown key 'levl' (did you mean 'level'?)"},
    {REC_HEAD "  hist: {bins: 0}\n", NULL, "t.yaml:5: record.hist.bins: must be >= 1 (got 0)"},
    {REC_HEAD "  hist: {bins: 10001}\n", NULL,
     "t.yaml:5: record.hist.bins: must be <= 10000 (got 10001)"},
    {REC_HEAD "  hist: {bins: 2.5}\n", NULL,
     "t.yaml:5: record.hist.bins: expected an integer, got '2.5'"},
    {REC_HEAD "  hist: {bins: 10, every: 0}\n", NULL,
     "t.yaml:5: record.hist.every: must be >= 1 (got 0)"},
    {REC_HEAD "  hist: {bins: 10, min: 2, max: 2}\n", NULL,
     "t.yaml:5: record.hist: min (2) must be less than max (2)"},
    {REC_HEAD "  hist: {bins: 10, min: 1, max: -1}\n", NULL,
     "t.yaml:5: record.hist: min (1) must be less than max (-1)"},
    {REC_HEAD "  hist: {bins: 10, min: .inf}\n", NULL,
     "t.yaml:5: record.hist.min: expected a finite number, got '.inf'"},
    {REC_HEAD "  hist: {bins: 10, max: nan}\n", NULL,
     "t.yaml:5: record.hist.max: expected a finite number, got 'nan'"},
    {REC_HEAD "  hist: {every: 10}\n", NULL,
     "t.yaml:5: record.hist.bins: required key missing (or hist: null for off)"},
    {REC_HEAD "  hist: {bins: 10, bims: 3}\n", NULL,
     "t.yaml:5: record.hist.bims: unknown key 'bims' (did you mean 'bins'?)"},
    {REC_HEAD "  hist: 40\n", NULL,
     "t.yaml:5: record.hist: expected {bins: k, every: e, min: a, max: b} or null (off)"},
    {REC_HEAD "  hist: {bins: 10, bins: 20}\n", NULL,
     "t.yaml:5: record.hist.bins: duplicate key (first at line 5)"},
    {REC_HEAD "  probe_batch: 0\n", NULL, "t.yaml:5: record.probe_batch: must be >= 1 (got 0)"},
    {REC_HEAD "  probe_batch: [8, 16]\n", NULL,
     "t.yaml:5: record.probe_batch: expected a single value, not a list"},
    {REC_HEAD "  activations: maybe\n", NULL,
     "t.yaml:5: record.activations: expected true or false, got 'maybe'"},
    {REC_HEAD "  deltas: 2\n", NULL, "t.yaml:5: record.deltas: expected true or false, got '2'"},
    {REC_HEAD "  jacobian: {inputs: 0}\n", NULL,
     "t.yaml:5: record.jacobian.inputs: must be >= 1 (got 0)"},
    {REC_HEAD "  jacobian: {input: 3}\n", NULL,
     "t.yaml:5: record.jacobian.input: unknown key 'input' (did you mean 'inputs'?)"},
    {REC_HEAD "  jacobian: 4\n", NULL, "t.yaml:5: record.jacobian: expected {inputs: m} or null"},
    {REC_HEAD "  jacobian: {inputs: 33}\n", NULL,
     "t.yaml:5: record.jacobian.inputs: 33 exceeds record.probe_batch = 32 (the Jacobian is "
     "taken at the first m samples of the probe batch)"},
    {REC_HEAD "  jacobian: {inputs: 8}\n  probe_batch: 4\n", NULL,
     "t.yaml:5: record.jacobian.inputs: 8 exceeds record.probe_batch = 4"},
    {REC_HEAD "  jacobian: {inputs: 8}\n", "record.probe_batch=7",
     "t.yaml:5: record.jacobian.inputs: 8 exceeds record.probe_batch = 7"},
    {NULL, "record.jacobian.inputs=64",
     "command line: record.jacobian.inputs=64: 64 exceeds record.probe_batch = 32"},
    {NULL, "record.level=max",
     "command line: record.level=max: unknown value 'max' (expected one of: basic, standard, "
     "full)"},
    {NULL, "record.hist.bin=4",
     "command line: record.hist.bin=4: unknown key 'record.hist.bin' (did you mean "
     "'record.hist.bins'?)"},
    {NULL, "record.hist.min=-3",
     "command line: record.hist.min=-3: record.hist.bins: required key missing: histograms are "
     "off without bins"},
    {NULL, "record.hist=40",
     "command line: record.hist=40: record.hist takes 'none' (off) here; set its parts with "
     "record.hist.bins=k"},
    {NULL, "record.hist.bins=4,8",
     "command line: record.hist.bins=4,8: record.hist.bins takes one "
     "value"},
    {NULL, "record.probe_batch=x",
     "command line: record.probe_batch=x: expected an integer, got 'x'"},
    {NULL, "record.deltas=nope", "command line: record.deltas=nope: expected true or false"},
    {NULL, "record.grads.every=0", "command line: record.grads.every=0: must be >= 1 (got 0)"},
    /* explicit snapshot steps at or past the last step are errors, not dropped */
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 200}\nrecord:\n  grads: [0, 50,\n"
     "    500]\n",
     NULL, "t.yaml:6: record.grads: step 500 is beyond train.steps = 200 (run "},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 200}\nrecord: {grads: [200]}\n", NULL,
     "t.yaml:4: record.grads: step 200 is beyond train.steps = 200"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: [300, 100, 1000]}\n"
     "record: {grads: {steps: [0, 150], every: 10}}\n",
     NULL, "t.yaml:4: record.grads: step 150 is beyond train.steps = 100 (run "},
    {NULL, "record.grads=0,10",
     "command line: record.grads=0,10: step 10 is beyond "
     "train.steps = 10"},
    {"name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 200}\nrecord: {grads: [0, 150]}\n",
     "train.steps=100,200", "t.yaml:4: record.grads: step 150 is beyond train.steps = 100"},
};

/* The message of the step check names the run with the fewest steps and its last step; steps
 * below every run's train.steps pass, and the {every} and {log} schedules are per run. */
static void test_grad_steps_beyond(void)
{
    const char *text = "name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: [300, 100]}\n"
                       "record: {grads: [0, 150]}\n";
    gs_error err, e2;
    gs_plan *p = NULL;
    gs_error_clear(&err);
    CHECK_EQ_INT(gs_plan_parse(&p, text, strlen(text), "t.yaml", NULL, 0, &err), GS_ESPEC);
    CHECK(p == NULL);
    /* the run with 100 steps has the id of the same run written without the axis */
    gs_plan *t = parse("name: t\nmodel: {depth: 1, width: 8}\ntrain: {steps: 100}\n", NULL, 0, &e2);
    CHECK(t != NULL);
    if (t) {
        char want[200];
        snprintf(want, sizeof want,
                 "t.yaml:4: record.grads: step 150 is beyond train.steps = 100 (run %s, the "
                 "fewest steps of the sweep, records steps 0..99) and would never be recorded",
                 t->runs[0].id);
        CHECK_EQ_STR(err.msg, want);
    }
    gs_plan_destroy(t);
    const char *ok_ovr[] = {"train.steps=300,151"}; /* 150 < 151: every run records it */
    const char *fine[] = {"train.steps=100", "record.grads=0,99"};
    const char *sched[] = {"train.steps=5", "record.grads=every:50,log:9"};
    const char *const *sets[] = {ok_ovr, fine, sched};
    size_t n_sets[] = {1, 2, 2};
    for (size_t i = 0; i < 3; i++) {
        gs_plan *q = parse(text, sets[i], n_sets[i], &e2);
        CHECK(q != NULL);
        gs_plan_destroy(q);
    }
}

/* train.stop_on: spec forms, canonical text in enum order, ids of runs without it unchanged, an
 * axis of lists, the command line, and the resolved YAML round trip. */
static void test_stop_on(void)
{
    static const char *const head = "name: t\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 10\n";
    char text[512];
    gs_error err;
    gs_plan *base = parse(head, NULL, 0, &err);
    CHECK(base != NULL);
    if (!base)
        return;
    CHECK_EQ_STR(base->runs[0].cfg.stop_on, "");
    CHECK_HAS_STR(base->resolved_yaml, "  stop_on: []\n");
    static const struct {
        const char *value, *canon;
    } forms[] = {
        {"[dead, diverged]", "diverged,dead"},
        {"[diverged, dead]", "diverged,dead"},
        {"dead", "dead"},
        {"[]", ""},
        {"[saturated, vanishing, exploding, dead, diverged]",
         "vanishing,exploding,diverged,dead,saturated"},
        {"\"dead,diverged\"", "diverged,dead"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        snprintf(text, sizeof text, "%s  stop_on: %s\n", head, forms[i].value);
        gs_plan *p = parse(text, NULL, 0, &err);
        CHECK(p != NULL);
        if (!p)
            continue;
        CHECK_EQ_INT(p->n_axes, 0);
        CHECK_EQ_STR(p->runs[0].cfg.stop_on, forms[i].canon);
        char canon[512], want[256];
        gs_run_canonical(&p->runs[0].cfg, 0, canon, sizeof canon);
        if (forms[i].canon[0]) {
            snprintf(want, sizeof want, "train.stop_on=%s\n", forms[i].canon);
            CHECK_HAS_STR(canon, want);
            CHECK(strcmp(p->runs[0].id, base->runs[0].id) != 0);
        } else { /* none: the id of a spec without the key */
            CHECK_EQ_STR(p->runs[0].id, base->runs[0].id);
        }
        check_round_trip(p);
        gs_plan_destroy(p);
    }
    /* [dead, diverged] and [diverged, dead] are one run */
    snprintf(text, sizeof text,
             "%s  stop_on: {values: [[], [dead], [dead, diverged], saturated]}\n", head);
    gs_plan *ax = parse(text, NULL, 0, &err);
    CHECK(ax != NULL);
    if (ax) {
        CHECK_EQ_INT(ax->n_runs, 4);
        CHECK_EQ_STR(ax->axes[0].key->path, "train.stop_on");
        CHECK_EQ_STR(ax->axes[0].values[0], "");
        CHECK_EQ_STR(ax->axes[0].values[2], "diverged,dead");
        CHECK_EQ_STR(ax->runs[0].id, base->runs[0].id);
        CHECK_EQ_STR(ax->runs[3].cfg.stop_on, "saturated");
        CHECK_HAS_STR(ax->resolved_yaml,
                      "  stop_on: {values: [[], [dead], [diverged, dead], [saturated]]}\n");
        check_round_trip(ax);
        /* the command line: brackets hold one list, commas outside them make an axis */
        const char *ovr[] = {"train.stop_on=[],[dead],[dead,diverged],saturated"};
        gs_plan *o = parse(head, ovr, 1, &err);
        CHECK(o != NULL);
        if (o) {
            CHECK_EQ_INT(o->n_runs, 4);
            for (size_t i = 0; i < 4 && o->n_runs == 4; i++)
                CHECK_EQ_STR(o->runs[i].id, ax->runs[i].id);
        }
        gs_plan_destroy(o);
        const char *one[] = {"train.stop_on=[dead,diverged]"};
        o = parse(head, one, 1, &err);
        CHECK(o && o->n_axes == 0 && strcmp(o->runs[0].cfg.stop_on, "diverged,dead") == 0);
        if (o && ax->n_runs == 4)
            CHECK_EQ_STR(o->runs[0].id, ax->runs[2].id);
        gs_plan_destroy(o);
    }
    gs_plan_destroy(ax);
    gs_plan_destroy(base);
}

#define STOP_HEAD "name: t\nmodel: {depth: 1, width: 8}\ntrain:\n  steps: 10\n"
static const bad_case bad_stop[] = {
    {STOP_HEAD "  stop_on: [healthy]\n", NULL,
     "t.yaml:5: train.stop_on: 'healthy' cannot stop a run (stop_on lists verdicts of doomed "
     "runs)"},
    {STOP_HEAD "  stop_on: [dead, deda]\n", NULL,
     "t.yaml:5: train.stop_on: unknown verdict 'deda' (did you mean 'dead'?)"},
    {STOP_HEAD "  stop_on: diverge\n", NULL,
     "t.yaml:5: train.stop_on: unknown verdict 'diverge' (did you mean 'diverged'?)"},
    {STOP_HEAD "  stop_on: [boom]\n", NULL,
     "t.yaml:5: train.stop_on: unknown verdict 'boom' (expected one of: vanishing, exploding, "
     "diverged, dead, saturated)"},
    {STOP_HEAD "  stop_on: [dead, diverged, dead]\n", NULL,
     "t.yaml:5: train.stop_on: verdict 'dead' listed twice"},
    {STOP_HEAD "  stop_on: [[dead]]\n", NULL,
     "t.yaml:5: train.stop_on: entry 1: expected a verdict name, not a list"},
    {STOP_HEAD "  stop_on: {values: [[dead], [dead]]}\n", NULL,
     "t.yaml:5: train.stop_on: value '[dead]' repeats an earlier value of the axis ('dead')"},
    {STOP_HEAD "  stop_on: {values: [[dead, diverged], [diverged, dead]]}\n", NULL,
     "repeats an earlier value of the axis ('diverged,dead')"},
    {STOP_HEAD "  stop_on: {linspace: [1, 2, 3]}\n", NULL,
     "t.yaml:5: train.stop_on: linspace needs a numeric key"},
    {STOP_HEAD "  stop_on:\n", NULL, "t.yaml:5: train.stop_on: missing value"},
    {STOP_HEAD "  stop_on: \"dead,,diverged\"\n", NULL,
     "t.yaml:5: train.stop_on: empty entry in 'dead,,diverged'"},
    {NULL, "train.stop_on=healthy", "command line: train.stop_on=healthy: 'healthy' cannot stop"},
    {NULL, "train.stop_on=[dead,]",
     "command line: train.stop_on=[dead,]: empty entry in '[dead,]'"},
    {NULL, "train.stop_on=[dead", "command line: train.stop_on=[dead: expected a list of verdicts"},
    {NULL, "train.stop_on=", "command line: train.stop_on=: empty value"},
    {NULL, "train.stop_on=[dead,dead]",
     "command line: train.stop_on=[dead,dead]: verdict 'dead' "
     "listed twice"},
};

int main(void)
{
    char path[1024];
    char *text = read_quick(path, sizeof path);
    CHECK(text != NULL);
    if (text) {
        gs_plan *quick = NULL;
        gs_error err;
        gs_error_clear(&err);
        CHECK_EQ_INT(gs_plan_load(&quick, path, NULL, 0, &err), GS_OK);
        if (quick) {
            CHECK_EQ_STR(quick->source_path, path);
            test_quick(quick);
            check_round_trip(quick);
            test_identity(text, quick);
            test_overrides(text, quick);
        } else {
            fprintf(stderr, "%s\n", err.msg);
        }
        gs_plan_destroy(quick);
        free(text);
    }
    test_canonical();
    test_values();
    test_accepted();
    test_errors();
    test_width_layers();
    test_width_too_long();
    check_bad(bad_layers, sizeof bad_layers / sizeof *bad_layers);
    test_arch_keys();
    test_precision_seed();
    check_bad(bad_arch, sizeof bad_arch / sizeof *bad_arch);
    test_train_keys();
    test_snapshot_steps();
    test_snapshot_fast();
    test_record_keys();
    check_bad(bad_record, sizeof bad_record / sizeof *bad_record);
    test_grad_steps_beyond();
    test_stop_on();
    check_bad(bad_stop, sizeof bad_stop / sizeof *bad_stop);
    return CHECK_EXIT();
}
