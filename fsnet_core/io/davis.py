"""The DAVIS folder layout: its names, its split lists and its sequences, written down once.

::

    JPEGImages/480p/SEQ/00000.jpg    Annotations/480p/SEQ/00000.png
    ImageSets/2016/{train,val}.txt   (sequence names, one a line)
    ImageSets/480p/{train,val}.txt   (the official DAVIS-2016 archive: frame paths)
    FlowImages/SOURCE/SEQ/00000.png  Flow/SOURCE/SEQ/00000.flo

The synthetic teaching set and ``../shared/davis_sample`` use it too. The
loaders (:mod:`fsnet_core.data.layouts`), the evaluation
(:mod:`fsnet_core.metrics.evaluate`), the downloads and the course read the
layout through these functions.
"""

from __future__ import annotations

import os
from pathlib import Path

from .files import InputError, atomic_write

RESOLUTION = "480p"
FRAMES = "JPEGImages"
ANNOTATIONS = "Annotations"
IMAGESETS = "ImageSets"
SPLIT_FOLDER = "2016"
FLOW_IMAGES = "FlowImages"
FLOW_FIELDS = "Flow"


def frames_root(root: str | os.PathLike) -> Path:
    """``root/JPEGImages/480p``: one folder of frames per sequence."""
    return Path(root) / FRAMES / RESOLUTION


def annotations_root(root: str | os.PathLike) -> Path:
    """``root/Annotations/480p``: one folder of masks per sequence."""
    return Path(root) / ANNOTATIONS / RESOLUTION


def split_path(root: str | os.PathLike, split: str) -> Path:
    """Where a split list of names is written: ``ImageSets/2016/SPLIT.txt``."""
    return Path(root) / IMAGESETS / SPLIT_FOLDER / f"{split}.txt"


def find_split_list(root: str | os.PathLike, split: str) -> Path | None:
    """The split list of ``root``: ``ImageSets/2016`` (names), else the official
    ``ImageSets/480p`` (frame paths); None when neither exists."""
    for listing in (split_path(root, split), Path(root) / IMAGESETS / RESOLUTION / f"{split}.txt"):
        if listing.is_file():
            return listing
    return None


def read_split_list(listing: str | os.PathLike) -> list[str]:
    """Sequence names, in order and once each, from either kind of split list.

    A line is a name (``bear``) or, in the official archive, a pair of paths
    (``/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png``):
    the sequence is the folder of the first path.
    """
    listing = Path(listing)
    try:
        text = listing.read_text()
    except FileNotFoundError:
        raise InputError(listing, "split list not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(listing, f"split list unreadable ({exc})") from None
    names: dict[str, None] = {}
    for line in text.splitlines():
        parts = line.split()
        if parts:
            first = parts[0]
            names[Path(first).parent.name if "/" in first else first] = None
    return [n for n in names if n]


def split_names(root: str | os.PathLike, split: str) -> list[str]:
    """The sequences of ``split`` under a DAVIS ``root``; InputError when there is no such list
    or it is empty."""
    listing = find_split_list(root, split)
    if listing is None:
        raise InputError(split_path(root, split), f"split list for {split!r} not found")
    names = read_split_list(listing)
    if not names:
        raise InputError(listing, f"the {split} list names no sequence")
    return names


def write_split_list(root: str | os.PathLike, split: str, names: list[str]) -> Path:
    """Write ``ImageSets/2016/SPLIT.txt`` (one name a line), atomically."""
    target = split_path(root, split)
    with atomic_write(target) as tmp:
        tmp.write_text("".join(f"{n}\n" for n in names))
    return target


def sequence_folders(folder: str | os.PathLike) -> list[Path]:
    """The visible sub-folders of ``folder`` (its sequences), sorted by name."""
    folder = Path(folder)
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


__all__ = [
    "ANNOTATIONS",
    "FLOW_FIELDS",
    "FLOW_IMAGES",
    "FRAMES",
    "IMAGESETS",
    "RESOLUTION",
    "SPLIT_FOLDER",
    "annotations_root",
    "find_split_list",
    "frames_root",
    "read_split_list",
    "sequence_folders",
    "split_names",
    "split_path",
    "write_split_list",
]
