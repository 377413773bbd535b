"""get_uba_schedule_with_warmup(phi=2) gives transformers' cosine schedules.

The references are the real transformers functions, get_cosine_schedule_with_warmup
(min_lr_rate = 0) and get_cosine_with_min_lr_schedule_with_warmup(min_lr_rate=r), each
driving its own optimizer beside ours, compared at every step, past the end of the
budget too.  Tolerance: 1e-12 relative, or 1e-15 x the peak absolute: transformers
forms 1 + cos(pi p), whose ~1e-16 absolute error is large relative to the last values
before a zero floor.  For phi != 2 the reference is the 50-digit UBA value.
"""

from __future__ import annotations

import functools
import inspect
import io
import math
import pickle
from fractions import Fraction

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
    scheduler = uba.get_uba_schedule_with_warmup(
        build_optimizer(), warmup, total, phi=phi, min_lr_rate=min_lr_rate
    )
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
        return uba.get_uba_schedule_with_warmup(build_optimizer(), 5, 40, phi=0.5, min_lr_rate=0.1)

    scheduler = fresh()
    run(scheduler, 17)
    state = round_trip(scheduler.state_dict())
    assert state["last_epoch"] == 17
    resumed = fresh()
    resumed.optimizer.load_state_dict(scheduler.optimizer.state_dict())
    resumed.load_state_dict(state)
    assert run(resumed, 30) == run(scheduler, 30)


def test_resuming_with_last_epoch_gives_the_same_lrs():
    scheduler = uba.get_uba_schedule_with_warmup(build_optimizer(), 5, 40, phi=0.5)
    run(scheduler, 12)
    optimizer = build_optimizer()
    optimizer.load_state_dict(scheduler.optimizer.state_dict())
    resumed = uba.get_uba_schedule_with_warmup(optimizer, 5, 40, last_epoch=11, phi=0.5)
    assert resumed.get_last_lr() == scheduler.get_last_lr()
    assert run(resumed, 20) == run(scheduler, 20)


def test_it_is_a_lambda_lr_whose_lambda_pickles():
    scheduler = uba.get_uba_schedule_with_warmup(build_optimizer(), 3, 30, phi=4.0, min_lr_rate=0.2)
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
            r"num_warmup_steps must be a number in \[0, 2\*\*53\], got -1",
        ),
        ({"num_warmup_steps": math.inf}, ValueError, r"num_warmup_steps must be .*got inf"),
        ({"num_warmup_steps": "2"}, TypeError, "num_warmup_steps must be a real number"),
        (
            {"num_training_steps": -1},
            ValueError,
            r"num_training_steps must be an integer in \[0, 2\*\*53\], got -1",
        ),
        ({"num_training_steps": 10.5}, ValueError, r"num_training_steps must be .*got 10\.5"),
        ({"num_training_steps": "100"}, TypeError, "num_training_steps must be a real number"),
        ({"min_lr_rate": -0.1}, ValueError, r"min_lr_rate must be a number in \[0, 1\], got -0\.1"),
        ({"min_lr_rate": 1.5}, ValueError, r"min_lr_rate must be a number in \[0, 1\], got 1\.5"),
        ({"min_lr_rate": math.nan}, ValueError, "min_lr_rate must be a number in"),
        ({"phi": 0.0}, ValueError, "phi must be"),
        ({"phi": None}, TypeError, "phi must be a real number"),
        ({"num_cycles": 2}, ValueError, r"num_cycles must be 0\.5: UBA decays once.*got 2"),
        ({"num_cycles": 1.0}, ValueError, r"num_cycles must be 0\.5.*got 1\.0"),
        ({"num_cycles": "0.5"}, TypeError, "num_cycles must be a real number"),
        ({"min_lr": -1e-6}, ValueError, r"min_lr must be a number in \[0, 0\.001\].*got -1e-06"),
        ({"min_lr": 0.002}, ValueError, r"min_lr must be a number in \[0, 0\.001\].*got 0\.002"),
        ({"min_lr": math.nan}, ValueError, "min_lr must be a number in"),
        (
            {"min_lr": 1e-5, "min_lr_rate": 0.1},
            ValueError,
            r"give one of min_lr and min_lr_rate, not both: got min_lr=1e-05 and min_lr_rate=0\.1",
        ),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, error, message):
    arguments = {"num_warmup_steps": 10, "num_training_steps": 100, **kwargs}
    with pytest.raises(error, match=message):
        uba.get_uba_schedule_with_warmup(build_optimizer(), **arguments)


