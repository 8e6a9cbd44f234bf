/* Sweep specs, first half: reads the YAML tree and the command-line overrides into a draft
 * (fixed values and axes per key, all validated against the key table) and checks it as a whole.
 * Expansion into runs, ids and seeds is plan.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradsweep/spec.h"
#include "sweep/draft.h"
#include "sweep/yaml.h"

#define WHY_MAX 512
#define MAX_GEN 1000000 /* values one logspace/linspace may make */

static const char *const top_names[] = {"name",  "seed",  "replicates", "axes", "data",
                                        "model", "train", "record",     NULL};
static const char *const sec_names[] = {"data", "model", "train", NULL};
/* layers (model.width only) first, so that form_names + 1 are the axis forms of other keys */
static const char *const form_names[] = {"layers", "logspace", "linspace", "values", NULL};
static const char *const ovr_extra[] = {"name", "seed", "replicates", NULL};

static gs_status oom(const gs_draft *d)
{
    return gs_error_set(d->err, GS_ENOMEM, "%s: out of memory while reading the spec", d->file);
}

/* ---- slots: fixed values and axes ---------------------------------------------------------- */

static void slot_clear(gs_slot *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->vals[i]);
    free(s->vals);
    memset(s, 0, sizeof *s);
}

static void axis_remove(gs_draft *d, size_t ki)
{
    size_t j = 0;
    for (size_t i = 0; i < d->n_axis; i++)
        if (d->axis[i] != ki)
            d->axis[j++] = d->axis[i];
    d->n_axis = j;
}

/* Starts a new value list for key ki; keeps the axis position when it stays an axis. */
static void slot_begin(gs_draft *d, size_t ki, int line, const char *ovr, int is_axis)
{
    gs_slot *s = &d->slots[ki];
    int was_axis = s->set && s->is_axis;
    slot_clear(s);
    s->set = 1;
    s->line = line;
    s->ovr = ovr;
    s->is_axis = is_axis;
    if (was_axis && !is_axis)
        axis_remove(d, ki);
    if (!was_axis && is_axis)
        d->axis[d->n_axis++] = ki;
}

/* Validates text as a value of key ki, and appends its canonical form to the slot. */
static gs_status slot_add(gs_draft *d, size_t ki, const char *text, int line)
{
    const gs_key *k = &gs_keys[ki];
    gs_slot *s = &d->slots[ki];
    gs_run_config tmp;
    char why[WHY_MAX], canon[GS_PATH_MAX + 64];
    memset(&tmp, 0, sizeof tmp);
    if (gs_draft_parse_value(k, text, &tmp, why, sizeof why) != 0)
        return gs_draft_fail(d, line, s->ovr, k->path, "%s", why);
    gs_key_format(k, &tmp, canon, sizeof canon);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->vals[i], canon) == 0)
            return gs_draft_fail(d, line, s->ovr, k->path,
                                 "value '%s' repeats an earlier value of the axis ('%s')", text,
                                 canon);
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 4;
        char **v = realloc(s->vals, ncap * sizeof *v);
        if (!v)
            return oom(d);
        s->vals = v;
        s->cap = ncap;
    }
    if (!(s->vals[s->n] = strdup(canon)))
        return oom(d);
    s->n++;
    return GS_OK;
}

/* ---- YAML nodes -> draft ----------------------------------------------------------------- */

gs_status gs_draft_need_scalar(gs_draft *d, const gs_ynode *v, const char *key)
{
    if (v->kind != GS_YSCALAR)
        return gs_draft_fail(d, v->line, NULL, key, "expected a single value, not a %s",
                             v->kind == GS_YSEQ ? "list" : "mapping");
    if (gs_yaml_is_null(v))
        return gs_draft_fail(d, v->line, NULL, key, "missing value");
    return GS_OK;
}

/* Rejects a key given twice in one mapping. */
gs_status gs_draft_check_dups(gs_draft *d, const gs_ynode *map, const char *prefix)
{
    for (size_t i = 1; i < map->n; i++) {
        for (size_t j = 0; j < i; j++) {
            const gs_ynode *a = map->kids[2 * j], *b = map->kids[2 * i];
            if (strcmp(a->text, b->text) == 0) {
                char path[256];
                snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", b->text);
                return gs_draft_fail(d, b->line, NULL, path, "duplicate key (first at line %d)",
                                     a->line);
            }
        }
    }
    return GS_OK;
}

