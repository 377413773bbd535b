"""Doctest collection: skip modules whose optional dependency is absent."""

import importlib.util

collect_ignore = ["setup.py"]
if importlib.util.find_spec("torch") is None:
    # (uba/probe.py: its example probes a torch model)
    collect_ignore += ["uba/scheduler.py", "uba/warm_restarts.py", "uba/hf.py", "uba/probe.py"]
if importlib.util.find_spec("matplotlib") is None or importlib.util.find_spec("ipywidgets") is None:
    # (explore's example builds the widget)
    collect_ignore.append("uba/plotting.py")
