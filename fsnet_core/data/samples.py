"""A handful of (frame, flow) pairs at the model's input size, with what a figure needs beside them.

Analysis notebooks (RCAM attention, attribution) look at a few frames, not
a whole split: :func:`load_samples` picks them evenly from a dataset through
:class:`~fsnet_core.data.datasets.VideoSegmentationDataset`, so the tensors
are exactly what training and inference feed the model, and adds the
synthetic set's region labels (target, look-alike, moving background ...)
resized the same way when the dataset has them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..io import InputError
from ..model.inputs import from_model_input
from .datasets import VideoSegmentationDataset
from .synthetic import read_meta, read_regions
from .transforms import PairTransform


@dataclass(frozen=True)
class Sample:
    """One frame t with the flow from t to t+1, as the model sees them."""

    sequence: str
    frame: str
    image: torch.Tensor  # 1 x 3 x H x W, ImageNet-normalised frame
    flow: torch.Tensor  # 1 x 3 x H x W, ImageNet-normalised flow colour image
    mask: np.ndarray  # H x W bool, ground truth
    regions: np.ndarray | None = None  # H x W uint8 synthetic region labels, if any

    @property
    def name(self) -> str:
        return f"{self.sequence}/{self.frame}"

    @property
    def frame_rgb(self) -> np.ndarray:
        """The frame as ``H x W x 3`` uint8, at the model's input size."""
        return from_model_input(self.image)

    @property
    def flow_rgb(self) -> np.ndarray:
        """The flow colour image as ``H x W x 3`` uint8, at the model's input size."""
        return from_model_input(self.flow)

    def region(self, label: int) -> np.ndarray:
        """Boolean map of one region label (all False when the dataset has no regions)."""
        if self.regions is None:
            return np.zeros(self.mask.shape, bool)
        return self.regions == label


def _resized_regions(
    root: Path, sequence: str, frame: str, transform: PairTransform
) -> np.ndarray | None:
    if not (root / "Regions").is_dir():
        return None
    labels = read_regions(root, sequence, frame)
    _, _, resized = transform(None, None, labels)  # nearest-neighbour, like the masks
    return resized[0].numpy().astype(np.uint8)


def _evenly(items: Sequence[int], count: int | None) -> list[int]:
    if count is None or count >= len(items):
        return list(items)
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in sorted(set(picks.tolist()))]


def load_samples(
    root: str | os.PathLike,
    split: str | None = "val",
    size: int = 128,
    *,
    sequences: Sequence[str] | None = None,
    per_sequence: int | None = None,
    limit: int | None = None,
    flow_source: str | None = None,
) -> list[Sample]:
    """Frame/flow pairs of ``split`` at ``size x size``, ``per_sequence`` evenly spaced frames
    from each of ``sequences`` (default: all), at most ``limit`` in all."""
    root = Path(root)
    dataset = VideoSegmentationDataset(root, split=split, flow_source=flow_source, size=size)
    wanted = None if sequences is None else set(sequences)
    by_sequence: dict[str, list[int]] = {}
    for index, (record, _) in enumerate(dataset.samples):
        if wanted is None or record.name in wanted:
            by_sequence.setdefault(record.name, []).append(index)
    if wanted is not None and wanted - set(by_sequence):
        missing = ", ".join(sorted(wanted - set(by_sequence)))
        raise ValueError(f"{root}: no sequence named {missing} in split {split!r}")
    picks = [i for indices in by_sequence.values() for i in _evenly(indices, per_sequence)]
    transform = PairTransform(size)
    samples = []
    for index in picks[:limit]:
        item = dataset[index]
        samples.append(
            Sample(
                sequence=item["sequence"],
                frame=item["frame"],
                image=item["image"][None],
                flow=item["flow"][None],
                mask=item["mask"][0].numpy() > 0.5,
                regions=_resized_regions(root, item["sequence"], item["frame"], transform),
            )
        )
    return samples


def sequences_with(
    root: str | os.PathLike, split: str = "val", hazards: Sequence[str] = ("distractors",)
) -> list[str]:
    """Clips of a synthetic set's ``split`` that contain every hazard in ``hazards``:
    ``distractors``, ``ripple``, ``mover``, ``occluder``, ``motion_blur``, ``camera_zoom``
    (its meta.json)."""
    meta = read_meta(root)
    if meta is None:
        raise InputError(root, "not a synthetic dataset (no meta.json): hazards are unknown")
    names = meta["splits"].get(split)
    if names is None:
        raise ValueError(f"{root}: no split {split!r} (have {sorted(meta['splits'])})")
    info = meta["sequences"]
    return [n for n in names if all(info[n]["hazards"].get(h, False) for h in hazards)]


def with_region(samples: Sequence[Sample], label: int, min_pixels: int = 16) -> list[Sample]:
    """The samples in which region ``label`` covers at least ``min_pixels`` pixels."""
    return [s for s in samples if int(s.region(label).sum()) >= min_pixels]


def stack_inputs(samples: Sequence[Sample]) -> tuple[torch.Tensor, torch.Tensor]:
    """Several samples as one model batch ``(image, flow)``, each ``N x 3 x H x W``."""
    if not samples:
        raise ValueError("no samples to stack")
    return torch.cat([s.image for s in samples]), torch.cat([s.flow for s in samples])


__all__ = ["Sample", "load_samples", "sequences_with", "stack_inputs", "with_region"]
