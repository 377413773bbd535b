"""UBALR in a real Lightning Trainer.fit, stepped per batch (interval "step")."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning")

import uba  # noqa: E402

T, LR, FLOOR, PHI = 20, 0.1, 1e-3, 0.5

pytestmark = [
    pytest.mark.slow,  # the full tier: real Lightning training runs
    # lightning 2.6.6 on torch 2.13 (lightning's code, not uba's)
    pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated"),
]


class Tiny(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.seen: list[float] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def on_train_batch_start(self, batch, batch_idx) -> None:
        # the lr this batch's optimizer step will use
        self.seen.append(float(self.optimizers().param_groups[0]["lr"]))

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=LR)
        sched = uba.UBALR(opt, T_max=T, eta_min=FLOOR, phi=PHI)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def test_trainer_fit_steps_ubalr_every_batch() -> None:
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(32, 4), torch.randn(32, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=4)  # 8 batches: 2.5 epochs
    model = Tiny()
    trainer = L.Trainer(
        max_steps=T,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, loader)

    assert trainer.global_step == T
    (config,) = trainer.lr_scheduler_configs
    assert isinstance(config.scheduler, uba.UBALR) and config.interval == "step"
    np.testing.assert_allclose(
        model.seen, uba.schedule(np.arange(T), T, PHI, LR, FLOOR), rtol=1e-14, atol=0
    )
    assert config.scheduler.last_epoch == T
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(FLOOR, rel=1e-14)
