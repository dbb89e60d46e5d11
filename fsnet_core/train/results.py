"""What :func:`~fsnet_core.train.trainer.train` returns: per-stage results and the final model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..model import FSNet
from .config import TrainConfig
from .logs import HISTORY_CSV, history_frame


@dataclass
class StageResult:
    stage: str
    folder: Path
    history: pd.DataFrame
    last_checkpoint: Path
    best_checkpoint: Path | None
    best_j: float  # -inf until the stage has validated once
    steps: int
    finished: bool  # False when stopped early by ``max_steps``

    @property
    def history_csv(self) -> Path:
        return self.folder / HISTORY_CSV

    @property
    def validated(self) -> bool:
        """Whether an epoch ended (and was validated) yet; ``best_j`` means nothing before."""
        return self.best_j != float("-inf")


@dataclass
class TrainResult:
    """What :func:`train` returns: per-stage results and the final model (in eval mode)."""

    out: Path
    config: TrainConfig
    stages: dict[str, StageResult] = field(default_factory=dict)
    model: FSNet | None = None

    @property
    def final(self) -> StageResult:
        return list(self.stages.values())[-1]

    @property
    def history(self) -> pd.DataFrame:
        frames = [r.history for r in self.stages.values() if not r.history.empty]
        return pd.concat(frames, ignore_index=True) if frames else history_frame([])

    @property
    def history_csv(self) -> Path:
        return self.final.history_csv

    @property
    def best_checkpoint(self) -> Path | None:
        return self.final.best_checkpoint

    @property
    def last_checkpoint(self) -> Path:
        return self.final.last_checkpoint

    @property
    def best_j(self) -> float:
        return self.final.best_j


__all__ = ["StageResult", "TrainResult"]
