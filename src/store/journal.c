/* The store directory OUT.h5.d/: the append-only journal of committed segments, segment paths,
 * fsync helpers and the clean-up that makes a resumed directory match its journal. The journal
 * is the only record of what is committed; segment files and the index follow from it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

void gs_segment_path(const gs_store *st, unsigned seg, int part, char *buf, size_t n)
{
    snprintf(buf, n, "%s/seg-%06u.h5%s", st->dir, seg, part ? ".part" : "");
}

gs_status gs_fsync_path(const char *path, int is_dir, gs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return gs_error_set(err, GS_EIO, "%s: cannot open for fsync: %s", path, strerror(errno));
    gs_status s = GS_OK;
    if (fsync(fd) != 0)
        s = gs_error_set(err, GS_EIO, "%s: fsync failed: %s", path, strerror(errno));
    close(fd);
    return s;
}

void gs_fmt_real(char *buf, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v || v != v)
            return;
    }
}

/* The probe settings of the record text (schema_minor 2): ";level=L;hist=...;probe=...".
 * Settings that change nothing are left out, so they cannot make a resume differ: the
 * histogram range without histograms, the probe batch when nothing uses it. The histogram
 * period is written resolved (hist.every 0 means record.every). */
static int probe_text(char *s, size_t cap, const gs_record *rec)
{
    char lo[32], hi[32];
    int lv = rec->level >= 0 && rec->level < GS_LEVEL__COUNT ? rec->level : GS_LEVEL_STANDARD;
    int len = snprintf(s, cap, ";level=%s", gs_level_names[lv]);
    if (rec->hist_bins > 0) {
        gs_fmt_real(lo, sizeof lo, rec->hist_min);
        gs_fmt_real(hi, sizeof hi, rec->hist_max);
        len += snprintf(s + len, cap - (size_t)len,
                        ";hist=bins:%" PRId64 ",every:%" PRId64 ",min:%s,max:%s", rec->hist_bins,
                        rec->hist_every > 0 ? rec->hist_every : rec->every, lo, hi);
    } else {
        len += snprintf(s + len, cap - (size_t)len, ";hist=off");
    }
    if (rec->activations || rec->deltas || rec->jacobian_inputs > 0)
        len += snprintf(s + len, cap - (size_t)len,
                        ";probe=batch:%" PRId64 ",activations:%s,deltas:%s,jacobian:%" PRId64,
                        rec->probe_batch, rec->activations ? "true" : "false",
                        rec->deltas ? "true" : "false", rec->jacobian_inputs);
    else
        len += snprintf(s + len, cap - (size_t)len, ";probe=off");
    return len;
}

char *gs_journal_record_text(const gs_record *rec)
{
    size_t cap = 400 + 24 * rec->n_grad_steps, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len += (size_t)snprintf(s + len, cap - len, "every=%" PRId64 ";grads=", rec->every);
    for (size_t i = 0; i < rec->n_grad_steps; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%" PRId64, i ? "," : "", rec->grad_steps[i]);
    int dt = rec->dtype >= 0 && rec->dtype < GS_DTYPE__COUNT ? rec->dtype : 0;
    len += (size_t)snprintf(
        s + len, cap - len, ";grad_every=%" PRId64 ";grad_log=%" PRId64 ";weights=%s;dtype=%s",
        rec->grad_every, rec->grad_log, rec->weights ? "true" : "false", gs_dtype_names[dt]);
    probe_text(s + len, cap - len, rec);
    return s;
}

/* Whether the record text `stored` of a journal header matches the store's own. A header
 * written before the probe settings existed (no ";level=") stands for their defaults (level
 * standard, no histograms, no probe batch), as a missing config key stands for its default. */
static int record_matches(const char *stored, const char *own)
{
    static const char dflt[] = ";level=standard;hist=off;probe=off";
    if (strcmp(stored, own) == 0)
        return 1;
    if (strstr(stored, ";level=") != NULL)
        return 0;
    size_t n = strlen(stored);
    return strncmp(stored, own, n) == 0 && strcmp(own + n, dflt) == 0;
}

/* Writes all of buf (one write() in practice; a short write is continued, and a torn final line
 * is ignored by readers anyway) and fsyncs. */
static gs_status write_all(int fd, const char *path, const char *buf, size_t len, gs_error *err)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return gs_error_set(err, GS_EIO, "%s: write failed: %s", path, strerror(errno));
        buf += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0)
        return gs_error_set(err, GS_EIO, "%s: fsync failed: %s", path, strerror(errno));
    return GS_OK;
}

