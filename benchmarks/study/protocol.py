"""The study's protocol: its tasks and budgets, the runs, tuning the peak lr on
a growing grid, evaluation on held-out seeds, and the process pool.

For every task, schedule and budget (10%, 30%, 100% of a full run):
  1. tune: the peak lr on a grid of factor 2 around a task default, each point
     scored by the mean validation metric of the tuning seeds; the grid grows by
     one point past an edge until the best point is interior;
  2. evaluate: the chosen lr with the evaluation seeds (never used in tuning),
     each run scored on the test split.
`Results` holds the evaluation runs and the choices made on validation (the
best UBA phi, the best other schedule) and compares schedules on test.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import uba

from .nqm import EXPECTED_LOSS, GEOMETRIC, NQM, POWER_LAW
from .schedules import PEERS, PHI_OF, SCHEDULES, GivenPhi
from .statistics import Comparison, paired
from .tasks import Chars, Digits

GRID_FACTOR = 2.0

#: Each task's runner: train(...) -> (validation, test) and probe(...).
RUNNERS: dict[str, Any] = {
    "digits": Digits(),
    "chars": Chars(),
    "nqm": NQM(GEOMETRIC, EXPECTED_LOSS),
    "nqm_power": NQM(POWER_LAW, EXPECTED_LOSS),
}


@dataclass(frozen=True)
class Task:
    name: str
    metric: str
    full: int  # the full budget; the others are 10% and 30% of it
    quick: int
    center: float  # the tuning grid starts at center * {1/2, 1, 2}
    warmup: float  # the warmup, as a fraction of the budget

    def budgets(self, quick: bool) -> list[int]:
        if quick:
            return [self.quick // 4, self.quick // 2, self.quick]
        return [self.full // 10, (3 * self.full) // 10, self.full]

    def warmup_steps(self, T: int) -> int:
        return round(self.warmup * T)


TASKS = {
    "digits": Task("digits", "cross-entropy (small CNN, scikit-learn digits)", 1500, 60, 0.1, 0.0),
    "chars": Task(
        "chars", "bits per byte (byte-level transformer, stdlib sources)", 800, 24, 3e-3, 0.05
    ),
    "nqm": Task(
        "nqm",
        "expected final loss (noisy quadratic: 400 curvatures geometric in [0.01, 1], "
        "isotropic noise)",
        200,
        40,
        2.0,
        0.0,
    ),
    "nqm_power": Task(
        "nqm_power",
        "expected final loss (noisy quadratic: power-law spectrum k^-1.5, d = 1000, "
        "Hessian-shaped noise)",
        1000,
        40,
        1.0,
        0.0,
    ),
}

#: The schedules of the smoke test.
QUICK_SCHEDULES = (
    "uba_phi=1",
    "cosine",
    "uba_probe",
    "wsd",
    "rex",
    "constant",
    "uba_choose_phi",
    "uba_theory_phi",
)


def schedules_of(task: str, quick: bool = False) -> tuple[str, ...]:
    """The schedules run on `task`: the study's, then the task's own phi rows."""
    names = SCHEDULES + tuple(RUNNERS[task].phi_rows)
    return tuple(n for n in names if n in QUICK_SCHEDULES) if quick else names


# ---- runs -------------------------------------------------------------------------------


@dataclass
class Run:
    task: str
    schedule: str
    budget: int
    seed: int
    peak_lr: float
    phase: str  # "tune" or "eval"
    phi: float = math.nan  # UBA's phi (nan for the other schedules)
    phi_note: str = ""  # what to know about a computed phi (schedules.GivenPhi)
    phi_reason: str = ""  # the probe's reason for its phi, in a sentence
    val: float = math.nan
    test: float = math.nan
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


@dataclass
class Probe:
    task: str
    seed: int
    lam_min: float
    lam_max: float
    kappa: float
    sigma2: float
    dist2: float
    noise: float
    negative_share: float
    hvps: int
    gradients: int
    cpu_seconds: float
    # its own answer, for the task's full budget at the grid's center lr
    phi: float
    abstained: bool
    gain: float
    gain_low: float
    reason: str
    result: Any = field(default=None, repr=False)  # the uba.probe.ProbeResult


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The processes the runs and probes go to, 1 torch thread each."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker)


def _phi_for(run: Run, probe: Probe | None) -> GivenPhi:
    task = TASKS[run.task]
    uba_T = run.budget - task.warmup_steps(run.budget)
    if run.schedule == "uba_probe":
        assert probe is not None
        with _expected_warnings():
            return GivenPhi.of_probe(probe.result.decide(uba_T, lr=run.peak_lr))
    rule = RUNNERS[run.task].phi_rows.get(run.schedule)
    if rule is not None:
        return rule(uba_T, run.peak_lr)  # its own warnings are its notes
    return GivenPhi(PHI_OF.get(run.schedule, math.nan))


@contextlib.contextmanager
def _expected_warnings() -> Iterator[None]:
    """uba.theory's StabilityWarning and BoundaryWarning, silenced where the
    study expects them: the tuning grid tries peaks above the stability limit
    on purpose, and the probe's answer at an end of its search range is still
    its answer (runs.csv records each run's phi, its note and the probe's
    reason)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", uba.theory.StabilityWarning)
        warnings.simplefilter("ignore", uba.theory.BoundaryWarning)
        yield


