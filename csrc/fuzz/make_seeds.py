"""Writes the seed corpus of fuzz_uba.c: one small, meaningful input per
entry point and edge (valid calls, each kind of bad argument, warmups,
huge budgets, extreme phi).  Run from csrc/: python3 fuzz/make_seeds.py.
The files are committed; libFuzzer mutates them into everything else."""

import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Entry points (first byte, modulo 7), as in LLVMFuzzerTestOneInput.
STRERROR, SHAPE, SHAPE_FILL, PARAMS_ETA, ETA_FILL, MONOTONE, STEP = range(7)


def d(x: float) -> bytes:
    """A double as take_double's raw-bits mode: mode 0, 8 bytes big-endian."""
    return b"\x00" + struct.pack(">d", x)


def edge(k: int) -> bytes:
    """Entry k of edge_value's table (mode 2)."""
    return bytes([2, k])


def small(n: int) -> bytes:
    """A small integer, 0..255 (mode 4)."""
    return bytes([4, n])


NAN, INF = float("nan"), float("inf")
SEEDS = {
    "strerror": bytes([STRERROR, 0, 0, 0, 3]),
    "strerror_negative": bytes([STRERROR, 0xFF, 0xFF, 0xFF, 0xFE]),
    "shape_mid": bytes([SHAPE]) + d(500.0) + d(1000.0) + d(1.0) + b"\x01",
    "shape_end_huge_T": bytes([SHAPE]) + edge(18) + edge(18) + d(1e-6) + b"\x01",
    "shape_tiny_phi": bytes([SHAPE]) + d(10.0) + d(10.0) + edge(30) + b"\x01",
    "shape_nan_t": bytes([SHAPE]) + d(NAN) + d(10.0) + d(2.0) + b"\x01",
    "shape_null_out": bytes([SHAPE]) + d(1.0) + d(10.0) + d(2.0) + b"\x00",
    "shape_fill": bytes([SHAPE_FILL]) + d(100.0) + d(0.5) + b"\x00\x04"
    + d(0.0) + d(50.0) + d(99.0) + d(100.0),
    "shape_fill_alias_bad": bytes([SHAPE_FILL]) + d(100.0) + d(0.5) + b"\x01\x03"
    + d(0.0) + d(-1.0) + d(INF),
    "params_eta": bytes([PARAMS_ETA]) + d(1000.0) + d(0.7) + d(0.1) + d(1e-4)
    + d(0.0) + d(0.0) + b"\x01\x01" + d(0.0) + b"\x00" + d(999.0) + b"\x00"
    + d(1000.0) + b"\x00" + d(3000.0) + b"\x00",
    "params_eta_warmup": bytes([PARAMS_ETA]) + d(110.0) + d(3.0) + d(2.0) + d(0.5)
    + d(10.0) + d(0.25) + b"\x01\x01" + d(0.0) + b"\x02" + d(0.0) + b"\x82"
    + d(0.0) + b"\x01" + d(9.5) + b"\x00",
    "params_equal_ends": bytes([PARAMS_ETA]) + d(1000.0) + d(0.7) + d(0.3) + d(0.3)
    + d(0.0) + d(0.0) + b"\x01\x01" + d(123.0) + b"\x00" + d(777.0) + b"\x00"
    + d(1.0) + b"\x00" + d(2.0) + b"\x00",
    "params_bad_warmup": bytes([PARAMS_ETA]) + d(10.0) + d(1.0) + d(1.0) + d(0.0)
    + d(10.0) + d(0.0) + b"\x01\x01",
    "eta_fill": bytes([ETA_FILL]) + d(64.0) + d(2.0) + d(1.0) + d(0.0) + d(8.0)
    + d(0.0) + b"\x01\x00\x05" + b"\x00\x20\x40\x80\xfe",
    "monotone_mid_huge": bytes([MONOTONE]) + edge(23) + edge(14) + d(1.0) + d(0.5)
    + d(0.0) + d(0.0) + b"\x01" + b"\x00" * 8 + b"\x41\x01",
    "monotone_warmup": bytes([MONOTONE]) + d(1000.0) + d(1.0) + d(1.0) + d(0.0)
    + d(100.0) + d(0.0) + b"\x01" + b"\x00" * 8 + b"\x42\x01",
    "step_first": bytes([STEP]) + d(100.0) + d(1.0) + d(0.0) + d(0.0) + b"\x01"
    + d(0.0) + d(0.0) + b"\x01\x00\x02" + d(0.1) + d(0.0) + b"\x10"
    + d(0.5) + d(1e-3) + b"\x10",
    "step_untouched": bytes([STEP]) + d(100.0) + d(1.0) + d(10.0) + d(0.1) + b"\x01"
    + d(0.0) + d(20.0) + b"\x00\x00\x01" + d(0.1) + d(0.0) + b"\x14" + d(0.05),
    "step_touched_trough": bytes([STEP]) + d(10.0) + d(2.0) + d(0.0) + d(0.0) + b"\x01"
    + d(0.0) + d(11.0) + b"\x00\x00\x01" + d(0.1) + d(0.0) + b"\x18" + d(0.0)
    + d(0.0),
    "step_bad_lr": bytes([STEP]) + d(10.0) + d(2.0) + d(0.0) + d(0.0) + b"\x01"
    + d(0.0) + d(3.0) + b"\x00\x00\x01" + d(0.1) + d(0.0) + b"\x11" + d(INF),
}


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {HERE}")


if __name__ == "__main__":
    main()
