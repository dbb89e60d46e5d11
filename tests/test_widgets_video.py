"""The video scrubber: frame | overlay | probability for what ``fsnet segment`` wrote."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

from fsnet_core.course.widgets import VideoScrubber, video_scrubber
from fsnet_core.io import InputError


def test_slider_shows_the_frame_its_overlay_and_its_map():
    frames = [np.full((10, 20, 3), 40 * i, np.uint8) for i in range(3)]
    probs = [np.zeros((10, 20), np.float32) for _ in range(3)]
    probs[2][:, :5] = 0.9  # a quarter of frame 2 is object
    probs[2][:, 5:10] = 0.5  # and another quarter unsure
    viewer = VideoScrubber(frames, probs, ["a", "b", "c"])
    assert viewer.picture_array.shape[1] == 3 * 20 + 2 * 4  # three panels and two gaps
    assert viewer.lines[0].startswith("frame a (1 of 3): 0.0% of the pixels in the mask")
    viewer.frame.value = 2
    assert viewer.lines[0] == (
        "frame c (3 of 3): 25.0% of the pixels in the mask, 25.0% unsure (probability 0.3-0.7)"
    )
    band = viewer.picture_array.shape[0] - 10  # the title band above the panels
    overlay = viewer.picture_array[band:, 24:44]
    assert overlay[0, 0, 0] > overlay[0, 0, 1]  # reddened inside the mask
    assert (overlay[:, 10:] == 80).all()  # untouched outside
    assert viewer.figure() is not None
    with pytest.raises(ValueError):
        VideoScrubber(frames, probs[:2])


def test_video_scrubber_reads_a_segment_folder(tmp_path):
    frames = tmp_path / "frames"
    out = tmp_path / "out"
    (out / "probs").mkdir(parents=True)
    frames.mkdir()
    for i in range(4):
        Image.new("RGB", (64, 32), (i * 50, 0, 0)).save(frames / f"f{i}.png")
    for name in ("f1", "f3"):  # as with --every 2 --start 1/25 s
        Image.fromarray(np.full((32, 64), 200, np.uint8)).save(out / "probs" / f"{name}.png")
    with pytest.raises(InputError, match="no finished `fsnet segment` run"):
        video_scrubber(frames, out)
    (out / "segment.json").write_text(json.dumps({"frames": ["f1", "f3"]}))
    viewer = video_scrubber(frames, out, width=32)
    assert viewer.names == ["f1", "f3"] and viewer.frame.max == 1
    assert viewer.frames[1].shape == (16, 32, 3) and viewer.frames[1][0, 0, 0] == 150
    assert viewer.lines[0].startswith("frame f1 (1 of 2): 100.0% of the pixels in the mask")
