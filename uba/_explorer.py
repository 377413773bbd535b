"""The interactive schedule explorer behind :func:`uba.plotting.explore`.

Two layers, so that each can be tested on its own:

* :func:`explorer_data` turns the controls' values into what the explorer
  shows: the learning rate of UBA, cosine and the chosen peers at the drawn
  steps, and a table of the theory's numbers for each of those schedules
  (bounds (a)-(c) of ``docs/theory.md`` section 2 and the worst-case
  residual of section 3).  Plain NumPy and :mod:`uba.theory`: no widgets, no
  matplotlib.
* :class:`Explorer` puts ipywidgets controls in front of it and draws the
  result with matplotlib (a PNG in an ``Image`` widget, so the same code runs
  in JupyterLab, in classic Notebook, in VS Code and in a headless kernel).
"""

from __future__ import annotations

import base64
import html
import importlib
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from uba import peers as _peers
from uba._checks import integer, items, positive, real
from uba._schedule import schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_Array = npt.NDArray[np.float64]

#: The largest budget the explorer takes: it evaluates every step for the
#: bounds, on each change of a control.
MAX_T = 1_000_000

#: The problem constants of the bounds and of the curvature range, with the
#: defaults the explorer starts from (those of :func:`uba.plotting.plot_bounds`;
#: ``[mu, L]`` is the curvature range of the worst-case residual).
CONSTANTS: Mapping[str, float] = {"L": 1.0, "mu": 0.01, "sigma2": 0.01, "f_gap": 1.0, "dist2": 1.0}

#: The columns of the table: the bounds of :data:`uba.plotting.BOUNDS`, then
#: the worst-case residual over ``[mu, L]``.
COLUMNS = ("(a) nonconvex", "(b) convex", "(c) strongly convex", "worst case on [mu, L]")

_BOUND_COLUMNS = {
    "(a) nonconvex": "nonconvex",
    "(b) convex": "convex",
    "(c) strongly convex": "strongly-convex",
}

#: The peers drawn at the start (cosine is drawn as the reference).
DEFAULT_PEERS = ("cosine", "linear", "wsd")

#: One colour per peer, whichever are drawn (UBA is C0, cosine black).
_PEER_COLORS = {
    "cosine": "black",
    **{name: f"C{i % 9 + 1}" for i, name in enumerate(n for n in _peers.PEERS if n != "cosine")},
}


class ExplorerData(NamedTuple):
    """What the explorer shows for one setting of its controls."""

    t: _Array
    """The steps drawn (the x values), from 0 to T."""
    lines: dict[str, _Array]
    """Label -> learning rate at ``t``: UBA first, then each peer."""
    table: dict[str, dict[str, float | str]]
    """Label -> column of :data:`COLUMNS` -> the number, or, where the
    schedule breaks the condition of a bound, the reason (a str)."""


def _label(phi: float) -> str:
    return f"UBA, phi = {phi:.3g}"


def _with_warmup(
    name: str, t: _Array, T: int, eta_max: float, eta_min: float, warmup_steps: int
) -> _Array:
    """The peer ``name`` after the same linear warmup as UBA's: the ramp of
    :func:`uba.schedule` over the first ``warmup_steps`` steps, then the
    peer over the remaining ``T - warmup_steps`` (the convention of
    ``docs/schedule.md`` section 4, applied to every schedule alike).  A peer
    that starts below its peak has a warmup of its own (``onecycle``) and
    runs over the whole budget; a peer without a floor (``onecycle``,
    ``inverse_sqrt``, ``constant``) gets ``eta_min = 0``."""
    floor = eta_min if _peers.takes_eta_min(name) else 0.0
    own_warmup = float(_peers.evaluate(name, 0.0, T, eta_max, floor)) < eta_max
    if warmup_steps == 0 or own_warmup:
        return _peers.evaluate(name, t, T, eta_max, floor)
    ramp = t < warmup_steps
    out = np.empty_like(t)
    # the ramp does not depend on phi: UBA's own warmup, the one home of that rule
    out[ramp] = schedule(t[ramp], T, 1.0, eta_max, eta_min, warmup_steps=warmup_steps)
    out[~ramp] = _peers.evaluate(name, t[~ramp] - warmup_steps, T - warmup_steps, eta_max, floor)
    return out


