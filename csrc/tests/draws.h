/* draws.h -- helpers two C test files share: a deterministic generator and
 * an allocation that cannot fail quietly. */
#ifndef UBA_DRAWS_H
#define UBA_DRAWS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A small deterministic generator (xorshift64*), uniform in [0, 1). */
static inline double
uniform(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    const uint64_t r = *state * 2685821657736338717ULL;
    return (double)(r >> 11) * 0x1p-53;
}

/* n doubles on the heap (at least one), or exit on failure. */
static inline double *
doubles(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof(double));
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

#endif /* UBA_DRAWS_H */
