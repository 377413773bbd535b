"""The C binding uba._core: no leaked references on any path, valid or
invalid, and a clean multi-phase import.  (Memory over 10**6 calls of each
entry point: test_leaks.py.)"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from uba import _core

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
            10, 1.0, 0, 0.0, 2, 3, [0.1, 0.2], [0.0, 0.0], [0.1, 0.2], [0.1, NAN], [1.0, 1.0]
        ),
        None,
    ),
    (
        lambda: _core.step_groups(
            10, 1.0, 0, 0.0, 2, 3, [0.1] * 40, [0.0] * 40, [0.1] * 40, [0.1] * 40, [1.0] * 40
        ),
        None,
    ),
    (
        lambda: _core.step_groups(
            10, 1.0, 0, 0.0, 2, 3, [0.1] * 40, [0.0] * 40, [0.1] * 40, [0.1] * 40, [1.0] * 39
        ),
        ValueError,
    ),
    (
        lambda: _core.step_groups(
            10, 1.0, 0, 0.0, 2, 3, [0.1], [0.0], [float("inf")], [0.1], [1.0]
        ),
        ValueError,
    ),
    (
        lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, [0.1], [0.0], ["a"], [0.1], [1.0]),
        TypeError,
    ),
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, 0.5, [0.0], [0.1], [0.1], [1.0]), None),
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, {}, [0.0], [0.1], [0.1], [1.0]), TypeError),
    (
        lambda: _core.step_groups(10, 0.0, 0, 0.0, 2, 3, [0.1], [0.0], [0.1], [0.1], [1.0]),
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
        _core.step_groups(T, phi, 0, 0.0, 1, 2, *lists)
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
