/* Private interface between the store's files: the store object, the journal (journal.c), the
 * HDF5 helpers (h5util.c), segment writing and reading (segment.c) and the index (index.c).
 * Nothing here is public; only src/store and src/data include hdf5.h. */
#ifndef GRADSWEEP_STORE_INTERNAL_H
#define GRADSWEEP_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "gradsweep/spec.h"
#include "gradsweep/status.h"
#include "gradsweep/store.h"
#include "gradsweep/theory.h"
#include "gradsweep/train.h"

#define GS_SCHEMA "gradsweep/1"
/* Additions within gradsweep/1 (docs/schema.md, "Versions"); files without it are minor 0. */
#define GS_SCHEMA_MINOR 2
#define GS_JOURNAL_MAGIC "gradsweep-journal 1"
#define GS_CHUNK_MIN ((size_t)64 * 1024)   /* smallest chunk in bytes (and contiguous below) */
#define GS_CHUNK_MAX ((size_t)1024 * 1024) /* largest chunk in bytes */
#define GS_DEFLATE_LEVEL 4
#define GS_STATUS_STR_LEN 9   /* "ok" / "diverged" / "stopped" + NUL */
#define GS_VERDICT_STR_LEN 10 /* longest verdict name ("saturated") + NUL */

/* One run the store knows about: committed in an earlier session, committed in this one, or
 * written to the open segment and pending. Holds what /summary needs. */
typedef struct {
    char id[GS_RUN_ID_LEN + 1];
    size_t order;             /* plan index, or plan->n_runs + commit sequence when not planned */
    const gs_run_config *cfg; /* the plan's config, or own_cfg */
    gs_run_config *own_cfg;   /* read back from the segment for runs not in the plan */
    uint64_t seed;
    int64_t replicate;
    int status; /* gs_run_status */
    int64_t diverged_step;
    int verdict;          /* gs_verdict, or -1 for a run written before verdicts existed */
    int64_t verdict_step; /* -1 when healthy or unknown */
    double delta_slope0;  /* NaN when not recorded */
    gs_theory th;         /* mean-field theory of the config (NaN fields when absent) */
    double final_loss;
    double gn_first, gn_last;        /* grad_norm of layers 0 and L-1 at step 0 (NaN when absent) */
    double eval_loss, eval_accuracy; /* the last held-out evaluation (NaN when none or absent) */
    unsigned seg;                    /* segment number holding the run */
    int committed;
} gs_store_row;

struct gs_store {
    const gs_plan *plan;
    gs_store_opts opts;
    char *path;       /* OUT.h5 as given */
    char *dir;        /* OUT.h5.d */
    char *parent;     /* directory containing OUT.h5 ("." when none) */
    char *base;       /* basename of OUT.h5 */
    char *record;     /* canonical text of the record section */
    char created[32]; /* ISO 8601 UTC of the store's creation */
    int lock_fd;
    int journal_fd;
    int broken; /* an add or commit failed half-way: refuse further writes */
    gs_store_row *rows;
    size_t n_rows, cap_rows;
    size_t n_committed;
    size_t *slots; /* open-addressing hash: id -> row index + 1 (0 = empty) */
    size_t n_slots;
    unsigned next_seg;  /* number of the next segment */
    hid_t seg_file;     /* open segment (*.part) or H5I_INVALID_HID */
    hid_t seg_runs;     /* its /runs group */
    size_t n_pending;   /* runs in the open segment: the last n_pending rows */
    double last_commit; /* monotonic seconds of the last commit (or of open) */
    int index_written;  /* OUT.h5 was rewritten in this session (resume: at open) */
    int index_dirty;    /* runs were committed since the last index rewrite */
    double last_index;  /* monotonic seconds at the end of the last index rewrite */
    double index_cost;  /* seconds the last index rewrite took */
};

/* ---- store.c: row table ---- */

/* Index of the row with this id, or (size_t)-1. */
size_t gs_store_find_row(const gs_store *st, const char *id);

/* Appends a row (copied) and indexes its id. */
gs_status gs_store_add_row(gs_store *st, const gs_store_row *row, gs_error *err);

/* ---- journal.c ---- */

/* Canonical one-token text of a record section ("every=1;grads=0,50;...;dtype=float32"); malloc'd,
 * NULL when out of memory. */
