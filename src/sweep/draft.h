/* The parsed-but-not-expanded spec shared by spec.c (YAML + overrides -> draft, validation) and
 * plan.c (draft -> runs, ids, seeds, resolved YAML). Private to src/sweep. */
#ifndef GRADSWEEP_SWEEP_DRAFT_H
#define GRADSWEEP_SWEEP_DRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "gradsweep/config.h"
#include "gradsweep/spec.h"
#include "gradsweep/status.h"
#include "sweep/yaml.h"

#define GS_DRAFT_MAX_KEYS 64

/* What the spec says about one key of gs_keys: nothing, a fixed value or an axis. */
typedef struct {
    int set;         /* given in the spec or on the command line */
    int line;        /* line of the value in the spec file (0 when from the command line) */
    const char *ovr; /* the override that set it (borrowed from the caller), or NULL */
    int is_axis;
    size_t n, cap;
    char **vals; /* [n] canonical texts (gs_key_format); n == 1 for a fixed value */
} gs_slot;

/* Where a record setting was given, for messages: spec line or the override. */
typedef struct {
    int set;
    int line;
    const char *ovr;
} gs_src;

typedef struct {
    const char *file; /* name used in messages */
    gs_error *err;
    size_t n_keys;                    /* gs_key_count() */
    gs_slot slots[GS_DRAFT_MAX_KEYS]; /* indexed like gs_keys */
    size_t axis[GS_DRAFT_MAX_KEYS];   /* slot indexes of the axes, in sweep order */
    size_t n_axis;
    char *name;
    int name_line;        /* line of the name value (0 when from the command line) */
    const char *name_ovr; /* the override that set the name, or NULL */
    uint64_t seed;
    int64_t replicates;
    gs_record rec;        /* grad_steps owned by the draft until handed to the plan */
    int64_t max_step;     /* the largest explicit snapshot step */
    gs_src src_step;      /* where max_step was given */
    gs_src src_hist;      /* record.hist (its mapping, or the last part set) */
    gs_src src_hist_part; /* the last of record.hist's every/min/max given */
    gs_src src_jacobian;  /* record.jacobian */
    gs_src src_probe;     /* record.probe_batch */
    int top_line;         /* line of the document's root mapping */
    int sec_line[3];      /* lines of the data, model and train keys (0 when absent) */
} gs_draft;

/* Spec record keys that may be overridden ("record.every", ...), NULL-terminated. */
extern const char *const gs_draft_record_overrides[];

/* The parser's record section before the spec is read: every default of docs/spec.md (every 1,
 * float32, level standard, histograms and Jacobian off, hist range [-12, 2], probe batch 32). */
void gs_draft_record_defaults(gs_record *r);

/* Reads the spec's record mapping into d->rec (record.c). GS_ESPEC naming file:line and key. */
gs_status gs_draft_read_record(gs_draft *d, const gs_ynode *map);

/* One record key from text: key without "record." ("every", "hist.bins", "grads.log", ...), from
 * a spec line (ovr NULL) or an override. GS_ESPEC with the reason. */
gs_status gs_draft_record_scalar(gs_draft *d, const char *key, const char *t, int line,
                                 const char *ovr);

/* Applies override ovr to record key `key` ("record.level") with value text vals (modified). */
gs_status gs_draft_override_record(gs_draft *d, const char *key, char *vals, const char *ovr);

/* The record checks that need the whole spec read: sorts and dedups the explicit snapshot steps,
 * histogram parts without bins, hist min < max, jacobian inputs <= probe_batch. */
gs_status gs_draft_check_record(gs_draft *d);

/* Helpers of the YAML reader shared by spec.c and record.c: a node must be a non-null scalar; a
 * mapping must not repeat a key; an unknown key with its did-you-mean. All return GS_ESPEC (or
 * GS_OK) with "FILE:LINE: prefix.key: ..." messages. */
gs_status gs_draft_need_scalar(gs_draft *d, const gs_ynode *v, const char *key);
gs_status gs_draft_check_dups(gs_draft *d, const gs_ynode *map, const char *prefix);
gs_status gs_draft_unknown_key(gs_draft *d, const gs_ynode *key, const char *prefix,
                               const char *const *names);

/* A YAML boolean (true/false, yes/no, on/off and capitalised forms). Returns 0, or -1. */
int gs_draft_bool(const char *t, int *v);

/* Whether key k is train.stop_on, a list of verdicts kept as canonical text (value.c). */
int gs_draft_is_verdicts(const gs_key *k);

/* " (did you mean 'x'?)" for the name nearest to word, or " (expected one of: a, b, c)". */
void gs_draft_suggest(char *buf, size_t n, const char *word, const char *const *names);

/* A finite real number written in full (no trailing text). Returns 0, or -1. */
int gs_draft_real(const char *t, double *v);

/* An integer in [lo, hi] (decimal, or a real with an integral value such as "64.0"). Returns 0, or
 * -1 with the reason in why. */
int gs_draft_int(const char *t, double lo, double hi, int64_t *v, char *why, size_t n);

/* The index of t in the NULL-terminated names. Returns 0, or -1 with "unknown value 't' (did you
 * mean ...)" in why. */
int gs_draft_enum(const char *t, const char *const *names, int *v, char *why, size_t n);

/* Parses text as a value of key k into the matching field of cfg. Returns 0, or -1 with the
 * reason ("expected an integer, got '2.5'") in why. */
int gs_draft_parse_value(const gs_key *k, const char *text, gs_run_config *cfg, char *why,
                         size_t n);

/* Sets a GS_ESPEC error "FILE:LINE: KEY: message" (or "command line: OVERRIDE: message" when ovr
 * is not NULL; KEY is left out when NULL) in d->err and returns GS_ESPEC. */
gs_status gs_draft_fail(const gs_draft *d, int line, const char *ovr, const char *key,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Bit mask (1 << gs_datakind) of the data kinds the draft's runs use (data.kind may be an axis). */
unsigned gs_draft_kinds(const gs_draft *d);

/* Whether key k is used by data kind `kind`. */
int gs_draft_key_applies(const gs_key *k, int kind);

/* The architecture checks of one expanded run (arch.c): a model.width layer list has
 * model.depth entries, every residual block maps a width to itself, and batchnorm sees at least
 * 2 rows per batch (synthetic data; file data are checked when loaded). GS_ESPEC naming the key
 * and its line. */
gs_status gs_draft_check_arch(const gs_draft *d, const gs_run *run);

/* Expands a validated draft into a new plan (*out): runs in grid order with ids, seeds and cost,
 * duplicate-run detection (GS_ESPEC naming the axis), resolved YAML. Takes the draft's record
 * grad_steps (d->rec.grad_steps becomes NULL). GS_ENOMEM when allocation fails. */
gs_status gs_draft_expand(gs_draft *d, gs_plan **out);

#endif
