"""UBALR.rebudget follows the rule of docs/rebudget.md and keeps its promises.

The reference is written independently of uba here: the progress p(t) of the decay
in exact rational arithmetic (piecewise linear: it keeps its value at each rebudget
and reaches 1 at the new budget), and the lr eta_min + (base - eta_min) G(p) at
50 digits.  On top of the values: continuity at the switch (no jump beyond one
step's change; the naive switch, replacing T_max, is shown to fail that check),
monotone decay, eta_min exactly at the new budget, state_dict and step(epoch)
agreeing with stepping, warmup, refusals.
"""

from __future__ import annotations

import math
import os
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import uba  # noqa: E402

from ..helpers import exact_uba  # noqa: E402
from .twins import round_trip  # noqa: E402

BASE, ETA_MIN = 0.1, 1e-3
REL, ABS = 1e-12, 1e-15  # ABS: times the base lr


def reference_lrs(steps, T_max, phi, warmup_steps=0, rebudgets=(), base=BASE, eta_min=ETA_MIN):
    """The lr at steps 0..steps-1 of UBALR(T_max, phi, warmup_steps) rebudgeted at
    (step, new T_max) pairs, from the rule: exact progress, 50-digit shape."""
    W = warmup_steps
    anchor, budget = (Fraction(W), Fraction(0)), T_max  # (step, progress) the decay runs from
    changes = {}  # step -> the new budgets, in order (several may come at one step)
    for s, new_T_max in rebudgets:
        changes.setdefault(s, []).append(new_T_max)
    values = []
    for t in range(steps):
        if t < W:
            values.append(base * t / W)
        else:
            s, p_s = anchor
            p = p_s + (1 - p_s) * (t - s) / (budget - s)
            values.append(exact_uba(p.numerator, p.denominator, phi, base, eta_min))
        for new_T_max in changes.get(t, ()):  # rebudget after the lr of step t was set
            if t > W:
                s, p_s = anchor
                p = p_s + (1 - p_s) * (t - s) / (budget - s)
                p = p % 2
                anchor = (Fraction(t), 2 - p if p > 1 else p)
            budget = new_T_max
    return values


