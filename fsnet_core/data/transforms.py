"""Joint transforms of a frame, its colour-coded flow image and its mask (torchvision v2).

Why so few augmentations: the flow image is not a photograph. Its hue encodes
the *direction* of motion and its saturation the speed relative to the
fastest pixel, so

* a horizontal (or vertical) flip of the flow image is **wrong** unless the
  flow vectors are mirrored too (a rightward motion, red, would still read as
  rightward after the frame is mirrored);
* colour jitter of the flow image changes directions and speeds, so
  photometric jitter is applied to the **frame only**;
* random scale and crop applied **jointly** keeps every colour meaningful: a
  crop keeps directions, and a zoom scales all speeds alike, which the
  per-frame normalisation of the colour coding already absorbs.

Resizing follows the authors: straight to ``size x size`` (no aspect
preservation), masks by nearest neighbour so they stay binary. Both images
are ImageNet-normalised, as the authors do for RGB and flow alike.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from ..model.inputs import IMAGENET_MEAN, IMAGENET_STD


def as_hw(size: int | tuple[int, int]) -> tuple[int, int]:
    """An int means a square, as in the paper's 352 x 352."""
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


class PairTransform:
    """Resize (or, with ``augment``, random scale + crop) frame, flow image and mask together.

    Call with ``H x W x 3`` uint8 RGB arrays (either may be None) and an ``H x W``
    bool mask (or None); get ImageNet-normalised ``3 x h x w`` float tensors and a
    ``1 x h x w`` float mask in {0, 1}.
    """

    def __init__(
        self,
        size: int | tuple[int, int] = 352,
        augment: bool = False,
        crop_scale: tuple[float, float] = (0.5, 1.0),
        jitter: float = 0.3,
    ) -> None:
        self.size = as_hw(size)
        self.augment = augment
        if augment:
            self.geometry = v2.RandomResizedCrop(
                self.size, scale=crop_scale, ratio=(0.75, 4 / 3), antialias=True
            )
            self.frame_only = v2.ColorJitter(jitter, jitter, jitter, hue=jitter / 6)
        else:
            self.geometry = v2.Resize(self.size, antialias=True)
            self.frame_only = v2.Identity()
        self.finish = v2.Compose(
            [
                v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),
                v2.Normalize(IMAGENET_MEAN.tolist(), IMAGENET_STD.tolist()),
            ]
        )

    def __call__(
        self, frame: np.ndarray | None, flow: np.ndarray | None, mask: np.ndarray | None
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        items: dict[str, torch.Tensor] = {}
        if frame is not None:
            items["frame"] = self.frame_only(_image(frame))
        if flow is not None:
            items["flow"] = _image(flow)
        if mask is not None:
            items["mask"] = tv_tensors.Mask(torch.from_numpy(mask.astype(np.uint8))[None])
        out = self.finish(self.geometry(items))  # one set of random parameters for all
        plain = {k: v.as_subclass(torch.Tensor) for k, v in out.items()}
        mask_out = plain["mask"].float() if "mask" in plain else None
        return plain.get("frame"), plain.get("flow"), mask_out


def _image(rgb: np.ndarray) -> tv_tensors.Image:
    return tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1))


__all__ = [
    "PairTransform",
    "as_hw",
]