gs_status gs_draft_unknown_key(gs_draft *d, const gs_ynode *key, const char *prefix,
                               const char *const *names)
{
    char hint[512], path[256];
    gs_draft_suggest(hint, sizeof hint, key->text, names);
    snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key->text);
    return gs_draft_fail(d, key->line, NULL, path, "unknown key '%s'%s", key->text, hint);
}

/* logspace: a * (b/a)^(i/(n-1)); linspace: a + (b-a) i/(n-1); endpoints exactly a and b. */
static double gen_value(int logsp, double a, double b, int64_t i, int64_t n)
{
    if (i == 0)
        return a;
    if (i == n - 1)
        return b;
    double t = (double)i / (double)(n - 1);
    return logsp ? a * pow(b / a, t) : a + (b - a) * t;
}

static gs_status axis_generate(gs_draft *d, size_t ki, const gs_ynode *form, const gs_ynode *arg)
{
    const gs_key *k = &gs_keys[ki];
    int logsp = strcmp(form->text, "logspace") == 0;
    int integral = k->type == GS_KEY_INT || k->type == GS_KEY_BATCH;
    double a, b;
    int64_t n;
    char why[WHY_MAX];
    if (k->type != GS_KEY_INT && k->type != GS_KEY_REAL && k->type != GS_KEY_BATCH)
        return gs_draft_fail(d, form->line, NULL, k->path, "%s needs a numeric key", form->text);
    if (arg->kind != GS_YSEQ || arg->n != 3 || arg->kids[0]->kind != GS_YSCALAR ||
        arg->kids[1]->kind != GS_YSCALAR || arg->kids[2]->kind != GS_YSCALAR)
        return gs_draft_fail(d, arg->line, NULL, k->path, "%s takes [start, stop, count]",
                             form->text);
    if (gs_draft_real(arg->kids[0]->text, &a) != 0 || gs_draft_real(arg->kids[1]->text, &b) != 0)
        return gs_draft_fail(d, arg->line, NULL, k->path, "%s: start and stop must be numbers",
                             form->text);
    if (gs_draft_int(arg->kids[2]->text, 2, MAX_GEN, &n, why, sizeof why) != 0)
        return gs_draft_fail(d, arg->line, NULL, k->path, "%s count: %s", form->text, why);
    if (logsp && !(a > 0 && b > 0))
        return gs_draft_fail(d, arg->line, NULL, k->path, "logspace needs start, stop > 0");
    for (int64_t i = 0; i < n; i++) {
        double v = gen_value(logsp, a, b, i, n);
        char text[64];
        if (integral) {
            double r = nearbyint(v);
            if (fabs(v - r) > 1e-9 * fmax(1.0, fabs(v)))
                return gs_draft_fail(d, arg->line, NULL, k->path,
                                     "%s value %.17g is not an integer", form->text, v);
            snprintf(text, sizeof text, "%.0f", r);
        } else {
            snprintf(text, sizeof text, "%.17g", v);
        }
        gs_status st = slot_add(d, ki, text, arg->line);
        if (st != GS_OK)
            return st;
    }
    return GS_OK;
}

/* Adds the scalar entries of seq as one value of key ki, the text "[a,b,...]" (len: its size
 * with the NUL, counted by the caller while checking the entries). */
static gs_status add_bracketed(gs_draft *d, size_t ki, const gs_ynode *seq, size_t len, int line)
{
    char *text = malloc(len);
    if (!text)
        return oom(d);
    size_t pos = 0;
    text[pos++] = '[';
    for (size_t i = 0; i < seq->n; i++)
        pos += (size_t)snprintf(text + pos, len - pos, "%s%s", i ? "," : "", seq->kids[i]->text);
    snprintf(text + pos, len - pos, "]");
    gs_status st = slot_add(d, ki, text, line);
    free(text);
    return st;
}

/* model.width: {layers: [w1, ..., w_depth]}: one value, the list as text "[w1,w2,...]". Each
 * entry is checked here, so that its own line is named; gs_draft_parse_value canonicalizes. */
