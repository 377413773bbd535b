"""The command line never shows a traceback: every failure is one line on
stderr and exit status 2, run as a user runs it (a real child process).

Huge budgets, a request larger than memory, an output path that cannot be
written, negative or inverted learning-rate ranges; a closed pipe and an
interrupt end quietly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import child_env, sigint_at_default

MISSING_DIR = "no-such-folder/out.png"
POSIX = os.name == "posix"


def where_sized(request: str) -> list[str]:
    """The request in the message, where the system reports its memory size
    (elsewhere the message is numpy's MemoryError, which says the size)."""
    return [request] if hasattr(os, "sysconf") else []


def uba_cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uba", *argv],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=cwd,
        timeout=120,
    )


def assert_one_line_exit_2(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("python -m uba") and ": error: " in lines[0]  # as it was run
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        # a huge budget on the main job and on every subcommand that takes one
        (["-T", str(10**20)], ["-T/--budget", "[1, 2**53]", str(10**20)]),
        (["-T", "1e20"], ["-T/--budget", "[1, 2**53]", "1e20"]),
        (["-T", str(2**53 + 1)], ["-T/--budget", "[1, 2**53]", str(2**53 + 1)]),
        (["table", "-T", str(2**53 + 1)], ["-T/--budget", str(2**53 + 1)]),
        (["plot", "-T", str(10**30)], ["-T/--budget"]),
        (["phi", "--spectrum", "1", "10", "-T", str(2**53 + 1)], ["-T/--budget"]),
        (["bounds", "-T", str(2**53 + 1)], ["-T/--budget"]),
        (["bounds", "--plot", "b.png", "--budgets", "10", str(2**60)], ["--budgets"]),
        # requests too large for memory
        (["bounds", "-T", str(10**12)], ["memory", *where_sized("-T 1000000000000")]),
        (["bounds", "-T", str(2**53)], ["memory", *where_sized("-T 9007199254740992")]),
        # negative or inverted learning-rate ranges
        (["table", "--eta-max", "-1"], ["--eta-max", "> 0", "-1"]),
        (["table", "--eta-min", "-0.1"], ["--eta-min", ">= 0", "-0.1"]),
        (
            ["table", "--eta-max", "0.1", "--eta-min", "0.5"],
            ["--eta-min", "--eta-max", "0.5 > 0.1"],
        ),
        (["plot", "--eta-max", "0.1", "--eta-min", "0.5", "-o", "p.png"], ["0.5 > 0.1"]),
        (["bounds", "--eta-max", "0.1", "--eta-min", "0.5"], ["0.5 > 0.1"]),
        (["bounds", "--eta-min", "2"], ["--eta-min", "2 > 1"]),  # above the default 1/L
        # above the default peak, 1/LAM_MAX
        (["phi", "--spectrum", "1", "10", "-T", "10", "--eta-min", "5"], ["5 > 0.1"]),
        (["phi", "--spectrum", "1", "10", "-T", "10", "--eta-max", "-2"], ["--eta-max", "> 0"]),
    ],
)
def test_failures_are_one_line_and_exit_2(
    argv: list[str], needles: list[str], tmp_path: Path
) -> None:
    assert_one_line_exit_2(uba_cli(*argv, cwd=tmp_path), *needles)


@pytest.mark.parametrize(
    "argv",
    [
        ["-T", "100", "--plot", MISSING_DIR],
        ["plot", "-T", "100", "-o", MISSING_DIR],
        ["phi", "--kappa", "10", "--plot", MISSING_DIR],
        ["bounds", "-T", "100", "--plot", MISSING_DIR, "--budgets", "10", "20"],
    ],
)
def test_an_unwritable_output_path_is_one_line_and_exit_2(argv: list[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    proc = uba_cli(*argv, cwd=tmp_path)
    assert_one_line_exit_2(proc, f"cannot write {MISSING_DIR}", "No such file or directory")
    assert not (tmp_path / "no-such-folder").exists()


def test_an_output_path_under_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "taken").write_text("a file, not a folder")
    proc = uba_cli("plot", "-o", "taken/p.png", cwd=tmp_path)
    assert_one_line_exit_2(proc, "cannot write taken/p.png", *(["Not a directory"] * POSIX))


def test_an_unknown_image_format_is_one_line_and_exit_2(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    assert_one_line_exit_2(uba_cli("plot", "-o", "p.notaformat", cwd=tmp_path), "notaformat")


@pytest.mark.skipif(not POSIX, reason="a closed pipe is a different error on Windows")
def test_a_closed_pipe_ends_quietly() -> None:
    # `python -m uba table --rows 100000 | head -1`: the reader leaves early
    proc = subprocess.Popen(
        [sys.executable, "-m", "uba", "table", "-T", "100000", "--rows", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    with proc.stdout, proc.stderr:
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert first.startswith(b"learning rate, budget T = 100000")
    assert err == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["table"], ["table", "-T", "100000", "--rows", "100000"]])
def test_a_full_disk_on_stdout_is_one_line(argv: list[str]) -> None:
    # python -m uba table > file, on a full disk: once at exit, once mid-table
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "uba", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            timeout=120,
        )
    assert proc.returncode == 1
    assert proc.stderr == "python -m uba table: error: No space left on device\n"


@pytest.mark.skipif(not POSIX, reason="SIGINT to a child process needs POSIX")
def test_an_interrupt_ends_quietly() -> None:
    # The main job prints its title, then formats a table of 3 million rows
    # (seconds): the interrupt arrives inside main().
    proc = subprocess.Popen(
        [sys.executable, "-m", "uba", "--rows", "3000000", "--no-plot"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**child_env(), "PYTHONUNBUFFERED": "1"},
        preexec_fn=sigint_at_default,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("UBA schedule g(t)")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "the table of 3 million rows was done before the interrupt"

    assert err == "interrupted\n"
