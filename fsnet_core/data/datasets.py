"""torch Datasets that feed FSNet: video frame/flow/mask triples, and still images for stage 1.

Every item is a dict with the same keys, so the training loop and the
inference runner never care where the data came from:

``image``, ``flow``  ``3 x H x W`` float, ImageNet-normalised (the flow as its colour image)
``mask``             ``1 x H x W`` float in {0, 1} (zeros, with ``has_mask`` False, if absent)
``sequence``, ``frame``  sequence name and frame stem (prediction files are named after them)
``orig_size``        ``(H, W)`` of the original frame, to resize predictions back
``index``            position in the dataset

``inputs`` chooses what the two streams see, following the authors' three
stages: ``"both"`` (frame + flow, stage 3 and inference), ``"image"`` (the
frame fed to both streams, stage 1) and ``"flow"`` (the flow image fed to
both, stage 2).

Reading an item at 352 x 352 costs about 15 ms with one torch thread. On a
busy machine, torch's default of one thread per core can make the resize and
jitter ten times slower in the main process: use DataLoader workers (each
runs single-threaded) or ``torch.set_num_threads(1)``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from ..io import InputError
from ..io.images import image_size, read_mask, read_rgb
from .layouts import SequenceRecord, check_same_size, discover_sequences
from .transforms import PairTransform

INPUTS = ("both", "image", "flow")


class VideoSegmentationDataset(Dataset):
    """Frame t with the flow from t to t+1 and its mask, from any layout in :mod:`.layouts`.

    With ``inputs="both"`` or ``"flow"`` the last frame of each sequence (no
    flow) is not a sample; with ``"image"`` every frame is. ``require_masks``
    makes a frame without a mask an error; ``annotated_only`` instead keeps only
    annotated frames (FBMS-style sparse labels). ``flow_source`` is None to pick
    ``gt``/``OF_FlowNet2``/the only source (see :func:`discover_sequences`).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str | None = None,
        layout: str = "auto",
        flow_source: str | None = None,
        size: int | tuple[int, int] = 352,
        augment: bool = False,
        require_masks: bool = True,
        inputs: str = "both",
        annotated_only: bool = False,
    ) -> None:
        if inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
        self.root = root
        self.inputs = inputs
        self.require_masks = require_masks and not annotated_only
        needs_flow = inputs != "image"
        self.records: list[SequenceRecord] = discover_sequences(
            root,
            layout,
            split,
            flow_source,
            require_flows=needs_flow,
            require_masks=self.require_masks,
        )
        self.samples: list[tuple[SequenceRecord, int]] = [
            (record, t)
            for record in self.records
            for t in range(len(record))
            if (not needs_flow or record.flows[t] is not None)
            and (not annotated_only or record.masks[t] is not None)
        ]
        if not self.samples:
            raise InputError(root, "no samples (no frame has the flow and mask required)")
        self.transform = PairTransform(size, augment=augment)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record, t = self.samples[index]
        frame_path, flow_path, mask_path = record.frames[t], record.flows[t], record.masks[t]
        frame = read_rgb(frame_path) if self.inputs != "flow" else None
        orig_size = frame.shape[:2] if frame is not None else image_size(frame_path)
        flow = read_rgb(flow_path) if self.inputs != "image" else None
        mask = read_mask(mask_path) if mask_path is not None else None
        if mask is not None:
            check_same_size(mask_path, mask.shape, orig_size, frame_path)
        else:
            mask = np.zeros(orig_size, bool)
        image_t, flow_t, mask_t = self.transform(frame, flow, mask)
        if self.inputs == "image":
            flow_t = image_t.clone()
        elif self.inputs == "flow":
            image_t = flow_t.clone()
        return {
            "image": image_t,
            "flow": flow_t,
            "mask": mask_t,
            "has_mask": mask_path is not None,
            "sequence": record.name,
            "frame": frame_path.stem,
            "orig_size": (int(orig_size[0]), int(orig_size[1])),
            "index": index,
        }


class StaticSaliencyDataset(VideoSegmentationDataset):
    """Still images with masks, the image fed to both streams (the authors' stage 1).

    Reads DUTS (``DUTS-TR-Image``/``DUTS-TR-Mask``), the authors' static training
    folder (``Imgs``/``GTs``), or the frames of any video layout used as stills
    (every frame with a mask, the last one included).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str | None = None,
        layout: str = "auto",
        size: int | tuple[int, int] = 352,
        augment: bool = False,
    ) -> None:
        super().__init__(
            root, split, layout, None, size, augment, require_masks=True, inputs="image"
        )


__all__ = [
    "INPUTS",
    "StaticSaliencyDataset",
    "VideoSegmentationDataset",
]
