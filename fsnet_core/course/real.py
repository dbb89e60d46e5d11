"""The real thing for the notebooks: the authors' FSNet on a few DAVIS-2016 val sequences.

With ``SMOKE = False`` the analysis notebooks end on real video instead of
the built-in clips. Everything they need comes through the package's own
downloaders, so a mirror (``FSNET_LAB_MIRROR``) or a cached copy serves it:
the checkpoint via ``fsnet_core.fsnet(weights=...)`` (torch hub cache) and
DAVIS-2016 via :func:`fsnet_core.data.downloads.download` (the lab's ``data/``).

Flow is the costly part on a CPU, so it is computed only for the chosen val
sequences: :func:`real_video` makes a small DAVIS-layout *view* of them (links
to the frames and masks, its own ``ImageSets/2016/val.txt``), and every tool
that reads a DAVIS folder (inference, evaluation, viewers, sample loaders)
reads just those. Their flow lands, through the view's links, in the full
copy's ``FlowImages/METHOD/``, so views of other sizes reuse it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.downloads import download
from ..data.flow_cache import compute_flow
from ..data.samples import Sample, load_samples
from ..data.synthetic import TARGET
from ..flow import default_method
from ..io import InputError, davis
from ..model import FSNet, FSNetWeights, fsnet
from ..model.inputs import PAPER_SIZE
from .smoke import AUTHORS_CHECKPOINT, course_download, flow_weights

PAPER_DEEPEST_CELLS = 11
"""Cells per side of the deepest RCAM stage (and coarsest BPM level) of the paper's model at
352 x 352. Issue 13 allows these 11 x 11 maps, drawn beside the frame, for the real model
only; the course model's figures keep :data:`~fsnet_core.course.viz.attention.MIN_CELLS`."""
VIEWS = "DAVIS-views"
"""Folder beside the unpacked DAVIS holding the views of chosen val sequences."""


def real_video_on(real_video: bool | None, smoke: bool) -> bool:
    """Whether a notebook's real-video section runs: ``REAL_VIDEO``, or when unset, not SMOKE.

    SMOKE runs (CI, ``make run``) are offline and must not download ~2 GB.
    """
    return bool(real_video) if real_video is not None else not smoke


def real_video_needs(real_video: bool | None, device: str | torch.device) -> tuple[str, ...]:
    """What a real-video section downloads on ``device`` when SMOKE is off (the ``needs`` of
    :func:`~fsnet_core.course.smoke.choose_smoke`): the authors' checkpoint, DAVIS-2016 and
    the flow's weights (RAFT on a GPU); nothing when ``REAL_VIDEO = False`` turns it off."""
    if real_video is False:
        return ()
    return (AUTHORS_CHECKPOINT, "davis-2016", *flow_weights(default_flow_method(device)))


def skipped_message(what: str) -> str:
    """The one line a real-video section prints when it does not run."""
    return (
        f"Real video is off: with SMOKE = False (or REAL_VIDEO = True) this section "
        f"downloads the authors' checkpoint and DAVIS-2016 (~2 GB, once) and {what}."
    )


def default_flow_method(device: str | torch.device) -> str:
    """The flow a real-video section computes on ``device`` (the package's one choice)."""
    return default_method(device)


def authors_model(device: str | torch.device = "cpu", progress: bool = True) -> FSNet:
    """The authors' released FSNet in eval mode on ``device``.

    The checkpoint is downloaded into the torch hub cache when missing; offline,
    :class:`~fsnet_core.io.WeightsUnavailable` says in one line which
    file to put where.
    """
    model = fsnet(weights=FSNetWeights.DAVIS16_ICCV21, progress=progress)
    return model.to(device).eval()


