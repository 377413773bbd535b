"""The README's transformers Trainer example, run as written, with default
TrainingArguments (max_steps = -1: the Trainer counts the steps from the
epochs): UBALR gets the Trainer's own budget and every step's lr is the
closed form."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import uba  # noqa: E402

from ..helpers import repo_path  # noqa: E402
from .test_transformers import Data, Tiny  # noqa: E402

pytestmark = pytest.mark.slow  # the full tier: the README's Trainer example, trained

SAMPLES = len(Data())


def readme_trainer_example() -> str:
    readme = repo_path("README.md").read_text(encoding="utf-8")
    section = readme.split("**transformers Trainer**", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no python block after **transformers Trainer**"
    return match.group(1)


class Record(transformers.TrainerCallback):
    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        self.lrs.append(float(optimizer.param_groups[0]["lr"]))


# the default dataloader_pin_memory=True warns on a machine without an accelerator
@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true:UserWarning")
def test_the_readme_example_trains_with_default_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # TrainingArguments("out") writes there
    monkeypatch.setenv("WANDB_DISABLED", "true")
    torch.manual_seed(0)
    scope = {
        "uba": uba,
        "Trainer": transformers.Trainer,
        "TrainingArguments": transformers.TrainingArguments,
        "model": Tiny(),
        "ds": Data(),
    }
    exec(readme_trainer_example(), scope)  # as a user pastes it
    trainer = scope["trainer"]
    args = trainer.args
    assert args.max_steps == -1  # the defaults: epochs decide the budget
    trainer.remove_callback(transformers.trainer_callback.ProgressCallback)
    record = Record()
    trainer.add_callback(record)
    trainer.train()

    steps = args.num_train_epochs * -(-SAMPLES // args.per_device_train_batch_size)
    sched = trainer.lr_scheduler
    assert isinstance(sched, uba.UBALR)
    assert sched.T_max == steps == len(record.lrs)
    want = uba.schedule(np.arange(steps), steps, 1.0, args.learning_rate, 0.0)
    np.testing.assert_allclose(record.lrs, want, rtol=1e-14, atol=0)
