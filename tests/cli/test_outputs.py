"""What the command line writes: exactly the path named, whole or not at all.

In this process where nothing else is at stake, in child processes for
Ctrl-C, a missing matplotlib and warnings made errors.  An error, a full disk or
Ctrl-C while an image is being written leaves the old file byte for byte,
with no temporary beside it; a path without an image extension, or one that
is a folder, is refused before any work.  Without matplotlib, the commands
that must draw refuse in one line and the main job prints its table.  Ctrl-C
lands within a fraction of a second in the longest NumPy work.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from uba.__main__ import main

from ..helpers import child_env, sigint_at_default

POSIX = os.name == "posix"
OLD = b"an image the user keeps\n"
PNG = b"\x89PNG\r\n\x1a\n"

#: Every command that writes an image, writing it to out.png.
WRITERS = [
    ["-T", "100", "--plot", "out.png"],
    ["plot", "-T", "100", "-o", "out.png"],
    ["phi", "--kappa", "10", "--plot", "out.png"],
    ["bounds", "-T", "100", "--plot", "out.png", "--budgets", "10", "20"],
]

# A child that runs the command line with matplotlib's savefig replaced: it
# writes part of an image (to the file or path it is given), says so on
# stdout and waits for the parent's Ctrl-C.
CHILD = r"""
import os, sys, time
import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure

def savefig(self, fname, **kwargs):
    if isinstance(fname, (str, os.PathLike)):
        fname = open(fname, "wb")
    fname.write(b"\x89PNG\r\n\x1a\n half an image")
    fname.flush()
    print("writing", flush=True)
    time.sleep(60)

Figure.savefig = savefig
from uba.__main__ import main
sys.exit(main(sys.argv[1:]))
"""

# A child without matplotlib: importing it fails as in an install without it.
NO_MATPLOTLIB = (
    "import sys; sys.modules['matplotlib'] = None\n"
    "from uba.__main__ import main\n"
    "sys.exit(main(sys.argv[1:]))"
)


def run(
    *argv: str, cwd: Path, python: tuple[str, ...] = ("-m", "uba")
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python, *argv],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=cwd,
        timeout=120,
    )


def run_here(
    argv: list[str], folder: Path, capsys: pytest.CaptureFixture[str]
) -> subprocess.CompletedProcess[str]:
    """main(argv) in this process, in `folder`, as a finished process."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, out, err)


