"""Tests of uba.theory (docs/theory.md) against independent references.

References are written here from docs/theory.md's formulas: mpmath at 50 digits,
exact fractions, or plain loops; none of them calls the C core.
"""

from __future__ import annotations

import doctest
import math
import subprocess
import sys
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import uba
from uba import _core, theory

mpmath.mp.dps = 50

KAPPAS = [1.5, 10.0, 100.0, 1e4]
BUDGETS = [1, 4, 16, 256]
GRID = [(kappa, T) for kappa in KAPPAS for T in BUDGETS]


def rel_err(got: float, ref: float | mpmath.mpf) -> float:
    return float(abs(mpmath.mpf(got) - ref) / abs(ref))


def mp_log_residual_at(lrs: np.ndarray, lam: float | mpmath.mpf) -> mpmath.mpf:
    """log|prod (1 - eta lam)| at 50 digits, the doubles taken exactly."""
    lam = mpmath.mpf(lam)
    p = mpmath.mpf(1)
    for eta in lrs.tolist():
        p *= 1 - mpmath.mpf(eta) * lam
    return mpmath.log(abs(p))


def np_log_residual(lrs: np.ndarray, lams: np.ndarray) -> np.ndarray:
    """log|p| at many points in extended precision (numpy longdouble)."""
    eta = lrs.astype(np.longdouble)
    out = np.empty(len(lams), dtype=np.longdouble)
    for i in range(0, len(lams), 256):
        chunk = np.asarray(lams[i : i + 256], dtype=np.longdouble)
        out[i : i + 256] = np.log(np.abs(1 - np.outer(chunk, eta))).sum(axis=1)
    return out


# ---- section 1: Chebyshev steps are UBA with phi = 2 kappa -----------------------


@pytest.mark.parametrize(("kappa", "T"), GRID)
def test_chebyshev_steps_equal_uba_at_midpoints(kappa: float, T: int) -> None:
    steps = theory.chebyshev_step_sizes(T, 1.0, kappa)
    params = theory.uba_params_from_curvature(1.0, kappa)
    assert params == (1.0, 1.0 / kappa, 2.0 * kappa)
    u = uba.schedule(np.arange(1, T + 1) - 0.5, T, params.phi, params.eta_max, params.eta_min)
    assert steps.shape == (T,) and steps.dtype == np.float64
    assert np.all(np.diff(steps) <= 0)  # descending
    assert np.max(np.abs(steps - u) / u) <= 1e-13
    # and the formula of docs/theory.md, evaluated in mpmath
    for k in range(1, T + 1):
        c = mpmath.cos((2 * k - 1) * mpmath.pi / (2 * T))
        ref = 2 / (kappa + 1 - (kappa - 1) * c)
        assert rel_err(steps[k - 1], ref) <= 1e-13


@pytest.mark.parametrize(("kappa", "T"), GRID)
def test_worst_case_of_chebyshev_steps_is_one_over_chebyshev_polynomial(
    kappa: float, T: int
) -> None:
    ref = 1 / mpmath.chebyt(T, (mpmath.mpf(kappa) + 1) / (mpmath.mpf(kappa) - 1))
    steps = theory.chebyshev_step_sizes(T, 1.0, kappa)
    assert rel_err(theory.worst_case_residual(steps, 1.0, kappa), ref) <= 1e-9
    assert rel_err(theory.chebyshev_residual(T, 1.0, kappa), ref) <= 1e-12
    assert abs(theory.log_worst_case_residual(steps, 1.0, kappa) - mpmath.log(ref)) <= 1e-9


def test_spec_check_kappa_100_budget_16() -> None:
    steps = theory.chebyshev_step_sizes(16, 1.0, 100.0)
    assert round(theory.worst_case_residual(steps, 1.0, 100.0), 7) == 0.0805233
    assert round(theory.chebyshev_residual(16, 1.0, 100.0), 7) == 0.0805233


