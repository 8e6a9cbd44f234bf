/* The key table: every spec key of the data/model/train sections, its type, default, range and
 * help line, plus canonical formatting and the record-section helpers. No parsing here. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/config.h"

#define GS_NAME_ENTRY(e, s) s,
const char *const gs_act_names[] = {GS_ACT_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_init_names[] = {GS_INIT_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_loss_names[] = {GS_LOSS_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_opt_names[] = {GS_OPT_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_sched_names[] = {GS_SCHED_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_datakind_names[] = {GS_DATAKIND_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_dtype_names[] = {GS_DTYPE_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_norm_names[] = {GS_NORM_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_level_names[] = {GS_LEVEL_LIST(GS_NAME_ENTRY) NULL};
const char *const gs_verdict_names[] = {GS_VERDICT_LIST(GS_NAME_ENTRY) NULL};
#undef GS_NAME_ENTRY
const char *const gs_bool_names[] = {"false", "true", NULL};

#define OFF(f) offsetof(gs_run_config, f), sizeof(((gs_run_config *)0)->f)
#define BIG 1e18
#define GM GS_KIND(GS_DATA_GAUSSIAN_MIXTURE)
#define TE GS_KIND(GS_DATA_TEACHER)
#define SP GS_KIND(GS_DATA_SPIRALS)
#define RL GS_KIND(GS_DATA_RANDOM_LABELS)
#define MN GS_KIND(GS_DATA_MNIST_IDX)

const gs_key gs_keys[] = {
    {"data.kind", GS_KEY_ENUM, OFF(data_kind), gs_datakind_names, "gaussian_mixture", 0, 0, -1,
     "data set kind"},
    {"data.classes", GS_KEY_INT, OFF(data_classes), NULL, "10", 2, GS_CLASSES_MAX, GM | SP | RL,
     "gaussian_mixture, random_labels: number of classes; spirals: arms"},
    {"data.dim", GS_KEY_INT, OFF(data_dim), NULL, "32", 1, 1e6, GM | TE | RL,
     "gaussian_mixture, teacher, random_labels: input dimension"},
    {"data.samples", GS_KEY_INT, OFF(data_samples), NULL, "4096", 1, 1e9, GM | TE | SP | RL,
     "synthetic kinds: number of samples"},
    {"data.separation", GS_KEY_REAL, OFF(data_separation), NULL, "1", 0, BIG, GM,
     "gaussian_mixture: class means ~ N(0, separation^2 I)"},
    {"data.noise", GS_KEY_REAL, OFF(data_noise), NULL, "0", 0, BIG, TE | SP,
     "teacher: std of Gaussian noise added to the targets; spirals: added to the inputs"},
    {"data.outputs", GS_KEY_INT, OFF(data_outputs), NULL, "1", 1, 1e6, TE,
     "teacher: output (target) width"},
    {"data.teacher_depth", GS_KEY_INT, OFF(teacher_depth), NULL, "1", 0, 10000, TE,
     "teacher: hidden layers of the teacher net (weights N(0, 1/fan_in), biases 0)"},
    {"data.teacher_width", GS_KEY_INT, OFF(teacher_width), NULL, "32", 1, 1e6, TE,
     "teacher: units per hidden layer of the teacher net"},
    {"data.teacher_activation", GS_KEY_ENUM, OFF(teacher_activation), gs_act_names, "tanh", 0, 0,
     TE, "teacher: nonlinearity of the teacher net"},
    {"data.path", GS_KEY_STR, OFF(data_path), NULL, NULL, 0, 0, GS_KIND(GS_DATA_HDF5),
     "hdf5: file path (relative to the spec file)"},
    {"data.x", GS_KEY_STR, OFF(data_x), NULL, "/X", 0, 0, GS_KIND(GS_DATA_HDF5),
     "hdf5: float dataset of inputs [n, d]"},
    {"data.y", GS_KEY_STR, OFF(data_y), NULL, "/y", 0, 0, GS_KIND(GS_DATA_HDF5),
     "hdf5: int labels [n] or float targets [n, k]"},
    {"data.images", GS_KEY_STR, OFF(data_images), NULL, NULL, 0, 0, MN,
     "mnist_idx: idx image file, plain or gzip (relative to the spec file); pixels / 255"},
    {"data.labels", GS_KEY_STR, OFF(data_labels), NULL, NULL, 0, 0, MN,
     "mnist_idx: idx label file, plain or gzip (relative to the spec file); labels 0..9"},
    {"data.limit", GS_KEY_INT, OFF(data_limit), NULL, "0", 0, 1e9, MN,
     "mnist_idx: use the first limit samples (0: all)"},
    {"data.normalize", GS_KEY_ENUM, OFF(data_normalize), gs_bool_names, "false", 0, 0, -1,
     "standardize each input feature to mean 0, variance 1 over the data set"},
    {"model.depth", GS_KEY_INT, OFF(depth), NULL, NULL, 0, 10000, -1, "hidden layers"},
    {"model.width", GS_KEY_INT, OFF(width), NULL, NULL, 1, 1e6, -1,
     "units per hidden layer, or {layers: [w1, ..., w_depth]} for each hidden layer"},
    {"model.activation", GS_KEY_ENUM, OFF(activation), gs_act_names, "tanh", 0, 0, -1,
     "hidden-layer nonlinearity (gelu: exact x*Phi(x), Phi via erf; silu = swish)"},
    {"model.leaky_alpha", GS_KEY_REAL, OFF(leaky_alpha), NULL, "0.01", 0, BIG, -1,
     "leaky_relu: slope for x <= 0 (also the he_* gain); other activations ignore it"},
    {"model.elu_alpha", GS_KEY_REAL, OFF(elu_alpha), NULL, "1", 0, BIG, -1,
     "elu: alpha in alpha*(e^x - 1) for x <= 0; other activations ignore it"},
    {"model.init", GS_KEY_ENUM, OFF(init), gs_init_names, "normal", 0, 0, -1,
     "weight init, sigma_w a gain: normal: W ~ N(0, sigma_w^2/fan_in); normal_std: "
     "N(0, sigma_w^2); others per docs/spec.md"},
    {"model.sigma_w", GS_KEY_REAL, OFF(sigma_w), NULL, "1", 0, BIG, -1, "weight scale (gain)"},
    {"model.sigma_b", GS_KEY_REAL, OFF(sigma_b), NULL, "0", 0, BIG, -1,
     "bias std (biases exactly 0 when 0)"},
    {"model.init_noise", GS_KEY_REAL, OFF(init_noise), NULL, "0", 0, BIG, -1,
     "identity init: std of N(0, init_noise^2) added to W (no draws when 0)"},
    {"model.bias", GS_KEY_ENUM, OFF(bias), gs_bool_names, "true", 0, 0, -1,
     "every layer has a bias vector (false: no biases at all, the readout included)"},
    {"model.norm", GS_KEY_ENUM, OFF(norm), gs_norm_names, "none", 0, 0, -1,
     "normalization before each hidden activation, learnable scale and shift"},
    {"model.norm_eps", GS_KEY_REAL, OFF(norm_eps), NULL, "1e-05", 1e-300, 1, -1,
     "batchnorm, layernorm: epsilon added to the variance (torch default)"},
    {"model.norm_momentum", GS_KEY_REAL, OFF(norm_momentum), NULL, "0.1", 0, 1, -1,
     "batchnorm: running statistics r = (1 - m) r + m batch (torch momentum)"},
    {"model.residual_every", GS_KEY_INT, OFF(residual_every), NULL, "0", 0, 10000, -1,
     "residual: {every: k}: hidden layers per skip block (0 = no skips)"},
    {"model.residual_alpha", GS_KEY_REAL, OFF(residual_alpha), NULL, "1", 0, BIG, -1,
     "residual: {alpha: a}: block output x + a F(x)"},
    {"train.steps", GS_KEY_INT, OFF(steps), NULL, NULL, 1, 1e12, -1, "optimizer steps"},
    {"train.batch", GS_KEY_BATCH, OFF(batch), NULL, "full", 1, 1e9, -1,
     "minibatch size, or full for the whole data set"},
    {"train.optimizer", GS_KEY_ENUM, OFF(optimizer), gs_opt_names, "sgd", 0, 0, -1,
     "optimizer (PyTorch conventions, formulas in docs/spec.md)"},
    {"train.lr", GS_KEY_REAL, OFF(lr), NULL, "0.01", 0, BIG, -1, "learning rate"},
    {"train.loss", GS_KEY_ENUM, OFF(loss), gs_loss_names, "cross_entropy", 0, 0, -1,
     "loss (mse: torch MSELoss convention; cross_entropy: softmax)"},
    {"train.momentum", GS_KEY_REAL, OFF(momentum), NULL, "0.9", 0, 1, -1,
     "momentum: coefficient mu of the velocity buffer"},
    {"train.nesterov", GS_KEY_ENUM, OFF(nesterov), gs_bool_names, "false", 0, 0, -1,
     "momentum: Nesterov's variant (torch SGD nesterov=True)"},
    {"train.beta1", GS_KEY_REAL, OFF(beta1), NULL, "0.9", 0, 0.999999, -1,
     "adam, adamw: decay of the first moment"},
    {"train.beta2", GS_KEY_REAL, OFF(beta2), NULL, "0.999", 0, 0.999999, -1,
     "adam, adamw: decay of the second moment"},
    {"train.eps", GS_KEY_REAL, OFF(eps), NULL, "1e-08", 1e-300, 1, -1,
     "adam, adamw, rmsprop: added to the denominator"},
    {"train.rho", GS_KEY_REAL, OFF(rho), NULL, "0.99", 0, 0.999999, -1,
     "rmsprop: decay of the squared-gradient average (torch's alpha)"},
    {"train.weight_decay", GS_KEY_REAL, OFF(weight_decay), NULL, "0", 0, BIG, -1,
     "L2 coefficient added to the gradient (sgd, momentum, adam, rmsprop); adamw: decoupled"},
    {"train.schedule", GS_KEY_ENUM, OFF(schedule), gs_sched_names, "constant", 0, 0, -1,
     "learning-rate schedule after the warmup"},
    {"train.warmup", GS_KEY_INT, OFF(warmup), NULL, "0", 0, 1e12, -1,
     "steps of linear warmup: lr * (t + 1) / warmup for t < warmup"},
    {"train.step_size", GS_KEY_INT, OFF(step_size), NULL, "0", 0, 1e12, -1,
     "step schedule: steps between decays (required, >= 1, with schedule: step)"},
    {"train.gamma", GS_KEY_REAL, OFF(gamma), NULL, "0.1", 0, BIG, -1,
     "step schedule: lr factor per step_size steps"},
    {"train.clip_norm", GS_KEY_REAL, OFF(clip_norm), NULL, "0", 0, BIG, -1,
     "clip: {norm: c}: cap the global gradient L2 norm at c (torch clip_grad_norm_); 0 = off"},
    {"train.clip_value", GS_KEY_REAL, OFF(clip_value), NULL, "0", 0, BIG, -1,
     "clip: {value: c}: clamp every gradient entry to [-c, c]; 0 = off"},
    {"train.eval_fraction", GS_KEY_REAL, OFF(eval_fraction), NULL, "0", 0, 0.9, -1,
     "held-out split: the last floor(n * f) samples of a seeded permutation; 0 = no evaluation"},
    {"train.eval_every", GS_KEY_INT, OFF(eval_every), NULL, "0", 0, 1e12, -1,
     "evaluate on the held-out split every k steps and at the last step (0: record.every)"},
    {"train.dtype", GS_KEY_ENUM, OFF(dtype), gs_dtype_names, "float64", 0, 0, -1,
     "compute precision of parameters, activations and gradients"},
    {"train.ftz", GS_KEY_ENUM, OFF(ftz), gs_bool_names, "false", 0, 0, -1,
     "flush denormal numbers to zero while the run computes (default: keep them)"},
    {"train.stop_on", GS_KEY_STR, OFF(stop_on), NULL, "", 0, 0, -1,
     "verdicts that end a run early (docs/probes.md): [] or a list of vanishing, exploding, "
     "diverged, dead, saturated"},
    {NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL},
};

int64_t gs_config_width(const gs_run_config *cfg, size_t i)
{
    const char *p = cfg->width_list;
    if (!p[0])
        return cfg->width;
    for (size_t k = 0;; k++) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1)
            return 0;
        if (k == i)
            return v;
        if (*end != ',')
            return 0;
        p = end + 1;
    }
}

int gs_key_has_list(const gs_key *k)
{
    return k->type == GS_KEY_INT && k->offset == offsetof(gs_run_config, width);
}

size_t gs_key_count(void)
{
    size_t n = 0;
    while (gs_keys[n].path)
        n++;
    return n;
}

int gs_key_applies(const gs_key *k, int kind)
{
    return k->kinds == -1 ||
           (kind >= 0 && kind < GS_DATA__COUNT && (((unsigned)k->kinds >> kind) & 1u));
}

const gs_key *gs_key_find(const char *path)
{
    for (const gs_key *k = gs_keys; k->path; k++)
        if (strcmp(k->path, path) == 0)
            return k;
    return NULL;
}

/* Shortest "%.Ng" (N = 1..17) that reads back to exactly v: canonical (one text per double) and
 * readable (0.1, not 0.10000000000000001). */
