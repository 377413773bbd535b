"""UBAWarmRestarts: the UBA schedule with warm restarts, as a torch scheduler.

This module imports torch; ``import uba`` does not import it, and loads
this module only when ``uba.UBAWarmRestarts`` is first used.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

from uba import _checks, _core, _torch

__all__ = ["UBAWarmRestarts"]


def _cycle_position(T_cur: float, T_i: int) -> tuple[float, int]:
    """(t, T) for the core: ``T_cur`` steps into a cycle of ``T_i`` steps.

    ``g`` is even and ``2 T``-periodic, as the cosine is, so a negative
    ``T_cur`` (set by hand) reads as its mirror image.  A cycle longer than
    the core's largest budget (``T_mult`` multiplies it at each restart) is
    rescaled to that budget: ``g`` depends on ``T_cur / T_i`` alone.
    """
    t = abs(float(T_cur))
    if T_i <= _checks.MAX_BUDGET:
        return t, T_i
    return t / T_i * _checks.MAX_BUDGET, _checks.MAX_BUDGET


class UBAWarmRestarts(CosineAnnealingWarmRestarts):
    r"""The UBA schedule restarted every cycle: the twin of
    :class:`torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`.

    Each cycle runs the UBA shape from the group's initial lr down to
    ``eta_min``; the next cycle starts again at the initial lr ("warm
    restart", SGDR) and lasts ``T_mult`` times longer:

    .. math::

        \eta_t = \eta_{\min} + (\eta_{\mathrm{base}} - \eta_{\min})\,
        \frac{1}{1 + \frac{\varphi}{2}\tan^2\frac{\pi T_{cur}}{2 T_i}},
        \qquad T_i = T_0\, T_{\mathrm{mult}}^{\,i}

    where :math:`T_{cur}` is the number of epochs (possibly fractional)
    since the last restart and :math:`T_i` the length of the current cycle.
    With ``phi=2`` this is exactly ``CosineAnnealingWarmRestarts``'s
    :math:`\eta_{\min} + \frac12(\eta_{\mathrm{base}} - \eta_{\min})
    (1 + \cos(\pi T_{cur}/T_i))`.

    Everything except the values is torch's own class: ``step()``,
    ``step(epoch)`` with fractional epochs (per-iteration stepping inside
    an epoch, ``scheduler.step(epoch + i / iters)``), the ``T_cur`` /
    ``T_i`` bookkeeping, ``state_dict`` and resume come from the installed
    ``CosineAnnealingWarmRestarts``; only :meth:`get_lr` is replaced, and
    computes each value in C (a few ulp from the exact value, none of the
    ``1 + cos`` cancellation at the end of a cycle).

    Args:
        optimizer: the wrapped optimizer.
        T_0: the length of the first cycle, in epochs (calls of
            :meth:`step`); an integer in ``[1, 2**53]`` (any integral
            number: ``int``, NumPy integer, integral float).
        T_mult: the factor by which each cycle is longer than the one
            before; an integer in ``[1, 2**53]``.  Default 1.
        eta_min: the floor :math:`\eta_{\min}` reached at the end of each
            cycle, a finite number.  Default 0.
        last_epoch: the index of the last epoch, ``-1`` to start afresh
            (see ``LRScheduler``).  Default -1.
        phi: the shape :math:`\varphi > 0` (see :func:`uba.schedule`).
            ``2`` is cosine; smaller holds the peak longer in each cycle,
            larger decays earlier.  Default 1.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong
            type; the message names it, its value and the allowed range.

    Example:
        >>> import torch, uba
        >>> opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
        >>> sched = uba.UBAWarmRestarts(opt, T_0=10, T_mult=2, phi=1.0)
        >>> lrs = []
        >>> for epoch in range(30):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     opt.step()
        ...     sched.step()
        >>> round(lrs[5], 6), lrs[10], round(lrs[20], 6)  # mid-cycle, restart, mid-cycle
        (0.066667, 0.1, 0.066667)
    """

    phi: float
    # The core's checked parameters: not in __dict__, so not in state_dict.
    __slots__ = ("_step_params",)
    _step_params: _core.StepParams

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
        *,
        phi: float = 1.0,
    ) -> None:
        T_0 = _checks.budget(T_0, "T_0")
        T_mult = _checks.integer("T_mult", T_mult, 1, _checks.MAX_BUDGET, "[1, 2**53]")
        eta_min = _checks.real("eta_min", eta_min)
        self._step_params = _torch.step_params(T_0, phi, 0, 0.0)  # phi, checked by the core
        self.phi = self._step_params.args[1]
        super().__init__(optimizer, T_0, T_mult, eta_min, last_epoch)
        _torch.own_base_lrs(self)

    def get_lr(self) -> list[float | torch.Tensor]:
        """Each group's lr at ``T_cur`` epochs into the current cycle, of the
        group's type (a tensor for a tensor lr)."""
        if not self._get_lr_called_within_step:  # inline: every step runs this check
            _torch.warn_outside_step()
        t, T = _cycle_position(self.T_cur, self.T_i)
        base = self.base_lrs
        # One value per base lr, as torch's class computes them: a group added
        # since (optimizer.add_param_group) is left to torch's step(), which
        # leaves it alone or refuses it as the installed torch does.  All in
        # one call: the closed form (ratio 1, nothing to compose).
        self._step_params, values, _, _ = _torch.step_groups(
            self._step_params, T, self.phi, 0, 0.0, t, t, base, self.eta_min, base, base, 1.0
        )
        return _torch.as_group_types(self.optimizer.param_groups, values)