char *gs_journal_record_text(const gs_record *rec);

/* Shortest "%.Ng" of v that reads back exactly (as gs_key_format writes reals) into buf. */
void gs_fmt_real(char *buf, size_t n, double v);

/* Writes a fresh journal (header line only), fsync'd, replacing any old one. */
gs_status gs_journal_create(gs_store *st, gs_error *err);

/* Reads the journal of a resumed store: checks the header against the plan (GS_ESPEC naming the
 * difference), truncates an incomplete final line, adds one committed row per journaled run (only
 * id and segment set) and sets next_seg. *fresh is 1 when there was no usable journal at all. */
gs_status gs_journal_load(gs_store *st, int *fresh, gs_error *err);

/* Appends "seg-NNNNNN.h5 id id ...\n" for the pending rows of segment seg with one write + fsync.
 */
gs_status gs_journal_append(gs_store *st, unsigned seg, gs_error *err);

/* Removes from the store directory every *.part file and every seg-*.h5 not journaled. When
 * all is set, removes every segment, the journal and the index too (--force). */
gs_status gs_journal_sweep_dir(gs_store *st, int all, gs_error *err);

/* fsyncs a file or directory by path. */
gs_status gs_fsync_path(const char *path, int is_dir, gs_error *err);

/* "DIR/seg-NNNNNN.h5" (+ ".part" when part) into buf. */
void gs_segment_path(const gs_store *st, unsigned seg, int part, char *buf, size_t n);

/* ---- h5util.c ---- */

/* Turns HDF5's automatic error printing off for the calling thread. In a thread-safe HDF5 the
 * setting is per thread, so every public store entry point calls this first. */
void gs_h5_quiet(void);

/* The system errno that HDF5's POSIX driver recorded in the current error stack, or 0. */
int gs_h5_sys_errno(void);

/* Sets err to GS_EHDF5 with "where: call failed (innermost HDF5 message)", or to GS_EIO with
 * "where: call failed: strerror" when the stack holds a system error. Returns the status. */
gs_status gs_h5_fail(gs_error *err, const char *where, const char *call);

/* Like gs_h5_fail, but a system error (disk full) becomes "file: cannot write what: strerror". */
gs_status gs_h5_fail_write(gs_error *err, const char *file, const char *what, const char *where,
                           const char *call);

/* Closes a file that was written. Its blocks are allocated first (posix_fallocate), so that a
 * full disk is met before HDF5 flushes (a failed flush makes the file impossible to close in
 * HDF5 1.10, and the library crashes at exit); the file is then discarded (gs_h5_discard_file)
 * and the caller removes it by name. Errors name path and what ("segment", "index"). */
gs_status gs_h5_close_file(hid_t f, const char *path, const char *what, gs_error *err);

/* Closes a file whose contents are abandoned (after a write error): first points its descriptor
 * at an unlinked in-memory file (POSIX driver), so that what HDF5 writes while closing cannot
 * fail for lack of disk space. Errors are ignored; the caller unlinks the file. */
void gs_h5_discard_file(hid_t f);

/* File access property list for everything the store writes (1.8+ object format so large
 * attributes and big groups are allowed; strong close semantics checked). */
hid_t gs_h5_fapl(void);

/* Scalar attributes on obj. */
herr_t gs_h5_attr_i64(hid_t obj, const char *name, int64_t v);
herr_t gs_h5_attr_u64(hid_t obj, const char *name, uint64_t v);
herr_t gs_h5_attr_f64(hid_t obj, const char *name, double v);
herr_t gs_h5_attr_str(hid_t obj, const char *name, const char *v); /* variable-length UTF-8 */
/* 1-D attributes (an empty array is a zero-length dataspace). */
herr_t gs_h5_attr_i64v(hid_t obj, const char *name, const int64_t *v, size_t n);
herr_t gs_h5_attr_strv(hid_t obj, const char *name, const char *const *v, size_t n);

/* Reads scalar attributes; negative on failure or when absent. str: copies into buf. */
herr_t gs_h5_read_i64(hid_t obj, const char *name, int64_t *v);
herr_t gs_h5_read_u64(hid_t obj, const char *name, uint64_t *v);
herr_t gs_h5_read_f64(hid_t obj, const char *name, double *v);
herr_t gs_h5_read_str(hid_t obj, const char *name, char *buf, size_t n);

