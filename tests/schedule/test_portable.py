"""uba.schedule gives the same bits on every platform: the hash of the values
csrc/tests/test_portable.c checks in C, computed here through the binding of
this interpreter's build (the wheel's, on each platform cibuildwheel tests:
x86-64 with its CPU clone, aarch64, Apple arm64, Windows)."""

from __future__ import annotations

import re

import numpy as np

import uba

from ..helpers import repo_path

N_GRID = 1001
BUDGETS = [1.0, 7.0, 1000.0, 4096.0, 1e6, 9007199254740992.0]
PHIS = [1e-3, 0.5, 1.0, 2.0, 4.0, 200.0]


def expected_hash() -> int:
    source = repo_path("csrc", "tests", "test_portable.c").read_text()
    match = re.search(r"#define EXPECTED_HASH UINT64_C\((0x[0-9A-Fa-f]+)\)", source)
    assert match is not None
    return int(match.group(1), 16)


def fnv1a(h: int, values: np.ndarray) -> int:
    for byte in np.asarray(values, "<f8").tobytes():  # each double's bits, low byte first
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_the_schedule_hash_is_the_c_tests_hash() -> None:
    h = 0xCBF29CE484222325
    for T in BUDGETS:
        # the steps of test_portable.c, formed with the same operations
        grid = 2.0 * T * np.arange(N_GRID, dtype=np.float64) / float(N_GRID - 1)
        t = np.concatenate([grid, [1.0, np.floor(T / 2.0), T - 1.0]])
        for phi in PHIS:
            h = fnv1a(h, uba.schedule(t, int(T), phi))  # the shape g: eta_max 1, eta_min 0
            W = int(np.floor(T / 10.0)) if T > 10.0 else 0
            h = fnv1a(
                h, uba.schedule(t, int(T), phi, 3e-4, 1e-6, warmup_steps=W, warmup_start=1e-5)
            )
    assert h == expected_hash(), f"{h:#018x}"
