"""Samples: what the model sees, the frame and flow to show, and the region labels beside them."""

from __future__ import annotations

import numpy as np
import pytest

from fsnet_core.data.datasets import VideoSegmentationDataset
from fsnet_core.data.samples import load_samples, sequences_with, stack_inputs, with_region
from fsnet_core.data.synthetic import REGION_NAMES, TARGET, make_synthetic_dataset
from fsnet_core.io import InputError


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory):
    return make_synthetic_dataset(tmp_path_factory.mktemp("data") / "smoke", smoke=True)


def test_samples_are_the_dataset_items(smoke_root):
    samples = load_samples(smoke_root, "val", size=48, per_sequence=2)
    dataset = VideoSegmentationDataset(smoke_root, split="val", size=48)
    sequences = sorted({r.name for r in dataset.records})
    assert [s.sequence for s in samples] == [q for q in sequences for _ in range(2)]
    first = samples[0]
    item = next(dataset[i] for i in range(len(dataset)) if dataset[i]["frame"] == first.frame)
    assert first.image.shape == (1, 3, 48, 48)
    assert np.array_equal(first.image[0].numpy(), item["image"].numpy())
    assert first.frame_rgb.shape == (48, 48, 3) and first.frame_rgb.dtype == np.uint8
    # the first and the last frame with a flow of each sequence
    assert [s.frame for s in samples[:2]] == ["00000", "00003"]


def test_regions_are_resized_with_the_mask(smoke_root):
    for s in load_samples(smoke_root, "val", size=40, limit=3):
        assert s.regions.shape == s.mask.shape == (40, 40)
        assert set(np.unique(s.regions)) <= set(REGION_NAMES)
        # the target label and the ground-truth mask agree almost everywhere
        assert (s.region(TARGET) == s.mask).mean() > 0.97


def test_selection_and_errors(smoke_root):
    samples = load_samples(smoke_root, "val", size=32)
    assert len(load_samples(smoke_root, "val", size=32, limit=2)) == 2
    assert with_region(samples, TARGET, min_pixels=1) == [s for s in samples if s.mask.any()]
    assert with_region(samples, TARGET, min_pixels=10**6) == []
    image, flow = stack_inputs(samples[:3])
    assert image.shape == flow.shape == (3, 3, 32, 32)
    with pytest.raises(ValueError, match="no sequence named nope"):
        load_samples(smoke_root, "val", sequences=["nope"])
    with pytest.raises(ValueError, match="no samples"):
        stack_inputs([])


def test_sequences_with_hazards(smoke_root, tmp_path):
    import json

    meta = json.loads((smoke_root / "meta.json").read_text())
    val = meta["splits"]["val"]
    assert sequences_with(smoke_root, "val", ()) == val
    ripple = [n for n in val if meta["sequences"][n]["hazards"]["ripple"]]
    assert sequences_with(smoke_root, "val", ["ripple"]) == ripple
    assert sequences_with(smoke_root, "val", ["ripple", "no-such-hazard"]) == []
    with pytest.raises(ValueError, match="no split 'test'"):
        sequences_with(smoke_root, "test")
    with pytest.raises(InputError, match="not a synthetic dataset"):
        sequences_with(tmp_path)
