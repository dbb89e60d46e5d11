"""Which trap caught the model? The share of each synthetic hazard region it calls target.

A single J number says *that* a model is wrong, not *why*. The synthetic set
labels every pixel (``Regions``): a model fooled by appearance paints the
static look-alikes, one fooled by motion paints the moving background object
and the rippling patch. :func:`region_hit_rates` counts, over a set of
samples, what fraction of each region's pixels the model predicts as target
(fused/appearance logit > 0); for the target itself that is its recall.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn

from ..data.samples import Sample
from ..data.synthetic import DISTRACTOR, MOVING_BACKGROUND, MOVING_OBJECT, REGION_NAMES, TARGET
from ..train.stages import stage_inputs

HAZARD_REGIONS = (TARGET, DISTRACTOR, MOVING_BACKGROUND, MOVING_OBJECT)


@torch.no_grad()
def region_hit_rates(
    model: nn.Module,
    samples: Sequence[Sample],
    labels: Sequence[int] = HAZARD_REGIONS,
    stage: str = "finetune",
    batch_size: int = 16,
) -> pd.DataFrame:
    """One row per region label present in ``samples``: ``label``, ``region``, ``pixels``
    and ``called_target`` (the share of those pixels predicted as target).

    ``stage`` says what the two streams see, as in training: ``finetune`` (frame,
    flow), ``rgb`` (the frame twice) or ``flow`` (the flow image twice).
    """
    if not samples:
        raise ValueError("no samples to score")
    if any(s.regions is None for s in samples):
        raise ValueError("region hit rates need samples with region labels (the synthetic set)")
    was_training = model.training
    model.eval()
    hits = dict.fromkeys(labels, 0)
    area = dict.fromkeys(labels, 0)
    try:
        for start in range(0, len(samples), batch_size):
            chunk = samples[start : start + batch_size]
            batch = {
                "image": torch.cat([s.image for s in chunk]),
                "flow": torch.cat([s.flow for s in chunk]),
            }
            predicted = (model(*stage_inputs(stage, batch)).appearance[:, 0] > 0).cpu().numpy()
            for sample, called in zip(chunk, predicted, strict=True):
                for label in labels:
                    inside = sample.regions == label
                    hits[label] += int((called & inside).sum())
                    area[label] += int(inside.sum())
    finally:
        model.train(was_training)
    return pd.DataFrame(
        [
            {
                "label": label,
                "region": REGION_NAMES[label],
                "pixels": area[label],
                "called_target": hits[label] / area[label],
            }
            for label in labels
            if area[label]
        ]
    )


__all__ = ["HAZARD_REGIONS", "region_hit_rates"]
