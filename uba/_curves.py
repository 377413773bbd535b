"""The schedules the command line and :mod:`uba.plotting` compare, by phi or
by name, and their values evaluated a slice of steps at a time.

A slice's NumPy work takes well under a millisecond, and Python runs its
signal handlers between slices, so Ctrl-C lands promptly at any budget (the
UBA schedule itself is evaluated in C, which polls for Ctrl-C).  Slicing also
keeps the memory to the result: no array of all the steps is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from uba import peers as _peers
from uba._checks import items, positive
from uba._schedule import schedule

_Array = npt.NDArray[np.float64]

#: A schedule as ``lrs(t, T)``: its values at the steps ``t`` of a budget ``T``.
Curve = Callable[[_Array, int], _Array]

#: Steps per slice (512 KiB of doubles).
SLICE = 1 << 16

#: The shapes a comparison shows when none are given (the plots and the
#: command line): either side of 1, the default, and cosine's 2.
DEFAULT_PHIS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)


def phis_of(phis: Sequence[float]) -> list[float]:
    """The shape parameters, each a finite number > 0, named by index."""
    return [positive(f"phis[{i}]", phi) for i, phi in enumerate(items("phis", phis))]


def _options(options: Any) -> Mapping[str, Mapping[str, Any]]:
    """Keyword arguments per peer: a mapping of names to mappings."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(
            f"options must be a mapping of peer names to keyword arguments, "
            f"got {type(options).__name__}"
        )
    for name, kwargs in options.items():
        if not isinstance(kwargs, Mapping):
            raise TypeError(
                f"options[{name!r}] must be a mapping of keyword arguments, "
                f"got {type(kwargs).__name__}"
            )
    return options


def curves(
    phis: Sequence[float],
    peers: Sequence[str],
    eta_max: float,
    eta_min: float,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[tuple[float | str, Curve]]:
    """``(phi, lrs)`` for UBA at each phi, then ``(name, lrs)`` for each peer.

    Checks the shapes, the peer names and the options, and that there is
    something to show, before any schedule is evaluated.
    """
    options = _options(options)
    phis = phis_of(phis)
    peers = items("peers", peers)
    for i, name in enumerate(peers):
        try:
            _peers.get(name)
        except ValueError as exc:
            raise ValueError(f"peers[{i}]: {exc}") from None
    if not phis and not peers:
        raise ValueError("phis and peers are both empty: nothing to show")
    unknown = sorted(set(options) - set(peers))
    if unknown:
        raise ValueError(f"options given for peers not drawn: {', '.join(unknown)}")

    def uba_curve(phi: float) -> Curve:
        return lambda t, T: schedule(t, T, phi, eta_max, eta_min)

    def peer_curve(name: str) -> Curve:
        kw = dict(options.get(name, {}))
        return lambda t, T: _peers.evaluate(name, t, T, eta_max, eta_min, **kw)

    named: list[tuple[float | str, Curve]] = [(phi, uba_curve(phi)) for phi in phis]
    return named + [(name, peer_curve(name)) for name in peers]


def sample(curve: Curve, T: int, steps: _Array | None = None) -> _Array:
    """``curve`` at ``steps`` (default every step ``t = 0..T-1``), one slice
    of :data:`SLICE` steps at a time, into one float64 array."""
    n = T if steps is None else len(steps)
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, SLICE):
        stop = min(start + SLICE, n)
        t = np.arange(start, stop, dtype=np.float64) if steps is None else steps[start:stop]
        out[start:stop] = curve(t, T)
    return out