static gs_status read_layers(gs_draft *d, size_t ki, const gs_ynode *seq, int line)
{
    const gs_key *k = &gs_keys[ki];
    char why[WHY_MAX];
    size_t len = 3;
    if (seq->kind != GS_YSEQ)
        return gs_draft_fail(d, seq->line, NULL, k->path,
                             "layers takes a list of widths, one per hidden layer");
    if (seq->n == 0)
        return gs_draft_fail(d, seq->line, NULL, k->path,
                             "layers: empty list (one width per hidden layer)");
    for (size_t i = 0; i < seq->n; i++) {
        const gs_ynode *it = seq->kids[i];
        int64_t w;
        if (it->kind != GS_YSCALAR)
            return gs_draft_fail(d, it->line, NULL, k->path,
                                 "layers entry %zu: expected an integer, not a %s", i + 1,
                                 it->kind == GS_YSEQ ? "list" : "mapping");
        if (gs_draft_int(it->text, k->min, k->max, &w, why, sizeof why) != 0)
            return gs_draft_fail(d, it->line, NULL, k->path, "layers entry %zu: %s", i + 1, why);
        len += strlen(it->text) + 1;
    }
    return add_bracketed(d, ki, seq, len, line);
}

/* train.stop_on: [a, b, ...] as one value, the text "[a,b]" (the names are checked and put in
 * canonical order by gs_draft_parse_value). */
static gs_status read_verdicts(gs_draft *d, size_t ki, const gs_ynode *seq)
{
    const gs_key *k = &gs_keys[ki];
    size_t len = 3;
    for (size_t i = 0; i < seq->n; i++) {
        const gs_ynode *it = seq->kids[i];
        if (it->kind != GS_YSCALAR || gs_yaml_is_null(it))
            return gs_draft_fail(d, it->line, NULL, k->path,
                                 "entry %zu: expected a verdict name, not a %s", i + 1,
                                 it->kind == GS_YSEQ   ? "list"
                                 : it->kind == GS_YMAP ? "mapping"
                                                       : "null");
        len += strlen(it->text) + 1;
    }
    return add_bracketed(d, ki, seq, len, seq->line);
}

/* One value of an axis list: a scalar, {layers: [...]} for a key with a layer list, or a list of
 * verdicts for train.stop_on. */
static gs_status axis_item(gs_draft *d, size_t ki, const gs_ynode *it)
{
    static const char *const layers_names[] = {"layers", NULL};
    const gs_key *k = &gs_keys[ki];
    if (it->kind == GS_YSEQ && gs_draft_is_verdicts(k))
        return read_verdicts(d, ki, it);
    if (it->kind == GS_YMAP && gs_key_has_list(k)) {
        if (it->n != 1)
            return gs_draft_fail(d, it->line, NULL, k->path, "expected {layers: [w1, ...]}");
        if (strcmp(it->kids[0]->text, "layers") != 0)
            return gs_draft_unknown_key(d, it->kids[0], k->path, layers_names);
        return read_layers(d, ki, it->kids[1], it->line);
    }
    gs_status st = gs_draft_need_scalar(d, it, k->path);
    return st == GS_OK ? slot_add(d, ki, it->text, it->line) : st;
}

static gs_status axis_list(gs_draft *d, size_t ki, const gs_ynode *seq)
{
    if (seq->kind != GS_YSEQ)
        return gs_draft_fail(d, seq->line, NULL, gs_keys[ki].path, "values takes a list");
    if (seq->n == 0)
        return gs_draft_fail(d, seq->line, NULL, gs_keys[ki].path, "empty axis");
    for (size_t i = 0; i < seq->n; i++) {
        gs_status st = axis_item(d, ki, seq->kids[i]);
        if (st != GS_OK)
            return st;
    }
    return GS_OK;
}

/* A key's value: scalar (fixed), list (axis) or {logspace|linspace|values: ...} (axis); for
 * model.width also {layers: [...]} (fixed: one list of per-layer widths); for train.stop_on a
 * list is one value (fixed), and an axis needs {values: [[...], ...]}. */
