"""The schedules the study compares, by name, in the two forms its tasks run.

- `build_scheduler`: a torch LRScheduler, for the tasks trained with torch;
- `sampled_steps`: a NumPy array of steps, for the noisy quadratic model.

UBA runs at the fixed phis of `UBA_PHIS`, and at a phi computed for each run
(`GIVEN_PHI`: from the probe; on the NQM also from uba.theory.choose_phi and
uba.theory.optimal_phi).  Cosine is UBA at phi = 2.  Every decaying schedule
ends at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import uba

UBA_PHIS = (0.25, 0.5, 1.0, 4.0, 8.0)
#: The phi of each fixed-shape UBA schedule; cosine is UBA at phi = 2.
PHI_OF = {**{f"uba_phi={phi:g}": phi for phi in UBA_PHIS}, "cosine": 2.0}
PEERS = ("linear", "wsd", "rex", "constant")
SCHEDULES = (*PHI_OF, "uba_probe", *PEERS)
DEFAULT_PHI = "uba_phi=1"
#: UBA at a phi computed for each run (its budget and peak lr) and passed in.
GIVEN_PHI = ("uba_probe", "uba_choose_phi", "uba_theory_phi")


@dataclass(frozen=True)
class GivenPhi:
    """The phi a GIVEN_PHI row computed for one run, and what to know about
    it: `note` is "" (a plain answer), "phi-" or "phi+" (at the lower or
    upper end of the range searched, with the objective still falling
    beyond: the optimum is outside) or "abstained" (the probe kept phi = 1,
    its predicted gain being inside its own uncertainty); `reason` is the
    probe's own sentence for its answer."""

    phi: float
    note: str = ""
    reason: str = ""

    @staticmethod
    def at_end(end: int) -> str:
        """The note of an answer at `end` of its range (PhiChoice.ends[0]:
        -1 lower, 0 inside, 1 upper)."""
        return {-1: "phi-", 0: "", 1: "phi+"}[end]

    @classmethod
    def of_probe(cls, result: Any) -> GivenPhi:
        """The answer of a uba.probe.ProbeResult (from decide): its phi, 1
        where it abstained."""
        if result.abstained:
            return cls(result.phi, "abstained", result.reason)
        return cls(result.phi, cls.at_end(result.choice.ends[0]), result.reason)


def build_scheduler(name: str, opt: Any, T: int, warmup: int, phi: float | None = None) -> Any:
    """The named schedule over T steps as a torch LRScheduler on `opt`.

    UBA is uba.UBALR (phi from the name, or `phi` for the names of
    GIVEN_PHI); cosine is torch's CosineAnnealingLR; linear is torch's
    LinearLR to 0; the rest are LambdaLR (WSD: flat, then linear decay to 0
    over the last 20%; REX: (1 - z) / (1 - z/2), z = t/T; constant).  Every
    decaying schedule ends at 0.  With warmup W > 0 every schedule runs after
    the same linear warmup, inside SequentialLR.
    """
    from torch.optim import lr_scheduler as S

    def main(steps: int) -> Any:
        if name in PHI_OF and name != "cosine":
            return uba.UBALR(opt, steps, phi=PHI_OF[name])
        if name in GIVEN_PHI:
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


def sampled_steps(name: str, T: int, peak: float, phi: float | None) -> np.ndarray:
    """The schedule's steps for the NQM at t = 0..T-1: the lrs that
    `build_scheduler`'s scheduler gives the optimizer at its T steps (without
    warmup; the NQM has none), as uba.UBALR gives them and as
    uba.theory.choose_phi models them.  Every decaying schedule ends at 0
    (after its last step)."""
    t = np.arange(T, dtype=np.float64)
    if name in PHI_OF and name != "cosine":
        return uba.schedule(t, T, PHI_OF[name], peak)
    if name in GIVEN_PHI:
        if phi is None:
            raise ValueError(f"{name} needs its phi")
        return uba.schedule(t, T, phi, peak)
    return peak * _nqm_peer_forms(t / T)[name]


def _nqm_peer_forms(z: np.ndarray) -> dict[str, np.ndarray]:
    """The peers as functions of z = t / T, the forms `build_scheduler`'s
    torch schedulers compute (cosine: CosineAnnealingLR's closed form; wsd:
    flat, then a linear decay over the last 20% of the budget as a fraction;
    rex: (1 - z) / (1 - z/2)); tested against those schedulers."""
    return {
        "cosine": (1 + np.cos(np.pi * z)) / 2,
        "linear": 1 - z,
        "wsd": np.clip((1 - z) / 0.2, 0, 1),
        "rex": (1 - z) / (1 - z / 2),
        "constant": np.ones_like(z),
    }
