/* test_schedule.c -- C-only tests of the schedule (uba.h, schedule.c). */
#include "../uba.h"
#include "check.h"
#include "reference.h"

#include <float.h>
#include <stdint.h>
#include <string.h>


static double
shape(double t, double T, double phi)
{
    double g = NAN;
    uba_status s = uba_shape(t, T, phi, &g);
    CHECK(s == UBA_OK);
    return g;
}

static double
eta(const uba_params *p, double t)
{
    double e = NAN;
    CHECK(uba_eta(p, t, &e) == UBA_OK);
    return e;
}

static const double BUDGETS[] = {1, 2, 3, 10, 1000, 1e6, 1099511627776.0,
                                 9007199254740992.0};
static const double PHIS[] = {1e-6, 0.01, 0.5, 1, 2, 4, 100, 1e6};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void
shape_is_one_at_start_and_zero_at_budget_exactly(void)
{
    for (size_t i = 0; i < COUNT(BUDGETS); i++) {
        for (size_t j = 0; j < COUNT(PHIS); j++) {
            CHECK_EQ(shape(0, BUDGETS[i], PHIS[j]), 1.0);
            CHECK_EQ(shape(BUDGETS[i], BUDGETS[i], PHIS[j]), 0.0);
        }
    }
}

static void
shape_matches_extended_precision_reference(void)
{
    for (size_t i = 0; i < COUNT(BUDGETS); i++) {
        const double T = BUDGETS[i];
        const double ts[] = {0, 1, 2, floor(T / 3), floor(T / 2), T / 2,
                             T - 2, T - 1, T, T * 0.1, T * 0.9};
        for (size_t j = 0; j < COUNT(PHIS); j++) {
            for (size_t k = 0; k < COUNT(ts); k++) {
                if (ts[k] < 0 || ts[k] > T) {
                    continue;
                }
                CHECK_CLOSE(shape(ts[k], T, PHIS[j]),
                            ref_shape(ts[k], T, PHIS[j]), 4e-15);
            }
        }
    }
}

static void
shape_stays_accurate_one_step_before_a_huge_budget(void)
{
    /* docs/schedule.md: g(T-1) at T = 2^40 to a few ulp; 1 + cos would lose ~1e-5. */
    const double T = 1099511627776.0;
    for (size_t j = 0; j < COUNT(PHIS); j++) {
        CHECK_CLOSE(shape(T - 1, T, PHIS[j]), ref_shape(T - 1, T, PHIS[j]),
                    2e-15);
    }
}

static void
phi_two_is_cosine_annealing(void)
{
    const double T = 1000;
    for (double t = 0; t <= T; t += 1) {
        long double cosine = (1 + cosl(PI_L * t / T)) / 2;
        CHECK_CLOSE(shape(t, T, 2.0), cosine, 4e-15);
    }
}

static void
closed_forms_of_spec_hold(void)
{
    for (size_t j = 0; j < COUNT(PHIS); j++) {
        const double phi = PHIS[j];
        /* g(T/2) = 2 / (phi + 2) */
        CHECK_CLOSE(shape(500, 1000, phi), 2.0L / (phi + 2), 2e-15);
        /* mean over [0, T] = 1/(1 + s) and mean of g^2 = (s+2)/(2(1+s)^2),
         * s = sqrt(phi/2): midpoint rule on a fine grid. */
        if (phi < 0.01 || phi > 100) {
            continue;  /* too sharp a corner for a 1e5-point rule */
        }
        const int n = 100000;
        long double sum = 0, sum2 = 0;
        for (int k = 0; k < n; k++) {
            double g = shape(k + 0.5, n, phi);
            sum += g;
            sum2 += (long double)g * g;
        }
        long double s = sqrtl((long double)phi / 2);
        CHECK_CLOSE(sum / n, 1 / (1 + s), 1e-9);
        CHECK_CLOSE(sum2 / n, (s + 2) / (2 * (1 + s) * (1 + s)), 1e-9);
    }
}

static void
reflection_identity_holds(void)
{
    /* g_phi(u) + g_{4/phi}(2 - u) = 1, i.e. g_phi(t) + g_{4/phi}(T-t) = 1 */
    const double T = 977;
    for (size_t j = 0; j < COUNT(PHIS); j++) {
        for (double t = 0; t <= T; t += 7) {
            long double sum = (long double)shape(t, T, PHIS[j])
                + shape(T - t, T, 4.0 / PHIS[j]);
            CHECK_CLOSE(sum, 1.0L, 4e-16);
        }
    }
}

static void
shape_is_monotone_on_the_budget(void)
{
    for (size_t j = 0; j < COUNT(PHIS); j++) {
        double prev = 2;
        for (double t = 0; t <= 500; t += 1) {
            double g = shape(t, 500, PHIS[j]);
            CHECK(g <= prev && g >= 0 && g <= 1);
            prev = g;
        }
    }
}

