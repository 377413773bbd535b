"""uba.plotting.explore: its data against uba.schedule, uba.peers and
uba.theory computed directly, and its widget driven as a user drives it (set
a control's value, read the figure and the table), in this process and in a
real Jupyter kernel."""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import numpy as np
import pytest

import uba
from uba import peers, theory
from uba._explorer import COLUMNS, explorer_data, table_html

from ..helpers import child_env

CONSTANTS = dict(L=2.0, mu=0.05, sigma2=0.1, f_gap=3.0, dist2=0.5)


def direct_numbers(lrs: np.ndarray, L: float, mu: float, sigma2: float, f_gap: float, dist2: float):
    """docs/theory.md's bounds (a)-(c) and the worst case, called one by one."""
    return {
        "(a) nonconvex": theory.bound_nonconvex(lrs, L=L, sigma2=sigma2, f_gap=f_gap),
        "(b) convex": theory.bound_convex(lrs, L=L, sigma2=sigma2, dist2=dist2),
        "(c) strongly convex": theory.bound_strongly_convex(
            lrs, mu=mu, L=L, sigma2=sigma2, f_gap=f_gap
        ),
        "worst case on [mu, L]": theory.worst_case_residual(lrs, mu, L),
    }


# ---- the data: what the figure and the table show --------------------------------------


def test_the_uba_line_is_uba_schedule() -> None:
    data = explorer_data(0.7, 500, warmup_steps=40, eta_max=0.2, eta_min=0.01, peers=())
    assert data.t[0] == 0 and data.t[-1] == 500 and len(data.t) == 801
    (label,) = data.lines
    assert label == "UBA, phi = 0.7"
    want = uba.schedule(data.t, 500, 0.7, 0.2, 0.01, warmup_steps=40)
    np.testing.assert_array_equal(data.lines[label], want)


def test_the_peers_are_uba_peers_at_the_same_budget_peak_and_floor() -> None:
    names = ("cosine", "linear", "wsd", "rex", "step")
    data = explorer_data(1.0, 300, eta_max=0.3, eta_min=0.03, peers=names, points=61)
    assert list(data.lines) == ["UBA, phi = 1", *names]
    for name in names:
        want = peers.evaluate(name, data.t, 300, 0.3, 0.03)
        np.testing.assert_array_equal(data.lines[name], want)


def test_peers_without_a_floor_are_drawn_from_zero() -> None:
    data = explorer_data(1.0, 300, eta_max=0.3, eta_min=0.03, peers=("onecycle",), points=31)
    np.testing.assert_array_equal(data.lines["onecycle"], peers.onecycle(data.t, 300, 0.3))


def test_every_schedule_gets_the_same_warmup() -> None:
    # cosine after the warmup, from peers.cosine shifted by W, is UBA's own
    # warmup at phi = 2 (computed in C): two independent paths
    T, W = 400, 60
    data = explorer_data(2.0, T, warmup_steps=W, eta_max=0.5, eta_min=0.05, peers=("cosine",))
    np.testing.assert_allclose(data.lines["cosine"], data.lines["UBA, phi = 2"], rtol=1e-13)
    # and a peer with no closed-form twin: the ramp, then the peer from t = W
    data = explorer_data(1.0, T, warmup_steps=W, peers=("rex",), points=T + 1)
    t = data.t
    np.testing.assert_allclose(data.lines["rex"][: W + 1], 0.5 * t[: W + 1] / W, rtol=1e-15)
    np.testing.assert_allclose(
        data.lines["rex"][W:], peers.rex(t[W:] - W, T - W, 0.5), rtol=1e-15, atol=0
    )


def test_a_peer_with_its_own_warmup_gets_no_other() -> None:
    data = explorer_data(1.0, 300, warmup_steps=30, peers=("onecycle",), points=31)
    np.testing.assert_array_equal(data.lines["onecycle"], peers.onecycle(data.t, 300, 0.5))


