"""The checkpoint's weights descriptor: metadata, input transform, loading and the offline error."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import fsnet_core.data.pretrained as pretrained
from fsnet_core import FSNet, FSNetConfig, FSNetWeights, WeightsNotFound, fsnet
from fsnet_core.course import paper
from fsnet_core.data.assets import get_asset
from fsnet_core.data.download import DownloadError
from fsnet_core.data.transforms import PairTransform
from fsnet_core.model.inputs import from_model_input

WEIGHTS = FSNetWeights.DAVIS16_ICCV21
PROBE = "bpms.3.purify.0.lifts.2.proj.conv.weight"  # an internal key ...
PROBE_OFFICIAL = "module.bpm4.conv9.conv.conv_bn.0.weight"  # ... and the authors' name for it

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def stand_in(official_reference_state, tmp_path_factory):
    """A file in the authors' format (DataParallel keys) holding the reference weights, saved
    in float16 to keep it small: load_official_weights casts to the model's dtype."""
    path = tmp_path_factory.mktemp("weights") / WEIGHTS.file_name
    torch.save({k: v.half() for k, v in official_reference_state.items()}, path)
    return path, official_reference_state[PROBE_OFFICIAL].half().float()


def test_metadata_names_the_file_the_config_and_the_published_scores():
    assert FSNetWeights.verify("DAVIS16_ICCV21") is WEIGHTS
    assert repr(WEIGHTS) == "FSNetWeights.DAVIS16_ICCV21"
    asset = get_asset(WEIGHTS.meta["asset"])  # the download registry reads the descriptor
    assert (asset.url, asset.filename) == (WEIGHTS.url, WEIGHTS.file_name)
    assert WEIGHTS.file_name == "2021-ICCV-FSNet-20epoch-new.pth"
    assert WEIGHTS.config == FSNetConfig() and WEIGHTS.meta["input_size"] == (352, 352)
    assert WEIGHTS.meta["num_params"] == sum(p.numel() for p in FSNet().parameters())
    readme = WEIGHTS.meta["_metrics"]["davis16_val_readme"]
    assert readme["without_crf"]["J_mean"] == 0.823 and readme["with_crf"]["F_mean"] == 0.831
    # the paper's tables read the same numbers
    assert paper.readme_davis16_uvos().loc[False, "J_mean"] == 0.823
    table1 = paper.table1_fsnet().set_index("crf")
    assert (table1.loc[True, "J"], table1.loc[False, "F"]) == (83.4, 83.0)


def test_transforms_give_the_inputs_the_loaders_give():
    g = np.random.default_rng(0)
    frame = g.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    flow_rgb = g.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    image, flow = WEIGHTS.transforms()(frame, flow_rgb)
    assert image.shape == flow.shape == (1, 3, 352, 352) and image.dtype == torch.float32
    loader_image, loader_flow, _ = PairTransform(352)(frame, flow_rgb, None)
    assert torch.allclose(image[0], loader_image, atol=1e-6)
    assert torch.allclose(flow[0], loader_flow, atol=1e-6)
    # ImageNet statistics: undoing them gives the resized frame back
    flat = np.full((40, 60, 3), (200, 100, 50), np.uint8)
    back = from_model_input(WEIGHTS.transforms()(flat, flat)[0])
    assert back.shape == (352, 352, 3) and np.abs(back.astype(int) - flat[0, 0]).max() <= 1
    with pytest.raises(ValueError, match="flow must be an H x W x 3 uint8.*colour image"):
        WEIGHTS.transforms()(frame, np.zeros((120, 200, 2), np.float32))


def test_loads_a_local_file_with_the_authors_keys(stand_in):
    path, expected = stand_in
    model = fsnet(WEIGHTS, path=path)
    assert not model.training and model.config == FSNetConfig()
    assert torch.equal(model.state_dict()[PROBE], expected)
    with pytest.raises(ValueError, match="fits FSNetConfig"):
        fsnet(WEIGHTS, path=path, num_bpm=2)


def test_a_missing_file_is_fetched_into_the_cache_once(stand_in, tmp_path, monkeypatch):
    path, expected = stand_in
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    calls = []

    def fake_download(asset, dest, progress=True, url=None, **retrying):
        calls.append((asset.name, dest, progress))
        assert url is None and set(retrying) == {"retries", "retry_wait"}
        target = dest / asset.target
        dest.mkdir(parents=True)
        shutil.copyfile(path, target)
        return target

    monkeypatch.setattr(pretrained, "download", fake_download)
    model = fsnet("DAVIS16_ICCV21", progress=False)
    cache = tmp_path / "hub" / "checkpoints"
    assert calls == [("fsnet-checkpoint", cache, False)]
    assert WEIGHTS.default_path() == cache / WEIGHTS.file_name
    assert torch.equal(model.state_dict()[PROBE], expected)
    assert pretrained.weights_file(WEIGHTS) == cache / WEIGHTS.file_name and len(calls) == 1


def test_missing_file_offline_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise DownloadError("https://drive.google.com/...: network unreachable\nmore detail")

    monkeypatch.setattr(pretrained, "download", offline)
    expected = tmp_path / "hub" / "checkpoints" / WEIGHTS.file_name
    messages = []
    for attempt in (lambda: fsnet(WEIGHTS), WEIGHTS.get_state_dict):
        with pytest.raises(WeightsNotFound) as err:
            attempt()
        message = str(err.value)
        assert "\n" not in message and message.startswith(f"{expected}: ")
        assert f"save it as {expected}" in message and WEIGHTS.url in message
        messages.append(message)
    reason = "download failed: https://drive.google.com/...: network unreachable"
    assert messages[0].endswith(reason)
    assert "download failed" not in messages[1]  # the model layer never tries the network
    with pytest.raises(WeightsNotFound, match="nope.pth: FSNetWeights.DAVIS16_ICCV21"):
        fsnet(WEIGHTS, path=tmp_path / "nope.pth")


def test_without_weights_the_builder_is_the_plain_model():
    model = fsnet(backbone="resnet18", channels=8, num_bpm=1)
    assert isinstance(model, FSNet) and model.config.num_bpm == 1
