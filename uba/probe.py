r"""phi measured from the model itself: curvature and gradient noise by probing.

:func:`suggest_phi` measures what the theory needs and users do not know: the
spectral density of the loss's curvature (from Hessian-vector products, by
stochastic Lanczos quadrature), how far the parameters are from the minimum
along each curvature (a Lanczos run from the gradient), and the gradient noise
at the user's batch size, with the curvature it lies along (from a few
minibatch gradients).  It fits a diagonal quadratic to them, asks
:func:`uba.theory.choose_phi` which phi minimises its expected final loss at
the user's budget and learning rate, and returns that phi only when the gain
over phi = 1 is robust to the measurements' own uncertainty and the fit
holds; otherwise phi = 1, and why.  The :class:`ProbeResult` holds the
answer, the reason, what was measured and what it cost.  docs/theory.md (the
probe's section) defines each measured quantity and the rule.

This module is the torch side (running the model, leaving it as it was); the
mathematics on what it measures is NumPy, in :mod:`uba._probe_math`.  torch is
imported when :func:`suggest_phi` is first called, not when this module is
imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from uba import _checks, _core, _probe_math, theory
from uba._probe_math import MAX_LANCZOS_STEPS, MAX_VECTORS, NoiseFit, lower_end
from uba._schedule import schedule

if TYPE_CHECKING:
    import torch
    from matplotlib.axes import Axes

__all__ = [
    "MAX_LANCZOS_STEPS",
    "MAX_RESAMPLES",
    "MAX_VECTORS",
    "OPTIMIZERS",
    "NoiseFit",
    "ProbeResult",
    "lower_end",
    "suggest_phi",
]

#: The optimizers whose geometry :func:`suggest_phi` models.
OPTIMIZERS = ("sgd", "adam")
#: The most bootstrap resamples (each costs four evaluations of the loss).
MAX_RESAMPLES = 100_000

_Array = npt.NDArray[np.float64]


def _empty() -> _Array:
    return np.zeros(0)


def _no_samples() -> _Array:
    return np.zeros((0, 2))


@dataclass(frozen=True, eq=False)
class ProbeResult:
    r"""What :func:`suggest_phi` measured, the phi it returns and why, and the cost.

    The answer: ``phi`` is :func:`uba.theory.choose_phi`'s (``choice``) for
    the fitted quadratic at the budget ``T`` and step
    ``lr / (1 - momentum)``, or 1 where the probe ``abstained``; ``reason``
    says which, ``gain`` and ``gain_low`` how much is predicted
    (:meth:`decide` answers for another budget or peak).  Its repr is a
    readable report of the answer, the model and how well the data fit it.

    The measurements: the spectral density is the stochastic Lanczos
    quadrature estimate

    .. math::

        \hat\rho(\lambda) = \frac{1}{V}\sum_{v=1}^{V}\sum_{k=1}^{m}
            \tau_{vk}\,\delta(\lambda - \theta_{vk}),

    with Ritz values :math:`\theta_{vk}` (``nodes``) and weights
    :math:`\tau_{vk}/V` (``weights``, summing to 1) from :math:`V` Lanczos runs
    of :math:`m` steps.  All curvatures are of the optimizer's geometry: the
    loss's Hessian for SGD, the Adam-preconditioned Hessian for Adam.

    The start is measured by one more Lanczos run, from the mean gradient
    :math:`\bar g` (``grad_alpha``, ``grad_beta``, ``grad_norm2``:
    :meth:`start_quadrature`), the noise's shape by ``noise_samples``
    (:attr:`noise_fit`).  The fields after ``weights`` are empty in a result
    made by hand.
    """

    phi: float
    """The phi to train with: ``choice.phi``, or 1 where the probe
    ``abstained``."""
    T: int
    """The budget phi was chosen for: the steps of the UBA schedule
    (a warmup before it is not modelled)."""
    lr: float
    """The optimizer's peak learning rate phi was chosen for."""
    eta_min: float
    """The schedule's floor phi was chosen for."""
    momentum: float
    """SGD momentum: the theory sees the step ``lr / (1 - momentum)``."""
    lam_min: float
    """The low end of the useful curvature range (:func:`lower_end` of the
    density at ``mass``)."""
    lam_max: float
    """The largest curvature: the largest Ritz value."""
    sigma2: float
    r"""Gradient-noise variance at the batch size, per parameter:
    :math:`\mathrm{tr}\,\Sigma_B / P`."""
    dist2: float
    r"""Squared distance to the minimum per parameter, as a quadratic sees it:
    :math:`\|\nabla f\|^2 / \mathrm{tr}(H^2)`."""
    negative_share: float
    r"""The share of the absolute curvature that is negative,
    :math:`\int_{\lambda<0}|\lambda|\,d\hat\rho / \int|\lambda|\,d\hat\rho`
    (0 for a convex loss; the near-zero bulk of a network does not count)."""
    mass: float
    """The share of ``tr(H+^2)`` the useful range leaves out below ``lam_min``."""
    params: int
    """The number of parameters probed, P."""
    hvps: int
    """Hessian-vector products used, each over ``hessian_batches`` batches."""
    gradients: int
    """Minibatch gradients used (each batch probed twice, once for the mean
    and spread, once in a pair for the noise's shape; an odd last batch once)."""
    hessian_batches: int
    """The batches whose mean loss the Hessian is of."""
    nodes: _Array = field(repr=False)
    """Ritz values, one row per Lanczos run (NaN-padded after an early stop)."""
    weights: _Array = field(repr=False)
    """Their quadrature weights (0 where ``nodes`` is NaN); they sum to 1."""
    loss: float = math.nan
    """The mean loss over the probed batches, at the parameters probed."""
    grad_norm2: float = 0.0
    r""":math:`\|\bar g\|^2`, the squared norm of the mean of the batch
    gradients (not debiased: the Lanczos run from :math:`\bar g` sees it all)."""
    grad_alpha: _Array = field(default_factory=_empty, repr=False)
    r"""The diagonal of the tridiagonal of the Lanczos run from
    :math:`\bar g/\|\bar g\|` (empty when :math:`\bar g = 0`)."""
    grad_beta: _Array = field(default_factory=_empty, repr=False)
    """Its off-diagonal, then the norm of the residual after the last step
    (as many numbers as ``grad_alpha``)."""
    noise_samples: _Array = field(default_factory=_no_samples, repr=False)
    r"""One row per pair of batches :math:`a, b`:
    :math:`(d^{\mathsf T}Hd, \|d\|^2)` for :math:`d = (g_a - g_b)/\sqrt 2`."""
    batches: int = 0
    r"""The batches :math:`n` the mean gradient :math:`\bar g` is over."""
    loss_stderr: float = math.nan
    """The standard error of ``loss`` over the probed batches."""
    choice: theory.PhiChoice | None = None
    """What :func:`uba.theory.choose_phi` found for the fitted quadratic
    (the Radau start): its phi, the losses it predicts at it, at phi = 1 and
    at phi = 2, and the phis within 1% of the best (``flat``)."""
    gain: float = math.nan
    r"""The predicted gain of ``choice.phi`` over phi = 1,
    :math:`g = 1 - L(\varphi^*)/L(1)` (``choice.gain``)."""
    gain_low: float = math.nan
    """The 5% quantile of that gain over the bootstrap resamples and both
    start rules (:meth:`decide`): the gain is robust where it is positive."""
    abstained: bool = False
    """Whether the probe returned phi = 1 instead of ``choice.phi``."""
    reason: str = ""
    """Why, in a sentence: the phi returned and its gain, or what made the
    probe abstain."""
    resamples: int = 0
    """The bootstrap resamples behind ``gain_low``."""
    seed: int = 0
    """The seed of the Lanczos start vectors, the dropout masks and the
    resamples."""

    @property
    def kappa(self) -> float:
        """``lam_max / lam_min``: the condition number of the useful range."""
        return self.lam_max / self.lam_min

    @property
    def noise(self) -> float:
        """``sigma2 / dist2``: the noise of the noisy quadratic that starts at
        distance 1 (what :func:`uba.theory.optimal_phi`'s worst case takes)."""
        return self.sigma2 / self.dist2

    @property
    def flat(self) -> tuple[float, float]:
        """The phis whose predicted loss is within 1% of the best
        (``choice.flat``; NaN without a choice): how little phi matters."""
        return (math.nan, math.nan) if self.choice is None else self.choice.flat

    @functools.cached_property
    def noise_fit(self) -> NoiseFit:
        r"""The shape of the gradient noise: the curvature it lies along,
        measured, against what isotropic and Hessian-shaped noise predict,
        and the fitted :math:`\sigma^2(\lambda) = c|\lambda|^a`
        (:class:`uba.probe.NoiseFit`)."""
        trace_sigma = self.sigma2 * self.params
        return _probe_math.fit_noise(
            self.noise_samples, self.nodes, self.weights, self.params, trace_sigma
        )

    def start_quadrature(self, rule: str = "radau") -> tuple[_Array, _Array]:
        r"""The quadrature of the mean gradient's spectral measure: nodes
        :math:`\theta_k` and weights :math:`\tau_k` (summing to 1), so that
        :math:`\|\bar g\|^2\tau_k` is the gradient's energy at curvature
        :math:`\theta_k`.  ``rule`` is ``"gauss"`` or ``"radau"`` (with a node
        at the lowest positive curvature measured), which bracket the start
        left at the lowest curvatures
        (:func:`uba._probe_math.start_quadrature`)."""
        return _probe_math.start_quadrature(self.grad_alpha, self.grad_beta, rule, self.nodes)

    def start(self, rule: str = "radau") -> tuple[_Array, _Array]:
        r"""The squared distance to the minimum along the curvature,
        ``(curvatures, start)``: the quadrature of the mean gradient
        (:meth:`start_quadrature`), less the noise of the mean
        (:func:`uba._probe_math.signal_energy`), divided by
        :math:`\theta^2` (:func:`uba._probe_math.start_from_gradient`)."""
        grad_nodes, grad_weights = self.start_quadrature(rule)
        energy = _probe_math.signal_energy(
            grad_nodes,
            grad_weights,
            self.grad_norm2,
            self.nodes,
            self.weights,
            self.params,
            self.noise_fit,
            self.batches,
        )
        return _probe_math.start_from_gradient(grad_nodes, energy)

    @property
    def excess_loss(self) -> tuple[float, float]:
        r"""The excess loss the fitted quadratic implies at the start,
        :math:`f(w_0) - f^* = \frac12\bar g^{\mathsf T}H^{-1}\bar g =
        \frac12\sum_k \|\bar g\|^2\tau_k/\theta_k` over the positive nodes
        (the mean's noise removed, :meth:`start`), from below (Gauss) and
        from above (Radau).  For a loss that is never negative it cannot
        exceed :attr:`loss`; where the lower value does, the quadratic's reach
        to the minimum is not to be trusted (and the probe abstains)."""
        bounds = []
        for rule in _probe_math.START_RULES:
            lams, start = self.start(rule)
            bounds.append(0.5 * float(lams @ start))
        return bounds[0], bounds[1]

    def decide(
        self,
        T: int,
        *,
        lr: float,
        eta_min: float = 0.0,
        phi_range: tuple[float, float] | None = None,
    ) -> ProbeResult:
        r"""The answer for another budget or peak, from the same measurements
        (no new Hessian-vector products): this result with ``phi``,
        ``choice``, ``gain``, ``gain_low``, ``abstained`` and ``reason`` for
        ``T``, ``lr`` and ``eta_min``.

        :func:`uba.theory.choose_phi` chooses :math:`\varphi^*` for the fitted
        quadratic (:func:`_choose_phi_inputs`, Radau start) at the step
        :math:`\eta = \mathrm{lr}/(1-\beta)` and floor
        :math:`\eta_{\min}/(1-\beta)`.  With :math:`\varphi^*` fixed, the gain
        :math:`g = 1 - L(\varphi^*)/L(1)` is evaluated on ``resamples``
        bootstrap resamples of the measurements
        (:func:`uba._probe_math.resample`: the Lanczos runs, the noise pairs
        and the noise fit on them), each with the Gauss and the Radau start;
        ``gain_low`` is the 5% quantile (an order statistic) of those
        :math:`2B` gains.  The rule
        of :func:`uba._probe_math.decision` then returns :math:`\varphi^*` or
        abstains (phi = 1).  Seeded by ``seed``: the same result answers the
        same way every time.

        Warns :class:`uba.theory.StabilityWarning` when the step is above the
        stability limit :math:`2/\lambda_{\max}` of the measured curvature
        (the loss there is still computed exactly, and phi chosen for it),
        and :class:`uba.theory.BoundaryWarning` when the phi returned is an
        end of ``phi_range`` with the loss still falling beyond it.

        Args:
            T: the budget of the UBA schedule in steps, in ``[1, 2**53]``.
            lr: the peak learning rate, finite and ``> 0``.
            eta_min: the schedule's floor, in ``[0, lr)``.  Default 0.
            phi_range: :func:`uba.theory.choose_phi`'s search range
                (default ``(2**-10, 2**10)``).
        """
        return self._checked_decision(T, lr, eta_min, phi_range)

    def phi_for(
        self,
        T: int,
        *,
        lr: float,
        eta_min: float = 0.0,
        phi_range: tuple[float, float] | None = None,
    ) -> float:
        """The phi :meth:`decide` returns for another budget or peak: the
        phi to train with (1 where it abstains)."""
        return self._checked_decision(T, lr, eta_min, phi_range).phi

    def _checked_decision(
        self, T: int, lr: float, eta_min: float, phi_range: tuple[float, float] | None
    ) -> ProbeResult:
        T = _checks.budget(T)
        lr, eta_min = _peak(lr, eta_min)
        # warnings point at the caller of decide or phi_for
        return _decided(self, T, lr, eta_min, _search_range(phi_range), stacklevel=4)

    def __repr__(self) -> str:
        scale = 1.0 / (1.0 - self.momentum)
        step = self.lr * scale
        lines = [
            f"ProbeResult: phi = {self.phi:.4g} for T = {self.T} at lr = {self.lr:.4g}"
            + (f" (step lr / (1 - momentum) = {step:.4g})" if self.momentum else ""),
            f"  {'abstained: ' if self.abstained else ''}{self.reason}",
        ]
        if self.choice is not None:
            c = self.choice
            lines.append(
                f"  choose_phi: phi = {c.phi:.3g}, loss {c.loss:.4g} against {c.loss_default:.4g}"
                f" at phi = 1 (gain {self.gain:.1%}; {self.resamples} resamples: 5% quantile "
                f"{self.gain_low:+.1%}); within 1% of the best for phi in "
                f"{c.flat[0]:.3g}..{c.flat[1]:.3g}"
            )
        ok = np.isfinite(self.nodes)
        runs, steps = self.nodes.shape if self.nodes.ndim == 2 else (1, self.nodes.size)
        stable = "below" if step * self.lam_max <= 2 else "above"
        lines.append(
            f"  model: SGD on a diagonal quadratic along the measured spectrum ({runs} Lanczos "
            f"runs of {steps} steps over {self.params} parameters; curvature "
            f"{float(self.nodes[ok].min()):.3g}..{self.lam_max:.3g}, step * lam_max = "
            f"{step * self.lam_max:.3g}, {stable} the stability limit 2)"
        )
        fit = self.noise_fit
        if fit.shape == "none":
            lines.append("  noise: none measured")
        else:
            miss = (
                f"{fit.residual:+.1f} standard errors from the fit's"
                if math.isfinite(fit.residual)
                else "not resolved (one pair of batches)"
            )
            lines.append(
                f"  noise: {fit.shape}-shaped, sigma2(lam) = {fit.scale:.3g} |lam|^"
                f"{fit.exponent:.3g}; the curvature it lies along: {fit.curvature:.3g}, {miss}"
            )
        low, high = self.excess_loss
        lines.append(
            f"  start: from the mean gradient (Radau rule; Gauss in the resamples too); the "
            f"excess loss it implies, {low:.4g}..{high:.4g}, against the loss {self.loss:.4g}"
        )
        lines.append(
            f"  negative curvature: {self.negative_share:.1%} of |curvature|; cost: "
            f"{self.hvps} Hessian-vector products, {self.gradients} gradients"
        )
        return "\n".join(lines)

    def density(self, lams: npt.ArrayLike, *, width: float | None = None) -> _Array:
        r"""The estimated spectral density at ``lams``, each Ritz value
        smoothed by a Gaussian of standard deviation ``width`` (default 1% of
        the spread of the Ritz values):
        :math:`\sum \tau\,\mathcal N(\lambda;\theta, w^2)`."""
        return _probe_math.smoothed_density(self.nodes, self.weights, lams, width)

    def plot_density(self, ax: Axes | None = None, *, width: float | None = None) -> Axes:
        """Draw :meth:`density` (smoothed by ``width``) over the Ritz values'
        span, with the useful range ``[lam_min, lam_max]`` shaded and the
        answer in the title (:func:`uba.plotting.plot_spectral_density`)."""
        from uba.plotting import plot_spectral_density

        theta = self.nodes[np.isfinite(self.nodes)]
        lo, hi = float(theta.min()), float(theta.max())
        pad = 0.05 * (hi - lo) + 1e-12 * abs(hi)
        lams = np.linspace(lo - pad, hi + pad, 801)
        answer = "abstained: phi = 1" if self.abstained else f"phi = {self.phi:.3g}"
        title = f"kappa = {self.kappa:.3g}, sigma2 = {self.sigma2:.3g}: {answer} for T = {self.T}"
        return plot_spectral_density(
            lams,
            self.density(lams, width=width),
            lam_min=self.lam_min,
            lam_max=self.lam_max,
            title=title,
            ax=ax,
        )


