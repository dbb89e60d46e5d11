"""The three ResNet streams of FSNet, built from torchvision's ResNet.

FSNet runs three ResNets that share no weights: an appearance stream on the
frame, a motion stream on the colour-coded flow, and a "merge" stream that
carries the fused features from one RCAM to the next. The merge stream has no
stem of its own: it starts from the RCAM fusion of the two stems.
"""

from __future__ import annotations

import urllib.error
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision.models import ResNet18_Weights, ResNet34_Weights, ResNet50_Weights

from .config import BACKBONES, Backbone, check_choice

IMAGENET_WEIGHTS = {
    # The authors used torchvision's original ResNet-50 weights (IMAGENET1K_V1).
    "resnet18": ResNet18_Weights.IMAGENET1K_V1,
    "resnet34": ResNet34_Weights.IMAGENET1K_V1,
    "resnet50": ResNet50_Weights.IMAGENET1K_V1,
}


class ResNetStream(nn.Module):
    """A torchvision ResNet without its classifier, run one stage at a time.

    Module names are torchvision's (``conv1``, ``bn1``, ``layer1`` ...), so an
    ImageNet state dict loads into a stream unchanged. ``backbone`` is one of
    :data:`~fsnet_core.model.config.BACKBONES`; any other value raises ``ValueError``.
    """

    def __init__(self, backbone: Backbone, with_stem: bool = True) -> None:
        super().__init__()
        check_choice("backbone", backbone, BACKBONES)
        net = getattr(torchvision.models, backbone)(weights=None)
        self.with_stem = with_stem
        if with_stem:
            self.conv1, self.bn1, self.relu = net.conv1, net.bn1, net.relu
        self.maxpool = net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            net.layer1,
            net.layer2,
            net.layer3,
            net.layer4,
        )

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """Stage 0: 7x7 convolution, batch norm, ReLU (half resolution)."""
        return self.relu(self.bn1(self.conv1(x)))

    def stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Stage 1-4; stage 1 starts with the max-pool (quarter resolution)."""
        if index == 1:
            return self.layer1(self.maxpool(x))
        return getattr(self, f"layer{index}")(x)


class PretrainedWeightsUnavailable(RuntimeError):
    """The ImageNet weights could not be downloaded or read."""


def imagenet_state_dict(backbone: str, path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights for ``backbone``, from ``path`` or the torch hub cache.

    Downloads into the torch hub cache when needed. Offline, raises
    :class:`PretrainedWeightsUnavailable` with the ways to proceed.
    """
    weights = IMAGENET_WEIGHTS[backbone]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise PretrainedWeightsUnavailable(f"{path}: no such ImageNet weights file")
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
            raise PretrainedWeightsUnavailable(
                f"{path}: not a readable torch state dict ({exc})"
            ) from exc
    try:
        return weights.get_state_dict(progress=True, check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
        raise PretrainedWeightsUnavailable(
            f"Could not download torchvision's ImageNet {backbone} weights from {weights.url} "
            f"({exc}). Either train from scratch (imagenet=False / fsnet train --no-imagenet), "
            f"or download the file on a machine with internet and place it at {cache}."
        ) from exc


def load_imagenet_into_streams(
    streams: list[ResNetStream], backbone: str, path: str | Path | None = None
) -> None:
    """Copy ImageNet weights into every stream, as the authors' ``initialize_weights`` does."""
    state = imagenet_state_dict(backbone, path)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    for stream in streams:
        own = stream.state_dict()
        missing = [k for k in own if k not in state]
        if missing:
            raise PretrainedWeightsUnavailable(
                f"ImageNet weights for {backbone} lack {len(missing)} keys, e.g. {missing[:3]}"
            )
        stream.load_state_dict({k: state[k] for k in own}, strict=True)
