"""Plots of UBA schedules, their peers and their theory.

matplotlib is imported inside each function; ``import uba`` imports
neither this module nor matplotlib.  Install the ``plot`` extra (``pip install uba[plot]``) to use
it.  Every function draws on the Axes it is given (a new figure when
``ax`` is None) and returns that Axes; ``ax.figure`` is its figure.  No
function shows a window: call ``plt.show()``, or :func:`save_figure`, which
writes the image whole or not at all.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from uba import _io, theory
from uba import peers as _peers
from uba._checks import budget, items, real
from uba._curves import DEFAULT_PHIS, curves, phis_of, sample
from uba._schedule import schedule
from uba.theory import BOUNDS as BOUNDS  # its home is uba.theory; kept here by name
from uba.theory import Bound as Bound

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "explore",
    "figure_of",
    "plot_bounds",
    "plot_peers",
    "plot_phi_vs_condition_number",
    "plot_schedules",
    "plot_spectral_density",
    "save_figure",
]

DEFAULT_PEERS = ("cosine", "linear", "wsd", "rex")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("uba.plotting needs matplotlib: pip install 'uba[plot]'") from exc
    return plt


def figure_of(ax: Axes | Figure) -> Figure:
    """The top-level Figure that ``ax`` is drawn in (to save or close it);
    a Figure is its own."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if not isinstance(ax, (Axes, Figure)):
        raise TypeError(f"ax must be a matplotlib Axes or Figure, got {type(ax).__name__}")
    fig = ax if isinstance(ax, Figure) else ax.figure
    return fig if isinstance(fig, Figure) else fig.figure


def save_figure(ax: Axes | Figure, path: str | os.PathLike[str], **savefig: Any) -> None:
    """Save the figure of ``ax`` (an Axes or a Figure) to ``path``, safely.

    ``fig.savefig(path, **savefig)``, with two differences: the image goes to
    a temporary file beside ``path`` that then replaces it, so an error,
    Ctrl-C or a full disk while writing leaves the old file intact (and no
    temporary behind); and ``path`` is written exactly as named, its format
    given by its extension (``.png``, ``.pdf``, ``.svg``, ...; any case) or
    by ``format=``.  A name without a known extension is refused, where
    ``savefig`` would add ``.png`` and write another file.

    Args:
        ax: the Axes (any of the figure's) or the Figure to save.
        path: the file to write; an existing one is replaced and keeps its
            permissions.
        **savefig: passed on to :meth:`matplotlib.figure.Figure.savefig`
            (``dpi``, ``bbox_inches``, ``format``, ...).

    Raises:
        ValueError: ``path`` has no known image extension (and no
            ``format=``).
        OSError: ``path`` cannot be written (a missing folder, a folder by
            that name, no permission, a full disk); it names ``path``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from uba.plotting import plot_schedules, save_figure
        >>> path = Path(tempfile.mkdtemp()) / "uba.png"
        >>> save_figure(plot_schedules(1000), path, dpi=50)
        >>> path.read_bytes()[:4]
        b'\\x89PNG'
    """
    _io.save_figure(figure_of(ax), path, **savefig)


def _label(key: float | str) -> str:
    """A line's legend: UBA by its phi, a peer by its name."""
    return f"UBA, phi = {key:g}" if isinstance(key, float) else key


