"""Evaluate a folder of predicted maps against ground truth: U-VOS or V-SOD, tables, JSON.

Folders hold ``SEQ/FRAME.png``; frames are matched by file stem. The ground
truth may also be a dataset root: a DAVIS layout (``Annotations/480p/SEQ``)
or the authors' test-set layout (``SEQ/GT/FRAME.png``).

Which frames are scored follows the official tools: each sequence's first
and last ground-truth frame (in sorted order) are left out, both by the
DAVIS-2016 evaluation (``annotations[1:-1]``) and by the DAVSOD toolbox
(``for i = 2:fileNUM-1``). So predictions are only *required* for the
frames in between; FSNet, which predicts every frame but the last (it needs
the flow to the next frame), is therefore scored on exactly the frames the
official tools score. A prediction for a frame with no ground truth, or a
prediction folder with no ground-truth sequence, is an error (it usually
means the folders disagree).

U-VOS: predictions are binarised at half their range (8-bit: >= 128, the
authors' "threshold = 0.5"; :func:`~fsnet_core.metrics.uvos.binarize`) and
ground truth is foreground where non-zero (DAVIS reads masks as booleans).
J and F are averaged per sequence (mean, recall, decay); T is computed on
consecutive predicted masks of the scored frames. As in DAVIS-2016, T is
reported only for sequences without strong occlusions: the 23 DAVIS-2016
sequences whose ``db_info.yml`` entry has ``eval_t: False`` get T = NaN
(pass ``t_all_sequences=True`` to compute it everywhere); the overall value
of every measure is the mean over sequences, NaNs ignored.

V-SOD: see :mod:`fsnet_core.metrics.vsod`. Unlike the DAVSOD toolbox, which
resizes (and overwrites) a prediction whose size differs from the ground
truth, a size mismatch is an error here, for both tasks.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import InputError, atomic_write, davis
from ..io.images import image_files, natural_sorted, read_levels
from .stability import mean_temporal_stability, sequence_temporal_stability
from .uvos import binarize, f_boundary, jaccard, sequence_statistics
from .vsod import VSOD_KEYS, SequenceScores, aggregate_sequences, score_sequence

__all__ = [
    "DAVIS2016_NO_T",
    "TASKS",
    "UVOS_KEYS",
    "EvaluationResult",
    "evaluate_folder",
    "scored_frames",
]

TASKS = ("uvos", "vsod")
UVOS_KEYS = ("J_mean", "J_recall", "J_decay", "F_mean", "F_recall", "F_decay", "T_mean")

DAVIS2016_NO_T = frozenset(
    "bmx-bumps bmx-trees breakdance breakdance-flare dance-twirl dog dog-agility drift-chicane "
    "goat horsejump-high horsejump-low libby lucia mallard-fly motocross-jump motorbike "
    "paragliding parkour rollerblade scooter-gray soccerball swing tennis".split()
)
"""DAVIS-2016 sequences the official evaluation leaves out of T (``eval_t: False``)."""

_COLUMN_TITLES = {
    "J_mean": "J mean",
    "J_recall": "J recall",
    "J_decay": "J decay",
    "F_mean": "F mean",
    "F_recall": "F recall",
    "F_decay": "F decay",
    "T_mean": "T",
}


# --------------------------------------------------------------------------- folders
_subfolders = davis.sequence_folders


def _ground_truth_sequences(gt_dir: Path) -> dict[str, Path]:
    """Ground-truth folder of every sequence, whatever the layout of ``gt_dir``."""
    if not gt_dir.is_dir():
        raise InputError(gt_dir, "ground-truth folder not found")
    for candidate in (davis.annotations_root(gt_dir), gt_dir / davis.ANNOTATIONS):
        if candidate.is_dir() and _subfolders(candidate):
            gt_dir = candidate
            break
    sequences = {}
    for seq in _subfolders(gt_dir):
        sequences[seq.name] = seq / "GT" if (seq / "GT").is_dir() else seq
    if not sequences:
        raise InputError(gt_dir, "no sequence folders (expected SEQ/FRAME.png)")
    return sequences


def scored_frames(gt_frames: Sequence[str]) -> list[str]:
    """The frames the official tools score: all but the first and the last (in natural order,
    so ``1.png ... 12.png`` keep their order)."""
    return natural_sorted(gt_frames, key=str)[1:-1]


@dataclass(frozen=True)
class _SequenceFiles:
    name: str
    frames: list[str]  # scored frames, in order
    predictions: list[Path]
    ground_truth: list[Path]


@dataclass(frozen=True)
class _Selection:
    """Which sequences to score, and why (for the notes)."""

    names: list[str]
    origin: str  # "the val split", "--sequences", "every ground-truth sequence"
    unscored: list[str]  # prediction folders left out (outside the split)


def _split_list(gt_dir: Path, split: str) -> Path | None:
    """The DAVIS split list for ``gt_dir`` (a DAVIS root or its Annotations folder), if any."""
    roots = [gt_dir]
    if gt_dir.name == davis.ANNOTATIONS:
        roots.append(gt_dir.parent)
    elif gt_dir.parent.name == davis.ANNOTATIONS:
        roots.append(gt_dir.parent.parent)
    return next((found for r in roots if (found := davis.find_split_list(r, split))), None)


def _select(
    gt_dir: Path,
    gt_sequences: dict[str, Path],
    pred_sequences: dict[str, Path],
    sequences: Sequence[str] | None,
    split: str | None,
) -> _Selection:
    if sequences is not None:
        names, origin = list(sequences), "--sequences"
    elif split == "all":
        names, origin = sorted(gt_sequences), "every ground-truth sequence"
    else:
        listing = _split_list(gt_dir, split or "val")
        if listing is None and split is not None:
            raise InputError(gt_dir, f"no split list for {split!r} (ImageSets/2016/{split}.txt)")
        if listing is None:
            names, origin = sorted(gt_sequences), "every ground-truth sequence"
        else:
            names, origin = (
                davis.read_split_list(listing),
                f"the {split or 'val'} split ({listing})",
            )
    unscored = sorted(set(pred_sequences) - set(names))
    return _Selection(names, origin, unscored)


def _match_folders(
    pred_dir: Path,
    gt_dir: Path,
    sequences: Sequence[str] | None,
    split: str | None = None,
    allow_missing: bool = False,
) -> tuple[list[_SequenceFiles], _Selection, list[str]]:
    """Pair prediction and ground-truth files; every disagreement is an InputError.

    Returns the pairs, the selection and the sequences of the selection that
    have no prediction folder (only with ``allow_missing``; otherwise an error).
    """
    if not pred_dir.is_dir():
        raise InputError(pred_dir, "prediction folder not found")
    gt_sequences = _ground_truth_sequences(gt_dir)
    pred_sequences = {p.name: p for p in _subfolders(pred_dir)}
    for name, folder in pred_sequences.items():
        if name not in gt_sequences:
            raise InputError(folder, f"extra prediction: no ground-truth sequence {name!r}")
    selection = _select(gt_dir, gt_sequences, pred_sequences, sequences, split)
    if not pred_sequences:
        raise InputError(pred_dir, "no sequence folders with predictions (expected SEQ/FRAME.png)")
    matched, missing = [], []
    for name in selection.names:
        if name not in gt_sequences:
            raise InputError(gt_dir / name, "no ground truth for this sequence")
        if name not in pred_sequences:
            if allow_missing:
                missing.append(name)
                continue
            raise InputError(
                pred_dir / name,
                f"missing prediction folder for this sequence of {selection.origin}; "
                "predict it, or pass --allow-missing (allow_missing=True) to score the others",
            )
        gt_files = image_files(gt_sequences[name], "ground-truth image")
        pred_files = image_files(pred_sequences[name], "prediction")
        for stem, path in pred_files.items():
            if stem not in gt_files:
                raise InputError(path, "extra prediction: no ground-truth frame with this name")
        frames = scored_frames(gt_files)
        if not frames:
            raise InputError(
                gt_sequences[name],
                f"{len(gt_files)} ground-truth frame(s): at least 3 are needed "
                "(the first and last are not scored)",
            )
        for stem in frames:
            if stem not in pred_files:
                raise InputError(
                    pred_sequences[name] / f"{stem}.png",
                    f"missing prediction for ground-truth frame {gt_files[stem].name}",
                )
        matched.append(
            _SequenceFiles(
                name, frames, [pred_files[s] for s in frames], [gt_files[s] for s in frames]
            )
        )
    if not matched:
        raise InputError(pred_dir, f"no predictions for any sequence of {selection.origin}")
    return matched, selection, missing


def _pairs(
    seq: _SequenceFiles, binary_gt: bool, unusual: dict[str, list[Path]] | None = None
) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """(prediction, ground truth) maps of a sequence's scored frames; sizes checked.

    Files read in an unusual way (a 0/1 mask, a 16-bit file; :func:`read_levels`)
    are added to ``unusual`` under the note that says how.

    With ``binary_gt`` the ground truth must hold at most two grey levels
    (U-VOS masks: DAVIS counts every non-zero pixel as foreground, so a
    re-compressed or anti-aliased mask would be scored wrongly).
    """
    found = unusual if unusual is not None else {}
    for pred_path, gt_path in zip(seq.predictions, seq.ground_truth, strict=True):
        gt_read, pred_read = read_levels(gt_path), read_levels(pred_path)
        for path, read in ((gt_path, gt_read), (pred_path, pred_read)):
            if read.note:
                found.setdefault(read.note, []).append(path)
        gt, pred = gt_read.values, pred_read.values
        if binary_gt:
            levels = np.count_nonzero(np.bincount(gt.ravel(), minlength=256))
            if levels > 2:
                raise InputError(
                    gt_path, f"not a mask: {levels} grey levels (expected two, e.g. 0 and 255)"
                )
        if pred.shape != gt.shape:
            raise InputError(
                pred_path,
                f"size {pred.shape[1]}x{pred.shape[0]} differs from the ground truth "
                f"{gt_path} ({gt.shape[1]}x{gt.shape[0]})",
            )
        yield pred, gt


# ------------------------------------------------------------------------- results
@dataclass
class EvaluationResult:
    """Scores of one evaluation: dataset level, per sequence and per frame.

    ``overall`` maps each key (``UVOS_KEYS`` or ``VSOD_KEYS``) to its value;
    ``per_sequence`` is a DataFrame indexed by sequence with those keys as
    columns; ``per_frame`` holds one row per scored frame (U-VOS: J, F and T
    of the pair starting at that frame; V-SOD: S, MAE, adaptive F and E).
    """

    task: str
    overall: dict[str, float]
    per_sequence: "pd.DataFrame"  # noqa: F821, UP037
    per_frame: "pd.DataFrame"  # noqa: F821, UP037
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Problems the scores hide (sequences left out with ``allow_missing``)."""

    @property
    def keys(self) -> tuple[str, ...]:
        return UVOS_KEYS if self.task == "uvos" else VSOD_KEYS

    def to_dict(self) -> dict:
        """JSON-ready ``{"task", "overall": {...}, "per_sequence": {SEQ: {...}}}``, NaN as null."""

        def clean(values: dict) -> dict:
            return {k: (None if _isnan(v) else float(v)) for k, v in values.items()}

        table = self.per_sequence[list(self.keys)]
        per_seq = {str(seq): clean(row.to_dict()) for seq, row in table.iterrows()}
        return {"task": self.task, "overall": clean(self.overall), "per_sequence": per_seq}

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON, atomically; returns the path."""
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        with atomic_write(path) as tmp:
            tmp.write_text(text)
        return path

    def table(self, per_sequence: bool = True) -> str:
        """A plain-text table like the FSNet README's (3 decimals; per sequence, then overall)."""
        titles = [_COLUMN_TITLES.get(k, k) for k in self.keys]
        rows = []
        if per_sequence:
            for seq, row in self.per_sequence[list(self.keys)].iterrows():
                rows.append([str(seq), *(_fmt(row[k]) for k in self.keys)])
        rows.append(["overall", *(_fmt(self.overall[k]) for k in self.keys)])
        header = ["Sequence", *titles]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        body = [line(header), sep, *(line(r) for r in rows[:-1])]
        if per_sequence and len(rows) > 1:
            body.append(sep)
        body.append(line(rows[-1]))
        return "\n".join(body)


