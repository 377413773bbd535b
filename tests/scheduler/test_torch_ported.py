"""PyTorch's own scheduler tests that involve CosineAnnealingLR, re-authored.

These are the scenarios of torch's test/optim/test_lrscheduler.py (and of the
compiled-optimizer tests in test/inductor/test_compiled_optimizers.py) that
test_torch_contract.py and test_drop_in.py do not already run: the generic
LRScheduler contract tests with the cosine swapped in for the scheduler they
used, SequentialLR and ChainedScheduler hosting a cosine, state_dict loading,
tensor lrs, and torch.compile. Each runs against both kinds (see conftest.py),
so a difference between UBALR(phi=2) and CosineAnnealingLR shows as a failure.

Where torch's own test checks nothing (its closed-form comparison re-reads a
fresh optimizer; its plateau-plus-cosine test compares against an empty target
list), the version here checks the values. Where torch releases differ, the
expectation comes from a probe of the installed torch (twins.py) or from
torch's own CosineAnnealingLR run side by side, never from one release.
Fixture and tolerances: see twins.py.
"""

import copy
import functools
import gc
import math
import os
import pickle
import re
import tempfile
import types
import weakref

import pytest

torch = pytest.importorskip("torch")
lrs = torch.optim.lr_scheduler

from .twins import (  # noqa: E402
    BASE_LRS,
    F32_CHAINED_REL,
    T_MAX,
    TinyNet,
    assert_lrs_close,
    assert_only_plain_types,
    assert_rows_close,
    assert_same_state,
    build_optimizer,
    closed_form_rows,
    closed_form_tensor_rel,
    cosine_class,
    cosine_closed_form,
    make_sched,
    read_lrs,
    record_warnings,
    run_steps,
    skip_torch_where_sequential_lr_moves_initial_lr,
    step_all,
    torch_copies_tensor_lrs,
    torch_cosine,
    torch_keeps_the_lr_when_resuming,
    torch_sequential_lr_moves_initial_lr,
    torch_sequential_lr_takes_a_chained_scheduler,
    torch_updates_tensor_lrs_in_place,
    warning_matches,
)


def assert_one_epoch_deprecation_warning(caught):
    """What torch's step(epoch) warns: exactly EPOCH_DEPRECATION_WARNING, once."""
    assert [(w.category, w.message.args) for w in caught] == [
        (UserWarning, (lrs.EPOCH_DEPRECATION_WARNING,))
    ]


def twin_rows(kind, build, epochs, tensor_lr=True):
    """Rows of a scenario built with the kind's cosine on the standard optimizer
    (all-float with tensor_lr=False), and of the same scenario on torch's
    all-float twin, with the warnings each run gave. `build(optimizer,
    cosine)` returns the schedulers to step."""

    def run(optimizer, cosine):
        schedulers = build(optimizer, cosine)
        return run_steps(optimizer, schedulers, epochs)

    reference, reference_warnings = record_warnings(
        lambda: run(build_optimizer(tensor_lr=False), torch_cosine)
    )
    rows, caught = record_warnings(
        lambda: run(build_optimizer(tensor_lr), functools.partial(make_sched, kind))
    )
    return (
        rows,
        reference,
        [str(w.message) for w in caught],
        [str(w.message) for w in reference_warnings],
    )


# ------------------------------------------------------ the generic LRScheduler contract


def test_a_subclass_whose_get_lr_takes_an_argument_fails_at_construction(kind):
    cls, keywords = cosine_class(kind)

    class NeedsAStep(cls):
        def get_lr(self, step):
            return super().get_lr()

    with pytest.raises(TypeError, match=r"get_lr\(\) missing 1 required positional argument"):
        NeedsAStep(build_optimizer(), T_MAX, **keywords)


def test_a_deleted_scheduler_leaves_no_reference_to_the_optimizer(kind):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.empty(10))], lr=0.5)
    scheduler = make_sched(kind, optimizer, T_MAX)
    del scheduler

    assert gc.get_referrers(optimizer) == [], "the optimizer is still referenced"
    gc.collect()
    del optimizer
    assert gc.collect() == 0, "the optimizer was part of a reference cycle"


def test_a_stepped_scheduler_is_freed_without_the_garbage_collector(kind):
    def train():
        param = torch.empty(10, requires_grad=True)
        optimizer = torch.optim.SGD([param], lr=0.5)
        scheduler = make_sched(kind, optimizer, T_MAX)
        param.sum().backward()
        optimizer.step()
        scheduler.step()
        return weakref.ref(scheduler)

    gc.disable()  # only reference counting may free it: no cycles
    try:
        assert train()() is None
    finally:
        gc.enable()


