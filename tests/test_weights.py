"""The checkpoint's weights descriptor: metadata, input transform, loading and the offline error."""

from __future__ import annotations

import hashlib
import inspect
import shutil

import numpy as np
import pytest
import torch
from torchvision.models import WeightsEnum

import fsnet_core.io.weights as io_weights
from fsnet_core import FSNet, FSNetConfig, FSNetWeights, WeightsUnavailable, fsnet
from fsnet_core.course import paper
from fsnet_core.data.assets import get_asset
from fsnet_core.data.transforms import PairTransform
from fsnet_core.io import DownloadError, InputError
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
    model = fsnet(weights=WEIGHTS, path=path)
    assert not model.training and model.config == FSNetConfig()
    assert torch.equal(model.state_dict()[PROBE], expected)
    assert torch.equal(WEIGHTS.build(path).state_dict()[PROBE], expected)
    with pytest.raises(ValueError, match="fits FSNetConfig"):
        fsnet(weights=WEIGHTS, path=path, num_bpm=2)


def test_the_builder_and_get_state_dict_keep_torchvisions_contract():
    """``fsnet(*, weights, progress, **kwargs)`` as ``resnet50``; ``get_state_dict`` takes
    torch.hub's arguments (``progress=``, ``check_hash=``) as ``WeightsEnum``'s does."""
    builder = inspect.signature(fsnet).parameters
    assert all(p.kind is p.KEYWORD_ONLY for n, p in builder.items() if n != "kwargs")
    assert builder["weights"].default is None and builder["progress"].default is True
    ours = inspect.signature(FSNetWeights.get_state_dict).parameters
    hub = inspect.signature(torch.hub.load_state_dict_from_url).parameters
    assert list(ours)[1:] == [n for n in hub if n not in ("url", "weights_only")]
    assert FSNetWeights.get_state_dict is not WeightsEnum.get_state_dict


def fetched_by_a_fake_transfer(monkeypatch, source):
    """Make the floor's one fetch path copy ``source`` instead of downloading; record calls."""
    calls = []

    def fake_fetch_file(url, dest, *, progress=True, sha256=None, check=None, **rest):
        calls.append((url, dest, progress, sha256))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        return dest

    monkeypatch.setattr(io_weights, "fetch_file", fake_fetch_file)
    return calls


def test_a_missing_file_is_fetched_into_the_cache_once(stand_in, tmp_path, monkeypatch):
    path, expected = stand_in
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("FSNET_LAB_MIRROR", raising=False)
    calls = fetched_by_a_fake_transfer(monkeypatch, path)
    model = fsnet(weights="DAVIS16_ICCV21", progress=False)
    cache = tmp_path / "hub" / "checkpoints"
    assert calls == [(WEIGHTS.url, cache / WEIGHTS.file_name, False, None)]
    assert WEIGHTS.default_path() == cache / WEIGHTS.file_name
    assert torch.equal(model.state_dict()[PROBE], expected)
    state = WEIGHTS.get_state_dict(progress=False, check_hash=True)  # torchvision's keywords
    assert torch.equal(state[PROBE_OFFICIAL].float(), expected) and len(calls) == 1


def test_a_pinned_digest_is_enforced_on_download_and_on_every_load(stand_in, tmp_path, monkeypatch):
    """A stand-in pin: the authors' real digest is not recorded (AUTHORS_CHECKPOINT_SHA256)."""
    path, _ = stand_in
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(WEIGHTS.meta, "sha256", good)
    calls = fetched_by_a_fake_transfer(monkeypatch, path)
    assert fsnet(weights=WEIGHTS, progress=False).config == FSNetConfig()
    assert calls[0][3] == good  # the download is checked against the pin
    cached = WEIGHTS.default_path()
    cached.write_bytes(cached.read_bytes() + b"tampered")
    with pytest.raises(InputError, match=f"is not {good}, as pinned") as err:
        fsnet(weights=WEIGHTS)
    assert err.value.path == cached and hashlib.sha256(cached.read_bytes()).hexdigest() in str(
        err.value
    )
    with pytest.raises(InputError, match="as pinned"):
        fsnet(weights=WEIGHTS, path=cached)  # a local path is held to the pin too
    assert len(calls) == 1


def test_missing_file_offline_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise DownloadError("https://drive.google.com/...: network unreachable\nmore detail")

    monkeypatch.setattr(io_weights, "fetch_file", offline)
    expected = tmp_path / "hub" / "checkpoints" / WEIGHTS.file_name
    for attempt in (lambda: fsnet(weights=WEIGHTS), WEIGHTS.get_state_dict):
        with pytest.raises(WeightsUnavailable) as err:
            attempt()
        message = str(err.value)
        assert "\n" not in message and message.startswith(f"{expected}: ")
        assert f"save it as {expected}" in message and WEIGHTS.url in message
        assert "network unreachable more detail" in message  # why, on the same line
        assert "fsnet download fsnet-checkpoint" in message
    assert isinstance(err.value, FileNotFoundError)  # what callers caught before
    with pytest.raises(WeightsUnavailable, match="nope.pth: FSNetWeights.DAVIS16_ICCV21"):
        fsnet(weights=WEIGHTS, path=tmp_path / "nope.pth")


def test_without_weights_the_builder_is_the_plain_model():
    model = fsnet(backbone="resnet18", channels=8, num_bpm=1)
    assert isinstance(model, FSNet) and model.config.num_bpm == 1
