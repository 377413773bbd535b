"""UBALR(phi=2) as a drop-in for CosineAnnealingLR in the situations training
code creates: groups added and removed mid-run, T_max of every integral type,
last_epoch set by hand, subclasses, tensor lrs over long runs, failing steps,
messages that name what the user passed, and the binding under hostile input.

Each scenario that has a torch twin runs both (float64 lrs compared at rel 1e-12).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
lrs = torch.optim.lr_scheduler

import uba  # noqa: E402
from uba import _core  # noqa: E402

from ..helpers import scaled  # noqa: E402
from ..schedule.test_binding import FloatOverflows  # noqa: E402
from .twins import KINDS, round_trip, torch_updates_tensor_lrs_in_place  # noqa: E402

REL = 1e-12


def cosine(kind, optimizer, T_max, eta_min=0.0, last_epoch=-1):
    if kind == "torch":
        return lrs.CosineAnnealingLR(optimizer, T_max, eta_min, last_epoch)
    return uba.UBALR(optimizer, T_max, eta_min, last_epoch, phi=2.0)


def layers(n):
    return [torch.nn.Linear(2, 2) for _ in range(n)]


def group_lrs(optimizer):
    return [float(g["lr"]) for g in optimizer.param_groups]


def assert_rows_match(got, want):
    assert len(got) == len(want)
    for t, (a, b) in enumerate(zip(got, want)):
        assert a == pytest.approx(b, rel=REL, abs=1e-15), f"step {t}: {a} != {b}"


# ---- groups added and removed mid-run -------------------------------------------


def unfreezing_run(kind, steps=40, save_at=None):
    """Progressive unfreezing: a second group joins at step 10, a third at 20."""
    net = layers(3)
    opt = torch.optim.SGD(net[0].parameters(), lr=0.1)
    sched = cosine(kind, opt, 50, 0.001)
    rows, saved = [], None
    for step in range(steps):
        if step == 10:
            opt.add_param_group({"params": net[1].parameters(), "lr": 0.05})
        if step == 20:
            opt.add_param_group({"params": net[2].parameters(), "lr": 0.02})
        opt.step()
        sched.step()
        rows.append(group_lrs(opt))
        if step == save_at:
            saved = round_trip({"opt": opt.state_dict(), "sched": sched.state_dict()})
    return rows, saved


def test_groups_added_mid_run_are_scheduled_from_their_own_lr_as_torch_does() -> None:
    torch_rows, _ = unfreezing_run("torch")
    uba_rows, _ = unfreezing_run("uba")
    assert_rows_match(uba_rows, torch_rows)
    # and the added groups really moved: they follow the cosine from their lr
    assert uba_rows[-1][1] < 0.05 and uba_rows[-1][2] < 0.02


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_after_groups_were_added_resumes_the_same_run(kind) -> None:
    full, _ = unfreezing_run(kind, steps=40)
    _, saved = unfreezing_run(kind, steps=26, save_at=25)
    net = layers(3)
    opt = torch.optim.SGD(
        [{"params": net[i].parameters(), "lr": lr} for i, lr in enumerate((0.1, 0.05, 0.02))]
    )
    sched = cosine(kind, opt, 50, 0.001)
    opt.load_state_dict(saved["opt"])
    sched.load_state_dict(saved["sched"])
    resumed = []
    for _ in range(26, 40):
        opt.step()
        sched.step()
        resumed.append(group_lrs(opt))
    assert_rows_match(resumed, full[26:])


def removal_run(kind):
    net = layers(3)
    opt = torch.optim.SGD(
        [{"params": net[i].parameters(), "lr": lr} for i, lr in enumerate((0.1, 0.05, 0.02))]
    )
    sched = cosine(kind, opt, 50)
    rows = []
    for step in range(40):
        if step == 12:
            del opt.param_groups[1]
        opt.step()
        sched.step()
        rows.append(group_lrs(opt))
    return rows, sched


def test_a_removed_group_leaves_the_others_on_torchs_values() -> None:
    torch_rows, _ = removal_run("torch")
    uba_rows, sched = removal_run("uba")
    assert_rows_match(uba_rows, torch_rows)
    assert sched.base_lrs == [0.1, 0.02]  # read again from each group's initial_lr
    other = uba.UBALR(torch.optim.SGD(layers(1)[0].parameters(), lr=0.1), 50, phi=2.0)
    other.load_state_dict(round_trip(sched.state_dict()))


def test_an_added_group_is_not_reported_as_an_eta_min_length_mismatch() -> None:
    net = layers(2)
    opt = torch.optim.SGD(net[0].parameters(), lr=0.1)
    sched = uba.UBALR(opt, 50, eta_min=[0.001])
    opt.step()
    sched.step()
    opt.add_param_group({"params": net[1].parameters(), "lr": 0.05})
    before = sched.state_dict()
    with pytest.raises(
        ValueError,
        match=r"param_groups\[1\] was added after eta_min was "
        r"given one floor per group \(1\): set "
        r"scheduler.eta_min to 2 floors",
    ):
        sched.step()
    assert sched.state_dict() == before
    sched.eta_min = [0.001, 0.0005]
    sched.step()  # fixed as the message says
    assert group_lrs(opt)[1] < 0.05


# ---- T_max as torch takes it ------------------------------------------------------


@pytest.mark.parametrize(
    "T_max",
    [300, np.int64(300), np.uint16(300), 300.0, np.float32(300.0), "tensor"],
    ids=["int", "np.int64", "np.uint16", "float", "np.float32", "0-d tensor"],
)
def test_t_max_accepts_any_integral_number(T_max) -> None:
    if T_max == "tensor":
        T_max = torch.tensor(300)
    rows = {}
    for kind in KINDS:
        opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
        sched = cosine(kind, opt, 300 if kind == "torch" else T_max)
        rows[kind] = []
        for _ in range(20):
            opt.step()
            sched.step()
            rows[kind].append(group_lrs(opt))
    assert_rows_match(rows["uba"], rows["torch"])
    assert type(sched.T_max) is int and sched.T_max == 300


@pytest.mark.parametrize(
    ("T_max", "error"),
    [
        (300.5, ValueError),
        (0, ValueError),
        (-3, ValueError),
        (2**53 + 1, ValueError),
        (np.int64(2**53 + 1), ValueError),
        (math.inf, ValueError),
        (math.nan, ValueError),
        ("300", TypeError),
        (None, TypeError),
    ],
)
def test_a_t_max_that_is_not_an_integral_budget_is_refused_naming_it(T_max, error) -> None:
    opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
    with pytest.raises(error, match=r"T_max must be"):
        uba.UBALR(opt, T_max)


# ---- last_epoch set by hand, subclasses, get_lr's types -----------------------------


def hand_set_run(kind, jump_to):
    opt = torch.optim.SGD(
        [
            {"params": layers(1)[0].parameters(), "lr": 0.1},
            {"params": layers(1)[0].parameters(), "lr": 0.02},
        ]
    )
    sched = cosine(kind, opt, 100, 1e-4)
    for _ in range(5):
        opt.step()
        sched.step()
    sched.last_epoch = jump_to
    rows = []
    for _ in range(30):
        opt.step()
        sched.step()
        rows.append(group_lrs(opt))
    return rows


@pytest.mark.parametrize("jump_to", [60, 0, -1, 250])
def test_last_epoch_set_by_hand_gives_torchs_values(jump_to) -> None:
    assert_rows_match(hand_set_run("uba", jump_to), hand_set_run("torch", jump_to))


def test_a_subclass_that_overrides_get_lr_is_obeyed() -> None:
    def halved(base):
        class Halved(base):
            def get_lr(self):
                return [0.5 * float(lr) for lr in super().get_lr()]

        return Halved

    rows = {}
    for kind, base in (("torch", lrs.CosineAnnealingLR), ("uba", uba.UBALR)):
        opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
        kwargs = {"phi": 2.0} if kind == "uba" else {}
        sched = halved(base)(opt, 10, **kwargs)
        rows[kind] = []
        for _ in range(6):
            opt.step()
            sched.step()
            rows[kind].append(group_lrs(opt))
    assert_rows_match(rows["uba"], rows["torch"])
    assert rows["uba"][2][0] < 0.1 * 0.5**3  # each step halved what the cosine gave


@pytest.mark.parametrize("kind", KINDS)
def test_get_lr_returns_each_groups_type(kind) -> None:
    opt = torch.optim.SGD(
        [
            {"params": layers(1)[0].parameters()},
            {"params": layers(1)[0].parameters(), "lr": torch.tensor(0.5, dtype=torch.float64)},
        ],
        lr=0.05,
    )
    sched = cosine(kind, opt, 10)
    opt.step()
    sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        values = sched.get_lr()
    assert type(values[0]) is float
    assert isinstance(values[1], torch.Tensor) and values[1].dtype == torch.float64
    assert values[1] is not opt.param_groups[1]["lr"]


# ---- float32 tensor lrs: no drift ---------------------------------------------------


def f32(x):
    return float(np.float32(x))


def test_a_float32_lr_with_a_floor_float32_cannot_hold_comes_back_to_its_base() -> None:
    lr = torch.tensor(1.0)
    opt = torch.optim.SGD([{"params": layers(1)[0].parameters(), "lr": lr}])
    sched = uba.UBALR(opt, 100, 0.3, phi=2.0)
    for _ in range(200):
        opt.step()
        sched.step()
    assert float(opt.param_groups[0]["lr"]) == 1.0
    assert (opt.param_groups[0]["lr"] is lr) == torch_updates_tensor_lrs_in_place()


@pytest.mark.parametrize(
    ("phi", "base", "floor"), [(2.0, 3e-4, 3e-5), (0.5, 1.0, 0.3), (5.0, 0.1, 0.0)]
)
def test_a_float32_lr_stays_within_an_ulp_of_the_closed_form_over_a_long_run(
    phi, base, floor
) -> None:
    T = 1000
    lr = torch.tensor(base)
    opt = torch.optim.SGD([{"params": layers(1)[0].parameters(), "lr": lr}])
    sched = uba.UBALR(opt, T, floor, phi=phi)
    got = np.empty(scaled(100_000), dtype=np.float32)  # 1e5 steps in the full tier
    group = opt.param_groups[0]
    for t in range(got.size):
        opt.step()
        sched.step()
        got[t] = group["lr"].item()
    exact = uba.schedule(np.arange(1, got.size + 1), T, phi, f32(base), floor)
    want = exact.astype(np.float32)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
    assert ulps.max() <= 1


# ---- failing steps, bad state, names in messages ------------------------------------


def test_a_failing_step_changes_no_state() -> None:
    opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
    sched = uba.UBALR(opt, 50)
    for _ in range(3):
        opt.step()
        sched.step()
    opt.param_groups[0]["lr"] = math.nan
    before = sched.state_dict()
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['lr'\] must be a finite number"):
        sched.step()
    assert sched.state_dict() == before
    opt.param_groups[0]["lr"] = "fast"
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['lr'\] must be a real number"):
        sched.step()
    assert sched.state_dict() == before


def test_a_state_with_last_epoch_beyond_2_53_is_refused_when_loaded() -> None:
    opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
    sched = uba.UBALR(opt, 50)
    state = sched.state_dict()
    state["last_epoch"] = 2**53 + 7
    with pytest.raises(ValueError, match=r"last_epoch.* \[-1, 2\*\*53\], got 9007199254740999"):
        sched.load_state_dict(state)
    assert sched.last_epoch == 0


def test_stepping_past_2_53_is_refused_not_frozen() -> None:
    opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
    sched = uba.UBALR(opt, 50)
    opt.step()
    sched.step()
    sched.last_epoch = 2**53
    before = sched.state_dict()
    with pytest.raises(ValueError, match=r"last_epoch must be an integer a double holds exactly"):
        sched.step()
    assert sched.state_dict() == before


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"eta_min": "0.1"}, TypeError, r"eta_min must be a real number, got str"),
        (
            {"warmup_start_factor": "0.1"},
            TypeError,
            r"warmup_start_factor must be a real number, got str",
        ),
        ({"phi": "2"}, TypeError, r"phi must be a real number, got str"),
        ({"eta_min": [0.0, "x"]}, TypeError, r"eta_min\[1\] must be a real number"),
    ],
)
def test_strings_are_refused_as_uba_schedule_refuses_them(kwargs, error, pattern) -> None:
    opt = torch.optim.SGD(
        [{"params": layers(1)[0].parameters()}, {"params": layers(1)[0].parameters()}], lr=0.1
    )
    with pytest.raises(error, match=pattern):
        uba.UBALR(opt, 50, **kwargs)


def test_parameters_set_by_hand_are_checked_once_and_used_from_the_next_step() -> None:
    """The core checks T_max, phi and the warmup when the scheduler is made,
    and again only when they change (here by hand), as they were read at
    every step before."""
    opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
    sched = uba.UBALR(opt, 100, phi=1.0)
    for _ in range(10):
        opt.step()
        sched.step()
    sched.phi, sched.T_max = 3.0, 200
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 * uba.schedule(11, 200, phi=3.0)
    sched.phi = -1.0
    opt.step()
    with pytest.raises(ValueError, match=r"^phi must be a finite number > 0, got -1\.0$"):
        sched.step()
    assert sched.last_epoch == 11


def test_a_phi_whose_float_overflows_is_named() -> None:
    """It used to give "'<' not supported between instances"."""
    opt = torch.optim.SGD(layers(1)[0].parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"^phi must be a real number a double can hold, got <"):
        uba.UBALR(opt, 50, phi=FloatOverflows())


def test_a_nan_base_lr_is_reported_as_base_lrs() -> None:
    opt = torch.optim.SGD(layers(1)[0].parameters(), lr=math.nan)
    with pytest.raises(ValueError, match=r"base_lrs\[0\] must be a finite number, got nan"):
        uba.UBALR(opt, 50)


# ---- the binding under hostile input --------------------------------------------------


class Float:
    """A number whose conversion runs arbitrary code first."""

    def __init__(self, value, action):
        self.value, self.action = value, action

    def __float__(self):
        self.action()
        return self.value


def step_groups(lrs_now):
    return _core.step_groups(
        _core.StepParams(10, 2.0, 0, 0.0), 2, 3, [0.1, 0.1], 0.0, lrs_now, None, None
    )


def test_a_list_emptied_by_an_items_float_is_refused_not_read_after_free() -> None:
    values = [0.1, 0.1]
    values[0] = Float(0.1, values.clear)
    with pytest.raises(
        ValueError,
        match=r"param_groups must have one value per "
        r"parameter group \(2\), got 0",
    ):
        step_groups(values)
    groups = [{"lr": 0.1}, {"lr": 0.1}]
    groups[0]["lr"] = Float(0.1, groups[1].clear)  # the next group loses its lr
    with pytest.raises(TypeError, match=r"param_groups\[1\] has no 'lr'"):
        step_groups(groups)


def test_param_groups_are_read_as_their_lrs() -> None:
    groups = [{"lr": 0.1, "params": []}, {"lr": Float(0.1, lambda: None)}]
    lrs_next, _, plain = step_groups(groups)
    ratio = (1 + math.cos(0.3 * math.pi)) / (1 + math.cos(0.2 * math.pi))
    assert lrs_next == pytest.approx([0.1 * ratio] * 2, rel=1e-12)
    assert plain is False  # not every lr was a Python float
    assert step_groups([0.1, 0.1])[2] is True


@pytest.mark.parametrize("error", [KeyboardInterrupt, MemoryError, RuntimeError])
def test_an_items_own_exception_is_never_swallowed(error) -> None:
    def fail():
        raise error("from __float__")

    with pytest.raises(error, match="from __float__"):
        step_groups([Float(0.1, fail), 0.1])


# ---- torch does the stepping ---------------------------------------------------------


def test_step_is_torchs_own_and_get_lr_is_what_uba_overrides() -> None:
    assert uba.UBALR.step is lrs.LRScheduler.step
    overridden = {name for name in vars(uba.UBALR) if callable(vars(uba.UBALR)[name])}
    assert {"get_lr", "_get_closed_form_lr"} <= overridden
    assert not overridden & {"step", "_update_lr", "_initial_step", "state_dict"}


def test_the_c_sources_name_no_torch_private_attribute() -> None:
    from ..helpers import REPO

    sources = sorted((REPO / "csrc").glob("**/*.[ch]"))
    if not sources:
        pytest.skip("the C sources are not beside these tests")
    private = (
        "_is_initial",
        "_step_count",
        "_get_lr_called_within_step",
        "_last_lr",
        "_opt_called",
        "_wrapped_by_lr_sched",
        "_initial_step",
        "_update_lr",
    )
    for path in sources:
        text = path.read_text()
        assert not [name for name in private if name in text], path
