"""Train-or-load: the first call trains, the next loads; configurations do not collide."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from fsnet_core.course.model_cache import (
    cached_run_dir,
    config_key,
    lab_path,
    newest_course_checkpoint,
    train_or_load,
)
from fsnet_core.train import train
from fsnet_core.train.config import TrainConfig

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def smoke_data(tmp_path_factory) -> str:
    from fsnet_core.data.synthetic import make_synthetic_dataset

    return str(make_synthetic_dataset(tmp_path_factory.mktemp("data") / "smoke", smoke=True))


def tiny(data: str, **changes) -> TrainConfig:
    options = dict(backbone="resnet18", channels=8, num_bpm=0, size=32, epochs=1, batch_size=2)
    options.update(precision="float32", threads=1, progress=False)
    return TrainConfig.preset("smoke", data=data, **{**options, **changes})


def test_key_ignores_where_and_how_fast_but_not_what(tmp_path):
    cfg = TrainConfig.preset("smoke")
    assert config_key(cfg) == config_key(cfg.replace(out="elsewhere", threads=1, progress=False))
    assert config_key(cfg) != config_key(cfg.replace(rcam="motion_to_appearance"))
    assert config_key(cfg) != config_key(cfg.replace(epochs=cfg.epochs + 1))
    assert cached_run_dir(cfg, "m", tmp_path).parent == tmp_path
    with pytest.raises(ValueError, match="plain folder name"):
        cached_run_dir(cfg, "../m", tmp_path)


def test_notebook_and_ablation_configs():
    from fsnet_core.course.model_cache import (
        SMOKE_ABLATION_EPOCHS,
        SMOKE_MODEL,
        ablation_config,
        notebook_config,
    )

    shared = notebook_config(True, data="d")
    assert (shared.size, shared.epochs, shared.model.channels) == (64, 3, 16)
    assert shared.preset_name == "smoke" and shared.progress  # a bar while a course model trains
    assert shared.threads is None and notebook_config(False, data="d").threads is None
    variant = ablation_config(True, data="d", rcam="none")
    assert variant.epochs == SMOKE_ABLATION_EPOCHS < SMOKE_MODEL["epochs"]
    assert variant.model.rcam == "none" and variant.size == shared.size
    assert ablation_config(True, data="d", epochs=5).epochs == 5
    larger = ablation_config(False, data="d")
    assert (
        larger == notebook_config(False, data="d")
        and larger.epochs == TrainConfig.preset("smoke").epochs
    )


def test_config_from_the_environment_overrides_both_modes(monkeypatch, capsys):
    from fsnet_core.course.model_cache import ablation_config, notebook_config

    monkeypatch.setenv("FSNET_LAB_CONFIG", '{"epochs": 1, "size": 48, "channels": 8}')
    full = notebook_config(False, data="d")
    assert (full.epochs, full.size, full.model.channels) == (1, 48, 8)
    smoke = ablation_config(True, data="d", rcam="none")
    assert (smoke.epochs, smoke.size, smoke.model.rcam) == (1, 48, "none")
    out = capsys.readouterr().out
    assert out.count("course model overrides from $FSNET_LAB_CONFIG") == 1  # once a process
    monkeypatch.setenv("FSNET_LAB_CONFIG", '{"epochs": 1, "epoch": 2}')
    with pytest.raises(ValueError, match=r"FSNET_LAB_CONFIG: unknown field\(s\) epoch;"):
        notebook_config(False, data="d")
    monkeypatch.setenv("FSNET_LAB_CONFIG", "[1]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        notebook_config(False, data="d")
    monkeypatch.setenv("FSNET_LAB_CONFIG", "{epochs: 1}")
    with pytest.raises(ValueError, match="not valid JSON"):
        notebook_config(False, data="d")


def test_lab_home_moves_the_course_files(monkeypatch, tmp_path):
    monkeypatch.setenv("FSNET_LAB_HOME", str(tmp_path))
    assert lab_path("runs", "cache") == tmp_path / "runs" / "cache"


def test_lab_path_is_the_checkout_root():
    assert (lab_path() / "pyproject.toml").is_file()
    assert lab_path("runs", "x") == lab_path() / "runs" / "x"


def test_second_call_loads_instead_of_training(smoke_data, tmp_path):
    cfg = tiny(smoke_data)
    first = train_or_load(cfg, "tiny", tmp_path)
    last = first.last_checkpoint
    stamp = last.stat().st_mtime_ns
    second = train_or_load(cfg.replace(progress=True), "tiny", tmp_path)
    assert second.last_checkpoint == last and last.stat().st_mtime_ns == stamp
    assert len(second.history) == len(first.history) == 1
    loaded = second.model.state_dict()
    for k, v in first.model.state_dict().items():
        assert torch.equal(v, loaded[k]), k
    assert not second.model.training

    other = train_or_load(cfg.replace(rcam="none"), "tiny", tmp_path)
    assert other.out != second.out and other.model.config.rcam == "none"


def test_an_interrupted_run_is_finished_not_restarted(smoke_data, tmp_path):
    cfg = tiny(smoke_data, epochs=2)
    folder = cached_run_dir(cfg, "tiny", tmp_path)
    cut = train(cfg.replace(out=str(folder)), max_steps=3)
    assert not cut.final.finished and cut.final.steps == 3
    done = train_or_load(cfg, "tiny", tmp_path)
    assert done.final.finished and list(done.history.epoch) == [1, 2]
    assert done.final.steps == 8  # 8 training pairs, batch 2, two epochs: 3 + 5 more steps


def test_course_files_live_in_the_source_checkout():
    """Run from a checkout, course data, models and figures go beside pyproject.toml."""

    from fsnet_core.course.paths import checkout_root
    from fsnet_core.harness.notebooks import NOTEBOOK_DIR, find_notebooks

    repo = Path(__file__).resolve().parents[1]
    assert checkout_root() == repo
    assert lab_path("data") == repo / "data"
    assert NOTEBOOK_DIR == repo / "notebooks" and find_notebooks()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ('{"epochs": "1"}', 'epochs = "1": expected an integer'),
        ('{"epochs": 1.5}', "epochs = 1.5: expected an integer"),
        ('{"augment": 1}', "augment = 1: expected true or false"),
        ('{"augment": "yes"}', 'augment = "yes": expected true or false'),
        ('{"lr": true}', "lr = true: expected a number"),
        ('{"threads": 2.0}', "threads = 2.0: expected an integer or null"),
        ('{"scales": [1, "x"]}', 'scales = [1, "x"]: expected a list, each a number'),
        ('{"channels": "8"}', 'channels = "8": expected an integer'),
    ],
)
def test_a_wrong_typed_override_names_the_field_before_anything_is_written(
    monkeypatch, tmp_path, overrides, expected
):
    # issue 19.11: "1" gave a TypeError naming no field; 1.5 was taken and failed in training,
    # after config.json was written
    from fsnet_core.course.model_cache import CONFIG_ENV, HOME_ENV, notebook_config

    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(CONFIG_ENV, overrides)
    with pytest.raises(ValueError) as refused:
        notebook_config(True)
    assert str(refused.value) == f"${CONFIG_ENV}: {expected}"
    assert not (tmp_path / "home").exists()  # no synthetic set, no run folder


def test_right_typed_overrides_are_taken(monkeypatch, capsys):
    from fsnet_core.course.model_cache import CONFIG_ENV, notebook_config

    monkeypatch.setenv(CONFIG_ENV, '{"lr": 1, "scales": [1, 1.25], "augment": false, "threads": 2}')
    config = notebook_config(True, data="d")
    assert (config.lr, config.scales, config.augment, config.threads) == (1, (1.0, 1.25), False, 2)
    assert "overrides from $FSNET_LAB_CONFIG" in capsys.readouterr().out


def test_newest_course_checkpoint_takes_the_newest_and_says_when_there_is_none(tmp_path):
    with pytest.raises(FileNotFoundError, match="run notebook 00"):
        newest_course_checkpoint(tmp_path)
    older, newer = (tmp_path / f"notebook-{k}" / "finetune" / "last.pt" for k in ("b", "a"))
    for age, path in ((200, older), (100, newer)):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        os.utime(path, (time.time() - age, time.time() - age))
    (tmp_path / "other-run" / "finetune").mkdir(parents=True)
    (tmp_path / "other-run" / "finetune" / "last.pt").write_bytes(b"not the course")
    assert newest_course_checkpoint(tmp_path) == newer
