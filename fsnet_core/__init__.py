"""FSNet Lab: FSNet (Ji et al., ICCV 2021) for teaching and research.

The public API is re-exported here; nothing is defined in this file.
"""

from .inference.predictor import FSNetPredictor, fold_batchnorm
from .io import WeightsUnavailable
from .model import (
    CheckpointMismatch,
    FSNet,
    FSNetConfig,
    FSNetOutput,
    FSNetTrace,
    FSNetWeights,
    fsnet,
    load_official_weights,
    official_key_map,
    to_official_state_dict,
)
from .model.serialization import load_model, save_model

__all__ = [
    "CheckpointMismatch",
    "FSNet",
    "FSNetConfig",
    "FSNetOutput",
    "FSNetPredictor",
    "FSNetTrace",
    "FSNetWeights",
    "WeightsUnavailable",
    "fold_batchnorm",
    "fsnet",
    "load_model",
    "load_official_weights",
    "official_key_map",
    "save_model",
    "to_official_state_dict",
]
__version__ = "0.1.0"
