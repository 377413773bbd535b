"""Helpers shared by the scheduler tests: torch's twin of each uba scheduler
built the same way, the standard scenario, state checks, warnings, and probes
of what the installed torch does.

Standard fixture: SGD over the two layers of a tiny module, group 0 with lr=0.05 (a
Python float), group 1 with lr=torch.tensor(0.5) (a 0-d float32 tensor, as in
torch's own tests).

Tolerances:
  * float lr: within 1e-12 relative, or 1e-12 x base lr absolute.
  * float32 tensor lr, when the value is a closed form: UBALR computes it in float64
    and rounds once (<= 2**-24 ~ 6e-8 relative), so 2e-7 relative. Torch's control
    runs its recursion in float32 arithmetic and drifts further (~2e-7 to 4e-7
    measured here), so the control gets 2e-6.
  * float32 tensor lr rewritten by several schedulers every step (compositions):
    every write rounds to float32, whoever writes it, so both kinds get 2e-6 against
    the float64 reference. (Comparing UBALR with torch's own float32 sequence would
    punish UBALR for being closer to the exact value.)
"""

import functools
import io
import math
import re
import warnings

import pytest
import torch

import uba

from .conftest import KINDS  # noqa: F401  (re-exported: one home for the kinds)

lrs = torch.optim.lr_scheduler


def round_trip(obj):
    """torch.save then torch.load(weights_only=True), as HF Trainer restores scheduler.pt."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


PLAIN_TYPES = (int, float, bool, str, type(None))


def assert_only_plain_types(obj, path="state_dict"):
    """Exact types, so numpy scalars (np.float64 subclasses float) are caught."""
    if isinstance(obj, torch.Tensor):
        return
    if type(obj) in (list, tuple):
        for i, item in enumerate(obj):
            assert_only_plain_types(item, f"{path}[{i}]")
    elif type(obj) is dict:
        for key, value in obj.items():
            assert_only_plain_types(key, f"{path} key {key!r}")
            assert_only_plain_types(value, f"{path}[{key!r}]")
    else:
        assert type(obj) in PLAIN_TYPES, (
            f"{path} is a {type(obj).__module__}.{type(obj).__qualname__}: {obj!r}"
        )


def assert_same_state(a, b, path):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), path
        assert a.dtype == b.dtype and torch.equal(a, b), f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys differ"
        for key in a:
            assert_same_state(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{path}[{i}]")
    else:
        assert type(a) is type(b) and a == b, f"{path}: {a!r} != {b!r}"


def warning_matches(pattern, warning):
    return re.search(pattern, str(warning.message)) is not None


def record_warnings(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = action()
    return result, caught


# ---- the standard scenario: torch's fixture, the scheduler under test, lrs read back ----


BASE_LRS = (0.05, 0.5)  # group 0: Python float; group 1: float32 0-d tensor
T_MAX = 10

FLOAT_REL = 1e-12
FLOAT_ABS = 1e-12  # times the group's base lr
F32_CLOSED_FORM_REL = 2e-7
F32_CHAINED_REL = 2e-6


def cosine_class(kind):
    """The class under test, and the keywords that make it a cosine."""
    if kind == "torch":
        return lrs.CosineAnnealingLR, {}
    if kind == "uba":
        return uba.UBALR, {"phi": 2.0}
    raise ValueError(f"unknown scheduler kind {kind!r}")


def make_sched(kind, optimizer, T_max, eta_min=0.0, last_epoch=-1):
    """The scheduler under test, built positionally like CosineAnnealingLR."""
    cls, keywords = cosine_class(kind)
    return cls(optimizer, T_max, eta_min, last_epoch, **keywords)


torch_cosine = functools.partial(make_sched, "torch")  # builds torch's reference sequences


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.first = torch.nn.Linear(2, 2)
        self.second = torch.nn.Linear(2, 1)


def build_optimizer(tensor_lr=True):
    """The standard two-group SGD; tensor_lr=False gives the all-float reference twin."""
    net = TinyNet()
    second_lr = torch.tensor(BASE_LRS[1], dtype=torch.float32) if tensor_lr else BASE_LRS[1]
    return torch.optim.SGD(
        [
            {"params": net.first.parameters()},
            {"params": net.second.parameters(), "lr": second_lr},
        ],
        lr=BASE_LRS[0],
    )


def cosine_closed_form(base, t, T_max, eta_min):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


def read_lrs(optimizer):
    """Every group's lr as a float; a numpy scalar or other odd type is a failure."""
    values = []
    for i, group in enumerate(optimizer.param_groups):
        lr = group["lr"]
        assert type(lr) is float or isinstance(lr, torch.Tensor), (
            f"param_groups[{i}]['lr'] is a {type(lr).__module__}.{type(lr).__qualname__}"
        )
        values.append(float(lr))
    return values


def step_all(optimizer, schedulers, metric=None):
    """One training step: the optimizer first, then every scheduler in order."""
    optimizer.step()
    for scheduler in schedulers:
        if isinstance(scheduler, lrs.ReduceLROnPlateau):
            scheduler.step(metric)
        else:
            scheduler.step()


