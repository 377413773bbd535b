r"""The rule of UBALR.rebudget: a time warp onto the new budget's curve.

Write the decay as a function of its progress,
:math:`\eta = \eta_{\min} + (\eta_{\max} - \eta_{\min})\,G(p)`, with
:math:`p = (t - W)/(T - W)` and :math:`G(p) = g(pT; T)` (docs/rebudget.md).
A rebudget at step :math:`s` to the budget :math:`T'` keeps the progress
:math:`p_s` reached at :math:`s` and lets it grow linearly from there to 1 at
:math:`T'`.  On the new budget's curve that is the step
:math:`u_s = W + p_s (T' - W)` (where it has the same value), and the steps
:math:`t \ge s` run on that curve at the warped step

.. math::

    u(t) = T' - (T' - t)\,\frac{T' - u_s}{T' - s},

which is :math:`u_s` at :math:`t = s` and exactly :math:`T'` at
:math:`t = T'` (so the floor is reached exactly, as ``T' - t`` is exact).

A rebudget is stored as the plain tuple ``(s, u_s, T)``: its step, its
warped start and the budget that held before it.  Segment ``k`` (from the
``k``-th rebudget to the next) runs from its anchor with the budget that
the next rebudget replaced, the last one with the current ``T_max``.
Before the first rebudget (and during warmup, which does not depend on the
budget) steps are not warped at all, so a schedule that is never
rebudgeted is the original one bit for bit.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

__all__ = ["Rebudget", "add_rebudget", "positions", "warped_step"]

#: (step, warped start on the new budget's curve, budget before it)
Rebudget = tuple[int, float, int]


def warped_step(t: float, T_max: int, rebudgets: Sequence[Rebudget]) -> tuple[float, int]:
    """(u, T): the original schedule with budget ``T`` at step ``u`` is the
    rebudgeted schedule at step ``t``."""
    k = bisect.bisect_right([s for s, _, _ in rebudgets], t)  # rebudgets at or before t
    budget = rebudgets[k][2] if k < len(rebudgets) else T_max
    if k == 0:
        return t, budget
    start, warped_start, _ = rebudgets[k - 1]
    # The speed factor first, so that (T - t) is scaled once: u(T) = T exactly.
    speed = (budget - warped_start) / (budget - start)
    return max(warped_start, budget - (budget - t) * speed), budget


def add_rebudget(
    step: int, warmup_steps: int, T_max: int, new_T_max: int, rebudgets: Sequence[Rebudget]
) -> list[Rebudget]:
    """The rebudgets after one more at ``step`` from ``T_max`` to
    ``new_T_max`` (checked by the caller: ``step < new_T_max``,
    ``warmup_steps < new_T_max``).  Rebudgets at or after ``step`` (an
    earlier one at this same step, or ones left behind by a ``step(epoch)``
    back in time) are dropped: this one rewrites the future from ``step``.
    """
    # Where `step` is now, with every rebudget so far (the segment it is in
    # may be one that a later rebudget, now dropped, had closed).
    u, budget = warped_step(step, T_max, rebudgets)
    kept = [r for r in rebudgets if r[0] < step]
    if step <= warmup_steps:
        # The decay has not begun: it simply runs over the new budget.
        return kept
    # The budget the steps before `step` ran on: the one the first dropped
    # rebudget replaced, else the current one.
    before = rebudgets[len(kept)][2] if len(kept) < len(rebudgets) else T_max
    # The progress reached, folded into [0, 1]: past the budget the schedule
    # is periodic (period 2 in progress) and mirrors about its end.
    span = budget - warmup_steps
    d = math.fmod(u - warmup_steps, 2.0 * span)
    progress = (2.0 * span - d if d > span else d) / span
    return [*kept, (step, warmup_steps + progress * (new_T_max - warmup_steps), before)]


def positions(
    t_prev: float, t: float, warmup_steps: int, T_max: int, rebudgets: Sequence[Rebudget]
) -> tuple[int, float, float]:
    """(T, u_prev, u): one budget and the steps on its curve whose values are
    the rebudgeted schedule's at ``t_prev`` and ``t``.  A ``t_prev`` in an
    earlier segment is moved to the same progress on ``t``'s curve (in the
    decay the value depends on the progress alone; in warmup not on T)."""
    u, budget = warped_step(t, T_max, rebudgets)
    u_prev, budget_prev = warped_step(t_prev, T_max, rebudgets)
    if budget_prev != budget and u_prev > warmup_steps:
        span = budget - warmup_steps
        u_prev = warmup_steps + (u_prev - warmup_steps) * span / (budget_prev - warmup_steps)
    return budget, u_prev, u
