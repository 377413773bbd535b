"""`import uba` is light: no torch, no matplotlib, until they are needed."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout


def test_import_uba_imports_neither_torch_nor_matplotlib() -> None:
    out = run(
        "import sys, uba\n"
        "uba.schedule([0, 1, 2], 10)\n"
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("UBALR", "uba.scheduler"),
        ("UBAWarmRestarts", "uba.warm_restarts"),
        ("get_uba_schedule_with_warmup", "uba.hf"),
    ],
)
def test_each_torch_scheduler_brings_torch_in_on_first_use(name: str, module: str) -> None:
    pytest.importorskip("torch")
    out = run(
        "import sys, uba\n"
        "assert 'torch' not in sys.modules\n"
        f"obj = uba.{name}\n"
        "print('torch' in sys.modules, obj.__name__, obj.__module__)"
    )
    assert out.split() == ["True", name, module]


def test_public_names() -> None:
    import uba

    assert uba.__version__ == "0.1.0"
    lazy = {"UBALR", "UBAWarmRestarts", "get_uba_schedule_with_warmup"}
    assert set(uba.__all__) >= {"schedule", "__version__", *lazy}
    assert lazy <= set(dir(uba))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        uba.nope  # noqa: B018
