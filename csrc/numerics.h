/*
 * numerics.h -- small numerical helpers shared by the theory's files
 * (theory.c and expected_loss.c; internal to the core): the argument
 * checks of budgets and nonnegative reals, exact powers of two and binary
 * exponents, Neumaier's compensated sum, Brent's minimiser and the target
 * clones of the vectorised kernels.  Moved here unchanged from theory.c so
 * that each has one home.
 */
#ifndef UBA_NUMERICS_H
#define UBA_NUMERICS_H

#include "uba.h"
#include "progress.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const double LN2 = 0.69314718055994530942;
static const double LN10 = 2.30258509299404568402;

/* As in schedule.c: the theory's kernels are built for AVX-512, AVX2 (both
 * with FMA) and the baseline, and the loader picks one for the CPU.  They
 * round identically on every clone: the build does not contract a * b + c,
 * and the fused multiply-adds written here as fma() are correctly rounded
 * everywhere (an instruction on the clones, libm's fma on the baseline). */
#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) \
    && defined(__has_attribute) && !defined(UBA_NO_TARGET_CLONES)
#if __has_attribute(target_clones)
#define THEORY_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", \
                                 "default")))
#endif
#endif
#ifndef THEORY_CLONES
#define THEORY_CLONES
#endif

/* ---- argument checks -------------------------------------------------- */

/* T in [1, 2^53], compared as integers: as a double, 2^53 + 1 rounds to
 * 2^53 (and larger sizes down to the next even or coarser double), which
 * would let through budgets of up to 2^53 + 1 and beyond. */
static inline int
is_budget_size(size_t T)
{
    return T >= 1 && (uint64_t)T <= (UINT64_C(1) << 53);
}

static inline int
is_nonnegative(double x)
{
    return isfinite(x) && x >= 0.0;
}

/* Objectives are clamped to +-1e200 so that Brent's parabola never meets
 * an infinity (an exact zero residual has log -inf). */
static inline double
clamp_objective(double v)
{
    return fmax(-1e200, fmin(1e200, isnan(v) ? 1e200 : v));
}

static inline uba_status
check_phi_range(double phi_lo, double phi_hi)
{
    if (!(isfinite(phi_lo) && isfinite(phi_hi) && phi_lo > 0.0
          && phi_lo < phi_hi)) {
        return UBA_E_PHI_RANGE;
    }
    return UBA_OK;
}

/* ---- exact powers of two ------------------------------------------------ */

/* The binary exponent e of a finite x > 0 with x < 2^e (as frexp gives it),
 * read from the bits: hot loops call it once per step. */
static inline int
exponent_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    const int biased = (int)((u >> 52) & 0x7ff);
    return biased == 0 ? -1022 : biased - 1022;
}

/* 2^k for an integer k in [-1074, 1023], from the bits. */
static inline double
pow2(int k)
{
    const uint64_t u = k >= -1022 ? (uint64_t)(k + 1023) << 52
                                  : UINT64_C(1) << (k + 1074);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ---- compensated summation ---------------------------------------------- */

/* Neumaier's compensated sum, so that S1 and S2 are correct to a few ulp
 * whatever n is. */
typedef struct ksum {
    double s;
    double c;
} ksum;

static inline void
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

/* ---- the minimiser the searches use ------------------------------------- */

typedef double (*objective_fn)(void *ctx, double x);

/*
 * Brent's localmin (Brent, "Algorithms for Minimization without
 * Derivatives", 1973, ch. 5): golden section with parabolic steps on
 * [lo, hi], from x0 with f(x0) = fx0 known.  Stops when x is within
 * 2 (rel |x| + abs/3) of the minimiser (for a unimodal f), or when the
 * progress hook has asked to stop.
 */
static inline double
brent_min(objective_fn f, void *ctx, double lo, double hi, double x0,
          double fx0, double rel, double abs_tol, double *fmin,
          const uba_ticker *ticker)
{
    const double golden = 0.38196601125010515;  /* (3 - sqrt 5) / 2 */
    double x = x0, w = x0, v = x0;
    double fx = fx0, fw = fx0, fv = fx0;
    double d = 0.0, e = 0.0;
    for (int it = 0; it < 200 && !ticker->stopped; it++) {
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

#endif /* UBA_NUMERICS_H */
