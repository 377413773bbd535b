"""uba.peers: values against the real torch and transformers schedulers, the
closed forms in the docstrings, vectorization, and argument checking.

Every reference sequence comes from stepping the real class on a real
optimizer (SGD over one parameter) and reading ``param_groups[0]["lr"]``
before each step, as training sees it.
"""

from __future__ import annotations

import fractions
import inspect
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import uba
from uba import peers

from ..helpers import scaled

ALL = sorted(peers.PEERS)


def stepped(make: Callable[[Any], Any], steps: int, lr: float) -> np.ndarray:
    """lr before each of `steps` optimizer steps under the scheduler `make(opt)`."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make(opt)
    out = []
    for i in range(steps):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if i < steps - 1:
            sched.step()
    return np.array(out)


def close(got: np.ndarray, want: np.ndarray, scale: float) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * scale)


# ---- against torch ----------------------------------------------------------


@pytest.mark.parametrize(("T", "eta_max", "eta_min"), [(100, 0.1, 0.0), (37, 0.5, 0.005)])
def test_cosine_is_cosine_annealing_lr_including_past_the_budget(T, eta_max, eta_min) -> None:
    torch = pytest.importorskip("torch")
    steps = 3 * T + 5  # periodic past T, as torch's class
    want = stepped(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T, eta_min), steps, eta_max
    )
    close(peers.cosine(np.arange(steps), T, eta_max, eta_min), want, eta_max)


def test_cosine_is_uba_at_phi_2_to_the_last_bits() -> None:
    T = 2**40
    t = np.array([0, 1, 2**20, 2**39, T - 2**20, T - 1, T], dtype=np.float64)
    np.testing.assert_allclose(peers.cosine(t, T), uba.schedule(t, T, 2.0), rtol=4e-15, atol=0)


@pytest.mark.parametrize("eta_min", [0.0, 0.02])
def test_linear_is_linear_lr_to_the_floor(eta_min: float) -> None:
    torch = pytest.importorskip("torch")
    T, eta_max = 50, 0.2
    want = stepped(
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=1.0, end_factor=eta_min / eta_max, total_iters=T
        ),
        T + 20,
        eta_max,
    )
    close(peers.linear(np.arange(T + 20), T, eta_max, eta_min), want, eta_max)


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 3.5])
def test_polynomial_is_polynomial_lr(power: float) -> None:
    torch = pytest.importorskip("torch")
    T = 60
    want = stepped(
        lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=T, power=power), T + 10, 0.3
    )
    close(peers.polynomial(np.arange(T + 10), T, 0.3, power=power), want, 0.3)


@pytest.mark.parametrize(("T", "step_size", "gamma"), [(90, None, 0.1), (90, 7, 0.5), (10, 1, 0.9)])
def test_step_is_step_lr(T: int, step_size: int | None, gamma: float) -> None:
    torch = pytest.importorskip("torch")
    size = math.ceil(T / 3) if step_size is None else step_size
    want = stepped(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=size, gamma=gamma), 2 * T, 1.5
    )
    got = peers.step(np.arange(2 * T), T, 1.5, step_size=step_size, gamma=gamma)
    close(got, want, 1.5)


@pytest.mark.parametrize("gamma", [None, 0.97])
def test_exponential_is_exponential_lr(gamma: float | None) -> None:
    torch = pytest.importorskip("torch")
    T = 120
    g = 0.01 ** (1 / T) if gamma is None else gamma
    want = stepped(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=g), T + 30, 0.1)
    close(peers.exponential(np.arange(T + 30), T, 0.1, gamma=gamma), want, 0.1)
    if gamma is None:
        assert peers.exponential(T, T) == pytest.approx(0.01, rel=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"anneal_strategy": "linear"},
        {"pct_start": 0.5, "div_factor": 10.0, "final_div_factor": 100.0},
        {"three_phase": True, "pct_start": 0.25},
        {"three_phase": True, "anneal_strategy": "linear", "pct_start": 0.4},
    ],
)
def test_onecycle_is_one_cycle_lr_over_the_whole_budget(options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    T, peak = 100, 0.4
    want = stepped(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=peak, total_steps=T, cycle_momentum=False, **options
        ),
        T,  # steps 0..T-1: all the steps torch's class allows
        peak,
    )
    got = peers.onecycle(np.arange(T), T, peak, **options)
    close(got, want, peak)
    # past the budget: the floor, where torch's class refuses to go
    floor = peak / options.get("div_factor", 25.0) / options.get("final_div_factor", 1e4)
    assert peers.onecycle(T + 5, T, peak, **options) == pytest.approx(floor, rel=1e-12)


# ---- against transformers ---------------------------------------------------


@pytest.mark.parametrize("warmup_type", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("decay_type", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize(("W", "D", "ratio"), [(10, 30, 0.0), (0, 25, 0.1), (5, 95, 0.05)])
def test_wsd_is_transformers_get_wsd_schedule(warmup_type, decay_type, W, D, ratio) -> None:
    transformers = pytest.importorskip("transformers")
    T, peak = 100, 0.3
    want = stepped(
        lambda o: transformers.get_wsd_schedule(
            o,
            num_warmup_steps=W,
            num_decay_steps=D,
            num_training_steps=T,
            warmup_type=warmup_type,
            decay_type=decay_type,
            min_lr_ratio=ratio,
        ),
        T + 10,
        peak,
    )
    got = peers.wsd(
        np.arange(T + 10),
        T,
        peak,
        ratio * peak,
        warmup_steps=W,
        decay_steps=D,
        warmup_type=warmup_type,
        decay_type=decay_type,
    )
    close(got, want, peak)


@pytest.mark.parametrize(("W", "timescale"), [(0, None), (20, None), (20, 50), (0, 7)])
def test_inverse_sqrt_is_transformers_get_inverse_sqrt_schedule(W, timescale) -> None:
    transformers = pytest.importorskip("transformers")
    T, peak = 200, 0.05
    want = stepped(
        lambda o: transformers.get_inverse_sqrt_schedule(
            o, num_warmup_steps=W, timescale=timescale
        ),
        T,
        peak,
    )
    got = peers.inverse_sqrt(np.arange(T), T, peak, warmup_steps=W, timescale=timescale)
    close(got, want, peak)


# ---- closed forms and shared behaviour ---------------------------------------


def test_rex_is_the_reflected_exponential_of_chen_et_al() -> None:
    T = 1000
    t = np.arange(T + 1)
    z = t / T
    np.testing.assert_allclose(peers.rex(t, T), (1 - z) / (0.5 + 0.5 * (1 - z)), rtol=1e-15)
    assert peers.rex(T // 2, T) == pytest.approx(2 / 3, rel=1e-15)
    assert np.all(peers.rex(t, T) >= peers.linear(t, T))  # REX stays above linear decay
    assert peers.rex(5 * T, T, 1.0, 0.25) == 0.25  # holds its floor past T


def test_wsd_default_decays_over_the_last_fifth() -> None:
    t = np.arange(1001)
    got = peers.wsd(t, 1000)
    assert np.all(got[:800] == 1.0)
    np.testing.assert_allclose(
        got[800:], 0.5 * (1 + np.cos(np.pi * (t[800:] - 800) / 200)), atol=1e-15
    )


def test_constant_is_constant() -> None:
    assert peers.constant(123, 10, 0.7) == 0.7
    np.testing.assert_array_equal(peers.constant(np.arange(5), 10, 2.0), np.full(5, 2.0))


@pytest.mark.parametrize("name", ALL)
def test_every_peer_starts_at_eta_max_and_is_vectorized(name: str) -> None:
    fn = peers.get(name)
    T = 400
    options: dict[str, Any] = {"warmup_steps": 0} if name in ("wsd", "inverse_sqrt") else {}
    start = fn(0, T, 0.5, **options)
    assert isinstance(start, float)
    if name == "onecycle":
        assert start == pytest.approx(0.5 / 25)
    else:
        assert start == pytest.approx(0.5, rel=1e-15)
    grid = np.arange(2 * T, dtype=np.float64).reshape(20, 40)
    values = fn(grid, T, 0.5)
    assert isinstance(values, np.ndarray) and values.dtype == np.float64
    assert values.shape == grid.shape
    scalars = np.array([fn(float(x), T, 0.5) for x in grid.ravel()]).reshape(grid.shape)
    np.testing.assert_allclose(values, scalars, rtol=1e-15, atol=0)  # NumPy's SIMD cos: 1 ulp
    assert fn(np.asarray(3.0), T, 0.5).shape == ()  # a 0-d array stays an array
    for dtype in (np.int32, np.int64, np.float32, np.uint16):
        np.testing.assert_array_equal(
            fn(np.arange(10, dtype=dtype), T, 0.5), fn(np.arange(10.0), T, 0.5)
        )


@pytest.mark.parametrize("name", [n for n in ALL if peers.takes_eta_min(n)])
def test_decaying_peers_end_at_eta_min_and_never_rise(name: str) -> None:
    T = 300
    t = np.arange(T + 1)
    options: dict[str, Any] = {"gamma": 1e-9 ** (1 / T)} if name == "exponential" else {}
    if name == "step":
        options = {"gamma": 1e-12}
    values = peers.evaluate(name, t, T, 0.2, 0.01, **options)
    assert values[0] == pytest.approx(0.2)
    assert values[-1] == pytest.approx(0.01, abs=1e-9)
    assert np.all(np.diff(values) <= 1e-15)


@settings(max_examples=scaled(60), deadline=None)
@given(
    name=st.sampled_from(ALL),
    T=st.integers(1, 10**9),
    frac=st.floats(0, 3, allow_nan=False),
)
def test_values_are_finite_and_within_the_levels(name: str, T: int, frac: float) -> None:
    value = peers.get(name)(frac * T, T, 0.5)
    assert math.isfinite(value)
    assert 0.0 <= value <= 0.5 + 1e-15


# ---- argument checking --------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("t", "T", "error", "message"),
    [
        (-1, 10, ValueError, "t must be a finite number >= 0, got -1"),
        ([0, 1, float("nan")], 10, ValueError, "t must be a finite number >= 0, got t[2] = nan"),
        ([[0, 1], [2, -3]], 10, ValueError, "got t[1, 1] = -3.0"),
        (float("inf"), 10, ValueError, "t must be a finite number >= 0, got inf"),
        ("3", 10, TypeError, "t must be a real number or an array of real numbers"),
        ([1, None], 10, TypeError, "t must be a real number, got NoneType"),
        (10**400, 10, ValueError, "t must be a finite number >= 0, got 1000"),
        (1, 0, ValueError, "T must be an integer in [1, 2**53], got 0"),
        (1, 10.5, ValueError, "T must be an integer in [1, 2**53], got 10.5"),
        (1, 2**53 + 2, ValueError, "T must be an integer in [1, 2**53]"),
        (1, 10**400, ValueError, "T must be an integer in [1, 2**53]"),
        (1, -(10**400), ValueError, "T must be an integer in [1, 2**53]"),
        (1, "10", TypeError, "T must be a real number, got str"),
        (1, None, TypeError, "T must be a real number, got NoneType"),
    ],
)
def test_bad_steps_and_budgets_are_refused_by_every_peer(name, t, T, error, message) -> None:
    with pytest.raises(error) as info:
        peers.get(name)(t, T)
    assert message in str(info.value)


@pytest.mark.parametrize("name", ALL)
def test_steps_beyond_64_bits_are_real_numbers(name: str) -> None:
    got = peers.get(name)([1, 2**70, fractions.Fraction(3, 2)], 10)
    want = peers.get(name)([1.0, 2.0**70, 1.5], 10)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", [n for n in ALL if peers.takes_eta_min(n)])
def test_levels_whose_difference_overflows_stay_finite_and_between_them(name: str) -> None:
    # eta_max - eta_min = 2e308 is beyond double range; the levels are not
    t = np.linspace(0, 20, 41)
    got = peers.get(name)(t, 10, 1e308, -1e308)
    shape = peers.get(name)(t, 10)  # the same peer from 1 to 0
    assert np.all(np.isfinite(got))
    assert np.all((-1e308 <= got) & (got <= 1e308))
    np.testing.assert_allclose(got, 1e308 * shape - 1e308 * (1 - shape), rtol=1e-12, atol=1e296)
    assert peers.get(name)(0, 10, 1e308, -1e308) == 1e308  # every peer starts at eta_max


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.1", None])
def test_bad_eta_max_is_refused_by_every_peer(name: str, value: Any) -> None:
    error = ValueError if isinstance(value, float) else TypeError
    with pytest.raises(error, match="eta_max must be a"):
        peers.get(name)(1, 10, value)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("cosine", {"eta_min": float("nan")}, "eta_min must be a finite number, got nan"),
        ("polynomial", {"power": 0}, "power must be a finite number > 0, got 0"),
        ("step", {"step_size": 0}, "step_size must be an integer in [1, 2**53], got 0"),
        ("step", {"step_size": 2.5}, "step_size must be an integer in [1, 2**53], got 2.5"),
        ("step", {"gamma": 1.5}, "gamma must be a finite number in (0, 1], got 1.5"),
        ("exponential", {"gamma": 0.0}, "gamma must be a finite number in (0, 1], got 0.0"),
        ("wsd", {"warmup_steps": 10}, "warmup_steps must be an integer in [0, T), got 10"),
        ("wsd", {"decay_steps": 0}, "decay_steps must be an integer in [1, T], got 0"),
        (
            "wsd",
            {"warmup_steps": 6, "decay_steps": 5},
            "warmup_steps + decay_steps must be <= T = 10, got 6 + 5 = 11",
        ),
        (
            "wsd",
            {"decay_type": "exp"},
            "decay_type must be one of 'linear', 'cosine', '1-sqrt', got 'exp'",
        ),
        ("wsd", {"warmup_type": None}, "warmup_type must be one of"),
        ("onecycle", {"pct_start": 1.5}, "pct_start must be a finite number in [0, 1], got 1.5"),
        (
            "onecycle",
            {"pct_start": 0.6, "three_phase": True},
            "pct_start must be a finite number in [0, 0.5], got 0.6",
        ),
        ("onecycle", {"div_factor": -1}, "div_factor must be a finite number > 0, got -1"),
        ("onecycle", {"final_div_factor": 0}, "final_div_factor must be a finite number > 0"),
        (
            "onecycle",
            {"anneal_strategy": "cosine"},
            "anneal_strategy must be one of 'cos', 'linear', got 'cosine'",
        ),
        ("inverse_sqrt", {"warmup_steps": -1}, "warmup_steps must be an integer in [0, T), got -1"),
        ("inverse_sqrt", {"timescale": 0}, "timescale must be an integer in [1, 2**53], got 0"),
    ],
)
def test_bad_options_name_the_argument_and_value(
    name: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as info:
        peers.get(name)(1, 10, **kwargs)
    assert message in str(info.value)


def test_lookup_and_evaluate() -> None:
    with pytest.raises(ValueError, match="unknown peer 'cos': choose from cosine, linear"):
        peers.get("cos")
    assert set(peers.PEERS) == {
        "cosine",
        "linear",
        "step",
        "exponential",
        "polynomial",
        "wsd",
        "rex",
        "onecycle",
        "inverse_sqrt",
        "constant",
    }
    with pytest.raises(TypeError):
        peers.PEERS["mine"] = peers.rex  # type: ignore[index]
    assert not peers.takes_eta_min("onecycle") and peers.takes_eta_min("wsd")
    with pytest.raises(ValueError, match="peer 'onecycle' has no eta_min"):
        peers.evaluate("onecycle", [0], 10, 1.0, 0.1)
    np.testing.assert_array_equal(peers.evaluate("constant", [0, 5], 10, 0.3), np.array([0.3, 0.3]))


def test_peers_import_no_torch() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, uba.peers as p; p.wsd([0, 1], 10); print('torch' in sys.modules)",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("name", ALL)
def test_each_peer_shows_its_own_signature_and_docstring(name: str) -> None:
    # help() and the API reference see the peer as callers call it
    fn = peers.get(name)
    params = inspect.signature(fn).parameters
    assert list(params)[:2] == ["t", "T"]
    assert params["t"].annotation == "float | npt.ArrayLike"
    assert inspect.signature(fn).return_annotation == "float | npt.NDArray[np.float64]"
    assert fn.__name__ == name and fn.__doc__ and f">>> from uba.peers import {name}" in fn.__doc__
    assert ("eta_min" in params) == peers.takes_eta_min(name)
    assert isinstance(fn(t=3, T=10), float)  # t by keyword, as before
