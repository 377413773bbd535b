/*
 * checks.h -- the argument rules of the core, each written once (internal).
 *
 * Every public function checks its arguments with these predicates, in the
 * order uba.h lists its statuses; uba.h states each rule in words next to
 * its status, and status.c gives the sentence a binding shows.
 */
#ifndef UBA_CHECKS_H
#define UBA_CHECKS_H

#include "uba.h"

#include <math.h>
#include <stdint.h>

/* A budget T: an integer in [1, 2^53] (UBA_MAX_BUDGET). */
static inline int
is_budget(double T)
{
    return T >= 1.0 && T <= UBA_MAX_BUDGET && floor(T) == T;
}

/* The same rule for a budget given as a size, compared as integers: as a
 * double, 2^53 + 1 rounds to 2^53 (and larger sizes down to the next even
 * or coarser double), which would let through budgets of up to 2^53 + 1
 * and beyond. */
static inline int
is_budget_size(size_t T)
{
    return T >= 1 && (uint64_t)T <= (uint64_t)UBA_MAX_BUDGET;
}

/* phi, a shape: finite, > 0. */
static inline int
is_phi(double phi)
{
    return isfinite(phi) && phi > 0.0;
}

/* t, a step: finite, >= 0. */
static inline int
is_step(double t)
{
    return isfinite(t) && t >= 0.0;
}

/* W, warmup steps: an integer in [0, T). */
static inline int
is_warmup(double W, double T)
{
    return W >= 0.0 && W < T && floor(W) == W;
}

/* A variance, a gap or a squared distance: finite, >= 0. */
static inline int
is_nonnegative(double x)
{
    return isfinite(x) && x >= 0.0;
}

/* A curvature range [lam_min, lam_max]. */
static inline uba_status
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
     * problems of the worst cases never underflow their interval. */
    if (!isfinite(1.0 / lam_min) || !isfinite(2.0 * (lam_max / lam_min))) {
        return UBA_E_CURVATURE;
    }
    return UBA_OK;
}

/* The constants of bound (c): L, mu, sigma2, f_gap. */
static inline uba_status
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

/* A spectrum (uba.h), in uba.h's order: the lengths, then the entries,
 * array by array (the first bad index to *bad_index, if not NULL).  Writes
 * the smallest and largest eigenvalue, which the callers' ranges need. */
static inline uba_status
check_spectrum(const uba_spectrum *sp, double *lam_lo, double *lam_hi,
               size_t *bad_index)
{
    if (sp == NULL) {
        return UBA_E_NULL;
    }
    const size_t n = sp->n;
    if (n == 0) {
        return UBA_E_EIGENVALUES_EMPTY;
    }
    if (sp->weights != NULL && sp->n_weights != 1 && sp->n_weights != n) {
        return UBA_E_WEIGHTS_LENGTH;
    }
    if (sp->n_start != 1 && sp->n_start != n) {
        return UBA_E_START_LENGTH;
    }
    if (sp->n_noise != 1 && sp->n_noise != n) {
        return UBA_E_NOISE_LENGTH;
    }
    if (sp->eigenvalues == NULL || sp->start == NULL || sp->noise == NULL) {
        return UBA_E_NULL;
    }
    const struct {
        const double *a;
        size_t count;
        uba_status status;
    } arrays[] = {
        {sp->eigenvalues, n, UBA_E_EIGENVALUES},
        {sp->weights, sp->weights == NULL ? 0 : sp->n_weights, UBA_E_WEIGHTS},
        {sp->start, sp->n_start, UBA_E_START},
        {sp->noise, sp->n_noise, UBA_E_NOISE},
    };
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++) {
        for (size_t i = 0; i < arrays[a].count; i++) {
            if (!is_nonnegative(arrays[a].a[i])) {
                if (bad_index != NULL) {
                    *bad_index = i;
                }
                return arrays[a].status;
            }
        }
    }
    double lo = sp->eigenvalues[0], hi = lo;
    for (size_t k = 1; k < n; k++) {
        lo = fmin(lo, sp->eigenvalues[k]);
        hi = fmax(hi, sp->eigenvalues[k]);
    }
    *lam_lo = lo;
    *lam_hi = hi;
    return UBA_OK;
}

#endif /* UBA_CHECKS_H */
