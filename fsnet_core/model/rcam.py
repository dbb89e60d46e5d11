"""RCAM: the relational cross-attention module (paper Eq. 1-3).

Each modality computes a channel attention vector (a *gate*) from its own
features (global average pooling, a 1x1 convolution with bias, a sigmoid) and
hands it to the *other* modality. Neither stream is changed: the gated
features are added into the merge stream, which is what the decoder of the
fused branch sees.

The two gates, in every vocabulary that names them (:data:`RCAM_GATES`; one
name, the code name, is used by the module attribute, the configuration's
``rcam`` mode, the trace and the plots):

==============  ====================  ============  ===========  =======================
paper           code name             authors'      Table 5      plain English
==============  ====================  ============  ===========  =======================
Eq. 1, on X_k   motion_to_appearance  atten_flow_k  App. <= Mo.  motion gates appearance
Eq. 2, on Y_k   appearance_to_motion  atten_rgb_k   App. => Mo.  appearance gates motion
==============  ====================  ============  ===========  =======================

with X = appearance, Y = motion, V = a pooled feature: Eq. 1 is
Q^X_k = X_k * sigma[theta(V^Y_k)], Eq. 2 is Q^Y_k = Y_k * sigma[phi(V^X_k)].

The trace (:class:`fsnet_core.model.architecture.StageTrace`) stores each gate under
its code name and the feature it produced as ``gated_appearance`` (Q^X_k) and
``gated_motion`` (Q^Y_k). A mode switches gates on: ``"full"`` both (App. <=>
Mo.), a gate's code name only that gate, ``"none"`` neither (the features are
added ungated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .config import RCAM_MODES, RCAMMode, check_choice


@dataclass(frozen=True)
class Gate:
    """One of RCAM's two gates, named in each vocabulary that refers to it."""

    name: str  # code name: RCAM attribute, ``rcam`` mode, trace field, plot key
    source: str  # the stream whose pooled feature computes the gate
    target: str  # the stream whose feature the gate re-weights
    equation: str  # where the paper defines it
    paper: str  # the paper's formula (Q = gated feature, V = pooled feature)
    feature: str  # the paper's symbol of the target feature
    gated_feature: str  # the paper's symbol of the gated feature
    authors: str  # the authors' module name (``lib/fsnet.py``), ``k`` = stage
    arrow: str  # Table 5's arrow for the simplex model with only this gate
    label: str  # plain English, for plots and widgets

    @property
    def gated(self) -> str:
        """The trace field holding what this gate produced (the gated target feature)."""
        return f"gated_{self.target}"


MOTION_TO_APPEARANCE = Gate(
    name="motion_to_appearance",
    source="motion",
    target="appearance",
    equation="Eq. 1",
    paper="Q^X_k = X_k * sigma[theta(V^Y_k)]",
    feature="X_k",
    gated_feature="Q^X_k",
    authors="atten_flow_k",
    arrow="App. <= Mo.",
    label="motion gates appearance",
)
APPEARANCE_TO_MOTION = Gate(
    name="appearance_to_motion",
    source="appearance",
    target="motion",
    equation="Eq. 2",
    paper="Q^Y_k = Y_k * sigma[phi(V^X_k)]",
    feature="Y_k",
    gated_feature="Q^Y_k",
    authors="atten_rgb_k",
    arrow="App. => Mo.",
    label="appearance gates motion",
)
RCAM_GATES: tuple[Gate, Gate] = (MOTION_TO_APPEARANCE, APPEARANCE_TO_MOTION)
"""Both gates in the paper's order (Eq. 1, Eq. 2)."""

RCAM_MODE_ARROWS: dict[str, str] = {
    "full": "App. <=> Mo.",
    APPEARANCE_TO_MOTION.name: APPEARANCE_TO_MOTION.arrow,
    MOTION_TO_APPEARANCE.name: MOTION_TO_APPEARANCE.arrow,
    "none": "vanilla (no attention)",
}
"""Table 5's arrow for every ``rcam`` mode."""


def gates_of(mode: RCAMMode) -> tuple[Gate, ...]:
    """The gates a mode switches on, in the paper's order."""
    check_choice("RCAM mode", mode, RCAM_MODES)
    return tuple(g for g in RCAM_GATES if mode in ("full", g.name))


class ChannelAttention(nn.Module):
    """sigmoid(conv1x1(GAP(x))): one weight in (0, 1) per channel, no reduction."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(F.adaptive_avg_pool2d(x, 1)))


class RCAMOutput(NamedTuple):
    """The fused contribution, both gated features and both gates (``N x C x 1 x 1``).

    A gate that is off is ``None`` and its target feature passes ungated.
    """

    fused: torch.Tensor
    gated_appearance: torch.Tensor  # Q^X_k
    gated_motion: torch.Tensor  # Q^Y_k
    motion_to_appearance: torch.Tensor | None  # Eq. 1's gate, the authors' atten_flow_k
    appearance_to_motion: torch.Tensor | None  # Eq. 2's gate, the authors' atten_rgb_k


class RCAM(nn.Module):
    """Cross-modal channel attention at one stage.

    ``mode`` is one of :data:`~fsnet_core.model.config.RCAM_MODES`: ``"full"``
    (both gates), ``"appearance_to_motion"`` or ``"motion_to_appearance"``
    (only that gate, see :data:`RCAM_GATES`) or ``"none"`` (the features are
    added ungated). Any other value raises ``ValueError``.
    """

    def __init__(self, channels: int, mode: RCAMMode = "full") -> None:
        super().__init__()
        on = {g.name for g in gates_of(mode)}
        self.mode = mode
        # Attribute names are the gates' code names (and this order the state-dict order).
        self.appearance_to_motion = (
            ChannelAttention(channels) if APPEARANCE_TO_MOTION.name in on else None
        )
        self.motion_to_appearance = (
            ChannelAttention(channels) if MOTION_TO_APPEARANCE.name in on else None
        )

    def forward(
        self, appearance: torch.Tensor, motion: torch.Tensor, merged: torch.Tensor | None = None
    ) -> RCAMOutput:
        """Gate each modality with the other's attention and add both onto ``merged``."""
        on_appearance = self.motion_to_appearance(motion) if self.motion_to_appearance else None
        on_motion = self.appearance_to_motion(appearance) if self.appearance_to_motion else None
        gated_appearance = appearance if on_appearance is None else appearance * on_appearance
        gated_motion = motion if on_motion is None else motion * on_motion
        if merged is None:
            fused = gated_appearance + gated_motion
        else:
            fused = merged + gated_appearance + gated_motion
        return RCAMOutput(fused, gated_appearance, gated_motion, on_appearance, on_motion)
