/* test_theory.c -- C-only tests of the theory functions (docs/theory.md
 * sections 1-5: curvature.c, bounds.c, worst_case.c, noisy_quadratic.c,
 * choose_phi.c).
 *
 * The maxima the worst-case searches are checked against are computed once
 * at 50 digits by make_references.py and stored, with the hash of the
 * inputs they belong to, in theory_references.h: searched for here in long
 * double, they took minutes where long double is a software binary128
 * (aarch64).  The inputs are made here as there (the kernel gives the same
 * bits on every platform, and the test's own arithmetic is not contracted
 * into fused multiply-adds), and each stored value is used only after its
 * hash is checked.  Values at the points a search returns are still
 * evaluated here, in long double. */
#include "../uba.h"
#include "check.h"
#include "draws.h"
#include "theory_references.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF  /* the inputs' bits are those make_references.py hashed */
#endif

static const long double PI_L = 3.141592653589793238462643383279502884L;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const double KAPPAS[] = {1.5, 10, 100, 1e4};
static const size_t BUDGETS[] = {1, 4, 16, 256};

/* 1 - eta x, rounded once: eta and x are split (Veltkamp, in 64-bit
 * precision: 26 + 27 bits of eta, 32 + 32 of x) into halves
 * whose products are exact in long double, and 1 - eta_h x_h is exact
 * near a root (Sterbenz).  Next to a root, 1 - eta x from a rounded
 * product would keep only the bits the product had left over. */
static long double
one_minus(double eta, long double x)
{
    const long double cx = 4294967297.0L * x;       /* 2^32 + 1 */
    const long double xh = cx - (cx - x), xl = x - xh;
    const long double e = eta;
    const long double ce = 274877906945.0L * e;     /* 2^38 + 1 */
    const long double eh = ce - (ce - e), el = e - eh;
    return (((1.0L - eh * xh) - eh * xl) - el * xh) - el * xl;
}

/* log|prod (1 - eta_t x)| in extended precision, term by term. */
static long double
ref_log_residual_at(const double *eta, size_t n, long double x)
{
    long double s = 0;
    for (size_t t = 0; t < n; t++) {
        s += logl(fabsl(one_minus(eta[t], x)));
    }
    return s;
}

/* The stored reference r for inputs whose hash is h; a hash that differs
 * (inputs changed since theory_references.h was written) fails, saying so. */
static long double
stored(const reference *r, uint64_t h)
{
    CHECK(r->inputs == h);
    if (r->inputs != h) {
        fprintf(stderr, "the inputs' hash is 0x%016llx, theory_references.h has "
                "0x%016llx: rerun python csrc/tests/make_references.py\n",
                (unsigned long long)h, (unsigned long long)r->inputs);
    }
    return r->value;
}

static uint64_t
hash_range(double a, double b, const double *eta, size_t n)
{
    return check_fnv1a(check_fnv1a(check_fnv1a(CHECK_FNV_START, &a, 1), &b, 1), eta, n);
}

static double
worst_case(const double *eta, size_t n, double a, double b, double *at)
{
    const size_t w = uba_worst_case_work_size(n);
    double *work = doubles(w);
    double lr = NAN, x = NAN;
    CHECK(uba_worst_case_residual(eta, n, a, b, work, w, &lr, &x, NULL, NULL)
          == UBA_OK);
    free(work);
    if (at != NULL) {
        *at = x;
    }
    return lr;
}

/* ---- section 2 -------------------------------------------------------- */

static void
chebyshev_steps_equal_uba_at_midpoints(void)
{
    for (size_t i = 0; i < COUNT(KAPPAS); i++) {
        for (size_t j = 0; j < COUNT(BUDGETS); j++) {
            const size_t T = BUDGETS[j];
            const double kappa = KAPPAS[i];
            double *eta = doubles(T);
            CHECK(uba_chebyshev_steps(T, 1.0, kappa, eta, NULL) == UBA_OK);
            double eta_max, eta_min, phi;
            CHECK(uba_curvature_params(1.0, kappa, &eta_max, &eta_min, &phi)
                  == UBA_OK);
            CHECK_EQ(phi, 2 * kappa);
            uba_params p;
            CHECK(uba_params_init(&p, (double)T, phi, eta_max, eta_min, 0, 0)
                  == UBA_OK);
            for (size_t k = 0; k < T; k++) {
                double u = NAN;
                CHECK(uba_eta(&p, (double)k + 0.5, &u) == UBA_OK);
                CHECK_CLOSE(eta[k], u, 1e-13);
                /* docs/theory.md's formula, in extended precision */
                long double c = cosl((2.0L * (long double)(k + 1) - 1) * PI_L
                                     / (2.0L * (long double)T));
                long double ref = 2.0L / (kappa + 1.0L - (kappa - 1.0L) * c);
                CHECK_CLOSE(eta[k], ref, 1e-13);
                if (k > 0) {
                    CHECK(eta[k] <= eta[k - 1]);
                }
            }
            free(eta);
        }
    }
}

static void
chebyshev_log_residual_matches_cosh_and_spec(void)
{
    for (size_t i = 0; i < COUNT(KAPPAS); i++) {
        for (size_t j = 0; j < COUNT(BUDGETS); j++) {
            const long double x = (KAPPAS[i] + 1.0L) / (KAPPAS[i] - 1.0L);
            const long double ref = -logl(coshl((long double)BUDGETS[j]
                                                * acoshl(x)));
            double lr = NAN;
            CHECK(uba_chebyshev_log_residual(BUDGETS[j], 1, KAPPAS[i], &lr)
                  == UBA_OK);
            CHECK_CLOSE(lr, ref, 1e-12);
        }
    }
    double lr = NAN;
    CHECK(uba_chebyshev_log_residual(16, 1, 100, &lr) == UBA_OK);
    CHECK(fabs(exp(lr) - 0.0805233) < 5e-8);  /* docs/theory.md section 1 */
    CHECK(uba_chebyshev_log_residual(16, 3, 3, &lr) == UBA_OK);
    CHECK(isinf(lr) && lr < 0);
    /* a huge budget: e^-65489 is no double, its log is */
    CHECK(uba_chebyshev_log_residual(100000, 1, 10, &lr) == UBA_OK);
    CHECK(isfinite(lr) && lr < -65000);
}

