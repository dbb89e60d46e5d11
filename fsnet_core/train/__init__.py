"""Training FSNet: the authors' three stages, presets, exact resume, DDP.

``from fsnet_core.train import TrainConfig, train``;
``train(TrainConfig.preset("smoke", out="runs/smoke"))`` returns a
:class:`~fsnet_core.train.results.TrainResult` (history DataFrame, checkpoint
paths, the trained model). Modules: ``config`` (the run's options, the model's
:class:`~fsnet_core.model.config.FSNetConfig` inside), ``setup`` (checks before
anything is written, seeding, starting weights), ``trainer`` (the loop),
``losses``, ``results``, ``checkpoint``, ``data``, ``stages``, ``validate``,
``logs``, ``distributed``, ``ablations``. The loop is imported on first use,
so that the ``fsnet`` command stays quick to start.
"""

from __future__ import annotations

from typing import Any

from .config import PRESETS, STAGES, TrainConfig

_LAZY = {
    "train": "trainer",
    "TrainingDiverged": "trainer",
    "TrainResult": "results",
    "StageResult": "results",
    "seed_everything": "setup",
    "merge_stage_weights": "stages",
    "merge_stage_checkpoints": "stages",
    "validation_scores": "validate",
}

__all__ = ["PRESETS", "STAGES", "TrainConfig", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
