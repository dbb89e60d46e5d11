"""The training loss of one pass, as the authors compute it, and the multi-scale resize."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..runtime import autocast_context


def resize_square(x: torch.Tensor, side: int) -> torch.Tensor:
    """Bilinear resize to ``side x side`` (align_corners=True, as the authors' ``F.upsample``)."""
    if x.shape[-2:] == (side, side):
        return x
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=True)


def forward_losses(
    model: nn.Module,
    image: torch.Tensor,
    flow: torch.Tensor,
    mask: torch.Tensor,
    device: torch.device,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """BCE-with-logits of the appearance and of the motion output against ``mask``: ``[2]``.

    The network runs under autocast when ``dtype`` is given; the losses are
    always computed in float32. Their sum is what the authors back-propagate.
    """
    with autocast_context(device, dtype):
        out = model(image, flow)
    return torch.stack(
        [
            F.binary_cross_entropy_with_logits(out.appearance.float(), mask),
            F.binary_cross_entropy_with_logits(out.motion.float(), mask),
        ]
    )


__all__ = ["forward_losses", "resize_square"]
