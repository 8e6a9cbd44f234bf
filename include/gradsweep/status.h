/* Status codes and the caller-owned error object used by every fallible function.
 * A function that fails returns a non-zero gs_status and writes a one-line message with context
 * into the gs_error it was given; it never prints and never exits. */
#ifndef GRADSWEEP_STATUS_H
#define GRADSWEEP_STATUS_H

/* X-macro: enum name, string name, CLI exit code. */
#define GS_STATUS_LIST(X)                                                                          \
    X(GS_OK, "ok", 0)                                                                              \
    X(GS_EINVAL, "invalid argument", 2)                                                            \
    X(GS_ESPEC, "spec error", 2)                                                                   \
    X(GS_ENOMEM, "out of memory", 1)                                                               \
    X(GS_EIO, "i/o error", 1)                                                                      \
    X(GS_EDATA, "data error", 1)                                                                   \
    X(GS_EHDF5, "hdf5 error", 1)                                                                   \
    X(GS_EEXIST, "output exists", 2)                                                               \
    X(GS_EBUSY, "output in use", 1)                                                                \
    X(GS_EINTR, "interrupted", 3)

typedef enum {
#define X(e, s, c) e,
    GS_STATUS_LIST(X)
#undef X
        GS_STATUS__COUNT
} gs_status;

#define GS_ERRMSG_MAX 1024

typedef struct {
    gs_status status;
    char msg[GS_ERRMSG_MAX];
} gs_error;

/* Name of a status ("spec error"). */
const char *gs_status_name(gs_status s);

/* CLI exit code for a status (0 done, 1 runtime, 2 usage/spec, 3 interrupted). */
int gs_status_exit_code(gs_status s);

/* Records status s and a printf-style message in err (err may be NULL); returns s.
 * Use as `return gs_error_set(err, GS_ESPEC, "%s:%d: ...", file, line);`. */
gs_status gs_error_set(gs_error *err, gs_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to err->msg (for adding context on the way up). Returns err->status. */
gs_status gs_error_prefix(gs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to GS_OK with an empty message. */
void gs_error_clear(gs_error *err);

#endif
