/* A small YAML node tree (maps, sequences, scalars, each with its 1-based line) built on libyaml,
 * so the spec parser can walk a document and name file:line in its messages. Private to src/sweep.
 * No anchors/aliases, tags or multiple documents: the spec format does not need them. */
#ifndef GRADSWEEP_SWEEP_YAML_H
#define GRADSWEEP_SWEEP_YAML_H

#include <stddef.h>

#include "gradsweep/status.h"

typedef enum { GS_YSCALAR, GS_YSEQ, GS_YMAP } gs_ykind;

typedef struct gs_ynode gs_ynode;
struct gs_ynode {
    gs_ykind kind;
    int line;        /* 1-based line where the node starts */
    char *text;      /* GS_YSCALAR: NUL-terminated value */
    int quoted;      /* GS_YSCALAR: written quoted (so "null" is a string, not null) */
    size_t n;        /* GS_YSEQ: items; GS_YMAP: key/value pairs */
    gs_ynode **kids; /* GS_YSEQ: [n] items; GS_YMAP: [2n] key0, value0, key1, value1, ... */
    size_t n_kids;   /* entries used in kids (n or 2n) */
};

/* Parses one YAML document from text[0..len) into a new tree (*out, free with gs_yaml_free).
 * Mapping keys are always scalars. Errors are GS_ESPEC: "NAME:LINE: YAML syntax error: ..."
 * for malformed text, and for empty documents, aliases, non-scalar keys or nesting deeper than
 * 64 levels; GS_ENOMEM when allocation fails. */
gs_status gs_yaml_parse(gs_ynode **out, const char *text, size_t len, const char *name,
                        gs_error *err);

/* Frees a tree; NULL is a no-op. */
void gs_yaml_free(gs_ynode *node);

/* Whether a scalar is YAML null: plain and empty, "~" or "null". */
int gs_yaml_is_null(const gs_ynode *node);

#endif
