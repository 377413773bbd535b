"""UBALR(phi=2) honours the contract of torch.optim.lr_scheduler.CosineAnnealingLR.

Every scenario runs twice: against torch's own CosineAnnealingLR (the control, which
proves the expectations here are right) and against uba.UBALR(..., phi=2.0). The
scenarios re-author PyTorch's CosineAnnealingLR tests (pinned against torch 2.13.0);
targets come from closed forms written out here with math.cos, or, where only a
simulation gives them (composition past the trough), from torch's CosineAnnealingLR
run on an all-float "twin" optimizer.

The standard fixture and the tolerances are described in twins.py.
"""

import dataclasses
import functools
import math
from collections.abc import Callable

import pytest

torch = pytest.importorskip("torch")
lrs = torch.optim.lr_scheduler

from .twins import (  # noqa: E402
    BASE_LRS,
    F32_CHAINED_REL,
    F32_CLOSED_FORM_REL,
    FLOAT_ABS,
    FLOAT_REL,
    T_MAX,
    assert_lrs_close,
    assert_only_plain_types,
    assert_rows_close,
    assert_same_state,
    build_optimizer,
    closed_form_rows,
    closed_form_tensor_rel,
    cosine_closed_form,
    make_sched,
    read_lrs,
    record_warnings,
    round_trip,
    run_steps,
    scheduler_state,
    skip_torch_where_sequential_lr_moves_initial_lr,
    step_all,
    torch_copies_tensor_lrs,
    torch_cosine,
    torch_keeps_the_lr_when_resuming,
    torch_sequential_lr_warns_at_milestones,
    torch_step_warnings_point_at_the_caller,
    torch_updates_tensor_lrs_in_place,
    warning_matches,
)

# --------------------------------------------------------------------------- values


def test_values_follow_the_closed_form_and_are_periodic_past_T_max(kind):
    eta_min = 1e-10
    epochs = 3 * T_MAX
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_MAX, eta_min)

    rows = []
    for _ in range(epochs):
        rows.append(read_lrs(optimizer))
        step_all(optimizer, [scheduler])
        last = scheduler.get_last_lr()
        assert type(last[0]) is float and isinstance(last[1], torch.Tensor)
        assert [float(x) for x in last] == read_lrs(optimizer)

    assert_rows_close(
        rows,
        closed_form_rows(epochs, T_MAX, eta_min),
        tensor_rel=closed_form_tensor_rel(kind),
        what=f"{kind} cosine",
    )


def test_step_with_epoch_uses_the_closed_form_and_warns_once_per_call(kind):
    T_max, eta_min = 5, 0.005
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_max, eta_min)

    for epoch in list(range(4 * T_max)) + [17, 3, 12, 0]:
        optimizer.step()
        _, caught = record_warnings(lambda: scheduler.step(epoch))
        assert [(w.category, str(w.message)) for w in caught] == [
            (UserWarning, lrs.EPOCH_DEPRECATION_WARNING)
        ]
        assert scheduler.last_epoch == epoch
        # Read the optimizer the scheduler drives (upstream's version of this test
        # reads a fresh optimizer and so compares constants with themselves).
        assert_lrs_close(
            read_lrs(scheduler.optimizer),
            [cosine_closed_form(b, epoch, T_max, eta_min) for b in BASE_LRS],
            tensor_rel=closed_form_tensor_rel(kind),
            context=f"{kind} step({epoch})",
        )


# --------------------------------------------------------------------------- composition


def _plateau_metrics(epochs=3 * T_MAX, bad_epochs=(3, 6, 14, 20)):
    """A falling metric that stalls (repeats) at `bad_epochs`."""
    metrics, value = [], 100.0
    for t in range(epochs):
        if t not in bad_epochs:
            value -= 1.0
        metrics.append(value)
    return metrics, bad_epochs


PLATEAU_METRICS, PLATEAU_BAD_EPOCHS = _plateau_metrics()


@dataclasses.dataclass(frozen=True)
class Partner:
    """A scheduler composed with the cosine on one optimizer, and its closed-form factor."""

    build: Callable
    factor: Callable[[int], float]  # multiplier applied to the lr read before epoch t
    eta_min: float = 0.0
    metrics: list | None = None


