"""Helpers shared by the test packages."""

from __future__ import annotations

import os
from pathlib import Path

import uba

#: The repository checkout the tests live in (benchmarks/, examples/ beside tests/).
REPO = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The environment for a child Python process: the same uba as this one."""
    env = dict(os.environ)
    root = str(Path(uba.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def exact_uba(t: float, T: float, phi: float, eta_max: float = 1.0, eta_min: float = 0.0) -> float:
    """The UBA value at step ``t`` of ``T`` at 50 digits (mpmath), rounded once:
    the independent reference, from the tan form of docs/theory.md (periodic
    past ``T`` and even in ``t``, as the tan form is)."""
    import mpmath

    with mpmath.workdps(50):
        tan = mpmath.tan(mpmath.pi * mpmath.mpf(t) / (2 * mpmath.mpf(T)))
        g = 1 / (1 + mpmath.mpf(phi) / 2 * tan**2)
        return float(eta_min + (mpmath.mpf(eta_max) - eta_min) * g)
