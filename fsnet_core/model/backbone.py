"""The three ResNet streams of FSNet, built from torchvision's ResNet.

FSNet runs three ResNets that share no weights: an appearance stream on the
frame, a motion stream on the colour-coded flow, and a "merge" stream that
carries the fused features from one RCAM to the next. The merge stream has no
stem of its own: it starts from the RCAM fusion of the two stems.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision.models import ResNet18_Weights, ResNet34_Weights, ResNet50_Weights

from ..io import InputError, WeightsUnavailable, check_digest, load_weights, weights_file
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


def imagenet_weights_file(backbone: str, path: str | Path | None = None) -> Path:
    """torchvision's ImageNet weights file for ``backbone``: ``path``, or the torch hub cache's.

    The cache's copy comes from :func:`fsnet_core.io.weights_file` (downloaded
    when missing, its SHA-256 checked against the digits in its name before
    every load); ``path`` is read as given, its name's digits checked if it
    carries them. Offline, :class:`~fsnet_core.io.WeightsUnavailable` says
    where to put the file, or to train from scratch.
    """
    if path is None:
        return weights_file(
            IMAGENET_WEIGHTS[backbone].url,
            what=f"torchvision's ImageNet {backbone} weights",
            advice=" (its SHA-256 is checked against its name), or train from scratch "
            "(imagenet=False / fsnet train --no-imagenet)",
        )
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailable(path, f"no such ImageNet {backbone} weights file")
    check_digest(path)
    return path


def load_imagenet_into_streams(
    streams: list[ResNetStream], backbone: str, path: str | Path | None = None
) -> None:
    """Copy ImageNet weights into every stream, as the authors' ``initialize_weights`` does.

    The file is read with ``weights_only=True``, so no file can run code.
    """
    file = imagenet_weights_file(backbone, path)
    state = load_weights(file)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    for stream in streams:
        own = stream.state_dict()
        missing = [k for k in own if k not in state]
        if missing:
            raise InputError(
                file,
                f"not torchvision's ImageNet {backbone} weights: lacks {len(missing)} keys, "
                f"e.g. {missing[:3]}",
            )
        stream.load_state_dict({k: state[k] for k in own}, strict=True)
