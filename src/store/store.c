/* The store's life cycle: open (lock, create / force / resume), add runs to the open segment,
 * commit (close, fsync, rename, journal, index) and close. Segment contents are in segment.c,
 * the journal in journal.c, the index in index.c. Single-threaded: the writer owns it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/internal.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* FNV-1a of the id string; ids are already hashes, but this keeps any text safe. */
static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

size_t gs_store_find_row(const gs_store *st, const char *id)
{
    if (st->n_slots == 0)
        return (size_t)-1;
    for (size_t i = id_hash(id) & (st->n_slots - 1);; i = (i + 1) & (st->n_slots - 1)) {
        size_t r = st->slots[i];
        if (r == 0)
            return (size_t)-1;
        if (strcmp(st->rows[r - 1].id, id) == 0)
            return r - 1;
    }
}

/* Rebuilds the hash with n_slots (a power of two, > 2 * rows). */
static gs_status rehash(gs_store *st, size_t n_slots, gs_error *err)
{
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory (run index)", st->path);
    for (size_t r = 0; r < st->n_rows; r++) {
        size_t i = id_hash(st->rows[r].id) & (n_slots - 1);
        while (slots[i])
            i = (i + 1) & (n_slots - 1);
        slots[i] = r + 1;
    }
    free(st->slots);
    st->slots = slots;
    st->n_slots = n_slots;
    return GS_OK;
}

gs_status gs_store_add_row(gs_store *st, const gs_store_row *row, gs_error *err)
{
    if (st->n_rows == st->cap_rows) {
        size_t cap = st->cap_rows ? 2 * st->cap_rows : 64;
        gs_store_row *rows = realloc(st->rows, cap * sizeof *rows);
        if (!rows)
            return gs_error_set(err, GS_ENOMEM, "%s: out of memory (runs)", st->path);
        st->rows = rows;
        st->cap_rows = cap;
    }
    st->rows[st->n_rows++] = *row;
    if (2 * st->n_rows >= st->n_slots)
        return rehash(st, st->n_slots ? 2 * st->n_slots : 256, err);
    size_t i = id_hash(row->id) & (st->n_slots - 1);
    while (st->slots[i])
        i = (i + 1) & (st->n_slots - 1);
    st->slots[i] = st->n_rows;
    return GS_OK;
}

static void iso_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Fills path, dir, parent and base from the output path. */
static gs_status set_paths(gs_store *st, const char *path, gs_error *err)
{
    size_t n = strlen(path);
    if (n == 0 || n > GS_PATH_MAX || path[n - 1] == '/')
        return gs_error_set(err, GS_EINVAL, "'%s': not a usable output file path", path);
    st->path = dup_str(path);
    st->dir = malloc(n + 3);
    const char *slash = strrchr(path, '/');
    st->base = dup_str(slash ? slash + 1 : path);
    st->parent = dup_str(slash ? path : ".");
    if (!st->path || !st->dir || !st->base || !st->parent)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", path);
    snprintf(st->dir, n + 3, "%s.d", path);
    if (slash)
        st->parent[slash == path ? 1 : slash - path] = '\0';
    return GS_OK;
}

static gs_status take_lock(gs_store *st, gs_error *err)
{
    char path[GS_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/lock", st->dir);
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (st->lock_fd < 0)
        return gs_error_set(err, GS_EIO, "%s: cannot open lock file: %s", path, strerror(errno));
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return gs_error_set(err, GS_EBUSY,
                                "%s is in use by another gradsweep process (lock %s)", st->path,
                                path);
        return gs_error_set(err, GS_EIO, "%s: flock failed: %s", path, strerror(errno));
    }
    return GS_OK;
}

static gs_status make_dir(const gs_store *st, int may_exist, gs_error *err)
{
    if (mkdir(st->dir, 0777) == 0 || (may_exist && errno == EEXIST))
        return GS_OK;
    if (errno == EEXIST)
        return gs_error_set(err, GS_EEXIST,
                            "%s exists; use --resume to continue it or --force to overwrite",
                            st->path);
    return gs_error_set(err, GS_EIO, "%s: cannot create directory: %s", st->dir, strerror(errno));
}

/* Starts an empty store in a locked directory: wipe old contents, new journal. */
static gs_status start_fresh(gs_store *st, gs_error *err)
{
    gs_status s = gs_journal_sweep_dir(st, 1, err);
    if (s != GS_OK)
        return s;
    iso_now(st->created, sizeof st->created);
    return gs_journal_create(st, err);
}

/* Gives each row its plan position and config; rows of runs outside the plan go after the plan,
 * in journal order, and get their config from the segment. */
static void order_rows(gs_store *st)
{
    const gs_plan *plan = st->plan;
    for (size_t r = 0; r < st->n_rows; r++) {
        st->rows[r].order = plan->n_runs + r;
        st->rows[r].cfg = NULL;
    }
    for (size_t i = 0; i < plan->n_runs; i++) {
        size_t r = gs_store_find_row(st, plan->runs[i].id);
        if (r != (size_t)-1) {
            st->rows[r].order = i;
            st->rows[r].cfg = &plan->runs[i].cfg;
        }
    }
}

