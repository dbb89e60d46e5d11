"""Every configuration builds and runs, and each ablation removes exactly what it says."""

from __future__ import annotations

import itertools

import pytest
import torch

from fsnet_core import FSNet, FSNetConfig
from fsnet_core.model.backbone import ResNetStream
from fsnet_core.model.bpm import BPM
from fsnet_core.model.config import BACKBONES, BPM_MODES, RCAM_MODES
from fsnet_core.model.rcam import APPEARANCE_TO_MOTION, MOTION_TO_APPEARANCE, RCAM, RCAM_GATES

SMALL = dict(backbone="resnet18", channels=8)


def _inputs(h=64, w=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, h, w, generator=g), torch.randn(2, 3, h, w, generator=g)


def test_default_is_the_paper_configuration():
    cfg = FSNetConfig()
    assert (cfg.backbone, cfg.channels, cfg.num_bpm, cfg.rcam, cfg.bpm) == (
        "resnet50",
        32,
        4,
        "full",
        "both",
    )
    assert cfg.is_paper and not cfg.replace(num_bpm=2).is_paper
    assert FSNetConfig.from_dict(cfg.replace(num_bpm=2).to_dict()) == cfg.replace(num_bpm=2)


@pytest.mark.parametrize(
    "bad", [dict(backbone="vgg16"), dict(rcam="half"), dict(bpm="x"), dict(num_bpm=-1)]
)
def test_invalid_configurations_are_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        FSNetConfig(**bad)


@pytest.mark.parametrize(
    "backbone,rcam,bpm,num_bpm",
    [
        ("resnet18", "full", "both", 0),
        ("resnet34", "appearance_to_motion", "enrich", 1),
        ("resnet18", "motion_to_appearance", "purify", 2),
        ("resnet18", "none", "both", 1),
    ],
)
def test_variants_run_at_any_input_size(backbone, rcam, bpm, num_bpm):
    model = FSNet(backbone=backbone, rcam=rcam, bpm=bpm, num_bpm=num_bpm, channels=8).eval()
    image, flow = _inputs(72, 100)  # not multiples of 32
    with torch.no_grad():
        out = model(image, flow)
    assert out.appearance.shape == out.motion.shape == (2, 1, 72, 100)
    assert torch.isfinite(out.appearance).all() and torch.isfinite(out.motion).all()


def test_rcam_modes_build_only_their_attention():
    counts = {}
    for mode in ("full", "appearance_to_motion", "motion_to_appearance", "none"):
        model = FSNet(rcam=mode, **SMALL)
        a2m = sum(r.appearance_to_motion is not None for r in model.rcam)
        m2a = sum(r.motion_to_appearance is not None for r in model.rcam)
        counts[mode] = (a2m, m2a)
    assert counts == {
        "full": (5, 5),
        "appearance_to_motion": (5, 0),
        "motion_to_appearance": (0, 5),
        "none": (0, 0),
    }


def _unit_gain(model: FSNet) -> FSNet:
    """Re-initialise the head convolutions to unit gain.

    The authors' N(0, 0.01) initialisation makes the BPM products so small that
    their effect vanishes below floating-point resolution; unit gain keeps every
    path measurable.
    """
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d) and not name.startswith(("appearance", "motion.")):
            fan_in = module.weight[0].numel()
            torch.nn.init.normal_(module.weight, std=fan_in**-0.5)
    return model


def _motion_logits_depend_on_image(**overrides) -> bool:
    torch.manual_seed(0)
    model = _unit_gain(FSNet(**SMALL, **overrides)).double().eval()
    image, flow = (x.double() for x in _inputs())
    other_image = _inputs(seed=1)[0].double()
    with torch.no_grad():
        return not torch.equal(model(image, flow).motion, model(other_image, flow).motion)


def test_motion_branch_hears_appearance_only_through_purification():
    # Eq. 6 (purify) is the only path from the fused features into the motion pyramid.
    assert _motion_logits_depend_on_image(bpm="both", num_bpm=1)
    assert _motion_logits_depend_on_image(bpm="purify", num_bpm=1)
    assert not _motion_logits_depend_on_image(bpm="enrich", num_bpm=2)
    assert not _motion_logits_depend_on_image(num_bpm=0)


