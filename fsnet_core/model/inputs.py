"""What FSNet reads: the input contract shared by data loading, inference and figures.

Both streams take ``N x 3 x H x W`` float tensors normalised with the
ImageNet statistics (the authors normalise RGB and flow images alike); the
motion stream reads the flow as its Middlebury colour image, not raw
vectors. The released checkpoint was trained at 352 x 352.
"""

from __future__ import annotations

import numpy as np
import torch

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


__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "PAPER_SIZE", "from_model_input", "to_model_input"]
