"""uba.schedule against a 50-digit mpmath evaluation of the formula of docs/schedule.md,
its closed forms, and its contract for shapes, dtypes and bad input."""

from __future__ import annotations

import math
import random

import mpmath
import numpy as np
import pytest

import uba

mpmath.mp.dps = 50

BUDGETS = [1, 2, 10, 1000, 10**6, 2**40]
PHIS = [1e-6, 0.01, 0.5, 1.0, 2.0, 4.0, 100.0, 1e6]


def g_reference(t: float, T: int, phi: float) -> mpmath.mpf:
    """docs/schedule.md section 1 verbatim: g = 2u / (2 phi + (2 - phi) u)."""
    u = 1 + mpmath.cos(mpmath.pi * mpmath.mpf(t) / T)
    return 2 * u / (2 * mpmath.mpf(phi) + (2 - mpmath.mpf(phi)) * u)


def rel_err(actual: float, expected: mpmath.mpf) -> float:
    if expected == 0:
        return abs(actual)
    return float(abs((mpmath.mpf(actual) - expected) / expected))


def steps_for(T: int) -> list[float]:
    fixed = [0, 1, 2, T / 3, T / 2, T - 2, T - 1, T]
    rng = random.Random(T)
    rand = [rng.uniform(0, T) for _ in range(500)] + [
        float(rng.randrange(T + 1)) for _ in range(500)
    ]
    return [t for t in fixed if 0 <= t <= T] + rand


@pytest.mark.parametrize("T", BUDGETS)
def test_matches_fifty_digit_reference_to_1e_14(T: int) -> None:
    steps = steps_for(T)
    for phi in PHIS:
        got = uba.schedule(np.array(steps), T, phi)
        worst = max(rel_err(float(g), g_reference(t, T, phi)) for t, g in zip(steps, got))
        assert worst <= 1e-14, (T, phi, worst)


@pytest.mark.parametrize("T", BUDGETS)
def test_scalar_calls_agree_with_reference(T: int) -> None:
    for phi in PHIS:
        for t in [0, 1, 2, T / 3, T / 2, T - 2, T - 1, T]:
            if 0 <= t <= T:
                assert rel_err(uba.schedule(t, T, phi), g_reference(t, T, phi)) <= 1e-14


def test_value_with_eta_range_is_relatively_exact() -> None:
    rng = random.Random(7)
    for _ in range(300):
        T = rng.choice(BUDGETS)
        phi = rng.choice(PHIS)
        t = rng.uniform(0, T)
        hi, lo = rng.uniform(1e-4, 1.0), rng.uniform(0, 1e-4)
        ref = lo + (mpmath.mpf(hi) - lo) * g_reference(t, T, phi)
        assert rel_err(uba.schedule(t, T, phi, hi, lo), ref) <= 1e-14


@pytest.mark.parametrize("T", BUDGETS)
@pytest.mark.parametrize("phi", PHIS)
def test_starts_at_one_and_ends_at_zero_exactly(T: int, phi: float) -> None:
    assert uba.schedule(0, T, phi) == 1.0
    assert uba.schedule(T, T, phi) == 0.0
    assert uba.schedule(0, T, phi, 0.3, 0.01) == 0.3
    assert uba.schedule(T, T, phi, 0.3, 0.01) == 0.01


@pytest.mark.parametrize("T", BUDGETS)
def test_phi_two_is_cosine_annealing(T: int) -> None:
    for t in steps_for(T)[:200]:
        cosine = (1 + mpmath.cos(mpmath.pi * mpmath.mpf(t) / T)) / 2
        assert rel_err(uba.schedule(t, T, 2.0), cosine) <= 1e-14


def test_closed_forms_of_spec() -> None:
    for phi in [0.1, 0.5, 1.0, 2.0, 4.0, 10.0]:
        assert uba.schedule(500, 1000, phi) == pytest.approx(2 / (phi + 2), rel=1e-15)
        s = math.sqrt(phi / 2)
        n = 200_000
        g = uba.schedule(np.arange(n) + 0.5, n, phi)
        assert g.mean() == pytest.approx(1 / (1 + s), rel=1e-9)
        assert (g * g).mean() == pytest.approx((s + 2) / (2 * (1 + s) ** 2), rel=1e-9)


