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

from .nqm import NQM
from .protocol import RUNNERS, TASKS, Probe, Results, Tuning
from .schedules import DEFAULT_PHI, GIVEN_PHI, PEERS
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
    """A comparison as a table cell; bold where its interval excludes 0.  A
    difference that is the same on every seed (an exact metric) is one
    number, marked "exact"; one decimal, more below 1%."""
    if not math.isfinite(c.mean):
        return "n/a"
    if c.a == c.b:
        return "same schedule"
    largest = max(abs(c.mean), abs(c.lo), abs(c.hi))
    digits = 1 if largest >= 1 or largest == 0 else min(3, 1 - math.floor(math.log10(largest)))
    if c.lo == c.hi:
        text = f"{c.mean:+.{digits}f}% (exact)"
    else:
        text = f"{c.mean:+.{digits}f}% [{c.lo:+.{digits}f}, {c.hi:+.{digits}f}]"
    return f"**{text}**" if c.significant else text


def _fmt(mean: float, half: float) -> str:
    if not math.isfinite(mean):
        return "diverged"
    if half == 0:  # the same on every seed: an exact metric
        return f"{mean:.5g}"
    return f"{mean:.4g} ± {half:.2g}" if math.isfinite(half) else f"{mean:.4g}"


LABELS = {
    "uba_probe": "UBA, phi from probe",
    "uba_choose_phi": "UBA, phi from choose_phi",
    "uba_theory_phi": "UBA, phi from optimal_phi",
    "cosine": "cosine (= UBA phi 2)",
}
#: The short names of the GIVEN_PHI rows in the comparisons.
SHORT = {"uba_probe": "probe", "uba_choose_phi": "choose_phi", "uba_theory_phi": "optimal_phi"}


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
    rows.append(("UBA phi 1 (default) vs cosine", res.compare(task, T, DEFAULT_PHI, "cosine")))
    for name in GIVEN_PHI:
        if name in res.names(task):
            rows += [
                (f"{SHORT[name]} vs phi 1 (default)", res.compare(task, T, name, DEFAULT_PHI)),
                (f"{SHORT[name]} vs best tuned phi", res.compare(task, T, name, bu)),
                (f"{SHORT[name]} vs best other", res.compare(task, T, name, bo)),
            ]
    if {"uba_probe", "uba_choose_phi"} <= set(res.names(task)):
        rows.append(("probe vs choose_phi", res.compare(task, T, "uba_probe", "uba_choose_phi")))
    return rows


def _row(first: str, cells: list[str]) -> str:
    """A row of a Markdown table."""
    return f"| {first} | " + " | ".join(cells) + " |"


def _metric_cell(res: Results, task: str, name: str, T: int) -> str:
    """The test metric's mean and 95% half-interval; bold: the best mean at T."""
    mean, half = interval(res.values(task, name, T))
    best = min(np.mean(res.values(task, m, T)) for m in res.names(task))
    return f"**{_fmt(mean, half)}**" if mean == best else _fmt(mean, half)


def _at_limit(task: str, t: Tuning) -> bool:
    """Whether the chosen peak is the task's stability limit (the NQM's
    2/lam_max: a larger peak diverges there)."""
    return t.lr(t.best()) == getattr(RUNNERS[task], "stability_limit", None)


def _peak_cell(task: str, t: Tuning) -> str:
    """The chosen peak lr, with the grid tried (* = at an edge; "limit": the
    stability limit)."""
    edge = "" if t.interior() else " *"
    limit = " = limit" if _at_limit(task, t) else ""
    grid = f"{t.lr(min(t.scores)):.3g}-{t.lr(max(t.scores)):.3g}"
    return f"{t.lr(t.best()):.3g}{limit} ({grid}){edge}"


#: The columns of the headline table: (title, first, second); a callable
#: picks the schedule for (results, task, budget).
HEADLINE: list[tuple[str, Any, Any]] = [
    ("phi = 1 vs cosine", DEFAULT_PHI, "cosine"),
    ("best UBA phi vs best other", Results.best_uba, Results.best_other),
    ("choose_phi vs phi = 1", "uba_choose_phi", DEFAULT_PHI),
    ("probe vs phi = 1", "uba_probe", DEFAULT_PHI),
]


def headline(res: Results) -> list[str]:
    """The table the README and docs/study.md quote: a row per task and
    budget, the paired differences of HEADLINE ("-" where a task does not
    run the row; the best other schedule named)."""
    lines = [
        "| task, budget | " + " | ".join(title for title, _, _ in HEADLINE) + " |",
        "|---|" + "---|" * len(HEADLINE),
    ]
    for task in res.tasks():
        for T in res.budgets(task):
            cells = []
            for _, first, second in HEADLINE:
                a = first(res, task, T) if callable(first) else first
                b = second(res, task, T) if callable(second) else second
                if a not in res.names(task):
                    cells.append("-")
                    continue
                text = cell(res.compare(task, T, a, b))
                cells.append(f"{text} ({label(b)})" if callable(second) else text)
            lines.append(_row(f"{task}, {T}", cells))
    return lines


