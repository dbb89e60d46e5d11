"""The floor's one reader: one mask rule, natural frame order, and the two scorers agreeing on it.

Training validation (``train.validate.validation_scores`` over the dataset loader) and
``fsnet eval`` (``metrics.evaluate``) once read masks by two rules: a grey mask of
0/2 labels was empty to one and an object to the other, and a 16-bit 0/255 file was
divided by 257. Both now go through :mod:`fsnet_core.io.images`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader

from fsnet_core.data.datasets import VideoSegmentationDataset
from fsnet_core.data.layouts import discover_sequences
from fsnet_core.io import InputError
from fsnet_core.io.images import (
    NOTES,
    image_files,
    natural_sorted,
    read_levels,
    read_map,
    read_mask,
)
from fsnet_core.metrics.evaluate import evaluate_folder
from fsnet_core.model import FSNetOutput
from fsnet_core.train import validate as train_validate

SIDE = 32
FRAMES = 5


def _square(top: int, left: int, side: int = 12) -> np.ndarray:
    mask = np.zeros((SIDE, SIDE), bool)
    mask[top : top + side, left : left + side] = True
    return mask


TRUTH = _square(8, 8)
PREDICTION = _square(11, 11)  # overlaps the truth: 81 / 207 pixels
EXPECTED_J = (9 * 9) / (2 * 144 - 81)


def _save(path: Path, mask: np.ndarray, style: str) -> None:
    """``mask`` saved as a user might: 0/255, 0/1, 0/2 labels, 8 or 16 bit, palette."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if style == "palette":
        image = Image.fromarray(mask.astype(np.uint8), mode="P")
        image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
        image.save(path)
        return
    value = {"0/255": 255, "0/1": 1, "0/2": 2, "0/255 16-bit": 255, "0/2 16-bit": 2}[style]
    dtype = np.uint16 if "16-bit" in style else np.uint8
    Image.fromarray((mask * value).astype(dtype)).save(path)


# --------------------------------------------------------------------------- one mask rule
@pytest.mark.parametrize("style", ["0/255", "0/1", "0/2", "0/255 16-bit", "0/2 16-bit", "palette"])
def test_every_way_of_saving_a_mask_reads_as_the_same_mask(tmp_path: Path, style: str) -> None:
    _save(tmp_path / "m.png", TRUTH, style)
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), TRUTH)


def test_a_16_bit_file_is_read_on_its_stored_values_unless_they_exceed_255(tmp_path) -> None:
    grey = np.arange(16, dtype=np.uint16).reshape(4, 4) * 17  # 0..255
    Image.fromarray(grey).save(tmp_path / "low.png")
    low = read_levels(tmp_path / "low.png")
    np.testing.assert_array_equal(low.values, grey.astype(np.uint8))
    assert low.note == NOTES["16bit_as_8bit"]
    Image.fromarray(grey * 257).save(tmp_path / "full.png")  # the same map on the 16-bit scale
    full = read_levels(tmp_path / "full.png")
    np.testing.assert_array_equal(full.values, grey.astype(np.uint8))
    assert full.note == NOTES["16bit_scaled"]
    Image.fromarray(grey.astype(np.uint8)).save(tmp_path / "eight.png")
    assert read_levels(tmp_path / "eight.png").note is None


def test_a_colour_image_is_refused_naming_the_file(tmp_path: Path) -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    with pytest.raises(InputError, match="colour image") as err:
        read_map(tmp_path / "colour.png")
    assert err.value.path == tmp_path / "colour.png"


# --------------------------------------------------------------------------- natural order
def test_frame_names_sort_by_their_numbers() -> None:
    names = [f"{i}.png" for i in (1, 10, 11, 12, 2, 3)]
    assert natural_sorted(names) == [f"{i}.png" for i in (1, 2, 3, 10, 11, 12)]
    padded = [f"{i:05d}.jpg" for i in (3, 1, 10, 2)]
    assert natural_sorted(padded) == sorted(padded)  # DAVIS names: unchanged
    assert natural_sorted(["cars_10", "cars_9", "bear_2"]) == ["bear_2", "cars_9", "cars_10"]


def test_image_files_lists_ffmpeg_names_in_order_and_refuses_twin_stems(tmp_path: Path) -> None:
    for i in range(1, 13):
        _save(tmp_path / "seq" / f"{i}.png", TRUTH, "0/255")
    assert list(image_files(tmp_path / "seq")) == [str(i) for i in range(1, 13)]
    _save(tmp_path / "seq" / "3.bmp", TRUTH, "0/255")
    with pytest.raises(InputError, match="same frame name"):
        image_files(tmp_path / "seq")