def override_optimizer_step(optimizer):
    """Replace optimizer.step after the scheduler patched it, as some training code does."""
    patched = optimizer.step

    def step(self, *args, **kwargs):
        return patched(*args, **kwargs)

    optimizer.step = types.MethodType(step, optimizer)


@pytest.mark.parametrize("overridden", [False, True], ids=["own-step", "overridden-step"])
@pytest.mark.parametrize("scheduler_first", [True, False], ids=["old-order", "new-order"])
def test_resuming_warns_about_the_step_order_exactly_as_torch_does(
    kind, scheduler_first, overridden
):
    # The resumed groups hold an initial_lr (0.01) other than their lr: torch 2.7 and
    # later keep the lr at construction and chain from it, older torch writes the
    # closed form from 0.01; either way the values must be torch's.
    epochs, resume_from = 35, 10

    def resumed(optimizer, cosine):
        for group in optimizer.param_groups:
            group["initial_lr"] = 0.01
        return cosine(optimizer, T_MAX, 0.0, resume_from)

    reference_optimizer = build_optimizer(tensor_lr=False)
    reference_scheduler = resumed(reference_optimizer, torch_cosine)
    optimizer = build_optimizer()
    scheduler, caught = record_warnings(
        lambda: resumed(optimizer, functools.partial(make_sched, kind))
    )
    assert [str(w.message) for w in caught] == [], "constructing warned"
    if overridden:
        override_optimizer_step(optimizer)

    def train(optimizer, scheduler):
        rows = []
        for _ in range(epochs):
            if scheduler_first:
                scheduler.step()
                optimizer.step()
            else:
                optimizer.step()
                scheduler.step()
            rows.append(read_lrs(optimizer))
        return rows

    rows, caught = record_warnings(lambda: train(optimizer, scheduler))
    reference, _ = record_warnings(lambda: train(reference_optimizer, reference_scheduler))

    if overridden:
        expected = r"`optimizer\.step\(\)` has been overridden after learning rate scheduler"
    elif scheduler_first:
        expected = r"`lr_scheduler\.step\(\)` before `optimizer\.step\(\)`"
    else:
        expected = None
    if expected is None:
        assert [str(w.message) for w in caught] == []
    else:
        assert len(caught) == 1 and caught[0].category is UserWarning, [
            str(w.message) for w in caught
        ]
        assert warning_matches(expected, caught[0])
        assert warning_matches(r"how-to-adjust-learning-rate", caught[0])
    assert_rows_close(rows, reference, tensor_rel=F32_CHAINED_REL, what=f"{kind} resumed")


def test_step_with_the_same_epoch_keeps_the_lr_constant(kind):
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_MAX)
    seen = []
    for _ in range(10):
        optimizer.step()
        _, caught = record_warnings(lambda: scheduler.step(2))
        assert_one_epoch_deprecation_warning(caught)
        seen.append(read_lrs(optimizer))
    assert seen == [seen[0]] * len(seen)
    assert_lrs_close(
        seen[0],
        [cosine_closed_form(b, 2, T_MAX, 0.0) for b in BASE_LRS],
        tensor_rel=closed_form_tensor_rel(kind),
        context=f"{kind} step(2)",
    )


@pytest.mark.parametrize("last_epoch", [0, 1])
def test_resuming_without_initial_lr_raises_torchs_own_key_error(kind, last_epoch):
    with pytest.raises(KeyError) as raised:
        make_sched(kind, build_optimizer(), T_MAX, 0.0, last_epoch)
    with pytest.raises(KeyError) as torchs:  # the base class's message, from another scheduler
        lrs.StepLR(build_optimizer(), step_size=3, gamma=0.1, last_epoch=last_epoch)
    assert raised.value.args == torchs.value.args
    assert "param 'initial_lr' is not specified in param_groups[0]" in str(raised.value)


# ------------------------------------------------------------------ CosineAnnealingLR


