"""How uba ships: the extras are ranges (exact pins live in CI's constraints
file), the sdist carries everything the build and the tests need, and the
wheel workflow (.github/workflows/wheels.yml) agrees with the cibuildwheel
configuration in pyproject.toml and with what .ci/run does.

Each test reads files of the checkout (or unpacked sdist) beside tests/ and
skips, saying why, where the tests run without them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from .helpers import REPO, repo_path

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")

PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
PLATFORMS = {  # cibuildwheel platform -> the runner names that build it, the archs wanted
    "linux": ("ubuntu", {"x86_64", "aarch64"}),
    "macos": ("macos", {"x86_64", "arm64"}),
    "windows": ("windows", {"AMD64"}),
}


def pyproject() -> dict[str, Any]:
    with open(repo_path("pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def constraints() -> dict[str, str]:
    pins = {}
    for line in repo_path(".ci", "constraints.txt").read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def workflow() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    loaded: dict[str, Any] = yaml.safe_load(
        repo_path(".github", "workflows", "wheels.yml").read_text()
    )
    return loaded


# ---- metadata ------------------------------------------------------------------------


def test_extras_are_ranges_and_ci_pins_them() -> None:
    project = pyproject()["project"]
    requirements = [
        Requirement(r) for extra in project["optional-dependencies"].values() for r in extra
    ]
    exact = [str(r) for r in requirements if {s.operator for s in r.specifier} & {"==", "==="}]
    assert not exact, f"exact pins belong in .ci/constraints.txt: {exact}"
    torch = [r for r in project["optional-dependencies"]["test"] if r.startswith("torch")]
    assert torch == ["torch>=2.2"]  # never replaces a user's torch 2.2 or newer
    pins = constraints()
    assert pins["torch"] == "2.13.0"
    assert set(pins) - {"cibuildwheel"} <= {r.name.lower() for r in requirements}


def test_license_and_python_versions() -> None:
    project = pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert repo_path("LICENSE").read_text().startswith("MIT License")
    assert project["requires-python"] == f">={PYTHONS[0]}"
    listed = [
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert listed == PYTHONS
    assert project["dynamic"] == ["version"] and "version" not in project


def test_pre_commit_runs_the_ruff_ci_pins() -> None:
    config = repo_path(".pre-commit-config.yaml").read_text()
    rev = re.search(r"repo: https://github.com/astral-sh/ruff-pre-commit\n\s+rev: v(\S+)", config)
    assert rev is not None and rev.group(1) == constraints()["ruff"]
    assert "id: ruff-check" in config and "id: ruff-format" in config


# ---- the sdist -----------------------------------------------------------------------


@pytest.mark.slow  # builds the sdist
def test_the_sdist_holds_every_file_but_ci_and_git_files(tmp_path: Path) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("needs a checkout (git ls-files)")
    pytest.importorskip("build")
    pytest.importorskip("setuptools")
    if shutil.which("git") is None:
        pytest.skip("needs git")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--sdist",
            "--no-isolation",
            "-o",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (sdist,) = tmp_path.glob("uba-*.tar.gz")
    with tarfile.open(sdist) as tar:
        shipped = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    left_out = {"ci": ".ci/", "github": ".github/", "git": ".gitignore"}
    wanted = {f for f in tracked if not f.startswith(tuple(left_out.values()))}
    assert wanted <= shipped, f"missing from the sdist: {sorted(wanted - shipped)}"
    assert {"csrc/uba.h", "LICENSE", "tests/helpers.py", "docs/theory.md"} <= shipped
    assert not {f for f in shipped if f.startswith(tuple(left_out.values()))}


# ---- wheels: cibuildwheel, the workflow and .ci/run agree ------------------------------


def test_cibuildwheel_builds_every_python_on_every_platform() -> None:
    config = pyproject()["tool"]["cibuildwheel"]
    assert config["build"] == [f"cp{v.replace('.', '')}-*" for v in PYTHONS]
    for platform, (_, archs) in PLATFORMS.items():
        assert set(config[platform]["archs"]) == archs
    for source in config["test-sources"]:
        repo_path(source)  # each exists beside tests/
    assert "tests" in config["test-sources"] and "tests" in config["test-command"]


def test_the_workflow_runs_cibuildwheel_on_a_native_runner_per_arch() -> None:
    flow = workflow()
    config = pyproject()["tool"]["cibuildwheel"]
    job = flow["jobs"]["wheels"]
    built: dict[str, set[str]] = {platform: set() for platform in PLATFORMS}
    for entry in job["strategy"]["matrix"]["include"]:
        platform = next(p for p, (runner, _) in PLATFORMS.items() if entry["os"].startswith(runner))
        built[platform].add(entry["archs"])
    assert built == {p: set(config[p]["archs"]) for p in PLATFORMS}
    step = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pypa/cibuildwheel@"))
    assert step["env"]["CIBW_ARCHS"] == "${{ matrix.archs }}"
    assert step["uses"] == f"pypa/cibuildwheel@v{constraints()['cibuildwheel']}"


def test_the_sdist_job_tests_the_sdist_as_ci_does() -> None:
    runs = [s.get("run", "") for s in workflow()["jobs"]["sdist"]["steps"]]
    assert "python -m build --sdist" in runs
    assert ".ci/test-installed dist/uba-*.tar.gz" in runs


def test_ci_has_a_section_for_each_build_users_install() -> None:
    """.ci/run's sections, as it lists them (each section can run alone)."""
    run = repo_path(".ci", "run")
    listed = subprocess.run(
        ["bash", str(run), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"sdist", "wheel", "c-aarch64", "sanitized-suite", "torch-versions"} <= set(listed)
    unknown = subprocess.run(["bash", str(run), "no-such-section"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown section no-such-section" in unknown.stderr


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_cibuildwheel_lists_the_builds(platform: str) -> None:
    if shutil.which("cibuildwheel") is None:
        pytest.skip("cibuildwheel is not installed")
    proc = subprocess.run(
        [
            "cibuildwheel",
            "--print-build-identifiers",
            "--platform",
            platform,
            str(repo_path("pyproject.toml").parent),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    got = set(proc.stdout.split())
    tags = {
        "linux": [
            f"{libc}_{arch}"
            for libc in ("manylinux", "musllinux")
            for arch in ("x86_64", "aarch64")
        ],
        "macos": ["macosx_x86_64", "macosx_arm64"],
        "windows": ["win_amd64"],
    }[platform]
    want = {f"cp{v.replace('.', '')}-{tag}" for v in PYTHONS for tag in tags}
    assert got == want
