"""Command line: ``python -m uba`` (or ``uba``).

With no arguments it prints the UBA schedule at T = 1000 for
phi in {0.5, 1, 2, 4} next to cosine annealing, and writes a PNG of it
when matplotlib is installed (the top-level options change that table).

Subcommands:

    table    the learning rate of UBA and of peer schedules at a budget
    plot     a PNG of UBA against peer schedules
    phi      phi for a condition number, and back; the optimal phi
             for a spectrum and budget (uba.theory)
    bounds   a convergence bound of UBA and of its peers (uba.theory)

Bad arguments print one line on stderr and exit with status 2; so do values
that uba.theory or uba.peers refuse, a plot without matplotlib, an output path
that cannot be written and a request larger than the machine's memory.  Long
computations show their progress on stderr (on a terminal), and Ctrl-C stops
them: "interrupted" on stderr, exit status 130.  The command line never shows
a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from uba import __version__, theory
from uba import peers as _peers
from uba._checks import MAX_BUDGET
from uba._schedule import DEFAULT_PHIS, schedule

BOUND_NAMES = ("nonconvex", "convex", "strongly-convex")
_PHIS_TEXT = " ".join(f"{phi:g}" for phi in DEFAULT_PHIS)


def _number_type(
    convert: Callable[[str], Any], what: str, ok: Callable[[Any], bool], allowed: str
) -> Callable[[str], Any]:
    """An argparse type: `convert` the text, then require `ok` of the value."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text}")
        return value

    return parse


def _integer(text: str) -> int:
    """An integer written as one (``1000``) or as an integral float (``1e6``)."""
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise
        return int(value)


_positive_int = _number_type(_integer, "an integer", lambda v: v >= 1, ">= 1")
_budget = _number_type(
    _integer, "an integer", lambda v: 1 <= v <= MAX_BUDGET, "an integer in [1, 2**53]"
)
_positive_float = _number_type(
    float, "a number", lambda v: math.isfinite(v) and v > 0, "a finite number > 0"
)
_nonnegative_float = _number_type(
    float, "a number", lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"
)


