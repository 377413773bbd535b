"""The noisy quadratic model (docs/theory.md, section 4) as a task of the study.

SGD on a diagonal quadratic, along each direction k of curvature lam_k:

    x_{t+1} = (1 - eta_t lam_k) x_t - eta_t xi_t,   xi_t ~ N(0, noise_k),   x_0^2 = start_k,

with the steps eta_t at t = 0..T-1 that the schedule's scheduler gives (what
users run; uba.theory.choose_phi models the same steps).  A task is a
`Spectrum` (eigenvalues, weights, start, noise: the arguments of uba.theory's
spectral calls) and a `Score`, the number made from the second moments
E x_T^2 of all directions.

Both metrics of a run, validation and test, are the score of the exact second
moments (the variance recursion): the expected final loss is computable
exactly, so a simulation would only add Monte Carlo error to it, and with an
exact validation metric tuning has no noise to overfit, which is what a
held-out test split guards against.  The runs of the fixed schedules are then
the same on every seed; what varies by seed is the probe (its noise draws).

The study's NQM tasks, both scored by the expected final loss
(`EXPECTED_LOSS`, 0.5 sum_k w_k lam_k E x_T^2):
  nqm        `GEOMETRIC`: 400 curvatures geometric in [0.01, 1], one direction
             each, start 1, isotropic noise 1e-3;
  nqm_power  `POWER_LAW`: lam_k = k^-1.5 (k = 1..1000: lam_max = 1 and a bulk
             near zero), start 1, Hessian-shaped noise 0.1 lam_k (how the
             constants were chosen: `POWER_LAW`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import uba

from .schedules import GivenPhi, sampled_steps


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A diagonal quadratic, one entry per direction k (arrays of one length):
    eigenvalues lam_k; weights w_k, how many directions each stands for;
    start x_0^2 along it; noise, the per-step gradient-noise variance along it."""

    eigenvalues: np.ndarray
    weights: np.ndarray
    start: np.ndarray
    noise: np.ndarray

    @classmethod
    def of(
        cls,
        eigenvalues: npt.ArrayLike,
        *,
        weights: npt.ArrayLike = 1.0,
        start: npt.ArrayLike = 1.0,
        noise: npt.ArrayLike = 0.0,
    ) -> Spectrum:
        """The spectrum with scalars broadcast over the eigenvalues."""
        lam = np.array(eigenvalues, dtype=np.float64)  # its own, writable copy

        def each(name: str, value: npt.ArrayLike) -> np.ndarray:
            v = np.asarray(value, dtype=np.float64)
            if v.ndim and v.shape != lam.shape:
                raise ValueError(f"{name} has shape {v.shape}; the eigenvalues have {lam.shape}")
            return np.broadcast_to(v, lam.shape).copy()

        return cls(lam, each("weights", weights), each("start", start), each("noise", noise))


@dataclass(frozen=True)
class Score:
    """A task's metric: `of(spectrum, second_moments)` with E x_T^2 per
    direction, lower is better; `description` names it in the summary."""

    description: str
    of: Callable[[Spectrum, np.ndarray], float]


def _expected_loss(spectrum: Spectrum, moments: np.ndarray) -> float:
    return float(0.5 * np.sum(spectrum.weights * spectrum.eigenvalues * moments))


#: The expected final loss, 0.5 sum_k w_k lam_k E x_T^2: the loss a user ends
#: up with, on average over the noise (uba.theory.expected_loss).
EXPECTED_LOSS = Score("expected final loss", _expected_loss)

#: The study's first NQM: 400 curvatures geometric in [0.01, 1], isotropic noise.
GEOMETRIC = Spectrum.of(np.geomspace(0.01, 1.0, 400), start=1.0, noise=1e-3)


def power_law(alpha: float, d: int, level: float) -> Spectrum:
    """lam_k = k^-alpha for k = 1..d, start 1, Hessian-shaped noise level * lam_k."""
    lam = np.arange(1, d + 1, dtype=np.float64) ** -alpha
    return Spectrum.of(lam, start=1.0, noise=level * lam)


#: The study's second NQM, a spectrum like a network's: lam_k = k^-1.5 over
#: d = 1000 directions (lam_max = 1, most curvatures near zero), start 1 along
#: every direction (a random initialisation is about equally far from the
#: minimum along each; the probe's model assumes the same), noise shaped like
#: the Hessian (as least squares with label noise has), 0.1 lam_k.  The
#: constants were chosen from the model alone, before any schedule ran on it,
#: for the budgets T = 100, 300, 1000 (tests/benchmarks check both points):
#:   - not hopeless: the directions a step 1/lam_max can train in T steps
#:     (lam_k T >= 1) hold 86%, 91% and 95% of the initial loss;
#:   - not trivial: neither part of the final loss is negligible.  With a
#:     constant step 1/lam_max the noise's part equals the start's part at
#:     T = 300 for a level of 0.085; 0.1 rounds it, so the start's part is the
#:     larger at T = 100 (1.4x) and the noise's at T = 1000 (2.3x), and which
#:     schedule does best can change with the budget.
POWER_LAW = power_law(1.5, 1000, 0.1)