static void format_real(double v, char *buf, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v || v != v)
            return;
    }
}

char *gs_key_format(const gs_key *k, const gs_run_config *cfg, char *buf, size_t n)
{
    const char *base = (const char *)cfg + k->offset;
    int64_t iv;
    double dv;
    int ev;
    switch (k->type) {
    case GS_KEY_INT:
        memcpy(&iv, base, sizeof iv);
        if (gs_key_has_list(k) && cfg->width_list[0])
            snprintf(buf, n, "[%s]", cfg->width_list);
        else
            snprintf(buf, n, "%lld", (long long)iv);
        break;
    case GS_KEY_BATCH:
        memcpy(&iv, base, sizeof iv);
        if (iv == 0)
            snprintf(buf, n, "full");
        else
            snprintf(buf, n, "%lld", (long long)iv);
        break;
    case GS_KEY_REAL:
        memcpy(&dv, base, sizeof dv);
        format_real(dv, buf, n);
        break;
    case GS_KEY_ENUM:
        memcpy(&ev, base, sizeof ev);
        snprintf(buf, n, "%s", k->names[ev]);
        break;
    case GS_KEY_STR:
        snprintf(buf, n, "%s", base);
        break;
    }
    return buf;
}

void gs_config_defaults(gs_run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (const gs_key *k = gs_keys; k->path; k++) {
        if (!k->dflt)
            continue;
        char *base = (char *)cfg + k->offset;
        int64_t iv;
        double dv;
        int ev = 0;
        switch (k->type) {
        case GS_KEY_INT:
            iv = strtoll(k->dflt, NULL, 10);
            memcpy(base, &iv, sizeof iv);
            break;
        case GS_KEY_BATCH:
            iv = strcmp(k->dflt, "full") == 0 ? 0 : strtoll(k->dflt, NULL, 10);
            memcpy(base, &iv, sizeof iv);
            break;
        case GS_KEY_REAL:
            dv = strtod(k->dflt, NULL);
            memcpy(base, &dv, sizeof dv);
            break;
        case GS_KEY_ENUM:
            while (k->names[ev] && strcmp(k->names[ev], k->dflt) != 0)
                ev++;
            memcpy(base, &ev, sizeof ev);
            break;
        case GS_KEY_STR:
            snprintf(base, k->size, "%s", k->dflt);
            break;
        }
    }
}

