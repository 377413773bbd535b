"""Arguments uba.theory checks in Python before the C core sees them: the
default peak 1/L of optimal_phi_strongly_convex.  Any L (an int of any
size, a string, zero) gives ValueError or TypeError naming L, never
OverflowError or ZeroDivisionError."""

from __future__ import annotations

from typing import Any

import pytest

from uba import theory

PROBLEM = {"mu": 0.1, "sigma2": 0.1, "f_gap": 1.0}


@pytest.mark.parametrize(
    ("L", "error", "message"),
    [
        (10**400, ValueError, "L must be a finite number > 0, got 1000"),
        (-(10**400), ValueError, "L must be a finite number > 0"),
        (0, ValueError, "L must be a finite number > 0, got 0"),
        (-1.0, ValueError, "L must be a finite number > 0, got -1.0"),
        (float("inf"), ValueError, "L must be a finite number > 0, got inf"),
        (float("nan"), ValueError, "L must be a finite number > 0, got nan"),
        ("1", TypeError, "L must be a real number, got str"),
        (None, TypeError, "L must be a real number, got NoneType"),
        (1j, TypeError, "L must be a real number, got complex"),
    ],
)
def test_bad_L_is_refused_with_its_name(L: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        theory.optimal_phi_strongly_convex(100, L=L, **PROBLEM)
    assert type(info.value) is error
    assert message in str(info.value)


def test_the_default_peak_is_one_over_L() -> None:
    got = theory.optimal_phi_strongly_convex(100, L=4, **PROBLEM)
    assert got == theory.optimal_phi_strongly_convex(100, L=4.0, eta_max=0.25, **PROBLEM)
