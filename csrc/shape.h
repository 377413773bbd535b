/*
 * shape.h -- the arithmetic of the UBA shape g(t), shared by schedule.c
 * (the schedule itself) and choose_phi.c (which evaluates the same schedule
 * for many phi at once, the angle computed once per step).  Internal to the
 * core: static inline functions, so that every use compiles to the same
 * operations and rounds identically.
 */
#ifndef UBA_SHAPE_H
#define UBA_SHAPE_H

#include <stdint.h>
#include <string.h>

/* Round every operation on its own: no a * b + c fused into one multiply-
 * add, so that the scalar path and every vectorized clone of fill_values
 * give the same bits.  Clang contracts by default and honours the standard
 * pragma; GCC does not contract in ISO C mode (-std=c11), warns about the
 * pragma, and the Python build passes -ffp-contract=off as well. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* pi/2 rounded to double; the angle below never exceeds pi/4, where the
 * relative error of this constant (about 6e-17) is all it contributes. */
static const double HALF_PI = 1.57079632679489661923;

/* Small functions on the hot paths, inlined wherever the compiler allows:
 * uba_step_groups then evaluates the schedule at t_prev and t as two
 * independent chains of operations that overlap. */
#if defined(__GNUC__)
#define UBA_INLINE static inline __attribute__((always_inline))
#else
#define UBA_INLINE static inline
#endif

/* ---- sin on [0, pi/4] ------------------------------------------------ */

/*
 * A minimax polynomial for sin on the reduced range [0, pi/4]:
 *
 *     sin x = x + x^3 (S1 + S2 z + ... + S6 z^5),      z = x^2
 *
 * Provenance: csrc/tools/fit_sincos.py derives the coefficients by the
 * Remez exchange in 80-digit arithmetic (mpmath) for the relative error on
 * [0, pi/4] and rounds them to double.  Approximation error 2^-57.9
 * relative, far below half an ulp; evaluated as below, within 0.71 ulp of
 * sin on the whole range (measured by the same script, which replays these
 * operations in double).  The shape needs cos only squared, and on this
 * range cos^2 = 1 - sin^2 >= 1/2 loses nothing to cancellation, so no cos
 * polynomial is evaluated.  csrc/tests/test_kernel.c checks the resulting
 * g end to end.
 *
 * Plain arithmetic, no libm call, no branch: the compiler vectorizes loops
 * that use it, and every path (scalar, vector, every CPU clone) gives the
 * same bits because C forbids reassociation and the build does not
 * contract into fused multiply-adds (-std=c11, -ffp-contract=off).
 */
static const double S1 = -0.1666666666666663;
static const double S2 = 0.008333333333322118;
static const double S3 = -0.00019841269829589544;
static const double S4 = 2.7557313621387726e-06;
static const double S5 = -2.5050747763152984e-08;
static const double S6 = 1.5896230173932965e-10;

UBA_INLINE double
sin_reduced(double x, double z)
{
    const double p = S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6))));
    return x + (x * z) * p;
}

/* ---- the shape -------------------------------------------------------- */

/*
 * The weights of eta_max and eta_min at step t, for t in [0, T]:
 *
 *     g  = 1 / (1 + x),   gc = 1 - g = 1 / (1 + 1/x),   x = h tan^2 a
 *
 * with h = phi/2 and a = pi t / (2T).  This equals the paper's
 * 2u / (2 phi + (2 - phi) u) with u = 1 + cos(pi t/T) = 2 cos^2 a, but
 * never forms 1 + cos(pi t/T), which cancels near t = T.  Past t = T/2 the
 * angle is reflected, b = pi (T - t) / (2T) and x = h / tan^2 b, so the
 * angle stays in [0, pi/4], where tan^2 = sin^2 / (1 - sin^2) needs only
 * the sine polynomial above and nothing cancels (1 - sin^2 >= 1/2); the
 * reduced angle keeps full relative accuracy down to t = T - 1 at
 * T = 2^53 (T - t is exact there, Sterbenz).  Both weights come out with a
 * few ulp of relative error, g(0) = 1 and g(T) = 0 exactly, and gc is
 * computed without the cancellation of 1 - g.
 *
 * Every operation from t to x is monotone in its operand (the polynomial
 * too: on [0, pi/4] its cubic term moves by at most 0.31 ulp of x per ulp
 * of x) and rounding is monotone, so g is non-increasing and gc
 * non-decreasing on [0, T] bit for bit, also where a step changes g by
 * less than an ulp (huge T, tiny phi); across t = T/2, x <= h on the left
 * and x >= h on the right.  (A c^2 / (c^2 + h s^2) form rises by an ulp
 * there: its numerator and denominator move in different directions.)
 *
 * No division by zero and no NaN: h = phi/2 is 0 only for the smallest
 * subnormal phi, tan^2 b is 0 only at t = T, and both are taken by
 * selects.  The reflection is a select too, not a branch, so that a loop
 * over this function vectorizes.
 */
typedef struct shape_weights {
    double g;   /* weight of eta_max */
    double gc;  /* weight of eta_min, 1 - g without cancellation */
} shape_weights;

/* cond ? a : b, written as a bit-select so that no compiler turns it into
 * a branch (and then refuses to vectorize a loop that uses it). */
UBA_INLINE double
select_double(int cond, double a, double b)
{
    uint64_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    const uint64_t mask = (uint64_t)0 - (uint64_t)(cond != 0);
    const uint64_t r = (ua & mask) | (ub & ~mask);
    double out;
    memcpy(&out, &r, sizeof out);
    return out;
}

/* The part of the shape that does not depend on phi: tan^2 of the
 * reduced angle, and whether t was reflected past T/2. */
typedef struct shape_angle {
    double tan2;  /* in [0, 1] */
    int reflect;
} shape_angle;

UBA_INLINE shape_angle
shape_angle_at(double t, double T)
{
    shape_angle an;
    an.reflect = t > 0.5 * T;
    const double d = select_double(an.reflect, T - t, t);
    const double a = d * (HALF_PI / T);
    const double sin_a = sin_reduced(a, a * a);
    const double sin2 = sin_a * sin_a;       /* <= 1/2 */
    an.tan2 = sin2 / (1.0 - sin2);           /* in [0, 1] */
    return an;
}

/* x = h tan^2 a (h / tan^2 b past T/2; h where that is 0/0 at t = T). */
UBA_INLINE double
shape_x(shape_angle an, double half_phi)
{
    const int zero_angle = an.tan2 == 0.0;
    return select_double(
        an.reflect, half_phi / select_double(zero_angle, 1.0, an.tan2),
        half_phi * an.tan2);
}

/* g = 1 / (1 + x), the weight of eta_max away from t = T. */
UBA_INLINE double
shape_g(double x)
{
    return 1.0 / (1.0 + x);
}

UBA_INLINE shape_weights
shape_in_period(double t, double T, double half_phi)
{
    const shape_angle an = shape_angle_at(t, T);
    const int trough = an.reflect & (an.tan2 == 0.0);     /* t = T */
    const double x = shape_x(an, half_phi);
    const int positive = x > 0.0;
    const double gc = 1.0 / (1.0 + 1.0 / select_double(positive, x, 1.0));
    shape_weights w;
    w.g = select_double(trough, 0.0, shape_g(x));
    w.gc = select_double(trough, 1.0, select_double(positive, gc, 0.0));
    return w;
}

#endif /* UBA_SHAPE_H */