def _numbers(lrs: _Array, constants: Mapping[str, float]) -> dict[str, float | str]:
    """The theory's numbers for one schedule's step sizes ``lrs``."""
    from uba import theory
    from uba.plotting import BOUNDS

    row: dict[str, float | str] = {}
    for column, key in _BOUND_COLUMNS.items():
        bound = BOUNDS[key]
        try:
            row[column] = bound.function(lrs, **{k: constants[k] for k in bound.constants})
        except ValueError as exc:  # the schedule breaks the bound's step-size condition
            row[column] = str(exc)
    row[COLUMNS[3]] = theory.worst_case_residual(lrs, constants["mu"], constants["L"])
    return row


def explorer_data(
    phi: float = 1.0,
    T: int = 1000,
    *,
    warmup_steps: int = 0,
    eta_max: float = 0.5,
    eta_min: float = 0.0,
    peers: Sequence[str] = DEFAULT_PEERS,
    L: float = CONSTANTS["L"],
    mu: float = CONSTANTS["mu"],
    sigma2: float = CONSTANTS["sigma2"],
    f_gap: float = CONSTANTS["f_gap"],
    dist2: float = CONSTANTS["dist2"],
    points: int = 801,
) -> ExplorerData:
    r"""What the explorer draws and tabulates for one setting of its controls.

    The lines are :func:`uba.schedule` (``phi``, ``eta_max``, ``eta_min``,
    ``warmup_steps``) and each peer of :mod:`uba.peers` at the same budget,
    peak and floor, after the same warmup (but for ``onecycle``, which has
    its own), at ``points`` steps from 0 to ``T``.  The table puts each schedule's step sizes
    :math:`\eta_0, \dots, \eta_{T-1}` through the bounds of
    :data:`uba.plotting.BOUNDS` with the constants given, and through
    :func:`uba.theory.worst_case_residual` over the curvature range
    ``[mu, L]``.

    Args:
        phi: UBA's shape, finite and ``> 0``.
        T: the budget, an integer in ``[1, 10**6]``.
        warmup_steps: linear warmup steps, ``0 <= warmup_steps < T``.
        eta_max, eta_min: the peak and the floor of every schedule.
        peers: names from :data:`uba.peers.PEERS`.
        L, mu, sigma2, f_gap, dist2: the problem constants of
            ``docs/theory.md`` section 2: smoothness, strong convexity
            (``0 < mu <= L``), gradient-noise variance, initial gap,
            squared initial distance.
        points: how many steps to draw, at least 2.

    Returns:
        An :class:`ExplorerData`.

    Raises:
        ValueError, TypeError: a value out of its range, naming it.

    Example:
        >>> from uba._explorer import explorer_data
        >>> data = explorer_data(2.0, 100, peers=("cosine",), points=3)
        >>> data.t.tolist(), data.lines["UBA, phi = 2"].round(6).tolist()
        ([0.0, 50.0, 100.0], [0.5, 0.25, 0.0])
        >>> data.table["UBA, phi = 2"]["(b) convex"] == data.table["cosine"]["(b) convex"]
        True
    """
    T = integer("T", T, 1, MAX_T, f"[1, {MAX_T}]")
    points = integer("points", points, 2, 100_000, "[2, 100000]")
    constants = {
        "L": positive("L", L),
        "mu": positive("mu", mu),
        "sigma2": real("sigma2", sigma2, "a finite number >= 0", lambda v: v >= 0),
        "f_gap": real("f_gap", f_gap, "a finite number >= 0", lambda v: v >= 0),
        "dist2": real("dist2", dist2, "a finite number >= 0", lambda v: v >= 0),
    }
    if constants["mu"] > constants["L"]:
        raise ValueError(f"mu must be <= L (a curvature range [mu, L]), got mu = {mu!r}, L = {L!r}")
    names = items("peers", peers)
    for i, name in enumerate(names):
        try:
            _peers.get(name)
        except ValueError as exc:
            raise ValueError(f"peers[{i}]: {exc}") from None

    t = np.linspace(0.0, T, points)
    steps = np.arange(T, dtype=np.float64)
    # UBA first: uba.schedule checks phi, the levels and the warmup, naming them
    uba_lines = schedule(t, T, phi, eta_max, eta_min, warmup_steps=warmup_steps)
    uba_label = _label(float(phi))
    lines = {uba_label: uba_lines}
    lrs = {uba_label: schedule(steps, T, phi, eta_max, eta_min, warmup_steps=warmup_steps)}
    W = int(warmup_steps)
    for name in dict.fromkeys(names):  # each once, in the order given
        lines[name] = _with_warmup(name, t, T, eta_max, eta_min, W)
        lrs[name] = _with_warmup(name, steps, T, eta_max, eta_min, W)
    table = {label: _numbers(values, constants) for label, values in lrs.items()}
    return ExplorerData(t, lines, table)


