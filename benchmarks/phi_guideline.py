"""Which phi: the experiments behind docs/theory.md's guideline on choosing phi.

Noisy quadratic models (docs/theory.md section 4) with power-law spectra,
scored by their exact expected final loss (uba.theory.expected_loss), phi
chosen by uba.theory.choose_phi:

  spectrum  lam_k = k^-alpha, k = 1..1000 (lam_max = 1, a bulk near zero),
            alpha in {1, 1.5, 2}
  noise     none; isotropic, v_k = 1e-3; Hessian-shaped, v_k = 1e-2 lam_k
  start     equal, E x_0^2 = 1; power-law, E x_0^2 = 1/k
  budget    T in {100, 1000, 10000}
  peak      the schedule's peak eta_max, from 1/64 to 2 (the stability limit
            2/lam_max)

Measured (every number in the report is computed here, deterministically):
  A. the main grid (54 models): at the peak 1/lam_max, the best phi, the
     phis within 1% of it, and the loss of phi = 1 against the best; with the
     peak tuned too, the best (peak, phi) against phi = 1 and cosine (phi = 2),
     each with its own tuned peak;
  B. sweeps on alpha = 1.5, equal start: the best phi at a fixed peak against
     the budget, the noise level and the peak.

    python benchmarks/phi_guideline.py            # a few minutes
    python benchmarks/phi_guideline.py --quick    # a smoke test (seconds)

Writes benchmarks/results/phi_guideline.md and phi_guideline.png (with
--quick, into benchmarks/results/quick/ unless --out is given).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
# Measure the checkout this file is in when its extension is built in place.
if any(p.suffix in (".so", ".pyd") for p in (HERE.parent / "uba").glob("_core*")):
    sys.path.insert(0, str(HERE.parent))

import uba  # noqa: E402
from uba import theory  # noqa: E402

D = 1000
ALPHAS = (1.0, 1.5, 2.0)
NOISES = ("none", "isotropic", "hessian")
STARTS = ("equal", "power-law")
BUDGETS = (100, 1000, 10000)
PEAKS = (1 / 64, 1 / 16, 1 / 4, 1.0, 2.0)  # times 1/lam_max = 1
LEVELS = {"isotropic": 1e-3, "hessian": 1e-2}  # the main grid's noise levels


def model(alpha: float, noise: str, start: str, level: float | None = None) -> dict[str, Any]:
    """The keyword arguments of expected_loss and choose_phi for one NQM."""
    k = np.arange(1, D + 1, dtype=np.float64)
    lam = k**-alpha
    v = LEVELS.get(noise, 0.0) if level is None else level
    noise_k: Any = {"none": 0.0, "isotropic": v, "hessian": v * lam}[noise]
    return {"eigenvalues": lam, "noise": noise_k, "start": 1.0 if start == "equal" else 1.0 / k}


def choose(T: int, spec: dict[str, Any], eta_max: float | None) -> tuple[Any, list[str]]:
    """choose_phi, and the ends it warned about ("phi-", "phi+", "peak+", ...)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", theory.BoundaryWarning)
        c = theory.choose_phi(T, **spec, eta_max=eta_max)
    del seen  # the ends are in c.ends
    ends = []
    for name, end in zip(("phi", "peak"), c.ends):
        if end:
            ends.append(f"{name}{'-' if end < 0 else '+'}")
    return c, ends


def loss_at(T: int, spec: dict[str, Any], phi: float, eta_max: float) -> float:
    lrs = uba.schedule(np.arange(T, dtype=np.float64), T, phi, eta_max)
    return theory.expected_loss(lrs, **spec)


