"""BPM: the bidirectional purification module (paper Eq. 5-6).

Works on two pyramids of four levels, 32 channels each: ``fused`` (F, from the
merge stream) and ``motion`` (G, from the motion stream). Level k of one
pyramid receives level k and every coarser level of the other (the
interlaced decremental connection):

* enrich, Eq. 5, (App.+Mo.) <= Mo.: F_k += conv(concat[F_k, G_k, P(G_k+1), ...])
* purify, Eq. 6, (App.+Mo.) => Mo.: G_k += conv(G_k * F_k * P(F_k+1) * ...)

Both updates read the inputs of the module, never each other's outputs.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import BPM_MODES, BPMMode, check_choice
from .layers import DoubleConvBN, UpProject


class _LevelUpdate(nn.Module):
    """The update of one level: projections of the coarser levels and a fusion conv."""

    def __init__(self, channels: int, num_coarser: int, fuse_in: int) -> None:
        super().__init__()
        self.lifts = nn.ModuleList(UpProject(channels) for _ in range(num_coarser))
        self.fuse = DoubleConvBN(fuse_in, channels)

    def lifted(self, coarser: list[torch.Tensor], size: torch.Size) -> list[torch.Tensor]:
        return [lift(x, size) for lift, x in zip(self.lifts, coarser, strict=True)]


class BPM(nn.Module):
    """One bidirectional purification module over ``levels`` pyramid levels.

    ``mode`` is one of :data:`~fsnet_core.model.config.BPM_MODES`: ``"both"``
    (full duplex), ``"enrich"`` (Eq. 5 only, motion passes through) or
    ``"purify"`` (Eq. 6 only, fused features pass through). Any other value
    raises ``ValueError``.
    """

    def __init__(self, channels: int = 32, levels: int = 4, mode: BPMMode = "both") -> None:
        super().__init__()
        check_choice("BPM mode", mode, BPM_MODES)
        self.mode = mode
        coarser = [levels - 1 - k for k in range(levels)]
        self.enrich = (
            nn.ModuleList(_LevelUpdate(channels, n, (n + 2) * channels) for n in coarser)
            if mode in ("both", "enrich")
            else None
        )
        self.purify = (
            nn.ModuleList(_LevelUpdate(channels, n, channels) for n in coarser)
            if mode in ("both", "purify")
            else None
        )

    def forward(
        self, fused: list[torch.Tensor], motion: list[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        new_fused, new_motion = list(fused), list(motion)
        if self.enrich is not None:
            for k, update in enumerate(self.enrich):
                f, g = fused[k], motion[k]
                parts = [f, g, *update.lifted(motion[k + 1 :], f.shape[-2:])]
                new_fused[k] = f + update.fuse(torch.cat(parts, dim=1))
        if self.purify is not None:
            for k, update in enumerate(self.purify):
                g = motion[k]
                product = g * fused[k]
                for lifted in update.lifted(fused[k + 1 :], g.shape[-2:]):
                    product = product * lifted
                new_motion[k] = g + update.fuse(product)
        return new_fused, new_motion
