"""The repository speaks of itself alone: no file refers to a file outside it
(a design note, a spec, a path on some machine), and the version is spelled
in one place, csrc/uba.h.

Runs on whatever surrounds tests/: a checkout (its tracked files) or an
unpacked sdist (every file); skipped where only a wheel's test-sources
were copied beside the tests.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import uba

from .helpers import REPO, repo_path, whole_tree

whole_tree()

THIS = Path(__file__).resolve()
SKIP_DIRS = {
    ".git",
    ".venv",
    "build",
    "dist",
    "wheelhouse",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
}
GENERATED = {"PKG-INFO"}  # the sdist's metadata, written by the build from csrc/uba.h

# Names of documents that live outside the repository, and paths of machines.
OUTSIDE = re.compile(
    r"\bSPEC\b|\bDESIGN\.md\b|torch-contract\.md|style-anchors\.md"
    r"|/work/|/root/|/home/\w|/Users/\w"
)
RELATIVE = re.compile(r"(?:\.\./)+[\w.-][\w./-]*")


def text_files() -> list[Path]:
    if (REPO / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\0")
        paths = [REPO / p for p in listed if p]
    else:
        paths = [p for p in REPO.rglob("*") if not SKIP_DIRS & set(p.relative_to(REPO).parts)]
    files = []
    for path in paths:
        if path.is_file() and path.resolve() != THIS and path.name not in GENERATED:
            try:
                path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # images, corpora
            files.append(path)
    return files


def test_no_file_refers_to_a_file_outside_the_repository() -> None:
    found = []
    for path in text_files():
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{path.relative_to(REPO)}:{number}: {line.strip()}"
            if OUTSIDE.search(line):
                found.append(where)
            for target in RELATIVE.findall(line):  # ../x must stay inside
                resolved = (path.parent / target).resolve()
                if REPO.resolve() not in resolved.parents:
                    found.append(where)
    assert not found, "\n".join(found)


def test_the_version_is_spelled_only_in_uba_h() -> None:
    # csrc/uba.h defines MAJOR, MINOR and PATCH; setup.py and the extension
    # read them.  Records (the changelog, benchmark results) may quote it.
    spelled = re.compile(rf"(?<![\d.]){re.escape(uba.__version__)}(?![\d.])")
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in text_files()
        if path.suffix != ".md"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if spelled.search(line)
    ]
    assert not found, found


def _makefile_list(name: str) -> list[str]:
    """Variable `name` of csrc/Makefile, continued lines included."""
    makefile = (REPO / "csrc" / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{name} = ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert match is not None, f"csrc/Makefile defines no {name}"
    return match.group(1).replace("\\\n", " ").split()


def test_the_core_is_pure_c_and_listed_once() -> None:
    # csrc/Makefile's CORE is the one list of the core's sources (setup.py
    # and the fuzzer build from it); the core never sees Python: only the
    # binding, csrc/python/, includes Python.h.
    csrc = REPO / "csrc"
    core = _makefile_list("CORE") + _makefile_list("CORE_HEADERS")
    on_disk = {p.name for p in csrc.glob("*.[ch]")}
    assert set(core) == on_disk, "csrc/*.c and *.h must be exactly CORE and CORE_HEADERS"
    python_h = re.compile(r"#\s*include\s*[<\"](Python|numpy/)")
    assert not [name for name in core if python_h.search((csrc / name).read_text("utf-8"))]
    binding = list((csrc / "python").glob("*.c"))
    assert [p.name for p in binding] == ["_coremodule.c"]
    assert python_h.search(binding[0].read_text("utf-8"))


def test_setup_builds_the_binding_and_the_core_list() -> None:
    # absent where the installed package is tested (test-installed removes it)
    setup = repo_path("setup.py").read_text("utf-8")
    assert '"csrc/python/_coremodule.c"' in setup and "CORE" in setup
