/* The parallel driver: trains a plan's runs on OpenMP threads (most expensive first, dynamic
 * schedule) and feeds finished results through a bounded queue to one writer thread that owns
 * the store. Prints nothing: progress is exposed as counters a caller can poll. */
#ifndef GRADSWEEP_DRIVER_H
#define GRADSWEEP_DRIVER_H

#include <stdatomic.h>
#include <stddef.h>

#include "gradsweep/data.h"
#include "gradsweep/spec.h"
#include "gradsweep/status.h"
#include "gradsweep/store.h"

/* Counters updated by the driver while it runs; safe to read from another thread. */
typedef struct {
    atomic_size_t total;     /* runs to train this session (plan runs minus committed ones) */
    atomic_size_t skipped;   /* runs already committed (resume) */
    atomic_size_t done;      /* runs finished this session (ok + diverged) */
    atomic_size_t diverged;  /* of which diverged */
    atomic_size_t committed; /* runs committed to disk this session */
    atomic_int finished;     /* set when the driver returns */
} gs_progress;

/* The data sets of a plan's hdf5 runs, loaded once before training so that workers never call
 * HDF5 and a bad file fails the sweep before any output is created. */
typedef struct gs_plan_data gs_plan_data;

/* Loads every distinct (path, x, y) used by the plan's hdf5 runs (data.path relative to the
 * directory of the spec file) and checks each run against it (cross_entropy needs labels,
 * train.batch must not exceed the samples). Errors name the file and dataset. Plans without hdf5
 * runs load nothing. */
gs_status gs_plan_data_load(gs_plan_data **out, const gs_plan *plan, gs_error *err);

/* The data set of run `run` (plan index), or NULL for synthetic kinds. */
const gs_dataset *gs_plan_data_get(const gs_plan_data *pd, size_t run);

/* Frees the data sets; NULL is a no-op. */
void gs_plan_data_destroy(gs_plan_data *pd);

typedef struct {
    int threads;              /* OpenMP worker threads (>= 1) */
    size_t queue_cap;         /* bounded queue capacity in results (0: 2 * threads) */
    const atomic_int *stop;   /* set asynchronously (signal) to stop taking runs; may be NULL */
    gs_progress *progress;    /* may be NULL */
    const gs_plan_data *data; /* from gs_plan_data_load for this plan; NULL: loaded here */
} gs_driver_opts;

/* Trains every run of plan not yet committed in st and stores it, with opts->data or, when NULL,
 * data sets it loads first (errors there fail the sweep before any training). Returns GS_OK when
 * all runs are committed, GS_EINTR when *stop was raised (finished runs are committed), or the
 * first error (a store error stops the sweep; runs committed so far stay valid). st stays open; the
 * caller closes it. */
gs_status gs_driver_run(const gs_plan *plan, gs_store *st, const gs_driver_opts *opts,
                        gs_error *err);

#endif
