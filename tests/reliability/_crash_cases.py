"""Bad input for every public and binding entry point, run in a child
process by test_crash_cases.py, so that a segfault or an abort fails that
test instead of killing the test session.

Every argument is drawn either from its valid values or from anything a
caller might pass by mistake: None, bools, ints of any size, floats with
NaN and infinities, complex numbers, strings, bytes, Decimals (signalling
NaN included), Fractions too large for a double, numpy scalars and arrays
of every dtype (strings, datetimes, complex, object), nested and ragged
lists, dicts, and objects whose __float__ or __index__ misbehaves.  A call
must then either succeed with finite values or raise ValueError or
TypeError: never SystemError, never any other exception, never a crash.

Usage: python _crash_cases.py EXAMPLES  (prints one line of counts)
"""

from __future__ import annotations

import decimal
import fractions
import math
import sys
import warnings

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import uba
from uba import _core

ALLOWED = (ValueError, TypeError)
COUNTS = {"examples": 0, "accepted": 0, "refused": 0}


class FloatReturnsStr:
    def __float__(self):
        return "1.0"


class IndexHuge:
    def __index__(self):
        return 10**400


class IndexOnly:
    def __index__(self):
        return 3


class LenLies:
    def __len__(self):
        return 3

    def __getitem__(self, i):
        raise IndexError(i)


self_ref: list = []
self_ref.append(self_ref)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.floats(allow_subnormal=True, min_value=-1e-300, max_value=1e-300),
    st.complex_numbers(),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.decimals(),
    st.sampled_from([decimal.Decimal("sNaN"), decimal.Decimal("-Infinity")]),
    st.fractions(),
    st.sampled_from([10**400, -(10**400), 2**53 + 1, 2**64, fractions.Fraction(10**400, 3)]),
    st.sampled_from(
        [
            np.float32("nan"),
            np.float16(3),
            np.int8(-1),
            np.uint64(2**64 - 1),
            np.longdouble("1e4000"),
            np.complex64(1),
            np.bool_(True),
            np.datetime64("2020-01-01"),
            np.timedelta64(3, "s"),
            np.str_("3"),
        ]
    ),
    st.sampled_from([FloatReturnsStr(), IndexHuge(), IndexOnly(), LenLies(), self_ref, object()]),
)
arrays = hnp.arrays(
    dtype=st.one_of(
        hnp.scalar_dtypes(), hnp.byte_string_dtypes(max_len=2), hnp.unicode_string_dtypes(max_len=2)
    ),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
)
anything = st.recursive(
    st.one_of(scalars, arrays),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=2), inner, max_size=2),
    ),
    max_leaves=6,
)


edges = st.sampled_from(
    [
        10**400,
        -(10**400),
        2**53 + 1,
        -1,
        0,
        -0.0,
        5e-324,
        1.7976931348623157e308,
        float("nan"),
        float("inf"),
        -float("inf"),
        fractions.Fraction(10**400, 3),
        decimal.Decimal("sNaN"),
        np.float64("nan"),
        np.longdouble("1e4000"),
        True,
    ]
)


def either(valid):
    """Valid values, edge values and anything at all, in equal parts."""
    return st.one_of(valid, edges, anything)


@st.composite
def arguments(draw, valid: dict):
    """Valid values for every argument, then one or two of them (or, now
    and then, all) replaced by an edge value or anything at all: checks
    run in order, so a bad argument is only reached when those before it
    are valid."""
    args = {name: draw(strategy) for name, strategy in valid.items()}
    names = list(valid)
    how = draw(st.integers(0, 9))
    if how == 0:
        bad = names
    elif how == 1:
        bad = []
    else:
        bad = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    for name in bad:
        args[name] = draw(st.one_of(edges, anything))
    return args


SETTINGS = dict(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)


def check(fn) -> None:
    """Calls fn(); returns normally only if it succeeded or raised one of
    ALLOWED.  Anything else (SystemError included) propagates."""
    COUNTS["examples"] += 1
    try:
        result = fn()
    except ALLOWED as e:
        assert not isinstance(e, SystemError)
        COUNTS["refused"] += 1
        return
    COUNTS["accepted"] += 1
    values = np.asarray(result, dtype=np.float64) if not isinstance(result, tuple) else None
    if values is not None:
        assert np.isfinite(values).all(), result


