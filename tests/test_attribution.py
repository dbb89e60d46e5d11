"""Attribution: completeness of integrated gradients, shapes, an input that provably does not
matter gets exactly nothing, and the per-region cue table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fsnet_core.analysis import attribution as A
from fsnet_core.data.samples import Sample
from fsnet_core.data.synthetic import DISTRACTOR, MOVING_BACKGROUND, TARGET

SIZE = 32


pytestmark = pytest.mark.usefixtures("single_thread")


def inputs(n=2, dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    image = torch.randn(n, 3, SIZE, SIZE, generator=g, dtype=dtype)
    flow = torch.randn(n, 3, SIZE, SIZE, generator=g, dtype=dtype)
    region = torch.zeros(n, SIZE, SIZE, dtype=dtype)
    region[:, 8:20, 10:24] = 1
    return image, flow, region


def test_region_score_is_the_mean_logit_inside(tiny_fsnet):
    model = tiny_fsnet()
    image, flow, region = inputs()
    score = A.RegionScore(model)(image, flow, region)
    logits = model(image, flow).appearance[:, 0]
    expected = torch.stack([logits[i][region[i] > 0].mean() for i in range(2)])
    assert torch.allclose(score, expected, atol=1e-6)
    motion = A.RegionScore(model, "motion")(image, flow, region)
    assert not torch.allclose(motion, score)
    with pytest.raises(ValueError, match="output"):
        A.RegionScore(model, "edges")


def test_integrated_gradients_add_up_to_the_score_change(tiny_fsnet):
    """Completeness: sum of attributions = score(input) - score(baseline), up to IG's error."""
    model = tiny_fsnet()
    image, flow, region = inputs()
    result = A.integrated_gradients(model, image, flow, region, n_steps=32)
    assert result.image.shape == result.flow.shape == (2, 3, SIZE, SIZE)
    image_total, flow_total = result.totals()
    change = (result.score - result.baseline_score).numpy()
    assert np.all(np.abs(change) > 1e-4)  # the test would be empty otherwise
    # ReLU kinks make the 32-point quadrature a few per cent off (1-4 % here)
    assert np.allclose(image_total + flow_total, change, rtol=0.06, atol=0)
    assert np.allclose(result.delta.numpy(), image_total + flow_total - change, atol=1e-6)
    # the baseline is the mean colour for the frame and white (zero motion) for the flow
    b_image, b_flow = A.default_baselines(image, flow)
    assert torch.count_nonzero(b_image) == 0
    white = (b_flow[0, :, 0, 0].numpy() * A.IMAGENET_STD + A.IMAGENET_MEAN).round(6)
    assert np.allclose(white, 1.0)


@pytest.mark.parametrize("irrelevant", ["motion", "appearance"])
def test_an_input_the_model_cannot_see_gets_no_attribution(irrelevant, tiny_fsnet):
    """Zeroing a stream's first convolution makes its input provably irrelevant: every later
    activation of that stream is a constant, so gradients and occlusion effects are exactly 0."""
    model = tiny_fsnet()
    getattr(model, irrelevant).conv1.weight.data.zero_()
    image, flow, region = inputs()
    ig = A.integrated_gradients(model, image, flow, region, n_steps=4)
    occ = A.occlusion(model, image, flow, region, window=16, stride=16)
    for result in (ig, occ):
        silent = result.flow if irrelevant == "motion" else result.image
        loud = result.image if irrelevant == "motion" else result.flow
        assert torch.count_nonzero(silent) == 0
        assert loud.abs().sum() > 0
        assert np.allclose(result.image_share(), 1.0 if irrelevant == "motion" else 0.0)