static void
phi_kappa_and_curvature_conversions(void)
{
    double v = 7;
    CHECK(uba_phi_from_kappa(12.5, &v) == UBA_OK);
    CHECK_EQ(v, 25);
    CHECK(uba_kappa_from_phi(25, &v) == UBA_OK);
    CHECK_EQ(v, 12.5);
    CHECK(uba_phi_from_kappa(0.5, &v) == UBA_E_KAPPA);
    CHECK(uba_phi_from_kappa(NAN, &v) == UBA_E_KAPPA);
    CHECK(uba_phi_from_kappa(DBL_MAX, &v) == UBA_E_KAPPA);
    CHECK(uba_kappa_from_phi(1.9, &v) == UBA_E_PHI_KAPPA);
    CHECK(uba_kappa_from_phi(INFINITY, &v) == UBA_E_PHI_KAPPA);
    CHECK(uba_phi_from_kappa(1, NULL) == UBA_E_NULL);
    CHECK(uba_kappa_from_phi(2, NULL) == UBA_E_NULL);
    CHECK_EQ(v, 12.5);  /* untouched on failure */
    double a = 1, b = 2, c = 3;
    CHECK(uba_curvature_params(0.5, 4, &a, &b, &c) == UBA_OK);
    CHECK_EQ(a, 2);
    CHECK_EQ(b, 0.25);
    CHECK_EQ(c, 16);
    CHECK(uba_curvature_params(0, 4, &a, &b, &c) == UBA_E_LAM_MIN);
    CHECK(uba_curvature_params(-1, 4, &a, &b, &c) == UBA_E_LAM_MIN);
    CHECK(uba_curvature_params(NAN, 4, &a, &b, &c) == UBA_E_LAM_MIN);
    CHECK(uba_curvature_params(INFINITY, 4, &a, &b, &c) == UBA_E_LAM_MIN);
    CHECK(uba_curvature_params(1, 0.5, &a, &b, &c) == UBA_E_LAM_MAX);
    CHECK(uba_curvature_params(1, NAN, &a, &b, &c) == UBA_E_LAM_MAX);
    CHECK(uba_curvature_params(1, INFINITY, &a, &b, &c) == UBA_E_LAM_MAX);
    CHECK(uba_curvature_params(1e-320, 1, &a, &b, &c) == UBA_E_CURVATURE);
    CHECK(uba_curvature_params(1e-300, 1e300, &a, &b, &c)
          == UBA_E_CURVATURE);
    CHECK(uba_curvature_params(1, 2, &a, NULL, &c) == UBA_E_NULL);
    CHECK_EQ(a, 2);
    double out[4];
    CHECK(uba_chebyshev_steps(0, 1, 2, out, NULL) == UBA_E_T);
    CHECK(uba_chebyshev_steps(4, 0, 2, out, NULL) == UBA_E_LAM_MIN);
    CHECK(uba_chebyshev_steps(4, 3, 2, out, NULL) == UBA_E_LAM_MAX);
    CHECK(uba_chebyshev_steps(4, 1, 2, NULL, NULL) == UBA_E_NULL);
    CHECK(uba_chebyshev_log_residual(0, 1, 2, &v) == UBA_E_T);
    CHECK(uba_chebyshev_log_residual(3, 1, 2, NULL) == UBA_E_NULL);
    /* kappa = 1: every step is 1/lam */
    CHECK(uba_chebyshev_steps(4, 4, 4, out, NULL) == UBA_OK);
    for (int k = 0; k < 4; k++) {
        CHECK_EQ(out[k], 0.25);
    }
}

/* ---- the worst-case residual ---------------------------------------------- */

static void
worst_case_of_chebyshev_steps_is_the_closed_form(void)
{
    for (size_t i = 0; i < COUNT(KAPPAS); i++) {
        for (size_t j = 0; j < COUNT(BUDGETS); j++) {
            const size_t T = BUDGETS[j];
            double *eta = doubles(T);
            CHECK(uba_chebyshev_steps(T, 1, KAPPAS[i], eta, NULL) == UBA_OK);
            double ref = NAN;
            CHECK(uba_chebyshev_log_residual(T, 1, KAPPAS[i], &ref)
                  == UBA_OK);
            /* |log R - log R*| <= 1e-9 is R within 1e-9 relative */
            CHECK(fabs(worst_case(eta, T, 1, KAPPAS[i], NULL) - ref) <= 1e-9);
            free(eta);
        }
    }
}

/* Random schedules whose maximum is inside the interval: Chebyshev steps
 * perturbed by up to +-20%, shuffled, some negative, zero or repeated.
 * Reference: the maximum at 50 digits (make_references.py). */
static void
worst_case_matches_the_50_digit_maximum(void)
{
    uint64_t state = 0x9E3779B97F4A7C15ULL;
    size_t k = 0;
    const size_t sizes[] = {1, 2, 3, 7, 33, 100, 257};
    for (size_t c = 0; c < COUNT(sizes); c++) {
        for (int rep = 0; rep < 3; rep++) {
            const size_t n = sizes[c];
            const double a = 0.5 + uniform(&state), kappa = 3 + 500 * uniform(&state);
            const double b = a * kappa;
            double *eta = doubles(n);
            CHECK(uba_chebyshev_steps(n, a, b, eta, NULL) == UBA_OK);
            for (size_t t = 0; t < n; t++) {
                eta[t] *= 0.8 + 0.4 * uniform(&state);
            }
            for (size_t t = n; t-- > 1;) {
                const size_t s = (size_t)(uniform(&state) * (double)(t + 1));
                const double tmp = eta[t];
                eta[t] = eta[s];
                eta[s] = tmp;
            }
            if (n > 5 && rep == 1) {
                eta[0] = -eta[0];
                eta[1] = 0;
                eta[2] = eta[3];
            }
            double at = NAN;
            const double got = worst_case(eta, n, a, b, &at);
            const long double ref = stored(&REF_RANDOM_SCHEDULES[k++],
                                           hash_range(a, b, eta, n));
            CHECK(fabsl((long double)got - ref) <= 1e-10L);
            CHECK(at >= a && at <= b);
            CHECK(fabsl(ref_log_residual_at(eta, n, at) - got) <= 1e-10L);
            free(eta);
        }
    }
}

static void
worst_case_edge_cases(void)
{
    double lr = NAN, at = NAN;
    /* a single step: max of |1 - eta lam| on [1, 3] at an end */
    const double one[] = {0.5};
    CHECK_CLOSE(worst_case(one, 1, 1, 3, &at), log(0.5), 1e-15);
    /* the root sits on the end a: p(a) = 0 exactly, max at b */
    const double rooted[] = {0.5, 0.5};
    CHECK_CLOSE(worst_case(rooted, 2, 2, 6, &at), 2 * log(2.0), 1e-15);
    CHECK_EQ(at, 6);
    /* a == b */
    CHECK_CLOSE(worst_case(one, 1, 4, 4, &at), log(1.0), 1e-15);
    lr = worst_case(rooted, 2, 2, 2, &at);
    CHECK(isinf(lr) && lr < 0);
    /* zero and negative steps: p = 1 * (1 + lam) */
    const double zn[] = {0, -1};
    CHECK_CLOSE(worst_case(zn, 2, 1, 9, &at), log(10.0), 1e-15);
    /* a huge product does not overflow: (1 - 1e3 lam)^4000 at lam = 10 */
    double *big = doubles(4000);
    for (int t = 0; t < 4000; t++) {
        big[t] = 1e3;
    }
    CHECK_CLOSE(worst_case(big, 4000, 1, 10, &at), 4000 * log(9999.0),
                1e-14);
    /* and a tiny one does not underflow: (1 - 0.9 lam/1)^4000 on [1, 1.1] */
    for (int t = 0; t < 4000; t++) {
        big[t] = 0.9;
    }
    CHECK_CLOSE(worst_case(big, 4000, 1, 1.1, &at), 4000 * log(0.1), 1e-14);
    free(big);
    /* scale invariance far from 1: (eta, lam) -> (eta s, lam / s) */
    const double sc[] = {0.3e-200, 0.7e-200, 0.2e-200};
    const double sc1[] = {0.3, 0.7, 0.2};
    CHECK_CLOSE(worst_case(sc, 3, 1e200, 9e200, NULL),
                worst_case(sc1, 3, 1, 9, NULL), 1e-14);
}

