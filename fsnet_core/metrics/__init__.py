"""Evaluation metrics: DAVIS-2016 U-VOS (J, F, T) and DAVSOD V-SOD (S, E, F, MAE)."""

from .uvos import binarize, boundary_map, f_boundary, jaccard, sequence_statistics

__all__ = ["binarize", "boundary_map", "f_boundary", "jaccard", "sequence_statistics"]
