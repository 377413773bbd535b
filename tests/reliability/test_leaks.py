"""10**6 calls of each entry point of the binding uba._core, with valid and
invalid arguments, leave traced memory (tracemalloc) and RSS flat.

Each entry point of the schedule gets 10**6 calls spread over its variants (every path
through the binding: scalars, numpy scalars, arrays, lists, strided views,
large arrays that release the GIL, groups on the stack and on the heap,
each kind of bad value and bad type).  Calls are weighted by cost, so the
cheap variants dominate, and every variant gets at least 20,000 calls:
one leaked object per call (>= 16 bytes) in any single variant grows the
traced memory by >= 320 kB, five times the allowance.  tracemalloc traces
the whole run (numpy reports its data buffers to it too); RSS backs it up
for memory that bypasses Python's allocators.  Run with -s to see the
measured deltas.  The theory entry points share 10**6 calls the same way,
except the phi minimisers (milliseconds a call: optimal_phi,
optimal_phi_strongly_convex, choose_phi), which get 48,000 calls over their
variants, at least 4,000 each.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc

import numpy as np
import pytest

from uba import _core


def _under_asan() -> bool:
    """True in the sanitized run of .ci/run (libasan preloaded), where
    ASan's quarantine keeps freed memory and RSS says nothing about leaks."""
    try:
        with open("/proc/self/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,  # the full tier: 10**6 calls of each entry point
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm"),
    pytest.mark.skipif(_under_asan(), reason="under ASan: leaks are measured in the plain run"),
]

CALLS_PER_ENTRY_POINT = 1_000_000
MIN_CALLS_PER_VARIANT = 20_000
TRACED_ALLOWANCE = 64 * 1024  # bytes, for all 10**6 calls together
RSS_ALLOWANCE = 2 * 1024 * 1024

NAN = float("nan")
ARR = np.arange(64, dtype=np.float64)
ARR_BIG = np.arange(5000, dtype=np.float64)  # >= 4096: the GIL is released
ARR_BAD = np.array([0.0, 1.0, NAN])
G2 = ([0.1, 0.2], [0.0, 0.0], [0.1, 0.2], [0.1, NAN], [1.0, 1.0])
G40 = ([0.1] * 40, [0.0] * 40, [0.1] * 40, [0.1] * 40, [1.0] * 40)

S = _core.schedule
G = _core.step_groups
P = _core.StepParams

