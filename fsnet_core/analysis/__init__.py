"""Analysis: what a trained model relies on.

``attribution`` (Captum: which cue, frame or flow, drives a decision),
``attention`` (read-outs of RCAM's gates and the BPM pyramids from a trace),
``degraded`` (RCAM's gates with one cue broken: do they respond?) and
``hazards`` (which synthetic trap, look-alike or moving background, caught a
model). They may use the model, data and training layers, never the course layer.
"""

from .attention import (
    EXCHANGE_PANELS,
    INERT_GATE_DISTANCE,
    attention_table,
    attention_vectors,
    exchange_maps,
    gate_movement,
    gate_spread,
    pyramid_energy,
    pyramid_object_contrast,
    selective_channels,
)
from .attribution import (
    DEFAULT_REGIONS,
    METHODS,
    CueAttribution,
    RegionScore,
    as_region,
    attribute,
    cue_contributions,
    default_baselines,
    integrated_gradients,
    layer_gradcam,
    occlusion,
    predicted_region,
    stage_layer,
    summarise_cues,
)
from .degraded import (
    DEGRADATIONS,
    CueResponse,
    Degradation,
    cue_response,
    degrade,
)
from .hazards import (
    HAZARD_REGIONS,
    region_hit_rates,
)

__all__ = [
    "CueAttribution",
    "CueResponse",
    "DEFAULT_REGIONS",
    "DEGRADATIONS",
    "Degradation",
    "EXCHANGE_PANELS",
    "HAZARD_REGIONS",
    "INERT_GATE_DISTANCE",
    "METHODS",
    "RegionScore",
    "as_region",
    "attention_table",
    "attention_vectors",
    "attribute",
    "cue_contributions",
    "cue_response",
    "default_baselines",
    "degrade",
    "exchange_maps",
    "gate_movement",
    "gate_spread",
    "integrated_gradients",
    "layer_gradcam",
    "occlusion",
    "predicted_region",
    "pyramid_energy",
    "pyramid_object_contrast",
    "region_hit_rates",
    "selective_channels",
    "stage_layer",
    "summarise_cues",
]
