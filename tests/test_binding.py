"""The C binding uba._core: no leaked memory or references on any path,
valid or invalid, and a clean multi-phase import."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc

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
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, [0.1, 0.2], [0.0, 0.0],
                               [0.1, 0.2], [0.1, NAN], [1.0, 1.0]), None),
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, [0.1] * 40, [0.0] * 40,
                               [0.1] * 40, [0.1] * 40, [1.0] * 40), None),
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, [0.1] * 40, [0.0] * 40,
                               [0.1] * 40, [0.1] * 40, [1.0] * 39), ValueError),
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, [0.1], [0.0],
                               [float("inf")], [0.1], [1.0]), ValueError),
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, [0.1], [0.0],
                               ["a"], [0.1], [1.0]), TypeError),
    (lambda: _core.step_groups(10, 1.0, 0, 0.0, 2, 3, 5, [0.0],
                               [0.1], [0.1], [1.0]), TypeError),
    (lambda: _core.step_groups(10, 0.0, 0, 0.0, 2, 3, [0.1], [0.0],
                               [0.1], [0.1], [1.0]), ValueError),
]


def call(fn, error) -> None:
    if error is None:
        fn()
    else:
        with pytest.raises(error):
            fn()


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_1e5_calls_of_every_entry_point_leave_memory_flat() -> None:
    calls = 100_000
    for fn, error in CALLS:  # warm caches and free lists
        for _ in range(200):
            call(fn, error)
    gc.collect()
    tracemalloc.start()
    before_traced = tracemalloc.get_traced_memory()[0]
    before_rss = rss_bytes()
    for fn, error in CALLS:
        if error is None:
            for _ in range(calls):
                fn()
        else:
            for _ in range(calls):
                try:
                    fn()
                except error:
                    pass
    gc.collect()
    grown_traced = tracemalloc.get_traced_memory()[0] - before_traced
    tracemalloc.stop()
    grown_rss = rss_bytes() - before_rss
    # One leaked 8-byte object per call would be > 2 MB here.
    assert grown_traced < 64 * 1024, grown_traced
    assert grown_rss < 1024 * 1024, grown_rss


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


def test_every_failure_sets_an_exception_never_system_error() -> None:
    for fn, error in CALLS:
        if error is not None:
            with pytest.raises(error) as info:
                fn()
            assert not isinstance(info.value, SystemError)


def test_module_imports_cleanly_in_a_fresh_interpreter() -> None:
    code = (
        "import importlib, sys\n"
        "import uba._core as c\n"
        "assert c.c_version == '0.1.0'\n"
        "del sys.modules['uba._core']\n"
        "import uba._core as d\n"
        "assert d.schedule(0, 10, 1.0, 1.0, 0.0, 0, 0.0) == 1.0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
