/* Reading a gradsweep output without writing it: what `gradsweep info` and `gradsweep status`
 * show. Works on a finished output and on one still being written or interrupted: the
 * committed runs are those of the journal (OUT.h5.d/journal), the index OUT.h5 gives the
 * provenance and the /summary rows, and runs the index does not list yet are read from their
 * segments. Never takes the writer's lock and never modifies anything. */
#ifndef GRADSWEEP_INSPECT_H
#define GRADSWEEP_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "gradsweep/spec.h"
#include "gradsweep/status.h"

/* One committed run. */
typedef struct {
    char id[GS_RUN_ID_LEN + 1];
    int status;           /* gs_run_status */
    int verdict;          /* gs_verdict, or -1 for a run written before verdicts existed */
    int64_t verdict_step; /* -1 when healthy or unknown */
    unsigned seg;         /* segment number (0 when only the index lists the run) */
} gs_inspect_run;

/* A root attribute of the index as text ("record_every" = "1", "record_grads" = "[0,50]"). */
typedef struct {
    char name[64];
    char value[256];
} gs_inspect_attr;

typedef struct {
    int has_index;   /* OUT.h5 exists (a gradsweep index) */
    int has_journal; /* OUT.h5.d/journal exists with a header */
    char schema[64]; /* "gradsweep/1" ("" without an index) */
    int64_t schema_minor;
    char version[32];        /* gradsweep_version */
    char created[40];        /* ISO 8601 (from the index, else the journal header) */
    char name[256];          /* spec name ("" without an index) */
    char *spec;              /* the resolved spec (YAML), NULL without an index */
    int64_t n_runs;          /* runs in the plan, -1 without an index */
    size_t n_indexed;        /* rows of /summary */
    size_t n_committed;      /* runs committed: the journal's, or the index's without a journal */
    gs_inspect_run *runs;    /* [n_committed], sorted by id */
    gs_inspect_attr *record; /* the record_* root attributes, in file order */
    size_t n_record;
    char journal_record[512]; /* the journal header's record text ("" when none) */
    uint64_t index_bytes;     /* size of OUT.h5 */
    uint64_t dir_bytes;       /* total size of the files in OUT.h5.d */
    size_t n_segments;        /* seg-NNNNNN.h5 files in OUT.h5.d */
    size_t n_partial;         /* *.part files: a segment being written, or left by a kill */
} gs_inspect;

/* Reads the output at path (OUT.h5; its OUT.h5.d is found next to it). GS_EINVAL with a
 * message for: nothing at path or path.d, not an HDF5 file, not a gradsweep index (another
 * schema, or a segment file); GS_EIO / GS_EHDF5 for read errors; GS_ENOMEM. On success *out owns
 * a new gs_inspect. */
gs_status gs_inspect_open(gs_inspect **out, const char *path, gs_error *err);

/* Frees an inspection; NULL is a no-op. */
void gs_inspect_destroy(gs_inspect *in);

/* The committed run with this id, or NULL (binary search). */
const gs_inspect_run *gs_inspect_find(const gs_inspect *in, const char *id);

#endif
