/* The store's life cycle: open (lock, create / force / resume), add runs to the open segment,
 * commit (close, fsync, rename, journal; the index now and then) and close. Segment contents are
 * in segment.c, the journal in journal.c, the index in index.c. Single-threaded: the writer owns
 * it, and every public entry point silences HDF5's error printing for its calling thread. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

const char *gs_store_status_name(int status)
{
    switch (status) {
    case GS_RUN_DIVERGED:
        return "diverged";
    case GS_RUN_STOPPED:
        return "stopped";
    default:
        return "ok";
    }
}

int gs_store_status_parse(const char *name)
{
    static const int all[] = {GS_RUN_OK, GS_RUN_DIVERGED, GS_RUN_STOPPED};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, gs_store_status_name(all[i])) == 0)
            return all[i];
    return -1;
}

int gs_store_verdict_parse(const char *name)
{
    for (int v = 0; v < GS_VERDICT__COUNT; v++)
        if (strcmp(name, gs_verdict_names[v]) == 0)
            return v;
    return -1;
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

/* Whether the journal lists a committed segment (a complete line after the header). */
static int journal_has_commits(const gs_store *st)
{
    char path[GS_PATH_MAX + 16];
    int c, lines = 0;
    snprintf(path, sizeof path, "%s/journal", st->dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    while (lines < 2 && (c = getc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines >= 2;
}

/* GS_EEXIST for CREATE, saying what exists: the output, or only its directory (a session killed
 * before its first commit, or an output whose index was removed). */
static gs_status refuse_existing(const gs_store *st, int out_exists, gs_error *err)
{
    if (out_exists)
        return gs_error_set(err, GS_EEXIST,
                            "%s exists; use --resume to continue it or --force to overwrite",
                            st->path);
    if (journal_has_commits(st))
        return gs_error_set(err, GS_EEXIST,
                            "%s exists without %s (an interrupted output whose index is missing); "
                            "use --resume to continue it or --force to overwrite",
                            st->dir, st->path);
    return gs_error_set(err, GS_EEXIST,
                        "%s exists (an interrupted output with no committed run?); use --resume "
                        "to continue it or --force to overwrite",
                        st->dir);
}

/* Gives each row its plan position and config; rows of runs outside the plan keep cfg NULL (and
 * an order after the plan) for check_foreign. One hash lookup per planned run. */
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

/* snprintf at buf + *len, never past n; *len stays < n. */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t n, size_t *len,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = *len < n ? vsnprintf(buf + *len, n - *len, fmt, ap) : 0;
    va_end(ap);
    if (w > 0)
        *len = *len + (size_t)w < n ? *len + (size_t)w : n - 1;
}

static const gs_axis *find_axis(const gs_plan *plan, const gs_key *k)
{
    for (size_t a = 0; a < plan->n_axes; a++)
        if (plan->axes[a].key == k)
            return &plan->axes[a];
    return NULL;
}

/* Writes " with key=value (...), ..." into buf: up to four values of a stored run that the plan
 * cannot produce (a value missing from its axis, a fixed value that differs, a replicate beyond
 * `replicates`). Empty when none is found. */
static void describe_run(const gs_plan *plan, const gs_run_config *cfg, int64_t replicate,
                         char *buf, size_t n)
{
    char v[GS_PATH_MAX + 8], w[GS_PATH_MAX + 8];
    size_t len = 0;
    int shown = 0;
    buf[0] = '\0';
    for (const gs_key *k = gs_keys; k->path && shown < 4; k++) {
        if (!gs_key_applies(k, cfg->data_kind))
            continue;
        gs_key_format(k, cfg, v, sizeof v);
        const gs_axis *ax = find_axis(plan, k);
        int found = !ax && plan->n_runs == 0;
        for (size_t i = 0; ax && i < ax->n_values && !found; i++)
            found = strcmp(ax->values[i], v) == 0;
        if (!ax && plan->n_runs > 0)
            found = strcmp(gs_key_format(k, &plan->runs[0].cfg, w, sizeof w), v) == 0;
        if (found)
            continue;
        append(buf, n, &len, "%s %s=%s", shown ? "," : " with", k->path, v);
        if (ax)
            append(buf, n, &len, " (not on the spec's axis)");
        else
            append(buf, n, &len, " (the spec has %s)", w);
        shown++;
    }
    if (shown < 4 && replicate >= plan->replicates)
        append(buf, n, &len, "%s replicate %lld (the spec has replicates: %lld)",
               shown ? "," : " with", (long long)replicate, (long long)plan->replicates);
}

/* GS_ESPEC when the journal holds runs that are not in the plan (order_rows left them without a
 * config). /summary takes its axis columns from the plan, so such rows could not be told apart;
 * ids are content hashes, so a spec that only adds axis values keeps every stored run. */
static gs_status check_foreign(gs_store *st, gs_error *err)
{
    size_t n_foreign = 0, first = 0;
    for (size_t r = 0; r < st->n_rows; r++)
        if (!st->rows[r].cfg && n_foreign++ == 0)
            first = r;
    if (n_foreign == 0)
        return GS_OK;
    char what[640] = "";
    gs_run_config cfg;
    int64_t replicate = 0;
    gs_error rerr;
    gs_error_clear(&rerr);
    if (gs_segment_read_config(st, &st->rows[first], &cfg, &replicate, &rerr) == GS_OK)
        describe_run(st->plan, &cfg, replicate, what, sizeof what);
    return gs_error_set(err, GS_ESPEC,
                        "%s holds %zu run%s that %s not in this spec (e.g. run %s%s); --resume "
                        "needs a spec whose runs include every stored run (add values to axes; do "
                        "not change fixed values, the seed or the record section); write to a new "
                        "output or use --force",
                        st->path, n_foreign, n_foreign == 1 ? "" : "s",
                        n_foreign == 1 ? "is" : "are", st->rows[first].id, what);
}

/* Rewrites the index and times it (the next rewrite waits 10x as long; see index_due). */
static gs_status write_index(gs_store *st, gs_error *err)
{
    double t0 = now_seconds();
    gs_status s = gs_index_write(st, err);
    if (s == GS_OK) {
        st->last_index = now_seconds();
        st->index_cost = st->last_index - t0;
        st->index_written = 1;
        st->index_dirty = 0;
    }
    return s;
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
    order_rows(st);
    if ((s = check_foreign(st, err)) != GS_OK || (s = gs_journal_sweep_dir(st, 0, err)) != GS_OK)
        return s;
    if ((s = gs_segment_read_rows(st, err)) != GS_OK)
        return s;
    /* The index may lag the journal (a kill between them, or a throttled rewrite): rewrite it. */
    return write_index(st, err);
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
            return refuse_existing(st, out_exists, err);
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

/* Abandons the open segment after a write error: closes it without writing its data (which
 * could fail again on a full disk and leave HDF5 with a dangling id) and removes the *.part
 * file, which resume would delete anyway. */
static void drop_segment(gs_store *st)
{
    char part[GS_PATH_MAX + 64];
    if (st->seg_runs >= 0)
        H5Gclose(st->seg_runs);
    st->seg_runs = H5I_INVALID_HID;
    if (st->seg_file >= 0) {
        gs_h5_discard_file(st->seg_file);
        st->seg_file = H5I_INVALID_HID;
        gs_segment_path(st, st->next_seg, 1, part, sizeof part);
        unlink(part);
    }
}

static void free_store(gs_store *st)
{
    drop_segment(st);
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
    gs_h5_quiet();
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
    memset(c, 0, sizeof *c);
    for (size_t r = 0; r < st->n_rows; r++) {
        const gs_store_row *row = &st->rows[r];
        if (!row->committed)
            continue;
        if (row->status == GS_RUN_DIVERGED)
            c->diverged++;
        else if (row->status == GS_RUN_STOPPED)
            c->stopped++;
        else
            c->ok++;
        if (row->verdict >= 0 && row->verdict < GS_VERDICT__COUNT)
            c->verdict[row->verdict]++;
        else
            c->verdict_unknown++;
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
    /* The error stack first: any later HDF5 call clears it. */
    gs_status s =
        st->seg_file < 0 ? gs_h5_fail_write(err, path, "segment", path, "H5Fcreate") : GS_OK;
    H5Pclose(fapl);
    if (s != GS_OK) {
        unlink(path); /* whatever H5Fcreate left; we hold the lock, so the name is ours */
        return s;
    }
    if (gs_h5_attr_str(st->seg_file, "schema", GS_SCHEMA " segment") < 0 ||
        gs_h5_attr_i64(st->seg_file, "schema_minor", GS_SCHEMA_MINOR) < 0)
        return gs_h5_fail_write(err, path, "segment", path, "H5Acreate(schema)");
    st->seg_runs = H5Gcreate2(st->seg_file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (st->seg_runs < 0)
        return gs_h5_fail_write(err, path, "segment", path, "H5Gcreate(/runs)");
    return GS_OK;
}

gs_status gs_store_add_run(gs_store *st, const gs_run *run, const gs_result *res, gs_error *err)
{
    gs_status s = GS_OK;
    char part[GS_PATH_MAX + 64];
    gs_h5_quiet();
    if (st->broken)
        return gs_error_set(err, GS_EIO, "%s: store unusable after an earlier write error",
                            st->path);
    if (gs_store_find_row(st, run->id) != (size_t)-1)
        return gs_error_set(err, GS_EINVAL, "%s: run %s is already in the output", st->path,
                            run->id);
    if (st->seg_file < 0 && (s = open_segment(st, err)) != GS_OK)
        goto done;
    gs_segment_path(st, st->next_seg, 1, part, sizeof part);
    gs_store_row row = {0};
    gs_theory_for_run(&run->cfg, &row.th);
    if ((s = gs_segment_write_run(st->seg_runs, st->plan, run, res, &row.th, part, err)) != GS_OK)
        goto done;
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
    row.eval_loss = res->final_eval_loss;
    row.eval_accuracy = res->final_eval_accuracy;
    row.verdict = res->verdict >= 0 && res->verdict < GS_VERDICT__COUNT ? res->verdict : -1;
    row.verdict_step = res->verdict_step;
    row.delta_slope0 = res->delta_slope0;
    row.seg = st->next_seg;
    if ((s = gs_store_add_row(st, &row, err)) != GS_OK) {
        free(row.own_cfg);
        goto done;
    }
    st->n_pending++;
done:
    if (s != GS_OK) {
        st->broken = 1;
        drop_segment(st);
    }
    return s;
}

/* Whether the index may be rewritten: not yet written in this session, or the last rewrite is
 * max(commit_seconds, 10 x its duration) old. Rewriting costs time linear in the committed runs,
 * so rewriting after every commit would make a sweep quadratic; this bounds it to ~10%. */
static int index_due(const gs_store *st, double now)
{
    double gap = 10 * st->index_cost;
    if (gap < st->opts.commit_seconds)
        gap = st->opts.commit_seconds;
    return !st->index_written || now - st->last_index >= gap;
}

int gs_store_commit_due(const gs_store *st)
{
    double now = now_seconds();
    if (st->n_pending > 0)
        return st->n_pending >= st->opts.commit_runs ||
               now - st->last_commit >= st->opts.commit_seconds;
    return st->index_dirty && index_due(st, now);
}

/* Closes the open segment and makes it durable under its final name. */
static gs_status finish_segment(gs_store *st, gs_error *err)
{
    char part[GS_PATH_MAX + 64], final[GS_PATH_MAX + 64];
    gs_segment_path(st, st->next_seg, 1, part, sizeof part);
    gs_segment_path(st, st->next_seg, 0, final, sizeof final);
    herr_t g = H5Gclose(st->seg_runs);
    st->seg_runs = H5I_INVALID_HID; /* closed even when H5Gclose fails */
    if (g < 0)
        return gs_h5_fail_write(err, part, "segment", part, "H5Gclose(/runs)");
    hid_t f = st->seg_file;
    st->seg_file = H5I_INVALID_HID;
    gs_status s = gs_h5_close_file(f, part, "segment", err);
    if (s != GS_OK) {
        unlink(part);
        return s;
    }
    s = gs_fsync_path(part, 0, err);
    if (s != GS_OK)
        return s;
    if (rename(part, final) != 0)
        return gs_error_set(err, GS_EIO, "%s: rename to %s failed: %s", part, final,
                            strerror(errno));
    return gs_fsync_path(st->dir, 1, err);
}

/* Commits the open segment when it holds runs, then rewrites the index when due (final: when
 * it lags at all, or was never written in this session). */
static gs_status commit(gs_store *st, int final, gs_error *err)
{
    gs_status s = GS_OK;
    if (st->broken)
        return gs_error_set(err, GS_EIO, "%s: store unusable after an earlier write error",
                            st->path);
    if (st->n_pending > 0) {
        if ((s = finish_segment(st, err)) != GS_OK)
            goto done;
        if ((s = gs_journal_append(st, st->next_seg, err)) != GS_OK)
            goto done;
        /* Committed from here on: the journal line is durable. The pending rows are the last. */
        for (size_t r = st->n_rows - st->n_pending; r < st->n_rows; r++) {
            assert(!st->rows[r].committed && st->rows[r].seg == st->next_seg);
            st->rows[r].committed = 1;
        }
        st->n_committed += st->n_pending;
        st->n_pending = 0;
        st->next_seg++;
        st->index_dirty = 1;
        st->last_commit = now_seconds();
    }
    if (final ? st->index_dirty || !st->index_written
              : st->index_dirty && index_due(st, now_seconds()))
        s = write_index(st, err);
done:
    if (s != GS_OK) {
        st->broken = 1;
        drop_segment(st);
    }
    return s;
}

gs_status gs_store_commit(gs_store *st, gs_error *err)
{
    gs_h5_quiet();
    return commit(st, 0, err);
}

gs_status gs_store_close(gs_store *st, gs_error *err)
{
    gs_status s = GS_OK;
    if (!st)
        return GS_OK;
    gs_h5_quiet();
    /* A broken store keeps its last good index; resume rebuilds it from the journal. */
    if (!st->broken)
        s = commit(st, 1, err);
    free_store(st);
    return s;
}
