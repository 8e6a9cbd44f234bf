/* The resolved configuration of one run, the named kinds it refers to, and the key table.
 * The key table is the single description of every spec key: the parser, validation, canonical
 * run identity, HDF5 attributes, `--help` and docs all read it. No parsing or I/O here. */
#ifndef GRADSWEEP_CONFIG_H
#define GRADSWEEP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Named kinds: X(enum, "spec name"). Order is the storage order; append only. */
#define GS_ACT_LIST(X)                                                                             \
    X(GS_ACT_LINEAR, "linear")                                                                     \
    X(GS_ACT_TANH, "tanh")                                                                         \
    X(GS_ACT_SIGMOID, "sigmoid")                                                                   \
    X(GS_ACT_RELU, "relu")                                                                         \
    X(GS_ACT_LEAKY_RELU, "leaky_relu")                                                             \
    X(GS_ACT_ELU, "elu")                                                                           \
    X(GS_ACT_SELU, "selu")                                                                         \
    X(GS_ACT_GELU, "gelu")                                                                         \
    X(GS_ACT_SOFTPLUS, "softplus")                                                                 \
    X(GS_ACT_SWISH, "swish")                                                                       \
    X(GS_ACT_SILU, "silu")                                                                         \
    X(GS_ACT_SOFTSIGN, "softsign")                                                                 \
    X(GS_ACT_HARD_TANH, "hard_tanh")

#define GS_INIT_LIST(X)                                                                            \
    X(GS_INIT_NORMAL, "normal")                                                                    \
    X(GS_INIT_NORMAL_STD, "normal_std")                                                            \
    X(GS_INIT_UNIFORM, "uniform")                                                                  \
    X(GS_INIT_XAVIER_NORMAL, "xavier_normal")                                                      \
    X(GS_INIT_XAVIER_UNIFORM, "xavier_uniform")                                                    \
    X(GS_INIT_HE_NORMAL, "he_normal")                                                              \
    X(GS_INIT_HE_UNIFORM, "he_uniform")                                                            \
    X(GS_INIT_LECUN_NORMAL, "lecun_normal")                                                        \
    X(GS_INIT_ORTHOGONAL, "orthogonal")                                                            \
    X(GS_INIT_IDENTITY, "identity")

#define GS_LOSS_LIST(X)                                                                            \
    X(GS_LOSS_MSE, "mse")                                                                          \
    X(GS_LOSS_CROSS_ENTROPY, "cross_entropy")

#define GS_OPT_LIST(X)                                                                             \
    X(GS_OPT_SGD, "sgd")                                                                           \
    X(GS_OPT_MOMENTUM, "momentum")                                                                 \
    X(GS_OPT_ADAM, "adam")                                                                         \
    X(GS_OPT_ADAMW, "adamw")                                                                       \
    X(GS_OPT_RMSPROP, "rmsprop")

#define GS_SCHED_LIST(X)                                                                           \
    X(GS_SCHED_CONSTANT, "constant")                                                               \
    X(GS_SCHED_COSINE, "cosine")                                                                   \
    X(GS_SCHED_STEP, "step")

#define GS_DATAKIND_LIST(X)                                                                        \
    X(GS_DATA_GAUSSIAN_MIXTURE, "gaussian_mixture")                                                \
    X(GS_DATA_HDF5, "hdf5")                                                                        \
    X(GS_DATA_TEACHER, "teacher")                                                                  \
    X(GS_DATA_SPIRALS, "spirals")                                                                  \
    X(GS_DATA_RANDOM_LABELS, "random_labels")                                                      \
    X(GS_DATA_MNIST_IDX, "mnist_idx")

#define GS_NORM_LIST(X)                                                                            \
    X(GS_NORM_NONE, "none")                                                                        \
    X(GS_NORM_BATCHNORM, "batchnorm")                                                              \
    X(GS_NORM_LAYERNORM, "layernorm")

#define GS_DTYPE_LIST(X)                                                                           \
    X(GS_DTYPE_FLOAT32, "float32")                                                                 \
    X(GS_DTYPE_FLOAT64, "float64")

/* record.level: how much per-layer detail a statistics row holds (docs/probes.md). */
#define GS_LEVEL_LIST(X)                                                                           \
    X(GS_LEVEL_BASIC, "basic")                                                                     \
    X(GS_LEVEL_STANDARD, "standard")                                                               \
    X(GS_LEVEL_FULL, "full")

