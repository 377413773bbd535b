"""The helpers that tests run as child processes are not test modules: keep
--doctest-modules from importing them (they import torch or hypothesis at
the top, which may be absent where those tests skip)."""

collect_ignore = [
    "reliability/_crash_cases.py",
    "scheduler/_ddp_worker.py",
    "scheduler/_resume_train.py",
]
