"""Training: presets, one step, multi-scale sizes, stage 3 merge, exact resume, NaN stop, CLI."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import asdict, fields

import pandas as pd
import pytest
import torch

from fsnet_core.data.datasets import VideoSegmentationDataset
from fsnet_core.io import InputError
from fsnet_core.model import FSNet, FSNetConfig
from fsnet_core.model.serialization import load_model
from fsnet_core.runtime import autocast_dtype
from fsnet_core.train import TrainingDiverged, train
from fsnet_core.train.checkpoint import Progress, ResumableSampler, read_checkpoint
from fsnet_core.train.config import PRESETS, TrainConfig
from fsnet_core.train.data import SeededAugmentation
from fsnet_core.train.losses import forward_losses
from fsnet_core.train.setup import LOCK_FILE
from fsnet_core.train.stages import merge_stage_weights, stage_inputs

TINY_MODEL = dict(backbone="resnet18", channels=8, num_bpm=1)


@pytest.fixture(autouse=True)
def one_thread():
    """Two threads on a busy 2-core machine are many times slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
    torch.use_deterministic_algorithms(False)  # a deterministic run leaves it on


@pytest.fixture(scope="module")
def tiny_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return FSNet(**TINY_MODEL).state_dict()


@pytest.fixture(scope="module")
def smoke_data(tmp_path_factory) -> str:
    from fsnet_core.data.synthetic import make_synthetic_dataset

    return str(make_synthetic_dataset(tmp_path_factory.mktemp("data") / "smoke", smoke=True))


def tiny_config(data: str, out, **changes) -> TrainConfig:
    """One epoch (two batches) of a tiny FSNet at 64 px on the smoke set, one thread."""
    base = TrainConfig.preset(
        "smoke",
        data=data,
        out=str(out),
        size=64,
        scales=(1.0,),
        epochs=1,
        batch_size=4,
        lr=1e-2,
        precision="float32",
        threads=1,
        progress=False,
        **TINY_MODEL,
    )
    return base.replace(**changes)


# ---------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_and_round_trip(name):
    cfg = TrainConfig.preset(name)
    assert cfg.preset_name == name
    assert isinstance(cfg.model, FSNetConfig)  # a buildable architecture
    assert all(side % 32 == 0 for side in cfg.train_sizes())
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_paper_preset_is_the_authors_schedule():
    cfg = TrainConfig.preset("paper")
    assert cfg.stages == ("rgb", "flow", "finetune")
    assert (cfg.lr, cfg.momentum, cfg.weight_decay) == (2e-3, 0.9, 5e-4)
    assert cfg.train_sizes() == (256, 352, 448)
    assert cfg.model.is_paper
    # The authors call scheduler.step() at the start of each epoch: the 20th runs at 2e-4.
    assert [cfg.lr * cfg.lr_factor(e) for e in (0, 18, 19)] == pytest.approx([2e-3, 2e-3, 2e-4])
    assert cfg.replace(lr_decay_early=False).lr_factor(19) == 1.0


def test_smoke_preset_runs_from_scratch_on_cpu():
    cfg = TrainConfig.preset("smoke")
    assert cfg.imagenet is False and cfg.data is None and cfg.model.backbone != "resnet50"


@pytest.mark.parametrize("size", [64, 100, 128, 200, 352, 353, 500])
def test_multiscale_sizes_are_multiples_of_32(size):
    sides = TrainConfig(size=size).train_sizes()
    assert len(sides) == 3 and all(s % 32 == 0 and s >= 32 for s in sides)
    assert sides[0] <= sides[1] <= sides[2]
    assert abs(sides[1] - size) <= 16


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="unknown training options"):
        TrainConfig().replace(learning_rate=1.0)
    with pytest.raises(ValueError, match="stages"):
        TrainConfig(stages=("rgb", "warmup"))
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=1)
    with pytest.raises(ValueError, match="backbone"):
        TrainConfig().replace(backbone="vgg16")
    with pytest.raises(ValueError, match=r"train\(config, max_steps=N\)"):
        TrainConfig().replace(max_steps=3)  # a limit of one call now, not of the run
    with pytest.raises(ValueError, match="unknown preset"):
        TrainConfig.preset("huge")


