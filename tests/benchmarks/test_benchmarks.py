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

from peers import numpy_log_worst_case_residual, numpy_schedule  # noqa: E402


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
