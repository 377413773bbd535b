"""get_uba_schedule_with_warmup: the UBA twin of transformers' cosine
schedule factories.

This module imports torch (not transformers); ``import uba`` does not import
it, and loads this module only when ``uba.get_uba_schedule_with_warmup`` is
first used.
"""

from __future__ import annotations

import functools
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from uba import _checks, _core

__all__ = ["get_uba_schedule_with_warmup", "uba_warmup_factor"]


def uba_warmup_factor(
    current_step: int,
    *,
    num_warmup_steps: float,
    num_training_steps: int,
    phi: float,
    min_lr_rate: float,
) -> float:
    """The multiplier of the initial lr at ``current_step`` (the ``lr_lambda``
    of :func:`get_uba_schedule_with_warmup`).

    A module-level function, so the ``functools.partial`` holding it pickles.
    """
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    horizon = max(1, num_training_steps - num_warmup_steps)
    if isinstance(horizon, int):
        # whole steps: the core takes them exactly, to the last step of a huge budget
        return _core.schedule(
            current_step - num_warmup_steps, horizon, phi, 1.0, min_lr_rate, 0, 0.0
        )
    # a fractional warmup: the progress as transformers computes it, on a budget of 1
    progress = float(current_step - num_warmup_steps) / float(horizon)
    return _core.schedule(progress, 1, phi, 1.0, min_lr_rate, 0, 0.0)


def _floor_rate(optimizer: Any, min_lr: Any, min_lr_rate: Any) -> float:
    """The floor as a fraction of the peak, from ``min_lr`` (an lr, relative
    to the optimizer's default lr, as transformers takes it) or ``min_lr_rate``."""
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError(
            f"give one of min_lr and min_lr_rate, not both: got min_lr={min_lr!r} "
            f"and min_lr_rate={min_lr_rate!r}"
        )
    if min_lr is None:
        return _checks.real(
            "min_lr_rate",
            0.0 if min_lr_rate is None else min_lr_rate,
            "a number in [0, 1]",
            lambda r: 0.0 <= r <= 1.0,
        )
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    peak = _checks.real_number("the optimizer's default lr", optimizer.defaults.get("lr"))
    if not peak > 0:
        raise ValueError(f"min_lr needs the optimizer's default lr > 0, got {peak!r}")
    floor = _checks.real(
        "min_lr",
        min_lr,
        f"a number in [0, {peak!r}] (the optimizer's default lr)",
        lambda v: 0.0 <= v <= peak,
    )
    return floor / peak


def get_uba_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: float,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    *,
    phi: float = 1.0,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
) -> LambdaLR:
    r"""A linear warmup from 0, then UBA down to a floor: the twin of
    transformers' ``get_cosine_schedule_with_warmup`` and
    ``get_cosine_with_min_lr_schedule_with_warmup``.

    Same positional signature, same warmup, same floor (``min_lr`` or
    ``min_lr_rate``), same return type (a ``LambdaLR`` that HF ``Trainer``
    takes through ``optimizers=(optimizer, scheduler)``); only the decay's
    shape is UBA's, set by the keyword ``phi``.  At step :math:`s` each
    group's lr is its initial lr times

    .. math::

        \lambda(s) = \begin{cases}
            s / \max(1, W) & s < W \\
            r + (1 - r)\, g_\varphi(s - W;\ T') & s \ge W
        \end{cases}
        \qquad
        g_\varphi(t; T') = \frac{1}{1 + \frac{\varphi}{2}\tan^2\frac{\pi t}{2 T'}},
        \quad T' = \max(1, T - W)

    with :math:`W` = ``num_warmup_steps``, :math:`T` =
    ``num_training_steps`` and :math:`r` = ``min_lr_rate`` (or ``min_lr``
    divided by the optimizer's default lr).  transformers writes its decay as
    :math:`r + (1 - r)\,\frac12(1 + \cos(2\pi c\,p))` with progress
    :math:`p = (s - W)/\max(1, T - W)` and ``num_cycles`` :math:`c = 0.5`;
    that is :math:`g_2(s - W; T')`, so with ``phi=2`` the two agree at every
    step, also past :math:`T`, where both rise again (period :math:`2T'`),
    when :math:`W \ge T`, for a fractional :math:`W` and for :math:`T = 0`.

    Args:
        optimizer: the wrapped optimizer; each group's lr is its peak.
        num_warmup_steps: :math:`W`, a number in ``[0, 2**53]`` (whole or,
            as transformers allows, fractional): the lr rises linearly from 0
            over the steps before :math:`W`.
        num_training_steps: :math:`T`, the total number of steps, warmup
            included; an integer in ``[0, 2**53]``.
        num_cycles: transformers' number of cosine waves; UBA decays once,
            which is transformers' default, so only ``0.5`` is accepted (for
            restarts see :class:`uba.UBAWarmRestarts`).
        last_epoch: the index of the last step when resuming, as for
            ``LambdaLR``.  Default -1.
        phi: the shape :math:`\varphi > 0` (see :func:`uba.schedule`), a
            keyword.  ``2`` is transformers' cosine.  Default 1.
        min_lr: the floor reached at step :math:`T` as an lr, in
            ``[0, optimizer.defaults["lr"]]``; as in transformers, each group
            reaches ``min_lr / optimizer.defaults["lr"]`` times its own peak
            (``lr_scheduler_kwargs={"min_lr": ...}`` of HF ``Trainer``).
        min_lr_rate: the floor as a fraction of the peak, in ``[0, 1]``.
            Default: no floor (0).  Give ``min_lr`` or ``min_lr_rate``, not
            both.

    Returns:
        A ``torch.optim.lr_scheduler.LambdaLR``; its ``state_dict`` holds
        plain Python values only (``torch.load(weights_only=True)`` reads
        it back, as HF ``Trainer`` does on resume).

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong
            type; the message names it, its value and the allowed range.

    Example:
        >>> import torch, uba
        >>> opt = torch.optim.AdamW(torch.nn.Linear(2, 1).parameters(), lr=1e-3)
        >>> sched = uba.get_uba_schedule_with_warmup(opt, 10, 110, phi=1.0)
        >>> lrs = []
        >>> for step in range(111):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     opt.step()
        ...     sched.step()
        >>> lrs[5], lrs[10], round(lrs[60], 9), lrs[110]  # warmup, peak, middle, end
        (0.0005, 0.001, 0.000666667, 0.0)
    """
    warmup: float = _checks.real(
        "num_warmup_steps",
        num_warmup_steps,
        "a number in [0, 2**53]",
        lambda w: 0.0 <= w <= _checks.MAX_BUDGET,
    )
    if warmup == int(warmup):
        warmup = int(warmup)  # whole steps stay exact integers
    num_training_steps = _checks.integer(
        "num_training_steps", num_training_steps, 0, _checks.MAX_BUDGET, "[0, 2**53]"
    )
    cycles = _checks.real("num_cycles", num_cycles)
    if cycles != 0.5:
        raise ValueError(
            "num_cycles must be 0.5: UBA decays once, as transformers' default half "
            f"cosine does (for restarts use uba.UBAWarmRestarts), got {num_cycles!r}"
        )
    lr_lambda = functools.partial(
        uba_warmup_factor,
        num_warmup_steps=warmup,
        num_training_steps=num_training_steps,
        phi=_checks.phi(phi),
        min_lr_rate=_floor_rate(optimizer, min_lr, min_lr_rate),
    )
    return LambdaLR(optimizer, lr_lambda, last_epoch)
