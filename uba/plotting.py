"""Plots of UBA schedules (matplotlib is imported inside each function).

``import uba`` does not import this module or matplotlib; install the
``plot`` extra (``pip install uba[plot]``) to use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from uba._schedule import schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_schedules"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "uba.plotting needs matplotlib: pip install 'uba[plot]'"
        ) from exc
    return plt


def plot_schedules(
    T: int,
    phis: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
    *,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    cosine: bool = True,
    ax: Axes | None = None,
) -> Axes:
    r"""Plot :math:`\eta(t)` of UBA for several :math:`\varphi` over a budget.

    Args:
        T: the budget (x axis from 0 to T).
        phis: the shape parameters to draw, one line each.
        eta_max, eta_min: the schedule's peak and floor.
        cosine: also draw cosine annealing (dashed) for reference.
        ax: the matplotlib Axes to draw on; a new figure when None.

    Returns:
        The Axes drawn on.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from uba.plotting import plot_schedules
        >>> ax = plot_schedules(1000)
        >>> len(ax.get_lines())
        5
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    t = np.linspace(0, T, 801)
    for phi in phis:
        ax.plot(t, schedule(t, T, phi, eta_max, eta_min), label=f"UBA, phi = {phi:g}")
    if cosine:
        cos = eta_min + (eta_max - eta_min) * (1 + np.cos(np.pi * t / T)) / 2
        ax.plot(t, cos, "k--", lw=1, label="cosine annealing")
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate")
    ax.set_title(f"UBA schedules, budget T = {T}")
    ax.set_xlim(0, T)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