def test_the_chainable_run_equals_the_closed_form_run_past_T_max(kind):
    # torch's test_closed_form_cos_anneal_lr, comparing the two runs for real: each
    # run has its own optimizer and is read from it.
    T_max, eta_min, epochs = 5, 1e-10, 20
    chain_optimizer, closed_optimizer = build_optimizer(), build_optimizer()
    chain = make_sched(kind, chain_optimizer, T_max, eta_min)
    closed = make_sched(kind, closed_optimizer, T_max, eta_min)
    rel = closed_form_tensor_rel(kind)
    for epoch in range(1, epochs + 1):
        chain_optimizer.step()
        chain.step()
        closed_optimizer.step()
        _, caught = record_warnings(lambda: closed.step(epoch))
        assert_one_epoch_deprecation_warning(caught)
        want = [cosine_closed_form(b, epoch, T_max, eta_min) for b in BASE_LRS]
        context = f"{kind}, epoch {epoch}"
        assert_lrs_close(read_lrs(closed_optimizer), want, tensor_rel=rel, context=context)
        assert_lrs_close(
            read_lrs(chain_optimizer),
            read_lrs(closed_optimizer),
            tensor_rel=F32_CHAINED_REL if kind == "torch" else rel,
            context=context,
        )


def test_a_scheduler_rebuilt_on_the_same_optimizer_continues_the_run(kind):
    # torch's test_cos_anneal_lr_continue: one step, then a new scheduler with
    # last_epoch=0 on the same optimizer (whose groups now hold initial_lr).
    T_max, eta_min = 5, 0.1
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_max, eta_min)
    optimizer.step()
    scheduler.step()
    before = [float(x) for x in scheduler.get_last_lr()]

    rebuilt = make_sched(kind, optimizer, T_max, eta_min, 0)
    after = [float(x) for x in rebuilt.get_last_lr()]
    if torch_keeps_the_lr_when_resuming():
        assert after == before
    else:  # older torch writes the closed form at epoch 1
        assert_lrs_close(after, before, tensor_rel=F32_CHAINED_REL, context=f"{kind} rebuilt")
    rows = run_steps(optimizer, [rebuilt], 3 * T_max)
    assert_rows_close(
        rows,
        closed_form_rows(3 * T_max + 1, T_max, eta_min)[1:],
        tensor_rel=F32_CHAINED_REL,
        what=f"{kind} rebuilt",
    )


def test_a_checkpoint_with_adamw_rebuilds_the_scheduler_at_the_saved_lr(kind):
    # torch's test_lr_scheduler_checkpoint: AdamW at its default lr, one step, then a
    # new optimizer loads the state and the scheduler is rebuilt with last_epoch=0.
    model = torch.nn.Linear(3, 3)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = make_sched(kind, optimizer, T_MAX)
    optimizer.step()
    scheduler.step()
    saved_lr = optimizer.param_groups[0]["lr"]

    restored_optimizer = torch.optim.AdamW(model.parameters())
    restored_optimizer.load_state_dict(optimizer.state_dict())
    restored = make_sched(kind, restored_optimizer, T_MAX, 0.0, 0)

    if torch_keeps_the_lr_when_resuming():
        assert restored.get_last_lr()[0] == saved_lr
    else:
        assert math.isclose(restored.get_last_lr()[0], saved_lr, rel_tol=1e-12)
    for _ in range(2 * T_MAX):
        for opt, sched in ((optimizer, scheduler), (restored_optimizer, restored)):
            opt.step()
            sched.step()
        assert math.isclose(
            restored_optimizer.param_groups[0]["lr"],
            optimizer.param_groups[0]["lr"],
            rel_tol=1e-12,
            abs_tol=1e-15,
        )


# torch's test_compound_cosanneal_and_* with their own parameters: eta_min=1e-10,
# and ExponentialLR(gamma=0.1), which takes the lr below eta_min within 8 steps.
def _partner_after(build):
    return lambda opt, cosine: [cosine(opt, T_MAX, 1e-10), build(opt)]


UPSTREAM_COMPOUNDS = {
    "StepLR": _partner_after(lambda opt: lrs.StepLR(opt, gamma=0.1, step_size=3)),
    "MultiStepLR": _partner_after(
        lambda opt: lrs.MultiStepLR(opt, gamma=0.1, milestones=[2, 5, 9])
    ),
    "ExponentialLR": _partner_after(lambda opt: lrs.ExponentialLR(opt, gamma=0.1)),
    "LinearLR-first": lambda opt, cosine: [
        lrs.LinearLR(opt, start_factor=0.4, total_iters=4),
        cosine(opt, T_MAX, 1e-10),
    ],
}


