"""Weight files in the torch hub cache are hash-checked and loaded as tensors only.

A pickle planted in the cache (TORCH_HOME) must never run: a file whose
SHA-256 does not start with the digits in its name is refused, and a file
with a matching name but Python objects inside is refused by weights_only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from fsnet_core import FSNet
from fsnet_core import flow as F
from fsnet_core.io import InputError, load_weights, weights_file
from fsnet_core.model import backbone


class Planted:
    """Unpickling this creates ``marker``: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture()
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def test_planted_resnet_file_with_the_wrong_digest_is_refused(hub: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    planted = hub / "resnet18-f37072fd.pth"
    torch.save({"conv1.weight": Planted(marker)}, planted)
    with pytest.raises(InputError, match="does not start with f37072fd") as info:
        backbone.imagenet_weights_file("resnet18")
    assert info.value.path == planted and "Delete it" in str(info.value)
    assert not marker.exists()


def test_planted_raft_file_with_the_wrong_digest_is_refused(hub: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    planted = hub / "raft_small_C_T_V2-01064c6d.pth"
    torch.save({"x": Planted(marker)}, planted)
    with pytest.raises(InputError, match="substituted"):
        F.RAFTEstimator("small", device="cpu", weights_url="http://127.0.0.1:9/")
    assert not marker.exists()


def test_code_in_a_file_whose_digest_matches_does_not_run(hub: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    scratch = tmp_path / "evil.pth"
    torch.save({"x": Planted(marker)}, scratch)
    prefix = hashlib.sha256(scratch.read_bytes()).hexdigest()[:8]
    scratch.rename(hub / f"evil-{prefix}.pth")
    url = f"http://127.0.0.1:9/evil-{prefix}.pth"
    with pytest.raises(InputError, match="could run code"):
        load_weights(weights_file(url, what="planted weights"))
    assert not marker.exists()
    explicit = hub / f"evil-{prefix}.pth"
    with pytest.raises(InputError, match="could run code"):
        FSNet(backbone="resnet18", channels=8, imagenet=explicit)
    assert not marker.exists()