class NQM:
    """The noisy quadratic model of `spectrum`, scored by `score`, as a task:
    trained in NumPy on `sampled_steps` (the probe alone uses torch)."""

    #: The validation metric is exact: one tuning seed is enough.
    exact_validation = True
    #: CPU time per step, relative to the digits CNN (orders the runs).
    relative_cost = 1

    def __init__(self, spectrum: Spectrum, score: Score) -> None:
        self.spectrum = spectrum
        self.score = score
        #: UBA rows whose phi this task computes: name -> phi(T, peak).
        #: choose_phi is given the true spectrum, start and noise (an oracle:
        #: the best the theory can do when the model is known).  optimal_phi's
        #: worst case has one noise variance for every curvature: its row runs
        #: only where the noise is isotropic, since for noise that varies by
        #: direction any one variance standing in for it would be this
        #: study's choice, not the theory's.
        self.phi_rows: dict[str, Callable[[int, float], GivenPhi]] = {
            "uba_choose_phi": self.choose_phi
        }
        if np.ptp(spectrum.noise) == 0:
            self.phi_rows["uba_theory_phi"] = self.theory_phi

    def lrs(self, name: str, T: int, peak: float, phi: float | None) -> np.ndarray:
        return sampled_steps(name, T, peak, phi)

    @property
    def stability_limit(self) -> float:
        """2/lam_max: the largest step under which no direction grows."""
        return 2.0 / float(self.spectrum.eigenvalues.max())

    def exact(self, lrs: np.ndarray) -> float:
        """The score of E x_T^2, exactly (the variance recursion).  A run
        with a step above the stability limit scores inf, as diverged: its
        top directions grow, and only an exact cancellation of that growth by
        later steps, which a network's loss does not offer, could bring them
        back (the quadratic would reward it)."""
        s = self.spectrum
        if np.max(lrs) > self.stability_limit:
            return math.inf
        m = s.start.copy()  # no factor (1 - eta lam)^2 exceeds 1 below the limit
        for eta in lrs:
            m = (1 - eta * s.eigenvalues) ** 2 * m + s.noise * eta * eta
        return self.score.of(s, m)

    def choose_phi(self, T: int, peak: float) -> GivenPhi:
        """uba.theory.choose_phi at this budget and peak, for the true
        spectrum, start and noise (phi only: the protocol tunes the peak)."""
        s = self.spectrum
        with warnings.catch_warnings():
            # the protocol tries peaks above 2/lam_max, as for every schedule;
            # an answer at an end of the range is kept in the note
            warnings.simplefilter("ignore", uba.theory.StabilityWarning)
            warnings.simplefilter("ignore", uba.theory.BoundaryWarning)
            c = uba.theory.choose_phi(
                T, s.eigenvalues, weights=s.weights, start=s.start, noise=s.noise, eta_max=peak
            )
        return GivenPhi(c.phi, GivenPhi.at_end(c.ends[0]))

    def theory_phi(self, T: int, peak: float) -> GivenPhi:
        """uba.theory.optimal_phi (the worst case over the curvatures) for the
        spectrum's curvature range and its one noise variance."""
        s = self.spectrum
        if np.ptp(s.noise) != 0:
            raise ValueError("optimal_phi takes one noise variance; this spectrum's varies")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("ignore", uba.theory.StabilityWarning)
            warnings.simplefilter("always", uba.theory.BoundaryWarning)
            phi = uba.theory.optimal_phi(
                T,
                float(s.eigenvalues.min()),
                float(s.eigenvalues.max()),
                sigma2=float(s.noise[0]),
                eta_max=peak,
                eta_min=0.0,
            )
        at_end = any(issubclass(w.category, uba.theory.BoundaryWarning) for w in seen)
        # its range is [1e-6, 1e8] or wider: an end is far from 1 either way
        return GivenPhi(phi, ("phi-" if phi < 1 else "phi+") if at_end else "")

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
        """(validation, test) metrics of the schedule at peak `lr`: both the
        exact score (test: nan unless asked); no seed changes it."""
        value = self.exact(self.lrs(schedule, T, lr, phi))
        return value, value if test else math.nan

    def probe(self, seed: int, T: int, lr: float, **options: Any) -> Any:
        """uba.probe on the NQM written as a torch model: parameters x, loss
        0.5 sum lam x^2 - xi . x for a noise draw xi (the batch), one
        parameter per direction (so every weight must be 1)."""
        import torch

        from uba.probe import suggest_phi

        s = self.spectrum
        if np.any(s.weights != 1):
            raise ValueError("the probe's model has one parameter per direction: weights must be 1")

        class Quadratic(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.register_buffer("lams", torch.from_numpy(s.eigenvalues))
                self.x = torch.nn.Parameter(torch.from_numpy(np.sqrt(s.start)))

            def forward(self, xi: Any) -> Any:
                return 0.5 * (self.lams * self.x * self.x).sum() - (xi * self.x).sum()

        gen = torch.Generator().manual_seed(10_000 + seed)
        scale = torch.from_numpy(np.sqrt(s.noise))

        def noise() -> Iterator[tuple[Any, None]]:
            while True:
                yield (
                    torch.randn(len(s.eigenvalues), generator=gen, dtype=torch.float64) * scale,
                    None,
                )

        return suggest_phi(Quadratic(), lambda out, _: out, noise(), T, lr=lr, seed=seed, **options)
