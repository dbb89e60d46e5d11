"""RCAM: the relational cross-attention module (paper Eq. 1-3).

Each modality computes a channel attention vector from its own features
(global average pooling, a 1x1 convolution with bias, a sigmoid) and hands it
to the *other* modality. Neither stream is changed: the gated features are
added into the merge stream, which is what the decoder of the fused branch sees.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class ChannelAttention(nn.Module):
    """sigmoid(conv1x1(GAP(x))): one weight in (0, 1) per channel, no reduction."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(F.adaptive_avg_pool2d(x, 1)))


class RCAMOutput(NamedTuple):
    """The fused contribution and the two attention vectors (``None`` when ablated)."""

    fused: torch.Tensor
    appearance_attention: torch.Tensor | None  # computed from appearance, gates motion
    motion_attention: torch.Tensor | None  # computed from motion, gates appearance


class RCAM(nn.Module):
    """Cross-modal channel attention at one stage.

    ``mode``: ``"full"`` (both directions), ``"appearance_to_motion"``,
    ``"motion_to_appearance"`` or ``"none"`` (the features are added ungated).
    """

    def __init__(self, channels: int, mode: str = "full") -> None:
        super().__init__()
        self.mode = mode
        use_a2m = mode in ("full", "appearance_to_motion")
        use_m2a = mode in ("full", "motion_to_appearance")
        # The authors' ``atten_rgb_k``: from appearance, multiplies the motion feature.
        self.appearance_to_motion = ChannelAttention(channels) if use_a2m else None
        # The authors' ``atten_flow_k``: from motion, multiplies the appearance feature.
        self.motion_to_appearance = ChannelAttention(channels) if use_m2a else None

    def forward(
        self, appearance: torch.Tensor, motion: torch.Tensor, merged: torch.Tensor | None = None
    ) -> RCAMOutput:
        """Gate each modality with the other's attention and add both onto ``merged``."""
        gate_a = self.motion_to_appearance(motion) if self.motion_to_appearance else None
        gate_m = self.appearance_to_motion(appearance) if self.appearance_to_motion else None
        q_appearance = appearance if gate_a is None else appearance * gate_a
        q_motion = motion if gate_m is None else motion * gate_m
        fused = q_appearance + q_motion if merged is None else merged + q_appearance + q_motion
        return RCAMOutput(fused, gate_m, gate_a)
