"""UBALR.step() in C (uba._core.StepMethod) against the Python path it replaces.

UBALR.step is a C method descriptor: for an exact UBALR in the steady state it does
what LRScheduler.step + UBALR._update_lr do in one C call, and otherwise it calls
LRScheduler.step. A subclass of UBALR always takes the Python path, so every scenario
here runs twice, once on UBALR (C) and once on a trivial subclass (Python), and the two
traces must be identical: every lr bit for bit (and its type and dtype), the whole
scheduler state (state_dict), get_last_lr(), warnings (category, text, file and line)
and exceptions.
"""

from __future__ import annotations

import gc
import math
import struct
import sys
import tracemalloc
import warnings

import pytest

torch = pytest.importorskip("torch")
lrs = torch.optim.lr_scheduler

import uba  # noqa: E402
from uba import _core  # noqa: E402


class PythonPathUBALR(uba.UBALR):
    """Not an exact UBALR: StepMethod hands every step to LRScheduler.step."""


PATHS = {"c": uba.UBALR, "python": PythonPathUBALR}


# ---------------------------------------------------------------------------- traces


def bits(x) -> tuple:
    """An lr as exactly what it is: type, dtype and the bits of its value."""
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype), tuple(x.shape), x.detach().double().item().hex())
    if isinstance(x, float):
        return (type(x).__name__, struct.pack("<d", x).hex())
    return (type(x).__name__, repr(x))


def snapshot(value):
    """A comparable, exact copy of a (nested) state value."""
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [snapshot(v) for v in value])
    if isinstance(value, (float, torch.Tensor)):
        return bits(value)
    return (type(value).__name__, repr(value))


