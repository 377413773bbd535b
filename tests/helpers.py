"""Helpers shared by the test packages."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import uba

#: True in the full tier (``pytest --slow``), set by tests/conftest.py.
FULL_TIER = False


def scaled(full: int, least: int = 10) -> int:
    """A size for this tier: ``full`` in the full tier, a tenth of it (at
    least ``least``) in the quick tier.  Hypothesis examples, steps of long
    runs: the check is the same, the full tier makes it on more."""
    return full if FULL_TIER else max(least, full // 10)


#: The folder the tests live in: a checkout, an unpacked sdist, or wherever a
#: wheel's tests were copied to (benchmarks/, examples/, docs/ beside tests/).
REPO = Path(__file__).resolve().parent.parent


def repo_path(*parts: str) -> Path:
    """A file or folder beside tests/ (in REPO).  Where the tests run without
    it (a wheel's tests copied alone), the test, or the module when called
    at import time, is skipped with the reason."""
    path = REPO.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{'/'.join(parts)} is not beside the tests here ({REPO})", allow_module_level=True
        )
    return path


def whole_tree() -> None:
    """Skips the test (or the module) unless REPO holds the whole project, a
    checkout or an unpacked sdist (csrc/uba.h, the version's one home, marks
    it): where only a wheel's test-sources were copied beside the tests,
    there is no tree to check, only the installed package."""
    repo_path("csrc", "uba.h")


def child_env() -> dict[str, str]:
    """The environment for a child Python process: the same uba as this one."""
    env = dict(os.environ)
    root = str(Path(uba.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


# A process that a non-interactive shell starts in the background inherits
# SIGINT ignored, and Python then installs no handler: Ctrl-C would never
# raise.  The tests of Ctrl-C put back what a terminal gives.


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """Python's own SIGINT handler (KeyboardInterrupt) in this process, for
    the duration of the block."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def sigint_at_default() -> None:
    """``preexec_fn`` for a child Python process on POSIX: SIGINT at its
    default disposition, so that the child's Python installs its handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def exact_uba(t: float, T: float, phi: float, eta_max: float = 1.0, eta_min: float = 0.0) -> float:
    """The UBA value at step ``t`` of ``T`` at 50 digits (mpmath), rounded once:
    the independent reference, g = c^2 / (c^2 + (phi/2) s^2) of docs/theory.md
    with c, s = cos, sin(pi r / (2T)), where r is ``t`` folded into [0, T] (g is
    even and 2T-periodic) and c is taken as sin(pi (T - r) / (2T)), exactly 0 at T."""
    import mpmath

    with mpmath.workdps(50):
        T = mpmath.mpf(T)
        r = mpmath.fmod(abs(mpmath.mpf(t)), 2 * T)
        r = 2 * T - r if r > T else r
        c = mpmath.sin(mpmath.pi * (T - r) / (2 * T))
        s = mpmath.sin(mpmath.pi * r / (2 * T))
        g = c**2 / (c**2 + mpmath.mpf(phi) / 2 * s**2)
        return float(eta_min + (mpmath.mpf(eta_max) - eta_min) * g)
