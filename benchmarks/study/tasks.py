"""The tasks trained with torch, and their data (all shipped with Python or
scikit-learn; nothing is downloaded).

  digits   a small CNN on scikit-learn's digits (8x8 images), SGD with momentum 0.9;
           fixed train/validation/test split (1097/300/400); metric: cross-entropy.
  chars    a byte-level transformer language model (2 layers, width 48, context
           32) on standard-library source files, AdamW; training, validation and
           test text are different files; metric: bits per byte.

torch and scikit-learn are imported when a task first needs them.
"""

from __future__ import annotations

import functools
import math
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .schedules import GivenPhi, build_scheduler


class Torch:
    """A task trained with torch: the model, its batches, its loss and
    evaluation, and what the probe needs to know about its optimizer."""

    batch = 32
    probe_options: ClassVar[dict[str, Any]] = {}
    #: The validation metric is measured on data: tune with every tuning seed.
    exact_validation = False
    #: CPU time per step, relative to the digits CNN (orders the runs).
    relative_cost = 1
    #: UBA rows whose phi this task computes (none: the probe's is the protocol's).
    phi_rows: ClassVar[dict[str, Callable[[int, float], GivenPhi]]] = {}

    def model(self, seed: int):
        raise NotImplementedError

    def optimizer(self, params, lr: float):
        raise NotImplementedError

    def batches(self, gen) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError

    def loss(self, out, y):
        raise NotImplementedError

    def evaluate(self, model, split: str, quick: bool) -> float:
        raise NotImplementedError

    clip = None  # gradient-norm clip

    def train(
        self,
        schedule: str,
        T: int,
        seed: int,
        lr: float,
        phi: float | None,
        warmup: int,
        test: bool,
        quick: bool,
    ) -> tuple[float, float]:
        """(validation, test) metrics after T steps (test: nan unless asked)."""
        import torch

        model = self.model(seed)
        opt = self.optimizer(model.parameters(), lr)
        sched = build_scheduler(schedule, opt, T, warmup, phi)
        batches = self.batches(torch.Generator().manual_seed(seed))
        for _ in range(T):
            x, y = next(batches)
            loss = self.loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.clip)
            opt.step()
            sched.step()
        with torch.no_grad():
            val = self.evaluate(model, "val", quick)
            tested = self.evaluate(model, "test", quick) if test else math.nan
        return (
            val if math.isfinite(val) else math.inf,
            tested if math.isfinite(tested) or not test else math.inf,
        )

    def probe(self, seed: int, T: int, lr: float, **options):
        """uba.probe on the run's initial model and its own training batches
        (another stream than the run's, so that the run's batches stay paired
        with the other schedules')."""
        import torch

        from uba.probe import suggest_phi

        return suggest_phi(
            self.model(seed),
            self.loss,
            self.batches(torch.Generator().manual_seed(10_000 + seed)),
            T,
            lr=lr,
            seed=seed,
            **self.probe_options,
            **options,
        )


@functools.lru_cache(maxsize=1)
def _digits_data():
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(12345).permutation(len(y))  # the fixed split
    parts = {"test": order[:400], "val": order[400:700], "train": order[700:]}
    return {k: (torch.from_numpy(x[i]), torch.from_numpy(y[i])) for k, i in parts.items()}


class Digits(Torch):
    probe_options: ClassVar[dict[str, Any]] = {"momentum": 0.9}

    def model(self, seed: int):
        import torch
        from torch import nn

        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 16, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def optimizer(self, params, lr: float):
        import torch

        return torch.optim.SGD(params, lr=lr, momentum=0.9)

    def batches(self, gen):
        import torch

        x, y = _digits_data()["train"]
        while True:
            idx = torch.randint(0, len(y), (self.batch,), generator=gen)
            yield x[idx], y[idx]

    def loss(self, out, y):
        import torch

        return torch.nn.functional.cross_entropy(out, y)

    def evaluate(self, model, split: str, quick: bool) -> float:
        x, y = _digits_data()[split]
        return self.loss(model(x), y).item()


# Standard-library files: training, validation and test text.
CHARS_FILES = {
    "train": (
        "argparse.py",
        "collections/__init__.py",
        "dataclasses.py",
        "difflib.py",
        "enum.py",
        "functools.py",
        "inspect.py",
        "json/decoder.py",
        "json/encoder.py",
        "pprint.py",
        "shutil.py",
        "string.py",
        "textwrap.py",
        "typing.py",
        "tokenize.py",
    ),
    "val": ("heapq.py", "bisect.py", "fractions.py"),
    "test": ("statistics.py", "calendar.py", "random.py"),
}
CONTEXT = 32


@functools.lru_cache(maxsize=1)
def _chars_data():
    import torch

    root = Path(sysconfig.get_paths()["stdlib"])
    out = {}
    for split, names in CHARS_FILES.items():
        missing = [n for n in names if not (root / n).is_file()]
        if missing:
            raise FileNotFoundError(f"standard-library files not found under {root}: {missing}")
        text = b"\n".join((root / n).read_bytes() for n in names)
        out[split] = torch.from_numpy(np.frombuffer(text, dtype=np.uint8).astype(np.int64))
    return out


class Chars(Torch):
    batch = 16
    relative_cost = 8
    clip = 1.0
    probe_options: ClassVar[dict[str, Any]] = {"optimizer": "adam"}

    def model(self, seed: int):
        import torch
        from torch import nn

        torch.manual_seed(seed)

        class CharLM(nn.Module):
            def __init__(self, d: int = 48, layers: int = 2, heads: int = 4) -> None:
                super().__init__()
                self.embed = nn.Embedding(256, d)
                self.pos = nn.Parameter(torch.zeros(CONTEXT, d))
                layer = nn.TransformerEncoderLayer(
                    d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True
                )
                self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
                self.norm = nn.LayerNorm(d)
                self.head = nn.Linear(d, 256)
                self.register_buffer(
                    "mask", nn.Transformer.generate_square_subsequent_mask(CONTEXT)
                )

            def forward(self, x):
                h = self.embed(x) + self.pos[: x.shape[1]]
                h = self.blocks(h, mask=self.mask, is_causal=True)
                return self.head(self.norm(h))

        return CharLM()

    def optimizer(self, params, lr: float):
        import torch

        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

    @staticmethod
    def _windows(data, n: int, gen):
        import torch

        starts = torch.randint(0, len(data) - CONTEXT - 1, (n,), generator=gen)
        x = torch.stack([data[s : s + CONTEXT] for s in starts])
        y = torch.stack([data[s + 1 : s + CONTEXT + 1] for s in starts])
        return x, y

    def batches(self, gen):
        train = _chars_data()["train"]
        while True:
            yield self._windows(train, self.batch, gen)

    def loss(self, out, y):
        import torch

        return torch.nn.functional.cross_entropy(out.reshape(-1, 256), y.reshape(-1))

    def evaluate(self, model, split: str, quick: bool) -> float:
        import torch

        gen = torch.Generator().manual_seed(999)  # the same windows for every run
        data = _chars_data()[split]
        losses = [
            self.loss(model(x), y).item()
            for x, y in (self._windows(data, 64, gen) for _ in range(1 if quick else 8))
        ]
        return float(np.mean(losses)) / math.log(2)
