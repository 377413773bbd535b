"""The README's and the user guide's examples work as a user pastes them.

* Every ```python block runs on its own, in a fresh interpreter started in an
  empty folder, with UserWarning and FutureWarning as errors (a block that
  uses Lightning, transformers or Accelerate allows their own warnings).  A block that needs
  an optional package skips, naming it, where that package is absent.
* Every ```python block of ``>>>`` lines passes as a doctest.
* Every shell line is copyable as written (no ``$`` prompt, no ``[...]``
  optional-argument notation), and each ``python -m uba ...`` or ``uba ...``
  command in it is accepted by the command line's parser and runs.
* Every link to the documentation site names a page the site has, and every
  link into the repository names a file that exists.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import importlib.util
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from uba.__main__ import build_parser, main

from .helpers import REPO, child_env, whole_tree

#: The documents whose examples are checked, relative to the repository.
DOCUMENTS = ("README.md", "docs/guide.md")

SITE = "https://uba-dev.github.io/uba/"
RAW = "https://raw.githubusercontent.com/uba-dev/uba/main/"
SOURCE = "https://github.com/uba-dev/uba/blob/main/"

#: Packages whose own warnings a block that uses them may show.
FRAMEWORKS = {"lightning", "transformers", "accelerate"}

#: What a block needs besides its imports: uba's lazily imported extras.
USES = {"uba.plotting": ("matplotlib",), "explore(": ("ipywidgets", "matplotlib")}

SHELL = {"sh", "bash", "shell", "console"}


class Block(NamedTuple):
    document: str
    line: int  # of the opening fence, 1-based
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"


def blocks(document: str) -> list[Block]:
    """The fenced code blocks of a Markdown file."""
    path = REPO / document
    if not path.exists():
        return []
    found, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = re.fullmatch(r"```(\S*)\s*", lines[i])
        if opening is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        found.append(Block(document, i + 1, opening.group(1), "\n".join(lines[i + 1 : end]) + "\n"))
        i = end + 1
    return found


ALL = [block for document in DOCUMENTS for block in blocks(document)]
PYTHON = [b for b in ALL if b.language == "python" and not b.code.lstrip().startswith(">>>")]
DOCTESTS = [b for b in ALL if b.language == "python" and b.code.lstrip().startswith(">>>")]
SHELL_BLOCKS = [b for b in ALL if b.language in SHELL]


def test_the_documents_have_examples() -> None:
    if not (REPO / "README.md").exists():
        pytest.skip("README.md is not beside the tests here")
    readme = [b for b in ALL if b.document == "README.md"]
    assert [b for b in readme if b in PYTHON] and [b for b in readme if b in DOCTESTS]
    assert [b for b in readme if b in SHELL_BLOCKS]
    # a block in another language would escape these tests
    assert {b.language for b in ALL} <= {"python", "diff", "text", *SHELL}


# ---- ```python blocks: each one on its own -------------------------------------------------


def imported(code: str) -> set[str]:
    """The top-level packages a block imports."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def tiered(block: Block) -> object:
    """The README's blocks run in the quick tier; the guide's (whole training
    runs with the frameworks, torch.compile) in the full tier."""
    return block if block.document == "README.md" else pytest.param(block, marks=pytest.mark.slow)


