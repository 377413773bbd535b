"""Type stubs for the C extension uba._core (positional-only entry points)."""

from collections.abc import Callable
from typing import Any, final, overload

import numpy as np
import numpy.typing as npt

c_version: str
MAX_BUDGET: int
STEP_LIMIT_NONCONVEX: float
STEP_LIMIT_CONVEX: float
STEP_LIMIT_STRONGLY_CONVEX: float

@final
class StepParams:
    def __new__(
        cls, T_max: float, phi: float, warmup_steps: float, warmup_start_factor: float, /
    ) -> StepParams: ...
    @property
    def args(self) -> tuple[int, float, int, float]: ...
    def current(
        self, T_max: float, phi: float, warmup_steps: float, warmup_start_factor: float, /
    ) -> StepParams: ...
    def __reduce__(self) -> tuple[type[StepParams], tuple[int, float, int, float]]: ...

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
    params: StepParams,
    t_prev: float,
    t: float,
    base_lrs: Any,
    eta_min: Any,
    lrs: Any,
    written: Any,
    ratios: Any,
    /,
) -> tuple[list[float], list[float | None], bool]: ...
def chebyshev_step_sizes(
    T: float, lam_min: float, lam_max: float, /
) -> npt.NDArray[np.float64]: ...
def chebyshev_log_residual(T: float, lam_min: float, lam_max: float, /) -> float: ...
def phi_from_condition_number(kappa: float, /) -> float: ...
def condition_number_from_phi(phi: float, /) -> float: ...
def curvature_params(lam_min: float, lam_max: float, /) -> tuple[float, float, float]: ...
def worst_case_residual(
    lrs: npt.ArrayLike,
    lam_min: float,
    lam_max: float,
    progress: Callable[[float], object] | None,
    /,
) -> tuple[float, float]: ...
def worst_case_noisy_error(
    lrs: npt.ArrayLike,
    lam_min: float,
    lam_max: float,
    sigma2: float,
    progress: Callable[[float], object] | None,
    /,
) -> tuple[float, float]: ...
def bound_nonconvex(lrs: npt.ArrayLike, L: float, sigma2: float, f_gap: float, /) -> float: ...
def bound_convex(lrs: npt.ArrayLike, L: float, sigma2: float, dist2: float, /) -> float: ...
def bound_strongly_convex(
    lrs: npt.ArrayLike, mu: float, L: float, sigma2: float, f_gap: float, /
) -> float: ...
def optimal_phi(
    T: float,
    lam_min: float,
    lam_max: float,
    sigma2: float,
    eta_max: float,
    eta_min: float,
    phi_range: tuple[float, float],
    progress: Callable[[float], object] | None,
    /,
) -> tuple[float, float]: ...
def optimal_phi_strongly_convex(
    T: float,
    mu: float,
    L: float,
    sigma2: float,
    f_gap: float,
    eta_max: float,
    phi_range: tuple[float, float],
    progress: Callable[[float], object] | None,
    /,
) -> tuple[float, float]: ...
def expected_loss(
    lrs: npt.ArrayLike,
    eigenvalues: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    start: npt.ArrayLike,
    noise: npt.ArrayLike,
    progress: Callable[[float], object] | None,
    /,
) -> tuple[float, float]: ...
def choose_phi(
    T: float,
    eigenvalues: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    start: npt.ArrayLike,
    noise: npt.ArrayLike,
    eta_max: float | tuple[float, float],
    eta_min: float,
    phi_range: tuple[float, float],
    progress: Callable[[float], object] | None,
    /,
) -> tuple[
    float, float, float, float, float, float, float, float, int, int, float, float, float, float
]: ...
def check_phi_range(phi_range: tuple[float, float], /) -> None: ...
