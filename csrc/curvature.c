/*
 * curvature.c -- docs/theory.md section 1, the curvature connection: the
 * Chebyshev step sizes, computed as the UBA schedule with phi = 2 kappa,
 * their optimal residual, phi <-> kappa and the UBA parameters of a
 * curvature range.  See uba.h for the contracts.
 *
 * Provenance: the paper (Tang et al., arXiv:2505.24452) gives the schedule
 * only.  The Chebyshev steps and their residual are standard; their
 * identity with UBA is derived in this project.
 */
#include "theory_internal.h"

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
uba_chebyshev_check(size_t T, double lam_min, double lam_max)
{
    return is_budget_size(T) ? check_range(lam_min, lam_max) : UBA_E_T;
}

uba_status
uba_chebyshev_steps(size_t T, double lam_min, double lam_max, double *out,
                    const uba_progress *progress)
{
    const uba_status s = uba_chebyshev_check(T, lam_min, lam_max);
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
    const uba_status s = uba_chebyshev_check(T, lam_min, lam_max);
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
