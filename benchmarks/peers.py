"""The NumPy peers that benchmarks/run.py times uba against.

Each peer computes the same quantity as the uba function it is compared
with, written as fast as this project could write it in NumPy (float64).
tests/test_benchmarks.py checks that the peers are right; their speed is
only ever measured, never asserted.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["numpy_schedule", "numpy_log_worst_case_residual"]


def numpy_schedule(
    t: npt.NDArray[np.float64], T: int, phi: float, eta_max: float, eta_min: float
) -> npt.NDArray[np.float64]:
    """docs/schedule.md section 1 in NumPy: eta_min + (eta_max - eta_min) 2u / (2 phi + (2 - phi) u),
    u = 1 + cos(pi t / T), for t in [0, T].

    The fastest form found here: one allocation and six in-place passes, by
    dividing twice instead of forming the denominator in a second array,

        eta = eta_min + A / ((2 - phi) + 2 phi / u),   A = 2 (eta_max - eta_min)

    (u = 0 at t = T gives 2 phi / 0 = inf and then eta_min, the right limit).
    It forms 1 + cos, so near t = T it has the cancellation uba avoids (about
    1e-5 relative at T = 1e6, t = T - 1); uba is both faster and exact there.
    """
    u = np.multiply(t, math.pi / T)
    np.cos(u, out=u)
    u += 1.0
    with np.errstate(divide="ignore"):
        np.divide(2.0 * phi, u, out=u)
    u += 2.0 - phi
    np.divide(2.0 * (eta_max - eta_min), u, out=u)
    u += eta_min
    return u


def _log_abs_poly(
    eta: npt.NDArray[np.float64], lam: npt.NDArray[np.float64], block: int = 16
) -> npt.NDArray[np.float64]:
    """log |prod_t (1 - eta_t lam)| for every lam.

    Factors are multiplied in blocks of `block` before one log per block
    (16 factors of at most 1e19 and at least 1e-19 cannot overflow or
    underflow), rows of lam at a time so that the work array stays in cache.
    """
    pad = (-eta.size) % block
    e = np.concatenate([eta, np.zeros(pad)]) if pad else eta
    rows = max(1, (1 << 17) // e.size)
    work = np.empty((rows, e.size))
    out = np.empty(lam.size)
    for start in range(0, lam.size, rows):
        part = lam[start : start + rows]
        f = work[: part.size]
        np.multiply.outer(part, e, out=f)
        np.subtract(1.0, f, out=f)
        np.abs(f, out=f)
        p = f.reshape(part.size, -1, block).prod(axis=2)
        with np.errstate(divide="ignore"):
            np.log(p, out=p)
        out[start : start + rows] = p.sum(axis=1)
    return out


def numpy_log_worst_case_residual(
    lrs: npt.ArrayLike,
    lam_min: float,
    lam_max: float,
    *,
    grid: int = 4096,
    keep: int = 16,
    zoom: int = 17,
    tol: float = 1e-12,
    max_iter: int = 60,
) -> float:
    """log of max over lam in [lam_min, lam_max] of |prod_t (1 - lrs_t lam)|, by a grid.

    A geometric grid of `grid` points (ends included), then, around each of the
    `keep` highest local maxima of the grid, repeated zooming: `zoom` points
    across the bracket, recentred on the best and narrowed to two of its
    spacings, until the best value gains less than `tol` (in log) per round.
    Logs throughout, so nothing overflows.  Nothing guarantees that the true
    maximum lies in one of the refined brackets: the grid must be fine enough
    for that, which benchmarks/run.py finds by doubling it until the result
    agrees with uba.theory to 1e-9 relative.
    """
    eta = np.ascontiguousarray(lrs, dtype=np.float64)
    lam = np.geomspace(lam_min, lam_max, grid)
    v = _log_abs_poly(eta, lam)
    peaks = np.flatnonzero((v[1:-1] >= v[:-2]) & (v[1:-1] >= v[2:])) + 1
    cand = np.concatenate([peaks, [0, grid - 1]])
    cand = cand[np.argsort(v[cand])[::-1][:keep]]
    best = float(v[cand].max())
    lo = lam[np.maximum(cand - 1, 0)]
    hi = lam[np.minimum(cand + 1, grid - 1)]
    frac = np.linspace(0.0, 1.0, zoom)
    rows = np.arange(cand.size)
    for _ in range(max_iter):
        pts = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
        vals = _log_abs_poly(eta, pts.ravel()).reshape(pts.shape)
        j = vals.argmax(axis=1)
        gained = float(vals.max()) - best
        best = max(best, float(vals.max()))
        step = (hi - lo) / (zoom - 1)
        lo = np.maximum(pts[rows, j] - step, lam_min)
        hi = np.minimum(pts[rows, j] + step, lam_max)
        if gained <= tol:
            break
    return best
