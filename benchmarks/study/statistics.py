"""The study's statistics over evaluation seeds: a mean with its 95%
t-interval, and the paired comparison of two schedules run on the same seeds
(same initial model and batch order), in % of the second's mean."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


def _half_width(x: np.ndarray) -> float:
    """Half the width of the 95% t-interval of the mean of x (len(x) >= 2);
    0 when every value is the same (an exact metric), whatever the rounding
    of their mean."""
    from scipy import stats

    if np.ptp(x) == 0:
        return 0.0
    return float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (nan for one value or
    any non-finite value)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2 or not np.all(np.isfinite(x)):
        return float(np.mean(x)), math.nan
    return float(x.mean()), _half_width(x)


@dataclass
class Comparison:
    """a - b over the same seeds, in % of b's mean: mean and 95% interval."""

    a: str
    b: str
    mean: float
    lo: float
    hi: float

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0."""
        return self.lo > 0 or self.hi < 0


def paired(a: str, xa: Mapping[int, float], b: str, xb: Mapping[int, float]) -> Comparison:
    """The comparison of a's values with b's (by seed) over their common seeds:
    nan where fewer than 2 seeds are common, a difference is not finite, or
    b's mean is not positive."""
    seeds = sorted(set(xa) & set(xb))
    d = np.array([xa[s] - xb[s] for s in seeds])
    ref = float(np.mean([xb[s] for s in seeds]))
    if len(d) < 2 or not (np.all(np.isfinite(d)) and ref > 0):
        return Comparison(a, b, math.nan, math.nan, math.nan)
    half = _half_width(d)
    m = float(d.mean())
    return Comparison(a, b, 100 * m / ref, 100 * (m - half) / ref, 100 * (m + half) / ref)