def summarise(res: Results, probes: list[Probe], header: list[str]) -> str:
    lines = ["# Budgeted training results", "", *header, ""]
    lines += [
        "## In short",
        "",
        "Paired differences on the test metric (first minus second, in % of the second; "
        "negative: the first is better; **bold**: the 95% interval excludes 0; exact: the "
        "same on every seed), from the tables below:",
        "",
        *headline(res),
        "",
    ]
    inside, total = res.all_interior()
    limited = [k for k, t in res.tunings.items() if hasattr(RUNNERS[k[0]], "stability_limit")]
    at_limit = sum(_at_limit(k[0], res.tunings[k]) for k in limited)
    lines += [
        f"Chosen peak lr interior to its tuning grid: {inside} of {total} "
        "(task, schedule, budget) cells"
        + (
            f"; on the noisy quadratics, {at_limit} of {len(limited)} chose the stability "
            "limit 2/lam_max (a larger peak diverges there)."
            if limited
            else "."
        ),
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
        limit = getattr(RUNNERS[task], "stability_limit", None)
        lines += [
            "",
            "Chosen peak lr (tuning grid tried, factor 2; * = at an edge"
            + (
                f"; limit: the stability limit 2/lam_max = {limit:g}, above which a run "
                "scores as diverged"
                if limit
                else ""
            )
            + "):",
            "",
            f"| schedule | {cols} |",
            sep,
        ]
        lines += [
            _row(label(n), [_peak_cell(task, res.tunings[(task, n, T)]) for T in budgets])
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
        lines += ["", *given_phis(res, task), ""]
    lines += probe_table(probes)
    return "\n".join(lines)


def given_phis(res: Results, task: str) -> list[str]:
    """A line per GIVEN_PHI row of the task: the phi it gave its evaluation
    runs at each budget (median over the seeds [min, max]) and how many of
    those answers were at an end of the range searched, or abstentions."""
    lines = []
    for name in GIVEN_PHI:
        if name not in res.names(task):
            continue
        cells = []
        for T in res.budgets(task):
            phis = res.phis[(task, name, T)]
            notes = res.phi_notes[(task, name, T)]
            text = f"T = {T}: {np.median(phis):.3g} [{min(phis):.3g}, {max(phis):.3g}]"
            counts = [f"{notes.count(n)} {n}" for n in ("phi-", "phi+", "abstained") if n in notes]
            cells.append(text + (f" ({', '.join(counts)} of {len(notes)})" if counts else ""))
        lines.append(f"- {label(name)}: " + "; ".join(cells))
    return [
        "phi each computed row gave its evaluation runs (median over the seeds [min, max]; "
        "phi- / phi+: at the lower / upper end of the range searched, the objective still "
        "falling beyond; abstained: the probe kept phi = 1):",
        "",
        *lines,
    ]


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
    lines += ["", "Cells: median over seeds [min, max]. " + " ".join(_nqm_truth(by_task)), ""]
    return lines


def _nqm_truth(by_task: dict[str, list[Probe]]) -> list[str]:
    """What the probe should have found on each NQM task it probed, by its
    own definitions applied to the true spectrum."""
    sentences = []
    for task in by_task:
        runner = RUNNERS[task]
        if not isinstance(runner, NQM):
            continue
        s = runner.spectrum
        lam2 = s.weights * s.eigenvalues**2
        sigma2 = float(np.sum(s.weights * s.noise) / np.sum(s.weights))  # tr(Sigma) / P
        dist2 = float(np.sum(lam2 * s.start) / np.sum(lam2))  # |grad f|^2 / tr(H^2)
        lam_min = uba.probe.lower_end(s.eigenvalues, s.weights, 0.1)
        sentences.append(
            f"On {task} the true values are lam_max = {s.eigenvalues.max():.3g}, "
            f"sigma2 = {sigma2:.3g}, noise = {sigma2 / dist2:.3g} and lam_min = {lam_min:.4g} "
            f"(the definition applied to the true spectrum; its smallest curvature is "
            f"{s.eigenvalues.min():.3g})."
        )
    return sentences


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
        ("UBA, phi from choose_phi", "C1", "v", lambda t, T: "uba_choose_phi"),
        ("best other", "C7", "^", lambda t, T: res.best_other(t, T)),
    ]
    for ax, task in zip(axes[0], tasks):
        budgets = res.budgets(task)
        ax.axhline(0, color="k", lw=0.8)
        for i, (name, color, marker, pick) in enumerate(lines):
            if pick(task, budgets[0]) not in res.names(task):
                continue  # a row this task does not run
            c = [res.compare(task, T, pick(task, T), "cosine") for T in budgets]
            x = np.array(budgets) * 1.06 ** (i - 2)  # side by side on the log axis
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
