"""Property tests (hypothesis) of uba.schedule over its whole valid domain:
budgets up to 2**53, any finite phi > 0 (subnormals included), any finite
eta_max / eta_min / warmup_start (DBL_MAX included), any steps.

  * eta stays in [min, max] of the values it interpolates;
  * eta is monotone on [0, T] (and on the warmup ramp), bit for bit;
  * phi = 2 is cosine annealing;
  * the reflection identity of docs/schedule.md: g_phi(t) + g_{4/phi}(T - t) = 1;
  * the schedule is continuous at the end of the warmup;
  * array and scalar calls agree bit for bit (also on arrays large enough
    for the binding to release the GIL).

Bad input, and that it never crashes the interpreter, is tested in a child
process: test_crash_cases.py.  Examples per test: UBA_HYPOTHESIS_EXAMPLES,
by default 200 in the full tier (--slow) and 20 in the quick tier;
`pytest --hypothesis-show-statistics` counts them.
"""

from __future__ import annotations

import math
import os

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

import uba

from ..helpers import scaled

EXAMPLES = int(os.environ.get("UBA_HYPOTHESIS_EXAMPLES", scaled(200)))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    # no 'explain' phase: it imports black, whose DeprecationWarning is an
    # error under this project's filterwarnings and hides the failure
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)

ULP1 = 2.0**-53  # half the spacing of doubles just below 1
DBL_MAX = 1.7976931348623157e308

budgets = st.one_of(
    st.integers(1, 20),
    st.integers(1, 10**6),
    st.integers(1, 2**53),
    st.sampled_from([2**40 + 3, 2**53 - 1, 2**53]),
)
phis = st.one_of(
    st.floats(min_value=0.0, max_value=DBL_MAX, exclude_min=True),
    st.floats(min_value=1e-3, max_value=1e3),
    st.sampled_from([5e-324, 1e-6, 0.5, 1.0, 2.0, 4.0, 1e6, DBL_MAX]),
)
finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def schedules(draw, warmup: str = "maybe"):
    """(T, phi, eta_max, eta_min, W, warmup_start) over the valid domain;
    warmup "maybe", "none" or "always" (W >= 1)."""
    if warmup == "always":
        T = draw(st.one_of(st.integers(2, 1000), st.integers(2, 2**53)))
        W = draw(st.integers(1, T - 1))
    else:
        T = draw(budgets)
        W = draw(st.one_of(st.just(0), st.integers(0, T - 1))) if warmup == "maybe" else 0
    return T, draw(phis), draw(finite), draw(finite), W, draw(finite)


