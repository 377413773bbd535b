"""Budgeted training: UBA against the schedules people use, on CPU-sized tasks.

Tasks (all data ships with Python or scikit-learn; nothing is downloaded):
  digits   a small CNN on scikit-learn's digits (8x8 images), SGD + momentum,
           fixed 1297/500 train/test split; metric: test cross-entropy.
  chars    a byte-level transformer language model trained on a fixed list of
           standard-library source files, AdamW with warmup; metric:
           held-out bits per byte on other standard-library files.
  nqm      the noisy quadratic model of docs/theory.md section 4 (exact expectations):
           the theory-chosen phi (uba.theory.optimal_phi) against the best phi
           found by simulation, and every schedule at its tuned peak.

Protocol: three budgets per task (10%, 30%, 100% of a full run); the peak
learning rate of every schedule is tuned on a small grid at the middle budget
(seed 0), then held for all budgets and seeds; mean and standard deviation
over the seeds are reported.

    python benchmarks/budgeted_training.py            # the full run (~15-25 min, 2 cores)
    python benchmarks/budgeted_training.py --quick    # smoke test (< 2 min)

Writes benchmarks/results/{runs.csv, summary.md, budgeted_training.png}
(with --quick, into benchmarks/results/quick/ unless --out is given).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import sysconfig
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import uba

UBA_PHIS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
PEERS = ("cosine", "linear", "step", "wsd", "rex", "onecycle", "constant")


# ---- schedules as torch schedulers --------------------------------------------


def schedule_names() -> list[str]:
    return [f"uba_phi={phi:g}" for phi in UBA_PHIS] + list(PEERS)


def build_scheduler(name: str, opt, T: int, warmup: int):
    """The named schedule over T steps as a torch LRScheduler on `opt`.

    UBA is uba.UBALR, cosine is torch's CosineAnnealingLR; the rest are
    torch's own classes where one exists (LinearLR, MultiStepLR, OneCycleLR)
    and LambdaLR otherwise (WSD: flat, then linear decay to 0 over the last
    20%; REX: (1 - z) / (1 - z/2), z = t/T; constant).  With warmup W > 0,
    every schedule but OneCycle (which warms up by itself, over the same W
    steps) runs after the same linear warmup, inside SequentialLR.
    """
    import torch
    from torch.optim import lr_scheduler as S

    def main(steps: int):
        if name.startswith("uba_phi="):
            return uba.UBALR(opt, steps, phi=float(name.split("=")[1]))
        if name == "cosine":
            return S.CosineAnnealingLR(opt, steps)
        if name == "linear":
            return S.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=steps)
        if name == "step":
            return S.MultiStepLR(opt, milestones=[steps // 2, (3 * steps) // 4], gamma=0.1)
        if name == "wsd":
            decay_from = 0.8 * steps
            return S.LambdaLR(opt, lambda t: min(1.0, max(0.0, (steps - t) / (steps - decay_from))))
        if name == "rex":
            return S.LambdaLR(opt, lambda t: max(0.0, (1 - t / steps) / (1 - t / (2 * steps))))
        if name == "constant":
            return S.LambdaLR(opt, lambda t: 1.0)
        raise ValueError(f"unknown schedule {name!r}")

    if name == "onecycle":
        peak = opt.param_groups[0]["lr"]
        pct = warmup / T if warmup > 0 else 0.25
        return S.OneCycleLR(opt, max_lr=peak, total_steps=T + 1, pct_start=pct,
                            anneal_strategy="cos", cycle_momentum=False)
    if warmup == 0:
        return main(T)
    ramp = S.LinearLR(opt, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup)
    return S.SequentialLR(opt, [ramp, main(T - warmup)], milestones=[warmup])


# ---- tasks ------------------------------------------------------------------------


@dataclass
class Run:
    task: str
    schedule: str
    budget: int
    seed: int
    peak_lr: float
    metric: float
    seconds: float = 0.0
    phase: str = "main"


def _digits_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(12345).permutation(len(y))  # the fixed split
    test, train = order[:500], order[500:]
    return x[train], y[train], x[test], y[test]


def run_digits(schedule: str, T: int, seed: int, peak_lr: float) -> float:
    import torch
    from torch import nn

    xtr, ytr, xte, yte = (torch.from_numpy(a) for a in _digits_data())
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    opt = torch.optim.SGD(model.parameters(), lr=peak_lr, momentum=0.9, weight_decay=5e-4)
    sched = build_scheduler(schedule, opt, T, warmup=0)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(T):
        idx = torch.randint(0, len(ytr), (32,), generator=gen)
        loss = loss_fn(model(xtr[idx]), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        test_loss = loss_fn(model(xte), yte).item()
    return test_loss if math.isfinite(test_loss) else float("inf")


# Standard-library files: the training text and the held-out text.
CHARS_TRAIN = (
    "argparse.py", "collections/__init__.py", "dataclasses.py", "difflib.py",
    "enum.py", "functools.py", "inspect.py", "json/decoder.py", "json/encoder.py",
    "pprint.py", "shutil.py", "string.py", "textwrap.py", "typing.py", "tokenize.py",
)
CHARS_HELDOUT = ("heapq.py", "bisect.py", "fractions.py", "statistics.py")
CONTEXT = 64


def _stdlib_bytes(names: tuple[str, ...]) -> np.ndarray:
    root = Path(sysconfig.get_paths()["stdlib"])
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise FileNotFoundError(f"standard-library files not found under {root}: {missing}")
    text = b"\n".join((root / n).read_bytes() for n in names)
    return np.frombuffer(text, dtype=np.uint8).astype(np.int64)


def run_chars(schedule: str, T: int, seed: int, peak_lr: float) -> float:
    import torch
    from torch import nn

    train = torch.from_numpy(_stdlib_bytes(CHARS_TRAIN))
    held = torch.from_numpy(_stdlib_bytes(CHARS_HELDOUT))
    torch.manual_seed(seed)

    class CharLM(nn.Module):
        def __init__(self, d: int = 64, layers: int = 2, heads: int = 4) -> None:
            super().__init__()
            self.embed = nn.Embedding(256, d)
            self.pos = nn.Parameter(torch.zeros(CONTEXT, d))
            layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, 256)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(CONTEXT))

        def forward(self, x):
            h = self.embed(x) + self.pos[: x.shape[1]]
            h = self.blocks(h, mask=self.mask, is_causal=True)
            return self.head(self.norm(h))

    model = CharLM()
    opt = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=0.01)
    sched = build_scheduler(schedule, opt, T, warmup=max(1, T // 20))
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()

    def batch(data, n, g):
        starts = torch.randint(0, len(data) - CONTEXT - 1, (n,), generator=g)
        x = torch.stack([data[s : s + CONTEXT] for s in starts])
        y = torch.stack([data[s + 1 : s + CONTEXT + 1] for s in starts])
        return x, y

    for _ in range(T):
        x, y = batch(train, 16, gen)
        loss = loss_fn(model(x).reshape(-1, 256), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    eval_gen = torch.Generator().manual_seed(999)  # the same held-out batches for all
    with torch.no_grad():
        losses = [loss_fn(model(x).reshape(-1, 256), y.reshape(-1)).item()
                  for x, y in (batch(held, 64, eval_gen) for _ in range(8))]
    bits = float(np.mean(losses)) / math.log(2)
    return bits if math.isfinite(bits) else float("inf")


TASKS = {
    # name: (runner, full budget, quick full budget, peak-lr grid)
    "digits": (run_digits, 1500, 150, (0.01, 0.03, 0.1, 0.3)),
    "chars": (run_chars, 800, 60, (1e-3, 3e-3, 1e-2)),
}


def _work(job: tuple[str, str, int, int, float, str]) -> Run:
    import torch

    torch.set_num_threads(1)
    task, schedule, T, seed, lr, phase = job
    start = time.perf_counter()
    metric = TASKS[task][0](schedule, T, seed, lr)
    return Run(task, schedule, T, seed, lr, metric, time.perf_counter() - start, phase)


# ---- the noisy quadratic model -----------------------------------------------------


@dataclass
class NQM:
    """x_{t+1} = x_t - eta_t (lam x_t + noise), noise ~ N(0, sigma2), x_0 = 1,
    for every curvature lam in [lam_min, lam_max]; the objective is the worst
    case over lam of E x_T^2 (docs/theory.md section 4)."""

    lam_min: float = 0.01
    lam_max: float = 1.0
    sigma2: float = 1e-3
    lams: np.ndarray = field(default_factory=lambda: np.geomspace(0.01, 1.0, 400))

    def expected(self, lrs: np.ndarray) -> float:
        """max over lam of E x_T^2, exactly (variance recursion)."""
        m = np.ones_like(self.lams)
        for eta in lrs:
            m = (1 - eta * self.lams) ** 2 * m + self.sigma2 * eta * eta
        return float(m.max())

    def simulated(self, lrs: np.ndarray, seed: int, particles: int = 2000) -> float:
        """The same by Monte Carlo: `particles` noisy runs per curvature."""
        rng = np.random.default_rng(seed)
        x = np.ones((particles, len(self.lams)))
        for eta in lrs:
            noise = rng.standard_normal(x.shape) * math.sqrt(self.sigma2)
            x = x - eta * (self.lams * x + noise)
        return float((x * x).mean(axis=0).max())


def nqm_lrs(name: str, T: int, peak: float, nqm: NQM) -> np.ndarray:
    """Step sizes of a schedule over T steps, UBA sampled at t = k - 1/2 as in
    docs/theory.md section 1, with eta_min = 1/lam_max for UBA; peers decay to 0."""
    k = np.arange(1, T + 1) - 0.5
    z = k / T
    if name.startswith("uba_phi="):
        return uba.schedule(k, T, float(name.split("=")[1]), peak, 1 / nqm.lam_max)
    shapes = {
        "cosine": (1 + np.cos(np.pi * z)) / 2,
        "linear": 1 - z,
        "step": np.where(z < 0.5, 1.0, np.where(z < 0.75, 0.1, 0.01)),
        "wsd": np.clip((1 - z) / 0.2, 0, 1),
        "rex": (1 - z) / (1 - z / 2),
        "onecycle": np.where(z < 0.25, 0.04 + 0.96 * (1 - np.cos(np.pi * z / 0.25)) / 2,
                             (1 + np.cos(np.pi * (z - 0.25) / 0.75)) / 2),
        "constant": np.ones_like(z),
    }
    return peak * shapes[name]


def _finite_or_inf(value: float) -> float:
    return value if math.isfinite(value) else float("inf")


def run_nqm(budgets: list[int], seeds: list[int]) -> tuple[list[Run], list[dict]]:
    """Every schedule at its tuned peak (exact objective at the middle
    budget), simulated with 3 seeds; and UBA with phi chosen by
    uba.theory.optimal_phi for that peak, against the best phi on a grid
    (simulated with common random numbers, and exact)."""
    nqm = NQM()
    runs: list[Run] = []
    notes: list[dict] = []
    peaks = (0.5, 1.0, 2.0, 4.0, 10.0, 30.0, 100.0)  # in units of 1/lam_max
    mid = budgets[len(budgets) // 2]
    floor = 1 / nqm.lam_max
    k = {T: np.arange(1, T + 1) - 0.5 for T in budgets}

    def theory_phi(T: int, peak: float) -> float:
        return float(uba.theory.optimal_phi(T, nqm.lam_min, nqm.lam_max, sigma2=nqm.sigma2,
                                            eta_max=peak, eta_min=floor))

    def uba_lrs(T: int, phi: float, peak: float) -> np.ndarray:
        return uba.schedule(k[T], T, phi, peak, floor)

    with np.errstate(over="ignore", invalid="ignore"):
        tuned = {}
        for name in schedule_names():
            scores = {p: _finite_or_inf(nqm.expected(nqm_lrs(name, mid, p * floor, nqm)))
                      for p in peaks}
            tuned[name] = min(scores, key=scores.get) * floor
        scores = {p: _finite_or_inf(nqm.expected(uba_lrs(mid, theory_phi(mid, p * floor),
                                                          p * floor))) for p in peaks}
        theory_peak = min(scores, key=scores.get) * floor

        phi_grid = np.geomspace(1e-3, 1e5, 81)
        for T in budgets:
            for name in schedule_names():
                lrs = nqm_lrs(name, T, tuned[name], nqm)
                for seed in seeds:
                    start = time.perf_counter()
                    value = _finite_or_inf(nqm.simulated(lrs, seed))
                    runs.append(Run("nqm", name, T, seed, tuned[name], value,
                                    time.perf_counter() - start))
            phi_t = theory_phi(T, theory_peak)
            for seed in seeds:
                value = _finite_or_inf(nqm.simulated(uba_lrs(T, phi_t, theory_peak), seed))
                runs.append(Run("nqm", "uba_theory_phi", T, seed, theory_peak, value))
            exact = [_finite_or_inf(nqm.expected(uba_lrs(T, phi, theory_peak)))
                     for phi in phi_grid]
            simulated = [np.mean([_finite_or_inf(nqm.simulated(uba_lrs(T, phi, theory_peak),
                                                               seed, 500)) for seed in seeds])
                         for phi in phi_grid]
            best_sim = int(np.argmin(simulated))
            notes.append({
                "budget": T, "peak": theory_peak, "phi_theory": phi_t,
                "phi_best_simulated": float(phi_grid[best_sim]),
                "phi_best_exact_grid": float(phi_grid[int(np.argmin(exact))]),
                "exact_at_theory_phi": nqm.expected(uba_lrs(T, phi_t, theory_peak)),
                "exact_at_best_simulated": exact[best_sim],
                "exact_best_on_grid": float(min(exact)),
            })
    return runs, notes


# ---- protocol -----------------------------------------------------------------------


def run_task(task: str, quick: bool, seeds: list[int], pool) -> list[Run]:
    _, full, quick_full, grid = TASKS[task]
    top = quick_full if quick else full
    budgets = [max(10, top // 10), max(10, (3 * top) // 10), top]
    mid = budgets[1]
    names = schedule_names()
    if quick:
        grid = grid[1:2]
    tune_jobs = [(task, n, mid, 0, lr, "tune") for n in names for lr in grid]
    tuning = list(pool.map(_work, tune_jobs))
    best = {}
    for name in names:
        rows = [r for r in tuning if r.schedule == name]
        best[name] = min(rows, key=lambda r: r.metric).peak_lr
    jobs = [(task, n, T, s, best[n], "main") for T in budgets for n in names for s in seeds]
    return tuning + list(pool.map(_work, jobs))


def summarise(runs: list[Run], nqm_notes: list[dict], command: str, seconds: float) -> str:
    main = [r for r in runs if r.phase == "main"]
    by = defaultdict(list)
    for r in main:
        by[(r.task, r.schedule, r.budget)].append(r.metric)
    lines = [
        "# Budgeted training results",
        "",
        f"Produced by `{command}` in {seconds / 60:.1f} min on "
        f"{platform.machine()} / {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Lower is better everywhere; mean ± std over seeds; **bold** is the best mean per column,",
        "and the best UBA when it is not the best overall is in *italics*.",
        "",
    ]
    metrics = {"digits": "test cross-entropy (small CNN, scikit-learn digits)",
               "chars": "held-out bits per byte (byte-level transformer, stdlib sources)",
               "nqm": "worst-case E x_T^2 over curvatures (noisy quadratic model, simulated)"}
    for task in [t for t in ("digits", "chars", "nqm") if any(r.task == t for r in main)]:
        budgets = sorted({r.budget for r in main if r.task == task})
        names = [n for n in schedule_names() + ["uba_theory_phi"]
                 if any(r.task == task and r.schedule == n for r in main)]
        means = {(n, T): float(np.mean(by[(task, n, T)])) for n in names for T in budgets}
        lines += [f"## {task}: {metrics[task]}", "",
                  "| schedule | peak lr | " + " | ".join(f"T = {T}" for T in budgets) + " |",
                  "|---|---|" + "---|" * len(budgets)]
        for n in names:
            peak = next(r.peak_lr for r in main if r.task == task and r.schedule == n)
            cells = []
            for T in budgets:
                vals = by[(task, n, T)]
                cell = f"{np.mean(vals):.4g} ± {np.std(vals):.2g}"
                col = {m: means[(m, T)] for m in names}
                uba_best = min((m for m in names if m.startswith("uba")), key=col.get)
                if n == min(col, key=col.get):
                    cell = f"**{cell}**"
                elif n == uba_best:
                    cell = f"*{cell}*"
                cells.append(cell)
            lines.append(f"| {n} | {peak:.3g} | " + " | ".join(cells) + " |")
        lines.append("")
    if nqm_notes:
        lines += ["## nqm: the theory-chosen phi against the best phi found by simulation", "",
                  f"UBA from eta_max = {nqm_notes[0]['peak']:g} (tuned like every other peak) "
                  "to eta_min = 1/lam_max; phi from `uba.theory.optimal_phi` for that range and "
                  "noise, against the phi grid's best (81 values in [1e-3, 1e5]) by simulation "
                  "and by the exact expectation. Objectives are exact worst-case E x_T^2.", "",
                  "| budget | phi (theory) | phi (best simulated) | phi (best exact) |"
                  " exact at theory phi | exact at best simulated | best exact on the grid |",
                  "|---|---|---|---|---|---|---|"]
        for n in nqm_notes:
            lines.append(
                f"| {n['budget']} | {n['phi_theory']:.4g} | {n['phi_best_simulated']:.4g} | "
                f"{n['phi_best_exact_grid']:.4g} | {n['exact_at_theory_phi']:.5g} | "
                f"{n['exact_at_best_simulated']:.5g} | {n['exact_best_on_grid']:.5g} |")
        lines.append("")
    return "\n".join(lines)


def plot(runs: list[Run], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = [r for r in runs if r.phase == "main"]
    tasks = [t for t in ("digits", "chars", "nqm") if any(r.task == t for r in main)]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 4.2), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for ax, task in zip(axes[0], tasks):
        budgets = sorted({r.budget for r in main if r.task == task})
        names = [n for n in schedule_names() + ["uba_theory_phi"]
                 if any(r.task == task and r.schedule == n for r in main)]
        for n in names:
            ys = [np.mean([r.metric for r in main if r.task == task and r.schedule == n
                           and r.budget == T]) for T in budgets]
            if n.startswith("uba_phi="):
                i = UBA_PHIS.index(float(n.split("=")[1]))
                style = dict(color=cmap(i / (len(UBA_PHIS) - 1)), lw=1.6)
            elif n == "uba_theory_phi":
                style = dict(color="red", lw=2)
            else:
                style = dict(ls="--", lw=1)
            ax.plot(budgets, ys, marker="o", ms=3, label=n, **style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("budget T (steps)")
        ax.set_title(task)
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("final metric (lower is better)")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: small budgets, 1 seed")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per run (default 3)")
    parser.add_argument("--tasks", nargs="+", default=["digits", "chars", "nqm"],
                        choices=["digits", "chars", "nqm"])
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parent
    out = args.out or (here / "results" / ("quick" if args.quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(1 if args.quick else args.seeds))
    command = "python benchmarks/budgeted_training.py" + (" --quick" if args.quick else "")

    start = time.perf_counter()
    runs: list[Run] = []
    notes: list[dict] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for task in args.tasks:
            t0 = time.perf_counter()
            if task == "nqm":
                budgets = [20, 60, 200] if not args.quick else [10, 20, 40]
                nqm_runs, notes = run_nqm(budgets, seeds)
                runs += nqm_runs
            else:
                runs += run_task(task, args.quick, seeds, pool)
            print(f"{task}: {time.perf_counter() - t0:.0f} s", flush=True)
    seconds = time.perf_counter() - start

    with open(out / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(runs[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in runs)
    summary = summarise(runs, notes, command, seconds)
    (out / "summary.md").write_text(summary + "\n")
    plot(runs, out / "budgeted_training.png")
    print(summary)
    print(f"\nwrote {out / 'runs.csv'}, {out / 'summary.md'}, {out / 'budgeted_training.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
