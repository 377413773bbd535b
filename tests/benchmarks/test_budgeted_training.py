"""The budgeted-training study (benchmarks/study/, run by
benchmarks/budgeted_training.py): its schedules are the ones it names, its
tuning and statistics do what the summary says, its noisy quadratic model is
the recursion it states, and its --quick mode runs end to end (the smoke test
of the full study)."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import uba  # noqa: E402
import uba.peers  # noqa: E402

from ..helpers import child_env, repo_path  # noqa: E402

SCRIPT = repo_path("benchmarks", "budgeted_training.py")
sys.path.insert(0, str(SCRIPT.parent))  # the study is the package benchmarks/study

from study import protocol, report  # noqa: E402
from study.nqm import EXPECTED_LOSS, GEOMETRIC, NQM, POWER_LAW, Score, Spectrum  # noqa: E402
from study.schedules import GIVEN_PHI, SCHEDULES, GivenPhi, build_scheduler, sampled_steps  # noqa: E402
from study.statistics import Comparison, interval, paired  # noqa: E402


def lr_sequence(name: str, T: int, warmup: int = 0, phi: float | None = None) -> np.ndarray:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    sched = build_scheduler(name, opt, T, warmup, phi)
    out = []
    for _ in range(T):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out) / 0.5


@pytest.mark.parametrize("T", [20, 101])
def test_schedules_have_the_shapes_they_are_named_for(T: int) -> None:
    t = np.arange(T)
    z = t / T
    expected = {
        "uba_phi=0.5": uba.schedule(t, T, 0.5),
        "uba_phi=8": uba.schedule(t, T, 8.0),
        "cosine": (1 + np.cos(np.pi * z)) / 2,
        "linear": 1 - z,
        "wsd": np.clip((T - t) / (0.2 * T), 0, 1),
        "rex": (1 - z) / (1 - z / 2),
        "constant": np.ones(T),
    }
    for name, shape in expected.items():
        np.testing.assert_allclose(lr_sequence(name, T), shape, rtol=1e-9, atol=1e-12, err_msg=name)
    assert set(expected) | {"uba_phi=0.25", "uba_phi=1", "uba_phi=4", "uba_probe"} == set(SCHEDULES)


def test_probe_and_theory_rows_run_uba_at_the_phi_they_are_given() -> None:
    T = 50
    for name in GIVEN_PHI:
        np.testing.assert_allclose(
            lr_sequence(name, T, phi=3.7), uba.schedule(np.arange(T), T, 3.7), rtol=1e-12
        )
        with pytest.raises(ValueError, match="needs its phi"):
            lr_sequence(name, T)


def test_warmup_is_the_same_ramp_for_every_schedule() -> None:
    T, W = 100, 10
    ramps = {n: lr_sequence(n, T, W) for n in ("uba_phi=1", "cosine", "rex", "wsd", "constant")}
    for ramp in ramps.values():
        np.testing.assert_allclose(ramp[:W], ramps["cosine"][:W], rtol=1e-12)
        assert ramp[0] == pytest.approx(1 / W)
    after = ramps["uba_phi=1"][W:]
    np.testing.assert_allclose(after, uba.schedule(np.arange(T - W), T - W, 1.0), rtol=1e-12)


def test_nqm_every_decaying_schedule_ends_at_zero() -> None:
    nqm = NQM(GEOMETRIC, EXPECTED_LOSS)
    T = 40
    for name in protocol.schedules_of("nqm"):
        lrs = nqm.lrs(name, T, 2.0, phi=1.5)
        assert lrs.shape == (T,) and lrs[0] == 2.0
        if name != "constant":  # t = 0..T-1: the last step is within 5/T of 0 (WSD's)
            assert lrs[-1] <= 2.0 * 5 / T * (1 + 1e-12)


@pytest.mark.parametrize("T", [20, 33, 101])
def test_nqm_steps_are_the_lrs_the_torch_schedulers_give(T: int) -> None:
    # what users run, and what uba.theory.choose_phi models: t = 0..T-1
    for name in (*SCHEDULES, *GIVEN_PHI):
        phi = 3.7 if name in GIVEN_PHI else None
        np.testing.assert_allclose(
            sampled_steps(name, T, 1.0, phi), lr_sequence(name, T, phi=phi), rtol=1e-9, atol=1e-12
        )
    np.testing.assert_array_equal(
        sampled_steps("uba_choose_phi", T, 0.8, 0.3), uba.schedule(np.arange(T), T, 0.3, 0.8)
    )


def constant_lr_second_moments(spectrum: Spectrum, eta: float, T: int) -> np.ndarray:
    """E x_T^2 per direction at a constant step, in closed form: with
    r = (1 - eta lam)^2, r^T x_0^2 + noise eta^2 (1 - r^T) / (1 - r)."""
    r = (1 - eta * spectrum.eigenvalues) ** 2
    return r**T * spectrum.start + spectrum.noise * eta**2 * (1 - r**T) / (1 - r)


def test_nqm_exact_score_is_the_closed_form_for_any_spectrum_and_score() -> None:
    lam = np.array([0.01, 0.1, 0.5, 1.0])
    spectrum = Spectrum.of(lam, weights=[1, 2, 3, 4], start=[1.0, 4.0, 0.25, 2.0], noise=lam / 100)
    worst = Score("worst case over curvatures of E x_T^2", lambda s, m: float(m.max()))
    T, eta = 50, 0.7
    m = constant_lr_second_moments(spectrum, eta, T)
    lrs = np.full(T, eta)
    assert NQM(spectrum, worst).exact(lrs) == pytest.approx(m.max(), rel=1e-12)
    assert NQM(spectrum, EXPECTED_LOSS).exact(lrs) == pytest.approx(
        0.5 * np.sum([1, 2, 3, 4] * lam * m), rel=1e-12
    )


def test_nqm_a_step_above_the_stability_limit_scores_as_diverged() -> None:
    nqm = NQM(Spectrum.of([0.5, 4.0], noise=1e-3), EXPECTED_LOSS)
    assert nqm.stability_limit == 0.5
    at_limit = np.array([0.1, 0.5, 0.1])
    assert math.isfinite(nqm.exact(at_limit))
    # one step 1e-15 above the limit, although the next step would undo its growth
    assert nqm.exact(np.array([0.1, 0.5 * (1 + 1e-15), 0.1])) == math.inf
    assert nqm.train("constant", 10, 0, 0.51, None, 0, test=True, quick=False) == (
        math.inf,
        math.inf,
    )


def second_moments_by_products(spectrum: Spectrum, lrs: np.ndarray) -> np.ndarray:
    """E x_T^2 per direction in closed form, not by the recursion: with
    f_t = (1 - eta_t lam)^2, start * prod_t f_t + noise * sum_t eta_t^2
    prod_{s > t} f_s (the products from the end, by a cumulative product)."""
    f = (1 - np.outer(lrs, spectrum.eigenvalues)) ** 2  # (T, directions)
    after = np.vstack([np.cumprod(f[::-1], axis=0)[::-1][1:], np.ones(f.shape[1])])
    return spectrum.start * np.prod(f, axis=0) + spectrum.noise * (lrs**2 @ after)


def test_expected_loss_score_is_uba_theory_expected_loss_and_an_independent_sum() -> None:
    weighted = Spectrum.of(
        np.geomspace(1e-3, 2.0, 37), weights=np.arange(1, 38) / 3, start=0.5, noise=0.01
    )
    for spectrum in (GEOMETRIC, POWER_LAW, weighted):
        nqm = NQM(spectrum, EXPECTED_LOSS)
        for name, T, peak in (("uba_phi=0.5", 100, 0.9), ("wsd", 73, 1.9), ("cosine", 300, 0.3)):
            lrs = nqm.lrs(name, T, peak * nqm.stability_limit / 2, None)
            score = nqm.exact(lrs)
            library = uba.theory.expected_loss(
                lrs,
                spectrum.eigenvalues,
                weights=spectrum.weights,
                start=spectrum.start,
                noise=spectrum.noise,
            )
            moments = second_moments_by_products(spectrum, lrs)
            by_products = 0.5 * np.sum(spectrum.weights * spectrum.eigenvalues * moments)
            assert score == pytest.approx(library, rel=1e-12)
            assert score == pytest.approx(by_products, rel=1e-10)


def test_nqm_spectrum_broadcasts_scalars_and_rejects_other_shapes() -> None:
    s = Spectrum.of([1.0, 2.0, 3.0], noise=0.5)
    assert s.weights.tolist() == [1.0] * 3 and s.start.tolist() == [1.0] * 3
    assert s.noise.tolist() == [0.5] * 3
    with pytest.raises(ValueError, match="start has shape"):
        Spectrum.of([1.0, 2.0, 3.0], start=[1.0, 2.0])


@pytest.mark.parametrize("spectrum", [GEOMETRIC, POWER_LAW], ids=["geometric", "power-law"])
def test_nqm_exact_score_is_the_mean_loss_of_simulated_sgd(spectrum: Spectrum) -> None:
    """The recursion is the expectation of SGD's loss: 1000 noisy runs agree
    to within 4 standard errors, which are below 1% of it."""
    nqm = NQM(spectrum, EXPECTED_LOSS)
    lrs = nqm.lrs("cosine", 20, 1.5, None)
    rng = np.random.default_rng(7)
    x = np.ones((1000, len(spectrum.eigenvalues))) * np.sqrt(spectrum.start)
    scale = np.sqrt(spectrum.noise)
    for eta in lrs:
        x -= eta * (spectrum.eigenvalues * x + rng.standard_normal(x.shape) * scale)
    losses = 0.5 * (x * x) @ (spectrum.weights * spectrum.eigenvalues)
    half = 4 * losses.std() / math.sqrt(len(losses))  # 4 standard errors
    assert abs(losses.mean() - nqm.exact(lrs)) < half < 0.01 * nqm.exact(lrs)


def test_power_law_task_constants_are_neither_trivial_nor_hopeless() -> None:
    """POWER_LAW's constants and the two criteria its comment states."""
    k = np.arange(1, 1001.0)
    lam = k**-1.5
    np.testing.assert_array_equal(POWER_LAW.eigenvalues, lam)
    np.testing.assert_array_equal(POWER_LAW.noise, 0.1 * lam)
    assert np.all(POWER_LAW.start == 1) and np.all(POWER_LAW.weights == 1)
    assert protocol.TASKS["nqm_power"].budgets(quick=False) == [100, 300, 1000]
    initial = 0.5 * lam.sum()
    trainable = [0.5 * lam[lam * T >= 1].sum() / initial for T in (100, 300, 1000)]
    assert np.round(trainable, 2).tolist() == [0.86, 0.91, 0.95]

    def parts(level: float, T: int) -> tuple[float, float]:
        """(start's, noise's) part of the final loss of a constant step 1/lam_max."""
        m_start = constant_lr_second_moments(Spectrum.of(lam, start=1.0), 1.0, T)
        m_noise = constant_lr_second_moments(Spectrum.of(lam, start=0.0, noise=level * lam), 1.0, T)
        return 0.5 * float(lam @ m_start), 0.5 * float(lam @ m_noise)

    start_300, noise_per_level = parts(1.0, 300)
    assert start_300 / noise_per_level == pytest.approx(0.085, abs=0.0005)  # balance at T = 300
    ratios = [np.divide(*parts(0.1, T)) for T in (100, 1000)]
    assert np.round(ratios, 1).tolist() == [1.4, 0.4]  # start's part 1.4x, then the noise's 2.3x
    assert 1 / ratios[1] == pytest.approx(2.3, abs=0.05)


