"""One rank of the distributed test (test_distributed.py): DDP on a tiny
model, CPU, gloo backend, stepped by UBALR.

    python _ddp_worker.py RANK WORLD_SIZE PORT WORKDIR

1. Trains STEPS steps on rank-dependent data, with UBALR (warmup, a float
   lr and a float32 tensor lr); at every step all ranks exchange the exact
   bits of their lrs (all_gather_object) and each checks they are equal.
2. After SAVE_AT steps rank 0 alone writes model, optimizer and scheduler
   with torch.save; every rank goes on to STEPS (the uninterrupted run).
3. Every rank builds model, optimizer and scheduler afresh, loads rank 0's
   checkpoint, and trains SAVE_AT..STEPS again (the restored run).

Writes WORKDIR/rank{RANK}.json: the lrs of both runs and the final
parameters of both (as float.hex), for the test to compare.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

import uba

STEPS = 40
SAVE_AT = 17


def build():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    ddp = DDP(model)
    opt = torch.optim.SGD(
        [
            {"params": model[0].parameters(), "lr": 0.1},
            {"params": model[2].parameters(), "lr": torch.tensor(0.05)},
        ],
        momentum=0.9,
    )
    sched = uba.UBALR(opt, 30, [1e-4, 0.0], phi=0.8, warmup_steps=5, warmup_start_factor=0.1)
    return model, ddp, opt, sched


def lr_bits(opt) -> list[str]:
    return [float(g["lr"]).hex() for g in opt.param_groups]


def param_bits(model) -> list[str]:
    return [x.hex() for p in model.parameters() for x in p.detach().flatten().tolist()]


def train(ddp, opt, sched, rank: int, world: int, start: int, stop: int, on_step=None) -> list:
    lrs = []
    for step in range(start, stop):
        mine = lr_bits(opt)
        everyone = [None] * world
        dist.all_gather_object(everyone, mine)
        if any(theirs != mine for theirs in everyone):
            raise AssertionError(f"step {step}: lrs differ across ranks: {everyone}")
        lrs.append(mine)
        g = torch.Generator().manual_seed(1000 * rank + step)  # each rank its own data
        x = torch.randn(8, 4, generator=g)
        loss = torch.nn.functional.mse_loss(ddp(x), x.sum(dim=1, keepdim=True).cos())
        opt.zero_grad()
        loss.backward()  # gradients all-reduced across ranks
        opt.step()
        sched.step()
        if on_step is not None:
            on_step(step + 1)
    return lrs


def main(rank: int, world: int, port: int, workdir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        checkpoint = os.path.join(workdir, "checkpoint.pt")
        model, ddp, opt, sched = build()

        def save(done: int) -> None:
            if done == SAVE_AT:
                if rank == 0:
                    torch.save(
                        {
                            "model": model.state_dict(),
                            "opt": opt.state_dict(),
                            "sched": sched.state_dict(),
                        },
                        checkpoint,
                    )
                dist.barrier()

        lrs = train(ddp, opt, sched, rank, world, 0, STEPS, on_step=save)
        params = param_bits(model)

        model2, ddp2, opt2, sched2 = build()
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model2.load_state_dict(state["model"])
        opt2.load_state_dict(state["opt"])
        sched2.load_state_dict(state["sched"])
        restored = train(ddp2, opt2, sched2, rank, world, SAVE_AT, STEPS)
        result = {
            "lrs": lrs,
            "restored_lrs": restored,
            "params": params,
            "restored_params": param_bits(model2),
            "last_epoch": [sched.last_epoch, sched2.last_epoch],
        }
        with open(os.path.join(workdir, f"rank{rank}.json"), "w") as f:
            json.dump(result, f)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    # Stay until every rank has torn its process group down: a rank that
    # exits closes its sockets, and gloo may abort a peer still tearing
    # down ("terminate called without an active exception").
    open(os.path.join(workdir, f"down{rank}"), "w").close()
    deadline = time.monotonic() + 60
    while not all(os.path.exists(os.path.join(workdir, f"down{r}")) for r in range(world)):
        if time.monotonic() > deadline:
            raise TimeoutError("another rank did not shut down")
        time.sleep(0.01)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
