"""The paper's ablation variants (Tables 3-5) as training configurations on the smoke budget.

Each variant differs from the full model in one place: what the two
streams see (``stages``), whether RCAM gates the exchange, how many BPMs are
stacked, or which direction RCAM and BPM work in. Everything else is the
``smoke`` preset, with four BPMs as in the paper's FSNet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import TrainConfig


@dataclass(frozen=True)
class Variant:
    """One ablation: the paper's name for it, its table, and what it changes."""

    label: str
    table: str
    changes: dict[str, Any]


FULL = {"num_bpm": 4, "rcam": "full", "bpm": "both"}

VARIANTS: dict[str, Variant] = {
    "appearance": Variant("App.", "3", {**FULL, "stages": ("rgb",)}),
    "motion": Variant("Mo.", "3", {**FULL, "stages": ("flow",)}),
    "vanilla": Variant("Vanilla", "3", {**FULL, "rcam": "none", "num_bpm": 0}),
    "rcam": Variant("Rel. (N = 0)", "3, 4", {**FULL, "num_bpm": 0}),
    "bpm": Variant("Bi-Purf.", "3", {**FULL, "rcam": "none"}),
    "full": Variant("FSNet (N = 4, full duplex)", "3, 4, 5", dict(FULL)),
    "bpm2": Variant("N = 2", "4", {**FULL, "num_bpm": 2}),
    "a2m_purify": Variant(
        "App. => Mo. | (App.+Mo.) => Mo.",
        "5",
        {**FULL, "rcam": "appearance_to_motion", "bpm": "purify"},
    ),
    "a2m_enrich": Variant(
        "App. => Mo. | (App.+Mo.) <= Mo.",
        "5",
        {**FULL, "rcam": "appearance_to_motion", "bpm": "enrich"},
    ),
    "m2a_purify": Variant(
        "App. <= Mo. | (App.+Mo.) => Mo.",
        "5",
        {**FULL, "rcam": "motion_to_appearance", "bpm": "purify"},
    ),
    "m2a_enrich": Variant(
        "App. <= Mo. | (App.+Mo.) <= Mo.",
        "5",
        {**FULL, "rcam": "motion_to_appearance", "bpm": "enrich"},
    ),
}


def ablation_config(variant: str, **overrides: Any) -> TrainConfig:
    """The smoke preset changed as ``variant`` says (then by ``overrides``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ablation variant {variant!r}; choose one of {sorted(VARIANTS)}")
    return TrainConfig.preset("smoke", progress=False, **{**VARIANTS[variant].changes, **overrides})


__all__ = ["VARIANTS", "Variant", "ablation_config"]