# (weight, error, call): error None means the call must succeed.
SCHEDULE = [
    (8, None, lambda: S(3.0, 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (8, None, lambda: S(3, 10, 1.0, 1.0, 0.0, 2, 0.5)),
    (4, None, lambda: S(np.int64(3), 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (4, None, lambda: S(np.float32(3), 2**40, 0.3, 1.0, 0.1, 0, 0.0)),
    (2, None, lambda: S(ARR, 100, 0.5, 1.0, 0.0, 10, 0.0)),
    (2, None, lambda: S([[1, 2], [3, 4]], 100, 0.5, 1.0, 0.0, 0, 0.0)),
    (2, None, lambda: S(ARR[::3], 100, 0.5, 1.0, 0.0, 0, 0.0)),
    (1, None, lambda: S(ARR_BIG, 10_000, 2.0, 1.0, 0.0, 0, 0.0)),
    (4, ValueError, lambda: S(-1.0, 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (4, ValueError, lambda: S(1.0, 0, 1.0, 1.0, 0.0, 0, 0.0)),
    (4, ValueError, lambda: S(1.0, 2**60, 1.0, 1.0, 0.0, 0, 0.0)),
    (4, ValueError, lambda: S(1.0, 10, -1.0, 1.0, 0.0, 0, 0.0)),
    (4, ValueError, lambda: S(1.0, 10, 1.0, NAN, 0.0, 0, 0.0)),
    (4, ValueError, lambda: S(1.0, 10, 1.0, 1.0, 0.0, 20, 0.0)),
    (2, ValueError, lambda: S(ARR_BAD, 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (2, ValueError, lambda: S([[0, 1], [2, NAN]], 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (2, TypeError, lambda: S("x", 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (2, TypeError, lambda: S(["x"], 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (2, TypeError, lambda: S(1.0, "10", 1.0, 1.0, 0.0, 0, 0.0)),
    (2, TypeError, lambda: S(np.complex64(1), 10, 1.0, 1.0, 0.0, 0, 0.0)),
    (4, TypeError, lambda: S(1.0, 10)),
]

STEP_GROUPS = [
    (8, None, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, *G2)),
    (8, None, lambda: G(P(10, 1.0, 2, 0.1), -1, 0, *G2)),
    (2, None, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, *G40)),
    (4, ValueError, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, *G40[:4], [1.0] * 39)),
    (
        4,
        ValueError,
        lambda: G(P(10, 1.0, 0, 0.0), 2, 3, [0.1], [0.0], [float("inf")], [0.1], [1.0]),
    ),
    (4, ValueError, lambda: G(P(10, 0.0, 0, 0.0), 2, 3, [0.1], [0.0], [0.1], [0.1], [1.0])),
    (4, ValueError, lambda: G(P(10, 1.0, 0, 0.0), NAN, 3, [0.1], [0.0], [0.1], [0.1], [1.0])),
    (
        2,
        ValueError,
        lambda: G(
            P(10, 1.0, 5, 1e300), 3, 4, [0.1, 1e10], [0.0, 0.0], [0.05] * 2, [0.05] * 2, [1.0] * 2
        ),
    ),
    (2, ValueError, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, *G40[:2], [0.1] * 39 + [NAN], *G40[3:])),
    (2, TypeError, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, [0.1], [0.0], ["a"], [0.1], [1.0])),
    (2, None, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, 0.5, 0.0, [0.1], None, None)),
    (2, TypeError, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, {}, [0.0], [0.1], [0.1], [1.0])),
    (2, TypeError, lambda: G(P(10, 1.0, 0, 0.0), 2, 3, [0.1], "x", [0.1], [0.1], [1.0])),
    (4, TypeError, lambda: G(P(10, 1.0, 0, 0.0), 2, 3)),
]


C = _core
LRS = np.array([0.5, 0.3, 0.1])


def PROGRESS(fraction: float) -> None:
    """A progress callback (polled once a call starts, so on every call)."""


def STOP(fraction: float) -> None:
    """A progress callback that stops the call with its own exception."""
    raise ZeroDivisionError


LRS_BAD = np.array([0.5, NAN, 0.1])

# uba.theory's entry points that cost microseconds.
THEORY = [
    (4, None, lambda: C.chebyshev_step_sizes(4, 1.0, 10.0)),
    (4, None, lambda: C.chebyshev_log_residual(16, 1.0, 100.0)),
    (4, None, lambda: C.phi_from_condition_number(50.0)),
    (4, None, lambda: C.condition_number_from_phi(100.0)),
    (4, None, lambda: C.curvature_params(0.01, 1.0)),
    (4, None, lambda: C.worst_case_residual(LRS, 1.0, 10.0, None)),
    (4, None, lambda: C.worst_case_residual([0.5, 0.3], 1.0, 10.0, PROGRESS)),
    (1, None, lambda: C.worst_case_noisy_error(LRS, 1.0, 10.0, 0.01, PROGRESS)),
    (4, None, lambda: C.bound_nonconvex(LRS, 1.0, 0.1, 1.0)),
    (4, None, lambda: C.bound_convex(LRS, 1.0, 0.1, 1.0)),
    (4, None, lambda: C.bound_strongly_convex(LRS, 0.1, 1.0, 0.1, 1.0)),
    (2, ValueError, lambda: C.chebyshev_step_sizes(0, 1.0, 10.0)),
    (2, ValueError, lambda: C.phi_from_condition_number(0.5)),
    (2, ValueError, lambda: C.curvature_params(1.0, 0.5)),
    (2, ValueError, lambda: C.worst_case_residual(LRS_BAD, 1.0, 10.0, None)),
    (2, ValueError, lambda: C.worst_case_residual([], 1.0, 10.0, None)),
    (2, ValueError, lambda: C.worst_case_residual([[0.1]], 1.0, 10.0, None)),
    (2, ValueError, lambda: C.bound_nonconvex(LRS, 1.0, 0.1, -1.0)),
    (2, ValueError, lambda: C.bound_convex([0.9], 1.0, 0.1, 1.0)),
    (2, ValueError, lambda: C.bound_strongly_convex(LRS, 2.0, 1.0, 0.1, 1.0)),
    (2, TypeError, lambda: C.worst_case_residual(["a"], 1.0, 10.0, None)),
    (2, ZeroDivisionError, lambda: C.worst_case_residual(LRS, 1.0, 10.0, STOP)),
    (2, TypeError, lambda: C.bound_nonconvex(LRS, "1", 0.1, 1.0)),
    (2, TypeError, lambda: C.chebyshev_step_sizes(4, 1.0)),
    (4, None, lambda: C.expected_loss(LRS, LRS, None, 1.0, 0.0, None)),
    (
        2,
        None,
        lambda: C.expected_loss([0.5, 0.3], [1.0, 0.5], [1.0, 2.0], [1.0, 0.5], 1e-3, PROGRESS),
    ),
    (2, ValueError, lambda: C.expected_loss(LRS, LRS_BAD, None, 1.0, 0.0, None)),
    (2, ValueError, lambda: C.expected_loss(LRS_BAD, LRS, None, 1.0, 0.0, None)),
    (2, ValueError, lambda: C.expected_loss(LRS, LRS, [1.0, 1.0], 1.0, 0.0, None)),
    (2, ValueError, lambda: C.expected_loss(LRS, [[1.0]], None, 1.0, 0.0, None)),
    (2, TypeError, lambda: C.expected_loss(LRS, ["a"], None, 1.0, 0.0, None)),
    (2, ZeroDivisionError, lambda: C.expected_loss(LRS, LRS, None, 1.0, 0.0, STOP)),
]

# The phi minimisers cost 20-400 us a call: 4,000 calls a variant still
# turn one leaked object per call into >= 64 kB.
OPTIMIZERS = [
    (1, None, lambda: C.optimal_phi(4, 1.0, 10.0, 0.0, 1.0, 0.1, (1e-3, 1e6), None)),
    (1, None, lambda: C.optimal_phi(4, 1.0, 10.0, 0.01, 1.0, 0.1, (1e-3, 1e6), PROGRESS)),
    (
        1,
        None,
        lambda: C.optimal_phi_strongly_convex(8, 0.1, 1.0, 0.01, 1.0, 1.0, (1e-3, 1e6), PROGRESS),
    ),
    (1, ValueError, lambda: C.optimal_phi(0, 1.0, 10.0, 0.0, 1.0, 0.1, (1e-3, 1e6), None)),
    (
        1,
        ValueError,
        lambda: C.optimal_phi_strongly_convex(8, 2.0, 1.0, 0.01, 1.0, 1.0, (1e-3, 1e6), None),
    ),
    (1, TypeError, lambda: C.optimal_phi(4, "1", 10.0, 0.0, 1.0, 0.1, (1e-3, 1e6), None)),
    (1, ZeroDivisionError, lambda: C.optimal_phi(4, 1.0, 10.0, 0.01, 1.0, 0.1, (1e-3, 1e6), STOP)),
    (1, None, lambda: C.choose_phi(4, LRS, None, 1.0, 0.01, 1.0, 0.0, (0.25, 4.0), PROGRESS)),
    (1, None, lambda: C.choose_phi(4, LRS, None, 1.0, 0.01, (0.5, 2.0), 0.0, (0.25, 4.0), None)),
    (
        1,
        ValueError,
        lambda: C.choose_phi(4, LRS, None, 1.0, 0.01, (2.0, 1.0), 0.0, (0.25, 4.0), None),
    ),
    (1, TypeError, lambda: C.choose_phi(4, LRS, None, 1.0, 0.01, "x", 0.0, (0.25, 4.0), None)),
    (
        1,
        ZeroDivisionError,
        lambda: C.choose_phi(4, LRS, None, 1.0, 0.0, 1.0, 0.0, (0.25, 4.0), STOP),
    ),
]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def plan(
    variants: list, total: int = CALLS_PER_ENTRY_POINT, least: int = MIN_CALLS_PER_VARIANT
) -> list[tuple[int, type | None, object]]:
    """(calls, error, fn) per variant: `total` in all, by weight, and at
    least `least` each."""
    total_weight = sum(w for w, _, _ in variants)
    counts = [max(least, total * w // total_weight) for w, _, _ in variants]
    counts[0] += total - sum(counts)
    assert min(counts) >= least
    return [(n, e, fn) for n, (_, e, fn) in zip(counts, variants)]


def run(calls: int, error: type | None, fn) -> None:
    if error is None:
        for _ in range(calls):
            fn()
        return
    for _ in range(calls):
        try:
            fn()
        except error:
            pass
        else:
            raise AssertionError(f"{fn} did not raise {error.__name__}")


@pytest.mark.parametrize(
    ("variants", "total", "least"),
    [
        (SCHEDULE, CALLS_PER_ENTRY_POINT, MIN_CALLS_PER_VARIANT),
        (STEP_GROUPS, CALLS_PER_ENTRY_POINT, MIN_CALLS_PER_VARIANT),
        (THEORY, CALLS_PER_ENTRY_POINT, MIN_CALLS_PER_VARIANT),
        (OPTIMIZERS, 48_000, 4_000),
    ],
    ids=["schedule", "step_groups", "theory", "phi_minimisers"],
)
def test_1e6_calls_leave_traced_memory_and_rss_flat(variants, total, least) -> None:
    work = plan(variants, total, least)
    assert sum(n for n, _, _ in work) == total
    for _, error, fn in work:  # warm caches, free lists and arenas
        run(2000, error, fn)
    gc.collect()
    rss_before = rss_bytes()
    tracemalloc.start()
    try:
        traced_before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        for calls, error, fn in work:
            run(calls, error, fn)
        elapsed = time.perf_counter() - started
        gc.collect()
        traced_grown = tracemalloc.get_traced_memory()[0] - traced_before
    finally:
        tracemalloc.stop()
    rss_grown = rss_bytes() - rss_before
    print(
        f"\n{total} calls over {len(work)} variants in {elapsed:.1f} s: "
        f"traced memory {traced_grown:+d} B, RSS {rss_grown:+d} B"
    )
    assert traced_grown < TRACED_ALLOWANCE, traced_grown
    assert rss_grown < RSS_ALLOWANCE, rss_grown
