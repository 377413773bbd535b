/*
 * bounds.c -- docs/theory.md section 2, convergence bounds for any step
 * sequence: (a) non-convex, (b) convex, (c) strongly convex.  See uba.h
 * for the contracts.
 *
 * Provenance: standard SGD results, instantiated here for an arbitrary
 * step sequence; the numerics (scaled compensated sums, the compensated
 * Horner scheme) are this project's.
 */
#include "theory_internal.h"

/*
 * Checks 0 <= lrs[i] <= limit for each i: the first entry that is not
 * finite gives UBA_E_LRS, the first outside the range
 * UBA_E_STEP_CONDITION, with its index.  Writes the largest entry.
 */
static uba_status
scan_steps(const double *lrs, size_t n, double limit, double *largest,
           size_t *bad_index, uba_ticker *ticker)
{
    double m = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += SCAN_CHUNK) {
        const size_t i1 = n - i0 < SCAN_CHUNK ? n : i0 + SCAN_CHUNK;
        if (ticker_add(ticker, (double)(i1 - i0))) {
            return UBA_E_INTERRUPTED;
        }
        for (size_t i = i0; i < i1; i++) {
            const double e = lrs[i];
            uba_status s = UBA_OK;
            if (!isfinite(e)) {
                s = UBA_E_LRS;
            }
            else if (!(e >= 0.0 && e <= limit)) {
                s = UBA_E_STEP_CONDITION;
            }
            if (s != UBA_OK) {
                if (bad_index != NULL) {
                    *bad_index = i;
                }
                return s;
            }
            m = e > m ? e : m;
        }
    }
    *largest = m;
    return UBA_OK;
}

/*
 * S1 = sum eta and S2 = sum eta^2 as 2^p s1 and 2^(2p) s2, with 2^p >= max
 * eta a power of two, so that s1 and s2 are <= n and the bounds below never
 * form inf/inf or 0*inf, whatever the magnitudes.
 */
typedef struct step_sums {
    double s1;
    double s2;
    int p;
} step_sums;

static uba_status
scaled_sums(const double *lrs, size_t n, double largest, step_sums *r,
            uba_ticker *ticker)
{
    (void)frexp(largest, &r->p);
    /* 2^-p itself is a double unless eta is subnormal (p < -1020) */
    const double scale = r->p > -1000 ? ldexp(1.0, -r->p) : 0.0;
    ksum k1 = {0.0, 0.0}, k2 = {0.0, 0.0};
    for (size_t i0 = 0; i0 < n; i0 += SCAN_CHUNK) {
        const size_t i1 = n - i0 < SCAN_CHUNK ? n : i0 + SCAN_CHUNK;
        if (ticker_add(ticker, (double)(i1 - i0))) {
            return UBA_E_INTERRUPTED;
        }
        for (size_t i = i0; i < i1; i++) {
            /* lrs[i] 2^-p: a multiplication, exact as ldexp is */
            const double q = scale > 0.0 ? lrs[i] * scale
                                         : ldexp(lrs[i], -r->p);
            ksum_add(&k1, q);
            ksum_add(&k2, q * q);
        }
    }
    r->s1 = k1.s + k1.c;
    r->s2 = k2.s + k2.c;
    return UBA_OK;
}

/*
 * x y / d * 2^e for x >= 0, y > 0 finite and d in [2^-60, 2^60], from the
 * mantissas of x and y: a subnormal x or y (or x y) would otherwise keep
 * only a few bits before the final scaling by 2^e.
 */
static double
ratio_pow2(double x, double y, double d, int e)
{
    if (x == 0.0) {
        return 0.0;
    }
    int ex, ey;
    const double mx = frexp(x, &ex), my = frexp(y, &ey);
    return ldexp(mx * my / d, ex + ey + e);
}

