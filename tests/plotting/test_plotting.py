"""uba.plotting on matplotlib's Agg backend (no window is ever shown): what
each function draws is what uba.schedule, uba.peers and uba.theory compute."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import uba  # noqa: E402
from uba import peers, plotting, theory  # noqa: E402
from uba._curves import SLICE, curves, sample  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    assert matplotlib.get_backend().lower() == "agg"
    plt.close("all")


def lines_by_label(ax: Axes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        str(line.get_label()): (
            np.asarray(line.get_xdata(), float),
            np.asarray(line.get_ydata(), float),
        )
        for line in ax.get_lines()
    }


def test_plot_peers_draws_uba_and_the_chosen_peers() -> None:
    ax = plotting.plot_peers(
        500,
        phis=(0.5, 3.0),
        peers=("cosine", "wsd", "onecycle"),
        eta_max=0.2,
        options={"wsd": {"decay_steps": 100}},
    )
    assert isinstance(ax, Axes)
    drawn = lines_by_label(ax)
    assert list(drawn) == ["UBA, phi = 0.5", "UBA, phi = 3", "cosine", "wsd", "onecycle"]
    t, y = drawn["UBA, phi = 3"]
    assert t[0] == 0 and t[-1] == 500
    np.testing.assert_array_equal(y, uba.schedule(t, 500, 3.0, 0.2))
    t, y = drawn["wsd"]
    np.testing.assert_array_equal(y, peers.wsd(t, 500, 0.2, decay_steps=100))
    t, y = drawn["onecycle"]
    np.testing.assert_array_equal(y, peers.onecycle(t, 500, 0.2))
    assert [text.get_text() for text in ax.get_legend().get_texts()] == list(drawn)
    assert ax.get_title() == "UBA against peer schedules, budget T = 500"


def test_plot_peers_draws_on_the_given_axes_and_returns_it() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    assert plotting.plot_peers(100, phis=(), peers=("rex",), ax=right) is right
    assert len(right.get_lines()) == 1 and not left.get_lines()
    assert plotting.figure_of(right) is fig


def test_plot_peers_refuses_bad_names_before_drawing() -> None:
    with pytest.raises(ValueError, match="unknown peer 'cos'"):
        plotting.plot_peers(100, peers=("cos",))
    with pytest.raises(ValueError, match="options given for peers not drawn: step"):
        plotting.plot_peers(100, peers=("wsd",), options={"step": {"gamma": 0.5}})
    with pytest.raises(ValueError, match="peer 'constant' has no eta_min"):
        plotting.plot_peers(100, peers=("constant",), eta_min=0.1)
    assert plt.get_fignums() == []


def test_plot_schedules_is_unchanged() -> None:
    ax = plotting.plot_schedules(1000)
    assert [line.get_label() for line in ax.get_lines()] == [
        "UBA, phi = 0.5",
        "UBA, phi = 1",
        "UBA, phi = 2",
        "UBA, phi = 4",
        "cosine annealing",
    ]


def test_plotting_imports_neither_matplotlib_nor_torch_nor_probe_until_used() -> None:
    # plotting takes plain values: it depends on nothing it draws for
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, uba.plotting\n"
            "print(sorted(m for m in ('matplotlib', 'torch', 'uba.probe') if m in sys.modules))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.strip() == "[]"
    assert "probe" not in "".join(
        line for line in Path(plotting.__file__).read_text().splitlines() if "import" in line
    )


def test_the_bounds_table_lives_in_theory() -> None:
    assert plotting.BOUNDS is theory.BOUNDS  # the old name still reaches it
    assert set(theory.BOUNDS) == {"nonconvex", "convex", "strongly-convex"}
    for name, (fn, limit, needs) in theory.BOUNDS.items():
        assert fn is getattr(theory, "bound_" + name.replace("-", "_"))
        lrs = np.full(10, limit)  # the largest step each allows, at L = 1
        given = {"L": 1.0, "sigma2": 0.0, "f_gap": 1.0, "dist2": 1.0, "mu": 0.5}
        assert fn(lrs, **{k: given[k] for k in needs}) >= 0
        with pytest.raises(ValueError, match="step-size condition"):
            fn(lrs * (1 + 1e-9), **{k: given[k] for k in needs})
        assert theory.BOUNDS[name].largest_step(4.0) == limit / 4
    with pytest.raises(ValueError, match="L must be a finite number > 0, got 0"):
        theory.BOUNDS["convex"].largest_step(0)
    with pytest.raises(ValueError, match=r"L must be large enough .* 0\.5/L is finite, got 1e-320"):
        theory.BOUNDS["convex"].largest_step(1e-320)


def test_plot_spectral_density_draws_the_values_it_is_given() -> None:
    lams = np.linspace(0.0, 2.0, 101)
    density = np.exp(-(((lams - 1.0) / 0.05) ** 2))  # tails far below a millionth
    ax = plotting.plot_spectral_density(lams, density, lam_min=0.2, lam_max=1.5, title="mine")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), lams)
    np.testing.assert_array_equal(line.get_ydata(), density)
    (band,) = ax.patches
    x0, x1 = band.get_x(), band.get_x() + band.get_width()
    assert (x0, x1) == (0.2, 1.5)
    assert ax.get_title() == "mine" and ax.get_yscale() == "log"
    assert ax.get_ylim() == pytest.approx((1e-6, 3.0))  # a millionth of the peak, to 3 times it


def test_schedules_sampled_in_slices_equal_whole_arrays() -> None:
    # plot_bounds and the command line sample long budgets a slice at a time
    T = 3 * SLICE + 5
    t = np.arange(T, dtype=np.float64)
    for key, curve in curves((0.5, 3.0), tuple(peers.PEERS), 0.5, 0.0):
        np.testing.assert_array_equal(sample(curve, T), curve(t, T), err_msg=str(key))
        steps = np.arange(0, 5 * T, 7, dtype=np.float64)
        np.testing.assert_array_equal(sample(curve, T, steps), curve(steps, T), err_msg=str(key))


@pytest.mark.parametrize("target", [lambda ax: ax, plotting.figure_of])
def test_save_figure_writes_exactly_the_path_named(tmp_path: Path, target: Any) -> None:
    ax = plotting.plot_peers(100, phis=(1.0,), peers=("rex",))
    plotting.save_figure(target(ax), tmp_path / "peers.SVG", dpi=40)
    plotting.save_figure(ax, tmp_path / "peers", format="pdf")
    assert (tmp_path / "peers.SVG").read_bytes().startswith(b"<?xml")
    assert (tmp_path / "peers").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["peers", "peers.SVG"]
    with pytest.raises(ValueError, match="report' has no extension"):
        plotting.save_figure(ax, tmp_path / "report")
    assert not (tmp_path / "report").exists() and not (tmp_path / "report.png").exists()


def test_save_figure_keeps_the_old_file_when_drawing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.figure import Figure

    path = tmp_path / "kept.png"
    path.write_bytes(b"old")
    real = Figure.savefig

    def failing(self: Figure, fname: Any, **kwargs: Any) -> None:
        real(self, fname, **kwargs)  # the whole image, then a failure
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", failing)
    with pytest.raises(KeyboardInterrupt):
        plotting.save_figure(plotting.plot_schedules(100), path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.png"]


def test_phi_against_condition_number() -> None:
    kappas = [2.0, 10.0, 50.0]
    with pytest.warns(theory.BoundaryWarning):  # with noise, kappa = 2 wants phi > 1e8
        ax = plotting.plot_phi_vs_condition_number(kappas, T=16, sigma2=(0.0, 1e-3))
    drawn = list(lines_by_label(ax).values())
    assert len(drawn) == 3
    k, phi = drawn[0]
    np.testing.assert_array_equal(k, kappas)
    np.testing.assert_allclose(phi, [theory.phi_from_condition_number(x) for x in kappas])
    np.testing.assert_allclose(phi, 2 * np.array(kappas))
    _, best = drawn[2]
    with pytest.warns(theory.StabilityWarning), pytest.warns(theory.BoundaryWarning):
        want = [
            theory.optimal_phi(16, 1 / x, 1.0, sigma2=1e-3, eta_max=x, eta_min=1.0) for x in kappas
        ]
    np.testing.assert_allclose(best, want)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(plotting.plot_phi_vs_condition_number().get_lines()) == 1  # no T: the line


@pytest.mark.parametrize("bound", sorted(theory.BOUNDS))
def test_bounds_against_the_budget(bound: str) -> None:
    budgets = [20, 80, 320]
    ax = plotting.plot_bounds(
        budgets, phis=(1.0,), peers=("linear", "rex"), bound=bound, sigma2=0.05, mu=0.02
    )
    drawn = lines_by_label(ax)
    assert list(drawn) == ["UBA, phi = 1", "linear", "rex"]
    fn, limit, needs = theory.BOUNDS[bound]
    assert fn is getattr(theory, "bound_" + bound.replace("-", "_"))
    given = {"L": 1.0, "sigma2": 0.05, "f_gap": 1.0, "dist2": 1.0, "mu": 0.02}
    for label, (Ts, values) in drawn.items():
        np.testing.assert_array_equal(Ts, budgets)
        for T, value in zip(budgets, values):
            t = np.arange(T)
            lrs = (
                uba.schedule(t, T, 1.0, limit)
                if label.startswith("UBA")
                else peers.evaluate(label, t, T, limit)
            )
            want = fn(lrs, **{k: given[k] for k in needs})
            assert value == pytest.approx(want, rel=1e-12)


def test_bounds_refuse_unknown_bounds_and_bad_schedules() -> None:
    with pytest.raises(ValueError, match="bound must be one of nonconvex, convex, strongly"):
        plotting.plot_bounds(bound="tight")
    with pytest.raises(ValueError):  # a step above 1/(2L): the theory refuses it
        plotting.plot_bounds([10], bound="convex", eta_max=1.0)
    assert plt.get_fignums() == []  # refused before a figure was opened
