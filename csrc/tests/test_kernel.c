/* test_kernel.c -- the vectorized _fill kernel against the scalar path and
 * against references: bit-equal to uba_shape / uba_eta on every step (so
 * the CPU clone picked at load time does not change any value), within a
 * few ulp of a long double reference and of a libm sin/cos evaluation of
 * the same formula, on random steps near 0, T/2 and T and for huge T. */
#include "../uba.h"
#include "check.h"
#include "reference.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define N_STEPS 4099  /* not a multiple of the kernel's block */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t
next_u64(void)
{
    /* xorshift64*: reproducible, no libc rand() */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717u;
}

/* uniform in [0, 1) */
static double
uniform(void)
{
    return (double)(next_u64() >> 11) * 0x1.0p-53;
}

/* The formula with libm's sin and cos in double: the implementation the
 * polynomial kernel replaced. */
static double
libm_shape(double t, double T, double phi)
{
    const double half_pi = 1.57079632679489661923;
    double c, s;
    if (t <= 0.5 * T) {
        c = cos(half_pi * (t / T));
        s = sin(half_pi * (t / T));
    }
    else {
        c = sin(half_pi * ((T - t) / T));
        s = cos(half_pi * ((T - t) / T));
    }
    return c * c / (c * c + 0.5 * phi * (s * s));
}

/* |a - b| in units of the last place of b (b != 0). */
static double
ulps(double a, long double b)
{
    if (b == 0) {
        return a == 0 ? 0 : INFINITY;
    }
    int e;
    frexpl(b, &e);
    return (double)(fabsl((long double)a - b) / ldexpl(1, e - 53));
}

/* Random steps in [0, T]: a third uniform, the rest within a few hundred
 * steps (or fractions of a step) of 0, T/2 and T, plus the exact points. */
static void
fill_steps(double *t, size_t n, double T)
{
    const double anchors[] = {0, floor(T / 2), T / 2, T};
    for (size_t i = 0; i < n; i++) {
        const double u = uniform();
        double v;
        if (i % 3 == 0) {
            v = u * T;
        }
        else {
            const double a = anchors[next_u64() % COUNT(anchors)];
            const double width = T < 600 ? T / 4 : 300;
            v = a + (u - 0.5) * width;
            if (next_u64() % 2 == 0) {
                v = floor(v);
            }
        }
        t[i] = v < 0 ? -v : (v > T ? 2 * T - v : v);
    }
    t[0] = 0;
    t[1] = T;
    t[2] = T / 2;
    t[3] = T - 1 >= 0 ? T - 1 : 0;
    t[4] = 1 <= T ? 1 : 0;
}

static const double BUDGETS[] = {1, 3, 10, 1000, 1e6, 123456789,
                                 1099511627776.0, 4503599627370497.0,
                                 9007199254740992.0};
static const double PHIS[] = {1e-6, 0.01, 0.5, 1, 2, 4, 100, 1e6};

static double steps[N_STEPS], out[N_STEPS];

static void
shape_fill_equals_the_scalar_path_bit_for_bit(void)
{
    for (size_t i = 0; i < COUNT(BUDGETS); i++) {
        fill_steps(steps, N_STEPS, BUDGETS[i]);
        for (size_t j = 0; j < COUNT(PHIS); j++) {
            CHECK(uba_shape_fill(steps, N_STEPS, BUDGETS[i], PHIS[j], out,
                                 NULL, NULL) == UBA_OK);
            int same = 1;
            for (size_t k = 0; k < N_STEPS; k++) {
                double g = NAN;
                CHECK(uba_shape(steps[k], BUDGETS[i], PHIS[j], &g) == UBA_OK);
                same &= memcmp(&g, &out[k], sizeof g) == 0;
            }
            CHECK(same);
        }
    }
}

static void
shape_is_within_a_few_ulp_of_long_double_as_libm_is(void)
{
    /* g = c^2 / (c^2 + h s^2) amplifies the errors of a, sin and cos (by
     * up to ~3 for large phi), so g itself is a few ulp off however sin
     * and cos are computed: the polynomials must do no worse than libm. */
    double worst = 0, worst_libm = 0, worst_apart = 0;
    for (size_t i = 0; i < COUNT(BUDGETS); i++) {
        const double T = BUDGETS[i];
        fill_steps(steps, N_STEPS, T);
        for (size_t j = 0; j < COUNT(PHIS); j++) {
            CHECK(uba_shape_fill(steps, N_STEPS, T, PHIS[j], out, NULL, NULL)
                  == UBA_OK);
            for (size_t k = 0; k < N_STEPS; k++) {
                const long double ref = ref_shape(steps[k], T, PHIS[j]);
                const double libm = libm_shape(steps[k], T, PHIS[j]);
                const double e = ulps(out[k], ref);
                const double l = ulps(libm, ref);
                const double a = ulps(out[k], libm);
                worst = e > worst ? e : worst;
                worst_libm = l > worst_libm ? l : worst_libm;
                worst_apart = a > worst_apart ? a : worst_apart;
            }
        }
    }
    /* measured: 8.0 ulp (polynomial), 8.8 (libm), 9.0 apart */
    CHECK(worst <= 10);
    CHECK(worst <= worst_libm + 1);
    CHECK(worst_apart <= 12);
    printf("     worst error: %.2f ulp (libm: %.2f); %.2f ulp apart\n",
           worst, worst_libm, worst_apart);
}