# ---- for choose_phi ----------------------------------------------------------------------


def _choose_phi_inputs(
    result: ProbeResult, rule: str = "radau"
) -> tuple[_Array, _Array, _Array, _Array]:
    r"""``(eigenvalues, weights, start, noise)`` of the diagonal quadratic
    fitted to the probed model, in the form :func:`uba.theory.choose_phi`
    takes them (:func:`uba._probe_math.choose_phi_inputs`): the spectral
    density's nodes with weights :math:`P\tau` and the fitted noise
    :math:`c\theta^a`, then the gradient run's nodes (``rule``: ``"gauss"``
    or ``"radau"``) with the start :meth:`ProbeResult.start`.  Curvatures are
    of the optimizer's geometry; the step choose_phi must get is
    ``lr / (1 - momentum)``.
    """
    return _probe_math.choose_phi_inputs(
        result.nodes, result.weights, result.params, result.noise_fit, *result.start(rule)
    )


# ---- the decision: choose_phi, the uncertainty of its gain, the rule -----------------------


def _peak(lr: float, eta_min: float) -> tuple[float, float]:
    """The schedule's peak and floor, checked."""
    lr = _checks.real("lr", lr, "a finite number > 0", lambda x: x > 0)
    eta_min = _checks.real("eta_min", eta_min, "a finite number in [0, lr)", lambda x: 0 <= x < lr)
    return lr, eta_min


