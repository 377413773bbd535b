"""Argument checks shared by the whole package: one home for each rule.

Every check names the argument, states what is allowed and shows the value
as the caller passed it (:func:`shown`).  Wrong types raise TypeError, values
out of range ValueError (never OverflowError, whatever the size of the
number).  The rules the C core checks are not repeated here: arguments that go
to the core go there as passed, and its errors name them the same way.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from uba import _core

__all__ = [
    "MAX_BUDGET",
    "budget",
    "choice",
    "exact_steps",
    "integer",
    "items",
    "phi",
    "positive",
    "real",
    "real_number",
    "shown",
]

#: The largest budget: every integer up to 2**53 is exact in a double
#: (UBA_MAX_BUDGET of csrc/uba.h).
MAX_BUDGET: int = _core.MAX_BUDGET

# How long a value's text may be in a message (see shown).
_SHOWN_INT = 40
_SHOWN_MAX = 80


def shown(value: Any) -> str:
    """``value`` as an error message shows it: its repr, except that an
    integer of more than 40 digits shows its first 20 and last 10 digits and
    its length, any other repr longer than 80 characters its first 60 and
    last 10, and an integer too long to convert to text at all its size.
    (The C binding shows values by the same rule.)

    Example:
        >>> shown(10**400)
        '10000000000000000000...0000000000 (401 digits)'
        >>> shown(0.5)
        '0.5'
    """
    is_int = isinstance(value, int) and not isinstance(value, bool)
    try:
        text = repr(value)
    except ValueError:  # beyond sys.get_int_max_str_digits()
        if not is_int:
            raise
        return f"an integer of about {int(abs(value).bit_length() * 0.30103) + 1} digits"
    if is_int and len(text) > _SHOWN_INT:
        head = 20 + text.startswith("-")
        return f"{text[:head]}...{text[-10:]} ({len(text) - head + 20} digits)"
    if not is_int and len(text) > _SHOWN_MAX:
        return f"{text[:60]}...{text[-10:]}"
    return text


def _type_error(name: str, value: Any) -> TypeError:
    return TypeError(f"{name} must be a real number, got {type(value).__name__}")


def real_number(name: str, value: Any) -> float:
    """``value`` as a float (+-inf for a real beyond double range), or
    TypeError naming ``name`` for anything that is not a real number, and
    ValueError for one too large for a double that cannot say its sign."""
    if isinstance(value, (str, bytes, complex)) or value is None:
        raise _type_error(name, value)
    try:
        return float(value)
    except OverflowError:  # an int or Fraction too large for a double
        try:
            return math.inf if value > 0 else -math.inf
        except TypeError:  # its __float__ overflowed, and it has no order
            raise ValueError(
                f"{name} must be a real number a double can hold, got {shown(value)}"
            ) from None
    except (TypeError, ValueError):
        raise _type_error(name, value) from None


def real(
    name: str,
    value: Any,
    allowed: str = "a finite number",
    ok: Callable[[float], bool] = lambda x: True,
) -> float:
    """A finite real number that satisfies ``ok``; the errors name the
    argument, the range ``allowed`` (in words) and the value."""
    x = real_number(name, value)
    if not (math.isfinite(x) and ok(x)):
        raise ValueError(f"{name} must be {allowed}, got {shown(value)}")
    return x


def positive(name: str, value: Any) -> float:
    """A finite real number > 0 (a scale: L, phi, ...)."""
    return real(name, value, "a finite number > 0", lambda x: x > 0)


def integer(name: str, value: Any, low: int, high: int, allowed: str) -> int:
    """An integer in ``[low, high]``, from anything integral: a Python or
    NumPy integer, an integral float, a 0-d integer tensor.  Integers are
    compared exactly (2**53 + 1 is not rounded to 2**53 on the way)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got bool")
    try:
        exact = operator.index(value)
    except TypeError:
        x = real_number(name, value)
        if not (math.isfinite(x) and x == math.floor(x)):
            raise ValueError(
                f"{name} must be an integer in {allowed}, got {shown(value)}"
            ) from None
        exact = int(x)
    if not low <= exact <= high:
        raise ValueError(f"{name} must be an integer in {allowed}, got {shown(value)}")
    return exact


def budget(value: Any, name: str = "T") -> int:
    """A budget: an integer in ``[1, 2**53]``."""
    return integer(name, value, 1, MAX_BUDGET, "[1, 2**53]")


def items(name: str, values: Any) -> list[Any]:
    """The items of a sequence argument (a list, tuple, range, array, ...),
    or TypeError naming ``name``: a string or a single number is not one."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence, got {type(values).__name__}")
    return list(values)


def phi(value: Any) -> float:
    """The schedule's shape: a finite number > 0."""
    return positive("phi", value)


def choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``, or ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {shown(value)}")
    return value


def exact_steps(t: npt.ArrayLike, name: str = "t") -> npt.ArrayLike:
    """Array-like steps, with any 64-bit integer a double cannot hold
    exactly (some beyond 2**53) refused; scalars pass through (the core
    checks those)."""
    if isinstance(t, (int, float)) or np.ndim(t) == 0:
        return t
    steps = np.asarray(t)
    if steps.dtype.kind not in "iu" or steps.dtype.itemsize < 8:
        return steps
    beyond = np.flatnonzero((steps > MAX_BUDGET) | (steps < -MAX_BUDGET))
    for i in beyond:
        value = int(steps.flat[i])
        if int(float(value)) != value:
            where = ", ".join(str(j) for j in np.unravel_index(i, steps.shape))
            raise ValueError(
                f"{name}[{where}] must be an integer a double holds exactly "
                f"(every integer up to 2**53), got {value}"
            )
    return steps
