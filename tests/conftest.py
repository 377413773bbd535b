"""Two tiers, and what --doctest-modules must not import.

`python -m pytest` runs the quick tier: every test not marked `slow`, the
hypothesis searches and the long UBALR runs at a tenth of their size
(helpers.scaled).  `python -m pytest --slow` runs the full tier: the slow
tests too (mpmath audits at large budgets, the integration runs, the leak
tests, mypy, DDP, resume after SIGKILL, torch.compile, the study's
end-to-end run), every search and run at its full size.

The helpers that tests run as child processes are not test modules: keep
--doctest-modules from importing them (they import torch or hypothesis at
the top, which may be absent where those tests skip).  Nor is the
scheduler tests' shared module, which imports torch: without torch the
tests that use it skip, and it is left alone."""

import importlib.util
from pathlib import Path

import pytest

from . import helpers

collect_ignore = [
    "reliability/_crash_cases.py",
    "scheduler/_ddp_worker.py",
    "scheduler/_resume_train.py",
]
if importlib.util.find_spec("torch") is None:
    collect_ignore.append("scheduler/twins.py")

# Folders and modules whose every test is the full tier's (each also carries
# the `slow` mark).  The quick tier does not import them: their frameworks
# (Lightning, transformers, Accelerate, Jupyter) take ~20 s to import.
FULL_TIER_ONLY = [
    Path(__file__).parent / name
    for name in ("integration", "reliability/test_leaks.py", "scheduler/test_distributed.py")
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="the full tier: also the tests marked slow, and every property test at its "
        "full number of examples",
    )


def pytest_configure(config: pytest.Config) -> None:
    helpers.FULL_TIER = bool(config.getoption("--slow"))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption("--slow") and collection_path in FULL_TIER_ONLY:
        return True
    return None  # pytest decides


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if helpers.FULL_TIER:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def pytest_report_header(config: pytest.Config) -> str:
    if helpers.FULL_TIER:
        return "tier: full (--slow)"
    return "tier: quick (the tests marked slow are deselected; --slow runs them too)"
