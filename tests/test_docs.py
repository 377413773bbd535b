"""The documentation site's check that every public name is documented
(docs/_ext/uba_names.py): it finds every public name, and a build that leaves
one out, or a subcommand of the command line, fails.  (`make docs` builds the
whole site; this builds a small one, in seconds.)"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pytest

import uba

from .helpers import repo_path

EXTENSIONS = repo_path("docs", "_ext")


def names_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("uba_names", EXTENSIONS / "uba_names.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_public_names_are_every_all_and_the_classes_methods() -> None:
    pytest.importorskip("torch")  # uba.UBALR and its methods
    names = names_module().public_names()
    for module in (uba.theory, uba.peers, uba.plotting, uba.probe):
        short = module.__name__.removeprefix("uba.")
        assert f"uba.{short}" in names
        assert {f"uba.{short}.{n}" for n in module.__all__} <= names
    assert {f"uba.{n}" for n in uba.__all__} <= names
    assert {"uba.UBALR.rebudget", "uba.plotting.explore", "uba.probe.ProbeResult.phi_for"} <= names
    assert not [n for n in names if n.rsplit(".", 1)[-1].startswith("_") and n != "uba.__version__"]


def test_the_subcommands_come_from_the_parser() -> None:
    assert names_module().subcommands() == ["bounds", "phi", "plot", "table"]


def test_missing_is_what_is_public_and_not_documented() -> None:
    missing = names_module().missing
    assert missing({"uba.a", "uba.b", "uba.c"}, {"uba.b", "uba.x"}) == ["uba.a", "uba.c"]
    assert missing({"uba.a"}, {"uba.a"}) == []


CONF = f"""
import sys
sys.path.insert(0, {str(EXTENSIONS)!r})
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "uba_names"]
"""


def build(source: Path, pages: dict[str, str]) -> tuple[int, str]:
    """Build a site with `pages` (name -> reST) and uba_names, warnings as
    errors; the exit status and what it printed on stderr."""
    from sphinx.cmd.build import build_main

    (source / "conf.py").write_text(CONF, encoding="utf-8")
    toctree = "\n".join(f"   {name}" for name in pages)
    (source / "index.rst").write_text(f"uba\n===\n\n.. toctree::\n\n{toctree}\n", encoding="utf-8")
    for name, text in pages.items():
        path = source / f"{name}.rst"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = build_main(
            ["-W", "--keep-going", "-q", "-b", "html", str(source), str(source / "_build")]
        )
    return status, err.getvalue()


# sphinx 9.0's napoleon uses autodoc's options the way sphinx 9 deprecates (inside sphinx)
@pytest.mark.filterwarnings("ignore:The mapping interface for autodoc options objects")
def test_a_build_without_a_public_name_or_a_subcommand_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("torch")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the site's conf.py adds docs/_ext
    status, err = build(
        tmp_path,
        {
            "api/uba": "uba\n---\n\n.. automodule:: uba\n   :members:\n",  # no uba.theory
            "api/cli": "Command line\n------------\n\nNothing here.\n",
        },
    )
    assert status != 0, err
    assert "public name uba.theory.optimal_phi is not documented" in err
    assert "public name uba.UBALR.rebudget is not documented" not in err  # it is, on api/uba
    assert "subcommand 'table' has no section on the command line page" in err
    monkeypatch.delitem(sys.modules, "uba_names", raising=False)