def _axes(ax: Axes | None, figsize: tuple[float, float] = (7, 4.2)) -> Axes:
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
        return ax
    new: Axes = _pyplot().subplots(figsize=figsize)[1]
    return new


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
    phis = phis_of(phis)
    if not phis and not cosine:
        raise ValueError("phis is empty and cosine is False: nothing to show")
    t = np.linspace(0, T, 801)
    lines = [(_label(phi), schedule(t, T, phi, eta_max, eta_min)) for phi in phis]
    reference = _peers.cosine(t, T, eta_max, eta_min) if cosine else None
    ax = _axes(ax)
    for label, values in lines:
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
    lines = [(key, lrs(t, T)) for key, lrs in curves(phis, peers, eta_max, eta_min, options)]
    ax = _axes(ax)
    for key, values in lines:
        style, width = ("-", 1.6) if isinstance(key, float) else ("--", 1.2)
        ax.plot(t, values, style, lw=width, label=_label(key))
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate")
    ax.set_title(f"UBA against peer schedules, budget T = {T}")
    ax.set_xlim(0, T)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _chebyshev_optimal_phi(T: int, kappa: float, sigma2: float) -> float:
    """optimal_phi for the spectrum [1/kappa, 1] at the Chebyshev peak and
    floor (1/lam_min, 1/lam_max): the setting of the phi = 2 kappa line.  That
    peak is above the stability limit by design, so its warning is dropped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.StabilityWarning)
        return theory.optimal_phi(T, 1.0 / kappa, 1.0, sigma2=sigma2, eta_max=kappa, eta_min=1.0)


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
    spectrum :math:`[1/\kappa, 1]` (``uba.theory.optimal_phi`` at that
    peak and floor), one series of markers per noise level in ``sigma2``.

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
    if not ks:
        raise ValueError("kappas is empty: nothing to show")
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
        [] if T is None else [(s2, [_chebyshev_optimal_phi(T, k, s2) for k in ks]) for s2 in noise]
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
        bound: a key of :data:`uba.theory.BOUNDS`.
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
    if not isinstance(bound, str) or bound not in BOUNDS:
        raise ValueError(f"bound must be one of {', '.join(BOUNDS)}, got {bound!r}")
    fn, _, needs = BOUNDS[bound]
    given = {"L": L, "sigma2": sigma2, "f_gap": f_gap, "dist2": dist2, "mu": mu}
    constants = {k: given[k] for k in needs}
    peak = BOUNDS[bound].largest_step(L) if eta_max is None else eta_max
    Ts = (
        np.unique(np.geomspace(10, 10_000, 13).round().astype(np.int64)).tolist()
        if budgets is None
        else [budget(T, f"budgets[{i}]") for i, T in enumerate(items("budgets", budgets))]
    )
    if not Ts:
        raise ValueError("budgets is empty: nothing to show")
    # every value first: a schedule the bound refuses raises before a figure opens
    values = {
        key: [fn(sample(lrs, int(T)), **constants) for T in Ts]
        for key, lrs in curves(phis, peers, peak, eta_min, options)
    }
    ax = _axes(ax)
    for key, ys in values.items():
        ax.plot(Ts, ys, "-" if isinstance(key, float) else "--", marker=".", label=_label(key))
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
    lams: npt.ArrayLike,
    density: npt.ArrayLike,
    *,
    lam_min: float,
    lam_max: float,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    r"""Plot a Hessian spectral density, with a curvature range marked.

    Draws ``density`` against ``lams`` on a log scale (down to a millionth of
    its peak) and shades ``[lam_min, lam_max]``.  :meth:`uba.probe.ProbeResult.plot_density`
    draws the density that :func:`uba.probe.suggest_phi` estimated this way,
    with the useful curvature range it chose.

    Args:
        lams: the curvatures (x axis), a 1-D array-like of finite numbers.
        density: the density at each of ``lams``, finite and ``>= 0``, not
            all 0.
        lam_min, lam_max: the range to shade, finite, ``lam_min <= lam_max``.
        title: the Axes' title; default "Hessian spectral density".
        ax: the Axes to draw on; a new figure when None.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: ``lams`` and ``density`` are empty, not 1-D or of
            different lengths, or hold a value out of range.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from uba.plotting import plot_spectral_density
        >>> lams = np.linspace(0.0, 1.2, 200)
        >>> density = np.exp(-0.5 * ((lams - 0.5) / 0.2) ** 2)  # a known spectrum
        >>> ax = plot_spectral_density(lams, density, lam_min=0.1, lam_max=1.0)
        >>> ax.get_title(), ax.get_yscale()
        ('Hessian spectral density', 'log')
    """
    x = _curve_array("lams", lams)
    y = _curve_array("density", density, len(x))
    if (y < 0).any() or not (y > 0).any():
        raise ValueError("density must be >= 0 everywhere and > 0 somewhere")
    lo = real("lam_min", lam_min)
    hi = real("lam_max", lam_max, f"a finite number >= lam_min = {lo!r}", lambda v: v >= lo)
    top = float(y.max())
    ax = _axes(ax)
    ax.plot(x, y, color="C0", label="estimated density (SLQ)")
    ax.axvspan(lo, hi, color="C1", alpha=0.15, label=f"useful range [{lo:.3g}, {hi:.3g}]")
    ax.set_yscale("log")
    ax.set_ylim(max(top * 1e-6, float(y[y > 0].min())), top * 3)
    ax.set_xlabel("curvature (Hessian eigenvalue)")
    ax.set_ylabel("density")
    ax.set_title("Hessian spectral density" if title is None else title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _curve_array(
    name: str, values: npt.ArrayLike, length: int | None = None
) -> npt.NDArray[np.float64]:
    """A 1-D float64 array of finite numbers (of ``length``, if given)."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of real numbers") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if length is not None and arr.size != length:
        raise ValueError(f"{name} must have one value per curvature ({length}), got {arr.size}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} must be finite, got {name}[{bad[0]}] = {float(arr[bad[0]])!r}")
    return arr


