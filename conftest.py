"""Doctest collection: skip modules whose optional dependency is absent.

And one BLAS (and OpenMP) thread per test process, set before anything
imports NumPy or torch: the suite's linear algebra is on small matrices, where
more threads only contend with each other and with pytest-xdist's other
workers (a 50 x 50 eigh took 50 ms instead of 0.5 on a busy 2-core machine).
"""

import importlib.util
import os

for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

collect_ignore = ["setup.py"]
if importlib.util.find_spec("torch") is None:
    # (uba/probe.py: its example probes a torch model)
    collect_ignore += ["uba/scheduler.py", "uba/warm_restarts.py", "uba/hf.py", "uba/probe.py"]
if importlib.util.find_spec("matplotlib") is None or importlib.util.find_spec("ipywidgets") is None:
    # (explore's example builds the widget)
    collect_ignore.append("uba/plotting.py")
