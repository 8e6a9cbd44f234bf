/* The HDF5 store, schema "gradsweep/1" (docs/schema.md). Crash-safe by construction: finished
 * runs go into segment files OUT.h5.d/seg-NNNNNN.h5 that are written as *.part, fsync'd and
 * renamed; an fsync'd journal OUT.h5.d/journal lists the committed segments and their run ids;
 * OUT.h5 is an index (root attributes, /summary, /runs/<id> external links into the segments)
 * rewritten atomically (tmp + rename) after commits, at most every max(commit_seconds, 10 x the
 * last rewrite's duration), and at close. Resume trusts only journaled segments.
 * Only one thread may use a gs_store (the writer); it is the only module that includes hdf5.h
 * besides the data loader. */
#ifndef GRADSWEEP_STORE_H
#define GRADSWEEP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "gradsweep/spec.h"
#include "gradsweep/status.h"
#include "gradsweep/train.h"

typedef enum {
    GS_STORE_CREATE = 0, /* refuse (GS_EEXIST) if OUT.h5 or OUT.h5.d exists */
    GS_STORE_FORCE,      /* remove an existing output first (still refused if locked) */
    GS_STORE_RESUME,     /* keep committed runs; create when nothing exists yet */
} gs_store_mode;

typedef struct {
    gs_store_mode mode;
    const char *command_line; /* stored as root attribute `command_line` */
    const char *rng_name;     /* stored as root attribute `rng` */
    double commit_seconds;    /* commit a segment at least this often (default 5 s if 0) */
    size_t commit_runs;       /* ... or after this many runs (default 64 if 0) */
} gs_store_opts;

typedef struct gs_store gs_store;

/* Opens the output at path for plan: takes an exclusive lock (OUT.h5.d/lock, flock; GS_EBUSY when
 * another process holds it), applies mode, and on resume reads the journal, drops *.part files and
 * unjournaled segments, and checks that the output was made with the same master seed and record
 * section and that every committed run is in the plan (GS_ESPEC otherwise, naming what differs).
 * Runs of the plan that are already committed are reported by gs_store_has_run. */
gs_status gs_store_open(gs_store **out, const char *path, const gs_plan *plan,
                        const gs_store_opts *opts, gs_error *err);

/* Whether the run with this id is committed (resume). O(1): a hash lookup. */
int gs_store_has_run(const gs_store *st, const char *id);

/* Number of committed runs (including those from earlier sessions). */
size_t gs_store_committed(const gs_store *st);

/* Status and verdict counts over every committed run (earlier sessions included). */
typedef struct {
    size_t ok;
    size_t diverged;
    size_t stopped;                    /* ended early by train.stop_on */
    size_t verdict[GS_VERDICT__COUNT]; /* by gs_verdict */
    size_t verdict_unknown;            /* runs of outputs written before verdicts existed */
} gs_store_counts;

/* Fills *c with the counts of committed runs by status and by verdict. */
void gs_store_get_counts(const gs_store *st, gs_store_counts *c);

/* Writes a finished run into the open segment (creating it when needed). Data is visible in the
 * output only after the next commit. */
gs_status gs_store_add_run(gs_store *st, const gs_run *run, const gs_result *res, gs_error *err);

/* Whether a commit is due (runs or seconds since the last commit reached the limits), or, with
 * nothing pending, a lagging index is due for its rewrite. */
int gs_store_commit_due(const gs_store *st);

/* Finishes the open segment (if it holds runs): close, fsync, rename, journal; then rewrites the
 * index if it is due. After it returns GS_OK, those runs survive kill -9. A write error (disk
 * full: GS_EIO "SEG.part: cannot write segment: No space left on device") drops the open segment
 * and makes the store refuse further writes. */
gs_status gs_store_commit(gs_store *st, gs_error *err);

/* Commits what is pending, rewrites the index, releases the lock and frees st. NULL is a no-op.
 * Returns the first error. */
gs_status gs_store_close(gs_store *st, gs_error *err);

/* Version strings for the root attributes: "1.10.8", "2.7", BLAS config string. */
const char *gs_store_hdf5_version(char *buf, size_t n);

#endif
