"""UBALR: the UBA schedule as a torch LRScheduler.

torch does the stepping: ``UBALR.step`` is ``LRScheduler.step`` itself, and
UBALR overrides only what torch's own schedulers override (``__init__``,
``get_lr``, ``_get_closed_form_lr``, ``load_state_dict``).  The values of
all parameter groups come from one call into the C core.

This module imports torch; ``import uba`` does not import it, and loads
this module only when ``uba.UBALR`` is first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from uba import _checks, _core, _rebudget, _torch

__all__ = ["UBALR"]


class UBALR(LRScheduler):
    r"""Set each parameter group's learning rate by the UBA schedule.

    A drop-in for :class:`torch.optim.lr_scheduler.CosineAnnealingLR`: same
    positional signature, same stepping (``step`` is torch's own), state_dict,
    resume and composition rules, and with ``phi=2`` (no warmup) the same
    values.  For a group whose lr only this scheduler sets,

    .. math::

        \eta_t = \eta_{\min} + (\eta_{\mathrm{base}} - \eta_{\min})\,
        \frac{1}{1 + \frac{\varphi}{2}\tan^2\frac{\pi t}{2 T_{\max}}}

    where :math:`t` is ``last_epoch``, :math:`\eta_{\mathrm{base}}` the
    group's initial lr and :math:`\varphi` the shape (see
    :func:`uba.schedule`).  Past ``T_max`` the schedule is periodic with
    period ``2 * T_max``, as ``CosineAnnealingLR`` is.

    Each step is computed in C from the closed form, so a long run does not
    drift, not even with a float32 tensor lr (``CosineAnnealingLR``'s
    recursion drifts by up to ~1e-3 relative there).  When something else
    changed a group's lr since this scheduler last wrote it (another
    scheduler on the same optimizer, a user, ``last_epoch`` set by hand),
    the step composes multiplicatively, exactly as torch's chainable form
    does, and stays exact from then on.  A group added with
    ``optimizer.add_param_group`` is scheduled from its own lr the same way
    (its base lr is its ``initial_lr`` if it has one, else its lr).

    Args:
        optimizer: the wrapped optimizer.
        T_max: the budget :math:`T` in steps (calls of :meth:`step`),
            warmup included; an integer in ``[1, 2**53]`` (any integral
            number: ``300``, ``np.int64(300)``, ``300.0``, a 0-d integer
            tensor).
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

    # The core's checked parameters: not in __dict__, so not in state_dict
    # (which holds plain values only).
    __slots__ = ("_step_params",)
    _step_params: _core.StepParams

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
        # T_max, phi and the warmup, checked by the core once (and again only
        # when they change: uba._torch.step_groups)
        self._step_params = _torch.step_params(T_max, phi, warmup_steps, warmup_start_factor)
        self.T_max, self.phi, self.warmup_steps, self.warmup_start_factor = self._step_params.args
        self.eta_min = _torch.checked_eta_min(eta_min, optimizer)
        last_epoch = _checks.integer(
            "last_epoch", last_epoch, -1, _checks.MAX_BUDGET, "[-1, 2**53]"
        )
        # Per group: the composition ratio (1 while only UBALR sets the lr;
        # None: unknown, read the lr at the next step), the value UBALR last
        # wrote there, and the step it wrote it at.
        self._ratios: list[float | None] = []
        self._written: list[float] = []
        self._written_at: int | None = None
        # Each rebudget (see rebudget()) as plain numbers: (step, warped
        # start, budget it replaced).
        self.rebudgets: list[_rebudget.Rebudget] = []
        super().__init__(optimizer, last_epoch)
        _torch.own_base_lrs(self)

    # ---- the values ------------------------------------------------------

    def get_lr(self) -> list[float | torch.Tensor]:
        """The lrs this step sets, one per group, of the group's type (a
        tensor for a tensor lr): chainable from the current lrs, exact
        (closed form) while nothing else touches them."""
        # Called from a torch.compile'd function, this module's frames run
        # eagerly as torch's own scheduler code does: none below takes a
        # tensor or names torch (what torch.compile compiles), and the two
        # that take the groups' tensors (uba._torch's C step and lr types)
        # are left out of compilation.
        if not self._get_lr_called_within_step:  # inline: every step runs this check
            _torch.warn_outside_step()
        t = self.last_epoch
        try:
            if self._written_at == t - 1 and self._step_count > 1 and t > 0:
                return self._step(t - 1, t, True)  # the usual step
            if _torch.in_initial_step(self):
                return self._initial_values(t)
            if self._step_count == 1 and t > 0:
                # torch before 2.7, constructed with last_epoch >= 0.
                return self._get_closed_form_lr()
            if t < 1 and self.warmup_steps == 0:  # last_epoch set by hand
                # the schedule is even in t, so torch's recursion is too
                return self._step(abs(t - 1), abs(t), False)
            return self._step(t - 1, t, False)
        except BaseException:
            if self._get_lr_called_within_step:
                # torch counted this step before asking for its values: a
                # step that fails leaves the scheduler as it was.
                self.last_epoch -= 1
                self._step_count -= 1
            raise

    def _initial_values(self, t: int) -> list[Any]:
        """The constructor's step.  torch keeps the lrs as they are, and so
        does UBALR, composing from them from now on (a LinearLR created
        first, a resume); a fresh start with warmup writes the warmup's
        first value, scaled as the lr is scaled against its base."""
        if t == 0 and self.warmup_steps > 0:
            return self._step(-1, 0, False)
        self._step(t, t, False)
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        self._written = [float(lr) for lr in lrs]
        return lrs  # the lrs themselves: torch writes each back unchanged

    def _get_closed_form_lr(self) -> list[float | torch.Tensor]:
        """The lrs at ``last_epoch`` from ``base_lrs`` alone (``step(epoch)``
        and ``SequentialLR``'s milestones use this)."""
        t = self.last_epoch
        if t < 0 and self.warmup_steps == 0:  # the schedule is even in t
            t = -t
        return self._step(t, t, True, closed_form=True)

    def _step(self, t_prev: float, t: float, known: bool, closed_form: bool = False) -> list[Any]:
        """Every group's value at step ``t`` from its lr at step ``t_prev``
        (see uba_step_groups in csrc/uba.h), in one call into the core:
        closed-form from the base lrs, composed from the recorded state if
        ``known``, else from the lrs alone.  The new state is recorded only
        once the call succeeded; the values take the type of each group's
        lr."""
        groups = self.optimizer.param_groups
        base: list[Any] = self.base_lrs
        ratios: Any = self._ratios
        written: Any = self._written
        n = len(groups)
        if len(ratios) != n or len(base) != n:  # groups added or removed
            base, ratios, written = self._state_per_group()
        now: Any = groups
        if closed_form:
            now, written, ratios = base, base, 1.0
        elif not known:
            written = ratios = None
        T = self.T_max
        if self.rebudgets:
            T, t_prev, t = _rebudget.positions(t_prev, t, self.warmup_steps, T, self.rebudgets)
        self._step_params, values, self._ratios, plain = _torch.step_groups(
            self._step_params,
            T,
            self.phi,
            self.warmup_steps,
            self.warmup_start_factor,
            t_prev,
            t,
            base,
            self.eta_min,
            now,
            written,
            ratios,
        )
        self.base_lrs = base
        self._written = values
        self._written_at = self.last_epoch
        if plain and not closed_form:
            return values
        return _torch.as_group_types(groups, values)

    def _state_per_group(self) -> tuple[list[Any], list[float | None], list[float | None]]:
        """base_lrs, ratios and written values, one per group of the
        optimizer as it is now.  A group added since UBALR last stepped
        gets its initial_lr (or its lr) as base and unknown state; after a
        removal every base is read again from initial_lr."""
        groups = self.optimizer.param_groups
        n, known = len(groups), len(self.base_lrs)
        _torch.check_floors_per_group(self.eta_min, n)
        if known == n and len(self._ratios) == n:
            return self.base_lrs, self._ratios, list(self._written)
        if known > n:
            base, keep = [_torch.copy_lr(g.get("initial_lr", g["lr"])) for g in groups], 0
        else:
            base = self.base_lrs + [
                _torch.copy_lr(g.get("initial_lr", g["lr"])) for g in groups[known:]
            ]
            keep = min(known, len(self._ratios))
        unknown: list[float | None] = [None] * (n - keep)
        written: list[float | None] = list(self._written[:keep])
        return base, self._ratios[:keep] + unknown, written + unknown

    # ---- a budget that can change ----------------------------------------

    def rebudget(self, T_max: int) -> None:
        r"""Continue the schedule to a new total budget ``T_max`` from the
        current step (``last_epoch``), without a jump in the lr.

        The decay keeps the progress :math:`p_s` it reached at the current
        step :math:`s` and runs it linearly to 1 at the new budget
        :math:`T'`: from here on the lr follows the new budget's curve,

        .. math::

            p(t) = p_s + (1 - p_s)\,\frac{t - s}{T' - s}, \qquad
            \eta_t = \eta_{\min} + (\eta_{\mathrm{base}} - \eta_{\min})\,
            \frac{1}{1 + \frac{\varphi}{2}\tan^2\frac{\pi p(t)}{2}},

        so the lr is continuous at :math:`s`, falls monotonically and is
        ``eta_min`` exactly at :math:`T'`.  During warmup the decay has not
        begun, and simply runs over the new budget; the warmup is unchanged.
        The rebudget is kept in :meth:`state_dict` (plain numbers), and
        ``step(epoch)`` gives the values stepping gives, before and after
        it.  A rebudget rewrites the schedule from the current step on:
        several at one step are one rebudget to the last budget, and one made
        after a ``step(epoch)`` back in time replaces those made later.
        docs/rebudget.md states the rule, its guarantees and the
        alternatives it was chosen over.

        Args:
            T_max: the new budget, an integer in ``[1, 2**53]`` later than the
                current step and greater than ``warmup_steps``.

        Raises:
            ValueError, TypeError: ``T_max`` is not such an integer; nothing
                changes.

        Example:
            >>> import torch, uba
            >>> opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
            >>> sched = uba.UBALR(opt, T_max=100)
            >>> for _ in range(50):
            ...     opt.step()
            ...     sched.step()
            >>> round(sched.get_last_lr()[0], 6)  # halfway: 0.1 * 2 / (phi + 2)
            0.066667
            >>> sched.rebudget(300)  # 250 more steps instead of 50
            >>> for _ in range(250):
            ...     opt.step()
            ...     sched.step()
            >>> sched.get_last_lr()
            [0.0]
        """
        new = _checks.budget(T_max, "T_max")
        step = self.last_epoch
        if new <= step:
            raise ValueError(f"T_max must be later than the current step {step}, got {T_max!r}")
        if new <= self.warmup_steps:
            raise ValueError(
                f"T_max must be greater than warmup_steps ({self.warmup_steps}), got {T_max!r}"
            )
        self.rebudgets = _rebudget.add_rebudget(
            step, self.warmup_steps, self.T_max, new, self.rebudgets
        )
        self.T_max = new

    # ---- state -----------------------------------------------------------

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict`, checking its values first
        (a state with ``last_epoch`` beyond ``2**53`` or a bad ``T_max`` is
        refused, naming the entry)."""
        state = dict(state_dict)
        for name, check in (
            ("T_max", lambda v: _checks.budget(v, "state_dict['T_max']")),
            ("eta_min", _torch.checked_eta_min),
            (
                "last_epoch",
                lambda v: _checks.integer(
                    "state_dict['last_epoch']", v, -1, _checks.MAX_BUDGET, "[-1, 2**53]"
                ),
            ),
        ):
            if name in state:
                state[name] = check(state[name])
        # A state saved before UBALR recorded the step it last wrote at, or
        # its rebudgets.
        state.setdefault("_written_at", None)
        state["rebudgets"] = [tuple(r) for r in state.get("rebudgets", ())]
        super().load_state_dict(state)
