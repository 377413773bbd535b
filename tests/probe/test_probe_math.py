"""uba._probe_math, the probe's NumPy mathematics, against closed forms.

No torch here: quadratures against Gauss-Legendre and Gauss-Radau-Legendre
rules and against the moments of known matrices; the noise fit, the start and
the inputs of choose_phi against spectra, noises and starts set by
construction, with the expected loss by its recursion (reference.py).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import uba
from uba import _probe_math as pm
from uba.probe import lower_end

from ..helpers import child_env
from .reference import expected_loss, lanczos


def jacobi_legendre(m: int) -> tuple[np.ndarray, np.ndarray]:
    """The Jacobi matrix of the Legendre weight on [-1, 1] (normalised to 1)."""
    k = np.arange(1, m)
    return np.zeros(m), k / np.sqrt(4.0 * k * k - 1)


@pytest.mark.parametrize("m", [1, 2, 5, 12])
def test_gauss_quadrature_is_gauss_legendre(m: int) -> None:
    nodes, weights = pm.gauss_quadrature(*jacobi_legendre(m))
    x, w = np.polynomial.legendre.leggauss(m)
    np.testing.assert_allclose(nodes, x, atol=1e-14)
    np.testing.assert_allclose(weights, w / 2, atol=1e-14)


def test_gauss_quadrature_of_a_lanczos_run_has_its_moments() -> None:
    # m steps on A from q: sum tau theta^j = q^T A^j q / |q|^2 for j <= 2m - 1
    rng = np.random.default_rng(0)
    lams = np.geomspace(0.1, 3.0, 50)
    q = rng.standard_normal(50)
    m = 6
    alpha, beta = lanczos(lams, q, m)
    nodes, weights = pm.gauss_quadrature(alpha, beta[:-1])
    share = q * q / (q @ q)
    for j in range(2 * m):
        assert weights @ nodes**j == pytest.approx(share @ lams**j, rel=1e-11)
    assert not weights @ nodes ** (2 * m) == pytest.approx(share @ lams ** (2 * m), rel=1e-8)
    # as many steps as distinct eigenvalues: the measure itself
    alpha, beta = lanczos(lams[:8], q[:8], 8)
    nodes, weights = pm.gauss_quadrature(alpha, beta[:-1])
    np.testing.assert_allclose(nodes, lams[:8], rtol=1e-11)
    np.testing.assert_allclose(weights, q[:8] ** 2 / (q[:8] @ q[:8]), rtol=1e-9)


def test_radau_quadrature_is_gauss_radau_legendre() -> None:
    # the (m + 1)-point Gauss-Radau rule on [-1, 1] with a node at -1: its
    # other nodes are the roots of (P_m + P_{m+1}) / (1 + x), its weights
    # 2 / (m + 1)^2 at -1 and (1 - x) / ((m + 1)^2 P_m(x)^2) elsewhere
    for m in (1, 3, 7):
        alpha, beta = jacobi_legendre(m + 1)
        nodes, weights = pm.radau_quadrature(alpha[:m], beta, -1.0)
        P_m = np.polynomial.legendre.Legendre.basis(m)
        P_m1 = np.polynomial.legendre.Legendre.basis(m + 1)
        free = np.sort(((P_m + P_m1) // np.polynomial.legendre.Legendre([1, 1])).roots())
        np.testing.assert_allclose(nodes, np.r_[-1.0, free], atol=1e-12)
        expected = np.r_[2 / (m + 1) ** 2, (1 - free) / ((m + 1) ** 2 * P_m(free) ** 2)]
        np.testing.assert_allclose(weights, expected / 2, atol=1e-12)


def test_radau_and_gauss_bracket_the_inverse() -> None:
    # q^T A^-1 q: Gauss from below, Radau with its node at or below the
    # spectrum from above (the derivatives of 1/x alternate in sign)
    rng = np.random.default_rng(1)
    lams = np.geomspace(0.05, 5.0, 400)
    q = lams * rng.standard_normal(400)
    truth = (q * q / (q @ q)) @ (1 / lams)
    for m in (5, 10, 20):
        alpha, beta = lanczos(lams, q, m)
        nodes, weights = pm.gauss_quadrature(alpha, beta[:-1])
        low = weights @ (1 / nodes)
        nodes, weights = pm.radau_quadrature(alpha, beta, 0.05)
        high = weights @ (1 / nodes)
        assert low < truth < high
        assert nodes[0] == pytest.approx(0.05, rel=1e-12)


def test_radau_on_an_invariant_subspace_is_the_exact_gauss_rule() -> None:
    nodes, weights = pm.radau_quadrature([2.0, 2.0], [1.0, 0.0], 0.5)
    np.testing.assert_allclose(nodes, [1.0, 3.0])
    np.testing.assert_allclose(weights, [0.5, 0.5])
    # a prescribed node that is a Ritz value: moved just below it, still a rule
    nodes, weights = pm.radau_quadrature([2.0], [1.0], 2.0)
    assert np.all(np.isfinite(nodes)) and weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pm.gauss_quadrature([1.0, math.nan], [0.5]), "must be finite"),
        (lambda: pm.gauss_quadrature([1.0, 2.0], [0.5, 0.5]), "one number fewer"),
        (lambda: pm.gauss_quadrature([], []), "one number fewer"),
        (lambda: pm.radau_quadrature([1.0, 2.0], [0.5], 0.0), "as many numbers"),
        (lambda: pm.radau_quadrature([1.0], [math.inf], 0.0), "must be finite"),
        (lambda: pm.radau_quadrature([1.0], [1.0], math.nan), "node must be a finite"),
        (lambda: pm.start_quadrature([1.0], [1.0], "lobatto", [1.0]), "rule must be one of"),
        (
            lambda: pm.fit_noise([[1.0, 2.0]], np.zeros((2, 3)), np.full((2, 3), 1 / 6), 5, 1.0),
            "nodes: the spectral density has no nonzero curvature",
        ),
    ],
)
def test_quadratures_refuse_bad_input(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# ---- lower_end: the definition of lam_min -------------------------------------------------


def test_lower_end_of_a_uniform_density_is_its_closed_form() -> None:
    # density uniform on [a, b]: the lam^2-weighted share below x is
    # (x^3 - a^3) / (b^3 - a^3), so the q-quantile is (a^3 + q (b^3 - a^3))^(1/3)
    a, b = 0.5, 4.0
    lams = np.linspace(a, b, 200_001)
    for q in (0.0, 0.05, 0.1, 0.5, 0.9):
        expected = (a**3 + q * (b**3 - a**3)) ** (1 / 3)
        assert lower_end(lams, np.ones_like(lams), q) == pytest.approx(expected, rel=1e-4)


def test_lower_end_ignores_order_duplicates_and_non_positive_nodes() -> None:
    rng = np.random.default_rng(0)
    nodes = rng.uniform(0.01, 1.0, 50)
    weights = rng.uniform(0, 1, 50)
    ref = lower_end(nodes, weights, 0.2)
    perm = rng.permutation(50)
    assert lower_end(nodes[perm], weights[perm], 0.2) == pytest.approx(ref, rel=1e-12)
    split = lower_end(np.tile(nodes, 3), np.tile(weights, 3) / 3, 0.2)
    assert split == pytest.approx(ref, rel=1e-12)
    padded = lower_end(np.r_[nodes, -0.5, 0.0], np.r_[weights, 1.0, 1.0], 0.2)
    assert padded == pytest.approx(ref, rel=1e-12)
    assert lower_end([3.0, 1.0, 2.0], [1.0, 1.0, 1.0], 0.0) == 1.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([-1.0, 0.0], [1.0, 1.0], 0.1), "no positive curvature"),
        (([1.0, 2.0], [1.0, -1.0], 0.1), "weights"),
        (([1.0, 2.0], [1.0], 0.1), "weights"),
        (([1.0, 2.0], [1.0, 1.0], 1.0), "mass must be a number in \\[0, 1\\), got 1.0"),
        (([1.0, 2.0], [1.0, 1.0], float("nan")), "mass"),
    ],
)
def test_lower_end_refuses_bad_input(args, match) -> None:
    with pytest.raises(ValueError, match=match):
        lower_end(*args)


# ---- the density, the negative share, the distance --------------------------------------


def test_smoothed_density_integrates_to_the_weights() -> None:
    nodes = np.array([[0.5, 1.0, np.nan], [2.0, -0.5, 3.0]])
    weights = np.array([[0.1, 0.2, 0.0], [0.3, 0.15, 0.25]])
    x = np.linspace(-3.0, 6.0, 90_001)
    for width in (None, 0.05, 0.3):
        integral = np.trapezoid(pm.smoothed_density(nodes, weights, x, width), x)
        assert integral == pytest.approx(1.0, rel=1e-6)
    # one node of weight 1: the normal density itself
    one = pm.smoothed_density(np.array([1.0]), np.array([1.0]), [1.0, 2.0], 0.5)
    np.testing.assert_allclose(
        one, np.exp(-0.5 * np.array([0.0, 4.0])) / (0.5 * np.sqrt(2 * np.pi))
    )
    with pytest.raises(ValueError, match="width must be a finite number > 0, got -1"):
        pm.smoothed_density(nodes, weights, x, -1)


def test_negative_share_is_the_negative_absolute_curvature() -> None:
    nodes = np.array([-2.0, -0.5, 1.0, 4.0])
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    assert pm.negative_share(nodes, weights) == pytest.approx(0.3 / (0.3 + 0.3 + 1.6))
    assert pm.negative_share(np.array([0.0]), np.array([1.0])) == 0.0


def test_distance_removes_the_noise_of_the_mean_gradient() -> None:
    # ||g_bar||^2 = ||grad||^2 + tr(Sigma) / n on average
    assert pm.distance(10.0, 16.0, 8, 4.0) == (2.0, False)
    assert pm.distance(1.0, 16.0, 8, 4.0) == (0.5, True)  # below its noise: the floor


# ---- the noise's shape ---------------------------------------------------------------------


def spectrum(P: int = 300) -> tuple[np.ndarray, np.ndarray]:
    lams = np.geomspace(0.01, 10.0, P)
    return lams, np.full(P, 1.0 / P)


@pytest.mark.parametrize("a", [0.0, 0.3, 0.5, 1.0, 1.7])
def test_noise_fit_recovers_the_exponent_and_scale_of_exact_noise(a: float) -> None:
    lams, tau = spectrum()
    c = 0.02
    sigma2 = c * lams**a  # per direction
    trace = sigma2.sum()
    fit = pm.fit_noise([[lams @ sigma2, trace]], lams, tau, len(lams), trace)
    assert fit.exponent == pytest.approx(a, abs=0.005)
    assert fit.scale == pytest.approx(c, rel=0.05)
    assert fit.isotropic == pytest.approx(lams.mean(), rel=1e-12)
    assert fit.hessian == pytest.approx((lams**2).sum() / lams.sum(), rel=1e-12)
    assert fit.curvature == pytest.approx(lams @ sigma2 / trace, rel=1e-12)
    assert fit.shape == ("isotropic" if a < 0.5 else "hessian") or a == 0.5
    np.testing.assert_allclose(fit.variance(lams).sum(), trace, rtol=1e-12)


def test_noise_outside_the_family_is_fitted_at_an_end_and_says_so() -> None:
    # noise along the lowest curvatures (sigma^2 ~ 1 / lam): below isotropic
    rng = np.random.default_rng(2)
    lams, tau = spectrum(200)
    sigma2 = 0.001 / lams
    d = rng.standard_normal((16, 200)) * np.sqrt(sigma2)
    samples = np.c_[(d * d) @ lams, (d * d).sum(axis=1)]
    fit = pm.fit_noise(samples, lams, tau, 200, sigma2.sum())
    assert fit.exponent == 0.0 and fit.shape == "isotropic"
    assert fit.curvature < fit.isotropic and fit.residual < -3


@pytest.mark.parametrize("pairs", [2, 3, 5, 7])
def test_identical_pairs_have_no_spread(pairs: int) -> None:
    # repeated batches give the same pair each time: the standard error is 0, not the
    # rounding of u - r s (which is an ulp off for some sums on some CPUs' BLAS)
    for P in (200, 300, 1000):
        lams, tau = spectrum(P)
        sample = [lams @ lams, lams.sum()]
        fit = pm.fit_noise([sample] * pairs, lams, tau, P, lams.sum())
        assert fit.stderr == 0.0 and fit.shape == "hessian"
        assert math.isnan(fit.residual)  # no standard error to measure the miss in


def test_noise_fit_standard_error_matches_the_spread_of_sampled_pairs() -> None:
    # d ~ N(0, Sigma) with Sigma = diag(c lam): the fit over 8 pairs, repeated
    rng = np.random.default_rng(3)
    lams, tau = spectrum(200)
    sigma2 = 0.01 * lams
    truth = lams @ sigma2 / sigma2.sum()
    estimates, errors = [], []
    for _ in range(400):
        d = rng.standard_normal((8, 200)) * np.sqrt(sigma2)
        samples = np.c_[(d * d) @ lams, (d * d).sum(axis=1)]
        fit = pm.fit_noise(samples, lams, tau, 200, sigma2.sum())
        estimates.append(fit.curvature)
        errors.append(fit.stderr)
    estimates, errors = np.array(estimates), np.array(errors)
    assert np.mean(estimates) == pytest.approx(truth, rel=0.02)
    assert np.median(errors) == pytest.approx(np.std(estimates), rel=0.25)
    assert 0.85 <= np.mean(np.abs(estimates - truth) <= 2 * errors) <= 1.0


def test_noise_fit_without_noise_says_so() -> None:
    lams, tau = spectrum()
    fit = pm.fit_noise([[0.0, 0.0], [0.0, 0.0]], lams, tau, len(lams), 0.0)
    assert fit.shape == "none" and math.isnan(fit.exponent) and fit.scale == 0.0
    assert np.all(fit.variance(lams) == 0.0)
    assert math.isnan(pm.fit_noise([[1.0, 2.0]], lams, tau, 300, 2.0).stderr)  # one pair


# ---- the start and the inputs of choose_phi ---------------------------------------------


def test_start_from_an_exact_gradient_measure_is_the_start() -> None:
    rng = np.random.default_rng(4)
    lams = np.geomspace(0.1, 10.0, 40)
    e = rng.standard_normal(40)
    g = lams * e
    curv, start = pm.start_from_gradient(np.r_[lams, -1.0, 2.0], np.r_[g * g, 0.5, 0.0])
    np.testing.assert_allclose(curv, lams)  # negative curvature and no energy left out
    np.testing.assert_allclose(start, e * e, rtol=1e-12)


def test_choose_phi_inputs_from_exact_quadratures_give_the_exact_loss() -> None:
    # the start's and the noise's parts of the loss, each on its own nodes,
    # add up to the loss of the diagonal quadratic itself
    rng = np.random.default_rng(5)
    P = 60
    lams = np.geomspace(0.02, 4.0, P)
    e2 = rng.uniform(0.1, 2.0, P)
    sigma2 = 0.003 * lams
    g2 = lams**2 * e2
    fit = pm.fit_noise([[lams @ sigma2, sigma2.sum()]], lams, np.full(P, 1 / P), P, sigma2.sum())
    assert fit.exponent == 1.0
    inputs = pm.choose_phi_inputs(
        lams, np.full(P, 1 / P), P, fit, *pm.start_from_gradient(lams, g2)
    )
    for T, phi, lr in ((100, 1.0, 0.4), (300, 0.1, 0.2), (300, 8.0, 0.45)):
        lrs = uba.schedule(np.arange(T), T, phi, lr)
        truth = expected_loss(lrs, lams, np.ones(P), e2, sigma2)
        assert expected_loss(lrs, *inputs) == pytest.approx(truth, rel=1e-12)


def test_start_quadratures_bracket_the_start_left_after_training() -> None:
    # the start's part of the final loss, from a 15-step Lanczos run from the
    # gradient: Gauss below the truth, Radau (node at the bottom) above
    rng = np.random.default_rng(6)
    lams = np.geomspace(0.05, 5.0, 400)
    e = rng.standard_normal(400) * 0.3
    g = lams * e
    alpha, beta = lanczos(lams, g, 15)
    for T, lr in ((200, 0.1), (500, 0.1), (500, 0.3)):
        lrs = uba.schedule(np.arange(T), T, 1.0, lr)
        truth = expected_loss(lrs, lams, np.ones(400), e * e, np.zeros(400))
        loss = {}
        for rule in pm.START_RULES:
            nodes, weights = pm.start_quadrature(alpha, beta, rule, lams)
            curv, start = pm.start_from_gradient(nodes, float(g @ g) * weights)
            loss[rule] = expected_loss(lrs, curv, np.ones(curv.size), start, 0 * curv)
        assert loss["gauss"] < truth < loss["radau"]
    assert pm.start_quadrature([], [], "radau", lams)[0].size == 0


def test_the_noise_of_the_mean_gradient_is_not_taken_for_start() -> None:
    # g_bar = H e + noise / sqrt(n), isotropic noise that swamps the low
    # curvatures: the start's part of the loss from g_bar as it is, and with
    # the noise's energy removed near each node
    rng = np.random.default_rng(7)
    P, n, s2 = 400, 16, 0.05
    lams = np.geomspace(0.05, 5.0, P)
    e = rng.standard_normal(P) * 0.3
    g = lams * e + rng.standard_normal(P) * np.sqrt(s2 / n)
    density = lanczos(lams, rng.choice([-1.0, 1.0], P), 30)
    nodes, weights = pm.gauss_quadrature(density[0], density[1][:-1])
    fit = pm.fit_noise([[s2 * lams.sum(), s2 * P]], nodes, weights, P, s2 * P)
    assert fit.shape == "isotropic"
    alpha, beta = lanczos(lams, g, 20)
    grad_nodes, grad_weights = pm.start_quadrature(alpha, beta, "radau", nodes)
    g2 = float(g @ g)
    raw = pm.start_from_gradient(grad_nodes, g2 * grad_weights)
    energy = pm.signal_energy(grad_nodes, grad_weights, g2, nodes, weights, P, fit, n)
    assert energy.sum() == pytest.approx(g2 - s2 * P / n, rel=0.01)  # ||grad f||^2
    debiased = pm.start_from_gradient(grad_nodes, energy)
    lrs = uba.schedule(np.arange(500), 500, 4.0, 0.1)
    truth = expected_loss(lrs, lams, np.ones(P), e * e, 0 * lams)
    with_noise, without = (
        expected_loss(lrs, c, np.ones(c.size), x0, 0 * c) for c, x0 in (raw, debiased)
    )
    # the noise is 13 times the signal at the lowest curvature: what is left
    # after removing its expectation is not the signal, but far nearer it
    assert with_noise > 5 * truth and abs(without / truth - 1) < 0.1 * (with_noise / truth - 1)
    assert np.array_equal(
        pm.signal_energy(grad_nodes, grad_weights, g2, nodes, weights, P, fit, 0),
        g2 * grad_weights,
    )


# ---- the decision --------------------------------------------------------------------------


def a_choice(phi=4.0, loss=0.6, flat=(3.0, 5.0), ends=(0, 0)) -> uba.theory.PhiChoice:
    """A PhiChoice by hand: phi = 4 predicted to save 40% of phi = 1's loss 1."""
    return uba.theory.PhiChoice(
        phi=phi,
        eta_max=0.1,
        loss=loss,
        loss_default=1.0,
        loss_cosine=0.8,
        initial_loss=10.0,
        at_boundary=ends[0] != 0,
        flat=flat,
        phi_range=(2.0**-10, 2.0**10),
        eta_max_range=None,
        ends=ends,
        evaluations=1,
    )