static gs_status resume(gs_store *st, int out_exists, gs_error *err)
{
    int fresh = 0;
    gs_status s = gs_journal_load(st, &fresh, err);
    if (s != GS_OK)
        return s;
    if (fresh && out_exists)
        return gs_error_set(err, GS_EEXIST,
                            "%s exists but %s/journal is missing or incomplete, so it cannot be "
                            "resumed; use --force to overwrite",
                            st->path, st->dir);
    if (fresh)
        return start_fresh(st, err);
    if ((s = gs_journal_sweep_dir(st, 0, err)) != GS_OK)
        return s;
    order_rows(st);
    if ((s = gs_segment_read_rows(st, err)) != GS_OK)
        return s;
    /* The last session may have died between journal and index: rewrite it now. */
    return gs_index_write(st, err);
}

static gs_status open_mode(gs_store *st, gs_error *err)
{
    struct stat sb;
    int out_exists = stat(st->path, &sb) == 0;
    int dir_exists = stat(st->dir, &sb) == 0;
    gs_status s;
    switch (st->opts.mode) {
    case GS_STORE_CREATE:
        if (out_exists || dir_exists)
            return gs_error_set(err, GS_EEXIST,
                                "%s exists; use --resume to continue it or --force to overwrite",
                                st->path);
        if ((s = make_dir(st, 0, err)) != GS_OK || (s = take_lock(st, err)) != GS_OK)
            return s;
        return start_fresh(st, err);
    case GS_STORE_FORCE:
        if ((s = make_dir(st, 1, err)) != GS_OK || (s = take_lock(st, err)) != GS_OK)
            return s;
        return start_fresh(st, err);
    case GS_STORE_RESUME:
        if (!dir_exists && out_exists)
            return gs_error_set(err, GS_EEXIST,
                                "%s exists but has no %s directory, so it cannot be resumed; use "
                                "--force to overwrite",
                                st->path, st->dir);
        if ((s = make_dir(st, 1, err)) != GS_OK || (s = take_lock(st, err)) != GS_OK)
            return s;
        return dir_exists ? resume(st, out_exists, err) : start_fresh(st, err);
    }
    return gs_error_set(err, GS_EINVAL, "%s: unknown store mode %d", st->path, (int)st->opts.mode);
}

static void free_store(gs_store *st)
{
    if (st->seg_runs >= 0)
        H5Gclose(st->seg_runs);
    if (st->seg_file >= 0)
        H5Fclose(st->seg_file);
    if (st->journal_fd >= 0)
        close(st->journal_fd);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    for (size_t r = 0; r < st->n_rows; r++)
        free(st->rows[r].own_cfg);
    free(st->rows);
    free(st->slots);
    free(st->record);
    free(st->path);
    free(st->dir);
    free(st->parent);
    free(st->base);
    free(st);
}

