"""The FSNet model, its configuration, official-weight mapping and its weights descriptor."""

from .config import FSNetConfig
from .fsnet import FSNet, FSNetOutput, FSNetTrace, StageTrace
from .official import (
    CheckpointMismatch,
    load_official_weights,
    official_key_map,
    to_official_state_dict,
)
from .rcam import APPEARANCE_TO_MOTION, MOTION_TO_APPEARANCE, RCAM_GATES, Gate
from .weights import FSNetWeights, fsnet

__all__ = [
    "APPEARANCE_TO_MOTION",
    "CheckpointMismatch",
    "FSNet",
    "FSNetConfig",
    "FSNetOutput",
    "FSNetTrace",
    "FSNetWeights",
    "Gate",
    "MOTION_TO_APPEARANCE",
    "RCAM_GATES",
    "StageTrace",
    "load_official_weights",
    "fsnet",
    "official_key_map",
    "to_official_state_dict",
]
