"""Static typing: mypy --strict passes on uba/ and on this file, which uses the
public API as a typed user would (each use also runs, so the types asserted
here are the types returned); stubtest agrees with the compiled uba._core.

The mypy settings live in pyproject.toml ([tool.mypy]); the test passes
--strict and names the package (-p uba) itself, so that it checks whichever
uba is imported: the source tree, or the installed package when the tests
run outside a checkout.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import uba
from uba import peers

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pragma: no cover
    from typing_extensions import assert_type

ROOT = Path(__file__).resolve().parent.parent
HAS_MYPY = importlib.util.find_spec("mypy") is not None


def test_schedule_types() -> None:
    one = assert_type(uba.schedule(10, 100, phi=0.5), float)
    many = assert_type(uba.schedule([0, 50, 100], 100), npt.NDArray[np.float64])
    grid = assert_type(
        uba.schedule(np.arange(4.0), 100, 1.0, 0.1, 0.0, warmup_steps=1), npt.NDArray[np.float64]
    )
    assert isinstance(one, float) and many.shape == (3,) and grid.dtype == np.float64


def test_choose_phi_types() -> None:
    lam = np.arange(1, 33, dtype=np.float64) ** -1.0
    loss = assert_type(uba.theory.expected_loss([0.5, 0.25], lam, noise=1e-3), float)
    c = assert_type(uba.theory.choose_phi(50, lam, noise=1e-3, eta_max=1.0), uba.theory.PhiChoice)
    flat = assert_type(c.flat, tuple[float, float])
    assert isinstance(loss, float) and isinstance(c.phi, float) and flat[0] <= c.phi <= flat[1]


def test_peer_types() -> None:
    rex = assert_type(peers.rex(5, 10), float)
    wsd = assert_type(peers.wsd(np.arange(10), 10, 0.1, decay_steps=3), npt.NDArray[np.float64])
    cyc = assert_type(peers.onecycle([0.0, 1.0], 10, pct_start=0.5), npt.NDArray[np.float64])
    inv = assert_type(peers.inverse_sqrt(3, 10, warmup_steps=2), float)
    table = assert_type(peers.evaluate("step", [0, 5], 10), npt.NDArray[np.float64])
    fn = peers.get("cosine")
    assert isinstance(rex, float) and wsd.shape == (10,) and cyc.shape == (2,)
    assert isinstance(inv, float) and table.shape == (2,) and callable(fn)
    assert isinstance(peers.takes_eta_min("rex"), bool)


def test_plotting_types() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from uba import plotting

    ax = assert_type(plotting.plot_peers(100, (1.0,), ("rex",)), Axes)
    fig = assert_type(plotting.figure_of(ax), Figure)
    assert isinstance(ax, Axes) and isinstance(fig, Figure)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_scheduler_types() -> None:
    torch = pytest.importorskip("torch")
    from torch import Tensor
    from torch.optim.lr_scheduler import LambdaLR, LRScheduler

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = assert_type(uba.UBALR(opt, 10, [0.0], phi=0.5, warmup_steps=2), uba.UBALR)
    base: LRScheduler = sched
    last = assert_type(sched.get_last_lr(), list[float | Tensor])
    assert base is sched and len(last) == 1

    restarts = assert_type(uba.UBAWarmRestarts(opt, 10, 2, 0.0, phi=0.5), uba.UBAWarmRestarts)
    restarts_base: LRScheduler = restarts
    values = assert_type(restarts.get_last_lr(), list[float | Tensor])
    assert restarts_base is restarts and len(values) == 1

    factory = assert_type(
        uba.get_uba_schedule_with_warmup(opt, 2, 10, phi=0.5, min_lr_rate=0.1), LambdaLR
    )
    assert isinstance(factory, LambdaLR)


def test_probe_types() -> None:
    torch = pytest.importorskip("torch")
    from uba.probe import NoiseFit, ProbeResult, lower_end, suggest_phi

    torch.set_num_threads(1)
    torch.manual_seed(0)  # random targets: some draws lose the gradient in its noise (a warning)
    model = torch.nn.Linear(4, 1)
    torch.nn.init.zeros_(model.weight)  # far from the targets' weights: a clear gradient
    gen = torch.Generator().manual_seed(0)
    xs = [torch.randn(16, 4, generator=gen) for _ in range(4)]
    batches = [(x, x @ torch.tensor([[1.0], [2.0], [3.0], [4.0]])) for x in xs]
    result = assert_type(
        suggest_phi(
            model, torch.nn.functional.mse_loss, batches, 50, lr=0.1, lanczos_steps=4, vectors=1
        ),
        ProbeResult,
    )
    phi = assert_type(result.phi_for(100, lr=0.05), float)
    kappa = assert_type(result.kappa, float)
    density = assert_type(result.density([0.0, 1.0]), npt.NDArray[np.float64])
    low = assert_type(lower_end([1.0, 2.0], [0.5, 0.5], 0.1), float)
    assert phi > 0 and kappa >= 1 and density.shape == (2,) and low > 0
    fit = assert_type(result.noise_fit, NoiseFit)
    below, above = assert_type(result.excess_loss, tuple[float, float])
    curvatures, start = assert_type(
        result.start("gauss"), tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    )
    assert fit.shape in ("isotropic", "hessian") and below <= above * (1 + 1e-9)
    assert curvatures.shape == start.shape
    assert uba.probe.suggest_phi is suggest_phi


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.slow  # mypy takes a minute
@pytest.mark.skipif(not HAS_MYPY, reason="mypy is not installed")
def test_mypy_strict_on_the_package_and_this_file() -> None:
    for target in (["-p", "uba"], [str(Path(__file__).resolve())]):
        proc = run(["-m", "mypy", "--strict", *target])
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Success: no issues found" in proc.stdout


@pytest.mark.slow  # mypy takes a minute
@pytest.mark.skipif(not HAS_MYPY, reason="mypy is not installed")
def test_stubtest_agrees_with_the_compiled_module() -> None:
    proc = run(["-m", "mypy.stubtest", "uba._core"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