# ---------------------------------------------------------------------------- pieces


def test_one_step_decreases_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = FSNet(**TINY_MODEL).train()
    image, flow = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
    mask = (torch.arange(64)[None, None, :, None] < 24).float().expand(2, 1, 64, 64).contiguous()
    opt = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, weight_decay=5e-4)
    cpu = torch.device("cpu")
    before = forward_losses(model, image, flow, mask, cpu)
    before.sum().backward()
    opt.step()
    after = forward_losses(model, image, flow, mask, cpu)
    assert before.shape == (2,) and torch.isfinite(before).all()
    assert after.sum() < before.sum()


def test_stage_inputs_follow_the_authors():
    batch = {"image": torch.zeros(1), "flow": torch.ones(1)}
    assert [t.item() for t in stage_inputs("rgb", batch)] == [0, 0]
    assert [t.item() for t in stage_inputs("flow", batch)] == [1, 1]
    assert [t.item() for t in stage_inputs("finetune", batch)] == [0, 1]
    with pytest.raises(ValueError, match="flow"):
        stage_inputs("finetune", {"image": torch.zeros(1)})


def _randomised(state: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        k: torch.randn(v.shape, generator=g) if v.is_floating_point() else v + seed
        for k, v in state.items()
    }


def test_stage3_merge_takes_the_motion_stream_from_stage2_but_not_its_bn_statistics(tiny_state):
    rgb, flow = _randomised(tiny_state, 1), _randomised(tiny_state, 2)
    model = FSNet(**TINY_MODEL)
    taken = merge_stage_weights(model, rgb, flow)
    merged = model.state_dict()
    assert taken and all(k.startswith("motion.") for k in taken)
    stats = [k for k in merged if k.endswith(("running_mean", "running_var"))]
    motion_stats = [k for k in stats if k.startswith("motion.")]
    assert motion_stats and not set(motion_stats) & set(taken)
    for key, value in merged.items():
        from_flow = key.startswith("motion.") and key not in motion_stats
        assert torch.equal(value, (flow if from_flow else rgb)[key]), key
    # convolution weights and BN affine parameters of the motion stream come from stage 2
    assert "motion.conv1.weight" in taken and "motion.bn1.weight" in taken
    assert (
        "appearance.conv1.weight" not in taken and "decoder_motion.head.0.conv.weight" not in taken
    )


def test_stage3_merge_rejects_weights_of_another_architecture(tiny_state):
    from fsnet_core.model.official import CheckpointMismatch

    other = {
        k: v[..., :1] if v.dim() and k.startswith("bpms.") else v for k, v in tiny_state.items()
    }
    model = FSNet(**TINY_MODEL)
    with pytest.raises(CheckpointMismatch, match="stage 1"):
        merge_stage_weights(model, other, tiny_state)
    with pytest.raises(CheckpointMismatch, match="stage 2"):
        merge_stage_weights(
            model, tiny_state, {k: v for k, v in tiny_state.items() if "motion" not in k}
        )


def test_sampler_shards_cover_every_index_and_resume_mid_epoch():
    shards = [ResumableSampler(10, seed=3, rank=r, world_size=3) for r in range(3)]
    for s in shards:
        s.set_epoch(4)
    orders = [s.order() for s in shards]
    assert {len(o) for o in orders} == {4}
    assert set(sum(orders, [])) == set(range(10))
    again = ResumableSampler(10, seed=3, rank=1, world_size=3)
    again.set_epoch(4)
    again.start_at(2)
    assert list(again) == orders[1][2:] and len(again) == 2
    again.set_epoch(5)
    assert again.order() != orders[1] and len(again) == 4


# ---------------------------------------------------------------------------- whole runs


def _weights(path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)["model"]


