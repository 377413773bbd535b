r"""phi measured from the model itself: curvature and gradient noise by probing.

:func:`suggest_phi` measures what :func:`uba.theory.optimal_phi` needs and
users do not know: the range of the loss's curvature (from Hessian-vector
products, by stochastic Lanczos quadrature) and the gradient-noise variance at
the user's batch size (from a few minibatch gradients).  It returns a
:class:`ProbeResult` with the suggested phi, what was measured and what it
cost.  docs/theory.md (section 7) defines each measured quantity and says why.

torch is imported when :func:`suggest_phi` is first called, not when this
module is imported.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from uba import _checks, _core, theory

if TYPE_CHECKING:
    import torch
    from matplotlib.axes import Axes

__all__ = ["OPTIMIZERS", "ProbeResult", "lower_end", "suggest_phi"]

#: The optimizers whose geometry :func:`suggest_phi` models.
OPTIMIZERS = ("sgd", "adam")

_Array = npt.NDArray[np.float64]


def lower_end(nodes: npt.ArrayLike, weights: npt.ArrayLike, mass: float) -> float:
    r"""The low end of the useful curvature range of a spectral measure.

    .. math::

        \lambda_{\min} = \Big\{\lambda:\ \int_0^{\lambda} t^2\,d\mu(t)
            = q \int_0^{\infty} t^2\,d\mu(t)\Big\}

    for the measure :math:`\mu = \sum_k w_k\,\delta_{\theta_k}` (``nodes``
    :math:`\theta_k`, ``weights`` :math:`w_k \ge 0`) and ``mass`` :math:`q`:
    the curvature below which the positive eigen-directions hold only the
    fraction :math:`q` of :math:`\mathrm{tr}(H_+^2)`, i.e. of the starting
    gradient's energy when the start is equally far from the minimum along
    every direction (docs/theory.md, section 7).
    Equal nodes are merged; each node's share is spread over its
    neighbourhood: the cumulative share at node :math:`k` is taken as the
    share below it plus half its own, and the quantile is interpolated
    linearly in :math:`\log\lambda` between nodes (the lowest node when
    :math:`q` falls below its half share).

    Args:
        nodes: the eigenvalues or Ritz values; non-positive ones are ignored.
        weights: their weights (same shape, finite, ``>= 0``).
        mass: :math:`q`, in ``[0, 1)``.

    Returns:
        :math:`\lambda_{\min}`.

    Raises:
        ValueError: no node is positive with a positive weight, or a
            weight or ``mass`` is out of range.

    Example:
        >>> from uba.probe import lower_end
        >>> round(lower_end([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.01), 12)
        1.0
        >>> 2.0 < lower_end([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.2) < 3.0
        True
    """
    q = _checks.real("mass", mass, "a number in [0, 1)", lambda x: 0.0 <= x < 1.0)
    theta = np.asarray(nodes, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if theta.shape != w.shape or not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise ValueError("weights must be finite, >= 0 and as many as the nodes")
    keep = (theta > 0) & (w > 0)
    if not keep.any():
        raise ValueError("the measure has no positive curvature: no node > 0 with weight > 0")
    curvature, at = np.unique(theta[keep], return_inverse=True)  # sorted, repeats merged
    share = np.bincount(at, weights=(w * theta * theta)[keep]).astype(np.float64)
    share /= share.sum()
    middle = np.cumsum(share) - share / 2
    return float(np.exp(np.interp(q, middle, np.log(curvature))))


@dataclass(frozen=True, eq=False)
class ProbeResult:
    r"""What :func:`suggest_phi` measured, the phi it suggests, and the cost.

    The spectral density is the stochastic Lanczos quadrature estimate

    .. math::

        \hat\rho(\lambda) = \frac{1}{V}\sum_{v=1}^{V}\sum_{k=1}^{m}
            \tau_{vk}\,\delta(\lambda - \theta_{vk}),

    with Ritz values :math:`\theta_{vk}` (``nodes``) and weights
    :math:`\tau_{vk}/V` (``weights``, summing to 1) from :math:`V` Lanczos runs
    of :math:`m` steps.  All curvatures are of the optimizer's geometry: the
    loss's Hessian for SGD, the Adam-preconditioned Hessian for Adam.
    """

    phi: float
    """The suggested phi: :func:`uba.theory.optimal_phi` for the measured
    range and noise, this budget and peak."""
    T: int
    """The budget phi was chosen for."""
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
    """Minibatch gradients used (one per batch probed)."""
    hessian_batches: int
    """The batches whose mean loss the Hessian is of."""
    nodes: _Array = field(repr=False)
    """Ritz values, one row per Lanczos run (NaN-padded after an early stop)."""
    weights: _Array = field(repr=False)
    """Their quadrature weights (0 where ``nodes`` is NaN); they sum to 1."""

    @property
    def kappa(self) -> float:
        """``lam_max / lam_min``: the condition number of the useful range."""
        return self.lam_max / self.lam_min

    @property
    def noise(self) -> float:
        """``sigma2 / dist2``: the noise of the noisy quadratic that starts at
        distance 1, the ``sigma2`` that :func:`uba.theory.optimal_phi` gets."""
        return self.sigma2 / self.dist2

    def phi_for(
        self,
        T: int,
        *,
        lr: float,
        eta_min: float = 0.0,
        phi_range: tuple[float, float] | None = None,
    ) -> float:
        """The suggested phi for another budget or peak, from the same
        measurements (no new Hessian-vector products)."""
        return _phi_from(
            self.lam_min, self.lam_max, self.noise, T, lr, eta_min, self.momentum, phi_range
        )

    def density(self, lams: npt.ArrayLike, *, width: float | None = None) -> _Array:
        r"""The estimated spectral density at ``lams``, each Ritz value
        smoothed by a Gaussian of standard deviation ``width`` (default 1% of
        the spread of the Ritz values):
        :math:`\sum \tau\,\mathcal N(\lambda;\theta, w^2)`."""
        x = np.asarray(lams, dtype=np.float64)
        ok = np.isfinite(self.nodes)
        theta, tau = self.nodes[ok], self.weights[ok]
        if width is None:
            width = max(0.01 * float(np.ptp(theta)), 1e-12 * self.lam_max)
        w = _checks.real("width", width, "a finite number > 0", lambda v: v > 0)
        z = (x[..., None] - theta) / w
        out: _Array = np.exp(-0.5 * z * z) @ tau / (w * math.sqrt(2 * math.pi))
        return out

    def plot_density(self, ax: Axes | None = None, *, width: float | None = None) -> Axes:
        """Draw :meth:`density` (smoothed by ``width``) over the Ritz values'
        span, with the useful range ``[lam_min, lam_max]`` shaded and the
        suggestion in the title (:func:`uba.plotting.plot_spectral_density`)."""
        from uba.plotting import plot_spectral_density

        theta = self.nodes[np.isfinite(self.nodes)]
        lo, hi = float(theta.min()), float(theta.max())
        pad = 0.05 * (hi - lo) + 1e-12 * abs(hi)
        lams = np.linspace(lo - pad, hi + pad, 801)
        title = (
            f"kappa = {self.kappa:.3g}, sigma2 = {self.sigma2:.3g}: "
            f"phi = {self.phi:.3g} for T = {self.T}"
        )
        return plot_spectral_density(
            lams,
            self.density(lams, width=width),
            lam_min=self.lam_min,
            lam_max=self.lam_max,
            title=title,
            ax=ax,
        )


def _peak(lr: float, eta_min: float) -> tuple[float, float]:
    """The schedule's peak and floor, checked."""
    lr = _checks.real("lr", lr, "a finite number > 0", lambda x: x > 0)
    eta_min = _checks.real("eta_min", eta_min, "a finite number in [0, lr)", lambda x: 0 <= x < lr)
    return lr, eta_min


def _phi_from(
    lam_min: float,
    lam_max: float,
    noise: float,
    T: int,
    lr: float,
    eta_min: float,
    momentum: float,
    phi_range: tuple[float, float] | None,
) -> float:
    lr, eta_min = _peak(lr, eta_min)
    scale = 1.0 / (1.0 - momentum)
    return theory.optimal_phi(
        T,
        lam_min,
        lam_max,
        sigma2=noise,
        eta_max=lr * scale,
        eta_min=eta_min * scale,
        phi_range=phi_range,
    )


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
) -> ProbeResult:
    r"""Suggest phi for training ``model`` for ``T`` steps, from its own curvature and noise.

    Fits the noisy quadratic model of docs/theory.md (section 4) to the loss
    at the model's current parameters and returns its best phi,

    .. math::

        \varphi^* = \arg\min_\varphi \max_{\lambda\in[\lambda_{\min},\lambda_{\max}]}
            \mathbb E\,x_T^2(\lambda),\qquad
        \sigma^2_{\mathrm{NQM}} = \frac{\mathrm{tr}\,\Sigma_B / P}
            {\|\nabla f\|^2 / \mathrm{tr}(H^2)},

    via :func:`uba.theory.optimal_phi` with peak ``lr / (1 - momentum)``.
    What is measured, from the first ``n_batches`` batches (inputs, targets):

    * the spectral density of the Hessian of the mean loss over the first
      ``hessian_batches`` batches, by stochastic Lanczos quadrature:
      ``vectors`` Lanczos runs of ``lanczos_steps`` Hessian-vector products
      from random sign vectors, without reorthogonalisation (three vectors in
      memory; the quadrature stays valid in floating point);
    * ``lam_max``, the largest Ritz value (a lower bound that converges
      fastest of all, typically to < 1% in 20 steps);
    * ``lam_min``, the low end of the useful range: the curvature below which
      the positive eigen-directions hold only the fraction ``mass`` of
      :math:`\mathrm{tr}(H_+^2)`, i.e. of the starting gradient's energy
      (:func:`lower_end`; within +-30% with the defaults on the test spectra);
    * ``sigma2``, the per-parameter variance of one batch's gradient,
      from the spread of the ``n_batches`` batch gradients;
    * ``dist2`` = :math:`\|\nabla f\|^2/\mathrm{tr}(H^2)`, with
      :math:`\|\nabla f\|^2` debiased for the noise in the mean gradient.

    Assumptions (the noisy quadratic model's): the loss is locally quadratic
    over the run, with the start equally far from the minimum along every
    eigen-direction and the same noise variance in each; curvature measured at
    the start holds for the whole run; SGD with momentum :math:`\beta` acts like
    SGD with step :math:`\eta/(1-\beta)`; Adam (``optimizer="adam"``) acts like
    SGD in the coordinates scaled by :math:`(\sqrt{v}+\epsilon)^{-1/2}`, with
    :math:`v` the mean squared gradient over the probed batches.  Negative
    curvature is measured (``negative_share``) and left out of the range.
    None of this is a guarantee for a network; the study in the README
    measures how the suggestion does.

    Cost: ``lanczos_steps * vectors`` Hessian-vector products (each one a
    double backward pass over ``hessian_batches`` batches) and ``n_batches``
    gradients; the memory is a few copies of the parameters (measured: 6.6
    for SGD, 8.7 for Adam, 3.4 of them what any double backward needs) plus
    one batch's autograd graph.  The model's parameters, gradients and mode
    are left as they are; it runs in its current mode (call ``model.eval()``
    first to probe without dropout).  Attention runs on PyTorch's math kernel while probing (the
    fused kernels have no double backward).

    Args:
        model: a ``torch.nn.Module`` with at least one parameter that
            requires grad.
        loss_fn: ``loss_fn(model(inputs), targets)`` is the scalar loss.
        batches: an iterable of ``(inputs, targets)`` at the training batch
            size; the first ``n_batches`` are used (at least 2).
        T: the budget of the UBA schedule in steps, an integer in ``[1, 2**53]``.
        lr: the peak learning rate, finite and ``> 0``.
        eta_min: the schedule's floor, in ``[0, lr)``.  Default 0.
        momentum: SGD momentum, in ``[0, 1)``.  Default 0.
        optimizer: ``"sgd"`` or ``"adam"`` (Adam, AdamW: the geometry
            their preconditioner gives; pass their ``eps``).
        eps: Adam's epsilon, finite and ``> 0``.
        n_batches: batches for the gradient noise, an integer in
            ``[2, 2**31]``.  Default 16.
        hessian_batches: batches for the Hessian, an integer in
            ``[1, n_batches]``; together they should represent the data (for
            a linear model: more samples than parameters).  Default 4.
        lanczos_steps: Hessian-vector products per Lanczos run, ``>= 2``.
        vectors: Lanczos runs, ``>= 1``.
        mass: the share of ``tr(H+^2)`` left below ``lam_min``, in ``[0, 1)``.
        seed: seeds the random start vectors.
        phi_range: the search range of :func:`uba.theory.optimal_phi`.

    Returns:
        A :class:`ProbeResult`.

    Raises:
        TypeError: ``model`` is not a torch module, ``loss_fn`` not
            callable, a batch not an (inputs, targets) pair, the loss not a
            scalar tensor, or a number not a real number.
        ValueError: an argument is out of range, fewer than 2 batches, a
            loss not finite or independent of the parameters, or no positive
            curvature at all; the message names the argument.

    Example:
        >>> import torch
        >>> from uba.probe import suggest_phi
        >>> _ = torch.manual_seed(0)
        >>> X = torch.randn(512, 20)
        >>> y = X @ torch.randn(20, 1) + 0.1 * torch.randn(512, 1)
        >>> model = torch.nn.Linear(20, 1, bias=False)
        >>> batches = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 512, 64)]
        >>> result = suggest_phi(model, torch.nn.functional.mse_loss, batches, 1000, lr=0.1)
        >>> result.hvps, result.gradients, result.params
        (60, 8, 20)
        >>> 0 < result.lam_min < result.lam_max and result.phi > 0
        True
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    T = _checks.budget(T)
    lr, eta_min = _peak(lr, eta_min)
    momentum = _checks.real("momentum", momentum, "a number in [0, 1)", lambda x: 0 <= x < 1)
    optimizer = _checks.choice("optimizer", optimizer, OPTIMIZERS)
    eps = _checks.real("eps", eps, "a finite number > 0", lambda x: x > 0)
    n_batches = _checks.integer("n_batches", n_batches, 2, 2**31, "[2, 2**31]")
    hessian_batches = _checks.integer(
        "hessian_batches", hessian_batches, 1, n_batches, f"[1, n_batches = {n_batches}]"
    )
    steps = _checks.integer("lanczos_steps", lanczos_steps, 2, 2**20, "[2, 2**20]")
    vectors = _checks.integer("vectors", vectors, 1, 2**20, "[1, 2**20]")
    _checks.real("mass", mass, "a number in [0, 1)", lambda x: 0 <= x < 1)
    seed = _checks.integer("seed", seed, 0, 2**63 - 1, "[0, 2**63 - 1]")

    if phi_range is not None:  # refused now, not after the probing
        _core.check_phi_range(phi_range)

    params: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no parameter that requires grad")
    loss_of = _Loss(model, loss_fn, params, _take_batches(batches, n_batches), hessian_batches)
    flat = loss_of.flat

    # Minibatch gradients: their mean and per-coordinate spread (Welford, in
    # place), which also give Adam's second moment.
    K = len(loss_of.data)
    mean, m2, g = flat.zeros(), flat.zeros(), flat.zeros()
    for k in range(K):
        flat.write(loss_of.gradient(k), g)
        delta = g - mean
        mean.add_(delta, alpha=1.0 / (k + 1))
        m2.addcmul_(delta, g.sub_(mean))
    del g, delta
    scale = None  # the diagonal of (sqrt(v) + eps)^(-1/2) for Adam
    if optimizer == "adam":
        scale = (m2 / K).addcmul_(mean, mean).sqrt_().add_(eps).rsqrt_()
        m2.mul_(scale).mul_(scale)
        mean.mul_(scale)
    var_total = float(m2.sum()) / (K - 1)  # tr Sigma_B
    grad2 = float(mean.dot(mean)) - var_total / K  # debiased ||grad f||^2
    del m2, mean

    def hvp(v: torch.Tensor) -> torch.Tensor:
        if scale is None:
            return loss_of.hessian_times(v)
        return loss_of.hessian_times(v * scale).mul_(scale)

    nodes, weights = _slq(hvp, flat, steps, vectors, seed)
    ok = np.isfinite(nodes)
    lam_max = float(nodes[ok].max())
    if lam_max <= 0:
        raise ValueError(
            f"model: the loss has no positive curvature at these parameters "
            f"(largest Ritz value {lam_max:.6g}); a noisy quadratic cannot be fitted"
        )
    lam_min = lower_end(nodes[ok], weights[ok], mass)
    P = flat.size
    trace_h2 = float((weights[ok] * nodes[ok] ** 2).sum()) * P
    if grad2 <= 0:
        warnings.warn(
            "suggest_phi: the mean gradient is lost in its own noise; dist2 is taken at "
            "the noise floor of its estimate (more n_batches resolve it)",
            RuntimeWarning,
            stacklevel=2,
        )
        grad2 = var_total / K
    sigma2 = var_total / P
    dist2 = grad2 / trace_h2
    phi = _phi_from(lam_min, lam_max, sigma2 / dist2, T, lr, eta_min, momentum, phi_range)
    return ProbeResult(
        phi=phi,
        T=T,
        lr=lr,
        eta_min=eta_min,
        momentum=momentum,
        lam_min=lam_min,
        lam_max=lam_max,
        sigma2=sigma2,
        dist2=dist2,
        negative_share=_negative_share(nodes[ok], weights[ok]),
        mass=float(mass),
        params=P,
        hvps=loss_of.hvps,
        gradients=loss_of.gradients,
        hessian_batches=loss_of.hessian_batches,
        nodes=nodes,
        weights=weights,
    )


# ---- helpers (torch) ---------------------------------------------------------------


def _negative_share(nodes: _Array, weights: _Array) -> float:
    curvature = weights * np.abs(nodes)
    total = float(curvature.sum())
    return float(curvature[nodes < 0].sum()) / total if total > 0 else 0.0


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
    if len(taken) < 2:
        raise ValueError(
            f"batches must yield at least 2 (inputs, targets) pairs to measure the noise, "
            f"got {len(taken)}"
        )
    return [(x, y) for x, y in taken]


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
    Hessian-vector products (and their count)."""

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable[[Any, Any], torch.Tensor],
        params: list[torch.Tensor],
        data: list[tuple[Any, Any]],
        hessian_batches: int,
    ) -> None:
        self.model, self.loss_fn, self.data = model, loss_fn, data
        self.flat = _Flat(params)
        self.hessian_batches = min(hessian_batches, len(data))
        self.hvps = 0
        self.gradients = 0

    def _loss(self, k: int) -> torch.Tensor:
        import torch

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

    def gradient(self, k: int) -> list[torch.Tensor | None]:
        import torch

        with _math_attention():
            grads = torch.autograd.grad(self._loss(k), self.flat.params, allow_unused=True)
        self.gradients += 1
        return list(grads)

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


