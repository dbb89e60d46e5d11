"""What FSNet reads: the input contract shared by data loading, inference and figures.

Both streams take ``N x 3 x H x W`` float tensors normalised with the
ImageNet statistics (the authors normalise RGB and flow images alike); the
motion stream reads the flow as its Middlebury colour image, not raw
vectors. The released checkpoint was trained at 352 x 352, the frames
resized straight to a square (no aspect preservation), as
:class:`FSNetInputs` does.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torchvision.transforms.v2 import functional as TF

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
PAPER_SIZE = 352
"""The side of the square inputs the authors trained and tested at."""


def to_model_input(rgb: np.ndarray) -> torch.Tensor:
    """``H x W x 3`` uint8 to an ImageNet-normalised ``1 x 3 x H x W`` tensor."""
    x = (rgb.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return torch.from_numpy(x).permute(2, 0, 1).unsqueeze(0).contiguous()


def from_model_input(x: torch.Tensor) -> np.ndarray:
    """Inverse of :func:`to_model_input`: a ``[1 x] 3 x H x W`` tensor as ``H x W x 3`` uint8."""
    if x.ndim == 4:
        x = x[0]
    rgb = x.detach().float().cpu().permute(1, 2, 0).numpy() * IMAGENET_STD + IMAGENET_MEAN
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def check_same_shape(image: torch.Tensor, flow: torch.Tensor) -> None:
    """ValueError unless the frame and its flow image have one shape (the two streams meet)."""
    if image.shape != flow.shape:
        raise ValueError(
            f"image and flow must have the same shape, got {tuple(image.shape)} "
            f"and {tuple(flow.shape)}"
        )


class FSNetInputs(nn.Module):
    """A frame and its flow colour image as the two inputs of FSNet, ``1 x 3 x size x size``.

    Both ``H x W x 3`` uint8 RGB arrays are resized (antialiased bilinear) to
    the square ``size`` and ImageNet-normalised, the same steps as the data
    loaders' :class:`fsnet_core.data.transforms.PairTransform` without
    augmentation. The flow goes in as its colour image
    (:func:`fsnet_core.flow.flow_to_color`), never as raw vectors.
    """

    def __init__(self, size: int = PAPER_SIZE) -> None:
        super().__init__()
        self.size = int(size)

    def forward(self, frame: np.ndarray, flow_rgb: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return self.prepare(frame, "frame"), self.prepare(flow_rgb, "flow")

    def prepare(self, rgb: np.ndarray, what: str = "image") -> torch.Tensor:
        """One ``H x W x 3`` uint8 image as a normalised ``1 x 3 x size x size`` tensor."""
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
            hint = " (a flow field goes in as its colour image)" if rgb.shape[-1:] == (2,) else ""
            raise ValueError(
                f"{what} must be an H x W x 3 uint8 RGB image, got "
                f"{' x '.join(map(str, rgb.shape))} {rgb.dtype}{hint}"
            )
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)
        x = TF.resize(x, [self.size, self.size], antialias=True)
        x = TF.to_dtype(x, torch.float32, scale=True)
        return TF.normalize(x, IMAGENET_MEAN.tolist(), IMAGENET_STD.tolist()).unsqueeze(0)

    def extra_repr(self) -> str:
        mean, std = ([round(float(v), 3) for v in a] for a in (IMAGENET_MEAN, IMAGENET_STD))
        return f"size={self.size}, mean={mean}, std={std}, flow=colour image"


__all__ = [
    "FSNetInputs",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "PAPER_SIZE",
    "check_same_shape",
    "from_model_input",
    "to_model_input",
]