/* Creates and writes dataset name under loc with the store's layout policy: datasets under
 * GS_CHUNK_MIN bytes are contiguous; larger ones are chunked (64 KiB - 1 MiB, outer dimensions
 * first) with shuffle + deflate. Zero-sized datasets are contiguous and empty. Returns the open
 * dataset (caller closes) or a negative id. */
hid_t gs_h5_write_dataset(hid_t loc, const char *name, int rank, const hsize_t *dims,
                          hid_t file_type, hid_t mem_type, const void *buf);

/* Chunk shape for dims under the policy above; returns 0 when the dataset stays contiguous. */
int gs_h5_chunk_shape(int rank, const hsize_t *dims, size_t elem, hsize_t *chunk);

/* Writes dataset name [n] = 0..n-1 (int64, using tmp[n] as scratch) under loc and makes it a
 * dimension scale called scale_name. Returns the open dataset or a negative id. */
hid_t gs_h5_index_scale(hid_t loc, const char *name, const char *scale_name, size_t n,
                        int64_t *tmp);

/* Attaches scale to dimension dim of ds and labels the dimension. */
herr_t gs_h5_attach(hid_t ds, hid_t scale, unsigned dim, const char *label);

/* ---- run status and verdict names (store.c) ---- */

/* "ok", "diverged", "stopped" for a gs_run_status. */
const char *gs_store_status_name(int status);

/* gs_run_status of a stored status string; -1 when unknown. */
int gs_store_status_parse(const char *name);

/* gs_verdict of a stored verdict name; -1 when unknown or empty. */
int gs_store_verdict_parse(const char *name);

/* ---- segment.c ---- */

/* Context of segment error messages: "OUT.h5.d/seg-000001.h5.part: /runs/<id>/grads/W003". */
typedef struct {
    const char *seg;
    const char *id;
    gs_error *err;
    int writing; /* a system error becomes "SEG: cannot write segment: <strerror>" */
} gs_seg_ctx;

/* Sets err for a failed call on object obj (relative to the run group; "" for the group). */
gs_status gs_seg_fail(const gs_seg_ctx *c, const char *obj, const char *call);

/* Closes *ds when open (a failure is reported unless s already holds one) and returns s or the
 * close error. Closing flushes raw data, so a full disk shows up here. */
gs_status gs_seg_close(hid_t *ds, const gs_seg_ctx *c, const char *obj, gs_status s);

/* ---- probes.c: schema_minor 2 objects of a run group ---- */

/* Writes the per-row probe statistics ([T, L] on the scales step and layer, [T, H] on step and
 * a new scale `hidden`, delta_slope [T]) and the groups hist/, probe/ and jacobian/ of res into
 * run group g. step and layer are the group's open scales; rec gives the histogram range, ftype
 * the storage type of tensors; tmp holds at least gs_probes_tmp_len(res) entries. */
gs_status gs_probes_write(hid_t g, hid_t step, hid_t layer, const gs_result *res,
                          const gs_record *rec, hid_t ftype, int64_t *tmp, const gs_seg_ctx *c);

/* Scratch entries gs_probes_write needs for its index scales. */
size_t gs_probes_tmp_len(const gs_result *res);

/* Writes /runs/<id> of one finished run into group runs (the open segment's /runs), with th
 * (gs_theory_for_run of its config) as attributes; seg_path names the segment in messages. */
gs_status gs_segment_write_run(hid_t runs, const gs_plan *plan, const gs_run *run,
                               const gs_result *res, const gs_theory *th, const char *seg_path,
                               gs_error *err);

/* Reads the config and replicate of a committed row back from its segment (for messages about
 * runs that are not in the plan). */
gs_status gs_segment_read_config(const gs_store *st, const gs_store_row *row, gs_run_config *cfg,
                                 int64_t *replicate, gs_error *err);

/* Fills the summary fields of the journaled rows from their segment files (resume); for rows of
 * runs not in the plan also reads the config back from the run's attributes. */
gs_status gs_segment_read_rows(gs_store *st, gs_error *err);

/* ---- index.c ---- */

/* Rewrites OUT.h5 atomically from the committed rows. */
gs_status gs_index_write(gs_store *st, gs_error *err);

#endif
