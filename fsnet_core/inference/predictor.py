"""Fast inference: the same network, prepared for speed rather than for training.

Batch norm is folded into the preceding convolutions, tensors are laid out
channels-last, and the forward pass runs under ``torch.inference_mode`` in
reduced precision (bfloat16 on CPUs with native bf16, float16 on CUDA). The
weights are cast once, when the predictor is built: autocast would cast every
weight again on every call, a fifth of the CPU time at 352x352. On the CPU the
convolutions are then pre-packed for oneDNN with their ReLUs and residual
additions fused (:mod:`.onednn`). Optionally the whole graph is handed to
``torch.compile`` with weight freezing instead: the first call then takes
minutes on a small CPU.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..model.architecture import FSNetOutput
from ..runtime import Precision, resolve_device, resolve_precision
from .onednn import pack_convolutions, packing_supported


def _fold_pair(parent: nn.Module, conv_name: str, bn_name: str) -> bool:
    conv, bn = getattr(parent, conv_name, None), getattr(parent, bn_name, None)
    if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
        setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
        setattr(parent, bn_name, nn.Identity())
        return True
    return False


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every eval-mode batch norm into the convolution before it, in place.

    Knows the three places FSNet has such pairs: ``ConvBN`` (``conv``/``bn``),
    torchvision's residual blocks and stems (``convN``/``bnN``), and
    ``downsample`` sequences (``Conv2d`` then ``BatchNorm2d``). Returns the count.
    """
    if model.training:
        raise RuntimeError("fold_batchnorm needs a model in eval mode")
    folded = 0
    for module in list(model.modules()):
        folded += _fold_pair(module, "conv", "bn")
        for i in range(1, 4):
            folded += _fold_pair(module, f"conv{i}", f"bn{i}")
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in zip(names, names[1:], strict=False):
                folded += _fold_pair(module, a, b)
    return folded


NORMALISED_LIMIT = 10.0
"""Largest magnitude accepted as an ImageNet-normalised input (which spans about -2.1 to 2.6)."""

_HOW = (
    "the predictor expects ImageNet-normalised float tensors (values about -2.1 to 2.6): "
    "prepare frames and flow colour images with fsnet_core.model.inputs.FSNetInputs "
    "(FSNetWeights.DAVIS16_ICCV21.transforms() gives one)"
)


def check_model_input(x: torch.Tensor, what: str) -> None:
    """ValueError when ``x`` is plainly not normalised: integers, or pixel values of 0-255.

    A uint8 frame passed as it is gives masks without an error otherwise, and
    wrong ones. (Values in 0-1 cannot be told from normalised ones.)
    """
    if not torch.is_floating_point(x):
        raise ValueError(f"{what}: a {str(x.dtype).removeprefix('torch.')} tensor, but {_HOW}")
    if x.numel():
        top = float(x.detach().abs().amax())
        if top > NORMALISED_LIMIT:
            raise ValueError(
                f"{what}: values reach {top:.4g}, far outside the normalised range, but {_HOW}"
            )


class FSNetPredictor:
    """Wraps a trained FSNet for fast inference; the original model is left untouched.

    ``predictor(image, flow)`` returns float32 logits as an :class:`FSNetOutput`;
    :meth:`probabilities` and :meth:`masks` give sigmoid maps and binary masks.
    ``device`` and ``precision`` follow :mod:`fsnet_core.runtime` (``None`` and ``"auto"``:
    the GPU if there is one, and the fastest dtype the device computes natively);
    ``pack=False`` keeps PyTorch's own convolutions (for comparison).
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device | None = None,
        precision: Precision = "auto",
        channels_last: bool = True,
        fold_bn: bool = True,
        compile: bool = False,
        pack: bool = True,
    ) -> None:
        self.device = resolve_device(device or "auto")
        self.dtype = resolve_precision(precision, self.device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        net = copy.deepcopy(model).float().eval()
        if fold_bn:
            fold_batchnorm(net)
        net = net.to(self.device, self.dtype, memory_format=self.memory_format)
        # Pre-packed oneDNN convolutions need folded batch norms; inductor packs on its own.
        self.packed = (
            pack
            and self.device.type == "cpu"
            and fold_bn
            and not compile
            and packing_supported(self.dtype)
        )
        if self.packed:
            pack_convolutions(net)
        # Freezing lets inductor fold the (now constant) weights and pre-pack them
        # for oneDNN on CPU; it is what makes compilation pay off for inference.
        self.model = torch.compile(net, options={"freezing": True}) if compile else net

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, self.dtype).contiguous(memory_format=self.memory_format)

    @torch.inference_mode()
    def __call__(self, image: torch.Tensor, flow: torch.Tensor) -> FSNetOutput:
        """Logits for ``N x 3 x H x W`` normalised frames and flow images (checked first)."""
        check_model_input(image, "image")
        check_model_input(flow, "flow")
        out = self.model(self._prepare(image), self._prepare(flow))
        return FSNetOutput(out[0].float().contiguous(), out[1].float().contiguous())

    def probabilities(self, image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Sigmoid of the appearance (fused) logits: the map the authors save."""
        return torch.sigmoid(self(image, flow).appearance)

    def masks(self, image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Binary masks (logit > 0, i.e. probability > 0.5)."""
        return self(image, flow).appearance > 0


__all__ = [
    "NORMALISED_LIMIT",
    "FSNetPredictor",
    "check_model_input",
    "fold_batchnorm",
]