def _perturbed_chebyshev(T: int, kappa: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = theory.chebyshev_step_sizes(T, 1.0, kappa) * (1 + 0.1 * rng.uniform(-1, 1, T))
    return rng.permutation(steps)


@pytest.mark.slow  # a 50-digit search over 1000 steps
def test_worst_case_matches_50_digit_search_on_a_random_schedule() -> None:
    """T = 1000, kappa = 1e4: Chebyshev steps randomly perturbed by up to
    10% and shuffled, so that the ~1000 local maxima all differ.

    Reference: every interval between consecutive roots 1/eta (and the ends)
    is sampled densely in extended precision; the 6 best intervals are then
    evaluated at 50 digits on a dense grid and refined by golden section at
    50 digits (|p| has one maximum per interval, all roots being real).
    """
    T, kappa = 1000, 1e4
    lrs = _perturbed_chebyshev(T, kappa, seed=2024)
    roots = np.sort(1 / lrs)
    cuts = np.concatenate([[1.0], roots[(roots > 1) & (roots < kappa)], [kappa]])
    pts_per = 12
    frac = np.linspace(0, 1, pts_per + 2)[1:-1]
    dense = (cuts[:-1, None] + (cuts[1:] - cuts[:-1])[:, None] * frac[None, :]).ravel()
    dense_vals = np_log_residual(lrs, dense).reshape(len(cuts) - 1, pts_per)
    ends = np_log_residual(lrs, np.array([1.0, kappa]))
    order = np.argsort(dense_vals.max(axis=1))[::-1][:6]

    best = max(mp_log_residual_at(lrs, 1.0), mp_log_residual_at(lrs, kappa))
    assert abs(float(best) - float(ends.max())) < 1e-9  # screen is faithful
    golden = (3 - mpmath.sqrt(5)) / 2
    for j in order[:6]:
        lo, hi = mpmath.mpf(cuts[j]), mpmath.mpf(cuts[j + 1])
        grid = [lo + (hi - lo) * mpmath.mpf(i) / 17 for i in range(1, 17)]
        vals = [mp_log_residual_at(lrs, x) for x in grid]
        i = max(range(len(vals)), key=vals.__getitem__)
        # the extended-precision screen agrees with 50 digits
        assert (
            abs(float(vals[i]) - float(np_log_residual(lrs, np.array([float(grid[i])]))[0])) < 1e-9
        )
        if j not in order[:3]:
            best = max(best, vals[i])
            continue
        a = grid[i - 1] if i > 0 else lo
        b = grid[i + 1] if i + 1 < len(grid) else hi
        for _ in range(40):
            x1, x2 = a + golden * (b - a), b - golden * (b - a)
            if mp_log_residual_at(lrs, x1) < mp_log_residual_at(lrs, x2):
                a = x1
            else:
                b = x2
        best = max(best, mp_log_residual_at(lrs, (a + b) / 2), max(vals))

    got, lam = _core.worst_case_residual(lrs, 1.0, kappa, None)
    assert 1.0 < lam < kappa  # an interior maximum: the demanding case
    assert abs(got - float(best)) <= 1e-9
    assert rel_err(theory.worst_case_residual(lrs, 1.0, kappa), mpmath.exp(best)) <= 1e-9
    assert abs(mp_log_residual_at(lrs, lam) - got) <= 1e-11


def test_worst_case_includes_the_endpoints_and_any_step_signs() -> None:
    # one step: |1 - 0.5 lam| on [1, 3] is largest at lam = 1
    assert theory.worst_case_residual([0.5], 1.0, 3.0) == pytest.approx(0.5, rel=1e-15)
    # 1 - 0.5 lam vanishes at the end lam = 2; the max is at lam = 6
    assert theory.worst_case_residual([0.5, 0.5], 2.0, 6.0) == pytest.approx(4.0, rel=1e-15)
    # zero and negative steps
    assert theory.worst_case_residual([0.0, -1.0], 1.0, 9.0) == pytest.approx(10.0, rel=1e-15)
    # an exact zero
    assert theory.worst_case_residual([0.5], 2.0, 2.0) == 0.0
    assert theory.log_worst_case_residual([0.5], 2.0, 2.0) == -math.inf
    # the order of the steps does not matter
    lrs = _perturbed_chebyshev(64, 50.0, seed=1)
    assert theory.worst_case_residual(lrs, 1.0, 50.0) == pytest.approx(
        theory.worst_case_residual(np.sort(lrs), 1.0, 50.0), rel=1e-12
    )


# ---- no overflow or underflow at T = 1e5 ---------------------------------------


@pytest.mark.slow  # 50 digits over 1e5 steps
def test_budget_1e5_chebyshev_kappa_10_is_exact_in_logs() -> None:
    """The residual is e^-65489: 0.0 as a double, by documented exp
    semantics; the log is checked against 50-digit evaluation."""
    T, kappa = 100_000, 10.0
    steps = theory.chebyshev_step_sizes(T, 1.0, kappa)
    got, lam = _core.worst_case_residual(steps, 1.0, kappa, None)
    assert math.isfinite(got)
    assert theory.worst_case_residual(steps, 1.0, kappa) == 0.0
    assert theory.log_worst_case_residual(steps, 1.0, kappa) == got
    # the value at the maximiser, at 50 digits, from the exact double steps
    assert abs(mp_log_residual_at(steps, lam) - got) <= 1e-9
    closed = -mpmath.log(mpmath.cosh(T * mpmath.acosh(mpmath.mpf(11) / 9)))
    # the double rounding of the steps moves the extrema near the ends of
    # the interval by up to ~T^2 eps ~ 1e-6 (relative); the middle ones are
    # unmoved: they equal the closed form, and do not exceed the answer
    assert abs(got - float(closed)) <= 2e-6
    assert got >= float(closed) - 1e-9
    j = np.arange(T // 2 - 3, T // 2 + 4, dtype=np.longdouble)
    middle = 5.5 + 4.5 * np.cos(np.pi * j / T)
    vals = np_log_residual(steps, middle)
    assert np.all(np.abs(vals - np.longdouble(float(closed))) <= 1e-8)
    assert np.all(vals <= got + 1e-9)


@pytest.mark.slow  # 50 digits over 1e5 steps
def test_budget_1e5_value_that_fits_a_double() -> None:
    T, kappa = 100_000, 1e6
    steps = theory.chebyshev_step_sizes(T, 1.0, kappa)
    value = theory.worst_case_residual(steps, 1.0, kappa)
    assert 0.0 < value < 1e-80
    ref = 1 / mpmath.cosh(T * mpmath.acosh((mpmath.mpf(kappa) + 1) / (kappa - 1)))
    assert rel_err(value, ref) <= 1e-6  # rounding of the steps, as above
    _, lam = _core.worst_case_residual(steps, 1.0, kappa, None)
    assert rel_err(value, mpmath.exp(mp_log_residual_at(steps, lam))) <= 1e-9


def test_budget_1e5_growing_product_does_not_overflow() -> None:
    """Steps up to 2 on [1, 10]: |p| reaches e^(1e5) at lam = 10."""
    lrs = np.random.default_rng(5).uniform(0.0, 2.0, 100_000)
    got, lam = _core.worst_case_residual(lrs, 1.0, 10.0, None)
    assert lam == 10.0 and math.isfinite(got) and got > 1e5
    assert abs(float(np_log_residual(lrs, np.array([10.0]))[0]) - got) <= 1e-9 * got
    assert theory.worst_case_residual(lrs, 1.0, 10.0) == math.inf


# ---- section 5: choosing phi ----------------------------------------------------


def chebyshev_optimal_phi(T: int, lam_min: float, lam_max: float, sigma2: float = 0.0) -> float:
    """optimal_phi at the Chebyshev peak and floor 1/lam_min, 1/lam_max (the
    identity's call, explicit since the defaults are 1/lam_max and 0); its
    peak is above the stability limit on purpose, and says so."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        phi = theory.optimal_phi(
            T, lam_min, lam_max, sigma2=sigma2, eta_max=1 / lam_min, eta_min=1 / lam_max
        )
    unstable = lam_max / lam_min > 2
    assert [w.category for w in seen] == ([theory.StabilityWarning] if unstable else [])
    return phi


@pytest.mark.parametrize(("kappa", "T"), [(k, T) for k, T in GRID if T >= 4])
def test_optimal_phi_recovers_two_kappa(kappa: float, T: int) -> None:
    assert rel_err(chebyshev_optimal_phi(T, 1.0, kappa), 2 * kappa) <= 1e-6


def test_optimal_phi_with_noise_is_a_minimum_of_its_objective() -> None:
    T, kappa, sigma2 = 32, 30.0, 1e-3
    phi = chebyshev_optimal_phi(T, 1.0, kappa, sigma2=sigma2)
    t = np.arange(1, T + 1) - 0.5

    def objective(p: float) -> float:
        lrs = uba.schedule(t, T, p, 1.0, 1 / kappa)
        return theory.log_worst_case_noisy_error(lrs, 1.0, kappa, sigma2=sigma2)

    at = objective(phi)
    for factor in (0.9, 0.99, 1.01, 1.1):
        assert objective(phi * factor) >= at - 1e-12
    assert 0.1 * 2 * kappa < phi < 10 * 2 * kappa


def _np_noisy(lrs: np.ndarray, lams: np.ndarray, sigma2: float) -> np.ndarray:
    v = np.ones(len(lams), dtype=np.longdouble)
    for eta in lrs.astype(np.longdouble):
        f = 1 - eta * lams.astype(np.longdouble)
        v = f * f * v + np.longdouble(sigma2) * eta * eta
    return np.log(v)


@pytest.mark.parametrize("sigma2", [0.0, 1e-9, 1e-6, 1e-4, 1e-2])
def test_noisy_worst_case_against_dense_sampling(sigma2: float) -> None:
    lrs = _perturbed_chebyshev(48, 40.0, seed=3)  # its maxima are interior
    got, lam = _core.worst_case_noisy_error(lrs, 1.0, 40.0, sigma2, None)
    assert 1.0 < lam < 40.0
    dense = _np_noisy(lrs, np.linspace(1.0, 40.0, 400_001), sigma2).max()
    assert got >= float(dense) - 1e-12
    assert got <= float(dense) + 1e-6
    assert abs(float(_np_noisy(lrs, np.array([lam]), sigma2)[0]) - got) <= 1e-12
    if sigma2 == 0.0:
        assert got == pytest.approx(2 * theory.log_worst_case_residual(lrs, 1.0, 40.0), rel=1e-15)


def test_optimal_phi_strongly_convex_minimises_bound_c() -> None:
    T, mu, L, f_gap = 1000, 0.01, 1.0, 1.0
    t = np.arange(T)
    previous = 0.0
    for sigma2 in (1e-3, 1e-2, 1e-1):
        phi = theory.optimal_phi_strongly_convex(T, mu=mu, L=L, sigma2=sigma2, f_gap=f_gap)

        def bound(p: float, s: float = sigma2) -> float:
            lrs = uba.schedule(t, T, p, 1.0 / L)
            return theory.bound_strongly_convex(lrs, mu=mu, L=L, sigma2=s, f_gap=f_gap)

        b = bound(phi)
        assert bound(phi * 0.98) >= b * (1 - 1e-12)
        assert bound(phi * 1.02) >= b * (1 - 1e-12)
        assert phi > previous  # more noise: decay earlier
        previous = phi
    # no noise: as large steps as possible for as long as possible, which is
    # the search range's lower end, and says so
    with pytest.warns(theory.BoundaryWarning, match="lower end of phi_range"):
        phi = theory.optimal_phi_strongly_convex(T, mu=mu, L=L, sigma2=0.0, f_gap=f_gap)
    assert phi < 1e-5


def test_phi_and_condition_number_conversions() -> None:
    assert theory.phi_from_condition_number(12.5) == 25.0
    assert theory.condition_number_from_phi(25.0) == 12.5
    assert theory.condition_number_from_phi(theory.phi_from_condition_number(3.7)) == 3.7
    p = theory.uba_params_from_curvature(0.5, 4.0)
    assert isinstance(p, theory.UBAParams)
    assert (p.eta_max, p.eta_min, p.phi) == (2.0, 0.25, 16.0)
    with pytest.raises(ValueError, match=r"kappa must be a finite number >= 1.*got 0\.5"):
        theory.phi_from_condition_number(0.5)
    with pytest.raises(ValueError, match=r"phi must be a finite number >= 2.*got 1\.5"):
        theory.condition_number_from_phi(1.5)


# ---- section 2: bounds equal their formulas ------------------------------------


def _random_steps(seed: int, n: int, top: float) -> np.ndarray:
    lrs = np.random.default_rng(seed).uniform(0, top, n)
    lrs[::7] = top  # the condition's edge is allowed
    return lrs


@pytest.mark.parametrize("seed", range(5))
def test_bounds_equal_their_formulas(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 400))
    L = float(rng.uniform(0.5, 5))
    mu = float(rng.uniform(0.01, 1)) * L
    sigma2, gap, dist2 = (
        float(rng.uniform(0, 3)),
        float(rng.uniform(0, 10)),
        float(rng.uniform(0, 10)),
    )
    F = Fraction

    # (a), exactly in fractions, with steps up to the double 1/L
    lrs = _random_steps(seed, n, 1 / L)
    s1 = sum(F(e) for e in lrs.tolist())
    s2 = sum(F(e) ** 2 for e in lrs.tolist())
    ref_a = (2 * F(gap) + F(L) * F(sigma2) * s2) / s1
    got_a = theory.bound_nonconvex(lrs, L=L, sigma2=sigma2, f_gap=gap)
    assert abs(F(got_a) - ref_a) <= F(1, 10**12) * ref_a

    # (b), exactly in fractions, steps up to 1/(2L)
    lrs_b = _random_steps(seed + 50, n, 0.5 / L)
    s1 = sum(F(e) for e in lrs_b.tolist())
    s2 = sum(F(e) ** 2 for e in lrs_b.tolist())
    ref_b = (F(dist2) + F(sigma2) * s2) / s1
    got_b = theory.bound_convex(lrs_b, L=L, sigma2=sigma2, dist2=dist2)
    assert abs(F(got_b) - ref_b) <= F(1, 10**12) * ref_b

    # (c), docs/theory.md's sum of products with plain loops, in mpmath
    m = [mpmath.mpf(e) for e in lrs.tolist()]
    bias = mpmath.mpf(gap)
    for e in m:
        bias *= 1 - mu * e
    noise = mpmath.mpf(0)
    for t in range(n):
        prod = mpmath.mpf(1)
        for s in range(t + 1, n):
            prod *= 1 - mu * m[s]
        noise += m[t] ** 2 * prod
    ref_c = bias + mpmath.mpf(L) * sigma2 / 2 * noise
    got_c = theory.bound_strongly_convex(lrs, mu=mu, L=L, sigma2=sigma2, f_gap=gap)
    assert rel_err(got_c, ref_c) <= 1e-12


def _violating(L: float, first: int, value: float, n: int = 40) -> np.ndarray:
    lrs = np.full(n, 0.1 / L)
    lrs[first] = value
    lrs[first + 5 :] = 2 * value  # later violations are not the ones named
    return lrs


def test_bounds_refuse_a_violating_schedule_naming_the_first_bad_index() -> None:
    lrs = _violating(2.0, 17, 0.6)
    msg = r"lrs\[17\] must meet bound \(a\)'s step-size condition 0 <= eta_t <= 1/L, got 0\.6"
    with pytest.raises(ValueError, match=msg):
        theory.bound_nonconvex(lrs, L=2.0, sigma2=0.1, f_gap=1.0)
    lrs = _violating(2.0, 3, 0.3)
    msg = r"lrs\[3\] must meet bound \(b\)'s .* 0 <= eta_t <= 1/\(2L\), got 0\.3"
    with pytest.raises(ValueError, match=msg):
        theory.bound_convex(lrs, L=2.0, sigma2=0.1, dist2=1.0)
    lrs = _violating(4.0, 0, 0.26)
    msg = r"lrs\[0\] must meet bound \(c\)'s .* 0 <= eta_t <= 1/L, got 0\.26"
    with pytest.raises(ValueError, match=msg):
        theory.bound_strongly_convex(lrs, mu=1.0, L=4.0, sigma2=0.1, f_gap=1.0)
    # negative steps break the condition too, NaN is named as not finite
    with pytest.raises(ValueError, match=r"lrs\[2\] must meet .* got -0\.01"):
        theory.bound_nonconvex([0.1, 0.1, -0.01], L=1.0, sigma2=0.0, f_gap=1.0)
    with pytest.raises(ValueError, match=r"lrs\[1\] must be a finite number, got nan"):
        theory.bound_convex([0.1, math.nan], L=1.0, sigma2=0.0, dist2=1.0)
    with pytest.raises(ValueError, match=r"lrs must hold at least one step size > 0$"):
        theory.bound_nonconvex([0.0, 0.0], L=1.0, sigma2=0.0, f_gap=1.0)


# ---- bad input -------------------------------------------------------------------

GOOD = np.array([0.1, 0.2, 0.3])

BAD_VALUES = [
    (lambda: theory.chebyshev_step_sizes(0, 1.0, 2.0), r"T must be an integer .* got 0"),
    (lambda: theory.chebyshev_step_sizes(-3, 1.0, 2.0), r"T must .* got -3"),
    (lambda: theory.chebyshev_step_sizes(2.5, 1.0, 2.0), r"T must .* got 2\.5"),
    (
        lambda: theory.chebyshev_step_sizes(4, 0.0, 2.0),
        r"lam_min must be a finite number > 0, got 0\.0",
    ),
    (lambda: theory.chebyshev_step_sizes(4, -1.0, 2.0), r"lam_min .* got -1\.0"),
    (lambda: theory.chebyshev_step_sizes(4, math.nan, 2.0), r"lam_min .* got nan"),
    (
        lambda: theory.chebyshev_step_sizes(4, 3.0, 2.0),
        r"lam_max must be a finite number >= lam_min, got 2\.0",
    ),
    (lambda: theory.chebyshev_step_sizes(4, 1.0, math.inf), r"lam_max .* got inf"),
    (lambda: theory.chebyshev_step_sizes(4, 1e-320, 2.0), r"1/lam_min and .* got \(1e-320, 2\.0\)"),
    (lambda: theory.chebyshev_residual(0, 1.0, 2.0), r"T must .* got 0"),
    (lambda: theory.uba_params_from_curvature(2.0, 1.0), r"lam_max .* got 1\.0"),
    (lambda: theory.worst_case_residual(GOOD, 0.0, 2.0), r"lam_min .* got 0\.0"),
    (lambda: theory.worst_case_residual(GOOD, 3.0, 2.0), r"lam_max .* got 2\.0"),
    (lambda: theory.worst_case_residual(GOOD, 1.0, math.nan), r"lam_max .* got nan"),
    (lambda: theory.worst_case_residual([], 1.0, 2.0), r"lrs must hold at least one step size"),
    (
        lambda: theory.worst_case_residual(np.zeros((2, 2)), 1.0, 2.0),
        r"lrs must be a 1-D .* shape \(2, 2\)",
    ),
    (lambda: theory.worst_case_residual(0.1, 1.0, 2.0), r"lrs must be a 1-D .* shape \(\)"),
    (
        lambda: theory.worst_case_residual([0.1, [0.2, 0.3]], 1.0, 2.0),
        r"lrs must be a 1-D sequence",
    ),
    (
        lambda: theory.worst_case_residual([0.1, math.inf], 1.0, 2.0),
        r"lrs\[1\] must be a finite number, got inf",
    ),
    (
        lambda: theory.worst_case_residual([0.1, 1e101], 1.0, 2.0),
        r"lrs\[1\] must be at most 1e100 / lam_max .* got 1e\+101",
    ),
    (lambda: theory.worst_case_noisy_error(GOOD, 1.0, 2.0, sigma2=-1.0), r"sigma2 .* got -1\.0"),
    (
        lambda: theory.bound_nonconvex(GOOD, L=0.0, sigma2=0.0, f_gap=1.0),
        r"L must be a finite number > 0, got 0\.0",
    ),
    (lambda: theory.bound_nonconvex(GOOD, L=1.0, sigma2=math.nan, f_gap=1.0), r"sigma2 .* got nan"),
    (lambda: theory.bound_nonconvex(GOOD, L=1.0, sigma2=0.0, f_gap=-1.0), r"f_gap .* got -1\.0"),
    (lambda: theory.bound_convex(GOOD, L=1.0, sigma2=0.0, dist2=math.inf), r"dist2 .* got inf"),
    (
        lambda: theory.bound_strongly_convex(GOOD, mu=2.0, L=1.0, sigma2=0.0, f_gap=1.0),
        r"mu must .* \(0, L\], got 2\.0",
    ),
    (
        lambda: theory.bound_strongly_convex([], mu=1.0, L=1.0, sigma2=0.0, f_gap=1.0),
        r"lrs must hold at least one",
    ),
    (lambda: theory.optimal_phi(0, 1.0, 2.0), r"T must .* got 0"),
    (lambda: theory.optimal_phi(8, 0.0, 2.0), r"lam_min .* got 0\.0"),
    (lambda: theory.optimal_phi(8, 1.0, 2.0, sigma2=-1.0), r"sigma2 .* got -1\.0"),
    (lambda: theory.optimal_phi(8, 1.0, 2.0, eta_max=math.nan), r"eta_max .* got nan"),
    (
        lambda: theory.optimal_phi(8, 1.0, 2.0, phi_range=(5.0, 1.0)),
        r"phi_range .* got \(5\.0, 1\.0\)",
    ),
    (
        lambda: theory.optimal_phi_strongly_convex(
            8, mu=1.0, L=1.0, sigma2=0.0, f_gap=1.0, eta_max=2.0
        ),
        r"eta_max must be a finite number in \(0, 1/L\], got 2\.0",
    ),
    (
        lambda: theory.optimal_phi_strongly_convex(8, mu=1.0, L=0.0, sigma2=0.0, f_gap=1.0),
        r"L must .* got 0\.0",
    ),
    (
        lambda: theory.optimal_phi_strongly_convex(0, mu=1.0, L=1.0, sigma2=0.0, f_gap=1.0),
        r"T must .* got 0",
    ),
]


@pytest.mark.parametrize(("call", "message"), BAD_VALUES)
def test_bad_values_raise_value_error_naming_argument_and_value(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


BAD_TYPES = [
    (lambda: theory.chebyshev_step_sizes("4", 1.0, 2.0), r"T must be a real number, got str"),
    (
        lambda: theory.chebyshev_step_sizes(4, None, 2.0),
        r"lam_min must be a real number, got NoneType",
    ),
    (
        lambda: theory.chebyshev_step_sizes(4, 1.0, 2j),
        r"lam_max must be a real number, got complex",
    ),
    (
        lambda: theory.worst_case_residual(["a", "b"], 1.0, 2.0),
        r"lrs must be a 1-D sequence of real numbers, got an array of dtype <U1",
    ),
    (lambda: theory.worst_case_residual([1j], 1.0, 2.0), r"lrs .* dtype complex128"),
    (lambda: theory.worst_case_residual([None], 1.0, 2.0), r"lrs .* dtype object"),
    (lambda: theory.worst_case_residual(GOOD, "1", 2.0), r"lam_min must be a real number, got str"),
    (
        lambda: theory.bound_nonconvex(GOOD, L="1", sigma2=0.0, f_gap=1.0),
        r"L must be a real number",
    ),
    (
        lambda: theory.bound_strongly_convex(GOOD, mu=None, L=1.0, sigma2=0.0, f_gap=1.0),
        r"mu must be a real number",
    ),
    (lambda: theory.phi_from_condition_number("3"), r"kappa must be a real number"),
    (lambda: theory.optimal_phi(8, 1.0, 2.0, sigma2="x"), r"sigma2 must be a real number"),
]


@pytest.mark.parametrize(("call", "message"), BAD_TYPES)
def test_bad_types_raise_type_error_naming_argument(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=message):
        call()


def test_keyword_only_constants() -> None:
    with pytest.raises(TypeError):
        theory.bound_nonconvex(GOOD, 1.0, 0.0, 1.0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        _core.bound_nonconvex(GOOD, 1.0, 0.0)  # type: ignore[call-arg]


def test_array_likes_of_any_dtype_and_layout_are_accepted() -> None:
    ref = theory.worst_case_residual(np.array([0.25, 0.5, 1.0]), 1.0, 3.0)
    for lrs in (
        [0.25, 0.5, 1.0],
        (0.25, 0.5, 1.0),
        np.array([0.25, 0.5, 1.0], np.float32),
        np.array([0.0, 0.25, 0.0, 0.5, 0.0, 1.0])[1::2],
    ):
        assert theory.worst_case_residual(lrs, 1.0, 3.0) == ref
    assert theory.worst_case_residual(np.array([1, 0], np.int64), 1, 3) == 2.0


def test_no_reference_leaks_on_success_and_failure() -> None:
    lrs = [0.1, 0.2, 0.3]
    lam = 1.2345
    before = (sys.getrefcount(lrs), sys.getrefcount(lam))
    for _ in range(1000):
        _core.worst_case_residual(lrs, lam, 2.0, None)
        _core.bound_nonconvex(lrs, lam, 0.0, 1.0)
        with pytest.raises(ValueError):
            _core.worst_case_residual(lrs, lam, 1.0, None)
        with pytest.raises(ValueError):
            _core.bound_nonconvex(lrs, 10 * lam, 0.0, 1.0)
    assert (sys.getrefcount(lrs), sys.getrefcount(lam)) == before


# ---- the package face ------------------------------------------------------------


def test_docstring_examples_run() -> None:
    result = doctest.testmod(theory, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20 and result.failed == 0


def test_importing_theory_imports_neither_torch_nor_matplotlib() -> None:
    code = (
        "import sys; from uba import theory; import uba; "
        "assert uba.theory is theory; "
        "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names() -> None:
    assert "theory" in uba.__all__
    for name in theory.__all__:
        assert getattr(theory, name).__doc__