def test_nqm_rows_choose_phi_for_the_run_from_the_true_model() -> None:
    for task in ("nqm", "nqm_power"):
        s = protocol.RUNNERS[task].spectrum
        for T, peak in ((100, 1.0), (20, 2.0)):
            run = protocol.Run(task, "uba_choose_phi", T, 0, peak, "eval")
            protocol._work((run, None, False))
            c = uba.theory.choose_phi(
                T, s.eigenvalues, weights=s.weights, start=s.start, noise=s.noise, eta_max=peak
            )
            assert run.phi == c.phi and run.phi_note == {-1: "phi-", 0: "", 1: "phi+"}[c.ends[0]]
            assert run.val == run.test == pytest.approx(c.loss, rel=1e-12)
    # the worst-case row only where the noise is one variance
    assert set(protocol.RUNNERS["nqm"].phi_rows) == {"uba_choose_phi", "uba_theory_phi"}
    assert set(protocol.RUNNERS["nqm_power"].phi_rows) == {"uba_choose_phi"}


def test_nqm_theory_phi_needs_one_noise_variance() -> None:
    # the worst case's answer here is the lower end of optimal_phi's range,
    # which it says; the study's row records it in its note instead
    with pytest.warns(uba.theory.BoundaryWarning, match="lower end of phi_range"):
        phi = uba.theory.optimal_phi(100, 0.01, 1.0, sigma2=1e-3, eta_max=1.0, eta_min=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert NQM(GEOMETRIC, EXPECTED_LOSS).theory_phi(100, 1.0) == GivenPhi(phi, "phi-")
    shaped = Spectrum.of(GEOMETRIC.eigenvalues, noise=1e-3 * GEOMETRIC.eigenvalues)
    with pytest.raises(ValueError, match="one noise variance"):
        NQM(shaped, EXPECTED_LOSS).theory_phi(100, 1.0)


def test_nqm_probe_needs_one_parameter_per_direction() -> None:
    with pytest.raises(ValueError, match="weights must be 1"):
        NQM(Spectrum.of([1.0, 0.1], weights=[1.0, 3.0]), EXPECTED_LOSS).probe(0, 10, 1.0)


def grown(scores: dict[int, float]) -> tuple[protocol.Tuning, list[int]]:
    """The tuning grid started at k = -1, 0, 1 and grown by its rule, with
    the scores given for each grid point; the points added, in order."""
    tuning = protocol.Tuning(1.0)
    for k in (-1, 0, 1):
        tuning.scores[k] = [scores[k]]
    added = []
    while (k := tuning.next_point()) is not None:
        added.append(k)
        tuning.scores[k] = [scores[k]]
    return tuning, added


def test_tuning_grows_until_the_best_point_is_interior() -> None:
    curve = lambda lr: (math.log2(lr) - 3.2) ** 2  # best near lr = 2**3.2  # noqa: E731
    tuning, added = grown({k: curve(2.0**k) for k in range(-1, 10)})
    assert added == [2, 3, 4] and tuning.best() == 3 and tuning.interior()
    assert tuning.lr(tuning.best()) == 8.0


def test_tuning_grows_downwards_and_treats_divergence_as_worst() -> None:
    # the best lr is below the grid; the highest lrs diverge (inf)
    scores = {k: (k + 2.6) ** 2 for k in range(-6, 1)} | {1: math.inf}
    tuning, added = grown(scores)
    assert added == [-2, -3, -4] and tuning.best() == -3 and tuning.interior()
    assert tuning.lr(tuning.best()) == 0.125


def test_tuning_scores_a_point_by_the_mean_over_seeds_and_breaks_ties_by_order() -> None:
    tuning = protocol.Tuning(0.5, {-1: [3.0, 1.0], 0: [2.5, 2.5], 1: [2.0, 2.0]})
    assert tuning.mean(-1) == 2.0 and tuning.mean(5) == math.inf
    assert tuning.best() == -1 and tuning.next_point() == -2 and not tuning.interior()
    tuning.scores[-2] = [2.0]  # a tie with -1 and 1: the first point tried wins
    assert tuning.best() == -1 and tuning.interior()


class SerialPool:
    """The process pool's map, in this process."""

    def map(self, fn, jobs):
        return [fn(job) for job in jobs]


def test_protocol_tunes_to_an_interior_peak_then_evaluates_it_on_other_seeds() -> None:
    runs, probes, tunings = protocol.run_study(["nqm"], True, [1000], [0, 1], SerialPool(), 12)
    names = protocol.schedules_of("nqm", quick=True)
    assert set(tunings) == {("nqm", n, T) for n in names for T in (10, 20, 40)}
    assert [(p.task, p.seed) for p in probes] == [("nqm", 0), ("nqm", 1), ("nqm", 1000)]
    nqm = protocol.RUNNERS["nqm"]
    for (_, name, T), tuning in tunings.items():
        assert tuning.interior()
        tried = sorted(tuning.scores)
        assert tried == list(range(tried[0], tried[-1] + 1))  # a contiguous grid
        tune = [r for r in runs if r.phase == "tune" and (r.schedule, r.budget) == (name, T)]
        assert sorted(r.peak_lr for r in tune) == [tuning.lr(k) for k in tried]
        assert {r.seed for r in tune} == {1000}  # the NQM's validation is exact: one seed
        for r in tune:  # each point scored by the exact value of its schedule
            assert r.val == nqm.exact(nqm.lrs(name, T, r.peak_lr, r.phi))
        best = min(tune, key=lambda r: r.val)
        evals = [r for r in runs if r.phase == "eval" and (r.schedule, r.budget) == (name, T)]
        assert sorted(r.seed for r in evals) == [0, 1]
        assert {r.peak_lr for r in evals} == {best.peak_lr}
        assert all(math.isfinite(r.test) for r in evals)
    assert protocol.Results(runs, tunings).all_interior() == (len(tunings), len(tunings))
    # the probe row trains with the probe's decision at the run's budget and
    # peak: its phi, 1 where it abstained, and why
    by_seed = {p.seed: p for p in probes}
    probed = [r for r in runs if r.schedule == "uba_probe"]
    assert probed
    for r in probed:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", uba.theory.StabilityWarning)
            warnings.simplefilter("ignore", uba.theory.BoundaryWarning)
            decision = by_seed[r.seed].result.decide(r.budget, lr=r.peak_lr)
        assert r.phi == decision.phi and r.phi_reason == decision.reason != ""
        assert (r.phi_note == "abstained") == decision.abstained
        if decision.abstained:
            assert r.phi == 1.0
    for p in probes:  # each probe's own answer, at the full budget and the grid's center
        assert (p.phi, p.abstained, p.reason) == (p.result.phi, p.result.abstained, p.result.reason)
        assert p.result.T == protocol.TASKS["nqm"].full


def test_protocol_stops_growing_after_its_rounds() -> None:
    _, _, tunings = protocol.run_study(["nqm"], True, [1000], [0], SerialPool(), 1)
    assert all(sorted(t.scores) == [-1, 0, 1] for t in tunings.values())
    assert not all(t.interior() for t in tunings.values())  # the quick NQM needs a second round


def test_interval_is_the_t_interval() -> None:
    from scipy import stats

    a = np.random.default_rng(1).normal(1.0, 0.1, 8)
    mean, half = interval(list(a))
    ci = stats.ttest_1samp(a, 0).confidence_interval(0.95)
    assert (mean - half, mean + half) == pytest.approx((ci.low, ci.high), rel=1e-12)
    # two values: t with 1 degree of freedom is Cauchy, t_0.975 = tan(0.475 pi)
    assert interval([1.0, 2.0]) == pytest.approx((1.5, math.tan(0.475 * math.pi) * 0.5), rel=1e-12)
    assert interval([3.0])[0] == 3.0 and math.isnan(interval([3.0])[1])
    assert math.isnan(interval([1.0, math.inf])[1])


def test_paired_interval_is_the_paired_t_interval() -> None:
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 0.1, 8), rng.normal(1.1, 0.1, 8)
    runs = [
        protocol.Run("digits", name, 100, s, 0.1, "eval", test=v)
        for name, values in (("uba_phi=1", a), ("cosine", b))
        for s, v in enumerate(values)
    ]
    res = protocol.Results(runs, {})
    c = res.compare("digits", 100, "uba_phi=1", "cosine")
    ci = stats.ttest_rel(a, b).confidence_interval(0.95)
    scale = 100 / b.mean()
    assert (c.lo, c.mean, c.hi) == pytest.approx(
        (ci.low * scale, (a - b).mean() * scale, ci.high * scale), rel=1e-12
    )
    assert c.significant == (ci.high < 0 or ci.low > 0)


