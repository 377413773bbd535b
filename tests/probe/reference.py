"""Independent references for the probe's tests: NumPy only."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def expected_loss(
    lrs: npt.ArrayLike,
    lams: np.ndarray,
    weights: np.ndarray,
    start: np.ndarray,
    noise: np.ndarray,
) -> float:
    """The expected final loss of SGD on a diagonal quadratic, by its
    recursion: E x_{t+1}^2 = (1 - eta_t lam)^2 E x_t^2 + eta_t^2 noise, and
    the loss 0.5 * sum_k w_k lam_k E x_T^2."""
    second = np.asarray(start, dtype=np.float64).copy()
    for eta in np.asarray(lrs, dtype=np.float64):
        second = (1 - eta * lams) ** 2 * second + eta**2 * noise
    return 0.5 * float(np.sum(weights * lams * second))


def lanczos(diagonal: np.ndarray, q: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Lanczos on diag(diagonal) from q, with full reorthogonalisation (the
    textbook process): alpha (steps numbers) and beta (steps numbers, the last
    the norm of the residual after the last step)."""
    basis = [q / np.linalg.norm(q)]
    alpha, beta = [], []
    for _ in range(steps):
        w = diagonal * basis[-1]
        alpha.append(w @ basis[-1])
        for v in basis:
            w = w - (w @ v) * v
        beta.append(np.linalg.norm(w))
        basis.append(w / beta[-1])
    return np.array(alpha), np.array(beta)