def _search_range(phi_range: tuple[float, float] | None) -> tuple[float, float]:
    """choose_phi's search range, checked by the core's rule (before any probing)."""
    if phi_range is None:
        return theory.CHOOSE_PHI_RANGE
    _core.check_phi_range(phi_range)
    lo, hi = phi_range
    return float(lo), float(hi)


def _decided(
    result: ProbeResult,
    T: int,
    lr: float,
    eta_min: float,
    phi_range: tuple[float, float],
    stacklevel: int,
) -> ProbeResult:
    """``result`` with the answer for ``T``, ``lr`` and ``eta_min``
    (:meth:`ProbeResult.decide`)."""
    scale = 1.0 / (1.0 - result.momentum)  # SGD with momentum: its long-run step
    peak, floor = lr * scale, eta_min * scale
    # The loss above the stability limit, or with phi at an end of its range,
    # is computed exactly; what is returned warns once, below.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", theory.StabilityWarning)
        warnings.simplefilter("ignore", theory.BoundaryWarning)
        eigenvalues, weights, start, noise = _choose_phi_inputs(result, "radau")
        choice = theory.choose_phi(
            T,
            eigenvalues,
            weights=weights,
            start=start,
            noise=noise,
            eta_max=peak,
            eta_min=floor,
            phi_range=phi_range,
        )
        gains = _resampled_gains(result, T, peak, floor, choice.phi)
    # an order statistic (no interpolation, which a diverging resample's -inf would spoil)
    gain_low = float(np.quantile(gains, _probe_math.GAIN_QUANTILE, method="lower"))
    abstained, reason = _probe_math.decision(
        choice,
        gain_low,
        result.noise_fit,
        result.excess_loss[0],
        result.loss,
        result.loss_stderr,
        result.negative_share,
    )
    if peak * result.lam_max > 2.0:
        warnings.warn(
            theory.StabilityWarning(
                f"the step lr / (1 - momentum) = {peak:.4g} is above the stability limit "
                f"2/lam_max = {2.0 / result.lam_max:.4g} of the measured curvature: the fitted "
                "quadratic's top directions grow until the schedule decays below it (its loss "
                "is computed so, and phi chosen for it)"
            ),
            stacklevel=stacklevel,
        )
    if not abstained and choice.ends[0] != 0:
        warnings.warn(theory.BoundaryWarning(reason), stacklevel=stacklevel)
    return dataclasses.replace(
        result,
        phi=1.0 if abstained else choice.phi,
        T=T,
        lr=lr,
        eta_min=eta_min,
        choice=choice,
        gain=choice.gain,
        gain_low=gain_low,
        abstained=abstained,
        reason=reason,
    )


