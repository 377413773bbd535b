"""get_uba_schedule_with_warmup(phi=2) gives transformers' cosine schedules.

The references are the real transformers functions, get_cosine_schedule_with_warmup
(min_lr_rate = 0) and get_cosine_with_min_lr_schedule_with_warmup(min_lr_rate=r), each
driving its own optimizer beside ours, compared at every step, past the end of the
budget too.  Tolerance: 1e-12 relative, or 1e-15 x the peak absolute: transformers
forms 1 + cos(pi p), whose ~1e-16 absolute error is large relative to the last values
before a zero floor.  For phi != 2 the reference is the 50-digit UBA value.
"""

from __future__ import annotations

import math
import pickle

import pytest

torch = pytest.importorskip("torch")

import uba  # noqa: E402  (after the torch skip: a broken uba must fail, not skip)
from uba.hf import uba_warmup_factor  # noqa: E402

from ..helpers import exact_uba  # noqa: E402
from .twins import round_trip  # noqa: E402

PEAKS = (1e-3, 0.5)  # two parameter groups
REL, ABS = 1e-12, 1e-15  # ABS: times the group's peak

# (num_warmup_steps, num_training_steps): the usual, a long one, and the corner cases
# transformers defines too: warmup of the whole budget or more, a budget of one step.
BUDGETS = [(0, 100), (10, 100), (100, 1000), (7, 8), (10, 10), (20, 10), (0, 1), (1, 1)]


def build_optimizer():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    return torch.optim.SGD(
        [{"params": net[0].parameters()}, {"params": net[1].parameters(), "lr": PEAKS[1]}],
        lr=PEAKS[0],
    )


def transformers_schedule(optimizer, warmup, total, min_lr_rate):
    optimization = pytest.importorskip("transformers.optimization")
    if min_lr_rate == 0.0:
        return optimization.get_cosine_schedule_with_warmup(optimizer, warmup, total)
    return optimization.get_cosine_with_min_lr_schedule_with_warmup(
        optimizer, warmup, total, min_lr_rate=min_lr_rate
    )


def run(scheduler, steps):
    """The lrs of every group before each of `steps` optimizer steps."""
    rows = []
    for _ in range(steps):
        rows.append([float(group["lr"]) for group in scheduler.optimizer.param_groups])
        scheduler.optimizer.step()
        scheduler.step()
    return rows


def expected_factor(step, warmup, total, phi, min_lr_rate):
    """docs' rule, with the 50-digit UBA value."""
    if step < warmup:
        return step / max(1, warmup)
    return exact_uba(step - warmup, max(1, total - warmup), phi, 1.0, min_lr_rate)


@pytest.mark.parametrize("min_lr_rate", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize(("warmup", "total"), BUDGETS)
def test_phi_2_is_transformers_cosine_at_every_step(warmup, total, min_lr_rate):
    steps = 3 * total + warmup + 2  # past the end, where both rise again
    want = run(transformers_schedule(build_optimizer(), warmup, total, min_lr_rate), steps)
    ours = uba.get_uba_schedule_with_warmup(
        build_optimizer(), warmup, total, phi=2.0, min_lr_rate=min_lr_rate
    )
    for step, (got_row, want_row) in enumerate(zip(run(ours, steps), want)):
        for got, target, peak in zip(got_row, want_row, PEAKS):
            assert math.isclose(got, target, rel_tol=REL, abs_tol=ABS * peak), (
                f"step {step}: got {got!r}, transformers {target!r}"
            )


@pytest.mark.parametrize("phi", [0.25, 1.0, 2.0, 8.0])
@pytest.mark.parametrize("min_lr_rate", [0.0, 0.1])
def test_any_phi_follows_its_formula(phi, min_lr_rate):
    warmup, total = 10, 60
    scheduler = uba.get_uba_schedule_with_warmup(build_optimizer(), warmup, total, phi, min_lr_rate)
    rows = run(scheduler, 2 * total)
    for step, row in enumerate(rows):
        factor = expected_factor(step, warmup, total, phi, min_lr_rate)
        for got, peak in zip(row, PEAKS):
            assert math.isclose(got, peak * factor, rel_tol=1e-14, abs_tol=1e-300), step
    # the shape's landmarks: the peak after warmup, the floor at the end, exactly
    assert rows[warmup] == list(PEAKS)
    assert rows[total] == [peak * min_lr_rate for peak in PEAKS]
    decay = [row[0] for row in rows[warmup : total + 1]]
    assert all(a > b for a, b in zip(decay, decay[1:]))


def test_the_factor_is_accurate_for_a_huge_budget():
    total = 2**40
    for step in (1, 2**20, 2**39, total - 2**20, total - 1):
        got = uba_warmup_factor(
            step, num_warmup_steps=0, num_training_steps=total, phi=0.5, min_lr_rate=0.0
        )
        assert math.isclose(got, exact_uba(step, total, 0.5), rel_tol=1e-14), step


def test_state_dict_loads_with_weights_only_and_resumes_exactly():
    def fresh():
        return uba.get_uba_schedule_with_warmup(build_optimizer(), 5, 40, 0.5, 0.1)

    scheduler = fresh()
    run(scheduler, 17)
    state = round_trip(scheduler.state_dict())
    assert state["last_epoch"] == 17
    resumed = fresh()
    resumed.optimizer.load_state_dict(scheduler.optimizer.state_dict())
    resumed.load_state_dict(state)
    assert run(resumed, 30) == run(scheduler, 30)


def test_resuming_with_last_epoch_gives_the_same_lrs():
    scheduler = uba.get_uba_schedule_with_warmup(build_optimizer(), 5, 40, 0.5)
    run(scheduler, 12)
    optimizer = build_optimizer()
    optimizer.load_state_dict(scheduler.optimizer.state_dict())
    resumed = uba.get_uba_schedule_with_warmup(optimizer, 5, 40, 0.5, last_epoch=11)
    assert resumed.get_last_lr() == scheduler.get_last_lr()
    assert run(resumed, 20) == run(scheduler, 20)


def test_it_is_a_lambda_lr_whose_lambda_pickles():
    scheduler = uba.get_uba_schedule_with_warmup(build_optimizer(), 3, 30, 4.0, 0.2)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    (lr_lambda,) = set(scheduler.lr_lambdas)
    copy = pickle.loads(pickle.dumps(lr_lambda))
    assert [copy(s) for s in range(40)] == [lr_lambda(s) for s in range(40)]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"num_warmup_steps": -1},
            ValueError,
            r"num_warmup_steps must be an integer in \[0, 2\*\*53\], got -1",
        ),
        ({"num_warmup_steps": 1.5}, ValueError, r"num_warmup_steps must be .*got 1\.5"),
        (
            {"num_training_steps": 0},
            ValueError,
            r"num_training_steps must be an integer in \[1, 2\*\*53\], got 0",
        ),
        ({"num_training_steps": "100"}, TypeError, "num_training_steps must be a real number"),
        ({"min_lr_rate": -0.1}, ValueError, r"min_lr_rate must be a number in \[0, 1\], got -0\.1"),
        ({"min_lr_rate": 1.5}, ValueError, r"min_lr_rate must be a number in \[0, 1\], got 1\.5"),
        ({"min_lr_rate": math.nan}, ValueError, "min_lr_rate must be a number in"),
        ({"phi": 0.0}, ValueError, "phi must be"),
        ({"phi": None}, TypeError, "phi must be a real number"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, error, message):
    arguments = {"num_warmup_steps": 10, "num_training_steps": 100, **kwargs}
    with pytest.raises(error, match=message):
        uba.get_uba_schedule_with_warmup(build_optimizer(), **arguments)
