"""Sphinx extension: the build fails when a public name has no documentation.

The public names are ``uba.__all__``, the ``__all__`` of each public module
of uba (:mod:`uba.theory`, :mod:`uba.peers`, :mod:`uba.plotting`,
:mod:`uba.probe`), and the public methods and properties each public class
defines itself; the command line's subcommands must each have a section on
the command line page.  After every page is read, the names the Python
domain holds are compared with them, and each one missing is a warning (an
error under ``-W``, which ``make docs`` passes).  The API pages document
whole modules (``automodule`` with ``:members:``), so a new name in an
``__all__`` with a docstring appears without an edit here.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import types
from collections.abc import Iterable
from typing import Any

#: The page that documents the command line (docs/api/cli.rst).
CLI_PAGE = "api/cli"


def _class_members(qualname: str, cls: type) -> set[str]:
    """The public methods and properties ``cls`` defines itself (those it
    inherits are documented where they are defined)."""
    names = set()
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if inspect.isfunction(value) or isinstance(value, (property, classmethod, staticmethod)):
            names.add(f"{qualname}.{name}")
    return names


def public_names() -> set[str]:
    """Every public name of uba, fully qualified: ``uba.X`` for ``X`` in
    ``uba.__all__``, ``uba.M.Y`` for ``Y`` in the ``__all__`` of each
    public module ``uba.M``, and the public methods of the public classes."""
    uba = importlib.import_module("uba")
    names: set[str] = set()

    def add(qualname: str, value: Any) -> None:
        names.add(qualname)
        if inspect.isclass(value):
            names.update(_class_members(qualname, value))

    for name in uba.__all__:
        value = getattr(uba, name)
        add(f"uba.{name}", value)
        if isinstance(value, types.ModuleType):
            for member in value.__all__:
                add(f"uba.{name}.{member}", getattr(value, member))
    return names


def subcommands() -> list[str]:
    """The command line's subcommands, from its parser."""
    from uba.__main__ import build_parser

    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(name for action in actions for name in action.choices)


def missing(public: Iterable[str], documented: Iterable[str]) -> list[str]:
    """The public names that are not documented, sorted."""
    return sorted(set(public) - set(documented))


# ---- the Sphinx side ---------------------------------------------------------------------


def _check_names(app: Any, env: Any) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    documented = set(env.get_domain("py").objects)
    for name in missing(public_names(), documented):
        logger.warning("public name %s is not documented on any API page", name)
    if CLI_PAGE not in env.found_docs:
        logger.warning("the command line page %s is missing", CLI_PAGE)


def _check_cli(app: Any, doctree: Any, docname: str) -> None:
    if docname != CLI_PAGE:
        return
    from docutils import nodes
    from sphinx.util import logging

    titles = {node.astext().strip() for node in doctree.findall(nodes.title)}
    for name in subcommands():
        if name not in titles:
            logging.getLogger(__name__).warning(
                "subcommand %r has no section on the command line page", name, location=docname
            )


def setup(app: Any) -> dict[str, Any]:
    app.connect("env-check-consistency", _check_names)
    app.connect("doctree-read", lambda app, doctree: _check_cli(app, doctree, app.env.docname))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