static void
worst_case_rejects_bad_input(void)
{
    const double eta[] = {0.1, 0.2, NAN, INFINITY};
    const size_t w = uba_worst_case_work_size(4);
    double *work = doubles(w);
    double lr = 123, at = 456;
    size_t bad = 99;
    CHECK(uba_worst_case_residual(eta, 2, 0, 1, work, w, &lr, &at, &bad, NULL)
          == UBA_E_LAM_MIN);
    CHECK(uba_worst_case_residual(eta, 2, 2, 1, work, w, &lr, &at, &bad, NULL)
          == UBA_E_LAM_MAX);
    CHECK(uba_worst_case_residual(eta, 0, 1, 2, work, w, &lr, &at, &bad, NULL)
          == UBA_E_LRS_EMPTY);
    CHECK(uba_worst_case_residual(NULL, 2, 1, 2, work, w, &lr, &at, &bad, NULL)
          == UBA_E_NULL);
    CHECK(uba_worst_case_residual(eta, 2, 1, 2, NULL, w, &lr, &at, &bad, NULL)
          == UBA_E_NULL);
    CHECK(uba_worst_case_residual(eta, 2, 1, 2, work, w, NULL, &at, &bad, NULL)
          == UBA_E_NULL);
    CHECK(uba_worst_case_residual(eta, 2, 1, 2, work, 3, &lr, &at, &bad, NULL)
          == UBA_E_WORKSPACE);
    CHECK(uba_worst_case_residual(eta, 4, 1, 2, work, w, &lr, &at, &bad, NULL)
          == UBA_E_LRS);
    CHECK(bad == 2);
    const double huge[] = {1, 1e99, 1e101};
    CHECK(uba_worst_case_residual(huge, 3, 1, 2, work, w, &lr, &at, &bad, NULL)
          == UBA_E_LRS_RANGE);
    CHECK(bad == 2);  /* 1e99 * 2 <= 1e100 < 1e101 * 2 */
    CHECK_EQ(lr, 123);
    CHECK_EQ(at, 456);
    CHECK(uba_worst_case_residual(eta, 2, 1, 2, work, w, &lr, NULL, NULL, NULL)
          == UBA_OK);
    CHECK(uba_worst_case_work_size(SIZE_MAX / 2) == SIZE_MAX);
    CHECK(uba_worst_case_work_size(1) >= 4);
    free(work);
}

static void
worst_case_at_a_budget_of_1e5(void)
{
    const size_t T = 100000;
    double *eta = doubles(T);
    CHECK(uba_chebyshev_steps(T, 1, 10, eta, NULL) == UBA_OK);
    double at = NAN, ref = NAN;
    const double got = worst_case(eta, T, 1, 10, &at);
    CHECK(uba_chebyshev_log_residual(T, 1, 10, &ref) == UBA_OK);
    /* the rounded steps (a few ulp each) move the maxima near the ends
     * by ~T^2 ulp */
    CHECK(fabs(got - ref) <= 4e-6);
    CHECK(fabsl(ref_log_residual_at(eta, T, at) - got) <= 1e-9L);
    /* the middle maxima, log|p| at 5.5 + 4.5 cos(pi j / T) (50 digits), are
     * as the closed form says, and no larger */
    const uint64_t h = check_fnv1a(CHECK_FNV_START, eta, T);
    for (size_t j = 0; j < COUNT(REF_BUDGET_1E5); j++) {
        const long double v = stored(&REF_BUDGET_1E5[j], h);
        CHECK(fabsl(v - ref) <= 1e-9L);
        CHECK(v <= got + 1e-9L);
    }
    free(eta);
}

/* ---- the noisy worst case ------------------------------------------------ */

static long double
ref_noisy_log(const double *eta, size_t n, double sigma2, long double x)
{
    long double v = 1;
    for (size_t t = 0; t < n; t++) {
        const long double f = 1.0L - (long double)eta[t] * x;
        v = f * f * v + (long double)sigma2 * eta[t] * eta[t];
    }
    return logl(v);
}

static void
noisy_worst_case_is_exact_without_noise_and_beats_dense_sampling(void)
{
    const size_t T = 40;
    double *eta = doubles(T);
    const size_t w = uba_worst_case_work_size(T);
    double *work = doubles(w);
    CHECK(uba_chebyshev_steps(T, 1, 50, eta, NULL) == UBA_OK);
    double lv = NAN, at = NAN;
    CHECK(uba_worst_case_noisy_error(eta, T, 1, 50, 0, work, w, &lv, &at,
                                     NULL, NULL) == UBA_OK);
    CHECK_CLOSE(lv, 2 * worst_case(eta, T, 1, 50, NULL), 1e-14);
    /* perturbed steps, so that the maximum is inside the interval */
    uint64_t state = 77;
    for (size_t t = 0; t < T; t++) {
        eta[t] *= 0.9 + 0.2 * uniform(&state);
    }
    const double sigmas[] = {1e-8, 1e-4, 1e-2, 1};
    int inside = 0;
    for (size_t i = 0; i < COUNT(sigmas); i++) {
        CHECK(uba_worst_case_noisy_error(eta, T, 1, 50, sigmas[i], work, w,
                                         &lv, &at, NULL, NULL) == UBA_OK);
        CHECK(fabsl(ref_noisy_log(eta, T, sigmas[i], at) - lv) <= 1e-12L);
        /* the largest log V on the grid 1 + 49 j / 200000, j = 0..200000 */
        const long double dense = stored(
            &REF_NOISY_DENSE[i],
            check_fnv1a(check_fnv1a(CHECK_FNV_START, eta, T), &sigmas[i], 1));
        CHECK(lv >= dense - 1e-12L);
        CHECK(lv <= dense + 1e-6L);
        inside += at > 1 && at < 50;
    }
    CHECK(inside >= 2);
    CHECK(uba_worst_case_noisy_error(eta, T, 1, 50, -1, work, w, &lv, &at,
                                     NULL, NULL) == UBA_E_SIGMA2);
    CHECK(uba_worst_case_noisy_error(eta, T, 1, 50, NAN, work, w, &lv, &at,
                                     NULL, NULL) == UBA_E_SIGMA2);
    free(eta);
    free(work);
}

/* ---- bounds --------------------------------------------------------------- */

static void
random_steps(uint64_t *state, double *eta, size_t n, double top)
{
    for (size_t t = 0; t < n; t++) {
        eta[t] = top * uniform(state);
    }
}

