"""UBAWarmRestarts(phi=2) honours the contract of torch's CosineAnnealingWarmRestarts.

Every scenario runs twice: against torch's own CosineAnnealingWarmRestarts (the
control, which proves the expectations here are right) and against
uba.UBAWarmRestarts(..., phi=2.0).  The scenarios re-author PyTorch's tests of that
class (test/optim/test_lrscheduler.py: test_CosineAnnealingWarmRestarts_lr1, _lr2,
_lr3, _T_cur_reset, _lr_state_dict, and the generic test_lr_scheduler_state_dict_load,
test_constant_initial_lr and test_lr_scheduler_checkpoint, which list the class), with
targets written out here with math.cos; then the two usage patterns of the class's
docs (per-iteration ``step(epoch + i / iters)``; ``step()`` interleaved with
``step(epoch)``), torch's warnings, resume, and composition.  The tests after those
check what phi != 2 adds, against a 50-digit reference.

Standard fixture, as in torch's tests: SGD over two layers, group 0 with lr=0.05 (a
Python float), group 1 with lr=torch.tensor(0.5) (a 0-d float32 tensor).

Tolerances (torch's own tests allow 1e-5 absolute):
  * float lr: 1e-12 relative, or 1e-15 x the base lr absolute.  math.cos carries
    ~1e-16 absolute error, which 1 + cos magnifies relative to the small values at
    the end of a cycle; the targets and torch carry that error, uba does not.
  * float32 tensor lr: uba computes in float64 and rounds once (2e-7 relative);
    torch's control computes in float32 arithmetic (2e-6).
"""

from __future__ import annotations

import io
import math
from fractions import Fraction

import pytest

torch = pytest.importorskip("torch")
lrs = torch.optim.lr_scheduler

import uba  # noqa: E402  (after the torch skip: a broken uba must fail, not skip)

from ..helpers import exact_uba  # noqa: E402
from .twins import (  # noqa: E402
    KINDS,
    assert_same_state,
    record_warnings,
    round_trip,
    skip_torch_where_sequential_lr_moves_initial_lr,
)

BASE_LRS = (0.05, 0.5)  # group 0: Python float; group 1: float32 0-d tensor
ETA_MIN = 1e-10
FLOAT_REL, FLOAT_ABS = 1e-12, 1e-15  # FLOAT_ABS: times the group's base lr
TENSOR_REL = {"torch": 2e-6, "uba": 2e-7}


def make_sched(kind, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
    """The scheduler under test, built positionally like CosineAnnealingWarmRestarts."""
    if kind == "torch":
        return lrs.CosineAnnealingWarmRestarts(optimizer, T_0, T_mult, eta_min, last_epoch)
    if kind == "uba":
        return uba.UBAWarmRestarts(optimizer, T_0, T_mult, eta_min, last_epoch, phi=2.0)
    raise ValueError(f"unknown scheduler kind {kind!r}")


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def build_optimizer(tensor_lr=True):
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    second_lr = torch.tensor(BASE_LRS[1]) if tensor_lr else BASE_LRS[1]
    return torch.optim.SGD(
        [{"params": net[0].parameters()}, {"params": net[1].parameters(), "lr": second_lr}],
        lr=BASE_LRS[0],
    )


def cosine(base, T_cur, T_i, eta_min=ETA_MIN):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


def cycle_of(epoch, T_0, T_mult):
    """(T_cur, T_i) of an epoch (any non-negative real), by walking the cycles in
    exact rational arithmetic: a bookkeeping independent of torch's logarithm."""
    epoch, start, T_i = Fraction(epoch), 0, T_0
    while epoch >= start + T_i:
        start, T_i = start + T_i, T_i * T_mult
    return float(epoch - start), T_i


def read_lrs(optimizer):
    return [float(group["lr"]) for group in optimizer.param_groups]


def assert_lrs(kind, optimizer, want, context):
    """The optimizer's lrs against `want` (one value per group)."""
    for group, (got, target, base) in enumerate(zip(read_lrs(optimizer), want, BASE_LRS)):
        rel = FLOAT_REL if group == 0 else TENSOR_REL[kind]
        assert math.isclose(got, target, rel_tol=rel, abs_tol=FLOAT_ABS * base), (
            f"{kind}, {context}, group {group}: got {got!r}, expected {target!r}"
        )


def assert_cosine_at(kind, optimizer, T_cur, T_i, context, eta_min=ETA_MIN):
    want = [cosine(base, T_cur, T_i, eta_min) for base in BASE_LRS]
    assert_lrs(kind, optimizer, want, f"{context} (T_cur={T_cur}, T_i={T_i})")


def step_epoch(scheduler, epoch):
    """step(epoch): documented usage for this class, so no deprecation warning
    (torch deprecates it for the other schedulers)."""
    _, caught = record_warnings(lambda: scheduler.step(epoch))
    assert [str(w.message) for w in caught] == []


def scheduler_state(scheduler):
    return {k: v for k, v in scheduler.__dict__.items() if k != "optimizer"}


# ---------------------------------------------------------------- torch's own scenarios


@pytest.mark.parametrize("T_mult", [1, 2, 4])
def test_lr1_step_follows_the_cycles(kind, T_mult):
    """test_CosineAnnealingWarmRestarts_lr1: 100 plain step()s."""
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 10, T_mult, ETA_MIN)
    T_cur, T_i = 0, 10
    for epoch in range(100):
        assert_cosine_at(kind, optimizer, T_cur, T_i, f"epoch {epoch}")
        assert (scheduler.T_cur, scheduler.T_i) == (T_cur, T_i)
        optimizer.step()
        scheduler.step()
        T_cur += 1
        if T_cur >= T_i:
            T_cur, T_i = T_cur - T_i, T_i * T_mult


