"""uba.plotting refuses bad arguments before drawing anything, with
ValueError or TypeError naming the argument (and the item, for sequences):
never ZeroDivisionError, OverflowError or a numpy conversion error, and no
figure is left open."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from uba import plotting  # noqa: E402

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "plot_schedules": lambda **kw: plotting.plot_schedules(kw.pop("T", 100), **kw),
    "plot_peers": lambda **kw: plotting.plot_peers(kw.pop("T", 100), **kw),
    "plot_phi_vs_condition_number": plotting.plot_phi_vs_condition_number,
    "plot_bounds": lambda **kw: plotting.plot_bounds(**{"budgets": (10, 20), **kw}),
    "save_figure": lambda **kw: plotting.save_figure(
        **{"ax": plt.figure(), "path": "never-written.png", **kw}
    ),
    "plot_spectral_density": lambda **kw: plotting.plot_spectral_density(
        **{"lams": [0.1, 1.0], "density": [1.0, 2.0], "lam_min": 0.1, "lam_max": 1.0, **kw}
    ),
}

CASES = [
    # (function, keyword arguments, exception, text the message must hold)
    ("plot_bounds", {"L": 0}, ValueError, "L must be a finite number > 0, got 0"),
    ("plot_bounds", {"L": -1.0}, ValueError, "L must be a finite number > 0, got -1.0"),
    ("plot_bounds", {"L": 10**400}, ValueError, "L must be a finite number > 0"),
    ("plot_bounds", {"L": float("nan")}, ValueError, "L must be a finite number > 0, got nan"),
    ("plot_bounds", {"L": "1"}, TypeError, "L must be a real number, got str"),
    (
        "plot_bounds",
        {"budgets": (10, 0)},
        ValueError,
        "budgets[1] must be an integer in [1, 2**53]",
    ),
    ("plot_bounds", {"budgets": (2**60,)}, ValueError, "budgets[0] must be an integer"),
    ("plot_bounds", {"budgets": (10.5,)}, ValueError, "budgets[0] must be an integer"),
    ("plot_bounds", {"budgets": (float("inf"),)}, ValueError, "budgets[0] must be an integer"),
    ("plot_bounds", {"budgets": 100}, TypeError, "budgets must be a sequence, got int"),
    ("plot_bounds", {"budgets": ("10",)}, TypeError, "budgets[0] must be a real number, got str"),
    ("plot_bounds", {"phis": (1.0, 10**400)}, ValueError, "phis[1] must be a finite number > 0"),
    ("plot_bounds", {"peers": ("cosine", "cos")}, ValueError, "peers[1]: unknown peer 'cos'"),
    ("plot_schedules", {"T": 0}, ValueError, "T must be an integer in [1, 2**53], got 0"),
    ("plot_schedules", {"T": 10**400}, ValueError, "T must be an integer in [1, 2**53]"),
    ("plot_schedules", {"T": None}, TypeError, "T must be a real number, got NoneType"),
    (
        "plot_schedules",
        {"phis": (0.5, 0)},
        ValueError,
        "phis[1] must be a finite number > 0, got 0",
    ),
    ("plot_schedules", {"phis": 1.0}, TypeError, "phis must be a sequence, got float"),
    ("plot_schedules", {"phis": ("x",)}, TypeError, "phis[0] must be a real number, got str"),
    ("plot_schedules", {"eta_max": float("inf")}, ValueError, "eta_max must be a finite number"),
    ("plot_peers", {"T": 2**53 + 1}, ValueError, "T must be an integer in [1, 2**53]"),
    ("plot_peers", {"peers": "cosine"}, TypeError, "peers must be a sequence, got str"),
    ("plot_peers", {"peers": ("cosine", None)}, ValueError, "peers[1]: unknown peer None"),
    ("plot_peers", {"phis": (float("nan"),)}, ValueError, "phis[0] must be a finite number > 0"),
    (
        "plot_phi_vs_condition_number",
        {"kappas": (10.0, 0.5)},
        ValueError,
        "kappas[1]: kappa must be a finite number >= 1",
    ),
    ("plot_phi_vs_condition_number", {"kappas": (1e308,)}, ValueError, "kappas[0]: kappa"),
    (
        "plot_phi_vs_condition_number",
        {"kappas": (10**400,)},
        ValueError,
        "kappas[0] must be a finite number",
    ),
    ("plot_phi_vs_condition_number", {"kappas": 10.0}, TypeError, "kappas must be a sequence"),
    (
        "plot_phi_vs_condition_number",
        {"T": 8, "sigma2": (0.0, -1e-3)},
        ValueError,
        "sigma2[1] must be a finite number >= 0, got -0.001",
    ),
    (
        "plot_phi_vs_condition_number",
        {"T": 8, "sigma2": 0.1},
        TypeError,
        "sigma2 must be a sequence, got float",
    ),
    ("plot_phi_vs_condition_number", {"T": 0}, ValueError, "T must be an integer in [1, 2**53]"),
    ("plot_bounds", {"L": 5e-324}, ValueError, "L must be large enough that the largest step"),
    ("plot_bounds", {"bound": ["convex"]}, ValueError, "bound must be one of nonconvex, convex"),
    ("plot_peers", {"options": [("wsd", {})]}, TypeError, "options must be a mapping of peer"),
    ("plot_peers", {"peers": ("wsd",), "options": {"wsd": 5}}, TypeError, "options['wsd'] must be"),
    ("plot_peers", {"peers": ("wsd",), "options": {"wsd": {"x": 1}}}, TypeError, "'x'"),
    ("plot_schedules", {"ax": "left"}, TypeError, "ax must be a matplotlib Axes or None, got str"),
    (
        "save_figure",
        {"path": None},
        TypeError,
        "path must be a str or an os.PathLike, got NoneType",
    ),
    ("save_figure", {"ax": "fig"}, TypeError, "ax must be a matplotlib Axes or Figure, got str"),
    ("save_figure", {"path": "plot"}, ValueError, "'plot' has no extension"),
    # nothing to draw: an error, not an empty figure with a warning
    ("plot_peers", {"phis": (), "peers": ()}, ValueError, "phis and peers are both empty"),
    ("plot_bounds", {"phis": [], "peers": []}, ValueError, "phis and peers are both empty"),
    ("plot_bounds", {"budgets": ()}, ValueError, "budgets is empty: nothing to show"),
    ("plot_schedules", {"phis": (), "cosine": False}, ValueError, "nothing to show"),
    ("plot_phi_vs_condition_number", {"kappas": []}, ValueError, "kappas is empty"),
    # a density: plain arrays of one length, finite, a density >= 0 somewhere > 0
    ("plot_spectral_density", {"lams": [[0.1, 1.0]]}, ValueError, "lams must be a non-empty 1-D"),
    ("plot_spectral_density", {"lams": []}, ValueError, "lams must be a non-empty 1-D"),
    ("plot_spectral_density", {"lams": ["a", "b"]}, TypeError, "lams must be a 1-D array of real"),
    ("plot_spectral_density", {"density": [1.0]}, ValueError, "one value per curvature (2), got 1"),
    ("plot_spectral_density", {"density": [1.0, -1.0]}, ValueError, "density must be >= 0"),
    ("plot_spectral_density", {"density": [0.0, 0.0]}, ValueError, "> 0 somewhere"),
    ("plot_spectral_density", {"lams": [0.1, np.inf]}, ValueError, "lams[1] = inf"),
    (
        "plot_spectral_density",
        {"lam_max": 0.01},
        ValueError,
        "lam_max must be a finite number >= lam_min",
    ),
    (
        "plot_spectral_density",
        {"lam_min": "0.1"},
        TypeError,
        "lam_min must be a real number, got str",
    ),
]


@pytest.mark.parametrize(("function", "kwargs", "error", "message"), CASES)
def test_bad_arguments_are_refused_with_their_name(
    function: str, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    before = plt.get_fignums()
    with pytest.raises(error) as info:
        FUNCTIONS[function](**kwargs)
    assert type(info.value) is error
    assert message in str(info.value)
    if function == "save_figure":
        plt.close("all")
        assert not os.path.exists("never-written.png")
    assert plt.get_fignums() == before  # nothing was drawn
