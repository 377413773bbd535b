"""Derive the sin polynomial coefficients used by csrc/schedule.c.

Run: python csrc/tools/fit_sincos.py   (needs mpmath; about 10 s)

The schedule needs sin(x) only on the reduced range x in [0, pi/4]
(schedule.c reflects the angle past T/2, and takes cos^2 = 1 - sin^2,
which is >= 1/2 there).  On that range

    sin x = x + x^3 P(x^2),        P(z) = S1 + S2 z + ... + S6 z^5

and P is the minimax (Remez) polynomial of degree 5 for the *relative*
error of sin, computed here in 80-digit arithmetic and rounded to double.
Its approximation error, printed below, is 2^-57.9: far under half an
ulp, so the error of the evaluated function is the rounding of the
evaluation itself.  The script then evaluates the rounded coefficients
exactly as schedule.c does (Python floats are IEEE doubles, operation for
operation) at 20000 points of [0, pi/4] and prints the worst error: 0.71
ulp.  Degree 4 would leave 2^-47.5: not enough.  Taylor coefficients of
degree 5 leave 2^-47 at pi/4; Taylor needs two more terms.

With --cos the script also fits cos x = 1 - x^2/2 + x^4 Q(x^2) the same
way (2^-64; 0.71 ulp evaluated as fdlibm's k_cos.c arranges it), which an
earlier version of the kernel used.  The construction (odd/even
polynomials in x^2 on [-pi/4, pi/4]) is that of Sun's fdlibm
k_sin.c/k_cos.c; the coefficients are derived independently here.
"""

from __future__ import annotations

import math
import random
import sys

import mpmath as mp

mp.mp.dps = 80
ZMAX = (mp.pi / 4) ** 2  # z = x^2 on [0, pi/4]


def f_sin(z):
    """(sin x - x) / x^3, the function P approximates."""
    if z == 0:
        return mp.mpf(-1) / 6
    x = mp.sqrt(z)
    return (mp.sin(x) - x) / x**3


def w_sin(z):
    """Error of sin from an error e in P is x^3 e; relative: x^3 e / sin x."""
    if z == 0:
        return mp.mpf(0)
    x = mp.sqrt(z)
    return x**3 / mp.sin(x)


def f_cos(z):
    """(cos x - 1 + x^2/2) / x^4, the function Q approximates."""
    if z == 0:
        return mp.mpf(1) / 24
    x = mp.sqrt(z)
    return (mp.cos(x) - 1 + z / 2) / z**2


def w_cos(z):
    x = mp.sqrt(z)
    return z**2 / mp.cos(x)


def remez(f, w, n, iters=25, grid=3000):
    """Minimax polynomial of n coefficients for f under weight w on
    (0, ZMAX]: returns (coefficients, max weighted error)."""
    m = n + 1
    pts = [ZMAX * (1 - mp.cos(mp.pi * (k + mp.mpf(1) / 2) / m)) / 2 for k in range(m)]
    xs = [ZMAX * k / grid for k in range(1, grid + 1)]
    best = None
    for _ in range(iters):
        a = mp.matrix(m, m)
        b = mp.matrix(m, 1)
        for i, z in enumerate(pts):
            for j in range(n):
                a[i, j] = z**j
            a[i, n] = (-1) ** i / w(z)
            b[i] = f(z)
        sol = mp.lu_solve(a, b)
        p = [sol[j] for j in range(n)]

        def err(z, p=p):
            return w(z) * (mp.polyval(p[::-1], z) - f(z))

        vals = [err(z) for z in xs]
        worst = max(abs(v) for v in vals)
        best = (p, worst)
        # new reference: the local extrema of alternating sign
        ext = [
            k
            for k in range(len(xs))
            if (k == 0 or abs(vals[k]) >= abs(vals[k - 1]))
            and (k == len(xs) - 1 or abs(vals[k]) >= abs(vals[k + 1]))
        ]
        sel: list[int] = []
        for k in ext:
            if sel and mp.sign(vals[k]) == mp.sign(vals[sel[-1]]):
                if abs(vals[k]) > abs(vals[sel[-1]]):
                    sel[-1] = k
            else:
                sel.append(k)
        while len(sel) > m:
            sel.pop(0 if abs(vals[sel[0]]) < abs(vals[sel[-1]]) else -1)
        if len(sel) < m:
            break
        pts = [xs[k] for k in sel]
    return best


def horner(z: float, coeffs: list[float]) -> float:
    r = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        r = c + z * r
    return r


def sin_reduced(x: float, s: list[float]) -> float:
    """schedule.c's sin_reduced, operation for operation."""
    z = x * x
    return x + (x * z) * horner(z, s)


def cos_reduced(x: float, c: list[float]) -> float:
    """schedule.c's cos_reduced, operation for operation."""
    z = x * x
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + (z * z) * horner(z, c))


def worst_ulps(fn, ref, points) -> float:
    worst = 0.0
    for x in points:
        exact = ref(mp.mpf(x))
        worst = max(worst, float(abs(fn(x) - exact)) / math.ulp(float(exact)))
    return worst


def main() -> None:
    found = {}
    fits = [("sin", f_sin, w_sin, "S")]
    if "--cos" in sys.argv[1:]:
        fits.append(("cos", f_cos, w_cos, "C"))
    for name, f, w, prefix in fits:
        coeffs, worst = remez(f, w, 6)
        found[name] = [float(c) for c in coeffs]
        print(
            f"/* {name}: max relative approximation error {mp.nstr(worst, 3)}"
            f" = 2^{mp.nstr(mp.log(worst, 2), 4)} */"
        )
        for i, c in enumerate(coeffs, start=1):
            print(f"static const double {prefix}{i} = {float(c)!r};")
    rng = random.Random(1)
    quarter = math.pi / 4
    points = [rng.uniform(0, quarter) for _ in range(20000)]
    points += [quarter * (1 - k * 1e-3) for k in range(100)] + [quarter, 1e-8, 1e-3]
    mp.mp.dps = 40
    s_err = worst_ulps(lambda x: sin_reduced(x, found["sin"]), mp.sin, points)
    print(f"/* evaluated in double: sin within {s_err:.2f} ulp */")
    if "cos" in found:
        c_err = worst_ulps(lambda x: cos_reduced(x, found["cos"]), mp.cos, points)
        print(f"/* evaluated in double: cos within {c_err:.2f} ulp */")


if __name__ == "__main__":
    main()