def run_steps(optimizer, schedulers, epochs, metrics=None):
    """The group lrs read before each of `epochs` steps (row t = lr after t steps)."""
    rows = []
    for t in range(epochs):
        rows.append(read_lrs(optimizer))
        step_all(optimizer, schedulers, None if metrics is None else metrics[t])
    return rows


def closed_form_rows(epochs, T_max, eta_min):
    return [[cosine_closed_form(b, t, T_max, eta_min) for b in BASE_LRS] for t in range(epochs)]


def assert_lrs_close(actual, expected, *, tensor_rel, context):
    assert len(actual) == len(expected) == len(BASE_LRS)
    for group, (got, want, base) in enumerate(zip(actual, expected, BASE_LRS)):
        rel = FLOAT_REL if group == 0 else tensor_rel
        assert math.isclose(got, want, rel_tol=rel, abs_tol=FLOAT_ABS * base), (
            f"{context}, group {group}: got {got!r}, expected {want!r} (rel tol {rel:g})"
        )


def assert_rows_close(actual_rows, expected_rows, *, tensor_rel, what):
    assert len(actual_rows) == len(expected_rows)
    for t, (actual, expected) in enumerate(zip(actual_rows, expected_rows)):
        assert_lrs_close(actual, expected, tensor_rel=tensor_rel, context=f"{what}, epoch {t}")


def closed_form_tensor_rel(kind):
    return F32_CLOSED_FORM_REL if kind == "uba" else F32_CHAINED_REL


def scheduler_state(scheduler):
    return {k: v for k, v in scheduler.__dict__.items() if k != "optimizer"}


# ---- what the installed torch does (its schedulers changed between 2.2 and 2.15) ----


def _stepped_with_tensor_lr():
    lr = torch.tensor(0.1)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()
    return lr, opt.param_groups[0], sched


def torch_updates_tensor_lrs_in_place():
    """Whether torch fills a tensor lr in place (2.4 and later) rather than
    replacing it in the param group (2.2, 2.3)."""
    lr, group, _ = _stepped_with_tensor_lr()
    return group["lr"] is lr


@functools.cache
def torch_sequential_lr_moves_initial_lr():
    """Whether torch's SequentialLR binds a tensor lr to the group's
    initial_lr, which the steps then write in place (torch 2.4 to 2.9,
    pytorch#162359): torch's own schedulers restart at a milestone from the
    last lr written rather than the initial one, and its closed forms read
    base lrs that move with every step."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(1.0))
    halve = torch.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
    keep = torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=2)
    sequential = torch.optim.lr_scheduler.SequentialLR(opt, [halve, keep], milestones=[5])
    opt.step()
    sequential.step()
    return float(opt.param_groups[0]["initial_lr"]) != 1.0


SEQUENTIAL_LR_MOVES_INITIAL_LR = (
    "this torch's SequentialLR writes a tensor lr into its initial_lr (pytorch#162359)"
)


def skip_torch_where_sequential_lr_moves_initial_lr(kind):
    """Skips torch's own class (the control) where SequentialLR moves a tensor
    lr's initial_lr: its lrs are then not the schedule.  uba's schedulers
    keep their base lrs apart, so their lrs still are."""
    if kind == "torch" and torch_sequential_lr_moves_initial_lr():
        pytest.skip(SEQUENTIAL_LR_MOVES_INITIAL_LR)


def torch_copies_tensor_lrs():
    """Whether torch's initial_lr, base_lrs and get_last_lr() are copies of a
    tensor lr, never aliases (newer torch)."""
    _, group, sched = _stepped_with_tensor_lr()
    return sched.base_lrs[0] is not group["initial_lr"] and (
        sched.get_last_lr()[0] is not group["lr"]
    )


def torch_keeps_the_lr_when_resuming():
    """Whether constructing with last_epoch >= 0 keeps the group's lr (torch
    2.7 and later, LRScheduler._is_initial) rather than writing the closed
    form at last_epoch + 1."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    opt.param_groups[0]["initial_lr"] = 1.0
    torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, last_epoch=3)
    return opt.param_groups[0]["lr"] == 0.1


def torch_step_warnings_point_at_the_caller():
    """Whether torch's step() warnings name the caller's line (stacklevel=2)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    _, caught = record_warnings(lambda: sched.step())
    return bool(caught) and caught[0].filename == __file__


def torch_sequential_lr_warns_at_milestones():
    """Whether torch's SequentialLR steps a child with step(0) at a milestone,
    so that torch's own step() warns about the epoch argument (before 2.4)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    first = torch.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=1)
    second = torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=1)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [first, second], milestones=[1])
    opt.step()
    _, caught = record_warnings(sched.step)
    return any("epoch parameter" in str(w.message) for w in caught)


def torch_sequential_lr_takes_a_chained_scheduler():
    """Whether SequentialLR accepts a ChainedScheduler as a child (not before
    the chain had a last_epoch of its own, as in 2.2)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)

    def build():
        chain = torch.optim.lr_scheduler.ChainedScheduler(
            [torch.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=1)]
        )
        after = torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=1)
        torch.optim.lr_scheduler.SequentialLR(opt, [chain, after], milestones=[1])

    try:
        record_warnings(build)  # (it warns about the step order; that is not asked here)
    except AttributeError:
        return False
    return True
