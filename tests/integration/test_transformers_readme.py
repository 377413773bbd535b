"""The user guide's transformers Trainer example, run as written, with default
TrainingArguments but for the epochs (max_steps = -1: the Trainer counts the
steps from the epochs): UBALR gets the Trainer's own budget and every step's
lr is the closed form."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import uba  # noqa: E402

from ..helpers import repo_path  # noqa: E402

pytestmark = pytest.mark.slow  # the full tier: the guide's Trainer example, trained


def guide_trainer_example() -> str:
    guide = repo_path("docs", "guide.md").read_text(encoding="utf-8")
    section = guide.split("### transformers' Trainer", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no python block after ### transformers' Trainer"
    return match.group(1)


# the default dataloader_pin_memory=True warns on a machine without an accelerator
@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true:UserWarning")
def test_the_guide_example_trains_with_the_trainers_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # TrainingArguments("out") writes there
    monkeypatch.setenv("WANDB_DISABLED", "true")
    seen: list[float] = []
    training_step = transformers.Trainer.training_step

    def recording(self, *args, **kwargs):  # the lr this step's optimizer step uses
        seen.append(float(self.optimizer.param_groups[0]["lr"]))
        return training_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", recording)
    torch.manual_seed(0)
    scope: dict = {"__name__": "__main__"}
    exec(guide_trainer_example(), scope)  # as a user pastes it: it trains
    trainer = scope["trainer"]
    args = trainer.args
    assert args.max_steps == -1 and args.gradient_accumulation_steps == 1
    steps = int(args.num_train_epochs) * -(-len(scope["data"]) // args.per_device_train_batch_size)
    sched = trainer.lr_scheduler
    assert isinstance(sched, uba.UBALR)
    assert sched.T_max == steps == len(seen) == trainer.state.global_step
    want = uba.schedule(np.arange(steps), steps, 1.0, args.learning_rate, 0.0)
    np.testing.assert_allclose(seen, want, rtol=1e-14, atol=0)
