"""UBALR in a real transformers Trainer (optimizers=(opt, UBALR)), through a
checkpoint and a resume_from_checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import uba  # noqa: E402

T, SAVE, LR, FLOOR, PHI = 10, 5, 0.1, 1e-3, 0.5


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


def train(out: Path, resume: Path | None = None) -> tuple[Record, uba.UBALR]:
    torch.manual_seed(0)
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    sched = uba.UBALR(opt, T, FLOOR, phi=PHI)
    args = transformers.TrainingArguments(
        output_dir=str(out), max_steps=T, save_steps=SAVE, per_device_train_batch_size=4,
        report_to=[], use_cpu=True, logging_steps=1, disable_tqdm=True,
        remove_unused_columns=False,
    )
    record = Record()
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Data(),
                                   optimizers=(opt, sched), callbacks=[record])
    trainer.train(resume_from_checkpoint=None if resume is None else str(resume))
    return record, sched


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
