"""The fast predictor gives the float32 model's answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from drawn import drawn_batch as _batch

from fsnet_core import FSNet, FSNetPredictor, fold_batchnorm
from fsnet_core.course.demo import drawn_pair


def _iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a & b).sum() / (a | b).sum().clamp(min=1)).item()


def test_folding_batchnorm_keeps_the_function():
    torch.manual_seed(0)
    model = FSNet(backbone="resnet18", channels=8).eval()
    for m in model.modules():  # non-trivial statistics, so folding has work to do
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    image, flow = torch.randn(1, 3, 64, 64), torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(image, flow)
        count = fold_batchnorm(model)
        after = model(image, flow)
    assert count == sum(1 for m in model.modules() if isinstance(m, torch.nn.Identity))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    for x, y in zip(before, after, strict=True):
        assert torch.allclose(x, y, atol=1e-4, rtol=1e-4)


def test_folding_refuses_a_training_model():
    with pytest.raises(RuntimeError, match="eval"):
        fold_batchnorm(FSNet(backbone="resnet18", channels=8).train())


def test_predictor_masks_agree_with_float32_eager_at_352(trained_model):
    image, flow, truth = _batch(352, [1000, 1001])
    with torch.no_grad():
        eager = trained_model(image, flow).appearance > 0
    predictor = FSNetPredictor(trained_model, precision="auto")
    fast = predictor.masks(image, flow)
    assert fast.shape == eager.shape == (2, 1, 352, 352)
    assert _iou(fast, eager) >= 0.99
    assert _iou(eager, truth > 0) > 0.5  # the model did learn something: the check is not vacuous


def test_predictor_refuses_frames_that_are_not_normalised(trained_model):
    """A uint8 frame passed as it is gave masks without a word, and meaningless ones."""
    image, flow, _ = _batch(64, [5])
    predictor = FSNetPredictor(trained_model, precision="float32")
    assert predictor.masks(image, flow).shape == (1, 1, 64, 64)  # normalised inputs: fine
    frame, _, _ = drawn_pair(64, seed=5)
    raw = torch.from_numpy(frame).permute(2, 0, 1)[None]
    with pytest.raises(ValueError, match=r"^image: a uint8 tensor, but the predictor expects"):
        predictor.masks(raw, flow)
    with pytest.raises(ValueError, match=r"^image: values reach \d+, far outside") as info:
        predictor.masks(raw.float(), flow)
    assert "FSNetInputs" in str(info.value) and "transforms()" in str(info.value)
    with pytest.raises(ValueError, match=r"^flow: values reach"):
        predictor(image, flow * 100)


def test_packed_predictors_of_other_weights_have_other_digests(tiny_fsnet):
    """The digest a manifest records must see the weights inside packed convolutions."""
    from fsnet_core.inference.manifest import model_digest

    model, other = tiny_fsnet(), tiny_fsnet()
    with torch.no_grad():
        other.appearance.layer1[0].conv1.weight.mul_(2.0)  # a convolution that gets packed
    first = FSNetPredictor(model, device="cpu", precision="float32")
    if not first.packed:
        pytest.skip("oneDNN packing is not available on this CPU")
    again = FSNetPredictor(model, device="cpu", precision="float32")
    changed = FSNetPredictor(other, device="cpu", precision="float32")
    assert model_digest(first) == model_digest(again) != model_digest(changed)


def test_predictor_leaves_the_original_model_alone(trained_model):
    before = {k: v.clone() for k, v in trained_model.state_dict().items()}
    predictor = FSNetPredictor(trained_model, precision="bfloat16")
    assert predictor.dtype == torch.bfloat16
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in trained_model.modules())
    after = trained_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_float32_predictor_matches_eager_closely(trained_model):
    image, flow, _ = _batch(96, [7])
    with torch.no_grad():
        eager = trained_model(image, flow)
    fast = FSNetPredictor(trained_model, precision="float32")(image, flow)
    assert fast.appearance.dtype == torch.float32
    assert torch.allclose(fast.appearance, eager.appearance, atol=1e-3)
    assert torch.allclose(torch.sigmoid(fast.motion), torch.sigmoid(eager.motion), atol=1e-3)


def test_drawn_pair_is_deterministic():
    a = drawn_pair(64, seed=3, random_position=True)
    b = drawn_pair(64, seed=3, random_position=True)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_device_policy_is_one_function_for_training_and_inference(monkeypatch):
    from fsnet_core.runtime import resolve_device

    model = FSNet(backbone="resnet18", channels=8).eval()
    if not torch.cuda.is_available():
        assert resolve_device() == torch.device("cpu")
        assert FSNetPredictor(model, precision="float32").device == torch.device("cpu")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            FSNetPredictor(model, device="cuda")  # a clear error, not one deep in a forward pass
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda", local_rank=1) == torch.device("cuda:1")  # a torchrun rank
    assert resolve_device("cuda:0", local_rank=1) == torch.device("cuda:0")  # asked for by name
    assert resolve_device("cpu", local_rank=1) == torch.device("cpu")