#: t_0.975 with 2 degrees of freedom in closed form: the t(2) quantile at
#: alpha is (2 alpha - 1) / sqrt(2 alpha (1 - alpha)).
T975_DOF2 = (2 * 0.975 - 1) / math.sqrt(2 * 0.975 * (1 - 0.975))


def test_paired_comparison_pairs_by_seed_and_says_when_it_cannot() -> None:
    a = {0: 1.0, 1: 2.0, 2: 4.0, 7: 100.0}
    b = {2: 3.0, 1: 1.0, 0: 2.0, 9: -100.0}  # seeds 7 and 9 have no pair
    c = paired("a", a, "b", b)
    d = np.array([-1.0, 1.0, 1.0])  # a - b on seeds 0, 1, 2
    half = T975_DOF2 * d.std(ddof=1) / math.sqrt(3)
    assert (c.mean, c.lo, c.hi) == pytest.approx(
        (100 * d.mean() / 2, 100 * (d.mean() - half) / 2, 100 * (d.mean() + half) / 2), rel=1e-12
    )
    nan = [paired("a", a, "b", {0: 1.0}), paired("a", a, "b", {0: 1.0, 1: -1.0})]
    nan.append(paired("a", a, "b", {0: 1.0, 1: math.inf}))
    for c in nan:  # one common seed; b's mean not positive; a difference not finite
        assert math.isnan(c.mean) and not c.significant and report.cell(c) == "n/a"