class Trace:
    """What a scenario observes; two runs must record equal traces."""

    def __init__(self) -> None:
        self.events: list = []

    def lrs(self, optimizer, label="lrs") -> None:
        self.events.append((label, [bits(g["lr"]) for g in optimizer.param_groups]))

    def state(self, scheduler, label="state") -> None:
        self.events.append((label, snapshot(scheduler.state_dict())))
        self.events.append((label + " last", snapshot(scheduler.get_last_lr())))

    def call(self, label, action) -> None:
        """Runs action, recording its warnings (with file and line) or exception."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                action()
                outcome = None
            except Exception as error:  # noqa: BLE001 -- compared, not handled
                outcome = (type(error).__name__, str(error))
        self.events.append(
            (
                label,
                outcome,
                [(w.category.__name__, str(w.message), w.filename, w.lineno) for w in caught],
            )
        )


def make_optimizer(lrs_):
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in lrs_]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs_)])


def compare(scenario) -> None:
    traces = {}
    for name, cls in PATHS.items():
        trace = Trace()
        scenario(cls, trace)
        traces[name] = trace.events
    assert len(traces["c"]) == len(traces["python"])
    for i, (c, py) in enumerate(zip(traces["c"], traces["python"])):
        assert c == py, f"event {i}: C {c!r} != Python {py!r}"


def steps(trace, optimizer, schedulers, count, label="step", metric=None) -> None:
    for t in range(count):
        optimizer.step()
        for s in schedulers:
            if isinstance(s, lrs.ReduceLROnPlateau):
                trace.call(f"{label} {t}", lambda s=s: s.step(metric(t)))
            else:
                trace.call(f"{label} {t}", s.step)
        trace.lrs(optimizer)
    for s in schedulers:
        if not isinstance(s, lrs.ReduceLROnPlateau):
            trace.state(s)


# ---------------------------------------------------------------------------- scenarios


LR_KINDS = {
    "float": lambda: 0.1,
    "int": lambda: 1,
    "float32 tensor": lambda: torch.tensor(0.5),
    "float64 tensor": lambda: torch.tensor(0.5, dtype=torch.float64),
    "bfloat16 tensor": lambda: torch.tensor(0.5, dtype=torch.bfloat16),
    "1-element tensor": lambda: torch.tensor([0.25]),
}


@pytest.mark.parametrize("kind", sorted(LR_KINDS))
@pytest.mark.parametrize("phi", [0.5, 2.0])
def test_long_runs_past_the_budget_are_identical(kind, phi) -> None:
    def scenario(cls, trace):
        opt = make_optimizer([LR_KINDS[kind](), 0.05])
        sched = cls(opt, 37, [1e-3, 0.0], phi=phi)
        steps(trace, opt, [sched], 120)

    compare(scenario)


def test_warmup_per_group_floors_and_many_groups_are_identical() -> None:
    # 20 groups: more than the 16 the C step keeps on the stack
    def scenario(cls, trace):
        values = [0.1 * (i + 1) if i % 3 else torch.tensor(0.01 * (i + 1)) for i in range(20)]
        opt = make_optimizer(values)
        sched = cls(opt, 300, [1e-5 * i for i in range(20)], phi=1.3, warmup_steps=40,
                    warmup_start_factor=0.05)
        steps(trace, opt, [sched], 330)

    compare(scenario)


@pytest.mark.parametrize(
    "partner",
    [
        lambda opt: lrs.StepLR(opt, step_size=3, gamma=0.1),
        lambda opt: lrs.ExponentialLR(opt, gamma=0.9),
        lambda opt: lrs.LinearLR(opt, start_factor=0.4, total_iters=4),
        lambda opt: lrs.MultiStepLR(opt, milestones=[2, 5, 9], gamma=0.1),
    ],
    ids=["StepLR", "ExponentialLR", "LinearLR", "MultiStepLR"],
)
@pytest.mark.parametrize("uba_first", [False, True])
def test_composition_with_chainable_schedulers_is_identical(partner, uba_first) -> None:
    def scenario(cls, trace):
        opt = make_optimizer([0.05, torch.tensor(0.5)])
        other = partner(opt)
        sched = cls(opt, 10, 1e-4, phi=2.0)
        steps(trace, opt, [sched, other] if uba_first else [other, sched], 30)

    compare(scenario)


def test_reduce_on_plateau_touching_the_lr_is_identical() -> None:
    def scenario(cls, trace):
        opt = make_optimizer([1.0, torch.tensor(0.5)])
        sched = cls(opt, 25, 1e-3, phi=0.7)
        plateau = lrs.ReduceLROnPlateau(opt, factor=0.5, patience=0)
        metrics = [10.0 - t if t % 4 else 10.0 for t in range(40)]
        steps(trace, opt, [sched, plateau], 40, metric=lambda t: metrics[t])

    compare(scenario)


@pytest.mark.parametrize("wrapper", ["SequentialLR", "ChainedScheduler"])
def test_inside_sequential_and_chained_schedulers_is_identical(wrapper) -> None:
    def scenario(cls, trace):
        opt = make_optimizer([0.05, torch.tensor(0.5)])
        if wrapper == "SequentialLR":
            warm = lrs.LinearLR(opt, start_factor=0.1, total_iters=5)
            sched = cls(opt, 10, 1e-3, phi=2.0)
            outer = lrs.SequentialLR(opt, [warm, sched], milestones=[5])
        else:
            sched = cls(opt, 10, 1e-3, phi=2.0)
            outer = lrs.ChainedScheduler([sched, lrs.ExponentialLR(opt, gamma=0.9)], optimizer=opt)
        steps(trace, opt, [outer], 30)
        trace.state(sched, "inner state")

    compare(scenario)


def test_user_changes_to_the_lr_and_to_the_state_are_identical() -> None:
    def scenario(cls, trace):
        opt = make_optimizer([0.2, torch.tensor(0.5)])
        sched = cls(opt, 50, [0.0, 1e-3], phi=1.0)
        steps(trace, opt, [sched], 5)
        opt.param_groups[0]["lr"] = 0.05  # a manual cut
        opt.param_groups[1]["lr"].mul_(0.5)
        steps(trace, opt, [sched], 5)
        opt.param_groups[1]["lr"] = torch.tensor(0.3, dtype=torch.float64)  # a new tensor
        opt.param_groups[0]["lr"] = torch.tensor(0.1)  # float -> tensor
        steps(trace, opt, [sched], 5)
        sched._written = [None, None]  # "re-read the lr at the next step"
        sched._ratios = [1.0]  # wrong length: reset to 1
        steps(trace, opt, [sched], 5)
        sched.eta_min = 1e-4  # a float floor instead of a list
        sched.last_epoch = 48
        steps(trace, opt, [sched], 6)

    compare(scenario)


def test_state_dict_resume_and_rebuilding_with_last_epoch_are_identical() -> None:
    def scenario(cls, trace):
        opt = make_optimizer([0.1, torch.tensor(0.5)])
        sched = cls(opt, 40, 1e-3, phi=0.8, warmup_steps=4)
        steps(trace, opt, [sched], 13)
        saved_opt, saved = opt.state_dict(), sched.state_dict()
        opt2 = make_optimizer([0.1, torch.tensor(0.5)])
        sched2 = cls(opt2, 7, 0.0)  # deliberately different, then loaded
        opt2.load_state_dict(saved_opt)
        sched2.load_state_dict(saved)
        trace.state(sched2, "loaded")
        steps(trace, opt2, [sched2], 10)
        rebuilt = cls(opt2, 40, 1e-3, sched2.last_epoch - 1, phi=0.8, warmup_steps=4)
        trace.state(rebuilt, "rebuilt")
        steps(trace, opt2, [rebuilt], 10)

    compare(scenario)


def test_warnings_and_step_with_epoch_are_identical() -> None:
    def scenario(cls, trace):
        opt = make_optimizer([0.1, torch.tensor(0.5)])
        sched = cls(opt, 20, 0.0)
        trace.call("first step before optimizer.step", sched.step)
        trace.call("second", sched.step)
        trace.call("step(None)", lambda: sched.step(None))
        trace.call("step(epoch=None)", lambda: sched.step(epoch=None))
        trace.call("step(7)", lambda: sched.step(7))
        trace.call("step(epoch=3)", lambda: sched.step(epoch=3))
        trace.call("bound", lambda: type(sched).step(sched))
        trace.call("bad keyword", lambda: sched.step(epochs=3))
        trace.call("too many", lambda: sched.step(1, 2))
        trace.call("get_lr outside step", sched.get_lr)
        trace.lrs(opt)
        trace.state(sched)

        opt2 = make_optimizer([0.1])
        sched2 = cls(opt2, 20, 0.0)
        wrapped = opt2.step
        opt2.step = lambda *a, **k: wrapped(*a, **k)  # overridden after construction
        opt2.step()
        trace.call("after override", sched2.step)
        trace.state(sched2)

    compare(scenario)


def test_errors_leave_identical_state() -> None:
    def scenario(cls, trace):
        opt = make_optimizer([0.1, 0.2, torch.tensor(0.5)])
        sched = cls(opt, 20, 0.0)
        steps(trace, opt, [sched], 3)
        opt.param_groups[1]["lr"] = math.inf  # refused by the core: ValueError
        trace.call("inf lr", sched.step)
        trace.lrs(opt)
        trace.state(sched)
        opt.param_groups[1]["lr"] = 0.2
        opt.param_groups[2]["lr"] = torch.tensor(0.5, requires_grad=True)  # fill_ raises
        trace.call("fill_ on a leaf that requires grad", sched.step)
        trace.lrs(opt)
        trace.state(sched)
        opt.param_groups[2]["lr"] = "0.5"  # nonsense
        trace.call("str lr", sched.step)
        trace.lrs(opt)
        trace.state(sched)

    compare(scenario)


# ---------------------------------------------------------------------------- the C path


class Probe(uba.UBALR):
    pass


def test_the_c_path_runs_the_steady_state_and_hands_the_rest_over() -> None:
    calls = []

    def fallback(self, *args, **kwargs):
        calls.append((args, kwargs))
        return lrs.LRScheduler.step(self, *args, **kwargs)

    Probe.step = _core.StepMethod(Probe, fallback, torch.Tensor)
    opt = make_optimizer([0.1, torch.tensor(0.5)])
    sched = Probe(opt, 100)
    assert len(calls) == 1  # the initial step (_is_initial)
    opt.step()
    sched.step()
    assert len(calls) == 2  # the first step: torch's order warnings
    for _ in range(10):
        sched.step()
    sched.step(None)
    sched.step(epoch=None)
    assert len(calls) == 2  # all in C
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    assert len(calls) == 3
    opt.param_groups[0]["lr"] = [0.1]  # nonsense: Python path (and its error)
    with pytest.raises(TypeError):
        sched.step()
    assert len(calls) == 4
    assert sched.last_epoch == 6  # the Python path counted it, as torch does


def test_step_is_a_method_descriptor_that_looks_like_lr_scheduler_step() -> None:
    import inspect

    step = uba.UBALR.step
    assert isinstance(step, _core.StepMethod)
    assert step.__wrapped__ is lrs.LRScheduler.step
    assert step.__name__ == "step" and step.__doc__ == lrs.LRScheduler.step.__doc__
    assert str(inspect.signature(step)) == str(inspect.signature(lrs.LRScheduler.step))
    sched = uba.UBALR(make_optimizer([0.1]), 10)
    bound = sched.step
    assert bound.__self__ is sched and bound.__func__ is step
    with pytest.raises(TypeError):
        _core.StepMethod(uba.UBALR, 3, torch.Tensor)
    with pytest.raises(TypeError):
        _core.StepMethod(uba.UBALR, print, torch.Tensor, extra=1)


def test_lists_seen_by_the_caller_are_never_changed_afterwards() -> None:
    # The C step refills _ratios/_written/_last_lr in place only when no one
    # else holds them; anything handed out keeps its values.
    opt = make_optimizer([0.1, torch.tensor(0.5)])
    sched = uba.UBALR(opt, 30, phi=0.6)
    opt.step()
    sched.step()
    kept = []
    for _ in range(20):
        sched.step()
        last = sched.get_last_lr()
        state = sched.state_dict()
        kept.append((last, [float(x) for x in last], state, list(state["_ratios"]),
                     list(state["_written"])))
        sched.step()  # one more step while only the scheduler holds the lists
    for last, values, state, ratios, written in kept:
        assert [float(x) for x in last] == values
        assert state["_ratios"] == ratios and state["_written"] == written
        assert state["_last_lr"] is last


def test_no_leak_over_many_c_steps() -> None:
    opt = make_optimizer([0.1, torch.tensor(0.5)])
    sched = uba.UBALR(opt, 10**6, [0.0, 1e-4], phi=0.5)
    opt.step()
    sched.step()
    lr0 = opt.param_groups[1]["lr"]
    for _ in range(2000):
        sched.step()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    refs = sys.getrefcount(lr0)
    for _ in range(20000):
        sched.step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 64 * 1024, grown
    assert sys.getrefcount(lr0) == refs
