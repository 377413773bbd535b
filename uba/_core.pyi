"""Type stubs for the C extension uba._core (positional-only entry points)."""

from typing import Any, Callable, overload

import numpy as np
import numpy.typing as npt

c_version: str

@overload
def schedule(
    t: float,
    T: float,
    phi: float,
    eta_max: float,
    eta_min: float,
    warmup_steps: float,
    warmup_start: float,
    /,
) -> float: ...
@overload
def schedule(
    t: npt.ArrayLike,
    T: float,
    phi: float,
    eta_max: float,
    eta_min: float,
    warmup_steps: float,
    warmup_start: float,
    /,
) -> npt.NDArray[np.float64]: ...
def step_groups(
    T: float,
    phi: float,
    warmup_steps: float,
    warmup_start_factor: float,
    t_prev: float,
    t: float,
    base: list[float],
    eta_min: list[float],
    lr_now: list[float],
    written: list[float],
    ratio: list[float],
    /,
) -> tuple[list[float], list[float]]: ...

class StepMethod:
    """UBALR.step: a method descriptor running the scheduler step in C for
    exact instances of ``cls`` and ``fallback`` (LRScheduler.step) otherwise."""

    __wrapped__: Callable[..., None]
    def __init__(self, cls: type, fallback: Callable[..., None], tensor_type: type, /) -> None: ...
    def __call__(self, scheduler: Any, epoch: int | None = ..., /) -> None: ...
    def __get__(self, obj: Any, objtype: type | None = ..., /) -> Any: ...