PARTNERS = {
    "StepLR": Partner(
        build=lambda opt: lrs.StepLR(opt, step_size=3, gamma=0.1),
        factor=lambda t: 0.1 ** (t // 3),
    ),
    "MultiStepLR": Partner(
        build=lambda opt: lrs.MultiStepLR(opt, milestones=[2, 5, 9], gamma=0.1),
        factor=lambda t: 0.1 ** sum(t >= m for m in (2, 5, 9)),
    ),
    "ExponentialLR": Partner(
        build=lambda opt: lrs.ExponentialLR(opt, gamma=0.9),
        factor=lambda t: 0.9**t,
    ),
    "LinearLR": Partner(
        build=lambda opt: lrs.LinearLR(opt, start_factor=0.4, total_iters=4),
        factor=lambda t: 0.4 + 0.6 * min(t, 4) / 4,
    ),
    # eta_min != 0 here, so the product rule holds only up to eta_min (see below).
    "ReduceLROnPlateau": Partner(
        build=lambda opt: lrs.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=0),
        factor=lambda t: 0.5 ** sum(b < t for b in PLATEAU_BAD_EPOCHS),
        eta_min=1e-10,
        metrics=PLATEAU_METRICS,
    ),
}

STEP_ORDERS = pytest.mark.parametrize(
    "cosine_steps_first", [False, True], ids=["partner-steps-first", "cosine-steps-first"]
)


def run_composition(partner_name, cosine_factory, optimizer, cosine_steps_first, epochs):
    """The partner is created FIRST, then the cosine (positionally); both step each epoch."""
    partner = PARTNERS[partner_name]
    other = partner.build(optimizer)
    cosine = cosine_factory(optimizer, T_MAX, partner.eta_min)
    order = [cosine, other] if cosine_steps_first else [other, cosine]
    return run_steps(optimizer, order, epochs, partner.metrics)


@pytest.mark.parametrize("partner_name", sorted(PARTNERS))
@STEP_ORDERS
def test_composed_lr_is_the_cosine_closed_form_times_the_partners_factor(
    kind, partner_name, cosine_steps_first
):
    partner = PARTNERS[partner_name]
    epochs = T_MAX + 1  # up to the trough; past it torch's additive step breaks the product
    rows = run_composition(
        partner_name,
        functools.partial(make_sched, kind),
        build_optimizer(),
        cosine_steps_first,
        epochs,
    )
    for t, row in enumerate(rows):
        for group, (got, base) in enumerate(zip(row, BASE_LRS)):
            want = cosine_closed_form(base, t, T_MAX, partner.eta_min) * partner.factor(t)
            rel = FLOAT_REL if group == 0 else F32_CHAINED_REL
            # With eta_min != 0 the recursion is affine, not multiplicative: the
            # product rule is off by at most eta_min.
            abs_tol = FLOAT_ABS * base + partner.eta_min
            assert math.isclose(got, want, rel_tol=rel, abs_tol=abs_tol), (
                f"{kind} + {partner_name}, epoch {t}, group {group}: got {got!r}, expected {want!r}"
            )


@pytest.mark.parametrize("partner_name", sorted(PARTNERS))
@STEP_ORDERS
def test_composed_lr_matches_torch_including_past_the_trough(
    kind, partner_name, cosine_steps_first
):
    epochs = 2 * T_MAX + 5
    reference = run_composition(
        partner_name, torch_cosine, build_optimizer(tensor_lr=False), cosine_steps_first, epochs
    )
    rows = run_composition(
        partner_name,
        functools.partial(make_sched, kind),
        build_optimizer(),
        cosine_steps_first,
        epochs,
    )
    assert_rows_close(rows, reference, tensor_rel=F32_CHAINED_REL, what=f"{kind} + {partner_name}")


def build_sequential(optimizer, cosine_factory, eta_min):
    warmup = lrs.LinearLR(optimizer, start_factor=0.1, total_iters=5)
    cosine = cosine_factory(optimizer, T_MAX, eta_min)
    return lrs.SequentialLR(optimizer, [warmup, cosine], milestones=[5])


