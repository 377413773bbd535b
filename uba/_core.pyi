"""Type stubs for the C extension uba._core (positional-only entry points)."""

from typing import overload

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
