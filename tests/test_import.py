"""`import uba` is light: no torch, no matplotlib, until they are needed."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version

import pytest

import uba

from .helpers import REPO


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
    [  # (each a child interpreter importing torch: one in the quick tier)
        ("UBALR", "uba.scheduler"),
        pytest.param("UBAWarmRestarts", "uba.warm_restarts", marks=pytest.mark.slow),
        pytest.param("get_uba_schedule_with_warmup", "uba.hf", marks=pytest.mark.slow),
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


def test_uba_probe_is_reachable_without_torch() -> None:
    out = run(
        "import sys, uba\n"
        "assert 'probe' in dir(uba)\n"
        "print(uba.probe.lower_end([1.0, 2.0], [1.0, 1.0], 0.0), 'torch' in sys.modules)"
    )
    assert out.split() == ["1.0", "False"]


def test_peers_and_plotting_are_attributes_loaded_on_first_use() -> None:
    out = run(
        "import sys, uba\n"
        "loaded = lambda: sorted(m for m in ('uba.peers', 'uba.plotting', 'torch', 'matplotlib')\n"
        "                        if m in sys.modules)\n"
        "print(loaded())\n"
        "print(uba.peers.rex([0, 500, 1000], 1000).tolist())\n"
        "print(loaded())\n"
        "plotting = uba.plotting\n"
        "print(plotting.plot_schedules.__module__, plotting is sys.modules['uba.plotting'])\n"
        "print(loaded())\n"
    )
    lines = out.splitlines()
    assert lines[0] == "[]"
    assert lines[1] == "[1.0, 0.6666666666666666, 0.0]"  # REX: (1 - z) / (1 - z/2)
    assert lines[2] == "['uba.peers']"
    assert lines[3] == "uba.plotting True"
    assert lines[4] == "['uba.peers', 'uba.plotting']"  # matplotlib waits for a plot


def test_the_version_has_one_source() -> None:
    # csrc/uba.h defines it; setup.py gives it to the metadata and the
    # extension publishes it; nothing else spells it (tests/test_repository.py).
    # (uba.__version__ is the extension's c_version itself)
    assert re.fullmatch(r"\d+\.\d+\.\d+", uba.__version__)
    assert uba.__version__ == version("uba")  # the metadata setup.py wrote
    header = REPO / "csrc" / "uba.h"
    if header.exists():  # beside a checkout or an unpacked sdist
        parts = [
            re.search(rf"#define UBA_VERSION_{p} (\d+)", header.read_text())
            for p in ("MAJOR", "MINOR", "PATCH")
        ]
        assert uba.__version__ == ".".join(m.group(1) for m in parts if m)


def test_public_names() -> None:
    lazy = {
        "UBALR",
        "UBAWarmRestarts",
        "get_uba_schedule_with_warmup",
        "peers",
        "plotting",
        "probe",
    }
    assert set(uba.__all__) >= {"schedule", "theory", "__version__", *lazy}
    assert lazy <= set(dir(uba))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        uba.nope  # noqa: B018