# ---- the widget ------------------------------------------------------------------


def _needed(module: str) -> Any:
    """``module`` imported, or an ImportError that names the extra to install."""
    try:
        # by name: ipywidgets ships no type information for mypy to read
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise ImportError(
            f"uba.plotting.explore needs {package}: pip install 'uba[notebook]'"
        ) from exc


def _format(value: float | str) -> str:
    if isinstance(value, str):
        return f'<span title="{html.escape(value)}">refused</span>'
    return f"{value:.3g}"


#: What each column of the table is (the headers' tooltips).
_MEANINGS = {
    "(a) nonconvex": "bound (a) on min_t E|grad f(x_t)|^2, f L-smooth (docs/theory.md section 2)",
    "(b) convex": "bound (b) on E f(x_avg) - f*, x_avg the step-weighted average iterate,"
    " f convex and L-smooth",
    "(c) strongly convex": "bound (c) on E f(x_T) - f*, f mu-strongly convex and L-smooth",
    "worst case on [mu, L]": (
        "max over curvatures in [mu, L] of |prod(1 - eta_t lam)|: the error left by gradient"
        " descent on a quadratic (docs/theory.md section 3)"
    ),
}

# Inline styles: a notebook's HTML output keeps them, whatever the front end's CSS.
_CELL = "padding: 2px 10px; text-align: right; font-variant-numeric: tabular-nums"
_HEAD = "padding: 2px 10px; text-align: right; border-bottom: 1px solid #999"


def table_html(data: ExplorerData) -> str:
    """The table of :class:`ExplorerData` as HTML: one row per schedule (UBA
    first, shaded), the smallest number of each column in bold; a refused
    bound shows "refused", with the reason in its tooltip and below the
    table; each header's tooltip says what the column is."""
    best = {}
    for column in COLUMNS:
        values = [row[column] for row in data.table.values()]
        numbers = [v for v in values if not isinstance(v, str)]
        best[column] = min(numbers) if numbers else None
    head = "".join(
        f'<th style="{_HEAD}" title="{html.escape(_MEANINGS[c])}">{html.escape(c)}</th>'
        for c in COLUMNS
    )
    rows = []
    for label, row in data.table.items():
        cells = []
        for column in COLUMNS:
            text = _format(row[column])
            if row[column] == best[column]:
                text = f"<b>{text}</b>"
            cells.append(f'<td style="{_CELL}">{text}</td>')
        shade = ' style="background: rgba(31, 119, 180, 0.12)"' if label.startswith("UBA") else ""
        name = f'<td style="padding: 2px 10px; text-align: left">{html.escape(label)}</td>'
        rows.append(f"<tr{shade}>{name}{''.join(cells)}</tr>")
    reasons = sorted({v for row in data.table.values() for v in row.values() if isinstance(v, str)})
    notes = "".join(f"<li>refused: {html.escape(r)}</li>" for r in reasons)
    return (
        '<div style="font-size: 13px">'
        "<div>The theory's numbers for each schedule's steps (smaller is better; bold: the"
        " smallest of the column; hover over a header for its meaning):</div>"
        '<table style="border-collapse: collapse; margin-top: 4px">'
        f'<thead><tr><th style="{_HEAD}; text-align: left">schedule</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        + (f'<ul style="font-size: smaller">{notes}</ul>' if notes else "")
        + "</div>"
    )


