"""Draws docs/rebudget.png: UBALR.rebudget against a fresh schedule and the naive switch.

Run from the repository root (needs torch and matplotlib):

    python docs/make_rebudget_plot.py

Left: T_max = 1000, phi = 1, rebudgeted after step 400 to 1500 steps.  Middle: the same
run rebudgeted to 600 steps.  Right: 100 warmup steps, rebudgeted during the warmup
(after step 50) from 1000 to 1500 steps.  Each panel: the original schedule, the
rebudgeted run, a fresh schedule on the new budget, and the naive switch (T_max replaced).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

import uba
from uba.plotting import save_figure

OUT = Path(__file__).with_name("rebudget.png")
T_MAX, PHI, LR = 1000, 1.0, 1.0


def run(steps: int, warmup: int, switch: int, new_T_max: int) -> np.ndarray:
    """The lr of UBALR at each step, rebudgeted after step `switch`."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sched = uba.UBALR(opt, T_MAX, phi=PHI, warmup_steps=warmup)
    lrs = []
    for t in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        if t == switch:
            sched.rebudget(new_T_max)
        opt.step()
        sched.step()
    return np.array(lrs)


def panel(
    ax: plt.Axes, switch: int, new_T_max: int, warmup: int = 0, legend: str = "lower left"
) -> None:
    steps = np.arange(max(T_MAX, new_T_max) + 1)
    old = uba.schedule(steps, T_MAX, PHI, LR, warmup_steps=warmup)
    fresh = uba.schedule(steps, new_T_max, PHI, LR, warmup_steps=warmup)
    naive = np.where(steps <= switch, old, fresh)
    ax.plot(steps[: T_MAX + 1], old[: T_MAX + 1], color="0.6", lw=1.5, label=f"T_max = {T_MAX}")
    ax.plot(
        steps[: new_T_max + 1],
        fresh[: new_T_max + 1],
        color="C0",
        lw=1,
        ls="--",
        label=f"fresh, T_max = {new_T_max}",
    )
    ax.plot(
        steps[: new_T_max + 1],
        naive[: new_T_max + 1],
        color="C3",
        lw=1,
        ls=":",
        label="naive: T_max replaced",
    )
    ax.plot(
        run(new_T_max + 1, warmup, switch, new_T_max),
        color="k",
        lw=2,
        label=f"rebudget({new_T_max}) after step {switch}",
    )
    ax.axvline(switch, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("step")
    ax.set_ylim(-0.02, 1.05)
    ax.legend(fontsize=8, loc=legend)


def main() -> None:
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), sharey=True, constrained_layout=True)
    panel(axes[0], 400, 1500)
    axes[0].set_title("more steps: 1000 -> 1500 after step 400")
    panel(axes[1], 400, 600)
    axes[1].set_title("fewer steps: 1000 -> 600 after step 400")
    panel(axes[2], 50, 1500, warmup=100, legend="upper right")
    axes[2].set_title(
        "in warmup (W = 100): 1000 -> 1500 after step 50\n(all three new curves coincide)",
        fontsize=10,
    )
    axes[0].set_ylabel(f"learning rate / peak  (phi = {PHI:g})")
    save_figure(fig, OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
