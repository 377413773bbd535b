"""UBALR and get_uba_schedule_with_warmup in a real transformers Trainer
(optimizers=(opt, scheduler)), through a checkpoint and a resume_from_checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import uba  # noqa: E402

pytestmark = pytest.mark.slow  # the full tier: real transformers Trainer runs

T, SAVE, LR, FLOOR, PHI = 10, 5, 0.1, 1e-3, 0.5
WARMUP, MIN_LR_RATE = 2, 0.1


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def forward(self, x, labels=None):
        out = self.layer(x)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


class Data(torch.utils.data.Dataset):
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(40, 4, generator=g), torch.randn(40, 1, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"x": self.x[i], "labels": self.y[i]}


class Record(transformers.TrainerCallback):
    """(global step, lr its optimizer step uses) and the logged losses."""

    def __init__(self) -> None:
        self.lrs: list[tuple[int, float]] = []
        self.losses: list[tuple[int, float]] = []

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        self.lrs.append((state.global_step, float(optimizer.param_groups[0]["lr"])))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append((state.global_step, float(logs["loss"])))


def ubalr(opt: torch.optim.Optimizer) -> uba.UBALR:
    return uba.UBALR(opt, T, FLOOR, phi=PHI)


def train(
    out: Path,
    resume: Path | None = None,
    make_scheduler: Callable[[torch.optim.Optimizer], Any] | None = ubalr,
    **arguments: Any,
) -> tuple[Record, Any]:
    """Train T steps with SGD(lr=LR); with make_scheduler=None the Trainer builds
    its optimizer and scheduler itself from `arguments` (its own schedules)."""
    torch.manual_seed(0)
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    sched = None if make_scheduler is None else make_scheduler(opt)
    args = transformers.TrainingArguments(
        output_dir=str(out),
        max_steps=T,
        save_steps=SAVE,
        per_device_train_batch_size=4,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
        disable_tqdm=True,
        remove_unused_columns=False,
        learning_rate=LR,
        optim="sgd",
        **arguments,
    )
    record = Record()
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=Data(),
        callbacks=[record],
        optimizers=(None, None) if sched is None else (opt, sched),
    )
    trainer.train(resume_from_checkpoint=None if resume is None else str(resume))
    return record, trainer.lr_scheduler


def test_trainer_checkpoint_and_resume_continue_the_schedule_exactly(tmp_path: Path) -> None:
    first, sched = train(tmp_path)
    want = uba.schedule(np.arange(T), T, PHI, LR, FLOOR)
    steps, lrs = zip(*first.lrs)
    assert list(steps) == list(range(T))
    np.testing.assert_allclose(lrs, want, rtol=1e-14, atol=0)
    assert sched.last_epoch == T

    checkpoint = tmp_path / f"checkpoint-{SAVE}"
    saved = torch.load(checkpoint / "scheduler.pt", weights_only=True)  # as the Trainer loads it
    assert saved["last_epoch"] == SAVE and saved["phi"] == PHI

    second, resumed = train(tmp_path, resume=checkpoint)
    assert second.lrs == first.lrs[SAVE:]  # the same floats, from step SAVE on
    assert second.losses == first.losses[SAVE:]  # model and optimizer came back too
    assert resumed.last_epoch == T
    assert resumed.state_dict()["_last_lr"] == sched.state_dict()["_last_lr"]


def uba_with_warmup(phi: float) -> Callable[[torch.optim.Optimizer], Any]:
    return lambda opt: uba.get_uba_schedule_with_warmup(opt, WARMUP, T, phi, MIN_LR_RATE)


def test_trainer_takes_the_uba_factory_and_resumes_it_exactly(tmp_path: Path) -> None:
    first, sched = train(tmp_path, make_scheduler=uba_with_warmup(PHI))
    steps, lrs = zip(*first.lrs)
    assert list(steps) == list(range(T))
    warmup = [LR * t / WARMUP for t in range(WARMUP)]
    decay = uba.schedule(np.arange(T - WARMUP), T - WARMUP, PHI, LR, LR * MIN_LR_RATE)
    np.testing.assert_allclose(lrs, [*warmup, *decay], rtol=1e-14, atol=0)

    checkpoint = tmp_path / f"checkpoint-{SAVE}"
    saved = torch.load(checkpoint / "scheduler.pt", weights_only=True)
    assert saved["last_epoch"] == SAVE

    second, resumed = train(tmp_path, resume=checkpoint, make_scheduler=uba_with_warmup(PHI))
    assert second.lrs == first.lrs[SAVE:]
    assert second.losses == first.losses[SAVE:]
    assert resumed.last_epoch == sched.last_epoch == T


def test_phi_2_gives_the_lrs_of_the_trainers_own_cosine_with_min_lr(tmp_path: Path) -> None:
    own, _ = train(
        tmp_path / "own",
        make_scheduler=None,
        lr_scheduler_type="cosine_with_min_lr",
        warmup_steps=WARMUP,
        lr_scheduler_kwargs={"min_lr_rate": MIN_LR_RATE},
    )
    twin, _ = train(tmp_path / "uba", make_scheduler=uba_with_warmup(2.0))
    assert [step for step, _ in twin.lrs] == [step for step, _ in own.lrs] == list(range(T))
    np.testing.assert_allclose(
        [lr for _, lr in twin.lrs], [lr for _, lr in own.lrs], rtol=1e-12, atol=1e-15 * LR
    )
    np.testing.assert_allclose([v for _, v in twin.losses], [v for _, v in own.losses], rtol=1e-6)
