"""FSNet: wiring only. Reads like Figure 2 of the paper.

frame ─► appearance ResNet ─┐
                            ├─ RCAM x5 ─► merge ResNet ─► reduce ─► F ─┐        ┌► decoder ─► S_A
flow  ─► motion ResNet ─────┴───────────────────────────► reduce ─► G ─┴ BPM xN ┴► decoder ─► S_M
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from .backbone import ResNetStream, load_imagenet_into_streams
from .bpm import BPM
from .config import FSNetConfig
from .decoder import Decoder
from .inputs import check_same_shape
from .layers import DimReduce, resize_to
from .rcam import RCAM, RCAM_GATES, Gate, RCAMOutput


class FSNetOutput(NamedTuple):
    """Logits at the input size: the fused (appearance) branch first, as the authors save it."""

    appearance: torch.Tensor
    motion: torch.Tensor


@dataclass
class StageTrace:
    """What RCAM saw and produced at one stage (0 = stem, 1-4 = ResNet stages).

    The gates go by their code names (the table in :mod:`fsnet_core.model.rcam`);
    a gate that is off is ``None`` and its gated feature is the feature itself.
    """

    appearance: torch.Tensor  # X_k, appearance-stream feature
    motion: torch.Tensor  # Y_k, motion-stream feature
    merged_before: torch.Tensor | None  # merge-stream output before the exchange (None at stage 0)
    merged_after: torch.Tensor  # after the exchange: what the next merge stage and reducer see
    gated_appearance: torch.Tensor  # Q^X_k = X_k times the motion_to_appearance gate (Eq. 1)
    gated_motion: torch.Tensor  # Q^Y_k = Y_k times the appearance_to_motion gate (Eq. 2)
    motion_to_appearance: torch.Tensor | None  # N x C gate, Eq. 1, authors' atten_flow_k
    appearance_to_motion: torch.Tensor | None  # N x C gate, Eq. 2, authors' atten_rgb_k

    def gate(self, gate: Gate) -> torch.Tensor | None:
        """The ``N x C`` values of one gate (``None`` when the model does not have it)."""
        return getattr(self, gate.name)

    def gated(self, gate: Gate) -> torch.Tensor:
        """What one gate produced: its target feature after gating."""
        return getattr(self, gate.gated)

    @classmethod
    def record(
        cls,
        appearance: torch.Tensor,
        motion: torch.Tensor,
        merged_before: torch.Tensor | None,
        rcam: RCAMOutput,
    ) -> StageTrace:
        """The trace of one RCAM call, gates flattened to ``N x C``."""
        gates = {g.name: getattr(rcam, g.name) for g in RCAM_GATES}
        return cls(
            appearance,
            motion,
            merged_before,
            rcam.fused,
            rcam.gated_appearance,
            rcam.gated_motion,
            **{name: None if g is None else g.flatten(1) for name, g in gates.items()},
        )


@dataclass
class FSNetTrace:
    """Everything a notebook may want to look at from one forward pass."""

    appearance_logits: torch.Tensor
    motion_logits: torch.Tensor
    stages: list[StageTrace] = field(default_factory=list)
    # pyramids[0] is the allocator output; pyramids[n] the output of BPM n.
    # Each entry is (fused F levels 1-4, motion G levels 1-4).
    pyramids: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = field(default_factory=list)


class FSNet(nn.Module):
    """Full-duplex strategy network for unsupervised video object segmentation.

    ``FSNet()`` is the paper's model. Pass a :class:`FSNetConfig` or field
    overrides (``FSNet(backbone="resnet18", num_bpm=2)``) for ablations, and
    ``imagenet=True`` to start the three streams from torchvision's ImageNet
    weights as the authors do (``imagenet="path.pth"`` reads a local file).
    """

    def __init__(
        self,
        config: FSNetConfig | None = None,
        *,
        imagenet: bool | str | Path = False,
        **overrides: Any,
    ) -> None:
        super().__init__()
        config = config or FSNetConfig()
        self.config = config.replace(**overrides) if overrides else config
        cfg = self.config
        stage_channels = cfg.stage_channels
        levels = len(stage_channels) - 1

        self.appearance = ResNetStream(cfg.backbone, with_stem=True)
        self.motion = ResNetStream(cfg.backbone, with_stem=True)
        self.merge = ResNetStream(cfg.backbone, with_stem=False)
        self.rcam = nn.ModuleList(RCAM(c, cfg.rcam) for c in stage_channels)
        self.reduce_fused = nn.ModuleList(DimReduce(c, cfg.channels) for c in stage_channels[1:])
        self.reduce_motion = nn.ModuleList(DimReduce(c, cfg.channels) for c in stage_channels[1:])
        self.bpms = nn.ModuleList(BPM(cfg.channels, levels, cfg.bpm) for _ in range(cfg.num_bpm))
        self.decoder_fused = Decoder(cfg.channels, levels, cfg.ppm_bins)
        self.decoder_motion = Decoder(cfg.channels, levels, cfg.ppm_bins)

        self._init_head_weights()
        if imagenet:
            path = None if imagenet is True else imagenet
            load_imagenet_into_streams(
                [self.appearance, self.motion, self.merge], cfg.backbone, path
            )

    def _init_head_weights(self) -> None:
        """The authors' initialisation outside the ResNets: N(0, 0.01) convs, identity BN."""
        streams = {id(m) for s in (self.appearance, self.motion, self.merge) for m in s.modules()}
        for m in self.modules():
            if id(m) in streams:
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, image: torch.Tensor, flow: torch.Tensor) -> FSNetOutput:
        """Appearance (fused) and motion logits, each ``N x 1 x H x W``."""
        return self._run(image, flow, None)

    def forward_with_intermediates(self, image: torch.Tensor, flow: torch.Tensor) -> FSNetTrace:
        """The logits plus RCAM's gates and features, and the pyramids around every BPM."""
        trace = FSNetTrace(appearance_logits=image.new_empty(0), motion_logits=image.new_empty(0))
        out = self._run(image, flow, trace)
        trace.appearance_logits, trace.motion_logits = out.appearance, out.motion
        return trace

    def _run(
        self, image: torch.Tensor, flow: torch.Tensor, trace: FSNetTrace | None
    ) -> FSNetOutput:
        check_same_shape(image, flow)
        size = image.shape[-2:]

        # Stage 0: the two stems, fused by RCAM into the start of the merge stream.
        x = self.appearance.stem(image)
        y = self.motion.stem(flow)
        rcam = self.rcam[0](x, y)
        merged = rcam.fused
        if trace is not None:
            trace.stages.append(StageTrace.record(x, y, None, rcam))

        # Stages 1-4: each stream advances; RCAM adds the gated features to the merge stream.
        merged_levels, motion_levels = [], []
        for k in range(1, 5):
            x = self.appearance.stage(k, x)
            y = self.motion.stage(k, y)
            before = self.merge.stage(k, merged)
            rcam = self.rcam[k](x, y, before)
            merged = rcam.fused
            if trace is not None:
                trace.stages.append(StageTrace.record(x, y, before, rcam))
            merged_levels.append(merged)
            motion_levels.append(y)

        # Feature allocator: 32 channels per level, fused (F) from merge, motion (G) from flow.
        fused = [reduce(f) for reduce, f in zip(self.reduce_fused, merged_levels, strict=True)]
        motion = [reduce(g) for reduce, g in zip(self.reduce_motion, motion_levels, strict=True)]
        if trace is not None:
            trace.pyramids.append((fused, motion))
        for bpm in self.bpms:
            fused, motion = bpm(fused, motion)
            if trace is not None:
                trace.pyramids.append((fused, motion))

        appearance_logits = resize_to(self.decoder_fused(fused), size)
        motion_logits = resize_to(self.decoder_motion(motion), size)
        return FSNetOutput(appearance_logits, motion_logits)
