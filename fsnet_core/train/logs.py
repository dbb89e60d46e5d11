"""What a run writes for people to read: ``history.csv`` per epoch and TensorBoard events.

The CSV is rewritten whole (atomically) at the end of every epoch from the
history kept in the checkpoint, so after a resume it holds exactly the rows of
an uninterrupted run. TensorBoard gets per-step losses and the epoch rows
(``tensorboard --logdir RUN_DIR``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..extras import available, missing_message
from ..io import atomic_write

HISTORY_CSV = "history.csv"
HISTORY_COLUMNS = (
    "stage",
    "epoch",
    "lr",
    "loss",
    "loss_appearance",
    "loss_motion",
    "val_J",
    "val_F",
    "samples_per_s",
    "epoch_s",
    "elapsed_s",
)


def history_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The history rows as a DataFrame with the standard columns first."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    first = [c for c in HISTORY_COLUMNS if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def write_history(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    with atomic_write(path) as tmp:
        history_frame(rows).to_csv(tmp, index=False, float_format="%.6g")
    return Path(path)


@functools.cache
def _say_once(message: str) -> None:
    warnings.warn(message, stacklevel=3)


class RunLogger:
    """TensorBoard writer for one stage folder; silent (no files) when ``enabled`` is False.

    TensorBoard is an extra: without it the logger says once how to add it and
    writes nothing (``history.csv`` holds the same numbers per epoch).
    """

    def __init__(self, folder: str | Path, enabled: bool = True) -> None:
        self.folder = Path(folder)
        self.writer = None
        if enabled and not available("tensorboard"):
            _say_once(
                missing_message("tensorboard", "TensorBoard curves") + " (history.csv is kept)"
            )
        elif enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.folder / "tensorboard"))

    def step(self, step: int, values: Mapping[str, float]) -> None:
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(f"train/{name}", value, step)

    def epoch(self, row: Mapping[str, Any]) -> None:
        if self.writer is None:
            return
        epoch = int(row["epoch"])
        for name, value in row.items():
            if name not in ("stage", "epoch") and isinstance(value, (int, float)):
                self.writer.add_scalar(f"epoch/{name}", value, epoch)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
