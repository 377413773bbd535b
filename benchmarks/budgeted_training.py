"""Budgeted training: UBA against the schedules people use, tuned fairly, on CPU-sized tasks.

Tasks (all data ships with Python or scikit-learn; nothing is downloaded):
  digits   a small CNN on scikit-learn's digits (8x8 images), SGD with momentum 0.9;
           fixed train/validation/test split (1097/300/400); metric: cross-entropy.
  chars    a byte-level transformer language model (2 layers, width 48, context
           32) on standard-library source files, AdamW; training, validation and
           test text are different files; metric: bits per byte.
  nqm      the noisy quadratic model of docs/theory.md section 4 (400 curvatures
           in [0.01, 1], noise 1e-3, start x_0 = 1); metric: worst case over the
           curvatures of E x_T^2; validation: its exact value; test: simulated.

Schedules: UBA at phi in {0.25, 0.5, 1, 4, 8}, cosine (which is UBA at phi = 2),
UBA with phi from uba.probe.suggest_phi ("uba_probe": probed on the run's
initial model and training batches), linear decay, WSD, REX and a constant lr;
on the NQM also UBA with phi from uba.theory.optimal_phi for the true curvature
range and noise ("uba_theory_phi").  Every decaying schedule ends at 0, and
every schedule of a task has the same warmup (a 5% linear ramp on chars, none
elsewhere).  The probe's measurements depend only on the seed (the initial
model and the probe's training batches), so they are computed once per seed
and task; its phi is then computed for each run's budget and peak lr.

Protocol, for every task, schedule and budget (10%, 30%, 100% of a full run):
  1. tune: the peak lr on a grid of factor 2 around a task default, each point
     scored by the mean validation metric of the tuning seeds; the grid grows by
     one point past an edge until the best point is interior;
  2. evaluate: the chosen lr with the evaluation seeds (never used in tuning),
     each run scored on the test split.
Cells report the mean over the evaluation seeds and a 95% t-interval; two
schedules are compared by the paired difference over the same seeds (same
initial model and batch order), "better" only where its 95% interval excludes 0.
The best UBA phi and the best other schedule are chosen on validation too.

    python benchmarks/budgeted_training.py            # the full study: 8 evaluation seeds
    python benchmarks/budgeted_training.py --quick    # smoke test (about a minute)

Writes benchmarks/results/{runs.csv, probes.csv, summary.md, budgeted_training.png}
(with --quick, into benchmarks/results/quick/ unless --out is given).
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import os
import platform
import resource
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import uba

UBA_PHIS = (0.25, 0.5, 1.0, 4.0, 8.0)
#: The phi of each fixed-shape UBA schedule; cosine is UBA at phi = 2.
PHI_OF = {**{f"uba_phi={phi:g}": phi for phi in UBA_PHIS}, "cosine": 2.0}
PEERS = ("linear", "wsd", "rex", "constant")
SCHEDULES = (*PHI_OF, "uba_probe", *PEERS)
DEFAULT_PHI = "uba_phi=1"
GRID_FACTOR = 2.0


# ---- schedules as torch schedulers --------------------------------------------------


def build_scheduler(name: str, opt, T: int, warmup: int, phi: float | None = None):
    """The named schedule over T steps as a torch LRScheduler on `opt`.

    UBA is uba.UBALR (phi from the name, or `phi` for "uba_probe" and
    "uba_theory_phi"); cosine is torch's CosineAnnealingLR; linear is torch's
    LinearLR to 0; the rest are LambdaLR (WSD: flat, then linear decay to 0
    over the last 20%; REX: (1 - z) / (1 - z/2), z = t/T; constant).  Every
    decaying schedule ends at 0.  With warmup W > 0 every schedule runs after
    the same linear warmup, inside SequentialLR.
    """
    from torch.optim import lr_scheduler as S

    def main(steps: int):
        if name in PHI_OF and name != "cosine":
            return uba.UBALR(opt, steps, phi=PHI_OF[name])
        if name in ("uba_probe", "uba_theory_phi"):
            if phi is None:
                raise ValueError(f"{name} needs its phi")
            return uba.UBALR(opt, steps, phi=phi)
        if name == "cosine":
            return S.CosineAnnealingLR(opt, steps)
        if name == "linear":
            return S.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=steps)
        if name == "wsd":
            decay_from = 0.8 * steps
            return S.LambdaLR(opt, lambda t: min(1.0, max(0.0, (steps - t) / (steps - decay_from))))
        if name == "rex":
            return S.LambdaLR(opt, lambda t: max(0.0, (1 - t / steps) / (1 - t / (2 * steps))))
        if name == "constant":
            return S.LambdaLR(opt, lambda t: 1.0)
        raise ValueError(f"unknown schedule {name!r}")

    if warmup == 0:
        return main(T)
    ramp = S.LinearLR(opt, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup)
    return S.SequentialLR(opt, [ramp, main(T - warmup)], milestones=[warmup])


# ---- tasks ----------------------------------------------------------------------------


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
        "nqm", "worst case over curvatures of E x_T^2 (noisy quadratic model)", 200, 40, 2.0, 0.0
    ),
}


class Torch:
    """A task trained with torch: the model, its batches, its loss and
    evaluation, and what the probe needs to know about its optimizer."""

    batch = 32
    probe_options: ClassVar[dict[str, Any]] = {}

    def model(self, seed: int):
        raise NotImplementedError

    def optimizer(self, params, lr: float):
        raise NotImplementedError

    def batches(self, gen) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError

    def loss(self, out, y):
        raise NotImplementedError

    def evaluate(self, model, split: str, quick: bool) -> float:
        raise NotImplementedError

    clip = None  # gradient-norm clip

    def train(
        self,
        schedule: str,
        T: int,
        seed: int,
        lr: float,
        phi: float | None,
        warmup: int,
        test: bool,
        quick: bool,
    ) -> tuple[float, float]:
        """(validation, test) metrics after T steps (test: nan unless asked)."""
        import torch

        model = self.model(seed)
        opt = self.optimizer(model.parameters(), lr)
        sched = build_scheduler(schedule, opt, T, warmup, phi)
        batches = self.batches(torch.Generator().manual_seed(seed))
        for _ in range(T):
            x, y = next(batches)
            loss = self.loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.clip)
            opt.step()
            sched.step()
        with torch.no_grad():
            val = self.evaluate(model, "val", quick)
            tested = self.evaluate(model, "test", quick) if test else math.nan
        return (
            val if math.isfinite(val) else math.inf,
            tested if math.isfinite(tested) or not test else math.inf,
        )

    def probe(self, seed: int, T: int, lr: float, **options):
        """uba.probe on the run's initial model and its own training batches
        (another stream than the run's, so that the run's batches stay paired
        with the other schedules')."""
        import torch

        from uba.probe import suggest_phi

        return suggest_phi(
            self.model(seed),
            self.loss,
            self.batches(torch.Generator().manual_seed(10_000 + seed)),
            T,
            lr=lr,
            seed=seed,
            **self.probe_options,
            **options,
        )


@functools.lru_cache(maxsize=1)
def _digits_data():
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(12345).permutation(len(y))  # the fixed split
    parts = {"test": order[:400], "val": order[400:700], "train": order[700:]}
    return {k: (torch.from_numpy(x[i]), torch.from_numpy(y[i])) for k, i in parts.items()}


class Digits(Torch):
    probe_options: ClassVar[dict[str, Any]] = {"momentum": 0.9}

    def model(self, seed: int):
        import torch
        from torch import nn

        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 16, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def optimizer(self, params, lr: float):
        import torch

        return torch.optim.SGD(params, lr=lr, momentum=0.9)

    def batches(self, gen):
        import torch

        x, y = _digits_data()["train"]
        while True:
            idx = torch.randint(0, len(y), (self.batch,), generator=gen)
            yield x[idx], y[idx]

    def loss(self, out, y):
        import torch

        return torch.nn.functional.cross_entropy(out, y)

    def evaluate(self, model, split: str, quick: bool) -> float:
        x, y = _digits_data()[split]
        return self.loss(model(x), y).item()


# Standard-library files: training, validation and test text.
CHARS_FILES = {
    "train": (
        "argparse.py",
        "collections/__init__.py",
        "dataclasses.py",
        "difflib.py",
        "enum.py",
        "functools.py",
        "inspect.py",
        "json/decoder.py",
        "json/encoder.py",
        "pprint.py",
        "shutil.py",
        "string.py",
        "textwrap.py",
        "typing.py",
        "tokenize.py",
    ),
    "val": ("heapq.py", "bisect.py", "fractions.py"),
    "test": ("statistics.py", "calendar.py", "random.py"),
}
CONTEXT = 32


@functools.lru_cache(maxsize=1)
def _chars_data():
    import torch

    root = Path(sysconfig.get_paths()["stdlib"])
    out = {}
    for split, names in CHARS_FILES.items():
        missing = [n for n in names if not (root / n).is_file()]
        if missing:
            raise FileNotFoundError(f"standard-library files not found under {root}: {missing}")
        text = b"\n".join((root / n).read_bytes() for n in names)
        out[split] = torch.from_numpy(np.frombuffer(text, dtype=np.uint8).astype(np.int64))
    return out


class Chars(Torch):
    batch = 16
    clip = 1.0
    probe_options: ClassVar[dict[str, Any]] = {"optimizer": "adam"}

    def model(self, seed: int):
        import torch
        from torch import nn

        torch.manual_seed(seed)

        class CharLM(nn.Module):
            def __init__(self, d: int = 48, layers: int = 2, heads: int = 4) -> None:
                super().__init__()
                self.embed = nn.Embedding(256, d)
                self.pos = nn.Parameter(torch.zeros(CONTEXT, d))
                layer = nn.TransformerEncoderLayer(
                    d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True
                )
                self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
                self.norm = nn.LayerNorm(d)
                self.head = nn.Linear(d, 256)
                self.register_buffer(
                    "mask", nn.Transformer.generate_square_subsequent_mask(CONTEXT)
                )

            def forward(self, x):
                h = self.embed(x) + self.pos[: x.shape[1]]
                h = self.blocks(h, mask=self.mask, is_causal=True)
                return self.head(self.norm(h))

        return CharLM()

    def optimizer(self, params, lr: float):
        import torch

        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

    @staticmethod
    def _windows(data, n: int, gen):
        import torch

        starts = torch.randint(0, len(data) - CONTEXT - 1, (n,), generator=gen)
        x = torch.stack([data[s : s + CONTEXT] for s in starts])
        y = torch.stack([data[s + 1 : s + CONTEXT + 1] for s in starts])
        return x, y

    def batches(self, gen):
        train = _chars_data()["train"]
        while True:
            yield self._windows(train, self.batch, gen)

    def loss(self, out, y):
        import torch

        return torch.nn.functional.cross_entropy(out.reshape(-1, 256), y.reshape(-1))

    def evaluate(self, model, split: str, quick: bool) -> float:
        import torch

        gen = torch.Generator().manual_seed(999)  # the same windows for every run
        data = _chars_data()[split]
        losses = [
            self.loss(model(x), y).item()
            for x, y in (self._windows(data, 64, gen) for _ in range(1 if quick else 8))
        ]
        return float(np.mean(losses)) / math.log(2)


# ---- the noisy quadratic model ----------------------------------------------------------


class NQM:
    """x_{t+1} = x_t - eta_t (lam x_t + noise), noise ~ N(0, sigma2), x_0 = 1,
    for each of 400 curvatures lam in [lam_min, lam_max]; the metric is the
    worst case over lam of E x_T^2 (docs/theory.md, section 4)."""

    lam_min, lam_max, sigma2 = 0.01, 1.0, 1e-3
    lams = np.geomspace(lam_min, lam_max, 400)
    particles = 2000

    def lrs(self, name: str, T: int, peak: float, phi: float | None) -> np.ndarray:
        """The schedule's steps, sampled at t = k - 1/2 (k = 1..T) as in
        docs/theory.md; every decaying schedule ends at 0."""
        k = np.arange(1, T + 1) - 0.5
        z = k / T
        if name in PHI_OF and name != "cosine":
            return uba.schedule(k, T, PHI_OF[name], peak)
        if name in ("uba_probe", "uba_theory_phi"):
            return uba.schedule(k, T, phi, peak)
        shapes = {
            "cosine": (1 + np.cos(np.pi * z)) / 2,
            "linear": 1 - z,
            "wsd": np.clip((1 - z) / 0.2, 0, 1),
            "rex": (1 - z) / (1 - z / 2),
            "constant": np.ones_like(z),
        }
        return peak * shapes[name]

    def expected(self, lrs: np.ndarray) -> float:
        """max over lam of E x_T^2, exactly (the variance recursion)."""
        m = np.ones_like(self.lams)
        with np.errstate(over="ignore", invalid="ignore"):
            for eta in lrs:
                m = (1 - eta * self.lams) ** 2 * m + self.sigma2 * eta * eta
        value = float(m.max())
        return value if math.isfinite(value) else math.inf

    def simulated(self, lrs: np.ndarray, seed: int, particles: int) -> float:
        """The same by Monte Carlo: `particles` noisy runs per curvature."""
        rng = np.random.default_rng(seed)
        x = np.ones((particles, len(self.lams)))
        with np.errstate(over="ignore", invalid="ignore"):
            for eta in lrs:
                x = x - eta * (
                    self.lams * x + rng.standard_normal(x.shape) * math.sqrt(self.sigma2)
                )
            value = float((x * x).mean(axis=0).max())
        return value if math.isfinite(value) else math.inf

    def theory_phi(self, T: int, peak: float) -> float:
        return uba.theory.optimal_phi(
            T, self.lam_min, self.lam_max, sigma2=self.sigma2, eta_max=peak, eta_min=0.0
        )

    def train(
        self,
        schedule: str,
        T: int,
        seed: int,
        lr: float,
        phi: float | None,
        warmup: int,
        test: bool,
        quick: bool,
    ) -> tuple[float, float]:
        lrs = self.lrs(schedule, T, lr, phi)
        particles = self.particles // 10 if quick else self.particles
        return self.expected(lrs), self.simulated(lrs, seed, particles) if test else math.nan

    def probe(self, seed: int, T: int, lr: float, **options):
        """uba.probe on the NQM written as a torch model: parameters x, loss
        0.5 sum lam x^2 - xi . x for a noise draw xi (the batch)."""
        import torch

        from uba.probe import suggest_phi

        class Quadratic(torch.nn.Module):
            def __init__(self, lams: np.ndarray) -> None:
                super().__init__()
                self.register_buffer("lams", torch.from_numpy(lams))
                self.x = torch.nn.Parameter(torch.ones(len(lams), dtype=torch.float64))

            def forward(self, xi):
                return 0.5 * (self.lams * self.x * self.x).sum() - (xi * self.x).sum()

        gen = torch.Generator().manual_seed(10_000 + seed)

        def noise():
            while True:
                yield (
                    torch.randn(len(self.lams), generator=gen, dtype=torch.float64)
                    * math.sqrt(self.sigma2),
                    None,
                )

        return suggest_phi(
            Quadratic(self.lams), lambda out, _: out, noise(), T, lr=lr, seed=seed, **options
        )


RUNNERS: dict[str, Any] = {"digits": Digits(), "chars": Chars(), "nqm": NQM()}


#: The schedules of the smoke test.
QUICK_SCHEDULES = ("uba_phi=1", "cosine", "uba_probe", "wsd", "rex", "constant", "uba_theory_phi")


def schedules_of(task: str, quick: bool = False) -> tuple[str, ...]:
    names = SCHEDULES + (("uba_theory_phi",) if task == "nqm" else ())
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
    result: Any = field(default=None, repr=False)  # the uba.probe.ProbeResult


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _phi_for(run: Run, probe: Probe | None) -> float:
    task = TASKS[run.task]
    uba_T = run.budget - task.warmup_steps(run.budget)
    if run.schedule == "uba_probe":
        return probe.result.phi_for(uba_T, lr=run.peak_lr)
    if run.schedule == "uba_theory_phi":
        return RUNNERS["nqm"].theory_phi(uba_T, run.peak_lr)
    return PHI_OF.get(run.schedule, math.nan)


def _work(job: tuple[Run, Probe | None, bool]) -> Run:
    run, probe, quick = job
    wall, cpu = time.perf_counter(), time.process_time()
    run.phi = _phi_for(run, probe)
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
        result,
    )


