"""10**6 calls of each entry point of the binding uba._core, with valid and
invalid arguments, leave traced memory (tracemalloc) and RSS flat.

Each entry point gets 10**6 calls spread over its variants (every path
through the binding: scalars, numpy scalars, arrays, lists, strided views,
large arrays that release the GIL, groups on the stack and on the heap,
each kind of bad value and bad type).  Calls are weighted by cost, so the
cheap variants dominate, and every variant gets at least 20,000 calls:
one leaked object per call (>= 16 bytes) in any single variant grows the
traced memory by >= 320 kB, five times the allowance.  tracemalloc traces
the whole run (numpy reports its data buffers to it too); RSS backs it up
for memory that bypasses Python's allocators.  Run with -s to see the
measured deltas.
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
    (8, None, lambda: G(10, 1.0, 0, 0.0, 2, 3, *G2)),
    (8, None, lambda: G(10, 1.0, 2, 0.1, -1, 0, *G2)),
    (2, None, lambda: G(10, 1.0, 0, 0.0, 2, 3, *G40)),
    (4, ValueError, lambda: G(10, 1.0, 0, 0.0, 2, 3, *G40[:4], [1.0] * 39)),
    (4, ValueError, lambda: G(10, 1.0, 0, 0.0, 2, 3, [0.1], [0.0], [float("inf")], [0.1], [1.0])),
    (4, ValueError, lambda: G(10, 0.0, 0, 0.0, 2, 3, [0.1], [0.0], [0.1], [0.1], [1.0])),
    (4, ValueError, lambda: G(10, 1.0, 0, 0.0, 4, 3, [0.1], [0.0], [0.1], [0.1], [1.0])),
    (2, ValueError, lambda: G(10, 1.0, 5, 1e300, 3, 4, [0.1, 1e10], [0.0, 0.0], [0.05] * 2, [0.05] * 2, [1.0] * 2)),
    (2, ValueError, lambda: G(10, 1.0, 0, 0.0, 2, 3, *G40[:2], [0.1] * 39 + [NAN], *G40[3:])),
    (2, TypeError, lambda: G(10, 1.0, 0, 0.0, 2, 3, [0.1], [0.0], ["a"], [0.1], [1.0])),
    (2, TypeError, lambda: G(10, 1.0, 0, 0.0, 2, 3, 5, [0.0], [0.1], [0.1], [1.0])),
    (2, TypeError, lambda: G(10, 1.0, 0, 0.0, 2, 3, [0.1], 5, [0.1], [0.1], [1.0])),
    (4, TypeError, lambda: G(10, 1.0, 0, 0.0, 2, 3)),
]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def plan(variants: list) -> list[tuple[int, type | None, object]]:
    """(calls, error, fn) per variant: 10**6 in all, by weight, and at
    least MIN_CALLS_PER_VARIANT each."""
    total_weight = sum(w for w, _, _ in variants)
    counts = [
        max(MIN_CALLS_PER_VARIANT, CALLS_PER_ENTRY_POINT * w // total_weight)
        for w, _, _ in variants
    ]
    counts[0] += CALLS_PER_ENTRY_POINT - sum(counts)
    assert min(counts) >= MIN_CALLS_PER_VARIANT
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
    "variants", [SCHEDULE, STEP_GROUPS], ids=["schedule", "step_groups"]
)
def test_1e6_calls_leave_traced_memory_and_rss_flat(variants) -> None:
    work = plan(variants)
    assert sum(n for n, _, _ in work) == CALLS_PER_ENTRY_POINT
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
        f"\n{CALLS_PER_ENTRY_POINT} calls over {len(work)} variants in {elapsed:.1f} s: "
        f"traced memory {traced_grown:+d} B, RSS {rss_grown:+d} B"
    )
    assert traced_grown < TRACED_ALLOWANCE, traced_grown
    assert rss_grown < RSS_ALLOWANCE, rss_grown
