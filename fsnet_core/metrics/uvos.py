"""DAVIS-2016 region similarity J and boundary accuracy F, and their statistics.

The numbers match the official DAVIS-2016 evaluation code (``davis/measures``
and ``davis/dataset/utils.py`` of fperazzi/davis) and ``davis2017-evaluation``:

* J is the intersection over union, 1 when both masks are empty.
* F is the F-measure of boundary precision and recall. Boundaries are the
  one-pixel maps of Martin's ``seg2bmap`` (offset half a pixel towards the
  origin) and a boundary pixel counts as matched when a boundary pixel of the
  other mask lies within ``ceil(bound_th * image diagonal)`` pixels (a disk:
  ``dx**2 + dy**2 <= r**2``, as ``skimage.morphology.disk`` draws it).
* Statistics per sequence: mean, recall (fraction of frames above 0.5) and
  decay (mean of the first quarter minus mean of the last, with the quarters'
  bounds rounded from ``linspace`` exactly as the official code does, so the
  bins overlap by one frame).

Speed comes from computing boundaries and dilations only inside the bounding
box of the two masks, which gives the same result as the full frame.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import cv2
import numpy as np

__all__ = [
    "binarize",
    "boundary_map",
    "boundary_tolerance",
    "decay",
    "disk",
    "f_boundary",
    "jaccard",
    "recall",
    "sequence_statistics",
]


def binarize(prob: np.ndarray) -> np.ndarray:
    """Foreground where a probability map exceeds half of its range (8-bit: >= 128).

    The authors binarise FSNet's maps at 0.5 ("threshold = 0.5", following
    AnDiff, which keeps scores ``> threshold``; FSNet issue #11). The maps
    are saved as 8-bit images of the score (``score * 255``), so a pixel is
    foreground when ``value / 255 > 0.5``, i.e. ``value >= 128``; likewise
    ``>= 32768`` for 16-bit maps and ``> 0.5`` for float maps in [0, 1].
    Boolean masks are returned unchanged.
    """
    prob = np.asarray(prob)
    if prob.dtype == bool:
        return prob
    if np.issubdtype(prob.dtype, np.unsignedinteger):
        return prob > np.iinfo(prob.dtype).max // 2
    return prob > 0.5


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred).astype(bool, copy=False)
    gt = np.asarray(gt).astype(bool, copy=False)
    if pred.ndim != 2 or pred.shape != gt.shape:
        raise ValueError(f"masks must be 2-D and of equal shape, got {pred.shape} and {gt.shape}")
    return pred, gt


def jaccard(pred: np.ndarray, gt: np.ndarray) -> float:
    """Region similarity J: |pred & gt| / |pred | gt|, and 1 when both are empty."""
    pred, gt = _check_pair(pred, gt)
    union = np.count_nonzero(pred | gt)
    if union == 0:
        return 1.0
    return np.count_nonzero(pred & gt) / union


def boundary_tolerance(shape: tuple[int, ...], bound_th: float = 0.008) -> int:
    """Matching radius in pixels: ``bound_th`` itself if >= 1, else ceil(bound_th * diagonal)."""
    if bound_th >= 1:
        return int(bound_th)
    return int(math.ceil(bound_th * math.hypot(shape[0], shape[1])))


@lru_cache(maxsize=16)
def disk(radius: int) -> np.ndarray:
    """Disk structuring element (uint8): ``x**2 + y**2 <= radius**2``, like skimage's."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    element = (x * x + y * y <= radius * radius).astype(np.uint8)
    element.setflags(write=False)
    return element


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel boundary of a binary mask, as DAVIS's ``seg2bmap`` draws it.

    A pixel is on the boundary when it differs from its east, south or
    south-east neighbour; on the last row only the east neighbour counts, on
    the last column only the south one, and the bottom-right pixel never does.
    """
    seg = np.asarray(mask, dtype=bool)
    b = np.zeros_like(seg)
    b[:, :-1] |= seg[:, :-1] ^ seg[:, 1:]
    b[:-1, :] |= seg[:-1, :] ^ seg[1:, :]
    b[:-1, :-1] |= seg[:-1, :-1] ^ seg[1:, 1:]
    # Last row: only the east neighbour; last column: only the south neighbour;
    # the bottom-right pixel is cleared (as seg2bmap does).
    b[-1, :] = False
    b[-1, :-1] = seg[-1, :-1] ^ seg[-1, 1:]
    b[:, -1] = False
    b[:-1, -1] = seg[:-1, -1] ^ seg[1:, -1]
    return b


def f_boundary(pred: np.ndarray, gt: np.ndarray, bound_th: float = 0.008) -> float:
    """Boundary accuracy F (DAVIS): F-measure of boundary precision and recall.

    Precision is the fraction of the prediction's boundary pixels within the
    tolerance of the ground-truth boundary; recall the converse. Empty
    boundaries follow the official conventions (both empty: F = 1; one empty:
    F = 0).
    """
    pred, gt = _check_pair(pred, gt)
    radius = boundary_tolerance(pred.shape, bound_th)
    fg_boundary, gt_boundary = _cropped_boundaries(pred, gt)
    n_fg = np.count_nonzero(fg_boundary)
    n_gt = np.count_nonzero(gt_boundary)
    if n_fg == 0 or n_gt == 0:
        # Official: (P, R) = (1, 0), (0, 1) or (1, 1); F = 0, 0 or 1.
        return 1.0 if n_fg == n_gt else 0.0
    kernel = disk(radius)
    fg_dil = cv2.dilate(fg_boundary.view(np.uint8), kernel)
    gt_dil = cv2.dilate(gt_boundary.view(np.uint8), kernel)
    precision = np.count_nonzero(fg_boundary & gt_dil.view(bool)) / n_fg
    recall_ = np.count_nonzero(gt_boundary & fg_dil.view(bool)) / n_gt
    if precision + recall_ == 0:
        return 0.0
    return 2 * precision * recall_ / (precision + recall_)


def _cropped_boundaries(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundary maps of both masks restricted to a box that holds all their boundary pixels.

    A zero margin of one pixel on every side that is inside the frame gives
    the same boundary pixels as ``seg2bmap`` on the full frame: the margin
    rows and columns compare zeros with zeros, and where the box reaches the
    frame's last row or column the special rule applies to both alike.
    """
    h, w = pred.shape
    rows = np.flatnonzero(pred.any(axis=1) | gt.any(axis=1))
    if rows.size == 0:
        empty = np.zeros((0, 0), dtype=bool)
        return empty, empty
    cols = np.flatnonzero(pred.any(axis=0) | gt.any(axis=0))
    r0, c0 = max(rows[0] - 1, 0), max(cols[0] - 1, 0)
    r1, c1 = min(rows[-1] + 2, h), min(cols[-1] + 2, w)
    p, g = pred[r0:r1, c0:c1], gt[r0:r1, c0:c1]
    return boundary_map(p), boundary_map(g)