static void
shape_is_periodic_past_the_budget(void)
{
    const double T = 10;
    for (double t = 0; t <= T; t += 0.5) {
        CHECK_EQ(shape(t + 2 * T, T, 0.7), shape(t, T, 0.7));
        CHECK_EQ(shape(2 * T - t, T, 0.7), shape(t, T, 0.7));
        CHECK_EQ(shape(t + 2e6 * T, T, 0.7), shape(t, T, 0.7));
    }
    CHECK_EQ(shape(3 * T, T, 0.7), 0.0);
    CHECK_EQ(shape(4 * T, T, 0.7), 1.0);
}

static void
shape_rejects_each_bad_argument(void)
{
    double g = 123;
    const double bad_T[] = {0, -1, 0.5, 1.5, NAN, INFINITY,
                            9007199254740994.0};
    for (size_t i = 0; i < COUNT(bad_T); i++) {
        CHECK(uba_shape(0, bad_T[i], 1, &g) == UBA_E_T);
    }
    const double bad_phi[] = {0, -0.0, -1, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < COUNT(bad_phi); i++) {
        CHECK(uba_shape(0, 10, bad_phi[i], &g) == UBA_E_PHI);
    }
    const double bad_t[] = {-1, -DBL_MIN, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < COUNT(bad_t); i++) {
        CHECK(uba_shape(bad_t[i], 10, 1, &g) == UBA_E_STEP);
    }
    CHECK(uba_shape(0, 10, 1, NULL) == UBA_E_NULL);
    CHECK_EQ(g, 123);  /* untouched on failure */
    CHECK(shape(DBL_MAX, 10, 1) >= 0);
    CHECK(shape(DBL_MIN / 4, 10, DBL_MAX) == 1);
}

static void
shape_fill_matches_scalar_and_names_the_first_bad_index(void)
{
    double t[64], out[64];
    for (int i = 0; i < 64; i++) {
        t[i] = i * 1.7;
    }
    CHECK(uba_shape_fill(t, 64, 50, 3, out, NULL, NULL) == UBA_OK);
    for (int i = 0; i < 64; i++) {
        CHECK_EQ(out[i], shape(t[i], 50, 3));
    }
    t[40] = NAN;
    t[50] = -1;
    size_t bad = 0;
    CHECK(uba_shape_fill(t, 64, 50, 3, out, &bad, NULL) == UBA_E_STEP);
    CHECK(bad == 40);
    CHECK(uba_shape_fill(NULL, 0, 50, 3, NULL, NULL, NULL) == UBA_OK);
    CHECK(uba_shape_fill(NULL, 3, 50, 3, out, NULL, NULL) == UBA_E_NULL);
    CHECK(uba_shape_fill(t, 3, 0, 3, out, NULL, NULL) == UBA_E_T);
    /* in place */
    for (int i = 0; i < 8; i++) {
        t[i] = i;
    }
    CHECK(uba_shape_fill(t, 8, 7, 1, t, NULL, NULL) == UBA_OK);
    CHECK_EQ(t[0], 1.0);
    CHECK_EQ(t[7], 0.0);
}

static void
params_init_rejects_each_bad_argument_in_order(void)
{
    uba_params p;
    memset(&p, 0, sizeof p);
    CHECK(uba_params_init(&p, 0, -1, NAN, NAN, -1, NAN) == UBA_E_T);
    CHECK(uba_params_init(&p, 10, -1, NAN, NAN, -1, NAN) == UBA_E_PHI);
    CHECK(uba_params_init(&p, 10, 1, NAN, NAN, -1, NAN) == UBA_E_ETA_MAX);
    CHECK(uba_params_init(&p, 10, 1, 1, INFINITY, -1, NAN)
          == UBA_E_ETA_MIN);
    CHECK(uba_params_init(&p, 10, 1, 1, 0, -1, NAN) == UBA_E_WARMUP_STEPS);
    CHECK(uba_params_init(&p, 10, 1, 1, 0, 10, 0) == UBA_E_WARMUP_STEPS);
    CHECK(uba_params_init(&p, 10, 1, 1, 0, 2.5, 0) == UBA_E_WARMUP_STEPS);
    CHECK(uba_params_init(&p, 10, 1, 1, 0, 9, NAN) == UBA_E_WARMUP_START);
    CHECK(uba_params_init(NULL, 10, 1, 1, 0, 9, 0) == UBA_E_NULL);
    CHECK(p.T == 0);  /* untouched on failure */
    CHECK(uba_params_init(&p, 10, 1, 1, 0, 9, 0) == UBA_OK);
    double e = 5;
    CHECK(uba_eta(&p, -1, &e) == UBA_E_STEP);
    CHECK(uba_eta(NULL, 1, &e) == UBA_E_NULL);
    CHECK(uba_eta(&p, 1, NULL) == UBA_E_NULL);
    CHECK_EQ(e, 5);
}

