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

__all__ = [
    "numpy_bound_strongly_convex",
    "numpy_expected_loss",
    "numpy_expected_loss_loop",
    "numpy_log_worst_case_noisy_error",
    "numpy_log_worst_case_residual",
    "numpy_optimal_phi",
    "numpy_schedule",
]


def numpy_schedule(
    t: npt.NDArray[np.float64], T: int, phi: float, eta_max: float, eta_min: float
) -> npt.NDArray[np.float64]:
    """docs/schedule.md section 1 in NumPy:
    eta_min + (eta_max - eta_min) 2u / (2 phi + (2 - phi) u), u = 1 + cos(pi t / T),
    for t in [0, T].

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


def numpy_log_worst_case_noisy_error(
    lrs: npt.ArrayLike, lam_min: float, lam_max: float, sigma2: float, *, grid: int = 8192
) -> tuple[float, float]:
    """(log max, maximiser) over a geometric grid of `grid` curvatures (ends
    included) of the noisy-quadratic error

        E x_n^2 = prod_t (1 - eta_t lam)^2 + sigma2 sum_t eta_t^2 prod_{s>t} (1 - eta_s lam)^2,

    by its recursion v <- (1 - eta lam)^2 v + sigma2 eta^2, all curvatures at
    once, in place (five passes over the grid per step).  Every 8 steps v is
    rescaled into [1/2, 1) (np.frexp), its exponent kept apart, so nothing
    overflows while each step grows v by at most 2^120 (|eta lam| < 2^15).
    """
    eta = np.ascontiguousarray(lrs, dtype=np.float64)
    lam = np.geomspace(lam_min, lam_max, grid)
    v = np.ones(grid)
    exp2 = np.zeros(grid, dtype=np.int64)  # E x^2 = v 2^exp2
    weight = np.ones(grid)  # 2^-exp2: the scale of the noise terms
    f = np.empty(grid)
    noise = np.empty(grid)
    for i, x in enumerate(eta.tolist()):
        np.multiply(lam, -x, out=f)
        f += 1.0
        f *= f
        v *= f
        np.multiply(weight, sigma2 * x * x, out=noise)
        v += noise
        if i % 8 == 7:
            v, e = np.frexp(v)
            exp2 += e
            weight = np.ldexp(1.0, -exp2)
    with np.errstate(divide="ignore"):
        logs = np.log(v) + exp2 * math.log(2.0)
    i = int(np.argmax(logs))
    return float(logs[i]), float(lam[i])


def numpy_optimal_phi(
    T: int,
    lam_min: float,
    lam_max: float,
    sigma2: float,
    *,
    phi_range: tuple[float, float] = (1e-6, 1e8),
    grid: int = 8192,
) -> tuple[float, float]:
    """(phi, objective): scipy.optimize.minimize_scalar (bounded, over log phi)
    of the worst case of numpy_log_worst_case_noisy_error on `grid`
    curvatures, for UBA with eta_max = 1/lam_min and eta_min = 1/lam_max at
    t = k - 1/2 (uba.theory.optimal_phi's objective, on a grid)."""
    from scipy.optimize import minimize_scalar

    t = np.arange(T) + 0.5

    def objective(u: float) -> float:
        lrs = numpy_schedule(t, T, math.exp(u), 1.0 / lam_min, 1.0 / lam_max)
        return numpy_log_worst_case_noisy_error(lrs, lam_min, lam_max, sigma2, grid=grid)[0]

    lo, hi = (math.log(p) for p in phi_range)
    result = minimize_scalar(objective, bounds=(lo, hi), method="bounded")
    return math.exp(result.x), float(result.fun)


def numpy_bound_strongly_convex(
    lrs: npt.ArrayLike, mu: float, L: float, sigma2: float, f_gap: float
) -> float:
    """Bound (c), prod_t (1 - mu eta_t) f_gap + (L sigma2 / 2) sum_t eta_t^2
    prod_{s>t} (1 - mu eta_s), from the suffix sums of log(1 - mu eta) (one
    cumsum) and one dot product: no Python loop over the steps."""
    eta = np.ascontiguousarray(lrs, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_a = np.log1p(-mu * eta)
    suffix = np.cumsum(log_a[::-1])[::-1]  # sum_{s >= t} log a_s
    after = np.empty_like(suffix)  # sum_{s > t}
    after[:-1] = suffix[1:]
    after[-1] = 0.0
    bias = f_gap * math.exp(suffix[0])
    return bias + 0.5 * L * sigma2 * float(np.dot(eta * eta, np.exp(after)))


def numpy_expected_loss_loop(
    lrs: npt.ArrayLike, lam: npt.ArrayLike, start: float = 1.0, noise: npt.ArrayLike = 0.0
) -> float:
    """The expected final loss 0.5 sum_k lam_k E x_n^2 of SGD on a noisy
    quadratic (uba.theory.expected_loss with unit weights), as a user writes
    it: a loop over the steps, arrays over the curvatures,
    E x^2 <- (1 - eta lam)^2 E x^2 + eta^2 v."""
    lam = np.asarray(lam, dtype=np.float64)
    v = np.broadcast_to(np.asarray(noise, dtype=np.float64), lam.shape)
    m = np.full(lam.shape, float(start))
    for eta in np.asarray(lrs, dtype=np.float64):
        f = 1.0 - eta * lam
        m = f * f * m + (eta * eta) * v
    return 0.5 * float(np.dot(lam, m))


def numpy_expected_loss(
    lrs: npt.ArrayLike,
    lam: npt.ArrayLike,
    start: float = 1.0,
    noise: npt.ArrayLike = 0.0,
    block: int = 256,
) -> float:
    """The same loss, the fastest form found here: the recursion is linear,
    m <- a_t m + b_t with a_t = (1 - eta_t lam)^2 and b_t = eta_t^2 v, so a
    block of steps composes to m <- (prod_t a_t) m + sum_t b_t prod_{s>t}
    a_s, formed for all curvatures at once from one reversed cumulative
    product over a (block x curvatures) array (256 steps a block, the
    fastest measured); 1.3-1.6x the loop's speed at 256 curvatures.  Plain
    float64: for stable steps (|1 - eta lam| <= 1) nothing overflows, and
    what underflows is negligible."""
    eta = np.asarray(lrs, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    v = np.broadcast_to(np.asarray(noise, dtype=np.float64), lam.shape)
    m = np.full(lam.shape, float(start))
    for i in range(0, eta.size, block):
        e = eta[i : i + block, None]
        a = 1.0 - e * lam
        a *= a
        suffix = np.cumprod(a[::-1], axis=0)[::-1]  # prod_{s >= t} a_s
        after = np.ones_like(suffix)  # prod_{s > t} a_s
        after[:-1] = suffix[1:]
        m = suffix[0] * m + ((e * e) * after).sum(axis=0) * v
    return 0.5 * float(np.dot(lam, m))