# ---- the protocol ------------------------------------------------------------------------


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
    pool,
    max_rounds: int,
) -> tuple[list[Run], list[Probe], dict]:
    probe_jobs = [(t, s, quick) for t in tasks for s in sorted(set(tune_seeds + eval_seeds))]
    probes = {(p.task, p.seed): p for p in pool.map(_probe_work, probe_jobs)}
    print(f"probes: {len(probes)} done", flush=True)

    def jobs(runs: list[Run]) -> list[Run]:
        # longest first, so that two workers finish together
        runs = sorted(runs, key=lambda r: -r.budget * (8 if r.task == "chars" else 1))
        return list(pool.map(_work, [(r, probes.get((r.task, r.seed)), quick) for r in runs]))

    tunings: dict[tuple[str, str, int], Tuning] = {}

    def tune_runs(key: tuple[str, str, int], k: int) -> list[Run]:
        task, name, T = key
        tuning = tunings[key]
        tuning.scores[k] = []
        seeds = tune_seeds[:1] if task == "nqm" else tune_seeds  # nqm's validation is exact
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


# ---- statistics --------------------------------------------------------------------------


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (nan for one value or
    any non-finite value)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if len(x) < 2 or not np.all(np.isfinite(x)):
        return float(np.mean(x)), math.nan
    return float(x.mean()), float(
        stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    )


