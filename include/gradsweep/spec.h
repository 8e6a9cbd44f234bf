/* Sweep specs: parse a YAML spec (+ command-line overrides), validate it against the key table,
 * and expand it into a plan of runs with stable content-hash ids and derived seeds.
 * Runs nothing and touches no HDF5. */
#ifndef GRADSWEEP_SPEC_H
#define GRADSWEEP_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "gradsweep/config.h"
#include "gradsweep/status.h"

#define GS_RUN_ID_LEN 16 /* hex characters */

/* One sweep axis: a key of the table and its values, in spec order. */
typedef struct {
    const gs_key *key;
    size_t n_values;
    char **values; /* canonical text of each value, as gs_key_format would print it */
} gs_axis;

/* One run of the plan. */
typedef struct {
    char id[GS_RUN_ID_LEN + 1]; /* hex of the 64-bit hash of canonical config + replicate */
    uint64_t seed;              /* gsl_rng seed, in [1, 2^32 - 1]; from (master seed, id) */
    int64_t replicate;          /* 0 .. replicates - 1 */
    size_t index;               /* position in grid order (axes in spec order, replicate last) */
    double cost; /* estimated flops of training (6 * sum n_in*n_out * batch * steps) */
    gs_run_config cfg;
} gs_run;

/* A parsed, validated and expanded spec. */
typedef struct {
    char *name;           /* spec `name` */
    uint64_t master_seed; /* spec `seed` */
    int64_t replicates;   /* spec `replicates` (>= 1) */
    gs_record record;     /* spec `record` section */
    size_t n_axes;
    gs_axis *axes; /* swept keys, in spec order (overrides that create an axis last) */
    size_t n_runs;
    gs_run *runs;        /* grid order */
    char *resolved_yaml; /* the spec after overrides with every default filled in */
    char *source_path;   /* the spec file as given */
} gs_plan;

/* Parses the spec at path, applies overrides ("model.depth=4,8": replaces or creates an axis;
 * one value makes the key a scalar), validates and expands it. Errors are GS_ESPEC with messages
 * "FILE:LINE: KEY: what is wrong (did you mean 'X'?)" (overrides name "command line" instead of a
 * file position); GS_EIO when the file cannot be read. On success *out owns a new plan. */
gs_status gs_plan_load(gs_plan **out, const char *path, const char *const *overrides,
                       size_t n_overrides, gs_error *err);

/* Same as gs_plan_load, from YAML text in memory; `name` stands for the file in messages. */
gs_status gs_plan_parse(gs_plan **out, const char *text, size_t len, const char *name,
                        const char *const *overrides, size_t n_overrides, gs_error *err);

/* Frees a plan; NULL is a no-op. */
void gs_plan_destroy(gs_plan *plan);

/* Canonical text of a run config + replicate: "key=value\n" lines for every key whose value differs
 * from its default (and is used by the run's data kind), sorted by key, then "replicate=R\n".
 * Keys at their default do not enter the id, so a later version that adds a key with a neutral
 * default keeps every existing id. Returns the number of characters needed (like snprintf). */
size_t gs_run_canonical(const gs_run_config *cfg, int64_t replicate, char *buf, size_t n);

/* 64-bit FNV-1a of bytes, finished with a 64-bit mixer (splitmix64 finaliser). */
uint64_t gs_hash64(const void *data, size_t len);

/* Seed of a run: mix(master seed, hash) folded to [1, 2^32 - 1] (never 0: GSL maps 0 to a
 * default seed, which would make two runs share a stream). The plan passes the hash of the run's
 * canonical text with train.dtype, train.ftz and train.stop_on at their defaults (equal to the
 * run-id hash for runs with those at their defaults), so runs differing only in precision or in
 * their early stop share a seed. */
uint64_t gs_run_seed(uint64_t master_seed, uint64_t id_hash);

/* Index of the run with the given id, or (size_t)-1. */
size_t gs_plan_find(const gs_plan *plan, const char *id);

/* Edit distance helper used for "did you mean": the candidate in names (NULL-terminated) closest
 * to word, or NULL when none is within a distance of max(2, strlen(word) / 3). */
const char *gs_nearest_name(const char *word, const char *const *names);

