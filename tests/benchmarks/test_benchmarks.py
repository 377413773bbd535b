"""The NumPy peers of benchmarks/run.py compute what uba computes.

Only correctness is checked here; timings are measured by the benchmark and never
asserted.
"""

from __future__ import annotations

import math
import sys

import mpmath
import numpy as np
import pytest

import uba

from ..helpers import repo_path

sys.path.insert(0, str(repo_path("benchmarks", "peers.py").parent))

from peers import (
    numpy_bound_strongly_convex,
    numpy_expected_loss,
    numpy_expected_loss_loop,
    numpy_log_worst_case_noisy_error,
    numpy_log_worst_case_residual,
    numpy_optimal_phi,
    numpy_schedule,
)


@pytest.mark.parametrize("phi", [0.3, 1.0, 2.0, 7.0])
def test_numpy_schedule_is_the_formula_of_uba_schedule(phi: float) -> None:
    n = 10_000
    t = np.arange(n + 1, dtype=np.float64)
    got = numpy_schedule(t, n, phi, 0.1, 1e-4)
    expected = uba.schedule(t, n, phi, 0.1, 1e-4)
    # 1 + cos(pi t / T) cancels near T (the error uba avoids): compare the body
    body = t < 0.9 * n
    np.testing.assert_allclose(got[body], expected[body], rtol=1e-13, atol=0)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)
    assert got[0] == pytest.approx(0.1, rel=1e-15) and got[-1] == 1e-4


def chebyshev_residual_log(T: int, kappa: float) -> float:
    """log of 1 / T_T((kappa + 1) / (kappa - 1)) (docs/theory.md section 1)."""
    mpmath.mp.dps = 40
    x = (mpmath.mpf(kappa) + 1) / (mpmath.mpf(kappa) - 1)
    return float(-mpmath.log(mpmath.cosh(T * mpmath.acosh(x))))


@pytest.mark.parametrize(("T", "kappa"), [(16, 100.0), (40, 1e3)])
def test_numpy_grid_finds_the_chebyshev_worst_case_residual(T: int, kappa: float) -> None:
    lam_min, lam_max = 1.0, kappa
    # UBA with phi = 2 kappa at the midpoints is the Chebyshev schedule
    lrs = uba.schedule(np.arange(T) + 0.5, T, 2 * kappa, 1 / lam_min, 1 / lam_max)
    got = numpy_log_worst_case_residual(lrs, lam_min, lam_max, grid=8192, keep=64)
    assert math.isclose(got, chebyshev_residual_log(T, kappa), rel_tol=0, abs_tol=1e-9)
    if (T, kappa) == (16, 100.0):
        assert math.exp(got) == pytest.approx(0.0805233, abs=1e-7)  # docs/theory.md section 1


def test_numpy_grid_survives_overflowing_products() -> None:
    # steps of 1 with curvatures up to 1e4: |1 - lam| ~ 1e4, 2000 times: e^18000
    lrs = np.ones(2000)
    got = numpy_log_worst_case_residual(lrs, 1.0, 1e4, grid=256)
    assert got == pytest.approx(2000 * math.log(1e4 - 1), rel=1e-12)


def noisy_sum_of_products(lrs: np.ndarray, lam: float, sigma2: float) -> mpmath.mpf:
    """E x_n^2 = prod (1 - eta lam)^2 + sigma2 sum_t eta_t^2 prod_{s>t} (1 - eta_s lam)^2,
    term by term at 40 digits (not the recursion the peer uses)."""
    mpmath.mp.dps = 40
    eta = [mpmath.mpf(e) for e in lrs.tolist()]
    lam = mpmath.mpf(lam)

    def tail(t: int) -> mpmath.mpf:
        p = mpmath.mpf(1)
        for e in eta[t:]:
            p *= (1 - e * lam) ** 2
        return p

    return tail(0) + sigma2 * sum(eta[t] ** 2 * tail(t + 1) for t in range(len(eta)))


@pytest.mark.parametrize("sigma2", [0.0, 1e-3])
def test_numpy_noisy_grid_is_the_noisy_error(sigma2: float) -> None:
    # 60 steps with |eta lam| up to 50: the rescaling every 8 steps is exercised
    lrs = uba.schedule(np.arange(60) + 0.5, 60, 50.0, 1.0, 1 / 50)
    got, lam = numpy_log_worst_case_noisy_error(lrs, 1.0, 50.0, sigma2, grid=64)
    grid = np.geomspace(1.0, 50.0, 64)
    assert lam in grid
    ref = max(mpmath.log(noisy_sum_of_products(lrs, x, sigma2)) for x in grid.tolist())
    assert math.isclose(got, float(ref), rel_tol=1e-12, abs_tol=1e-12)


def test_numpy_bound_strongly_convex_is_the_formula() -> None:
    lrs = np.random.default_rng(7).uniform(0.0, 1.0, 300)
    mu, L, sigma2, f_gap = 0.3, 1.0, 0.2, 2.0
    mpmath.mp.dps = 40
    eta = [mpmath.mpf(e) for e in lrs.tolist()]
    ref = f_gap * mpmath.fprod(1 - mu * e for e in eta)
    for t in range(len(eta)):
        ref += L * sigma2 / 2 * eta[t] ** 2 * mpmath.fprod(1 - mu * e for e in eta[t + 1 :])
    got = numpy_bound_strongly_convex(lrs, mu, L, sigma2, f_gap)
    assert math.isclose(got, float(ref), rel_tol=1e-12)


def test_numpy_optimal_phi_is_a_minimum_of_its_objective() -> None:
    pytest.importorskip("scipy")  # the peer minimises with scipy
    T, lam_min, lam_max, sigma2 = 24, 1.0, 30.0, 1e-3
    phi, value = numpy_optimal_phi(T, lam_min, lam_max, sigma2, grid=512)
    t = np.arange(T) + 0.5

    def objective(p: float) -> float:
        lrs = numpy_schedule(t, T, p, 1 / lam_min, 1 / lam_max)
        return numpy_log_worst_case_noisy_error(lrs, lam_min, lam_max, sigma2, grid=512)[0]

    assert value == pytest.approx(objective(phi), abs=1e-12)
    for factor in (0.9, 1.1):
        assert objective(phi * factor) >= value - 1e-9


@pytest.mark.parametrize("peer", [numpy_expected_loss_loop, numpy_expected_loss])
def test_numpy_expected_loss_is_the_recursion_at_50_digits(peer) -> None:
    T, lam = 700, np.arange(1, 41, dtype=np.float64) ** -1.5  # blocks of 256 and a part
    lrs = uba.schedule(np.arange(T), T, 0.5, 1.0)
    noise = 1e-2 * lam
    with mpmath.workdps(50):
        want = mpmath.mpf(0)
        for k, v in zip(lam, noise):
            m = mpmath.mpf(1)
            for eta in lrs:
                e = mpmath.mpf(float(eta))
                m = (1 - e * mpmath.mpf(float(k))) ** 2 * m + e * e * mpmath.mpf(float(v))
            want += mpmath.mpf(float(k)) * m / 2
    got = peer(lrs, lam, 1.0, noise)
    assert got == pytest.approx(float(want), rel=1e-12)