FIT = pm.NoiseFit(2.0, 0.1, 1.0, 2.0, 1.0, 1e-3, residual=0.5)
# (choice, gain_low, fit, excess, loss, loss_stderr, negative_share) that return phi = 4
HOLDS = (a_choice(), 0.3, FIT, 1.0, 2.0, 0.1, 0.0)


def decide(**change):
    names = ("choice", "gain_low", "fit", "excess", "loss", "loss_stderr", "negative_share")
    args = dict(zip(names, HOLDS))
    args.update(change)
    return pm.decision(*args.values())


def test_the_decision_returns_a_robust_gain_and_says_how_much() -> None:
    assert decide() == (
        False,
        "phi = 4 is predicted to save 40.0% of phi = 1's loss (at least 30.0% in 95% of the "
        "resamples)",
    )
    abstained, reason = decide(choice=a_choice(phi=2.0**-10, ends=(-1, 0), flat=(2**-10, 0.01)))
    assert not abstained
    assert reason.endswith(
        "; it is the lower end of phi_range 0.000977..1.02e+03 and the loss still falls below it"
    )
    abstained, reason = decide(choice=a_choice(phi=2.0**10, ends=(1, 0), flat=(100.0, 2**10)))
    assert not abstained and "upper end of phi_range" in reason and "falls above it" in reason


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"negative_share": 0.25}, "25% of the curvature is negative (more than 20%)"),
        ({"fit": pm.NoiseFit(2.0, 0.1, 1.0, 2.0, 1.0, 1e-3, 3.5)}, "+3.5 standard errors"),
        ({"fit": pm.NoiseFit(2.0, 0.1, 1.0, 2.0, 1.0, 1e-3, -3.5)}, "-3.5 standard errors"),
        ({"excess": 2.31}, "excess loss at the start, at least 2.31, exceeds the loss"),
        ({"excess": 2.01, "loss_stderr": math.nan}, "the quadratic does not reach to its minimum"),
        ({"choice": a_choice(flat=(0.5, 5.0))}, "phi = 1 is within 1% of the best predicted"),
        ({"gain_low": 0.0}, "gain of phi = 4 over phi = 1, 40.0%, is inside its uncertainty"),
        ({"gain_low": -0.2}, "(5% quantile over the resamples: -20.0%)"),
        ({"gain_low": math.nan}, "inside its uncertainty"),
    ],
)
def test_the_decision_abstains_and_says_why(change, says) -> None:
    abstained, reason = decide(**change)
    assert abstained and says in reason