# ---- interactive exploration (ipywidgets) ------------------------------------------


if TYPE_CHECKING:
    from uba._explorer import Explorer


def explore(
    phi: float = 1.0,
    T: int = 1000,
    *,
    warmup_steps: int = 0,
    eta_max: float = 0.5,
    eta_min: float = 0.0,
    peers: Sequence[str] = ("cosine", "linear", "wsd"),
    constants: Mapping[str, float] | None = None,
) -> Explorer:
    r"""Explore UBA in a notebook: sliders, the schedules, the theory's numbers.

    Sliders set :math:`\varphi` (log scale), the budget ``T``, the warmup,
    the peak lr and ``eta_min``; checkboxes overlay peer schedules of
    :mod:`uba.peers` (cosine is one of them), each at the same budget, peak
    and floor, after the same warmup.  Below the figure, a table gives each
    drawn schedule's bounds (a)-(c) of :data:`BOUNDS` and its worst-case
    residual (:func:`uba.theory.worst_case_residual`) over the curvature
    range ``[mu, L]``, the smallest of each column in bold; a bound whose
    step-size condition a schedule breaks (e.g. a peak above ``1/(2L)`` for
    (b)) says so.  The constants ``L``, ``mu``, ``sigma2``, ``f_gap`` and
    ``dist2`` are editable (defaults: 1, 0.01, 0.01, 1, 1).

    Needs ipywidgets and matplotlib: ``pip install 'uba[notebook]'``.

    Args:
        phi, T, warmup_steps, eta_max, eta_min: the controls' first values.
        peers: the peers checked at first, names from :data:`uba.peers.PEERS`.
        constants: first values of the bounds' constants, by name.

    Returns:
        The explorer; a notebook cell that ends with it shows it.  Its
        ``controls`` are the widgets by name (setting a value redraws), its
        ``data`` what it draws: ``data.lines`` (label -> learning rates at
        the steps ``data.t``) and ``data.table`` (label -> column -> number).

    Raises:
        ImportError: ipywidgets or matplotlib is missing, naming the pip command.
        ValueError: a first value out of its range.

    Example:
        >>> from uba.plotting import explore
        >>> explorer = explore(phi=0.5, T=200, peers=("cosine",))
        >>> explorer.controls["phi"].value = 4.0  # redraws, as a slider does
        >>> list(explorer.data.lines)
        ['UBA, phi = 4', 'cosine']
        >>> round(float(explorer.data.lines["UBA, phi = 4"][400]), 12)  # eta_max * 2/(phi + 2)
        0.166666666667
    """
    from uba._explorer import Explorer

    return Explorer(
        phi=phi,
        T=T,
        warmup_steps=warmup_steps,
        eta_max=eta_max,
        eta_min=eta_min,
        peers=peers,
        constants=constants,
    )
