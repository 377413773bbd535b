/*
 * theory.c -- docs/theory.md sections 1-4: Chebyshev steps and the phi = 2*kappa
 * identity, the worst-case residual of any step sequence, the convergence
 * bounds (a)-(c), and the phi minimisers.  See uba.h for the contracts.
 *
 * Provenance: the paper (Tang et al., arXiv:2505.24452) gives the schedule
 * only.  Section 2 is derived in this project; the bounds of section 3 are
 * standard SGD results instantiated for an arbitrary step sequence; the
 * numerical methods here are this project's.
 *
 * No allocation, no globals: scratch space is a caller-owned workspace
 * whose size the *_work_size functions give.
 */
#include "uba.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

/* pi/2 rounded to double (see schedule.c). */
static const double HALF_PI = 1.57079632679489661923;
static const double LN2 = 0.69314718055994530942;
static const double LN10 = 2.30258509299404568402;

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
     * problem below never underflows its interval. */
    if (!isfinite(1.0 / lam_min) || !isfinite(2.0 * (lam_max / lam_min))) {
        return UBA_E_CURVATURE;
    }
    return UBA_OK;
}

/* T in [1, 2^53], compared as integers: as a double, 2^53 + 1 rounds to
 * 2^53 (and larger sizes down to the next even or coarser double), which
 * would let through budgets of up to 2^53 + 1 and beyond. */
static int
is_budget_size(size_t T)
{
    return T >= 1 && (uint64_t)T <= (UINT64_C(1) << 53);
}

