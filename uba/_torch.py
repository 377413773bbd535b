"""What uba's torch schedulers share with torch: one home for each rule.

:class:`uba.UBALR` subclasses torch's ``LRScheduler`` and
:class:`uba.UBAWarmRestarts` torch's ``CosineAnnealingWarmRestarts``, the
way torch's own schedulers do: torch keeps ``step()``, the bookkeeping, the
state and resume.  What the two add on top, they take from here:

* the torch releases' differences they depend on (2.2 to 2.15);
* torch's warning for ``get_lr()`` called outside ``step()``;
* ``eta_min``, one floor or one per parameter group;
* base lrs of their own, which no later write of a tensor lr can move;
* the one place the C step's parameters are made (checked once, kept out of
  ``state_dict``), and the one call into the C step;
* the values written back as each group's lr type (a tensor lr stays a
  tensor).

Both frames that take the groups' tensors are left out of torch.compile, so
a compiled training step runs them eagerly, as torch's own scheduler code.

This module imports torch; ``import uba`` does not, and brings it in (with
an ImportError that says what to install where it is missing) only when a
torch scheduler is first used.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from uba import _checks, _core

__all__ = [
    "FLAGS_INITIAL_STEP",
    "WRITES_TENSOR_LRS_IN_PLACE",
    "as_group_types",
    "check_floors_per_group",
    "checked_eta_min",
    "copy_lr",
    "in_initial_step",
    "own_base_lrs",
    "step_groups",
    "step_params",
    "warn_outside_step",
]

# ---- the torch releases ----------------------------------------------------

#: torch 2.7 and later flag the step the constructor takes
#: (``LRScheduler._is_initial``) and keep the lrs there, also when resuming
#: with ``last_epoch >= 0``; before, that step was the one that reached
#: ``last_epoch == 0``, and a resume wrote the closed form at ``last_epoch``.
FLAGS_INITIAL_STEP = hasattr(LRScheduler, "_is_initial")


#: torch 2.4 and later write a tensor lr in place (``fill_``) and keep a
#: clone of it as ``initial_lr``; 2.2 and 2.3 bind each new value to the
#: group, and ``initial_lr`` is the user's tensor.
WRITES_TENSOR_LRS_IN_PLACE = torch.__version__ >= "2.4"


def in_initial_step(scheduler: LRScheduler) -> bool:
    """Whether ``scheduler`` is taking the step its constructor takes, as the
    installed torch marks it (see :data:`FLAGS_INITIAL_STEP`)."""
    if FLAGS_INITIAL_STEP:
        return bool(scheduler._is_initial)
    return scheduler.last_epoch == 0


def warn_outside_step() -> None:
    """torch's warning for ``get_lr()`` called outside ``step()`` (where
    ``_get_lr_called_within_step`` is false), as torch's own schedulers give
    it, pointing at the caller of ``get_lr``."""
    warnings.warn(
        "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
        UserWarning,
        stacklevel=3,
    )


# ---- the floor ---------------------------------------------------------------


def checked_eta_min(value: Any, optimizer: Any = None) -> float | list[float]:
    """``eta_min``: a finite number, or a sequence with one per parameter
    group of ``optimizer`` (when given: a state being loaded has no
    optimizer to count against)."""
    if not isinstance(value, (list, tuple)):
        return _checks.real("eta_min", value)
    floors = [_checks.real(f"eta_min[{i}]", v) for i, v in enumerate(value)]
    if isinstance(optimizer, Optimizer):
        groups = len(optimizer.param_groups)
        if len(floors) != groups:
            raise ValueError(
                f"eta_min must have one value per parameter group ({groups}), got {len(floors)}"
            )
    return floors


def check_floors_per_group(eta_min: float | list[float], groups: int) -> None:
    """A list of floors still has one per group after the optimizer's groups
    changed (``add_param_group``), or ValueError saying how to mend it."""
    if not isinstance(eta_min, list) or len(eta_min) == groups:
        return
    floors = len(eta_min)
    change = (
        f"param_groups[{floors}] was added after eta_min was given one floor per group ({floors})"
        if groups > floors
        else f"the optimizer has {groups} parameter groups, fewer than the {floors} floors "
        "in eta_min"
    )
    raise ValueError(f"{change}: set scheduler.eta_min to {groups} floors, one a group")


# ---- the C step ----------------------------------------------------------------

_F = TypeVar("_F", bound=Callable[..., Any])


def _never_compiled(fn: _F) -> _F:
    """``fn`` with its own frame left out of torch.compile, at no cost per call.

    The C step's frame takes the groups (their tensor lrs), so Dynamo would
    try to compile it inside a compiled training step, and warn at the call
    into C that it cannot trace.  torch's ``disable(fn, recursive=False)``
    leaves the frame out; torch 2.2 does that by marking the code, later
    releases by a wrapper that costs about a tenth of a one-group step, so
    the marking (torch._dynamo's ``skip``) is used where torch has it."""
    import torch._dynamo

    skip = getattr(getattr(torch._dynamo, "decorators", None), "skip", None)
    if skip is None:
        return cast(_F, torch.compiler.disable(fn, recursive=False))  # type: ignore[no-untyped-call]
    return cast(_F, skip(fn))


def step_params(
    T_max: Any, phi: Any, warmup_steps: Any, warmup_start_factor: Any
) -> _core.StepParams:
    """The schedule's parameters a scheduler's steps share, checked by the
    core once (``uba_group_step_init`` in csrc/uba.h; its errors name
    ``T_max``, ``phi``, ``warmup_steps`` and ``warmup_start_factor``).  Their
    ``.args`` are the checked values, as plain numbers.

    A scheduler keeps them in a slot, ``_step_params``, outside its
    ``__dict__``: torch's ``state_dict`` holds the plain values alone (and
    ``torch.load(weights_only=True)`` reads it), and :func:`step_groups`
    checks them again only when those values change."""
    return _core.StepParams(T_max, phi, warmup_steps, warmup_start_factor)


@_never_compiled
def step_groups(
    params: _core.StepParams,
    T_max: int,
    phi: float,
    warmup_steps: float,
    warmup_start_factor: float,
    t_prev: float,
    t: float,
    base_lrs: Any,
    eta_min: Any,
    lrs: Any,
    written: Any,
    ratios: Any,
) -> tuple[_core.StepParams, list[float], list[float | None], bool]:
    """Every group's value at step ``t`` from its lr at step ``t_prev``, in
    one call into the core (``uba_step_groups`` in csrc/uba.h): the closed
    form where ``lrs`` and ``written`` are the base lrs and ``ratios`` is 1,
    composed from the recorded ``written`` values and ``ratios`` otherwise
    (``None``: from the lrs alone).

    The one place the schedulers call the C step.  ``params`` are the ones
    the scheduler holds (:func:`step_params`); the schedule's parameters
    ``T_max`` to ``warmup_start_factor`` are what they are now (a rebudget's
    segment, a cycle of warm restarts, a loaded state or an attribute set by
    hand may have changed them): ``params.current`` returns ``params``
    itself while they are the same, else new parameters, checked.  Returns
    (the parameters to hold from now on, values, new ratios, whether every
    lr is a plain float)."""
    params = params.current(T_max, phi, warmup_steps, warmup_start_factor)
    values, new_ratios, plain = _core.step_groups(
        params, t_prev, t, base_lrs, eta_min, lrs, written, ratios
    )
    return params, values, new_ratios, plain


# ---- the values, as the groups' lr types ------------------------------------


def _group_types(groups: list[dict[str, Any]], values: list[float]) -> list[Any]:
    """The values as the types of the groups' lrs (a tensor of its dtype and
    device for a tensor lr), pairing ``values[i]`` with ``groups[i]`` as far
    as both go; each paired value becomes, in place, the number that lr will
    then hold."""
    out: list[Any] = list(values)
    for i, group in enumerate(groups[: len(values)]):
        lr = group["lr"]
        if isinstance(lr, torch.Tensor):
            if lr.is_cpu:
                out[i] = lr.new_full((), values[i])
                values[i] = out[i].item()
            else:  # rounded on the host: no device sync
                values[i] = torch.scalar_tensor(values[i], dtype=lr.dtype).item()
                out[i] = lr.new_full((), values[i])
        else:
            out[i] = values[i] = float(values[i])
    return out


# Excluded from torch.compile: it runs eagerly, also when a compiled function
# steps the scheduler (the only frame here that handles tensors).
as_group_types: Callable[[list[dict[str, Any]], list[float]], list[Any]] = torch.compiler.disable(
    _group_types
)  # type: ignore[no-untyped-call]


def copy_lr(lr: Any) -> Any:
    """A lr as torch keeps a base lr: a tensor is cloned, a number kept."""
    return lr.clone() if isinstance(lr, torch.Tensor) else lr


def own_base_lrs(scheduler: LRScheduler) -> None:
    """Makes each of ``scheduler``'s base lrs a tensor of its own where torch
    gave it the group's ``initial_lr`` tensor and writes lrs in place, so
    that nothing written to the lr can move it.

    torch 2.4 to 2.9 clone a tensor lr into ``initial_lr`` and give the
    scheduler that clone as its base lr; their ``SequentialLR`` then binds
    each group's lr to its ``initial_lr``, and every step's in-place write
    of the lr rewrites the base too (pytorch#162359).  A closed form read
    from such a base follows the lr down step by step.  torch 2.10 and later
    copy the base lrs, as this does for 2.4 to 2.9.  torch 2.2 and 2.3 bind
    a new value to the group at each step: their base lrs stay the user's
    tensor, as torch's own schedulers keep it."""
    if not WRITES_TENSOR_LRS_IN_PLACE:
        return
    scheduler.base_lrs = [
        copy_lr(base) if base is group.get("initial_lr") else base
        for base, group in zip(scheduler.base_lrs, scheduler.optimizer.param_groups)
    ]
