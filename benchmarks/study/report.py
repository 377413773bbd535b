"""The study's report: summary.md (tables of test metrics, chosen peaks and
paired comparisons), the table of what the probe measured, the figure and the
CSV files.  Every file is written through `uba._io` (whole or not at all)."""

from __future__ import annotations

import csv
import io
import math
import sys
from collections import defaultdict
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

import uba.probe
from uba import _io

from .protocol import RUNNERS, TASKS, Probe, Results, Tuning
from .schedules import DEFAULT_PHI, PEERS
from .statistics import Comparison, interval


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8, LF line ends on every platform) to `path` whole or
    not at all, through uba's one atomic writer."""
    _io.write_bytes(path, text.encode("utf-8"))


def write_csv(path: Path, rows: list[Any]) -> None:
    """Dataclass rows as CSV, one column per field but `result`."""
    names = [f.name for f in fields(rows[0]) if f.name != "result"]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    write_text(path, text.getvalue())


def cell(c: Comparison) -> str:
    """A comparison as a table cell; bold where its interval excludes 0."""
    if not math.isfinite(c.mean):
        return "n/a"
    if c.a == c.b:
        return "same schedule"
    text = f"{c.mean:+.1f}% [{c.lo:+.1f}, {c.hi:+.1f}]"
    return f"**{text}**" if c.significant else text


def _fmt(mean: float, half: float) -> str:
    if not math.isfinite(mean):
        return "diverged"
    return f"{mean:.4g} ± {half:.2g}" if math.isfinite(half) else f"{mean:.4g}"


LABELS = {
    "uba_probe": "UBA, phi from probe",
    "uba_theory_phi": "UBA, phi from theory",
    "cosine": "cosine (= UBA phi 2)",
}


def label(name: str) -> str:
    return LABELS.get(name, name.replace("uba_phi=", "UBA phi "))


def comparisons(res: Results, task: str, T: int) -> list[tuple[str, Comparison]]:
    """The paired comparisons the summary reports, as (row label, comparison)."""
    bu, bo = res.best_uba(task, T), res.best_other(task, T)
    rows = [("best UBA phi vs best other", res.compare(task, T, bu, bo))]
    rows += [
        (f"best UBA phi vs {label(p)}", res.compare(task, T, bu, p))
        for p in ("cosine", *PEERS)
        if p in res.names(task)
    ]
    rows += [
        ("UBA phi 1 (default) vs cosine", res.compare(task, T, DEFAULT_PHI, "cosine")),
        ("probe vs best tuned phi", res.compare(task, T, "uba_probe", bu)),
        ("probe vs phi 1 (default)", res.compare(task, T, "uba_probe", DEFAULT_PHI)),
    ]
    if "uba_theory_phi" in res.names(task):
        rows += [
            ("theory phi vs best tuned phi", res.compare(task, T, "uba_theory_phi", bu)),
            ("theory phi vs best other", res.compare(task, T, "uba_theory_phi", bo)),
        ]
    return rows


def _row(first: str, cells: list[str]) -> str:
    """A row of a Markdown table."""
    return f"| {first} | " + " | ".join(cells) + " |"


def _metric_cell(res: Results, task: str, name: str, T: int) -> str:
    """The test metric's mean and 95% half-interval; bold: the best mean at T."""
    mean, half = interval(res.values(task, name, T))
    best = min(np.mean(res.values(task, m, T)) for m in res.names(task))
    return f"**{_fmt(mean, half)}**" if mean == best else _fmt(mean, half)


def _peak_cell(t: Tuning) -> str:
    """The chosen peak lr, with the grid tried (* = at an edge)."""
    edge = "" if t.interior() else " *"
    return f"{t.lr(t.best()):.3g} ({t.lr(min(t.scores)):.3g}-{t.lr(max(t.scores)):.3g}){edge}"