static int
is_nonnegative(double x)
{
    return isfinite(x) && x >= 0.0;
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
 * so eta_k = 1 / (lam_min c^2 + lam_max s^2): no cancellation anywhere.
 * UBA at t = k - 1/2 has the same angle a = pi t / (2T), and with
 * eta_max = 1/lam_min, eta_min = 1/lam_max, phi/2 = kappa:
 *
 *     eta_min + (eta_max - eta_min) c^2 / (c^2 + kappa s^2)
 *         = (eta_max c^2 + eta_min kappa s^2) / (c^2 + kappa s^2)
 *         = (c^2 + s^2) / (lam_min (c^2 + kappa s^2))
 *         = 1 / (lam_min c^2 + lam_max s^2),
 *
 * which is the identity of docs/theory.md section 1 (derived here, exact).  As in
 * schedule.c, the angle is reflected past T/2 so c keeps full accuracy.
 */
uba_status
uba_chebyshev_steps(size_t T, double lam_min, double lam_max, double *out)
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
    const double Td = (double)T;
    /* Scale the range by a power of two (exact) into the middle of double
     * range: near DBL_MAX the denominator below rounds to inf (a step of 0),
     * and a subnormal lam_min (allowed: 1/lam_min is finite) loses bits. */
    const int sc = lam_max > 0x1p1000 ? -2 : (lam_max < 0x1p-960 ? 64 : 0);
    const double lo = ldexp(lam_min, sc), hi = ldexp(lam_max, sc);
    for (size_t k = 0; k < T; k++) {
        const double t = (double)k + 0.5;
        double c, sn;
        if (t <= 0.5 * Td) {
            const double a = HALF_PI * (t / Td);
            c = cos(a);
            sn = sin(a);
        }
        else {
            const double b = HALF_PI * ((Td - t) / Td);
            c = sin(b);
            sn = cos(b);
        }
        out[k] = ldexp(1.0 / (lo * (c * c) + hi * (sn * sn)), sc);
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

/* ---- a number as m * 2^e, for products of thousands of factors ---------- */

/*
 * Long products and the noisy recursions below leave double range (a
 * Chebyshev residual at T = 1e5 is e^-65000), so they are carried as
 * m * 2^e with m renormalised into [2^-300, 2^300] after each operation;
 * e is a double (exact integers).  Only non-negative values occur.
 */
typedef struct scaled {
    double m;
    double e;
} scaled;

static void
scaled_norm(scaled *x)
{
    if (x->m > 0x1p300 || (x->m < 0x1p-300 && x->m > 0.0)) {
        if (isinf(x->m)) {
            return;
        }
        int k;
        x->m = frexp(x->m, &k);
        x->e += (double)k;
    }
}

/* x *= f for 0 <= f <= 2^666 (so that m f stays finite). */
static void
scaled_mul(scaled *x, double f)
{
    if (f == 0.0) {
        x->m = 0.0;
        x->e = 0.0;
        return;
    }
    x->m *= f;
    scaled_norm(x);
}

/* x += cm * 2^ce, cm in [0.5, 1) or 0 (or inf: the sum is then inf). */
static void
scaled_add(scaled *x, double cm, double ce)
{
    if (!(cm > 0.0)) {
        return;
    }
    if (x->m == 0.0) {
        x->m = cm;
        x->e = ce;
        return;
    }
    const double d = ce - x->e;
    if (d <= 0.0) {
        x->m += ldexp(cm, (int)fmax(d, -2000.0));
    }
    else {
        x->m = ldexp(x->m, (int)fmax(-d, -2000.0)) + cm;
        x->e = ce;
    }
    scaled_norm(x);
}

static void
scaled_add_double(scaled *x, double c)
{
    if (c > 0.0 && isfinite(c)) {
        int k;
        const double m = frexp(c, &k);
        scaled_add(x, m, (double)k);
    }
    else if (c > 0.0) {
        x->m = HUGE_VAL;
    }
}

static double
scaled_log(const scaled *x)
{
    return log(x->m) + x->e * LN2;
}

static double
scaled_value(const scaled *x)
{
    if (isinf(x->m)) {
        return x->m;
    }
    return ldexp(x->m, (int)fmax(fmin(x->e, 4000.0), -4000.0));
}

/* ---- section 3: bounds for any step sequence ------------------------------ */

/* Neumaier's compensated sum, so that S1 and S2 are correct to a few ulp
 * whatever n is. */
typedef struct ksum {
    double s;
    double c;
} ksum;

static void
ksum_add(ksum *k, double x)
{
    const double t = k->s + x;
    if (fabs(k->s) >= fabs(x)) {
        k->c += (k->s - t) + x;
    }
    else {
        k->c += (x - t) + k->s;
    }
    k->s = t;
}

/*
 * Checks 0 <= lrs[i] <= limit for each i: the first entry that is not
 * finite gives UBA_E_LRS, the first outside the range
 * UBA_E_STEP_CONDITION, with its index.  Writes the largest entry.
 */
static uba_status
scan_steps(const double *lrs, size_t n, double limit, double *largest,
           size_t *bad_index)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
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

static step_sums
scaled_sums(const double *lrs, size_t n, double largest)
{
    step_sums r;
    (void)frexp(largest, &r.p);
    ksum k1 = {0.0, 0.0}, k2 = {0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        const double q = ldexp(lrs[i], -r.p);
        ksum_add(&k1, q);
        ksum_add(&k2, q * q);
    }
    r.s1 = k1.s + k1.c;
    r.s2 = k2.s + k2.c;
    return r;
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
                    const double *bound, step_sums *sums, size_t *bad_index)
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
    double largest;
    const uba_status s = scan_steps(lrs, n, step_limit / L, &largest,
                                    bad_index);
    if (s != UBA_OK) {
        return s;
    }
    if (largest == 0.0) {
        return UBA_E_LRS_ZERO;
    }
    *sums = scaled_sums(lrs, n, largest);
    return UBA_OK;
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
                    double f_gap, double *bound, size_t *bad_index)
{
    step_sums r;
    const uba_status s = averaged_bound_sums(lrs, n, L, sigma2, f_gap,
                                             UBA_E_F_GAP, 1.0, bound, &r,
                                             bad_index);
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
                 double dist2, double *bound, size_t *bad_index)
{
    step_sums r;
    const uba_status s = averaged_bound_sums(lrs, n, L, sigma2, dist2,
                                             UBA_E_DIST2, 0.5, bound, &r,
                                             bad_index);
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
 * The recursion is that sum in Horner form.  It runs in the m * 2^e form,
 * so a bias that falls below 1e-308 is not lost to underflow; 1 - mu eta
 * is formed with one rounding (fma) and is >= 0 since mu <= L.
 */
static void
sc_recursion_step(scaled *e, double eta, double mu, double L, double sigma2)
{
    scaled_mul(e, fmax(0.0, fma(-mu, eta, 1.0)));
    if (sigma2 > 0.0 && eta > 0.0) {
        /* (sigma2 / 2) L eta^2 from the mantissas and exponents of its
         * factors: formed in doubles, a subnormal sigma2 or L eta lost
         * most of its bits (and the product could over- or underflow) */
        int es, el, ee, em;
        const double ms = frexp(sigma2, &es), ml = frexp(L, &el);
        const double me = frexp(eta, &ee);
        const double m = frexp(ms * ml * (me * me), &em);
        scaled_add(e, m, (double)es + (double)el + 2.0 * (double)ee
                             + (double)em - 1.0);
    }
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

static scaled
scaled_from(double x)
{
    scaled r = {0.0, 0.0};
    scaled_add_double(&r, x);
    return r;
}

uba_status
uba_bound_strongly_convex(const double *lrs, size_t n, double mu, double L,
                          double sigma2, double f_gap, double *bound,
                          size_t *bad_index)
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
    double largest;
    s = scan_steps(lrs, n, 1.0 / L, &largest, bad_index);
    if (s != UBA_OK) {
        return s;
    }
    scaled e = scaled_from(f_gap);
    for (size_t t = 0; t < n; t++) {
        sc_recursion_step(&e, lrs[t], mu, L, sigma2);
    }
    *bound = scaled_value(&e);
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

/* Ascending heapsort of finite doubles: O(n log n), in place. */
static void
heap_sort(double *a, size_t n)
{
    if (n < 2) {
        return;
    }
    for (size_t start = n / 2; start-- > 0;) {
        sift_down(a, start, n);
    }
    for (size_t end = n - 1; end > 0; end--) {
        const double tmp = a[0];
        a[0] = a[end];
        a[end] = tmp;
        sift_down(a, 0, end);
    }
}

/* ---- section 3 (d): the worst-case residual -------------------------------- */

/*
 * Problem: R = max over x in [a, b] of |p(x)|, p(x) = prod_t (1 - eta_t x).
 * We work with f = log|p| = sum_t log|1 - eta_t x|.
 *
 * Structure.  Each term is concave in x away from its root 1/eta_t
 * (second derivative -eta^2/(1 - eta x)^2 <= 0), so f is concave on every
 * interval that contains no root.  Cutting [a, b] at the roots 1/eta_t that
 * lie inside it gives at most n + 1 brackets, each with exactly one
 * maximum of f (at an end a or b, or where f' = 0): this set of brackets
 * is complete, so the maximum over the brackets is the true maximum, not a
 * grid estimate.
 *
 * Per bracket: safeguarded Newton on f' (monotone, falling from +inf to
 * -inf between two roots) from the midpoint, bisecting when Newton leaves
 * the bracket.  Concavity gives a certificate at every iterate x: the
 * maximum over the bracket is at most f(x) + f'(x) (e - x), e the bracket
 * end on the uphill side.  A bracket stops as soon as that upper bound is
 * within TOL of the best value found anywhere (then it cannot raise the
 * answer by more than TOL), or when Newton's step falls to rounding level
 * (x is the maximiser to the last bit).  Brackets far below the best are
 * thus dismissed after one evaluation; in the equioscillating Chebyshev
 * case every bracket is refined, in about four evaluations.
 *
 * Evaluation in O(log n), not O(n).  n brackets times an O(n) sum would be
 * O(n^2) (1e10 logs at n = 1e5), so f, f' and f'' come from a treecode:
 * f(x) = sum_t log|y - eta_t| + n log x with y = 1/x is a logarithmic
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
 * nearer nodes are opened, and leaves (<= 32 points) are summed directly
 * with 1 - eta x formed by fma (one rounding).
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

size_t
uba_worst_case_work_size(size_t n)
{
    const size_t nodes = wc_nodes(n);
    if (n > SIZE_MAX / 8 || nodes > (SIZE_MAX - 4 * n) / WC_NODE) {
        return SIZE_MAX;
    }
    const size_t tree = n + nodes * WC_NODE;
    return tree > 4 * n ? tree : 4 * n;
}

typedef struct wc_tree {
    const double *eta;  /* sorted ascending, scaled */
    double *nodes;      /* heap-ordered: node i has children 2i+1, 2i+2 */
    size_t n;
} wc_tree;

/* Centre, half-width and moments of eta[lo..hi), then the children. */
static void
wc_build(wc_tree *tr, size_t i, size_t lo, size_t hi)
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
        for (size_t t = lo; t < hi; t++) {
            const double q = (eta[t] - c) / h;
            double p = q;
            for (int k = 1; k < WC_NMOM; k++) {
                nu[k] += p;
                p *= q;
            }
        }
    }
    for (int k = 1; k <= WC_ORDER; k++) {
        g[k - 1] = nu[k] / (double)k;
    }
    if (hi - lo > WC_LEAF) {
        const size_t mid = lo + (hi - lo) / 2;
        wc_build(tr, 2 * i + 1, lo, mid);
        wc_build(tr, 2 * i + 2, mid, hi);
    }
}

