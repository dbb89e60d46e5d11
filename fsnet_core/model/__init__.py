"""The FSNet model: its configuration, wiring, the authors' checkpoint keys, saving and
loading, and the weights descriptor with the builder ``fsnet()`` beside it."""

from .architecture import FSNet, FSNetOutput, FSNetTrace, StageTrace
from .config import FSNetConfig
from .inputs import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    PAPER_SIZE,
    FSNetInputs,
    check_same_shape,
    from_model_input,
    to_model_input,
)
from .official import (
    CheckpointMismatch,
    load_official_weights,
    official_key_map,
    to_official_state_dict,
)
from .rcam import APPEARANCE_TO_MOTION, MOTION_TO_APPEARANCE, RCAM_GATES, Gate
from .serialization import load_model, save_model
from .weights import AUTHORS_CHECKPOINT_SHA256, FSNetWeights, fsnet

__all__ = [
    "AUTHORS_CHECKPOINT_SHA256",
    "APPEARANCE_TO_MOTION",
    "CheckpointMismatch",
    "FSNet",
    "FSNetConfig",
    "FSNetInputs",
    "FSNetOutput",
    "FSNetTrace",
    "FSNetWeights",
    "Gate",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "PAPER_SIZE",
    "MOTION_TO_APPEARANCE",
    "RCAM_GATES",
    "StageTrace",
    "load_model",
    "load_official_weights",
    "check_same_shape",
    "from_model_input",
    "fsnet",
    "official_key_map",
    "save_model",
    "to_model_input",
    "to_official_state_dict",
]
