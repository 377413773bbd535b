"""Draws docs/theory_phi_star.png: the theory-chosen phi* against noise and budget.

Run from the repository root (needs matplotlib, the ``plot`` extra):

    python docs/make_theory_plot.py

Top row: the noisy quadratic of docs/theory.md section 4 (kappa = 100, eta_max =
1/lam_min, eta_min = 1/lam_max, worst case over lam), via
uba.theory.optimal_phi.  Bottom row: bound (c), strongly convex (mu = 0.01,
L = 1, f_gap = 1, eta_max = 1/L, eta_min = 0), via
uba.theory.optimal_phi_strongly_convex.  Takes about half a minute.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from uba import theory
from uba.plotting import save_figure

OUT = Path(__file__).with_name("theory_phi_star.png")
KAPPA = 100.0
MU, L, F_GAP = 0.01, 1.0, 1.0


def chebyshev_optimal_phi(T: int, sigma2: float) -> float:
    """optimal_phi on [1, KAPPA] at the Chebyshev peak and floor (1/lam_min,
    1/lam_max), the setting this figure shows; that peak is above the
    stability limit by design, so its warning is dropped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.StabilityWarning)
        return theory.optimal_phi(T, 1.0, KAPPA, sigma2=sigma2, eta_max=1.0, eta_min=1 / KAPPA)


def _sigma_label(s: float) -> str:
    return r"$\sigma^2 = 0$" if s == 0 else rf"$\sigma^2 = 10^{{{round(np.log10(s))}}}$"


def main() -> None:
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), constrained_layout=True)

    # (1) noisy quadratic: phi* against sigma2, a few budgets
    ax = axes[0, 0]
    sigmas = np.logspace(-10, 0, 21)
    for T in (32, 64, 128):
        phis = [chebyshev_optimal_phi(T, float(s)) for s in sigmas]
        ax.semilogx(sigmas, phis, "o-", ms=3, label=f"T = {T}")
    ax.axhline(2 * KAPPA, color="k", ls="--", lw=1, label=r"$2\kappa$ ($\sigma^2 = 0$)")
    ax.set_yscale("log")
    ax.set_xlabel(r"noise variance $\sigma^2$")
    ax.set_ylabel(r"$\varphi^*$")
    ax.set_title(r"noisy quadratic, $\kappa = 100$: $\varphi^*$ vs noise")
    ax.legend(fontsize=8)

    # (2) noisy quadratic: phi* against T, a few noise levels
    ax = axes[0, 1]
    budgets = [4, 8, 16, 32, 64, 128, 256, 512]
    for s in (0.0, 1e-6, 1e-3):
        phis = [chebyshev_optimal_phi(T, s) for T in budgets]
        ax.loglog(budgets, phis, "o-", ms=3, label=_sigma_label(s))
    ax.axhline(2 * KAPPA, color="k", ls="--", lw=1, label=r"$2\kappa$")
    ax.set_xlabel("budget T")
    ax.set_ylabel(r"$\varphi^*$")
    ax.set_title(r"noisy quadratic, $\kappa = 100$: $\varphi^*$ vs budget")
    ax.legend(fontsize=8)

    # (3) bound (c): phi* against sigma2
    ax = axes[1, 0]
    # above about 3e-2 the bound is flat in phi past its minimum (only the
    # first step counts), so phi* is the search range's end: see theory.md
    sigmas = np.logspace(-6, -2, 17)
    for T in (300, 1000, 3000):
        phis = [
            theory.optimal_phi_strongly_convex(T, mu=MU, L=L, sigma2=float(s), f_gap=F_GAP)
            for s in sigmas
        ]
        ax.loglog(sigmas, phis, "o-", ms=3, label=f"T = {T}")
    ax.axhline(2.0, color="k", ls=":", lw=1, label=r"$\varphi = 2$ (cosine)")
    ax.set_xlabel(r"noise variance $\sigma^2$")
    ax.set_ylabel(r"$\varphi^*$")
    ax.set_title(r"bound (c), $\mu = 0.01$, $L = 1$: $\varphi^*$ vs noise")
    ax.legend(fontsize=8)

    # (4) bound (c): phi* against T
    ax = axes[1, 1]
    budgets = [100, 200, 500, 1000, 2000, 5000, 10000, 20000]
    for s in (1e-3, 1e-2):
        phis = [
            theory.optimal_phi_strongly_convex(T, mu=MU, L=L, sigma2=s, f_gap=F_GAP)
            for T in budgets
        ]
        ax.loglog(budgets, phis, "o-", ms=3, label=_sigma_label(s))
    ax.axhline(2.0, color="k", ls=":", lw=1, label=r"$\varphi = 2$ (cosine)")
    ax.set_xlabel("budget T")
    ax.set_ylabel(r"$\varphi^*$")
    ax.set_title(r"bound (c), $\mu = 0.01$, $L = 1$: $\varphi^*$ vs budget")
    ax.legend(fontsize=8)

    fig.suptitle(
        r"Theory-chosen UBA shape $\varphi^*$ (derived in this project, not from the paper)"
    )
    save_figure(fig, OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