def _resampled_gains(result: ProbeResult, T: int, peak: float, floor: float, phi: float) -> _Array:
    """The gain of ``phi`` over phi = 1 on each bootstrap resample of the
    measurements (:func:`uba._probe_math.resample`), with each start rule."""
    steps = np.arange(T)
    default = schedule(steps, T, 1.0, peak, floor)
    chosen = schedule(steps, T, phi, peak, floor)
    rng = np.random.default_rng(np.random.SeedSequence(result.seed).spawn(1)[0])
    gains = []
    for _ in range(result.resamples):
        runs, run_weights, pairs, level = _probe_math.resample(
            result.nodes, result.weights, result.noise_samples, rng
        )
        drawn = dataclasses.replace(
            result,
            nodes=runs,
            weights=run_weights,
            noise_samples=pairs,
            sigma2=result.sigma2 * level,
        )
        for rule in _probe_math.START_RULES:
            eigenvalues, weights, start, noise = _choose_phi_inputs(drawn, rule)
            losses = [
                theory.expected_loss(lrs, eigenvalues, weights=weights, start=start, noise=noise)
                for lrs in (default, chosen)
            ]
            gains.append(_probe_math.relative_gain(*losses))
    return np.array(gains)


def suggest_phi(
    model: torch.nn.Module,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    batches: Iterable[tuple[Any, Any]],
    T: int,
    *,
    lr: float,
    eta_min: float = 0.0,
    momentum: float = 0.0,
    optimizer: str = "sgd",
    eps: float = 1e-8,
    n_batches: int = 16,
    hessian_batches: int = 4,
    lanczos_steps: int = 20,
    vectors: int = 3,
    mass: float = 0.1,
    seed: int = 0,
    phi_range: tuple[float, float] | None = None,
    resamples: int = 200,
) -> ProbeResult:
    r"""The phi to train ``model`` with for ``T`` steps at ``lr``, from its own curvature and noise.

    Fits a diagonal quadratic to the loss at the model's current parameters
    (docs/theory.md, the probe's section) and returns the phi of the UBA
    schedule that minimises its expected final loss at this budget and peak,

    .. math::

        \varphi^* = \arg\min_\varphi\ \frac12\sum_k w_k\lambda_k\,
            \mathbb E\,x_T(\lambda_k)^2,\qquad
        \mathbb E\,x_{t+1}^2 = (1-\eta_t\lambda_k)^2\,\mathbb E\,x_t^2
            + \eta_t^2\sigma^2(\lambda_k),\quad \mathbb E\,x_0^2 = s_k,

    (:func:`uba.theory.choose_phi`) with :math:`\eta_t` the UBA schedule of
    peak ``lr / (1 - momentum)`` and floor ``eta_min / (1 - momentum)``;
    :math:`\lambda_k` the measured curvatures, :math:`w_k` the directions each
    stands for, :math:`s_k` the squared distance to the minimum along them and
    :math:`\sigma^2(\lambda) = c|\lambda|^a` the gradient noise, all
    measured.  It does no harm: it returns phi = 1 instead (``abstained``,
    with the ``reason``) when the predicted gain over phi = 1 is inside its
    own uncertainty (its 5% quantile over ``resamples`` bootstrap resamples
    of the measurements and both start rules is not positive), when phi = 1
    is within 1% of the best, or when the data do not fit the model (more
    than 20% negative curvature, noise outside :math:`c|\lambda|^a`, or a
    quadratic whose excess loss exceeds the loss): :meth:`ProbeResult.decide`.

    What is measured, from the first ``n_batches`` batches (inputs, targets):

    * the spectral density of the Hessian of the mean loss over the first
      ``hessian_batches`` batches, by stochastic Lanczos quadrature:
      ``vectors`` Lanczos runs of ``lanczos_steps`` Hessian-vector products
      from random sign vectors, without reorthogonalisation (three vectors in
      memory; the quadrature stays valid in floating point); it gives the
      curvatures :math:`\lambda_k` and their weights;
    * the start along each curvature: one more Lanczos run of
      ``lanczos_steps`` products, from the mean gradient :math:`\bar g`; under
      the fitted quadratic :math:`\bar g = He`, so its node :math:`\theta_k`
      of weight :math:`\tau_k` stands for a squared distance
      :math:`\|\bar g\|^2\tau_k/\theta_k^2` (the mean's own noise removed;
      :meth:`ProbeResult.start`), by the Gauss and the Gauss-Radau rule,
      which bracket what the lowest curvatures hold;
    * the gradient noise at the batch size: its level
      :math:`\mathrm{tr}\,\Sigma_B` from the spread of the ``n_batches``
      batch gradients, and its shape from pairs of batches,
      :math:`d^{\mathsf T}Hd` over :math:`\|d\|^2` for
      :math:`d = (g_a - g_b)/\sqrt 2`, the curvature the noise lies along,
      against isotropic and Hessian-shaped noise
      (:attr:`ProbeResult.noise_fit`);
    * for inspection: ``lam_max`` (the largest Ritz value), ``lam_min``
      (the curvature below which the positive directions hold only the
      fraction ``mass`` of :math:`\mathrm{tr}(H_+^2)`, :func:`lower_end`),
      ``sigma2``, ``dist2``, ``negative_share``, the loss and the excess loss
      the quadratic implies.

    Assumptions (the model's): the loss is locally quadratic over the run,
    with the curvature measured at the start holding for the whole run;
    the noise's variance along a curvature is :math:`c|\lambda|^a`; SGD with
    momentum :math:`\beta` acts like SGD with step :math:`\eta/(1-\beta)`;
    Adam (``optimizer="adam"``) acts like SGD in the coordinates scaled by
    :math:`(\sqrt{v}+\epsilon)^{-1/2}`, with :math:`v` the mean squared
    gradient over the probed batches; a warmup before the schedule is not
    modelled (``T`` is the UBA schedule's own steps).  Negative curvature is
    measured (``negative_share``) and left out.  None of this is a guarantee
    for a network; the study in the README measures how the answer does.

    Cost: ``(vectors + 1) * lanczos_steps + n_batches // 2`` Hessian-vector
    products (each one a double backward pass over ``hessian_batches``
    batches; fewer when a Krylov space is exhausted) and about
    ``2 * n_batches`` gradients (88 products and 32 gradients by default);
    the memory is a few copies of the parameters (measured: 6.8 for SGD, 8.8
    for Adam, 3.4 of them what any double backward needs) plus one batch's
    autograd graph.  Then no more model: ``choose_phi`` (about 90
    evaluations of the loss over the ~80 measured curvatures) and
    ``4 * resamples`` evaluations for the uncertainty, each :math:`O(T)`
    (about 0.4 s at ``T = 1e4``, 4 s at ``1e5`` with the defaults).
    Attention runs on PyTorch's math kernel while probing (the fused kernels
    have no double backward).

    The model is left exactly as it was found: its parameters and their
    ``.grad``, its buffers (BatchNorm's running statistics and
    ``num_batches_tracked``: saved and put back, so probing in train mode
    updates none), the train/eval mode of every submodule, and torch's random
    number generators (CPU and CUDA).  It is probed in its current mode (call
    ``model.eval()`` first to probe without dropout); in train mode each
    batch is seen with one dropout mask throughout (the generators are
    seeded per batch from ``seed``), so the Hessian is of one function.
    Gradients are on while probing, also under ``torch.no_grad()`` or
    ``torch.inference_mode()``.

    Args:
        model: a ``torch.nn.Module`` with at least one parameter that
            requires grad.
        loss_fn: ``loss_fn(model(inputs), targets)`` is the scalar loss.
        batches: an iterable of ``(inputs, targets)`` at the training batch
            size; the first ``n_batches`` are used (at least 2).
        T: the budget of the UBA schedule in steps, an integer in ``[1, 2**53]``.
        lr: the peak learning rate, finite and ``> 0``.
        eta_min: the schedule's floor, in ``[0, lr)``.  Default 0.
        momentum: SGD momentum, in ``[0, 1)``; 0 with Adam (whose first
            moment is an average: its step is ``lr``).  Default 0.
        optimizer: ``"sgd"`` or ``"adam"`` (Adam, AdamW: the geometry
            their preconditioner gives; pass their ``eps``).
        eps: Adam's epsilon, finite and ``> 0``.
        n_batches: batches for the gradient noise, an integer in
            ``[2, 2**31]``.  Default 16.
        hessian_batches: batches for the Hessian, an integer in
            ``[1, n_batches]``; together they should represent the data (for
            a linear model: more samples than parameters).  Default 4.
        lanczos_steps: Hessian-vector products per Lanczos run, an integer in
            ``[2, MAX_LANCZOS_STEPS]`` (1024; 20 to 100 resolve a density).
            Default 20.
        vectors: random Lanczos runs, an integer in ``[1, MAX_VECTORS]``
            (1024).  Default 3.
        mass: the share of ``tr(H+^2)`` left below ``lam_min``, in ``[0, 1)``.
        seed: seeds the random start vectors, the per-batch dropout masks and
            the bootstrap resamples, an integer in ``[0, 2**63 - 1]``.
        phi_range: :func:`uba.theory.choose_phi`'s search range, ``(lo, hi)``
            with ``0 < lo < hi``, finite.  Default ``(2**-10, 2**10)``.
        resamples: bootstrap resamples for the gain's uncertainty, an
            integer in ``[10, MAX_RESAMPLES]``.  Default 200.

    Returns:
        A :class:`ProbeResult`: ``phi`` to train with, ``abstained`` and
        ``reason``, ``choice``, ``gain`` and ``gain_low``, and the
        measurements.

    Raises:
        ImportError: PyTorch is not installed.
        TypeError: ``model`` is not a torch module, ``loss_fn`` not
            callable, a batch not an (inputs, targets) pair, the loss not a
            scalar tensor, or a number not a real number.
        ValueError: an argument is out of range, fewer than 2 batches, a
            batch made under ``torch.inference_mode()``, a loss or gradient
            not finite or a loss independent of the parameters, a Hessian
            that is not finite (the loss is not twice differentiable there),
            every gradient exactly zero (a stationary point of every batch),
            or no positive curvature at all; the message names the argument.

    Warns:
        uba.theory.StabilityWarning: the step ``lr / (1 - momentum)`` is
            above ``2 / lam_max`` of the measured curvature.
        uba.theory.BoundaryWarning: the phi returned is an end of
            ``phi_range`` and the predicted loss still falls beyond it.

    Example:
        >>> import torch
        >>> from uba.probe import suggest_phi
        >>> _ = torch.manual_seed(0)
        >>> X = torch.randn(512, 20)
        >>> y = X @ torch.randn(20, 1) + 0.1 * torch.randn(512, 1)
        >>> model = torch.nn.Linear(20, 1, bias=False)
        >>> batches = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 512, 64)]
        >>> result = suggest_phi(model, torch.nn.functional.mse_loss, batches, 1000, lr=0.1)
        >>> result.hvps, result.gradients, result.params  # (3 + 1) * 20 + 8 // 2
        (84, 16, 20)
        >>> result.noise_fit.shape  # the gradient noise of least squares is shaped like H
        'hessian'
        >>> result.abstained, result.phi == result.choice.phi, result.gain_low > 0
        (False, True, True)
        >>> result.decide(1000, lr=0.01).phi < result.phi  # a smaller peak: decay later
        True
    """
    try:
        import torch
    except ImportError as error:
        raise ImportError("uba.probe.suggest_phi needs PyTorch: pip install torch") from error

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    T = _checks.budget(T)
    lr, eta_min = _peak(lr, eta_min)
    momentum = _checks.real("momentum", momentum, "a number in [0, 1)", lambda x: 0 <= x < 1)
    optimizer = _checks.choice("optimizer", optimizer, OPTIMIZERS)
    if optimizer == "adam" and momentum != 0:
        raise ValueError(
            f"momentum must be 0 with optimizer='adam', got {momentum!r}: Adam's first moment "
            "is an average of the gradients, so its step is lr (not lr / (1 - beta1))"
        )
    eps = _checks.real("eps", eps, "a finite number > 0", lambda x: x > 0)
    n_batches = _checks.integer("n_batches", n_batches, 2, 2**31, "[2, 2**31]")
    hessian_batches = _checks.integer(
        "hessian_batches", hessian_batches, 1, n_batches, f"[1, n_batches = {n_batches}]"
    )
    steps = _checks.integer(
        "lanczos_steps",
        lanczos_steps,
        2,
        MAX_LANCZOS_STEPS,
        f"[2, {MAX_LANCZOS_STEPS}] (each step of each run is one Hessian-vector product; "
        "20 to 100 resolve a density)",
    )
    vectors = _checks.integer(
        "vectors",
        vectors,
        1,
        MAX_VECTORS,
        f"[1, {MAX_VECTORS}] (each run is lanczos_steps Hessian-vector products)",
    )
    _checks.real("mass", mass, "a number in [0, 1)", lambda x: 0 <= x < 1)
    seed = _checks.integer("seed", seed, 0, 2**63 - 1, "[0, 2**63 - 1]")
    span = _search_range(phi_range)  # refused now, not after the probing
    resamples = _checks.integer("resamples", resamples, 10, MAX_RESAMPLES, f"[10, {MAX_RESAMPLES}]")

    params: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no parameter that requires grad")
    with _untouched(model):
        data = _take_batches(batches, n_batches)
        loss_of = _Loss(model, loss_fn, params, data, hessian_batches, seed)
        m = _measure(loss_of, optimizer, eps, steps, vectors, seed)

    ok = np.isfinite(m.nodes)
    nodes, weights = m.nodes[ok], m.weights[ok]
    lam_max = float(nodes.max())
    if lam_max <= 0:
        raise ValueError(
            f"model: the loss has no positive curvature at these parameters "
            f"(largest Ritz value {lam_max:.6g}); a noisy quadratic cannot be fitted"
        )
    P = loss_of.flat.size
    trace_h2 = float((weights * nodes**2).sum()) * P
    dist2, lost = _probe_math.distance(m.grad_norm2, m.trace_sigma, m.batches, trace_h2)
    if lost:
        warnings.warn(
            "suggest_phi: the mean gradient is lost in its own noise; dist2 is taken at "
            "the noise floor of its estimate (more n_batches resolve it)",
            RuntimeWarning,
            stacklevel=2,
        )
    measured = ProbeResult(
        phi=math.nan,
        T=T,
        lr=lr,
        eta_min=eta_min,
        momentum=momentum,
        lam_min=lower_end(nodes, weights, mass),
        lam_max=lam_max,
        sigma2=m.trace_sigma / P,
        dist2=dist2,
        negative_share=_probe_math.negative_share(nodes, weights),
        mass=float(mass),
        params=P,
        hvps=loss_of.hvps,
        gradients=loss_of.gradients,
        hessian_batches=loss_of.hessian_batches,
        nodes=m.nodes,
        weights=m.weights,
        loss=m.loss,
        grad_norm2=m.grad_norm2,
        grad_alpha=m.grad_alpha,
        grad_beta=m.grad_beta,
        noise_samples=m.noise_samples,
        batches=m.batches,
        loss_stderr=m.loss_stderr,
        resamples=resamples,
        seed=seed,
    )
    return _decided(measured, T, lr, eta_min, span, stacklevel=3)


