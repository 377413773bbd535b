"""UBALR with torch's own machinery: a torch.compile'd optimizer step with a
tensor lr (no recompilation while UBALR moves it), and SequentialLR with a
LinearLR warmup in front of UBALR."""

from __future__ import annotations

import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import uba  # noqa: E402

pytestmark = pytest.mark.slow  # the full tier: torch.compile and a real training loop


# torch 2.13's inductor imports torch.utils.mkldnn, which warns (torch's code, not uba's)
@pytest.mark.filterwarnings(r"ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compiled_optimizer_step_does_not_recompile_as_ubalr_moves_a_tensor_lr() -> None:
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    lr = torch.tensor(0.01)
    opt = torch.optim.Adam(model.parameters(), lr=lr, capturable=True)
    sched = uba.UBALR(opt, 50, 1e-4, phi=0.5)  # created before compiling (torchtune#2263)
    group_lr = opt.param_groups[0]["lr"]

    @torch.compile
    def optimizer_step() -> None:
        opt.step()

    x = torch.randn(16, 8)
    seen, graphs = [], []
    for _ in range(50):
        model(x).pow(2).mean().backward()
        seen.append(group_lr.item())
        if graphs:  # after the first (compiling) call, any recompilation is an error
            with torch._dynamo.config.patch(error_on_recompile=True):
                optimizer_step()
        else:
            optimizer_step()
        sched.step()  # outside the compiled region: the C call would break the graph
        opt.zero_grad()
        graphs.append(counters["stats"]["unique_graphs"])

    assert graphs[0] >= 1 and counters["frames"]["ok"] >= 1  # it did compile
    assert graphs == [graphs[0]] * 50  # and never again
    assert opt.param_groups[0]["lr"] is group_lr  # updated in place (fill_)
    base = float(np.float32(0.01))  # the float32 tensor's value
    want = uba.schedule(np.arange(50), 50, 0.5, base, 1e-4).astype(np.float32)
    np.testing.assert_array_equal(np.array(seen, dtype=np.float32), want)
    torch._dynamo.reset()


@pytest.mark.parametrize("tensor_lr", [False, True])
def test_sequential_lr_linear_warmup_then_ubalr(tensor_lr: bool) -> None:
    W, T, base, floor, phi = 10, 60, 0.2, 2e-3, 0.7
    opt = torch.optim.SGD(
        [torch.nn.Parameter(torch.zeros(2))],
        lr=torch.tensor(base, dtype=torch.float64) if tensor_lr else base,
    )
    warmup = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=W)
    decay = uba.UBALR(opt, T - W, floor, phi=phi)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[W])

    t = np.arange(T + 1)
    want = np.where(
        t < W,
        base * (0.1 + 0.9 * t / W),
        uba.schedule(np.maximum(t - W, 0), T - W, phi, base, floor),
    )
    seen = []
    for step in range(T + 1):
        seen.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
        if step == 25:  # a state_dict round trip mid-run changes nothing
            buffer = io.BytesIO()
            torch.save(sched.state_dict(), buffer)
            buffer.seek(0)
            sched.load_state_dict(torch.load(buffer, weights_only=True))
    np.testing.assert_allclose(seen, want, rtol=1e-13, atol=1e-16)
    assert seen[T] == pytest.approx(floor, rel=1e-13)
