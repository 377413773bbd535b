/* reference.h -- the schedule in extended precision, for the C tests. */
#ifndef UBA_REFERENCE_H
#define UBA_REFERENCE_H

#include <math.h>

static const long double PI_L = 3.141592653589793238462643383279502884L;

/* g = 1 / (1 + (phi/2) tan^2(pi t / 2T)) in long double, written through
 * the reflected angle past T/2 so it stays accurate up to t = T. */
static long double
ref_shape(long double t, long double T, long double phi)
{
    long double h = phi / 2;
    if (t <= T / 2) {
        long double x = tanl(PI_L * t / (2 * T));
        return 1 / (1 + h * x * x);
    }
    long double y = tanl(PI_L * (T - t) / (2 * T));
    return y * y / (y * y + h);
}

#endif /* UBA_REFERENCE_H */
