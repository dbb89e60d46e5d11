"""Small building blocks shared by the allocator, the BPMs and the decoders."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvBN(nn.Module):
    """Convolution followed by batch norm, with no activation.

    The authors' ``BasicConv2d``: FSNet has no ReLU outside the ResNets, the
    only non-linearities after the backbones are the products inside the BPMs.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def resize_to(x: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """Bilinear resize with ``align_corners=True``, as everywhere in the authors' code."""
    return F.interpolate(x, size=size, mode="bilinear", align_corners=True)


class UpProject(nn.Module):
    """P(.) of the paper: bring a coarser level to a finer one, then a 1x1 ConvBN."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.proj = ConvBN(channels, channels, 1)

    def forward(self, x: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
        return self.proj(resize_to(x, size))


class DoubleConvBN(nn.Sequential):
    """Two 3x3 ConvBNs: the fusion convolution of a BPM level."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            ConvBN(in_channels, out_channels, 3), ConvBN(out_channels, out_channels, 3)
        )


class DimReduce(nn.Sequential):
    """The feature allocator psi: 1x1 then two 3x3 ConvBNs down to ``out_channels``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            ConvBN(in_channels, out_channels, 1),
            ConvBN(out_channels, out_channels, 3),
            ConvBN(out_channels, out_channels, 3),
        )