/* The snapshot steps are the union of three schedules, each an increasing stream of candidate
 * steps; gs_record_snapshot_steps merges them by repeatedly taking the smallest candidate above the
 * last step emitted. Cost: O(count + n_explicit) plus O(log n) evaluations of the log schedule per
 * distinct log step, independent of the number of steps in the run. */

/* Smallest explicit step > after, or INT64_MAX. *pos is a cursor for the documented sorted list
 * (it only moves forward, since `after` only grows); an unsorted list is scanned whole. */
static int64_t next_explicit(const gs_record *rec, int sorted, size_t *pos, int64_t after)
{
    const int64_t *v = rec->grad_steps;
    int64_t best = INT64_MAX;
    if (sorted) {
        while (*pos < rec->n_grad_steps && v[*pos] <= after)
            (*pos)++;
        return *pos < rec->n_grad_steps ? v[*pos] : INT64_MAX;
    }
    for (size_t i = 0; i < rec->n_grad_steps; i++)
        if (v[i] > after && v[i] < best)
            best = v[i];
    return best;
}

/* Smallest multiple of every > after (after >= -1), or INT64_MAX. */
static int64_t next_every(int64_t every, int64_t after)
{
    if (after < 0)
        return 0;
    int64_t q = after / every + 1;
    return q <= INT64_MAX / every ? q * every : INT64_MAX;
}

