/* test_contract.c -- C-only regression tests for the findings of the
 * fuzzer (csrc/fuzz/fuzz_uba.c): the value range of g and eta, their
 * monotonicity, and what uba_step_groups leaves behind when it fails. */
#include "../uba.h"
#include "check.h"

#include <float.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const double HUGE_ODD_T = 1099511627779.0;  /* 2^40 + 3 */

static double
shape(double t, double T, double phi)
{
    double g = -1.0;
    CHECK(uba_shape(t, T, phi, &g) == UBA_OK);
    return g;
}

static uba_params
params(double T, double phi, double hi, double lo, double W, double start)
{
    uba_params p;
    memset(&p, 0, sizeof p);
    CHECK(uba_params_init(&p, T, phi, hi, lo, W, start) == UBA_OK);
    return p;
}

static double
eta(const uba_params *p, double t)
{
    double e = -1.0;
    CHECK(uba_eta(p, t, &e) == UBA_OK);
    return e;
}

/* phi = the smallest subnormal is a valid phi (finite, > 0); phi/2 rounds
 * to 0, which made g(T) = 0/0 = NaN. */
static void
smallest_phi_gives_no_nan(void)
{
    const double tiny = 4.9406564584124654e-324;
    const double budgets[] = {1, 2, 10, 1000, HUGE_ODD_T};
    for (size_t i = 0; i < COUNT(budgets); i++) {
        const double T = budgets[i];
        CHECK_EQ(shape(T, T, tiny), 0.0);
        CHECK_EQ(shape(0, T, tiny), 1.0);
        CHECK_EQ(shape(3 * T, T, tiny), 0.0);
        if (T > 1) {
            CHECK_EQ(shape(T - 1, T, tiny), 1.0);
        }
        const uba_params p = params(T, tiny, 0.3, 0.1, 0, 0);
        CHECK_EQ(eta(&p, T), 0.1);
    }
}

/* eta_max == eta_min: a constant schedule is that constant, bit for bit
 * (it used to wobble by an ulp, above and below, and overflow to inf at
 * DBL_MAX). */
static void
equal_ends_give_a_constant(void)
{
    const double values[] = {0.3, 0.1, 1e-3, 7.0, 108.0, -0.3, DBL_MAX,
                             -DBL_MAX, DBL_MIN, 4.9406564584124654e-324};
    for (size_t i = 0; i < COUNT(values); i++) {
        const double x = values[i];
        const uba_params p = params(1000, 0.7, x, x, 100, x);
        for (double t = 0; t <= 3000; t += 1) {
            CHECK_EQ(eta(&p, t), x);
        }
    }
}

/* eta stays in [min(ends), max(ends)] of its piece, for ends of either
 * order and sign, and never overflows. */
static void
eta_stays_between_its_ends(void)
{
    const double ends[][2] = {
        {0.3, 0.1}, {0.1, 0.3}, {1.0, 0.999999999}, {0.999999999, 1.0},
        {-0.3, -0.1}, {0.2, -0.1}, {-0.2, 0.1}, {DBL_MAX, DBL_MAX / 3},
        {DBL_MAX, -DBL_MAX}, {-DBL_MAX, DBL_MAX}, {1e-300, 3e-300},
        {5e-324, 1e-323}};
    const double phis[] = {1e-6, 0.5, 2, 100, 1e300};
    for (size_t i = 0; i < COUNT(ends); i++) {
        const double hi = ends[i][0], lo = ends[i][1];
        const double mn = hi < lo ? hi : lo, mx = hi < lo ? lo : hi;
        for (size_t j = 0; j < COUNT(phis); j++) {
            const uba_params p = params(777, phis[j], hi, lo, 0, 0);
            for (double t = 0; t <= 777; t += 1) {
                const double e = eta(&p, t);
                CHECK(e >= mn && e <= mx);
            }
            /* the warmup piece: between warmup_start (lo) and eta_max */
            const uba_params q = params(777, phis[j], hi, 0, 333, lo);
            for (double t = 0; t < 333; t += 0.5) {
                const double e = eta(&q, t);
                CHECK(e >= mn && e <= mx);
            }
        }
    }
}