/* Run verdicts (docs/probes.md), in storage order (not severity order: see docs/probes.md). */
#define GS_VERDICT_LIST(X)                                                                         \
    X(GS_VERDICT_HEALTHY, "healthy")                                                               \
    X(GS_VERDICT_VANISHING, "vanishing")                                                           \
    X(GS_VERDICT_EXPLODING, "exploding")                                                           \
    X(GS_VERDICT_DIVERGED, "diverged")                                                             \
    X(GS_VERDICT_DEAD, "dead")                                                                     \
    X(GS_VERDICT_SATURATED, "saturated")

#define GS_ENUM_DECL(e, s) e,
typedef enum { GS_ACT_LIST(GS_ENUM_DECL) GS_ACT__COUNT } gs_act;
typedef enum { GS_INIT_LIST(GS_ENUM_DECL) GS_INIT__COUNT } gs_init;
typedef enum { GS_LOSS_LIST(GS_ENUM_DECL) GS_LOSS__COUNT } gs_loss;
typedef enum { GS_OPT_LIST(GS_ENUM_DECL) GS_OPT__COUNT } gs_opt;
typedef enum { GS_SCHED_LIST(GS_ENUM_DECL) GS_SCHED__COUNT } gs_sched;
typedef enum { GS_DATAKIND_LIST(GS_ENUM_DECL) GS_DATA__COUNT } gs_datakind;
typedef enum { GS_DTYPE_LIST(GS_ENUM_DECL) GS_DTYPE__COUNT } gs_dtype;
typedef enum { GS_NORM_LIST(GS_ENUM_DECL) GS_NORM__COUNT } gs_norm;
typedef enum { GS_LEVEL_LIST(GS_ENUM_DECL) GS_LEVEL__COUNT } gs_level;
typedef enum { GS_VERDICT_LIST(GS_ENUM_DECL) GS_VERDICT__COUNT } gs_verdict;
#undef GS_ENUM_DECL

/* Name tables, NULL-terminated, indexed by the enum: gs_act_names[GS_ACT_TANH] == "tanh". */
extern const char *const gs_act_names[];
extern const char *const gs_init_names[];
extern const char *const gs_loss_names[];
extern const char *const gs_opt_names[];
extern const char *const gs_sched_names[];
extern const char *const gs_datakind_names[];
extern const char *const gs_dtype_names[];
extern const char *const gs_norm_names[];
extern const char *const gs_level_names[];
extern const char *const gs_verdict_names[];
extern const char *const gs_bool_names[]; /* {"false", "true"}: boolean keys are 0/1 enums */

#define GS_PATH_MAX 512
#define GS_NAME_MAX 128

/* Most classes a data set may have: the range of data.classes, and the bound on hdf5 labels
 * (a label c makes c + 1 outputs). */
#define GS_CLASSES_MAX 1000000

/* Everything that determines one run's training (data + model + train sections). Two runs with
 * equal configs, replicate and master seed are bitwise identical. */