def build_chained(optimizer, cosine_factory, eta_min):
    cosine = cosine_factory(optimizer, T_MAX, eta_min)
    decay = lrs.ExponentialLR(optimizer, gamma=0.9)
    return lrs.ChainedScheduler([cosine, decay])


WRAPPERS = {"SequentialLR": build_sequential, "ChainedScheduler": build_chained}


@pytest.mark.parametrize("wrapper_name", sorted(WRAPPERS))
def test_inside_sequential_and_chained_schedulers_matches_torch_without_warnings(
    kind, wrapper_name
):
    if wrapper_name == "SequentialLR":
        skip_torch_where_sequential_lr_moves_initial_lr(kind)
    build, eta_min, epochs = WRAPPERS[wrapper_name], 1e-3, 3 * T_MAX
    ref_optimizer = build_optimizer(tensor_lr=False)
    reference = run_steps(ref_optimizer, [build(ref_optimizer, torch_cosine, eta_min)], epochs)

    def run():
        optimizer = build_optimizer()
        wrapper = build(optimizer, functools.partial(make_sched, kind), eta_min)
        return run_steps(optimizer, [wrapper], epochs)

    rows, caught = record_warnings(run)
    expected = []
    if wrapper_name == "SequentialLR" and torch_sequential_lr_warns_at_milestones():
        expected = [lrs.EPOCH_DEPRECATION_WARNING]  # from torch itself, at the milestone
    assert [str(w.message) for w in caught] == expected
    assert_rows_close(rows, reference, tensor_rel=F32_CHAINED_REL, what=f"{kind} in {wrapper_name}")


def test_sequential_restarts_the_cosine_at_its_closed_form_after_the_milestone(kind):
    skip_torch_where_sequential_lr_moves_initial_lr(kind)
    eta_min, epochs, milestone = 1e-3, 3 * T_MAX, 5
    optimizer = build_optimizer()
    wrapper = build_sequential(optimizer, functools.partial(make_sched, kind), eta_min)
    rows = run_steps(optimizer, [wrapper], epochs)
    expected = [
        [
            b * (0.1 + 0.9 * t / milestone)
            if t < milestone
            else cosine_closed_form(b, t - milestone, T_MAX, eta_min)
            for b in BASE_LRS
        ]
        for t in range(epochs)
    ]
    assert_rows_close(rows, expected, tensor_rel=F32_CHAINED_REL, what=f"{kind} in SequentialLR")


# --------------------------------------------------------------------------- state


def test_state_dict_round_trips_through_weights_only_load(kind):
    T_max, eta_min = T_MAX, 0.01
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_max, eta_min)
    run_steps(optimizer, [scheduler], 7)

    state = scheduler.state_dict()
    assert "optimizer" not in state
    assert_only_plain_types(state)
    loaded = round_trip(state)
    assert_only_plain_types(loaded, "loaded state_dict")
    assert_same_state(loaded, state, "loaded state_dict")

    fresh_optimizer = build_optimizer()
    fresh = make_sched(kind, fresh_optimizer, 2 * T_max + 3, 0.2)  # deliberately different
    fresh_optimizer.load_state_dict(round_trip(optimizer.state_dict()))
    fresh.load_state_dict(loaded)

    assert_same_state(scheduler_state(fresh), scheduler_state(scheduler), "scheduler.__dict__")
    assert [float(x) for x in fresh.get_last_lr()] == [float(x) for x in scheduler.get_last_lr()]
    assert run_steps(fresh_optimizer, [fresh], 10) == run_steps(optimizer, [scheduler], 10)