static void
bounds_match_the_formulas_of_spec(void)
{
    uint64_t state = 12345;
    const size_t n = 500;
    double eta[500];
    const double L = 4, mu = 0.3, sigma2 = 0.7, gap = 2.5, R2 = 9;
    for (int rep = 0; rep < 10; rep++) {
        random_steps(&state, eta, n, 1.0 / L);
        long double s1 = 0, s2 = 0;
        for (size_t t = 0; t < n; t++) {
            s1 += eta[t];
            s2 += (long double)eta[t] * eta[t];
        }
        double got = NAN;
        CHECK(uba_bound_nonconvex(eta, n, L, sigma2, gap, &got, NULL, NULL)
              == UBA_OK);
        CHECK_CLOSE(got, (2 * gap + L * sigma2 * s2) / s1, 1e-13);
        for (size_t t = 0; t < n; t++) {
            eta[t] *= 0.5;
        }
        s1 *= 0.5L;
        s2 *= 0.25L;
        CHECK(uba_bound_convex(eta, n, L, sigma2, R2, &got, NULL, NULL) == UBA_OK);
        CHECK_CLOSE(got, (R2 + sigma2 * s2) / s1, 1e-13);
        long double bias = gap, noise = 0;
        for (size_t t = 0; t < n; t++) {
            long double prod = 1;
            for (size_t s = t + 1; s < n; s++) {
                prod *= 1 - (long double)mu * eta[s];
            }
            noise += (long double)eta[t] * eta[t] * prod;
            bias *= 1 - (long double)mu * eta[t];
        }
        CHECK(uba_bound_strongly_convex(eta, n, mu, L, sigma2, gap, &got,
                                        NULL, NULL) == UBA_OK);
        CHECK_CLOSE(got, bias + L * sigma2 / 2 * noise, 1e-13);
    }
    /* the step 1/L itself is allowed, and so is a zero step */
    const double edge[] = {0.25, 0, 0.25};
    double got = NAN;
    CHECK(uba_bound_nonconvex(edge, 3, 4, 0, 1, &got, NULL, NULL) == UBA_OK);
    CHECK_CLOSE(got, 4.0, 1e-15);
    CHECK(uba_bound_strongly_convex(edge, 3, 4, 4, 0, 1, &got, NULL, NULL)
          == UBA_OK);
    CHECK_EQ(got, 0.0);
    /* a bias that decays into the subnormal range is rounded once, not
     * lost step by step: (1 - 1e-3)^720000 = e^-720.36 ~ 4e-313 */
    double *many = doubles(720000);
    for (size_t t = 0; t < 720000; t++) {
        many[t] = 1e-3;
    }
    CHECK(uba_bound_strongly_convex(many, 720000, 1, 1, 0, 1, &got, NULL, NULL)
          == UBA_OK);
    CHECK_CLOSE(got, expl(720000 * log1pl(-1e-3L)), 1e-9);
    free(many);
}

static void
bounds_refuse_bad_schedules_and_arguments(void)
{
    double eta[] = {0.1, 0.2, 0.6, 0.7};
    double got = 123;
    size_t bad = 99;
    CHECK(uba_bound_nonconvex(eta, 4, 2, 0, 1, &got, &bad, NULL)
          == UBA_E_STEP_CONDITION);
    CHECK(bad == 2);
    CHECK(uba_bound_convex(eta, 4, 2, 0, 1, &got, &bad, NULL)
          == UBA_E_STEP_CONDITION);
    CHECK(bad == 2);  /* 1/(2L) = 0.25 */
    CHECK(uba_bound_strongly_convex(eta, 4, 1, 2, 0, 1, &got, &bad, NULL)
          == UBA_E_STEP_CONDITION);
    CHECK(bad == 2);
    eta[1] = -0.01;
    CHECK(uba_bound_nonconvex(eta, 4, 1, 0, 1, &got, &bad, NULL)
          == UBA_E_STEP_CONDITION);
    CHECK(bad == 1);
    eta[1] = NAN;
    CHECK(uba_bound_nonconvex(eta, 4, 1, 0, 1, &got, &bad, NULL) == UBA_E_LRS);
    CHECK(bad == 1);
    const double zeros[] = {0, 0};
    CHECK(uba_bound_nonconvex(zeros, 2, 1, 0, 1, &got, &bad, NULL)
          == UBA_E_LRS_ZERO);
    CHECK(uba_bound_convex(zeros, 2, 1, 0, 1, &got, &bad, NULL) == UBA_E_LRS_ZERO);
    CHECK(uba_bound_strongly_convex(zeros, 2, 1, 1, 0, 3, &got, &bad, NULL)
          == UBA_OK);
    CHECK_EQ(got, 3);
    got = 123;
    const double ok[] = {0.1};
    CHECK(uba_bound_nonconvex(ok, 1, 0, 0, 1, &got, &bad, NULL) == UBA_E_L);
    CHECK(uba_bound_nonconvex(ok, 1, NAN, 0, 1, &got, &bad, NULL) == UBA_E_L);
    CHECK(uba_bound_nonconvex(ok, 1, 1, -1, 1, &got, &bad, NULL) == UBA_E_SIGMA2);
    CHECK(uba_bound_nonconvex(ok, 1, 1, 0, -1, &got, &bad, NULL) == UBA_E_F_GAP);
    CHECK(uba_bound_nonconvex(ok, 0, 1, 0, 1, &got, &bad, NULL)
          == UBA_E_LRS_EMPTY);
    CHECK(uba_bound_nonconvex(NULL, 1, 1, 0, 1, &got, &bad, NULL) == UBA_E_NULL);
    CHECK(uba_bound_nonconvex(ok, 1, 1, 0, 1, NULL, &bad, NULL) == UBA_E_NULL);
    CHECK(uba_bound_convex(ok, 1, 1, 0, INFINITY, &got, &bad, NULL)
          == UBA_E_DIST2);
    CHECK(uba_bound_strongly_convex(ok, 1, 2, 1, 0, 1, &got, &bad, NULL)
          == UBA_E_MU);
    CHECK(uba_bound_strongly_convex(ok, 1, 0, 1, 0, 1, &got, &bad, NULL)
          == UBA_E_MU);
    CHECK(uba_bound_strongly_convex(ok, 1, 1, 1, 0, NAN, &got, &bad, NULL)
          == UBA_E_F_GAP);
    CHECK_EQ(got, 123);
}

/* ---- choosing phi ---------------------------------------------------------- */

static void
optimal_phi_recovers_two_kappa(void)
{
    for (size_t i = 0; i < COUNT(KAPPAS); i++) {
        for (size_t j = 0; j < COUNT(BUDGETS); j++) {
            const size_t T = BUDGETS[j];
            const size_t w = uba_optimal_phi_work_size(T);
            double *work = doubles(w);
            double phi = NAN, obj = NAN, ref = NAN;
            CHECK(uba_optimal_phi(T, 1, KAPPAS[i], 0, 1, 1 / KAPPAS[i],
                                  1e-6, 1e8,
                                  work, w, &phi, &obj, NULL) == UBA_OK);
            CHECK_CLOSE(phi, 2 * KAPPAS[i], 1e-8);
            CHECK(uba_chebyshev_log_residual(T, 1, KAPPAS[i], &ref)
                  == UBA_OK);
            /* phi is within ~1e-10 of 2 kappa, and the objective has a
             * kink (slope ~T) there */
            CHECK(fabs(obj - 2 * ref) <= 1e-8);
            free(work);
        }
    }
}

