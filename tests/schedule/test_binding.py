"""The C binding uba._core: no leaked references on any path, valid or
invalid, and a clean multi-phase import.  (Memory over 10**6 calls of each
entry point: test_leaks.py.)"""

from __future__ import annotations

import fractions
import subprocess
import sys

import numpy as np
import pytest

import uba
from uba import _checks, _core

NAN = float("nan")
ARR = np.arange(64, dtype=np.float64)
ARR_BAD = np.array([0.0, 1.0, NAN])

# Every entry point, each with valid and invalid arguments: (call, error).
CALLS = [
    (lambda: _core.schedule(3.0, 10, 1.0, 1.0, 0.0, 0, 0.0), None),
    (lambda: _core.schedule(3, 10, 1.0, 1.0, 0.0, 2, 0.5), None),
    (lambda: _core.schedule(np.int64(3), 10, 1.0, 1.0, 0.0, 0, 0.0), None),
    (lambda: _core.schedule(ARR, 100, 0.5, 1.0, 0.0, 0, 0.0), None),
    (lambda: _core.schedule([[1, 2], [3, 4]], 100, 0.5, 1.0, 0.0, 0, 0.0), None),
    (lambda: _core.schedule(ARR[::3], 100, 0.5, 1.0, 0.0, 0, 0.0), None),
    (lambda: _core.schedule(-1.0, 10, 1.0, 1.0, 0.0, 0, 0.0), ValueError),
    (lambda: _core.schedule(1.0, 0, 1.0, 1.0, 0.0, 0, 0.0), ValueError),
    (lambda: _core.schedule(1.0, 2**60, 1.0, 1.0, 0.0, 0, 0.0), ValueError),
    (lambda: _core.schedule(1.0, 10, -1.0, 1.0, 0.0, 0, 0.0), ValueError),
    (lambda: _core.schedule(1.0, 10, 1.0, 1.0, 0.0, 20, 0.0), ValueError),
    (lambda: _core.schedule(ARR_BAD, 10, 1.0, 1.0, 0.0, 0, 0.0), ValueError),
    (lambda: _core.schedule("x", 10, 1.0, 1.0, 0.0, 0, 0.0), TypeError),
    (lambda: _core.schedule(["x"], 10, 1.0, 1.0, 0.0, 0, 0.0), TypeError),
    (lambda: _core.schedule(1.0, "10", 1.0, 1.0, 0.0, 0, 0.0), TypeError),
    (lambda: _core.schedule(1.0, 10), TypeError),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0),
            2,
            3,
            [0.1, 0.2],
            [0.0, 0.0],
            [0.1, 0.2],
            [0.1, NAN],
            [1.0, 1.0],
        ),
        None,
    ),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0),
            2,
            3,
            [0.1] * 40,
            [0.0] * 40,
            [0.1] * 40,
            [0.1] * 40,
            [1.0] * 40,
        ),
        None,
    ),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0),
            2,
            3,
            [0.1] * 40,
            [0.0] * 40,
            [0.1] * 40,
            [0.1] * 40,
            [1.0] * 39,
        ),
        ValueError,
    ),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0), 2, 3, [0.1], [0.0], [float("inf")], [0.1], [1.0]
        ),
        ValueError,
    ),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0), 2, 3, [0.1], [0.0], ["a"], [0.1], [1.0]
        ),
        TypeError,
    ),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0), 2, 3, 0.5, [0.0], [0.1], [0.1], [1.0]
        ),
        None,
    ),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0), 2, 3, {}, [0.0], [0.1], [0.1], [1.0]
        ),
        TypeError,
    ),
    (
        lambda: _core.step_groups(
            _core.StepParams(10, 0.0, 0, 0.0), 2, 3, [0.1], [0.0], [0.1], [0.1], [1.0]
        ),
        ValueError,
    ),
]


def test_reference_counts_of_arguments_are_unchanged() -> None:
    t = np.arange(10.0)
    T, phi = 10**6, 0.73
    lists = [[0.1], [0.0], [0.1], [0.1], [1.0]]
    before = [sys.getrefcount(x) for x in (t, T, phi, *lists)]
    for _ in range(1000):
        _core.schedule(t, T, phi, 1.0, 0.0, 0, 0.0)
        _core.schedule(2.0, T, phi, 1.0, 0.0, 0, 0.0)
        try:
            _core.schedule(-2.0, T, phi, 1.0, 0.0, 0, 0.0)
        except ValueError:
            pass
        _core.step_groups(_core.StepParams(T, phi, 0, 0.0), 1, 2, *lists)
    assert [sys.getrefcount(x) for x in (t, T, phi, *lists)] == before


