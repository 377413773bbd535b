"""uba against its peers, measured in one process: python benchmarks/run.py

Prints every ratio with medians over repeats and a description of the machine,
and writes benchmarks/RESULTS.md (--output to write elsewhere, --no-write not to).

  1. UBALR.step() against torch's CosineAnnealingLR.step() on the same optimizer
     setup: 1 and 8 parameter groups, float and float32-tensor lrs (targets:
     <= 1.0 x with one float group, <= 0.5 x with 8 float32-tensor groups).
  2. uba.schedule over 1e5 and 1e7 float64 steps against the same formula in NumPy.
  3. uba.theory.worst_case_residual at T = 1e4 against a NumPy dense grid that
     reaches the same accuracy (1e-9 relative); skipped without uba.theory.
  4. `import uba` time beyond `import numpy`, in fresh interpreters.
  5. uba.theory.worst_case_noisy_error at n = 1e4 and 1e5 against NumPy on an
     8,192-point curvature grid, and its accuracy against a 65,536-point grid.
  6. uba.theory.optimal_phi with noise at T = 1e4 and 1e5 against
     scipy.optimize.minimize_scalar over log phi of the 8,192-point NumPy
     objective, and the objective each reaches.
  7. uba.theory.optimal_phi_strongly_convex at T = 1e6 against one NumPy
     evaluation of bound (c) at that T.
  8. uba.theory.choose_phi at T = 1e5 over 256 curvatures, the peak given and
     chosen, against ONE NumPy evaluation of the expected loss at a single phi
     (the loop over steps a user writes, and a faster blocked form); and one
     uba.theory.expected_loss against the same.

Timing: each comparison runs in rounds; a round times the peer and uba back to back
(alternating which goes first), so both see the same machine load, and the ratio is
taken per round.  Reported: the median time of each and the median of the per-round
ratios.  Times are CPU time of the measuring thread (time.thread_time), not wall time:
on a machine shared with other jobs, time spent descheduled would otherwise land on
whichever side happened to be running (every timed call here runs on that thread).
Nothing here is asserted by the tests: timings are reported, never checked.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Measure the checkout this file is in when its extension is built in place
# (python setup.py build_ext --inplace); otherwise the installed uba.
if any(p.suffix in (".so", ".pyd") for p in (HERE.parent / "uba").glob("_core*")):
    sys.path.insert(0, str(HERE.parent))

from peers import (  # noqa: E402
    numpy_bound_strongly_convex,
    numpy_expected_loss,
    numpy_expected_loss_loop,
    numpy_log_worst_case_noisy_error,
    numpy_log_worst_case_residual,
    numpy_optimal_phi,
    numpy_schedule,
)

import uba  # noqa: E402
from uba._io import write_text  # noqa: E402

CLOCK = time.thread_time  # CPU time of this thread; see the module docstring


@dataclass
class Row:
    section: str
    case: str
    peer: str
    peer_time: float  # seconds per call (median)
    uba_time: float
    ratio: float  # median over rounds of uba_time / peer_time
    unit: str = "per call"
    target: str = ""
    met: str | None = None  # "yes", "no", or a mixed verdict
    note: str = ""
    extra: dict = field(default_factory=dict)


def yes_no(ok: bool) -> str:
    return "yes" if ok else "no"


def fmt_time(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def compare(peer: Callable[[], object], mine: Callable[[], object], number: int, rounds: int):
    """Median seconds per call of peer and mine, and the median per-round ratio mine/peer."""
    peer_t, mine_t, ratios = [], [], []
    timers = (timeit.Timer(peer, timer=CLOCK), timeit.Timer(mine, timer=CLOCK))
    for r in range(rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        got = [0.0, 0.0]
        for i in order:
            got[i] = timers[i].timeit(number) / number
        peer_t.append(got[0])
        mine_t.append(got[1])
        ratios.append(got[1] / got[0])
    return statistics.median(peer_t), statistics.median(mine_t), statistics.median(ratios)


# ---------------------------------------------------------------------------- machine


def _where(module_file: str) -> str:
    """Where uba came from, without naming this machine's paths."""
    checkout = Path(module_file).resolve().parent.parent
    return "this checkout" if (checkout / "csrc" / "uba.h").exists() else "installed"


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu in ("", platform.machine()):
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    clone = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "default"
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "schedule kernel clone (by CPU flags)": clone,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "uba": f"{uba.__version__} ({_where(uba.__file__)})",
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = "not installed"
    if hasattr(os, "getloadavg"):
        info["load average at start (1, 5, 15 min)"] = ", ".join(
            f"{x:.2f}" for x in os.getloadavg()
        )
    return info


