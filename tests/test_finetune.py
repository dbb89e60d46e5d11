"""Finetuning: sequence splits, bad own data, the before/after table, selection on select, resume,
and the synthetic domain the course model has not seen."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from fsnet_core.cli import main
from fsnet_core.data.synthetic import make_synthetic_dataset, read_meta
from fsnet_core.data.synthetic import scenes as S
from fsnet_core.io import InputError
from fsnet_core.model import FSNet
from fsnet_core.model.config import FSNetConfig
from fsnet_core.model.serialization import save_model
from fsnet_core.train import finetuning as F
from fsnet_core.train.splits import read_splits, seeded_split, split_sequences

TINY = FSNetConfig(backbone="resnet18", channels=8, num_bpm=1)
BUDGET = dict(
    size=32,
    epochs=2,
    batch_size=2,
    num_workers=0,
    threads=1,
    device="cpu",
    precision="float32",
    progress=False,
    augment=False,
    scales=(1.0,),
    lr=0.05,
)
NAMES = ["a", "b", "c", "d", "e", "f", "g"]


# --------------------------------------------------------------------------- splits


def test_seeded_split_is_by_sequence_written_down_and_repeatable():
    one = split_sequences(NAMES, "data", seed=3)
    assert one == split_sequences(NAMES, "data", seed=3)
    assert one != split_sequences(NAMES, "data", seed=4)
    assert sorted(sum(one.values(), [])) == NAMES  # every sequence in exactly one part
    assert [len(one[p]) for p in ("train", "select", "test")] == [4, 1, 2]
    assert seeded_split(["x", "y", "z"], ["train", "select", "test"], 0).keys() == {
        "train",
        "select",
        "test",
    }


def test_given_lists_are_kept_and_the_rest_is_split(tmp_path):
    listing = tmp_path / "test.txt"
    listing.write_text("a\nb\n")
    parts = split_sequences(NAMES, "data", test=listing, select="c", seed=0)
    assert parts["test"] == ["a", "b"] and parts["select"] == ["c"]
    assert sorted(parts["train"]) == ["d", "e", "f", "g"]


def test_overlapping_lists_are_refused_naming_the_file(tmp_path):
    listing = tmp_path / "select.txt"
    listing.write_text("c\nd\n")
    with pytest.raises(InputError, match=r"select\.txt: .*both name 'c'.*must not overlap"):
        split_sequences(NAMES, "data", train="a,c", select=listing)


def test_too_few_sequences_and_unknown_names_are_refused():
    with pytest.raises(InputError, match=r"^data: holds 2 sequence\(s\).*at least 3"):
        split_sequences(["a", "b"], "data")
    with pytest.raises(InputError, match=r"--test: names 'zz', which is not a sequence"):
        split_sequences(NAMES, "data", test="zz")


# --------------------------------------------------------------------------- own data


def own_data(root: Path, sequences: int = 3, frames: int = 5, masked=(0, 2)) -> Path:
    """The authors' test layout, masks on ``masked`` frames only (no flow yet)."""
    src = make_synthetic_dataset(root.parent / f".{root.name}-src", smoke=True, seed=1)
    meta = read_meta(src)
    names = [n for split in ("train", "val") for n in meta["splits"][split]][:sequences]
    for i, name in enumerate(names):
        seq = root / f"clip{i}"
        (seq / "Frame").mkdir(parents=True)
        (seq / "GT").mkdir()
        for t in range(frames):
            shutil.copy(src / "JPEGImages/480p" / name / f"{t:05d}.jpg", seq / "Frame")
            if t in masked:
                shutil.copy(src / "Annotations/480p" / name / f"{t:05d}.png", seq / "GT")
    return root


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Iterator[Path]:
    """A tiny model that starts by calling everything target, so that J is not 0 on any part."""
    model = FSNet(TINY)
    torch.nn.init.constant_(model.decoder_fused.head[1].bias, 3.0)
    folder = tmp_path_factory.mktemp("ckpt")
    yield save_model(model, folder / "tiny.pt")
    shutil.rmtree(folder, ignore_errors=True)  # module-scoped folders outlive their module


SPLIT = dict(test="clip0", select="clip1")


