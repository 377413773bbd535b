"""A small training run that checkpoints and resumes, driven by
test_resume.py, which kills it (SIGKILL) at random points and restarts it.

    python _resume_train.py WORKDIR STEPS SAVE_EVERY

Runs every configuration of CONFIGS in turn, each for STEPS optimizer steps
on a tiny model (deterministic data, one thread).  Every SAVE_EVERY steps
it writes model, optimizer and scheduler(s) with torch.save, atomically
(a temporary file, then os.replace), so a kill can never leave a torn
checkpoint.  On start it resumes each configuration from its checkpoint
the usual way: build model, optimizer and scheduler(s) afresh, then
load_state_dict each (torch.load with weights_only=True).

Each step appends "config step lr0 lr1" (lrs as float.hex, the exact bits
of what the optimizer used) to WORKDIR/lrs.log in one write, so a kill
leaves whole lines only; the test compares every line ever written, by
killed and resumed runs alike, with an uninterrupted run.
"""

from __future__ import annotations

import os
import sys

import torch

import uba

CONFIGS = ["ubalr", "ubalr_tensor", "warmup", "sequential", "chained_steplr", "plateau"]


def build(config: str):
    """(model, optimizer, [schedulers]) for a configuration."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    tensor_lr = config in ("ubalr_tensor", "warmup", "sequential")
    lr1 = torch.tensor(0.05) if tensor_lr else 0.05  # float32 0-d tensor
    opt = torch.optim.SGD(
        [
            {"params": model[0].parameters(), "lr": 0.1},
            {"params": model[2].parameters(), "lr": lr1},
        ],
        momentum=0.9,
    )
    if config in ("ubalr", "ubalr_tensor"):
        scheds = [uba.UBALR(opt, 150, [1e-4, 0.0], phi=0.7)]  # runs past T: periodic
    elif config == "warmup":
        scheds = [uba.UBALR(opt, 220, 1e-5, phi=1.5, warmup_steps=40, warmup_start_factor=0.05)]
    elif config == "sequential":
        lin = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=30)
        ubalr = uba.UBALR(opt, 170, phi=0.5)
        scheds = [torch.optim.lr_scheduler.SequentialLR(opt, [lin, ubalr], milestones=[30])]
    elif config == "chained_steplr":
        scheds = [
            uba.UBALR(opt, 200, 1e-4, phi=1.0),
            torch.optim.lr_scheduler.StepLR(opt, step_size=45, gamma=0.5),
        ]
    elif config == "plateau":
        scheds = [
            uba.UBALR(opt, 200, phi=3.0),
            torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.05),
        ]
    else:
        raise ValueError(config)
    return model, opt, scheds


def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(16, 4, generator=g)
    return x, x.sum(dim=1, keepdim=True).sin()


def lr_bits(opt) -> str:
    return " ".join(float(g["lr"]).hex() for g in opt.param_groups)


def save(path: str, payload: dict) -> None:
    tmp = path + ".tmp"
    torch.save(payload, tmp)
    os.replace(tmp, path)


def run(config: str, workdir: str, steps: int, save_every: int, log_fd: int) -> None:
    done = os.path.join(workdir, f"{config}.done")
    if os.path.exists(done):
        return
    ckpt = os.path.join(workdir, f"{config}.pt")
    model, opt, scheds = build(config)
    start = 0
    if os.path.exists(ckpt):
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        for sched, s in zip(scheds, state["scheds"], strict=True):
            sched.load_state_dict(s)
        start = state["step"]
    for step in range(start, steps):
        os.write(log_fd, f"{config} {step} {lr_bits(opt)}\n".encode())
        x, y = batch(step)
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        for sched in scheds:
            if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step(loss.item())
            else:
                sched.step()
        if (step + 1) % save_every == 0:
            save(
                ckpt,
                {
                    "step": step + 1,
                    "model": model.state_dict(),
                    "opt": opt.state_dict(),
                    "scheds": [s.state_dict() for s in scheds],
                },
            )
    with open(done, "w"):
        pass


def main(workdir: str, steps: int, save_every: int) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    log_fd = os.open(os.path.join(workdir, "lrs.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        for config in CONFIGS:
            run(config, workdir, steps, save_every, log_fd)
    finally:
        os.close(log_fd)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