def test_the_table_is_uba_theory_on_every_step() -> None:
    T = 700
    data = explorer_data(
        3.0, T, warmup_steps=20, eta_max=0.2, eta_min=0.0, peers=("cosine", "wsd"), **CONSTANTS
    )
    steps = np.arange(T)
    lrs = {
        "UBA, phi = 3": uba.schedule(steps, T, 3.0, 0.2, 0.0, warmup_steps=20),
        "cosine": uba.schedule(steps, T, 2.0, 0.2, 0.0, warmup_steps=20),  # the same warmup
    }
    for label, values in lrs.items():
        want = direct_numbers(values, **CONSTANTS)
        assert list(data.table[label]) == list(COLUMNS)
        for column in COLUMNS:
            assert data.table[label][column] == pytest.approx(want[column], rel=1e-12)
    assert set(data.table) == {"UBA, phi = 3", "cosine", "wsd"}


def test_a_bound_a_schedule_breaks_says_why() -> None:
    # a peak of 0.8 with L = 1: within (a)'s 1/L, beyond (b)'s 1/(2L)
    data = explorer_data(1.0, 100, eta_max=0.8, peers=())
    row = data.table["UBA, phi = 1"]
    assert isinstance(row["(a) nonconvex"], float)
    assert isinstance(row["(b) convex"], str)
    assert "bound (b)" in row["(b) convex"] and "0.8" in row["(b) convex"]
    page = table_html(data)
    assert "refused" in page and "bound (b)" in page


def test_the_table_marks_the_smallest_of_each_column() -> None:
    data = explorer_data(1.0, 200, peers=("cosine", "constant"))
    page = table_html(data)
    for column in COLUMNS:
        best = min(row[column] for row in data.table.values())
        assert f"<b>{best:.3g}</b>" in page


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(phi=0.0), "phi must be a finite number > 0, got 0.0"),
        (dict(T=0), "T must be an integer in [1, 1000000], got 0"),
        (dict(T=10, warmup_steps=10), "warmup_steps"),
        (dict(peers=("cosine", "nope")), "peers[1]"),
        (dict(mu=2.0, L=1.0), "mu must be <= L"),
        (dict(L=-1.0), "L must be a finite number > 0, got -1.0"),
        (dict(sigma2=float("nan")), "sigma2 must be a finite number >= 0"),
        (dict(points=1), "points must be an integer in [2, 100000]"),
    ],
)
def test_bad_values_are_refused_naming_them(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        explorer_data(**arguments)
    assert message in str(info.value)


# ---- the widget, driven as a user drives it ---------------------------------------------

WIDGETS = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("ipywidgets", "matplotlib")),
    reason="the explorer needs ipywidgets and matplotlib",
)


def drawn(explorer) -> dict[str, np.ndarray]:
    """Label -> ydata of each line on the explorer's axes."""
    return {line.get_label(): np.asarray(line.get_ydata()) for line in explorer.ax.get_lines()}


@WIDGETS
def test_setting_the_controls_redraws_the_schedules_and_the_numbers() -> None:
    from uba.plotting import explore

    explorer = explore(phi=0.5, T=1000, peers=("cosine",))
    png = bytes(explorer._image.value)
    assert png.startswith(b"\x89PNG")
    c = explorer.controls
    c["T"].value = 600
    c["phi"].value = 4.0
    c["warmup_steps"].value = 50
    c["eta_max"].value = 0.2
    c["eta_min"].value = 0.01
    c["peers"]["wsd"].value = True
    c["L"].value = 2.0

    lines = drawn(explorer)
    assert list(lines) == ["UBA, phi = 4", "cosine", "wsd"]
    t = np.linspace(0, 600, 801)
    np.testing.assert_array_equal(
        lines["UBA, phi = 4"], uba.schedule(t, 600, 4.0, 0.2, 0.01, warmup_steps=50)
    )
    np.testing.assert_allclose(
        lines["cosine"], uba.schedule(t, 600, 2.0, 0.2, 0.01, warmup_steps=50), rtol=1e-13
    )
    assert explorer.ax.get_xlim() == (0.0, 600.0)
    want = direct_numbers(
        uba.schedule(np.arange(600), 600, 4.0, 0.2, 0.01, warmup_steps=50),
        L=2.0, mu=0.01, sigma2=0.01, f_gap=1.0, dist2=1.0,
    )  # fmt: skip
    for column, value in want.items():
        assert explorer.data.table["UBA, phi = 4"][column] == pytest.approx(value, rel=1e-12)
        assert f"{value:.3g}" in explorer._table.value
    assert bytes(explorer._image.value) != png  # the picture was redrawn