def _slq(
    hvp: Callable[[torch.Tensor], torch.Tensor], flat: _Flat, steps: int, vectors: int, seed: int
) -> tuple[_Array, _Array]:
    """Stochastic Lanczos quadrature: Ritz values and weights of ``vectors``
    runs of ``steps`` Lanczos steps from random sign vectors, without
    reorthogonalisation (so three vectors in memory)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    nodes = np.full((vectors, steps), np.nan)
    weights = np.zeros((vectors, steps))
    for run in range(vectors):
        signs = torch.empty(flat.size, dtype=flat.dtype).bernoulli_(0.5, generator=gen)
        q = signs.mul_(2).sub_(1).div_(math.sqrt(flat.size)).to(flat.device)
        q_prev = torch.zeros_like(q)
        alpha: list[float] = []
        beta: list[float] = []
        for j in range(steps):
            w = hvp(q)
            a = float(torch.dot(w, q))
            w.sub_(q, alpha=a)
            if beta:
                w.sub_(q_prev, alpha=beta[-1])
            alpha.append(a)
            b = float(w.norm())
            if j == steps - 1 or b <= 1e-10 * max(abs(x) for x in alpha):
                break  # an invariant subspace: the quadrature is exact
            beta.append(b)
            q_prev, q = q, w.div_(b)
        tri = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        theta, vecs = np.linalg.eigh(tri)
        nodes[run, : len(theta)] = theta
        weights[run, : len(theta)] = vecs[0] ** 2 / vectors
    return nodes, weights