@pytest.mark.parametrize("compound", sorted(UPSTREAM_COMPOUNDS))
def test_compound_with_torchs_own_parameters_matches_torch(kind, compound):
    rows, reference, caught, _ = twin_rows(kind, UPSTREAM_COMPOUNDS[compound], 3 * T_MAX)
    assert caught == []
    assert_rows_close(rows, reference, tensor_rel=F32_CHAINED_REL, what=f"{kind} + {compound}")


def test_a_plateau_scheduler_that_never_fires_leaves_the_cosine_values(kind):
    # torch's test_compound_reduce_lr_on_plateau4 checks nothing (its target list is
    # empty). Here: the metric rises 2.5% a step against a 10% threshold with
    # patience 3, so the plateau comes within one epoch of firing but never fires;
    # the lr is the cosine's alone, past the trough too.
    epochs, eta_min = 2 * T_MAX, 1e-10
    optimizer = build_optimizer()
    plateau = lrs.ReduceLROnPlateau(
        optimizer, mode="max", patience=3, threshold_mode="rel", threshold=0.1
    )
    cosine = make_sched(kind, optimizer, T_MAX, eta_min)
    rows, bad_epochs = [], []
    for epoch in range(epochs):
        optimizer.step()
        plateau.step(1.5 * 1.025**epoch)
        cosine.step()
        rows.append(read_lrs(optimizer))
        bad_epochs.append(plateau.num_bad_epochs)
    assert max(bad_epochs) == plateau.patience
    assert_rows_close(
        rows,
        closed_form_rows(epochs + 1, T_MAX, eta_min)[1:],
        tensor_rel=closed_form_tensor_rel(kind),
        what=f"{kind} after ReduceLROnPlateau",
    )


# ------------------------------------------------ SequentialLR and ChainedScheduler


def _sequential(*children, milestones):
    """A SequentialLR over children built in order (each child's constructor
    sees what the previous ones did to the lrs, as in torch's tests)."""

    def build(opt, cosine):
        built = [child(opt, cosine) for child in children]
        return [lrs.SequentialLR(opt, built, milestones=milestones)]

    return build


def _chained(*children):
    def build(opt, cosine):
        return lrs.ChainedScheduler([child(opt, cosine) for child in children])

    return build


def _cosine(opt, cosine):
    return cosine(opt, T_MAX, 1e-3)


def _linear(opt, _):
    return lrs.LinearLR(opt, start_factor=0.1, total_iters=5)


SEQUENTIAL_LAYOUTS = {
    # test_sequentiallr1, the cosine where ExponentialLR was
    "cosine,StepLR": _sequential(
        _cosine, lambda opt, _: lrs.StepLR(opt, gamma=0.1, step_size=4), milestones=[3]
    ),
    # test_sequentiallr3 and test_get_last_lr_sequentiallr, the cosine in the middle
    "ConstantLR,cosine,StepLR": _sequential(
        lambda opt, _: lrs.ConstantLR(opt, factor=0.1, total_iters=3),
        _cosine,
        lambda opt, _: lrs.StepLR(opt, gamma=0.1, step_size=2),
        milestones=[3, 6],
    ),
    # test_sequentiallr5: a ChainedScheduler as the first child ...
    "Chained(LinearLR,ConstantLR),cosine": _sequential(
        _chained(_linear, lambda opt, _: lrs.ConstantLR(opt, factor=0.1, total_iters=5)),
        _cosine,
        milestones=[5],
    ),
    # ... and with the cosine inside it
    "Chained(LinearLR,cosine),ConstantLR": _sequential(
        _chained(_linear, _cosine),
        lambda opt, _: lrs.ConstantLR(opt, factor=0.5, total_iters=5),
        milestones=[5],
    ),
}


def assert_last_lrs_are_the_groups_lrs(wrapper, optimizer, epochs, last_child=None):
    """torch's _test_get_last_lr: before every step, get_last_lr() is what the
    groups hold (and, for a ChainedScheduler, what its last child reports)."""
    for epoch in range(epochs):
        now = read_lrs(optimizer)
        assert [float(x) for x in wrapper.get_last_lr()] == now, f"epoch {epoch}"
        if last_child is not None:
            assert [float(x) for x in last_child.get_last_lr()] == now, f"epoch {epoch}"
        step_all(optimizer, [wrapper])


