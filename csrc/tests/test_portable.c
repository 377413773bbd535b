/* test_portable.c -- the schedule gives the same bits on every platform.
 *
 * The kernel is plain IEEE arithmetic (no libm call, no fused multiply-add,
 * no reassociation), so x86-64 with any CPU clone, aarch64, Apple arm64
 * and MSVC builds must all produce these exact doubles.  The values are
 * hashed (FNV-1a over their bit patterns) and compared with the hash the
 * reference build printed; a mismatch prints the first values so that a
 * platform's difference can be seen.  `make test-aarch64` runs this under
 * qemu; `make test` runs it for the host (with the clones on x86-64). */
#include "../uba.h"
#include "check.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define N_GRID 1001
#define N_STEPS (N_GRID + 3)

/* Every budget, shape and level below, through the vectorized _fill path
 * and the scalar path; returns the hash of all values. */
static uint64_t
schedule_hash(double *first_values, size_t n_first)
{
    static const double budgets[] = {1.0, 7.0, 1000.0, 4096.0, 1e6,
                                     9007199254740992.0};
    static const double phis[] = {1e-3, 0.5, 1.0, 2.0, 4.0, 200.0};
    double t[N_STEPS], out[N_STEPS];
    uint64_t h = CHECK_FNV_START;
    size_t first = 0;
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        const double T = budgets[b];
        /* evenly over [0, 2T] (past T: the periodic continuation), then
         * the steps next to 0, T/2 and T */
        for (size_t i = 0; i < N_GRID; i++) {
            t[i] = 2.0 * T * (double)i / (double)(N_GRID - 1);
        }
        t[N_GRID] = 1.0;
        t[N_GRID + 1] = floor(T / 2.0);
        t[N_GRID + 2] = T - 1.0;
        for (size_t p = 0; p < sizeof phis / sizeof phis[0]; p++) {
            size_t bad = 0;
            CHECK(uba_shape_fill(t, N_STEPS, T, phis[p], out, &bad, NULL) == UBA_OK);
            h = check_fnv1a(h, out, N_STEPS);
            for (size_t i = 0; i < N_STEPS; i += 97) {
                double g = -1.0;
                CHECK(uba_shape(t[i], T, phis[p], &g) == UBA_OK);
                CHECK(g == out[i]);
            }
            uba_params params;
            const double W = T > 10.0 ? floor(T / 10.0) : 0.0;
            CHECK(uba_params_init(&params, T, phis[p], 3e-4, 1e-6, W, 1e-5) == UBA_OK);
            CHECK(uba_eta_fill(&params, t, N_STEPS, out, &bad, NULL) == UBA_OK);
            h = check_fnv1a(h, out, N_STEPS);
            while (first < n_first && first < N_STEPS) {
                first_values[first] = out[first];
                first++;
            }
        }
    }
    return h;
}

/* Printed by this test on x86-64 (gcc, AVX-512 clone) and checked there
 * against the baseline build and clang. */
#define EXPECTED_HASH UINT64_C(0x77E1AFA5AB6572F2)

int
main(void)
{
    double first[4] = {0};
    const uint64_t h = schedule_hash(first, 4);
    if (h != EXPECTED_HASH) {
        fprintf(stderr,
                "test_portable: schedule hash 0x%016" PRIX64 ", expected 0x%016"
                PRIX64 "; first values %a %a %a %a\n",
                h, EXPECTED_HASH, first[0], first[1], first[2], first[3]);
    }
    CHECK(h == EXPECTED_HASH);
    return check_summary("test_portable");
}