def test_reflection_identity() -> None:
    t = np.arange(0, 1001, dtype=np.float64)
    for phi in PHIS:
        total = uba.schedule(t, 1000, phi) + uba.schedule(1000 - t, 1000, 4 / phi)
        np.testing.assert_allclose(total, 1.0, rtol=0, atol=5e-16)


def test_periodic_past_the_budget_like_cosine_annealing() -> None:
    t = np.arange(0, 101, dtype=np.float64)
    g = uba.schedule(t, 100, 0.7)
    np.testing.assert_array_equal(uba.schedule(t + 200, 100, 0.7), g)
    np.testing.assert_array_equal(uba.schedule(200 - t, 100, 0.7), g)


def test_warmup_is_linear_then_the_schedule_over_the_rest() -> None:
    T, W = 110, 10
    t = np.arange(0, 3 * T)
    got = uba.schedule(t, T, 3.0, 2.0, 0.5, warmup_steps=W, warmup_start=0.25)
    np.testing.assert_allclose(got[:W], 0.25 + 1.75 * t[:W] / W, rtol=1e-15)
    np.testing.assert_array_equal(got[W:], uba.schedule(t[W:] - W, T - W, 3.0, 2.0, 0.5))
    assert got[W] == 2.0 and got[T] == 0.5


# ---- shapes, dtypes, layouts ------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint16, np.int32, np.int64, np.uint64, np.float16, np.float32, np.float64]
)
def test_every_real_dtype_gives_float64_of_the_same_shape(dtype: type) -> None:
    t = np.arange(24).reshape(2, 3, 4).astype(dtype)
    got = uba.schedule(t, 30, 0.8)
    assert got.dtype == np.float64 and got.shape == (2, 3, 4)
    expected = [uba.schedule(float(x), 30, 0.8) for x in t.ravel()]
    np.testing.assert_array_equal(got.ravel(), expected)


def test_non_contiguous_and_byteswapped_input() -> None:
    base = np.arange(40, dtype=np.float64).reshape(5, 8)
    view = base[::2, 1::3]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(uba.schedule(view, 50), uba.schedule(view.copy(), 50))
    swapped = np.arange(10, dtype=">f8")
    np.testing.assert_array_equal(uba.schedule(swapped, 9), uba.schedule(np.arange(10.0), 9))
    fortran = np.asfortranarray(base)
    np.testing.assert_array_equal(uba.schedule(fortran, 50), uba.schedule(base, 50))


def test_scalars_give_floats_and_arrays_give_arrays() -> None:
    assert type(uba.schedule(3, 10)) is float
    assert type(uba.schedule(3.5, 10)) is float
    assert type(uba.schedule(np.int64(3), 10)) is float
    assert type(uba.schedule(np.float32(3), 10)) is float
    zero_d = uba.schedule(np.array(3), 10)
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()
    assert uba.schedule([], 10).shape == (0,)
    assert uba.schedule([[1, 2]], 10).shape == (1, 2)
    assert uba.schedule((1, 2), 10).shape == (2,)


def test_input_array_is_not_modified() -> None:
    t = np.arange(10.0)
    before = t.copy()
    uba.schedule(t, 9)
    np.testing.assert_array_equal(t, before)


def test_huge_steps_and_budgets_stay_64_bit() -> None:
    T = 2**53
    assert uba.schedule(T, T, 1.0) == 0.0
    assert 0 < uba.schedule(T - 1, T, 1.0) < 1e-30
    assert uba.schedule(2**60, 1000, 1.0) == uba.schedule(2**60 % 2000, 1000, 1.0)


# ---- steps and budgets that no double holds ------------------------------------

INEXACT = 2**53 + 1  # the first integer a double cannot hold: it rounds to 2**53


@pytest.mark.parametrize("kind", [int, np.int64, np.uint64])
def test_a_budget_no_double_holds_is_refused_whatever_its_type(kind: type) -> None:
    """Before, np.int64(2**53 + 1) and np.uint64(2**53 + 1) were taken as 2**53."""
    with pytest.raises(ValueError, match=r"T must be an integer .*, got 9007199254740993"):
        uba.schedule(0, kind(INEXACT))
    with pytest.raises(ValueError, match=r"T must be .* got 9007199254740993"):
        uba.theory.chebyshev_step_sizes(kind(INEXACT), 1.0, 2.0)
    assert uba.schedule(0, kind(2**53)) == 1.0