static gs_status read_key(gs_draft *d, size_t ki, const gs_ynode *v)
{
    const gs_key *k = &gs_keys[ki];
    int lists = gs_key_has_list(k);
    gs_status st = GS_OK;
    if (v->kind == GS_YSCALAR) {
        if ((st = gs_draft_need_scalar(d, v, k->path)) != GS_OK)
            return st;
        slot_begin(d, ki, v->line, NULL, 0);
        return slot_add(d, ki, v->text, v->line);
    }
    if (v->kind == GS_YSEQ && gs_draft_is_verdicts(k)) {
        slot_begin(d, ki, v->line, NULL, 0);
        return read_verdicts(d, ki, v);
    }
    if (v->kind == GS_YMAP && v->n == 1 && strcmp(v->kids[0]->text, "layers") == 0) {
        if (!lists)
            return gs_draft_fail(d, v->kids[0]->line, NULL, k->path,
                                 "{layers: [...]} is only for model.width");
        slot_begin(d, ki, v->line, NULL, 0);
        return read_layers(d, ki, v->kids[1], v->line);
    }
    slot_begin(d, ki, v->line, NULL, 1);
    if (v->kind == GS_YSEQ)
        return axis_list(d, ki, v);
    if (v->n != 1)
        return gs_draft_fail(d, v->line, NULL, k->path,
                             "%s mapping has one key: %slogspace, "
                             "linspace or values",
                             lists ? "a" : "an axis", lists ? "layers, " : "");
    const gs_ynode *form = v->kids[0], *arg = v->kids[1];
    if (strcmp(form->text, "values") == 0)
        return axis_list(d, ki, arg);
    if (strcmp(form->text, "logspace") == 0 || strcmp(form->text, "linspace") == 0)
        return axis_generate(d, ki, form, arg);
    char hint[256];
    gs_draft_suggest(hint, sizeof hint, form->text, lists ? form_names : form_names + 1);
    return gs_draft_fail(d, form->line, NULL, k->path, "unknown axis form '%s'%s", form->text,
                         hint);
}

/* Mapping sugar for groups of plain keys: train.clip: {norm: c} or {value: c} for
 * train.clip_norm / train.clip_value, and model.residual: {every: k, alpha: a} for
 * model.residual_every / model.residual_alpha. Each value may be an axis, as for any key; a
 * plain key given as well is an error either way round. */
typedef struct {
    const char *path;         /* "train.clip" */
    const char *const *names; /* its keys: path + "_" + name is the plain key */
    size_t max_keys;          /* how many of them one mapping may give */
    const char *expected;     /* message for a malformed value */
} sugar;

static const char *const clip_names[] = {"norm", "value", NULL};
static const char *const residual_names[] = {"every", "alpha", NULL};
static const sugar sugars[] = {
    {"train.clip", clip_names, 1, "expected {norm: c} or {value: c}"},
    {"model.residual", residual_names, 2, "expected {every: k, alpha: a}"},
};

/* The sugar whose plain keys include path (prefix "<sugar>_"), or NULL. */
static const sugar *sugar_of(const char *path)
{
    for (size_t i = 0; i < sizeof sugars / sizeof *sugars; i++) {
        size_t l = strlen(sugars[i].path);
        if (strncmp(path, sugars[i].path, l) == 0 && path[l] == '_')
            return &sugars[i];
    }
    return NULL;
}

/* "given twice (clip and clip_norm)" for plain key k set both by its sugar sg and by itself. */
static gs_status sugar_twice(gs_draft *d, int line, const sugar *sg, const gs_key *k)
{
    const char *dot = sg ? strchr(sg->path, '.') : NULL;
    if (!dot)
        return gs_draft_fail(d, line, NULL, k->path, "given twice");
    return gs_draft_fail(d, line, NULL, k->path, "given twice (%s and %s)", dot + 1,
                         k->path + (dot + 1 - sg->path));
}

static gs_status read_sugar(gs_draft *d, const sugar *sg, const gs_ynode *v)
{
    gs_status st = GS_OK;
    if (v->kind != GS_YMAP || v->n == 0 || v->n > sg->max_keys)
        return gs_draft_fail(d, v->line, NULL, sg->path, "%s", sg->expected);
    if ((st = gs_draft_check_dups(d, v, sg->path)) != GS_OK)
        return st;
    for (size_t i = 0; i < v->n; i++) {
        const gs_ynode *key = v->kids[2 * i];
        char path[128];
        snprintf(path, sizeof path, "%s_%s", sg->path, key->text);
        const gs_key *k = gs_key_find(path);
        size_t j = 0;
        while (sg->names[j] && strcmp(sg->names[j], key->text) != 0)
            j++;
        if (!sg->names[j] || !k)
            return gs_draft_unknown_key(d, key, sg->path, sg->names);
        if (d->slots[k - gs_keys].set)
            return sugar_twice(d, key->line, sg, k);
        if ((st = read_key(d, (size_t)(k - gs_keys), v->kids[2 * i + 1])) != GS_OK)
            return st;
    }
    return GS_OK;
}