/* Step i of the log schedule: round(exp(i * ln(steps) / (nlog - 1))) - 1, so that i = 0 gives 0
 * and i = nlog - 1 gives steps - 1. Non-decreasing in i: every operation is monotone (exp to
 * within rounding, which can only swap two neighbouring values, never skip one). */
static int64_t log_step(int64_t i, int64_t steps, int64_t nlog)
{
    double v = exp((double)i * log((double)steps) / (double)(nlog - 1));
    return (int64_t)llround(v) - 1;
}

/* The log schedule as a stream: the endpoints 0 and steps - 1, and log_step(i) for interior
 * i = 1..nlog-2. lo is the first interior index not yet known to be <= the last step taken. */
typedef struct {
    int64_t steps, nlog, lo, lo_step;
} log_stream;

/* Smallest log step > after (after >= -1), or INT64_MAX. Finds the first interior index past
 * `after` by bisection (the schedule is non-decreasing), so dense schedules (nlog >> steps) cost
 * O(log nlog) per distinct step rather than O(nlog). */
static int64_t next_log(log_stream *ls, int64_t after)
{
    int64_t last = ls->nlog - 2; /* last interior index */
    if (after < 0)
        return 0;
    if (ls->lo <= last && ls->lo_step <= after) {
        int64_t a = ls->lo + 1, b = last + 1; /* first index with step > after is in [a, b] */
        while (a < b) {
            int64_t mid = a + (b - a) / 2;
            if (log_step(mid, ls->steps, ls->nlog) > after)
                b = mid;
            else
                a = mid + 1;
        }
        ls->lo = a;
        if (a <= last)
            ls->lo_step = log_step(a, ls->steps, ls->nlog);
    }
    if (ls->lo <= last && ls->lo_step > after)
        return ls->lo_step;
    return ls->steps - 1 > after ? ls->steps - 1 : INT64_MAX;
}