@pytest.mark.parametrize("kind", [int, np.int64, np.uint64])
def test_a_step_no_double_holds_is_refused_whatever_its_type(kind: type) -> None:
    """Before, uba.schedule(2**53 + 1, 3) was 0.4 (step 2**53, which is 2 mod
    the period 6), where step 2**53 + 1 is 3 mod 6: the trough, 0."""
    with pytest.raises(ValueError, match=r"t must .*exactly.*, got 9007199254740993"):
        uba.schedule(kind(INEXACT), 3)
    # integers a double holds exactly are fine, however large
    assert uba.schedule(kind(2**60), 1000) == uba.schedule(2**60 % 2000, 1000)
    assert uba.schedule(kind(2**53), 3) == uba.schedule(2, 3)


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_an_array_step_no_double_holds_is_refused(dtype: type) -> None:
    t = np.array([0, 1, INEXACT, 2**60], dtype=dtype)
    with pytest.raises(ValueError, match=r"t\[2\] must .*exactly.*, got 9007199254740993"):
        uba.schedule(t, 3)
    exact = np.array([0, 2**53, 2**60], dtype=dtype)
    np.testing.assert_array_equal(uba.schedule(exact, 3), uba.schedule(exact.astype(np.float64), 3))


# ---- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"T": 0}, r"T must be an integer in \[1, 2\*\*53\], got 0"),
        ({"T": -5}, r"T must be .* got -5"),
        ({"T": 10.5}, r"T must be .* got 10.5"),
        ({"T": float("nan")}, r"T must be .* got nan"),
        ({"T": 2**53 + 1}, r"T must be .* got 9007199254740993"),
        ({"T": 10**400}, r"T must be .* got 1000000"),
        ({"phi": 0.0}, r"phi must be a finite number > 0, got 0.0"),
        ({"phi": -1}, r"phi must be .* got -1"),
        ({"phi": float("inf")}, r"phi must be .* got inf"),
        ({"eta_max": float("nan")}, r"eta_max must be a finite number, got nan"),
        ({"eta_min": float("-inf")}, r"eta_min must be a finite number, got -inf"),
        ({"warmup_steps": 10}, r"warmup_steps must be an integer in \[0, T\), got 10"),
        ({"warmup_steps": -1}, r"warmup_steps must be .* got -1"),
        ({"warmup_steps": 2.5}, r"warmup_steps must be .* got 2.5"),
        ({"warmup_start": float("nan")}, r"warmup_start must be a finite number, got nan"),
        ({"t": -1}, r"t must be a finite number >= 0, got -1"),
        ({"t": float("nan")}, r"t must be .* got nan"),
        ({"t": float("inf")}, r"t must be .* got inf"),
        ({"t": [0, 1, -2, -3]}, r"t\[2\] must be a finite number >= 0, got -2.0"),
        ({"t": [[0, 1], [2, float("nan")]]}, r"t\[1, 1\] must be .* got nan"),
    ],
)
def test_bad_values_raise_value_error_naming_argument_and_value(kwargs: dict, pattern: str) -> None:
    args = {"t": 1, "T": 10, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        uba.schedule(**args)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"T": "10"}, r"T must be a real number, got str"),
        ({"phi": None}, r"phi must be a real number, got NoneType"),
        ({"phi": 1j}, r"phi must be a real number, got complex"),
        ({"eta_max": [1.0]}, r"eta_max must be a real number, got list"),
        ({"t": "3"}, r"t must be a real number or an array of real numbers"),
        ({"t": ["a", "b"]}, r"dtype <U1"),
        ({"t": 1j}, r"dtype complex128"),
        ({"t": np.complex64(1)}, r"t must be a real number, got numpy.complex64"),
        ({"t": [object()]}, r"dtype object"),
        ({"t": None}, r"dtype object"),
    ],
)
def test_bad_types_raise_type_error_naming_argument(kwargs: dict, pattern: str) -> None:
    args = {"t": 1, "T": 10, **kwargs}
    with pytest.raises(TypeError, match=pattern):
        uba.schedule(**args)


def test_core_refuses_wrong_argument_count() -> None:
    from uba import _core

    with pytest.raises(TypeError, match=r"schedule\(\) takes exactly 7"):
        _core.schedule(1, 10)  # type: ignore[call-overload]
