/* Sweep specs: values and names. Parses one key's value text against the key table, formats
 * spec error messages with their file:line, and finds the nearest name for "did you mean". */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/spec.h"
#include "sweep/draft.h"

/* ---- names and messages ---------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[128];
    if (la >= 128 || lb >= 128)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *gs_nearest_name(const char *word, const char *const *names)
{
    size_t limit = strlen(word) / 3 > 2 ? strlen(word) / 3 : 2;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; names[i]; i++) {
        size_t d = edit_distance(word, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

/* " (did you mean 'x'?)" or, without a near name, " (expected one of: a, b, c)". */
void gs_draft_suggest(char *buf, size_t n, const char *word, const char *const *names)
{
    const char *near = gs_nearest_name(word, names);
    if (near) {
        snprintf(buf, n, " (did you mean '%s'?)", near);
        return;
    }
    size_t len = (size_t)snprintf(buf, n, " (expected one of:");
    for (size_t i = 0; names[i] && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s %s", i ? "," : "", names[i]);
    if (len < n)
        snprintf(buf + len, n - len, ")");
}

gs_status gs_draft_fail(const gs_draft *d, int line, const char *ovr, const char *key,
                        const char *fmt, ...)
{
    char msg[GS_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ovr)
        return gs_error_set(d->err, GS_ESPEC, "command line: %s: %s", ovr, msg);
    if (key)
        return gs_error_set(d->err, GS_ESPEC, "%s:%d: %s: %s", d->file, line, key, msg);
    return gs_error_set(d->err, GS_ESPEC, "%s:%d: %s", d->file, line, msg);
}

int gs_draft_key_applies(const gs_key *k, int kind)
{
    return gs_key_applies(k, kind);
}

/* ---- scalar values ----------------------------------------------------------------------- */

int gs_draft_real(const char *t, double *v)
{
    char *end;
    if (!*t || *t == ' ' || *t == '\t')
        return -1;
    errno = 0;
    *v = strtod(t, &end);
    return *end == '\0' && isfinite(*v) ? 0 : -1;
}

/* Integers as decimal text, or as a real with an integral value ("64.0", "1e3"). */
static int parse_int(const char *t, int64_t *v)
{
    char *end;
    double r;
    if (!*t || *t == ' ' || *t == '\t')
        return -1;
    errno = 0;
    long long x = strtoll(t, &end, 10);
    if (*end == '\0' && errno == 0) {
        *v = (int64_t)x;
        return 0;
    }
    if (gs_draft_real(t, &r) == 0 && r == floor(r) && fabs(r) < 9e18) {
        *v = (int64_t)r;
        return 0;
    }
    return -1;
}

static int check_range(double v, double lo, double hi, int integral, char *why, size_t n)
{
    if (v >= lo && v <= hi)
        return 0;
    if (integral)
        snprintf(why, n, "must be %s %.0f (got %.0f)", v < lo ? ">=" : "<=", v < lo ? lo : hi, v);
    else
        snprintf(why, n, "must be %s %g (got %g)", v < lo ? ">=" : "<=", v < lo ? lo : hi, v);
    return -1;
}

int gs_draft_int(const char *t, double lo, double hi, int64_t *v, char *why, size_t n)
{
    if (parse_int(t, v) != 0) {
        snprintf(why, n, "expected an integer, got '%s'", t);
        return -1;
    }
    return check_range((double)*v, lo, hi, 1, why, n);
}

int gs_draft_enum(const char *t, const char *const *names, int *v, char *why, size_t n)
{
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], t) == 0) {
            *v = i;
            return 0;
        }
    }
    char hint[256];
    gs_draft_suggest(hint, sizeof hint, t, names);
    snprintf(why, n, "unknown value '%s'%s", t, hint);
    return -1;
}

/* A layer list "[w1,w2,...]" (spaces around entries allowed) for model.width: every entry an
 * integer in the key's range, stored canonically in cfg->width_list ("w1,w2,...") with
 * cfg->width = w1. The list must fit width_list; its length against model.depth is checked per
 * run (gs_draft_check_arch), since depth may be an axis. */