typedef struct wc_val {
    double f;   /* log|p(x)|             */
    double f1;  /* d/dx log|p(x)|        */
    double f2;  /* d^2/dx^2 log|p(x)| < 0 */
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

static wc_val
wc_eval(const wc_tree *tr, double x)
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
        const double u = fma(-node[0], x, 1.0);
        const double au = fabs(u);
        if (au > 0.0 && 3.0 * node[1] * x <= au) {
            wc_far(node, x, u, &v);
            continue;
        }
        if (hi - lo <= WC_LEAF) {
            for (size_t t = lo; t < hi; t++) {
                const double e = tr->eta[t];
                const double ut = fma(-e, x, 1.0);
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

typedef struct wc_search {
    const wc_tree *tr;
    double best;    /* largest f found so far */
    double best_x;
} wc_search;

static void
wc_take(wc_search *st, double f, double x)
{
    if (f > st->best) {
        st->best = f;
        st->best_x = x;
    }
}

/*
 * The maximum of f on [lo, hi]; at_lo / at_hi are the values at an end
 * that is a or b (NULL at a root, where f = -inf).  See the comment above.
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
    double x = lo + 0.5 * (hi - lo);
    for (int it = 0; it < WC_MAX_IT; it++) {
        const wc_val v = wc_eval(st->tr, x);
        if (v.root) {
            /* x is (to the last bit) one of the bracket's end roots */
            if (x - lo < hi - x) {
                lo = x;
            }
            else {
                hi = x;
            }
            x = lo + 0.5 * (hi - lo);
            if (!(lo < x && x < hi)) {
                return;
            }
            continue;
        }
        wc_take(st, v.f, x);
        double upper;
        if (v.f1 > 0.0) {
            lo = x;
            upper = v.f + v.f1 * (hi - x);
        }
        else if (v.f1 < 0.0) {
            hi = x;
            upper = v.f + v.f1 * (lo - x);
        }
        else {
            return;  /* f'(x) = 0: x is the maximiser */
        }
        if (upper <= st->best + WC_TOL_ABS + WC_TOL_REL * fabs(st->best)) {
            return;
        }
        double next = x - v.f1 / v.f2;
        if (!(next > lo && next < hi)) {
            next = lo + 0.5 * (hi - lo);
        }
        if (fabs(next - x) <= 4.0 * DBL_EPSILON * x) {
            return;
        }
        x = next;
    }
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
 * The worst-case residual for validated input: copies lrs, scaled, into
 * work, sorts it, builds the tree after it, and searches every bracket.
 */
static void
wc_run(const double *lrs, size_t n, double a, double b, double *work,
       double *log_out, double *x_out)
{
    const int k = scale_exponent(b);
    double *eta = work;
    for (size_t t = 0; t < n; t++) {
        eta[t] = ldexp(lrs[t], k);
    }
    heap_sort(eta, n);
    wc_tree tr = {eta, work + n, n};
    wc_build(&tr, 0, 0, n);
    const double as = ldexp(a, -k), bs = ldexp(b, -k);

    const wc_val va = wc_eval(&tr, as);
    wc_search st = {&tr, -HUGE_VAL, as};
    wc_take(&st, va.f, as);
    if (as < bs) {
        const wc_val vb = wc_eval(&tr, bs);
        wc_take(&st, vb.f, bs);
        double prev = as;
        const wc_val *prev_val = va.root ? NULL : &va;
        for (size_t i = n; i-- > 0;) {
            if (!(eta[i] > 0.0)) {
                break;
            }
            const double rho = 1.0 / eta[i];  /* ascending as i falls */
            if (rho <= as) {
                continue;
            }
            if (rho >= bs) {
                break;
            }
            wc_bracket(&st, prev, rho, prev_val, NULL);
            prev = rho;
            prev_val = NULL;
        }
        wc_bracket(&st, prev, bs, prev_val, vb.root ? NULL : &vb);
    }
    *log_out = st.best;
    /* a / 2^k may be subnormal (kappa near 2^1023) and round: keep the
     * maximiser inside [a, b] */
    *x_out = fmin(b, fmax(a, ldexp(st.best_x, k)));
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

uba_status
uba_worst_case_residual(const double *lrs, size_t n, double lam_min,
                        double lam_max, double *work, size_t work_len,
                        double *log_residual, double *lam_at,
                        size_t *bad_index)
{
    uba_status s = check_range(lam_min, lam_max);
    if (s != UBA_OK) {
        return s;
    }
    if (n == 0) {
        return UBA_E_LRS_EMPTY;
    }
    if (lrs == NULL || work == NULL || log_residual == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_worst_case_work_size(n)) {
        return UBA_E_WORKSPACE;
    }
    s = check_residual_steps(lrs, n, lam_max, bad_index);
    if (s != UBA_OK) {
        return s;
    }
    double x;
    wc_run(lrs, n, lam_min, lam_max, work, log_residual, &x);
    if (lam_at != NULL) {
        *lam_at = x;
    }
    return UBA_OK;
}

/* ---- the minimiser both searches use ------------------------------------- */

typedef double (*objective_fn)(void *ctx, double x);

/*
 * Brent's localmin (Brent, "Algorithms for Minimization without
 * Derivatives", 1973, ch. 5): golden section with parabolic steps on
 * [lo, hi], from x0 with f(x0) = fx0 known.  Stops when x is within
 * 2 (rel |x| + abs/3) of the minimiser (for a unimodal f).
 */
static double
brent_min(objective_fn f, void *ctx, double lo, double hi, double x0,
          double fx0, double rel, double abs_tol, double *fmin)
{
    const double golden = 0.38196601125010515;  /* (3 - sqrt 5) / 2 */
    double x = x0, w = x0, v = x0;
    double fx = fx0, fw = fx0, fv = fx0;
    double d = 0.0, e = 0.0;
    for (int it = 0; it < 200; it++) {
        const double m = 0.5 * (lo + hi);
        const double tol1 = rel * fabs(x) + abs_tol / 3.0;
        const double tol2 = 2.0 * tol1;
        if (fabs(x - m) <= tol2 - 0.5 * (hi - lo)) {
            break;
        }
        double p = 0.0, q = 0.0, r = 0.0;
        if (fabs(e) > tol1) {
            r = (x - w) * (fx - fv);
            q = (x - v) * (fx - fw);
            p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if (q > 0.0) {
                p = -p;
            }
            else {
                q = -q;
            }
            r = e;
            e = d;
        }
        if (fabs(p) < fabs(0.5 * q * r) && p > q * (lo - x)
            && p < q * (hi - x)) {
            d = p / q;
            const double u = x + d;
            if (u - lo < tol2 || hi - u < tol2) {
                d = x < m ? tol1 : -tol1;
            }
        }
        else {
            e = x < m ? hi - x : lo - x;
            d = golden * e;
        }
        const double u = fabs(d) >= tol1 ? x + d : (d > 0.0 ? x + tol1
                                                            : x - tol1);
        const double fu = f(ctx, u);
        if (fu <= fx) {
            if (u < x) {
                hi = x;
            }
            else {
                lo = x;
            }
            v = w;
            fv = fw;
            w = x;
            fw = fx;
            x = u;
            fx = fu;
        }
        else {
            if (u < x) {
                lo = u;
            }
            else {
                hi = u;
            }
            if (fu <= fw || w == x) {
                v = w;
                fv = fw;
                w = u;
                fw = fu;
            }
            else if (fu <= fv || v == x || v == w) {
                v = u;
                fv = fu;
            }
        }
    }
    *fmin = fx;
    return x;
}

/* ---- section 4: the noisy quadratic ---------------------------------------- */

/*
 * One eigen-direction lam of a quadratic, SGD with additive noise of
 * variance sigma2: x_{t+1} = (1 - eta_t lam) x_t + eta_t xi_t, so
 *
 *     V_{t+1}(lam) = (1 - eta_t lam)^2 V_t(lam) + sigma2 eta_t^2,  V_0 = 1,
 *
 * and V_n = prod (1 - eta lam)^2 + sigma2 sum_t eta_t^2 prod_{s>t}
 * (1 - eta_s lam)^2, the E x_T^2 of docs/theory.md section 4.  V_n is a degree-2n
 * polynomial with no real roots (sigma2 > 0), so the bracket certificate
 * of the residual does not carry over.  The search keeps the residual's
 * brackets (between consecutive roots of prod (1 - eta lam), where its
 * dominant part has one bump each), samples each at equally spaced points
 * (>= 4 inside, >= 64 over [a, b] in all), and refines with Brent's method
 * every bracket whose best sample is within a factor 2 of the best so far.
 * This is a careful search, not a certificate: it is exact for sigma2 = 0
 * (which goes to the residual search instead), and checked against dense
 * sampling in the tests.
 *
 * Workspace: sorted scaled eta (n), scaled eta in order (n), and
 * sigma2 eta_t^2 as mantissa (n) and exponent (n).
 */
typedef struct nv_ctx {
    const double *eta;  /* scaled, in schedule order */
    const double *cm;   /* sigma2 eta_t^2 = cm 2^ce   */
    const double *ce;
    size_t n;
} nv_ctx;

static double
nv_log(const nv_ctx *cx, double x)
{
    scaled v = {1.0, 0.0};
    for (size_t t = 0; t < cx->n; t++) {
        const double f = fma(-cx->eta[t], x, 1.0);
        scaled_mul(&v, f * f);
        scaled_add(&v, cx->cm[t], cx->ce[t]);
    }
    return v.m > 0.0 ? scaled_log(&v) : -HUGE_VAL;
}

static double
nv_neg(void *ctx, double x)
{
    return -nv_log((const nv_ctx *)ctx, x);
}

#define NV_MIN_INSIDE 4
#define NV_MIN_TOTAL 64

typedef struct nv_search {
    nv_ctx *cx;
    size_t inside;  /* samples strictly inside each bracket */
    double best;
    double best_x;
} nv_search;

static void
nv_bracket(nv_search *st, double lo, double hi, double vlo, double vhi)
{
    if (!(lo < hi)) {
        return;
    }
    double best_here = vlo, x_here = lo;
    size_t j_here = 0;
    const size_t m = st->inside + 1;
    for (size_t j = 1; j <= m; j++) {
        const double x = j == m ? hi : lo + (hi - lo) * ((double)j
                                                         / (double)m);
        const double v = j == m ? vhi : nv_log(st->cx, x);
        if (v > best_here) {
            best_here = v;
            x_here = x;
            j_here = j;
        }
    }
    if (best_here > st->best) {
        st->best = best_here;
        st->best_x = x_here;
    }
    if (!(best_here >= st->best - LN2)) {
        return;
    }
    const double step = (hi - lo) / (double)m;
    const double a = j_here == 0 ? lo : fmax(lo, x_here - step);
    const double b = j_here == m ? hi : fmin(hi, x_here + step);
    double fneg;
    const double x = brent_min(nv_neg, st->cx, a, b, x_here, -best_here,
                               4e-9, 0.0, &fneg);
    if (-fneg > st->best) {
        st->best = -fneg;
        st->best_x = x;
    }
}

/* The noisy worst case for validated input with sigma2 > 0. */
static void
nv_run(const double *lrs, size_t n, double a, double b, double sigma2,
       double *work, double *log_out, double *x_out)
{
    const int k = scale_exponent(b);
    double *sorted = work, *eta = work + n, *cm = work + 2 * n;
    double *ce = work + 3 * n;
    /* sigma2 as ms 2^es too: a subnormal sigma2 times m1^2 would keep
     * only the subnormal's bits */
    int es;
    const double ms = frexp(sigma2, &es);
    for (size_t t = 0; t < n; t++) {
        eta[t] = ldexp(lrs[t], k);
        sorted[t] = eta[t];
        /* sigma2 eta^2 is unchanged by the scaling (eta lam is); split
         * into mantissa and exponent, so it cannot overflow */
        int e1, e2;
        const double m1 = frexp(lrs[t], &e1);
        const double c = ms * (m1 * m1);
        cm[t] = frexp(c, &e2);
        ce[t] = (double)e2 + 2.0 * (double)e1 + (double)es;
    }
    heap_sort(sorted, n);
    nv_ctx cx = {eta, cm, ce, n};
    const double as = ldexp(a, -k), bs = ldexp(b, -k);
    const double va = nv_log(&cx, as);
    nv_search st = {&cx, NV_MIN_INSIDE, va, as};
    if (as < bs) {
        size_t roots = 0;
        for (size_t i = n; i-- > 0 && sorted[i] > 0.0;) {
            const double rho = 1.0 / sorted[i];
            roots += rho > as && rho < bs;
        }
        const size_t spread = NV_MIN_TOTAL / (roots + 1);
        st.inside = spread > NV_MIN_INSIDE ? spread : NV_MIN_INSIDE;
        const double vb = nv_log(&cx, bs);
        if (vb > st.best) {
            st.best = vb;
            st.best_x = bs;
        }
        double prev = as, vprev = va;
        for (size_t i = n; i-- > 0;) {
            if (!(sorted[i] > 0.0)) {
                break;
            }
            const double rho = 1.0 / sorted[i];
            if (rho <= as || rho <= prev) {
                continue;
            }
            if (rho >= bs) {
                break;
            }
            const double vr = nv_log(&cx, rho);
            nv_bracket(&st, prev, rho, vprev, vr);
            prev = rho;
            vprev = vr;
        }
        nv_bracket(&st, prev, bs, vprev, vb);
    }
    *log_out = st.best;
    /* a / 2^k may be subnormal (kappa near 2^1023) and round: keep the
     * maximiser inside [a, b] */
    *x_out = fmin(b, fmax(a, ldexp(st.best_x, k)));
}

uba_status
uba_worst_case_noisy_error(const double *lrs, size_t n, double lam_min,
                           double lam_max, double sigma2, double *work,
                           size_t work_len, double *log_error,
                           double *lam_at, size_t *bad_index)
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
    if (lrs == NULL || work == NULL || log_error == NULL) {
        return UBA_E_NULL;
    }
    if (work_len < uba_worst_case_work_size(n)) {
        return UBA_E_WORKSPACE;
    }
    s = check_residual_steps(lrs, n, lam_max, bad_index);
    if (s != UBA_OK) {
        return s;
    }
    double x, lg;
    if (sigma2 == 0.0) {
        wc_run(lrs, n, lam_min, lam_max, work, &lg, &x);
        lg *= 2.0;
    }
    else {
        nv_run(lrs, n, lam_min, lam_max, sigma2, work, &lg, &x);
    }
    *log_error = lg;
    if (lam_at != NULL) {
        *lam_at = x;
    }
    return UBA_OK;
}

/* ---- section 4: choosing phi ---------------------------------------------- */

/* Objectives are clamped to +-1e200 so that Brent's parabola never meets
 * an infinity (an exact zero residual has log -inf). */
static double
clamp_objective(double v)
{
    return fmax(-1e200, fmin(1e200, isnan(v) ? 1e200 : v));
}

static uba_status
check_phi_range(double phi_lo, double phi_hi)
{
    if (!(isfinite(phi_lo) && isfinite(phi_hi) && phi_lo > 0.0
          && phi_lo < phi_hi)) {
        return UBA_E_PHI_RANGE;
    }
    return UBA_OK;
}

/*
 * Minimises f over u = log phi in [log phi_lo, log phi_hi]: f on a grid of
 * 3 points per decade, then Brent's method between the neighbours of the
 * best grid point.  The grid guards against a second basin; the bracket
 * around the best point makes Brent converge to it.
 */
static double
minimise_log_phi(objective_fn f, void *ctx, double phi_lo, double phi_hi,
                 double *fbest)
{
    const double u0 = log(phi_lo), u1 = log(phi_hi);
    const double decades = (u1 - u0) / LN10;
    const size_t count = (size_t)ceil(3.0 * decades) + 1;
    const size_t pts = count < 3 ? 3 : count;
    const double du = (u1 - u0) / (double)(pts - 1);
    size_t ib = 0;
    double fb = HUGE_VAL;
    for (size_t i = 0; i < pts; i++) {
        const double u = i == pts - 1 ? u1 : u0 + du * (double)i;
        const double fu = f(ctx, u);
        if (fu < fb) {
            fb = fu;
            ib = i;
        }
    }
    const double ub = ib == pts - 1 ? u1 : u0 + du * (double)ib;
    const double lo = ib == 0 ? u0 : u0 + du * (double)(ib - 1);
    const double hi = ib + 1 >= pts - 1 ? u1 : u0 + du * (double)(ib + 1);
    const double u = brent_min(f, ctx, lo, hi, ub, fb, 1e-11, 1e-11, fbest);
    return fmin(phi_hi, fmax(phi_lo, exp(u)));
}

typedef struct op_ctx {
    size_t T;
    double lam_min, lam_max, sigma2, eta_max, eta_min;
    double *eta;   /* T: the UBA samples */
    double *work;  /* uba_worst_case_work_size(T) */
} op_ctx;

/* log max_lam E x_T^2 for UBA(phi = e^u) at t = k - 1/2; the schedule
 * values come from schedule.c (uba_params_init / uba_eta). */
static double
op_objective(void *vctx, double u)
{
    op_ctx *cx = (op_ctx *)vctx;
    uba_params p;
    if (uba_params_init(&p, (double)cx->T, exp(u), cx->eta_max, cx->eta_min,
                        0.0, 0.0) != UBA_OK) {
        return 1e200;
    }
    for (size_t k = 0; k < cx->T; k++) {
        if (uba_eta(&p, (double)k + 0.5, &cx->eta[k]) != UBA_OK) {
            return 1e200;
        }
    }
    double lg, x;
    if (cx->sigma2 == 0.0) {
        wc_run(cx->eta, cx->T, cx->lam_min, cx->lam_max, cx->work, &lg, &x);
        lg *= 2.0;
    }
    else {
        nv_run(cx->eta, cx->T, cx->lam_min, cx->lam_max, cx->sigma2,
               cx->work, &lg, &x);
    }
    return clamp_objective(lg);
}

size_t
uba_optimal_phi_work_size(size_t T)
{
    const size_t w = uba_worst_case_work_size(T);
    return w >= SIZE_MAX - T ? SIZE_MAX : w + T;
}

uba_status
uba_optimal_phi(size_t T, double lam_min, double lam_max, double sigma2,
                double eta_max, double eta_min, double phi_lo, double phi_hi,
                double *work, size_t work_len, double *phi,
                double *log_objective)
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
    op_ctx cx = {T, lam_min, lam_max, sigma2, eta_max, eta_min, work,
                 work + T};
    if (eta_max == eta_min) {
        /* a constant schedule: phi has no effect; 2 kappa is a minimiser */
        const double p = 2.0 * (lam_max / lam_min);
        *log_objective = op_objective(&cx, log(p));
        *phi = p;
        return UBA_OK;
    }
    double fbest;
    *phi = minimise_log_phi(op_objective, &cx, phi_lo, phi_hi, &fbest);
    *log_objective = fbest;
    return UBA_OK;
}

