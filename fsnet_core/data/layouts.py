"""Folder layouts of the datasets FSNet reads: discovery, frame/flow/mask pairing, validation.

Four layouts, one record type (:class:`SequenceRecord`):

``davis``  DAVIS-2016 (also the synthetic set and ``../shared/davis_sample``)::

    JPEGImages/480p/SEQ/00000.jpg   Annotations/480p/SEQ/00000.png
    ImageSets/2016/{train,val}.txt  (or the official ImageSets/480p/{train,val}.txt)
    FlowImages/SOURCE/SEQ/00000.png Flow/SOURCE/SEQ/00000.flo   (SOURCE: gt, dis, raft-small, ...)

``testset``  the authors' test sets (DAVIS16, FBMS, SegTrack-V2, MCL, DAVSOD)::

    SEQ/Frame/*.jpg   SEQ/OF_FlowNet2/*.jpg (or another flow folder)   SEQ/GT/*.png (may be sparse)

``trainset``  the authors' training sets, flat folders paired by file stem::

    Imgs/*.jpg   Flow/*.jpg   ground-truth/*.png   (the static set has Imgs/ and GTs/ only)

``duts``  DUTS saliency images for the RGB pre-training stage::

    DUTS-TR-Image/*.jpg   DUTS-TR-Mask/*.png   (and DUTS-TE-*)

Pairing follows the authors: frame t goes with the flow from t to t+1, stored
under frame t's stem; so in video layouts the last frame has no flow and is
not a sample. Every problem is an :class:`~fsnet_core.io.InputError` naming
the file or folder. Files are listed, sorted and read by the floor
(:mod:`fsnet_core.io.images`: natural frame order, one mask rule; images fully
decoded on first access, so a truncated JPEG fails there, not later as a
silent grey block); the DAVIS names and split lists come from
:mod:`fsnet_core.io.davis`. :func:`check_dataset_files` decodes everything up front.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..flow.formats import read_flo
from ..io import InputError, davis
from ..io.images import image_files, natural_sorted, read_mask, read_rgb

LAYOUTS = ("davis", "testset", "trainset", "duts")
TESTSET_FRAMES, TESTSET_MASKS = "Frame", "GT"
TRAINSET_MASK_FOLDERS = ("ground-truth", "GTs")
PREFERRED_FLOW_SOURCES = ("gt", "OF_FlowNet2")


@dataclass
class SequenceRecord:
    """One video (or one folder of still images) with aligned per-frame paths.

    ``flows[t]`` is the colour flow image of the pair (t, t+1) and ``flow_fields[t]``
    the raw field (``.flo``) where the layout stores one; ``masks[t]`` is the
    annotation. Entries are None where absent (the last frame's flow, sparse masks).
    """

    name: str
    frames: list[Path]
    flows: list[Path | None]
    masks: list[Path | None]
    flow_fields: list[Path | None] = field(default_factory=list)
    layout: str = ""

    def __post_init__(self) -> None:
        if not self.flow_fields:
            self.flow_fields = [None] * len(self.frames)
        for what in ("flows", "masks", "flow_fields"):
            if len(getattr(self, what)) != len(self.frames):
                raise ValueError(f"{self.name}: {what} must align with frames")

    def __len__(self) -> int:
        return len(self.frames)

    def stems(self) -> list[str]:
        return [p.stem for p in self.frames]


# --------------------------------------------------------------------------- discovery


def _files(folder: Path, suffix: str) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in natural_sorted(folder.glob(f"*{suffix}"))}


def _check_orphans(folder: Path, found: dict[str, Path], stems: Sequence[str], what: str) -> None:
    """Files that match no frame mean the folders disagree: name the first one."""
    orphans = sorted(set(found) - set(stems))
    if orphans:
        raise InputError(
            found[orphans[0]],
            f"{what} file matches no frame ({len(orphans)} such in {folder}; "
            f"{len(found)} {what} files for {len(stems)} frames that take one)",
        )


def _listing(
    folder: Path, stems: Sequence[str], what: str, required: bool
) -> dict[str, Path] | None:
    """Files of an optional flow/mask folder by stem, checked against the frames; None if absent."""
    if not folder.is_dir():
        if required:
            raise InputError(folder, f"{what} folder not found")
        return None
    found = image_files(folder, what)
    _check_orphans(folder, found, stems, what)
    return found


def _pair(
    name: str,
    frames: dict[str, Path],
    flows: dict[str, Path] | None,
    masks: dict[str, Path] | None,
    *,
    layout: str,
    last_has_flow: bool,
    require_flows: bool,
    require_masks: bool,
    fields: dict[str, Path] | None = None,
) -> SequenceRecord:
    """Align flows and masks with frames by stem; a required one missing is an InputError."""
    stems = list(frames)
    with_flow = stems if last_has_flow else stems[:-1]
    flows, masks, fields = flows or {}, masks or {}, fields or {}
    for required, found, expected, what in (
        (require_flows, flows, with_flow, "flow image"),
        (require_masks, masks, stems, "mask"),
    ):
        missing = [s for s in expected if s not in found] if required else []
        if missing:
            raise InputError(frames[missing[0]], f"frame has no {what} ({len(missing)} missing)")
    return SequenceRecord(
        name=name,
        frames=[frames[s] for s in stems],
        flows=[flows.get(s) if s in with_flow else None for s in stems],
        masks=[masks.get(s) for s in stems],
        flow_fields=[fields.get(s) if s in with_flow else None for s in stems],
        layout=layout,
    )


def detect_layout(root: str | os.PathLike) -> str:
    """Which of :data:`LAYOUTS` ``root`` is in; InputError if none."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    if (root / davis.FRAMES).is_dir():
        return "davis"
    if (root / "Imgs").is_dir():
        return "trainset"
    if _duts_pairs(root):
        return "duts"
    if any((d / TESTSET_FRAMES).is_dir() for d in _subdirs(root)):
        return "testset"
    raise InputError(
        root,
        "no known dataset layout: expected JPEGImages/ (DAVIS), SEQ/Frame/ (authors' test set), "
        "Imgs/ (authors' training set) or DUTS-TR-Image/ (DUTS)",
    )


_subdirs = davis.sequence_folders


def discover_sequences(
    root: str | os.PathLike,
    layout: str = "auto",
    split: str | None = None,
    flow_source: str | None = None,
    *,
    require_flows: bool = False,
    require_masks: bool = False,
) -> list[SequenceRecord]:
    """Find every sequence under ``root`` and pair its frames, flows and masks.

    ``split`` picks a DAVIS ImageSets list (``train``/``val``) or, for DUTS,
    ``train``/``test``; the authors' test and training sets hold a single split.
    ``flow_source`` names the flow: the DAVIS ``FlowImages/SOURCE`` folder or the
    test set's per-sequence folder (``OF_FlowNet2``); None picks ``gt`` or
    ``OF_FlowNet2`` when present, else the only one, else no flow. With
    ``require_flows`` / ``require_masks`` a frame without one is an InputError.
    """
    root = Path(root)
    chosen = detect_layout(root) if layout == "auto" else layout
    if chosen not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from auto, {', '.join(LAYOUTS)}")
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    if split is not None and chosen in ("testset", "trainset"):
        raise InputError(root, f"the {chosen} layout has no splits (got split={split!r})")
    finder = {
        "davis": _discover_davis,
        "testset": _discover_testset,
        "trainset": _discover_trainset,
        "duts": _discover_duts,
    }[chosen]
    records = finder(root, split, flow_source, require_flows, require_masks)
    if not records:
        raise InputError(root, f"no sequences found ({chosen} layout)")
    return records


def _pick_source(folder: Path, options: list[str], flow_source: str | None) -> str | None:
    if flow_source is not None:
        return flow_source
    for preferred in PREFERRED_FLOW_SOURCES:
        if preferred in options:
            return preferred
    if len(options) > 1:
        raise InputError(folder, f"several flow sources ({', '.join(options)}): pass flow_source")
    return options[0] if options else None


def _davis_names(root: Path, split: str | None) -> list[str]:
    frames_root = davis.frames_root(root)
    if not frames_root.is_dir():
        raise InputError(frames_root, "folder not found")
    if split is None:
        return [d.name for d in _subdirs(frames_root)]
    return davis.split_names(root, split)


def _discover_davis(root, split, flow_source, require_flows, require_masks):
    flow_images = root / davis.FLOW_IMAGES
    sources = [d.name for d in _subdirs(flow_images)] if flow_images.is_dir() else []
    source = _pick_source(flow_images, sources, flow_source)
    if source is None and require_flows:
        raise InputError(flow_images, "no flow images (compute them with `fsnet flow`)")
    records = []
    for name in _davis_names(root, split):
        frames = _nonempty(davis.frames_root(root) / name)
        stems = list(frames)
        flows = fields = None
        if source is not None:
            flows = _listing(flow_images / source / name, stems[:-1], "flow", require_flows)
            fields = _files(root / davis.FLOW_FIELDS / source / name, ".flo")
        masks = _listing(davis.annotations_root(root) / name, stems, "mask", require_masks)
        records.append(
            _pair(
                name,
                frames,
                flows,
                masks,
                layout="davis",
                last_has_flow=False,
                require_flows=require_flows,
                require_masks=require_masks,
                fields=fields,
            )
        )
    return records


def _nonempty(folder: Path) -> dict[str, Path]:
    frames = image_files(folder, "frame")
    if not frames:
        raise InputError(folder, "no frames (no .jpg/.png images)")
    return frames


def _discover_testset(root, split, flow_source, require_flows, require_masks):
    del split
    records = []
    for seq in _subdirs(root):
        if not (seq / TESTSET_FRAMES).is_dir():
            continue
        frames = _nonempty(seq / TESTSET_FRAMES)
        stems = list(frames)
        options = [
            d.name
            for d in _subdirs(seq)
            if d.name not in (TESTSET_FRAMES, TESTSET_MASKS)
            and (d.name.startswith("OF_") or "flow" in d.name.lower())
        ]
        source = _pick_source(seq, options, flow_source)
        if source is None and require_flows:
            raise InputError(seq, "no flow folder (such as OF_FlowNet2)")
        flows = _listing(seq / source, stems[:-1], "flow", require_flows) if source else None
        fields = _files(seq / source, ".flo") if source else None  # `fsnet flow` puts them there
        records.append(
            _pair(
                seq.name,
                frames,
                flows,
                _listing(seq / TESTSET_MASKS, stems, "mask", require_masks),
                layout="testset",
                last_has_flow=False,
                require_flows=require_flows,
                require_masks=require_masks,
                fields=fields,
            )
        )
    return records


_NUMBERED = re.compile(r"^(.*?)[_-]?(\d+)$")


def _discover_trainset(root, split, flow_source, require_flows, require_masks):
    """Flat folders paired by stem; each image has its own flow (last frames already left out).

    Sequences are recovered from stems such as ``bear_00012`` (prefix ``bear``).
    """
    del split
    mask_dir = next(
        (root / m for m in TRAINSET_MASK_FOLDERS if (root / m).is_dir()),
        root / TRAINSET_MASK_FOLDERS[0],
    )
    images = _nonempty(root / "Imgs")
    flows = _listing(root / (flow_source or "Flow"), list(images), "flow", require_flows) or {}
    masks = _listing(mask_dir, list(images), "mask", require_masks) or {}
    groups: dict[str, dict[str, Path]] = {}
    for stem, path in images.items():
        match = _NUMBERED.match(stem)
        group = match.group(1) if match and match.group(1) else root.name
        groups.setdefault(group, {})[stem] = path
    return [
        _pair(
            name,
            frames,
            {s: flows[s] for s in frames if s in flows},
            {s: masks[s] for s in frames if s in masks},
            layout="trainset",
            last_has_flow=True,
            require_flows=require_flows,
            require_masks=require_masks,
        )
        for name, frames in sorted(groups.items())
    ]


def _duts_pairs(root: Path) -> list[tuple[Path, Path]]:
    """(image folder, mask folder) pairs named ``X-Image`` / ``X-Mask`` in root or one below."""
    pairs = []
    for folder in [root, *_subdirs(root)]:
        for d in _subdirs(folder):
            if d.name.endswith("-Image") and (d.parent / (d.name[:-6] + "-Mask")).is_dir():
                pairs.append((d, d.parent / (d.name[:-6] + "-Mask")))
    return pairs


def _discover_duts(root, split, flow_source, require_flows, require_masks):
    del flow_source, require_flows  # still images have no flow
    tags = {None: None, "train": "-TR", "test": "-TE"}
    if split not in tags:
        raise InputError(root, f"DUTS splits are train and test (got {split!r})")
    records = []
    for images, masks in _duts_pairs(root):
        if tags[split] is None or tags[split] in images.name:
            frames = _nonempty(images)
            if frames:
                records.append(
                    _pair(
                        images.name[:-6],
                        frames,
                        None,
                        _listing(masks, list(frames), "mask", require_masks),
                        layout="duts",
                        last_has_flow=True,
                        require_flows=False,
                        require_masks=require_masks,
                    )
                )
    return records


# --------------------------------------------------------------------------- validation


def check_dataset_files(
    source: str | os.PathLike | Sequence[SequenceRecord],
    layout: str = "auto",
    split: str | None = None,
    flow_source: str | None = None,
    *,
    require_flows: bool = False,
    require_masks: bool = False,
) -> list[SequenceRecord]:
    """Discover (unless given records) and decode every frame, flow and mask; return the records.

    Checks what discovery cannot: each image decodes completely, each mask has
    its frame's size, each ``.flo`` is well-formed with the frame's size.
    Raises the first problem as an InputError naming the file.
    """
    if isinstance(source, (str, os.PathLike)):
        records = discover_sequences(
            source,
            layout,
            split,
            flow_source,
            require_flows=require_flows,
            require_masks=require_masks,
        )
    else:
        records = list(source)
    for record in records:
        for frame, flow, mask, flo in zip(
            record.frames, record.flows, record.masks, record.flow_fields, strict=True
        ):
            size = read_rgb(frame).shape[:2]
            if flow is not None:
                read_rgb(flow)
            if mask is not None:
                check_same_size(mask, read_mask(mask).shape, size, frame)
            if flo is not None:
                check_same_size(flo, read_flo(flo).shape[:2], size, frame)
    return records


def check_same_size(
    path: Path, shape: tuple[int, ...], frame_size: tuple[int, ...], frame: Path
) -> None:
    """InputError on ``path`` when its size differs from its frame's."""
    if tuple(shape[:2]) != tuple(frame_size[:2]):
        raise InputError(
            path,
            f"size {shape[0]}x{shape[1]} differs from its frame {frame.name} "
            f"({frame_size[0]}x{frame_size[1]})",
        )


def check_frame_size(
    path: Path, shape: tuple[int, ...], first: Path, first_shape: tuple[int, ...]
) -> None:
    """InputError on frame ``path`` when its size differs from its sequence's first frame's."""
    if tuple(shape[:2]) != tuple(first_shape[:2]):
        raise InputError(
            path,
            f"is {shape[1]}x{shape[0]} but {first.name} is {first_shape[1]}x{first_shape[0]}: "
            "every frame of a sequence must have the same size",
        )


__all__ = [
    "LAYOUTS",
    "SequenceRecord",
    "check_dataset_files",
    "check_frame_size",
    "check_same_size",
    "detect_layout",
    "discover_sequences",
]
