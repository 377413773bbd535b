"""Sphinx configuration of the uba site: ``make docs`` builds it into docs/_build/html.

The pages are the Markdown files of this folder (MyST), the API reference
(autodoc with napoleon, from the docstrings), the command line (from its
argparse parser) and examples/explore.ipynb (MyST-NB; the notebook is kept
without outputs, so the build runs it, about a minute).  The build checks
that every public name is documented (docs/_ext/uba_names.py).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import uba  # noqa: E402

project = "uba"
author = "the uba authors"
copyright = "the uba authors, MIT License"
release = version = uba.__version__

#: The site and the repository (also in pyproject.toml's [project.urls]).
SITE = "https://uba-dev.github.io/uba/"
REPOSITORY = "https://github.com/uba-dev/uba"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",
    "myst_nb",  # MyST Markdown pages and notebooks
    "uba_names",  # every public name documented, or the build fails
]

exclude_patterns = ["_build", "_ext", "**.ipynb_checkpoints"]
suppress_warnings: list[str] = []

# ---- the notebook: a copy of examples/explore.ipynb, run at build time -------------
# (a source must lie inside this folder; the copy is git-ignored)
NOTEBOOKS = DOCS / "notebooks"
NOTEBOOKS.mkdir(exist_ok=True)
_notebook = ROOT / "examples" / "explore.ipynb"
_copy = NOTEBOOKS / "explore.ipynb"
if not _copy.exists() or _copy.read_bytes() != _notebook.read_bytes():
    shutil.copyfile(_notebook, _copy)

nb_execution_mode = "auto"  # run notebooks that have no outputs: examples/explore.ipynb
nb_execution_timeout = 600
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_in_temp = True  # the notebook writes nothing here
nb_merge_streams = True

# ---- MyST -------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links

# ---- autodoc and napoleon (Google-style sections) ---------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "class"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# ---- intersphinx: links into Python's, NumPy's and torch's docs ----------------------------
# The inventories are fetched from the network at build time; offline (CI
# here reaches PyPI only) a failed fetch would be a warning, an error under
# -W.  So they are used only when UBA_DOCS_INTERSPHINX=1 (the GitHub Pages
# job sets it).
intersphinx_mapping = (
    {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
    }
    if os.environ.get("UBA_DOCS_INTERSPHINX") == "1"
    else {}
)

# ---- HTML -------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"uba {release}"
html_static_path: list[str] = []
html_theme_options = {
    "source_repository": REPOSITORY,
    "source_branch": "main",
    "source_directory": "docs/",
}
html_baseurl = SITE


# ---- small fixes to what autodoc writes -------------------------------------------------


def _drop_namedtuple_aliases(app, what, name, obj, options, lines):  # type: ignore[no-untyped-def]
    """A NamedTuple field without a docstring of its own gets Python's
    "Alias for field number N": say nothing rather than that."""
    if len(lines) == 1 and lines[0].startswith("Alias for field number"):
        lines.clear()


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("autodoc-process-docstring", _drop_namedtuple_aliases)
