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
    inside = pm.fit_noise([[lams @ lams, lams.sum()]] * 2, lams, tau, 200, lams.sum())
    assert math.isnan(inside.residual)  # identical pairs: no standard error


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