/*
 * The checks bounds (a) and (b) share, in their order of report: L, sigma2,
 * the gap (f_gap or dist2, whose status is gap_status), a non-empty lrs
 * with 0 <= lrs[i] <= step_limit / L, not all zero.  Then the sums.
 */
static uba_status
averaged_bound_sums(const double *lrs, size_t n, double L, double sigma2,
                    double gap, uba_status gap_status, double step_limit,
                    const double *bound, step_sums *sums, size_t *bad_index,
                    const uba_progress *progress)
{
    if (!(isfinite(L) && L > 0.0)) {
        return UBA_E_L;
    }
    if (!is_nonnegative(sigma2)) {
        return UBA_E_SIGMA2;
    }
    if (!is_nonnegative(gap)) {
        return gap_status;
    }
    if (n == 0) {
        return UBA_E_LRS_EMPTY;
    }
    if (lrs == NULL || bound == NULL) {
        return UBA_E_NULL;
    }
    uba_ticker ticker = ticker_start(progress, 2.0 * (double)n);
    double largest;
    const uba_status s = scan_steps(lrs, n, step_limit / L, &largest,
                                    bad_index, &ticker);
    if (s != UBA_OK) {
        return s;
    }
    if (largest == 0.0) {
        return UBA_E_LRS_ZERO;
    }
    return scaled_sums(lrs, n, largest, sums, &ticker);
}

/*
 * (a) Non-convex, L-smooth, unbiased gradients with variance <= sigma2,
 * 0 <= eta_t <= 1/L (standard; e.g. Ghadimi & Lan 2013).  The descent
 * lemma gives E f(x_{t+1}) <= E f(x_t) - eta_t (1 - L eta_t/2) E||g_t||^2
 * + L eta_t^2 sigma2 / 2, and 1 - L eta_t/2 >= 1/2; summing over t,
 *
 *     min_t E||grad f(x_t)||^2 <= (2 (f(x_0) - f_inf) + L sigma2 S2) / S1.
 *
 * Evaluated as 2 f_gap / S1 + sigma2 (L 2^p) (s2/s1), each factor finite
 * (L 2^p <= 2 since 2^p < 2 max eta <= 2/L).  The condition is checked
 * against the double 1/L, so a step written as 1/L passes.
 */
uba_status
uba_bound_nonconvex(const double *lrs, size_t n, double L, double sigma2,
                    double f_gap, double *bound, size_t *bad_index,
                    const uba_progress *progress)
{
    step_sums r;
    const uba_status s = averaged_bound_sums(
        lrs, n, L, sigma2, f_gap, UBA_E_F_GAP, UBA_STEP_LIMIT_NONCONVEX, bound,
        &r, bad_index, progress);
    if (s != UBA_OK) {
        return s;
    }
    const double bias = ratio_pow2(f_gap, 1.0, r.s1, 1 - r.p);
    const double noise = sigma2 == 0.0 ? 0.0
        : ratio_pow2(sigma2, L, r.s1 / r.s2, r.p);
    *bound = bias + noise;
    return UBA_OK;
}

/*
 * (b) Convex, L-smooth, same noise, 0 <= eta_t <= 1/(2L) (standard).  With
 * D_t = E||x_t - x*||^2: D_{t+1} <= D_t - 2 eta_t (1 - L eta_t) (E f(x_t) -
 * f*) + eta_t^2 sigma2, using E||g||^2 <= 2L (f - f*) + sigma2; with
 * 1 - L eta_t >= 1/2 and summing,
 *
 *     sum_t eta_t (E f(x_t) - f*) / S1 <= (R2 + sigma2 S2) / S1,
 *
 * which also bounds E f(x_avg) - f* for the eta-weighted average iterate.
 */
