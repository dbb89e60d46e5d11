"""Flow for a whole dataset: every frame pair of every sequence, computed once and kept on disk.

:func:`compute_flow` walks a dataset folder (DAVIS or the authors' test
layout, found by :mod:`fsnet_core.data.layouts`), runs an estimator from
:mod:`fsnet_core.flow` over each pair and writes the ``.flo`` field and its
colour image atomically, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..flow.estimators import FlowEstimator, make_estimator
from ..flow.formats import flow_to_color, write_flo
from ..io import InputError
from ..io.images import read_rgb, write_png
from .layouts import check_frame_size, detect_layout, discover_sequences


@dataclass(frozen=True)
class FlowJob:
    """One sequence to process: its frames and where the fields and images go."""

    name: str
    frames: tuple[Path, ...]
    field_dir: Path
    image_dir: Path

    def outputs(self, i: int) -> tuple[Path, Path]:
        """The ``.flo`` and ``.png`` of the pair (frame i, frame i+1), named after frame i."""
        stem = self.frames[i].stem
        return self.field_dir / f"{stem}.flo", self.image_dir / f"{stem}.png"


@dataclass
class FlowSummary:
    """What :func:`compute_flow` did."""

    method: str
    root: Path
    sequences: int = 0
    computed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.computed / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.method}: {self.sequences} sequences, {self.computed} flows computed, "
            f"{self.skipped} already there, {self.seconds:.1f} s ({rate:.1f} pairs/s)"
        )


def flow_jobs(root: str | Path, method: str, split: str | None = None) -> list[FlowJob]:
    """Sequences under ``root`` and the output folders of ``method``, for either layout.

    ``split`` keeps a DAVIS ImageSets list only (``val``: the test clips' flow without the
    training clips'); the test layout has no splits and refuses one.

    * DAVIS layout (``JPEGImages/480p/SEQ/*.jpg``): fields in
      ``Flow/METHOD/SEQ/00000.flo``, images in ``FlowImages/METHOD/SEQ/00000.png``.
    * The authors' test layout (``SEQ/Frame/*.jpg``, one dataset such as
      ``TestSet/DAVIS``): images ``SEQ/OF_METHOD/NAME.png`` and fields
      ``SEQ/OF_METHOD/NAME.flo`` in one folder beside the authors'
      ``SEQ/OF_FlowNet2`` (the loaders read its images and skip the fields).

    Sequences are found by :func:`fsnet_core.data.layouts.discover_sequences`.
    """
    root = Path(root)
    layout = detect_layout(root)
    if layout == "davis":
        records = discover_sequences(root, layout, split, flow_source=method)
        return [
            FlowJob(
                r.name,
                tuple(r.frames),
                root / "Flow" / method / r.name,
                root / "FlowImages" / method / r.name,
            )
            for r in records
        ]
    if layout == "testset":
        records = discover_sequences(root, layout, split, flow_source=f"OF_{method}")
        out = [root / r.name / f"OF_{method}" for r in records]
        return [FlowJob(r.name, tuple(r.frames), o, o) for r, o in zip(records, out, strict=True)]
    raise InputError(
        root,
        f"flow is computed for the DAVIS and the authors' test layouts, not the {layout} "
        "layout (the authors' training sets come with their flow images)",
    )


def _pending(job: FlowJob, force: bool) -> list[int]:
    pairs = range(len(job.frames) - 1)
    if force:
        return list(pairs)
    return [i for i in pairs if not all(p.is_file() for p in job.outputs(i))]


def _batches(indices: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


def compute_flow(
    root: str | Path,
    method: str = "dis",
    force: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
    estimator: FlowEstimator | None = None,
    split: str | None = None,
) -> FlowSummary:
    """Flow fields and colour-coded flow images for every frame pair of a dataset.

    Frame t gets the flow from t to t+1 (named after t); the last frame of a
    sequence gets none. Existing outputs are kept unless ``force``; every file
    is written atomically, so an interrupted run leaves only whole files and
    a re-run finishes the rest. See :func:`flow_jobs` for the folders and ``split``.
    """
    from tqdm.auto import tqdm

    jobs = flow_jobs(root, method, split)
    todo = [(job, _pending(job, force)) for job in jobs]
    summary = FlowSummary(method, Path(root), sequences=len(jobs))
    summary.skipped = sum(max(len(j.frames) - 1, 0) - len(p) for j, p in todo)
    total = sum(len(p) for _, p in todo)
    if total == 0:
        return summary
    estimator = estimator or make_estimator(method, device=device)
    start = time.perf_counter()
    with tqdm(total=total, desc=f"flow ({method})", unit="pair", disable=not progress) as bar:
        for job, pending in todo:
            bar.set_postfix_str(job.name)
            frames: dict[int, np.ndarray] = {}
            first: tuple[int, ...] | None = None  # the size every frame of the sequence must have
            for batch in _batches(pending, estimator.batch_size):
                needed = sorted({i for b in batch for i in (b, b + 1)})
                frames = {  # the previous batch's last frame is reused, not read again
                    i: frames[i] if i in frames else read_rgb(job.frames[i]) for i in needed
                }
                if first is None:
                    first = (frames[0] if 0 in frames else read_rgb(job.frames[0])).shape
                for i in needed:
                    check_frame_size(job.frames[i], frames[i].shape, job.frames[0], first)
                flows = estimator.estimate_batch(
                    [frames[i] for i in batch], [frames[i + 1] for i in batch]
                )
                for i, flow in zip(batch, flows, strict=True):
                    field_path, image_path = job.outputs(i)
                    write_flo(field_path, flow)
                    write_png(image_path, flow_to_color(flow))
                bar.update(len(batch))
    summary.computed = total
    summary.seconds = time.perf_counter() - start
    return summary


__all__ = [
    "FlowJob",
    "FlowSummary",
    "compute_flow",
    "flow_jobs",
]