@pytest.mark.parametrize("resume_at", [1, 10, 11, 13])
def test_rebuilding_with_last_epoch_k_minus_1_resumes_where_k_steps_left_off(kind, resume_at):
    T_max, eta_min, epochs = T_MAX, 0.01, 3 * T_MAX
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_max, eta_min)
    run_steps(optimizer, [scheduler], resume_at)
    saved_optimizer = round_trip(optimizer.state_dict())  # a copy: the tensor lr moves on
    saved_lrs = [float(x) for x in scheduler.get_last_lr()]
    uninterrupted = run_steps(optimizer, [scheduler], epochs - resume_at)

    resumed_optimizer = build_optimizer()
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed = make_sched(kind, resumed_optimizer, T_max, eta_min, resume_at - 1)

    assert resumed.last_epoch == resume_at
    if torch_keeps_the_lr_when_resuming():
        # Construction must not move the lr (torch's _is_initial rule): exactly equal.
        assert [float(x) for x in resumed.get_last_lr()] == saved_lrs
        assert read_lrs(resumed_optimizer) == saved_lrs
    else:  # older torch writes the closed form at resume_at: equal up to drift
        assert_lrs_close(
            read_lrs(resumed_optimizer), saved_lrs, tensor_rel=F32_CHAINED_REL, context="resumed"
        )
    assert_rows_close(
        run_steps(resumed_optimizer, [resumed], epochs - resume_at),
        uninterrupted,
        tensor_rel=closed_form_tensor_rel(kind),
        what=f"{kind} resumed at {resume_at}",
    )


@pytest.mark.parametrize("last_epoch", [0, 7])
def test_last_epoch_without_initial_lr_in_the_param_groups_raises_key_error(kind, last_epoch):
    optimizer = build_optimizer()
    with pytest.raises(KeyError, match="initial_lr"):
        make_sched(kind, optimizer, T_MAX, 0.0, last_epoch)


# --------------------------------------------------------------------------- tensor lr


def test_tensor_lr_is_updated_in_place_and_keeps_its_identity(kind):
    """In place on torch 2.4 and later; older torch puts a new tensor in the group."""
    in_place = torch_updates_tensor_lrs_in_place()
    optimizer = build_optimizer()
    lr_tensor = optimizer.param_groups[1]["lr"]
    scheduler = make_sched(kind, optimizer, T_MAX, 0.0)
    assert optimizer.param_groups[1]["lr"] is lr_tensor

    values = set()
    for _ in range(3):
        step_all(optimizer, [scheduler])
        assert (optimizer.param_groups[1]["lr"] is lr_tensor) == in_place
        values.add(float(optimizer.param_groups[1]["lr"]))
    optimizer.step()
    record_warnings(lambda: scheduler.step(4))  # the deprecated closed-form path too
    assert (optimizer.param_groups[1]["lr"] is lr_tensor) == in_place
    values.add(float(optimizer.param_groups[1]["lr"]))

    lr_now = optimizer.param_groups[1]["lr"]
    assert isinstance(lr_now, torch.Tensor)
    assert lr_now.dtype == torch.float32 and lr_now.dim() == 0
    assert len(values) == 4, "the lr tensor was not actually updated"


copies_only = pytest.mark.skipif(
    not torch_copies_tensor_lrs(), reason="this torch aliases tensor lrs in its state"
)


@copies_only
def test_tensor_initial_lr_and_base_lrs_are_copies_of_the_lr(kind):
    optimizer = build_optimizer()
    group = optimizer.param_groups[1]
    scheduler = make_sched(kind, optimizer, T_MAX, 0.0)

    assert group["initial_lr"] is not group["lr"]
    assert scheduler.base_lrs[1] is not group["initial_lr"]
    assert scheduler.base_lrs[1] is not group["lr"]

    group["lr"].mul_(0.1)  # the user mutates the lr after construction
    assert float(group["initial_lr"]) == BASE_LRS[1]
    assert float(scheduler.base_lrs[1]) == BASE_LRS[1]


@copies_only
def test_get_last_lr_returns_copies_that_never_alias_the_tensor_lr(kind):
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_MAX, 0.0)
    step_all(optimizer, [scheduler])
    last = scheduler.get_last_lr()
    before = float(last[1])
    assert last[1] is not optimizer.param_groups[1]["lr"]

    optimizer.param_groups[1]["lr"].mul_(0.1)
    assert float(last[1]) == before


# --------------------------------------------------------------------------- warnings


def test_constructing_emits_no_warning(kind):
    _, caught = record_warnings(lambda: make_sched(kind, build_optimizer(), T_MAX, 0.0))
    assert [str(w.message) for w in caught] == []