static void
eta_hits_peak_and_floor_exactly(void)
{
    uba_params p;
    const double peaks[] = {0.1, 0.3, 3e-4, 1, 7};
    const double floors[] = {0, 0.1, 3e-5, -0.2, 9};
    for (size_t i = 0; i < COUNT(peaks); i++) {
        CHECK(uba_params_init(&p, 100, 0.8, peaks[i], floors[i], 0, 0)
              == UBA_OK);
        CHECK_EQ(eta(&p, 0), peaks[i]);
        CHECK_EQ(eta(&p, 100), floors[i]);
        CHECK_EQ(eta(&p, 200), peaks[i]);
        long double g = ref_shape(37, 100, 0.8);
        CHECK_CLOSE(eta(&p, 37), floors[i] + (peaks[i] - floors[i]) * g,
                    4e-15 * (fabs(peaks[i]) + fabs(floors[i]))
                        / fabsl(floors[i] + (peaks[i] - floors[i]) * g));
    }
}

static void
warmup_rises_linearly_then_decays_over_the_rest(void)
{
    uba_params p, q;
    CHECK(uba_params_init(&p, 110, 3, 2.0, 0.5, 10, 0.25) == UBA_OK);
    CHECK(uba_params_init(&q, 100, 3, 2.0, 0.5, 0, 0) == UBA_OK);
    CHECK_EQ(eta(&p, 0), 0.25);
    for (int t = 0; t < 10; t++) {
        CHECK_CLOSE(eta(&p, t), 0.25 + (2.0 - 0.25) * t / 10.0, 1e-15);
    }
    CHECK_EQ(eta(&p, 10), 2.0);
    CHECK_EQ(eta(&p, 110), 0.5);
    for (int t = 10; t <= 330; t++) {
        CHECK_EQ(eta(&p, t), eta(&q, t - 10));
    }
    /* continuity at the end of warmup */
    CHECK_CLOSE(eta(&p, 10 - 1e-9), 2.0, 1e-9);
    CHECK_CLOSE(eta(&p, 10 + 1e-9), 2.0, 1e-9);
}

static void
eta_fill_matches_scalar(void)
{
    uba_params p;
    CHECK(uba_params_init(&p, 1000, 0.3, 1e-3, 1e-5, 50, 0) == UBA_OK);
    double t[3000], out[3000];
    for (int i = 0; i < 3000; i++) {
        t[i] = i * 0.999;
    }
    CHECK(uba_eta_fill(&p, t, 3000, out, NULL, NULL) == UBA_OK);
    for (int i = 0; i < 3000; i++) {
        CHECK_EQ(out[i], eta(&p, t[i]));
    }
    size_t bad = 99;
    t[7] = -INFINITY;
    CHECK(uba_eta_fill(&p, t, 3000, out, &bad, NULL) == UBA_E_STEP);
    CHECK(bad == 7);
    CHECK(uba_eta_fill(NULL, t, 3, out, &bad, NULL) == UBA_E_NULL);
    CHECK(uba_eta_fill(&p, NULL, 0, NULL, &bad, NULL) == UBA_OK);
}

static void
strerror_covers_every_status(void)
{
    for (int s = 0; s < UBA_STATUS_COUNT; s++) {
        const char *m = uba_strerror((uba_status)s);
        CHECK(m != NULL && strlen(m) > 5);
    }
    CHECK(strcmp(uba_strerror((uba_status)999), "unknown uba_status") == 0);
    CHECK(strcmp(uba_strerror((uba_status)-1), "unknown uba_status") == 0);
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", UBA_VERSION_MAJOR,
             UBA_VERSION_MINOR, UBA_VERSION_PATCH);
    CHECK(strcmp(uba_version(), version) == 0);
}

int
main(void)
{
    RUN(shape_is_one_at_start_and_zero_at_budget_exactly);
    RUN(shape_matches_extended_precision_reference);
    RUN(shape_stays_accurate_one_step_before_a_huge_budget);
    RUN(phi_two_is_cosine_annealing);
    RUN(closed_forms_of_spec_hold);
    RUN(reflection_identity_holds);
    RUN(shape_is_monotone_on_the_budget);
    RUN(shape_is_periodic_past_the_budget);
    RUN(shape_rejects_each_bad_argument);
    RUN(shape_fill_matches_scalar_and_names_the_first_bad_index);
    RUN(params_init_rejects_each_bad_argument_in_order);
    RUN(eta_hits_peak_and_floor_exactly);
    RUN(warmup_rises_linearly_then_decays_over_the_rest);
    RUN(eta_fill_matches_scalar);
    RUN(strerror_covers_every_status);
    return check_summary("test_schedule");
}
