"""The helpers that tests run as child processes are not test modules: keep
--doctest-modules from importing them (they import torch or hypothesis at
the top, which may be absent where those tests skip).  Nor is the scheduler
tests' shared module, which imports torch: without torch the tests that use
it skip, and it is left alone."""

import importlib.util

collect_ignore = [
    "reliability/_crash_cases.py",
    "scheduler/_ddp_worker.py",
    "scheduler/_resume_train.py",
]
if importlib.util.find_spec("torch") is None:
    collect_ignore.append("scheduler/twins.py")