typedef struct sc_ctx {
    size_t T;
    double mu, L, sigma2, f_gap, eta_max;
} sc_ctx;

/* log of bound (c) for UBA(T, e^u, eta_max, 0) at t = 0..T-1. */
static double
sc_objective(void *vctx, double u)
{
    const sc_ctx *cx = (const sc_ctx *)vctx;
    uba_params p;
    if (uba_params_init(&p, (double)cx->T, exp(u), cx->eta_max, 0.0, 0.0,
                        0.0) != UBA_OK) {
        return 1e200;
    }
    scaled e = scaled_from(cx->f_gap);
    for (size_t t = 0; t < cx->T; t++) {
        double eta;
        (void)uba_eta(&p, (double)t, &eta);
        sc_recursion_step(&e, eta, cx->mu, cx->L, cx->sigma2);
    }
    return clamp_objective(e.m > 0.0 ? scaled_log(&e) : -HUGE_VAL);
}

uba_status
uba_optimal_phi_strongly_convex(size_t T, double mu, double L, double sigma2,
                                double f_gap, double eta_max, double phi_lo,
                                double phi_hi, double *phi, double *bound)
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
    sc_ctx cx = {T, mu, L, sigma2, f_gap, eta_max};
    double fbest;
    const double p = minimise_log_phi(sc_objective, &cx, phi_lo, phi_hi,
                                      &fbest);
    *phi = p;
    *bound = fbest <= -1e200 ? 0.0 : exp(fbest);
    return UBA_OK;
}
