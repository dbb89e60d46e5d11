"""The evaluation viewer: step through a sequence's predictions against the ground truth.

Why a viewer: a J-mean of 0.7 says little about *where* a model fails.
Moving the frame slider shows which frames drag the score down; moving the
threshold shows how much of the mistake is calibration (the official
protocol binarises at 0.5, :func:`fsnet_core.metrics.binarize`); the CRF box
shows what the authors' DenseCRF post-processing (:mod:`fsnet_core.inference.crf`)
adds. Per-frame J and F are those of :mod:`fsnet_core.metrics.uvos`.
Without DenseCRF installed (the ``crf`` extra) the box is greyed out and the
text says how to add it; everything else works.

Data comes from a dataset root (frames and ground truth, any layout
:func:`fsnet_core.data.layouts.discover_sequences` reads) plus predictions,
either a prediction folder (``PRED/SEQ/FRAME.png``, 8-bit maps as
:func:`fsnet_core.inference.runner.run_inference` writes) or in-memory maps
(``{SEQ: {FRAME: H x W float}}``, as :func:`fsnet_core.inference.runner.predict_sequence`
returns per sequence).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from ...data.layouts import discover_sequences
from ...inference.crf import DSS_CRF, CRFParams, crf_available, crf_missing_message, refine
from ...io import InputError
from ...io.davis import sequence_folders
from ...io.images import image_files, read_map, read_mask, read_rgb
from ...metrics.evaluate import scored_frames
from ...metrics.uvos import f_boundary, jaccard
from ..viz import COLOUR_NAMES, GROUND_TRUTH, PREDICTION, compare_overlay, tile
from .base import LONG_RANGE, PICTURE_WIDTH, PictureViewer

Predictions = str | os.PathLike | Mapping[str, Mapping[str, np.ndarray]]


@dataclass
class ViewerSequence:
    """One sequence as the viewer shows it: frames, probability maps and masks, in order."""

    name: str
    frames: list[str]  # frame names (file stems)
    images: list[np.ndarray]  # H x W x 3 uint8
    probabilities: list[np.ndarray]  # H x W float32 in [0, 1]
    masks: list[np.ndarray | None]  # H x W bool, None where there is no ground truth
    scored: list[bool] = field(default_factory=list)  # frames the official tools score
    _refined: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.frames)

    def probability(self, index: int, crf: bool = False, params: CRFParams = DSS_CRF) -> np.ndarray:
        """Frame ``index``'s map, refined by DenseCRF when ``crf`` (computed once, then kept)."""
        if not crf:
            return self.probabilities[index]
        if index not in self._refined:
            self._refined[index] = refine(self.images[index], self.probabilities[index], params)
        return self._refined[index]


def _as_probability(value: np.ndarray, where: Path | str) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype == np.uint8:
        return value.astype(np.float32) / 255.0
    value = value.astype(np.float32)
    if value.ndim != 2 or value.min(initial=0.0) < 0.0 or value.max(initial=0.0) > 1.0:
        raise InputError(where, f"expected an H x W probability map in [0, 1], got {value.shape}")
    return value


def _folder_predictions(pred_dir: Path) -> dict[str, dict[str, Path]]:
    if not pred_dir.is_dir():
        raise InputError(pred_dir, "prediction folder not found")
    found = {seq.name: image_files(seq, "prediction") for seq in sequence_folders(pred_dir)}
    found = {name: frames for name, frames in found.items() if frames}
    if not found:
        raise InputError(pred_dir, "no SEQ/FRAME.png prediction maps inside")
    return found


def viewer_sequences(
    data_root: str | os.PathLike,
    predictions: Predictions,
    *,
    split: str | None = None,
    layout: str = "auto",
) -> dict[str, ViewerSequence]:
    """Pair predictions with their frames and ground truth, frame by frame (by file stem).

    Only frames with a prediction are kept (FSNet predicts every frame but a
    sequence's last). A sequence or frame that the dataset lacks, or a map of
    another size than its frame, is an :class:`~fsnet_core.io.InputError`.
    """
    root = Path(data_root)
    from_folder = isinstance(predictions, str | os.PathLike)
    source = Path(predictions) if from_folder else root
    maps = _folder_predictions(source) if from_folder else predictions
    records = {r.name: r for r in discover_sequences(root, layout, split)}
    out: dict[str, ViewerSequence] = {}
    for name, frames in maps.items():
        if name not in records:
            raise InputError(source / name, f"sequence {name!r} is not in the dataset {root}")
        record = records[name]
        by_stem = {p.stem: i for i, p in enumerate(record.frames)}
        annotated = [p.stem for p, m in zip(record.frames, record.masks, strict=False) if m]
        official = set(scored_frames(annotated))
        seq = ViewerSequence(name, [], [], [], [])
        for stem in frames:  # natural frame order
            where = source / name / f"{stem}.png" if from_folder else f"{name}/{stem}"
            if stem not in by_stem:
                raise InputError(where, f"no frame {stem!r} in sequence {name!r} of {root}")
            i = by_stem[stem]
            value = frames[stem]
            prob = _as_probability(read_map(value) if from_folder else value, where)
            image = read_rgb(record.frames[i])
            if prob.shape != image.shape[:2]:
                raise InputError(
                    where, f"map is {prob.shape} but frame {record.frames[i]} is {image.shape[:2]}"
                )
            mask_path = record.masks[i] if i < len(record.masks) else None
            seq.frames.append(stem)
            seq.images.append(image)
            seq.probabilities.append(prob)
            seq.masks.append(read_mask(mask_path) if mask_path is not None else None)
            seq.scored.append(stem in official)
        out[name] = seq
    return out