static gs_status read_section(gs_draft *d, const char *sec, const gs_ynode *map)
{
    const char *names[GS_DRAFT_MAX_KEYS + 4];
    size_t nn = 0, plen = strlen(sec);
    gs_status st = GS_OK;
    if (map->kind != GS_YMAP)
        return gs_draft_fail(d, map->line, NULL, sec, "expected a mapping of keys");
    for (const gs_key *k = gs_keys; k->path; k++)
        if (strncmp(k->path, sec, plen) == 0 && k->path[plen] == '.')
            names[nn++] = k->path + plen + 1;
    for (size_t i = 0; i < sizeof sugars / sizeof *sugars; i++)
        if (strncmp(sugars[i].path, sec, plen) == 0 && sugars[i].path[plen] == '.')
            names[nn++] = sugars[i].path + plen + 1;
    names[nn] = NULL;
    if ((st = gs_draft_check_dups(d, map, sec)) != GS_OK)
        return st;
    for (size_t i = 0; i < map->n; i++) {
        const gs_ynode *key = map->kids[2 * i];
        char path[256];
        snprintf(path, sizeof path, "%s.%s", sec, key->text);
        const sugar *sg = NULL;
        for (size_t j = 0; j < sizeof sugars / sizeof *sugars; j++)
            if (strcmp(path, sugars[j].path) == 0)
                sg = &sugars[j];
        if (sg) {
            if ((st = read_sugar(d, sg, map->kids[2 * i + 1])) != GS_OK)
                return st;
            continue;
        }
        const gs_key *k = gs_key_find(path);
        if (!k)
            return gs_draft_unknown_key(d, key, sec, names);
        if (d->slots[k - gs_keys].set) /* set by a sugar (a repeated key is a duplicate) */
            return sugar_twice(d, key->line, sugar_of(path), k);
        if ((st = read_key(d, (size_t)(k - gs_keys), map->kids[2 * i + 1])) != GS_OK)
            return st;
    }
    return GS_OK;
}

/* name, seed, replicates from text (YAML scalar or override value). */
static gs_status top_scalar(gs_draft *d, const char *key, const char *t, int line, const char *ovr)
{
    char why[WHY_MAX], *end;
    if (strcmp(key, "name") == 0) {
        char *copy = strdup(t);
        if (!copy)
            return oom(d);
        free(d->name);
        d->name = copy;
        d->name_line = line;
        d->name_ovr = ovr;
    } else if (strcmp(key, "seed") == 0) {
        errno = 0;
        unsigned long long v = strtoull(t, &end, 10);
        if (*t < '0' || *t > '9' || *end || errno)
            return gs_draft_fail(d, line, ovr, key, "expected an unsigned integer, got '%s'", t);
        d->seed = (uint64_t)v;
    } else if (gs_draft_int(t, 1, 1e6, &d->replicates, why, sizeof why) != 0) {
        return gs_draft_fail(d, line, ovr, key, "%s", why);
    }
    return GS_OK;
}

/* axes: [key, ...] reorders the axes (the resolved YAML uses it to keep the sweep order). */
static gs_status read_axes(gs_draft *d, const gs_ynode *seq)
{
    size_t order[GS_DRAFT_MAX_KEYS], n = 0;
    if (seq->kind != GS_YSEQ)
        return gs_draft_fail(d, seq->line, NULL, "axes", "expected a list of swept keys");
    for (size_t i = 0; i < seq->n; i++) {
        const gs_ynode *it = seq->kids[i];
        const gs_key *k = it->kind == GS_YSCALAR ? gs_key_find(it->text) : NULL;
        size_t ki = k ? (size_t)(k - gs_keys) : 0;
        if (!k || !d->slots[ki].is_axis)
            return gs_draft_fail(d, it->line, NULL, "axes", "'%s' is not a swept key",
                                 it->kind == GS_YSCALAR ? it->text : "?");
        for (size_t j = 0; j < n; j++)
            if (order[j] == ki)
                return gs_draft_fail(d, it->line, NULL, "axes", "'%s' is listed twice", it->text);
        order[n++] = ki;
    }
    if (n != d->n_axis)
        return gs_draft_fail(d, seq->line, NULL, "axes", "must list every swept key (%zu of %zu)",
                             n, d->n_axis);
    memcpy(d->axis, order, n * sizeof *order);
    return GS_OK;
}