static void
optimal_phi_with_noise_is_a_local_minimum(void)
{
    const size_t T = 32;
    const size_t w = uba_optimal_phi_work_size(T);
    double *work = doubles(w);
    double phi = NAN, obj = NAN, o2 = NAN, p2 = NAN;
    CHECK(uba_optimal_phi(T, 1, 30, 1e-3, 1, 1.0 / 30, 1e-6, 1e8, work, w,
                          &phi, &obj, NULL) == UBA_OK);
    const double factors[] = {0.97, 1.03};
    for (size_t i = 0; i < 2; i++) {
        /* a range of one point cannot be asked for, so bracket tightly */
        const double q = phi * factors[i];
        CHECK(uba_optimal_phi(T, 1, 30, 1e-3, 1, 1.0 / 30, q, q * 1.000001,
                              work, w, &p2, &o2, NULL) == UBA_OK);
        CHECK(o2 >= obj - 1e-12);
    }
    /* eta_max == eta_min: phi has no effect, 2 kappa is returned */
    CHECK(uba_optimal_phi(T, 1, 30, 0, 0.5, 0.5, 1e-6, 1e8, work, w, &phi,
                          &obj, NULL) == UBA_OK);
    CHECK_EQ(phi, 60);
    CHECK(uba_optimal_phi(0, 1, 30, 0, 1, 0.1, 1e-6, 1e8, work, w, &phi,
                          &obj, NULL) == UBA_E_T);
    CHECK(uba_optimal_phi(T, 1, 30, -1, 1, 0.1, 1e-6, 1e8, work, w, &phi,
                          &obj, NULL) == UBA_E_SIGMA2);
    CHECK(uba_optimal_phi(T, 1, 30, 0, NAN, 0.1, 1e-6, 1e8, work, w, &phi,
                          &obj, NULL) == UBA_E_ETA_MAX);
    CHECK(uba_optimal_phi(T, 1, 30, 0, 1, NAN, 1e-6, 1e8, work, w, &phi,
                          &obj, NULL) == UBA_E_ETA_MIN);
    CHECK(uba_optimal_phi(T, 1, 30, 0, 1e99, 0.1, 1e-6, 1e8, work, w, &phi,
                          &obj, NULL) == UBA_E_ETA_RANGE);
    CHECK(uba_optimal_phi(T, 1, 30, 0, 1, 0.1, 2, 1, work, w, &phi, &obj, NULL)
          == UBA_E_PHI_RANGE);
    CHECK(uba_optimal_phi(T, 1, 30, 0, 1, 0.1, 0, 1, work, w, &phi, &obj, NULL)
          == UBA_E_PHI_RANGE);
    CHECK(uba_optimal_phi(T, 1, 30, 0, 1, 0.1, 1e-6, 1e8, work, 5, &phi,
                          &obj, NULL) == UBA_E_WORKSPACE);
    CHECK(uba_optimal_phi(T, 1, 30, 0, 1, 0.1, 1e-6, 1e8, NULL, w, &phi,
                          &obj, NULL) == UBA_E_NULL);
    free(work);
}

static double
bound_c_of_uba(size_t T, double phi, double mu, double L, double sigma2,
               double gap, double eta_max)
{
    uba_params p;
    CHECK(uba_params_init(&p, (double)T, phi, eta_max, 0, 0, 0) == UBA_OK);
    double *eta = doubles(T);
    for (size_t t = 0; t < T; t++) {
        CHECK(uba_eta(&p, (double)t, &eta[t]) == UBA_OK);
    }
    double b = NAN;
    CHECK(uba_bound_strongly_convex(eta, T, mu, L, sigma2, gap, &b, NULL, NULL)
          == UBA_OK);
    free(eta);
    return b;
}

static void
optimal_phi_strongly_convex_minimises_bound_c(void)
{
    const size_t T = 1000;
    const double mu = 0.01, L = 1, gap = 1;
    const double sigmas[] = {1e-3, 1e-2, 0.1};
    double prev = 0;
    for (size_t i = 0; i < COUNT(sigmas); i++) {
        double phi = NAN, b = NAN;
        CHECK(uba_optimal_phi_strongly_convex(T, mu, L, sigmas[i], gap, 1,
                                              1e-6, 1e8, &phi, &b, NULL)
              == UBA_OK);
        CHECK_CLOSE(b, bound_c_of_uba(T, phi, mu, L, sigmas[i], gap, 1),
                    1e-12);
        CHECK(bound_c_of_uba(T, phi * 0.98, mu, L, sigmas[i], gap, 1)
              >= b * (1 - 1e-12));
        CHECK(bound_c_of_uba(T, phi * 1.02, mu, L, sigmas[i], gap, 1)
              >= b * (1 - 1e-12));
        CHECK(phi > prev);  /* more noise, earlier decay */
        prev = phi;
    }
    double phi = NAN, b = NAN;
    /* no noise: the bound falls as phi -> 0 (constant eta_max) */
    CHECK(uba_optimal_phi_strongly_convex(T, mu, L, 0, gap, 1, 1e-6, 1e8,
                                          &phi, &b, NULL) == UBA_OK);
    CHECK(phi < 1e-5);
    CHECK(uba_optimal_phi_strongly_convex(T, mu, L, 0, 0, 1, 1e-6, 1e8,
                                          &phi, &b, NULL) == UBA_OK);
    CHECK_EQ(phi, 1e-6);
    CHECK_EQ(b, 0);
    CHECK(uba_optimal_phi_strongly_convex(T, mu, L, 0, 1, 1.5, 1e-6, 1e8,
                                          &phi, &b, NULL) == UBA_E_ETA_MAX_L);
    CHECK(uba_optimal_phi_strongly_convex(T, mu, L, 0, 1, 0, 1e-6, 1e8,
                                          &phi, &b, NULL) == UBA_E_ETA_MAX_L);
    CHECK(uba_optimal_phi_strongly_convex(T, 2, L, 0, 1, 1, 1e-6, 1e8,
                                          &phi, &b, NULL) == UBA_E_MU);
    CHECK(uba_optimal_phi_strongly_convex(0, mu, L, 0, 1, 1, 1e-6, 1e8,
                                          &phi, &b, NULL) == UBA_E_T);
    CHECK(uba_optimal_phi_strongly_convex(T, mu, L, 0, 1, 1, 1e-6, 1e8,
                                          NULL, &b, NULL) == UBA_E_NULL);
}

/* Fuzzer finding: a size_t budget was checked as (double)T <= 2^53, and
 * 2^53 + 1 rounds to 2^53, so T = 2^53 + 1 passed as valid (and
 * uba_chebyshev_steps went on to write 2^53 + 1 doubles). */
static void
budget_just_above_2_53_is_refused(void)
{
#if SIZE_MAX > 0xffffffffu
    const size_t over = ((size_t)1 << 53) + 1;
    double out[4] = {7, 7, 7, 7}, v = 7, phi = 7, obj = 7;
    double work[64];
    CHECK(uba_chebyshev_steps(over, 1, 10, out, NULL) == UBA_E_T);
    CHECK_EQ(out[0], 7);
    CHECK(uba_chebyshev_log_residual(over, 1, 10, &v) == UBA_E_T);
    CHECK_EQ(v, 7);
    CHECK(uba_chebyshev_log_residual(over + 2, 1, 10, &v) == UBA_E_T);
    CHECK(uba_chebyshev_log_residual((size_t)1 << 53, 1, 10, &v)
          == UBA_OK);
    CHECK(uba_optimal_phi(over, 1, 10, 0, 1, 0.1, 1e-6, 1e8, work, 64,
                          &phi, &obj, NULL) == UBA_E_T);
    CHECK(uba_optimal_phi_strongly_convex(over, 0.1, 1, 0, 1, 1, 1e-6, 1e8,
                                          &phi, &obj, NULL) == UBA_E_T);
    CHECK_EQ(phi, 7);
    CHECK_EQ(obj, 7);
#endif
}

