"""Helpers shared by the scheduler tests: torch's twin of each uba scheduler
built the same way, state checks, warnings."""

import io
import re
import warnings

import torch

KINDS = ("torch", "uba")


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