def _work(job: tuple[Run, Probe | None, bool]) -> Run:
    run, probe, quick = job
    wall, cpu = time.perf_counter(), time.process_time()
    given = _phi_for(run, probe)
    run.phi, run.phi_note, run.phi_reason = given.phi, given.note, given.reason
    run.val, run.test = RUNNERS[run.task].train(
        run.schedule,
        run.budget,
        run.seed,
        run.peak_lr,
        run.phi,
        TASKS[run.task].warmup_steps(run.budget),
        test=run.phase == "eval",
        quick=quick,
    )
    run.cpu_seconds = time.process_time() - cpu
    run.wall_seconds = time.perf_counter() - wall
    return run


#: A cheaper probe for the smoke test.
QUICK_PROBE = {"lanczos_steps": 4, "vectors": 1, "n_batches": 4, "hessian_batches": 1}


def _probe_work(job: tuple[str, int, bool]) -> Probe:
    task, seed, quick = job
    cpu = time.process_time()
    with _expected_warnings():
        result = RUNNERS[task].probe(
            seed, TASKS[task].full, TASKS[task].center, **(QUICK_PROBE if quick else {})
        )
    return Probe(
        task,
        seed,
        result.lam_min,
        result.lam_max,
        result.kappa,
        result.sigma2,
        result.dist2,
        result.noise,
        result.negative_share,
        result.hvps,
        result.gradients,
        time.process_time() - cpu,
        result.phi,
        result.abstained,
        result.gain,
        result.gain_low,
        result.reason,
        result,
    )


# ---- tuning and evaluation ---------------------------------------------------------------


@dataclass
class Tuning:
    """The peak-lr grid of one (task, schedule, budget): lr = center * 2**k."""

    center: float
    scores: dict[int, list[float]] = field(default_factory=dict)

    def lr(self, k: int) -> float:
        return self.center * GRID_FACTOR**k

    def mean(self, k: int) -> float:
        return float(np.mean(self.scores[k])) if k in self.scores else math.inf

    def best(self) -> int:
        return min(self.scores, key=self.mean)

    def next_point(self) -> int | None:
        """The grid point to add, or None once the best point is interior."""
        best = self.best()
        if best == min(self.scores):
            return best - 1
        if best == max(self.scores):
            return best + 1
        return None

    def interior(self) -> bool:
        return self.next_point() is None


