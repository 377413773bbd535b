"""Bad input never crashes the interpreter and never raises anything but
ValueError or TypeError (never SystemError).

The hypothesis search over bad input (tests/reliability/_crash_cases.py) runs in a
child interpreter: a segfault, an abort or a hang there fails this test
instead of killing the session.  The tests below it pin what that search
found, in-process.
"""

from __future__ import annotations

import fractions
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import uba
from uba import _core

from ..helpers import child_env, scaled

HERE = Path(__file__).resolve().parent
EXAMPLES = int(os.environ.get("UBA_CRASH_EXAMPLES", scaled(400)))  # 40 in the quick tier


def test_bad_input_never_crashes_the_interpreter() -> None:
    proc = subprocess.run(
        [sys.executable, str(HERE / "_crash_cases.py"), str(EXAMPLES)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        pytest.fail(f"the child died of {name}:\n{proc.stdout}\n{proc.stderr[-4000:]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-6000:]
    counts = dict(re.findall(r"(\w+)=(\d+)", proc.stdout.splitlines()[-1]))
    print(f"\nbad-input examples: {counts}")
    assert int(counts["examples"]) >= 3 * EXAMPLES


# ---- what the search found, pinned -----------------------------------------


class Boom(Exception):
    pass


class FloatRaises:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __float__(self) -> float:
        raise self.error


@pytest.mark.parametrize("arg", ["T", "phi", "eta_max", "warmup_start"])
@pytest.mark.parametrize("error", [KeyboardInterrupt(), MemoryError(), Boom()])
def test_an_exception_from_the_callers_own_float_propagates(arg: str, error) -> None:
    """The binding used to turn any error inside __float__ into TypeError,
    swallowing a KeyboardInterrupt or MemoryError raised there."""
    kwargs = {"T": 10, "phi": 1.0, "eta_max": 1.0, "warmup_start": 0.0}
    kwargs[arg] = FloatRaises(error)
    with pytest.raises(type(error)):
        uba.schedule(1, kwargs.pop("T"), **kwargs)


@pytest.mark.parametrize("error", [TypeError("no"), ValueError("no")])
def test_a_type_or_value_error_from_float_names_the_argument(error) -> None:
    with pytest.raises(TypeError, match="phi must be a real number, got FloatRaises"):
        uba.schedule(1, 10, FloatRaises(error))


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (fractions.Fraction(10**400, 3), r"phi must be a finite number > 0, got Fraction"),
        (fractions.Fraction(-(10**400), 3), r"phi must be a finite number > 0, got Fraction"),
        (np.longdouble("1e4000"), r"phi must be a finite number > 0, got"),
    ],
)
def test_a_real_too_large_for_a_double_is_out_of_range(value, pattern: str) -> None:
    """float() of a huge Fraction raises OverflowError: the binding reads it
    as +-inf, as it does a huge int, and refuses it with the range."""
    with pytest.raises(ValueError, match=pattern):
        uba.schedule(1, 10, value)


def test_step_groups_with_huge_values_refuses_with_value_error() -> None:
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['lr'\] must be a finite number"):
        _core.step_groups(
            _core.StepParams(10, 1.0, 0, 0.0), 2, 3, [0.1], [0.0], [10**400], [0.1], [1.0]
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"eta_min": 10**400},
        {"eta_min": [-(10**400)]},
        {"eta_min": fractions.Fraction(10**400, 3)},
        {"warmup_start_factor": 10**400},
    ],
)
def test_ubalr_refuses_reals_too_large_for_a_double_with_value_error(kwargs) -> None:
    """UBALR used to raise OverflowError from math.isfinite here."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="must be a finite number"):
        uba.UBALR(opt, 10, **kwargs)