def davis_root(dest: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """The unpacked DAVIS-2016 under the lab's ``data/`` (or ``dest``), downloaded once."""
    if dest is None:  # where choose_smoke downloaded it up front
        return course_download("davis-2016", progress=progress)
    return download("davis-2016", dest, progress=progress)


def val_sequences(root: str | os.PathLike) -> list[str]:
    """DAVIS-2016's val sequences, in the order of its split list."""
    try:
        return davis.split_names(root, "val")
    except InputError as exc:
        raise InputError(exc.path, f"{exc.problem} (download davis-2016 again)") from None


def choose_sequences(root: str | os.PathLike, sequences: int | Sequence[str] | None) -> list[str]:
    """Val sequence names from a count (the first ``n`` of the list), names, or None (all)."""
    names = val_sequences(root)
    if sequences is None:
        return names
    if isinstance(sequences, int):
        if sequences < 1:
            raise ValueError(f"the number of sequences must be at least 1, got {sequences}")
        return names[:sequences]
    unknown = [s for s in sequences if s not in names]
    if unknown:
        raise ValueError(f"{root}: not DAVIS-2016 val sequences: {', '.join(unknown)}")
    return list(sequences)


@dataclass(frozen=True)
class RealVideo:
    """A DAVIS-layout folder holding only some val sequences, with their flow computed."""

    root: Path  # the view: read it like any DAVIS folder, split "val"
    sequences: tuple[str, ...]
    flow_source: str  # its ``FlowImages/<flow_source>`` holds the flow images

    def samples(
        self, frames: int | None, size: int, device: str | torch.device = "cpu"
    ) -> list[Sample]:
        """``frames`` evenly spaced frames of each sequence at ``size`` (None: every frame),
        their input tensors on ``device`` (the model's, so the analyses can feed them as
        they are).

        The annotated object is the sample's :data:`TARGET` region, so the
        region-based analyses (attribution, hit rates) read real frames as
        they read the built-in ones.
        """
        picked = load_samples(
            self.root, "val", size, per_sequence=frames, flow_source=self.flow_source
        )
        return [
            dataclasses.replace(
                s,
                image=s.image.to(device),
                flow=s.flow.to(device),
                regions=s.mask.astype(np.uint8) * np.uint8(TARGET),
            )
            for s in picked
        ]


def _link(link: Path, target: Path) -> None:
    """Make ``link`` point at ``target`` (kept when it already does)."""
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        raise InputError(link, "expected a link made by fsnet_core.course.real, found a folder")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)


def view_root(root: Path, names: Sequence[str]) -> Path:
    """Where the view of ``names`` lives: beside ``root``, named by count and a short digest."""
    digest = hashlib.sha1("\n".join(names).encode()).hexdigest()[:8]
    return root.resolve().parent / VIEWS / f"val-{len(names)}-{digest}"


def real_video(
    root: str | os.PathLike,
    sequences: int | Sequence[str] | None,
    flow_method: str | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> RealVideo:
    """A view of the chosen val ``sequences`` of the DAVIS-2016 at ``root``, flow included.

    ``sequences``: how many of the val list (the first ones), their names, or
    None for all 20. ``flow_method``: see :func:`default_flow_method`. The flow
    is computed only for these sequences (once; a re-run finds it on disk).
    """
    root = Path(root).resolve()
    names = choose_sequences(root, sequences)
    method = flow_method or default_flow_method(device)
    view = view_root(root, names)
    for name in names:
        for folder in (davis.FRAMES, davis.ANNOTATIONS):
            target = root / folder / davis.RESOLUTION / name
            if not target.is_dir():
                raise InputError(target, f"DAVIS-2016 {folder} folder of {name!r} not found")
            _link(view / folder / davis.RESOLUTION / name, target)
        for folder in (davis.FLOW_IMAGES, davis.FLOW_FIELDS):  # flow goes into the full copy
            target = root / folder / method / name
            target.mkdir(parents=True, exist_ok=True)
            _link(view / folder / method / name, target)
    davis.write_split_list(view, "val", names)
    compute_flow(view, method, progress=progress, device=device)
    return RealVideo(view, tuple(names), method)


@torch.no_grad()
def predict_samples(model: FSNet, samples: Sequence[Sample]) -> list[np.ndarray]:
    """Each sample's probability of "object" (the fused output), ``H x W`` at its size.

    One frame at a time: at 352 x 352 the authors' model fills a CPU's memory quickly.
    """
    device = next(model.parameters()).device
    maps = []
    for sample in samples:
        logits = model(sample.image.to(device), sample.flow.to(device)).appearance
        maps.append(torch.sigmoid(logits)[0, 0].float().cpu().numpy())
    return maps


def real_samples(
    root: str | os.PathLike,
    sequences: int | Sequence[str] | None,
    frames: int | None,
    size: int,
    flow_method: str | None = None,
    device: str | torch.device = "cpu",
) -> list[Sample]:
    """``frames`` frames of each chosen val sequence at ``size``, as the model sees them
    (see :func:`real_video` and :meth:`RealVideo.samples`)."""
    return real_video(root, sequences, flow_method, device).samples(frames, size, device)


__all__ = [
    "PAPER_DEEPEST_CELLS",
    "PAPER_SIZE",
    "RealVideo",
    "authors_model",
    "choose_sequences",
    "davis_root",
    "default_flow_method",
    "predict_samples",
    "real_samples",
    "real_video",
    "real_video_needs",
    "real_video_on",
    "skipped_message",
    "val_sequences",
    "view_root",
]
