"""The training loop: ``train(config)`` runs the configured stages in order.

One batch, as in the authors' ``train.py``: for every scale (0.75, 1, 1.25 of
the input size, rounded to multiples of 32) the batch is resized (bilinear,
masks too), run forward, the two BCE-with-logits losses (appearance and
motion outputs) are summed and back-propagated, and the optimizer steps --
one step per scale. ``accumulate`` sums that many passes per step instead.
The learning rate follows a step schedule per epoch. At the end of every
epoch the model is validated (J, F), ``last.pt`` is written and ``best.pt``
when J improved.

A run folder holds one sub-folder per stage::

    RUN/config.json
    RUN/rgb/{last.pt, best.pt, history.csv, tensorboard/}
    RUN/flow/...
    RUN/finetune/...
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..io import InputError
from ..model import FSNet
from ..model.official import CheckpointMismatch
from ..runtime import autocast_context, autocast_dtype
from .checkpoint import (
    BEST,
    LAST,
    Progress,
    ResumableSampler,
    link_or_copy,
    read_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from .config import TrainConfig
from .data import SeededAugmentation, data_root, stage_datasets, train_loader, val_loader
from .distributed import (
    DistInfo,
    all_reduce_mean,
    barrier,
    broadcast_buffers,
    broadcast_object,
    dist_info,
    init_distributed,
    resolve_device,
    shutdown,
    wrap_model,
)
from .logs import HISTORY_CSV, RunLogger, history_frame, write_history
from .stages import merge_stage_checkpoints, stage_inputs, stage_state
from .validate import validate

BatchHook = Callable[[int, dict[str, Any]], dict[str, Any]]

# Options that may differ between a run and its resumption without changing the result.
RESUMABLE_CHANGES = frozenset(
    {"out", "data", "epochs", "max_steps", "checkpoint_every", "progress", "num_workers"}
    | {"device", "threads", "preset_name", "static_data", "rgb_weights", "flow_weights"}
    | {"init_weights", "imagenet", "stages"}
)


class TrainingDiverged(RuntimeError):
    """The loss (or a weight) became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class StageResult:
    stage: str
    folder: Path
    history: pd.DataFrame
    last_checkpoint: Path
    best_checkpoint: Path | None
    best_j: float
    steps: int
    finished: bool  # False when stopped early by ``max_steps``

    @property
    def history_csv(self) -> Path:
        return self.folder / HISTORY_CSV


@dataclass
class TrainResult:
    """What :func:`train` returns: per-stage results and the final model (in eval mode)."""

    out: Path
    config: TrainConfig
    stages: dict[str, StageResult] = field(default_factory=dict)
    model: FSNet | None = None

    @property
    def final(self) -> StageResult:
        return list(self.stages.values())[-1]

    @property
    def history(self) -> pd.DataFrame:
        frames = [r.history for r in self.stages.values() if not r.history.empty]
        return pd.concat(frames, ignore_index=True) if frames else history_frame([])

    @property
    def history_csv(self) -> Path:
        return self.final.history_csv

    @property
    def best_checkpoint(self) -> Path | None:
        return self.final.best_checkpoint

    @property
    def last_checkpoint(self) -> Path:
        return self.final.last_checkpoint

    @property
    def best_j(self) -> float:
        return self.final.best_j


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


def resize_square(x: torch.Tensor, side: int) -> torch.Tensor:
    """Bilinear resize to ``side x side`` (align_corners=True, as the authors' ``F.upsample``)."""
    if x.shape[-2:] == (side, side):
        return x
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=True)