gs_status gs_journal_create(gs_store *st, gs_error *err)
{
    char path[GS_PATH_MAX + 64];
    char *line = NULL;
    gs_status s = GS_OK;
    snprintf(path, sizeof path, "%s/journal", st->dir);
    if (st->journal_fd >= 0)
        close(st->journal_fd);
    st->journal_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (st->journal_fd < 0) {
        s = gs_error_set(err, GS_EIO, "%s: cannot create: %s", path, strerror(errno));
        goto done;
    }
    size_t cap = strlen(st->record) + 160;
    line = malloc(cap);
    if (!line) {
        s = gs_error_set(err, GS_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    int len = snprintf(line, cap, "%s master_seed=%" PRIu64 " created=%s record=%s\n",
                       GS_JOURNAL_MAGIC, st->plan->master_seed, st->created, st->record);
    s = write_all(st->journal_fd, path, line, (size_t)len, err);
    if (s == GS_OK)
        s = gs_fsync_path(st->dir, 1, err);
done:
    free(line);
    return s;
}

/* Checks the header line against the plan and takes `created` from it. */
static gs_status check_header(gs_store *st, char *line, const char *path, gs_error *err)
{
    size_t magic = strlen(GS_JOURNAL_MAGIC);
    if (strncmp(line, GS_JOURNAL_MAGIC, magic) != 0 || line[magic] != ' ')
        return gs_error_set(err, GS_EIO, "%s:1: not a gradsweep journal (version 1) header", path);
    char *seed = strstr(line, " master_seed="), *created = strstr(line, " created="),
         *record = strstr(line, " record=");
    if (!seed || !created || !record)
        return gs_error_set(err, GS_EIO, "%s:1: malformed journal header", path);
    uint64_t ms = strtoull(seed + 13, NULL, 10);
    if (ms != st->plan->master_seed)
        return gs_error_set(err, GS_ESPEC,
                            "%s: master seed differs: the output was made with seed %" PRIu64
                            ", the spec has seed %" PRIu64 " (use --force to start over)",
                            st->path, ms, st->plan->master_seed);
    record += 8;
    if (!record_matches(record, st->record))
        return gs_error_set(err, GS_ESPEC,
                            "%s: record section differs: the output was made with '%s', the spec "
                            "has '%s' (use --force to start over)",
                            st->path, record, st->record);
    created += 9;
    size_t n = strcspn(created, " ");
    if (n >= sizeof st->created)
        n = sizeof st->created - 1;
    memcpy(st->created, created, n);
    st->created[n] = '\0';
    return GS_OK;
}

static int is_hex_id(const char *s, size_t n)
{
    if (n != GS_RUN_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    return 1;
}

/* Parses a segment line "seg-NNNNNN.h5 id id ..." (NUL-terminated, no '\n') into rows. */
static gs_status parse_line(gs_store *st, char *line, const char *path, size_t lineno,
                            gs_error *err)
{
    unsigned seg = 0;
    int used = 0;
    if (sscanf(line, "seg-%6u.h5%n", &seg, &used) != 1 || used != 13 || line[13] != ' ')
        return gs_error_set(err, GS_EIO, "%s:%zu: malformed journal line", path, lineno);
    char name[GS_PATH_MAX + 64];
    gs_segment_path(st, seg, 0, name, sizeof name);
    if (access(name, F_OK) != 0)
        return gs_error_set(err, GS_EIO, "%s: listed in the journal (line %zu) but missing", name,
                            lineno);
    for (char *p = line + 13; *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        if (!is_hex_id(p, n))
            return gs_error_set(err, GS_EIO, "%s:%zu: malformed run id '%.*s'", path, lineno,
                                (int)(n > 40 ? 40 : n), p);
        gs_store_row row = {0};
        memcpy(row.id, p, n);
        row.id[n] = '\0';
        row.seg = seg;
        row.committed = 1;
        /* A run journaled twice (not produced by this writer) keeps its first segment. */
        if (gs_store_find_row(st, row.id) == (size_t)-1) {
            gs_status s = gs_store_add_row(st, &row, err);
            if (s != GS_OK)
                return s;
            st->n_committed++;
        }
        p += n;
    }
    if (seg >= st->next_seg)
        st->next_seg = seg + 1;
    return GS_OK;
}

/* Reads the whole file at fd into a NUL-terminated buffer. */
static gs_status slurp(int fd, const char *path, char **out, size_t *len, gs_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return gs_error_set(err, GS_EIO, "%s: stat failed: %s", path, strerror(errno));
    char *buf = malloc((size_t)sb.st_size + 1);
    if (!buf)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", path);
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = pread(fd, buf + got, (size_t)sb.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return GS_OK;
}

gs_status gs_journal_load(gs_store *st, int *fresh, gs_error *err)
{
    char path[GS_PATH_MAX + 64];
    char *buf = NULL;
    size_t len = 0, lineno = 1;
    gs_status s = GS_OK;
    snprintf(path, sizeof path, "%s/journal", st->dir);
    *fresh = 0;
    st->journal_fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (st->journal_fd < 0 && errno == ENOENT) {
        *fresh = 1;
        goto done;
    }
    if (st->journal_fd < 0) {
        s = gs_error_set(err, GS_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    if ((s = slurp(st->journal_fd, path, &buf, &len, err)) != GS_OK)
        goto done;
    char *nl = memchr(buf, '\n', len);
    if (!nl) {
        /* Killed while writing the header: nothing was ever committed. */
        *fresh = 1;
        goto done;
    }
    *nl = '\0';
    if ((s = check_header(st, buf, path, err)) != GS_OK)
        goto done;
    char *p = nl + 1;
    while (p < buf + len) {
        char *end = memchr(p, '\n', (size_t)(buf + len - p));
        if (!end)
            break; /* torn final line: the segment it names is not committed */
        *end = '\0';
        lineno++;
        if ((s = parse_line(st, p, path, lineno, err)) != GS_OK)
            goto done;
        p = end + 1;
    }
    if (p < buf + len) {
        /* Cut the torn line so the next append starts on a line of its own. */
        if (ftruncate(st->journal_fd, (off_t)(p - buf)) != 0 || fsync(st->journal_fd) != 0)
            s = gs_error_set(err, GS_EIO, "%s: cannot truncate torn final line: %s", path,
                             strerror(errno));
    }
done:
    free(buf);
    return s;
}

gs_status gs_journal_append(gs_store *st, unsigned seg, gs_error *err)
{
    char path[GS_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/journal", st->dir);
    size_t cap = 32 + (GS_RUN_ID_LEN + 1) * st->n_pending, len = 0;
    char *line = malloc(cap);
    if (!line)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", path);
    len += (size_t)snprintf(line, cap, "seg-%06u.h5", seg);
    for (size_t i = st->n_rows - st->n_pending; i < st->n_rows; i++)
        if (!st->rows[i].committed && st->rows[i].seg == seg)
            len += (size_t)snprintf(line + len, cap - len, " %s", st->rows[i].id);
    line[len++] = '\n';
    gs_status s = write_all(st->journal_fd, path, line, len, err);
    free(line);
    return s;
}

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* Sorted unique segment numbers of the committed rows (malloc'd; *n set). */
static unsigned *journaled_segments(const gs_store *st, size_t *n)
{
    unsigned *v = malloc((st->n_rows + 1) * sizeof *v);
    size_t k = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < st->n_rows; i++)
        if (st->rows[i].committed && (k == 0 || v[k - 1] != st->rows[i].seg))
            v[k++] = st->rows[i].seg;
    qsort(v, k, sizeof *v, cmp_unsigned);
    *n = k;
    return v;
}

static gs_status remove_file(const char *path, gs_error *err)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return gs_error_set(err, GS_EIO, "%s: cannot remove: %s", path, strerror(errno));
    return GS_OK;
}

/* Whether a directory entry must go: *.part always, seg-NNNNNN.h5 when all or unjournaled,
 * the journal when all. */
static int doomed(const char *name, int all, const unsigned *segs, size_t n_segs)
{
    size_t len = strlen(name);
    unsigned seg = 0;
    int used = 0;
    if (len > 5 && strcmp(name + len - 5, ".part") == 0)
        return 1;
    if (all && (strcmp(name, "journal") == 0 || strcmp(name, "meta") == 0))
        return 1;
    if (sscanf(name, "seg-%6u.h5%n", &seg, &used) == 1 && used == 13 && len == 13)
        return all || !bsearch(&seg, segs, n_segs, sizeof *segs, cmp_unsigned);
    return 0;
}

gs_status gs_journal_sweep_dir(gs_store *st, int all, gs_error *err)
{
    gs_status s = GS_OK;
    size_t n_segs = 0;
    unsigned *segs = journaled_segments(st, &n_segs);
    char path[GS_PATH_MAX + 300];
    DIR *d = NULL;
    if (!segs) {
        s = gs_error_set(err, GS_ENOMEM, "%s: out of memory", st->dir);
        goto done;
    }
    d = opendir(st->dir);
    if (!d) {
        s = gs_error_set(err, GS_EIO, "%s: cannot list: %s", st->dir, strerror(errno));
        goto done;
    }
    for (struct dirent *e = readdir(d); e && s == GS_OK; e = readdir(d)) {
        if (!doomed(e->d_name, all, segs, n_segs))
            continue;
        snprintf(path, sizeof path, "%s/%s", st->dir, e->d_name);
        s = remove_file(path, err);
    }
    snprintf(path, sizeof path, "%s.tmp", st->path);
    if (s == GS_OK)
        s = remove_file(path, err);
    if (s == GS_OK && all)
        s = remove_file(st->path, err);
    if (s == GS_OK)
        s = gs_fsync_path(st->dir, 1, err);
done:
    if (d)
        closedir(d);
    free(segs);
    return s;
}