# ---------------------------------------------------------------------------- 1. step


def bench_step(quick: bool) -> list[Row]:
    try:
        import torch
    except ImportError:
        print("1. skipped: torch not installed")
        return []
    from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler

    class TorchStepOnly(LRScheduler):
        """Keeps every lr: what torch's own step() bookkeeping costs."""

        def get_lr(self):
            return [group["lr"] for group in self.optimizer.param_groups]

    def optimizer(groups: int, tensor: bool) -> torch.optim.Optimizer:
        params = [torch.nn.Parameter(torch.zeros(4)) for _ in range(groups)]
        return torch.optim.SGD(
            [{"params": [p], "lr": torch.tensor(0.1) if tensor else 0.1} for p in params]
        )

    def ready(make: Callable[[torch.optim.Optimizer], LRScheduler], groups: int, tensor: bool):
        opt = optimizer(groups, tensor)
        sched = make(opt)
        opt.step()  # so that no step-order warning path is timed
        sched.step()
        return sched

    T = 10**9
    rows = []
    rounds = 5 if quick else 21
    for groups, tensor in [(1, False), (1, True), (8, False), (8, True)]:
        kind = "float32-tensor" if tensor else "float"
        cos = ready(lambda o: CosineAnnealingLR(o, T), groups, tensor)
        mine = ready(lambda o: uba.UBALR(o, T, phi=2.0), groups, tensor)
        bare = ready(lambda o: TorchStepOnly(o), groups, tensor)
        per_call = 1.5e-6 * groups * (8 if tensor else 1)
        number = max(200, int(0.02 / per_call)) // (4 if quick else 1)
        cos_t, mine_t, ratio = compare(cos.step, mine.step, number, rounds)
        _, bare_t, bare_ratio = compare(cos.step, bare.step, number, max(3, rounds // 3))
        target, met = "", None
        if (groups, tensor) == (1, False):
            target, met = "<= 1.0", yes_no(ratio <= 1.0)
        elif (groups, tensor) == (8, True):
            target, met = "<= 0.5", yes_no(ratio <= 0.5)
        rows.append(
            Row(
                "1. scheduler step",
                f"{groups} group{'s' if groups > 1 else ''}, {kind} lr",
                "CosineAnnealingLR.step()",
                cos_t,
                mine_t,
                ratio,
                target=target,
                met=met,
                extra={"torch step only": bare_t, "torch step only ratio": bare_ratio},
            )
        )
        print(
            f"1. step  {groups} x {kind:14s}  CosineAnnealingLR {fmt_time(cos_t):>9s}  "
            f"UBALR {fmt_time(mine_t):>9s}  ratio {ratio:.3f}   "
            f"(torch's step() alone {fmt_time(bare_t)}, {bare_ratio:.2f})"
        )
    return rows


# ---------------------------------------------------------------------------- 2. schedule


def bench_schedule(quick: bool) -> list[Row]:
    rows = []
    phi, eta_max, eta_min = 0.7, 0.1, 1e-4
    for n, rounds in [(10**5, 21), (10**7, 11)]:
        if quick:
            rounds = 3
        t = np.arange(n, dtype=np.float64)
        ours = uba.schedule(t, n, phi, eta_max, eta_min)
        theirs = numpy_schedule(t, n, phi, eta_max, eta_min)
        body = t < 0.99 * n  # the NumPy form cancels near T
        assert np.allclose(theirs[body], ours[body], rtol=1e-12, atol=0)
        number = 20 if n == 10**5 else 1
        numpy_t, uba_t, ratio = compare(
            lambda: numpy_schedule(t, n, phi, eta_max, eta_min),
            lambda: uba.schedule(t, n, phi, eta_max, eta_min),
            number,
            rounds,
        )
        per_step = uba_t / n
        row = Row(
            "2. schedule",
            f"{n:.0e} steps, float64",
            "NumPy formula",
            numpy_t,
            uba_t,
            ratio,
            note=f"{per_step * 1e9:.2f} ns/step",
        )
        if n == 10**7:
            row.target = ">= 20x faster; <= 3 ns/step"
            row.met = (
                f"{yes_no(1 / ratio >= 20)} ({1 / ratio:.1f}x); "
                f"{yes_no(per_step <= 3e-9)} ({per_step * 1e9:.2f} ns)"
            )
        # What bounds the ratio: NumPy's cos alone, and one streaming pass
        # into a fresh array (what any function returning a new array pays).
        cos_t = min(timeit.repeat(lambda: np.cos(t), number=number, repeat=5, timer=CLOCK))
        copy_t = min(
            timeit.repeat(lambda: np.multiply(t, 1.0), number=number, repeat=5, timer=CLOCK)
        )
        row.extra["cos"] = cos_t / number / n
        row.extra["copy"] = copy_t / number / n
        row.note += (
            f"; NumPy's cos alone {cos_t / number / n * 1e9:.2f} ns/step, one NumPy pass "
            f"into a fresh array (t * 1.0) {copy_t / number / n * 1e9:.2f} ns/step"
        )
        rows.append(row)
        print(
            f"2. schedule {n:.0e} steps  NumPy {fmt_time(numpy_t):>9s}  uba {fmt_time(uba_t):>9s}"
            f"  ratio {ratio:.3f} ({1 / ratio:.1f}x faster, {per_step * 1e9:.2f} ns/step)"
        )
    return rows


# ---------------------------------------------------------------------------- 3. theory


def load_theory():
    """uba.theory of the uba being measured, or None (not yet merged here)."""
    try:
        import uba.theory as theory
    except Exception:
        return None
    # An editable install elsewhere can serve a theory.py that does not match
    # this uba's C extension: only a module beside the measured uba counts.
    if Path(theory.__file__).resolve().parent != Path(uba.__file__).resolve().parent:
        return None
    if not hasattr(theory, "worst_case_residual"):
        return None
    return theory


def bench_residual(quick: bool) -> list[Row]:
    theory = load_theory()
    if theory is None:
        print("3. worst_case_residual: skipped: uba.theory not available")
        return []
    T, lam_min, kappa = 10**4, 1.0, 1e4
    lam_max = kappa * lam_min
    rows = []
    # docs/theory.md section 1: UBA with eta_max = 1/lam_min, eta_min = 1/lam_max at the
    # midpoints; phi = 2 kappa is the min-max (Chebyshev) schedule, whose residual
    # equioscillates over the ~T lobes; phi = 4 kappa is off that optimum.
    cases = [
        ("phi = 4 kappa (off the optimum)", 4 * kappa),
        ("phi = 2 kappa (Chebyshev)", 2 * kappa),
    ]
    for label, phi in cases:
        lrs = uba.schedule(np.arange(T) + 0.5, T, phi, 1 / lam_min, 1 / lam_max)
        if hasattr(theory, "log_worst_case_residual"):
            ref_log = theory.log_worst_case_residual(lrs, lam_min, lam_max)
        else:
            ref_log = math.log(theory.worst_case_residual(lrs, lam_min, lam_max))
        # the smallest grid (doubling from 256) whose result is within 1e-9
        grid, reached, spent = 256, False, 0.0
        budget = 10.0 if quick else 40.0
        while True:
            start = CLOCK()
            got = numpy_log_worst_case_residual(lrs, lam_min, lam_max, grid=grid)
            spent += CLOCK() - start
            err = abs(math.expm1(got - ref_log))
            if err <= 1e-9:
                reached = True
                break
            if spent > budget or grid >= 2**20:
                break
            grid *= 2
        rounds = 1 if spent > 10 else 2 if spent > 3 else 3 if quick else 7

        def peer(lrs: np.ndarray = lrs, grid: int = grid) -> float:
            return numpy_log_worst_case_residual(lrs, lam_min, lam_max, grid=grid)

        def mine(lrs: np.ndarray = lrs) -> float:
            return float(theory.worst_case_residual(lrs, lam_min, lam_max))

        numpy_t, uba_t, ratio = compare(peer, mine, 1, rounds)
        if reached:
            note = f"NumPy grid of {grid} points reaches {err:.1e} relative"
        else:  # then 1 / ratio is a lower bound on the speed-up
            note = (
                f"NumPy grid did not reach 1e-9 (still {err:.1e} at {grid} points, "
                f"{spent:.0f} s of doubling): uba is at least {1 / ratio:.0f}x faster"
            )
        met = yes_no(1 / ratio >= 20)
        rows.append(
            Row(
                "3. worst_case_residual",
                f"T = 1e4, kappa = 1e4, {label}",
                "NumPy dense grid",
                numpy_t,
                uba_t,
                ratio,
                target=">= 20x faster at equal accuracy",
                met=met,
                note=note,
            )
        )
        print(
            f"3. residual {label}: NumPy grid {fmt_time(numpy_t)}  uba {fmt_time(uba_t)}  "
            f"ratio {ratio:.3f} ({1 / ratio:.1f}x); {note}"
        )
    return rows


# ---------------------------------------------------------------------------- 4. import


def bench_import(quick: bool) -> list[Row]:
    root = str(Path(uba.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    code = (
        "import time\n"
        "t0 = time.thread_time()\n"
        "import numpy\n"
        "t1 = time.thread_time()\n"
        "import uba\n"
        "t2 = time.thread_time()\n"
        f"assert uba.__file__.startswith({root!r})\n"
        "print(t1 - t0, t2 - t1)\n"
    )
    numpy_t, uba_t = [], []
    for _ in range(5 if quick else 21):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        ).stdout.split()
        numpy_t.append(float(out[0]))
        uba_t.append(float(out[1]))
    beyond = statistics.median(uba_t)
    row = Row(
        "4. import",
        "`import uba` after `import numpy`, fresh interpreters",
        "import numpy",
        statistics.median(numpy_t),
        beyond,
        beyond / statistics.median(numpy_t),
        target="<= 30 ms beyond numpy",
        met=yes_no(beyond <= 0.030),
        note=f"{beyond * 1e3:.1f} ms beyond numpy",
    )
    print(
        f"4. import: numpy {fmt_time(row.peer_time)}, uba beyond it {fmt_time(beyond)} "
        f"(median of {len(uba_t)} fresh interpreters, CPU time)"
    )
    return [row]


# ---------------------------------------------------------------------------- 5-7. theory at scale


def speed_row(
    section: str,
    case: str,
    peer: str,
    times: tuple[float, float, float],
    target: str,
    met: str | None,
    note: str = "",
) -> Row:
    """The Row of a timed comparison, printed as one line as it is made."""
    peer_t, uba_t, ratio = times
    print(
        f"{section} {case}: {peer} {fmt_time(peer_t)}  uba {fmt_time(uba_t)}  "
        f"uba / peer {ratio:.4f}; target {target}: {met}. {note}"
    )
    return Row(section, case, peer, peer_t, uba_t, ratio, target=target, met=met, note=note)


# The curvature range and noise of sections 5 and 6: kappa = 1e4, where the
# noisy optimum of phi is inside the search range (not at an end).
KAPPA, SIGMA2 = 1e4, 1e-6


def noisy_cases(n: int) -> list[tuple[str, np.ndarray]]:
    """UBA at the Chebyshev shape (the worst case sits at lam_min), and a
    schedule whose peak 2.5/lam_min overshoots (the worst case is inside the
    range, next to lam_max, where the lobes of the polynomial are finest)."""
    t = np.arange(n) + 0.5
    return [
        ("UBA phi = 2 kappa", uba.schedule(t, n, 2 * KAPPA, 1.0, 1 / KAPPA)),
        ("peak 2.5 / lam_min, phi = kappa / 2", uba.schedule(t, n, KAPPA / 2, 2.5, 0.5 / KAPPA)),
    ]


def bench_noisy(quick: bool) -> list[Row]:
    theory = load_theory()
    if theory is None or not hasattr(theory, "worst_case_noisy_error"):
        print("5. worst_case_noisy_error: skipped: uba.theory not available")
        return []
    from uba import _core

    rows = []
    for n in (10**4, 10**5):
        for label, lrs in noisy_cases(n):
            got, lam = _core.worst_case_noisy_error(lrs, 1.0, KAPPA, SIGMA2, None)
            # accuracy: both values are E x^2 at actual curvatures, so the
            # larger is the nearer to the true maximum; ours is checked by
            # evaluating the NumPy recursion at its maximiser
            grid8, _ = numpy_log_worst_case_noisy_error(lrs, 1.0, KAPPA, SIGMA2, grid=8192)
            grid64, _ = numpy_log_worst_case_noisy_error(lrs, 1.0, KAPPA, SIGMA2, grid=65536)
            at_ours, _ = numpy_log_worst_case_noisy_error(lrs, lam, lam, SIGMA2, grid=1)
            real = abs(at_ours - got) <= 1e-9 * max(1.0, abs(got))
            rounds = 1 if quick or n > 10**4 else 3

            def peer(lrs: np.ndarray = lrs) -> object:
                return numpy_log_worst_case_noisy_error(lrs, 1.0, KAPPA, SIGMA2, grid=8192)

            def mine(lrs: np.ndarray = lrs) -> object:
                return theory.worst_case_noisy_error(lrs, 1.0, KAPPA, sigma2=SIGMA2)

            times = compare(peer, mine, 1, rounds)
            at_least = got >= grid64 - 1e-12 * abs(grid64)
            rows.append(
                speed_row(
                    "5. worst_case_noisy_error",
                    f"n = {n:.0e}, kappa = 1e4, sigma2 = 1e-6, {label}",
                    "NumPy, 8,192-point grid",
                    times,
                    ">= 10x faster; at least as accurate as 65,536 points",
                    f"{yes_no(times[2] <= 0.1)} ({1 / times[2]:.0f}x); {yes_no(at_least and real)}",
                    f"log max: uba {got:.12f} at lam = {lam:.9g} (NumPy at that lam: "
                    f"{at_ours:.12f}); 8,192-point grid {grid8:.12f}, 65,536-point grid "
                    f"{grid64:.12f}",
                )
            )
    return rows


def bench_optimal_phi(quick: bool) -> list[Row]:
    theory = load_theory()
    if theory is None or not hasattr(theory, "optimal_phi"):
        print("6. optimal_phi: skipped: uba.theory not available")
        return []
    from uba import _core

    rows = []
    for T in (10**4, 10**5):
        t = np.arange(T) + 0.5

        def objective(phi: float, T: int = T, t: np.ndarray = t) -> float:
            lrs = uba.schedule(t, T, phi, 1.0, 1 / KAPPA)
            return theory.log_worst_case_noisy_error(lrs, 1.0, KAPPA, sigma2=SIGMA2)

        found: dict[str, tuple[float, float]] = {}

        def peer(T: int = T) -> None:
            found["numpy"] = numpy_optimal_phi(T, 1.0, KAPPA, SIGMA2)

        def mine(T: int = T) -> None:
            found["uba"] = _core.optimal_phi(
                T, 1.0, KAPPA, SIGMA2, 1.0, 1 / KAPPA, (1e-6, 1e8), None
            )

        times = compare(peer, mine, 1, 1)
        phi_np, phi_uba = found["numpy"][0], found["uba"][0]
        # both phi judged by the same (uba's) worst case
        obj_np, obj_uba = objective(phi_np), objective(phi_uba)
        no_worse = obj_uba <= obj_np + 1e-12 * abs(obj_np)
        rows.append(
            speed_row(
                "6. optimal_phi with noise",
                f"T = {T:.0e}, kappa = 1e4, sigma2 = 1e-6",
                "scipy minimize_scalar, NumPy 8,192-point objective",
                times,
                ">= 10x faster, objective no worse",
                f"{yes_no(times[2] <= 0.1)} ({1 / times[2]:.0f}x); {yes_no(no_worse)}",
                f"phi: uba {phi_uba:.9g}, NumPy+scipy {phi_np:.9g}; log worst case at each "
                f"(uba's evaluation): {obj_uba:.12f} and {obj_np:.12f}; the NumPy grid's own "
                f"value at its phi {found['numpy'][1]:.12f}",
            )
        )
    return rows


def bench_optimal_phi_sc(quick: bool) -> list[Row]:
    theory = load_theory()
    if theory is None or not hasattr(theory, "optimal_phi_strongly_convex"):
        print("7. optimal_phi_strongly_convex: skipped: uba.theory not available")
        return []
    T, mu, L, sigma2, f_gap = 10**6, 0.01, 1.0, 0.01, 1.0
    lrs = uba.schedule(np.arange(T, dtype=np.float64), T, 3.0, 1.0 / L)
    times = compare(
        lambda: numpy_bound_strongly_convex(lrs, mu, L, sigma2, f_gap),
        lambda: theory.optimal_phi_strongly_convex(T, mu=mu, L=L, sigma2=sigma2, f_gap=f_gap),
        1,
        3 if quick else 7,
    )
    return [
        speed_row(
            "7. optimal_phi_strongly_convex",
            "T = 1e6, mu = 0.01, L = 1, sigma2 = 0.01",
            "one NumPy evaluation of bound (c)",
            times,
            "<= 10x one NumPy bound (c)",
            f"{yes_no(times[2] <= 10)} ({times[2]:.1f}x)",
        )
    ]


def bench_choose_phi(quick: bool) -> list[Row]:
    theory = load_theory()
    if theory is None or not hasattr(theory, "choose_phi"):
        print("8. choose_phi: skipped: uba.theory.choose_phi not available")
        return []
    T = 10**5
    lam = np.arange(1, 257, dtype=np.float64) ** -1.5  # lam_max = 1
    noise = 1e-2 * lam  # Hessian-shaped
    lrs = uba.schedule(np.arange(T, dtype=np.float64), T, 1.0, 1.0)
    rounds = 1 if quick else 3

    def loop() -> float:
        return numpy_expected_loss_loop(lrs, lam, 1.0, noise)

    def blocked() -> float:
        return numpy_expected_loss(lrs, lam, 1.0, noise)

    def one() -> float:
        return theory.expected_loss(lrs, lam, noise=noise)

    loss = one()
    agree = max(abs(loop() / loss - 1.0), abs(blocked() / loss - 1.0))
    rows = []
    for peer_name, peer in (("the loop over steps", loop), ("the blocked form", blocked)):
        times = compare(peer, one, 1, rounds)
        rows.append(
            speed_row(
                "8. expected_loss",
                "T = 1e5, 256 curvatures k^-1.5, Hessian-shaped noise",
                f"one NumPy evaluation, {peer_name}",
                times,
                "",
                None,
                f"{times[1] / (T * 256) * 1e9:.2f} ns per step and curvature; NumPy "
                f"agrees to {agree:.1e}"
                if peer is loop
                else "",
            )
        )
    found: dict[str, Any] = {}
    for label, eta_max in (("peak given (1/lam_max)", 1.0), ("peak chosen too", None)):

        def mine(eta_max: float | None = eta_max) -> None:
            with warnings.catch_warnings():  # the peak may sit at 2/lam_max
                warnings.simplefilter("ignore", theory.BoundaryWarning)
                found[label] = theory.choose_phi(T, lam, noise=noise, eta_max=eta_max)

        for peer_name, peer in (("the loop over steps", loop), ("the blocked form", blocked)):
            times = compare(peer, mine, 1, rounds)
            c = found[label]
            given = eta_max is not None
            rows.append(
                speed_row(
                    "8. choose_phi",
                    f"T = 1e5, 256 curvatures, {label}",
                    f"ONE NumPy evaluation of the loss, {peer_name}",
                    times,
                    "<= 10x one NumPy evaluation" if given else "",
                    f"{yes_no(times[2] <= 10)} ({times[2]:.2f}x)" if given else None,
                    f"phi = {c.phi:.4g}, eta_max = {c.eta_max:.4g}, {c.evaluations} "
                    "evaluations of the loss"
                    if peer is loop
                    else "",
                )
            )
    return rows


# ---------------------------------------------------------------------------- report


def results_markdown(
    info: dict[str, str], rows: list[Row], elapsed: float, skipped: list[str]
) -> str:
    lines = [
        "# Benchmarks: uba against its peers",
        "",
        "Written by `python benchmarks/run.py` (see its docstring for the method): every",
        "comparison runs in rounds that time the peer and uba back to back in one process;",
        "times are medians over rounds, ratios (uba / peer) the median of the per-round ratios.",
        "Lower ratios are better for uba. The machine is shared, so absolute times are noisy;",
        "the ratios are what to compare.",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += [
        "",
        "## Results",
        "",
        "| benchmark | case | peer | peer time | uba time | uba / peer | target | met |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        met = "" if r.met is None else r.met.replace("no", "**no**")
        lines.append(
            f"| {r.section} | {r.case} | {r.peer} | {fmt_time(r.peer_time)} | "
            f"{fmt_time(r.uba_time)} | {r.ratio:.3f} | {r.target} | {met} |"
        )
    lines += ["", "## Notes", ""]
    step = [r for r in rows if r.section.startswith("1.")]
    if step:
        lines.append(
            "- Step: UBALR.step() is torch's own LRScheduler.step(); what torch's "
            "bookkeeping alone costs (a scheduler whose get_lr() keeps the lrs), "
            "measured in the same run: "
            + "; ".join(
                f"{r.case}: {fmt_time(r.extra['torch step only'])} "
                f"({r.extra['torch step only ratio']:.2f} x CosineAnnealingLR)"
                for r in step
            )
            + "."
        )
    for r in rows:
        if r.note:
            lines.append(f"- {r.section}, {r.case}: {r.note}.")
    for s in skipped:
        lines.append(f"- {s}")
    lines += ["", f"Total run time: {elapsed:.0f} s.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    info = machine()
    for k, v in info.items():
        print(f"{k}: {v}")
    print()
    rows: list[Row] = []
    skipped: list[str] = []
    rows += bench_step(args.quick)
    rows += bench_schedule(args.quick)
    residual = bench_residual(args.quick)
    if not residual:
        skipped.append("3. worst_case_residual: skipped: uba.theory not available.")
    rows += residual
    rows += bench_import(args.quick)
    rows += bench_noisy(args.quick)
    rows += bench_optimal_phi(args.quick)
    rows += bench_optimal_phi_sc(args.quick)
    rows += bench_choose_phi(args.quick)
    elapsed = time.perf_counter() - start
    if hasattr(os, "getloadavg"):
        info["load average at end (1, 5, 15 min)"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    for r in rows:
        if r.met is not None:
            print(f"target {r.section} {r.case} {r.target}: {r.met}")
    print(f"total {elapsed:.0f} s")
    if not args.no_write:
        write_text(args.output, results_markdown(info, rows, elapsed, skipped))
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
