"""Analysis: what a trained model relies on.

``attribution`` (Captum: which cue, frame or flow, drives a decision),
``attention`` (read-outs of RCAM's gates and the BPM pyramids from a trace) and
``hazards`` (which synthetic trap, look-alike or moving background, caught a
model). They may use the model, data and training layers, never the course layer.
"""

from .attention import (
    CONTRAST_COLUMNS,
    EXCHANGE_PANELS,
    attention_table,
    attention_vectors,
    cell_weights,
    contrast_summary,
    energy_change,
    exchange_maps,
    gate_spread,
    inside_outside,
    object_contrast,
    pyramid_energy,
    pyramid_object_contrast,
    selective_channels,
    typical_sample,
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
from .hazards import (
    HAZARD_REGIONS,
    region_hit_rates,
)

__all__ = [
    "CONTRAST_COLUMNS",
    "CueAttribution",
    "DEFAULT_REGIONS",
    "EXCHANGE_PANELS",
    "HAZARD_REGIONS",
    "METHODS",
    "RegionScore",
    "as_region",
    "attention_table",
    "attention_vectors",
    "attribute",
    "cell_weights",
    "contrast_summary",
    "cue_contributions",
    "default_baselines",
    "energy_change",
    "exchange_maps",
    "gate_spread",
    "inside_outside",
    "integrated_gradients",
    "layer_gradcam",
    "object_contrast",
    "occlusion",
    "predicted_region",
    "pyramid_energy",
    "pyramid_object_contrast",
    "region_hit_rates",
    "selective_channels",
    "stage_layer",
    "summarise_cues",
    "typical_sample",
]
