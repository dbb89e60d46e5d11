"""The authors' three training stages: what each stream sees, and how stage 3 starts.

* Stage 1 (``rgb``): the frame is fed to *both* streams, on static saliency
  images plus video frames; the whole network learns appearance.
* Stage 2 (``flow``): the colour-coded flow image is fed to both streams.
* Stage 3 (``finetune``): (frame, flow) pairs. The network starts from stage
  1's weights everywhere, then its motion stream (``motion.*`` here,
  ``resnet.*_flow`` in the authors' files) is overwritten by stage 2's motion
  stream, *except* the batch-norm running statistics, which stay those of
  stage 1 -- exactly what the authors' ``update_predict`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..model.official import CheckpointMismatch
from ..model.serialization import load_model

MOTION_STREAM_PREFIX = "motion."
RUNNING_STATS = ("running_mean", "running_var")


def stage_inputs(
    stage: str, batch: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The (appearance input, motion input) pair a stage feeds the network from a batch."""
    wanted = {"rgb": ("image", "image"), "flow": ("flow", "flow"), "finetune": ("image", "flow")}
    if stage not in wanted:
        raise ValueError(f"unknown stage {stage!r}")
    missing = sorted({key for key in wanted[stage] if batch.get(key) is None})
    if missing:
        raise ValueError(f"stage {stage!r} needs {missing} in every batch, but they are missing")
    first, second = wanted[stage]
    return batch[first], batch[second]


def dataset_inputs(stage: str) -> str:
    """What the dataset must load for a stage (``VideoSegmentationDataset(inputs=...)``)."""
    return {"rgb": "image", "flow": "flow", "finetune": "both"}[stage]


def is_running_stat(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in RUNNING_STATS


def stage_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict (this package's key names) of a stage checkpoint, ours or the authors'."""
    return load_model(path).state_dict()


def merge_stage_weights(
    model: nn.Module,
    rgb_state: Mapping[str, torch.Tensor],
    flow_state: Mapping[str, torch.Tensor],
) -> list[str]:
    """Load stage 1 weights into ``model``, then stage 2's motion stream without its BN stats.

    Returns the keys taken from ``flow_state``. Raises
    :class:`~fsnet_core.model.official.CheckpointMismatch` when the two states
    do not fit the model (another backbone, width or BPM count).
    """
    own = model.state_dict()
    for name, state in (("stage 1 (rgb)", rgb_state), ("stage 2 (flow)", flow_state)):
        missing = [k for k in own if k not in state]
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        if missing or wrong:
            raise CheckpointMismatch(
                f"{name} weights do not fit this model: {len(missing)} missing keys "
                f"{missing[:3]}, {len(wrong)} shape mismatches {wrong[:3]}"
            )
    merged = {k: rgb_state[k] for k in own}
    from_flow = [k for k in own if k.startswith(MOTION_STREAM_PREFIX) and not is_running_stat(k)]
    merged.update({k: flow_state[k] for k in from_flow})
    model.load_state_dict(merged, strict=True)
    return from_flow


def merge_stage_checkpoints(model: nn.Module, rgb_path: str | Path, flow_path: str | Path) -> None:
    """:func:`merge_stage_weights` from two checkpoint files."""
    merge_stage_weights(model, stage_state(rgb_path), stage_state(flow_path))


__all__ = [
    "dataset_inputs",
    "merge_stage_checkpoints",
    "merge_stage_weights",
    "stage_inputs",
    "stage_state",
]