@dataclass
class Comparison:
    """a - b over the same seeds, in % of b's mean: mean and 95% interval."""

    a: str
    b: str
    mean: float
    lo: float
    hi: float

    @property
    def significant(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def cell(self) -> str:
        if not math.isfinite(self.mean):
            return "n/a"
        if self.a == self.b:
            return "same schedule"
        text = f"{self.mean:+.1f}% [{self.lo:+.1f}, {self.hi:+.1f}]"
        return f"**{text}**" if self.significant else text


class Results:
    """The evaluation runs of a study, with the choices made on validation."""

    def __init__(self, runs: list[Run], tunings: dict[tuple[str, str, int], Tuning]) -> None:
        self.runs = runs
        self.tunings = tunings
        self.test: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
        self.phis: dict[tuple[str, str, int], list[float]] = defaultdict(list)
        for r in runs:
            if r.phase == "eval":
                self.test[(r.task, r.schedule, r.budget)][r.seed] = r.test
                self.phis[(r.task, r.schedule, r.budget)].append(r.phi)

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

    def best(self, task: str, T: int, names) -> str:
        """The schedule among `names` with the best validation score at its
        chosen lr (ties: the first)."""
        present = [n for n in names if (task, n, T) in self.test]
        return min(present, key=lambda n: self.validation(task, n, T))

    def best_uba(self, task: str, T: int) -> str:
        return self.best(task, T, PHI_OF)

    def best_other(self, task: str, T: int) -> str:
        return self.best(task, T, ("cosine", *PEERS))

    def compare(self, task: str, T: int, a: str, b: str) -> Comparison:
        from scipy import stats

        xa, xb = self.test[(task, a, T)], self.test[(task, b, T)]
        seeds = sorted(set(xa) & set(xb))
        d = np.array([xa[s] - xb[s] for s in seeds])
        ref = float(np.mean([xb[s] for s in seeds]))
        if len(d) < 2 or not (np.all(np.isfinite(d)) and ref > 0):
            return Comparison(a, b, math.nan, math.nan, math.nan)
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        m = float(d.mean())
        return Comparison(a, b, 100 * m / ref, 100 * (m - half) / ref, 100 * (m + half) / ref)

    def all_interior(self) -> tuple[int, int]:
        inside = sum(t.interior() for t in self.tunings.values())
        return inside, len(self.tunings)


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
    if task == "nqm":
        rows += [
            ("theory phi vs best tuned phi", res.compare(task, T, "uba_theory_phi", bu)),
            ("theory phi vs best other", res.compare(task, T, "uba_theory_phi", bo)),
        ]
    return rows


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
        for n in res.names(task):
            cells = []
            for T in budgets:
                mean, half = interval(res.values(task, n, T))
                best = min(np.mean(res.values(task, m, T)) for m in res.names(task))
                cells.append(f"**{_fmt(mean, half)}**" if mean == best else _fmt(mean, half))
            lines.append(f"| {label(n)} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Chosen peak lr (tuning grid tried, factor 2; * = at an edge):",
            "",
            f"| schedule | {cols} |",
            sep,
        ]
        for n in res.names(task):
            cells = []
            for T in budgets:
                t = res.tunings[(task, n, T)]
                edge = "" if t.interior() else " *"
                cells.append(
                    f"{t.lr(t.best()):.3g} ({t.lr(min(t.scores)):.3g}-"
                    f"{t.lr(max(t.scores)):.3g}){edge}"
                )
            lines.append(f"| {label(n)} | " + " | ".join(cells) + " |")
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
        lines.append(
            "| (best UBA phi; best other) | "
            + " | ".join(f"{a}; {b}" for a, b in names.values())
            + " |"
        )
        table = {T: comparisons(res, task, T) for T in budgets}
        for i, (row, _) in enumerate(table[budgets[0]]):
            lines.append(f"| {row} | " + " | ".join(table[T][i][1].cell() for T in budgets) + " |")
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
    lines += [
        "",
        "Cells: median over seeds [min, max]. On the NQM the true values are "
        "lam_max = 1, sigma2 = 1e-3, noise = 1e-3 and lam_min = "
        f"{uba.probe.lower_end(NQM.lams, np.ones(len(NQM.lams)), 0.1):.4g} "
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---- main -------------------------------------------------------------------------------


def write_csv(path: Path, rows: list) -> None:
    names = [f.name for f in fields(rows[0]) if f.name != "result"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    here = Path(__file__).resolve().parent
    out = args.out or (here / "results" / ("quick" if args.quick else ""))
    out.mkdir(parents=True, exist_ok=True)
    n_eval, n_tune = (2, 1) if args.quick else (args.seeds, args.tune_seeds)
    eval_seeds = list(range(n_eval))
    tune_seeds = [1000 + s for s in range(n_tune)]  # never an evaluation seed
    max_rounds = 2 if args.quick else 12

    wall = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_init_worker) as pool:
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
    (out / "summary.md").write_text(summary + "\n")
    plot(res, out / "budgeted_training.png")
    print(summary)
    print(f"\nwrote {out}/runs.csv, probes.csv, summary.md, budgeted_training.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