class Explorer:
    """Sliders for UBA's settings, the schedules they give and the theory's
    numbers for them; built by :func:`uba.plotting.explore`.

    Attributes:
        controls: the widgets by name: ``phi``, ``T``, ``warmup_steps``,
            ``eta_max``, ``eta_min``, ``peers`` (a dict of checkboxes, one
            per peer) and the constants ``L``, ``mu``, ``sigma2``,
            ``f_gap``, ``dist2``.  Setting a value redraws.
        data: the :class:`ExplorerData` drawn last.
        figure, ax: the matplotlib Figure and Axes of the schedules.
        widget: the whole explorer, an ipywidgets box (what a notebook shows).
    """

    def __init__(
        self,
        *,
        phi: float = 1.0,
        T: int = 1000,
        warmup_steps: int = 0,
        eta_max: float = 0.5,
        eta_min: float = 0.0,
        peers: Sequence[str] = DEFAULT_PEERS,
        constants: Mapping[str, float] | None = None,
    ) -> None:
        w = _needed("ipywidgets")
        new_figure = _needed("matplotlib.figure").Figure

        unknown = sorted(set(constants or {}) - set(CONSTANTS))
        if unknown:
            raise ValueError(
                f"constants has no {', '.join(unknown)}; its names are {', '.join(CONSTANTS)}"
            )
        given: dict[str, Any] = {**CONSTANTS, **(constants or {})}
        # every value through the pure function once: bad arguments raise here
        explorer_data(
            phi,
            T,
            warmup_steps=warmup_steps,
            eta_max=eta_max,
            eta_min=eta_min,
            peers=peers,
            **given,
        )
        wide = {"description_width": "80px"}
        box = w.Layout(width="330px")

        def log_slider(value: float, low: int, high: int, description: str) -> Any:
            # powers of ten from low to high, widened to hold the value
            exponent = float(np.log10(value))
            return w.FloatLogSlider(
                value=value,
                base=10,
                min=min(low, int(np.floor(exponent))),
                max=max(high, int(np.ceil(exponent))),
                step=0.01,
                description=description,
                readout_format=".3g",
                style=wide,
                layout=box,
            )

        self.controls: dict[str, Any] = {
            "phi": log_slider(phi, -2, 2, "phi"),
            "T": w.IntSlider(
                value=T,
                min=min(10, T),
                max=max(20_000, T),
                step=10,
                description="T (steps)",
                style=wide,
                layout=box,
            ),
            "warmup_steps": w.IntSlider(
                value=warmup_steps,
                min=0,
                max=T - 1,
                description="warmup",
                style=wide,
                layout=box,
            ),
            "eta_max": log_slider(eta_max, -4, 1, "peak lr"),
            "eta_min": w.FloatSlider(
                value=eta_min,
                min=0.0,
                max=eta_max,
                step=eta_max / 100,
                description="eta_min",
                readout_format=".3g",
                style=wide,
                layout=box,
            ),
        }
        for name, value in given.items():
            self.controls[name] = w.BoundedFloatText(
                value=value,
                min=0.0,
                max=1e12,
                description=name,
                style=wide,
                layout=w.Layout(width="160px"),
            )
        self.controls["peers"] = {
            name: w.Checkbox(
                value=name in peers, description=name, indent=False, layout=w.Layout(width="105px")
            )
            for name in _peers.PEERS
        }
        for control in self._widgets():
            control.continuous_update = False
            control.observe(self._changed, names="value")

        self.figure: Figure = new_figure(figsize=(7.2, 4.0), dpi=100, layout="constrained")
        self.ax: Axes = self.figure.subplots()
        self._image = w.Image(format="png", layout=w.Layout(width="720px"))
        self._table = w.HTML()
        self._error = w.HTML()
        constants_box = w.GridBox(
            [self.controls[k] for k in CONSTANTS],
            layout=w.Layout(grid_template_columns="repeat(2, 165px)"),
        )
        peers_box = w.GridBox(
            list(self.controls["peers"].values()),
            layout=w.Layout(grid_template_columns="repeat(3, 108px)"),
        )
        left = w.VBox(
            [
                *(self.controls[k] for k in ("phi", "T", "warmup_steps", "eta_max", "eta_min")),
                w.HTML("<b>peers</b> (UBA is the thick line)"),
                peers_box,
                w.HTML("<b>constants</b> of the bounds; curvature range [mu, L]"),
                constants_box,
            ],
            layout=w.Layout(width="345px"),
        )
        self.widget = w.VBox(
            [w.HBox([left, w.VBox([self._image, self._error])]), self._table],
        )
        self.data = explorer_data(**self.values())
        self._draw()

    def _widgets(self) -> list[Any]:
        """Every control widget, the peers' checkboxes included."""
        return [v for k, v in self.controls.items() if k != "peers"] + list(
            self.controls["peers"].values()
        )

    def values(self) -> dict[str, Any]:
        """The controls' values, as :func:`explorer_data` takes them."""
        c = self.controls
        return {
            "phi": c["phi"].value,
            "T": c["T"].value,
            "warmup_steps": c["warmup_steps"].value,
            "eta_max": c["eta_max"].value,
            "eta_min": c["eta_min"].value,
            "peers": [name for name, box in c["peers"].items() if box.value],
            **{k: c[k].value for k in CONSTANTS},
        }

    def _changed(self, change: Mapping[str, Any]) -> None:
        c = self.controls
        # keep the dependent ranges valid: warmup < T, eta_min <= peak
        c["warmup_steps"].max = c["T"].value - 1
        c["eta_min"].max = c["eta_max"].value
        c["eta_min"].step = c["eta_max"].value / 100
        self.update()

    def update(self) -> None:
        """Recompute from the controls' values and redraw; a value the
        library refuses shows its message instead of a new figure."""
        try:
            data = explorer_data(**self.values())
        except ValueError as exc:
            self._error.value = f'<span style="color: #b00">{html.escape(str(exc))}</span>'
            return
        self._error.value = ""
        self.data = data
        self._draw()

    def _draw(self) -> None:
        data, ax = self.data, self.ax
        ax.clear()
        for label, values in data.lines.items():
            if label.startswith("UBA"):
                ax.plot(data.t, values, color="C0", lw=2.6, label=label, zorder=3)
            else:
                ax.plot(data.t, values, "--", color=_PEER_COLORS[label], lw=1.3, label=label)
        T = int(data.t[-1])
        ax.set_xlim(0, T)
        ax.set_xlabel("step t")
        ax.set_ylabel("learning rate")
        uba_label = next(iter(data.lines))
        ax.set_title(f"{uba_label} and its peers, budget T = {T}")
        ax.grid(alpha=0.3)
        # beside the axes: inside, it would hide the curves' plateaus
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        self._image.value = _png(self.figure)
        self._table.value = table_html(data)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # the widget where a front end renders widgets, else the figure as a picture
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["image/png"] = base64.b64encode(_png(self.figure)).decode("ascii")
        bundle["text/plain"] = f"uba explorer: {', '.join(self.data.lines)}"
        return bundle


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
