"""RCAM with one cue broken, and how far the gates move from 0.5."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fsnet_core.analysis.attention import INERT_GATE_DISTANCE, gate_movement
from fsnet_core.analysis.degraded import DEGRADATIONS, cue_response, degrade
from fsnet_core.flow.formats import flow_to_color
from fsnet_core.metrics.uvos import jaccard
from fsnet_core.model.inputs import from_model_input, to_model_input

pytestmark = pytest.mark.usefixtures("single_thread")


def inputs(n: int = 3, size: int = 32, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, size, size, generator=g), torch.randn(n, 3, size, size, generator=g)


def set_gates(model, bias: float, stage: int | None = None, gate: str | None = None) -> None:
    """Every gate conv of ``model`` (or one stage's, one gate's) zeroed, with this bias:
    the gate is then sigmoid(bias) whatever the input."""
    for k, rcam in enumerate(model.rcam):
        for name in ("motion_to_appearance", "appearance_to_motion"):
            module = getattr(rcam, name)
            if module is None or (stage is not None and k != stage) or gate not in (None, name):
                continue
            with torch.no_grad():
                module.conv.weight.zero_()
                module.conv.bias.fill_(bias)


def trace(model, n: int = 2):
    with torch.no_grad():
        return model.forward_with_intermediates(*inputs(n))


# ------------------------------------------------------------------ how far the gates move


def test_gates_at_one_half_barely_move_and_a_biased_gate_does(tiny_fsnet):
    model = tiny_fsnet()
    set_gates(model, 0.0)  # sigmoid(0) = 0.5 everywhere: an untrained RCAM
    still = gate_movement(trace(model))
    assert list(still.index) == [0, 1, 2, 3, 4]
    assert (still["mean gate"] == 0.5).all() and (still["mean |gate - 0.5|"] == 0).all()
    assert still["barely moves"].all()

    set_gates(model, 2.0, stage=3, gate="motion_to_appearance")  # opens one gate of stage 3
    traced = trace(model)
    moved = gate_movement(traced)
    channels = traced.stages[3].appearance.shape[1]
    opened = float(torch.sigmoid(torch.tensor(2.0)))
    row = moved.loc[3]
    assert row["mean |gate - 0.5|"] == pytest.approx((opened - 0.5) / 2)  # half the values moved
    assert row["largest |gate - 0.5|"] == pytest.approx(opened - 0.5)
    assert (row["lowest"], row["highest"]) == pytest.approx((0.5, opened))
    values = torch.tensor([opened] * channels + [0.5] * channels)  # the two gates of stage 3
    assert row["spread across channels"] == pytest.approx(float(values.std()))
    assert not row["barely moves"] and moved.drop(index=3)["barely moves"].all()
    assert row["mean |gate - 0.5|"] > INERT_GATE_DISTANCE


def test_gate_movement_reads_the_one_gate_of_a_simplex_model(tiny_fsnet):
    simplex = tiny_fsnet(rcam="appearance_to_motion")
    set_gates(simplex, -1.0)
    table = gate_movement(trace(simplex))
    assert table["lowest"].tolist() == pytest.approx([float(torch.sigmoid(torch.tensor(-1.0)))] * 5)
    with pytest.raises(ValueError, match="stage 0 has no gate"):
        gate_movement(trace(tiny_fsnet(rcam="none")))


# ------------------------------------------------------------------ breaking a cue


def test_still_flow_is_the_white_image_of_no_motion_and_keeps_the_frame():
    image, flow = inputs()
    new_image, new_flow = degrade(image, flow, "still flow")
    assert new_image is image and new_flow.shape == flow.shape
    assert (from_model_input(new_flow[2]) == 255).all()  # the colour wheel's centre is white
    white = to_model_input(flow_to_color(np.zeros((32, 32, 2), np.float32)))
    assert torch.equal(new_flow[1:2], white)


def test_flat_frame_is_each_frames_mean_colour_and_keeps_the_flow():
    image, flow = inputs()
    new_image, new_flow = degrade(image, flow, "flat frame")
    assert new_flow is flow
    for i in range(3):
        for c in range(3):
            plane = new_image[i, c]
            assert torch.allclose(plane, image[i, c].mean().expand_as(plane))


def test_noisy_flow_is_drawn_from_its_seed():
    image, flow = inputs()
    a = degrade(image, flow, "noisy flow", seed=3)[1]
    assert torch.equal(a, degrade(image, flow, "noisy flow", seed=3)[1])
    assert not torch.equal(a, degrade(image, flow, "noisy flow", seed=4)[1])
    assert not torch.equal(a[0], a[1])  # each frame its own field
    assert float(a.std()) > 0.1  # a field of colours, not one colour


def test_bad_degradations_are_refused():
    image, flow = inputs()
    with pytest.raises(ValueError, match="unknown degradation 'blur'; choose one of still flow"):
        degrade(image, flow, "blur")
    with pytest.raises(ValueError, match="must both be N x 3 x H x W"):
        degrade(image, flow[:, :, :16], "still flow")


@pytest.mark.parametrize("how", list(DEGRADATIONS))
def test_only_the_gate_computed_from_the_broken_cue_can_move(tiny_fsnet, how):
    model = tiny_fsnet()
    image, flow = inputs()
    masks = [np.zeros((32, 32), bool), np.ones((32, 32), bool), np.eye(32, dtype=bool)]
    response = cue_response(model, image, flow, how, masks=masks, seed=5)
    gates = response.gates
    assert len(gates) == 5 * 2 * 3  # stages x gates x frames
    broken = gates[gates.reads_broken_cue]
    assert set(broken.reads) == {DEGRADATIONS[how].cue}
    untouched = gates[~gates.reads_broken_cue]
    assert (untouched["shift"] == 0).all() and (untouched["abs_shift"] == 0).all()
    assert (broken["abs_shift"] > 0).all()

    # Every number is the two forward passes' gates, compared.
    with torch.no_grad():
        clean = model.forward_with_intermediates(image, flow)
        after = model.forward_with_intermediates(*degrade(image, flow, how, seed=5))
    gate = "motion_to_appearance" if DEGRADATIONS[how].cue == "motion" else "appearance_to_motion"
    a, b = getattr(clean.stages[2], gate), getattr(after.stages[2], gate)
    row = gates[(gates.stage == 2) & (gates.direction == gate) & (gates.frame == 1)].iloc[0]
    assert row["clean"] == pytest.approx(float(a[1].mean()))
    assert row["degraded"] == pytest.approx(float(b[1].mean()))
    assert row["shift"] == pytest.approx(float((b[1] - a[1]).mean()))
    assert row["abs_shift"] == pytest.approx(float((b[1] - a[1]).abs().mean()))
    assert row["frame_spread"] == pytest.approx(float(a.std(0).mean()))

    summary = response.summary()
    assert len(summary) == 10
    line = summary.loc[(2, gate)]
    part = gates[(gates.stage == 2) & (gates.direction == gate)]
    assert line["shift"] == pytest.approx(part["shift"].mean())
    assert line["shift sd"] == pytest.approx(part["shift"].std())
    sign = np.sign(part["shift"].mean())
    assert line["same sign"] == pytest.approx((np.sign(part["shift"]) == sign).mean())
    other = summary[~summary.reads_broken_cue]
    assert other["same sign"].isna().all()  # nothing moved: no sign to share

    logits = after.appearance_logits[:, 0].numpy()
    expected = [jaccard(p > 0, m) for p, m in zip(logits, masks, strict=True)]
    assert response.scores.J_degraded.tolist() == pytest.approx(expected)
    assert response.scores.J_clean.iloc[0] in (0.0, 1.0)  # empty mask: 1 only if nothing predicted


def test_cue_response_without_masks_has_no_scores_and_checks_their_count(tiny_fsnet):
    model = tiny_fsnet()
    image, flow = inputs(n=2)
    assert cue_response(model, image, flow, "still flow").scores.empty
    with pytest.raises(ValueError, match="2 frames but 1 masks"):
        cue_response(model, image, flow, "still flow", masks=[np.zeros((32, 32), bool)])