static gs_status read_root(gs_draft *d, const gs_ynode *root)
{
    gs_status st = GS_OK;
    const gs_ynode *axes = NULL;
    if (root->kind != GS_YMAP)
        return gs_draft_fail(d, root->line, NULL, NULL, "a spec is a mapping (name: ..., ...)");
    d->top_line = root->line;
    if ((st = gs_draft_check_dups(d, root, "")) != GS_OK)
        return st;
    for (size_t i = 0; i < root->n && st == GS_OK; i++) {
        const gs_ynode *key = root->kids[2 * i], *val = root->kids[2 * i + 1];
        const char *kt = key->text;
        int sec = -1;
        for (int s = 0; s < 3; s++)
            if (strcmp(kt, sec_names[s]) == 0)
                sec = s;
        if (sec >= 0) {
            d->sec_line[sec] = key->line;
            st = read_section(d, kt, val);
        } else if (strcmp(kt, "record") == 0) {
            st = gs_draft_read_record(d, val);
        } else if (strcmp(kt, "axes") == 0) {
            axes = val;
        } else if (strcmp(kt, "name") == 0 || strcmp(kt, "seed") == 0 ||
                   strcmp(kt, "replicates") == 0) {
            if ((st = gs_draft_need_scalar(d, val, kt)) == GS_OK)
                st = top_scalar(d, kt, val->text, val->line, NULL);
        } else {
            st = gs_draft_unknown_key(d, key, "", top_names);
        }
    }
    if (st == GS_OK && axes)
        st = read_axes(d, axes);
    return st;
}

/* ---- overrides --------------------------------------------------------------------------- */

/* The next value of an override's comma-separated list: its end (the comma or the NUL). Commas
 * inside [...] belong to a value (a layer list "[64,32]"). */
static char *value_end(char *p)
{
    int depth = 0;
    for (; *p; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']' && depth > 0)
            depth--;
        else if (*p == ',' && depth == 0)
            break;
    }
    return p;
}

static gs_status override_key(gs_draft *d, size_t ki, char *vals, const char *ovr)
{
    size_t n = 1;
    gs_status st = GS_OK;
    for (char *p = value_end(vals); *p; p = value_end(p + 1))
        n++;
    slot_begin(d, ki, 0, ovr, n > 1);
    for (char *p = vals; st == GS_OK;) {
        char *end = value_end(p);
        int last = *end == '\0';
        *end = '\0';
        if (!*p)
            return gs_draft_fail(d, 0, ovr, NULL, "empty value");
        st = slot_add(d, ki, p, 0);
        if (last)
            break;
        p = end + 1;
    }
    return st;
}

/* "key.path=v1,v2,...": data/model/train keys, name, seed, replicates, record.*. */
static gs_status apply_override(gs_draft *d, const char *ovr, const char *const *names)
{
    gs_status st = GS_OK;
    char *copy = strdup(ovr), *eq;
    if (!copy)
        return oom(d);
    eq = strchr(copy, '=');
    if (!eq || eq == copy) {
        st = gs_draft_fail(d, 0, ovr, NULL, "expected key.path=value[,value...]");
        goto done;
    }
    *eq = '\0';
    char *key = copy, *vals = eq + 1;
    const gs_key *k = gs_key_find(key);
    int extra = 0;
    for (size_t i = 0; ovr_extra[i]; i++)
        extra |= strcmp(key, ovr_extra[i]) == 0;
    for (size_t i = 0; gs_draft_record_overrides[i]; i++)
        extra |= strcmp(key, gs_draft_record_overrides[i]) == 0;
    const sugar *sg = NULL;
    for (size_t i = 0; i < sizeof sugars / sizeof *sugars; i++)
        if (strcmp(key, sugars[i].path) == 0)
            sg = &sugars[i];
    if (sg) {
        st = gs_draft_fail(d, 0, ovr, NULL,
                           "'%s' is spec mapping sugar; override its keys %s_%s "
                           "or %s_%s",
                           key, key, sg->names[0], key, sg->names[1]);
    } else if (!k && !extra) {
        char hint[512];
        gs_draft_suggest(hint, sizeof hint, key, names);
        st = gs_draft_fail(d, 0, ovr, NULL, "unknown key '%s'%s", key, hint);
    } else if (k) {
        st = override_key(d, (size_t)(k - gs_keys), vals, ovr);
    } else if (strncmp(key, "record.", 7) == 0) {
        st = gs_draft_override_record(d, key, vals, ovr);
    } else if (strchr(vals, ',')) {
        st = gs_draft_fail(d, 0, ovr, NULL, "%s takes one value", key);
    } else {
        st = top_scalar(d, key, vals, 0, ovr);
    }
done:
    free(copy);
    return st;
}

