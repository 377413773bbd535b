"""The study's command line: run it, then write runs.csv, probes.csv,
summary.md and budgeted_training.png into the output folder."""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

from . import __doc__ as STUDY
from .protocol import TASKS, Results, run_study, worker_pool
from .report import plot, summarise, write_csv, write_text

#: benchmarks/, where results/ is.
HERE = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=(STUDY or "").split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: small budgets, 1 tuning and 2 evaluation seeds",
    )
    parser.add_argument("--seeds", type=int, default=8, help="evaluation seeds (default 8)")
    parser.add_argument("--tune-seeds", type=int, default=2, help="tuning seeds (default 2)")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    args = parser.parse_args(argv)
    out = args.out or (HERE / "results" / ("quick" if args.quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    n_eval, n_tune = (2, 1) if args.quick else (args.seeds, args.tune_seeds)
    eval_seeds = list(range(n_eval))
    tune_seeds = [1000 + s for s in range(n_tune)]  # never an evaluation seed
    max_rounds = 2 if args.quick else 12

    wall = time.perf_counter()
    with worker_pool(args.workers) as pool:
        runs, probes, tunings = run_study(
            args.tasks, args.quick, tune_seeds, eval_seeds, pool, max_rounds
        )
    wall = time.perf_counter() - wall
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu_all = children.ru_utime + children.ru_stime + own.ru_utime + own.ru_stime
    cpu_runs = sum(r.cpu_seconds for r in runs) + sum(p.cpu_seconds for p in probes)

    write_csv(out / "runs.csv", runs)
    write_csv(out / "probes.csv", probes)
    res = Results(runs, tunings)
    command = "python benchmarks/budgeted_training.py" + (" --quick" if args.quick else "")
    header = [
        f"Produced by `{command}` on {platform.machine()}, {os.cpu_count()} cores, "
        f"{args.workers} worker processes (1 torch thread each), Python "
        f"{platform.python_version()}: wall time {wall / 60:.1f} min; CPU time "
        f"{cpu_all / 60:.1f} min in all processes ({cpu_runs / 60:.1f} min inside the runs "
        f"and probes), i.e. about {cpu_all / 60 / args.workers:.1f} min of wall time on "
        f"{args.workers} idle cores.",
        f"{len([r for r in runs if r.phase == 'tune'])} tuning runs (seeds {tune_seeds}, "
        f"validation split) and {len([r for r in runs if r.phase == 'eval'])} evaluation runs "
        f"(seeds {eval_seeds}, test split); {len(probes)} probes.",
    ]
    summary = summarise(res, probes, header)
    write_text(out / "summary.md", summary + "\n")
    plot(res, out / "budgeted_training.png")
    print(summary)
    print(f"\nwrote {out}/runs.csv, probes.csv, summary.md, budgeted_training.png")
    return 0