# ---------------------------------------------------------------- what transformers passes


def test_the_positional_signature_is_transformers_own():
    """optimizer, num_warmup_steps, num_training_steps, num_cycles=0.5,
    last_epoch=-1 as get_cosine_schedule_with_warmup; min_lr and min_lr_rate as
    get_cosine_with_min_lr_schedule_with_warmup; phi only by keyword."""
    optimization = pytest.importorskip("transformers.optimization")
    ours = inspect.signature(uba.get_uba_schedule_with_warmup).parameters
    cosine = inspect.signature(optimization.get_cosine_schedule_with_warmup).parameters
    with_min_lr = inspect.signature(
        optimization.get_cosine_with_min_lr_schedule_with_warmup
    ).parameters
    positional = [p for p in ours.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [(p.name, p.default) for p in positional] == [
        (p.name, p.default) for p in cosine.values()
    ]
    for name in ("min_lr", "min_lr_rate"):
        assert ours[name].default is with_min_lr[name].default is None
    assert ours["phi"].kind is inspect.Parameter.KEYWORD_ONLY


def transformers_factory(kwargs):
    optimization = pytest.importorskip("transformers.optimization")
    if "min_lr" in kwargs or "min_lr_rate" in kwargs:
        return optimization.get_cosine_with_min_lr_schedule_with_warmup
    return optimization.get_cosine_schedule_with_warmup


# (positional arguments after the optimizer, keyword arguments) as code written for
# transformers calls its cosine factories, and HF Trainer its lr_scheduler_kwargs.
TRANSFORMERS_CALLS = [
    ((2, 10), {}),
    ((2, 10, 0.5), {}),  # num_cycles, the 4th positional argument
    ((2, 10, 0.5, -1), {}),
    ((2, 10), {"num_cycles": 0.5}),
    ((2, 10), {"min_lr": 1e-5}),  # lr_scheduler_kwargs={"min_lr": ...}
    ((5, 40), {"min_lr": 1e-3}),  # the floor is the peak: constant after warmup
    ((5, 40), {"min_lr_rate": 0.1}),
    ((2.5, 10), {}),  # a fractional warmup
    ((0.5, 10), {"min_lr_rate": 0.2}),
    ((7.3, 20), {}),
    ((0, 0), {}),  # no training steps
    ((3, 0), {}),
    ((12, 10), {"min_lr": 2e-4}),
]


@pytest.mark.parametrize(("args", "kwargs"), TRANSFORMERS_CALLS)
def test_transformers_calls_run_unchanged_and_phi_2_gives_its_values(args, kwargs):
    """The same arguments to transformers' factory and ours (with phi=2): the same
    lrs at every step, in both groups (min_lr is relative to the optimizer's
    default lr, as transformers takes it), past the end too."""
    steps = 3 * max(args[1], 1) + math.ceil(args[0]) + 2
    theirs = transformers_factory(kwargs)(build_optimizer(), *args, **kwargs)
    ours = uba.get_uba_schedule_with_warmup(build_optimizer(), *args, phi=2.0, **kwargs)
    for step, (got_row, want_row) in enumerate(zip(run(ours, steps), run(theirs, steps))):
        for got, target, peak in zip(got_row, want_row, PEAKS):
            assert math.isclose(got, target, rel_tol=REL, abs_tol=ABS * peak), (
                f"step {step}: got {got!r}, transformers {target!r}"
            )


def test_a_fourth_positional_argument_is_num_cycles_not_phi():
    """Code ported positionally keeps UBA's default phi (it used to become phi)."""
    positional = run(uba.get_uba_schedule_with_warmup(build_optimizer(), 2, 10, 0.5), 12)
    default = run(uba.get_uba_schedule_with_warmup(build_optimizer(), 2, 10), 12)
    half = run(uba.get_uba_schedule_with_warmup(build_optimizer(), 2, 10, phi=0.5), 12)
    assert positional == default != half


def test_a_fractional_warmup_and_no_training_steps_follow_the_formula():
    """transformers' rule with a fractional W and T = 0, for phi != 2, at 50 digits."""
    for warmup, total in [(2.5, 12), (0.25, 3), (0, 0), (4, 0)]:
        scheduler = uba.get_uba_schedule_with_warmup(build_optimizer(), warmup, total, phi=0.5)
        for step, row in enumerate(run(scheduler, 20)):
            if step < warmup:
                factor = step / max(1, warmup)
            else:
                progress = (step - Fraction(warmup)) / max(1, total - Fraction(warmup))
                factor = exact_uba(progress.numerator, progress.denominator, 0.5)
            assert math.isclose(row[0], PEAKS[0] * factor, rel_tol=1e-14, abs_tol=1e-300), (
                warmup,
                total,
                step,
            )


# transformers' own tests of these schedules (tests/optimization/test_optimization.py,
# test_schedulers; tests/trainer, the cosine_with_min_lr scheduler from TrainingArguments),
# re-authored: each runs against transformers' function and ours with phi=2.
FACTORIES = ("transformers", "uba")


def make_factory(kind, kwargs):
    if kind == "uba":
        return functools.partial(uba.get_uba_schedule_with_warmup, phi=2.0)
    return transformers_factory(kwargs)


def lrs_read_each_step(scheduler, steps, reload_after=None):
    """get_last_lr()[0] before each step; optionally the state saved with
    torch.save and loaded back (as HF Trainer loads it) after step `reload_after`."""
    lrs = []
    for step in range(steps):
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
        if step == reload_after:
            buffer = io.BytesIO()
            torch.save(scheduler.state_dict(), buffer)
            buffer.seek(0)
            scheduler.load_state_dict(torch.load(buffer, weights_only=True))
    return lrs


@pytest.mark.parametrize("kind", FACTORIES)
def test_the_cosine_with_warmup_values_of_transformers_tests(kind):
    """AdamW at lr 10, 2 warmup steps of 10: the listed lrs (to 1e-2, as there),
    and the same lrs when the state is saved and reloaded halfway."""
    factory = make_factory(kind, {})

    def fresh():
        optimizer = torch.optim.AdamW(torch.nn.Linear(50, 50).parameters(), lr=10.0)
        return factory(optimizer, num_warmup_steps=2, num_training_steps=10)

    lrs = lrs_read_each_step(fresh(), 10)
    want = [0.0, 5.0, 10.0, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38]
    assert lrs == pytest.approx(want, abs=1e-2)
    assert lrs_read_each_step(fresh(), 10, reload_after=5) == lrs


@pytest.mark.parametrize("kind", FACTORIES)
def test_trainers_cosine_with_min_lr_ends_exactly_at_min_lr(kind):
    """lr 0.2, 2 warmup steps of 10, lr_scheduler_kwargs={"min_lr": 1e-5}: after
    the 10 steps the lr is min_lr exactly (as HF Trainer builds it)."""
    transformers = pytest.importorskip("transformers")
    optimizer = torch.optim.AdamW(torch.nn.Linear(3, 1).parameters(), lr=0.2)
    kwargs = {"min_lr": 1e-5}
    if kind == "uba":
        scheduler = make_factory(kind, kwargs)(optimizer, 2, 10, **kwargs)
    else:
        scheduler = transformers.get_scheduler(
            "cosine_with_min_lr", optimizer, 2, 10, scheduler_specific_kwargs=kwargs
        )
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr()[0] == 1e-5
