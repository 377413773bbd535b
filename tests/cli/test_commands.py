"""python -m uba's subcommands: table, plot, phi, bounds; --help everywhere;
exit status 2 and one line on stderr for bad arguments.

(The no-argument main job is checked in test_cli.py.)  The theory
subcommands' answers are checked against uba.theory called directly.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import uba
from uba import peers, theory
from uba.__main__ import main, table_steps

from ..helpers import child_env

PNG = b"\x89PNG\r\n\x1a\n"


def rows_of(text: str) -> tuple[list[str], np.ndarray]:
    """The header and the numeric rows of a text table."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["t"])
    header = lines[start].split()
    body = [ln.split() for ln in lines[start + 1 :] if ln.strip()]
    return header, np.array([[float(x) for x in row] for row in body])


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


# ---- table ------------------------------------------------------------------------


def test_table_defaults_to_the_main_jobs_table(capsys) -> None:
    code, out, _ = run_main(["table"], capsys)
    assert code == 0
    _, job, _ = run_main(["--no-plot"], capsys)
    assert out.splitlines()[0] == "learning rate, budget T = 1000, eta_max = 1, eta_min = 0"
    assert out.splitlines()[1:] == job.splitlines()[1:]


def test_table_with_peers_gives_their_values(capsys) -> None:
    argv = [
        "table",
        "-T",
        "200",
        "--rows",
        "9",
        "--phi",
        "0.7",
        "3",
        "--peers",
        "wsd",
        "rex",
        "linear",
        "step",
        "--eta-max",
        "0.5",
        "--eta-min",
        "0.05",
    ]
    code, out, _ = run_main(argv, capsys)
    assert code == 0
    header, rows = rows_of(out)
    assert header == ["t", "phi=0.7", "phi=3", "wsd", "rex", "linear", "step"]
    t = rows[:, 0]
    np.testing.assert_array_equal(t, np.arange(0, 201, 25))
    want = [uba.schedule(t, 200, 0.7, 0.5, 0.05), uba.schedule(t, 200, 3.0, 0.5, 0.05)]
    want += [peers.evaluate(n, t, 200, 0.5, 0.05) for n in ("wsd", "rex", "linear", "step")]
    np.testing.assert_allclose(rows[:, 1:], np.array(want).T, atol=5e-7)


def test_table_switches_to_exponent_notation_for_small_rates(capsys) -> None:
    code, out, _ = run_main(
        [
            "table",
            "--eta-max",
            "3e-4",
            "--phi",
            "1",
            "--peers",
            "onecycle",
            "inverse_sqrt",
            "--rows",
            "5",
        ],
        capsys,
    )
    assert code == 0
    _, rows = rows_of(out)
    t = rows[:, 0]
    np.testing.assert_allclose(rows[:, 1], uba.schedule(t, 1000, 1.0, 3e-4), rtol=1e-6, atol=1e-18)
    np.testing.assert_allclose(rows[:, 2], peers.onecycle(t, 1000, 3e-4), rtol=1e-6)
    np.testing.assert_allclose(rows[:, 3], peers.inverse_sqrt(t, 1000, 3e-4), rtol=1e-6)