/* Fuzzer findings: curvature ranges at the top of double range.  The
 * Chebyshev denominator lam_min c^2 + lam_max s^2 rounded to inf for
 * lam_min = lam_max = DBL_MAX (steps of 0), and the log residual formed
 * 2 lam_min, which overflows above DBL_MAX / 2 (a -inf residual for
 * kappa = 1.5).  Both are scale-invariant: compare with lam = 1. */
static void
chebyshev_at_the_top_of_double_range(void)
{
    double out[5], ref[5], v = 0, vref = 0;
    CHECK(uba_chebyshev_steps(5, DBL_MAX, DBL_MAX, out, NULL) == UBA_OK);
    for (size_t k = 0; k < 5; k++) {
        CHECK(out[k] > 0);
        CHECK_CLOSE(out[k], 1.0L / (long double)DBL_MAX, 1e-15L);
    }
    CHECK(uba_chebyshev_steps(5, DBL_MAX / 4, DBL_MAX, out, NULL) == UBA_OK);
    CHECK(uba_chebyshev_steps(5, 0.25, 1, ref, NULL) == UBA_OK);
    for (size_t k = 0; k < 5; k++) {
        CHECK(out[k] > 0);
        CHECK_CLOSE((long double)out[k] * (long double)DBL_MAX, ref[k],
                    1e-12L);
    }
    CHECK(uba_chebyshev_log_residual(3, DBL_MAX / 1.5, DBL_MAX, &v)
          == UBA_OK);
    CHECK(uba_chebyshev_log_residual(3, 1, 1.5, &vref) == UBA_OK);
    CHECK(isfinite(v));
    CHECK_CLOSE(v, vref, 1e-14L);
}

/* Fuzzer findings: bounds (a)-(c) with a subnormal gap or sigma2 (or a
 * subnormal L * 2^p) kept only that subnormal's few bits, although the
 * bound itself is an ordinary number: e.g. 2 f_gap / S1 for f_gap =
 * 31375 * 2^-1074 and S1 = 3 * 2^-1002 was off by 2^-15. */
static void
bounds_keep_precision_for_subnormal_arguments(void)
{
    const double gap = 0x0.0000000007a8fp-1022;  /* 31375 * 2^-1074 */
    const double eta[] = {0x3p-1002};
    double b = NAN;
    CHECK(uba_bound_nonconvex(eta, 1, 1, 0, gap, &b, NULL, NULL) == UBA_OK);
    CHECK_CLOSE(b, 2.0L * gap / (long double)eta[0], 1e-15L);
    CHECK(uba_bound_convex(eta, 1, 1, 0, gap, &b, NULL, NULL) == UBA_OK);
    CHECK_CLOSE(b, (long double)gap / (long double)eta[0], 1e-15L);
    /* noise: sigma2 L S2 / S1 with L * 2^p subnormal, sigma2 huge */
    const double small[] = {0x3p-40};
    CHECK(uba_bound_nonconvex(small, 1, 0x1.8p-1030, 0x1p1000, 0, &b, NULL, NULL)
          == UBA_OK);
    CHECK_CLOSE(b, 0x1.8p-1030L * 0x1p1000L * (long double)small[0],
                1e-15L);
    const double tiny[] = {0x1.23456789abcdep-1040};  /* 2^p subnormal */
    CHECK(uba_bound_convex(tiny, 1, 1, 0x1p1000, 0, &b, NULL, NULL) == UBA_OK);
    CHECK_CLOSE(b, 0x1p1000L * (long double)tiny[0], 1e-15L);
    /* (c): (sigma2 / 2) L eta^2 with sigma2 = 3 * 2^-1074, eta = 1/L */
    const double L = 1e-300, big[] = {1.0 / L};
    CHECK(uba_bound_strongly_convex(big, 1, L, L, 0x3p-1074, 0, &b, NULL, NULL)
          == UBA_OK);
    CHECK_CLOSE(b, 0.5L * 0x3p-1074L * (long double)L * (long double)big[0]
                       * (long double)big[0], 1e-15L);
}

/* Fuzzer findings: a subnormal lam_min (allowed: 1/lam_min is finite) made
 * the Chebyshev steps lose bits (no longer descending to rounding), and a
 * subnormal sigma2 lost bits in the noisy error's sigma2 eta^2 term. */
static void
subnormal_curvature_and_noise_keep_precision(void)
{
    const double lam = 0x0.50b01000302p-1022;
    enum { N = 4080 };
    double *out = doubles(N);
    CHECK(uba_chebyshev_steps(N, lam, lam, out, NULL) == UBA_OK);
    for (size_t k = 0; k < N; k++) {
        CHECK_CLOSE((long double)out[k] * (long double)lam, 1.0L, 1e-15L);
        /* descending, to a few roundings (equal in exact arithmetic) */
        CHECK(k == 0 || out[k] <= out[k - 1] * (1.0 + 4 * DBL_EPSILON));
    }
    free(out);
    /* n = 1 on a single point: V = (1 - eta lam)^2 + sigma2 eta^2 */
    const double eta[] = {0x1.8p1000}, lam1 = 0x1p-1002;
    const double sigma2 = 0x3p-1074;
    const size_t w = uba_worst_case_work_size(1);
    double *work = doubles(w), v = NAN;
    CHECK(uba_worst_case_noisy_error(eta, 1, lam1, lam1, sigma2, work, w,
                                     &v, NULL, NULL, NULL) == UBA_OK);
    CHECK_CLOSE(v, logl(0.390625L + 6.75L * 0x1p926L), 1e-14L);
    free(work);
}

/* Fuzzer finding: lam_min / 2^k is subnormal for kappa near 2^1023 and may
 * round down, and the maximiser came back just below lam_min. */
static void
maximiser_stays_inside_the_range(void)
{
    const double lrs[] = {0x1p-1002};
    const double lmin = 0x1.3456789abcde1p-23, lmax = 0x1p1000;
    const size_t w = uba_worst_case_work_size(1);
    double *work = doubles(w), v = NAN, at = NAN;
    CHECK(uba_worst_case_residual(lrs, 1, lmin, lmax, work, w, &v, &at,
                                  NULL, NULL) == UBA_OK);
    CHECK(at >= lmin && at <= lmax);
    at = NAN;
    CHECK(uba_worst_case_noisy_error(lrs, 1, lmin, lmax, 1.0, work, w, &v,
                                     &at, NULL, NULL) == UBA_OK);
    CHECK(at >= lmin && at <= lmax);
    free(work);
}

/* ---- the issue of budgets at scale: exactness and interruption --------- */

/* The steps never rise, and a range of one point gives T copies of
 * 1/lam_min exactly (evaluated as 1/(lam_min c^2 + lam_max s^2), the
 * steps rose 1804 times at T = 1e4 on [1, 1], by an ulp or two). */