static void
eta_fill_equals_the_scalar_path_with_warmup_and_past_the_budget(void)
{
    /* Steps in warmup, in the decay and past T (periodic: scalar fallback
     * blocks), mixed and in long runs, so both paths are taken. */
    const double T = 5000, W = 700;
    uba_params p;
    CHECK(uba_params_init(&p, T, 0.37, 3e-4, 1e-6, W, 1e-5) == UBA_OK);
    for (size_t k = 0; k < N_STEPS; k++) {
        steps[k] = k < 1500 ? (double)k * 3.1 : uniform() * 3 * T;
    }
    CHECK(uba_eta_fill(&p, steps, N_STEPS, out, NULL, NULL) == UBA_OK);
    int same = 1;
    for (size_t k = 0; k < N_STEPS; k++) {
        double e = NAN;
        CHECK(uba_eta(&p, steps[k], &e) == UBA_OK);
        same &= memcmp(&e, &out[k], sizeof e) == 0;
    }
    CHECK(same);
    CHECK_EQ(out[0], 1e-5);
}

static void
in_place_and_every_length_give_the_same_values(void)
{
    double buf[600], ref[600];
    for (size_t n = 0; n <= 600; n += (n < 20 ? 1 : 37)) {
        for (size_t k = 0; k < n; k++) {
            buf[k] = (double)k * 1.25;
        }
        CHECK(uba_shape_fill(buf, n, 700, 0.8, ref, NULL, NULL) == UBA_OK);
        CHECK(uba_shape_fill(buf, n, 700, 0.8, buf, NULL, NULL) == UBA_OK);
        CHECK(n == 0 || memcmp(buf, ref, n * sizeof buf[0]) == 0);
    }
}

static void
the_first_bad_step_is_reported_wherever_it_is(void)
{
    const double bad[] = {NAN, -1, -INFINITY, INFINITY, -DBL_MIN};
    const size_t where[] = {0, 1, 255, 256, 257, 511, 4000, N_STEPS - 1};
    for (size_t b = 0; b < COUNT(bad); b++) {
        for (size_t w = 0; w < COUNT(where); w++) {
            for (size_t k = 0; k < N_STEPS; k++) {
                steps[k] = (double)(k % 100);
            }
            steps[where[w]] = bad[b];
            if (where[w] + 300 < N_STEPS) {
                steps[where[w] + 300] = NAN;  /* a later one is not reported */
            }
            size_t index = 12345;
            CHECK(uba_shape_fill(steps, N_STEPS, 99, 1, out, &index, NULL)
                  == UBA_E_STEP);
            CHECK(index == where[w]);
            uba_params p;
            CHECK(uba_params_init(&p, 99, 1, 1, 0, 10, 0) == UBA_OK);
            index = 12345;
            CHECK(uba_eta_fill(&p, steps, N_STEPS, out, &index, NULL) == UBA_E_STEP);
            CHECK(index == where[w]);
        }
    }
}

static void
huge_budgets_keep_64_bit_steps(void)
{
    /* T = 2^53 and T - 1: the reflection forms T - t exactly. */
    const double T = 9007199254740992.0;
    const double ts[] = {T, T - 1, T - 2, T - 1024, T / 2 + 1, T / 2 - 1, 1,
                         2};
    double g[COUNT(ts)];
    CHECK(uba_shape_fill(ts, COUNT(ts), T, 1, g, NULL, NULL) == UBA_OK);
    CHECK_EQ(g[0], 0.0);
    for (size_t k = 1; k < COUNT(ts); k++) {
        CHECK(ulps(g[k], ref_shape(ts[k], T, 1)) <= 4);
    }
}

int
main(void)
{
    RUN(shape_fill_equals_the_scalar_path_bit_for_bit);
    RUN(shape_is_within_a_few_ulp_of_long_double_as_libm_is);
    RUN(eta_fill_equals_the_scalar_path_with_warmup_and_past_the_budget);
    RUN(in_place_and_every_length_give_the_same_values);
    RUN(the_first_bad_step_is_reported_wherever_it_is);
    RUN(huge_budgets_keep_64_bit_steps);
    return check_summary("test_kernel");
}