size_t gs_record_snapshot_steps(const gs_record *rec, int64_t steps, int64_t *out, size_t cap)
{
    size_t cnt = 0, pos = 0;
    int sorted = 1;
    log_stream ls = {steps, rec->grad_log, 1, 0};
    if (steps <= 0)
        return 0;
    for (size_t i = 1; i < rec->n_grad_steps; i++)
        sorted = sorted && rec->grad_steps[i - 1] <= rec->grad_steps[i];
    if (ls.lo <= ls.nlog - 2)
        ls.lo_step = log_step(ls.lo, steps, ls.nlog);
    for (int64_t s = -1;;) {
        int64_t next = next_explicit(rec, sorted, &pos, s);
        if (rec->grad_every > 0) {
            int64_t e = next_every(rec->grad_every, s);
            next = e < next ? e : next;
        }
        if (rec->grad_log > 0) {
            int64_t g = next_log(&ls, s);
            next = g < next ? g : next;
        }
        if (next >= steps)
            break;
        if (cnt < cap)
            out[cnt] = next;
        cnt++;
        s = next;
    }
    return cnt;
}

int64_t gs_record_stat_rows(const gs_record *rec, int64_t steps)
{
    int64_t every = rec->every > 0 ? rec->every : 1;
    return (steps + every - 1) / every;
}

int64_t gs_record_hist_rows(const gs_record *rec, int64_t steps)
{
    if (rec->hist_bins <= 0 || steps <= 0)
        return 0;
    int64_t every = rec->hist_every > 0 ? rec->hist_every : rec->every > 0 ? rec->every : 1;
    return (steps + every - 1) / every;
}

size_t gs_record_jacobian_steps(const gs_record *rec, int64_t steps, int64_t *out, size_t cap)
{
    if (rec->jacobian_inputs <= 0 || steps <= 0)
        return 0;
    /* The snapshot steps are sorted and unique; step 0 goes first unless it is one of them. */
    size_t n = gs_record_snapshot_steps(rec, steps, NULL, 0);
    int has0 = 0;
    if (n > 0) {
        int64_t first;
        gs_record_snapshot_steps(rec, steps, &first, 1);
        has0 = first == 0;
    }
    size_t extra = has0 ? 0 : 1;
    if (out && cap > 0) {
        if (!has0)
            out[0] = 0;
        if (cap > extra)
            gs_record_snapshot_steps(rec, steps, out + extra, cap - extra);
    }
    return n + extra;
}
