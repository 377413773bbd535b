"""uba: the Unified Budget-Aware (UBA) learning-rate schedule.

A C core that evaluates the schedule of Tang et al. (NeurIPS 2025,
arXiv:2505.24452) exactly, a NumPy-friendly function to explore it, and
:class:`UBALR`, a PyTorch scheduler that replaces ``CosineAnnealingLR`` by
changing one name.

``import uba`` never imports torch or matplotlib: :class:`UBALR`,
:class:`UBAWarmRestarts` and :func:`get_uba_schedule_with_warmup` load torch
the first time they are touched; :mod:`uba.peers`, :mod:`uba.plotting` and :mod:`uba.probe` are
loaded on first use too (``uba.peers.cosine(...)`` works after a plain
``import uba``).

Example:
    >>> import uba
    >>> uba.schedule(0, 100), uba.schedule(100, 100)
    (1.0, 0.0)
    >>> round(uba.schedule(50, 100, phi=2.0), 12)  # phi = 2 is cosine
    0.5
"""

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from uba import theory
from uba._core import c_version as __version__
from uba._schedule import schedule

if TYPE_CHECKING:  # the lazy names below, for type checkers
    from uba import peers as peers
    from uba import plotting as plotting
    from uba import probe as probe
    from uba.hf import get_uba_schedule_with_warmup as get_uba_schedule_with_warmup
    from uba.scheduler import UBALR as UBALR
    from uba.warm_restarts import UBAWarmRestarts as UBAWarmRestarts

#: Public names loaded on first use: name -> (module, attribute of it, or
#: None for the module itself, the optional dependency it needs first, or
#: None).  The schedulers subclass torch's, so torch comes in with them;
#: uba.plotting brings matplotlib on its first plot.
_LAZY: dict[str, tuple[str, str | None, str | None]] = {
    "UBALR": ("uba.scheduler", "UBALR", "torch"),
    "UBAWarmRestarts": ("uba.warm_restarts", "UBAWarmRestarts", "torch"),
    "get_uba_schedule_with_warmup": ("uba.hf", "get_uba_schedule_with_warmup", "torch"),
    "peers": ("uba.peers", None, None),
    "plotting": ("uba.plotting", None, None),
    "probe": ("uba.probe", None, None),  # torch-free to import; suggest_phi imports torch
}

#: The optional dependencies: module -> (what it is called, how to install it).
_OPTIONAL = {"torch": ("PyTorch", "pip install torch")}

__all__ = ["__version__", "schedule", "theory", *_LAZY]


def _require(module: str, what: str) -> ModuleType:
    """The optional dependency ``module``, imported for ``what`` (a public
    name), or ImportError saying what ``what`` needs and how to install it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # it is there, but something it imports is not
            raise
        package, command = _OPTIONAL[module]
        raise ImportError(f"{what} needs {package}: {command}") from exc


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute, needs = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'uba' has no attribute {name!r}") from None
    if needs is not None:
        _require(needs, f"uba.{name}")
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
