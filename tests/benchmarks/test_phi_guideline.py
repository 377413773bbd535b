"""benchmarks/phi_guideline.py runs and writes its report and figure (a smoke
test of --quick; the full run is the committed benchmarks/results/)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ..helpers import repo_path

pytest.importorskip("matplotlib")
sys.path.insert(0, str(repo_path("benchmarks", "phi_guideline.py").parent))

import phi_guideline


def test_the_quick_run_writes_its_tables_and_figure(tmp_path: Path) -> None:
    assert phi_guideline.main(["--quick", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "phi_guideline.md").read_text()
    assert (tmp_path / "phi_guideline.png").stat().st_size > 10_000
    for row in ("| A1 | 1.5 | none | equal | 100 |", "| A6 |", "| S1 | budget |", "| S16 |"):
        assert row in report
    assert "| noisy (both) | 4 |" in report


def test_the_committed_report_cites_every_row_of_the_grid() -> None:
    report = repo_path("benchmarks", "results", "phi_guideline.md").read_text()
    ids = [f"| A{i} |" for i in range(1, 55)] + [f"| S{i} |" for i in range(1, 43)]
    assert all(row in report for row in ids)
    assert "| all | 54 |" in report