@pytest.mark.parametrize(("fn", "error"), CALLS)
def test_every_call_succeeds_or_sets_its_exception_never_system_error(fn, error) -> None:
    if error is None:
        result = fn()
        values = result[:2] if isinstance(result, tuple) else (result,)  # step_groups: lrs, ratios
        assert all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in values), result
        return
    with pytest.raises(error) as info:
        fn()
    assert not isinstance(info.value, SystemError)


def test_module_imports_cleanly_in_a_fresh_interpreter() -> None:
    code = (
        "import importlib, sys\n"
        "import uba._core as c\n"
        "from importlib.metadata import version\n"
        "assert c.c_version == version('uba')\n"
        "del sys.modules['uba._core']\n"
        "import uba._core as d\n"
        "assert d.schedule(0, 10, 1.0, 1.0, 0.0, 0, 0.0) == 1.0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- what an error message shows of a value -----------------------------------------


class FloatOverflows:
    """A real number whose __float__ overflows and that has no order, so that
    its sign (and its value as +-inf) cannot be known.  It used to give
    "'<' not supported between instances", naming no argument."""

    def __float__(self) -> float:
        raise OverflowError("too large for a double")


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda x: uba.schedule(1, 10, phi=x), "phi"),
        (lambda x: uba.schedule(1, 10, eta_max=x), "eta_max"),
        (lambda x: _core.StepParams(10, x, 0, 0.0), "phi"),
        (lambda x: uba.theory.worst_case_residual([0.1], x, 2.0), "lam_min"),
        (lambda x: uba.theory.optimal_phi(10, x, 2.0), "lam_min"),
        (
            lambda x: uba.theory.optimal_phi_strongly_convex(
                10, mu=0.1, L=x, sigma2=0.1, f_gap=1.0
            ),
            "L",
        ),
        (lambda x: uba.peers.cosine(0, 10, eta_max=x), "eta_max"),
    ],
)
def test_a_number_whose_float_overflows_is_named_with_its_value(call, name) -> None:
    with pytest.raises(ValueError) as info:
        call(FloatOverflows())
    assert str(info.value).startswith(f"{name} must be a real number a double can hold, got <")
    assert "FloatOverflows object" in str(info.value)


HUGE = 10**400
SHORT_HUGE = "10000000000000000000...0000000000 (401 digits)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: uba.schedule(1, HUGE), f"T must be an integer in [1, 2**53], got {SHORT_HUGE}"),
        (
            lambda: uba.schedule(1, 10, phi=-HUGE),
            f"phi must be a finite number > 0, got -{SHORT_HUGE}",
        ),
        (
            lambda: uba.theory.optimal_phi_strongly_convex(
                10, mu=0.1, L=HUGE, sigma2=0.1, f_gap=1.0
            ),
            f"L must be a finite number > 0, got {SHORT_HUGE}",
        ),
        (
            lambda: uba.peers.cosine(0, HUGE),
            f"T must be an integer in [1, 2**53], got {SHORT_HUGE}",
        ),
        (
            lambda: uba.schedule(1, 10, phi=-(10**5000)),
            "phi must be a finite number > 0, got an integer of about 5001 digits",
        ),
    ],
)
def test_huge_integers_are_shown_shortened(call, message) -> None:
    """Before, the message printed all 401 digits (and an integer beyond
    Python's limit of digits for a str gave that limit's error instead)."""
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


@pytest.mark.parametrize(
    "value",
    [
        7 * 10**39,  # 40 digits: shown whole
        10**40,  # 41: shortened
        HUGE,
        fractions.Fraction(HUGE, 3),
        np.float64(np.inf),
        1e300,
    ],
)
def test_the_binding_shows_a_value_as_the_package_does(value) -> None:
    """One rule for the text of a value (uba._checks.shown), which the
    binding follows in C."""
    with pytest.raises(ValueError) as info:
        _core.schedule(1, 10, -value, 1.0, 0.0, 0, 0.0)
    assert str(info.value) == f"phi must be a finite number > 0, got {_checks.shown(-value)}"
