"""Videos out: H.264 mp4 files that browsers play, GIFs, and the red mask overlay.

Every writer here moves its file into place only when it is complete, so an
interrupted run never leaves a half-written video under the final name.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..io import atomic_write
from .frames import FOLDER_FPS

GIF_MAX_FPS = 10.0
GIF_WIDTH = 320
GIF_MAX_FRAMES = 600
H264_PRESET = "superfast"
"""x264's speed preset: half the CPU of ``veryfast`` (9 vs 17 ms a 480p frame) for a file about
a tenth larger, so the encoder does not slow ``fsnet segment`` down at small network sizes."""


def tint(frame: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The frame with the mask blended in red (what the overlay video shows)."""
    red = np.zeros_like(frame)
    red[..., 0] = 255
    blended = cv2.addWeighted(frame, 1.0 - alpha, red, alpha, 0.0)
    return np.where(mask[..., None], blended, frame)


class H264Writer:
    """Writes frames as an H.264 mp4 that browsers play (yuv420p, index first: ``+faststart``).

    The file appears under its name only when :meth:`close` succeeds. yuv420p
    needs even sides, so an odd last row or column is dropped.
    """

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 23) -> None:
        self.path = Path(path)
        self.fps = fps
        self.crf = crf
        self._tmp = self.path.with_name(f".{self.path.name}.part")
        self._container: Any = None
        self._stream: Any = None

    def _open(self, height: int, width: int) -> None:
        import av

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(
            str(self._tmp), "w", format="mp4", container_options={"movflags": "+faststart"}
        )
        stream = self._container.add_stream(
            "libx264", rate=Fraction(self.fps).limit_denominator(1001)
        )
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": H264_PRESET}
        self._stream = stream

    @contextlib.contextmanager
    def _naming_the_file(self) -> Iterator[None]:
        """FFmpeg's errors (a folder that refuses the file, a full disk) name no file: name it."""
        try:
            yield
        except OSError as exc:
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc

    def add(self, rgb: np.ndarray) -> None:
        import av

        with self._naming_the_file():
            if self._container is None:
                self._open(*rgb.shape[:2])
            even = np.ascontiguousarray(rgb[: self._stream.height, : self._stream.width])
            frame = av.VideoFrame.from_ndarray(even, format="rgb24")
            self._container.mux(self._stream.encode(frame))

    def close(self) -> Path:
        if self._container is None:
            raise ValueError(f"{self.path}: no frame to write")
        with self._naming_the_file():
            self._container.mux(self._stream.encode(None))
            self._container.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abandon(self) -> None:
        if self._container is not None:
            self._container.close()
            self._tmp.unlink(missing_ok=True)


def write_video(
    frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float = FOLDER_FPS, crf: int = 23
) -> Path:
    """Encode ``H x W x 3`` uint8 frames as an H.264 mp4 (e.g. to make a clip to segment)."""
    writer = H264Writer(path, fps, crf)
    try:
        for rgb in frames:
            writer.add(rgb)
        return writer.close()
    except BaseException:
        writer.abandon()
        raise


class OverlayWriter:
    """The overlay frames as an H.264 mp4 and a small GIF (at most 10 frames/s, 320 wide)."""

    def __init__(self, path: Path, gif_path: Path, fps: float, crf: int) -> None:
        self.video = H264Writer(path, fps, crf)
        self.gif_path = gif_path
        self.fps = fps
        self._gif: list[Any] = []
        self._gif_step = max(1, math.ceil(fps / GIF_MAX_FPS))
        self._count = 0

    def add(self, rgb: np.ndarray) -> None:
        self.video.add(rgb)
        if self._count % self._gif_step == 0 and len(self._gif) < GIF_MAX_FRAMES:
            self._gif.append(self._gif_frame(rgb))
        self._count += 1

    @staticmethod
    def _gif_frame(rgb: np.ndarray) -> Any:
        from PIL import Image

        h, w = rgb.shape[:2]
        if w > GIF_WIDTH:
            small = (GIF_WIDTH, round(h * GIF_WIDTH / w))
            rgb = cv2.resize(rgb, small, interpolation=cv2.INTER_AREA)
        # Fast octree: under a millisecond a frame; the default median cut takes over 100 ms,
        # more than the network at small sizes.
        return Image.fromarray(rgb).quantize(colors=128, method=Image.Quantize.FASTOCTREE)

    def close(self) -> None:
        """Finish both files and move them into place (nothing is left half-written)."""
        if not self._count:
            return
        self.video.close()
        with atomic_write(self.gif_path) as tmp:
            self._gif[0].save(
                tmp,
                format="GIF",
                save_all=True,
                append_images=self._gif[1:],
                duration=round(1000 * self._gif_step / self.fps),
                loop=0,
            )

    def abandon(self) -> None:
        self.video.abandon()


__all__ = [
    "GIF_MAX_FPS",
    "GIF_WIDTH",
    "H264Writer",
    "OverlayWriter",
    "tint",
    "write_video",
]