@pytest.mark.slow
def test_a_killed_and_resumed_run_ends_with_the_same_weights(smoke_data, tmp_path):
    # two epochs of two batches at two scales: 8 optimizer steps; stopped after the first batch
    # with random augmentation on, as in the smoke preset
    schedule = dict(epochs=2, scales=(0.75, 1.0), lr_step=2, deterministic=True, augment=True)
    whole = train(tiny_config(smoke_data, tmp_path / "whole", **schedule))
    assert whole.final.finished and whole.final.steps == 8
    assert list(whole.history.lr) == pytest.approx([1e-2, 1e-3])  # decayed for the 2nd epoch

    stopped = train(tiny_config(smoke_data, tmp_path / "split", **schedule), max_steps=2)
    assert not stopped.final.finished and stopped.final.steps == 2
    progress = read_checkpoint(stopped.last_checkpoint)["training"]["progress"]
    assert (progress["epoch"], progress["batch"]) == (0, 1)  # stopped mid-epoch
    resumed = train(tiny_config(smoke_data, tmp_path / "split", **schedule), resume=True)
    assert resumed.final.finished and resumed.final.steps == 8

    a, b = _weights(whole.last_checkpoint), _weights(resumed.last_checkpoint)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]
    opt_a = read_checkpoint(whole.last_checkpoint)["training"]["optimizer"]["state"]
    opt_b = read_checkpoint(resumed.last_checkpoint)["training"]["optimizer"]["state"]
    assert all(torch.equal(opt_a[i]["momentum_buffer"], opt_b[i]["momentum_buffer"]) for i in opt_a)
    cols = ["epoch", "lr", "loss", "val_J", "val_F"]
    pd.testing.assert_frame_equal(whole.history[cols], resumed.history[cols])


def test_epoch_totals_are_kept_in_a_checkpoint_as_a_plain_dict():
    # an older last.pt holds only the totals counted so far, under these names
    progress = Progress("finetune", epoch_sums={"loss_appearance": 1.0, "passes": 2.0})
    totals = progress.epoch_sums
    assert totals.per_pass("loss_appearance") == 0.5 and totals.seconds == 0.0
    saved = asdict(progress)
    assert isinstance(saved["epoch_sums"], dict) and Progress(**saved) == progress
    totals.add(passes=2, loss_motion=3.0)
    assert totals.per_pass("loss_appearance", "loss_motion") == 1.0
    with pytest.raises(AttributeError):
        totals.add(sample=1)  # a misspelt total is an error, not a new key


@pytest.fixture(scope="module")
def stopped_run(smoke_data, tmp_path_factory):
    """A run folder stopped after its first optimizer step (no epoch ended): copy before use."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    train(tiny_config(smoke_data, out), max_steps=1)
    return out


def _copy_run(stopped_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(stopped_run, out)
    return out


def test_resuming_with_other_options_is_refused(smoke_data, stopped_run, tmp_path):
    out = _copy_run(stopped_run, tmp_path)
    with pytest.raises(InputError, match="lr"):
        train(tiny_config(smoke_data, out, lr=0.5), resume=True)
    with pytest.raises(InputError, match=r"model\.num_bpm: 1 -> 2"):
        train(tiny_config(smoke_data, out, num_bpm=2), resume=True)
    with pytest.raises(InputError, match="--resume"):
        train(tiny_config(smoke_data, out))


def test_a_refused_command_leaves_the_run_record_alone(smoke_data, stopped_run, tmp_path):
    # issue 11.2: config.json was rewritten by a command that was then refused
    out = _copy_run(stopped_run, tmp_path)
    record = (out / "config.json").read_bytes()
    with pytest.raises(InputError, match="already holds a training run"):
        train(tiny_config(smoke_data, out, epochs=16))
    with pytest.raises(InputError, match="other training options"):
        train(tiny_config(smoke_data, out, epochs=16, lr=0.5), resume=True)
    assert (out / "config.json").read_bytes() == record
    assert TrainConfig.from_dict(json.loads(record)).epochs == 1


def test_resume_without_a_run_is_an_error_unless_asked_to_start(smoke_data, tmp_path):
    # issue 11.7: --resume into a mistyped folder started from scratch without a word
    typo = tmp_path / "rnu"
    with pytest.raises(InputError, match=r"rnu: holds no run to resume.*--resume-or-start"):
        train(tiny_config(smoke_data, typo), resume=True)
    assert not typo.exists()  # nothing written
    started = train(tiny_config(smoke_data, typo), resume="or-start", max_steps=1)
    assert started.final.steps == 1 and (typo / "finetune" / "last.pt").is_file()
    continued = train(tiny_config(smoke_data, typo), resume="or-start")
    assert continued.final.finished and continued.final.steps == 2  # continued, not restarted
    with pytest.raises(ValueError, match="resume must be"):
        train(tiny_config(smoke_data, typo), resume="yes")


def _exited_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    return int(done.stdout)


def _lock_run(out, pid: int) -> None:
    """Write ``out``'s lock as the run of process ``pid`` on this host would hold it."""
    out.mkdir(parents=True, exist_ok=True)
    owner = {"pid": pid, "host": socket.gethostname(), "what": "a training run"}
    (out / LOCK_FILE).write_text(json.dumps(owner))