@pytest.mark.parametrize("T_mult", [1, 2, 4])
def test_lr2_fractional_epochs_follow_the_cycles(kind, T_mult):
    """test_CosineAnnealingWarmRestarts_lr2: step(epoch) at epochs 0, 0.1, ..., 29.9."""
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 10, T_mult, ETA_MIN)
    for tenths in range(300):
        epoch = round(tenths * 0.1, 1)
        step_epoch(scheduler, epoch)
        assert_cosine_at(
            kind, optimizer, *cycle_of(Fraction(tenths, 10), 10, T_mult), f"step({epoch})"
        )


LR3_CASES = {  # T_mult: (epochs, T_curs, T_is), as in torch's test
    1: (
        [0, 1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13],
        [1, 2, 3, 4, 5, 2, 7, 3, 4, 5, 6, 3],
        [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
    ),
    2: (
        [0, 1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3],
        [1, 2, 3, 4, 5, 15, 2, 3, 4, 10, 11, 3],
        [10, 10, 10, 10, 10, 20, 40, 40, 40, 80, 80, 10],
    ),
    3: (
        [0, 0.1, 0.2, 0.3, 1.3, 2.3, 17.5, 18.5, 19.5, 29.5, 30.5, 31.5, 50],
        [0.1, 0.2, 0.3, 1.3, 2.3, 7.5, 8.5, 9.5, 19.5, 20.5, 21.5, 10],
        [10, 10, 10, 10, 10, 30, 30, 30, 30, 30, 30, 90],
    ),
}


@pytest.mark.parametrize("T_mult", sorted(LR3_CASES))
def test_lr3_interleaved_epochs_jump_between_cycles(kind, T_mult):
    """test_CosineAnnealingWarmRestarts_lr3: step(epoch) forwards and backwards."""
    epochs, T_curs, T_is = LR3_CASES[T_mult]
    positions = [(0, 10), *zip(T_curs, T_is)]
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 10, T_mult, ETA_MIN)
    for epoch, (T_cur, T_i) in zip(epochs, positions, strict=True):
        step_epoch(scheduler, epoch)
        assert_cosine_at(kind, optimizer, T_cur, T_i, f"step({epoch})")


def test_state_dict_loads_into_a_differently_built_scheduler(kind):
    """test_CosineAnnealingWarmRestarts_lr_state_dict."""
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 10, 2)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    other = make_sched(kind, optimizer, 100)
    other.load_state_dict(scheduler.state_dict())
    assert_same_state(scheduler_state(other), scheduler_state(scheduler), "state")
    assert_same_state(other.get_last_lr(), scheduler.get_last_lr(), "get_last_lr()")


