"""Pre-packed oneDNN convolutions for CPU inference.

In eager PyTorch every CPU convolution first re-orders its weight into
oneDNN's blocked layout, and every ReLU and residual addition is a separate
pass over memory. For the paper's FSNet at 352x352 on two cores that is
more than a quarter of the predictor's time. Here each (batch-norm-folded)
convolution keeps its weight packed for the input shape it sees and does its
ReLU, or its residual addition and ReLU, as oneDNN post-ops: what
``torch.compile``'s freezing passes do, without minutes of compilation.

The packed ops are PyTorch's own (``torch.ops.mkldnn``, the ones inductor
emits); :func:`onednn_available` says whether this build has them. Packed
modules are for inference only: no autograd, no pickling.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

from ..model.backbone import ResNetStream


def onednn_available() -> bool:
    """True when this PyTorch build can run pre-packed oneDNN convolutions on the CPU."""
    ops = torch.ops.mkldnn
    return (
        torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
        and hasattr(ops, "_convolution_pointwise")
        and hasattr(ops, "_reorder_convolution_weight")
    )


def packing_supported(dtype: torch.dtype) -> bool:
    """True when oneDNN packs weights of ``dtype`` on this CPU.

    float32 always packs; bfloat16 and float16 need native support (AVX512-BF16,
    AMX, AVX-NE-CONVERT): an AVX2-only processor refuses to reorder them.
    """
    if not onednn_available():
        return False
    if dtype == torch.float32:
        return True
    if dtype == torch.bfloat16:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if dtype == torch.float16:
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    return False


class PackedConv2d(nn.Module):
    """A ``Conv2d`` whose weight is packed once per input shape, with an optional ReLU.

    ``forward(x, residual)`` computes ``act(conv(x) + residual)`` in one oneDNN call;
    inputs of a dtype this CPU cannot pack (:func:`packing_supported`) take
    PyTorch's plain convolution instead, with the same result.
    """

    def __init__(self, conv: nn.Conv2d, relu: bool = False) -> None:
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError("PackedConv2d needs numeric zero padding")
        # Buffers, so that the state dict (and the digest a manifest records) holds the weights.
        self.register_buffer("weight", conv.weight.detach())
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach())
        self.padding, self.stride = list(conv.padding), list(conv.stride)
        self.dilation, self.groups = list(conv.dilation), conv.groups
        self.activation = "relu" if relu else "none"
        self._packed: dict[tuple[tuple[int, ...], torch.dtype], torch.Tensor] = {}

    def _packed_weight(self, x: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), x.dtype)
        packed = self._packed.get(key)
        if packed is None:
            packed = torch.ops.mkldnn._reorder_convolution_weight(
                self.weight.to(x.dtype),
                self.padding,
                self.stride,
                self.dilation,
                self.groups,
                list(x.shape),
            )
            self._packed[key] = packed
        return packed

    def _unpacked(self, x: torch.Tensor, residual: torch.Tensor | None) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.to(x.dtype)
        y = nn.functional.conv2d(
            x, self.weight.to(x.dtype), bias, self.stride, self.padding, self.dilation, self.groups
        )
        if residual is not None:
            y = y + residual
        return torch.relu(y) if self.activation == "relu" else y

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        if not packing_supported(x.dtype):
            return self._unpacked(x, residual)
        weight = self._packed_weight(x)
        bias = None if self.bias is None else self.bias.to(x.dtype)
        geometry = (self.padding, self.stride, self.dilation, self.groups)
        if residual is None:
            return torch.ops.mkldnn._convolution_pointwise(
                x, weight, bias, *geometry, self.activation, [], ""
            )
        unary = "relu" if self.activation == "relu" else None  # binary ops reject "none"
        return torch.ops.mkldnn._convolution_pointwise.binary(
            x, residual, weight, bias, *geometry, "add", None, unary, [], ""
        )

    def extra_repr(self) -> str:
        out, inp = self.weight.shape[0], self.weight.shape[1] * self.groups
        kernel = tuple(self.weight.shape[2:])
        return f"{inp}, {out}, kernel_size={kernel}, stride={tuple(self.stride)}, {self.activation}"


class PackedResidualBlock(nn.Module):
    """torchvision's ``BasicBlock`` or ``Bottleneck`` (batch norm folded) as packed convs:
    ReLU fused into every convolution but the last, which also adds the shortcut."""

    def __init__(self, block: BasicBlock | Bottleneck) -> None:
        super().__init__()
        depth = 3 if isinstance(block, Bottleneck) else 2
        names = [f"conv{i}" for i in range(1, depth + 1)]
        if not all(isinstance(getattr(block, f"bn{i}"), nn.Identity) for i in range(1, depth + 1)):
            raise ValueError("fold the batch norms before packing a residual block")
        self.convs = nn.ModuleList(PackedConv2d(getattr(block, n), relu=True) for n in names)
        self.downsample = block.downsample
        if self.downsample is not None:
            self.downsample = _pack_children(self.downsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = x
        for conv in self.convs[:-1]:
            out = conv(out)
        return self.convs[-1](out, residual=shortcut)


def _pack_children(module: nn.Module) -> nn.Module:
    for name, child in module.named_children():
        setattr(module, name, pack_convolutions(child))
    return module


def pack_convolutions(model: nn.Module) -> nn.Module:
    """Replace the convolutions of a batch-norm-folded, eval-mode model by packed ones.

    Residual blocks become :class:`PackedResidualBlock`; a ResNet stem's
    convolution takes its ReLU in. Works in place; returns the model (or the
    replacement, when ``model`` itself is a convolution or a block).
    """
    if isinstance(model, nn.Conv2d):
        return PackedConv2d(model)
    if isinstance(model, BasicBlock | Bottleneck):
        return PackedResidualBlock(model)
    if isinstance(model, ResNetStream) and model.with_stem and isinstance(model.bn1, nn.Identity):
        model.conv1 = PackedConv2d(model.conv1, relu=True)
        model.relu = nn.Identity()
    return _pack_children(model)


__all__ = [
    "PackedConv2d",
    "PackedResidualBlock",
    "onednn_available",
    "pack_convolutions",
    "packing_supported",
]