typedef struct {
    /* data */
    int data_kind;                 /* gs_datakind */
    int64_t data_classes;          /* gaussian_mixture, spirals (arms), random_labels: classes */
    int64_t data_dim;              /* gaussian_mixture, teacher, random_labels: input dimension */
    int64_t data_samples;          /* synthetic kinds: number of samples */
    double data_separation;        /* gaussian_mixture: class means ~ N(0, separation^2 I) */
    double data_noise;             /* teacher: target noise std; spirals: input noise std */
    int64_t data_outputs;          /* teacher: output (target) width */
    int64_t teacher_depth;         /* teacher: hidden layers of the teacher net */
    int64_t teacher_width;         /* teacher: units per hidden layer of the teacher net */
    int teacher_activation;        /* teacher: gs_act of the teacher net */
    char data_path[GS_PATH_MAX];   /* hdf5: file path as written in the spec */
    char data_x[GS_NAME_MAX];      /* hdf5: dataset with inputs [n, d] */
    char data_y[GS_NAME_MAX];      /* hdf5: dataset with int labels [n] or float targets [n, k] */
    char data_images[GS_PATH_MAX]; /* mnist_idx: image file path as written in the spec */
    char data_labels[GS_PATH_MAX]; /* mnist_idx: label file path as written in the spec */
    int64_t data_limit;            /* mnist_idx: use the first limit samples; 0 = all */
    int data_normalize;            /* every kind: standardize each input feature (0/1) */
    /* model */
    int64_t depth;                /* hidden layers; the net has depth + 1 weight matrices */
    int64_t width;                /* units per hidden layer; with a width_list its first entry */
    int activation;               /* gs_act */
    double leaky_alpha;           /* leaky_relu: slope for x <= 0 (also the he_* gain) */
    double elu_alpha;             /* elu: alpha */
    int init;                     /* gs_init */
    double sigma_w;               /* weight scale (see gs_net_init) */
    double sigma_b;               /* bias std; biases exactly 0 when 0 */
    double init_noise;            /* identity: std of Gaussian noise added to W; no draws when 0 */
    char width_list[GS_PATH_MAX]; /* per-layer hidden widths "w1,w2,..." (depth entries, decimal,
                                   * no spaces); "" = every hidden layer has `width` units.
                                   * Set by model.width: {layers: [...]}; read it through
                                   * gs_config_width, never width, for layer sizes */
    int bias;                     /* 1: every layer has a bias vector (gs_bool_names) */
    int norm;                     /* gs_norm: normalization before each hidden activation */
    double norm_eps;              /* batchnorm/layernorm: variance offset epsilon */
    double norm_momentum;         /* batchnorm: running-statistics update rate (torch) */
    int64_t residual_every;       /* hidden layers per residual block; 0 = no skips */
    double residual_alpha;        /* residual branch scale: x_out = x_in + alpha F(x_in) */
    /* train */
    int64_t steps; /* optimizer steps */
    int64_t batch; /* minibatch size; 0 means full batch ("full") */
    int optimizer; /* gs_opt */
    double lr;     /* learning rate */
    int loss;      /* gs_loss */
    /* train: optimizer hyper-parameters (each ignored by the optimizers that do not use it) */
    double momentum;     /* momentum: heavy-ball coefficient mu */
    int nesterov;        /* momentum: 1 for Nesterov's variant (gs_bool_names) */
    double beta1, beta2; /* adam, adamw: moment decay rates */
    double eps;          /* adam, adamw, rmsprop: denominator offset */
    double rho;          /* rmsprop: decay of the squared-gradient average (torch's alpha) */
    double weight_decay; /* L2 added to the gradient; adamw: decoupled decay */
    /* train: learning-rate schedule and clipping */
    int schedule;      /* gs_sched */
    int64_t warmup;    /* steps of linear warmup from 0 */
    int64_t step_size; /* step schedule: steps per decay; 0 only when unused */
    double gamma;      /* step schedule: decay factor */
    double clip_norm;  /* clip the global L2 norm of all gradients to this; 0 = off */
    double clip_value; /* clamp every gradient entry to [-c, c]; 0 = off */
    /* train: held-out evaluation */
    double eval_fraction; /* the last floor(n * f) samples of a seeded permutation; 0 = off */
    int64_t eval_every;   /* evaluate every k steps (and at the last); 0 = record.every */
    /* train: compute precision */
    int dtype; /* gs_dtype: precision of parameters, activations and gradients */
    int ftz;   /* 1: flush denormals to zero (FTZ + DAZ) while the run computes */
    /* train: early stop */
    char stop_on[GS_NAME_MAX]; /* verdicts that end the run early, canonical text: names of
                                * gs_verdict_names in enum order joined by ",", e.g.
                                * "diverged,dead"; "" = none (the default). Spec form
                                * `stop_on: [dead, diverged]`. Never contains "healthy" */
} gs_run_config;

typedef enum {
    GS_KEY_INT,   /* int64_t; scalar integer (model.width: or a layer list, gs_key_has_list) */
    GS_KEY_REAL,  /* double */
    GS_KEY_ENUM,  /* int, value indexes key->names */
    GS_KEY_STR,   /* char[size] */
    GS_KEY_BATCH, /* int64_t, integer >= 1 or "full" (stored as 0) */
} gs_key_type;

/* One spec key of the data/model/train sections. */
typedef struct {
    const char *path; /* "model.depth" */
    gs_key_type type;
    size_t offset;            /* offsetof(gs_run_config, field) */
    size_t size;              /* sizeof the field (GS_KEY_STR: buffer size) */
    const char *const *names; /* GS_KEY_ENUM: NULL-terminated value names */
    const char *dflt;         /* default as spec text, or NULL when required */
    double min, max;          /* allowed numeric range (inclusive) */
    int kinds;                /* bit mask GS_KIND(kind) of the data kinds using the key; -1: all */
    const char *help;         /* one line for --help and docs */
} gs_key;

/* The key table, terminated by an entry with path == NULL. */
extern const gs_key gs_keys[];

/* Bit of a data kind in gs_key.kinds. */
#define GS_KIND(kind) (1 << (kind))

/* Whether key k is used by runs of data kind `kind` (gs_datakind). Keys a kind does not use are
 * rejected in its specs and left out of its run ids and stored attributes. */
int gs_key_applies(const gs_key *k, int kind);

/* Units of hidden layer i (0 <= i < depth): entry i of width_list, or width when the list is
 * empty. The list is validated by the spec parser; a malformed or short list gives 0. */
