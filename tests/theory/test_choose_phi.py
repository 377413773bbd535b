"""uba.theory.expected_loss and choose_phi against references written here.

The references are independent of uba: the UBA schedule from its formula
(docs/schedule.md), eta = eta_max * 2u / (2 phi + (2 - phi) u) with
u = 1 + cos(pi t / T), and the expected loss by its recursion (NumPy in
float64, mpmath at 50 digits), E x_{t+1}^2 = (1 - eta_t lam)^2 E x_t^2 +
eta_t^2 v, L = 0.5 sum_k w_k lam_k E x_T^2.

The noisy quadratic models are the ones docs/theory.md's guideline uses:
power-law spectra lam_k = k^-alpha (d = 1000, a bulk near zero), noise none,
isotropic or shaped like the Hessian, start equal or power-law.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from typing import Any

import mpmath
import numpy as np
import pytest

import uba
from uba import theory

D = 1000
ALPHAS = (1.0, 1.5, 2.0)
NOISES = ("none", "isotropic", "hessian")
STARTS = ("equal", "power-law")
HALF_OCTAVES = 2.0 ** np.arange(-10.0, 10.01, 0.5)  # phi grid over [2^-10, 2^10]


def nqm(alpha: float, noise: str, start: str) -> dict[str, Any]:
    """A noisy quadratic model: curvatures k^-alpha (lam_max = 1), noise
    none, isotropic (1e-3) or Hessian-shaped (1e-2 lam), start 1 or k^-1."""
    k = np.arange(1, D + 1, dtype=np.float64)
    lam = k**-alpha
    v = {"none": 0.0, "isotropic": 1e-3, "hessian": 1e-2 * lam}[noise]
    s = 1.0 if start == "equal" else 1.0 / k
    return {"eigenvalues": lam, "noise": v, "start": s}


def formula_schedule(T: int, phi: np.ndarray, eta_max: np.ndarray) -> np.ndarray:
    """UBA at t = 0..T-1 from its formula, one row per (phi, eta_max)."""
    u = 1.0 + np.cos(np.pi * np.arange(T) / T)
    phi = np.asarray(phi, dtype=np.float64)[:, None]
    eta_max = np.asarray(eta_max, dtype=np.float64)[:, None]
    return eta_max * 2.0 * u / (2.0 * phi + (2.0 - phi) * u)


def numpy_loss(lrs: np.ndarray, eigenvalues: Any, noise: Any = 0.0, start: Any = 1.0) -> Any:
    """L for each row of lrs (2-D: rows are schedules), by the recursion in
    float64, all rows and directions at once."""
    lrs = np.atleast_2d(np.asarray(lrs, dtype=np.float64))
    lam = np.asarray(eigenvalues, dtype=np.float64)
    v = np.broadcast_to(np.asarray(noise, dtype=np.float64), lam.shape)
    m = np.broadcast_to(np.asarray(start, dtype=np.float64), (lrs.shape[0], lam.size)).copy()
    for eta in lrs.T:
        f = 1.0 - eta[:, None] * lam
        m = f * f * m + (eta * eta)[:, None] * v
    return 0.5 * (m * lam).sum(axis=1)


def mpmath_loss(lrs: Any, eigenvalues: Any, weights: Any, start: Any, noise: Any) -> Any:
    """L at 50 digits."""
    with mpmath.workdps(50):
        total = mpmath.mpf(0)
        for lam, w, s, v in zip(eigenvalues, weights, start, noise):
            m, lam_, v_ = mpmath.mpf(float(s)), mpmath.mpf(float(lam)), mpmath.mpf(float(v))
            for eta in lrs:
                e = mpmath.mpf(float(eta))
                m = (1 - e * lam_) ** 2 * m + e * e * v_
            total += mpmath.mpf(float(w)) * lam_ * m / 2
        return total


def nqm_cases(budgets: tuple[int, ...]) -> list[Any]:
    """Every (T, alpha, noise, start); the cases at T = 1000 are slow."""
    cases = []
    for T, alpha, noise, start in itertools.product(budgets, ALPHAS, NOISES, STARTS):
        marks = [pytest.mark.slow] if T >= 1000 else []
        cases.append(pytest.param(T, alpha, noise, start, marks=marks))
    return cases


# ---- expected_loss ---------------------------------------------------------------


def test_expected_loss_is_the_recursion_at_50_digits() -> None:
    rng = np.random.default_rng(3)
    lam = np.concatenate([[1.0, 1e-6, 0.0], rng.uniform(0.0, 1.0, 5)])
    w = rng.uniform(0.0, 3.0, lam.size)
    s = rng.uniform(0.0, 2.0, lam.size)
    v = rng.uniform(0.0, 1e-2, lam.size)
    lrs = np.concatenate([[1.0], rng.uniform(0.0, 1.9, 300), [3.0, 0.0]])  # eta lam = 1, > 2
    with pytest.warns(theory.StabilityWarning):
        got = theory.expected_loss(lrs, lam, weights=w, start=s, noise=v)
    want = mpmath_loss(lrs, lam, w, s, v)
    assert abs(got - float(want)) <= 1e-14 * float(want)


def test_expected_loss_scores_any_schedule_as_numpy_does() -> None:
    T = 500
    model = nqm(1.5, "hessian", "power-law")
    t = np.arange(T)
    for lrs in (
        uba.peers.cosine(t, T, 0.8),
        uba.peers.wsd(t, T, 0.8),
        uba.peers.linear(t, T, 0.8),
        uba.schedule(t, T, 0.5, 0.8),
    ):
        got = theory.expected_loss(lrs, **model)
        assert got == pytest.approx(numpy_loss(lrs, **model)[0], rel=1e-12)


def test_expected_loss_broadcasts_scalars_and_weights() -> None:
    lam = np.linspace(0.1, 1.0, 7)
    lrs = np.full(50, 0.5)
    one = theory.expected_loss(lrs, lam, weights=2.0, start=0.5, noise=1e-3)
    full = theory.expected_loss(
        lrs, lam, weights=np.full(7, 2.0), start=np.full(7, 0.5), noise=np.full(7, 1e-3)
    )
    assert one == full == pytest.approx(2.0 * numpy_loss(lrs, lam, 1e-3, 0.5)[0], rel=1e-13)
    # a weight of 3 is three copies of the direction
    assert theory.expected_loss(lrs, [0.3], weights=[3.0]) == pytest.approx(
        theory.expected_loss(lrs, [0.3, 0.3, 0.3]), rel=1e-15
    )


def test_a_divergent_schedule_has_infinite_loss_not_nan() -> None:
    with pytest.warns(theory.StabilityWarning, match="above the stability limit"):
        assert theory.expected_loss(np.full(1000, 3.0), [1.0]) == math.inf
    # divergence wiped out by a step of exactly 1/lam: finite, and exact
    lrs = np.concatenate([np.full(600, 3.0), [1.0], np.full(10, 0.1)])
    with pytest.warns(theory.StabilityWarning):
        got = theory.expected_loss(lrs, [1.0], noise=0.5)
    assert got == pytest.approx(float(mpmath_loss(lrs, [1.0], [1.0], [1.0], [0.5])), rel=1e-14)


# ---- choose_phi at a fixed peak -----------------------------------------------------


@pytest.mark.parametrize(("T", "alpha", "noise", "start"), nqm_cases((100, 1000)))
def test_choose_phi_at_the_peak_one_over_lam_max(
    T: int, alpha: float, noise: str, start: str
) -> None:
    model = nqm(alpha, noise, start)
    with warnings.catch_warnings(record=True) as seen:  # a range end may warn
        warnings.simplefilter("always")
        c = theory.choose_phi(T, **model, eta_max=1.0)
    assert all(w.category is theory.BoundaryWarning for w in seen)
    assert c.at_boundary == bool(seen)
    # its loss is the exact expected loss of its phi
    own = numpy_loss(formula_schedule(T, [c.phi], [1.0]), **model)[0]
    assert c.loss == pytest.approx(own, rel=1e-6)
    # and within 2% of the best phi on a half-octave grid over [2^-10, 2^10]
    grid = numpy_loss(formula_schedule(T, HALF_OCTAVES, np.ones_like(HALF_OCTAVES)), **model)
    assert c.loss <= 1.02 * grid.min()
    # its comparisons are the same losses at phi = 1 and 2
    pair = numpy_loss(formula_schedule(T, [1.0, 2.0], [1.0, 1.0]), **model)
    assert (c.loss_default, c.loss_cosine) == pytest.approx(tuple(pair), rel=1e-6)
    initial = 0.5 * float(np.sum(model["eigenvalues"] * model["start"]))
    assert c.initial_loss == pytest.approx(initial)
    assert c.eta_max == 1.0 and c.eta_max_range is None
    assert c.flat[0] <= c.phi <= c.flat[1]


def test_choose_phi_loss_is_expected_loss_of_its_schedule_bit_for_bit() -> None:
    T = 400
    model = nqm(1.0, "isotropic", "equal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.BoundaryWarning)
        c = theory.choose_phi(T, **model, eta_max=0.7, eta_min=0.01)
    lrs = uba.schedule(np.arange(T), T, c.phi, 0.7, 0.01)
    assert c.loss == theory.expected_loss(lrs, **model)
    default = uba.schedule(np.arange(T), T, 1.0, 0.7, 0.01)
    assert c.loss_default == theory.expected_loss(default, **model)


def test_the_flat_range_ends_where_the_loss_is_one_percent_above_the_best() -> None:
    T = 300
    model = nqm(1.5, "isotropic", "equal")
    c = theory.choose_phi(T, **model, eta_max=1.0)
    assert c.phi_range[0] < c.flat[0] < c.phi < c.flat[1] < c.phi_range[1]
    ends = numpy_loss(formula_schedule(T, list(c.flat), [1.0, 1.0]), **model)
    np.testing.assert_allclose(ends / c.loss, 1.01, atol=2e-3)


# ---- choose_phi with the peak ---------------------------------------------------------


def best_on_a_grid(T: int, model: dict[str, Any]) -> float:
    """The least loss over half-octave peaks in [2^-19, 2] (the default range,
    lam_max = 1) and half-octave phis in [2^-10, 2^10]."""
    phis = np.tile(HALF_OCTAVES, 41)
    peaks = np.repeat(2.0 ** (1.0 - np.arange(41) / 2.0), HALF_OCTAVES.size)
    return float(numpy_loss(formula_schedule(T, phis, peaks), **model).min())


QUICK_PEAK_CASES = {(1.0, "isotropic", "equal"), (2.0, "hessian", "power-law")}


def peak_cases() -> list[Any]:
    """Every model at T = 100 and 1000; all but two are slow."""
    cases = []
    for T, a, n, s in itertools.product((100, 1000), ALPHAS, NOISES, STARTS):
        quick = (a, n, s) in QUICK_PEAK_CASES and T == 100
        cases.append(pytest.param(T, a, n, s, marks=[] if quick else [pytest.mark.slow]))
    return cases


@pytest.mark.parametrize(("T", "alpha", "noise", "start"), peak_cases())
def test_choose_phi_with_the_peak_is_within_2_percent_of_a_grid(
    T: int, alpha: float, noise: str, start: str
) -> None:
    model = nqm(alpha, noise, start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.BoundaryWarning)  # peaks at 2/lam_max
        c = theory.choose_phi(T, **model)
    assert c.eta_max_range == (2.0**-19, 2.0)
    assert c.loss <= 1.02 * best_on_a_grid(T, model)
    own = numpy_loss(formula_schedule(T, [c.phi], [c.eta_max]), **model)[0]
    assert c.loss == pytest.approx(own, rel=1e-6)


def test_a_peak_range_is_searched_as_given() -> None:
    model = nqm(1.5, "isotropic", "equal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.BoundaryWarning)
        c = theory.choose_phi(200, **model, eta_max=(0.05, 0.4))
        lo = theory.choose_phi(200, **model, eta_max=(0.0, 0.4))
        top = theory.choose_phi(200, **model, eta_max=(0.05, math.inf))
    assert c.eta_max_range == (0.05, 0.4) and 0.05 <= c.eta_max <= 0.4
    assert lo.eta_max_range == (0.4 * 2.0**-20, 0.4)
    assert top.eta_max_range == (0.05, 2.0)


# ---- diagnostics ------------------------------------------------------------------------


def test_an_answer_at_the_lower_end_of_phi_range_warns_and_says_so() -> None:
    model = nqm(2.0, "none", "equal")  # no noise: stay at the peak as long as possible
    with pytest.warns(theory.BoundaryWarning) as seen:
        c = theory.choose_phi(100, **model, eta_max=0.1, phi_range=(0.25, 64.0))
    assert len(seen) == 1
    message = str(seen[0].message)
    assert "phi = 0.25 is at the lower end of phi_range" in message
    assert "still falls below it" in message and "widen phi_range downwards" in message
    assert c.at_boundary and c.ends == (-1, 0) and c.phi == 0.25
    assert "phi is at the lower end of its range" in repr(c)


def test_an_answer_at_the_upper_end_of_phi_range_warns_and_says_so() -> None:
    model = nqm(2.0, "none", "equal") | {"noise": 10.0}  # loud: decay at once
    with pytest.warns(theory.BoundaryWarning, match="upper end of phi_range .* upwards"):
        c = theory.choose_phi(100, **model, eta_max=1.0, phi_range=(0.25, 64.0))
    assert c.at_boundary and c.ends == (1, 0) and c.phi == 64.0


def test_a_peak_at_the_stability_limit_warns_and_says_so() -> None:
    model = nqm(1.5, "none", "equal")
    with pytest.warns(theory.BoundaryWarning) as seen:  # and phi at its lower end
        c = theory.choose_phi(100, **model)
    peak = [str(w.message) for w in seen if "eta_max" in str(w.message)]
    assert len(peak) == 1 and "the chosen eta_max = 2 is the upper end" in peak[0]
    assert "(the stability limit 2/lam_max) and the loss still falls above it" in peak[0]
    assert c.at_boundary and c.ends[1] == 1 and c.eta_max == 2.0


def test_an_interior_answer_is_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = theory.choose_phi(300, **nqm(1.5, "isotropic", "equal"), eta_max=1.0)
    assert not c.at_boundary and c.ends == (0, 0)


def test_a_peak_above_the_stability_limit_warns() -> None:
    model = nqm(1.0, "isotropic", "equal")
    with pytest.warns(theory.StabilityWarning, match="eta_max = 3 is above the stability limit"):
        theory.choose_phi(50, **model, eta_max=3.0, phi_range=(0.5, 64.0))
    with pytest.warns(theory.StabilityWarning, match="eta_max"):
        theory.optimal_phi(16, 1.0, 100.0, eta_max=0.05)


def test_optimal_phi_old_default_case_no_longer_returns_a_range_end_silently() -> None:
    # the new defaults (peak 1/lam_max, floor 0): an interior answer, silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        phi = theory.optimal_phi(10**5, 1, 100, sigma2=0.01)
    assert 1e-6 * 1.01 < phi < 1e8 / 1.01
    # the old defaults, now explicit: the range end 1e8, which now warns
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        old = theory.optimal_phi(10**5, 1, 100, sigma2=0.01, eta_max=1.0, eta_min=0.01)
    assert old == pytest.approx(1e8, rel=1e-3)
    assert [w.category for w in seen] == [theory.StabilityWarning, theory.BoundaryWarning]
    assert "at the upper end of phi_range (1e-06, 1e+08)" in str(seen[1].message)


def test_optimal_phi_strongly_convex_warns_at_a_range_end() -> None:
    with pytest.warns(theory.BoundaryWarning, match="optimal_phi_strongly_convex: .* lower end"):
        theory.optimal_phi_strongly_convex(1000, mu=0.01, L=1.0, sigma2=0.0, f_gap=1.0)
    with warnings.catch_warnings():  # f_gap = sigma2 = 0: every phi gives 0, no end
        warnings.simplefilter("error")
        theory.optimal_phi_strongly_convex(100, mu=0.01, L=1.0, sigma2=0.0, f_gap=0.0)


# ---- the result object ----------------------------------------------------------------


def test_phi_choice_is_frozen_and_reads_at_a_glance() -> None:
    c = theory.choose_phi(300, **nqm(1.5, "isotropic", "equal"), eta_max=1.0)
    assert isinstance(c, theory.PhiChoice)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.phi = 1.0  # type: ignore[misc]
    text = repr(c)
    assert text.startswith(f"PhiChoice: phi = {c.phi:.3g} at eta_max = 1 (given)")
    assert f"vs {c.loss_default:.4g} at phi = 1 (" in text and "cosine" in text
    assert "flat: within 1% of the best for phi in" in text
    assert c.gain == pytest.approx(1.0 - c.loss / c.loss_default)
    assert c.evaluations > 80


# ---- bad input --------------------------------------------------------------------------

LAM = [1.0, 0.5, 0.25]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eigenvalues": [1.0, -0.5]}, "eigenvalues[1] must be a finite number >= 0, got -0.5"),
        ({"eigenvalues": [1.0, math.nan]}, "eigenvalues[1] must be a finite number >= 0, got nan"),
        ({"eigenvalues": [math.inf]}, "eigenvalues[0] must be a finite number >= 0, got inf"),
        ({"eigenvalues": []}, "eigenvalues must hold at least one value"),
        ({"eigenvalues": [[1.0]]}, "eigenvalues must be a 1-D sequence of real numbers"),
        ({"weights": [1.0, 1.0, -1.0]}, "weights[2] must be a finite number >= 0, got -1.0"),
        ({"weights": -1.0}, "weights must be a finite number >= 0, got -1.0"),
        ({"weights": [1.0, 1.0]}, "weights must hold one value, or one per eigenvalue"),
        ({"start": [1.0, math.inf, 1.0]}, "start[1] must be a finite number >= 0, got inf"),
        ({"start": -2.0}, "start must be a finite number >= 0, got -2.0"),
        ({"start": [1.0] * 4}, "start must hold one value, or one per eigenvalue"),
        ({"noise": [0.0, 0.0, -1e-3]}, "noise[2] must be a finite number >= 0, got -0.001"),
        ({"noise": math.nan}, "noise must be a finite number >= 0, got nan"),
        ({"noise": [[0.0]]}, "noise must be a real number or a 1-D sequence"),
        ({"T": 0}, "T must be an integer in [1, 2**53], got 0"),
        ({"T": 2**53 + 1}, "T must be an integer a double holds exactly"),
        ({"T": 2.5}, "T must be an integer in [1, 2**53], got 2.5"),
        ({"eta_max": 0.0}, "eta_max must be a finite number > 0, or a range"),
        ({"eta_max": -1.0}, "got -1.0"),
        ({"eta_max": math.nan}, "eta_max must be a finite number > 0"),
        ({"eta_max": (2.0, 1.0)}, "eta_max must be a finite number > 0, or a range (lo, hi)"),
        ({"eta_max": (-1.0, 1.0)}, "got (-1.0, 1.0)"),
        ({"eta_min": math.inf}, "eta_min must be a finite number, got inf"),
        ({"eta_max": 1e100}, "(eta_max, eta_min) must both be at most 5e99 / lam_max"),
        ({"phi_range": (2.0, 1.0)}, "phi_range must satisfy 0 < phi_lo < phi_hi"),
        ({"phi_range": (0.0, 1.0)}, "phi_range must satisfy 0 < phi_lo < phi_hi"),
        ({"phi_range": (-1.0, 1.0)}, "got (-1.0, 1.0)"),
    ],
)
def test_choose_phi_refuses_bad_values_naming_the_argument(
    kwargs: dict[str, Any], message: str
) -> None:
    call = {"T": 100, "eigenvalues": LAM, "eta_max": 1.0} | kwargs
    T, eigenvalues = call.pop("T"), call.pop("eigenvalues")
    with pytest.raises(ValueError) as info:
        theory.choose_phi(T, eigenvalues, **call)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("lrs", "kwargs", "message"),
    [
        ([], {}, "lrs must hold at least one step size"),
        ([0.1, math.nan], {}, "lrs[1] must be a finite number, got nan"),
        ([0.1, 1e101], {}, "lrs[1] must be at most 1e100 / lam_max in absolute value"),
        ([0.1], {"eigenvalues": [-1.0]}, "eigenvalues[0] must be a finite number >= 0, got -1.0"),
        ([0.1], {"eigenvalues": []}, "eigenvalues must hold at least one value"),
        ([0.1], {"weights": [1.0, 1.0]}, "weights must hold one value, or one per eigenvalue"),
        ([0.1], {"noise": [0.0, 0.0]}, "noise must hold one value, or one per eigenvalue"),
    ],
)
def test_expected_loss_refuses_bad_values_naming_the_argument(
    lrs: Any, kwargs: dict[str, Any], message: str
) -> None:
    call = {"eigenvalues": [1.0, 0.5, 0.2, 0.1]} | kwargs
    with pytest.raises(ValueError) as info:
        theory.expected_loss(lrs, call.pop("eigenvalues"), **call)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"eigenvalues": ["a"]},
            "eigenvalues must be a 1-D sequence of real numbers, got an array",
        ),
        ({"phi_range": 1.0}, "phi_range must be a pair (phi_lo, phi_hi), got 1.0"),
        ({"eta_max": "1"}, "eta_max must be a real number, got str"),
        ({"eta_max": (1.0, 2.0, 3.0)}, "eta_max must be a real number or a pair (lo, hi)"),
        ({"eta_max": (1.0, "x")}, "eta_max[1] must be a real number, got str"),
        ({"eta_min": None}, "eta_min must be a real number, got NoneType"),
    ],
)
def test_choose_phi_refuses_bad_types(kwargs: dict[str, Any], message: str) -> None:
    call = {"eigenvalues": LAM, "eta_max": 1.0} | kwargs
    with pytest.raises(TypeError) as info:
        theory.choose_phi(100, call.pop("eigenvalues"), **call)
    assert message in str(info.value)
