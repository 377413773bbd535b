"""examples/explore.ipynb runs headless on a real Jupyter kernel (nbclient +
ipykernel) with no error cell; it is committed without outputs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

import uba

from ..helpers import repo_path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

pytestmark = pytest.mark.slow  # the full tier: the notebook, run in a kernel

NOTEBOOK = repo_path("examples", "explore.ipynb")
WIDGET = "application/vnd.jupyter.widget-view+json"


def outputs(nb) -> list:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def test_the_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_the_notebook_runs_without_an_error_cell(tmp_path: Path, monkeypatch) -> None:
    # The kernel imports the same uba as this test (an in-place build, too).
    package_root = str(Path(uba.__file__).resolve().parent.parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    )
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    client.execute()

    outs = outputs(nb)
    assert not [o for o in outs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outs if o.output_type == "stream")
    assert f"uba {uba.__version__}" in text
    images = [o for o in outs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the schedules and the peers, at least
    if importlib.util.find_spec("ipywidgets") is not None:
        assert any(WIDGET in o.get("data", {}) for o in outs)
    assert "kappa =   100: phi = 200" in text  # the theory cells ran
    assert len(images) >= 5  # ... and drew their two plots
    assert list(tmp_path.iterdir()) == []  # it wrote nothing