def test_report_cells_bold_only_intervals_that_exclude_zero() -> None:
    assert report.cell(Comparison("a", "b", -2.0, -3.0, -1.0)) == "**-2.0% [-3.0, -1.0]**"
    assert report.cell(Comparison("a", "b", 1.0, -0.5, 2.5)) == "+1.0% [-0.5, +2.5]"
    assert report.cell(Comparison("a", "a", 0.0, 0.0, 0.0)) == "same schedule"
    # below 1%, a decimal more per decade down to 3; an exact difference is one number
    assert report.cell(Comparison("a", "b", 0.25, -0.1, 0.6)) == "+0.25% [-0.10, +0.60]"
    assert report.cell(Comparison("a", "b", -0.031, -0.031, -0.031)) == "**-0.031% (exact)**"
    assert report.cell(Comparison("a", "b", 0.0, 0.0, 0.0)) == "+0.0% (exact)"


def test_an_exact_metric_has_no_interval_whatever_the_rounding_of_its_mean() -> None:
    x = 0.7  # NumPy's standard deviation of three of them is not 0
    assert np.std([x] * 3, ddof=1) > 0
    assert interval([x] * 3) == (pytest.approx(x, rel=1e-15), 0.0)
    c = paired("a", dict.fromkeys(range(3), x), "b", dict.fromkeys(range(3), 2 * x))
    assert c.lo == c.hi == c.mean == pytest.approx(-50.0, rel=1e-14) and c.significant