/* g is non-increasing on [0, T] bit for bit, also where one step changes
 * it by less than an ulp (huge T, tiny phi: rounding noise used to make
 * it rise by an ulp around T/2). */
static void
shape_is_monotone_where_steps_are_below_an_ulp(void)
{
    const double phis[] = {1e-6, 1e-3, 1, 1e3, 1e6};
    const double T = HUGE_ODD_T;
    for (size_t j = 0; j < COUNT(phis); j++) {
        const double starts[] = {0, floor(T / 2) - 50000, T - 100000};
        for (size_t k = 0; k < COUNT(starts); k++) {
            double prev = shape(starts[k], T, phis[j]);
            int rises = 0;
            for (double t = starts[k] + 1; t <= starts[k] + 100000; t += 1) {
                const double g = shape(t, T, phis[j]);
                rises += g > prev;
                prev = g;
            }
            CHECK(rises == 0);
        }
    }
}

/* eta is monotone on each piece, in the direction of its ends, for ends
 * of any sign and order. */
static void
eta_is_monotone_on_each_piece(void)
{
    const double ends[][2] = {{108.0, 108.0}, {0.3, 0.1}, {0.1, 0.3},
                              {1.0, 0.999999999}, {-0.3, -0.1},
                              {0.2, -0.1}, {-0.2, 0.1}};
    const double T = HUGE_ODD_T, W = 1000;
    for (size_t i = 0; i < COUNT(ends); i++) {
        const double hi = ends[i][0], lo = ends[i][1];
        const uba_params p = params(T, 1e-3, hi, lo, W, lo);
        int wrong = 0;
        double prev = eta(&p, 0);
        for (double t = 1; t < W; t += 1) {  /* warmup: lo -> hi */
            const double e = eta(&p, t);
            wrong += hi >= lo ? e < prev : e > prev;
            prev = e;
        }
        const double starts[] = {W, floor(T / 2) - 30000, T - 60000};
        for (size_t k = 0; k < COUNT(starts); k++) {
            prev = eta(&p, starts[k]);
            for (double t = starts[k] + 1; t <= starts[k] + 60000; t += 1) {
                const double e = eta(&p, t);  /* decay: hi -> lo */
                wrong += hi >= lo ? e > prev : e < prev;
                prev = e;
            }
        }
        CHECK(wrong == 0);
    }
}

/* uba.h: "nothing is written on failure".  An lr that overflows in the
 * second group used to leave the first group's new lr in lr_next. */
static void
failed_step_writes_nothing(void)
{
    uba_group_step s;
    CHECK(uba_group_step_init(&s, 100, 1, 10, 1e300) == UBA_OK);  /* f * base overflows */
    const double base[2] = {0.1, 1e10}, floor_[2] = {0, 0};
    const double lr_now[2] = {0.05, 0.05};
    const double written[2] = {0.05, 0.05};
    double ratio[2] = {1, 1}, next[2] = {-5, -5};
    size_t bad = 9;
    CHECK(uba_step_groups(&s, 3, 4, 2, base, floor_, lr_now, written, ratio,
                          next, &bad) == UBA_E_LR);
    CHECK_EQ((double)bad, 1.0);
    CHECK_EQ(next[0], -5.0);
    CHECK_EQ(next[1], -5.0);
    CHECK_EQ(ratio[0], 1.0);
    CHECK_EQ(ratio[1], 1.0);
}

int
main(void)
{
    RUN(smallest_phi_gives_no_nan);
    RUN(equal_ends_give_a_constant);
    RUN(eta_stays_between_its_ends);
    RUN(shape_is_monotone_where_steps_are_below_an_ulp);
    RUN(eta_is_monotone_on_each_piece);
    RUN(failed_step_writes_nothing);
    return check_summary("test_contract");
}
