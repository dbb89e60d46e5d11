"""Datasets and transforms: item contents, pairing, the three input modes, joint augmentation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from fsnet_core.data.datasets import StaticSaliencyDataset, VideoSegmentationDataset
from fsnet_core.data.synthetic import make_synthetic_dataset, read_meta
from fsnet_core.data.transforms import PairTransform
from fsnet_core.io import InputError
from fsnet_core.model.inputs import IMAGENET_MEAN, IMAGENET_STD

DAVIS_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "davis_sample"
SIZE = (64, 96)


@pytest.fixture(scope="module")
def smoke_set(tmp_path_factory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("syn") / "smoke", smoke=True)


def _unnormalise(x: torch.Tensor) -> np.ndarray:
    """3 x H x W normalised tensor back to H x W x 3 in [0, 1]."""
    return x.permute(1, 2, 0).numpy() * IMAGENET_STD + IMAGENET_MEAN


def _resized_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    small = cv2.resize(bgr, SIZE[::-1], interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32) / 255


def _save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def test_items_hold_normalised_frame_flow_and_binary_mask(smoke_set: Path) -> None:
    ds = VideoSegmentationDataset(smoke_set, split="val", size=SIZE)
    item = ds[5]
    assert item["image"].shape == item["flow"].shape == (3, *SIZE)
    assert item["mask"].shape == (1, *SIZE) and item["image"].dtype == torch.float32
    assert set(item["mask"].unique().tolist()) <= {0.0, 1.0} and item["has_mask"]
    assert item["orig_size"] == (120, 160) and item["index"] == 5
    seq, stem = item["sequence"], item["frame"]
    frame = smoke_set / "JPEGImages" / "480p" / seq / f"{stem}.jpg"
    flow = smoke_set / "FlowImages" / "gt" / seq / f"{stem}.png"
    # the frame and its flow image come back, resized, once ImageNet normalisation is undone
    assert np.abs(_unnormalise(item["image"]) - _resized_rgb(frame)).mean() < 0.03
    assert np.abs(_unnormalise(item["flow"]) - _resized_rgb(flow)).mean() < 0.03
    raw_mask = cv2.imread(str(smoke_set / "Annotations" / "480p" / seq / f"{stem}.png"), 0)
    nearest = cv2.resize(raw_mask, SIZE[::-1], interpolation=cv2.INTER_NEAREST) > 127
    agreement = (item["mask"][0].numpy().astype(bool) == nearest).mean()
    assert agreement > 0.99 and item["mask"].sum() > 0


def test_frame_t_is_paired_with_flow_t_and_last_frames_are_left_out(smoke_set: Path) -> None:
    meta = read_meta(smoke_set)
    ds = VideoSegmentationDataset(smoke_set, split="train", size=32)
    per_clip = meta["frames_per_clip"]
    assert len(ds) == len(meta["splits"]["train"]) * (per_clip - 1)
    last = f"{per_clip - 1:05d}"
    for record, t in ds.samples:
        assert record.frames[t].stem == record.flows[t].stem != last
    assert {ds[i]["frame"] for i in range(len(ds))} == {f"{t:05d}" for t in range(per_clip - 1)}


def test_input_modes_feed_one_picture_to_both_streams(smoke_set: Path) -> None:
    both = VideoSegmentationDataset(smoke_set, split="val", size=SIZE)
    images = VideoSegmentationDataset(smoke_set, split="val", size=SIZE, inputs="image")
    flows = VideoSegmentationDataset(smoke_set, split="val", size=SIZE, inputs="flow")
    assert len(images) == len(both) + len(both.records)  # stills: the last frames count too
    assert len(flows) == len(both)
    item, still, motion = both[3], images[images.samples.index(both.samples[3])], flows[3]
    assert torch.equal(still["image"], still["flow"]) and torch.equal(still["image"], item["image"])
    assert torch.equal(motion["image"], motion["flow"]) and torch.equal(
        motion["flow"], item["flow"]
    )
    assert torch.equal(motion["mask"], item["mask"])
    with pytest.raises(ValueError, match="inputs"):
        VideoSegmentationDataset(smoke_set, inputs="depth")


def test_augmentation_is_joint_and_photometric_on_the_frame_only() -> None:
    """A frame whose red channel *is* the mask: after a random crop the mask must still sit
    on the red pixels of the flow image (same crop); jitter may recolour the frame only."""
    rng = np.random.default_rng(0)
    mask = np.zeros((90, 120), bool)
    mask[20:60, 30:100] = True
    picture = np.zeros((90, 120, 3), np.uint8)
    picture[..., 0] = np.where(mask, 230, 20)
    picture[..., 1:] = rng.integers(60, 120, (90, 120, 2))
    torch.manual_seed(0)
    aug = PairTransform(SIZE, augment=True, crop_scale=(0.3, 0.6))
    plain = PairTransform(SIZE)
    _, resized, _ = plain(picture, picture, mask)
    for _ in range(5):
        frame, flow, out_mask = aug(picture, picture, mask)
        red = _unnormalise(flow)[..., 0] > 0.5
        assert (red == out_mask[0].numpy().astype(bool)).mean() > 0.97
        assert not torch.allclose(frame, flow)  # the frame was jittered, the flow was not
        assert not torch.equal(flow, resized)  # and the crop really changed the view
    still, copy, _ = PairTransform(SIZE, augment=True, jitter=0.0)(picture, picture, mask)
    assert torch.equal(still, copy)


def test_static_saliency_dataset_reads_duts_with_the_image_as_flow(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(3):
        _save(
            tmp_path / "DUTS-TR-Image" / f"im{i}.jpg", rng.integers(0, 255, (40, 50, 3), np.uint8)
        )
        _save(tmp_path / "DUTS-TR-Mask" / f"im{i}.png", np.full((40, 50), 255, np.uint8))
    ds = StaticSaliencyDataset(tmp_path, size=32, augment=True)
    assert len(ds) == 3
    item = ds[1]
    assert torch.equal(item["image"], item["flow"]) and item["mask"].min() == 1.0
    assert item["sequence"] == "DUTS-TR" and item["frame"] == "im1"


def test_video_frames_can_be_used_as_stills(smoke_set: Path) -> None:
    ds = StaticSaliencyDataset(smoke_set, split="train", size=32)
    meta = read_meta(smoke_set)
    assert len(ds) == len(meta["splits"]["train"]) * meta["frames_per_clip"]


def test_sparse_annotations_unlabelled_data_and_bad_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    seq = tmp_path / "FBMS" / "cars1"
    for t in range(4):
        _save(seq / "Frame" / f"{t:03d}.jpg", rng.integers(0, 255, (30, 40, 3), np.uint8))
        if t < 3:
            _save(seq / "OF_FlowNet2" / f"{t:03d}.jpg", rng.integers(0, 255, (30, 40, 3), np.uint8))
    _save(seq / "GT" / "002.png", np.full((30, 40), 255, np.uint8))
    with pytest.raises(InputError, match="no mask"):
        VideoSegmentationDataset(tmp_path / "FBMS", size=16)
    sparse = VideoSegmentationDataset(tmp_path / "FBMS", size=16, annotated_only=True)
    assert [sparse[i]["frame"] for i in range(len(sparse))] == ["002"]
    unlabelled = VideoSegmentationDataset(tmp_path / "FBMS", size=16, require_masks=False)
    assert len(unlabelled) == 3 and not unlabelled[0]["has_mask"]
    assert unlabelled[0]["mask"].sum() == 0 and unlabelled[2]["has_mask"]
    batch = next(iter(torch.utils.data.DataLoader(unlabelled, batch_size=3)))
    assert batch["image"].shape == (3, 3, 16, 16) and batch["has_mask"].tolist() == [0, 0, 1]
    # a truncated frame fails when first read, naming the file
    frame = seq / "Frame" / "001.jpg"
    frame.write_bytes(frame.read_bytes()[:200])
    with pytest.raises(InputError, match="truncated") as err:
        unlabelled[1]
    assert err.value.path == frame
    # a mask that does not fit its frame
    _save(seq / "GT" / "002.png", np.full((10, 40), 255, np.uint8))
    with pytest.raises(InputError, match="differs from its frame") as err:
        sparse[0]
    assert err.value.path == seq / "GT" / "002.png"


@pytest.mark.skipif(not (DAVIS_SAMPLE / "JPEGImages").is_dir(), reason="no ../shared/davis_sample")
def test_real_davis_frames_as_stills_at_model_size() -> None:
    ds = StaticSaliencyDataset(DAVIS_SAMPLE, split="val")
    assert len(ds) == 610
    item = ds[0]
    assert item["image"].shape == (3, 352, 352) and item["orig_size"] == (480, 854)
    assert 0.01 < item["mask"].mean() < 0.5
    with pytest.raises(InputError, match="fsnet flow"):
        VideoSegmentationDataset(DAVIS_SAMPLE, split="val")  # no flow computed in the sample
