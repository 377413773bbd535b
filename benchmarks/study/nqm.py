"""The noisy quadratic model (docs/theory.md, section 4) as a task of the study.

SGD on a diagonal quadratic, along each direction k of curvature lam_k:

    x_{t+1} = (1 - eta_t lam_k) x_t - eta_t xi_t,   xi_t ~ N(0, noise_k),   x_0^2 = start_k.

A task is a `Spectrum` (eigenvalues, weights, start, noise: the arguments of
uba.theory's spectral calls) and a `Score`, the number made from the second
moments E x_T^2 of all directions.  A run's validation metric is the score of
the exact second moments (the variance recursion), its test metric the score
of second moments simulated with noisy particles (seeded by the run's seed).

The study's NQM (`GEOMETRIC`, scored by `WORST_CASE`): 400 curvatures
geometric in [0.01, 1], each one direction, start 1, isotropic noise 1e-3,
scored by the worst case over the curvatures of E x_T^2.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import uba

from .schedules import sampled_steps


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


def _worst_second_moment(spectrum: Spectrum, moments: np.ndarray) -> float:
    return float(moments.max())


#: The worst case over the curvatures of E x_T^2 (the quantity
#: uba.theory.optimal_phi bounds), not the loss.
WORST_CASE = Score("worst case over curvatures of E x_T^2", _worst_second_moment)

#: The study's NQM spectrum.
GEOMETRIC = Spectrum.of(np.geomspace(0.01, 1.0, 400), start=1.0, noise=1e-3)


class NQM:
    """The noisy quadratic model of `spectrum`, scored by `score`, as a task:
    trained in NumPy on `sampled_steps` (the probe alone uses torch)."""

    #: The validation metric is exact: one tuning seed is enough.
    exact_validation = True
    #: CPU time per step, relative to the digits CNN (orders the runs).
    relative_cost = 1

    def __init__(self, spectrum: Spectrum, score: Score, particles: int = 2000) -> None:
        self.spectrum = spectrum
        self.score = score
        self.particles = particles
        #: UBA rows whose phi this task computes: name -> phi(T, peak).
        self.phi_rows: dict[str, Callable[[int, float], float]] = {
            "uba_theory_phi": self.theory_phi
        }

    def lrs(self, name: str, T: int, peak: float, phi: float | None) -> np.ndarray:
        return sampled_steps(name, T, peak, phi)

    def _scored(self, moments: np.ndarray) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            value = self.score.of(self.spectrum, moments)
        return value if math.isfinite(value) else math.inf

    def exact(self, lrs: np.ndarray) -> float:
        """The score of E x_T^2, exactly (the variance recursion)."""
        s = self.spectrum
        m = s.start.copy()
        with np.errstate(over="ignore", invalid="ignore"):
            for eta in lrs:
                m = (1 - eta * s.eigenvalues) ** 2 * m + s.noise * eta * eta
        return self._scored(m)

    def simulated(self, lrs: np.ndarray, seed: int, particles: int) -> float:
        """The same by Monte Carlo: `particles` noisy runs per direction."""
        s = self.spectrum
        rng = np.random.default_rng(seed)
        x = np.ones((particles, len(s.eigenvalues))) * np.sqrt(s.start)
        scale = np.sqrt(s.noise)
        with np.errstate(over="ignore", invalid="ignore"):
            for eta in lrs:
                x = x - eta * (s.eigenvalues * x + rng.standard_normal(x.shape) * scale)
            moments = (x * x).mean(axis=0)
        return self._scored(moments)

    def theory_phi(self, T: int, peak: float) -> float:
        """uba.theory.optimal_phi for the spectrum's curvature range and noise."""
        s = self.spectrum
        if np.ptp(s.noise) != 0:
            raise ValueError("optimal_phi takes one noise variance; this spectrum's varies")
        return uba.theory.optimal_phi(
            T,
            float(s.eigenvalues.min()),
            float(s.eigenvalues.max()),
            sigma2=float(s.noise[0]),
            eta_max=peak,
            eta_min=0.0,
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
        """(validation, test) metrics of the schedule at peak `lr` (test: nan
        unless asked)."""
        lrs = self.lrs(schedule, T, lr, phi)
        particles = self.particles // 10 if quick else self.particles
        return self.exact(lrs), self.simulated(lrs, seed, particles) if test else math.nan

    def probe(self, seed: int, T: int, lr: float, **options: Any) -> Any:
        """uba.probe on the NQM written as a torch model: parameters x, loss
        0.5 sum lam x^2 - xi . x for a noise draw xi (the batch); each
        eigenvalue is one parameter (the weights are not used)."""
        import torch

        from uba.probe import suggest_phi

        s = self.spectrum

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