@pytest.mark.parametrize(
    "change",
    [
        {"negative_share": pm.MAX_NEGATIVE_SHARE},
        {"fit": pm.NoiseFit(2.0, 0.1, 1.0, 2.0, 1.0, 1e-3, -pm.MAX_NOISE_RESIDUAL)},
        {"fit": pm.NoiseFit(math.nan, math.nan, 1.0, 2.0, math.nan, 0.0, math.nan)},  # no noise
        {"excess": 2.29},  # within three standard errors of the loss
        {"choice": a_choice(flat=(1.01, 5.0))},
        {"gain_low": 1e-9},
    ],
)
def test_the_decision_at_the_edge_of_each_rule_returns_phi(change) -> None:
    assert decide(**change)[0] is False


def test_the_decision_says_the_first_reason_that_holds() -> None:
    # the data do not fit before there is nothing to gain before the uncertainty
    everything = {"negative_share": 0.5, "excess": 9.0, "choice": a_choice(flat=(0.5, 5.0))}
    assert "negative" in decide(**everything, gain_low=-1.0)[1]
    assert "excess" in decide(**{**everything, "negative_share": 0.0}, gain_low=-1.0)[1]
    assert "within 1%" in decide(choice=a_choice(flat=(0.5, 5.0)), gain_low=-1.0)[1]


