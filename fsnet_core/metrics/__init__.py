"""Evaluation metrics: DAVIS-2016 U-VOS (J, F, T) and DAVSOD V-SOD (S, E, F, MAE).

* :mod:`.uvos` - J, F and their mean/recall/decay, as the DAVIS-2016 code computes them;
* :mod:`.stability` - temporal stability T in pure NumPy (the official needs C++);
* :mod:`.vsod` - S, E, F, MAE via pysodmetrics, aggregated like the DAVSOD toolbox;
* :mod:`.evaluate` - folder evaluation, tables, JSON and pandas DataFrames;
* :mod:`.reference` - the official DAVIS code's functions, re-implemented line for line for
  the parity tests (a namespace: ``metrics.reference.db_eval_iou``).
"""

from . import reference
from .evaluate import (
    DAVIS2016_NO_T,
    TASKS,
    UVOS_KEYS,
    EvaluationResult,
    evaluate_folder,
    scored_frames,
)
from .stability import (
    T_SCALE,
    ContourDescriptor,
    describe_mask,
    mask_contours,
    mean_temporal_stability,
    sequence_temporal_stability,
    temporal_stability,
)
from .uvos import (
    binarize,
    boundary_map,
    boundary_tolerance,
    decay,
    disk,
    f_boundary,
    jaccard,
    recall,
    sequence_statistics,
)
from .vsod import (
    VSOD_KEYS,
    SequenceScores,
    aggregate_sequences,
    score_sequence,
)

__all__ = [
    "reference",
    "ContourDescriptor",
    "DAVIS2016_NO_T",
    "EvaluationResult",
    "SequenceScores",
    "TASKS",
    "T_SCALE",
    "UVOS_KEYS",
    "VSOD_KEYS",
    "aggregate_sequences",
    "binarize",
    "boundary_map",
    "boundary_tolerance",
    "decay",
    "describe_mask",
    "disk",
    "evaluate_folder",
    "f_boundary",
    "jaccard",
    "mask_contours",
    "mean_temporal_stability",
    "recall",
    "score_sequence",
    "scored_frames",
    "sequence_statistics",
    "sequence_temporal_stability",
    "temporal_stability",
]