def run(T_max, phi, steps, warmup_steps=0, rebudgets=(), eta_min=ETA_MIN):
    """UBALR stepped `steps` times, rebudgeted after the given steps: (lrs, scheduler)."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    scheduler = uba.UBALR(optimizer, T_max, eta_min, phi=phi, warmup_steps=warmup_steps)
    lrs = []
    for t in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        for s, new_T_max in rebudgets:
            if s == t:
                scheduler.rebudget(new_T_max)
        optimizer.step()
        scheduler.step()
    return lrs, scheduler


def naive_lrs(steps, T_max, phi, s, new_T_max, warmup_steps):
    """Replacing T_max after step s: the rule that rebudget must beat."""
    return [
        uba.schedule(
            t, T_max if t <= s else new_T_max, phi, BASE, ETA_MIN, warmup_steps=warmup_steps
        )
        for t in range(steps)
    ]


def rounding_growth(steps, warmup_steps, rebudgets):
    """How much a rounding error in the progress a rebudget stores has grown at
    each step, at least 1.  A segment moves its start's error to step t by the
    factor |T - t| / (T - s) (its slope, d u(t) / d u_s): at most 1 up to its
    budget T, more when it runs past it, and the next rebudget stores what it
    reached.  So stepping far past the end and rebudgeting there compounds it."""
    budgets = dict(rebudgets)  # several at one step: the last one counts
    anchors = sorted((s, T) for s, T in budgets.items() if s > warmup_steps)
    growth, carried, k = [], 1.0, 0
    for t in range(steps):
        while k + 1 < len(anchors) and anchors[k + 1][0] < t:  # into the next segment
            (s, T), s_next = anchors[k], anchors[k + 1][0]
            carried *= max(1.0, abs(T - s_next) / (T - s))
            k += 1
        if anchors and anchors[0][0] < t:
            s, T = anchors[k]
            growth.append(carried * max(1.0, abs(T - t) / (T - s)))
        else:
            growth.append(1.0)
    return growth


def assert_close_rows(got, want, what, growth=None):
    """Equal to REL, or to REL times `growth` (rounding_growth) where given."""
    for t, (g, w) in enumerate(zip(got, want, strict=True)):
        rel = REL * (growth[t] if growth else 1.0)
        assert math.isclose(g, w, rel_tol=rel, abs_tol=ABS * BASE), (
            f"{what}, step {t}: {g!r} != {w!r}"
        )


def assert_no_jump(lrs, s, what):
    """The step across the switch (s -> s+1) changes the lr like its neighbours do:
    at most 1.5 x the larger of the steps before and after it."""
    change = [abs(b - a) for a, b in zip(lrs, lrs[1:])]
    assert change[s] <= 1.5 * max(change[s - 1], change[s + 1]), (
        f"{what}: the lr moves by {change[s]:.3g} across the switch, "
        f"{change[s - 1]:.3g} before and {change[s + 1]:.3g} after"
    )


def assert_decays_to_the_floor(lrs, s, new_T_max, what):
    decay = lrs[s : new_T_max + 1]
    assert all(a >= b for a, b in zip(decay, decay[1:])), f"{what}: not monotone"
    assert lrs[new_T_max] == ETA_MIN, f"{what}: {lrs[new_T_max]!r} at the new budget"


CASES = [  # (T_max, rebudget after step s, new T_max, warmup steps)
    (100, 30, 200, 0),  # more steps, early
    (100, 70, 300, 0),  # more steps, late
    (100, 30, 60, 0),  # fewer steps
    (100, 70, 80, 0),  # fewer, near the end
    (100, 50, 150, 10),  # with warmup
    (1000, 400, 1500, 0),
    (1000, 400, 600, 100),
]


@pytest.mark.parametrize("phi", [0.5, 2.0, 8.0])
@pytest.mark.parametrize(("T_max", "s", "new_T_max", "warmup"), CASES)
def test_rebudget_follows_the_rule_without_a_jump(T_max, s, new_T_max, warmup, phi):
    what = f"T_max {T_max} -> {new_T_max} after step {s}, W = {warmup}, phi = {phi}"
    steps = new_T_max + 1
    lrs, scheduler = run(T_max, phi, steps, warmup, [(s, new_T_max)])
    assert_close_rows(lrs, reference_lrs(steps, T_max, phi, warmup, [(s, new_T_max)]), what)
    assert_no_jump(lrs, s, what)
    assert_decays_to_the_floor(lrs, s, new_T_max, what)
    assert scheduler.T_max == new_T_max


@pytest.mark.parametrize(("T_max", "s", "new_T_max", "warmup"), CASES)
def test_the_naive_switch_fails_the_checks(T_max, s, new_T_max, warmup):
    """The checks above can fail: replacing T_max jumps (and rises, when extending)."""
    lrs = naive_lrs(new_T_max + 1, T_max, 1.0, s, new_T_max, warmup)
    with pytest.raises(AssertionError):
        assert_no_jump(lrs, s, "naive")
        assert_decays_to_the_floor(lrs, s, new_T_max, "naive")


def test_a_rebudget_during_warmup_is_a_fresh_schedule_on_the_new_budget():
    lrs, _ = run(100, 0.5, 151, warmup_steps=20, rebudgets=[(10, 150)])
    want = uba.schedule(np.arange(151), 150, 0.5, BASE, ETA_MIN, warmup_steps=20)
    np.testing.assert_allclose(lrs, want, rtol=1e-14, atol=0)


def test_several_rebudgets_and_one_past_the_end():
    """100 -> 200 after step 30, -> 150 after 120, and (past 150, where the schedule
    rises again) -> 220 after step 170."""
    changes = [(30, 200), (120, 150), (170, 220)]
    lrs, scheduler = run(100, 1.0, 221, rebudgets=changes)
    assert_close_rows(lrs, reference_lrs(221, 100, 1.0, rebudgets=changes), "three rebudgets")
    for s, _ in changes:
        assert_no_jump(lrs, s, f"after step {s}")
    assert lrs[150] == ETA_MIN and lrs[151] > lrs[150]  # periodic past the budget
    assert_decays_to_the_floor(lrs, 170, 220, "past the end")
    assert len(scheduler.state_dict()["rebudgets"]) == 3


def test_state_dict_carries_the_rebudget_and_resumes_exactly():
    _, scheduler = run(100, 0.5, 60, warmup_steps=5, rebudgets=[(40, 160)])
    state = round_trip(scheduler.state_dict())
    assert all(type(x) in (int, float) for entry in state["rebudgets"] for x in entry)
    assert state["T_max"] == 160
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    resumed = uba.UBALR(optimizer, 100, ETA_MIN, phi=0.5, warmup_steps=5)
    optimizer.load_state_dict(scheduler.optimizer.state_dict())  # a resume's order
    resumed.load_state_dict(state)
    for _ in range(100):
        for sched in (scheduler, resumed):
            sched.optimizer.step()
            sched.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()
    assert resumed.get_last_lr() == [ETA_MIN]  # step 160


def test_step_epoch_gives_the_values_stepping_gives():
    changes = [(30, 200), (120, 150)]
    lrs, scheduler = run(100, 2.0, 151, warmup_steps=10, rebudgets=changes)
    state = scheduler.state_dict()
    for epoch in [0, 5, 10, 29, 30, 31, 77, 119, 120, 121, 149, 150]:
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
        other = uba.UBALR(optimizer, 100, ETA_MIN, phi=2.0, warmup_steps=10)
        other.load_state_dict(state)
        with pytest.warns(UserWarning, match="epoch parameter"):
            other.step(epoch)
        assert math.isclose(
            optimizer.param_groups[0]["lr"], lrs[epoch], rel_tol=REL, abs_tol=ABS * BASE
        ), epoch


def test_groups_with_their_own_floors_and_a_tensor_lr():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    optimizer = torch.optim.SGD(
        [{"params": net[0].parameters()}, {"params": net[1].parameters(), "lr": torch.tensor(0.5)}],
        lr=BASE,
    )
    scheduler = uba.UBALR(optimizer, 100, [ETA_MIN, 0.01], phi=0.5)
    rows = []
    for t in range(181):
        rows.append([float(g["lr"]) for g in optimizer.param_groups])
        if t == 40:
            scheduler.rebudget(180)
        optimizer.step()
        scheduler.step()
    float_want = reference_lrs(181, 100, 0.5, rebudgets=[(40, 180)])
    tensor_want = reference_lrs(181, 100, 0.5, rebudgets=[(40, 180)], base=0.5, eta_min=0.01)
    for t, (row, a, b) in enumerate(zip(rows, float_want, tensor_want)):
        assert math.isclose(row[0], a, rel_tol=REL, abs_tol=ABS * BASE), t
        assert math.isclose(row[1], b, rel_tol=2e-7), t
    assert isinstance(optimizer.param_groups[1]["lr"], torch.Tensor)
    assert rows[180] == [ETA_MIN, pytest.approx(0.01, rel=1e-7)]


@pytest.mark.parametrize(
    ("new_T_max", "error", "message"),
    [
        (31, ValueError, r"T_max must be later than the current step 31, got 31"),
        (12, ValueError, r"T_max must be later than the current step 31, got 12"),
        (40.5, ValueError, r"T_max must be an integer .*got 40\.5"),
        ("40", TypeError, "T_max must be a real number, got str"),
        (2**53 + 1, ValueError, r"T_max must be an integer in \[1, 2\*\*53\]"),
    ],
)
def test_bad_budgets_are_refused_and_change_nothing(new_T_max, error, message):
    _, scheduler = run(100, 1.0, 31, warmup_steps=5, rebudgets=[(20, 90)])
    before = scheduler.state_dict()
    with pytest.raises(error, match=message):
        scheduler.rebudget(new_T_max)
    assert scheduler.state_dict() == before


def test_a_budget_without_room_for_the_warmup_is_refused():
    _, scheduler = run(100, 1.0, 4, warmup_steps=20)
    with pytest.raises(ValueError, match=r"T_max must be greater than warmup_steps \(20\), got 20"):
        scheduler.rebudget(20)
    scheduler.rebudget(21)  # one decay step: allowed
    assert scheduler.T_max == 21


def test_last_epoch_set_back_across_a_rebudget_composes_from_the_old_curve():
    """last_epoch set by hand to a step before the rebudget: the next step composes
    torch's way, lr = eta_min + (lr - eta_min) * d(t) / d(t - 1), with d the heights
    above the floor of the schedule as it was at t - 1 (the old budget's curve) and
    at t (the rebudgeted one)."""
    _, scheduler = run(100, 1.0, 61, rebudgets=[(40, 160)])
    want = reference_lrs(61, 100, 1.0, rebudgets=[(40, 160)])
    lr_now = scheduler.optimizer.param_groups[0]["lr"]
    scheduler.last_epoch = 39
    scheduler.optimizer.step()
    scheduler.step()  # 39 -> 40, across the rebudget
    expected = ETA_MIN + (lr_now - ETA_MIN) * (want[40] - ETA_MIN) / (want[39] - ETA_MIN)
    assert math.isclose(scheduler.optimizer.param_groups[0]["lr"], expected, rel_tol=1e-12)


# ---------------------------------------------------------------- any sequence of rebudgets


def test_two_rebudgets_at_one_step_are_one_rebudget_to_the_last_budget():
    """1000 -> 1500 -> 2000, both after step 400: the steps before 400 keep the
    original budget, stepping is the rule's, and step(epoch) on a scheduler
    resumed from the state gives what stepping gave."""
    twice = [(400, 1500), (400, 2000)]
    lrs, scheduler = run(1000, 1.0, 2001, rebudgets=twice)
    once, _ = run(1000, 1.0, 2001, rebudgets=[(400, 2000)])
    assert lrs == once
    assert_close_rows(lrs, reference_lrs(2001, 1000, 1.0, rebudgets=twice), "twice at 400")
    assert scheduler.state_dict()["rebudgets"][0][2] == 1000  # the budget before step 400
    assert_closed_form_is_stepping(scheduler.state_dict(), lrs, 1000, 1.0, 0)


def fresh_scheduler(T_max, phi, warmup_steps):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    return uba.UBALR(optimizer, T_max, ETA_MIN, phi=phi, warmup_steps=warmup_steps)


def assert_closed_form_is_stepping(state, lrs, T_max, phi, warmup_steps, what=""):
    """step(epoch) at every epoch of `lrs`, on a scheduler resumed from `state`,
    gives the lr stepping gave there."""
    scheduler = fresh_scheduler(T_max, phi, warmup_steps)
    scheduler.load_state_dict(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation of step(epoch)
        for epoch, want in enumerate(lrs):
            scheduler.step(epoch)
            got = scheduler.optimizer.param_groups[0]["lr"]
            assert math.isclose(got, want, rel_tol=REL, abs_tol=ABS * BASE), (
                f"{what}step({epoch}): {got!r}, stepping gave {want!r}"
            )


@st.composite
def plans(draw):
    """A budget, warmup, phi, and a sequence of operations on the scheduler:
    ("steps", n); ("rebudget", d), to the current step + d (d <= 0, or a budget
    without room for the warmup, is refused); ("save", None), a checkpoint and
    resume; ("back", k), step(epoch) k epochs back."""
    T_max = draw(st.integers(2, 40))
    warmup = draw(st.sampled_from([0, 0, T_max // 3, T_max - 1]))
    phi = draw(st.sampled_from([0.5, 1.0, 2.0, 6.0]))
    operation = st.one_of(
        st.tuples(st.just("steps"), st.integers(0, 25)),
        st.tuples(st.just("rebudget"), st.integers(-3, 60)),
        st.tuples(st.just("rebudget"), st.integers(1, 4)),  # several at one step
        st.tuples(st.just("save"), st.none()),
        st.tuples(st.just("back"), st.integers(0, 30)),
    )
    return T_max, warmup, phi, draw(st.lists(operation, max_size=14))


def follow(plan, resume):
    """Carry out a plan, resuming from a checkpoint at each "save" if `resume`,
    then step to twice the last budget.

    Returns the lrs of the run's timeline (index = epoch; a step(epoch) back
    rewrites from there), the rebudgets that took effect as (step, T_max), the
    states saved along the way with the timeline as it was then, and the last
    scheduler."""
    T_max, warmup, phi, operations = plan
    scheduler = fresh_scheduler(T_max, phi, warmup)
    lrs, rebudgets, saved = [scheduler.optimizer.param_groups[0]["lr"]], [], []

    def steps(n):
        for _ in range(n):
            scheduler.optimizer.step()
            scheduler.step()
            lrs.append(scheduler.optimizer.param_groups[0]["lr"])

    for what, arg in operations:
        step = scheduler.last_epoch
        if what == "steps":
            steps(arg)
        elif what == "back":
            epoch = max(0, step - arg)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's deprecation of step(epoch)
                scheduler.step(epoch)
            del lrs[epoch:]
            lrs.append(scheduler.optimizer.param_groups[0]["lr"])
        elif what == "rebudget":
            new = step + arg
            if arg <= 0 or new <= warmup:
                before = scheduler.state_dict()
                with pytest.raises(ValueError, match="T_max must be"):
                    scheduler.rebudget(new)
                assert scheduler.state_dict() == before
            else:
                scheduler.rebudget(new)
                # a rebudget rewrites the future: the ones at or after its step go
                rebudgets = [r for r in rebudgets if r[0] < step] + [(step, new)]
        elif what == "save":
            state = round_trip(scheduler.state_dict())
            saved.append((list(lrs), state))
            if resume:
                optimizer_state = scheduler.optimizer.state_dict()
                scheduler = fresh_scheduler(T_max, phi, warmup)
                scheduler.optimizer.load_state_dict(optimizer_state)  # a resume's order
                scheduler.load_state_dict(state)
                assert scheduler.get_last_lr() == [lrs[-1]]
    steps(2 * scheduler.T_max - scheduler.last_epoch)
    return lrs, rebudgets, saved, scheduler


@given(plan=plans())
# two rebudgets far past the end, then 23 windows of the last one: rounding grows 744-fold
@example(
    plan=(
        2,
        0,
        0.5,
        [
            ("steps", 17),
            ("rebudget", 3),
            ("steps", 22),
            ("rebudget", 1),
            ("steps", 6),
            ("rebudget", 2),
        ],
    )
)
@settings(
    max_examples=int(os.environ.get("UBA_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
def test_any_rebudgets_keep_stepping_resume_and_step_epoch_equal(plan):
    """Any sequence of rebudgets (several at one step, refused ones, ones after a
    step(epoch) back in time, past the end), checkpoints and resumes: resuming
    changes no lr, the lrs are the rule's, and step(epoch) on a scheduler resumed
    from any saved state gives the lrs stepping gave up to that state's epoch."""
    T_max, warmup, phi, _ = plan
    lrs, rebudgets, saved, scheduler = follow(plan, resume=True)
    straight, _, _, _ = follow(plan, resume=False)
    assert lrs == straight
    want = reference_lrs(len(lrs), T_max, phi, warmup, rebudgets)
    growth = rounding_growth(len(lrs), warmup, rebudgets)
    assert_close_rows(lrs, want, f"rebudgets {rebudgets}", growth)
    saved.append((lrs, scheduler.state_dict()))
    for timeline, state in saved:
        assert_closed_form_is_stepping(
            state, timeline, T_max, phi, warmup, f"state at epoch {len(timeline) - 1}: "
        )
