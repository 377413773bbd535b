"""uba: the Unified Budget-Aware (UBA) learning-rate schedule.

A C core that evaluates the schedule of Tang et al. (NeurIPS 2025,
arXiv:2505.24452) exactly, a NumPy-friendly function to explore it, and
:class:`UBALR`, a PyTorch scheduler that replaces ``CosineAnnealingLR`` by
changing one name.

``import uba`` never imports torch or matplotlib: :class:`UBALR`,
:class:`UBAWarmRestarts` and :func:`get_uba_schedule_with_warmup` load torch
the first time they are touched.

Example:
    >>> import uba
    >>> uba.schedule(0, 100), uba.schedule(100, 100)
    (1.0, 0.0)
    >>> round(uba.schedule(50, 100, phi=2.0), 12)  # phi = 2 is cosine
    0.5
"""

import importlib
from typing import TYPE_CHECKING, Any

from uba import theory
from uba._schedule import schedule

__version__ = "0.1.0"

__all__ = [
    "UBALR",
    "UBAWarmRestarts",
    "__version__",
    "get_uba_schedule_with_warmup",
    "schedule",
    "theory",
]

if TYPE_CHECKING:
    from uba.hf import get_uba_schedule_with_warmup
    from uba.scheduler import UBALR
    from uba.warm_restarts import UBAWarmRestarts

# The torch schedulers import torch, so each is imported from its module only
# when it is first asked for: name -> module.
_LAZY = {
    "UBALR": "uba.scheduler",
    "UBAWarmRestarts": "uba.warm_restarts",
    "get_uba_schedule_with_warmup": "uba.hf",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'uba' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
