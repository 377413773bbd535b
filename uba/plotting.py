"""Plots of UBA schedules, their peers and their theory.

matplotlib is imported inside each function; ``import uba`` imports
neither this module nor matplotlib.  Install the ``plot`` extra (``pip install uba[plot]``) to use
it.  Every function draws on the Axes it is given (a new figure when
``ax`` is None) and returns that Axes; ``ax.figure`` is its figure.  No
function shows a window: call ``plt.show()`` or save the figure yourself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from uba import _core, theory
from uba import peers as _peers
from uba._checks import budget, items, positive, real
from uba._schedule import DEFAULT_PHIS, schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from uba.probe import ProbeResult

__all__ = [
    "BOUNDS",
    "Bound",
    "figure_of",
    "plot_bounds",
    "plot_peers",
    "plot_phi_vs_condition_number",
    "plot_schedules",
    "plot_spectral_density",
]


class Bound(NamedTuple):
    """A convergence bound of :mod:`uba.theory`, as the plots and the CLI use it."""

    function: Callable[..., float]
    """``uba.theory.bound_*``: ``function(lrs, **constants) -> float``."""
    step_limit: float
    """The largest step the bound allows, in units of ``1/L``."""
    constants: tuple[str, ...]
    """The problem constants it takes, by keyword."""


#: The bounds :func:`plot_bounds` can draw, by name.
BOUNDS: Mapping[str, Bound] = MappingProxyType(
    {
        "nonconvex": Bound(
            theory.bound_nonconvex, _core.STEP_LIMIT_NONCONVEX, ("L", "sigma2", "f_gap")
        ),
        "convex": Bound(theory.bound_convex, _core.STEP_LIMIT_CONVEX, ("L", "sigma2", "dist2")),
        "strongly-convex": Bound(
            theory.bound_strongly_convex,
            _core.STEP_LIMIT_STRONGLY_CONVEX,
            ("mu", "L", "sigma2", "f_gap"),
        ),
    }
)

DEFAULT_PEERS = ("cosine", "linear", "wsd", "rex")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("uba.plotting needs matplotlib: pip install 'uba[plot]'") from exc
    return plt


def figure_of(ax: Axes) -> Figure:
    """The top-level Figure that ``ax`` is drawn in (to save or close it)."""
    from matplotlib.figure import Figure

    fig = ax.figure
    return fig if isinstance(fig, Figure) else fig.figure


def _axes(ax: Axes | None, figsize: tuple[float, float] = (7, 4.2)) -> Axes:
    if ax is not None:
        return ax
    new: Axes = _pyplot().subplots(figsize=figsize)[1]
    return new


_Curve = Callable[[npt.NDArray[np.float64], int], npt.NDArray[np.float64]]


def _curves(
    phis: Sequence[float],
    peers: Sequence[str],
    eta_max: float,
    eta_min: float,
    options: Mapping[str, Mapping[str, Any]] | None,
) -> list[tuple[str, _Curve]]:
    """(label, lrs(t, T)) for UBA at each phi, then for each peer; checks
    the shapes, peer names and options before anything is drawn."""
    options = options or {}
    phis = _phis(phis)
    peers = items("peers", peers)
    for i, name in enumerate(peers):
        try:
            _peers.get(name)
        except ValueError as exc:
            raise ValueError(f"peers[{i}]: {exc}") from None
    unknown = sorted(set(options) - set(peers))
    if unknown:
        raise ValueError(f"options given for peers not drawn: {', '.join(unknown)}")

    def uba_curve(phi: float) -> _Curve:
        return lambda t, T: schedule(t, T, phi, eta_max, eta_min)

    def peer_curve(name: str) -> _Curve:
        kw = dict(options.get(name, {}))
        return lambda t, T: _peers.evaluate(name, t, T, eta_max, eta_min, **kw)

    return [(f"UBA, phi = {phi:g}", uba_curve(phi)) for phi in phis] + [
        (name, peer_curve(name)) for name in peers
    ]


def _phis(phis: Sequence[float]) -> list[float]:
    return [positive(f"phis[{i}]", phi) for i, phi in enumerate(items("phis", phis))]


def plot_schedules(
    T: int,
    phis: Sequence[float] = DEFAULT_PHIS,
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
    T = budget(T)
    phis = _phis(phis)
    t = np.linspace(0, T, 801)
    curves = [(f"UBA, phi = {phi:g}", schedule(t, T, phi, eta_max, eta_min)) for phi in phis]
    reference = _peers.cosine(t, T, eta_max, eta_min) if cosine else None
    ax = _axes(ax)
    for label, values in curves:
        ax.plot(t, values, label=label)
    if reference is not None:
        ax.plot(t, reference, "k--", lw=1, label="cosine annealing")
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate")
    ax.set_title(f"UBA schedules, budget T = {T}")
    ax.set_xlim(0, T)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_peers(
    T: int,
    phis: Sequence[float] = DEFAULT_PHIS,
    peers: Sequence[str] = DEFAULT_PEERS,
    *,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    ax: Axes | None = None,
) -> Axes:
    r"""Plot UBA for several :math:`\varphi` against peer schedules, at
    the same budget, peak and floor.

    Args:
        T: the budget shared by every schedule (x axis from 0 to T).
        phis: UBA's shape parameters, one solid line each.
        peers: names from :data:`uba.peers.PEERS`, one dashed line each.
        eta_max, eta_min: the peak and floor of every schedule (peers
            without a floor, such as ``onecycle``, need ``eta_min = 0``).
        options: keyword arguments per peer, e.g.
            ``{"wsd": {"decay_steps": 100}}``.
        ax: the Axes to draw on; a new figure when None.

    Returns:
        The Axes drawn on, one line per schedule, labelled.

    Raises:
        ValueError: an unknown peer name, or a bad value for a schedule.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from uba.plotting import plot_peers
        >>> ax = plot_peers(1000, phis=(0.5, 4), peers=("cosine", "wsd", "rex"))
        >>> [line.get_label() for line in ax.get_lines()]
        ['UBA, phi = 0.5', 'UBA, phi = 4', 'cosine', 'wsd', 'rex']
    """
    T = budget(T)
    t = np.linspace(0, T, 801)
    curves = [(label, fn(t, T)) for label, fn in _curves(phis, peers, eta_max, eta_min, options)]
    ax = _axes(ax)
    for label, values in curves:
        uba_line = label.startswith("UBA")
        ax.plot(t, values, "-" if uba_line else "--", lw=1.6 if uba_line else 1.2, label=label)
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate")
    ax.set_title(f"UBA against peer schedules, budget T = {T}")
    ax.set_xlim(0, T)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_phi_vs_condition_number(
    kappas: Sequence[float] | None = None,
    *,
    T: int | None = None,
    sigma2: Sequence[float] = (0.0,),
    ax: Axes | None = None,
) -> Axes:
    r"""Plot the UBA shape :math:`\varphi` against the condition number
    :math:`\kappa`.

    Draws :math:`\varphi = 2\kappa` (``uba.theory.phi_from_condition_number``:
    UBA with :math:`\eta_{\max} = 1/\lambda_{\min}`,
    :math:`\eta_{\min} = 1/\lambda_{\max}` is then the Chebyshev min-max
    step-size sequence; derived in this project, not in the paper).  With a
    budget ``T``, also the numerically optimal :math:`\varphi` for the
    spectrum :math:`[1/\kappa, 1]` (``uba.theory.optimal_phi``), one
    series of markers per noise level in ``sigma2``.

    Args:
        kappas: condition numbers (each ``> 1``); default 12 values from
            2 to 1000, log-spaced.
        T: the budget for ``optimal_phi``; None draws only the line.
        sigma2: gradient-noise variances for ``optimal_phi``.
        ax: the Axes to draw on; a new figure when None.

    Returns:
        The Axes drawn on (log-log).

    Raises:
        ValueError: a condition number below 1 (from ``uba.theory``).
    """
    ks = (
        np.geomspace(2.0, 1000.0, 12).tolist()
        if kappas is None
        else [real(f"kappas[{i}]", k) for i, k in enumerate(items("kappas", kappas))]
    )
    noise = [
        real(f"sigma2[{i}]", s2, "a finite number >= 0", lambda v: v >= 0)
        for i, s2 in enumerate(items("sigma2", sigma2))
    ]
    phi = []
    for i, k in enumerate(ks):
        try:
            phi.append(theory.phi_from_condition_number(k))
        except ValueError as exc:  # the theory's range of kappa
            raise ValueError(f"kappas[{i}]: {exc}") from None
    T = None if T is None else budget(T)
    best = (
        []
        if T is None
        else [(s2, [theory.optimal_phi(T, 1.0 / k, 1.0, sigma2=s2) for k in ks]) for s2 in noise]
    )
    ax = _axes(ax)
    ax.plot(ks, phi, "k-", lw=1.4, label=r"$\varphi = 2\kappa$ (noise-free, Chebyshev)")
    for s2, values in best:
        ax.plot(ks, values, "o", ms=4, label=f"optimal phi, T = {T}, sigma2 = {s2:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"condition number $\kappa = \lambda_{\max} / \lambda_{\min}$")
    ax.set_ylabel(r"UBA shape $\varphi$")
    ax.set_title("UBA's phi from the curvature range")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return ax


def plot_bounds(
    budgets: Sequence[int] | None = None,
    *,
    phis: Sequence[float] = DEFAULT_PHIS,
    peers: Sequence[str] = DEFAULT_PEERS,
    bound: str = "nonconvex",
    L: float = 1.0,
    sigma2: float = 1e-2,
    f_gap: float = 1.0,
    dist2: float = 1.0,
    mu: float = 1e-2,
    eta_max: float | None = None,
    eta_min: float = 0.0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    ax: Axes | None = None,
) -> Axes:
    r"""Plot a convergence bound of several schedules against the budget.

    For each budget :math:`T` every schedule is sampled at
    :math:`t = 0, \dots, T-1` and put through the bound from
    :mod:`uba.theory` (``docs/theory.md`` section 2, standard bounds
    instantiated here):
    ``"nonconvex"`` (``bound_nonconvex(lrs, L=, sigma2=, f_gap=)``),
    ``"convex"`` (``bound_convex(lrs, L=, sigma2=, dist2=)``) or
    ``"strongly-convex"`` (``bound_strongly_convex(lrs, mu=, L=, sigma2=,
    f_gap=)``).

    Args:
        budgets: the budgets (x axis); default 13 values from 10 to 10 000,
            log-spaced.
        phis: UBA's shape parameters, one solid line each.
        peers: names from :data:`uba.peers.PEERS`, one dashed line each.
        bound: a key of :data:`BOUNDS`.
        L, sigma2, f_gap, dist2, mu: the problem constants (only those the
            bound takes are used).
        eta_max: the peak step of every schedule; default the largest the
            bound allows (``1/L``, or ``1/(2L)`` for ``"convex"``).
        eta_min: the floor of every schedule.  Default 0.
        options: keyword arguments per peer.
        ax: the Axes to draw on; a new figure when None.

    Returns:
        The Axes drawn on (log-log), one line per schedule.

    Raises:
        ValueError: an unknown bound or peer, or a schedule that breaks the
            bound's step-size condition (from ``uba.theory``).
    """
    if bound not in BOUNDS:
        raise ValueError(f"bound must be one of {', '.join(BOUNDS)}, got {bound!r}")
    fn, step_limit, needs = BOUNDS[bound]
    given = {"L": L, "sigma2": sigma2, "f_gap": f_gap, "dist2": dist2, "mu": mu}
    constants = {k: given[k] for k in needs}
    peak = step_limit / positive("L", L) if eta_max is None else eta_max
    Ts = (
        np.unique(np.geomspace(10, 10_000, 13).round().astype(np.int64)).tolist()
        if budgets is None
        else [budget(T, f"budgets[{i}]") for i, T in enumerate(items("budgets", budgets))]
    )
    # every value first: a schedule the bound refuses raises before a figure opens
    values = {
        label: [fn(lrs(np.arange(T, dtype=np.float64), int(T)), **constants) for T in Ts]
        for label, lrs in _curves(phis, peers, peak, eta_min, options)
    }
    ax = _axes(ax)
    for label, ys in values.items():
        ax.plot(Ts, ys, "-" if label.startswith("UBA") else "--", marker=".", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("budget T (steps)")
    ax.set_ylabel(f"{bound} bound")
    described = ", ".join(f"{k} = {v:g}" for k, v in constants.items())
    ax.set_title(f"{bound} bound, {described}, eta_max = {peak:g}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return ax


def plot_spectral_density(
    result: ProbeResult, *, width: float | None = None, ax: Axes | None = None
) -> Axes:
    r"""Plot the Hessian spectral density that :func:`uba.probe.suggest_phi`
    estimated, with the useful curvature range it chose.

    The curve is :meth:`uba.probe.ProbeResult.density` (each Ritz value
    smoothed by a Gaussian of standard deviation ``width``), on a log scale;
    the shaded band is ``[lam_min, lam_max]``, whose condition number and the
    suggested phi are in the title.

    Args:
        result: a :class:`uba.probe.ProbeResult`.
        width: the smoothing width; default 1% of the spread of the Ritz values.
        ax: the Axes to draw on; a new figure when None.

    Returns:
        The Axes drawn on.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from uba.probe import ProbeResult
        >>> from uba.plotting import plot_spectral_density
        >>> lams = np.geomspace(0.01, 1.0, 50)[None]  # a known spectrum as the one "run"
        >>> r = ProbeResult(phi=4.0, T=100, lr=1.0, eta_min=0.0, momentum=0.0, lam_min=0.1,
        ...                 lam_max=1.0, sigma2=1e-3, dist2=1.0, negative_share=0.0,
        ...                 mass=0.1, params=50, hvps=0, gradients=0, hessian_batches=0,
        ...                 nodes=lams, weights=np.full_like(lams, 1 / 50))
        >>> plot_spectral_density(r).get_title()
        'kappa = 10, sigma2 = 0.001: phi = 4 for T = 100'
    """
    ok = np.isfinite(result.nodes)
    lo, hi = float(result.nodes[ok].min()), float(result.nodes[ok].max())
    pad = 0.05 * (hi - lo) + 1e-12 * abs(hi)
    lams = np.linspace(lo - pad, hi + pad, 801)
    dens = result.density(lams, width=width)
    ax = _axes(ax)
    ax.plot(lams, dens, color="C0", label="estimated density (SLQ)")
    ax.axvspan(
        result.lam_min,
        result.lam_max,
        color="C1",
        alpha=0.15,
        label=f"useful range [{result.lam_min:.3g}, {result.lam_max:.3g}]",
    )
    ax.set_yscale("log")
    ax.set_ylim(max(float(dens.max()) * 1e-6, float(dens.min()) + 1e-300), float(dens.max()) * 3)
    ax.set_xlabel("curvature (Hessian eigenvalue)")
    ax.set_ylabel("density")
    ax.set_title(
        f"kappa = {result.kappa:.3g}, sigma2 = {result.sigma2:.3g}: "
        f"phi = {result.phi:.3g} for T = {result.T}"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax
