r"""Theory behind UBA: curvature, worst cases, convergence bounds, choice of phi.

What comes from where:

* **The paper** (Tang et al., "Stepsize anything", arXiv:2505.24452) gives
  the UBA schedule (:func:`uba.schedule`); only its abstract is available to
  this project, and nothing in this module is attributed to it.
* **Derived in this project** (``docs/theory.md`` section 1, exact): UBA with
  :math:`\eta_{\max} = 1/\lambda_{\min}`, :math:`\eta_{\min} = 1/\lambda_{\max}`
  and :math:`\varphi = 2\kappa`, sampled at :math:`t = k - \tfrac12`, *is* the
  sequence of Chebyshev min-max step sizes for a quadratic with spectrum in
  :math:`[\lambda_{\min}, \lambda_{\max}]`: :math:`\varphi/2` is the condition
  number a UBA schedule is min-max optimal for.
* **Standard results, instantiated** (``docs/theory.md`` section 2): SGD
  bounds for non-convex, convex and strongly convex smooth objectives,
  stated for an arbitrary step sequence so that any schedule can be compared.
* **This project's numerics** (``docs/theory.md`` sections 3 to 5): the
  exact worst-case residual of any step sequence, the noisy-quadratic worst
  case, the exact expected loss of any step sequence over a spectrum
  (:func:`expected_loss`), and the minimisers that choose :math:`\varphi`:
  :func:`choose_phi` for the expected loss (what a user ends up with),
  :func:`optimal_phi` for the worst case over a curvature interval (robust).

Everything runs in the C core, one file per section of ``docs/theory.md``
(``csrc/curvature.c`` to ``csrc/choose_phi.c``); ``docs/theory.md`` has the
statements, assumptions, derivations and the measured guideline on choosing
:math:`\varphi`.  Importing this module imports neither torch nor
matplotlib.

**Progress and Ctrl-C.**  The long computations (the worst cases and the
choices of :math:`\varphi`) take ``progress``: ``None``, or a callable that
is given the fraction done (an estimate, from 0 towards 1) about every
millisecond, in the calling thread; an exception it raises stops the
computation and propagates.  Ctrl-C stops them too (KeyboardInterrupt), with
or without a ``progress``.

Example:
    >>> from uba import theory
    >>> theory.phi_from_condition_number(100.0)
    200.0
    >>> round(theory.chebyshev_residual(16, 1.0, 100.0), 7)
    0.0805233
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from uba import _checks, _core

__all__ = [
    "Bound",
    "BoundaryWarning",
    "PhiChoice",
    "StabilityWarning",
    "UBAParams",
    "bound_convex",
    "bound_nonconvex",
    "bound_strongly_convex",
    "chebyshev_residual",
    "chebyshev_step_sizes",
    "choose_phi",
    "condition_number_from_phi",
    "expected_loss",
    "log_chebyshev_residual",
    "log_worst_case_noisy_error",
    "log_worst_case_residual",
    "optimal_phi",
    "optimal_phi_strongly_convex",
    "phi_from_condition_number",
    "uba_params_from_curvature",
    "worst_case_noisy_error",
    "worst_case_residual",
]

#: The type of a ``progress`` callback (*Progress and Ctrl-C* above).
Progress = Callable[[float], object]

# ---- the theory's defaults: decided here, and only here ---------------------

#: The default search range of :func:`optimal_phi` and
#: :func:`optimal_phi_strongly_convex` (the upper end of the former grows to
#: ``PHI_RANGE_PER_KAPPA * kappa`` for very ill-conditioned ranges).
PHI_RANGE = (1e-6, 1e8)
PHI_RANGE_PER_KAPPA = 200.0


#: The default search range of :func:`choose_phi`: ten octaves either side
#: of phi = 1.
CHOOSE_PHI_RANGE = (2.0**-10, 2.0**10)


def _ratio(x: float, y: float) -> float:
    """x/y, +-inf or nan for y = 0: for defaults formed before the core
    checks y."""
    return x / y if y != 0.0 else x * math.inf


def _optimal_phi_defaults(
    lam_min: Any, lam_max: Any, eta_max: Any, eta_min: Any, phi_range: Any
) -> tuple[Any, Any, Any]:
    """:func:`optimal_phi`'s ``(eta_max, eta_min, phi_range)``, each left
    ``None`` given its default: a schedule users run, the peak ``1/lam_max``
    and the floor 0, and :data:`PHI_RANGE` widened to
    ``PHI_RANGE_PER_KAPPA * kappa``.  The curvatures are read as numbers
    (TypeError naming them otherwise) but not checked: the core checks them
    before anything derived from them, so a bad curvature is reported as
    itself, never as a default."""
    if eta_max is None or phi_range is None:
        lo = _checks.real_number("lam_min", lam_min)
        hi = _checks.real_number("lam_max", lam_max)
        eta_max = _ratio(1.0, hi) if eta_max is None else eta_max
        if phi_range is None:
            kappa = _ratio(hi, lo)
            phi_range = (PHI_RANGE[0], max(PHI_RANGE[1], PHI_RANGE_PER_KAPPA * kappa))
    return eta_max, 0.0 if eta_min is None else eta_min, phi_range


def _optimal_phi_strongly_convex_defaults(L: Any, eta_max: Any, phi_range: Any) -> tuple[Any, Any]:
    """:func:`optimal_phi_strongly_convex`'s ``(eta_max, phi_range)``, each
    left ``None`` given its default: the largest peak bound (c) allows,
    ``UBA_STEP_LIMIT_STRONGLY_CONVEX / L``, and :data:`PHI_RANGE`.  ``L`` is
    read as a number but not checked (the core checks it first)."""
    if eta_max is None:
        eta_max = _ratio(_core.STEP_LIMIT_STRONGLY_CONVEX, _checks.real_number("L", L))
    return eta_max, PHI_RANGE if phi_range is None else phi_range


def _choose_phi_peak(eta_max: Any) -> Any:
    """:func:`choose_phi`'s peak as the core takes it: ``None`` chooses it in
    ``(0, inf)``, which the core reads as ``(2**-20 * hi, hi]`` with ``hi``
    the stability limit ``2/lam_max``."""
    return (0.0, math.inf) if eta_max is None else eta_max


# ---- diagnostics: answers at a range end, unstable peaks ----------------------


class BoundaryWarning(UserWarning):
    """An answer lies at an end of its search range, and the objective still
    falls beyond that end: the true optimum is outside the range."""


class StabilityWarning(UserWarning):
    r"""A peak step above the stability limit :math:`2/\lambda_{\max}`: the
    directions of largest curvature grow while the steps stay above it."""


def _stability_check(what: str, eta: float, lam_max: float) -> None:
    """Warns (StabilityWarning) when ``eta * lam_max > 2``."""
    if eta * lam_max > 2.0:
        warnings.warn(
            StabilityWarning(
                f"{what} = {eta:.6g} is above the stability limit 2/lam_max = "
                f"{2.0 / lam_max:.6g} (eta_max * lam_max = {eta * lam_max:.4g} > 2): "
                "the directions of largest curvature grow while the steps stay above it"
            ),
            stacklevel=3,
        )


def _floats(pair: Any) -> tuple[float, float]:
    """A pair the core has read and accepted (``phi_range``), as floats."""
    first, second = pair
    return float(first), float(second)


def _end_of(phi: float, phi_lo: float, phi_hi: float) -> int:
    """-1 or +1 when ``phi`` is at the lower or upper end of the search range,
    else 0.  "At" is within 1% of a step of the minimisers' scan (3 points
    per decade), where Brent's method, started from the scan's best point,
    ends up only when the objective keeps falling towards that end."""
    near = 0.01 * math.log(10.0) / 3.0
    if abs(math.log(phi / phi_lo)) <= near:
        return -1
    return 1 if abs(math.log(phi_hi / phi)) <= near else 0


def _warn_end(func: str, end: int, phi: float, phi_lo: float, phi_hi: float) -> None:
    """Warns (BoundaryWarning) that ``phi`` is the lower (end -1) or upper
    (+1) end of the search range and the objective still falls beyond it."""
    if end == 0:
        return
    side, way, widen = ("lower", "below", "downwards") if end < 0 else ("upper", "above", "upwards")
    wider = (phi_lo / 1024.0, phi_hi) if end < 0 else (phi_lo, phi_hi * 1024.0)
    warnings.warn(
        BoundaryWarning(
            f"{func}: phi = {phi:.6g} is at the {side} end of phi_range ({phi_lo:.6g}, "
            f"{phi_hi:.6g}) and the objective still falls {way} it: the optimum lies "
            f"beyond; widen phi_range {widen} (e.g. phi_range=({wider[0]:.6g}, "
            f"{wider[1]:.6g}))"
        ),
        stacklevel=3,
    )


def _exp(log_value: float) -> float:
    """exp that saturates: inf past the double range, 0.0 below it."""
    try:
        return math.exp(log_value)
    except OverflowError:
        return math.inf


class UBAParams(NamedTuple):
    """UBA parameters: peak ``eta_max``, floor ``eta_min``, shape ``phi``."""

    eta_max: float
    eta_min: float
    phi: float


def chebyshev_step_sizes(T: int, lam_min: float, lam_max: float) -> npt.NDArray[np.float64]:
    r"""The Chebyshev min-max step sizes for a spectrum in ``[lam_min, lam_max]``.

    .. math::

        \eta_k = \frac{2}{\lambda_{\max} + \lambda_{\min}
                 - (\lambda_{\max} - \lambda_{\min})\cos\frac{(2k-1)\pi}{2T}}
               = \frac{1}{\lambda_{\min}\cos^2 a_k + \lambda_{\max}\sin^2 a_k},
        \qquad a_k = \frac{(2k-1)\pi}{4T},\quad k = 1, \dots, T

    where :math:`T` is the budget and :math:`[\lambda_{\min}, \lambda_{\max}]`
    the range of the Hessian's eigenvalues.  Gradient descent on a quadratic
    with these steps, in any order, has the smallest possible worst case over
    the range of :math:`|\prod_k (1 - \eta_k \lambda)|`, namely
    :func:`chebyshev_residual`.  A standard result; the second form and the
    identity with UBA below are derived in this project:

    .. math::

        \eta_k = \mathrm{UBA}\big(t = k - \tfrac12;\ T,\ \varphi = 2\kappa,\
                 \eta_{\max} = 1/\lambda_{\min},\ \eta_{\min} = 1/\lambda_{\max}\big),
        \qquad \kappa = \lambda_{\max}/\lambda_{\min}.

    The C core evaluates the steps as that UBA schedule (no cancellation; a
    few ulp from the formula, 3.8 at most as measured), so they never rise,
    and ``lam_max == lam_min`` gives ``1/lam_min`` exactly.

    Args:
        T: the budget, an integer in ``[1, 2**53]``.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``
            (``lam_max == lam_min`` gives ``T`` copies of ``1/lam_min``).

    Returns:
        A float64 array of the ``T`` step sizes, in descending order.

    Raises:
        ValueError: ``T`` is not a positive integer, ``lam_min <= 0``,
            ``lam_max < lam_min``, a value is not finite, or ``1/lam_min`` or
            ``2*lam_max/lam_min`` overflows; the message names the argument.
        TypeError: an argument is not a real number.

    Example:
        >>> import uba
        >>> from uba import theory
        >>> steps = theory.chebyshev_step_sizes(4, 1.0, 10.0)
        >>> steps.round(4)
        array([0.7449, 0.2647, 0.1385, 0.1035])
        >>> bool(abs(steps - uba.schedule([0.5, 1.5, 2.5, 3.5], 4, phi=20.0,
        ...                               eta_max=1.0, eta_min=0.1)).max() < 1e-15)
        True
    """
    return _core.chebyshev_step_sizes(T, lam_min, lam_max)


def log_chebyshev_residual(T: int, lam_min: float, lam_max: float) -> float:
    r"""The log of :func:`chebyshev_residual`, finite for any budget.

    .. math::

        \log \frac{1}{T_T\!\left(\frac{\kappa+1}{\kappa-1}\right)}
        = \log 2 - T\theta - \log\left(1 + e^{-2T\theta}\right),
        \qquad \theta = \operatorname{arccosh}\frac{\kappa+1}{\kappa-1}

    (:math:`T_T` the Chebyshev polynomial of degree :math:`T`,
    :math:`\kappa = \lambda_{\max}/\lambda_{\min}`; standard).  ``-inf`` when
    ``lam_min == lam_max`` (the residual is then exactly 0).

    Args:
        T: the budget, an integer in ``[1, 2**53]``.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.

    Returns:
        The log of the optimal worst-case residual, a float ``<= 0``.

    Raises:
        ValueError, TypeError: as :func:`chebyshev_step_sizes`.

    Example:
        >>> from uba import theory
        >>> round(theory.log_chebyshev_residual(100_000, 1.0, 10.0), 3)
        -65489.337
    """
    return _core.chebyshev_log_residual(T, lam_min, lam_max)


def chebyshev_residual(T: int, lam_min: float, lam_max: float) -> float:
    r"""The optimal worst-case residual of ``T`` gradient steps on a quadratic.

    .. math::

        \min_{\eta_1..\eta_T} \max_{\lambda \in [\lambda_{\min}, \lambda_{\max}]}
        \Big|\prod_{k=1}^{T} (1 - \eta_k\lambda)\Big|
        = \frac{1}{T_T\!\left(\frac{\kappa+1}{\kappa-1}\right)}
        \le 2\left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^T

    attained by :func:`chebyshev_step_sizes` (standard; :math:`T_T` the
    Chebyshev polynomial, :math:`\kappa = \lambda_{\max}/\lambda_{\min}`).
    Values below the smallest double come back as ``0.0``: use
    :func:`log_chebyshev_residual` for those.

    Args:
        T: the budget, an integer in ``[1, 2**53]``.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.

    Returns:
        The residual, a float in ``[0, 1]``.

    Raises:
        ValueError, TypeError: as :func:`chebyshev_step_sizes`.

    Example:
        >>> from uba import theory
        >>> round(theory.chebyshev_residual(16, 1.0, 100.0), 7)  # docs/theory.md's check
        0.0805233
    """
    return _exp(_core.chebyshev_log_residual(T, lam_min, lam_max))


def phi_from_condition_number(kappa: float) -> float:
    r"""The UBA shape that is min-max optimal for condition number ``kappa``.

    .. math::

        \varphi = 2\kappa

    Derived in this project (``docs/theory.md`` section 1): with this :math:`\varphi` and
    the peak and floor of :func:`uba_params_from_curvature`, UBA sampled at
    :math:`t = k - \frac12` is the Chebyshev step sequence.  The wider the
    curvature range a schedule must be robust to, the larger :math:`\varphi`.

    Args:
        kappa: the condition number :math:`\lambda_{\max}/\lambda_{\min}`,
            finite and ``>= 1``.

    Returns:
        ``2 * kappa``.

    Raises:
        ValueError: ``kappa`` is below 1 or not finite.
        TypeError: ``kappa`` is not a real number.

    Example:
        >>> from uba import theory
        >>> theory.phi_from_condition_number(1.0)  # one curvature: phi = 2
        2.0
    """
    return _core.phi_from_condition_number(kappa)


def condition_number_from_phi(phi: float) -> float:
    r"""The condition number a UBA schedule of shape ``phi`` is optimal for.

    .. math::

        \kappa = \varphi / 2

    The inverse of :func:`phi_from_condition_number` (derived in this
    project).  Shapes ``phi < 2`` (the warmup-stable-decay side of cosine)
    correspond to no curvature range in this identity and are refused.

    Args:
        phi: the UBA shape, finite and ``>= 2``.

    Returns:
        ``phi / 2``.

    Raises:
        ValueError: ``phi`` is below 2 or not finite.
        TypeError: ``phi`` is not a real number.

    Example:
        >>> from uba import theory
        >>> theory.condition_number_from_phi(200.0)
        100.0
    """
    return _core.condition_number_from_phi(phi)


def uba_params_from_curvature(lam_min: float, lam_max: float) -> UBAParams:
    r"""The UBA parameters that reproduce the Chebyshev steps of a curvature range.

    .. math::

        \eta_{\max} = \frac{1}{\lambda_{\min}},\qquad
        \eta_{\min} = \frac{1}{\lambda_{\max}},\qquad
        \varphi = 2\,\frac{\lambda_{\max}}{\lambda_{\min}}

    Derived in this project (``docs/theory.md`` section 1): ``uba.schedule(k - 0.5, T,
    phi, eta_max, eta_min)`` for ``k = 1..T`` equals
    ``chebyshev_step_sizes(T, lam_min, lam_max)``.

    Args:
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.

    Returns:
        ``UBAParams(eta_max, eta_min, phi)``, a named tuple.

    Raises:
        ValueError, TypeError: as :func:`chebyshev_step_sizes`.

    Example:
        >>> from uba import theory
        >>> theory.uba_params_from_curvature(0.5, 50.0)
        UBAParams(eta_max=2.0, eta_min=0.02, phi=200.0)
    """
    return UBAParams(*_core.curvature_params(lam_min, lam_max))


def log_worst_case_residual(
    lrs: npt.ArrayLike, lam_min: float, lam_max: float, *, progress: Progress | None = None
) -> float:
    r"""The log of :func:`worst_case_residual`: finite for any budget.

    .. math::

        \log \max_{\lambda \in [\lambda_{\min}, \lambda_{\max}]}
        \Big|\prod_{t} (1 - \eta_t\lambda)\Big|
        = \max_\lambda \sum_t \log|1 - \eta_t\lambda|

    The residual of 100 000 Chebyshev steps at :math:`\kappa = 10` is about
    :math:`e^{-65489}`, far below the smallest double; its log is an ordinary
    number.  ``-inf`` only when the residual is exactly zero (e.g.
    ``lam_min == lam_max == 1/lrs[t]``).  Same method and accuracy as
    :func:`worst_case_residual`.

    Args:
        lrs: the step sizes, any 1-D array-like of real numbers.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        The log of the worst-case residual.

    Raises:
        ValueError, TypeError: as :func:`worst_case_residual`.

    Example:
        >>> from uba import theory
        >>> steps = theory.chebyshev_step_sizes(100_000, 1.0, 10.0)
        >>> round(theory.log_worst_case_residual(steps, 1.0, 10.0), 3)
        -65489.337
    """
    return _core.worst_case_residual(lrs, lam_min, lam_max, progress)[0]


def worst_case_residual(
    lrs: npt.ArrayLike, lam_min: float, lam_max: float, *, progress: Progress | None = None
) -> float:
    r"""Worst-case contraction of gradient descent with steps ``lrs`` on a quadratic.

    .. math::

        R = \max_{\lambda \in [\lambda_{\min}, \lambda_{\max}]}
            \Big|\prod_{t=0}^{n-1} (1 - \eta_t\lambda)\Big|,
        \qquad \|x_n - x^*\| \le R\,\|x_0 - x^*\|

    for any quadratic whose Hessian eigenvalues lie in
    :math:`[\lambda_{\min}, \lambda_{\max}]` (bound (d) of ``docs/theory.md``
    section 2, standard), with
    :math:`\eta_t` the step sizes in any order (the product does not depend on
    it).  The maximum is the true maximum of the degree-:math:`n` polynomial,
    endpoints included, not a grid estimate: the roots :math:`1/\eta_t` cut
    the interval into brackets on each of which :math:`\log|p|` is concave,
    so each bracket has one maximum; each is found by safeguarded Newton on
    :math:`(\log|p|)'` and certified by the concavity bound
    :math:`\log|p(\lambda)| \le \log|p(x)| + (\log|p|)'(x)(\lambda - x)`.  The
    search runs in the offset from ``lam_min`` and evaluates each factor at
    the exact point (two doubles), so narrow ranges (``kappa = 1 + 1e-12``)
    are resolved as finely as wide ones.  The sums are evaluated in logs, in
    :math:`O(\log n)` per point by a treecode, so there is no overflow or
    underflow; :math:`n = 10^4` takes 0.05-0.1 s, :math:`10^5` 0.6-1.1 s.
    The result is the maximum of the polynomial of the given (rounded) steps
    to about :math:`10^{-12}` relative, as measured against 50-digit searches
    (``docs/theory.md``).  This method is this project's.

    The value is ``exp`` of :func:`log_worst_case_residual`: ``0.0`` when the
    true value is below the smallest double (about ``5e-324``), ``inf``
    above the largest; call :func:`log_worst_case_residual` for those.

    Args:
        lrs: the step sizes, any 1-D array-like of real numbers (negative and
            zero steps are allowed); ``|lrs[i]| * lam_max`` must be at most
            ``1e100``.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        The worst-case residual :math:`R \ge 0`.

    Raises:
        ValueError: ``lrs`` is empty, not 1-D, or has a non-finite or too
            large entry (the message gives the first bad index and value);
            ``lam_min``/``lam_max`` are out of range.
        TypeError: ``lrs`` has a non-real dtype, or ``lam_min``/``lam_max``
            are not real numbers.

    Example:
        >>> import uba
        >>> from uba import theory
        >>> cheb = theory.chebyshev_step_sizes(16, 1.0, 100.0)
        >>> round(theory.worst_case_residual(cheb, 1.0, 100.0), 7)
        0.0805233
        >>> cosine = uba.schedule([k + 0.5 for k in range(16)], 16, phi=2.0,
        ...                       eta_max=1.0, eta_min=0.01)
        >>> theory.worst_case_residual(cosine, 1.0, 100.0) > 0.0805233
        True
    """
    return _exp(_core.worst_case_residual(lrs, lam_min, lam_max, progress)[0])


def log_worst_case_noisy_error(
    lrs: npt.ArrayLike,
    lam_min: float,
    lam_max: float,
    *,
    sigma2: float,
    progress: Progress | None = None,
) -> float:
    r"""The log of :func:`worst_case_noisy_error`: finite for any budget.

    Args:
        lrs: the step sizes, any 1-D array-like of real numbers.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.
        sigma2: the gradient-noise variance, finite and ``>= 0``.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        :math:`\log \max_\lambda \mathbb{E}\,x_n^2`.

    Raises:
        ValueError, TypeError: as :func:`worst_case_noisy_error`.

    Example:
        >>> from uba import theory
        >>> steps = theory.chebyshev_step_sizes(50_000, 1.0, 10.0)
        >>> round(theory.log_worst_case_noisy_error(steps, 1.0, 10.0, sigma2=0.0), 2)
        -65488.64
    """
    return _core.worst_case_noisy_error(lrs, lam_min, lam_max, sigma2, progress)[0]


def worst_case_noisy_error(
    lrs: npt.ArrayLike,
    lam_min: float,
    lam_max: float,
    *,
    sigma2: float,
    progress: Progress | None = None,
) -> float:
    r"""Worst case over the curvature range of SGD's final error on a noisy quadratic.

    One eigen-direction :math:`\lambda` of a quadratic, SGD with additive
    gradient noise of variance :math:`\sigma^2`,
    :math:`x_{t+1} = (1 - \eta_t\lambda)x_t + \eta_t\xi_t`, :math:`x_0^2 = 1`:

    .. math::

        \mathbb{E}\,x_n^2(\lambda) = \prod_t (1 - \eta_t\lambda)^2
          + \sigma^2 \sum_t \eta_t^2 \prod_{s>t} (1 - \eta_s\lambda)^2,
        \qquad \text{returns } \max_{\lambda\in[\lambda_{\min},\lambda_{\max}]}
        \mathbb{E}\,x_n^2(\lambda)

    (``docs/theory.md`` section 4; the model is standard, the search is this project's).
    With ``sigma2 = 0`` this is exactly ``worst_case_residual(...)**2``.  With
    ``sigma2 > 0`` the maximum is found by a search, not a certificate, in
    :math:`O(n)` time: :math:`\mathbb{E}\,x_n^2` is evaluated at many
    curvatures per pass over the steps (vectorised, rescaled so that nothing
    overflows or underflows), first at both ends, evenly spaced points and
    the midpoints of the intervals between consecutive roots
    :math:`1/\eta_t` (all of them up to about ``n = 2900``, 256 spread over
    them beyond), then at the intervals next to every local maximum within a
    factor 2 of the best, and the best few are refined by Newton's method.
    Measured (``docs/theory.md``): equal to an exhaustive search to about
    ``1e-15`` in the log at ``n <= 3000``, never below a 65,536-point grid at
    ``n = 1e4``; 2.6 ms at ``n = 1e4``, 19 ms at ``1e5``.  Where intervals
    are skipped it assumes their maxima vary smoothly (smooth schedules).

    Args:
        lrs: the step sizes in the order they are taken, any 1-D array-like
            of real numbers, ``|lrs[i]| * lam_max <= 1e100``.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.
        sigma2: the gradient-noise variance, finite and ``>= 0``.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        The worst-case :math:`\mathbb{E}\,x_n^2` (``0.0``/``inf`` outside the
        double range; see :func:`log_worst_case_noisy_error`).

    Raises:
        ValueError: as :func:`worst_case_residual`, or ``sigma2`` negative or
            not finite.
        TypeError: as :func:`worst_case_residual`.

    Example:
        >>> from uba import theory
        >>> steps = theory.chebyshev_step_sizes(16, 1.0, 100.0)
        >>> round(theory.worst_case_noisy_error(steps, 1.0, 100.0, sigma2=0.0), 9)
        0.006483999
        >>> theory.worst_case_noisy_error(steps, 1.0, 100.0, sigma2=1e-3) > 0.006483999
        True
    """
    return _exp(_core.worst_case_noisy_error(lrs, lam_min, lam_max, sigma2, progress)[0])


def bound_nonconvex(lrs: npt.ArrayLike, *, L: float, sigma2: float, f_gap: float) -> float:
    r"""SGD bound (a): smallest expected squared gradient norm, non-convex case.

    .. math::

        \min_{t<n} \mathbb{E}\|\nabla f(x_t)\|^2 \le
        \frac{2\,(f(x_0) - f_{\inf}) + L\sigma^2 S_2}{S_1},
        \qquad S_1 = \sum_t \eta_t,\quad S_2 = \sum_t \eta_t^2

    for :math:`f` :math:`L`-smooth and bounded below by :math:`f_{\inf}`,
    unbiased stochastic gradients with variance :math:`\le\sigma^2`, and
    :math:`0 \le \eta_t \le 1/L` for every :math:`t`.  A standard result
    (descent lemma, summed; e.g. Ghadimi & Lan 2013), instantiated for any
    step sequence; not from the UBA paper.  :math:`S_1, S_2` are summed with
    compensation (correct to a few ulp for any :math:`n`).

    Args:
        lrs: the step sizes :math:`\eta_0..\eta_{n-1}`, any 1-D array-like of
            real numbers in ``[0, 1/L]``, at least one ``> 0``.
        L: the smoothness constant, finite and ``> 0``.
        sigma2: the gradient-noise variance, finite and ``>= 0``.
        f_gap: :math:`f(x_0) - f_{\inf}`, finite and ``>= 0``.

    Returns:
        The bound, a float ``>= 0``.

    Raises:
        ValueError: a step breaks :math:`0 \le \eta_t \le 1/L` (the message
            names the first such index, its value and the condition), a step
            is not finite, all steps are 0, ``lrs`` is empty or not 1-D, or a
            constant is out of range.
        TypeError: ``lrs`` has a non-real dtype or a constant is not a real
            number.

    Example:
        >>> import uba
        >>> from uba import theory
        >>> lrs = uba.schedule(range(1000), 1000, phi=2.0, eta_max=0.5)
        >>> round(theory.bound_nonconvex(lrs, L=2.0, sigma2=0.1, f_gap=1.0), 6)
        0.083017
        >>> theory.bound_nonconvex([0.1, 0.6], L=2.0, sigma2=0.1, f_gap=1.0)
        Traceback (most recent call last):
        ...
        ValueError: lrs[1] must meet bound (a)'s step-size condition 0 <= eta_t <= 1/L, got 0.6
    """
    return _core.bound_nonconvex(lrs, L, sigma2, f_gap)


def bound_convex(lrs: npt.ArrayLike, *, L: float, sigma2: float, dist2: float) -> float:
    r"""SGD bound (b): step-weighted average suboptimality, convex case.

    .. math::

        \frac{\sum_t \eta_t\,(\mathbb{E} f(x_t) - f^*)}{S_1}
        \le \frac{\|x_0 - x^*\|^2 + \sigma^2 S_2}{S_1},
        \qquad S_1 = \sum_t \eta_t,\quad S_2 = \sum_t \eta_t^2

    for :math:`f` convex and :math:`L`-smooth with minimiser :math:`x^*`,
    unbiased gradients with variance :math:`\le\sigma^2`, and
    :math:`0 \le \eta_t \le 1/(2L)`.  It also bounds
    :math:`\mathbb{E} f(\bar x) - f^*` for the :math:`\eta`-weighted average
    iterate :math:`\bar x`.  Standard (distance recursion, summed),
    instantiated for any step sequence; not from the UBA paper.

    Args:
        lrs: the step sizes, any 1-D array-like of real numbers in
            ``[0, 1/(2L)]``, at least one ``> 0``.
        L: the smoothness constant, finite and ``> 0``.
        sigma2: the gradient-noise variance, finite and ``>= 0``.
        dist2: :math:`\|x_0 - x^*\|^2`, finite and ``>= 0``.

    Returns:
        The bound, a float ``>= 0``.

    Raises:
        ValueError: a step breaks :math:`0 \le \eta_t \le 1/(2L)` (first bad
            index, value and condition in the message), or as
            :func:`bound_nonconvex`.
        TypeError: as :func:`bound_nonconvex`.

    Example:
        >>> from uba import theory
        >>> theory.bound_convex([0.25] * 4, L=2.0, sigma2=0.0, dist2=1.0)
        1.0
    """
    return _core.bound_convex(lrs, L, sigma2, dist2)


def bound_strongly_convex(
    lrs: npt.ArrayLike, *, mu: float, L: float, sigma2: float, f_gap: float
) -> float:
    r"""SGD bound (c): final expected suboptimality, strongly convex case.

    .. math::

        \mathbb{E} f(x_n) - f^* \le \prod_{t} (1 - \mu\eta_t)\,(f(x_0) - f^*)
          + \frac{L\sigma^2}{2} \sum_t \eta_t^2 \prod_{s>t} (1 - \mu\eta_s)

    for :math:`f` :math:`\mu`-strongly convex and :math:`L`-smooth, unbiased
    gradients with variance :math:`\le\sigma^2`, and
    :math:`0 \le \eta_t \le 1/L`.  Standard (descent lemma plus
    Polyak-Lojasiewicz, unrolled), instantiated for any step sequence; not
    from the UBA paper.  The bias term falls with :math:`\sum\eta_t`, the
    noise term grows with the late steps: the budget-aware trade-off that
    :func:`optimal_phi_strongly_convex` minimises.  Evaluated by the
    equivalent recursion :math:`e_{t+1} = (1-\mu\eta_t)e_t + L\sigma^2\eta_t^2/2`
    as a compensated Horner scheme (every rounding error recovered and
    carried: a few ulp for any :math:`n`, 1.7e-16 relative measured at
    :math:`n = 10^6`), in scaled arithmetic (a bias below ``1e-308`` is not
    lost).

    Args:
        lrs: the step sizes in the order they are taken, any 1-D array-like
            of real numbers in ``[0, 1/L]``.
        mu: the strong-convexity constant, finite, in ``(0, L]``.
        L: the smoothness constant, finite and ``> 0``.
        sigma2: the gradient-noise variance, finite and ``>= 0``.
        f_gap: :math:`f(x_0) - f^*`, finite and ``>= 0``.

    Returns:
        The bound, a float ``>= 0``.

    Raises:
        ValueError: a step breaks :math:`0 \le \eta_t \le 1/L` (first bad
            index, value and condition in the message), ``mu`` is not in
            ``(0, L]``, or as :func:`bound_nonconvex`.
        TypeError: as :func:`bound_nonconvex`.

    Example:
        >>> from uba import theory
        >>> theory.bound_strongly_convex([0.5, 0.5], mu=1.0, L=2.0, sigma2=0.0,
        ...                              f_gap=1.0)
        0.25
    """
    return _core.bound_strongly_convex(lrs, mu, L, sigma2, f_gap)


class Bound(NamedTuple):
    """A convergence bound of this module, as tables and plots use it."""

    function: Callable[..., float]
    """``bound_*``: ``function(lrs, **constants) -> float``."""
    step_limit: float
    """The largest step the bound allows, in units of ``1/L``."""
    constants: tuple[str, ...]
    """The problem constants it takes, by keyword."""

    def largest_step(self, L: float) -> float:
        """``step_limit / L``: the largest step the bound allows at smoothness
        ``L``, the default peak of the schedules put through it."""
        step = self.step_limit / _checks.positive("L", L)
        if not math.isfinite(step):
            raise ValueError(
                f"L must be large enough that the largest step {self.step_limit:g}/L is "
                f"finite, got {L!r}"
            )
        return step


#: The convergence bounds by name (the command line's and
#: :func:`uba.plotting.plot_bounds`' ``bound``), read-only.
BOUNDS: Mapping[str, Bound] = MappingProxyType(
    {
        "nonconvex": Bound(bound_nonconvex, _core.STEP_LIMIT_NONCONVEX, ("L", "sigma2", "f_gap")),
        "convex": Bound(bound_convex, _core.STEP_LIMIT_CONVEX, ("L", "sigma2", "dist2")),
        "strongly-convex": Bound(
            bound_strongly_convex, _core.STEP_LIMIT_STRONGLY_CONVEX, ("mu", "L", "sigma2", "f_gap")
        ),
    }
)


def optimal_phi(
    T: int,
    lam_min: float,
    lam_max: float,
    *,
    sigma2: float = 0.0,
    eta_max: float | None = None,
    eta_min: float | None = None,
    phi_range: tuple[float, float] | None = None,
    progress: Progress | None = None,
) -> float:
    r"""The UBA shape that minimises the worst case of a noisy quadratic.

    .. math::

        \varphi^* = \arg\min_{\varphi} \max_{\lambda\in[\lambda_{\min},\lambda_{\max}]}
        \Big[\prod_{k} (1 - \eta_k\lambda)^2 + \sigma^2 \sum_k \eta_k^2
        \prod_{j>k} (1 - \eta_j\lambda)^2\Big],
        \qquad \eta_k = \mathrm{UBA}\big(k - \tfrac12;\ T, \varphi,
        \eta_{\max}, \eta_{\min}\big),\ k = 1..T

    where :math:`T` is the budget, :math:`[\lambda_{\min}, \lambda_{\max}]`
    the range of the Hessian's eigenvalues, :math:`\sigma^2` the variance of
    the gradient noise, :math:`x_0^2 = 1`, and :math:`\eta_k` the schedule at
    the midpoints of its steps (``docs/theory.md`` section 5; the values come
    from the same C code as :func:`uba.schedule`).  This is the *robust*
    choice: the worst curvature of the range, whatever the spectrum inside
    it.  For the loss a user ends up with on a known spectrum use
    :func:`choose_phi`, which minimises the expected loss instead (on
    spectra with a bulk near zero the worst case sits in directions no
    budget can train, and the two answers differ widely).

    The defaults are a schedule users run: the peak ``1/lam_max`` and the
    floor 0.  **The Chebyshev identity** is the call with explicit
    ``eta_max=1/lam_min, eta_min=1/lam_max``: with ``sigma2 = 0`` its
    objective is the squared worst-case residual, whose unique minimiser is
    :math:`\varphi^* = 2\kappa` (derived in this project, ``docs/theory.md``
    section 1), recovered here to about ``1e-10`` relative (that peak is far
    above the stability limit, on purpose, and warns).  The minimisation runs
    over :math:`\log\varphi`: a scan of 3 points per decade of ``phi_range``,
    then Brent's method between the neighbours of the best point; each trial
    evaluates :func:`worst_case_noisy_error` (exact for ``sigma2 = 0``).  The
    scan is searched lazily, from cheap lower bounds of the objective, so
    only a few of its points cost a full evaluation: with noise, ``T = 1e4``
    takes about 0.07 s and ``1e5`` 0.4 s (``docs/theory.md``).

    Diagnostics: a result at an end of ``phi_range`` (the objective still
    falls beyond it) warns with :class:`BoundaryWarning`; a peak with
    ``eta_max * lam_max > 2`` warns with :class:`StabilityWarning`.

    Args:
        T: the budget, an integer in ``[1, 2**53]``.
        lam_min: the smallest curvature, finite and ``> 0``.
        lam_max: the largest curvature, finite and ``>= lam_min``.
        sigma2: the gradient-noise variance, finite and ``>= 0``.  Default 0.
        eta_max: the UBA peak.  Default ``1/lam_max``.
        eta_min: the UBA floor.  Default (``None``) 0.  If it equals
            ``eta_max`` the schedule ignores :math:`\varphi` and ``2*kappa``
            is returned.
        phi_range: ``(phi_lo, phi_hi)``, the search range.  Default
            ``(1e-6, max(1e8, 200*kappa))``.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        :math:`\varphi^*` (a float, as before the diagnostics existed).

    Raises:
        ValueError: an argument is out of range (``T``, ``lam_min``,
            ``lam_max``, ``sigma2``, ``eta_max``/``eta_min`` not finite or
            ``max(|eta_max|, |eta_min|) * lam_max > 5e99``, ``phi_range`` not
            ``0 < phi_lo < phi_hi``); the message names it.
        TypeError: an argument is not a real number.

    Example:
        >>> import warnings
        >>> from uba import theory
        >>> with warnings.catch_warnings():  # the Chebyshev peak 1/lam_min is unstable
        ...     warnings.simplefilter("ignore", theory.StabilityWarning)
        ...     round(theory.optimal_phi(16, 1.0, 100.0, eta_max=1.0, eta_min=0.01), 6)
        200.0
        >>> round(theory.optimal_phi(1000, 1.0, 100.0, sigma2=1e-2), 3)  # peak 1/lam_max
        0.507
    """
    eta_max, eta_min, phi_range = _optimal_phi_defaults(
        lam_min, lam_max, eta_max, eta_min, phi_range
    )
    phi, _ = _core.optimal_phi(T, lam_min, lam_max, sigma2, eta_max, eta_min, phi_range, progress)
    _stability_check("eta_max", float(eta_max), float(lam_max))
    if float(eta_max) != float(eta_min):  # else phi has no effect
        phi_lo, phi_hi = _floats(phi_range)
        _warn_end("optimal_phi", _end_of(phi, phi_lo, phi_hi), phi, phi_lo, phi_hi)
    return phi


def optimal_phi_strongly_convex(
    T: int,
    *,
    mu: float,
    L: float,
    sigma2: float,
    f_gap: float,
    eta_max: float | None = None,
    phi_range: tuple[float, float] | None = None,
    progress: Progress | None = None,
) -> float:
    r"""The UBA shape that minimises bound (c) for a given noise level.

    .. math::

        \varphi^* = \arg\min_\varphi\ \prod_{t} (1 - \mu\eta_t)(f(x_0) - f^*)
          + \frac{L\sigma^2}{2} \sum_t \eta_t^2 \prod_{s>t} (1 - \mu\eta_s),
        \qquad \eta_t = \mathrm{UBA}(t;\ T, \varphi, \eta_{\max}, 0),\
        t = 0..T-1

    Answers "which :math:`\varphi` for my noise level" from the strongly
    convex bound (:func:`bound_strongly_convex`; standard bound, the
    minimisation is this project's).  No noise favours large steps for as
    long as possible (:math:`\varphi \to 0`, the lower end of
    ``phi_range``); more noise favours an earlier decay (larger
    :math:`\varphi`); very large noise pushes :math:`\varphi^*` to the upper
    end, where all steps after the first vanish.  Minimised over
    :math:`\log\varphi` by a 3-per-decade scan and Brent's method, in
    :math:`O(T)` time and :math:`O(1)` memory per trial, the scan's trials
    side by side (0.12 s at ``T = 1e6``).  The bound at the minimiser is
    :func:`bound_strongly_convex` of the schedule there.  With ``f_gap`` and
    ``sigma2`` both 0 every :math:`\varphi` gives 0 and ``phi_lo`` is returned.

    Args:
        T: the budget, an integer in ``[1, 2**53]``.
        mu: the strong-convexity constant, finite, in ``(0, L]``.
        L: the smoothness constant, finite and ``> 0``.
        sigma2: the gradient-noise variance, finite and ``>= 0``.
        f_gap: :math:`f(x_0) - f^*`, finite and ``>= 0``.
        eta_max: the UBA peak, in ``(0, 1/L]``.  Default ``1/L``.
        phi_range: ``(phi_lo, phi_hi)``, the search range.  Default
            ``(1e-6, 1e8)``.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        :math:`\varphi^*`.

    Raises:
        ValueError: an argument is out of range; the message names it.
        TypeError: an argument is not a real number.

    Example:
        >>> from uba import theory
        >>> phis = [theory.optimal_phi_strongly_convex(1000, mu=0.01, L=1.0,
        ...                                            sigma2=s, f_gap=1.0)
        ...         for s in (1e-3, 1e-2, 1e-1)]
        >>> phis == sorted(phis)  # more noise, earlier decay
        True
    """
    eta_max, phi_range = _optimal_phi_strongly_convex_defaults(L, eta_max, phi_range)
    phi, bound = _core.optimal_phi_strongly_convex(
        T, mu, L, sigma2, f_gap, eta_max, phi_range, progress
    )
    if bound > 0.0:  # else every phi gives 0 and phi_lo is simply the first
        phi_lo, phi_hi = _floats(phi_range)
        end = _end_of(phi, phi_lo, phi_hi)
        _warn_end("optimal_phi_strongly_convex", end, phi, phi_lo, phi_hi)
    return phi


def expected_loss(
    lrs: npt.ArrayLike,
    eigenvalues: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    start: npt.ArrayLike = 1.0,
    noise: npt.ArrayLike = 0.0,
    progress: Progress | None = None,
) -> float:
    r"""The expected final loss of SGD with steps ``lrs`` on a noisy quadratic.

    .. math::

        L = \frac12 \sum_k w_k \lambda_k\, \mathbb{E}\,x_n(\lambda_k)^2,
        \qquad
        \mathbb{E}\,x_{t+1}^2 = (1 - \eta_t\lambda_k)^2\, \mathbb{E}\,x_t^2
          + \eta_t^2 v_k,
        \qquad \mathbb{E}\,x_0^2 = s_k

    for SGD :math:`x_{t+1} = (1 - \eta_t\lambda_k)x_t - \eta_t\xi_t`,
    :math:`\mathbb{E}\,\xi_t^2 = v_k`, along each eigen-direction of a
    diagonal quadratic (the noisy quadratic model, standard;
    ``docs/theory.md`` section 4).  Symbols: :math:`\eta_t` the step sizes
    ``lrs`` in the order taken (any schedule: UBA, cosine, WSD, ... from
    :mod:`uba.peers`), :math:`\lambda_k` the curvatures ``eigenvalues``,
    :math:`w_k` the ``weights`` (how many directions each stands for, e.g.
    quadrature weights times the dimension), :math:`s_k` the ``start``
    (the squared distance from the minimum along it), :math:`v_k` the
    ``noise`` (the per-step gradient-noise variance along it).  So
    ``expected_loss`` scores any schedule by the loss it leaves.

    Evaluated exactly in float64 by the recursion above (every term
    nonnegative, each :math:`1 - \eta\lambda` one fused multiply-add: a few
    ulp per step), all directions side by side (vectorised), each carrying
    a binary exponent so that nothing overflows or underflows on the way:
    the result is ``inf`` only when the loss itself exceeds the largest
    double (a divergent schedule), ``0.0`` only below the smallest, never
    NaN.  Cost: about 0.1-0.3 ns per step and direction.

    Args:
        lrs: the step sizes, a non-empty 1-D array-like of finite reals with
            ``|lrs[t]| * max(eigenvalues) <= 1e100``.
        eigenvalues: the curvatures, a non-empty 1-D array-like of finite
            reals ``>= 0``.
        weights: ``None`` (1 each), a real, or one per eigenvalue; finite,
            ``>= 0``.
        start: :math:`\mathbb{E}\,x_0^2`, a real or one per eigenvalue;
            finite, ``>= 0``.  Default 1.
        noise: the gradient-noise variance, a real or one per eigenvalue;
            finite, ``>= 0``.  Default 0.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        The expected final loss :math:`L`, a float ``>= 0``.  A step with
        ``|lrs[t]| * max(eigenvalues) > 2`` (above the stability limit)
        warns with :class:`StabilityWarning`.

    Raises:
        ValueError: a bad value or length; the message names the argument
            (with the index of a bad entry), its value and the allowed range.
        TypeError: an argument is not real.

    Example:
        >>> import numpy as np
        >>> import uba
        >>> from uba import theory
        >>> lam = np.arange(1, 101) ** -1.5  # a power-law spectrum
        >>> lrs = uba.schedule(range(1000), 1000, phi=1.0, eta_max=1.0)
        >>> round(theory.expected_loss(lrs, lam, noise=1e-3), 6)
        0.017883
        >>> theory.expected_loss([0.5], [1.0])  # (1 - 0.5)**2 / 2
        0.125
    """
    loss, stability = _core.expected_loss(lrs, eigenvalues, weights, start, noise, progress)
    if stability > 2.0:
        warnings.warn(
            StabilityWarning(
                f"a step of lrs is above the stability limit 2/lam_max: max |lrs| * lam_max = "
                f"{stability:.4g} > 2, and the directions of largest curvature grow while "
                "the steps stay above it"
            ),
            stacklevel=2,
        )
    return loss


@dataclass(frozen=True)
class PhiChoice:
    """What :func:`choose_phi` found: the shape, the peak, and how much they matter.

    Attributes:
        phi: the chosen shape.
        eta_max: the peak it goes with (as given, or chosen).
        loss: the expected final loss at ``(phi, eta_max)``, equal to
            :func:`expected_loss` of ``uba.schedule(range(T), T, phi,
            eta_max, eta_min)``.
        loss_default: the same at ``phi = 1`` (the default), same peak.
        loss_cosine: the same at ``phi = 2`` (cosine), same peak.
        initial_loss: the loss before training, :math:`\\frac12\\sum_k w_k
            \\lambda_k s_k`.
        at_boundary: whether ``phi`` or the chosen peak is at an end of its
            search range while the loss still falls beyond it (the true
            optimum is outside the range; :func:`choose_phi` warned).
        flat: ``(phi_lo, phi_hi)``, the phis around ``phi`` whose loss is
            within 1% of the best (from the scan, interpolated): a wide range
            means phi hardly matters at this peak.
        phi_range: the phi range searched.
        eta_max_range: the peak range searched, or ``None`` when the peak
            was given.
        ends: ``(phi_end, peak_end)``, each -1 (at the lower end of its
            range), +1 (upper end) or 0 (inside).
        evaluations: the expected losses the search evaluated.
    """

    phi: float
    eta_max: float
    loss: float
    loss_default: float
    loss_cosine: float
    initial_loss: float
    at_boundary: bool
    flat: tuple[float, float]
    phi_range: tuple[float, float]
    eta_max_range: tuple[float, float] | None
    ends: tuple[int, int]
    evaluations: int

    @property
    def gain(self) -> float:
        """The share of the default's loss that ``phi`` saves,
        ``1 - loss / loss_default`` (0 when both are 0 or infinite)."""
        ratio = self.loss / self.loss_default if self.loss_default > 0.0 else 1.0
        return 1.0 - ratio if math.isfinite(ratio) else 0.0

    def __repr__(self) -> str:
        def change(x: float) -> str:
            if self.loss > 0.0 and math.isfinite(self.loss) and math.isfinite(x):
                return f"{(self.loss / x - 1.0) * 100.0:+.1f}%" if x > 0.0 else "n/a"
            return "n/a"

        peak = (
            "given"
            if self.eta_max_range is None
            else f"chosen in {self.eta_max_range[0]:.3g}..{self.eta_max_range[1]:.3g}"
        )
        lines = [
            f"PhiChoice: phi = {self.phi:.3g} at eta_max = {self.eta_max:.4g} ({peak}); "
            f"loss {self.loss:.4g}, initial {self.initial_loss:.4g}",
            f"  vs {self.loss_default:.4g} at phi = 1 ({change(self.loss_default)}) and "
            f"{self.loss_cosine:.4g} at phi = 2, cosine ({change(self.loss_cosine)})",
            f"  flat: within 1% of the best for phi in {self.flat[0]:.3g}..{self.flat[1]:.3g}",
        ]
        names = ("phi", "eta_max")
        ranges = (self.phi_range, self.eta_max_range)
        for name, end, span in zip(names, self.ends, ranges):
            if end != 0 and span is not None:
                side, way = ("lower", "below") if end < 0 else ("upper", "above")
                lines.append(
                    f"  {name} is at the {side} end of its range {span[0]:.3g}..{span[1]:.3g}: "
                    f"the loss still falls {way} it"
                )
        return "\n".join(lines)


def choose_phi(
    T: int,
    eigenvalues: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    start: npt.ArrayLike = 1.0,
    noise: npt.ArrayLike = 0.0,
    eta_max: float | tuple[float, float] | None = None,
    eta_min: float = 0.0,
    phi_range: tuple[float, float] = CHOOSE_PHI_RANGE,
    progress: Progress | None = None,
) -> PhiChoice:
    r"""The UBA shape (and, if asked, peak) that minimise the expected final loss.

    .. math::

        \varphi^* = \arg\min_{\varphi}\ L\big(\eta(\varphi)\big),
        \qquad
        L = \frac12 \sum_k w_k \lambda_k\, \mathbb{E}\,x_T(\lambda_k)^2,
        \qquad
        \eta_t = \mathrm{UBA}(t;\ T, \varphi, \eta_{\max}, \eta_{\min}),\
        t = 0..T-1

    with :math:`\mathbb{E}\,x_T^2` the exact recursion of
    :func:`expected_loss` (SGD on a diagonal quadratic with gradient noise;
    ``docs/theory.md`` sections 4 and 5).  Symbols: :math:`T`
    the budget; :math:`\lambda_k` the curvatures ``eigenvalues``;
    :math:`w_k` the ``weights`` (how many directions each stands for, e.g.
    SLQ quadrature weights times the dimension); :math:`s_k = \mathbb{E}\,
    x_0^2` the ``start``; :math:`v_k` the per-step gradient-noise variance
    ``noise``; :math:`\eta_t` exactly the lrs :class:`uba.UBALR` sets at its
    ``T`` steps, ``uba.schedule(t, T, phi, eta_max, eta_min)``.  Unlike
    :func:`optimal_phi` (the worst case over a curvature interval), this is
    the loss the user ends up with under the model.

    **phi only means something for a given peak.**  With ``eta_max`` given,
    only phi is chosen.  With ``eta_max=None`` the peak is chosen too, in
    ``(0, 2/lam_max]`` (the stability limit); ``eta_max=(lo, hi)`` searches
    ``[lo, hi]`` instead (``lo = 0`` stands for ``2**-20 * hi``,
    ``hi = math.inf`` for ``2/lam_max``).  The guideline in
    ``docs/theory.md`` says when choosing phi pays, from measurements on
    noisy power-law models: at a fixed peak phi = 1 is a median 25% above
    the best phi, with the peak tuned for each phi a median 6% (within 5%
    in half of the models).

    Search (robust to a loss with several basins): the loss on a grid of 4
    points per octave of ``phi_range``, then Brent's method on
    :math:`\log\varphi` around the best; with a peak to choose, first a
    coarse grid in :math:`(\log\eta_{\max}, \log\varphi)` and coordinate
    descent from its best point (along each coordinate, then along the
    round's net move, as the loss's valley runs diagonally).  Each
    evaluation is :math:`O(T \cdot n)`, about 90 of them at a fixed peak
    and 250-400 with the peak: at ``T = 1e5`` over 256 curvatures the
    fixed-peak search costs 1.5-7 NumPy evaluations of the loss, the peak
    too 6-22, depending on the CPU and on how the NumPy loop is written
    (``benchmarks/RESULTS.md``).

    Diagnostics: an answer at an end of ``phi_range`` (or of the peak's
    range) with the loss still falling beyond it sets ``at_boundary`` and
    warns with :class:`BoundaryWarning`, naming the end; a peak above the
    stability limit (``eta_max * lam_max > 2``) warns with
    :class:`StabilityWarning`.

    Args:
        T: the budget, an integer in ``[1, 2**53]``.
        eigenvalues: the curvatures, a non-empty 1-D array-like of finite
            reals ``>= 0``.
        weights: ``None`` (1 each), a real, or one per eigenvalue; finite,
            ``>= 0``.
        start: :math:`\mathbb{E}\,x_0^2`, a real or one per eigenvalue;
            finite, ``>= 0``.  Default 1.
        noise: the gradient-noise variance per step, a real or one per
            eigenvalue; finite, ``>= 0``.  Default 0.
        eta_max: the peak: a finite real ``> 0`` (fixed), ``(lo, hi)`` (a
            range to choose it in, ``0 <= lo < hi <= inf``), or ``None``
            (chosen in ``(0, 2/lam_max]``).
        eta_min: the floor of the schedule, finite.  Default 0.
        phi_range: ``(phi_lo, phi_hi)``, ``0 < phi_lo < phi_hi``, both
            finite.  Default ``(2**-10, 2**10)``.
        progress: ``None``, or a callable given the fraction done (see
            *Progress and Ctrl-C* in :mod:`uba.theory`).

    Returns:
        A :class:`PhiChoice`.

    Raises:
        ValueError: a bad value or length (``T``, an entry of
            ``eigenvalues``, ``weights``, ``start`` or ``noise``, mismatched
            lengths, an empty spectrum, ``eta_max``, ``eta_min``,
            ``phi_range``); the message names the argument, its value and
            the allowed range.
        TypeError: an argument is not real, or ``phi_range`` is not a pair.

    Example:
        >>> import numpy as np
        >>> from uba import theory
        >>> lam = np.arange(1, 1001) ** -1.5  # a power-law spectrum, lam_max = 1
        >>> c = theory.choose_phi(1000, lam, noise=1e-2 * lam, eta_max=1.0)
        >>> c  # Hessian-shaped noise, peak 1/lam_max: stay high, decay late
        PhiChoice: phi = 0.00221 at eta_max = 1 (given); loss 0.04282, initial 1.275
          vs 0.05407 at phi = 1 (-20.8%) and 0.05851 at phi = 2, cosine (-26.8%)
          flat: within 1% of the best for phi in 0.000977..0.0124
        >>> c.at_boundary, round(c.gain, 3)
        (False, 0.208)
    """
    (
        phi,
        eta,
        loss,
        loss_default,
        loss_cosine,
        initial,
        flat_lo,
        flat_hi,
        phi_end,
        peak_end,
        eta_lo,
        eta_hi,
        lam_max,
        evaluations,
    ) = _core.choose_phi(
        T,
        eigenvalues,
        weights,
        start,
        noise,
        _choose_phi_peak(eta_max),
        eta_min,
        phi_range,
        progress,
    )
    phi_lo, phi_hi = _floats(phi_range)
    ranged = eta_lo != eta_hi
    if not ranged:
        peak_end = 0
    result = PhiChoice(
        phi=phi,
        eta_max=eta,
        loss=loss,
        loss_default=loss_default,
        loss_cosine=loss_cosine,
        initial_loss=initial,
        at_boundary=phi_end != 0 or peak_end != 0,
        flat=(flat_lo, flat_hi),
        phi_range=(phi_lo, phi_hi),
        eta_max_range=(eta_lo, eta_hi) if ranged else None,
        ends=(phi_end, peak_end),
        evaluations=int(evaluations),
    )
    _warn_end("choose_phi", phi_end, phi, phi_lo, phi_hi)
    if peak_end != 0:
        stable = eta_max is None or (isinstance(eta_max, (tuple, list)) and eta_max[1] == math.inf)
        top = " (the stability limit 2/lam_max)" if stable and peak_end > 0 else ""
        warnings.warn(
            BoundaryWarning(
                f"choose_phi: the chosen eta_max = {eta:.6g} is the "
                f"{'lower' if peak_end < 0 else 'upper'} end of its range ({eta_lo:.6g}, "
                f"{eta_hi:.6g}){top} and the loss still falls "
                f"{'below' if peak_end < 0 else 'above'} it; pass eta_max=(lo, hi) to "
                "search further"
            ),
            stacklevel=2,
        )
    _stability_check("eta_max", eta, lam_max)
    return result