@pytest.mark.parametrize("block", [tiered(b) for b in PYTHON], ids=[b.id for b in PYTHON])
def test_each_python_block_runs_as_pasted(block: Block, tmp_path: Path) -> None:
    packages = imported(block.code)
    needs = set(packages)
    for marker, extra in USES.items():
        if marker in block.code:
            needs.update(extra)
    missing = sorted(p for p in needs if importlib.util.find_spec(p) is None)
    if missing:
        pytest.skip(f"{block.id} needs {', '.join(missing)}")
    script = tmp_path / "block.py"
    script.write_text(block.code, encoding="utf-8")
    # a warning about how the block uses torch or uba is an error (calling
    # scheduler.step() before optimizer.step(), a deprecated argument);
    # DeprecationWarnings from inside libraries are not about the block
    warnings = (
        [] if packages & FRAMEWORKS else ["-W", "error::UserWarning", "-W", "error::FutureWarning"]
    )
    env = child_env()
    env.update(MPLBACKEND="Agg", TRANSFORMERS_VERBOSITY="error", WANDB_DISABLED="true")
    run = subprocess.run(
        [sys.executable, *warnings, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"{block.id} failed:\n{block.code}\n{run.stderr[-3000:]}"


@pytest.mark.parametrize("block", DOCTESTS, ids=[b.id for b in DOCTESTS])
def test_each_doctest_block_passes(block: Block) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, {}, block.id, block.document, block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    result = runner.run(test, out=report.write)
    assert result.attempted > 0
    assert result.failed == 0, report.getvalue()


# ---- shell lines -----------------------------------------------------------------------------


def shell_lines() -> list[tuple[str, str]]:
    return [
        (f"{b.id}+{n}", line)
        for b in SHELL_BLOCKS
        for n, line in enumerate(b.code.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def uba_commands(line: str) -> list[list[str]]:
    """The argument lists of the uba commands in a shell line."""
    commands = []
    for part in line.split("&&"):
        words = shlex.split(part, comments=True)
        if words[:3] == ["python", "-m", "uba"]:
            commands.append(words[3:])
        elif words[:1] == ["uba"]:
            commands.append(words[1:])
    return commands


@pytest.mark.parametrize(("where", "line"), shell_lines(), ids=[w for w, _ in shell_lines()])
def test_each_shell_line_is_copyable(where: str, line: str) -> None:
    assert not line.lstrip().startswith(("$", ">")), f"{where}: a prompt: {line}"
    words = shlex.split(line, comments=True)
    optional = [w for w in words if w.startswith("[") or (w.endswith("]") and "[" not in w)]
    assert not optional, f"{where}: [...] is not an argument: {line}"


COMMANDS = [
    (where, argv) for where, line in shell_lines() for argv in uba_commands(line)
]  # fmt: skip


def test_the_readme_has_commands() -> None:
    if not (REPO / "README.md").exists():
        pytest.skip("README.md is not beside the tests here")
    assert len([w for w, _ in COMMANDS if w.startswith("README.md")]) >= 3


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_each_uba_command_parses_and_runs(
    where: str, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as exc:  # argparse refused it
        pytest.fail(f"{where}: {shlex.join(argv)} is refused by the parser (exit {exc.code})")
    plots = "plot" in argv or any(a.endswith(".png") for a in argv) or not argv
    if plots and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("it draws a plot: needs matplotlib")
    monkeypatch.chdir(tmp_path)  # where its files go
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert status == 0, f"{where}: {shlex.join(argv)} exited {status}: {err.getvalue()}"
    assert out.getvalue()


# ---- links -------------------------------------------------------------------------------------


def site_page(url: str) -> Path | None:
    """The source of a page of the site, or None."""
    page = url[len(SITE) :].split("#")[0] or "index.html"
    stem = page.removesuffix(".html").removesuffix("/")
    if stem == "notebooks/explore":
        return REPO / "examples" / "explore.ipynb"
    for suffix in (".md", ".rst"):
        source = REPO / "docs" / f"{stem}{suffix}"
        if source.exists():
            return source
    return None


def links(document: str) -> list[str]:
    text = (REPO / document).read_text(encoding="utf-8")
    return re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"<(https?://[^>]+)>", text)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_links_name_pages_and_files_that_exist(document: str) -> None:
    whole_tree()  # the links name files anywhere in the project
    for target in links(document):
        if target.startswith(SITE):
            assert site_page(target) is not None, f"{document}: no page for {target}"
        elif target.startswith((RAW, SOURCE)):
            path = target.removeprefix(RAW).removeprefix(SOURCE).split("#")[0]
            assert (REPO / path).exists(), f"{document}: {target} names no file"
        elif not target.startswith(("http://", "https://", "mailto:", "#")):
            path = (REPO / document).parent / target.split("#")[0]
            assert path.exists(), f"{document}: {target} names no file"