def forward_losses(
    model: nn.Module,
    image: torch.Tensor,
    flow: torch.Tensor,
    mask: torch.Tensor,
    device: torch.device,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """BCE-with-logits of the appearance and of the motion output against ``mask``: ``[2]``.

    The network runs under autocast when ``dtype`` is given; the losses are
    always computed in float32. Their sum is what the authors back-propagate.
    """
    with autocast_context(device, dtype):
        out = model(image, flow)
    return torch.stack(
        [
            F.binary_cross_entropy_with_logits(out.appearance.float(), mask),
            F.binary_cross_entropy_with_logits(out.motion.float(), mask),
        ]
    )


def initial_model(config: TrainConfig, stage: str, out: Path) -> tuple[FSNet, str]:
    """A fresh model for ``stage`` and a sentence saying where its weights came from.

    Stage 3 merges the stage 1 and stage 2 checkpoints when both exist;
    otherwise ``init_weights`` is loaded when given, else ImageNet or random weights.
    """
    cfg = config.model_config()
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


def check_resumable(payload: dict[str, Any], config: TrainConfig, path: Path) -> None:
    saved = payload["training"]["config"]
    now = config.to_dict()
    diffs = sorted(k for k in now if k not in RESUMABLE_CHANGES and saved.get(k) != now[k])
    if diffs:
        shown = ", ".join(f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in diffs)
        raise InputError(
            path, f"was written with other training options ({shown}); resume with the same ones"
        )


class StageTrainer:
    """Everything one stage needs, built once; :meth:`run` trains it to the end (or max_steps)."""

    def __init__(
        self,
        config: TrainConfig,
        stage: str,
        root: Path,
        info: DistInfo,
        device: torch.device,
        resume: bool,
        batch_hook: BatchHook | None = None,
    ) -> None:
        self.config, self.stage, self.info, self.device = config, stage, info, device
        self.out = Path(config.out)
        self.folder = self.out / stage
        self.batch_hook = batch_hook
        self.dtype = autocast_dtype(config.precision, device)
        self.layout = torch.channels_last if config.channels_last else torch.contiguous_format
        self.sizes = config.train_sizes()
        last = self.folder / LAST
        resuming = resume and last.is_file()
        if last.is_file() and not resume:
            raise InputError(
                self.folder,
                "already holds a training run; pass --resume (resume=True) to continue it, "
                "or choose another output folder",
            )

        torch.manual_seed(config.seed)  # the same initial weights on every rank
        if resuming:
            self.net, self.init_note = FSNet(config.model_config()), f"resumed from {last}"
        else:
            self.net, self.init_note = initial_model(config, stage, self.out)
        self.net.to(device=device, memory_format=self.layout)
        self.optimizer = torch.optim.SGD(
            self.net.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
            foreach=True,  # one fused update over all tensors: twice as fast on CPUs too
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, config.lr_factor)
        use_scaler = self.dtype == torch.float16 and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None
        self.progress = Progress(stage)
        if resuming:
            payload = read_checkpoint(last)
            check_resumable(payload, config, last)
            self.progress = restore_checkpoint(
                payload,
                self.net,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                scaler=self.scaler,
            )
        self.model = wrap_model(self.net, info, device)

        train_set, val_set = stage_datasets(config, stage, root)
        self.sampler = ResumableSampler(
            len(train_set), seed=config.seed, rank=info.rank, world_size=info.world_size
        )
        self.train_set = train_set
        self.train_batches = train_loader(train_set, config, self.sampler, device.type == "cuda")
        self.val_batches = val_loader(val_set, config)
        self.logger = RunLogger(self.folder, enabled=info.is_main)
        self.pending = 0  # passes back-propagated since the last optimizer step
        self.saved_step = self.progress.step

    # ------------------------------------------------------------------ checkpoints

    def _check_weights(self) -> None:
        bad = [k for k, v in self.net.state_dict().items() if not torch.isfinite(v).all()]
        if bad:
            raise self._diverged(f"{len(bad)} weights are NaN or infinite (e.g. {bad[0]})")

    def _save(self, name: str = LAST) -> None:
        self._check_weights()
        if self.info.is_main:
            save_checkpoint(
                self.folder / name,
                self.net,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                scaler=self.scaler,
                progress=self.progress,
                config=self.config.to_dict(),
            )
        self.saved_step = self.progress.step
        barrier(self.info)

    def _diverged(self, what: str) -> TrainingDiverged:
        p = self.progress
        last = self.folder / LAST
        kept = (
            f"the last good checkpoint is {last} (written at step {self.saved_step})"
            if last.is_file()
            else "no checkpoint was written yet"
        )
        return TrainingDiverged(
            f"training diverged in stage {self.stage!r}, epoch {p.epoch + 1}, batch "
            f"{p.batch + 1} (step {p.step}): {what}. Stopped; {kept}. Try a lower learning "
            "rate (--lr), float32 precision, or check the data."
        )

    # ------------------------------------------------------------------ one pass, one step

    def _pass(self, a: torch.Tensor, m: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Forward and backward at one scale; returns the two losses (averaged over ranks)."""
        sync = (self.pending + 1) % self.config.accumulate == 0
        no_sync = getattr(self.model, "no_sync", None)
        with contextlib.nullcontext() if sync or no_sync is None else no_sync():
            losses = forward_losses(self.model, a, m, mask, self.device, self.dtype)
            values = all_reduce_mean(losses.detach(), self.info)
            if not torch.isfinite(values).all():
                raise self._diverged(f"the loss became {values.sum().item()}")
            loss = losses.sum() / self.config.accumulate
            (self.scaler.scale(loss) if self.scaler else loss).backward()
        self.pending += 1
        if self.pending == self.config.accumulate:
            self._step()
        return values

    def _step(self) -> None:
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.pending = 0
        self.progress.step += 1

    # ------------------------------------------------------------------ epochs

    def _train_epoch(self, epoch: int) -> bool:
        """Run the rest of ``epoch``; False when ``max_steps`` stopped it early."""
        cfg, p = self.config, self.progress
        self.sampler.set_epoch(epoch)
        if isinstance(self.train_set, SeededAugmentation):
            self.train_set.set_epoch(epoch)
        total = len(self.train_batches)
        if p.batch:
            self.sampler.start_at(p.batch * cfg.batch_size)
        sums = p.epoch_sums
        self.model.train()
        bar = tqdm(
            total=total,
            initial=p.batch,
            desc=f"{self.stage} epoch {epoch + 1}/{cfg.epochs}",
            unit="batch",
            disable=not (cfg.progress and self.info.is_main),
            dynamic_ncols=True,
            leave=False,  # one bar at a time; each epoch ends with its own summary line
        )
        started = time.perf_counter()
        with bar:
            for batch in self.train_batches:
                if self.batch_hook is not None:
                    batch = self.batch_hook(p.step, batch)
                inputs = (*stage_inputs(self.stage, batch), batch["mask"])
                for side in self.sizes:
                    a, m, mask = (
                        resize_square(x.to(self.device, non_blocking=True), side).contiguous(
                            memory_format=self.layout
                        )
                        for x in inputs
                    )
                    la, lm = self._pass(a, m, mask).tolist()
                    sums["loss_appearance"] = sums.get("loss_appearance", 0.0) + la
                    sums["loss_motion"] = sums.get("loss_motion", 0.0) + lm
                    sums["passes"] = sums.get("passes", 0.0) + 1
                p.batch += 1
                sums["samples"] = (
                    sums.get("samples", 0.0) + len(batch["mask"]) * self.info.world_size
                )
                loss = (sums["loss_appearance"] + sums["loss_motion"]) / sums["passes"]
                bar.set_postfix(
                    loss=f"{loss:.4f}", lr=f"{self.optimizer.param_groups[0]['lr']:.2g}"
                )
                bar.update(1)
                self.logger.step(
                    p.step, {"loss": la + lm, "loss_appearance": la, "loss_motion": lm}
                )
                if self.pending:
                    continue
                sums["seconds"] = sums.get("seconds", 0.0) + time.perf_counter() - started
                started = time.perf_counter()
                if cfg.max_steps is not None and p.step >= cfg.max_steps:
                    self._save()
                    return False
                if cfg.checkpoint_every and p.step - self.saved_step >= cfg.checkpoint_every:
                    self._save()
        if self.pending:
            self._step()
        sums["seconds"] = sums.get("seconds", 0.0) + time.perf_counter() - started
        return True

    def _end_epoch(self, epoch: int) -> None:
        p, sums = self.progress, self.progress.epoch_sums
        lr = self.optimizer.param_groups[0]["lr"]
        broadcast_buffers(self.net, self.info)
        self.scheduler.step()
        result = None
        if self.info.is_main:
            result = validate(
                self.net,
                self.val_batches,
                self.stage,
                self.device,
                self.dtype,
                self.config.channels_last,
            )
        j, f = broadcast_object((result.J, result.F) if result else None, self.info)  # type: ignore[misc]
        passes = max(sums.get("passes", 0.0), 1.0)
        seconds = sums.get("seconds", 0.0)
        previous = p.history[-1]["elapsed_s"] if p.history else 0.0
        row = {
            "stage": self.stage,
            "epoch": epoch + 1,
            "lr": lr,
            "loss": (sums.get("loss_appearance", 0.0) + sums.get("loss_motion", 0.0)) / passes,
            "loss_appearance": sums.get("loss_appearance", 0.0) / passes,
            "loss_motion": sums.get("loss_motion", 0.0) / passes,
            "val_J": j,
            "val_F": f,
            "samples_per_s": sums.get("samples", 0.0) / seconds if seconds else float("nan"),
            "epoch_s": seconds,
            "elapsed_s": previous + seconds,
        }
        p.history.append(row)
        p.epoch, p.batch, p.epoch_sums = epoch + 1, 0, {}
        improved = j > p.best_j
        if improved:
            p.best_j, p.best_epoch = j, epoch + 1
        p.finished = p.epoch >= self.config.epochs
        self._save(LAST)
        if improved and self.info.is_main:
            link_or_copy(self.folder / LAST, self.folder / BEST)
        if self.info.is_main:
            write_history(self.folder / HISTORY_CSV, p.history)
            self.logger.epoch(row)
            tqdm.write(
                f"[{self.stage}] epoch {epoch + 1}/{self.config.epochs}  loss {row['loss']:.4f}  "
                f"val J {j:.3f}  F {f:.3f}  ({seconds:.0f} s)" + ("  *best*" if improved else "")
            )

    def run(self) -> StageResult:
        cfg, p = self.config, self.progress
        if self.info.is_main and cfg.progress:
            tqdm.write(f"[{self.stage}] {self.init_note}; sizes {self.sizes}, device {self.device}")
        try:
            completed = True
            for epoch in range(p.epoch, cfg.epochs):
                completed = self._train_epoch(epoch)
                if not completed:
                    break
                self._end_epoch(epoch)
            if completed and not p.finished:  # epochs were extended past a finished run
                p.finished = True
                self._save()
        finally:
            self.logger.close()
        self.net.eval()
        best = self.folder / BEST
        return StageResult(
            stage=self.stage,
            folder=self.folder,
            history=history_frame(p.history),
            last_checkpoint=self.folder / LAST,
            best_checkpoint=best if best.is_file() else None,
            best_j=p.best_j,
            steps=p.step,
            finished=p.finished,
        )


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    stages: Sequence[str] | None = None,
    batch_hook: BatchHook | None = None,
) -> TrainResult:
    """Train the configured stages in order; return their histories, checkpoints and the model.

    ``resume=True`` continues each stage from its ``last.pt`` (a finished
    stage is not repeated): the same next batch, learning rate, optimizer
    state and RNG state, so the final weights equal an uninterrupted run's.
    Under ``torchrun`` every process calls this; rank 0 writes the files.
    ``batch_hook(step, batch) -> batch`` sees every batch before it is used
    (for tests and teaching; it must not consume random numbers).
    """
    stages = tuple(stages or config.stages)
    config = config.replace(stages=stages)
    info = dist_info()
    device = resolve_device(config.device, info)
    created = init_distributed(info, device)
    if config.threads:
        torch.set_num_threads(config.threads)
    seed_everything(config.seed, config.deterministic)
    out = Path(config.out)
    result = TrainResult(out=out, config=config)
    try:
        root = None
        if info.is_main:
            out.mkdir(parents=True, exist_ok=True)
            config.save_json(out / "config.json")
            root = data_root(config)
        root = Path(broadcast_object(root, info))  # type: ignore[arg-type]
        for stage in stages:
            trainer = StageTrainer(config, stage, root, info, device, resume, batch_hook)
            result.stages[stage] = trainer.run()
            result.model = trainer.net  # type: ignore[assignment]
            if not result.stages[stage].finished:
                break
    finally:
        if created:
            shutdown(info)
    return result
