"""Bad input never crashes the interpreter and never raises anything but
ValueError or TypeError (never SystemError)."""

from __future__ import annotations

import fractions

import pytest

import uba


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
