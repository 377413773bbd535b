"""python -m uba: the table, the plot, and argument errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import uba
from uba.__main__ import main


def table_rows(text: str) -> np.ndarray:
    lines = [ln for ln in text.splitlines() if ln.strip() and ln.split()[0].isdigit()]
    return np.array([[float(x) for x in ln.split()] for ln in lines])


def test_default_table_is_t_1000_for_four_phis_next_to_cosine(capsys, tmp_path) -> None:
    assert main(["--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "phi=0.5" in out and "phi=4" in out and "cosine" in out
    rows = table_rows(out)
    assert rows.shape == (11, 6)
    t = rows[:, 0]
    np.testing.assert_array_equal(t, np.arange(0, 1001, 100))
    for col, phi in enumerate([0.5, 1.0, 2.0, 4.0], start=1):
        np.testing.assert_allclose(rows[:, col], uba.schedule(t, 1000, phi), atol=5e-7)
    np.testing.assert_allclose(rows[:, 3], rows[:, 5], atol=1e-6)  # phi = 2 is cosine


def test_writes_the_png_when_matplotlib_is_there(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "s.png"
    out = subprocess.run(
        [sys.executable, "-m", "uba", "-T", "200", "--phi", "1", "3", "--plot", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert f"wrote {path}" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--phi", "0"], "must be a finite number > 0, got 0"),
        (["--phi", "nan"], "must be a finite number > 0, got nan"),
        (["-T", "0"], "must be an integer in [1, 2**53], got 0"),
        (["-T", "ten"], "expected an integer, got 'ten'"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