def one_line_exit_2(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert ": error: " in lines[0]
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def folder_holds(folder: Path, *names: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# ---- whole or not at all --------------------------------------------------------


@pytest.mark.parametrize("argv", WRITERS)
def test_a_full_disk_while_writing_keeps_the_old_image(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    def savefig(self: Figure, fname: Any, **kwargs: Any) -> None:
        if isinstance(fname, (str, os.PathLike)):  # (matplotlib opens a path itself)
            fname = open(fname, "wb")
        fname.write(PNG + b" half an image")
        fname.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Figure, "savefig", savefig)
    (tmp_path / "out.png").write_bytes(OLD)
    one_line_exit_2(run_here(argv, tmp_path, capsys), "cannot write out.png: No space left")
    assert (tmp_path / "out.png").read_bytes() == OLD
    folder_holds(tmp_path, "out.png")


@pytest.mark.skipif(not POSIX, reason="SIGINT to a child process needs POSIX")
@pytest.mark.parametrize("argv", [WRITERS[0], WRITERS[3]])
def test_ctrl_c_while_writing_keeps_the_old_image(argv: list[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "out.png").write_bytes(OLD)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**child_env(), "FAIL": "sigint", "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        preexec_fn=sigint_at_default,
    )
    assert proc.stdout is not None
    while (line := proc.stdout.readline()) not in ("writing\n", ""):
        pass
    assert line == "writing\n", proc.communicate(timeout=120)[1]
    proc.send_signal(signal.SIGINT)  # half an image is written by now
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err == "interrupted\n", err
    assert (tmp_path / "out.png").read_bytes() == OLD
    folder_holds(tmp_path, "out.png")


@pytest.mark.parametrize("argv", WRITERS)
def test_an_image_replaces_the_old_one_and_says_where(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "out.png").write_bytes(OLD)
    if POSIX:
        (tmp_path / "out.png").chmod(0o640)
    proc = run_here(argv, tmp_path, capsys)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "wrote out.png"
    assert (tmp_path / "out.png").read_bytes()[:8] == PNG
    if POSIX:
        assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o640
    folder_holds(tmp_path, "out.png")


# ---- exactly the path named -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "magic"),
    [("out.PNG", PNG), ("out.pdf", b"%PDF"), ("out.svg", b"<?xml"), ("out.jpeg", b"\xff\xd8")],
)
def test_the_extension_names_the_format_and_the_path_is_kept(
    name: str, magic: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    proc = run_here(["plot", "-T", "50", "--dpi", "30", "-o", name], tmp_path, capsys)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"wrote {name}\n"
    assert (tmp_path / name).read_bytes().startswith(magic)
    folder_holds(tmp_path, name)


@pytest.mark.parametrize("argv", WRITERS)
def test_a_path_without_an_image_extension_is_refused_before_any_work(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # matplotlib would write report.png, a file the user did not name
    pytest.importorskip("matplotlib")
    argv = ["report" if a == "out.png" else a for a in argv]
    (tmp_path / "report.png").write_bytes(OLD)
    proc = run_here(argv, tmp_path, capsys)
    one_line_exit_2(proc, "'report' has no extension: name an image ending in", ".png", ".pdf")
    assert proc.stdout == ""  # refused before the table or the answer
    assert (tmp_path / "report.png").read_bytes() == OLD
    folder_holds(tmp_path, "report.png")


@pytest.mark.parametrize("argv", WRITERS)
def test_a_folder_named_as_the_image_is_refused_and_left_alone(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "out.png").mkdir()
    (tmp_path / "out.png" / "keep").write_bytes(OLD)
    proc = run_here(argv, tmp_path, capsys)
    one_line_exit_2(proc, "cannot write out.png: Is a directory")
    assert proc.stdout == ""
    folder_holds(tmp_path, "out.png")
    folder_holds(tmp_path / "out.png", "keep")


@pytest.mark.parametrize("name", [".", "..", "/", "x.notaformat", "x."])
def test_names_that_are_no_image_are_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    one_line_exit_2(run_here(["plot", "-o", name], tmp_path, capsys), repr(name))
    folder_holds(tmp_path)


@pytest.mark.skipif(shutil.which("xelatex") is not None, reason="LaTeX is installed here")
def test_a_format_whose_tools_are_missing_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    proc = run_here(["plot", "-T", "50", "-o", "p.pgf"], tmp_path, capsys)
    one_line_exit_2(proc, "cannot write p.pgf")
    folder_holds(tmp_path)


# ---- without matplotlib, and with warnings as errors ------------------------------------


def test_the_main_job_prints_its_table_without_matplotlib(tmp_path: Path) -> None:
    proc = run("-T", "100", python=("-c", NO_MATPLOTLIB), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("UBA schedule g(t), budget T = 100")
    assert len(proc.stdout.splitlines()) == 13  # the title, the header and 11 rows
    assert proc.stderr == "matplotlib is not installed: no plot (pip install 'uba[plot]')\n"
    folder_holds(tmp_path)


@pytest.mark.parametrize("argv", WRITERS[1:])
def test_commands_that_draw_refuse_without_matplotlib(argv: list[str], tmp_path: Path) -> None:
    proc = run(*argv, python=("-c", NO_MATPLOTLIB), cwd=tmp_path)
    one_line_exit_2(proc, "matplotlib is not installed: pip install 'uba[plot]'")
    assert proc.stdout == ""
    folder_holds(tmp_path)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["plot", "--phi", "--peers"], "nothing to show"),
        (["plot", "--dpi", "1000000000"], "--dpi: must be an integer in [1, 1200]"),
        (["bounds", "--phi", "--peers", "--plot", "b.png", "--budgets", "10"], "nothing to show"),
        (["plot", "--eta-max", "1e308", "-o", "e.png"], "RuntimeWarning: overflow"),
    ],
)
def test_warnings_as_errors_still_give_one_line(
    argv: list[str], needle: str, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    one_line_exit_2(run(*argv, python=("-W", "error", "-m", "uba"), cwd=tmp_path), needle)
    folder_holds(tmp_path)


# ---- more rows than steps ------------------------------------------------------------


@pytest.mark.parametrize("argv", [["table", "--rows", "1e12"], ["--rows", "1e12", "--no-plot"]])
def test_more_rows_than_steps_gives_every_step_once(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 10**12 rows over T = 1000 are the steps 0..1000, each once: no array of
    # 10**12 is built (the command once refused this for lack of memory)
    proc = run_here(argv, tmp_path, capsys)
    assert proc.returncode == 0, proc.stderr
    steps = [
        int(line.split()[0]) for line in proc.stdout.splitlines() if line[:9].strip().isdigit()
    ]
    assert steps == list(range(1001))


# ---- Ctrl-C in the longest NumPy work ---------------------------------------------------


def interrupt_delay(argv: list[str], tmp_path: Path, ready: float) -> float:
    """Seconds from Ctrl-C to "interrupted" for `argv`, interrupted once it
    has run `ready` seconds past its first output (the table, which precedes
    the long work of the table itself and of bounds' plot), or past its start
    where it prints nothing before the long work."""
    out = tmp_path / "stdout"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uba", *argv],
            stdout=sink,
            stderr=subprocess.PIPE,
            env={**child_env(), "PYTHONUNBUFFERED": "1"},
            cwd=tmp_path,
            preexec_fn=sigint_at_default,
        )
        assert proc.stderr is not None
        try:
            deadline = time.monotonic() + 60
            wait = argv[0] == "table" or "--plot" in argv
            while wait and out.stat().st_size == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(ready)
            assert proc.poll() is None, "done before the interrupt"
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            line = proc.stderr.readline()
            delay = time.monotonic() - sent
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
    assert line == b"interrupted\n", line
    assert proc.returncode == 130
    return delay


@pytest.mark.skipif(not POSIX, reason="SIGINT to a child process needs POSIX")
@pytest.mark.parametrize(
    ("argv", "ready"),
    [
        (["table", "-T", "1e9", "--rows", "1e9"], 1.0),  # a billion rows, streamed
        # the other long paths in the full tier (each waits seconds for its work)
        pytest.param(["bounds", "-T", "5e7", "--phi"], 1.5, marks=pytest.mark.slow),
        pytest.param(
            ["bounds", "--phi", "--plot", "b.png", "--budgets", "5e7", "5e7", "5e7"],
            1.0,
            marks=pytest.mark.slow,
        ),
    ],
)
def test_ctrl_c_lands_promptly_in_long_numpy_work(
    argv: list[str], ready: float, tmp_path: Path
) -> None:
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    # Whole slices of NumPy work run between Python's signal checks: each
    # takes well under a millisecond.  The bound here is generous (a loaded
    # machine); the command once took seconds (a whole array per call).
    assert interrupt_delay(argv, tmp_path, ready) < 1.0
