"""UBALR against uba.schedule: exact closed-form values over long runs,
warmup, per-group floors, composition, state and argument checking.
(Its equivalence with torch's CosineAnnealingLR is in test_torch_contract.)"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import uba  # noqa: E402

from ..helpers import scaled  # noqa: E402
from .twins import torch_updates_tensor_lrs_in_place  # noqa: E402


def make_optimizer(lrs: list) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)])


def run(sched, steps: int) -> list[list[float]]:
    """lr of every group before each of `steps` steps."""
    opt = sched.optimizer
    opt.step()  # once, so the step-order warning does not fire
    out = []
    for _ in range(steps):
        out.append([float(g["lr"]) for g in opt.param_groups])
        sched.step()
    return out


@pytest.mark.parametrize("phi", [0.3, 1.0, 5.0])
def test_float_lrs_equal_the_closed_form_over_a_long_run(phi: float) -> None:
    steps = scaled(100_000)  # 1e5 in the full tier, 1e4 in the quick one
    T = steps * 2 // 5  # periodic past T: 2.5 half-periods
    opt = make_optimizer([0.1, 3e-4])
    sched = uba.UBALR(opt, T, [1e-3, 0.0], phi=phi)
    got = np.array(run(sched, steps))
    t = np.arange(steps)
    for i, (base, floor) in enumerate([(0.1, 1e-3), (3e-4, 0.0)]):
        expected = uba.schedule(t, T, phi, base, floor)
        rel = np.abs(got[:, i] - expected) / np.abs(expected).clip(1e-300)
        assert rel.max() <= 1e-15, (phi, i, rel.max(), rel.argmax())


@pytest.mark.parametrize("phi", [0.3, 1.0, 5.0])
def test_float32_tensor_lr_stays_on_the_rounded_closed_form(phi: float) -> None:
    T = steps = scaled(100_000)
    lr = torch.tensor(3e-4)
    opt = make_optimizer([lr])
    sched = uba.UBALR(opt, T, 3e-5, phi=phi)
    got = np.array(run(sched, steps))[:, 0]
    assert (opt.param_groups[0]["lr"] is lr) == torch_updates_tensor_lrs_in_place()
    base = float(np.float32(3e-4))  # the tensor holds float32(3e-4)
    expected = uba.schedule(np.arange(steps), T, phi, base, 3e-5).astype(np.float32)
    np.testing.assert_array_equal(got, expected.astype(np.float64))


def test_warmup_matches_the_schedule_with_warmup() -> None:
    T, W = 500, 50
    opt = make_optimizer([0.2, 0.05])
    sched = uba.UBALR(opt, T, 1e-4, phi=0.5, warmup_steps=W, warmup_start_factor=0.1)
    got = np.array(run(sched, 2 * T))
    t = np.arange(2 * T)
    for i, base in enumerate([0.2, 0.05]):
        expected = uba.schedule(t, T, 0.5, base, 1e-4, warmup_steps=W, warmup_start=0.1 * base)
        np.testing.assert_allclose(got[:, i], expected, rtol=1e-15, atol=0)
    assert got[0][0] == pytest.approx(0.02)
    assert got[W][0] == 0.2


def test_composes_multiplicatively_with_step_lr_without_drift() -> None:
    opt = make_optimizer([0.1])
    sched = uba.UBALR(opt, 1000, phi=0.5)
    decay = torch.optim.lr_scheduler.StepLR(opt, step_size=300, gamma=0.1)
    opt.step()
    # Within the budget; past the trough at T the rise is additive, as in
    # CosineAnnealingLR (see test_torch_contract).
    for t in range(1, 1001):
        sched.step()
        decay.step()
        expected = uba.schedule(t, 1000, 0.5, 0.1) * 0.1 ** (t // 300)
        assert opt.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-13, abs=1e-300)


def test_reduce_on_plateau_cut_is_kept_by_later_steps() -> None:
    opt = make_optimizer([1.0])
    sched = uba.UBALR(opt, 100, phi=1.0)
    opt.step()
    for _ in range(10):
        sched.step()
    opt.param_groups[0]["lr"] *= 0.5  # what ReduceLROnPlateau does
    for t in range(11, 60):
        sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(
            0.5 * uba.schedule(t, 100, 1.0), rel=1e-14
        )


def test_state_dict_is_plain_python_and_resumes_exactly() -> None:
    opt = make_optimizer([0.1, torch.tensor(0.5)])
    sched = uba.UBALR(opt, 50, [0.0, 1e-3], phi=0.7, warmup_steps=5)
    run(sched, 17)
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)

    def plain(x) -> bool:
        if isinstance(x, dict):
            return all(isinstance(k, str) and plain(v) for k, v in x.items())
        if isinstance(x, (list, tuple)):
            return all(plain(v) for v in x)
        return x is None or type(x) in (int, float, bool, str) or isinstance(x, torch.Tensor)

    assert plain(saved["sched"])
    opt2 = make_optimizer([0.1, torch.tensor(0.5)])
    sched2 = uba.UBALR(opt2, 50, [0.0, 1e-3], phi=0.7, warmup_steps=5)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    a = run(sched, 60)
    b = run(sched2, 60)
    assert a == b


def test_is_an_lr_scheduler_and_signature_is_cosine_annealing_compatible() -> None:
    opt = make_optimizer([0.1])
    sched = uba.UBALR(opt, 10, 0.01, -1)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
    assert (sched.T_max, sched.eta_min, sched.last_epoch, sched.phi) == (10, 0.01, 0, 1.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "pattern"),
    [
        ((0,), {}, ValueError, r"T_max must be an integer in \[1, 2\*\*53\], got 0"),
        ((10.5,), {}, ValueError, r"T_max must be an integer in \[1, 2\*\*53\], got 10.5"),
        (("10",), {}, TypeError, r"T_max must be a real number, got str"),
        ((10,), {"phi": 0}, ValueError, r"phi must be a finite number > 0, got 0"),
        ((10,), {"phi": "x"}, TypeError, r"phi must be a real number, got str"),
        (
            (10,),
            {"warmup_steps": 10},
            ValueError,
            r"warmup_steps must be an integer in \[0, T_max\), got 10",
        ),
        (
            (10,),
            {"warmup_start_factor": -0.5},
            ValueError,
            r"warmup_start_factor must be .* >= 0, got -0.5",
        ),
        ((10, float("nan")), {}, ValueError, r"eta_min must be a finite number, got nan"),
        (
            (10, [0.0, 0.0]),
            {},
            ValueError,
            r"eta_min must have one value per parameter group \(1\), got 2",
        ),
        ((10, ["a"]), {}, TypeError, r"eta_min\[0\] must be a real number, got str"),
    ],
)
def test_bad_arguments_are_refused(args, kwargs, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        uba.UBALR(make_optimizer([0.1]), *args, **kwargs)


def test_verbose_is_not_accepted_as_in_torch_2_7_and_later() -> None:
    with pytest.raises(TypeError):
        uba.UBALR(make_optimizer([0.1]), 10, verbose=True)  # type: ignore[call-arg]


def test_no_warning_in_the_right_order() -> None:
    opt = make_optimizer([0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = uba.UBALR(opt, 10)
        for _ in range(5):
            opt.step()
            sched.step()
