"""V-SOD metrics (S, E, F, MAE) aggregated the way the DAVSOD toolbox does.

Per-frame scores come from ``pysodmetrics`` (``py_sod_metrics``, the ``vsod`` extra: it
pins ``opencv-python-headless<5``, which would replace Colab's OpenCV), which
reproduces the MATLAB code of the DAVSOD toolbox the FSNet authors used
(``eval/main_VSOD.m``): maps are min-max normalised to [0, 1], ground truth
is ``> 128``, F uses beta^2 = 0.3, the adaptive threshold is twice the map's
mean, and the F/E curves run over 256 thresholds.

Aggregation, as in ``main_VSOD.m``:

* per sequence: the mean over its frames of S, MAE, adaptive F and E, and
  the mean F and E *curves*; the sequence's max/mean F (E) are the max/mean
  of its mean curve;
* per dataset: the mean over sequences of S, MAE, adaptive F and E; the
  F and E curves are averaged over sequences first, and max/mean F (E) are
  taken over that averaged curve (not the mean of per-sequence maxima).

Two documented departures from the MATLAB script: (1) its adaptive
E-measure is stored at index ``i`` instead of ``i-1``, so its per-sequence
mean includes a spurious zero and is low by a factor n/(n+1) (n evaluated
frames); here adaptive E is the plain mean over the evaluated frames (the
paper reports only S, max E, max F and MAE, which the slip does not touch);
(2) a constant map normalises to all zeros in MATLAB's ``mapminmax`` but to
``value / 255`` in pysodmetrics, which is kept (it only matters for
constant, non-zero maps).

Which frames are scored (the toolbox skips each sequence's first and last
ground-truth frame) is decided by :mod:`fsnet_core.metrics.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..extras import require

__all__ = ["VSOD_KEYS", "SequenceScores", "aggregate_sequences", "score_sequence"]

VSOD_KEYS = ("S", "maxE", "meanE", "adpE", "maxF", "meanF", "adpF", "MAE")
"""Keys of every V-SOD result, in the order tables print them."""


@dataclass(frozen=True)
class SequenceScores:
    """One sequence's V-SOD results and the mean curves needed to aggregate sequences."""

    values: dict[str, float]  # the VSOD_KEYS
    f_curve: np.ndarray  # mean F-measure over frames, per threshold (256)
    e_curve: np.ndarray  # mean E-measure over frames, per threshold (256)
    per_frame: dict[str, np.ndarray]  # S, MAE, adpF, adpE of each scored frame


def score_sequence(frames: Iterable[tuple[np.ndarray, np.ndarray]]) -> SequenceScores:
    """Score one sequence from (prediction, ground truth) uint8 pairs.

    Predictions are grey maps (0-255), min-max normalised per frame;
    ground truths are 0-255 masks binarised at ``> 128``.
    """
    sod = require("py_sod_metrics", "V-SOD scores (S, E, F, MAE)")

    sm, em, mae = sod.Smeasure(), sod.Emeasure(), sod.MAE()
    f_handler = sod.FmeasureHandler(with_dynamic=True, with_adaptive=True, beta=0.3)
    fm = sod.FmeasureV2({"fm": f_handler})
    for pred, gt in frames:
        for metric in (sm, em, mae, fm):
            metric.step(pred=pred, gt=gt)
    if not sm.sms:
        raise ValueError("a sequence needs at least one frame to score")
    e = em.get_results()["em"]
    f = fm.get_results()["fm"]
    f_curve = np.asarray(f["dynamic"], dtype=np.float64)
    e_curve = np.asarray(e["curve"], dtype=np.float64)
    values = {
        "S": float(sm.get_results()["sm"]),
        "maxE": float(e_curve.max()),
        "meanE": float(e_curve.mean()),
        "adpE": float(e["adp"]),
        "maxF": float(f_curve.max()),
        "meanF": float(f_curve.mean()),
        "adpF": float(f["adaptive"]),
        "MAE": float(mae.get_results()["mae"]),
    }
    per_frame = {
        "S": np.asarray(sm.sms, dtype=np.float64),
        "MAE": np.asarray(mae.maes, dtype=np.float64),
        "adpF": np.asarray(f_handler.adaptive_results, dtype=np.float64).ravel(),
        "adpE": np.asarray(em.adaptive_ems, dtype=np.float64),
    }
    return SequenceScores(values, f_curve, e_curve, per_frame)


def aggregate_sequences(scores: Mapping[str, SequenceScores]) -> dict[str, float]:
    """Dataset-level V-SOD results: sequence means, max/mean over the mean curves."""
    if not scores:
        raise ValueError("no sequences to aggregate")
    seqs = list(scores.values())
    f_curve = np.mean([s.f_curve for s in seqs], axis=0)
    e_curve = np.mean([s.e_curve for s in seqs], axis=0)

    def mean_of(key: str) -> float:
        return float(np.mean([s.values[key] for s in seqs]))

    return {
        "S": mean_of("S"),
        "maxE": float(e_curve.max()),
        "meanE": float(e_curve.mean()),
        "adpE": mean_of("adpE"),
        "maxF": float(f_curve.max()),
        "meanF": float(f_curve.mean()),
        "adpF": mean_of("adpF"),
        "MAE": mean_of("MAE"),
    }