def run_study(
    tasks: list[str],
    quick: bool,
    tune_seeds: list[int],
    eval_seeds: list[int],
    pool: Executor,
    max_rounds: int,
) -> tuple[list[Run], list[Probe], dict[tuple[str, str, int], Tuning]]:
    """Probe every seed's initial model, tune every (task, schedule, budget)
    for at most `max_rounds` rounds, then evaluate the chosen peaks."""
    probe_jobs = [(t, s, quick) for t in tasks for s in sorted(set(tune_seeds + eval_seeds))]
    probes = {(p.task, p.seed): p for p in pool.map(_probe_work, probe_jobs)}
    print(f"probes: {len(probes)} done", flush=True)

    def jobs(runs: list[Run]) -> list[Run]:
        # longest first, so that the workers finish together
        runs = sorted(runs, key=lambda r: -r.budget * RUNNERS[r.task].relative_cost)
        return list(pool.map(_work, [(r, probes.get((r.task, r.seed)), quick) for r in runs]))

    tunings: dict[tuple[str, str, int], Tuning] = {}

    def tune_runs(key: tuple[str, str, int], k: int) -> list[Run]:
        task, name, T = key
        tuning = tunings[key]
        tuning.scores[k] = []
        seeds = tune_seeds[:1] if RUNNERS[task].exact_validation else tune_seeds
        return [Run(task, name, T, s, tuning.lr(k), "tune") for s in seeds]

    pending: list[Run] = []
    for task in tasks:
        for T in TASKS[task].budgets(quick):
            for name in schedules_of(task, quick):
                tunings[(task, name, T)] = Tuning(TASKS[task].center)
                for k in (-1, 0, 1):
                    pending += tune_runs((task, name, T), k)
    runs: list[Run] = []
    for round_ in range(1, max_rounds + 1):
        done = jobs(pending)
        runs += done
        for r in done:
            tuning = tunings[(r.task, r.schedule, r.budget)]
            tuning.scores[round(math.log(r.peak_lr / tuning.center, GRID_FACTOR))].append(r.val)
        pending = [
            run
            for key, tuning in tunings.items()
            if (k := tuning.next_point()) is not None and round_ < max_rounds
            for run in tune_runs(key, k)
        ]
        print(f"tuning round {round_}: {len(done)} runs, {len(pending)} to add", flush=True)
        if not pending:
            break
    chosen = [
        Run(task, name, T, s, tuning.lr(tuning.best()), "eval")
        for (task, name, T), tuning in tunings.items()
        for s in eval_seeds
    ]
    runs += jobs(chosen)
    return runs, list(probes.values()), tunings


class Results:
    """The evaluation runs of a study, with the choices made on validation."""

    def __init__(self, runs: list[Run], tunings: dict[tuple[str, str, int], Tuning]) -> None:
        self.runs = runs
        self.tunings = tunings
        self.test: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
        self.phis: dict[tuple[str, str, int], list[float]] = defaultdict(list)
        self.phi_notes: dict[tuple[str, str, int], list[str]] = defaultdict(list)
        for r in runs:
            if r.phase == "eval":
                self.test[(r.task, r.schedule, r.budget)][r.seed] = r.test
                self.phis[(r.task, r.schedule, r.budget)].append(r.phi)
                self.phi_notes[(r.task, r.schedule, r.budget)].append(r.phi_note)

    def tasks(self) -> list[str]:
        return [t for t in TASKS if any(k[0] == t for k in self.test)]

    def budgets(self, task: str) -> list[int]:
        return sorted({k[2] for k in self.test if k[0] == task})

    def names(self, task: str) -> list[str]:
        return [n for n in schedules_of(task) if any(k[:2] == (task, n) for k in self.test)]

    def values(self, task: str, name: str, T: int) -> list[float]:
        return [v for _, v in sorted(self.test[(task, name, T)].items())]

    def validation(self, task: str, name: str, T: int) -> float:
        tuning = self.tunings[(task, name, T)]
        return tuning.mean(tuning.best())

    def best(self, task: str, T: int, names: Iterable[str]) -> str:
        """The schedule among `names` with the best validation score at its
        chosen lr (ties: the first)."""
        present = [n for n in names if (task, n, T) in self.test]
        return min(present, key=lambda n: self.validation(task, n, T))

    def best_uba(self, task: str, T: int) -> str:
        return self.best(task, T, PHI_OF)

    def best_other(self, task: str, T: int) -> str:
        return self.best(task, T, ("cosine", *PEERS))

    def compare(self, task: str, T: int, a: str, b: str) -> Comparison:
        """a - b on the test metric, paired by seed."""
        return paired(a, self.test[(task, a, T)], b, self.test[(task, b, T)])

    def all_interior(self) -> tuple[int, int]:
        inside = sum(t.interior() for t in self.tunings.values())
        return inside, len(self.tunings)
