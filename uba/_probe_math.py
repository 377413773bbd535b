r"""The probe's mathematics in NumPy: what :mod:`uba.probe` measures, turned into numbers.

:func:`uba.probe.suggest_phi` runs the model (torch): Hessian-vector products,
minibatch gradients.  What it gets from them is a few scalars and arrays: the
Lanczos coefficients of its runs, the squared norms of gradients, the
curvature the gradient noise sees.  This module turns those into the
quantities of docs/theory.md (section on the probe): the quadrature and the
spectral density, the low end of the useful curvature range, the distance and
noise of the noisy quadratic model, the shape of the noise, the start along
each curvature, the inputs of :func:`uba.theory.choose_phi`, and what
decides whether its phi is returned: bootstrap resamples of the measurements
and the rule that abstains.  It imports neither torch nor anything that does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from uba import _checks

if TYPE_CHECKING:
    from uba.theory import PhiChoice

__all__ = [
    "GAIN_QUANTILE",
    "MAX_NEGATIVE_SHARE",
    "MAX_NOISE_RESIDUAL",
    "START_RULES",
    "NoiseFit",
    "choose_phi_inputs",
    "decision",
    "distance",
    "fit_noise",
    "gauss_quadrature",
    "lower_end",
    "negative_share",
    "radau_quadrature",
    "relative_gain",
    "resample",
    "signal_energy",
    "smoothed_density",
    "start_from_gradient",
    "start_quadrature",
]

_Array = npt.NDArray[np.float64]


#: The noise exponents the shape fit tries: a in [0, 2] in steps of 1/200
#: (1 is Hessian-shaped, the 201st).
_EXPONENTS = np.linspace(0.0, 2.0, 401)
_HESSIAN = 200


def gauss_quadrature(alpha: npt.ArrayLike, beta: npt.ArrayLike) -> tuple[_Array, _Array]:
    r"""Nodes and weights of the Gauss quadrature of a Lanczos tridiagonal.

    .. math::

        T_m = \begin{pmatrix} \alpha_1 & \beta_1 \\ \beta_1 & \alpha_2 & \ddots \\
            & \ddots & \ddots \end{pmatrix} = S\,\mathrm{diag}(\theta)\,S^{\mathsf T},
        \qquad \tau_k = S_{1k}^2 :

    :math:`m` Lanczos steps on a symmetric :math:`H` from a unit vector
    :math:`q` give :math:`T_m`; the Ritz values :math:`\theta_k` and weights
    :math:`\tau_k` are the :math:`m`-point Gauss quadrature of the measure
    :math:`\sum_i (q^{\mathsf T}u_i)^2\,\delta(\lambda - \lambda_i)`, exact
    for polynomials of degree up to :math:`2m - 1`
    (:math:`\sum_k \tau_k\theta_k^j = q^{\mathsf T}H^j q`).

    Args:
        alpha: the diagonal, :math:`m \ge 1` finite numbers.
        beta: the off-diagonal, :math:`m - 1` finite numbers.

    Returns:
        ``(nodes, weights)``, ascending nodes; the weights sum to 1.

    Raises:
        ValueError: a coefficient is not finite, or the lengths do not match.

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import gauss_quadrature
        >>> nodes, weights = gauss_quadrature([0.0, 0.0], [1 / np.sqrt(3)])  # Gauss-Legendre
        >>> nodes.round(6).tolist(), weights.round(6).tolist()
        ([-0.57735, 0.57735], [0.5, 0.5])
    """
    a = np.asarray(alpha, dtype=np.float64).ravel()
    b = np.asarray(beta, dtype=np.float64).ravel()
    if a.size < 1 or b.size != a.size - 1:
        raise ValueError(
            f"beta must have one number fewer than alpha, got {b.size} and {a.size} (alpha >= 1)"
        )
    nodes, vectors = _eigh_tridiagonal(a, b)
    weights = vectors[0] ** 2
    return nodes, weights / weights.sum()


def radau_quadrature(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, node: float
) -> tuple[_Array, _Array]:
    r"""Nodes and weights of the Gauss-Radau quadrature with one node prescribed.

    With :math:`\beta_m`, the norm of the residual after the last of
    :math:`m` Lanczos steps, the tridiagonal is extended by one row,

    .. math::

        \tilde T = \begin{pmatrix} T_m & \beta_m e_m \\
            \beta_m e_m^{\mathsf T} & a + \delta_m \end{pmatrix},\qquad
        (T_m - aI)\,\delta = \beta_m^2 e_m,

    whose eigenvalues are :math:`a` (``node``) and :math:`m` others: the
    :math:`(m+1)`-point rule with a node at :math:`a`, exact for polynomials
    of degree up to :math:`2m` (Golub & Meurant, *Matrices, Moments and
    Quadrature*, 2010, ch. 6).  With :math:`a` at or below the spectrum it
    bounds from above what the Gauss rule bounds from below for functions
    such as :math:`1/\lambda`: the share of the measure near the bottom of the
    spectrum, which Gauss's nodes can miss, is given a node there.  A run that
    stopped on an invariant subspace (:math:`\beta_m = 0`) gives the Gauss
    rule, exact.

    Args:
        alpha: the diagonal, :math:`m \ge 1` finite numbers.
        beta: the off-diagonal and the last residual norm, :math:`m` finite
            numbers.
        node: :math:`a`, a finite number.

    Returns:
        ``(nodes, weights)``, ascending nodes; the weights sum to 1.

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import radau_quadrature
        >>> nodes, weights = radau_quadrature([0.0], [1 / np.sqrt(3)], -1.0)  # Legendre on [-1, 1]
        >>> nodes.round(6).tolist(), weights.round(6).tolist()  # the 2-point Radau rule / 2
        ([-1.0, 0.333333], [0.25, 0.75])
    """
    a = np.asarray(alpha, dtype=np.float64).ravel()
    b = np.asarray(beta, dtype=np.float64).ravel()
    z = _checks.real("node", node)
    if b.size != a.size:
        raise ValueError(f"beta must have as many numbers as alpha, got {b.size} and {a.size}")
    if b[-1] == 0:
        return gauss_quadrature(a, b[:-1])
    theta, vectors = _eigh_tridiagonal(a, b[:-1])
    gap = theta - z
    if np.any(gap == 0):  # node is exactly a Ritz value: the rule needs it just below
        z = float(np.nextafter(z, -np.inf))
        gap = theta - z
    delta = b[-1] ** 2 * float((vectors[-1] ** 2 / gap).sum())  # (T_m - aI)^-1 e_m, last entry
    return gauss_quadrature(np.append(a, z + delta), b)


def _eigh_tridiagonal(alpha: _Array, beta: _Array) -> tuple[_Array, _Array]:
    if not (np.all(np.isfinite(alpha)) and np.all(np.isfinite(beta))):
        raise ValueError("alpha and beta must be finite (a Lanczos run met a NaN or inf)")
    tri = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    theta, vectors = np.linalg.eigh(tri)
    return theta, vectors


def lower_end(nodes: npt.ArrayLike, weights: npt.ArrayLike, mass: float) -> float:
    r"""The low end of the useful curvature range of a spectral measure.

    .. math::

        \lambda_{\min} = \Big\{\lambda:\ \int_0^{\lambda} t^2\,d\mu(t)
            = q \int_0^{\infty} t^2\,d\mu(t)\Big\}

    for the measure :math:`\mu = \sum_k w_k\,\delta_{\theta_k}` (``nodes``
    :math:`\theta_k`, ``weights`` :math:`w_k \ge 0`) and ``mass`` :math:`q`:
    the curvature below which the positive eigen-directions hold only the
    fraction :math:`q` of :math:`\mathrm{tr}(H_+^2)`, i.e. of the starting
    gradient's energy when the start is equally far from the minimum along
    every direction (docs/theory.md, the probe's section).
    Equal nodes are merged; each node's share is spread over its
    neighbourhood: the cumulative share at node :math:`k` is taken as the
    share below it plus half its own, and the quantile is interpolated
    linearly in :math:`\log\lambda` between nodes (the lowest node when
    :math:`q` falls below its half share).

    Args:
        nodes: the eigenvalues or Ritz values; non-positive ones are ignored.
        weights: their weights (same shape, finite, ``>= 0``).
        mass: :math:`q`, in ``[0, 1)``.

    Returns:
        :math:`\lambda_{\min}`.

    Raises:
        ValueError: no node is positive with a positive weight, or a
            weight or ``mass`` is out of range.

    Example:
        >>> from uba.probe import lower_end
        >>> round(lower_end([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.01), 12)
        1.0
        >>> 2.0 < lower_end([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.2) < 3.0
        True
    """
    q = _checks.real("mass", mass, "a number in [0, 1)", lambda x: 0.0 <= x < 1.0)
    theta = np.asarray(nodes, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if theta.shape != w.shape or not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise ValueError("weights must be finite, >= 0 and as many as the nodes")
    keep = (theta > 0) & (w > 0)
    if not keep.any():
        raise ValueError("the measure has no positive curvature: no node > 0 with weight > 0")
    curvature, at = np.unique(theta[keep], return_inverse=True)  # sorted, repeats merged
    share = np.bincount(at, weights=(w * theta * theta)[keep]).astype(np.float64)
    share /= share.sum()
    middle = np.cumsum(share) - share / 2
    return float(np.exp(np.interp(q, middle, np.log(curvature))))


def negative_share(nodes: _Array, weights: _Array) -> float:
    r"""The share of the absolute curvature that is negative,
    :math:`\sum_{\theta_k<0} w_k|\theta_k| / \sum_k w_k|\theta_k|` (0 for an
    empty or zero measure).

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import negative_share
        >>> negative_share(np.array([-1.0, 3.0]), np.array([0.5, 0.5]))
        0.25
    """
    curvature = weights * np.abs(nodes)
    total = float(curvature.sum())
    return float(curvature[nodes < 0].sum()) / total if total > 0 else 0.0


def smoothed_density(
    nodes: _Array, weights: _Array, lams: npt.ArrayLike, width: float | None = None
) -> _Array:
    r"""A quadrature measure as a density: each node smoothed by a Gaussian,
    :math:`\sum_k w_k\,\mathcal N(\lambda;\theta_k, s^2)`.

    ``nodes`` may hold NaN (padding after an early Lanczos stop), which is
    ignored.  ``width`` :math:`s` defaults to 1% of the spread of the nodes
    (at least ``1e-12`` of the largest).

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import smoothed_density
        >>> d = smoothed_density(np.array([0.0]), np.array([1.0]), [0.0], width=1.0)
        >>> round(float(d[0]), 6)  # 1 / sqrt(2 pi)
        0.398942
    """
    x = np.asarray(lams, dtype=np.float64)
    ok = np.isfinite(nodes)
    theta, tau = nodes[ok], weights[ok]
    if width is None:
        width = max(0.01 * float(np.ptp(theta)), 1e-12 * float(np.abs(theta).max()))
    s = _checks.real("width", width, "a finite number > 0", lambda v: v > 0)
    z = (x[..., None] - theta) / s
    out: _Array = np.exp(-0.5 * z * z) @ tau / (s * math.sqrt(2 * math.pi))
    return out


def distance(
    mean_norm2: float, trace_sigma: float, batches: int, trace_h2: float
) -> tuple[float, bool]:
    r"""The noisy quadratic model's squared distance to the minimum per
    parameter, :math:`d^2 = \|\nabla f\|^2 / \mathrm{tr}(H^2)`, with
    :math:`\|\nabla f\|^2 \approx \|\bar g\|^2 - \mathrm{tr}\,\hat\Sigma_B / n`
    (the noise in the mean of ``batches`` = :math:`n` gradients removed).

    Returns:
        ``(d2, lost)``.  ``lost`` says that the debiased norm is not positive
        (the mean gradient is lost in its noise); ``d2`` then uses the noise
        floor :math:`\mathrm{tr}\,\hat\Sigma_B / n` instead.

    Example:
        >>> from uba._probe_math import distance
        >>> distance(5.0, 8.0, 4, 3.0)  # (5 - 8 / 4) / 3
        (1.0, False)
        >>> distance(1.0, 8.0, 4, 3.0)  # 1 < 8 / 4: the floor, 2 / 3
        (0.6666666666666666, True)
    """
    floor = trace_sigma / batches
    grad2 = mean_norm2 - floor
    lost = not grad2 > 0
    return (floor if lost else grad2) / trace_h2, lost


@dataclass(frozen=True)
class NoiseFit:
    r"""How the gradient noise spreads over curvature, fitted as
    :math:`\sigma^2(\lambda) = c\,|\lambda|^a` with :math:`a \in [0, 2]`.

    What is measured is the curvature the noise sees,
    :math:`r = \mathrm{tr}(H\Sigma_B)/\mathrm{tr}\,\Sigma_B` (from
    :math:`d^{\mathsf T}Hd / \|d\|^2` over differences :math:`d` of two
    batches' gradients).  Isotropic noise (:math:`\Sigma_B \propto I`) predicts
    :math:`r = \mathrm{tr}H/P`, the mean curvature; Hessian-shaped noise
    (:math:`\Sigma_B \propto H`, as least squares with label noise has)
    predicts :math:`r = \mathrm{tr}H^2/\mathrm{tr}H`.  Both are read off the
    spectral density, as is :math:`r(a)` for every exponent; the fit is the
    :math:`a` whose :math:`r(a)` is nearest the measured :math:`r`.
    Exponents above 1 say that the noise lies along the top curvatures even
    more than :math:`H` does (a network early in training, for one).  A
    measured :math:`r` outside what the family can give (below the mean
    curvature, above :math:`r(2)`) leaves the fit at an end, and
    ``residual`` says by how much.
    """

    curvature: float
    r"""The measured :math:`r = \sum_j d_j^{\mathsf T}Hd_j / \sum_j \|d_j\|^2`
    (NaN when there is no noise)."""
    stderr: float
    """Its standard error over the pairs (delta method; NaN for one pair)."""
    isotropic: float
    r""":math:`r` if the noise were isotropic: :math:`\mathrm{tr}H/P`."""
    hessian: float
    r""":math:`r` if the noise were Hessian-shaped, :math:`\Sigma_B \propto |H|`:
    :math:`\mathrm{tr}(H|H|)/\mathrm{tr}|H|` (:math:`\mathrm{tr}H^2/\mathrm{tr}H`
    for a convex loss)."""
    exponent: float
    """The fitted :math:`a` (0 isotropic, 1 Hessian-shaped; NaN without noise)."""
    scale: float
    r""":math:`c`, such that :math:`P\int c|\lambda|^a d\hat\rho = \mathrm{tr}\,\Sigma_B`."""
    residual: float = 0.0
    r"""How far the fit misses: :math:`(r - r(a))` in standard errors of the
    difference (NaN when there is none; within +-3 when the family fits)."""

    @property
    def shape(self) -> str:
        """``"isotropic"`` or ``"hessian"``, whichever predicts the measured
        curvature better; ``"none"`` without noise."""
        if not math.isfinite(self.curvature):
            return "none"
        iso = abs(self.curvature - self.isotropic)
        return "isotropic" if iso <= abs(self.curvature - self.hessian) else "hessian"

    def variance(self, lams: npt.ArrayLike) -> _Array:
        r"""The per-direction, per-step noise variance
        :math:`c\,|\lambda|^a` at curvatures ``lams``."""
        x = np.abs(np.asarray(lams, dtype=np.float64))
        if self.scale == 0:
            return np.zeros_like(x)
        out: _Array = self.scale * x**self.exponent
        return out


def fit_noise(
    samples: npt.ArrayLike, nodes: _Array, weights: _Array, params: int, trace_sigma: float
) -> NoiseFit:
    r"""Fit :class:`NoiseFit` to what the probe measured.

    The exponent is that of a named shape, 0 (isotropic) or 1
    (Hessian-shaped), when the nearer of the two predicts the measured
    curvature within three standard errors (the measurement's over the pairs
    and the prediction's over the Lanczos runs, combined: three, not two,
    since the runs are few and their spread is itself uncertain); otherwise
    the exponent whose prediction is nearest.  So a shape is not refined past
    what the data resolve.

    Args:
        samples: one row per pair of batches:
            :math:`(d^{\mathsf T}Hd, \|d\|^2)` for the difference
            :math:`d = (g_a - g_b)/\sqrt 2` of two batches' gradients
            (:math:`\mathbb E\,dd^{\mathsf T} = \Sigma_B`).
        nodes, weights: the spectral density, one row per Lanczos run (a
            1-D array is one run; NaN nodes ignored, weights summing to 1).
        params: :math:`P`, the number of parameters.
        trace_sigma: :math:`\mathrm{tr}\,\Sigma_B`, measured over all batches.

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import fit_noise
        >>> lams = np.array([1.0, 4.0])  # two directions; noise = 0.5 * lams
        >>> fit = fit_noise([[0.5 * 17, 0.5 * 5]], lams, np.array([0.5, 0.5]), 2, 2.5)
        >>> fit.shape, fit.exponent, fit.scale
        ('hessian', 1.0, 0.5)
    """
    u, s = np.asarray(samples, dtype=np.float64).reshape(-1, 2).T
    runs = np.atleast_2d(np.where(np.isfinite(nodes), nodes, 0.0))
    tau = np.atleast_2d(np.where(np.isfinite(nodes), weights, 0.0))
    if not np.any((runs != 0) & (tau > 0)):
        raise ValueError("nodes: the spectral density has no nonzero curvature to fit noise along")
    powers = np.abs(runs)[None] ** _EXPONENTS[:, None, None]  # |theta|^a: (a, run, node)
    moments = (powers * tau).sum(axis=2)  # M(a) of each run, each 1/V of the whole
    curvature = (powers * runs * tau).sum(axis=2)
    spread = np.zeros(len(_EXPONENTS))  # r(a)'s standard error over the runs
    predicted = curvature.sum(axis=1) / moments.sum(axis=1)  # r(a)
    if runs.shape[0] > 1:
        with np.errstate(divide="ignore", invalid="ignore"):  # NaN where a run is all zero
            per_run = curvature / moments
        spread = np.std(per_run, axis=1, ddof=1) / math.sqrt(runs.shape[0])
    isotropic, hessian = float(predicted[0]), float(predicted[_HESSIAN])
    total = float(s.sum())
    if trace_sigma == 0 or total == 0:
        return NoiseFit(math.nan, math.nan, isotropic, hessian, math.nan, 0.0, math.nan)
    r = float(u.sum()) / total
    pairs = len(s)
    stderr = math.nan
    if pairs > 1 and np.all(u == u[0]) and np.all(s == s[0]):
        stderr = 0.0  # identical pairs (repeated batches): no spread, where u - r s is rounding
    elif pairs > 1:
        residual = u - r * s
        stderr = math.sqrt(float(residual @ residual) / (pairs * (pairs - 1))) / (total / pairs)
    error = np.hypot(stderr, spread)  # NaN with one pair: no named shape is taken
    miss = np.abs(predicted - r)
    named = min((0, _HESSIAN), key=lambda i: miss[i])
    best = named if miss[named] <= 3 * error[named] else int(np.argmin(miss))
    scale = trace_sigma / (params * float(moments[best].sum()))
    off = (r - float(predicted[best])) / float(error[best]) if error[best] > 0 else math.nan
    return NoiseFit(r, stderr, isotropic, hessian, float(_EXPONENTS[best]), scale, off)


#: The quadrature rules of the start: Gauss (from below) and Gauss-Radau (from above).
START_RULES = ("gauss", "radau")


def start_quadrature(
    grad_alpha: npt.ArrayLike, grad_beta: npt.ArrayLike, rule: str, nodes: npt.ArrayLike
) -> tuple[_Array, _Array]:
    r"""The quadrature of the gradient's measure from its Lanczos run.

    ``rule`` is ``"gauss"`` (:func:`gauss_quadrature`) or ``"radau"``
    (:func:`radau_quadrature` with its node at the lowest positive curvature
    measured: of the spectral density's ``nodes`` and the Gauss rule's).  For
    the start's part of the final loss, :math:`\int A_T(\lambda)/\lambda\,
    d\mu_g` with :math:`A_T` the schedule's contraction, Gauss misses what
    remains at the lowest curvatures and Radau counts it in full
    (docs/theory.md): they bracket it, and meet as the run resolves the
    bottom of the spectrum.  An empty run (the mean gradient is 0) gives
    empty arrays.

    Example:
        >>> from uba._probe_math import start_quadrature
        >>> nodes, weights = start_quadrature([2.0], [1.0], "radau", [1.0, 2.5])
        >>> nodes.round(6).tolist(), weights.round(6).tolist()
        ([1.0, 3.0], [0.5, 0.5])
    """
    rule = _checks.choice("rule", rule, START_RULES)
    alpha = np.asarray(grad_alpha, dtype=np.float64).ravel()
    beta = np.asarray(grad_beta, dtype=np.float64).ravel()
    if alpha.size == 0:
        return np.zeros(0), np.zeros(0)
    gauss = gauss_quadrature(alpha, beta[:-1])
    if rule == "gauss":
        return gauss
    every = np.concatenate([np.ravel(nodes), gauss[0]])
    positive = every[np.isfinite(every) & (every > 0)]
    if positive.size == 0:  # no positive curvature: the start is left out anyway
        return gauss
    return radau_quadrature(alpha, beta, float(positive.min()))


def signal_energy(
    grad_nodes: _Array,
    grad_weights: _Array,
    grad_norm2: float,
    nodes: _Array,
    weights: _Array,
    params: int,
    noise: NoiseFit,
    batches: int,
) -> _Array:
    r"""The energy of the true gradient at each node of the mean gradient's
    quadrature: :math:`\|\bar g\|^2\tau_k` less the mean's own noise there.

    The mean :math:`\bar g` of :math:`n` (``batches``) batch gradients is
    :math:`\nabla f` plus noise of covariance :math:`\Sigma_B/n`, whose
    energy at curvature :math:`\lambda` is :math:`\sigma^2(\lambda)/n` per
    direction (:class:`NoiseFit`).  Each positive node :math:`\theta_j` of
    the spectral density (``nodes``, ``weights``) holds
    :math:`P\tau_j\,\sigma^2(\theta_j)/n` of it; that is taken from the
    gradient node nearest in :math:`\log\lambda` (a Gauss quadrature lumps the
    measure around a node into it), and what is left is clipped at 0.  Where
    the noise dominates, at low curvature, the start is then what the signal
    supports, not noise divided by :math:`\lambda^2`.  ``batches = 0`` removes
    nothing.

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import NoiseFit, signal_energy
        >>> fit = NoiseFit(1.0, 0.0, 1.0, 1.0, 0.0, 0.5)  # isotropic, 0.5 per direction
        >>> signal_energy(np.array([0.1, 2.0]), np.array([0.25, 0.75]), 4.0,
        ...               np.array([0.05, 1.5]), np.array([0.5, 0.5]), 4, fit, 2).tolist()
        [0.5, 2.5]
    """
    energy = grad_norm2 * grad_weights
    at = np.flatnonzero(grad_nodes > 0)
    ok = np.isfinite(nodes) & (nodes > 0) & (weights > 0)
    if batches == 0 or noise.scale == 0 or at.size == 0 or not ok.any():
        return energy
    noise_energy = params * weights[ok] * noise.variance(nodes[ok]) / batches
    distance = np.abs(np.log(nodes[ok])[:, None] - np.log(grad_nodes[at])[None, :])
    nearest = at[np.argmin(distance, axis=1)]
    energy = energy - np.bincount(nearest, weights=noise_energy, minlength=energy.size)
    out: _Array = np.maximum(energy, 0.0)
    return out


def start_from_gradient(grad_nodes: _Array, energy: _Array) -> tuple[_Array, _Array]:
    r"""The squared distance to the minimum along each curvature, from the
    quadrature of the gradient.

    Under the fitted quadratic the gradient is :math:`g = He`, so along an
    eigen-direction :math:`e_i^2 = g_i^2/\lambda_i^2`.  Lanczos from
    :math:`g/\|g\|` gives the quadrature of the measure
    :math:`\mu_g = \sum_i (g_i^2/\|g\|^2)\,\delta(\lambda - \lambda_i)`: the
    node :math:`\theta_k` carries the gradient energy :math:`E_k` (here
    ``energy``; :math:`\|g\|^2\tau_k`, or :func:`signal_energy`), hence the
    start

    .. math:: x_{0,k}^2 = E_k / \theta_k^2

    summed over the directions it stands for.  Nodes that are not positive
    (negative curvature, which no quadratic with a minimum has) or hold no
    energy are left out.

    Returns:
        ``(curvatures, start)``.

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import start_from_gradient
        >>> lams, start = start_from_gradient(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
        >>> start.tolist()  # g = (1, 2) = H e with H = diag(1, 2): e = (1, 1)
        [1.0, 1.0]
    """
    keep = (grad_nodes > 0) & (energy > 0)
    lams = grad_nodes[keep]
    return lams, energy[keep] / (lams * lams)


def choose_phi_inputs(
    nodes: _Array,
    weights: _Array,
    params: int,
    noise: NoiseFit,
    start_lams: _Array,
    start: _Array,
) -> tuple[_Array, _Array, _Array, _Array]:
    r"""``(eigenvalues, weights, start, noise)`` for :func:`uba.theory.choose_phi`.

    The expected final loss of SGD on a diagonal quadratic is
    :math:`\frac12\sum_k w_k\lambda_k\,\mathbb E x_T(\lambda_k)^2`, and each
    :math:`\mathbb E x_T^2` is :math:`x_0^2 A_T(\lambda) +
    \sigma^2 B_T(\lambda)`: the start's part and the noise's part add.  So
    each is given on the quadrature that measures it, and the two lists are
    laid end to end:

    * the spectral density's nodes (positive ones), with weights
      :math:`P\tau` (the directions each stands for), start 0 and noise
      :math:`\sigma^2(\theta) = c\,\theta^a` (:class:`NoiseFit`);
    * the start's curvatures ``start_lams`` (:func:`start_from_gradient`),
      with weight 1, their ``start`` and noise 0.

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import NoiseFit, choose_phi_inputs
        >>> fit = NoiseFit(2.0, 0.0, 1.5, 2.0, 1.0, 0.1)
        >>> lams, w, start, noise = choose_phi_inputs(
        ...     np.array([1.0, 2.0]), np.array([0.5, 0.5]), 10, fit,
        ...     np.array([2.0]), np.array([1.0]))
        >>> lams.tolist(), w.tolist(), start.tolist(), noise.tolist()
        ([1.0, 2.0, 2.0], [5.0, 5.0, 1.0], [0.0, 0.0, 1.0], [0.1, 0.2, 0.0])
    """
    keep = np.isfinite(nodes) & (nodes > 0) & (weights > 0)
    density = nodes[keep]
    zeros_d, zeros_s = np.zeros(density.size), np.zeros(start_lams.size)
    return (
        np.concatenate([density, start_lams]),
        np.concatenate([params * weights[keep], np.ones(start_lams.size)]),
        np.concatenate([zeros_d, start]),
        np.concatenate([noise.variance(density), zeros_s]),
    )


# ---- the decision: is choose_phi's phi worth returning? ------------------------------------

#: The gain over phi = 1 must be positive at this quantile of the resamples.
GAIN_QUANTILE = 0.05
#: The noise fit fails beyond this many standard errors (:attr:`NoiseFit.residual`).
MAX_NOISE_RESIDUAL = 3.0
#: The quadratic fails when more than this share of the curvature is negative.
MAX_NEGATIVE_SHARE = 0.2


def resample(
    nodes: _Array, weights: _Array, samples: _Array, rng: np.random.Generator
) -> tuple[_Array, _Array, _Array, float]:
    r"""A bootstrap resample of the probe's independent measurements.

    The :math:`V` Lanczos runs (rows of ``nodes`` and ``weights``, each
    :math:`1/V` of the density) and the :math:`K` noise pairs (rows of
    ``samples``, :math:`(d^{\mathsf T}Hd, \|d\|^2)`) are each drawn with
    replacement, as many as there are, so the weights still sum to 1.  The
    last item, ``level``, is the drawn pairs' :math:`\sum\|d\|^2` over all
    pairs': the noise level :math:`\mathrm{tr}\,\Sigma_B` resampled with
    them (1 without pairs).  The Lanczos run from the mean gradient is one
    measurement and is not resampled; its uncertainty is the gap between the
    Gauss and Radau rules (:func:`start_quadrature`).

    Example:
        >>> import numpy as np
        >>> from uba._probe_math import resample
        >>> nodes = np.array([[1.0, 2.0], [3.0, np.nan]])
        >>> weights = np.array([[0.25, 0.25], [0.5, 0.0]])
        >>> samples = np.array([[1.0, 1.0], [4.0, 3.0]])
        >>> n, w, s, level = resample(nodes, weights, samples, np.random.default_rng(0))
        >>> float(w.sum()), n.shape, s.shape, level in (0.5, 1.0, 1.5)
        (1.0, (2, 2), (2, 2), True)
    """
    rows = rng.integers(0, nodes.shape[0], nodes.shape[0])
    pairs = rng.integers(0, samples.shape[0], samples.shape[0])
    total = float(samples[:, 1].sum())
    level = float(samples[pairs, 1].sum()) / total if total > 0 else 1.0
    return nodes[rows], weights[rows], samples[pairs], level


def relative_gain(loss_default: float, loss: float) -> float:
    r"""The share of phi = 1's loss that another phi saves,
    :math:`g = 1 - L(\varphi)/L(1)`: 1 where only phi = 1 diverges,
    :math:`-\infty` where only the other phi does (or phi = 1's loss is 0
    and the other's is not), 0 where the two are equal (both 0, or both
    infinite).

    Example:
        >>> from uba._probe_math import relative_gain
        >>> relative_gain(4.0, 3.0), relative_gain(float("inf"), 3.0), relative_gain(0.0, 0.0)
        (0.25, 1.0, 0.0)
        >>> relative_gain(3.0, float("inf"))
        -inf
    """
    if loss == loss_default:
        return 0.0
    if loss_default == 0.0:
        return -math.inf
    return 1.0 - loss / loss_default


def decision(
    choice: PhiChoice,
    gain_low: float,
    fit: NoiseFit,
    excess: float,
    loss: float,
    loss_stderr: float,
    negative_share: float,
) -> tuple[bool, str]:
    r"""Whether to abstain from ``choice.phi`` (and return phi = 1), and why.

    The rule (docs/theory.md, the probe's section), in this order:

    1. the fit fails: more than :data:`MAX_NEGATIVE_SHARE` of the
       curvature is negative (``negative_share``); the noise's measured
       curvature is more than :data:`MAX_NOISE_RESIDUAL` standard errors
       from the family :math:`c|\lambda|^a` (``fit.residual``); or the
       excess loss the quadratic implies, from below (``excess``, the Gauss
       rule), exceeds the measured ``loss`` by more than three of its
       standard errors (for a loss that is never negative it cannot: the
       quadratic does not reach to its minimum);
    2. phi = 1 is in ``choice.flat``: within 1% of the best predicted loss;
    3. the gain over phi = 1 is inside its uncertainty: ``gain_low``, its
       :data:`GAIN_QUANTILE` quantile over the resamples, is not positive.

    Otherwise ``choice.phi`` is returned, also at an end of its range (the
    sentence says so).

    Returns:
        ``(abstained, reason)``, the reason a sentence.

    Example:
        >>> import numpy as np
        >>> from uba import theory
        >>> from uba._probe_math import NoiseFit, decision
        >>> lam = np.geomspace(0.05, 5.0, 50)
        >>> c = theory.choose_phi(2000, lam, noise=1e-3 * lam, eta_max=0.1)
        >>> fit = NoiseFit(2.0, 0.1, 1.0, 2.0, 1.0, 1e-3, 0.5)
        >>> decision(c, -0.01, fit, 1.0, 2.0, 0.1, 0.0)[0]
        True
        >>> abstained, reason = decision(c, c.gain / 2, fit, 1.0, 2.0, 0.1, 0.0)
        >>> abstained, reason.startswith(f"phi = {c.phi:.3g} is predicted to save")
        (False, True)
    """
    if negative_share > MAX_NEGATIVE_SHARE:
        return True, (
            f"{negative_share:.0%} of the curvature is negative (more than "
            f"{MAX_NEGATIVE_SHARE:.0%}): a convex quadratic does not describe this loss here"
        )
    if abs(fit.residual) > MAX_NOISE_RESIDUAL:
        return True, (
            f"the gradient noise does not fit c|lambda|^a: the curvature it lies along is "
            f"{fit.residual:+.1f} standard errors from the nearest the family gives "
            f"(a = {fit.exponent:.3g})"
        )
    if excess > loss + 3.0 * _finite_or_zero(loss_stderr) + 1e-9 * abs(loss):
        return True, (
            f"the quadratic's excess loss at the start, at least {excess:.4g}, exceeds the "
            f"loss itself, {loss:.4g}: the quadratic does not reach to its minimum"
        )
    lo, hi = choice.flat
    if lo <= 1.0 <= hi:
        return True, (
            f"phi = 1 is within 1% of the best predicted loss (flat for phi in "
            f"{lo:.3g}..{hi:.3g}): there is nothing to gain"
        )
    gain = choice.gain
    if not gain_low > 0:
        return True, (
            f"the predicted gain of phi = {choice.phi:.3g} over phi = 1, {gain:.1%}, is inside "
            f"its uncertainty ({GAIN_QUANTILE:.0%} quantile over the resamples: {gain_low:+.1%})"
        )
    reason = (
        f"phi = {choice.phi:.3g} is predicted to save {gain:.1%} of phi = 1's loss "
        f"(at least {gain_low:.1%} in {1 - GAIN_QUANTILE:.0%} of the resamples)"
    )
    if choice.ends[0] != 0:
        side, way = ("lower", "below") if choice.ends[0] < 0 else ("upper", "above")
        reason += (
            f"; it is the {side} end of phi_range {choice.phi_range[0]:.3g}.."
            f"{choice.phi_range[1]:.3g} and the loss still falls {way} it"
        )
    return False, reason


def _finite_or_zero(x: float) -> float:
    return x if math.isfinite(x) else 0.0
