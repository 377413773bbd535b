"""Write csrc/tests/theory_references.h: the references of test_theory.c's
searches, computed once at 50 digits.

Run: python csrc/tests/make_references.py           (write the header)
     python csrc/tests/make_references.py --check   (exit 1 where it differs)
Needs uba built (the binding makes the inputs), numpy and mpmath; about a
minute.

test_theory.c checks the worst-case searches (worst_case.c) against the
maximum of the residual over an interval.  Found by search in long double,
that maximum cost minutes per run where long double is a software
binary128 (aarch64 under qemu), so it is computed here instead, once, for
the test's own inputs:

* The inputs are made exactly as test_theory.c makes them: Chebyshev steps
  and UBA schedules from the bit-portable kernel (through uba's binding,
  the same C code), perturbed and shuffled by the same xorshift64*
  generator in IEEE double arithmetic.  The header stores the FNV-1a hash
  of each input next to its reference, and the C test checks the hash
  before it compares, so a reference is never used for other inputs.
* log|p(x)|, p(x) = prod (1 - eta_t x), is concave between consecutive
  roots 1/eta_t (each term is), so its maximum on [a, b] is the largest of
  one maximum per bracket and the ends.  Each bracket's maximiser is found
  by bisection on the sign of the derivative, in double, with x written
  as a + d and 1 - eta_t a taken from 50 digits (so that steps a few ulp
  apart, as in a range of width 1e-9, keep their digits); the brackets
  within 1e-8 of the largest are then evaluated at 50 digits.
* The noisy error V(x) (sigma2 > 0) need not be unimodal between roots:
  each lobe is sampled at 7 points, the 24 best lobes at 15 and refined by
  golden section over the lobe and around their best sample, and every
  candidate within 1e-8 of the largest is evaluated at 50 digits.  This
  is a superset of the search test_theory.c did in long double (7 points
  a lobe, 5 lobes refined over the whole lobe).
* The dense grid of the noisy test is evaluated in double, and its best
  points (within 1e-8) at 50 digits.

Each stored value is the 50-digit result rounded once to double.
tests/theory/test_c_references.py checks that the header is this script's
output (and, cheaply, that the hashes are those of today's inputs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import mpmath as mp
import numpy as np

import uba
from uba import theory

mp.mp.dps = 50
HEADER = Path(__file__).resolve().parent / "theory_references.h"
MARGIN = 1e-8  # candidates within this of the best (double) get 50 digits
MASK = (1 << 64) - 1


# ---- the inputs, as test_theory.c makes them ---------------------------------------


class Uniform:
    """test_theory.c's xorshift64*, uniform in [0, 1)."""

    def __init__(self, state: int) -> None:
        self.state = state

    def __call__(self) -> float:
        s = self.state
        s ^= s >> 12
        s ^= (s << 25) & MASK
        s ^= s >> 27
        self.state = s
        return float((s * 2685821657736338717 & MASK) >> 11) * 2.0**-53


def fnv1a(*arrays: np.ndarray | float) -> int:
    """FNV-1a over the bits of the doubles, as check.h's check_fnv1a."""
    h = 0xCBF29CE484222325
    for values in arrays:
        for byte in np.asarray(values, "<f8").tobytes():
            h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def random_schedules() -> Iterator[tuple[float, float, np.ndarray]]:
    """worst_case_matches_a_bracketed_extended_precision_search: Chebyshev
    steps perturbed by up to +-20%, shuffled, some negative, zero or repeated."""
    uniform = Uniform(0x9E3779B97F4A7C15)
    for n in (1, 2, 3, 7, 33, 100, 257):
        for rep in range(3):
            a = 0.5 + uniform()
            kappa = 3 + 500 * uniform()
            b = a * kappa
            eta = theory.chebyshev_step_sizes(n, a, b)
            for t in range(n):
                eta[t] *= 0.8 + 0.4 * uniform()
            for t in range(n - 1, 0, -1):
                s = int(uniform() * float(t + 1))
                eta[t], eta[s] = eta[s], eta[t]
            if n > 5 and rep == 1:
                eta[0] = -eta[0]
                eta[1] = 0.0
                eta[2] = eta[3]
            yield a, b, eta