def _testset(root: Path, frames: int, mask_style: str = "0/255") -> Path:
    """The authors' test layout with ffmpeg's ``%d`` frame names (1.jpg ... N.jpg)."""
    rng = np.random.default_rng(0)
    for i in range(1, frames + 1):
        seq = root / "clip"
        (seq / "Frame").mkdir(parents=True, exist_ok=True)
        rgb = rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)
        Image.fromarray(rgb).save(seq / "Frame" / f"{i}.jpg")
        _save(seq / "GT" / f"{i}.png", _square(i, i, 6), mask_style)
    return root


def test_loaders_pair_frames_in_natural_order(tmp_path: Path) -> None:
    root = _testset(tmp_path / "set", 12)
    record = discover_sequences(root)[0]
    assert [p.stem for p in record.frames] == [str(i) for i in range(1, 13)]
    assert [p.stem for p in record.masks] == [str(i) for i in range(1, 13)]


def test_flow_pairs_each_ffmpeg_named_frame_with_the_next_by_number(tmp_path: Path) -> None:
    from fsnet_core.data.flow_cache import flow_jobs

    job = flow_jobs(_testset(tmp_path / "set", 12), "dis")[0]
    pairs = [(job.frames[i].stem, job.outputs(i)[1].stem) for i in range(len(job.frames) - 1)]
    assert [a for a, _ in pairs] == [str(i) for i in range(1, 12)]  # 9 -> 10, never 1 -> 10
    assert [b.stem for b in job.frames[1:]] == [str(i) for i in range(2, 13)]


def test_eval_scores_the_official_frames_of_ffmpeg_named_sequences(tmp_path: Path) -> None:
    """First and last frame by number are left out: a text sort would drop 9 and score 1."""
    root = _testset(tmp_path / "set", 12)
    pred = tmp_path / "pred" / "clip"
    for i in range(1, 13):
        right = _square(i, i, 6)
        _save(pred / f"{i}.png", right if i not in (1, 12) else ~right, "0/255")
    result = evaluate_folder(tmp_path / "pred", root, "uvos")
    assert result.overall["J_mean"] == 1.0
    assert list(result.per_frame.loc["clip"].index) == [str(i) for i in range(2, 12)]


# ------------------------------------------------- training validation and fsnet eval agree
class _FixedPrediction(nn.Module):
    """A stand-in network whose fused logits are +4 on ``PREDICTION`` and -4 elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("logits", torch.tensor(np.where(PREDICTION, 4.0, -4.0))[None, None])

    def forward(self, image: torch.Tensor, flow: torch.Tensor) -> FSNetOutput:
        logits = self.logits.float().expand(image.shape[0], 1, SIDE, SIDE)
        return FSNetOutput(logits, logits)


def _davis(root: Path, mask_style: str) -> Path:
    rng = np.random.default_rng(1)
    for t in range(FRAMES):
        for top, ext in (("JPEGImages/480p", "jpg"), ("FlowImages/gt", "png")):
            if top.startswith("Flow") and t == FRAMES - 1:
                continue  # the last frame has no flow
            path = root / top / "seq" / f"{t:05d}.{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)).save(path)
        _save(root / "Annotations/480p/seq" / f"{t:05d}.png", TRUTH, mask_style)
    (root / "ImageSets/2016").mkdir(parents=True)
    (root / "ImageSets/2016/val.txt").write_text("seq\n")
    return root


@pytest.mark.parametrize("pred_style", ["0/255", "0/255 16-bit"])
@pytest.mark.parametrize("mask_style", ["0/255", "0/1", "0/2", "0/255 16-bit", "0/2 16-bit"])
def test_training_validation_and_fsnet_eval_give_the_same_j(
    tmp_path: Path, mask_style: str, pred_style: str
) -> None:
    root = _davis(tmp_path / "DAVIS", mask_style)
    dataset = VideoSegmentationDataset(root, split="val", size=SIDE)
    during_training = train_validate.validation_scores(
        _FixedPrediction(), DataLoader(dataset, batch_size=2), "finetune", torch.device("cpu")
    )
    for t in range(FRAMES):  # the same prediction, as `fsnet infer` writes it
        _save(tmp_path / "pred" / "seq" / f"{t:05d}.png", PREDICTION, pred_style)
    evaluated = evaluate_folder(tmp_path / "pred", root, "uvos")
    assert during_training.J == pytest.approx(EXPECTED_J)
    assert evaluated.overall["J_mean"] == pytest.approx(EXPECTED_J)