def test_a_folder_in_use_by_a_live_run_is_refused(smoke_data, tmp_path, capsys):
    # issue 19.2: two runs on one folder at once both exited 0, the later one's files
    # silently replacing the earlier one's
    from fsnet_core.cli import main

    out = tmp_path / "run"
    _lock_run(out, os.getpid())  # this test's own process: alive for sure
    with pytest.raises(InputError) as refused:
        train(tiny_config(smoke_data, out), max_steps=1)
    message = str(refused.value)
    assert message.startswith(f"{out}: in use by a training run")
    assert f"pid {os.getpid()} on host {socket.gethostname()}" in message
    assert [p.name for p in out.iterdir()] == [LOCK_FILE]  # nothing written, its lock kept
    args = ["train", "--data", smoke_data, "--out", str(out), "--no-progress"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"pid {os.getpid()}" in err and str(out) in err


def test_the_lock_of_a_killed_run_is_taken_over_and_a_finished_run_resumes(
    smoke_data, tmp_path, capsys
):
    out = tmp_path / "run"
    dead = _exited_pid()
    _lock_run(out, dead)
    first = train(tiny_config(smoke_data, out))
    assert first.final.finished and not (out / LOCK_FILE).exists()
    assert f"taking over the lock of a training run, pid {dead}" in capsys.readouterr().err
    again = train(tiny_config(smoke_data, out), resume=True)  # after a normal end: allowed
    assert again.final.finished and not (out / LOCK_FILE).exists()


def test_max_steps_limits_one_call_and_is_not_kept_with_the_run(smoke_data, stopped_run, tmp_path):
    # issue 11.8: max_steps was saved and counted absolute steps, so every resume stopped at once
    out = _copy_run(stopped_run, tmp_path)
    assert "max_steps" not in json.loads((out / "config.json").read_text())
    assert "max_steps" not in read_checkpoint(out / "finetune" / "last.pt")["training"]["config"]
    again = train(tiny_config(smoke_data, out), resume=True, max_steps=1)
    assert again.final.steps == 2 and not again.final.finished  # one more step, not zero
    assert train(tiny_config(smoke_data, out), resume=True).final.finished


def test_a_run_written_before_the_nested_model_config_resumes(smoke_data, stopped_run, tmp_path):
    # runs started with the flat config (backbone ... bpm and max_steps at the top) still resume
    out = _copy_run(stopped_run, tmp_path)
    last = out / "finetune" / "last.pt"
    payload = torch.load(last, weights_only=True)
    flat = dict(payload["training"]["config"])
    flat.update(flat.pop("model"))
    del flat["ppm_bins"]  # not saved then; the default was always used
    payload["training"]["config"] = {**flat, "max_steps": 1}
    torch.save(payload, last)
    (out / "config.json").write_text(json.dumps({**flat, "max_steps": 1}))
    config = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    config = config.replace(out=str(out))  # the copy's folder
    assert config == tiny_config(smoke_data, out)
    assert train(config, resume=True).final.finished


def test_train_config_holds_the_model_config_and_cannot_disagree_with_it(smoke_data, tmp_path):
    # issue 10.2: one model configuration; TrainConfig re-declared its fields and lost ppm_bins
    model_fields = {f.name for f in fields(FSNetConfig)}
    assert not model_fields & {f.name for f in fields(TrainConfig)} - {"model"}
    other = dict(
        backbone="resnet34", channels=12, num_bpm=3, rcam="none", bpm="purify", ppm_bins=(1, 3)
    )
    assert set(other) == model_fields  # every field of the model is reachable ...
    assert TrainConfig.preset("paper", **other).model == FSNetConfig(**other)  # ... as shorthand
    assert TrainConfig().replace(**other).model == FSNetConfig(**other)
    assert TrainConfig(model=FSNetConfig(**other)).model == FSNetConfig(**other)
    assert TrainConfig().replace(model=FSNetConfig(num_bpm=2), rcam="none").model == FSNetConfig(
        num_bpm=2, rcam="none"
    )
    cfg = tiny_config(smoke_data, tmp_path, ppm_bins=(1, 3), rcam="appearance_to_motion")
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    result = train(cfg, max_steps=1)
    assert result.model.config == cfg.model  # the model trained is exactly config.model
    assert load_model(result.last_checkpoint).config == cfg.model
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model"]["ppm_bins"] == [1, 3]
    assert TrainConfig.from_dict(saved) == cfg


def test_stale_temporaries_of_a_killed_save_are_removed_at_start(smoke_data, stopped_run, tmp_path):
    # issue 11.9: a SIGKILL during a checkpoint save left a full-size .last.pt.*.tmp for good
    out = _copy_run(stopped_run, tmp_path)
    stale = [out / "finetune" / ".last.pt.k2x9q1.tmp", out / ".config.json.a8b7c6.tmp"]
    stale.append(out / "finetune" / ".best.pt.zz.tmp")
    for path in stale:
        path.write_bytes(b"\0" * 4096)
    others = [out / "finetune" / "notes.tmp", out / ".last.pt.tmp", out / "finetune" / "mine.txt"]
    for path in others:
        path.write_text("not the package's")
    with pytest.raises(InputError):  # a refused command touches nothing
        train(tiny_config(smoke_data, out, lr=0.5), resume=True)
    assert all(path.exists() for path in stale)
    train(tiny_config(smoke_data, out), resume=True)
    assert not any(path.exists() for path in stale)
    assert all(path.read_text() == "not the package's" for path in others)


@pytest.mark.slow
def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(smoke_data, tmp_path):
    def poison(step: int, batch: dict) -> dict:
        if step >= 3:  # the second epoch's second batch
            batch["image"] = torch.full_like(batch["image"], float("nan"))
        return batch

    cfg = tiny_config(smoke_data, tmp_path, epochs=3, checkpoint_every=1)
    with pytest.raises(TrainingDiverged, match="diverged.*last good checkpoint") as err:
        train(cfg, batch_hook=poison)
    assert "last.pt" in str(err.value) and "epoch 2" in str(err.value)
    last = tmp_path / "finetune" / "last.pt"
    saved = read_checkpoint(last)
    assert saved["training"]["progress"]["step"] == 3
    assert all(torch.isfinite(v).all() for v in saved["model"].values())
    history = pd.read_csv(tmp_path / "finetune" / "history.csv")
    assert list(history.epoch) == [1]  # the finished epoch is kept, nothing after it
    load_model(last)  # still an ordinary, loadable model checkpoint


@pytest.mark.slow
def test_three_stages_merge_into_the_finetuning(smoke_data, tmp_path):
    cfg = tiny_config(smoke_data, tmp_path, stages=("rgb", "flow", "finetune"), val_max_frames=4)
    result = train(cfg)
    assert list(result.stages) == ["rgb", "flow", "finetune"]
    assert list(result.history.stage) == ["rgb", "flow", "finetune"]
    rgb = _weights(tmp_path / "rgb" / "last.pt")
    flow = _weights(tmp_path / "flow" / "last.pt")
    start = FSNet(**TINY_MODEL)
    merge_stage_weights(start, rgb, flow)
    # finetuning moved away from exactly that merged start
    final = result.model.state_dict()
    assert not torch.equal(final["motion.conv1.weight"], start.state_dict()["motion.conv1.weight"])
    assert result.model.config == cfg.model
    assert all(math.isfinite(j) for j in result.history.val_J)


def test_cli_trains_one_tiny_epoch_end_to_end(smoke_data, tmp_path, capsys):
    from fsnet_core.cli import main

    out = tmp_path / "run"
    args = ["train", "--preset", "smoke", "--data", smoke_data, "--out", str(out)]
    tiny = ["--epochs", "1", "--size", "64", "--channels", "8", "--num-bpm", "1"]
    tiny += ["--batch-size", "4", "--threads", "1", "--precision", "float32", "--no-progress"]
    assert main(args + tiny) == 0
    printed = capsys.readouterr().out
    assert "finetune: finished" in printed and "best val J" in printed
    history = pd.read_csv(out / "finetune" / "history.csv")
    assert list(history.epoch) == [1] and 0.0 <= history.val_J[0] <= 1.0
    assert {"loss", "val_J", "val_F", "lr"} <= set(history.columns)
    assert list((out / "finetune" / "tensorboard").glob("events.out.tfevents.*"))
    model = load_model(out / "finetune" / "best.pt")
    assert model.config.backbone == "resnet18" and model.config.channels == 8
    saved = json.loads((out / "config.json").read_text())
    assert saved["size"] == 64 and saved["preset_name"] == "smoke"
    # again without --resume: refused, nothing overwritten; with --resume: nothing left to do
    assert main(args + tiny) == 1
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert "finetune: finished" in capsys.readouterr().out


def test_cli_max_steps_then_resume_goes_to_the_end(smoke_data, tmp_path, capsys):
    # issue 11.8 and 11.12: a plain --resume of a --max-steps run stopped again after one step;
    # a run stopped before its first validation printed "best val J -inf"
    from fsnet_core.cli import main

    out = tmp_path / "run"
    args = ["train", "--preset", "smoke", "--data", smoke_data, "--out", str(out)]
    args += ["--epochs", "1", "--size", "64", "--channels", "8", "--num-bpm", "1"]
    args += ["--batch-size", "4", "--threads", "1", "--precision", "float32", "--no-progress"]
    assert main(args + ["--max-steps", "1"]) == 0
    printed = capsys.readouterr().out
    assert "stopped after step 1" in printed and "no epoch validated yet" in printed
    assert "inf" not in printed
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "finetune: finished" in printed and "best val J" in printed


def test_cli_resume_of_a_folder_without_a_run_fails(smoke_data, tmp_path, capsys):
    from fsnet_core.cli import main

    out = tmp_path / "typo"
    assert main(["train", "--data", smoke_data, "--out", str(out), "--resume"]) == 1
    err = capsys.readouterr().err
    assert str(out) in err and "--resume-or-start" in err and not out.exists()


def test_float32_training_runs_without_autocast():
    cpu = torch.device("cpu")
    assert autocast_dtype("float32", cpu) is None  # no autocast context, no warning
    assert autocast_dtype("bfloat16", cpu) == torch.bfloat16
    assert autocast_dtype("float16", torch.device("cuda")) == torch.float16


def test_augmentation_depends_on_seed_epoch_and_index_only(smoke_data):
    data = SeededAugmentation(
        VideoSegmentationDataset(smoke_data, "train", size=48, augment=True), 0
    )
    first = data[3]["image"]
    torch.rand(100)  # whatever else drew from the global generator in between
    assert torch.equal(data[3]["image"], first)
    assert not torch.equal(data[2]["image"], first)
    data.set_epoch(1)
    assert not torch.equal(data[3]["image"], first)  # a new epoch, new draws
    data.set_epoch(0)
    assert torch.equal(data[3]["image"], first)
    state = torch.get_rng_state()
    data[5]
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is left alone
