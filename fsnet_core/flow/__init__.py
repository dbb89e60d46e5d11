"""Optical flow: file formats and colour coding (:mod:`.formats`), estimators (:mod:`.estimators`).

Nothing here knows about datasets; computing and caching the flow of a whole
dataset lives in :mod:`fsnet_core.data.flow_cache`.
"""

from .estimators import (
    METHODS,
    DISEstimator,
    FarnebackEstimator,
    FlowEstimator,
    RAFTEstimator,
    default_method,
    estimate_flow,
    make_estimator,
)
from .formats import (
    FLO_MAGIC,
    UNKNOWN_FLOW,
    end_point_error,
    flow_to_color,
    photometric_error,
    read_flo,
    write_flo,
)

__all__ = [
    "FLO_MAGIC",
    "METHODS",
    "UNKNOWN_FLOW",
    "DISEstimator",
    "FarnebackEstimator",
    "FlowEstimator",
    "RAFTEstimator",
    "end_point_error",
    "estimate_flow",
    "flow_to_color",
    "default_method",
    "make_estimator",
    "photometric_error",
    "read_flo",
    "write_flo",
]