def test_relative_gain_is_the_share_of_phi_1s_loss_saved() -> None:
    assert pm.relative_gain(4.0, 3.0) == 0.25
    assert pm.relative_gain(3.0, 4.0) == pytest.approx(-1 / 3, rel=1e-15)
    # a phi that diverges is the worst there is, phi = 1 diverging the best gain
    assert pm.relative_gain(math.inf, 3.0) == 1.0 and pm.relative_gain(3.0, math.inf) == -math.inf
    assert pm.relative_gain(0.0, 1e-300) == -math.inf
    assert pm.relative_gain(0.0, 0.0) == 0.0 and pm.relative_gain(math.inf, math.inf) == 0.0
    assert pm.relative_gain(1.0, 0.6) == a_choice().gain  # PhiChoice.gain, the same rule


def test_a_resample_draws_whole_runs_and_pairs_with_replacement() -> None:
    rng = np.random.default_rng(3)
    nodes = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])
    weights = np.array([[0.1, 0.7 / 3], [1 / 3, 0.0], [0.2, 2 / 15]])
    samples = np.array([[1.0, 1.0], [8.0, 2.0], [27.0, 3.0], [64.0, 4.0]])
    seen = set()
    for _ in range(200):
        n, w, pairs, level = pm.resample(nodes, weights, samples, rng)
        assert w.sum() == pytest.approx(1.0)  # each run is 1/3 of the density
        rows = [int(np.flatnonzero(nodes[:, 0] == first)[0]) for first in n[:, 0]]
        np.testing.assert_array_equal(w, weights[rows])
        picked = [int(np.flatnonzero(samples[:, 1] == b)[0]) for b in pairs[:, 1]]
        np.testing.assert_array_equal(pairs, samples[picked])
        assert level == pytest.approx(pairs[:, 1].sum() / 10.0)
        seen.add(tuple(rows))
    assert len(seen) > 10  # with replacement: repeats and omissions
    # seeded; and without noise pairs the level is 1
    a = pm.resample(nodes, weights, samples, np.random.default_rng(7))
    b = pm.resample(nodes, weights, samples, np.random.default_rng(7))
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))
    assert pm.resample(nodes, weights, np.zeros((0, 2)), rng)[3] == 1.0


def test_the_mathematics_imports_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import uba._probe_math, uba.probe\n"
        "print(uba.probe.lower_end([1.0, 2.0], [1.0, 1.0], 0.0))\n"
        "try:\n"
        "    uba.probe.suggest_phi(None, None, [], 1, lr=0.1)\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), check=True
    )
    assert out.stdout.splitlines() == [
        "1.0",
        "uba.probe.suggest_phi needs PyTorch: pip install torch",
    ]