@pytest.mark.parametrize("weights_only", [True, False])
def test_state_dict_survives_torch_save_and_load(kind, weights_only):
    """test_lr_scheduler_state_dict_load with CosineAnnealingWarmRestarts(T_0=20)."""
    optimizer = build_optimizer()
    state = make_sched(kind, optimizer, 20).state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=weights_only)
    assert_same_state(loaded, state, "loaded")
    again = make_sched(kind, optimizer, 20)
    again.load_state_dict(loaded)
    assert_same_state(again.state_dict(), state, "state_dict()")


def set_T_cur_by_hand(kind):
    """T_0=4, T_cur set to 7, 8, 9 before a step: (T_cur, lr) after each step."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.05)
    scheduler = make_sched(kind, optimizer, 4)
    rows = []
    for T_cur in [7, 8, 9]:
        scheduler.T_cur = T_cur
        optimizer.step()
        scheduler.step()
        rows.append((scheduler.T_cur, optimizer.param_groups[0]["lr"]))
    return rows


def mutate_a_tensor_lr(kind):
    """A tensor lr scaled in place after each step(epoch): what the scheduler and the
    param group keep as the initial lr."""
    lr = torch.as_tensor(0.1)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.randn(1))], lr=lr)
    scheduler = make_sched(kind, optimizer, 20)
    rows = []
    for epoch in range(2):
        optimizer.step()
        step_epoch(scheduler, epoch)
        lr.multiply_(0.1)
        group = optimizer.param_groups[0]
        rows.append(
            (
                float(group["initial_lr"]),
                [float(b) for b in scheduler.base_lrs],
                scheduler.base_lrs[0] is lr,
                float(group["lr"]),
            )
        )
    return rows


# torch fixed both in its own class along the supported range (pytorch#151289, #127190):
# the upstream tests run where torch's class has the fix; the parity test runs everywhere.
TORCH_WRAPS_T_CUR = [T_cur for T_cur, _ in set_T_cur_by_hand("torch")] == [0, 1, 2]
LR_0_1 = float(torch.tensor(0.1))  # the float32 tensor's value
TORCH_COPIES_INITIAL_LR = all(
    row[:3] == (LR_0_1, [LR_0_1], False) for row in mutate_a_tensor_lr("torch")
)


@pytest.mark.skipif(not TORCH_WRAPS_T_CUR, reason="this torch's class subtracts T_i once")
def test_T_cur_set_by_hand_wraps_at_the_next_step(kind):
    """test_CosineAnnealingWarmRestarts_T_cur_reset."""
    for (T_cur, lr), was in zip(set_T_cur_by_hand(kind), [7, 8, 9]):
        assert T_cur == (was + 1) % 4
        assert math.isclose(lr, cosine(0.05, T_cur, 4, 0.0), rel_tol=FLOAT_REL)


@pytest.mark.skipif(not TORCH_COPIES_INITIAL_LR, reason="this torch's class aliases the lr tensor")
def test_a_tensor_initial_lr_is_constant_and_not_aliased(kind):
    """test_constant_initial_lr with CosineAnnealingWarmRestarts(T_0=20)."""
    for initial_lr, base_lrs, aliased, _ in mutate_a_tensor_lr(kind):
        assert (initial_lr, base_lrs, aliased) == (LR_0_1, [LR_0_1], False)


def test_where_torch_changed_between_versions_uba_follows_the_installed_torch():
    """The two scenarios above, side by side with torch's own class, on any torch."""
    for scenario in (set_T_cur_by_hand, mutate_a_tensor_lr):
        ours, theirs = scenario("uba"), scenario("torch")
        assert [row[:-1] for row in ours] == [row[:-1] for row in theirs], scenario.__name__
        for got, want in zip(ours, theirs):
            assert math.isclose(got[-1], want[-1], rel_tol=2e-7), scenario.__name__


def test_rebuilding_with_last_epoch_0_resumes_the_lr(kind):
    """test_lr_scheduler_checkpoint with CosineAnnealingWarmRestarts(T_0=20)."""
    model = torch.nn.Linear(3, 3)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = make_sched(kind, optimizer, 20)
    optimizer.step()
    scheduler.step()
    restored = torch.optim.AdamW(model.parameters())
    restored.load_state_dict(optimizer.state_dict())
    resumed = make_sched(kind, restored, 20, last_epoch=0)
    assert resumed.get_last_lr()[0] == optimizer.param_groups[0]["lr"]