valid_t = st.one_of(
    st.integers(0, 10**6), st.floats(0, 1e6), st.lists(st.integers(0, 100), max_size=4)
)
valid_T = st.integers(1, 10**6)
valid_phi = st.floats(min_value=1e-3, max_value=1e3)
valid_eta = st.floats(-10, 10)


def run_schedule(examples: int) -> None:
    valid = dict(
        t=valid_t,
        T=valid_T,
        phi=valid_phi,
        hi=valid_eta,
        lo=valid_eta,
        W=st.integers(0, 5),
        start=valid_eta,
    )

    @settings(max_examples=examples, **SETTINGS)
    @given(a=arguments(valid))
    def schedule(a):
        check(
            lambda: uba.schedule(
                a["t"],
                a["T"],
                a["phi"],
                a["hi"],
                a["lo"],
                warmup_steps=a["W"],
                warmup_start=a["start"],
            )
        )

    schedule()


def run_core_any_arity(examples: int) -> None:
    @settings(max_examples=examples, **SETTINGS)
    @given(
        fn=st.sampled_from([_core.schedule, _core.step_groups, _core.StepParams]),
        args=st.lists(anything, max_size=12),
    )
    def core(fn, args):
        check(lambda: fn(*args))

    core()


def run_step_groups(examples: int) -> None:
    @st.composite
    def valid_groups(draw):
        k = draw(st.integers(0, 20))
        reals = st.lists(st.floats(-1.0, 1.0), min_size=k, max_size=k)
        return [draw(reals) for _ in range(5)]

    valid = dict(
        T=valid_T,
        phi=valid_phi,
        W=st.integers(0, 5),
        f=st.floats(0, 1),
        t_prev=st.integers(-1, 100),
        t=st.integers(100, 200),
        base=st.just(None),
        eta_min=st.just(None),
        lr=st.just(None),
        written=st.just(None),
        ratio=st.just(None),
    )
    names = ["base", "eta_min", "lr", "written", "ratio"]

    @settings(max_examples=examples, **SETTINGS)
    @given(a=arguments(valid), groups=valid_groups())
    def step_groups(a, groups):
        lists = [g if a[name] is None else a[name] for name, g in zip(names, groups)]
        check(
            lambda: _core.step_groups(
                _core.StepParams(a["T"], a["phi"], a["W"], a["f"]), a["t_prev"], a["t"], *lists
            )
        )

    step_groups()


def run_ubalr(examples: int) -> None:
    try:
        import torch
    except ImportError:
        return

    param = torch.nn.Parameter(torch.zeros(1))

    valid = dict(
        T_max=st.integers(1, 1000),
        eta_min=st.one_of(valid_eta, st.lists(valid_eta, min_size=1, max_size=1)),
        phi=valid_phi,
        W=st.integers(0, 0),
        f=st.floats(0, 1),
    )

    @settings(max_examples=examples, **SETTINGS)
    @given(a=arguments(valid))
    def ubalr(a):
        opt = torch.optim.SGD([param], lr=0.1)

        def build_and_step():
            sched = uba.UBALR(
                opt,
                a["T_max"],
                a["eta_min"],
                phi=a["phi"],
                warmup_steps=a["W"],
                warmup_start_factor=a["f"],
            )
            for _ in range(3):
                opt.step()
                sched.step()
            lr = opt.param_groups[0]["lr"]
            assert math.isfinite(lr), lr
            return lr

        check(build_and_step)

    ubalr()


def main(examples: int) -> None:
    warnings.simplefilter("ignore")  # numpy's deprecations are not the point
    run_schedule(examples)
    run_core_any_arity(examples)
    run_step_groups(examples)
    run_ubalr(max(10, examples // 2))
    print(" ".join(f"{k}={v}" for k, v in COUNTS.items()))


if __name__ == "__main__":
    main(int(sys.argv[1]))