static void
chebyshev_steps_never_rise_and_are_exact_on_one_point(void)
{
    static const double ranges[][2] = {
        {1.0, 1.0}, {0.3, 0.3}, {3.7, 3.7}, {1e-3, 1e-3},
        {0.7, 0.7000000000001}, {0.1, 0.100000000000001}, {1.0, 3.0},
    };
    const size_t T = 10000;
    double *eta = doubles(T);
    for (size_t r = 0; r < COUNT(ranges); r++) {
        const double lo = ranges[r][0], hi = ranges[r][1];
        CHECK(uba_chebyshev_steps(T, lo, hi, eta, NULL) == UBA_OK);
        size_t rises = 0, off = 0;
        for (size_t k = 0; k < T; k++) {
            rises += k > 0 && eta[k] > eta[k - 1];
            off += lo == hi && eta[k] != 1.0 / lo;
        }
        CHECK(rises == 0);
        CHECK(off == 0);
    }
    free(eta);
}

/* kappa = 1 + 1e-9: the lobes of |p| near the ends are a few ulp of lam
 * wide, and a search in lam itself came out 3e-4 (T = 300) to 3% (T =
 * 1000) low.  Reference: the maximum at 50 digits (make_references.py). */
static void
worst_case_is_right_for_a_near_degenerate_range(void)
{
    static const double lows[] = {3.7, 1e-3, 1.0};
    const size_t T = 300;
    double *eta = doubles(T);
    for (size_t i = 0; i < COUNT(lows); i++) {
        const double a = lows[i], b = a * (1.0 + 1e-9);
        CHECK(uba_chebyshev_steps(T, a, b, eta, NULL) == UBA_OK);
        double at = NAN;
        const double got = worst_case(eta, T, a, b, &at);
        const long double ref = stored(&REF_NEAR_DEGENERATE[i],
                                       hash_range(a, b, eta, T));
        CHECK(fabsl((long double)got - ref) <= 1e-12L * fabsl(ref));
        CHECK(at >= a && at <= b);
    }
    free(eta);
}

/* Bound (c) of a constant schedule against its closed form
 * e_n = a^n f + K eta^2 (1 - a^n) / (1 - a), a = 1 - mu eta exact in
 * double: evaluated plainly, the error grew with n (5.5e-13 at 1e6). */
static void
bound_c_is_accurate_for_any_n(void)
{
    const size_t n = 1000000;
    const double eta = 0.25, mu = 0x1p-10, L = 1.0, s2 = 0.01, f = 1.0;
    double *lrs = doubles(n);
    for (size_t t = 0; t < n; t++) {
        lrs[t] = eta;
    }
    double b = NAN;
    CHECK(uba_bound_strongly_convex(lrs, n, mu, L, s2, f, &b, NULL, NULL)
          == UBA_OK);
    const long double a = 1.0L - (long double)mu * eta;  /* exact */
    const long double an = powl(a, (long double)n);
    const long double K = 0.5L * L * s2;
    const long double ref = an * f + K * eta * eta * (1.0L - an) / (1.0L - a);
    CHECK_CLOSE(b, ref, 4e-16L);
    free(lrs);
}

/* Fuzzer finding: where 1 - mu eta rounds to 0 in double (mu eta within
 * an ulp of 1) the bound lived in the compensation term alone, and the
 * next step's rescaling turned it into inf. */
static void
bound_c_survives_a_factor_that_rounds_to_zero(void)
{
    const double L = 0x1.0504500500026p+262, f = 0x1.050505050505p+262;
    const double eta[] = {0x1.f628bead19662p-263, 0x1.37cb1ae2bb6eap-512};
    double b = NAN;
    CHECK(uba_bound_strongly_convex(eta, 2, L, L, 0x0.fffffffffffffp-1022, f,
                                    &b, NULL, NULL) == UBA_OK);
    /* fma: 1 - mu eta with one rounding; the noise term is below 1e-300 */
    const long double ref = (long double)f * fma(-L, eta[0], 1.0)
                            * fma(-L, eta[1], 1.0);
    CHECK(isfinite(b));
    CHECK_CLOSE(b, ref, 1e-15L);
}

/* The schedule values optimal_phi_strongly_convex minimises over are the
 * schedule's own: the bound it reports is bound (c) of uba_eta_fill's
 * values at the phi it returns, bit for bit. */
static void
optimal_phi_strongly_convex_reports_bound_c_of_the_schedule(void)
{
    static const size_t budgets[] = {1, 7, 512, 1000, 4099};
    for (size_t i = 0; i < COUNT(budgets); i++) {
        const size_t T = budgets[i];
        double phi = NAN, b = NAN;
        CHECK(uba_optimal_phi_strongly_convex(T, 0.01, 1.0, 0.01, 1.0, 0.9,
                                              1e-6, 1e8, &phi, &b, NULL)
              == UBA_OK);
        double *eta = doubles(T);
        uba_params p;
        CHECK(uba_params_init(&p, (double)T, phi, 0.9, 0.0, 0.0, 0.0)
              == UBA_OK);
        for (size_t t = 0; t < T; t++) {
            eta[t] = (double)t;
        }
        CHECK(uba_eta_fill(&p, eta, T, eta, NULL, NULL) == UBA_OK);
        double want = NAN;
        CHECK(uba_bound_strongly_convex(eta, T, 0.01, 1.0, 0.01, 1.0, &want,
                                        NULL, NULL) == UBA_OK);
        CHECK_EQ(b, want);
        free(eta);
    }
}

/* The noisy search against an exhaustive one (make_references.py: every
 * lobe sampled, the best refined, at 50 digits) on smooth schedules large
 * enough for the strided screen (n = 3000). */
static long double
ref_log_noisy_at(const double *eta, size_t n, long double x, double s2)
{
    /* V = v e^sc; w = e^-sc scales the noise terms, renewed with sc */
    long double v = 1.0L, sc = 0.0L, w = 1.0L;
    for (size_t t = 0; t < n; t++) {
        const long double f = 1.0L - (long double)eta[t] * x;
        v = f * f * v + (long double)s2 * eta[t] * eta[t] * w;
        if (v > 1e100L || v < 1e-100L) {
            sc += logl(v);
            w = expl(-sc);
            v = 1.0L;
        }
    }
    return logl(v) + sc;
}

static void
noisy_search_matches_an_exhaustive_one(void)
{
    static const double cases[][3] = {  /* kappa, phi / kappa, sigma2 */
        {100.0, 2.0, 1e-3}, {1e6, 2.0, 1e-3}, {100.0, 0.5, 1e-3},
        {1e4, 2.0, 1e-12}, {40.0, 8.0, 1e-5},
    };
    const size_t n = 3000;
    double *eta = doubles(n);
    const size_t w = uba_worst_case_work_size(n);
    double *work = doubles(w);
    for (size_t c = 0; c < COUNT(cases); c++) {
        const double kappa = cases[c][0];
        uba_params p;
        CHECK(uba_params_init(&p, (double)n, cases[c][1] * kappa, 1.0,
                              1.0 / kappa, 0, 0) == UBA_OK);
        for (size_t t = 0; t < n; t++) {
            eta[t] = (double)t + 0.5;
        }
        CHECK(uba_eta_fill(&p, eta, n, eta, NULL, NULL) == UBA_OK);
        double got = NAN, at = NAN;
        CHECK(uba_worst_case_noisy_error(eta, n, 1.0, kappa, cases[c][2],
                                         work, w, &got, &at, NULL, NULL)
              == UBA_OK);
        const long double ref = stored(
            &REF_NOISY_SEARCH[c],
            check_fnv1a(check_fnv1a(CHECK_FNV_START, eta, n), &cases[c][2], 1));
        /* never above the exhaustive search's maximum (beyond rounding),
         * and not below it */
        CHECK(fabsl((long double)got - ref) <= 1e-10L * (1.0L + fabsl(ref)));
        CHECK(fabsl(ref_log_noisy_at(eta, n, at, cases[c][2]) - got)
              <= 1e-10L * (1.0L + fabsl(got)));
    }
    free(work);
    free(eta);
}

