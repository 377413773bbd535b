"""benchmarks/budgeted_training.py: its schedules are the ones it names,
its tuning and statistics do what the summary says, and its --quick mode runs
end to end (the smoke test of the full study)."""

from __future__ import annotations

import csv
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import uba  # noqa: E402

from ..helpers import child_env, repo_path  # noqa: E402

SCRIPT = repo_path("benchmarks", "budgeted_training.py")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("budgeted_training", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["budgeted_training"] = module
    spec.loader.exec_module(module)
    return module


def lr_sequence(bench, name: str, T: int, warmup: int = 0, phi: float | None = None) -> np.ndarray:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    sched = bench.build_scheduler(name, opt, T, warmup, phi)
    out = []
    for _ in range(T):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out) / 0.5


@pytest.mark.parametrize("T", [20, 101])
def test_schedules_have_the_shapes_they_are_named_for(bench, T: int) -> None:
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
        np.testing.assert_allclose(
            lr_sequence(bench, name, T), shape, rtol=1e-9, atol=1e-12, err_msg=name
        )
    assert set(expected) | {"uba_phi=0.25", "uba_phi=1", "uba_phi=4", "uba_probe"} == set(
        bench.SCHEDULES
    )


def test_probe_and_theory_rows_run_uba_at_the_phi_they_are_given(bench) -> None:
    T = 50
    for name in ("uba_probe", "uba_theory_phi"):
        np.testing.assert_allclose(
            lr_sequence(bench, name, T, phi=3.7), uba.schedule(np.arange(T), T, 3.7), rtol=1e-12
        )
        with pytest.raises(ValueError, match="needs its phi"):
            lr_sequence(bench, name, T)


def test_warmup_is_the_same_ramp_for_every_schedule(bench) -> None:
    T, W = 100, 10
    ramps = {
        n: lr_sequence(bench, n, T, W) for n in ("uba_phi=1", "cosine", "rex", "wsd", "constant")
    }
    for ramp in ramps.values():
        np.testing.assert_allclose(ramp[:W], ramps["cosine"][:W], rtol=1e-12)
        assert ramp[0] == pytest.approx(1 / W)
    after = ramps["uba_phi=1"][W:]
    np.testing.assert_allclose(after, uba.schedule(np.arange(T - W), T - W, 1.0), rtol=1e-12)


def test_nqm_every_decaying_schedule_ends_at_zero(bench) -> None:
    nqm = bench.NQM()
    T = 40
    for name in bench.SCHEDULES:
        lrs = nqm.lrs(name, T, 2.0, phi=1.5)
        assert lrs.shape == (T,) and lrs[0] <= 2.0
        if name != "constant":  # sampled at t = k - 1/2: the last step is within 1/T of 0
            assert lrs[-1] < 2.0 * 0.2


def test_nqm_simulation_agrees_with_its_exact_expectation(bench) -> None:
    nqm = bench.NQM()
    lrs = nqm.lrs("cosine", 30, 2.0, None)
    exact = nqm.expected(lrs)
    simulated = np.mean([nqm.simulated(lrs, seed, 2000) for seed in range(3)])
    assert simulated == pytest.approx(exact, rel=0.05)


def test_tuning_grows_until_the_best_point_is_interior(bench) -> None:
    tuning = bench.Tuning(1.0)
    curve = lambda lr: (math.log2(lr) - 3.2) ** 2  # best near lr = 2**3.2  # noqa: E731
    for k in (-1, 0, 1):
        tuning.scores[k] = [curve(tuning.lr(k))]
    added = []
    while (k := tuning.next_point()) is not None:
        added.append(k)
        tuning.scores[k] = [curve(tuning.lr(k))]
    assert added == [2, 3, 4] and tuning.best() == 3 and tuning.interior()
    assert tuning.lr(tuning.best()) == 8.0


def test_paired_interval_is_the_paired_t_interval(bench) -> None:
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 0.1, 8), rng.normal(1.1, 0.1, 8)
    runs = [
        bench.Run("digits", name, 100, s, 0.1, "eval", test=v)
        for name, values in (("uba_phi=1", a), ("cosine", b))
        for s, v in enumerate(values)
    ]
    res = bench.Results(runs, {})
    c = res.compare("digits", 100, "uba_phi=1", "cosine")
    ci = stats.ttest_rel(a, b).confidence_interval(0.95)
    scale = 100 / b.mean()
    assert (c.lo, c.mean, c.hi) == pytest.approx(
        (ci.low * scale, (a - b).mean() * scale, ci.high * scale), rel=1e-12
    )
    mean, half = bench.interval(list(a))
    ci1 = stats.ttest_1samp(a, 0).confidence_interval(0.95)
    assert (mean - half, mean + half) == pytest.approx((ci1.low, ci1.high), rel=1e-12)


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
    assert {r["task"] for r in evals} == {"digits", "chars", "nqm"}
    for task in ("digits", "chars", "nqm"):
        names = {r["schedule"] for r in evals if r["task"] == task}
        assert {"uba_phi=1", "cosine", "uba_probe", "wsd", "rex", "constant"} <= names
        assert ("uba_theory_phi" in names) == (task == "nqm")
        assert len({r["budget"] for r in evals if r["task"] == task}) == 3
    assert all(math.isfinite(float(r["test"])) for r in evals)
    assert all(math.isnan(float(r["test"])) for r in tunes)  # tuning never sees the test split
    assert not {r["seed"] for r in evals} & {r["seed"] for r in tunes}
    assert all(float(r["phi"]) > 0 for r in evals if r["schedule"] == "uba_probe")
    with open(tmp_path / "probes.csv", newline="") as f:
        probes = list(csv.DictReader(f))
    assert {p["task"] for p in probes} == {"digits", "chars", "nqm"}
    summary = (tmp_path / "summary.md").read_text()
    for heading in ("## digits", "## chars", "## nqm", "## What the probe measured"):
        assert heading in summary
    assert "probe vs best tuned phi" in summary and "CPU time" in summary
    assert (tmp_path / "budgeted_training.png").stat().st_size > 10_000
