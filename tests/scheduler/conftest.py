"""The `kind` fixture of the scheduler tests (no torch import here: the test
modules skip themselves where torch is absent)."""

import pytest

KINDS = ("torch", "uba")


@pytest.fixture(params=KINDS)
def kind(request):
    """The scheduler under test: torch's CosineAnnealingLR (the control, which
    proves the expectations right) or uba.UBALR(..., phi=2.0)."""
    return request.param