def near_degenerate_ranges() -> Iterator[tuple[float, float, np.ndarray]]:
    """worst_case_is_right_for_a_near_degenerate_range: kappa = 1 + 1e-9."""
    for a in (3.7, 1e-3, 1.0):
        b = a * (1.0 + 1e-9)
        yield a, b, theory.chebyshev_step_sizes(300, a, b)


BUDGET_1E5 = 100_000


def budget_1e5_points() -> Iterator[mp.mpf]:
    """worst_case_at_a_budget_of_1e5: the middle maxima of the Chebyshev
    residual, x_j = 5.5 + 4.5 cos(pi j / T)."""
    T = BUDGET_1E5
    for j in range(T // 2 - 2, T // 2 + 3):
        yield mp.mpf(5.5) + mp.mpf(4.5) * mp.cos(mp.pi * j / T)


NOISY_SIGMAS = (1e-8, 1e-4, 1e-2, 1.0)
DENSE_POINTS = 200_000


def noisy_dense_steps() -> np.ndarray:
    """noisy_worst_case_is_exact_without_noise_and_beats_dense_sampling."""
    eta = theory.chebyshev_step_sizes(40, 1.0, 50.0)
    uniform = Uniform(77)
    for t in range(eta.size):
        eta[t] *= 0.9 + 0.2 * uniform()
    return eta


NOISY_CASES = (  # kappa, phi / kappa, sigma2
    (100.0, 2.0, 1e-3),
    (1e6, 2.0, 1e-3),
    (100.0, 0.5, 1e-3),
    (1e4, 2.0, 1e-12),
    (40.0, 8.0, 1e-5),
)


def noisy_search_steps(kappa: float, phi_over_kappa: float) -> np.ndarray:
    """noisy_search_matches_an_exhaustive_one: UBA on [1/kappa, 1], n = 3000."""
    n = 3000
    t = np.arange(n, dtype=np.float64) + 0.5
    return np.asarray(uba.schedule(t, n, phi_over_kappa * kappa, 1.0, 1.0 / kappa))


# ---- 50 digits ---------------------------------------------------------------------


def mp_log_residual(eta: np.ndarray, x: mp.mpf) -> mp.mpf:
    p = mp.mpf(1)
    for e in eta.tolist():
        p *= 1 - mp.mpf(e) * x
    return mp.log(abs(p)) if p != 0 else mp.ninf


def mp_log_noisy(eta: np.ndarray, sigma2: float, x: mp.mpf) -> mp.mpf:
    v, s2 = mp.mpf(1), mp.mpf(sigma2)
    for e in eta.tolist():
        f = 1 - mp.mpf(e) * x
        v = f * f * v + s2 * mp.mpf(e) ** 2
    return mp.log(v)


# ---- the maximum of log|p| on [a, b] -------------------------------------------------


def worst_case(eta: np.ndarray, a: float, b: float) -> float:
    """max over [a, b] of log|prod (1 - eta_t x)|, at 50 digits."""
    A = mp.mpf(a)
    c = np.array([float(1 - mp.mpf(e) * A) for e in eta.tolist()])  # 1 - eta a
    roots = sorted(
        float(mp.mpf(1) / e - A) for e in eta.tolist() if e > 0 and a < mp.mpf(1) / e < b
    )
    cuts = np.array([0.0, *roots, float(mp.mpf(b) - A)])  # d = x - a
    lo, hi = cuts[:-1].copy(), cuts[1:].copy()
    lo, hi = lo[lo < hi], hi[lo < hi]

    def slope(d: np.ndarray) -> np.ndarray:  # d/dd sum log|c - eta d|
        return np.sum(-eta[None, :] / (c[None, :] - eta[None, :] * d[:, None]), axis=1)

    left, right = lo.copy(), hi.copy()
    for _ in range(200):  # log|p| is concave on each bracket: its slope falls
        mid = 0.5 * (left + right)
        rising = slope(mid) > 0
        left = np.where(rising, mid, left)
        right = np.where(rising, right, mid)
    candidates = np.concatenate([0.5 * (left + right), cuts[[0, -1]]])
    with np.errstate(divide="ignore"):
        screen = np.sum(np.log(np.abs(c[None, :] - eta[None, :] * candidates[:, None])), axis=1)
    best = screen.max()
    return float(
        max(mp_log_residual(eta, A + mp.mpf(d)) for d in candidates[screen >= best - MARGIN])
    )


# ---- the noisy error --------------------------------------------------------------------


def log_noisy(eta: np.ndarray, sigma2: float, x: np.ndarray) -> np.ndarray:
    """log V(x), V_0 = 1, V_t = (1 - eta_t x)^2 V_{t-1} + sigma2 eta_t^2, in
    double (relative error ~ n ulp), rescaled so that it never overflows."""
    v, scale, w = np.ones_like(x), np.zeros_like(x), np.ones_like(x)
    f, tmp = np.empty_like(x), np.empty_like(x)
    for t, e in enumerate(eta.tolist()):
        np.multiply(x, -e, out=f)
        f += 1.0
        f *= f
        v *= f
        np.multiply(w, sigma2 * e * e, out=tmp)
        v += tmp
        if t % 4 == 3:  # 4 steps move V by at most 1e48 here
            out = (v > 1e100) | (v < 1e-100)
            if out.any():
                scale[out] += np.log(v[out])
                w[out] = np.exp(-scale[out])
                v[out] = 1.0
    return np.log(v) + scale


def noisy_worst_case(eta: np.ndarray, a: float, b: float, sigma2: float) -> float:
    """max over [a, b] of log V at 50 digits.  Every lobe between consecutive
    roots is sampled at 7 points, the 24 best lobes at 15, and each of those
    is refined by golden section over the whole lobe and around its best
    sample."""
    roots = 1.0 / eta[eta > 0]
    cuts = np.unique(np.concatenate([[a], roots[(roots > a) & (roots < b)], [b]]))
    lo, width = cuts[:-1], np.diff(cuts)
    coarse = lo[:, None] + width[:, None] * (np.arange(1, 8) / 8.0)[None, :]
    coarse_values = log_noisy(eta, sigma2, coarse.ravel()).reshape(coarse.shape)
    top = np.argsort(coarse_values.max(axis=1))[::-1][:24]
    grid = lo[top, None] + width[top, None] * (np.arange(17) / 16.0)[None, :]  # ends included
    fine = grid[:, 1:-1]
    fine_values = log_noisy(eta, sigma2, fine.ravel()).reshape(fine.shape)
    k = fine_values.argmax(axis=1)  # grid point k + 1: refine between its neighbours
    rows = np.arange(top.size)
    left = np.concatenate([grid[:, 0], grid[rows, k]])
    right = np.concatenate([grid[:, -1], grid[rows, k + 2]])
    g = (3.0 - 5.0**0.5) / 2.0
    for _ in range(60):  # 0.618^60 = 3e-13 of the bracket
        x1, x2 = left + g * (right - left), right - g * (right - left)
        v = log_noisy(eta, sigma2, np.concatenate([x1, x2]))
        up = v[: x1.size] < v[x1.size :]
        left, right = np.where(up, x1, left), np.where(up, right, x2)
    refined = np.concatenate([0.5 * (left + right), [a, b]])
    candidates = np.concatenate([coarse.ravel(), fine.ravel(), refined])
    screen = np.concatenate(
        [coarse_values.ravel(), fine_values.ravel(), log_noisy(eta, sigma2, refined)]
    )
    chosen = candidates[screen >= screen.max() - MARGIN]
    return float(max(mp_log_noisy(eta, sigma2, mp.mpf(x)) for x in chosen))


def dense_noisy_maximum(eta: np.ndarray, sigma2: float) -> float:
    """The largest log V over the grid x_j = 1 + 49 j / 200000, j = 0..200000."""
    j = np.arange(DENSE_POINTS + 1)
    screen = log_noisy(eta, sigma2, 1.0 + 49.0 * j / DENSE_POINTS)
    chosen = j[screen >= screen.max() - MARGIN]
    return float(
        max(mp_log_noisy(eta, sigma2, 1 + mp.mpf(49) * int(i) / DENSE_POINTS) for i in chosen)
    )


# ---- the header ---------------------------------------------------------------------------


def rows(pairs: list[tuple[int, float]]) -> str:
    return "\n".join(f"    {{UINT64_C(0x{h:016X}), {v.hex()}}}," for h, v in pairs)


def table(name: str, comment: str, pairs: list[tuple[int, float]]) -> str:
    head = f"/* {comment} */\nstatic const reference {name}[{len(pairs)}]"
    return f"{head} = {{\n{rows(pairs)}\n}};\n"


def input_hashes() -> dict[str, list[int]]:
    """The hash of each case's inputs: cheap, and enough to tell whether the
    header was made for today's inputs."""
    budget = theory.chebyshev_step_sizes(BUDGET_1E5, 1.0, 10.0)
    dense = noisy_dense_steps()
    return {
        "REF_RANDOM_SCHEDULES": [fnv1a(a, b, eta) for a, b, eta in random_schedules()],
        "REF_NEAR_DEGENERATE": [fnv1a(a, b, eta) for a, b, eta in near_degenerate_ranges()],
        "REF_BUDGET_1E5": [fnv1a(budget)] * 5,
        "REF_NOISY_DENSE": [fnv1a(dense, s) for s in NOISY_SIGMAS],
        "REF_NOISY_SEARCH": [
            fnv1a(noisy_search_steps(kappa, r), s2) for kappa, r, s2 in NOISY_CASES
        ],
    }


def header() -> str:
    budget = theory.chebyshev_step_sizes(BUDGET_1E5, 1.0, 10.0)
    dense = noisy_dense_steps()
    noisy = [(noisy_search_steps(kappa, r), kappa, s2) for kappa, r, s2 in NOISY_CASES]
    values = {
        "REF_RANDOM_SCHEDULES": [worst_case(eta, a, b) for a, b, eta in random_schedules()],
        "REF_NEAR_DEGENERATE": [worst_case(eta, a, b) for a, b, eta in near_degenerate_ranges()],
        "REF_BUDGET_1E5": [float(mp_log_residual(budget, x)) for x in budget_1e5_points()],
        "REF_NOISY_DENSE": [dense_noisy_maximum(dense, s) for s in NOISY_SIGMAS],
        "REF_NOISY_SEARCH": [noisy_worst_case(eta, 1.0, k, s2) for eta, k, s2 in noisy],
    }
    comments = {
        "REF_RANDOM_SCHEDULES": "max of log|p| on [a, b], hash of (a, b, eta): 7 sizes x 3",
        "REF_NEAR_DEGENERATE": "max of log|p| on [a, a (1 + 1e-9)], hash of (a, b, eta)",
        "REF_BUDGET_1E5": "log|p| at 5.5 + 4.5 cos(pi j / T), j = T/2-2..T/2+2, hash of eta",
        "REF_NOISY_DENSE": "max of log V on the grid 1 + 49 j / 200000, hash of (eta, sigma2)",
        "REF_NOISY_SEARCH": "max of log V on [1, kappa], hash of (eta, sigma2)",
    }
    hashes = input_hashes()
    tables = "\n".join(
        table(name, comments[name], list(zip(hashes[name], values[name]))) for name in values
    )
    return f"""\
/* theory_references.h -- written by make_references.py (python
 * csrc/tests/make_references.py); do not edit.  The references of
 * test_theory.c's searches at 50 digits, each rounded once to double, with
 * the FNV-1a hash of the inputs it belongs to (make_references.py says how
 * they are made and found). */
#ifndef UBA_THEORY_REFERENCES_H
#define UBA_THEORY_REFERENCES_H

#include <stdint.h>

typedef struct reference {{
    uint64_t inputs;  /* fnv1a of the inputs, in check.h's order */
    double value;
}} reference;

{tables}
#endif /* UBA_THEORY_REFERENCES_H */
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    text = header()
    if args.check:
        same = HEADER.exists() and HEADER.read_text() == text
        print(f"{HEADER.name}: {'up to date' if same else 'differs from this output'}")
        return 0 if same else 1
    HEADER.write_text(text)
    print(f"wrote {HEADER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