# ---------------------------------------------------------------- the class's docs


@pytest.mark.parametrize("T_mult", [1, 2])
def test_per_iteration_stepping_inside_epochs(kind, T_mult):
    """The docs' step(epoch + i / iters) inside each epoch, over several restarts."""
    iters, T_0 = 7, 3
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_0, T_mult, ETA_MIN)
    for epoch in range(25):
        for i in range(iters):
            optimizer.step()
            step_epoch(scheduler, epoch + i / iters)
            T_cur, T_i = cycle_of(Fraction(epoch) + Fraction(i, iters), T_0, T_mult)
            assert_cosine_at(kind, optimizer, T_cur, T_i, f"step({epoch} + {i}/{iters})")
            assert scheduler.last_epoch == epoch


@pytest.mark.parametrize("T_mult", [1, 2])
def test_step_after_step_epoch_continues_from_that_epoch(kind, T_mult):
    """The docs' interleaving: 20 step()s, step(26), then step() is epoch 27."""
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 10, T_mult, ETA_MIN)
    for epoch in range(1, 21):
        optimizer.step()
        scheduler.step()
        assert_cosine_at(kind, optimizer, *cycle_of(epoch, 10, T_mult), f"epoch {epoch}")
    step_epoch(scheduler, 26)
    assert_cosine_at(kind, optimizer, *cycle_of(26, 10, T_mult), "step(26)")
    for epoch in range(27, 80):
        optimizer.step()
        scheduler.step()
        assert scheduler.last_epoch == epoch
        assert_cosine_at(kind, optimizer, *cycle_of(epoch, 10, T_mult), f"epoch {epoch}")


def test_an_epoch_an_ulp_before_a_restart_gives_the_restart_value(kind):
    """torch's logarithm places step(30 - 1 ulp) (T_0=10, T_mult=2) just past the
    restart, at T_cur = -3.6e-15; the cosine is even, so that is the restart lr."""
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 10, 2, ETA_MIN)
    step_epoch(scheduler, math.nextafter(30.0, 0.0))
    assert -1e-14 < scheduler.T_cur < 0 and scheduler.T_i == 40
    assert_cosine_at(kind, optimizer, 0, 40, "step(30 - ulp)")


# ---------------------------------------------------------------- torch's contract


def test_get_lr_outside_step_warns_and_changes_nothing(kind):
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 10, 2, ETA_MIN)
    for _ in range(13):
        optimizer.step()
        scheduler.step()
    before = read_lrs(optimizer)
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        values = scheduler.get_lr()
    assert read_lrs(optimizer) == before
    assert [float(v) for v in values] == pytest.approx(before, rel=1e-6)


def test_normal_use_warns_nothing_and_keeps_the_lr_types(kind):
    optimizer = build_optimizer()

    def use():
        scheduler = make_sched(kind, optimizer, 5, 2)
        for _ in range(30):
            optimizer.step()
            scheduler.step()
        return scheduler

    scheduler, caught = record_warnings(use)
    assert [str(w.message) for w in caught] == []
    kinds = [type(group["lr"]) for group in optimizer.param_groups]
    assert kinds == [float, torch.Tensor]
    assert [type(v) for v in scheduler.get_last_lr()] == kinds


def test_checkpoint_resume_continues_exactly(kind):
    """Save after 25 steps (T_mult=2: inside the second cycle), rebuild, load, go on."""

    def fresh():
        optimizer = build_optimizer()
        return optimizer, make_sched(kind, optimizer, 5, 2, ETA_MIN)

    optimizer, scheduler = fresh()
    for _ in range(25):
        optimizer.step()
        scheduler.step()
    saved = round_trip({"opt": optimizer.state_dict(), "sched": scheduler.state_dict()})
    resumed_opt, resumed = fresh()
    resumed_opt.load_state_dict(saved["opt"])
    resumed.load_state_dict(saved["sched"])
    for epoch in range(26, 60):
        for opt, sched in ((optimizer, scheduler), (resumed_opt, resumed)):
            opt.step()
            sched.step()
        assert read_lrs(resumed_opt) == read_lrs(optimizer)
        assert_cosine_at(kind, resumed_opt, *cycle_of(epoch, 5, 2), f"epoch {epoch}")