def test_every_file_goes_through_the_atomic_writer(tmp_path: Path, monkeypatch) -> None:
    """The study writes nothing by itself: uba._io (tested in tests/io) does."""
    path = tmp_path / "summary.md"
    report.write_text(path, "± first\n")
    assert path.read_bytes() == "± first\n".encode()

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        report.write_text(path, "second\n")
    assert path.read_bytes() == "± first\n".encode() and os.listdir(tmp_path) == ["summary.md"]


@pytest.mark.slow  # trains every schedule of the study, a few seconds each
def test_quick_mode_runs_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=child_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    evals = [r for r in rows if r["phase"] == "eval"]
    tunes = [r for r in rows if r["phase"] == "tune"]
    tasks = {"digits", "chars", "nqm", "nqm_power"}
    assert {r["task"] for r in evals} == tasks
    for task in tasks:
        names = {r["schedule"] for r in evals if r["task"] == task}
        assert {"uba_phi=1", "cosine", "uba_probe", "wsd", "rex", "constant"} <= names
        assert ("uba_choose_phi" in names) == task.startswith("nqm")
        assert ("uba_theory_phi" in names) == (task == "nqm")
        assert len({r["budget"] for r in evals if r["task"] == task}) == 3
    assert all(math.isfinite(float(r["test"])) for r in evals)
    assert all(math.isnan(float(r["test"])) for r in tunes)  # tuning never sees the test split
    assert not {r["seed"] for r in evals} & {r["seed"] for r in tunes}
    assert all(float(r["phi"]) > 0 for r in evals if r["schedule"] == "uba_probe")
    with open(tmp_path / "probes.csv", newline="") as f:
        probes = list(csv.DictReader(f))
    assert {p["task"] for p in probes} == tasks
    assert {p["abstained"] for p in probes} <= {"True", "False"}
    assert all(p["reason"] for p in probes)
    assert all(r["phi_reason"] for r in evals if r["schedule"] == "uba_probe")
    summary = (tmp_path / "summary.md").read_text()
    for heading in ("## digits", "## chars", "## nqm:", "## nqm_power", "## What the probe"):
        assert heading in summary
    assert "probe vs best tuned phi" in summary and "choose_phi vs phi 1" in summary
    assert "CPU time" in summary
    assert (tmp_path / "budgeted_training.png").stat().st_size > 10_000
