"""Writes the seed corpus of fuzz_uba.c: one small, meaningful input per
entry point and edge (valid calls, each kind of bad argument, warmups,
huge budgets, extreme phi).  Run from csrc/: python3 fuzz/make_seeds.py.
The files are committed; libFuzzer mutates them into everything else."""

import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Entry points (first byte, modulo 16), as in LLVMFuzzerTestOneInput.
(
    STRERROR,
    SHAPE,
    SHAPE_FILL,
    PARAMS_ETA,
    ETA_FILL,
    MONOTONE,
    STEP,
    CHEBYSHEV,
    PHI_KAPPA,
    CURVATURE,
    RESIDUAL,
    NOISY,
    NONCONVEX,
    CONVEX,
    STRONGLY_CONVEX,
    OPTIMAL,
) = range(16)
OPT_PHI, OPT_SC = b"\x01", b"\x00"  # the byte after OPTIMAL picks one
EXPECTED_LOSS, CHOOSE_PHI = b"\x02", b"\x04"  # ... or one of these


def size(n: int) -> bytes:
    """A size_t as take_size's 16-bit mode (mode 1)."""
    return bytes([1, n >> 8, n & 0xFF])


def lam(lo: float, hi: float) -> bytes:
    """A curvature range as take_lam_range's arbitrary pair."""
    return b"\x02" + d(lo) + d(hi)


def steps(*xs: float) -> bytes:
    """n step sizes as take_lrs's arbitrary entries."""
    return bytes([len(xs)]) + b"".join(b"\x01" + d(x) for x in xs)


def d(x: float) -> bytes:
    """A double as take_double's raw-bits mode: mode 0, 8 bytes big-endian."""
    return b"\x00" + struct.pack(">d", x)


def edge(k: int) -> bytes:
    """Entry k of edge_value's table (mode 2)."""
    return bytes([2, k])


def small(n: int) -> bytes:
    """A small integer, 0..255 (mode 4)."""
    return bytes([4, n])


def spectrum(n: int, noise: bytes | None = None, flat: bool = False) -> bytes:
    """take_spectrum's n curvatures k^-1 (or 0 each, flat), no weights,
    start 1 and noise 1/64 each (or one noise value, as a raw double)."""
    hv = b"\x00" if noise is not None else b"\x23"  # one value, or n of byte/64
    he, lam = (b"\x20", bytes(n)) if flat else (b"\x10", bytes([1] * n))
    values = lam + d(1.0) + (noise if noise is not None else bytes([1] * n))
    return b"\x00" + bytes([n]) + b"\x08\x00" + hv + he + values


def halves(n: int) -> bytes:
    """take_lrs's n steps of half the scale (0.5 / lam_max)."""
    return bytes([n]) + bytes([64] * n)