def test_after_a_linear_warmup_in_sequential_lr(kind):
    """LinearLR warmup for 5 epochs, then the restarts: the lrs torch's class
    gives with float lrs, also for a tensor lr."""
    skip_torch_where_sequential_lr_moves_initial_lr(kind)

    def run(factory, optimizer):
        warmup = lrs.LinearLR(optimizer, start_factor=0.1, total_iters=5)
        restarts = factory(optimizer, 4, 2, ETA_MIN)
        chain = lrs.SequentialLR(optimizer, [warmup, restarts], milestones=[5])
        rows = []
        for _ in range(40):
            rows.append(read_lrs(optimizer))
            optimizer.step()
            chain.step()
        return rows

    reference = run(lrs.CosineAnnealingWarmRestarts, build_optimizer(tensor_lr=False))
    rows, caught = record_warnings(
        lambda: run(lambda *args: make_sched(kind, *args), build_optimizer())
    )
    assert [str(w.message) for w in caught] == []
    for epoch, (row, want) in enumerate(zip(rows, reference)):
        for group, (got, target) in enumerate(zip(row, want)):
            rel = FLOAT_REL if group == 0 else TENSOR_REL["torch"]
            assert math.isclose(got, target, rel_tol=rel, abs_tol=1e-15), (epoch, group)


# ---------------------------------------------------------------- what phi adds


@pytest.mark.parametrize("phi", [0.5, 1.0, 4.0])
@pytest.mark.parametrize("T_mult", [1, 3])
def test_any_phi_is_uba_over_each_cycle(phi, T_mult):
    """Plain steps and fractional epochs: UBA at (T_cur, T_i) from the exact
    bookkeeping, against the 50-digit reference; lrs fall within a cycle."""
    optimizer = build_optimizer(tensor_lr=False)
    scheduler = uba.UBAWarmRestarts(optimizer, 4, T_mult, ETA_MIN, phi=phi)
    previous = None
    for epoch in range(60):
        T_cur, T_i = cycle_of(epoch, 4, T_mult)
        for group, base in enumerate(BASE_LRS):
            want = exact_uba(T_cur, T_i, phi, base, ETA_MIN)
            got = optimizer.param_groups[group]["lr"]
            assert math.isclose(got, want, rel_tol=1e-14), (epoch, group, got, want)
        if T_cur == 0:
            assert optimizer.param_groups[0]["lr"] == BASE_LRS[0]  # a restart: the peak
        else:
            assert optimizer.param_groups[0]["lr"] < previous
        previous = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
    for tenths in range(0, 600, 7):
        step_epoch(scheduler, tenths / 10)
        T_cur, T_i = cycle_of(Fraction(tenths, 10), 4, T_mult)
        want = exact_uba(T_cur, T_i, phi, BASE_LRS[0], ETA_MIN)
        assert math.isclose(optimizer.param_groups[0]["lr"], want, rel_tol=1e-13), tenths


def test_phi_is_kept_in_the_state_dict():
    optimizer = build_optimizer()
    scheduler = uba.UBAWarmRestarts(optimizer, 10, phi=0.5)
    other = uba.UBAWarmRestarts(build_optimizer(), 10)
    state = round_trip(scheduler.state_dict())
    assert type(state["phi"]) is float and state["phi"] == 0.5
    other.load_state_dict(state)
    assert other.phi == 0.5