def summarise(res: Results, probes: list[Probe], header: list[str]) -> str:
    lines = ["# Budgeted training results", "", *header, ""]
    inside, total = res.all_interior()
    lines += [
        f"Chosen peak lr interior to its tuning grid: {inside} of {total} "
        "(task, schedule, budget) cells.",
        "",
    ]
    for task in res.tasks():
        budgets = res.budgets(task)
        cols = " | ".join(f"T = {T}" for T in budgets)
        sep = "|---|" + "---|" * len(budgets)
        lines += [
            f"## {task}: {TASKS[task].metric}",
            "",
            "Test metric, mean ± 95% half-interval over the evaluation seeds (lower is "
            "better; **bold**: best mean).",
            "",
            f"| schedule | {cols} |",
            sep,
        ]
        lines += [
            _row(label(n), [_metric_cell(res, task, n, T) for T in budgets])
            for n in res.names(task)
        ]
        lines += [
            "",
            "Chosen peak lr (tuning grid tried, factor 2; * = at an edge):",
            "",
            f"| schedule | {cols} |",
            sep,
        ]
        lines += [
            _row(label(n), [_peak_cell(res.tunings[(task, n, T)]) for T in budgets])
            for n in res.names(task)
        ]
        lines += [
            "",
            "Paired differences on the test metric, first minus second, in % of the "
            "second's mean, with 95% intervals; negative: the first is better; **bold**: "
            "the interval excludes 0. Best UBA phi and best other are chosen on "
            "validation:",
            "",
            f"| comparison | {cols} |",
            sep,
        ]
        names = {T: (label(res.best_uba(task, T)), label(res.best_other(task, T))) for T in budgets}
        lines.append(_row("(best UBA phi; best other)", [f"{a}; {b}" for a, b in names.values()]))
        table = {T: comparisons(res, task, T) for T in budgets}
        for i, (row, _) in enumerate(table[budgets[0]]):
            lines.append(_row(row, [cell(table[T][i][1]) for T in budgets]))
        phis = [(T, res.phis[(task, "uba_probe", T)]) for T in budgets]
        lines += [
            "",
            "phi the probe chose (median over the evaluation seeds, [min, max]): "
            + "; ".join(
                f"T = {T}: {np.median(p):.3g} [{min(p):.3g}, {max(p):.3g}]" for T, p in phis
            ),
            "",
        ]
    lines += probe_table(probes)
    return "\n".join(lines)


def probe_table(probes: list[Probe]) -> list[str]:
    if not probes:
        return []
    lines = [
        "## What the probe measured",
        "",
        "On each seed's initial model (uba.probe.suggest_phi defaults: 3 Lanczos runs of 20 "
        "Hessian-vector products on 4 batches, 16 batches for the noise). noise = "
        "sigma2 / dist2 is the noisy quadratic's sigma2.",
        "",
        "| task | seeds | lam_min | lam_max | kappa | sigma2 | noise | negative share "
        "| HVPs | CPU s per probe |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_task = defaultdict(list)
    for p in probes:
        by_task[p.task].append(p)

    def span(ps: list[Probe], attr: str) -> str:
        v = [getattr(p, attr) for p in ps]
        return f"{np.median(v):.3g} [{min(v):.3g}, {max(v):.3g}]"

    for task, ps in by_task.items():
        lines.append(
            f"| {task} | {len(ps)} | "
            + " | ".join(
                span(ps, a)
                for a in ("lam_min", "lam_max", "kappa", "sigma2", "noise", "negative_share")
            )
            + f" | {ps[0].hvps} | "
            + f"{np.mean([p.cpu_seconds for p in ps]):.1f} |"
        )
    nqm = RUNNERS["nqm"].spectrum
    lines += [
        "",
        "Cells: median over seeds [min, max]. On the NQM the true values are "
        "lam_max = 1, sigma2 = 1e-3, noise = 1e-3 and lam_min = "
        f"{uba.probe.lower_end(nqm.eigenvalues, nqm.weights, 0.1):.4g} "
        "(the definition applied to the true spectrum; its smallest curvature is 0.01).",
        "",
    ]
    return lines


# ---- the figure -------------------------------------------------------------------------


def plot(res: Results, path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = res.tasks()
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 4.0), squeeze=False)
    lines = [
        ("best UBA phi", "C0", "o", lambda t, T: res.best_uba(t, T)),
        ("UBA phi 1 (default)", "C2", "s", lambda t, T: DEFAULT_PHI),
        ("UBA, phi from probe", "C3", "D", lambda t, T: "uba_probe"),
        ("best other", "C7", "^", lambda t, T: res.best_other(t, T)),
    ]
    for ax, task in zip(axes[0], tasks):
        budgets = res.budgets(task)
        ax.axhline(0, color="k", lw=0.8)
        for i, (name, color, marker, pick) in enumerate(lines):
            c = [res.compare(task, T, pick(task, T), "cosine") for T in budgets]
            x = np.array(budgets) * 1.06 ** (i - 1.5)  # side by side on the log axis
            y = np.array([v.mean for v in c])
            err = np.array([[v.mean - v.lo for v in c], [v.hi - v.mean for v in c]])
            ax.errorbar(
                x, y, yerr=err, color=color, marker=marker, ms=4, capsize=2, lw=1.2, label=name
            )
        ax.set_xscale("log")
        ax.set_xticks(budgets, [str(T) for T in budgets])
        ax.minorticks_off()
        ax.set_xlabel("budget T (steps)")
        ax.set_title(task)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test metric vs cosine, % (paired, 95% CI)\nbelow 0: better than cosine")
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def save_figure(fig: Any, path: Path) -> None:
    """A matplotlib figure as PNG at `path`."""
    _io.save_figure(fig, path, dpi=110)