def _isnan(value: float) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value: float) -> str:
    return "-" if _isnan(float(value)) else f"{value:.3f}"


# ---------------------------------------------------------------------- evaluation
def _evaluate_uvos_sequence(
    seq: _SequenceFiles, with_t: bool, unusual: dict[str, list[Path]]
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    j_values, f_values, masks = [], [], []
    for pred, gt in _pairs(seq, binary_gt=True, unusual=unusual):
        mask = binarize(pred)
        truth = gt > 0
        j_values.append(jaccard(mask, truth))
        f_values.append(f_boundary(mask, truth))
        masks.append(mask)
    t_pairs = sequence_temporal_stability(masks) if with_t else np.full(len(masks) - 1, np.nan)
    j = sequence_statistics(np.array(j_values))
    f = sequence_statistics(np.array(f_values))
    values = dict(zip(UVOS_KEYS[:3], j, strict=True)) | dict(zip(UVOS_KEYS[3:6], f, strict=True))
    values["T_mean"] = mean_temporal_stability(t_pairs)
    per_frame = {"J": np.array(j_values), "F": np.array(f_values), "T": np.append(t_pairs, np.nan)}
    return values, per_frame


def _evaluate_vsod_sequence(seq: _SequenceFiles, unusual: dict[str, list[Path]]) -> SequenceScores:
    return score_sequence(_pairs(seq, binary_gt=False, unusual=unusual))


def evaluate_folder(
    pred_dir: str | os.PathLike,
    gt_dir: str | os.PathLike,
    task: str = "uvos",
    *,
    sequences: Sequence[str] | None = None,
    split: str | None = None,
    allow_missing: bool = False,
    t_all_sequences: bool = False,
    progress: bool | Callable[[Iterable], Iterable] = False,
) -> EvaluationResult:
    """Score ``pred_dir/SEQ/FRAME.png`` against ``gt_dir`` for ``task`` ('uvos' or 'vsod').

    Which sequences: ``sequences`` if given; else those of ``split`` (a DAVIS
    list, ``ImageSets/2016/SPLIT.txt`` beside the ground truth; ``"all"``: every
    ground-truth sequence); by default the val list where one exists, else every
    ground-truth sequence. Prediction folders outside that set are left out (a
    note names them); a sequence of the set without predictions is an error,
    or with ``allow_missing`` left out with a warning. ``progress`` shows a
    tqdm bar (or wraps the sequence iterator with the given callable).
    """
    import pandas as pd

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    matched, selection, missing = _match_folders(
        Path(pred_dir), Path(gt_dir), sequences, split, allow_missing
    )
    iterator: Iterable[_SequenceFiles] = matched
    if progress is True:
        from tqdm.auto import tqdm

        iterator = tqdm(matched, desc=f"fsnet eval ({task})", unit="seq")
    elif callable(progress):
        iterator = progress(matched)

    rows: dict[str, dict[str, float]] = {}
    frame_rows: list[dict] = []
    vsod_scores: dict[str, SequenceScores] = {}
    no_t: list[str] = []
    unusual: dict[str, list[Path]] = {}
    for seq in iterator:
        if task == "uvos":
            with_t = t_all_sequences or seq.name not in DAVIS2016_NO_T
            values, per_frame = _evaluate_uvos_sequence(seq, with_t, unusual)
            if not with_t:
                no_t.append(seq.name)
        else:
            scores = _evaluate_vsod_sequence(seq, unusual)
            vsod_scores[seq.name], values, per_frame = scores, scores.values, scores.per_frame
        rows[seq.name] = values
        for k, frame in enumerate(seq.frames):
            frame_rows.append(
                {"sequence": seq.name, "frame": frame}
                | {name: float(v[k]) for name, v in per_frame.items()}
            )
    keys = UVOS_KEYS if task == "uvos" else VSOD_KEYS
    per_sequence = pd.DataFrame.from_dict(rows, orient="index", columns=list(keys))
    per_sequence.index.name = "sequence"
    if task == "uvos":
        overall = {k: _nanmean(per_sequence[k].to_numpy()) for k in keys}
    else:
        overall = aggregate_sequences(vsod_scores)
    per_frame_df = pd.DataFrame(frame_rows).set_index(["sequence", "frame"])
    notes = [f"{len(paths)} file(s) {note}, e.g. {paths[0]}" for note, paths in unusual.items()]
    if no_t:
        notes.append(
            f"T not scored for {', '.join(no_t)}: DAVIS-2016 leaves sequences with occlusions "
            "out of T (t_all_sequences=True / --t-all-sequences scores them)"
        )
    names = [seq.name for seq in matched]
    notes.append(f"scored {len(names)} sequence(s) of {selection.origin}: {', '.join(names)}")
    if selection.unscored:
        notes.append(f"not scored (outside {selection.origin}): {', '.join(selection.unscored)}")
    warnings = []
    if missing:
        warnings.append(
            f"{len(missing)} sequence(s) of {selection.origin} have no predictions and were "
            f"NOT scored: {', '.join(missing)}; the overall scores cover the others only"
        )
    return EvaluationResult(task, overall, per_sequence, per_frame_df, notes, warnings)


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")