/* ---- output budget (budget.c) ---------------------------------------------------------- */

/* Parts of a run's predicted output, largest-first reporting picks from these. */
#define GS_BUDGET_LIST(X)                                                                          \
    X(GS_BUDGET_STATS, "statistics rows")                                                          \
    X(GS_BUDGET_EVAL, "eval rows")                                                                 \
    X(GS_BUDGET_GRADS, "grads snapshots")                                                          \
    X(GS_BUDGET_WEIGHTS, "weights snapshots")                                                      \
    X(GS_BUDGET_PROBE_INDEX, "probe batch index")                                                  \
    X(GS_BUDGET_ACTIVATIONS, "probe activations")                                                  \
    X(GS_BUDGET_DELTAS, "probe deltas")                                                            \
    X(GS_BUDGET_HIST, "histograms")                                                                \
    X(GS_BUDGET_JACOBIAN, "Jacobian spectra")                                                      \
    X(GS_BUDGET_OVERHEAD, "HDF5 object headers")

#define GS_BUDGET_ENUM(e, s) e,
typedef enum { GS_BUDGET_LIST(GS_BUDGET_ENUM) GS_BUDGET__COUNT } gs_budget_part;
#undef GS_BUDGET_ENUM

/* Names of the parts, indexed by gs_budget_part ("grads snapshots"), NULL-terminated. */
extern const char *const gs_budget_names[];

/* Bytes counted per HDF5 object (dataset or group) of a run for its header, attributes and
 * dimension-scale references: a documented estimate, the only inexact part of a budget. */
#define GS_BUDGET_OBJECT_BYTES 1024.0

/* What one run writes when it runs all its steps, uncompressed (docs/spec.md, "Output budget"):
 * every data array of docs/schema.md and docs/probes.md counted exactly from its shape and
 * element size, plus GS_BUDGET_OBJECT_BYTES per object. Bytes are doubles (exact below 2^53). */
typedef struct {
    int64_t d_in, d_out; /* the data dimensions used */
    int64_t n_layers;    /* L = depth + 1 */
    int64_t rows;        /* T: statistics rows */
    int64_t evals;       /* E: evaluation rows (0 without a held-out split) */
    int64_t snaps;       /* S: snapshot steps */
    int64_t probe_rows;  /* P: probe batch rows (0 when no probe option is on) */
    int64_t hist_rows;   /* histogram rows */
    int64_t jac_steps;   /* J: Jacobian steps */
    int64_t objects;     /* datasets and groups counted in GS_BUDGET_OVERHEAD */
    double part[GS_BUDGET__COUNT];
    double total;
} gs_budget;

/* Data shape of a run as its config tells it: inputs d_in, outputs d_out, samples n. Returns 1
 * for the synthetic kinds (exact). For file kinds (hdf5, mnist_idx) only the file knows: the
 * first and last hidden widths stand in for d_in and d_out, n is 0 (unknown), and it returns 0. */
int gs_budget_shape(const gs_run_config *cfg, int64_t *d_in, int64_t *d_out, int64_t *n);

/* Predicts the output of run cfg under rec for data of d_in inputs, d_out outputs and n samples
 * (n = 0: unknown, the probe batch then counts record.probe_batch rows, not fewer). */
void gs_budget_run(gs_budget *b, const gs_record *rec, const gs_run_config *cfg, int64_t d_in,
                   int64_t d_out, int64_t n);

/* Estimated memory of the same run: *result the bytes of its gs_result (float64 buffers, held
 * until written), *train the training state on top (net, gradients, optimizer, activations,
 * synthetic data set, minibatch buffers). */
void gs_budget_memory(const gs_record *rec, const gs_run_config *cfg, int64_t d_in, int64_t d_out,
                      int64_t n, double *result, double *train);

/* Parses a byte count: a number >= 0 with an optional suffix K, M, G or T (powers of 1000, either
 * case, optionally followed by B): "50G" = 5e10, "1.5T", "123456", "40GB". Returns 0, or -1 for
 * anything else (empty, negative, other suffixes, NaN/Inf, trailing text). */
int gs_budget_parse_size(const char *text, double *bytes);

#endif
