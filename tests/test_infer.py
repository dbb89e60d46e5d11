"""The inference runner and ``fsnet infer`` on the smoke synthetic set with a tiny model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from fsnet_core.cli import main
from fsnet_core.data.datasets import VideoSegmentationDataset
from fsnet_core.data.layouts import discover_sequences
from fsnet_core.data.synthetic import make_synthetic_dataset
from fsnet_core.inference.crf import refine
from fsnet_core.inference.predictor import FSNetPredictor
from fsnet_core.inference.runner import make_predictor, predict_sequence, run_inference
from fsnet_core.io import InputError
from fsnet_core.io.images import read_rgb
from fsnet_core.model import FSNet
from fsnet_core.model.serialization import save_model

SIZE = 64  # network input side: small, so the tests stay fast


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("infer") / "synthetic", smoke=True)


@pytest.fixture(scope="module")
def model() -> FSNet:
    """A tiny untrained FSNet whose output varies across the frame.

    With the authors' N(0, 0.01) initialisation an untrained map is constant;
    He-initialised heads (outside the ResNets) make a wrong resize, flip or
    frame mix-up visible in the saved maps.
    """
    torch.manual_seed(0)
    net = FSNet(backbone="resnet18", channels=8, num_bpm=1).eval()
    streams = {id(m) for s in (net.appearance, net.motion, net.merge) for m in s.modules()}
    for m in net.modules():
        if id(m) not in streams and isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight)
    with torch.no_grad():
        net.decoder_fused.head[-1].weight.mul_(0.01)  # logits of a few units, not hundreds
    return net


@pytest.fixture(scope="module")
def predictor(model) -> FSNetPredictor:
    """The fast predictor, built once (folding and copying cost more than the tiny runs)."""
    return make_predictor(model)


@pytest.fixture(scope="module")
def checkpoint(model, tmp_path_factory) -> Path:
    return save_model(model, tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture(scope="module")
def predicted(checkpoint, data, tmp_path_factory) -> tuple[Path, object]:
    """One full run (the fast predictor), shared by the read-only tests."""
    out = tmp_path_factory.mktemp("pred") / "maps"
    summary = run_inference(checkpoint, data, out, size=SIZE, progress=False)
    return out, summary


def _pngs(folder: Path) -> dict[str, list[str]]:
    folders = sorted(d for d in folder.iterdir() if d.is_dir())  # not the manifest
    return {d.name: sorted(p.name for p in d.iterdir()) for d in folders}


def test_one_map_per_frame_with_flow_at_the_original_size(predicted, data) -> None:
    out, summary = predicted
    records = discover_sequences(data)
    expected = {r.name: [f"{p.stem}.png" for p in r.frames[:-1]] for r in records}
    assert _pngs(out) == expected  # the last frame of each sequence has no flow: no map
    assert summary.frames == sum(map(len, expected.values())) == 16
    assert (summary.skipped, summary.sequences) == (0, 4)
    assert summary.fps > 0 and summary.model_fps >= summary.fps
    for record in records:
        frame = read_rgb(record.frames[0])
        with Image.open(out / record.name / f"{record.frames[0].stem}.png") as im:
            assert im.mode == "L" and im.size == (frame.shape[1], frame.shape[0])
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no temporary files


def test_maps_are_the_sigmoid_of_the_fused_logits_resized_to_the_frame(
    predicted, model, data
) -> None:
    out, _ = predicted
    dataset = VideoSegmentationDataset(data, size=SIZE, require_masks=False)
    for index in (0, len(dataset) - 1):
        item = dataset[index]
        with torch.no_grad():
            logits = model(item["image"][None], item["flow"][None]).appearance
        full = F.interpolate(logits, size=item["orig_size"], mode="bilinear", align_corners=True)
        expected = torch.sigmoid(full)[0, 0].numpy() * 255
        saved = np.asarray(Image.open(out / item["sequence"] / f"{item['frame']}.png"))
        assert saved.dtype == np.uint8
        assert saved.max() - saved.min() > 50  # the map really varies, so the check means something
        # bf16 autocast in the fast predictor: a few levels of difference at most, on average < 2
        assert np.abs(saved - expected).mean() < 2.0


def test_existing_maps_are_kept_and_missing_ones_filled_in(checkpoint, data, predicted, tmp_path):
    out = tmp_path / "maps"
    shutil.copytree(predicted[0], out)
    seq = out / discover_sequences(data, split="val")[0].name
    marker = seq / "00000.png"
    Image.fromarray(np.full((120, 160), 7, np.uint8)).save(marker)
    (seq / "00001.png").unlink()  # as if the run had been interrupted

    summary = run_inference(checkpoint, data, out, size=SIZE, progress=False)
    assert (summary.frames, summary.skipped) == (1, 15)
    assert (seq / "00001.png").read_bytes() == (predicted[0] / seq.name / "00001.png").read_bytes()
    assert np.asarray(Image.open(marker)).max() == 7  # not overwritten

    summary = run_inference(
        checkpoint, data, out, split="val", size=SIZE, progress=False, force=True
    )
    assert (summary.frames, summary.skipped) == (8, 0)
    assert marker.read_bytes() == (predicted[0] / seq.name / "00000.png").read_bytes()


def test_predict_sequence_matches_the_files_and_plain_float32_agrees(
    model, predictor, data, predicted
) -> None:
    out, _ = predicted
    name = discover_sequences(data, split="val")[0].name
    fast = predict_sequence(predictor, data, name, size=SIZE)
    plain = predict_sequence(model, data, name, size=SIZE, fast=False)
    assert list(fast) == ["00000", "00001", "00002", "00003"]
    for stem, prob in fast.items():
        assert prob.dtype == np.float32 and prob.shape == (120, 160)
        saved = np.asarray(Image.open(out / name / f"{stem}.png")).astype(np.float32)
        assert np.abs(saved - prob * 255).max() <= 0.5 + 1e-3  # rounding only
        assert np.abs(prob - plain[stem]).mean() < 0.01
    with pytest.raises(InputError, match="no sequence 'nope'"):
        predict_sequence(predictor, data, "nope", size=SIZE)


def test_crf_and_minmax_options(predictor, data) -> None:
    name = discover_sequences(data, split="train")[0].name
    raw = predict_sequence(predictor, data, name, size=SIZE)
    stretched = predict_sequence(predictor, data, name, size=SIZE, minmax=True)
    refined = predict_sequence(predictor, data, name, size=SIZE, crf=True)
    frame = read_rgb(data / "JPEGImages" / "480p" / name / "00002.jpg")
    np.testing.assert_allclose(refined["00002"], refine(frame, raw["00002"]), atol=1e-6)
    assert not np.allclose(refined["00002"], raw["00002"], atol=0.05)
    for prob in stretched.values():
        assert prob.min() == pytest.approx(0.0, abs=1e-6)
        assert prob.max() == pytest.approx(1.0, abs=1e-6)


def test_cli_end_to_end_with_split_and_crf(checkpoint, data, tmp_path, capsys) -> None:
    out = tmp_path / "pred"
    args = ["infer", "--checkpoint", str(checkpoint), "--data", str(data), "--out", str(out)]
    code = main([*args, "--split", "val", "--size", str(SIZE), "--crf", "--quiet"])
    assert code == 0
    assert "frames/s" in capsys.readouterr().out
    val = [r.name for r in discover_sequences(data, split="val")]
    assert sorted(_pngs(out)) == sorted(val)
    assert all(len(files) == 4 for files in _pngs(out).values())
    assert main([*args, "--split", "val", "--size", str(SIZE), "--crf", "--quiet"]) == 0
    assert "0 maps written" in capsys.readouterr().out  # the same command again: nothing to do


def test_clear_errors_for_a_missing_checkpoint_or_a_wrong_data_folder(
    checkpoint, data, tmp_path, capsys
) -> None:
    out = ["--out", str(tmp_path / "pred"), "--quiet"]
    missing = tmp_path / "nowhere.pt"
    assert main(["infer", "--checkpoint", str(missing), "--data", str(data), *out]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "not found" in err
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    assert main(["infer", "--checkpoint", str(garbage), "--data", str(data), *out]) == 1
    err = capsys.readouterr().err
    assert str(garbage) in err and "not a readable PyTorch checkpoint" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["infer", "--checkpoint", str(checkpoint), "--data", str(empty), *out]) == 1
    err = capsys.readouterr().err
    assert str(empty) in err and "layout" in err
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        run_inference(checkpoint, data, not_a_folder, size=SIZE, progress=False)
    assert not (tmp_path / "pred").exists()


@pytest.mark.slow
def test_cli_reads_the_authors_checkpoint_format(official_reference_state, data, tmp_path):
    """The released ``.pth`` layout (DataParallel keys, official names) goes straight in."""
    ckpt = tmp_path / "2021-ICCV-FSNet-20epoch-new.pth"
    torch.save(official_reference_state, ckpt)
    out = tmp_path / "pred"
    args = ["--data", str(data), "--out", str(out), "--split", "val", "--size", str(SIZE)]
    assert main(["infer", "--checkpoint", str(ckpt), *args, "--batch-size", "8", "--quiet"]) == 0
    assert sum(len(files) for files in _pngs(out).values()) == 8


def _copy(data: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    return copy


def test_mask_of_the_wrong_size_is_refused_before_any_map_is_written(
    predictor, data, tmp_path
) -> None:
    copy = _copy(data, tmp_path)
    last = sorted((copy / "Annotations" / "480p").iterdir())[-1]
    bad = sorted(last.glob("*.png"))[-2]  # the last frame with a flow: read last of all
    Image.fromarray(np.zeros((7, 9), np.uint8)).save(bad)
    out = tmp_path / "pred"
    with pytest.raises(InputError, match="differs from its frame") as info:
        run_inference(predictor, copy, out, size=SIZE, progress=False)
    assert info.value.path == bad
    assert not list(out.rglob("*.png")), "maps were written before the size check"


def test_one_frame_sequences_are_named_in_the_summary(predictor, data, tmp_path, capsys) -> None:
    copy = _copy(data, tmp_path)
    first = sorted((copy / "JPEGImages" / "480p").iterdir())[0]
    lone = copy / "JPEGImages" / "480p" / "lone"
    lone.mkdir()
    shutil.copy(sorted(first.iterdir())[0], lone / "00000.jpg")
    (copy / "FlowImages" / "gt" / "lone").mkdir()  # no flow: there is no next frame
    summary = run_inference(predictor, copy, tmp_path / "pred", size=SIZE, progress=False)
    assert summary.single_frame == ("lone",)
    assert "lone" in str(summary) and "one frame" in str(summary)
    assert not (tmp_path / "pred" / "lone").exists()


def test_unsafe_checkpoint_message_gives_no_advice_to_drop_weights_only(data, tmp_path, capsys):
    class Planted:
        def __reduce__(self):
            return (print, ("this must not run",))

    planted = tmp_path / "planted.pt"
    torch.save({"model": Planted()}, planted)
    args = ["infer", "--checkpoint", str(planted), "--data", str(data)]
    assert main([*args, "--out", str(tmp_path / "pred"), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "this must not run" not in captured.out
    err = captured.err
    assert str(planted) in err and "not a readable PyTorch checkpoint" in err
    assert "weights_only" not in err and "False" not in err
    assert err.count("\n") == 1


def test_maps_of_another_model_or_setting_are_not_mixed_in(
    model, checkpoint, data, predicted, tmp_path, capsys
) -> None:
    out = tmp_path / "maps"
    shutil.copytree(predicted[0], out)
    same = run_inference(checkpoint, data, out, size=SIZE, progress=False)
    assert (same.frames, same.skipped) == (0, predicted[1].frames)  # same command: nothing to do
    for change in ({"size": SIZE + 32}, {"crf": True}, {"minmax": True}):
        with pytest.raises(InputError, match="--force") as info:
            run_inference(checkpoint, data, out, **({"size": SIZE} | change), progress=False)
        assert next(iter(change)) in str(info.value)
    other = FSNet(backbone="resnet18", channels=8, num_bpm=1).eval()
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        other.decoder_fused.head[-1].bias.add_(1.0)
    other_ckpt = save_model(other, tmp_path / "other.pt")
    args = ["infer", "--checkpoint", str(other_ckpt), "--data", str(data), "--out", str(out)]
    assert main([*args, "--size", str(SIZE), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "checkpoint" in err and "--force" in err and err.count("\n") == 1
    forced = run_inference(other_ckpt, data, out, size=SIZE, force=True, progress=False)
    assert forced.frames == predicted[1].frames
    again = run_inference(other_ckpt, data, out, size=SIZE, progress=False)
    assert again.frames == 0
    with pytest.raises(InputError, match="checkpoint"):
        run_inference(checkpoint, data, out, size=SIZE, progress=False)
