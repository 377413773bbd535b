"""uba.theory at real budgets: the fast paths against exhaustive and 50-digit
references, and the places where the theory says it is exact.

References are written here from the formulas of docs/theory.md: mpmath at
50 digits, closed forms, or exhaustive searches in extended precision; none
of them calls the C core.
"""

from __future__ import annotations

import math
import sys

import mpmath
import numpy as np
import pytest

import uba
from uba import _core, theory

from ..helpers import REPO
from .test_theory import chebyshev_optimal_phi

sys.path.insert(0, str(REPO / "benchmarks"))

from peers import numpy_log_worst_case_noisy_error

mpmath.mp.dps = 50


# ---- references ------------------------------------------------------------------


def mp_log_residual_max(lrs: np.ndarray, a: float, b: float) -> mpmath.mpf:
    """max over [a, b] of log|prod (1 - eta lam)| at 50 digits: every bracket
    between consecutive roots (where log|p| is concave) by safeguarded Newton
    on its derivative, and both ends.  An independent implementation of the
    search docs/theory.md describes, in mpmath."""
    eta = [mpmath.mpf(e) for e in lrs.tolist()]

    def log_abs_p(x: mpmath.mpf) -> mpmath.mpf:
        return mpmath.log(abs(mpmath.fprod(1 - e * x for e in eta)))

    def slopes(x: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
        r = [e / (1 - e * x) for e in eta]
        return -mpmath.fsum(r), -mpmath.fsum(q * q for q in r)

    A, B = mpmath.mpf(a), mpmath.mpf(b)
    cuts = [A] + sorted(1 / e for e in eta if e > 0 and A < 1 / e < B) + [B]
    best = max(log_abs_p(A), log_abs_p(B))
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        x = (lo + hi) / 2
        for _ in range(40):
            d1, d2 = slopes(x)
            lo, hi = (x, hi) if d1 > 0 else (lo, x)
            step = x - d1 / d2
            nxt = step if lo < step < hi else (lo + hi) / 2
            if abs(nxt - x) <= mpmath.mpf(10) ** -40 * abs(x):
                break
            x = nxt
        best = max(best, log_abs_p(x))
    return best


def ld_log_noisy(lrs: np.ndarray, lams: np.ndarray, sigma2: float) -> np.ndarray:
    """log E x_n^2 at many curvatures, by the recursion in numpy longdouble
    (its exponent range is wide; lanes past 1e+-1000 are rescaled)."""
    x = np.asarray(lams, dtype=np.longdouble)
    v = np.ones(len(x), dtype=np.longdouble)
    sc = np.zeros(len(x), dtype=np.longdouble)
    w = np.ones(len(x), dtype=np.longdouble)  # e^-sc
    s2 = np.longdouble(sigma2)
    for i, eta in enumerate(lrs.astype(np.longdouble)):
        f = 1 - eta * x
        v = f * f * v + s2 * eta * eta * w
        if i % 32 == 31:
            far = (v > np.longdouble("1e1000")) | (v < np.longdouble("1e-1000"))
            if far.any():
                sc[far] += np.log(v[far])
                v[far] = 1
                w[far] = np.exp(-sc[far])
    return np.log(v) + sc


def exhaustive_log_noisy_max(lrs: np.ndarray, a: float, b: float, sigma2: float) -> float:
    """Every lobe between consecutive roots (and the ends) sampled at 5
    points in longdouble, the 8 best lobes then refined by golden section:
    the exact method the fast search is compared with."""
    roots = np.sort(1 / lrs[lrs > 0].astype(np.longdouble))
    cuts = np.concatenate([[a], roots[(roots > a) & (roots < b)], [b]]).astype(np.longdouble)
    frac = np.linspace(0, 1, 7, dtype=np.longdouble)[1:-1]
    pts = (cuts[:-1, None] + (cuts[1:] - cuts[:-1])[:, None] * frac[None, :]).ravel()
    vals = np.concatenate(
        [ld_log_noisy(lrs, pts[i : i + 4096], sigma2) for i in range(0, len(pts), 4096)]
    )
    vals = vals.reshape(len(cuts) - 1, len(frac))
    best = max(float(vals.max()), float(ld_log_noisy(lrs, np.array([a, b]), sigma2).max()))
    g = (3 - np.sqrt(np.longdouble(5))) / 2
    for j in np.argsort(vals.max(axis=1))[::-1][:8]:
        lo, hi = cuts[j], cuts[j + 1]
        for _ in range(70):
            x1, x2 = lo + g * (hi - lo), hi - g * (hi - lo)
            v1, v2 = ld_log_noisy(lrs, np.array([x1, x2]), sigma2)
            lo, hi = (x1, hi) if v1 < v2 else (lo, x2)
        best = max(best, float(ld_log_noisy(lrs, np.array([(lo + hi) / 2]), sigma2)[0]))
    return best


def mp_log_noisy_at(lrs: np.ndarray, lam: float, sigma2: float) -> mpmath.mpf:
    """log E x_n^2 at one curvature, by the recursion at 50 digits."""
    lam, v = mpmath.mpf(lam), mpmath.mpf(1)
    for e in lrs.tolist():
        e = mpmath.mpf(e)
        v = (1 - e * lam) ** 2 * v + sigma2 * e * e
    return mpmath.log(v)


def uba_at_midpoints(T: int, phi: float, eta_max: float, eta_min: float) -> np.ndarray:
    return uba.schedule(np.arange(T) + 0.5, T, phi, eta_max, eta_min)


# ---- item 4: exact where it says it is ---------------------------------------------


@pytest.mark.parametrize(
    ("lam_min", "excess"), [(1.0, 1e-12), (1e-3, 1e-12), (3.7, 1e-11), (1.0, 1e-10)]
)
def test_worst_case_residual_is_right_for_near_degenerate_ranges(
    lam_min: float, excess: float
) -> None:
    """kappa = 1 + 1e-10 .. 1 + 1e-12: the lobes of |p| near the ends are a
    few ulp of lam wide.  A search in lam itself (before) came out 5.7e-2,
    1.5e-1, 2.5e-4 and 7.7e-8 low on these four.  The steps are the
    Chebyshev formula 1/(lam_min c^2 + lam_max s^2) evaluated in NumPy, so
    that the input does not depend on the code under test."""
    T = 60
    lam_max = lam_min * (1 + excess)
    angle = (2 * np.arange(1, T + 1) - 1) * np.pi / (4 * T)
    steps = 1 / (lam_min * np.cos(angle) ** 2 + lam_max * np.sin(angle) ** 2)
    got = theory.log_worst_case_residual(steps, lam_min, lam_max)
    ref = mp_log_residual_max(steps, lam_min, lam_max)
    assert abs(mpmath.expm1(got - ref)) <= 1e-11


@pytest.mark.parametrize(("eta", "mu"), [(0.25, 2.0**-10), (0.1, 0.01), (1 / 3, 0.003)])
def test_bound_strongly_convex_is_exact_to_a_few_ulp_at_a_million_steps(
    eta: float, mu: float
) -> None:
    """Closed form of a constant schedule, at 50 digits:
    e_n = a^n f + K eta^2 (1 - a^n) / (1 - a), a = 1 - mu eta.
    Evaluated plainly (before), the error grew with n: 5.5e-13 at n = 1e6."""
    n, L, sigma2, f_gap = 10**6, 1.0, 0.01, 1.0
    a = 1 - mpmath.mpf(mu) * mpmath.mpf(eta)
    K = mpmath.mpf(L) * sigma2 / 2
    ref = a**n * f_gap + K * mpmath.mpf(eta) ** 2 * (1 - a**n) / (1 - a)
    got = theory.bound_strongly_convex(np.full(n, eta), mu=mu, L=L, sigma2=sigma2, f_gap=f_gap)
    assert abs((got - ref) / ref) <= 4e-16


@pytest.mark.slow  # 2e5 steps at 50 digits
def test_bound_strongly_convex_matches_50_digits_on_a_schedule() -> None:
    n, mu, L, sigma2, f_gap = 200_000, 1e-3, 1.0, 0.05, 3.0
    lrs = uba.schedule(np.arange(n), n, 3.0, 1.0)
    mu_, e = mpmath.mpf(mu), mpmath.mpf(f_gap)
    K = mpmath.mpf(L) * sigma2 / 2
    for x in lrs.tolist():
        x = mpmath.mpf(x)
        e = (1 - mu_ * x) * e + K * x * x
    got = theory.bound_strongly_convex(lrs, mu=mu, L=L, sigma2=sigma2, f_gap=f_gap)
    assert abs((got - e) / e) <= 4e-16


@pytest.mark.parametrize("lam", [1.0, 0.3, 3.7, 1e-3, 1e300])
def test_chebyshev_steps_on_one_point_are_that_point(lam: float) -> None:
    """lam_min == lam_max: T copies of 1/lam_min, exactly (before: the steps
    wiggled by 1-2 ulp, 1804 ascents at T = 1e4 for lam = 1)."""
    steps = theory.chebyshev_step_sizes(10_000, lam, lam)
    assert np.all(steps == 1 / lam)


@pytest.mark.parametrize(
    ("lam_min", "lam_max"), [(0.7, 0.7000000000001), (1.0, 1.0 + 2**-40), (1.0, 3.0), (1e-3, 1e5)]
)
def test_chebyshev_steps_never_rise(lam_min: float, lam_max: float) -> None:
    steps = theory.chebyshev_step_sizes(10_000, lam_min, lam_max)
    assert np.all(np.diff(steps) <= 0)  # before: 2239 ascents for (0.7, 0.7 + 1e-13)
    # and each is the formula of docs/theory.md to a few ulp (50 digits)
    for k in (1, 2, 5_000, 9_999, 10_000):
        c = mpmath.cos((2 * k - 1) * mpmath.pi / (2 * 10_000))
        ref = 2 / (mpmath.mpf(lam_max) + lam_min - (mpmath.mpf(lam_max) - lam_min) * c)
        assert abs(steps[k - 1] - ref) / ref <= 4e-16


# ---- the noisy search against the exact method and 50 digits ----------------------


NOISY_CASES = [  # kappa, phi / kappa, eta_max * lam_min, eta_min * lam_max, sigma2
    (100.0, 2.0, 1.0, 1.0, 1e-3),
    (1e6, 2.0, 1.0, 1.0, 1e-3),
    (100.0, 0.5, 1.0, 1.0, 1e-3),
    (1e4, 2.0, 1.0, 1.0, 1e-12),
    (1e4, 0.5, 2.5, 0.5, 1e-6),  # overshoots: the worst case is inside the range
    (40.0, 8.0, 1.0, 1.0, 1e-5),
]


@pytest.mark.parametrize(
    ("case", "T"),
    # the first case in the quick tier, every one in the full tier (seconds each)
    [(NOISY_CASES[0], 500)]
    + [
        pytest.param(c, T, marks=pytest.mark.slow)
        for c, T in [(c, 500) for c in NOISY_CASES[1:]]
        + [(c, 2000) for c in NOISY_CASES[4:5]]
        + [(c, 3000) for c in NOISY_CASES[1:2]]
    ],
)
def test_noisy_worst_case_equals_the_exhaustive_search(
    case: tuple[float, float, float, float, float], T: int
) -> None:
    """Up to about n = 2,900 the search screens every lobe (then it differs
    from the exact method only in evaluating many curvatures per pass); at
    3,000 it screens 256 of them and zooms."""
    kappa, phi_k, top, floor, sigma2 = case
    lrs = uba_at_midpoints(T, phi_k * kappa, top, floor / kappa)
    got, lam = _core.worst_case_noisy_error(lrs, 1.0, kappa, sigma2, None)
    ref = exhaustive_log_noisy_max(lrs, 1.0, kappa, sigma2)
    assert abs(got - ref) <= 1e-10 * max(1.0, abs(ref))
    # the value is the error at the curvature it names (50 digits)
    assert abs(mp_log_noisy_at(lrs, lam, sigma2) - got) <= 1e-11 * max(1.0, abs(got))


@pytest.mark.slow
@pytest.mark.parametrize("case", [NOISY_CASES[1], NOISY_CASES[4]])
def test_noisy_worst_case_at_1e4_beats_a_65536_point_grid(
    case: tuple[float, float, float, float, float],
) -> None:
    """Past n of about 2,900 not every lobe is screened: the search must still
    find at least what a dense grid finds (both are values of E x^2 at actual
    curvatures, so the larger is the closer to the maximum)."""
    kappa, phi_k, top, floor, sigma2 = case
    n = 10_000
    lrs = uba_at_midpoints(n, phi_k * kappa, top, floor / kappa)
    got, lam = _core.worst_case_noisy_error(lrs, 1.0, kappa, sigma2, None)
    dense, _ = numpy_log_worst_case_noisy_error(lrs, 1.0, kappa, sigma2, grid=65_536)
    assert got >= dense - 1e-12 * abs(dense)
    assert abs(float(ld_log_noisy(lrs, np.array([lam]), sigma2)[0]) - got) <= 1e-10 * max(
        1.0, abs(got)
    )


def test_noisy_worst_case_without_noise_is_the_residual_squared() -> None:
    lrs = uba_at_midpoints(5_000, 300.0, 1.0, 0.01)
    noisy = theory.log_worst_case_noisy_error(lrs, 1.0, 100.0, sigma2=0.0)
    assert noisy == 2 * theory.log_worst_case_residual(lrs, 1.0, 100.0)


# ---- the phi minimisers ----------------------------------------------------------------


@pytest.mark.slow
def test_optimal_phi_with_noise_at_1e4_is_a_minimum_of_the_exact_objective() -> None:
    T, kappa, sigma2 = 10_000, 1e4, 1e-6
    phi = chebyshev_optimal_phi(T, 1.0, kappa, sigma2=sigma2)

    def objective(p: float) -> float:
        return theory.log_worst_case_noisy_error(
            uba_at_midpoints(T, p, 1.0, 1 / kappa), 1.0, kappa, sigma2=sigma2
        )

    at = objective(phi)
    for factor in (0.99, 0.999, 1.001, 1.01):
        assert objective(phi * factor) >= at - 1e-12 * abs(at)
    assert 2 * kappa < phi < 4 * kappa  # the noisy optimum, inside the range


@pytest.mark.parametrize("T", [100, pytest.param(10_000, marks=pytest.mark.slow)])
def test_optimal_phi_strongly_convex_reports_the_bound_of_the_schedule(T: int) -> None:
    phi, bound = _core.optimal_phi_strongly_convex(T, 0.01, 1.0, 0.01, 1.0, 0.9, (1e-6, 1e8), None)
    lrs = uba.schedule(np.arange(T), T, phi, 0.9)
    assert bound == theory.bound_strongly_convex(lrs, mu=0.01, L=1.0, sigma2=0.01, f_gap=1.0)
    for factor in (0.98, 1.02):
        other = uba.schedule(np.arange(T), T, phi * factor, 0.9)
        assert theory.bound_strongly_convex(other, mu=0.01, L=1.0, sigma2=0.01, f_gap=1.0) >= bound


@pytest.mark.slow
def test_optimal_phi_recovers_two_kappa_at_larger_budgets() -> None:
    for T, kappa in [(1_000, 100.0), (2_000, 1e4)]:
        assert math.isclose(chebyshev_optimal_phi(T, 1.0, kappa), 2 * kappa, rel_tol=1e-8)
