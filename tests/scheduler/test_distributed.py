"""torch.distributed, gloo backend, 2 processes on CPU, DDP on a tiny model
stepped by UBALR (tests/_ddp_worker.py):

  * both ranks use bit-identical lrs at every step (each rank checks all
    ranks' lrs at every step, and the test compares the logs);
  * a checkpoint written by rank 0 alone restores both ranks: the restored
    run repeats the uninterrupted run's lrs and ends with its parameters,
    bit for bit, on both ranks.

Skips cleanly where torch.distributed or gloo is unavailable.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)


from .. import helpers  # noqa: E402

pytestmark = pytest.mark.slow  # the full tier: two processes training with DDP

HERE = Path(__file__).resolve().parent
WORLD = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env() -> dict[str, str]:
    """The workers import the very uba this session imports, and talk over
    the loopback interface."""
    env = helpers.child_env()
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    return env


def test_ranks_agree_at_every_step_and_rank_zeros_checkpoint_restores_both(tmp_path) -> None:
    port = free_port()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "_ddp_worker.py"),
                str(rank),
                str(WORLD),
                str(port),
                str(tmp_path),
            ],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for rank in range(WORLD)
    ]
    outputs = []
    try:
        for w in workers:
            outputs.append(w.communicate(timeout=240))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.communicate()
    report = "\n".join(
        f"rank {rank} exited with {w.returncode}:\n{err.decode()[-3000:]}"
        for rank, (w, (_, err)) in enumerate(zip(workers, outputs))
    )
    assert all(w.returncode == 0 for w in workers), report

    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]
    zero, one = results
    assert zero["lrs"] == one["lrs"]
    assert len(zero["lrs"]) == 40 and len({tuple(x) for x in zero["lrs"]}) > 30  # lrs move
    assert zero["params"] == one["params"]  # DDP kept the replicas identical
    for r in results:
        saved_at = len(r["lrs"]) - len(r["restored_lrs"])
        assert r["restored_lrs"] == r["lrs"][saved_at:]
        assert r["restored_params"] == r["params"]
        assert r["last_epoch"] == [40, 40]