/* A progress hook: counts its polls, checks the fractions, and asks to
 * stop at poll `stop_at` (0: never). */
typedef struct hook_state {
    int polls, stop_at, bad_fraction;
    double last;
} hook_state;

static int
hook_poll(void *ctx, double fraction)
{
    hook_state *h = (hook_state *)ctx;
    h->bad_fraction |= !(fraction >= h->last && fraction >= 0.0
                         && fraction < 1.0);
    h->last = fraction;
    h->polls++;
    return h->stop_at != 0 && h->polls >= h->stop_at;
}

/* Every long call stops at once when its hook asks, leaves its outputs
 * untouched, and with a hook that never asks gives what it gives without
 * one; long calls are polled many times. */
static void
long_calls_stop_when_their_hook_asks(void)
{
    const size_t n = 200000;
    double *lrs = doubles(n), *out = doubles(n);
    CHECK(uba_chebyshev_steps(n, 1.0, 100.0, lrs, NULL) == UBA_OK);
    const size_t w = uba_optimal_phi_work_size(n);
    double *work = doubles(w);
    uba_params p;
    CHECK(uba_params_init(&p, (double)n, 2.0, 1.0, 0.0, 0.0, 0.0) == UBA_OK);
    /* the O(n) calls are polled when they start; the searches, with more
     * work per step, also at later polls */
    for (int stop_at = 1; stop_at <= 3; stop_at += 2) {
        hook_state h = {0, stop_at, 0, 0.0};
        const uba_progress hook = {hook_poll, &h};
        double r1 = 7.0, r2 = 8.0;
        size_t bad = 9;
#define STOPS(call)                                                        \
        do {                                                               \
            h.polls = 0;                                                   \
            h.last = 0.0;                                                  \
            CHECK((call) == UBA_E_INTERRUPTED);                            \
            CHECK(h.polls == stop_at && !h.bad_fraction);                  \
            CHECK_EQ(r1, 7.0);                                             \
            CHECK_EQ(r2, 8.0);                                             \
            CHECK(bad == 9);                                               \
        } while (0)
        if (stop_at == 1) {
            STOPS(uba_eta_fill(&p, lrs, n, out, &bad, &hook));
            STOPS(uba_shape_fill(lrs, n, 10.0, 2.0, out, &bad, &hook));
            STOPS(uba_chebyshev_steps(n, 1.0, 100.0, out, &hook));
            STOPS(uba_bound_nonconvex(lrs, n, 0.01, 0.1, 1.0, &r1, &bad,
                                      &hook));
            STOPS(uba_bound_convex(lrs, n, 0.01, 0.1, 1.0, &r1, &bad,
                                   &hook));
            STOPS(uba_bound_strongly_convex(lrs, n, 1e-3, 0.01, 0.1, 1.0,
                                            &r1, &bad, &hook));
        }
        STOPS(uba_worst_case_residual(lrs, n, 1.0, 100.0, work, w, &r1, &r2,
                                      &bad, &hook));
        STOPS(uba_worst_case_noisy_error(lrs, n, 1.0, 100.0, 1e-3, work, w,
                                         &r1, &r2, &bad, &hook));
        STOPS(uba_optimal_phi(n, 1.0, 100.0, 1e-3, 1.0, 0.01, 1e-6, 1e8,
                              work, w, &r1, &r2, &hook));
        STOPS(uba_optimal_phi_strongly_convex(n, 0.01, 1.0, 0.01, 1.0, 1.0,
                                              1e-6, 1e8, &r1, &r2, &hook));
#undef STOPS
    }
    /* never asked: the same result, polled every millisecond or so */
    hook_state h = {0, 0, 0, 0.0};
    const uba_progress hook = {hook_poll, &h};
    double a = NAN, b = NAN;
    CHECK(uba_worst_case_noisy_error(lrs, n, 1.0, 100.0, 1e-3, work, w, &a,
                                     NULL, NULL, NULL) == UBA_OK);
    CHECK(uba_worst_case_noisy_error(lrs, n, 1.0, 100.0, 1e-3, work, w, &b,
                                     NULL, NULL, &hook) == UBA_OK);
    CHECK_EQ(a, b);
    CHECK(h.polls > 10 && !h.bad_fraction);
    /* a bad entry the scan has not reached yet does not outrun the stop */
    lrs[n - 1] = NAN;
    hook_state h1 = {0, 1, 0, 0.0};
    const uba_progress first = {hook_poll, &h1};
    CHECK(uba_bound_nonconvex(lrs, n, 0.01, 0.1, 1.0, &a, NULL, &first)
          == UBA_E_INTERRUPTED);
    CHECK(uba_bound_nonconvex(lrs, n, 0.01, 0.1, 1.0, &a, NULL, NULL)
          == UBA_E_LRS);
    free(work);
    free(out);
    free(lrs);
}

int
main(void)
{
    RUN(chebyshev_steps_equal_uba_at_midpoints);
    RUN(chebyshev_log_residual_matches_cosh_and_spec);
    RUN(phi_kappa_and_curvature_conversions);
    RUN(worst_case_of_chebyshev_steps_is_the_closed_form);
    RUN(worst_case_matches_the_50_digit_maximum);
    RUN(worst_case_edge_cases);
    RUN(worst_case_rejects_bad_input);
    RUN(worst_case_at_a_budget_of_1e5);
    RUN(noisy_worst_case_is_exact_without_noise_and_beats_dense_sampling);
    RUN(bounds_match_the_formulas_of_spec);
    RUN(bounds_refuse_bad_schedules_and_arguments);
    RUN(optimal_phi_recovers_two_kappa);
    RUN(optimal_phi_with_noise_is_a_local_minimum);
    RUN(optimal_phi_strongly_convex_minimises_bound_c);
    RUN(budget_just_above_2_53_is_refused);
    RUN(chebyshev_at_the_top_of_double_range);
    RUN(bounds_keep_precision_for_subnormal_arguments);
    RUN(subnormal_curvature_and_noise_keep_precision);
    RUN(maximiser_stays_inside_the_range);
    RUN(chebyshev_steps_never_rise_and_are_exact_on_one_point);
    RUN(worst_case_is_right_for_a_near_degenerate_range);
    RUN(bound_c_is_accurate_for_any_n);
    RUN(bound_c_survives_a_factor_that_rounds_to_zero);
    RUN(optimal_phi_strongly_convex_reports_bound_c_of_the_schedule);
    RUN(noisy_search_matches_an_exhaustive_one);
    RUN(long_calls_stop_when_their_hook_asks);
    return check_summary("test_theory");
}