def test_table_csv_has_full_precision(capsys) -> None:
    code, out, _ = run_main(
        ["table", "-T", "10", "--rows", "3", "--format", "csv", "--peers", "cosine", "polynomial"],
        capsys,
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "t,phi=0.5,phi=1,phi=2,phi=4,cosine,polynomial"
    data = np.array([[float(x) for x in ln.split(",")] for ln in lines[1:]])
    t = data[:, 0]
    np.testing.assert_array_equal(t, [0, 5, 10])
    for col, phi in enumerate([0.5, 1.0, 2.0, 4.0], start=1):
        np.testing.assert_array_equal(data[:, col], uba.schedule(t, 10, phi))
    np.testing.assert_array_equal(data[:, 5], peers.cosine(t, 10))
    np.testing.assert_array_equal(data[:, 6], peers.polynomial(t, 10))


# ---- plot ---------------------------------------------------------------------------


def test_plot_writes_a_png_of_the_chosen_schedules(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "peers.png"
    code, out, _ = run_main(
        [
            "plot",
            "-T",
            "300",
            "--phi",
            "1",
            "--peers",
            "wsd",
            "rex",
            "-o",
            str(path),
            "--dpi",
            "50",
        ],
        capsys,
    )
    assert code == 0
    assert out.strip() == f"wrote {path}"
    assert path.read_bytes()[:8] == PNG


# ---- --help and bad arguments, everywhere ---------------------------------------------


@pytest.mark.parametrize("command", [[], ["table"], ["plot"], ["phi"], ["bounds"]])
def test_help_everywhere(command: list[str], capsys) -> None:
    code, out, _ = run_main([*command, "--help"], capsys)
    assert code == 0
    assert out.startswith(f"usage: {' '.join(['uba', *command])}")  # main(): the `uba` command


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        (["table", "-T", "0"], "argument -T/--budget: must be an integer in [1, 2**53], got 0"),
        (["table", "--phi", "-1"], "argument --phi: must be a finite number > 0, got -1"),
        (["table", "--peers", "cos"], "argument --peers: unknown peer 'cos'"),
        (["table", "--eta-max", "inf"], "argument --eta-max: must be a finite number > 0, got inf"),
        (["table", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["table", "--rows", "x"], "argument --rows: expected an integer, got 'x'"),
        (["table", "--eta-min", "0.1", "--peers", "onecycle"], "peer 'onecycle' has no eta_min"),
        (["table", "--extra"], "unrecognized arguments: --extra"),
        (["plot", "--dpi", "0"], "argument --dpi: must be an integer in [1, 1200], got 0"),
        (["plot", "--dpi", "1e9"], "argument --dpi: must be an integer in [1, 1200], got 1e9"),
        (["plot", "--dpi", "1201"], "argument --dpi: must be an integer in [1, 1200], got 1201"),
        # an empty selection: nothing to show, in every command that shows schedules
        (["plot", "--phi", "--peers"], "--phi and --peers are both empty: nothing to show"),
        (["table", "--phi", "--peers"], "--phi and --peers are both empty: nothing to show"),
        (["bounds", "--phi", "--peers"], "--phi and --peers are both empty: nothing to show"),
        (
            ["bounds", "--phi", "--peers", "--plot", "b.png", "--budgets", "10"],
            "--phi and --peers are both empty: nothing to show",
        ),
        (["plot", "--peers", "wsd", "nope"], "argument --peers: unknown peer 'nope'"),
        (["phi"], "one of the arguments --kappa --from-phi --spectrum is required"),
        (["phi", "--kappa", "10", "--from-phi", "3"], "not allowed with argument"),
        (["phi", "--kappa", "0"], "argument --kappa: must be a finite number > 0, got 0"),
        (["phi", "--spectrum", "1"], "argument --spectrum: expected 2 arguments"),
        (["phi", "--kappa", "5", "-T", "10"], "-T/--budget: only with --spectrum"),
        (
            ["phi", "--spectrum", "0.1", "1", "--sigma2", "-1"],
            "argument --sigma2: must be a finite number >= 0, got -1",
        ),
        (["bounds", "--bound", "tight"], "argument --bound: invalid choice: 'tight'"),
        (["bounds", "--L", "0"], "argument --L: must be a finite number > 0, got 0"),
        (["bounds", "--mu", "nan"], "argument --mu: must be a finite number > 0, got nan"),
        (["bounds", "--budgets"], "argument --budgets: expected at least one argument"),
        (["bounds", "--L", "5e-324"], "L must be large enough that the largest step 1/L"),
        (["bounds", "--budgets", "10", "100"], "--budgets: only with --plot"),
        (["bounds", "--peers", "onecycle", "--eta-min", "0.1"], "peer 'onecycle' has no eta_min"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv: list[str], message: str, capsys) -> None:
    code, out, err = run_main(argv, capsys)
    assert code == 2
    assert message in err
    assert re.match(r"uba( table| plot| phi| bounds)?: error: ", err)
    assert err.count("\n") == 1 and err.endswith("\n")  # one line
    assert out == ""


def console_script() -> Path:
    """The `uba` command that installing the package made, beside this Python."""
    script = Path(sys.executable).parent / ("uba.exe" if sys.platform == "win32" else "uba")
    if not script.exists():
        pytest.skip(f"the uba command is not installed beside {sys.executable}")
    return script


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ([sys.executable, "-m", "uba"], "python -m uba"),
        # what the installed `uba` command runs (pip's wrapper), with or without it installed
        (
            [sys.executable, "-c", "import sys; from uba.__main__ import main; sys.exit(main())"],
            "uba",
        ),
        ([console_script], "uba"),
    ],
)
def test_usage_and_errors_name_the_command_as_it_was_run(command: list[Any], name: str) -> None:
    argv = [c() if callable(c) else c for c in command]
    usage = subprocess.run([*argv, "--help"], capture_output=True, text=True, env=child_env())
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith(f"usage: {name} [-h]")
    assert f"Subcommands: {name} COMMAND --help." in usage.stdout
    sub = subprocess.run([*argv, "plot", "--help"], capture_output=True, text=True, env=child_env())
    assert sub.stdout.startswith(f"usage: {name} plot [-h]")
    bad = subprocess.run(
        [*argv, "table", "-T", "0"], capture_output=True, text=True, env=child_env()
    )
    assert bad.returncode == 2 and bad.stderr.startswith(f"{name} table: error: argument -T")


def test_exit_status_2_from_the_real_command_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "uba", "plot", "--peers", "cosine", "bad"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "unknown peer 'bad'" in proc.stderr and proc.stdout == ""
    proc = subprocess.run(
        [sys.executable, "-m", "uba", "table", "--rows", "3", "-T", "4"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines()[-1].split()[0] == "4"


# ---- theory subcommands --------------------------------------------------------------


def number_after(text: str, label: str) -> float:
    return float(text.split(label, 1)[1].split()[0])


def test_phi_answers_from_uba_theory(capsys) -> None:
    code, out, _ = run_main(["phi", "--kappa", "100"], capsys)
    assert code == 0
    assert number_after(out, "phi = ") == pytest.approx(theory.phi_from_condition_number(100.0))
    assert number_after(out, "phi = ") == pytest.approx(200.0)
    code, out, _ = run_main(["phi", "--from-phi", "4"], capsys)
    assert code == 0 and number_after(out, "kappa = ") == pytest.approx(2.0)
    # no noise at the peak 1/lam_max: the range's lower end, which warns
    with pytest.warns(theory.BoundaryWarning, match="lower end of phi_range"):
        code, out, _ = run_main(["phi", "--spectrum", "0.01", "1", "-T", "16"], capsys)
    assert code == 0
    with pytest.warns(theory.BoundaryWarning):
        want = theory.optimal_phi(16, 0.01, 1.0, sigma2=0.0)
    assert number_after(out, "optimal phi = ") == pytest.approx(want, rel=1e-9)
    code, out, err = run_main(["phi", "--spectrum", "0.01", "1"], capsys)
    assert code == 2 and "--spectrum needs the budget" in err


def test_bounds_table_is_uba_theory_on_the_sampled_schedules(capsys) -> None:
    argv = [
        "bounds",
        "-T",
        "300",
        "--phi",
        "1",
        "4",
        "--peers",
        "cosine",
        "wsd",
        "--bound",
        "strongly-convex",
        "--mu",
        "0.05",
        "--sigma2",
        "0.1",
    ]
    code, out, _ = run_main(argv, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("strongly-convex bound, budget T = 300")
    table = {ln.split()[0]: [float(x) for x in ln.split()[1:]] for ln in lines[2:]}
    t = np.arange(300)
    schedules = {
        "phi=1": uba.schedule(t, 300, 1.0),
        "phi=4": uba.schedule(t, 300, 4.0),
        "cosine": peers.cosine(t, 300),
        "wsd": peers.wsd(t, 300),
    }
    assert set(table) == set(schedules)
    for name, lrs in schedules.items():
        s1, s2, bound = table[name]
        assert s1 == pytest.approx(lrs.sum(), rel=1e-5)
        assert s2 == pytest.approx((lrs**2).sum(), rel=1e-5)
        want = theory.bound_strongly_convex(lrs, mu=0.05, L=1.0, sigma2=0.1, f_gap=1.0)
        assert bound == pytest.approx(want, rel=1e-5)


def test_theory_refusals_exit_2_with_the_theorys_message(capsys) -> None:
    code, out, err = run_main(["bounds", "--bound", "convex", "--eta-max", "1"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("uba bounds: error: ")
    with pytest.raises(ValueError) as info:
        theory.bound_convex([1.0], L=1.0, sigma2=0.01, dist2=1.0)
    assert str(info.value) in err
    code, out, err = run_main(["phi", "--kappa", "0.5"], capsys)
    assert code == 2 and out == "" and "kappa" in err
    code, out, err = run_main(["bounds", "--bound", "strongly-convex", "--mu", "2"], capsys)
    assert code == 2 and out == "" and "mu" in err


def test_theory_subcommands_write_their_plots(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    phi_png, bounds_png = tmp_path / "phi.png", tmp_path / "bounds.png"
    code, out, _ = run_main(["phi", "--kappa", "10", "--plot", str(phi_png)], capsys)
    assert code == 0 and f"wrote {phi_png}" in out
    code, out, _ = run_main(
        ["bounds", "--plot", str(bounds_png), "--budgets", "10", "50", "200"], capsys
    )
    assert code == 0 and f"wrote {bounds_png}" in out
    assert phi_png.read_bytes()[:8] == PNG and bounds_png.read_bytes()[:8] == PNG


# ---- the table's steps, a slice at a time --------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    T=st.one_of(st.integers(1, 3000), st.integers(1, 2**53)),
    rows=st.one_of(st.integers(1, 3000), st.integers(1, 300_000)),
)
def test_table_steps_are_the_rounded_even_spacing_each_once(T: int, rows: int) -> None:
    # the table's rows as np.linspace gives them, built without the linspace
    got = np.concatenate(list(table_steps(T, rows)))
    if rows <= 300_000:
        want = np.unique(np.round(np.linspace(0, T, rows)).astype(np.int64))
        np.testing.assert_array_equal(got, want)
    assert got[0] == 0 and got[-1] == (T if rows > 1 else 0)
    assert len(got) == min(rows, T + 1) and (np.diff(got) > 0).all()
