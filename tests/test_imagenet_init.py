"""ImageNet initialisation copies torchvision's weights into all three streams."""

from __future__ import annotations

import pytest
import torch
import torchvision

import fsnet_core.io.weights as io_weights
from fsnet_core import FSNet, WeightsUnavailable
from fsnet_core.io import DownloadError, InputError


@pytest.fixture()
def weights_file(tmp_path):
    """A torchvision ResNet-18 state dict with recognisable values, written by the test."""
    torch.manual_seed(123)
    reference = torchvision.models.resnet18(weights=None)
    for p in reference.parameters():
        p.data.uniform_(-1, 1)
    path = tmp_path / "resnet18-test.pth"
    torch.save(reference.state_dict(), path)
    return path, reference.state_dict()


def test_every_stream_receives_the_imagenet_weights(weights_file):
    path, expected = weights_file
    model = FSNet(backbone="resnet18", channels=8, imagenet=path)
    for stream in (model.appearance, model.motion):
        for key, value in stream.state_dict().items():
            assert torch.equal(value, expected[key]), key
    merge = model.merge.state_dict()
    assert not any(k.startswith(("conv1", "bn1")) for k in merge)  # no stem of its own
    assert all(torch.equal(v, expected[k]) for k, v in merge.items())


def test_wrong_weights_file_is_reported(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(2)}, bad)
    with pytest.raises(InputError, match="bad.pth: not torchvision's ImageNet resnet18.*lacks"):
        FSNet(backbone="resnet18", channels=8, imagenet=bad)
    with pytest.raises(WeightsUnavailable, match="absent.pth: no such ImageNet resnet18"):
        FSNet(backbone="resnet18", channels=8, imagenet=tmp_path / "absent.pth")


def test_offline_download_says_how_to_proceed(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise DownloadError("https://download.pytorch.org/...: could not be reached")

    monkeypatch.setattr(io_weights, "fetch_file", offline)  # the one fetch path
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(WeightsUnavailable) as err:
        FSNet(backbone="resnet18", channels=8, imagenet=True)
    message = str(err.value)
    target = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert message.startswith(f"{target}: ") and "\n" not in message
    assert f"save it as {target}" in message and "could not be reached" in message
    assert "train from scratch" in message
