"""UBALR: the UBA schedule as a torch LRScheduler.

This module imports torch; ``import uba`` does not import it, and loads
this module only when ``uba.UBALR`` is first used.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from uba import _core

__all__ = ["UBALR"]

_NOTHING_WRITTEN = math.nan


def _as_float(value: float | torch.Tensor) -> float:
    return value.item() if isinstance(value, torch.Tensor) else float(value)


def _check_finite(name: str, value: Any, allowed: str = "a finite number") -> float:
    if isinstance(value, (str, bytes)) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be a real number, got {type(value).__name__}"
            ) from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


class UBALR(LRScheduler):
    r"""Set each parameter group's learning rate by the UBA schedule.

    A drop-in for :class:`torch.optim.lr_scheduler.CosineAnnealingLR`: same
    positional signature, same stepping, state_dict, resume and composition
    rules, and with ``phi=2`` (no warmup) the same values.  For a group
    whose lr only this scheduler sets,

    .. math::

        \eta_t = \eta_{\min} + (\eta_{\mathrm{base}} - \eta_{\min})\,
        \frac{1}{1 + \frac{\varphi}{2}\tan^2\frac{\pi t}{2 T_{\max}}}

    where :math:`t` is ``last_epoch``, :math:`\eta_{\mathrm{base}}` the
    group's initial lr and :math:`\varphi` the shape (see
    :func:`uba.schedule`).  Past ``T_max`` the schedule is periodic with
    period ``2 * T_max``, as ``CosineAnnealingLR`` is.

    Each step is computed in C from the closed form, so a long run does not
    drift, not even with a float32 tensor lr (``CosineAnnealingLR``'s
    recursion drifts by up to ~1e-3 relative there).  When another
    scheduler on the same optimizer has changed a group's lr since this
    one last wrote it (``StepLR``, ``ReduceLROnPlateau``, ...), the step
    composes multiplicatively, as torch's chainable schedulers do, and
    stays exact from then on.  Tensor lrs are updated in place with
    ``fill_``.

    Args:
        optimizer: the wrapped optimizer.
        T_max: the budget :math:`T` in steps (calls of :meth:`step`),
            warmup included; an integer in ``[1, 2**53]``.
        eta_min: the floor :math:`\eta_{\min}` reached at ``T_max``: a
            number, or a sequence with one number per parameter group.
            Default 0.
        last_epoch: the index of the last step, ``-1`` to start afresh
            (see ``LRScheduler``).  Default -1.
        phi: the shape :math:`\varphi > 0`.  ``2`` is cosine annealing;
            smaller keeps the peak longer, larger decays earlier.  Default 1.
        warmup_steps: ``W``, an integer in ``[0, T_max)``: the first ``W``
            steps rise linearly from ``warmup_start_factor * base_lr`` to
            ``base_lr``, then UBA runs over the remaining ``T_max - W``.
            Default 0.
        warmup_start_factor: the lr at step 0 as a fraction of the base
            lr, finite and ``>= 0``.  Default 0.

    Raises:
        ValueError, TypeError: an argument is out of range or of the wrong
            type; the message names it, its value and the allowed range.

    Example:
        >>> import torch, uba
        >>> model = torch.nn.Linear(2, 1)
        >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> sched = uba.UBALR(opt, T_max=100, phi=1.0)
        >>> for _ in range(50):
        ...     opt.step()
        ...     sched.step()
        >>> round(sched.get_last_lr()[0], 6)  # 0.1 * 2 / (phi + 2)
        0.066667
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,
        eta_min: float | Sequence[float] = 0.0,
        last_epoch: int = -1,
        *,
        phi: float = 1.0,
        warmup_steps: int = 0,
        warmup_start_factor: float = 0.0,
    ) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, int):
            raise TypeError(f"T_max must be an int, got {type(T_max).__name__}")
        if not 1 <= T_max <= 2**53:
            raise ValueError(f"T_max must be an integer in [1, 2**53], got {T_max!r}")
        # phi and warmup_steps carry the same names in uba.schedule: the core
        # checks them (and their ranges) through one probe evaluation.
        _core.schedule(0, T_max, phi, 1.0, 0.0, warmup_steps, 0.0)
        factor = _check_finite(
            "warmup_start_factor", warmup_start_factor, "a finite number >= 0"
        )
        if factor < 0:
            raise ValueError(
                f"warmup_start_factor must be a finite number >= 0, got {factor!r}"
            )
        if isinstance(eta_min, (list, tuple)):
            groups = len(optimizer.param_groups)
            if len(eta_min) != groups:
                raise ValueError(
                    f"eta_min must have one value per parameter group ({groups}), "
                    f"got {len(eta_min)}"
                )
            eta_min = [_check_finite(f"eta_min[{i}]", v) for i, v in enumerate(eta_min)]
        else:
            eta_min = _check_finite("eta_min", eta_min)

        self.T_max = T_max
        self.eta_min = eta_min
        self.phi = float(phi)
        self.warmup_steps = int(warmup_steps)
        self.warmup_start_factor = factor
        # Per group: the composition ratio (1 while only UBALR sets the lr)
        # and the value UBALR last stored (None before its first write, or
        # when the lr must be re-read at the next step).
        self._ratios: list[float] = []
        self._written: list[float | None] = []
        super().__init__(optimizer, last_epoch)

    # ---- the values ------------------------------------------------------

    def _eta_mins(self) -> list[float]:
        if isinstance(self.eta_min, list):
            return list(self.eta_min)
        return [float(self.eta_min)] * len(self.optimizer.param_groups)

    def _base_values(self) -> list[float]:
        return [_as_float(b) for b in self.base_lrs]

    def _next_lrs(self) -> tuple[list[float], list[float], bool]:
        """Values for the step just counted in last_epoch, the new ratios,
        and whether the stored values can be trusted at the next step."""
        groups = self.optimizer.param_groups
        current = [_as_float(g["lr"]) for g in groups]
        n = len(groups)
        t = self.last_epoch
        if self._is_initial and t > 0:
            # Resuming with last_epoch: keep the restored lrs as they are,
            # and read them back at the next step.
            return current, [1.0] * n, False
        if self._step_count == 1 and t > 0:
            return self._get_closed_form_lr(), [1.0] * n, True
        if self._is_initial:
            t_prev, written, ratios = -1, [_NOTHING_WRITTEN] * n, [1.0] * n
        else:
            t_prev = t - 1
            written = self._stored(n)
            ratios = self._ratios if len(self._ratios) == n else [1.0] * n
        lrs, new_ratios = _core.step_groups(
            self.T_max, self.phi, self.warmup_steps, self.warmup_start_factor,
            t_prev, t, self._base_values(), self._eta_mins(), current, written,
            ratios,
        )
        return lrs, new_ratios, True

    def _stored(self, n: int) -> list[float]:
        if len(self._written) != n:
            return [_NOTHING_WRITTEN] * n
        return [_NOTHING_WRITTEN if w is None else w for w in self._written]

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The lrs the current step sets (chainable form; see class doc)."""
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, "
                "please use `get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        return self._next_lrs()[0]

    def _get_closed_form_lr(self) -> list[float]:
        """The lrs at last_epoch from base_lrs alone (used by step(epoch))."""
        f = self.warmup_start_factor
        return [
            _core.schedule(
                self.last_epoch, self.T_max, self.phi, base, floor,
                self.warmup_steps, f * base,
            )
            for base, floor in zip(self._base_values(), self._eta_mins(), strict=True)
        ]

    def _update_lr(self, epoch: int | None = None) -> None:
        # LRScheduler.step() calls this after its warnings and counting.
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values, ratios, trusted = self._next_lrs()
            else:
                self.last_epoch = epoch
                values = self._get_closed_form_lr()
                ratios, trusted = [1.0] * len(values), True
        finally:
            self._get_lr_called_within_step = False

        written: list[float | None] = []
        for group, value in zip(self.optimizer.param_groups, values, strict=True):
            lr = group["lr"]
            if isinstance(lr, torch.Tensor):
                lr.fill_(value)
                written.append(lr.item() if trusted else None)
            else:
                group["lr"] = value
                written.append(value if trusted else None)
        self._ratios = ratios
        self._written = written
        self._last_lr = [
            g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"]
            for g in self.optimizer.param_groups
        ]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict`, refusing one saved for a
        different number of parameter groups."""
        saved = len(state_dict.get("base_lrs", ()))
        groups = len(self.optimizer.param_groups)
        if saved != groups:
            raise ValueError(
                f"state_dict was saved for {saved} parameter groups, "
                f"but the optimizer has {groups}"
            )
        super().load_state_dict(state_dict)


# step() in one C call: exact UBALR instances in the steady state run
# LRScheduler.step + _update_lr above as a single C function (same order,
# same uba_step_groups arithmetic, same torch calls); everything else (the
# initial and first steps, step(epoch), subclasses, unusual values) runs
# LRScheduler.step itself.  See StepMethod in csrc/module.c.
UBALR.step = _core.StepMethod(  # type: ignore[method-assign,assignment]
    UBALR, LRScheduler.step, torch.Tensor
)
