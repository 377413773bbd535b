"""csrc/tests/theory_references.h, the 50-digit maxima that the C theory
tests compare the worst-case searches with, is what its generator
(csrc/tests/make_references.py) writes, for the inputs the C tests make
today."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import pytest

from ..helpers import repo_path


def generator() -> ModuleType:
    path = repo_path("csrc", "tests", "make_references.py")
    spec = importlib.util.spec_from_file_location("make_references", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_tables() -> dict[str, list[tuple[int, float]]]:
    text = repo_path("csrc", "tests", "theory_references.h").read_text()
    tables = re.findall(r"static const reference (\w+)\[(\d+)\] = \{\n(.*?)\n\};", text, re.S)
    out = {}
    for name, size, body in tables:
        rows = re.findall(r"\{UINT64_C\(0x([0-9A-F]{16})\), (\S+)\},", body)
        assert len(rows) == int(size), name
        out[name] = [(int(h, 16), float.fromhex(v)) for h, v in rows]
    return out


def test_the_stored_references_belong_to_todays_inputs() -> None:
    """The hash of each case's inputs (the binding makes them as the C test
    does): a change of the kernel that moves a Chebyshev step by an ulp
    shows here, not only in `make test-c`."""
    hashes = generator().input_hashes()
    stored = stored_tables()
    assert set(stored) == set(hashes)
    for name, rows in stored.items():
        assert [h for h, _ in rows] == hashes[name], name


@pytest.mark.slow  # the 50-digit searches: about 15 s
def test_the_header_is_the_generators_output() -> None:
    assert generator().header() == repo_path("csrc", "tests", "theory_references.h").read_text()
