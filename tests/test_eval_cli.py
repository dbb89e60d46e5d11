"""``fsnet eval`` and :func:`evaluate_folder`: layouts, JSON, DataFrames and clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fsnet_core.cli import main
from fsnet_core.io.images import read_map
from fsnet_core.metrics.evaluate import UVOS_KEYS, evaluate_folder
from fsnet_core.metrics.vsod import VSOD_KEYS

N_FRAMES = 6
SHAPE = (36, 48)


def disk_mask(t: int, shape=SHAPE) -> np.ndarray:
    y, x = np.mgrid[: shape[0], : shape[1]]
    return ((y - 18) ** 2 + (x - 14 - 3 * t) ** 2 <= 81).astype(np.uint8) * 255


def write(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """GT for two sequences; predictions: exact for 'alpha', a blurred map for 'beta'.

    Like FSNet's, the predictions stop one frame short (the last frame has no flow).
    """
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for seq in ("alpha", "beta"):
        for t in range(N_FRAMES):
            mask = disk_mask(t)
            write(gt / seq / f"{t:05d}.png", mask)
            if t < N_FRAMES - 1:
                soft = mask if seq == "alpha" else (mask // 2 + 40 * (mask > 0)).astype(np.uint8)
                write(pred / seq / f"{t:05d}.png", soft)
    return pred, gt


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["eval", *map(str, argv), "--no-progress"])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_uvos_json_and_table(folders, tmp_path, capsys):
    pred, gt = folders
    out = tmp_path / "res" / "uvos.json"
    rc, stdout, _ = run_cli(capsys, pred, gt, "--task", "uvos", "--json", out)
    assert rc == 0
    assert "J mean" in stdout and "F decay" in stdout and "overall" in stdout
    data = json.loads(out.read_text())
    assert set(data) >= {"overall", "per_sequence"}
    assert list(data["overall"]) == list(UVOS_KEYS)
    assert set(data["per_sequence"]) == {"alpha", "beta"}
    alpha = data["per_sequence"]["alpha"]
    assert list(alpha) == list(UVOS_KEYS)
    assert alpha["J_mean"] == 1.0 and alpha["F_mean"] == 1.0 and alpha["J_recall"] == 1.0
    assert alpha["T_mean"] == pytest.approx(0.0, abs=1e-9)  # same disk moving: stable
    # 'beta' keeps values >= 128 only where the disk is (127 + 40 = 167 inside, 0 outside).
    assert data["per_sequence"]["beta"]["J_mean"] == 1.0


def test_vsod_json_keys(folders, tmp_path, capsys):
    pred, gt = folders
    out = tmp_path / "vsod.json"
    rc, stdout, _ = run_cli(capsys, pred, gt, "--task", "vsod", "--json", out)
    assert rc == 0 and "maxF" in stdout
    data = json.loads(out.read_text())
    assert list(data["overall"]) == list(VSOD_KEYS)
    assert list(data["per_sequence"]["beta"]) == list(VSOD_KEYS)
    assert data["per_sequence"]["alpha"]["MAE"] == 0.0
    assert data["overall"]["S"] == pytest.approx(1.0, abs=0.05)


def test_python_api_returns_dataframes_and_scores_only_inner_frames(folders, tmp_path):
    pred, gt = folders
    result = evaluate_folder(pred, gt, "uvos")
    assert list(result.per_sequence.index) == ["alpha", "beta"]
    assert list(result.per_sequence.columns) == list(UVOS_KEYS)
    frames = result.per_frame.loc["alpha"].index.tolist()
    assert frames == [f"{t:05d}" for t in range(1, N_FRAMES - 1)]  # first and last not scored
    path = result.to_json(tmp_path / "api.json")
    assert json.loads(path.read_text())["overall"]["J_mean"] == result.overall["J_mean"]
    assert not list(tmp_path.glob(".api.json.*"))  # atomic write leaves no temporary


def test_davis_layout_root_is_accepted(folders, tmp_path, capsys):
    pred, gt = folders
    root = tmp_path / "DAVIS"
    (root / "Annotations").mkdir(parents=True)
    gt.rename(root / "Annotations" / "480p")
    rc, stdout, _ = run_cli(capsys, pred, root, "--summary")
    assert rc == 0 and "| alpha" not in stdout and "overall" in stdout  # no per-sequence rows
    assert "scored 2 sequence(s) of every ground-truth sequence: alpha, beta" in stdout


def test_davis_t_subset_is_respected(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for seq in ("dog", "blackswan"):  # dog has eval_t: False in DAVIS-2016
        for t in range(4):
            write(gt / seq / f"{t:05d}.png", disk_mask(t))
            write(pred / seq / f"{t:05d}.png", disk_mask(t))
    result = evaluate_folder(pred, gt)
    assert np.isnan(result.per_sequence.loc["dog", "T_mean"])
    assert "dog" in result.notes[0] and "blackswan" not in result.notes[0]
    assert result.per_sequence.loc["blackswan", "T_mean"] == pytest.approx(0.0, abs=1e-9)
    assert not np.isnan(evaluate_folder(pred, gt, t_all_sequences=True).overall["T_mean"])


def test_missing_prediction_names_the_file(folders, capsys):
    pred, gt = folders
    (pred / "beta" / "00002.png").unlink()
    rc, _, err = run_cli(capsys, pred, gt)
    assert rc == 1 and str(pred / "beta" / "00002.png") in err and "missing prediction" in err


def test_extra_prediction_names_the_file(folders, capsys):
    pred, gt = folders
    extra = write(pred / "alpha" / "00099.png", disk_mask(0))
    rc, _, err = run_cli(capsys, pred, gt)
    assert rc == 1 and str(extra) in err and "extra prediction" in err


def test_extra_sequence_names_the_folder(folders, capsys):
    pred, gt = folders
    write(pred / "gamma" / "00001.png", disk_mask(0))
    rc, _, err = run_cli(capsys, pred, gt)
    assert rc == 1 and str(pred / "gamma") in err


def test_size_mismatch_names_the_file(folders, capsys):
    pred, gt = folders
    bad = write(pred / "alpha" / "00003.png", disk_mask(3, shape=(30, 48)))
    rc, _, err = run_cli(capsys, pred, gt)
    assert rc == 1 and str(bad) in err and "48x30" in err


def test_colour_image_is_not_a_mask(folders, capsys):
    pred, gt = folders
    rgb = np.zeros((*SHAPE, 3), np.uint8)
    rgb[..., 0] = 200
    bad = write(pred / "alpha" / "00002.png", rgb)
    rc, _, err = run_cli(capsys, pred, gt)
    assert rc == 1 and str(bad) in err and "colour" in err


def test_grey_ground_truth_is_not_a_mask_for_uvos(folders, capsys):
    pred, gt = folders
    bad = write(gt / "beta" / "00003.png", (np.arange(48, dtype=np.uint8) * 5)[None].repeat(36, 0))
    rc, _, err = run_cli(capsys, pred, gt)
    assert rc == 1 and str(bad) in err and "not a mask" in err


def test_unreadable_image_names_the_file(folders, capsys):
    pred, gt = folders
    bad = pred / "beta" / "00001.png"
    bad.write_bytes(b"not a png")
    rc, _, err = run_cli(capsys, pred, gt)
    assert rc == 1 and str(bad) in err


def test_read_map_modes(tmp_path):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    np.testing.assert_array_equal(read_map(write(tmp_path / "l.png", grey)), grey)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    np.testing.assert_array_equal(read_map(write(tmp_path / "rgb.png", rgb)), grey)
    palette = Image.fromarray(np.array([[0, 1], [2, 0]], np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0])
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_map(tmp_path / "p.png"), [[0, 255], [255, 0]])
    sixteen = (grey.astype(np.uint16) * 257).astype(np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "i16.png")
    np.testing.assert_array_equal(read_map(tmp_path / "i16.png"), grey)


def _as_01(folder: Path, bits: int) -> None:
    """Rewrite every 0/255 mask under ``folder`` as a 0/1 mask of ``bits`` bits."""
    for png in folder.rglob("*.png"):
        ones = (np.asarray(Image.open(png)) > 0).astype(np.uint16 if bits == 16 else np.uint8)
        Image.fromarray(ones).save(png)


@pytest.mark.parametrize("task", ["uvos", "vsod"])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("side", ["gt", "pred", "both"])
def test_masks_stored_as_0_and_1_are_read_as_binary(folders, task, bits, side):
    """0/1 masks (8 or 16 bit) score exactly as the same masks stored as 0/255."""
    pred, gt = folders
    for seq in pred.iterdir():  # exact predictions, so either side may be a mask
        for png in seq.iterdir():
            write(png, disk_mask(int(png.stem)))
    reference = evaluate_folder(pred, gt, task)
    assert reference.overall[("J_mean" if task == "uvos" else "MAE")] in (1.0, 0.0)
    for folder in {"gt": [gt], "pred": [pred], "both": [gt, pred]}[side]:
        _as_01(folder, bits)
    result = evaluate_folder(pred, gt, task)
    assert result.overall == reference.overall
    assert any("0/1 masks" in note for note in result.notes)


def test_read_map_rule_for_0_1_files(tmp_path):
    ones = np.array([[0, 1], [1, 0]], np.uint8)
    np.testing.assert_array_equal(read_map(write(tmp_path / "m8.png", ones)), ones * 255)
    sixteen = ones.astype(np.uint16)
    np.testing.assert_array_equal(read_map(write(tmp_path / "m16.png", sixteen)), ones * 255)
    faint = np.array([[0, 1], [2, 0]], np.uint8)  # any value above 1: a grey map, as it is
    np.testing.assert_array_equal(read_map(write(tmp_path / "g.png", faint)), faint)
    empty = np.zeros((2, 2), np.uint8)
    np.testing.assert_array_equal(read_map(write(tmp_path / "e.png", empty)), empty)


def _davis_root(gt: Path, tmp_path: Path, val: list[str], train: list[str]) -> Path:
    """Move ``gt`` into a DAVIS root with ImageSets/2016/{train,val}.txt."""
    root = tmp_path / "DAVIS"
    (root / "Annotations").mkdir(parents=True)
    gt.rename(root / "Annotations" / "480p")
    for split, names in (("val", val), ("train", train)):
        listing = root / "ImageSets" / "2016" / f"{split}.txt"
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.write_text("".join(f"{n}\n" for n in names))
    return root


def test_only_the_val_split_is_scored_by_default(folders, tmp_path, capsys):
    """Predictions of train sequences (``infer`` without --split) are not averaged in."""
    pred, gt = folders
    root = _davis_root(gt, tmp_path, val=["alpha"], train=["beta"])
    result = evaluate_folder(pred, root)
    assert list(result.per_sequence.index) == ["alpha"]
    assert list(evaluate_folder(pred, root, split="train").per_sequence.index) == ["beta"]
    assert list(evaluate_folder(pred, root, split="all").per_sequence.index) == ["alpha", "beta"]
    rc, stdout, _ = run_cli(capsys, pred, root)
    assert rc == 0
    assert "scored 1 sequence(s) of the val split" in stdout and "alpha" in stdout
    assert "not scored" in stdout and "beta" in stdout


def test_a_sequence_without_predictions_is_an_error(folders, tmp_path, capsys):
    pred, gt = folders
    shutil.rmtree(pred / "beta")
    rc, _, err = run_cli(capsys, pred, gt)  # no split list: every ground-truth sequence
    assert rc == 1 and str(pred / "beta") in err and "--allow-missing" in err
    root = _davis_root(gt, tmp_path, val=["alpha", "beta"], train=[])
    rc, _, err = run_cli(capsys, pred, root)
    assert rc == 1 and str(pred / "beta") in err
    rc, stdout, err = run_cli(capsys, pred, root, "--allow-missing")
    assert rc == 0 and "alpha" in stdout
    assert "warning:" in err and "beta" in err and "NOT scored" in err