static gs_status apply_overrides(gs_draft *d, const char *const *ovr, size_t n)
{
    const char *names[GS_DRAFT_MAX_KEYS + 32];
    size_t nn = 0;
    for (const gs_key *k = gs_keys; k->path; k++)
        names[nn++] = k->path;
    for (size_t i = 0; ovr_extra[i]; i++)
        names[nn++] = ovr_extra[i];
    for (size_t i = 0; gs_draft_record_overrides[i]; i++)
        names[nn++] = gs_draft_record_overrides[i];
    names[nn] = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t klen = strcspn(ovr[i], "=");
        for (size_t j = 0; j < i; j++)
            if (strncmp(ovr[i], ovr[j], klen + 1) == 0)
                return gs_draft_fail(d, 0, ovr[i], NULL, "key given twice on the command line");
        gs_status st = apply_override(d, ovr[i], names);
        if (st != GS_OK)
            return st;
    }
    return GS_OK;
}

/* ---- whole-spec checks ------------------------------------------------------------------- */

unsigned gs_draft_kinds(const gs_draft *d)
{
    const gs_key *kk = gs_key_find("data.kind");
    const gs_slot *s = &d->slots[kk - gs_keys];
    gs_run_config cfg;
    unsigned mask = 0;
    char why[WHY_MAX];
    gs_config_defaults(&cfg);
    if (!s->set)
        return 1u << cfg.data_kind;
    for (size_t i = 0; i < s->n; i++)
        if (gs_draft_parse_value(kk, s->vals[i], &cfg, why, sizeof why) == 0)
            mask |= 1u << cfg.data_kind;
    return mask;
}

static int first_kind(unsigned mask)
{
    int kind = 0;
    while (kind < GS_DATA__COUNT - 1 && !((mask >> kind) & 1u))
        kind++;
    return kind;
}

/* Writes the names of the data kinds using key k as "'a', 'b'" into buf. */
static void kind_list(const gs_key *k, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int kind = 0; kind < GS_DATA__COUNT && len < n; kind++)
        if (gs_key_applies(k, kind)) {
            int w =
                snprintf(buf + len, n - len, "%s'%s'", len ? ", " : "", gs_datakind_names[kind]);
            len += w > 0 ? (size_t)w : 0;
        }
}

/* The name makes the default output path results/<name>.h5, so it must be one plain file name:
 * [A-Za-z0-9._-]+, not starting with '.' (no directories, no hidden files, no "." or ".."). */