def recall(values: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of frames scoring strictly above ``threshold`` (a NaN frame counts as below)."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.mean(values > threshold)) if values.size else float("nan")


def decay(values: np.ndarray, n_bins: int = 4) -> float:
    """First-quarter mean minus last-quarter mean, with DAVIS-2016's bin bounds.

    Bounds are ``round(linspace(1, n, n_bins + 1)) - 1`` and bin ``i`` spans
    ``values[ids[i] : ids[i + 1] + 1]`` (adjacent bins share a frame). The
    official code casts the bounds to uint8, which only matters beyond 256
    frames (no DAVIS sequence has that many); here they stay exact.
    """
    values = np.asarray(values, dtype=np.float64)
    ids = (np.round(np.linspace(1, len(values), n_bins + 1) + 1e-10) - 1).astype(np.int64)
    bins = [values[ids[i] : ids[i + 1] + 1] for i in range(n_bins)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return float(np.nanmean(bins[0]) - np.nanmean(bins[-1]))


def sequence_statistics(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, recall, decay) of one sequence's per-frame scores, NaNs ignored.

    ``values`` holds the scores of the evaluated frames only (DAVIS-2016
    evaluates frames 1 .. n-2, see :mod:`fsnet_core.metrics.evaluate`).
    """
    values = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = float(np.nanmean(values)) if values.size else float("nan")
    return mean, recall(values), decay(values) if values.size else float("nan")
