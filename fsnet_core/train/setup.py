"""Setting up a run: check the folder first, then seed, pick the weights to start from, record.

A command that is refused must leave the run folder as it was, so
:func:`check_run_folder` does every check that can refuse (a run already
there, nothing to resume, other options than the run was written with)
before :func:`record_run` writes anything.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ..io import InputError, exclusive_lock, remove_stale_temporaries
from ..model import FSNet
from ..model.official import CheckpointMismatch
from .checkpoint import BEST, LAST, read_checkpoint
from .config import STAGES, TrainConfig
from .logs import HISTORY_CSV
from .stages import merge_stage_checkpoints, stage_state

CONFIG_JSON = "config.json"
# Held in the run folder while a run uses it: the owner's pid and host (see io.exclusive_lock).
LOCK_FILE = ".lock"
# ``resume=True`` needs a run to continue; ``resume="or-start"`` starts one where there is none.
Resume = bool | Literal["or-start"]
RESUME_OR_START = "or-start"

# Options that may differ between a run and its resumption without changing the result.
RESUMABLE_CHANGES = frozenset(
    {"out", "data", "epochs", "checkpoint_every", "progress", "num_workers"}
    | {"device", "threads", "preset_name", "static_data", "rgb_weights", "flow_weights"}
    | {"init_weights", "imagenet", "stages"}
)


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch; with ``deterministic``, also forbid non-deterministic kernels.

    Seeding alone fixes the initial weights and the data order (which depends
    only on seed and epoch), and on a CPU with a fixed thread count a run is
    then bitwise repeatable. Deterministic mode adds what GPUs need:
    ``torch.use_deterministic_algorithms(True, warn_only=True)`` (the backward
    passes of bilinear upsampling and adaptive pooling have no deterministic
    CUDA kernel; they run with a warning rather than stop the run), cuDNN in
    deterministic mode without autotuning, and ``CUBLAS_WORKSPACE_CONFIG``.
    It costs speed; the default leaves cuDNN autotuning on.
    """
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the global RNG that other code may draw from
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    else:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
        torch.backends.cudnn.benchmark = True


def _flat_options(config: dict[str, Any]) -> dict[str, Any]:
    """A config dict with the architecture's fields as ``model.NAME`` keys, for comparing."""
    flat = {k: v for k, v in config.items() if k != "model"}
    flat.update({f"model.{k}": v for k, v in config["model"].items()})
    return flat


def check_resumable(payload: dict[str, Any], config: TrainConfig, path: Path) -> None:
    """Refuse to resume a checkpoint written with options that change the result."""
    saved = _flat_options(TrainConfig.from_dict(payload["training"]["config"]).to_dict())
    now = _flat_options(config.to_dict())
    diffs = sorted(k for k in now if k not in RESUMABLE_CHANGES and saved.get(k) != now[k])
    if diffs:
        shown = ", ".join(f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in diffs)
        raise InputError(
            path, f"was written with other training options ({shown}); resume with the same ones"
        )


def hold_run_folder(config: TrainConfig) -> contextlib.AbstractContextManager[Path]:
    """Keep other runs out of ``config.out`` while the block runs: a second run there is
    refused, naming the holder's pid and host (:func:`~fsnet_core.io.exclusive_lock`)."""
    return exclusive_lock(Path(config.out) / LOCK_FILE, "a training run")


def check_run_folder(config: TrainConfig, stages: Sequence[str], resume: Resume) -> None:
    """Every reason to refuse this command, checked before anything is written.

    Without ``resume`` a stage folder must not hold a run yet; with
    ``resume=True`` at least one stage must hold one (a mistyped folder would
    otherwise start from scratch); every run to continue must have been
    written with options that give the same result.
    """
    out = Path(config.out)
    present = [stage for stage in stages if (out / stage / LAST).is_file()]
    if present and not resume:
        raise InputError(
            out / present[0],
            "already holds a training run; pass --resume (resume=True) to continue it, "
            "or choose another output folder",
        )
    if resume is True and not present:
        raise InputError(
            out,
            f"holds no run to resume (no {'/'.join(stages)}/{LAST}); check --out, or pass "
            f"--resume-or-start (resume={RESUME_OR_START!r}) to start a run there",
        )
    for stage in present:
        last = out / stage / LAST
        check_resumable(read_checkpoint(last), config, last)


def record_run(config: TrainConfig) -> Path:
    """Write ``config.json`` after removing what killed saves left behind; returns its path.

    Only :func:`~fsnet_core.io.atomic_write`'s temporaries of the files a run
    writes are removed (a SIGKILL during a checkpoint save leaves a full-size one).
    """
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out, [CONFIG_JSON])
    for stage in STAGES:
        remove_stale_temporaries(out / stage, [LAST, BEST, HISTORY_CSV])
    return config.save_json(out / CONFIG_JSON)


def initial_model(config: TrainConfig, stage: str, out: Path) -> tuple[FSNet, str]:
    """A fresh model for ``stage`` and a sentence saying where its weights came from.

    Stage 3 merges the stage 1 and stage 2 checkpoints when both exist;
    otherwise ``init_weights`` is loaded when given, else ImageNet or random weights.
    """
    cfg = config.model
    rgb = config.rgb_weights or (out / "rgb" / LAST if (out / "rgb" / LAST).is_file() else None)
    flow = config.flow_weights or (out / "flow" / LAST if (out / "flow" / LAST).is_file() else None)
    if stage == "finetune" and rgb and flow:
        model = FSNet(cfg)
        merge_stage_checkpoints(model, rgb, flow)
        return model, f"stage 1 weights from {rgb}, motion stream from {flow} (no BN statistics)"
    if config.init_weights:
        model = FSNet(cfg)
        try:
            model.load_state_dict(stage_state(config.init_weights), strict=True)
        except RuntimeError as exc:
            raise CheckpointMismatch(
                f"{config.init_weights}: does not fit the configured model {cfg}: {exc}"
            ) from exc
        return model, f"weights from {config.init_weights}"
    if config.imagenet:
        return FSNet(cfg, imagenet=config.imagenet), "ImageNet-initialised ResNet streams"
    return FSNet(cfg), "random initialisation (from scratch)"


__all__ = [
    "CONFIG_JSON",
    "LOCK_FILE",
    "RESUMABLE_CHANGES",
    "RESUME_OR_START",
    "Resume",
    "check_resumable",
    "check_run_folder",
    "initial_model",
    "record_run",
    "hold_run_folder",
    "seed_everything",
]
