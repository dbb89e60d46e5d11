"""The model reproduces the authors' code exactly, and their checkpoint format round-trips."""

from __future__ import annotations

import pytest
import torch

from fsnet_core import (
    CheckpointMismatch,
    FSNet,
    FSNetConfig,
    load_model,
    load_official_weights,
    official_key_map,
    save_model,
    to_official_state_dict,
)

CASES = ("square96", "wide96x160")
DEAD_KEYS = 12  # merge-stream stem (6) and RGBF_conv3 (6): in the checkpoint, never used


@pytest.fixture(scope="module")
def official_model(official_reference_state) -> FSNet:
    # float64 *before* loading, so the reference values are not rounded to float32
    model = FSNet().double().eval()
    return load_official_weights(model, official_reference_state)


@pytest.mark.parametrize("case", CASES)
def test_float64_outputs_match_the_official_code(official_model, parity_cases, case):
    image = torch.from_numpy(parity_cases[f"{case}_image"])
    flow = torch.from_numpy(parity_cases[f"{case}_flow"])
    with torch.no_grad():
        appearance, motion = official_model(image, flow)
    expected_a = torch.from_numpy(parity_cases[f"{case}_appearance_logits"])
    expected_m = torch.from_numpy(parity_cases[f"{case}_motion_logits"])
    assert appearance.shape == expected_a.shape == image.shape[:1] + (1,) + image.shape[2:]
    assert (appearance - expected_a).abs().max().item() < 1e-8
    assert (motion - expected_m).abs().max().item() < 1e-8


def test_every_used_official_key_has_exactly_one_internal_name(official_keys):
    mapping = official_key_map(FSNet())
    official = [k for k, _ in official_keys]
    assert len(official) == 2160
    unmapped = [k for k in official if k not in mapping]
    assert len(unmapped) == DEAD_KEYS
    assert all(k.startswith(("resnet.conv1.", "resnet.bn1.", "RGBF_conv3.")) for k in unmapped)
    assert set(mapping) <= set(official)
    assert len(set(mapping.values())) == len(mapping) == len(FSNet().state_dict())


def test_export_has_the_official_keys_and_shapes(official_model, official_keys):
    exported = to_official_state_dict(official_model, data_parallel=True)
    assert {k: tuple(v.shape) for k, v in exported.items()} == {
        "module." + k: s for k, s in official_keys
    }


def test_export_then_load_round_trips(official_model):
    exported = to_official_state_dict(official_model)
    fresh = load_official_weights(FSNet().double(), exported).state_dict()
    for key, value in official_model.state_dict().items():
        assert torch.equal(fresh[key], value), key


def test_export_refuses_ablated_configurations():
    with pytest.raises(ValueError, match="paper configuration"):
        to_official_state_dict(FSNet(backbone="resnet18"))


def test_loads_the_released_file_format(official_reference_state, tmp_path):
    # The authors' file: float32 tensors under DataParallel's "module." prefix.
    path = tmp_path / "2021-ICCV-FSNet-20epoch-new.pth"
    torch.save({k: v.float() for k, v in official_reference_state.items()}, path)
    model = load_official_weights(FSNet(), path)
    key = "bpms.3.purify.0.lifts.2.proj.conv.weight"
    expected = official_reference_state["module.bpm4.conv9.conv.conv_bn.0.weight"].float()
    assert torch.equal(model.state_dict()[key], expected)


def test_loads_a_state_dict_without_the_module_prefix(official_reference_state):
    plain = {k.removeprefix("module."): v for k, v in official_reference_state.items()}
    model = load_official_weights(FSNet(), plain)
    key = "decoder_motion.merge.2.0.conv.weight"  # conv_cat1 works on level 3
    assert torch.equal(
        model.state_dict()[key], plain["output_e.conv_cat1.0.conv_bn.0.weight"].float()
    )


def test_wrong_file_names_missing_and_unexpected_keys(official_reference_state, tmp_path):
    state = dict(official_reference_state)
    del state["module.bpm2.conv_f3.0.conv_bn.0.weight"]
    state["module.extra_head.weight"] = torch.zeros(1)
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatch) as err:
        load_official_weights(FSNet(), path)
    message = str(err.value)
    assert str(path) in message
    assert "missing keys 1 (bpm2.conv_f3.0.conv_bn.0.weight)" in message
    assert "unexpected keys 1 (extra_head.weight)" in message


def test_wrong_shapes_are_named(official_reference_state):
    with pytest.raises(CheckpointMismatch, match=r"shape mismatches .*layer1_rgb"):
        load_official_weights(FSNet(backbone="resnet18"), official_reference_state)


def test_unreadable_and_missing_files(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatch, match="garbage.pth: not a readable"):
        load_official_weights(FSNet(backbone="resnet18"), garbage)
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        load_official_weights(FSNet(backbone="resnet18"), tmp_path / "nowhere.pth")


class _Payload:
    """Not a tensor: ``weights_only=True`` must refuse to unpickle it."""


def test_checkpoints_are_loaded_with_weights_only(tmp_path):
    path = tmp_path / "pickle.pth"
    torch.save({"obj": _Payload()}, path)
    with pytest.raises(CheckpointMismatch, match="not a readable"):
        load_official_weights(FSNet(backbone="resnet18"), path)


def test_a_checkpoint_whose_configuration_contradicts_its_weights_names_the_fields(tmp_path):
    """Issue 19.11: one line naming the file and each field, not PyTorch's 95-line error."""
    torch.manual_seed(0)
    path = save_model(FSNet(backbone="resnet18", channels=8, num_bpm=1), tmp_path / "tiny.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"] = FSNetConfig(backbone="resnet50", channels=32, num_bpm=1).to_dict()
    torch.save(payload, path)
    with pytest.raises(CheckpointMismatch) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: its configuration does not match its weights: ")
    assert "backbone resnet50 but weights are resnet18" in message
    assert "channels 32 but weights have 8" in message and "num_bpm" not in message


def test_a_checkpoint_missing_weights_its_configuration_needs_is_one_line(tmp_path):
    path = save_model(FSNet(backbone="resnet18", channels=8, num_bpm=1), tmp_path / "tiny.pt")
    payload = torch.load(path, weights_only=True)
    del payload["model"]["decoder_fused.head.0.conv.weight"]
    torch.save(payload, path)
    with pytest.raises(CheckpointMismatch) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: its weights do not fit")
    assert "missing keys 1 (decoder_fused.head.0.conv.weight)" in message