NAN, INF = float("nan"), float("inf")
SEEDS = {
    "strerror": bytes([STRERROR, 0, 0, 0, 3]),
    "strerror_negative": bytes([STRERROR, 0xFF, 0xFF, 0xFF, 0xFE]),
    "shape_mid": bytes([SHAPE]) + d(500.0) + d(1000.0) + d(1.0) + b"\x01",
    "shape_end_huge_T": bytes([SHAPE]) + edge(18) + edge(18) + d(1e-6) + b"\x01",
    "shape_tiny_phi": bytes([SHAPE]) + d(10.0) + d(10.0) + edge(30) + b"\x01",
    "shape_nan_t": bytes([SHAPE]) + d(NAN) + d(10.0) + d(2.0) + b"\x01",
    "shape_null_out": bytes([SHAPE]) + d(1.0) + d(10.0) + d(2.0) + b"\x00",
    "shape_fill": bytes([SHAPE_FILL])
    + d(100.0)
    + d(0.5)
    + b"\x00\x04"
    + d(0.0)
    + d(50.0)
    + d(99.0)
    + d(100.0),
    "shape_fill_alias_bad": bytes([SHAPE_FILL])
    + d(100.0)
    + d(0.5)
    + b"\x01\x03"
    + d(0.0)
    + d(-1.0)
    + d(INF),
    "params_eta": bytes([PARAMS_ETA])
    + d(1000.0)
    + d(0.7)
    + d(0.1)
    + d(1e-4)
    + d(0.0)
    + d(0.0)
    + b"\x01\x01"
    + d(0.0)
    + b"\x00"
    + d(999.0)
    + b"\x00"
    + d(1000.0)
    + b"\x00"
    + d(3000.0)
    + b"\x00",
    "params_eta_warmup": bytes([PARAMS_ETA])
    + d(110.0)
    + d(3.0)
    + d(2.0)
    + d(0.5)
    + d(10.0)
    + d(0.25)
    + b"\x01\x01"
    + d(0.0)
    + b"\x02"
    + d(0.0)
    + b"\x82"
    + d(0.0)
    + b"\x01"
    + d(9.5)
    + b"\x00",
    "params_equal_ends": bytes([PARAMS_ETA])
    + d(1000.0)
    + d(0.7)
    + d(0.3)
    + d(0.3)
    + d(0.0)
    + d(0.0)
    + b"\x01\x01"
    + d(123.0)
    + b"\x00"
    + d(777.0)
    + b"\x00"
    + d(1.0)
    + b"\x00"
    + d(2.0)
    + b"\x00",
    "params_bad_warmup": bytes([PARAMS_ETA])
    + d(10.0)
    + d(1.0)
    + d(1.0)
    + d(0.0)
    + d(10.0)
    + d(0.0)
    + b"\x01\x01",
    "eta_fill": bytes([ETA_FILL])
    + d(64.0)
    + d(2.0)
    + d(1.0)
    + d(0.0)
    + d(8.0)
    + d(0.0)
    + b"\x01\x00\x05"
    + b"\x00\x20\x40\x80\xfe",
    "monotone_mid_huge": bytes([MONOTONE])
    + edge(23)
    + edge(14)
    + d(1.0)
    + d(0.5)
    + d(0.0)
    + d(0.0)
    + b"\x01"
    + b"\x00" * 8
    + b"\x41\x01",
    "monotone_warmup": bytes([MONOTONE])
    + d(1000.0)
    + d(1.0)
    + d(1.0)
    + d(0.0)
    + d(100.0)
    + d(0.0)
    + b"\x01"
    + b"\x00" * 8
    + b"\x42\x01",
    "step_first": bytes([STEP])
    + d(100.0)
    + d(1.0)
    + d(0.0)
    + d(0.0)
    + b"\x01"
    + d(0.0)
    + d(0.0)
    + b"\x01\x00\x02"
    + d(0.1)
    + d(0.0)
    + b"\x10"
    + d(0.5)
    + d(1e-3)
    + b"\x10",
    "step_untouched": bytes([STEP])
    + d(100.0)
    + d(1.0)
    + d(10.0)
    + d(0.1)
    + b"\x01"
    + d(0.0)
    + d(20.0)
    + b"\x00\x00\x01"
    + d(0.1)
    + d(0.0)
    + b"\x14"
    + d(0.05),
    "step_touched_trough": bytes([STEP])
    + d(10.0)
    + d(2.0)
    + d(0.0)
    + d(0.0)
    + b"\x01"
    + d(0.0)
    + d(11.0)
    + b"\x00\x00\x01"
    + d(0.1)
    + d(0.0)
    + b"\x18"
    + d(0.0)
    + d(0.0),
    "step_bad_lr": bytes([STEP])
    + d(10.0)
    + d(2.0)
    + d(0.0)
    + d(0.0)
    + b"\x01"
    + d(0.0)
    + d(3.0)
    + b"\x00\x00\x01"
    + d(0.1)
    + d(0.0)
    + b"\x11"
    + d(INF),
    # theory
    "chebyshev": bytes([CHEBYSHEV]) + size(16) + lam(1.0, 100.0) + b"\x11" + size(1000),
    "chebyshev_huge_T": bytes([CHEBYSHEV])
    + bytes([2, 12])
    + lam(1.0, 10.0)
    + b"\x11"
    + bytes([2, 11]),
    "chebyshev_top_of_range": bytes([CHEBYSHEV])
    + size(5)
    + b"\x01"
    + edge(26)
    + edge(26)
    + b"\x11"
    + size(3),
    "phi_kappa": bytes([PHI_KAPPA]) + d(50.0) + d(1.5) + b"\x00",
    "curvature_params": bytes([CURVATURE]) + lam(0.5, 2.0) + b"\x01",
    "residual": bytes([RESIDUAL])
    + size(40)
    + lam(1.0, 10.0)
    + b"\x00\x00"
    + steps(1.0, 0.5, 0.2, 0.1, 0.15),
    "residual_short_work": bytes([RESIDUAL])
    + size(0)
    + lam(1.0, 10.0)
    + b"\x00\x02"
    + steps(1.0, 0.5),
    "residual_bad_range": bytes([RESIDUAL])
    + size(7)
    + lam(1.0, 10.0)
    + b"\x00\x00"
    + steps(0.1, 1e101, float("nan")),
    "noisy": bytes([NOISY])
    + size(3)
    + lam(1.0, 10.0)
    + d(1e-2)
    + b"\x00\x00"
    + steps(0.9, 0.5, 0.3, 0.1),
    "noisy_no_noise": bytes([NOISY])
    + size(3)
    + lam(1.0, 10.0)
    + d(0.0)
    + b"\x00\x01"
    + steps(0.9, 0.5),
    "bound_nonconvex": bytes([NONCONVEX])
    + d(2.0)
    + d(0.1)
    + d(1.0)
    + b"\x00"
    + steps(0.5, 0.25, 0.1),
    "bound_convex_condition": bytes([CONVEX])
    + d(2.0)
    + d(0.1)
    + d(1.0)
    + b"\x00"
    + steps(0.2, 0.3),
    "bound_strongly_convex": bytes([STRONGLY_CONVEX])
    + d(2.0)
    + d(0.5)
    + d(0.1)
    + d(1.0)
    + b"\x00"
    + steps(0.5, 0.25, 0.0),
    # 1 - mu eta rounds to 0: the bound lives in the compensation term
    "bound_strongly_convex_factor_rounds_to_zero": bytes([STRONGLY_CONVEX])
    + d(float.fromhex("0x1.0504500500026p+262"))
    + d(float.fromhex("0x1.0504500500026p+262"))
    + d(float.fromhex("0x0.fffffffffffffp-1022"))
    + d(float.fromhex("0x1.050505050505p+262"))
    + b"\x00"
    + steps(float.fromhex("0x1.f628bead19662p-263"), float.fromhex("0x1.37cb1ae2bb6eap-512")),
    "optimal_phi": bytes([OPTIMAL])
    + OPT_PHI
    + size(8)
    + lam(1.0, 30.0)
    + d(1e-3)
    + d(1.0)
    + d(1.0 / 30)
    + d(1.0)
    + d(1e3)
    + b"\x00\x00",
    "optimal_phi_constant": bytes([OPTIMAL])
    + OPT_PHI
    + size(4)
    + lam(1.0, 30.0)
    + d(0.0)
    + d(0.5)
    + d(0.5)
    + d(1e-6)
    + d(1e8)
    + b"\x00\x01",
    "optimal_phi_short_work": bytes([OPTIMAL])
    + OPT_PHI
    + size(4)
    + lam(1.0, 30.0)
    + d(0.0)
    + d(1.0)
    + d(0.1)
    + d(1.0)
    + d(10.0)
    + b"\x00\x02",
    "optimal_phi_sc": bytes([OPTIMAL])
    + OPT_SC
    + size(100)
    + d(1.0)
    + d(0.01)
    + d(1e-2)
    + d(1.0)
    + d(1.0)
    + d(1e-6)
    + d(1e8)
    + b"\x00",
    "expected_loss": bytes([OPTIMAL]) + EXPECTED_LOSS + spectrum(20) + b"\x00\x00" + halves(8),
    "expected_loss_bad_noise": bytes([OPTIMAL])
    + EXPECTED_LOSS
    + spectrum(20, noise=d(-1.0))
    + b"\x00\x00"
    + halves(8),
    "choose_phi": bytes([OPTIMAL])
    + CHOOSE_PHI
    + size(50)
    + spectrum(20)
    + d(1.0)
    + d(1.0)
    + d(0.0)
    + d(0.25)
    + d(4.0)
    + b"\x40\x00",
    "choose_phi_peak": bytes([OPTIMAL])
    + CHOOSE_PHI
    + size(30)
    + spectrum(40)
    + d(0.0)
    + d(INF)
    + d(0.0)
    + d(0.25)
    + d(4.0)
    + b"\x48\x00",
    # every curvature 0: no stability limit, so the default peak range is refused
    "choose_phi_flat_default_peak": bytes([OPTIMAL])
    + CHOOSE_PHI
    + size(30)
    + spectrum(4, flat=True)
    + d(0.0)
    + d(INF)
    + d(0.0)
    + d(0.25)
    + d(4.0)
    + b"\x48\x00",
    "choose_phi_bad_peak": bytes([OPTIMAL])
    + CHOOSE_PHI
    + size(30)
    + spectrum(4)
    + d(-1.0)
    + d(1.0)
    + d(0.0)
    + d(0.25)
    + d(4.0)
    + b"\x10\x00",
}
# The long calls again with a progress hook (a last byte, see take_hook):
# 1 never asks to stop, 3, 5 and 7 ask at the first, second, third poll.
HOOKED = {
    "eta_fill": 1,
    "shape_fill": 3,
    "chebyshev": 3,
    "residual": 7,
    "noisy": 5,
    "bound_nonconvex": 3,
    "bound_strongly_convex": 5,
    "optimal_phi": 3,
    "optimal_phi_sc": 5,
    "expected_loss": 3,
    "choose_phi": 5,
    "choose_phi_peak": 7,
}
SEEDS.update({f"{name}_hooked": SEEDS[name] + bytes([b]) for name, b in HOOKED.items()})


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {HERE}")


if __name__ == "__main__":
    main()
