/*
 * theory_internal.h -- what the theory's sections share (internal to the
 * core; docs/theory.md sections 1-5, one C file each):
 *
 *   curvature.c        section 1, the curvature connection
 *   bounds.c           section 2, the bounds (a)-(c) for any step sequence
 *   worst_case.c       section 3, the worst-case residual
 *   noisy_quadratic.c  section 4, the noisy quadratic
 *   choose_phi.c       section 5, choosing phi
 *
 * Here: the constants and the CPU clones of the kernels, exact powers of
 * two, compensated arithmetic (TwoSum, Neumaier's sum, the compensated
 * Horner scheme of bound (c)), the curvature interval as an offset, sorting
 * without allocation (theory_internal.c), and the few functions one section
 * calls in another, each defined in its own section's file (the worst
 * cases and the expected loss, which choose_phi.c minimises).  The
 * argument rules are in checks.h, the progress polling in progress.h.
 *
 * No allocation, no globals: scratch space is a caller-owned workspace
 * whose size the *_work_size functions give.  Long loops poll the caller's
 * uba_progress hook (progress.h) and stop with UBA_E_INTERRUPTED when asked.
 */
#ifndef UBA_THEORY_INTERNAL_H
#define UBA_THEORY_INTERNAL_H

#include "uba.h"
#include "checks.h"
#include "progress.h"
#include "shape.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The error-free transformations below (TwoSum, the compensated Horner
 * scheme) need every a * b + c rounded as written: shape.h turns off the
 * contraction into fused multiply-adds for Clang, and GCC in ISO C mode
 * (and the Python build) does not contract. */

static const double LN2 = 0.69314718055994530942;
static const double LN10 = 2.30258509299404568402;

/* As in schedule.c: the kernels below are built for AVX-512, AVX2 (both
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

/* A function one section's file defines for another's: not exported from
 * a shared library that holds the core (the Python extension). */
#if defined(__GNUC__) && !defined(_WIN32)
#define UBA_INTERNAL __attribute__((visibility("hidden")))
#else
#define UBA_INTERNAL
#endif

/* The loops over lrs (and over the steps of the expected loss) poll the
 * progress hook once per chunk. */
#define SCAN_CHUNK 65536

/* The binary exponent e of a finite x > 0 with x < 2^e (as frexp gives it),
 * read from the bits: the hot loops below call it once per step. */
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

/* ---- compensated arithmetic -------------------------------------------- */

/* s + err = x + y exactly (Knuth's TwoSum). */
static inline double
two_sum(double x, double y, double *err)
{
    const double s = x + y;
    const double bv = s - x;
    *err = (x - (s - bv)) + (y - bv);
    return s;
}

/* Neumaier's compensated sum: correct to a few ulp whatever the number of
 * terms (the bounds' S1 and S2, the residual's log at an end). */
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

/*
 * The compensated Horner scheme of bound (c) (bounds.c gives the
 * recursion and why it is compensated), shared by uba_bound_strongly_convex
 * and the phi minimiser that evaluates that bound (choose_phi.c).
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

static inline sc_noise
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

static inline void
sc_sum_rescale(sc_sum *x, int k)
{
    x->hi = ldexp(x->hi, -k);
    x->lo = ldexp(x->lo, -k);
    x->E += (double)k;
    x->S = fabs(x->E) <= 200.0 ? ldexp(1.0, -(int)x->E) : 0.0;
}

static inline void
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
static inline double
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
static inline void
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

static inline double
sc_sum_value(const sc_sum *x)
{
    const double v = x->hi + x->lo;
    return v > 0.0 ? ldexp(v, (int)fmax(fmin(x->E, 4000.0), -4000.0)) : 0.0;
}

static inline double
sc_sum_log(const sc_sum *x)
{
    const double v = x->hi + x->lo;
    return v > 0.0 ? log(v) + x->E * LN2 : -HUGE_VAL;
}

static inline sc_sum
sc_sum_from(double x)
{
    sc_sum r = {x, 0.0, 0.0, 1.0};
    sc_sum_norm(&r);
    return r;
}


/* ---- sorting without allocation (theory_internal.c) --------------------- */

/*
 * Ascending sort of finite doubles in place: O(n) for input that is
 * already ascending or descending (schedules usually are), else heapsort,
 * O(n log n).  Returns nonzero when the progress hook asked to stop.
 */
UBA_INTERNAL int sort_ascending(double *a, size_t n, uba_ticker *ticker);

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

static inline yspace
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
static inline double
yspace_point(const yspace *ys, double y, double *lo)
{
    return two_sum(ys->a, y * ys->scale, lo);
}

