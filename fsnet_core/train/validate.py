"""J and F on a validation split during training: a quick look, not the official protocol.

Masks are compared at the training input size (``size x size``), the
appearance (fused) logits binarised at probability 0.5 as the authors do.
Per-frame scores are averaged per sequence, then over sequences (DAVIS's
J-mean and F-mean). ``fsnet_core.metrics`` supplies J and F; the official
evaluation at the original resolution belongs to the evaluation commands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..metrics.uvos import f_boundary, jaccard
from ..runtime import autocast_context
from .stages import stage_inputs


@dataclass(frozen=True)
class Validation:
    J: float
    F: float
    per_sequence: pd.DataFrame  # columns: sequence, J, F, frames


@torch.no_grad()
def validation_scores(
    model: nn.Module,
    batches: Iterable[Mapping[str, object]],
    stage: str,
    device: torch.device,
    autocast_dtype: torch.dtype | None = None,
    channels_last: bool = False,
) -> Validation:
    """J-mean and F-mean of ``model`` (put in eval mode, restored after) over ``batches``."""
    was_training = model.training
    model.eval()
    layout = torch.channels_last if channels_last else torch.contiguous_format
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    try:
        for batch in batches:
            a, m = (
                x.to(device, non_blocking=True).contiguous(memory_format=layout)
                for x in stage_inputs(stage, batch)  # type: ignore[arg-type]
            )
            with autocast_context(device, autocast_dtype):
                logits = model(a, m).appearance
            pred = (logits.float() > 0).cpu().numpy()[:, 0]
            gt = batch["mask"].numpy()[:, 0] > 0.5  # type: ignore[union-attr]
            for i, sequence in enumerate(batch["sequence"]):  # type: ignore[arg-type]
                scores[sequence].append((jaccard(pred[i], gt[i]), f_boundary(pred[i], gt[i])))
    finally:
        model.train(was_training)
    if not scores:
        raise ValueError("the validation split is empty")
    per_sequence = pd.DataFrame(
        [
            {
                "sequence": seq,
                "J": float(np.mean([j for j, _ in v])),
                "F": float(np.mean([f for _, f in v])),
                "frames": len(v),
            }
            for seq, v in sorted(scores.items())
        ]
    )
    return Validation(float(per_sequence.J.mean()), float(per_sequence.F.mean()), per_sequence)


__all__ = [
    "Validation",
    "validation_scores",
]
