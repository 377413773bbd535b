r"""The schedules UBA is compared against, at equal budget, in NumPy.

Every function here has the form ``peer(t, T, eta_max=1.0, ...)``: the
learning rate at step ``t`` of a budget of ``T`` steps, vectorized over
``t`` exactly like :func:`uba.schedule` (a real number gives a float, an
array-like gives a float64 ndarray of its shape).  Where a PyTorch or
transformers class computes the same schedule, the docstring names it and
the test suite checks the values against it; the defaults here equal that
class's defaults.  Nothing here imports torch.

Most peers decay from ``eta_max`` to ``eta_min``:

.. math::

    \eta(t) = \eta_{\min} + (\eta_{\max} - \eta_{\min})\, f(t)

with a shape :math:`f` that is 1 at the start, written out in each
docstring (:math:`z = t / T` is the fraction of the budget spent).  Peers
that end at a fixed step hold their final value past ``T``; ``cosine`` is
periodic past ``T`` (as ``CosineAnnealingLR`` and :func:`uba.schedule`
are); ``step``, ``exponential``, ``inverse_sqrt`` and ``constant`` simply
continue their formula.

Bad input raises ``ValueError`` (a value out of range) or ``TypeError`` (not
a real number), naming the argument, its value and the allowed range, as
:func:`uba.schedule` does.

Example:
    >>> from uba import peers
    >>> peers.cosine([0, 500, 1000], 1000).round(6)
    array([1. , 0.5, 0. ])
    >>> peers.rex(500, 1000)  # (1 - z) / (1 - z/2) at z = 1/2
    0.6666666666666666
    >>> sorted(peers.PEERS)[:4]
    ['constant', 'cosine', 'exponential', 'inverse_sqrt']
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Concatenate, ParamSpec, Protocol, cast, overload

import numpy as np
import numpy.typing as npt

from uba._checks import MAX_BUDGET, budget, choice, integer, real, real_number

__all__ = [
    "PEERS",
    "constant",
    "cosine",
    "evaluate",
    "exponential",
    "get",
    "inverse_sqrt",
    "linear",
    "onecycle",
    "polynomial",
    "rex",
    "step",
    "takes_eta_min",
    "wsd",
]

_Array = npt.NDArray[np.float64]
_P = ParamSpec("_P")

# ---- argument checking (shared by every peer) -------------------------------


def _steps(t: Any) -> tuple[_Array, bool]:
    """The steps as a float64 array, and whether ``t`` was a scalar."""
    scalar = not isinstance(t, np.ndarray) and np.ndim(t) == 0
    arr = np.asarray(t)
    if arr.dtype == object:  # ints beyond 64 bits, Fractions: read as real numbers
        arr = np.vectorize(lambda v: real_number("t", v), otypes=[np.float64])(arr)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            "t must be a real number or an array of real numbers, "
            f"got an array of dtype {arr.dtype}"
        )
    x = arr.astype(np.float64)
    bad = ~(np.isfinite(x) & (x >= 0))
    if bad.any():
        if x.ndim == 0:
            value = t if scalar else arr.item()
            raise ValueError(f"t must be a finite number >= 0, got {value!r}")
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(str(i) for i in index)
        raise ValueError(f"t must be a finite number >= 0, got t[{where}] = {float(x[index])!r}")
    return x, scalar


def _levels(eta_max: Any, eta_min: Any = 0.0) -> tuple[float, float]:
    return real("eta_max", eta_max), real("eta_min", eta_min)


def _between(shape: _Array, eta_max: float, eta_min: float) -> _Array:
    span = eta_max - eta_min
    if not np.isfinite(span):  # finite levels whose difference overflows: weigh them
        return eta_max * shape + eta_min * (1.0 - shape)
    return eta_min + span * shape


class _Peer(Protocol[_P]):
    """A peer as its callers see it: a float for a real ``t``, a float64
    array of its shape for an array-like."""

    @overload
    def __call__(self, t: float, /, *args: _P.args, **kwargs: _P.kwargs) -> float: ...
    @overload
    def __call__(self, t: npt.ArrayLike, /, *args: _P.args, **kwargs: _P.kwargs) -> _Array: ...


def _vectorized(body: Callable[Concatenate[_Array, _P], _Array]) -> _Peer[_P]:
    """The peer whose values ``body`` computes: ``body(t, T, ...)`` gets the
    steps checked and as a float64 array (:func:`_steps`) and returns the
    values; the peer takes any real number or array-like ``t`` and gives a
    float for a number.  Signature and docstring are the body's, with ``t``
    as callers pass it."""

    @functools.wraps(body)
    def peer(t: Any, *args: _P.args, **kwargs: _P.kwargs) -> float | _Array:
        x, scalar = _steps(t)
        values = body(x, *args, **kwargs)
        return float(values) if scalar else values

    signature = inspect.signature(body)
    first, *rest = signature.parameters.values()
    peer.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[first.replace(annotation="float | npt.ArrayLike"), *rest],
        return_annotation="float | npt.NDArray[np.float64]",
    )
    return cast(_Peer[_P], peer)


# ---- the peers --------------------------------------------------------------


@_vectorized
def cosine(t: _Array, T: int, eta_max: float = 1.0, eta_min: float = 0.0) -> _Array:
    r"""Cosine annealing, as ``torch.optim.lr_scheduler.CosineAnnealingLR``.

    .. math::

        f(t) = \tfrac12\left(1 + \cos\frac{\pi t}{T}\right)
             = \cos^2\frac{\pi t}{2T}

    Periodic with period :math:`2T` past the budget, as torch's class is.
    It is :func:`uba.schedule` with ``phi = 2``.  Evaluated as a squared
    cosine of the half angle, reflected past :math:`T/2` (no cancellation in
    :math:`1 + \cos` near :math:`t = T`).

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget ``T_max``, an integer in ``[1, 2**53]``.
        eta_max: the value at ``t = 0`` (the base lr).  Default 1.
        eta_min: the value at ``t = T``.  Default 0.

    Example:
        >>> from uba.peers import cosine
        >>> cosine([0, 250, 1000], 1000, 0.1, 0.001).round(6)
        array([0.1     , 0.085502, 0.001   ])
    """
    T = budget(T)
    hi, lo = _levels(eta_max, eta_min)
    r = np.mod(t, 2.0 * T)
    r = np.where(r > T, 2.0 * T - r, r)  # fold onto [0, T]
    half = np.pi / (2.0 * T)
    shape = np.where(r <= T / 2, np.cos(half * r) ** 2, np.sin(half * (T - r)) ** 2)
    return _between(shape, hi, lo)


@_vectorized
def linear(t: _Array, T: int, eta_max: float = 1.0, eta_min: float = 0.0) -> _Array:
    r"""Linear decay to ``eta_min`` (linear-to-zero by default).

    .. math::

        f(t) = 1 - \min(z, 1), \qquad z = t / T

    torch: ``LinearLR(opt, start_factor=1.0, end_factor=eta_min/eta_max,
    total_iters=T)`` with ``lr=eta_max``; it holds ``eta_min`` past ``T``.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]``.
        eta_max: the value at ``t = 0``.  Default 1.
        eta_min: the value from ``t = T`` on.  Default 0.

    Example:
        >>> from uba.peers import linear
        >>> linear([0, 250, 1000, 2000], 1000).tolist()
        [1.0, 0.75, 0.0, 0.0]
    """
    T = budget(T)
    hi, lo = _levels(eta_max, eta_min)
    return _between(1.0 - np.minimum(t / T, 1.0), hi, lo)


@_vectorized
def polynomial(
    t: _Array,
    T: int,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    *,
    power: float = 1.0,
) -> _Array:
    r"""Polynomial decay, as ``torch.optim.lr_scheduler.PolynomialLR``.

    .. math::

        f(t) = \left(1 - \min(z, 1)\right)^{p}, \qquad z = t / T

    With ``eta_min = 0`` this is ``PolynomialLR(opt, total_iters=T,
    power=p)``; with a floor it is transformers'
    ``get_polynomial_decay_schedule_with_warmup`` (no warmup, ``lr_end =
    eta_min``).  ``power = 1`` is :func:`linear`.  Holds ``eta_min`` past
    ``T``.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]``.
        eta_max: the value at ``t = 0``.  Default 1.
        eta_min: the value from ``t = T`` on.  Default 0.
        power: the exponent :math:`p`, finite and ``> 0``.  Default 1.

    Example:
        >>> from uba.peers import polynomial
        >>> polynomial([0, 500, 1000], 1000, power=2.0).tolist()
        [1.0, 0.25, 0.0]
    """
    T = budget(T)
    hi, lo = _levels(eta_max, eta_min)
    p = real("power", power, "a finite number > 0", lambda v: v > 0)
    return _between((1.0 - np.minimum(t / T, 1.0)) ** p, hi, lo)


@_vectorized
def step(
    t: _Array,
    T: int,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    *,
    step_size: int | None = None,
    gamma: float = 0.1,
) -> _Array:
    r"""Step decay, as ``torch.optim.lr_scheduler.StepLR``.

    .. math::

        f(t) = \gamma^{\lfloor t / s \rfloor}

    with step size :math:`s` (default :math:`\lceil T/3 \rceil`: three
    stages within the budget, ``eta_max``, then ``gamma`` and ``gamma**2``
    times it).  With ``eta_min = 0`` this is ``StepLR(opt, step_size=s,
    gamma=gamma)``.  Continues past ``T``.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]``.
        eta_max: the value at ``t = 0``.  Default 1.
        eta_min: the floor approached as the steps go on.  Default 0.
        step_size: :math:`s`, an integer in ``[1, 2**53]``, or None for
            :math:`\lceil T/3 \rceil`.
        gamma: the factor per stage, finite, in ``(0, 1]``.  Default 0.1.

    Example:
        >>> from uba.peers import step
        >>> step([0, 333, 334, 668, 1000], 1000).round(6).tolist()
        [1.0, 1.0, 0.1, 0.01, 0.01]
    """
    T = budget(T)
    hi, lo = _levels(eta_max, eta_min)
    s = (
        -(-T // 3)
        if step_size is None
        else integer("step_size", step_size, 1, MAX_BUDGET, "[1, 2**53]")
    )
    g = real("gamma", gamma, "a finite number in (0, 1]", lambda v: 0 < v <= 1)
    return _between(g ** np.floor(t / s), hi, lo)


@_vectorized
def exponential(
    t: _Array,
    T: int,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    *,
    gamma: float | None = None,
) -> _Array:
    r"""Exponential decay, as ``torch.optim.lr_scheduler.ExponentialLR``.

    .. math::

        f(t) = \gamma^{t}

    with :math:`\gamma` by default :math:`0.01^{1/T}`, so that the budget
    ends at 1% of the peak (above the floor).  With ``eta_min = 0`` this is
    ``ExponentialLR(opt, gamma)``.  Continues past ``T``.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]``.
        eta_max: the value at ``t = 0``.  Default 1.
        eta_min: the floor approached as the steps go on.  Default 0.
        gamma: the factor per step, finite, in ``(0, 1]``, or None for
            :math:`0.01^{1/T}`.

    Example:
        >>> from uba.peers import exponential
        >>> round(exponential(1000, 1000), 12)
        0.01
    """
    T = budget(T)
    hi, lo = _levels(eta_max, eta_min)
    g = (
        0.01 ** (1.0 / T)
        if gamma is None
        else real("gamma", gamma, "a finite number in (0, 1]", lambda v: 0 < v <= 1)
    )
    return _between(g**t, hi, lo)


_WARMUP_TYPES = ("linear", "cosine", "1-sqrt")
_DECAY_TYPES = ("linear", "cosine", "1-sqrt")


@_vectorized
def wsd(
    t: _Array,
    T: int,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    *,
    warmup_steps: int = 0,
    decay_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
) -> _Array:
    r"""Warmup-stable-decay, as transformers' ``get_wsd_schedule``.

    With :math:`W` warmup steps, :math:`D` decay steps and
    :math:`S = T - W - D` stable steps:

    .. math::

        f(t) = \begin{cases}
            w\!\left(t / \max(1, W)\right) & t < W \\
            1 & W \le t < W + S \\
            d\!\left((t - W - S) / \max(1, D)\right) & W + S \le t < T \\
            0 & t \ge T
        \end{cases}

    with the warmup shape :math:`w(p)` = :math:`p` (``"linear"``),
    :math:`\frac12(1 - \cos \pi p)` (``"cosine"``) or
    :math:`1 - \sqrt{1 - p}` (``"1-sqrt"``), and the decay shape
    :math:`d(p)` = :math:`1 - p` (``"linear"``),
    :math:`\frac12(1 + \cos \pi p)` (``"cosine"``) or :math:`1 - \sqrt{p}`
    (``"1-sqrt"``).  This is ``get_wsd_schedule(opt, num_warmup_steps=W,
    num_decay_steps=D, num_training_steps=T, warmup_type=...,
    decay_type=..., min_lr_ratio=eta_min/eta_max)`` (its default
    ``num_cycles=0.5``) with ``lr=eta_max``: the warmup, too, starts at
    ``eta_min``.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]``.
        eta_max: the stable value.  Default 1.
        eta_min: the value at ``t = 0`` (with warmup) and from ``t = T``
            on.  Default 0.
        warmup_steps: :math:`W`, an integer ``>= 0``.  Default 0.
        decay_steps: :math:`D`, an integer ``>= 1`` with
            :math:`W + D \le T`, or None for :math:`\max(1, \lfloor T/5
            \rfloor)` (the last 20% of the budget).
        warmup_type: ``"linear"`` (default), ``"cosine"`` or ``"1-sqrt"``.
        decay_type: ``"cosine"`` (default), ``"linear"`` or ``"1-sqrt"``.

    Example:
        >>> from uba.peers import wsd
        >>> wsd([0, 799, 800, 900, 1000], 1000).round(6).tolist()
        [1.0, 1.0, 1.0, 0.5, 0.0]
    """
    T = budget(T)
    hi, lo = _levels(eta_max, eta_min)
    W = integer("warmup_steps", warmup_steps, 0, T - 1, "[0, T)")
    D = (
        max(1, T // 5)
        if decay_steps is None
        else integer("decay_steps", decay_steps, 1, T, "[1, T]")
    )
    if W + D > T:
        raise ValueError(f"warmup_steps + decay_steps must be <= T = {T}, got {W} + {D} = {W + D}")
    wtype = choice("warmup_type", warmup_type, _WARMUP_TYPES)
    dtype = choice("decay_type", decay_type, _DECAY_TYPES)
    S = T - W - D

    p = np.clip(t / max(1, W), 0.0, 1.0)
    if wtype == "linear":
        up = p
    elif wtype == "cosine":
        up = 0.5 * (1.0 - np.cos(np.pi * p))
    else:
        up = 1.0 - np.sqrt(1.0 - p)
    q = np.clip((t - W - S) / max(1, D), 0.0, 1.0)
    if dtype == "linear":
        down = 1.0 - q
    elif dtype == "cosine":
        down = 0.5 * (1.0 + np.cos(np.pi * q))
    else:
        down = 1.0 - np.sqrt(q)
    shape = np.select([t < W, t < W + S, t < T], [up, 1.0, down], 0.0)
    return _between(shape, hi, lo)


@_vectorized
def rex(t: _Array, T: int, eta_max: float = 1.0, eta_min: float = 0.0) -> _Array:
    r"""REX, the reflected exponential schedule.

    From Chen, Wolfe and Kyrillidis, "REX: Revisiting Budgeted Training with
    an Improved Schedule" (MLSys 2022):

    .. math::

        f(t) = \frac{1 - z}{\tfrac12 + \tfrac12 (1 - z)}
             = \frac{1 - z}{1 - z/2}, \qquad z = \min(t / T, 1)

    It stays above linear decay for the whole budget (:math:`f(T/2) = 2/3`)
    and drops to 0 at ``T`` with slope :math:`-2/T`.  No torch or
    transformers class computes it; it holds ``eta_min`` past ``T``.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]``.
        eta_max: the value at ``t = 0``.  Default 1.
        eta_min: the value from ``t = T`` on.  Default 0.

    Example:
        >>> from uba.peers import rex
        >>> rex([0, 500, 1000], 1000).round(6).tolist()
        [1.0, 0.666667, 0.0]
    """
    T = budget(T)
    hi, lo = _levels(eta_max, eta_min)
    z = np.minimum(t / T, 1.0)
    return _between((1.0 - z) / (1.0 - 0.5 * z), hi, lo)


_ANNEAL = ("cos", "linear")


@_vectorized
def onecycle(
    t: _Array,
    T: int,
    eta_max: float = 1.0,
    *,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
) -> _Array:
    r"""The 1cycle policy, as ``torch.optim.lr_scheduler.OneCycleLR``.

    With :math:`\eta_0 = \eta_{\max} / \text{div\_factor}` and
    :math:`\eta_{\text{end}} = \eta_0 / \text{final\_div\_factor}`, the lr
    moves through phases that end at the steps :math:`e_1 = pT - 1` and
    :math:`e_2 = T - 1` (:math:`p` = ``pct_start``): from :math:`\eta_0` up
    to :math:`\eta_{\max}`, then down to :math:`\eta_{\text{end}}`.  With
    ``three_phase`` they end at :math:`pT - 1`, :math:`2pT - 2` and
    :math:`T - 1`: up to :math:`\eta_{\max}`, back to :math:`\eta_0`, then
    down to :math:`\eta_{\text{end}}`.  In a phase from step :math:`s` to
    :math:`e`, from :math:`a` to :math:`b`, with :math:`q = (t - s)/(e - s)`:

    .. math::

        \eta(t) = b + \tfrac12 (a - b)(1 + \cos \pi q) \quad (\text{"cos"}),
        \qquad \eta(t) = a + (b - a)\, q \quad (\text{"linear"})

    This is ``OneCycleLR(opt, max_lr=eta_max, total_steps=T, ...)`` with
    momentum cycling aside; like it, the floor is reached at step
    :math:`T - 1`, the last of the budget's ``T`` steps.  Past that the lr
    holds :math:`\eta_{\text{end}}` (torch's class raises past ``T``).
    There is no ``eta_min``: the floor is set by the two factors.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget ``total_steps``, an integer in ``[1, 2**53]``.
        eta_max: the peak ``max_lr``.  Default 1.
        pct_start: :math:`p`, the fraction of the budget spent rising,
            finite, in ``[0, 1]`` (``[0, 0.5]`` with ``three_phase``).
            Default 0.3.
        div_factor: ``max_lr / initial_lr``, finite and ``> 0``.  Default 25.
        final_div_factor: ``initial_lr / min_lr``, finite and ``> 0``.
            Default 1e4.
        anneal_strategy: ``"cos"`` (default) or ``"linear"``.
        three_phase: the three-phase variant.  Default False.

    Example:
        >>> from uba.peers import onecycle
        >>> onecycle([0, 299, 999], 1000).round(8).tolist()
        [0.04, 1.0, 4e-06]
    """
    T = budget(T)
    peak = real("eta_max", eta_max)
    three = bool(three_phase)
    top = 0.5 if three else 1.0
    p = real("pct_start", pct_start, f"a finite number in [0, {top:g}]", lambda v: 0 <= v <= top)
    div = real("div_factor", div_factor, "a finite number > 0", lambda v: v > 0)
    final = real("final_div_factor", final_div_factor, "a finite number > 0", lambda v: v > 0)
    anneal = choice("anneal_strategy", anneal_strategy, _ANNEAL)
    start = peak / div
    end = start / final
    if three:
        phases = [(p * T - 1, start, peak), (2 * p * T - 2, peak, start), (T - 1.0, start, end)]
    else:
        phases = [(p * T - 1, start, peak), (T - 1.0, peak, end)]

    out = np.empty_like(t)
    done = np.zeros(t.shape, dtype=bool)
    s = 0.0
    for i, (e, a, b) in enumerate(phases):
        last = i == len(phases) - 1
        here = ~done & ((t <= e) | last)
        # A phase of no length is at its end value (torch divides by zero).
        q = np.clip((t - s) / (e - s), 0.0, 1.0) if e > s else np.ones_like(t)
        if anneal == "cos":
            vals = b + 0.5 * (a - b) * (np.cos(np.pi * q) + 1.0)
        else:
            vals = a + (b - a) * q
        out = np.where(here, vals, out)
        done |= here
        s = e
    return out


@_vectorized
def inverse_sqrt(
    t: _Array,
    T: int,
    eta_max: float = 1.0,
    *,
    warmup_steps: int = 0,
    timescale: int | None = None,
) -> _Array:
    r"""Inverse square root, as transformers' ``get_inverse_sqrt_schedule``.

    With :math:`W` warmup steps and timescale :math:`\tau`:

    .. math::

        f(t) = \begin{cases}
            t / \max(1, W) & t < W \\
            \left((t + \tau - W) / \tau\right)^{-1/2} & t \ge W
        \end{cases}

    and :math:`\eta = \eta_{\max} f`.  :math:`\tau` defaults to :math:`W`,
    or 10 000 when :math:`W = 0`, as transformers does.  The schedule does
    not depend on the budget (it never reaches zero): ``T`` only bounds
    the warmup.  There is no ``eta_min``.

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]``.
        eta_max: the value at the end of the warmup.  Default 1.
        warmup_steps: :math:`W`, an integer in ``[0, T)``.  Default 0.
        timescale: :math:`\tau`, an integer ``>= 1``, or None for the
            default above.

    Example:
        >>> from uba.peers import inverse_sqrt
        >>> inverse_sqrt([0, 50, 100, 400], 1000, warmup_steps=100).tolist()
        [0.0, 0.5, 1.0, 0.5]
    """
    T = budget(T)
    peak = real("eta_max", eta_max)
    W = integer("warmup_steps", warmup_steps, 0, T - 1, "[0, T)")
    tau = (
        (W or 10_000)
        if timescale is None
        else integer("timescale", timescale, 1, MAX_BUDGET, "[1, 2**53]")
    )
    # For t >= W, t + tau - W >= tau > 0: the root is always defined.
    decay = 1.0 / np.sqrt(np.maximum(t + (tau - W), tau) / tau)
    shape = np.where(t < W, t / max(1, W), decay)
    return peak * shape


@_vectorized
def constant(t: _Array, T: int, eta_max: float = 1.0) -> _Array:
    r"""A constant learning rate: :math:`\eta(t) = \eta_{\max}`.

    The no-schedule baseline (torch: no scheduler, or
    ``LambdaLR(opt, lambda t: 1.0)``).

    Args:
        t: the step(s), finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]`` (checked, not used).
        eta_max: the value.  Default 1.

    Example:
        >>> from uba.peers import constant
        >>> constant([0, 10], 10, 0.5).tolist()
        [0.5, 0.5]
    """
    budget(T)
    return np.full_like(t, real("eta_max", eta_max))


PEERS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "cosine": cosine,
        "linear": linear,
        "step": step,
        "exponential": exponential,
        "polynomial": polynomial,
        "wsd": wsd,
        "rex": rex,
        "onecycle": onecycle,
        "inverse_sqrt": inverse_sqrt,
        "constant": constant,
    }
)
"""Every peer by name (read-only)."""


def get(name: str) -> Callable[..., Any]:
    """The peer called ``name`` (a key of :data:`PEERS`).

    Raises:
        ValueError: no peer has that name; the message lists the names.

    Example:
        >>> from uba import peers
        >>> peers.get("rex") is peers.rex
        True
    """
    try:
        return PEERS[name]
    except (KeyError, TypeError):
        names = ", ".join(PEERS)
        raise ValueError(f"unknown peer {name!r}: choose from {names}") from None


def takes_eta_min(name: str) -> bool:
    """Whether the peer ``name`` has an ``eta_min`` (a floor) argument."""
    return "eta_min" in inspect.signature(get(name)).parameters


def evaluate(
    name: str,
    t: npt.ArrayLike,
    T: int,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    **options: Any,
) -> _Array:
    """The peer ``name`` at the steps ``t``, as a float64 array.

    A single entry point for tables and plots: ``eta_min`` goes to the
    peers that have a floor; for the others (``onecycle``,
    ``inverse_sqrt``, ``constant``) it must be 0.  ``options`` are the
    peer's keyword arguments.

    Example:
        >>> from uba import peers
        >>> peers.evaluate("wsd", [0, 1000], 1000, 0.1, 0.01, decay_steps=500).tolist()
        [0.1, 0.01]
    """
    fn = get(name)
    if takes_eta_min(name):
        return np.asarray(fn(np.asarray(t), T, eta_max, eta_min, **options), np.float64)
    if real_number("eta_min", eta_min) != 0:
        raise ValueError(f"peer {name!r} has no eta_min (got {eta_min!r}); leave it at 0")
    return np.asarray(fn(np.asarray(t), T, eta_max, **options), np.float64)