@pytest.fixture(scope="module")
def sparse_run(tmp_path_factory, tiny_checkpoint):
    """A tiny finetune on own data with sparse masks (DIS flow computed), 2 epochs."""
    root = own_data(tmp_path_factory.mktemp("own") / "mine", sequences=4)
    out = root.parent / "run"
    result = F.finetune(root, out, init=tiny_checkpoint, **SPLIT, **BUDGET)
    yield root, out, result
    shutil.rmtree(root.parent, ignore_errors=True)  # 1 GB of checkpoints


def test_finetune_on_sparse_own_data_writes_the_before_after_table(sparse_run):
    root, out, result = sparse_run
    assert sorted(p.name for p in (root / "clip0" / "OF_dis").glob("*.png")) == [
        f"{t:05d}.png" for t in range(4)
    ]  # flow computed where missing (DIS on a CPU)
    assert read_splits(out / "splits.json") == {
        "train": ["clip2", "clip3"],
        "select": ["clip1"],
        "test": ["clip0"],
    }
    # epoch 0 scored before the first step, on the annotated frames of test only (0 and 2)
    before = json.loads((out / F.BEFORE_JSON).read_text())
    assert [r["frames"] for r in before["test"]["per_sequence"]] == [2]
    assert result.train.final.history.epoch.tolist() == [1, 2]  # trained on annotated frames
    table = pd.read_csv(out / F.TABLE_CSV)
    assert table.sequence.tolist() == ["clip0", "overall"]
    row = table.iloc[-1]
    assert row.J_before == pytest.approx(before["test"]["J"])
    assert row.J_gain == pytest.approx(row.J_after - row.J_before)
    assert row.F_gain == pytest.approx(row.F_after - row.F_before)
    saved = json.loads((out / F.TABLE_JSON).read_text())
    assert saved["table"][-1]["J_after"] == pytest.approx(row.J_after)
    assert "test J before" in result.summary()


def test_best_is_chosen_on_select_never_on_test(sparse_run):
    _, out, result = sparse_run
    config = result.config
    history = result.train.final.history
    assert [s["epoch"] for s in result.selection] == [0, 1, 2]
    assert result.selected_epoch == int(history.epoch[history.val_J.idxmax()])
    assert result.selection[0]["select_J"] > 0  # epoch 0 is scored on select too
    best = F.load_checkpoint(out / "finetune" / "best.pt")
    # the history's score of the chosen epoch is best.pt's J on select (not on test), and
    # its test J is what the table reports after
    on_select, on_test = F.score(best, config, "select").J, F.score(best, config, "test").J
    assert on_select == pytest.approx(history.val_J.max())
    assert on_test == pytest.approx(result.overall("J_after"))
    assert on_select != pytest.approx(on_test)


def test_finetune_resumes_exactly(sparse_run, tiny_checkpoint):
    root, whole, result = sparse_run
    part = whole.parent / "part"
    stopped = F.finetune(root, part, init=tiny_checkpoint, max_steps=1, **SPLIT, **BUDGET)
    assert not stopped.finished and "resume" in stopped.summary()
    again = F.finetune(None, part, resume=True)  # options, split and data read from the run
    assert again.finished and again.splits == result.splits
    pd.testing.assert_frame_equal(again.table, result.table)


def test_a_run_already_there_is_refused_before_anything_is_written(sparse_run, tiny_checkpoint):
    root, out, _ = sparse_run
    before = (out / "splits.json").read_text()
    with pytest.raises(InputError, match="already holds a training run"):
        F.finetune(root, out, init=tiny_checkpoint, **BUDGET)
    assert (out / "splits.json").read_text() == before


def test_sequence_without_masks_is_refused(tmp_path):
    root = own_data(tmp_path / "mine")
    shutil.rmtree(root / "clip1" / "GT")
    (root / "clip1" / "GT").mkdir()
    with pytest.raises(InputError, match=r"clip1/GT: sequence 'clip1' has no masks"):
        F.check_sequences(root, F.ensure_flow(root, None, "cpu"))


def test_sequence_masked_only_on_its_last_frame_is_refused(tmp_path):
    root = own_data(tmp_path / "mine", masked=(4,))  # the last frame: no flow, never a sample
    with pytest.raises(InputError, match=r"clip0/GT: .*masks only where there is no flow"):
        F.check_sequences(root, F.ensure_flow(root, None, "cpu"))


