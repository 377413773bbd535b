"""Command line: ``uba`` (the installed command) or ``python -m uba``.

With no arguments it prints the UBA schedule at T = 1000 for
phi in {0.5, 1, 2, 4} next to cosine annealing, and writes a PNG of it
when matplotlib is installed (the top-level options change that table).

Subcommands:

    table    the learning rate of UBA and of peer schedules at a budget
    plot     an image of UBA against peer schedules
    phi      phi for a condition number, and back; the optimal phi
             for a spectrum and budget (uba.theory)
    bounds   a convergence bound of UBA and of its peers (uba.theory)

Bad arguments print one line on stderr and exit with status 2; so do values
that uba.theory or uba.peers refuse, a plot without matplotlib, an output path
that cannot be written and a request larger than the machine's memory.  An
image is written to exactly the path given, whose extension names its format
(.png, .pdf, .svg, ...), and it replaces an existing file only once it is
whole: an error or Ctrl-C while writing leaves the old file as it was.  Long
computations show their progress on stderr (on a terminal), and Ctrl-C stops
them within a fraction of a second: "interrupted" on stderr, exit status
130.  Output that cannot be written (stdout on a full disk) is one line and
status 1.  The command line never shows a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

import numpy as np

from uba import __version__, _io, theory
from uba import peers as _peers
from uba._checks import MAX_BUDGET
from uba._curves import DEFAULT_PHIS, SLICE, curves, sample

#: The highest --dpi: 1200 dots per inch makes the default figure about
#: 8400 x 5000 pixels (170 MB to draw).
MAX_DPI = 1200


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
_dpi = _number_type(
    _integer, "an integer", lambda v: 1 <= v <= MAX_DPI, f"an integer in [1, {MAX_DPI}]"
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


# ---- options that several commands take, each declared once ---------------------


def _add_budget(
    p: argparse.ArgumentParser,
    default: int | None = 1000,
    help: str = "budget T in steps (default 1000)",
) -> None:
    p.add_argument("-T", "--budget", type=_budget, default=default, help=help)


def _add_phis(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--phi",
        type=_positive_float,
        nargs="*",
        default=list(DEFAULT_PHIS),
        help=f"UBA shape parameters (default {' '.join(f'{phi:g}' for phi in DEFAULT_PHIS)}; "
        "none for no UBA)",
    )


def _add_rows(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rows",
        type=_positive_int,
        default=11,
        help="table rows, evenly spaced over [0, T] (default 11)",
    )


def _add_schedules(
    p: argparse.ArgumentParser,
    peers: Sequence[str],
    eta_max: float | None = 1.0,
    eta_max_help: str = "peak learning rate of every schedule (default 1)",
) -> None:
    """-T, --phi, --peers, --eta-max and --eta-min: the schedules to compare."""
    _add_budget(p)
    _add_phis(p)
    p.add_argument(
        "--peers",
        type=_peer_name,
        nargs="*",
        default=list(peers),
        metavar="NAME",
        help=f"peer schedules to compare, from: {', '.join(_peers.PEERS)} "
        f"(default {' '.join(peers)})",
    )
    p.add_argument("--eta-max", type=_positive_float, default=eta_max, help=eta_max_help)
    p.add_argument(
        "--eta-min",
        type=_nonnegative_float,
        default=0.0,
        help="floor of every schedule, at most --eta-max (default 0)",
    )


def _add_image(p: argparse.ArgumentParser, *flags: str, what: str, default: str | None) -> None:
    """An image to write: its extension names the format."""
    also = "" if default else "also "
    to = f" (default {default})" if default else ""
    p.add_argument(
        *flags,
        metavar="PATH",
        default=default,
        help=f"{also}write {what} to PATH, an image whose extension names its format "
        f"(.png, .pdf, .svg, ...){to}",
    )


def _add_sigma2(p: argparse.ArgumentParser, default: float, help: str) -> None:
    p.add_argument("--sigma2", type=_nonnegative_float, default=default, help=help)


def build_parser(prog: str = "uba") -> argparse.ArgumentParser:
    """The command line's parser; ``prog`` is the command as the user types
    it (``uba``, or ``python -m uba`` when run as a module)."""
    parser = _Parser(
        prog=prog,
        description="Print (and plot) the UBA learning-rate schedule next to cosine annealing.",
        epilog=f"Subcommands: {prog} COMMAND --help.",
    )
    parser.add_argument("--version", action="version", version=f"uba {__version__}")
    _add_budget(parser)
    _add_phis(parser)
    _add_rows(parser)
    _add_image(parser, "--plot", what="the plot", default="uba_schedules.png")
    parser.add_argument("--no-plot", action="store_true", help="do not write the plot")
    _add_subcommands(parser)
    return parser


def _add_subcommands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="subcommands")

    table = sub.add_parser(
        "table",
        help="print the learning rate of UBA and of peers at a budget",
        description="Print the learning rate of UBA (one column per phi) and of peer "
        "schedules at evenly spaced steps of a budget T.",
    )
    _add_schedules(table, ("cosine",))
    _add_rows(table)
    table.add_argument(
        "--format",
        choices=("text", "csv"),
        default="text",
        help="aligned text (default) or CSV with full precision",
    )

    plot = sub.add_parser(
        "plot",
        help="write an image of UBA against peer schedules",
        description="Write an image of UBA (one line per phi) against peer schedules at the "
        "same budget, peak and floor. Needs matplotlib.",
    )
    _add_schedules(plot, ("cosine", "linear", "wsd", "rex"))
    _add_image(plot, "-o", "--output", what="the plot", default="uba_peers.png")
    plot.add_argument(
        "--dpi", type=_dpi, default=120, help=f"resolution, 1 to {MAX_DPI} (default 120)"
    )

    phi = sub.add_parser(
        "phi",
        help="phi for a condition number (and back); the optimal phi for a spectrum",
        description="--kappa and --from-phi: the curvature identity (uba.theory): UBA "
        "with eta_max = 1/lam_min and eta_min = 1/lam_max is the Chebyshev min-max "
        "step-size sequence when phi = 2*kappa, kappa = lam_max/lam_min. With "
        "--spectrum: uba.theory.optimal_phi, the phi that minimises the worst case of "
        "a noisy quadratic over the curvature interval at budget T, for the schedule "
        "you run (peak --eta-max, floor --eta-min). phi only means something for a "
        "given peak; for the expected loss over a whole spectrum, use "
        "uba.theory.choose_phi.",
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
    _add_budget(phi, None, "budget T in steps (needed with --spectrum)")
    _add_sigma2(phi, 0.0, "gradient-noise variance for --spectrum (default 0)")
    phi.add_argument(
        "--eta-max", type=_positive_float, help="peak step for --spectrum (default 1/LAM_MAX)"
    )
    phi.add_argument(
        "--eta-min", type=_nonnegative_float, help="floor step for --spectrum (default 0)"
    )
    _add_image(phi, "--plot", what="phi against the condition number", default=None)

    bounds = sub.add_parser(
        "bounds",
        help="a convergence bound of UBA and of peers",
        description="Evaluate a convergence bound (docs/theory.md section 2: standard bounds "
        "for any step-size sequence) for UBA and peer schedules sampled at "
        "t = 0..T-1 (uba.theory.bound_*).",
    )
    _add_schedules(
        bounds,
        ("cosine", "linear", "wsd", "rex"),
        None,
        "peak step of every schedule (default: the largest the bound allows, "
        "1/L, or 1/(2L) for convex)",
    )
    bounds.add_argument(
        "--bound",
        choices=tuple(theory.BOUNDS),
        default="nonconvex",
        help="which bound (default nonconvex)",
    )
    bounds.add_argument(
        "--L", type=_positive_float, default=1.0, dest="L", help="smoothness constant (default 1)"
    )
    _add_sigma2(bounds, 1e-2, "gradient-noise variance (default 0.01)")
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
    _add_image(bounds, "--plot", what="the bound against the budget", default=None)
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


def table_steps(T: int, rows: int) -> Iterator[np.ndarray]:
    """The table's steps, a slice at a time: ``rows`` steps evenly spaced
    over [0, T], rounded to integers, each once (as
    ``np.unique(np.round(np.linspace(0, T, rows)))``, without building it:
    when the spacing is at most 1, every step 0..T is one of them)."""
    if rows == 1:
        yield np.zeros(1, dtype=np.int64)
        return
    if rows - 1 >= T:
        for start in range(0, T + 1, SLICE):
            yield np.arange(start, min(start + SLICE, T + 1), dtype=np.int64)
        return
    spacing = T / (rows - 1)
    last = -1
    for start in range(0, rows, SLICE):
        stop = min(start + SLICE, rows)
        x = np.arange(start, stop) * spacing  # np.linspace's own arithmetic
        if stop == rows:
            x[-1] = T
        steps = np.round(x).astype(np.int64)
        new = np.empty(len(steps), dtype=bool)  # (rounding can repeat a step near 2**53)
        new[0] = steps[0] != last
        new[1:] = steps[1:] != steps[:-1]
        last = int(steps[-1])
        yield steps[new]


def table_lines(
    T: int,
    phis: Sequence[float],
    rows: int,
    peers: Sequence[str] = ("cosine",),
    *,
    eta_max: float = 1.0,
    eta_min: float = 0.0,
    csv: bool = False,
) -> Iterator[list[str]]:
    """The table's lines, a slice of rows at a time, the header with the
    first (so every schedule has refused its arguments, or not, before
    anything is shown): one column per phi, then one per peer (by default
    cosine, which gives the main job's table)."""
    named = curves(phis, peers, eta_max, eta_min)
    headers = [f"phi={key:g}" if isinstance(key, float) else key for key, _ in named]
    fmt = _levels_format(eta_max, eta_min)
    widths = [max(9, len(h)) for h in headers]
    if csv:
        lines = [",".join(["t", *headers])]
    else:
        lines = ["  ".join([f"{'t':>9}"] + [f"{h:>{w}}" for h, w in zip(headers, widths)])]
    for steps in table_steps(T, rows):
        t = steps.astype(np.float64)
        columns = [lrs(t, T) for _, lrs in named]
        for i, step in enumerate(steps):
            if csv:
                lines.append(",".join([str(step)] + [repr(float(col[i])) for col in columns]))
            else:
                cells = [f"{col[i]:>{w}{fmt}}" for col, w in zip(columns, widths)]
                lines.append("  ".join([f"{step:>9d}", *cells]))
        yield lines
        lines = []


def _print_table(lines: Iterator[list[str]]) -> None:
    for chunk in lines:
        print("\n".join(chunk))


# ---- images -------------------------------------------------------------------


def _matplotlib() -> Any:
    """pyplot on the Agg backend, or None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _check_image(path: str) -> None:
    """Refuse, before any work, an image path that cannot be written: no
    known extension, a missing folder, a folder by that name."""
    try:
        _io.figure_format(path)
        _io.check_destination(path)
    except OSError as exc:
        raise _Fail(f"cannot write {path}: {exc.strerror or exc}") from None


def _save(ax: Any, path: str, dpi: int = 120) -> None:
    """Write the figure of `ax` to `path` (whole or not at all) and close it."""
    from uba.plotting import figure_of, save_figure

    fig = figure_of(ax)
    try:
        save_figure(fig, path, dpi=dpi, bbox_inches="tight")
    except OSError as exc:  # a missing folder, no permission, a full disk
        raise _Fail(f"cannot write {path}: {exc.strerror or exc}") from None
    except (ValueError, RuntimeError) as exc:  # a format that needs what is missing (LaTeX)
        raise _Fail(f"cannot write {path}: {str(exc).splitlines()[0]}") from None
    finally:
        _matplotlib().close(fig)


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


def _check_schedules(args: argparse.Namespace) -> None:
    """Something to show, in a range that decays."""
    if not args.phi and not args.peers:
        raise _Fail("--phi and --peers are both empty: nothing to show")
    if args.eta_max is not None:
        _check_levels(args.eta_max, args.eta_min)


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
    _check_schedules(args)
    lines = table_lines(
        args.budget,
        args.phi,
        args.rows,
        args.peers,
        eta_max=args.eta_max,
        eta_min=args.eta_min,
        csv=args.format == "csv",
    )
    first = next(lines)  # every schedule has taken its arguments before a line is printed
    if args.format == "text":
        print(
            f"learning rate, budget T = {args.budget}, eta_max = {args.eta_max:g}, "
            f"eta_min = {args.eta_min:g}"
        )
    print("\n".join(first))
    _print_table(lines)


def _run_plot(args: argparse.Namespace) -> None:
    _check_schedules(args)
    _need_matplotlib()
    _check_image(args.output)
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
    if args.plot:
        _need_matplotlib()
        _check_image(args.plot)
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
            1.0 / lam_max if args.eta_max is None else args.eta_max,
            0.0 if args.eta_min is None else args.eta_min,
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
        from uba.plotting import plot_phi_vs_condition_number

        sigma2 = (0.0,) if args.sigma2 == 0 else (0.0, args.sigma2)
        _save(plot_phi_vs_condition_number(T=args.budget, sigma2=sigma2), args.plot)
        print(f"wrote {args.plot}")


def _sums(lrs: np.ndarray) -> tuple[float, float]:
    """sum(lrs) and sum(lrs**2), a slice at a time (inf where they overflow)."""
    first, second = [], []
    with np.errstate(over="ignore"):
        for start in range(0, len(lrs), SLICE):
            part = lrs[start : start + SLICE]
            first.append(float(part.sum()))
            second.append(float(np.square(part).sum()))
    return math.fsum(first), math.fsum(second)


def _run_bounds(args: argparse.Namespace) -> None:
    if args.budgets and not args.plot:
        raise _Fail("--budgets: only with --plot")
    _check_schedules(args)
    if args.plot:  # every check before the table is printed
        _need_matplotlib()
        _check_image(args.plot)
        if args.budgets:
            _check_memory(max(args.budgets), f"--budgets {max(args.budgets)}")
    fn, _, needs = theory.BOUNDS[args.bound]
    given = {
        "L": args.L,
        "sigma2": args.sigma2,
        "f_gap": args.f_gap,
        "dist2": args.dist2,
        "mu": args.mu,
    }
    constants = {k: given[k] for k in needs}
    eta_max = (
        theory.BOUNDS[args.bound].largest_step(args.L) if args.eta_max is None else args.eta_max
    )
    _check_levels(eta_max, args.eta_min)
    T = args.budget
    _check_memory(T, f"-T {T}")
    rows = []  # one schedule at a time: the memory of one
    for key, curve in curves(args.phi, args.peers, eta_max, args.eta_min):
        lrs = sample(curve, T)
        bound = float(fn(lrs, **constants))  # may refuse a schedule
        name = f"phi={key:g}" if isinstance(key, float) else key
        rows.append((name, *_sums(lrs), bound))
        del lrs
    described = ", ".join(f"{k} = {v:g}" for k, v in constants.items())
    print(
        f"{args.bound} bound, budget T = {T}, {described}, eta_max = {eta_max:g}, "
        f"eta_min = {args.eta_min:g}"
    )
    width = max([9] + [len(row[0]) for row in rows])
    print(f"{'schedule':<{width}}  {'sum eta':>12}  {'sum eta^2':>12}  {'bound':>12}")
    for name, first, second, bound in rows:
        print(f"{name:<{width}}  {first:>12.6g}  {second:>12.6g}  {bound:>12.6g}")
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
    plot = not args.no_plot and _matplotlib() is not None
    if plot:
        _check_image(args.plot)
    print(f"UBA schedule g(t), budget T = {args.budget} (eta = eta_min + (eta_max - eta_min) g)")
    _print_table(table_lines(args.budget, args.phi, args.rows))
    if args.no_plot:
        return
    if not plot:
        print("matplotlib is not installed: no plot (pip install 'uba[plot]')", file=sys.stderr)
        return
    from uba.plotting import plot_schedules

    _save(plot_schedules(args.budget, args.phi), args.plot)
    print(f"wrote {args.plot}")


def main(argv: Sequence[str] | None = None, *, prog: str = "uba") -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); the exit
    status.  ``prog`` is the command's name in its messages."""
    parser = build_parser(prog)
    parser.set_defaults(run=_run_main_job, subparser=parser)
    args = parser.parse_args(argv)
    try:
        args.run(args)
        if sys.stdout is not None:  # (None where the shell closed it: uba >&-)
            sys.stdout.flush()  # a failure to write the output is reported here, not at exit
    except (_Fail, ValueError) as exc:
        # Bad values the parser could not see (a peer's or a bound's range),
        # a missing optional dependency, an unwritable output: exit 2.
        args.subparser.error(str(exc))
    except MemoryError as exc:
        args.subparser.error(f"not enough memory for this request: {exc}")
    except Warning as exc:  # a warning made an error (python -W error): still one line
        args.subparser.error(f"{type(exc).__name__}: {exc}")
    except BrokenPipeError:
        # The reader went away (python -m uba table | head): stop quietly,
        # and keep Python from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        # stdout on a full disk (images are _Fail): one line, and the same
        # guard against a second failure at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{args.subparser.prog}: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C: one line, no traceback, the shell's status for SIGINT
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m uba"))
