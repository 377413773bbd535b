"""UBALR through a real Accelerate: prepare() wraps it in AcceleratedScheduler,
it follows optimizer steps (also under gradient accumulation), and
save_state/load_state bring it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
accelerate = pytest.importorskip("accelerate")

from accelerate.scheduler import AcceleratedScheduler  # noqa: E402
from accelerate.state import AcceleratorState  # noqa: E402

import uba  # noqa: E402

pytestmark = pytest.mark.slow  # the full tier: a real Accelerate run

T, LR, PHI = 12, 0.05, 3.0


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


def prepared(accum: int = 1):
    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=accum)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    sched = uba.UBALR(opt, T, phi=PHI)
    model, opt, sched = acc.prepare(model, opt, sched)
    return acc, model, opt, sched


def train(acc, model, opt, sched, batches: int) -> list[float]:
    """lr used by each micro-batch's optimizer.step()."""
    g = torch.Generator().manual_seed(0)
    seen = []
    for _ in range(batches):
        with acc.accumulate(model):
            x = torch.randn(4, 3, generator=g)
            acc.backward(model(x).pow(2).mean())
            seen.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            sched.step()
            opt.zero_grad()
    return seen


def test_prepare_wraps_ubalr_in_an_accelerated_scheduler() -> None:
    acc, model, opt, sched = prepared()
    assert isinstance(sched, AcceleratedScheduler)
    assert isinstance(sched.scheduler, uba.UBALR)
    seen = train(acc, model, opt, sched, T)
    np.testing.assert_allclose(seen, uba.schedule(np.arange(T), T, PHI, LR), rtol=1e-14)
    assert sched.get_last_lr() == sched.scheduler.get_last_lr()


def test_gradient_accumulation_steps_the_schedule_per_optimizer_step() -> None:
    acc, model, opt, sched = prepared(accum=2)
    seen = train(acc, model, opt, sched, 2 * 6)
    per_update = uba.schedule(np.arange(6), T, PHI, LR)
    np.testing.assert_allclose(seen, np.repeat(per_update, 2), rtol=1e-14)
    assert sched.scheduler.last_epoch == 6


def test_save_state_and_load_state_restore_the_scheduler(tmp_path: Path) -> None:
    acc, model, opt, sched = prepared()
    train(acc, model, opt, sched, 5)
    acc.save_state(str(tmp_path / "state"))
    saved = sched.state_dict()
    continued = train(acc, model, opt, sched, T - 5)

    AcceleratorState._reset_state(True)
    acc2, model2, opt2, sched2 = prepared()
    assert sched2.scheduler.last_epoch == 0
    acc2.load_state(str(tmp_path / "state"))
    assert sched2.state_dict() == saved
    assert sched2.scheduler.last_epoch == 5
    assert train(acc2, model2, opt2, sched2, T - 5) == continued
