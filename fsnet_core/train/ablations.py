"""The paper's ablation variants (Tables 3-5) as training configurations on the smoke budget.

Each variant differs from the full model in one place: what the two
streams see (``stages``), whether RCAM gates the exchange, how many BPMs are
stacked, or which direction RCAM and BPM work in. Everything else is the
``smoke`` preset, with four BPMs as in the paper's FSNet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import TrainConfig


@dataclass(frozen=True)
class Variant:
    """One ablation: the paper's name for it, its table, and what it changes.

    ``model`` holds the :class:`~fsnet_core.model.config.FSNetConfig` fields that
    differ from the full model (:data:`FULL`); ``stages``, when given, replaces the
    preset's stages (what the two streams see).
    """

    label: str
    table: str
    model: dict[str, Any] = field(default_factory=dict)
    stages: tuple[str, ...] | None = None

    def config(self, base: TrainConfig) -> TrainConfig:
        """``base`` with the full model's architecture changed as this variant says."""
        model = base.model.replace(**{**FULL, **self.model})
        return base.replace(model=model, stages=self.stages or base.stages)


# The paper's FSNet, on the smoke preset's backbone and width.
FULL: dict[str, Any] = {"num_bpm": 4, "rcam": "full", "bpm": "both"}

VARIANTS: dict[str, Variant] = {
    "appearance": Variant("App.", "3", stages=("rgb",)),
    "motion": Variant("Mo.", "3", stages=("flow",)),
    "vanilla": Variant("Vanilla", "3", {"rcam": "none", "num_bpm": 0}),
    "rcam": Variant("Rel. (N = 0)", "3, 4", {"num_bpm": 0}),
    "bpm": Variant("Bi-Purf.", "3", {"rcam": "none"}),
    "full": Variant("FSNet (N = 4, full duplex)", "3, 4, 5"),
    "bpm2": Variant("N = 2", "4", {"num_bpm": 2}),
    "a2m_purify": Variant(
        "App. => Mo. | (App.+Mo.) => Mo.",
        "5",
        {"rcam": "appearance_to_motion", "bpm": "purify"},
    ),
    "a2m_enrich": Variant(
        "App. => Mo. | (App.+Mo.) <= Mo.",
        "5",
        {"rcam": "appearance_to_motion", "bpm": "enrich"},
    ),
    "m2a_purify": Variant(
        "App. <= Mo. | (App.+Mo.) => Mo.",
        "5",
        {"rcam": "motion_to_appearance", "bpm": "purify"},
    ),
    "m2a_enrich": Variant(
        "App. <= Mo. | (App.+Mo.) <= Mo.",
        "5",
        {"rcam": "motion_to_appearance", "bpm": "enrich"},
    ),
}


def ablation_config(variant: str, **overrides: Any) -> TrainConfig:
    """The smoke preset changed as ``variant`` says (then by ``overrides``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ablation variant {variant!r}; choose one of {sorted(VARIANTS)}")
    base = TrainConfig.preset("smoke", progress=False)
    return VARIANTS[variant].config(base).replace(**overrides)


__all__ = ["FULL", "VARIANTS", "Variant", "ablation_config"]
