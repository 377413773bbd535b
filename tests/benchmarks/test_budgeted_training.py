"""benchmarks/budgeted_training.py: its schedules are the ones it names,
and its --quick mode runs end to end (the smoke test of the full study)."""

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

from ..helpers import repo_path  # noqa: E402

SCRIPT = repo_path("benchmarks", "budgeted_training.py")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("budgeted_training", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["budgeted_training"] = module
    spec.loader.exec_module(module)
    return module


def lr_sequence(bench, name: str, T: int, warmup: int = 0) -> np.ndarray:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    sched = bench.build_scheduler(name, opt, T, warmup)
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
        "step": np.where(t < T // 2, 1.0, np.where(t < (3 * T) // 4, 0.1, 0.01)),
        "wsd": np.clip((T - t) / (0.2 * T), 0, 1),
        "rex": (1 - z) / (1 - z / 2),
        "constant": np.ones(T),
    }
    for name, shape in expected.items():
        np.testing.assert_allclose(lr_sequence(bench, name, T), shape, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    one = lr_sequence(bench, "onecycle", T)
    assert 0.95 < one.max() <= 1.0 and one[0] < 0.1 and one[-1] < 0.01


def test_warmup_is_the_same_ramp_for_every_schedule(bench) -> None:
    T, W = 100, 10
    ramps = {n: lr_sequence(bench, n, T, W)[:W] for n in ("uba_phi=1", "cosine", "rex", "step")}
    for ramp in ramps.values():
        np.testing.assert_allclose(ramp, ramps["cosine"], rtol=1e-12)
        assert ramp[0] == pytest.approx(1 / W)
    after = lr_sequence(bench, "uba_phi=1", T, W)[W:]
    np.testing.assert_allclose(after, uba.schedule(np.arange(T - W), T - W, 1.0), rtol=1e-12)


def test_quick_mode_runs_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with open(tmp_path / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    main = [r for r in rows if r["phase"] == "main"]
    tasks = {r["task"] for r in main}
    assert tasks == {"digits", "chars", "nqm"}
    for task in tasks:
        names = {r["schedule"] for r in main if r["task"] == task}
        assert {"uba_phi=1", "cosine", "wsd", "rex", "onecycle", "constant"} <= names
        assert len({r["budget"] for r in main if r["task"] == task}) == 3
    assert all(math.isfinite(float(r["metric"])) for r in main)
    summary = (tmp_path / "summary.md").read_text()
    assert "## digits" in summary and "## chars" in summary and "## nqm" in summary