def tuned_peak(T: int, spec: dict[str, Any], phi: float) -> tuple[float, float]:
    """(peak, loss): the best peak in (0, 2] for a fixed phi, by a half-octave
    scan of [2^-19, 2] (choose_phi's default range) and golden-section search
    between the neighbours of the best point."""
    logs = math.log(2.0) * (1.0 - np.arange(41) / 2.0)
    values = [loss_at(T, spec, phi, math.exp(v)) for v in logs]
    i = int(np.argmin(values))
    lo, hi = logs[min(i + 1, 40)], logs[max(i - 1, 0)]
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo + (1 - golden) * (hi - lo), lo + golden * (hi - lo)
    fa, fb = loss_at(T, spec, phi, math.exp(a)), loss_at(T, spec, phi, math.exp(b))
    for _ in range(30):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - golden) * (hi - lo)
            fa = loss_at(T, spec, phi, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = loss_at(T, spec, phi, math.exp(b))
    best = min((values[i], math.exp(logs[i])), (fa, math.exp(a)), (fb, math.exp(b)))
    return best[1], best[0]


@dataclass
class Row:
    """One model of the main grid."""

    id: str
    alpha: float
    noise: str
    start: str
    T: int
    phi_fixed: float  # best phi at the peak 1/lam_max
    flat: tuple[float, float]
    default_fixed: float  # L(phi = 1) / L(best phi), same peak
    ends_fixed: list[str]
    peak: float  # the tuned (peak, phi)
    phi_tuned: float
    ends_tuned: list[str]
    default_tuned: float  # L(phi = 1, its own tuned peak) / L*
    peak_default: float
    cosine_tuned: float  # L(phi = 2, its own tuned peak) / L*


def main_grid(budgets: tuple[int, ...], alphas: tuple[float, ...]) -> list[Row]:
    rows = []
    cases = itertools.product(alphas, NOISES, STARTS, budgets)
    for n, (alpha, noise, start, T) in enumerate(cases, 1):
        spec = model(alpha, noise, start)
        fixed, ends_fixed = choose(T, spec, 1.0)
        tuned, ends_tuned = choose(T, spec, None)
        peak1, loss1 = tuned_peak(T, spec, 1.0)
        _, loss2 = tuned_peak(T, spec, 2.0)
        best = min(tuned.loss, loss1, loss2)  # the tuned phi = 1 may be the best found
        rows.append(
            Row(
                f"A{n}",
                alpha,
                noise,
                start,
                T,
                fixed.phi,
                fixed.flat,
                fixed.loss_default / fixed.loss,
                ends_fixed,
                tuned.eta_max,
                tuned.phi,
                ends_tuned,
                loss1 / best,
                peak1,
                loss2 / best,
            )
        )
        print(
            f"{rows[-1].id} alpha={alpha} {noise:9s} {start:9s} T={T:5d}: fixed phi*="
            f"{fixed.phi:.3g} gain x{rows[-1].default_fixed:.3f}; tuned peak {tuned.eta_max:.3g} "
            f"phi {tuned.phi:.3g}, phi=1 x{rows[-1].default_tuned:.4f}, cosine "
            f"x{rows[-1].cosine_tuned:.4f}",
            flush=True,
        )
    return rows


@dataclass
class Sweep:
    id: str
    what: str  # "budget", "noise level", "peak"
    noise: str
    x: float
    phi: float
    flat: tuple[float, float]
    default: float  # L(phi = 1) / L(best), same peak
    ends: list[str]


def sweeps(quick: bool) -> list[Sweep]:
    out: list[Sweep] = []
    budgets = (100, 1000) if quick else (100, 300, 1000, 3000, 10000)
    levels = {
        "isotropic": (1e-4, 1e-2) if quick else (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
        "hessian": (1e-3, 1e-1) if quick else (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0),
    }
    peaks = (1 / 16, 1.0) if quick else PEAKS

    def add(what: str, noise: str, x: float, T: int, spec: dict[str, Any], peak: float) -> None:
        c, ends = choose(T, spec, peak)
        out.append(
            Sweep(f"S{len(out) + 1}", what, noise, x, c.phi, c.flat, c.loss_default / c.loss, ends)
        )
        print(f"{out[-1].id} {what} {noise} {x:g}: phi* {c.phi:.3g}", flush=True)

    for noise in NOISES:
        for T in budgets:
            add("budget", noise, T, T, model(1.5, noise, "equal"), 1.0)
    for noise, values in levels.items():
        for level in values:
            add("noise level", noise, level, 1000, model(1.5, noise, "equal", level), 1.0)
    for noise in NOISES:
        for peak in peaks:
            add("peak", noise, peak, 1000, model(1.5, noise, "equal"), peak)
    return out


# ---------------------------------------------------------------------------- report


def pct(ratio: float) -> str:
    return f"{(ratio - 1.0) * 100.0:+.1f}%"


def summary(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """Per group of models (all; by noise; the noisy ones): what phi = 1 costs
    at the peak 1/lam_max and with its own tuned peak, and what cosine costs
    with its own tuned peak."""
    groups = {
        "all": rows,
        "no noise": [r for r in rows if r.noise == "none"],
        "isotropic noise": [r for r in rows if r.noise == "isotropic"],
        "Hessian-shaped noise": [r for r in rows if r.noise == "hessian"],
        "noisy (both)": [r for r in rows if r.noise != "none"],
    }
    out = {}
    for name, group in groups.items():
        if not group:
            continue
        fixed = np.array([r.default_fixed for r in group])
        tuned = np.array([r.default_tuned for r in group])
        cosine = np.array([r.cosine_tuned for r in group])
        out[name] = {
            "n": len(group),
            "fixed": (float(np.median(fixed)), float(fixed.max())),
            "fixed within 2%": int(np.sum(fixed <= 1.02)),
            "fixed above 5%": int(np.sum(fixed > 1.05)),
            "tuned": (float(np.median(tuned)), float(tuned.max())),
            "tuned within 2%": int(np.sum(tuned <= 1.02)),
            "tuned within 5%": int(np.sum(tuned <= 1.05)),
            "cosine": (float(np.median(cosine)), float(cosine.max())),
            "tuned phi below 1": int(sum(r.phi_tuned < 1.0 for r in group)),
        }
    return out


def big(ratio: float) -> str:
    """A loss ratio as a change in per cent, or as a factor when large."""
    return pct(ratio) if ratio < 10.0 else f"x{ratio:.3g}"


def report(rows: list[Row], swept: list[Sweep], elapsed: float, figure: str) -> str:
    s = summary(rows)
    lines = [
        "# Which phi: measurements on noisy quadratic models",
        "",
        "Written by `python benchmarks/phi_guideline.py` (see its docstring): power-law",
        f"spectra lam_k = k^-alpha over {D} directions (lam_max = 1), noise none, isotropic",
        "(v = 1e-3) or Hessian-shaped (v = 1e-2 lam), start equal (1) or power-law (1/k),",
        "each scored by its exact expected final loss (`uba.theory.expected_loss`); the best",
        "phi from `uba.theory.choose_phi`, a peak tuned for a fixed phi by a half-octave scan",
        "of (0, 2] and golden-section search. Ratios are losses divided by the best loss",
        "(x1.05 = 5% worse). An end of a search range is marked (phi- / phi+: phi at the",
        "lower / upper end of [2^-10, 2^10]; peak+: the peak at the stability limit",
        "2/lam_max): there the loss still falls beyond the range.",
        "",
        f"![the best phi against peak, budget and noise; what phi = 1 costs]({figure})",
        "",
        "## Summary",
        "",
        "What phi = 1 costs against the best phi, at the peak 1/lam_max and with the peak",
        "tuned for each phi (and what cosine, phi = 2, costs with its own tuned peak):",
        "median and largest change of the loss, and in how many models it stays within",
        "2% or 5% (table A).",
        "",
        "| models | n | phi = 1 at 1/lam_max | within 2% | over 5% | phi = 1, tuned peak | "
        "within 2% | within 5% | cosine, tuned peak | best tuned phi < 1 |",
        "|---|---:|---|---:|---:|---|---:|---:|---|---:|",
    ]
    for name, g in s.items():
        lines.append(
            f"| {name} | {g['n']} | {pct(g['fixed'][0])} (at most {big(g['fixed'][1])}) | "
            f"{g['fixed within 2%']} | {g['fixed above 5%']} | {pct(g['tuned'][0])} (at most "
            f"{big(g['tuned'][1])}) | {g['tuned within 2%']} | {g['tuned within 5%']} | "
            f"{pct(g['cosine'][0])} (at most {big(g['cosine'][1])}) | {g['tuned phi below 1']} |"
        )
    lines += [
        "",
        "## A. The main grid",
        "",
        "At the peak 1/lam_max: the best phi, the phis within 1% of its loss, and the loss",
        "of phi = 1 against it. With the peak tuned too: the best peak and phi (choose_phi,",
        "eta_max=None), and phi = 1 and cosine each with its own tuned peak against the best.",
        "",
        "| id | alpha | noise | start | T | best phi at 1/lam_max | within 1% | phi = 1 | "
        "tuned peak | tuned phi | phi = 1, tuned | its peak | cosine, tuned |",
        "|---|---:|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        fixed_end = f" ({', '.join(r.ends_fixed)})" if r.ends_fixed else ""
        tuned_end = f" ({', '.join(r.ends_tuned)})" if r.ends_tuned else ""
        lines.append(
            f"| {r.id} | {r.alpha:g} | {r.noise} | {r.start} | {r.T} | {r.phi_fixed:.3g}"
            f"{fixed_end} | {r.flat[0]:.3g}..{r.flat[1]:.3g} | x{r.default_fixed:.3f} | "
            f"{r.peak:.3g} | {r.phi_tuned:.3g}{tuned_end} | x{r.default_tuned:.4f} | "
            f"{r.peak_default:.3g} | x{r.cosine_tuned:.4f} |"
        )
    lines += [
        "",
        "## B. How the best phi moves (alpha = 1.5, start equal)",
        "",
        "At a fixed peak: against the budget T (peak 1/lam_max), the noise level (T = 1000,",
        "peak 1/lam_max; isotropic v, or Hessian-shaped v lam) and the peak (T = 1000, the",
        "main grid's noise levels).",
        "",
        "| id | varied | noise | value | best phi | within 1% | phi = 1 |",
        "|---|---|---|---:|---:|---|---:|",
    ]
    for w in swept:
        end = f" ({', '.join(w.ends)})" if w.ends else ""
        lines.append(
            f"| {w.id} | {w.what} | {w.noise} | {w.x:g} | {w.phi:.3g}{end} | "
            f"{w.flat[0]:.3g}..{w.flat[1]:.3g} | x{w.default:.3f} |"
        )
    lines += ["", f"Run time: {elapsed:.0f} s.", ""]
    return "\n".join(lines)


def plot(rows: list[Row], swept: list[Sweep], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), constrained_layout=True)
    colours = {"none": "C0", "isotropic": "C1", "hessian": "C2"}
    for ax, what, xlabel in (
        (axes[0, 0], "peak", r"peak $\eta_{\max}\lambda_{\max}$ (T = 1000)"),
        (axes[0, 1], "budget", r"budget T (peak $1/\lambda_{\max}$)"),
        (axes[1, 0], "noise level", r"noise level v (T = 1000, peak $1/\lambda_{\max}$)"),
    ):
        for noise in NOISES:
            pts = [w for w in swept if w.what == what and w.noise == noise]
            if not pts:
                continue
            x = [w.x for w in pts]
            ax.plot(x, [w.phi for w in pts], "o-", color=colours[noise], label=f"noise {noise}")
            ax.fill_between(
                x,
                [w.flat[0] for w in pts],
                [w.flat[1] for w in pts],
                color=colours[noise],
                alpha=0.15,
                lw=0,
            )
        ax.axhline(1.0, color="k", ls=":", lw=1, label=r"default $\varphi = 1$")
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(r"best $\varphi$ (band: within 1% of its loss)")
        ax.legend(fontsize=8)
    axes[0, 0].set_title(r"the best $\varphi$ only means something for a given peak")
    axes[0, 1].set_title(r"... and moves with the budget")
    axes[1, 0].set_title(r"... and with the noise")
    # what phi = 1 costs, per noise: at the fixed peak (left of each pair) and
    # with the peak tuned for each phi (right); off-scale points on the top edge
    ax = axes[1, 1]
    top = 1000.0
    for g, noise in enumerate(NOISES):
        group = [r for r in rows if r.noise == noise]
        for side, key in ((0, "default_fixed"), (1, "default_tuned")):
            cost = np.array([100.0 * (getattr(r, key) - 1.0) for r in group])
            x = 3 * g + side + np.linspace(-0.15, 0.15, cost.size)
            shown = np.clip(cost, 0.01, top)
            ax.scatter(
                x,
                shown,
                s=14,
                color=colours[noise],
                marker="o" if side == 0 else "s",
                label=None if g else ("peak fixed at $1/\\lambda_{\\max}$", "peak tuned")[side],
            )
            over = cost > top
            ax.scatter(x[over], shown[over], s=40, color="k", marker="^")
    ax.axhline(5.0, color="k", ls=":", lw=1)
    ax.set_xticks([0.5, 3.5, 6.5], ["no noise\n(off scale: ^)", "isotropic", "Hessian-shaped"])
    ax.set_yscale("log")
    ax.set_ylim(0.01, 2 * top)
    ax.set_ylabel(r"loss of $\varphi = 1$ above the best $\varphi$, % (dotted: 5%)")
    ax.set_title(r"what $\varphi = 1$ costs: circles, peak fixed; squares, peak tuned")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small grid (a smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="the folder to write to")
    args = parser.parse_args(argv)
    out = args.out or (HERE / "results" / ("quick" if args.quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = main_grid((100,) if args.quick else BUDGETS, (1.5,) if args.quick else ALPHAS)
    swept = sweeps(args.quick)
    elapsed = time.perf_counter() - start
    figure = "phi_guideline.png"
    plot(rows, swept, out / figure)
    (out / "phi_guideline.md").write_text(report(rows, swept, elapsed, figure))
    print(f"wrote {out / 'phi_guideline.md'} and {figure} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