gs_status gs_store_open(gs_store **out, const char *path, const gs_plan *plan,
                        const gs_store_opts *opts, gs_error *err)
{
    gs_status s = GS_OK;
    *out = NULL;
    /* Library code must not print: HDF5's automatic error stack printing stays off. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    gs_store *st = calloc(1, sizeof *st);
    if (!st)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", path);
    st->lock_fd = st->journal_fd = -1;
    st->seg_file = st->seg_runs = H5I_INVALID_HID;
    st->plan = plan;
    st->opts = *opts;
    if (st->opts.commit_seconds <= 0)
        st->opts.commit_seconds = 5;
    if (st->opts.commit_runs == 0)
        st->opts.commit_runs = 64;
    st->next_seg = 1;
    if ((s = set_paths(st, path, err)) != GS_OK)
        goto done;
    st->record = gs_journal_record_text(&plan->record);
    if (!st->record) {
        s = gs_error_set(err, GS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((s = open_mode(st, err)) != GS_OK)
        goto done;
    st->last_commit = now_seconds();
    *out = st;
done:
    if (s != GS_OK)
        free_store(st);
    return s;
}

int gs_store_has_run(const gs_store *st, const char *id)
{
    size_t r = gs_store_find_row(st, id);
    return r != (size_t)-1 && st->rows[r].committed;
}

size_t gs_store_committed(const gs_store *st)
{
    return st->n_committed;
}

void gs_store_get_counts(const gs_store *st, gs_store_counts *c)
{
    c->ok = c->diverged = 0;
    for (size_t r = 0; r < st->n_rows; r++) {
        if (!st->rows[r].committed)
            continue;
        if (st->rows[r].status == GS_RUN_DIVERGED)
            c->diverged++;
        else
            c->ok++;
    }
}

/* Creates the next segment as seg-NNNNNN.h5.part with an empty /runs group. */
static gs_status open_segment(gs_store *st, gs_error *err)
{
    char path[GS_PATH_MAX + 64];
    gs_segment_path(st, st->next_seg, 1, path, sizeof path);
    hid_t fapl = gs_h5_fapl();
    if (fapl < 0)
        return gs_h5_fail(err, path, "H5Pcreate(file access)");
    st->seg_file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (st->seg_file < 0)
        return gs_h5_fail(err, path, "H5Fcreate");
    if (gs_h5_attr_str(st->seg_file, "schema", GS_SCHEMA " segment") < 0)
        return gs_h5_fail(err, path, "H5Acreate(schema)");
    st->seg_runs = H5Gcreate2(st->seg_file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (st->seg_runs < 0)
        return gs_h5_fail(err, path, "H5Gcreate(/runs)");
    return GS_OK;
}

gs_status gs_store_add_run(gs_store *st, const gs_run *run, const gs_result *res, gs_error *err)
{
    gs_status s = GS_OK;
    char name[32];
    if (st->broken)
        return gs_error_set(err, GS_EIO, "%s: store unusable after an earlier write error",
                            st->path);
    if (gs_store_find_row(st, run->id) != (size_t)-1)
        return gs_error_set(err, GS_EINVAL, "%s: run %s is already in the output", st->path,
                            run->id);
    if (st->seg_file < 0 && (s = open_segment(st, err)) != GS_OK)
        goto done;
    snprintf(name, sizeof name, "seg-%06u.h5.part", st->next_seg);
    if ((s = gs_segment_write_run(st->seg_runs, st->plan, run, res, name, err)) != GS_OK)
        goto done;
    gs_store_row row = {0};
    memcpy(row.id, run->id, sizeof row.id);
    int planned =
        run->index < st->plan->n_runs && strcmp(st->plan->runs[run->index].id, run->id) == 0;
    row.order = planned ? run->index : st->plan->n_runs + st->n_rows;
    row.cfg = planned ? &st->plan->runs[run->index].cfg : NULL;
    if (!planned) {
        row.own_cfg = malloc(sizeof *row.own_cfg);
        if (!row.own_cfg) {
            s = gs_error_set(err, GS_ENOMEM, "%s: out of memory", st->path);
            goto done;
        }
        *row.own_cfg = run->cfg;
        row.cfg = row.own_cfg;
    }
    row.seed = run->seed;
    row.replicate = run->replicate;
    row.status = res->status;
    row.diverged_step = res->diverged_step;
    row.final_loss = res->final_loss;
    row.gn_first = res->grad_norm0_first;
    row.gn_last = res->grad_norm0_last;
    row.seg = st->next_seg;
    if ((s = gs_store_add_row(st, &row, err)) != GS_OK) {
        free(row.own_cfg);
        goto done;
    }
    st->n_pending++;
done:
    if (s != GS_OK)
        st->broken = 1;
    return s;
}

int gs_store_commit_due(const gs_store *st)
{
    if (st->n_pending == 0)
        return 0;
    return st->n_pending >= st->opts.commit_runs ||
           now_seconds() - st->last_commit >= st->opts.commit_seconds;
}

/* Closes the open segment and makes it durable under its final name. */
static gs_status finish_segment(gs_store *st, gs_error *err)
{
    char part[GS_PATH_MAX + 64], final[GS_PATH_MAX + 64];
    gs_segment_path(st, st->next_seg, 1, part, sizeof part);
    gs_segment_path(st, st->next_seg, 0, final, sizeof final);
    herr_t g = H5Gclose(st->seg_runs);
    st->seg_runs = H5I_INVALID_HID;
    if (g < 0)
        return gs_h5_fail(err, part, "H5Gclose(/runs)");
    herr_t f = H5Fclose(st->seg_file);
    st->seg_file = H5I_INVALID_HID;
    if (f < 0)
        return gs_h5_fail(err, part, "H5Fclose");
    gs_status s = gs_fsync_path(part, 0, err);
    if (s != GS_OK)
        return s;
    if (rename(part, final) != 0)
        return gs_error_set(err, GS_EIO, "%s: rename to %s failed: %s", part, final,
                            strerror(errno));
    return gs_fsync_path(st->dir, 1, err);
}

gs_status gs_store_commit(gs_store *st, gs_error *err)
{
    gs_status s = GS_OK;
    if (st->broken)
        return gs_error_set(err, GS_EIO, "%s: store unusable after an earlier write error",
                            st->path);
    if (st->n_pending == 0)
        goto done;
    if ((s = finish_segment(st, err)) != GS_OK)
        goto done;
    if ((s = gs_journal_append(st, st->next_seg, err)) != GS_OK)
        goto done;
    /* Committed from here on: the journal line is durable. */
    for (size_t r = 0; r < st->n_rows; r++)
        if (!st->rows[r].committed && st->rows[r].seg == st->next_seg)
            st->rows[r].committed = 1;
    st->n_committed += st->n_pending;
    st->n_pending = 0;
    st->next_seg++;
    s = gs_index_write(st, err);
done:
    if (s != GS_OK)
        st->broken = 1;
    else
        st->last_commit = now_seconds();
    return s;
}

gs_status gs_store_close(gs_store *st, gs_error *err)
{
    gs_status s = GS_OK;
    if (!st)
        return GS_OK;
    /* A broken store keeps its last good index; its *.part segment is dropped on resume. */
    if (!st->broken)
        s = st->n_pending ? gs_store_commit(st, err) : gs_index_write(st, err);
    free_store(st);
    return s;
}