NEEDS_A_CHAINED_CHILD = pytest.mark.skipif(
    not torch_sequential_lr_takes_a_chained_scheduler(),
    reason="this torch's SequentialLR does not take a ChainedScheduler child",
)


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(layout, marks=NEEDS_A_CHAINED_CHILD if "Chained" in layout else ())
        for layout in SEQUENTIAL_LAYOUTS
    ],
)
def test_sequential_lr_hosting_the_cosine_matches_torch(kind, layout):
    build = SEQUENTIAL_LAYOUTS[layout]
    # Where torch's SequentialLR moves a tensor lr's initial_lr, torch's own
    # children restart from it: float lrs only there.
    tensor_lr = not torch_sequential_lr_moves_initial_lr()
    rows, reference, caught, reference_caught = twin_rows(kind, build, 3 * T_MAX, tensor_lr)
    assert caught == reference_caught  # none, or torch's own at milestones before 2.4
    assert_rows_close(rows, reference, tensor_rel=F32_CHAINED_REL, what=f"{kind} in {layout}")

    optimizer = build_optimizer()
    # (torch warns about the step order when a ChainedScheduler is the first child)
    [sequential], _ = record_warnings(lambda: build(optimizer, functools.partial(make_sched, kind)))
    assert_last_lrs_are_the_groups_lrs(sequential, optimizer, 3 * T_MAX)


CHAINED_LAYOUTS = {
    "cosine": (_cosine,),  # test_chained_lr1
    "LinearLR,cosine": (  # test_chained_lr2 and 3
        lambda opt, _: lrs.LinearLR(opt, start_factor=0.4, total_iters=3),
        _cosine,
    ),
    "ExponentialLR,ConstantLR,cosine": (  # test_chained_lr4
        lambda opt, _: lrs.ExponentialLR(opt, gamma=0.9),
        lambda opt, _: lrs.ConstantLR(opt, factor=0.2, total_iters=4),
        _cosine,
    ),
    "cosine,ConstantLR": (  # test_chained_lr5, the cosine where PolynomialLR was
        _cosine,
        lambda opt, _: lrs.ConstantLR(opt, factor=0.1),
    ),
}


@pytest.mark.parametrize("layout", list(CHAINED_LAYOUTS))
def test_chained_scheduler_hosting_the_cosine_matches_torch(kind, layout):
    children = CHAINED_LAYOUTS[layout]
    rows, reference, caught, _ = twin_rows(
        kind, lambda opt, cosine: [_chained(*children)(opt, cosine)], 3 * T_MAX
    )
    assert caught == []
    assert_rows_close(rows, reference, tensor_rel=F32_CHAINED_REL, what=f"{kind} in {layout}")

    optimizer = build_optimizer()
    built = [child(optimizer, functools.partial(make_sched, kind)) for child in children]
    chain = lrs.ChainedScheduler(built)
    assert_last_lrs_are_the_groups_lrs(chain, optimizer, 3 * T_MAX, last_child=built[-1])


def test_chained_scheduler_before_any_step_reports_its_last_childs_lrs(kind):
    # torch's test_chained_lr2_get_last_lr_before_step, the cosine last
    optimizer = build_optimizer()
    children = [
        lrs.LinearLR(optimizer, start_factor=0.4, total_iters=3),
        make_sched(kind, optimizer, T_MAX),
    ]
    chain = lrs.ChainedScheduler(children)
    assert [float(x) for x in chain.get_last_lr()] == [float(x) for x in children[-1].get_last_lr()]
    assert_lrs_close(
        [float(x) for x in chain.get_last_lr()],
        [0.4 * b for b in BASE_LRS],
        tensor_rel=F32_CHAINED_REL,
        context=f"{kind} last in a ChainedScheduler",
    )


