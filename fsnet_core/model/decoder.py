"""The decoders: a U-Net whose every skip passes through a pyramid pooling module."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ConvBN, resize_to


class PyramidPooling(nn.Module):
    """PSPNet's pyramid pooling: pooled grids of several sizes, projected and concatenated."""

    def __init__(self, channels: int, bins: tuple[int, ...] = (1, 2, 3, 6)) -> None:
        super().__init__()
        inter = channels // 4
        self.bins = tuple(bins)
        self.branches = nn.ModuleList(ConvBN(channels, inter, 1) for _ in self.bins)
        self.project = ConvBN(channels + inter * len(self.bins), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pooled = [
            resize_to(branch(F.adaptive_avg_pool2d(x, b)), size)
            for branch, b in zip(self.branches, self.bins, strict=True)
        ]
        return self.project(torch.cat([x, *pooled], dim=1))


class Decoder(nn.Module):
    """Top-down decoder from the coarsest level to the finest, ending in one logit map.

    Upsampling goes to the exact size of the finer level (for input sides that
    are multiples of 32 this is the authors' x2 upsampling; other sizes also work).
    """

    def __init__(self, channels: int = 32, levels: int = 4, bins: tuple[int, ...] = (1, 2, 3, 6)):
        super().__init__()
        self.ppm = nn.ModuleList(PyramidPooling(channels, bins) for _ in range(levels))
        self.up = nn.ModuleList(ConvBN(channels, channels, 3) for _ in range(levels - 1))
        self.merge = nn.ModuleList(
            nn.Sequential(ConvBN(2 * channels, 2 * channels, 3), ConvBN(2 * channels, channels, 1))
            for _ in range(levels - 1)
        )
        self.head = nn.Sequential(ConvBN(channels, channels, 3), nn.Conv2d(channels, 1, 1))

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = self.ppm[-1](features[-1])
        for k in range(len(features) - 2, -1, -1):
            skip = features[k]
            x = self.up[k](resize_to(x, skip.shape[-2:]))
            x = self.ppm[k](self.merge[k](torch.cat([skip, x], dim=1)))
        return self.head(x)
