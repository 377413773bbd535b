"""Checkpoint and resume: a training run killed with SIGKILL at random
points and resumed from its last checkpoint uses, at every step, exactly
the learning rates (bit for bit) of a run that was never interrupted.

The run (tests/scheduler/_resume_train.py, a real child process) goes through six
configurations: UBALR alone (float lrs, and a float32 tensor lr, past T
where the schedule is periodic), UBALR with warmup, UBALR inside
SequentialLR after a LinearLR, UBALR composed with StepLR, and UBALR with
ReduceLROnPlateau (its cuts depend on the losses, so on the model and
optimizer state restored too).  It saves model, optimizer and schedulers
with torch.save every few steps and logs the lrs it uses; the kill points
are drawn from a seeded RNG (UBA_RESUME_SEED).

Also here: a state_dict saved for a different number of parameter groups
loads and steps as torch's CosineAnnealingLR does, alone and inside
SequentialLR and ChainedScheduler (which load their children's states).
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import uba  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _resume_train import CONFIGS  # noqa: E402

from ..helpers import child_env  # noqa: E402

STEPS = 300
SAVE_EVERY = 25
KILLS = 6
SEED = int(os.environ.get("UBA_RESUME_SEED", "20250"))


def command(workdir: Path) -> list[str]:
    return [
        sys.executable,
        str(HERE / "_resume_train.py"),
        str(workdir),
        str(STEPS),
        str(SAVE_EVERY),
    ]


def lines_in(log: Path) -> int:
    try:
        with open(log, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def read_log(log: Path) -> list[tuple[str, int, str]]:
    out = []
    for line in log.read_text().splitlines():
        config, step, lrs = line.split(" ", 2)
        out.append((config, int(step), lrs))
    return out


def kill_at(workdir: Path, rng: random.Random, *, lines: int | None, delay: float | None) -> bool:
    """Starts the run and SIGKILLs it once the log has grown by `lines`
    lines, or after `delay` seconds.  Returns whether it was killed (it may
    have finished first)."""
    log = workdir / "lrs.log"
    target = lines_in(log) + (lines or 0)
    proc = subprocess.Popen(command(workdir), env=child_env(), stderr=subprocess.PIPE)
    started = time.monotonic()
    try:
        while proc.poll() is None:
            if time.monotonic() - started > 120:
                raise TimeoutError("the training run hangs")
            if delay is not None and time.monotonic() - started >= delay:
                break
            if lines is not None and lines_in(log) >= target:
                break
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=60)
    if proc.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"the training run failed ({proc.returncode}):\n{err.decode()[-4000:]}")
    return proc.returncode == -signal.SIGKILL


@pytest.mark.slow  # trains in child processes, one killed
def test_killed_and_resumed_runs_use_bit_identical_lrs(tmp_path: Path) -> None:
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    reference_dir.mkdir()
    killed_dir.mkdir()
    # the uninterrupted run, on the other core meanwhile
    reference = subprocess.Popen(command(reference_dir), env=child_env(), stderr=subprocess.PIPE)

    rng = random.Random(SEED)
    kills = 0
    # once early (maybe while importing torch), then after a random number
    # of logged steps: mid-configuration, maybe mid-save
    kills += kill_at(killed_dir, rng, lines=None, delay=rng.uniform(0.2, 2.5))
    for _ in range(KILLS):
        kills += kill_at(killed_dir, rng, lines=rng.randint(1, 300), delay=None)
    finished = subprocess.run(
        command(killed_dir), env=child_env(), capture_output=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr.decode()[-4000:]
    _, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err.decode()[-4000:]

    expected = {(c, s): lrs for c, s, lrs in read_log(reference_dir / "lrs.log")}
    assert len(expected) == len(CONFIGS) * STEPS
    seen = read_log(killed_dir / "lrs.log")
    wrong = [(c, s, lrs, expected.get((c, s))) for c, s, lrs in seen if expected.get((c, s)) != lrs]
    assert not wrong, f"{len(wrong)} lines differ, first: {wrong[:5]}"
    assert {(c, s) for c, s, _ in seen} == set(expected)
    replayed = len(seen) - len(expected)  # steps run again after a resume
    print(
        f"\n{kills} kills, {replayed} steps replayed from checkpoints, "
        f"{len(seen)} logged lrs all bit-identical to the uninterrupted run"
    )
    assert kills >= KILLS - 1
    assert replayed > 0


# ---- a state_dict for another number of parameter groups ---------------------


def optimizer(groups: int) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    return torch.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)])


def roundtrip(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def cosine(kind):
    """UBALR(phi=2), or torch's CosineAnnealingLR as the control."""
    if kind == "torch":
        return lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, 20)
    return lambda opt: uba.UBALR(opt, 20, phi=2.0)


def alone(kind):
    return cosine(kind)


def sequential(kind="uba"):
    def make(opt):
        lin = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=3)
        return torch.optim.lr_scheduler.SequentialLR(opt, [lin, cosine(kind)(opt)], milestones=[3])

    return make


def chained(kind):
    def make(opt):
        step = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        return torch.optim.lr_scheduler.ChainedScheduler([cosine(kind)(opt), step])

    return make


@pytest.mark.parametrize(
    "wrap", [alone, sequential, chained], ids=["alone", "SequentialLR", "ChainedScheduler"]
)
@pytest.mark.parametrize(("saved", "loaded"), [(2, 1), (1, 3)])
def test_state_for_another_number_of_groups_loads_and_steps_as_torchs(
    wrap, saved: int, loaded: int
) -> None:
    """torch loads such a state (its load_state_dict is __dict__.update) and
    its chainable cosine steps every group from its current lr; UBALR does
    the same, with CosineAnnealingLR's values (float lrs, rel 1e-12)."""
    rows = {}
    for kind in ("torch", "uba"):
        opt = optimizer(saved)
        sched = wrap(kind)(opt)
        for _ in range(5):
            opt.step()
            sched.step()
        other_opt = optimizer(loaded)
        other = wrap(kind)(other_opt)
        other.load_state_dict(roundtrip(sched.state_dict()))
        rows[kind] = []
        for _ in range(12):  # stays clear of the trough at 20, where torch fails
            other_opt.step()
            other.step()
            rows[kind].append([g["lr"] for g in other_opt.param_groups])
    for got, want in zip(rows["uba"], rows["torch"], strict=True):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_state_for_the_same_number_of_groups_loads_inside_sequential_lr() -> None:
    opt = optimizer(2)
    sched = sequential()(opt)
    for _ in range(7):
        opt.step()
        sched.step()
    opt2 = optimizer(2)
    sched2 = sequential()(opt2)
    opt2.load_state_dict(roundtrip(opt.state_dict()))
    sched2.load_state_dict(roundtrip(sched.state_dict()))
    for _ in range(30):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in opt2.param_groups]
