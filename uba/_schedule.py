"""The UBA schedule as a function of the step: uba.schedule."""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

from uba import _core
from uba._checks import exact_steps

__all__ = ["DEFAULT_PHIS", "schedule"]

#: The shapes a comparison shows when none are given (the plots and the
#: command line): either side of 1, the default, and cosine's 2.
DEFAULT_PHIS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)


@overload
def schedule(
    t: float,
    T: int,
    phi: float = ...,
    eta_max: float = ...,
    eta_min: float = ...,
    *,
    warmup_steps: int = ...,
    warmup_start: float = ...,
) -> float: ...
@overload
def schedule(
    t: npt.ArrayLike,
    T: int,
    phi: float = ...,
    eta_max: float = ...,
    eta_min: float = ...,
    *,
    warmup_steps: int = ...,
    warmup_start: float = ...,
) -> npt.NDArray[np.float64]: ...


def schedule(
    t: float | npt.ArrayLike,
    T: int,
    phi: float = 1.0,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    *,
    warmup_steps: int = 0,
    warmup_start: float = 0.0,
) -> float | npt.NDArray[np.float64]:
    r"""The UBA learning rate at step ``t`` of a budget of ``T`` steps.

    .. math::

        \eta(t) = \eta_{\min} + (\eta_{\max} - \eta_{\min})\, g(t), \qquad
        g(t) = \frac{2u}{2\varphi + (2 - \varphi)\,u}
             = \frac{1}{1 + \frac{\varphi}{2}\tan^2\frac{\pi t}{2T}},
        \qquad u = 1 + \cos\frac{\pi t}{T}

    where :math:`t` is the step, :math:`T` the budget (iterations),
    :math:`\varphi > 0` the shape parameter, and :math:`\eta_{\max}`,
    :math:`\eta_{\min}` the values at :math:`t = 0` and :math:`t = T`.
    :math:`g` falls monotonically from 1 to 0 with zero slope at both ends.
    :math:`\varphi = 2` is exactly cosine annealing; small :math:`\varphi`
    holds the peak longer (warmup-stable-decay-like); large :math:`\varphi`
    drops early.  Past :math:`T` the schedule is periodic with period
    :math:`2T`, as torch's ``CosineAnnealingLR`` is.

    The schedule is the paper's (Tang et al., arXiv:2505.24452).  It is
    evaluated in C in the form :math:`c^2 / (c^2 + \frac{\varphi}{2} s^2)`,
    :math:`c, s = \cos, \sin \frac{\pi t}{2T}`, reflected past
    :math:`T/2`: no :math:`1 + \cos` cancellation, a few ulp of relative
    error everywhere, ``g(0) = 1`` and ``g(T) = 0`` exactly.

    With ``warmup_steps = W > 0``, steps :math:`t < W` rise linearly from
    ``warmup_start`` to :math:`\eta_{\max}`, and the schedule above then
    runs on :math:`t - W` over the horizon :math:`T - W`.

    Args:
        t: the step: a real number (gives a float) or any array-like of
            real numbers of any shape, dtype or memory layout (gives a
            float64 ndarray of that shape).  Must be finite and ``>= 0``.
        T: the budget, an integer in ``[1, 2**53]`` (an integral float is
            accepted).
        phi: the shape, finite and ``> 0``.  Default 1.0.
        eta_max: the peak value.  Default 1.0.
        eta_min: the floor value, reached at ``t = T``.  Default 0.0.
        warmup_steps: ``W``, an integer in ``[0, T)``.  Default 0.
        warmup_start: the value at ``t = 0`` when ``W > 0``.  Default 0.0.

    Returns:
        A float, or a float64 ndarray of the shape of ``t``.

    Raises:
        ValueError: an argument is out of its range; the message names it,
            its value (for arrays, the first offending index) and the range.
        TypeError: ``t`` or a parameter is not a real number.

    Example:
        >>> import uba
        >>> uba.schedule([0, 250, 500, 750, 1000], 1000, phi=4.0).round(4)
        array([1.    , 0.7445, 0.3333, 0.079 , 0.    ])
        >>> uba.schedule(5, 100, eta_max=0.1, warmup_steps=10)
        0.05
    """
    return _core.schedule(exact_steps(t), T, phi, eta_max, eta_min, warmup_steps, warmup_start)
