"""The RCAM explorer: pick a frame, a stage and a channel; see what the exchange did to it.

Why: the attention vectors say *how much* each channel is let through, but
not *what* that channel carries. Stepping through channels shows, for one
frame, the appearance and motion features of a channel (X_k, Y_k), the same
features after the other stream's gate (Q^X_k, Q^Y_k, as the trace recorded
them), and the merge stream before and after the gated features are added
(:func:`fsnet_core.analysis.attention.exchange_maps`), next to the frame (with
the model's prediction) and its flow. Gates are named as in the table of
:mod:`fsnet_core.model.rcam`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from ...analysis.attention import EXCHANGE_PANELS, exchange_maps
from ...data.samples import Sample
from ...model import FSNetTrace
from ...model.rcam import RCAM_GATES
from ..viz import compare_overlay, tile
from ..viz.attention import PANEL_TITLES, gate_legend, readable_stages
from .base import PICTURE_WIDTH, PictureViewer


def colourise(maps: Sequence[np.ndarray], size: int, cmap: str = "viridis") -> list[np.ndarray]:
    """Feature maps on one shared colour scale, enlarged (nearest) to ``size x size`` RGB."""
    import matplotlib

    low = min(0.0, *(float(m.min()) for m in maps))
    high = max(float(m.max()) for m in maps)
    scale = high - low or 1.0
    colours = matplotlib.colormaps[cmap]
    out = []
    for m in maps:
        rgb = (colours((m - low) / scale)[..., :3] * 255 + 0.5).astype(np.uint8)
        out.append(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_NEAREST))
    return out


SCALE_HEIGHT = 30
"""Pixels of the colour-scale strip under the explorer's maps (ramp and its values)."""


def _scale_strip(width: int, low: float, high: float, cmap: str = "viridis") -> np.ndarray:
    """The colour scale of :func:`colourise` as a strip as wide as the picture it goes under:
    a ramp from ``low`` (left) to ``high`` (right), the two values written at its ends."""
    import matplotlib

    ramp = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, width))[:, :3]
    strip = np.full((SCALE_HEIGHT, width, 3), 255, np.uint8)
    strip[4:14] = (ramp * 255 + 0.5).astype(np.uint8)[None]
    ends = [(f"{low:.3g}", 2), (f"{high:.3g}", None)]
    for text, x in ends:
        (w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        at = (x if x is not None else width - w - 2, SCALE_HEIGHT - 4)
        cv2.putText(strip, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    label = "colour scale of the six maps"
    (w, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    if w + 80 < width:  # room between the two values
        at = ((width - w) // 2, SCALE_HEIGHT - 4)
        cv2.putText(strip, label, at, cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


class RCAMExplorer(PictureViewer):
    """Frame, stage and channel sliders over a trained FSNet and a few samples.

    The picture shows the frame with the predicted mask (orange) and the ground
    truth outline (blue), the flow image, then the six maps of
    :data:`~fsnet_core.analysis.attention.EXCHANGE_PANELS` for the chosen channel on
    one colour scale, drawn as a strip under the maps with its two end values. The lines
    give both gate values of that channel and how
    they rank among the stage's channels. Traces are computed once per frame.
    """

    def __init__(
        self,
        model: nn.Module,
        samples: Sequence[Sample],
        size: int = 128,
        *,
        width: int = PICTURE_WIDTH,
    ) -> None:
        if not samples:
            raise ValueError("the RCAM explorer needs at least one sample")
        self.model = model.eval()
        self.samples = list(samples)
        self.size = size
        self._traces: dict[int, FSNetTrace] = {}
        self.frame = widgets.IntSlider(0, 0, len(self.samples) - 1, description="frame")
        # Only stages whose maps have at least 16 x 16 cells (viz.attention.MIN_CELLS).
        stages = readable_stages(self.trace(0))
        if not stages:
            raise ValueError("no RCAM stage has maps of 16 x 16 cells or more: use larger inputs")
        self.stage = widgets.IntSlider(0, 0, max(stages), description="stage")
        self.channel = widgets.IntSlider(0, 0, self.channels(0) - 1, description="channel")
        # Registered before the viewer's own observers: the channel range follows the
        # stage before the picture is redrawn.
        self.stage.observe(self._fit_channel_range, names="value")
        super().__init__(
            [self.frame, self.stage, self.channel], number_boxes=[self.channel], width=width
        )
        self.refresh()

    def trace(self, index: int | None = None) -> FSNetTrace:
        """The trace of sample ``index`` (default: the current frame)."""
        index = self.frame.value if index is None else index
        if index not in self._traces:
            sample = self.samples[index]
            with torch.no_grad():
                self._traces[index] = self.model.forward_with_intermediates(
                    sample.image, sample.flow
                )
        return self._traces[index]

    def channels(self, stage: int) -> int:
        """How many channels stage ``stage`` has (from the first sample's trace)."""
        return int(self.trace(0).stages[stage].appearance.shape[1])

    def _fit_channel_range(self, change: dict) -> None:
        self._paused = True  # the clamp below must not redraw with a half-updated state
        try:
            self.channel.max = self.channels(change["new"]) - 1
        finally:
            self._paused = False

    def render(self) -> tuple[np.ndarray, list[str]]:
        index, stage, channel = self.frame.value, self.stage.value, self.channel.value
        sample, trace = self.samples[index], self.trace(index)
        maps = exchange_maps(trace, stage, channel)
        prob = torch.sigmoid(trace.appearance_logits)[0, 0].float().numpy()
        shown = compare_overlay(sample.frame_rgb, prob, sample.mask)
        first = [
            cv2.resize(im, (self.size, self.size), interpolation=cv2.INTER_NEAREST)
            for im in (shown, sample.flow_rgb)
        ]
        values = [maps[name] for name in EXCHANGE_PANELS]
        panels = colourise(values, self.size)  # type: ignore[arg-type]
        low = min(0.0, *(float(m.min()) for m in values))  # type: ignore[union-attr]
        high = max(float(m.max()) for m in values)  # type: ignore[union-attr]
        titles = ["frame + prediction", "flow", *(PANEL_TITLES[name] for name in EXCHANGE_PANELS)]
        st = trace.stages[stage]
        h, w = st.appearance.shape[-2:]
        lines = [
            f"{sample.name}: stage {stage} ({st.appearance.shape[1]} channels at {h}x{w}), "
            f"channel {channel}",
        ]
        for gate in RCAM_GATES:
            label = gate_legend(gate)
            values = st.gate(gate)
            if values is None:
                lines.append(f"{label}: off in this model (the feature passes unchanged)")
                continue
            values = values[0].float().numpy()
            rank = int((values > values[channel]).sum()) + 1
            lines.append(f"{label}: {maps[gate.name]:.3f}, rank {rank} of {len(values)}")
        lines.append(f"colour scale (under the maps) of the six maps: {low:.3g} to {high:.3g}")
        picture = tile(first + panels, titles, width=self.width)
        return np.concatenate([picture, _scale_strip(picture.shape[1], low, high)]), lines


def rcam_explorer(
    model: nn.Module, samples: Sequence[Sample], size: int = 128, *, width: int = PICTURE_WIDTH
) -> RCAMExplorer:
    """An :class:`RCAMExplorer`: display it in a notebook, or ``.figure()`` for a static view."""
    return RCAMExplorer(model, samples, size, width=width)


__all__ = ["RCAMExplorer", "colourise", "rcam_explorer"]
