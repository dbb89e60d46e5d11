"""One place for every knob of the FSNet architecture.

``FSNetConfig()`` is the paper's model (ResNet-50 streams, 32 channels, four
full-duplex BPMs, full-duplex RCAM). The other values exist so that notebooks
can ablate the design on a CPU: smaller backbones, fewer BPMs, one-way
attention or purification.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

Backbone = Literal["resnet18", "resnet34", "resnet50"]
RCAMMode = Literal["full", "appearance_to_motion", "motion_to_appearance", "none"]
BPMMode = Literal["both", "enrich", "purify"]

# The same choices as tuples, read off the types so that the two cannot disagree.
BACKBONES: tuple[str, ...] = get_args(Backbone)
RCAM_MODES: tuple[str, ...] = get_args(RCAMMode)
BPM_MODES: tuple[str, ...] = get_args(BPMMode)


def check_choice(what: str, value: object, valid: tuple[str, ...]) -> None:
    """Raise ``ValueError`` naming the valid choices unless ``value`` is one of them."""
    if value not in valid:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, valid))}; got {value!r}")


@dataclass(frozen=True)
class FSNetConfig:
    """Architecture of an FSNet.

    Attributes:
        backbone: depth of the three ResNet streams (appearance, motion, merge).
        channels: width every stage is reduced to before the BPMs (paper: 32).
        num_bpm: number of stacked bidirectional purification modules (0 allowed).
        rcam: which of RCAM's two gates are on (the names and their paper
            counterparts are tabled in :mod:`fsnet_core.model.rcam`). ``"full"``
            (App. <=> Mo.) uses both; ``"motion_to_appearance"`` (Eq. 1, App. <= Mo.)
            only lets motion gate appearance; ``"appearance_to_motion"`` (Eq. 2,
            App. => Mo.) only lets appearance gate motion; ``"none"`` adds the two
            features ungated (vanilla fusion).
        bpm: which purification each BPM performs. ``"both"`` is full duplex;
            ``"enrich"`` only lets motion enrich the fused features (Eq. 5,
            (App.+Mo.) <= Mo.); ``"purify"`` only lets fused features purify motion
            (Eq. 6, (App.+Mo.) => Mo.).
        ppm_bins: pooled grid sizes of the pyramid pooling modules in the decoders.
    """

    backbone: Backbone = "resnet50"
    channels: int = 32
    num_bpm: int = 4
    rcam: RCAMMode = "full"
    bpm: BPMMode = "both"
    ppm_bins: tuple[int, ...] = (1, 2, 3, 6)

    def __post_init__(self) -> None:
        check_choice("backbone", self.backbone, BACKBONES)
        check_choice("rcam", self.rcam, RCAM_MODES)
        check_choice("bpm", self.bpm, BPM_MODES)
        if self.num_bpm < 0:
            raise ValueError(f"num_bpm must be >= 0, got {self.num_bpm}")
        if self.channels < 4 or self.channels % 4:
            raise ValueError(f"channels must be a positive multiple of 4, got {self.channels}")
        object.__setattr__(self, "ppm_bins", tuple(int(b) for b in self.ppm_bins))

    @property
    def stage_channels(self) -> tuple[int, int, int, int, int]:
        """Channels of the stem and of ResNet stages 1-4 for this backbone."""
        expansion = 4 if self.backbone == "resnet50" else 1
        return (64, 64 * expansion, 128 * expansion, 256 * expansion, 512 * expansion)

    @property
    def is_paper(self) -> bool:
        """True for the configuration of the released checkpoint."""
        return self == FSNetConfig()

    def replace(self, **changes: Any) -> FSNetConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ppm_bins"] = list(self.ppm_bins)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FSNetConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "ppm_bins" in known:
            known["ppm_bins"] = tuple(known["ppm_bins"])
        return cls(**known)
