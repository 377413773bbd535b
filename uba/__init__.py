"""uba: the Unified Budget-Aware (UBA) learning-rate schedule.

A C core that evaluates the schedule of Tang et al. (NeurIPS 2025,
arXiv:2505.24452) exactly, a NumPy-friendly function to explore it, and
:class:`UBALR`, a PyTorch scheduler that replaces ``CosineAnnealingLR`` by
changing one name.

``import uba`` never imports torch or matplotlib: :class:`UBALR` loads torch
the first time it is touched.

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

__all__ = ["UBALR", "__version__", "schedule", "theory"]

if TYPE_CHECKING:
    from uba import probe
    from uba.scheduler import UBALR


def __getattr__(name: str) -> Any:
    # UBALR subclasses torch's LRScheduler, so torch is imported only here,
    # when the class is first asked for.
    if name == "UBALR":
        from uba.scheduler import UBALR

        return UBALR
    if name == "probe":  # torch-free to import; torch comes with suggest_phi's first call
        return importlib.import_module("uba.probe")
    raise AttributeError(f"module 'uba' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"UBALR", "probe"})
