"""The FSNet model, its configuration, official-weight mapping and fast predictor."""

from .config import FSNetConfig
from .fsnet import FSNet, FSNetOutput, FSNetTrace, StageTrace
from .official import (
    CheckpointMismatch,
    load_official_weights,
    official_key_map,
    to_official_state_dict,
)

__all__ = [
    "CheckpointMismatch",
    "FSNet",
    "FSNetConfig",
    "FSNetOutput",
    "FSNetTrace",
    "StageTrace",
    "load_official_weights",
    "official_key_map",
    "to_official_state_dict",
]