static int parse_layers(const gs_key *k, const char *text, gs_run_config *cfg, char *why, size_t n)
{
    char list[sizeof cfg->width_list];
    size_t tl = strlen(text), len = 0, count = 0;
    if (tl < 2 || text[0] != '[' || text[tl - 1] != ']') {
        snprintf(why, n, "expected an integer or a layer list [w1,w2,...], got '%s'", text);
        return -1;
    }
    const char *p = text + 1, *stop = text + tl - 1; /* the entries are [p, stop) */
    while (p < stop && *p == ' ')
        p++;
    if (p == stop) {
        snprintf(why, n, "layers: empty list (one width per hidden layer)");
        return -1;
    }
    for (;; count++) {
        const char *comma = memchr(p, ',', (size_t)(stop - p)), *end = comma ? comma : stop;
        char item[64], num[32], iwhy[256];
        int64_t w;
        while (p < end && *p == ' ')
            p++;
        while (end > p && end[-1] == ' ')
            end--;
        snprintf(item, sizeof item, "%.*s", (int)(end - p), p);
        if ((size_t)(end - p) >= sizeof item ||
            gs_draft_int(item, k->min, k->max, &w, iwhy, sizeof iwhy) != 0) {
            if ((size_t)(end - p) >= sizeof item)
                snprintf(iwhy, sizeof iwhy, "expected an integer, got '%s...'", item);
            snprintf(why, n, "layers entry %zu: %s", count + 1, iwhy);
            return -1;
        }
        if (count == 0)
            cfg->width = w;
        size_t nl = (size_t)snprintf(num, sizeof num, "%s%lld", count ? "," : "", (long long)w);
        if (len + nl < sizeof list)
            memcpy(list + len, num, nl + 1);
        len += nl;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (len >= sizeof list) {
        snprintf(why, n,
                 "layers: %zu widths take %zu characters as text, more than the %zu that fit",
                 count + 1, len, sizeof list - 1);
        return -1;
    }
    memcpy(cfg->width_list, list, len + 1);
    return 0;
}

int gs_draft_bool(const char *t, int *v)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "on", NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "off", NULL};
    for (size_t i = 0; yes[i]; i++) {
        if (strcmp(t, yes[i]) == 0 || strcmp(t, no[i]) == 0) {
            *v = strcmp(t, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

int gs_draft_is_verdicts(const gs_key *k)
{
    return k->type == GS_KEY_STR && k->offset == offsetof(gs_run_config, stop_on);
}

/* The verdicts a train.stop_on entry may name: all but healthy (a run is never stopped for being
 * healthy). */
static int verdict_index(const char *t, char *why, size_t n)
{
    const char *names[GS_VERDICT__COUNT];
    size_t nn = 0;
    for (int i = 0; i < GS_VERDICT__COUNT; i++)
        if (i != GS_VERDICT_HEALTHY)
            names[nn++] = gs_verdict_names[i];
    names[nn] = NULL;
    if (strcmp(t, gs_verdict_names[GS_VERDICT_HEALTHY]) == 0) {
        snprintf(why, n, "'healthy' cannot stop a run (stop_on lists verdicts of doomed runs)");
        return -1;
    }
    for (int i = 0; i < GS_VERDICT__COUNT; i++)
        if (i != GS_VERDICT_HEALTHY && strcmp(t, gs_verdict_names[i]) == 0)
            return i;
    char hint[256];
    gs_draft_suggest(hint, sizeof hint, t, names);
    snprintf(why, n, "unknown verdict '%s'%s", t, hint);
    return -1;
}

/* A train.stop_on value: "[a, b]" (a list, maybe empty), a single name, or the canonical text
 * "a,b" ("" = none) read back. Stored canonically: the names in gs_verdict order joined by ",",
 * so "[dead, diverged]" and "[diverged, dead]" are one value, "diverged,dead". */
static int parse_verdicts(const gs_key *k, const char *text, gs_run_config *cfg, char *why,
                          size_t n)
{
    char item[64];
    int seen[GS_VERDICT__COUNT] = {0};
    size_t tl = strlen(text), len = 0;
    const char *p = text, *stop = text + tl;
    if (tl > 0 && text[0] == '[') {
        if (text[tl - 1] != ']') {
            snprintf(why, n, "expected a list of verdicts [a, b, ...], got '%s'", text);
            return -1;
        }
        p++;
        stop--;
    }
    while (p < stop && *p == ' ')
        p++;
    while (p < stop) {
        const char *comma = memchr(p, ',', (size_t)(stop - p)), *end = comma ? comma : stop;
        while (p < end && *p == ' ')
            p++;
        while (end > p && end[-1] == ' ')
            end--;
        snprintf(item, sizeof item, "%.*s", (int)(end - p), p);
        if (!*item) {
            snprintf(why, n, "empty entry in '%s'", text);
            return -1;
        }
        int v = verdict_index(item, why, n);
        if (v < 0)
            return -1;
        if (seen[v]) {
            snprintf(why, n, "verdict '%s' listed twice", item);
            return -1;
        }
        seen[v] = 1;
        if (!comma)
            break;
        p = comma + 1;
        if (p == stop) {
            snprintf(why, n, "empty entry in '%s'", text);
            return -1;
        }
    }
    char *base = (char *)cfg + k->offset;
    base[0] = '\0';
    for (int i = 0; i < GS_VERDICT__COUNT; i++)
        if (seen[i])
            len += (size_t)snprintf(base + len, k->size - len, "%s%s", len ? "," : "",
                                    gs_verdict_names[i]);
    return 0;
}

int gs_draft_parse_value(const gs_key *k, const char *text, gs_run_config *cfg, char *why, size_t n)
{
    char *base = (char *)cfg + k->offset;
    int64_t iv = 0;
    double dv;
    int ev;
    switch (k->type) {
    case GS_KEY_INT:
        if (gs_key_has_list(k)) {
            cfg->width_list[0] = '\0';
            if (text[0] == '[')
                return parse_layers(k, text, cfg, why, n);
        }
        if (gs_draft_int(text, k->min, k->max, &iv, why, n) != 0)
            return -1;
        memcpy(base, &iv, sizeof iv);
        return 0;
    case GS_KEY_BATCH:
        if (strcmp(text, "full") != 0) {
            if (parse_int(text, &iv) != 0) {
                snprintf(why, n, "expected an integer or 'full', got '%s'", text);
                return -1;
            }
            if (check_range((double)iv, k->min, k->max, 1, why, n) != 0)
                return -1;
        }
        memcpy(base, &iv, sizeof iv);
        return 0;
    case GS_KEY_REAL:
        if (gs_draft_real(text, &dv) != 0) {
            snprintf(why, n, "expected a finite number, got '%s'", text);
            return -1;
        }
        if (check_range(dv, k->min, k->max, 0, why, n) != 0)
            return -1;
        if (dv == 0.0)
            dv = 0.0; /* -0 and 0 are one value, so they must give one id */
        memcpy(base, &dv, sizeof dv);
        return 0;
    case GS_KEY_ENUM:
        if (gs_draft_enum(text, k->names, &ev, why, n) != 0)
            return -1;
        memcpy(base, &ev, sizeof ev);
        return 0;
    case GS_KEY_STR:
        if (gs_draft_is_verdicts(k))
            return parse_verdicts(k, text, cfg, why, n);
        if (text[0] == '\0' || strlen(text) >= k->size) {
            snprintf(why, n, "%s", text[0] ? "value is too long" : "value must not be empty");
            return -1;
        }
        memcpy(base, text, strlen(text) + 1);
        return 0;
    }
    snprintf(why, n, "unsupported key type");
    return -1;
}