def _peer_name(text: str) -> str:
    try:
        _peers.get(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


class _Parser(argparse.ArgumentParser):
    """argparse with every error on one line of stderr (the usage is one
    --help away) and exit status 2; subcommands' parsers are of this class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m uba",
        description="Print (and plot) the UBA learning-rate schedule next to cosine annealing.",
        epilog="Subcommands: python -m uba COMMAND --help.",
    )
    parser.add_argument("--version", action="version", version=f"uba {__version__}")
    parser.add_argument(
        "-T", "--budget", type=_budget, default=1000, help="budget T in steps (default 1000)"
    )
    parser.add_argument(
        "--phi",
        type=_positive_float,
        nargs="+",
        default=list(DEFAULT_PHIS),
        help=f"shape parameters to show (default {_PHIS_TEXT})",
    )
    parser.add_argument(
        "--rows",
        type=_positive_int,
        default=11,
        help="table rows, evenly spaced over [0, T] (default 11)",
    )
    parser.add_argument(
        "--plot",
        metavar="PATH",
        default="uba_schedules.png",
        help="where to write the PNG (default uba_schedules.png)",
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    _add_subcommands(parser)
    return parser


def _add_subcommands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="subcommands")
    names = ", ".join(_peers.PEERS)

    def schedules(
        p: argparse.ArgumentParser,
        peers: Sequence[str],
        eta_max: float | None = 1.0,
        eta_max_help: str = "peak learning rate of every schedule (default 1)",
    ) -> None:
        p.add_argument(
            "-T", "--budget", type=_budget, default=1000, help="budget T in steps (default 1000)"
        )
        p.add_argument(
            "--phi",
            type=_positive_float,
            nargs="*",
            default=list(DEFAULT_PHIS),
            help=f"UBA shape parameters (default {_PHIS_TEXT}; none for no UBA)",
        )
        p.add_argument(
            "--peers",
            type=_peer_name,
            nargs="*",
            default=list(peers),
            metavar="NAME",
            help=f"peer schedules to compare, from: {names} (default {' '.join(peers)})",
        )
        p.add_argument("--eta-max", type=_positive_float, default=eta_max, help=eta_max_help)
        p.add_argument(
            "--eta-min",
            type=_nonnegative_float,
            default=0.0,
            help="floor of every schedule, at most --eta-max (default 0)",
        )

    table = sub.add_parser(
        "table",
        help="print the learning rate of UBA and of peers at a budget",
        description="Print the learning rate of UBA (one column per phi) and of peer "
        "schedules at evenly spaced steps of a budget T.",
    )
    schedules(table, ("cosine",))
    table.add_argument(
        "--rows",
        type=_positive_int,
        default=11,
        help="table rows, evenly spaced over [0, T] (default 11)",
    )
    table.add_argument(
        "--format",
        choices=("text", "csv"),
        default="text",
        help="aligned text (default) or CSV with full precision",
    )

    plot = sub.add_parser(
        "plot",
        help="write a PNG of UBA against peer schedules",
        description="Write a PNG of UBA (one line per phi) against peer schedules at the "
        "same budget, peak and floor. Needs matplotlib.",
    )
    schedules(plot, ("cosine", "linear", "wsd", "rex"))
    plot.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default="uba_peers.png",
        help="where to write the PNG (default uba_peers.png)",
    )
    plot.add_argument("--dpi", type=_positive_int, default=120, help="resolution (default 120)")

    phi = sub.add_parser(
        "phi",
        help="phi for a condition number (and back); the optimal phi for a spectrum",
        description="UBA with eta_max = 1/lam_min and eta_min = 1/lam_max is the Chebyshev "
        "min-max step-size sequence when phi = 2*kappa, kappa = lam_max/lam_min "
        "(an identity derived in this project, uba.theory). With --spectrum: "
        "uba.theory.optimal_phi, the phi that minimises the worst case of a "
        "noisy quadratic over the spectrum at budget T.",
    )
    which = phi.add_mutually_exclusive_group(required=True)
    which.add_argument("--kappa", type=_positive_float, help="condition number -> phi")
    which.add_argument(
        "--from-phi", type=_positive_float, metavar="PHI", help="phi -> condition number"
    )
    which.add_argument(
        "--spectrum",
        type=_positive_float,
        nargs=2,
        metavar=("LAM_MIN", "LAM_MAX"),
        help="the optimal phi for this Hessian spectrum and budget -T",
    )
    phi.add_argument(
        "-T", "--budget", type=_budget, help="budget T in steps (needed with --spectrum)"
    )
    phi.add_argument(
        "--sigma2",
        type=_nonnegative_float,
        default=0.0,
        help="gradient-noise variance for --spectrum (default 0)",
    )
    phi.add_argument(
        "--eta-max", type=_positive_float, help="peak step for --spectrum (default 1/LAM_MIN)"
    )
    phi.add_argument(
        "--eta-min", type=_nonnegative_float, help="floor step for --spectrum (default 1/LAM_MAX)"
    )
    phi.add_argument(
        "--plot", metavar="PATH", help="also write a PNG of phi against the condition number"
    )

    bounds = sub.add_parser(
        "bounds",
        help="a convergence bound of UBA and of peers",
        description="Evaluate a convergence bound (docs/theory.md section 2: standard bounds "
        "for any step-size sequence) for UBA and peer schedules sampled at "
        "t = 0..T-1 (uba.theory.bound_*).",
    )
    schedules(
        bounds,
        ("cosine", "linear", "wsd", "rex"),
        None,
        "peak step of every schedule (default: the largest the bound allows, "
        "1/L, or 1/(2L) for convex)",
    )
    bounds.add_argument(
        "--bound", choices=BOUND_NAMES, default="nonconvex", help="which bound (default nonconvex)"
    )
    bounds.add_argument(
        "--L", type=_positive_float, default=1.0, dest="L", help="smoothness constant (default 1)"
    )
    bounds.add_argument(
        "--sigma2",
        type=_nonnegative_float,
        default=1e-2,
        help="gradient-noise variance (default 0.01)",
    )
    bounds.add_argument(
        "--f-gap",
        type=_nonnegative_float,
        default=1.0,
        help="f(x0) - f* for nonconvex and strongly-convex (default 1)",
    )
    bounds.add_argument(
        "--dist2", type=_nonnegative_float, default=1.0, help="||x0 - x*||^2 for convex (default 1)"
    )
    bounds.add_argument(
        "--mu", type=_positive_float, default=1e-2, help="strong-convexity constant (default 0.01)"
    )
    bounds.add_argument(
        "--plot", metavar="PATH", help="also write a PNG of the bound against the budget"
    )
    bounds.add_argument(
        "--budgets",
        type=_budget,
        nargs="+",
        metavar="T",
        help="budgets on the plot's x axis (default 10 to 10000)",
    )

    for p, run in ((table, _run_table), (plot, _run_plot), (phi, _run_phi), (bounds, _run_bounds)):
        p.set_defaults(run=run, subparser=p)


# ---- the table ----------------------------------------------------------------


def _levels_format(eta_max: float, eta_min: float) -> str:
    big = max(abs(eta_max), abs(eta_min))
    return ".6f" if big == 0 or 1e-2 <= big < 1e4 else ".6e"


def schedule_columns(
    T: int,
    steps: np.ndarray,
    phis: Sequence[float],
    peers: Sequence[str],
    eta_max: float = 1.0,
    eta_min: float = 0.0,
) -> list[tuple[str, np.ndarray]]:
    """(header, values at `steps`) for UBA at each phi, then for each peer."""
    columns = [(f"phi={phi:g}", schedule(steps, T, phi, eta_max, eta_min)) for phi in phis]
    columns += [(name, _peers.evaluate(name, steps, T, eta_max, eta_min)) for name in peers]
    return columns


def format_table(
    T: int,
    phis: Sequence[float],
    rows: int,
    peers: Sequence[str] = ("cosine",),
    *,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    csv: bool = False,
) -> str:
    """The schedules at `rows` evenly spaced steps: one column per phi, then
    one per peer (by default cosine, which gives the main job's table)."""
    _check_memory(rows * (len(phis) + len(peers) + 2), f"--rows {rows}")
    steps = np.unique(np.round(np.linspace(0, T, rows)).astype(np.int64))
    columns = schedule_columns(T, steps, phis, peers, eta_max, eta_min)
    if csv:
        lines = [",".join(["t"] + [h for h, _ in columns])]
        for i, t in enumerate(steps):
            lines.append(",".join([str(t)] + [repr(float(col[i])) for _, col in columns]))
        return "\n".join(lines)
    fmt = _levels_format(eta_max, eta_min)
    widths = [max(9, len(h)) for h, _ in columns]
    lines = ["  ".join([f"{'t':>9}"] + [f"{h:>{w}}" for (h, _), w in zip(columns, widths)])]
    for i, t in enumerate(steps):
        cells = [f"{col[i]:>{w}{fmt}}" for (_, col), w in zip(columns, widths)]
        lines.append("  ".join([f"{t:>9d}"] + cells))
    return "\n".join(lines)


# ---- plots --------------------------------------------------------------------


def _matplotlib() -> Any:
    """pyplot on the Agg backend, or None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(ax: Any, path: str, dpi: int = 120) -> None:
    from uba.plotting import figure_of

    fig = figure_of(ax)
    try:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    except OSError as exc:  # a missing folder, no permission, a full disk
        raise _Fail(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        _matplotlib().close(fig)


def write_plot(T: int, phis: Sequence[float], path: str) -> bool:
    """Write the PNG; False (and a note on stderr) without matplotlib."""
    if _matplotlib() is None:
        print("matplotlib is not installed: no plot (pip install 'uba[plot]')", file=sys.stderr)
        return False
    from uba.plotting import plot_schedules

    _save(plot_schedules(T, phis), path)
    return True


# ---- progress ------------------------------------------------------------------


class Progress:
    """A progress line for a long theory call, on a terminal's stderr: shown
    once the call has run for half a second, redrawn at most ten times a
    second, erased when it ends.  Pass it as ``progress=`` (it is called with
    the fraction done)."""

    def __init__(self, what: str, stream: Any = None) -> None:
        self.what = what
        self.stream = sys.stderr if stream is None else stream
        self.start = self.last = time.monotonic()
        self.shown = False

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.start < 0.5 or now - self.last < 0.1 or not self.stream.isatty():
            return
        self.last = now
        self.shown = True
        self.stream.write(f"\r{self.what}: {100 * fraction:3.0f}%")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            self.stream.write("\r" + " " * (len(self.what) + 6) + "\r")
            self.stream.flush()


# ---- subcommands ----------------------------------------------------------------


class _Fail(Exception):
    """An error to report as a usage error (exit status 2)."""


def _need_matplotlib() -> None:
    if _matplotlib() is None:
        raise _Fail("matplotlib is not installed: pip install 'uba[plot]'")


def _check_levels(eta_max: float, eta_min: float) -> None:
    """Every schedule here decays from eta_max to eta_min >= 0 (the parser
    checks the signs): refuse an inverted range."""
    if eta_min > eta_max:
        raise _Fail(f"--eta-min must be at most --eta-max, got {eta_min:g} > {eta_max:g}")


def _check_memory(values: int, what: str) -> None:
    """Refuse, before allocating anything, a request for `values` doubles
    that cannot fit in this machine's memory (where the system reports its
    size; elsewhere main() turns a MemoryError into the same exit)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return
    need = 8 * values
    if need > total:
        raise _Fail(
            f"{what} would need about {need / 2**30:,.0f} GiB of memory; "
            f"this machine has {total / 2**30:,.0f} GiB"
        )


def _run_table(args: argparse.Namespace) -> None:
    _check_levels(args.eta_max, args.eta_min)
    table = format_table(
        args.budget,
        args.phi,
        args.rows,
        args.peers,
        eta_max=args.eta_max,
        eta_min=args.eta_min,
        csv=args.format == "csv",
    )
    if args.format == "text":
        print(
            f"learning rate, budget T = {args.budget}, eta_max = {args.eta_max:g}, "
            f"eta_min = {args.eta_min:g}"
        )
    print(table)


def _run_plot(args: argparse.Namespace) -> None:
    _check_levels(args.eta_max, args.eta_min)
    _need_matplotlib()
    from uba.plotting import plot_peers

    ax = plot_peers(args.budget, args.phi, args.peers, eta_max=args.eta_max, eta_min=args.eta_min)
    _save(ax, args.output, args.dpi)
    print(f"wrote {args.output}")


def _run_phi(args: argparse.Namespace) -> None:
    if args.spectrum is None:
        extra = [
            flag
            for flag, value in (
                ("-T/--budget", args.budget),
                ("--eta-max", args.eta_max),
                ("--eta-min", args.eta_min),
                ("--sigma2", args.sigma2 or None),
            )
            if value is not None
        ]
        if extra:
            raise _Fail(f"{', '.join(extra)}: only with --spectrum")
    if args.kappa is not None:
        value = theory.phi_from_condition_number(args.kappa)
        print(f"phi = {value:.10g}  (condition number kappa = {args.kappa:g}; phi = 2 kappa)")
    elif args.from_phi is not None:
        value = theory.condition_number_from_phi(args.from_phi)
        print(f"kappa = {value:.10g}  (phi = {args.from_phi:g}; kappa = phi / 2)")
    else:
        lam_min, lam_max = args.spectrum
        if args.budget is None:
            raise _Fail("--spectrum needs the budget: -T/--budget")
        if not lam_min < lam_max:
            raise _Fail(f"--spectrum needs LAM_MIN < LAM_MAX, got {lam_min:g} {lam_max:g}")
        _check_levels(
            1.0 / lam_min if args.eta_max is None else args.eta_max,
            1.0 / lam_max if args.eta_min is None else args.eta_min,
        )
        with Progress("optimal phi") as progress:
            value = theory.optimal_phi(
                args.budget,
                lam_min,
                lam_max,
                sigma2=args.sigma2,
                eta_max=args.eta_max,
                eta_min=args.eta_min,
                progress=progress,
            )
        print(
            f"optimal phi = {value:.10g}  (T = {args.budget}, spectrum [{lam_min:g}, "
            f"{lam_max:g}], kappa = {lam_max / lam_min:g}, sigma2 = {args.sigma2:g})"
        )
    if args.plot:
        _need_matplotlib()
        from uba.plotting import plot_phi_vs_condition_number

        sigma2 = (0.0,) if args.sigma2 == 0 else (0.0, args.sigma2)
        _save(plot_phi_vs_condition_number(T=args.budget, sigma2=sigma2), args.plot)
        print(f"wrote {args.plot}")


def _run_bounds(args: argparse.Namespace) -> None:
    from uba.plotting import BOUNDS

    if args.budgets and not args.plot:
        raise _Fail("--budgets: only with --plot")
    if args.plot:  # every check before the table is printed
        _need_matplotlib()
        if args.budgets:
            _check_memory(3 * max(args.budgets), f"--budgets {max(args.budgets)}")
    fn, limit, needs = BOUNDS[args.bound]
    given = {
        "L": args.L,
        "sigma2": args.sigma2,
        "f_gap": args.f_gap,
        "dist2": args.dist2,
        "mu": args.mu,
    }
    constants = {k: given[k] for k in needs}
    eta_max = limit / args.L if args.eta_max is None else args.eta_max
    _check_levels(eta_max, args.eta_min)
    T = args.budget
    _check_memory(T * (len(args.phi) + len(args.peers) + 3), f"-T {T}")
    t = np.arange(T, dtype=np.float64)
    columns = schedule_columns(T, t, args.phi, args.peers, eta_max, args.eta_min)
    bounds = [float(fn(lrs, **constants)) for _, lrs in columns]  # may refuse a schedule
    described = ", ".join(f"{k} = {v:g}" for k, v in constants.items())
    print(
        f"{args.bound} bound, budget T = {T}, {described}, eta_max = {eta_max:g}, "
        f"eta_min = {args.eta_min:g}"
    )
    width = max([9] + [len(h) for h, _ in columns])
    print(f"{'schedule':<{width}}  {'sum eta':>12}  {'sum eta^2':>12}  {'bound':>12}")
    for (name, lrs), bound in zip(columns, bounds):
        print(f"{name:<{width}}  {lrs.sum():>12.6g}  {(lrs**2).sum():>12.6g}  {bound:>12.6g}")
    if args.plot:
        from uba.plotting import plot_bounds

        ax = plot_bounds(
            args.budgets,
            phis=args.phi,
            peers=args.peers,
            bound=args.bound,
            eta_max=args.eta_max,
            eta_min=args.eta_min,
            **given,
        )
        _save(ax, args.plot)
        print(f"wrote {args.plot}")


def _run_main_job(args: argparse.Namespace) -> None:
    print(f"UBA schedule g(t), budget T = {args.budget} (eta = eta_min + (eta_max - eta_min) g)")
    print(format_table(args.budget, args.phi, args.rows))
    if not args.no_plot and write_plot(args.budget, args.phi, args.plot):
        print(f"wrote {args.plot}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.set_defaults(run=_run_main_job, subparser=parser)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (_Fail, ValueError) as exc:
        # Bad values the parser could not see (a peer's or a bound's range),
        # a missing optional dependency, an unwritable output: exit 2.
        args.subparser.error(str(exc))
    except MemoryError as exc:
        args.subparser.error(f"not enough memory for this request: {exc}")
    except BrokenPipeError:
        # The reader went away (python -m uba table | head): stop quietly,
        # and keep Python from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        # Ctrl-C: one line, no traceback, the shell's status for SIGINT
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