uba_status
uba_bound_convex(const double *lrs, size_t n, double L, double sigma2,
                 double dist2, double *bound, size_t *bad_index,
                 const uba_progress *progress)
{
    step_sums r;
    const uba_status s = averaged_bound_sums(
        lrs, n, L, sigma2, dist2, UBA_E_DIST2, UBA_STEP_LIMIT_CONVEX, bound, &r,
        bad_index, progress);
    if (s != UBA_OK) {
        return s;
    }
    const double bias = ratio_pow2(dist2, 1.0, r.s1, -r.p);
    const double noise = sigma2 == 0.0 ? 0.0
        : ratio_pow2(sigma2, 1.0, r.s1 / r.s2, r.p);
    *bound = bias + noise;
    return UBA_OK;
}

/*
 * (c) mu-strongly convex, L-smooth, same noise, 0 <= eta_t <= 1/L
 * (standard).  The descent lemma with eta_t <= 1/L gives E f(x_{t+1}) <=
 * E f(x_t) - (eta_t/2) E||grad f||^2 + L eta_t^2 sigma2/2, and strong
 * convexity (PL) ||grad f||^2 >= 2 mu (f - f*), so e_t = E f(x_t) - f*
 * obeys e_{t+1} <= (1 - mu eta_t) e_t + (L sigma2/2) eta_t^2.  Unrolled:
 *
 *     e_T <= prod_t (1 - mu eta_t) e_0
 *            + (L sigma2/2) sum_t eta_t^2 prod_{s>t} (1 - mu eta_s).
 *
 * The recursion is that sum in Horner form, and it is evaluated as the
 * compensated Horner scheme (Graillat, Langlois & Louvet 2005): each step's
 * rounding errors, and the rounding of 1 - mu eta, are recovered exactly
 * (fma gives the error of a product, TwoSum that of a sum) and carried in a
 * second double, so the result is as accurate as if computed in twice the
 * working precision and then rounded.  Evaluated plainly, the same rounding
 * of 1 - mu eta recurs at every step of a constant schedule, and the error
 * grew with n (3.5e-11 relative at n = 1e6); compensated, it is a few ulp
 * for any n (all terms are positive, so nothing cancels).  The whole runs
 * as (hi + lo) 2^E, so a bias below 1e-308 is not lost to underflow.
 *
 * Each step adds k_t = (L sigma2 / 2) eta_t^2; with K = L sigma2 / 2 and
 * eta within [2^-400, 2^400], k_t 2^-E is formed in doubles (two roundings
 * of its own, which do not compound); otherwise from the mantissas and
 * exponents of its factors (sc_sum_step, theory_internal.h).
 */
uba_status
uba_bound_strongly_convex(const double *lrs, size_t n, double mu, double L,
                          double sigma2, double f_gap, double *bound,
                          size_t *bad_index, const uba_progress *progress)
{
    uba_status s = check_strongly_convex(mu, L, sigma2, f_gap);
    if (s != UBA_OK) {
        return s;
    }
    if (n == 0) {
        return UBA_E_LRS_EMPTY;
    }
    if (lrs == NULL || bound == NULL) {
        return UBA_E_NULL;
    }
    uba_ticker ticker = ticker_start(progress, 5.0 * (double)n);
    double largest;
    s = scan_steps(lrs, n, UBA_STEP_LIMIT_STRONGLY_CONVEX / L, &largest,
                   bad_index, &ticker);
    if (s != UBA_OK) {
        return s;
    }
    const sc_noise z = sc_noise_of(L, sigma2);
    sc_sum e = sc_sum_from(f_gap);
    for (size_t t0 = 0; t0 < n; t0 += SCAN_CHUNK) {
        const size_t t1 = n - t0 < SCAN_CHUNK ? n : t0 + SCAN_CHUNK;
        if (ticker_add(&ticker, 4.0 * (double)(t1 - t0))) {
            return UBA_E_INTERRUPTED;
        }
        for (size_t t = t0; t < t1; t++) {
            sc_sum_step(&e, lrs[t], mu, &z);
        }
    }
    *bound = sc_sum_value(&e);
    return UBA_OK;
}
