"""Helpers shared by the test packages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import uba

#: The folder the tests live in: a checkout, an unpacked sdist, or wherever a
#: wheel's tests were copied to (benchmarks/, examples/, docs/ beside tests/).
REPO = Path(__file__).resolve().parent.parent


def repo_path(*parts: str) -> Path:
    """A file or folder beside tests/ (in REPO).  Where the tests run without
    it (a wheel's tests copied alone), the test, or the module when called
    at import time, is skipped with the reason."""
    path = REPO.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{'/'.join(parts)} is not beside the tests here ({REPO})",
                    allow_module_level=True)
    return path


def child_env() -> dict[str, str]:
    """The environment for a child Python process: the same uba as this one."""
    env = dict(os.environ)
    root = str(Path(uba.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env