@WIDGETS
def test_dependent_ranges_follow_their_controls() -> None:
    from uba.plotting import explore

    explorer = explore(T=1000, warmup_steps=900, eta_max=0.5, eta_min=0.4)
    c = explorer.controls
    c["T"].value = 500  # the warmup must stay below the budget
    assert c["warmup_steps"].max == 499 and c["warmup_steps"].value == 499
    c["eta_max"].value = 0.1  # the floor must stay below the peak
    assert c["eta_min"].value <= 0.1
    lines = drawn(explorer)
    label = next(iter(lines))
    want = uba.schedule(
        np.linspace(0, 500, 801), 500, 1.0, 0.1, c["eta_min"].value, warmup_steps=499
    )
    np.testing.assert_array_equal(lines[label], want)


@WIDGETS
def test_a_refused_value_shows_its_message_and_keeps_the_figure() -> None:
    from uba.plotting import explore

    explorer = explore(peers=("cosine",))
    before = explorer.data
    explorer.controls["mu"].value = 5.0  # above L = 1
    assert "mu must be &lt;= L" in explorer._error.value
    assert explorer.data is before
    explorer.controls["mu"].value = 0.5
    assert explorer._error.value == ""
    assert explorer.data.table["cosine"]["worst case on [mu, L]"] == pytest.approx(
        theory.worst_case_residual(peers.cosine(np.arange(1000), 1000, 0.5), 0.5, 1.0)
    )


@WIDGETS
def test_bad_first_values_raise_naming_them() -> None:
    from uba.plotting import explore

    with pytest.raises(ValueError, match="phi must be a finite number > 0"):
        explore(phi=-1.0)
    with pytest.raises(ValueError, match=r"peers\[0\]"):
        explore(peers=("cosinus",))
    with pytest.raises(ValueError, match="constants has no lam; its names are L, mu, "):
        explore(constants={"lam": 1.0})


@pytest.mark.parametrize("missing", ["ipywidgets", "matplotlib.figure"])
def test_without_a_package_the_error_names_the_pip_command(missing: str, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("ipywidgets")
    from uba.plotting import explore

    monkeypatch.setitem(sys.modules, missing, None)  # its import fails
    package = missing.split(".")[0]
    with pytest.raises(ImportError, match=rf"needs {package}: pip install 'uba\[notebook\]'"):
        explore()


KERNEL_CELL = """
import json
import numpy as np
import uba
from uba.plotting import explore

explorer = explore(phi=1.0, T=800, peers=("cosine", "linear"))
explorer.controls["phi"].value = 0.25
explorer.controls["warmup_steps"].value = 80
explorer.controls["peers"]["linear"].value = False
explorer.controls["peers"]["rex"].value = True
lines = {l.get_label(): l.get_ydata().tolist() for l in explorer.ax.get_lines()}
t = np.linspace(0, 800, 801)
print(json.dumps({
    "labels": list(lines),
    "uba": float(np.max(np.abs(np.array(lines["UBA, phi = 0.25"])
                 - uba.schedule(t, 800, 0.25, 0.5, 0.0, warmup_steps=80)))),
    "bound_a": explorer.data.table["UBA, phi = 0.25"]["(a) nonconvex"],
}))
explorer
"""


@WIDGETS
@pytest.mark.slow  # the full tier: a Jupyter kernel, as the notebook's test
def test_the_explorer_in_a_jupyter_kernel(tmp_path, monkeypatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CELL)])
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    monkeypatch.setenv("PYTHONPATH", child_env()["PYTHONPATH"])  # the kernel imports this uba
    client.execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    result = json.loads(text)
    assert result["labels"] == ["UBA, phi = 0.25", "cosine", "rex"]
    assert result["uba"] == 0.0
    lrs = uba.schedule(np.arange(800), 800, 0.25, 0.5, 0.0, warmup_steps=80)
    assert result["bound_a"] == pytest.approx(
        theory.bound_nonconvex(lrs, L=1.0, sigma2=0.01, f_gap=1.0), rel=1e-12
    )
    widget = "application/vnd.jupyter.widget-view+json"
    assert any(widget in o.get("data", {}) for o in outputs)  # the cell shows the widget
    assert os.listdir(tmp_path) == []
