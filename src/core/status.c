/* Status names, exit codes and the error object. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gradsweep/status.h"

static const char *const names[] = {
#define X(e, s, c) s,
    GS_STATUS_LIST(X)
#undef X
};

static const int codes[] = {
#define X(e, s, c) c,
    GS_STATUS_LIST(X)
#undef X
};

const char *gs_status_name(gs_status s)
{
    return (unsigned)s < GS_STATUS__COUNT ? names[s] : "unknown status";
}

int gs_status_exit_code(gs_status s)
{
    return (unsigned)s < GS_STATUS__COUNT ? codes[s] : 1;
}

gs_status gs_error_set(gs_error *err, gs_status s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = s;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return s;
}

gs_status gs_error_prefix(gs_error *err, const char *fmt, ...)
{
    if (!err)
        return GS_EINVAL;
    char head[GS_ERRMSG_MAX], old[GS_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation of an over-long message is acceptable; build it piecewise to say so. */
    size_t h = strlen(head);
    if (h > sizeof err->msg - 3)
        h = sizeof err->msg - 3;
    memcpy(err->msg, head, h);
    memcpy(err->msg + h, ": ", 2);
    size_t room = sizeof err->msg - h - 3, o = strnlen(old, room);
    memcpy(err->msg + h + 2, old, o);
    err->msg[h + 2 + o] = '\0';
    return err->status;
}

void gs_error_clear(gs_error *err)
{
    if (err) {
        err->status = GS_OK;
        err->msg[0] = '\0';
    }
}
