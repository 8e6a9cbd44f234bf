/* Tiny test harness: typed CHECK macros that print both operands and file:line, and count
 * failures. A test file defines main() that calls its cases and returns CHECK_EXIT(). */
#ifndef GRADSWEEP_TESTS_CHECK_H
#define GRADSWEEP_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures_;
static int check_count_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count_++;                                                                            \
        if (!(cond)) {                                                                             \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long ca_ = (long long)(a), cb_ = (long long)(b);                                      \
        check_count_++;                                                                            \
        if (ca_ != cb_) {                                                                          \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    ca_, cb_);                                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *ca_ = (a), *cb_ = (b);                                                         \
        check_count_++;                                                                            \
        if (!ca_ || !cb_ || strcmp(ca_, cb_) != 0) {                                               \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                               \
        }                                                                                          \
    } while (0)

/* a contains substring b */
#define CHECK_HAS_STR(a, b)                                                                        \
    do {                                                                                           \
        const char *ca_ = (a), *cb_ = (b);                                                         \
        check_count_++;                                                                            \
        if (!ca_ || !cb_ || !strstr(ca_, cb_)) {                                                   \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,         \
                    ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                                   \
        }                                                                                          \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_NEAR(a, b, rtol, atol)                                                               \
    do {                                                                                           \
        double ca_ = (double)(a), cb_ = (double)(b);                                               \
        check_count_++;                                                                            \
        if (!(fabs(ca_ - cb_) <= (atol) + (rtol)*fabs(cb_))) {                                     \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: %s ~ %s failed: %.17g vs %.17g\n", __FILE__, __LINE__, #a, #b, \
                    ca_, cb_);                                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_EXIT()                                                                               \
    (fprintf(stderr, "%d checks, %d failed\n", check_count_, check_failures_),                     \
     check_failures_ ? 1 : 0)

#endif
