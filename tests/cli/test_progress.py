"""The command line's progress line for long theory calls."""

from __future__ import annotations

import io
import time

import pytest

from uba import theory
from uba.__main__ import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_after_half_a_second_on_a_terminal_and_is_erased(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    out = Terminal()
    with Progress("optimal phi", out) as progress:
        progress(0.1)  # at once: nothing yet
        assert out.getvalue() == ""
        clock[0] += 0.6
        progress(0.25)
        assert out.getvalue() == "\roptimal phi:  25%"
        clock[0] += 0.05
        progress(0.3)  # within a tenth of a second: not redrawn
        clock[0] += 0.1
        progress(0.5)
        assert out.getvalue().endswith("\roptimal phi:  50%")
    assert out.getvalue().endswith("\r" + " " * 17 + "\r")


@pytest.mark.filterwarnings("ignore::uba.theory.BoundaryWarning")  # sized to run, not to fit
def test_progress_stays_silent_off_a_terminal() -> None:
    out = io.StringIO()
    with Progress("optimal phi", out) as progress:
        theory.optimal_phi(20_000, 1.0, 1e4, sigma2=1e-6, progress=progress)
    assert out.getvalue() == ""