@dataclass(frozen=True)
class FrameScores:
    """What the viewer reports for the frame on screen (NaN without ground truth)."""

    j: float
    f: float
    sequence_j: float  # J averaged over the scored frames at the same settings (as fsnet eval)


def _scores(pred: np.ndarray, gt: np.ndarray | None) -> tuple[float, float]:
    if gt is None:
        return math.nan, math.nan
    return jaccard(pred, gt), f_boundary(pred, gt)


class EvaluationViewer(PictureViewer):
    """Sequence, frame, threshold and CRF controls over a prediction/ground-truth overlay.

    The picture shows the frame with the binarised prediction tinted orange and
    the ground-truth outline in blue (:func:`~..viz.compare_overlay`, the course's
    colour-blind-safe palette), beside the probability map. The text
    gives this frame's J and F and the sequence's mean J at the same
    threshold and CRF setting, over the frames ``fsnet eval`` scores (all
    annotated frames but the first and the last; every annotated frame when
    ``scored`` is empty). With ``crf`` on, the whole sequence is refined once
    (needed for the sequence mean) and kept.
    """

    def __init__(
        self,
        sequences: Mapping[str, ViewerSequence],
        threshold: float = 0.5,
        crf_params: CRFParams = DSS_CRF,
        *,
        width: int = PICTURE_WIDTH,
    ) -> None:
        if not sequences or any(len(s) == 0 for s in sequences.values()):
            raise ValueError("the viewer needs at least one sequence, each with frames")
        self.sequences = dict(sequences)
        self.crf_params = crf_params
        first = next(iter(self.sequences.values()))
        style = {"description_width": "initial"}
        self.sequence = widgets.Dropdown(
            options=list(self.sequences), description="sequence", style=style
        )
        self.frame = widgets.IntSlider(0, 0, len(first) - 1, description="frame", style=style)
        self.threshold = widgets.FloatSlider(
            threshold, min=0.05, max=0.95, step=0.05, description="threshold", style=style
        )
        self.crf_available = crf_available()
        self.crf = widgets.Checkbox(
            False,
            description="DenseCRF" if self.crf_available else "DenseCRF (not installed)",
            indent=False,
            disabled=not self.crf_available,
        )
        longest = max(len(s) for s in self.sequences.values())
        super().__init__(
            [self.sequence, self.frame, self.threshold, self.crf],
            number_boxes=[self.frame] if longest - 1 > LONG_RANGE else [],
            width=width,
        )
        self.sequence.observe(self._on_sequence, names="value")
        self.refresh()

    @property
    def crf_on(self) -> bool:
        """Whether maps are refined: the box is ticked and DenseCRF is installed."""
        return bool(self.crf.value) and self.crf_available

    @property
    def current_sequence(self) -> ViewerSequence:
        return self.sequences[self.sequence.value]

    def _on_sequence(self, change: dict) -> None:
        with self.paused():  # the frame slider's range follows the sequence
            self.frame.value = 0
            self.frame.max = len(self.current_sequence) - 1

    def binary(self, index: int | None = None) -> np.ndarray:
        """The prediction of frame ``index`` (default: the one shown) as the viewer binarises it."""
        seq = self.current_sequence
        index = self.frame.value if index is None else index
        return seq.probability(index, self.crf_on, self.crf_params) > self.threshold.value

    def scores(self) -> FrameScores:
        """J and F of the frame shown and the sequence's mean J, at the current settings."""
        seq = self.current_sequence
        j, f = _scores(self.binary(), seq.masks[self.frame.value])
        per_frame = [
            jaccard(self.binary(i), mask)
            for i, mask in enumerate(seq.masks)
            if mask is not None and (seq.scored[i] if seq.scored else True)
        ]
        return FrameScores(j, f, float(np.mean(per_frame)) if per_frame else math.nan)

    def render(self) -> tuple[np.ndarray, list[str]]:
        seq = self.current_sequence
        i = self.frame.value
        prob = seq.probability(i, self.crf_on, self.crf_params)
        mask = seq.masks[i]
        picture = tile(
            [compare_overlay(seq.images[i], prob, mask, self.threshold.value), prob],
            [
                f"prediction ({COLOUR_NAMES[PREDICTION]}), truth ({COLOUR_NAMES[GROUND_TRUTH]})",
                "probability",
            ],
            width=self.width,
        )
        s = self.scores()
        crf = "with DenseCRF" if self.crf_on else "no CRF"
        head = f"{seq.name} frame {seq.frames[i]} ({i + 1}/{len(seq)}), {crf}"
        if mask is None:
            frame_line = "no ground truth for this frame"
        else:
            frame_line = f"J = {s.j:.3f}   F = {s.f:.3f}   (threshold {self.threshold.value:.2f})"
        lines = [head, frame_line, f"sequence mean J = {s.sequence_j:.3f}"]
        if not self.crf_available:
            lines.append(crf_missing_message())
        return picture, lines


def evaluation_viewer(
    data_root: str | os.PathLike,
    predictions: Predictions,
    *,
    split: str | None = None,
    threshold: float = 0.5,
    crf_params: CRFParams = DSS_CRF,
    width: int = PICTURE_WIDTH,
) -> EvaluationViewer:
    """An :class:`EvaluationViewer` over ``predictions`` (a folder or in-memory maps)
    paired with the frames and ground truth under ``data_root`` (see :func:`viewer_sequences`)."""
    sequences = viewer_sequences(data_root, predictions, split=split)
    return EvaluationViewer(sequences, threshold=threshold, crf_params=crf_params, width=width)


__all__ = [
    "EvaluationViewer",
    "FrameScores",
    "ViewerSequence",
    "evaluation_viewer",
    "viewer_sequences",
]
