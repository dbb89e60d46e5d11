"""The video scrubber: step through a segmented video, frame | overlay | probability.

Why: an overlay video plays too fast to see *where* a mask goes wrong, and
which frames. The slider stops on any frame and shows the probability map
beside the mask, so a flicker in the video becomes a map that was near 0.5.
Reads what :func:`fsnet_core.inference.segment.segment_video` wrote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import ipywidgets as widgets
import numpy as np

from ...inference.frames import open_frames
from ...inference.segment import MANIFEST
from ...io import InputError, read_map
from ..viz import COLOUR_NAMES, PREDICTION, overlay, tile
from .base import PictureViewer


class VideoScrubber(PictureViewer):
    """A frame slider over ``frames`` (``H x W x 3`` uint8) and their probability maps.

    ``probabilities[i]`` is ``H x W`` uint8 (0-255, as saved) or float in [0, 1];
    the mask shown is probability > 0.5, as ``fsnet segment`` writes it, tinted in the
    course's prediction colour (the overlay video's red tint is ``fsnet segment``'s own).
    """

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        probabilities: Sequence[np.ndarray],
        names: Sequence[str] | None = None,
    ) -> None:
        if not frames or len(frames) != len(probabilities):
            raise ValueError(f"{len(frames)} frames but {len(probabilities)} probability maps")
        self.frames = list(frames)
        self.probabilities = [
            p.astype(np.float32) / 255.0 if p.dtype == np.uint8 else p for p in probabilities
        ]
        self.names = list(names) if names is not None else [str(i) for i in range(len(frames))]
        self.frame = widgets.IntSlider(
            value=0, min=0, max=len(frames) - 1, description="frame", continuous_update=False
        )
        super().__init__([self.frame])
        self.refresh()

    def render(self) -> tuple[np.ndarray, list[str]]:
        i = self.frame.value
        frame, prob = self.frames[i], self.probabilities[i]
        mask = prob > 0.5
        picture = tile(
            [frame, overlay(frame, mask, PREDICTION), prob],
            ["frame", f"mask ({COLOUR_NAMES[PREDICTION]})", "probability"],
        )
        lines = [
            f"frame {self.names[i]} ({i + 1} of {len(self.frames)}): "
            f"{mask.mean():.1%} of the pixels in the mask, "
            f"{((prob > 0.3) & (prob < 0.7)).mean():.1%} unsure (probability 0.3-0.7)"
        ]
        return picture, lines


def video_scrubber(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    width: int = 320,
    fps: float = 25.0,
) -> VideoScrubber:
    """A :class:`VideoScrubber` over what ``fsnet segment SOURCE --out OUT_DIR`` wrote.

    Frames are scaled to ``width`` pixels (aspect kept) to keep the widget light;
    ``fps`` is the frame rate used for a folder of frames (as in segment).
    """
    out = Path(out_dir)
    try:
        names = json.loads((out / MANIFEST).read_text())["frames"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(out / MANIFEST, "no finished `fsnet segment` run here") from exc
    wanted = set(names)
    frames, probs = [], []
    for frame in open_frames(source, fps)[1]:
        if frame.name not in wanted:
            continue
        h, w = frame.rgb.shape[:2]
        small = (width, max(1, round(h * width / w)))
        frames.append(cv2.resize(frame.rgb, small, interpolation=cv2.INTER_AREA))
        prob = read_map(out / "probs" / f"{frame.name}.png")
        probs.append(cv2.resize(prob, small, interpolation=cv2.INTER_AREA))
        if len(frames) == len(names):
            break
    return VideoScrubber(frames, probs, names[: len(frames)])


__all__ = ["VideoScrubber", "video_scrubber"]