@pytest.mark.parametrize("cosine_first", [True, False], ids=["cosine-first", "cosine-second"])
def test_sequential_lr_leaves_the_initial_lr_as_it_was(kind, cosine_first):
    # torch's test_sequentiallr4 with the cosine as either child
    optimizer = torch.optim.SGD([torch.tensor(0.5)], lr=0.1)
    if cosine_first:  # each built in order: ConstantLR scales the lr at construction
        children = [make_sched(kind, optimizer, T_MAX), lrs.ConstantLR(optimizer, factor=0.1)]
    else:
        children = [lrs.ConstantLR(optimizer, factor=1.0), make_sched(kind, optimizer, T_MAX)]
    lrs.SequentialLR(optimizer, children, milestones=[10])
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_sequential_lr_keeps_a_tensor_lr_apart_from_its_initial_lr(kind):
    # torch's test_sequentiallr_does_not_alias_lr_and_initial_lr (pytorch#162359),
    # the cosine second: at the milestone it restarts from initial_lr, which must
    # still be 2.0 although the tensor lr was written in place until then.  Where
    # torch's SequentialLR moves it, UBALR's lrs are still the schedule.
    skip_torch_where_sequential_lr_moves_initial_lr(kind)
    milestone, epochs = 4, 8
    lr = torch.tensor(2.0)
    optimizer = torch.optim.SGD(TinyNet().parameters(), lr=lr)
    linear = lrs.LinearLR(optimizer, 0.1, 0.8, total_iters=milestone)
    cosine = make_sched(kind, optimizer, milestone)
    sequential = lrs.SequentialLR(optimizer, [linear, cosine], milestones=[milestone])
    rows = [row[0] for row in run_steps(optimizer, [sequential], epochs)]
    group = optimizer.param_groups[0]
    expected = [2.0 * (0.1 + 0.7 * t / milestone) for t in range(milestone)] + [
        cosine_closed_form(2.0, t, milestone, 0.0) for t in range(epochs - milestone)
    ]
    for t, (got, want) in enumerate(zip(rows, expected)):
        assert math.isclose(got, want, rel_tol=F32_CHAINED_REL), (t, got, want)
    if not torch_sequential_lr_moves_initial_lr():  # SequentialLR's part
        assert group["lr"] is not group["initial_lr"]
        assert float(group["initial_lr"]) == 2.0


# ------------------------------------------------------------------------ state_dict


def _plain(opt, cosine):
    return cosine(opt, T_MAX, 0.01)


STATE_HOLDERS = {  # torch's test_lr_scheduler_state_dict_load rows that can host a cosine
    "cosine": _plain,
    "ChainedScheduler": lambda opt, cosine: lrs.ChainedScheduler(
        [lrs.ConstantLR(opt), _plain(opt, cosine)]
    ),
    "SequentialLR": lambda opt, cosine: lrs.SequentialLR(
        opt, [lrs.ConstantLR(opt), _plain(opt, cosine)], milestones=[2]
    ),
}


def save_and_load(obj, weights_only):
    with tempfile.TemporaryFile() as f:
        torch.save(obj, f)
        f.seek(0)
        return torch.load(f, weights_only=weights_only)


@pytest.mark.parametrize("weights_only", [True, False], ids=["weights_only", "full-pickle"])
@pytest.mark.parametrize("steps", [0, 3])
@pytest.mark.parametrize("holder", list(STATE_HOLDERS))
def test_state_dict_saved_and_loaded_restores_the_schedule(kind, holder, steps, weights_only):
    if holder == "SequentialLR":  # torch's cosine then restarts from a moved initial_lr
        skip_torch_where_sequential_lr_moves_initial_lr(kind)
    build = functools.partial(STATE_HOLDERS[holder], cosine=functools.partial(make_sched, kind))
    optimizer = build_optimizer()
    scheduler = build(optimizer)
    run_steps(optimizer, [scheduler], steps)
    # as saved at this step (a tensor lr written in place later must not change it)
    state = copy.deepcopy(scheduler.state_dict())
    assert_only_plain_types(state)
    saved_optimizer = save_and_load(optimizer.state_dict(), weights_only)

    uninterrupted = run_steps(optimizer, [scheduler], 2 * T_MAX)

    loaded = save_and_load(state, weights_only)
    assert_same_state(loaded, state, "loaded state_dict")
    again = build(optimizer)  # as torch's test does: a second one on the same optimizer
    again.load_state_dict(loaded)
    assert_same_state(again.state_dict(), state, "state_dict after load_state_dict")

    # A run restored from the files goes on exactly as the uninterrupted one (its
    # scheduler built before the optimizer's state is loaded, as torch says to).
    restored_optimizer = build_optimizer()
    restored = build(restored_optimizer)
    restored_optimizer.load_state_dict(saved_optimizer)
    restored.load_state_dict(save_and_load(state, weights_only))
    assert run_steps(restored_optimizer, [restored], 2 * T_MAX) == uninterrupted


COPIES = {"deepcopy": copy.deepcopy, "pickle": lambda obj: pickle.loads(pickle.dumps(obj))}