def steps_in(draw, T: int, size: int) -> list[float]:
    """Steps in [0, T]: integers, fractions, the ends, T/2, and runs of
    neighbours (where one step can move eta by less than an ulp)."""
    ints = st.integers(0, T)
    reals = st.floats(min_value=0.0, max_value=float(T))
    out = draw(st.lists(st.one_of(ints, reals), min_size=1, max_size=size))
    centre = draw(st.one_of(ints, st.sampled_from([0, T // 2, (T + 1) // 2, T])))
    out += [c for c in range(centre - 8, centre + 9) if 0 <= c <= T]
    return [float(t) for t in out]


def call(t, s):
    T, phi, hi, lo, W, start = s
    return uba.schedule(t, T, phi, hi, lo, warmup_steps=W, warmup_start=start)


# --------------------------------------------------------------------------- range


@SETTINGS
@given(s=schedules(), data=st.data())
def test_eta_stays_between_the_values_it_interpolates(s, data) -> None:
    T, _phi, hi, lo, W, start = s
    t = steps_in(data.draw, T, 30)
    t += data.draw(st.lists(st.floats(min_value=0.0, max_value=1e300), max_size=5))
    eta = call(np.array(t), s)
    assert np.isfinite(eta).all()
    t_arr = np.array(t)
    ramp = t_arr < W
    assert (eta[~ramp] >= min(hi, lo)).all() and (eta[~ramp] <= max(hi, lo)).all()
    assert (eta[ramp] >= min(hi, start)).all() and (eta[ramp] <= max(hi, start)).all()
    # the ends, bit for bit
    assert call(float(W), s) == hi
    assert call(float(T), s) == lo


@SETTINGS
@given(T=budgets, phi=phis, x=finite)
def test_a_constant_schedule_is_that_constant(T, phi, x) -> None:
    t = np.array([0.0, 1.0, T / 3, T / 2, T - 1.0, float(T), 2.5 * T])
    np.testing.assert_array_equal(uba.schedule(t.clip(0), T, phi, x, x), x)


# --------------------------------------------------------------------------- monotone


@SETTINGS
@given(s=schedules(warmup="none"), data=st.data())
def test_monotone_on_zero_to_T_bit_for_bit(s, data) -> None:
    T, phi, hi, lo, _, _ = s
    t = np.unique(steps_in(data.draw, T, 40))
    eta = call(t, s)
    # neighbours compared, not subtracted: eta - eta can overflow
    rises = eta[1:] > eta[:-1] if hi >= lo else eta[1:] < eta[:-1]
    assert not rises.any(), t[1:][rises][:5]
    g = uba.schedule(t, T, phi)
    assert (g[1:] <= g[:-1]).all() and g.min() >= 0.0 and g.max() <= 1.0


@SETTINGS
@given(s=schedules(warmup="always"), data=st.data())
def test_warmup_ramp_is_monotone_towards_eta_max(s, data) -> None:
    _T, _phi, hi, _lo, W, start = s
    t = np.unique(
        data.draw(st.lists(st.floats(min_value=0.0, max_value=float(W)), min_size=2, max_size=30))
        + [float(max(0, W - k)) for k in range(5)]
    )
    eta = call(t, s)
    assert (eta[1:] >= eta[:-1]).all() if start <= hi else (eta[1:] <= eta[:-1]).all()


# --------------------------------------------------------------------------- phi = 2


def cosine_reference(t: float, T: int) -> mpmath.mpf:
    """(1 + cos(pi t/T)) / 2, as sin^2(pi (T - t) / 2T): no cancellation
    near T (where 1 + cos would leave 50 digits with too few), and exactly
    0 at t = T (T - t is exact in mpmath)."""
    with mpmath.workdps(50):
        return mpmath.sin(mpmath.pi * (T - mpmath.mpf(t)) / (2 * T)) ** 2


@SETTINGS
@given(T=budgets, data=st.data(), hi=moderate, lo=moderate)
def test_phi_two_is_cosine_annealing(T, data, hi, lo) -> None:
    t = data.draw(st.one_of(st.integers(0, T).map(float), st.floats(0.0, float(T))))
    g = uba.schedule(t, T, 2.0)
    # against torch's formula, in doubles: absolute agreement
    assert abs(g - (1 + math.cos(math.pi * t / T)) / 2) <= 8 * ULP1
    # against the exact cosine: relative agreement (torch's formula has none
    # near t = T, where 1 + cos cancels)
    ref = cosine_reference(t, T)
    assert abs(mpmath.mpf(g) - ref) <= 1e-14 * ref
    eta = uba.schedule(t, T, 2.0, hi, lo)
    with mpmath.workdps(50):
        exact = lo + (mpmath.mpf(hi) - lo) * ref
        assert abs(mpmath.mpf(eta) - exact) <= 1e-14 * max(abs(hi), abs(lo), 1e-300)


# --------------------------------------------------------------------------- reflection


@SETTINGS
@given(
    T=budgets,
    phi=st.floats(min_value=1e-300, max_value=1e300),
    data=st.data(),
)
def test_reflection_identity(T, phi, data) -> None:
    """docs/schedule.md: g_phi(u) + g_{4/phi}(2 - u) = 1, with u = 1 + cos(pi t/T);
    2 - u is u at T - t."""
    t = np.array(steps_in(data.draw, T, 20))
    t = np.floor(t)  # T - t exact for integer steps
    total = uba.schedule(t, T, phi) + uba.schedule(T - t, T, 4.0 / phi)
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=4 * ULP1)


# --------------------------------------------------------------------------- warmup end


@SETTINGS
@given(
    T=st.integers(2, 2**53),
    data=st.data(),
    phi=st.floats(min_value=1e-6, max_value=1e6),
    hi=moderate,
    lo=moderate,
    start=moderate,
)
def test_continuous_at_the_end_of_the_warmup(T, data, phi, hi, lo, start) -> None:
    """eta(W) = eta_max exactly, and eta(W +- d) -> eta_max as d -> 0, no
    faster than the ramp's slope (left) and the decay's shape (right) allow."""
    W = data.draw(st.integers(1, T - 1))
    s = (T, phi, hi, lo, W, start)
    assert call(float(W), s) == hi
    scale = max(abs(hi), abs(lo), abs(start))
    slack = 4 * 2 * ULP1 * scale  # a few ulp of the values involved
    horizon = T - W
    for k in range(0, 60, 3):
        # the offsets as the steps W - d and W + d round to (Sterbenz: exact)
        tl = W - W * 2.0**-k
        d = W - tl
        left = call(tl, s)
        assert abs(left - hi) <= abs(hi - start) * (d / W) * (1 + 1e-12) + slack
        tr = W + min(W * 2.0**-k, horizon)
        dr = tr - W
        right = call(tr, s)
        with mpmath.workdps(30):
            x = phi / 2 * mpmath.tan(mpmath.pi * dr / (2 * horizon)) ** 2
            fall = float(x / (1 + x))  # 1 - g at dr
        assert abs(right - hi) <= abs(hi - lo) * fall * (1 + 1e-9) + slack
    # and the neighbours of W, which a run actually visits
    left, right = call(float(W - 1), s), call(float(W + 1), s)
    assert abs(left - hi) <= abs(hi - start) / W * (1 + 1e-12) + slack


# --------------------------------------------------------------------------- array vs scalar


DTYPES = [np.float64, np.float32, np.int64, np.uint32, np.int16]


@SETTINGS
@given(s=schedules(), data=st.data(), dtype=st.sampled_from(DTYPES), big=st.booleans())
def test_array_and_scalar_calls_agree_bit_for_bit(s, data, dtype, big) -> None:
    T = s[0]
    t = steps_in(data.draw, T, 30)
    if np.issubdtype(dtype, np.integer):  # keep steps the dtype can hold
        t = [x for x in t if x <= np.iinfo(dtype).max]
        assume(t)
    arr = np.array(t).astype(dtype)
    if big:  # >= 4096 elements: the binding releases the GIL
        arr = np.resize(arr, 5000)
    got = call(arr, s)
    assert got.dtype == np.float64 and got.shape == arr.shape
    expected = np.array([call(float(x), s) for x in arr[:64]])
    np.testing.assert_array_equal(got[:64], expected)
    if big:
        np.testing.assert_array_equal(got, call(arr.copy(), s))
    # a 2-D, strided view gives the same values
    if arr.size >= 4:
        view = np.repeat(arr, 2)[::2].reshape(-1, 1)
        np.testing.assert_array_equal(call(view, s).ravel(), got)


@pytest.mark.parametrize("t", [0, 1, 7, 2**40, 2**53])
def test_python_int_numpy_scalar_and_zero_d_array_agree(t: int) -> None:
    T, phi = 1000, 0.7
    expected = uba.schedule(float(t), T, phi, 0.3, 0.01)
    for form in (t, np.int64(t), np.uint64(t), np.float64(t), np.array(t)):
        assert float(uba.schedule(form, T, phi, 0.3, 0.01)) == expected
