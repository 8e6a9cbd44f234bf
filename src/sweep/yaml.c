/* Builds a gs_ynode tree from libyaml's event stream, keeping each node's line for messages.
 * Interpretation of the tree (keys, types, ranges) belongs to spec.c, not here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sweep/yaml.h"

#define MAX_DEPTH 64

typedef struct {
    yaml_parser_t p;
    const char *name;
    gs_error *err;
} builder;

static int line_of(const yaml_event_t *ev)
{
    return (int)ev->start_mark.line + 1;
}

static gs_status syntax_error(builder *b)
{
    const yaml_parser_t *p = &b->p;
    if (p->error == YAML_MEMORY_ERROR)
        return gs_error_set(b->err, GS_ENOMEM, "%s: out of memory while parsing YAML", b->name);
    size_t line = p->problem_mark.line + 1;
    if (p->context)
        return gs_error_set(b->err, GS_ESPEC, "%s:%zu: YAML syntax error: %s (%s at line %zu)",
                            b->name, line, p->problem ? p->problem : "malformed YAML", p->context,
                            (size_t)p->context_mark.line + 1);
    return gs_error_set(b->err, GS_ESPEC, "%s:%zu: YAML syntax error: %s", b->name, line,
                        p->problem ? p->problem : "malformed YAML");
}

/* Reads the next event; on failure fills the error from the parser state. */
static gs_status next(builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->p, ev))
        return syntax_error(b);
    return GS_OK;
}

static gs_status push(builder *b, gs_ynode *parent, gs_ynode *kid, size_t *cap)
{
    if (parent->n_kids == *cap) {
        size_t ncap = *cap ? 2 * *cap : 8;
        gs_ynode **k = realloc(parent->kids, ncap * sizeof *k);
        if (!k)
            return gs_error_set(b->err, GS_ENOMEM, "%s: out of memory", b->name);
        parent->kids = k;
        *cap = ncap;
    }
    parent->kids[parent->n_kids++] = kid;
    return GS_OK;
}

static gs_status build(builder *b, yaml_event_t *ev, int depth, gs_ynode **out);

/* Collects the children of a sequence or mapping until its end event. */
static gs_status build_children(builder *b, gs_ynode *node, int depth)
{
    gs_status st = GS_OK;
    yaml_event_type_t end =
        node->kind == GS_YSEQ ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT;
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if ((st = next(b, &ev)) != GS_OK)
            goto done;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        gs_ynode *kid = NULL;
        st = build(b, &ev, depth + 1, &kid);
        yaml_event_delete(&ev);
        if (st == GS_OK)
            st = push(b, node, kid, &cap);
        if (st != GS_OK) {
            gs_yaml_free(kid);
            goto done;
        }
        if (node->kind == GS_YMAP && node->n_kids % 2 == 1 && kid->kind != GS_YSCALAR) {
            st = gs_error_set(b->err, GS_ESPEC, "%s:%d: YAML: mapping keys must be plain names",
                              b->name, kid->line);
            goto done;
        }
    }
    node->n = node->kind == GS_YMAP ? node->n_kids / 2 : node->n_kids;
done:
    return st;
}

/* Builds the node that starts with event ev (not consumed here; the caller deletes it). */
static gs_status build(builder *b, yaml_event_t *ev, int depth, gs_ynode **out)
{
    gs_status st = GS_OK;
    gs_ynode *node = NULL;
    if (depth > MAX_DEPTH) {
        st = gs_error_set(b->err, GS_ESPEC, "%s:%d: YAML: nesting deeper than %d levels", b->name,
                          line_of(ev), MAX_DEPTH);
        goto done;
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        st = gs_error_set(b->err, GS_ESPEC, "%s:%d: YAML: aliases (*name) are not supported",
                          b->name, line_of(ev));
        goto done;
    }
    node = calloc(1, sizeof *node);
    if (!node) {
        st = gs_error_set(b->err, GS_ENOMEM, "%s: out of memory", b->name);
        goto done;
    }
    node->line = line_of(ev);
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        node->kind = GS_YSCALAR;
        node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        node->text = malloc(ev->data.scalar.length + 1);
        if (!node->text) {
            st = gs_error_set(b->err, GS_ENOMEM, "%s: out of memory", b->name);
            goto done;
        }
        memcpy(node->text, ev->data.scalar.value, ev->data.scalar.length);
        node->text[ev->data.scalar.length] = '\0';
        break;
    case YAML_SEQUENCE_START_EVENT:
        node->kind = GS_YSEQ;
        st = build_children(b, node, depth);
        break;
    case YAML_MAPPING_START_EVENT:
        node->kind = GS_YMAP;
        st = build_children(b, node, depth);
        break;
    default:
        st = gs_error_set(b->err, GS_ESPEC, "%s:%d: YAML: unexpected event", b->name, node->line);
        break;
    }
done:
    if (st != GS_OK) {
        gs_yaml_free(node);
        node = NULL;
    }
    *out = node;
    return st;
}

/* Skips to the start of the document's root node and builds it; then expects the document to
 * end and no second document to follow. */
static gs_status build_document(builder *b, gs_ynode **out)
{
    gs_status st = GS_OK;
    yaml_event_t ev;
    int have = 0;
    gs_ynode *root = NULL;
    for (;;) {
        if ((st = next(b, &ev)) != GS_OK)
            goto done;
        have = 1;
        if (ev.type == YAML_STREAM_END_EVENT) {
            st = gs_error_set(b->err, GS_ESPEC, "%s:1: empty spec", b->name);
            goto done;
        }
        if (ev.type != YAML_STREAM_START_EVENT && ev.type != YAML_DOCUMENT_START_EVENT)
            break;
        yaml_event_delete(&ev);
        have = 0;
    }
    if ((st = build(b, &ev, 0, &root)) != GS_OK)
        goto done;
    yaml_event_delete(&ev);
    have = 0;
    for (;;) {
        if ((st = next(b, &ev)) != GS_OK)
            goto done;
        have = 1;
        if (ev.type == YAML_STREAM_END_EVENT)
            break;
        if (ev.type == YAML_DOCUMENT_START_EVENT) {
            st = gs_error_set(b->err, GS_ESPEC, "%s:%d: YAML: a spec is one document ('---')",
                              b->name, line_of(&ev));
            goto done;
        }
        yaml_event_delete(&ev);
        have = 0;
    }
done:
    if (have)
        yaml_event_delete(&ev);
    if (st != GS_OK) {
        gs_yaml_free(root);
        root = NULL;
    }
    *out = root;
    return st;
}

gs_status gs_yaml_parse(gs_ynode **out, const char *text, size_t len, const char *name,
                        gs_error *err)
{
    gs_status st = GS_OK;
    builder b;
    memset(&b, 0, sizeof b);
    b.name = name;
    b.err = err;
    *out = NULL;
    if (!yaml_parser_initialize(&b.p))
        return gs_error_set(err, GS_ENOMEM, "%s: cannot initialise the YAML parser", name);
    yaml_parser_set_input_string(&b.p, (const unsigned char *)text, len);
    st = build_document(&b, out);
    yaml_parser_delete(&b.p);
    return st;
}

void gs_yaml_free(gs_ynode *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n_kids; i++)
        gs_yaml_free(node->kids[i]);
    free(node->kids);
    free(node->text);
    free(node);
}

int gs_yaml_is_null(const gs_ynode *node)
{
    if (!node || node->kind != GS_YSCALAR || node->quoted)
        return 0;
    const char *t = node->text;
    return t[0] == '\0' || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 ||
           strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}