@pytest.mark.parametrize("how", list(COPIES))
def test_a_copied_scheduler_goes_on_as_the_original_and_leaves_it_alone(kind, how):
    # Not in torch's tests (which deep-copy only param_groups): a scheduler copied
    # with its optimizer, as whole training states are, then both run on.
    optimizer = build_optimizer()
    scheduler = make_sched(kind, optimizer, T_MAX, 0.01)
    run_steps(optimizer, [scheduler], 3)
    duplicate, caught = record_warnings(lambda: COPIES[how](scheduler))
    assert caught == []
    assert duplicate.optimizer is not optimizer
    rows, caught = record_warnings(lambda: run_steps(duplicate.optimizer, [duplicate], 2 * T_MAX))
    assert caught == []
    assert rows == run_steps(optimizer, [scheduler], 2 * T_MAX)


# ------------------------------------------------------------------------- tensor lr


def test_a_tensor_lr_changed_by_the_user_changes_neither_initial_lr_nor_base_lrs(kind):
    # torch's test_constant_initial_lr: step(epoch), then the user scales the tensor
    # the optimizer was given. Torch 2.4 and later keep copies, so nothing moves;
    # older torch aliases them, and UBALR must then behave as CosineAnnealingLR does.
    def run(cosine):
        lr = torch.as_tensor(0.1)
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.randn(1))], lr=lr)
        scheduler = cosine(optimizer, T_MAX)
        original = copy.deepcopy(optimizer.param_groups)
        seen = []
        for epoch in range(2):
            optimizer.step()
            _, caught = record_warnings(lambda: scheduler.step(epoch))
            assert_one_epoch_deprecation_warning(caught)
            lr.multiply_(0.1)
            group = optimizer.param_groups[0]
            seen.append(
                (
                    float(group["initial_lr"]),
                    float(original[0]["initial_lr"]),
                    [float(b) for b in scheduler.base_lrs],
                    scheduler.base_lrs[0] is lr,
                    group["lr"] is lr,
                )
            )
        return seen

    seen = run(functools.partial(make_sched, kind))
    assert seen == run(torch_cosine)
    if torch_copies_tensor_lrs():
        f32 = float(torch.tensor(0.1))
        assert all(
            initial == original == f32 and base == [f32] and not aliased
            for initial, original, base, aliased, _ in seen
        )


# ----------------------------------------------------------------------- torch.compile


@functools.cache
def inductor_problem():
    """Why torch.compile with inductor cannot run here, or None."""
    try:
        torch.compile(lambda x: x * 2, backend="inductor")(torch.ones(2))
    except Exception as error:  # no compiler, an unsupported Python, ...
        return f"{type(error).__name__}: {error}"
    finally:
        torch._dynamo.reset()
    return None


# What torch itself warns about while it compiles: torch.jit deprecations (2.13), and
# 2.6's inductor, which on a cold cache writes its config out for a debug trace and warns
# for each setting it skips.
# Each is (category, how its message starts), warned from torch's own modules.
TORCHS_OWN_COMPILE_WARNINGS = (
    (DeprecationWarning, ""),
    (UserWarning, "Skipping serialization of"),
)


def torchs_own_compile_warnings(test):
    """The test, with torch's own warnings while it compiles ignored."""
    for category, start in TORCHS_OWN_COMPILE_WARNINGS:
        mark = f"ignore:{re.escape(start)}:{category.__name__}:torch"
        test = pytest.mark.filterwarnings(mark)(test)
    return test


def is_torchs_own_compile_warning(warning):
    torch_dir = os.path.dirname(torch.__file__)
    return warning.filename.startswith(torch_dir) and any(
        issubclass(warning.category, category) and str(warning.message).startswith(start)
        for category, start in TORCHS_OWN_COMPILE_WARNINGS
    )


COMPILES = pytest.mark.slow  # inductor compiles C++: the full tier


@pytest.fixture
def graphs():
    """A backend for torch.compile that compiles with inductor and counts the
    graphs it was given (one per compile or recompile); dynamo's caches are
    reset before and after."""
    problem = inductor_problem()
    if problem is not None:
        pytest.skip(f"torch.compile with inductor cannot run here ({problem})")
    inductor = torch._dynamo.lookup_backend("inductor")

    class Counting:
        count = 0

        def __call__(self, graph_module, example_inputs):
            self.count += 1
            return inductor(graph_module, example_inputs)

    torch._dynamo.reset()
    yield Counting()
    torch._dynamo.reset()


