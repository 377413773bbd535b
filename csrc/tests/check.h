/* check.h -- a minimal test harness: CHECK, CHECK_EQ, CHECK_CLOSE, RUN,
 * and a hash of doubles' bits (check_fnv1a). */
#ifndef UBA_CHECK_H
#define UBA_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond)                                                       \
    do {                                                                  \
        check_count++;                                                    \
        if (!(cond)) {                                                    \
            check_failures++;                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,        \
                    __LINE__, #cond);                                     \
        }                                                                 \
    } while (0)

/* Exact equality of doubles (bit-level intent; NaN never equal). */
#define CHECK_EQ(actual, expected)                                        \
    do {                                                                  \
        double check_a_ = (actual), check_e_ = (expected);                \
        check_count++;                                                    \
        if (!(check_a_ == check_e_)) {                                    \
            check_failures++;                                             \
            fprintf(stderr, "%s:%d: %s == %.17g, expected %.17g\n",       \
                    __FILE__, __LINE__, #actual, check_a_, check_e_);     \
        }                                                                 \
    } while (0)

/* |actual - expected| <= rtol * |expected| (or <= rtol when expected 0). */
#define CHECK_CLOSE(actual, expected, rtol)                               \
    do {                                                                  \
        long double check_a_ = (long double)(actual);                     \
        long double check_e_ = (long double)(expected);                   \
        long double check_s_ = fabsl(check_e_) > 0 ? fabsl(check_e_) : 1; \
        check_count++;                                                    \
        if (!(fabsl(check_a_ - check_e_) <= (long double)(rtol) * check_s_)) { \
            check_failures++;                                             \
            fprintf(stderr,                                               \
                    "%s:%d: %s == %.17Lg, expected %.17Lg (rtol %g)\n",   \
                    __FILE__, __LINE__, #actual, check_a_, check_e_,      \
                    (double)(rtol));                                      \
        }                                                                 \
    } while (0)

#define RUN(test)                                                         \
    do {                                                                  \
        int check_before_ = check_failures;                               \
        test();                                                           \
        printf("%s %s\n", check_failures == check_before_ ? "ok  " : "FAIL", \
               #test);                                                    \
    } while (0)

/* FNV-1a over the bit patterns of n doubles, continuing from h (start
 * with CHECK_FNV_START): a hash of results that must stay bit for bit. */
#define CHECK_FNV_START UINT64_C(0xCBF29CE484222325)

static inline uint64_t
check_fnv1a(uint64_t h, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        for (int byte = 0; byte < 8; byte++) {
            h ^= (bits >> (8 * byte)) & 0xFFu;
            h *= UINT64_C(0x100000001B3);
        }
    }
    return h;
}

static int
check_summary(const char *suite)
{
    printf("%s: %d checks, %d failed\n", suite, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif /* UBA_CHECK_H */