def test_enrich_only_leaves_the_motion_pyramid_untouched():
    model = FSNet(bpm="enrich", num_bpm=2, **SMALL).eval()
    with torch.no_grad():
        trace = model.forward_with_intermediates(*_inputs())
    for before, after in itertools.pairwise(trace.pyramids):
        assert all(torch.equal(a, b) for a, b in zip(before[1], after[1], strict=True))
        assert not any(torch.equal(a, b) for a, b in zip(before[0], after[0], strict=True))


def test_trace_matches_forward_and_exposes_every_stage():
    model = FSNet(num_bpm=3, **SMALL).eval()
    image, flow = _inputs()
    with torch.no_grad():
        out = model(image, flow)
        trace = model.forward_with_intermediates(image, flow)
    assert torch.equal(trace.appearance_logits, out.appearance)
    assert torch.equal(trace.motion_logits, out.motion)
    assert len(trace.stages) == 5 and len(trace.pyramids) == 4
    channels = model.config.stage_channels
    for stage, c in zip(trace.stages, channels, strict=True):
        assert stage.appearance_to_motion.shape == stage.motion_to_appearance.shape == (2, c)
        assert ((stage.appearance_to_motion > 0) & (stage.appearance_to_motion < 1)).all()
        assert stage.merged_after.shape[1] == c
    # the trace records what each gate produced: Eq. 1 and Eq. 2
    s = trace.stages[2]
    q_x = s.appearance * s.motion_to_appearance[..., None, None]
    q_y = s.motion * s.appearance_to_motion[..., None, None]
    assert torch.allclose(s.gated_appearance, q_x) and torch.allclose(s.gated_motion, q_y)
    assert s.gated(MOTION_TO_APPEARANCE) is s.gated_appearance
    assert s.gate(APPEARANCE_TO_MOTION) is s.appearance_to_motion
    # the exchange at stage k adds both gated features onto the merge stream
    assert torch.allclose(s.merged_after, s.merged_before + q_x + q_y)
    fused, motion = trace.pyramids[0]
    assert [f.shape[1] for f in fused] == [8, 8, 8, 8] == [g.shape[1] for g in motion]


def test_mismatched_inputs_are_refused():
    model = FSNet(**SMALL)
    with pytest.raises(ValueError, match="same shape"):
        model(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 96))


@pytest.mark.parametrize(
    ("build", "valid"),
    [
        (lambda: RCAM(8, "ful"), RCAM_MODES),
        (lambda: BPM(8, 4, mode="x"), BPM_MODES),
        (lambda: ResNetStream("resnet101"), BACKBONES),
        (lambda: FSNetConfig(rcam="ful"), RCAM_MODES),
        (lambda: FSNet(bpm="purity", **SMALL), BPM_MODES),
    ],
)
def test_unknown_modes_fail_at_construction_naming_the_valid_ones(build, valid):
    with pytest.raises(ValueError, match="must be one of") as err:
        build()
    assert all(repr(v) in str(err.value) for v in valid)


def test_the_gate_table_names_the_authors_modules_and_the_paper_arrows():
    from fsnet_core.course.paper import RCAM_ARROWS
    from fsnet_core.model.official import official_key

    assert [g.name for g in RCAM_GATES] == ["motion_to_appearance", "appearance_to_motion"]
    for gate in RCAM_GATES:
        assert gate.name in RCAM_MODES and RCAM_ARROWS[gate.name] == gate.arrow
        assert official_key(f"rcam.2.{gate.name}.conv.weight") == gate.authors[:-1] + "2.1.weight"
        only = RCAM(8, gate.name)
        assert [g.name for g in RCAM_GATES if getattr(only, g.name) is not None] == [gate.name]
    # Eq. 1: the gate computed from motion re-weights appearance (the authors' atten_flow)
    assert (MOTION_TO_APPEARANCE.source, MOTION_TO_APPEARANCE.target) == ("motion", "appearance")
    assert (
        MOTION_TO_APPEARANCE.authors == "atten_flow_k"
        and APPEARANCE_TO_MOTION.arrow == "App. => Mo."
    )