def test_resume_without_a_run_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"run: holds no finetuning run to resume"):
        F.finetune(None, tmp_path / "run", resume=True)
    assert not (tmp_path / "run").exists()


def test_too_few_sequences_is_refused(tmp_path, tiny_checkpoint):
    root = own_data(tmp_path / "mine", sequences=2)
    with pytest.raises(InputError, match=r"mine: holds 2 sequence\(s\)"):
        F.finetune(root, tmp_path / "run", init=tiny_checkpoint, **BUDGET)
    assert not (tmp_path / "run").exists()


def test_mask_of_another_size_is_refused_naming_it(tmp_path):
    root = own_data(tmp_path / "mine")
    bad = root / "clip2" / "GT" / "00002.png"
    cv2.imwrite(str(bad), np.zeros((60, 80), np.uint8))
    with pytest.raises(InputError, match=r"clip2/GT/00002\.png: size 60x80 differs from its frame"):
        F.check_sequences(root, F.ensure_flow(root, None, "cpu"))


def test_cli_refuses_overlapping_lists_in_one_line(tmp_path, capsys, tiny_checkpoint):
    root = own_data(tmp_path / "mine")
    code = main(
        ["finetune", "--data", str(root), "--out", str(tmp_path / "run"),
         "--init", str(tiny_checkpoint), "--train", "clip0", "--test", "clip0,clip1"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "--test: the test list and the train list (--train) both name 'clip0'" in err


# --------------------------------------------------------------------------- the new domain


def test_the_new_domain_differs_and_the_default_is_unchanged():
    cfg = S.SyntheticConfig.for_size(smoke=True)
    default = S.make_scene(S.clip_rng(0, "train", 0), cfg, S.clip_hazards(0))
    named = S.make_scene(S.clip_rng(0, "train", 0, "default"), cfg, S.clip_hazards(0), "default")
    assert default.description == named.description
    frame, labels, _ = default.render(0)
    same, same_labels, _ = named.render(0)
    assert np.array_equal(frame, same) and np.array_equal(labels, same_labels)
    # what the default's first clip has always been (generator version 2, before domains)
    assert default.description == {
        "camera_pan_px_per_frame": [-0.23, -0.28],
        "camera_zoom_per_frame": 0.0,
        "distractors": 2,
        "hazards": {
            "camera_zoom": False,
            "distractors": True,
            "motion_blur": False,
            "mover": True,
            "occluder": True,
            "ripple": False,
        },
        "movers": 1,
        "shape": "rounded-box",
        "target_scale_change_per_frame": 0.072,
        "target_speed_px_per_frame": 5.52,
        "text": "a checker rounded-box moving at 5.52 px/frame; 2 static look-alike(s); "
        "a background-coloured object moving like the target; a static post it passes behind; "
        "camera pan",
        "texture": "checker",
    }
    vivid = [
        S.make_scene(S.clip_rng(0, "val", i, "vivid"), cfg, S.clip_hazards(i), "vivid")
        for i in range(4)
    ]
    assert {v.description["shape"] for v in vivid} <= set(S.DOMAINS["vivid"].shapes)
    assert not {v.description["shape"] for v in vivid} & set(S.DOMAINS["default"].shapes)
    assert all(v.description["hazards"]["camera_zoom"] for v in vivid)
    with pytest.raises(ValueError, match="unknown synthetic domain 'moon'"):
        S.make_scene(S.clip_rng(0, "val", 0), cfg, S.clip_hazards(0), "moon")


def test_domain_sets_record_their_domain_and_are_not_mistaken(tmp_path):
    from fsnet_core.data.synthetic import ensure_synthetic_dataset

    root = ensure_synthetic_dataset(tmp_path / "v", smoke=True, domain="vivid")
    assert read_meta(root)["domain"] == "vivid"
    assert "domain" not in read_meta(make_synthetic_dataset(tmp_path / "d", smoke=True))
    with pytest.raises(InputError, match=r"domain vivid, generator version 2, not of .*--force"):
        ensure_synthetic_dataset(root, smoke=True)


def test_the_new_option_at_its_default_keeps_cached_course_models():
    """``annotated_only`` came after models were cached; at False their folders stay valid."""
    import hashlib

    from fsnet_core.course.model_cache import NOT_IN_KEY, config_key
    from fsnet_core.train import TrainConfig

    config = TrainConfig.preset("smoke")
    before = {k: v for k, v in config.to_dict().items() if k not in NOT_IN_KEY}
    del before["annotated_only"]  # what the key was computed from before the option existed
    text = json.dumps(before, sort_keys=True, default=str)
    assert config_key(config) == hashlib.sha256(text.encode()).hexdigest()[:10]
    assert config_key(config.replace(annotated_only=True)) != config_key(config)


def test_the_domain_command_prints_before_after_and_gain(
    tmp_path, capsys, monkeypatch, tiny_checkpoint
):
    """``fsnet finetune --domain vivid``: the course model (here a tiny stand-in) on the
    domain's first training clip, selecting on the next, tested on its validation clips."""
    from fsnet_core.course import finetuning

    vivid = make_synthetic_dataset(tmp_path / "vivid", smoke=True, domain="vivid")
    monkeypatch.setattr(finetuning, "domain_data", lambda domain: vivid)
    monkeypatch.setattr(finetuning, "course_checkpoint", lambda: tiny_checkpoint)
    monkeypatch.setattr(finetuning, "TRAIN_CLIPS", 1)
    monkeypatch.setattr(finetuning, "SELECT_CLIPS", 1)
    run = tmp_path / "run"
    flags = ["--epochs", "1", "--size", "32", "--batch-size", "2", "--precision", "float32"]
    code = main(["finetune", "--domain", "vivid", "--out", str(run), *flags, "--threads", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "sequences: train 1, select 1, test 2" in out
    assert re.search(r"test J before \d\.\d{3}, after \d\.\d{3} \(gain [+-]\d\.\d{3}\)", out)
    assert read_splits(run / "splits.json")["test"] == read_meta(vivid)["splits"]["val"]
    code = main(["finetune", "--domain", "vivid", "--out", str(run), "--test", "x"])
    assert code == 1 and "--test go with --data" in capsys.readouterr().err


def test_the_committed_results_show_a_gain_beyond_seed_noise(tmp_path):
    """The rows ``benchmarks/finetune.py`` committed, read as the notebook reads them."""
    from fsnet_core.course.finetuning import load_results, verdicts

    results = load_results()
    assert results.groupby("run").seed.nunique().to_dict() == {"finetuned": 3, "scratch": 3}
    found = verdicts(results)
    assert found["gain"].difference > 0 and found["gain"].exceeds_noise
    assert found["pretraining"].difference > 0 and found["pretraining"].exceeds_noise
    bad = tmp_path / "finetune.csv"
    bad.write_text("run,seed\nfinetuned,0\n")
    with pytest.raises(InputError, match="not a finetuning results table: no column before_J"):
        load_results(bad)


def test_score_start_scores_the_given_split_with_another_flow_and_trains_nothing(
    sparse_run, tiny_checkpoint
):
    """Issue 20.4: epoch 0 of the same test split with a second flow source (FlowNet 2.0's
    images beside the computed flow); only the view and before.json are written."""
    root, out, result = sparse_run
    for seq in root.iterdir():  # a second flow folder, as the test set's OF_FlowNet2
        if seq.is_dir() and not seq.name.startswith("."):
            shutil.copytree(seq / "OF_dis", seq / "OF_FlowNet2", dirs_exist_ok=True)
    other = root.parent / "start-flownet2"
    before = F.score_start(
        root, other, result.splits, init=tiny_checkpoint, flow_source="OF_FlowNet2", **BUDGET
    )
    assert [r["sequence"] for r in before["test"]["per_sequence"]] == result.splits["test"]
    assert before["test"]["J"] == pytest.approx(result.before["test"]["J"])  # same flow images
    assert sorted(p.name for p in other.iterdir()) == [F.BEFORE_JSON, "data"]
    assert (other / "data" / "FlowImages" / "OF_FlowNet2" / "clip0").is_symlink()
    assert F.score_start(root, other, result.splits, init=tiny_checkpoint) == before  # read back
