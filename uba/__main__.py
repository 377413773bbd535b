"""Command line: ``python -m uba`` (or ``uba``).

With no arguments it prints the UBA schedule at T = 1000 for
phi in {0.5, 1, 2, 4} next to cosine annealing, and writes a PNG of it
when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import numpy as np

from uba import __version__
from uba._schedule import schedule


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m uba",
        description="Print (and plot) the UBA learning-rate schedule next to cosine annealing.",
    )
    parser.add_argument("--version", action="version", version=f"uba {__version__}")
    parser.add_argument("-T", "--budget", type=_positive_int, default=1000,
                        help="budget T in steps (default 1000)")
    parser.add_argument("--phi", type=_positive_float, nargs="+", default=[0.5, 1.0, 2.0, 4.0],
                        help="shape parameters to show (default 0.5 1 2 4)")
    parser.add_argument("--rows", type=_positive_int, default=11,
                        help="table rows, evenly spaced over [0, T] (default 11)")
    parser.add_argument("--plot", metavar="PATH", default="uba_schedules.png",
                        help="where to write the PNG (default uba_schedules.png)")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    return parser


def format_table(T: int, phis: Sequence[float], rows: int) -> str:
    """The schedule g(t) at `rows` evenly spaced steps, one column per phi."""
    steps = np.unique(np.round(np.linspace(0, T, rows)).astype(np.int64))
    header = ["t"] + [f"phi={phi:g}" for phi in phis] + ["cosine"]
    cosine = (1 + np.cos(np.pi * steps / T)) / 2
    columns = [schedule(steps, T, phi) for phi in phis] + [cosine]
    lines = ["  ".join(f"{h:>9}" for h in header)]
    for i, t in enumerate(steps):
        lines.append("  ".join([f"{t:>9d}"] + [f"{col[i]:>9.6f}" for col in columns]))
    return "\n".join(lines)


def write_plot(T: int, phis: Sequence[float], path: str) -> bool:
    """Write the PNG; False (and a note on stderr) without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'uba[plot]')", file=sys.stderr)
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from uba.plotting import plot_schedules

    ax = plot_schedules(T, phis)
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(f"UBA schedule g(t), budget T = {args.budget} (eta = eta_min + (eta_max - eta_min) g)")
    print(format_table(args.budget, args.phi, args.rows))
    if not args.no_plot and write_plot(args.budget, args.phi, args.plot):
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
