"""Training checkpoints that resume exactly: weights, optimizer, schedule, RNGs, data position.

A training checkpoint is an ordinary model checkpoint (``save_model``'s
format, so ``load_model`` and ``fsnet infer`` read it) with one more entry,
``"training"``, holding everything needed to continue: the optimizer's
momentum buffers, the scheduler, the gradient scaler, every random number
generator, the position in the data (epoch, next batch; the order itself is
a function of the seed and the epoch, see :class:`ResumableSampler`), the
loss sums of the epoch in progress, and the history so far. Everything is
stored as tensors and plain Python values, so ``torch.load(weights_only=True)``
reads it. Files are written atomically (temporary file, then rename).
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Sampler

from ..io import atomic_write
from ..model.official import CheckpointMismatch, read_state_dict
from ..model.serialization import save_model

LAST = "last.pt"
BEST = "best.pt"


@dataclass
class EpochTotals:
    """Running totals of the epoch in progress; a new total is one more field.

    Saved in ``last.pt`` as a plain dict (a resumed epoch goes on counting), and
    read back from one, the empty dict of a fresh epoch included.
    """

    loss_appearance: float = 0.0
    loss_motion: float = 0.0
    passes: float = 0.0  # forward/backward passes (one per scale and batch)
    samples: float = 0.0  # over all ranks
    seconds: float = 0.0

    def add(self, **amounts: float) -> None:
        """Add to the named totals (an unknown name raises ``AttributeError``)."""
        for name, amount in amounts.items():
            setattr(self, name, getattr(self, name) + amount)

    def per_pass(self, *names: str) -> float:
        """The sum of the named totals divided by the passes so far (at least one)."""
        return sum(getattr(self, name) for name in names) / max(self.passes, 1.0)


@dataclass
class Progress:
    """Where a stage stands. ``epoch``/``batch`` name the *next* batch to run."""

    stage: str
    epoch: int = 0
    batch: int = 0
    step: int = 0
    best_j: float = float("-inf")
    best_epoch: int = -1
    finished: bool = False
    epoch_sums: EpochTotals = field(default_factory=EpochTotals)
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.epoch_sums, dict):  # as read from a checkpoint
            self.epoch_sums = EpochTotals(**self.epoch_sums)


def rng_state() -> dict[str, Any]:
    """Every global RNG (Python, NumPy, torch CPU and CUDA) as weights-only-safe values."""
    # the legacy global NumPy RNG is what other code may draw from, so it is saved as is
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None,
    progress: Progress,
    config: dict[str, Any],
) -> Path:
    """Write model + full training state atomically; ``load_model(path)`` still works."""
    training = {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng": rng_state(),
        "progress": asdict(progress),
        "config": config,
    }
    return save_model(model, path, training=training)


def link_or_copy(source: str | Path, target: str | Path) -> Path:
    """Make ``target`` a snapshot of ``source`` atomically: a hard link when possible, else a copy.

    ``best.pt`` is the ``last.pt`` of its epoch; a hard link costs no disk write,
    and since ``last.pt`` is later *replaced* (rename), not rewritten, the link
    keeps the old contents.
    """
    target = Path(target)
    with atomic_write(target) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
    return target


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw checkpoint; raises :class:`CheckpointMismatch` when it has no training state."""
    payload = read_state_dict(path)
    if "training" not in payload:
        raise CheckpointMismatch(
            f"{path}: a model checkpoint without training state; it can start a run "
            "(init_weights) but not resume one"
        )
    return payload


def restore_checkpoint(
    payload: dict[str, Any],
    model: nn.Module,
    *,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None,
) -> Progress:
    """Put a :func:`read_checkpoint` payload back into the live objects; return the progress."""
    try:
        model.load_state_dict(payload["model"], strict=True)
    except RuntimeError as exc:
        raise CheckpointMismatch(f"cannot resume: the model does not match ({exc})") from exc
    training = payload["training"]
    optimizer.load_state_dict(training["optimizer"])
    scheduler.load_state_dict(training["scheduler"])
    if scaler is not None and training["scaler"] is not None:
        scaler.load_state_dict(training["scaler"])
    set_rng_state(training["rng"])
    return Progress(**training["progress"])


class ResumableSampler(Sampler[int]):
    """Shuffled indices fixed by (seed, epoch), sharded across ranks, startable mid-epoch.

    Like ``DistributedSampler`` (every rank gets ``ceil(n / world)`` indices,
    padded by wrapping), plus :meth:`start_at` so that a resumed run skips the
    batches already seen without loading them.
    """

    def __init__(
        self,
        length: int,
        *,
        seed: int,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if length < 1:
            raise ValueError("cannot sample from an empty dataset")
        self.length, self.seed, self.shuffle = length, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch, self.skip = 0, 0
        self.per_rank = -(-length // world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.skip = epoch, 0

    def start_at(self, samples: int) -> None:
        """Skip the first ``samples`` indices of this rank's share for the current epoch."""
        self.skip = samples

    def order(self) -> list[int]:
        """This rank's full index list for the current epoch."""
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            indices = torch.randperm(self.length, generator=g).tolist()
        else:
            indices = list(range(self.length))
        total = self.per_rank * self.world_size
        indices = (indices * -(-total // self.length))[:total]  # pad by wrapping
        return indices[self.rank : total : self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self.order()[self.skip :])

    def __len__(self) -> int:
        return self.per_rank - self.skip
