"""The datasets and loaders one training stage reads.

Stage 1 reads frames (plus a DUTS-style static saliency set when given, as the
authors do), stage 2 flow images, stage 3 (frame, flow) pairs; the model
inputs are then chosen by :func:`fsnet_core.train.stages.stage_inputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset

from .checkpoint import ResumableSampler
from .config import TrainConfig
from .stages import dataset_inputs

BATCH_TENSORS = ("image", "flow", "mask")
BATCH_LABELS = ("sequence", "frame")


def data_root(config: TrainConfig) -> Path:
    """``config.data``, or the built-in synthetic set (generated on first use)."""
    if config.data is not None:
        return Path(config.data)
    from ..data.synthetic import ensure_synthetic_dataset

    return ensure_synthetic_dataset()


class SeededAugmentation(Dataset):
    """A training dataset whose random augmentation is a function of (seed, epoch, index).

    torchvision's random transforms draw from torch's global generator, so the
    draws a sample gets would depend on what ran before it: which worker loaded
    it, or whether the run was stopped and resumed. Each sample is instead
    loaded under its own generator state, which makes an augmented run as
    exactly resumable as one without augmentation.
    """

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset, self.seed, self.epoch = dataset, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the loop before each epoch (before its workers start)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> Any:
        key = ((self.seed * 1_000_003 + self.epoch) * 1_000_033 + index) % 2**63
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(key)
            return self.dataset[index]


def stage_datasets(config: TrainConfig, stage: str, root: Path) -> tuple[Dataset, Dataset]:
    """(train, validation) datasets for ``stage`` at ``config.size``."""
    from ..data.datasets import StaticSaliencyDataset, VideoSegmentationDataset

    common: dict[str, Any] = dict(
        flow_source=config.flow_source,
        size=config.size,
        inputs=dataset_inputs(stage),
        annotated_only=config.annotated_only,
    )
    train: Dataset = VideoSegmentationDataset(
        root, split=config.train_split, augment=config.augment, **common
    )
    if stage == "rgb" and config.static_data:
        static = StaticSaliencyDataset(config.static_data, size=config.size, augment=config.augment)
        train = ConcatDataset([static, train])
    if config.augment:
        train = SeededAugmentation(train, config.seed)
    val: Dataset = VideoSegmentationDataset(root, split=config.val_split, **common)
    if config.val_max_frames and len(val) > config.val_max_frames:  # type: ignore[arg-type]
        keep = np.linspace(0, len(val) - 1, config.val_max_frames).round().astype(int)  # type: ignore[arg-type]
        val = Subset(val, sorted(set(keep.tolist())))
    return train, val


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack the tensors the loop needs; keep names as lists; drop everything else.

    Static images and video frames carry different extra keys, so the default
    collate cannot mix them.
    """
    batch: dict[str, Any] = {}
    for key in BATCH_TENSORS:
        if all(item.get(key) is not None for item in items):
            batch[key] = torch.stack([item[key] for item in items])
    for key in BATCH_LABELS:
        batch[key] = [str(item.get(key, "")) for item in items]
    return batch


def train_loader(
    dataset: Dataset, config: TrainConfig, sampler: ResumableSampler, pin_memory: bool
) -> DataLoader:
    # Drop a last partial batch of one sample: batch norm cannot train on a single 1x1 map.
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        drop_last=sampler.per_rank % config.batch_size == 1 and sampler.per_rank > 1,
        num_workers=config.num_workers,
        collate_fn=collate,
        pin_memory=pin_memory,
        persistent_workers=False,
    )


def val_loader(dataset: Dataset, config: TrainConfig) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=max(config.batch_size, 8),
        shuffle=False,
        num_workers=config.num_workers,
        collate_fn=collate,
    )