/* The offset of lam = r_hi + r_lo, rounded to a double. */
static inline double
yspace_offset(const yspace *ys, double r_hi, double r_lo)
{
    double err;
    const double d = two_sum(r_hi, -ys->a, &err);
    return (d + (err + r_lo)) / ys->scale;
}

/* The root 1/eta as hi + lo (lo to about an ulp of the error of hi). */
static inline double
root_of(double eta, double *lo)
{
    const double r = 1.0 / eta;
    *lo = fma(-eta, r, 1.0) / eta;
    return r;
}

/* ---- section 3, the worst-case residual (worst_case.c) ------------------ */

/* The checks both worst cases share, in their order of report. */
UBA_INTERNAL uba_status check_worst_case(const double *lrs, size_t n,
                                         double lam_min, double lam_max,
                                         double sigma2, const double *work,
                                         size_t work_len, const double *out,
                                         size_t *bad_index);

/* Progress units a search over n steps is expected to take. */
UBA_INTERNAL double wc_expected_units(size_t n);

/*
 * The worst-case residual for validated input: builds the problem in
 * work and searches every bracket.  Returns nonzero when interrupted (the
 * outputs are then not written).
 */
UBA_INTERNAL int wc_run(const double *lrs, size_t n, double a, double b,
                        double *work, double *log_out, double *lam_out,
                        uba_ticker *ticker);

/* ---- section 4, the noisy quadratic (noisy_quadratic.c) ------------------ */

#define NV_UNIFORM 64        /* evenly spaced points screened              */
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


/* The doubles of workspace of the noisy search over n <= SIZE_MAX / 8
 * steps (uba_worst_case_work_size covers it). */
UBA_INTERNAL size_t nv_work_size(size_t n);

UBA_INTERNAL nv_layout nv_layout_of(double *work, size_t n);

/*
 * The per-step data of V for validated input (no roots yet); O(n).
 * Returns nonzero when interrupted.
 */
UBA_INTERNAL int nv_setup(nv_problem *pr, const nv_layout *l,
                          const double *lrs, size_t n, double a, double b,
                          double sigma2, uba_ticker *ticker);

/* log V at the offsets y[0..cnt), into out (and with derivs, (log V)' and
 * (log V)'' in y into o1, o2). */
UBA_INTERNAL void nv_eval(const nv_problem *pr, const double *y, size_t cnt,
                          int derivs, double *out, double *o1, double *o2,
                          uba_ticker *ticker);

/* Progress units of one noisy search over n steps (an estimate). */
UBA_INTERNAL double nv_expected_units(size_t n);

/* The noisy worst case for validated input with sigma2 > 0; hints (in
 * lam) are screened too.  Returns nonzero when interrupted. */
UBA_INTERNAL int nv_run(const double *lrs, size_t n, double a, double b,
                        double sigma2, double *work, const double *hints,
                        size_t nh, double *log_out, double *lam_out,
                        uba_ticker *ticker);

/* The expected loss over a spectrum, which choose_phi.c minimises. */

/* The steps, cut into blocks whose factors grow a direction by at most a
 * bounded power of two (see noisy_quadratic.c). */
typedef struct el_steps {
    const double *eta;   /* the n steps                                     */
    size_t n;
    double *cut;         /* block b is steps [cut[b-1], cut[b])             */
    double *grow;        /* it grows a lane by less than 2^grow[b]          */
    size_t nblocks;
    int q;               /* max |eta| 2^-q in [1/2, 1) (clamped to range)   */
    double s;            /* 2^-q                                            */
} el_steps;

/* The blocks of the n steps eta for eigenvalues in [lam_lo, lam_hi], into
 * the caller's cut and grow (n doubles each); nonzero when interrupted. */
UBA_INTERNAL int el_blocks(el_steps *st, const double *eta, size_t n,
                           double lam_lo, double lam_hi, double *cut,
                           double *grow, uba_ticker *ticker);

/* The expected loss L of the steps over a checked spectrum, as its log and
 * as a double (saturated); nonzero when interrupted. */
UBA_INTERNAL int el_evaluate(const el_steps *st, const uba_spectrum *sp,
                             uba_ticker *ticker, double *log_loss,
                             double *loss);

/* The loss before any step, 0.5 sum_k w_k lam_k s_k, summed as
 * el_evaluate sums (saturated). */
UBA_INTERNAL double el_initial_loss(const uba_spectrum *sp);

/* Directions rounded up to whole groups of lanes: the progress units of
 * one pass per step. */
UBA_INTERNAL double el_lanes_padded(size_t n);

#endif /* UBA_THEORY_INTERNAL_H */
