/*
 * theory.c -- docs/theory.md sections 1-4: Chebyshev steps and the phi = 2*kappa
 * identity, the worst-case residual of any step sequence, the convergence
 * bounds (a)-(c), the noisy quadratic, and the phi minimisers.  See uba.h
 * for the contracts.
 *
 * Provenance: the paper (Tang et al., arXiv:2505.24452) gives the schedule
 * only.  Section 2 is derived in this project; the bounds of section 3 are
 * standard SGD results instantiated for an arbitrary step sequence; the
 * numerical methods here are this project's.
 *
 * No allocation, no globals: scratch space is a caller-owned workspace
 * whose size the *_work_size functions give.  Long loops poll the caller's
 * uba_progress hook (progress.h) and stop with UBA_E_INTERRUPTED when asked.
 */
#include "uba.h"
#include "numerics.h"
#include "progress.h"
#include "shape.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The error-free transformations below (TwoSum, the compensated Horner
 * scheme) need every a * b + c rounded as written: shape.h turns off the
 * contraction into fused multiply-adds for Clang, and GCC in ISO C mode
 * (and the Python build) does not contract.  The helpers this file shares
 * with expected_loss.c (checks, powers of two, the compensated sum, Brent's
 * minimiser, the target clones) live in numerics.h. */

/* ---- argument checks -------------------------------------------------- */

static uba_status
check_range(double lam_min, double lam_max)
{
    if (!(isfinite(lam_min) && lam_min > 0.0)) {
        return UBA_E_LAM_MIN;
    }
    if (!(isfinite(lam_max) && lam_max >= lam_min)) {
        return UBA_E_LAM_MAX;
    }
    /* 1/lam_min (the Chebyshev and UBA peak) and phi = 2 kappa must be
     * doubles; this also keeps lam_min/lam_max >= 2^-1023, so the scaled
     * problems below never underflow their interval. */
    if (!isfinite(1.0 / lam_min) || !isfinite(2.0 * (lam_max / lam_min))) {
        return UBA_E_CURVATURE;
    }
    return UBA_OK;
}

/* ---- section 2: Chebyshev steps and phi = 2 kappa ----------------------- */

/*
 * With a = pi (2k-1) / (4T) (so 2a is the Chebyshev angle), c = cos a and
 * s = sin a, the identities 1 = c^2 + s^2 and cos 2a = c^2 - s^2 turn the
 * denominator of the Chebyshev step into
 *
 *     lam_max + lam_min - (lam_max - lam_min) cos 2a
 *         = 2 (lam_min c^2 + lam_max s^2),
 *
 * so eta_k = 1 / (lam_min c^2 + lam_max s^2).  UBA at t = k - 1/2 has the
 * same angle a = pi t / (2T), and with eta_max = 1/lam_min,
 * eta_min = 1/lam_max, phi/2 = kappa:
 *
 *     eta_min + (eta_max - eta_min) c^2 / (c^2 + kappa s^2)
 *         = (eta_max c^2 + eta_min kappa s^2) / (c^2 + kappa s^2)
 *         = (c^2 + s^2) / (lam_min (c^2 + kappa s^2))
 *         = 1 / (lam_min c^2 + lam_max s^2),
 *
 * which is the identity of docs/theory.md section 1 (derived here, exact).
 *
 * So the steps are computed *as* that UBA schedule, by schedule.c: a few
 * ulp from the exact values, and with its guarantees, bit for bit: the
 * sequence never rises (g is non-increasing and the blend monotone), and
 * lam_min == lam_max gives T copies of 1/lam_min exactly.  (Evaluated as
 * 1 / (lam_min c^2 + lam_max s^2), c^2 + s^2 differs from 1 by an ulp
 * here and there, and the steps wiggled by as much.)  The range is first
 * scaled by a power of two (exact) into the middle of double range, so
 * that a subnormal 1/lam_max keeps its bits until the final scaling.
 */
#define CHEB_CHUNK 4096

uba_status
uba_chebyshev_steps(size_t T, double lam_min, double lam_max, double *out,
                    const uba_progress *progress)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    const uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (out == NULL) {
        return UBA_E_NULL;
    }
    const int sc = lam_max > 0x1p1000 ? -2 : (lam_max < 0x1p-960 ? 64 : 0);
    const double lo = ldexp(lam_min, sc), hi = ldexp(lam_max, sc);
    uba_params p;
    (void)uba_params_init(&p, (double)T, 2.0 * (hi / lo), 1.0 / lo, 1.0 / hi,
                          0.0, 0.0);
    uba_ticker ticker = ticker_start(progress, (double)T);
    for (size_t k0 = 0; k0 < T; k0 += CHEB_CHUNK) {
        const size_t m = T - k0 < CHEB_CHUNK ? T - k0 : CHEB_CHUNK;
        if (ticker_add(&ticker, (double)m)) {
            return UBA_E_INTERRUPTED;
        }
        double *o = out + k0;
        for (size_t j = 0; j < m; j++) {
            o[j] = (double)(k0 + j) + 0.5;  /* t = k - 1/2, k = k0 + j + 1 */
        }
        (void)uba_eta_fill(&p, o, m, o, NULL, NULL);
        for (size_t j = 0; sc != 0 && j < m; j++) {
            o[j] = ldexp(o[j], sc);
        }
    }
    return UBA_OK;
}
/*
 * 1/T_T(x), x = (kappa+1)/(kappa-1) > 1, is 1/cosh(T theta) with
 * theta = acosh x.  With d = x - 1 = 2 lam_min/(lam_max - lam_min) (formed
 * without the cancellation of x - 1), theta = log1p(d + sqrt(d (2 + d))),
 * and log(1/cosh(T theta)) = log 2 - T theta - log1p(exp(-2 T theta)):
 * accurate for kappa near 1 and for huge T theta alike (no overflow).
 */
uba_status
uba_chebyshev_log_residual(size_t T, double lam_min, double lam_max,
                           double *log_residual)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    const uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (log_residual == NULL) {
        return UBA_E_NULL;
    }
    if (lam_max == lam_min) {
        *log_residual = -HUGE_VAL;
        return UBA_OK;
    }
    /* 2 * (ratio), not (2 lam_min) / diff: 2 lam_min overflows for lam_min
     * above DBL_MAX / 2 (then theta = inf and a -inf residual); the ratio
     * is below 2^53, as lam_max - lam_min is at least one ulp of lam_min. */
    const double d = 2.0 * (lam_min / (lam_max - lam_min));
    const double theta = log1p(d + sqrt(d * (2.0 + d)));
    const double Ttheta = (double)T * theta;
    *log_residual = LN2 - Ttheta - log1p(exp(-2.0 * Ttheta));
    return UBA_OK;
}

uba_status
uba_phi_from_kappa(double kappa, double *phi)
{
    if (!(isfinite(kappa) && kappa >= 1.0 && isfinite(2.0 * kappa))) {
        return UBA_E_KAPPA;
    }
    if (phi == NULL) {
        return UBA_E_NULL;
    }
    *phi = 2.0 * kappa;
    return UBA_OK;
}

uba_status
uba_kappa_from_phi(double phi, double *kappa)
{
    if (!(isfinite(phi) && phi >= 2.0)) {
        return UBA_E_PHI_KAPPA;
    }
    if (kappa == NULL) {
        return UBA_E_NULL;
    }
    *kappa = 0.5 * phi;
    return UBA_OK;
}

uba_status
uba_curvature_params(double lam_min, double lam_max, double *eta_max,
                     double *eta_min, double *phi)
{
    const uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (eta_max == NULL || eta_min == NULL || phi == NULL) {
        return UBA_E_NULL;
    }
    *eta_max = 1.0 / lam_min;
    *eta_min = 1.0 / lam_max;
    *phi = 2.0 * (lam_max / lam_min);
    return UBA_OK;
}

/* ---- section 3: bounds for any step sequence ------------------------------ */

/* s + err = x + y exactly (Knuth's TwoSum). */
static double
two_sum(double x, double y, double *err)
{
    const double s = x + y;
    const double bv = s - x;
    *err = (x - (s - bv)) + (y - bv);
    return s;
}

/* The loops over lrs below poll the progress hook once per chunk. */
#define SCAN_CHUNK 65536

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
    const uba_status s = averaged_bound_sums(lrs, n, L, sigma2, f_gap,
                                             UBA_E_F_GAP, 1.0, bound, &r,
                                             bad_index, progress);
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
    const uba_status s = averaged_bound_sums(lrs, n, L, sigma2, dist2,
                                             UBA_E_DIST2, 0.5, bound, &r,
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
 * exponents of its factors.
 */
typedef struct sc_sum {
    double hi, lo;  /* the value is (hi + lo) 2^E, hi >= 0 */
    double E;
    double S;       /* 2^-E while |E| <= 200, else 0 */
} sc_sum;

/* The factor K = L sigma2 / 2 of the noise steps, as km 2^ke. */
typedef struct sc_noise {
    double km;
    int ke;
    double K;    /* km 2^ke as a double when in [2^-200, 2^200], else 0 */
} sc_noise;

static sc_noise
sc_noise_of(double L, double sigma2)
{
    sc_noise z = {0.0, 0, 0.0};
    if (sigma2 > 0.0) {
        int es, el, em;
        const double m = frexp(frexp(sigma2, &es) * frexp(L, &el), &em);
        z.km = m;
        z.ke = es + el + em - 1;
        if (z.ke > -200 && z.ke < 200) {
            z.K = ldexp(m, z.ke);
        }
    }
    return z;
}

static void
sc_sum_rescale(sc_sum *x, int k)
{
    x->hi = ldexp(x->hi, -k);
    x->lo = ldexp(x->lo, -k);
    x->E += (double)k;
    x->S = fabs(x->E) <= 200.0 ? ldexp(1.0, -(int)x->E) : 0.0;
}

static void
sc_sum_norm(sc_sum *x)
{
    if (x->hi > 0x1p300 || (x->hi < 0x1p-300 && x->hi > 0.0)) {
        int k;
        (void)frexp(x->hi, &k);
        sc_sum_rescale(x, k);
    }
}

/* k_t 2^-E for the step eta (rescaling x first if k_t is far above it),
 * or 0 when it is below 2^-1100 (then below the rounding of hi, which is
 * >= 2^-300). */
static double
sc_noise_term(sc_sum *x, const sc_noise *z, double eta)
{
    if (z->km == 0.0 || eta == 0.0) {
        return 0.0;
    }
    if (z->K > 0.0 && x->S > 0.0 && eta > 0x1p-150 && eta < 0x1p150) {
        return (z->K * eta) * eta * x->S;
    }
    int ee;
    const double me = frexp(eta, &ee);
    const double d = (double)z->ke + 2.0 * (double)ee - x->E;
    if (d > 500.0 || x->hi == 0.0) {
        sc_sum_rescale(x, (int)d);
        return z->km * (me * me);
    }
    return d < -1100.0 ? 0.0 : ldexp(z->km * (me * me), (int)d);
}

/* One compensated step x = (1 - mu eta) x + k. */
static void
sc_sum_step(sc_sum *x, double eta, double mu, const sc_noise *z)
{
    /* 1 - mu eta = a_hi + a_lo: mu eta = p + pe exactly (fma), then
     * 1 - p = a_hi + se exactly (TwoSum); a_lo = se - pe. */
    const double p = mu * eta;
    const double pe = fma(mu, eta, -p);
    const double a_hi = 1.0 - p;
    const double bb = a_hi - 1.0;
    const double se = (1.0 - (a_hi - bb)) + (-p - bb);
    const double a_lo = se - pe;
    const double k = sc_noise_term(x, z, eta);
    const double prod = x->hi * a_hi;
    const double perr = fma(x->hi, a_hi, -prod);
    const double sum = prod + k;
    const double bv = sum - prod;
    const double serr = (prod - (sum - bv)) + (k - bv);
    /* the pair renormalised (TwoSum), so that hi holds the value and lo
     * only its rounding error: where 1 - mu eta rounds to 0, the value
     * would otherwise sit in lo alone */
    x->hi = two_sum(sum, x->lo * a_hi + (perr + serr + x->hi * a_lo),
                    &x->lo);
    sc_sum_norm(x);
}

static double
sc_sum_value(const sc_sum *x)
{
    const double v = x->hi + x->lo;
    return v > 0.0 ? ldexp(v, (int)fmax(fmin(x->E, 4000.0), -4000.0)) : 0.0;
}

static double
sc_sum_log(const sc_sum *x)
{
    const double v = x->hi + x->lo;
    return v > 0.0 ? log(v) + x->E * LN2 : -HUGE_VAL;
}

static sc_sum
sc_sum_from(double x)
{
    sc_sum r = {x, 0.0, 0.0, 1.0};
    sc_sum_norm(&r);
    return r;
}

static uba_status
check_strongly_convex(double mu, double L, double sigma2, double f_gap)
{
    if (!(isfinite(L) && L > 0.0)) {
        return UBA_E_L;
    }
    if (!(isfinite(mu) && mu > 0.0 && mu <= L)) {
        return UBA_E_MU;
    }
    if (!is_nonnegative(sigma2)) {
        return UBA_E_SIGMA2;
    }
    if (!is_nonnegative(f_gap)) {
        return UBA_E_F_GAP;
    }
    return UBA_OK;
}

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
    s = scan_steps(lrs, n, 1.0 / L, &largest, bad_index, &ticker);
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
/* ---- sorting without allocation ----------------------------------------- */

static void
sift_down(double *a, size_t root, size_t end)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= end) {
            return;
        }
        if (child + 1 < end && a[child] < a[child + 1]) {
            child++;
        }
        if (!(a[root] < a[child])) {
            return;
        }
        const double tmp = a[root];
        a[root] = a[child];
        a[child] = tmp;
        root = child;
    }
}

