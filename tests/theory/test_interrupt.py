"""Ctrl-C during the long theory calls: KeyboardInterrupt within 0.2 s of
the signal, nothing leaked, the library usable afterwards; and the same in
the command line, which exits with one line on stderr and status 130.

Each call is sized to run for a second or more, and the signal is sent from
a timer thread a little after it started (a signal is always handled by the
main thread, which is the one inside the C call).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

import uba
from uba import theory

from ..helpers import child_env, ctrl_c_raises, sigint_at_default

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill"),
    # the calls are sized to run long, not to give interior answers
    pytest.mark.filterwarnings("ignore::uba.theory.BoundaryWarning"),
    pytest.mark.filterwarnings("ignore::uba.theory.StabilityWarning"),
]

#: The latency the issue asks for, between the signal and the exception.
LATENCY = 0.2


def interrupt(call: Callable[[], object], delay: float = 0.15) -> float:
    """Runs call, sends SIGINT to this (the main) thread after `delay`
    seconds, and returns the seconds from the signal to KeyboardInterrupt."""
    assert threading.current_thread() is threading.main_thread()
    target = threading.get_ident()
    sent: list[float] = []

    def fire() -> None:
        sent.append(time.perf_counter())
        signal.pthread_kill(target, signal.SIGINT)

    timer = threading.Timer(delay, fire)
    timer.start()
    try:
        with ctrl_c_raises():
            call()
    except KeyboardInterrupt:
        caught = time.perf_counter()
    else:
        timer.cancel()
        timer.join()
        pytest.fail("the call returned before it was interrupted")
    timer.join()
    return caught - sent[0]


def chebyshev(T: int, kappa: float) -> np.ndarray:
    return theory.chebyshev_step_sizes(T, 1.0, kappa)


LONG_CALLS = {
    # about 10 s: a million equioscillating brackets
    "worst_case_residual": lambda: theory.worst_case_residual(chebyshev(10**6, 10.0), 1.0, 10.0),
    # about 1 s: three million steps
    "worst_case_noisy_error": lambda: theory.worst_case_noisy_error(
        chebyshev(3 * 10**6, 100.0), 1.0, 100.0, sigma2=1e-3
    ),
    # a few seconds each
    "optimal_phi without noise": lambda: theory.optimal_phi(
        10**4, 1.0, 100.0, eta_max=1.0, eta_min=0.01
    ),
    "optimal_phi with noise": lambda: theory.optimal_phi(
        3 * 10**5, 1.0, 1e4, sigma2=1e-6, eta_max=1.0, eta_min=1e-4
    ),
    # about a second: four million steps over 1024 curvatures
    "expected_loss": lambda: theory.expected_loss(
        np.full(4 * 10**6, 0.5), np.arange(1, 1025) ** -1.0, noise=1e-3
    ),
    # a few seconds: the peak and phi at T = 1e5 over 256 curvatures
    "choose_phi": lambda: theory.choose_phi(10**5, np.arange(1, 257) ** -1.5, noise=1e-3),
    "optimal_phi_strongly_convex": lambda: theory.optimal_phi_strongly_convex(
        2 * 10**7, mu=0.01, L=1.0, sigma2=0.01, f_gap=1.0
    ),
}


@pytest.mark.parametrize("name", list(LONG_CALLS))
def test_sigint_during_a_long_call_raises_keyboard_interrupt_promptly(name: str) -> None:
    call = LONG_CALLS[name]
    latency = interrupt(call)
    assert latency < LATENCY, f"{name}: KeyboardInterrupt {latency:.3f} s after SIGINT"
    # and the library still works
    assert theory.worst_case_residual([0.5], 1.0, 3.0) == pytest.approx(0.5, rel=1e-15)


def test_an_interrupted_call_leaks_nothing() -> None:
    lrs = chebyshev(3 * 10**6, 100.0)
    before_refs = sys.getrefcount(lrs)

    def call() -> None:
        theory.worst_case_noisy_error(lrs, 1.0, 100.0, sigma2=1e-3)

    interrupt(call)  # warm up: first-use allocations are not leaks
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(3):
            interrupt(call)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 64 * 1024  # the workspace is 100 MB: none of it stays
    assert sys.getrefcount(lrs) == before_refs


def test_a_progress_callback_sees_the_fraction_grow_and_can_stop_the_call() -> None:
    seen: list[float] = []

    class Stop(Exception):
        pass

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if len(seen) == 20:
            raise Stop

    with pytest.raises(Stop):
        theory.optimal_phi(10**5, 1.0, 1e4, sigma2=1e-6, progress=progress)
    assert len(seen) == 20
    assert all(0.0 <= f < 1.0 for f in seen) and seen == sorted(seen)
    # a callback that never stops sees the whole computation, same answer
    seen.clear()
    phi = theory.optimal_phi(2_000, 1.0, 1e4, sigma2=1e-6, progress=seen.append)
    assert phi == theory.optimal_phi(2_000, 1.0, 1e4, sigma2=1e-6)
    assert seen and seen == sorted(seen)


def test_choose_phi_reports_progress_and_stops_when_its_callback_raises() -> None:
    seen: list[float] = []

    class Stop(Exception):
        pass

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if len(seen) == 5:
            raise Stop

    spectrum = np.arange(1, 257) ** -1.5
    with pytest.raises(Stop):
        theory.choose_phi(10**5, spectrum, noise=1e-3, eta_max=1.0, progress=progress)
    assert len(seen) == 5 and seen == sorted(seen) and all(0 <= f < 1 for f in seen)
    seen.clear()
    whole = theory.choose_phi(2_000, spectrum, noise=1e-3, eta_max=1.0, progress=seen.append)
    assert whole == theory.choose_phi(2_000, spectrum, noise=1e-3, eta_max=1.0)
    assert seen and seen == sorted(seen)


def test_ctrl_c_stops_the_command_line_with_one_line_and_status_130() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uba",
            "phi",
            "--spectrum",
            "1",
            "10000",
            "-T",
            "1000000",
            "--sigma2",
            "1e-6",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        preexec_fn=sigint_at_default,
    )
    try:
        time.sleep(2.0)  # well into the search (it runs for many seconds)
        assert proc.poll() is None, "the command finished before it was interrupted"
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.perf_counter() - sent
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130
    lines = err.decode().splitlines()
    assert lines == ["interrupted"], err.decode()
    assert out == b""
    # the signal reaches Python within LATENCY; then the interpreter exits
    assert took < LATENCY + 0.3, f"the command exited {took:.3f} s after SIGINT"


def test_schedule_on_a_long_array_is_interruptible() -> None:
    """uba.schedule fills long arrays in chunks and checks for signals
    between them (about 0.05 s of work for 2e7 steps here: the signal comes
    after 20 ms)."""
    t = np.arange(2 * 10**7, dtype=np.float64)

    def call() -> None:
        for _ in range(100):
            uba.schedule(t, 2 * 10**7, 2.0)

    assert interrupt(call, delay=0.02) < LATENCY