int64_t gs_config_width(const gs_run_config *cfg, size_t i);

/* Whether key k may hold a per-layer list besides its integer: only model.width, whose list
 * (spec {layers: [w1, ..., w_depth]}, text "[w1,...]") is kept in cfg->width_list with
 * cfg->width set to its first entry. Such a key is still GS_KEY_INT: its HDF5 attribute and
 * index column hold cfg->width, and the store keeps the list in a model.width_list attribute. */
int gs_key_has_list(const gs_key *k);

/* Number of entries in gs_keys (without the terminator). */
size_t gs_key_count(void);

/* Looks up a key by its dotted path; NULL when unknown. */
const gs_key *gs_key_find(const char *path);

/* Formats the value of key k in cfg canonically into buf: integers in decimal, reals as the
 * shortest "%.Ng" that reads back exactly, enums and strings by name, batch 0 as "full", and a
 * model.width layer list as "[w1,w2,...]" (decimal, no spaces; a uniform width stays "64", so
 * run ids made before lists existed are unchanged). Returns buf. */
char *gs_key_format(const gs_key *k, const gs_run_config *cfg, char *buf, size_t n);

/* Fills cfg with every key's default (keys without a default are zeroed). */
void gs_config_defaults(gs_run_config *cfg);

/* Output width of the readout: classes for label data, k for regression targets. Resolved when the
 * data set is known (gs_data), so not part of the config. */

/* Storage of recorded tensors and statistics (the `record` section, global to a sweep). */
typedef struct {
    int64_t every;       /* per-layer statistics every k steps (step % every == 0) */
    int64_t *grad_steps; /* sorted, unique explicit snapshot steps (may exceed steps - 1) */
    size_t n_grad_steps;
    int64_t grad_every; /* {every: k}: also every k-th step; 0 = off */
    int64_t grad_log;   /* {log: n}: also n log-spaced steps incl. first and last; 0 = off */
    int weights;        /* also store weights at the snapshot steps */
    int dtype;          /* gs_dtype: storage precision of tensors */
    int level;          /* gs_level: per-layer statistics recorded in each row (default
                         * standard; docs/probes.md lists each tier's statistics) */
    /* record.hist: {bins, every, min, max}: log10-magnitude histograms of the entries of dL/dW_l
     * and of dL/dh_l (the batch's back-propagated deltas) per layer */
    int64_t hist_bins;  /* bins; 0 = no histograms (default) */
    int64_t hist_every; /* every k steps (step % k == 0); 0 = record.every */
    double hist_min;    /* log10 |value| of the first bin's lower edge (default -12) */
    double hist_max;    /* log10 |value| of the last bin's upper edge (default 2); > hist_min */
    /* Probe batch: the first probe_batch samples of the training split (data set order after
     * the split permutation, training part), fixed for the whole run */
    int64_t probe_batch; /* rows of the probe batch (default 32; capped at the training samples) */
    int activations;     /* record.activations: pre-activations h_l of the probe batch at the
                          * snapshot steps (default false) */
    int deltas;          /* record.deltas: dL/dh_l of the probe batch at the snapshot steps */
    int64_t jacobian_inputs; /* record.jacobian: {inputs: m}: singular values of the
                              * input-output Jacobian for the first m probe samples at step 0
                              * and the snapshot steps; 0 = off (default) */
} gs_record;

/* Snapshot steps of a run with `steps` steps: writes the sorted unique steps in [0, steps) into
 * out (capacity cap) and returns how many there are (may be > cap: call with cap 0 to size).
 * A step is taken when it is an explicit step, a multiple of grad_every (when > 0), or, when
 * grad_log = n > 0, 0, steps - 1 or round(exp(i ln(steps) / (n - 1))) - 1 for i = 1..n-2.
 * The cost grows with the count returned and the explicit list, not with `steps`. */
size_t gs_record_snapshot_steps(const gs_record *rec, int64_t steps, int64_t *out, size_t cap);

/* Number of statistics rows a run of `steps` steps records when it does not stop early. */
int64_t gs_record_stat_rows(const gs_record *rec, int64_t steps);

/* Number of histogram rows (steps with step % hist period == 0 in [0, steps)); 0 when
 * hist_bins == 0. The period is hist_every, or every when hist_every is 0. */
int64_t gs_record_hist_rows(const gs_record *rec, int64_t steps);

/* Jacobian steps: step 0 and the snapshot steps, sorted, unique, in [0, steps); like
 * gs_record_snapshot_steps (returns the count, writes at most cap). 0 when jacobian_inputs is 0. */
size_t gs_record_jacobian_steps(const gs_record *rec, int64_t steps, int64_t *out, size_t cap);

#endif