def test_stepping_after_the_optimizer_emits_no_warning(kind):
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_MAX, 1e-3)
    _, caught = record_warnings(lambda: run_steps(optimizer, [scheduler], 3 * T_MAX))
    assert [str(w.message) for w in caught] == []


def test_stepping_the_scheduler_before_the_optimizer_warns_once(kind):
    scheduler = make_sched(kind, build_optimizer(), T_MAX, 0.0)
    _, caught = record_warnings(scheduler.step)
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert warning_matches(r"`lr_scheduler\.step\(\)` before `optimizer\.step\(\)`", caught[0])
    assert warning_matches(r"how-to-adjust-learning-rate", caught[0])


def test_overriding_optimizer_step_after_construction_warns_once(kind):
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_MAX, 0.0)
    wrapped_step = optimizer.step

    def user_step(*args, **kwargs):
        return wrapped_step(*args, **kwargs)

    optimizer.step = user_step
    _, caught = record_warnings(lambda: step_all(optimizer, [scheduler]))
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert warning_matches(r"`optimizer\.step\(\)` has been overridden", caught[0])


def test_get_lr_outside_step_warns_to_use_get_last_lr_and_changes_nothing(kind):
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_MAX, 0.0)
    step_all(optimizer, [scheduler])
    before = read_lrs(optimizer)
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        scheduler.get_lr()
    assert read_lrs(optimizer) == before


@pytest.mark.parametrize("call", ["step()", "step(epoch)"])
def test_step_warnings_point_at_the_callers_line(kind, call):
    scheduler = make_sched(kind, build_optimizer(), T_MAX, 0.0)
    action = (lambda: scheduler.step()) if call == "step()" else (lambda: scheduler.step(3))
    _, caught = record_warnings(action)
    assert caught
    if torch_step_warnings_point_at_the_caller():
        assert {w.filename for w in caught} == {__file__}
    else:  # older torch warns from its own step(), for both schedulers alike
        assert {w.filename for w in caught} == {lrs.__file__}


# --------------------------------------------------------------------------- interop


def test_is_a_torch_lr_scheduler(kind):
    scheduler = make_sched(kind, build_optimizer(), T_MAX, 0.0)
    assert isinstance(scheduler, lrs.LRScheduler)


def test_cosine_then_cyclic_follows_the_closed_form_then_stays_within_cyclic_bounds(kind):
    # Regression scenario of pytorch/pytorch#21965: both schedulers are created up
    # front, the cosine is stepped 21 times (through its trough and one step past it),
    # then only CyclicLR steps. Note: CyclicLR built after another scheduler leaves the
    # lr at the existing initial_lr (its initial step reads base_lrs from initial_lr,
    # and only afterwards swaps in base_lr), so the cosine starts from 0.05 / 0.5.
    T_max, eta_min, base_lr, max_lr = 20, 0.1, 0.01, 0.1
    optimizer = build_optimizer()
    cosine = make_sched(kind, optimizer, T_max, eta_min)
    cyclic = lrs.CyclicLR(
        optimizer, base_lr=base_lr, max_lr=max_lr, step_size_up=1, step_size_down=3
    )

    cosine_rows = run_steps(optimizer, [cosine], T_max + 1) + [read_lrs(optimizer)]
    assert_rows_close(
        cosine_rows,
        closed_form_rows(T_max + 2, T_max, eta_min),
        tensor_rel=closed_form_tensor_rel(kind),
        what=f"{kind} before CyclicLR",
    )

    slack = 1 + F32_CLOSED_FORM_REL  # the tensor group holds max_lr rounded to float32
    cyclic_rows = run_steps(optimizer, [cyclic], 20)[1:] + [read_lrs(optimizer)]
    for t, row in enumerate(cyclic_rows, start=1):
        for group, lr in enumerate(row):
            assert base_lr / slack <= lr <= max_lr * slack, (
                f"CyclicLR step {t}, group {group}: {lr!r}"
            )
    assert max(read_lrs(optimizer)) <= max_lr * slack