@pytest.mark.parametrize("phi", [1.0, 2.0])
def test_cycles_longer_than_2_to_the_53_keep_going(phi):
    """T_mult = 2**50 makes the second cycle 100 * 2**50 epochs long."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = uba.UBAWarmRestarts(optimizer, 100, 2**50, phi=phi)
    control_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    control = lrs.CosineAnnealingWarmRestarts(control_opt, 100, 2**50)
    for _ in range(150):
        for opt, sched in ((optimizer, scheduler), (control_opt, control)):
            opt.step()
            sched.step()
    assert scheduler.T_i == 100 * 2**50 > 2**53 and scheduler.T_cur == 50
    got = optimizer.param_groups[0]["lr"]
    assert math.isclose(got, exact_uba(50, 100 * 2**50, phi), rel_tol=1e-15)
    if phi == 2.0:
        assert math.isclose(got, control_opt.param_groups[0]["lr"], rel_tol=1e-15)
    step_epoch(scheduler, 100 + 2.0**55)  # deep into that cycle, by step(epoch)
    assert scheduler.T_cur == pytest.approx(2.0**55) and scheduler.T_i == 100 * 2**50
    want = exact_uba(scheduler.T_cur, 100 * 2**50, phi)
    assert math.isclose(optimizer.param_groups[0]["lr"], want, rel_tol=1e-14)


@pytest.mark.parametrize("value", [10, 10.0, "numpy", "tensor"])
def test_T_0_and_T_mult_take_any_integral_number(value):
    import numpy as np

    number = {"numpy": np.int64(10), "tensor": torch.tensor(10)}.get(value, value)
    scheduler = uba.UBAWarmRestarts(build_optimizer(), number, number // 5)
    assert (type(scheduler.T_0), scheduler.T_0, type(scheduler.T_mult)) == (int, 10, int)
    assert scheduler.T_mult == 2 and scheduler.T_i == 10


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"T_0": 0}, ValueError, r"T_0 must be an integer in \[1, 2\*\*53\], got 0"),
        ({"T_0": 2.5}, ValueError, r"T_0 must be an integer .*got 2\.5"),
        ({"T_0": "10"}, TypeError, "T_0 must be a real number, got str"),
        ({"T_0": True}, TypeError, "T_0 must be an integer, got bool"),
        ({"T_mult": 0}, ValueError, r"T_mult must be an integer in \[1, 2\*\*53\], got 0"),
        ({"T_mult": 1.5}, ValueError, r"T_mult must be an integer .*got 1\.5"),
        ({"eta_min": math.nan}, ValueError, "eta_min must be a finite number, got nan"),
        ({"eta_min": "0"}, TypeError, "eta_min must be a real number, got str"),
        ({"phi": 0.0}, ValueError, "phi must be"),
        ({"phi": math.inf}, ValueError, "phi must be"),
        ({"phi": "1"}, TypeError, "phi must be a real number"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, error, message):
    arguments = {"T_0": 10, **kwargs}
    with pytest.raises(error, match=message):
        uba.UBAWarmRestarts(build_optimizer(), **arguments)


# ---------------------------------------------------------------- a group added later


def run_with_a_group_added(kind, by_epoch):
    """Three steps, then optimizer.add_param_group (a float lr and a tensor lr),
    then ten more steps (plain, or step(epoch) at fractional epochs): after each
    step, every group's lr, (T_cur, T_i, last_epoch), and what the step raised."""
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, 5, 2, ETA_MIN)
    rows = []
    for step in range(13):
        if step == 3:
            optimizer.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.3})
            optimizer.add_param_group(
                {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": torch.tensor(0.2)}
            )
        optimizer.step()
        try:
            if by_epoch:
                scheduler.step(step + 0.5)
            else:
                scheduler.step()
            raised = None
        except Exception as error:  # what the installed torch raises is the point
            raised = (type(error), str(error))
        rows.append(
            (read_lrs(optimizer), (scheduler.T_cur, scheduler.T_i, scheduler.last_epoch), raised)
        )
    return rows


@pytest.mark.parametrize("by_epoch", [False, True])
def test_a_group_added_later_is_treated_as_torchs_class_treats_it(by_epoch):
    """torch's class computes one lr per base lr: torch before 2.13 leaves the new
    groups alone and goes on scheduling the others; later torch refuses the step
    (zip(strict=True)).  Whatever the installed torch does, the twin does: the same
    lrs, bookkeeping and errors at every step."""
    ours, theirs = (
        run_with_a_group_added("uba", by_epoch),
        run_with_a_group_added("torch", by_epoch),
    )
    for step, ((got, state, raised), (want, torch_state, torch_raised)) in enumerate(
        zip(ours, theirs, strict=True)
    ):
        assert (state, raised) == (torch_state, torch_raised), f"step {step}"
        assert got == pytest.approx(want, rel=2e-6), f"step {step}"
    if theirs[-1][2] is None:  # torch schedules the first groups: so does the twin
        assert all(a[0][:2] != b[0][:2] for a, b in zip(ours[3:], ours[4:]))  # not frozen
        assert ours[-1][0][2:] == pytest.approx([0.3, 0.2])