# ---- the measurements (torch) -----------------------------------------------------------


@dataclass(frozen=True)
class _Measured:
    """What one probe measured, before the mathematics."""

    loss: float
    loss_stderr: float
    batches: int
    trace_sigma: float
    grad_norm2: float
    grad_alpha: _Array
    grad_beta: _Array
    noise_samples: _Array
    nodes: _Array
    weights: _Array


def _measure(
    loss_of: _Loss, optimizer: str, eps: float, steps: int, vectors: int, seed: int
) -> _Measured:
    """The gradients' mean and spread, the Lanczos run from the mean gradient,
    the noise pairs and the random Lanczos runs, in that order (so that the
    fewest vectors are alive at once)."""
    flat = loss_of.flat
    # Minibatch gradients: their mean and per-coordinate spread (Welford, in
    # place), which also give Adam's second moment.
    K = len(loss_of.data)
    mean, m2, g = flat.zeros(), flat.zeros(), flat.zeros()
    losses = np.zeros(K)
    for k in range(K):
        losses[k] = loss_of.gradient(k, g)
        delta = g.sub_(mean)  # in place: (g - new mean) = delta * k / (k + 1)
        mean.add_(delta, alpha=1.0 / (k + 1))
        m2.addcmul_(delta, delta, value=k / (k + 1))
    del g, delta
    scale = None  # the diagonal of (sqrt(v) + eps)^(-1/2) for Adam
    if optimizer == "adam":
        scale = (m2 / K).addcmul_(mean, mean).sqrt_().add_(eps).rsqrt_()
        m2.mul_(scale).mul_(scale)
        mean.mul_(scale)
    trace_sigma = float(m2.sum()) / (K - 1)
    del m2
    grad_norm2 = float(mean.dot(mean))
    if grad_norm2 == 0 and trace_sigma == 0:
        raise ValueError(
            "model: the gradient is exactly zero on every probed batch: the parameters are "
            "a stationary point of each batch's loss (an exact minimum, or no data reaching "
            "them), where the model the probe fits has nothing to train and no phi differs "
            "from another"
        )

    def hvp(v: torch.Tensor) -> torch.Tensor:
        if scale is None:
            return loss_of.hessian_times(v)
        return loss_of.hessian_times(v * scale).mul_(scale)

    grad_alpha, grad_beta = _empty(), _empty()
    if grad_norm2 > 0:
        grad_alpha, grad_beta = _lanczos(hvp, mean.div_(math.sqrt(grad_norm2)), steps)
    del mean

    # The noise's shape: d = (g_a - g_b) / sqrt(2) has covariance Sigma_B.
    samples = np.zeros((K // 2, 2))
    d, g = flat.zeros(), flat.zeros()
    for j in range(K // 2):
        loss_of.gradient(2 * j, d)
        loss_of.gradient(2 * j + 1, g)
        d.sub_(g).div_(math.sqrt(2))
        if scale is not None:
            d.mul_(scale)
        samples[j] = float(d.dot(hvp(d))), float(d.dot(d))
        if not math.isfinite(samples[j, 0]):
            raise _not_twice_differentiable()
    del d, g

    nodes, weights = _slq(hvp, flat, steps, vectors, seed)
    return _Measured(
        loss=float(losses.mean()),
        loss_stderr=float(losses.std(ddof=1)) / math.sqrt(K),
        batches=K,
        trace_sigma=trace_sigma,
        grad_norm2=grad_norm2,
        grad_alpha=grad_alpha,
        grad_beta=grad_beta,
        noise_samples=samples,
        nodes=nodes,
        weights=weights,
    )


def _not_twice_differentiable() -> ValueError:
    return ValueError(
        "model: a Hessian-vector product is not finite (NaN or inf) at these parameters, "
        "though the loss and its gradient are: the loss is not twice differentiable here "
        "(abs, sqrt or a power below 2 at 0, for example); probe at other parameters"
    )


@contextlib.contextmanager
def _untouched(model: torch.nn.Module) -> Iterator[None]:
    """Gradients on, and afterwards the model's modes and buffers and torch's
    generators (CPU, CUDA) as they were.

    Buffers are saved and put back rather than BatchNorm's updates switched
    off: that covers every buffer a forward pass may write (BatchNorm's
    statistics and counter, spectral norm's vectors, a user's own), and
    BatchNorm in train mode normalises with the batch's statistics, never its
    running ones, so the loss probed is the training loss either way.  Each
    buffer is put back as the same tensor object, holding its old values.
    """
    import torch

    modes = [(module, module.training) for module in model.modules()]
    buffers = [
        (
            module,
            dict(module._buffers),
            [(b, b.detach().clone()) for b in module._buffers.values() if b is not None],
        )
        for module in model.modules()
    ]
    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if _cuda_in_use() else None
    try:
        with torch.inference_mode(False), torch.enable_grad():
            yield
    finally:
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
        with torch.no_grad():
            for module, originals, values in buffers:
                module._buffers.clear()
                module._buffers.update(originals)
                for buffer, value in values:
                    buffer.copy_(value)
        for module, training in modes:
            module.training = training


def _cuda_in_use() -> bool:
    """Whether CUDA is initialised (so that its generators are in use); asking
    does not initialise it."""
    import torch

    return bool(torch.cuda.is_initialized())  # type: ignore[no-untyped-call]


def _take_batches(batches: Iterable[tuple[Any, Any]], n: int) -> list[tuple[Any, Any]]:
    try:
        stream = iter(batches)
    except TypeError:
        raise TypeError(
            f"batches must be an iterable of (inputs, targets), got {type(batches).__name__}"
        ) from None
    taken = list(islice(stream, n))
    for i, batch in enumerate(taken):
        if not (isinstance(batch, Sequence) and len(batch) == 2):
            raise TypeError(
                f"batches must yield (inputs, targets) pairs, got {type(batch).__name__} "
                f"at index {i}"
            )
        if _made_for_inference(batch):
            raise ValueError(
                f"batches: batch {i} holds a tensor made under torch.inference_mode(), which "
                "autograd cannot use; make the batches outside it (torch.no_grad() is fine)"
            )
    if len(taken) < 2:
        raise ValueError(
            f"batches must yield at least 2 (inputs, targets) pairs to measure the noise, "
            f"got {len(taken)}"
        )
    return [(x, y) for x, y in taken]


def _made_for_inference(value: Any) -> bool:
    """Whether ``value`` holds an inference tensor (in lists, tuples, dicts)."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.is_inference()
    if isinstance(value, (list, tuple)):
        return any(_made_for_inference(v) for v in value)
    if isinstance(value, dict):
        return any(_made_for_inference(v) for v in value.values())
    return False


class _Flat:
    """The parameters laid end to end: one vector of their common dtype."""

    def __init__(self, params: list[torch.Tensor]) -> None:
        import torch

        self.params = params
        self.size = sum(p.numel() for p in params)
        self.dtype = params[0].dtype
        for p in params[1:]:
            self.dtype = torch.promote_types(self.dtype, p.dtype)
        self.device = params[0].device

    def zeros(self) -> torch.Tensor:
        import torch

        return torch.zeros(self.size, dtype=self.dtype, device=self.device)

    def write(
        self, parts: Sequence[torch.Tensor | None], out: torch.Tensor, add: bool = False
    ) -> torch.Tensor:
        """``parts`` (one per parameter, None for zero) into ``out``, or added to it."""
        at = 0
        for part, p in zip(parts, self.params):
            piece = out[at : at + p.numel()]
            if part is None:
                if not add:
                    piece.zero_()
            elif add:
                piece.add_(part.reshape(-1))
            else:
                piece.copy_(part.reshape(-1))
            at += p.numel()
        return out

    def split(self, v: torch.Tensor) -> list[torch.Tensor]:
        out, at = [], 0
        for p in self.params:
            out.append(v[at : at + p.numel()].view_as(p).to(p.dtype))
            at += p.numel()
        return out


def _math_attention() -> contextlib.AbstractContextManager[Any]:
    """PyTorch's math attention kernel, which has a double backward."""
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:  # torch < 2.3: the math kernel is the only CPU one
        return contextlib.nullcontext()
    return sdpa_kernel(SDPBackend.MATH)


class _Loss:
    """The user's loss on the probed batches, with its gradients and
    Hessian-vector products (and their count).  Before each forward pass
    torch's generators are seeded for that batch, so a batch is always seen
    with the same dropout mask."""

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable[[Any, Any], torch.Tensor],
        params: list[torch.Tensor],
        data: list[tuple[Any, Any]],
        hessian_batches: int,
        seed: int,
    ) -> None:
        self.model, self.loss_fn, self.data = model, loss_fn, data
        self.flat = _Flat(params)
        self.hessian_batches = min(hessian_batches, len(data))
        self.seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(len(data))]
        self.hvps = 0
        self.gradients = 0

    def _loss(self, k: int) -> torch.Tensor:
        import torch

        torch.default_generator.manual_seed(self.seeds[k])
        if _cuda_in_use():
            torch.cuda.manual_seed_all(self.seeds[k])
        inputs, targets = self.data[k]
        loss = self.loss_fn(self.model(inputs), targets)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise TypeError(f"loss_fn must return a scalar tensor, got {shape}")
        if not loss.requires_grad:
            raise ValueError(
                "loss_fn(model(inputs), targets) does not depend on the model's parameters"
            )
        if not bool(torch.isfinite(loss.detach())):
            raise ValueError(f"loss_fn gave a non-finite loss ({loss.item()}) on batch {k}")
        return loss.reshape(())

    def gradient(self, k: int, out: torch.Tensor) -> float:
        """Batch ``k``'s gradient into ``out``; returns its loss."""
        import torch

        with _math_attention():
            loss = self._loss(k)
            grads = torch.autograd.grad(loss, self.flat.params, allow_unused=True)
        self.gradients += 1
        self.flat.write(grads, out)
        low, high = torch.aminmax(out)  # NaN propagates; no copy of out, as isfinite makes
        if not math.isfinite(float(low)) or not math.isfinite(float(high)):
            raise ValueError(
                f"loss_fn's gradient is not finite (NaN or inf) on batch {k}, though the loss "
                "is: the loss is not differentiable at these parameters"
            )
        return float(loss.detach())

    def hessian_times(self, v: torch.Tensor) -> torch.Tensor:
        """H v for the mean loss over the first ``hessian_batches`` batches."""
        import torch

        params, parts = self.flat.params, self.flat.split(v)
        total = torch.zeros_like(v)
        for k in range(self.hessian_batches):
            with _math_attention():
                grads = torch.autograd.grad(
                    self._loss(k), params, create_graph=True, allow_unused=True
                )
                dot = sum(
                    torch.dot(g.reshape(-1), u.reshape(-1))
                    for g, u in zip(grads, parts)
                    if g is not None
                )
                if isinstance(dot, torch.Tensor) and dot.requires_grad:  # else H v = 0
                    hv = torch.autograd.grad(dot, params, allow_unused=True)
                    self.flat.write(hv, total, add=True)
        self.hvps += 1
        return total.div_(self.hessian_batches)


def _lanczos(
    hvp: Callable[[torch.Tensor], torch.Tensor], q: torch.Tensor, steps: int
) -> tuple[_Array, _Array]:
    """The tridiagonal of up to ``steps`` Lanczos steps from the unit vector
    ``q`` (overwritten), without reorthogonalisation (so three vectors in
    memory): its diagonal alpha, and beta, its off-diagonal followed by the
    norm of the last residual.  It stops early on an invariant subspace,
    where the quadrature is exact."""
    import torch

    q_prev = torch.zeros_like(q)
    alpha: list[float] = []
    beta: list[float] = []
    for j in range(steps):
        w = hvp(q)
        a = float(torch.dot(w, q))
        w.sub_(q, alpha=a)
        if beta:
            w.sub_(q_prev, alpha=beta[-1])
        b = float(w.norm())
        if not (math.isfinite(a) and math.isfinite(b)):
            raise _not_twice_differentiable()
        alpha.append(a)
        beta.append(b)
        if j == steps - 1 or b <= 1e-10 * max(abs(x) for x in alpha):
            break
        q_prev, q = q, w.div_(b)
    return np.array(alpha), np.array(beta)


def _slq(
    hvp: Callable[[torch.Tensor], torch.Tensor], flat: _Flat, steps: int, vectors: int, seed: int
) -> tuple[_Array, _Array]:
    """Stochastic Lanczos quadrature: Ritz values and weights of ``vectors``
    runs of ``steps`` Lanczos steps from random sign vectors."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    nodes = np.full((vectors, steps), np.nan)
    weights = np.zeros((vectors, steps))
    for run in range(vectors):
        signs = torch.empty(flat.size, dtype=flat.dtype).bernoulli_(0.5, generator=gen)
        q = signs.mul_(2).sub_(1).div_(math.sqrt(flat.size)).to(flat.device)
        alpha, beta = _lanczos(hvp, q, steps)
        theta, tau = _probe_math.gauss_quadrature(alpha, beta[:-1])
        nodes[run, : theta.size] = theta
        weights[run, : theta.size] = tau / vectors
    return nodes, weights