def compiled_optimizer_pair():
    """Two identical models with gradients, each with an SGD over a float32 tensor lr."""
    model = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.Linear(10, 10))
    model(torch.ones(10, 10)).sum().backward()
    twin = copy.deepcopy(model)
    twin(torch.ones(10, 10)).sum().backward()
    return [(m, torch.optim.SGD(m.parameters(), lr=torch.tensor(0.01))) for m in (model, twin)]


COMPILED_T_MAX = 7  # LR_SCHEDULER_TO_KWARGS in torch's test_compiled_optimizers.py
COMPILED_STEPS = 2 * COMPILED_T_MAX  # through the trough and back


def compiled_once(counts):
    """Whether, given the number of graphs compiled so far after each step, nothing
    compiled after the second step, and only once at all where torch writes tensor
    lrs in place (before 2.4 it puts a new tensor in the group, and the step
    compiles once more for it)."""
    if torch_updates_tensor_lrs_in_place():
        return counts[-1] == 1
    return counts[-1] == counts[1]


@COMPILES
@torchs_own_compile_warnings
def test_a_compiled_optimizer_step_follows_the_scheduler_without_recompiling(kind, graphs):
    # torch's compiled-optimizer test: the optimizer's step is compiled, the scheduler
    # steps eagerly beside it, last_epoch is set by hand to 1 first; here through
    # the trough and back, against the same run in eager mode.
    (eager_model, eager), (compiled_model, compiled) = compiled_optimizer_pair()
    eager_scheduler = make_sched(kind, eager, COMPILED_T_MAX)
    compiled_scheduler = make_sched(kind, compiled, COMPILED_T_MAX)
    reference_optimizer = torch.optim.SGD(TinyNet().parameters(), lr=0.01)
    reference = torch_cosine(reference_optimizer, COMPILED_T_MAX)
    for scheduler in (eager_scheduler, compiled_scheduler, reference):
        scheduler.last_epoch = 1
    lr = compiled.param_groups[0]["lr"]
    compiled_step = torch.compile(compiled.step, backend=graphs)

    counts = []
    with torch.no_grad():
        for _ in range(COMPILED_STEPS):
            compiled_step()
            eager.step()
            reference_optimizer.step()
            for scheduler in (eager_scheduler, compiled_scheduler, reference):
                scheduler.step()
            counts.append(graphs.count)
            got = float(compiled.param_groups[0]["lr"])
            assert got == float(eager.param_groups[0]["lr"])
            want = reference_optimizer.param_groups[0]["lr"]
            assert math.isclose(got, want, rel_tol=F32_CHAINED_REL, abs_tol=1e-9), (got, want)
    assert (compiled.param_groups[0]["lr"] is lr) == torch_updates_tensor_lrs_in_place()
    torch.testing.assert_close(list(compiled_model.parameters()), list(eager_model.parameters()))
    assert compiled_once(counts), f"graphs compiled after each step: {counts}"


@COMPILES
@torchs_own_compile_warnings
def test_a_compiled_step_that_also_steps_the_scheduler_compiles_once_and_quietly(kind, graphs):
    # torch's compiled parity test and its tutorial (compiling_optimizer_lr_scheduler):
    # optimizer.step() and scheduler.step() in one compiled function, tensor lr.
    (eager_model, eager), (compiled_model, compiled) = compiled_optimizer_pair()
    eager_scheduler = make_sched(kind, eager, COMPILED_T_MAX)
    compiled_scheduler = make_sched(kind, compiled, COMPILED_T_MAX)

    @torch.compile(backend=graphs)
    def train_step():
        compiled.step()
        compiled_scheduler.step()

    def train():
        counts = []
        with torch.no_grad():
            for t in range(1, COMPILED_STEPS + 1):
                train_step()
                eager.step()
                eager_scheduler.step()
                counts.append(graphs.count)
                got = float(compiled.param_groups[0]["lr"])
                assert got == float(eager.param_groups[0]["lr"])
                want = cosine_closed_form(float(torch.tensor(0.01)), t, COMPILED_T_MAX, 0.0)
                assert math.isclose(got, want, rel_tol=F32_CHAINED_REL, abs_tol=1e-9), (t, got)
        return counts

    counts, caught = record_warnings(train)
    torch.testing.assert_close(list(compiled_model.parameters()), list(eager_model.parameters()))
    problems = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not is_torchs_own_compile_warning(w)
    ]
    if not compiled_once(counts):
        problems.append(f"graphs compiled after each step: {counts}")
    assert problems == []