/*
 * Ascending sort of finite doubles in place: O(n) for input that is
 * already ascending or descending (schedules usually are), else heapsort,
 * O(n log n).  Returns nonzero when the progress hook asked to stop.
 */
static int
sort_ascending(double *a, size_t n, uba_ticker *ticker)
{
    size_t up = 0, down = 0;
    for (size_t i = 1; i < n; i++) {
        up += a[i] < a[i - 1];
        down += a[i] > a[i - 1];
        if ((i & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return 1;
        }
    }
    if (up == 0) {
        return ticker_add(ticker, (double)n);
    }
    if (down == 0) {
        for (size_t i = 0, j = n - 1; i < j; i++, j--) {
            const double tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
        return ticker_add(ticker, (double)n);
    }
    for (size_t start = n / 2; start-- > 0;) {
        sift_down(a, start, n);
    }
    for (size_t end = n - 1; end > 0; end--) {
        const double tmp = a[0];
        a[0] = a[end];
        a[end] = tmp;
        sift_down(a, 0, end);
        if ((end & 4095) == 0 && ticker_add(ticker, 4096.0 * 16.0)) {
            return 1;
        }
    }
    return 0;
}

/* ---- the curvature interval as an offset from lam_min --------------------- */

/*
 * Both worst cases search lam in [a, b] = [lam_min, lam_max] through the
 * offset y = (lam - a) / 2^j, with 2^j the power of two that puts
 * y_b = (b - a) / 2^j in [1, 2), and evaluate each factor at the point
 * lam = a + y 2^j held exactly, as a pair of doubles (hi + lo, by TwoSum):
 *
 *     1 - eta lam = fma(-eta, lo, fma(-eta, hi, 1)),
 *
 * with a relative error of about 2 ulp even next to the factor's root.  A
 * search in lam itself resolves points to an ulp of lam: for a narrow
 * interval (kappa = 1 + 1e-9) the lobes of |p| between neighbouring roots
 * near the ends are a few ulp wide, their maxima fall between doubles, and
 * such a search came out percent low.  In y the resolution is an ulp of
 * the width.  (Offsetting the factors instead, c - e y with c = 1 - eta a
 * rounded, resolves y as well but spends that rounding of c on every
 * factor, 1e-7 relative next to a root at the far end.)  y_b is rounded
 * down when b - a is inexact, so that every y maps into [a, b]; lam_max
 * itself is then evaluated on its own.
 */
typedef struct yspace {
    double a;      /* lam_min                    */
    double scale;  /* 2^j                        */
    double yb;     /* the end of the interval, y */
} yspace;

static yspace
yspace_of(double a, double b)
{
    yspace ys = {a, 1.0, 0.0};
    if (!(b > a)) {
        return ys;
    }
    double err;
    double w = two_sum(b, -a, &err);
    if (err < 0.0) {
        w = nextafter(w, 0.0);  /* w was above b - a */
    }
    int e;
    (void)frexp(w, &e);
    ys.scale = ldexp(1.0, e - 1);
    ys.yb = ldexp(w, 1 - e);
    return ys;
}

/* lam = a + y 2^j as hi + lo, exactly. */
static double
yspace_point(const yspace *ys, double y, double *lo)
{
    return two_sum(ys->a, y * ys->scale, lo);
}

/* The offset of lam = r_hi + r_lo, rounded to a double. */
static double
yspace_offset(const yspace *ys, double r_hi, double r_lo)
{
    double err;
    const double d = two_sum(r_hi, -ys->a, &err);
    return (d + (err + r_lo)) / ys->scale;
}

/* The root 1/eta as hi + lo (lo to about an ulp of the error of hi). */
static double
root_of(double eta, double *lo)
{
    const double r = 1.0 / eta;
    *lo = fma(-eta, r, 1.0) / eta;
    return r;
}

/* ---- section 3 (d): the worst-case residual -------------------------------- */

/*
 * Problem: R = max over lam in [a, b] of |p(lam)|, p = prod_t (1 - eta_t
 * lam).  We work with f = log|p| = sum_t log|1 - eta_t lam|, searched in
 * the offset y of yspace and evaluated at the exact point lam(y).
 *
 * Structure.  Each term is concave in lam away from its root 1/eta_t
 * (second derivative -eta^2/(1 - eta lam)^2 <= 0), so f is concave on
 * every interval that contains no root.  Cutting [a, b] at the roots that
 * lie inside it gives at most n + 1 brackets, each with exactly one
 * maximum of f (at an end a or b, or where f' = 0): this set of brackets
 * is complete, so the maximum over the brackets is the true maximum, not a
 * grid estimate.
 *
 * Per bracket: safeguarded Newton on f' (monotone, falling from +inf to
 * -inf between two roots) from the midpoint, bisecting when Newton leaves
 * the bracket.  Concavity gives a certificate at every iterate y: the
 * maximum over the bracket is at most f(y) + f'(y) (e - y), e the bracket
 * end on the uphill side.  A bracket stops as soon as that upper bound is
 * within TOL of the best value found anywhere (then it cannot raise the
 * answer by more than TOL), or when Newton's step falls to rounding level
 * in y (y is the maximiser to the last bit).  Brackets far below the best
 * are thus dismissed after one evaluation; in the equioscillating
 * Chebyshev case every bracket is refined, in about four evaluations.
 *
 * Evaluation in O(log n), not O(n).  n brackets times an O(n) sum would be
 * O(n^2) (1e10 logs at n = 1e5), so f, f' and f'' come from a treecode:
 * f(x) = sum_t log|v - eta_t| + n log x with v = 1/x is a logarithmic
 * potential of the points eta_t on a line.  The sorted eta_t form a binary
 * tree; a node with centre c, half-width h and B points is, seen from x
 * with z = h x / u, u = 1 - c x, |z| <= 1/3, replaced by the exact series
 * (1 - eta x = u (1 - d w), d = eta - c, w = x/u, nu_k = sum (d/h)^k):
 *
 *     sum log|1 - eta x|    = B log|u| - sum_{k>=1} nu_k z^k / k
 *     sum -eta/(1 - eta x)  = -(r A0 + s A1)
 *     sum -eta^2/(1-eta x)^2 = -(r^2 B0 + 2 r s B1 + s^2 B2)
 *
 * with r = c/u, s = h/u, A_i = sum_j nu_{j+i} z^j and B_i = sum_j (j+1)
 * nu_{j+i} z^j, truncated at order 40 (error below 3^-40 per point);
 * nearer nodes are opened, and leaves (<= 32 points) are summed directly.
 * u and every leaf's 1 - eta x are formed from x = hi + lo by two fmas.
 *
 * Scale.  The problem is invariant under x -> x/2^k, eta -> eta 2^k; with
 * 2^k the power of two below b, x lies in [a/2^k, 2) and |eta| <= 1e100
 * (UBA_MAX_ETA_LAM), so every factor, ratio and derivative stays finite.
 * The log is never exponentiated here: a residual of e^-65000 (Chebyshev,
 * T = 1e5, kappa = 10) comes back as its log.
 */
#define WC_LEAF 32
#define WC_ORDER 40
#define WC_NMOM (WC_ORDER + 3)     /* nu_0 .. nu_{ORDER+2}                 */
#define WC_HEAD 2                  /* c, h                                 */
#define WC_NODE (WC_HEAD + WC_NMOM + WC_ORDER) /* + nu_k / k, k=1..ORDER */
#define WC_STACK 160
#define WC_MAX_IT 100
#define WC_TOL_ABS 1e-13
#define WC_TOL_REL 1e-15
#define WC_ROOT_AT_ZERO 0x1p332    /* |u| beyond this: a root at y = 0 */

static size_t
wc_depth(size_t n)
{
    size_t d = 0;
    for (size_t size = n; size > WC_LEAF; size -= size / 2) {
        d++;
    }
    return d;
}

static size_t
wc_nodes(size_t n)
{
    return ((size_t)2 << wc_depth(n)) - 1;
}

/* Progress units (about a nanosecond each) of one tree evaluation: a
 * series per level of the tree, and a few leaves. */
static double
wc_eval_units(size_t n)
{
    return 2000.0 * (double)(wc_depth(n) + 2);
}

/* The noisy search's workspace: NV_ARRAYS arrays of n, and room for its
 * points (see nv_layout). */
#define NV_POINTS 4096
#define NV_FIXED (6 * NV_POINTS)
#define NV_ARRAYS 4

size_t
uba_worst_case_work_size(size_t n)
{
    const size_t nodes = wc_nodes(n);
    if (n > SIZE_MAX / 8 || nodes > (SIZE_MAX - 4 * n) / WC_NODE) {
        return SIZE_MAX;
    }
    const size_t tree = n + nodes * WC_NODE;
    const size_t noisy = NV_ARRAYS * n + NV_FIXED;
    return tree > noisy ? tree : noisy;
}

typedef struct wc_tree {
    const double *eta;  /* sorted ascending, scaled */
    double *nodes;      /* heap-ordered: node i has children 2i+1, 2i+2 */
    size_t n;
} wc_tree;

/* Centre, half-width and moments of eta[lo..hi), then the children. */
static void
wc_build(wc_tree *tr, size_t i, size_t lo, size_t hi, uba_ticker *ticker)
{
    double *node = tr->nodes + i * WC_NODE;
    double *nu = node + WC_HEAD;
    double *g = nu + WC_NMOM;
    const double *eta = tr->eta;
    const double c = 0.5 * eta[lo] + 0.5 * eta[hi - 1];
    const double h = 0.5 * eta[hi - 1] - 0.5 * eta[lo];
    node[0] = c;
    node[1] = h;
    for (int k = 0; k < WC_NMOM; k++) {
        nu[k] = 0.0;
    }
    nu[0] = (double)(hi - lo);
    if (h > 0.0) {
        for (size_t t = lo; t < hi && !ticker->stopped; t++) {
            const double q = (eta[t] - c) / h;
            double p = q;
            for (int k = 1; k < WC_NMOM; k++) {
                nu[k] += p;
                p *= q;
            }
            if (((t - lo) & 4095) == 4095) {
                (void)ticker_add(ticker, 4096.0 * WC_NMOM);
            }
        }
    }
    for (int k = 1; k <= WC_ORDER; k++) {
        g[k - 1] = nu[k] / (double)k;
    }
    (void)ticker_add(ticker, (double)((hi - lo) & 4095) * WC_NMOM);
    if (hi - lo > WC_LEAF && !ticker->stopped) {
        const size_t mid = lo + (hi - lo) / 2;
        wc_build(tr, 2 * i + 1, lo, mid, ticker);
        wc_build(tr, 2 * i + 2, mid, hi, ticker);
    }
}

typedef struct wc_val {
    double f;   /* log|p|                */
    double f1;  /* its first derivative  */
    double f2;  /* its second, < 0       */
    int root;   /* x is an exact root: f = -inf, f1, f2 meaningless */
} wc_val;

static void
wc_far(const double *node, double x, double u, wc_val *v)
{
    const double c = node[0], h = node[1];
    const double *nu = node + WC_HEAD;
    const double *g = nu + WC_NMOM;
    const double B = nu[0];
    const double r = c / u;
    const double lu = log(fabs(u));
    if (h == 0.0) {
        v->f += B * lu;
        v->f1 -= B * r;
        v->f2 -= B * (r * r);
        return;
    }
    const double s = h / u;
    const double z = s * x;
    double A0 = 0.0, A1 = 0.0, B0 = 0.0, B1 = 0.0, B2 = 0.0, G = 0.0;
    for (int j = WC_ORDER; j >= 0; j--) {
        const double jj = (double)(j + 1);
        A0 = A0 * z + nu[j];
        A1 = A1 * z + nu[j + 1];
        B0 = B0 * z + jj * nu[j];
        B1 = B1 * z + jj * nu[j + 1];
        B2 = B2 * z + jj * nu[j + 2];
    }
    for (int k = WC_ORDER; k >= 1; k--) {
        G = G * z + g[k - 1];
    }
    v->f += B * lu - z * G;
    v->f1 -= r * A0 + s * A1;
    v->f2 -= r * r * B0 + 2.0 * r * s * B1 + s * s * B2;
}

/* log|p|, d/dx and d^2/dx^2 at x = xh + xl (scaled), by the treecode. */
static wc_val
wc_tree_eval(const wc_tree *tr, double xh, double xl)
{
    wc_val v = {0.0, 0.0, 0.0, 0};
    struct {
        size_t i, lo, hi;
    } stack[WC_STACK];
    size_t sp = 0;
    stack[sp].i = 0;
    stack[sp].lo = 0;
    stack[sp].hi = tr->n;
    sp++;
    while (sp > 0) {
        sp--;
        const size_t i = stack[sp].i, lo = stack[sp].lo, hi = stack[sp].hi;
        const double *node = tr->nodes + i * WC_NODE;
        const double u = fma(-node[0], xl, fma(-node[0], xh, 1.0));
        const double au = fabs(u);
        if (au > 0.0 && 3.0 * node[1] * xh <= au) {
            wc_far(node, xh, u, &v);
            continue;
        }
        if (hi - lo <= WC_LEAF) {
            for (size_t t = lo; t < hi; t++) {
                const double e = tr->eta[t];
                const double ut = fma(-e, xl, fma(-e, xh, 1.0));
                if (ut == 0.0) {
                    v.root = 1;
                    continue;
                }
                const double r = e / ut;
                v.f += log(fabs(ut));
                v.f1 -= r;
                v.f2 -= r * r;
            }
            continue;
        }
        const size_t mid = lo + (hi - lo) / 2;
        stack[sp].i = 2 * i + 2;
        stack[sp].lo = mid;
        stack[sp].hi = hi;
        sp++;
        stack[sp].i = 2 * i + 1;
        stack[sp].lo = lo;
        stack[sp].hi = mid;
        sp++;
    }
    if (v.root) {
        v.f = -HUGE_VAL;
    }
    return v;
}

typedef struct wc_problem {
    wc_tree tree;
    yspace ys;
    double shrink;  /* 2^-k: x = lam 2^-k */
    double dy;      /* d x / d y = 2^j 2^-k */
} wc_problem;

/* f and its derivatives in y at the offset y. */
static wc_val
wc_eval(const wc_problem *pr, double y)
{
    double lo;
    const double hi = yspace_point(&pr->ys, y, &lo);
    wc_val v = wc_tree_eval(&pr->tree, hi * pr->shrink, lo * pr->shrink);
    v.f1 *= pr->dy;
    v.f2 *= pr->dy * pr->dy;
    return v;
}

/* The power of two 2^k with b / 2^k in [1, 2). */
static int
scale_exponent(double b)
{
    int e;
    (void)frexp(b, &e);
    return e - 1;
}

/*
 * Builds the problem for validated steps: the scaled steps into work,
 * sorted, and the tree after them.  Returns nonzero when interrupted.
 */
static int
wc_setup(const double *lrs, size_t n, double a, double b, double *work,
         wc_problem *pr, uba_ticker *ticker)
{
    pr->ys = yspace_of(a, b);
    const int k = scale_exponent(b);
    pr->shrink = ldexp(1.0, -k);
    pr->dy = pr->ys.scale * pr->shrink;
    double *eta = work;
    const double grow = ldexp(1.0, k);  /* k is in [-1074, 1023]: a double */
    for (size_t t = 0; t < n; t++) {
        eta[t] = lrs[t] * grow;
        if ((t & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return 1;
        }
    }
    if (sort_ascending(eta, n, ticker)) {
        return 1;
    }
    pr->tree.eta = eta;
    pr->tree.nodes = work + n;
    pr->tree.n = n;
    wc_build(&pr->tree, 0, 0, n, ticker);
    return ticker->stopped;
}

typedef struct wc_search {
    const wc_problem *pr;
    double best;    /* largest f found so far */
    double best_y;
    uba_ticker *ticker;
    double eval_units;
} wc_search;

static void
wc_take(wc_search *st, double f, double y)
{
    if (f > st->best) {
        st->best = f;
        st->best_y = y;
    }
}

/*
 * The maximum of f on [lo, hi]; at_lo / at_hi are the values at an end
 * that is 0 or y_b (NULL at a root, where f = -inf).  See the comment
 * above.
 */
static void
wc_bracket(wc_search *st, double lo, double hi, const wc_val *at_lo,
           const wc_val *at_hi)
{
    if (!(lo < hi)) {
        return;
    }
    if (at_lo != NULL && at_lo->f1 <= 0.0) {
        return;  /* concave and falling from lo: the maximum is f(lo) */
    }
    if (at_hi != NULL && at_hi->f1 >= 0.0) {
        return;
    }
    double y = lo + 0.5 * (hi - lo);
    for (int it = 0; it < WC_MAX_IT; it++) {
        if (ticker_add(st->ticker, st->eval_units)) {
            return;
        }
        const wc_val v = wc_eval(st->pr, y);
        if (v.root) {
            /* y is (to the last bit) one of the bracket's end roots */
            if (y - lo < hi - y) {
                lo = y;
            }
            else {
                hi = y;
            }
            y = lo + 0.5 * (hi - lo);
            if (!(lo < y && y < hi)) {
                return;
            }
            continue;
        }
        wc_take(st, v.f, y);
        double upper;
        if (v.f1 > 0.0) {
            lo = y;
            upper = v.f + v.f1 * (hi - y);
        }
        else if (v.f1 < 0.0) {
            hi = y;
            upper = v.f + v.f1 * (lo - y);
        }
        else {
            return;  /* f'(y) = 0: y is the maximiser */
        }
        if (upper <= st->best + WC_TOL_ABS + WC_TOL_REL * fabs(st->best)) {
            return;
        }
        double next = y - v.f1 / v.f2;
        if (!(next > lo && next < hi)) {
            next = lo + 0.5 * (hi - lo);
        }
        if (fabs(next - y) <= 4.0 * DBL_EPSILON * y) {
            return;
        }
        y = next;
    }
}

/* log|p(lam)| summed directly (an end of the interval). */
static double
wc_direct(const double *lrs, size_t n, double lam)
{
    ksum s = {0.0, 0.0};
    for (size_t t = 0; t < n; t++) {
        const double f = fma(-lrs[t], lam, 1.0);
        if (f == 0.0) {
            return -HUGE_VAL;
        }
        ksum_add(&s, log(fabs(f)));
    }
    return s.s + s.c;
}

/*
 * The worst-case residual for validated input: builds the problem in
 * work and searches every bracket.  Returns nonzero when interrupted (the
 * outputs are then not written).
 */
static int
wc_run(const double *lrs, size_t n, double a, double b, double *work,
       double *log_out, double *lam_out, uba_ticker *ticker)
{
    if (!(b > a)) {
        *log_out = wc_direct(lrs, n, a);
        *lam_out = a;
        return ticker_add(ticker, (double)n);
    }
    wc_problem pr;
    if (wc_setup(lrs, n, a, b, work, &pr, ticker)) {
        return 1;
    }
    const double yb = pr.ys.yb;
    const wc_val va = wc_eval(&pr, 0.0);
    const wc_val vb = wc_eval(&pr, yb);
    wc_search st = {&pr, -HUGE_VAL, 0.0, ticker, wc_eval_units(n)};
    wc_take(&st, va.f, 0.0);
    wc_take(&st, vb.f, yb);
    double prev = 0.0;
    const wc_val *prev_val = va.root ? NULL : &va;
    const double *eta = pr.tree.eta;
    for (size_t i = n; i-- > 0;) {
        if (!(eta[i] > 0.0)) {
            break;
        }
        /* the root 1/eta (ascending as i falls), as an offset */
        double rl;
        const double rh = root_of(eta[i] * pr.shrink, &rl);
        const double rho = yspace_offset(&pr.ys, rh, rl);
        if (rho <= prev) {
            continue;
        }
        if (rho >= yb) {
            break;
        }
        wc_bracket(&st, prev, rho, prev_val, NULL);
        prev = rho;
        prev_val = NULL;
    }
    wc_bracket(&st, prev, yb, prev_val, vb.root ? NULL : &vb);
    if (ticker->stopped) {
        return 1;
    }
    double lam_lo;
    double lam = yspace_point(&pr.ys, st.best_y, &lam_lo);
    /* lam_max itself, summed directly: y_b stands for it only when
     * lam_max - lam_min is exact */
    double yb_lo;
    if (yspace_point(&pr.ys, yb, &yb_lo) != b || yb_lo != 0.0) {
        const double fb = wc_direct(lrs, n, b);
        if (fb > st.best) {
            st.best = fb;
            lam = b;
        }
    }
    *log_out = st.best;
    *lam_out = fmin(b, fmax(a, lam));
    return 0;
}

/* Checks lrs for the residual functions: finite, |lrs[i]| lam_max <= cap. */
static uba_status
check_residual_steps(const double *lrs, size_t n, double lam_max,
                     size_t *bad_index)
{
    for (size_t i = 0; i < n; i++) {
        uba_status s = UBA_OK;
        if (!isfinite(lrs[i])) {
            s = UBA_E_LRS;
        }
        else if (!(fabs(lrs[i]) * lam_max <= UBA_MAX_ETA_LAM)) {
            s = UBA_E_LRS_RANGE;
        }
        if (s != UBA_OK) {
            if (bad_index != NULL) {
                *bad_index = i;
            }
            return s;
        }
    }
    return UBA_OK;
}

/* The checks both worst cases share, in their order of report. */
static uba_status
check_worst_case(const double *lrs, size_t n, double lam_min, double lam_max,
                 double sigma2, const double *work, size_t work_len,
                 const double *out, size_t *bad_index)
{
    uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (!is_nonnegative(sigma2)) {
        return UBA_E_SIGMA2;
    }
    if (n == 0) {
        return UBA_E_LRS_EMPTY;
    }
    if (lrs == NULL || work == NULL || out == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_worst_case_work_size(n)) {
        return UBA_E_WORKSPACE;
    }
    return check_residual_steps(lrs, n, lam_max, bad_index);
}

/* Progress units a search over n steps is expected to take. */
static double
wc_expected_units(size_t n)
{
    return (double)n * (WC_NMOM + 16.0) + 4.0 * wc_eval_units(n) * (double)n;
}

uba_status
uba_worst_case_residual(const double *lrs, size_t n, double lam_min,
                        double lam_max, double *work, size_t work_len,
                        double *log_residual, double *lam_at,
                        size_t *bad_index, const uba_progress *progress)
{
    const uba_status s = check_worst_case(lrs, n, lam_min, lam_max, 0.0,
                                          work, work_len, log_residual,
                                          bad_index);
    if (s != UBA_OK) {
        return s;
    }
    uba_ticker ticker = ticker_start(progress, wc_expected_units(n));
    double lg, lam;
    if (wc_run(lrs, n, lam_min, lam_max, work, &lg, &lam, &ticker)) {
        return UBA_E_INTERRUPTED;
    }
    *log_residual = lg;
    if (lam_at != NULL) {
        *lam_at = lam;
    }
    return UBA_OK;
}
/* ---- section 4: the noisy quadratic ---------------------------------------- */

/*
 * One eigen-direction lam of a quadratic, SGD with additive noise of
 * variance sigma2: x_{t+1} = (1 - eta_t lam) x_t + eta_t xi_t, so
 *
 *     V_{t+1}(lam) = (1 - eta_t lam)^2 V_t(lam) + sigma2 eta_t^2,  V_0 = 1,
 *
 * and V_n = prod (1 - eta lam)^2 + sigma2 sum_t eta_t^2 prod_{s>t}
 * (1 - eta_s lam)^2, the E x_T^2 of docs/theory.md section 4: a degree-2n polynomial
 * with no real roots (sigma2 > 0), a sum of n + 1 terms each of which is
 * log-concave between consecutive roots of p = prod (1 - eta lam) (the
 * "lobes"), but which itself need not be.  Certifying its maximum costs
 * O(n) evaluations of O(n) each in the worst case (near-equal lobes), so
 * this is a search, not a certificate; docs/theory.md gives its measured
 * accuracy.  It is exact for sigma2 = 0, which goes to the residual.
 *
 * Evaluation.  V is evaluated at many points ("lanes") in one pass over
 * the steps, 32 lanes at a time, so that the loop over lanes vectorizes:
 * each lane is an offset y of yspace, its point lam = hi + lo held exactly,
 * f_t = 1 - eta_t lam by two fmas and v = f_t^2 v + k_t S (k_t = sigma2
 * eta_t^2, S = 2^-E the lane's scale).  The steps run in blocks at most 64
 * long whose factors can grow a lane by at most 2^grow <= 2^480 (from the
 * largest |f_t| on [lam_min, lam_max]); after each block a lane whose v
 * left [2^-100, 2^100] is rescaled by a power of two, and one whose v left
 * [2^(grow - 1000), 2^1000] (below that, bits lost to a subnormal on the
 * way could matter) or whose scale S cannot follow (nv_lane_scale) is
 * redone for that block in exact scaled arithmetic (m 2^E at every step).
 * So no lane overflows, underflows or loses bits to a subnormal, whatever
 * the steps, and the common case runs at a fraction of a nanosecond per
 * lane and step.  The derivatives of V are carried the same way where
 * Newton needs them.
 *
 * Search.  (1) Screen: V at both ends, at the midpoint of every lobe when
 * lobes times steps is at most 2^23 (else of NV_SCREEN lobes evenly spaced
 * in index, the two end lobes included), at NV_UNIFORM evenly spaced
 * points, and at the caller's hints.  (2) Zoom: every local maximum of the
 * points evaluated so far within a factor 2 of the best (the NV_KEEP
 * highest) gets the midpoints of the lobes between its neighbours,
 * NV_ZOOM of them evenly spaced, until no lobe is left unsampled next to
 * a candidate.  (3) Refine: the NV_REFINE highest local maxima are
 * maximised within their lobe (clipped to their neighbours) by safeguarded
 * Newton on log V, bisecting when Newton leaves the bracket.  Cost: a few
 * hundred to a thousand lane evaluations of O(n) each, so O(n) overall.
 * What it assumes: that the lobe maxima vary smoothly along the sorted
 * roots where lobes are skipped (true of smooth schedules; a shuffled or
 * jittered schedule, whose lobes are independent, is screened in full up
 * to the 2^23 limit, about n = 2900).
 */
#define NV_GROUP 32          /* lanes per pass of the value kernel         */
#define NV_DGROUP 8          /* lanes per pass of the derivative kernel    */
#define NV_BLOCK_MAX 64      /* steps per block at most                    */
#define NV_GROWTH 480        /* log2 of the growth a block may allow       */
#define NV_FULL_SCREEN 8388608.0 /* 2^23: lobes x steps screened in full   */
#define NV_SCREEN 256        /* else: lobes screened at first              */
#define NV_UNIFORM 64        /* evenly spaced points screened              */
#define NV_ZOOM 32           /* lobes sampled around a candidate per round */
#define NV_KEEP 8            /* candidates zoomed into per round           */
#define NV_REFINE 8          /* candidates refined by Newton               */
#define NV_NEWTON_IT 60
#define NV_HINTS 16          /* at most this many hints are used           */

typedef struct nv_problem {
    const double *eta;  /* the caller's steps                              */
    const double *k;    /* sigma2 eta_t^2 (when tame)                       */
    const double *cut;  /* the end of block b (an integer)                  */
    const double *grow; /* block b grows a lane by less than 2^grow[b]      */
    size_t n, nblocks;
    double sm;          /* sigma2 = sm 2^se, for the exact path             */
    int se;
    int tame;           /* every k_t is 0 (eta_t = 0) or in [2^-800, 2^800] */
    double k_top;       /* every k_t < 2^k_top                              */
    yspace ys;
} nv_problem;

/* The workspace of the noisy search: four arrays of n, then points. */
typedef struct nv_layout {
    double *k, *cut, *grow, *roots;
    double *py, *pv, *ty, *tv, *by, *bv;
} nv_layout;

static nv_layout
nv_layout_of(double *work, size_t n)
{
    nv_layout l;
    l.k = work;
    l.cut = work + n;
    l.grow = work + 2 * n;
    l.roots = work + 3 * n;
    double *pts = work + 4 * n;
    l.py = pts;
    l.pv = pts + NV_POINTS;
    l.ty = pts + 2 * NV_POINTS;
    l.tv = pts + 3 * NV_POINTS;
    l.by = pts + 4 * NV_POINTS;
    l.bv = pts + 5 * NV_POINTS;
    return l;
}

/*
 * The per-step data of V for validated input (no roots yet); O(n).
 * Returns nonzero when interrupted.
 */
static int
nv_setup(nv_problem *pr, const nv_layout *l, const double *lrs, size_t n,
         double a, double b, double sigma2, uba_ticker *ticker)
{
    pr->eta = lrs;
    pr->n = n;
    pr->ys = yspace_of(a, b);
    pr->sm = frexp(sigma2, &pr->se);
    pr->tame = 1;
    const int sigma_ok = sigma2 == 0.0
        || (sigma2 > 0x1p-200 && sigma2 < 0x1p200);
    double *k = l->k, *cut = l->cut;
    size_t nb = 0, start = 0;
    int growth = 0;
    double k_max = 0.0;
    for (size_t t = 0; t < n; t++) {
        const double eta = lrs[t];
        const double ae = fabs(eta);
        k[t] = (sigma2 * eta) * eta;
        k_max = fmax(k_max, k[t]);
        pr->tame &= eta == 0.0 || sigma2 == 0.0
            || (sigma_ok && ae > 0x1p-300 && ae < 0x1p300);
        const double F = fmax(fabs(fma(-eta, a, 1.0)),
                              fabs(fma(-eta, b, 1.0)));
        const int g = F >= 1.0 ? 2 * exponent_of(F) : 0;
        if (t > start && (growth + g > NV_GROWTH
                          || t - start >= NV_BLOCK_MAX)) {
            l->grow[nb] = (double)growth;
            cut[nb++] = (double)t;
            start = t;
            growth = 0;
        }
        growth += g;
        if ((t & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return 1;
        }
    }
    l->grow[nb] = (double)growth;
    cut[nb++] = (double)n;
    pr->k = k;
    pr->cut = cut;
    pr->grow = l->grow;
    pr->nblocks = nb;
    pr->k_top = k_max > 0.0 && isfinite(k_max) ? (double)exponent_of(k_max)
                                                : -2000.0;
    return 0;
}

/* The roots of p inside (0, y_b), as offsets, ascending, each once;
 * returns their number, or SIZE_MAX when interrupted. */
static size_t
nv_roots(const nv_problem *pr, double *roots, uba_ticker *ticker)
{
    size_t m = 0;
    for (size_t t = 0; t < pr->n; t++) {
        if ((t & (SCAN_CHUNK - 1)) == 0 && ticker_add(ticker, SCAN_CHUNK)) {
            return SIZE_MAX;
        }
        if (pr->eta[t] > 0.0) {
            double rl;
            const double rh = root_of(pr->eta[t], &rl);
            const double r = yspace_offset(&pr->ys, rh, rl);
            if (r > 0.0 && r < pr->ys.yb) {
                roots[m++] = r;
            }
        }
    }
    if (sort_ascending(roots, m, ticker)) {
        return SIZE_MAX;
    }
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u == 0 || roots[i] > roots[u - 1]) {
            roots[u++] = roots[i];
        }
    }
    return u;
}

/* ---- evaluating V at many points ---------------------------------------- */

/* (v, v', v'') 2^E (derivatives in lam), renormalised when its largest
 * part leaves [2^-300, 2^300]. */
typedef struct nv_state {
    double v, d1, d2, E;
} nv_state;

static void
nv_state_scale(nv_state *s, double k)
{
    const int kk = (int)fmax(fmin(k, 2000.0), -2000.0);
    s->v = ldexp(s->v, -kk);
    s->d1 = ldexp(s->d1, -kk);
    s->d2 = ldexp(s->d2, -kk);
    s->E += k;
}

static void
nv_state_norm(nv_state *s)
{
    const double m = fmax(s->v, fmax(fabs(s->d1), fabs(s->d2)));
    if (m > 0x1p300 || (m < 0x1p-300 && m > 0.0)) {
        int k;
        (void)frexp(m, &k);
        nv_state_scale(s, (double)k);
    }
}

/* One step of the recursion in exact scaled arithmetic at lam = xh + xl
 * (and, if derivs, of its first two derivatives in lam). */
static void
nv_exact_step(const nv_problem *pr, size_t t, double xh, double xl,
              nv_state *s, int derivs)
{
    const double e = pr->eta[t];
    const double f = fma(-e, xl, fma(-e, xh, 1.0));
    const double f2 = f * f;
    if (derivs) {
        const double ef = e * f;
        s->d2 = f2 * s->d2 - 4.0 * ef * s->d1 + 2.0 * (e * e) * s->v;
        s->d1 = f2 * s->d1 - 2.0 * ef * s->v;
    }
    s->v *= f2;
    if (e != 0.0 && pr->sm > 0.0) {
        /* sigma2 eta^2 = cm 2^ce from the mantissas: never over- or
         * underflows */
        int e1, e2;
        const double m1 = frexp(e, &e1);
        const double cm = frexp(pr->sm * (m1 * m1), &e2);
        const double ce = (double)e2 + 2.0 * (double)e1 + (double)pr->se;
        if (s->v == 0.0 && s->d1 == 0.0 && s->d2 == 0.0) {
            s->v = cm;
            s->E = ce;
        }
        else if (ce > s->E) {
            nv_state_scale(s, ce - s->E);
            s->v += cm;
        }
        else {
            s->v += ldexp(cm, (int)fmax(ce - s->E, -2000.0));
        }
    }
    nv_state_norm(s);
}

/* The kernels: restrict (the lane arrays never overlap) lets the
 * compiler vectorize the loop over lanes. */
THEORY_CLONES
static void
nv_kernel(const double *restrict eta, const double *restrict k, size_t t0,
          size_t t1, const double *restrict xh, const double *restrict xl,
          double *restrict v, const double *restrict S)
{
    for (size_t t = t0; t < t1; t++) {
        const double e = eta[t], kt = k[t];
        for (size_t j = 0; j < NV_GROUP; j++) {
            const double f = fma(-e, xl[j], fma(-e, xh[j], 1.0));
            v[j] = fma(f * f, v[j], kt * S[j]);
        }
    }
}

THEORY_CLONES
static void
nv_kernel_d(const double *restrict eta, const double *restrict k, size_t t0,
            size_t t1, const double *restrict xh, const double *restrict xl,
            double *restrict v, double *restrict d1, double *restrict d2,
            const double *restrict S)
{
    for (size_t t = t0; t < t1; t++) {
        const double e = eta[t], kt = k[t];
        const double e2 = 2.0 * (e * e);
        for (size_t j = 0; j < NV_DGROUP; j++) {
            const double f = fma(-e, xl[j], fma(-e, xh[j], 1.0));
            const double f2 = f * f;
            const double ef = e * f;
            d2[j] = fma(f2, d2[j], fma(-4.0 * ef, d1[j], e2 * v[j]));
            d1[j] = fma(f2, d1[j], -2.0 * ef * v[j]);
            v[j] = fma(f2, v[j], kt * S[j]);
        }
    }
}

/*
 * A lane's S = 2^-E after its exponent E changed; 0 (false) when it must
 * take the exact path.  S is exact down to the smallest subnormal (E <=
 * 1074), and so is k_t S up to an absolute 2^-1075, nothing next to the
 * v >= 2^(grow - 1000) the blocks keep; beyond that S = 0 drops k_t 2^-E
 * < 2^-1100, as little, once E exceeds k_top + 1100.  E < -960 would put
 * k_t S out of range.
 */
static int
nv_lane_scale(const nv_problem *pr, double E, double *S)
{
    if (E >= -960.0 && E <= 1074.0) {
        *S = pow2(-(int)E);
        return 1;
    }
    if (E > pr->k_top + 1100.0) {
        *S = 0.0;
        return 1;
    }
    return 0;
}

/*
 * log V at y[0..cnt) (cnt <= the group size) into out, and with derivs
 * (log V)' and (log V)'' in y into o1, o2.  See the comment above: lanes
 * carry v 2^E and S = 2^-E (nv_lane_scale); a lane that cannot carry S
 * stays on the exact path.
 */
static void
nv_group(const nv_problem *pr, const double *y_in, size_t cnt, int derivs,
         double *out, double *o1, double *o2, uba_ticker *ticker)
{
    double xh[NV_GROUP], xl[NV_GROUP], v[NV_GROUP], d1[NV_GROUP];
    double d2[NV_GROUP], S[NV_GROUP], E[NV_GROUP], v0[NV_GROUP];
    double d10[NV_GROUP], d20[NV_GROUP];
    unsigned char exact[NV_GROUP];
    const size_t G = derivs ? NV_DGROUP : NV_GROUP;
    for (size_t j = 0; j < NV_GROUP; j++) {
        xh[j] = yspace_point(&pr->ys, y_in[j < cnt ? j : 0], &xl[j]);
        v[j] = 1.0;
        d1[j] = d2[j] = 0.0;
        S[j] = 1.0;
        E[j] = 0.0;
        exact[j] = (unsigned char)!pr->tame;
    }
    int any_exact = !pr->tame;
    size_t t0 = 0;
    for (size_t b = 0; b < pr->nblocks; b++) {
        const size_t t1 = (size_t)pr->cut[b];
        memcpy(v0, v, G * sizeof v[0]);
        if (derivs) {
            memcpy(d10, d1, G * sizeof d1[0]);
            memcpy(d20, d2, G * sizeof d2[0]);
            nv_kernel_d(pr->eta, pr->k, t0, t1, xh, xl, v, d1, d2, S);
        }
        else {
            nv_kernel(pr->eta, pr->k, t0, t1, xh, xl, v, S);
        }
        int all_fine = !any_exact;
        for (size_t j = 0; j < G; j++) {
            all_fine &= (v[j] >= 0x1p-100) & (v[j] <= 0x1p100);
        }
        if (derivs) {
            for (size_t j = 0; j < G; j++) {
                all_fine &= (fabs(d1[j]) <= 0x1p1000)
                    & (fabs(d2[j]) <= 0x1p1000);
            }
        }
        /* below 2^(grow - 1000), bits lost to a subnormal on the way
         * (at most 2^-1068 grown by 2^grow) could matter */
        const double low = pow2((int)pr->grow[b] - 1000);
        for (size_t j = 0; !all_fine && j < cnt; j++) {
            const int finite = !derivs || (fabs(d1[j]) <= 0x1p1000
                                           && fabs(d2[j]) <= 0x1p1000);
            if (!exact[j] && finite && v[j] >= 0x1p-100 && v[j] <= 0x1p100) {
                continue;
            }
            if (exact[j] || !finite || !(v[j] >= low && v[j] <= 0x1p1000)) {
                /* redo the block exactly, from its start */
                nv_state s = {v0[j], derivs ? d10[j] : 0.0,
                              derivs ? d20[j] : 0.0, E[j]};
                for (size_t t = t0; t < t1; t++) {
                    nv_exact_step(pr, t, xh[j], xl[j], &s, derivs);
                }
                v[j] = s.v;
                d1[j] = s.d1;
                d2[j] = s.d2;
                E[j] = s.E;
            }
            if (v[j] > 0.0) {
                /* rescale v (and its derivatives) into [1/2, 1); the lane
                 * goes (back) to the kernel if S can follow */
                const int k = exponent_of(v[j]);
                const double p = pow2(-k);
                v[j] *= p;
                d1[j] *= p;
                d2[j] *= p;
                E[j] += (double)k;
                exact[j] = (unsigned char)!(pr->tame
                                            && nv_lane_scale(pr, E[j], &S[j]));
            }
            else {
                exact[j] = 1;
            }
        }
        any_exact = 0;
        for (size_t j = 0; j < cnt; j++) {
            any_exact |= exact[j];
        }
        if (ticker_add(ticker, (double)(G * (t1 - t0)) * (derivs ? 3 : 1))) {
            return;
        }
        t0 = t1;
    }
    const double dy = pr->ys.scale;
    for (size_t j = 0; j < cnt; j++) {
        out[j] = v[j] > 0.0 ? log(v[j]) + E[j] * LN2 : -HUGE_VAL;
        if (derivs) {
            /* (log V)' and (log V)'' in y: d/dy = 2^j d/dlam */
            const double h1 = v[j] > 0.0 ? d1[j] / v[j] : 0.0;
            o1[j] = h1 * dy;
            o2[j] = v[j] > 0.0 ? (d2[j] / v[j] - h1 * h1) * (dy * dy)
                               : -HUGE_VAL;
        }
    }
}

/* nv_group over any number of points. */
static void
nv_eval(const nv_problem *pr, const double *y, size_t cnt, int derivs,
        double *out, double *o1, double *o2, uba_ticker *ticker)
{
    const size_t G = derivs ? NV_DGROUP : NV_GROUP;
    for (size_t i = 0; i < cnt && !ticker->stopped; i += G) {
        const size_t m = cnt - i < G ? cnt - i : G;
        nv_group(pr, y + i, m, derivs, out + i, derivs ? o1 + i : NULL,
                 derivs ? o2 + i : NULL, ticker);
    }
}

/* ---- the search ------------------------------------------------------- */

/* The points evaluated so far, ascending in y, and a batch to add. */
typedef struct nv_points {
    const nv_layout *l;
    size_t np, nb;
} nv_points;

static size_t
lower_index(const double *a, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

static void
nv_propose(nv_points *P, double y, double yb)
{
    const nv_layout *l = P->l;
    if (!(y >= 0.0 && y <= yb) || P->nb >= NV_POINTS
        || P->np + P->nb >= NV_POINTS) {
        return;
    }
    const size_t i = lower_index(l->py, P->np, y);
    if (i < P->np && l->py[i] == y) {
        return;
    }
    l->by[P->nb++] = y;
}

/* Evaluates the batch and merges it into the points; returns the number
 * of new points. */
static size_t
nv_flush(const nv_problem *pr, nv_points *P, uba_ticker *ticker)
{
    const nv_layout *l = P->l;
    size_t nb = P->nb;
    P->nb = 0;
    if (nb == 0 || sort_ascending(l->by, nb, ticker)) {
        return 0;
    }
    size_t u = 0;
    for (size_t i = 0; i < nb; i++) {
        if (u == 0 || l->by[i] > l->by[u - 1]) {
            l->by[u++] = l->by[i];
        }
    }
    nb = u;
    nv_eval(pr, l->by, nb, 0, l->bv, NULL, NULL, ticker);
    if (ticker->stopped) {
        return 0;
    }
    size_t i = 0, j = 0, o = 0;
    while (i < P->np || j < nb) {
        if (j == nb || (i < P->np && l->py[i] <= l->by[j])) {
            l->ty[o] = l->py[i];
            l->tv[o++] = l->pv[i++];
        }
        else {
            l->ty[o] = l->by[j];
            l->tv[o++] = l->bv[j++];
        }
    }
    memcpy(l->py, l->ty, o * sizeof *l->py);
    memcpy(l->pv, l->tv, o * sizeof *l->pv);
    P->np = o;
    return nb;
}

/* The lobes: between consecutive roots, and from 0 and to y_b. */
typedef struct nv_lobes {
    const double *r;  /* roots, ascending, in (0, y_b) */
    size_t m;         /* m + 1 lobes                    */
    double yb;
} nv_lobes;

static double
lobe_lo(const nv_lobes *L, size_t i)
{
    return i == 0 ? 0.0 : L->r[i - 1];
}

static double
lobe_hi(const nv_lobes *L, size_t i)
{
    return i == L->m ? L->yb : L->r[i];
}

static double
lobe_mid(const nv_lobes *L, size_t i)
{
    const double lo = lobe_lo(L, i);
    return lo + 0.5 * (lobe_hi(L, i) - lo);
}

/* The lobe that holds y (a root belongs to the lobe on its right). */
static size_t
lobe_of(const nv_lobes *L, double y)
{
    size_t i = lower_index(L->r, L->m, y);
    if (i < L->m && L->r[i] == y) {
        i++;
    }
    return i;
}

/* Indices of the local maxima of the points within `margin` of the best,
 * the highest first; returns how many (at most k). */
static size_t
nv_candidates(const nv_points *P, double margin, size_t *idx, size_t k)
{
    const double *v = P->l->pv;
    const size_t np = P->np;
    double best = -HUGE_VAL;
    for (size_t q = 0; q < np; q++) {
        best = fmax(best, v[q]);
    }
    size_t count = 0;
    for (size_t q = 0; q < np; q++) {
        if (!(v[q] >= best - margin) || (q > 0 && v[q] < v[q - 1])
            || (q + 1 < np && v[q] < v[q + 1])) {
            continue;
        }
        /* insert into the sorted list of the k highest */
        size_t at = count < k ? count : k;
        while (at > 0 && v[idx[at - 1]] < v[q]) {
            if (at < k) {
                idx[at] = idx[at - 1];
            }
            at--;
        }
        if (at < k) {
            idx[at] = q;
            count += count < k;
        }
    }
    return count;
}

/* Samples the lobes between the neighbours of point q; returns how many
 * were proposed. */
static size_t
nv_zoom(nv_points *P, const nv_lobes *L, size_t q)
{
    const double *py = P->l->py;
    const double ylo = q > 0 ? py[q - 1] : 0.0;
    const double yhi = q + 1 < P->np ? py[q + 1] : L->yb;
    const size_t ilo = lobe_of(L, ylo), ihi = lobe_of(L, yhi);
    const size_t before = P->nb;
    const size_t span = ihi - ilo + 1;
    const size_t stride = span > NV_ZOOM ? (span + NV_ZOOM - 1) / NV_ZOOM : 1;
    for (size_t i = ilo + (stride - 1) / 2; i <= ihi; i += stride) {
        const double y = lobe_mid(L, i);
        if (y > ylo && y < yhi) {
            nv_propose(P, y, L->yb);
        }
    }
    return P->nb - before;
}

/* Newton on log V within [lo, hi] from each start; the best value and
 * its y come back in best, best_y. */
static void
nv_refine(const nv_problem *pr, const double *start, const double *lo_in,
          const double *hi_in, size_t cnt, double *best, double *best_y,
          uba_ticker *ticker)
{
    double x[NV_REFINE], lo[NV_REFINE], hi[NV_REFINE];
    double h[NV_REFINE], h1[NV_REFINE], h2[NV_REFINE];
    double ax[NV_REFINE], ah[NV_REFINE], a1[NV_REFINE], a2[NV_REFINE];
    size_t active[NV_REFINE], na = cnt;
    for (size_t i = 0; i < cnt; i++) {
        x[i] = start[i];
        lo[i] = lo_in[i];
        hi[i] = hi_in[i];
        active[i] = i;
    }
    for (int it = 0; it < NV_NEWTON_IT && na > 0; it++) {
        for (size_t a = 0; a < na; a++) {
            ax[a] = x[active[a]];
        }
        nv_eval(pr, ax, na, 1, ah, a1, a2, ticker);
        if (ticker->stopped) {
            return;
        }
        size_t keep = 0;
        for (size_t a = 0; a < na; a++) {
            const size_t i = active[a];
            h[i] = ah[a];
            h1[i] = a1[a];
            h2[i] = a2[a];
            if (h[i] > *best) {
                *best = h[i];
                *best_y = x[i];
            }
            if (h1[i] > 0.0) {
                lo[i] = x[i];
            }
            else if (h1[i] < 0.0) {
                hi[i] = x[i];
            }
            else {
                continue;  /* a stationary point */
            }
            double next = h2[i] < 0.0 ? x[i] - h1[i] / h2[i] : (double)NAN;
            if (!(next > lo[i] && next < hi[i])) {
                next = lo[i] + 0.5 * (hi[i] - lo[i]);
            }
            if (!(hi[i] - lo[i] > 4.0 * DBL_EPSILON * hi[i])
                || fabs(next - x[i]) <= 4.0 * DBL_EPSILON * x[i]) {
                continue;  /* converged to the last bits */
            }
            x[i] = next;
            active[keep++] = i;
        }
        na = keep;
    }
}

/*
 * The maximum of log V over [0, y_b] for a problem with its roots, by the
 * search described above; hints are extra points (in y) to screen.
 * Returns nonzero when interrupted.
 */
static int
nv_search(const nv_problem *pr, const nv_layout *l, size_t m,
          const double *hints, size_t nh, double *best, double *best_y,
          uba_ticker *ticker)
{
    const double yb = pr->ys.yb;
    const nv_lobes L = {l->roots, m, yb};
    nv_points P = {l, 0, 0};
    nv_propose(&P, 0.0, yb);
    nv_propose(&P, yb, yb);
    for (size_t i = 0; i < nh && i < NV_HINTS; i++) {
        nv_propose(&P, hints[i], yb);
    }
    const size_t lobes = m + 1;
    if ((double)lobes * (double)pr->n <= NV_FULL_SCREEN
        || lobes <= NV_SCREEN) {
        for (size_t i = 0; i < lobes; i++) {
            nv_propose(&P, lobe_mid(&L, i), yb);
        }
    }
    else {
        const size_t stride = (lobes + NV_SCREEN - 1) / NV_SCREEN;
        nv_propose(&P, lobe_mid(&L, 0), yb);
        nv_propose(&P, lobe_mid(&L, m), yb);
        for (size_t i = stride / 2; i < lobes; i += stride) {
            nv_propose(&P, lobe_mid(&L, i), yb);
        }
    }
    for (size_t i = 0; i < NV_UNIFORM; i++) {
        nv_propose(&P, yb * (((double)i + 0.5) / NV_UNIFORM), yb);
    }
    (void)nv_flush(pr, &P, ticker);
    size_t idx[NV_KEEP > NV_REFINE ? NV_KEEP : NV_REFINE];
    while (!ticker->stopped) {
        const size_t nc = nv_candidates(&P, LN2, idx, NV_KEEP);
        size_t added = 0;
        for (size_t c = 0; c < nc; c++) {
            added += nv_zoom(&P, &L, idx[c]);
        }
        if (added == 0 || nv_flush(pr, &P, ticker) == 0) {
            break;
        }
    }
    if (ticker->stopped) {
        return 1;
    }
    /* the best point, then Newton from the highest local maxima */
    *best = -HUGE_VAL;
    *best_y = 0.0;
    for (size_t q = 0; q < P.np; q++) {
        if (l->pv[q] > *best) {
            *best = l->pv[q];
            *best_y = l->py[q];
        }
    }
    const size_t nc = nv_candidates(&P, LN2, idx, NV_REFINE);
    double start[NV_REFINE], lo[NV_REFINE], hi[NV_REFINE];
    for (size_t c = 0; c < nc; c++) {
        const size_t q = idx[c];
        const double y = l->py[q];
        const size_t i = lobe_of(&L, y);
        start[c] = y;
        lo[c] = fmax(q > 0 ? l->py[q - 1] : 0.0, lobe_lo(&L, i));
        hi[c] = fmin(q + 1 < P.np ? l->py[q + 1] : yb, lobe_hi(&L, i));
    }
    nv_refine(pr, start, lo, hi, nc, best, best_y, ticker);
    return ticker->stopped;
}

/* Progress units of one noisy search over n steps (an estimate). */
static double
nv_expected_units(size_t n)
{
    return 1200.0 * (double)n;
}

/* The noisy worst case for validated input with sigma2 > 0; hints (in
 * lam) are screened too.  Returns nonzero when interrupted. */
static int
nv_run(const double *lrs, size_t n, double a, double b, double sigma2,
       double *work, const double *hints, size_t nh, double *log_out,
       double *lam_out, uba_ticker *ticker)
{
    const nv_layout l = nv_layout_of(work, n);
    nv_problem pr;
    if (nv_setup(&pr, &l, lrs, n, a, b, sigma2, ticker)) {
        return 1;
    }
    const size_t m = nv_roots(&pr, l.roots, ticker);
    if (m == SIZE_MAX) {
        return 1;
    }
    double hy[NV_HINTS];
    size_t nhy = 0;
    for (size_t i = 0; i < nh && nhy < NV_HINTS; i++) {
        hy[nhy++] = (hints[i] - a) / pr.ys.scale;
    }
    double best, best_y;
    if (nv_search(&pr, &l, m, hy, nhy, &best, &best_y, ticker)) {
        return 1;
    }
    *log_out = best;
    double lo;
    *lam_out = fmin(b, fmax(a, yspace_point(&pr.ys, best_y, &lo)));
    return 0;
}

uba_status
uba_worst_case_noisy_error(const double *lrs, size_t n, double lam_min,
                           double lam_max, double sigma2, double *work,
                           size_t work_len, double *log_error,
                           double *lam_at, size_t *bad_index,
                           const uba_progress *progress)
{
    const uba_status s = check_worst_case(lrs, n, lam_min, lam_max, sigma2,
                                          work, work_len, log_error,
                                          bad_index);
    if (s != UBA_OK) {
        return s;
    }
    double lam, lg;
    int stopped;
    if (sigma2 == 0.0) {
        uba_ticker ticker = ticker_start(progress, wc_expected_units(n));
        stopped = wc_run(lrs, n, lam_min, lam_max, work, &lg, &lam, &ticker);
        lg *= 2.0;
    }
    else {
        uba_ticker ticker = ticker_start(progress, nv_expected_units(n));
        stopped = nv_run(lrs, n, lam_min, lam_max, sigma2, work, NULL, 0,
                         &lg, &lam, &ticker);
    }
    if (stopped) {
        return UBA_E_INTERRUPTED;
    }
    *log_error = lg;
    if (lam_at != NULL) {
        *lam_at = lam;
    }
    return UBA_OK;
}
/* ---- section 4: choosing phi ---------------------------------------------- */

/* The scan of minimise_log_phi: 3 points per decade (at most 1,897 over
 * the whole double range), room for two values each. */
#define SCAN_PER_DECADE 3.0
#define SCAN_MAX 2048
#define SCAN_BATCH 64     /* grid points handed to `many` at once */

/*
 * What minimise_log_phi minimises: the objective f at one u = log phi;
 * optionally the same at many u in one pass (many), and a cheap lower
 * bound lb <= f with room for 2 SCAN_MAX values in scan.
 */
typedef struct phi_objective {
    objective_fn f;
    void (*many)(void *ctx, const double *u, size_t n, double *out);
    objective_fn lb;
    double *scan;
    void *ctx;
} phi_objective;

/*
 * Minimises f over u = log phi in [log phi_lo, log phi_hi]: f on a grid of
 * 3 points per decade, then Brent's method between the neighbours of the
 * best grid point.  The grid guards against a second basin; the bracket
 * around the best point makes Brent converge to it.
 *
 * With a lower bound the grid is searched lazily: lb at every point, then
 * f at the point of least known value (f where evaluated, else lb) until
 * that point's value is f itself; it is then the grid point of least f, as
 * a full scan finds, at a few evaluations of f instead of one per point.
 */
static double
minimise_log_phi(const phi_objective *ob, double phi_lo, double phi_hi,
                 double tol, double *fbest, const uba_ticker *ticker)
{
    const double u0 = log(phi_lo), u1 = log(phi_hi);
    const double decades = (u1 - u0) / LN10;
    const size_t count = (size_t)ceil(SCAN_PER_DECADE * decades) + 1;
    const size_t pts = count < 3 ? 3 : count;
    const double du = (u1 - u0) / (double)(pts - 1);
    size_t ib = 0;
    double fb = HUGE_VAL;
    if (ob->lb != NULL && pts <= SCAN_MAX) {
        double *known = ob->scan, *bound = ob->scan + SCAN_MAX;
        for (size_t i = 0; i < pts && !ticker->stopped; i++) {
            known[i] = (double)NAN;
            bound[i] = ob->lb(ob->ctx, i == pts - 1 ? u1 : u0 + du * (double)i);
        }
        while (!ticker->stopped) {
            fb = HUGE_VAL;
            for (size_t i = 0; i < pts; i++) {
                const double vi = isnan(known[i]) ? bound[i] : known[i];
                if (vi < fb) {
                    fb = vi;
                    ib = i;
                }
            }
            if (!isnan(known[ib])) {
                break;
            }
            known[ib] = ob->f(ob->ctx, ib == pts - 1 ? u1
                                                    : u0 + du * (double)ib);
        }
    }
    else {
        double u[SCAN_BATCH], fu[SCAN_BATCH];
        for (size_t i0 = 0; i0 < pts && !ticker->stopped; i0 += SCAN_BATCH) {
            const size_t m = pts - i0 < SCAN_BATCH ? pts - i0 : SCAN_BATCH;
            for (size_t i = 0; i < m; i++) {
                u[i] = i0 + i == pts - 1 ? u1 : u0 + du * (double)(i0 + i);
                if (ob->many == NULL) {
                    fu[i] = ob->f(ob->ctx, u[i]);
                }
            }
            if (ob->many != NULL) {
                ob->many(ob->ctx, u, m, fu);
            }
            for (size_t i = 0; i < m; i++) {
                if (fu[i] < fb) {
                    fb = fu[i];
                    ib = i0 + i;
                }
            }
        }
    }
    const double ub = ib == pts - 1 ? u1 : u0 + du * (double)ib;
    const double lo = ib == 0 ? u0 : u0 + du * (double)(ib - 1);
    const double hi = ib + 1 >= pts - 1 ? u1 : u0 + du * (double)(ib + 1);
    const double u = brent_min(ob->f, ob->ctx, lo, hi, ub, fb, tol, tol,
                               fbest, ticker);
    return fmin(phi_hi, fmax(phi_lo, exp(u)));
}

typedef struct op_ctx {
    size_t T;
    double lam_min, lam_max, sigma2, eta_max, eta_min;
    double *eta;          /* T: the UBA samples                   */
    double *work;         /* uba_worst_case_work_size(T)          */
    double hints[NV_HINTS]; /* maximisers found so far (lam)      */
    size_t nh;
    uba_ticker *ticker;
} op_ctx;

/* The UBA samples at t = k - 1/2 for phi = e^u into cx->eta, from
 * schedule.c; 0 if phi is no valid shape (e^u overflowed or vanished). */
static int
op_fill(op_ctx *cx, double u)
{
    uba_params p;
    if (uba_params_init(&p, (double)cx->T, exp(u), cx->eta_max, cx->eta_min,
                        0.0, 0.0) != UBA_OK) {
        return 0;
    }
    for (size_t k = 0; k < cx->T; k++) {
        cx->eta[k] = (double)k + 0.5;
    }
    return uba_eta_fill(&p, cx->eta, cx->T, cx->eta, NULL, NULL) == UBA_OK;
}

static void
op_remember(op_ctx *cx, double lam)
{
    for (size_t i = 0; i < cx->nh; i++) {
        if (cx->hints[i] == lam) {
            return;
        }
    }
    if (cx->nh == NV_HINTS) {
        memmove(cx->hints, cx->hints + 1, (NV_HINTS - 1) * sizeof(double));
        cx->nh--;
    }
    cx->hints[cx->nh++] = lam;
}

/* log max_lam E x_T^2 for UBA(phi = e^u) at t = k - 1/2. */
static double
op_objective(void *vctx, double u)
{
    op_ctx *cx = (op_ctx *)vctx;
    if (!op_fill(cx, u)) {
        return 1e200;
    }
    double lg = 0.0, lam = cx->lam_min;
    if (cx->sigma2 == 0.0) {
        (void)wc_run(cx->eta, cx->T, cx->lam_min, cx->lam_max, cx->work, &lg,
                     &lam, cx->ticker);
        lg *= 2.0;
    }
    else {
        (void)nv_run(cx->eta, cx->T, cx->lam_min, cx->lam_max, cx->sigma2,
                     cx->work, cx->hints, cx->nh, &lg, &lam, cx->ticker);
    }
    op_remember(cx, lam);
    return clamp_objective(lg);
}

/* A lower bound of op_objective: E x_T^2 at both ends, the hints and every
 * fifth of the noisy search's evenly spaced points (a subset of the points
 * the search itself screens; also for sigma2 = 0, where E x_T^2 = p^2). */
static double
op_lower_bound(void *vctx, double u)
{
    op_ctx *cx = (op_ctx *)vctx;
    if (!op_fill(cx, u)) {
        return 1e200;
    }
    const nv_layout l = nv_layout_of(cx->work, cx->T);
    nv_problem pr;
    if (nv_setup(&pr, &l, cx->eta, cx->T, cx->lam_min, cx->lam_max,
                 cx->sigma2, cx->ticker)) {
        return 1e200;
    }
    double y[2 + NV_HINTS + NV_UNIFORM / 5 + 1], v[sizeof y / sizeof y[0]];
    size_t m = 0;
    y[m++] = 0.0;
    y[m++] = pr.ys.yb;
    for (size_t i = 0; i < cx->nh; i++) {
        y[m++] = fmin(pr.ys.yb, fmax(0.0, (cx->hints[i] - cx->lam_min)
                                              / pr.ys.scale));
    }
    for (size_t i = 2; i < NV_UNIFORM; i += 5) {
        y[m++] = pr.ys.yb * (((double)i + 0.5) / NV_UNIFORM);
    }
    nv_eval(&pr, y, m, 0, v, NULL, NULL, cx->ticker);
    double best = -HUGE_VAL;
    for (size_t i = 0; i < m; i++) {
        best = fmax(best, v[i]);
    }
    return clamp_objective(best);
}

size_t
uba_optimal_phi_work_size(size_t T)
{
    const size_t w = uba_worst_case_work_size(T);
    const size_t extra = 2 * SCAN_MAX;
    return w >= SIZE_MAX - T - extra ? SIZE_MAX : w + T + extra;
}

uba_status
uba_optimal_phi(size_t T, double lam_min, double lam_max, double sigma2,
                double eta_max, double eta_min, double phi_lo, double phi_hi,
                double *work, size_t work_len, double *phi,
                double *log_objective, const uba_progress *progress)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (!is_nonnegative(sigma2)) {
        return UBA_E_SIGMA2;
    }
    if (!isfinite(eta_max)) {
        return UBA_E_ETA_MAX;
    }
    if (!isfinite(eta_min)) {
        return UBA_E_ETA_MIN;
    }
    /* every UBA value lies between eta_min and eta_max, so this covers the
     * residual's condition on each step (with room for rounding) */
    if (!(fmax(fabs(eta_max), fabs(eta_min)) * lam_max
          <= 0.5 * UBA_MAX_ETA_LAM)) {
        return UBA_E_ETA_RANGE;
    }
    s = check_phi_range(phi_lo, phi_hi);
    if (s != UBA_OK) {
        return s;
    }
    if (work == NULL || phi == NULL || log_objective == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_optimal_phi_work_size(T)) {
        return UBA_E_WORKSPACE;
    }
    const double per_trial = sigma2 == 0.0 ? wc_expected_units(T)
                                           : nv_expected_units(T);
    uba_ticker ticker = ticker_start(progress, 40.0 * per_trial);
    op_ctx cx = {T, lam_min, lam_max, sigma2, eta_max, eta_min, work,
                 work + T + 2 * SCAN_MAX, {0.0}, 0, &ticker};
    double p, fbest;
    if (eta_max == eta_min) {
        /* a constant schedule: phi has no effect; 2 kappa is a minimiser */
        p = 2.0 * (lam_max / lam_min);
        fbest = op_objective(&cx, log(p));
    }
    else {
        const phi_objective ob = {op_objective, NULL, op_lower_bound,
                                  work + T, &cx};
        p = minimise_log_phi(&ob, phi_lo, phi_hi, 1e-11, &fbest, &ticker);
    }
    if (ticker.stopped) {
        return UBA_E_INTERRUPTED;
    }
    *phi = p;
    *log_objective = fbest;
    return UBA_OK;
}

/*
 * Bound (c) as a function of phi, for the minimiser.  The schedule values
 * are UBA's, bit for bit: the angle part of the shape (shape.h) is formed
 * once per step and shared by every phi evaluated in the same pass, and
 * with eta_min = 0 the value is eta_max g exactly (schedule.c's blend of
 * eta_max g + 0 gc, clamped to [0, eta_max], is that product; test_theory.c
 * checks it against uba_eta_fill).  The steps go in chunks of SC_CHUNK
 * (O(1) memory); per chunk and phi the recursion is summarised as
 *
 *     (A, B) = (prod_t a_t, sum_t k_t prod_{s>t} a_s),  a_t = 1 - mu eta_t,
 *
 * k_t = K eta_t^2, and applied as e <- A e + B 2^-E.  The scan evaluates
 * SC_GROUP values of phi side by side (a vectorised loop over phi); a
 * single phi (Brent's steps) cuts each chunk into SC_GROUP runs whose
 * (A, B) are formed side by side and composed.  Plain doubles: the
 * minimiser only compares values, and the few ulp per step this rounds
 * (about 1e-10 over 1e6 steps) do not move it; the bound reported at the
 * minimiser is the compensated one.  A run whose A falls below 2^-600, or
 * any run when the constants are far from 1 (|E| > 200, K or eta_max
 * outside [2^-150, 2^150]), goes through the compensated step instead,
 * which never underflows.
 */
#define SC_CHUNK 512
#define SC_GROUP 16
#define SC_RUN (SC_CHUNK / SC_GROUP)

typedef struct sc_ctx {
    size_t T;
    double mu, L, sigma2, f_gap, eta_max;
    sc_noise z;
    int tame;          /* the fast form applies to the constants */
    uba_ticker *ticker;
} sc_ctx;

/* The angles of the steps t[0..SC_CHUNK) (a loop of fixed length over a
 * buffer of steps, as schedule.c's, which the compiler vectorizes). */
THEORY_CLONES
static void
sc_angles(double T, const double *restrict t, double *restrict tan2,
          double *restrict refl)
{
    for (size_t j = 0; j < SC_CHUNK; j++) {
        const shape_angle an = shape_angle_at(t[j], T);
        tan2[j] = an.tan2;
        refl[j] = (double)an.reflect;
    }
}

/* (A, B) of the chunk for SC_GROUP values of phi/2 at once. */
THEORY_CLONES
static void
sc_kernel_phis(const double *restrict tan2, const double *restrict refl,
               size_t m, const double *restrict half_phi, double eta_max,
               double mu, double K, double *restrict A, double *restrict B)
{
    for (size_t i = 0; i < SC_GROUP; i++) {
        A[i] = 1.0;
        B[i] = 0.0;
    }
    for (size_t j = 0; j < m; j++) {
        const shape_angle an = {tan2[j], refl[j] != 0.0};
        for (size_t i = 0; i < SC_GROUP; i++) {
            const double eta = eta_max * shape_g(shape_x(an, half_phi[i]));
            const double a = fma(-mu, eta, 1.0);
            A[i] *= a;
            B[i] = fma(a, B[i], (K * eta) * eta);
        }
    }
}

/* The chunk's values for one phi/2 (vectorised over steps), then (A, B)
 * of its SC_GROUP runs side by side. */
THEORY_CLONES
static void
sc_kernel_runs(const double *restrict tan2, const double *restrict refl,
               double half_phi, double eta_max, double mu, double K,
               double *restrict eta, double *restrict A, double *restrict B)
{
    for (size_t j = 0; j < SC_CHUNK; j++) {
        const shape_angle an = {tan2[j], refl[j] != 0.0};
        eta[j] = eta_max * shape_g(shape_x(an, half_phi));
    }
    for (size_t r = 0; r < SC_GROUP; r++) {
        A[r] = 1.0;
        B[r] = 0.0;
    }
    for (size_t j = 0; j < SC_RUN; j++) {
        for (size_t r = 0; r < SC_GROUP; r++) {
            const double e = eta[r * SC_RUN + j];
            const double a = fma(-mu, e, 1.0);
            A[r] *= a;
            B[r] = fma(a, B[r], (K * e) * e);
        }
    }
}

/* e <- A e + B 2^-E; 0 (untouched) when the fast form cannot be trusted. */
static int
sc_apply(sc_sum *e, double A, double B)
{
    if (!(A >= 0x1p-600) || e->S == 0.0 || e->hi == 0.0) {
        return 0;
    }
    e->hi = A * e->hi + B * e->S;
    e->lo = 0.0;
    sc_sum_norm(e);
    return 1;
}

/* The compensated steps of steps [j0, j1) of a chunk, from the angles. */
static void
sc_exact(sc_sum *e, const double *tan2, const double *refl, size_t j0,
         size_t j1, double half_phi, const sc_ctx *cx)
{
    for (size_t j = j0; j < j1; j++) {
        const shape_angle an = {tan2[j], refl[j] != 0.0};
        const double eta = cx->eta_max * shape_g(shape_x(an, half_phi));
        sc_sum_step(e, eta, cx->mu, &cx->z);
    }
}

/*
 * log of bound (c) for UBA(T, phi_i, eta_max, 0) at t = 0..T-1, for
 * phi_i = e^u[i], i < count <= SC_MAX_PHIS, into out (1e200 for a phi
 * that is no shape).
 */
#define SC_MAX_PHIS SCAN_BATCH

static void
sc_objectives(const sc_ctx *cx, const double *u, size_t count, double *out)
{
    double tan2[SC_CHUNK], refl[SC_CHUNK], eta[SC_CHUNK];
    double h[SC_MAX_PHIS + SC_GROUP];
    sc_sum e[SC_MAX_PHIS];
    const double T = (double)cx->T;
    const double K = cx->z.K;
    for (size_t i = 0; i < count + SC_GROUP; i++) {
        h[i] = 0.5 * exp(u[i < count ? i : 0]);
        if (i < count) {
            e[i] = sc_sum_from(cx->f_gap);
        }
    }
    for (size_t k0 = 0; k0 < cx->T; k0 += SC_CHUNK) {
        const size_t m = cx->T - k0 < SC_CHUNK ? cx->T - k0 : SC_CHUNK;
        if (ticker_add(cx->ticker, (double)(count * m))) {
            return;
        }
        for (size_t j = 0; j < SC_CHUNK; j++) {
            /* the steps, for sc_angles (a short last chunk padded) */
            eta[j] = j < m ? (double)(k0 + j) : 0.0;
        }
        sc_angles(T, eta, tan2, refl);
        double A[SC_GROUP], B[SC_GROUP];
        if (count == 1 && m == SC_CHUNK) {
            sc_kernel_runs(tan2, refl, h[0], cx->eta_max, cx->mu, K, eta, A,
                           B);
            for (size_t r = 0; r < SC_GROUP; r++) {
                if (!cx->tame || !sc_apply(&e[0], A[r], B[r])) {
                    sc_exact(&e[0], tan2, refl, r * SC_RUN, (r + 1) * SC_RUN,
                             h[0], cx);
                }
            }
            continue;
        }
        for (size_t i0 = 0; i0 < count; i0 += SC_GROUP) {
            sc_kernel_phis(tan2, refl, m, h + i0, cx->eta_max, cx->mu, K, A,
                           B);
            for (size_t i = i0; i < count && i < i0 + SC_GROUP; i++) {
                if (!cx->tame || !sc_apply(&e[i], A[i - i0], B[i - i0])) {
                    sc_exact(&e[i], tan2, refl, 0, m, h[i], cx);
                }
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        out[i] = isfinite(h[i]) && h[i] > 0.0
            ? clamp_objective(sc_sum_log(&e[i])) : 1e200;
    }
}

static void
sc_objectives_of(void *vctx, const double *u, size_t n, double *out)
{
    sc_objectives((const sc_ctx *)vctx, u, n, out);
}

static double
sc_objective(void *vctx, double u)
{
    double v = 1e200;
    sc_objectives((const sc_ctx *)vctx, &u, 1, &v);
    return v;
}

/* Bound (c) at phi, compensated (as uba_bound_strongly_convex gives it
 * for uba_eta_fill's values). */
static double
sc_bound_at(const sc_ctx *cx, double phi)
{
    uba_params p;
    if (uba_params_init(&p, (double)cx->T, phi, cx->eta_max, 0.0, 0.0, 0.0)
        != UBA_OK) {
        return HUGE_VAL;
    }
    double eta[SC_CHUNK];
    sc_sum e = sc_sum_from(cx->f_gap);
    for (size_t k0 = 0; k0 < cx->T; k0 += SC_CHUNK) {
        const size_t m = cx->T - k0 < SC_CHUNK ? cx->T - k0 : SC_CHUNK;
        if (ticker_add(cx->ticker, 4.0 * (double)m)) {
            return HUGE_VAL;
        }
        for (size_t j = 0; j < m; j++) {
            eta[j] = (double)(k0 + j);
        }
        (void)uba_eta_fill(&p, eta, m, eta, NULL, NULL);
        for (size_t j = 0; j < m; j++) {
            sc_sum_step(&e, eta[j], cx->mu, &cx->z);
        }
    }
    return sc_sum_value(&e);
}

uba_status
uba_optimal_phi_strongly_convex(size_t T, double mu, double L, double sigma2,
                                double f_gap, double eta_max, double phi_lo,
                                double phi_hi, double *phi, double *bound,
                                const uba_progress *progress)
{
    if (!is_budget_size(T)) {
        return UBA_E_T;
    }
    uba_status s = check_strongly_convex(mu, L, sigma2, f_gap);
    if (s != UBA_OK) {
        return s;
    }
    if (!(isfinite(eta_max) && eta_max > 0.0 && eta_max <= 1.0 / L)) {
        return UBA_E_ETA_MAX_L;
    }
    s = check_phi_range(phi_lo, phi_hi);
    if (s != UBA_OK) {
        return s;
    }
    if (phi == NULL || bound == NULL) {
        return UBA_E_NULL;
    }
    if (f_gap == 0.0 && sigma2 == 0.0) {
        *phi = phi_lo;
        *bound = 0.0;
        return UBA_OK;
    }
    uba_ticker ticker = ticker_start(progress, 4.0 * 80.0 * (double)T);
    const sc_noise z = sc_noise_of(L, sigma2);
    const int tame = (sigma2 == 0.0 || z.K > 0.0) && eta_max > 0x1p-150
        && eta_max < 0x1p150;
    sc_ctx cx = {T, mu, L, sigma2, f_gap, eta_max, z, tame, &ticker};
    double fbest;
    const phi_objective ob = {sc_objective, sc_objectives_of, NULL, NULL,
                              &cx};
    const double p = minimise_log_phi(&ob, phi_lo, phi_hi, 1e-11, &fbest,
                                      &ticker);
    const double b = sc_bound_at(&cx, p);
    if (ticker.stopped) {
        return UBA_E_INTERRUPTED;
    }
    *phi = p;
    *bound = b;
    return UBA_OK;
}