def test_occlusion_and_gradcam_shapes_and_scores(tiny_fsnet):
    model = tiny_fsnet()
    image, flow, region = inputs()
    occ = A.occlusion(model, image, flow, region, window=16, stride=16)
    assert occ.image.shape == occ.flow.shape == (2, 3, SIZE, SIZE)
    # one window covering the whole top-left quarter: every pixel of it gets the same value
    quarter = occ.image[0, 0, :16, :16]
    assert torch.allclose(quarter, quarter[0, 0].expand_as(quarter))
    for stage in (0, 3):
        cam = A.layer_gradcam(model, image, flow, region, stage=stage)
        assert cam.image.shape == cam.flow.shape == (2, 1, SIZE, SIZE)
        assert cam.baseline_score is None and cam.score.shape == (2,)
        image_map, flow_map = cam.maps()
        assert image_map.shape == (2, SIZE, SIZE) and np.abs(flow_map).sum() > 0
    with pytest.raises(ValueError, match="stage"):
        A.stage_layer(model.appearance, 5)


def test_inputs_are_checked_and_the_default_region_is_the_prediction(tiny_fsnet):
    model = tiny_fsnet()
    image, flow, region = inputs()
    with pytest.raises(ValueError, match="same|N x 3"):
        A.integrated_gradients(model, image, flow[:, :, :16], region)
    with pytest.raises(ValueError, match="does not fit"):
        A.as_region(region[:, :16], image)
    with pytest.raises(ValueError, match="method"):
        A.attribute("saliency", model, image, flow)
    model.train()
    with pytest.raises(ValueError, match="eval mode"):
        A.integrated_gradients(model, image, flow, region)
    model.eval()
    predicted = A.predicted_region(model, image, flow)
    assert predicted.shape == (2, 1, SIZE, SIZE)
    assert A.as_region(region[0].numpy() > 0, image).shape == (2, 1, SIZE, SIZE)


def _sample(seed: int, with_ripple: bool) -> Sample:
    g = torch.Generator().manual_seed(seed)
    regions = np.zeros((SIZE, SIZE), np.uint8)
    regions[4:14, 4:14] = TARGET
    regions[18:28, 4:14] = DISTRACTOR
    if with_ripple:
        regions[18:28, 18:28] = MOVING_BACKGROUND
    regions[0, 0] = MOVING_BACKGROUND  # a single pixel: below min_pixels when no ripple
    return Sample(
        sequence=f"seq{seed}",
        frame="00000",
        image=torch.randn(1, 3, SIZE, SIZE, generator=g),
        flow=torch.randn(1, 3, SIZE, SIZE, generator=g),
        mask=regions == TARGET,
        regions=regions,
    )


def test_cue_table_has_one_row_per_sample_and_region(tiny_fsnet):
    model = tiny_fsnet()
    samples = [_sample(0, with_ripple=True), _sample(1, with_ripple=False)]
    table = A.cue_contributions(model, samples, n_steps=32)
    assert list(zip(table.sequence, table.label, strict=True)) == [
        ("seq0", TARGET),
        ("seq0", DISTRACTOR),
        ("seq0", MOVING_BACKGROUND),
        ("seq1", TARGET),
        ("seq1", DISTRACTOR),
    ]
    assert list(table.pixels) == [100, 100, 101, 100, 100]  # the ripple includes pixel (0, 0)
    assert table.image_share.between(0, 1).all()
    assert table.probability.between(0, 1).all()
    # each row's totals explain its own region's score change, not another region's
    change = table.score - table.baseline_score
    assert np.allclose(table.image_total + table.flow_total, change, rtol=0.1, atol=2e-4)
    assert table.score.nunique() == len(table)
    summary = A.summarise_cues(table)
    assert list(summary.label) == [TARGET, DISTRACTOR, MOVING_BACKGROUND]
    assert list(summary.cases) == [2, 2, 1]
    assert np.allclose(summary.image_share + summary.flow_share, 1.0)
    occ = A.cue_contributions(model, samples[:1], [TARGET], method="occlusion", window=16)
    assert len(occ) == 1
    with pytest.raises(ValueError, match="nothing|no attributions"):
        A.summarise_cues(A.cue_contributions(model, samples, [TARGET], min_pixels=10**6))
