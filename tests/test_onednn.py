"""Pre-packed oneDNN convolutions compute what PyTorch's own convolutions compute."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

from fsnet_core import FSNet, FSNetPredictor, fold_batchnorm
from fsnet_core.inference.onednn import (
    PackedConv2d,
    PackedResidualBlock,
    onednn_available,
    pack_convolutions,
    packing_supported,
)
from fsnet_core.model.backbone import ResNetStream

pytestmark = pytest.mark.skipif(not onednn_available(), reason="no oneDNN in this torch build")


def _randomise_batchnorm(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 3, "padding": 1},
        {"kernel_size": 1, "bias": False},
        {"kernel_size": 7, "stride": 2, "padding": 3},
        {"kernel_size": 3, "padding": 2, "dilation": 2, "groups": 2},
    ],
)
@pytest.mark.parametrize("relu", [False, True])
def test_packed_conv_matches_conv2d(kwargs, relu):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, **kwargs).eval()
    packed = PackedConv2d(conv, relu=relu)
    x = torch.randn(2, 8, 21, 19).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        expected = conv(x)
        expected = torch.relu(expected) if relu else expected
        got = packed(x)
        assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5)
        # the residual form adds before the activation, as a ResNet block does
        residual = torch.randn_like(expected)
        want = conv(x) + residual
        want = torch.relu(want) if relu else want
        assert torch.allclose(packed(x, residual=residual), want, atol=1e-5, rtol=1e-5)


def test_packed_weights_are_kept_per_input_shape_and_dtype():
    conv = nn.Conv2d(4, 4, 3, padding=1).eval()
    packed = PackedConv2d(conv)
    with torch.inference_mode():
        for shape in [(1, 4, 16, 16), (1, 4, 16, 16), (2, 4, 8, 12)]:
            x = torch.randn(shape)
            assert torch.allclose(packed(x), conv(x), atol=1e-5)
        assert len(packed._packed) == 2
        x = torch.randn(1, 4, 16, 16, dtype=torch.bfloat16)
        assert torch.allclose(packed(x).float(), conv.bfloat16()(x).float(), atol=0.1)
        # a CPU without native bfloat16 runs the plain convolution and packs nothing
        assert len(packed._packed) == (3 if packing_supported(torch.bfloat16) else 2)


@pytest.mark.parametrize("block_type", [BasicBlock, Bottleneck])
def test_packed_residual_block_matches_the_folded_block(block_type):
    torch.manual_seed(0)
    width = 16 if block_type is BasicBlock else 4
    downsample = nn.Sequential(
        nn.Conv2d(16, width * block_type.expansion, 1, stride=2, bias=False),
        nn.BatchNorm2d(width * block_type.expansion),
    )
    block = block_type(16, width, stride=2, downsample=downsample).eval()
    _randomise_batchnorm(block)
    x = torch.randn(1, 16, 24, 24)
    with torch.inference_mode():
        expected = block(x)
        with pytest.raises(ValueError, match="fold the batch norms"):
            PackedResidualBlock(block)
        fold_batchnorm(block)
        packed = pack_convolutions(block)
        assert isinstance(packed, PackedResidualBlock)
        assert isinstance(packed.downsample[0], PackedConv2d)
        assert torch.allclose(packed(x), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("backbone", ["resnet18", "resnet50"])
def test_packed_fsnet_matches_the_float32_model(backbone):
    torch.manual_seed(0)
    model = FSNet(backbone=backbone, channels=8).eval()
    _randomise_batchnorm(model)
    image, flow = torch.randn(1, 3, 96, 96), torch.randn(1, 3, 96, 96)
    with torch.inference_mode():
        expected = model(image, flow)
        fold_batchnorm(model)
        pack_convolutions(model)
        got = model(image, flow)
    assert not any(isinstance(m, nn.Conv2d) for m in model.modules())
    stems = [s for s in model.modules() if isinstance(s, ResNetStream) and s.with_stem]
    assert len(stems) == 2 and all(isinstance(s.relu, nn.Identity) for s in stems)
    for a, b in zip(got, expected, strict=True):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-3)


def test_predictor_packs_on_cpu_unless_asked_not_to():
    model = FSNet(backbone="resnet18", channels=8).eval()
    assert FSNetPredictor(model, device="cpu").packed
    plain = FSNetPredictor(model, device="cpu", pack=False)
    assert not plain.packed
    assert any(isinstance(m, nn.Conv2d) for m in plain.model.modules())
    assert not FSNetPredictor(model, device="cpu", fold_bn=False).packed
    # bfloat16 packs only where the CPU supports it natively (AVX2-only CPUs refuse)
    low = FSNetPredictor(model, device="cpu", precision="bfloat16")
    assert low.packed == packing_supported(torch.bfloat16)
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        want = model(image, image).appearance
    assert (low(image, image).appearance - want).abs().max() < 0.5
