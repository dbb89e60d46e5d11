"""Frames in: a video file (decoded by PyAV, whose wheels carry FFmpeg's codecs) or a folder.

A folder's frames are its images in natural order (``1.png, 2.png, ...,
10.png``, as ffmpeg's ``%d`` names them), read by :mod:`fsnet_core.io.images`.
A video is decoded to its end and the frames counted against what its
container declares, so a truncated file is reported rather than silently
ending early (:func:`open_frames`). :func:`frame_pairs` then picks the frames
to segment and the partner each one's flow goes to.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.layouts import check_frame_size
from ..io import InputError, image_files, read_rgb

VIDEO_EXTS = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
FOLDER_FPS = 25.0
"""Frame rate assumed for a folder of frames (for ``start``/``end`` and the overlay video)."""
IDENTITY_BYTES = 1 << 20
"""How much of a file's beginning its identity digest reads (:func:`source_identity`)."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its number in the video, its output name, its ``H x W x 3`` pixels."""

    index: int
    name: str
    rgb: np.ndarray


def declared_frames(stream: Any, fps: float) -> tuple[int, int] | None:
    """``(frames, tolerance)`` a video stream declares, or None when it says nothing usable.

    The frame count of the index (mp4, mov) is exact; one derived from the
    duration (mkv, webm) is rounded, so it is allowed a frame or two (1 %).
    """
    if stream.frames:
        return int(stream.frames), 0
    if stream.duration and stream.time_base:
        estimate = round(float(stream.duration * stream.time_base) * fps)
        return (estimate, max(2, round(0.01 * estimate))) if estimate > 0 else None
    return None


def shortfall(decoded: int, declared: tuple[int, int] | None) -> str | None:
    """Why ``decoded`` frames fall short of what the container declares, or None if they do not."""
    if declared is None or declared[0] - decoded <= declared[1]:
        return None
    return (
        f"{decoded} frames decoded but the container declares {declared[0]}: the file is "
        "truncated or damaged, so the frames after the last one decoded are missing"
    )


def _video_frames(
    path: Path, strict: bool, warn: Callable[[str], None]
) -> tuple[float, Iterator[Frame]]:
    """The frame rate and the frames of a video file, decoded by PyAV."""
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable video ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise InputError(path, "has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    fps = float(stream.average_rate or stream.guessed_rate or FOLDER_FPS)
    declared = declared_frames(stream, fps)

    def frames() -> Iterator[Frame]:
        index = 0
        try:
            for decoded in container.decode(stream):
                yield Frame(index, f"{index:05d}", decoded.to_ndarray(format="rgb24"))
                index += 1
        except av.FFmpegError as exc:
            raise InputError(path, f"cannot decode frame {index} ({exc})") from exc
        finally:
            container.close()
        # Reached only when the decoder ran out of frames, not when the caller stopped early.
        if (problem := shortfall(index, declared)) is not None:
            if strict:
                raise InputError(path, problem + " (--strict)")
            warn(f"{path}: {problem}")

    return fps, frames()


def _folder_frames(path: Path) -> Iterator[Frame]:
    files = list(image_files(path, "frame").values())
    first: tuple[int, ...] | None = None
    for index, file in enumerate(files):
        rgb = read_rgb(file)
        first = first or rgb.shape
        check_frame_size(file, rgb.shape, files[0], first)
        yield Frame(index, file.stem, rgb)


def _python_warning(message: str) -> None:
    warnings.warn(message, stacklevel=2)


def open_frames(
    path: str | os.PathLike,
    fps: float = FOLDER_FPS,
    *,
    strict: bool = False,
    warn: Callable[[str], None] = _python_warning,
) -> tuple[float, Iterator[Frame]]:
    """The frame rate and a lazy iterator over the frames of a video file or a folder of images.

    A video that ends before the frame count its container declares (a
    truncated download, a copy cut short) is reported through ``warn`` (one
    line naming the file and both counts; a Python warning by default) once
    its last frame has been read, or is an :class:`InputError` if ``strict``.
    """
    path = check_source(path)
    return (fps, _folder_frames(path)) if path.is_dir() else _video_frames(path, strict, warn)


def check_source(path: str | os.PathLike) -> Path:
    """``path`` if it is a folder or a file with a video suffix; InputError otherwise."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such video file or folder of frames")
    if not path.is_dir() and path.suffix.lower() not in VIDEO_EXTS:
        raise InputError(path, f"not a video ({', '.join(VIDEO_EXTS)}) nor a folder of frames")
    return path


def source_identity(path: str | os.PathLike) -> dict[str, Any]:
    """What tells a video (or folder of frames) from another, for a run's manifest.

    ``digest`` covers a video's size and first MiB, or a folder's frame names,
    sizes and the first MiB of its first frame: another clip, or the same clip
    re-encoded or cut, gets another digest; moving or touching it does not.
    """
    path = check_source(path).resolve()
    digest = hashlib.sha256()
    files = list(image_files(path, "frame").values()) if path.is_dir() else [path]
    for file in files:
        digest.update(f"{file.name if path.is_dir() else ''}\0{file.stat().st_size}\0".encode())
    if files:
        with open(files[0], "rb") as f:
            digest.update(f.read(IDENTITY_BYTES))
    kind = "frames" if path.is_dir() else "video"
    return {"path": str(path), "kind": kind, "digest": f"{kind}:{digest.hexdigest()}"}


@dataclass(frozen=True)
class Selection:
    """Which frames to segment: a time window (seconds), every N-th frame, at most M of them."""

    start: float = 0.0
    end: float | None = None
    every: int = 1
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if self.every < 1 or (self.max_frames is not None and self.max_frames < 1):
            raise ValueError("every and max_frames must be at least 1")
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ValueError("need 0 <= start < end")


@dataclass(frozen=True)
class Pair:
    """A frame to segment and the frame its flow goes to; ``backward``: the frame before it."""

    frame: Frame
    partner: Frame
    backward: bool


def frame_pairs(frames: Iterable[Frame], fps: float, selection: Selection) -> Iterator[Pair]:
    """Each selected frame with its flow partner: the next frame of the video if there is one.

    Only the last frame of the video (or of the ``end`` window) pairs with the
    frame before it; skipped frames (``every``) still serve as partners.
    """
    first = math.ceil(selection.start * fps - 1e-6)
    last = math.inf if selection.end is None else selection.end * fps
    limit = selection.max_frames or math.inf
    pending: Frame | None = None
    previous: Frame | None = None
    before_pending: Frame | None = None
    chosen = 0
    for frame in frames:
        if frame.index < first:
            continue
        if frame.index >= last:
            break
        if pending is not None:
            yield Pair(pending, frame, backward=False)
            pending = None
            if chosen >= limit:
                return
        if (frame.index - first) % selection.every == 0 and chosen < limit:
            pending, before_pending = frame, previous
            chosen += 1
        previous = frame
    if pending is not None:
        if before_pending is None:
            raise InputError(
                f"frame {pending.name}", "a single frame: FSNet needs two to see motion"
            )
        yield Pair(pending, before_pending, backward=True)


__all__ = [
    "FOLDER_FPS",
    "VIDEO_EXTS",
    "Frame",
    "Pair",
    "Selection",
    "check_source",
    "declared_frames",
    "frame_pairs",
    "open_frames",
    "shortfall",
    "source_identity",
]