static gs_status check_name(const gs_draft *d)
{
    const char *t = d->name;
    const char *const what = "must be a plain file name (letters, digits, '-', '_', '.')";
    if (!*t)
        return gs_draft_fail(d, d->name_line, d->name_ovr, "name", "value must not be empty");
    for (const char *c = t; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return gs_draft_fail(d, d->name_line, d->name_ovr, "name", "'%s' %s", t, what);
    if (t[0] == '.')
        return gs_draft_fail(d, d->name_line, d->name_ovr, "name", "'%s' %s, not starting with '.'",
                             t, what);
    return GS_OK;
}

/* Whether some value of key path (its default when not given) equals text (want_eq) or differs
 * from it (!want_eq). Values are canonical, so text is compared as gs_key_format writes it. */
static int slot_has(const gs_draft *d, const char *path, const char *text, int want_eq)
{
    const gs_key *k = gs_key_find(path);
    const gs_slot *s = &d->slots[k - gs_keys];
    if (!s->set)
        return (strcmp(k->dflt, text) == 0) == want_eq;
    for (size_t i = 0; i < s->n; i++)
        if ((strcmp(s->vals[i], text) == 0) == want_eq)
            return 1;
    return 0;
}

/* Combinations of train keys no run may have: both clip kinds on, and schedule step without a
 * step_size. Axes combine as a Cartesian product, so one offending value on each side makes an
 * offending run. */
static gs_status check_train_keys(const gs_draft *d)
{
    const gs_slot *cv = &d->slots[gs_key_find("train.clip_value") - gs_keys];
    const gs_slot *sch = &d->slots[gs_key_find("train.schedule") - gs_keys];
    if (slot_has(d, "train.clip_norm", "0", 0) && slot_has(d, "train.clip_value", "0", 0))
        return gs_draft_fail(d, cv->line, cv->ovr, "train.clip_value",
                             "clip by norm and by value are exclusive (clip_norm is set too); "
                             "use one, or 0 for off");
    if (slot_has(d, "train.schedule", "step", 1) && slot_has(d, "train.step_size", "0", 1))
        return gs_draft_fail(d, sch->line, sch->ovr, "train.step_size",
                             "required (integer >= 1) with schedule: step");
    return GS_OK;
}

static gs_status check_draft(gs_draft *d)
{
    gs_status st = GS_OK;
    unsigned mask = gs_draft_kinds(d);
    for (size_t ki = 0; ki < d->n_keys; ki++) {
        const gs_key *k = &gs_keys[ki];
        const gs_slot *s = &d->slots[ki];
        int used = ((unsigned)k->kinds & mask) != 0;
        if (s->set && !used) {
            char only[256];
            kind_list(k, only, sizeof only);
            return gs_draft_fail(d, s->line, s->ovr, k->path,
                                 "not used by data kind '%s' (only by %s)",
                                 gs_datakind_names[first_kind(mask)], only);
        }
        if (!s->set && used && !k->dflt) {
            int sec = k->path[0] == 'd' ? 0 : k->path[0] == 'm' ? 1 : 2;
            int line = d->sec_line[sec] ? d->sec_line[sec] : d->top_line;
            return gs_draft_fail(d, line, NULL, k->path, "required key missing");
        }
    }
    if (!d->name)
        return gs_draft_fail(d, d->top_line, NULL, "name", "required key missing");
    if ((st = check_name(d)) != GS_OK)
        return st;
    if ((st = check_train_keys(d)) != GS_OK)
        return st;
    return gs_draft_check_record(d);
}

/* ---- entry points ------------------------------------------------------------------------ */

static void draft_free(gs_draft *d)
{
    for (size_t i = 0; i < GS_DRAFT_MAX_KEYS; i++)
        slot_clear(&d->slots[i]);
    free(d->name);
    free(d->rec.grad_steps);
}

gs_status gs_plan_parse(gs_plan **out, const char *text, size_t len, const char *name,
                        const char *const *overrides, size_t n_overrides, gs_error *err)
{
    gs_status st = GS_OK;
    gs_ynode *root = NULL;
    gs_draft *d = calloc(1, sizeof *d);
    *out = NULL;
    if (!d)
        return gs_error_set(err, GS_ENOMEM, "%s: out of memory", name);
    d->file = name;
    d->err = err;
    d->n_keys = gs_key_count();
    d->replicates = 1;
    gs_draft_record_defaults(&d->rec);
    if (d->n_keys > GS_DRAFT_MAX_KEYS) {
        st = gs_error_set(err, GS_EINVAL, "spec: key table larger than %d", GS_DRAFT_MAX_KEYS);
        goto done;
    }
    if ((st = gs_yaml_parse(&root, text, len, name, err)) != GS_OK)
        goto done;
    if ((st = read_root(d, root)) != GS_OK)
        goto done;
    if ((st = apply_overrides(d, overrides, n_overrides)) != GS_OK)
        goto done;
    if ((st = check_draft(d)) != GS_OK)
        goto done;
    st = gs_draft_expand(d, out);
done:
    gs_yaml_free(root);
    draft_free(d);
    free(d);
    return st;
}

gs_status gs_plan_load(gs_plan **out, const char *path, const char *const *overrides,
                       size_t n_overrides, gs_error *err)
{
    gs_status st = GS_OK;
    char *text = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f)
        return gs_error_set(err, GS_EIO, "%s: cannot open spec: %s", path, strerror(errno));
    for (;;) {
        if (len + 4096 > cap) {
            char *t = realloc(text, cap = 2 * cap + 8192);
            if (!t) {
                st = gs_error_set(err, GS_ENOMEM, "%s: out of memory reading the spec", path);
                goto done;
            }
            text = t;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        st = gs_error_set(err, GS_EIO, "%s: cannot read spec", path);
        goto done;
    }
    st = gs_plan_parse(out, text, len, path, overrides, n_overrides, err);
done:
    free(text);
    fclose(f);
    return st;
}
