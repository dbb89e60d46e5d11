"""Evaluation metrics: DAVIS-2016 U-VOS (J, F, T) and DAVSOD V-SOD (S, E, F, MAE).

* :mod:`.uvos` - J, F and their mean/recall/decay, as the DAVIS-2016 code computes them;
* :mod:`.stability` - temporal stability T in pure NumPy (the official needs C++);
* :mod:`.vsod` - S, E, F, MAE via pysodmetrics, aggregated like the DAVSOD toolbox;
* :mod:`.evaluate` - folder evaluation, tables, JSON and pandas DataFrames.
"""

from .evaluate import EvaluationResult, evaluate_folder
from .stability import sequence_temporal_stability, temporal_stability
from .uvos import binarize, boundary_map, f_boundary, jaccard, sequence_statistics
from .vsod import aggregate_sequences, score_sequence

__all__ = [
    "EvaluationResult",
    "aggregate_sequences",
    "binarize",
    "boundary_map",
    "evaluate_folder",
    "f_boundary",
    "jaccard",
    "score_sequence",
    "sequence_statistics",
    "sequence_temporal_stability",
    "temporal_stability",
]
