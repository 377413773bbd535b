"""Helpers shared by the test packages."""

from __future__ import annotations

import os
from pathlib import Path

import uba

#: The repository checkout the tests live in (benchmarks/, examples/ beside tests/).
REPO = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The environment for a child Python process: the same uba as this one."""
    env = dict(os.environ)
    root = str(Path(uba.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env
